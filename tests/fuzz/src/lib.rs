//! Fuzz targets for mockd, usable three ways: under libFuzzer (`fuzz_targets/`, feature
//! `libfuzzer`), as a deterministic replay of the seed corpus (`tests/replay.rs`, no fuzzer
//! needed), or from any other driver that hands bytes to [`http::check`] or [`create::check`].
//!
//! - [`http`]: arbitrary bytes as a pipelined request stream, split at many read boundaries,
//!   through `find_head_end` / `parse_head` / `BodyDecoder` (a model that mirrors the connection
//!   loop) and through the real `conn::serve` over an in-memory duplex stream.
//! - [`create`]: arbitrary bytes through `parse_create`, and what validates through
//!   `render_response`, whose head must stay well-formed.
//!
//! A failed check panics with a message that names the property and shows the input.

pub mod create;
pub mod http;

/// Shows bytes for a failure message: lossy UTF-8, cut at 2000 bytes.
pub fn show(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(2000)];
    let mut s = format!("{:?}", String::from_utf8_lossy(cut));
    if bytes.len() > cut.len() {
        s.push_str(&format!(" …({} bytes)", bytes.len()));
    }
    s
}

/// FNV-1a, to derive split schedules from the input itself (deterministic, no extra input bytes).
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}
