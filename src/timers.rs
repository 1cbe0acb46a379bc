//! A worker's delay timers: one timing wheel of wakers, driven by one tokio sleep.
//!
//! A delayed response does not get a task or a tokio timer of its own. The connection that holds it
//! awaits a [`Delay`], which parks the connection's waker in this worker's wheel (a slab slot, no
//! allocation once warm). One driver task per worker sleeps until the wheel's next deadline, polls
//! the wheel and wakes what is due. Everything here is single-threaded (`Rc`, `RefCell`): each
//! worker has its own.
//!
//! Time is microseconds since the worker's timers were made (`now_us`), monotonic, so a delay
//! ends when it is due rather than at the next millisecond boundary. tokio's own timer (which
//! wakes the driver) has millisecond ticks and, on a busy worker, is only looked at between
//! batches of I/O events; so every connection batch also calls [`Timers::fire_due`], which
//! fires what is due for the cost of one comparison when nothing is.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::wheel::{Key, Wheel};

/// A worker's timers.
pub struct Timers {
    wheel: RefCell<Wheel<Waker>>,
    origin: Instant,
    /// The deadline the driver is sleeping towards (`u64::MAX` when idle).
    driver_target: Cell<u64>,
    /// No entry is due before this (`u64::MAX` when empty); may be early, never late.
    next_due: Cell<u64>,
    driver_wake: Notify,
    /// Told the number of pending delays whenever it changes (the worker's metrics gauge).
    on_pending: Box<dyn Fn(usize)>,
}

impl Timers {
    /// New timers; time 0 is now.
    pub fn new() -> Rc<Timers> {
        Timers::with_gauge(|_| {})
    }

    /// New timers that report their pending count to `on_pending` as it changes.
    pub fn with_gauge(on_pending: impl Fn(usize) + 'static) -> Rc<Timers> {
        Rc::new(Timers {
            wheel: RefCell::new(Wheel::new(0)),
            origin: Instant::now(),
            driver_target: Cell::new(u64::MAX),
            next_due: Cell::new(u64::MAX),
            driver_wake: Notify::new(),
            on_pending: Box::new(on_pending),
        })
    }

    /// Microseconds since these timers were made.
    #[inline]
    pub fn now_us(&self) -> u64 {
        self.origin.elapsed().as_micros() as u64
    }

    /// A future that completes at `due_us`.
    pub fn delay_until(self: &Rc<Self>, due_us: u64) -> Delay {
        Delay {
            timers: Rc::clone(self),
            due_us,
            key: None,
        }
    }

    /// The instant `us` stands for.
    pub fn instant_at(&self, us: u64) -> Instant {
        self.origin + Duration::from_micros(us)
    }

    /// Fires every delay that is due now; one comparison when none is pending or due.
    #[inline]
    pub fn fire_due(&self) {
        let next = self.next_due.get();
        // No clock read at all while nothing is pending (the common keep-alive case).
        if next != u64::MAX && next <= self.now_us() {
            self.fire_due_slow();
        }
    }

    #[inline(never)]
    fn fire_due_slow(&self) {
        let now = self.now_us();
        let mut wakers = Vec::new();
        let pending = {
            let mut wheel = self.wheel.borrow_mut();
            wheel.poll(now, |_, waker| wakers.push(waker));
            self.next_due.set(wheel.next_deadline().unwrap_or(u64::MAX));
            wheel.len()
        };
        (self.on_pending)(pending);
        for waker in wakers {
            waker.wake();
        }
    }

    /// Pending delays.
    pub fn pending(&self) -> usize {
        self.wheel.borrow().len()
    }

    /// Drives the wheel forever: run it as one task per worker.
    pub async fn drive(self: Rc<Self>) {
        loop {
            let next = self.wheel.borrow().next_deadline();
            match next {
                None => {
                    self.driver_target.set(u64::MAX);
                    self.driver_wake.notified().await;
                }
                Some(due) => {
                    self.driver_target.set(due);
                    let at = self.instant_at(due);
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = self.driver_wake.notified() => {}
                    }
                }
            }
            self.fire_due_slow();
        }
    }
}

/// Completes at its deadline; dropping it early removes its wheel entry.
pub struct Delay {
    timers: Rc<Timers>,
    due_us: u64,
    key: Option<Key>,
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let timers = Rc::clone(&self.timers);
        if timers.now_us() >= self.due_us {
            if let Some(key) = self.key.take() {
                let mut wheel = timers.wheel.borrow_mut();
                if wheel.remove(key).is_some() {
                    let pending = wheel.len();
                    drop(wheel);
                    (timers.on_pending)(pending);
                }
            }
            return Poll::Ready(());
        }
        let mut wheel = timers.wheel.borrow_mut();
        if let Some(key) = self.key.take() {
            // Still parked (the wheel fires an entry only once its time has come). A spurious poll
            // with the same waker changes nothing; a new waker replaces the old one.
            match wheel.remove(key) {
                Some(old) if old.will_wake(cx.waker()) => {
                    self.key = wheel.insert(self.due_us, old).ok();
                    return if self.key.is_some() {
                        Poll::Pending
                    } else {
                        Poll::Ready(())
                    };
                }
                _ => {}
            }
        }
        match wheel.insert(self.due_us, cx.waker().clone()) {
            Ok(key) => {
                self.key = Some(key);
                let pending = wheel.len();
                drop(wheel);
                (timers.on_pending)(pending);
                if self.due_us < timers.next_due.get() {
                    timers.next_due.set(self.due_us);
                }
                if self.due_us < timers.driver_target.get() {
                    timers.driver_target.set(self.due_us);
                    timers.driver_wake.notify_one();
                }
                Poll::Pending
            }
            Err(_) => {
                self.key = None;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Delay {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            if let Ok(mut wheel) = self.timers.wheel.try_borrow_mut() {
                if wheel.remove(key).is_some() {
                    let pending = wheel.len();
                    drop(wheel);
                    (self.timers.on_pending)(pending);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, f)
    }

    #[test]
    fn delays_complete_in_deadline_order_and_not_early() {
        block_on(async {
            let gauge = Rc::new(Cell::new(usize::MAX));
            let timers = {
                let gauge = Rc::clone(&gauge);
                Timers::with_gauge(move |n| gauge.set(n))
            };
            tokio::task::spawn_local(Rc::clone(&timers).drive());
            let start = timers.now_us();
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut tasks = Vec::new();
            for (i, ms) in [30u64, 5, 15, 0].into_iter().enumerate() {
                let timers = Rc::clone(&timers);
                let order = Rc::clone(&order);
                tasks.push(tokio::task::spawn_local(async move {
                    timers.delay_until(start + ms * 1000).await;
                    assert!(timers.now_us() >= start + ms * 1000, "fired early");
                    order.borrow_mut().push(i);
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.borrow(), [3, 1, 2, 0]);
            assert_eq!(timers.pending(), 0);
            assert_eq!(
                gauge.get(),
                0,
                "the gauge follows entries removed on completion"
            );
        });
    }

    #[test]
    fn dropped_delay_leaves_no_entry() {
        block_on(async {
            let timers = Timers::new();
            tokio::task::spawn_local(Rc::clone(&timers).drive());
            let due = timers.now_us() + 10_000_000;
            let fut = timers.delay_until(due);
            let r = tokio::time::timeout(Duration::from_millis(5), fut).await;
            assert!(r.is_err());
            assert_eq!(timers.pending(), 0);
        });
    }
}
