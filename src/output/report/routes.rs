//! The per-route table of a summary with more than one route (a scenario's login, page and API
//! calls each get their own line).

use std::fmt::Write as _;

use serde::Serialize;

use super::{ms, round};
use crate::model::scenario::Route;
use crate::output::recorder::RouteStats;

/// One route's figures in the summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouteFigures {
    /// The route's name (its `route` metric label).
    pub route: String,
    /// Requests sent (and ended, within the window or after).
    pub requests: u64,
    /// Requests sent per second over the sending window.
    pub rps: f64,
    /// Responses completed per second over the sending window.
    pub throughput_rps: f64,
    /// Failed requests.
    pub errors: u64,
    /// Corrected latency percentiles.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

/// The route table's rows, or none for a single route (the run-wide figures say it all).
/// Only scheduled routes count: a scenario's login (weight 0) is sent once per worker, apart.
pub(super) fn figures(stats: &[RouteStats], completed: &[u64], routes: &[Route], secs: f64) -> Vec<RouteFigures> {
    if routes.iter().filter(|r| r.weight > 0).count() < 2 {
        return Vec::new();
    }
    routes
        .iter()
        .enumerate()
        .filter(|(_, route)| route.weight > 0)
        .map(|(i, route)| {
            let empty = RouteStats::default();
            let s = stats.get(i).unwrap_or(&empty);
            let q = |q: f64| if s.requests == 0 { 0.0 } else { ms(s.latency.value_at_quantile(q)) };
            let per_sec = |n: u64| if secs > 0.0 { round(n as f64 / secs) } else { 0.0 };
            let done = completed.get(i).copied().unwrap_or(0).min(s.requests);
            RouteFigures {
                route: route.name.clone(),
                requests: s.requests,
                rps: per_sec(s.requests),
                throughput_rps: per_sec(done),
                errors: s.errors,
                p50_ms: q(0.5),
                p95_ms: q(0.95),
                p99_ms: q(0.99),
            }
        })
        .collect()
}

/// The table as text.
pub(super) fn table(out: &mut String, rows: &[RouteFigures]) {
    if rows.is_empty() {
        return;
    }
    let width = rows.iter().map(|r| r.route.len()).max().unwrap_or(0).clamp(14, 40);
    let _ = writeln!(
        out,
        "  {:<width$}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "route", "requests", "sent/s", "done/s", "errors", "p50 ms", "p95 ms", "p99 ms"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "  {:<width$}{:>9}{:>9.1}{:>9.1}{:>9}{:>9.2}{:>9.2}{:>9.2}",
            r.route, r.requests, r.rps, r.throughput_rps, r.errors, r.p50_ms, r.p95_ms, r.p99_ms
        );
    }
}
