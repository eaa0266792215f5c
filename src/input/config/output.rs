//! The output section of a plan: where the results go.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::Uri;

use super::remote::{self, Scraped};
use super::validator::Validator;
use super::{ClientSection, ClusterSection, ConfigError, Format};
use crate::model::url::parse_url;
use crate::net::otlp::traces_url;
use crate::net::remote_write::RemoteWrite;
use crate::net::trace::{TraceHeaders, Tracing};
use setting::{duration, ratio};

/// /metrics, the summary, the report, progress and logs, and what leaves the run on its own
/// account: trace headers with their sampled spans (`--otlp-endpoint`), and the metrics pushed by
/// `--remote-write` (here beside /metrics, the same figures sent rather than served).
#[derive(Debug, Clone)]
pub(crate) struct OutputSection {
    metrics_addr: Option<SocketAddr>,
    format: Format,
    summary_file: Option<PathBuf>,
    report: Option<PathBuf>,
    progress_interval: Option<Duration>,
    log_format: Format,
    no_color: bool,
    tracing: Tracing,
    otlp_endpoint: Option<Uri>,
    remote_write: Option<RemoteWrite>,
}

impl OutputSection {
    /// Validate the output settings; remote write pushes over the run's client settings and
    /// labels its series as a scrape of this run would.
    pub(super) fn new(
        v: &Validator<'_>,
        client: &ClientSection,
        cluster: &ClusterSection,
    ) -> Result<OutputSection, ConfigError> {
        let r = &v.0.raw;
        let addr = |s: &str| if s == "off" { Some(None) } else { s.parse().ok().map(Some) };
        let metrics_addr =
            v.parse("metrics_addr", r.metrics_addr.as_deref(), "HOST:PORT such as 0.0.0.0:9464, or off", addr)?;
        let expected = "a duration such as 5s, or 0s for none";
        let progress_interval = v.parse("progress_interval", r.progress_interval.as_deref(), expected, duration)?;
        let format = v.format("output", &r.output)?;
        let log_format = v.format("log_format", &r.log_format)?;
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
        let otlp_endpoint = v.opt("otlp_endpoint", &r.otlp_endpoint, expected, otlp)?;
        let scraped = Scraped { metrics_addr, run_id: cluster.run_id() };
        Ok(OutputSection {
            metrics_addr,
            format,
            summary_file: r.summary_file.as_ref().map(PathBuf::from),
            report: r.report.as_ref().map(PathBuf::from),
            progress_interval: Some(progress_interval).filter(|d| !d.is_zero()),
            log_format,
            no_color: v.0.no_color,
            tracing,
            otlp_endpoint,
            remote_write: remote::section(v.0, client.options(), scraped)?,
        })
    }

    /// Where to serve /metrics; `None` = off.
    pub(crate) fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The summary's format (`--output`).
    pub(crate) fn format(&self) -> Format {
        self.format
    }

    /// Where to also write the JSON summary.
    pub(crate) fn summary_file(&self) -> Option<&Path> {
        self.summary_file.as_deref()
    }

    /// Where to write the HTML report.
    pub(crate) fn report(&self) -> Option<&Path> {
        self.report.as_deref()
    }

    /// Progress line interval; `None` = off.
    pub(crate) fn progress_interval(&self) -> Option<Duration> {
        self.progress_interval
    }

    /// Log and progress format.
    pub(crate) fn log_format(&self) -> Format {
        self.log_format
    }

    /// `NO_COLOR` was set: no colour even on a terminal.
    pub(crate) fn no_color(&self) -> bool {
        self.no_color
    }

    /// Trace headers and sampling.
    pub(crate) fn tracing(&self) -> Tracing {
        self.tracing
    }

    /// Where to export sampled requests' client spans (the full `/v1/traces` URL).
    pub(crate) fn otlp_endpoint(&self) -> Option<&Uri> {
        self.otlp_endpoint.as_ref()
    }

    /// `--remote-write`: where and how to push the metrics.
    pub(crate) fn remote_write(&self) -> Option<&RemoteWrite> {
        self.remote_write.as_ref()
    }
}
