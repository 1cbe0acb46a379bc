//! Delayed mocks: never answered early, order kept on pipelined connections, many at once, and
//! finished during a graceful shutdown.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

/// A 200 ms mock answers no earlier than 200 ms after the request (sanity bound: < 2 s).
#[test]
fn delayed_mock_is_not_answered_early() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"delay_ms": 200, "body": "late"}));
    let mut c = Client::connect(addr);
    for _ in 0..5 {
        let t0 = Instant::now();
        let r = c.get(&format!("/v1/mock/{id}"));
        let took = t0.elapsed();
        assert_eq!(r.body, b"late");
        assert!(
            took >= Duration::from_millis(200),
            "answered after {took:?}"
        );
        assert!(took < Duration::from_secs(2), "answered after {took:?}");
    }
}

/// On a worker kept busy by other traffic, a 10 ms mock never answers in under 10 ms.
#[test]
fn delays_are_not_cut_short_on_a_busy_worker() {
    let server = start_with(|c| c.workers = 1);
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"delay_ms": 10}));
    let stop = Arc::new(AtomicBool::new(false));
    let background = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut c = Client::connect(addr);
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(c.get("/v1/status").status, 200);
            }
        })
    };
    let mut c = Client::connect(addr);
    let mut early = Vec::new();
    for _ in 0..100 {
        let t0 = Instant::now();
        assert_eq!(c.get(&format!("/v1/mock/{id}")).status, 200);
        let took = t0.elapsed();
        if took < Duration::from_millis(10) {
            early.push(took);
        }
    }
    stop.store(true, Ordering::Relaxed);
    background.join().unwrap();
    assert!(
        early.is_empty(),
        "{} of 100 answers to a 10 ms mock came early: {early:?}",
        early.len()
    );
}

/// Delays around the timer wheel's level boundaries (64 ms, 4096 ms) are never cut short.
#[test]
fn delays_across_timer_wheel_levels() {
    let server = start();
    let addr = server.local_addr();
    let delays = [1u64, 2, 63, 64, 65, 127, 128, 129, 1000, 4095, 4096, 4097];
    let ids: Vec<String> = delays
        .iter()
        .map(|d| create_id(addr, &json!({ "delay_ms": d, "body": d.to_string() })))
        .collect();
    let barrier = Arc::new(Barrier::new(delays.len()));
    let threads: Vec<_> = delays
        .iter()
        .zip(ids)
        .map(|(&delay, id)| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                barrier.wait();
                let t0 = Instant::now();
                let r = c.get(&format!("/v1/mock/{id}"));
                let took = t0.elapsed();
                assert_eq!(r.text(), delay.to_string());
                assert!(
                    took >= Duration::from_millis(delay),
                    "{delay} ms mock answered after {took:?}"
                );
                assert!(
                    took < Duration::from_millis(delay + 2000),
                    "{delay} ms mock answered after {took:?}"
                );
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Pipelined requests with decreasing delays are answered in request order.
#[test]
fn pipelined_decreasing_delays_keep_order() {
    let server = start();
    let addr = server.local_addr();
    let delays = [700u64, 300, 65, 0, 5];
    let mut bytes = Vec::new();
    for d in delays {
        let id = create_id(addr, &json!({ "delay_ms": d, "body": d.to_string() }));
        bytes.extend(request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    }
    let mut c = Client::connect(addr);
    let t0 = Instant::now();
    c.send(&bytes);
    for d in delays {
        let r = c.read_response();
        assert_eq!(r.text(), d.to_string());
        // Everything waits at least for the first (longest) delay.
        assert!(t0.elapsed() >= Duration::from_millis(700));
    }
    assert!(t0.elapsed() < Duration::from_secs(3));
}

/// HEAD on a delayed mock is delayed too.
#[test]
fn head_is_delayed_too() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"delay_ms": 150, "body": "x"}));
    let mut c = Client::connect(addr);
    let t0 = Instant::now();
    let r = c.request("HEAD", &format!("/v1/mock/{id}"), &[], None);
    assert_eq!((r.status, r.content_length()), (200, Some(1)));
    assert!(t0.elapsed() >= Duration::from_millis(150));
}

/// Pipelined delayed and undelayed requests are answered in request order.
#[test]
fn pipelined_delayed_and_fast_stay_in_order() {
    let server = start();
    let addr = server.local_addr();
    let slow = create_id(addr, &json!({"delay_ms": 300, "body": "slow"}));
    let fast = create_id(addr, &json!({"body": "fast"}));
    for order in [["slow", "fast", "fast"], ["fast", "slow", "fast"]] {
        let mut bytes = Vec::new();
        for which in order {
            let id = if which == "slow" { &slow } else { &fast };
            bytes.extend(request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
        }
        let mut c = Client::connect(addr);
        let t0 = Instant::now();
        c.send(&bytes);
        let mut seen_slow = false;
        for which in order {
            let r = c.read_response();
            assert_eq!(r.text(), which, "order {order:?}");
            if which == "slow" {
                seen_slow = true;
            }
            if seen_slow {
                assert!(t0.elapsed() >= Duration::from_millis(300));
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(3));
    }
}

/// Two pipelined delays run concurrently, not back to back, and keep their order.
#[test]
fn pipelined_delays_overlap() {
    let server = start();
    let addr = server.local_addr();
    let a = create_id(addr, &json!({"delay_ms": 400, "body": "a"}));
    let b = create_id(addr, &json!({"delay_ms": 100, "body": "b"}));
    let mut bytes = request_bytes("GET", &format!("/v1/mock/{a}"), &[], None);
    bytes.extend(request_bytes("GET", &format!("/v1/mock/{b}"), &[], None));
    let mut c = Client::connect(addr);
    let t0 = Instant::now();
    c.send(&bytes);
    assert_eq!(c.read_response().body, b"a");
    assert!(t0.elapsed() >= Duration::from_millis(400));
    assert_eq!(c.read_response().body, b"b");
    // Sequential delays would need 500 ms; overlapping ones finish with the longer one.
    assert!(t0.elapsed() < Duration::from_secs(3));
}

/// 100 concurrent requests to a 300 ms mock all complete, their delays side by side.
#[test]
fn many_concurrent_delayed_requests_complete() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"delay_ms": 300, "body": "together"}));
    let barrier = Arc::new(Barrier::new(100));
    let t0 = Instant::now();
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let id = id.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                barrier.wait();
                let t = Instant::now();
                let r = c.get(&format!("/v1/mock/{id}"));
                assert_eq!(r.body, b"together");
                assert!(t.elapsed() >= Duration::from_millis(300));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert_eq!(hit_count(addr, &id), 100);
}

/// A delay longer than the idle timeout does not get the connection closed under the client.
#[test]
fn delay_longer_than_idle_timeout_still_answers() {
    let server = start_with(|c| c.limits.idle_timeout = Duration::from_millis(200));
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"delay_ms": 600, "body": "patience"}));
    let mut c = Client::connect(addr);
    let r = c.get(&format!("/v1/mock/{id}"));
    assert_eq!(r.body, b"patience");
}

/// A delayed hit is counted when the request is received, before the response goes out.
#[test]
fn delayed_hit_is_counted_on_receipt() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"delay_ms": 2000}));
    let mut c = Client::connect(addr);
    c.send(&request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    wait_for_hits(addr, &id, 1);
    assert_eq!(c.read_response().status, 200);
    assert_eq!(hit_count(addr, &id), 1);
}

/// Polls the control API until the mock has `n` hits (the server has received the request).
pub fn wait_for_hits(addr: std::net::SocketAddr, id: &str, n: u64) {
    let deadline = Instant::now() + IO_TIMEOUT;
    while hit_count(addr, id) < n {
        assert!(
            Instant::now() < deadline,
            "the request never reached the server"
        );
        thread::yield_now();
    }
}

/// A graceful shutdown lets an in-flight delayed response finish in full, then stops accepting.
#[test]
fn shutdown_lets_delayed_response_finish() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"delay_ms": 800, "body": "finished"}));
    let mut c = Client::connect(addr);
    let t0 = Instant::now();
    c.send(&request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    wait_for_hits(addr, &id, 1);
    server.shutdown();
    let r = c.read_response();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"finished"[..]));
    assert!(t0.elapsed() >= Duration::from_millis(800));
    // The connection ends after the exchange, and the server stops for good.
    c.expect_eof();
    server.join();
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after join"
    );
}

/// Shutdown with a request pipelined behind a delayed one still delivers the delayed response.
#[test]
fn shutdown_with_a_request_pipelined_behind_a_delayed_one() {
    // The delayed request arrived before the shutdown: its response is owed in full.
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"delay_ms": 300, "body": "in flight"}));
    let mut c = Client::connect(addr);
    c.send(&request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    wait_for_hits(addr, &id, 1);
    server.shutdown();
    c.send(&request_bytes("GET", "/v1/status", &[], None));
    let r = c.read_response();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"in flight"[..]));
    // Whatever follows (a `Connection: close` answer or nothing) must end in a clean close.
    let rest = c.read_to_eof();
    if !rest.is_empty() {
        assert!(
            rest.starts_with(b"HTTP/1.1 "),
            "{:?}",
            String::from_utf8_lossy(&rest)
        );
    }
    server.join();
}
