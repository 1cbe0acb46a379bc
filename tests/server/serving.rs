//! The serving path `ANY /v1/mock/{id}`: methods, exact response bytes, HEAD, bodiless statuses,
//! 1xx, 405, unknown ids, SDK path template and hit counting.

use serde_json::json;

use crate::support::*;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Every serving method gets the full configured response (HEAD without body) and one hit.
#[test]
fn every_method_serves_the_mock() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(
        addr,
        &json!({
            "status_code": 202,
            "headers": {"X-One": "1", "x-two": "two"},
            "body": "{\"ok\":true}",
        }),
    );
    let mut c = Client::connect(addr);
    for method in METHODS {
        let r = c.request(method, &format!("/v1/mock/{id}"), &[], None);
        assert_eq!(r.version, "HTTP/1.1", "{method}");
        assert_eq!(r.status, 202, "{method}");
        assert_eq!(r.reason, "Accepted", "{method}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-one"), Some("1"), "{method}");
        assert_eq!(r.header("x-two"), Some("two"), "{method}");
        assert_eq!(r.header("x-mock-id"), Some(id.as_str()), "{method}");
        assert_http_date(r.header("date").expect("Date"));
        assert_eq!(r.content_length(), Some(11), "{method}");
        if method == "HEAD" {
            assert!(r.body.is_empty());
        } else {
            assert_eq!(r.body, b"{\"ok\":true}", "{method}");
        }
    }
    assert_eq!(hit_count(addr, &id), 7);
}

/// A GET response is byte-for-byte the documented layout, custom headers in order as written.
#[test]
fn get_response_is_byte_exact() {
    let server = start();
    let addr = server.local_addr();
    let body = "line1\nline2\t\"quoted\" \\ end";
    // Raw JSON: the header order in the request text is the order on the wire.
    let spec = format!(
        r#"{{"status_code": 201, "content_type": "text/plain; charset=utf-8",
            "headers": {{"x-lower": "a", "X-UPPER": "B", "Cache-Control": "no-cache, no-store"}},
            "body": {}}}"#,
        serde_json::to_string(body).unwrap()
    );
    let r = create_raw(addr, K1, spec.as_bytes());
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.mock()["mock_id"].as_str().unwrap().to_string();
    let r = Client::connect(addr).get(&format!("/v1/mock/{id}"));
    assert_eq!(
        r.head_without_date(),
        format!(
            "HTTP/1.1 201 Created\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             x-lower: a\r\n\
             X-UPPER: B\r\n\
             Cache-Control: no-cache, no-store\r\n\
             X-Mock-Id: {id}\r\n\
             Content-Length: {}\r\n\
             Date: <date>\r\n\r\n",
            body.len()
        )
    );
    assert_eq!(r.body, body.as_bytes());
}

/// HEAD gets exactly the GET head, Content-Length included, and not one body byte.
#[test]
fn head_is_byte_exact_and_bodiless() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"headers": {"X-A": "1"}, "body": "hello"}));
    let mut c = Client::connect(addr);
    c.send(&request_bytes(
        "HEAD",
        &format!("/v1/mock/{id}"),
        &[("Connection", "close")],
        None,
    ));
    let r = c.read_head_response();
    assert_eq!(
        r.head_without_date(),
        format!(
            "HTTP/1.1 200 OK\r\n\
             Content-Type: application/json\r\n\
             X-A: 1\r\n\
             X-Mock-Id: {id}\r\n\
             Content-Length: 5\r\n\
             Date: <date>\r\n\
             Connection: close\r\n\r\n"
        )
    );
    c.expect_eof();
}

/// After a HEAD on a keep-alive connection the next response follows the head directly.
#[test]
fn head_then_get_on_one_connection() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "abcdef"}));
    let path = format!("/v1/mock/{id}");
    let mut c = Client::connect(addr);
    let mut bytes = request_bytes("HEAD", &path, &[], None);
    bytes.extend(request_bytes("GET", &path, &[], None));
    bytes.extend(request_bytes("HEAD", &path, &[], None));
    c.send(&bytes);
    let r = c.read_head_response();
    assert_eq!((r.status, r.content_length()), (200, Some(6)));
    let r = c.read_response();
    assert_eq!(r.body, b"abcdef");
    let r = c.read_head_response();
    assert_eq!((r.status, r.content_length()), (200, Some(6)));
    // Nothing else arrives: a GET for status proves the stream is aligned.
    let r = c.get("/v1/status");
    assert_eq!(r.status, 200);
    r.json();
}

/// Content-Length is the UTF-8 byte length of a multibyte body, and the bytes arrive intact.
#[test]
fn multibyte_body_content_length() {
    let server = start();
    let addr = server.local_addr();
    let body = "héllo wörld ✓ 🦀 日本語";
    let id = create_id(
        addr,
        &json!({"body": body, "content_type": "text/plain; charset=utf-8"}),
    );
    let r = hit(addr, &id);
    assert_eq!(r.content_length(), Some(body.len()));
    assert_ne!(body.len(), body.chars().count());
    assert_eq!(r.text(), body);
}

/// An empty body is served with `Content-Length: 0`.
#[test]
fn empty_body_has_zero_length() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"status_code": 404}));
    let r = hit(addr, &id);
    assert_eq!(r.status, 404);
    assert_eq!(r.content_length(), Some(0));
    assert!(r.body.is_empty());
}

/// 204 and 304 carry no body and no Content-Length, even with a configured body.
#[test]
fn no_content_statuses_have_no_body_and_no_length() {
    let server = start();
    let addr = server.local_addr();
    for code in [204u16, 304] {
        let id = create_id(
            addr,
            &json!({"status_code": code, "body": "must not be sent", "headers": {"X-A": "1"}}),
        );
        let path = format!("/v1/mock/{id}");
        let mut c = Client::connect(addr);
        for method in ["GET", "HEAD", "POST"] {
            c.send(&request_bytes(method, &path, &[], None));
            let r = c.read_head_response();
            assert_eq!(r.status, code, "{method}");
            assert_eq!(r.content_length(), None, "{code} {method}");
            assert!(r.header("transfer-encoding").is_none());
            assert_eq!(r.header("x-a"), Some("1"));
            assert_eq!(r.header("x-mock-id"), Some(id.as_str()));
        }
        // Had any body byte been sent, this response would not parse.
        let r = c.get("/v1/status");
        assert_eq!(r.status, 200, "{code}");
        r.json();
        assert_eq!(hit_count(addr, &id), 3);
    }
}

/// A 1xx mock sends its status without body or length, then closes; the hit counts.
#[test]
fn informational_mock_sends_status_then_closes() {
    let server = start();
    let addr = server.local_addr();
    for code in [100u16, 102, 103, 199] {
        let id = create_id(
            addr,
            &json!({"status_code": code, "body": "nope", "headers": {"Link": "</a.css>; rel=preload"}}),
        );
        let mut c = Client::connect(addr);
        // A request pipelined behind it is never answered: the exchange cannot complete.
        let mut bytes = request_bytes("GET", &format!("/v1/mock/{id}"), &[], None);
        bytes.extend(request_bytes("GET", "/v1/status", &[], None));
        c.send(&bytes);
        let r = c.read_response();
        assert_eq!(r.status, code);
        assert_eq!(r.content_length(), None);
        assert_eq!(r.header("x-mock-id"), Some(id.as_str()));
        assert_eq!(r.header("link"), Some("</a.css>; rel=preload"));
        c.expect_eof();
        assert_eq!(hit_count(addr, &id), 1, "{code}");
    }
}

/// Status lines are right across the range; unregistered codes have an empty reason.
#[test]
fn status_line_for_many_codes() {
    let server = start();
    let addr = server.local_addr();
    for (code, reason) in [
        (200, "OK"),
        (201, "Created"),
        (299, ""),
        (301, "Moved Permanently"),
        (400, "Bad Request"),
        (418, ""),
        (429, "Too Many Requests"),
        (500, "Internal Server Error"),
        (503, "Service Unavailable"),
        (599, ""),
    ] {
        let id = create_id(addr, &json!({ "status_code": code, "body": "b" }));
        let r = hit(addr, &id);
        assert_eq!(r.status, code);
        assert_eq!(r.reason, reason, "{code}");
        assert_eq!(r.body, b"b");
        let expected = format!("HTTP/1.1 {code} {reason}\r\n");
        assert!(
            r.head_raw.starts_with(expected.as_bytes()),
            "{:?}",
            String::from_utf8_lossy(&r.head_raw)
        );
    }
}

/// Other methods on the serving path get 405 with the full `Allow` list and are no hits.
#[test]
fn other_methods_are_405_with_allow() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "x"}));
    let mut c = Client::connect(addr);
    for method in ["TRACE", "FOO", "PROPFIND", "get", "Post"] {
        for target in [format!("/v1/mock/{id}"), "/v1/mock/unknown".to_string()] {
            let r = c.request(method, &target, &[], None);
            assert_eq!(r.status, 405, "{method} {target}");
            assert_eq!(
                r.header("allow"),
                Some("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
                "{method}"
            );
            r.detail();
        }
    }
    assert_eq!(hit_count(addr, &id), 0);
}

/// Request bodies on the serving path are discarded; the next pipelined request is answered.
#[test]
fn request_bodies_are_discarded() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "served"}));
    let path = format!("/v1/mock/{id}");
    let mut c = Client::connect(addr);
    let payload = "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100);
    let mut bytes = Vec::new();
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        bytes.extend(request_bytes(
            method,
            &path,
            &[("Content-Type", "text/plain")],
            Some(payload.as_bytes()),
        ));
    }
    bytes.extend(request_bytes("GET", &path, &[], None));
    c.send(&bytes);
    for _ in 0..5 {
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"served");
    }
    assert_eq!(hit_count(addr, &id), 5);
}

/// Unknown, malformed and extended ids are 404 JSON (HEAD: no body); no mock is hit.
#[test]
fn unknown_ids_are_404() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    let mut c = Client::connect(addr);
    for target in [
        "/v1/mock/AAAAAAAAAAAAAAAAAAAAAA".to_string(),
        "/v1/mock/".to_string(),
        "/v1/mock/abc".to_string(),
        format!("/v1/mock/{id}/"),
        format!("/v1/mock/{id}x"),
        format!("/v1/mock/{id}/extra"),
        "/v1/mock/%7Bmock_id%7D".to_string(),
        "/v1/mock/%7Bmock_id%7D?mock_id=nope".to_string(),
    ] {
        let r = c.get(&target);
        assert_eq!(r.status, 404, "{target}");
        assert_eq!(r.detail(), "mock not found", "{target}");
        let r = c.request("HEAD", &target, &[], None);
        assert_eq!(r.status, 404, "HEAD {target}");
        assert!(r.body.is_empty());
    }
    let r = c.get("/v1/status");
    assert_eq!(r.status, 200, "stream still aligned after HEAD 404s");
    assert_eq!(hit_count(addr, &id), 0);
}

/// The SDK's unexpanded template `/v1/mock/%7Bmock_id%7D?mock_id=ID` serves the mock.
#[test]
fn sdk_path_template_serves() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "via template"}));
    for target in [
        format!("/v1/mock/%7Bmock_id%7D?mock_id={id}"),
        format!("/v1/mock/%7bmock_id%7d?mock_id={id}"),
        format!("/v1/mock/{{mock_id}}?mock_id={id}"),
        format!("/v1/mock/%7Bmock_id%7D?x=1&mock_id={id}"),
    ] {
        let r = call(addr, "POST", &target, &[], Some(b"{}"));
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.body, b"via template");
        assert_eq!(r.header("x-mock-id"), Some(id.as_str()));
    }
    assert_eq!(hit_count(addr, &id), 4);
}

/// A query string and the absolute-form target do not change what is served.
#[test]
fn query_and_absolute_form_targets() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "q"}));
    for target in [
        format!("/v1/mock/{id}?a=1&b=2"),
        format!("/v1/mock/{id}?"),
        format!("http://mockd.test/v1/mock/{id}"),
        format!("http://mockd.test:8080/v1/mock/{id}?z"),
    ] {
        let r = call(addr, "GET", &target, &[], None);
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.body, b"q");
    }
}

/// A deleted mock stops serving at once, even on a connection whose worker cached it.
#[test]
fn deleted_mock_stops_serving_on_a_warm_connection() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "warm"}));
    let path = format!("/v1/mock/{id}");
    let mut c = Client::connect(addr);
    for _ in 0..3 {
        assert_eq!(c.get(&path).status, 200);
    }
    assert_eq!(delete_mock(addr, K1, &id).status, 200);
    let r = c.get(&path);
    assert_eq!(r.status, 404);
    assert_eq!(r.detail(), "mock not found");
}

/// Mocks are independent: each id serves its own response.
#[test]
fn many_mocks_serve_their_own_responses() {
    let server = start();
    let addr = server.local_addr();
    let ids: Vec<String> = (0..20)
        .map(|i| {
            create_id(
                addr,
                &json!({"status_code": 400 + i, "body": format!("body-{i}")}),
            )
        })
        .collect();
    let mut c = Client::connect(addr);
    for (i, id) in ids.iter().enumerate().rev() {
        let r = c.get(&format!("/v1/mock/{id}"));
        assert_eq!(r.status, 400 + i as u16);
        assert_eq!(r.text(), format!("body-{i}"));
        assert_eq!(r.header("x-mock-id"), Some(id.as_str()));
    }
}
