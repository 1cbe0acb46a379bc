//! Randomized properties with fixed seeds (a small generator on `fastrand`, no extra dependency):
//!
//! (a) the same byte stream of pipelined requests, split at random boundaries into random-sized
//!     writes, gets byte-identical responses (Date masked) to the stream sent in one write;
//! (b) a valid request, with random valid header sets, targets and bodies, always gets the mock's
//!     2xx or a 404, never a 400.
//!
//! Each case is bounded by socket timeouts; a failure prints the seed and the request bytes.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fastrand::Rng;

use crate::client::*;

struct Fixture {
    _server: mockd::Server,
    addr: SocketAddr,
    /// Live mocks and the status each answers with.
    live: Vec<(String, u16)>,
    /// A well-formed id whose mock was deleted.
    gone: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let server = start_with(|_| {});
        let addr = server.local_addr();
        let specs = [
            (r#"{"body": "alpha"}"#, 200),
            (r#"{"status_code": 201, "body": "created!", "headers": {"X-P": "1", "Cache-Control": "no-cache"}}"#, 201),
            (r#"{"status_code": 204}"#, 204),
            (r#"{"body": "delayed", "delay_ms": 3, "status_code": 202}"#, 202),
            (r#"{"body": "{\"k\": [1, 2]}", "content_type": "application/json"}"#, 200),
        ];
        let live = specs.iter().map(|(s, st)| (create(addr, s), *st)).collect();
        let gone = create(addr, "{}");
        assert_eq!(call(addr, "DELETE", &format!("/v1/mocks/{gone}"), None).status, 200);
        Fixture {
            _server: server,
            addr,
            live,
            gone,
        }
    })
}

// ---- Generators -------------------------------------------------------------------------------

const TCHAR: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const QCHAR: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?";
/// Field names the generator leaves alone: they change framing, routing or the connection.
const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "x-api-key",
    "authorization",
];

fn token(rng: &mut Rng, max: usize) -> String {
    (0..rng.usize(1..=max))
        .map(|_| TCHAR[rng.usize(..TCHAR.len())] as char)
        .collect()
}

fn header_name(rng: &mut Rng) -> String {
    loop {
        let n = token(rng, 24);
        if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&n)) {
            return n;
        }
    }
}

/// A valid field value: visible ASCII, interior SP/HTAB, sometimes obs-text; optional OWS around.
fn header_value(rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    if rng.u8(..4) == 0 {
        v.push(b' ');
    }
    let len = rng.usize(0..60);
    for i in 0..len {
        let b = match rng.u8(..20) {
            0 if i > 0 && i + 1 < len => b' ',
            1 if i > 0 && i + 1 < len => b'\t',
            2 => rng.u8(0x80..=0xff),
            _ => rng.u8(0x21..=0x7e),
        };
        v.push(b);
    }
    if rng.u8(..4) == 0 {
        v.push(b'\t');
    }
    v
}

fn query(rng: &mut Rng) -> String {
    let mut q = String::new();
    for _ in 0..rng.usize(0..40) {
        if rng.u8(..10) == 0 {
            q.push_str(&format!("%{:02X}", rng.u8(..)));
        } else {
            q.push(QCHAR[rng.usize(..QCHAR.len())] as char);
        }
    }
    q
}

/// A serving target: a live mock (and its status) or something that is 404.
fn target(rng: &mut Rng, f: &Fixture) -> (String, u16) {
    let (path, status) = match rng.u8(..10) {
        0 => (format!("/v1/mock/{}", f.gone), 404),
        1 => (
            format!(
                "/v1/mock/{}",
                token(rng, 30).replace(['/', '?', '#', '%'], "_")
            ),
            404,
        ),
        2 => ("/nope".to_string(), 404),
        _ => {
            let (id, st) = &f.live[rng.usize(..f.live.len())];
            (format!("/v1/mock/{id}"), *st)
        }
    };
    let mut t = match rng.u8(..8) {
        0 => format!("http://h.test{path}"),
        1 => format!("HTTP://h.test:8080{path}"),
        _ => path,
    };
    if rng.bool() {
        t.push('?');
        t.push_str(&query(rng));
    }
    (t, status)
}

fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    (0..rng.usize(0..=max)).map(|_| rng.u8(..)).collect()
}

/// A chunked encoding of `body` with random chunk sizes, hex case, leading zeros, extensions and
/// trailers.
fn chunk(rng: &mut Rng, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let n = rng.usize(1..=rest.len().min(200));
        let size = if rng.bool() {
            format!("{n:x}")
        } else {
            format!("{n:X}")
        };
        let zeros = "0".repeat(rng.usize(0..3));
        out.extend_from_slice(format!("{zeros}{size}").as_bytes());
        if rng.u8(..4) == 0 {
            out.extend_from_slice(format!(";{}={}", token(rng, 8), token(rng, 8)).as_bytes());
        }
        if rng.u8(..8) == 0 {
            out.extend_from_slice(format!(";{}=\"q v\"", token(rng, 8)).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    out.extend_from_slice(b"0\r\n");
    for _ in 0..rng.usize(0..3) {
        out.extend_from_slice(format!("{}: ", header_name(rng)).as_bytes());
        out.extend_from_slice(&header_value(rng));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

// ---- (a) split writes give identical responses ------------------------------------------------

/// N pipelined requests; the last asks to close. Returns the bytes and which are HEAD.
fn pipeline(rng: &mut Rng, f: &Fixture) -> (Vec<u8>, Vec<bool>) {
    let n = rng.usize(1..=12);
    let mut out = Vec::new();
    let mut heads = Vec::new();
    for i in 0..n {
        let method = ["GET", "GET", "HEAD", "POST", "POST"][rng.usize(..5)];
        let (t, _) = target(rng, f);
        out.extend_from_slice(format!("{method} {t} HTTP/1.1\r\nHost: h.test\r\n").as_bytes());
        if rng.u8(..3) == 0 {
            out.extend_from_slice(format!("{}: ", header_name(rng)).as_bytes());
            out.extend_from_slice(&header_value(rng));
            out.extend_from_slice(b"\r\n");
        }
        if i + 1 == n {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        let body = if method == "POST" || rng.u8(..6) == 0 {
            Some(random_bytes(rng, 300))
        } else {
            None
        };
        match body {
            Some(b) if rng.bool() => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                out.extend_from_slice(&chunk(rng, &b));
            }
            Some(b) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", b.len()).as_bytes());
                out.extend_from_slice(&b);
            }
            None => out.extend_from_slice(b"\r\n"),
        }
        heads.push(method == "HEAD");
    }
    (out, heads)
}

fn exchange(addr: SocketAddr, pieces: &[&[u8]], rng: &mut Rng) -> Drained {
    let mut c = Conn::connect(addr);
    for (i, p) in pieces.iter().enumerate() {
        c.send(p);
        if i + 1 < pieces.len() && rng.u8(..5) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    c.drain(IO_TIMEOUT)
}

#[test]
fn split_writes_give_identical_responses() {
    let f = fixture();
    let start = Instant::now();
    for case in 0..300u64 {
        let seed = 0xa000 + case;
        let mut rng = Rng::with_seed(seed);
        let (stream, heads) = pipeline(&mut rng, f);
        let whole = exchange(f.addr, &[&stream], &mut rng);
        let mut pieces = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let n = match rng.u8(..4) {
                0 => 1,
                1 => rng.usize(1..=8),
                _ => rng.usize(1..=rest.len().min(400)),
            }
            .min(rest.len());
            pieces.push(&rest[..n]);
            rest = &rest[n..];
        }
        let split = exchange(f.addr, &pieces, &mut rng);
        let ctx = || {
            format!(
                "seed {seed:#x}, {} pieces, request {:?}",
                pieces.len(),
                String::from_utf8_lossy(&stream)
            )
        };
        assert!(whole.closed && split.closed, "{}: not closed", ctx());
        let (rs, used) =
            split_responses(&whole.bytes, &heads).unwrap_or_else(|e| panic!("{}: {e}", ctx()));
        assert_eq!(
            (rs.len(), used),
            (heads.len(), whole.bytes.len()),
            "{}: {:?}",
            ctx(),
            whole.text()
        );
        assert_eq!(
            String::from_utf8_lossy(&mask_date(&split.bytes)),
            String::from_utf8_lossy(&mask_date(&whole.bytes)),
            "{}",
            ctx()
        );
    }
    eprintln!("300 split/whole pairs in {:?}", start.elapsed());
}

// ---- (b) valid requests are never 400 ---------------------------------------------------------

#[test]
fn valid_requests_always_get_the_mock_or_404() {
    let f = fixture();
    let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    let start = Instant::now();
    for case in 0..400u64 {
        let seed = 0xb000 + case;
        let mut rng = Rng::with_seed(seed);
        let method = methods[rng.usize(..methods.len())];
        let (t, want) = target(&mut rng, f);
        let http10 = rng.u8(..8) == 0;
        let mut req = Vec::new();
        for _ in 0..rng.usize(0..3) {
            if rng.u8(..3) == 0 {
                req.extend_from_slice(b"\r\n");
            }
        }
        let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        req.extend_from_slice(format!("{method} {t} {version}\r\n").as_bytes());
        let mut fields: Vec<Vec<u8>> = Vec::new();
        if !http10 || rng.bool() {
            let host = ["Host", "host", "HOST"][rng.usize(..3)];
            fields.push(format!("{host}: h.test").into_bytes());
        }
        for _ in 0..rng.usize(0..30) {
            let mut l = header_name(&mut rng).into_bytes();
            l.extend_from_slice(if rng.bool() { b": " } else { b":" });
            l.extend_from_slice(&header_value(&mut rng));
            fields.push(l);
        }
        if rng.u8(..4) == 0 {
            fields.push(b"Connection: keep-alive".to_vec());
        }
        let body = (method != "HEAD" && rng.bool()).then(|| random_bytes(&mut rng, 2000));
        let chunked = body.is_some() && !http10 && rng.bool();
        if let Some(b) = &body {
            if !b.is_empty() && !http10 && rng.u8(..6) == 0 {
                fields.push(b"Expect: 100-continue".to_vec());
            }
            if chunked {
                let te = ["chunked", "Chunked", "CHUNKED", " chunked "][rng.usize(..4)];
                fields.push(format!("Transfer-Encoding: {te}").into_bytes());
            } else {
                let zeros = "0".repeat(rng.usize(0..3));
                fields.push(format!("Content-Length: {zeros}{}", b.len()).into_bytes());
            }
        }
        rng.shuffle(&mut fields);
        for l in &fields {
            req.extend_from_slice(l);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"\r\n");
        match &body {
            Some(b) if chunked => req.extend_from_slice(&chunk(&mut rng, b)),
            Some(b) => req.extend_from_slice(b),
            None => {}
        }
        let mut c = Conn::connect(f.addr);
        c.stream.write_all(&req).unwrap();
        let r = c.read_responses(1, &[method == "HEAD"]).remove(0);
        assert_eq!(
            r.status,
            want,
            "seed {seed:#x}: request {:?} got {}",
            String::from_utf8_lossy(&req),
            r.text()
        );
    }
    eprintln!("400 valid requests in {:?}", start.elapsed());
}
