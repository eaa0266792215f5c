//! `trafficgen report` and `--report`: one self-contained HTML page (no script, nothing fetched)
//! with the runs' charts as inline SVG, their figures, and for two or more runs the compare table
//! of each against the first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::commands::compare::{Comparison, LoadError, MinEffect, Saved};
use crate::output::report::Summary;

mod charts;
mod header;
mod svg;

use svg::esc;

/// Flags of `trafficgen report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// JSON summaries (--summary-file, --output json) or `kubectl logs` output; the first is the baseline
    #[arg(value_name = "SUMMARY", required = true)]
    pub summaries: Vec<PathBuf>,
    /// The HTML file to write
    #[arg(short = 'o', long = "out", value_name = "FILE", default_value = "report.html")]
    pub out: PathBuf,
}

/// Why a report could not be made (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A summary could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The page could not be written.
    #[error("cannot write the report {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// `trafficgen report`: read the summaries and write the page.
pub(crate) fn run(args: &ReportArgs) -> Result<(), ReportError> {
    let runs = args.summaries.iter().map(|p| Saved::load(p)).collect::<Result<Vec<_>, _>>()?;
    write(&args.out, &page(&runs))?;
    eprintln!("trafficgen: report written to {}", args.out.display());
    Ok(())
}

/// `--report FILE` of a run: the page of this one summary, labelled `label`.
pub(crate) fn write_summary(summary: &Summary, label: &str, path: &Path) -> Result<(), ReportError> {
    let json = serde_json::to_string(summary).expect("summary serializes");
    let mut saved = Saved::parse(&json).expect("a summary reads back");
    saved.label = label.to_string();
    write(path, &page(&[saved]))
}

fn write(path: &Path, html: &str) -> Result<(), ReportError> {
    std::fs::write(path, html).map_err(|source| ReportError::Write { path: path.display().to_string(), source })
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:920px;color:#222}\
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}\
td,th{padding:3px 7px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}\
.chart{width:100%;height:auto;border:1px solid #eee;margin:6px 0}.chart .grid{stroke:#eee}\
.chart text{font-size:11px;fill:#444}.chart .title{font-size:13px;font-weight:600;fill:#222}\
.yes{color:#b00;font-weight:600}.note{color:#666;font-size:12px}";

/// The whole page for `runs` (the first is the baseline of the compare tables).
pub(crate) fn page(runs: &[Saved]) -> String {
    let names: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    let mut s = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>trafficgen report: {}</title><style>{STYLE}</style></head><body>",
        esc(&names.join(", "))
    );
    let _ = write!(s, "<h1>trafficgen report: {}</h1>", esc(&names.join(" vs ")));
    header::what_ran(&mut s, runs);
    figures(&mut s, runs);
    if let Some((base, others)) = runs.split_first() {
        for new in others {
            compare_table(&mut s, &Comparison::of(base, new, MinEffect::default(), &[]));
        }
    }
    for chart in charts::all(runs) {
        let _ = write!(s, "<section>{}</section>", chart.render());
    }
    s.push_str(
        "<p class=\"note\">Latency is corrected for coordinated omission (from each request's intended send time). \
        The percentile axis is logarithmic in 1/(1−q): 90%, 99%, 99.9% are equally spaced.</p></body></html>\n",
    );
    s
}

fn figures(s: &mut String, runs: &[Saved]) {
    s.push_str("<h2>Figures</h2><table><tr><th>run</th><th>target req/s</th><th>sent req/s</th><th>completed req/s</th>\
        <th>seconds</th><th>requests</th><th>errors</th><th>dropped</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>");
    for r in runs {
        let p = &r.latency_ms;
        let target = r.target_rps.map_or("max".to_string(), |t| format!("{t}"));
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{target}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{} ({:.2}%)</td>\
             <td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            esc(&r.label),
            r.achieved_rps,
            r.throughput(),
            r.duration_s,
            r.requests,
            r.errors,
            r.error_rate() * 100.0,
            r.dropped,
            p.p50,
            p.p99,
            p.p999,
            p.max
        );
    }
    s.push_str("</table>");
}

fn compare_table(s: &mut String, c: &Comparison) {
    let _ = write!(
        s,
        "<h2>{} vs {}</h2><table class=\"compare\"><tr><th>figure</th><th>base</th><th>new</th><th>diff</th><th>rel</th><th>significant</th></tr>",
        esc(&c.labels.0),
        esc(&c.labels.1)
    );
    for cells in c.cells() {
        let class = if cells[5] == "yes" { " class=\"yes\"" } else { "" };
        let _ = write!(s, "<tr{class}>");
        for cell in &cells {
            let _ = write!(s, "<td>{}</td>", esc(cell));
        }
        s.push_str("</tr>");
    }
    let _ = write!(
        s,
        "</table><p class=\"note\">Significant: a bootstrap on the two histograms excludes no difference, and the difference is larger than {}.</p>",
        c.min_effect
    );
}

#[cfg(test)]
mod tests;
