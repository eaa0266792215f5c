//! The Prometheus view of a run: an own registry, children cached per worker, and the axum
//! endpoint serving `/metrics` and `/healthz`.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::model::classify::Classifier;
use crate::model::outcome::{ErrorType, Outcome};
use crate::model::scenario::Route;

mod process;

/// OpenTelemetry's recommended buckets for `http.client.request.duration`, in seconds.
pub(crate) const BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

const DURATION_LABELS: [&str; 5] =
    ["http_request_method", "http_response_status_code", "error_type", "server_address", "route"];

/// Every metric trafficgen exports.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    /// The registry served on /metrics.
    pub registry: Registry,
    duration: HistogramVec,
    /// `trafficgen_target_rps`.
    pub target_rps: Gauge,
    /// `trafficgen_warmup`: 1 during the `--warmup`, else 0.
    pub warmup: IntGauge,
    /// `trafficgen_stage`: the running `--stages` stage, 1-based; 0 without stages.
    pub stage: IntGauge,
    /// `trafficgen_in_flight_requests`.
    pub in_flight: IntGauge,
    /// `trafficgen_requests_dropped_total`.
    pub dropped: IntCounter,
    responses: IntCounterVec,
    routes: Arc<[RouteLabels]>,
}

#[derive(Debug)]
struct RouteLabels {
    method: String,
    server: String,
    name: String,
    classifier: Option<Arc<Classifier>>,
}

impl Metrics {
    /// Register everything, with the known label sets of `routes` and `classes` present at 0.
    pub(crate) fn new(routes: &[Route], const_labels: HashMap<String, String>) -> Self {
        let registry = Registry::new_custom(None, Some(const_labels)).expect("valid const labels");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_client_request_duration_seconds",
                "Duration of HTTP client requests, from the intended send time (coordinated-omission corrected).",
            )
            .buckets(BUCKETS.to_vec()),
            &DURATION_LABELS,
        )
        .expect("valid histogram");
        let target_rps =
            Gauge::new("trafficgen_target_rps", "Configured request rate (0 = closed loop).").expect("valid gauge");
        let warmup = IntGauge::new(
            "trafficgen_warmup",
            "1 while the run is in its --warmup (counted here, left out of the summary), else 0.",
        )
        .expect("valid gauge");
        let stage = IntGauge::new("trafficgen_stage", "The --stages stage being sent, 1-based; 0 without stages.")
            .expect("valid gauge");
        let in_flight =
            IntGauge::new("trafficgen_in_flight_requests", "Requests sent and not yet answered.").expect("valid gauge");
        let dropped =
            IntCounter::new("trafficgen_requests_dropped_total", "Sends skipped because --max-in-flight was reached.")
                .expect("valid counter");
        let responses = IntCounterVec::new(
            Opts::new("trafficgen_responses_total", "Responses by route and response class."),
            &["route", "response_class"],
        )
        .expect("valid counter");
        let build = IntGauge::with_opts(
            Opts::new("trafficgen_build_info", "Build information; always 1.")
                .const_label("version", env!("CARGO_PKG_VERSION")),
        )
        .expect("valid gauge");
        build.set(1);
        let process = process::Process::for_self();
        for c in [
            Box::new(duration.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(target_rps.clone()),
            Box::new(warmup.clone()),
            Box::new(stage.clone()),
            Box::new(in_flight.clone()),
            Box::new(dropped.clone()),
            Box::new(responses.clone()),
            Box::new(build),
            Box::new(process),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        let plan_routes = routes;
        let routes: Arc<[RouteLabels]> = routes
            .iter()
            .map(|r| RouteLabels {
                method: r.method.to_string(),
                server: r.uri.host().unwrap_or_default().to_string(),
                name: r.name.clone(),
                classifier: r.classifier.clone(),
            })
            .collect();
        for (r, route) in routes.iter().zip(plan_routes) {
            if route.weight == 0 {
                continue;
            }
            duration.with_label_values(&[r.method.as_str(), "200", "", &r.server, &r.name]);
            for class in r.classifier.iter().flat_map(|c| c.classes()) {
                responses.with_label_values(&[r.name.as_str(), class]);
            }
        }
        Metrics { registry, duration, target_rps, warmup, stage, in_flight, dropped, responses, routes }
    }

    /// Register `trafficgen_run_info{run_id}` = 1.
    pub(crate) fn run_info(&self, run_id: &str) {
        let info = IntGauge::with_opts(
            Opts::new("trafficgen_run_info", "Identifies this run; always 1.").const_label("run_id", run_id),
        )
        .expect("valid gauge");
        info.set(1);
        self.registry.register(Box::new(info)).expect("registered once");
    }

    /// A per-worker recorder of outcomes into these metrics.
    pub(crate) fn observer(&self) -> Observer {
        Observer { metrics: self.clone(), cache: HashMap::new(), last: None }
    }

    /// The text exposition of the registry.
    pub(crate) fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).expect("text encoding cannot fail");
        String::from_utf8(buf).expect("text exposition is UTF-8")
    }
}

/// Route, status, error and class: what picks an outcome's label children.
type OutcomeKey = (usize, Option<u16>, Option<ErrorType>, Option<u16>);

/// Caches label children so the hot path does no label lookups after the first of each kind.
#[derive(Debug)]
pub(crate) struct Observer {
    metrics: Metrics,
    cache: HashMap<OutcomeKey, (Histogram, Option<IntCounter>)>,
    /// The last outcome's key and children: most outcomes repeat the one before, and comparing
    /// keys is cheaper than hashing one.
    last: Option<(OutcomeKey, (Histogram, Option<IntCounter>))>,
}

impl Observer {
    /// Count one outcome.
    pub(crate) fn observe(&mut self, o: &Outcome) {
        let key = (o.route, o.status, o.error, o.class);
        if self.last.as_ref().is_some_and(|(k, _)| *k != key) {
            self.last = None;
        }
        let (m, cache) = (&self.metrics, &mut self.cache);
        let (_, (histogram, class)) = self.last.get_or_insert_with(|| {
            let children = cache.entry(key).or_insert_with(|| {
                let r = &m.routes[o.route];
                let status = o.status.map(|s| s.to_string()).unwrap_or_default();
                let error = o.error.map_or("", ErrorType::as_str);
                let h = m.duration.with_label_values(&[r.method.as_str(), &status, error, &r.server, &r.name]);
                let class = o.class.zip(r.classifier.as_ref()).map(|(id, c)| c.class_name(id));
                let c = class.map(|c| m.responses.with_label_values(&[r.name.as_str(), &c]));
                (h, c)
            });
            (key, children.clone())
        });
        histogram.observe(o.latency.as_secs_f64());
        if let Some(c) = class {
            c.inc();
        }
    }
}

/// Bind the metrics listener; failing here is a runtime error (exit 1), before any request is sent.
pub(crate) async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// `/metrics` and `/healthz` over `metrics`.
pub(crate) fn router(metrics: Metrics) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let body = metrics.render();
                async move { ([(CONTENT_TYPE, TextEncoder::new().format_type().to_string())], body) }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
}

/// Serve `router` on `listener` until `shutdown` resolves.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    if let Err(e) = sim::serve(listener, router, Box::pin(shutdown)).await {
        tracing::error!(error = %e, "metrics server failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::Request;
    use std::time::Duration;
    use tower::ServiceExt;

    fn route() -> Route {
        let uri: http::Uri = "http://productpage:9080/productpage".parse().unwrap();
        Route {
            name: "/productpage".into(),
            method: http::Method::GET,
            uri,
            headers: Default::default(),
            body: Default::default(),
            weight: 1,
            classifier: None,
            login: false,
        }
    }

    #[tokio::test]
    async fn exposes_known_series_at_zero_and_counts_outcomes() {
        let mut r = route();
        r.classifier = Some(Arc::new(Classifier::from_flags(&["v1=stars".to_string()], None, None).unwrap()));
        let m = Metrics::new(&[r], HashMap::new());
        let text = m.render();
        assert!(text.contains(r#"http_client_request_duration_seconds_count{error_type="",http_request_method="GET",http_response_status_code="200",route="/productpage",server_address="productpage"} 0"#), "{text}");
        assert!(text.contains(r#"trafficgen_responses_total{response_class="v1",route="/productpage"} 0"#));
        assert!(text.contains("trafficgen_build_info{version="));
        assert!(text.contains("process_resident_memory_bytes"));
        let mut obs = m.observer();
        let o = Outcome {
            route: 0,
            status: Some(503),
            error: Some(ErrorType::Http5xx),
            latency: Duration::from_millis(30),
            service_time: Duration::from_millis(30),
            class: Some(0),
        };
        obs.observe(&o);
        obs.observe(&o);
        let text = m.render();
        assert!(text.contains(r#"error_type="http_5xx",http_request_method="GET",http_response_status_code="503",route="/productpage",server_address="productpage",le="0.05"} 2"#), "{text}");
        assert!(text.contains(r#"trafficgen_responses_total{response_class="v1",route="/productpage"} 2"#));
    }

    #[tokio::test]
    async fn serves_metrics_and_health() {
        let app = router(Metrics::new(&[route()], HashMap::new()));
        let res = app.clone().oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        let res = app.oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), 200);
    }
}
