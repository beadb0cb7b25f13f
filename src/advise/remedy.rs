//! Remedies confirmed by the engine: for every (account, API) the verdict finds throttled, the least whole
//! QPS at which the engine itself, replaying this run's own workload (the same scenario, the same seed, the
//! limit held for the whole run), throttles under the target rate; the most threads a lone closed client
//! could run at today's limit; and what a pace at today's limit does. The verdict's closed forms only seed
//! the search's bracket: they are never the answer for a workload they do not describe (two closed threads
//! at a constant 500 ms need 4 QPS, where Poisson arrivals at 4 a second would need 8).
//!
//! Every candidate is one run with the run's own seed (common random numbers: candidates differ only by
//! the limit), so the number promised is the number a run at it shows. The least QPS is found by a
//! [`scan`](super::scan), every value up to the bracket evaluated, so a closed loop whose retries
//! synchronise is answered with the least value that meets and the ranges above it that do not. At the
//! answer, further seeds give the throttle rate's spread over other draws of the same workload.
//!
//! The work is bounded: at most [`MAX_VALUES`] values per pair after the bracket, and in all about
//! [`BUDGET`] attempts (estimated as the run's own per simulation) plus four runs' worth; past that the
//! scan takes a coarser resolution, which the verdict states.

use super::scan::{self, Direction};
use crate::Error;
use crate::engine::RunOptions;
use crate::replicate::estimate::{Estimate, estimate};
use crate::replicate::seed_for;
use crate::report::verdict::{PaceCheck, PairVerdict, RemedyCheck, SeedSpread, ThreadsCheck, Verdict};
use crate::scenario::Scenario;
use crate::stats::Metrics;
use crate::time::Nanos;
use crate::workload::{BudgetScope, ClientModel, Pace};
use rayon::prelude::*;

/// Values evaluated per pair after the bracket, at most (then a coarser resolution).
pub const MAX_VALUES: u64 = 128;
/// The confirmation's work in attempts, beyond four of the run's own: a few seconds on two cores.
pub const BUDGET: f64 = 5e7;
/// Seeds the throttle rate at the answer is measured over (the run's own among them).
pub const SEEDS: u32 = 8;
/// No least-QPS search goes past this.
const CEILING: u64 = super::MAX_QPS as u64;
/// A confirming run may make this many times the run's own attempts (at least [`MIN_PER_RUN`]) before it
/// is stopped and its value left out.
pub const PER_RUN: u64 = 4;
pub const MIN_PER_RUN: u64 = 100_000;
/// Recorded attempts are passed through candidate limiters up to this many attempt-decisions in all (a
/// decision costs a few nanoseconds, against a simulated attempt's fifty or more).
const PASSES: f64 = 2e8;
/// Values judged per pair by passes of recorded attempts, at most.
const MAX_PASSED_VALUES: u64 = 4096;
/// A pair with more attempts than this is simulated, not recorded (16 bytes an attempt).
const MAX_RECORDED: u64 = 1 << 25;
/// Values above the run's own least one tried for a mean over the seeds under the aim.
const MAX_STEPS: usize = 8;

/// What the remedies aim for.
#[derive(Clone, Copy, Debug)]
pub struct Aim {
    /// The throttle rate a remedy must stay under, in parts per million (10,000 for 1 %).
    pub under_ppm: u64,
    /// The run's `--skip-bad-rows`, which every confirming run needs too.
    pub skip_bad_rows: bool,
}

impl Aim {
    pub fn rate(&self) -> f64 {
        self.under_ppm as f64 / 1e6
    }

    /// Whether `m` throttles under the aim: throttled / attempts < rate, in integers.
    fn met(&self, m: &Metrics) -> bool {
        (m.throttled as u128) * 1_000_000 < self.under_ppm as u128 * m.attempts as u128
            || (m.attempts == 0 && self.under_ppm > 0)
    }
}

/// One candidate's run: the pair's throttle rate, and whether it is under the aim.
struct Candidate {
    met: bool,
    rate: f64,
}

impl scan::Judged for Candidate {
    fn met(&self) -> bool {
        self.met
    }
}

/// Confirms every throttled pair's remedy by simulation, in place, and rewrites the verdict's words.
/// `attempts` is the run's own (the cost of one simulation, for the budget).
pub fn confirm(sc: &Scenario, verdict: &mut Verdict, attempts: u64, aim: Aim) -> Result<(), Error> {
    if verdict.pairs.is_empty() {
        return Ok(());
    }
    // No one candidate may cost much more than the run itself: a limit far below today's can make a storm
    // of retries the run never saw. Such a candidate is not simulated, and the verdict says so.
    let global = crate::guard::budget();
    let budget = crate::guard::Budget {
        attempts: global.attempts.min(attempts.saturating_mul(PER_RUN).max(MIN_PER_RUN)),
        ..global
    };
    let per_run = attempts.max(1) as f64;
    let runs = (BUDGET / per_run) as u64 + 4;
    let per_pair = runs / verdict.pairs.len() as u64;
    // Pairs side by side (each scan's values run side by side too); each pair's answer depends on its runs
    // alone, so the verdict is the same whatever the thread count.
    verdict.pairs.par_iter_mut().try_for_each(|pair| confirm_pair(sc, pair, per_pair, aim, budget))?;
    verdict.reword(sc);
    Ok(())
}

/// Metrics of (account, API) in a run of `sc` with `held` (None: the scenario's plans), or None when the
/// run would pass `budget`.
fn pair_metrics(
    sc: &Scenario,
    pair: (usize, usize),
    held: Option<u32>,
    aim: Aim,
    budget: crate::guard::Budget,
) -> Result<Option<Metrics>, Error> {
    let options = RunOptions {
        held: held.map(|q| (pair, q)),
        skip_bad_rows: aim.skip_bad_rows,
        budget,
        ..RunOptions::for_scenario(sc)
    };
    let out = match crate::engine::run(sc, options) {
        Ok(out) => out,
        Err(Error::TooLarge(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(q) = out.quota_of(pair.0, pair.1) else { return Ok(None) };
    let cells = out.recorder.quota_cells(out.quota_pairs.len());
    Ok(Some(cells[q].metrics(sc.duration)))
}

/// Counts the simulations of one pair's confirmation.
struct Runs<'a> {
    sc: &'a Scenario,
    pair: (usize, usize),
    aim: Aim,
    budget: crate::guard::Budget,
    done: std::sync::atomic::AtomicU64,
    /// The pair's attempts when they do not depend on its limit (see [`fixed_attempts`]): then a
    /// candidate limit is judged by passing them through a limiter of its own, not by a run.
    fixed: Option<Recorded>,
    /// Candidates judged by a pass of the recorded attempts.
    passes: std::sync::atomic::AtomicU64,
}

impl Runs<'_> {
    /// The pair's metrics in a run of `sc` (the scenario, or a change of it) with its limit `held`.
    fn metrics(&self, sc: &Scenario, held: Option<u32>) -> Result<Option<Metrics>, Error> {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        pair_metrics(sc, self.pair, held, self.aim, self.budget)
    }

    fn candidate(&self, sc: &Scenario, held: Option<u32>) -> Result<Option<Candidate>, Error> {
        Ok(self.metrics(sc, held)?.map(|m| Candidate { met: self.aim.met(&m), rate: m.throttle_rate }))
    }

    /// The run's own scenario with the pair's limit held at `q`: by its recorded attempts when they are
    /// fixed, else by a run.
    fn at(&self, q: u64) -> Result<Option<Candidate>, Error> {
        let Some(recorded) = &self.fixed else { return self.candidate(self.sc, Some(q as u32)) };
        self.passes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (account, api) = self.pair;
        let spec = &self.sc.apis[api].limiter;
        let admitted = match recorded {
            // A clock window admits min(n, capacity) of the n attempts it sees.
            Recorded::Windows { counts, attempts: _ } => {
                let capacity = spec.rule.capacity(q as u32);
                counts.iter().map(|&n| (n as u64).min(capacity)).sum::<u64>()
            }
            Recorded::Attempts { times, costs } => {
                let mut quota = crate::quota::Quota::new(
                    account,
                    api,
                    spec,
                    self.sc.on_plan_change,
                    crate::engine::local_start_ns(self.sc),
                    q as u32,
                    crate::quota::plans::PlanRef::PayAsYouGo,
                );
                let cost = |i: usize| costs.as_ref().map_or(1, |c| c[i]);
                (0..times.len()).filter(|&i| quota.try_admit(times[i], cost(i)).is_some()).count() as u64
            }
        };
        let attempts = recorded.attempts();
        let m = Metrics { attempts, throttled: attempts - admitted, ..Default::default() };
        Ok(Some(Candidate { met: self.aim.met(&m), rate: m.throttled as f64 / m.attempts.max(1) as f64 }))
    }
}

fn confirm_pair(
    sc: &Scenario,
    v: &mut PairVerdict,
    runs: u64,
    aim: Aim,
    budget: crate::guard::Budget,
) -> Result<(), Error> {
    let Some(account) = sc.accounts.iter().position(|a| a.name == v.account) else { return Ok(()) };
    let Some(api) = sc.apis.iter().position(|a| a.name == v.api) else { return Ok(()) };
    let pair = (account, api);
    let attempts = (v.throttled as f64 / v.throttle_rate.max(1e-12)).round() as u64;
    let fixed = match fixed_attempts(sc, pair) && attempts <= MAX_RECORDED {
        true => record(sc, pair, aim, budget)?,
        false => None,
    };
    // Logs' attempts do not depend on the seed either: one seed says what every seed would.
    let logs_only = fixed.is_some()
        && sc.clients.iter().filter(|c| calls(c, pair)).all(|c| matches!(c.model, ClientModel::Trace(_)));
    // A pass of recorded attempts costs a fraction of a run; a run costs the whole budget's share.
    let seeds = if logs_only { 1 } else { (runs / 6).clamp(1, SEEDS as u64) };
    let max_values = match &fixed {
        Some(a) => (PASSES / a.pass_cost() as f64) as u64,
        None => runs.saturating_sub(seeds + 2),
    };
    // Passes are cheap: recorded attempts may judge every value of a wider bracket.
    let most = if fixed.is_some() { MAX_PASSED_VALUES } else { MAX_VALUES };
    let (max_values, seeds) = (max_values.clamp(4, most), seeds as u32);
    let recorded = fixed.is_some();
    let r = Runs { sc, pair, aim, budget, done: Default::default(), passes: Default::default(), fixed };
    let (estimate, threads_guess, pace) = (v.remedy.qps, v.remedy.threads_that_fit, v.remedy.pace_qps);
    let (check, (threads, pace)) = rayon::join(
        || least_qps(&r, estimate, max_values, seeds),
        || rayon::join(|| fewer_threads(&r, threads_guess, max_values), || paced(&r, pace)),
    );
    let (check, threads, pace) = (check?, threads?, pace?);
    if let Some(q) = check.answer {
        v.remedy.qps = q;
    }
    v.remedy.threads_that_fit =
        threads.as_ref().and_then(|t| t.threads).or(v.remedy.threads_that_fit.filter(|_| threads.is_none()));
    v.remedy.threads_check = threads;
    v.remedy.pace_check = pace;
    let recorded_attempts = r.fixed.as_ref().map(Recorded::attempts);
    let simulations = r.done.into_inner() + u64::from(recorded);
    let passes = r.passes.into_inner();
    v.remedy.method = match recorded_attempts {
        Some(n) => format!(
            "the engine: {simulations} simulations of this run's own workload, and its {n} attempts (which do not \
             depend on the limit) passed through a limiter of each candidate QPS {passes} times"
        ),
        None => format!(
            "the engine: {simulations} simulations of this run's own workload, the limit held for the whole run"
        ),
    };
    v.remedy.check = Some(RemedyCheck { simulations, passes, recorded_attempts, ..check });
    v.remedy.confirmed = true;
    v.remedy.target_rate = aim.rate();
    Ok(())
}

/// The least QPS held for the whole run that throttles the pair under the aim, from the estimate.
fn least_qps(r: &Runs<'_>, estimate: u64, max_values: u64, seeds: u32) -> Result<RemedyCheck, Error> {
    let found = scan::scan(estimate, CEILING, Direction::Up, max_values, |q| r.at(q))?;
    let reading = scan::read(&found, Direction::Up);
    let rate_at = |q: u64| found.points.iter().find(|(v, _)| *v == q).map(|(_, c)| c.rate);
    // The answer must also hold on average over other seeds of the same workload, so that it does not rest
    // on one lucky draw: from the least value this run meets at, up to the first whose mean over the seeds
    // is under the aim too (rarely more than one step).
    let over_seeds = |q: u64, own: f64| -> Result<SeedSpread, Error> {
        let others: Vec<Option<Metrics>> = (1..seeds)
            .into_par_iter()
            .map(|rep| {
                let mut other = r.sc.clone();
                other.seed = seed_for(r.sc.seed, 0, rep);
                r.metrics(&other, Some(q as u32))
            })
            .collect::<Result<_, _>>()?;
        let rates: Vec<f64> =
            std::iter::once(own).chain(others.into_iter().flatten().map(|m| m.throttle_rate)).collect();
        Ok(spread(&rates))
    };
    let (mut answer, mut at, mut moved_from) = (None, None, None);
    if let Some(least) = reading.answer {
        let mut q = least;
        for _ in 0..MAX_STEPS {
            let own = match found.points.iter().find(|(v, _)| *v == q) {
                Some((_, c)) => Some((c.met, c.rate)),
                None => r.at(q)?.map(|c| (c.met, c.rate)),
            };
            let Some((true, rate)) = own else {
                q += 1;
                continue;
            };
            let s = over_seeds(q, rate)?;
            let holds = s.mean < r.aim.rate();
            if holds {
                answer = Some(q);
                at = Some((rate, s));
                break;
            }
            moved_from.get_or_insert(q);
            q += 1;
        }
        // No value within reach held on average: the run's own least value stands, said as such.
        if answer.is_none() {
            answer = Some(least);
            moved_from = None;
        }
    }
    Ok(RemedyCheck {
        answer,
        estimate_qps: estimate,
        throttle_rate: at.as_ref().map(|(rate, _)| *rate).or_else(|| answer.and_then(rate_at)),
        below: answer.and_then(|q| q.checked_sub(1)).filter(|&q| q >= 1).and_then(|q| rate_at(q).map(|t| (q, t))),
        seeds: at.map(|(_, s)| s),
        seeds_moved_from: moved_from.filter(|&m| Some(m) != answer),
        least_in_this_run: reading.answer,
        all_meet_from: reading.solid.filter(|_| reading.answer.is_some()),
        failing: reading.failing,
        up_to: found.top,
        resolution: found.resolution,
        values: found.points.len(),
        ceiling: matches!(found.bracket, scan::Bracket::NotUpTo(_)).then_some(CEILING),
        not_simulated: found.too_large.clone(),
        simulations: 0,
        passes: 0,
        recorded_attempts: None,
    })
}

/// The most threads a lone closed (or batch) client could run at today's plans and throttle under the aim.
fn fewer_threads(r: &Runs<'_>, guess: Option<u64>, max_values: u64) -> Result<Option<ThreadsCheck>, Error> {
    let (Some(guess), Some((c, current))) = (guess, lone_closed_client(r.sc, r.pair)) else { return Ok(None) };
    let found = scan::scan(guess.min(current as u64), current as u64, Direction::Down, max_values, |t| {
        let mut fewer = r.sc.clone();
        if let ClientModel::Closed { threads, .. } | ClientModel::Batch { threads, .. } = &mut fewer.clients[c].model {
            *threads = t as u32;
        }
        r.candidate(&fewer, None)
    })?;
    let reading = scan::read(&found, Direction::Down);
    let rate = |t: u64| found.points.iter().find(|(v, _)| *v == t).map(|(_, c)| c.rate);
    Ok(Some(ThreadsCheck {
        threads: reading.answer,
        throttle_rate: reading.answer.or(Some(1)).and_then(rate),
        current: current as u64,
    }))
}

/// A pace at `rate` (today's limit) in front of every client calling the pair, one pacer shared by them
/// when they are several, in place of any adaptive throttle.
fn paced(r: &Runs<'_>, rate: Option<u32>) -> Result<Option<PaceCheck>, Error> {
    let Some(rate) = rate else { return Ok(None) };
    let (account, api) = r.pair;
    let callers: Vec<usize> = (0..r.sc.clients.len())
        .filter(|&c| r.sc.clients[c].account == account && r.sc.clients[c].apis.apis().contains(&api))
        .collect();
    let scope = if callers.len() > 1 { BudgetScope::Account } else { BudgetScope::Client };
    let mut paced = r.sc.clone();
    for &c in &callers {
        paced.clients[c].pace = Some((Pace::new(rate as f64, 1, None), scope));
        paced.clients[c].adaptive = None;
    }
    Ok(r.metrics(&paced, None)?.map(|m| PaceCheck {
        throttle_rate: m.throttle_rate,
        latency_p99_s: m.latency_s.p99,
        queued_p99_s: m.queued_s.p99,
        unfinished: m.unfinished,
        shared: callers.len() > 1,
    }))
}

/// Whether client `c` may call the pair.
fn calls(c: &crate::workload::Client, (account, api): (usize, usize)) -> bool {
    c.account == account && c.apis.apis().contains(&api)
}

/// Whether the pair's attempts are the same whatever its limit: every client calling it sends each request
/// once, when it arrives (open arrivals or a log, no retry, no pacer, no adaptive throttle), and the
/// limiter decides at once (not a leaky bucket that makes attempts wait, whose admissions are counted
/// when served).
fn fixed_attempts(sc: &Scenario, pair: (usize, usize)) -> bool {
    use crate::quota::limiter::LimiterConfig;
    if matches!(sc.apis[pair.1].limiter.rule, LimiterConfig::LeakyBucket(c) if !c.nodelay) {
        return false;
    }
    sc.clients.iter().filter(|c| calls(c, pair)).all(|c| {
        matches!(c.model, ClientModel::Open { .. } | ClientModel::Trace(_))
            && c.retry.max_attempts() == 1
            && c.pace.is_none()
            && c.adaptive.is_none()
    })
}

/// A pair's attempts, recorded in one run: as counts per window where the limiter is one clock-aligned
/// fixed window (which admits min(n, capacity) of a window's n attempts whatever the limit), else each
/// attempt's time (and units, where a unit limit asks) in the order the platform decided them.
enum Recorded {
    Windows { counts: Vec<u32>, attempts: u64 },
    Attempts { times: Vec<Nanos>, costs: Option<Vec<u64>> },
}

impl Recorded {
    fn attempts(&self) -> u64 {
        match self {
            Recorded::Windows { attempts, .. } => *attempts,
            Recorded::Attempts { times, .. } => times.len() as u64,
        }
    }

    /// What one candidate's pass costs, in decisions.
    fn pass_cost(&self) -> u64 {
        match self {
            Recorded::Windows { counts, .. } => counts.len() as u64,
            Recorded::Attempts { times, .. } => times.len() as u64,
        }
        .max(1)
    }
}

/// The pair's attempts in one run of the scenario (see [`Recorded`]).
fn record(
    sc: &Scenario,
    pair: (usize, usize),
    aim: Aim,
    budget: crate::guard::Budget,
) -> Result<Option<Recorded>, Error> {
    use crate::quota::limiter::{Align, LimiterConfig};
    struct Seen {
        quota: usize,
        /// The window's length and phase, for a clock window counted per window.
        windows: Option<(Nanos, Nanos)>,
        recorded: Recorded,
    }
    impl crate::engine::Observer for Seen {
        const ATTEMPTS: bool = true;
        fn request_started(&mut self, _: Nanos, _: &str, _: &str, _: &str) {}
        fn attempt(&mut self, a: &crate::engine::AttemptSeen<'_>) {
            if a.quota != self.quota {
                return;
            }
            match (&mut self.recorded, self.windows) {
                (Recorded::Windows { counts, attempts }, Some((window, phase))) => {
                    let w = ((a.at + phase) / window) as usize;
                    if counts.len() <= w {
                        counts.resize(w + 1, 0);
                    }
                    counts[w] += 1;
                    *attempts += 1;
                }
                (Recorded::Attempts { times, costs }, _) => {
                    times.push(a.at);
                    if let Some(c) = costs {
                        c.push(a.cost);
                    }
                }
                _ => {}
            }
        }
    }
    let Ok(quota) = sc.quota_pairs().binary_search(&pair) else { return Ok(None) };
    let spec = &sc.apis[pair.1].limiter;
    let windows = match spec.rule {
        LimiterConfig::FixedWindow(c) if c.align == Align::Clock && spec.more.is_empty() && spec.units.is_none() => {
            let phase = crate::engine::local_start_ns(sc).rem_euclid(c.window.max(1) as i128) as Nanos;
            Some((c.window.max(1), phase))
        }
        _ => None,
    };
    let recorded = match windows {
        Some(_) => Recorded::Windows { counts: Vec::new(), attempts: 0 },
        None => Recorded::Attempts { times: Vec::new(), costs: spec.units.is_some().then(Vec::new) },
    };
    let mut seen = Seen { quota, windows, recorded };
    let options = RunOptions { skip_bad_rows: aim.skip_bad_rows, budget, ..RunOptions::for_scenario(sc) };
    match crate::engine::run_observed(sc, options, &mut seen) {
        Ok(_) => Ok(Some(seen.recorded)),
        Err(Error::TooLarge(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The one closed or batch client calling only this pair's API, when it is the pair's only caller, and its
/// threads.
fn lone_closed_client(sc: &Scenario, (account, api): (usize, usize)) -> Option<(usize, u32)> {
    let callers: Vec<usize> = (0..sc.clients.len())
        .filter(|&c| sc.clients[c].account == account && sc.clients[c].apis.apis().contains(&api))
        .collect();
    match callers.as_slice() {
        [c] if sc.clients[*c].apis.apis().len() == 1 => match sc.clients[*c].model {
            ClientModel::Closed { threads, .. } | ClientModel::Batch { threads, .. } => Some((*c, threads)),
            _ => None,
        },
        _ => None,
    }
}

/// The throttle rate over seeds: mean and 95 % interval.
fn spread(rates: &[f64]) -> SeedSpread {
    let e: Estimate = estimate("throttle_rate", rates);
    SeedSpread { seeds: rates.len() as u32, mean: e.mean, lo: e.lo, hi: e.hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Open arrivals without retries (two clients, one with a mix of APIs and unit costs) against each
    /// limiter kind: the recorded attempts passed through a limiter of each candidate QPS throttle exactly
    /// what a run with the limit held there throttles.
    #[test]
    fn recorded_attempts_judge_a_limit_as_a_run_does() {
        let limiters = [
            "limiter = \"fixed-window\"",
            "limiter = \"fixed-window\"\nalign = \"first-call\"",
            "limiter = \"sliding-log\"\ncount_rejected = true",
            "limiter = \"sliding-counter\"",
            "limiter = \"token-bucket\"\nburst = 3",
            "limiter = \"leaky-bucket\"\nburst = 2\nnodelay = true",
            "limiter = \"fixed-window\"\nwindows = [{ window = \"1s\" }, { window = \"10s\", limit = 40 }]\nunits = { limit = 3000, window = \"1m\" }",
        ];
        for limiter in limiters {
            let units = limiter.contains("units");
            let (cost_one, cost_two) = match units {
                true => ("cost = { dist = \"uniform\", min = 1, max = 90 }\n", "cost = 7\n"),
                false => ("", ""),
            };
            let text = format!(
                r#"name = "fixed"
seed = 5
start = "2026-11-26T09:00:00.25+08:00"
duration = "3m"
[server]
plan_change = "reset"
[[api]]
name = "A"
latency = {{ dist = "exponential", mean = "300ms" }}
{limiter}
[[api]]
name = "B"
latency = {{ dist = "constant", mean = "100ms" }}
[[account]]
name = "acme"
[[account.plan]]
type = "prepaid-qps"
api = "A"
qps = 9
from = "2026-11-26T09:01:00+08:00"
until = "2026-11-26T09:02:00+08:00"
[[client]]
name = "one"
account = "acme"
api = "A"
model = "open"
rate = 4
retry = {{ policy = "none" }}
{cost_one}
[[client]]
name = "two"
account = "acme"
mix = [{{ api = "A", weight = 1 }}, {{ api = "B", weight = 1 }}]
model = "open"
rate = 3
arrivals = "constant"
retry = {{ policy = "none" }}
{cost_two}
"#
            );
            let sc = Scenario::parse(&text, "fixed.toml").unwrap_or_else(|e| panic!("{limiter}: {e}"));
            let pair = (0, 0);
            assert!(fixed_attempts(&sc, pair), "{limiter}");
            let aim = Aim { under_ppm: 10_000, skip_bad_rows: false };
            let budget = crate::guard::budget();
            let fixed = record(&sc, pair, aim, budget).unwrap();
            assert!(fixed.as_ref().is_some_and(|f| f.attempts() > 500), "{limiter}");
            let r = Runs { sc: &sc, pair, aim, budget, done: Default::default(), passes: Default::default(), fixed };
            for q in 1..=12 {
                let m = pair_metrics(&sc, pair, Some(q), aim, budget).unwrap().unwrap();
                let c = r.at(q as u64).unwrap().unwrap();
                assert_eq!(c.rate, m.throttle_rate, "{limiter} at {q} QPS");
                assert_eq!(c.met, aim.met(&m), "{limiter} at {q} QPS");
            }
        }
    }

    /// Retries, a pacer, closed threads or a leaky bucket that makes attempts wait: the attempts depend on
    /// the limit, so they are simulated.
    #[test]
    fn attempts_that_depend_on_the_limit_are_not_recorded() {
        let base = r#"name = "x"
start = "2026-11-26T09:00:00+08:00"
duration = "1m"
[[api]]
name = "A"
latency = { dist = "constant", mean = "100ms" }
LIMITER
[[account]]
name = "acme"
[[client]]
name = "c"
account = "acme"
api = "A"
CLIENT
"#;
        let open_none = "model = \"open\"\nrate = 3\nretry = { policy = \"none\" }";
        for (limiter, client, fixed) in [
            ("", open_none, true),
            ("", "model = \"open\"\nrate = 3", false),
            ("", "model = \"open\"\nrate = 3\nretry = { policy = \"none\" }\npace = { rate = 2 }", false),
            ("", "model = \"closed\"\nthreads = 2\nretry = { policy = \"none\" }", false),
            ("limiter = \"leaky-bucket\"\nburst = 2", open_none, false),
            ("limiter = \"leaky-bucket\"\nburst = 2\nnodelay = true", open_none, true),
        ] {
            let sc = Scenario::parse(&base.replace("LIMITER", limiter).replace("CLIENT", client), "x.toml").unwrap();
            assert_eq!(fixed_attempts(&sc, (0, 0)), fixed, "{limiter} / {client}");
        }
    }
}
