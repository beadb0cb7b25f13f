//! The sliding log: admit iff fewer than floor(qps × window) attempts were counted in (now − window, now];
//! with `count_rejected` a rejected attempt counts too.

use super::{KeyError, Rule, RuleConfig, RuleKeys};
use crate::time::Nanos;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub window: Nanos,
    pub count_rejected: bool,
}

impl RuleConfig for Config {
    type State = SlidingLog;
    const NAME: &'static str = "sliding-log";
    const KEYS: &'static [&'static str] = &["window", "count_rejected", "windows"];

    counting_windows!();

    fn start(&self, _phase: Nanos, _limit_qps: u32, capacity: u64) -> SlidingLog {
        SlidingLog::new(self.window, capacity, self.count_rejected)
    }
}

#[derive(Clone, Debug)]
pub struct SlidingLog {
    window: Nanos,
    capacity: u64,
    count_rejected: bool,
    log: VecDeque<Nanos>,
}

impl SlidingLog {
    pub fn new(window: Nanos, capacity: u64, count_rejected: bool) -> SlidingLog {
        SlidingLog { window, capacity, count_rejected, log: VecDeque::new() }
    }

    fn forget(&mut self, now: Nanos) {
        while self.log.front().is_some_and(|&t| t.saturating_add(self.window) <= now) {
            self.log.pop_front();
        }
    }
}

impl Rule for SlidingLog {
    fn held_bytes(&self) -> usize {
        self.log.capacity() * std::mem::size_of::<Nanos>()
    }

    fn try_admit(&mut self, now: Nanos) -> Option<Nanos> {
        self.forget(now);
        let admit = (self.log.len() as u64) < self.capacity;
        if admit || self.count_rejected {
            self.log.push_back(now);
        }
        admit.then_some(0)
    }

    fn next_admit(&mut self, now: Nanos) -> Nanos {
        self.forget(now);
        if (self.log.len() as u64) < self.capacity {
            return now;
        }
        // The oldest entry that must leave for the count to fall below capacity.
        let i = self.log.len() - self.capacity as usize;
        self.log[i].saturating_add(self.window)
    }

    fn set(&mut self, _now: Nanos, _limit_qps: u32, capacity: u64, reset: bool) {
        self.capacity = capacity;
        if reset {
            self.log.clear();
        }
    }
}
