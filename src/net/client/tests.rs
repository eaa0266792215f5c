//! The connection pool against a loopback server that counts connections.

use std::sync::atomic::AtomicU64;

use http_body_util::Full;
use hyper::server::conn::{http1 as server1, http2 as server2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::*;

/// A loopback server that answers every request with 200 and counts the connections it accepts.
async fn counting_server(h2: bool) -> (std::net::SocketAddr, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            let ok = service_fn(|_| async { Ok::<_, hyper::Error>(http::Response::new(Full::new(Bytes::new()))) });
            let io = TokioIo::new(tcp);
            tokio::spawn(async move {
                if h2 {
                    let _ = server2::Builder::new(TokioExecutor::new()).serve_connection(io, ok).await;
                } else {
                    let _ = server1::Builder::new().serve_connection(io, ok).await;
                }
            });
        }
    });
    (addr, accepted)
}

async fn connections_for_two_requests(h2: bool, max_age: Duration) -> u64 {
    let (addr, accepted) = counting_server(h2).await;
    let mut argv = vec!["trafficgen".to_string(), "--connections=1".into(), format!("http://{addr}/")];
    if h2 {
        argv.push("--http2".into());
    }
    let plan = crate::commands::cli::plan_from(argv, Vec::new()).expect("valid test config");
    let mut client = Client::new(plan.target().routes(), plan.client().options(), 1);
    client.max_age = max_age;
    for _ in 0..2 {
        let answer = client.send(0, 0, &(), Want::default(), &mut Vec::new()).await.expect("loopback answers");
        assert_eq!(answer.status, 200);
    }
    accepted.load(Ordering::Relaxed)
}

#[tokio::test]
async fn connections_are_reused_until_too_old() {
    for h2 in [false, true] {
        assert_eq!(connections_for_two_requests(h2, MAX_CONNECTION_AGE).await, 1, "h2={h2}");
        assert_eq!(connections_for_two_requests(h2, Duration::ZERO).await, 2, "h2={h2}");
    }
}
