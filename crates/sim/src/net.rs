//! Listening: bind with the address named on failure, and accept with Nagle off.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::serve::{ListenerExt, TapIo};
use axum::Router;
use tokio::net::{TcpListener, TcpStream};

use crate::error::ServeError;

/// Binds a listener, naming the address on failure.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })
}

/// Accepted connections with `TCP_NODELAY`: a small response must not wait for Nagle's timer
/// (HTTP/2 against a Nagle socket showed a 40 ms p99).
pub(crate) fn nodelay(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    })
}

/// Serves `router` on `listener` (Nagle off) until `shutdown` completes: every HTTP server of
/// the binary, the simulation's and trafficgen's own `/metrics` alike. Not generic, so axum's,
/// hyper's and h2's server code is compiled once, here, rather than once in each crate that
/// starts a server.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
) -> std::io::Result<()> {
    axum::serve(nodelay(listener), router).with_graceful_shutdown(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = nodelay(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (io, _) = listener.accept().await;
        assert!(io.nodelay().unwrap());
    }
}
