//! Response classification: maps (status, headers, body prefix) to one of a bounded set of classes.
//!
//! Pure, no I/O. The set of classes is fixed when the [`Classifier`] is built (except that
//! `--classify-header` learns up to [`MAX_HEADER_VALUES`] values at run time), so the metrics can give
//! every class its own `response_class` label without unbounded cardinality.

mod fit;
mod preset;
#[cfg(test)]
mod tests;

pub(crate) use fit::{chi_square, parse_expect_split, FAIL_BELOW_P};
pub(crate) use preset::Preset;

use http::{HeaderMap, HeaderName};
use regex::bytes::Regex;
use std::sync::RwLock;

/// Most body bytes a classifier ever looks at; the caller keeps at most this much per response.
pub(crate) const BODY_CAP: usize = 64 * 1024;
/// Class of responses no rule matched.
pub(crate) const UNCLASSIFIED: &str = "unclassified";
/// Class of header values beyond the first [`MAX_HEADER_VALUES`].
pub(crate) const OTHER: &str = "other";
/// Distinct header values `--classify-header` turns into classes before the rest become `other`.
pub(crate) const MAX_HEADER_VALUES: usize = 16;

/// Index of a class in [`Classifier::classes`] (or a learnt header value, see [`Classifier::class_name`]).
pub(crate) type ClassId = u16;

/// A configuration error, naming the setting and the offending value.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// `NAME=REGEX` without the `=`.
    #[error("invalid {setting} {value:?}: expected NAME=REGEX, e.g. v2=text-black-500")]
    MissingEquals { setting: &'static str, value: String },
    /// A class name that would make a poor metric label.
    #[error("invalid {setting} {value:?}: class name must match [a-zA-Z0-9_.-]+")]
    BadName { setting: &'static str, value: String },
    /// The regex does not compile.
    #[error("invalid {setting} {value:?}: {source}")]
    BadRegex { setting: &'static str, value: String, source: Box<regex::Error> },
    /// Not a valid HTTP header name.
    #[error("invalid --classify-header {value:?}: expected an HTTP header name like x-version")]
    BadHeader { value: String },
    /// No preset by that name.
    #[error("invalid {setting} {value:?}: expected one of: bookinfo-reviews")]
    UnknownPreset { setting: &'static str, value: String },
    /// Body rules, a header rule and a preset each define the whole class list; they do not mix.
    #[error("conflicting classification: use only one of --classify, --classify-header, --classify-preset")]
    Conflict,
    /// A bad `--expect-split`.
    #[error("invalid --expect-split {value:?}: {reason}")]
    ExpectSplit { value: String, reason: String },
}

/// One classification rule as given on the command line or in a scenario.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Class `name` when `regex` matches the body prefix.
    Body { name: String, regex: Regex },
    /// Class = value of this response header.
    Header(HeaderName),
    /// A built-in rule set.
    Preset(Preset),
}

impl Rule {
    /// Parses `--classify NAME=REGEX`.
    pub fn parse_flag(spec: &str) -> Result<Rule, ClassifyError> {
        let (name, pattern) = spec
            .split_once('=')
            .ok_or_else(|| ClassifyError::MissingEquals { setting: "--classify", value: spec.to_owned() })?;
        Rule::body("--classify", name, pattern)
    }

    /// A body rule from separate name and pattern; `setting` names where they came from, for errors.
    pub fn body(setting: &'static str, name: &str, pattern: &str) -> Result<Rule, ClassifyError> {
        if !is_label_safe(name) {
            return Err(ClassifyError::BadName { setting, value: name.to_owned() });
        }
        let regex = Regex::new(pattern).map_err(|e| ClassifyError::BadRegex {
            setting,
            value: pattern.to_owned(),
            source: Box::new(e),
        })?;
        Ok(Rule::Body { name: name.to_owned(), regex })
    }

    /// Parses `--classify-header HEADER`.
    pub fn header(name: &str) -> Result<Rule, ClassifyError> {
        HeaderName::from_bytes(name.as_bytes())
            .map(Rule::Header)
            .map_err(|_| ClassifyError::BadHeader { value: name.to_owned() })
    }

    /// Parses a preset name; `setting` names where it came from, for errors.
    pub fn preset(setting: &'static str, name: &str) -> Result<Rule, ClassifyError> {
        Preset::parse(name)
            .map(Rule::Preset)
            .ok_or_else(|| ClassifyError::UnknownPreset { setting, value: name.to_owned() })
    }
}

/// True for names usable as a class (and so as a label value that reads well in PromQL).
fn is_label_safe(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[derive(Debug)]
enum Kind {
    None,
    /// (class id, regex), first match wins.
    Body(Vec<(ClassId, Regex)>),
    /// Header values learnt so far, class id = 2 + index (0 is unclassified, 1 is other).
    Header {
        name: HeaderName,
        learnt: RwLock<Vec<String>>,
    },
    Preset(Preset),
}

/// Classifies responses into a bounded set of classes.
#[derive(Debug)]
pub struct Classifier {
    kind: Kind,
    classes: Vec<String>,
    unclassified: ClassId,
}

impl Classifier {
    /// A classifier that puts everything in `unclassified` and never needs the body.
    pub fn none() -> Classifier {
        Classifier::with(Kind::None, vec![UNCLASSIFIED.to_owned()])
    }

    /// Builds a classifier from rules of one kind (any number of body rules, or one header, or one preset).
    pub fn new(rules: Vec<Rule>) -> Result<Classifier, ClassifyError> {
        let Some(first) = rules.first() else {
            return Ok(Classifier::none());
        };
        match first.clone() {
            Rule::Body { .. } => Self::from_body_rules(rules),
            Rule::Header(name) if rules.len() == 1 => {
                let learnt = RwLock::new(Vec::new());
                let classes = vec![UNCLASSIFIED.to_owned(), OTHER.to_owned()];
                Ok(Classifier::with(Kind::Header { name, learnt }, classes))
            }
            Rule::Preset(p) if rules.len() == 1 => {
                let mut classes: Vec<String> = p.classes().iter().map(|c| c.to_string()).collect();
                classes.push(UNCLASSIFIED.to_owned());
                Ok(Classifier::with(Kind::Preset(p), classes))
            }
            _ => Err(ClassifyError::Conflict),
        }
    }

    fn from_body_rules(rules: Vec<Rule>) -> Result<Classifier, ClassifyError> {
        let mut classes: Vec<String> = Vec::new();
        let mut matchers = Vec::with_capacity(rules.len());
        for rule in rules {
            let Rule::Body { name, regex } = rule else {
                return Err(ClassifyError::Conflict);
            };
            // Several regexes may feed one class; the class keeps the id of its first appearance.
            let id = match classes.iter().position(|c| *c == name) {
                Some(i) => i,
                None => {
                    classes.push(name);
                    classes.len() - 1
                }
            };
            matchers.push((id as ClassId, regex));
        }
        if !classes.iter().any(|c| c == UNCLASSIFIED) {
            classes.push(UNCLASSIFIED.to_owned());
        }
        Ok(Classifier::with(Kind::Body(matchers), classes))
    }

    fn with(kind: Kind, classes: Vec<String>) -> Classifier {
        let pos = classes.iter().position(|c| c == UNCLASSIFIED);
        let unclassified = pos.unwrap_or(0) as ClassId;
        Classifier { kind, classes, unclassified }
    }

    /// Builds a classifier from the command-line flags `--classify`, `--classify-header`, `--classify-preset`.
    pub fn from_flags(
        classify: &[String],
        header: Option<&str>,
        preset: Option<&str>,
    ) -> Result<Classifier, ClassifyError> {
        let mut rules = classify.iter().map(|s| Rule::parse_flag(s)).collect::<Result<Vec<_>, _>>()?;
        if let Some(h) = header {
            rules.push(Rule::header(h)?);
        }
        if let Some(p) = preset {
            rules.push(Rule::preset("--classify-preset", p)?);
        }
        Classifier::new(rules)
    }

    /// The classes known up front, indexed by [`ClassId`]; includes `unclassified` (and `other` for headers).
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Name of any class id, including header values learnt at run time.
    pub fn class_name(&self, id: ClassId) -> String {
        let id = usize::from(id);
        if let Some(name) = self.classes.get(id) {
            return name.clone();
        }
        match &self.kind {
            Kind::Header { learnt, .. } => {
                let learnt = learnt.read().unwrap_or_else(|e| e.into_inner());
                learnt.get(id - self.classes.len()).cloned()
            }
            _ => None,
        }
        .unwrap_or_else(|| UNCLASSIFIED.to_owned())
    }

    /// Whether [`Classifier::classify`] looks at the body; when false the caller need not buffer it.
    pub fn needs_body(&self) -> bool {
        matches!(self.kind, Kind::Body(_) | Kind::Preset(_))
    }

    /// Whether [`Classifier::classify`] looks at the headers.
    pub fn needs_headers(&self) -> bool {
        matches!(self.kind, Kind::Header { .. })
    }

    /// Classifies one response from its status, headers and first [`BODY_CAP`] body bytes.
    pub fn classify(&self, status: u16, headers: &HeaderMap, body_prefix: &[u8]) -> ClassId {
        let body = &body_prefix[..body_prefix.len().min(BODY_CAP)];
        match &self.kind {
            Kind::None => 0,
            Kind::Body(matchers) => {
                matchers.iter().find(|(_, re)| re.is_match(body)).map_or(self.unclassified, |(id, _)| *id)
            }
            Kind::Preset(p) => p.classify(status, body).map_or(self.unclassified, |i| i as ClassId),
            Kind::Header { name, learnt } => match headers.get(name) {
                None => self.unclassified,
                Some(v) => self.header_class(learnt, v.as_bytes()),
            },
        }
    }

    fn header_class(&self, learnt: &RwLock<Vec<String>>, value: &[u8]) -> ClassId {
        let base = self.classes.len();
        let other = 1;
        let Ok(value) = std::str::from_utf8(value) else {
            return other;
        };
        let find = |list: &[String]| list.iter().position(|v| v == value);
        // Fast path: a read lock, as nearly every value after warm-up is already known.
        {
            let list = learnt.read().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = find(&list) {
                return (base + i) as ClassId;
            }
            if list.len() >= MAX_HEADER_VALUES {
                return other;
            }
        }
        let mut list = learnt.write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = find(&list) {
            return (base + i) as ClassId;
        }
        if list.len() >= MAX_HEADER_VALUES {
            return other;
        }
        list.push(value.to_owned());
        (base + list.len() - 1) as ClassId
    }
}
