//! Mock lifetimes under a manual clock: a mock serves until exactly `expires_at`, then is gone
//! everywhere; purging reclaims it; longer-lived mocks stay.

use serde_json::json;

use crate::support::*;

/// created_at is the clock's now and expires_at is created_at + ttl_seconds, to the millisecond.
#[test]
fn timestamps_follow_the_clock() {
    let server = start_manual();
    let addr = server.local_addr();
    let clock = server.store().clock().clone();
    clock.advance(1234);
    let now = clock.now_ms();
    let m = create(addr, K1, &json!({"ttl_seconds": 90})).mock();
    assert_eq!(iso_to_ms(m["created_at"].as_str().unwrap()), now);
    assert_eq!(iso_to_ms(m["expires_at"].as_str().unwrap()), now + 90_000);
}

/// A mock serves until 1 ms before expires_at; at it serving, GET and DELETE give 404.
#[test]
fn mock_expires_exactly_at_expires_at() {
    let server = start_manual();
    let addr = server.local_addr();
    let clock = server.store().clock().clone();
    let id = create_id(addr, &json!({"ttl_seconds": 60, "body": "alive"}));
    clock.advance(59_999);
    assert_eq!(hit(addr, &id).body, b"alive");
    assert_eq!(get_mock(addr, K1, &id).status, 200);
    clock.advance(1);
    let r = hit(addr, &id);
    assert_eq!(r.status, 404);
    assert_eq!(r.detail(), "mock not found");
    assert_eq!(get_mock(addr, K1, &id).status, 404);
    assert_eq!(delete_mock(addr, K1, &id).status, 404);
}

/// Purging after expiry drops live counts and counts the mocks as expired.
#[test]
fn purge_reclaims_expired_mocks() {
    let server = start_manual();
    let addr = server.local_addr();
    let store = server.store();
    for _ in 0..3 {
        create_id(addr, &json!({"ttl_seconds": 60}));
    }
    let survivor = create_id(addr, &json!({"ttl_seconds": 600}));
    assert_eq!(store.totals().live, 4);
    store.clock().advance(61_000);
    // The reaper thread may purge concurrently; either way all three are gone afterwards.
    store.purge_expired();
    wait_for_live(&server, 1);
    let t = store.totals();
    assert_eq!(t.live, 1);
    assert_eq!(t.expired, 3);
    assert_eq!(t.deleted, 0);
    assert_eq!(status(addr)["live_mocks"], json!(1));
    assert_eq!(hit(addr, &survivor).status, 200);
    // Nothing more is due.
    assert_eq!(store.purge_expired(), 0);
    assert_eq!(store.totals().live, 1);
}

/// Waits (bounded) until the store reports `n` live mocks: the reaper thread may be finishing a
/// purge that raced the test's own `purge_expired` call.
fn wait_for_live(server: &mockd::Server, n: usize) {
    let deadline = std::time::Instant::now() + IO_TIMEOUT;
    while server.store().totals().live != n {
        assert!(
            std::time::Instant::now() < deadline,
            "live stayed {} (want {n})",
            server.store().totals().live
        );
        std::thread::yield_now();
    }
}

/// A mock with a longer TTL keeps serving after a shorter-lived one expired, until its own end.
#[test]
fn longer_ttl_outlives_shorter() {
    let server = start_manual();
    let addr = server.local_addr();
    let clock = server.store().clock().clone();
    let short = create_id(addr, &json!({"ttl_seconds": 60, "body": "short"}));
    let long = create_id(addr, &json!({"ttl_seconds": 3600, "body": "long"}));
    let max = create_id(addr, &json!({"ttl_seconds": 172_800, "body": "max"}));
    clock.advance(60_000);
    assert_eq!(hit(addr, &short).status, 404);
    assert_eq!(hit(addr, &long).body, b"long");
    assert_eq!(hit(addr, &max).body, b"max");
    server.store().purge_expired();
    wait_for_live(&server, 2);
    clock.advance(3_540_000);
    assert_eq!(hit(addr, &long).status, 404);
    assert_eq!(hit(addr, &max).body, b"max");
    clock.advance(172_800_000 - 3_600_000);
    assert_eq!(hit(addr, &max).status, 404);
    server.store().purge_expired();
    wait_for_live(&server, 0);
    assert_eq!(server.store().totals().expired, 3);
}

/// Expiry is seen at once on a keep-alive connection whose worker has the mock cached.
#[test]
fn expiry_applies_to_a_warm_connection() {
    let server = start_manual();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"ttl_seconds": 60, "body": "warm"}));
    let path = format!("/v1/mock/{id}");
    let mut c = Client::connect(addr);
    for _ in 0..3 {
        assert_eq!(c.get(&path).body, b"warm");
    }
    server.store().clock().advance(60_000);
    assert_eq!(c.get(&path).status, 404);
    let r = c.request("HEAD", &path, &[], None);
    assert_eq!(r.status, 404);
}

/// Expired mocks free their place under `max_mocks` once purged.
#[test]
fn purged_mocks_free_the_count_cap() {
    let server = start_with(|c| {
        c.clock = mockd::Clock::manual();
        c.limits.max_mocks = 2;
    });
    let addr = server.local_addr();
    create_id(addr, &json!({"ttl_seconds": 60}));
    create_id(addr, &json!({"ttl_seconds": 60}));
    assert_eq!(create(addr, K1, &json!({})).status, 507);
    server.store().clock().advance(60_000);
    server.store().purge_expired();
    wait_for_live(&server, 0);
    let id = create_id(addr, &json!({"body": "fresh"}));
    assert_eq!(hit(addr, &id).body, b"fresh");
}

/// An expired mock cannot be deleted (404) and does not count as deleted.
#[test]
fn deleting_an_expired_mock_is_404() {
    let server = start_manual();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"ttl_seconds": 60}));
    server.store().clock().advance(120_000);
    assert_eq!(delete_mock(addr, K1, &id).status, 404);
    assert_eq!(server.store().totals().deleted, 0);
}

/// A deleted mock is not purged again later: `expired` only counts mocks that actually expired.
#[test]
fn deleted_mock_is_not_counted_as_expired() {
    let server = start_manual();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"ttl_seconds": 60}));
    assert_eq!(delete_mock(addr, K1, &id).status, 200);
    server.store().clock().advance(61_000);
    server.store().purge_expired();
    let t = server.store().totals();
    assert_eq!((t.live, t.deleted, t.expired), (0, 1, 0));
}

/// Steps the manual clock through every distinct expiry of `mocks` (id, expires_at ms): one
/// millisecond before it the mock serves and purging reclaims nothing of it; at it the mock
/// is 404 and purging reclaims exactly the mocks due then.
fn step_through_expiries(server: &mockd::Server, mocks: &[(String, u64)]) {
    let addr = server.local_addr();
    let store = server.store();
    let clock = store.clock();
    let mut expiries: Vec<u64> = mocks.iter().map(|(_, e)| *e).collect();
    expiries.sort_unstable();
    expiries.dedup();
    for e in expiries {
        let due: Vec<&String> = mocks
            .iter()
            .filter(|(_, x)| *x == e)
            .map(|(id, _)| id)
            .collect();
        let later = mocks.iter().filter(|(_, x)| *x > e).count();
        clock.advance(e - 1 - clock.now_ms());
        assert_eq!(store.purge_expired(), 0, "purged early at {e} - 1 ms");
        assert_eq!(store.totals().live, due.len() + later);
        for id in &due {
            assert_eq!(hit(addr, id).status, 200, "expired early at {e} - 1 ms");
        }
        clock.advance(1);
        for id in &due {
            assert_eq!(hit(addr, id).status, 404, "still serving at expires_at {e}");
        }
        assert_eq!(store.purge_expired(), due.len(), "purge at {e}");
        assert_eq!(store.totals().live, later, "live after purge at {e}");
    }
}

/// Creates one mock per TTL and returns (id, expires_at ms).
fn create_ttls(addr: std::net::SocketAddr, ttls: &[u64]) -> Vec<(String, u64)> {
    ttls.iter()
        .map(|ttl| {
            let m = create(addr, K1, &json!({ "ttl_seconds": ttl })).mock();
            let id = m["mock_id"].as_str().unwrap().to_string();
            (id, iso_to_ms(m["expires_at"].as_str().unwrap()))
        })
        .collect()
}

/// TTLs on every expiry-wheel level expire exactly on time and are purged exactly then.
#[test]
fn expiry_is_exact_across_wheel_levels() {
    let server = start_manual();
    // The reaper thread would purge concurrently with the test's own purge calls.
    server.store().stop_reaper();
    let ttls = [
        60, 61, 65, 68, 100, 263, 1000, 4096, 16_777, 16_778, 60_000, 172_800,
    ];
    let mocks = create_ttls(server.local_addr(), &ttls);
    step_through_expiries(&server, &mocks);
}

/// Expiry stays exact for TTLs straddling 2^24, 2^30 and 2^36 ms clock boundaries.
#[test]
fn expiry_is_exact_across_clock_boundaries() {
    let server = start_manual();
    server.store().stop_reaper();
    let addr = server.local_addr();
    let clock = server.store().clock().clone();
    for bits in [24u32, 30, 36] {
        let span = 1u64 << bits;
        // Move to 30 s before the next multiple of 2^bits.
        let now = clock.now_ms();
        let mut target = (now / span + 1) * span - 30_000;
        if target <= now {
            target += span;
        }
        clock.advance(target - now);
        let mocks = create_ttls(addr, &[60, 61, 3_600, 172_800]);
        step_through_expiries(&server, &mocks);
        assert_eq!(server.store().totals().live, 0, "2^{bits}");
    }
}
