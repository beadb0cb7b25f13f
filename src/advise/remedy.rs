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
use crate::workload::{BudgetScope, ClientModel, Pace};
use rayon::prelude::*;

/// Values evaluated per pair after the bracket, at most (then a coarser resolution).
pub const MAX_VALUES: u64 = 128;
/// The confirmation's work in attempts, beyond four of the run's own: a few seconds on two cores.
pub const BUDGET: f64 = 2e7;
/// Seeds the throttle rate at the answer is measured over (the run's own among them).
pub const SEEDS: u32 = 8;
/// No least-QPS search goes past this.
const CEILING: u64 = super::MAX_QPS as u64;
/// A confirming run may make this many times the run's own attempts (at least [`MIN_PER_RUN`]) before it
/// is stopped and its value left out.
pub const PER_RUN: u64 = 4;
pub const MIN_PER_RUN: u64 = 100_000;
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
    let runs = ((BUDGET / per_run) as u64 + 4).max(16);
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
    let r = Runs { sc, pair: (account, api), aim, budget, done: Default::default() };
    let max_values = runs.saturating_sub(2 * SEEDS as u64 + 20).clamp(8, MAX_VALUES);
    let seeds = (runs / 8).clamp(2, SEEDS as u64) as u32;
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
    v.remedy.method = format!(
        "the engine: {} simulations of this run's own workload, the limit held for the whole run",
        r.done.load(std::sync::atomic::Ordering::Relaxed)
    );
    v.remedy.check = Some(RemedyCheck { simulations: r.done.into_inner(), ..check });
    v.remedy.confirmed = true;
    v.remedy.target_rate = aim.rate();
    Ok(())
}

/// The least QPS held for the whole run that throttles the pair under the aim, from the estimate.
fn least_qps(r: &Runs<'_>, estimate: u64, max_values: u64, seeds: u32) -> Result<RemedyCheck, Error> {
    let found = scan::scan(estimate, CEILING, Direction::Up, max_values, |q| r.candidate(r.sc, Some(q as u32)))?;
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
                None => r.candidate(r.sc, Some(q as u32))?.map(|c| (c.met, c.rate)),
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
