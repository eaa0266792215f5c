//! What a Job in a cluster needs around the run: a start-up gate (`--wait-for`), a last push of
//! the final metrics (`--pushgateway`), and telling the mesh sidecar to quit so the pod completes.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout, Instant};

use crate::input::config::{Plan, Sidecar};
use crate::model::outcome::ErrorType;
use crate::model::scenario::Route;
use crate::net::client::{Client, ClientOptions, Want};

/// Istio's pilot-agent: POST /quitquitquit ends the sidecar.
const ISTIO: (SocketAddr, &str) =
    (SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 15020), "/quitquitquit");
/// Linkerd's proxy admin: POST /shutdown ends the sidecar.
const LINKERD: (SocketAddr, &str) =
    (SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 4191), "/shutdown");

/// A client for one request with the run's TLS and pin settings, speaking HTTP/1.1 whatever the
/// target gets: sidecars and the Pushgateway need not speak h2.
fn client(plan: &Plan, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Client {
    let route = Route { name: String::new(), method, uri, headers, body, weight: 1, classifier: None, login: false };
    Client::new(&[route], &ClientOptions { http2: false, ..plan.client().options().clone() }, 1)
}

/// Send the client's one request and return its status.
async fn call(plan: &Plan, client: &Client) -> Result<u16, ErrorType> {
    let answer = timeout(plan.client().timeout(), client.send(0, 0, &(), Want::default(), &mut Vec::new()))
        .await
        .map_err(|_| ErrorType::Timeout)??;
    Ok(answer.status)
}

/// Retry GET `--wait-for` until it answers 2xx, backing off from 250 ms to 2 s between tries and
/// logging at most every 5 s what the last try got; `false` once `--wait-timeout` has passed (an
/// attempt under way may overrun it by up to `--timeout`).
pub(crate) async fn wait_for(plan: &Plan) -> bool {
    const LOG_EVERY: Duration = Duration::from_secs(5);
    let Some(uri) = plan.cluster().wait_for() else { return true };
    let client = client(plan, Method::GET, uri.clone(), HeaderMap::new(), Bytes::new());
    let started = Instant::now();
    let deadline = started + plan.cluster().wait_timeout();
    let mut pause = Duration::from_millis(250);
    let mut logged: Option<Instant> = None;
    loop {
        let outcome = call(plan, &client).await;
        if matches!(outcome, Ok(200..=299)) {
            tracing::info!(url = %uri, waited = ?started.elapsed(), "--wait-for answered; starting");
            return true;
        }
        if Instant::now() + pause > deadline {
            return false;
        }
        if logged.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
            let got = match outcome {
                Ok(status) => format!("HTTP {status}"),
                Err(e) => format!("{} error", e.as_str()),
            };
            tracing::info!("waiting for --wait-for {uri}: last try got {got}; retrying until --wait-timeout");
            logged = Some(Instant::now());
        }
        sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// PUT the final metrics under job=trafficgen/instance=<run id>[/shard=<n>]; failures are logged, not fatal.
pub(crate) async fn push(plan: &Plan, metrics_text: String) {
    let Some(base) = plan.cluster().pushgateway() else {
        return;
    };
    let mut path =
        format!("{}/metrics/job/trafficgen/instance/{}", base.path().trim_end_matches('/'), plan.cluster().run_id());
    if plan.cluster().shard().count > 1 {
        path.push_str(&format!("/shard/{}", plan.cluster().shard().index));
    }
    let uri = Uri::builder()
        .scheme(base.scheme_str().unwrap_or("http"))
        .authority(base.authority().map_or("", |a| a.as_str()))
        .path_and_query(path)
        .build();
    let Ok(uri) = uri else {
        tracing::error!(pushgateway = %base, "cannot build the push URL");
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    let client = client(plan, Method::PUT, uri.clone(), headers, Bytes::from(metrics_text));
    match call(plan, &client).await {
        Ok(200..=299) => tracing::info!(url = %uri, "pushed final metrics"),
        outcome => tracing::error!(url = %uri, outcome = ?outcome, "pushing final metrics failed"),
    }
}

/// Tell the sidecar to quit. `Auto` acts only inside a pod and only where a sidecar answers.
pub(crate) async fn quit_sidecar(mesh: &Sidecar, in_pod: bool) {
    let targets: Vec<(SocketAddr, &str)> = match mesh {
        Sidecar::None => vec![],
        Sidecar::Auto if !in_pod => vec![],
        Sidecar::Auto => {
            let mut found = vec![];
            for (addr, path) in [ISTIO, LINKERD] {
                if timeout(Duration::from_millis(300), TcpStream::connect(addr)).await.is_ok_and(|c| c.is_ok()) {
                    found.push((addr, path));
                }
            }
            found
        }
        Sidecar::Istio => vec![ISTIO],
        Sidecar::Linkerd => vec![LINKERD],
        Sidecar::Url(addr, path) => vec![(*addr, path.as_str())],
    };
    for (addr, path) in targets {
        match post(addr, path).await {
            Ok(status) => tracing::info!(%addr, path, status, "asked the mesh sidecar to quit"),
            Err(e) => {
                tracing::warn!(%addr, path, error = %e, "could not ask the mesh sidecar to quit")
            }
        }
    }
}

/// A bare HTTP/1.1 POST to a loopback admin port; works even when the configuration was invalid.
async fn post(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        let req = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).await?;
        std::str::from_utf8(&head[9..12])
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
    };
    timeout(Duration::from_secs(2), exchange).await.map_err(|_| std::io::ErrorKind::TimedOut)?
}
