//! The summary as a person reads it: aligned lines and tables, units on every figure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{routes, Summary};
use crate::input::threshold::Figures;

impl Summary {
    pub(super) fn text(&self) -> String {
        let mut s = String::new();
        let target = self.target_rps.map_or("max (closed loop)".to_string(), |r| format!("{r} req/s"));
        let _ = writeln!(s, "trafficgen summary{}", if self.interrupted { " (interrupted)" } else { "" });
        let _ = writeln!(
            s,
            "  rate          target {target}, sent {:.1} req/s, completed {:.1} req/s over {:.1} s",
            self.achieved_rps, self.throughput_rps, self.duration_s
        );
        if self.fell_behind() {
            let _ = writeln!(
                s,
                "  target did not keep up: {} still in flight at the end of the window",
                self.in_flight_at_end
            );
        }
        let _ = writeln!(
            s,
            "  requests      {} total, {} ok, {} ({:.2}%), {} dropped",
            self.requests,
            self.ok,
            plural(self.errors, "error"),
            self.error_rate() * 100.0,
            self.dropped
        );
        let _ = writeln!(s, "  status codes  {}", pairs(&self.status_codes));
        if !self.error_types.is_empty() {
            let _ = writeln!(s, "  error types   {}", pairs(&self.error_types));
        }
        if !self.classes.is_empty() {
            let total = self.classes.values().sum::<u64>().max(1) as f64;
            let classes: Vec<String> =
                self.classes.iter().map(|(k, v)| format!("{k}={v} ({:.1}%)", *v as f64 * 100.0 / total)).collect();
            let _ = writeln!(s, "  classes       {}", classes.join(" "));
        }
        self.tables(&mut s);
        self.route_table(&mut s);
        if let Some(split) = &self.split {
            let _ = writeln!(
                s,
                "  split         expected {}: chi-square {:.2}, df {}, p = {:.4} ({})",
                split.expected,
                split.chi_square,
                split.df,
                split.p_value,
                if split.passed { "consistent" } else { "NOT consistent" }
            );
        }
        if let Some(v) = &self.verify {
            let _ = writeln!(s, "  prometheus    checks after the run:");
            s.push_str(&v.table("    "));
        }
        for t in &self.thresholds {
            let _ = writeln!(
                s,
                "  threshold     {} {} (measured {})",
                if t.passed { "PASS" } else { "FAIL" },
                t.expr,
                t.measured
            );
        }
        if let Some(spans) = self.spans {
            let _ = writeln!(s, "  spans         {} exported, {} dropped", spans.exported, spans.dropped);
        }
        if let Some(rw) = self.remote_write {
            let _ = writeln!(
                s,
                "  remote write  {} samples sent, {} failed, {} retries",
                rw.sent_samples, rw.failed_samples, rw.retries
            );
        }
        let _ = writeln!(s, "  verdict       {}", self.verdict());
        s
    }

    /// The latency table and, when present, the services table.
    fn tables(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "  {:<14}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
            "latency ms", "p50", "p90", "p95", "p99", "p99.9", "max", "mean"
        );
        for (name, p) in [("corrected", &self.latency_ms), ("service time", &self.service_time_ms)] {
            let _ = writeln!(
                s,
                "  {name:<14}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>9.2}",
                p.p50, p.p90, p.p95, p.p99, p.p999, p.max, p.mean
            );
        }
        if !self.stages.is_empty() {
            let _ = writeln!(
                s,
                "  {:<14}{:>12}{:>9}{:>11}{:>11}{:>11}{:>9}{:>9}{:>8}",
                "stage", "target", "secs", "target/s", "sent/s", "done/s", "p50 ms", "p99 ms", "errors"
            );
            for r in self.warmup.iter().chain(&self.stages) {
                let name = if r.stage == 0 { "warm-up".to_string() } else { r.stage.to_string() };
                let target_rps = r.target_rps.map_or("max".to_string(), |t| format!("{t:.1}"));
                let _ = writeln!(
                    s,
                    "  {name:<14}{:>12}{:>9.1}{target_rps:>11}{:>11.1}{:>11.1}{:>9.2}{:>9.2}{:>8}",
                    r.target, r.duration_s, r.achieved_rps, r.throughput_rps, r.p50_ms, r.p99_ms, r.errors
                );
            }
        }
        if !self.services.is_empty() {
            let _ = writeln!(
                s,
                "  {:<14}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
                "service", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"
            );
            for (name, f) in &self.services {
                let _ = writeln!(
                    s,
                    "  {name:<14}{:>9}{:>9.1}{:>9.1}{:>9.1}{:>9.1}{:>9}",
                    f.requests, f.rps, f.p50_ms, f.p95_ms, f.p99_ms, f.errors
                );
            }
        }
    }

    /// The per-route table comes after the run-wide latency table.
    fn route_table(&self, s: &mut String) {
        routes::table(s, &self.routes);
    }
}

/// `1 request`, `2 requests`.
pub(super) fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn pairs(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "-".into();
    }
    map.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}
