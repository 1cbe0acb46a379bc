//! Framing and smuggling: each case is one hostile request followed by a well-formed one on the
//! same write. The server must answer the hostile request with the expected error status and
//! `Connection: close`, then close: exactly ONE response, nothing for the request behind it.
//!
//! Each `refused!` line is `name: "what it guards", request bytes => allowed statuses;` and
//! becomes its own `#[test]`.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::client::*;

/// One server for the whole table (every case uses its own connection).
fn server() -> SocketAddr {
    static SERVER: OnceLock<mockd::Server> = OnceLock::new();
    SERVER.get_or_init(|| start_with(|_| {})).local_addr()
}

/// A POST to the serving path (an unknown mock: accepted framing would get a 404 response).
fn post(headers: &str, body: &str) -> Vec<u8> {
    format!("POST /v1/mock/unknown-mock HTTP/1.1\r\nHost: h.test\r\n{headers}\r\n{body}")
        .into_bytes()
}

/// A chunked POST whose body is `body`.
fn chunked(body: &str) -> Vec<u8> {
    post("Transfer-Encoding: chunked\r\n", body)
}

/// A GET with one extra raw header line (given without its CRLF).
fn get_with(line: &[u8]) -> Vec<u8> {
    let mut v = b"GET /v1/mock/unknown-mock HTTP/1.1\r\nHost: h.test\r\n".to_vec();
    v.extend_from_slice(line);
    v.extend_from_slice(b"\r\n\r\n");
    v
}

/// Sends `pieces` (pausing between them so each arrives in its own read), then the smuggled
/// request; asserts one response with an allowed status, `Connection: close`, then end of stream.
fn check_refused(guards: &str, pieces: &[&[u8]], allowed: &[u16]) {
    let addr = server();
    let mut c = Conn::connect(addr);
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(60));
        }
        c.send_lenient(p);
    }
    c.send_lenient(SMUGGLED);
    let got = c.drain(IO_TIMEOUT);
    let shown: Vec<String> = pieces
        .iter()
        .map(|p| {
            let s = String::from_utf8_lossy(p);
            if s.len() > 200 {
                format!("{}…({} bytes)", &s[..200], p.len())
            } else {
                s.into_owned()
            }
        })
        .collect();
    let ctx = format!("[{guards}] request {shown:?}");
    assert!(
        got.closed,
        "{ctx}: connection not closed within {IO_TIMEOUT:?}; got {:?}",
        got.text()
    );
    let (resps, used) =
        split_responses(&got.bytes, &[]).unwrap_or_else(|e| panic!("{ctx}: {e}: {:?}", got.text()));
    assert_eq!(
        resps.len(),
        1,
        "{ctx}: expected exactly one response, got {}: {:?}",
        resps.len(),
        got.text()
    );
    assert_eq!(
        used,
        got.bytes.len(),
        "{ctx}: bytes after the response: {:?}",
        got.text()
    );
    let r = &resps[0];
    assert!(
        allowed.contains(&r.status),
        "{ctx}: status {} not in {allowed:?}: {}",
        r.status,
        r.text()
    );
    assert!(r.closes(), "{ctx}: no Connection: close: {}", r.text());
    assert!(!got.reset, "{ctx}: the response was followed by a reset");
}

macro_rules! refused {
    ($($name:ident: $guards:literal, $raw:expr => $($status:literal)|+;)*) => {
        $(
            #[test]
            fn $name() {
                let raw: Vec<u8> = $raw;
                check_refused($guards, &[&raw], &[$($status),+]);
            }
        )*
    };
}

/// Like `refused!`, with the request written in pieces that arrive in separate reads.
macro_rules! refused_split {
    ($($name:ident: $guards:literal, [$($piece:expr),+] => $($status:literal)|+;)*) => {
        $(
            #[test]
            fn $name() {
                check_refused($guards, &[$(&$piece[..]),+], &[$($status),+]);
            }
        )*
    };
}

refused! {
    // ---- Content-Length and Transfer-Encoding together, repeated, malformed
    cl_and_te: "CL.TE smuggling: both framings present",
        post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n") => 400;
    te_and_cl: "TE.CL smuggling: both framings, TE first",
        post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n") => 400;
    te_and_cl_zero: "TE with CL: 0",
        post("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", "0\r\n\r\n") => 400;
    cl_conflicting: "two different Content-Length values",
        post("Content-Length: 3\r\nContent-Length: 5\r\n", "abcde") => 400;
    cl_repeated_equal: "repeated Content-Length, same value",
        post("Content-Length: 5\r\nContent-Length: 5\r\n", "abcde") => 400;
    cl_list: "Content-Length as a list",
        post("Content-Length: 5, 5\r\n", "abcde") => 400;
    cl_non_numeric: "non-numeric Content-Length",
        post("Content-Length: abc\r\n", "abc") => 400;
    cl_plus: "signed Content-Length (+)",
        post("Content-Length: +5\r\n", "abcde") => 400;
    cl_minus: "negative Content-Length",
        post("Content-Length: -1\r\n", "") => 400;
    cl_overflow_u64: "Content-Length of u64::MAX + 1",
        post("Content-Length: 18446744073709551616\r\n", "") => 400;
    cl_overflow_long: "Content-Length of 30 digits",
        post("Content-Length: 999999999999999999999999999999\r\n", "") => 400;
    cl_hex: "hex Content-Length",
        post("Content-Length: 0x10\r\n", "") => 400;
    cl_empty: "empty Content-Length",
        post("Content-Length:\r\n", "") => 400;
    cl_inner_space: "space inside Content-Length",
        post("Content-Length: 1 0\r\n", "") => 400;
    cl_decimal: "decimal point in Content-Length",
        post("Content-Length: 5.0\r\n", "abcde") => 400;
    cl_huge_413: "19-digit Content-Length over the body limit",
        post("Content-Length: 9999999999999999999\r\n", "") => 413;

    // ---- Chunk sizes
    chunk_size_non_hex: "non-hex chunk size",
        chunked("g\r\nabc\r\n0\r\n\r\n") => 400;
    chunk_size_empty: "empty chunk size line",
        chunked("\r\nabc\r\n0\r\n\r\n") => 400;
    chunk_size_too_long: "17 hex digits",
        chunked("00000000000000001\r\na\r\n0\r\n\r\n") => 400;
    chunk_size_negative: "negative chunk size",
        chunked("-5\r\nhello\r\n0\r\n\r\n") => 400;
    chunk_size_0x: "0x-prefixed chunk size",
        chunked("0x5\r\nhello\r\n0\r\n\r\n") => 400;
    chunk_size_overflow: "chunk size of 2^64 - 1 (over any budget)",
        chunked("ffffffffffffffff\r\n") => 413;
    chunk_size_overflow_17: "chunk size of 2^64 (overflows u64)",
        chunked("10000000000000000\r\n") => 400;
    chunk_size_bare_lf: "chunk size line ended by bare LF",
        chunked("5\nhello\r\n0\r\n\r\n") => 400;
    chunk_size_bare_cr: "chunk size line ended by bare CR",
        chunked("5\rhello\r\n0\r\n\r\n") => 400;
    chunk_size_garbage_after_ws: "chunk size followed by whitespace and a non-extension (`5 x`)",
        chunked("5 x\r\nhello\r\n0\r\n\r\n") => 400;
    chunk_data_overrun: "chunk data longer than its size",
        chunked("5\r\nhelloX\r\n0\r\n\r\n") => 400;
    chunk_data_bare_lf: "chunk data ended by bare LF",
        chunked("5\r\nhello\n0\r\n\r\n") => 400;

    // ---- Chunk extensions
    chunk_ext_nul: "NUL in a chunk extension",
        chunked("5;a\u{0}b\r\nhello\r\n0\r\n\r\n") => 400;
    chunk_ext_ctl: "control byte in a chunk extension",
        chunked("5;a\u{1}b\r\nhello\r\n0\r\n\r\n") => 400;
    chunk_ext_bare_lf: "bare LF inside a chunk extension",
        chunked("5;a\nb\r\nhello\r\n0\r\n\r\n") => 400;
    chunk_ext_too_long: "chunk extension over 16 KiB",
        chunked(&format!("5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(17 * 1024))) => 400;

    // ---- Trailers
    trailer_bare_lf: "trailer line ended by bare LF",
        chunked("0\r\nX-T: a\n\r\n") => 400;
    trailer_bare_cr: "bare CR inside a trailer line",
        chunked("0\r\nX-T: a\rb\r\n\r\n") => 400;
    trailer_ctl: "control byte in a trailer",
        chunked("0\r\nX-T: a\u{1}\r\n\r\n") => 400;
    trailer_nul: "NUL in a trailer",
        chunked("0\r\nX-T: \u{0}\r\n\r\n") => 400;
    trailer_oversized: "trailer section over 16 KiB",
        chunked(&format!("0\r\nX-T: {}\r\n\r\n", "t".repeat(17 * 1024))) => 400;
    trailer_final_bare_lf: "final empty line of the trailer section is a bare LF",
        chunked("0\r\n\n") => 400;
    trailer_not_a_field: "trailer line that is not a field line (a request line)",
        chunked("0\r\nGET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n") => 400;

    // ---- Transfer-Encoding values
    te_gzip: "Transfer-Encoding: gzip",
        post("Transfer-Encoding: gzip\r\n", "") => 400 | 501;
    te_identity: "Transfer-Encoding: identity",
        post("Transfer-Encoding: identity\r\n", "") => 400 | 501;
    te_gzip_chunked: "Transfer-Encoding: gzip, chunked",
        post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n") => 400 | 501;
    te_chunked_twice_list: "Transfer-Encoding: chunked, chunked",
        post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n") => 400 | 501;
    te_chunked_twice_fields: "two Transfer-Encoding: chunked fields",
        post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n") => 400;
    te_chunked_param: "Transfer-Encoding: chunked;q=1",
        post("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n") => 400 | 501;
    te_xchunked: "Transfer-Encoding: xchunked",
        post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n") => 400 | 501;
    te_empty: "empty Transfer-Encoding",
        post("Transfer-Encoding:\r\n", "0\r\n\r\n") => 400 | 501;
    te_obs_fold: "Transfer-Encoding value on a folded line",
        post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n") => 400;
    te_obs_fold_after: "folded continuation after Transfer-Encoding",
        post("Transfer-Encoding: chunked\r\n , identity\r\n", "0\r\n\r\n") => 400;
    te_space_before_colon: "whitespace between field name and colon",
        post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n") => 400;
    te_vertical_tab: "vertical tab around chunked",
        post("Transfer-Encoding: \u{b}chunked\r\n", "0\r\n\r\n") => 400;
    te_http10: "Transfer-Encoding in HTTP/1.0",
        b"POST /v1/mock/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec() => 400;

    // ---- Bare CR and bare LF in the head
    head_bare_cr_request_line: "bare CR inside the request line",
        b"GET /\r HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    head_bare_cr_terminator: "header line ended by bare CR",
        b"GET / HTTP/1.1\r\nHost: h\rX-A: b\r\n\r\n".to_vec() => 400;
    head_bare_cr_value: "bare CR inside a header value",
        get_with(b"X-A: a\rb") => 400;
    head_bare_lf_request_line: "request line ended by bare LF",
        b"GET / HTTP/1.1\nHost: h\r\n\r\n".to_vec() => 400;
    head_bare_lf_header: "header line ended by bare LF",
        b"GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n".to_vec() => 400;
    head_bare_lf_all: "every line ended by bare LF",
        b"GET / HTTP/1.1\nHost: h\n\n".to_vec() => 400;
    head_leading_bare_lf: "bare LF before the request line",
        b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    head_empty_line_then_bare_lf: "CRLF then bare LF before the request line (one write)",
        b"\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;

    // ---- NUL and control bytes
    method_nul: "NUL in the method",
        b"G\0ET / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    method_ctl: "control byte in the method",
        b"G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    method_del: "DEL in the method",
        b"GE\x7fT / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    target_nul: "NUL in the target",
        b"GET /v1/\0status HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    target_ctl: "control byte in the target",
        b"GET /v1/\x01status HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    target_del: "DEL in the target",
        b"GET /v1/\x7fstatus HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    target_tab: "tab in the target",
        b"GET /v1/\tstatus HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400 | 505;
    target_relative: "target that is neither origin- nor absolute-form",
        b"GET v1/status HTTP/1.1\r\nHost: h\r\n\r\n".to_vec() => 400;
    target_authority_form: "CONNECT authority-form",
        b"CONNECT h.test:443 HTTP/1.1\r\nHost: h.test:443\r\n\r\n".to_vec() => 400 | 405;
    name_nul: "NUL in a header name",
        get_with(b"X-\0A: b") => 400;
    name_ctl: "control byte in a header name",
        get_with(b"X-\x01A: b") => 400;
    name_space: "space inside a header name",
        get_with(b"X A: b") => 400;
    name_empty: "empty header name",
        get_with(b": b") => 400;
    name_non_ascii: "non-ASCII byte in a header name",
        get_with(b"X-\xc3\xa9: b") => 400;
    value_nul: "NUL in a header value",
        get_with(b"X-A: a\0b") => 400;
    value_ctl: "control byte in a header value",
        get_with(b"X-A: a\x01b") => 400;
    value_esc: "ESC in a header value",
        get_with(b"X-A: a\x1bb") => 400;
    value_del: "DEL in a header value",
        get_with(b"X-A: a\x7fb") => 400;
    host_nul: "NUL in Host",
        b"GET / HTTP/1.1\r\nHost: h\0.test\r\n\r\n".to_vec() => 400;
    line_without_colon: "header line without a colon",
        get_with(b"X-A b") => 400;

    // ---- Obsolete line folding
    obs_fold_value: "obs-fold continuation of a header value",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n".to_vec() => 400;
    obs_fold_tab: "obs-fold with a tab",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n".to_vec() => 400;
    obs_fold_host: "Host folded onto the next line",
        b"GET / HTTP/1.1\r\nHost:\r\n h\r\n\r\n".to_vec() => 400;
    obs_fold_first_line: "whitespace-led line right after the request line",
        b"GET / HTTP/1.1\r\n Host: h\r\n\r\n".to_vec() => 400;

    // ---- Sizes
    target_too_long: "request target over max_target_bytes",
        format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(9 * 1024)).into_bytes() => 414;
    request_line_endless: "request line over the head limit with no end",
        format!("GET /{}", "a".repeat(17 * 1024)).into_bytes() => 414;
    too_many_headers: "101 header fields",
        get_with((0..101).map(|i| format!("X-H{i}: v")).collect::<Vec<_>>().join("\r\n").as_bytes()) => 431;
    thousand_headers: "1000 tiny header fields (within the byte limit)",
        get_with((0..1000).map(|i| format!("H{i}:")).collect::<Vec<_>>().join("\r\n").as_bytes()) => 431;
    head_too_large: "one header value over max_head_bytes",
        get_with(format!("X-Big: {}", "b".repeat(17 * 1024)).as_bytes()) => 431;
    head_too_large_unterminated: "head over the limit that never ends",
        format!("GET / HTTP/1.1\r\nHost: h\r\nX-Big: {}", "b".repeat(17 * 1024)).into_bytes() => 431;

    // ---- Versions
    http2_preface: "HTTP/2 connection preface",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec() => 505 | 400;
    http2_request_line: "HTTP/2.0 request line",
        b"GET / HTTP/2.0\r\nHost: h\r\n\r\n".to_vec() => 505 | 400;
    http3_request_line: "HTTP/3 request line",
        b"GET / HTTP/3\r\nHost: h\r\n\r\n".to_vec() => 505 | 400;
    http12: "HTTP/1.2",
        b"GET / HTTP/1.2\r\nHost: h\r\n\r\n".to_vec() => 505 | 400;
    http09: "HTTP/0.9 request line (no version)",
        b"GET /\r\n".to_vec() => 505 | 400;
    http09_blank: "HTTP/0.9 request line and a blank line",
        b"GET /\r\n\r\n".to_vec() => 505 | 400;
    version_lowercase: "lowercase http/1.1",
        b"GET / http/1.1\r\nHost: h\r\n\r\n".to_vec() => 505 | 400;
    version_garbage: "garbage version",
        b"GET / HTTX/1.1\r\nHost: h\r\n\r\n".to_vec() => 505 | 400;
    tls_client_hello: "TLS ClientHello bytes",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n".to_vec() => 400;

    // ---- Host
    host_missing: "HTTP/1.1 without Host",
        b"GET / HTTP/1.1\r\n\r\n".to_vec() => 400;
    host_twice: "two Host fields",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec() => 400;

    // ---- Expect
    expect_unknown: "Expect with an unknown value",
        post("Expect: foo\r\nContent-Length: 1\r\n", "a") => 417;
    expect_continue_suffix: "Expect: 100-continue-x",
        post("Expect: 100-continue-x\r\nContent-Length: 1\r\n", "a") => 417;
    expect_list: "Expect: 100-continue, foo",
        post("Expect: 100-continue, foo\r\nContent-Length: 1\r\n", "a") => 417;
    expect_without_body: "unknown Expect on a GET",
        get_with(b"Expect: 102-processing") => 417;
}

refused_split! {
    head_split_cr_then_lf_lf: "CRLF then bare LF before the request line, the CR in its own read",
        [b"\r", b"\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"] => 400;
    head_split_bare_lf_later: "bare LF arriving in a later read of the head",
        [b"GET / HTTP/1.1\r\nHost: h\r\n", b"X-A: b\n\r\n"] => 400;
    chunk_split_size_overflow: "17-digit chunk size arriving a byte at a time",
        [b"POST /v1/mock/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", b"0000000", b"0000000", b"001\r\n"] => 400;
    smuggle_after_cl_body_split: "CL.TE with the body in a later read",
        [b"POST /v1/mock/x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", b"0\r\n\r\n"] => 400;
}
