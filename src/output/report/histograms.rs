//! The latency histograms in HdrHistogram's interchange form: V2 with DEFLATE, base64 (the
//! `HISTFAAA…` strings HdrHistogram's own tools read), values in microseconds.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::output::recorder::Stats;

/// The run's full latency distributions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histograms {
    /// Corrected latency (from the intended send time), µs.
    pub latency: String,
    /// Service time (from the actual send), µs.
    pub service_time: String,
}

impl Histograms {
    /// Encode both of `stats`' histograms.
    pub fn of(stats: &Stats) -> Self {
        Histograms { latency: encode(&stats.latency), service_time: encode(&stats.service_time) }
    }
}

/// One histogram as V2-deflate base64.
pub(crate) fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).expect("a histogram serializes into memory");
    STANDARD.encode(bytes)
}

/// Why a histogram string could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not base64.
    #[error("not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not an HdrHistogram V2 (compressed) blob.
    #[error("not an HdrHistogram V2 histogram: {0:?}")]
    Hdr(hdrhistogram::serialization::DeserializeError),
}

/// Read a V2 (compressed or not) base64 histogram.
pub fn decode(text: &str) -> Result<Histogram<u64>, DecodeError> {
    let bytes = STANDARD.decode(text.trim())?;
    Deserializer::new().deserialize(&mut bytes.as_slice()).map_err(DecodeError::Hdr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_the_same_counts() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in [1u64, 10, 10, 999, 12_345, 3_000_000] {
            h.record(v).unwrap();
        }
        let text = encode(&h);
        assert!(text.starts_with("HISTFAAA"), "{text}");
        let back = decode(&text).unwrap();
        assert_eq!(back.len(), h.len());
        assert_eq!(back.max(), h.max());
        for v in h.iter_recorded() {
            assert_eq!(back.count_at(v.value_iterated_to()), v.count_at_value());
        }
        assert!(decode("not base64!").is_err());
    }
}
