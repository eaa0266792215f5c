//! OTLP/HTTP export of the generator's client spans (sampled requests only), so a trace in Jaeger
//! has its root instead of an orphan. JSON-encoded (`application/json`, part of the OTLP/HTTP
//! spec): a few fields written by hand instead of the OpenTelemetry SDK and its dependencies.
//!
//! The send loop only `try_send`s into a bounded queue: a full queue drops the span and counts
//! it, so export never slows sending. One task batches the queue (up to [`BATCH`] spans, or
//! every second) and POSTs each batch; a batch the receiver refuses or does not take within
//! [`POST_TIMEOUT`] is dropped and counted too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{interval, timeout, MissedTickBehavior};

use crate::model::outcome::ErrorType;

/// Spans waiting for export at most; more are dropped.
pub(crate) const QUEUE: usize = 8192;
/// Spans per POST at most.
pub(crate) const BATCH: usize = 512;
/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the end of the run waits for the last spans.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// One finished client span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    /// Trace id.
    pub trace_id: u128,
    /// This span's id (the `parent-id` the request carried).
    pub span_id: u64,
    /// Start, ns since the Unix epoch.
    pub start_ns: u64,
    /// End, ns since the Unix epoch.
    pub end_ns: u64,
    /// Route index.
    pub route: usize,
    /// Response status, if any.
    pub status: Option<u16>,
    /// Failure, if any.
    pub error: Option<ErrorType>,
}

/// The send loop's end of the queue.
#[derive(Debug, Clone)]
pub(crate) struct Sink {
    tx: mpsc::Sender<Span>,
    dropped: Arc<AtomicU64>,
}

impl Sink {
    /// Queue `span`, or count it dropped when the queue is full: never waits.
    pub(crate) fn offer(&self, span: Span) {
        if self.tx.try_send(span).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What the run's spans came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Accepted by the receiver.
    pub exported: u64,
    /// Queue full, or the receiver failed.
    pub dropped: u64,
}

/// The export task of one run, owned and finished by the run.
#[derive(Debug)]
pub(crate) struct Exporter {
    stop: oneshot::Sender<()>,
    task: JoinHandle<u64>,
    dropped: Arc<AtomicU64>,
}

/// What the spans say about the run and its routes.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    /// `service.name`.
    pub service: String,
    /// The run id, as `trafficgen.run_id`.
    pub run_id: String,
    /// Per route: method and full URL.
    pub routes: Vec<(String, String)>,
}

impl Exporter {
    /// Start exporting to `endpoint` (the full `/v1/traces` URL).
    pub(crate) fn start(endpoint: Uri, resource: Resource) -> (Exporter, Sink) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let dropped = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(export(rx, endpoint, resource, dropped.clone(), stopped));
        (Exporter { stop, task, dropped: dropped.clone() }, Sink { tx, dropped })
    }

    /// Send what is queued (bounded by [`FLUSH_TIMEOUT`]) and stop.
    pub(crate) async fn finish(self) -> Counts {
        let _ = self.stop.send(());
        let exported = self.task.await.unwrap_or(0);
        Counts { exported, dropped: self.dropped.load(Ordering::Relaxed) }
    }
}

async fn export(
    mut rx: mpsc::Receiver<Span>,
    endpoint: Uri,
    resource: Resource,
    dropped: Arc<AtomicU64>,
    mut stop: oneshot::Receiver<()>,
) -> u64 {
    let mut exported = 0;
    let mut batch = Vec::with_capacity(BATCH);
    let mut tick = interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => break,
            Some(span) = rx.recv() => {
                batch.push(span);
                if batch.len() < BATCH {
                    continue;
                }
            }
            _ = tick.tick() => {}
        }
        if !batch.is_empty() {
            exported += send(&endpoint, &resource, &std::mem::take(&mut batch), POST_TIMEOUT, &dropped).await;
        }
    }
    rx.close();
    while let Ok(span) = rx.try_recv() {
        batch.push(span);
    }
    let left = batch.len() as u64;
    let flushed = timeout(FLUSH_TIMEOUT, async {
        let mut n = 0;
        for chunk in batch.chunks(BATCH) {
            n += send(&endpoint, &resource, chunk, FLUSH_TIMEOUT, &dropped).await;
        }
        n
    })
    .await;
    match flushed {
        Ok(n) => exported + n,
        Err(_) => {
            tracing::warn!("OTLP receiver too slow at the end of the run; dropping the spans still queued");
            dropped.fetch_add(left, Ordering::Relaxed);
            exported
        }
    }
}

/// POST one batch; returns how many were exported, counting the rest dropped.
async fn send(endpoint: &Uri, resource: &Resource, spans: &[Span], limit: Duration, dropped: &AtomicU64) -> u64 {
    let body = encode(resource, spans).to_string();
    match timeout(limit, post(endpoint, body)).await {
        Ok(Ok(())) => spans.len() as u64,
        outcome => {
            let why = outcome.map_or_else(|_| "timed out".to_string(), |r| r.err().unwrap_or_default());
            tracing::warn!(endpoint = %endpoint, spans = spans.len(), error = %why, "OTLP export failed; spans dropped");
            dropped.fetch_add(spans.len() as u64, Ordering::Relaxed);
            0
        }
    }
}

async fn post(endpoint: &Uri, body: String) -> Result<(), String> {
    let host = crate::model::url::bare_host(endpoint.host().unwrap_or_default()).to_string();
    let port = endpoint.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let path = endpoint.path_and_query().map_or("/v1/traces", |p| p.as_str());
    let authority = endpoint.authority().map_or(host.clone(), |a| a.to_string());
    let request = Request::post(path)
        .header(HOST, authority)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let result = async {
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let _ = response.into_body().collect().await;
        status.is_success().then_some(()).ok_or_else(|| format!("receiver answered {status}"))
    }
    .await;
    driver.abort();
    result
}

/// An `ExportTraceServiceRequest` in OTLP's JSON encoding (ids as hex, times as decimal strings).
fn encode(resource: &Resource, spans: &[Span]) -> Value {
    let text = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let spans: Vec<Value> = spans
        .iter()
        .map(|s| {
            let (method, url) = resource.routes.get(s.route).cloned().unwrap_or_default();
            let mut attributes = vec![text("http.request.method", &method), text("url.full", &url)];
            if let Some(status) = s.status {
                attributes.push(json!({"key": "http.response.status_code", "value": {"intValue": status.to_string()}}));
            }
            let status = match s.error {
                Some(e) => {
                    attributes.push(text("error.type", e.as_str()));
                    json!({"code": 2, "message": e.as_str()})
                }
                None => json!({"code": 0}),
            };
            json!({
                "traceId": format!("{:032x}", s.trace_id), "spanId": format!("{:016x}", s.span_id),
                "name": method, "kind": 3, "startTimeUnixNano": s.start_ns.to_string(),
                "endTimeUnixNano": s.end_ns.to_string(), "attributes": attributes, "status": status,
            })
        })
        .collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": [text("service.name", &resource.service), text("trafficgen.run_id", &resource.run_id)]},
        "scopeSpans": [{"scope": {"name": "trafficgen", "version": env!("CARGO_PKG_VERSION")}, "spans": spans}],
    }]})
}

/// The `/v1/traces` URL of an OTLP/HTTP endpoint given as a base URL (as
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is) or already ending in `/v1/traces`.
pub(crate) fn traces_url(base: &Uri) -> Option<Uri> {
    let text = base.to_string();
    if text.trim_end_matches('/').ends_with("/v1/traces") {
        return Some(base.clone());
    }
    format!("{}/v1/traces", text.trim_end_matches('/')).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_encode_as_otlp_json() {
        let resource = Resource {
            service: "trafficgen".into(),
            run_id: "r1".into(),
            routes: vec![("GET".into(), "http://a/b".into())],
        };
        let span = Span {
            trace_id: 0xabc,
            span_id: 0x12,
            start_ns: 5,
            end_ns: 9,
            route: 0,
            status: Some(503),
            error: Some(ErrorType::Http5xx),
        };
        let v = encode(&resource, &[span]);
        let s = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "00000000000000000000000000000abc");
        assert_eq!(s["spanId"], "0000000000000012");
        assert_eq!((&s["kind"], &s["startTimeUnixNano"], &s["status"]["code"]), (&json!(3), &json!("5"), &json!(2)));
        assert_eq!(s["attributes"][2]["value"]["intValue"], "503");
        let base: Uri = "http://collector:4318".parse().unwrap();
        assert_eq!(traces_url(&base).unwrap().to_string(), "http://collector:4318/v1/traces");
        let full: Uri = "http://c:4318/v1/traces".parse().unwrap();
        assert_eq!(traces_url(&full).unwrap(), full);
    }
}
