//! The one table of `POST /v1/mocks` fields.
//!
//! Owns [`CREATE_FIELDS`]: for every accepted field its name, JSON type, bounds, default and
//! description. The validator (`validate.rs`) reads its bounds and defaults from these
//! definitions at compile time (a definition of the wrong kind is a compile error there), and the
//! OpenAPI generator reads the same table, so the documentation cannot drift from what is
//! enforced.
//!
//! Invariants:
//! - Every field is optional, and a JSON `null` counts as absent (the default applies).
//! - Bounds are inclusive.
//! - Limits that are runtime configuration ([`super::validate::CreateLimits`]) are not numbers
//!   here: [`FieldKind::Body`] and [`FieldKind::Headers`] say which limit applies.

/// What a field holds and how it is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A JSON string.
    Str {
        /// Maximum length in Unicode scalar values (characters), if any.
        max_chars: Option<usize>,
        /// Maximum length in UTF-8 bytes, if any.
        max_bytes: Option<usize>,
        /// The empty string is rejected.
        non_empty: bool,
        /// Must be a valid HTTP field value: no control bytes other than HTAB, no leading or
        /// trailing SP/HTAB (bytes >= 0x80 are allowed).
        header_value: bool,
        /// Value used when the field is absent or null; `None` means "no value".
        default: Option<&'static str>,
    },
    /// The mock response body: a JSON string whose UTF-8 length is capped by
    /// `CreateLimits::max_body_bytes`. Absent or null means the empty body.
    Body,
    /// A JSON integer (a number literal with no fraction or exponent).
    Int { min: i64, max: i64, default: i64 },
    /// A JSON object mapping header names to string values. Names are RFC 9110 tokens, values
    /// valid field values; count and total size are capped by `CreateLimits::max_headers` and
    /// `CreateLimits::max_header_bytes`. A `Content-Type` entry sets the response content type.
    Headers,
}

impl FieldKind {
    /// The JSON Schema / OpenAPI `type` of the field.
    pub const fn json_type(&self) -> &'static str {
        match self {
            FieldKind::Str { .. } | FieldKind::Body => "string",
            FieldKind::Int { .. } => "integer",
            FieldKind::Headers => "object",
        }
    }
}

/// One create field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    pub kind: FieldKind,
    pub description: &'static str,
}

/// `name`: an optional label shown in the mock's metadata.
pub const NAME: FieldDef = FieldDef {
    name: "name",
    kind: FieldKind::Str {
        max_chars: Some(128),
        max_bytes: None,
        non_empty: false,
        header_value: false,
        default: None,
    },
    description: "Optional human-readable label for the mock, at most 128 characters.",
};

/// `status_code`: the status the mock answers with.
pub const STATUS_CODE: FieldDef = FieldDef {
    name: "status_code",
    kind: FieldKind::Int {
        min: 100,
        max: 599,
        default: 200,
    },
    description: "HTTP status code the mock responds with. 1xx, 204 and 304 responses carry no \
                  body and no Content-Length.",
};

/// `headers`: extra response headers.
pub const HEADERS: FieldDef = FieldDef {
    name: "headers",
    kind: FieldKind::Headers,
    description: "Extra response headers as an object of name to string value, sent in the order \
                  given with names as written. Names must be RFC 9110 tokens and unique \
                  case-insensitively; values must not contain control characters or \
                  leading/trailing whitespace. Content-Length, Transfer-Encoding, Connection, \
                  Keep-Alive, Upgrade, Trailer, TE, Proxy-Connection, Date and X-Mock-Id are \
                  reserved. A Content-Type entry sets the content type (it must then equal \
                  content_type if that is also given).",
};

/// `body`: the response body.
pub const BODY: FieldDef = FieldDef {
    name: "body",
    kind: FieldKind::Body,
    description: "Response body, sent as its UTF-8 bytes. Defaults to empty. Its size is capped \
                  by the server's configured body limit (1 MiB by default).",
};

/// `content_type`: the response `Content-Type`.
pub const CONTENT_TYPE: FieldDef = FieldDef {
    name: "content_type",
    kind: FieldKind::Str {
        max_chars: None,
        max_bytes: Some(256),
        non_empty: true,
        header_value: true,
        default: Some("application/json"),
    },
    description: "Content-Type of the response, at most 256 bytes, a valid header value.",
};

/// `delay_ms`: how long the mock waits before answering.
pub const DELAY_MS: FieldDef = FieldDef {
    name: "delay_ms",
    kind: FieldKind::Int {
        min: 0,
        max: 30_000,
        default: 0,
    },
    description: "Milliseconds to wait before sending the response.",
};

/// `ttl_seconds`: the mock's lifetime.
pub const TTL_SECONDS: FieldDef = FieldDef {
    name: "ttl_seconds",
    kind: FieldKind::Int {
        min: 60,
        max: 172_800,
        default: 3_600,
    },
    description: "Lifetime of the mock in seconds, after which it is deleted.",
};

/// Every field `POST /v1/mocks` accepts, in documentation order. Other keys are ignored.
pub static CREATE_FIELDS: &[FieldDef] = &[
    NAME,
    STATUS_CODE,
    HEADERS,
    BODY,
    CONTENT_TYPE,
    DELAY_MS,
    TTL_SECONDS,
];

/// The definition of the create field called `name`, if there is one.
pub fn create_field(name: &str) -> Option<&'static FieldDef> {
    CREATE_FIELDS.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lookup_works() {
        for (i, f) in CREATE_FIELDS.iter().enumerate() {
            assert!(
                CREATE_FIELDS[i + 1..].iter().all(|g| g.name != f.name),
                "duplicate field {}",
                f.name
            );
            assert_eq!(create_field(f.name), Some(f));
            assert!(!f.description.is_empty());
        }
        assert_eq!(create_field("nope"), None);
    }

    #[test]
    fn int_defaults_are_within_bounds() {
        for f in CREATE_FIELDS {
            if let FieldKind::Int { min, max, default } = f.kind {
                assert!(min <= default && default <= max, "{}", f.name);
            }
        }
    }

    #[test]
    fn str_defaults_satisfy_their_own_rules() {
        for f in CREATE_FIELDS {
            if let FieldKind::Str {
                max_chars,
                max_bytes,
                non_empty,
                default: Some(d),
                ..
            } = f.kind
            {
                assert!(max_chars.is_none_or(|m| d.chars().count() <= m));
                assert!(max_bytes.is_none_or(|m| d.len() <= m));
                assert!(!non_empty || !d.is_empty());
            }
        }
    }

    #[test]
    fn json_types() {
        assert_eq!(NAME.kind.json_type(), "string");
        assert_eq!(BODY.kind.json_type(), "string");
        assert_eq!(STATUS_CODE.kind.json_type(), "integer");
        assert_eq!(HEADERS.kind.json_type(), "object");
    }
}
