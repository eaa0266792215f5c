//! `trafficgen capacity`: the highest rate that keeps the SLO. Steps of the ordinary run plan at
//! rising rates (`--start`, `--step`, `--max`), each judged by `--slo` rules, then bisection
//! until the bracket is within 5%. Each step is reported as it finishes.

use std::future::Future;
use std::time::Duration;

use clap::ArgMatches;
use futures_util::FutureExt;
use serde::Serialize;

use crate::cluster;
use crate::config::{ConfigError, Format, Load, Plan};
use crate::remote_write::Pusher;
use crate::report::{self, Summary};
use crate::run::{MetricsServer, RunError};
use crate::send::send_all;
use crate::settings::{env_name, Layered, RawConfig, Source};
use crate::threshold::{Figures, Threshold};

mod search;

pub use search::Growth;
use search::{End, Search, PRECISION};

/// How a search ended; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// The bracket closed within 5%: exit 0.
    Found,
    /// Even `--start` broke the SLO: exit 3.
    StartBroke,
    /// `--max` held: exit 1.
    MaxHeld,
    /// The generator dropped sends at `--max-in-flight` before the SLO broke: exit 1.
    GeneratorLimit,
    /// A signal ended the search: exit 1.
    Interrupted,
}

/// Flags of `trafficgen capacity`: every run option, plus the search's own.
#[derive(Debug, Clone, clap::Args)]
pub struct CapacityArgs {
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
    /// The run plan each step uses, with the step's rate and duration set.
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
pub const OWN_SETTINGS: [&str; 5] = ["rate", "concurrency", "duration", "requests", "stages"];

/// Validate the capacity flags (flag, then `TRAFFICGEN_*` env var, then default) and the run plan.
pub fn plan(
    args: &CapacityArgs,
    matches: &ArgMatches,
    layered: &Layered,
    env: &[(String, String)],
) -> Result<Capacity, ConfigError> {
    for field in OWN_SETTINGS {
        if matches!(layered.sources.get(field), Some(Source::Flag | Source::Env)) {
            let value = serde_json::to_value(&layered.raw).ok().and_then(|v| v[field].as_str().map(String::from));
            return Err(ConfigError::Invalid {
                setting: layered.name(field),
                value: value.unwrap_or_default(),
                expected: "nothing: capacity sets the rate and duration of each step (use --start, --max, --step, --step-duration)".into(),
            });
        }
    }
    let setting = |field: &str, flag: &Option<String>| -> (String, String) {
        let explicit = matches.value_source(field) == Some(clap::parser::ValueSource::CommandLine);
        let from_env = env.iter().find(|(k, v)| *k == env_name(field) && !v.is_empty());
        match (explicit, from_env) {
            (false, Some((k, v))) => (k.clone(), v.clone()),
            _ => (format!("--{}", field.replace('_', "-")), flag.clone().unwrap_or_default()),
        }
    };
    let parse = |field: &str, flag: &Option<String>, expected: &str, f: &dyn Fn(&str) -> Option<f64>| {
        let (name, value) = setting(field, flag);
        f(value.trim()).ok_or_else(|| ConfigError::Invalid { setting: name, value, expected: expected.into() })
    };
    let rate = |s: &str| s.parse::<f64>().ok().filter(|r| r.is_finite() && (1e-3..=1e7).contains(r));
    let secs = |positive: bool| {
        move |s: &str| {
            humantime::parse_duration(s)
                .ok()
                .filter(|d| (!positive || !d.is_zero()) && *d <= Duration::from_secs(24 * 3600))
                .map(|d| d.as_secs_f64())
        }
    };
    let start = parse("start", &args.start, "a rate in req/s from 0.001 to 10000000", &rate)?;
    let max = parse("max", &args.max, "a rate in req/s from 0.001 to 10000000", &rate)?;
    if max < start {
        let (setting, value) = setting("max", &args.max);
        return Err(ConfigError::Invalid { setting, value, expected: format!("a rate at least --start ({start})") });
    }
    let (name, value) = setting("step", &args.step);
    let growth = Growth::parse(value.trim()).ok_or_else(|| ConfigError::Invalid {
        setting: name,
        value,
        expected: "a factor such as 2x or 1.5x (above 1), or an increment such as +100".into(),
    })?;
    let step_duration =
        Duration::from_secs_f64(parse("step_duration", &args.step_duration, "a duration such as 30s", &secs(true))?);
    let cooldown =
        Duration::from_secs_f64(parse("cooldown", &args.cooldown, "a duration such as 5s, or 0s", &secs(false))?);
    let (name, value) = setting("slo", &None);
    let slo_texts: Vec<String> = if args.slo.is_empty() && name.starts_with(crate::settings::ENV_PREFIX) {
        value.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    } else {
        args.slo.clone()
    };
    let mut plan = Plan::from_layered(layered)?;
    let mut slos = std::mem::take(&mut plan.thresholds);
    for text in &slo_texts {
        let slo = Threshold::parse(text).map_err(|e| ConfigError::Invalid {
            setting: if args.slo.is_empty() { env_name("slo") } else { "--slo".into() },
            value: text.clone(),
            expected: e.to_string(),
        })?;
        slos.push(slo);
    }
    if slos.is_empty() {
        return Err(ConfigError::Invalid {
            setting: "--slo".into(),
            value: String::new(),
            expected: "at least one rule such as p99<500ms or error_rate<1%: without one, every rate holds".into(),
        });
    }
    if plan.warmup >= step_duration {
        let value = layered.raw.warmup.clone().unwrap_or_default();
        let expected = format!("a warm-up shorter than --step-duration ({step_duration:?})");
        return Err(ConfigError::Invalid { setting: layered.name("warmup"), value, expected });
    }
    plan.duration = Some(step_duration);
    Ok(Capacity { plan, slos, start, max, growth, step_duration, cooldown })
}

/// One finished step, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// 1-based.
    pub step: usize,
    /// Target rate, req/s.
    pub rate: f64,
    /// Completed requests per second.
    pub achieved_rps: f64,
    /// Corrected p99 latency.
    pub p99_ms: f64,
    /// Errors / requests.
    pub error_rate: f64,
    /// Whether every SLO held and the generator kept the rate.
    pub held: bool,
    /// Sends skipped at `--max-in-flight`.
    pub dropped: u64,
    /// The SLO rules that broke.
    pub broke: Vec<String>,
}

/// The search's result, the last JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
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
pub async fn run(c: Capacity, shutdown: impl Future<Output = ()>) -> Result<Outcome, RunError> {
    let result = search(&c, shutdown).await;
    cluster::quit_sidecar(&c.plan.mesh, c.plan.in_pod).await;
    result
}

async fn search(c: &Capacity, shutdown: impl Future<Output = ()>) -> Result<Outcome, RunError> {
    let shutdown = shutdown.shared();
    let plan = &c.plan;
    let (metrics, server) = MetricsServer::for_plan(plan).await?;
    let ready = tokio::select! {
        ready = cluster::wait_for(plan) => ready,
        _ = shutdown.clone() => true,
    };
    if !ready {
        MetricsServer::stop(server).await;
        let url = plan.wait_for.as_ref().map(ToString::to_string).unwrap_or_default();
        return Err(RunError::WaitFor { url, timeout: plan.wait_timeout });
    }
    print_head(c);
    // The whole search is one push series: each step's rate shows in Prometheus as it runs.
    let pusher = plan.remote_write.clone().map(|rw| Pusher::start(rw, &metrics.registry));
    let mut s = Search::new(c.start, c.max, c.growth);
    let mut steps: Vec<Step> = Vec::new();
    let end = loop {
        let rate = match s.next() {
            Ok(rate) => rate,
            Err(End::Found) => break Ending::Found,
            Err(End::StartBroke) => break Ending::StartBroke,
            Err(End::MaxHeld) => break Ending::MaxHeld,
        };
        // A signal while waiting for the target, or in the cool-down, ends the search.
        let cooldown = if steps.is_empty() { Duration::ZERO } else { c.cooldown };
        tokio::select! {
            biased;
            _ = shutdown.clone() => break Ending::Interrupted,
            _ = tokio::time::sleep(cooldown) => {}
        }
        let mut step_plan = plan.clone();
        step_plan.load = Load::Open { rate };
        let sent = send_all(&step_plan, &metrics, shutdown.clone()).await;
        if sent.interrupted {
            break Ending::Interrupted;
        }
        let step = judge(steps.len() + 1, rate, &sent.summary(&step_plan), &c.slos);
        print_step(plan.output, &step);
        let limited = step.broke.is_empty() && !step.held;
        s.record(rate, step.held);
        steps.push(step);
        if limited {
            break Ending::GeneratorLimit;
        }
    };
    if let Some(p) = pusher {
        p.finish().await;
    }
    let outcome = conclude(c, &s, &steps, end);
    match plan.output {
        Format::Json => println!("{}", serde_json::to_string(&outcome).expect("outcome serializes")),
        Format::Text => println!("{}", outcome.message),
    }
    report::write_termination_log(&outcome.message);
    let written = match &plan.summary_file {
        Some(path) => std::fs::write(path, serde_json::to_string(&outcome).expect("outcome serializes") + "\n")
            .map_err(|source| RunError::SummaryFile { path: path.display().to_string(), source }),
        None => Ok(()),
    };
    cluster::push(plan, metrics.render()).await;
    MetricsServer::stop(server).await;
    written.map(|()| outcome)
}

/// A step holds when every SLO holds and the generator sent the whole schedule: sends dropped at
/// `--max-in-flight` mean the generator's limit, not the target's, was reached first.
fn judge(n: usize, rate: f64, summary: &Summary, slos: &[Threshold]) -> Step {
    let broke: Vec<String> = slos.iter().map(|t| t.check(summary)).filter(|v| !v.passed).map(|v| v.expr).collect();
    Step {
        step: n,
        rate: round(rate),
        achieved_rps: summary.achieved_rps,
        p99_ms: summary.latency_ms.p99,
        error_rate: (summary.error_rate() * 1e6).round() / 1e6,
        held: broke.is_empty() && summary.dropped == 0,
        dropped: summary.dropped,
        broke,
    }
}

fn conclude(c: &Capacity, s: &Search, steps: &[Step], end: Ending) -> Outcome {
    let (held, broke) = s.bracket();
    let best = held.and_then(|h| steps.iter().find(|st| st.held && st.rate == round(h)));
    let rps = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.1} req/s"));
    let message = match end {
        Ending::Found => format!(
            "capacity {}: p99 {:.2} ms, {:.2}% errors; {} broke the SLO (within {:.0}%)",
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
    Outcome {
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
    if c.plan.output == Format::Text {
        let slos: Vec<&str> = c.slos.iter().map(|t| t.expr.as_str()).collect();
        let growth = match c.growth {
            Growth::Times(f) => format!("x{f}"),
            Growth::Plus(n) => format!("+{n} req/s"),
        };
        println!(
            "trafficgen capacity: SLO {}; steps of {:?} from {} req/s, {growth} up to {} req/s, then bisection to {:.0}%",
            slos.join(", "), c.step_duration, c.start, c.max, PRECISION * 100.0
        );
        println!("  {:>4} {:>12} {:>10} {:>9} {:>8}  held", "step", "rate req/s", "achieved", "p99 ms", "errors");
    }
}

fn print_step(format: Format, s: &Step) {
    match format {
        Format::Json => {
            let line = serde_json::json!({
                "step": s.step, "rate": s.rate, "achieved_rps": s.achieved_rps, "p99_ms": s.p99_ms,
                "error_rate": s.error_rate, "held": s.held,
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
                "  {:>4} {:>12.1} {:>10.1} {:>9.2} {:>7.2}%  {held}",
                s.step,
                s.rate,
                s.achieved_rps,
                s.p99_ms,
                s.error_rate * 100.0
            );
        }
    }
}
