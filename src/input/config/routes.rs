//! What to send: URL arguments or a scenario file, turned into routes with their classifiers.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, REFERER};
use http::{HeaderValue, Method};

use super::validator::{load_body, Validator};
use super::ConfigError;
use crate::model::classify::Classifier;
use crate::model::scenario::Route;
use crate::model::scenario::{self, read_bounded, Body, Login};
use crate::model::url::parse_url;
use crate::settings::RawConfig;

/// Most target URLs (arguments, `@FILE` lines): a long list, as load tools take, each one route.
pub(crate) const MAX_URLS: usize = 100_000;
/// Largest `@FILE` of URLs.
const MAX_URL_FILE: u64 = 64 << 20;
/// Most different `route` names among URL arguments; the rest are [`OTHER`].
const MAX_NAMES: usize = 100;
/// The route name of URLs past [`MAX_NAMES`] different paths.
const OTHER: &str = "other";

/// The target section of a plan: what to send.
#[derive(Debug, Clone)]
pub(crate) struct TargetSection {
    routes: Vec<Route>,
    login: Option<usize>,
}

impl TargetSection {
    /// The routes of the URL arguments or of the scenario file, with their classifiers; files
    /// (`@FILE` of URLs, `--body @file`, the scenario) are read here.
    pub(super) fn new(v: &Validator<'_>) -> Result<TargetSection, ConfigError> {
        routes(v, &v.0.raw)
    }

    /// What to send, each route with its classifier.
    pub(crate) fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Index of the login route, sent once per worker before logged-in routes.
    pub(crate) fn login(&self) -> Option<usize> {
        self.login
    }
}

fn routes(v: &Validator<'_>, r: &RawConfig) -> Result<TargetSection, ConfigError> {
    let global = classifier(v, r)?;
    let Some(path) = &r.scenario else {
        return Ok(TargetSection { routes: url_routes(v, r, global)?, login: None });
    };
    if !r.url.is_empty() {
        return Err(v.invalid("scenario", path, "either a scenario file or URL arguments, not both"));
    }
    let file = scenario::load(Path::new(path)).map_err(|e| ConfigError::Usage(e.to_string()))?;
    let mut routes: Vec<Route> = file
        .routes
        .into_iter()
        .map(|f| Route {
            name: f.name,
            method: f.method,
            uri: f.url,
            headers: f.headers,
            body: match f.body {
                Body::Inline(bytes) => bytes,
                Body::Empty => Bytes::new(),
                Body::File(_) => unreachable!("scenario::load reads every @file body"),
            },
            weight: f.weight,
            classifier: f.classify.map(Arc::new).or_else(|| global.clone()),
            login: f.login,
        })
        .collect();
    let login = file.login.map(|l| {
        routes.push(login_route(l));
        routes.len() - 1
    });
    Ok(TargetSection { routes, login })
}

fn url_routes(
    v: &Validator<'_>,
    r: &RawConfig,
    classifier: Option<Arc<Classifier>>,
) -> Result<Vec<Route>, ConfigError> {
    let body = match r.body.as_deref() {
        Some(b) => {
            v.parse("body", Some(b), "literal text, or @FILE naming a readable file of at most 16 MiB", load_body)?
        }
        None => Bytes::new(),
    };
    let headers = v.headers("header", &r.header)?;
    let method = v.parse("method", r.method.as_deref(), "an HTTP method such as GET or POST", |s| {
        Method::from_bytes(s.as_bytes()).ok()
    })?;
    let urls = url_list(v, &r.url)?;
    if urls.is_empty() {
        return Err(ConfigError::NoUrl);
    }
    if urls.len() > MAX_URLS {
        let expected = format!("at most {MAX_URLS} target URLs");
        return Err(v.invalid("url", &format!("{} URLs", urls.len()), &expected));
    }
    // The `route` label is the URL's path; past MAX_NAMES different paths, the rest are one
    // route named `other`, so a long list of URLs keeps the series and the summary bounded.
    let mut names: HashSet<String> = HashSet::new();
    urls.iter()
        .map(|u| {
            if !u.contains("://") && parse_url(&format!("http://{u}")).is_ok() {
                let expected = format!("an absolute URL with a scheme: did you mean http://{u}?");
                return Err(v.invalid("url", u, &expected));
            }
            let uri = v.parse("url", Some(u), "an absolute http:// or https:// URL with a host", parse_url)?;
            let path = uri.path();
            let name = if names.contains(path) || names.len() < MAX_NAMES {
                names.insert(path.to_string());
                path.to_string()
            } else {
                OTHER.to_string()
            };
            Ok(Route {
                name,
                method: method.clone(),
                uri,
                headers: headers.clone(),
                body: body.clone(),
                weight: 1,
                classifier: classifier.clone(),
                login: false,
            })
        })
        .collect()
}

/// The URL arguments with each `@FILE` replaced by the URLs in it, one a line (blank lines and
/// `#` comments skipped).
fn url_list(v: &Validator<'_>, given: &[String]) -> Result<Vec<String>, ConfigError> {
    let mut urls = Vec::new();
    for item in given {
        let Some(path) = item.strip_prefix('@') else {
            urls.push(item.clone());
            continue;
        };
        let expected =
            format!("@FILE naming a readable file of at most {} MiB of URLs, one a line", MAX_URL_FILE >> 20);
        let bytes = read_bounded(Path::new(path), MAX_URL_FILE)
            .ok()
            .flatten()
            .ok_or_else(|| v.invalid("url", item, &expected))?;
        let text = String::from_utf8(bytes).map_err(|_| v.invalid("url", item, "a file of UTF-8 text"))?;
        let lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
        urls.extend(lines.map(String::from));
    }
    Ok(urls)
}

/// The classifier of `--classify`, `--classify-header` or `--classify-preset`, if any is set.
fn classifier(v: &Validator<'_>, r: &RawConfig) -> Result<Option<Arc<Classifier>>, ConfigError> {
    if r.classify.is_empty() && r.classify_header.is_none() && r.classify_preset.is_none() {
        return Ok(None);
    }
    Classifier::from_flags(&r.classify, r.classify_header.as_deref(), r.classify_preset.as_deref())
        .map(|c| Some(Arc::new(c)))
        .map_err(|e| {
            // The classifier names flags; name the env var instead where the value came from one.
            let mut message = e.to_string();
            for field in ["classify_header", "classify_preset", "classify"] {
                let flag = format!("--{}", field.replace('_', "-"));
                let name = v.name(field);
                if name != flag && message.contains(&flag) {
                    message = message.replacen(&flag, &name, 1);
                    break;
                }
            }
            ConfigError::Usage(message)
        })
}

/// The login step as a route of weight 0: the schedule never picks it; each worker sends it once.
fn login_route(l: Login) -> Route {
    let form = serde_urlencoded::to_string([("username", l.username.as_str()), ("passwd", l.password.as_str())])
        .expect("strings always encode");
    let mut headers = http::HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    let referer = l.referer.as_ref().unwrap_or(&l.url).to_string();
    if let Ok(value) = HeaderValue::from_str(&referer) {
        headers.insert(REFERER, value);
    }
    Route {
        name: "login".into(),
        method: Method::POST,
        uri: l.url,
        headers,
        body: Bytes::from(form),
        weight: 0,
        classifier: None,
        login: false,
    }
}
