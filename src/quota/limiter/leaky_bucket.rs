//! nginx's `limit_req` at the QPS in force with `burst`: the excess e' = max(e − rate · dt + 1, 0) since the
//! last accepted attempt; reject when e' > burst. Without `nodelay`, an accepted attempt waits e' / rate
//! at the server first.

use super::{KeyError, Rule, RuleConfig, RuleKeys};
use crate::time::{NANOS_PER_SEC, Nanos};

const S: i128 = NANOS_PER_SEC as i128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub burst: u64,
    pub nodelay: bool,
}

impl RuleConfig for Config {
    type State = LeakyBucket;
    const NAME: &'static str = "leaky-bucket";
    const KEYS: &'static [&'static str] = &["burst", "nodelay"];

    fn read(keys: &RuleKeys<'_>) -> Result<Config, KeyError> {
        let burst = match keys.burst {
            None => 0,
            Some(b) if (0..=1_000_000_000).contains(&b) => b as u64,
            Some(b) => {
                let message = format!("{b} is not valid; expected a whole number >= 0");
                return Err(KeyError { key: "burst", message });
            }
        };
        Ok(Config { burst, nodelay: keys.nodelay.unwrap_or(false) })
    }

    fn capacity(&self, _qps: u32) -> u64 {
        self.burst + 1
    }

    fn start(&self, _phase: Nanos, limit_qps: u32, _capacity: u64) -> LeakyBucket {
        LeakyBucket::new(limit_qps, self.burst, self.nodelay)
    }

    /// Its burst at the start, then its rate.
    fn most_admitted(&self, capacity: u64, limit_qps: u32, span: Nanos, _boundaries: u64) -> f64 {
        super::bucket_bound(capacity, limit_qps, span)
    }
}

/// The excess is kept in billionths of a request so that every step is exact.
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
}

impl Rule for LeakyBucket {
    /// `Some(delay)` when admitted (the server-side wait without `nodelay`), `None` when rejected.
    fn try_admit(&mut self, now: Nanos) -> Option<Nanos> {
        let excess = self.excess_at(now);
        if excess > self.burst * S {
            return None;
        }
        (self.excess, self.last) = (excess, Some(now));
        if self.nodelay { Some(0) } else { Some(((excess + self.rate - 1) / self.rate) as Nanos) }
    }

    fn next_admit(&mut self, now: Nanos) -> Nanos {
        let Some(last) = self.last else { return now };
        if self.excess_at(now) <= self.burst * S {
            return now;
        }
        // excess − rate · dt + 1 ≤ burst  ⇔  dt ≥ (excess + 1 − burst) / rate.
        let need = self.excess + S - self.burst * S;
        last.saturating_add(((need + self.rate - 1) / self.rate) as Nanos)
    }

    fn set(&mut self, _now: Nanos, rate: u32, _capacity: u64, reset: bool) {
        self.rate = rate.max(1) as i128;
        if reset {
            (self.excess, self.last) = (0, None);
        }
    }
}
