//! JSON bodies of successful control-API responses.
//!
//! Owns the mock metadata object ([`mock_json`], [`mock_envelope`]) and the delete
//! confirmation ([`deleted_json`]). Invariants:
//! - Times are ISO 8601 UTC with milliseconds (see [`crate::timefmt::iso8601_utc`]).
//! - `endpoint_url` is always the path `/v1/mock/{mock_id}`.
//! - [`mock_envelope`] is exactly `{"mock": mock_json(v)}`; its byte form lists the keys in the
//!   documented order (a `serde_json::Value` object would sort them), so it is written directly.
//!   All strings go through `serde_json`'s escaping.

use serde_json::{Value, json};

use super::error::push_json_str;
use crate::timefmt::iso8601_utc;

/// What the API shows about one mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockView<'a> {
    pub mock_id: &'a str,
    pub name: Option<&'a str>,
    pub status_code: u16,
    pub content_type: &'a str,
    pub delay_ms: u32,
    pub has_custom_headers: bool,
    pub has_body: bool,
    /// Unix epoch milliseconds.
    pub created_at_ms: u64,
    /// Unix epoch milliseconds.
    pub expires_at_ms: u64,
    pub hit_count: u64,
}

/// The path at which a mock is served.
pub fn endpoint_url(mock_id: &str) -> String {
    format!("/v1/mock/{mock_id}")
}

/// `{"mock_id":..,"name":..|null,"status_code":..,"content_type":..,"delay_ms":..,"has_custom_headers":..,
///   "has_body":..,"created_at":"ISO","expires_at":"ISO","hit_count":..,"endpoint_url":"/v1/mock/{id}"}`
pub fn mock_json(v: &MockView) -> Value {
    json!({
        "mock_id": v.mock_id,
        "name": v.name,
        "status_code": v.status_code,
        "content_type": v.content_type,
        "delay_ms": v.delay_ms,
        "has_custom_headers": v.has_custom_headers,
        "has_body": v.has_body,
        "created_at": iso8601_utc(v.created_at_ms),
        "expires_at": iso8601_utc(v.expires_at_ms),
        "hit_count": v.hit_count,
        "endpoint_url": endpoint_url(v.mock_id),
    })
}

/// `{"mock": <mock_json>}` as bytes
pub fn mock_envelope(v: &MockView) -> Vec<u8> {
    let mut out = Vec::with_capacity(320 + v.content_type.len() + v.name.map_or(0, str::len));
    out.extend_from_slice(b"{\"mock\":");
    write_mock(&mut out, v);
    out.push(b'}');
    out
}

/// Writes the `mock_json` object with keys in documented order.
fn write_mock(out: &mut Vec<u8>, v: &MockView) {
    out.extend_from_slice(b"{\"mock_id\":");
    push_json_str(out, v.mock_id);
    out.extend_from_slice(b",\"name\":");
    match v.name {
        Some(name) => push_json_str(out, name),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"status_code\":");
    out.extend_from_slice(v.status_code.to_string().as_bytes());
    out.extend_from_slice(b",\"content_type\":");
    push_json_str(out, v.content_type);
    out.extend_from_slice(b",\"delay_ms\":");
    out.extend_from_slice(v.delay_ms.to_string().as_bytes());
    out.extend_from_slice(b",\"has_custom_headers\":");
    out.extend_from_slice(bool_str(v.has_custom_headers));
    out.extend_from_slice(b",\"has_body\":");
    out.extend_from_slice(bool_str(v.has_body));
    // ISO timestamps and the endpoint path need no escaping beyond what push_json_str does.
    out.extend_from_slice(b",\"created_at\":");
    push_json_str(out, &iso8601_utc(v.created_at_ms));
    out.extend_from_slice(b",\"expires_at\":");
    push_json_str(out, &iso8601_utc(v.expires_at_ms));
    out.extend_from_slice(b",\"hit_count\":");
    out.extend_from_slice(v.hit_count.to_string().as_bytes());
    out.extend_from_slice(b",\"endpoint_url\":");
    push_json_str(out, &endpoint_url(v.mock_id));
    out.push(b'}');
}

fn bool_str(b: bool) -> &'static [u8] {
    if b { b"true" } else { b"false" }
}

/// `{"message":"Mock deleted","mock_id":"..."}` as bytes
pub fn deleted_json(mock_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + mock_id.len());
    out.extend_from_slice(b"{\"message\":\"Mock deleted\",\"mock_id\":");
    push_json_str(&mut out, mock_id);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> MockView<'static> {
        MockView {
            mock_id: "abc123",
            name: Some("orders \"v2\" ✓"),
            status_code: 202,
            content_type: "application/json",
            delay_ms: 250,
            has_custom_headers: true,
            has_body: true,
            created_at_ms: 1_796_418_636_123,
            expires_at_ms: 1_796_422_236_123,
            hit_count: 7,
        }
    }

    #[test]
    fn mock_json_fields() {
        let j = mock_json(&view());
        assert_eq!(
            j,
            json!({
                "mock_id": "abc123",
                "name": "orders \"v2\" ✓",
                "status_code": 202,
                "content_type": "application/json",
                "delay_ms": 250,
                "has_custom_headers": true,
                "has_body": true,
                "created_at": "2026-12-04T21:10:36.123Z",
                "expires_at": "2026-12-04T22:10:36.123Z",
                "hit_count": 7,
                "endpoint_url": "/v1/mock/abc123",
            })
        );
    }

    #[test]
    fn name_none_is_null() {
        let v = MockView {
            name: None,
            ..view()
        };
        assert_eq!(mock_json(&v)["name"], Value::Null);
        let env: Value = serde_json::from_slice(&mock_envelope(&v)).unwrap();
        assert_eq!(env["mock"]["name"], Value::Null);
    }

    #[test]
    fn envelope_equals_wrapped_mock_json() {
        for v in [
            view(),
            MockView {
                name: None,
                has_body: false,
                has_custom_headers: false,
                hit_count: u64::MAX,
                delay_ms: 0,
                ..view()
            },
        ] {
            let env: Value = serde_json::from_slice(&mock_envelope(&v)).unwrap();
            assert_eq!(env, json!({ "mock": mock_json(&v) }));
        }
    }

    #[test]
    fn envelope_exact_bytes_in_documented_order() {
        let v = MockView {
            name: Some("n"),
            ..view()
        };
        let expected = concat!(
            r#"{"mock":{"mock_id":"abc123","name":"n","status_code":202,"#,
            r#""content_type":"application/json","delay_ms":250,"has_custom_headers":true,"#,
            r#""has_body":true,"created_at":"2026-12-04T21:10:36.123Z","#,
            r#""expires_at":"2026-12-04T22:10:36.123Z","hit_count":7,"#,
            r#""endpoint_url":"/v1/mock/abc123"}}"#
        );
        assert_eq!(String::from_utf8(mock_envelope(&v)).unwrap(), expected);
    }

    #[test]
    fn deleted() {
        assert_eq!(
            deleted_json("abc123"),
            br#"{"message":"Mock deleted","mock_id":"abc123"}"#
        );
        let v: Value = serde_json::from_slice(&deleted_json("a\"b")).unwrap();
        assert_eq!(v["mock_id"], "a\"b");
    }
}
