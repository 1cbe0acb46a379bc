//! The HTTP/1.1 engine's pure parts: request heads, bodies, response encoding, the cached Date.
//!
//! Nothing here does I/O; `conn` drives these over a socket. Framing and smuggling decisions cite
//! RFC 9112 where they are made.

pub mod body;
pub mod date;
pub mod encode;
pub mod error;
pub mod parse;
