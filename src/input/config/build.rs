//! Validation proper: the plan built section by section (load, client, output, verdict, cluster,
//! verify, target), each raw setting parsed once into its typed field, errors naming the setting.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use http::Uri;

use super::remote::{self, Scraped};
use super::routes::TargetSection;
use super::shape::LoadSection;
use super::validator::Validator;
use super::{routes, ConfigError, Format, Plan, Sidecar, MAX_CONNECTIONS};
use crate::input::threshold::Threshold;
use crate::model::url::{bare_host, parse_url};
use crate::net::client::{read_certs, ClientOptions, Pin};
use crate::net::otlp::traces_url;
use crate::net::trace::{TraceHeaders, Tracing};
use crate::settings::Layered;
use setting::{duration, positive_duration, ratio, run_id, RUN_ID_EXPECTED};

impl Plan {
    /// Validate layered settings into a plan, section by section; each section is whole when built.
    /// Files (`--cacert`, `--body @file`, the scenario) are read only once the cheap checks have passed.
    pub fn from_layered(l: &Layered) -> Result<Plan, ConfigError> {
        let v = Validator(l);
        let shard = v.shard(&l.raw)?;
        let LoadSection { load, duration, requests, stages, warmup, max_in_flight } = LoadSection::new(&v, shard)?;
        let OutputSection {
            metrics_addr,
            output,
            summary_file,
            report,
            progress_interval,
            log_format,
            tracing,
            otlp_endpoint,
        } = OutputSection::new(&v)?;
        let VerdictSection { thresholds, expect_split } = VerdictSection::new(&v)?;
        let ClusterSection { drain_timeout, linger, sidecar, wait_for, wait_timeout, pushgateway, run_id } =
            ClusterSection::new(&v)?;
        let ClientSection { client, timeout } = ClientSection::new(&v)?;
        let verify = verify_section(l, &client)?;
        let remote_write = remote::section(l, &client, Scraped { metrics_addr, run_id: &run_id })?;
        let TargetSection { routes, login } = routes::routes(&v, &l.raw)?;
        Ok(Plan {
            load,
            duration,
            requests,
            stages,
            warmup,
            client,
            max_in_flight,
            timeout,
            routes,
            metrics_addr,
            output,
            summary_file,
            report,
            progress_interval,
            log_format,
            no_color: l.no_color,
            thresholds,
            drain_timeout,
            linger,
            sidecar,
            in_pod: l.in_pod,
            wait_for,
            wait_timeout,
            pushgateway,
            run_id,
            shard,
            login,
            expect_split,
            verify,
            tracing,
            otlp_endpoint,
            remote_write,
        })
    }
}

/// How to connect: connections, HTTP/2, TLS, pinned names, and the per-request timeout.
struct ClientSection {
    client: ClientOptions,
    timeout: Duration,
}

impl ClientSection {
    fn new(v: &Validator<'_>) -> Result<ClientSection, ConfigError> {
        let r = &v.0.raw;
        let pin = |p: &String| {
            v.parse("resolve", Some(p), "HOST:PORT:ADDR[:PORT] such as productpage:9080:127.0.0.1", parse_pin)
        };
        let client = ClientOptions {
            connections: v.count("connections", &r.connections, MAX_CONNECTIONS)?,
            http2: v.flag("http2", &r.http2)?,
            insecure: v.flag("insecure", &r.insecure)?,
            cacerts: v
                .opt("cacert", &r.cacert, "a readable PEM file with at least one certificate", read_certs)?
                .unwrap_or_default(),
            pins: r.resolve.iter().map(pin).collect::<Result<_, _>>()?,
            nameserver: None,
        };
        let timeout = v.parse("timeout", r.timeout.as_deref(), "a duration such as 10s", positive_duration)?;
        Ok(ClientSection { client, timeout })
    }
}

/// Where the results go: /metrics, the summary, the report, progress and logs, trace spans.
struct OutputSection {
    metrics_addr: Option<SocketAddr>,
    output: Format,
    summary_file: Option<PathBuf>,
    report: Option<PathBuf>,
    progress_interval: Option<Duration>,
    log_format: Format,
    tracing: Tracing,
    otlp_endpoint: Option<Uri>,
}

impl OutputSection {
    fn new(v: &Validator<'_>) -> Result<OutputSection, ConfigError> {
        let r = &v.0.raw;
        let addr = |s: &str| if s == "off" { Some(None) } else { s.parse().ok().map(Some) };
        let metrics_addr =
            v.parse("metrics_addr", r.metrics_addr.as_deref(), "HOST:PORT such as 0.0.0.0:9464, or off", addr)?;
        let expected = "a duration such as 5s, or 0s for none";
        let progress_interval = v.parse("progress_interval", r.progress_interval.as_deref(), expected, duration)?;
        let expected = "a ratio from 0 to 1 such as 0.01, or a percentage such as 1%";
        let tracing = Tracing {
            headers: v.parse(
                "trace_headers",
                r.trace_headers.as_deref(),
                "w3c, b3, both or none",
                TraceHeaders::parse,
            )?,
            sample: v.parse("trace_sample", r.trace_sample.as_deref(), expected, ratio)?,
        };
        let otlp = |s: &str| parse_url(s).ok().filter(|u| u.scheme_str() == Some("http")).as_ref().and_then(traces_url);
        let expected = "an http:// URL such as http://jaeger-collector:4318";
        Ok(OutputSection {
            metrics_addr,
            output: v.format("output", &r.output)?,
            summary_file: r.summary_file.as_ref().map(PathBuf::from),
            report: r.report.as_ref().map(PathBuf::from),
            progress_interval: Some(progress_interval).filter(|d| !d.is_zero()),
            log_format: v.format("log_format", &r.log_format)?,
            tracing,
            otlp_endpoint: v.opt("otlp_endpoint", &r.otlp_endpoint, expected, otlp)?,
        })
    }
}

/// Pass or fail: thresholds and the expected class split.
struct VerdictSection {
    thresholds: Vec<Threshold>,
    expect_split: Option<(String, Vec<(String, f64)>)>,
}

impl VerdictSection {
    fn new(v: &Validator<'_>) -> Result<VerdictSection, ConfigError> {
        let r = &v.0.raw;
        let threshold = |t: &String| Threshold::parse(t).map_err(|e| v.invalid("threshold", t, &e.to_string()));
        let split = |text: &String| {
            crate::model::classify::parse_expect_split(text)
                .map(|split| (text.clone(), split))
                .map_err(|e| v.invalid("expect_split", text, &e.to_string()))
        };
        Ok(VerdictSection {
            thresholds: r.threshold.iter().map(threshold).collect::<Result<_, _>>()?,
            expect_split: r.expect_split.as_ref().map(split).transpose()?,
        })
    }
}

/// Life in a Job's pod: the start-up gate, the drain, the linger, the sidecar, the push, the run id.
struct ClusterSection {
    drain_timeout: Duration,
    linger: Duration,
    sidecar: Sidecar,
    wait_for: Option<Uri>,
    wait_timeout: Duration,
    pushgateway: Option<Uri>,
    run_id: String,
}

impl ClusterSection {
    fn new(v: &Validator<'_>) -> Result<ClusterSection, ConfigError> {
        let r = &v.0.raw;
        let sidecar = "auto, istio, linkerd, none, or http://127.0.0.1:PORT/PATH";
        let pushgateway = "the Pushgateway's base URL, e.g. http://pushgateway:9091";
        Ok(ClusterSection {
            drain_timeout: v.parse("drain_timeout", r.drain_timeout.as_deref(), "a duration such as 5s", duration)?,
            linger: v.parse("linger", r.linger.as_deref(), "a duration such as 60s, or 0s", duration)?,
            sidecar: v.parse("mesh_shutdown", r.mesh_shutdown.as_deref(), sidecar, parse_sidecar)?,
            wait_for: v.opt("wait_for", &r.wait_for, "an absolute http:// or https:// URL", parse_url)?,
            wait_timeout: v.parse(
                "wait_timeout",
                r.wait_timeout.as_deref(),
                "a duration such as 60s",
                positive_duration,
            )?,
            pushgateway: v.opt("pushgateway", &r.pushgateway, pushgateway, parse_url)?,
            run_id: v.opt("run_id", &r.run_id, RUN_ID_EXPECTED, run_id)?.unwrap_or_else(generate_run_id),
        })
    }
}

/// The `--verify-*` checks, if `--verify-prometheus` is set; they reach Prometheus with the run's
/// TLS settings.
fn verify_section(l: &Layered, client: &ClientOptions) -> Result<Option<crate::verify::Spec>, ConfigError> {
    let r = &l.raw;
    if r.verify_prometheus.is_none() {
        return Ok(None);
    }
    let fields = [
        ("prometheus", "verify_prometheus", &r.verify_prometheus),
        ("preset", "verify_preset", &r.verify_preset),
        ("mesh", "verify_mesh", &r.verify_mesh),
        ("namespace", "verify_namespace", &r.verify_namespace),
        ("checks", "verify_checks", &r.verify_checks),
        ("retry_for", "verify_retry_for", &r.verify_retry_for),
        ("scrape_interval", "verify_scrape_interval", &r.verify_scrape_interval),
        ("bearer_token_file", "verify_bearer_token_file", &r.verify_bearer_token_file),
        ("panel", "verify_panel", &r.verify_panel),
    ];
    let raw = crate::verify::RawVerify {
        values: fields
            .into_iter()
            .filter_map(|(field, setting, value)| Some((field, l.name(setting), value.clone()?)))
            .collect(),
        checks: Vec::new(),
        lists: r.verify_rules.iter().map(|f| ("rules", l.name("verify_rules"), f.clone())).collect(),
        client: Some(ClientOptions { http2: false, ..client.clone() }),
        dashboards: r.verify_dashboard.iter().map(|d| (l.name("verify_dashboard"), d.clone())).collect(),
        vars: r.verify_var.iter().map(|v| (l.name("verify_var"), v.clone())).collect(),
    };
    Ok(Some(raw.spec()?))
}

/// `auto`, `istio`, `linkerd`, `none` or a loopback `http://` URL.
pub fn parse_sidecar(s: &str) -> Option<Sidecar> {
    Some(match s {
        "auto" => Sidecar::Auto,
        "istio" => Sidecar::Istio,
        "linkerd" => Sidecar::Linkerd,
        "none" => Sidecar::None,
        url => {
            let uri = parse_url(url).ok().filter(|u| u.scheme_str() == Some("http"))?;
            let ip: IpAddr = bare_host(uri.host()?).parse().ok()?;
            let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
            Sidecar::Url(SocketAddr::new(ip, uri.port_u16().unwrap_or(80)), path)
        }
    })
}

fn generate_run_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{secs:x}-{:04x}", fastrand::u16(..))
}

fn parse_pin(s: &str) -> Option<Pin> {
    let mut parts = s.splitn(3, ':');
    let host = parts.next().filter(|h| !h.is_empty())?.to_string();
    let port = parts.next()?.parse().ok()?;
    let addr = parts.next()?;
    // `addr` is an IP (same port), or `IP:PORT` / `[IPv6]:PORT` to also move the port.
    let addr = match addr.parse::<SocketAddr>() {
        Ok(sa) => sa,
        Err(_) => SocketAddr::new(bare_host(addr).parse().ok()?, port),
    };
    Some(Pin { host, port, addr })
}
