//! The send loop's wake-ups for its ticks: two tokio timers taking turns, so that when one
//! fires for a tick, the other is already armed for the tick after it. Tokio's timer writes to
//! the runtime's eventfd (a `write`, then an `epoll_wait` to read it) whenever a timer is armed
//! earlier than the earliest deadline it knew when it last fired timers, even from the
//! runtime's own thread. One timer, re-armed for the next tick just after it fired, did that on
//! every tick at 1,000 req/s (the earliest deadline left was a request's timeout); with the
//! next tick armed a tick ahead, the timer knows that deadline when it fires, and the tick
//! after it, armed then, is later.
//!
//! A tick goes when its timer would fire, whatever else wakes the loop: the ticks of one
//! millisecond of the timer go out together, in one turn of the loop, rather than one by one
//! on each response that happens to wake it. Requests of one turn on one connection then share
//! a write (an h2 connection's frames), and the server answers them together.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{sleep_until, Instant, Sleep};

use crate::engine::pacer::Tick;

/// Tokio's timer counts whole milliseconds from its runtime's start.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// Tokio's timer fires on the first of its ticks at or after a deadline, so sleeping until `due`
/// would make every send up to 1 ms late and charge that to the target. Sleeping until one tick
/// before it sends within the millisecond before `due` instead, as long as the schedule starts
/// just before one of the timer's ticks (`send::on_grid`): the rate is unchanged, and the
/// latency of an early send counts from the actual send (see `worker::send`).
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
    /// whose timer would have fired by `now` (or a closed-loop one) goes at once: arming the
    /// timer for it anyway would cost the eventfd write above.
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

    /// When the timer fires for a tick due at `due`: its first tick at or after `TIMER_SLACK`
    /// before `due`.
    fn release(&self, due: Instant) -> Instant {
        let early = due.checked_sub(TIMER_SLACK).unwrap_or(due);
        if early <= self.grid {
            return early;
        }
        let ticks = (early - self.grid).as_nanos().div_ceil(TIMER_TICK.as_nanos());
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
    async fn a_tick_goes_when_its_timer_would_fire() {
        let grid = Instant::now();
        let mut alarms = Alarms::new(grid);
        let at = |us| grid + Duration::from_micros(us);
        let tick = |index, due| Tick { index, due: Some(due), stage: 0, warmup: false };
        // Due 2.3 ms in: the timer's tick at 2 ms, the first at or after 1.3 ms.
        assert_eq!(alarms.release(at(2_300)), at(2_000));
        assert_eq!(alarms.release(at(2_000)), at(1_000));
        // Woken at 1.5 ms (by a response, say), the tick due at 2.3 ms waits for the timer; at
        // 2 ms it goes, with the one due at 2.9 ms.
        assert!(alarms.arm(tick(0, at(2_300)), at(1_500)));
        assert!(!alarms.arm(tick(0, at(2_300)), at(2_000)));
        assert!(!alarms.arm(tick(1, at(2_900)), at(2_000)));
        // Closed-loop ticks never wait.
        assert!(!alarms.arm(Tick { index: 2, due: None, stage: 0, warmup: false }, at(0)));
    }
}
