//! The cluster section of a plan: life in a Job's pod.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http::Uri;

use super::validator::Validator;
use super::{ConfigError, Shard, Sidecar};
use crate::model::url::{bare_host, parse_url};
use setting::{duration, positive_duration, run_id, RUN_ID_EXPECTED};

/// The start-up gate, this pod's shard, the drain, the linger, the sidecar, the Pushgateway (the
/// push a Job's short life needs, where a long-lived pod would be scraped) and the run id.
#[derive(Debug, Clone)]
pub(crate) struct ClusterSection {
    shard: Shard,
    run_id: String,
    drain_timeout: Duration,
    linger: Duration,
    sidecar: Sidecar,
    in_pod: bool,
    wait_for: Option<Uri>,
    wait_timeout: Duration,
    pushgateway: Option<Uri>,
}

impl ClusterSection {
    /// Validate the pod's settings; without `--run-id`, one is made up.
    pub(super) fn new(v: &Validator<'_>) -> Result<ClusterSection, ConfigError> {
        let r = &v.0.raw;
        let sidecar = "auto, istio, linkerd, none, or http://127.0.0.1:PORT/PATH";
        let pushgateway = "the Pushgateway's base URL, e.g. http://pushgateway:9091";
        Ok(ClusterSection {
            shard: v.shard(r)?,
            run_id: v.opt("run_id", &r.run_id, RUN_ID_EXPECTED, run_id)?.unwrap_or_else(generate_run_id),
            drain_timeout: v.parse("drain_timeout", r.drain_timeout.as_deref(), "a duration such as 5s", duration)?,
            linger: v.parse("linger", r.linger.as_deref(), "a duration such as 60s, or 0s", duration)?,
            sidecar: v.parse("mesh_shutdown", r.mesh_shutdown.as_deref(), sidecar, parse_sidecar)?,
            in_pod: v.0.in_pod,
            wait_for: v.opt("wait_for", &r.wait_for, "an absolute http:// or https:// URL", parse_url)?,
            wait_timeout: v.parse(
                "wait_timeout",
                r.wait_timeout.as_deref(),
                "a duration such as 60s",
                positive_duration,
            )?,
            pushgateway: v.opt("pushgateway", &r.pushgateway, pushgateway, parse_url)?,
        })
    }

    /// This pod's shard; the load is already its share.
    pub(crate) fn shard(&self) -> Shard {
        self.shard
    }

    /// Identifies this run in metrics and the Pushgateway.
    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    /// How long to wait for in-flight requests after a signal.
    pub(crate) fn drain_timeout(&self) -> Duration {
        self.drain_timeout
    }

    /// How long to keep serving /metrics after the run.
    pub(crate) fn linger(&self) -> Duration {
        self.linger
    }

    /// The sidecar to tell to quit at exit.
    pub(crate) fn sidecar(&self) -> &Sidecar {
        &self.sidecar
    }

    /// Running inside a Kubernetes pod: `--mesh-shutdown auto` looks for a sidecar only then.
    pub(crate) fn in_pod(&self) -> bool {
        self.in_pod
    }

    /// The start-up gate: sending starts once this URL answers 2xx.
    pub(crate) fn wait_for(&self) -> Option<&Uri> {
        self.wait_for.as_ref()
    }

    /// Bound of the start-up gate.
    pub(crate) fn wait_timeout(&self) -> Duration {
        self.wait_timeout
    }

    /// Where to push the final metrics.
    pub(crate) fn pushgateway(&self) -> Option<&Uri> {
        self.pushgateway.as_ref()
    }
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
