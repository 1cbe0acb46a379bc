//! Parsing and validation of a `POST /v1/mocks` body.
//!
//! Owns [`parse_create`], which turns untrusted request bytes into a [`MockSpec`] that the rest of
//! the server may trust without re-checking. Invariants of every `MockSpec` it returns:
//! - `status_code`, `delay_ms`, `ttl_seconds` lie within the bounds of their
//!   [`fields`](super::fields) definitions (bounds and defaults are read from that table at
//!   compile time, so the documentation cannot disagree with the checks).
//! - `content_type` and every header value are valid HTTP field values (no CR, LF, NUL or other
//!   control byte except HTAB, no leading/trailing SP/HTAB); every header name is a non-empty
//!   RFC 9110 token, unique case-insensitively, and none is `Content-Type` or a name the server
//!   owns (framing, hop-by-hop, `Date`, `X-Mock-Id`). Rendering the spec therefore cannot inject
//!   header lines or break message framing.
//! - `headers` keeps the order of the request; it is within `CreateLimits`.
//!
//! Compatibility and strictness notes:
//! - Unknown top-level keys are ignored, as the hosted original does, so clients written for it
//!   keep working.
//! - A known key given twice is rejected (`serde_json`, like most parsers, would silently keep the
//!   last one; an ambiguous mock definition is better refused than guessed).
//! - `serde_json::Value` objects are sorted maps that keep only the last of duplicate keys, so
//!   the request text is walked once more (see `scan`) to recover header order and duplicates.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::error::ApiError;
use super::fields::{self, FieldDef, FieldKind};

/// Server-configured limits for a create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateLimits {
    /// Mock response body cap in bytes, default 1 MiB (1_048_576).
    pub max_body_bytes: usize,
    /// Max number of entries in `headers` (a `Content-Type` entry counts), default 64.
    pub max_headers: usize,
    /// Max total bytes of header names + values in `headers`, default 16 KiB.
    pub max_header_bytes: usize,
}

impl Default for CreateLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1_048_576,
            max_headers: 64,
            max_header_bytes: 16 * 1024,
        }
    }
}

/// A validated mock definition.
#[derive(Debug, Clone, PartialEq)]
pub struct MockSpec {
    pub name: Option<String>,
    pub status_code: u16,
    /// Custom headers, in the order given; a `Content-Type` entry is folded into `content_type`.
    pub headers: Vec<(String, String)>,
    /// UTF-8 bytes of the body string (empty when absent).
    pub body: Vec<u8>,
    pub content_type: String,
    pub delay_ms: u32,
    pub ttl_seconds: u32,
}

impl MockSpec {
    /// True if any header other than a folded `Content-Type` was configured.
    pub fn has_custom_headers(&self) -> bool {
        !self.headers.is_empty()
    }

    /// True if the configured body is non-empty.
    pub fn has_body(&self) -> bool {
        !self.body.is_empty()
    }
}

// ---- Rules read from the field table at compile time ------------------------------------------

struct IntRule {
    min: i64,
    max: i64,
    default: i64,
}

const fn int_rule(def: &FieldDef) -> IntRule {
    match def.kind {
        FieldKind::Int { min, max, default } => IntRule { min, max, default },
        _ => panic!("field is not an integer field"),
    }
}

struct StrRule {
    max_chars: Option<usize>,
    max_bytes: Option<usize>,
    non_empty: bool,
    header_value: bool,
    default: Option<&'static str>,
}

const fn str_rule(def: &FieldDef) -> StrRule {
    match def.kind {
        FieldKind::Str {
            max_chars,
            max_bytes,
            non_empty,
            header_value,
            default,
        } => StrRule {
            max_chars,
            max_bytes,
            non_empty,
            header_value,
            default,
        },
        _ => panic!("field is not a plain string field"),
    }
}

const NAME_RULE: StrRule = str_rule(&fields::NAME);
const STATUS_RULE: IntRule = int_rule(&fields::STATUS_CODE);
const CONTENT_TYPE_RULE: StrRule = str_rule(&fields::CONTENT_TYPE);
const DELAY_RULE: IntRule = int_rule(&fields::DELAY_MS);
const TTL_RULE: IntRule = int_rule(&fields::TTL_SECONDS);

// The integer conversions below can never fail for in-range values.
const _: () = assert!(STATUS_RULE.min >= 0 && STATUS_RULE.max <= u16::MAX as i64);
const _: () = assert!(DELAY_RULE.min >= 0 && DELAY_RULE.max <= u32::MAX as i64);
const _: () = assert!(TTL_RULE.min >= 0 && TTL_RULE.max <= u32::MAX as i64);
const _: () = assert!(matches!(fields::BODY.kind, FieldKind::Body));
const _: () = assert!(matches!(fields::HEADERS.kind, FieldKind::Headers));

/// Header names a mock may not set because the server owns message framing and connection
/// management (RFC 9110 §7.6.1, §8.6, RFC 9112 §6.1).
const FRAMING_OR_HOP_BY_HOP: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "trailer",
    "te",
    "proxy-connection",
];

/// Header names the server writes itself on every mock response.
const SERVER_OWNED: &[&str] = &["date", "x-mock-id"];

// ---- Entry point ------------------------------------------------------------------------------

/// Parses and validates a POST /v1/mocks body.
///
/// Every error is a 422 whose detail starts with the failing field's path (`body` for the
/// request as a whole, `headers.<Name>` for one header). Checks run in field-table order and
/// the first failure is returned.
pub fn parse_create(body: &[u8], limits: &CreateLimits) -> Result<MockSpec, ApiError> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::unprocessable("body", &format!("invalid JSON: {e}")))?;
    let Value::Object(mut obj) = root else {
        return Err(ApiError::unprocessable("body", "must be a JSON object"));
    };

    // `obj` has lost key order and duplicates; the raw text still has them.
    let headers_raw = check_top_level_keys(body)?;

    let name = str_field(&mut obj, &fields::NAME, &NAME_RULE)?;
    let status_code = int_field(&mut obj, &fields::STATUS_CODE, &STATUS_RULE)?;
    let (headers, ct_header) =
        headers_field(obj.remove(fields::HEADERS.name), headers_raw, limits)?;
    let body = body_field(&mut obj, limits)?;
    let ct_field = str_field(&mut obj, &fields::CONTENT_TYPE, &CONTENT_TYPE_RULE)?;
    let delay_ms = int_field(&mut obj, &fields::DELAY_MS, &DELAY_RULE)?;
    let ttl_seconds = int_field(&mut obj, &fields::TTL_SECONDS, &TTL_RULE)?;

    let content_type = match (ct_header, ct_field) {
        (Some((hname, hval)), Some(field)) => {
            if hval != field {
                return Err(ApiError::unprocessable(
                    &header_path(&hname),
                    "conflicts with content_type",
                ));
            }
            field
        }
        (Some((hname, hval)), None) => {
            check_str(&header_path(&hname), &hval, &CONTENT_TYPE_RULE)?;
            hval
        }
        (None, Some(field)) => field,
        (None, None) => CONTENT_TYPE_RULE.default.unwrap_or_default().to_owned(),
    };

    Ok(MockSpec {
        name,
        status_code: narrow(status_code, &fields::STATUS_CODE, &STATUS_RULE)?,
        headers,
        body,
        content_type,
        delay_ms: narrow(delay_ms, &fields::DELAY_MS, &DELAY_RULE)?,
        ttl_seconds: narrow(ttl_seconds, &fields::TTL_SECONDS, &TTL_RULE)?,
    })
}

/// Rejects a known field given twice and returns the raw text of `headers`, if present.
fn check_top_level_keys(body: &[u8]) -> Result<Option<&[u8]>, ApiError> {
    let entries = scan::object_entries(body).ok_or_else(rescan_failed)?;
    let mut seen: u64 = 0;
    let mut headers_raw = None;
    for (kraw, vraw) in entries {
        let key = decode_string(kraw)?;
        let Some(i) = fields::CREATE_FIELDS.iter().position(|f| f.name == key) else {
            continue; // Unknown keys are ignored (compatible with the hosted original).
        };
        let bit = 1u64 << (i % 64);
        if seen & bit != 0 {
            return Err(ApiError::unprocessable(&key, "given more than once"));
        }
        seen |= bit;
        if key == fields::HEADERS.name {
            headers_raw = Some(vraw);
        }
    }
    Ok(headers_raw)
}

// ---- Field helpers ----------------------------------------------------------------------------

/// Removes `def`'s value from `obj`; JSON `null` counts as absent.
fn take(obj: &mut Map<String, Value>, def: &FieldDef) -> Option<Value> {
    match obj.remove(def.name) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    }
}

fn str_field(
    obj: &mut Map<String, Value>,
    def: &FieldDef,
    rule: &StrRule,
) -> Result<Option<String>, ApiError> {
    match take(obj, def) {
        None => Ok(None),
        Some(Value::String(s)) => {
            check_str(def.name, &s, rule)?;
            Ok(Some(s))
        }
        Some(other) => Err(ApiError::unprocessable(
            def.name,
            &format!("must be a string, got {}", describe(&other)),
        )),
    }
}

fn check_str(path: &str, s: &str, rule: &StrRule) -> Result<(), ApiError> {
    if rule.non_empty && s.is_empty() {
        return Err(ApiError::unprocessable(path, "must not be empty"));
    }
    if let Some(max) = rule.max_bytes
        && s.len() > max
    {
        return Err(ApiError::unprocessable(
            path,
            &format!("must be at most {max} bytes, got {}", s.len()),
        ));
    }
    // A string never has more characters than bytes, so only long ones need counting.
    if let Some(max) = rule.max_chars
        && s.len() > max
    {
        let n = s.chars().count();
        if n > max {
            return Err(ApiError::unprocessable(
                path,
                &format!("must be at most {max} characters, got {n}"),
            ));
        }
    }
    if rule.header_value
        && let Some(problem) = header_value_problem(s.as_bytes())
    {
        return Err(ApiError::unprocessable(path, problem));
    }
    Ok(())
}

fn int_field(
    obj: &mut Map<String, Value>,
    def: &FieldDef,
    rule: &IntRule,
) -> Result<i64, ApiError> {
    match take(obj, def) {
        None => Ok(rule.default),
        Some(Value::Number(n)) => match n.as_i64() {
            // `as_i64` is `None` for floats (`202.0`, `2e2`) and for integers beyond i64.
            Some(i) if (rule.min..=rule.max).contains(&i) => Ok(i),
            _ => Err(int_error(def, rule, &n.to_string())),
        },
        Some(other) => Err(int_error(def, rule, describe(&other))),
    }
}

fn int_error(def: &FieldDef, rule: &IntRule, got: &str) -> ApiError {
    ApiError::unprocessable(
        def.name,
        &format!(
            "must be an integer from {} to {}, got {got}",
            rule.min, rule.max
        ),
    )
}

/// Narrows a range-checked integer to its storage type.
fn narrow<T: TryFrom<i64>>(v: i64, def: &FieldDef, rule: &IntRule) -> Result<T, ApiError> {
    T::try_from(v).map_err(|_| int_error(def, rule, &v.to_string()))
}

fn body_field(obj: &mut Map<String, Value>, limits: &CreateLimits) -> Result<Vec<u8>, ApiError> {
    match take(obj, &fields::BODY) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => {
            if s.len() > limits.max_body_bytes {
                return Err(ApiError::unprocessable(
                    fields::BODY.name,
                    &format!("exceeds {} bytes", limits.max_body_bytes),
                ));
            }
            Ok(s.into_bytes())
        }
        Some(other) => Err(ApiError::unprocessable(
            fields::BODY.name,
            &format!("must be a string, got {}", describe(&other)),
        )),
    }
}

type Header = (String, String);

/// Validates `headers`; returns the custom headers in request order and, separately, a
/// `Content-Type` entry (name as written, value) if there was one.
fn headers_field(
    value: Option<Value>,
    raw: Option<&[u8]>,
    limits: &CreateLimits,
) -> Result<(Vec<Header>, Option<Header>), ApiError> {
    let field = fields::HEADERS.name;
    let mut map = match value {
        None | Some(Value::Null) => return Ok((Vec::new(), None)),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(ApiError::unprocessable(
                field,
                &format!(
                    "must be an object of header name to string value, got {}",
                    describe(&other)
                ),
            ));
        }
    };
    if map.is_empty() {
        return Ok((Vec::new(), None));
    }
    let entries = raw
        .and_then(scan::object_entries)
        .ok_or_else(rescan_failed)?;
    if entries.len() > limits.max_headers {
        return Err(ApiError::unprocessable(
            field,
            &format!(
                "at most {} headers allowed, got {}",
                limits.max_headers,
                entries.len()
            ),
        ));
    }

    let mut out: Vec<Header> = Vec::with_capacity(entries.len());
    let mut content_type: Option<Header> = None;
    let mut total_bytes = 0usize;
    for (kraw, _) in entries {
        let name = decode_string(kraw)?.into_owned();
        let path = || header_path(&name);
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ApiError::unprocessable(
                &path(),
                "name must be a non-empty RFC 9110 token (letters, digits and !#$%&'*+-.^_`|~)",
            ));
        }
        if FRAMING_OR_HOP_BY_HOP
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::unprocessable(
                &path(),
                "framing and hop-by-hop headers are managed by the server and cannot be set",
            ));
        }
        if SERVER_OWNED.iter().any(|r| r.eq_ignore_ascii_case(&name)) {
            return Err(ApiError::unprocessable(
                &path(),
                "is set by the server and cannot be configured",
            ));
        }
        // Quadratic, but the entry count is already capped by `max_headers`.
        let duplicate = out
            .iter()
            .chain(content_type.iter())
            .any(|(n, _)| n.eq_ignore_ascii_case(&name));
        if duplicate {
            return Err(ApiError::unprocessable(
                &path(),
                "duplicate header name (names are case-insensitive)",
            ));
        }
        let value = match map.remove(&name) {
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(ApiError::unprocessable(
                    &path(),
                    &format!("value must be a string, got {}", describe(&other)),
                ));
            }
            None => return Err(rescan_failed()),
        };
        total_bytes = total_bytes.saturating_add(name.len() + value.len());
        if total_bytes > limits.max_header_bytes {
            return Err(ApiError::unprocessable(
                field,
                &format!(
                    "header names and values exceed {} bytes in total",
                    limits.max_header_bytes
                ),
            ));
        }
        if let Some(problem) = header_value_problem(value.as_bytes()) {
            return Err(ApiError::unprocessable(
                &path(),
                &format!("value {problem}"),
            ));
        }
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some((name, value));
        } else {
            out.push((name, value));
        }
    }
    Ok((out, content_type))
}

// ---- Small utilities --------------------------------------------------------------------------

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Why `v` is not an acceptable header field value, or `None` if it is.
///
/// RFC 9110 §5.5: `field-value = *field-content`, made of VCHAR, SP, HTAB and obs-text
/// (>= 0x80), without leading or trailing whitespace. The empty value is allowed.
fn header_value_problem(v: &[u8]) -> Option<&'static str> {
    for &b in v {
        match b {
            b'\r' | b'\n' => return Some("must not contain CR or LF"),
            0 => return Some("must not contain NUL"),
            b'\t' => {}
            0x00..=0x1f | 0x7f => {
                return Some("must not contain control characters other than HTAB");
            }
            _ => {}
        }
    }
    let ws = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    if ws(v.first()) || ws(v.last()) {
        return Some("must not have leading or trailing whitespace");
    }
    None
}

/// `headers.<Name>` for error details, with control characters escaped and long names cut.
fn header_path(name: &str) -> String {
    const MAX_SHOWN: usize = 64;
    let mut p = String::with_capacity(fields::HEADERS.name.len() + 1 + name.len().min(80));
    p.push_str(fields::HEADERS.name);
    p.push('.');
    if name.is_empty() {
        p.push_str("\"\"");
    }
    for (i, c) in name.chars().enumerate() {
        if i == MAX_SHOWN {
            p.push('…');
            break;
        }
        if c.is_control() {
            p.extend(c.escape_default());
        } else {
            p.push(c);
        }
    }
    p
}

/// How a wrongly typed JSON value is named in an error detail.
fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes a raw JSON string literal (quotes included) found by `scan`.
fn decode_string(raw: &[u8]) -> Result<Cow<'_, str>, ApiError> {
    let inner = raw
        .strip_prefix(b"\"")
        .and_then(|r| r.strip_suffix(b"\""))
        .ok_or_else(rescan_failed)?;
    if !inner.contains(&b'\\') {
        // No escapes: the literal's content is the string (serde_json already checked UTF-8
        // and the absence of raw control characters).
        return std::str::from_utf8(inner)
            .map(Cow::Borrowed)
            .map_err(|_| rescan_failed());
    }
    serde_json::from_slice::<String>(raw)
        .map(Cow::Owned)
        .map_err(|_| rescan_failed())
}

/// `scan` disagreed with `serde_json` about text `serde_json` accepted: a bug, not bad input.
fn rescan_failed() -> ApiError {
    ApiError::new(500, "internal error: could not re-read the request body")
}

/// A minimal walker over JSON text that `serde_json` has already accepted, used only to see
/// what `Value` hides: the order of an object's keys and repeated keys.
mod scan {
    /// Splits the object text `b` (optionally surrounded by whitespace) into
    /// `(raw key literal, raw value text)` pairs in document order. `None` if `b` is not an
    /// object or is malformed.
    pub(super) fn object_entries(b: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
        let mut i = ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        let mut out = Vec::new();
        i = ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            return Some(out);
        }
        loop {
            let key_start = i;
            i = string_end(b, i)?;
            let key = &b[key_start..i];
            i = ws(b, i);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = ws(b, i + 1);
            let value_start = i;
            i = value_end(b, i)?;
            out.push((key, &b[value_start..i]));
            i = ws(b, i);
            match b.get(i)? {
                b',' => i = ws(b, i + 1),
                b'}' => return Some(out),
                _ => return None,
            }
        }
    }

    fn ws(b: &[u8], mut i: usize) -> usize {
        while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    }

    /// `b[i]` must open a string; returns the index just past its closing quote.
    fn string_end(b: &[u8], i: usize) -> Option<usize> {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let mut j = i + 1;
        loop {
            match b.get(j)? {
                b'"' => return Some(j + 1),
                b'\\' => j += 2,
                _ => j += 1,
            }
        }
    }

    /// Returns the index just past the value starting at `b[i]`.
    fn value_end(b: &[u8], i: usize) -> Option<usize> {
        match b.get(i)? {
            b'"' => string_end(b, i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    match b.get(j)? {
                        b'"' => {
                            j = string_end(b, j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {
                // Number or literal: runs to the next delimiter.
                let len = b[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(b.len() - i);
                (len > 0).then_some(i + len)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok_with(body: &str, limits: &CreateLimits) -> MockSpec {
        match parse_create(body.as_bytes(), limits) {
            Ok(s) => s,
            Err(e) => panic!("{body} rejected: {}", e.detail),
        }
    }

    fn ok(body: &str) -> MockSpec {
        ok_with(body, &CreateLimits::default())
    }

    fn ok_v(v: Value) -> MockSpec {
        ok(&v.to_string())
    }

    fn err_with(body: &str, limits: &CreateLimits) -> String {
        match parse_create(body.as_bytes(), limits) {
            Ok(s) => panic!("{body} accepted: {s:?}"),
            Err(e) => {
                assert_eq!(e.status, 422, "{}", e.detail);
                e.detail
            }
        }
    }

    fn err(body: &str) -> String {
        err_with(body, &CreateLimits::default())
    }

    fn err_v(v: Value) -> String {
        err(&v.to_string())
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Alternating case, e.g. `content-length` -> `CoNtEnT-LeNgTh`.
    fn mixed_case(s: &str) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    }

    // ---- Whole body ----

    #[test]
    fn empty_object_gives_defaults() {
        let s = ok("{}");
        assert_eq!(
            s,
            MockSpec {
                name: None,
                status_code: 200,
                headers: vec![],
                body: vec![],
                content_type: "application/json".into(),
                delay_ms: 0,
                ttl_seconds: 3600,
            }
        );
        assert!(!s.has_body());
        assert!(!s.has_custom_headers());
    }

    #[test]
    fn full_definition() {
        let s = ok(r#"{
            "name": "orders",
            "status_code": 202,
            "headers": {"X-Request-Id": "r-1", "Cache-Control": "no-store"},
            "body": "{\"queued\":true}",
            "content_type": "application/json; charset=utf-8",
            "delay_ms": 150,
            "ttl_seconds": 600
        }"#);
        assert_eq!(s.name.as_deref(), Some("orders"));
        assert_eq!(s.status_code, 202);
        assert_eq!(
            s.headers,
            headers(&[("X-Request-Id", "r-1"), ("Cache-Control", "no-store")])
        );
        assert_eq!(s.body, br#"{"queued":true}"#);
        assert_eq!(s.content_type, "application/json; charset=utf-8");
        assert_eq!(s.delay_ms, 150);
        assert_eq!(s.ttl_seconds, 600);
        assert!(s.has_body());
        assert!(s.has_custom_headers());
    }

    #[test]
    fn malformed_json() {
        for body in [
            "",
            "{",
            "{\"a\":}",
            "{'a':1}",
            "{\"a\":1,}",
            "{} x",
            "nul",
            "\u{feff}{}",
        ] {
            let d = err(body);
            assert!(d.starts_with("body: invalid JSON"), "{body:?}: {d}");
            assert!(
                d.contains("line ") && d.contains("column "),
                "{body:?}: {d}"
            );
        }
        let d = err("{\n  \"status_code\": 200,\n  oops\n}");
        assert!(d.contains("line 3 column 3"), "{d}");
        // Invalid UTF-8 inside a string.
        let d = err_with_bytes(b"{\"name\":\"\xff\"}");
        assert!(d.starts_with("body: invalid JSON"), "{d}");
    }

    fn err_with_bytes(body: &[u8]) -> String {
        let e = parse_create(body, &CreateLimits::default()).unwrap_err();
        assert_eq!(e.status, 422);
        e.detail
    }

    #[test]
    fn non_object_json() {
        for body in ["[]", "[{}]", "\"x\"", "1", "true", "null"] {
            assert_eq!(err(body), "body: must be a JSON object", "{body}");
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let s = ok(
            r#"{"foo": 1, "bar": {"x": [1, "}", {"y": "]\"{"}]}, "status_code": 201,
                       "method": "POST", "foo": 2}"#,
        );
        assert_eq!(s.status_code, 201);
    }

    #[test]
    fn null_counts_as_absent() {
        let s = ok(
            r#"{"name": null, "status_code": null, "headers": null, "body": null,
                       "content_type": null, "delay_ms": null, "ttl_seconds": null}"#,
        );
        assert_eq!(s, ok("{}"));
    }

    #[test]
    fn duplicate_known_key_rejected() {
        assert_eq!(
            err(r#"{"status_code": 200, "status_code": 500}"#),
            "status_code: given more than once"
        );
        assert_eq!(
            err(r#"{"headers": {}, "name": "a", "headers": {"A": "b"}}"#),
            "headers: given more than once"
        );
        // Escaped spelling of the same key is the same key.
        assert_eq!(
            err(r#"{"body": "a", "b\u006fdy": "b"}"#),
            "body: given more than once"
        );
    }

    #[test]
    fn whitespace_around_document() {
        let s = ok(
            " \r\n\t{ \"status_code\" : 201 , \"headers\" : { \"B\" : \"1\" , \"A\" : \"2\" } } \n",
        );
        assert_eq!(s.status_code, 201);
        assert_eq!(s.headers, headers(&[("B", "1"), ("A", "2")]));
    }

    // ---- name ----

    #[test]
    fn name_length_boundaries_in_characters() {
        for (unit, label) in [
            ("a", "ascii"),
            ("é", "2-byte"),
            ("✓", "3-byte"),
            ("🦀", "4-byte"),
        ] {
            let s = ok_v(json!({ "name": unit.repeat(128) }));
            assert_eq!(s.name.unwrap().chars().count(), 128, "{label}");
            assert_eq!(
                err_v(json!({ "name": unit.repeat(129) })),
                "name: must be at most 128 characters, got 129",
                "{label}"
            );
        }
        assert_eq!(ok_v(json!({ "name": "" })).name.as_deref(), Some(""));
    }

    #[test]
    fn name_wrong_types() {
        assert_eq!(
            err(r#"{"name": 5}"#),
            "name: must be a string, got a number"
        );
        assert_eq!(
            err(r#"{"name": true}"#),
            "name: must be a string, got a boolean"
        );
        assert_eq!(
            err(r#"{"name": ["a"]}"#),
            "name: must be a string, got an array"
        );
        assert_eq!(
            err(r#"{"name": {}}"#),
            "name: must be a string, got an object"
        );
    }

    // ---- integers ----

    fn int_case(field: &str, raw: &str) -> Result<MockSpec, String> {
        parse_create(
            format!("{{\"{field}\": {raw}}}").as_bytes(),
            &CreateLimits::default(),
        )
        .map_err(|e| {
            assert_eq!(e.status, 422);
            e.detail
        })
    }

    #[test]
    fn status_code_boundaries() {
        assert_eq!(int_case("status_code", "100").unwrap().status_code, 100);
        assert_eq!(int_case("status_code", "599").unwrap().status_code, 599);
        assert_eq!(
            int_case("status_code", "99").unwrap_err(),
            "status_code: must be an integer from 100 to 599, got 99"
        );
        assert_eq!(
            int_case("status_code", "600").unwrap_err(),
            "status_code: must be an integer from 100 to 599, got 600"
        );
        assert_eq!(
            int_case("status_code", "-200").unwrap_err(),
            "status_code: must be an integer from 100 to 599, got -200"
        );
        assert_eq!(
            int_case("status_code", "65736").unwrap_err(),
            "status_code: must be an integer from 100 to 599, got 65736"
        );
    }

    #[test]
    fn delay_boundaries() {
        assert_eq!(int_case("delay_ms", "0").unwrap().delay_ms, 0);
        assert_eq!(int_case("delay_ms", "30000").unwrap().delay_ms, 30_000);
        assert_eq!(
            int_case("delay_ms", "-1").unwrap_err(),
            "delay_ms: must be an integer from 0 to 30000, got -1"
        );
        assert_eq!(
            int_case("delay_ms", "30001").unwrap_err(),
            "delay_ms: must be an integer from 0 to 30000, got 30001"
        );
    }

    #[test]
    fn ttl_boundaries() {
        assert_eq!(int_case("ttl_seconds", "60").unwrap().ttl_seconds, 60);
        assert_eq!(
            int_case("ttl_seconds", "172800").unwrap().ttl_seconds,
            172_800
        );
        assert_eq!(
            int_case("ttl_seconds", "59").unwrap_err(),
            "ttl_seconds: must be an integer from 60 to 172800, got 59"
        );
        assert_eq!(
            int_case("ttl_seconds", "172801").unwrap_err(),
            "ttl_seconds: must be an integer from 60 to 172800, got 172801"
        );
    }

    #[test]
    fn integers_reject_floats_strings_bools_and_containers() {
        for field in ["status_code", "delay_ms", "ttl_seconds"] {
            let prefix = format!("{field}: must be an integer from ");
            for (raw, got) in [
                ("202.0", "got 202.0"),
                ("2e2", "got 200.0"),
                ("200.5", "got 200.5"),
                ("\"202\"", "got a string"),
                ("true", "got a boolean"),
                ("false", "got a boolean"),
                ("[200]", "got an array"),
                ("{}", "got an object"),
                ("18446744073709551615", "got 18446744073709551615"),
                ("1e400", ""), // rejected by serde_json itself as out of range
            ] {
                let d = int_case(field, raw).unwrap_err();
                if got.is_empty() {
                    assert!(d.starts_with("body: invalid JSON"), "{field} {raw}: {d}");
                } else {
                    assert!(d.starts_with(&prefix), "{field} {raw}: {d}");
                    assert!(d.ends_with(got), "{field} {raw}: {d}");
                }
            }
            // serde_json reads the literal `-0` as the float -0.0, so it is refused like one.
            assert!(int_case(field, "-0").unwrap_err().ends_with("got -0.0"));
        }
    }

    // ---- headers: names ----

    #[test]
    fn header_order_is_preserved() {
        let s = ok(r#"{"headers": {"Zeta": "1", "alpha": "2", "Mid": "3", "X-0": ""}}"#);
        assert_eq!(
            s.headers,
            headers(&[("Zeta", "1"), ("alpha", "2"), ("Mid", "3"), ("X-0", "")])
        );
    }

    #[test]
    fn header_name_case_is_preserved_and_escapes_decoded() {
        let s = ok(r#"{"headers": {"x-LOWER-upper": "v", "X-\u0046oo": "b\u00e9"}}"#);
        assert_eq!(
            s.headers,
            headers(&[("x-LOWER-upper", "v"), ("X-Foo", "bé")])
        );
    }

    #[test]
    fn header_name_token_chars() {
        let s = ok_v(json!({ "headers": { "!#$%&'*+-.^_`|~09azAZ": "v" } }));
        assert_eq!(s.headers.len(), 1);
        for bad in [
            "", "X Foo", "X:Foo", "X(Foo)", "X\"Foo", "X/Foo", "X@Foo", "X,Foo", "é", "X\tFoo",
            "X{Foo}", "X=1", "X;1", "X\\1",
        ] {
            let d = err_v(json!({ "headers": { bad: "v" } }));
            assert!(d.starts_with("headers."), "{bad:?}: {d}");
            assert!(
                d.contains("name must be a non-empty RFC 9110 token"),
                "{bad:?}: {d}"
            );
        }
        assert!(err_v(json!({ "headers": { "": "v" } })).starts_with("headers.\"\": "));
    }

    #[test]
    fn header_name_injection_rejected() {
        for bad in ["X-A\r\nX-Injected", "X-A\nB", "X-A\rB", "X-A\u{0}", "\r\n"] {
            let d = err_v(json!({ "headers": { bad: "v" } }));
            assert!(d.contains("RFC 9110 token"), "{bad:?}: {d}");
            // The detail escapes control characters instead of echoing them.
            assert!(
                !d.contains('\r') && !d.contains('\n') && !d.contains('\0'),
                "{d:?}"
            );
        }
        assert_eq!(
            err_v(json!({ "headers": { "X-A\r\nB": "v" } })),
            "headers.X-A\\r\\nB: name must be a non-empty RFC 9110 token \
             (letters, digits and !#$%&'*+-.^_`|~)"
        );
    }

    #[test]
    fn long_header_name_is_truncated_in_detail() {
        let name = format!("{}(", "A".repeat(100));
        let d = err_v(json!({ "headers": { name: "v" } }));
        assert!(
            d.starts_with(&format!("headers.{}…: ", "A".repeat(64))),
            "{d}"
        );
    }

    #[test]
    fn reserved_header_names_rejected_in_any_case() {
        for name in FRAMING_OR_HOP_BY_HOP.iter().chain(SERVER_OWNED) {
            for spelled in [
                name.to_string(),
                name.to_ascii_uppercase(),
                mixed_case(name),
            ] {
                let d = err_v(json!({ "headers": { spelled.clone(): "x" } }));
                assert!(d.starts_with(&format!("headers.{spelled}: ")), "{d}");
                assert!(
                    d.contains("cannot be set") || d.contains("cannot be configured"),
                    "{d}"
                );
            }
        }
        assert_eq!(
            err(r#"{"headers": {"CoNtEnT-LeNgTh": "5"}}"#),
            "headers.CoNtEnT-LeNgTh: framing and hop-by-hop headers are managed by the server \
             and cannot be set"
        );
        assert_eq!(
            err(r#"{"headers": {"x-mock-ID": "5"}}"#),
            "headers.x-mock-ID: is set by the server and cannot be configured"
        );
        assert_eq!(FRAMING_OR_HOP_BY_HOP.len() + SERVER_OWNED.len(), 10);
        // Names that merely contain a reserved name are fine.
        let s = ok(r#"{"headers": {"X-Date": "a", "TE-X": "b", "Content-Lengths": "c"}}"#);
        assert_eq!(s.headers.len(), 3);
    }

    #[test]
    fn duplicate_header_names_rejected() {
        assert_eq!(
            err(r#"{"headers": {"X-A": "1", "x-a": "2"}}"#),
            "headers.x-a: duplicate header name (names are case-insensitive)"
        );
        // Exact duplicates, which a JSON map would silently collapse.
        assert_eq!(
            err(r#"{"headers": {"X-A": "1", "X-A": "2"}}"#),
            "headers.X-A: duplicate header name (names are case-insensitive)"
        );
        assert_eq!(
            err(r#"{"headers": {"X-A": "1", "X-\u0041": "2"}}"#),
            "headers.X-A: duplicate header name (names are case-insensitive)"
        );
        assert_eq!(
            err(r#"{"headers": {"Content-Type": "a/b", "content-type": "a/b"}}"#),
            "headers.content-type: duplicate header name (names are case-insensitive)"
        );
    }

    // ---- headers: values ----

    #[test]
    fn header_value_injection_rejected() {
        for (bad, why) in [
            ("a\r\nX-Injected: 1", "must not contain CR or LF"),
            ("a\nb", "must not contain CR or LF"),
            ("a\rb", "must not contain CR or LF"),
            ("a\u{0}b", "must not contain NUL"),
            (
                "a\u{1}b",
                "must not contain control characters other than HTAB",
            ),
            (
                "a\u{1f}b",
                "must not contain control characters other than HTAB",
            ),
            (
                "a\u{7f}b",
                "must not contain control characters other than HTAB",
            ),
            (" a", "must not have leading or trailing whitespace"),
            ("a ", "must not have leading or trailing whitespace"),
            ("\ta", "must not have leading or trailing whitespace"),
            ("a\t", "must not have leading or trailing whitespace"),
            (" ", "must not have leading or trailing whitespace"),
        ] {
            assert_eq!(
                err_v(json!({ "headers": { "X-V": bad } })),
                format!("headers.X-V: value {why}"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn header_value_allowed_forms() {
        let s = ok_v(json!({ "headers": {
            "A": "",
            "B": "a\tb c",
            "C": "héllo ✓ 🦀",
            "D": "\"quoted\", (comment); q=0.5",
            "E": "\u{80}\u{a0}",
        } }));
        assert_eq!(s.headers.len(), 5);
        assert_eq!(s.headers[1].1, "a\tb c");
    }

    #[test]
    fn header_wrong_types() {
        assert_eq!(
            err(r#"{"headers": ["X-A", "b"]}"#),
            "headers: must be an object of header name to string value, got an array"
        );
        assert_eq!(
            err(r#"{"headers": "X-A: b"}"#),
            "headers: must be an object of header name to string value, got a string"
        );
        assert_eq!(
            err(r#"{"headers": {"X-A": 1}}"#),
            "headers.X-A: value must be a string, got a number"
        );
        assert_eq!(
            err(r#"{"headers": {"X-A": null}}"#),
            "headers.X-A: value must be a string, got null"
        );
        assert_eq!(
            err(r#"{"headers": {"X-A": ["b"]}}"#),
            "headers.X-A: value must be a string, got an array"
        );
        assert_eq!(
            err(r#"{"headers": {"X-A": {"b": "}"}}}"#),
            "headers.X-A: value must be a string, got an object"
        );
        assert!(ok(r#"{"headers": {}}"#).headers.is_empty());
    }

    // ---- headers: limits ----

    fn n_headers(n: usize) -> Value {
        let map: Map<String, Value> = (0..n)
            .map(|i| (format!("X-H{i}"), Value::from("v")))
            .collect();
        json!({ "headers": map })
    }

    #[test]
    fn header_count_limit() {
        assert_eq!(ok_v(n_headers(64)).headers.len(), 64);
        assert_eq!(
            err_v(n_headers(65)),
            "headers: at most 64 headers allowed, got 65"
        );
        let small = CreateLimits {
            max_headers: 2,
            ..CreateLimits::default()
        };
        assert_eq!(
            ok_with(r#"{"headers": {"A": "1", "Content-Type": "t/p"}}"#, &small)
                .headers
                .len(),
            1
        );
        assert_eq!(
            err_with(r#"{"headers": {"A": "1", "B": "2", "C": "3"}}"#, &small),
            "headers: at most 2 headers allowed, got 3"
        );
        // Exact duplicates count as entries too.
        assert_eq!(
            err_with(r#"{"headers": {"A": "1", "A": "2", "A": "3"}}"#, &small),
            "headers: at most 2 headers allowed, got 3"
        );
    }

    #[test]
    fn header_bytes_limit() {
        let limits = CreateLimits {
            max_header_bytes: 10,
            ..CreateLimits::default()
        };
        // "AB"+"cde" = 5, "FG"+"hij" = 5: exactly 10.
        let s = ok_with(r#"{"headers": {"AB": "cde", "FG": "hij"}}"#, &limits);
        assert_eq!(s.headers.len(), 2);
        assert_eq!(
            err_with(r#"{"headers": {"AB": "cde", "FG": "hijk"}}"#, &limits),
            "headers: header names and values exceed 10 bytes in total"
        );
        // Multibyte values count in bytes.
        assert_eq!(
            err_with(r#"{"headers": {"A": "ééééé"}}"#, &limits),
            "headers: header names and values exceed 10 bytes in total"
        );
        // The default limit: 16 KiB.
        let big = "v".repeat(16 * 1024 - 1);
        assert_eq!(ok_v(json!({ "headers": { "A": big } })).headers.len(), 1);
        let bigger = "v".repeat(16 * 1024);
        assert_eq!(
            err_v(json!({ "headers": { "A": bigger } })),
            "headers: header names and values exceed 16384 bytes in total"
        );
    }

    // ---- Content-Type folding ----

    #[test]
    fn content_type_header_is_folded() {
        let s = ok(r#"{"headers": {"X-A": "1", "content-TYPE": "text/plain", "X-B": "2"}}"#);
        assert_eq!(s.content_type, "text/plain");
        assert_eq!(s.headers, headers(&[("X-A", "1"), ("X-B", "2")]));
        assert!(s.has_custom_headers());

        let s = ok(r#"{"headers": {"Content-Type": "text/html"}}"#);
        assert_eq!(s.content_type, "text/html");
        assert!(s.headers.is_empty());
        assert!(!s.has_custom_headers());
    }

    #[test]
    fn content_type_header_equal_to_field_is_fine() {
        let s = ok(r#"{"content_type": "text/csv", "headers": {"CONTENT-TYPE": "text/csv"}}"#);
        assert_eq!(s.content_type, "text/csv");
        assert!(s.headers.is_empty());
    }

    #[test]
    fn content_type_header_conflict() {
        assert_eq!(
            err(r#"{"content_type": "text/csv", "headers": {"Content-Type": "text/plain"}}"#),
            "headers.Content-Type: conflicts with content_type"
        );
        // Exact byte comparison.
        assert_eq!(
            err(r#"{"content_type": "text/csv", "headers": {"content-type": "Text/CSV"}}"#),
            "headers.content-type: conflicts with content_type"
        );
    }

    #[test]
    fn content_type_header_obeys_content_type_rules() {
        assert_eq!(
            err(r#"{"headers": {"Content-Type": ""}}"#),
            "headers.Content-Type: must not be empty"
        );
        assert_eq!(
            err_v(json!({ "headers": { "Content-Type": "a".repeat(257) } })),
            "headers.Content-Type: must be at most 256 bytes, got 257"
        );
        assert_eq!(
            err_v(json!({ "headers": { "Content-Type": "text/plain\r\nX: 1" } })),
            "headers.Content-Type: value must not contain CR or LF"
        );
    }

    // ---- content_type ----

    #[test]
    fn content_type_field() {
        assert_eq!(
            ok(r#"{"content_type": "text/plain"}"#).content_type,
            "text/plain"
        );
        assert_eq!(
            err(r#"{"content_type": ""}"#),
            "content_type: must not be empty"
        );
        assert_eq!(
            ok_v(json!({ "content_type": "a".repeat(256) }))
                .content_type
                .len(),
            256
        );
        assert_eq!(
            err_v(json!({ "content_type": "a".repeat(257) })),
            "content_type: must be at most 256 bytes, got 257"
        );
        // 128 two-byte characters are 256 bytes; 129 are too many.
        assert!(
            parse_create(
                json!({ "content_type": "é".repeat(128) })
                    .to_string()
                    .as_bytes(),
                &CreateLimits::default()
            )
            .is_ok()
        );
        assert_eq!(
            err_v(json!({ "content_type": "é".repeat(129) })),
            "content_type: must be at most 256 bytes, got 258"
        );
        assert_eq!(
            err(r#"{"content_type": 1}"#),
            "content_type: must be a string, got a number"
        );
    }

    #[test]
    fn content_type_injection_rejected() {
        for (bad, why) in [
            ("text/plain\r\nX-Injected: 1", "must not contain CR or LF"),
            ("text/plain\n", "must not contain CR or LF"),
            ("text/plain\r", "must not contain CR or LF"),
            ("text/plain\u{0}", "must not contain NUL"),
            (
                "text/\u{b}plain",
                "must not contain control characters other than HTAB",
            ),
            (
                " text/plain",
                "must not have leading or trailing whitespace",
            ),
            (
                "text/plain\t",
                "must not have leading or trailing whitespace",
            ),
        ] {
            assert_eq!(
                err_v(json!({ "content_type": bad })),
                format!("content_type: {why}"),
                "{bad:?}"
            );
        }
    }

    // ---- body ----

    #[test]
    fn body_field() {
        let s = ok(r#"{"body": "h\u00e9llo\n"}"#);
        assert_eq!(s.body, "héllo\n".as_bytes());
        assert!(s.has_body());
        let s = ok(r#"{"body": ""}"#);
        assert!(!s.has_body());
        assert_eq!(
            err(r#"{"body": {"a": 1}}"#),
            "body: must be a string, got an object"
        );
        assert_eq!(
            err(r#"{"body": 1}"#),
            "body: must be a string, got a number"
        );
    }

    #[test]
    fn body_size_limit_in_bytes() {
        let limits = CreateLimits {
            max_body_bytes: 8,
            ..CreateLimits::default()
        };
        assert_eq!(ok_with(r#"{"body": "12345678"}"#, &limits).body.len(), 8);
        assert_eq!(
            err_with(r#"{"body": "123456789"}"#, &limits),
            "body: exceeds 8 bytes"
        );
        // Four 2-byte characters fit; five do not.
        assert_eq!(ok_with(r#"{"body": "éééé"}"#, &limits).body.len(), 8);
        assert_eq!(
            err_with(r#"{"body": "ééééé"}"#, &limits),
            "body: exceeds 8 bytes"
        );
        // Default: 1 MiB.
        assert_eq!(
            ok_v(json!({ "body": "x".repeat(1_048_576) })).body.len(),
            1_048_576
        );
        assert_eq!(
            err_v(json!({ "body": "x".repeat(1_048_577) })),
            "body: exceeds 1048576 bytes"
        );
    }

    // ---- Error order ----

    #[test]
    fn first_failing_field_in_table_order_is_reported() {
        let d = err(r#"{"ttl_seconds": 1, "status_code": 1, "name": 1}"#);
        assert!(d.starts_with("name: "), "{d}");
        let d = err(r#"{"ttl_seconds": 1, "status_code": 1}"#);
        assert!(d.starts_with("status_code: "), "{d}");
    }

    // ---- The raw scanner agrees with serde_json ----

    #[test]
    fn scan_matches_serde_keys() {
        let docs = [
            r#"{}"#,
            r#"{"a":1}"#,
            r#" { "a" : [ 1 , { "}" : "]" } ] , "b\"c" : "\\" , "d" : -1.5e+3 , "e":true,"f":null } "#,
            r#"{"x":{"y":{"z":[[[]]]}},"w":"\u0022{","v":false}"#,
            r#"{"k1":"","k2":[],"k3":{},"k4":0}"#,
        ];
        for doc in docs {
            let v: Value = serde_json::from_str(doc).unwrap();
            let entries = scan::object_entries(doc.as_bytes()).unwrap();
            let keys: Vec<String> = entries
                .iter()
                .map(|(k, _)| decode_string(k).unwrap().into_owned())
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            let expected: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            assert_eq!(sorted, expected, "{doc}");
            for (k, raw) in &entries {
                let key = decode_string(k).unwrap();
                let value: Value = serde_json::from_slice(raw).unwrap();
                assert_eq!(value, v[key.as_ref()], "{doc}");
            }
        }
        assert!(scan::object_entries(b"[]").is_none());
        assert!(scan::object_entries(b"{\"a\" 1}").is_none());
        assert!(scan::object_entries(b"{\"a\":1").is_none());
    }
}
