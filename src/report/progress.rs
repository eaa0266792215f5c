//! Progress lines: one per interval on stderr, text or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::{round, Percentiles};
use crate::config::Format;
use crate::recorder::Stats;

/// The running figures a progress line shows besides the window's own stats.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Time since start.
    pub elapsed: Duration,
    /// Length of this window.
    pub span: Duration,
    /// Requests completed so far.
    pub sent: u64,
    /// Configured rate, `None` for closed loop.
    pub target: Option<f64>,
    /// Requests in flight now.
    pub in_flight: i64,
    /// Response classes so far (e.g. the reviews split).
    pub classes: BTreeMap<String, u64>,
}

impl Progress {
    /// One line for a window of `window` stats.
    pub fn line(&self, window: &Stats, format: Format) -> String {
        let rps = window.counts.requests as f64 / self.span.as_secs_f64().max(1e-9);
        let p = Percentiles::of(&window.latency);
        let target = self.target.map_or("max".to_string(), |t| format!("{t}"));
        let (errors, dropped, in_flight, sent) =
            (window.counts.errors, window.counts.dropped, self.in_flight, self.sent);
        let types: BTreeMap<&str, u64> = window.counts.error_types.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        match format {
            Format::Json => serde_json::json!({
                "msg": "progress", "elapsed_s": round(self.elapsed.as_secs_f64()), "done": sent,
                "rps": round(rps), "target_rps": target, "p50_ms": p.p50, "p99_ms": p.p99,
                "errors": errors, "error_types": types, "dropped": dropped, "in_flight": in_flight,
                "classes": self.classes,
            })
            .to_string(),
            Format::Text => {
                // Errors by type, so the cause shows while the run goes on: errors=5(connect=3,timeout=2).
                let by_type: Vec<String> = types.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let by_type = if by_type.is_empty() { String::new() } else { format!("({})", by_type.join(",")) };
                let mut line = format!(
                    "[{:>6.1}s] done={sent} rps={rps:.1}/{target} p50={:.1}ms p99={:.1}ms errors={errors}{by_type} dropped={dropped} in_flight={in_flight}",
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
