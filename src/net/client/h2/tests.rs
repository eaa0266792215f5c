//! The h2 exchange against a loopback hyper server: bodies past the flow-control windows,
//! trailers, a stream the server resets, and GOAWAY in the middle of a run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::server::conn::http2 as server2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::Notify;

use crate::model::outcome::ErrorType;
use crate::net::client::{Client, Want};

/// More than the stream's and the connection's receive windows together (2 + 5 MiB).
const BIG: usize = 8 << 20;

type Body = BoxBody<Bytes, Infallible>;

/// The answer to `path`; `/reset` fails, which hyper's server answers with RST_STREAM.
fn answer(path: &str) -> Result<http::Response<Body>, std::io::Error> {
    let body = match path {
        "/big" => Full::new(Bytes::from(vec![b'x'; BIG])).boxed(),
        "/trailers" => {
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_static("0"));
            let frames = [Frame::data(Bytes::from_static(b"abc")), Frame::trailers(trailers)];
            StreamBody::new(futures_util::stream::iter(frames.map(Ok))).boxed()
        }
        "/reset" => return Err(std::io::Error::other("the test resets this stream")),
        _ => Full::new(Bytes::from_static(b"ok")).boxed(),
    };
    Ok(http::Response::new(body))
}

/// A loopback h2 server that says GOAWAY on each connection once it has had `goaway_after`
/// requests, and counts the connections it accepts.
async fn server(goaway_after: u64) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            let (seen, enough) = (Arc::new(AtomicU64::new(0)), Arc::new(Notify::new()));
            let notify = enough.clone();
            let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                if seen.fetch_add(1, Ordering::Relaxed) + 1 == goaway_after {
                    notify.notify_one();
                }
                std::future::ready(answer(request.uri().path()))
            });
            tokio::spawn(async move {
                let conn = server2::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(tcp), service);
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => return,
                    () = enough.notified() => conn.as_mut().graceful_shutdown(),
                }
                let _ = conn.await;
            });
        }
    });
    (addr, accepted)
}

/// A client for `path` on `addr` over h2 with one connection.
fn client(addr: SocketAddr, path: &str) -> Client {
    let argv = vec!["trafficgen".into(), "--connections=1".into(), "--http2".into(), format!("http://{addr}{path}")];
    let plan = crate::commands::cli::plan_from(argv, Vec::new()).expect("valid test config");
    Client::new(plan.target().routes(), plan.client().options(), 1)
}

/// Send one request, keeping up to 64 bytes of body: status and body, or the error type.
async fn send(client: &Client) -> Result<(u16, Vec<u8>), ErrorType> {
    let mut body = Vec::new();
    let answer = client.send(0, 0, &(), Want { body: 64, headers: true }, &mut body).await?;
    Ok((answer.status, body))
}

#[tokio::test]
async fn bodies_past_the_windows_and_trailers_arrive_whole() {
    let (addr, _) = server(u64::MAX).await;
    // Twice: the windows given back by the first must carry the second.
    let big = client(addr, "/big");
    for _ in 0..2 {
        assert_eq!(send(&big).await, Ok((200, vec![b'x'; 64])));
    }
    assert_eq!(send(&client(addr, "/trailers")).await, Ok((200, b"abc".to_vec())));
}

#[tokio::test]
async fn a_stream_the_server_resets_is_a_reset_and_the_connection_goes_on() {
    let (addr, accepted) = server(u64::MAX).await;
    assert_eq!(send(&client(addr, "/reset")).await, Err(ErrorType::Reset));
    let ok = client(addr, "/");
    assert_eq!(send(&ok).await, Ok((200, b"ok".to_vec())));
    assert_eq!(accepted.load(Ordering::Relaxed), 2, "one connection per client");
}

#[tokio::test]
async fn goaway_mid_run_moves_the_load_to_a_new_connection() {
    // One request at a time: each request after a GOAWAY goes on a new connection, none fails.
    let (addr, accepted) = server(3).await;
    let one = client(addr, "/");
    for i in 0..10 {
        assert_eq!(send(&one).await, Ok((200, b"ok".to_vec())), "request {i}");
    }
    assert!(accepted.load(Ordering::Relaxed) >= 3, "{accepted:?} connections");
    // Many at once: a stream the GOAWAY refused goes again on a new connection, and ends as a
    // reset only if refused there too.
    let (addr, accepted) = server(5).await;
    let many = client(addr, "/");
    let results = futures_util::future::join_all((0..40).map(|_| send(&many))).await;
    for result in &results {
        assert!(matches!(result, Ok((200, _)) | Err(ErrorType::Reset)), "{result:?}");
    }
    assert!(results.iter().filter(|r| r.is_ok()).count() >= 5, "{results:?}");
    assert_eq!(send(&many).await, Ok((200, b"ok".to_vec())));
    assert!(accepted.load(Ordering::Relaxed) >= 2, "{accepted:?} connections");
}
