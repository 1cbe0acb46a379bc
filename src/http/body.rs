//! Request bodies: `Content-Length` and chunked (RFC 9112 §7.1), decoded incrementally.
//!
//! The decoder consumes bytes as they arrive and either discards them (the serving path never
//! looks at a request body) or appends them to a buffer (the control API). It never reads past the
//! end of the body, so a pipelined request behind it stays in the buffer untouched.
//!
//! Chunked syntax is enforced strictly: 1–16 hex digits, extensions bounded and free of control
//! bytes, CRLF everywhere (a bare CR or LF is an error), a trailer section bounded and discarded.

use super::error::ParseError;

/// Most bytes of chunk extensions and trailer fields accepted per body. They carry nothing mockd
/// uses; 16 KiB matches the head limit's default and stops a client from streaming them forever.
const MAX_META_BYTES: usize = 16 * 1024;

/// Where a body decode stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyDecoder {
    /// `n` bytes still to come.
    Length(u64),
    /// Inside a chunked body.
    Chunked(Chunked),
    /// The body is complete.
    Done,
}

/// The chunked decoder's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunked {
    state: State,
    /// Extension and trailer bytes seen so far (bounded by `MAX_META_BYTES`).
    meta: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading the hex size; `digits` read so far.
    Size { size: u64, digits: u8 },
    /// Whitespace after the size (RFC 9112 §7.1.1 BWS): only `;` or CR may follow.
    SizeWs { size: u64 },
    /// Inside `;ext`, up to CR.
    Ext { size: u64 },
    /// CR seen after the size line; LF must follow.
    SizeLf { size: u64 },
    /// Inside chunk data.
    Data { remaining: u64 },
    /// Chunk data ended; CR must follow.
    DataCr,
    /// CR after data; LF must follow.
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    /// Inside a trailer field's name, before its colon.
    TrailerName,
    /// Inside a trailer field's value.
    TrailerLine,
    /// CR seen; LF must follow. `last` when it ends the empty line that ends the body.
    TrailerLf { last: bool },
}

/// Decode progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of input used.
    pub consumed: usize,
    /// The body is complete.
    pub done: bool,
}

impl BodyDecoder {
    /// A decoder for a body of `len` bytes.
    pub fn length(len: u64) -> BodyDecoder {
        if len == 0 {
            BodyDecoder::Done
        } else {
            BodyDecoder::Length(len)
        }
    }

    /// A decoder for a chunked body.
    pub fn chunked() -> BodyDecoder {
        BodyDecoder::Chunked(Chunked {
            state: State::Size { size: 0, digits: 0 },
            meta: 0,
        })
    }

    /// Consumes body bytes from `input`, appending data to `sink` when given.
    /// `budget` is how many more data bytes may be accepted before the body is too large.
    ///
    /// # Errors
    /// `BadRequest` for malformed chunked framing, `BodyTooLarge` past `budget`.
    pub fn decode(
        &mut self,
        input: &[u8],
        mut sink: Option<&mut Vec<u8>>,
        budget: &mut u64,
    ) -> Result<Progress, ParseError> {
        match self {
            BodyDecoder::Done => Ok(Progress {
                consumed: 0,
                done: true,
            }),
            BodyDecoder::Length(remaining) => {
                let take = (*remaining).min(input.len() as u64) as usize;
                if let Some(out) = sink.as_deref_mut() {
                    out.extend_from_slice(&input[..take]);
                }
                *remaining -= take as u64;
                let done = *remaining == 0;
                if done {
                    *self = BodyDecoder::Done;
                }
                Ok(Progress {
                    consumed: take,
                    done,
                })
            }
            BodyDecoder::Chunked(c) => {
                let progress = c.decode(input, sink, budget)?;
                if progress.done {
                    *self = BodyDecoder::Done;
                }
                Ok(progress)
            }
        }
    }
}

impl Chunked {
    fn decode(
        &mut self,
        input: &[u8],
        mut sink: Option<&mut Vec<u8>>,
        budget: &mut u64,
    ) -> Result<Progress, ParseError> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            self.state = match self.state {
                State::Size { size, digits } => match hex(b) {
                    Some(v) => {
                        if digits == 16 {
                            return Err(bad("chunk size too long"));
                        }
                        State::Size {
                            size: (size << 4) | u64::from(v),
                            digits: digits + 1,
                        }
                    }
                    None if digits == 0 => return Err(bad("invalid chunk size")),
                    None => match b {
                        b'\r' => State::SizeLf { size },
                        b';' => {
                            self.add_meta(1)?;
                            State::Ext { size }
                        }
                        b' ' | b'\t' => {
                            self.add_meta(1)?;
                            State::SizeWs { size }
                        }
                        _ => return Err(bad("invalid chunk size")),
                    },
                },
                State::SizeWs { size } => match b {
                    b'\r' => State::SizeLf { size },
                    b';' => {
                        self.add_meta(1)?;
                        State::Ext { size }
                    }
                    b' ' | b'\t' => {
                        self.add_meta(1)?;
                        State::SizeWs { size }
                    }
                    _ => return Err(bad("invalid chunk size")),
                },
                State::Ext { size } => match b {
                    b'\r' => State::SizeLf { size },
                    b'\t' | 0x20..=0x7E | 0x80..=0xFF => {
                        self.add_meta(1)?;
                        State::Ext { size }
                    }
                    _ => return Err(bad("invalid chunk extension")),
                },
                State::SizeLf { size } => {
                    if b != b'\n' {
                        return Err(bad("chunk size line not ended by CRLF"));
                    }
                    if size == 0 {
                        State::TrailerStart
                    } else {
                        if size > *budget {
                            return Err(ParseError::BodyTooLarge);
                        }
                        *budget -= size;
                        State::Data { remaining: size }
                    }
                }
                State::Data { remaining } => {
                    let take = remaining.min((input.len() - i) as u64) as usize;
                    if let Some(out) = sink.as_deref_mut() {
                        out.extend_from_slice(&input[i..i + take]);
                    }
                    i += take;
                    let left = remaining - take as u64;
                    self.state = if left == 0 {
                        State::DataCr
                    } else {
                        State::Data { remaining: left }
                    };
                    continue;
                }
                State::DataCr => {
                    if b != b'\r' {
                        return Err(bad("chunk data not followed by CRLF"));
                    }
                    State::DataLf
                }
                State::DataLf => {
                    if b != b'\n' {
                        return Err(bad("chunk data not followed by CRLF"));
                    }
                    State::Size { size: 0, digits: 0 }
                }
                State::TrailerStart => match b {
                    b'\r' => State::TrailerLf { last: true },
                    _ if is_tchar(b) => {
                        self.add_meta(1)?;
                        State::TrailerName
                    }
                    _ => return Err(bad("invalid trailer field")),
                },
                State::TrailerName => match b {
                    b':' => {
                        self.add_meta(1)?;
                        State::TrailerLine
                    }
                    _ if is_tchar(b) => {
                        self.add_meta(1)?;
                        State::TrailerName
                    }
                    _ => return Err(bad("invalid trailer field")),
                },
                State::TrailerLine => match b {
                    b'\r' => State::TrailerLf { last: false },
                    b'\t' | 0x20..=0x7E | 0x80..=0xFF => {
                        self.add_meta(1)?;
                        State::TrailerLine
                    }
                    _ => return Err(bad("invalid trailer field")),
                },
                State::TrailerLf { last } => {
                    if b != b'\n' {
                        return Err(bad("trailer line not ended by CRLF"));
                    }
                    if last {
                        return Ok(Progress {
                            consumed: i + 1,
                            done: true,
                        });
                    }
                    State::TrailerStart
                }
            };
            i += 1;
        }
        Ok(Progress {
            consumed: i,
            done: false,
        })
    }

    fn add_meta(&mut self, n: usize) -> Result<(), ParseError> {
        self.meta += n;
        if self.meta > MAX_META_BYTES {
            return Err(bad("chunk extensions or trailers too large"));
        }
        Ok(())
    }
}

/// RFC 9110 §5.6.2 `tchar`: the bytes of a field name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[inline]
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn bad(why: &'static str) -> ParseError {
    ParseError::BadRequest(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; returns (body, bytes consumed) or the error.
    fn run(
        mut dec: BodyDecoder,
        input: &[u8],
        step: usize,
        budget: u64,
    ) -> Result<(Vec<u8>, usize), ParseError> {
        let mut out = Vec::new();
        let mut budget = budget;
        let mut pos = 0;
        let mut end = 0;
        while pos < input.len() || end < input.len() {
            end = (end + step).min(input.len());
            let p = dec.decode(&input[pos..end], Some(&mut out), &mut budget)?;
            pos += p.consumed;
            if p.done {
                return Ok((out, pos));
            }
            if end == input.len() && p.consumed == 0 {
                break;
            }
        }
        Err(ParseError::BadRequest("incomplete in test"))
    }

    #[test]
    fn length_body_stops_at_its_end() {
        for step in [1, 2, 3, 100] {
            let (body, used) = run(BodyDecoder::length(5), b"helloGET /", step, 100).unwrap();
            assert_eq!((body.as_slice(), used), (&b"hello"[..], 5), "step {step}");
        }
    }

    #[test]
    fn chunked_valid_cases_at_every_split() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (
                b"5;ext=1\r\nhello\r\n6 ; a=\"b\"\r\n world\r\n0\r\n\r\n",
                b"hello world",
            ),
            (
                b"A\r\n0123456789\r\n0\r\nTrailer: x\r\nOther: y\r\n\r\n",
                b"0123456789",
            ),
            (b"0\r\n\r\n", b""),
            (b"000000000000000\r\n\r\n", b""),
        ];
        for (input, want) in cases {
            for step in 1..=input.len() {
                let mut with_next = input.to_vec();
                with_next.extend_from_slice(b"NEXT");
                let (body, used) = run(BodyDecoder::chunked(), &with_next, step, 1 << 20)
                    .unwrap_or_else(|e| {
                        panic!("{:?} step {step}: {e:?}", String::from_utf8_lossy(input))
                    });
                assert_eq!(body.as_slice(), *want);
                assert_eq!(used, input.len(), "must stop before the next request");
            }
        }
    }

    #[test]
    fn chunked_malformed_cases() {
        let cases: &[&[u8]] = &[
            b"\r\nhello\r\n0\r\n\r\n",
            b"g\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloX\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\n",
            b"5\r\nhello\r\n0\r\nTrailer: x\n\r\n",
            b"11111111111111111\r\n",
            b"5;\x00\r\nhello\r\n0\r\n\r\n",
            b"-5\r\n",
            b"0x5\r\n",
            b"5 x\r\nhello\r\n0\r\n\r\n",
            b"0\r\nGET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n",
            b"0\r\n: no name\r\n\r\n",
            b"0\r\nNo colon\r\n\r\n",
        ];
        for input in cases {
            let got = run(BodyDecoder::chunked(), input, 1, 1 << 20);
            assert!(
                matches!(got, Err(ParseError::BadRequest(_))),
                "{:?}: {got:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn chunked_budget_and_overflow() {
        assert_eq!(
            run(BodyDecoder::chunked(), b"6\r\nhello!\r\n0\r\n\r\n", 4, 5),
            Err(ParseError::BodyTooLarge)
        );
        assert_eq!(
            run(
                BodyDecoder::chunked(),
                b"ffffffffffffffff\r\n",
                4,
                u64::MAX - 1
            ),
            Err(ParseError::BodyTooLarge)
        );
        let long_ext = format!("1;{}\r\n", "a".repeat(MAX_META_BYTES + 1));
        assert!(matches!(
            run(BodyDecoder::chunked(), long_ext.as_bytes(), 64, 100),
            Err(ParseError::BadRequest(_))
        ));
    }

    #[test]
    fn discard_mode_consumes_without_a_sink() {
        let mut dec = BodyDecoder::chunked();
        let mut budget = 100;
        let p = dec
            .decode(b"3\r\nabc\r\n0\r\n\r\nX", None, &mut budget)
            .unwrap();
        assert_eq!(
            p,
            Progress {
                consumed: 13,
                done: true
            }
        );
        assert_eq!(dec, BodyDecoder::Done);
    }
}
