//! Plans: what sets an account's limit for an API at each instant, and which plan pays for each admitted
//! call.
//!
//! Plans never stack. At any instant the limit is that of the highest-priority plan in force: prepaid QPS
//! (the highest bought, if periods overlap), then a resource package (5 QPS while it is active and has
//! calls left), then pay-as-you-go. Billing follows the same order: a call admitted under prepaid QPS is
//! free and draws on no package; otherwise it draws on a covering package (single-API or single-category
//! packages before general-purpose ones, the one expiring first among equals), and otherwise it is billed
//! pay-as-you-go, counted per calendar month in UTC+8 for tiered prices.
//!
//! Limits change at instants known in advance (prepaid periods, package activation and expiry) and at one
//! known only while running: the admission that takes a package's last call. [`PlanBook`] answers both.

use super::Category;
use crate::time::Nanos;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};

/// The platform's billing clock: packages activate and months turn in UTC+8.
pub const PLATFORM_OFFSET: Offset = Offset::constant(8);
/// The QPS a resource package gives the APIs it covers.
pub const PACKAGE_QPS: u32 = 5;
/// The hour (UTC+8) of the day after purchase at which a package takes effect.
pub const PACKAGE_ACTIVATION_HOUR: i8 = 8;

/// A package bought at `bought` takes effect at 08:00 UTC+8 on the next calendar day in UTC+8; `None`
/// when that day is past the last the calendar can represent.
pub fn package_activation(bought: Timestamp) -> Option<Timestamp> {
    let tz = TimeZone::fixed(PLATFORM_OFFSET);
    let day = tz.to_datetime(bought).date().tomorrow().ok()?;
    tz.to_timestamp(day.at(PACKAGE_ACTIVATION_HOUR, 0, 0, 0)).ok()
}

/// The first day of the calendar month (UTC+8) that contains `at`.
pub fn month_of(at: Timestamp) -> Date {
    TimeZone::fixed(PLATFORM_OFFSET).to_datetime(at).date().first_of_month()
}

/// Which plan is in force (an index into the scenario's plan lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanRef {
    PayAsYouGo,
    Prepaid(usize),
    Package(usize),
}

/// The three kinds of plan, by priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanKind {
    PrepaidQps,
    ResourcePackage,
    PayAsYouGo,
}

impl PlanKind {
    pub fn name(self) -> &'static str {
        match self {
            PlanKind::PrepaidQps => "prepaid-qps",
            PlanKind::ResourcePackage => "resource-package",
            PlanKind::PayAsYouGo => "pay-as-you-go",
        }
    }
}

impl PlanRef {
    pub fn kind(self) -> PlanKind {
        match self {
            PlanRef::PayAsYouGo => PlanKind::PayAsYouGo,
            PlanRef::Prepaid(_) => PlanKind::PrepaidQps,
            PlanRef::Package(_) => PlanKind::ResourcePackage,
        }
    }
}

/// Which APIs a resource package covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Api(usize),
    Category(Category),
    /// A general-purpose package: every API.
    All,
}

impl Scope {
    pub fn covers(&self, api: usize, category: Category) -> bool {
        match *self {
            Scope::Api(a) => a == api,
            Scope::Category(c) => c == category,
            Scope::All => true,
        }
    }

    /// Single-API and single-category packages are drawn before general-purpose ones.
    pub fn is_general(&self) -> bool {
        matches!(self, Scope::All)
    }
}

/// Prepaid QPS: `qps` for one API of one account over [from, until).
#[derive(Clone, Debug)]
pub struct PrepaidQps {
    pub name: String,
    pub account: usize,
    pub api: usize,
    pub qps: u32,
    pub from: Timestamp,
    pub until: Timestamp,
    pub price: Option<f64>,
}

/// A resource package: `qps` (5 on the platform) and a pool of `calls` for the APIs in `scope`, from
/// `active_from` until it is used up or `until` passes.
#[derive(Clone, Debug)]
pub struct ResourcePackage {
    pub name: String,
    pub account: usize,
    pub scope: Scope,
    pub qps: u32,
    pub calls: u64,
    pub bought: Timestamp,
    pub active_from: Timestamp,
    pub until: Option<Timestamp>,
    pub price: Option<f64>,
}

/// Tiered pay-as-you-go prices: `(up_to, price)` per call, cumulative by the month's call count; the last
/// tier has no bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Tiers(pub Vec<(Option<u64>, f64)>);

impl Tiers {
    /// What `calls` calls in one month cost.
    pub fn cost(&self, calls: u64) -> f64 {
        let (mut cost, mut below) = (0.0, 0u64);
        for &(up_to, price) in &self.0 {
            let top = up_to.unwrap_or(u64::MAX).min(calls);
            if top > below {
                cost += (top - below) as f64 * price;
                below = top;
            }
        }
        cost
    }
}

/// Every plan of a scenario, as written (instants, not simulated time).
#[derive(Clone, Debug, Default)]
pub struct Plans {
    pub prepaid: Vec<PrepaidQps>,
    pub packages: Vec<ResourcePackage>,
}

struct PrepaidState {
    /// The quota it raises; none when no client calls its (account, API).
    quota: Option<usize>,
    qps: u32,
    from: Nanos,
    until: Nanos,
    admitted: u64,
}

struct PackageState {
    qps: u32,
    from: Nanos,
    until: Nanos,
    left: u64,
    used: u64,
    ran_out: Option<Nanos>,
}

struct QuotaPlans {
    payg_qps: u32,
    prepaid: Vec<usize>,
    /// Covering packages in billing order.
    packages: Vec<usize>,
    /// Calls billed pay-as-you-go, per month of the run.
    payg_calls: Vec<u64>,
}

/// The plans' state during a run: which is in force, what each has been used for.
pub struct PlanBook {
    prepaid: Vec<PrepaidState>,
    packages: Vec<PackageState>,
    quotas: Vec<QuotaPlans>,
    /// Start of each calendar month (UTC+8) the run touches, in simulated time; the first is 0.
    months: Vec<Nanos>,
    month_names: Vec<String>,
    month: usize,
}

/// Simulated time of `at`: nanoseconds since `start`, 0 before it, saturating far after.
pub fn sim_time(start: Timestamp, at: Timestamp) -> Nanos {
    let ns = at.as_nanosecond() - start.as_nanosecond();
    ns.clamp(0, u64::MAX as i128) as Nanos
}

/// What a run's plans were used for.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanUsage {
    /// Calls admitted under each prepaid QPS plan.
    pub prepaid_calls: Vec<u64>,
    /// Calls drawn from each package, and when its last call went (if it did).
    pub package_used: Vec<u64>,
    pub package_ran_out: Vec<Option<Nanos>>,
    /// Per quota, calls billed pay-as-you-go per month; months named like `2026-11`.
    pub payg_calls: Vec<Vec<u64>>,
    pub month_names: Vec<String>,
}

/// What a plan book needs to know of one quota.
#[derive(Clone, Copy, Debug)]
pub struct QuotaKey {
    pub account: usize,
    pub api: usize,
    pub category: Category,
    pub payg_qps: u32,
}

impl PlanBook {
    /// `quotas[q]` describes quota `q`.
    pub fn new(plans: &Plans, quotas: &[QuotaKey], start: Timestamp, duration: Nanos) -> PlanBook {
        let prepaid: Vec<PrepaidState> = plans
            .prepaid
            .iter()
            .map(|p| PrepaidState {
                quota: quotas.iter().position(|q| q.account == p.account && q.api == p.api),
                qps: p.qps,
                from: sim_time(start, p.from),
                until: sim_time(start, p.until),
                admitted: 0,
            })
            .collect();
        let packages: Vec<PackageState> = plans
            .packages
            .iter()
            .map(|p| PackageState {
                qps: p.qps,
                from: sim_time(start, p.active_from),
                until: p.until.map_or(Nanos::MAX, |u| sim_time(start, u)),
                left: p.calls,
                used: 0,
                ran_out: None,
            })
            .collect();

        let (months, month_names) = months_between(start, duration);
        let quotas = quotas
            .iter()
            .enumerate()
            .map(|(q, key)| {
                let mut covering: Vec<usize> = (0..plans.packages.len())
                    .filter(|&i| {
                        plans.packages[i].account == key.account
                            && plans.packages[i].scope.covers(key.api, key.category)
                    })
                    .collect();
                covering.sort_by_key(|&i| (plans.packages[i].scope.is_general(), packages[i].until, i));
                QuotaPlans {
                    payg_qps: key.payg_qps,
                    prepaid: (0..prepaid.len()).filter(|&i| prepaid[i].quota == Some(q)).collect(),
                    packages: covering,
                    payg_calls: vec![0; months.len()],
                }
            })
            .collect();
        PlanBook { prepaid, packages, quotas, months, month_names, month: 0 }
    }

    /// Instants inside (0, end) at which some plan starts or ends by the clock, sorted, without repeats.
    pub fn change_times(&self, end: Nanos) -> Vec<Nanos> {
        let mut times: Vec<Nanos> = self
            .prepaid
            .iter()
            .flat_map(|p| [p.from, p.until])
            .chain(self.packages.iter().flat_map(|p| [p.from, p.until]))
            .filter(|&t| t > 0 && t < end)
            .collect();
        times.sort_unstable();
        times.dedup();
        times
    }

    fn prepaid_in_force(&self, q: usize, now: Nanos) -> Option<usize> {
        let in_force = |&&i: &&usize| self.prepaid[i].from <= now && now < self.prepaid[i].until;
        self.quotas[q].prepaid.iter().filter(in_force).max_by_key(|&&i| (self.prepaid[i].qps, usize::MAX - i)).copied()
    }

    fn package_in_force(&self, q: usize, now: Nanos) -> Option<usize> {
        self.quotas[q].packages.iter().copied().find(|&i| {
            let p = &self.packages[i];
            p.from <= now && now < p.until && p.left > 0
        })
    }

    /// The limit of quota `q` at `now` and the plan that sets it.
    pub fn in_force(&self, q: usize, now: Nanos) -> (u32, PlanRef) {
        if let Some(i) = self.prepaid_in_force(q, now) {
            (self.prepaid[i].qps, PlanRef::Prepaid(i))
        } else if let Some(i) = self.package_in_force(q, now) {
            (self.packages[i].qps, PlanRef::Package(i))
        } else {
            (self.quotas[q].payg_qps, PlanRef::PayAsYouGo)
        }
    }

    /// Bills one call admitted on quota `q` at `now` (times never decrease). Returns true when it was a
    /// package's last call, so the limits it set must be looked at again.
    #[inline]
    pub fn bill(&mut self, q: usize, now: Nanos) -> bool {
        while self.month + 1 < self.months.len() && now >= self.months[self.month + 1] {
            self.month += 1;
        }
        let plans = &self.quotas[q];
        if plans.prepaid.is_empty() && plans.packages.is_empty() {
            self.quotas[q].payg_calls[self.month] += 1;
            return false;
        }
        if let Some(i) = self.prepaid_in_force(q, now) {
            self.prepaid[i].admitted += 1;
            return false;
        }
        if let Some(i) = self.package_in_force(q, now) {
            let p = &mut self.packages[i];
            p.left -= 1;
            p.used += 1;
            if p.left == 0 {
                p.ran_out = Some(now);
                return true;
            }
            return false;
        }
        self.quotas[q].payg_calls[self.month] += 1;
        false
    }

    pub fn usage(&self) -> PlanUsage {
        PlanUsage {
            prepaid_calls: self.prepaid.iter().map(|p| p.admitted).collect(),
            package_used: self.packages.iter().map(|p| p.used).collect(),
            package_ran_out: self.packages.iter().map(|p| p.ran_out).collect(),
            payg_calls: self.quotas.iter().map(|q| q.payg_calls.clone()).collect(),
            month_names: self.month_names.clone(),
        }
    }
}

/// The starts (simulated time, the first clamped to 0) and names of the UTC+8 calendar months that
/// [start, start + duration) touches.
fn months_between(start: Timestamp, duration: Nanos) -> (Vec<Nanos>, Vec<String>) {
    let tz = TimeZone::fixed(PLATFORM_OFFSET);
    let end =
        start.checked_add(jiff::SignedDuration::from_nanos(duration.min(i64::MAX as u64) as i64)).unwrap_or(start);
    let mut month = month_of(start);
    let (mut starts, mut names) = (Vec::new(), Vec::new());
    loop {
        // A month starting past the representable range ends the list (runs that far are refused).
        let Ok(at) = tz.to_timestamp(month.at(0, 0, 0, 0)) else { break };
        if at >= end && !starts.is_empty() {
            break;
        }
        starts.push(sim_time(start, at));
        names.push(format!("{:04}-{:02}", month.year(), month.month()));
        let Ok(next) = month.last_of_month().tomorrow() else { break };
        month = next;
    }
    if starts.is_empty() {
        starts.push(0);
        names.push(format!("{:04}-{:02}", month.year(), month.month()));
    }
    (starts, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_package_activates_at_eight_the_next_day_in_utc_plus_8() {
        let next_day_eight = at("2026-11-27T08:00:00+08:00");
        assert_eq!(package_activation(at("2026-11-26T07:59:00+08:00")), Some(next_day_eight));
        assert_eq!(package_activation(at("2026-11-26T08:01:00+08:00")), Some(next_day_eight));
        // The same instant as 07:59 UTC+8, written in UTC and in UTC-5.
        assert_eq!(package_activation(at("2026-11-25T23:59:00Z")), Some(next_day_eight));
        assert_eq!(package_activation(at("2026-11-25T18:59:00-05:00")), Some(next_day_eight));
        // 23:59 UTC on the 26th is 07:59 on the 27th in UTC+8: the next day there is the 28th.
        assert_eq!(package_activation(at("2026-11-26T23:59:00Z")), Some(at("2026-11-28T08:00:00+08:00")));
        assert_eq!(package_activation(at("9999-12-30T20:00:00Z")), None);
    }

    #[test]
    fn tiered_prices_follow_the_platforms_example() {
        let tiers = Tiers(vec![(Some(10_000), 0.15), (Some(100_000), 0.10), (Some(1_000_000), 0.06), (None, 0.02)]);
        assert!((tiers.cost(15_000) - 2_000.0).abs() < 1e-9);
        assert_eq!(tiers.cost(0), 0.0);
        let all = 10_000.0 * 0.15 + 90_000.0 * 0.10 + 900_000.0 * 0.06 + 500_000.0 * 0.02;
        assert!((tiers.cost(1_500_000) - all).abs() < 1e-6);
    }

    #[test]
    fn months_turn_at_midnight_utc_plus_8() {
        let start = at("2026-11-30T12:00:00+08:00");
        let (starts, names) = months_between(start, 2 * 86_400 * 1_000_000_000);
        assert_eq!(names, ["2026-11", "2026-12"]);
        assert_eq!(starts, [0, 12 * 3_600 * 1_000_000_000]);
    }
}
