//! `trafficgen capacity`: the highest rate that keeps the SLO. Steps of the ordinary run plan at
//! rising rates (`--start`, `--step`, `--max`), each judged by `--slo` rules, then bisection
//! until the bracket is within 5%. Each step is reported as it finishes.

use std::future::Future;
use std::time::Duration;

use clap::ArgMatches;
use futures_util::future::Shared;
use futures_util::FutureExt;
use serde::Serialize;

use crate::commands::run::{MetricsServer, RunError};
use crate::engine::cluster;
use crate::engine::send::send_all;
use crate::input::config::{ConfigError, Format, Plan};
use crate::input::threshold::{Figures, Threshold};
use crate::net::remote_write::Pusher;
use crate::output::metrics::Metrics;
use crate::output::report::{self, Beside, Summary};
use crate::settings::{pick, Env, Layered, RawConfig, Source};
use setting::{duration, positive_duration, Cause, Invalid, Parsed};

mod search;

pub(crate) use search::{Ending, Growth};
use search::{Search, PRECISION};

/// Flags of `trafficgen capacity`: every run option, plus the search's own.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CapacityArgs {
    /// Run options; --rate, --duration, --requests and --stages are the search's to set
    #[command(flatten)]
    pub run: RawConfig,
    /// SLO every step must keep, as a threshold: `p99<500ms`, `error_rate<1%` (repeatable; comma-separated in the env var)
    #[arg(long)]
    pub slo: Vec<String>,
    /// Rate of the first step, req/s
    #[arg(long, default_value = "10")]
    pub start: Option<String>,
    /// Highest rate to try, req/s
    #[arg(long, default_value = "20000")]
    pub max: Option<String>,
    /// How the rate rises until a step breaks the SLO: `2x` (geometric), `1.5x`, or `+100` (req/s added)
    #[arg(long, default_value = "2x")]
    pub step: Option<String>,
    /// How long each step sends (its --warmup included)
    #[arg(long, default_value = "30s")]
    pub step_duration: Option<String>,
    /// Pause between steps, so the target's queues drain
    #[arg(long, default_value = "5s")]
    pub cooldown: Option<String>,
}

/// A validated capacity search.
#[derive(Debug, Clone)]
pub struct Capacity {
    /// The run plan without its rules (the SLOs judge each step); a step runs it at the step's
    /// rate for `step_duration` ([`Plan::step`]).
    pub plan: Plan,
    /// The rules a step must keep to hold (`--slo`, and `--threshold` alike).
    pub slos: Vec<Threshold>,
    /// First rate.
    pub start: f64,
    /// Highest rate.
    pub max: f64,
    /// Rise between steps before the first break.
    pub growth: Growth,
    /// Length of a step.
    pub step_duration: Duration,
    /// Pause between steps.
    pub cooldown: Duration,
}

/// The run options the search sets for each step, refused from the user.
pub(crate) const OWN_SETTINGS: [&str; 5] = ["rate", "concurrency", "duration", "requests", "stages"];

/// Validate the capacity flags (flag, then `TRAFFICGEN_*` env var, then default: [`pick`]) and the run plan.
pub(crate) fn plan(matches: &ArgMatches, layered: &Layered, env: &Env) -> Result<Capacity, ConfigError> {
    for field in OWN_SETTINGS {
        if matches!(layered.sources.get(field), Some(Source::Flag | Source::Env)) {
            let value = serde_json::to_value(&layered.raw).ok().and_then(|v| v[field].as_str().map(String::from));
            let expected = "nothing: capacity sets the rate and duration of each step (use --start, --max, --step, --step-duration)";
            return Err(Invalid::new(layered.name(field), value.unwrap_or_default(), expected).into());
        }
    }
    let given = |field: &str| pick(matches, env, field).expect("the search's own settings have defaults");
    let parse = |field: &str, expected: &str, f: &dyn Fn(&str) -> Result<f64, Cause>| {
        let given = given(field);
        f(given.value()).map_err(|cause| cause.invalid(&given.name, given.value(), expected))
    };
    let rate =
        |s: &str| s.trim().parse::<f64>().ok().filter(|r| r.is_finite() && (1e-3..=1e7).contains(r)).into_result();
    let start = parse("start", "a rate in req/s from 0.001 to 10000000", &rate)?;
    let max = parse("max", "a rate in req/s from 0.001 to 10000000", &rate)?;
    if max < start {
        let max = given("max");
        return Err(Invalid::new(&max.name, max.value(), format!("a rate at least --start ({start})")).into());
    }
    let step = given("step");
    let growth = Growth::parse(step.value().trim()).ok_or_else(|| {
        Invalid::new(&step.name, step.value(), "a factor such as 2x or 1.5x (above 1), or an increment such as +100")
    })?;
    let secs = |d: Duration| d.as_secs_f64();
    let step_duration = parse("step_duration", "a duration such as 30s", &|s| positive_duration(s).map(secs))?;
    let cooldown = parse("cooldown", "a duration such as 5s, or 0s", &|s| duration(s).map(secs))?;
    let (step_duration, cooldown) = (Duration::from_secs_f64(step_duration), Duration::from_secs_f64(cooldown));
    let plan = Plan::from_layered(layered)?;
    let mut slos = plan.verdict().thresholds().to_vec();
    if let Some(given) = pick(matches, env, "slo") {
        for text in given.items().iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            let slo = Threshold::parse(text).map_err(|e| Invalid::new(&given.name, text, e.to_string()))?;
            slos.push(slo);
        }
    }
    if slos.is_empty() {
        let expected = "at least one rule such as p99<500ms or error_rate<1%: without one, every rate holds";
        return Err(Invalid::new("--slo", "", expected).into());
    }
    if plan.load().warmup() >= step_duration {
        let value = layered.raw.warmup.clone().unwrap_or_default();
        let expected = format!("a warm-up shorter than --step-duration ({step_duration:?})");
        return Err(Invalid::new(layered.name("warmup"), value, expected).into());
    }
    // Each step is judged by the SLOs here, not by the run's own rules.
    let plan = plan.with_thresholds(Vec::new());
    Ok(Capacity { plan, slos, start, max, growth, step_duration, cooldown })
}

/// One finished step, as reported.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Step {
    /// 1-based.
    pub step: usize,
    /// Target rate, req/s.
    pub rate: f64,
    /// Requests sent per second.
    pub achieved_rps: f64,
    /// Responses completed per second after the step's first second (its pipeline full): what
    /// the target kept up with.
    pub throughput_rps: f64,
    /// Requests sent.
    pub sent: u64,
    /// Of which completed within the step.
    pub completed: u64,
    /// Corrected p99 latency.
    pub p99_ms: f64,
    /// Errors / requests.
    pub error_rate: f64,
    /// Whether every SLO held, the target completed at least 95% of the rate and nothing was dropped.
    pub held: bool,
    /// Sends skipped at `--max-in-flight`.
    pub dropped: u64,
    /// The SLO rules that broke, and `completed < 95%` when the target fell behind.
    pub broke: Vec<String>,
}

/// The share of a step's rate the target must complete for the step to hold.
pub(crate) const KEPT_UP: f64 = 0.95;

/// The search's result, the last JSON line.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Conclusion {
    /// The highest rate that held; `null` when none did.
    pub capacity_rps: Option<f64>,
    /// p99 of that step.
    pub p99_ms: Option<f64>,
    /// Error rate of that step.
    pub error_rate: Option<f64>,
    /// Steps run.
    pub steps: usize,
    /// Whether a capacity was found within --start..--max.
    pub passed: bool,
    /// The lowest rate that broke the SLO; `null` when none did.
    pub broke_rps: Option<f64>,
    /// How the search ended: found, start_broke, max_held, generator_limit, interrupted.
    pub end: Ending,
    /// The same in words.
    pub message: String,
}

/// Run the search until it ends or `shutdown` resolves. The sidecar is told to quit at the end.
pub(crate) async fn run(c: Capacity, shutdown: impl Future<Output = ()>) -> Result<Conclusion, RunError> {
    let result = search(&c, shutdown).await;
    cluster::quit_sidecar(c.plan.cluster().sidecar(), c.plan.cluster().in_pod()).await;
    result
}

async fn search(c: &Capacity, shutdown: impl Future<Output = ()>) -> Result<Conclusion, RunError> {
    let shutdown = shutdown.shared();
    let plan = &c.plan;
    let (metrics, server) = MetricsServer::for_plan(plan).await?;
    let ready = tokio::select! {
        ready = cluster::wait_for(plan) => ready,
        _ = shutdown.clone() => true,
    };
    if !ready {
        MetricsServer::stop(server).await;
        let url = plan.cluster().wait_for().map(ToString::to_string).unwrap_or_default();
        return Err(RunError::WaitFor { url, timeout: plan.cluster().wait_timeout() });
    }
    print_head(c);
    // The whole search is one push series: each step's rate shows in Prometheus as it runs.
    let pusher = plan.output().remote_write().cloned().map(|rw| Pusher::start(rw, &metrics.registry));
    let mut s = Search::new(c.start, c.max, c.growth);
    let (steps, end) = climb(c, &mut s, &metrics, shutdown).await;
    if let Some(p) = pusher {
        p.finish().await;
    }
    let outcome = conclude(c, &s, &steps, end);
    match plan.output().format() {
        Format::Json => println!("{}", serde_json::to_string(&outcome).expect("outcome serializes")),
        Format::Text => println!("{}", outcome.message),
    }
    report::write_termination_log(&outcome.message);
    let written = match plan.output().summary_file() {
        Some(path) => std::fs::write(path, serde_json::to_string(&outcome).expect("outcome serializes") + "\n")
            .map_err(|source| RunError::SummaryFile { path: path.display().to_string(), source }),
        None => Ok(()),
    };
    cluster::push(plan, metrics.render()).await;
    MetricsServer::stop(server).await;
    written.map(|()| outcome)
}

/// Send the steps `s` asks for, one after another with the cool-down between them, judging and
/// printing each, until the search ends, the generator is the limit, or `shutdown` resolves.
async fn climb(
    c: &Capacity,
    s: &mut Search,
    metrics: &Metrics,
    shutdown: Shared<impl Future<Output = ()>>,
) -> (Vec<Step>, Ending) {
    let plan = &c.plan;
    let mut steps: Vec<Step> = Vec::new();
    loop {
        let rate = match s.next() {
            Ok(rate) => rate,
            Err(end) => return (steps, end),
        };
        // A signal while waiting for the target, or in the cool-down, ends the search.
        let cooldown = if steps.is_empty() { Duration::ZERO } else { c.cooldown };
        tokio::select! {
            biased;
            _ = shutdown.clone() => return (steps, Ending::Interrupted),
            _ = tokio::time::sleep(cooldown) => {}
        }
        let step_plan = plan.step(rate, c.step_duration);
        let started_at = std::time::SystemTime::now();
        let sent = send_all(&step_plan, metrics, shutdown.clone()).await;
        if sent.interrupted {
            return (steps, Ending::Interrupted);
        }
        let step = judge(steps.len() + 1, rate, &sent.summary(&step_plan, started_at, Beside::default()), &c.slos);
        print_step(plan.output().format(), &step);
        let limited = step.broke.is_empty() && !step.held;
        s.record(rate, step.held);
        steps.push(step);
        if limited {
            return (steps, Ending::GeneratorLimit);
        }
    }
}

/// A step holds when every SLO holds, the target completed at least [`KEPT_UP`] of the rate
/// after the step's first second (a target that falls behind keeps a lenient latency SLO for a
/// while, with its queue growing; the first second fills the pipeline),
/// and the generator sent the whole schedule. Sends dropped at `--max-in-flight` while the
/// target kept up mean the generator's limit, not the target's, was reached first.
fn judge(n: usize, rate: f64, summary: &Summary, slos: &[Threshold]) -> Step {
    let mut broke: Vec<String> = slos.iter().map(|t| t.check(summary)).filter(|v| !v.passed).map(|v| v.expr).collect();
    let completed_rps = summary.throughput_rps();
    if completed_rps < KEPT_UP * rate {
        broke.push(format!("completed {completed_rps:.1} req/s < {:.0}%", KEPT_UP * 100.0));
    }
    Step {
        step: n,
        rate: round(rate),
        achieved_rps: summary.achieved_rps(),
        throughput_rps: completed_rps,
        sent: summary.requests(),
        completed: summary.requests() - summary.in_flight_at_end(),
        p99_ms: summary.latency_ms().p99,
        error_rate: (summary.error_rate() * 1e6).round() / 1e6,
        held: broke.is_empty() && summary.dropped() == 0,
        dropped: summary.dropped(),
        broke,
    }
}

fn conclude(c: &Capacity, s: &Search, steps: &[Step], end: Ending) -> Conclusion {
    let (held, broke) = s.bracket();
    let best = held.and_then(|h| steps.iter().find(|st| st.held && st.rate == round(h)));
    let rps = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.1} req/s"));
    let message = match end {
        Ending::Found => format!(
            "capacity {}: p99 {:.2} ms, {:.2}% errors; {} did not hold (within {:.0}%)",
            rps(held), best.map_or(0.0, |b| b.p99_ms), best.map_or(0.0, |b| b.error_rate * 100.0), rps(broke), PRECISION * 100.0
        ),
        Ending::StartBroke => format!("even --start {} broke the SLO: capacity is below it", rps(Some(c.start))),
        Ending::MaxHeld => format!("--max {} held the SLO: capacity is above it (the search's --max was reached first, not the generator's limits)", rps(Some(c.max))),
        Ending::GeneratorLimit => {
            let last = steps.last();
            format!(
                "the generator's limits were reached first: at {} it dropped {} sends at --max-in-flight (raise --max-in-flight or add --shards); highest rate that held: {}",
                rps(last.map(|l| l.rate)), last.map_or(0, |l| l.dropped), rps(held)
            )
        }
        Ending::Interrupted => format!("interrupted; highest rate that held: {}", rps(held)),
    };
    let passed = end == Ending::Found;
    Conclusion {
        capacity_rps: held.map(round),
        p99_ms: best.map(|b| b.p99_ms),
        error_rate: best.map(|b| b.error_rate),
        steps: steps.len(),
        passed,
        broke_rps: broke.map(round),
        end,
        message,
    }
}

fn round(r: f64) -> f64 {
    (r * 1000.0).round() / 1000.0
}

fn print_head(c: &Capacity) {
    if c.plan.output().format() == Format::Text {
        let slos: Vec<&str> = c.slos.iter().map(|t| t.expr.as_str()).collect();
        let growth = match c.growth {
            Growth::Times(f) => format!("x{f}"),
            Growth::Plus(n) => format!("+{n} req/s"),
        };
        println!(
            "trafficgen capacity: SLO {}; steps of {:?} from {} req/s, {growth} up to {} req/s, then bisection to {:.0}%",
            slos.join(", "), c.step_duration, c.start, c.max, PRECISION * 100.0
        );
        println!(
            "  {:>4} {:>12} {:>9} {:>9} {:>8} {:>9} {:>9} {:>8}  held",
            "step", "rate req/s", "sent", "completed", "dropped", "done/s", "p99 ms", "errors"
        );
    }
}

fn print_step(format: Format, s: &Step) {
    match format {
        Format::Json => {
            let line = serde_json::json!({
                "step": s.step, "rate": s.rate, "achieved_rps": s.achieved_rps,
                "throughput_rps": s.throughput_rps, "sent": s.sent, "completed": s.completed,
                "dropped": s.dropped, "p99_ms": s.p99_ms, "error_rate": s.error_rate, "held": s.held,
            });
            println!("{line}");
        }
        Format::Text => {
            let held = match (s.held, s.broke.is_empty()) {
                (true, _) => "yes".to_string(),
                (false, false) => format!("no ({})", s.broke.join(", ")),
                (false, true) => format!("limit ({} dropped)", s.dropped),
            };
            println!(
                "  {:>4} {:>12.1} {:>9} {:>9} {:>8} {:>9.1} {:>9.2} {:>7.2}%  {held}",
                s.step,
                s.rate,
                s.sent,
                s.completed,
                s.dropped,
                s.throughput_rps,
                s.p99_ms,
                s.error_rate * 100.0
            );
        }
    }
}
