//! Validation of `POST /v1/mocks` over HTTP: every field at and just past each bound, header rules,
//! header-injection attempts, and malformed JSON. Rejections are 422 JSON naming the field and
//! store nothing.

use std::net::SocketAddr;

use serde_json::{Map, Value, json};

use crate::support::*;

/// Asserts a 422 whose detail starts with `field` followed by `": "`; returns the detail.
fn rejected(addr: SocketAddr, spec: &Value, field: &str) -> String {
    let r = create(addr, K1, spec);
    assert_eq!(r.status, 422, "{spec} was accepted: {}", r.text());
    let d = r.detail();
    assert!(
        d.starts_with(&format!("{field}: ")),
        "detail of {spec} should name {field}: {d:?}"
    );
    d
}

/// Asserts a 201 and returns the MOCK.
fn accepted(addr: SocketAddr, spec: &Value) -> Value {
    let r = create(addr, K1, spec);
    assert_eq!(r.status, 201, "{spec} was refused: {}", r.text());
    r.mock()
}

/// `name`: up to 128 characters (not bytes) is fine, 129 is 422; absent or null is null.
#[test]
fn name_length_boundary() {
    let server = start();
    let addr = server.local_addr();
    assert_eq!(
        accepted(addr, &json!({"name": "a".repeat(128)}))["name"],
        json!("a".repeat(128))
    );
    // 128 two-byte characters: 256 bytes, still 128 characters.
    assert_eq!(
        accepted(addr, &json!({"name": "é".repeat(128)}))["name"],
        json!("é".repeat(128))
    );
    assert_eq!(accepted(addr, &json!({"name": ""}))["name"], json!(""));
    assert_eq!(accepted(addr, &json!({"name": null}))["name"], json!(null));
    rejected(addr, &json!({"name": "a".repeat(129)}), "name");
    rejected(addr, &json!({"name": "é".repeat(129)}), "name");
    rejected(addr, &json!({"name": 5}), "name");
    rejected(addr, &json!({"name": ["a"]}), "name");
}

/// `status_code`: 100 and 599 are accepted, 99 and 600 are not; only integers count.
#[test]
fn status_code_boundaries() {
    let server = start();
    let addr = server.local_addr();
    for code in [100, 101, 200, 204, 304, 599] {
        assert_eq!(
            accepted(addr, &json!({"status_code": code}))["status_code"],
            json!(code)
        );
    }
    for bad in [
        json!(99),
        json!(600),
        json!(0),
        json!(-200),
        json!(65736),
        json!(200.0),
        json!(2e2),
        json!("200"),
        json!(true),
        json!([200]),
    ] {
        rejected(addr, &json!({ "status_code": bad }), "status_code");
    }
    // A literal float spelling is refused too (not only what serde_json turns into a float).
    let r = create_raw(addr, K1, br#"{"status_code": 200.5}"#);
    assert_eq!(r.status, 422);
    assert!(r.detail().starts_with("status_code: "));
    assert_eq!(
        accepted(addr, &json!({"status_code": null}))["status_code"],
        json!(200)
    );
}

/// `delay_ms`: 0 and 30000 are accepted, -1 and 30001 are not.
#[test]
fn delay_ms_boundaries() {
    let server = start();
    let addr = server.local_addr();
    assert_eq!(
        accepted(addr, &json!({"delay_ms": 0}))["delay_ms"],
        json!(0)
    );
    assert_eq!(
        accepted(addr, &json!({"delay_ms": 30000}))["delay_ms"],
        json!(30000)
    );
    for bad in [json!(-1), json!(30001), json!(1.5), json!("10")] {
        rejected(addr, &json!({ "delay_ms": bad }), "delay_ms");
    }
}

/// `ttl_seconds`: 60 and 172800 are accepted (and set expires_at exactly), 59 and 172801 are not.
#[test]
fn ttl_seconds_boundaries() {
    let server = start();
    let addr = server.local_addr();
    for ttl in [60u64, 172_800] {
        let m = accepted(addr, &json!({ "ttl_seconds": ttl }));
        let created = iso_to_ms(m["created_at"].as_str().unwrap());
        let expires = iso_to_ms(m["expires_at"].as_str().unwrap());
        assert_eq!(expires - created, ttl * 1000, "ttl {ttl}");
    }
    for bad in [json!(59), json!(172801), json!(0), json!(-60), json!("60")] {
        rejected(addr, &json!({ "ttl_seconds": bad }), "ttl_seconds");
    }
}

/// `body` of exactly max_mock_body_bytes UTF-8 bytes is accepted, one byte more is 422.
#[test]
fn body_size_boundary() {
    let server = start_with(|c| c.limits.max_mock_body_bytes = 16);
    let addr = server.local_addr();
    let m = accepted(addr, &json!({"body": "x".repeat(16)}));
    assert_eq!(m["has_body"], json!(true));
    let id = m["mock_id"].as_str().unwrap();
    assert_eq!(hit(addr, id).body, "x".repeat(16).as_bytes());
    // Eight two-byte characters are exactly 16 bytes.
    accepted(addr, &json!({"body": "é".repeat(8)}));
    rejected(addr, &json!({"body": "x".repeat(17)}), "body");
    rejected(
        addr,
        &json!({"body": format!("{}x", "é".repeat(8))}),
        "body",
    );
    rejected(addr, &json!({"body": {"a": 1}}), "body");
    rejected(addr, &json!({"body": 12}), "body");
    let m = accepted(addr, &json!({"body": ""}));
    assert_eq!(m["has_body"], json!(false));
    assert_eq!(server.store().totals().live, 3);
}

/// The default body cap is 1 MiB: exactly 1 MiB is accepted and served, 1 MiB + 1 is 422.
#[test]
fn default_body_cap_is_one_mebibyte() {
    let server = start();
    let addr = server.local_addr();
    let body: String = (0..1_048_576u32)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let m = accepted(addr, &json!({ "body": body }));
    let r = hit(addr, m["mock_id"].as_str().unwrap());
    assert_eq!(r.content_length(), Some(1_048_576));
    assert!(r.body == body.as_bytes(), "1 MiB body differs");
    rejected(addr, &json!({"body": "z".repeat(1_048_577)}), "body");
}

/// `content_type`: 256 bytes accepted, 257, empty, non-string or padded refused.
#[test]
fn content_type_rules() {
    let server = start();
    let addr = server.local_addr();
    let ct = format!("text/{}", "a".repeat(251));
    assert_eq!(ct.len(), 256);
    assert_eq!(
        accepted(addr, &json!({ "content_type": ct }))["content_type"],
        json!(ct)
    );
    rejected(
        addr,
        &json!({"content_type": format!("text/{}", "a".repeat(252))}),
        "content_type",
    );
    rejected(addr, &json!({"content_type": ""}), "content_type");
    rejected(addr, &json!({"content_type": 1}), "content_type");
    rejected(
        addr,
        &json!({"content_type": " text/plain"}),
        "content_type",
    );
    assert_eq!(
        accepted(addr, &json!({"content_type": null}))["content_type"],
        json!("application/json")
    );
}

/// Reserved and invalid header names, and non-string values, are 422 naming the header.
#[test]
fn header_names_reserved_and_invalid() {
    let server = start();
    let addr = server.local_addr();
    rejected(addr, &json!({"headers": ["X-A", "b"]}), "headers");
    rejected(addr, &json!({"headers": "X-A: b"}), "headers");
    rejected(addr, &json!({"headers": {"X-A": 1}}), "headers.X-A");
    rejected(addr, &json!({"headers": {"X-A": null}}), "headers.X-A");
    rejected(addr, &json!({"headers": {"X-A": ["b"]}}), "headers.X-A");
    for name in [
        "Content-Length",
        "content-length",
        "Transfer-Encoding",
        "TRANSFER-ENCODING",
        "Connection",
        "Keep-Alive",
        "Upgrade",
        "Trailer",
        "TE",
        "Proxy-Connection",
        "Date",
        "date",
        "X-Mock-Id",
        "x-mock-ID",
    ] {
        rejected(
            addr,
            &json!({"headers": {name: "1"}}),
            &format!("headers.{name}"),
        );
    }
    for name in ["X A", "X:A", "X(A)", "X/A", "é", "X\"A"] {
        rejected(
            addr,
            &json!({"headers": {name: "1"}}),
            &format!("headers.{name}"),
        );
    }
    let d = rejected(addr, &json!({"headers": {"": "1"}}), "headers.\"\"");
    assert!(d.contains("token"), "{d}");
    // Names that merely contain a reserved name are fine.
    let m = accepted(
        addr,
        &json!({"headers": {"X-Date": "a", "TE-X": "b", "Content-Lengths": "c"}}),
    );
    assert_eq!(m["has_custom_headers"], json!(true));
    assert_eq!(server.store().totals().live, 1);
}

/// Header names are unique case-insensitively; a repeat, even an exact one, is refused.
#[test]
fn duplicate_header_names_refused() {
    let server = start();
    let addr = server.local_addr();
    let r = create_raw(addr, K1, br#"{"headers": {"X-A": "1", "x-a": "2"}}"#);
    assert_eq!(r.status, 422);
    assert!(r.detail().starts_with("headers.x-a: "), "{}", r.detail());
    let r = create_raw(addr, K1, br#"{"headers": {"X-A": "1", "X-A": "2"}}"#);
    assert_eq!(r.status, 422);
    assert!(r.detail().starts_with("headers.X-A: "), "{}", r.detail());
    assert_eq!(server.store().totals().created, 0);
}

/// Top-level keys given twice are refused; unknown keys are ignored.
#[test]
fn duplicate_and_unknown_top_level_keys() {
    let server = start();
    let addr = server.local_addr();
    let r = create_raw(addr, K1, br#"{"status_code": 200, "status_code": 500}"#);
    assert_eq!(r.status, 422);
    assert!(r.detail().starts_with("status_code: "), "{}", r.detail());
    let m = accepted(
        addr,
        &json!({"unknown": [1, 2], "method": "GET", "body": "x"}),
    );
    assert_eq!(m["has_body"], json!(true));
}

/// 64 headers (the default cap) are accepted and all served; 65 are refused.
#[test]
fn header_count_boundary() {
    let server = start();
    let addr = server.local_addr();
    let many = |n: usize| -> Value {
        let map: Map<String, Value> = (0..n)
            .map(|i| (format!("X-H{i}"), Value::from(format!("v{i}"))))
            .collect();
        json!({ "headers": map })
    };
    let id = accepted(addr, &many(64))["mock_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = hit(addr, &id);
    for i in 0..64 {
        assert_eq!(r.header(&format!("X-H{i}")), Some(format!("v{i}").as_str()));
    }
    rejected(addr, &many(65), "headers");
}

/// The total bytes of header names and values may reach `max_mock_header_bytes` but not exceed it.
#[test]
fn header_bytes_boundary() {
    let server = start_with(|c| c.limits.max_mock_header_bytes = 32);
    let addr = server.local_addr();
    // "X-A" + 13 bytes + "X-B" + 13 bytes = 32.
    accepted(
        addr,
        &json!({"headers": {"X-A": "a".repeat(13), "X-B": "b".repeat(13)}}),
    );
    rejected(
        addr,
        &json!({"headers": {"X-A": "a".repeat(13), "X-B": "b".repeat(14)}}),
        "headers",
    );
}

/// A `Content-Type` header entry becomes the content type; a conflicting one is 422.
#[test]
fn content_type_header_folding_and_conflict() {
    let server = start();
    let addr = server.local_addr();
    let m = accepted(addr, &json!({"headers": {"content-TYPE": "text/csv"}}));
    assert_eq!(m["content_type"], json!("text/csv"));
    assert_eq!(m["has_custom_headers"], json!(false));
    let r = hit(addr, m["mock_id"].as_str().unwrap());
    assert_eq!(r.header_all("content-type"), ["text/csv"]);

    let m = accepted(
        addr,
        &json!({"content_type": "text/csv", "headers": {"Content-Type": "text/csv", "X-A": "1"}}),
    );
    assert_eq!(m["content_type"], json!("text/csv"));
    assert_eq!(m["has_custom_headers"], json!(true));
    let r = hit(addr, m["mock_id"].as_str().unwrap());
    assert_eq!(r.header_all("content-type"), ["text/csv"]);

    rejected(
        addr,
        &json!({"content_type": "text/csv", "headers": {"Content-Type": "text/plain"}}),
        "headers.Content-Type",
    );
    rejected(
        addr,
        &json!({"headers": {"Content-Type": ""}}),
        "headers.Content-Type",
    );
}

/// CR/LF/NUL in header values, names or content_type are 422 and create nothing.
#[test]
fn header_injection_attempts_are_refused() {
    let server = start();
    let addr = server.local_addr();
    let injected = "x\r\nX-Injected: 1";
    for (spec, field) in [
        (json!({"headers": {"X-A": injected}}), "headers.X-A"),
        (
            json!({"headers": {"X-A": "x\nX-Injected: 1"}}),
            "headers.X-A",
        ),
        (
            json!({"headers": {"X-A": "x\rX-Injected: 1"}}),
            "headers.X-A",
        ),
        (json!({"headers": {"X-A": "x\u{0}y"}}), "headers.X-A"),
        (json!({"headers": {"X-A": "x\u{7f}y"}}), "headers.X-A"),
        (json!({"headers": {"X-A": "\r\n\r\nbody"}}), "headers.X-A"),
        (
            json!({"headers": {"X-A\r\nX-Injected": "1"}}),
            "headers.X-A\\r\\nX-Injected",
        ),
        (json!({"headers": {"X-A\n": "1"}}), "headers.X-A\\n"),
        (json!({"content_type": injected}), "content_type"),
        (json!({"content_type": "text/plain\n"}), "content_type"),
        (json!({"content_type": "text/plain\r"}), "content_type"),
        (json!({"content_type": "text/\u{0}plain"}), "content_type"),
        (
            json!({"headers": {"Content-Type": injected}}),
            "headers.Content-Type",
        ),
    ] {
        let d = rejected(addr, &spec, field);
        assert!(
            !d.contains('\r') && !d.contains('\n') && !d.contains('\0'),
            "detail echoes control characters: {d:?}"
        );
    }
    assert_eq!(server.store().totals().created, 0);
    assert_eq!(status(addr)["live_mocks"], json!(0));
}

/// A legal value that looks like syntax is served as exactly one header line.
#[test]
fn legal_tricky_header_values_stay_one_line() {
    let server = start();
    let addr = server.local_addr();
    let tricky = "a: b, \"c\";\td=é ✓";
    let id = create_id(addr, &json!({"headers": {"X-Tricky": tricky}}));
    let r = hit(addr, &id);
    assert_eq!(r.header_all("x-tricky"), [tricky]);
    let head = r.head_without_date();
    assert_eq!(head.matches("\r\n").count(), 7, "{head:?}");
}

/// Malformed or non-object JSON is 422 naming `body`.
#[test]
fn malformed_json_is_422() {
    let server = start();
    let addr = server.local_addr();
    for raw in [
        &b"{"[..],
        b"{\"status_code\": }",
        b"[]",
        b"\"str\"",
        b"null",
        b"42",
        b"{\"a\":1} x",
        b"\xff\xfe",
        b"{\"name\": \"\xc3\"}",
    ] {
        let r = create_raw(addr, K1, raw);
        assert_eq!(r.status, 422, "{:?}", String::from_utf8_lossy(raw));
        let d = r.detail();
        assert!(d.starts_with("body: "), "{d}");
    }
    assert_eq!(server.store().totals().created, 0);
}

/// An empty (or whitespace-only, or absent) create body means "all defaults", as the SDK sends.
#[test]
fn empty_create_body_means_defaults() {
    let server = start();
    let addr = server.local_addr();
    for body in [Some(&b""[..]), Some(b"  \r\n\t"), None] {
        let r = call(addr, "POST", "/v1/mocks", &[("X-API-Key", K1)], body);
        assert_eq!(r.status, 201, "{body:?}: {}", r.text());
        let m = r.mock();
        assert_eq!(m["status_code"], json!(200));
        assert_eq!(m["content_type"], json!("application/json"));
        assert_eq!(m["has_body"], json!(false));
    }
}

/// Authentication is checked before validation: an invalid spec without a key is 401, not 422.
#[test]
fn auth_comes_before_validation() {
    let server = start();
    let r = call(
        server.local_addr(),
        "POST",
        "/v1/mocks",
        &[],
        Some(b"not json"),
    );
    assert_eq!(r.status, 401);
}
