//! Response bytes: a mock's pre-rendered response and the server's own small responses.
//!
//! A mock's status line and headers were rendered at create time; serving appends them, the cached
//! `Date` line, `Connection: close` when the exchange ends the connection, the blank line and the
//! body. Nothing here formats per hit except the connection header.

/// The interim response to `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What a response says about the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Nothing: HTTP/1.1 keeps the connection by default.
    Default,
    /// `Connection: close`: this is the last response on the connection.
    Close,
    /// `Connection: keep-alive`: an HTTP/1.0 client asked to keep the connection, and it is kept
    /// (RFC 9112 §9.3; a 1.0 client otherwise assumes the server closes).
    KeepAlive,
}

impl Connection {
    /// The header for a response that keeps (`keep_alive`) or ends the connection.
    #[inline]
    pub fn for_response(keep_alive: bool, http10: bool) -> Connection {
        match (keep_alive, http10) {
            (false, _) => Connection::Close,
            (true, true) => Connection::KeepAlive,
            (true, false) => Connection::Default,
        }
    }

    /// Whether the connection ends after this response.
    #[inline]
    pub fn is_close(self) -> bool {
        self == Connection::Close
    }

    #[inline]
    fn line(self) -> &'static [u8] {
        match self {
            Connection::Default => b"",
            Connection::Close => b"Connection: close\r\n",
            Connection::KeepAlive => b"Connection: keep-alive\r\n",
        }
    }
}

/// Appends a mock's response. `head` ends with its last header's CRLF (no Date, no blank line).
#[inline]
pub fn write_mock(out: &mut Vec<u8>, head: &[u8], body: &[u8], date_line: &[u8], conn: Connection) {
    out.reserve(head.len() + date_line.len() + 21 + body.len());
    out.extend_from_slice(head);
    out.extend_from_slice(date_line);
    out.extend_from_slice(conn.line());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// A response the server makes itself (control API, errors).
pub struct Simple<'a> {
    pub status: u16,
    pub reason: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
    /// Extra header lines, e.g. `("Allow", "GET")`.
    pub headers: &'a [(&'a str, &'a str)],
}

/// Appends a server-made response; the body is left out when `head_only` (HEAD) but its length stays.
pub fn write_simple(
    out: &mut Vec<u8>,
    r: &Simple<'_>,
    date_line: &[u8],
    conn: Connection,
    head_only: bool,
) {
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(num.format(r.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(r.reason.as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(r.content_type.as_bytes());
    out.extend_from_slice(b"\r\nCache-Control: no-store\r\n");
    for (name, value) in r.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(num.format(r.body.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(date_line);
    out.extend_from_slice(conn.line());
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(r.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_response_layout() {
        let mut out = Vec::new();
        write_mock(
            &mut out,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
            b"hi",
            b"Date: D\r\n",
            Connection::Default,
        );
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDate: D\r\n\r\nhi"
        );
        out.clear();
        write_mock(
            &mut out,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
            b"",
            b"Date: D\r\n",
            Connection::Close,
        );
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDate: D\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn simple_response_layout() {
        let mut out = Vec::new();
        let r = Simple {
            status: 405,
            reason: "Method Not Allowed",
            content_type: "application/json",
            body: b"{}",
            headers: &[("Allow", "GET")],
        };
        write_simple(&mut out, &r, b"Date: D\r\n", Connection::Close, false);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nAllow: GET\r\nContent-Length: 2\r\nDate: D\r\nConnection: close\r\n\r\n{}"
        );
        out.clear();
        write_simple(&mut out, &r, b"Date: D\r\n", Connection::Default, true);
        assert!(out.ends_with(b"Content-Length: 2\r\nDate: D\r\n\r\n"));
        out.clear();
        write_simple(&mut out, &r, b"Date: D\r\n", Connection::KeepAlive, true);
        assert!(out.ends_with(b"Date: D\r\nConnection: keep-alive\r\n\r\n"));
    }
}
