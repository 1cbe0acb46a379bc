//! End to end over loopback: an in-process server with one worker, one keep-alive connection from
//! a plain blocking client.
//!
//! - `pipelined/16` and `pipelined/64`: that many requests in one write, then read until every
//!   response has arrived (the throughput is per request).
//! - `round_trip`: one request, wait for its response, repeat (latency).
//!
//! Client and server share the machine, so the numbers include the client's own syscalls.
//!
//! Run: `cargo bench --bench serve`

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mockd::{Config, Server};

const API_KEY: &str = "tk_bench_Zx8Kq2mN4pR7sT1vWy3Ab5Cd6Ef";
const MOCK_BODY: &[u8] = br#"{"id":1,"ok":true}"#;

/// One parsed response: status, total length on the wire, body.
struct Response {
    status: u16,
    len: usize,
    body: Vec<u8>,
}

/// Splits one complete `Content-Length`-framed response off the front of `buf`, if there is one.
fn split_response(buf: &[u8]) -> Option<Response> {
    let head_end = memchr::memmem::find(buf, b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).expect("ASCII head");
    let status = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let length: usize = head
        .split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().expect("numeric Content-Length"))
        })
        .expect("Content-Length framing");
    let len = head_end + length;
    (buf.len() >= len).then(|| Response {
        status,
        len,
        body: buf[head_end..len].to_vec(),
    })
}

/// Reads exactly `n` framed responses (nothing more is expected on the connection).
fn read_responses(stream: &mut TcpStream, n: usize) -> Vec<Response> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    while out.len() < n {
        if let Some(r) = split_response(&buf[at..]) {
            at += r.len;
            out.push(r);
            continue;
        }
        let got = stream.read(&mut chunk).expect("read");
        assert!(got > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..got]);
    }
    assert_eq!(at, buf.len(), "unexpected bytes after the responses");
    out
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Creates the benchmark's mock through the control API; returns its id.
fn create_mock(addr: SocketAddr) -> String {
    let definition = format!(
        r#"{{"name":"bench","status_code":200,"content_type":"application/json","body":{},"ttl_seconds":86400}}"#,
        serde_json::to_string(std::str::from_utf8(MOCK_BODY).unwrap()).unwrap()
    );
    let request = format!(
        "POST /v1/mocks HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {API_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{definition}",
        definition.len()
    );
    let mut stream = connect(addr);
    stream.write_all(request.as_bytes()).unwrap();
    let created = read_responses(&mut stream, 1).pop().unwrap();
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let json: serde_json::Value = serde_json::from_slice(&created.body).unwrap();
    json["mock"]["mock_id"]
        .as_str()
        .expect("mock_id in the create response")
        .to_string()
}

/// Writes `requests` (one write) and reads until `expect_bytes` bytes of responses arrived.
/// Every response has the same length (the `Date` line is fixed-width), so counting bytes counts
/// responses.
#[inline]
fn exchange(stream: &mut TcpStream, requests: &[u8], expect_bytes: usize, buf: &mut [u8]) {
    stream.write_all(requests).unwrap();
    let mut got = 0;
    while got < expect_bytes {
        let n = stream.read(buf).unwrap();
        assert!(n > 0, "server closed the connection");
        got += n;
    }
    assert_eq!(got, expect_bytes, "more bytes than the expected responses");
}

fn bench_serve(c: &mut Criterion) {
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        workers: 1,
        api_keys: vec![API_KEY.to_string()],
        ..Config::default()
    };
    config.limits.shutdown_grace = Duration::from_secs(1);
    let server = Server::start(config).expect("server starts");
    let addr = server.local_addr();
    let id = create_mock(addr);
    let request = format!("GET /v1/mock/{id} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();

    let mut stream = connect(addr);
    // Learn the response length from one framed read of a full pipeline, and check every
    // response in it.
    stream.write_all(&request.repeat(64)).unwrap();
    let responses = read_responses(&mut stream, 64);
    let response_len = responses[0].len;
    for r in &responses {
        assert_eq!(r.status, 200);
        assert_eq!(r.body, MOCK_BODY);
        assert_eq!(r.len, response_len);
    }

    let mut buf = vec![0u8; 64 * 1024];
    let mut group = c.benchmark_group("serve");
    for depth in [16usize, 64] {
        let batch = request.repeat(depth);
        let expect = depth * response_len;
        group.throughput(Throughput::Elements(depth as u64));
        group.bench_function(BenchmarkId::new("pipelined", depth), |b| {
            b.iter(|| exchange(&mut stream, black_box(&batch), expect, &mut buf))
        });
    }
    group.throughput(Throughput::Elements(1));
    group.bench_function("round_trip", |b| {
        b.iter(|| exchange(&mut stream, black_box(&request), response_len, &mut buf))
    });
    group.finish();

    // Close the client first so the server's drain finds no open connection.
    drop(stream);
    server.shutdown();
    server.join();
}

criterion_group!(benches, bench_serve);
criterion_main!(benches);
