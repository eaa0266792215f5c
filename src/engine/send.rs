//! One sending window: start up to a worker per core on the plan's schedule, keep the progress lines
//! and the stage gauges going, end the window on time or on a signal (draining, then aborting),
//! and hand back what was recorded.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

use crate::engine::pacer::Pacer;
use crate::engine::worker::{self, Shared, Stop};
use crate::input::config::share;
use crate::input::config::{Load, LoadSection, Plan};
use crate::input::stages::Schedule;
use crate::model::scenario::{Named, Route};
use crate::net::client::Client;
use crate::net::otlp::{self, Exporter, Resource};
use crate::net::trace::{LogLimit, Tracer};
use crate::output::metrics::Metrics;
use crate::output::recorder::{Completed, Recorder, StageStats, Stats};
use crate::output::report::{self, Beside, Records, Spans, Summary};
use crate::output::timeline::Point;

mod progress;
mod seconds;

use progress::{progress, Look};

/// What one send window produced.
#[derive(Debug, Default)]
pub(crate) struct Sent {
    /// The measured figures (warm-up left out).
    pub(crate) stats: Stats,
    /// The whole sending window, warm-up included.
    pub(crate) window: Duration,
    /// Whether a signal ended it.
    pub(crate) interrupted: bool,
    /// What had completed when the window ended (the rest was still in flight).
    completed: Completed,
    /// The warm-up row and one row per stage; empty without stages or warm-up.
    rows: Vec<StageStats>,
    /// The rate over time; `None` for closed loop.
    schedule: Option<Arc<Schedule>>,
    /// The run second by second.
    timeline: Vec<Point>,
    /// The first route of each name: what the recorded route indices refer to.
    named: Vec<Route>,
    /// What became of the sampled requests' client spans; `None` without `--otlp-endpoint`.
    spans: Option<otlp::Counts>,
}

impl Sent {
    /// A signal came before the first send: nothing to report but that.
    pub(crate) fn none_interrupted() -> Sent {
        Sent { interrupted: true, ..Sent::default() }
    }

    /// The window without its warm-up: what the summary's figures cover.
    pub(crate) fn measured(&self, plan: &Plan) -> Duration {
        self.window.saturating_sub(plan.load().warmup())
    }

    /// The summary of the measured part of the window, with the per-stage table and what was
    /// seen `beside` the send loop, judged by the plan's rules; sending started at `started_at`.
    pub(crate) fn summary(&self, plan: &Plan, started_at: SystemTime, beside: Beside) -> Summary {
        let measured = self.measured(plan);
        let target_rps = match (plan.load().stages(), &self.schedule) {
            (Some(_), Some(s)) if !measured.is_zero() => {
                let (from, to) = (plan.load().warmup().as_secs_f64(), self.window.as_secs_f64());
                Some(((s.integral(to) - s.integral(from)) / (to - from) * 1000.0).round() / 1000.0)
            }
            _ => plan.load().rate(),
        };
        let schedule = self.schedule.as_deref();
        let (warmup, stages) = report::stage_table(
            schedule,
            plan.load().stages(),
            plan.load().warmup(),
            self.window,
            &self.rows,
            &self.timeline,
        );
        let records = Records {
            stats: &self.stats,
            completed: &self.completed,
            routes: &self.named,
            target_rps,
            measured,
            started_at,
            window: self.window,
            interrupted: self.interrupted,
            timeline: self.timeline.clone(),
            spans: self.spans.map(|c| Spans { exported: c.exported, dropped: c.dropped }),
            warmup,
            stages,
            beside,
        };
        Summary::of_run(plan, records)
    }
}

/// The open-loop rate given to one worker: half of what one sent in closed loop against nginx
/// on loopback here (some 120,000 req/s), which leaves room for slower responses and catching up.
const RATE_PER_WORKER: f64 = 60_000.0;

/// The closed-loop concurrency given to one worker. One worker with 50 connections sent about as
/// much as wrk -t1 against a local nginx; two sent less, as the second took the server's core.
const CONCURRENCY_PER_WORKER: usize = 100;

/// Start up to one worker per core on the plan's schedule and wait for them; returns what was sent,
/// the sending window and whether a signal ended it.
pub(crate) async fn send_all(plan: &Plan, metrics: &Metrics, shutdown: impl Future<Output = ()>) -> Sent {
    let load = plan.load();
    let rate = load.rate();
    metrics.target_rps.set(rate.unwrap_or(0.0));
    let schedule = match load.stages() {
        Some(stages) => Some(Arc::new(Schedule::staged(stages))),
        None => rate.map(|r| Arc::new(Schedule::flat(r))),
    };
    let slots = slots(load);
    let workers = workers(plan, slots);
    let (exporter, spans) = match plan.output().otlp_endpoint() {
        Some(endpoint) => {
            let (exporter, sink) = Exporter::start(endpoint.clone(), resource(plan));
            (Some(exporter), Some(sink))
        }
        None => (None, None),
    };
    let shared = shared(plan, metrics, workers, spans);
    let (stop, stopped) = watch::channel(Stop::Running);
    let staged = schedule.clone().filter(|_| plan.load().stages().is_some());
    let (mut tasks, start) = start_workers(&shared, plan, staged.as_ref(), workers, slots, &stopped).await;
    let look = Look::of(plan);
    let progress = plan
        .output()
        .progress_interval()
        .map(|every| tokio::spawn(progress(shared.clone(), start, every, look, staged.clone())));
    let follow = (staged.is_some() || !plan.load().warmup().is_zero())
        .then(|| tokio::spawn(follow(metrics.clone(), start, staged.clone(), plan.load().warmup())));
    let (seconds_done, seconds_stopped) = oneshot::channel();
    let seconds = tokio::spawn(seconds::record(shared.clone(), start, seconds_stopped));
    let (window, interrupted, completed) = supervise(&mut tasks, &stop, start, plan, &shared.recorder, shutdown).await;
    for task in [progress, follow].into_iter().flatten() {
        task.abort();
        let _ = task.await;
    }
    let _ = seconds_done.send(());
    let timeline = seconds.await.map(|t| t.finish(rate)).unwrap_or_default();
    let spans = match exporter {
        Some(e) => Some(e.finish().await),
        None => None,
    };
    if look.tty && plan.output().progress_interval().is_some() {
        // The status line was drawn without a newline; end it so the summary starts afresh.
        eprintln!();
    }
    let rows = shared.recorder.stages();
    let stats = shared.recorder.total();
    let completed = completed.unwrap_or_else(|| Completed::all(&stats));
    let named = shared.named.clone();
    Sent { stats, window, interrupted, completed, rows, schedule, timeline, named, spans }
}

/// Most requests out at once: `--max-in-flight` in open loop, the concurrency in closed loop.
fn slots(load: &LoadSection) -> usize {
    match load.mode() {
        Load::Open { .. } => load.max_in_flight().get(),
        Load::Closed { concurrency } => concurrency.get(),
    }
}

/// As many workers as the load needs, up to one per core. Each worker wakes for its own ticks
/// and responses, so a second one below what one can carry only adds wake-ups: one worker for
/// 1,000 req/s took two thirds of the CPU per request that two did.
fn workers(plan: &Plan, slots: usize) -> usize {
    let load = plan.load();
    let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get());
    let needed = match (load.mode(), load.stages()) {
        (Load::Closed { concurrency }, _) => concurrency.get().div_ceil(CONCURRENCY_PER_WORKER),
        (_, Some(stages)) => {
            (stages.iter().map(|s| s.from.max(s.to)).fold(0.0, f64::max) / RATE_PER_WORKER).ceil() as usize
        }
        (_, None) => (load.rate().unwrap_or(0.0) / RATE_PER_WORKER).ceil() as usize,
    };
    // HTTP/1.1 connections are split between the workers: each needs one.
    parallelism.min(slots).min(needed.max(1)).min(plan.client().options().connections.get())
}

/// What every worker shares: the client, the recorder (a row per stage, or one for the warm-up),
/// the routes and how to pick them, the trace settings.
fn shared(plan: &Plan, metrics: &Metrics, workers: usize, spans: Option<otlp::Sink>) -> Arc<Shared> {
    let (load, routes) = (plan.load(), plan.target().routes());
    let rows = load.stages().map_or(usize::from(!load.warmup().is_zero()), <[_]>::len);
    let named = Named::of(routes);
    Arc::new(Shared {
        client: Client::new(routes, plan.client().options(), workers),
        recorder: Recorder::with_stages(workers, rows, named.of_route),
        named: named.first,
        metrics: metrics.clone(),
        routes: routes.to_vec(),
        login: plan.target().login(),
        wheel: worker::wheel(&routes.iter().map(|r| r.weight).collect::<Vec<_>>()),
        timeout: plan.client().timeout(),
        trace: Tracer { tracing: plan.output().tracing(), spans, failures: LogLimit::default() },
    })
}

/// Start `workers` send loops, each on a thread of its own, and their schedule (flat, or `staged`)
/// once all of them are up; returns them and the schedule's start.
async fn start_workers(
    shared: &Arc<Shared>,
    plan: &Plan,
    staged: Option<&Arc<Schedule>>,
    workers: usize,
    slots: usize,
    stopped: &watch::Receiver<Stop>,
) -> (JoinSet<()>, Instant) {
    // The schedule starts once every worker has its runtime: a thread still starting would send
    // its first ticks milliseconds late and charge that to the target. Each worker says when it
    // built its runtime, which is where that runtime's timer starts counting milliseconds.
    let (ready, mut readied) = mpsc::unbounded_channel::<Instant>();
    let (go, begun) = watch::channel(None::<Instant>);
    let rate = plan.load().rate();
    let mut tasks = JoinSet::new();
    for id in 0..workers {
        let shaped = staged.cloned();
        let (requests, duration, warmup) = (plan.load().requests(), plan.load().duration(), plan.load().warmup());
        let cap = share(slots as u64, id, workers) as usize;
        let (shared, stopped, ready, mut begun) = (shared.clone(), stopped.clone(), ready.clone(), begun.clone());
        // Each worker on a thread of its own with a current-thread runtime, which also drives
        // the worker's connections: a response wakes the send loop on the same thread, with no
        // work stealing and no cross-thread wake-ups (the multi-thread runtime cost a fifth more
        // CPU per request at a fixed rate). The loop runs as a task, not as `block_on`'s own
        // future: waking that one writes to the runtime's eventfd, some half a syscall a request.
        tasks.spawn_blocking(move || {
            let built = Instant::now();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
            // Said once, and the sender dropped: the loop below ends when every sender is gone.
            let _ = ready.send(built);
            drop(ready);
            let work = runtime.spawn(async move {
                let Ok(start) = begun.wait_for(Option::is_some).await.map(|s| s.expect("set")) else { return };
                let mut pacer = Pacer::new(start, rate, id, workers, requests, duration).warmup(warmup);
                if let Some(schedule) = shaped {
                    pacer = pacer.shaped(schedule);
                }
                worker::work(shared, id, pacer, built, cap, stopped).await;
            });
            match runtime.block_on(work) {
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                _ => {}
            }
        });
    }
    drop(ready);
    // The first worker to be ready sets the grid; the others' timers can be off it, but there
    // is more than one worker only for rates (or ramps reaching rates) past `RATE_PER_WORKER`.
    // The loop ends when every worker has said it is ready, or died before it could.
    let grid = readied.recv().await;
    while readied.recv().await.is_some() {}
    let start = on_grid(grid, Instant::now());
    let _ = go.send(Some(start));
    (tasks, start)
}

/// The first whole millisecond after `now` on the timer of a runtime built at `grid` (now itself
/// without one). Tokio's timer counts whole milliseconds from the moment its
/// runtime was built and fires on one of them; a schedule that starts on one of them has each
/// tick of a 1,000 req/s run released a millisecond before it is due (see `worker::alarms`), so
/// sent within the millisecond before. Started just after one, most ticks of a 1,000 req/s run
/// went out up to a millisecond late.
fn on_grid(grid: Option<Instant>, now: Instant) -> Instant {
    let Some(grid) = grid.filter(|g| *g <= now) else { return now };
    let whole = (now - grid).as_millis() as u32 + 1;
    grid + Duration::from_millis(1) * whole
}

/// The OTLP resource of this run's spans.
fn resource(plan: &Plan) -> Resource {
    let routes = plan.target().routes().iter().map(|r| (r.method.to_string(), r.uri.to_string())).collect();
    Resource { service: "trafficgen".into(), run_id: plan.cluster().run_id().to_string(), routes }
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
/// Returns the sending window, whether a signal cut it short, and what had completed when it
/// ended (`None` when it ended only once every request had).
async fn supervise(
    tasks: &mut JoinSet<()>,
    stop: &watch::Sender<Stop>,
    start: Instant,
    plan: &Plan,
    recorder: &Recorder,
    shutdown: impl Future<Output = ()>,
) -> (Duration, bool, Option<Completed>) {
    tokio::pin!(shutdown);
    // A schedule is judged over its own length: 150 requests at 50/s took 3 s of schedule,
    // however early or late the last response came back.
    let by_count =
        plan.load().rate().and_then(|rate| plan.load().requests().map(|n| Duration::from_secs_f64(n as f64 / rate)));
    let deadline = by_count.into_iter().chain(plan.load().duration()).min().map(|d| start + d);
    let mut ended: Option<Instant> = None;
    let mut completed: Option<Completed> = None;
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
                completed = Some(recorder.completed());
                let _ = stop.send(Stop::Done);
            }
            _ = &mut shutdown, if abort_at.is_none() => {
                let now = Instant::now();
                if ended.is_none() {
                    ended = Some(now);
                    completed = Some(recorder.completed());
                }
                abort_at = Some(now + plan.cluster().drain_timeout());
                tracing::info!(drain_timeout = ?plan.cluster().drain_timeout(), "signal received: stopping, draining in-flight requests");
                let _ = stop.send(Stop::Signal);
            }
            _ = sleep_until(abort_at.unwrap_or(start)), if abort_at.is_some_and(|_| *stop.borrow() == Stop::Signal) => {
                let _ = stop.send(Stop::Abort);
            }
        }
    }
    // Every request of an open-loop schedule came back before its deadline: the window is still
    // the schedule's length.
    let scheduled = plan.load().rate().and(deadline);
    let end = ended.or(scheduled).unwrap_or_else(Instant::now);
    (end - start, abort_at.is_some(), completed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_schedule_starts_on_the_next_millisecond_of_a_workers_timer() {
        let grid = std::time::Instant::now().into();
        let at = |us| grid + Duration::from_micros(us);
        assert_eq!(on_grid(Some(grid), at(2_300)), at(3_000));
        assert_eq!(on_grid(Some(grid), at(0)), at(1_000));
        assert_eq!(on_grid(None, at(2_300)), at(2_300));
        assert_eq!(on_grid(Some(at(5_000)), at(2_300)), at(2_300));
    }

    #[tokio::test(start_paused = true)]
    async fn target_rps_follows_the_stages_and_the_warmup_gauge_ends() {
        let metrics = Metrics::new(&[], HashMap::new());
        let schedule = Arc::new(Schedule::staged(&crate::input::stages::parse("10s:0->100, 10s:100").unwrap()));
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
