//! Cost of reading request heads: finding the end of a head, parsing it with the framing and
//! credential rules, and routing it. Inputs are shaped after real clients (wrk, curl, a browser)
//! and a 16-request pipeline as a load generator sends it.
//!
//! Run: `cargo bench --bench parse`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mockd::http::parse::{HeadLimits, find_head_end, parse_head};
use mockd::mock::id::MockId;
use mockd::router::{self, Method, Route, Target};

/// The server's default limits (`Limits::default()`).
const LIMITS: HeadLimits = HeadLimits {
    max_head_bytes: 16 * 1024,
    max_target_bytes: 8 * 1024,
};

/// Requests answered per pipeline batch in the pipelined case.
const PIPELINE_DEPTH: usize = 16;

fn mock_id() -> MockId {
    MockId::from_u128(0x7d1c_2b4e_9f00_a1b2_c3d4_e5f6_0718_293a)
}

/// What `wrk -c.. http://127.0.0.1:8080/v1/mock/<id>` sends.
fn wrk_request(id: &str) -> Vec<u8> {
    format!("GET /v1/mock/{id} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n").into_bytes()
}

/// What `curl -H 'X-API-Key: ..' http://localhost:8080/v1/mock/<id>` sends.
fn curl_request(id: &str) -> Vec<u8> {
    format!(
        "GET /v1/mock/{id} HTTP/1.1\r\n\
         Host: localhost:8080\r\n\
         User-Agent: curl/8.5.0\r\n\
         Accept: */*\r\n\
         X-API-Key: tk_Zx8Kq2mN4pR7sT1vWy3Ab5Cd6Ef7Gh8\r\n\
         \r\n"
    )
    .into_bytes()
}

/// A navigation from a Chromium-based browser: 12 header fields.
fn browser_request(id: &str) -> Vec<u8> {
    format!(
        "GET /v1/mock/{id} HTTP/1.1\r\n\
         Host: localhost:8080\r\n\
         Connection: keep-alive\r\n\
         sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n\
         sec-ch-ua-mobile: ?0\r\n\
         sec-ch-ua-platform: \"Linux\"\r\n\
         User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
         Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n\
         Sec-Fetch-Site: none\r\n\
         Sec-Fetch-Mode: navigate\r\n\
         Sec-Fetch-Dest: document\r\n\
         Accept-Encoding: gzip, deflate, br, zstd\r\n\
         Accept-Language: en-US,en;q=0.9\r\n\
         \r\n"
    )
    .into_bytes()
}

/// Finds and parses one head at the start of `buf`, as the connection loop does.
#[inline]
fn parse_one(buf: &[u8]) -> Route {
    let mut scanned = 0;
    let len = find_head_end(buf, &mut scanned, &LIMITS)
        .unwrap()
        .expect("complete head");
    parse_head(buf, len, &LIMITS).unwrap().route
}

/// Parses every head in a pipelined buffer; returns how many were served routes.
#[inline]
fn parse_pipeline(buf: &[u8]) -> usize {
    let mut at = 0;
    let mut served = 0;
    while at < buf.len() {
        let rest = &buf[at..];
        let mut scanned = 0;
        let len = find_head_end(rest, &mut scanned, &LIMITS)
            .unwrap()
            .expect("complete head");
        let head = parse_head(rest, len, &LIMITS).unwrap();
        served += usize::from(matches!(head.route, Route::Serve { .. }));
        at += head.head_len;
    }
    served
}

fn bench_parse(c: &mut Criterion) {
    let id = mock_id();
    let text = id.to_text();
    let expected = Route::Serve {
        target: Target::Id(id),
        head_only: false,
    };
    let wrk = wrk_request(&text);
    let curl = curl_request(&text);
    let browser = browser_request(&text);
    let pipeline = wrk.repeat(PIPELINE_DEPTH);

    // Sanity checks outside the timed loops.
    for raw in [&wrk, &curl, &browser] {
        assert_eq!(parse_one(raw), expected);
    }
    assert_eq!(parse_pipeline(&pipeline), PIPELINE_DEPTH);

    let mut group = c.benchmark_group("parse");
    for (name, raw) in [
        ("wrk_get", &wrk),
        ("curl_get", &curl),
        ("browser_get", &browser),
    ] {
        group.throughput(Throughput::Bytes(raw.len() as u64));
        group.bench_function(name, |b| b.iter(|| parse_one(black_box(raw))));
    }
    group.throughput(Throughput::Bytes(pipeline.len() as u64));
    group.bench_function("pipeline_16_wrk_get", |b| {
        b.iter(|| parse_pipeline(black_box(&pipeline)))
    });
    group.finish();
}

fn bench_route(c: &mut Criterion) {
    let id = mock_id();
    let text = id.to_text();
    let serve_path = format!("/v1/mock/{text}");
    let control_path = format!("/v1/mocks/{text}");
    assert_eq!(
        router::route(Method::Get, serve_path.as_bytes(), b""),
        Route::Serve {
            target: Target::Id(id),
            head_only: false
        }
    );
    assert_eq!(
        router::route(Method::Get, control_path.as_bytes(), b""),
        Route::Get(Target::Id(id))
    );

    let mut group = c.benchmark_group("route");
    group.throughput(Throughput::Elements(1));
    group.bench_function("serve", |b| {
        b.iter(|| {
            router::route(
                black_box(Method::Get),
                black_box(serve_path.as_bytes()),
                b"",
            )
        })
    });
    group.bench_function("control_get_mock", |b| {
        b.iter(|| {
            router::route(
                black_box(Method::Get),
                black_box(control_path.as_bytes()),
                b"",
            )
        })
    });
    group.bench_function("control_status", |b| {
        b.iter(|| router::route(black_box(Method::Get), black_box(b"/v1/status"), b""))
    });
    group.finish();
}

criterion_group!(benches, bench_parse, bench_route);
criterion_main!(benches);
