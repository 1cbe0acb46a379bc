//! Slow clients: every wait has a deadline. Each test measures the close by reading until end of
//! stream (never by sleeping a fixed time and hoping).

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::client::*;

/// Writes `bytes` one at a time, `gap` apart, until done, a write fails or `stop` is set.
fn dribble(
    mut s: TcpStream,
    bytes: Vec<u8>,
    gap: Duration,
    stop: Arc<AtomicBool>,
) -> JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut n = 0;
        for b in bytes {
            if stop.load(Ordering::Relaxed) || s.write_all(&[b]).is_err() {
                break;
            }
            n += 1;
            std::thread::sleep(gap);
        }
        n
    })
}

/// Asserts one response with `status` and `Connection: close`, then end of stream, the whole
/// exchange ending between `min` and `max` after the read began.
fn assert_closed_with(got: &Drained, status: u16, min: Duration, max: Duration, what: &str) {
    assert!(
        got.closed,
        "{what}: not closed within {:?}: {:?}",
        got.elapsed,
        got.text()
    );
    let (rs, used) = split_responses(&got.bytes, &[]).unwrap();
    assert_eq!(
        (rs.len(), used),
        (1, got.bytes.len()),
        "{what}: {:?}",
        got.text()
    );
    assert_eq!(rs[0].status, status, "{what}: {}", rs[0].text());
    assert!(rs[0].closes(), "{what}: no Connection: close");
    assert!(
        got.elapsed >= min && got.elapsed <= max,
        "{what}: closed after {:?}, expected between {min:?} and {max:?}",
        got.elapsed
    );
}

/// Slowloris: a head dribbled a byte every 100 ms gets 408 and a close once the header timeout
/// (500 ms from its first byte) passes, although bytes keep arriving.
#[test]
fn slowloris_head_gets_408_at_the_header_timeout() {
    let server = start_with(|c| c.limits.header_timeout = Duration::from_millis(500));
    let addr = server.local_addr();
    let mut c = Conn::connect(addr);
    let stop = Arc::new(AtomicBool::new(false));
    let head = format!(
        "GET /v1/status HTTP/1.1\r\nHost: h\r\nX-Slow: {}\r\n\r\n",
        "s".repeat(60)
    );
    let t = dribble(
        c.stream.try_clone().unwrap(),
        head.into_bytes(),
        Duration::from_millis(100),
        Arc::clone(&stop),
    );
    let got = c.drain(Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    let sent = t.join().unwrap();
    assert_closed_with(
        &got,
        408,
        Duration::from_millis(450),
        Duration::from_millis(2000),
        "slowloris",
    );
    assert!(sent < 40, "the dribbler got {sent} bytes in");
}

/// A body that stops making progress gets 408 after the body timeout.
#[test]
fn stalled_body_gets_408_at_the_body_timeout() {
    let server = start_with(|c| c.limits.body_timeout = Duration::from_millis(500));
    let addr = server.local_addr();
    let mut c = Conn::connect(addr);
    c.send(b"POST /v1/mock/x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc");
    let stop = Arc::new(AtomicBool::new(false));
    // Slower than allowed: one byte per 800 ms.
    let t = dribble(
        c.stream.try_clone().unwrap(),
        vec![b'x'; 20],
        Duration::from_millis(800),
        Arc::clone(&stop),
    );
    let got = c.drain(Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    t.join().unwrap();
    assert_closed_with(
        &got,
        408,
        Duration::from_millis(450),
        Duration::from_millis(2000),
        "stalled body",
    );
}

/// A body that keeps making progress within the body timeout is not cut off.
#[test]
fn slow_but_steady_body_is_accepted() {
    let server = start_with(|c| c.limits.body_timeout = Duration::from_millis(500));
    let addr = server.local_addr();
    let mut c = Conn::connect(addr);
    c.send(
        b"POST /v1/mock/x HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\nConnection: close\r\n\r\n",
    );
    let stop = Arc::new(AtomicBool::new(false));
    let t = dribble(
        c.stream.try_clone().unwrap(),
        vec![b'x'; 8],
        Duration::from_millis(150),
        Arc::clone(&stop),
    );
    let got = c.drain(Duration::from_secs(5));
    t.join().unwrap();
    assert_closed_with(
        &got,
        404,
        Duration::from_millis(1000),
        Duration::from_millis(3000),
        "steady body",
    );
}

/// An idle keep-alive connection is closed, silently, after the idle timeout.
#[test]
fn idle_keep_alive_is_closed_after_the_idle_timeout() {
    let server = start_with(|c| c.limits.idle_timeout = Duration::from_millis(400));
    let addr = server.local_addr();
    let mut c = Conn::connect(addr);
    assert_eq!(c.get("/v1/status").0.status, 200);
    let got = c.drain(Duration::from_secs(5));
    assert!(got.closed, "idle connection not closed");
    assert!(got.bytes.is_empty(), "idle close sent {:?}", got.text());
    assert!(
        got.elapsed >= Duration::from_millis(350) && got.elapsed < Duration::from_secs(2),
        "idle close after {:?}",
        got.elapsed
    );
}

/// Empty lines (CRLF) sent before a request line forever must not keep a connection open past the
/// idle and header timeouts: two bytes every 200 ms would otherwise hold a connection (and its
/// slot under `max_connections`) indefinitely.
#[test]
fn empty_lines_do_not_hold_a_connection_open() {
    let server = start_with(|c| {
        c.limits.idle_timeout = Duration::from_millis(400);
        c.limits.header_timeout = Duration::from_millis(400);
    });
    let addr = server.local_addr();
    let mut c = Conn::connect(addr);
    assert_eq!(c.get("/v1/status").0.status, 200);
    let stop = Arc::new(AtomicBool::new(false));
    let mut s = c.stream.try_clone().unwrap();
    let t = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            for _ in 0..20 {
                if stop.load(Ordering::Relaxed) || s.write_all(b"\r\n").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let start = Instant::now();
    let got = c.drain(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    t.join().unwrap();
    assert!(
        got.closed && start.elapsed() < Duration::from_millis(1500),
        "a client sending CRLF every 200 ms kept the connection open for {:?} \
         (idle and header timeouts 400 ms); closed: {}",
        got.elapsed,
        got.closed
    );
}

/// The idle timeout does not cut a request whose head is arriving (the header timeout governs).
#[test]
fn header_timeout_not_idle_timeout_governs_a_started_head() {
    let server = start_with(|c| {
        c.limits.idle_timeout = Duration::from_millis(300);
        c.limits.header_timeout = Duration::from_secs(2);
    });
    let addr = server.local_addr();
    let mut c = Conn::connect(addr);
    let stop = Arc::new(AtomicBool::new(false));
    let head = b"GET /v1/status HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".to_vec();
    // 55 bytes at 20 ms: about 1.1 s, longer than the idle timeout, within the header timeout.
    let t = dribble(
        c.stream.try_clone().unwrap(),
        head,
        Duration::from_millis(20),
        Arc::clone(&stop),
    );
    let got = c.drain(Duration::from_secs(5));
    t.join().unwrap();
    assert_closed_with(
        &got,
        200,
        Duration::from_millis(900),
        Duration::from_secs(3),
        "dribbled head",
    );
}
