//! The plain `serve` target: configurable delay, errors and body size, with its own server-side metrics.

use crate::error::ServeError;
use crate::units::{parse_duration, parse_size, parse_status};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use serde::Deserialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// Filler bodies are slices of this, so sized responses cost no allocation up to 1 MiB.
static FILLER: LazyLock<Bytes> = LazyLock::new(|| {
    let line = b"trafficgen serve filler 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
    Bytes::from(line.iter().copied().cycle().take(1 << 20).collect::<Vec<u8>>())
});

#[derive(Debug)]
struct Target {
    opts: TargetOptions,
    /// `--workers`: requests in service at once; the rest wait in its FIFO queue.
    workers: Option<Workers>,
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

/// What `serve --help` says of the per-request overrides.
pub const QUERY_HELP: &str = "\
Per-request query parameters of the plain target (they override the flags for that request):
  ?status=CODE     answer with this status, e.g. ?status=503
  ?delay=DURATION  wait this long instead of --delay/--jitter, e.g. ?delay=50ms
  ?size=BYTES      answer a body of this many bytes, e.g. ?size=1000
  They combine: /any/path?status=503&delay=50ms&size=1000. GET /metrics and /healthz are the target's own.";

/// Per-request overrides: `?status=503&delay=50ms&size=1000`.
#[derive(Debug, Default, Deserialize)]
struct Overrides {
    status: Option<String>,
    delay: Option<String>,
    size: Option<String>,
}

/// Validated options of the plain target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetOptions {
    /// Base response delay.
    pub delay: Duration,
    /// Uniform jitter around `delay`.
    pub jitter: Duration,
    /// Fraction of requests answered with `error_status`.
    pub error_rate: f64,
    /// Status used for injected errors.
    pub error_status: http::StatusCode,
    /// Body size in bytes; 0 answers `ok\n`.
    pub response_size: usize,
    /// Requests in service at once, the others queued first come first served; 0 = no limit.
    pub workers: usize,
}

impl Default for TargetOptions {
    fn default() -> TargetOptions {
        TargetOptions {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            error_status: http::StatusCode::INTERNAL_SERVER_ERROR,
            response_size: 0,
            workers: 0,
        }
    }
}

/// The plain target: every path except `/metrics` and `/healthz` answers per `opts` (and query overrides).
pub fn target_router(opts: TargetOptions) -> Router {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new("trafficgen_serve_requests_total", "Requests answered by the serve target."),
        &["code"],
    )
    .expect("static metric definition");
    let duration = HistogramVec::new(
        HistogramOpts::new(
            "trafficgen_serve_request_duration_seconds",
            "Time from request to response head in the serve target.",
        )
        .buckets(prometheus::exponential_buckets(0.0005, 2.0, 16).expect("static buckets")),
        &["code"],
    )
    .expect("static metric definition");
    registry.register(Box::new(requests.clone())).expect("fresh registry");
    registry.register(Box::new(duration.clone())).expect("fresh registry");
    let workers = (opts.workers > 0).then(|| Workers::new(opts.workers));
    let state = Arc::new(Target { opts, workers, registry, requests, duration });
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(answer)
        .with_state(state)
}

async fn answer(State(t): State<Arc<Target>>, Query(q): Query<Overrides>) -> Response {
    let start = Instant::now();
    let resp = match respond(&t.opts, &q, t.workers.as_ref()).await {
        Ok(r) => r,
        Err(msg) => (StatusCode::BAD_REQUEST, msg).into_response(),
    };
    let code = resp.status().as_u16().to_string();
    t.requests.with_label_values(&[&code]).inc();
    t.duration.with_label_values(&[&code]).observe(start.elapsed().as_secs_f64());
    resp
}

async fn respond(opts: &TargetOptions, q: &Overrides, workers: Option<&Workers>) -> Result<Response, String> {
    let bad = |e: ServeError| e.to_string();
    let delay = match &q.delay {
        Some(d) => parse_duration("delay", d).map_err(bad)?,
        None => jittered(opts.delay, opts.jitter),
    };
    let status = match &q.status {
        Some(s) => parse_status("status", s).map_err(bad)?,
        None if opts.error_rate > 0.0 && fastrand::f64() < opts.error_rate => opts.error_status,
        None => StatusCode::OK,
    };
    let size = match &q.size {
        Some(s) => parse_size("size", s).map_err(bad)?,
        None => opts.response_size,
    };
    match workers {
        Some(workers) => tokio::time::sleep_until(workers.book(delay)).await,
        None if !delay.is_zero() => tokio::time::sleep(delay).await,
        None => {}
    }
    let body = match size {
        0 if status.is_success() => Bytes::from_static(b"ok\n"),
        0 => Bytes::from(format!("injected error {}\n", status.as_u16())),
        n if n <= FILLER.len() => FILLER.slice(..n),
        n => Bytes::from(FILLER.iter().copied().cycle().take(n).collect::<Vec<u8>>()),
    };
    Ok((status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// K servers behind one FIFO queue, in virtual time: a request arriving now is served by the
/// server that frees first, from when it frees (or now) for its delay. Computing each end time,
/// rather than holding a permit while sleeping, keeps the capacity exactly K / delay however late
/// the timer wakes a handler: like the generator's pacer, the schedule is absolute. A request
/// whose client gives up keeps its place, as it would in a real server's queue.
#[derive(Debug)]
struct Workers {
    /// When each server is next free, earliest first.
    free_at: Mutex<BinaryHeap<Reverse<tokio::time::Instant>>>,
}

impl Workers {
    fn new(k: usize) -> Workers {
        let now = tokio::time::Instant::now();
        Workers { free_at: Mutex::new((0..k).map(|_| Reverse(now)).collect()) }
    }

    /// Queue a request that takes `delay` in service; returns when it is done.
    fn book(&self, delay: Duration) -> tokio::time::Instant {
        let mut free_at = self.free_at.lock().unwrap_or_else(|p| p.into_inner());
        let Reverse(free) = free_at.pop().expect("at least one worker");
        let done = free.max(tokio::time::Instant::now()) + delay;
        free_at.push(Reverse(done));
        done
    }
}

/// `delay` plus uniform jitter in [-jitter, +jitter], floored at zero.
fn jittered(delay: Duration, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return delay;
    }
    let offset = jitter.as_secs_f64() * (2.0 * fastrand::f64() - 1.0);
    Duration::from_secs_f64((delay.as_secs_f64() + offset).max(0.0))
}

async fn metrics(State(t): State<Arc<Target>>) -> Response {
    encode(&t.registry)
}

/// Renders a registry in the Prometheus text format.
pub(crate) fn encode(registry: &Registry) -> Response {
    let encoder = TextEncoder::new();
    let mut buf = Vec::new();
    match encoder.encode(&registry.gather(), &mut buf) {
        Ok(()) => ([(header::CONTENT_TYPE, encoder.format_type().to_owned())], buf).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(router: &Router, uri: &str) -> (StatusCode, Bytes) {
        let req = http::Request::get(uri).body(Body::empty()).unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        (status, resp.into_body().collect().await.unwrap().to_bytes())
    }

    #[tokio::test]
    async fn answers_ok_by_default() {
        let r = target_router(TargetOptions::default());
        assert_eq!(call(&r, "/anything").await, (StatusCode::OK, Bytes::from_static(b"ok\n")));
        assert_eq!(call(&r, "/healthz").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn honours_overrides() {
        let r = target_router(TargetOptions::default());
        let (status, body) = call(&r, "/x?status=503&size=1000&delay=1ms").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body.len(), 1000);
        let (status, body) = call(&r, "/x?delay=soon").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(String::from_utf8_lossy(&body).starts_with("invalid delay=\"soon\": expected a duration"));
    }

    #[tokio::test]
    async fn injects_errors_at_the_configured_rate() {
        let opts = TargetOptions {
            error_rate: 1.0,
            error_status: StatusCode::BAD_GATEWAY,
            response_size: 10,
            ..Default::default()
        };
        let r = target_router(opts);
        let (status, body) = call(&r, "/").await;
        assert_eq!((status, body.len()), (StatusCode::BAD_GATEWAY, 10));
    }

    #[tokio::test]
    async fn counts_requests_in_its_own_metrics() {
        let r = target_router(TargetOptions::default());
        call(&r, "/").await;
        call(&r, "/?status=404").await;
        let (status, body) = call(&r, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("trafficgen_serve_requests_total{code=\"200\"} 1"), "{text}");
        assert!(text.contains("trafficgen_serve_requests_total{code=\"404\"} 1"), "{text}");
        assert!(text.contains("trafficgen_serve_request_duration_seconds_bucket{code=\"200\""), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn workers_serve_k_at_once_and_queue_the_rest_in_order() {
        let opts = TargetOptions { workers: 2, delay: Duration::from_millis(10), ..Default::default() };
        let r = target_router(opts);
        let start = tokio::time::Instant::now();
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let r = r.clone();
                tokio::spawn(async move {
                    call(&r, "/").await;
                    start.elapsed()
                })
            })
            .collect();
        let mut done = Vec::new();
        for c in calls {
            done.push(c.await.unwrap().as_millis());
        }
        // Two at a time, 10 ms each: the queue drains in three rounds, first come first served.
        assert_eq!(done, [10, 10, 20, 20, 30, 30]);
    }

    #[test]
    fn jitter_stays_in_bounds() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_millis(20), Duration::from_millis(5));
            assert!(d >= Duration::from_millis(15) && d <= Duration::from_millis(25));
        }
        assert!(jittered(Duration::ZERO, Duration::from_millis(5)) <= Duration::from_millis(5));
    }
}
