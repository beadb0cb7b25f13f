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
    /// The least QPS estimated to throttle under 1 %.
    pub qps: u64,
    /// How `qps` was estimated.
    pub method: String,
    /// The most QPS the platform sells for this API's category.
    pub purchasable_max_qps: u32,
    /// For a pair called by one closed-loop (or batch) client: the threads that fit today's limit.
    pub threads_that_fit: Option<u64>,
    /// A client-side pace that would keep the callers under today's limit.
    pub pace_qps: Option<u32>,
    /// The `quotasim advise` target that confirms the estimate by simulation.
    pub advise_target: String,
    /// Throttles for want of units, when they are most of the throttles: then the unit limit binds and
    /// more QPS alone would not close the gap.
    pub units_bind: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Headroom {
    pub account: String,
    pub api: String,
    /// The busiest bin's admitted calls per second.
    pub peak_qps: f64,
    pub limit_qps: u32,
}
