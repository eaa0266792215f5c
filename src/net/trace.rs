//! Traces that start at the generator: each request gets a fresh trace context (W3C
//! `traceparent`, B3 `x-b3-*`, or both) with the sampled flag set at `--trace-sample`, and a
//! unique `x-request-id`. Ids come from the worker's own fast PRNG: a few nanoseconds and four
//! short strings per request. The client span of a sampled request goes to `otlp`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::outcome::Outcome;
use crate::net::otlp::{Sink, Span};

/// Which trace headers requests carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TraceHeaders {
    /// `traceparent` (Linkerd reads it first; Envoy's OpenTelemetry tracer reads it).
    W3c,
    /// `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled` (Envoy's Zipkin tracer, Bookinfo's productpage).
    B3,
    /// Both, with the same ids.
    Both,
    /// No trace context and no `x-request-id`.
    None,
}

impl TraceHeaders {
    /// `w3c`, `b3`, `both` or `none`.
    pub(crate) fn parse(s: &str) -> Option<TraceHeaders> {
        Some(match s {
            "w3c" => TraceHeaders::W3c,
            "b3" => TraceHeaders::B3,
            "both" => TraceHeaders::Both,
            "none" => TraceHeaders::None,
            _ => return None,
        })
    }
}

/// The trace settings of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tracing {
    /// Which headers.
    pub headers: TraceHeaders,
    /// Share of requests marked sampled, 0…1.
    pub sample: f64,
}

impl Default for Tracing {
    fn default() -> Self {
        Tracing { headers: TraceHeaders::None, sample: 0.0 }
    }
}

/// One request's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Context {
    /// 128-bit trace id, never zero.
    pub trace_id: u128,
    /// 64-bit id of the generator's client span, never zero: the parent of the next hop.
    pub span_id: u64,
    /// The sampled flag.
    pub sampled: bool,
    /// Random bits of the `x-request-id` (formatted as a UUID v4).
    pub request_id: u128,
}

impl Context {
    /// Fresh ids from the thread's PRNG; sampled with probability `sample`.
    pub(crate) fn new(sample: f64) -> Context {
        Context {
            trace_id: fastrand::u128(1..),
            span_id: fastrand::u64(1..),
            sampled: sample > 0.0 && fastrand::f64() < sample,
            request_id: fastrand::u128(..),
        }
    }

    /// The trace id as 32 lowercase hex digits.
    pub(crate) fn trace_hex(&self) -> String {
        text(&hex::<32>(self.trace_id))
    }

    /// The `x-request-id`: a UUID v4 made of the random bits.
    pub(crate) fn request_id(&self) -> String {
        text(&self.request_id_bytes())
    }

    fn request_id_bytes(&self) -> [u8; 36] {
        let v = (self.request_id & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
        let digits = hex::<32>(v);
        let mut id = [b'-'; 36];
        for (from, to, len) in [(0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)] {
            id[to..to + len].copy_from_slice(&digits[from..from + len]);
        }
        id
    }

    /// Give this context's headers (per `mode`) to `put`, name and value.
    pub(crate) fn write(&self, mode: TraceHeaders, put: &mut dyn FnMut(&'static str, &[u8])) {
        if mode == TraceHeaders::None {
            return;
        }
        put("x-request-id", &self.request_id_bytes());
        let span = hex::<16>(u128::from(self.span_id));
        if matches!(mode, TraceHeaders::W3c | TraceHeaders::Both) {
            // 00-<trace id>-<span id>-<flags>
            let mut tp = *b"00-00000000000000000000000000000000-0000000000000000-00";
            tp[3..35].copy_from_slice(&hex::<32>(self.trace_id));
            tp[36..52].copy_from_slice(&span);
            tp[54] = if self.sampled { b'1' } else { b'0' };
            put("traceparent", &tp);
        }
        if matches!(mode, TraceHeaders::B3 | TraceHeaders::Both) {
            put("x-b3-traceid", &hex::<32>(self.trace_id));
            put("x-b3-spanid", &span);
            put("x-b3-sampled", if self.sampled { b"1" } else { b"0" });
        }
    }
}

/// The low `N * 4` bits of `v` as `N` lowercase hex digits. By hand: `format!` with `{:032x}`
/// and slicing a UUID would cost more per request than encoding the whole request.
fn hex<const N: usize>(v: u128) -> [u8; N] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; N];
    for (i, d) in out.iter_mut().enumerate() {
        *d = DIGITS[((v >> (4 * (N - 1 - i))) & 0xf) as usize];
    }
    out
}

/// Hex digits and dashes as a `String`.
fn text(ascii: &[u8]) -> String {
    String::from_utf8_lossy(ascii).into_owned()
}

/// What the send loop needs for traces: the settings, the span queue, the failure-log limit.
#[derive(Debug, Default)]
pub(crate) struct Tracer {
    /// Headers and sampling.
    pub tracing: Tracing,
    /// Where sampled requests' spans go, with `--otlp-endpoint`.
    pub spans: Option<Sink>,
    /// Bounds the failure lines.
    pub failures: LogLimit,
}

/// A request's context and, when its span will be exported, its wall-clock start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Started {
    context: Option<Context>,
    mode: TraceHeaders,
    wall: Option<SystemTime>,
}

impl Started {
    /// Give the request's trace headers to `put`, name and value.
    pub(crate) fn headers(&self, put: &mut dyn FnMut(&'static str, &[u8])) {
        if let Some(c) = &self.context {
            c.write(self.mode, put);
        }
    }
}

impl Tracer {
    /// A context for the next request; [`Started::headers`] gives its headers.
    pub(crate) fn start(&self) -> Started {
        let mode = self.tracing.headers;
        if mode == TraceHeaders::None {
            return Started { context: None, mode, wall: None };
        }
        let context = Context::new(self.tracing.sample);
        let wall = (context.sampled && self.spans.is_some()).then(SystemTime::now);
        Started { context: Some(context), mode, wall }
    }

    /// Log a failed request with its ids, and queue the span of a sampled one. `elapsed` runs
    /// from [`Tracer::start`] to the end; the span covers the last `service_time` of it, when
    /// the request was on a connection.
    pub(crate) fn end(&self, started: Started, route: &str, outcome: &Outcome, elapsed: Duration) {
        if let Some(error) = outcome.error {
            if let Some(failed) = self.failures.sample() {
                let ids = started.context.map(|c| (c.trace_hex(), c.request_id()));
                let (trace_id, request_id) = ids.unwrap_or_default();
                tracing::warn!(
                    route,
                    error = error.as_str(),
                    status = outcome.status,
                    failed,
                    %trace_id,
                    %request_id,
                    "{failed} requests failed since the last such line; this one is sampled"
                );
            }
        }
        if let (Some(c), Some(wall), Some(sink)) = (started.context, started.wall, &self.spans) {
            let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            let end_ns = unix_nanos(wall).saturating_add(nanos(elapsed));
            let start_ns = end_ns.saturating_sub(nanos(outcome.service_time));
            let (status, error) = (outcome.status, outcome.error);
            sink.offer(Span {
                trace_id: c.trace_id,
                span_id: c.span_id,
                start_ns,
                end_ns,
                route: outcome.route,
                status,
                error,
            });
        }
    }
}

/// Nanoseconds since the Unix epoch.
pub(crate) fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// One failure line every [`Self::EVERY_SECONDS`] at most, carrying how many requests failed
/// since the line before: a failing target's first error of each type is logged with its cause
/// (by the client), the rest are counted, and this sampled line keeps a trace id to look up.
#[derive(Debug, Default)]
pub(crate) struct LogLimit {
    /// Failures since the last line.
    failed: AtomicU64,
    /// The period (seconds since the epoch / `EVERY_SECONDS`, plus one) of the last line.
    logged: AtomicU64,
}

impl LogLimit {
    /// Seconds between sampled failure lines.
    pub(crate) const EVERY_SECONDS: u64 = 5;

    /// Count a failure; when a line is due, the failures it stands for (this one included).
    pub(crate) fn sample(&self) -> Option<u64> {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let period = unix_nanos(SystemTime::now()) / 1_000_000_000 / Self::EVERY_SECONDS + 1;
        let last = self.logged.load(Ordering::Relaxed);
        let due =
            last != period && self.logged.compare_exchange(last, period, Ordering::Relaxed, Ordering::Relaxed).is_ok();
        due.then(|| self.failed.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    /// The headers `ctx` writes in `mode`.
    fn written(ctx: &Context, mode: TraceHeaders) -> HeaderMap {
        let mut h = HeaderMap::new();
        ctx.write(mode, &mut |name, value| {
            h.insert(HeaderName::from_static(name), HeaderValue::from_bytes(value).unwrap());
        });
        h
    }

    #[test]
    fn headers_carry_the_same_ids_in_both_formats() {
        let ctx = Context { sampled: true, ..Context::new(0.0) };
        let h = written(&ctx, TraceHeaders::Both);
        let tp = h["traceparent"].to_str().unwrap();
        assert_eq!(tp.len(), 55);
        assert_eq!(tp, format!("00-{}-{}-01", h["x-b3-traceid"].to_str().unwrap(), h["x-b3-spanid"].to_str().unwrap()));
        assert_eq!(h["x-b3-sampled"], "1");
        let id = h["x-request-id"].to_str().unwrap();
        assert_eq!((id.len(), &id[14..15]), (36, "4"), "{id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        let w3c = written(&ctx, TraceHeaders::W3c);
        assert!(w3c.get("x-b3-traceid").is_none() && w3c.contains_key("traceparent"));
        assert!(written(&ctx, TraceHeaders::None).is_empty());
        assert_eq!(TraceHeaders::parse("b3"), Some(TraceHeaders::B3));
        assert_eq!(TraceHeaders::parse("zipkin"), None);
    }

    #[test]
    fn hand_made_hex_matches_format() {
        for _ in 0..100 {
            let c = Context::new(0.0);
            assert_eq!(c.trace_hex(), format!("{:032x}", c.trace_id));
            let v = (c.request_id & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
            let h = format!("{v:032x}");
            assert_eq!(c.request_id(), format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]));
            let m = written(&c, TraceHeaders::Both);
            assert_eq!(m["traceparent"], format!("00-{:032x}-{:016x}-00", c.trace_id, c.span_id).as_str());
            assert_eq!(m["x-b3-spanid"], format!("{:016x}", c.span_id).as_str());
        }
    }

    #[test]
    fn sampling_follows_the_ratio() {
        fastrand::seed(1);
        let sampled = (0..10_000).filter(|_| Context::new(0.2).sampled).count();
        assert!((1880..=2120).contains(&sampled), "{sampled}");
        assert!((0..1000).all(|_| !Context::new(0.0).sampled));
    }

    #[test]
    fn failures_are_sampled_with_their_count() {
        let limit = LogLimit::default();
        let lines: Vec<u64> = (0..100).filter_map(|_| limit.sample()).collect();
        // The first failure is logged at once; a second line only if a period began meanwhile.
        assert!(lines.len() <= 2 && lines[0] == 1, "{lines:?}");
        assert_eq!(limit.failed.load(Ordering::Relaxed) + lines.iter().sum::<u64>(), 100, "every failure counted");
    }
}
