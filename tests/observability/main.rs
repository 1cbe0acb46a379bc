//! Observability: `/metrics`, the per-key mock list, per-mock rates, and the dashboard page,
//! against an in-process server over real TCP.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

const K1: &str = "k1";
const K2: &str = "k2";

fn start(f: impl FnOnce(&mut mockd::Config)) -> mockd::Server {
    let mut config = mockd::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_keys: vec![K1.into(), K2.into()],
        workers: 2,
        clock: mockd::Clock::manual(),
        ..mockd::Config::default()
    };
    f(&mut config);
    mockd::Server::start(config).expect("server starts")
}

/// One request on a fresh connection (`Connection: close`); returns status, head and body.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let auth = key
        .map(|k| format!("X-API-Key: {k}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head")
        + 4;
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head, raw[split..].to_vec())
}

fn json(addr: SocketAddr, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, Value) {
    let (status, _, body) = request(addr, method, path, key, body);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn create(addr: SocketAddr, key: &str, body: &str) -> String {
    let (status, v) = json(addr, "POST", "/v1/mocks", Some(key), body);
    assert_eq!(status, 201, "{v}");
    v["mock"]["mock_id"].as_str().unwrap().to_string()
}

/// Parses the Prometheus text format strictly enough to catch malformed output: every sample
/// line is `name{labels} value` with a numeric value, and belongs to a family with HELP and TYPE.
fn scrape(addr: SocketAddr) -> (BTreeMap<String, f64>, BTreeMap<String, String>) {
    let (status, head, body) = request(addr, "GET", "/metrics", None, "");
    assert_eq!(status, 200);
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    let text = String::from_utf8(body).unwrap();
    let mut samples = BTreeMap::new();
    let mut types = BTreeMap::new();
    let mut helped = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().unwrap().to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            types.insert(name.to_string(), kind.to_string());
        } else {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad line {line:?}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}"));
            let name = series.split('{').next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
                })
                .unwrap_or(name);
            assert!(
                types.contains_key(family) && helped.contains(family),
                "{family} lacks HELP/TYPE"
            );
            if let Some(labels) = series.strip_prefix(name) {
                if !labels.is_empty() {
                    assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                }
            }
            samples.insert(series.to_string(), value);
        }
    }
    (samples, types)
}

/// Every metric family keeps its name and type, and no label or value ever carries a mock id.
#[test]
fn metrics_parse_with_stable_names_and_no_ids() {
    let server = start(|_| {});
    let addr = server.local_addr();
    let id = create(addr, K1, r#"{"name":"secret-name"}"#);
    request(addr, "GET", &format!("/v1/mock/{id}"), None, "");
    let (_, types) = scrape(addr);
    let expected = [
        ("mockd_serve_requests_total", "counter"),
        ("mockd_serve_unknown_total", "counter"),
        ("mockd_control_requests_total", "counter"),
        ("mockd_protocol_errors_total", "counter"),
        ("mockd_mocks_live", "gauge"),
        ("mockd_mocks_store_bytes", "gauge"),
        ("mockd_mocks_created_total", "counter"),
        ("mockd_mocks_deleted_total", "counter"),
        ("mockd_mocks_expired_total", "counter"),
        ("mockd_connections_open", "gauge"),
        ("mockd_connections_accepted_total", "counter"),
        ("mockd_connections_shed_total", "counter"),
        ("mockd_connection_panics_total", "counter"),
        ("mockd_response_bytes_total", "counter"),
        ("mockd_delayed_responses_pending", "gauge"),
        ("mockd_serve_duration_seconds", "histogram"),
        ("mockd_uptime_seconds", "gauge"),
        ("mockd_workers", "gauge"),
    ];
    for (name, kind) in expected {
        assert_eq!(types.get(name).map(String::as_str), Some(kind), "{name}");
    }
    let (_, _, raw) = request(addr, "GET", "/metrics", None, "");
    let text = String::from_utf8(raw).unwrap();
    assert!(!text.contains(&id) && !text.contains("secret-name"));
}

/// Counters are exact: N hits, M unknown ids, and the control requests each show up once.
#[test]
fn counters_are_exact_after_n_hits() {
    let server = start(|_| {});
    let addr = server.local_addr();
    let id = create(addr, K1, r#"{"status_code":202}"#);
    let gone = create(addr, K1, "{}");
    assert_eq!(
        json(addr, "DELETE", &format!("/v1/mocks/{gone}"), Some(K1), "").0,
        200
    );
    // Keep-alive connection, so both workers' counters and batching are exercised by two sockets.
    for round in 0..2 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut reqs = String::new();
        for _ in 0..25 {
            reqs.push_str(&format!(
                "POST /v1/mock/{id} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
            ));
        }
        reqs.push_str(&format!(
            "GET /v1/mock/{gone} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        ));
        s.write_all(reqs.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert_eq!(
            text.matches("HTTP/1.1 202 Accepted").count(),
            25,
            "round {round}"
        );
        assert_eq!(
            text.matches("HTTP/1.1 404 Not Found").count(),
            1,
            "round {round}"
        );
    }
    let (m, _) = scrape(addr);
    assert_eq!(
        m[r#"mockd_serve_requests_total{method="POST",class="2xx"}"#],
        50.0
    );
    assert_eq!(
        m[r#"mockd_serve_requests_total{method="GET",class="4xx"}"#],
        2.0
    );
    assert_eq!(m["mockd_serve_unknown_total"], 2.0);
    assert_eq!(
        m[r#"mockd_control_requests_total{route="create",status="201"}"#],
        2.0
    );
    assert_eq!(
        m[r#"mockd_control_requests_total{route="delete",status="200"}"#],
        1.0
    );
    assert_eq!(m["mockd_mocks_created_total"], 2.0);
    assert_eq!(m["mockd_mocks_deleted_total"], 1.0);
    assert_eq!(m["mockd_mocks_live"], 1.0);
    assert_eq!(m[r#"mockd_serve_duration_seconds_count"#], 52.0);
    assert_eq!(m[r#"mockd_serve_duration_seconds_bucket{le="+Inf"}"#], 52.0);
    let (_, v) = json(addr, "GET", &format!("/v1/mocks/{id}"), Some(K1), "");
    assert_eq!(v["mock"]["hit_count"], 50);
}

/// Protocol errors are counted by kind.
#[test]
fn protocol_errors_are_counted_by_kind() {
    let server = start(|_| {});
    let addr = server.local_addr();
    for raw in [
        "GET / HTTP/1.1\r\nHost: t\nX: y\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
    ] {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        assert!(
            out.starts_with(b"HTTP/1.1 400 "),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
    let (m, _) = scrape(addr);
    assert_eq!(m[r#"mockd_protocol_errors_total{kind="bad_request"}"#], 2.0);
}

/// `--metrics-require-key` puts /metrics behind the API key.
#[test]
fn metrics_can_require_a_key() {
    let server = start(|c| c.metrics_require_key = true);
    let addr = server.local_addr();
    assert_eq!(request(addr, "GET", "/metrics", None, "").0, 401);
    assert_eq!(request(addr, "GET", "/metrics", Some("nope"), "").0, 401);
    assert_eq!(request(addr, "GET", "/metrics", Some(K2), "").0, 200);
}

/// The list is the calling key's own mocks, newest first, paginated; other keys see none of them.
#[test]
fn list_is_per_key_newest_first_and_paginated() {
    let server = start(|_| {});
    let addr = server.local_addr();
    let mine: Vec<String> = (0..5)
        .map(|i| create(addr, K1, &format!(r#"{{"name":"m{i}"}}"#)))
        .collect();
    let theirs = create(addr, K2, r#"{"name":"other"}"#);

    let (status, v) = json(addr, "GET", "/v1/mocks", Some(K1), "");
    assert_eq!(status, 200);
    assert_eq!(v["total"], 5);
    let ids: Vec<&str> = v["mocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mock_id"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = mine.iter().rev().map(String::as_str).collect();
    assert_eq!(ids, newest_first);
    assert!(!ids.contains(&theirs.as_str()));

    let (_, page) = json(addr, "GET", "/v1/mocks?offset=1&limit=2", Some(K1), "");
    let names: Vec<&str> = page["mocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["m3", "m2"]);
    assert_eq!(
        (
            page["offset"].as_u64(),
            page["limit"].as_u64(),
            page["total"].as_u64()
        ),
        (Some(1), Some(2), Some(5))
    );

    let (_, v2) = json(addr, "GET", "/v1/mocks", Some(K2), "");
    assert_eq!(v2["total"], 1);
    assert_eq!(v2["mocks"][0]["mock_id"], theirs.as_str());

    // Deleted mocks leave the list.
    json(
        addr,
        "DELETE",
        &format!("/v1/mocks/{}", mine[4]),
        Some(K1),
        "",
    );
    assert_eq!(json(addr, "GET", "/v1/mocks", Some(K1), "").1["total"], 4);

    assert_eq!(json(addr, "GET", "/v1/mocks?limit=0", Some(K1), "").0, 422);
    assert_eq!(
        json(addr, "GET", "/v1/mocks?limit=1001", Some(K1), "").0,
        422
    );
    assert_eq!(json(addr, "GET", "/v1/mocks", None, "").0, 401);
}

/// Expired mocks leave the list once reclaimed, and meanwhile are not returned.
#[test]
fn list_drops_expired_mocks() {
    let server = start(|_| {});
    let addr = server.local_addr();
    create(addr, K1, r#"{"ttl_seconds":60}"#);
    let keep = create(addr, K1, r#"{"ttl_seconds":600}"#);
    server.store().clock().advance(61_000);
    let (_, v) = json(addr, "GET", "/v1/mocks", Some(K1), "");
    assert_eq!(v["mocks"].as_array().unwrap().len(), 1);
    assert_eq!(v["mocks"][0]["mock_id"], keep.as_str());
    server.store().purge_expired();
    assert_eq!(json(addr, "GET", "/v1/mocks", Some(K1), "").1["total"], 1);
}

/// Per-second rates: hits land in the second they happened, the window is 60 seconds, totals
/// match, and only the owner can read them.
#[test]
fn stats_report_hits_per_second_to_the_owner_only() {
    let server = start(|_| {});
    let addr = server.local_addr();
    let clock = server.store().clock().clone();
    let id = create(addr, K1, "{}");
    let path = format!("/v1/mocks/{id}/stats");

    let (status, v) = json(addr, "GET", &path, Some(K1), "");
    assert_eq!(status, 200);
    assert_eq!(v["window_seconds"], 60);
    assert_eq!(v["hits_per_second"].as_array().unwrap().len(), 60);
    assert!(v["first_hit_at"].is_null() && v["last_hit_at"].is_null());

    // Start on a second boundary so the two bursts land in consecutive seconds.
    clock.advance(1000 - clock.now_ms() % 1000);
    for _ in 0..7 {
        request(addr, "GET", &format!("/v1/mock/{id}"), None, "");
    }
    clock.advance(1000);
    server.store().sample_rates();
    for _ in 0..3 {
        request(addr, "HEAD", &format!("/v1/mock/{id}"), None, "");
    }
    clock.advance(1000);
    server.store().sample_rates();

    let (_, v) = json(addr, "GET", &path, Some(K1), "");
    let per_second: Vec<u64> = v["hits_per_second"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(&per_second[58..], &[7, 3], "{v}");
    assert_eq!(per_second.iter().sum::<u64>(), 10);
    assert_eq!(v["hit_count"], 10);
    assert!(v["first_hit_at"].as_str().unwrap() < v["last_hit_at"].as_str().unwrap());

    // A minute later the history is empty but the total stays.
    clock.advance(61_000);
    let (_, v) = json(addr, "GET", &path, Some(K1), "");
    assert_eq!(
        v["hits_per_second"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64)
            .sum::<u64>(),
        0
    );
    assert_eq!(v["hit_count"], 10);

    assert_eq!(json(addr, "GET", &path, Some(K2), "").0, 404);
    assert_eq!(json(addr, "GET", &path, None, "").0, 401);
    assert_eq!(
        json(
            addr,
            "GET",
            "/v1/mocks/AAAAAAAAAAAAAAAAAAAAAA/stats",
            Some(K1),
            ""
        )
        .0,
        404
    );
}

/// The dashboard is one self-contained page with a strict content security policy.
#[test]
fn dashboard_page_is_served_self_contained() {
    let server = start(|_| {});
    let (status, head, body) = request(server.local_addr(), "GET", "/ui", None, "");
    assert_eq!(status, 200);
    assert!(head.contains("Content-Type: text/html"));
    assert!(head.contains("Content-Security-Policy: default-src 'none'"));
    let page = String::from_utf8(body).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    for external in [
        "src=\"http",
        "src=\"//",
        "href=\"http",
        "url(http",
        "@import",
    ] {
        assert!(
            !page.contains(external),
            "the page must not load {external} resources"
        );
    }
}
