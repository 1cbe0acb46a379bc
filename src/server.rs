//! The server: N workers, each a thread with its own SO_REUSEPORT listener and its own
//! current-thread tokio runtime, so a connection lives and dies on one core with no cross-thread
//! hand-off. Also the accept loop (connection cap, backoff on accept errors), the expiry reaper
//! thread, and graceful shutdown.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::config::{Config, Limits};
use crate::http::date::DateCache;
use crate::http::encode::{Connection, Simple, write_simple};
use crate::metrics::WorkerMetrics;
use crate::mock::Owner;
use crate::mock::cache::LocalCache;
use crate::mock::store::Store;
use crate::net::Stream;
use crate::shutdown::Shutdown;
use crate::timers::Timers;

/// Pending connections the kernel queues per listener before refusing. Load tests open thousands
/// of connections at once; 4096 keeps a c10000 ramp from seeing refusals.
const LISTEN_BACKLOG: i32 = 4096;

/// How often a worker drops dead entries from its mock cache.
const CACHE_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// The configured API keys and their owner fingerprints.
pub struct Keys {
    keys: Vec<(Box<[u8]>, Owner)>,
}

impl Keys {
    /// Keys from the configuration.
    pub fn new(keys: &[String]) -> Keys {
        Keys {
            keys: keys
                .iter()
                .map(|k| (k.as_bytes().into(), Owner::of_key(k.as_bytes())))
                .collect(),
        }
    }

    /// The owner whose key `presented` is, compared in constant time against every key.
    pub fn authenticate(&self, presented: &[u8]) -> Option<Owner> {
        let mut found = None;
        for (key, owner) in &self.keys {
            if constant_time_eq(presented, key) {
                found = Some(*owner);
            }
        }
        found
    }
}

/// Compares without an early exit: the time taken depends only on the longer length.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// Server-wide counters (relaxed; read for status and metrics).
#[derive(Default)]
pub struct Counters {
    pub accepted: AtomicU64,
    pub shed: AtomicU64,
    pub panics: AtomicU64,
}

/// State every worker shares.
pub struct Shared {
    pub store: Arc<Store>,
    pub keys: Keys,
    pub limits: Limits,
    pub workers: usize,
    pub started: Instant,
    /// Open connections across all workers (for the connection cap).
    pub open: AtomicUsize,
    pub counters: Counters,
    pub shutdown: Shutdown,
    /// One metrics block per worker, written only by that worker.
    pub metrics: Box<[WorkerMetrics]>,
    /// Whether `/metrics` needs an API key.
    pub metrics_require_key: bool,
}

/// One worker's state; lives on its thread only.
pub struct Worker {
    pub index: usize,
    pub shared: Arc<Shared>,
    pub cache: RefCell<LocalCache>,
    pub date: RefCell<DateCache>,
    pub timers: Rc<Timers>,
    /// Set when shutdown starts; idle connections close, busy ones finish their exchange.
    pub draining: Cell<bool>,
    pub drain_notify: Notify,
    /// Connections open on this worker.
    pub live: Cell<usize>,
    pub all_closed: Notify,
}

impl Worker {
    /// This worker's metrics block.
    #[inline]
    pub fn metrics(&self) -> &WorkerMetrics {
        &self.shared.metrics[self.index]
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    reaper: Option<JoinHandle<()>>,
    generated_key: Option<String>,
}

/// A fresh `tk_`-prefixed key: 192 bits from the OS CSPRNG, URL-safe base64.
pub fn generate_key() -> io::Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| io::Error::other(format!("OS random source failed: {e}")))?;
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut key = String::from("tk_");
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            key.push(ALPHABET[((n >> shift) & 63) as usize] as char);
        }
    }
    Ok(key)
}

fn bind(addr: SocketAddr) -> io::Result<StdListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

impl Server {
    /// Binds every worker's listener, starts the workers and the reaper, and returns once the
    /// server accepts connections.
    ///
    /// # Errors
    /// Binding fails, or a thread or runtime cannot be started.
    pub fn start(mut config: Config) -> io::Result<Server> {
        let generated_key = if config.api_keys.is_empty() {
            let key = generate_key()?;
            config.api_keys.push(key.clone());
            Some(key)
        } else {
            None
        };
        let workers = config.workers.max(1);
        // Port 0: bind the first socket, read its port, bind the rest to that port.
        let first = bind(config.listen)?;
        let addr = first.local_addr()?;
        let mut listeners = vec![first];
        for _ in 1..workers {
            listeners.push(bind(addr)?);
        }
        let l = &config.limits;
        let mut store = Store::new(
            config.clock.clone(),
            workers,
            l.max_mocks,
            l.max_store_bytes,
        );
        if config.ttl_unit_ms != 1000 {
            eprintln!(
                "mockd: WARNING: --test-only-ttl-unit-ms {}: mock lifetimes are not real seconds",
                config.ttl_unit_ms
            );
            store.set_ttl_unit_ms(config.ttl_unit_ms);
        }
        let store = Arc::new(store);
        let shared = Arc::new(Shared {
            store,
            keys: Keys::new(&config.api_keys),
            limits: config.limits.clone(),
            workers,
            started: Instant::now(),
            open: AtomicUsize::new(0),
            counters: Counters::default(),
            shutdown: Shutdown::default(),
            metrics: (0..workers).map(|_| WorkerMetrics::default()).collect(),
            metrics_require_key: config.metrics_require_key,
        });
        let reaper = {
            let store = Arc::clone(&shared.store);
            std::thread::Builder::new()
                .name("mockd-reaper".into())
                .spawn(move || store.run_reaper())?
        };
        let mut handles = Vec::with_capacity(workers);
        for (index, listener) in listeners.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(
                std::thread::Builder::new()
                    .name(format!("mockd-worker-{index}"))
                    .spawn(move || {
                        let local = tokio::task::LocalSet::new();
                        local.block_on(&runtime, run_worker(index, listener, shared));
                    })?,
            );
        }
        Ok(Server {
            addr,
            shared,
            workers: handles,
            reaper: Some(reaper),
            generated_key,
        })
    }

    /// The address the server listens on (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The key generated at start when none was configured.
    pub fn generated_key(&self) -> Option<&str> {
        self.generated_key.as_deref()
    }

    /// The mock store.
    pub fn store(&self) -> &Arc<Store> {
        &self.shared.store
    }

    /// State shared by the workers.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Starts a graceful shutdown: no new connections; in-flight responses finish within the grace.
    pub fn shutdown(&self) {
        self.shared.shutdown.trigger();
    }

    /// Waits for every worker to finish (after [`Server::shutdown`]).
    pub fn join(mut self) {
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
        self.shared.store.stop_reaper();
        if let Some(r) = self.reaper.take() {
            let _ = r.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.workers.is_empty() {
            self.shared.shutdown.trigger();
            for h in self.workers.drain(..) {
                let _ = h.join();
            }
        }
        self.shared.store.stop_reaper();
        if let Some(r) = self.reaper.take() {
            let _ = r.join();
        }
    }
}

async fn run_worker(index: usize, listener: StdListener, shared: Arc<Shared>) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mockd: worker {index}: cannot register listener: {e}");
            return;
        }
    };
    let now = shared.store.clock().now_ms();
    let worker = Rc::new(Worker {
        index,
        shared: Arc::clone(&shared),
        cache: RefCell::new(LocalCache::default()),
        date: RefCell::new(DateCache::new(now)),
        timers: {
            let shared = Arc::clone(&shared);
            Timers::with_gauge(move |n| shared.metrics[index].set_delayed_pending(n))
        },
        draining: Cell::new(false),
        drain_notify: Notify::new(),
        live: Cell::new(0),
        all_closed: Notify::new(),
    });
    tokio::task::spawn_local(Rc::clone(&worker.timers).drive());
    {
        let worker = Rc::clone(&worker);
        tokio::task::spawn_local(async move {
            let mut tick = tokio::time::interval(CACHE_SWEEP_INTERVAL);
            loop {
                tick.tick().await;
                let now = worker.shared.store.clock().now_ms();
                worker.cache.borrow_mut().sweep(now);
            }
        });
    }

    let mut backoff = Duration::from_millis(1);
    loop {
        tokio::select! {
            biased;
            _ = shared.shutdown.wait() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff = Duration::from_millis(1);
                    accept(&worker, stream);
                }
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS...: back off instead of spinning, then retry.
                    if !matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) {
                        eprintln!("mockd: worker {index}: accept failed: {e}; retrying in {backoff:?}");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                }
            }
        }
    }
    drop(listener);

    // Drain: idle connections close now; busy ones finish their exchange, within the grace.
    worker.draining.set(true);
    worker.drain_notify.notify_waiters();
    let grace = shared.limits.shutdown_grace;
    let _ = tokio::time::timeout(grace, async {
        while worker.live.get() > 0 {
            let closed = worker.all_closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if worker.live.get() == 0 {
                break;
            }
            closed.await;
        }
    })
    .await;
}

fn accept(worker: &Rc<Worker>, stream: TcpStream) {
    let shared = &worker.shared;
    shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
    if shared.open.fetch_add(1, Ordering::AcqRel) >= shared.limits.max_connections {
        shared.open.fetch_sub(1, Ordering::AcqRel);
        shared.counters.shed.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_local(shed(stream));
        return;
    }
    let _ = stream.set_nodelay(true);
    let socket = match Stream::new(stream) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mockd: cannot register a connection: {e}");
            shared.open.fetch_sub(1, Ordering::AcqRel);
            return;
        }
    };
    worker.live.set(worker.live.get() + 1);
    let guard = ConnGuard(Rc::clone(worker));
    let conn = crate::conn::serve(socket, Rc::clone(worker));
    tokio::task::spawn_local(async move {
        let _guard = guard;
        if CatchUnwind(Box::pin(conn)).await.is_err() {
            _guard
                .0
                .shared
                .counters
                .panics
                .fetch_add(1, Ordering::Relaxed);
            eprintln!("mockd: a connection handler panicked; that connection was closed");
        }
    });
}

/// Refuses a connection over the cap with a short 503, then closes it.
async fn shed(mut stream: TcpStream) {
    let body = br#"{"detail":"too many connections; retry"}"#;
    let busy = Simple {
        status: 503,
        reason: "Service Unavailable",
        content_type: "application/json",
        body,
        headers: &[("Retry-After", "1")],
    };
    let mut out = Vec::with_capacity(256);
    let date = DateCache::new(crate::clock::Clock::system().now_ms());
    write_simple(&mut out, &busy, date.line(), Connection::Close, false);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(&out).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Counts a connection out when its task ends, however it ends.
struct ConnGuard(Rc<Worker>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.shared.open.fetch_sub(1, Ordering::AcqRel);
        let live = self.0.live.get() - 1;
        self.0.live.set(live);
        if live == 0 {
            self.0.all_closed.notify_waiters();
        }
    }
}

/// Runs a future, turning a panic inside it into `Err(())` so one connection's bug ends that
/// connection only.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future<Output = ()>> Future for CatchUnwind<F> {
    type Output = Result<(), ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Err(_) => Poll::Ready(Err(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_matches_plain_eq() {
        for (a, b) in [
            ("", ""),
            ("a", ""),
            ("abc", "abc"),
            ("abc", "abd"),
            ("abc", "abcd"),
            ("tk_x", "tk_y"),
        ] {
            assert_eq!(
                constant_time_eq(a.as_bytes(), b.as_bytes()),
                a == b,
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn keys_map_to_distinct_owners() {
        let keys = Keys::new(&["k1".into(), "k2".into()]);
        let a = keys.authenticate(b"k1").unwrap();
        let b = keys.authenticate(b"k2").unwrap();
        assert_ne!(a, b);
        assert_eq!(keys.authenticate(b"k3"), None);
        assert_eq!(keys.authenticate(b""), None);
    }

    #[test]
    fn generated_keys_are_prefixed_and_unique() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert!(a.starts_with("tk_") && a.len() == 35, "{a}");
        assert_ne!(a, b);
    }
}
