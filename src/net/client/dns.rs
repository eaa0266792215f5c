//! Name resolution without libc: `--resolve` pins first, then hickory-resolver configured from
//! /etc/resolv.conf (nameservers, search domains, ndots) and /etc/hosts, so `productpage` resolves
//! inside a pod as curl would. Answers are cached for their TTL and then asked again; together
//! with the client's maximum connection age, changes to Services and pods are followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::TokioResolver;
use tokio::sync::OnceCell;

/// `--resolve host:port:addr[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pin {
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
    /// Ask only this server (UDP) instead of the system's; for tests.
    nameserver: Option<SocketAddr>,
    system: OnceCell<Result<TokioResolver, String>>,
    turn: AtomicUsize,
}

impl Resolver {
    /// A resolver that answers `pins` itself and asks DNS (the system's, or `nameserver`) for everything else.
    pub(super) fn new(pins: Vec<Pin>, nameserver: Option<SocketAddr>) -> Self {
        Resolver { pins, nameserver, system: OnceCell::new(), turn: AtomicUsize::new(0) }
    }

    /// Every address of `host:port` (an IPv6 literal without brackets), or what the DNS answered
    /// instead. Successive calls start at successive addresses, so new connections spread over
    /// a headless Service's pods; the others follow in resolver order, as fall-backs.
    pub(super) async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        if let Some(pin) = self.pins.iter().find(|p| p.port == port && p.host.eq_ignore_ascii_case(host)) {
            return Ok(vec![pin.addr]);
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let resolver = self.system.get_or_init(|| async { build(self.nameserver) }).await.as_ref()?;
        let mut found: Vec<SocketAddr> = resolver
            .lookup_ip(host)
            .await
            .map_err(|e| lookup_error(host, &e))?
            .iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect();
        if found.is_empty() {
            return Err(format!("no address for {host}"));
        }
        let start = self.turn.fetch_add(1, Ordering::Relaxed) % found.len();
        found.rotate_left(start);
        Ok(found)
    }
}

/// A lookup's failure as a person reads it (hickory's own text shows its query structs).
fn lookup_error(host: &str, e: &hickory_resolver::net::NetError) -> String {
    if e.is_nx_domain() {
        format!("no A/AAAA record for {host}: no such name (NXDOMAIN)")
    } else if e.is_no_records_found() {
        format!("no A/AAAA record for {host}")
    } else {
        let text = e.to_string();
        let short = text.split(['{', '(']).next().unwrap_or(&text).trim().trim_end_matches(':');
        format!("lookup of {host} failed: {short}")
    }
}

fn build(nameserver: Option<SocketAddr>) -> Result<TokioResolver, String> {
    let built = match nameserver {
        None => TokioResolver::builder_tokio().and_then(|b| b.build()),
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut server = NameServerConfig::udp(addr.ip());
            server.connections = vec![udp];
            let mut builder =
                TokioResolver::builder_with_config(ResolverConfig::from_name_servers(vec![server]), Default::default());
            builder.options_mut().timeout = Duration::from_secs(1);
            builder.options_mut().attempts = 1;
            builder.build()
        }
    };
    built.map_err(|e| {
        tracing::warn!(error = %e, "cannot read the system DNS configuration; only --resolve pins and IP addresses will work");
        format!("no DNS configuration: {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_that_does_not_exist_reads_as_such() {
        // A resolver on loopback that answers every query NXDOMAIN (its id and question, RCODE 3).
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server = socket.local_addr().unwrap();
        let answering = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let mut end = 12;
                while end < n && buf[end] != 0 {
                    end += 1 + usize::from(buf[end]);
                }
                let mut answer = vec![buf[0], buf[1], 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0];
                answer.extend_from_slice(&buf[12..(end + 5).min(n)]);
                let _ = socket.send_to(&answer, from).await;
            }
        });
        let r = Resolver::new(Vec::new(), Some(server));
        let e = r.resolve("productpage.bookinfo.svc.cluster.local", 9080).await.unwrap_err();
        answering.abort();
        assert!(e.starts_with("no A/AAAA record for productpage.bookinfo.svc.cluster.local"), "{e}");
        assert!(!e.contains("Query {") && !e.contains("Name("), "{e}");
    }

    #[tokio::test]
    async fn pins_and_literals_skip_dns() {
        let r = Resolver::new(
            vec![Pin { host: "productpage".into(), port: 9080, addr: "127.0.0.9:9080".parse().unwrap() }],
            None,
        );
        assert_eq!(r.resolve("ProductPage", 9080).await, Ok(vec!["127.0.0.9:9080".parse().unwrap()]));
        assert_eq!(r.resolve("127.0.0.2", 80).await, Ok(vec!["127.0.0.2:80".parse().unwrap()]));
        assert_eq!(r.resolve("::1", 81).await, Ok(vec!["[::1]:81".parse().unwrap()]));
    }

    #[tokio::test]
    async fn hosts_file_names_resolve() {
        // /etc/hosts is read by the resolver, so this needs no network.
        let r = Resolver::new(vec![], None);
        let addrs = r.resolve("localhost", 80).await.expect("localhost resolves");
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
