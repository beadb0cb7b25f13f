//! Advice: the least QPS per (account, API), the most threads per closed or batch client, and the cheapest
//! purchase among the scenario's `[[offer]]`s that meet the user's targets.
//!
//! Every point is a set of replications; a target holds at a point when its whole 95 % interval is on the
//! right side of the bound, so the advice is conservative. All points of one search draw the same random
//! streams (replication r always uses the same seed), so two points differ only by what was changed. The
//! QPS and thread searches are scans ([`scan`]): bracketed by doubling, then every value up to the
//! bracket evaluated, so that what they say of monotony is what the evaluated values showed.

pub mod chart;
pub mod output;
pub mod purchase;
pub mod remedy;
pub mod scan;
pub mod write;

use crate::Error;
use crate::engine;
use crate::guard;
use crate::replicate::estimate::{Estimate, estimate};
use crate::replicate::seed_for;
use crate::scenario::Scenario;
use crate::stats::Metrics;
use crate::workload::ClientModel;
use rayon::prelude::*;
use serde::Serialize;

/// No least-QPS search goes past this.
pub const MAX_QPS: u32 = 100_000;
/// No most-threads search goes past this (the scenario's own bound on `threads`).
pub const MAX_THREADS: u32 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Cmp {
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">=")]
    AtLeast,
}

/// `metric<=bound` or `metric>=bound`: over every (account, API) a search touches (unscoped), over one
/// pair (`account/API:`), or over the totals (`total:`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    pub text: String,
    /// `account/API` when the target is about one pair.
    pub scope: Option<(String, String)>,
    /// `total:`: the aggregate over every pair, not each pair.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total: bool,
    pub metric: String,
    pub cmp: Cmp,
    pub bound: f64,
    /// Said on standard error before the search (a rate written without `%` that reads as 100 % or more).
    #[serde(skip)]
    pub warning: Option<String>,
}

/// Every metric a target may name (those of `summary.json`'s entries).
pub fn metric_names() -> Vec<&'static str> {
    crate::metric::Metric::all().map(crate::metric::Metric::name).collect()
}

/// Metric `name` of `m`; `None` for a unit metric where no unit limit is set (or an unknown name).
pub fn metric_value(m: &Metrics, name: &str) -> Option<f64> {
    crate::metric::Metric::parse(name)?.of(m)
}

/// Reads a `--target`: `[ACCOUNT/API:]METRIC<=VALUE` or `>=`; the value is a number, a percentage
/// (`1%`) or a duration (`3s`, for the `_s` metrics). `latency_p99` stands for `latency_p99_s`.
pub fn parse_target(text: &str) -> Result<Target, String> {
    let bad = |why: String| format!("--target `{text}`: {why}");
    let (lhs, cmp, rhs) = if let Some((l, r)) = text.split_once("<=") {
        (l, Cmp::AtMost, r)
    } else if let Some((l, r)) = text.split_once(">=") {
        (l, Cmp::AtLeast, r)
    } else {
        return Err(bad("expected METRIC<=VALUE or METRIC>=VALUE, e.g. `throttle_rate<=1%`".into()));
    };
    let (scope, total, metric) = match lhs.trim().rsplit_once(':') {
        Some(("total", m)) => (None, true, m.trim()),
        Some((pair, m)) => {
            let (account, api) = pair.split_once('/').ok_or_else(|| {
                bad(format!("`{pair}` is not ACCOUNT/API (e.g. `acme/CompareFace`) nor `total` (the aggregate)"))
            })?;
            (Some((account.trim().to_string(), api.trim().to_string())), false, m.trim())
        }
        None => (None, false, lhs.trim()),
    };
    let names = metric_names();
    let metric =
        match names.iter().find(|n| **n == metric).or_else(|| names.iter().find(|n| **n == format!("{metric}_s"))) {
            Some(n) => n.to_string(),
            None => {
                let message = format!("`{metric}` is not a metric; expected one of {}", names.join(", "));
                return Err(bad(crate::text::with_hint(message, metric, names.iter().copied())));
            }
        };
    let value = rhs.trim();
    let rate = metric.ends_with("_rate");
    let percent = value.ends_with('%');
    let bound = if let Some(p) = value.strip_suffix('%') {
        p.trim().parse::<f64>().map(|p| p / 100.0).map_err(|_| bad(format!("`{value}` is not a percentage")))?
    } else if let Ok(x) = value.parse::<f64>() {
        x
    } else {
        match crate::time::parse_duration(value) {
            Ok(ns) if metric.ends_with("_s") => crate::time::secs_f64(ns),
            Ok(_) => return Err(bad(format!("`{metric}` is not a time; give a number"))),
            Err(_) => {
                return Err(bad(format!("`{value}` is not a number, a percentage (1%) or a duration (3s)")));
            }
        }
    };
    if !bound.is_finite() {
        return Err(bad(format!("`{value}` is not a finite number")));
    }
    // Every metric is a count, a rate, a time or a share: none is negative.
    if bound < 0.0 {
        return Err(bad(format!("`{value}` is negative; `{metric}` never is")));
    }
    if rate && bound > 1.0 {
        return Err(bad(format!("`{value}` is more than 100 %; a rate is a share from 0 to 100 % (write e.g. `1%`)")));
    }
    let warning = (rate && !percent && bound >= 1.0).then(|| {
        format!(
            "warning: --target `{text}`: {value} without `%` is read as a share, {}; write `{value}%` for \
            {value} percent",
            if bound == 1.0 { "100 %".to_string() } else { format!("{} %", 100.0 * bound) }
        )
    });
    Ok(Target { text: text.to_string(), scope, total, metric, cmp, bound, warning })
}

/// Targets that no value can meet together: `m<=a` and `m>=b` on the same scope with a < b.
pub fn contradictions(targets: &[Target]) -> Option<String> {
    for a in targets.iter().filter(|t| t.cmp == Cmp::AtMost) {
        for b in targets.iter().filter(|t| t.cmp == Cmp::AtLeast) {
            if a.metric == b.metric && a.scope == b.scope && a.total == b.total && a.bound < b.bound {
                return Some(format!(
                    "--target `{}` and `{}` contradict each other: no value of {} is at most {} and at least {}",
                    a.text, b.text, a.metric, a.bound, b.bound
                ));
            }
        }
    }
    None
}

/// One (account, API) whose limit a point holds for the whole run (see [`crate::engine::RunOptions::held`]).
pub type Held = Option<((usize, usize), u32)>;

/// What one replication left that the targets and the bill need.
#[derive(Clone, Debug)]
pub struct Sample {
    pub totals: Metrics,
    /// Per (account, API) in use, by index into the scenario's accounts and APIs.
    pub by_pair: Vec<((usize, usize), Metrics)>,
    pub cost: f64,
}

/// Where the targets are read at a point: an unscoped target on each of `pairs` (it must hold on every one
/// of them, so a purchase that leaves one API throttled cannot hide behind another's volume), a `total:`
/// one on the totals when `totals`, a scoped one on its pair when that is among `pairs` (or always, with
/// `every_scope`).
#[derive(Clone, Copy, Debug)]
pub struct Focus<'f> {
    pub pairs: &'f [(usize, usize)],
    pub totals: bool,
    pub every_scope: bool,
}

/// A target at one point: its estimate over the replications and whether it holds; for a target judged on
/// several pairs, on the one closest to missing (or missing most).
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub target: String,
    #[serde(flatten)]
    pub estimate: Estimate,
    pub met: bool,
    /// Where the estimate was read: `account/API`, or `total`.
    pub on: String,
}

/// One evaluated point of a search.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    pub value: u64,
    pub met: bool,
    pub checks: Vec<Check>,
    /// Headline metrics at the point (means over the replications, of the pair searched or the totals).
    pub throttle_rate: f64,
    pub admitted_qps: f64,
    pub latency_p99_s: f64,
}

impl scan::Judged for Point {
    fn met(&self) -> bool {
        self.met
    }
}

/// Runs and checks; counts simulations.
pub struct Advisor<'a> {
    pub sc: &'a Scenario,
    /// What may be bought (the scenario's `[[offer]]`s).
    pub offers: &'a [crate::scenario::Offer],
    pub targets: &'a [Target],
    pub reps: u32,
    pub allow_large: bool,
    pub simulations: std::sync::atomic::AtomicU64,
    /// Resolved scopes: the (account, API) of each target, if scoped.
    scopes: Vec<Option<(usize, usize)>>,
}

impl<'a> Advisor<'a> {
    pub fn new(
        sc: &'a Scenario,
        offers: &'a [crate::scenario::Offer],
        targets: &'a [Target],
        reps: u32,
        allow_large: bool,
    ) -> Result<Advisor<'a>, Error> {
        let pairs = sc.quota_pairs();
        let mut scopes = Vec::with_capacity(targets.len());
        for t in targets {
            scopes.push(match &t.scope {
                None => None,
                Some((account, api)) => {
                    let a = sc.accounts.iter().position(|x| &x.name == account);
                    let p = sc.apis.iter().position(|x| &x.name == api);
                    match (a, p) {
                        (Some(a), Some(p)) if pairs.contains(&(a, p)) => Some((a, p)),
                        _ => {
                            let in_use: Vec<String> = pairs
                                .iter()
                                .map(|&(a, p)| format!("{}/{}", sc.accounts[a].name, sc.apis[p].name))
                                .collect();
                            return Err(Error::BadInput(format!(
                                "--target `{}`: `{account}/{api}` is not an (account, API) any client calls; in use: \
                                    {}",
                                t.text,
                                in_use.join(", ")
                            )));
                        }
                    }
                }
            });
        }
        Ok(Advisor { sc, offers, targets, reps, allow_large, simulations: Default::default(), scopes })
    }

    /// Replications of `sc` (seeds shared by every point), or why the point is not run.
    pub fn samples(&self, sc: &Scenario, held: Held) -> Result<Vec<Sample>, Error> {
        guard::check(&guard::estimate(sc), self.reps as f64, self.allow_large, "this point of the advice")?;
        self.simulations.fetch_add(self.reps as u64, std::sync::atomic::Ordering::Relaxed);
        // Every point shares the replications' seeds (common random numbers).
        crate::replicate::each(1, self.reps, |_, rep| {
            let mut sc = sc.clone();
            sc.seed = seed_for(self.sc.seed, 0, rep);
            sample(&sc, held)
        })
    }

    /// The targets at a point from its replications; no checks when no target applies to the focus.
    pub fn check(&self, samples: &[Sample], focus: Focus<'_>) -> (bool, Vec<Check>) {
        let name = |p: (usize, usize)| format!("{}/{}", self.sc.accounts[p.0].name, self.sc.apis[p.1].name);
        let mut checks = Vec::new();
        for (t, scope) in self.targets.iter().zip(&self.scopes) {
            let judged: Vec<Option<(usize, usize)>> = match (t.total, scope) {
                (true, _) if focus.totals => vec![None],
                (true, _) => continue,
                (false, Some(p)) if focus.every_scope || focus.pairs.contains(p) => vec![Some(*p)],
                (false, Some(_)) => continue,
                (false, None) => focus.pairs.iter().map(|&p| Some(p)).collect(),
            };
            let mut worst: Option<(f64, Check)> = None;
            let mut all_met = true;
            for pair in judged {
                let values: Vec<f64> = samples
                    .iter()
                    .map(|s| {
                        let m = match pair {
                            None => &s.totals,
                            Some(p) => s.by_pair.iter().find(|(q, _)| *q == p).map_or(&s.totals, |(_, m)| m),
                        };
                        metric_value(m, &t.metric).unwrap_or(0.0)
                    })
                    .collect();
                let e = estimate(&t.metric, &values);
                // The interval's low end is clipped at 0 for display; the check uses the unclipped one.
                let half = e.high() - e.mean;
                let slack = match t.cmp {
                    Cmp::AtMost => t.bound - (e.mean + half),
                    Cmp::AtLeast => (e.mean - half) - t.bound,
                };
                all_met &= slack >= 0.0;
                if worst.as_ref().is_none_or(|(w, _)| slack < *w) {
                    let on = pair.map_or_else(|| "total".to_string(), name);
                    worst = Some((slack, Check { target: t.text.clone(), estimate: e, met: slack >= 0.0, on }));
                }
            }
            if let Some((_, mut c)) = worst {
                c.met = all_met;
                checks.push(c);
            }
        }
        (checks.iter().all(|c| c.met), checks)
    }

    fn point(&self, sc: &Scenario, held: Held, value: u64, focus: Focus<'_>) -> Result<Point, Error> {
        let samples = self.samples(sc, held)?;
        let (met, checks) = self.check(&samples, focus);
        let metrics: Vec<&Metrics> = samples
            .iter()
            .map(|s| match focus.pairs {
                [p] => s.by_pair.iter().find(|(q, _)| q == p).map_or(&s.totals, |(_, m)| m),
                _ => &s.totals,
            })
            .collect();
        let mean = |f: fn(&Metrics) -> f64| metrics.iter().map(|m| f(m)).sum::<f64>() / metrics.len() as f64;
        Ok(Point {
            value,
            met,
            checks,
            throttle_rate: mean(|m| m.throttle_rate),
            admitted_qps: mean(|m| m.admitted_qps),
            latency_p99_s: mean(|m| m.latency_s.p99),
        })
    }
}

fn sample(sc: &Scenario, held: Held) -> Result<Sample, Error> {
    let n = crate::replicate::run(sc, held)?;
    Ok(Sample { totals: n.totals, by_pair: n.by_pair, cost: n.cost.unwrap_or(0.0) })
}

/// How a search ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Found,
    /// Nothing up to the search's ceiling meets the targets.
    NotUpTo(u64),
    /// Not even the smallest value meets them (most threads: one thread is too many).
    NotEvenOne,
    /// No target applies to what was searched (every target is scoped to other pairs).
    NoTarget,
    /// The search stopped where a point's work passed the limits `--allow-large` lifts.
    TooLarge(u64),
}

/// The least QPS of one (account, API).
#[derive(Clone, Debug, Serialize)]
pub struct QpsAdvice {
    pub account: String,
    pub api: String,
    /// The limit in force at the start today.
    pub current_qps: u32,
    /// The least value that meets the targets (of those evaluated: see `evaluated`).
    pub least_qps: Option<u32>,
    pub outcome: Outcome,
    /// The most prepaid QPS the API's category can buy without contacting sales.
    pub purchasable_max: u32,
    pub beyond_purchasable: bool,
    /// When no QPS meets the targets and the API has a unit limit: the units bind whatever the QPS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The same as `least_qps` (kept for scripts written before `least_qps` meant it).
    pub least_meeting_qps: Option<u32>,
    /// The least value from which every evaluated value meets: above `least_qps` when the targets are not
    /// monotone.
    pub all_meet_from_qps: Option<u32>,
    /// The ranges of evaluated values above `least_qps` that miss.
    pub failing: Vec<(u64, u64)>,
    /// Whether every evaluated value agreed with a monotone answer.
    pub monotone: bool,
    /// The targets whose verdict flips back and forth as the QPS grows.
    pub non_monotone_targets: Vec<String>,
    pub evaluated: Evaluated,
    pub points: Vec<Point>,
}

/// What a search evaluated: every value from 1 to `up_to` at `resolution` (1: every one), the bracket's
/// values beyond, and the values whose runs pass the work limits.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluated {
    pub up_to: u64,
    pub resolution: u64,
    pub values: usize,
    pub too_large: Vec<u64>,
}

impl Evaluated {
    fn of<T>(scan: &scan::Scan<T>) -> Evaluated {
        Evaluated {
            up_to: scan.top,
            resolution: scan.resolution,
            values: scan.points.len(),
            too_large: scan.too_large.clone(),
        }
    }
}

/// The most threads of one closed or batch client.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadsAdvice {
    pub client: String,
    pub current_threads: u32,
    /// The most threads that meet the targets (of those evaluated).
    pub most_threads: Option<u32>,
    pub outcome: Outcome,
    /// The same as `most_threads` (kept for scripts written before `most_threads` meant it).
    pub most_meeting_threads: Option<u32>,
    /// The most threads up to which every evaluated count meets: below `most_threads` when the targets
    /// are not monotone.
    pub all_meet_up_to_threads: Option<u32>,
    /// The ranges of evaluated counts below `most_threads` that miss.
    pub failing: Vec<(u64, u64)>,
    pub monotone: bool,
    pub non_monotone_targets: Vec<String>,
    /// The search stopped here: more threads only wait longer behind the limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<u32>,
    pub evaluated: Evaluated,
    pub points: Vec<Point>,
}

/// How many values a search evaluates after its bracket before it takes a coarser resolution: every QPS
/// from 1 to 128 (and every thread count) is evaluated, since with common random numbers the values do not
/// depend on each other and run side by side.
pub const SCAN_POINTS: u64 = 128;

/// The targets whose verdict flips back and forth along the values (moving toward the good end, a
/// monotone target once met stays met).
fn flips(points: &[Point], direction: scan::Direction) -> Vec<String> {
    let mut sorted: Vec<&Point> = points.iter().collect();
    sorted.sort_by_key(|p| p.value);
    if direction == scan::Direction::Down {
        sorted.reverse();
    }
    let mut flips = Vec::new();
    if let Some(first) = sorted.first() {
        for c in &first.checks {
            let verdicts: Vec<bool> =
                sorted.iter().filter_map(|p| p.checks.iter().find(|k| k.target == c.target).map(|k| k.met)).collect();
            if verdicts.windows(2).any(|w| w[0] && !w[1]) {
                flips.push(c.target.clone());
            }
        }
    }
    flips
}

/// A point, or `None` when its runs would pass the work limits (which `--allow-large` lifts).
fn unless_too_large(point: Result<Point, Error>) -> Result<Option<Point>, Error> {
    match point {
        Ok(p) => Ok(Some(p)),
        Err(Error::TooLarge(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Advisor<'_> {
    /// The least QPS, held for the whole run, at which the targets hold for (account, API).
    pub fn least_qps(&self, account: usize, api: usize, current: u32) -> Result<QpsAdvice, Error> {
        let pair = [(account, api)];
        let focus = Focus { pairs: &pair, totals: false, every_scope: false };
        let eval = |qps: u64| self.point(self.sc, Some(((account, api), qps as u32)), qps, focus);
        let purchasable_max = self.sc.apis[api].category.prepaid_max_qps();
        let applies =
            self.targets.iter().zip(&self.scopes).any(|(t, s)| !t.total && s.is_none_or(|p| p == (account, api)));
        if !applies {
            return Ok(QpsAdvice {
                account: self.sc.accounts[account].name.clone(),
                api: self.sc.apis[api].name.clone(),
                current_qps: current,
                least_qps: None,
                outcome: Outcome::NoTarget,
                purchasable_max,
                beyond_purchasable: false,
                note: None,
                least_meeting_qps: None,
                all_meet_from_qps: None,
                failing: Vec::new(),
                monotone: true,
                non_monotone_targets: Vec::new(),
                evaluated: Evaluated { up_to: 0, resolution: 1, values: 0, too_large: Vec::new() },
                points: Vec::new(),
            });
        }
        let scan = scan::scan(current as u64, MAX_QPS as u64, scan::Direction::Up, SCAN_POINTS, |q| {
            unless_too_large(eval(q))
        })?;
        let reading = scan::read(&scan, scan::Direction::Up);
        let outcome = match scan.bracket {
            scan::Bracket::NotUpTo(n) => Outcome::NotUpTo(n),
            scan::Bracket::TooLarge(n) if reading.answer.is_none() => Outcome::TooLarge(n),
            _ => Outcome::Found,
        };
        let least_qps = reading.answer.map(|q| q as u32);
        let note = match (&outcome, self.sc.apis[api].limiter.units) {
            (Outcome::NotUpTo(_), Some(u)) if reading.answer.is_none() => Some(format!(
                "its unit limit ({} units per {}) binds whatever the QPS: raise that instead",
                u.limit,
                crate::time::format_duration(u.window)
            )),
            _ => None,
        };
        let evaluated = Evaluated::of(&scan);
        let mut points: Vec<Point> = scan.points.into_iter().map(|(_, p)| p).collect();
        points.sort_by_key(|p| p.value);
        let non_monotone_targets = flips(&points, scan::Direction::Up);
        Ok(QpsAdvice {
            account: self.sc.accounts[account].name.clone(),
            api: self.sc.apis[api].name.clone(),
            current_qps: current,
            least_qps,
            outcome,
            purchasable_max,
            beyond_purchasable: least_qps.is_some_and(|q| q > purchasable_max),
            note,
            least_meeting_qps: least_qps,
            all_meet_from_qps: reading.solid.map(|q| q as u32),
            monotone: reading.monotone() && non_monotone_targets.is_empty(),
            failing: reading.failing,
            non_monotone_targets,
            evaluated,
            points,
        })
    }

    /// The most threads client `c` (closed or batch) can run at today's plans with the targets holding on
    /// the pairs it calls. The search stops at what the limits can keep busy many times over (more threads
    /// past that only wait longer).
    pub fn most_threads(&self, c: usize) -> Result<Option<ThreadsAdvice>, Error> {
        let client = &self.sc.clients[c];
        let (current, think) = match &client.model {
            ClientModel::Closed { threads, think, .. } | ClientModel::Batch { threads, think, .. } => {
                (*threads, think.mean())
            }
            _ => return Ok(None),
        };
        let pairs: Vec<(usize, usize)> = client.apis.apis().iter().map(|&a| (client.account, a)).collect();
        let focus = Focus { pairs: &pairs, totals: true, every_scope: false };
        // The limits' reach: the threads the highest limits keep busy (L · (R + Z)), 16 times over.
        let cycle = client.apis.weighted_mean(|a| crate::time::secs_f64(self.sc.apis[a].latency.mean()))
            + crate::time::secs_f64(think);
        let reach: f64 =
            pairs.iter().map(|&(acc, api)| crate::guard::max_limit(self.sc, acc, api)).sum::<f64>() * cycle;
        let cap = ((16.0 * reach).ceil() as u64).max(2 * current as u64).clamp(8, MAX_THREADS as u64);
        let eval = |threads: u64| {
            let mut sc = self.sc.clone();
            if let ClientModel::Closed { threads: t, .. } | ClientModel::Batch { threads: t, .. } =
                &mut sc.clients[c].model
            {
                *t = threads as u32;
            }
            self.point(&sc, None, threads, focus)
        };
        let scan = scan::scan(current as u64, cap, scan::Direction::Down, SCAN_POINTS, |t| unless_too_large(eval(t)))?;
        let reading = scan::read(&scan, scan::Direction::Down);
        let outcome = match scan.bracket {
            scan::Bracket::TooLarge(n) => Outcome::TooLarge(n),
            _ if reading.answer.is_none() => Outcome::NotEvenOne,
            _ => Outcome::Found,
        };
        let most = reading.answer;
        let evaluated = Evaluated::of(&scan);
        let mut points: Vec<Point> = scan.points.into_iter().map(|(_, p)| p).collect();
        points.sort_by_key(|p| p.value);
        let non_monotone_targets = flips(&points, scan::Direction::Down);
        Ok(Some(ThreadsAdvice {
            client: client.name.clone(),
            current_threads: current,
            most_threads: most.map(|t| t as u32),
            outcome,
            most_meeting_threads: most.map(|t| t as u32),
            all_meet_up_to_threads: reading.solid.map(|t| t as u32),
            monotone: reading.monotone() && non_monotone_targets.is_empty(),
            failing: reading.failing,
            non_monotone_targets,
            cap: (most == Some(cap)).then_some(cap as u32),
            evaluated,
            points,
        }))
    }
}

/// Which searches `advise` runs.
#[derive(Clone, Copy, Debug)]
pub struct Searches {
    pub qps: bool,
    pub threads: bool,
    pub plans: bool,
}

/// What the searches found: the least QPS per pair, the most threads per client, the cheapest purchase.
pub type Answers = (Vec<QpsAdvice>, Vec<ThreadsAdvice>, Option<purchase::PlanAdvice>);

/// Every search asked for, on the current rayon pool: the least QPS per pair in use (side by side: each
/// point's few replications alone leave cores idle), the most threads per closed or batch client, and the
/// cheapest purchase (`text`, `file`: the scenario as read).
pub fn search_all(advisor: &Advisor<'_>, searches: Searches, text: &str, file: &str) -> Result<Answers, Error> {
    let sc = advisor.sc;
    let least_qps = if searches.qps {
        engine::limits_at_start(sc)
            .par_iter()
            .map(|&((account, api), current)| advisor.least_qps(account, api, current))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let most_threads = if searches.threads {
        (0..sc.clients.len())
            .into_par_iter()
            .map(|c| advisor.most_threads(c))
            .filter_map(Result::transpose)
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    let plans = if searches.plans { advisor.cheapest(text, file)? } else { None };
    Ok((least_qps, most_threads, plans))
}

impl Advisor<'_> {
    /// One point of the least-QPS search: the targets on (account, API) with its limit held at `qps`, as the
    /// search judges it (for checking the search against every value).
    pub fn qps_point(&self, account: usize, api: usize, qps: u32) -> Result<Point, Error> {
        let pair = [(account, api)];
        self.point(
            self.sc,
            Some(((account, api), qps)),
            qps as u64,
            Focus { pairs: &pair, totals: false, every_scope: false },
        )
    }
}

/// About how many simulations the searches will take (each scan its bracket and every value below it,
/// every offer combination once), for a progress bar.
pub fn estimated_simulations(sc: &Scenario, offers: &[crate::scenario::Offer], reps: u32, searches: Searches) -> u64 {
    let pairs = crate::engine::limits_at_start(sc).len() as u64;
    reps as u64
        * (if searches.qps { pairs * 40 } else { 0 }
            + if searches.threads { sc.clients.len() as u64 * 24 } else { 0 }
            + if searches.plans && !offers.is_empty() { purchase::combinations(sc, offers) } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_percentages_durations_and_scopes() {
        let t = parse_target("throttle_rate<=1%").unwrap();
        assert_eq!((t.metric.as_str(), t.cmp, t.bound, t.scope), ("throttle_rate", Cmp::AtMost, 0.01, None));
        let t = parse_target("acme/CompareFace:latency_p99<=3s").unwrap();
        assert_eq!((t.metric.as_str(), t.bound), ("latency_p99_s", 3.0));
        assert_eq!(t.scope, Some(("acme".into(), "CompareFace".into())));
        assert_eq!(parse_target("admitted_qps>=7.5").unwrap().cmp, Cmp::AtLeast);
        assert!(parse_target("throttle_rate<1%").unwrap_err().contains("METRIC<=VALUE"));
        assert!(parse_target("throtle_rate<=1%").unwrap_err().contains("not a metric"));
        assert!(parse_target("gave_up<=3s").unwrap_err().contains("not a time"));
        assert!(parse_target("gave_up<=lots").unwrap_err().contains("not a number"));
    }
}
