//! Cost of writing responses: a mock's pre-rendered response (small and 4 KiB bodies), a
//! server-made JSON error, and keeping the cached `Date` line current.
//!
//! Run: `cargo bench --bench encode`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mockd::api::{ApiError, CreateLimits, Rendered, parse_create, reason_phrase, render_response};
use mockd::http::date::DateCache;
use mockd::http::encode::{Connection, Simple, write_mock, write_simple};
use mockd::mock::id::MockId;

/// 2026-01-01T00:00:00.250Z: a fixed instant, a quarter of a second into its second.
const NOW_MS: u64 = 1_767_225_600_250;

/// Renders a mock the way a create does: validate the definition, then render its response.
fn rendered(definition: &str) -> Rendered {
    let spec = parse_create(definition.as_bytes(), &CreateLimits::default())
        .expect("valid mock definition");
    let id = MockId::from_u128(0x7d1c_2b4e_9f00_a1b2_c3d4_e5f6_0718_293a);
    render_response(&spec, &id.to_text())
}

fn bench_write_mock(c: &mut Criterion) {
    let date = DateCache::new(NOW_MS);
    let small = rendered(
        r#"{"status_code": 202, "content_type": "application/json", "body": "{\"id\":1,\"ok\":true}"}"#,
    );
    assert_eq!(small.body.len(), 18);
    let large_body = "x".repeat(4096);
    let large = rendered(&format!(
        r#"{{"status_code": 200, "content_type": "text/plain", "body": "{large_body}"}}"#
    ));
    assert_eq!(large.body.len(), 4096);

    let mut group = c.benchmark_group("write_mock");
    let mut out = Vec::with_capacity(8 * 1024);
    for (name, r) in [("202_body_18B", &small), ("200_body_4KiB", &large)] {
        out.clear();
        write_mock(&mut out, &r.head, &r.body, date.line(), Connection::Default);
        group.throughput(Throughput::Bytes(out.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                write_mock(
                    &mut out,
                    black_box(&r.head),
                    black_box(&r.body),
                    black_box(date.line()),
                    black_box(Connection::Default),
                );
                black_box(out.len())
            })
        });
    }
    group.finish();
}

fn bench_write_simple(c: &mut Criterion) {
    let date = DateCache::new(NOW_MS);
    let body = ApiError::new(404, "mock not found").to_json();
    let not_found = Simple {
        status: 404,
        reason: reason_phrase(404),
        content_type: "application/json",
        body: &body,
        headers: &[],
    };
    let mut out = Vec::with_capacity(1024);
    write_simple(
        &mut out,
        &not_found,
        date.line(),
        Connection::Default,
        false,
    );
    assert!(out.starts_with(b"HTTP/1.1 404 Not Found\r\n"));

    let mut group = c.benchmark_group("write_simple");
    group.throughput(Throughput::Bytes(out.len() as u64));
    group.bench_function("404_json_error", |b| {
        b.iter(|| {
            out.clear();
            write_simple(
                &mut out,
                black_box(&not_found),
                black_box(date.line()),
                black_box(Connection::Default),
                black_box(false),
            );
            black_box(out.len())
        })
    });
    group.finish();
}

fn bench_date(c: &mut Criterion) {
    let mut group = c.benchmark_group("date");
    group.throughput(Throughput::Elements(1));
    group.bench_function("update_same_second", |b| {
        let mut date = DateCache::new(NOW_MS);
        b.iter(|| {
            date.update(black_box(NOW_MS + 1));
            black_box(date.line()[35])
        })
    });
    // The once-a-second path, for scale: every call lands in a new second and re-renders.
    group.bench_function("update_new_second", |b| {
        let mut date = DateCache::new(NOW_MS);
        let mut now = NOW_MS;
        b.iter(|| {
            now += 1000;
            date.update(black_box(now));
            black_box(date.line()[35])
        })
    });
    group.finish();
}

criterion_group!(benches, bench_write_mock, bench_write_simple, bench_date);
criterion_main!(benches);
