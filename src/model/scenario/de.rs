//! Field deserializers that validate while parsing, so serde_yaml_ng can attach the line and path.

use crate::model::classify::{Classifier, Rule};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use serde::de::{Deserializer, Error, SeqAccess, Visitor};
use serde::Deserialize;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Runs a validating parser inside serde_yaml_ng's scalar visit, so errors get the scalar's line and path.
///
/// Validating after `String::deserialize` returned would report the enclosing mapping's line instead.
struct Scalar<F>(F, &'static str);

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for Scalar<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }
}

/// A route name: it becomes the `route` metric label, so keep it short and PromQL-friendly.
pub(super) fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_str(Scalar(parse_name, "a route name"))
}

fn parse_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!("expected 1 to 64 characters of [a-zA-Z0-9_.-], got {s:?}"))
    }
}

/// An absolute http(s) URL with a host.
pub(super) fn url<'de, D: Deserializer<'de>>(d: D) -> Result<Uri, D::Error> {
    d.deserialize_str(Scalar(parse_url, "an http(s) URL"))
}

/// A URL field that may be absent or null.
struct OptUrl(Uri);

impl<'de> Deserialize<'de> for OptUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        url(d).map(OptUrl)
    }
}

/// Like [`url`], for optional fields.
pub(super) fn opt_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Uri>, D::Error> {
    Ok(Option::<OptUrl>::deserialize(d)?.map(|u| u.0))
}

fn parse_url(s: &str) -> Result<Uri, String> {
    crate::model::url::parse_url(s).map_err(|_| format!("expected an absolute http:// or https:// URL, got {s:?}"))
}

/// Accepts only positive integers; zero, negative, fractional and text weights are reported as such.
struct Weight;

impl Weight {
    /// Weights become a round-robin table of their sum; this keeps it small.
    const MAX: u32 = 1000;

    fn error<E: Error>(got: impl fmt::Display) -> E {
        E::custom(format!("expected a positive integer up to {}, got {got}", Weight::MAX))
    }
}

impl Visitor<'_> for Weight {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a positive integer")
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<u32, E> {
        u32::try_from(v).ok().filter(|v| (1..=Weight::MAX).contains(v)).ok_or_else(|| Weight::error(v))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<u32, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(Weight::error(v)),
        }
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<u32, E> {
        Err(Weight::error(v))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<u32, E> {
        Err(Weight::error(format_args!("{v:?}")))
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<u32, E> {
        Err(Weight::error(v))
    }
}

/// A positive integer weight.
pub(super) fn weight<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    d.deserialize_any(Weight)
}

/// An HTTP method, upper-cased (`get` is `GET`).
pub(super) fn method<'de, D: Deserializer<'de>>(d: D) -> Result<Method, D::Error> {
    let parse = |s: &str| {
        Method::from_bytes(s.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("expected an HTTP method like GET, got {s:?}"))
    };
    d.deserialize_str(Scalar(parse, "an HTTP method"))
}

/// A map of header names to scalar values (numbers and booleans are written as text).
pub(super) fn headers<'de, D: Deserializer<'de>>(d: D) -> Result<HeaderMap, D::Error> {
    let raw = BTreeMap::<String, Value>::deserialize(d)?;
    let mut out = HeaderMap::with_capacity(raw.len());
    for (k, v) in raw {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|_| D::Error::custom(format!("invalid header name {k:?}")))?;
        let text = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(D::Error::custom(format!("header {k:?}: expected a text value"))),
        };
        let value = HeaderValue::from_str(&text)
            .map_err(|_| D::Error::custom(format!("header {k:?}: invalid value {text:?}")))?;
        out.append(name, value);
    }
    Ok(out)
}

/// One `{name, regex}` entry of a route's classification list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    regex: String,
}

/// `classify:` is a preset name or a list of `{name, regex}`; the classifier is built right away.
struct ClassifyVisitor;

impl<'de> Visitor<'de> for ClassifyVisitor {
    type Value = Option<Classifier>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a preset name like bookinfo-reviews or a list of {name, regex}")
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
        let rule = Rule::preset("classify", v).map_err(E::custom)?;
        Classifier::new(vec![rule]).map(Some).map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rules = Vec::new();
        while let Some(raw) = seq.next_element::<RawRule>()? {
            rules.push(Rule::body("classify", &raw.name, &raw.regex).map_err(A::Error::custom)?);
        }
        Classifier::new(rules).map(Some).map_err(A::Error::custom)
    }
}

/// Deserializes a route's `classify:` field.
pub(super) fn classify<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Classifier>, D::Error> {
    d.deserialize_any(ClassifyVisitor)
}
