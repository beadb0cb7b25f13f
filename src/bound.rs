//! The clairvoyant bound: the yardstick no client strategy can beat. The same requests as the run (open
//! arrivals, trace rows, batch backlogs: requests that do not depend on what the platform answered), each
//! sent at the earliest instant the limiter and the plans in force admit it, in arrival order per (account,
//! API), never throttled, every reply and every think at its distribution's least value. A closed loop's
//! requests are made by its own replies, so a quota a closed client calls has no bound.
//!
//! Sending every request as early as the quota admits it, first come first served, admits the k-th request
//! no later than any schedule can (for every k at once), so the last completion and the mean are both
//! bounds. The schedule runs on the engine itself ([`RunOptions::clairvoyant`]), so plans, packages and
//! every limiter are those of the run.

use crate::Error;
use crate::engine::{self, RunOptions};
use crate::scenario::Scenario;
use crate::time::{NANOS_PER_SEC, Nanos, secs_f64};
use crate::workload::{ClientModel, RetryPolicy};
use serde::Serialize;

/// The bound of one (account, API): when its last request completes, and the requests' response times
/// from their arrival to their reply (a batch's requests all arrive at the start, so theirs are their
/// completion instants: the paper's completion time).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PairBound {
    /// When the last request completes, in seconds since the start (null: some request does not complete
    /// before the run ends even so).
    pub last_s: Option<f64>,
    pub mean_s: f64,
    pub p99_s: f64,
    /// Requests the bound serves before the end.
    pub completed: u64,
}

/// The bound of a run: per quota (in [`Scenario::quota_pairs`] order; None where a closed client calls
/// it), and per client when its work is done (batch and trace clients).
#[derive(Clone, Debug, Default)]
pub struct Bound {
    pub pairs: Vec<Option<PairBound>>,
    pub clients: Vec<Option<Nanos>>,
}

/// The scenario the bound runs: the same clients without their strategies (no pacer, adaptive throttle
/// or budget: the schedule itself never sends what the quota would refuse), and a batch's whole backlog
/// there at the start, as if it had a thread per request. A batch's threads make its next request wait
/// for its last reply, and which client's request goes first then matters; with the backlog all there,
/// first come first served is the best order, and a bound for every number of threads.
///
/// A backlog of more than [`RELAXED_THREADS`] requests gets that many threads (or its own, if more), so a
/// batch of 10^9 does not hold a slot per request: with that many waiting at the gate a thread is free
/// whenever the quota admits, unless it admits that many within one reply.
pub fn clairvoyant(sc: &Scenario) -> Scenario {
    let mut sc = sc.clone();
    for c in &mut sc.clients {
        c.pace = None;
        c.adaptive = None;
        c.budget = None;
        c.retry = RetryPolicy::None;
        if let ClientModel::Batch { threads, requests, ramp_up, .. } = &mut c.model {
            let all = u32::try_from(*requests).unwrap_or(u32::MAX);
            *threads = all.min(RELAXED_THREADS.max(*threads));
            *ramp_up = 0;
        }
    }
    sc
}

/// The most threads the bound gives a batch of its own accord (see [`clairvoyant`]).
pub const RELAXED_THREADS: u32 = 1 << 16;

/// Which of `pairs` (account, API) have a bound: those no closed loop calls. One pass over the clients.
pub fn bounded(sc: &Scenario, pairs: &[(usize, usize)]) -> Vec<bool> {
    let closed: std::collections::HashSet<(usize, usize)> = sc
        .clients
        .iter()
        .filter(|c| matches!(c.model, ClientModel::Closed { .. }))
        .flat_map(|c| c.apis.apis().iter().map(move |&api| (c.account, api)))
        .collect();
    pairs.iter().map(|pair| !closed.contains(pair)).collect()
}

/// Runs the clairvoyant schedule of `sc`.
pub fn run(sc: &Scenario, options: RunOptions) -> Result<Bound, Error> {
    let pairs = sc.quota_pairs();
    let closed: Vec<bool> = bounded(sc, &pairs).into_iter().map(|b| !b).collect();
    if closed.iter().all(|&c| c) {
        return Ok(Bound { pairs: vec![None; pairs.len()], clients: vec![None; sc.clients.len()] });
    }
    let bare = clairvoyant(sc);
    let out = engine::run(&bare, RunOptions { clairvoyant: true, ..options })?;
    let cells = out.recorder.quota_cells(out.quota_pairs.len());
    let mut responses = out.quota_responses;
    let pairs = (0..pairs.len())
        .map(|q| {
            (!closed[q]).then(|| {
                let cell = &cells[q];
                let unfinished = cell.requests > cell.admitted + cell.gave_up;
                let all = &mut responses[q];
                all.sort_unstable();
                let (n, sum) = out.quota_response[q];
                // The nearest rank: the smallest time at least 99 % of the requests are within.
                let p99 = all.get(((all.len() * 99).div_ceil(100)).max(1) - 1).copied().unwrap_or(0);
                PairBound {
                    last_s: out.quota_last[q].filter(|_| !unfinished).map(secs_f64),
                    mean_s: if n == 0 { 0.0 } else { sum as f64 / n as f64 / NANOS_PER_SEC as f64 },
                    p99_s: secs_f64(p99),
                    completed: n,
                }
            })
        })
        .collect();
    Ok(Bound { pairs, clients: out.client_done })
}

impl Bound {
    /// When the last request of every pair that has a bound completes (None if some does not, or no pair
    /// has one).
    pub fn completion(&self) -> Option<f64> {
        let lasts: Vec<Option<f64>> = self.pairs.iter().flatten().map(|p| p.last_s).collect();
        if lasts.is_empty() {
            return None;
        }
        lasts.into_iter().try_fold(0.0_f64, |m, l| l.map(|l| m.max(l)))
    }
}

/// The closed form of the bound for `n` requests sent at once against a token bucket of `rate` per
/// second and burst `burst`, every reply taking `reply`: the first `burst` go at once, then one every 1 /
/// `rate`, so the last is admitted at (n − burst) / rate and completes one reply later.
pub fn token_bucket_last(n: u64, rate: f64, burst: u64, reply: Nanos) -> f64 {
    (n.saturating_sub(burst)) as f64 / rate + secs_f64(reply)
}
