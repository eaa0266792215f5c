//! Progress on stderr, once per interval: a JSON line (for log pipelines), a plain text line
//! (`kubectl logs`, files), or on a terminal a status line redrawn in place.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::{round, Percentiles};
use crate::input::config::Format;
use crate::output::recorder::Stats;

/// The running figures a progress line shows besides the window's own stats.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Time since start.
    pub elapsed: Duration,
    /// Length of this window.
    pub span: Duration,
    /// Requests completed so far.
    pub sent: u64,
    /// Requests sent in this window (completed, plus the growth of those in flight).
    pub sent_now: u64,
    /// Configured rate, `None` for closed loop.
    pub target: Option<f64>,
    /// Requests in flight now.
    pub in_flight: i64,
    /// Response classes so far (e.g. the reviews split).
    pub classes: BTreeMap<String, u64>,
    /// The sending window, when it has a length: the status line draws a bar of it.
    pub duration: Option<Duration>,
    /// Errors by type so far.
    pub errors: BTreeMap<String, u64>,
}

impl Progress {
    /// One line for a window of `window` stats.
    pub fn line(&self, window: &Stats, format: Format) -> String {
        let rps = window.counts.requests as f64 / self.span.as_secs_f64().max(1e-9);
        let p = Percentiles::of(&window.latency);
        let target = self.target.map_or("max".to_string(), |t| format!("{t}"));
        let (errors, dropped, in_flight, sent) =
            (window.counts.errors, window.counts.dropped, self.in_flight, self.sent);
        let sent_rps = self.sent_now as f64 / self.span.as_secs_f64().max(1e-9);
        let types: BTreeMap<&str, u64> = window.counts.error_types.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        match format {
            // Shaped like the JSON logs (timestamp, level), so one pipeline reads both.
            Format::Json => serde_json::json!({
                "timestamp": humantime::format_rfc3339_micros(SystemTime::now()).to_string(),
                "level": "INFO", "msg": "progress", "elapsed_s": round(self.elapsed.as_secs_f64()),
                "done": sent, "rps": round(rps), "sent_rps": round(sent_rps), "target_rps": self.target, "p50_ms": p.p50, "p99_ms": p.p99,
                "errors": errors, "error_types": types, "dropped": dropped, "in_flight": in_flight,
                "classes": self.classes,
            })
            .to_string(),
            Format::Text => {
                // Errors by type, so the cause shows while the run goes on: errors=5(connect=3,timeout=2).
                let by_type: Vec<String> = types.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let by_type = if by_type.is_empty() { String::new() } else { format!("({})", by_type.join(",")) };
                let mut line = format!(
                    "[{:>6.1}s] done={sent} rps={rps:.1}/{target} sent={sent_rps:.1} p50={:.1}ms p99={:.1}ms errors={errors}{by_type} dropped={dropped} in_flight={in_flight}",
                    self.elapsed.as_secs_f64(),
                    p.p50,
                    p.p99,
                );
                let total = self.classes.values().sum::<u64>().max(1) as f64;
                for (name, n) in &self.classes {
                    let _ = write!(line, " {name}={:.0}%", *n as f64 * 100.0 / total);
                }
                line
            }
        }
    }
}

/// ANSI styles for the status line; empty when colour is off.
struct Style {
    bold: &'static str,
    red: &'static str,
    reset: &'static str,
}

impl Progress {
    /// The terminal status line: elapsed against the window as a bar, rate, p50/p99, errors by
    /// type, classes. The caller redraws it in place (`\r` and erase-line), so it has no newline.
    pub fn status(&self, window: &Stats, colour: bool) -> String {
        let s = if colour {
            Style { bold: "\x1b[1m", red: "\x1b[31m", reset: "\x1b[0m" }
        } else {
            Style { bold: "", red: "", reset: "" }
        };
        let elapsed = self.elapsed.as_secs_f64();
        let mut line = match self.duration {
            Some(d) => {
                let done = (elapsed / d.as_secs_f64().max(1e-9)).clamp(0.0, 1.0);
                let filled = (done * 20.0).round() as usize;
                format!("[{}{}] {elapsed:.0}/{:.0}s", "#".repeat(filled), "-".repeat(20 - filled), d.as_secs_f64())
            }
            None => format!("{elapsed:.0}s"),
        };
        let rps = window.counts.requests as f64 / self.span.as_secs_f64().max(1e-9);
        let target = self.target.map_or(String::new(), |t| format!("/{t}"));
        let p = Percentiles::of(&window.latency);
        let sent = self.sent_now as f64 / self.span.as_secs_f64().max(1e-9);
        let _ = write!(
            line,
            "  {}{rps:.1}{target} req/s{} done, {sent:.1} sent  p50 {:.1} ms  p99 {:.1} ms",
            s.bold, s.reset, p.p50, p.p99
        );
        let errors: u64 = self.errors.values().sum();
        if errors == 0 {
            let _ = write!(line, "  0 errors");
        } else {
            let kinds: Vec<String> = self.errors.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = write!(line, "  {}{errors} errors ({}){}", s.red, kinds.join(" "), s.reset);
        }
        let total = self.classes.values().sum::<u64>().max(1) as f64;
        for (name, n) in &self.classes {
            let _ = write!(line, " {name} {:.0}%", *n as f64 * 100.0 / total);
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_time_level_and_numbers() {
        let p = Progress { target: Some(20.0), span: Duration::from_secs(1), ..Progress::default() };
        let v: serde_json::Value = serde_json::from_str(&p.line(&Stats::default(), Format::Json)).unwrap();
        assert_eq!((v["level"].as_str(), v["target_rps"].as_f64()), (Some("INFO"), Some(20.0)));
        assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
        for key in ["elapsed_s", "done", "rps", "sent_rps", "p50_ms", "p99_ms", "errors", "dropped", "in_flight"] {
            assert!(v[key].is_number(), "{key}: {v}");
        }
    }

    #[test]
    fn the_status_line_draws_a_bar_and_colours_only_when_asked() {
        let errors = BTreeMap::from([("timeout".to_string(), 2)]);
        let p = Progress {
            elapsed: Duration::from_secs(15),
            span: Duration::from_secs(1),
            duration: Some(Duration::from_secs(30)),
            target: Some(150.0),
            errors,
            ..Progress::default()
        };
        let plain = p.status(&Stats::default(), false);
        assert!(plain.starts_with("[##########----------] 15/30s"), "{plain}");
        assert!(plain.contains("2 errors (timeout=2)") && !plain.contains('\x1b'), "{plain}");
        assert!(p.status(&Stats::default(), true).contains("\x1b[31m2 errors"));
    }
}
