//! Control-API errors.
//!
//! Owns [`ApiError`], the one error type of the control path, and its wire form
//! `{"detail":"..."}`. Invariants:
//! - `to_json` always produces a valid JSON object with exactly one key, `detail`, whatever bytes
//!   the detail holds (it is escaped by `serde_json`, so user text echoed in a detail cannot break
//!   out of the string).
//! - Validation errors are built with [`ApiError::unprocessable`], whose detail starts with the
//!   offending field's path followed by `": "`, so clients can tell which field failed.

use std::fmt;

/// A control-API error: HTTP status + human `detail`. Rendered as `{"detail": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub detail: String,
}

impl ApiError {
    /// An error with an arbitrary status and detail.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    /// 422 Unprocessable Content whose detail is `"{field}: {msg}"`,
    /// e.g. `status_code: must be an integer from 100 to 599`.
    pub fn unprocessable(field: &str, msg: &str) -> Self {
        let mut detail = String::with_capacity(field.len() + 2 + msg.len());
        detail.push_str(field);
        detail.push_str(": ");
        detail.push_str(msg);
        Self::new(422, detail)
    }

    /// `{"detail":"..."}` with the detail JSON-escaped.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.detail.len() + 16);
        out.extend_from_slice(b"{\"detail\":");
        push_json_str(&mut out, &self.detail);
        out.push(b'}');
        out
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl std::error::Error for ApiError {}

/// Appends `s` as a JSON string literal (quotes included).
pub(crate) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Serializing a `&str` into a `Vec` cannot fail: the only error source would be the writer,
    // and writing to a `Vec` is infallible. Fall back to an empty string rather than panic.
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn unprocessable_names_the_field() {
        let e = ApiError::unprocessable("status_code", "must be an integer from 100 to 599");
        assert_eq!(e.status, 422);
        assert_eq!(e.detail, "status_code: must be an integer from 100 to 599");
    }

    #[test]
    fn to_json_plain() {
        let e = ApiError::new(404, "Mock not found");
        assert_eq!(e.to_json(), br#"{"detail":"Mock not found"}"#);
    }

    #[test]
    fn to_json_escapes_quotes_backslashes_and_controls() {
        let nasty = "a\"b\\c\r\n\u{0}d\u{1f}é\u{2028}";
        let e = ApiError::new(422, nasty);
        let bytes = e.to_json();
        assert!(!bytes.contains(&b'\n'));
        assert!(!bytes.contains(&b'\r'));
        assert!(!bytes.contains(&0));
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 1);
        assert_eq!(obj["detail"], nasty);
    }

    #[test]
    fn display_shows_status_and_detail() {
        assert_eq!(ApiError::new(413, "too big").to_string(), "413 too big");
    }
}
