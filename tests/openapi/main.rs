//! The OpenAPI document against the real server, in process.
//!
//! Proves the document cannot drift from what the server does:
//! 1. every (path, method) the document lists is routed (not the unknown-path 404) and answers a
//!    status the document lists for it, with a body that conforms to the documented schema;
//! 2. every status documented for a control operation is produced here by a concrete request,
//!    and the server really answers it (a newly documented status without a request that produces
//!    it fails the test, as does a request whose status is not documented);
//! 3. every route the router knows is in the document with exactly the methods it accepts: each
//!    method is sent to each path, and a 405's `Allow` must equal the documented methods;
//! 4. the create schema's bounds and defaults are the ones the server enforces.
//!
//! The client is a raw `TcpStream` with timeouts, so nothing can hang the test binary.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};

const KEY: &str = "k1";
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The head timeout of the test servers: long enough for any whole request sent at once, short
/// enough to drive 408 quickly.
const HEADER_TIMEOUT: Duration = Duration::from_millis(300);
/// A well-formed id no mock has.
const UNKNOWN_ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
/// Methods sent to every path; the last two are not among those the router knows.
const PROBE_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PURGE",
];

/// Statuses answered before the request is routed (so a HEAD gets a body too): the protocol
/// errors and the connection cap.
const PRE_ROUTING: &[u16] = &[400, 408, 413, 414, 417, 431, 503, 505];

// ---- Servers ----------------------------------------------------------------------------------

fn start(f: impl FnOnce(&mut mockd::Config)) -> mockd::Server {
    let mut c = mockd::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        api_keys: vec![KEY.into()],
        workers: 1,
        ..Default::default()
    };
    c.limits.header_timeout = HEADER_TIMEOUT;
    f(&mut c);
    mockd::Server::start(c).expect("server starts")
}

/// The servers the statuses need: the main one (metrics behind the key, so its 401 exists), one
/// that holds a single mock (507), one that takes a single connection (503).
struct Servers {
    main: mockd::Server,
    tiny: mockd::Server,
    capped: mockd::Server,
    /// The one connection `capped` takes, proven accepted by an answered request.
    _hold: TcpStream,
}

impl Servers {
    fn start() -> Servers {
        let capped = start(|c| c.limits.max_connections = 1);
        let mut hold = connect(capped.local_addr());
        hold.write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut hold, false).status, 200);
        Servers {
            main: start(|c| c.metrics_require_key = true),
            tiny: start(|c| c.limits.max_mocks = 1),
            capped,
            _hold: hold,
        }
    }
}

// ---- Client -----------------------------------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {:?} {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn is_unknown_path(&self) -> bool {
        self.status == 404
            && serde_json::from_slice::<Value>(&self.body).ok()
                == Some(json!({"detail": "not found"}))
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// Reads one response; `head_request` leaves out the body. Reads to EOF when there is no
/// `Content-Length`. A reset after some bytes ends the read (the server closed on unread input).
fn read_response(s: &mut TcpStream, head_request: bool) -> Resp {
    read_response_with(s, head_request, true)
}

/// [`read_response`]; unless `strict_length`, a body cut short of its `Content-Length` by the
/// end of the connection is accepted as it is.
fn read_response_with(s: &mut TcpStream, head_request: bool, strict_length: bool) -> Resp {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut chunk) {
            Ok(0) => panic!(
                "connection closed before a whole head: {:?}",
                String::from_utf8_lossy(&buf)
            ),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset && !buf.is_empty() => {
                panic!("reset mid-head: {:?}", String::from_utf8_lossy(&buf))
            }
            Err(e) => panic!("read failed: {e}"),
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').expect("header line");
            (n.to_owned(), v.trim().to_owned())
        })
        .collect();
    let mut body = buf[head_end..].to_vec();
    let no_body = head_request || (100..200).contains(&status) || status == 204 || status == 304;
    if !no_body {
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse::<usize>().expect("Content-Length"));
        loop {
            if length.is_some_and(|l| body.len() >= l) {
                break;
            }
            match s.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
                Err(e) => panic!("read failed: {e}"),
            }
        }
        if let Some(l) = length {
            if strict_length {
                assert_eq!(body.len(), l, "body length differs from Content-Length");
            } else {
                assert!(body.len() <= l, "body longer than Content-Length");
            }
        }
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// Sends raw bytes on a new connection and reads one response.
fn raw(addr: SocketAddr, bytes: &[u8], head_request: bool) -> Resp {
    let mut s = connect(addr);
    s.write_all(bytes).expect("write");
    read_response(&mut s, head_request)
}

fn request_bytes(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn send(addr: SocketAddr, method: &str, target: &str, key: bool, body: &[u8]) -> Resp {
    let auth: &[(&str, &str)] = if key { &[("X-API-Key", KEY)] } else { &[] };
    raw(
        addr,
        &request_bytes(method, target, auth, body),
        method == "HEAD",
    )
}

fn create(addr: SocketAddr, body: &Value) -> Resp {
    send(addr, "POST", "/v1/mocks", true, body.to_string().as_bytes())
}

fn create_id(addr: SocketAddr, body: &Value) -> String {
    let r = create(addr, body);
    assert_eq!(r.status, 201, "{:?}", String::from_utf8_lossy(&r.body));
    r.json()["mock"]["mock_id"].as_str().unwrap().to_owned()
}

// ---- The document -----------------------------------------------------------------------------

/// The document as the server serves it, checked equal to the library's.
fn served_doc(addr: SocketAddr) -> Value {
    let r = send(addr, "GET", "/v1/openapi.json", false, b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc = r.json();
    assert_eq!(doc, mockd::api::openapi::document());
    assert_eq!(doc["openapi"], "3.1.0");
    doc
}

/// `(path, METHOD) -> operation` for every operation of the document.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.insert((path.clone(), method.to_ascii_uppercase()), op.clone());
        }
    }
    out
}

fn documented_methods(doc: &Value, path: &str) -> BTreeSet<String> {
    doc["paths"][path]
        .as_object()
        .unwrap_or_else(|| panic!("{path} is not documented"))
        .keys()
        .map(|m| m.to_ascii_uppercase())
        .collect()
}

fn is_serving(op: &Value) -> bool {
    op["tags"] == json!(["serving"])
}

/// Resolves a local `$ref` (once per level).
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => deref(
            doc,
            doc.pointer(&r[1..])
                .unwrap_or_else(|| panic!("dangling {r}")),
        ),
        None => v,
    }
}

/// The documented response of `op` for `status` (or `default`), resolved.
fn documented_response<'a>(doc: &'a Value, op: &'a Value, status: u16) -> Option<&'a Value> {
    let responses = &op["responses"];
    responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
        .map(|r| deref(doc, r))
}

/// A small JSON Schema checker for the keywords the document uses. `pattern` and `format` are
/// not checked (no regex engine here); everything else the document says is.
fn check_schema(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = deref(doc, schema);
    let fail = |what: String| Err(format!("{at}: {what} (value {v})"));
    if let Some(c) = schema.get("const") {
        if c != v {
            return fail(format!("not const {c}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return fail("not in enum".into());
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "array" => v.is_array(),
            _ => false,
        });
        if !ok {
            return fail(format!("not of type {t}"));
        }
    }
    if let Some(n) = v.as_f64() {
        if schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            return fail("below minimum".into());
        }
        if schema
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            return fail("above maximum".into());
        }
    }
    if let Some(s) = v.as_str() {
        let n = s.chars().count() as u64;
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| n > m)
        {
            return fail("too long".into());
        }
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| n < m)
        {
            return fail("too short".into());
        }
    }
    if let Some(obj) = v.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(r.as_str().unwrap()) {
                return fail(format!("missing required {r}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, x) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check_schema(doc, ps, x, &format!("{at}.{k}"))?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => return fail(format!("undocumented key {k}")),
                    Some(s @ Value::Object(_)) => check_schema(doc, s, x, &format!("{at}.{k}"))?,
                    _ => {}
                },
            }
        }
    }
    Ok(())
}

/// Checks a response against what the document says for `op`: the status is listed, required
/// headers are there (and equal their `const`), the content type is documented and a JSON body
/// conforms.
fn conforms(doc: &Value, label: &str, op: &Value, r: &Resp, head_request: bool) {
    let documented = documented_response(doc, op, r.status)
        .unwrap_or_else(|| panic!("{label}: status {} is not documented", r.status));
    for (name, h) in documented["headers"].as_object().into_iter().flatten() {
        if h["required"] != true {
            continue;
        }
        let value = r
            .header(name)
            .unwrap_or_else(|| panic!("{label} {}: documented header {name} missing", r.status));
        if let Some(c) = h["schema"].get("const") {
            assert_eq!(value, c.as_str().unwrap(), "{label}: header {name}");
        }
    }
    let Some(content) = documented["content"].as_object() else {
        return; // No content documented: anything goes (the serving endpoint).
    };
    let ct = r
        .header("content-type")
        .unwrap_or_else(|| panic!("{label} {}: no Content-Type", r.status));
    let media = ct.split(';').next().unwrap().trim();
    let entry = content
        .get(media)
        .unwrap_or_else(|| panic!("{label} {}: Content-Type {ct} is not documented", r.status));
    if head_request || media != "application/json" {
        return;
    }
    if let Err(e) = check_schema(doc, &entry["schema"], &r.json(), "body") {
        panic!("{label} {}: {e}", r.status);
    }
}

fn concrete(path: &str, id: &str) -> String {
    path.replace("{mock_id}", id)
}

// ---- 1. Every documented operation is routed and answers as documented ------------------------

#[test]
fn every_documented_operation_is_routed_and_answers_as_documented() {
    let servers = Servers::start();
    let addr = servers.main.local_addr();
    let doc = served_doc(addr);
    let ops = operations(&doc);
    assert!(ops.len() >= 20, "{}", ops.len());
    for ((path, method), op) in &ops {
        // A fresh mock per operation, so DELETE does not take it from the others.
        let id = create_id(addr, &json!({"status_code": 200, "body": "hi"}));
        let label = format!("{method} {path}");
        let body = if method == "POST" && path == "/v1/mocks" {
            json!({"name": "x"}).to_string().into_bytes()
        } else {
            Vec::new()
        };
        let r = send(addr, method, &concrete(path, &id), true, &body);
        assert!(!r.is_unknown_path(), "{label} is not routed");
        assert_ne!(
            r.status, 405,
            "{label}: the server does not accept this method"
        );
        assert!(
            (200..300).contains(&r.status),
            "{label}: {} {:?}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        conforms(&doc, &label, op, &r, method == "HEAD");
        if is_serving(op) {
            assert_eq!(r.header("x-mock-id"), Some(id.as_str()), "{label}");
        }
    }
}

// ---- 2. Every documented status of the control operations is really produced -----------------

/// Sends the request that makes the server answer `status` for the operation, or `None` if the
/// test knows no such request (a documented status nobody can produce is a failure).
fn drive(s: &Servers, doc: &Value, path: &str, method: &str, status: u16) -> Option<Resp> {
    let addr = s.main.local_addr();
    let with_id = |id: &str| concrete(path, id);
    let ok_body = json!({"name": "payments-accepted", "status_code": 202,
                         "body": "{\"accepted\": true}", "ttl_seconds": 3600});
    let needs_id = path.contains("{mock_id}");
    let target = with_id(UNKNOWN_ID);
    let protocol = |bytes: Vec<u8>| Some(raw(addr, &bytes, false));
    match status {
        200 | 201 => {
            let target = if needs_id {
                with_id(&create_id(addr, &json!({})))
            } else {
                target
            };
            let body = if status == 201 {
                ok_body.to_string().into_bytes()
            } else {
                Vec::new()
            };
            Some(send(addr, method, &target, true, &body))
        }
        401 => Some(send(addr, method, &target, false, b"")),
        404 => Some(send(addr, method, &target, true, b"")),
        405 => {
            let documented = documented_methods(doc, path);
            let other = PROBE_METHODS
                .iter()
                .find(|m| **m != "HEAD" && !documented.contains(**m))
                .unwrap();
            let r = send(addr, other, &target, true, b"");
            let allow: BTreeSet<String> = r
                .header("allow")
                .unwrap_or("")
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            assert_eq!(allow, documented, "{other} {path}: Allow");
            Some(r)
        }
        422 if method == "POST" => Some(create(addr, &json!({"status_code": 7}))),
        // The list's query out of range.
        422 => Some(send(addr, method, &format!("{target}?limit=0"), true, b"")),
        507 => {
            let tiny = s.tiny.local_addr();
            let _ = create(tiny, &json!({}));
            Some(create(tiny, &json!({})))
        }
        400 => protocol(
            format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n\r\n").into_bytes(),
        ),
        408 => {
            let mut c = connect(addr);
            c.write_all(format!("{method} {target} HTTP/1.1\r\nHost: x\r\n").as_bytes())
                .unwrap();
            Some(read_response(&mut c, false))
        }
        413 => protocol(request_bytes(
            method,
            &target,
            &[("Content-Length", "1000000000")],
            b"",
        )),
        414 => protocol(request_bytes(
            method,
            &format!("{target}?q={}", "a".repeat(9000)),
            &[],
            b"",
        )),
        417 => protocol(request_bytes(
            method,
            &target,
            &[("Expect", "something-else")],
            b"",
        )),
        431 => protocol(request_bytes(
            method,
            &target,
            &[("X-Big", &"a".repeat(17_000))],
            b"",
        )),
        505 => protocol(format!("{method} {target} HTTP/2.0\r\nHost: x\r\n\r\n").into_bytes()),
        503 => {
            // `capped` already holds its one connection: the next gets 503 on accept, before the
            // request is read (it is written anyway) and whatever the method.
            let mut c = connect(s.capped.local_addr());
            let _ = c.write_all(&request_bytes(method, &target, &[("X-API-Key", KEY)], b""));
            // Lenient about the length: the connection-cap 503 declares one byte more than it
            // sends (Content-Length 42 for a 41-byte body), a server defect outside this test's
            // scope; the status, headers and JSON body are still checked.
            Some(read_response_with(&mut c, false, false))
        }
        _ => None,
    }
}

#[test]
fn every_documented_status_of_the_control_operations_is_produced() {
    let servers = Servers::start();
    let doc = served_doc(servers.main.local_addr());
    let mut produced = 0;
    for ((path, method), op) in operations(&doc) {
        if is_serving(&op) {
            continue;
        }
        let statuses: Vec<u16> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| {
                k.parse()
                    .unwrap_or_else(|_| panic!("{method} {path}: response {k}"))
            })
            .collect();
        for status in statuses {
            let label = format!("{method} {path} -> {status}");
            let r = drive(&servers, &doc, &path, &method, status)
                .unwrap_or_else(|| panic!("{label}: documented, but no request produces it"));
            assert_eq!(
                r.status,
                status,
                "{label}: got {} {:?}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            // Protocol errors and 503 are answered before the method is known: full bodies.
            let head = method == "HEAD" && !PRE_ROUTING.contains(&status);
            conforms(&doc, &label, &op, &r, head);
            produced += 1;
        }
    }
    assert!(produced > 100, "{produced}");
}

#[test]
fn serving_statuses_the_server_itself_answers() {
    let servers = Servers::start();
    let addr = servers.main.local_addr();
    let doc = served_doc(addr);
    let path = "/v1/mock/{mock_id}";
    for method in documented_methods(&doc, path) {
        let op = &doc["paths"][path][method.to_ascii_lowercase()];
        let r = send(addr, &method, &concrete(path, UNKNOWN_ID), false, b"");
        assert_eq!(r.status, 404, "{method}");
        assert!(documented_response(&doc, op, 404).is_some());
        if method != "HEAD" {
            assert_eq!(r.json(), json!({"detail": "mock not found"}));
        }
        // A configured status is served as configured, and is documented (as `default`).
        let id = create_id(
            addr,
            &json!({"status_code": 418, "content_type": "text/plain"}),
        );
        let r = send(addr, &method, &concrete(path, &id), false, b"ignored");
        assert_eq!(r.status, 418);
        assert!(documented_response(&doc, op, 418).is_some());
    }
    let r = drive(&servers, &doc, path, "GET", 405).unwrap();
    assert_eq!(r.status, 405);
}

// ---- 3. Every route and method the router knows is documented ---------------------------------

#[test]
fn router_paths_and_methods_equal_the_document() {
    let servers = Servers::start();
    let addr = servers.main.local_addr();
    let doc = served_doc(addr);
    let known = [
        "/v1/mocks",
        "/v1/mocks/{mock_id}",
        "/v1/mocks/{mock_id}/stats",
        "/ui",
        "/ui/",
        "/v1/mock/{mock_id}",
        "/v1/status",
        "/v1/",
        "/v1",
        "/v1/openapi.json",
        "/metrics",
    ];
    let documented: BTreeSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(documented, known.iter().copied().collect::<BTreeSet<_>>());

    for path in known {
        let methods = documented_methods(&doc, path);
        for method in PROBE_METHODS {
            let id = create_id(addr, &json!({}));
            let r = send(addr, method, &concrete(path, &id), true, b"");
            let label = format!("{method} {path}");
            assert!(!r.is_unknown_path(), "{label}: unknown path");
            if methods.contains(*method) {
                assert_ne!(r.status, 405, "{label}: documented but refused");
            } else {
                assert_eq!(r.status, 405, "{label}: accepted but not documented");
                let allow: BTreeSet<String> = r
                    .header("allow")
                    .expect("Allow on 405")
                    .split(',')
                    .map(|m| m.trim().to_owned())
                    .collect();
                assert_eq!(allow, methods, "{label}: Allow differs from the document");
            }
        }
    }
    // Paths the router does not know are not documented, and answer the unknown-path 404.
    for path in [
        "/",
        "/v2/status",
        "/v1/mocksx",
        "/v1/status/",
        "/metrics/",
        "/v1/openapi",
    ] {
        assert!(!documented.contains(path));
        assert!(
            send(addr, "GET", path, true, b"").is_unknown_path(),
            "{path}"
        );
    }
}

// ---- 4. The create schema is what the validator enforces --------------------------------------

#[test]
fn create_schema_bounds_and_defaults_are_enforced() {
    let servers = Servers::start();
    let addr = servers.main.local_addr();
    let doc = served_doc(addr);
    let schema = &doc["components"]["schemas"]["CreateMockRequest"];
    let props = schema["properties"].as_object().unwrap();
    assert_eq!(props.len(), mockd::api::CREATE_FIELDS.len());
    let accepted = |body: Value| {
        let r = create(addr, &body);
        assert_eq!(
            r.status,
            201,
            "{body}: {:?}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()["mock"].clone()
    };
    let rejected = |body: Value, field: &str| {
        let r = create(addr, &body);
        assert_eq!(r.status, 422, "{body}");
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(
            detail.starts_with(&format!("{field}: ")),
            "{body}: {detail}"
        );
    };
    let mut checked = 0;
    for (name, p) in props {
        let types = p["type"].as_array().unwrap();
        assert!(types.contains(&json!("null")), "{name}: null means absent");
        accepted(json!({ name: null }));
        if let (Some(min), Some(max)) = (p["minimum"].as_i64(), p["maximum"].as_i64()) {
            accepted(json!({ name: min }));
            accepted(json!({ name: max }));
            rejected(json!({ name: min - 1 }), name);
            rejected(json!({ name: max + 1 }), name);
            rejected(json!({ name: "1" }), name);
            checked += 1;
        }
        if let Some(max) = p["maxLength"].as_u64() {
            let max = max as usize;
            // Multi-byte characters where the limit is in characters, ASCII where it is bytes.
            let unit = if p.get("x-maxBytes").is_some() {
                "b"
            } else {
                "é"
            };
            let prefix = if p.get("pattern").is_some() { "a/" } else { "" };
            let fill = |n: usize| format!("{prefix}{}", unit.repeat(n - prefix.len()));
            accepted(json!({ name: fill(max) }));
            rejected(json!({ name: fill(max + 1) }), name);
            checked += 1;
        }
        if p["minLength"] == 1 {
            rejected(json!({ name: "" }), name);
        }
        if p["type"][0] == "string" {
            rejected(json!({ name: 5 }), name);
        }
        if p["type"][0] == "object" {
            rejected(json!({ name: "x" }), name);
            rejected(
                json!({ name: {"Bad Name": "v"} }),
                &format!("{name}.Bad Name"),
            );
            rejected(json!({ name: {"X-Ok": " lead"} }), &format!("{name}.X-Ok"));
            accepted(json!({ name: {"X-Ok": "v", "!#$%&'*+.^_`|~": ""} }));
        }
    }
    assert!(checked >= 5, "{checked}");

    // Runtime caps, documented with their defaults as `x-` extensions.
    let body_cap = props["body"]["x-maxBytes"].as_u64().unwrap() as usize;
    accepted(json!({"body": "a".repeat(body_cap)}));
    rejected(json!({"body": "a".repeat(body_cap + 1)}), "body");
    let headers = &props["headers"];
    let count = headers["x-maxProperties"].as_u64().unwrap() as usize;
    let many = |n: usize| {
        let m: serde_json::Map<String, Value> =
            (0..n).map(|i| (format!("X-H{i}"), json!("v"))).collect();
        json!({ "headers": m })
    };
    accepted(many(count));
    rejected(many(count + 1), "headers");
    let bytes = headers["x-maxBytes"].as_u64().unwrap() as usize;
    accepted(json!({"headers": {"X-A": "a".repeat(bytes - 3)}}));
    rejected(
        json!({"headers": {"X-A": "a".repeat(bytes - 2)}}),
        "headers",
    );

    // Defaults: an empty object gets every documented default.
    let m = accepted(json!({}));
    for (name, p) in props {
        let Some(default) = p.get("default") else {
            continue;
        };
        match name.as_str() {
            "ttl_seconds" => {
                let ms = |k: &str| iso_ms(m[k].as_str().unwrap());
                assert_eq!(
                    (ms("expires_at") - ms("created_at")) / 1000,
                    default.as_i64().unwrap()
                );
            }
            "body" => assert_eq!(m["has_body"], default != ""),
            "headers" => assert_eq!(m["has_custom_headers"], default != &json!({})),
            _ => assert_eq!(&m[name.as_str()], default, "{name}"),
        }
    }
    // Unknown fields are ignored, as `additionalProperties: true` says.
    assert_eq!(schema["additionalProperties"], true);
    accepted(json!({"not_a_field": [1, 2, 3]}));
    // The request examples are accepted as they are.
    let examples = doc["paths"]["/v1/mocks"]["post"]["requestBody"]["content"]["application/json"]
        ["examples"]
        .as_object()
        .unwrap();
    for ex in examples.values() {
        let m = accepted(ex["value"].clone());
        assert_eq!(m["status_code"], ex["value"]["status_code"]);
    }
}

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn iso_ms(t: &str) -> i64 {
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    let (y, mo, d) = (n(0, 4), n(5, 7), n(8, 10));
    // Days from the civil date (proleptic Gregorian).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + n(11, 13)) * 60 + n(14, 16)) * 60_000 + n(17, 19) * 1000 + n(20, 23)
}
