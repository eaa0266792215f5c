//! Validation proper: each raw setting parsed once into its typed field, errors naming the setting.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

use super::{routes, ConfigError, Format, Load, Mesh, Pin, Plan, Shard};
use crate::cli::{self, Layered};
use crate::threshold::Threshold;

impl Plan {
    /// Validate layered settings into a plan.
    pub fn from_layered(l: &Layered) -> Result<Plan, ConfigError> {
        let r = &l.raw;
        let v = Validator(l);
        let load = match r.rate.as_deref() {
            Some("max") => Load::Closed { concurrency: v.nonzero("concurrency", &r.concurrency)? },
            rate => Load::Open {
                rate: v.parse(
                    "rate",
                    rate,
                    "a positive number of requests per second (0.001 to 10000000), or max",
                    |s| s.parse::<f64>().ok().filter(|r| r.is_finite() && (1e-3..=1e7).contains(r)),
                )?,
            },
        };
        let (routes, login) = routes::routes(&v, r)?;
        Ok(Plan {
            load,
            duration: v.opt("duration", &r.duration, "a duration such as 30s or 10m", positive_duration)?,
            requests: v.opt("requests", &r.requests, "a positive whole number", |s| {
                s.parse::<u64>().ok().filter(|n| *n > 0)
            })?,
            connections: v.nonzero("connections", &r.connections)?,
            max_in_flight: v.nonzero("max_in_flight", &r.max_in_flight)?,
            timeout: v.parse("timeout", r.timeout.as_deref(), "a duration such as 10s", positive_duration)?,
            routes,
            http2: v.flag("http2", &r.http2)?,
            insecure: v.flag("insecure", &r.insecure)?,
            cacerts: v
                .opt("cacert", &r.cacert, "a readable PEM file with at least one certificate", load_certs)?
                .unwrap_or_default(),
            pins: r
                .resolve
                .iter()
                .map(|p| {
                    v.parse("resolve", Some(p), "HOST:PORT:ADDR[:PORT] such as productpage:9080:127.0.0.1", parse_pin)
                })
                .collect::<Result<_, _>>()?,
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
            login,
            expect_split: r
                .expect_split
                .as_ref()
                .map(|text| {
                    crate::classify::parse_expect_split(text)
                        .map(|split| (text.clone(), split))
                        .map_err(|e| v.invalid("expect_split", text, &e.to_string()))
                })
                .transpose()?,
        }
        .sharded(v.shard(r)?))
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
        self.shard = shard;
        self
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

/// Turns one raw setting into a typed value, or an error naming the setting.
pub(super) struct Validator<'a>(&'a Layered);

impl Validator<'_> {
    /// How to name `field` in a message (flag or env var).
    pub(super) fn name(&self, field: &str) -> String {
        self.0.name(field)
    }

    pub(super) fn invalid(&self, field: &str, value: &str, expected: &str) -> ConfigError {
        ConfigError::Invalid { setting: self.0.name(field), value: value.to_string(), expected: expected.to_string() }
    }

    pub(super) fn parse<T>(
        &self,
        field: &str,
        value: Option<&str>,
        expected: &str,
        f: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        let value = value.unwrap_or_default();
        f(value.trim()).ok_or_else(|| self.invalid(field, value, expected))
    }

    pub(super) fn opt<T>(
        &self,
        field: &str,
        value: &Option<String>,
        expected: &str,
        f: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        value.as_deref().map(|s| self.parse(field, Some(s), expected, f)).transpose()
    }

    fn nonzero(&self, field: &str, value: &Option<String>) -> Result<NonZeroUsize, ConfigError> {
        self.parse(field, value.as_deref(), "a positive whole number", |s| s.parse().ok())
    }

    fn flag(&self, field: &str, value: &Option<String>) -> Result<bool, ConfigError> {
        let value = value.as_deref().unwrap_or("false");
        self.parse(field, Some(value), "true or false", |s| match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" | "" => Some(false),
            _ => None,
        })
    }

    fn format(&self, field: &str, value: &Option<String>) -> Result<Format, ConfigError> {
        self.parse(field, value.as_deref(), "text or json", |s| match s {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            _ => None,
        })
    }

    fn shard(&self, r: &cli::RawConfig) -> Result<Shard, ConfigError> {
        let count = self.nonzero("shards", &r.shards)?.get();
        let index = match (&r.shard_index, count) {
            (None, 1) => 0,
            (None, _) => {
                return Err(ConfigError::Invalid {
                    setting: self.0.name("shard_index"),
                    value: String::new(),
                    expected: format!(
                    "a shard index below {count}: run as an Indexed Job (JOB_COMPLETION_INDEX) or set --shard-index"
                ),
                })
            }
            (Some(i), _) => self.parse("shard_index", Some(i), &format!("a whole number below {count}"), |s| {
                s.parse::<usize>().ok().filter(|i| *i < count)
            })?,
        };
        Ok(Shard { index, count })
    }

    pub(super) fn headers(&self, field: &str, values: &[String]) -> Result<HeaderMap, ConfigError> {
        let mut map = HeaderMap::new();
        for h in values {
            let (name, value) = self.parse(field, Some(h), "NAME: VALUE such as \"x-demo: 1\"", |s| {
                let (n, v) = s.split_once(':')?;
                Some((HeaderName::from_bytes(n.trim().as_bytes()).ok()?, HeaderValue::from_str(v.trim()).ok()?))
            })?;
            map.append(name, value);
        }
        Ok(map)
    }
}

/// Longest duration any setting takes: a year, far past any Job and safe to add to an `Instant`.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

fn positive_duration(s: &str) -> Option<Duration> {
    duration(s).filter(|d| !d.is_zero())
}

fn duration(s: &str) -> Option<Duration> {
    humantime::parse_duration(s).ok().filter(|d| *d <= MAX_DURATION)
}

/// An absolute http(s) URL with a host, no user info (it would leak into `Host`), and for https a
/// host TLS can name.
pub fn parse_url(s: &str) -> Option<Uri> {
    let uri: Uri = s.parse().ok()?;
    let host = bare_host(uri.host().filter(|h| !h.is_empty())?);
    let tls_ok = uri.scheme_str() != Some("https") || ServerName::try_from(host).is_ok();
    let ok = matches!(uri.scheme_str(), Some("http" | "https")) && !uri.authority()?.as_str().contains('@') && tls_ok;
    ok.then_some(uri)
}

/// A host without the brackets of an IPv6 literal.
pub fn bare_host(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
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

pub(super) fn load_body(s: &str) -> Option<Bytes> {
    match s.strip_prefix('@') {
        Some(path) => std::fs::read(path).ok().map(Bytes::from),
        None => Some(Bytes::copy_from_slice(s.as_bytes())),
    }
}

fn load_certs(path: &str) -> Option<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path).ok()?.collect::<Result<_, _>>().ok()?;
    (!certs.is_empty()).then_some(certs)
}
