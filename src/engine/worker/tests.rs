//! The send loop under paused time: drops beyond the cap, the drain after a signal, the abort
//! at the drain timeout. The target accepts connections and never answers, so every request
//! stays in flight until its timeout or the abort ends it; tokio's paused clock jumps to each
//! next deadline, so these run in no wall time and always see the same schedule.

use std::collections::HashMap;
use std::num::NonZeroUsize;

use bytes::Bytes;
use http::{HeaderMap, Method};
use tokio::net::TcpListener;
use tokio::time::sleep_until;

use super::*;
use crate::net::client::ClientOptions;
use crate::output::recorder::Counts;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Shared state for one worker sending to a loopback port that never answers.
async fn silent_target() -> (Arc<Shared>, TcpListener) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let route = Route {
        name: "/".into(),
        method: Method::GET,
        uri,
        headers: HeaderMap::new(),
        body: Bytes::new(),
        weight: 1,
        classifier: None,
        login: false,
    };
    let options = ClientOptions {
        connections: NonZeroUsize::new(8).unwrap(),
        http2: false,
        insecure: false,
        cacerts: Vec::new(),
        pins: Vec::new(),
        nameserver: None,
    };
    let routes = vec![route];
    let shared = Shared {
        client: Client::new(&routes, &options, 1),
        recorder: Recorder::new(1),
        metrics: Metrics::new(&routes, HashMap::new()),
        named: routes.clone(),
        routes,
        login: None,
        wheel: vec![0],
        timeout: TIMEOUT,
        trace: Tracer::default(),
    };
    (Arc::new(shared), listener)
}

/// 100 req/s for one second with room for two in flight.
fn pacer() -> Pacer {
    Pacer::new(Instant::now(), Some(100.0), 0, 1, None, Some(Duration::from_secs(1)))
}

fn counts(shared: &Shared) -> Counts {
    shared.recorder.total().counts
}

#[tokio::test(start_paused = true)]
async fn open_loop_drops_what_exceeds_the_cap_and_times_out_the_rest() {
    let (shared, _listener) = silent_target().await;
    let (_stop, stopped) = watch::channel(Stop::Running);
    work(shared.clone(), 0, pacer(), Instant::now(), 2, stopped).await;
    let c = counts(&shared);
    assert_eq!((c.requests, c.dropped), (2, 98), "{c:?}");
    assert_eq!(c.error_types.get(&ErrorType::Timeout), Some(&2), "{c:?}");
    assert_eq!(shared.metrics.in_flight.get(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_signal_stops_sending_and_drains_what_is_in_flight() {
    let (shared, _listener) = silent_target().await;
    let (stop, stopped) = watch::channel(Stop::Running);
    let worker = tokio::spawn(work(shared.clone(), 0, pacer(), Instant::now(), 2, stopped));
    // Ticks are due every 10 ms (and wake 1 ms early): 51 of them by 505 ms.
    tokio::time::sleep(Duration::from_millis(505)).await;
    stop.send(Stop::Signal).unwrap();
    worker.await.unwrap();
    let c = counts(&shared);
    assert_eq!((c.requests, c.dropped), (2, 49), "{c:?}");
    // Drained, not cancelled: each in-flight request ran to its own timeout.
    assert_eq!(c.error_types.get(&ErrorType::Timeout), Some(&2), "{c:?}");
}

#[tokio::test(start_paused = true)]
async fn the_abort_cancels_what_the_drain_left() {
    let (shared, _listener) = silent_target().await;
    let (stop, stopped) = watch::channel(Stop::Running);
    let worker = tokio::spawn(work(shared.clone(), 0, pacer(), Instant::now(), 2, stopped));
    tokio::time::sleep(Duration::from_millis(505)).await;
    stop.send(Stop::Signal).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.send(Stop::Abort).unwrap();
    worker.await.unwrap();
    let c = counts(&shared);
    assert_eq!((c.requests, c.dropped), (2, 49), "{c:?}");
    assert_eq!(c.error_types.get(&ErrorType::Cancelled), Some(&2), "{c:?}");
}

#[tokio::test]
async fn a_backlog_of_due_ticks_still_hands_the_thread_back() {
    use std::sync::atomic::{AtomicBool, Ordering};
    // On this current-thread runtime the spawned task runs only when the loop yields, as the
    // runtime's I/O is read only then: responses wait while the loop works off due ticks.
    let yielded = Arc::new(AtomicBool::new(false));
    let flag = yielded.clone();
    tokio::spawn(async move { flag.store(true, Ordering::Relaxed) });
    let mut timer = std::pin::pin!(sleep_until(Instant::now()));
    let mut ticks = 0;
    while !yielded.load(Ordering::Relaxed) {
        due(timer.as_mut(), false).await;
        ticks += 1;
        assert!(ticks <= 1000, "1000 due ticks in one go");
    }
}

#[test]
fn wheel_interleaves_by_weight() {
    assert_eq!(wheel(&[1]), vec![0]);
    assert_eq!(wheel(&[1, 1, 1]), vec![0, 1, 2]);
    let w = wheel(&[8, 1, 1]);
    assert_eq!(w.len(), 10);
    assert_eq!(w.iter().filter(|r| **r == 0).count(), 8);
}
