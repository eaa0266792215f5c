//! End-to-end tests of the Bookinfo simulation over real loopback HTTP (latency scale 0: no sleeping).

use super::*;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(addr: SocketAddr, method: Method, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    let driver = tokio::spawn(conn);
    let mut req = Request::builder().method(method).uri(path).header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = tx.send_request(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap()).await.unwrap();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    drop(tx);
    driver.await.unwrap().unwrap();
    Resp { status: parts.status, headers: parts.headers, body: String::from_utf8(body.to_vec()).unwrap() }
}

async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Resp {
    send(addr, Method::GET, path, headers, "").await
}

async fn start(faults: &[&str]) -> Bookinfo {
    let faults = faults.iter().map(|f| f.parse().unwrap()).collect();
    Bookinfo::start(BookinfoOptions { latency_scale: 0.0, faults, ..Default::default() }).await.unwrap()
}

/// What a product page shows of reviews: `error` when a backend failed (as BOOKINFO.md's error
/// texts read), else the version in the "Reviews served by:" pod name (`v1`, `v2`, `v3`).
fn reviews_version(body: &str) -> String {
    if body.contains("Error fetching product") || body.contains("Ratings service is currently unavailable") {
        return "error".to_owned();
    }
    let pod = body.split("Reviews served by:").nth(1).map(|rest| rest.trim_start().trim_start_matches("<u>"));
    let version = pod.and_then(|p| p.strip_prefix("reviews-")).and_then(|p| p.get(..2));
    version.unwrap_or("unclassified").to_owned()
}

/// Fetches `n` product pages, 10 at a time, and counts the reviews versions they show.
async fn product_pages(sim: &Bookinfo, n: usize, headers: &[(&str, &str)]) -> BTreeMap<String, usize> {
    let mut classes = BTreeMap::new();
    for _ in 0..n / 10 {
        let batch = (0..10).map(|_| get(sim.productpage_addr(), "/productpage", headers));
        for r in futures_util::future::join_all(batch).await {
            assert_eq!(r.status, StatusCode::OK);
            *classes.entry(reviews_version(&r.body)).or_insert(0) += 1;
        }
    }
    classes
}

/// One parsed sample of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').expect("sample has a value");
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.strip_suffix('}').expect("closing brace")),
            None => (series, ""),
        };
        let labels = labels
            .split("\",")
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once("=\"").expect("label is k=\"v\"");
                (k.to_owned(), v.trim_end_matches('"').to_owned())
            })
            .collect();
        let value = value.parse().expect("numeric value");
        out.push(Sample { name: name.to_owned(), labels, value });
    }
    out
}

/// Sum of `istio_requests_total` per `label` value, optionally only for one response code.
fn requests_by(samples: &[Sample], label: &str, code: Option<&str>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for s in samples.iter().filter(|s| s.name == "istio_requests_total" && s.labels["reporter"] == "destination") {
        if code.is_some_and(|c| s.labels["response_code"] != c) {
            continue;
        }
        *out.entry(s.labels[label].clone()).or_insert(0) += s.value as u64;
    }
    out
}

async fn scrape(sim: &Bookinfo) -> Vec<Sample> {
    let r = get(sim.metrics_addr(), "/metrics", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    parse_metrics(&r.body)
}

#[tokio::test]
async fn call_graph_matches_the_metrics() {
    let sim = start(&[]).await;
    let n = 150;
    let classes = product_pages(&sim, n, &[]).await;
    let samples = scrape(&sim).await;
    let by_workload = requests_by(&samples, "destination_workload", None);
    let by_service = requests_by(&samples, "destination_service_name", None);
    assert_eq!(by_workload["productpage-v1"], n as u64);
    assert_eq!(by_service["details"], n as u64);
    assert_eq!(by_service["reviews"], n as u64);
    let (v1, v2, v3) = (by_workload["reviews-v1"], by_workload["reviews-v2"], by_workload["reviews-v3"]);
    assert_eq!(by_service["ratings"], v2 + v3);
    for v in [v1, v2, v3] {
        assert!((20..=80).contains(&v), "versions split {v1}/{v2}/{v3} is far from a third each");
    }
    // The page markup tells the same story as the metrics.
    assert_eq!(classes.get("v1").copied().unwrap_or(0) as u64, v1);
    assert_eq!(classes.get("v2").copied().unwrap_or(0) as u64, v2);
    assert_eq!(classes.get("v3").copied().unwrap_or(0) as u64, v3);
    let stats = sim.service_stats();
    assert_eq!(stats["details"].requests, n as u64);
    assert_eq!(stats["reviews-v2"].requests, v2);
    assert_eq!(stats["ratings"].errors, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn metrics_have_istio_labels() {
    let sim = start(&[]).await;
    product_pages(&sim, 10, &[("x-source-workload", "trafficgen")]).await;
    get(sim.productpage_addr(), "/productpage", &[]).await;
    let samples = scrape(&sim).await;
    let keys = crate::istio::LABELS;
    let istio: Vec<_> = samples.iter().filter(|s| s.name.starts_with("istio_")).collect();
    assert!(!istio.is_empty());
    for s in &istio {
        for k in keys {
            assert!(s.labels.contains_key(k), "{s:?} lacks {k}");
        }
        assert_eq!(s.labels["request_protocol"], "http");
        // The caller's sidecar reports too, but only a Bookinfo workload has one.
        let meshed = s.labels["source_workload_namespace"] == "bookinfo";
        assert!(s.labels["reporter"] == "destination" || meshed, "{s:?}");
        let policy = &s.labels["connection_security_policy"];
        match s.labels["reporter"].as_str() {
            "destination" => assert_eq!(policy, if meshed { "mutual_tls" } else { "none" }, "{s:?}"),
            _ => assert_eq!(policy, "unknown", "{s:?}"),
        }
    }
    let reporters = |dest: &str| -> Vec<&str> {
        let mut v: Vec<&str> = istio
            .iter()
            .filter(|s| s.name == "istio_requests_total" && s.labels["destination_service_name"] == dest)
            .map(|s| s.labels["reporter"].as_str())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(reporters("productpage"), ["destination"], "the callers of productpage have no sidecar");
    assert_eq!(reporters("details"), ["destination", "source"]);
    let sources = |dest: &str| -> Vec<String> {
        let mut v: Vec<_> = istio
            .iter()
            .filter(|s| s.name == "istio_requests_total" && s.labels["destination_service_name"] == dest)
            .map(|s| s.labels["source_workload"].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(sources("productpage"), ["trafficgen", "unknown"]);
    assert_eq!(sources("details"), ["productpage-v1"]);
    assert!(sources("ratings").iter().all(|s| s == "reviews-v2" || s == "reviews-v3"));
    let les: Vec<_> = istio
        .iter()
        .filter(|s| s.name == "istio_request_duration_milliseconds_bucket")
        .map(|s| s.labels["le"].as_str())
        .collect();
    for le in ["1", "250", "3600000", "+Inf"] {
        assert!(les.contains(&le), "bucket le={le} missing");
    }
    // productpage's own /metrics has its call results only, as text/html like Flask's.
    let on_pp = get(sim.productpage_addr(), "/metrics", &[]).await;
    assert!(!on_pp.body.contains("istio_requests_total{"));
    assert!(
        on_pp.body.contains(r#"request_result_total{destination_app="details",response_code="200"}"#),
        "{}",
        on_pp.body
    );
    assert!(on_pp.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    sim.shutdown().await;
}

#[tokio::test]
async fn login_flow_and_jason_routing() {
    let sim = start(&[]).await;
    let pp = sim.productpage_addr();
    let referer = format!("http://{pp}/productpage");
    let form = [("content-type", "application/x-www-form-urlencoded"), ("referer", referer.as_str())];
    let r = send(pp, Method::POST, "/login", &form, "username=jason&passwd=jason").await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.headers["location"], referer.as_str());
    let set = r.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("session=") && set.ends_with("; HttpOnly; Path=/"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();

    let page = get(pp, "/productpage", &[("cookie", &cookie)]).await;
    assert!(page.body.contains(">jason<") && page.body.contains("Sign out"));
    assert!(!page.body.contains("id=\"sign-in-button\""));
    let classes = product_pages(&sim, 20, &[("cookie", &cookie)]).await;
    assert_eq!(classes, BTreeMap::from([("v2".to_owned(), 20)]));

    let anonymous = get(pp, "/productpage", &[]).await;
    assert!(anonymous.body.contains("id=\"sign-in-button\"") && !anonymous.body.contains("Sign out"));
    let no_referer = send(pp, Method::POST, "/login", &form[..1], "username=x&passwd=").await;
    assert_eq!(no_referer.headers["location"], "None");
    assert_eq!(get(pp, "/login", &[]).await.status, StatusCode::METHOD_NOT_ALLOWED);
    let out = get(pp, "/logout", &[("cookie", &cookie), ("referer", &referer)]).await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert!(out.headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    sim.shutdown().await;
}

#[tokio::test]
async fn ratings_fault_shows_in_pages_and_metrics() {
    let sim = start(&["ratings:error=100%"]).await;
    let classes = product_pages(&sim, 30, &[]).await;
    let samples = scrape(&sim).await;
    let failed_ratings = requests_by(&samples, "destination_service_name", Some("503"))["ratings"];
    assert_eq!(classes.get("error").copied().unwrap_or(0) as u64, failed_ratings);
    assert_eq!(classes.get("v1").copied().unwrap_or(0) as u64 + failed_ratings, 30);
    assert!(!classes.contains_key("v2") && !classes.contains_key("v3"));
    let page = get(sim.productpage_addr(), "/productpage", &[("cookie", "user=jason")]).await;
    assert!(page.body.contains("Ratings service is currently unavailable"));
    assert_eq!(sim.service_stats()["ratings"].errors, failed_ratings + 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn details_and_reviews_faults_render_error_pages() {
    let sim = start(&["details:error=100%", "reviews:error=1"]).await;
    let page = get(sim.productpage_addr(), "/productpage", &[]).await;
    assert_eq!(page.status, StatusCode::OK, "productpage hides backend failures in the body");
    assert!(page.body.contains("Error fetching product details"));
    assert!(page.body.contains("Error fetching product reviews"));
    let by_service = requests_by(&scrape(&sim).await, "destination_service_name", Some("503"));
    assert_eq!(by_service["reviews"], 2, "productpage retries reviews once");
    let api = get(sim.productpage_addr(), "/api/v1/products/0", &[]).await;
    assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(api.body.contains("Sorry, product details are currently unavailable"));
    sim.shutdown().await;
}

#[tokio::test]
async fn json_api_and_health() {
    let sim = start(&[]).await;
    let pp = sim.productpage_addr();
    assert!(get(pp, "/api/v1/products", &[]).await.body.contains("\"title\":\"The Comedy of Errors\""));
    let details = get(pp, "/api/v1/products/0", &[]).await;
    assert!(details.body.starts_with(r#"{"id":0,"author":"William Shakespeare","year":1595"#));
    let reviews = get(pp, "/api/v1/products/0/reviews", &[("cookie", "user=jason")]).await;
    assert!(reviews.body.contains(r#""podname":"reviews-v2-5b667bcbf8-2xq4m""#), "{}", reviews.body);
    let ratings = get(pp, "/api/v1/products/0/ratings", &[]).await;
    assert_eq!(ratings.body, r#"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#);
    assert_eq!(get(pp, "/health", &[]).await.body, "Product page is healthy");
    assert!(get(pp, "/", &[]).await.body.contains("simple bookstore"));
    for w in Workload::ALL {
        assert_eq!(get(sim.addr(w), "/health", &[]).await.status, StatusCode::OK, "{w:?}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn page_sizes_follow_the_reviews_version() {
    let sim = start(&[]).await;
    let mut sizes = BTreeMap::new();
    for _ in 0..60 {
        let r = get(sim.productpage_addr(), "/productpage", &[]).await;
        sizes.insert(reviews_version(&r.body), r.body.len());
    }
    let kb = |v: &str| sizes[v] as f64 / 1024.0;
    assert!((8.5..=10.5).contains(&kb("v1")), "v1 page is {:.1} KiB ({sizes:?})", kb("v1"));
    for v in ["v2", "v3"] {
        assert!((13.5..=16.5).contains(&kb(v)), "{v} page is {:.1} KiB", kb(v));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn run_serve_validates_and_stops() {
    let bad = ServeArgs { error_rate: "abc".into(), ..plain_args() };
    let err = run_serve(bad, async {}).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#"invalid --error-rate="abc": expected a percentage like 2% or a fraction like 0.02 ("#),
        "{err}"
    );
    run_serve(plain_args(), async {}).await.unwrap();
    run_serve(ServeArgs { bookinfo: true, ..plain_args() }, async {}).await.unwrap();
}

fn plain_args() -> ServeArgs {
    ServeArgs {
        listen: "127.0.0.1:0".into(),
        delay: "0ms".into(),
        jitter: "0ms".into(),
        error_rate: "0".into(),
        status: "500".into(),
        response_size: "0".into(),
        workers: "0".into(),
        bookinfo: false,
        latency_scale: "0".into(),
        faults: Vec::new(),
        mesh_metrics: "istio".into(),
        metrics_listen: None,
    }
}

#[tokio::test]
async fn each_kind_of_cluster_serves_its_own_metrics() {
    use crate::telemetry::MeshMetrics;
    for kind in [MeshMetrics::None, MeshMetrics::Linkerd, MeshMetrics::Istio] {
        let opts = BookinfoOptions { latency_scale: 0.01, mesh_metrics: kind, ..Default::default() };
        let sim = Bookinfo::start(opts).await.unwrap();
        product_pages(&sim, 30, &[]).await;
        let samples = scrape(&sim).await;
        let has = |name: &str| samples.iter().any(|s| s.name == name);
        assert_eq!(has("istio_requests_total"), kind == MeshMetrics::Istio, "{kind:?}");
        assert_eq!(has("request_total"), kind == MeshMetrics::Linkerd, "{kind:?}");
        // cAdvisor and kube-state-metrics in every kind, labelled like the kubelet's.
        let rx = |pod: &str| -> f64 {
            samples
                .iter()
                .filter(|s| s.name == "container_network_receive_bytes_total" && s.labels["pod"].starts_with(pod))
                .inspect(|s| assert_eq!(s.labels["container"], "", "network is the pod sandbox's"))
                .map(|s| s.value)
                .sum()
        };
        for pod in ["productpage-v1-", "details-v1-", "ratings-v1-"] {
            assert!(rx(pod) > 1000.0, "{kind:?}: {pod} received {}", rx(pod));
        }
        let cpu: Vec<_> = samples.iter().filter(|s| s.name == "container_cpu_usage_seconds_total").collect();
        assert_eq!(cpu.len(), 6);
        assert!(cpu.iter().all(|s| s.labels["namespace"] == "bookinfo" && !s.labels["container"].is_empty()));
        assert!(cpu.iter().any(|s| s.labels["pod"].starts_with("details-v1-") && s.value > 0.0));
        let ready = samples.iter().filter(|s| s.name == "kube_pod_status_ready" && s.labels["condition"] == "true");
        assert_eq!(ready.map(|s| s.value).sum::<f64>(), 6.0);
        if kind == MeshMetrics::Linkerd {
            let requests: Vec<_> = samples.iter().filter(|s| s.name == "request_total").collect();
            assert!(requests.iter().all(|s| s.labels["namespace"] == "bookinfo"));
            let side = |d: &'static str| requests.iter().filter(move |s| s.labels["direction"] == d);
            assert!(side("inbound").any(|s| s.labels["deployment"] == "reviews-v3"));
            // A Bookinfo caller's proxy reports its calls as outbound, naming the destination.
            assert!(side("outbound")
                .any(|s| s.labels["deployment"] == "productpage-v1" && s.labels["dst_deployment"] == "details-v1"));
            assert!(side("outbound").all(|s| s.labels["deployment"] != "ratings-v1"), "ratings calls no one");
        }
        sim.shutdown().await;
    }
}
