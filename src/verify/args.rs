//! The flags of `trafficgen verify`, their `TRAFFICGEN_*` env vars, and their validation into a
//! [`Spec`]. `run --verify-*` fills the same [`RawVerify`] from its own settings, so both commands
//! validate alike; errors name the flag or env var the value came from (exit 2).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::ArgMatches;
use setting::{duration, parse_bool, positive_duration, run_id, Invalid, Parsed, RUN_ID_EXPECTED};

use super::check::{self, Check};
use super::dashboard;
use super::preset::Mesh;
use super::prom::Prometheus;
use super::rules::{self, Expectation, RuleSet};
use super::variables::Override;
use super::Dashboards;
use super::{Spec, Window};
use crate::model::url::parse_url;
use crate::net::client::{read_certs, ClientOptions};
use crate::settings::{pick, Env};

/// Flags of `trafficgen verify`; each also reads `TRAFFICGEN_<NAME>` when not given.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct VerifyArgs {
    /// Prometheus base URL, e.g. http://prometheus-kube-prometheus-prometheus.monitoring:9090
    #[arg(long)]
    pub prometheus: Option<String>,
    /// File holding a bearer token for Prometheus (re-read each verification)
    #[arg(long)]
    pub bearer_token_file: Option<String>,
    /// Extra CA certificates (PEM file) to trust for https:// Prometheus
    #[arg(long)]
    pub cacert: Option<String>,
    /// Do not verify Prometheus's TLS certificate; a switch (the env var takes true/false)
    #[arg(long, num_args = 0, default_missing_value = "true")]
    pub insecure: Option<String>,
    /// Judge the last DURATION, ending now (default 5m unless --run-id or --summary)
    #[arg(long)]
    pub window: Option<String>,
    /// Judge the run with this id, from its first to its last trafficgen_run_info sample
    #[arg(long)]
    pub run_id: Option<String>,
    /// Judge the run of this JSON summary (--summary-file): its start, end and run id
    #[arg(long)]
    pub summary: Option<String>,
    /// Built-in checks: bookinfo, or none (default bookinfo unless --check or --checks is given)
    #[arg(long)]
    pub preset: Option<String>,
    /// Kind of cluster for the preset: none, linkerd, istio, or auto (whichever metrics exist)
    #[arg(long, default_value = "auto")]
    pub mesh: Option<String>,
    /// Bookinfo's namespace
    #[arg(long, default_value = "bookinfo")]
    pub namespace: Option<String>,
    /// Custom check 'NAME: PROMQL OP VALUE' (OP: < <= > >= == !=, or 'within 5% of 1'); repeatable; in the env var one per line, or comma-separated with \, for a comma
    #[arg(long)]
    pub check: Vec<String>,
    /// YAML file of checks: checks: [{name, query, expect: '>= 1', skip_unless: PROMQL}]
    #[arg(long)]
    pub checks: Option<String>,
    /// Re-run failing checks until they pass or this much time has passed
    #[arg(long, default_value = "0s")]
    pub retry_for: Option<String>,
    /// Prometheus's scrape interval, when not the one Prometheus lists for the generator's target (the step of subqueries; rate ranges are Grafana's $__rate_interval of it)
    #[arg(long)]
    pub scrape_interval: Option<String>,
    /// Prometheus rule file or PrometheusRule objects (YAML): one row per rule, its selectors must have data; repeatable
    #[arg(long)]
    pub rules: Vec<String>,
    /// An alert of the --rules files that must be active (pending or firing) in the window; repeatable
    #[arg(long)]
    pub expect_firing: Vec<String>,
    /// An alert of the --rules files that must stay inactive in the window (its metrics present); repeatable
    #[arg(long)]
    pub expect_quiet: Vec<String>,
    /// Output: text (a table) or json
    #[arg(long, default_value = "text")]
    pub output: Option<String>,

    // Grafana dashboards as checks.
    /// Grafana dashboard JSON, or ConfigMaps (YAML/JSON) labelled grafana_dashboard, or a directory of them: one check per panel; repeatable; newline-separated in the env var
    #[arg(long, value_name = "FILE|DIR")]
    pub dashboard: Vec<String>,
    /// A dashboard variable's value, NAME=VALUE (repeat NAME for several values; VALUE All for all); repeatable; newline-separated in the env var
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Check only the dashboard panels whose name (ROW / TITLE) matches this regex
    #[arg(long, value_name = "REGEX")]
    pub panel: Option<String>,
}

/// One setting as text, with the name to use in messages.
type Setting = Option<(String, String)>;

/// Raw verification settings: each value with the flag or env var it came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawVerify {
    /// `prometheus`, `window`, ... -> (name for messages, value).
    pub values: Vec<(&'static str, String, String)>,
    /// Custom checks, each with its name for messages.
    pub checks: Vec<(String, String)>,
    /// Other repeatable settings: (`rules`, `expect_firing`, `expect_quiet`) -> (name for messages, value).
    pub lists: Vec<(&'static str, String, String)>,
    /// TLS settings already validated elsewhere (`run` passes its own).
    pub client: Option<ClientOptions>,
    /// Dashboard files or directories, each with its name for messages.
    pub dashboards: Vec<(String, String)>,
    /// Dashboard variables `NAME=VALUE`, each with its name for messages.
    pub vars: Vec<(String, String)>,
}

const LISTS: [&str; 3] = ["rules", "expect_firing", "expect_quiet"];

const FIELDS: [&str; 15] = [
    "prometheus",
    "bearer_token_file",
    "cacert",
    "insecure",
    "window",
    "run_id",
    "summary",
    "preset",
    "mesh",
    "namespace",
    "checks",
    "retry_for",
    "scrape_interval",
    "output",
    "panel",
];

impl RawVerify {
    /// Layer `verify`'s flags over `TRAFFICGEN_*` env vars over the flags' defaults ([`pick`]).
    pub(crate) fn layer(matches: &ArgMatches, env: &Env) -> RawVerify {
        let mut raw = RawVerify::default();
        for field in FIELDS {
            if let Some(given) = pick(matches, env, field) {
                raw.values.push((field, given.name.clone(), given.value().to_string()));
            }
        }
        // Repeatable flags; their env var holds a list by the one list rule.
        let list = |field: &str| -> Vec<(String, String)> {
            let Some(given) = pick(matches, env, field) else { return Vec::new() };
            given.items().into_iter().map(|v| (given.name.clone(), v)).collect()
        };
        raw.checks = list("check");
        raw.dashboards = list("dashboard");
        raw.vars = list("var");
        for field in LISTS {
            raw.lists.extend(list(field).into_iter().map(|(name, v)| (field, name, v)));
        }
        raw
    }

    fn get(&self, field: &str) -> Setting {
        self.values.iter().find(|(f, _, _)| *f == field).map(|(_, n, v)| (n.clone(), v.clone()))
    }

    /// Validate into a [`Spec`].
    pub(crate) fn spec(&self) -> Result<Spec, Invalid> {
        let base = self.need("prometheus", "a Prometheus URL such as http://prometheus:9090", parse_url)?;
        let token = self.opt("bearer_token_file", "a readable file holding a token", |p| {
            let token = std::fs::read_to_string(p).map_err(setting::Cause::new)?.trim().to_string();
            if token.is_empty() {
                return Err(setting::Cause::new("the file is empty"));
            }
            Ok(token)
        })?;
        let client = match &self.client {
            Some(c) => c.clone(),
            None => ClientOptions {
                connections: std::num::NonZeroUsize::MIN,
                http2: false,
                insecure: self.opt("insecure", "true or false", parse_bool)?.unwrap_or(false),
                cacerts: self
                    .opt("cacert", "a readable PEM file with at least one certificate", read_certs)?
                    .unwrap_or_default(),
                pins: Vec::new(),
                nameserver: None,
            },
        };
        let checks = self.custom_checks()?;
        let dashboards = self.dashboards()?;
        let rules = self.rules()?;
        let preset = self.opt("preset", "bookinfo or none", |s| match s {
            "bookinfo" => Some(true),
            "none" => Some(false),
            _ => None,
        })?;
        Ok(Spec {
            prometheus: Prometheus { base, token, client },
            window: self.window()?,
            preset: preset.unwrap_or(checks.is_empty() && dashboards.boards.is_empty() && rules.rules.is_empty()),
            mesh: self.opt("mesh", "none, linkerd, istio or auto", Mesh::parse)?.unwrap_or(Mesh::Auto),
            namespace: self
                .opt("namespace", "a Kubernetes namespace name", |s| name_like(s).then(|| s.to_string()))?
                .unwrap_or_else(|| "bookinfo".into()),
            checks,
            dashboards,
            rules,
            retry_for: self.opt("retry_for", "a duration such as 2m, or 0s", duration)?.unwrap_or_default(),
            scrape_interval: self.opt("scrape_interval", "a duration such as 30s", positive_duration)?,
            json: self
                .opt("output", "text or json", |s| match s {
                    "text" => Some(false),
                    "json" => Some(true),
                    _ => None,
                })?
                .unwrap_or(false),
        })
    }

    fn custom_checks(&self) -> Result<Vec<Check>, Invalid> {
        let mut out: Vec<Check> = self
            .checks
            .iter()
            .map(|(name, v)| {
                check::parse_flag(v).ok_or_else(|| {
                    let expected = "'NAME: PROMQL OP VALUE' with OP one of < <= > >= == != or 'within 5% of 1'";
                    Invalid::new(name, v, expected)
                })
            })
            .collect::<Result<_, _>>()?;
        if let Some((name, path)) = self.get("checks") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Invalid::new(&name, &path, "a readable YAML file").because(e))?;
            let parsed = check::parse_file(&text)
                .map_err(|e| Invalid::new(&name, &path, "checks: [{name, query, expect}]").because(e))?;
            out.extend(parsed);
        }
        Ok(out)
    }

    /// `--dashboard` files read and parsed now, so a bad file stops before any query (exit 2).
    fn dashboards(&self) -> Result<Dashboards, Invalid> {
        let mut boards = Vec::new();
        for (setting, path) in &self.dashboards {
            let found = dashboard::load(&[PathBuf::from(path)]).map_err(|e| {
                Invalid::new(setting, path, "Grafana dashboard JSON or ConfigMaps labelled grafana_dashboard")
                    .because(e)
            })?;
            boards.extend(found);
        }
        let mut overrides: Vec<Override> = Vec::new();
        for (setting, text) in &self.vars {
            let (name, value) = text
                .split_once('=')
                .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .ok_or_else(|| Invalid::new(setting, text, "NAME=VALUE, NAME a dashboard variable's name"))?;
            match overrides.iter_mut().find(|o| o.name == name) {
                Some(o) => o.values.push(value.to_string()),
                None => overrides.push(Override { name: name.to_string(), values: vec![value.to_string()] }),
            }
        }
        let panels = self.opt("panel", "a regular expression", |s| regex::Regex::new(s).ok())?;
        Ok(Dashboards { boards, overrides, panels })
    }

    /// The rules of every `--rules` file, and what `--expect-firing`/`--expect-quiet` expect of them.
    fn rules(&self) -> Result<RuleSet, Invalid> {
        let mut rules = Vec::new();
        for (_, name, path) in self.lists.iter().filter(|(f, _, _)| *f == "rules") {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Invalid::new(name, path, "a readable rule file").because(e))?;
            let parsed = rules::parse(&text)
                .map_err(|e| Invalid::new(name, path, "Prometheus rules or a PrometheusRule").because(e))?;
            rules.extend(parsed);
        }
        let mut expect = Vec::new();
        for (field, name, alert) in self.lists.iter().filter(|(f, _, _)| *f != "rules") {
            if !rules.iter().any(|r| r.alert && r.name == *alert) {
                let known: Vec<&str> = rules.iter().filter(|r| r.alert).map(|r| r.name.as_str()).collect();
                let expected = format!("an alert of the --rules files ({})", known.join(", "));
                return Err(Invalid::new(name, alert, expected));
            }
            let e = if *field == "expect_firing" { Expectation::Firing } else { Expectation::Quiet };
            expect.push((alert.clone(), e));
        }
        Ok(RuleSet { rules, expect })
    }

    fn window(&self) -> Result<Window, Invalid> {
        let given: Vec<(String, String)> = ["window", "run_id", "summary"].iter().filter_map(|f| self.get(f)).collect();
        if given.len() > 1 {
            let names: Vec<&str> = given.iter().map(|(n, _)| n.as_str()).collect();
            let values = given.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", ");
            return Err(Invalid::new(names.join(" and "), values, "only one of --window, --run-id and --summary"));
        }
        if let Some(d) = self.opt("window", "a duration such as 5m", positive_duration)? {
            return Ok(Window::Last(d));
        }
        if let Some(id) = self.opt("run_id", RUN_ID_EXPECTED, run_id)? {
            return Ok(Window::RunId(id));
        }
        let summary = "a JSON summary written by --summary-file, with start_unix_s and end_unix_s";
        if let Some(window) = self.opt("summary", summary, |p| summary_window(Path::new(p)))? {
            return Ok(window);
        }
        Ok(Window::Last(Duration::from_secs(300)))
    }

    fn opt<T, R: Parsed<T>>(
        &self,
        field: &str,
        expected: &str,
        f: impl FnOnce(&str) -> R,
    ) -> Result<Option<T>, Invalid> {
        let Some((setting, value)) = self.get(field) else { return Ok(None) };
        let parsed = f(value.trim()).into_result();
        parsed.map(Some).map_err(|cause| cause.invalid(setting, value, expected))
    }

    fn need<T, R: Parsed<T>>(&self, field: &str, expected: &str, f: impl FnOnce(&str) -> R) -> Result<T, Invalid> {
        let flag = format!("{} (or {})", setting::flag_name(field), setting::env_name(field));
        self.opt(field, expected, f)?.ok_or_else(|| Invalid::new(flag, "", format!("{expected} (none given)")))
    }
}

fn name_like(s: &str) -> bool {
    (1..=63).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Start, end and run id from a summary file.
fn summary_window(path: &Path) -> Option<Window> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let time = |key: &str| {
        let t = v[key].as_f64().filter(|t| *t > 0.0)?;
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(t))
    };
    let run_id = v["run_id"].as_str().and_then(|id| run_id(id).ok());
    Some(Window::Fixed { start: time("start_unix_s")?, end: time("end_unix_s")?, run_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, FromArgMatches};

    fn raw(argv: &[&str], env: &[(&str, &str)]) -> RawVerify {
        let cmd = VerifyArgs::augment_args(clap::Command::new("verify"));
        let m = cmd.try_get_matches_from(std::iter::once("verify").chain(argv.iter().copied())).unwrap();
        VerifyArgs::from_arg_matches(&m).unwrap();
        let env = Env::read(env.iter().map(|(k, v)| (k.into(), v.into()))).unwrap();
        RawVerify::layer(&m, &env)
    }

    #[test]
    fn flags_beat_env_beats_defaults() {
        let s = raw(&["--window", "2m"], &[("TRAFFICGEN_PROMETHEUS", "http://p:9090"), ("TRAFFICGEN_WINDOW", "9m")])
            .spec()
            .unwrap();
        assert_eq!(s.window, Window::Last(Duration::from_secs(120)));
        assert_eq!(s.namespace, "bookinfo");
        assert!(s.preset && s.mesh == Mesh::Auto);
        let s = raw(&["--prometheus", "http://p"], &[("TRAFFICGEN_CHECK", "a: up == 1\nb: up > 0")]).spec().unwrap();
        assert_eq!(s.checks.len(), 2);
        assert!(!s.preset, "custom checks replace the default preset");
    }

    #[test]
    fn errors_name_the_setting() {
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
        let cases: [Case; 5] = [
            (&[], &[], "invalid --prometheus (or TRAFFICGEN_PROMETHEUS)"),
            (&["--prometheus", "x"], &[], "invalid --prometheus=\"x\""),
            (&["--prometheus", "http://p"], &[("TRAFFICGEN_MESH", "consul")], "invalid TRAFFICGEN_MESH=\"consul\""),
            (&["--prometheus", "http://p", "--check", "bad"], &[], "invalid --check=\"bad\""),
            (&["--prometheus", "http://p", "--window", "1m", "--run-id", "x"], &[], "invalid --window and --run-id"),
        ];
        for (argv, env, want) in cases {
            let e = raw(argv, env).spec().unwrap_err().to_string();
            assert!(e.starts_with(want), "{argv:?}: {e}");
        }
    }
}
