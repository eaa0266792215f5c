//! The client section of a plan: connections, HTTP/2, TLS, pinned names, the per-request timeout.

use std::net::SocketAddr;
use std::time::Duration;

use super::validator::Validator;
use super::{ConfigError, MAX_CONNECTIONS};
use crate::model::url::bare_host;
use crate::net::client::{read_certs, ClientOptions, Pin};
use setting::positive_duration;

/// How to connect: the options every HTTP client of the run shares, and the per-request timeout.
#[derive(Debug, Clone)]
pub(crate) struct ClientSection {
    options: ClientOptions,
    timeout: Duration,
}

impl ClientSection {
    /// Validate the connection settings; `--cacert` files are read here.
    pub(super) fn new(v: &Validator<'_>) -> Result<ClientSection, ConfigError> {
        let r = &v.0.raw;
        let pin = |p: &String| {
            v.parse("resolve", Some(p), "HOST:PORT:ADDR[:PORT] such as productpage:9080:127.0.0.1", parse_pin)
        };
        let options = ClientOptions {
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
        Ok(ClientSection { options, timeout })
    }

    /// Connections per target, HTTP/2, TLS, pinned names.
    pub(crate) fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Per-request timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(super) fn with_pin(mut self, pin: Pin) -> ClientSection {
        self.options.pins.push(pin);
        self
    }

    pub(super) fn with_nameserver(mut self, nameserver: Option<SocketAddr>) -> ClientSection {
        self.options.nameserver = nameserver;
        self
    }
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
