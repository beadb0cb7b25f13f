//! The token bucket (GCRA, as governor implements it): qps tokens a second, capacity `burst` (by default
//! the QPS in force), starting full.

use super::{KeyError, Rule, RuleConfig, RuleKeys};
use crate::time::{NANOS_PER_SEC, Nanos};

const S: i128 = NANOS_PER_SEC as i128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub burst: Option<u64>,
}

impl RuleConfig for Config {
    type State = TokenBucket;
    const NAME: &'static str = "token-bucket";
    const KEYS: &'static [&'static str] = &["burst"];

    fn read(keys: &RuleKeys<'_>) -> Result<Config, KeyError> {
        match keys.burst {
            None => Ok(Config { burst: None }),
            Some(b) if (1..=1_000_000_000).contains(&b) => Ok(Config { burst: Some(b as u64) }),
            Some(b) => {
                let message = format!("{b} is not valid; expected a whole number >= 1");
                Err(KeyError { key: "burst", message })
            }
        }
    }

    fn capacity(&self, qps: u32) -> u64 {
        self.burst.unwrap_or(qps as u64)
    }

    fn start(&self, _phase: Nanos, limit_qps: u32, capacity: u64) -> TokenBucket {
        TokenBucket::new(limit_qps, capacity)
    }

    /// Its burst at the start, then its rate.
    fn most_admitted(&self, capacity: u64, limit_qps: u32, span: Nanos, _boundaries: u64) -> f64 {
        super::bucket_bound(capacity, limit_qps, span)
    }
}

/// Kept as the theoretical arrival time scaled by the rate, so that every comparison is exact whatever
/// 1 / rate is.
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
}

impl Rule for TokenBucket {
    fn try_admit(&mut self, now: Nanos) -> Option<Nanos> {
        let t = now as i128 * self.rate;
        if t < self.conforming() {
            return None;
        }
        self.tat = self.tat.max(t) + S;
        Some(0)
    }

    fn next_admit(&mut self, now: Nanos) -> Nanos {
        let at = self.conforming();
        let t = now as i128 * self.rate;
        if t >= at { now } else { ((at + self.rate - 1) / self.rate).clamp(0, Nanos::MAX as i128) as Nanos }
    }

    /// A new rate (and burst) from `now`: the tokens left carry over (capped at the new burst), or the
    /// bucket starts full again.
    fn set(&mut self, now: Nanos, rate: u32, burst: u64, reset: bool) {
        let t_old = now as i128 * self.rate;
        let used = (self.tat - t_old).clamp(0, self.burst * S);
        let (rate, burst) = (rate.max(1) as i128, burst.max(1) as i128);
        let used = if reset { 0 } else { used.min(burst * S) };
        *self = TokenBucket { rate, burst, tat: now as i128 * rate + used };
    }
}
