//! `MockId`: the capability that names a mock.
//!
//! An id is 128 bits from the operating system's CSPRNG (`getrandom`), written as 22 characters of
//! unpadded URL-safe base64 (RFC 4648 §5). Knowing an id is the only thing that lets a client hit a
//! mock, so ids are never derived from counters, time or a non-cryptographic generator.
//!
//! Parsing is strict: exactly 22 characters of the URL-safe alphabet whose final character carries no
//! stray low bits, so every id has exactly one spelling and a parsed id always re-encodes to the bytes
//! it came from.

use std::fmt;

/// Length of an encoded id: ceil(128 / 6) = 22 base64 characters.
pub const ENCODED_LEN: usize = 22;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 256-entry decode table: the 6-bit value of each alphabet byte, 0xFF for any other byte.
const DECODE: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// A mock's identifier: 128 random bits, kept as two `u64`s so it aligns to 8 bytes (a `u128`
/// aligns to 16 and pads every table and timer entry that holds an id).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MockId([u64; 2]);

/// The OS random source failed; no id can be made safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomUnavailable;

impl MockId {
    /// A fresh id from the OS CSPRNG.
    ///
    /// # Errors
    /// `RandomUnavailable` when the OS refuses to give randomness; the caller answers 503 rather
    /// than make a guessable id.
    pub fn random() -> Result<MockId, RandomUnavailable> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|_| RandomUnavailable)?;
        Ok(MockId::from_u128(u128::from_le_bytes(bytes)))
    }

    /// The raw 128 bits (for hashing and sharding).
    #[inline]
    pub fn as_u128(self) -> u128 {
        (u128::from(self.0[1]) << 64) | u128::from(self.0[0])
    }

    /// Builds an id from raw bits (tests, persistence).
    pub fn from_u128(bits: u128) -> MockId {
        MockId([bits as u64, (bits >> 64) as u64])
    }

    /// Parses the 22-character form; `None` for anything else.
    #[inline]
    pub fn parse(text: &[u8]) -> Option<MockId> {
        if text.len() != ENCODED_LEN {
            return None;
        }
        let mut acc: u128 = 0;
        for (i, &byte) in text.iter().enumerate() {
            let v = DECODE[byte as usize];
            if v == 0xFF {
                return None;
            }
            if i == ENCODED_LEN - 1 {
                // 21 characters carry 126 bits; the last carries the top 2 bits in its high bits.
                if v & 0x0F != 0 {
                    return None;
                }
                acc |= u128::from(v >> 4) << 126;
            } else {
                acc |= u128::from(v) << (6 * i);
            }
        }
        Some(MockId::from_u128(acc))
    }

    /// The 22-character URL-safe form.
    pub fn encode(self) -> [u8; ENCODED_LEN] {
        let bits = self.as_u128();
        let mut out = [0u8; ENCODED_LEN];
        for (i, slot) in out.iter_mut().enumerate() {
            let v = if i == ENCODED_LEN - 1 {
                ((bits >> 126) as u8) << 4
            } else {
                ((bits >> (6 * i)) & 0x3F) as u8
            };
            *slot = ALPHABET[v as usize];
        }
        out
    }

    /// The encoded form as a `String`.
    pub fn to_text(self) -> String {
        self.encode().iter().map(|&b| b as char).collect()
    }
}

impl fmt::Display for MockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for MockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MockId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_edge_values() {
        for bits in [
            0u128,
            1,
            u128::MAX,
            1 << 127,
            (1 << 126) - 1,
            0x0123_4567_89ab_cdef,
        ] {
            let id = MockId::from_u128(bits);
            let text = id.encode();
            assert_eq!(MockId::parse(&text), Some(id), "bits {bits:#x}");
        }
    }

    #[test]
    fn round_trips_random_ids() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..10_000 {
            let id = MockId::from_u128(rng.u128(..));
            assert_eq!(MockId::parse(&id.encode()), Some(id));
        }
    }

    #[test]
    fn random_ids_differ_and_are_url_safe() {
        let a = MockId::random().unwrap();
        let b = MockId::random().unwrap();
        assert_ne!(a, b);
        assert!(
            a.to_text()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn rejects_non_canonical_and_foreign_text() {
        let good = MockId::from_u128(u128::MAX).encode();
        // A final character with stray low bits is a second spelling of another id.
        let mut stray = good;
        stray[ENCODED_LEN - 1] = b'B';
        assert_eq!(MockId::parse(&stray), None);
        for bad in [
            &b""[..],
            b"short",
            b"AAAAAAAAAAAAAAAAAAAAAAA",
            b"AAAAAAAAAAAAAAAAAAAA+A",
            b"AAAAAAAAAAAAAAAAAAAA/A",
            b"AAAAAAAAAAAAAAAAAAAA=A",
            b"{mock_id}",
        ] {
            assert_eq!(
                MockId::parse(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
