//! The verdict as data: what `summary.json`'s `verdict` holds, per (account, API) and for the run.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// Whether any (account, API) throttled.
    pub throttled: bool,
    /// The run's answer in one sentence.
    pub headline: String,
    /// The pairs that throttled, the most throttled first.
    pub pairs: Vec<PairVerdict>,
    /// Throttled pairs beyond those told.
    pub more_pairs: usize,
    /// For a run that never throttled: the pair closest to its limit.
    pub headroom: Option<Headroom>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PairVerdict {
    pub account: String,
    pub api: String,
    pub throttled: u64,
    pub throttle_rate: f64,
    pub demand: Demand,
    /// The limit in force in each plan period.
    pub limits: Vec<LimitPeriod>,
    /// The limit in force for the longest time, which the gap is measured against.
    pub limit_qps: u32,
    /// Mean demand over that limit.
    pub gap: f64,
    /// The stretches of time when more than 1 % of attempts were throttled: the largest few, in time order.
    pub episodes: Vec<Episode>,
    pub episodes_total: usize,
    /// The share of the run spent in those stretches.
    pub throttling_share: f64,
    /// The callers (sub-accounts, trace callers) that stand out: at least [`super::STANDS_OUT`] of the
    /// throttled attempts, by their share, the largest few.
    pub who: Vec<CallerShare>,
    pub callers: usize,
    /// The largest share of the throttles any one caller has, when several call.
    pub largest_share: Option<f64>,
    pub cost: CallerCost,
    pub remedy: Remedy,
    /// The same, in plain words, one sentence a line.
    pub words: Vec<String>,
}

/// What the callers would send if nothing were throttled.
#[derive(Clone, Debug, Serialize)]
pub struct Demand {
    pub mean_qps: f64,
    pub peak_qps: f64,
    /// Where the numbers come from: the model (`8 threads at 0.5 s`), or the log.
    pub basis: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LimitPeriod {
    pub from: String,
    pub until: String,
    pub plan: &'static str,
    pub limit_qps: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Episode {
    pub from: String,
    pub until: String,
    pub from_s: f64,
    pub until_s: f64,
    /// The busiest bin's attempts per second.
    pub peak_qps: f64,
    pub throttled: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallerShare {
    pub name: String,
    pub throttled_share: f64,
    /// Its share of the requests: of the demand.
    pub demand_share: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallerCost {
    pub latency_p50_s: f64,
    pub latency_p99_s: f64,
    /// The same percentiles of an unthrottled call (the API's response time), where the model knows it.
    pub service_p50_s: Option<f64>,
    pub service_p99_s: Option<f64>,
    pub attempts_per_request: f64,
    pub gave_up: u64,
    pub unfinished: u64,
    /// The account's bill, where priced.
    pub bill: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Remedy {
    /// The least QPS, held for the whole run, that throttles under `target_rate`: found by the engine on
    /// the run's own workload when `confirmed`, else the closed form's estimate.
    pub qps: u64,
    /// How `qps` was found.
    pub method: String,
    /// Whether `qps` was found by simulation (not with `--no-confirm`).
    pub confirmed: bool,
    /// The throttle rate the remedy stays under (0.01).
    pub target_rate: f64,
    /// The simulations behind a confirmed `qps`.
    pub check: Option<RemedyCheck>,
    /// The most QPS the platform sells for this API's category.
    pub purchasable_max_qps: u32,
    /// For a pair called by one closed-loop (or batch) client: the most threads that throttle under
    /// `target_rate` at today's plans (confirmed by simulation; none when even one thread does not).
    pub threads_that_fit: Option<u64>,
    pub threads_check: Option<ThreadsCheck>,
    /// A client-side pace that would keep the callers under today's limit.
    pub pace_qps: Option<u32>,
    /// What that pace does in a simulation of the run.
    pub pace_check: Option<PaceCheck>,
    /// The `quotasim advise` target that confirms the estimate by simulation.
    pub advise_target: String,
    /// Throttles for want of units, when they are most of the throttles: then the unit limit binds and
    /// more QPS alone would not close the gap.
    pub units_bind: Option<u64>,
}

/// How a remedy's QPS was confirmed: every value from 1 to `up_to` simulated (at `resolution`) on the
/// run's own workload and seed, the limit held for the whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RemedyCheck {
    /// The least value that throttles under the target (None: none up to `ceiling`).
    pub answer: Option<u64>,
    /// The closed form's estimate, where the search started.
    pub estimate_qps: u64,
    /// The throttle rate at the answer, in this run's workload.
    pub throttle_rate: Option<f64>,
    /// The value just below the answer and its throttle rate.
    pub below: Option<(u64, f64)>,
    /// The throttle rate at the answer over other seeds of the same workload (the run's own among them).
    pub seeds: Option<SeedSpread>,
    /// The least value this run's own workload throttles under the target at (the answer, unless the mean
    /// over the seeds was not under it there: then the answer is the next value where both are).
    pub least_in_this_run: Option<u64>,
    /// When the answer was moved up for the seeds' mean: the value it was moved from.
    pub seeds_moved_from: Option<u64>,
    /// The least value from which every evaluated value throttles under the target.
    pub all_meet_from: Option<u64>,
    /// Ranges of evaluated values above the answer that do not.
    pub failing: Vec<(u64, u64)>,
    pub up_to: u64,
    pub resolution: u64,
    /// Values evaluated.
    pub values: usize,
    /// When no value meets: the highest tried.
    pub ceiling: Option<u64>,
    /// Values left out: their runs passed the confirmation's work bound (a storm of retries far below
    /// today's limit, say).
    pub not_simulated: Vec<u64>,
    /// Simulations run for this pair (values, seeds, threads, pace, the recording).
    pub simulations: u64,
    /// When the pair's attempts do not depend on its limit (open arrivals or a log, no retries): how many
    /// there were, recorded in one run, and how many candidate limits they were passed through instead of
    /// a run each.
    pub recorded_attempts: Option<u64>,
    pub passes: u64,
}

/// A throttle rate over several seeds.
#[derive(Clone, Debug, Serialize)]
pub struct SeedSpread {
    pub seeds: u32,
    pub mean: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

/// The most threads of a lone closed client that throttle under the target at today's plans.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadsCheck {
    pub threads: Option<u64>,
    /// At `threads`, or at one thread when none meets.
    pub throttle_rate: Option<f64>,
    pub current: u64,
}

/// A pace at today's limit, simulated.
#[derive(Clone, Debug, Serialize)]
pub struct PaceCheck {
    pub throttle_rate: f64,
    pub latency_p99_s: f64,
    pub queued_p99_s: f64,
    pub unfinished: u64,
    /// One pacer shared by every client calling the pair (`scope = "account"`).
    pub shared: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Headroom {
    pub account: String,
    pub api: String,
    /// The busiest bin's admitted calls per second.
    pub peak_qps: f64,
    pub limit_qps: u32,
}
