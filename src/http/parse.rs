//! Request heads: find the end cheaply, then parse once with httparse.
//!
//! # Ground rules
//! - A head is only parsed when [`find_head_end`] has seen its final CRLF CRLF. The scan resumes
//!   where the last one stopped, so a client dribbling a byte at a time costs O(n), not O(n²).
//! - Every line ends in CRLF. A bare LF is rejected as soon as it is seen (RFC 9112 §2.2 lets a
//!   server refuse it, and a proxy in front of us might read the stream differently).
//! - Framing is decided here, once, per RFC 9112 §6.3: `Transfer-Encoding` must be exactly
//!   `chunked` and never comes with `Content-Length`; a repeated `Content-Length` is refused even
//!   when the values agree; HTTP/1.0 may not use `Transfer-Encoding`. Any doubt is a 400 and the
//!   connection closes.
//! - The head is borrowed, not copied: the result holds the route (already decided) and offsets of
//!   the credential into the caller's buffer.

use super::error::ParseError;
use crate::router::{self, Method, Route};

/// The most fields a head may carry. httparse needs a fixed array; 100 covers any real client
/// (browsers send ~20) while bounding the parse at a few KiB of stack.
pub const MAX_HEADERS: usize = 100;

/// Size limits that apply to one request head.
#[derive(Clone, Copy, Debug)]
pub struct HeadLimits {
    /// Largest head, request line included.
    pub max_head_bytes: usize,
    /// Longest request target.
    pub max_target_bytes: usize,
}

/// How the body of a request is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Method,
    pub route: Route,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version_minor: u8,
    /// Bytes of the head, final CRLF CRLF included.
    pub head_len: usize,
    pub framing: Framing,
    /// Whether the connection stays open after this exchange (before the server's own reasons).
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent.
    pub expect_continue: bool,
    /// `(start, len)` of the API key in the buffer, from `X-API-Key` or `Authorization: Bearer`.
    pub credential: Option<(usize, usize)>,
    /// A credential header was repeated, `Authorization` used another scheme than Bearer, or
    /// `X-API-Key` and `Authorization: Bearer` disagree: answered with 401.
    pub credential_conflict: bool,
}

/// Looks for the end of a head in `buf`, resuming at `*scanned` (bytes already checked).
///
/// Returns the head length once `\r\n\r\n` is seen, `Ok(None)` if more bytes are needed (and
/// advances `*scanned`), or an error for a bare LF or a head over the limit.
#[inline]
pub fn find_head_end(
    buf: &[u8],
    scanned: &mut usize,
    limits: &HeadLimits,
) -> Result<Option<usize>, ParseError> {
    let start = *scanned;
    for offset in memchr::memchr_iter(b'\n', &buf[start..]) {
        let i = start + offset;
        if i == 0 || buf[i - 1] != b'\r' {
            return Err(ParseError::BadRequest("bare LF in request head"));
        }
        if i >= 3 && buf[i - 3] == b'\r' && buf[i - 2] == b'\n' {
            if i + 1 > limits.max_head_bytes {
                return Err(too_large(buf, limits));
            }
            return Ok(Some(i + 1));
        }
    }
    *scanned = buf.len();
    if buf.len() > limits.max_head_bytes {
        return Err(too_large(buf, limits));
    }
    Ok(None)
}

/// Over the head limit: 414 when the request line alone is the problem, else 431.
#[cold]
fn too_large(buf: &[u8], limits: &HeadLimits) -> ParseError {
    let line_end = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
    if line_end > limits.max_target_bytes {
        ParseError::UriTooLong
    } else {
        ParseError::HeadTooLarge
    }
}

/// Parses a complete head (`buf[..head_len]` ends in CRLF CRLF, as found by [`find_head_end`]).
#[inline]
pub fn parse_head(
    buf: &[u8],
    head_len: usize,
    limits: &HeadLimits,
) -> Result<RequestHead, ParseError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let status = req.parse(&buf[..head_len]).map_err(map_httparse)?;
    match status {
        httparse::Status::Complete(n) if n == head_len => {}
        // The scan and httparse disagree on where the head ends: refuse rather than guess.
        _ => return Err(ParseError::BadRequest("malformed request head")),
    }
    let version_minor = match req.version {
        Some(0) => 0,
        Some(1) => 1,
        _ => return Err(ParseError::VersionNotSupported),
    };
    let method = Method::from_bytes(req.method.unwrap_or("").as_bytes());
    let target = req.path.unwrap_or("").as_bytes();
    if target.len() > limits.max_target_bytes {
        return Err(ParseError::UriTooLong);
    }

    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut saw_te = false;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut hosts = 0u32;
    let mut expect_continue = false;
    let mut api_key: Option<(usize, usize)> = None;
    let mut bearer: Option<(usize, usize)> = None;
    let mut credential_conflict = false;
    let base = buf.as_ptr() as usize;

    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        let value = h.value;
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => hosts += 1,
            6 if name.eq_ignore_ascii_case(b"expect") => {
                if trim(value).eq_ignore_ascii_case(b"100-continue") {
                    expect_continue = true;
                } else {
                    return Err(ParseError::ExpectationFailed);
                }
            }
            9 if name.eq_ignore_ascii_case(b"x-api-key") => {
                credential_conflict |= api_key.is_some();
                let v = trim(value);
                api_key = Some((v.as_ptr() as usize - base, v.len()));
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for token in value.split(|&b| b == b',') {
                    let token = trim(token);
                    if token.eq_ignore_ascii_case(b"close") {
                        close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        keep_alive_token = true;
                    }
                }
            }
            13 if name.eq_ignore_ascii_case(b"authorization") => {
                credential_conflict |= bearer.is_some();
                let v = trim(value);
                if v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") {
                    let token = trim(&v[7..]);
                    bearer = Some((token.as_ptr() as usize - base, token.len()));
                } else {
                    // Another scheme: refused rather than ignored, so the answer never depends
                    // on which credential header a client happened to put first.
                    credential_conflict = true;
                    bearer = Some((0, 0));
                }
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                if content_length.is_some() {
                    return Err(ParseError::BadRequest("repeated Content-Length"));
                }
                content_length = Some(parse_content_length(value)?);
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                if saw_te {
                    return Err(ParseError::BadRequest("repeated Transfer-Encoding"));
                }
                saw_te = true;
                if trim(value).eq_ignore_ascii_case(b"chunked") {
                    chunked = true;
                } else {
                    return Err(ParseError::BadRequest(
                        "unsupported Transfer-Encoding (only chunked)",
                    ));
                }
            }
            _ => {}
        }
    }

    // RFC 9112 §6.1: HTTP/1.0 framing with Transfer-Encoding is faulty.
    if saw_te && version_minor == 0 {
        return Err(ParseError::BadRequest(
            "Transfer-Encoding in an HTTP/1.0 request",
        ));
    }
    // RFC 9112 §6.3 (3): both present is a smuggling vector; refuse and close.
    if saw_te && content_length.is_some() {
        return Err(ParseError::BadRequest(
            "both Transfer-Encoding and Content-Length",
        ));
    }
    // RFC 9112 §3.2: a 1.1 request has exactly one Host.
    if hosts > 1 || (hosts == 0 && version_minor == 1) {
        return Err(ParseError::BadRequest(
            "HTTP/1.1 requires exactly one Host header",
        ));
    }
    let framing = if chunked {
        Framing::Chunked
    } else {
        match content_length {
            Some(0) | None => Framing::None,
            Some(n) => Framing::Length(n),
        }
    };
    let keep_alive = if version_minor == 1 {
        !close
    } else {
        keep_alive_token && !close
    };
    // Expect only means something when a body follows (RFC 9110 §10.1.1).
    let expect_continue = expect_continue && version_minor == 1 && framing != Framing::None;

    // One credential, however presented: both headers must carry the same key.
    let credential = match (api_key, bearer) {
        (Some(a), Some(b)) => {
            credential_conflict |= buf[a.0..a.0 + a.1] != buf[b.0..b.0 + b.1];
            Some(a)
        }
        (a, b) => a.or(b),
    };

    let route = route_target(method, target)?;
    Ok(RequestHead {
        method,
        route,
        version_minor,
        head_len,
        framing,
        keep_alive,
        expect_continue,
        credential,
        credential_conflict,
    })
}

/// Splits origin-form or absolute-form targets into path and query and routes them.
fn route_target(method: Method, target: &[u8]) -> Result<Route, ParseError> {
    let path_and_query = if target.first() == Some(&b'/') {
        target
    } else if target == b"*" {
        return Ok(Route::NotFound);
    } else if let Some(rest) = strip_scheme(target) {
        // absolute-form (RFC 9112 §3.2.2): drop the authority, keep the path.
        match memchr::memchr(b'/', rest) {
            Some(i) => &rest[i..],
            None => b"/",
        }
    } else {
        return Err(ParseError::BadRequest("invalid request target"));
    };
    let (path, query) = match memchr::memchr(b'?', path_and_query) {
        Some(i) => (&path_and_query[..i], &path_and_query[i + 1..]),
        None => (path_and_query, &b""[..]),
    };
    Ok(router::route(method, path, query))
}

fn strip_scheme(target: &[u8]) -> Option<&[u8]> {
    for scheme in [&b"http://"[..], b"https://"] {
        if target.len() > scheme.len() && target[..scheme.len()].eq_ignore_ascii_case(scheme) {
            return Some(&target[scheme.len()..]);
        }
    }
    None
}

/// `Content-Length = 1*DIGIT` (RFC 9110 §8.6): no sign, no spaces inside, no list, no overflow.
fn parse_content_length(value: &[u8]) -> Result<u64, ParseError> {
    let digits = trim(value);
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::BadRequest("invalid Content-Length"));
    }
    Ok(digits
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &v[start..end]
}

#[cold]
fn map_httparse(e: httparse::Error) -> ParseError {
    match e {
        httparse::Error::TooManyHeaders => ParseError::HeadTooLarge,
        httparse::Error::Version => ParseError::VersionNotSupported,
        httparse::Error::HeaderName => ParseError::BadRequest("invalid header name"),
        httparse::Error::HeaderValue => ParseError::BadRequest("invalid header value"),
        httparse::Error::Token => ParseError::BadRequest("invalid method"),
        httparse::Error::NewLine => ParseError::BadRequest("invalid line ending"),
        httparse::Error::Status => ParseError::BadRequest("malformed request line"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::Target;

    const LIMITS: HeadLimits = HeadLimits {
        max_head_bytes: 1024,
        max_target_bytes: 256,
    };

    fn parse(raw: &[u8]) -> Result<RequestHead, ParseError> {
        let mut scanned = 0;
        match find_head_end(raw, &mut scanned, &LIMITS)? {
            Some(n) => parse_head(raw, n, &LIMITS),
            None => panic!(
                "incomplete head in test: {:?}",
                String::from_utf8_lossy(raw)
            ),
        }
    }

    #[test]
    fn simple_get_keeps_alive() {
        let h = parse(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(h.route, Route::Status);
        assert_eq!(h.framing, Framing::None);
        assert!(h.keep_alive);
        assert_eq!(h.head_len, 36);
    }

    #[test]
    fn http10_closes_unless_keep_alive() {
        assert!(!parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        assert!(
            parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                .unwrap()
                .keep_alive
        );
        assert!(
            !parse(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: x, close\r\n\r\n")
                .unwrap()
                .keep_alive
        );
    }

    #[test]
    fn framing_table() {
        let cases: &[(&[u8], Result<Framing, &str>)] = &[
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", Ok(Framing::Length(5))),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", Ok(Framing::None)),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n", Ok(Framing::Length(7))),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", Ok(Framing::Chunked)),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", Err("repeated Content-Length")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", Err("invalid Content-Length")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", Err("invalid Content-Length")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", Err("invalid Content-Length")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", Err("invalid Content-Length")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", Err("invalid Content-Length")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", Err("invalid Content-Length")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", Err("both Transfer-Encoding and Content-Length")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Err("unsupported Transfer-Encoding (only chunked)")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", Err("unsupported Transfer-Encoding (only chunked)")),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", Err("repeated Transfer-Encoding")),
            (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", Err("Transfer-Encoding in an HTTP/1.0 request")),
        ];
        for (raw, want) in cases {
            let got = parse(raw).map(|h| h.framing);
            match want {
                Ok(f) => assert_eq!(got, Ok(*f), "{:?}", String::from_utf8_lossy(raw)),
                Err(why) => assert_eq!(
                    got,
                    Err(ParseError::BadRequest(why)),
                    "{:?}",
                    String::from_utf8_lossy(raw)
                ),
            }
        }
    }

    #[test]
    fn host_rules() {
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\n\r\n"),
            Err(ParseError::BadRequest(
                "HTTP/1.1 requires exactly one Host header"
            ))
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Err(ParseError::BadRequest(
                "HTTP/1.1 requires exactly one Host header"
            ))
        );
        assert!(parse(b"GET / HTTP/1.0\r\n\r\n").is_ok());
    }

    #[test]
    fn bare_lf_is_rejected_as_soon_as_seen() {
        let mut scanned = 0;
        assert_eq!(
            find_head_end(b"GET / HTTP/1.1\nHost", &mut scanned, &LIMITS),
            Err(ParseError::BadRequest("bare LF in request head"))
        );
        let mut scanned = 0;
        assert_eq!(
            find_head_end(b"GET / HTTP/1.1\r\nHost: x\n\r\n", &mut scanned, &LIMITS),
            Err(ParseError::BadRequest("bare LF in request head"))
        );
    }

    #[test]
    fn bad_bytes_in_head() {
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX\x01: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n",
            b"GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        ] {
            assert!(
                matches!(parse(raw), Err(ParseError::BadRequest(_))),
                "{:?} gave {:?}",
                String::from_utf8_lossy(raw),
                parse(raw)
            );
        }
    }

    #[test]
    fn versions() {
        assert_eq!(
            parse(b"GET / HTTP/2.0\r\n\r\n"),
            Err(ParseError::VersionNotSupported)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.2\r\nHost: x\r\n\r\n"),
            Err(ParseError::VersionNotSupported)
        );
    }

    #[test]
    fn expect() {
        let h = parse(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n",
        )
        .unwrap();
        assert!(h.expect_continue);
        let h = parse(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n").unwrap();
        assert!(!h.expect_continue, "no body, nothing to continue");
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n"),
            Err(ParseError::ExpectationFailed)
        );
    }

    #[test]
    fn credentials() {
        let raw = b"GET /v1/mocks/x HTTP/1.1\r\nHost: x\r\nX-API-Key:  tk_abc \r\n\r\n";
        let h = parse(raw).unwrap();
        let (s, n) = h.credential.unwrap();
        assert_eq!(&raw[s..s + n], b"tk_abc");
        let raw = b"GET /v1/mocks/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tk_xyz\r\n\r\n";
        let (s, n) = parse(raw).unwrap().credential.unwrap();
        assert_eq!(&raw[s..s + n], b"tk_xyz");
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-API-Key: a\r\nX-API-Key: b\r\n\r\n";
        assert!(parse(raw).unwrap().credential_conflict);
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YTpi\r\n\r\n";
        assert!(parse(raw).unwrap().credential_conflict);
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: x\r\nX-API-Key: a\r\nAuthorization: Bearer b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer b\r\nX-API-Key: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-API-Key: a\r\nAuthorization: Basic YTpi\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YTpi\r\nX-API-Key: a\r\n\r\n",
        ] {
            assert!(parse(raw).unwrap().credential_conflict, "{:?}", String::from_utf8_lossy(raw));
        }
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-API-Key: a\r\nAuthorization: Bearer a\r\n\r\n";
        assert!(
            !parse(raw).unwrap().credential_conflict,
            "the same key twice is fine"
        );
    }

    #[test]
    fn targets() {
        let id = crate::mock::id::MockId::from_u128(42);
        let raw = format!("GET http://example.com/v1/mock/{id}?a=b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            parse(raw.as_bytes()).unwrap().route,
            Route::Serve {
                target: Target::Id(id),
                head_only: false
            }
        );
        assert_eq!(
            parse(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap()
                .route,
            Route::NotFound
        );
        assert_eq!(
            parse(b"GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Err(ParseError::BadRequest("invalid request target"))
        );
    }

    #[test]
    fn limits_give_414_and_431() {
        let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(300));
        assert_eq!(parse(long_target.as_bytes()), Err(ParseError::UriTooLong));
        let huge_target = format!("GET /{}", "a".repeat(2000));
        let mut scanned = 0;
        assert_eq!(
            find_head_end(huge_target.as_bytes(), &mut scanned, &LIMITS),
            Err(ParseError::UriTooLong)
        );
        let big_head = format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n", "b".repeat(2000));
        let mut scanned = 0;
        assert_eq!(
            find_head_end(big_head.as_bytes(), &mut scanned, &LIMITS),
            Err(ParseError::HeadTooLarge)
        );
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("X{i}: v\r\n"))
            .collect();
        let raw = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
        let limits = HeadLimits {
            max_head_bytes: 1 << 20,
            max_target_bytes: 256,
        };
        assert_eq!(
            parse_head(raw.as_bytes(), raw.len(), &limits),
            Err(ParseError::HeadTooLarge)
        );
    }

    #[test]
    fn incremental_scan_resumes_and_finds_the_same_end() {
        let raw = b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\nGET";
        let mut scanned = 0;
        let mut found = None;
        for end in 1..=raw.len() {
            if let Some(n) = find_head_end(&raw[..end], &mut scanned, &LIMITS).unwrap() {
                found = Some(n);
                break;
            }
            assert_eq!(scanned, end);
        }
        assert_eq!(found, Some(36));
    }
}
