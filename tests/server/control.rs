//! The control API: create, read, delete, status, authentication, ownership, routing errors and
//! storage caps.

use serde_json::json;

use crate::support::*;

/// The MOCK object has exactly the documented fields, with the documented defaults.
fn assert_default_mock(m: &serde_json::Value) {
    let obj = m.as_object().expect("mock is an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "content_type",
            "created_at",
            "delay_ms",
            "endpoint_url",
            "expires_at",
            "has_body",
            "has_custom_headers",
            "hit_count",
            "mock_id",
            "name",
            "status_code",
        ]
    );
    let id = m["mock_id"].as_str().unwrap();
    assert_eq!(id.len(), 22, "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{id}"
    );
    assert_eq!(m["name"], json!(null));
    assert_eq!(m["status_code"], json!(200));
    assert_eq!(m["content_type"], json!("application/json"));
    assert_eq!(m["delay_ms"], json!(0));
    assert_eq!(m["has_custom_headers"], json!(false));
    assert_eq!(m["has_body"], json!(false));
    assert_eq!(m["hit_count"], json!(0));
    assert_eq!(m["endpoint_url"], json!(format!("/v1/mock/{id}")));
    let created = iso_to_ms(m["created_at"].as_str().unwrap());
    let expires = iso_to_ms(m["expires_at"].as_str().unwrap());
    assert_eq!(expires - created, 3_600_000, "default ttl is 3600 s");
}

/// `POST /v1/mocks` with `{}` answers 201 with a JSON `{"mock": MOCK}` carrying every default.
#[test]
fn create_empty_spec_gives_201_with_defaults() {
    let server = start();
    let r = create(server.local_addr(), K1, &json!({}));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.reason, "Created");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_http_date(r.header("date").expect("Date header"));
    let m = r.mock();
    assert_default_mock(&m);
    let id = m["mock_id"].as_str().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/mocks/{id}").as_str())
    );
}

/// Every create field given is reflected in the returned MOCK.
#[test]
fn create_reflects_every_field() {
    let server = start();
    let r = create(
        server.local_addr(),
        K1,
        &json!({
            "name": "orders \"v2\" ✓",
            "status_code": 418,
            "headers": {"X-Trace": "abc"},
            "body": "hello",
            "content_type": "text/plain; charset=utf-8",
            "delay_ms": 25,
            "ttl_seconds": 120,
        }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let m = r.mock();
    assert_eq!(m["name"], json!("orders \"v2\" ✓"));
    assert_eq!(m["status_code"], json!(418));
    assert_eq!(m["content_type"], json!("text/plain; charset=utf-8"));
    assert_eq!(m["delay_ms"], json!(25));
    assert_eq!(m["has_custom_headers"], json!(true));
    assert_eq!(m["has_body"], json!(true));
    assert_eq!(m["hit_count"], json!(0));
    let created = iso_to_ms(m["created_at"].as_str().unwrap());
    let expires = iso_to_ms(m["expires_at"].as_str().unwrap());
    assert_eq!(expires - created, 120_000);
}

/// Two creates get different ids.
#[test]
fn ids_are_unique() {
    let server = start();
    let a = create_id(server.local_addr(), &json!({}));
    let b = create_id(server.local_addr(), &json!({}));
    assert_ne!(a, b);
}

/// `GET /v1/mocks/{id}` returns 200 and the same MOCK the create returned.
#[test]
fn get_returns_the_created_mock() {
    let server = start();
    let addr = server.local_addr();
    let created = create(addr, K1, &json!({"name": "n", "body": "b"})).mock();
    let id = created["mock_id"].as_str().unwrap();
    let r = get_mock(addr, K1, id);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.mock(), created);
}

/// Reading a mock's metadata is not a hit; serving it is, once per request.
#[test]
fn get_reports_hit_count_and_is_not_a_hit_itself() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    assert_eq!(hit_count(addr, &id), 0);
    assert_eq!(hit_count(addr, &id), 0);
    for _ in 0..3 {
        assert_eq!(hit(addr, &id).status, 200);
    }
    assert_eq!(hit_count(addr, &id), 3);
}

/// DELETE answers 200 {message, mock_id}; then GET, serving and DELETE all give 404.
#[test]
fn delete_removes_the_mock() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    let r = delete_mock(addr, K1, &id);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert!(v["message"].is_string(), "{v}");
    assert_eq!(v["mock_id"], json!(id));
    assert_eq!(v.as_object().unwrap().len(), 2, "{v}");

    let r = get_mock(addr, K1, &id);
    assert_eq!(r.status, 404);
    assert_eq!(r.detail(), "mock not found");
    let r = hit(addr, &id);
    assert_eq!(r.status, 404);
    r.detail();
    let r = delete_mock(addr, K1, &id);
    assert_eq!(r.status, 404);
    r.detail();
}

/// Unknown and malformed ids give 404 JSON for GET and DELETE.
#[test]
fn unknown_ids_are_404() {
    let server = start();
    let addr = server.local_addr();
    for id in [
        "AAAAAAAAAAAAAAAAAAAAAA",
        "abc",
        "AAAAAAAAAAAAAAAAAAAAAAA",
        "%00",
        "AAAAAAAAAAAAAAAAAAAAA%2F",
    ] {
        let r = get_mock(addr, K1, id);
        assert_eq!(r.status, 404, "GET {id}");
        assert_eq!(r.detail(), "mock not found", "GET {id}");
        let r = delete_mock(addr, K1, id);
        assert_eq!(r.status, 404, "DELETE {id}");
        assert_eq!(r.detail(), "mock not found", "DELETE {id}");
    }
}

/// `GET /v1/status` needs no key and reports version, uptime_seconds and live_mocks.
#[test]
fn status_is_public_and_counts_live_mocks() {
    let server = start();
    let addr = server.local_addr();
    let v = status(addr);
    assert_eq!(v["version"], json!(env!("CARGO_PKG_VERSION")));
    assert!(v["uptime_seconds"].is_u64(), "{v}");
    assert_eq!(v["live_mocks"], json!(0));

    let a = create_id(addr, &json!({}));
    create_id_as(addr, K2, &json!({}));
    assert_eq!(status(addr)["live_mocks"], json!(2));
    assert_eq!(delete_mock(addr, K1, &a).status, 200);
    assert_eq!(status(addr)["live_mocks"], json!(1));

    // A wrong key does not turn the public endpoint into a 401.
    let r = call(addr, "GET", "/v1/status", &[("X-API-Key", "nope")], None);
    assert_eq!(r.status, 200);
}

/// `HEAD /v1/status` has the GET head (Content-Length included) and no body.
#[test]
fn head_status_has_no_body() {
    let server = start();
    let mut c = Client::connect(server.local_addr());
    let r = c.request("HEAD", "/v1/status", &[], None);
    assert_eq!(r.status, 200);
    assert!(r.content_length().unwrap() > 0);
    // The next response on the connection starts right after the head: no body was sent.
    let r = c.get("/v1/status");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), r.content_length().unwrap());
    r.json();
}

/// Without a credential every key-protected endpoint answers 401 JSON with WWW-Authenticate.
#[test]
fn missing_key_is_401() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    for (method, target, body) in [
        ("POST", "/v1/mocks".to_string(), Some(&b"{}"[..])),
        ("GET", format!("/v1/mocks/{id}"), None),
        ("DELETE", format!("/v1/mocks/{id}"), None),
    ] {
        let r = call(addr, method, &target, &[], body);
        assert_eq!(r.status, 401, "{method} {target}");
        assert!(r.header("www-authenticate").is_some(), "{method} {target}");
        assert!(r.detail().contains("API key"), "{method} {target}");
    }
    // Nothing was deleted or created by the refused requests.
    assert_eq!(get_mock(addr, K1, &id).status, 200);
    assert_eq!(server.store().totals().created, 1);
}

/// Wrong, empty, prefix and extended keys, and non-Bearer schemes, all get 401.
#[test]
fn wrong_keys_are_401() {
    let server = start();
    let addr = server.local_addr();
    let body = Some(&b"{}"[..]);
    for headers in [
        vec![("X-API-Key", "nope")],
        vec![("X-API-Key", "k")],
        vec![("X-API-Key", "k1x")],
        vec![("X-API-Key", "K1")],
        vec![("X-API-Key", "")],
        vec![("Authorization", "Bearer nope")],
        vec![("Authorization", "Basic azE6")],
        vec![("Authorization", "k1")],
        vec![("Authorization", "Bearer")],
    ] {
        let r = call(addr, "POST", "/v1/mocks", &headers, body);
        assert_eq!(r.status, 401, "{headers:?}: {}", r.text());
        r.detail();
    }
    assert_eq!(server.store().totals().created, 0);
}

/// Both `X-API-Key` and `Authorization: Bearer` (any scheme case) authenticate.
#[test]
fn x_api_key_and_bearer_both_work() {
    let server = start();
    let addr = server.local_addr();
    for headers in [
        [("X-API-Key", "k1")],
        [("x-api-key", "k1")],
        [("Authorization", "Bearer k1")],
        [("authorization", "bearer k1")],
        [("Authorization", "BEARER   k1")],
    ] {
        let r = call(addr, "POST", "/v1/mocks", &headers, Some(b"{}"));
        assert_eq!(r.status, 201, "{headers:?}: {}", r.text());
        let id = r.mock()["mock_id"].as_str().unwrap().to_string();
        // Whichever header created it, the mock belongs to k1.
        assert_eq!(get_mock(addr, K1, &id).status, 200);
        let r = call(
            addr,
            "GET",
            &format!("/v1/mocks/{id}"),
            &[("Authorization", "Bearer k1")],
            None,
        );
        assert_eq!(r.status, 200);
    }
}

/// A credential header given twice is refused even when one of the values is valid.
#[test]
fn duplicate_x_api_key_is_401() {
    let server = start();
    let addr = server.local_addr();
    for headers in [
        [("X-API-Key", "k1"), ("X-API-Key", "nope")],
        [("X-API-Key", "nope"), ("X-API-Key", "k1")],
        [("X-API-Key", "k1"), ("X-API-Key", "k1")],
        [("X-API-Key", "k1"), ("X-API-Key", "k2")],
    ] {
        let r = call(addr, "POST", "/v1/mocks", &headers, Some(b"{}"));
        assert_eq!(r.status, 401, "{headers:?}");
    }
    assert_eq!(server.store().totals().created, 0);
}

/// `Authorization` sent twice is refused (401) like a repeated `X-API-Key`.
#[test]
fn duplicate_authorization_is_401() {
    let server = start();
    let addr = server.local_addr();
    for headers in [
        [
            ("Authorization", "Bearer k1"),
            ("Authorization", "Bearer nope"),
        ],
        [
            ("Authorization", "Bearer k1"),
            ("Authorization", "Bearer k2"),
        ],
    ] {
        let r = call(addr, "POST", "/v1/mocks", &headers, Some(b"{}"));
        assert_eq!(r.status, 401, "{headers:?}: {}", r.text());
    }
}

/// Conflicting `X-API-Key` and `Authorization` get the same answer in either order.
#[test]
fn mixed_credential_headers_do_not_depend_on_order() {
    let server = start();
    let addr = server.local_addr();
    for (a, b) in [
        (("X-API-Key", "k1"), ("Authorization", "Bearer nope")),
        (("X-API-Key", "nope"), ("Authorization", "Bearer k1")),
        (("X-API-Key", "k1"), ("Authorization", "Bearer k2")),
        (("X-API-Key", "k1"), ("Authorization", "Basic azE6")),
    ] {
        let forward = call(addr, "POST", "/v1/mocks", &[a, b], Some(b"{}")).status;
        let backward = call(addr, "POST", "/v1/mocks", &[b, a], Some(b"{}")).status;
        assert_eq!(
            forward, backward,
            "[{a:?}, {b:?}] gave {forward}, the reverse order gave {backward}"
        );
    }
}

/// Another key gets 404 on GET and DELETE of k1's mock, which stays intact.
#[test]
fn other_keys_cannot_see_or_delete_a_mock() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "mine"}));
    assert_eq!(hit(addr, &id).status, 200);

    let r = get_mock(addr, K2, &id);
    assert_eq!(r.status, 404);
    assert_eq!(r.detail(), "mock not found");
    let r = delete_mock(addr, K2, &id);
    assert_eq!(r.status, 404);
    assert_eq!(r.detail(), "mock not found");
    let r = call(
        addr,
        "DELETE",
        &format!("/v1/mocks/{id}"),
        &[("Authorization", "Bearer k2")],
        None,
    );
    assert_eq!(r.status, 404);

    let r = get_mock(addr, K1, &id);
    assert_eq!(r.status, 200);
    assert_eq!(r.mock()["hit_count"], json!(1));
    let r = hit(addr, &id);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"mine");
    assert_eq!(server.store().totals().live, 1);
    assert_eq!(server.store().totals().deleted, 0);
}

/// Serving needs no key: anyone holding the id gets the response.
#[test]
fn serving_needs_no_key() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id_as(addr, K2, &json!({"body": "open"}));
    let r = hit(addr, &id);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"open");
    let r = call(
        addr,
        "GET",
        &format!("/v1/mock/{id}"),
        &[("X-API-Key", "wrong")],
        None,
    );
    assert_eq!(r.status, 200);
}

/// The SDK's unexpanded path template with the id in `mock_id` works for GET and DELETE.
#[test]
fn sdk_path_template_for_metadata() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"name": "sdk"}));
    for template in ["%7Bmock_id%7D", "%7bmock_id%7d", "{mock_id}"] {
        let r = call(
            addr,
            "GET",
            &format!("/v1/mocks/{template}?mock_id={id}"),
            &[("X-API-Key", K1)],
            None,
        );
        assert_eq!(r.status, 200, "{template}: {}", r.text());
        assert_eq!(r.mock()["mock_id"], json!(id));
    }
    // Other query parameters around it do not matter.
    let r = call(
        addr,
        "GET",
        &format!("/v1/mocks/%7Bmock_id%7D?a=1&mock_id={id}&b=2"),
        &[("X-API-Key", K1)],
        None,
    );
    assert_eq!(r.status, 200);
    // Ownership applies to the template too.
    let r = call(
        addr,
        "GET",
        &format!("/v1/mocks/%7Bmock_id%7D?mock_id={id}"),
        &[("X-API-Key", K2)],
        None,
    );
    assert_eq!(r.status, 404);
    // Without the query parameter the template names nothing.
    let r = call(
        addr,
        "GET",
        "/v1/mocks/%7Bmock_id%7D",
        &[("X-API-Key", K1)],
        None,
    );
    assert_eq!(r.status, 404);

    let r = call(
        addr,
        "DELETE",
        &format!("/v1/mocks/%7Bmock_id%7D?mock_id={id}"),
        &[("X-API-Key", K1)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["mock_id"], json!(id));
    assert_eq!(get_mock(addr, K1, &id).status, 404);
}

/// Unknown paths are 404 JSON; known paths with the wrong method are 405 with `Allow`.
#[test]
fn routing_errors() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    for target in ["/", "/v2/mocks", "/v1/mocksx", "/v1/mock", "/favicon.ico"] {
        let r = call(addr, "GET", target, &[("X-API-Key", K1)], None);
        assert_eq!(r.status, 404, "{target}");
        r.detail();
    }
    let mocks_id = format!("/v1/mocks/{id}");
    for (method, target, must_allow) in [
        ("PUT", "/v1/mocks", &["POST"][..]),
        ("DELETE", "/v1/mocks", &["POST"]),
        ("PATCH", "/v1/mocks", &["POST"]),
        ("PUT", mocks_id.as_str(), &["GET", "DELETE"]),
        ("POST", mocks_id.as_str(), &["GET", "DELETE"]),
        ("PATCH", mocks_id.as_str(), &["GET", "DELETE"]),
        ("POST", "/v1/status", &["GET"]),
        ("DELETE", "/v1/status", &["GET"]),
    ] {
        let r = call(addr, method, target, &[("X-API-Key", K1)], None);
        assert_eq!(r.status, 405, "{method} {target}");
        let allow: Vec<&str> = r
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {target}: no Allow"))
            .split(',')
            .map(str::trim)
            .collect();
        for m in must_allow {
            assert!(
                allow.contains(m),
                "{method} {target}: Allow {allow:?} lacks {m}"
            );
        }
        assert!(
            !allow.contains(&method),
            "{method} {target}: Allow {allow:?}"
        );
        r.detail();
    }
    // A wrong-method request changed nothing.
    assert_eq!(get_mock(addr, K1, &id).status, 200);
}

/// With max_mocks = 3 the 4th create is 507, the others still serve, a delete frees a slot.
#[test]
fn mock_count_cap_gives_507() {
    let server = start_with(|c| c.limits.max_mocks = 3);
    let addr = server.local_addr();
    let ids: Vec<String> = (0..3)
        .map(|i| create_id(addr, &json!({"body": format!("m{i}")})))
        .collect();
    let r = create(addr, K1, &json!({}));
    assert_eq!(r.status, 507, "{}", r.text());
    assert!(!r.detail().is_empty());
    // The other key shares the same cap.
    assert_eq!(create(addr, K2, &json!({})).status, 507);
    for (i, id) in ids.iter().enumerate() {
        let r = hit(addr, id);
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), format!("m{i}"));
    }
    assert_eq!(status(addr)["live_mocks"], json!(3));
    assert_eq!(delete_mock(addr, K1, &ids[0]).status, 200);
    assert_eq!(create(addr, K1, &json!({})).status, 201);
    assert_eq!(create(addr, K1, &json!({})).status, 507);
}

/// With a small `max_store_bytes` a create that would exceed it is 507 and nothing is stored.
#[test]
fn store_bytes_cap_gives_507() {
    let server = start_with(|c| c.limits.max_store_bytes = 8 * 1024);
    let addr = server.local_addr();
    let small = create_id(addr, &json!({"body": "x"}));
    let r = create(addr, K1, &json!({"body": "y".repeat(16 * 1024)}));
    assert_eq!(r.status, 507, "{}", r.text());
    assert!(!r.detail().is_empty());
    assert_eq!(server.store().totals().live, 1);
    assert_eq!(hit(addr, &small).status, 200);
}

/// The control API keeps the connection alive across requests of different kinds.
#[test]
fn control_requests_share_a_keep_alive_connection() {
    let server = start();
    let mut c = Client::connect(server.local_addr());
    let auth = [("X-API-Key", K1)];
    let r = c.request("POST", "/v1/mocks", &auth, Some(br#"{"body":"ka"}"#));
    assert_eq!(r.status, 201);
    assert!(!r.closes());
    let id = r.mock()["mock_id"].as_str().unwrap().to_string();
    let r = c.request("GET", &format!("/v1/mocks/{id}"), &auth, None);
    assert_eq!(r.status, 200);
    let r = c.get(&format!("/v1/mock/{id}"));
    assert_eq!(r.body, b"ka");
    let r = c.request("POST", "/v1/mocks", &[], Some(b"{}"));
    assert_eq!(r.status, 401, "an error does not end the connection");
    let r = c.request("DELETE", &format!("/v1/mocks/{id}"), &auth, None);
    assert_eq!(r.status, 200);
    let r = c.get("/v1/status");
    assert_eq!(r.status, 200);
}
