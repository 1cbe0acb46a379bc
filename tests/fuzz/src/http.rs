//! The HTTP request path.
//!
//! Input: a byte stream a client sends on one connection. `@0` … `@4` in it stand for the ids of
//! five mocks made at start (plain, custom headers, 204, delayed 5 ms, delayed 20 ms), so a corpus
//! can hit live mocks.
//!
//! Properties checked, for every input:
//! 1. **Scan/parse model** ([`Model`], which mirrors `conn.rs`'s `process` loop step for step:
//!    empty-line skipping, `find_head_end` resuming at `scanned`, `parse_head`, body limits,
//!    `BodyDecoder`): the events it yields (requests with their bodies, or the error that ends the
//!    stream) are the same whether the stream arrives in one read or split at any boundary (every
//!    single cut for short inputs, one byte per read, and seeded random splits).
//! 2. **Chunked decoder alone**: the input as a chunked body decodes to the same result one shot
//!    and byte by byte.
//! 3. **The real connection loop**: `mockd::conn::serve` over `tokio::io::duplex` (paused tokio
//!    clock, so timeouts and delays cost no real time) must not panic, must finish, must answer
//!    exactly the requests the model saw, in order (one error response last when the model ended
//!    in an error, with its status), every response well-formed; and the one-read and split-read
//!    runs must give the same responses.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mockd::api::validate::{CreateLimits, parse_create};
use mockd::http::body::BodyDecoder;
use mockd::http::date::DateCache;
use mockd::http::error::ParseError;
use mockd::http::parse::{Framing, HeadLimits, RequestHead, find_head_end, parse_head};
use mockd::mock::Owner;
use mockd::mock::cache::LocalCache;
use mockd::router::{Method, Route};
use mockd::server::Worker;
use mockd::timers::Timers;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use crate::{hash, show};

/// The control-API key of the fuzz server.
pub const KEY: &str = "fuzz-key";

/// Largest request body the fuzz server accepts (small, so 413 is reachable).
pub const MAX_BODY: u64 = 64 * 1024;

/// Mocks made at start; `@N` in an input is replaced by the N-th id.
const MOCKS: [&str; 5] = [
    r#"{"body": "alpha"}"#,
    r#"{"status_code": 201, "body": "beta", "headers": {"X-A": "1", "Cache-Control": "no-store"}}"#,
    r#"{"status_code": 204}"#,
    r#"{"body": "delayed five", "delay_ms": 5}"#,
    r#"{"status_code": 202, "body": "delayed twenty", "delay_ms": 20}"#,
];

struct Fixture {
    server: mockd::Server,
    ids: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut config = mockd::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            api_keys: vec![KEY.into()],
            workers: 1,
            clock: mockd::Clock::manual(),
            ..Default::default()
        };
        config.limits.max_request_body_bytes = MAX_BODY;
        config.limits.max_mocks = 10_000;
        config.limits.max_store_bytes = 64 << 20;
        let server = mockd::Server::start(config).expect("fuzz server starts");
        // Owned by nobody the key can act as, so an input cannot delete them.
        let ids = MOCKS
            .iter()
            .map(|s| {
                let spec = parse_create(s.as_bytes(), &CreateLimits::default()).unwrap();
                server
                    .store()
                    .create(Owner(1), spec)
                    .expect("fixture mock")
                    .id
                    .to_text()
            })
            .collect();
        Fixture { server, ids }
    })
}

/// The input with `@0` … `@4` replaced by the fixture's mock ids.
pub fn expand(data: &[u8]) -> Vec<u8> {
    let ids = &fixture().ids;
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'@' && i + 1 < data.len() && (b'0'..=b'4').contains(&data[i + 1]) {
            out.extend_from_slice(ids[usize::from(data[i + 1] - b'0')].as_bytes());
            i += 2;
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

fn head_limits() -> HeadLimits {
    let l = &fixture().server.shared().limits;
    HeadLimits {
        max_head_bytes: l.max_head_bytes,
        max_target_bytes: l.max_target_bytes,
    }
}

// ---- 1. The scan/parse model ------------------------------------------------------------------

/// What the connection loop does with the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A complete request (head and body).
    Request {
        method: Method,
        route: Route,
        framing: Framing,
        keep_alive: bool,
        expect_continue: bool,
        has_credential: bool,
        credential_conflict: bool,
        body: Vec<u8>,
    },
    /// A protocol error; nothing after it is read.
    Error(ParseError),
}

struct Pending {
    head: RequestHead,
    decoder: BodyDecoder,
    body: Vec<u8>,
    budget: u64,
}

/// `conn.rs`'s `process` loop without I/O: the same calls in the same order on the same buffer.
pub struct Model {
    limits: HeadLimits,
    buf: Vec<u8>,
    scanned: usize,
    pending: Option<Pending>,
    pub events: Vec<Event>,
    /// The connection would close: after an error or a request that ends it.
    pub closed: bool,
}

impl Model {
    pub fn new(limits: HeadLimits) -> Model {
        Model {
            limits,
            buf: Vec::new(),
            scanned: 0,
            pending: None,
            events: Vec::new(),
            closed: false,
        }
    }

    /// The events for `data` delivered in reads cut at `cuts` (ascending offsets).
    pub fn run(limits: HeadLimits, data: &[u8], cuts: &[usize]) -> Model {
        let mut m = Model::new(limits);
        let mut start = 0;
        for &end in cuts.iter().chain([&data.len()]) {
            if end > start {
                m.feed(&data[start..end]);
                start = end;
            }
        }
        m
    }

    /// One read's worth of bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        self.buf.extend_from_slice(bytes);
        self.process();
    }

    fn fail(&mut self, e: ParseError) {
        self.events.push(Event::Error(e));
        self.closed = true;
    }

    fn answer(&mut self, head: &RequestHead, body: Vec<u8>) {
        if let Framing::Length(n) = head.framing {
            assert_eq!(
                body.len() as u64,
                n,
                "a Content-Length body of the wrong length"
            );
        }
        assert!(
            body.len() as u64 <= MAX_BODY,
            "a body over the limit was accepted"
        );
        self.events.push(Event::Request {
            method: head.method,
            route: head.route,
            framing: head.framing,
            keep_alive: head.keep_alive,
            expect_continue: head.expect_continue,
            has_credential: head.credential.is_some(),
            credential_conflict: head.credential_conflict,
            body,
        });
        if !head.keep_alive {
            self.closed = true;
        }
    }

    fn process(&mut self) {
        while !self.closed {
            if let Some(p) = self.pending.as_mut() {
                match p
                    .decoder
                    .decode(&self.buf, Some(&mut p.body), &mut p.budget)
                {
                    Err(e) => {
                        self.pending = None;
                        return self.fail(e);
                    }
                    Ok(progress) => {
                        assert!(progress.consumed <= self.buf.len());
                        self.buf.drain(..progress.consumed);
                        if !progress.done {
                            assert_eq!(self.buf.len(), 0, "an unfinished body left input unread");
                            return;
                        }
                    }
                }
                let p = self.pending.take().unwrap();
                self.answer(&p.head, p.body);
                continue;
            }
            if self.buf.starts_with(b"\r\n") {
                while self.buf.starts_with(b"\r\n") {
                    self.buf.drain(..2);
                }
                // As conn.rs does: scan offsets were relative to the bytes just dropped.
                self.scanned = 0;
            }
            if self.buf.is_empty() {
                self.scanned = 0;
                return;
            }
            let n = match find_head_end(&self.buf, &mut self.scanned, &self.limits) {
                Err(e) => return self.fail(e),
                Ok(None) => {
                    assert!(self.scanned <= self.buf.len());
                    return;
                }
                Ok(Some(n)) => n,
            };
            assert!(n <= self.buf.len() && n <= self.limits.max_head_bytes);
            self.scanned = 0;
            let head = match parse_head(&self.buf, n, &self.limits) {
                Ok(h) => h,
                Err(e) => return self.fail(e),
            };
            assert_eq!(head.head_len, n);
            if let Some((start, len)) = head.credential {
                assert!(start + len <= n, "credential outside the head");
            }
            self.buf.drain(..n);
            let decoder = match head.framing {
                Framing::None => {
                    self.answer(&head, Vec::new());
                    continue;
                }
                Framing::Length(len) if len > MAX_BODY => {
                    return self.fail(ParseError::BodyTooLarge);
                }
                Framing::Length(len) => BodyDecoder::length(len),
                Framing::Chunked => BodyDecoder::chunked(),
            };
            self.pending = Some(Pending {
                head,
                decoder,
                body: Vec::new(),
                budget: MAX_BODY,
            });
        }
    }
}

/// Split schedules for `data`: cut offsets, ascending.
fn schedules(data: &[u8], seed: u64) -> Vec<Vec<usize>> {
    let len = data.len();
    let mut out = Vec::new();
    if len <= 512 {
        for k in 1..len {
            out.push(vec![k]);
        }
    }
    if len <= 8192 {
        out.push((1..len).collect());
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    for _ in 0..4 {
        out.push(random_cuts(&mut rng, len));
    }
    out
}

fn random_cuts(rng: &mut fastrand::Rng, len: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut at = 0;
    loop {
        at += match rng.u8(..4) {
            0 => 1,
            1 => rng.usize(1..=8),
            _ => rng.usize(1..=256),
        };
        if at >= len {
            return cuts;
        }
        cuts.push(at);
    }
}

fn check_model(data: &[u8], seed: u64) -> Model {
    let limits = head_limits();
    let whole = Model::run(limits, data, &[]);
    for cuts in schedules(data, seed) {
        let split = Model::run(limits, data, &cuts);
        if split.events != whole.events {
            let at = whole
                .events
                .iter()
                .zip(&split.events)
                .position(|(a, b)| a != b)
                .unwrap_or(whole.events.len().min(split.events.len()));
            let shown_cuts: Vec<usize> = cuts.iter().copied().take(40).collect();
            panic!(
                "scan/parse result depends on read boundaries.\ninput {}\ncuts {shown_cuts:?}{}\n\
                 first difference at event {at}:\n one read: {:?}\n    split: {:?}",
                show(data),
                if cuts.len() > 40 { " …" } else { "" },
                whole.events.get(at),
                split.events.get(at),
            );
        }
    }
    whole
}

// ---- 2. The chunked decoder alone -------------------------------------------------------------

/// Feeds `data` to a chunked decoder in reads cut at `cuts`, as the connection does (unconsumed
/// bytes stay buffered): the result, the bytes consumed and the body.
fn decode_chunked(data: &[u8], cuts: &[usize]) -> (Result<bool, ParseError>, usize, Vec<u8>) {
    let mut dec = BodyDecoder::chunked();
    let mut budget = MAX_BODY;
    let mut body = Vec::new();
    let mut buf = Vec::new();
    let mut consumed = 0;
    let mut start = 0;
    for &end in cuts.iter().chain([&data.len()]) {
        if end <= start {
            continue;
        }
        buf.extend_from_slice(&data[start..end]);
        start = end;
        match dec.decode(&buf, Some(&mut body), &mut budget) {
            Err(e) => return (Err(e), consumed, body),
            Ok(p) => {
                consumed += p.consumed;
                buf.drain(..p.consumed);
                if p.done {
                    return (Ok(true), consumed, body);
                }
            }
        }
    }
    (Ok(false), consumed, body)
}

fn check_chunked(data: &[u8]) {
    let whole = decode_chunked(data, &[]);
    let bytewise: Vec<usize> = (1..data.len().min(4096)).collect();
    let split = decode_chunked(&data[..data.len().min(4096)], &bytewise);
    let whole_cut = decode_chunked(&data[..data.len().min(4096)], &[]);
    // After an error the connection closes: only the error itself must agree.
    let key = |r: (Result<bool, ParseError>, usize, Vec<u8>)| match r.0 {
        Err(e) => (Err(e), 0, Vec::new()),
        ok => (ok, r.1, r.2),
    };
    assert_eq!(
        key(split),
        key(whole_cut),
        "chunked decoding depends on read boundaries: {}",
        show(data)
    );
    assert!(whole.2.len() as u64 <= MAX_BODY);
}

// ---- 3. The real connection loop --------------------------------------------------------------

/// Runs `conn::serve` on a fresh worker over an in-memory duplex stream, writing `data` in reads cut
/// at `cuts`; returns everything the server wrote before it closed.
fn serve(data: &[u8], cuts: &[usize]) -> Vec<u8> {
    let fx = fixture();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    let mut pieces = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain([&data.len()]) {
        if end > start {
            pieces.push(data[start..end].to_vec());
            start = end;
        }
    }
    local.block_on(&rt, async move {
        let shared = Arc::clone(fx.server.shared());
        let now = shared.store.clock().now_ms();
        let worker = Rc::new(Worker {
            index: 0,
            shared,
            cache: RefCell::new(LocalCache::default()),
            date: RefCell::new(DateCache::new(now)),
            timers: Timers::new(),
            draining: Cell::new(false),
            drain_notify: Notify::new(),
            live: Cell::new(0),
            all_closed: Notify::new(),
        });
        let driver = tokio::task::spawn_local(Rc::clone(&worker.timers).drive());
        let (client, server_io) = tokio::io::duplex(64 * 1024);
        let conn = tokio::task::spawn_local(mockd::conn::serve(server_io, Rc::clone(&worker)));
        let (mut rd, mut wr) = tokio::io::split(client);
        let writer = tokio::task::spawn_local(async move {
            for p in pieces {
                if wr.write_all(&p).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
            let _ = wr.shutdown().await;
        });
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(3600), rd.read_to_end(&mut out)).await;
        assert!(
            read.is_ok(),
            "conn::serve did not finish within an hour of (paused) time: {}",
            show(data)
        );
        let ended = conn.await;
        assert!(
            !ended.as_ref().is_err_and(|e| e.is_panic()),
            "conn::serve panicked on input {}",
            show(data)
        );
        writer.abort();
        driver.abort();
        out
    })
}

/// One response, as much of it as the comparison needs.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: u16,
    closes: bool,
    /// The whole response for mock responses (their bytes are fixed); empty for the server's own
    /// responses, whose bodies may carry counters.
    raw: Vec<u8>,
}

/// Splits the server's output into final responses, using the model's events to know which ones
/// answer HEAD. Checks each head for well-formedness.
fn responses(out: &[u8], events: &[Event], input: &[u8]) -> Vec<Seen> {
    let mut seen = Vec::new();
    let mut pos = 0;
    while pos < out.len() {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(&out[pos..]) {
            Ok(httparse::Status::Complete(n)) => n,
            other => panic!(
                "malformed response at byte {pos} ({other:?}) of {} for input {}",
                show(out),
                show(input)
            ),
        };
        let status = resp.code.unwrap();
        assert_eq!(resp.version, Some(1), "not HTTP/1.1: {}", show(out));
        let header = |name: &str| {
            resp.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value)
        };
        let closes = header("connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
        let is_mock = header("x-mock-id").is_some();
        let head_only = matches!(
            events.get(seen.len()),
            Some(Event::Request {
                method: Method::Head,
                ..
            })
        );
        let len = if status == 100 || status == 204 || status == 304 || head_only {
            0
        } else {
            let v = header("content-length").unwrap_or_else(|| {
                panic!("response without Content-Length: {}", show(&out[pos..]))
            });
            std::str::from_utf8(v).unwrap().parse::<usize>().unwrap()
        };
        let end = pos + n + len;
        assert!(end <= out.len(), "truncated response body in {}", show(out));
        if status != 100 {
            seen.push(Seen {
                status,
                closes,
                raw: if is_mock {
                    out[pos..end].to_vec()
                } else {
                    Vec::new()
                },
            });
        }
        pos = end;
    }
    seen
}

fn check_serve(data: &[u8], model: &Model, seed: u64) {
    let whole = serve(data, &[]);
    let seen = responses(&whole, &model.events, data);
    assert_eq!(
        seen.len(),
        model.events.len(),
        "the server answered {} requests, the model saw {} events\nmodel {:?}\ninput {}\noutput {}",
        seen.len(),
        model.events.len(),
        model.events,
        show(data),
        show(&whole)
    );
    for (i, (s, e)) in seen.iter().zip(&model.events).enumerate() {
        if let Event::Error(err) = e {
            assert_eq!(
                s.status,
                err.status().0,
                "event {i}: error status, input {}",
                show(data)
            );
            assert!(s.closes, "an error response without Connection: close");
        }
    }
    if let Some(last) = seen.last().filter(|_| model.closed) {
        assert!(
            last.closes,
            "the last response before a close lacks Connection: close"
        );
    }
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
    let mut cut_sets = vec![random_cuts(&mut rng, data.len())];
    if data.len() <= 600 {
        cut_sets.push((1..data.len()).collect());
    }
    for cuts in cut_sets {
        let split = serve(data, &cuts);
        let split_seen = responses(&split, &model.events, data);
        assert!(
            split_seen == seen,
            "responses depend on read boundaries\ninput {}\ncuts {:?}\none read: {}\n   split: {}",
            show(data),
            &cuts[..cuts.len().min(40)],
            show(&whole),
            show(&split)
        );
    }
}

/// The whole target: model consistency, the chunked decoder, and the real connection loop.
pub fn check(data: &[u8]) {
    if data.len() > 64 * 1024 {
        return;
    }
    // Split schedules come from the input as written (not from the mock ids, which are random per
    // process), so a failure reproduces.
    let seed = hash(data);
    let data = expand(data);
    let model = check_model(&data, seed);
    check_chunked(&data);
    check_serve(&data, &model, seed);
}
