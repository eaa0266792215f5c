//! The requests in flight of one worker, and their `--timeout`: one timer per worker, not one
//! per request. The worker sweeps its table when the earliest deadline it armed for has passed,
//! ends each request past its deadline by setting its [`Expiry`] and waking it, and arms again
//! for the earliest deadline left. Requests start in order and share one timeout, so a new
//! request's deadline is never earlier than one already armed for, and the timer is only
//! touched when a sweep runs (some once per `--timeout`) or when the table was empty of
//! deadlines. tokio's `timeout` per request registered a timer entry on the request's first
//! poll and removed it on drop, each time under the timer's lock.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::task::AtomicWaker;
use tokio::time::{sleep_until, Instant, Sleep};

use crate::engine::pacer::Tick;
use crate::model::outcome::{ErrorType, Outcome};
use crate::net::trace::Started;

/// A request in flight: its tick, route, send time and trace context.
#[derive(Debug, Clone, Copy)]
pub(super) struct Flight {
    pub(super) tick: Tick,
    pub(super) route: usize,
    pub(super) started: Instant,
    pub(super) trace: Started,
}

impl Flight {
    /// The outcome of this request ended at `end` with `result`.
    pub(super) fn outcome(&self, end: Instant, result: Result<u16, ErrorType>, class: Option<u16>) -> Outcome {
        // From the intended time when sent late (coordinated omission), from the send when early.
        let intended = self.tick.due.unwrap_or(self.started);
        Outcome {
            route: self.route,
            status: result.ok(),
            error: result.err().or_else(|| result.ok().and_then(ErrorType::from_status)),
            latency: end.saturating_duration_since(intended).max(end - self.started),
            service_time: end - self.started,
            class,
        }
    }
}

/// How a request learns that the sweep ended it: set, then woken.
#[derive(Debug, Default)]
pub(super) struct Expiry {
    expired: AtomicBool,
    waker: AtomicWaker,
}

/// `request`'s output, or `None` once `expiry` is set. The request is polled first, so one
/// that completes in the poll that would end it still counts, as with tokio's `timeout`.
/// `request` is `Unpin` (boxed, for a request), so that it is held once: pinning it inside an
/// `async fn` keeps room for it twice.
pub(super) fn unless_expired<'a, F: Future + Unpin + 'a>(
    expiry: &'a Expiry,
    mut request: F,
) -> impl Future<Output = Option<F::Output>> + 'a {
    poll_fn(move |cx| {
        if let Poll::Ready(out) = Pin::new(&mut request).poll(cx) {
            return Poll::Ready(Some(out));
        }
        expiry.waker.register(cx.waker());
        if expiry.expired.load(Ordering::Acquire) {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    })
}

/// The requests in flight, by key (keys are reused, and never more than were in flight at
/// once), with one [`Expiry`] per key.
#[derive(Debug)]
pub(super) struct Flights {
    slots: Vec<Option<Flight>>,
    expiries: Vec<Arc<Expiry>>,
    free: Vec<usize>,
    timeout: Duration,
    /// When the next sweep is due: no later than the earliest deadline in flight.
    sweep: Option<Instant>,
    /// The one timer, and the instant it is armed for.
    timer: Pin<Box<Sleep>>,
    armed: Option<Instant>,
}

impl Flights {
    /// An empty table for requests that each get `timeout`.
    pub(super) fn new(timeout: Duration) -> Self {
        let timer = Box::pin(sleep_until(Instant::now()));
        Flights { slots: Vec::new(), expiries: Vec::new(), free: Vec::new(), timeout, sweep: None, timer, armed: None }
    }

    /// Take a key for `flight`; its request watches the [`Expiry`] returned.
    pub(super) fn start(&mut self, flight: Flight) -> (usize, Arc<Expiry>) {
        self.sweep.get_or_insert(flight.started + self.timeout);
        let key = match self.free.pop() {
            Some(key) => {
                self.slots[key] = Some(flight);
                key
            }
            None => {
                self.slots.push(Some(flight));
                self.expiries.push(Arc::default());
                self.slots.len() - 1
            }
        };
        (key, self.expiries[key].clone())
    }

    /// Free `key`, whose request ended.
    pub(super) fn end(&mut self, key: usize) -> Flight {
        let expiry = &self.expiries[key];
        expiry.expired.store(false, Ordering::Relaxed);
        // The waker keeps the ended request's task allocated; let it go.
        drop(expiry.waker.take());
        self.free.push(key);
        self.slots[key].take().expect("a request ends once")
    }

    /// Every request in flight with its key.
    pub(super) fn in_flight(&self) -> Vec<(usize, Flight)> {
        self.slots.iter().enumerate().filter_map(|(key, f)| Some((key, (*f)?))).collect()
    }

    /// Wait for the next sweep and run it; never ready while no request is in flight. Dropped
    /// before then, it leaves the timer armed for the next call.
    pub(super) async fn swept(&mut self) {
        let Some(at) = self.sweep else { return std::future::pending().await };
        if self.armed != Some(at) {
            self.timer.as_mut().reset(at);
            self.armed = Some(at);
        }
        self.timer.as_mut().await;
        self.sweep(Instant::now());
    }

    /// End every request whose deadline is at or before `now`, and set the next sweep for the
    /// earliest deadline left.
    fn sweep(&mut self, now: Instant) {
        let mut next = None::<Instant>;
        for (flight, expiry) in self.slots.iter().zip(&self.expiries) {
            let Some(flight) = flight else { continue };
            let deadline = flight.started + self.timeout;
            if deadline <= now {
                if !expiry.expired.swap(true, Ordering::Release) {
                    expiry.waker.wake();
                }
            } else {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
            }
        }
        self.sweep = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flight(index: u64) -> Flight {
        let tick = Tick { index, due: None, stage: 0, warmup: false };
        Flight { tick, route: 0, started: Instant::now(), trace: crate::net::trace::Tracer::default().start() }
    }

    #[tokio::test(start_paused = true)]
    async fn each_request_ends_at_its_own_deadline_and_only_then() {
        let timeout = Duration::from_secs(5);
        let start = Instant::now();
        let mut flights = Flights::new(timeout);
        let (_, first) = flights.start(flight(0));
        tokio::time::advance(Duration::from_millis(300)).await;
        let (_, second) = flights.start(flight(1));
        let (key, done) = flights.start(flight(2));
        // A request that completes is not ended by the sweep, whatever its deadline.
        assert_eq!(unless_expired(&done, Box::pin(async { 7 })).await, Some(7));
        flights.end(key);
        let mut first = std::pin::pin!(unless_expired(&first, std::future::pending::<()>()));
        let mut second = std::pin::pin!(unless_expired(&second, std::future::pending::<()>()));
        for (ended, expiry) in
            [(&mut first, start + timeout), (&mut second, start + timeout + Duration::from_millis(300))]
        {
            loop {
                tokio::select! {
                    biased;
                    out = ended.as_mut() => break assert_eq!(out, None),
                    () = flights.swept() => {}
                }
            }
            // Tokio's timer fires on its first millisecond at or after the deadline.
            assert!(
                (expiry..expiry + Duration::from_millis(2)).contains(&Instant::now()),
                "{:?}",
                Instant::now() - start
            );
        }
    }
}
