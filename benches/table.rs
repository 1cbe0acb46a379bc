//! Cost of finding a mock and counting its hits, from one thread and from every core at once.
//!
//! - `lookup`: `Store::lookup` (shard read lock + `Arc` clone) against `LocalCache::with_live` (a
//!   worker's private direct-mapped cache in front of the store), for one hot mock and for
//!   lookups spread uniformly over 100k mocks.
//! - `hits`: one shared `AtomicU64` against the per-worker, cache-line-padded stripes of
//!   `Mock::record_hit`.
//!
//! Multi-threaded cases use `iter_custom`: every thread does `iters` operations after a common
//! start, and the sample is the wall time from the first thread's start to the last thread's end.
//! The throughput is `threads` operations per iteration, so criterion reports the aggregate rate.
//!
//! Run: `cargo bench --bench table`

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mockd::Clock;
use mockd::api::{CreateLimits, parse_create};
use mockd::mock::cache::LocalCache;
use mockd::mock::id::MockId;
use mockd::mock::store::Store;
use mockd::mock::{Mock, Owner};

/// Mocks in the store for the uniform case.
const MOCKS: usize = 100_000;
/// Length of the pre-generated random lookup sequence (a power of two).
const SEQUENCE: usize = 1 << 18;
const SEED: u64 = 0x6d6f_636b_6462_656e;

/// Threads for the contended cases: every core, and at least two.
fn contended_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2)
}

/// Runs `work(thread_index, iters)` on `threads` threads released together; returns the wall time
/// from the earliest start to the latest end. Thread start-up is outside the measurement.
fn run_threads<F>(threads: usize, iters: u64, work: F) -> Duration
where
    F: Fn(usize, u64) + Sync,
{
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                let work = &work;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    work(t, iters);
                    (start, Instant::now())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let start = spans.iter().map(|s| s.0).min().unwrap();
    let end = spans.iter().map(|s| s.1).max().unwrap();
    end - start
}

/// A store sized for `workers` with `count` identical small mocks; returns it with their ids.
fn store_with_mocks(workers: usize, count: usize) -> (Store, Vec<MockId>) {
    let body = br#"{"status_code": 202, "body": "{\"id\":1,\"ok\":true}", "ttl_seconds": 86400}"#;
    let spec = parse_create(body, &CreateLimits::default()).expect("valid mock definition");
    let store = Store::new(Clock::system(), workers, count + 1, usize::MAX / 2);
    let owner = Owner::of_key(b"tk_bench");
    let ids = (0..count)
        .map(|_| {
            store
                .create(owner, spec.clone())
                .expect("store has room")
                .id
        })
        .collect();
    (store, ids)
}

/// `SEQUENCE` ids drawn uniformly (seeded) from `ids`.
fn random_sequence(ids: &[MockId]) -> Vec<MockId> {
    let mut rng = fastrand::Rng::with_seed(SEED);
    (0..SEQUENCE).map(|_| ids[rng.usize(..ids.len())]).collect()
}

fn bench_lookup(c: &mut Criterion) {
    let n = contended_threads();
    let (store, ids) = store_with_mocks(n, MOCKS);
    let hot = ids[0];
    let uniform = random_sequence(&ids);
    let now_ms = store.clock().now_ms();
    assert!(store.lookup(hot).is_some_and(|m| m.is_live(now_ms)));

    let mut group = c.benchmark_group("lookup");
    for threads in [1, n] {
        group.throughput(Throughput::Elements(threads as u64));

        group.bench_function(BenchmarkId::new("store_hot", threads), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |_, iters| {
                    for _ in 0..iters {
                        black_box(store.lookup(black_box(hot)));
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("store_uniform_100k", threads), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |t, iters| {
                    let start = t * (SEQUENCE / threads);
                    for i in start..start + iters as usize {
                        black_box(store.lookup(uniform[i & (SEQUENCE - 1)]));
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("cache_hot", threads), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |_, iters| {
                    let mut cache = LocalCache::default();
                    for _ in 0..iters {
                        black_box(
                            cache.with_live(&store, black_box(hot), now_ms, |m| m.status_code),
                        );
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("cache_uniform_100k", threads), |b| {
            b.iter_custom(|iters| {
                run_threads(threads, iters, |t, iters| {
                    let mut cache = LocalCache::default();
                    let start = t * (SEQUENCE / threads);
                    for i in start..start + iters as usize {
                        black_box(cache.with_live(
                            &store,
                            uniform[i & (SEQUENCE - 1)],
                            now_ms,
                            |m| m.status_code,
                        ));
                    }
                })
            })
        });
    }
    group.finish();
}

/// A counter alone on its cache line, so only the threads that share it contend for it.
#[repr(align(64))]
struct Padded(AtomicU64);

fn bench_hits(c: &mut Criterion) {
    let n = contended_threads();
    // Stripes are sized from the worker count, as the server does.
    let (store, ids) = store_with_mocks(n, 1);
    let mock: Arc<Mock> = store.lookup(ids[0]).expect("mock stored");
    let shared = Padded(AtomicU64::new(0));

    let mut group = c.benchmark_group("hits");
    for threads in [1, n] {
        group.throughput(Throughput::Elements(threads as u64));

        group.bench_function(BenchmarkId::new("shared_atomic", threads), |b| {
            b.iter_custom(|iters| {
                let before = shared.0.load(Ordering::Relaxed);
                let elapsed = run_threads(threads, iters, |_, iters| {
                    let counter = black_box(&shared.0);
                    for _ in 0..iters {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
                assert_eq!(
                    shared.0.load(Ordering::Relaxed) - before,
                    iters * threads as u64
                );
                elapsed
            })
        });
        group.bench_function(BenchmarkId::new("striped_record_hit", threads), |b| {
            b.iter_custom(|iters| {
                let before = mock.hit_count();
                let elapsed = run_threads(threads, iters, |worker, iters| {
                    let mock = black_box(&*mock);
                    for _ in 0..iters {
                        mock.record_hit(black_box(worker));
                    }
                });
                assert_eq!(mock.hit_count() - before, iters * threads as u64);
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_lookup, bench_hits);
criterion_main!(benches);
