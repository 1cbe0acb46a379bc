//! Resource limits: the connection cap, clients that pipeline without reading, and clients that
//! stop reading a large response. Each limit is configured small so the tests run fast.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::client::*;

/// A connection whose receive buffer is tiny, so a client that never reads stops the server's
/// writes quickly.
fn connect_small_rcvbuf(addr: SocketAddr) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.connect(&addr.into()).unwrap();
    let s: TcpStream = s.into();
    s.set_nodelay(true).unwrap();
    s.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// Largest send buffer the kernel may give a socket (`tcp_wmem` max), for bounds.
fn tcp_wmem_max() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20)
}

/// Over `max_connections`, a new connection gets the 503 shed response and is closed, while the
/// connections already open keep being served; once one closes, new ones are served again.
#[test]
fn connection_cap_sheds_503_and_keeps_serving() {
    let server = start_with(|c| c.limits.max_connections = 4);
    let addr = server.local_addr();
    wait_open_at_most(&server, 0, IO_TIMEOUT).expect("setup connections closed");
    let mut open: Vec<Conn> = (0..4).map(|_| Conn::connect(addr)).collect();
    for c in &mut open {
        assert_eq!(c.get("/v1/status").0.status, 200);
    }
    // A connection that only reads.
    let mut extra = Conn::connect(addr);
    let got = extra.drain(Duration::from_secs(3));
    assert!(got.closed, "shed connection not closed");
    let (rs, used) = split_responses(&got.bytes, &[]).unwrap();
    assert_eq!((rs.len(), used), (1, got.bytes.len()), "{:?}", got.text());
    assert_eq!(rs[0].status, 503, "{}", rs[0].text());
    assert!(rs[0].closes());
    assert!(rs[0].header("retry-after").is_some());
    // The open ones are unaffected.
    for c in &mut open {
        let (r, took) = c.get("/v1/status");
        assert_eq!(r.status, 200);
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
    // Capacity comes back when one closes.
    drop(open.pop());
    wait_open_at_most(&server, 3, IO_TIMEOUT).expect("closed connection counted out");
    let mut again = Conn::connect(addr);
    assert_eq!(again.get("/v1/status").0.status, 200);
    // The scrape needs a connection of its own: make room for it first.
    drop(again);
    wait_open_at_most(&server, 3, IO_TIMEOUT).expect("closed connection counted out");
    let m = metrics(addr);
    assert!(
        metric(&m, "mockd_connections_shed_total").unwrap() >= 1.0,
        "{m}"
    );
}

/// A shed client that sent its request before reading still receives the 503, not a reset
/// (the server drops a shed socket with the request unread).
#[test]
fn shed_503_survives_a_request_sent_first() {
    let server = start_with(|c| c.limits.max_connections = 1);
    let addr = server.local_addr();
    wait_open_at_most(&server, 0, IO_TIMEOUT).expect("setup connections closed");
    let mut holder = Conn::connect(addr);
    assert_eq!(holder.get("/v1/status").0.status, 200);
    let mut resets = 0;
    for _ in 0..10 {
        let mut c = Conn::connect(addr);
        c.send_lenient(b"GET /v1/status HTTP/1.1\r\nHost: h\r\n\r\n");
        std::thread::sleep(Duration::from_millis(50));
        let got = c.drain(Duration::from_secs(3));
        assert!(got.closed);
        // Only the status line is checked here (the body's framing has its own test).
        if !got.bytes.starts_with(b"HTTP/1.1 503 ") || got.reset {
            resets += 1;
        }
    }
    assert_eq!(
        resets, 0,
        "{resets} of 10 shed clients that wrote first lost the 503 to a reset"
    );
}

/// A client that pipelines thousands of requests and never reads: the server stops reading once
/// `max_output_bytes` of responses are unsent, drops the connection after the write timeout, and
/// serves others all the while. Bounded memory shows as a bounded number of requests processed.
#[test]
fn pipelined_flood_that_never_reads_is_bounded_and_dropped() {
    let max_output = 64 * 1024;
    let server = start_with(|c| {
        c.limits.max_output_bytes = max_output;
        c.limits.write_timeout = Duration::from_millis(800);
    });
    let addr = server.local_addr();
    let id = create(addr, &format!(r#"{{"body": "{}"}}"#, "r".repeat(1000)));
    let other = create(addr, r#"{"body": "quick"}"#);
    wait_open_at_most(&server, 0, IO_TIMEOUT).expect("setup connections closed");

    let flood = connect_small_rcvbuf(addr);
    let one = format!("GET /v1/mock/{id} HTTP/1.1\r\nHost: h\r\n\r\n");
    let block = one.repeat(100);
    let sent = Arc::new(AtomicUsize::new(0));
    let writer = {
        let sent = Arc::clone(&sent);
        let mut flood = flood.try_clone().unwrap();
        std::thread::spawn(move || {
            let start = Instant::now();
            // At most 50,000 requests or 6 s; stops at the first write error or stall.
            for _ in 0..500 {
                if start.elapsed() > Duration::from_secs(6)
                    || flood.write_all(block.as_bytes()).is_err()
                {
                    break;
                }
                sent.fetch_add(100, Ordering::Relaxed);
            }
        })
    };
    // Meanwhile another client is served quickly.
    let t = Instant::now();
    let mut c = Conn::connect(addr);
    let mut worst = Duration::ZERO;
    for _ in 0..50 {
        let (r, took) = c.get(&format!("/v1/mock/{other}"));
        assert_eq!(r.body, b"quick");
        worst = worst.max(took);
    }
    assert!(
        worst < Duration::from_secs(1),
        "slowest answer during the flood: {worst:?}"
    );
    // The flood connection is dropped after the write timeout (only `c` stays open).
    let dropped = wait_open_at_most(&server, 1, Duration::from_secs(8));
    writer.join().unwrap();
    assert!(
        dropped.is_some(),
        "the non-reading connection was not dropped within 8 s (open: {})",
        open_connections(&server)
    );
    let took = t.elapsed();
    let sent = sent.load(Ordering::Relaxed);
    let served = hit_count(addr, &id) as usize;
    let response_len = 1000 + 150;
    let bound = (max_output + tcp_wmem_max() + (1 << 20)) / response_len + 256;
    eprintln!(
        "flood: {sent} requests written, {served} processed (bound {bound}), dropped after {took:?}"
    );
    assert!(served < sent, "all {sent} requests were processed");
    assert!(
        served <= bound,
        "{served} requests processed, more than the bound {bound}"
    );
    drop(flood);
}

/// A client that stops reading a large (1 MiB) response is dropped after the write timeout, while
/// a second client gets fast answers during the stall.
#[test]
fn stalled_reader_of_large_responses_is_dropped_after_write_timeout() {
    let write_timeout = Duration::from_millis(1000);
    let server = start_with(|c| c.limits.write_timeout = write_timeout);
    let addr = server.local_addr();
    let big = create(addr, &format!(r#"{{"body": "{}"}}"#, "B".repeat(1 << 20)));
    let small = create(addr, r#"{"body": "small"}"#);
    wait_open_at_most(&server, 0, IO_TIMEOUT).expect("setup connections closed");

    let mut stalled = connect_small_rcvbuf(addr);
    stalled.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let req = format!("GET /v1/mock/{big} HTTP/1.1\r\nHost: h\r\n\r\n").repeat(32);
    stalled.write_all(req.as_bytes()).unwrap();
    let t = Instant::now();

    let mut c = Conn::connect(addr);
    let mut worst = Duration::ZERO;
    let mut during = 0;
    while t.elapsed() < write_timeout / 2 && during < 200 {
        let (r, took) = c.get(&format!("/v1/mock/{small}"));
        assert_eq!(r.body, b"small");
        worst = worst.max(took);
        during += 1;
    }
    assert!(
        open_connections(&server) >= 2,
        "the stalled connection ended too early"
    );
    assert!(
        worst < Duration::from_secs(1),
        "slowest answer during the stall: {worst:?}"
    );
    let dropped = wait_open_at_most(&server, 1, Duration::from_secs(10));
    let took = t.elapsed();
    assert!(dropped.is_some(), "stalled reader not dropped within 10 s");
    eprintln!(
        "stalled reader dropped after {took:?}; {during} fast answers meanwhile, worst {worst:?}"
    );
    assert!(
        took >= write_timeout,
        "dropped after {took:?}, before the write timeout"
    );
    drop(stalled);
}
