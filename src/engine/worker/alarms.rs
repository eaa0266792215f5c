//! The send loop's wake-ups for its ticks: two tokio timers taking turns, so that when one
//! fires for a tick, the other is already armed for the tick after it. Tokio's timer writes to
//! the runtime's eventfd (a `write`, then an `epoll_wait` to read it) whenever a timer is armed
//! earlier than the earliest deadline it knew when it last fired timers, even from the
//! runtime's own thread. One timer, re-armed for the next tick just after it fired, did that on
//! every tick at 1,000 req/s (the earliest deadline left was a request's timeout); with the
//! next tick armed a tick ahead, the timer knows that deadline when it fires, and the tick
//! after it, armed then, is later.
//!
//! Ticks go in batches, one per millisecond of the timer, whatever else wakes the loop: a tick
//! goes at the last of the timer's whole milliseconds at least `TIMER_SLACK` before it is due
//! (its release), so the ticks released together go out in one turn of the loop rather than one
//! by one on each response that happens to wake it. Requests of one turn on one connection then
//! share a write (an h2 connection's frames), and the server answers them together.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{sleep_until, Instant, Sleep};

use crate::engine::pacer::Tick;

/// Tokio's timer counts whole milliseconds from its runtime's start.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// Tokio's timer fires on one of its ticks, at or up to a tick after the one a deadline falls
/// in: it sleeps whole milliseconds from wherever it stands. A tick released one tick before it
/// is due (or more: the release is on a tick) so goes before it is due, and its latency counts
/// from the actual send (see `worker::send`); the rate is unchanged. Sleeping until `due` would
/// have made sends up to a millisecond late and charged that to the target. At 1,000 req/s on a
/// schedule that starts on a tick (`send::on_grid`), each tick goes a millisecond early.
const TIMER_SLACK: Duration = TIMER_TICK;

/// Two timers; tick `n` wakes on timer `n % 2`.
#[derive(Debug)]
pub(super) struct Alarms {
    timers: [Pin<Box<Sleep>>; 2],
    /// The tick each timer is armed for.
    armed: [Option<u64>; 2],
    /// One of the timer's whole milliseconds.
    grid: Instant,
}

impl Alarms {
    /// Alarms on a timer one of whose whole milliseconds is `grid`.
    pub(super) fn new(grid: Instant) -> Self {
        let now = Instant::now();
        Alarms { timers: [Box::pin(sleep_until(now)), Box::pin(sleep_until(now))], armed: [None; 2], grid }
    }

    /// Whether the loop waits for `tick`, arming its timer if it is not armed yet. A tick
    /// released by `now` (or a closed-loop one) goes at once: arming the timer for it anyway
    /// would cost the eventfd write above.
    pub(super) fn arm(&mut self, tick: Tick, now: Instant) -> bool {
        let Some(at) = tick.due.map(|due| self.release(due)).filter(|at| *at > now) else {
            return false;
        };
        let turn = (tick.index % 2) as usize;
        if self.armed[turn] != Some(tick.index) {
            self.timers[turn].as_mut().reset(at);
            self.armed[turn] = Some(tick.index);
        }
        true
    }

    /// When a tick due at `due` goes: the timer's last tick at or before `TIMER_SLACK` before
    /// `due`.
    fn release(&self, due: Instant) -> Instant {
        let early = due.checked_sub(TIMER_SLACK).unwrap_or(due);
        if early <= self.grid {
            return early;
        }
        let ticks = (early - self.grid).as_nanos() / TIMER_TICK.as_nanos();
        self.grid + TIMER_TICK * u32::try_from(ticks).unwrap_or(u32::MAX)
    }

    /// The timer `tick` wakes on.
    pub(super) fn timer(&mut self, tick: Tick) -> Pin<&mut Sleep> {
        self.timers[(tick.index % 2) as usize].as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ticks_go_in_one_batch_per_timer_tick_before_they_are_due() {
        let grid = Instant::now();
        let mut alarms = Alarms::new(grid);
        let at = |us| grid + Duration::from_micros(us);
        let tick = |index, due| Tick { index, due: Some(due), stage: 0, warmup: false };
        // Due 2.3 ms in: released on the timer's tick at 1 ms, the last at or before 1.3 ms; a
        // timer armed for it fires before 2 ms, so before the tick is due.
        assert_eq!(alarms.release(at(2_300)), at(1_000));
        assert_eq!(alarms.release(at(2_000)), at(1_000));
        assert_eq!(alarms.release(at(2_900)), at(1_000));
        // Woken at 0.5 ms (by a response, say), the tick due at 2.3 ms waits for the timer; at
        // 1 ms it goes, with the one due at 2.9 ms.
        assert!(alarms.arm(tick(0, at(2_300)), at(500)));
        assert!(!alarms.arm(tick(0, at(2_300)), at(1_000)));
        assert!(!alarms.arm(tick(1, at(2_900)), at(1_000)));
        assert!(alarms.arm(tick(2, at(3_000)), at(1_000)));
        // Closed-loop ticks never wait.
        assert!(!alarms.arm(Tick { index: 3, due: None, stage: 0, warmup: false }, at(0)));
    }
}
