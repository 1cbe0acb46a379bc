//! Shared test support: in-process servers on port 0, a raw-socket HTTP/1.1 client that reads
//! exactly one response at a time, and small helpers for the control API.
//!
//! Every socket has read and write timeouts, so a server bug shows up as a failed test with a
//! message instead of a hung test binary.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// The first configured API key.
pub const K1: &str = "k1";
/// The second configured API key.
pub const K2: &str = "k2";

/// How long any single socket read or write may block before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

// ---- Servers ----------------------------------------------------------------------------------

/// The configuration most tests use: port 0, keys `k1` and `k2`, two workers.
pub fn config() -> mockd::Config {
    mockd::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_keys: vec![K1.into(), K2.into()],
        workers: 2,
        ..mockd::Config::default()
    }
}

/// An in-process server with the default test configuration.
pub fn start() -> mockd::Server {
    start_with(|_| {})
}

/// An in-process server with the default test configuration changed by `f`.
pub fn start_with(f: impl FnOnce(&mut mockd::Config)) -> mockd::Server {
    let mut config = config();
    f(&mut config);
    mockd::Server::start(config).expect("server starts")
}

/// An in-process server whose expiry clock only moves through `advance`.
pub fn start_manual() -> mockd::Server {
    start_with(|c| c.clock = mockd::Clock::manual())
}

// ---- Responses --------------------------------------------------------------------------------

/// One parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// Header fields in wire order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The head exactly as received, final CRLF CRLF included.
    pub head_raw: Vec<u8>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `Content-Length` as a number, if present.
    pub fn content_length(&self) -> Option<usize> {
        self.header("content-length")
            .map(|v| v.parse().expect("numeric Content-Length"))
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The `detail` of a JSON error body, after checking the error shape.
    pub fn detail(&self) -> String {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "error responses are JSON"
        );
        let v = self.json();
        let obj = v.as_object().expect("error body is an object");
        assert_eq!(obj.len(), 1, "error body has only `detail`: {v}");
        obj["detail"]
            .as_str()
            .expect("detail is a string")
            .to_string()
    }

    /// The `mock` object of a `{"mock": ...}` envelope.
    pub fn mock(&self) -> Value {
        let v = self.json();
        let obj = v.as_object().expect("envelope is an object");
        assert_eq!(obj.len(), 1, "envelope has only `mock`: {v}");
        obj["mock"].clone()
    }

    /// The head with its `Date` line replaced by `Date: <date>`, after checking that the date is
    /// an IMF-fixdate. Lets tests compare the rest of a head byte for byte.
    pub fn head_without_date(&self) -> String {
        let head = String::from_utf8(self.head_raw.clone()).expect("ASCII head");
        let mut out = String::new();
        for line in head.split_inclusive("\r\n") {
            if let Some(date) = line.strip_prefix("Date: ") {
                assert_http_date(date.trim_end_matches("\r\n"));
                out.push_str("Date: <date>\r\n");
            } else {
                out.push_str(line);
            }
        }
        out
    }

    /// Whether the response announces the end of the connection.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Checks the IMF-fixdate form of a `Date` value: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn assert_http_date(v: &str) {
    let b = v.as_bytes();
    let ok = b.len() == 29
        && ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&&v[..3])
        && &v[3..5] == ", "
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b' '
        && [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .contains(&&v[8..11])
        && b[11] == b' '
        && b[12..16].iter().all(u8::is_ascii_digit)
        && b[16] == b' '
        && b[17..19].iter().all(u8::is_ascii_digit)
        && b[19] == b':'
        && b[20..22].iter().all(u8::is_ascii_digit)
        && b[22] == b':'
        && b[23..25].iter().all(u8::is_ascii_digit)
        && &v[25..] == " GMT";
    assert!(ok, "not an IMF-fixdate: {v:?}");
}

/// Parses an ISO 8601 UTC timestamp of the form `2026-12-04T21:10:36.123Z` into unix ms.
pub fn iso_to_ms(s: &str) -> u64 {
    let b = s.as_bytes();
    assert!(
        b.len() == 24
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'.'
            && b[23] == b'Z',
        "not ISO 8601 UTC with milliseconds: {s:?}"
    );
    let n = |r: std::ops::Range<usize>| -> u64 { s[r].parse().expect("digits") };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + n(11..13)) * 60 + n(14..16)) * 60_000 + n(17..19) * 1000 + n(20..23)
}

// ---- Raw client -------------------------------------------------------------------------------

/// A raw HTTP/1.1 client over one TCP connection.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

impl Client {
    /// Connects, with read and write timeouts of [`IO_TIMEOUT`].
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes all of `bytes`.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    /// Writes `bytes`, tolerating a server that already closed the connection.
    pub fn send_lenient(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Closes the client's sending side (the server sees end of input).
    pub fn shutdown_write(&mut self) {
        self.stream.shutdown(Shutdown::Write).unwrap();
    }

    /// Reads more bytes into the buffer; 0 at end of stream. Panics on timeout or error.
    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                n
            }
            Err(e) if is_timeout(&e) => panic!(
                "no data from the server within {IO_TIMEOUT:?}; unread so far: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
            Err(e) => panic!(
                "read failed: {e}; unread so far: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// Reads one response whose body is framed by its status and `Content-Length` (read to end
    /// of stream when neither applies).
    pub fn read_response(&mut self) -> Response {
        self.try_read(false)
            .expect("connection closed before a response arrived")
    }

    /// Reads one response to a HEAD request: a head and never a body.
    pub fn read_head_response(&mut self) -> Response {
        self.try_read(true)
            .expect("connection closed before a response arrived")
    }

    fn try_read(&mut self, head_only: bool) -> Option<Response> {
        let head_len = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.fill() == 0 {
                if self.buf.is_empty() {
                    return None;
                }
                panic!(
                    "connection closed inside a response head: {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
        };
        let head_raw: Vec<u8> = self.buf.drain(..head_len).collect();
        let text = std::str::from_utf8(&head_raw).expect("ASCII response head");
        let mut lines = text[..text.len() - 4].split("\r\n");
        let status_line = lines.next().unwrap();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap().to_string();
        assert!(
            version == "HTTP/1.1" || version == "HTTP/1.0",
            "bad status line {status_line:?}"
        );
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let reason = parts.next().unwrap_or("").to_string();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l
                    .split_once(':')
                    .unwrap_or_else(|| panic!("bad header line {l:?}"));
                assert!(
                    !n.is_empty() && !n.contains(' '),
                    "bad header name in {l:?}"
                );
                (n.to_string(), v.trim().to_string())
            })
            .collect();
        let mut response = Response {
            version,
            status,
            reason,
            headers,
            head_raw,
            body: Vec::new(),
        };
        let no_body = head_only || status < 200 || status == 204 || status == 304;
        if no_body {
            return Some(response);
        }
        assert!(
            response.header("transfer-encoding").is_none(),
            "mockd never sends chunked responses"
        );
        match response.content_length() {
            Some(n) => {
                while self.buf.len() < n {
                    if self.fill() == 0 {
                        panic!(
                            "connection closed after {} of {n} body bytes",
                            self.buf.len()
                        );
                    }
                }
                response.body = self.buf.drain(..n).collect();
            }
            None => {
                while self.fill() > 0 {}
                response.body = std::mem::take(&mut self.buf);
            }
        }
        Some(response)
    }

    /// Reads until the server closes the connection; returns every byte not yet consumed.
    pub fn read_to_eof(&mut self) -> Vec<u8> {
        while self.fill() > 0 {}
        std::mem::take(&mut self.buf)
    }

    /// Asserts that the server closes the connection with nothing more to say.
    pub fn expect_eof(&mut self) {
        let rest = self.read_to_eof();
        assert!(
            rest.is_empty(),
            "expected the connection to close, got more bytes: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }

    /// Sends one request with a `Host` header, the given extra headers and an optional body
    /// (framed by `Content-Length`), and reads its response.
    pub fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Response {
        self.send(&request_bytes(method, target, headers, body));
        if method == "HEAD" {
            self.read_head_response()
        } else {
            self.read_response()
        }
    }

    /// `GET target` on this connection.
    pub fn get(&mut self, target: &str) -> Response {
        self.request("GET", target, &[], None)
    }
}

/// The bytes of an HTTP/1.1 request with `Host`, `headers` and an optional `Content-Length` body.
pub fn request_bytes(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: mockd.test\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(b) = body {
        out.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    if let Some(b) = body {
        out.extend_from_slice(b);
    }
    out
}

/// The first index of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---- Control-API helpers (one fresh connection per call) --------------------------------------

/// One request on a fresh connection.
pub fn call(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Response {
    Client::connect(addr).request(method, target, headers, body)
}

/// `POST /v1/mocks` with `spec` as the JSON body, authenticated with `key`.
pub fn create(addr: SocketAddr, key: &str, spec: &Value) -> Response {
    create_raw(addr, key, spec.to_string().as_bytes())
}

/// `POST /v1/mocks` with raw body bytes, authenticated with `key`.
pub fn create_raw(addr: SocketAddr, key: &str, body: &[u8]) -> Response {
    call(
        addr,
        "POST",
        "/v1/mocks",
        &[("X-API-Key", key), ("Content-Type", "application/json")],
        Some(body),
    )
}

/// Creates a mock as `k1` and returns its id, asserting 201.
pub fn create_id(addr: SocketAddr, spec: &Value) -> String {
    create_id_as(addr, K1, spec)
}

/// Creates a mock as `key` and returns its id, asserting 201.
pub fn create_id_as(addr: SocketAddr, key: &str, spec: &Value) -> String {
    let r = create(addr, key, spec);
    assert_eq!(r.status, 201, "create {spec} failed: {}", r.text());
    r.mock()["mock_id"].as_str().unwrap().to_string()
}

/// `GET /v1/mocks/{id}` as `key`.
pub fn get_mock(addr: SocketAddr, key: &str, id: &str) -> Response {
    call(
        addr,
        "GET",
        &format!("/v1/mocks/{id}"),
        &[("X-API-Key", key)],
        None,
    )
}

/// `DELETE /v1/mocks/{id}` as `key`.
pub fn delete_mock(addr: SocketAddr, key: &str, id: &str) -> Response {
    call(
        addr,
        "DELETE",
        &format!("/v1/mocks/{id}"),
        &[("X-API-Key", key)],
        None,
    )
}

/// `GET /v1/mock/{id}`: one hit on the serving path.
pub fn hit(addr: SocketAddr, id: &str) -> Response {
    call(addr, "GET", &format!("/v1/mock/{id}"), &[], None)
}

/// The mock's `hit_count` as its owner `k1` sees it.
pub fn hit_count(addr: SocketAddr, id: &str) -> u64 {
    let r = get_mock(addr, K1, id);
    assert_eq!(r.status, 200, "{}", r.text());
    r.mock()["hit_count"].as_u64().unwrap()
}

/// `GET /v1/status` as JSON.
pub fn status(addr: SocketAddr) -> Value {
    let r = call(addr, "GET", "/v1/status", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}
