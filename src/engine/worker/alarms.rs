//! The send loop's wake-ups for its ticks: two tokio timers taking turns, so that when one
//! fires for a tick, the other is already armed for the tick after it. Tokio's timer writes to
//! the runtime's eventfd (a `write`, then an `epoll_wait` to read it) whenever a timer is armed
//! earlier than the earliest deadline it knew when it last fired timers, even from the
//! runtime's own thread. One timer, re-armed for the next tick just after it fired, did that on
//! every tick at 1,000 req/s (the earliest deadline left was a request's timeout); with the
//! next tick armed a tick ahead, the timer knows that deadline when it fires, and the tick
//! after it, armed then, is later.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{sleep_until, Instant, Sleep};

use crate::engine::pacer::Tick;

/// Tokio's timer fires on the first 1 ms tick at or after a deadline, so sleeping until `due`
/// would make every send up to 1 ms late and charge that to the target. Sleeping until one tick
/// before it sends within the millisecond before `due` instead, as long as the schedule starts
/// just before one of the timer's ticks (`send::on_grid`): the rate is unchanged, and the
/// latency of an early send counts from the actual send (see `worker::send`).
const TIMER_SLACK: Duration = Duration::from_millis(1);

/// Two timers; tick `n` wakes on timer `n % 2`.
#[derive(Debug)]
pub(super) struct Alarms {
    timers: [Pin<Box<Sleep>>; 2],
    /// The tick each timer is armed for.
    armed: [Option<u64>; 2],
}

impl Alarms {
    pub(super) fn new() -> Self {
        let now = Instant::now();
        Alarms { timers: [Box::pin(sleep_until(now)), Box::pin(sleep_until(now))], armed: [None; 2] }
    }

    /// Whether the loop waits for `tick`, arming its timer if it is not armed yet. A tick due
    /// within the timer's resolution (or a closed-loop one) goes at once: arming the timer for
    /// it anyway would cost the eventfd write above.
    pub(super) fn arm(&mut self, tick: Tick, now: Instant) -> bool {
        let Some(at) = tick.due.map(|due| due.checked_sub(TIMER_SLACK).unwrap_or(due)).filter(|at| *at > now) else {
            return false;
        };
        let turn = (tick.index % 2) as usize;
        if self.armed[turn] != Some(tick.index) {
            self.timers[turn].as_mut().reset(at);
            self.armed[turn] = Some(tick.index);
        }
        true
    }

    /// The timer `tick` wakes on.
    pub(super) fn timer(&mut self, tick: Tick) -> Pin<&mut Sleep> {
        self.timers[(tick.index % 2) as usize].as_mut()
    }
}
