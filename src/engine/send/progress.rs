//! The progress task: each interval's figures taken from the recorder, printed as a line (text
//! or JSON) or as one status line redrawn on a terminal.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{interval_at, Instant};

use crate::engine::worker::Shared;
use crate::input::config::{Format, Plan};
use crate::input::stages::Schedule;
use crate::output::report::{self, Progress};

/// How progress looks: JSON lines, plain lines, or a status line redrawn on a terminal.
#[derive(Debug, Clone, Copy)]
pub(super) struct Look {
    format: Format,
    /// Text on a terminal: redraw one status line in place.
    pub(super) tty: bool,
    /// Colour on that status line.
    colour: bool,
    target: Option<f64>,
    duration: Option<Duration>,
}

impl Look {
    pub(super) fn of(plan: &Plan) -> Look {
        let tty = plan.output().log_format() == Format::Text && std::io::stderr().is_terminal();
        Look {
            format: plan.output().log_format(),
            tty,
            colour: tty && !plan.output().no_color(),
            target: plan.load().rate(),
            duration: plan.load().duration(),
        }
    }
}

/// Print the run's progress every `every` from `start` until aborted.
pub(super) async fn progress(
    shared: Arc<Shared>,
    start: Instant,
    every: Duration,
    look: Look,
    schedule: Option<Arc<Schedule>>,
) {
    let mut ticker = interval_at(start + every, every);
    let mut state = Progress { target: look.target, duration: look.duration, ..Progress::default() };
    let mut classes = BTreeMap::new();
    let mut last = start;
    loop {
        let now = ticker.tick().await;
        let window = shared.recorder.take_window();
        for (key, n) in &window.counts.classes {
            *classes.entry(*key).or_insert(0) += n;
        }
        state.sent += window.counts.requests;
        state.elapsed = now - start;
        if let Some(s) = &schedule {
            state.target = Some((s.rate_at(state.elapsed.as_secs_f64()) * 10.0).round() / 10.0);
        }
        state.span = now - last;
        let in_flight = shared.metrics.in_flight.get();
        state.sent_now = (window.counts.requests as i64 + in_flight - state.in_flight).max(0) as u64;
        state.in_flight = in_flight;
        state.classes = report::classes(&classes, &shared.named);
        for (kind, n) in &window.counts.error_types {
            *state.errors.entry(kind.as_str().to_string()).or_insert(0) += n;
        }
        if look.tty {
            eprint!("\r\x1b[2K{}", state.status(&window, look.colour));
        } else {
            eprintln!("{}", state.line(&window, look.format));
        }
        last = now;
    }
}
