//! Quota: the platform's side. API categories and their default limits, the admission rule (limiter) kept
//! per (main account, API), and the record of which limit was in force when.
//!
//! Limits are per API and per main account, never shared: a sub-account's calls go to its main account's
//! limiter, and two APIs never share one. The limit is a function of time: every change is appended to the
//! quota's history, which the reports read back. [`plans`] decides which limit is in force.

pub mod limiter;
pub mod plans;

pub use limiter::{Align, Limiter, LimiterConfig};

use crate::time::{NANOS_PER_SEC, Nanos};
use plans::PlanRef;
use std::fmt;

/// An API's category decides its pay-as-you-go default and how much prepaid QPS can be bought for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    TextRecognition,
    /// Image segmentation and background removal.
    Segmentation,
    /// Face and body detection (e.g. 1:1 face comparison).
    FaceBody,
    Other,
}

impl Category {
    pub const ALL: [Category; 4] =
        [Category::TextRecognition, Category::Segmentation, Category::FaceBody, Category::Other];

    pub fn name(self) -> &'static str {
        match self {
            Category::TextRecognition => "text-recognition",
            Category::Segmentation => "segmentation",
            Category::FaceBody => "face-body",
            Category::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        match text {
            "background-removal" => Some(Category::Segmentation),
            _ => Category::ALL.into_iter().find(|c| c.name() == text),
        }
    }

    /// Pay-as-you-go QPS: 1 for text recognition, 2 for every other API.
    pub fn default_qps(self) -> u32 {
        match self {
            Category::TextRecognition => 1,
            _ => 2,
        }
    }

    /// The most prepaid QPS that can be bought without contacting sales.
    pub fn prepaid_max_qps(self) -> u32 {
        match self {
            Category::Segmentation => 30,
            Category::FaceBody => 50,
            _ => 100,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One window of a windowed rule and its limit: a fixed count whatever the plan, or (None) the plan's
/// QPS times the window, rounded down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowLimit {
    pub window: Nanos,
    pub limit: Option<u64>,
}

/// A unit (token) quota beside the request limit: at most `limit` units per clock-aligned `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitLimit {
    pub limit: u64,
    pub window: Nanos,
}

/// Everything that decides admission for one API: the rule, the windows it counts over (several at once
/// for the per-second and per-minute limits many APIs publish: an attempt needs room in every one), and an
/// optional unit quota.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimiterSpec {
    /// The rule, over the first window.
    pub rule: LimiterConfig,
    /// The first window's fixed limit (None: from the plan's QPS).
    pub limit: Option<u64>,
    /// Further windows, counted by the same rule.
    pub more: Vec<WindowLimit>,
    pub units: Option<UnitLimit>,
}

impl LimiterSpec {
    pub fn platform() -> LimiterSpec {
        LimiterSpec::simple(LimiterConfig::PLATFORM)
    }

    pub fn simple(rule: LimiterConfig) -> LimiterSpec {
        LimiterSpec { rule, limit: None, more: Vec::new(), units: None }
    }

    /// Every window with its limit, the first included.
    pub fn windows(&self) -> impl Iterator<Item = WindowLimit> + '_ {
        std::iter::once(WindowLimit { window: self.rule.window(), limit: self.limit }).chain(self.more.iter().copied())
    }

    /// The longest window any of its parts counts over (a retry-after wait is at most this).
    pub fn longest_window(&self) -> Nanos {
        self.windows().map(|w| w.window).chain(self.units.map(|u| u.window)).max().unwrap_or(NANOS_PER_SEC)
    }

    /// The smallest number of admissions any window allows at `qps` (0: a window too short for the limit).
    pub fn least_capacity(&self, qps: u32) -> u64 {
        if !self.rule.is_windowed() {
            return self.rule.capacity(qps);
        }
        self.windows()
            .map(|w| w.limit.unwrap_or_else(|| self.rule.with_window(w.window).capacity(qps)))
            .min()
            .unwrap_or(0)
    }
}

/// Units used in clock-aligned windows: an attempt of cost c fits iff used + c ≤ limit.
#[derive(Clone, Debug)]
struct UnitWindow {
    limit: u64,
    window: Nanos,
    phase: Nanos,
    window_end: Nanos,
    used: u64,
}

impl UnitWindow {
    fn roll(&mut self, now: Nanos) {
        if now >= self.window_end {
            self.window_end = ((now + self.phase) / self.window + 1) * self.window - self.phase;
            self.used = 0;
        }
    }

    fn room(&mut self, now: Nanos, cost: u64) -> bool {
        self.roll(now);
        self.used.saturating_add(cost) <= self.limit
    }

    /// When `cost` units would next fit: now, the next window, or never (a cost above the limit).
    fn next_admit(&mut self, now: Nanos, cost: u64) -> Nanos {
        match () {
            _ if self.room(now, cost) => now,
            _ if cost <= self.limit => self.window_end,
            _ => Nanos::MAX,
        }
    }
}

/// The rare parts of a quota, boxed so the common one-window quota stays small and its path short.
#[derive(Clone, Debug)]
struct Extra {
    /// Further windows and their fixed limits.
    more: Vec<(Limiter, LimiterConfig, Option<u64>)>,
    units: Option<UnitWindow>,
    count_rejected: bool,
    /// Whether the last attempt was refused for want of units alone (the request windows had room).
    refused_by_units: bool,
}

/// What the limiter's current window keeps when the limit changes inside it (the platform does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnPlanChange {
    /// The window's count carries over; the new limit applies from the change on (the default).
    CarryOver,
    /// The count restarts at zero at the change; window boundaries stay where they were.
    Reset,
}

impl OnPlanChange {
    pub fn name(self) -> &'static str {
        match self {
            OnPlanChange::CarryOver => "carry-over",
            OnPlanChange::Reset => "reset",
        }
    }
}

/// One entry of a quota's history: from `at` on, `limit_qps` under `plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitChange {
    pub at: Nanos,
    pub limit_qps: u32,
    pub plan: PlanRef,
}

/// The platform's state for one (main account, API): its limiter and the history of its limit.
#[derive(Clone, Debug)]
pub struct Quota {
    pub account: usize,
    pub api: usize,
    limiter: Limiter,
    config: LimiterConfig,
    /// The first window's fixed limit, if the scenario gives one.
    limit: Option<u64>,
    extra: Option<Box<Extra>>,
    on_change: OnPlanChange,
    history: Vec<LimitChange>,
}

impl Quota {
    /// Bytes held beyond the quota's fixed size (sliding logs' entries, extra windows), for the memory guard.
    pub fn held_bytes(&self) -> usize {
        let more = self.extra.as_ref().map_or(0, |e| e.more.iter().map(|(l, _, _)| l.held_bytes()).sum::<usize>());
        self.limiter.held_bytes() + more
    }

    /// `start_ns` is the scenario start in nanoseconds on the scenario's clock (Unix time plus the offset
    /// of `start`): clock windows start on multiples of their length on that clock.
    pub fn new(
        account: usize,
        api: usize,
        spec: &LimiterSpec,
        on_change: OnPlanChange,
        start_ns: i128,
        limit_qps: u32,
        plan: PlanRef,
    ) -> Quota {
        let config = spec.rule;
        let capacity = spec.limit.unwrap_or_else(|| config.capacity(limit_qps));
        let limiter = config.start(start_ns, limit_qps, capacity);
        let extra = (!spec.more.is_empty() || spec.units.is_some()).then(|| {
            let more = spec
                .more
                .iter()
                .map(|w| {
                    let rule = config.with_window(w.window);
                    let capacity = w.limit.unwrap_or_else(|| rule.capacity(limit_qps));
                    (rule.start(start_ns, limit_qps, capacity), rule, w.limit)
                })
                .collect();
            let units = spec.units.map(|u| UnitWindow {
                limit: u.limit,
                window: u.window,
                phase: start_ns.rem_euclid(u.window.max(1) as i128) as Nanos,
                window_end: 0,
                used: 0,
            });
            Box::new(Extra { more, units, count_rejected: config.count_rejected(), refused_by_units: false })
        });
        Quota {
            account,
            api,
            limiter,
            config,
            limit: spec.limit,
            extra,
            on_change,
            history: vec![LimitChange { at: 0, limit_qps, plan }],
        }
    }

    /// Whether attempts to this quota spend units (a unit limit is set).
    pub fn has_units(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| e.units.is_some())
    }

    /// Whether the last attempt was refused for want of units alone: the request limits had room but
    /// too few units were left in the unit window.
    pub fn refused_by_units(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| e.refused_by_units)
    }

    /// Admits an attempt of `cost` units at `now` (with the wait the server adds before serving it) or
    /// rejects it. The cost matters only when the quota has a unit limit.
    #[inline]
    pub fn try_admit(&mut self, now: Nanos, cost: u64) -> Option<Nanos> {
        match &mut self.extra {
            None => self.limiter.try_admit(now),
            Some(extra) => Self::try_admit_all(&mut self.limiter, extra, now, cost),
        }
    }

    /// Several windows or units: admitted only if every part has room, and then counted in all of them. A
    /// rejected attempt is counted in every window when the rule counts rejections.
    fn try_admit_all(limiter: &mut Limiter, extra: &mut Extra, now: Nanos, cost: u64) -> Option<Nanos> {
        let units_room = extra.units.as_mut().is_none_or(|u| u.room(now, cost));
        // Every window is asked, with no short cut: asking opens a window whose time is up (a first-call
        // window opens at the first attempt after the last one closed, whatever the other windows say),
        // so the answer cannot depend on the order the windows are listed in.
        let mut requests_room = limiter.next_admit(now) == now;
        for (l, ..) in extra.more.iter_mut() {
            requests_room &= l.next_admit(now) == now;
        }
        // Throttled for want of units only when the request limits had room: units were the reason.
        extra.refused_by_units = !units_room && requests_room;
        let room = units_room && requests_room;
        if room || extra.count_rejected {
            let wait = limiter.try_admit(now);
            extra.more.iter_mut().for_each(|(l, ..)| {
                l.try_admit(now);
            });
            if room {
                if let Some(u) = &mut extra.units {
                    u.used += cost;
                }
                return wait;
            }
        }
        None
    }

    /// The first instant at or after `now` at which this quota would admit an attempt of `cost` units
    /// (what a throttle reply's retry-after tells the caller). Every part's room only grows with time
    /// until something is admitted, so that is the latest of the parts' answers.
    pub fn next_admit(&mut self, now: Nanos, cost: u64) -> Nanos {
        let first = self.limiter.next_admit(now);
        match &mut self.extra {
            None => first,
            Some(extra) => extra
                .more
                .iter_mut()
                .map(|(l, ..)| l.next_admit(now))
                .chain(extra.units.as_mut().map(|u| u.next_admit(now, cost)))
                .fold(first, Nanos::max),
        }
    }

    /// Puts the limit of `plan` in force from `now` on; returns false (and records nothing) when that is
    /// the limit and plan already in force.
    pub fn set_limit(&mut self, now: Nanos, limit_qps: u32, plan: PlanRef) -> bool {
        let current = self.history[self.history.len() - 1];
        if (current.limit_qps, current.plan) == (limit_qps, plan) {
            return false;
        }
        let capacity = self.limit.unwrap_or_else(|| self.config.capacity(limit_qps));
        self.limiter.set(now, limit_qps, capacity, self.on_change == OnPlanChange::Reset);
        if let Some(extra) = &mut self.extra {
            for (l, rule, limit) in &mut extra.more {
                l.set(
                    now,
                    limit_qps,
                    limit.unwrap_or_else(|| rule.capacity(limit_qps)),
                    self.on_change == OnPlanChange::Reset,
                );
            }
            if let (Some(u), OnPlanChange::Reset) = (&mut extra.units, self.on_change) {
                u.used = 0;
            }
        }
        self.history.push(LimitChange { at: now, limit_qps, plan });
        true
    }

    /// Every limit in force during the run, in time order; the first starts at 0.
    pub fn history(&self) -> &[LimitChange] {
        &self.history
    }
}

/// The entry of a non-empty, time-ordered limit history in force at `t`.
pub fn limit_at(history: &[LimitChange], t: Nanos) -> LimitChange {
    let i = history.partition_point(|c| c.at <= t);
    history[i.saturating_sub(1)]
}

#[cfg(test)]
mod tests {
    use super::limiter::Rule;
    use super::limiter::fixed_window::FixedWindow;
    use super::*;
    use proptest::prelude::*;

    const S: Nanos = NANOS_PER_SEC;

    #[test]
    fn defaults_follow_the_faq() {
        assert_eq!(Category::TextRecognition.default_qps(), 1);
        assert_eq!(Category::FaceBody.default_qps(), 2);
        assert_eq!(Category::Other.default_qps(), 2);
        assert_eq!(Category::Segmentation.prepaid_max_qps(), 30);
        assert_eq!(Category::FaceBody.prepaid_max_qps(), 50);
        assert_eq!(Category::Other.prepaid_max_qps(), 100);
        assert_eq!(Category::parse("background-removal"), Some(Category::Segmentation));
    }

    #[test]
    fn three_calls_in_one_second_at_two_qps_throttle_the_third() {
        let mut w = FixedWindow::new(S, Align::Clock, 0, 2);
        let got: Vec<bool> = [0, S / 3, 2 * S / 3, S, S + 1].iter().map(|&t| w.try_admit(t).is_some()).collect();
        assert_eq!(LimiterConfig::PLATFORM.name(), "fixed-window");
        assert_eq!(got, [true, true, false, true, true]);
    }

    #[test]
    fn clock_windows_follow_the_wall_clock_when_the_start_is_mid_second() {
        // Start 0.6 s into a wall-clock second: the first window closes 0.4 s into the run.
        let mut w = FixedWindow::new(S, Align::Clock, 600_000_000, 1);
        assert!(w.try_admit(0).is_some());
        assert!(w.try_admit(399_999_999).is_none());
        assert!(w.try_admit(400_000_000).is_some());
    }

    #[test]
    fn the_next_admission_is_the_next_window_once_this_one_is_full() {
        let mut w = FixedWindow::new(S, Align::Clock, 250_000_000, 2);
        assert_eq!(w.next_admit(100), 100);
        assert!(w.try_admit(100).is_some() && w.try_admit(200).is_some() && w.try_admit(300).is_none());
        // The clock window that holds 300 ns ends 0.75 s into the run.
        assert_eq!(w.next_admit(300), 750_000_000);
    }

    #[test]
    fn first_call_windows_open_at_the_first_attempt() {
        let mut w = FixedWindow::new(S, Align::FirstCall, 0, 1);
        assert!(w.try_admit(700_000_000).is_some());
        assert!(w.try_admit(1_500_000_000).is_none());
        assert!(w.try_admit(1_700_000_000).is_some());
    }

    #[test]
    fn a_limit_change_keeps_or_resets_the_windows_count() {
        for (on_change, admitted_after) in [(OnPlanChange::CarryOver, 0), (OnPlanChange::Reset, 2)] {
            let mut q = Quota::new(0, 0, &LimiterSpec::platform(), on_change, 0, 5, PlanRef::Package(0));
            assert!((0..5).all(|i| q.try_admit(i * 1_000, 1).is_some()));
            q.set_limit(10_000, 2, PlanRef::PayAsYouGo);
            let after = (0..5).filter(|i| q.try_admit(20_000 + i, 1).is_some()).count();
            assert_eq!(after, admitted_after, "{}", on_change.name());
            assert!(q.try_admit(S, 1).is_some(), "the next window admits again");
        }
    }

    #[test]
    fn limit_history_answers_by_time() {
        let mut q = Quota::new(0, 0, &LimiterSpec::platform(), OnPlanChange::CarryOver, 0, 2, PlanRef::PayAsYouGo);
        assert!(!q.set_limit(5 * S, 2, PlanRef::PayAsYouGo));
        assert!(q.set_limit(10 * S, 5, PlanRef::Package(0)));
        assert_eq!(limit_at(q.history(), 0).limit_qps, 2);
        assert_eq!(limit_at(q.history(), 10 * S - 1).limit_qps, 2);
        assert_eq!(limit_at(q.history(), 10 * S).limit_qps, 5);
    }

    proptest! {
        // Several clock windows at once: no window of either length ever admits more than its limit, and
        // an attempt is refused only when one of them is full (nothing is refused for no reason).
        #[test]
        fn several_windows_respect_every_limit_and_refuse_only_when_one_is_full(
            short in 1u64..4,
            long in 2u64..12,
            long_s in 2u64..6,
            mut times in proptest::collection::vec(0u64..20 * S, 1..300),
        ) {
            times.sort_unstable();
            let spec = LimiterSpec {
                rule: LimiterConfig::PLATFORM,
                limit: Some(short),
                more: vec![WindowLimit { window: long_s * S, limit: Some(long) }],
                units: None,
            };
            let mut q = Quota::new(0, 0, &spec, OnPlanChange::CarryOver, 0, 1, PlanRef::PayAsYouGo);
            let mut admitted: Vec<Nanos> = Vec::new();
            for &t in &times {
                let in_window = |w: Nanos| admitted.iter().filter(|&&a| a / w == t / w).count() as u64;
                let full = in_window(S) >= short || in_window(long_s * S) >= long;
                let ok = q.try_admit(t, 1).is_some();
                prop_assert_eq!(ok, !full, "at {}", t);
                if ok {
                    admitted.push(t);
                }
            }
        }

        // A unit limit beside the request limit: each clock window's admitted units stay within the limit,
        // and an attempt is refused only when its units or the request window have no room.
        #[test]
        fn units_stay_within_their_window_and_refuse_only_without_room(
            per_second in 1u64..6,
            unit_limit in 1u64..50,
            calls in proptest::collection::vec((0u64..10 * S, 0u64..20), 1..200),
        ) {
            let mut calls = calls;
            calls.sort_unstable();
            let spec = LimiterSpec {
                rule: LimiterConfig::PLATFORM,
                limit: Some(per_second),
                more: Vec::new(),
                units: Some(UnitLimit { limit: unit_limit, window: 2 * S }),
            };
            let mut q = Quota::new(0, 0, &spec, OnPlanChange::CarryOver, 0, 1, PlanRef::PayAsYouGo);
            let mut admitted: Vec<(Nanos, u64)> = Vec::new();
            for &(t, cost) in &calls {
                let requests = admitted.iter().filter(|(a, _)| a / S == t / S).count() as u64;
                let units: u64 = admitted.iter().filter(|(a, _)| a / (2 * S) == t / (2 * S)).map(|(_, c)| c).sum();
                let room = requests < per_second && units + cost <= unit_limit;
                let ok = q.try_admit(t, cost).is_some();
                prop_assert_eq!(ok, room, "at {} costing {}", t, cost);
                // For want of units alone: the request window had room.
                prop_assert_eq!(q.refused_by_units(), units + cost > unit_limit && requests < per_second);
                if ok {
                    admitted.push((t, cost));
                }
            }
        }

        // The bound the platform promises: no window ever admits more than its capacity.
        #[test]
        fn a_fixed_window_never_admits_more_than_its_capacity(
            capacity in 1u64..6,
            phase in 0u64..S,
            first_call in any::<bool>(),
            mut times in proptest::collection::vec(0u64..5 * S, 1..200),
        ) {
            times.sort_unstable();
            let align = if first_call { Align::FirstCall } else { Align::Clock };
            let mut w = FixedWindow::new(S, align, phase, capacity);
            let admitted: Vec<Nanos> = times.iter().copied().filter(|&t| w.try_admit(t).is_some()).collect();
            if !first_call {
                let mut per_window = std::collections::HashMap::new();
                for t in &admitted { *per_window.entry((t + phase) / S).or_insert(0u64) += 1; }
                prop_assert!(per_window.values().all(|&n| n <= capacity));
            }
            // Whatever the alignment, a span shorter than one window meets at most two windows.
            for (i, t) in admitted.iter().enumerate() {
                let within = admitted[i..].iter().take_while(|&&u| u < t + S).count() as u64;
                prop_assert!(within <= 2 * capacity);
            }
        }
    }
}
