//! Prometheus remote write (`--remote-write`): the registry `/metrics` serves, pushed as
//! remote write 1.0 at the start of sending, every `--remote-write-interval`, and once more when
//! the run's figures are final, so a short Job or a pod nothing can scrape still lands its series.
//! Once the final figures have landed, each series is ended with a staleness marker, as
//! Prometheus ends a scraped target's series when it goes: queries stop showing the run at its
//! end, not five minutes (the lookback) later.
//!
//! Nothing here touches the send loop: a ticker gathers the registry (as a scrape would) into a
//! bounded queue, and one task POSTs what is queued, retrying 5xx, 429 (after its `Retry-After`)
//! and unanswered pushes with backoff; other 4xx are not retried. What could not be sent is
//! counted (`trafficgen_remote_write_*`, the summary's `remote_write`) and never changes the
//! verdict.
//!
//! - `wire`: the registry as a snappy-compressed protobuf `WriteRequest`.
//! - `post`: one push, its headers and credentials, and whether a failure is worth a retry.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Uri};
use prometheus::{IntCounter, Registry};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::{interval_at, sleep_until, timeout, Instant, MissedTickBehavior};

use crate::net::client::ClientOptions;
use post::Failure;
use wire::Batch;

mod post;
mod wire;

/// Pushes waiting at most. When full the oldest is dropped: every push holds each series' whole
/// value, so the newest matters most.
const QUEUE: usize = 16;
/// How long one push may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a push is retried during the run before it is given up and counted failed.
const RETRY_FOR: Duration = Duration::from_secs(30);
/// The first pause between retries; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// The longest pause between retries, unless the receiver asks for longer with `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the end of the run waits for the last pushes: well inside a pod's 30 s grace period.
pub(crate) const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to push, validated.
#[derive(Debug, Clone)]
pub(crate) struct RemoteWrite {
    /// The receiver, e.g. `http://prometheus:9090/api/v1/write`.
    pub url: Uri,
    /// Time between pushes.
    pub interval: Duration,
    /// Labels each series gets unless it has them, sorted by name: what a scrape would add.
    pub labels: Vec<(String, String)>,
    /// Extra request headers (`X-Scope-OrgID` and the like).
    pub headers: HeaderMap,
    /// Credentials, read from their files at each push.
    pub auth: Auth,
    /// TLS and name pins: the run's.
    pub client: ClientOptions,
}

/// How the pusher proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer` with this file's text.
    Bearer(PathBuf),
    /// `Authorization: Basic` with these files' texts.
    Basic {
        /// The user name's file.
        username: PathBuf,
        /// The password's file.
        password: PathBuf,
    },
}

/// What the run's pushes came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Samples the receiver accepted.
    pub sent_samples: u64,
    /// Samples given up: refused, not accepted in time, or dropped from a full queue.
    pub failed_samples: u64,
    /// Pushes sent again after a failure.
    pub retries: u64,
}

/// `trafficgen_remote_write_*`, registered only when pushing.
#[derive(Debug, Clone)]
struct Counters {
    sent: IntCounter,
    failed: IntCounter,
    retries: IntCounter,
}

impl Counters {
    fn register(registry: &Registry) -> Counters {
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid counter");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        Counters {
            sent: counter("trafficgen_remote_write_samples_sent_total", "Samples the remote-write receiver accepted."),
            failed: counter(
                "trafficgen_remote_write_samples_failed_total",
                "Samples not remote-written: refused, not accepted in time, or dropped from a full queue.",
            ),
            retries: counter(
                "trafficgen_remote_write_retries_total",
                "Remote-write pushes sent again after a failure.",
            ),
        }
    }
}

/// What the ticker and the sending task share.
#[derive(Debug)]
struct Shared {
    rw: RemoteWrite,
    registry: Registry,
    counters: Counters,
    queue: Mutex<VecDeque<Batch>>,
    queued: Notify,
    /// The timestamp of the latest push, in ms.
    last_ms: AtomicI64,
}

impl Shared {
    /// Queue the registry as it is now, dropping the oldest push when the queue is full.
    fn offer(&self) {
        let at = self.stamp();
        let batch = wire::encode(&wire::write_request(&self.registry.gather(), &self.rw.labels, at));
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.len() >= QUEUE {
            if let Some(old) = queue.pop_front() {
                self.counters.failed.inc_by(old.samples);
                tracing::debug!(samples = old.samples, "remote-write queue full: oldest push dropped");
            }
        }
        queue.push_back(batch);
        drop(queue);
        self.queued.notify_one();
    }

    /// The time of a new push, in ms: strictly later than the push before, as Prometheus refuses
    /// a second value at the same millisecond, and the final push can follow a tick that closely.
    fn stamp(&self) -> i64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        let at = now.max(self.last_ms.load(Ordering::Relaxed) + 1);
        self.last_ms.store(at, Ordering::Relaxed);
        at
    }

    /// End every series with a staleness marker, after the final figures have landed. One try
    /// before `deadline`: if it fails, the series just end when Prometheus's lookback runs out.
    async fn end_series(&self, deadline: Instant) {
        let at = self.stamp();
        let batch = wire::encode(&wire::write_request(&self.registry.gather(), &self.rw.labels, at).ended(at));
        let left = deadline.saturating_duration_since(Instant::now());
        let cause = match timeout(left, post::post(&self.rw, batch.body)).await {
            Ok(Ok(())) => return,
            Ok(Err(failure)) => failure.cause().to_string(),
            Err(_) => format!("no answer within {left:?}"),
        };
        tracing::warn!(url = %self.rw.url, error = %cause, "the staleness markers were not remote-written: the run's series end in queries only when Prometheus's lookback (5 minutes by default) runs out");
    }

    /// Whether a push is queued.
    fn waiting(&self) -> bool {
        !self.queue.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    fn next(&self) -> Option<Batch> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }
}

/// The remote write of one run, owned and finished by the run.
#[derive(Debug)]
pub(crate) struct Pusher {
    shared: Arc<Shared>,
    ticker: JoinHandle<()>,
    sender: JoinHandle<Result<(), String>>,
    /// The end-of-run deadline, once the run has ended.
    finish: watch::Sender<Option<Instant>>,
}

impl Pusher {
    /// Register the counters in `registry`, queue a first push at once (every series at its
    /// starting value) and start pushing every interval.
    pub(crate) fn start(rw: RemoteWrite, registry: &Registry) -> Pusher {
        let counters = Counters::register(registry);
        let every = rw.interval;
        tracing::info!(url = %rw.url, interval = ?every, "remote-writing the metrics");
        let shared = Arc::new(Shared {
            rw,
            registry: registry.clone(),
            counters,
            queue: Mutex::default(),
            queued: Notify::new(),
            last_ms: AtomicI64::new(0),
        });
        shared.offer();
        let ticking = shared.clone();
        let ticker = tokio::spawn(async move {
            let mut ticks = interval_at(Instant::now() + every, every);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                ticking.offer();
            }
        });
        let (finish, finishing) = watch::channel(None);
        let sender = tokio::spawn(deliver(shared.clone(), finishing));
        Pusher { shared, ticker, sender, finish }
    }

    /// Push the final figures and wait up to [`FLUSH_TIMEOUT`] for every queued push, then end
    /// the series; a final push that failed is logged with its cause.
    pub(crate) async fn finish(self) -> Counts {
        self.ticker.abort();
        let _ = self.ticker.await;
        self.shared.offer();
        let deadline = Instant::now() + FLUSH_TIMEOUT;
        let _ = self.finish.send(Some(deadline));
        let url = &self.shared.rw.url;
        match self.sender.await {
            Ok(Ok(())) => {
                tracing::info!(%url, "remote-wrote the final metrics");
                self.shared.end_series(deadline).await;
            }
            Ok(Err(cause)) => {
                tracing::error!(%url, error = %cause, "the final remote write failed: the receiver lacks the run's final figures")
            }
            Err(e) => tracing::error!(%url, error = %e, "the remote-write task failed"),
        }
        let c = &self.shared.counters;
        Counts { sent_samples: c.sent.get(), failed_samples: c.failed.get(), retries: c.retries.get() }
    }
}

/// Send what is queued, oldest first, until the run has finished and the queue is empty;
/// returns the outcome of the last push (the final figures', at the end).
async fn deliver(shared: Arc<Shared>, mut finishing: watch::Receiver<Option<Instant>>) -> Result<(), String> {
    let mut last = Ok(());
    loop {
        let Some(batch) = shared.next() else {
            if finishing.borrow().is_some() {
                return last;
            }
            tokio::select! {
                _ = shared.queued.notified() => {}
                changed = finishing.changed() => if changed.is_err() { return last },
            }
            continue;
        };
        let failing = last.is_err();
        last = push(&shared, &batch, &mut finishing).await;
        let counters = &shared.counters;
        match &last {
            Ok(()) => {
                counters.sent.inc_by(batch.samples);
                if failing {
                    tracing::info!(url = %shared.rw.url, "remote write succeeds again");
                }
            }
            Err(cause) => {
                counters.failed.inc_by(batch.samples);
                // The first of a series of failures is logged; the counters keep the rest.
                if !failing {
                    tracing::warn!(url = %shared.rw.url, error = %cause, samples = batch.samples, "remote write failed; the samples are counted failed and later pushes go on");
                }
            }
        }
    }
}

/// One push, retried on a failure worth retrying until [`RETRY_FOR`] (or, once the run has
/// finished, its deadline) would pass.
async fn push(shared: &Shared, batch: &Batch, finishing: &mut watch::Receiver<Option<Instant>>) -> Result<(), String> {
    let give_up = Instant::now() + RETRY_FOR;
    let limit = |finishing: &watch::Receiver<Option<Instant>>| finishing.borrow().unwrap_or(give_up);
    let mut pause = MIN_BACKOFF;
    let mut cause = String::from("not sent before the end of the run");
    loop {
        let left = limit(finishing).saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(cause);
        }
        let failure = match timeout(POST_TIMEOUT.min(left), post::post(&shared.rw, batch.body.clone())).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(failure)) => failure,
            Err(_) => Failure::Retry { cause: format!("no answer within {:?}", POST_TIMEOUT.min(left)), after: None },
        };
        let Failure::Retry { cause: why, after } = failure else { return Err(failure.cause().to_string()) };
        // Once the run has ended, an older push that failed gives way to the final one, which
        // holds every series' final value: only that one is retried.
        if finishing.borrow().is_some() && shared.waiting() {
            return Err(format!("{why}; the final push goes first"));
        }
        let until = Instant::now() + after.unwrap_or(pause);
        if until > limit(finishing) {
            return Err(format!("{why}; no time left to retry"));
        }
        shared.counters.retries.inc();
        cause = why;
        pause = (pause * 2).min(MAX_BACKOFF);
        loop {
            tokio::select! {
                _ = sleep_until(until) => break,
                changed = finishing.changed() => if changed.is_err() || until > limit(finishing) || shared.waiting() {
                    return Err(format!("{cause}; the run has ended"));
                },
            }
        }
    }
}
