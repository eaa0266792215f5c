//! One raw setting at a time into a typed value, or an error that names the flag or env var.

use std::num::NonZeroUsize;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use setting::{Cause, Invalid, Parsed};

use super::{ConfigError, Format, Shard, MAX_SHARDS};
use crate::model::scenario::{read_bounded, MAX_BODY_BYTES};
use crate::settings::{Layered, RawConfig};

/// Turns one raw setting into a typed value, or an error naming the setting.
pub(super) struct Validator<'a>(pub(super) &'a Layered);

impl Validator<'_> {
    /// How to name `field` in a message (flag or env var).
    pub(super) fn name(&self, field: &str) -> String {
        self.0.name(field)
    }

    pub(super) fn invalid(&self, field: &str, value: &str, expected: &str) -> ConfigError {
        Invalid::new(self.0.name(field), value, expected).into()
    }

    /// `field`'s value through parser `f`; a refusal names the setting, the value, `expected` and
    /// the parser's cause.
    pub(super) fn parse<T, R: Parsed<T>>(
        &self,
        field: &str,
        value: Option<&str>,
        expected: &str,
        f: impl FnOnce(&str) -> R,
    ) -> Result<T, ConfigError> {
        let value = value.unwrap_or_default();
        f(value.trim()).into_result().map_err(|cause| cause.invalid(self.0.name(field), value, expected).into())
    }

    pub(super) fn opt<T, R: Parsed<T>>(
        &self,
        field: &str,
        value: &Option<String>,
        expected: &str,
        f: impl FnOnce(&str) -> R,
    ) -> Result<Option<T>, ConfigError> {
        value.as_deref().map(|s| self.parse(field, Some(s), expected, f)).transpose()
    }

    /// A whole number from 1 to `max`; the message states the bound.
    pub(super) fn count(&self, field: &str, value: &Option<String>, max: usize) -> Result<NonZeroUsize, ConfigError> {
        self.parse(field, value.as_deref(), &format!("a whole number from 1 to {max}"), |s| {
            s.parse::<NonZeroUsize>().ok().filter(|n| n.get() <= max)
        })
    }

    pub(super) fn flag(&self, field: &str, value: &Option<String>) -> Result<bool, ConfigError> {
        let value = value.as_deref().unwrap_or("false");
        self.parse(field, Some(value), "true or false", setting::parse_bool)
    }

    pub(super) fn format(&self, field: &str, value: &Option<String>) -> Result<Format, ConfigError> {
        self.parse(field, value.as_deref(), "text or json", |s| match s {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            _ => None,
        })
    }

    pub(super) fn shard(&self, r: &RawConfig) -> Result<Shard, ConfigError> {
        let count = self.count("shards", &r.shards, MAX_SHARDS)?.get();
        let index = match (&r.shard_index, count) {
            (None, 1) => 0,
            (None, _) => {
                let expected = format!(
                    "a shard index below {count}: run as an Indexed Job (JOB_COMPLETION_INDEX) or set --shard-index"
                );
                return Err(self.invalid("shard_index", "", &expected));
            }
            (Some(i), _) => self.parse("shard_index", Some(i), &format!("a whole number below {count}"), |s| {
                s.parse::<usize>().ok().filter(|i| *i < count)
            })?,
        };
        Ok(Shard { index, count })
    }

    pub(super) fn headers(&self, field: &str, values: &[String]) -> Result<HeaderMap, ConfigError> {
        let mut map = HeaderMap::new();
        for h in values {
            let (name, value) = self.parse(field, Some(h), "NAME: VALUE such as \"x-demo: 1\"", |s| {
                let (n, v) = s.split_once(':')?;
                Some((HeaderName::from_bytes(n.trim().as_bytes()).ok()?, HeaderValue::from_str(v.trim()).ok()?))
            })?;
            map.append(name, value);
        }
        Ok(map)
    }
}

/// A literal body, or `@path` read from a file of at most [`MAX_BODY_BYTES`].
pub(super) fn load_body(s: &str) -> Result<Bytes, Cause> {
    let Some(path) = s.strip_prefix('@') else { return Ok(Bytes::copy_from_slice(s.as_bytes())) };
    match read_bounded(std::path::Path::new(path), MAX_BODY_BYTES).map_err(Cause::new)? {
        Some(bytes) => Ok(Bytes::from(bytes)),
        None => Err(Cause::new("the file is larger")),
    }
}
