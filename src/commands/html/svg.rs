//! A line chart as inline SVG: axes with round ticks, a linear or "percentile" (log of
//! 1/(1−q)) x axis, one polyline per series, a legend. No script: it reads as drawn.

use std::fmt::Write as _;

const W: f64 = 880.0;
const H: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 44.0;

/// Series colours, in order (distinguishable in colour-blind palettes, after Okabe–Ito).
pub(super) const COLOURS: [&str; 8] =
    ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"];

/// One line.
#[derive(Debug, Clone)]
pub(super) struct Series {
    /// Legend text.
    pub name: String,
    /// Stroke colour.
    pub colour: &'static str,
    /// Dashed (e.g. targets, p99 beside p50).
    pub dashed: bool,
    /// (x, y) in data units; for a percentile axis x is the quantile.
    pub points: Vec<(f64, f64)>,
}

/// How the x axis maps data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum XAxis {
    /// Seconds since the start.
    Seconds,
    /// Quantiles 0…1 on a log scale of 1/(1−q): 90%, 99%, 99.9% equally spaced.
    Percentile,
}

/// A chart: an id (for tests and links), a title, axis names and its series.
#[derive(Debug, Clone)]
pub(super) struct Chart {
    /// Element id.
    pub id: &'static str,
    /// Heading.
    pub title: String,
    /// Y axis unit.
    pub y_label: &'static str,
    /// X axis kind.
    pub x: XAxis,
    /// Fixed top of the y axis (e.g. 100 for shares); else from the data.
    pub y_max: Option<f64>,
    /// The lines.
    pub series: Vec<Series>,
}

impl Chart {
    /// The chart as an `<svg>` element.
    pub(super) fn render(&self) -> String {
        let xs = |p: &(f64, f64)| self.x_value(p.0);
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let x_max = all().map(xs).fold(1e-9, f64::max);
        let x_max = if self.x == XAxis::Percentile { x_max.ceil().max(2.0) } else { x_max };
        let y_max = self.y_max.unwrap_or_else(|| nice(all().map(|p| p.1).fold(0.0, f64::max) * 1.05));
        let (legend, rows) = self.legend();
        let top = TOP + 14.0 * (rows - 1) as f64;
        let sx = |x: f64| LEFT + x / x_max * (W - LEFT - RIGHT);
        let sy = |y: f64| H - BOTTOM - y / y_max * (H - top - BOTTOM);
        let mut s = format!(
            r#"<svg id="{}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
            self.id,
            esc(&self.title)
        );
        let _ = write!(s, r#"<text x="{LEFT}" y="20" class="title">{}</text>"#, esc(&self.title));
        // Nothing to draw (no errors, no classes): say so, without an axis of zeros.
        if self.series.iter().all(|s| s.points.is_empty()) {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" class="axis" text-anchor="middle">none</text>"#,
                (LEFT + W - RIGHT) / 2.0,
                (top + H - BOTTOM) / 2.0
            );
            return s + "</svg>";
        }
        self.axes(&mut s, (x_max, y_max, top), &sx, &sy);
        for series in &self.series {
            let points: Vec<String> =
                series.points.iter().map(|p| format!("{:.1},{:.1}", sx(xs(p)), sy(p.1))).collect();
            let dash = if series.dashed { r#" stroke-dasharray="6 4""# } else { "" };
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{}" stroke-width="1.8"{dash} points="{}"><title>{}</title></polyline>"#,
                series.colour,
                points.join(" "),
                esc(&series.name)
            );
        }
        s + &legend + "</svg>"
    }

    /// Grid, tick labels and axis names.
    fn axes(
        &self,
        s: &mut String,
        (x_max, y_max, top): (f64, f64, f64),
        sx: &dyn Fn(f64) -> f64,
        sy: &dyn Fn(f64) -> f64,
    ) {
        for i in 0..=4 {
            let y = y_max * f64::from(i) / 4.0;
            let _ = write!(
                s,
                r#"<line x1="{LEFT}" x2="{}" y1="{py:.1}" y2="{py:.1}" class="grid"/><text x="{}" y="{:.1}" class="tick" text-anchor="end">{}</text>"#,
                W - RIGHT,
                LEFT - 6.0,
                sy(y) + 4.0,
                short(y),
                py = sy(y)
            );
        }
        for (x, label) in self.x_ticks(x_max) {
            let _ = write!(
                s,
                r#"<line x1="{px:.1}" x2="{px:.1}" y1="{top}" y2="{}" class="grid"/><text x="{px:.1}" y="{}" class="tick" text-anchor="middle">{label}</text>"#,
                H - BOTTOM,
                H - BOTTOM + 16.0,
                px = sx(x)
            );
        }
        let x_name = if self.x == XAxis::Seconds { "seconds since start" } else { "percentile" };
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" class="axis" text-anchor="middle">{x_name}</text><text x="14" y="{}" class="axis" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>"#,
            (LEFT + W - RIGHT) / 2.0,
            H - 8.0,
            (top + H - BOTTOM) / 2.0,
            (top + H - BOTTOM) / 2.0,
            esc(self.y_label)
        );
    }

    /// The legend beside the title, wrapping onto more rows when long; and its number of rows.
    fn legend(&self) -> (String, usize) {
        let (mut s, mut x, mut y, mut rows) = (String::new(), LEFT + 260.0, 16.0, 1);
        for series in &self.series {
            let width = 30.0 + 6.5 * series.name.chars().count() as f64;
            if x + width > W - RIGHT {
                (x, y, rows) = (LEFT, y + 14.0, rows + 1);
            }
            let dash = if series.dashed { r#" stroke-dasharray="6 4""# } else { "" };
            let _ = write!(
                s,
                r#"<line x1="{x}" x2="{}" y1="{y}" y2="{y}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}" class="legend">{}</text>"#,
                x + 18.0,
                series.colour,
                x + 22.0,
                y + 4.0,
                esc(&series.name)
            );
            x += width;
        }
        (s, rows)
    }

    fn x_value(&self, x: f64) -> f64 {
        match self.x {
            XAxis::Seconds => x,
            XAxis::Percentile => (1.0 / (1.0 - x.min(0.999_999_9))).log10(),
        }
    }

    fn x_ticks(&self, x_max: f64) -> Vec<(f64, String)> {
        match self.x {
            XAxis::Seconds => {
                let step = nice(x_max / 6.0);
                (0..).map(|i| f64::from(i) * step).take_while(|x| *x <= x_max + 1e-9).map(|x| (x, short(x))).collect()
            }
            XAxis::Percentile => (0..=x_max as u32)
                .map(|d| {
                    let q = 100.0 * (1.0 - 10f64.powi(-(d as i32)));
                    (f64::from(d), format!("{}%", short(q)))
                })
                .collect(),
        }
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at or above `v`.
fn nice(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|n| *n >= v - 1e-12).unwrap_or(10.0 * mag)
}

/// A tick label without trailing zeros.
fn short(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Text safe inside HTML and SVG.
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_series_and_ticks() {
        let chart = Chart {
            id: "spectrum",
            title: "a <b>".into(),
            y_label: "ms",
            x: XAxis::Percentile,
            y_max: None,
            series: vec![Series {
                name: "run".into(),
                colour: COLOURS[0],
                dashed: false,
                points: vec![(0.0, 1.0), (0.5, 2.0), (0.99, 5.0), (0.999, 9.0)],
            }],
        };
        let svg = chart.render();
        assert!(svg.starts_with(r#"<svg id="spectrum""#) && svg.ends_with("</svg>"));
        assert!(svg.contains("a &lt;b&gt;") && svg.contains("<polyline") && svg.contains(">99.9%<"), "{svg}");
        assert_eq!((nice(7.3), nice(0.0), nice(26.0)), (10.0, 1.0, 50.0));
        assert_eq!(short(2.500), "2.5");
        let empty = Chart { series: vec![Series { points: Vec::new(), ..chart.series[0].clone() }], ..chart };
        let svg = empty.render();
        assert!(svg.contains(">none<") && !svg.contains("class=\"tick\""), "{svg}");
    }
}
