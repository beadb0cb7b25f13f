//! What a run takes and gives: its options and work budget, its output, and the observer that may watch
//! every request and attempt (compiled out when unused).

use crate::quota::Quota;
use crate::quota::plans::PlanUsage;
use crate::scenario::{Scenario, SubAccount};
use crate::stats::Recorder;
use crate::time::Nanos;

pub use crate::guard::Budget;

/// What a trace client read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRead {
    pub client: usize,
    pub rows: u64,
    pub skipped_rows: u64,
    pub rows_before_start: u64,
}

/// What a run produced: the counts, each quota's limit history, the plans' use.
#[derive(Debug)]
pub struct RunOutput {
    pub recorder: Recorder,
    /// The (account, API) of each quota, sorted: the pairs some client can call (see
    /// [`Scenario::quota_pairs`]); `quotas` and the recorder's quota indices follow this order.
    pub quota_pairs: Vec<(usize, usize)>,
    pub quotas: Vec<Quota>,
    pub plans: PlanUsage,
    /// The scenario's sub-accounts, then those trace callers added, in order of appearance.
    pub sub_accounts: Vec<SubAccount>,
    /// Per client: when a batch client's last request finished (None for other clients, or unfinished).
    pub batch_done: Vec<Option<Nanos>>,
    /// Per client: when its work was done, for the clients that have a fixed amount of it: a batch's last
    /// request, or a trace's once every row was read and every request ended (None otherwise, or unfinished).
    pub client_done: Vec<Option<Nanos>>,
    /// Per quota: the instant its last request ended (admitted or given up), if any did.
    pub quota_last: Vec<Option<Nanos>>,
    /// Per quota: its admitted requests' response times, from arrival to reply (a batch's requests
    /// arrive at the start, all at once): how many, and their sum.
    pub quota_response: Vec<(u64, u128)>,
    /// Per quota, in the clairvoyant schedule only: each of those response times (for its p99).
    pub quota_responses: Vec<Vec<Nanos>>,
    pub traces: Vec<TraceRead>,
}

/// Options that shape the record of a run, or how it reads its input, but not the model.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Width of the time-series bins.
    pub bin: Nanos,
    /// Count and pass over malformed trace rows instead of stopping at the first.
    pub skip_bad_rows: bool,
    /// The most work the run may do before it stops with [`Error::TooLarge`].
    pub budget: Budget,
    /// One (account, API) whose limit is held at a QPS for the whole run, whatever its plans say (the
    /// least-QPS search of `advise` and the verdict's remedies try limits this way): its limiter never sees a
    /// plan change, so the run is that of a scenario whose only plan for it is that limit. `None` in a run
    /// as the scenario says.
    pub held: Option<((usize, usize), u32)>,
    /// Run the clairvoyant schedule instead of the clients (see [`crate::bound`]): an attempt the quota
    /// would refuse waits, in arrival order per quota, for the instant it would admit it; every reply and
    /// think takes its distribution's least value.
    pub clairvoyant: bool,
}

impl RunOptions {
    pub fn for_scenario(scenario: &Scenario) -> RunOptions {
        RunOptions {
            bin: crate::stats::auto_bin(scenario.duration, scenario.quota_pairs().len()),
            skip_bad_rows: false,
            budget: Budget::default(),
            held: None,
            clairvoyant: false,
        }
    }
}

/// One attempt as the platform (or the client, for one that never left) decided it, for a per-attempt
/// listing (`run --requests`).
#[derive(Clone, Copy, Debug)]
pub struct AttemptSeen<'a> {
    /// When it was decided: sent, refused by the client, or (for one a leaky bucket made wait) served.
    pub at: Nanos,
    /// The request's number in the order requests started, from 1.
    pub request: u64,
    pub account: &'a str,
    pub sub_account: &'a str,
    pub api: &'a str,
    /// 1 for the request's first attempt.
    pub attempt: u32,
    pub outcome: AttemptOutcome,
    /// For a trace replay, the row's line in its file.
    pub row: Option<u64>,
    /// The quota asked, by index into [`RunOutput::quota_pairs`], and the units the attempt asks for.
    pub quota: usize,
    pub cost: u64,
}

/// What became of one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Admitted,
    Throttled,
    /// An adaptive client refused it before it left (`rejected_locally`).
    RejectedLocally,
    /// A full pacing queue dropped it (`dropped`).
    Dropped,
}

impl AttemptOutcome {
    pub fn name(self) -> &'static str {
        match self {
            AttemptOutcome::Admitted => "admitted",
            AttemptOutcome::Throttled => "throttled",
            AttemptOutcome::RejectedLocally => "rejected_locally",
            AttemptOutcome::Dropped => "dropped",
        }
    }
}

/// Sees every request as it starts (for writing a run's arrivals as a trace), and, if it asks, every
/// attempt. The unit type sees nothing and costs nothing.
pub trait Observer {
    /// False for an observer that ignores requests, so the engine skips even looking up names.
    const ACTIVE: bool = true;
    /// True for an observer of attempts: only then does the engine keep each request's number and row.
    const ATTEMPTS: bool = false;
    fn request_started(&mut self, at: Nanos, account: &str, sub_account: &str, api: &str);
    /// Each attempt's outcome, in the order decided (only when [`Observer::ATTEMPTS`]).
    fn attempt(&mut self, _seen: &AttemptSeen<'_>) {}
    /// Called now and then (every [`PROGRESS_EVERY`] events) with the simulated time reached.
    fn progress(&mut self, _now: Nanos) {}
}

/// How many events pass between two calls of [`Observer::progress`].
pub const PROGRESS_EVERY: u64 = 1 << 16;

impl Observer for () {
    const ACTIVE: bool = false;
    #[inline]
    fn request_started(&mut self, _: Nanos, _: &str, _: &str, _: &str) {}
}

/// An observer that only reports progress, to `report(now)`.
pub struct Progress<F: FnMut(Nanos)>(pub F);

impl<F: FnMut(Nanos)> Observer for Progress<F> {
    const ACTIVE: bool = false;
    fn request_started(&mut self, _: Nanos, _: &str, _: &str, _: &str) {}
    fn progress(&mut self, now: Nanos) {
        (self.0)(now)
    }
}
