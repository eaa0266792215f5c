//! One run, start to end: bind /metrics, start the workers, stop them on time or on a signal,
//! then report.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::commands::html;
use crate::engine::cluster;
use crate::engine::send::{send_all, Sent};
use crate::input::config::{Format, Plan};
use crate::net::remote_write::{self, Pusher};
use crate::output::metrics::{self, Metrics};
use crate::output::report::{self, Beside, RemoteWritten, Summary};
use crate::verify;

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
    /// The HTML report could not be written.
    #[error("--report: {0}")]
    Report(#[from] html::ReportError),
}

/// Run `plan` until its schedule ends or `shutdown` resolves; print and return the summary.
/// Whatever the outcome, the mesh sidecar is told to quit at the end.
pub async fn run(plan: Plan, shutdown: impl Future<Output = ()>) -> Result<Summary, RunError> {
    run_with(plan, shutdown, |_| Beside::default()).await
}

/// [`run`], with `observe` telling, once the window has ended, what was seen beside the send loop
/// over its measured part (the demo's services): the summary reports it and is judged by it too.
pub(crate) async fn run_with(
    plan: Plan,
    shutdown: impl Future<Output = ()>,
    observe: impl FnOnce(Duration) -> Beside,
) -> Result<Summary, RunError> {
    let result = run_inner(&plan, shutdown, observe).await;
    cluster::quit_sidecar(plan.cluster().sidecar(), plan.cluster().in_pod()).await;
    result
}

async fn run_inner(
    plan: &Plan,
    shutdown: impl Future<Output = ()>,
    observe: impl FnOnce(Duration) -> Beside,
) -> Result<Summary, RunError> {
    // Shared, so the gate, the send window and the linger can each wait on the same signal.
    let shutdown = shutdown.shared();
    let (metrics, server) = MetricsServer::for_plan(plan).await?;
    let ready = tokio::select! {
        ready = cluster::wait_for(plan) => Some(ready),
        _ = shutdown.clone() => None,
    };
    let started_at = SystemTime::now();
    let (sent, pushed) = match ready {
        Some(true) => send_and_push(plan, &metrics, shutdown.clone()).await,
        Some(false) => {
            MetricsServer::stop(server).await;
            let url = plan.cluster().wait_for().map(ToString::to_string).unwrap_or_default();
            return Err(RunError::WaitFor { url, timeout: plan.cluster().wait_timeout() });
        }
        // A signal while waiting: nothing was sent; report that and end.
        None => (Sent::none_interrupted(), None),
    };
    let interrupted = sent.interrupted;
    let remote_write = pushed.map(|c| RemoteWritten {
        sent_samples: c.sent_samples,
        failed_samples: c.failed_samples,
        retries: c.retries,
    });
    let beside = Beside { remote_write, ..observe(sent.measured(plan)) };
    let mut summary = sent.summary(plan, started_at, beside);
    // Checks against Prometheus wait for the last scrape, so the summary waits for them.
    let verify = plan.verdict().verify().filter(|_| !interrupted);
    let mut written = verify.is_none().then(|| report_summary(plan, &summary));
    cluster::push(plan, metrics.render()).await;
    if server.is_some() && !interrupted && !plan.cluster().linger().is_zero() {
        tracing::info!(linger = ?plan.cluster().linger(), "serving final metrics until the last scrape");
        tokio::select! {
            _ = tokio::time::sleep(plan.cluster().linger()) => {}
            _ = shutdown.clone() => {}
        }
    }
    if let Some(spec) = verify {
        summary.add_verification(run_verify(spec, &summary, shutdown).await);
        written = Some(report_summary(plan, &summary));
    }
    MetricsServer::stop(server).await;
    written.expect("the summary is reported once").map(|()| summary)
}

/// The sending window, remote-written (when asked) from its start to its final figures: the
/// last push follows the drain, so it holds every response the summary counts.
async fn send_and_push(
    plan: &Plan,
    metrics: &Metrics,
    shutdown: impl Future<Output = ()>,
) -> (Sent, Option<remote_write::Counts>) {
    let pusher = plan.output().remote_write().cloned().map(|rw| Pusher::start(rw, &metrics.registry));
    let sent = send_all(plan, metrics, shutdown).await;
    let pushed = match pusher {
        Some(p) => Some(p.finish().await),
        None => None,
    };
    (sent, pushed)
}

/// Print and write the summary (and the HTML report); a file's error is returned, the
/// run still reports.
fn report_summary(plan: &Plan, summary: &Summary) -> Result<(), RunError> {
    print!("{}", summary.render(plan.output().format()));
    report::write_termination_log(&summary.verdict());
    if let Some(path) = plan.output().summary_file() {
        std::fs::write(path, summary.render(Format::Json))
            .map_err(|source| RunError::SummaryFile { path: path.display().to_string(), source })?;
    }
    if let Some(path) = plan.output().report() {
        html::write_summary(summary, plan.cluster().run_id(), path)?;
    }
    Ok(())
}

/// The run's checks over its own window; Prometheus unreachable or a rejected query is a failed check.
async fn run_verify(
    spec: &verify::Spec,
    summary: &Summary,
    shutdown: impl Future<Output = ()>,
) -> verify::Verification {
    let mut spec = spec.clone();
    let at = |s: f64| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s.max(0.0));
    spec.window = verify::Window::Fixed {
        start: at(summary.start_unix_s()),
        end: at(summary.end_unix_s()),
        run_id: Some(summary.run_id().to_string()),
    };
    tracing::info!("checking what Prometheus saw of the run");
    let outcome = tokio::select! {
        outcome = verify::verify(&spec) => outcome,
        _ = shutdown => Err(verify::PromError::Unreachable {
            url: String::new(),
            what: "interrupted by a signal".into(),
            query: String::new(),
        }),
    };
    outcome.unwrap_or_else(|e| verify::Verification::failed("Prometheus answers", e.to_string()))
}

/// The /metrics endpoint of one run, stopped by the run.
pub(crate) struct MetricsServer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// The plan's metrics (labelled with its shard, its run id set), served at `--metrics-addr`
    /// unless that is `off`.
    pub(crate) async fn for_plan(plan: &Plan) -> Result<(Metrics, Option<Self>), RunError> {
        let labels = HashMap::from([("shard".to_string(), plan.cluster().shard().index.to_string())]);
        let metrics = Metrics::new(plan.target().routes(), labels);
        metrics.run_info(plan.cluster().run_id());
        let server = match plan.output().metrics_addr() {
            Some(addr) => Some(MetricsServer::start(addr, &metrics).await?),
            None => None,
        };
        Ok((metrics, server))
    }

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
