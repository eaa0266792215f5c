//! The one send loop. Open and closed loop differ only in the pacer: open-loop ticks wait for
//! their deadline and are dropped when `--max-in-flight` is reached; closed-loop ticks are due at
//! once and wait for a free slot instead.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;
use tokio::time::{sleep, sleep_until, timeout, Instant};

use crate::client::Client;
use crate::metrics::{Metrics, Observer};
use crate::pacer::{Pacer, Tick};
use crate::recorder::{ErrorType, Outcome, Recorder};

/// Why sending stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Keep going.
    Running,
    /// The sending window is over: let in-flight requests finish (each is bounded by `--timeout`).
    Done,
    /// A signal: drain in-flight requests for at most `--drain-timeout`.
    Signal,
}

/// What all workers share.
#[derive(Debug)]
pub struct Shared {
    /// The HTTP client.
    pub client: Client,
    /// Where outcomes go for the summary.
    pub recorder: Recorder,
    /// Where outcomes go for Prometheus.
    pub metrics: Metrics,
    /// Route of request n is `wheel[n % wheel.len()]`: a smooth weighted round robin.
    pub wheel: Vec<usize>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Drain bound after a signal.
    pub drain_timeout: Duration,
}

/// Run worker `id`: send the pacer's ticks with at most `cap` in flight until the schedule ends
/// or `stop` says so, then drain.
pub async fn work(
    shared: Arc<Shared>,
    id: usize,
    mut pacer: Pacer,
    cap: usize,
    mut stop: watch::Receiver<Stop>,
) {
    let mut observer = shared.metrics.observer(&[]);
    let mut in_flight = FuturesUnordered::new();
    let finish = |o: Outcome, observer: &mut Observer| {
        shared.metrics.in_flight.dec();
        shared.recorder.record(id, &o);
        observer.observe(&o);
    };
    while let Some(tick) = pacer.peek() {
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s != Stop::Running) => break,
            Some(o) = in_flight.next() => finish(o, &mut observer),
            _ = due(tick), if pacer.is_open() || in_flight.len() < cap => {
                pacer.advance();
                if in_flight.len() >= cap {
                    shared.recorder.drop_send(id);
                    shared.metrics.dropped.inc();
                    continue;
                }
                shared.metrics.in_flight.inc();
                in_flight.push(send(&shared, tick));
            }
        }
    }
    let signalled = async {
        let _ = stop.wait_for(|s| *s == Stop::Signal).await;
        sleep(shared.drain_timeout).await;
    };
    tokio::pin!(signalled);
    loop {
        tokio::select! {
            o = in_flight.next() => match o {
                Some(o) => finish(o, &mut observer),
                None => break,
            },
            _ = &mut signalled => {
                let left = in_flight.len();
                shared.recorder.cancel(id, left as u64);
                shared.metrics.in_flight.sub(left as i64);
                break;
            }
        }
    }
}

async fn due(tick: Tick) {
    if let Some(at) = tick.due {
        sleep_until(at).await;
    }
}

async fn send(shared: &Shared, tick: Tick) -> Outcome {
    let started = Instant::now();
    let intended = tick.due.unwrap_or(started);
    let route = shared.wheel[(tick.index % shared.wheel.len() as u64) as usize];
    let mut body = Vec::new();
    let result = timeout(
        shared.timeout,
        shared.client.send(route, None, 0, &mut body),
    )
    .await;
    let end = Instant::now();
    let (status, error) = match result {
        Err(_) => (None, Some(ErrorType::Timeout)),
        Ok(Err(e)) => (None, Some(e)),
        Ok(Ok(answer)) => (Some(answer.status), ErrorType::from_status(answer.status)),
    };
    Outcome {
        route,
        status,
        error,
        latency: end.saturating_duration_since(intended),
        service_time: end.saturating_duration_since(started),
        class: None,
    }
}

/// A smooth weighted round robin over route indices (nginx's algorithm): weights 2,1 give 0,1,0.
pub fn wheel(weights: &[u32]) -> Vec<usize> {
    let total: i64 = weights.iter().map(|w| i64::from(*w)).sum();
    let mut current = vec![0i64; weights.len()];
    (0..total)
        .map(|_| {
            for (c, w) in current.iter_mut().zip(weights) {
                *c += i64::from(*w);
            }
            let (best, _) = current
                .iter()
                .enumerate()
                .max_by_key(|(i, c)| (**c, -(*i as i64)))
                .expect("at least one route");
            current[best] -= total;
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_interleaves_by_weight() {
        assert_eq!(wheel(&[1]), vec![0]);
        assert_eq!(wheel(&[1, 1, 1]), vec![0, 1, 2]);
        let w = wheel(&[8, 1, 1]);
        assert_eq!(w.len(), 10);
        assert_eq!(w.iter().filter(|r| **r == 0).count(), 8);
    }
}
