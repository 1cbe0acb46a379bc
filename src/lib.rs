//! mockd: a fast, trustworthy HTTP mock server.
//!
//! # Layout
//! (filled in as modules land)

pub mod api;
pub mod timefmt;
pub mod wheel;
