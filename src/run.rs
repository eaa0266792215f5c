//! One run, start to end: bind /metrics, start the workers, stop them on time or on a signal,
//! then report.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{interval_at, sleep_until, Instant};

use crate::client::Client;
use crate::cluster;
use crate::config::{Format, Load, Plan};
use crate::metrics::{self, Metrics};
use crate::pacer::{share, Pacer};
use crate::recorder::{Recorder, StageStats, Stats};
use crate::report::{self, Progress, Split, Summary};
use crate::stages::Schedule;
use crate::worker::{self, Shared, Stop};

/// A failure that is not the target's fault: exit 1.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The metrics port could not be bound.
    #[error("cannot serve metrics on {addr} (--metrics-addr): {source}")]
    MetricsBind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `--wait-for` never answered 2xx.
    #[error("--wait-for {url} did not answer 2xx within --wait-timeout {timeout:?}")]
    WaitFor {
        /// The URL.
        url: String,
        /// The bound.
        timeout: Duration,
    },
    /// The summary file could not be written.
    #[error("cannot write --summary-file {path}: {source}")]
    SummaryFile {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Run `plan` until its schedule ends or `shutdown` resolves; print and return the summary.
/// Whatever the outcome, the mesh sidecar is told to quit at the end.
pub async fn run(plan: Plan, shutdown: impl Future<Output = ()>) -> Result<Summary, RunError> {
    run_with(plan, shutdown, |_| {}).await
}

/// [`run`], letting `finish` add figures and verdicts to the summary before it is judged and printed.
pub async fn run_with(
    plan: Plan,
    shutdown: impl Future<Output = ()>,
    finish: impl FnOnce(&mut Summary),
) -> Result<Summary, RunError> {
    let result = run_inner(&plan, shutdown, finish).await;
    cluster::quit_sidecar(&plan.mesh, plan.in_pod).await;
    result
}

async fn run_inner(
    plan: &Plan,
    shutdown: impl Future<Output = ()>,
    finish: impl FnOnce(&mut Summary),
) -> Result<Summary, RunError> {
    // Shared, so the gate, the send window and the linger can each wait on the same signal.
    let shutdown = shutdown.shared();
    let labels = HashMap::from([("shard".to_string(), plan.shard.index.to_string())]);
    let metrics = Metrics::new(&plan.routes, labels);
    metrics.run_info(&plan.run_id);
    let server = match plan.metrics_addr {
        Some(addr) => Some(MetricsServer::start(addr, &metrics).await?),
        None => None,
    };
    let ready = tokio::select! {
        ready = cluster::wait_for(plan) => Some(ready),
        _ = shutdown.clone() => None,
    };
    let sent = match ready {
        Some(true) => send_all(plan, &metrics, shutdown.clone()).await,
        Some(false) => {
            MetricsServer::stop(server).await;
            let url = plan.wait_for.as_ref().map(ToString::to_string).unwrap_or_default();
            return Err(RunError::WaitFor { url, timeout: plan.wait_timeout });
        }
        // A signal while waiting: nothing was sent; report that and end.
        None => Sent { interrupted: true, ..Sent::default() },
    };
    let interrupted = sent.interrupted;
    let mut summary = sent.summary(plan);
    summary.shard = (plan.shard.count > 1).then_some(plan.shard);
    summary.thresholds = plan.thresholds.iter().map(|t| t.check(&summary)).collect();
    if let Some((text, expected)) = &plan.expect_split {
        let split = Split::test(text, expected, &summary.classes);
        summary.thresholds.push(split.verdict());
        summary.split = Some(split);
    }
    finish(&mut summary);
    summary.passed = summary.thresholds.iter().all(|t| t.passed);
    print!("{}", summary.render(plan.output));
    report::write_termination_log(&summary.verdict());
    let written = match &plan.summary_file {
        Some(path) => std::fs::write(path, summary.render(Format::Json))
            .map_err(|source| RunError::SummaryFile { path: path.display().to_string(), source }),
        None => Ok(()),
    };
    cluster::push(plan, metrics.render()).await;
    if server.is_some() && !interrupted && !plan.linger.is_zero() {
        tracing::info!(linger = ?plan.linger, "serving final metrics until the last scrape");
        tokio::select! {
            _ = tokio::time::sleep(plan.linger) => {}
            _ = shutdown => {}
        }
    }
    MetricsServer::stop(server).await;
    written.map(|()| summary)
}

/// The /metrics endpoint of one run, stopped by the run.
pub(crate) struct MetricsServer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Bind before any request is sent, so a taken port fails the run up front.
    pub(crate) async fn start(addr: SocketAddr, metrics: &Metrics) -> Result<Self, RunError> {
        let listener = metrics::bind(addr).await.map_err(|source| RunError::MetricsBind { addr, source })?;
        tracing::info!(addr = %listener.local_addr().unwrap_or(addr), "serving /metrics");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(metrics::serve(listener, metrics::router(metrics.clone()), async move {
            let _ = stopped.await;
        }));
        Ok(MetricsServer { stop, task })
    }

    pub(crate) async fn stop(server: Option<Self>) {
        if let Some(s) = server {
            let _ = s.stop.send(());
            let _ = s.task.await;
        }
    }
}

/// What one send window produced.
#[derive(Debug, Default)]
pub(crate) struct Sent {
    /// The measured figures (warm-up left out).
    pub(crate) stats: Stats,
    /// The whole sending window, warm-up included.
    pub(crate) window: Duration,
    /// Whether a signal ended it.
    pub(crate) interrupted: bool,
    /// The warm-up row and one row per stage; empty without stages or warm-up.
    rows: Vec<StageStats>,
    /// The rate over time; `None` for closed loop.
    schedule: Option<Arc<Schedule>>,
}

impl Sent {
    /// The summary of the measured part of the window, with the per-stage table; thresholds
    /// are the caller's.
    pub(crate) fn summary(&self, plan: &Plan) -> Summary {
        let measured = self.window.saturating_sub(plan.warmup);
        let target = match (&plan.stages, &self.schedule) {
            (Some(_), Some(s)) if !measured.is_zero() => {
                let (from, to) = (plan.warmup.as_secs_f64(), self.window.as_secs_f64());
                Some(((s.integral(to) - s.integral(from)) / (to - from) * 1000.0).round() / 1000.0)
            }
            _ => plan.load.rate(),
        };
        let mut summary = Summary::new(&self.stats, target, measured, &plan.routes);
        summary.interrupted = self.interrupted;
        (summary.warmup, summary.stages) =
            report::stage_table(self.schedule.as_deref(), plan.stages.as_deref(), plan.warmup, self.window, &self.rows);
        summary
    }
}

/// Start one worker per core on the plan's schedule and wait for them; returns the merged stats,
/// the sending window and whether a signal ended it.
pub(crate) async fn send_all(plan: &Plan, metrics: &Metrics, shutdown: impl Future<Output = ()>) -> Sent {
    let rate = plan.load.rate();
    metrics.target_rps.set(rate.unwrap_or(0.0));
    let schedule = match &plan.stages {
        Some(stages) => Some(Arc::new(Schedule::staged(stages))),
        None => rate.map(|r| Arc::new(Schedule::flat(r))),
    };
    let rows = plan.stages.as_ref().map_or(usize::from(!plan.warmup.is_zero()), Vec::len);
    let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get());
    let slots = match plan.load {
        Load::Open { .. } => plan.max_in_flight.get(),
        Load::Closed { concurrency } => concurrency.get(),
    };
    let workers = parallelism.min(slots);
    let shared = Arc::new(Shared {
        client: Client::new(&plan.routes, &plan.client),
        recorder: Recorder::with_stages(workers, rows),
        metrics: metrics.clone(),
        routes: plan.routes.clone(),
        login: plan.login,
        wheel: worker::wheel(&plan.routes.iter().map(|r| r.weight).collect::<Vec<_>>()),
        timeout: plan.timeout,
    });
    let (stop, stopped) = watch::channel(Stop::Running);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for id in 0..workers {
        let mut pacer = Pacer::new(start, rate, id, workers, plan.requests, plan.duration).warmup(plan.warmup);
        if let (Some(schedule), Some(_)) = (&schedule, &plan.stages) {
            pacer = pacer.shaped(schedule.clone());
        }
        let cap = share(slots as u64, id, workers) as usize;
        tasks.spawn(worker::work(shared.clone(), id, pacer, cap, stopped.clone()));
    }
    let staged = schedule.clone().filter(|_| plan.stages.is_some());
    let progress = plan
        .progress_interval
        .map(|every| tokio::spawn(progress(shared.clone(), start, every, plan.log_format, rate, staged.clone())));
    let follow = (staged.is_some() || !plan.warmup.is_zero())
        .then(|| tokio::spawn(follow(metrics.clone(), start, staged.clone(), plan.warmup)));
    let (window, interrupted) = supervise(&mut tasks, &stop, start, plan, shutdown).await;
    // An open-loop schedule that ran to its end covers the whole duration, though its last
    // request was due a little before: the rate over the window is then the rate asked for.
    let window = match (plan.duration, interrupted, plan.requests, rate) {
        (Some(duration), false, None, Some(_)) => duration,
        _ => window,
    };
    for task in [progress, follow].into_iter().flatten() {
        task.abort();
        let _ = task.await;
    }
    Sent { stats: shared.recorder.total(), window, interrupted, rows: shared.recorder.stages(), schedule }
}

/// How often `trafficgen_target_rps` follows a ramp: far finer than any scrape interval.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// Keep `trafficgen_target_rps` on the stage's rate and `trafficgen_warmup` at 1 until the
/// warm-up ends.
async fn follow(metrics: Metrics, start: Instant, schedule: Option<Arc<Schedule>>, warmup: Duration) {
    let mut ticker = tokio::time::interval_at(start, FOLLOW_EVERY);
    loop {
        let elapsed = ticker.tick().await - start;
        metrics.warmup.set(i64::from(elapsed < warmup));
        if let Some(s) = &schedule {
            let secs = elapsed.as_secs_f64();
            metrics.target_rps.set(s.rate_at(secs));
            metrics.stage.set(s.stage_at(secs) as i64 + 1);
        }
    }
}

/// Wait for the workers, ending the window at the deadline or on `shutdown`; after a signal,
/// abort what is still in flight once `--drain-timeout` has passed.
/// Returns the sending window and whether a signal cut it short.
async fn supervise(
    tasks: &mut JoinSet<()>,
    stop: &watch::Sender<Stop>,
    start: Instant,
    plan: &Plan,
    shutdown: impl Future<Output = ()>,
) -> (Duration, bool) {
    tokio::pin!(shutdown);
    let deadline = plan.duration.map(|d| start + d);
    let mut ended: Option<Instant> = None;
    let mut abort_at: Option<Instant> = None;
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Some(_) => {}
                None => break,
            },
            _ = sleep_until(deadline.unwrap_or(start)), if deadline.is_some() && ended.is_none() => {
                ended = deadline;
                let _ = stop.send(Stop::Done);
            }
            _ = &mut shutdown, if abort_at.is_none() => {
                let now = Instant::now();
                ended.get_or_insert(now);
                abort_at = Some(now + plan.drain_timeout);
                tracing::info!(drain_timeout = ?plan.drain_timeout, "signal received: stopping, draining in-flight requests");
                let _ = stop.send(Stop::Signal);
            }
            _ = sleep_until(abort_at.unwrap_or(start)), if abort_at.is_some_and(|_| *stop.borrow() == Stop::Signal) => {
                let _ = stop.send(Stop::Abort);
            }
        }
    }
    let end = ended.unwrap_or_else(Instant::now);
    (end - start, abort_at.is_some())
}

async fn progress(
    shared: Arc<Shared>,
    start: Instant,
    every: Duration,
    format: Format,
    target: Option<f64>,
    schedule: Option<Arc<Schedule>>,
) {
    let mut ticker = interval_at(start + every, every);
    let mut state = Progress { target, ..Progress::default() };
    let mut classes = BTreeMap::new();
    let mut last = start;
    loop {
        let now = ticker.tick().await;
        let window = shared.recorder.take_window();
        for (key, n) in &window.counts.classes {
            *classes.entry(*key).or_insert(0) += n;
        }
        state.sent += window.counts.requests;
        state.elapsed = now - start;
        if let Some(s) = &schedule {
            state.target = Some((s.rate_at(state.elapsed.as_secs_f64()) * 10.0).round() / 10.0);
        }
        state.span = now - last;
        state.in_flight = shared.metrics.in_flight.get();
        state.classes = report::classes(&classes, &shared.routes);
        eprintln!("{}", state.line(&window, format));
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn target_rps_follows_the_stages_and_the_warmup_gauge_ends() {
        let metrics = Metrics::new(&[], HashMap::new());
        let schedule = Arc::new(Schedule::staged(&crate::stages::parse("10s:0->100, 10s:100").unwrap()));
        let start = Instant::now();
        let task = tokio::spawn(follow(metrics.clone(), start, Some(schedule), Duration::from_secs(5)));
        let mut seen = Vec::new();
        for at in [2, 7, 15] {
            sleep_until(start + Duration::from_millis(at * 1000 + 100)).await;
            seen.push((metrics.target_rps.get(), metrics.stage.get(), metrics.warmup.get()));
        }
        task.abort();
        assert_eq!(seen, [(20.0, 1, 1), (70.0, 1, 0), (100.0, 2, 0)]);
    }
}
