//! The `--remote-write*` settings: the receiver, the interval, the labels a scrape would have
//! added (with defaults from the pod), headers and credentials files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use setting::positive_duration;

use super::validator::Validator;
use super::ConfigError;
use crate::model::url::parse_url;
use crate::net::client::ClientOptions;
use crate::net::remote_write::{Auth, RemoteWrite};
use crate::settings::Layered;

/// What a scrape would have told Prometheus about this generator: the defaults of its labels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scraped<'a> {
    /// Where /metrics is served, if anywhere.
    pub(super) metrics_addr: Option<SocketAddr>,
    /// The run's id, the `instance` of last resort.
    pub(super) run_id: &'a str,
}

/// `--remote-write` with its labels and credentials, if set; files are checked readable now, so a
/// wrong path is a configuration error before anything is sent. Pushes go out over the run's
/// client settings (`--cacert`, `--insecure`, `--resolve`).
pub(super) fn section(
    l: &Layered,
    client: &ClientOptions,
    scraped: Scraped<'_>,
) -> Result<Option<RemoteWrite>, ConfigError> {
    let r = &l.raw;
    let v = Validator(l);
    let Some(url) = v.opt(
        "remote_write",
        &r.remote_write,
        "the receiver's http:// or https:// URL, e.g. http://prometheus:9090/api/v1/write",
        parse_url,
    )?
    else {
        return Ok(None);
    };
    let interval = v.parse(
        "remote_write_interval",
        r.remote_write_interval.as_deref(),
        "a duration such as 5s",
        positive_duration,
    )?;
    Ok(Some(RemoteWrite {
        url,
        interval,
        labels: labels(&v, l, scraped)?,
        headers: v.headers("remote_write_header", &r.remote_write_header)?,
        auth: auth(&v, l)?,
        client: client.clone(),
    }))
}

/// `--remote-write-label`s over the defaults, sorted by name; an empty value drops a default.
fn labels(v: &Validator, l: &Layered, scraped: Scraped<'_>) -> Result<Vec<(String, String)>, ConfigError> {
    let r = &l.raw;
    let mut labels = Vec::new();
    for given in &r.remote_write_label {
        let pair = given.split_once('=').filter(|(k, _)| valid_label_name(k.trim()));
        let Some((name, value)) = pair else {
            return Err(v.invalid(
                "remote_write_label",
                given,
                "NAME=VALUE with a Prometheus label name (letters, digits, '_', not starting with a digit or __)",
            ));
        };
        labels.retain(|(k, _): &(String, String)| k != name.trim());
        labels.push((name.trim().to_string(), value.trim().to_string()));
    }
    for (name, value) in defaults(l, scraped) {
        if !labels.iter().any(|(k, _)| *k == name) {
            labels.push((name.to_string(), value));
        }
    }
    labels.retain(|(_, value)| !value.is_empty());
    labels.sort();
    Ok(labels)
}

/// A bearer token file, or basic auth's two files, or neither.
fn auth(v: &Validator, l: &Layered) -> Result<Auth, ConfigError> {
    let r = &l.raw;
    let file = |field: &str, value: &Option<String>| {
        v.opt(field, value, "a readable file", |s| readable(Path::new(s)).then(|| PathBuf::from(s)))
    };
    let bearer = file("remote_write_bearer_token_file", &r.remote_write_bearer_token_file)?;
    let username = file("remote_write_username_file", &r.remote_write_username_file)?;
    let password = file("remote_write_password_file", &r.remote_write_password_file)?;
    Ok(match (bearer, username, password) {
        (None, None, None) => Auth::None,
        (Some(token), None, None) => Auth::Bearer(token),
        (None, Some(username), Some(password)) => Auth::Basic { username, password },
        (Some(_), _, _) => {
            return Err(v.invalid(
                "remote_write_bearer_token_file",
                r.remote_write_bearer_token_file.as_deref().unwrap_or_default(),
                "either a bearer token or basic auth (--remote-write-username-file), not both",
            ))
        }
        (None, username, _) => {
            let (field, value) = match username {
                Some(_) => ("remote_write_password_file", ""),
                None => ("remote_write_username_file", ""),
            };
            return Err(v.invalid(field, value, "a file: basic auth needs both a user name and a password file"));
        }
    })
}

/// The labels a scrape would add: `job`, and `instance` as the scraped address (the pod's IP
/// and metrics port, else the host's name); in a pod also `namespace` and `pod`, from the
/// downward API variables the manifests set.
fn defaults(l: &Layered, scraped: Scraped<'_>) -> Vec<(&'static str, String)> {
    let port = scraped.metrics_addr.map(|a| a.port());
    let host = match &l.pod.ip {
        Some(ip) if l.in_pod => Some(ip.clone()),
        _ if l.in_pod => l.pod.name.clone(),
        _ => hostname(),
    };
    let instance = match (host, port) {
        (Some(host), Some(port)) if host.contains(':') => format!("[{host}]:{port}"),
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host,
        (None, _) => scraped.run_id.to_string(),
    };
    let mut out = vec![("job", "trafficgen".to_string()), ("instance", instance)];
    if l.in_pod {
        out.extend(l.pod.namespace.clone().map(|n| ("namespace", n)));
        out.extend(l.pod.name.clone().map(|n| ("pod", n)));
    }
    out
}

/// The machine's name, as the kernel has it.
fn hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, without the `__` prefix Prometheus keeps for itself.
fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

fn readable(path: &Path) -> bool {
    std::fs::File::open(path).is_ok_and(|f| f.metadata().is_ok_and(|m| m.is_file()))
}
