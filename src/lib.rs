//! mockd: a fast, trustworthy HTTP mock server.
//!
//! A user creates a mock through a small REST API (status, headers, body, optional delay,
//! lifetime), gets back an unguessable id, and hits `/v1/mock/{id}` to receive that response.
//!
//! # Layout
//! Hot path: `conn → http::parse → router → mock::cache / mock::table → (timers if delayed) →
//! http::encode`. Everything else is control path.
//!
//! - [`config`]: flags, environment, defaults, every limit in one `Limits`.
//! - [`server`]: N workers, each one SO_REUSEPORT listener and one current-thread runtime; accept
//!   loop, connection cap, reaper thread, graceful shutdown.
//! - [`net`]: the connection socket (skips the read that would only say `EAGAIN`).
//! - [`conn`]: one connection: pipelining, bodies, delays, timeouts, bounded buffers.
//! - [`http`]: request head parsing, body decoding, response encoding, cached `Date`.
//! - [`router`]: method + path → route, no allocation.
//! - [`mock`]: the mock, its id, the sharded table, the per-worker cache, the store.
//! - [`wheel`]: the hierarchical timing wheel behind delays and expiry; [`timers`] drives one per
//!   worker for delayed responses.
//! - [`api`]: validation, rendering and JSON of the control API; [`control`]: its handlers.
//! - [`metrics`]: per-worker counters summed into the Prometheus text format.
//! - [`clock`]: real or manual time for expiry; [`timefmt`]: ISO 8601 and HTTP dates.

pub mod api;
pub mod clock;
pub mod config;
pub mod conn;
pub mod control;
pub mod http;
pub mod metrics;
pub mod mock;
pub mod net;
pub mod router;
pub mod server;
pub mod shutdown;
pub mod timefmt;
pub mod timers;
pub mod wheel;

pub use clock::Clock;
pub use config::{Config, Limits};
pub use server::Server;
