//! Test support: in-process servers on port 0, a raw socket client that can read to end of
//! stream with a deadline, a response splitter, and small control-API helpers.
//!
//! Every socket operation has a timeout, so a server that hangs fails a test with a message
//! instead of hanging the test binary.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The API key every test server accepts.
pub const KEY: &str = "k1";

/// How long a single socket read or write may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A well-formed request appended behind hostile ones: it must never be answered.
pub const SMUGGLED: &[u8] = b"GET /v1/status HTTP/1.1\r\nHost: smuggled.test\r\n\r\n";

// ---- Servers ----------------------------------------------------------------------------------

/// The base configuration: port 0, key `k1`, two workers.
pub fn config() -> mockd::Config {
    mockd::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_keys: vec![KEY.into()],
        workers: 2,
        ..Default::default()
    }
}

/// An in-process server with the base configuration changed by `f`.
pub fn start_with(f: impl FnOnce(&mut mockd::Config)) -> mockd::Server {
    let mut c = config();
    f(&mut c);
    mockd::Server::start(c).expect("server starts")
}

/// Open client connections as the server counts them.
pub fn open_connections(server: &mockd::Server) -> usize {
    server
        .shared()
        .open
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// Waits (bounded) until the server counts at most `n` open connections; returns how long it took.
pub fn wait_open_at_most(server: &mockd::Server, n: usize, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if open_connections(server) <= n {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

// ---- Raw connection ---------------------------------------------------------------------------

/// What a read to end of stream saw.
#[derive(Debug)]
pub struct Drained {
    pub bytes: Vec<u8>,
    /// The server closed (FIN or reset) before the deadline.
    pub closed: bool,
    /// The close was a reset rather than a clean end of stream.
    pub reset: bool,
    /// When the first byte arrived, from the start of the read.
    pub first_byte: Option<Duration>,
    /// When the stream ended (or the deadline passed), from the start of the read.
    pub elapsed: Duration,
}

impl Drained {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// One raw TCP connection to the server.
pub struct Conn {
    pub stream: TcpStream,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn { stream }
    }

    /// Writes all of `bytes`; panics on failure.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Writes `bytes`, ignoring a server that already closed.
    pub fn send_lenient(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Reads until the server closes the connection or `limit` passes.
    pub fn drain(&mut self, limit: Duration) -> Drained {
        let start = Instant::now();
        let mut bytes = Vec::new();
        let mut first_byte = None;
        let mut chunk = vec![0u8; 64 * 1024];
        let (mut closed, mut reset) = (false, false);
        while start.elapsed() < limit {
            let left = limit
                .saturating_sub(start.elapsed())
                .max(Duration::from_millis(1));
            self.stream
                .set_read_timeout(Some(left.min(Duration::from_millis(200))))
                .unwrap();
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => {
                    first_byte.get_or_insert_with(|| start.elapsed());
                    bytes.extend_from_slice(&chunk[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    closed = true;
                    reset = true;
                    break;
                }
            }
        }
        self.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        Drained {
            bytes,
            closed,
            reset,
            first_byte,
            elapsed: start.elapsed(),
        }
    }

    /// Reads until `want` complete responses are buffered (HEAD flags as in [`split_responses`]).
    pub fn read_responses(&mut self, want: usize, heads: &[bool]) -> Vec<Resp> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        let deadline = Instant::now() + IO_TIMEOUT;
        loop {
            if let Ok((rs, used)) = split_responses(&buf, heads) {
                if rs.len() >= want && used == buf.len() {
                    return rs;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {want} responses within {IO_TIMEOUT:?}; got {:?}",
                String::from_utf8_lossy(&buf)
            );
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!(
                    "connection closed before {want} responses: {:?}",
                    String::from_utf8_lossy(&buf)
                ),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("read failed: {e}; got {:?}", String::from_utf8_lossy(&buf)),
            }
        }
    }

    /// One GET on this connection; returns its response and how long it took.
    pub fn get(&mut self, target: &str) -> (Resp, Duration) {
        let t = Instant::now();
        self.send(format!("GET {target} HTTP/1.1\r\nHost: h.test\r\n\r\n").as_bytes());
        let mut r = self.read_responses(1, &[]);
        (r.remove(0), t.elapsed())
    }
}

// ---- Responses --------------------------------------------------------------------------------

/// One response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub raw: Vec<u8>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits a byte stream into complete responses. `heads[i]` says that the i-th final response
/// answers a HEAD request (no body); interim 1xx responses are skipped and not counted. Returns the
/// responses and the bytes they took; an incomplete tail is left unconsumed.
pub fn split_responses(buf: &[u8], heads: &[bool]) -> Result<(Vec<Resp>, usize), String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let Some(end) = find(&buf[pos..], b"\r\n\r\n") else {
            break;
        };
        let head_end = pos + end + 4;
        let head = std::str::from_utf8(&buf[pos..head_end - 4])
            .map_err(|_| format!("non-UTF-8 response head at {pos}"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        if !status_line.starts_with("HTTP/1.1 ") || status_line.len() < 12 {
            return Err(format!("bad status line {status_line:?}"));
        }
        let status: u16 = status_line[9..12]
            .parse()
            .map_err(|_| format!("bad status line {status_line:?}"))?;
        let mut headers = Vec::new();
        for l in lines {
            let (n, v) = l
                .split_once(':')
                .ok_or_else(|| format!("bad header line {l:?}"))?;
            headers.push((n.to_string(), v.trim().to_string()));
        }
        if (100..200).contains(&status) && status != 101 {
            pos = head_end;
            continue;
        }
        let is_head = heads.get(out.len()).copied().unwrap_or(false);
        let len = if is_head || status < 200 || status == 204 || status == 304 {
            0
        } else {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .ok_or_else(|| format!("no Content-Length in {head:?}"))?
                .1
                .parse::<usize>()
                .map_err(|_| format!("bad Content-Length in {head:?}"))?
        };
        if head_end + len > buf.len() {
            break;
        }
        out.push(Resp {
            status,
            headers,
            raw: buf[pos..head_end + len].to_vec(),
            body: buf[head_end..head_end + len].to_vec(),
        });
        pos = head_end + len;
    }
    Ok((out, pos))
}

/// `bytes` with the value of every `Date:` header replaced by `<date>`.
pub fn mask_date(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\r\nDate: ") {
            out.extend_from_slice(b"\r\nDate: <date>");
            i += 8;
            while i < bytes.len() && bytes[i] != b'\r' {
                i += 1;
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

// ---- Control API ------------------------------------------------------------------------------

/// One request on a fresh connection that asks the server to close after it.
pub fn call(addr: SocketAddr, method: &str, target: &str, body: Option<&str>) -> Resp {
    let mut c = Conn::connect(addr);
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: h.test\r\nX-API-Key: {KEY}\r\nConnection: close\r\n"
    );
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    c.send(req.as_bytes());
    c.read_responses(1, &[method == "HEAD"]).remove(0)
}

/// Creates a mock from its JSON definition; returns its id.
pub fn create(addr: SocketAddr, spec: &str) -> String {
    let r = call(addr, "POST", "/v1/mocks", Some(spec));
    assert_eq!(r.status, 201, "create {spec}: {}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
    v["mock"]["mock_id"].as_str().expect("mock_id").to_string()
}

/// The mock's hit count.
pub fn hit_count(addr: SocketAddr, id: &str) -> u64 {
    let r = call(addr, "GET", &format!("/v1/mocks/{id}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
    v["mock"]["hit_count"].as_u64().expect("hit_count")
}

/// The `/metrics` text.
pub fn metrics(addr: SocketAddr) -> String {
    let r = call(addr, "GET", "/metrics", None);
    assert_eq!(r.status, 200, "{}", r.text());
    String::from_utf8(r.body).expect("UTF-8 metrics")
}

/// The value of one series (`name{labels}` exactly as rendered) in a metrics text.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}
