//! Ordering and completeness: nothing is answered before its request fully arrived, pipelined
//! requests behind a chunked body are answered in order, and delayed responses never reorder or
//! interleave with the undelayed ones around them.

use std::time::{Duration, Instant};

use crate::client::*;

/// A request whose body is still missing gets no response at all until the body timeout's 408,
/// and the mock it targets is not hit.
#[test]
fn partial_body_gets_nothing_until_the_body_timeout() {
    let server = start_with(|c| c.limits.body_timeout = Duration::from_millis(400));
    let addr = server.local_addr();
    let id = create(addr, r#"{"body": "must not be served"}"#);
    for (what, head, part) in [
        ("length", "Content-Length: 10\r\n", "hello"),
        ("chunked", "Transfer-Encoding: chunked\r\n", "a\r\nhel"),
    ] {
        let mut c = Conn::connect(addr);
        c.send(format!("POST /v1/mock/{id} HTTP/1.1\r\nHost: h\r\n{head}\r\n{part}").as_bytes());
        let got = c.drain(Duration::from_secs(4));
        let first = got.first_byte.expect("a 408 eventually");
        assert!(
            first >= Duration::from_millis(350),
            "{what}: a response came {first:?} after a partial body: {:?}",
            got.text()
        );
        assert!(got.closed, "{what}: not closed");
        let (rs, used) = split_responses(&got.bytes, &[]).unwrap();
        assert_eq!(
            (rs.len(), used),
            (1, got.bytes.len()),
            "{what}: {:?}",
            got.text()
        );
        assert_eq!(rs[0].status, 408, "{what}: {}", rs[0].text());
        assert!(rs[0].closes());
    }
    assert_eq!(hit_count(addr, &id), 0, "a partial request was served");
}

/// Requests pipelined behind a chunked body (and a Content-Length body) are answered, in order.
#[test]
fn pipelined_after_chunked_body_in_order() {
    let server = start_with(|_| {});
    let addr = server.local_addr();
    let a = create(addr, r#"{"body": "alpha"}"#);
    let b = create(addr, r#"{"body": "beta", "status_code": 202}"#);
    let mut req = Vec::new();
    req.extend_from_slice(
        format!(
            "POST /v1/mock/{a} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        .as_bytes(),
    );
    req.extend_from_slice(format!("GET /v1/mock/{b} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
    req.extend_from_slice(
        format!("PUT /v1/mock/{a} HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nGET ").as_bytes(),
    );
    req.extend_from_slice(format!("HEAD /v1/mock/{b} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
    req.extend_from_slice(
        format!("GET /v1/mock/{a} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    let mut c = Conn::connect(addr);
    c.send(&req);
    let got = c.drain(IO_TIMEOUT);
    assert!(got.closed);
    let (rs, used) = split_responses(&got.bytes, &[false, false, false, true, false]).unwrap();
    assert_eq!(used, got.bytes.len(), "{:?}", got.text());
    let seen: Vec<(u16, &[u8])> = rs.iter().map(|r| (r.status, &r.body[..])).collect();
    assert_eq!(
        seen,
        vec![
            (200, &b"alpha"[..]),
            (202, b"beta"),
            (200, b"alpha"),
            (202, b""),
            (200, b"alpha"),
        ],
        "{:?}",
        got.text()
    );
    assert!(rs[4].closes());
    assert_eq!(hit_count(addr, &a), 3);
    assert_eq!(hit_count(addr, &b), 2);
}

/// 100 pipelined requests mixing delayed (20 ms, 7 ms) and undelayed mocks on one connection come
/// back byte-exact, in request order, with no interleaving.
#[test]
fn hundred_pipelined_mixed_delays_byte_exact() {
    let server = start_with(|_| {});
    let addr = server.local_addr();
    let specs = [
        r#"{"body": "delayed twenty", "delay_ms": 20}"#,
        r#"{"body": "delayed seven", "delay_ms": 7, "status_code": 201}"#,
        r#"{"body": "u1"}"#,
        r#"{"body": "undelayed two", "headers": {"X-Two": "2"}}"#,
        r#"{"status_code": 204}"#,
    ];
    let ids: Vec<String> = specs.iter().map(|s| create(addr, s)).collect();
    // Each mock's exact keep-alive response, Date masked.
    let mut c = Conn::connect(addr);
    let single: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| mask_date(&c.get(&format!("/v1/mock/{id}")).0.raw))
        .collect();
    drop(c);

    let mut rng = fastrand::Rng::with_seed(0x5eed_0100);
    let picks: Vec<usize> = (0..100).map(|_| rng.usize(..ids.len())).collect();
    let mut req = Vec::new();
    let mut want = Vec::new();
    for &p in &picks {
        req.extend_from_slice(
            format!("GET /v1/mock/{} HTTP/1.1\r\nHost: h\r\n\r\n", ids[p]).as_bytes(),
        );
        want.extend_from_slice(&single[p]);
    }
    let mut c = Conn::connect(addr);
    let t = Instant::now();
    c.send(&req);
    // Read exactly as many bytes as expected (Date values have a fixed width), then a little more
    // to make sure nothing else follows.
    let mut got = Vec::new();
    while got.len() < want.len() && t.elapsed() < IO_TIMEOUT {
        let d = c.drain(Duration::from_millis(100));
        got.extend_from_slice(&d.bytes);
        assert!(
            !d.closed,
            "server closed early: {:?}",
            String::from_utf8_lossy(&got)
        );
    }
    got.extend_from_slice(&c.drain(Duration::from_millis(100)).bytes);
    let got = mask_date(&got);
    if got != want {
        let at = got
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "responses differ at byte {at} (got {} bytes, want {}):\n got: {:?}\nwant: {:?}",
            got.len(),
            want.len(),
            String::from_utf8_lossy(&got[at.saturating_sub(80)..(at + 80).min(got.len())]),
            String::from_utf8_lossy(&want[at.saturating_sub(80)..(at + 80).min(want.len())]),
        );
    }
    let delayed = picks.iter().filter(|&&p| p < 2).count();
    assert!(delayed > 10, "the mix has delayed responses ({delayed})");
    // Delays of one batch overlap; the whole pipeline takes far less than their sum.
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
}
