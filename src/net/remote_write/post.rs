//! One push: the remote-write headers, the credentials read from their files at this push (a
//! rotated token is picked up), the run's client (its `--cacert`, `--insecure`, `--resolve`),
//! and what the answer means for a retry.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method};

use super::{Auth, RemoteWrite};
use crate::model::scenario::Route;
use crate::net::client::{Client, ClientOptions, Want};

/// How much of a refusal's body is kept for the log (Prometheus says why in it).
const REASON_BYTES: usize = 256;

/// Why a push did not land.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// Worth trying again: no answer, 5xx, 429 (with the receiver's `Retry-After`, if any).
    Retry {
        /// What happened.
        cause: String,
        /// The receiver's `Retry-After`.
        after: Option<Duration>,
    },
    /// Refused for good (another 4xx): sending the same again cannot help.
    Refused(String),
}

impl Failure {
    /// What happened, for a log line.
    pub(crate) fn cause(&self) -> &str {
        match self {
            Failure::Retry { cause, .. } | Failure::Refused(cause) => cause,
        }
    }
}

/// POST `body` to the receiver once, without a timeout of its own.
pub(crate) async fn post(rw: &RemoteWrite, body: Bytes) -> Result<(), Failure> {
    let headers = headers(rw).map_err(|cause| Failure::Retry { cause, after: None })?;
    let route = Route {
        name: String::new(),
        method: Method::POST,
        uri: rw.url.clone(),
        headers,
        body,
        weight: 1,
        classifier: None,
        login: false,
    };
    let options = ClientOptions { http2: false, connections: std::num::NonZeroUsize::MIN, ..rw.client.clone() };
    // Failures are this module's to report, in its own words: the client's first-failure log
    // speaks of load targets.
    let client = Client::new(&[route], &options, 1).quiet();
    let mut reason = Vec::new();
    let want = Want { body: REASON_BYTES, headers: true };
    let answer = client
        .send(0, 0, &(), want, &mut reason)
        .await
        .map_err(|e| Failure::Retry { cause: format!("{} error reaching {}", e.as_str(), rw.url), after: None })?;
    let status = answer.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&reason);
    let cause = format!("{} answered HTTP {status}: {}", rw.url, text.trim());
    if status == 429 || status >= 500 {
        let after = answer.headers.get(RETRY_AFTER).and_then(|v| retry_after(v.to_str().ok()?, SystemTime::now()));
        Err(Failure::Retry { cause, after })
    } else {
        Err(Failure::Refused(cause))
    }
}

/// The request's headers: remote write's own, the user's, then the credentials, read now.
fn headers(rw: &RemoteWrite) -> Result<HeaderMap, String> {
    let mut headers = rw.headers.clone();
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf"));
    headers.insert("x-prometheus-remote-write-version", HeaderValue::from_static("0.1.0"));
    let credentials = match &rw.auth {
        Auth::None => return Ok(headers),
        Auth::Bearer(path) => format!("Bearer {}", read(path)?),
        Auth::Basic { username, password } => {
            let pair = format!("{}:{}", read(username)?, read(password)?);
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        }
    };
    let mut value = HeaderValue::from_str(&credentials)
        .map_err(|_| "the remote-write credentials are not a valid header value".to_string())?;
    value.set_sensitive(true);
    headers.insert(AUTHORIZATION, value);
    Ok(headers)
}

/// A credentials file's text, without the trailing newline a Secret or `echo` leaves.
fn read(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `Retry-After` as seconds or as an HTTP date.
pub(crate) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn headers_carry_the_format_and_credentials_read_at_each_push() {
        let dir = std::env::temp_dir().join(format!("trafficgen-rw-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (user, password) = (dir.join("user"), dir.join("password"));
        std::fs::write(&user, "tenant\n").unwrap();
        std::fs::write(&password, "one").unwrap();
        let rw = RemoteWrite {
            url: "http://p/api/v1/write".parse().unwrap(),
            interval: Duration::from_secs(5),
            labels: Vec::new(),
            headers: HeaderMap::new(),
            auth: Auth::Basic { username: user, password: password.clone() },
            client: ClientOptions {
                connections: std::num::NonZeroUsize::MIN,
                http2: false,
                insecure: false,
                cacerts: Vec::new(),
                pins: Vec::new(),
                nameserver: None,
            },
        };
        let h = headers(&rw).unwrap();
        assert_eq!(h[AUTHORIZATION], "Basic dGVuYW50Om9uZQ==");
        assert_eq!(h[CONTENT_ENCODING], "snappy");
        assert_eq!(h["x-prometheus-remote-write-version"], "0.1.0");
        std::fs::write(&password, "two").unwrap();
        assert_eq!(headers(&rw).unwrap()[AUTHORIZATION], "Basic dGVuYW50OnR3bw==");
        std::fs::remove_file(&password).unwrap();
        assert!(headers(&rw).unwrap_err().contains("cannot read"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
