//! A candidate limiter and its replay: the kinds `fit` searches, each as quotasim's own limiter
//! ([`Quota`]), asked about the log's attempts in order, its state moved by its own decisions.

use crate::quota::limiter::{
    Align, LimiterConfig, fixed_window, leaky_bucket, sliding_counter, sliding_log, token_bucket,
};
use crate::quota::plans::PlanRef;
use crate::quota::{LimiterSpec, OnPlanChange, Quota, WindowLimit};
use crate::time::{NANOS_PER_SEC, Nanos};

/// The kinds searched, in the order a tie is settled (the commonest rule, and the one that counts less,
/// first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    FixedClock,
    TokenBucket,
    SlidingLog,
    FirstCall,
    SlidingCounter,
    SlidingLogRejected,
    SlidingCounterRejected,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::FixedClock,
        Kind::TokenBucket,
        Kind::SlidingLog,
        Kind::FirstCall,
        Kind::SlidingCounter,
        Kind::SlidingLogRejected,
        Kind::SlidingCounterRejected,
    ];

    pub fn is_windowed(self) -> bool {
        self != Kind::TokenBucket
    }

    /// Whether its windows lie on the clock's grid (so the log's clock offset matters).
    pub fn on_clock(self) -> bool {
        matches!(self, Kind::FixedClock | Kind::SlidingCounter | Kind::SlidingCounterRejected)
    }

    /// The scenario's `limiter` for it.
    pub fn limiter(self) -> &'static str {
        match self {
            Kind::FixedClock | Kind::FirstCall => "fixed-window",
            Kind::TokenBucket => "token-bucket",
            Kind::SlidingLog | Kind::SlidingLogRejected => "sliding-log",
            Kind::SlidingCounter | Kind::SlidingCounterRejected => "sliding-counter",
        }
    }

    pub fn align(self) -> Option<&'static str> {
        match self {
            Kind::FixedClock => Some("clock"),
            Kind::FirstCall => Some("first-call"),
            _ => None,
        }
    }

    /// `count_rejected` where the rule has it and it changes decisions.
    pub fn count_rejected(self) -> Option<bool> {
        match self {
            Kind::SlidingLog | Kind::SlidingCounter => Some(false),
            Kind::SlidingLogRejected | Kind::SlidingCounterRejected => Some(true),
            _ => None,
        }
    }

    fn rule(self, window: Nanos) -> LimiterConfig {
        match self {
            Kind::FixedClock => LimiterConfig::FixedWindow(fixed_window::Config { window, align: Align::Clock }),
            Kind::FirstCall => LimiterConfig::FixedWindow(fixed_window::Config { window, align: Align::FirstCall }),
            Kind::SlidingLog | Kind::SlidingLogRejected => LimiterConfig::SlidingLog(sliding_log::Config {
                window,
                count_rejected: self == Kind::SlidingLogRejected,
            }),
            Kind::SlidingCounter | Kind::SlidingCounterRejected => {
                LimiterConfig::SlidingCounter(sliding_counter::Config {
                    window,
                    count_rejected: self == Kind::SlidingCounterRejected,
                })
            }
            Kind::TokenBucket => unreachable!("a bucket's rule is made with its rate"),
        }
    }
}

/// One candidate: a kind and its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Model {
    pub kind: Kind,
    /// The window (windowed kinds; 0 for the bucket).
    pub window: Nanos,
    /// Admissions per window, or the bucket's burst.
    pub limit: u64,
    /// The bucket's rate in QPS (0 for windowed kinds).
    pub rate: u32,
    /// How far the platform's clock runs ahead of the log's (clock kinds), in ns.
    pub shift: i64,
    /// A second window and its limit, counted by the same rule.
    pub second: Option<(Nanos, u64)>,
}

impl Model {
    pub fn windowed(kind: Kind, window: Nanos, limit: u64, shift: i64) -> Model {
        Model { kind, window, limit, rate: 0, shift, second: None }
    }

    pub fn bucket(rate: u32, burst: u64) -> Model {
        Model { kind: Kind::TokenBucket, window: 0, limit: burst, rate, shift: 0, second: None }
    }

    /// Its rate in calls a second: the first window's limit over its length, or the bucket's rate.
    pub fn qps(&self) -> f64 {
        if self.kind.is_windowed() {
            self.limit as f64 * NANOS_PER_SEC as f64 / self.window as f64
        } else {
            self.rate as f64
        }
    }

    /// The limiter as quotasim's scenario states it, and the QPS its plan would give.
    pub fn spec(&self) -> (LimiterSpec, u32) {
        if self.kind == Kind::TokenBucket {
            let rule = LimiterConfig::TokenBucket(token_bucket::Config { burst: Some(self.limit) });
            return (LimiterSpec::simple(rule), self.rate);
        }
        let more = self.second.iter().map(|&(window, limit)| WindowLimit { window, limit: Some(limit) }).collect();
        let spec = LimiterSpec { rule: self.kind.rule(self.window), limit: Some(self.limit), more, units: None };
        (spec, self.qps().ceil().clamp(1.0, u32::MAX as f64) as u32)
    }

    /// The equivalent nginx rule of a bucket: burst b admits what a leaky bucket of burst b − 1 does.
    pub fn leaky_equivalent(&self) -> Option<LimiterConfig> {
        (self.kind == Kind::TokenBucket && self.limit >= 1)
            .then(|| LimiterConfig::LeakyBucket(leaky_bucket::Config { burst: self.limit - 1, nodelay: true }))
    }

    fn quota(&self, clock0: i128) -> Quota {
        let (spec, qps) = self.spec();
        let start = if self.kind.on_clock() { clock0 + self.shift as i128 } else { clock0 };
        Quota::new(0, 0, &spec, OnPlanChange::CarryOver, start, qps, PlanRef::PayAsYouGo)
    }
}

/// One (account, API)'s attempts as the search reads them: times from `origin`, answers, lines.
#[derive(Clone, Debug)]
pub struct Series {
    pub times: Vec<Nanos>,
    pub throttled: Vec<bool>,
    pub lines: Vec<u64>,
    /// The log's Unix ns at time 0.
    pub origin: i128,
    /// The clock windows align to at time 0: `origin` plus the zone's offset (a day's windows turn at
    /// local midnight).
    pub clock0: i128,
}

impl Series {
    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    pub fn span(&self) -> Nanos {
        self.times.last().copied().unwrap_or(0) - self.times.first().copied().unwrap_or(0)
    }

    pub fn throttles(&self) -> u64 {
        self.throttled.iter().filter(|&&t| t).count() as u64
    }
}

/// Replays `model` on the series; `each(i, admitted)` sees every decision. Returns how many agree with
/// the log.
pub fn replay(model: &Model, series: &Series, mut each: impl FnMut(usize, bool)) -> u64 {
    let mut quota = model.quota(series.clock0);
    let mut agree = 0;
    for (i, (&t, &throttled)) in series.times.iter().zip(&series.throttled).enumerate() {
        let admitted = quota.try_admit(t, 1).is_some();
        agree += (admitted != throttled) as u64;
        each(i, admitted);
    }
    agree
}

/// How many of the log's answers `model` reproduces.
pub fn agreement(model: &Model, series: &Series) -> u64 {
    replay(model, series, |_, _| {})
}
