//! Opening a connection: every address of the name, RFC 8305-style (each attempt gets a head
//! start of [`ATTEMPT_DELAY`], a failure starts the next at once), then TLS. A failure is typed
//! here and reported (see `failure`) with the error of every address tried.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{Client, Target, Wire};
use crate::model::outcome::ErrorType;

/// RFC 8305's recommended Connection Attempt Delay: how long an attempt runs alone before the
/// next address is tried alongside it.
pub(super) const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

impl Client {
    /// A new connection to `target`, TLS included.
    pub(super) async fn dial(&self, target: &Target) -> Result<Wire, ErrorType> {
        let addrs = match self.resolver.resolve(&target.host, target.port).await {
            Ok(addrs) => addrs,
            Err(answer) => return Err(self.note(target, ErrorType::Dns, || answer)),
        };
        let tcp = connect_any(&addrs).await.map_err(|failed| {
            let kind =
                failed.iter().map(|(_, e)| connect_error(e)).max_by_key(|k| rank(*k)).unwrap_or(ErrorType::Connect);
            self.note(target, kind, || {
                failed.iter().map(|(addr, e)| format!("{addr}: {e}")).collect::<Vec<_>>().join("; ")
            })
        })?;
        // Latency matters more than packet count for small requests.
        let _ = tcp.set_nodelay(true);
        let Some(name) = &target.tls else {
            return Ok(Box::new(tcp));
        };
        match TlsConnector::from(self.tls.clone()).connect(name.clone(), tcp).await {
            Ok(tls) => Ok(Box::new(tls)),
            Err(e) => {
                let kind = match e.kind() {
                    io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof => ErrorType::Reset,
                    _ => ErrorType::Tls,
                };
                Err(self.note(target, kind, || format!("TLS handshake: {e}")))
            }
        }
    }
}

/// Try `addrs` in order, starting the next one when the latest has run alone for
/// [`ATTEMPT_DELAY`] or when an attempt fails; the first to connect wins, the others are dropped.
/// On failure, every address with its error.
pub(super) async fn connect_any(addrs: &[SocketAddr]) -> Result<TcpStream, Vec<(SocketAddr, io::Error)>> {
    let mut pending = addrs.iter().copied();
    let mut attempts = FuturesUnordered::new();
    let mut failed = Vec::new();
    let attempt = |addr: SocketAddr| async move { (addr, TcpStream::connect(addr).await) };
    attempts.extend(pending.next().map(attempt));
    loop {
        tokio::select! {
            done = attempts.next() => match done {
                Some((_, Ok(tcp))) => return Ok(tcp),
                Some((addr, Err(e))) => {
                    failed.push((addr, e));
                    attempts.extend(pending.next().map(attempt));
                }
                None => return Err(failed),
            },
            _ = tokio::time::sleep(ATTEMPT_DELAY), if pending.len() > 0 => attempts.extend(pending.next().map(attempt)),
        }
    }
}

/// A failed connect: refused or unreachable is `connect`; a peer that accepted and reset at once
/// is `reset` (the listener is there), an OS timeout is `timeout`.
fn connect_error(e: &io::Error) -> ErrorType {
    match e.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe => {
            ErrorType::Reset
        }
        io::ErrorKind::TimedOut => ErrorType::Timeout,
        _ => ErrorType::Connect,
    }
}

/// Of several addresses' failures, the one closest to the server wins.
fn rank(kind: ErrorType) -> u8 {
    match kind {
        ErrorType::Reset => 2,
        ErrorType::Timeout => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn falls_back_to_the_next_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up = listener.local_addr().unwrap();
        let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let tcp = connect_any(&[down, up]).await.expect("the second address answers");
        assert_eq!(tcp.peer_addr().unwrap(), up);
        let failed = connect_any(&[down, down]).await.unwrap_err();
        assert_eq!(failed.len(), 2);
        assert_eq!(connect_error(&failed[0].1), ErrorType::Connect);
    }
}
