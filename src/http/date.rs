//! The `Date` header line, rendered at most once a second per worker thread.
//!
//! Each worker owns one `DateCache` (no sharing, no atomics): formatting a date costs more than the
//! rest of a small response, and it changes once a second.

use crate::timefmt::http_date;

/// `Date: ` + IMF-fixdate (29 bytes) + CRLF.
pub const DATE_LINE_LEN: usize = 6 + 29 + 2;

/// A worker's cached `Date: ...\r\n` line.
pub struct DateCache {
    unix_secs: u64,
    line: [u8; DATE_LINE_LEN],
}

impl DateCache {
    /// A cache holding the date for `unix_ms`.
    pub fn new(unix_ms: u64) -> DateCache {
        let mut cache = DateCache {
            unix_secs: u64::MAX,
            line: [0; DATE_LINE_LEN],
        };
        cache.update(unix_ms);
        cache
    }

    /// Re-renders the line if `unix_ms` is in a different second than the cached one.
    #[inline]
    pub fn update(&mut self, unix_ms: u64) {
        let secs = unix_ms / 1000;
        if secs != self.unix_secs {
            self.render(secs);
        }
    }

    #[cold]
    fn render(&mut self, secs: u64) {
        self.unix_secs = secs;
        self.line[..6].copy_from_slice(b"Date: ");
        self.line[6..35].copy_from_slice(&http_date(secs));
        self.line[35..].copy_from_slice(b"\r\n");
    }

    /// The full `Date: ...\r\n` line.
    #[inline]
    pub fn line(&self) -> &[u8] {
        &self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_refreshes_on_second_change() {
        let mut d = DateCache::new(0);
        assert_eq!(d.line(), b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
        d.update(999);
        assert_eq!(d.line(), b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
        d.update(1_000);
        assert_eq!(d.line(), b"Date: Thu, 01 Jan 1970 00:00:01 GMT\r\n");
    }
}
