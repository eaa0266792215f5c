//! When to send: absolute deadlines `start + n / rate` for open loop, "now" for closed loop.
//!
//! Workers split one global schedule: worker `w` of `W` owns request indices `w, w + W, w + 2W, ...`,
//! so the union of all workers is exactly the single schedule, with no drift and no catch-up bursts.
//! With `--stages` the schedule is piecewise linear ([`Schedule`]); each tick also says which
//! stage it belongs to and whether it falls in the `--warmup`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::input::stages::Schedule;

/// One request slot: its global index and when it is due (`None` = as soon as possible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tick {
    /// Global request index.
    pub index: u64,
    /// Intended send time for open loop.
    pub due: Option<Instant>,
    /// The stage it belongs to (0 without `--stages`).
    pub stage: usize,
    /// Whether it is sent during the warm-up, which the summary leaves out.
    pub warmup: bool,
}

/// Yields this worker's ticks in order.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    start: Instant,
    /// The rate over time; `None` = closed loop.
    schedule: Option<Arc<Schedule>>,
    /// The schedule segment of `next`, found by searching forward as `next` grows.
    segment: Option<usize>,
    warmup_end: Option<Instant>,
    next: u64,
    stride: u64,
    limit: Option<u64>,
    end: Option<Instant>,
}

impl Pacer {
    /// Worker `worker` of `workers`; `rate` of `None` means closed loop.
    pub(crate) fn new(
        start: Instant,
        rate: Option<f64>,
        worker: usize,
        workers: usize,
        limit: Option<u64>,
        duration: Option<Duration>,
    ) -> Self {
        let schedule = rate.map(|r| Arc::new(Schedule::flat(r)));
        let segment = schedule.as_ref().map(|_| 0);
        Pacer {
            start,
            schedule,
            segment,
            warmup_end: None,
            next: worker as u64,
            stride: workers as u64,
            limit,
            end: duration.map(|d| start + d),
        }
    }

    /// Follow `schedule` instead of a flat rate (open loop).
    pub(crate) fn shaped(mut self, schedule: Arc<Schedule>) -> Self {
        self.segment = schedule.segment_of(self.next, 0);
        self.schedule = Some(schedule);
        self
    }

    /// Mark ticks due in the first `warmup` of the run as warm-up.
    pub(crate) fn warmup(mut self, warmup: Duration) -> Self {
        self.warmup_end = Some(self.start + warmup).filter(|_| !warmup.is_zero());
        self
    }

    /// Whether this pacer waits for deadlines (open loop).
    pub(crate) fn is_open(&self) -> bool {
        self.schedule.is_some()
    }

    /// The next tick, without consuming it; `None` when the schedule is over.
    pub(crate) fn peek(&self) -> Option<Tick> {
        if self.limit.is_some_and(|l| self.next >= l) {
            return None;
        }
        let (due, stage) = match &self.schedule {
            Some(schedule) => {
                // A shaped schedule that has run out of requests is over.
                let segment = self.segment?;
                (Some(self.start + Duration::from_secs_f64(schedule.due(self.next, segment))), segment)
            }
            None => (None, 0),
        };
        if let (Some(end), Some(d)) = (self.end, due) {
            if d >= end {
                return None;
            }
        }
        // Closed loop sends at once: now tells whether that is still the warm-up.
        let warmup = self.warmup_end.is_some_and(|w| due.unwrap_or_else(Instant::now) < w);
        Some(Tick { index: self.next, due, stage, warmup })
    }

    /// The tick after the next, without consuming either.
    pub(crate) fn peek_after(&self) -> Option<Tick> {
        let mut after = self.clone();
        after.advance();
        after.peek()
    }

    /// Consume the tick returned by [`Pacer::peek`].
    pub(crate) fn advance(&mut self) {
        self.next += self.stride;
        if let (Some(schedule), Some(segment)) = (&self.schedule, self.segment) {
            self.segment = schedule.segment_of(self.next, segment);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(p: &mut Pacer, n: usize) -> Vec<Tick> {
        std::iter::from_fn(|| {
            let t = p.peek()?;
            p.advance();
            Some(t)
        })
        .take(n)
        .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn open_loop_schedule_is_absolute() {
        let start = Instant::now();
        let mut p = Pacer::new(start, Some(4.0), 0, 1, None, None);
        let ticks = drain(&mut p, 1000);
        assert_eq!(ticks[0].due, Some(start));
        assert_eq!(ticks[1].due, Some(start + Duration::from_millis(250)));
        // No drift after many periods: due time is computed, not accumulated.
        assert_eq!(ticks[999].due, Some(start + Duration::from_millis(249_750)));
        // Late consumers do not get bursts beyond what is due: times stay on the schedule.
        tokio::time::advance(Duration::from_secs(1000)).await;
        assert_eq!(p.peek().unwrap().due, Some(start + Duration::from_secs(250)));
        // The tick after the next is only looked at.
        assert_eq!(p.peek_after().unwrap().due, Some(start + Duration::from_millis(250_250)));
        assert_eq!(p.peek().unwrap().index, 1000);
    }

    #[tokio::test(start_paused = true)]
    async fn workers_partition_the_schedule() {
        let start = Instant::now();
        let mut all: Vec<u64> = (0..3)
            .flat_map(|w| drain(&mut Pacer::new(start, Some(10.0), w, 3, Some(10), None), 100))
            .map(|t| t.index)
            .collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn duration_bounds_open_loop_and_closed_loop_never_waits() {
        let start = Instant::now();
        let mut p = Pacer::new(start, Some(100.0), 0, 1, None, Some(Duration::from_secs(2)));
        assert_eq!(drain(&mut p, 10_000).len(), 200);
        let mut c = Pacer::new(start, None, 1, 2, Some(7), None);
        let ticks = drain(&mut c, 100);
        assert_eq!(ticks.iter().map(|t| t.index).collect::<Vec<_>>(), vec![1, 3, 5]);
        assert!(ticks.iter().all(|t| t.due.is_none()));
        assert!(!c.is_open());
    }

    #[tokio::test(start_paused = true)]
    async fn a_ramp_over_workers_is_the_one_schedule_and_marks_the_warmup() {
        let start = Instant::now();
        let schedule = Arc::new(Schedule::staged(&crate::input::stages::parse("10s:0->1000").unwrap()));
        let ticks: Vec<Tick> = (0..3)
            .flat_map(|w| {
                let p = Pacer::new(start, Some(1.0), w, 3, None, Some(Duration::from_secs(10)));
                drain(&mut p.shaped(schedule.clone()).warmup(Duration::from_secs(2)), 10_000)
            })
            .collect();
        assert!((4999..=5001).contains(&ticks.len()), "{}", ticks.len());
        for second in 0..10u64 {
            let window = start + Duration::from_secs(second)..start + Duration::from_secs(second + 1);
            let n = ticks.iter().filter(|t| window.contains(&t.due.unwrap())).count() as f64;
            let want = 50.0 * (2 * second + 1) as f64;
            assert!((n - want).abs() <= want * 0.02, "second {second}: {n} vs {want}");
        }
        // The first 2 s of the ramp hold 50·2² = 200 requests.
        assert_eq!(ticks.iter().filter(|t| t.warmup).count(), 200);
        assert!(ticks.iter().all(|t| t.warmup == (t.due.unwrap() < start + Duration::from_secs(2))));
    }
}
