//! Advice: the least QPS per (account, API), the most threads per closed or batch client, and the cheapest
//! purchase among the scenario's `[[offer]]`s that meet the user's targets.
//!
//! Every point is a set of replications; a target holds at a point when its whole 95 % interval is on the
//! right side of the bound, so the advice is conservative. All points of one search draw the same random
//! streams (replication r always uses the same seed), so two points differ only by what was changed: this
//! keeps the searched metrics monotone in practice, which the doubling-and-bisection searches rely on.

pub mod chart;
pub mod output;
pub mod purchase;

use crate::Error;
use crate::engine::{self, RunOptions};
use crate::guard;
use crate::report::Report;
use crate::scenario::Scenario;
use crate::stats::Metrics;
use crate::sweep::estimate::{Estimate, estimate};
use crate::sweep::seed_for;
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

/// `metric<=bound` or `metric>=bound`, over the totals or one (account, API).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    pub text: String,
    /// `account/API` when the target is about one pair.
    pub scope: Option<(String, String)>,
    pub metric: String,
    pub cmp: Cmp,
    pub bound: f64,
}

/// Every metric a target may name (those of `summary.json`'s entries).
pub fn metric_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Metrics::default().flat().iter().map(|(n, _)| *n).collect();
    names.extend(["units_admitted", "units_throttled", "throttled_by_units"]);
    names
}

fn metric_value(m: &Metrics, name: &str) -> f64 {
    match name {
        "units_admitted" => m.units_admitted.unwrap_or(0) as f64,
        "units_throttled" => m.units_throttled.unwrap_or(0) as f64,
        "throttled_by_units" => m.throttled_by_units.unwrap_or(0) as f64,
        _ => m.flat().iter().find(|(n, _)| *n == name).map_or(0.0, |(_, v)| *v),
    }
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
    let (scope, metric) = match lhs.trim().rsplit_once(':') {
        Some((pair, m)) => {
            let (account, api) = pair
                .split_once('/')
                .ok_or_else(|| bad(format!("`{pair}` is not ACCOUNT/API, e.g. `acme/CompareFace`")))?;
            (Some((account.trim().to_string(), api.trim().to_string())), m.trim())
        }
        None => (None, lhs.trim()),
    };
    let names = metric_names();
    let metric =
        match names.iter().find(|n| **n == metric).or_else(|| names.iter().find(|n| **n == format!("{metric}_s"))) {
            Some(n) => n.to_string(),
            None => return Err(bad(format!("`{metric}` is not a metric; expected one of {}", names.join(", ")))),
        };
    let value = rhs.trim();
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
    Ok(Target { text: text.to_string(), scope, metric, cmp, bound })
}

/// What one replication left that the targets and the bill need.
#[derive(Clone, Debug)]
pub struct Sample {
    pub totals: Metrics,
    /// Per (account, API) in use, by index into the scenario's accounts and APIs.
    pub by_pair: Vec<((usize, usize), Metrics)>,
    pub cost: f64,
}

/// Where the targets are read at a point.
#[derive(Clone, Copy, Debug)]
pub enum Focus {
    /// Unscoped targets on this pair's own metrics; targets scoped to other pairs are left out.
    Pair(usize, usize),
    /// Unscoped targets on the totals; scoped ones on their pair.
    Whole,
}

/// A target at one point: its estimate over the replications and whether it holds.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub target: String,
    #[serde(flatten)]
    pub estimate: Estimate,
    pub met: bool,
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

/// Runs and checks; counts simulations.
pub struct Advisor<'a> {
    pub sc: &'a Scenario,
    pub targets: &'a [Target],
    pub reps: u32,
    pub allow_large: bool,
    pub simulations: std::sync::atomic::AtomicU64,
    /// Resolved scopes: the (account, API) of each target, if scoped.
    scopes: Vec<Option<(usize, usize)>>,
}

impl<'a> Advisor<'a> {
    pub fn new(sc: &'a Scenario, targets: &'a [Target], reps: u32, allow_large: bool) -> Result<Advisor<'a>, Error> {
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
                                "--target `{}`: `{account}/{api}` is not an (account, API) any client calls; in use: {}",
                                t.text,
                                in_use.join(", ")
                            )));
                        }
                    }
                }
            });
        }
        Ok(Advisor { sc, targets, reps, allow_large, simulations: Default::default(), scopes })
    }

    /// Replications of `sc` (seeds shared by every point), or why the point is not run.
    pub fn samples(&self, sc: &Scenario) -> Result<Vec<Sample>, Error> {
        guard::check(&guard::estimate(sc), self.reps as f64, self.allow_large, "this point of the advice")?;
        self.simulations.fetch_add(self.reps as u64, std::sync::atomic::Ordering::Relaxed);
        (0..self.reps)
            .into_par_iter()
            .map(|rep| {
                let mut sc = sc.clone();
                sc.seed = seed_for(self.sc.seed, 0, rep);
                sample(&sc)
            })
            .collect()
    }

    /// The targets at a point from its replications.
    pub fn check(&self, samples: &[Sample], focus: Focus) -> (bool, Vec<Check>) {
        let mut checks = Vec::new();
        for (t, scope) in self.targets.iter().zip(&self.scopes) {
            let pair = match (scope, focus) {
                (Some(p), Focus::Pair(a, api)) if *p != (a, api) => continue,
                (Some(p), _) => Some(*p),
                (None, Focus::Pair(a, api)) => Some((a, api)),
                (None, Focus::Whole) => None,
            };
            let values: Vec<f64> = samples
                .iter()
                .map(|s| {
                    let m = match pair {
                        None => &s.totals,
                        Some(p) => s.by_pair.iter().find(|(q, _)| *q == p).map_or(&s.totals, |(_, m)| m),
                    };
                    metric_value(m, &t.metric)
                })
                .collect();
            let e = estimate(&t.metric, &values);
            // The interval's low end is clipped at 0 for display; the check uses the unclipped one.
            let half = e.high() - e.mean;
            let met = match t.cmp {
                Cmp::AtMost => e.mean + half <= t.bound,
                Cmp::AtLeast => e.mean - half >= t.bound,
            };
            checks.push(Check { target: t.text.clone(), estimate: e, met });
        }
        (checks.iter().all(|c| c.met), checks)
    }

    fn point(&self, sc: &Scenario, value: u64, focus: Focus) -> Result<Point, Error> {
        let samples = self.samples(sc)?;
        let (met, checks) = self.check(&samples, focus);
        let metrics: Vec<&Metrics> = samples
            .iter()
            .map(|s| match focus {
                Focus::Whole => &s.totals,
                Focus::Pair(a, api) => s.by_pair.iter().find(|(q, _)| *q == (a, api)).map_or(&s.totals, |(_, m)| m),
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

fn sample(sc: &Scenario) -> Result<Sample, Error> {
    let out = engine::run(sc, RunOptions::for_scenario(sc))?;
    let report = Report::new(sc, &out);
    let by_pair = out.quota_pairs.iter().copied().zip(report.summary.by_api.iter().map(|e| e.metrics)).collect();
    let cost = report.summary.billing.iter().filter_map(|b| b.cost).sum();
    Ok(Sample { totals: report.summary.totals, by_pair, cost })
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
    pub least_qps: Option<u32>,
    pub outcome: Outcome,
    /// The most prepaid QPS the API's category can buy without contacting sales.
    pub purchasable_max: u32,
    pub beyond_purchasable: bool,
    /// When no QPS meets the targets and the API has a unit limit: the units bind whatever the QPS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub points: Vec<Point>,
}

/// The most threads of one closed or batch client.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadsAdvice {
    pub client: String,
    pub current_threads: u32,
    pub most_threads: Option<u32>,
    pub outcome: Outcome,
    pub points: Vec<Point>,
}

/// Searches integers in [1, ceiling] for the boundary of a monotone predicate, from `start`: doubling
/// away from it, then bisection. `increasing`: the predicate holds from some value up (least QPS);
/// otherwise it holds up to some value (most threads). Returns the boundary value that holds, how the
/// search ended, and every evaluated point in the order evaluated.
fn boundary_search(
    start: u64,
    ceiling: u64,
    increasing: bool,
    mut eval: impl FnMut(u64) -> Result<Point, Error>,
) -> Result<(Option<u64>, Outcome, Vec<Point>), Error> {
    let mut points = Vec::new();
    let mut probe = |v: u64, points: &mut Vec<Point>| -> Result<Option<bool>, Error> {
        match eval(v) {
            Ok(p) => {
                let met = p.met;
                points.push(p);
                Ok(Some(met))
            }
            Err(Error::TooLarge(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let start = start.clamp(1, ceiling);
    // `good` holds the predicate, `bad` does not; the answer lies between them.
    let (mut good, mut bad): (Option<u64>, Option<u64>) = (None, None);
    match probe(start, &mut points)? {
        None => return Ok((None, Outcome::TooLarge(start), points)),
        Some(true) => good = Some(start),
        Some(false) => bad = Some(start),
    }
    // Double away from the start until the other side is found.
    loop {
        let next = match (good, bad, increasing) {
            (Some(_), Some(_), _) => break,
            // Least QPS: met at `g`, look down; not met at `b`, look up.
            (Some(g), None, true) => {
                if g == 1 {
                    break;
                }
                g / 2
            }
            (None, Some(b), true) => {
                if b >= ceiling {
                    return Ok((None, Outcome::NotUpTo(ceiling), points));
                }
                (b * 2).min(ceiling)
            }
            // Most threads: met at `g`, look up; not met at `b`, look down.
            (Some(g), None, false) => {
                if g >= ceiling {
                    break;
                }
                (g * 2).min(ceiling)
            }
            (None, Some(b), false) => {
                if b == 1 {
                    return Ok((None, Outcome::NotEvenOne, points));
                }
                b / 2
            }
            (None, None, _) => unreachable!("the start was probed"),
        };
        match probe(next, &mut points)? {
            None => return Ok((good, Outcome::TooLarge(next), points)),
            Some(true) => good = Some(next),
            Some(false) => bad = Some(next),
        }
    }
    // Bisect between the two sides.
    if let (Some(mut g), Some(mut b)) = (good, bad) {
        while g.abs_diff(b) > 1 {
            let mid = g.min(b) + g.abs_diff(b) / 2;
            match probe(mid, &mut points)? {
                None => return Ok((Some(g), Outcome::TooLarge(mid), points)),
                Some(true) => g = mid,
                Some(false) => b = mid,
            }
        }
        good = Some(g);
    }
    Ok((good, Outcome::Found, points))
}

impl Advisor<'_> {
    /// The least QPS, held for the whole run, at which the targets hold for (account, API).
    pub fn least_qps(&self, account: usize, api: usize, current: u32) -> Result<QpsAdvice, Error> {
        let (found, outcome, points) = boundary_search(current as u64, MAX_QPS as u64, true, |qps| {
            let mut sc = self.sc.clone();
            sc.held_limits.insert((account, api), qps as u32);
            self.point(&sc, qps, Focus::Pair(account, api))
        })?;
        let purchasable_max = self.sc.apis[api].category.prepaid_max_qps();
        let least_qps = found.map(|q| q as u32);
        let note = match (&outcome, self.sc.apis[api].limiter.units) {
            (Outcome::NotUpTo(_), Some(u)) => Some(format!(
                "its unit limit ({} units per {}) binds whatever the QPS: raise that instead",
                u.limit,
                crate::time::format_duration(u.window)
            )),
            _ => None,
        };
        Ok(QpsAdvice {
            account: self.sc.accounts[account].name.clone(),
            api: self.sc.apis[api].name.clone(),
            current_qps: current,
            least_qps,
            outcome,
            purchasable_max,
            beyond_purchasable: least_qps.is_some_and(|q| q > purchasable_max),
            note,
            points,
        })
    }

    /// The most threads client `c` (closed or batch) can run at today's plans with the targets holding.
    pub fn most_threads(&self, c: usize) -> Result<Option<ThreadsAdvice>, Error> {
        let current = match self.sc.clients[c].model {
            ClientModel::Closed { threads, .. } | ClientModel::Batch { threads, .. } => threads,
            _ => return Ok(None),
        };
        let (found, outcome, points) = boundary_search(current as u64, MAX_THREADS as u64, false, |threads| {
            let mut sc = self.sc.clone();
            if let ClientModel::Closed { threads: t, .. } | ClientModel::Batch { threads: t, .. } =
                &mut sc.clients[c].model
            {
                *t = threads as u32;
            }
            self.point(&sc, threads, Focus::Whole)
        })?;
        Ok(Some(ThreadsAdvice {
            client: self.sc.clients[c].name.clone(),
            current_threads: current,
            most_threads: found.map(|t| t as u32),
            outcome,
            points,
        }))
    }
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

    fn point(value: u64, met: bool) -> Point {
        Point { value, met, checks: Vec::new(), throttle_rate: 0.0, admitted_qps: 0.0, latency_p99_s: 0.0 }
    }

    fn fake(met_from: u64) -> impl FnMut(u64) -> Result<Point, Error> {
        move |v| Ok(point(v, v >= met_from))
    }

    #[test]
    fn the_search_finds_the_boundary_in_logarithmic_steps() {
        for answer in [1, 2, 3, 7, 8, 9, 100, 1000, 99_999] {
            for start in [1, 2, 5, 64, 5000] {
                let (found, outcome, points) = boundary_search(start, 100_000, true, fake(answer)).unwrap();
                assert_eq!((found, outcome), (Some(answer), Outcome::Found), "answer {answer} from {start}");
                assert!(points.len() <= 2 * 18, "{} points", points.len());
            }
        }
        let (found, outcome, _) = boundary_search(2, 100, true, fake(101)).unwrap();
        assert_eq!((found, outcome), (None, Outcome::NotUpTo(100)));
        // Most threads: holds up to `answer`.
        for answer in [1, 2, 6, 33] {
            let (found, _, _) = boundary_search(4, 1000, false, |v| Ok(point(v, v <= answer))).unwrap();
            assert_eq!(found, Some(answer));
        }
        let (found, outcome, _) = boundary_search(4, 1000, false, |v| Ok(point(v, false))).unwrap();
        assert_eq!((found, outcome), (None, Outcome::NotEvenOne));
    }
}
