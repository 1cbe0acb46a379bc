//! Cost of creating a mock on the control path: validating a realistic `POST /v1/mocks` body
//! and rendering the response bytes the mock will serve.
//!
//! Run: `cargo bench --bench create`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mockd::api::{CreateLimits, parse_create, render_response};

/// A typical definition: name, 202, two custom headers and a 200-byte JSON body.
fn request_body() -> Vec<u8> {
    // 200 bytes of JSON payload, embedded as a JSON string (quotes escaped).
    let payload = format!(
        "{{\"order_id\":\"ord_8f14e45fceea167a5a36dedd4bea2543\",\"status\":\"queued\",\
         \"items\":[{{\"sku\":\"A-1001\",\"qty\":2}},{{\"sku\":\"B-2002\",\"qty\":1}}],\
         \"total\":{{\"amount\":4999,\"currency\":\"EUR\"}},\"note\":\"{}\"}}",
        "x".repeat(20)
    );
    assert_eq!(payload.len(), 200, "payload is {} bytes", payload.len());
    let escaped = serde_json::to_string(&payload).unwrap();
    format!(
        r#"{{
  "name": "orders-accepted",
  "status_code": 202,
  "headers": {{"X-Request-Id": "req-7d1c2b", "Cache-Control": "no-store"}},
  "body": {escaped},
  "content_type": "application/json",
  "delay_ms": 0,
  "ttl_seconds": 3600
}}"#
    )
    .into_bytes()
}

fn bench_create(c: &mut Criterion) {
    let body = request_body();
    let limits = CreateLimits::default();
    // Sanity check outside the timed loop.
    let spec = parse_create(&body, &limits).expect("benchmark body is valid");
    assert_eq!(spec.status_code, 202);
    assert_eq!(spec.headers.len(), 2);
    assert_eq!(spec.body.len(), 200);

    let mut group = c.benchmark_group("create");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_create+render_response", |b| {
        b.iter(|| {
            let spec = parse_create(black_box(&body), &limits).unwrap();
            render_response(&spec, black_box("Zx8Kq2mN4pR7sT1v"))
        })
    });
    group.bench_function("parse_create", |b| {
        b.iter(|| parse_create(black_box(&body), &limits).unwrap())
    });
    group.bench_function("render_response", |b| {
        b.iter(|| render_response(black_box(&spec), black_box("Zx8Kq2mN4pR7sT1v")))
    });
    group.finish();
}

criterion_group!(benches, bench_create);
criterion_main!(benches);
