//! One setting's value, shared by every command of trafficgen and by the simulation's `serve`:
//! how a setting is named (flag or `TRAFFICGEN_*` env var), the one rule for lists given in an env
//! var, the value parsers, and [`Invalid`], the one error for a value that cannot be used.
//!
//! Below both `trafficgen` and `sim` (which `trafficgen` depends on), so neither keeps its own copy.
//! Each parser returns the cause of a refusal; the caller adds the setting's name and what it expected.

use std::fmt;
use std::time::Duration;

/// Prefix of every env var that sets an option; it keeps Kubernetes service-link vars out.
pub const ENV_PREFIX: &str = "TRAFFICGEN_";

/// Longest duration any setting takes: a year, far past any Job and safe to add to an `Instant`.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// The env var of a field: `max_in_flight` -> `TRAFFICGEN_MAX_IN_FLIGHT`.
pub fn env_name(field: &str) -> String {
    format!("{ENV_PREFIX}{}", field.to_uppercase())
}

/// The flag of a field: `max_in_flight` -> `--max-in-flight`.
pub fn flag_name(field: &str) -> String {
    format!("--{}", field.replace('_', "-"))
}

/// A setting whose value cannot be used: `invalid --rate="abc": expected a positive number …`.
/// Config errors exit 2 before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Invalid {
    /// Flag or env var, as the user gave it.
    pub setting: String,
    /// The value given.
    pub value: String,
    /// What would have been accepted.
    pub expected: String,
    /// Why the value was refused, when the parser knows more than "not that" (e.g. a file's I/O error).
    pub cause: Option<String>,
}

impl Invalid {
    /// `setting` had `value`, `expected` would have done.
    pub fn new(setting: impl Into<String>, value: impl Into<String>, expected: impl Into<String>) -> Invalid {
        Invalid { setting: setting.into(), value: value.into(), expected: expected.into(), cause: None }
    }

    /// The same error, with the parser's cause.
    pub fn because(mut self, cause: impl fmt::Display) -> Invalid {
        self.cause = Some(cause.to_string());
        self
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}={:?}: expected {}", self.setting, self.value, self.expected)?;
        match &self.cause {
            Some(cause) => write!(f, " ({cause})"),
            None => Ok(()),
        }
    }
}

/// Why a parser refused a value; empty when "not the expected form" says it all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cause(pub Option<String>);

impl Cause {
    /// A refusal with nothing to add to what was expected.
    pub const NONE: Cause = Cause(None);

    /// A refusal with a reason worth showing.
    pub fn new(reason: impl fmt::Display) -> Cause {
        Cause(Some(reason.to_string()))
    }

    /// Name the setting: the [`Invalid`] error this cause makes for `setting` = `value`.
    pub fn invalid(self, setting: impl Into<String>, value: impl Into<String>, expected: impl Into<String>) -> Invalid {
        Invalid { cause: self.0, ..Invalid::new(setting, value, expected) }
    }
}

/// What a value parser returns: `Option` when "not the expected form" says it all, `Result` with a
/// [`Cause`] when the parser knows why.
pub trait Parsed<T> {
    /// The value, or why it was refused.
    fn into_result(self) -> Result<T, Cause>;
}

impl<T> Parsed<T> for Option<T> {
    fn into_result(self) -> Result<T, Cause> {
        self.ok_or(Cause::NONE)
    }
}

impl<T> Parsed<T> for Result<T, Cause> {
    fn into_result(self) -> Result<T, Cause> {
        self
    }
}

/// A list given as one text (an env var): items on separate lines when it has any (a YAML block in
/// a manifest), else separated by commas, with `\,` for a comma inside an item
/// (`TRAFFICGEN_HEADER='accept: text/html\,application/json'`). The one list rule of every command.
pub fn split_list(text: &str) -> Vec<String> {
    if text.contains('\n') {
        return text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    }
    let mut items = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let item = items.last_mut().expect("never empty");
        match c {
            '\\' if chars.peek() == Some(&',') => {
                item.push(',');
                chars.next();
            }
            ',' => items.push(String::new()),
            c => item.push(c),
        }
    }
    items
}

/// `true`/`false`, also `1`/`0`, `yes`/`no` in any case; empty is false (a switch's env var).
pub fn parse_bool(s: &str) -> Result<bool, Cause> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" | "" => Ok(false),
        _ => Err(Cause::NONE),
    }
}

/// A duration such as `30s`, `1h30m` or a bare `0`, at most [`MAX_DURATION`].
pub fn duration(s: &str) -> Result<Duration, Cause> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let d = humantime::parse_duration(s).map_err(Cause::new)?;
    if d > MAX_DURATION {
        return Err(Cause::new("longer than 366 days"));
    }
    Ok(d)
}

/// A [`duration`] above zero.
pub fn positive_duration(s: &str) -> Result<Duration, Cause> {
    duration(s).and_then(|d| if d.is_zero() { Err(Cause::new("zero")) } else { Ok(d) })
}

/// A share from 0 to 1: `0.25` or `25%`.
pub fn ratio(s: &str) -> Result<f64, Cause> {
    let s = s.trim();
    let v = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(Cause::new)? / 100.0,
        None => s.parse::<f64>().map_err(Cause::new)?,
    };
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(Cause::NONE)
    }
}

/// What [`run_id`] accepts, for messages.
pub const RUN_ID_EXPECTED: &str = "letters, digits, '-', '_' or '.'";

/// A run id: letters, digits, `-`, `_` or `.`, so it is safe inside a PromQL label matcher and a
/// Pushgateway path.
pub fn run_id(s: &str) -> Result<String, Cause> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        Ok(s.to_string())
    } else {
        Err(Cause::NONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_lines_or_unescaped_commas() {
        assert_eq!(split_list("a,b"), ["a", "b"]);
        assert_eq!(
            split_list(r"accept: text/html\,application/json,x: 1"),
            ["accept: text/html,application/json", "x: 1"]
        );
        assert_eq!(split_list("a: up == 1, 2\n\n  b: up > 0\n"), ["a: up == 1, 2", "b: up > 0"]);
        assert_eq!(split_list("one"), ["one"]);
    }

    #[test]
    fn parsers_keep_their_cause() {
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert_eq!(duration(" 1m30s "), Ok(Duration::from_secs(90)));
        assert!(duration("soon").unwrap_err().0.is_some(), "humantime's reason is kept");
        assert_eq!(duration("400days").unwrap_err(), Cause::new("longer than 366 days"));
        assert!(positive_duration("0s").is_err());
        assert_eq!(parse_bool("YES"), Ok(true));
        assert_eq!(parse_bool(""), Ok(false));
        assert!(parse_bool("maybe").is_err());
        assert_eq!(ratio("25%"), Ok(0.25));
        assert!(ratio("101%").is_err());
        assert!(run_id("a-b_c.1").is_ok() && run_id("a}b").is_err() && run_id("").is_err());
    }

    #[test]
    fn one_message_format() {
        let e = Cause::new("No such file").invalid("--cacert", "/x.pem", "a readable PEM file");
        assert_eq!(e.to_string(), r#"invalid --cacert="/x.pem": expected a readable PEM file (No such file)"#);
        assert_eq!(
            Invalid::new("TRAFFICGEN_RATE", "abc", "a number").to_string(),
            r#"invalid TRAFFICGEN_RATE="abc": expected a number"#
        );
    }
}
