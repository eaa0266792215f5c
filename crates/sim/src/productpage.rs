//! productpage: the HTML page, login/logout, the JSON API, and its calls to details and reviews.
//!
//! Two deliberate departures from the Python original, both documented here:
//! - details and reviews are called concurrently: the target environment's averages (productpage 150 ms
//!   while details 50 + reviews ~108 already exceed it) are only consistent with overlapping calls.
//! - The user `jason` always gets reviews v2. In a mesh that is Istio's `reviews-test-v2` route acting on
//!   the forwarded `end-user` header; there is no mesh here, so the simulation applies the rule itself.

use crate::data::{self, Details, RatingsDoc, ReviewsDoc};
use crate::pages;
use crate::services::{service_router, CallFailure, Sim};
use crate::workload::Workload;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use bytes::Bytes;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

/// productpage's timeout for each call to details and reviews.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
const PP: Workload = Workload::Productpage;

/// All productpage routes, plus its own `/metrics` (not recorded as traffic).
pub(crate) fn router(sim: &Arc<Sim>) -> Router {
    let routes = Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/productpage", get(product_page))
        .route("/login", post(login))
        .route("/logout", get(logout))
        .route("/api/v1/products", get(products))
        .route("/api/v1/products/{id}", get(api_details))
        .route("/api/v1/products/{id}/reviews", get(api_reviews))
        .route("/api/v1/products/{id}/ratings", get(api_ratings));
    let telemetry = sim.telemetry.clone();
    service_router(sim, PP, routes, "Product page is healthy")
        .route("/metrics", get(move || async move { telemetry.productpage_metrics() }))
}

async fn index(State(sim): State<Arc<Sim>>) -> Response {
    if let Some(r) = sim.abort(PP) {
        return r;
    }
    Html(pages::index_page()).into_response()
}

/// Trace headers productpage.py passes on as they came (its `propagate_headers` list).
const VERBATIM: [&str; 10] = [
    "x-request-id",
    "x-ot-span-context",
    "x-datadog-trace-id",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "traceparent",
    "tracestate",
    "x-cloud-trace-context",
    "grpc-trace-bin",
    "sw8",
];

/// Headers for productpage's calls, as the real productpage sends them: the verbatim trace
/// headers, B3 re-emitted by OpenTelemetry's B3 propagator (same trace id, productpage's own new
/// span id, the sampled flag; no parent span id, no flags), and `end-user` when someone is
/// logged in. `traceparent` goes on untouched: the B3 propagator neither reads nor rewrites it.
fn outgoing(headers: &HeaderMap, user: Option<&str>) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in VERBATIM {
        if let Some(v) = headers.get(name) {
            out.insert(name, v.clone());
        }
    }
    if let Some(trace_id) = b3_trace_id(headers) {
        let text = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
        let sampled =
            matches!(text("x-b3-sampled").as_deref(), Some("1" | "true")) || text("x-b3-flags").as_deref() == Some("1");
        let value = |s: String| HeaderValue::from_str(&s).expect("hex is a valid header");
        out.insert("x-b3-traceid", value(format!("{trace_id:032x}")));
        out.insert("x-b3-spanid", value(format!("{:016x}", fastrand::u64(1..))));
        out.insert("x-b3-sampled", HeaderValue::from_static(if sampled { "1" } else { "0" }));
    }
    if let Some(v) = user.and_then(|u| HeaderValue::from_str(u).ok()) {
        out.insert("end-user", v);
    }
    out
}

/// A valid incoming B3 trace id (16 or 32 hex digits, not zero), which the propagator continues.
fn b3_trace_id(headers: &HeaderMap) -> Option<u128> {
    let text = headers.get("x-b3-traceid")?.to_str().ok()?;
    let id = u128::from_str_radix(text, 16).ok().filter(|_| matches!(text.len(), 16 | 32))?;
    (id != 0).then_some(id)
}

async fn product_page(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    if let Some(r) = sim.abort(PP) {
        return r;
    }
    let user = sim.sessions.user(&headers);
    let out = outgoing(&headers, user.as_deref());
    let (details, reviews) = tokio::join!(fetch_details(&sim, &out, 0), fetch_reviews(&sim, &out, user.as_deref(), 0));
    let details: Option<Details> = details.ok().and_then(|b| serde_json::from_slice(&b).ok());
    let reviews: Option<ReviewsDoc> = reviews.ok().and_then(|b| serde_json::from_slice(&b).ok());
    sim.work(PP).await;
    Html(pages::product_page(user.as_deref(), details.as_ref().ok_or(()), reviews.as_ref().ok_or(()))).into_response()
}

async fn fetch_details(sim: &Sim, out: &HeaderMap, id: i64) -> Result<Bytes, CallFailure> {
    sim.call(PP, Workload::Details, &format!("/details/{id}"), out, CALL_TIMEOUT).await
}

/// Calls one reviews version (picked like kube-proxy would, or v2 for jason), retrying once as productpage does.
async fn fetch_reviews(sim: &Sim, out: &HeaderMap, user: Option<&str>, id: i64) -> Result<Bytes, CallFailure> {
    let path = format!("/reviews/{id}");
    let mut last = Err(None);
    for _ in 0..2 {
        last = sim.call(PP, pick_reviews(user), &path, out, CALL_TIMEOUT).await;
        if last.is_ok() {
            break;
        }
    }
    last
}

fn pick_reviews(user: Option<&str>) -> Workload {
    if user == Some("jason") {
        return Workload::ReviewsV2;
    }
    [Workload::ReviewsV1, Workload::ReviewsV2, Workload::ReviewsV3][fastrand::usize(..3)]
}

/// The sign-in form; `passwd` is accepted and ignored, as productpage ignores passwords.
#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
}

/// Redirects like Flask's `redirect(request.referrer)`: to the Referer, or literally `None` without one.
fn back(headers: &HeaderMap, cookie: &str) -> Response {
    let location = headers.get(header::REFERER).cloned().unwrap_or(HeaderValue::from_static("None"));
    let cookie = HeaderValue::from_str(cookie).unwrap_or(HeaderValue::from_static("session="));
    (StatusCode::FOUND, [(header::LOCATION, location), (header::SET_COOKIE, cookie)]).into_response()
}

async fn login(State(sim): State<Arc<Sim>>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    if let Some(r) = sim.abort(PP) {
        return r;
    }
    back(&headers, &sim.sessions.set_cookie(&form.username))
}

async fn logout(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    if let Some(r) = sim.abort(PP) {
        return r;
    }
    back(&headers, crate::session::Sessions::clear_cookie())
}

async fn products(State(sim): State<Arc<Sim>>) -> Response {
    if let Some(r) = sim.abort(PP) {
        return r;
    }
    json(StatusCode::OK, Bytes::from(data::products_json()))
}

fn json(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The API answers the backend's body, or its status (500 without one) with productpage's error text.
fn api_answer(result: Result<Bytes, CallFailure>, error: &str) -> Response {
    match result {
        Ok(body) => json(StatusCode::OK, body),
        Err(status) => {
            let body = serde_json::json!({ "error": error }).to_string();
            json(status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Bytes::from(body))
        }
    }
}

async fn api_details(State(sim): State<Arc<Sim>>, Path(id): Path<i64>, headers: HeaderMap) -> Response {
    if let Some(r) = sim.abort(PP) {
        return r;
    }
    let user = sim.sessions.user(&headers);
    let result = fetch_details(&sim, &outgoing(&headers, user.as_deref()), id).await;
    sim.work(PP).await;
    api_answer(result, data::DETAILS_UNAVAILABLE)
}

async fn api_reviews(State(sim): State<Arc<Sim>>, Path(id): Path<i64>, headers: HeaderMap) -> Response {
    if let Some(r) = sim.abort(PP) {
        return r;
    }
    let user = sim.sessions.user(&headers);
    let result = fetch_reviews(&sim, &outgoing(&headers, user.as_deref()), user.as_deref(), id).await;
    sim.work(PP).await;
    api_answer(result, data::REVIEWS_UNAVAILABLE)
}

async fn api_ratings(State(sim): State<Arc<Sim>>, Path(id): Path<i64>, headers: HeaderMap) -> Response {
    if let Some(r) = sim.abort(PP) {
        return r;
    }
    let user = sim.sessions.user(&headers);
    let out = outgoing(&headers, user.as_deref());
    let result = sim.call(PP, Workload::Ratings, &format!("/ratings/{id}"), &out, CALL_TIMEOUT).await;
    sim.work(PP).await;
    // Re-encode so a garbled backend body cannot pass through as valid JSON.
    let result = result.and_then(|b| {
        let doc: RatingsDoc = serde_json::from_slice(&b).map_err(|_| None)?;
        Ok(Bytes::from(serde_json::to_vec(&doc).unwrap_or_default()))
    });
    api_answer(result, data::RATINGS_API_UNAVAILABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_tracing_headers_and_the_session_user() {
        let mut incoming = HeaderMap::new();
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        for (k, v) in [
            ("x-request-id", "r1"),
            ("x-b3-traceid", "0af7651916cd43dd8448eb211c80319c"),
            ("x-b3-spanid", "b7ad6b7169203331"),
            ("x-b3-parentspanid", "00f067aa0ba902b7"),
            ("x-b3-sampled", "1"),
            ("traceparent", traceparent),
            ("tracestate", "k=v"),
            ("end-user", "mallory"),
            ("cookie", "session=x"),
            ("accept", "text/html"),
        ] {
            incoming.insert(k, HeaderValue::from_static(v));
        }
        let out = outgoing(&incoming, Some("jason"));
        assert_eq!(out["x-request-id"], "r1");
        assert_eq!(out["x-b3-traceid"], "0af7651916cd43dd8448eb211c80319c", "same trace");
        assert_ne!(out["x-b3-spanid"], "b7ad6b7169203331", "productpage's own span");
        assert_eq!(out["x-b3-spanid"].len(), 16);
        assert_eq!(out["x-b3-sampled"], "1");
        assert!(out.get("x-b3-parentspanid").is_none() && out.get("x-b3-flags").is_none());
        assert_eq!(out["traceparent"], traceparent, "forwarded as is");
        assert_eq!(out["tracestate"], "k=v");
        assert_eq!(out["end-user"], "jason", "end-user comes from the session, not the client");
        assert!(out.get("cookie").is_none() && out.get("accept").is_none());
        assert!(outgoing(&incoming, None).get("end-user").is_none());
        incoming.insert("x-b3-traceid", HeaderValue::from_static("t1"));
        assert!(outgoing(&incoming, None).get("x-b3-traceid").is_none(), "an invalid B3 context is not continued");
        incoming.remove("x-b3-traceid");
        assert!(outgoing(&incoming, None).get("x-b3-spanid").is_none(), "no B3 in, none out");
    }

    #[test]
    fn jason_always_gets_v2() {
        assert!((0..50).all(|_| pick_reviews(Some("jason")) == Workload::ReviewsV2));
        let picks: std::collections::BTreeSet<_> = (0..200).map(|_| pick_reviews(None)).collect();
        assert_eq!(picks.len(), 3);
    }
}
