//! HTTP/1.1 connection handling: keep-alive, HTTP/1.0, pipelining, request bodies (length and
//! chunked, split across writes), `Expect: 100-continue`, size limits, malformed input and
//! timeouts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

/// Sends `raw` on a fresh connection and asserts one `status` error response with
/// `Connection: close`, after which the server closes the connection without answering anything
/// else that was sent.
fn assert_protocol_error(addr: SocketAddr, raw: &[u8], status: u16) {
    let mut c = Client::connect(addr);
    let mut bytes = raw.to_vec();
    // A well-formed request behind the bad one must not be answered.
    bytes.extend_from_slice(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n");
    c.send_lenient(&bytes);
    let r = c.read_response();
    let shown = String::from_utf8_lossy(raw);
    assert_eq!(r.status, status, "{shown:?}: {}", r.text());
    assert!(r.closes(), "{shown:?}: no Connection: close");
    r.detail();
    c.expect_eof();
}

/// Writes `bytes` in pieces of `step` bytes, pausing briefly between them like a slow client.
fn dribble(c: &mut Client, bytes: &[u8], step: usize, pause: Duration) {
    for piece in bytes.chunks(step) {
        c.send(piece);
        std::thread::sleep(pause);
    }
}

/// One keep-alive connection serves many requests in a row.
#[test]
fn keep_alive_serves_many_requests() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "ka"}));
    let mut c = Client::connect(addr);
    for _ in 0..200 {
        let r = c.get(&format!("/v1/mock/{id}"));
        assert_eq!(r.status, 200);
        assert!(!r.closes());
        assert_eq!(r.body, b"ka");
    }
    assert_eq!(hit_count(addr, &id), 200);
}

/// `Connection: close` gets a response marked `Connection: close`, then the connection ends.
#[test]
fn connection_close_is_honoured() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "bye"}));
    for target in [format!("/v1/mock/{id}"), "/v1/status".to_string()] {
        let mut c = Client::connect(addr);
        c.send(&request_bytes(
            "GET",
            &target,
            &[("Connection", "close")],
            None,
        ));
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert!(r.closes(), "{target}");
        c.expect_eof();
    }
}

/// HTTP/1.0 without keep-alive: the response says `Connection: close` and the connection ends.
#[test]
fn http10_closes_by_default() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "old"}));
    let mut c = Client::connect(addr);
    c.send(format!("GET /v1/mock/{id} HTTP/1.0\r\n\r\n").as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"old");
    assert!(r.closes());
    c.expect_eof();
}

/// HTTP/1.0 with `Connection: keep-alive` keeps the connection open for the next request.
#[test]
fn http10_keep_alive_persists() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "old"}));
    let mut c = Client::connect(addr);
    let req = format!("GET /v1/mock/{id} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    for _ in 0..3 {
        c.send(req.as_bytes());
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"old");
        assert!(!r.closes());
    }
    c.send(format!("GET /v1/mock/{id} HTTP/1.0\r\n\r\n").as_bytes());
    assert_eq!(c.read_response().status, 200);
    c.expect_eof();
}

/// A kept-alive HTTP/1.0 response says `Connection: keep-alive` (RFC 9112 §9.3).
#[test]
fn http10_keep_alive_is_announced() {
    // Without the token an HTTP/1.0 client must assume the server closes (`ab -k` relies on it).
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    let mut c = Client::connect(addr);
    c.send(format!("GET /v1/mock/{id} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("connection")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("keep-alive"),
        "{:?}",
        String::from_utf8_lossy(&r.head_raw)
    );
}

/// 50 mixed requests in one write get 50 responses in request order.
#[test]
fn pipelining_fifty_requests_in_one_write() {
    let server = start();
    let addr = server.local_addr();
    let a = create_id(addr, &json!({"body": "A", "headers": {"X-Which": "a"}}));
    let b = create_id(addr, &json!({"status_code": 201, "body": "BB"}));
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    #[derive(Clone, Copy, Debug)]
    enum Want {
        GetA,
        HeadB,
        Missing,
        HeadMissing,
        PostA,
        Status,
    }
    let plan: Vec<Want> = (0..50)
        .map(|i| match i % 6 {
            0 => Want::GetA,
            1 => Want::HeadB,
            2 => Want::Missing,
            3 => Want::PostA,
            4 => Want::HeadMissing,
            _ => Want::Status,
        })
        .collect();
    let mut bytes = Vec::new();
    for w in &plan {
        bytes.extend(match w {
            Want::GetA => request_bytes("GET", &format!("/v1/mock/{a}"), &[], None),
            Want::HeadB => request_bytes("HEAD", &format!("/v1/mock/{b}"), &[], None),
            Want::Missing => request_bytes("GET", &format!("/v1/mock/{unknown}"), &[], None),
            Want::HeadMissing => request_bytes("HEAD", &format!("/v1/mock/{unknown}"), &[], None),
            Want::PostA => request_bytes("POST", &format!("/v1/mock/{a}"), &[], Some(b"x=1")),
            Want::Status => request_bytes("GET", "/v1/status", &[], None),
        });
    }
    let mut c = Client::connect(addr);
    c.send(&bytes);
    for (i, w) in plan.iter().enumerate() {
        match w {
            Want::GetA | Want::PostA => {
                let r = c.read_response();
                assert_eq!(
                    (r.status, r.body.as_slice()),
                    (200, &b"A"[..]),
                    "#{i} {w:?}"
                );
                assert_eq!(r.header("x-mock-id"), Some(a.as_str()));
            }
            Want::HeadB => {
                let r = c.read_head_response();
                assert_eq!(r.status, 201, "#{i} {w:?}");
                assert_eq!(r.content_length(), Some(2));
                assert_eq!(r.header("x-mock-id"), Some(b.as_str()));
            }
            Want::Missing => {
                let r = c.read_response();
                assert_eq!(r.status, 404, "#{i} {w:?}");
                assert_eq!(r.detail(), "mock not found");
            }
            Want::HeadMissing => {
                let r = c.read_head_response();
                assert_eq!(r.status, 404, "#{i} {w:?}");
            }
            Want::Status => {
                let r = c.read_response();
                assert_eq!(r.status, 200, "#{i} {w:?}");
                assert!(r.json()["live_mocks"].is_u64());
            }
        }
    }
    assert_eq!(hit_count(addr, &a), 17);
    assert_eq!(hit_count(addr, &b), 9);
}

/// More pipelined requests than `max_pipeline` answers per read are all answered, in order.
#[test]
fn pipelining_past_the_per_read_cap() {
    let server = start_with(|c| c.limits.max_pipeline = 4);
    let addr = server.local_addr();
    let ids: Vec<String> = (0..3)
        .map(|i| create_id(addr, &json!({"body": format!("m{i}")})))
        .collect();
    let mut bytes = Vec::new();
    for i in 0..120 {
        bytes.extend(request_bytes(
            "GET",
            &format!("/v1/mock/{}", ids[i % 3]),
            &[],
            None,
        ));
    }
    let mut c = Client::connect(addr);
    c.send(&bytes);
    for i in 0..120 {
        let r = c.read_response();
        assert_eq!(r.text(), format!("m{}", i % 3), "response #{i}");
    }
    for id in &ids {
        assert_eq!(hit_count(addr, id), 40);
    }
}

/// Pipelined responses far beyond the output cap all arrive, complete and in order.
#[test]
fn pipelined_large_responses_with_output_backpressure() {
    let server = start_with(|c| c.limits.max_output_bytes = 64 * 1024);
    let addr = server.local_addr();
    let big_a = "a".repeat(48 * 1024);
    // Bigger than the cap on its own.
    let big_b = "b".repeat(100 * 1024);
    let a = create_id(addr, &json!({ "body": big_a }));
    let b = create_id(addr, &json!({ "body": big_b }));
    let mut bytes = Vec::new();
    for i in 0..64 {
        let id = if i % 2 == 0 { &a } else { &b };
        bytes.extend(request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    }
    let mut c = Client::connect(addr);
    c.send(&bytes);
    for i in 0..64 {
        let r = c.read_response();
        let want = if i % 2 == 0 { &big_a } else { &big_b };
        assert!(r.body == want.as_bytes(), "response #{i} differs");
    }
}

/// A create whose JSON arrives as a chunked body (with a chunk extension and a trailer) works.
#[test]
fn chunked_create() {
    let server = start();
    let addr = server.local_addr();
    let spec = json!({"body": "chunked!", "status_code": 202}).to_string();
    let mut raw = b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for (i, piece) in spec.as_bytes().chunks(5).enumerate() {
        if i == 1 {
            raw.extend(format!("{:X};name=value\r\n", piece.len()).as_bytes());
        } else {
            raw.extend(format!("{:x}\r\n", piece.len()).as_bytes());
        }
        raw.extend(piece);
        raw.extend(b"\r\n");
    }
    raw.extend(b"0\r\nX-Trailer: ignored\r\n\r\n");
    let mut c = Client::connect(addr);
    c.send(&raw);
    let r = c.read_response();
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.mock()["mock_id"].as_str().unwrap().to_string();
    // The connection is still aligned after the chunked body.
    let r = c.get(&format!("/v1/mock/{id}"));
    assert_eq!((r.status, r.body.as_slice()), (202, &b"chunked!"[..]));
}

/// A chunked body on the serving path is consumed exactly; the next request is answered.
#[test]
fn chunked_body_on_serving_path() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "ok"}));
    let inner = b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut raw =
        format!("POST /v1/mock/{id} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            .into_bytes();
    raw.extend(format!("{:x}\r\n", inner.len()).as_bytes());
    raw.extend(inner);
    raw.extend(b"\r\n3\r\nabc\r\n0\r\n\r\n");
    raw.extend(request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    let mut c = Client::connect(addr);
    c.send(&raw);
    for _ in 0..2 {
        let r = c.read_response();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
    }
    assert_eq!(hit_count(addr, &id), 2);
}

/// A chunked create dribbled one byte per write is assembled correctly.
#[test]
fn chunked_body_one_byte_per_write() {
    let server = start();
    let addr = server.local_addr();
    let spec = br#"{"body":"slow"}"#;
    let mut raw = b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in spec.chunks(4) {
        raw.extend(format!("{:x}\r\n", piece.len()).as_bytes());
        raw.extend(piece);
        raw.extend(b"\r\n");
    }
    raw.extend(b"0\r\n\r\n");
    let mut c = Client::connect(addr);
    dribble(&mut c, &raw, 1, Duration::from_micros(200));
    let r = c.read_response();
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.mock()["mock_id"].as_str().unwrap().to_string();
    assert_eq!(hit(addr, &id).body, b"slow");
}

/// A request head and a Content-Length body split across many small writes are reassembled.
#[test]
fn head_and_body_split_across_writes() {
    let server = start();
    let addr = server.local_addr();
    let spec = json!({"name": "split", "body": "x".repeat(300)}).to_string();
    let raw = request_bytes(
        "POST",
        "/v1/mocks",
        &[("X-API-Key", K1)],
        Some(spec.as_bytes()),
    );
    let mut c = Client::connect(addr);
    dribble(&mut c, &raw, 7, Duration::from_micros(300));
    let r = c.read_response();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.mock()["name"], json!("split"));
}

/// A request split into two writes at any byte offset is parsed the same.
#[test]
fn request_split_at_every_offset() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "whole"}));
    let raw = request_bytes(
        "POST",
        &format!("/v1/mock/{id}"),
        &[("X-Extra", "value")],
        Some(b"0123456789"),
    );
    let mut c = Client::connect(addr);
    for k in 1..raw.len() {
        c.send(&raw[..k]);
        // A slow client: the rest arrives in a separate read.
        std::thread::sleep(Duration::from_millis(1));
        c.send(&raw[k..]);
        let r = c.read_response();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"whole"[..]),
            "split at {k}"
        );
    }
    assert_eq!(hit_count(addr, &id), raw.len() as u64 - 1);
}

/// A chunked body split into two writes at every possible byte offset is decoded the same.
#[test]
fn chunked_body_split_at_every_offset() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "decoded"}));
    let head =
        format!("PUT /v1/mock/{id} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    let body = b"5;ext=1\r\nhello\r\n0A\r\n0123456789\r\n0\r\nX-T: v\r\n\r\n";
    let mut c = Client::connect(addr);
    for k in 1..body.len() {
        c.send(head.as_bytes());
        c.send(&body[..k]);
        std::thread::sleep(Duration::from_millis(1));
        c.send(&body[k..]);
        let r = c.read_response();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"decoded"[..]),
            "split at {k}"
        );
    }
}

/// A request pipelined behind one that asked for `Connection: close` is not answered.
#[test]
fn nothing_is_answered_after_connection_close() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "x"}));
    let mut bytes = request_bytes("GET", "/v1/status", &[("Connection", "close")], None);
    bytes.extend(request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    let mut c = Client::connect(addr);
    c.send(&bytes);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert!(r.closes());
    c.expect_eof();
    assert_eq!(hit_count(addr, &id), 0);
}

/// A slow body is not cut off by the shorter header or idle timeouts.
#[test]
fn slow_body_is_governed_by_body_timeout_only() {
    let server = start_with(|c| {
        c.limits.header_timeout = Duration::from_millis(200);
        c.limits.idle_timeout = Duration::from_millis(200);
        c.limits.body_timeout = Duration::from_secs(5);
    });
    let addr = server.local_addr();
    let spec = br#"{"body": "patient"}"#;
    let mut c = Client::connect(addr);
    c.send(
        format!(
            "POST /v1/mocks HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\nContent-Length: {}\r\n\r\n",
            spec.len()
        )
        .as_bytes(),
    );
    // Three pauses longer than the header and idle timeouts, each shorter than body_timeout.
    for piece in spec.chunks(spec.len() / 3 + 1) {
        std::thread::sleep(Duration::from_millis(300));
        c.send(piece);
    }
    let r = c.read_response();
    assert_eq!(r.status, 201, "{}", r.text());
}

/// Bodies on control-API requests that take none are read and discarded.
#[test]
fn control_request_bodies_are_discarded() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    let inner = "DELETE /v1/mocks/x HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\n\r\n";
    let mut bytes = request_bytes("GET", "/v1/status", &[], Some(inner.as_bytes()));
    bytes.extend(request_bytes(
        "GET",
        &format!("/v1/mocks/{id}"),
        &[("X-API-Key", K1)],
        Some(inner.as_bytes()),
    ));
    bytes.extend(request_bytes("GET", "/nope", &[], Some(inner.as_bytes())));
    bytes.extend(request_bytes("GET", "/v1/status", &[], None));
    let mut c = Client::connect(addr);
    c.send(&bytes);
    assert_eq!(c.read_response().status, 200);
    assert_eq!(c.read_response().status, 200);
    assert_eq!(c.read_response().status, 404);
    assert_eq!(c.read_response().status, 200);
    assert_eq!(get_mock(addr, K1, &id).status, 200);
}

/// Large request and response bodies do not disturb later small exchanges on the connection.
#[test]
fn large_bodies_then_small_requests() {
    let server = start();
    let addr = server.local_addr();
    let big = "B".repeat(600 * 1024);
    let mut c = Client::connect(addr);
    let spec = json!({ "body": big }).to_string();
    let r = c.request(
        "POST",
        "/v1/mocks",
        &[("X-API-Key", K1)],
        Some(spec.as_bytes()),
    );
    assert_eq!(r.status, 201);
    let big_id = r.mock()["mock_id"].as_str().unwrap().to_string();
    let small_id = create_id(addr, &json!({"body": "small"}));
    for _ in 0..3 {
        let r = c.get(&format!("/v1/mock/{big_id}"));
        assert!(r.body == big.as_bytes());
        let r = c.request(
            "POST",
            &format!("/v1/mock/{small_id}"),
            &[],
            Some(spec.as_bytes()),
        );
        assert_eq!(r.body, b"small");
        for _ in 0..5 {
            assert_eq!(c.get(&format!("/v1/mock/{small_id}")).body, b"small");
        }
    }
}

/// An HTTP/1.0 request with `Expect: 100-continue` gets no interim response.
#[test]
fn no_continue_for_http10() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "final"}));
    let mut c = Client::connect(addr);
    c.send(
        format!(
            "POST /v1/mock/{id} HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi"
        )
        .as_bytes(),
    );
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"final");
    c.expect_eof();
}

/// A shutdown closes idle keep-alive connections promptly.
#[test]
fn shutdown_closes_idle_connections() {
    let server = start();
    let mut c = Client::connect(server.local_addr());
    assert_eq!(c.get("/v1/status").status, 200);
    server.shutdown();
    c.expect_eof();
    server.join();
}

/// `Expect: 100-continue` on a create gets `100 Continue` before the body is sent, then 201.
#[test]
fn expect_continue_on_create() {
    let server = start();
    let addr = server.local_addr();
    let body = br#"{"body":"after continue"}"#;
    let mut c = Client::connect(addr);
    c.send(
        format!(
            "POST /v1/mocks HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let interim = c.read_response();
    assert_eq!(interim.status, 100);
    assert_eq!(interim.head_raw, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.send(body);
    let r = c.read_response();
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.mock()["mock_id"].as_str().unwrap().to_string();
    assert_eq!(c.get(&format!("/v1/mock/{id}")).body, b"after continue");
}

/// `Expect: 100-continue` with a chunked body on the serving path gets `100 Continue` first.
#[test]
fn expect_continue_on_serving_with_chunked_body() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "served"}));
    let mut c = Client::connect(addr);
    c.send(
        format!(
            "PUT /v1/mock/{id} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n"
        )
        .as_bytes(),
    );
    let interim = c.read_response();
    assert_eq!(interim.status, 100);
    c.send(b"4\r\ndata\r\n0\r\n\r\n");
    let r = c.read_response();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"served"[..]));
}

/// A body over the limit with `Expect: 100-continue` is refused with 413 and no `100 Continue`.
#[test]
fn expect_continue_with_oversized_body_is_413() {
    let server = start_with(|c| c.limits.max_request_body_bytes = 1024);
    let addr = server.local_addr();
    let mut c = Client::connect(addr);
    c.send(b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 413);
    assert!(r.closes());
    c.expect_eof();
}

/// An expectation other than `100-continue` is 417, then the connection closes.
#[test]
fn unsupported_expectation_is_417() {
    let server = start();
    assert_protocol_error(
        server.local_addr(),
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 200-ok\r\n\r\n{}",
        417,
    );
}

/// Malformed heads and framing get 400, then close; nothing behind them is answered.
#[test]
fn malformed_requests_are_400_then_close() {
    let server = start();
    let addr = server.local_addr();
    let cases: &[&[u8]] = &[
        b"GET /v1/status HTTP/1.1\nHost: x\r\n\r\n",
        b"GET /v1/status HTTP/1.1\r\nHost: x\n\r\n",
        b"GET /v1/status HTTP/1.1\r\n\r\n",
        b"GET /v1/status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"G\x01T /v1/status HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET  /v1/status HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/status HTTP/1.1 \r\nHost: x\r\n\r\n",
        b"GET /v1/status\r\nHost: x\r\n\r\n",
        b"GET /v1/status HTTP/1.1x\r\nHost: x\r\n\r\n",
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n",
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n",
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
        b"GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nContent-Length: 0x2\r\n\r\n{}",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        b"POST /v1/mocks HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ];
    for raw in cases {
        assert_protocol_error(addr, raw, 400);
    }
}

/// Malformed chunked bodies are 400, then the connection closes.
#[test]
fn malformed_chunked_bodies_are_400() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    let head =
        format!("POST /v1/mock/{id} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for body in [
        &b"zz\r\n"[..],
        b"-1\r\n",
        b"3\r\nabcX\r\n0\r\n\r\n",
        b"3\nabc\r\n0\r\n\r\n",
        b"3\r\nabc\r\n0\r\n\n",
        b"11111111111111111\r\n",
    ] {
        let mut raw = head.clone().into_bytes();
        raw.extend_from_slice(body);
        assert_protocol_error(addr, &raw, 400);
    }
}

/// HTTP major versions other than 1 get 505, then the connection closes.
#[test]
fn unsupported_versions_are_505() {
    let server = start();
    let addr = server.local_addr();
    for raw in [
        &b"GET /v1/status HTTP/2.0\r\nHost: x\r\n\r\n"[..],
        b"GET /v1/status HTTP/0.9\r\n\r\n",
    ] {
        assert_protocol_error(addr, raw, 505);
    }
}

/// A head of exactly `max_head_bytes` is served; one byte more is 431, then the connection closes.
#[test]
fn head_size_limit_431() {
    let server = start_with(|c| c.limits.max_head_bytes = 1024);
    let addr = server.local_addr();
    let head = |len: usize| -> Vec<u8> {
        let prefix = "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Pad: ";
        let pad = len - prefix.len() - 4;
        format!("{prefix}{}\r\n\r\n", "p".repeat(pad)).into_bytes()
    };
    let exact = head(1024);
    assert_eq!(exact.len(), 1024);
    let mut c = Client::connect(addr);
    c.send(&exact);
    assert_eq!(c.read_response().status, 200);
    assert_protocol_error(addr, &head(1025), 431);
    // A head that never ends is refused as soon as it passes the limit.
    let mut c = Client::connect(addr);
    c.send(&head(1025)[..1025 - 4]);
    c.send(b"more-padding-without-end");
    let r = c.read_response();
    assert_eq!(r.status, 431);
    c.expect_eof();
}

/// More header fields than the parser takes (100) is 431, even within the byte limit.
#[test]
fn too_many_header_fields_431() {
    let server = start();
    let fields: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    let raw = format!("GET /v1/status HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
    assert_protocol_error(server.local_addr(), raw.as_bytes(), 431);
}

/// A target of exactly `max_target_bytes` is served; one byte more is 414, then close.
#[test]
fn target_length_limit_414() {
    let server = start_with(|c| c.limits.max_target_bytes = 256);
    let addr = server.local_addr();
    let target = |len: usize| format!("/v1/status?{}", "q".repeat(len - "/v1/status?".len()));
    let mut c = Client::connect(addr);
    let ok = target(256);
    assert_eq!(ok.len(), 256);
    assert_eq!(c.get(&ok).status, 200);
    let raw = request_bytes("GET", &target(257), &[], None);
    assert_protocol_error(addr, &raw, 414);
}

/// A request line longer than the whole head limit, still without its end, is 414.
#[test]
fn endless_request_line_is_414() {
    let server = start_with(|c| {
        c.limits.max_head_bytes = 1024;
        c.limits.max_target_bytes = 512;
    });
    let mut c = Client::connect(server.local_addr());
    c.send(format!("GET /{}", "a".repeat(2000)).as_bytes());
    let r = c.read_response();
    assert_eq!(r.status, 414);
    assert!(r.closes());
    c.expect_eof();
}

/// A body of exactly max_request_body_bytes is accepted; one byte more is 413, then close.
#[test]
fn request_body_limit_413() {
    let server = start_with(|c| c.limits.max_request_body_bytes = 1024);
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "fits"}));
    let path = format!("/v1/mock/{id}");
    let mut c = Client::connect(addr);
    let r = c.request("POST", &path, &[], Some(&[b'z'; 1024][..]));
    assert_eq!((r.status, r.body.as_slice()), (200, &b"fits"[..]));
    // A create body padded with JSON whitespace to exactly the limit.
    let mut spec = br#"{"name":"padded"}"#.to_vec();
    spec.resize(1024, b' ');
    let r = c.request("POST", "/v1/mocks", &[("X-API-Key", K1)], Some(&spec));
    assert_eq!(r.status, 201, "{}", r.text());

    assert_protocol_error(
        addr,
        &request_bytes("POST", &path, &[], Some(&[b'z'; 1025][..])),
        413,
    );
    spec.push(b' ');
    assert_protocol_error(
        addr,
        &request_bytes("POST", "/v1/mocks", &[("X-API-Key", K1)], Some(&spec)),
        413,
    );
}

/// A chunked body that grows past `max_request_body_bytes` is 413, then the connection closes.
#[test]
fn chunked_body_over_limit_413() {
    let server = start_with(|c| c.limits.max_request_body_bytes = 1024);
    let addr = server.local_addr();
    let id = create_id(addr, &json!({}));
    let mut raw =
        format!("POST /v1/mock/{id} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            .into_bytes();
    for _ in 0..4 {
        raw.extend(b"100\r\n");
        raw.extend([b'c'; 256]);
        raw.extend(b"\r\n");
    }
    // 1024 bytes so far: fine. One more byte is too many.
    let mut ok = raw.clone();
    ok.extend(b"0\r\n\r\n");
    let mut c = Client::connect(addr);
    c.send(&ok);
    assert_eq!(c.read_response().status, 200);
    raw.extend(b"1\r\nX\r\n0\r\n\r\n");
    assert_protocol_error(addr, &raw, 413);
}

/// A head not completed within `header_timeout` gets 408 and the connection closes.
#[test]
fn header_timeout_408_then_close() {
    let server = start_with(|c| c.limits.header_timeout = Duration::from_millis(300));
    let mut c = Client::connect(server.local_addr());
    let t0 = Instant::now();
    c.send(b"GET /v1/status HTTP/1.1\r\nHo");
    let r = c.read_response();
    let waited = t0.elapsed();
    assert_eq!(r.status, 408);
    assert!(r.closes());
    r.detail();
    c.expect_eof();
    assert!(waited >= Duration::from_millis(300), "408 after {waited:?}");
}

/// The header timeout covers the whole head: a client dribbling bytes steadily still gets 408.
#[test]
fn header_timeout_catches_a_dribbling_client() {
    let server = start_with(|c| c.limits.header_timeout = Duration::from_millis(300));
    let mut c = Client::connect(server.local_addr());
    let t0 = Instant::now();
    // 15 bytes, one every 40 ms: about 600 ms in all, never a gap near 300 ms.
    for b in b"GET /v1/status ".iter() {
        c.send_lenient(&[*b]);
        std::thread::sleep(Duration::from_millis(40));
    }
    let r = c.read_response();
    assert_eq!(r.status, 408);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    c.expect_eof();
}

/// A body that stops arriving for longer than `body_timeout` gets 408, then close.
#[test]
fn body_timeout_408_then_close() {
    let server = start_with(|c| c.limits.body_timeout = Duration::from_millis(300));
    let addr = server.local_addr();
    let mut c = Client::connect(addr);
    let t0 = Instant::now();
    c.send(
        b"POST /v1/mocks HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\nContent-Length: 10\r\n\r\n{\"a",
    );
    let r = c.read_response();
    assert_eq!(r.status, 408);
    assert!(t0.elapsed() >= Duration::from_millis(300));
    c.expect_eof();
    assert_eq!(server.store().totals().created, 0);
}

/// An idle keep-alive connection is closed after `idle_timeout`, silently (no 408).
#[test]
fn idle_connection_is_closed() {
    let server = start_with(|c| c.limits.idle_timeout = Duration::from_millis(300));
    let addr = server.local_addr();
    // Never sent anything.
    let mut c = Client::connect(addr);
    let t0 = Instant::now();
    c.expect_eof();
    assert!(t0.elapsed() >= Duration::from_millis(300));
    // Idle after a completed exchange.
    let mut c = Client::connect(addr);
    assert_eq!(c.get("/v1/status").status, 200);
    let t0 = Instant::now();
    c.expect_eof();
    assert!(t0.elapsed() >= Duration::from_millis(300));
}

/// Empty lines before a request line are ignored (RFC 9112 §2.2).
#[test]
fn leading_empty_lines_are_ignored() {
    let server = start();
    let mut c = Client::connect(server.local_addr());
    c.send(b"\r\n\r\nGET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.read_response().status, 200);
}

/// A client that half-closes after its request still receives the response.
#[test]
fn half_closed_client_gets_its_response() {
    let server = start();
    let addr = server.local_addr();
    let id = create_id(addr, &json!({"body": "half"}));
    let mut c = Client::connect(addr);
    c.send(&request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    c.shutdown_write();
    let r = c.read_response();
    assert_eq!(r.body, b"half");
    c.expect_eof();
}

/// Non-protocol errors (401, 404, 405, 422) keep the connection open.
#[test]
fn api_errors_keep_the_connection() {
    let server = start();
    let mut c = Client::connect(server.local_addr());
    assert_eq!(c.get("/nope").status, 404);
    assert_eq!(c.request("PUT", "/v1/status", &[], None).status, 405);
    assert_eq!(c.request("POST", "/v1/mocks", &[], Some(b"{}")).status, 401);
    let r = c.request("POST", "/v1/mocks", &[("X-API-Key", K1)], Some(b"[]"));
    assert_eq!(r.status, 422);
    assert!(!r.closes());
    assert_eq!(c.get("/v1/status").status, 200);
}

/// Past max_connections a new connection gets a well-formed 503 and is closed.
#[test]
fn connection_cap_sheds_with_503() {
    let server = start_with(|c| c.limits.max_connections = 2);
    let addr = server.local_addr();
    let mut a = Client::connect(addr);
    let mut b = Client::connect(addr);
    assert_eq!(a.get("/v1/status").status, 200);
    assert_eq!(b.get("/v1/status").status, 200);
    let mut c = Client::connect(addr);
    let r = c.read_response();
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_some());
    assert!(r.closes());
    c.expect_eof();
    // The held connections are unaffected.
    assert_eq!(a.get("/v1/status").status, 200);
    drop(a);
    // The server notices the close asynchronously: retry until a slot is free.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut d = Client::connect(addr);
        d.send(&request_bytes("GET", "/v1/status", &[], None));
        let r = d.read_response();
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 503);
        assert!(Instant::now() < deadline, "slot never freed");
    }
    assert_eq!(b.get("/v1/status").status, 200);
}
