//! Replications, in one place for sweeps, advice and validation: the seed of each (point, replication),
//! the thread pool, the parallel loop whose results come back in order whatever the thread count, and the
//! numbers a replication is read as, straight from the run's counts (no time series, charts or sub-account
//! rows built for them).

use crate::Error;
use crate::engine::{self, RunOptions, RunOutput};
use crate::rng::mix64;
use crate::scenario::Scenario;
use crate::stats::{Cell, Metrics};
use crate::time::Nanos;
use rayon::prelude::*;

pub mod estimate;

/// The seed of replication `rep` of point `point`.
pub fn seed_for(scenario_seed: u64, point: usize, rep: u32) -> u64 {
    mix64(mix64(mix64(scenario_seed) ^ point as u64) ^ u64::from(rep))
}

/// A pool of `jobs` threads (all cores if `None`).
pub fn pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::BadInput(format!("--jobs: {e}")))
}

/// `run(point, rep)` for every replication of every point, in parallel (on the pool the caller is in),
/// the results in (point, replication) order; the first error ends it.
pub fn each<T: Send>(
    points: usize,
    reps: u32,
    run: impl Fn(usize, u32) -> Result<T, Error> + Sync + Send,
) -> Result<Vec<T>, Error> {
    let tasks: Vec<(usize, u32)> = (0..points).flat_map(|p| (0..reps).map(move |r| (p, r))).collect();
    tasks.par_iter().map(|&(p, r)| run(p, r)).collect()
}

/// What a replication is read as: the totals, each (account, API)'s metrics and its limit averaged over
/// the run, and the bill when prices are given.
#[derive(Clone, Debug)]
pub struct Numbers {
    pub totals: Metrics,
    /// Per quota, in the run's quota order: (account, API) by index, and its metrics.
    pub by_pair: Vec<((usize, usize), Metrics)>,
    /// Per quota, the limit in force averaged over the run (QPS).
    pub mean_limits: Vec<f64>,
    pub cost: Option<f64>,
    /// When the last request of the pairs that have a clairvoyant bound completed, if every request of
    /// theirs was admitted (None otherwise, or without such pairs).
    pub completion: Option<Nanos>,
}

/// Runs `sc` once (with `held`: one (account, API)'s limit held for the whole run) and reads its
/// [`Numbers`].
pub fn run(sc: &Scenario, held: Option<((usize, usize), u32)>) -> Result<Numbers, Error> {
    let out = engine::run(sc, RunOptions { held, ..RunOptions::for_scenario(sc) })?;
    Ok(numbers(sc, &out))
}

/// A run's [`Numbers`], summed from its cells the way the full report sums them (same order, same
/// values, byte for byte).
pub fn numbers(sc: &Scenario, out: &RunOutput) -> Numbers {
    let per_quota = out.recorder.quota_cells(out.quota_pairs.len());
    let mut totals = Cell::default();
    for cell in &per_quota {
        totals.add(cell);
    }
    let by_pair = out.quota_pairs.iter().copied().zip(per_quota.iter().map(|c| c.metrics(sc.duration))).collect();
    let mean_limits = out.quotas.iter().map(|q| mean_limit(q.history(), sc.duration)).collect();
    let bills = crate::report::billing::bills(sc, out);
    let priced = bills.iter().any(|b| b.cost.is_some());
    let has_bound = crate::bound::bounded(sc, &out.quota_pairs);
    let bounded: Vec<usize> = (0..out.quota_pairs.len()).filter(|&q| has_bound[q]).collect();
    let all_admitted = bounded.iter().all(|&q| per_quota[q].requests == per_quota[q].admitted);
    let completion = bounded
        .iter()
        .map(|&q| out.quota_last[q])
        .try_fold(None, |last: Option<Nanos>, t| t.map(|t| Some(last.map_or(t, |l| l.max(t)))));
    Numbers {
        totals: totals.metrics(sc.duration),
        by_pair,
        mean_limits,
        cost: priced.then(|| bills.iter().filter_map(|b| b.cost).sum()),
        completion: completion.flatten().filter(|_| all_admitted),
    }
}

/// The limit in force averaged over a run of `duration`.
fn mean_limit(limits: &[crate::quota::LimitChange], duration: Nanos) -> f64 {
    limits
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let end = limits.get(i + 1).map_or(duration, |n| n.at);
            l.limit_qps as f64 * (end - l.at) as f64
        })
        .sum::<f64>()
        / duration as f64
}
