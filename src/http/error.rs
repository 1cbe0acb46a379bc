//! Protocol errors and their one mapping to a response status.

/// Why a request could not be read. Small and `Copy`: the hot path never allocates for an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Malformed syntax or framing; the reason goes in the response's `detail`.
    BadRequest(&'static str),
    /// The request target is longer than the configured limit.
    UriTooLong,
    /// The head is larger than the configured limit, or has too many fields.
    HeadTooLarge,
    /// The declared or received body is larger than the configured limit.
    BodyTooLarge,
    /// `Expect` with something other than `100-continue`.
    ExpectationFailed,
    /// Not HTTP/1.0 or HTTP/1.1.
    VersionNotSupported,
    /// The client was too slow sending the head or the body.
    Timeout,
}

impl ParseError {
    /// The status, reason phrase and `detail` text of the response this error gets.
    /// Every protocol error closes the connection afterwards: once framing is in doubt, nothing
    /// later on the stream can be trusted (RFC 9112 §9.6, §11.2).
    pub fn status(self) -> (u16, &'static str, &'static str) {
        match self {
            ParseError::BadRequest(why) => (400, "Bad Request", why),
            ParseError::UriTooLong => (414, "URI Too Long", "request target too long"),
            ParseError::HeadTooLarge => (
                431,
                "Request Header Fields Too Large",
                "request head too large",
            ),
            ParseError::BodyTooLarge => (413, "Content Too Large", "request body too large"),
            ParseError::ExpectationFailed => (
                417,
                "Expectation Failed",
                "only Expect: 100-continue is supported",
            ),
            ParseError::VersionNotSupported => (
                505,
                "HTTP Version Not Supported",
                "only HTTP/1.0 and HTTP/1.1 are supported",
            ),
            ParseError::Timeout => (408, "Request Timeout", "request not received in time"),
        }
    }

    /// A short stable name for logs and metrics.
    pub fn kind(self) -> &'static str {
        match self {
            ParseError::BadRequest(_) => "bad_request",
            ParseError::UriTooLong => "uri_too_long",
            ParseError::HeadTooLarge => "head_too_large",
            ParseError::BodyTooLarge => "body_too_large",
            ParseError::ExpectationFailed => "expectation_failed",
            ParseError::VersionNotSupported => "version_not_supported",
            ParseError::Timeout => "timeout",
        }
    }
}
