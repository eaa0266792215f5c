//! Validation: raw text settings -> a [`Plan`] whose fields already have the right types.
//! Nothing after this module parses a string the user gave.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::cli::{self, Layered};
use crate::threshold::Threshold;

/// How requests are started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// Open loop: request n is due at `start + n / rate`.
    Open {
        /// Requests per second.
        rate: f64,
    },
    /// Closed loop: this many workers send back to back.
    Closed {
        /// Number of concurrent requests.
        concurrency: NonZeroUsize,
    },
}

/// One kind of request to send, with its share of the rate.
#[derive(Debug, Clone)]
pub struct Route {
    /// The `route` metric label: a configured name or the URL path.
    pub name: String,
    /// HTTP method.
    pub method: Method,
    /// Absolute URL.
    pub uri: Uri,
    /// Extra request headers.
    pub headers: HeaderMap,
    /// Request body (may be empty).
    pub body: Bytes,
    /// Relative weight among routes.
    pub weight: u32,
}

/// `--resolve host:port:addr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Host name as written in the URL.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Address to connect to instead of asking DNS.
    pub addr: IpAddr,
}

/// Summary and progress format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// One JSON object.
    Json,
}

/// A validated run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Open or closed loop.
    pub load: Load,
    /// Sending window; `None` = until a signal or `requests`.
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// Maximum connections per target.
    pub connections: NonZeroUsize,
    /// Maximum outstanding requests.
    pub max_in_flight: NonZeroUsize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// What to send.
    pub routes: Vec<Route>,
    /// Speak HTTP/2.
    pub http2: bool,
    /// Skip certificate verification.
    pub insecure: bool,
    /// Extra trusted CA certificates.
    pub cacerts: Vec<CertificateDer<'static>>,
    /// Fixed name -> address mappings.
    pub pins: Vec<Pin>,
    /// Where to serve /metrics; `None` = off.
    pub metrics_addr: Option<SocketAddr>,
    /// Summary format.
    pub output: Format,
    /// Where to also write the JSON summary.
    pub summary_file: Option<PathBuf>,
    /// Progress line interval; `None` = off.
    pub progress_interval: Option<Duration>,
    /// Log and progress format.
    pub log_format: Format,
    /// Pass/fail rules.
    pub thresholds: Vec<Threshold>,
    /// How long to wait for in-flight requests after a signal.
    pub drain_timeout: Duration,
}

/// A configuration error: the run never starts and the process exits 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a value that cannot be used.
    #[error("invalid {setting}={value:?}: expected {expected}")]
    Invalid {
        /// Flag or env var name.
        setting: String,
        /// The value given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// No target URL was given.
    #[error("no target URL: give one or more as arguments (trafficgen --rate 100 http://productpage:9080/productpage) or set TRAFFICGEN_URL")]
    NoUrl,
    /// The command line or environment could not be read.
    #[error("{0}")]
    Usage(String),
}

/// Build a plan from argv and env pairs (the process's or a test's).
pub fn plan_from(
    args: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Plan, ConfigError> {
    let matches = cli::command()
        .try_get_matches_from(args)
        .map_err(|e| ConfigError::Usage(e.to_string()))?;
    let run = cli::run_matches(&matches).ok_or_else(|| ConfigError::Usage("not a run".into()))?;
    let layered = cli::layer(run, env).map_err(|e| ConfigError::Usage(e.to_string()))?;
    Plan::from_layered(&layered)
}

impl Plan {
    /// Validate layered settings into a plan.
    pub fn from_layered(l: &Layered) -> Result<Plan, ConfigError> {
        let r = &l.raw;
        let v = Validator(l);
        let load = match r.rate.as_deref() {
            Some("max") => Load::Closed {
                concurrency: v.nonzero("concurrency", &r.concurrency)?,
            },
            rate => Load::Open {
                rate: v.parse(
                    "rate",
                    rate,
                    "a positive number of requests per second, or max",
                    |s| {
                        s.parse::<f64>()
                            .ok()
                            .filter(|r| r.is_finite() && *r > 0.0 && *r <= 1e7)
                    },
                )?,
            },
        };
        let body = match r.body.as_deref() {
            Some(b) => v.parse(
                "body",
                Some(b),
                "literal text or @FILE naming a readable file",
                load_body,
            )?,
            None => Bytes::new(),
        };
        let headers = v.headers("header", &r.header)?;
        let method = v.parse(
            "method",
            r.method.as_deref(),
            "an HTTP method such as GET or POST",
            |s| Method::from_bytes(s.as_bytes()).ok(),
        )?;
        if r.url.is_empty() {
            return Err(ConfigError::NoUrl);
        }
        let routes = r
            .url
            .iter()
            .map(|u| {
                let uri = v.parse(
                    "url",
                    Some(u),
                    "an absolute http:// or https:// URL with a host",
                    parse_url,
                )?;
                Ok(Route {
                    name: uri.path().to_string(),
                    method: method.clone(),
                    uri,
                    headers: headers.clone(),
                    body: body.clone(),
                    weight: 1,
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Plan {
            load,
            duration: v.opt(
                "duration",
                &r.duration,
                "a duration such as 30s or 10m",
                positive_duration,
            )?,
            requests: v.opt("requests", &r.requests, "a positive whole number", |s| {
                s.parse::<u64>().ok().filter(|n| *n > 0)
            })?,
            connections: v.nonzero("connections", &r.connections)?,
            max_in_flight: v.nonzero("max_in_flight", &r.max_in_flight)?,
            timeout: v.parse(
                "timeout",
                r.timeout.as_deref(),
                "a duration such as 10s",
                positive_duration,
            )?,
            routes,
            http2: v.flag("http2", &r.http2)?,
            insecure: v.flag("insecure", &r.insecure)?,
            cacerts: v
                .opt(
                    "cacert",
                    &r.cacert,
                    "a readable PEM file with at least one certificate",
                    load_certs,
                )?
                .unwrap_or_default(),
            pins: r
                .resolve
                .iter()
                .map(|p| {
                    v.parse(
                        "resolve",
                        Some(p),
                        "HOST:PORT:ADDR such as productpage:9080:127.0.0.1",
                        parse_pin,
                    )
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
                    |s| humantime::parse_duration(s).ok(),
                )
                .map(|d| Some(d).filter(|d| !d.is_zero()))?,
            log_format: v.format("log_format", &r.log_format)?,
            thresholds: r
                .threshold
                .iter()
                .map(|t| Threshold::parse(t).map_err(|e| v.invalid("threshold", t, &e.to_string())))
                .collect::<Result<_, _>>()?,
            drain_timeout: v.parse(
                "drain_timeout",
                r.drain_timeout.as_deref(),
                "a duration such as 5s",
                |s| humantime::parse_duration(s).ok(),
            )?,
        })
    }
}

/// Turns one raw setting into a typed value, or an error naming the setting.
struct Validator<'a>(&'a Layered);

impl Validator<'_> {
    fn invalid(&self, field: &str, value: &str, expected: &str) -> ConfigError {
        ConfigError::Invalid {
            setting: self.0.name(field),
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    fn parse<T>(
        &self,
        field: &str,
        value: Option<&str>,
        expected: &str,
        f: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        let value = value.unwrap_or_default();
        f(value.trim()).ok_or_else(|| self.invalid(field, value, expected))
    }

    fn opt<T>(
        &self,
        field: &str,
        value: &Option<String>,
        expected: &str,
        f: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        value
            .as_deref()
            .map(|s| self.parse(field, Some(s), expected, f))
            .transpose()
    }

    fn nonzero(&self, field: &str, value: &Option<String>) -> Result<NonZeroUsize, ConfigError> {
        self.parse(field, value.as_deref(), "a positive whole number", |s| {
            s.parse().ok()
        })
    }

    fn flag(&self, field: &str, value: &Option<String>) -> Result<bool, ConfigError> {
        let value = value.as_deref().unwrap_or("false");
        self.parse(field, Some(value), "true or false", |s| {
            match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" | "" => Some(false),
                _ => None,
            }
        })
    }

    fn format(&self, field: &str, value: &Option<String>) -> Result<Format, ConfigError> {
        self.parse(field, value.as_deref(), "text or json", |s| match s {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            _ => None,
        })
    }

    fn headers(&self, field: &str, values: &[String]) -> Result<HeaderMap, ConfigError> {
        let mut map = HeaderMap::new();
        for h in values {
            let (name, value) =
                self.parse(field, Some(h), "NAME: VALUE such as \"x-demo: 1\"", |s| {
                    let (n, v) = s.split_once(':')?;
                    Some((
                        HeaderName::from_bytes(n.trim().as_bytes()).ok()?,
                        HeaderValue::from_str(v.trim()).ok()?,
                    ))
                })?;
            map.append(name, value);
        }
        Ok(map)
    }
}

fn positive_duration(s: &str) -> Option<Duration> {
    humantime::parse_duration(s).ok().filter(|d| !d.is_zero())
}

/// An absolute http(s) URL with a host; an empty path becomes `/`.
pub fn parse_url(s: &str) -> Option<Uri> {
    let uri: Uri = s.parse().ok()?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
        return None;
    }
    Some(uri)
}

fn parse_pin(s: &str) -> Option<Pin> {
    let mut parts = s.splitn(3, ':');
    let host = parts.next().filter(|h| !h.is_empty())?.to_string();
    let port = parts.next()?.parse().ok()?;
    let addr = parts.next()?;
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr)
        .parse()
        .ok()?;
    Some(Pin { host, port, addr })
}

fn load_body(s: &str) -> Option<Bytes> {
    match s.strip_prefix('@') {
        Some(path) => std::fs::read(path).ok().map(Bytes::from),
        None => Some(Bytes::copy_from_slice(s.as_bytes())),
    }
}

fn load_certs(path: &str) -> Option<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    (!certs.is_empty()).then_some(certs)
}

#[cfg(test)]
mod tests;
