//! `trafficgen serve` flags and their validation into typed options.

use crate::bookinfo::BookinfoOptions;
use crate::error::ServeError;
use crate::target::TargetOptions;
use crate::telemetry::MeshMetrics;
use crate::units::{parse_duration, parse_fraction, parse_scale, parse_size, parse_status};
use crate::workload::Fault;
use setting::Invalid;
use std::net::SocketAddr;

/// Flags of `trafficgen serve` (plain flags only: a test target is configured on its command line).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (productpage's address with --bookinfo; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Base delay before each response of the plain target.
    #[arg(long, value_name = "DURATION", default_value = "0ms")]
    pub delay: String,
    /// Uniform jitter added to --delay, in [-jitter, +jitter] (never below zero).
    #[arg(long, value_name = "DURATION", default_value = "0ms")]
    pub jitter: String,
    /// Share of requests answered with --status: a percentage like 2% or a fraction like 0.02.
    #[arg(long, value_name = "RATE", default_value = "0")]
    pub error_rate: String,
    /// Status of injected errors.
    #[arg(long, value_name = "CODE", default_value = "500")]
    pub status: String,
    /// Response body size in bytes (0 answers a short text).
    #[arg(long, value_name = "BYTES", default_value = "0")]
    pub response_size: String,
    /// Requests the plain target serves at once (each taking --delay); the rest wait in a FIFO queue, so latency climbs once the rate passes workers / delay. 0 = no limit.
    #[arg(long, value_name = "K", default_value = "0")]
    pub workers: String,
    /// Run the Bookinfo simulation (six services, Istio metrics) instead of the plain target.
    #[arg(long)]
    pub bookinfo: bool,
    /// Multiplier for the simulated services' latencies (0 disables them).
    #[arg(long, value_name = "F", default_value = "1.0")]
    pub latency_scale: String,
    /// Inject a fault: SERVICE:error=10%, SERVICE:delay=200ms, or SERVICE:restart (its container crash-loops: kube_pod_container_status_restarts_total grows) (repeatable).
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
    /// With --bookinfo: the metrics of which kind of cluster to serve: none (cAdvisor, kube-state-metrics,
    /// productpage's own), linkerd or istio (each plus cAdvisor and kube-state-metrics).
    #[arg(long, value_name = "KIND", default_value = "istio")]
    pub mesh_metrics: String,
    /// With --bookinfo: where to serve the cluster's /metrics (port 0 picks a free one on --listen's host).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
}

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub(crate) struct ServePlan {
    pub(crate) listen: SocketAddr,
    pub(crate) target: TargetOptions,
    pub(crate) bookinfo: Option<BookinfoOptions>,
}

impl ServeArgs {
    /// Validates every flag; the error names the flag, the value and what was expected.
    pub(crate) fn plan(&self) -> Result<ServePlan, ServeError> {
        let listen: SocketAddr = self.listen.parse().map_err(|e| {
            Invalid::new("--listen", &self.listen, "an IP address and port like 127.0.0.1:8080").because(e)
        })?;
        let target = TargetOptions {
            delay: parse_duration("--delay", &self.delay)?,
            jitter: parse_duration("--jitter", &self.jitter)?,
            error_rate: parse_fraction("--error-rate", &self.error_rate)?,
            error_status: parse_status("--status", &self.status)?,
            response_size: parse_size("--response-size", &self.response_size)?,
            workers: self.workers.trim().parse().ok().filter(|k| *k <= 1_000_000).ok_or_else(|| {
                let expected = "a whole number of requests served at once, up to 1000000 (0 = no limit)";
                Invalid::new("--workers", &self.workers, expected)
            })?,
        };
        let bookinfo = self
            .bookinfo
            .then(|| -> Result<BookinfoOptions, ServeError> {
                Ok(BookinfoOptions {
                    latency_scale: parse_scale(&self.latency_scale)?,
                    faults: self.faults.iter().map(|f| f.parse::<Fault>()).collect::<Result<_, _>>()?,
                    listen_host: listen.ip(),
                    productpage_port: listen.port(),
                    metrics_port: match &self.metrics_listen {
                        None => 0,
                        Some(addr) => addr
                            .parse::<SocketAddr>()
                            .ok()
                            .filter(|a| a.ip() == listen.ip())
                            .ok_or_else(|| {
                                let expected = "an address on --listen's IP, like 127.0.0.1:9090";
                                Invalid::new("--metrics-listen", addr, expected)
                            })?
                            .port(),
                    },
                    mesh_metrics: parse_mesh_metrics(&self.mesh_metrics)?,
                })
            })
            .transpose()?;
        Ok(ServePlan { listen, target, bookinfo })
    }
}

/// `--mesh-metrics none|linkerd|istio`.
pub fn parse_mesh_metrics(value: &str) -> Result<MeshMetrics, ServeError> {
    MeshMetrics::parse(value.trim())
        .ok_or_else(|| Invalid::new("--mesh-metrics", value, "none, linkerd or istio").into())
}

impl Default for ServeArgs {
    /// The flag defaults, taken from the clap attributes so they live in one place.
    fn default() -> ServeArgs {
        use clap::{Args, FromArgMatches};
        let cmd = ServeArgs::augment_args(clap::Command::new("serve"));
        ServeArgs::from_arg_matches(&cmd.get_matches_from(["serve"])).expect("defaults parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::parse_fraction;
    use clap::Parser;
    use std::time::Duration;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn args(list: &[&str]) -> ServeArgs {
        Cli::parse_from(std::iter::once("serve").chain(list.iter().copied())).serve
    }

    #[test]
    fn defaults_are_a_fast_healthy_target() {
        let plan = args(&[]).plan().unwrap();
        assert_eq!(plan.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(plan.target, TargetOptions::default());
        assert!(plan.bookinfo.is_none());
    }

    #[test]
    fn parses_every_flag() {
        let a = args(&[
            "--listen=0.0.0.0:9080",
            "--delay=20ms",
            "--jitter=5ms",
            "--error-rate=2%",
            "--status=503",
            "--response-size=1000",
            "--bookinfo",
            "--latency-scale=0.5",
            "--fault=ratings:error=10%",
            "--fault=reviews-v3:delay=200ms",
        ]);
        let plan = a.plan().unwrap();
        assert_eq!(plan.target.delay, Duration::from_millis(20));
        assert_eq!(plan.target.jitter, Duration::from_millis(5));
        assert!((plan.target.error_rate - 0.02).abs() < 1e-12);
        assert_eq!(plan.target.error_status, 503);
        assert_eq!(plan.target.response_size, 1000);
        let b = plan.bookinfo.unwrap();
        assert_eq!(b.latency_scale, 0.5);
        assert_eq!(b.faults.len(), 2);
        assert_eq!(b.productpage_port, 9080);
    }

    #[test]
    fn fraction_accepts_both_forms() {
        assert_eq!(parse_fraction("--error-rate", "0.02").unwrap(), 0.02);
        assert_eq!(parse_fraction("--error-rate", "50%").unwrap(), 0.5);
        assert!(parse_fraction("--error-rate", "101%").is_err());
    }

    #[test]
    fn errors_name_setting_value_and_expectation() {
        let cases = [
            (
                vec!["--error-rate=abc"],
                r#"invalid --error-rate="abc": expected a percentage like 2% or a fraction like 0.02"#,
            ),
            (vec!["--delay=soon"], r#"invalid --delay="soon": expected a duration like 20ms or 1s"#),
            (vec!["--status=99"], r#"invalid --status="99": expected an HTTP status code between 100 and 599"#),
            (vec!["--listen=localhost"], r#"invalid --listen="localhost": expected an IP address"#),
            (vec!["--workers=-2"], r#"invalid --workers="-2": expected a whole number"#),
            (vec!["--response-size=-1"], r#"invalid --response-size="-1": expected a number of bytes"#),
            (vec!["--bookinfo", "--latency-scale=-2"], r#"invalid --latency-scale="-2": expected"#),
            (vec!["--bookinfo", "--fault=x"], r#"invalid --fault="x": expected"#),
            (vec!["--bookinfo", "--mesh-metrics=consul"], r#"invalid --mesh-metrics="consul": expected none, linkerd"#),
        ];
        for (flags, want) in cases {
            let msg = args(&flags).plan().unwrap_err().to_string();
            assert!(msg.starts_with(want), "{msg}");
        }
    }
}
