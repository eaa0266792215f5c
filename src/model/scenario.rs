//! Scenario files: what to send — weighted routes, an optional login, bodies and classification.
//!
//! YAML or JSON (JSON is YAML), parsed straight into validated types: nothing after [`parse`] re-parses
//! a string. Errors carry the file, the line and the field, ready for an exit-2 message.

mod de;
mod limits;
#[cfg(test)]
mod tests;

pub(crate) use limits::{read_bounded, MAX_BODY_BYTES, MAX_ROUTES};
use limits::{too_deep, MAX_DEPTH, MAX_SCENARIO_BYTES};

use crate::model::classify::Classifier;
use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One kind of request to send, with its share of the rate.
#[derive(Debug, Clone)]
pub struct Route {
    /// The `route` metric label: a configured name or the URL path.
    pub name: String,
    /// HTTP method.
    pub method: Method,
    /// Absolute URL.
    pub uri: Uri,
    /// Extra request headers.
    pub headers: HeaderMap,
    /// Request body (may be empty).
    pub body: Bytes,
    /// Relative weight among routes (0 = never picked by the schedule, e.g. the login step).
    pub weight: u32,
    /// How responses are sorted into classes, if at all.
    pub classifier: Option<Arc<Classifier>>,
    /// Send with the worker's logged-in session cookie.
    pub login: bool,
}

/// Routes that share a name share their figures: the recorder counts them, and the summary
/// shows them, as one. Many URLs (a list of thousands) thus cost memory per name, not per URL.
#[derive(Debug, Clone, Default)]
pub(crate) struct Named {
    /// Each route's index among `first`.
    pub(crate) of_route: Arc<[usize]>,
    /// The first route of each name, in route order.
    pub(crate) first: Vec<Route>,
}

impl Named {
    /// Group `routes` by name.
    pub(crate) fn of(routes: &[Route]) -> Named {
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut first = Vec::new();
        let of_route = routes
            .iter()
            .map(|r| {
                *index.entry(r.name.as_str()).or_insert_with(|| {
                    first.push(r.clone());
                    first.len() - 1
                })
            })
            .collect();
        Named { of_route, first }
    }
}

/// A validated scenario file.
#[derive(Debug)]
pub(crate) struct Scenario {
    /// Login performed once per virtual user before its first logged-in request.
    pub login: Option<Login>,
    /// The routes, in file order; at least one.
    pub routes: Vec<RouteFile>,
}

/// How a virtual user logs in (a form POST whose `Set-Cookie` is kept for that user).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    /// Where to POST the form.
    #[serde(deserialize_with = "de::url")]
    pub url: Uri,
    /// Form field `username`.
    pub username: String,
    /// Form field `passwd`.
    #[serde(default)]
    pub password: String,
    /// `Referer` to send; Bookinfo redirects to it (or to a literal `None` without one).
    #[serde(default, deserialize_with = "de::opt_url")]
    pub referer: Option<Uri>,
}

/// One validated route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteFile {
    /// Unique name, used as the `route` metric label.
    #[serde(deserialize_with = "de::name")]
    pub name: String,
    /// Relative share of the request rate (positive integer, default 1).
    #[serde(default = "one", deserialize_with = "de::weight")]
    pub weight: u32,
    /// HTTP method (default GET).
    #[serde(default, deserialize_with = "de::method")]
    pub method: Method,
    /// Absolute http(s) URL.
    #[serde(deserialize_with = "de::url")]
    pub url: Uri,
    /// Extra request headers.
    #[serde(default, deserialize_with = "de::headers")]
    pub headers: HeaderMap,
    /// Request body; see [`Body`].
    #[serde(default)]
    pub body: Body,
    /// Per-route classification (a preset name or a list of `{name, regex}`).
    #[serde(default, deserialize_with = "de::classify")]
    pub classify: Option<Classifier>,
    /// Send with the virtual user's logged-in session.
    #[serde(default)]
    pub login: bool,
}

/// A request body: empty, inline text, or `@file` (relative to the scenario file) until [`load`] reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Body {
    /// No body.
    #[default]
    Empty,
    /// The bytes to send.
    Inline(Bytes),
    /// `@path` not read yet; [`load`] and [`Scenario::read_bodies`] replace it by `Inline`.
    File(PathBuf),
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.strip_prefix('@') {
            _ if s.is_empty() => Body::Empty,
            Some(path) => Body::File(PathBuf::from(path)),
            None => Body::Inline(Bytes::from(s)),
        })
    }
}

fn one() -> u32 {
    1
}

/// Why a scenario could not be loaded; Display names the file, line and field.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScenarioError {
    /// The file (or a `@body` file) could not be read.
    #[error("scenario {origin}: cannot read {path}: {source}")]
    Read { origin: String, path: String, source: std::io::Error },
    /// The content is invalid.
    #[error("scenario {origin}: {}{message}", line_prefix(*.line))]
    Invalid { origin: String, line: Option<usize>, message: String },
}

fn line_prefix(line: Option<usize>) -> String {
    line.map(|l| format!("line {l}: ")).unwrap_or_default()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    login: Option<Login>,
    routes: Vec<RouteFile>,
}

/// Reads, parses and validates a scenario file, including its `@file` bodies.
pub(crate) fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let read_error = |source| ScenarioError::Read { origin: origin.clone(), path: origin.clone(), source };
    let invalid = |message: String| ScenarioError::Invalid { origin: origin.clone(), line: None, message };
    let bytes = read_bounded(path, MAX_SCENARIO_BYTES)
        .map_err(read_error)?
        .ok_or_else(|| invalid(format!("larger than {} KiB", MAX_SCENARIO_BYTES >> 10)))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| invalid(format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to())))?;
    let mut scenario = parse(&text, &origin)?;
    scenario.read_bodies(path.parent().unwrap_or(Path::new(".")), &origin)?;
    Ok(scenario)
}

/// Parses and validates scenario text; `origin` names it in errors. `@file` bodies stay unread.
pub(crate) fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let invalid = |line, message| ScenarioError::Invalid { origin: origin.to_owned(), line, message };
    if let Some(line) = too_deep(text, MAX_DEPTH) {
        return Err(invalid(Some(line), format!("nested deeper than {MAX_DEPTH} levels")));
    }
    let raw: RawScenario = serde_yaml_ng::from_str(text).map_err(|e| yaml_error(&e, origin))?;
    if raw.routes.is_empty() {
        return Err(invalid(None, "routes: expected at least one route".into()));
    }
    if raw.routes.len() > MAX_ROUTES {
        return Err(invalid(None, format!("routes: at most {MAX_ROUTES} routes, got {}", raw.routes.len())));
    }
    for (i, route) in raw.routes.iter().enumerate() {
        let first = raw.routes.iter().position(|r| r.name == route.name);
        if first != Some(i) {
            let line = nth_line_with(text, &route.name, 1);
            let message = format!("routes[{i}].name: duplicate route name {:?}", route.name);
            return Err(invalid(line, message));
        }
        if route.login && raw.login.is_none() {
            let line = nth_line_with(text, &route.name, 0);
            let message = format!("routes[{i}].login: true, but the scenario has no login section");
            return Err(invalid(line, message));
        }
    }
    Ok(Scenario { login: raw.login, routes: raw.routes })
}

impl Scenario {
    /// Replaces every `@file` body by its content, resolving paths against `base` (the scenario's folder).
    pub(crate) fn read_bodies(&mut self, base: &Path, origin: &str) -> Result<(), ScenarioError> {
        for route in &mut self.routes {
            if let Body::File(rel) = &route.body {
                let path = base.join(rel);
                let bytes = read_bounded(&path, MAX_BODY_BYTES)
                    .map_err(|source| ScenarioError::Read {
                        origin: origin.to_owned(),
                        path: path.display().to_string(),
                        source,
                    })?
                    .ok_or_else(|| ScenarioError::Invalid {
                        origin: origin.to_owned(),
                        line: None,
                        message: format!("body {}: larger than {} MiB", path.display(), MAX_BODY_BYTES >> 20),
                    })?;
                route.body = Body::Inline(Bytes::from(bytes));
            }
        }
        Ok(())
    }
}

/// Turns a serde_yaml_ng error into "line N: path: reason", without the library's trailing position.
fn yaml_error(e: &serde_yaml_ng::Error, origin: &str) -> ScenarioError {
    let mut message = e.to_string();
    let line = e.location().map(|loc| {
        let suffix = format!(" at line {} column {}", loc.line(), loc.column());
        message = message.replacen(&suffix, "", 1);
        loc.line()
    });
    ScenarioError::Invalid { origin: origin.to_owned(), line, message }
}

/// 1-based line of the `n`th (0-based) `name:` line whose value is `value`, for errors found after parsing.
fn nth_line_with(text: &str, value: &str, n: usize) -> Option<usize> {
    let quoted = [value.to_owned(), format!("\"{value}\""), format!("'{value}'")];
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start().trim_start_matches("- ").trim_start_matches('{');
            let rest = l.strip_prefix("name:").or_else(|| l.strip_prefix("\"name\":"));
            rest.is_some_and(|r| {
                let r = r.trim().trim_end_matches(',').trim_end_matches('}').trim();
                quoted.iter().any(|q| q == r)
            })
        })
        .nth(n)
        .map(|(i, _)| i + 1)
}
