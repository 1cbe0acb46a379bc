//! Hostile clients against an in-process mockd over raw sockets.
//!
//! - `framing`: request smuggling and malformed framing, one table row per attack; each must get
//!   one clear error response and a close, and nothing behind it may be answered.
//! - `pipeline`: nothing is answered early; pipelined and delayed responses stay in order.
//! - `limits`: the connection cap, pipelined floods that never read, stalled readers.
//! - `timeouts`: slowloris heads, stalled bodies, idle connections.
//! - `isolation`: a well-behaved client under abuse; protocol errors counted by kind.
//! - `props`: randomized (fixed-seed) properties of the wire protocol.

mod client;

mod framing;
mod isolation;
mod limits;
mod pipeline;
mod props;
mod timeouts;
