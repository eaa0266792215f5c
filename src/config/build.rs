//! Validation proper: each raw setting parsed once into its typed field, errors naming the setting.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use super::validator::Validator;
use super::{routes, ConfigError, Load, Mesh, Plan, Shard, MAX_CERT_BYTES};
use super::{MAX_CONCURRENCY, MAX_CONNECTIONS, MAX_IN_FLIGHT, MAX_REQUESTS};
use crate::client::{ClientOptions, Pin};
use crate::otlp::traces_url;
use crate::scenario::read_bounded;
use crate::settings::Layered;
use crate::threshold::Threshold;
use crate::trace::{TraceHeaders, Tracing};
use crate::url::{bare_host, parse_url};

impl Plan {
    /// Validate layered settings into a plan.
    pub fn from_layered(l: &Layered) -> Result<Plan, ConfigError> {
        let r = &l.raw;
        let v = Validator(l);
        let load = match r.rate.as_deref() {
            Some("max") => Load::Closed { concurrency: v.count("concurrency", &r.concurrency, MAX_CONCURRENCY)? },
            rate => Load::Open {
                rate: v.parse(
                    "rate",
                    rate,
                    "a positive number of requests per second (0.001 to 10000000), or max",
                    |s| s.parse::<f64>().ok().filter(|r| r.is_finite() && (1e-3..=1e7).contains(r)),
                )?,
            },
        };
        let mut plan = Plan {
            load,
            duration: v.opt("duration", &r.duration, "a duration such as 30s or 10m", positive_duration)?,
            requests: v.opt("requests", &r.requests, &format!("a whole number from 1 to {MAX_REQUESTS}"), |s| {
                s.parse::<u64>().ok().filter(|n| (1..=MAX_REQUESTS).contains(n))
            })?,
            stages: None,
            warmup: Duration::ZERO,
            client: ClientOptions {
                connections: v.count("connections", &r.connections, MAX_CONNECTIONS)?,
                http2: v.flag("http2", &r.http2)?,
                insecure: v.flag("insecure", &r.insecure)?,
                cacerts: v
                    .opt("cacert", &r.cacert, "a readable PEM file with at least one certificate", load_certs)?
                    .unwrap_or_default(),
                pins: r
                    .resolve
                    .iter()
                    .map(|p| {
                        v.parse(
                            "resolve",
                            Some(p),
                            "HOST:PORT:ADDR[:PORT] such as productpage:9080:127.0.0.1",
                            parse_pin,
                        )
                    })
                    .collect::<Result<_, _>>()?,
                nameserver: None,
            },
            max_in_flight: v.count("max_in_flight", &r.max_in_flight, MAX_IN_FLIGHT)?,
            timeout: v.parse("timeout", r.timeout.as_deref(), "a duration such as 10s", positive_duration)?,
            // Read last, below: files are read only once every cheap check has passed.
            routes: Vec::new(),
            metrics_addr: v.parse(
                "metrics_addr",
                r.metrics_addr.as_deref(),
                "HOST:PORT such as 0.0.0.0:9464, or off",
                |s| {
                    if s == "off" {
                        Some(None)
                    } else {
                        s.parse().ok().map(Some)
                    }
                },
            )?,
            output: v.format("output", &r.output)?,
            summary_file: r.summary_file.as_ref().map(PathBuf::from),
            report: r.report.as_ref().map(PathBuf::from),
            progress_interval: v
                .parse(
                    "progress_interval",
                    r.progress_interval.as_deref(),
                    "a duration such as 5s, or 0s for none",
                    duration,
                )
                .map(|d| Some(d).filter(|d| !d.is_zero()))?,
            log_format: v.format("log_format", &r.log_format)?,
            thresholds: r
                .threshold
                .iter()
                .map(|t| Threshold::parse(t).map_err(|e| v.invalid("threshold", t, &e.to_string())))
                .collect::<Result<_, _>>()?,
            drain_timeout: v.parse("drain_timeout", r.drain_timeout.as_deref(), "a duration such as 5s", duration)?,
            linger: v.parse("linger", r.linger.as_deref(), "a duration such as 60s, or 0s", duration)?,
            mesh: v.parse(
                "mesh_shutdown",
                r.mesh_shutdown.as_deref(),
                "auto, istio, linkerd, none, or http://127.0.0.1:PORT/PATH",
                parse_mesh,
            )?,
            in_pod: l.in_pod,
            no_color: l.no_color,
            wait_for: v.opt("wait_for", &r.wait_for, "an absolute http:// or https:// URL", parse_url)?,
            wait_timeout: v.parse(
                "wait_timeout",
                r.wait_timeout.as_deref(),
                "a duration such as 60s",
                positive_duration,
            )?,
            pushgateway: v.opt(
                "pushgateway",
                &r.pushgateway,
                "the Pushgateway's base URL, e.g. http://pushgateway:9091",
                parse_url,
            )?,
            run_id: v
                .opt("run_id", &r.run_id, "letters, digits, '-', '_' or '.'", |s| {
                    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)))
                        .then(|| s.to_string())
                })?
                .unwrap_or_else(generate_run_id),
            shard: Shard { index: 0, count: 1 },
            login: None,
            expect_split: r
                .expect_split
                .as_ref()
                .map(|text| {
                    crate::classify::parse_expect_split(text)
                        .map(|split| (text.clone(), split))
                        .map_err(|e| v.invalid("expect_split", text, &e.to_string()))
                })
                .transpose()?,
            verify: None,
            tracing: Tracing {
                headers: v.parse(
                    "trace_headers",
                    r.trace_headers.as_deref(),
                    "w3c, b3, both or none",
                    TraceHeaders::parse,
                )?,
                sample: v.parse(
                    "trace_sample",
                    r.trace_sample.as_deref(),
                    "a ratio from 0 to 1 such as 0.01, or a percentage such as 1%",
                    parse_ratio,
                )?,
            },
            otlp_endpoint: v.opt(
                "otlp_endpoint",
                &r.otlp_endpoint,
                "an http:// URL such as http://jaeger-collector:4318",
                |s| parse_url(s).filter(|u| u.scheme_str() == Some("http")).as_ref().and_then(traces_url),
            )?,
            remote_write: None,
        }
        .shaped(&v)?
        .sharded(v.shard(r)?)
        .verified(l)?
        .remote_written(l)?;
        (plan.routes, plan.login) = routes::routes(&v, r)?;
        Ok(plan)
    }

    /// Narrow the plan to one shard's share: rate / count, and `--requests` split with the
    /// remainder going one each to the lowest indices.
    fn sharded(mut self, shard: Shard) -> Plan {
        let share = |total: u64| crate::pacer::share(total, shard.index, shard.count);
        self.load = match self.load {
            Load::Open { rate } => Load::Open { rate: rate / shard.count as f64 },
            Load::Closed { concurrency } => Load::Closed {
                concurrency: NonZeroUsize::new(share(concurrency.get() as u64) as usize).unwrap_or(NonZeroUsize::MIN),
            },
        };
        self.requests = self.requests.map(share);
        // Each shard sends its 1/N share of every stage.
        for stage in self.stages.iter_mut().flatten() {
            stage.from /= shard.count as f64;
            stage.to /= shard.count as f64;
        }
        self.shard = shard;
        self
    }
}

impl Plan {
    /// Add the `--verify-*` checks; they reach Prometheus with the run's TLS settings.
    fn verified(mut self, l: &Layered) -> Result<Plan, ConfigError> {
        if l.raw.verify_prometheus.is_none() {
            return Ok(self);
        }
        let r = &l.raw;
        let fields = [
            ("prometheus", "verify_prometheus", &r.verify_prometheus),
            ("preset", "verify_preset", &r.verify_preset),
            ("mesh", "verify_mesh", &r.verify_mesh),
            ("namespace", "verify_namespace", &r.verify_namespace),
            ("checks", "verify_checks", &r.verify_checks),
            ("retry_for", "verify_retry_for", &r.verify_retry_for),
            ("scrape_interval", "verify_scrape_interval", &r.verify_scrape_interval),
            ("bearer_token_file", "verify_bearer_token_file", &r.verify_bearer_token_file),
        ];
        let raw = crate::verify::RawVerify {
            values: fields
                .into_iter()
                .filter_map(|(field, setting, value)| Some((field, l.name(setting), value.clone()?)))
                .collect(),
            checks: Vec::new(),
            client: Some(ClientOptions { http2: false, ..self.client.clone() }),
        };
        self.verify = Some(raw.spec()?);
        Ok(self)
    }
}

/// `auto`, `istio`, `linkerd`, `none` or a loopback `http://` URL.
pub fn parse_mesh(s: &str) -> Option<Mesh> {
    Some(match s {
        "auto" => Mesh::Auto,
        "istio" => Mesh::Istio,
        "linkerd" => Mesh::Linkerd,
        "none" => Mesh::None,
        url => {
            let uri = parse_url(url).filter(|u| u.scheme_str() == Some("http"))?;
            let ip: IpAddr = bare_host(uri.host()?).parse().ok()?;
            let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
            Mesh::Url(SocketAddr::new(ip, uri.port_u16().unwrap_or(80)), path)
        }
    })
}

fn generate_run_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{secs:x}-{:04x}", fastrand::u16(..))
}

/// Longest duration any setting takes: a year, far past any Job and safe to add to an `Instant`.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

pub(super) fn positive_duration(s: &str) -> Option<Duration> {
    duration(s).filter(|d| !d.is_zero())
}

pub(super) fn duration(s: &str) -> Option<Duration> {
    humantime::parse_duration(s).ok().filter(|d| *d <= MAX_DURATION)
}

/// `0.25` or `25%`, within 0…1.
fn parse_ratio(s: &str) -> Option<f64> {
    let v = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => s.parse::<f64>().ok()?,
    };
    (0.0..=1.0).contains(&v).then_some(v)
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

fn load_certs(path: &str) -> Option<Vec<CertificateDer<'static>>> {
    let pem = read_bounded(std::path::Path::new(path), MAX_CERT_BYTES).ok()??;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().ok()?;
    (!certs.is_empty()).then_some(certs)
}
