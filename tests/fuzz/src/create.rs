//! Create-body validation and response rendering.
//!
//! Input: a `POST /v1/mocks` body. Properties:
//! - `parse_create` never panics; a refusal is a 4xx whose JSON form is an object with a string
//!   `detail`.
//! - What validates renders (`render_response`) to a head that starts with the status line, ends
//!   with CRLF, has no CR or LF inside any line and no control byte but HTAB, only token header
//!   names each followed by `": "`, no framing or server-owned header from the spec, exactly one
//!   `Content-Length` (equal to the body) unless the status has no content, and `X-Mock-Id` once.
//! - The response as served (head, `Date`, blank line, body) parses with `httparse` to the same
//!   status and fields.

use mockd::api::render::{render_response, status_has_no_content};
use mockd::api::validate::{CreateLimits, MockSpec, parse_create};

use crate::show;

const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

fn limits() -> CreateLimits {
    CreateLimits {
        max_body_bytes: 4096,
        max_headers: 16,
        max_header_bytes: 2048,
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Header names the server owns or that would change framing; a spec must never carry them.
const OWNED: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "trailer",
    "te",
    "proxy-connection",
    "date",
    "x-mock-id",
    "content-type",
];

fn check_spec(spec: &MockSpec, input: &[u8]) {
    let mut names: Vec<String> = Vec::new();
    for (n, v) in &spec.headers {
        let lower = n.to_ascii_lowercase();
        assert!(
            !n.is_empty() && n.bytes().all(is_tchar),
            "header name {n:?} from {}",
            show(input)
        );
        assert!(
            !OWNED.contains(&lower.as_str()),
            "owned header {n:?} admitted from {}",
            show(input)
        );
        assert!(
            !names.contains(&lower),
            "duplicate header {n:?} admitted from {}",
            show(input)
        );
        names.push(lower);
        check_value(v, input);
    }
    check_value(&spec.content_type, input);
    assert!(
        spec.body.len() <= limits().max_body_bytes,
        "body over the limit"
    );
    assert!(
        spec.headers.len() <= limits().max_headers,
        "too many headers"
    );
    assert!(
        (100..=599).contains(&spec.status_code),
        "status {}",
        spec.status_code
    );
}

fn check_value(v: &str, input: &[u8]) {
    assert!(
        v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f)),
        "control byte in value {v:?} from {}",
        show(input)
    );
    assert!(
        !v.starts_with([' ', '\t']) && !v.ends_with([' ', '\t']),
        "value {v:?} has leading or trailing whitespace, from {}",
        show(input)
    );
}

fn check_head(head: &[u8], spec: &MockSpec, body: &[u8], sends_body: bool, input: &[u8]) {
    let ctx = || format!("head {} from {}", show(head), show(input));
    assert!(head.starts_with(b"HTTP/1.1 "), "{}", ctx());
    assert!(
        head.ends_with(b"\r\n"),
        "head does not end with CRLF: {}",
        ctx()
    );
    let lines: Vec<&[u8]> = head[..head.len() - 2].split(|&b| b == b'\n').collect();
    let mut content_length = 0;
    let mut mock_id = 0;
    for (i, line) in lines.iter().enumerate() {
        // Every line but the last ends in CR (the LF was split off); none has another CR.
        let line = if i + 1 < lines.len() {
            line.strip_suffix(b"\r")
                .unwrap_or_else(|| panic!("bare LF in {}", ctx()))
        } else {
            line
        };
        assert!(
            !line.contains(&b'\r'),
            "bare CR in line {} of {}",
            show(line),
            ctx()
        );
        assert!(
            line.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f)),
            "control byte in line {} of {}",
            show(line),
            ctx()
        );
        if i == 0 {
            let code = format!("HTTP/1.1 {} ", spec.status_code);
            assert!(
                line.starts_with(code.as_bytes()),
                "status line {} ({})",
                show(line),
                ctx()
            );
            continue;
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .unwrap_or_else(|| panic!("no colon: {}", ctx()));
        let name = &line[..colon];
        assert!(
            !name.is_empty() && name.iter().all(|&b| is_tchar(b)),
            "name {} in {}",
            show(name),
            ctx()
        );
        assert!(
            line[colon..].starts_with(b": "),
            "no ': ' after {} in {}",
            show(name),
            ctx()
        );
        if name.eq_ignore_ascii_case(b"content-length") {
            content_length += 1;
            assert_eq!(
                &line[colon + 2..],
                body.len().to_string().as_bytes(),
                "{}",
                ctx()
            );
        }
        if name.eq_ignore_ascii_case(b"x-mock-id") {
            mock_id += 1;
        }
        assert!(
            !name.eq_ignore_ascii_case(b"transfer-encoding"),
            "{}",
            ctx()
        );
        assert!(!name.eq_ignore_ascii_case(b"date"), "{}", ctx());
        assert!(!name.eq_ignore_ascii_case(b"connection"), "{}", ctx());
    }
    assert_eq!(mock_id, 1, "X-Mock-Id count, {}", ctx());
    // 1xx, 204, 304: no content and no Content-Length. 205: no content, framed as empty
    // (RFC 9110 §15.3.6). Everything else: the configured body.
    let no_content = status_has_no_content(spec.status_code);
    let empty = no_content || spec.status_code == 205;
    assert_eq!(sends_body, !empty, "sends_body, {}", ctx());
    assert_eq!(
        content_length,
        usize::from(!no_content),
        "Content-Length count, {}",
        ctx()
    );
    if empty {
        assert!(body.is_empty(), "a body with status {}", spec.status_code);
    } else {
        assert_eq!(body, &spec.body[..], "{}", ctx());
    }
    assert_eq!(
        lines.len(),
        spec.headers.len() + 3 + usize::from(!no_content),
        "line count, {}",
        ctx()
    );
}

/// The whole target.
pub fn check(data: &[u8]) {
    let spec = match parse_create(data, &limits()) {
        Err(e) => {
            assert!(
                (400..500).contains(&e.status),
                "status {} for {}",
                e.status,
                show(data)
            );
            let v: serde_json::Value = serde_json::from_slice(&e.to_json()).expect("error JSON");
            assert!(
                v["detail"].is_string() && v.as_object().unwrap().len() == 1,
                "{v}"
            );
            return;
        }
        Ok(spec) => spec,
    };
    check_spec(&spec, data);
    let r = render_response(&spec, ID);
    check_head(&r.head, &spec, &r.body, r.sends_body, data);

    let mut full = r.head.clone();
    full.extend_from_slice(b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n");
    if r.sends_body {
        full.extend_from_slice(&r.body);
    }
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    let n = match resp.parse(&full) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!(
            "httparse refuses the rendered response ({other:?}): {}",
            show(&full)
        ),
    };
    assert_eq!(n, full.len() - if r.sends_body { r.body.len() } else { 0 });
    assert_eq!(resp.code, Some(spec.status_code));
    for (name, value) in &spec.headers {
        let found = resp
            .headers
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("header {name:?} lost in {}", show(&full)));
        assert_eq!(
            found.value,
            value.as_bytes(),
            "header {name:?} changed in {}",
            show(&full)
        );
    }
}
