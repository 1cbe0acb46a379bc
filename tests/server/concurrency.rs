//! Many clients at once across workers: exact hit counts, unique ids, and exactly-once deletes.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use serde_json::json;

use crate::support::*;

/// 8 threads × 500 keep-alive hits over 2 workers give hit_count exactly 4000.
#[test]
fn hit_count_is_exact_under_concurrency() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "count me"}));
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let id = id.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                barrier.wait();
                let path = format!("/v1/mock/{id}");
                for _ in 0..500 {
                    let r = c.get(&path);
                    assert_eq!(r.status, 200);
                    assert_eq!(r.body, b"count me");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(hit_count(addr, &id), 4000);
}

/// Pipelined bursts from several connections at once are all counted, once each.
#[test]
fn pipelined_hits_are_counted_exactly() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "p"}));
    let request = request_bytes("GET", &format!("/v1/mock/{id}"), &[], None);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let burst = request.repeat(250);
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                c.send(&burst);
                for _ in 0..250 {
                    assert_eq!(c.read_response().body, b"p");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(hit_count(addr, &id), 1000);
}

/// Concurrent hits on different mocks are counted per mock, exactly.
#[test]
fn hit_counts_stay_per_mock() {
    let server = start();
    let addr = server.local_addr();
    let ids: Vec<String> = (0..4)
        .map(|i| create_id(addr, &json!({ "body": format!("{i}") })))
        .collect();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let ids = ids.clone();
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                for n in 0..200 {
                    // Each thread rotates over the four mocks: 50 hits on each.
                    let k = (t + n) % 4;
                    let r = c.get(&format!("/v1/mock/{}", ids[k]));
                    assert_eq!(r.text(), format!("{k}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let total: u64 = ids.iter().map(|id| hit_count(addr, id)).sum();
    assert_eq!(total, 800);
    for id in &ids {
        assert_eq!(hit_count(addr, id), 200);
    }
}

/// Concurrent creates from both keys all succeed with distinct ids.
#[test]
fn concurrent_creates_get_unique_ids() {
    let server = start();
    let addr = server.local_addr();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            thread::spawn(move || {
                let key = if t % 2 == 0 { K1 } else { K2 };
                let mut c = Client::connect(addr);
                (0..50)
                    .map(|_| {
                        let r = c.request("POST", "/v1/mocks", &[("X-API-Key", key)], Some(b"{}"));
                        assert_eq!(r.status, 201);
                        r.mock()["mock_id"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in threads {
        for id in t.join().unwrap() {
            assert!(ids.insert(id), "duplicate id");
        }
    }
    assert_eq!(ids.len(), 400);
    assert_eq!(server.store().totals().live, 400);
    assert_eq!(status(addr)["live_mocks"], json!(400));
}

/// Many simultaneous deletes of one mock: exactly one gets 200, the rest 404.
#[test]
fn concurrent_deletes_succeed_exactly_once() {
    let server = start();
    let addr = server.local_addr();
    for _ in 0..5 {
        let id = create_id(addr, &json!({}));
        let barrier = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let id = id.clone();
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    let mut c = Client::connect(addr);
                    barrier.wait();
                    c.request(
                        "DELETE",
                        &format!("/v1/mocks/{id}"),
                        &[("X-API-Key", K1)],
                        None,
                    )
                    .status
                })
            })
            .collect();
        let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|&&s| s == 404).count(),
            7,
            "{statuses:?}"
        );
    }
    let t = server.store().totals();
    assert_eq!((t.live, t.deleted), (0, 5));
}

/// Hits racing a delete get a full 200 or a 404, and only 404 once the delete returned.
#[test]
fn hits_racing_a_delete_are_clean() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "racing"}));
    let barrier = Arc::new(Barrier::new(5));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let id = id.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                barrier.wait();
                let mut ok = 0u64;
                for _ in 0..300 {
                    let r = c.get(&format!("/v1/mock/{id}"));
                    match r.status {
                        200 => {
                            assert_eq!(r.body, b"racing");
                            ok += 1;
                        }
                        404 => assert_eq!(r.detail(), "mock not found"),
                        s => panic!("unexpected {s}"),
                    }
                }
                ok
            })
        })
        .collect();
    barrier.wait();
    assert_eq!(delete_mock(addr, K1, &id).status, 200);
    assert_eq!(hit(addr, &id).status, 404);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(hit(addr, &id).status, 404);
}
