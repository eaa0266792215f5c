//! How to send: keep-alive connections, at most `--connections` per target, HTTP/1.1 (our own
//! exchange in [`h1`], each worker with its own share of the connections) or h2 ([`h2`], the `h2`
//! crate, connections shared by the workers),
//! TLS via rustls, names via [`dns`]. Bodies are read and discarded, keeping at most the prefix a
//! classifier asked for. Connections are re-dialled after [`MAX_CONNECTION_AGE`], so DNS changes
//! and kube-proxy's per-connection balancing reach the load.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use bytes::Bytes;
use http::header::{COOKIE, HOST, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Uri};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::model::outcome::ErrorType;
use crate::model::scenario::Route;
use crate::model::url::endpoint;

mod connect;
mod dns;
mod failure;
mod h1;
mod h2;
mod tls;

pub(crate) use dns::Pin;
use dns::Resolver;
use h1::Conn1;
use h2::{Conn2, Stream2};
pub(crate) use tls::read_certs;

/// A connection's byte stream, TCP or TLS over TCP.
type Wire = Box<dyn Stream>;

/// How long a keep-alive connection is reused before a new one is dialled (after a fresh DNS
/// answer). Without it, a scaled Deployment behind a ClusterIP (kube-proxy balances per
/// connection) or a headless Service's new pods would never see this run's load. 30 s is
/// CoreDNS's default TTL for cluster names.
pub(crate) const MAX_CONNECTION_AGE: Duration = Duration::from_secs(30);

/// Status and headers of a response whose body has been read to the end.
#[derive(Debug)]
pub(crate) struct Answer {
    /// Status code.
    pub status: u16,
    /// Response headers; over HTTP/1.1 only when [`Want::headers`] asked for them.
    pub headers: HeaderMap,
    /// When the request went out on a connection (after waiting for one, dialling included).
    pub sent: Instant,
}

/// What of a response the caller looks at beyond its status.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Want {
    /// Keep up to this many bytes of the body.
    pub body: usize,
    /// Keep the headers.
    pub headers: bool,
}

/// The headers one request adds to its route's own, given name and value to `put`: each
/// replaces the route's headers of its name, except a session cookie, which joins the route's
/// cookie. Over HTTP/1.1 they are written straight into the request, with nothing allocated.
/// `()` adds none.
pub(crate) trait Extra: Sync {
    /// Give each header to `put`.
    fn headers(&self, put: &mut dyn FnMut(&'static str, &[u8]));
}

impl Extra for () {
    fn headers(&self, _: &mut dyn FnMut(&'static str, &[u8])) {}
}

/// One worker's HTTP/1.1 connections to a target. A connection is driven by the requests of
/// the worker (and so the runtime thread) that dialled it, and only by them.
#[derive(Debug)]
struct Lane {
    /// Idle connections; a request takes the one idle longest, so the load spreads over all
    /// of them as wrk's and oha's does. Newest-first put most requests on a few connections,
    /// and a fast open loop dropped more sends.
    idle: Mutex<VecDeque<Conn1>>,
    /// One permit per connection of this lane in use: the lanes' shares sum to `--connections`.
    slots: Semaphore,
}

/// One `scheme://host:port` and its connections.
#[derive(Debug)]
struct Target {
    /// `scheme://host:port`, as logs name it.
    origin: String,
    /// Error types already logged for this target (indexed by `ErrorType as usize`).
    seen: [AtomicBool; ErrorType::ALL.len()],
    host: String,
    port: u16,
    tls: Option<ServerName<'static>>,
    /// HTTP/1.1: one lane per worker.
    lanes: Box<[Lane]>,
    /// h2: `--connections` slots of shared connections, used in turn; each slot is locked only
    /// while its own connection is (re)opened.
    shared: Vec<tokio::sync::Mutex<Option<Conn2>>>,
    turn: AtomicUsize,
}

/// A route with everything that does not change per request built once.
#[derive(Debug)]
struct Prepared {
    target: usize,
    method: Method,
    uri: Uri,
    /// HTTP/1.1's request line, `GET /path HTTP/1.1\r\n`.
    line: Vec<u8>,
    headers: HeaderMap,
    body: Bytes,
}

/// How the client connects, validated.
#[derive(Debug, Clone)]
pub(crate) struct ClientOptions {
    /// Maximum connections per target.
    pub connections: NonZeroUsize,
    /// Speak HTTP/2.
    pub http2: bool,
    /// Skip certificate verification.
    pub insecure: bool,
    /// Extra trusted CA certificates.
    pub cacerts: Vec<CertificateDer<'static>>,
    /// Fixed name -> address mappings (`--resolve`).
    pub pins: Vec<Pin>,
    /// Ask only this DNS server (UDP, 1 s timeout) instead of the system's. No flag sets it: it
    /// lets tests stand up a misbehaving resolver.
    pub nameserver: Option<std::net::SocketAddr>,
}

/// The HTTP client of one run.
#[derive(Debug)]
pub(crate) struct Client {
    targets: Vec<Target>,
    routes: Vec<Prepared>,
    resolver: Resolver,
    tls: Arc<ClientConfig>,
    http2: bool,
    /// Connections older than this are not reused: [`MAX_CONNECTION_AGE`] (shorter in tests).
    max_age: Duration,
    /// Connection driver tasks, owned here so none outlives the client.
    drivers: Mutex<JoinSet<()>>,
}

impl Client {
    /// A client for `routes`, sent by `workers` workers (each HTTP/1.1 connection belongs to one).
    pub(crate) fn new(routes: &[Route], opts: &ClientOptions, workers: usize) -> Self {
        let connections = opts.connections.get();
        let lanes = workers.clamp(1, connections);
        let mut targets: Vec<Target> = Vec::new();
        let routes = routes
            .iter()
            .map(|route| {
                let (host, port, https) = endpoint(&route.uri);
                let target = match targets
                    .iter()
                    .position(|t| t.host == host && t.port == port && t.tls.is_some() == https)
                {
                    Some(i) => i,
                    None => {
                        targets.push(Target {
                            origin: format!(
                                "{}://{}",
                                route.uri.scheme_str().unwrap_or("http"),
                                authority(&host, port)
                            ),
                            seen: Default::default(),
                            tls: https.then(|| ServerName::try_from(host.clone()).expect("validated URL host")),
                            host,
                            port,
                            lanes: (0..lanes)
                                .map(|i| Lane {
                                    idle: Mutex::default(),
                                    // Shares that differ by at most one and sum to `--connections`.
                                    slots: Semaphore::new(connections / lanes + usize::from(i < connections % lanes)),
                                })
                                .collect(),
                            // Only h2 shares connections; HTTP/1.1 reserves nothing per connection up front.
                            shared: (0..if opts.http2 { connections } else { 0 })
                                .map(|_| tokio::sync::Mutex::default())
                                .collect(),
                            turn: AtomicUsize::new(0),
                        });
                        targets.len() - 1
                    }
                };
                prepare(route, target, opts.http2)
            })
            .collect();
        Client {
            targets,
            routes,
            resolver: Resolver::new(opts.pins.clone(), opts.nameserver),
            tls: tls::client_config(&opts.cacerts, opts.insecure, opts.http2),
            http2: opts.http2,
            max_age: MAX_CONNECTION_AGE,
            drivers: Mutex::default(),
        }
    }

    /// Send one request on `route` (with `extra` headers) for worker `worker` and read the
    /// response to the end, keeping in `body` what `want` asks for.
    pub(crate) async fn send(
        &self,
        worker: usize,
        route: usize,
        extra: &dyn Extra,
        want: Want,
        body: &mut Vec<u8>,
    ) -> Result<Answer, ErrorType> {
        let r = &self.routes[route];
        let target = &self.targets[r.target];
        // Dialling is boxed, here and on the h2 path: its future is large and rare, and every
        // request's future is as large as its largest state (allocated and copied per request).
        if self.http2 {
            return self.send_h2(target, r, extra, want, body).await;
        }
        let lane = &target.lanes[worker % target.lanes.len()];
        let _slot = lane.slots.acquire().await.expect("semaphore is never closed");
        let sent = Instant::now();
        let mut pooled = self.pop_idle(lane);
        loop {
            let retryable = pooled.is_some();
            let mut conn = match pooled.take() {
                Some(c) => c,
                None => Conn1::new(Box::pin(self.dial(target)).await?),
            };
            match conn.exchange(r, extra, want, body).await {
                Ok((status, headers, reusable)) => {
                    if reusable {
                        lane.idle.lock().unwrap_or_else(|p| p.into_inner()).push_back(conn);
                    }
                    return Ok(Answer { status, headers, sent });
                }
                // A pooled connection the server closed while idle never carried the request:
                // retry once on a new connection.
                Err(f) if retryable && f.unanswered => body.clear(),
                Err(f) => return Err(self.note(target, f.kind, || f.detail)),
            }
        }
    }

    async fn send_h2(
        &self,
        target: &Target,
        r: &Prepared,
        extra: &dyn Extra,
        want: Want,
        body: &mut Vec<u8>,
    ) -> Result<Answer, ErrorType> {
        let sent = Instant::now();
        let mut again = None;
        loop {
            let (slot, stream) = self.shared(target, again).await?;
            match stream.exchange(r, extra, want, body).await {
                Ok((status, headers)) => return Ok(Answer { status, headers, sent }),
                // A request the server never processed (the connection took no new stream, or
                // the server refused its stream) goes once more, in the same slot: a new
                // connection when the old one takes no more. The next slot's connection, as old
                // as this one when the server limits requests per connection, refused it again.
                Err(f) if f.unprocessed && again.is_none() => again = Some(slot),
                Err(f) => return Err(self.note(target, h2::kind(&f.error), || failure::chain(&f.error))),
            }
        }
    }

    /// A stream on the shared h2 connection in `slot` of `target`, or else in the next slot,
    /// opening it when missing, closed or too old, and the slot. Requests still running on a
    /// replaced connection finish on it.
    async fn shared(&self, target: &Target, slot: Option<usize>) -> Result<(usize, Stream2), ErrorType> {
        let i = slot.unwrap_or_else(|| target.turn.fetch_add(1, Ordering::Relaxed) / RUN % target.shared.len());
        let mut slot = target.shared[i].lock().await;
        if let Some(c) = slot.as_ref().filter(|c| c.is_open() && c.opened.elapsed() < self.max_age) {
            return Ok((i, c.stream()));
        }
        // Boxed: dialling and the handshake are rare, and their futures large; inline, they
        // made every request's future as large, allocated and copied per request.
        let conn = Box::pin(self.open_h2(target)).await?;
        let stream = conn.stream();
        *slot = Some(conn);
        Ok((i, stream))
    }

    /// A new h2 connection to `target`, its driver spawned.
    async fn open_h2(&self, target: &Target) -> Result<Conn2, ErrorType> {
        let wire = self.dial(target).await?;
        let (conn, driver) =
            Conn2::open(wire).await.map_err(|e| self.note(target, h2::kind(&e), || failure::chain(&e)))?;
        // The driver is owned by the client, so none outlives it.
        let mut drivers = self.drivers.lock().unwrap_or_else(|p| p.into_inner());
        while drivers.try_join_next().is_some() {}
        drivers.spawn(driver);
        Ok(conn)
    }

    /// The longest idle HTTP/1.1 connection of `lane` still young enough; old ones are dropped.
    fn pop_idle(&self, lane: &Lane) -> Option<Conn1> {
        let mut idle = lane.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(c) = idle.pop_front() {
            if c.opened.elapsed() < self.max_age {
                return Some(c);
            }
        }
        None
    }
}

/// Consecutive h2 requests go on one connection in runs of this many, so the requests of one
/// turn of the send loop (the ticks of one millisecond) share a few writes (and the server's
/// answers a few reads) rather than taking one on every connection; over a few milliseconds
/// each connection still takes its share.
const RUN: usize = 4;

/// A byte stream a connection can run on.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// `host:port`, with brackets around an IPv6 host.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Host, port and whether TLS is used.
fn prepare(route: &Route, target: usize, http2: bool) -> Prepared {
    let mut headers = route.headers.clone();
    if !headers.contains_key(USER_AGENT) {
        headers.insert(USER_AGENT, HeaderValue::from_static(concat!("trafficgen/", env!("CARGO_PKG_VERSION"))));
    }
    let uri = if http2 {
        h2::fit_headers(&mut headers, &route.method, &route.body);
        route.uri.clone()
    } else {
        // HTTP/1.1 wants origin-form plus Host.
        let authority = route.uri.authority().expect("validated URL has a host");
        if !headers.contains_key(HOST) {
            headers.insert(HOST, HeaderValue::from_str(authority.as_str()).expect("authority is a valid header"));
        }
        let path = route.uri.path_and_query().map_or("/", |p| p.as_str());
        path.parse().expect("a path of a valid URI is a valid URI")
    };
    let line = format!("{} {} HTTP/1.1\r\n", route.method, uri).into_bytes();
    Prepared { target, method: route.method.clone(), uri, line, headers, body: route.body.clone() }
}

impl Prepared {
    /// The route's own value that an extra header `name` joins rather than replaces: its
    /// cookie, for a session cookie.
    fn joined_by(&self, name: &str) -> Option<&HeaderValue> {
        (name == COOKIE.as_str()).then(|| self.headers.get(COOKIE)).flatten()
    }
}

#[cfg(test)]
mod tests;
