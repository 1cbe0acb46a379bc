//! The OpenAPI 3.1 document served at `GET /v1/openapi.json`.
//!
//! Owns [`document`] (the document as a `serde_json::Value`) and [`openapi_json`] (its text,
//! built once). What keeps it from drifting from the server:
//! - The create-request schema is generated from [`CREATE_FIELDS`], the table the validator reads
//!   its bounds and defaults from: types, `minimum`/`maximum`, `maxLength`, defaults and
//!   descriptions cannot disagree with what `parse_create` enforces.
//! - The bounds in the mock metadata schema come from the same table.
//! - The serving path's methods come from the router's [`SERVE_ALLOW`]; the protocol-error
//!   statuses and their texts from [`ParseError::status`] (a new `ParseError` variant fails to
//!   compile here until it is documented); reason phrases from [`reason_phrase`].
//! - `tests/openapi` drives every documented status of every operation against a real server and
//!   checks every route and method the router accepts against the document.
//!
//! Invariants:
//! - Every error response of the control API is `application/json` `{"detail": string}`.
//! - The serving endpoint's responses carry no schema: a mock answers with whatever status
//!   (100–599), headers and content it was configured with.
//! - Limits that are runtime configuration (mock body size, header count and bytes) appear in
//!   descriptions and as `x-` extensions with their default values, never as schema keywords.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::fields::{self, CREATE_FIELDS, FieldDef, FieldKind};
use super::render::reason_phrase;
use crate::config::Limits;
use crate::http::error::ParseError;
use crate::mock::id::ENCODED_LEN;
use crate::mock::rates::WINDOW_SECS;
use crate::router::{LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, SERVE_ALLOW};

/// The OpenAPI version the document is written in.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// The path the document is served at.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// A valid HTTP field value (RFC 9110 §5.5) as the validator accepts it: no control characters
/// other than HTAB, no leading or trailing SP/HTAB; the empty value is allowed.
pub const HEADER_VALUE_PATTERN: &str =
    r"^(?:[^\x00-\x20\x7F](?:[^\x00-\x08\x0A-\x1F\x7F]*[^\x00-\x20\x7F])?)?$";

/// An RFC 9110 §5.6.2 token: what a header name must be.
pub const TOKEN_PATTERN: &str = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

/// The status codes every request can get before it is routed: the protocol errors of
/// [`ParseError`], in ascending order.
pub fn protocol_errors() -> [ParseError; 7] {
    // Adding a variant to `ParseError` breaks this match: document it, then extend the list.
    const fn covered(e: ParseError) -> bool {
        match e {
            ParseError::BadRequest(_)
            | ParseError::Timeout
            | ParseError::BodyTooLarge
            | ParseError::UriTooLong
            | ParseError::ExpectationFailed
            | ParseError::HeadTooLarge
            | ParseError::VersionNotSupported => true,
        }
    }
    let all = [
        ParseError::BadRequest("malformed request"),
        ParseError::Timeout,
        ParseError::BodyTooLarge,
        ParseError::UriTooLong,
        ParseError::ExpectationFailed,
        ParseError::HeadTooLarge,
        ParseError::VersionNotSupported,
    ];
    debug_assert!(all.iter().all(|e| covered(*e)));
    all
}

/// The document's text, built on first use.
pub fn openapi_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| document().to_string())
}

/// `$ref` to a component.
fn r(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

// ---- Create request: generated from the field table -------------------------------------------

/// The JSON Schema of one create field. Every field is optional and `null` means absent.
pub fn field_schema(def: &FieldDef) -> Value {
    let limits = Limits::default();
    let mut s = Map::new();
    s.insert("type".into(), json!([def.kind.json_type(), "null"]));
    let mut description = def.description.to_owned();
    match def.kind {
        FieldKind::Str {
            max_chars,
            max_bytes,
            non_empty,
            header_value,
            default,
        } => {
            if non_empty {
                s.insert("minLength".into(), json!(1));
            }
            // A string has at most as many characters as UTF-8 bytes, so a byte cap also caps
            // the length; the exact byte cap goes in `x-maxBytes`.
            if let Some(max) = [max_chars, max_bytes].into_iter().flatten().min() {
                s.insert("maxLength".into(), json!(max));
            }
            if let Some(max) = max_bytes {
                s.insert("x-maxBytes".into(), json!(max));
            }
            if header_value {
                s.insert("pattern".into(), json!(HEADER_VALUE_PATTERN));
            }
            s.insert("default".into(), json!(default));
        }
        FieldKind::Body => {
            s.insert("default".into(), json!(""));
            s.insert("x-maxBytes".into(), json!(limits.max_mock_body_bytes));
            description.push_str(&format!(
                " Default cap: {} bytes (--max-body-bytes).",
                limits.max_mock_body_bytes
            ));
        }
        FieldKind::Int { min, max, default } => {
            s.insert("minimum".into(), json!(min));
            s.insert("maximum".into(), json!(max));
            s.insert("default".into(), json!(default));
            description.push_str(
                " Must be written as an integer literal (202, not 202.0 or 2.02e2); \
                 bounds are inclusive.",
            );
        }
        FieldKind::Headers => {
            s.insert(
                "propertyNames".into(),
                json!({ "type": "string", "pattern": TOKEN_PATTERN }),
            );
            s.insert(
                "additionalProperties".into(),
                json!({ "type": "string", "pattern": HEADER_VALUE_PATTERN }),
            );
            s.insert("default".into(), json!({}));
            s.insert("x-maxProperties".into(), json!(limits.max_mock_headers));
            s.insert("x-maxBytes".into(), json!(limits.max_mock_header_bytes));
            description.push_str(&format!(
                " Default caps: {} entries (a Content-Type entry counts) and {} bytes of names \
                 and values in total.",
                limits.max_mock_headers, limits.max_mock_header_bytes
            ));
        }
    }
    s.insert("description".into(), json!(description));
    Value::Object(s)
}

/// The `POST /v1/mocks` request body schema, one property per [`CREATE_FIELDS`] entry.
pub fn create_request_schema() -> Value {
    let properties: Map<String, Value> = CREATE_FIELDS
        .iter()
        .map(|f| (f.name.to_owned(), field_schema(f)))
        .collect();
    json!({
        "type": "object",
        "description": "A mock definition. Every field is optional and null means absent \
                        (the default applies). Unknown fields are ignored; a known field given \
                        twice is rejected with 422. Validation stops at the first failing field, \
                        whose name starts the 422 detail.",
        "properties": properties,
        "additionalProperties": true,
        "x-fieldOrder": CREATE_FIELDS.iter().map(|f| f.name).collect::<Vec<_>>(),
    })
}

/// `minimum`/`maximum` of an integer field, for the metadata schema.
fn int_bounds(def: &FieldDef) -> Value {
    match def.kind {
        FieldKind::Int { min, max, .. } => json!({
            "type": "integer", "minimum": min, "maximum": max, "description": def.description,
        }),
        _ => json!({ "type": def.kind.json_type(), "description": def.description }),
    }
}

/// `maxLength` of a string field, for the metadata schema.
fn str_bounds(def: &FieldDef, nullable: bool) -> Value {
    let mut s = Map::new();
    let ty = if nullable {
        json!(["string", "null"])
    } else {
        json!("string")
    };
    s.insert("type".into(), ty);
    if let FieldKind::Str {
        max_chars,
        max_bytes,
        non_empty,
        ..
    } = def.kind
    {
        if let Some(max) = [max_chars, max_bytes].into_iter().flatten().min() {
            s.insert("maxLength".into(), json!(max));
        }
        if non_empty {
            s.insert("minLength".into(), json!(1));
        }
    }
    s.insert("description".into(), json!(def.description));
    Value::Object(s)
}

// ---- Schemas ----------------------------------------------------------------------------------

fn mock_id_pattern() -> String {
    // 21 characters of the URL-safe base64 alphabet, then one whose low 4 bits are zero.
    format!("^[A-Za-z0-9_-]{{{}}}[AQgw]$", ENCODED_LEN - 1)
}

fn schemas() -> Value {
    let id = json!({
        "type": "string",
        "pattern": mock_id_pattern(),
        "description": "128 random bits as 22 characters of unpadded URL-safe base64.",
    });
    json!({
        "Error": {
            "type": "object",
            "description": "Every error the server itself answers with.",
            "required": ["detail"],
            "properties": { "detail": { "type": "string", "description": "What went wrong. For 422 it starts with the failing field's path, e.g. `status_code: ...` or `headers.X-Name: ...`." } },
            "additionalProperties": false,
        },
        "CreateMockRequest": create_request_schema(),
        "Mock": {
            "type": "object",
            "description": "A mock's metadata. Keys are written in this order.",
            "required": ["mock_id", "name", "status_code", "content_type", "delay_ms",
                         "has_custom_headers", "has_body", "created_at", "expires_at",
                         "hit_count", "endpoint_url"],
            "properties": {
                "mock_id": id,
                "name": str_bounds(&fields::NAME, true),
                "status_code": int_bounds(&fields::STATUS_CODE),
                "content_type": str_bounds(&fields::CONTENT_TYPE, false),
                "delay_ms": int_bounds(&fields::DELAY_MS),
                "has_custom_headers": { "type": "boolean", "description": "True if custom headers other than Content-Type were configured." },
                "has_body": { "type": "boolean", "description": "True if a non-empty body was configured." },
                "created_at": { "type": "string", "format": "date-time", "description": "ISO 8601 UTC with milliseconds." },
                "expires_at": { "type": "string", "format": "date-time", "description": "created_at plus ttl_seconds; the mock is deleted then." },
                "hit_count": { "type": "integer", "minimum": 0, "description": "Requests answered by the mock so far." },
                "endpoint_url": { "type": "string", "pattern": "^/v1/mock/[A-Za-z0-9_-]+$", "description": "Path at which the mock is served: /v1/mock/{mock_id}." },
            },
            "additionalProperties": false,
        },
        "MockEnvelope": {
            "type": "object",
            "required": ["mock"],
            "properties": { "mock": r("schemas", "Mock") },
            "additionalProperties": false,
        },
        "Deleted": {
            "type": "object",
            "required": ["message", "mock_id"],
            "properties": {
                "message": { "const": "Mock deleted" },
                "mock_id": id,
            },
            "additionalProperties": false,
        },
        "MockList": {
            "type": "object",
            "description": "One page of the caller's live mocks, newest first.",
            "required": ["mocks", "total", "offset", "limit"],
            "properties": {
                "mocks": { "type": "array", "items": r("schemas", "Mock"), "maxItems": LIST_MAX_LIMIT },
                "total": { "type": "integer", "minimum": 0, "description": "The caller's live mocks in all." },
                "offset": { "type": "integer", "minimum": 0, "maximum": u32::MAX },
                "limit": { "type": "integer", "minimum": 1, "maximum": LIST_MAX_LIMIT },
            },
            "additionalProperties": false,
        },
        "MockStats": {
            "type": "object",
            "description": "A mock's hits per second over the last minute.",
            "required": ["mock_id", "hit_count", "window_seconds", "hits_per_second",
                         "first_hit_at", "last_hit_at", "as_of"],
            "properties": {
                "mock_id": id,
                "hit_count": { "type": "integer", "minimum": 0, "description": "Requests answered by the mock so far." },
                "window_seconds": { "const": WINDOW_SECS },
                "hits_per_second": {
                    "type": "array",
                    "items": { "type": "integer", "minimum": 0 },
                    "minItems": WINDOW_SECS,
                    "maxItems": WINDOW_SECS,
                    "description": "Hits in each of the last complete seconds, oldest first; the last entry is the second before as_of.",
                },
                "first_hit_at": { "type": ["string", "null"], "format": "date-time", "description": "The first second with hits (second resolution), null if never hit." },
                "last_hit_at": { "type": ["string", "null"], "format": "date-time", "description": "The last second with hits (second resolution), null if never hit." },
                "as_of": { "type": "string", "format": "date-time", "description": "The current second; the window ends just before it." },
            },
            "additionalProperties": false,
        },
        "Status": {
            "type": "object",
            "required": ["status", "service", "version", "uptime_seconds", "live_mocks", "workers"],
            "properties": {
                "status": { "const": "ok" },
                "service": { "const": "mockd" },
                "version": { "type": "string", "description": "The server's version." },
                "uptime_seconds": { "type": "integer", "minimum": 0 },
                "live_mocks": { "type": "integer", "minimum": 0, "description": "Mocks currently stored, across all owners." },
                "workers": { "type": "integer", "minimum": 1, "description": "Worker threads." },
            },
            "additionalProperties": false,
        },
        "Root": {
            "type": "object",
            "required": ["service", "version", "openapi"],
            "properties": {
                "service": { "const": "mockd" },
                "version": { "type": "string" },
                "openapi": { "const": OPENAPI_PATH },
            },
            "additionalProperties": false,
        },
        "OpenApiDocument": {
            "type": "object",
            "description": "This document.",
            "required": ["openapi", "info", "paths"],
            "properties": {
                "openapi": { "const": OPENAPI_VERSION },
                "info": { "type": "object" },
                "paths": { "type": "object" },
            },
        },
    })
}

// ---- Responses --------------------------------------------------------------------------------

/// An `application/json` `{"detail"}` response with one example detail.
fn error_response(status: u16, description: &str, detail: &str, headers: Value) -> Value {
    let mut resp = json!({
        "description": format!("{} {}. {description}", status, reason_phrase(status)),
        "content": { "application/json": {
            "schema": r("schemas", "Error"),
            "example": { "detail": detail },
        } },
    });
    if headers.as_object().is_some_and(|h| !h.is_empty()) {
        resp["headers"] = headers;
    }
    resp
}

fn header(description: &str, schema: Value) -> Value {
    json!({ "description": description, "required": true, "schema": schema })
}

/// The component name of the response for a status.
fn response_name(status: u16) -> String {
    format!("E{status}")
}

fn responses() -> Value {
    let mut out = Map::new();
    for e in protocol_errors() {
        let (status, _, detail) = e.status();
        let why = match e {
            ParseError::BadRequest(_) => {
                "Malformed request syntax or framing (a bad request line or header, a missing \
                 Host in HTTP/1.1, both Content-Length and Transfer-Encoding, ...); the detail \
                 says which. The connection is closed."
            }
            ParseError::Timeout => {
                "The request head or body did not arrive in time (--header-timeout, \
                 --body-timeout). The connection is closed."
            }
            ParseError::BodyTooLarge => {
                "The request body is larger than --max-request-body-bytes. The connection is \
                 closed."
            }
            ParseError::UriTooLong => {
                "The request target is longer than --max-target-bytes. The connection is closed."
            }
            ParseError::ExpectationFailed => {
                "An Expect header other than 100-continue. The connection is closed."
            }
            ParseError::HeadTooLarge => {
                "The request head is larger than --max-head-bytes. The connection is closed."
            }
            ParseError::VersionNotSupported => {
                "Only HTTP/1.0 and HTTP/1.1 are spoken. The connection is closed."
            }
        };
        let detail = if matches!(e, ParseError::BadRequest(_)) {
            "HTTP/1.1 requires exactly one Host header"
        } else {
            detail
        };
        out.insert(
            response_name(status),
            error_response(status, why, detail, json!({})),
        );
    }
    out.insert(
        response_name(401),
        error_response(
            401,
            "No API key (X-API-Key or Authorization: Bearer), an unknown one, or conflicting \
             credential headers.",
            "missing API key: send X-API-Key or Authorization: Bearer",
            json!({ "WWW-Authenticate": header("Always `Bearer`.", json!({ "const": "Bearer" })) }),
        ),
    );
    out.insert(
        response_name(404),
        error_response(
            404,
            "No mock with this id belongs to the caller's API key (unknown, expired, deleted, \
             another key's, or not a well-formed id).",
            "mock not found",
            json!({}),
        ),
    );
    out.insert(
        response_name(405),
        error_response(
            405,
            "The path exists but not with this method; Allow lists the methods it has.",
            "method not allowed",
            json!({ "Allow": header(
                "The methods this path accepts, comma separated.",
                json!({ "type": "string" }),
            ) }),
        ),
    );
    out.insert(
        response_name(422),
        error_response(
            422,
            "The body is not a JSON object, or a field fails validation. The detail starts \
             with the field's path (`body` for the request as a whole).",
            "status_code: must be an integer from 100 to 599, got 7",
            json!({}),
        ),
    );
    out.insert(
        response_name(503),
        error_response(
            503,
            "Over --max-connections (sent on accept, before the request is read; the connection \
             is closed), or, for creates, the OS random source failed.",
            "too many connections; retry",
            json!({ "Retry-After": header(
                "Seconds to wait before retrying.",
                json!({ "type": "string", "pattern": "^[0-9]+$" }),
            ) }),
        ),
    );
    out.insert(
        response_name(507),
        error_response(
            507,
            "The store is full: --max-mocks live mocks, or --max-store-bytes of them.",
            "mock storage full: 2000000 live mocks is the limit (--max-mocks)",
            json!({}),
        ),
    );
    Value::Object(out)
}

/// The statuses every control operation can answer with besides its own: the protocol errors,
/// 405 for other methods on its path, and 503 over the connection cap.
pub fn common_statuses() -> Vec<u16> {
    let mut v: Vec<u16> = protocol_errors().iter().map(|e| e.status().0).collect();
    v.extend([405, 503]);
    v.sort_unstable();
    v
}

/// A responses object: `own` (status, response) pairs plus `$ref`s for the `refs` statuses.
fn responses_with(own: Vec<(u16, Value)>, refs: &[u16]) -> Value {
    let mut m = Map::new();
    for (status, resp) in own {
        m.insert(status.to_string(), resp);
    }
    for &status in refs.iter().chain(common_statuses().iter()) {
        m.insert(status.to_string(), r("responses", &response_name(status)));
    }
    Value::Object(m)
}

fn json_ok(description: &str, schema: &str, example: Value) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": r("schemas", schema), "example": example } },
    })
}

// ---- Examples ---------------------------------------------------------------------------------

const EXAMPLE_ID: &str = "yHIZhLcknjsfeRa1lmu_HA";

/// The request examples of `POST /v1/mocks`.
pub fn create_examples() -> Value {
    json!({
        "payments-accepted": {
            "summary": "A 202 with a JSON body, kept for an hour",
            "value": {
                "name": "payments-accepted",
                "status_code": 202,
                "body": "{\"accepted\": true}",
                "ttl_seconds": 3600,
            },
        },
        "rate-limited": {
            "summary": "A slow 429 with rate-limit headers",
            "value": {
                "name": "rate-limited",
                "status_code": 429,
                "headers": { "Retry-After": "120", "X-RateLimit-Policy": "test" },
                "body": "{\"error\":\"rate_limited\"}",
                "delay_ms": 800,
            },
        },
    })
}

fn mock_example() -> Value {
    json!({ "mock": {
        "mock_id": EXAMPLE_ID,
        "name": "payments-accepted",
        "status_code": 202,
        "content_type": "application/json",
        "delay_ms": 0,
        "has_custom_headers": false,
        "has_body": true,
        "created_at": "2026-12-04T21:25:35.912Z",
        "expires_at": "2026-12-04T22:25:35.912Z",
        "hit_count": 0,
        "endpoint_url": format!("/v1/mock/{EXAMPLE_ID}"),
    } })
}

// ---- Operations -------------------------------------------------------------------------------

fn control_security() -> Value {
    json!([{ "ApiKeyAuth": [] }, { "BearerAuth": [] }])
}

fn mock_id_param() -> Value {
    json!({
        "name": "mock_id",
        "in": "path",
        "required": true,
        "description": "The id returned by POST /v1/mocks. Anything that is not a well-formed id \
                        gets 404. A segment that is the literal template `{mock_id}` \
                        (percent-encoded or not) takes the id from the `mock_id` query parameter \
                        instead.",
        "schema": { "type": "string", "pattern": mock_id_pattern() },
        "example": EXAMPLE_ID,
    })
}

/// Serving operation ids, one per method of [`SERVE_ALLOW`].
pub fn serve_operation_id(method: &str) -> String {
    let lower = method.to_ascii_lowercase();
    let mut cap = lower[..1].to_ascii_uppercase();
    cap.push_str(&lower[1..]);
    format!("serveMock{cap}")
}

/// The methods of the serving path, from the router.
pub fn serve_methods() -> Vec<&'static str> {
    SERVE_ALLOW.split(',').map(str::trim).collect()
}

fn link(operation_id: &str, from: &str, description: &str) -> Value {
    json!({
        "operationId": operation_id,
        "parameters": { "mock_id": from },
        "description": description,
    })
}

fn mock_links(from: &str) -> Value {
    let mut links = Map::new();
    links.insert(
        "GetMock".into(),
        link("getMock", from, "Read the new mock's metadata."),
    );
    for m in serve_methods() {
        let id = serve_operation_id(m);
        links.insert(
            format!("Serve{}", &id["serveMock".len()..]),
            link(&id, from, &format!("Hit the mock with {m}.")),
        );
    }
    links.insert(
        "GetMockStats".into(),
        link("getMockStats", from, "Read the mock's hit rates."),
    );
    links.insert(
        "DeleteMock".into(),
        link("deleteMock", from, "Delete the mock."),
    );
    Value::Object(links)
}

fn create_op() -> Value {
    let created = json!({
        "description": "201 Created: the mock exists; hit it at `mock.endpoint_url`.",
        "headers": { "Location": header(
            "/v1/mocks/{mock_id}, the new mock's metadata.",
            json!({ "type": "string", "pattern": "^/v1/mocks/[A-Za-z0-9_-]+$" }),
        ) },
        "content": { "application/json": {
            "schema": r("schemas", "MockEnvelope"),
            "example": mock_example(),
        } },
        "links": mock_links("$response.body#/mock/mock_id"),
    });
    json!({
        "operationId": "createMock",
        "tags": ["mocks"],
        "summary": "Create a mock",
        "description": "Stores a mock owned by the caller's API key and returns its metadata. \
                        The body is parsed as JSON whatever its Content-Type; an empty (or \
                        whitespace-only) body means all defaults.",
        "security": control_security(),
        "requestBody": {
            "required": false,
            "content": { "application/json": {
                "schema": r("schemas", "CreateMockRequest"),
                "examples": create_examples(),
            } },
        },
        "responses": responses_with(vec![(201, created)], &[401, 422, 507]),
    })
}

fn get_op() -> Value {
    let ok = json!({
        "description": "200 OK: the mock's metadata.",
        "content": { "application/json": {
            "schema": r("schemas", "MockEnvelope"),
            "example": mock_example(),
        } },
        "links": {
            "ServeGet": link(&serve_operation_id("GET"), "$response.body#/mock/mock_id", "Hit the mock."),
            "DeleteMock": link("deleteMock", "$response.body#/mock/mock_id", "Delete the mock."),
        },
    });
    json!({
        "operationId": "getMock",
        "tags": ["mocks"],
        "summary": "Read a mock's metadata",
        "security": control_security(),
        "parameters": [mock_id_param()],
        "responses": responses_with(vec![(200, ok)], &[401, 404]),
    })
}

fn delete_op() -> Value {
    let ok = json_ok(
        "200 OK: the mock is deleted; its endpoint answers 404 from now on.",
        "Deleted",
        json!({ "message": "Mock deleted", "mock_id": EXAMPLE_ID }),
    );
    json!({
        "operationId": "deleteMock",
        "tags": ["mocks"],
        "summary": "Delete a mock",
        "security": control_security(),
        "parameters": [mock_id_param()],
        "responses": responses_with(vec![(200, ok)], &[401, 404]),
    })
}

fn list_op(operation_id: &str, method: &str) -> Value {
    let description = if method == "HEAD" {
        "200 OK: the GET response's headers, no body."
    } else {
        "200 OK: one page of the caller's mocks."
    };
    let ok = json_ok(
        description,
        "MockList",
        json!({ "mocks": [mock_example()["mock"]], "total": 1, "offset": 0, "limit": LIST_DEFAULT_LIMIT }),
    );
    let unprocessable = error_response(
        422,
        "offset or limit is not an integer in range.",
        &format!(
            "limit: must be an integer from 1 to {LIST_MAX_LIMIT}; offset: a non-negative integer"
        ),
        json!({}),
    );
    json!({
        "operationId": operation_id,
        "tags": ["mocks"],
        "summary": "List the caller's mocks",
        "description": "The live mocks of the caller's API key, newest first, a page at a time.",
        "security": control_security(),
        "parameters": [
            {
                "name": "offset", "in": "query", "required": false,
                "description": "Mocks to skip.",
                "schema": { "type": "integer", "minimum": 0, "maximum": u32::MAX, "default": 0 },
            },
            {
                "name": "limit", "in": "query", "required": false,
                "description": "Page size.",
                "schema": { "type": "integer", "minimum": 1, "maximum": LIST_MAX_LIMIT, "default": LIST_DEFAULT_LIMIT },
            },
        ],
        "responses": responses_with(vec![(200, ok), (422, unprocessable)], &[401]),
    })
}

fn stats_op(operation_id: &str, method: &str) -> Value {
    let description = if method == "HEAD" {
        "200 OK: the GET response's headers, no body."
    } else {
        "200 OK: the mock's hit rates."
    };
    let mut per_second = vec![0; WINDOW_SECS];
    per_second[WINDOW_SECS - 1] = 3;
    let ok = json_ok(
        description,
        "MockStats",
        json!({
            "mock_id": EXAMPLE_ID, "hit_count": 3, "window_seconds": WINDOW_SECS,
            "hits_per_second": per_second,
            "first_hit_at": "2026-12-04T21:26:01.000Z", "last_hit_at": "2026-12-04T21:26:01.000Z",
            "as_of": "2026-12-04T21:26:02.000Z",
        }),
    );
    json!({
        "operationId": operation_id,
        "tags": ["mocks"],
        "summary": "A mock's hit rates over the last minute",
        "description": "Sampled once a second, so a hit shows up within a second or two.",
        "security": control_security(),
        "parameters": [mock_id_param()],
        "responses": responses_with(vec![(200, ok)], &[401, 404]),
    })
}

fn ui_op(operation_id: &str, method: &str) -> Value {
    let description = if method == "HEAD" {
        "200 OK: the GET response's headers, no body."
    } else {
        "200 OK: the page. Everything it needs is inline; a strict Content-Security-Policy lets \
         it talk only to this server."
    };
    json!({
        "operationId": operation_id,
        "tags": ["service"],
        "summary": "Dashboard page",
        "description": "A page that uses the control API with a key the user types in.",
        "security": [],
        "responses": responses_with(vec![(200, json!({
            "description": description,
            "headers": { "Content-Security-Policy": header(
                "Only inline script and style; connections only to this server.",
                json!({ "type": "string" }),
            ) },
            "content": { "text/html": { "schema": { "type": "string" } } },
        }))], &[]),
    })
}

fn serve_op(method: &str) -> Value {
    let configured = "A mock configured with this status answers with its own headers and \
                      content instead.";
    json!({
        "operationId": serve_operation_id(method),
        "tags": ["serving"],
        "summary": format!("Hit a mock ({method})"),
        "description": "Answers with the mock's configured response: its status (100–599), \
                        Content-Type, custom headers in the order given, `X-Mock-Id`, and its \
                        body (none for HEAD, 1xx, 204 and 304), after `delay_ms`. Any method of \
                        the path gets the same response; any request body is read and \
                        discarded. No API key is needed: the id is the capability. A 1xx mock's \
                        response is followed by closing the connection.",
        "security": [],
        "parameters": [mock_id_param()],
        "responses": {
            "404": {
                "description": format!("404 Not Found. No live mock has this id: the server \
                                        answers `application/json` {{\"detail\": \"mock not \
                                        found\"}} (schema `Error`). {configured}"),
            },
            "405": {
                "description": format!("405 Method Not Allowed. Methods other than {SERVE_ALLOW} \
                                        get `application/json` {{\"detail\": \"method not \
                                        allowed\"}} (schema `Error`) with an Allow header. \
                                        {configured}"),
                "headers": { "Allow": {
                    "description": format!("`{SERVE_ALLOW}` on the server's own 405."),
                    "required": false,
                    "schema": { "type": "string" },
                } },
            },
            "default": {
                "description": "Whatever the mock was configured with: any status from 100 to \
                                599, any headers, any content. Requests the server cannot read \
                                get its protocol errors (400, 408, 413, 414, 417, 431, 505) and \
                                connections over the cap a 503, each `application/json` \
                                {\"detail\": string} (schema `Error`).",
                "headers": { "X-Mock-Id": {
                    "description": "The mock's id, on every response a mock serves.",
                    "required": false,
                    "schema": { "type": "string" },
                } },
            },
        },
    })
}

fn info_op(operation_id: &str, method: &str, summary: &str, schema: &str, example: Value) -> Value {
    let head = method == "HEAD";
    let description = if head {
        "200 OK: the GET response's headers, no body."
    } else {
        "200 OK."
    };
    json!({
        "operationId": operation_id,
        "tags": ["service"],
        "summary": summary,
        "security": [],
        "responses": responses_with(vec![(200, json_ok(description, schema, example))], &[]),
    })
}

fn metrics_op(operation_id: &str, method: &str) -> Value {
    let description = if method == "HEAD" {
        "200 OK: the GET response's headers, no body."
    } else {
        "200 OK: counters, gauges and a serving-time histogram in the Prometheus text format \
         0.0.4. Labels never carry mock ids or names."
    };
    json!({
        "operationId": operation_id,
        "tags": ["service"],
        "summary": "Prometheus metrics",
        "description": "Public by default; started with --metrics-require-key true it needs an \
                        API key like the control API and answers 401 without one.",
        "security": [{}, { "ApiKeyAuth": [] }, { "BearerAuth": [] }],
        "responses": responses_with(vec![(200, json!({
            "description": description,
            "content": { METRICS_CONTENT_TYPE: {
                "schema": { "type": "string" },
                "example": "# TYPE mockd_serve_unknown_total counter\nmockd_serve_unknown_total 0\n",
            } },
        }))], &[401]),
    })
}

/// The media type of `GET /metrics` (parameters `version=0.0.4; charset=utf-8` are sent too).
pub const METRICS_CONTENT_TYPE: &str = "text/plain";

fn info_path(id: &str, summary: &str, schema: &str, example: Value) -> Value {
    json!({
        "get": info_op(&format!("get{id}"), "GET", summary, schema, example.clone()),
        "head": info_op(&format!("head{id}"), "HEAD", summary, schema, example),
    })
}

fn paths() -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let root_example = json!({ "service": "mockd", "version": version, "openapi": OPENAPI_PATH });
    let mut serve = Map::new();
    for m in serve_methods() {
        serve.insert(m.to_ascii_lowercase(), serve_op(m));
    }
    json!({
        "/v1/mocks": {
            "post": create_op(),
            "get": list_op("listMocks", "GET"),
            "head": list_op("headListMocks", "HEAD"),
        },
        "/v1/mocks/{mock_id}": { "get": get_op(), "delete": delete_op() },
        "/v1/mocks/{mock_id}/stats": {
            "get": stats_op("getMockStats", "GET"),
            "head": stats_op("headMockStats", "HEAD"),
        },
        "/ui": { "get": ui_op("getUi", "GET"), "head": ui_op("headUi", "HEAD") },
        "/ui/": { "get": ui_op("getUiSlash", "GET"), "head": ui_op("headUiSlash", "HEAD") },
        "/v1/mock/{mock_id}": serve,
        "/v1/status": info_path("Status", "Service status", "Status", json!({
            "status": "ok", "service": "mockd", "version": version,
            "uptime_seconds": 42, "live_mocks": 3, "workers": 2,
        })),
        "/v1/": info_path("Root", "Service root", "Root", root_example.clone()),
        "/v1": info_path("RootNoSlash", "Service root (same as /v1/)", "Root", root_example),
        "/metrics": {
            "get": metrics_op("getMetrics", "GET"),
            "head": metrics_op("headMetrics", "HEAD"),
        },
        OPENAPI_PATH: info_path("OpenApi", "This OpenAPI document", "OpenApiDocument",
            json!({ "openapi": OPENAPI_VERSION, "info": { "title": "mockd" }, "paths": {} })),
    })
}

/// The whole OpenAPI 3.1 document.
pub fn document() -> Value {
    json!({
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "mockd",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "A fast, trustworthy HTTP mock server.",
            "description": "Create a mock (status, headers, body, optional delay, lifetime) with \
                            the control API, get back an unguessable id, and hit \
                            /v1/mock/{mock_id} to receive that response.\n\n\
                            The control API (/v1/mocks...) needs an API key, sent as `X-API-Key` \
                            or `Authorization: Bearer`; a mock belongs to the key that created \
                            it. Every error the server itself answers with is `application/json` \
                            {\"detail\": string}. Any request can get a protocol error before it \
                            is routed (400, 408, 413, 414, 417, 431, 505; the connection is then \
                            closed), and a connection over the cap gets 503. Unknown paths get \
                            404 {\"detail\": \"not found\"}; known paths with another method get \
                            405 with Allow.",
            "license": { "name": "MIT", "identifier": "MIT" },
        },
        "tags": [
            { "name": "mocks", "description": "Create, read and delete mocks (API key required)." },
            { "name": "serving", "description": "The mocks themselves." },
            { "name": "service", "description": "Status, root and this document." },
        ],
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "responses": responses(),
            "securitySchemes": {
                "ApiKeyAuth": {
                    "type": "apiKey", "in": "header", "name": "X-API-Key",
                    "description": "An API key given with --api-key or MOCKD_API_KEYS.",
                },
                "BearerAuth": {
                    "type": "http", "scheme": "bearer",
                    "description": "The same API key as `Authorization: Bearer <key>`. If both \
                                    headers are sent, X-API-Key is used.",
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::validate::{CreateLimits, parse_create};
    use crate::mock::id::MockId;

    fn doc() -> Value {
        serde_json::from_str(openapi_json()).expect("the document is JSON")
    }

    #[test]
    fn parses_and_is_3_1() {
        let d = doc();
        assert_eq!(d["openapi"], "3.1.0");
        assert!(d["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(d["info"]["title"], "mockd");
        assert_eq!(d["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(d, document());
    }

    #[test]
    fn every_create_field_appears_with_its_bounds() {
        let d = doc();
        let schema = &d["components"]["schemas"]["CreateMockRequest"];
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], true);
        let props = schema["properties"].as_object().unwrap();
        assert_eq!(props.len(), CREATE_FIELDS.len());
        let order: Vec<&str> = CREATE_FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(schema["x-fieldOrder"], json!(order));
        for f in CREATE_FIELDS {
            let p = &props[f.name];
            assert_eq!(p["type"], json!([f.kind.json_type(), "null"]), "{}", f.name);
            assert!(
                p["description"]
                    .as_str()
                    .unwrap()
                    .starts_with(f.description),
                "{}",
                f.name
            );
            match f.kind {
                FieldKind::Int { min, max, default } => {
                    assert_eq!(p["minimum"], min, "{}", f.name);
                    assert_eq!(p["maximum"], max, "{}", f.name);
                    assert_eq!(p["default"], default, "{}", f.name);
                }
                FieldKind::Str {
                    max_chars,
                    max_bytes,
                    non_empty,
                    header_value,
                    default,
                } => {
                    let max_len = match (max_chars, max_bytes) {
                        (Some(c), Some(b)) => Some(c.min(b)),
                        (c, b) => c.or(b),
                    };
                    assert_eq!(
                        p.get("maxLength").and_then(Value::as_u64),
                        max_len.map(|m| m as u64),
                        "{}",
                        f.name
                    );
                    assert_eq!(
                        p.get("x-maxBytes").and_then(Value::as_u64),
                        max_bytes.map(|m| m as u64),
                        "{}",
                        f.name
                    );
                    assert_eq!(p.get("minLength").is_some(), non_empty, "{}", f.name);
                    assert_eq!(p.get("pattern").is_some(), header_value, "{}", f.name);
                    assert_eq!(p["default"], json!(default), "{}", f.name);
                }
                FieldKind::Body => {
                    assert_eq!(p["default"], "");
                    assert_eq!(
                        p["x-maxBytes"],
                        CreateLimits::default().max_body_bytes,
                        "{}",
                        f.name
                    );
                }
                FieldKind::Headers => {
                    assert_eq!(p["default"], json!({}));
                    assert_eq!(p["propertyNames"]["pattern"], TOKEN_PATTERN);
                    assert_eq!(p["additionalProperties"]["pattern"], HEADER_VALUE_PATTERN);
                    let l = CreateLimits::default();
                    assert_eq!(p["x-maxProperties"], l.max_headers);
                    assert_eq!(p["x-maxBytes"], l.max_header_bytes);
                }
            }
        }
    }

    #[test]
    fn metadata_bounds_come_from_the_field_table() {
        let d = doc();
        let mock = &d["components"]["schemas"]["Mock"]["properties"];
        for (key, def) in [
            ("status_code", &fields::STATUS_CODE),
            ("delay_ms", &fields::DELAY_MS),
        ] {
            let FieldKind::Int { min, max, .. } = def.kind else {
                panic!("{key} is an integer field")
            };
            assert_eq!(mock[key]["minimum"], min);
            assert_eq!(mock[key]["maximum"], max);
        }
        assert_eq!(mock["name"]["maxLength"], 128);
    }

    #[test]
    fn request_examples_pass_the_validator() {
        let examples = create_examples();
        for (name, ex) in examples.as_object().unwrap() {
            let body = serde_json::to_vec(&ex["value"]).unwrap();
            let spec = parse_create(&body, &CreateLimits::default())
                .unwrap_or_else(|e| panic!("example {name}: {e}"));
            assert_eq!(spec.name.as_deref(), Some(name.as_str()));
        }
        let e = &examples["rate-limited"]["value"];
        assert_eq!(e["status_code"], 429);
        assert_eq!(e["delay_ms"], 800);
        assert_eq!(e["headers"]["Retry-After"], "120");
        assert_eq!(e["headers"]["X-RateLimit-Policy"], "test");
    }

    #[test]
    fn mock_id_pattern_matches_the_parser() {
        // The pattern says: 21 alphabet characters, then one of A, Q, g, w.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let prefix = "A".repeat(ENCODED_LEN - 1);
        for c in alphabet.chars() {
            let text = format!("{prefix}{c}");
            assert_eq!(
                MockId::parse(text.as_bytes()).is_some(),
                "AQgw".contains(c),
                "{text}"
            );
        }
        for c in alphabet.chars() {
            let text = format!("{c}{}", &prefix[1..]) + "A";
            assert!(MockId::parse(text.as_bytes()).is_some(), "{text}");
        }
        assert_eq!(mock_id_pattern(), "^[A-Za-z0-9_-]{21}[AQgw]$");
        let id = MockId::from_u128(u128::MAX).to_text();
        assert!(id.ends_with(['A', 'Q', 'g', 'w']), "{id}");
    }

    #[test]
    fn serve_path_has_every_router_method_and_links_reach_them() {
        let d = doc();
        let serve = d["paths"]["/v1/mock/{mock_id}"].as_object().unwrap();
        let methods: Vec<String> = serve.keys().map(|k| k.to_ascii_uppercase()).collect();
        let mut expected: Vec<String> = serve_methods().iter().map(|m| m.to_string()).collect();
        let mut got = methods.clone();
        got.sort();
        expected.sort();
        assert_eq!(got, expected);
        let links = d["paths"]["/v1/mocks"]["post"]["responses"]["201"]["links"]
            .as_object()
            .unwrap();
        let mut ids = std::collections::BTreeSet::new();
        for (_, path) in d["paths"].as_object().unwrap() {
            for (_, op) in path.as_object().unwrap() {
                ids.insert(op["operationId"].as_str().unwrap().to_owned());
            }
        }
        for l in links.values() {
            assert!(ids.contains(l["operationId"].as_str().unwrap()), "{l}");
            assert_eq!(l["parameters"]["mock_id"], "$response.body#/mock/mock_id");
        }
        assert_eq!(links.len(), serve_methods().len() + 3);
    }

    #[test]
    fn refs_resolve_and_operation_ids_are_unique() {
        let d = doc();
        fn walk(v: &Value, d: &Value, seen: &mut usize) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let ptr = r.strip_prefix('#').unwrap();
                        assert!(d.pointer(ptr).is_some(), "dangling {r}");
                        *seen += 1;
                    }
                    m.values().for_each(|x| walk(x, d, seen));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, d, seen)),
                _ => {}
            }
        }
        let mut refs = 0;
        walk(&d, &d, &mut refs);
        assert!(refs > 50);
        let mut ids = Vec::new();
        for (_, path) in d["paths"].as_object().unwrap() {
            for (_, op) in path.as_object().unwrap() {
                ids.push(op["operationId"].as_str().unwrap().to_owned());
            }
        }
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }

    #[test]
    fn control_operations_need_a_key_and_document_errors_as_detail() {
        let d = doc();
        for (path, method) in [
            ("/v1/mocks", "post"),
            ("/v1/mocks/{mock_id}", "get"),
            ("/v1/mocks/{mock_id}", "delete"),
        ] {
            let op = &d["paths"][path][method];
            assert_eq!(op["security"], control_security(), "{path} {method}");
            let r401 = &op["responses"]["401"]["$ref"];
            assert_eq!(r401, "#/components/responses/E401");
        }
        let resp = d["components"]["responses"].as_object().unwrap();
        for (name, r) in resp {
            let status: u16 = name[1..].parse().unwrap();
            assert!(status >= 400, "{name}");
            assert_eq!(
                r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error",
                "{name}"
            );
        }
        assert_eq!(
            resp["E401"]["headers"]["WWW-Authenticate"]["required"],
            true
        );
        assert_eq!(resp["E405"]["headers"]["Allow"]["required"], true);
        let created = &d["paths"]["/v1/mocks"]["post"]["responses"]["201"];
        assert_eq!(created["headers"]["Location"]["required"], true);
        for e in protocol_errors() {
            let code = e.status().0.to_string();
            assert!(d["paths"]["/v1/status"]["get"]["responses"][&code].is_object());
        }
    }
}
