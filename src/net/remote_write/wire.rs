//! Remote write 1.0 on the wire: the registry's families as a protobuf `WriteRequest` (messages
//! declared here with prost's derive, so no `protoc` step), snappy block-compressed. Each
//! sample is written as the text exposition of `/metrics` writes it, so a pushed series and a
//! scraped one have the same name, labels and value.

use bytes::Bytes;
use prometheus::proto::{MetricFamily, MetricType};

/// `prometheus.WriteRequest` (prompb/remote.proto), without the metadata it may carry.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WriteRequest {
    /// One entry per series.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: labels sorted by name, `__name__` among them.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TimeSeries {
    /// The series' labels.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Its samples; one per push here.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// One push, ready to send: the compressed body and how many samples it holds.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// Snappy-compressed `WriteRequest`.
    pub body: Bytes,
    /// Samples in it, for the counters.
    pub samples: u64,
}

/// Every sample of `families` at `at_ms`, each series given the `external` labels it lacks.
pub(crate) fn write_request(families: &[MetricFamily], external: &[(String, String)], at_ms: i64) -> WriteRequest {
    let mut timeseries = Vec::new();
    for family in families {
        let name = family.name();
        for m in family.get_metric() {
            let mut own: Vec<(String, String)> =
                m.get_label().iter().map(|l| (l.name().to_string(), l.value().to_string())).collect();
            for (k, v) in external {
                if !own.iter().any(|(name, _)| name == k) {
                    own.push((k.clone(), v.clone()));
                }
            }
            let mut push = |suffix: &str, extra: Option<(&str, String)>, value: f64| {
                let mut labels = own.clone();
                labels.push(("__name__".to_string(), format!("{name}{suffix}")));
                labels.extend(extra.map(|(k, v)| (k.to_string(), v)));
                // An empty value is no label to Prometheus (a scrape drops it too), and remote
                // write forbids sending one.
                labels.retain(|(_, v)| !v.is_empty());
                labels.sort();
                timeseries.push(TimeSeries {
                    labels: labels.into_iter().map(|(name, value)| Label { name, value }).collect(),
                    samples: vec![Sample { value, timestamp: at_ms }],
                });
            };
            match family.get_field_type() {
                MetricType::COUNTER => push("", None, m.get_counter().get_value()),
                MetricType::GAUGE => push("", None, m.get_gauge().get_value()),
                // The registry makes none (and the text exposition refuses them).
                MetricType::UNTYPED => {}
                MetricType::HISTOGRAM => {
                    let h = m.get_histogram();
                    let mut inf = false;
                    for b in h.get_bucket() {
                        inf |= b.upper_bound() == f64::INFINITY;
                        // As the text encoder writes `le`: Rust's shortest form (0.005, 1, 10).
                        push("_bucket", Some(("le", b.upper_bound().to_string())), b.cumulative_count() as f64);
                    }
                    if !inf {
                        push("_bucket", Some(("le", "+Inf".to_string())), h.get_sample_count() as f64);
                    }
                    push("_sum", None, h.get_sample_sum());
                    push("_count", None, h.get_sample_count() as f64);
                }
                MetricType::SUMMARY => {
                    let s = m.get_summary();
                    for q in s.get_quantile() {
                        push("", Some(("quantile", q.quantile().to_string())), q.value());
                    }
                    push("_sum", None, s.sample_sum());
                    push("_count", None, s.sample_count() as f64);
                }
            }
        }
    }
    WriteRequest { timeseries }
}

/// Prometheus's staleness marker: the one NaN that says a series has ended.
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

impl WriteRequest {
    /// The same series, each with only a staleness marker at `at_ms`: remote write 1.0 asks a
    /// sender to send one when a series will no longer be appended to.
    pub(crate) fn ended(mut self, at_ms: i64) -> WriteRequest {
        for t in &mut self.timeseries {
            t.samples = vec![Sample { value: f64::from_bits(STALE_NAN), timestamp: at_ms }];
        }
        self
    }
}

/// The request as remote write sends it: protobuf, then snappy's block format (not its framed one).
pub(crate) fn encode(request: &WriteRequest) -> Batch {
    let proto = prost::Message::encode_to_vec(request);
    let body = snap::raw::Encoder::new().compress_vec(&proto).expect("a buffer this size compresses");
    Batch { body: Bytes::from(body), samples: request.timeseries.len() as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::{HistogramOpts, HistogramVec, IntCounter, Registry};

    fn names(r: &WriteRequest) -> Vec<String> {
        r.timeseries
            .iter()
            .map(|t| t.labels.iter().map(|l| format!("{}={}", l.name, l.value)).collect::<Vec<_>>().join(","))
            .collect()
    }

    #[test]
    fn families_become_series_as_the_text_exposition_names_them() {
        let registry = Registry::new();
        let c = IntCounter::new("requests_total", "h").unwrap();
        let h =
            HistogramVec::new(HistogramOpts::new("latency_seconds", "h").buckets(vec![0.005, 1.0]), &["job"]).unwrap();
        registry.register(Box::new(c.clone())).unwrap();
        registry.register(Box::new(h.clone())).unwrap();
        c.inc_by(3);
        h.with_label_values(&["mine"]).observe(0.5);
        let external = [("instance".to_string(), "pod-a".to_string()), ("job".to_string(), "trafficgen".to_string())];
        let r = write_request(&registry.gather(), &external, 1_000);
        assert_eq!(
            names(&r),
            [
                "__name__=latency_seconds_bucket,instance=pod-a,job=mine,le=0.005",
                "__name__=latency_seconds_bucket,instance=pod-a,job=mine,le=1",
                "__name__=latency_seconds_bucket,instance=pod-a,job=mine,le=+Inf",
                "__name__=latency_seconds_sum,instance=pod-a,job=mine",
                "__name__=latency_seconds_count,instance=pod-a,job=mine",
                "__name__=requests_total,instance=pod-a,job=trafficgen",
            ]
        );
        let values: Vec<f64> = r.timeseries.iter().map(|t| t.samples[0].value).collect();
        assert_eq!(values, [0.0, 1.0, 1.0, 0.5, 1.0, 3.0]);
        assert!(r.timeseries.iter().all(|t| t.samples[0].timestamp == 1_000));
        let batch = encode(&r);
        let proto = snap::raw::Decoder::new().decompress_vec(&batch.body).unwrap();
        assert_eq!(<WriteRequest as prost::Message>::decode(&proto[..]).unwrap(), r);
        assert_eq!(batch.samples, 6);

        // The same series end with one staleness marker each, Prometheus's own NaN.
        let ended = r.clone().ended(2_000);
        assert_eq!(names(&ended), names(&r));
        let stale = |t: &TimeSeries| t.samples.len() == 1 && t.samples[0].value.to_bits() == 0x7ff0_0000_0000_0002;
        assert!(ended.timeseries.iter().all(|t| stale(t) && t.samples[0].timestamp == 2_000), "{ended:?}");
    }
}
