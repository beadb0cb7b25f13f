//! The platform's admission rules beyond the fixed window, each exact in integer arithmetic: a sliding
//! log, a sliding-window counter (Cloudflare's estimate), a token bucket (GCRA) and nginx's leaky bucket,
//! chosen in `[server] limiter`.
//! Each answers the engine's two questions: admit an attempt at `now` (and with what server-side delay),
//! and when it would next admit one (a throttle reply's retry-after). Rates are whole QPS, as plans grant
//! them; times are nanoseconds.

use crate::time::{NANOS_PER_SEC, Nanos};
use std::collections::VecDeque;

const S: i128 = NANOS_PER_SEC as i128;

/// Sliding log: admit iff fewer than `capacity` attempts were counted in (now − window, now].
#[derive(Clone, Debug)]
pub struct SlidingLog {
    window: Nanos,
    capacity: u64,
    log: VecDeque<Nanos>,
}

impl SlidingLog {
    /// Bytes the log's entries take.
    pub fn held_bytes(&self) -> usize {
        self.log.capacity() * std::mem::size_of::<Nanos>()
    }

    pub fn new(window: Nanos, capacity: u64) -> SlidingLog {
        SlidingLog { window, capacity, log: VecDeque::new() }
    }

    fn forget(&mut self, now: Nanos) {
        while self.log.front().is_some_and(|&t| t.saturating_add(self.window) <= now) {
            self.log.pop_front();
        }
    }

    /// Admits or rejects; `count_rejected` logs a rejected attempt too.
    pub fn try_admit(&mut self, now: Nanos, count_rejected: bool) -> bool {
        self.forget(now);
        let admit = (self.log.len() as u64) < self.capacity;
        if admit || count_rejected {
            self.log.push_back(now);
        }
        admit
    }

    pub fn next_admit(&mut self, now: Nanos) -> Nanos {
        self.forget(now);
        if (self.log.len() as u64) < self.capacity {
            return now;
        }
        // The oldest entry that must leave for the count to fall below capacity.
        let i = self.log.len() - self.capacity as usize;
        self.log[i].saturating_add(self.window)
    }

    pub fn set_capacity(&mut self, capacity: u64, reset: bool) {
        self.capacity = capacity;
        if reset {
            self.log.clear();
        }
    }
}

/// Sliding-window counter (Cloudflare's and httprate's estimate): with `cur` and `prev` the counts of the
/// current and previous clock windows and `w0` the current window's start, admit iff
/// prev × (W − (t − w0)) / W + cur < capacity (compared multiplied through by W, so exactly).
#[derive(Clone, Debug)]
pub struct SlidingCounter {
    window: u128,
    phase: u128,
    capacity: u128,
    /// The index of the current clock window ((t + phase) / window) and its counts.
    index: u128,
    cur: u128,
    prev: u128,
}

impl SlidingCounter {
    pub fn new(window: Nanos, phase: Nanos, capacity: u64) -> SlidingCounter {
        let window = window.max(1) as u128;
        SlidingCounter { window, phase: phase as u128 % window, capacity: capacity as u128, index: 0, cur: 0, prev: 0 }
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

    pub fn try_admit(&mut self, now: Nanos, count_rejected: bool) -> bool {
        let elapsed = self.roll(now);
        let admit = self.room(elapsed);
        if admit || count_rejected {
            self.cur += 1;
        }
        admit
    }

    pub fn next_admit(&mut self, now: Nanos) -> Nanos {
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

    pub fn set_capacity(&mut self, capacity: u64, reset: bool) {
        self.capacity = capacity as u128;
        if reset {
            (self.cur, self.prev) = (0, 0);
        }
    }
}

/// Token bucket (GCRA): `rate` tokens a second, capacity `burst`, starting full. Kept as the theoretical
/// arrival time scaled by the rate, so that every comparison is exact whatever 1 / rate is.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: i128,
    burst: i128,
    /// Theoretical arrival time × rate (ns × tokens per second).
    tat: i128,
}

impl TokenBucket {
    pub fn new(rate: u32, burst: u64) -> TokenBucket {
        TokenBucket { rate: rate as i128, burst: burst.max(1) as i128, tat: 0 }
    }

    /// The earliest scaled time a token is there: tat − (burst − 1) token intervals.
    fn conforming(&self) -> i128 {
        self.tat - (self.burst - 1) * S
    }

    pub fn try_admit(&mut self, now: Nanos) -> bool {
        let t = now as i128 * self.rate;
        if t < self.conforming() {
            return false;
        }
        self.tat = self.tat.max(t) + S;
        true
    }

    pub fn next_admit(&self, now: Nanos) -> Nanos {
        let at = self.conforming();
        let t = now as i128 * self.rate;
        if t >= at { now } else { ((at + self.rate - 1) / self.rate).clamp(0, Nanos::MAX as i128) as Nanos }
    }

    /// A new rate (and burst) from `now`: the tokens left carry over (capped at the new burst), or the
    /// bucket starts full again.
    pub fn set_rate(&mut self, now: Nanos, rate: u32, burst: u64, reset: bool) {
        let t_old = now as i128 * self.rate;
        let used = (self.tat - t_old).clamp(0, self.burst * S);
        let (rate, burst) = (rate.max(1) as i128, burst.max(1) as i128);
        let used = if reset { 0 } else { used.min(burst * S) };
        *self = TokenBucket { rate, burst, tat: now as i128 * rate + used };
    }
}

/// nginx's `limit_req`: the excess e' = max(e − rate · dt + 1, 0) since the last accepted attempt; reject
/// when e' > burst. Without `nodelay`, an accepted attempt waits e' / rate at the server first. The excess
/// is kept in billionths of a request so that every step is exact.
#[derive(Clone, Debug)]
pub struct LeakyBucket {
    rate: i128,
    burst: i128,
    nodelay: bool,
    excess: i128,
    last: Option<Nanos>,
}

impl LeakyBucket {
    pub fn new(rate: u32, burst: u64, nodelay: bool) -> LeakyBucket {
        LeakyBucket { rate: rate as i128, burst: burst as i128, nodelay, excess: 0, last: None }
    }

    fn excess_at(&self, now: Nanos) -> i128 {
        match self.last {
            None => 0,
            Some(last) => (self.excess - self.rate * (now - last) as i128 + S).max(0),
        }
    }

    /// `Some(delay)` when admitted (the server-side wait without `nodelay`), `None` when rejected.
    pub fn try_admit(&mut self, now: Nanos) -> Option<Nanos> {
        let excess = self.excess_at(now);
        if excess > self.burst * S {
            return None;
        }
        (self.excess, self.last) = (excess, Some(now));
        if self.nodelay { Some(0) } else { Some(((excess + self.rate - 1) / self.rate) as Nanos) }
    }

    pub fn next_admit(&self, now: Nanos) -> Nanos {
        let Some(last) = self.last else { return now };
        if self.excess_at(now) <= self.burst * S {
            return now;
        }
        // excess − rate · dt + 1 ≤ burst  ⇔  dt ≥ (excess + 1 − burst) / rate.
        let need = self.excess + S - self.burst * S;
        last.saturating_add(((need + self.rate - 1) / self.rate) as Nanos)
    }

    pub fn set_rate(&mut self, rate: u32, reset: bool) {
        self.rate = rate.max(1) as i128;
        if reset {
            (self.excess, self.last) = (0, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::{Align, FixedWindow};
    use proptest::prelude::*;

    const MS: Nanos = 1_000_000;

    /// Three calls in 0.4 s (at 0, 0.2 and 0.4 s) against L = 2, by hand. Sliding log of 1 s: two in the
    /// window, the third refused. Token bucket of 2: full at 0 (2 → 1), +0.4 by 0.2 s (1.4 → 0.4), +0.4 by
    /// 0.4 s (0.8 < 1): refused. nginx burst 1 nodelay: e = 0, then 0 − 0.4 + 1 = 0.6, then 0.6 − 0.4 + 1 =
    /// 1.2 > 1: refused. Without nodelay the second waits 0.6 / 2 = 0.3 s.
    #[test]
    fn three_calls_in_four_tenths_of_a_second_at_two_qps() {
        let times = [0, 200 * MS, 400 * MS];
        let mut log = SlidingLog::new(NANOS_PER_SEC, 2);
        assert_eq!(times.map(|t| log.try_admit(t, false)), [true, true, false]);
        let mut counter = SlidingCounter::new(NANOS_PER_SEC, 0, 2);
        assert_eq!(times.map(|t| counter.try_admit(t, false)), [true, true, false]);
        // 0.2 s into the next window the two of the last weigh 2 × 0.8 = 1.6: one more fits, not two.
        assert!(counter.try_admit(1_200 * MS, false) && !counter.try_admit(1_200 * MS, false));
        // The weight falls below 1 when 2 × (1 − e) + 1 < 2: past 0.5 s.
        assert_eq!(counter.next_admit(1_200 * MS), 1_500 * MS + 1);
        let mut bucket = TokenBucket::new(2, 2);
        assert_eq!(times.map(|t| bucket.try_admit(t)), [true, true, false]);
        let mut nginx = LeakyBucket::new(2, 1, true);
        assert_eq!(times.map(|t| nginx.try_admit(t).is_some()), [true, true, false]);
        let mut delayed = LeakyBucket::new(2, 1, false);
        assert_eq!(times.map(|t| delayed.try_admit(t)), [Some(0), Some(300 * MS), None]);
        // When each would next admit: the log when the call at 0 leaves (1 s), the bucket when 0.2 tokens
        // more have come (0.5 s), nginx when the excess 0.6 has drained to 0 (0.2 + 0.3 = 0.5 s).
        assert_eq!(log.next_admit(400 * MS), NANOS_PER_SEC);
        assert_eq!(bucket.next_admit(400 * MS), 500 * MS);
        assert_eq!(nginx.next_admit(400 * MS), 500 * MS);
    }

    fn arrivals(gaps: &[u64]) -> Vec<Nanos> {
        gaps.iter()
            .scan(0u64, |t, g| {
                *t += g;
                Some(*t)
            })
            .collect()
    }

    proptest! {
        /// A token bucket of capacity B + 1 admits exactly what nginx's limit_req with burst B and nodelay
        /// admits, call for call.
        #[test]
        fn token_bucket_of_b_plus_one_is_nginx_burst_b(
            rate in 1u32..20, burst in 0u64..6, gaps in proptest::collection::vec(0u64..400_000_000, 1..300),
        ) {
            let (mut tb, mut lb) = (TokenBucket::new(rate, burst + 1), LeakyBucket::new(rate, burst, true));
            for t in arrivals(&gaps) {
                prop_assert_eq!(tb.try_admit(t), lb.try_admit(t).is_some(), "at {}", t);
            }
        }

        /// A token bucket of burst 1 at rate L never admits more than L in any clock-aligned second.
        #[test]
        fn a_token_bucket_of_one_never_passes_l_in_a_clock_second(
            rate in 1u32..12, gaps in proptest::collection::vec(0u64..300_000_000, 1..400),
        ) {
            let mut tb = TokenBucket::new(rate, 1);
            let mut per_second = std::collections::HashMap::new();
            for t in arrivals(&gaps) {
                if tb.try_admit(t) {
                    *per_second.entry(t / NANOS_PER_SEC).or_insert(0u32) += 1;
                }
            }
            prop_assert!(per_second.values().all(|&n| n <= rate));
        }

        /// At L = 1, a first-call window, a sliding log of 1 s and a token bucket of burst 1 admit the same
        /// attempts.
        #[test]
        fn at_one_qps_three_limiters_agree(gaps in proptest::collection::vec(0u64..2_500_000_000, 1..300)) {
            let mut fixed = FixedWindow::new(NANOS_PER_SEC, Align::FirstCall, 0, 1);
            let mut log = SlidingLog::new(NANOS_PER_SEC, 1);
            let mut tb = TokenBucket::new(1, 1);
            for t in arrivals(&gaps) {
                let (a, b, c) = (fixed.try_admit(t), log.try_admit(t, false), tb.try_admit(t));
                prop_assert!(a == b && b == c, "at {}: fixed {}, log {}, bucket {}", t, a, b, c);
            }
        }

        /// next_admit is exact: nothing is admitted before it, and an attempt at it is admitted.
        #[test]
        fn next_admit_is_the_first_instant_admitted(
            rate in 1u32..8, burst in 1u64..4, gaps in proptest::collection::vec(0u64..300_000_000, 1..100),
        ) {
            let mut tb = TokenBucket::new(rate, burst);
            let mut lb = LeakyBucket::new(rate, burst, true);
            let mut log = SlidingLog::new(NANOS_PER_SEC, u64::from(rate));
            let mut counter = SlidingCounter::new(NANOS_PER_SEC, 300_000_000, u64::from(rate));
            for t in arrivals(&gaps) {
                let next = tb.next_admit(t);
                prop_assert!(next >= t && tb.clone().try_admit(next));
                if next > t {
                    prop_assert!(!tb.clone().try_admit(next - 1));
                }
                let next = lb.next_admit(t);
                prop_assert!(lb.clone().try_admit(next).is_some());
                if next > t {
                    prop_assert!(lb.clone().try_admit(next - 1).is_none());
                }
                let next = counter.next_admit(t);
                prop_assert!(next >= t && counter.clone().try_admit(next, false), "counter at {}: next {}", t, next);
                if next > t {
                    prop_assert!(!counter.clone().try_admit(next - 1, false));
                }
                let next = log.next_admit(t);
                prop_assert!(log.clone().try_admit(next, false));
                if next > t {
                    prop_assert!(!log.clone().try_admit(next - 1, false));
                }
                tb.try_admit(t);
                lb.try_admit(t);
                log.try_admit(t, false);
                counter.try_admit(t, false);
            }
        }
    }
}
