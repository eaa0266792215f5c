//! The verdict section of a plan: what the run is judged by.

use super::validator::Validator;
use super::{ClientSection, ConfigError};
use crate::input::threshold::Threshold;
use crate::net::client::ClientOptions;
use crate::verify;

/// `--expect-split`: the text as given and each class's weight.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExpectSplit {
    /// As given, to name the rule in the summary.
    pub(crate) text: String,
    /// Class names and their relative weights, in the order given.
    pub(crate) weights: Vec<(String, f64)>,
}

/// Thresholds on the figures, the expected class split, and the checks against Prometheus after
/// the run (`--verify-*`: they too decide whether the run passed).
#[derive(Debug, Clone)]
pub(crate) struct VerdictSection {
    thresholds: Vec<Threshold>,
    expect_split: Option<ExpectSplit>,
    verify: Option<verify::Spec>,
}

impl VerdictSection {
    /// Validate the rules; the Prometheus checks reach Prometheus with the run's TLS settings.
    pub(super) fn new(v: &Validator<'_>, client: &ClientSection) -> Result<VerdictSection, ConfigError> {
        let r = &v.0.raw;
        let threshold = |t: &String| Threshold::parse(t).map_err(|e| v.invalid("threshold", t, &e.to_string()));
        let split = |text: &String| {
            crate::model::classify::parse_expect_split(text)
                .map(|weights| ExpectSplit { text: text.clone(), weights })
                .map_err(|e| v.invalid("expect_split", text, &e.to_string()))
        };
        Ok(VerdictSection {
            thresholds: r.threshold.iter().map(threshold).collect::<Result<_, _>>()?,
            expect_split: r.expect_split.as_ref().map(split).transpose()?,
            verify: verify_spec(v, client.options())?,
        })
    }

    /// Pass/fail rules on the figures.
    pub(crate) fn thresholds(&self) -> &[Threshold] {
        &self.thresholds
    }

    /// `--expect-split`, when asked for.
    pub(crate) fn expect_split(&self) -> Option<&ExpectSplit> {
        self.expect_split.as_ref()
    }

    /// `--verify-prometheus`: the checks after the run (their window set by the run).
    pub(crate) fn verify(&self) -> Option<&verify::Spec> {
        self.verify.as_ref()
    }

    pub(super) fn with_thresholds(self, thresholds: Vec<Threshold>) -> VerdictSection {
        VerdictSection { thresholds, ..self }
    }
}

/// The `--verify-*` checks, if `--verify-prometheus` is set.
fn verify_spec(v: &Validator<'_>, client: &ClientOptions) -> Result<Option<verify::Spec>, ConfigError> {
    let l = v.0;
    let r = &l.raw;
    if r.verify_prometheus.is_none() {
        return Ok(None);
    }
    let fields = [
        ("prometheus", "verify_prometheus", &r.verify_prometheus),
        ("preset", "verify_preset", &r.verify_preset),
        ("mesh", "verify_mesh", &r.verify_mesh),
        ("namespace", "verify_namespace", &r.verify_namespace),
        ("checks", "verify_checks", &r.verify_checks),
        ("retry_for", "verify_retry_for", &r.verify_retry_for),
        ("scrape_interval", "verify_scrape_interval", &r.verify_scrape_interval),
        ("bearer_token_file", "verify_bearer_token_file", &r.verify_bearer_token_file),
        ("panel", "verify_panel", &r.verify_panel),
    ];
    let raw = verify::RawVerify {
        values: fields
            .into_iter()
            .filter_map(|(field, setting, value)| Some((field, l.name(setting), value.clone()?)))
            .collect(),
        checks: Vec::new(),
        lists: r.verify_rules.iter().map(|f| ("rules", l.name("verify_rules"), f.clone())).collect(),
        client: Some(ClientOptions { http2: false, ..client.clone() }),
        dashboards: r.verify_dashboard.iter().map(|d| (l.name("verify_dashboard"), d.clone())).collect(),
        vars: r.verify_var.iter().map(|v| (l.name("verify_var"), v.clone())).collect(),
    };
    Ok(Some(raw.spec()?))
}
