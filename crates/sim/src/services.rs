//! State shared by the simulated services, and the three backends: details, reviews, ratings.

use crate::data::{Details, RatingsDoc, ReviewsDoc};
use crate::istio::SOURCE_HEADER;
use crate::session::Sessions;
use crate::telemetry::{self, Recorder, Telemetry};
use crate::upstream::Upstream;
use crate::workload::{Behaviour, Workload};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Headers reviews passes on to ratings, so traces and user routing survive the hop (productpage has its own rule).
const FORWARDED: [&str; 10] = [
    "x-request-id",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "x-ot-span-context",
    "traceparent",
    "tracestate",
    "end-user",
];

/// Everything the six services share: metrics, the loopback client, addresses and behaviours.
#[derive(Debug)]
pub(crate) struct Sim {
    pub(crate) telemetry: Arc<Telemetry>,
    pub(crate) upstream: Upstream,
    pub(crate) sessions: Sessions,
    /// Listener address per workload, indexed like [`Workload::ALL`].
    pub(crate) addrs: [SocketAddr; 6],
    behaviours: [Behaviour; 6],
}

/// Why a call to another service gave no usable answer: its status, or `None` if there was none.
pub(crate) type CallFailure = Option<StatusCode>;

impl Sim {
    pub(crate) fn new(telemetry: Arc<Telemetry>, addrs: [SocketAddr; 6], behaviours: [Behaviour; 6]) -> Sim {
        Sim { telemetry, upstream: Upstream::default(), sessions: Sessions::default(), addrs, behaviours }
    }

    fn behaviour(&self, w: Workload) -> &Behaviour {
        &self.behaviours[w as usize]
    }

    /// An injected 503 (as Envoy's fault filter words it), if this request draws one.
    pub(crate) fn abort(&self, w: Workload) -> Option<Response> {
        self.behaviour(w).fails().then(|| (StatusCode::SERVICE_UNAVAILABLE, "fault filter abort").into_response())
    }

    /// Spends the workload's own processing time (plus any injected delay), counted as its CPU time.
    pub(crate) async fn work(&self, w: Workload) {
        let t = self.behaviour(w).service_time();
        self.telemetry.kube.cpu_seconds(w, t.as_secs_f64());
        if self.behaviour(w).restarts() {
            self.telemetry.kube.crash_loop(w);
        }
        if !t.is_zero() {
            tokio::time::sleep(t).await;
        }
    }

    /// GETs `path` from workload `to` on behalf of `from`; any non-2xx status is a failure.
    pub(crate) async fn call(
        &self,
        from: Workload,
        to: Workload,
        path: &str,
        forward: &HeaderMap,
        timeout: Duration,
    ) -> Result<Bytes, CallFailure> {
        let mut headers = forward.clone();
        headers.insert(SOURCE_HEADER, HeaderValue::from_static(from.deployment()));
        let host = format!("{}:9080", to.service());
        let result = self.upstream.get(self.addrs[to as usize], &host, path, &headers, timeout).await;
        // The caller's side of the exchange, for cAdvisor; and productpage counts each call's result.
        let sent =
            (path.len() + 16 + host.len() + headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum::<usize>())
                as u64;
        let received = result.as_ref().map_or(0, |(_, h, body)| {
            (h.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum::<usize>() + 19 + body.len()) as u64
        });
        self.telemetry.kube.bytes(from, received, sent);
        if from == Workload::Productpage {
            let code = result.as_ref().map_or(500, |(status, _, _)| status.as_u16());
            self.telemetry.call_result(to, code);
        }
        match result {
            Ok((status, _, body)) if status.is_success() => Ok(body),
            Ok((status, _, _)) => Err(Some(status)),
            Err(_) => Err(None),
        }
    }
}

/// The subset of `incoming` that is forwarded to the next hop.
pub(crate) fn forward_headers(incoming: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in FORWARDED {
        if let Some(v) = incoming.get(name) {
            out.insert(name, v.clone());
        }
    }
    out
}

/// Wraps a workload's business routes with Istio recording and adds an unrecorded `/health`.
pub(crate) fn service_router(sim: &Arc<Sim>, w: Workload, routes: Router<Arc<Sim>>, health: &'static str) -> Router {
    let recorder = Recorder { telemetry: sim.telemetry.clone(), workload: w };
    routes
        .route_layer(axum::middleware::from_fn_with_state(recorder, telemetry::record))
        .route("/health", get(move || async move { health }))
        .with_state(sim.clone())
}

/// details: `GET /details/{id}`.
pub(crate) fn details_router(sim: &Arc<Sim>) -> Router {
    let routes = Router::new().route("/details/{id}", get(details));
    service_router(sim, Workload::Details, routes, "{\"status\":\"Details is healthy\"}")
}

async fn details(State(sim): State<Arc<Sim>>, Path(id): Path<i64>) -> Response {
    if let Some(r) = sim.abort(Workload::Details) {
        return r;
    }
    sim.work(Workload::Details).await;
    Json(Details::book(id)).into_response()
}

/// ratings: `GET /ratings/{id}`.
pub(crate) fn ratings_router(sim: &Arc<Sim>) -> Router {
    let routes = Router::new().route("/ratings/{id}", get(ratings));
    service_router(sim, Workload::Ratings, routes, "{\"status\":\"Ratings is healthy\"}")
}

async fn ratings(State(sim): State<Arc<Sim>>, Path(id): Path<i64>) -> Response {
    if let Some(r) = sim.abort(Workload::Ratings) {
        return r;
    }
    sim.work(Workload::Ratings).await;
    Json(RatingsDoc::book(id)).into_response()
}

/// reviews v1/v2/v3: `GET /reviews/{id}`; v2 and v3 call ratings.
pub(crate) fn reviews_router(sim: &Arc<Sim>, w: Workload) -> Router {
    let handler = move |state, path, headers| reviews(state, w, path, headers);
    let routes = Router::new().route("/reviews/{id}", get(handler));
    service_router(sim, w, routes, "{\"status\": \"Reviews is healthy\"}")
}

async fn reviews(State(sim): State<Arc<Sim>>, w: Workload, Path(id): Path<i64>, headers: HeaderMap) -> Response {
    if let Some(r) = sim.abort(w) {
        return r;
    }
    // The Java service waits 10 s for ratings with black stars and 2.5 s with red ones.
    let rated = match w {
        Workload::ReviewsV2 => Some(("black", Duration::from_secs(10))),
        Workload::ReviewsV3 => Some(("red", Duration::from_millis(2500))),
        _ => None,
    };
    let mut ratings = None;
    if let Some((color, timeout)) = rated {
        let path = format!("/ratings/{id}");
        let body = sim.call(w, Workload::Ratings, &path, &forward_headers(&headers), timeout).await;
        let doc = body.ok().and_then(|b| serde_json::from_slice::<RatingsDoc>(&b).ok());
        ratings = Some((doc, color));
    }
    sim.work(w).await;
    let ratings = ratings.as_ref().map(|(doc, color)| (doc.as_ref().ok_or(()), *color));
    let doc = ReviewsDoc::new(id, w.pod(), ratings);
    Json(doc).into_response()
}
