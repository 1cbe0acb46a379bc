//! Timing wheel benchmarks.
//!
//! * `wheel_virtual`: `n` wakers with deadlines uniform over 1..=1000 ms are inserted, then the
//!   wheel is polled at every millisecond of virtual time until all have fired (and been woken).
//!   One wheel is reused across iterations, as a worker's is, so the slab is already grown.
//! * `wheel_cancel`: `n` ids inserted with deadlines uniform over 2 days, then all removed (mock
//!   deletion, or a client hanging up on a delayed response).
//! * `realtime_wall`: `n` tasks on a current-thread runtime each wait for a deadline uniform over
//!   0..50 ms of real time, either with `tokio::time::sleep_until` or with a future registered
//!   in a shared wheel that one driver task advances (one tokio sleep to the wheel's next
//!   deadline, then poll and wake). The figure is the wall time of the whole batch, so both
//!   include the ~50 ms horizon and the same task overhead; the difference is the timers.
//! * `realtime_cpu`: the same batches, timed by the thread's CPU time (from
//!   `/proc/thread-self/schedstat`, where the kernel provides it) instead of wall time, so the
//!   idle waiting drops out and only the work remains.
//!
//! Deadlines come from a seeded `fastrand` so every run measures the same schedule.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use mockd::wheel::Wheel;
use tokio::runtime::Runtime;
use tokio::task::LocalSet;
use tokio::time::Instant;

const COUNTS: [usize; 2] = [10_000, 100_000];
const DAY_MS: u64 = 86_400_000;

fn deadlines(n: usize, range: std::ops::RangeInclusive<u64>, seed: u64) -> Vec<u64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n).map(|_| rng.u64(range.clone())).collect()
}

fn virtual_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("wheel_virtual");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for n in COUNTS {
        let deadlines = deadlines(n, 1..=1000, 1);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new("insert_fire_poll_every_ms", n), |b| {
            let mut wheel = Wheel::with_capacity(0, n);
            b.iter(|| {
                let base = wheel.elapsed();
                for &d in &deadlines {
                    let _ = wheel.insert(base + d, Waker::noop().clone());
                }
                let mut fired = 0usize;
                for t in 1..=1000 {
                    wheel.poll(base + t, |_, waker| {
                        waker.wake();
                        fired += 1;
                    });
                }
                assert_eq!(fired, n);
                black_box(fired)
            });
        });
    }
    group.finish();
}

fn cancel(c: &mut Criterion) {
    let mut group = c.benchmark_group("wheel_cancel");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    let n = 100_000;
    let deadlines = deadlines(n, 1..=2 * DAY_MS, 2);
    let mut keys = Vec::with_capacity(n);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("insert_remove_2_days", n), |b| {
        let mut wheel: Wheel<u128> = Wheel::with_capacity(1_760_000_000_000, n);
        b.iter(|| {
            let base = wheel.elapsed();
            keys.clear();
            keys.extend(deadlines.iter().enumerate().map(|(i, &d)| {
                wheel
                    .insert(base + d, i as u128)
                    .unwrap_or_else(|_| unreachable!())
            }));
            let mut sum = 0u128;
            for &key in &keys {
                sum += wheel.remove(key).unwrap_or_default();
            }
            black_box(sum)
        });
    });
    group.finish();
}

/// A wheel shared by the tasks on one current-thread runtime; its time is ms since `origin`.
/// Like a worker's, it lives across batches, so its slab is grown once.
struct Shared {
    wheel: RefCell<Wheel<Waker>>,
    origin: Instant,
}

/// Waits until the shared wheel's time reaches `when`.
struct WheelSleep {
    shared: Rc<Shared>,
    when: u64,
    registered: bool,
}

impl Future for WheelSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut wheel = this.shared.wheel.borrow_mut();
        if wheel.elapsed() >= this.when {
            return Poll::Ready(());
        }
        if !this.registered {
            if wheel.insert(this.when, cx.waker().clone()).is_err() {
                return Poll::Ready(());
            }
            this.registered = true;
        }
        Poll::Pending
    }
}

/// The one task that owns real time for the wheel: sleeps to its next deadline, polls, wakes.
async fn drive(shared: Rc<Shared>, remaining: Rc<Cell<usize>>) {
    while remaining.get() > 0 {
        let next = shared.wheel.borrow().next_deadline();
        match next {
            Some(ms) => {
                tokio::time::sleep_until(shared.origin + Duration::from_millis(ms)).await;
                let now = shared.origin.elapsed().as_millis() as u64;
                shared.wheel.borrow_mut().poll(now, |_, waker| waker.wake());
            }
            // Tasks not registered yet, or woken and not yet finished.
            None => tokio::task::yield_now().await,
        }
    }
}

#[derive(Clone, Copy)]
enum Timer {
    Tokio,
    Wheel,
}

/// Runs one batch: a task per deadline (ms after the batch starts), each waiting for it with
/// `timer`, all awaited.
fn batch(rt: &Runtime, shared: &Rc<Shared>, timer: Timer, deadlines: &[u64]) {
    let local = LocalSet::new();
    local.block_on(rt, async {
        let start = Instant::now();
        let base = (start - shared.origin).as_millis() as u64;
        let remaining = Rc::new(Cell::new(deadlines.len()));
        let mut handles = Vec::with_capacity(deadlines.len() + 1);
        for &ms in deadlines {
            let remaining = remaining.clone();
            handles.push(match timer {
                Timer::Tokio => tokio::task::spawn_local(async move {
                    tokio::time::sleep_until(start + Duration::from_millis(ms)).await;
                    remaining.set(remaining.get() - 1);
                }),
                Timer::Wheel => {
                    let sleep = WheelSleep {
                        shared: shared.clone(),
                        when: base + ms,
                        registered: false,
                    };
                    tokio::task::spawn_local(async move {
                        sleep.await;
                        remaining.set(remaining.get() - 1);
                    })
                }
            });
        }
        if let Timer::Wheel = timer {
            handles.push(tokio::task::spawn_local(drive(
                shared.clone(),
                remaining.clone(),
            )));
        }
        for handle in handles {
            handle.await.unwrap_or_else(|e| panic!("task failed: {e}"));
        }
        assert_eq!(remaining.get(), 0);
    });
}

/// CPU time this thread has used, in ns, if the kernel reports it.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn real_time(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let cpu_clock = thread_cpu_ns().is_some_and(|ns| ns > 0);
    for (name, cpu) in [("realtime_wall", false), ("realtime_cpu", true)] {
        if cpu && !cpu_clock {
            eprintln!("{name}: no per-thread CPU clock on this kernel, skipped");
            continue;
        }
        let mut group = c.benchmark_group(name);
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(1));
        for n in COUNTS {
            let deadlines = deadlines(n, 0..=50, 3);
            group.throughput(Throughput::Elements(n as u64));
            let shared = Rc::new(Shared {
                wheel: RefCell::new(Wheel::with_capacity(0, n)),
                origin: Instant::now(),
            });
            for (label, timer) in [("tokio_sleep", Timer::Tokio), ("wheel", Timer::Wheel)] {
                group.bench_function(BenchmarkId::new(label, n), |b| {
                    b.iter_custom(|iters| {
                        let wall = std::time::Instant::now();
                        let cpu0 = thread_cpu_ns().unwrap_or(0);
                        for _ in 0..iters {
                            batch(&rt, &shared, timer, &deadlines);
                        }
                        if cpu {
                            Duration::from_nanos(thread_cpu_ns().unwrap_or(0) - cpu0)
                        } else {
                            wall.elapsed()
                        }
                    });
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, virtual_time, cancel, real_time);
criterion_main!(benches);
