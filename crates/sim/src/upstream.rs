//! A tiny keep-alive HTTP/1 client for the simulated services' calls to each other over loopback.
//!
//! hyper-util's pooled client is not among our features; this is enough for GETs between six local
//! services, and it owns its connection tasks so none outlive the simulation.

use bytes::Bytes;
use http::{header, HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Idle connections kept per destination; more than this are closed after use.
const MAX_IDLE: usize = 64;

/// Why a call failed (the response status is not a failure here; callers judge it).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error("timed out")]
    Timeout,
    #[error("connect: {0}")]
    Connect(#[from] std::io::Error),
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
}

type Sender = SendRequest<Empty<Bytes>>;

/// Keep-alive connections by destination, plus the tasks driving them.
#[derive(Debug, Default)]
pub(crate) struct Upstream {
    idle: Mutex<HashMap<SocketAddr, Vec<Sender>>>,
    /// Dropping the client aborts these, so connections never outlive their owner.
    conns: Mutex<JoinSet<()>>,
}

impl Upstream {
    /// GETs `path` from `addr` with the given `Host` and headers, within `timeout`.
    pub(crate) async fn get(
        &self,
        addr: SocketAddr,
        host: &str,
        path: &str,
        headers: &HeaderMap,
        timeout: Duration,
    ) -> Result<(StatusCode, HeaderMap, Bytes), CallError> {
        tokio::time::timeout(timeout, self.get_inner(addr, host, path, headers))
            .await
            .map_err(|_| CallError::Timeout)?
    }

    async fn get_inner(
        &self,
        addr: SocketAddr,
        host: &str,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<(StatusCode, HeaderMap, Bytes), CallError> {
        let mut sender = match self.take_idle(addr) {
            Some(s) => s,
            None => self.connect(addr).await?,
        };
        let mut req =
            Request::get(path).header(header::HOST, host).body(Empty::new()).expect("static request parts are valid");
        req.headers_mut().extend(headers.iter().map(|(k, v)| (k.clone(), v.clone())));
        let resp = sender.send_request(req).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        // Only a connection that is ready for the next request goes back to the pool.
        if sender.ready().await.is_ok() {
            self.put_idle(addr, sender);
        }
        Ok((parts.status, parts.headers, body))
    }

    fn take_idle(&self, addr: SocketAddr) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(&addr)?;
        while let Some(s) = list.pop() {
            if s.is_ready() && !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    fn put_idle(&self, addr: SocketAddr, sender: Sender) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.entry(addr).or_default();
        if list.len() < MAX_IDLE {
            list.push(sender);
        }
    }

    async fn connect(&self, addr: SocketAddr) -> Result<Sender, CallError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        // Reap finished connection tasks so the set does not grow with churn.
        while conns.try_join_next().is_some() {}
        conns.spawn(async move {
            // A connection error just ends this connection; the caller already saw it.
            let _ = conn.await;
        });
        Ok(sender)
    }
}
