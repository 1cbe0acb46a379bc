//! One connection: read buffer → every complete request → route → responses appended in order →
//! one write.
//!
//! # Ground rules
//! - Requests are answered strictly in order. A delayed response is held (with every response
//!   behind it) until its deadline; bytes of two responses never interleave.
//! - A request is answered only once it was fully received, body included.
//! - Everything buffered is bounded: the head by `max_head_bytes`, a collected body by
//!   `max_request_body_bytes`, answers per read by `max_pipeline`, unsent output by
//!   `max_output_bytes` (past it the server stops reading until the client catches up).
//! - Every wait has a deadline: the head, the body, idle keep-alive, and each write. One tokio
//!   sleep per connection serves all of them, re-armed lazily only when it fires early, so the
//!   keep-alive hot path registers no timer per request.
//! - A protocol error gets its 4xx with `Connection: close`, then the connection closes: once
//!   framing is in doubt nothing after it on the stream is trusted.

use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::futures::Notified;
use tokio::time::{Instant, Sleep};

use crate::control::{self, Auth, Reply};
use crate::http::body::BodyDecoder;
use crate::http::encode::{CONTINUE, Connection, write_mock};
use crate::http::error::ParseError;
use crate::http::parse::{Framing, HeadLimits, RequestHead, find_head_end, parse_head};
use crate::router::{Method, Route, Target};
use crate::server::Worker;

/// First allocation of a connection's read buffer; enough for dozens of typical requests.
const INITIAL_READ_BUFFER: usize = 4096;
/// Free space guaranteed before each read.
const MIN_READ_SPACE: usize = 2048;
/// After a close the server reads and discards at most this much, for at most `LINGER`, so the
/// client receives the final response instead of a reset (the kernel resets a connection closed
/// with unread input).
const LINGER_BYTES: usize = 64 * 1024;
const LINGER: Duration = Duration::from_secs(1);
/// A buffer that grew past this (a large body, a pipelined burst) is given back once empty, so an
/// idle connection holds a few KiB, not its high-water mark.
const KEEP_BUFFER_BYTES: usize = 64 * 1024;

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The client closed or the socket failed.
    Gone,
    /// The server decided to close: after its last response, on the idle timeout, or because
    /// shutdown found the connection idle.
    Close,
}

/// A request whose body is still arriving.
struct Pending {
    method: Method,
    route: Route,
    conn: Connection,
    auth: Auth,
    decoder: BodyDecoder,
    /// The collected body, for routes that read it.
    body: Option<Vec<u8>>,
    budget: u64,
    expect_continue: bool,
}

/// A response held back until `due_us` (worker timer time); it ends at `end` in `held_bytes`.
struct Held {
    due_us: u64,
    end: usize,
    /// A serving response: its time from release to written counts in the histogram.
    timed: bool,
}

/// Serves one connection until it closes.
pub async fn serve<IO>(io: IO, worker: Rc<Worker>)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let signals = Rc::clone(&worker);
    let drained = signals.drain_notify.notified();
    tokio::pin!(drained);
    drained.as_mut().enable();
    let idle = worker.shared.limits.idle_timeout;
    let mut conn = Conn {
        io,
        worker,
        rbuf: BytesMut::with_capacity(INITIAL_READ_BUFFER),
        scanned: 0,
        wbuf: Vec::new(),
        held: VecDeque::new(),
        held_bytes: Vec::new(),
        held_start: 0,
        pending: None,
        head_started: None,
        body_progress: Instant::now(),
        timer: Box::pin(tokio::time::sleep(idle)),
        timer_at: Instant::now() + idle,
        close: false,
        backlog: false,
        drained_seen: false,
        batch_start: Instant::now(),
        batch_timed: 0,
        released: Vec::new(),
    };
    let end = conn.run(drained.as_mut()).await;
    if end == End::Close {
        conn.linger().await;
    }
}

struct Conn<IO> {
    io: IO,
    worker: Rc<Worker>,
    rbuf: BytesMut,
    /// Bytes of `rbuf` already scanned for the end of the current head.
    scanned: usize,
    /// Responses ready to write, in order.
    wbuf: Vec<u8>,
    /// Responses behind a delayed one, in order, with their release times.
    held: VecDeque<Held>,
    held_bytes: Vec<u8>,
    held_start: usize,
    pending: Option<Pending>,
    /// When the current (incomplete) head's first byte was seen.
    head_started: Option<Instant>,
    /// When the pending body last made progress.
    body_progress: Instant,
    /// The connection's one timer, and the instant it is armed for.
    timer: Pin<Box<Sleep>>,
    timer_at: Instant,
    /// Close once everything queued is written.
    close: bool,
    /// Processing stopped at a cap with input possibly still buffered.
    backlog: bool,
    drained_seen: bool,
    /// When the read that the current batch came from completed.
    batch_start: Instant,
    /// Serving responses of the current batch written without delay (for the histogram).
    batch_timed: u64,
    /// Release times (`due_us`) of delayed serving responses in `wbuf` (for the histogram).
    released: Vec<u64>,
}

impl<IO> Conn<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    async fn run(&mut self, mut drained: Pin<&mut Notified<'_>>) -> End {
        loop {
            self.process();
            if let Err(end) = self.flush().await {
                return end;
            }
            if self.close {
                let _ = self.io.shutdown().await;
                return End::Close;
            }
            if self.backlog {
                continue;
            }
            match self.read_more(drained.as_mut()).await {
                Ok(()) => self.batch_start = Instant::now(),
                Err(ParseError::Timeout)
                    if self.pending.is_none() && self.head_started.is_none() =>
                {
                    // Idle timeout or shutdown: close our side, then drain what the client may
                    // already have sent, so the kernel does not reset the connection and destroy
                    // responses it has not delivered yet.
                    let _ = self.io.shutdown().await;
                    return End::Close;
                }
                Err(e) => {
                    if e == ParseError::Timeout {
                        self.protocol_error(e);
                        let _ = self.flush().await;
                        let _ = self.io.shutdown().await;
                        return End::Close;
                    }
                    return End::Gone;
                }
            }
        }
    }

    /// Answers every complete request in the read buffer, up to the caps.
    fn process(&mut self) {
        let worker = Rc::clone(&self.worker);
        let limits = &worker.shared.limits;
        let head_limits = HeadLimits {
            max_head_bytes: limits.max_head_bytes,
            max_target_bytes: limits.max_target_bytes,
        };
        let now_ms = worker.shared.store.clock().now_ms();
        worker.date.borrow_mut().update(now_ms);
        worker.timers.fire_due();
        self.backlog = false;
        let mut answered = 0;
        while !self.close {
            if answered >= limits.max_pipeline
                || self.wbuf.len() + self.held_bytes.len() >= limits.max_output_bytes
            {
                self.backlog = true;
                return;
            }
            if let Some(p) = self.pending.as_mut() {
                match p.decoder.decode(&self.rbuf, p.body.as_mut(), &mut p.budget) {
                    Err(e) => {
                        self.pending = None;
                        return self.protocol_error(e);
                    }
                    Ok(progress) => {
                        self.rbuf.advance(progress.consumed);
                        if progress.consumed > 0 {
                            self.body_progress = Instant::now();
                        }
                        if !progress.done {
                            if p.expect_continue {
                                // RFC 9110 §10.1.1: ask for the body only once we are waiting for it.
                                p.expect_continue = false;
                                self.output(None).extend_from_slice(CONTINUE);
                                self.commit(None);
                            }
                            return;
                        }
                    }
                }
                if let Some(p) = self.pending.take() {
                    let body = p.body.unwrap_or_default();
                    self.answer(&worker, p.method, p.route, p.conn, p.auth, &body, now_ms);
                    answered += 1;
                }
                continue;
            }
            // RFC 9112 §2.2: ignore empty lines before a request line.
            if self.rbuf.starts_with(b"\r\n") {
                while self.rbuf.starts_with(b"\r\n") {
                    self.rbuf.advance(2);
                }
                // Scan offsets were relative to the bytes just dropped; and empty lines count
                // against the header timeout, so a stream of them cannot hold a connection.
                self.scanned = 0;
                self.head_started.get_or_insert_with(Instant::now);
            }
            if self.rbuf.is_empty() {
                self.scanned = 0;
                return;
            }
            let head_len = match find_head_end(&self.rbuf, &mut self.scanned, &head_limits) {
                Err(e) => return self.protocol_error(e),
                Ok(None) => {
                    if self.head_started.is_none() {
                        self.head_started = Some(Instant::now());
                    }
                    return;
                }
                Ok(Some(n)) => n,
            };
            self.scanned = 0;
            self.head_started = None;
            let head = match parse_head(&self.rbuf, head_len, &head_limits) {
                Ok(h) => h,
                Err(e) => return self.protocol_error(e),
            };
            let auth = self.authenticate(&worker, &head);
            self.rbuf.advance(head_len);
            let conn = Connection::for_response(
                head.keep_alive && !worker.draining.get(),
                head.version_minor == 0,
            );
            let decoder = match head.framing {
                Framing::None => {
                    self.answer(&worker, head.method, head.route, conn, auth, &[], now_ms);
                    answered += 1;
                    continue;
                }
                Framing::Length(n) if n > limits.max_request_body_bytes => {
                    return self.protocol_error(ParseError::BodyTooLarge);
                }
                Framing::Length(n) => BodyDecoder::length(n),
                Framing::Chunked => BodyDecoder::chunked(),
            };
            self.body_progress = Instant::now();
            self.pending = Some(Pending {
                method: head.method,
                route: head.route,
                conn,
                auth,
                decoder,
                body: matches!(head.route, Route::Create).then(Vec::new),
                budget: limits.max_request_body_bytes,
                expect_continue: head.expect_continue,
            });
        }
    }

    /// Resolves the credential of a control-API request (the serving path needs none).
    fn authenticate(&self, worker: &Worker, head: &RequestHead) -> Auth {
        if matches!(head.route, Route::Serve { .. }) {
            return Auth::Missing;
        }
        if head.credential_conflict {
            return Auth::Invalid;
        }
        match head.credential {
            None => Auth::Missing,
            Some((start, len)) => match worker
                .shared
                .keys
                .authenticate(&self.rbuf[start..start + len])
            {
                Some(owner) => Auth::Owner(owner),
                None => Auth::Invalid,
            },
        }
    }

    /// Where the next response goes: straight to the write buffer, or behind a held response.
    #[inline]
    fn output(&mut self, due_us: Option<u64>) -> &mut Vec<u8> {
        if due_us.is_some() || !self.held.is_empty() {
            &mut self.held_bytes
        } else {
            &mut self.wbuf
        }
    }

    /// Records the response just written by [`Conn::output`] with the same `due_us`.
    #[inline]
    fn commit(&mut self, due_us: Option<u64>) {
        self.hold(due_us, false);
    }

    /// [`Conn::commit`] for a serving response, which also counts in the serving-time histogram.
    #[inline]
    fn commit_timed(&mut self, due_us: Option<u64>) {
        if !self.hold(due_us, true) {
            self.batch_timed += 1;
        }
    }

    /// Queues the response just written behind held ones, if it went there; returns whether.
    #[inline]
    fn hold(&mut self, due_us: Option<u64>, timed: bool) -> bool {
        let held = due_us.is_some() || !self.held.is_empty();
        if held {
            self.held.push_back(Held {
                due_us: due_us.unwrap_or(0),
                end: self.held_bytes.len(),
                timed,
            });
        }
        held
    }

    #[allow(clippy::too_many_arguments)]
    fn answer(
        &mut self,
        worker: &Worker,
        method: Method,
        route: Route,
        conn: Connection,
        auth: Auth,
        body: &[u8],
        now_ms: u64,
    ) {
        let date = worker.date.borrow();
        let metrics = worker.metrics();
        if let Route::Serve { target, head_only } = route {
            if let Target::Id(id) = target {
                let mut cache = worker.cache.borrow_mut();
                let served = cache.with_live(&worker.shared.store, id, now_ms, |mock| {
                    mock.record_hit(worker.index);
                    if mock.mark_touched() {
                        worker.shared.store.touched(worker.index, mock.id);
                    }
                    metrics.served(method, mock.status_code);
                    // A 1xx is interim in HTTP/1.1: the client still waits for a final response
                    // that will never come, so the connection closes right after it.
                    let conn = if mock.is_interim() {
                        Connection::Close
                    } else {
                        conn
                    };
                    let due = (mock.delay_ms > 0)
                        .then(|| worker.timers.now_us() + u64::from(mock.delay_ms) * 1000);
                    let body = mock.body_for(head_only);
                    write_mock(self.output(due), mock.head(), body, date.line(), conn);
                    self.commit_timed(due);
                    self.close |= conn.is_close();
                });
                if served.is_some() {
                    return;
                }
            }
            metrics.served(method, 404);
            metrics.served_unknown();
            let mut reply = Reply::new(self.output(None), date.line(), conn, head_only);
            control::error(&mut reply, 404, "mock not found", &[]);
            self.commit_timed(None);
            self.close |= conn.is_close();
            return;
        }
        let mut reply = Reply::new(self.output(None), date.line(), conn, method == Method::Head);
        control::respond(worker, route, auth, body, &mut reply);
        metrics.control(control::metrics_route(route), reply.status);
        self.commit(None);
        self.close |= conn.is_close();
    }

    /// Queues the response to a protocol error and marks the connection for closing.
    fn protocol_error(&mut self, e: ParseError) {
        let worker = Rc::clone(&self.worker);
        worker.metrics().protocol_error(e);
        let date = worker.date.borrow();
        let (status, _, detail) = e.status();
        let mut reply = Reply::new(self.output(None), date.line(), Connection::Close, false);
        control::error(&mut reply, status, detail, &[]);
        self.commit(None);
        self.close = true;
    }

    /// Writes everything queued, waiting out held responses' delays in order.
    async fn flush(&mut self) -> Result<(), End> {
        loop {
            if !self.held.is_empty() {
                let now = self.worker.timers.now_us();
                while let Some(h) = self.held.front() {
                    if h.due_us > now {
                        break;
                    }
                    self.wbuf
                        .extend_from_slice(&self.held_bytes[self.held_start..h.end]);
                    self.held_start = h.end;
                    if h.timed && h.due_us > 0 {
                        self.released.push(h.due_us);
                    } else if h.timed {
                        self.batch_timed += 1;
                    }
                    self.held.pop_front();
                }
                if self.held.is_empty() {
                    if self.held_bytes.capacity() > KEEP_BUFFER_BYTES {
                        self.held_bytes = Vec::new();
                    }
                    self.held_bytes.clear();
                    self.held_start = 0;
                }
            }
            if !self.wbuf.is_empty() {
                self.write_out().await?;
                self.observe_written();
            }
            let Some(front) = self.held.front() else {
                return Ok(());
            };
            let due = front.due_us;
            self.worker.timers.delay_until(due).await;
        }
    }

    /// Records serving times for what was just written: undelayed responses from the read that
    /// brought their request, delayed ones from their release time.
    fn observe_written(&mut self) {
        if cfg!(feature = "uncounted") {
            return;
        }
        let metrics = self.worker.metrics();
        let now = Instant::now();
        if self.batch_timed > 0 {
            metrics.observe(now - self.batch_start, self.batch_timed);
            self.batch_timed = 0;
        }
        for due_us in self.released.drain(..) {
            let due = self.worker.timers.instant_at(due_us);
            metrics.observe(now.saturating_duration_since(due), 1);
        }
    }

    async fn write_out(&mut self) -> Result<(), End> {
        // Fast path: the socket almost always takes the whole batch at once, and then no clock
        // read and no timer is needed.
        let (io, wbuf) = (&mut self.io, &self.wbuf);
        let first = std::future::poll_fn(|cx| match Pin::new(&mut *io).poll_write(cx, wbuf) {
            Poll::Pending => Poll::Ready(None),
            Poll::Ready(result) => Poll::Ready(Some(result)),
        })
        .await;
        let mut pos = match first {
            Some(Ok(0) | Err(_)) => return Err(End::Gone),
            Some(Ok(n)) => {
                self.worker.metrics().wrote(n);
                n
            }
            None => 0,
        };
        let timeout = self.worker.shared.limits.write_timeout;
        let mut deadline = if pos < self.wbuf.len() {
            Instant::now() + timeout
        } else {
            self.timer_at
        };
        while pos < self.wbuf.len() {
            self.arm(deadline);
            tokio::select! {
                biased;
                written = self.io.write(&self.wbuf[pos..]) => match written {
                    Ok(0) | Err(_) => return Err(End::Gone),
                    Ok(n) => {
                        pos += n;
                        self.worker.metrics().wrote(n);
                        deadline = Instant::now() + timeout;
                    }
                },
                _ = &mut self.timer => {
                    if self.fired(deadline) {
                        return Err(End::Gone);
                    }
                }
            }
        }
        self.wbuf.clear();
        if self.wbuf.capacity() > KEEP_BUFFER_BYTES {
            self.wbuf = Vec::new();
        }
        Ok(())
    }

    /// Reads more input. `Err(Timeout)` when the applicable deadline passed (or shutdown found the
    /// connection idle), `Err(BadRequest)` when the client closed or the socket failed.
    async fn read_more(&mut self, mut drained: Pin<&mut Notified<'_>>) -> Result<(), ParseError> {
        let limits = &self.worker.shared.limits;
        let idle = self.pending.is_none() && self.head_started.is_none();
        let deadline = if let Some(started) = self.head_started {
            started + limits.header_timeout
        } else if self.pending.is_some() {
            self.body_progress + limits.body_timeout
        } else {
            // Idle since the last read (no clock read needed: that read stamped `batch_start`).
            self.batch_start + limits.idle_timeout
        };
        if idle && self.worker.draining.get() {
            return Err(ParseError::Timeout);
        }
        if self.rbuf.is_empty() && self.rbuf.capacity() > KEEP_BUFFER_BYTES {
            self.rbuf = BytesMut::with_capacity(INITIAL_READ_BUFFER);
        }
        if self.rbuf.capacity() - self.rbuf.len() < MIN_READ_SPACE {
            self.rbuf.reserve(INITIAL_READ_BUFFER);
        }
        self.arm(deadline);
        loop {
            tokio::select! {
                biased;
                read = self.io.read_buf(&mut self.rbuf) => return match read {
                    Ok(0) | Err(_) => Err(ParseError::BadRequest("connection closed")),
                    Ok(_) => Ok(()),
                },
                _ = &mut self.timer => {
                    if self.fired(deadline) {
                        return Err(ParseError::Timeout);
                    }
                }
                _ = drained.as_mut(), if idle && !self.drained_seen => {
                    self.drained_seen = true;
                    return Err(ParseError::Timeout);
                }
            }
        }
    }

    /// Makes sure the timer fires no later than `deadline`.
    #[inline]
    fn arm(&mut self, deadline: Instant) {
        if deadline < self.timer_at {
            self.timer.as_mut().reset(deadline);
            self.timer_at = deadline;
        }
    }

    /// The timer fired: true if `deadline` has passed, else re-arms for it.
    fn fired(&mut self, deadline: Instant) -> bool {
        if Instant::now() >= deadline {
            return true;
        }
        self.timer.as_mut().reset(deadline);
        self.timer_at = deadline;
        false
    }

    /// After closing our side, drains what the client still sends (bounded), so our last response
    /// is not destroyed by a reset.
    async fn linger(&mut self) {
        let mut discarded = 0;
        let mut scratch = [0u8; 4096];
        let _ = tokio::time::timeout(LINGER, async {
            while discarded < LINGER_BYTES {
                match self.io.read(&mut scratch).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => discarded += n,
                }
            }
        })
        .await;
    }
}
