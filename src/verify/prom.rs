//! Prometheus's HTTP API, spoken with the generator's own client (TLS, `--cacert`, `--insecure`):
//! instant queries (`/api/v1/query`) at a given time, answered as `(labels, value)` pairs, range
//! queries as [`Series`], and any other endpoint's `data` as JSON.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Uri};
use serde_json::Value;

use crate::model::scenario::Route;
use crate::net::client::{Client, ClientOptions, Want};

/// Largest API answer kept; a query answering more is a mistake in the check.
const MAX_ANSWER: usize = 16 << 20;
/// How long one query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why Prometheus gave no usable answer (exit 1).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum PromError {
    /// No HTTP answer at all.
    #[error("Prometheus at {url} is unreachable ({what}) for query {query:?}")]
    Unreachable {
        /// The API URL.
        url: String,
        /// The failure, e.g. `connect`.
        what: String,
        /// The query being sent.
        query: String,
    },
    /// Prometheus answered, but not with data: the query is rejected or the answer unreadable.
    #[error("Prometheus rejected query {query:?}: {error}")]
    Rejected {
        /// The query.
        query: String,
        /// Prometheus's own message (or the HTTP status).
        error: String,
    },
}

/// One Prometheus server and how to reach it.
#[derive(Debug, Clone)]
pub(crate) struct Prometheus {
    /// Base URL, e.g. `http://prometheus:9090` (a path prefix is kept).
    pub base: Uri,
    /// Bearer token sent as `Authorization`.
    pub token: Option<String>,
    /// TLS settings.
    pub client: ClientOptions,
}

/// Seconds since the epoch, as the API takes times.
pub(crate) fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

impl Prometheus {
    /// Evaluate `query` at `time`: one `(labels, value)` per series of a vector, one unlabelled pair for a
    /// scalar. A range vector (matrix) yields each sample as `(labels, timestamp)`.
    pub(crate) async fn query(&self, query: &str, time: SystemTime) -> Result<Vec<(String, f64)>, PromError> {
        let data = self.api("query", query, &[("time", format!("{:.3}", unix(time)))]).await?;
        samples(&data).ok_or_else(|| self.rejected(query, "an answer of an unknown shape".into()))
    }

    /// Evaluate `query` at `time`, keeping each series' labels by name and, for a matrix, every sample.
    pub(crate) async fn series_at(&self, query: &str, time: SystemTime) -> Result<Vec<Series>, PromError> {
        let data = self.api("query", query, &[("time", format!("{:.3}", unix(time)))]).await?;
        series(&data).ok_or_else(|| self.rejected(query, "an answer of an unknown shape".into()))
    }

    /// Evaluate `query` from `start` to `end` every `step`: each series with its `(time, value)` points.
    pub(crate) async fn query_range(
        &self,
        query: &str,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> Result<Vec<Series>, PromError> {
        let form = [
            ("start", format!("{:.3}", unix(start))),
            ("end", format!("{:.3}", unix(end))),
            ("step", format!("{:.3}", step.as_secs_f64().max(0.001))),
        ];
        let data = self.api("query_range", query, &form).await?;
        series(&data).ok_or_else(|| self.rejected(query, "an answer of an unknown shape".into()))
    }

    /// A call of `/api/v1/<path>`: the answer's `data`. `query` is the PromQL or the subject named in
    /// errors, sent as `query` unless empty. Sent as a form POST where the API takes one (long
    /// queries), else as a GET.
    pub(crate) async fn api(&self, path: &str, query: &str, form: &[(&str, String)]) -> Result<Value, PromError> {
        let pairs = (!query.is_empty()).then_some(("query", query.to_string())).into_iter();
        let pairs: Vec<(&str, String)> = pairs.chain(form.iter().cloned()).collect();
        let form = serde_urlencoded::to_string(&pairs).expect("strings encode");
        let post = matches!(path, "query" | "query_range" | "series" | "labels");
        let path = format!("{}/api/v1/{path}", self.base.path().trim_end_matches('/'));
        let path = if post || form.is_empty() { path } else { format!("{path}?{form}") };
        let url = Uri::builder()
            .scheme(self.base.scheme_str().unwrap_or("http"))
            .authority(self.base.authority().map_or("", |a| a.as_str()))
            .path_and_query(path)
            .build()
            .map_err(|e| self.rejected(query, e.to_string()))?;
        let mut headers = HeaderMap::new();
        if post {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        }
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| self.rejected(query, "the bearer token is not a valid header value".into()))?;
            headers.insert(AUTHORIZATION, value);
        }
        let route = Route {
            name: String::new(),
            method: if post { Method::POST } else { Method::GET },
            uri: url.clone(),
            headers,
            body: if post { Bytes::from(form) } else { Bytes::new() },
            weight: 1,
            classifier: None,
            login: false,
        };
        let client = Client::new(&[route], &ClientOptions { http2: false, ..self.client.clone() }, 1);
        let mut body = Vec::new();
        let sent = tokio::time::timeout(
            QUERY_TIMEOUT,
            client.send(0, 0, &(), Want { body: MAX_ANSWER, headers: false }, &mut body),
        )
        .await;
        let unreachable =
            |what: String| PromError::Unreachable { url: url.to_string(), what, query: query.to_string() };
        let answer = match sent {
            Err(_) => return Err(unreachable("timeout".into())),
            Ok(Err(e)) => return Err(unreachable(e.as_str().to_string())),
            Ok(Ok(answer)) => answer,
        };
        let mut json: Value = serde_json::from_slice(&body).map_err(|_| {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            self.rejected(query, format!("HTTP {} and not the Prometheus API: {text:?}", answer.status))
        })?;
        if json["status"] != "success" {
            let error = json["error"].as_str().unwrap_or("no error message");
            let kind = json["errorType"].as_str().unwrap_or("error");
            return Err(self.rejected(query, format!("{kind}: {error} (HTTP {})", answer.status)));
        }
        Ok(json["data"].take())
    }

    fn rejected(&self, query: &str, error: String) -> PromError {
        PromError::Rejected { query: query.to_string(), error }
    }
}

/// One series of a range query, or of an instant query's vector or matrix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// `{a="1", b="2"}`.
    pub labels: String,
    /// The labels by name.
    pub metric: BTreeMap<String, String>,
    /// `(Unix seconds, value)`, oldest first.
    pub points: Vec<(f64, f64)>,
}

/// A vector's or matrix's `data` as series (a vector's with one point each).
fn series(data: &Value) -> Option<Vec<Series>> {
    let point = |p: &Value| Some((p.get(0)?.as_f64()?, p.get(1)?.as_str()?.parse::<f64>().ok()?));
    let one = |s: &Value| {
        let points = match s.get("values") {
            Some(values) => values.as_array()?.iter().map(point).collect::<Option<_>>()?,
            None => vec![point(&s["value"])?],
        };
        let metric = s["metric"].as_object()?.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().into()));
        Some(Series { labels: labels(&s["metric"]), metric: metric.collect(), points })
    };
    data["result"].as_array()?.iter().map(one).collect()
}

/// The API's `data` as `(labels, value)` pairs.
fn samples(data: &Value) -> Option<Vec<(String, f64)>> {
    let value = |pair: &Value| pair.get(1)?.as_str()?.parse::<f64>().ok();
    match data["resultType"].as_str()? {
        "scalar" => Some(vec![(String::new(), value(&data["result"])?)]),
        "vector" => {
            data["result"].as_array()?.iter().map(|s| Some((labels(&s["metric"]), value(&s["value"])?))).collect()
        }
        "matrix" => {
            let mut out = Vec::new();
            for s in data["result"].as_array()? {
                for point in s["values"].as_array()? {
                    out.push((labels(&s["metric"]), point.get(0)?.as_f64()?));
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// `{a="1", b="2"}`, as Prometheus prints a series.
pub(crate) fn labels(metric: &Value) -> String {
    let pairs: Vec<String> = metric
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={:?}", v.as_str().unwrap_or_default()))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_result_type() {
        let v = json!({"resultType": "vector", "result": [{"metric": {"pod": "a"}, "value": [1.0, "2.5"]}]});
        assert_eq!(samples(&v).unwrap(), vec![("{pod=\"a\"}".to_string(), 2.5)]);
        let s = json!({"resultType": "scalar", "result": [1.0, "NaN"]});
        assert!(samples(&s).unwrap()[0].1.is_nan());
        let m = json!({"resultType": "matrix", "result": [{"metric": {}, "values": [[10.5, "1"], [11.5, "1"]]}]});
        assert_eq!(samples(&m).unwrap().iter().map(|p| p.1).collect::<Vec<_>>(), vec![10.5, 11.5]);
    }
}
