//! Prometheus's HTTP API, spoken with the generator's own client (TLS, `--cacert`, `--insecure`):
//! instant queries (`/api/v1/query`) at a given time, answered as `(labels, value)` pairs; range
//! queries and label values for dashboards.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Uri};
use serde_json::Value;

use crate::client::{Client, ClientOptions, Want};
use crate::scenario::Route;

/// Largest API answer kept; a query answering more is a mistake in the check.
const MAX_ANSWER: usize = 16 << 20;
/// How long one query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why Prometheus gave no usable answer (exit 1).
#[derive(Debug, Clone, thiserror::Error)]
pub enum PromError {
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
        let time = format!("{:.3}", unix(time));
        let data = self.api(Method::POST, "query", &[("query", query), ("time", &time)], query).await?;
        samples(&data).ok_or_else(|| self.rejected(query, "an answer of an unknown shape".into()))
    }

    /// Evaluate `query` from `start` to `end` every `step`, as a graph does: each series with its
    /// number of points (an instant vector or scalar answer is evaluated at `end` instead).
    pub(crate) async fn query_range(
        &self,
        query: &str,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> Result<Vec<(String, usize)>, PromError> {
        let (start, end) = (format!("{:.3}", unix(start)), format!("{:.3}", unix(end)));
        let step = format!("{:.3}", step.as_secs_f64().max(0.001));
        let form = [("query", query), ("start", start.as_str()), ("end", end.as_str()), ("step", step.as_str())];
        let data = self.api(Method::POST, "query_range", &form, query).await?;
        let series =
            data["result"].as_array().ok_or_else(|| self.rejected(query, "an answer of an unknown shape".into()))?;
        Ok(series
            .iter()
            .map(|s| (labels(&s["metric"]), s["values"].as_array().map_or(0, Vec::len)))
            .filter(|(_, n)| *n > 0)
            .collect())
    }

    /// The raw `data` of an instant query's answer (query variables format it their own way).
    pub(crate) async fn query_data(&self, query: &str, time: SystemTime) -> Result<Value, PromError> {
        let time = format!("{:.3}", unix(time));
        self.api(Method::POST, "query", &[("query", query), ("time", &time)], query).await
    }

    /// Values of `label` (label names when empty) between `start` and `end`, on series matching `selector` when given.
    pub(crate) async fn label_values(
        &self,
        label: &str,
        selector: Option<&str>,
        start: SystemTime,
        end: SystemTime,
    ) -> Result<Vec<String>, PromError> {
        let (start, end) = (format!("{:.0}", unix(start).floor()), format!("{:.0}", unix(end).ceil()));
        let mut form = vec![("start", start.as_str()), ("end", end.as_str())];
        if let Some(m) = selector {
            form.push(("match[]", m));
        }
        let what = selector.map_or_else(|| format!("label_values({label})"), |m| format!("label_values({m}, {label})"));
        // No label: the label names themselves.
        let endpoint = if label.is_empty() { "labels".to_string() } else { format!("label/{label}/values") };
        let data = self.api(Method::GET, &endpoint, &form, &what).await?;
        let values = data.as_array().ok_or_else(|| self.rejected(&what, "an answer of an unknown shape".into()))?;
        Ok(values.iter().filter_map(|v| v.as_str().map(String::from)).collect())
    }

    /// One call of the HTTP API (`/api/v1/<endpoint>`); its `data`, or why there is none.
    async fn api(
        &self,
        method: Method,
        endpoint: &str,
        form: &[(&str, &str)],
        query: &str,
    ) -> Result<Value, PromError> {
        let form = serde_urlencoded::to_string(form).expect("strings encode");
        let mut path = format!("{}/api/v1/{endpoint}", self.base.path().trim_end_matches('/'));
        let body = if method == Method::GET {
            path = format!("{path}?{form}");
            Bytes::new()
        } else {
            Bytes::from(form)
        };
        let url = Uri::builder()
            .scheme(self.base.scheme_str().unwrap_or("http"))
            .authority(self.base.authority().map_or("", |a| a.as_str()))
            .path_and_query(path)
            .build()
            .map_err(|e| self.rejected(query, e.to_string()))?;
        let mut headers = HeaderMap::new();
        if method == Method::POST {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        }
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| self.rejected(query, "the bearer token is not a valid header value".into()))?;
            headers.insert(AUTHORIZATION, value);
        }
        let route = Route {
            name: String::new(),
            method,
            uri: url.clone(),
            headers,
            body,
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
