//! Isolation: abusive clients (slowloris, garbage floods, half-open connections, pipelined floods
//! that never read) do not slow a well-behaved client down, and `/metrics` counts the protocol
//! errors they caused by kind.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::client::*;

/// Runs `f` repeatedly on a thread until `stop` is set or `limit` passes (at most 10,000 rounds).
fn abuser(
    stop: &Arc<AtomicBool>,
    limit: Duration,
    f: impl Fn() + Send + 'static,
) -> JoinHandle<()> {
    let stop = Arc::clone(stop);
    std::thread::spawn(move || {
        let start = Instant::now();
        for _ in 0..10_000 {
            if stop.load(Ordering::Relaxed) || start.elapsed() > limit {
                break;
            }
            f();
        }
    })
}

fn slowloris(addr: SocketAddr) {
    let mut c = Conn::connect(addr);
    for b in b"GET /v1/status HTTP/1.1\r\nHost: h\r\nX-Slow: "
        .iter()
        .chain(b"s".repeat(100).iter())
    {
        if c.stream.write_all(&[*b]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn garbage(addr: SocketAddr, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut c = Conn::connect(addr);
    let bytes: Vec<u8> = (0..32 * 1024).map(|_| rng.u8(..)).collect();
    c.send_lenient(&bytes);
    let _ = c.drain(Duration::from_secs(2));
}

#[test]
fn well_behaved_client_is_unaffected_by_abusers() {
    let server = start_with(|c| {
        c.limits.header_timeout = Duration::from_millis(800);
        c.limits.write_timeout = Duration::from_secs(2);
        c.limits.max_output_bytes = 256 * 1024;
    });
    let addr = server.local_addr();
    let id = create(addr, r#"{"body": "steady"}"#);
    let flood_id = create(addr, &format!(r#"{{"body": "{}"}}"#, "f".repeat(4000)));
    let stop = Arc::new(AtomicBool::new(false));
    let limit = Duration::from_secs(6);
    let mut threads = Vec::new();
    for _ in 0..6 {
        threads.push(abuser(&stop, limit, move || slowloris(addr)));
    }
    let seeds = Arc::new(AtomicU64::new(1));
    for _ in 0..2 {
        let seeds = Arc::clone(&seeds);
        threads.push(abuser(&stop, limit, move || {
            garbage(addr, seeds.fetch_add(1, Ordering::Relaxed))
        }));
    }
    // Half-open: connect and never send.
    let idle: Vec<Conn> = (0..20).map(|_| Conn::connect(addr)).collect();
    // A pipelined flood that never reads.
    threads.push(abuser(&stop, limit, move || {
        let mut c = Conn::connect(addr);
        c.stream
            .set_write_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let req = format!("GET /v1/mock/{flood_id} HTTP/1.1\r\nHost: h\r\n\r\n").repeat(200);
        for _ in 0..100 {
            if c.stream.write_all(req.as_bytes()).is_err() {
                break;
            }
        }
        let mut sink = [0u8; 1];
        let _ = c.stream.read(&mut sink);
    }));
    std::thread::sleep(Duration::from_millis(200));

    let mut c = Conn::connect(addr);
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) && times.len() < 400 {
        let (r, took) = c.get(&format!("/v1/mock/{id}"));
        assert_eq!((r.status, &r.body[..]), (200, &b"steady"[..]));
        times.push(took);
        // A fresh connection now and then.
        if times.len() % 20 == 0 {
            let (r, took) = Conn::connect(addr).get(&format!("/v1/mock/{id}"));
            assert_eq!(r.status, 200);
            times.push(took);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    drop(idle);
    times.sort();
    let worst = *times.last().unwrap();
    let p99 = times[times.len() * 99 / 100];
    eprintln!(
        "well-behaved client under abuse: {} requests, p99 {p99:?}, worst {worst:?}",
        times.len()
    );
    assert!(
        worst < Duration::from_secs(1),
        "slowest well-behaved answer: {worst:?}"
    );

    let m = metrics(addr);
    let bad = metric(&m, "mockd_protocol_errors_total{kind=\"bad_request\"}").unwrap();
    let timeout = metric(&m, "mockd_protocol_errors_total{kind=\"timeout\"}").unwrap();
    assert!(bad >= 1.0, "garbage was not counted as bad_request: {m}");
    assert!(timeout >= 1.0, "slowloris was not counted as timeout: {m}");
}

/// Each kind of protocol error is counted once under its own label.
#[test]
fn metrics_count_protocol_errors_by_kind() {
    let server = start_with(|c| {
        c.limits.header_timeout = Duration::from_millis(300);
        c.limits.max_request_body_bytes = 1000;
    });
    let addr = server.local_addr();
    let cases: [(&str, Vec<u8>); 6] = [
        (
            "bad_request",
            b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n".to_vec(),
        ),
        (
            "uri_too_long",
            format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "u".repeat(9000)).into_bytes(),
        ),
        (
            "head_too_large",
            format!(
                "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
                "h".repeat(17000)
            )
            .into_bytes(),
        ),
        (
            "body_too_large",
            b"POST /v1/mock/x HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n".to_vec(),
        ),
        (
            "expectation_failed",
            b"POST /v1/mock/x HTTP/1.1\r\nHost: h\r\nExpect: nope\r\nContent-Length: 1\r\n\r\nx"
                .to_vec(),
        ),
        (
            "version_not_supported",
            b"GET / HTTP/2.0\r\nHost: h\r\n\r\n".to_vec(),
        ),
    ];
    for (kind, raw) in &cases {
        let mut c = Conn::connect(addr);
        c.send_lenient(raw);
        let got = c.drain(IO_TIMEOUT);
        assert!(got.closed, "{kind}");
    }
    let mut c = Conn::connect(addr);
    c.send(b"GET / HTTP/1.1\r\nHo");
    let got = c.drain(IO_TIMEOUT);
    assert!(got.text().starts_with("HTTP/1.1 408"), "{}", got.text());
    let m = metrics(addr);
    for kind in cases.iter().map(|(k, _)| *k).chain(["timeout"]) {
        let n = metric(
            &m,
            &format!("mockd_protocol_errors_total{{kind=\"{kind}\"}}"),
        );
        assert_eq!(n, Some(1.0), "kind {kind}:\n{m}");
    }
}
