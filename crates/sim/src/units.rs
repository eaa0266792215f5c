//! The simulation's own readers of flag values: fractions, durations, status codes, sizes.

use std::time::Duration;

use setting::Invalid;

use crate::error::ServeError;

/// Largest body the plain target will generate, to keep a typo from exhausting memory.
pub const MAX_RESPONSE_SIZE: usize = 64 << 20;

/// `2%` or `0.02`, within 0..=1.
pub(crate) fn parse_fraction(setting: &'static str, value: &str) -> Result<f64, ServeError> {
    let expected = "a percentage like 2% or a fraction like 0.02";
    setting::ratio(value).map_err(|cause| cause.invalid(setting, value, expected).into())
}

/// A duration (`20ms`, `1s`, or a bare `0`) of at most a year, as every other setting takes.
pub(crate) fn parse_duration(setting: &'static str, value: &str) -> Result<Duration, ServeError> {
    let expected = "a duration like 20ms or 1s";
    setting::duration(value).map_err(|cause| cause.invalid(setting, value, expected).into())
}

/// An HTTP status code, 100..=599.
pub(crate) fn parse_status(setting: &'static str, value: &str) -> Result<http::StatusCode, ServeError> {
    value
        .trim()
        .parse::<u16>()
        .ok()
        .and_then(|c| http::StatusCode::from_u16(c).ok())
        .filter(|c| (100..600).contains(&c.as_u16()))
        .ok_or_else(|| Invalid::new(setting, value, "an HTTP status code between 100 and 599").into())
}

/// A body size in bytes up to [`MAX_RESPONSE_SIZE`].
pub(crate) fn parse_size(setting: &'static str, value: &str) -> Result<usize, ServeError> {
    let expected = format!("a number of bytes up to {MAX_RESPONSE_SIZE}");
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|s| *s <= MAX_RESPONSE_SIZE)
        .ok_or_else(|| Invalid::new(setting, value, expected).into())
}

/// A latency multiplier: a finite number, zero or more.
pub fn parse_scale(value: &str) -> Result<f64, ServeError> {
    let expected = "a non-negative number like 1.0 or 0.1";
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
        .ok_or_else(|| Invalid::new("--latency-scale", value, expected).into())
}
