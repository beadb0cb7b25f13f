//! The platform's admission rules, one file each, behind two traits: [`RuleConfig`] (the rule as the
//! scenario states it: its name, its keys, its window and capacity, and how to start it) and [`Rule`] (its
//! state during a run: admit an attempt, say when the next would be admitted, take a new limit).
//!
//! The table at the bottom, `rules!`, lists every kind once: it makes the [`LimiterConfig`] and
//! [`Limiter`] enums (enum dispatch keeps the engine's loop free of vtables) and the [`KINDS`] table the
//! parser reads names and keys from. Adding a rule is one new file and one row of that table.

use crate::time::{NANOS_PER_SEC, Nanos};

/// A rule's state during a run. Times are nanoseconds since the start; rates whole QPS.
pub trait Rule {
    /// Admits an attempt at `now` (`Some` with the wait the server adds before serving it) or rejects it.
    fn try_admit(&mut self, now: Nanos) -> Option<Nanos>;
    /// The first instant at or after `now` at which an attempt would be admitted (a throttle reply's
    /// retry-after).
    fn next_admit(&mut self, now: Nanos) -> Nanos;
    /// Puts a new limit in force from `now`: `capacity` admissions at once (per window, or the bucket's),
    /// at `limit_qps`; `reset` forgets what was counted.
    fn set(&mut self, now: Nanos, limit_qps: u32, capacity: u64, reset: bool);
    /// Bytes held beyond the state's fixed size (a sliding log's entries), for the run's memory guard.
    fn held_bytes(&self) -> usize {
        0
    }
}

/// The keys of a limiter table, as the parser read them (the window already a duration).
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleKeys<'a> {
    pub window: Nanos,
    pub align: Option<&'a str>,
    pub count_rejected: Option<bool>,
    pub burst: Option<i64>,
    pub nodelay: Option<bool>,
}

/// A key whose value a rule cannot take, and what would be valid.
#[derive(Debug)]
pub struct KeyError {
    pub key: &'static str,
    pub message: String,
}

/// A rule as the scenario states it.
pub trait RuleConfig: Copy {
    type State: Rule;
    /// `limiter = "..."`.
    const NAME: &'static str;
    /// The keys of its table it takes beside `limiter`.
    const KEYS: &'static [&'static str];
    fn read(keys: &RuleKeys<'_>) -> Result<Self, KeyError>;
    /// The window it counts over (1 s for the buckets, which have none): clock alignment is to multiples
    /// of it.
    fn window(&self) -> Nanos {
        NANOS_PER_SEC
    }
    /// Whether it counts within a window (so that `windows = [...]` can give it several).
    fn is_windowed(&self) -> bool {
        false
    }
    /// How many admissions `qps` allows at once: per window, rounded down (or the bucket's capacity).
    fn capacity(&self, qps: u32) -> u64 {
        (qps as u128 * self.window() as u128 / NANOS_PER_SEC as u128) as u64
    }
    /// The same rule over another window.
    fn with_window(&self, _window: Nanos) -> Self {
        *self
    }
    /// Whether a rejected attempt is counted too.
    fn count_rejected(&self) -> bool {
        false
    }
    /// Whether its windows lie on the clock's grid (multiples of the window on the scenario's clock).
    fn clock_aligned(&self) -> bool {
        false
    }
    /// Its state at the start: `phase` is the start's offset into the clock's grid of the window.
    fn start(&self, phase: Nanos, limit_qps: u32, capacity: u64) -> Self::State;
    /// At most how many attempts it can admit in [from, until] under one limit, starting afresh at
    /// `from`, whatever the timing of the calls: an upper bound for a batch's floor. `boundaries` counts
    /// the window boundaries of its grid in (from, until]. A windowed rule admits its capacity per window
    /// opening; a bucket overrides this with its burst plus its rate.
    fn most_admitted(&self, capacity: u64, _limit_qps: u32, _span: Nanos, boundaries: u64) -> f64 {
        capacity as f64 * (1 + boundaries) as f64
    }
}

/// One kind of rule in the parser's table: its name, its keys, and its config read from them.
pub struct Kind {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub read: fn(&RuleKeys<'_>) -> Result<LimiterConfig, KeyError>,
}

/// The trait methods of a rule that counts attempts in windows, `Config { window, count_rejected }`: its
/// keys read, its window, and the same rule over another window.
macro_rules! counting_windows {
    () => {
        fn read(keys: &RuleKeys<'_>) -> Result<Config, KeyError> {
            Ok(Config { window: keys.window, count_rejected: keys.count_rejected.unwrap_or(false) })
        }

        fn window(&self) -> Nanos {
            self.window
        }

        fn is_windowed(&self) -> bool {
            true
        }

        fn with_window(&self, window: Nanos) -> Config {
            Config { window, ..*self }
        }

        fn count_rejected(&self) -> bool {
            self.count_rejected
        }
    };
}

/// A bucket's bound for [`RuleConfig::most_admitted`]: its capacity at the start, then its rate.
fn bucket_bound(capacity: u64, limit_qps: u32, span: Nanos) -> f64 {
    capacity as f64 + limit_qps as f64 * crate::time::secs_f64(span)
}

/// Makes the enums and the table from the list of kinds: `Variant: file`.
macro_rules! rules {
    ($($kind:ident: $file:ident,)*) => {
        $(pub mod $file;)*

        /// The admission rule, as the scenario states it. Every rule takes its rate from the plan in force.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum LimiterConfig {
            $($kind($file::Config),)*
        }

        /// A rule's state during a run.
        #[derive(Clone, Debug)]
        pub enum Limiter {
            $($kind(<$file::Config as RuleConfig>::State),)*
        }

        /// Every kind, in the order the parser lists them.
        pub const KINDS: &[Kind] = &[
            $(Kind {
                name: <$file::Config as RuleConfig>::NAME,
                keys: <$file::Config as RuleConfig>::KEYS,
                read: |keys| <$file::Config as RuleConfig>::read(keys).map(LimiterConfig::$kind),
            },)*
        ];

        impl LimiterConfig {
            pub fn name(&self) -> &'static str {
                match self { $(LimiterConfig::$kind(_) => <$file::Config as RuleConfig>::NAME,)* }
            }
            /// See [`RuleConfig::window`].
            pub fn window(&self) -> Nanos {
                match self { $(LimiterConfig::$kind(c) => c.window(),)* }
            }
            /// See [`RuleConfig::is_windowed`].
            pub fn is_windowed(&self) -> bool {
                match self { $(LimiterConfig::$kind(c) => c.is_windowed(),)* }
            }
            /// See [`RuleConfig::capacity`].
            pub fn capacity(&self, qps: u32) -> u64 {
                match self { $(LimiterConfig::$kind(c) => c.capacity(qps),)* }
            }
            /// See [`RuleConfig::with_window`].
            pub fn with_window(&self, window: Nanos) -> LimiterConfig {
                match self { $(LimiterConfig::$kind(c) => LimiterConfig::$kind(c.with_window(window)),)* }
            }
            /// See [`RuleConfig::count_rejected`].
            pub fn count_rejected(&self) -> bool {
                match self { $(LimiterConfig::$kind(c) => c.count_rejected(),)* }
            }
            /// See [`RuleConfig::clock_aligned`].
            pub fn clock_aligned(&self) -> bool {
                match self { $(LimiterConfig::$kind(c) => c.clock_aligned(),)* }
            }
            /// See [`RuleConfig::most_admitted`].
            fn most_admitted_in(&self, capacity: u64, limit_qps: u32, span: Nanos, boundaries: u64) -> f64 {
                match self { $(LimiterConfig::$kind(c) => c.most_admitted(capacity, limit_qps, span, boundaries),)* }
            }
            /// Its state at the start of a run that starts `start_ns` into the scenario's clock (Unix time
            /// plus the offset of `start`), so that clock windows follow the local wall clock.
            pub fn start(&self, start_ns: i128, limit_qps: u32, capacity: u64) -> Limiter {
                let phase = start_ns.rem_euclid(self.window().max(1) as i128) as Nanos;
                match self { $(LimiterConfig::$kind(c) => Limiter::$kind(c.start(phase, limit_qps, capacity)),)* }
            }
        }

        impl Limiter {
            #[inline]
            pub fn try_admit(&mut self, now: Nanos) -> Option<Nanos> {
                match self { $(Limiter::$kind(r) => r.try_admit(now),)* }
            }
            #[inline]
            pub fn next_admit(&mut self, now: Nanos) -> Nanos {
                match self { $(Limiter::$kind(r) => r.next_admit(now),)* }
            }
            pub fn set(&mut self, now: Nanos, limit_qps: u32, capacity: u64, reset: bool) {
                match self { $(Limiter::$kind(r) => r.set(now, limit_qps, capacity, reset),)* }
            }
            pub fn held_bytes(&self) -> usize {
                match self { $(Limiter::$kind(r) => r.held_bytes(),)* }
            }
        }
    };
}

rules! {
    FixedWindow: fixed_window,
    SlidingLog: sliding_log,
    TokenBucket: token_bucket,
    LeakyBucket: leaky_bucket,
    SlidingCounter: sliding_counter,
}

impl LimiterConfig {
    pub const PLATFORM: LimiterConfig =
        LimiterConfig::FixedWindow(fixed_window::Config { window: NANOS_PER_SEC, align: Align::Clock });

    /// At most how many attempts this rule can admit in [from, until] under one limit, starting afresh at
    /// `from` (see [`RuleConfig::most_admitted`]); `last` says whether a boundary at `until` itself counts
    /// (not when the next limit's own opening falls there).
    pub fn most_admitted(
        &self,
        capacity: u64,
        limit_qps: u32,
        (from, until): (Nanos, Nanos),
        start_ns: i128,
        last: bool,
    ) -> f64 {
        let window = self.window().max(1);
        // Windows that open at a first call open no more often than the grid from the start.
        let phase = if self.clock_aligned() { start_ns.rem_euclid(window as i128) as Nanos } else { 0 };
        let end = if last { until } else { until.saturating_sub(1) };
        let boundaries = ((end + phase) / window).saturating_sub((from + phase) / window);
        self.most_admitted_in(capacity, limit_qps, until - from, boundaries)
    }
}

/// Where fixed windows start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// On the wall clock: windows are [k·w, (k+1)·w) of absolute time (the default; 1 s windows start on
    /// the second).
    Clock,
    /// A window opens at the first attempt after the previous one closed.
    FirstCall,
}

impl Align {
    pub const NAMES: [(&'static str, Align); 2] = [("clock", Align::Clock), ("first-call", Align::FirstCall)];

    pub fn name(self) -> &'static str {
        match self {
            Align::Clock => "clock",
            Align::FirstCall => "first-call",
        }
    }
}

#[cfg(test)]
mod tests;
