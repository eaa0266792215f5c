//! The timeline task: takes each second's figures from the recorder until told to stop, then the
//! last partial second, so the timeline's requests add up to the summary's.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::engine::worker::Shared;
use crate::output::report;
use crate::output::timeline::Timeline;

/// Record one point per second since `start` until `stop` fires (or is dropped).
pub(super) async fn record(shared: Arc<Shared>, start: Instant, mut stop: oneshot::Receiver<()>) -> Timeline {
    let second = Duration::from_secs(1);
    let mut ticker = interval_at(start + second, second);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut timeline = Timeline::default();
    let mut last = start;
    loop {
        let (now, stopping) = tokio::select! {
            now = ticker.tick() => (now, false),
            _ = &mut stop => (Instant::now(), true),
        };
        let stats = shared.recorder.take_second();
        let classes = report::classes(&stats.counts.classes, &shared.named);
        let in_flight = u64::try_from(shared.metrics.in_flight.get()).unwrap_or(0);
        timeline.add(last - start, now - last, stats, classes, in_flight);
        if stopping {
            return timeline;
        }
        last = now;
    }
}
