//! The sliding-window counter (Cloudflare's and httprate's estimate) over clock windows: with `cur` and
//! `prev` the counts of the current and previous windows and `w0` the current window's start, admit iff
//! prev × (W − (t − w0)) / W + cur < floor(qps × W), compared multiplied through by W, so exactly.

use super::{KeyError, Rule, RuleConfig, RuleKeys};
use crate::time::Nanos;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub window: Nanos,
    pub count_rejected: bool,
}

impl RuleConfig for Config {
    type State = SlidingCounter;
    const NAME: &'static str = "sliding-counter";
    const KEYS: &'static [&'static str] = &["window", "count_rejected", "windows"];

    counting_windows!();

    fn clock_aligned(&self) -> bool {
        true
    }

    fn start(&self, phase: Nanos, _limit_qps: u32, capacity: u64) -> SlidingCounter {
        SlidingCounter::new(self.window, phase, capacity, self.count_rejected)
    }
}

#[derive(Clone, Debug)]
pub struct SlidingCounter {
    window: u128,
    phase: u128,
    capacity: u128,
    count_rejected: bool,
    /// The index of the current clock window ((t + phase) / window) and its counts.
    index: u128,
    cur: u128,
    prev: u128,
}

impl SlidingCounter {
    pub fn new(window: Nanos, phase: Nanos, capacity: u64, count_rejected: bool) -> SlidingCounter {
        let window = window.max(1) as u128;
        SlidingCounter {
            window,
            phase: phase as u128 % window,
            capacity: capacity as u128,
            count_rejected,
            index: 0,
            cur: 0,
            prev: 0,
        }
    }

    /// Moves to the window holding `now`; returns how far into it `now` is.
    fn roll(&mut self, now: Nanos) -> u128 {
        let at = now as u128 + self.phase;
        let index = at / self.window;
        if index == self.index + 1 {
            (self.prev, self.cur) = (self.cur, 0);
        } else if index > self.index + 1 {
            (self.prev, self.cur) = (0, 0);
        }
        self.index = self.index.max(index);
        at - index * self.window
    }

    fn room(&self, elapsed: u128) -> bool {
        self.prev * (self.window - elapsed) + self.cur * self.window < self.capacity * self.window
    }
}

impl Rule for SlidingCounter {
    fn try_admit(&mut self, now: Nanos) -> Option<Nanos> {
        let elapsed = self.roll(now);
        let admit = self.room(elapsed);
        if admit || self.count_rejected {
            self.cur += 1;
        }
        admit.then_some(0)
    }

    fn next_admit(&mut self, now: Nanos) -> Nanos {
        let elapsed = self.roll(now);
        if self.room(elapsed) {
            return now;
        }
        let start = now as u128 - elapsed;
        let w = self.window;
        // Within this window: prev × (W − e) ≤ (capacity − cur) × W − 1, i.e. e ≥ W − floor(that / prev).
        if self.cur < self.capacity && self.prev > 0 {
            let e = w - ((self.capacity - self.cur) * w - 1) / self.prev;
            if e < w {
                return (start + e).min(Nanos::MAX as u128) as Nanos;
            }
        }
        // In the next: the current count weighs as the previous one, with nothing counted yet.
        let e = (self.capacity * w).saturating_sub(1).checked_div(self.cur).map_or(0, |room| w.saturating_sub(room));
        (start + w + e).min(Nanos::MAX as u128) as Nanos
    }

    fn set(&mut self, _now: Nanos, _limit_qps: u32, capacity: u64, reset: bool) {
        self.capacity = capacity as u128;
        if reset {
            (self.cur, self.prev) = (0, 0);
        }
    }
}
