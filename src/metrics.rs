//! Server metrics: counted per worker without shared writes, summed when scraped, rendered in the
//! Prometheus text format (version 0.0.4).
//!
//! Each worker owns one [`WorkerMetrics`], allocated on its own, and is the only thread that writes
//! it: an increment is a relaxed load and store to a cache line no other core writes. A scrape
//! reads every worker's counters (relaxed loads) and sums them; a counter read mid-increment is
//! simply from a moment earlier. Labels never carry mock ids or names: ids are capabilities, and
//! per-mock series would explode a time series database.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::http::error::ParseError;
use crate::router::Method;
use crate::server::Shared;

/// Methods as labelled, in `Method` order.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];
/// Status classes 1xx–5xx.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Control-API routes as labelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlRoute {
    Create,
    Get,
    Delete,
    Status,
    Root,
    OpenApi,
    Metrics,
    List,
    Stats,
    Ui,
    Other,
}
const ROUTES: [&str; 11] = [
    "create", "get", "delete", "status", "root", "openapi", "metrics", "list", "stats", "ui",
    "other",
];

/// Statuses the control API and the protocol layer produce; anything else counts as "other".
const STATUSES: [u16; 15] = [
    200, 201, 400, 401, 404, 405, 408, 413, 414, 417, 422, 431, 503, 505, 507,
];

/// Protocol error kinds, in the order of [`protocol_index`].
const PROTOCOL_KINDS: [&str; 7] = [
    "bad_request",
    "uri_too_long",
    "head_too_large",
    "body_too_large",
    "expectation_failed",
    "version_not_supported",
    "timeout",
];

/// Upper bounds of the serving-time histogram, in microseconds: 50 µs to 1 s, roughly ×2.5 apart,
/// which resolves both a loopback keep-alive hit (~100 µs under load) and a stalled write.
const BUCKETS_US: [u64; 14] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000,
];

fn protocol_index(e: ParseError) -> usize {
    match e {
        ParseError::BadRequest(_) => 0,
        ParseError::UriTooLong => 1,
        ParseError::HeadTooLarge => 2,
        ParseError::BodyTooLarge => 3,
        ParseError::ExpectationFailed => 4,
        ParseError::VersionNotSupported => 5,
        ParseError::Timeout => 6,
    }
}

fn method_index(m: Method) -> usize {
    match m {
        Method::Get => 0,
        Method::Head => 1,
        Method::Post => 2,
        Method::Put => 3,
        Method::Patch => 4,
        Method::Delete => 5,
        Method::Options => 6,
        Method::Other => 7,
    }
}

/// One worker's counters. Written by that worker only.
#[repr(align(128))]
pub struct WorkerMetrics {
    serve: [[AtomicU64; 5]; 8],
    serve_unknown: AtomicU64,
    control: [[AtomicU64; STATUSES.len() + 1]; ROUTES.len()],
    protocol: [AtomicU64; PROTOCOL_KINDS.len()],
    bytes_written: AtomicU64,
    latency: [AtomicU64; BUCKETS_US.len() + 1],
    latency_sum_us: AtomicU64,
    delayed_pending: AtomicU64,
}

/// Adds `n` to a counter this thread alone writes: a plain load and store, no locked instruction.
#[inline]
fn bump(counter: &AtomicU64, n: u64) {
    if cfg!(feature = "uncounted") {
        return;
    }
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics {
            serve: Default::default(),
            serve_unknown: AtomicU64::new(0),
            control: Default::default(),
            protocol: Default::default(),
            bytes_written: AtomicU64::new(0),
            latency: Default::default(),
            latency_sum_us: AtomicU64::new(0),
            delayed_pending: AtomicU64::new(0),
        }
    }
}

impl WorkerMetrics {
    /// A response from the serving path.
    #[inline]
    pub fn served(&self, method: Method, status: u16) {
        let class = (usize::from(status / 100)).clamp(1, 5) - 1;
        bump(&self.serve[method_index(method)][class], 1);
    }

    /// A serving request for an id that is unknown, deleted or expired.
    #[inline]
    pub fn served_unknown(&self) {
        bump(&self.serve_unknown, 1);
    }

    /// A control-API response.
    pub fn control(&self, route: ControlRoute, status: u16) {
        let s = STATUSES
            .iter()
            .position(|&c| c == status)
            .unwrap_or(STATUSES.len());
        bump(&self.control[route as usize][s], 1);
    }

    /// A protocol error.
    pub fn protocol_error(&self, e: ParseError) {
        bump(&self.protocol[protocol_index(e)], 1);
    }

    /// Response bytes handed to the kernel.
    #[inline]
    pub fn wrote(&self, bytes: usize) {
        bump(&self.bytes_written, bytes as u64);
    }

    /// `count` responses that each took `elapsed` to serve (configured delay excluded).
    #[inline]
    pub fn observe(&self, elapsed: Duration, count: u64) {
        let us = elapsed.as_micros().min(u128::from(u64::MAX)) as u64;
        let bucket = BUCKETS_US
            .iter()
            .position(|&b| us <= b)
            .unwrap_or(BUCKETS_US.len());
        bump(&self.latency[bucket], count);
        bump(&self.latency_sum_us, us.saturating_mul(count));
    }

    /// Delayed responses waiting on this worker.
    pub fn set_delayed_pending(&self, n: usize) {
        self.delayed_pending.store(n as u64, Ordering::Relaxed);
    }
}

fn sum(workers: &[WorkerMetrics], f: impl Fn(&WorkerMetrics) -> &AtomicU64) -> u64 {
    workers
        .iter()
        .map(|w| f(w).load(Ordering::Relaxed))
        .fold(0u64, u64::wrapping_add)
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Renders every metric, summed over the workers.
pub fn render(shared: &Shared) -> String {
    let w = &shared.metrics[..];
    let mut out = String::with_capacity(8 * 1024);

    family(
        &mut out,
        "mockd_serve_requests_total",
        "counter",
        "Requests to /v1/mock/{id} by method and response status class.",
    );
    for (m, method) in METHODS.iter().enumerate() {
        for (c, class) in CLASSES.iter().enumerate() {
            let _ = writeln!(
                out,
                "mockd_serve_requests_total{{method=\"{method}\",class=\"{class}\"}} {}",
                sum(w, |x| &x.serve[m][c])
            );
        }
    }
    family(
        &mut out,
        "mockd_serve_unknown_total",
        "counter",
        "Serving requests for an unknown, deleted or expired mock id.",
    );
    let _ = writeln!(
        out,
        "mockd_serve_unknown_total {}",
        sum(w, |x| &x.serve_unknown)
    );

    family(
        &mut out,
        "mockd_control_requests_total",
        "counter",
        "Control-API requests by route and response status.",
    );
    for (r, route) in ROUTES.iter().enumerate() {
        for s in 0..=STATUSES.len() {
            let n = sum(w, |x| &x.control[r][s]);
            if n > 0 {
                let status = STATUSES
                    .get(s)
                    .map_or_else(|| "other".to_string(), u16::to_string);
                let _ = writeln!(
                    out,
                    "mockd_control_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
    }

    family(
        &mut out,
        "mockd_protocol_errors_total",
        "counter",
        "Requests refused for their framing, size or timing, by kind.",
    );
    for (k, kind) in PROTOCOL_KINDS.iter().enumerate() {
        let _ = writeln!(
            out,
            "mockd_protocol_errors_total{{kind=\"{kind}\"}} {}",
            sum(w, |x| &x.protocol[k])
        );
    }

    let totals = shared.store.totals();
    family(&mut out, "mockd_mocks_live", "gauge", "Live mocks.");
    let _ = writeln!(out, "mockd_mocks_live {}", totals.live);
    family(
        &mut out,
        "mockd_mocks_store_bytes",
        "gauge",
        "Bytes the live mocks account for (against --max-store-bytes).",
    );
    let _ = writeln!(out, "mockd_mocks_store_bytes {}", totals.bytes);
    for (name, help, v) in [
        (
            "mockd_mocks_created_total",
            "Mocks created.",
            totals.created,
        ),
        (
            "mockd_mocks_deleted_total",
            "Mocks deleted through the API.",
            totals.deleted,
        ),
        (
            "mockd_mocks_expired_total",
            "Mocks removed at the end of their TTL.",
            totals.expired,
        ),
    ] {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {v}");
    }

    let c = &shared.counters;
    family(
        &mut out,
        "mockd_connections_open",
        "gauge",
        "Open client connections.",
    );
    let _ = writeln!(
        out,
        "mockd_connections_open {}",
        shared.open.load(Ordering::Relaxed)
    );
    for (name, help, v) in [
        (
            "mockd_connections_accepted_total",
            "Connections accepted.",
            c.accepted.load(Ordering::Relaxed),
        ),
        (
            "mockd_connections_shed_total",
            "Connections refused with 503 over --max-connections.",
            c.shed.load(Ordering::Relaxed),
        ),
        (
            "mockd_connection_panics_total",
            "Connections ended by a handler panic (each closed only that connection).",
            c.panics.load(Ordering::Relaxed),
        ),
        (
            "mockd_response_bytes_total",
            "Response bytes written.",
            sum(w, |x| &x.bytes_written),
        ),
    ] {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {v}");
    }
    family(
        &mut out,
        "mockd_delayed_responses_pending",
        "gauge",
        "Delayed responses waiting for their time.",
    );
    let _ = writeln!(
        out,
        "mockd_delayed_responses_pending {}",
        sum(w, |x| &x.delayed_pending)
    );

    let name = "mockd_serve_duration_seconds";
    family(
        &mut out,
        name,
        "histogram",
        "Time from receiving a request to writing its response, configured delay excluded.",
    );
    let mut cumulative = 0u64;
    for (i, le) in BUCKETS_US.iter().enumerate() {
        cumulative += sum(w, |x| &x.latency[i]);
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"{}\"}} {cumulative}",
            *le as f64 / 1e6
        );
    }
    cumulative += sum(w, |x| &x.latency[BUCKETS_US.len()]);
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
    let _ = writeln!(
        out,
        "{name}_sum {}",
        sum(w, |x| &x.latency_sum_us) as f64 / 1e6
    );
    let _ = writeln!(out, "{name}_count {cumulative}");

    family(
        &mut out,
        "mockd_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
    );
    let _ = writeln!(
        out,
        "mockd_uptime_seconds {}",
        shared.started.elapsed().as_secs()
    );
    family(&mut out, "mockd_workers", "gauge", "Worker threads.");
    let _ = writeln!(out, "mockd_workers {}", shared.workers);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observe_fills_the_right_bucket() {
        let m = WorkerMetrics::default();
        m.observe(Duration::from_micros(50), 2);
        m.observe(Duration::from_micros(51), 1);
        m.observe(Duration::from_secs(5), 1);
        assert_eq!(m.latency[0].load(Ordering::Relaxed), 2);
        assert_eq!(m.latency[1].load(Ordering::Relaxed), 1);
        assert_eq!(m.latency[BUCKETS_US.len()].load(Ordering::Relaxed), 1);
        assert_eq!(
            m.latency_sum_us.load(Ordering::Relaxed),
            100 + 51 + 5_000_000
        );
    }

    #[test]
    fn served_maps_status_to_class() {
        let m = WorkerMetrics::default();
        m.served(Method::Get, 202);
        m.served(Method::Head, 101);
        m.served(Method::Other, 599);
        assert_eq!(m.serve[0][1].load(Ordering::Relaxed), 1);
        assert_eq!(m.serve[1][0].load(Ordering::Relaxed), 1);
        assert_eq!(m.serve[7][4].load(Ordering::Relaxed), 1);
    }
}
