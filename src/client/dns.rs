//! Name resolution without libc: `--resolve` pins first, then hickory-resolver configured from
//! /etc/resolv.conf (nameservers, search domains, ndots) and /etc/hosts, so `productpage` resolves
//! inside a pod as curl would. Answers are cached for their TTL and then asked again; together
//! with the client's maximum connection age, changes to Services and pods are followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use hickory_resolver::TokioResolver;
use tokio::sync::OnceCell;

/// `--resolve host:port:addr[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Host name as written in the URL.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Address to connect to instead of asking DNS (same port unless the pin names another).
    pub addr: SocketAddr,
}

/// Resolves `host:port` for new connections.
#[derive(Debug)]
pub(super) struct Resolver {
    pins: Vec<Pin>,
    system: OnceCell<Option<TokioResolver>>,
    turn: AtomicUsize,
}

impl Resolver {
    /// A resolver that answers `pins` itself and asks DNS for everything else.
    pub(super) fn new(pins: Vec<Pin>) -> Self {
        Resolver { pins, system: OnceCell::new(), turn: AtomicUsize::new(0) }
    }

    /// One address for `host:port` (an IPv6 literal without brackets); successive calls rotate over all addresses of the name.
    pub(super) async fn resolve(&self, host: &str, port: u16) -> Option<SocketAddr> {
        if let Some(pin) = self.pins.iter().find(|p| p.port == port && p.host.eq_ignore_ascii_case(host)) {
            return Some(pin.addr);
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some(SocketAddr::new(ip, port));
        }
        let resolver = self.system.get_or_init(|| async { system_resolver() }).await.as_ref()?;
        let found: Vec<IpAddr> = resolver.lookup_ip(host).await.ok()?.iter().collect();
        let pick = self.turn.fetch_add(1, Ordering::Relaxed) % found.len().max(1);
        found.get(pick).map(|ip| SocketAddr::new(*ip, port))
    }
}

fn system_resolver() -> Option<TokioResolver> {
    match TokioResolver::builder_tokio().and_then(|b| b.build()) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the system DNS configuration; only --resolve pins and IP addresses will work");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pins_and_literals_skip_dns() {
        let r = Resolver::new(vec![Pin {
            host: "productpage".into(),
            port: 9080,
            addr: "127.0.0.9:9080".parse().unwrap(),
        }]);
        assert_eq!(r.resolve("ProductPage", 9080).await, Some("127.0.0.9:9080".parse().unwrap()));
        assert_eq!(r.resolve("127.0.0.2", 80).await, Some("127.0.0.2:80".parse().unwrap()));
        assert_eq!(r.resolve("::1", 81).await, Some("[::1]:81".parse().unwrap()));
    }

    #[tokio::test]
    async fn hosts_file_names_resolve() {
        // /etc/hosts is read by the resolver, so this needs no network.
        let r = Resolver::new(vec![]);
        let addr = r.resolve("localhost", 80).await.expect("localhost resolves");
        assert!(addr.ip().is_loopback());
    }
}
