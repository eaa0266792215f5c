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
use crate::html;
use crate::metrics::{self, Metrics};
use crate::otlp::{self, Exporter, Resource};
use crate::pacer::{share, Pacer};
use crate::recorder::{Recorder, Stats};
use crate::report::{self, Progress, Spans, Split, Summary};
use crate::timeline::Point;
use crate::trace::{LogLimit, Tracer};
use crate::worker::{self, Shared, Stop};

mod seconds;

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
    /// The HTML report could not be written.
    #[error("--report: {0}")]
    Report(#[from] html::ReportError),
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
        None => Sent {
            stats: Stats::default(),
            window: Duration::ZERO,
            interrupted: true,
            timeline: Vec::new(),
            spans: None,
        },
    };
    let interrupted = sent.interrupted;
    let mut summary = Summary::new(&sent.stats, plan.load.rate(), sent.window, &plan.routes);
    summary.timeline = sent.timeline;
    summary.spans = sent.spans.map(|c| Spans { exported: c.exported, dropped: c.dropped });
    summary.interrupted = interrupted;
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
    let written = write_files(plan, &summary);
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

/// `--summary-file` and `--report`, when asked for.
fn write_files(plan: &Plan, summary: &Summary) -> Result<(), RunError> {
    if let Some(path) = &plan.summary_file {
        std::fs::write(path, summary.render(Format::Json))
            .map_err(|source| RunError::SummaryFile { path: path.display().to_string(), source })?;
    }
    if let Some(path) = &plan.report {
        html::write_summary(summary, &plan.run_id, path)?;
    }
    Ok(())
}

/// The /metrics endpoint of one run, stopped by the run.
struct MetricsServer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Bind before any request is sent, so a taken port fails the run up front.
    async fn start(addr: SocketAddr, metrics: &Metrics) -> Result<Self, RunError> {
        let listener = metrics::bind(addr).await.map_err(|source| RunError::MetricsBind { addr, source })?;
        tracing::info!(addr = %listener.local_addr().unwrap_or(addr), "serving /metrics");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(metrics::serve(listener, metrics::router(metrics.clone()), async move {
            let _ = stopped.await;
        }));
        Ok(MetricsServer { stop, task })
    }

    async fn stop(server: Option<Self>) {
        if let Some(s) = server {
            let _ = s.stop.send(());
            let _ = s.task.await;
        }
    }
}

/// Start one worker per core on the plan's schedule and wait for them; returns the merged stats,
/// the sending window, whether a signal ended it, the timeline and the spans' fate.
async fn send_all(plan: &Plan, metrics: &Metrics, shutdown: impl Future<Output = ()>) -> Sent {
    let rate = plan.load.rate();
    metrics.target_rps.set(rate.unwrap_or(0.0));
    let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get());
    let slots = match plan.load {
        Load::Open { .. } => plan.max_in_flight.get(),
        Load::Closed { concurrency } => concurrency.get(),
    };
    let workers = parallelism.min(slots);
    let (exporter, spans) = match &plan.otlp_endpoint {
        Some(endpoint) => {
            let (exporter, sink) = Exporter::start(endpoint.clone(), resource(plan));
            (Some(exporter), Some(sink))
        }
        None => (None, None),
    };
    let shared = Arc::new(Shared {
        client: Client::new(&plan.routes, &plan.client),
        recorder: Recorder::new(workers),
        metrics: metrics.clone(),
        routes: plan.routes.clone(),
        login: plan.login,
        wheel: worker::wheel(&plan.routes.iter().map(|r| r.weight).collect::<Vec<_>>()),
        timeout: plan.timeout,
        trace: Tracer { tracing: plan.tracing, spans, failures: LogLimit::default() },
    });
    let (stop, stopped) = watch::channel(Stop::Running);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for id in 0..workers {
        let pacer = Pacer::new(start, rate, id, workers, plan.requests, plan.duration);
        let cap = share(slots as u64, id, workers) as usize;
        tasks.spawn(worker::work(shared.clone(), id, pacer, cap, stopped.clone()));
    }
    let progress =
        plan.progress_interval.map(|every| tokio::spawn(progress(shared.clone(), start, every, plan.log_format, rate)));
    let (seconds_done, seconds_stopped) = oneshot::channel();
    let seconds = tokio::spawn(seconds::record(shared.clone(), start, seconds_stopped));
    let (window, interrupted) = supervise(&mut tasks, &stop, start, plan, shutdown).await;
    if let Some(p) = progress {
        p.abort();
    }
    let _ = seconds_done.send(());
    let timeline = seconds.await.map(|t| t.finish(rate)).unwrap_or_default();
    let spans = match exporter {
        Some(e) => Some(e.finish().await),
        None => None,
    };
    Sent { stats: shared.recorder.total(), window, interrupted, timeline, spans }
}

/// What sending came to.
struct Sent {
    stats: Stats,
    window: Duration,
    interrupted: bool,
    timeline: Vec<Point>,
    spans: Option<otlp::Counts>,
}

/// The OTLP resource of this run's spans.
fn resource(plan: &Plan) -> Resource {
    let routes = plan.routes.iter().map(|r| (r.method.to_string(), r.uri.to_string())).collect();
    Resource { service: "trafficgen".into(), run_id: plan.run_id.clone(), routes }
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

async fn progress(shared: Arc<Shared>, start: Instant, every: Duration, format: Format, target: Option<f64>) {
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
        state.span = now - last;
        state.in_flight = shared.metrics.in_flight.get();
        state.classes = report::classes(&classes, &shared.routes);
        eprintln!("{}", state.line(&window, format));
        last = now;
    }
}
