//! The summary of a run: the totals, one entry per (account, API) and per (account, sub-account, API), and
//! the time series per (account, API). Built once from the engine's output; every writer reads this.

use super::billing::{AccountBill, bills, plan_name};
use crate::engine::RunOutput;
use crate::quota::LimitChange;
use crate::scenario::Scenario;
use crate::stats::{Bin, Cell, Metrics};
use crate::time::{Nanos, secs_f64};
use crate::workload::ClientModel;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ApiEntry {
    pub account: String,
    pub api: String,
    pub category: &'static str,
    #[serde(flatten)]
    pub metrics: Metrics,
    /// The clairvoyant bound beside the run's own completion (see [`crate::bound`]), where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<BoundEntry>,
    /// When the run's last request of this pair ended, and whether every request had ended by then.
    #[serde(skip)]
    pub last_end: Option<Nanos>,
    /// The run's mean response time from arrival to reply (see [`crate::bound::PairBound`]), in seconds.
    #[serde(skip)]
    pub response_mean_s: f64,
}

/// The bound of one (account, API) and how the run compares: its last completion over the bound's, and
/// its mean time from a request's start to its reply over the bound's.
#[derive(Debug, Serialize, Clone, Copy, PartialEq)]
pub struct BoundEntry {
    #[serde(flatten)]
    pub bound: crate::bound::PairBound,
    /// The run's last completion (null: some request had not ended by the end of the run).
    pub run_last_s: Option<f64>,
    /// The run's mean response time, measured as the bound's.
    pub run_mean_s: f64,
    pub last_ratio: Option<f64>,
    pub mean_ratio: Option<f64>,
}

/// One plan period of one (account, API): from one limit change to the next.
#[derive(Debug, Serialize)]
pub struct PhaseEntry {
    pub account: String,
    pub api: String,
    /// `prepaid-qps`, `resource-package` or `pay-as-you-go`.
    pub plan: &'static str,
    /// The plan's name in the scenario (`pay-as-you-go` for that one).
    pub plan_name: String,
    pub from: String,
    pub until: String,
    pub limit_qps: u32,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// One (account, sub-account, API) row: its names and the cell that counted it; the metrics are made
/// when asked for (see [`SubAccountRows`]).
#[derive(Clone, Copy, Debug)]
pub struct SubAccountRow<'a> {
    pub account: &'a str,
    pub sub_account: &'a str,
    pub api: &'a str,
    pub cell: &'a Cell,
    duration: Nanos,
}

impl SubAccountRow<'_> {
    pub fn metrics(&self) -> Metrics {
        self.cell.metrics(self.duration)
    }
}

impl Serialize for SubAccountRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CallerEntry { account: self.account, sub_account: self.sub_account, api: self.api, metrics: self.metrics() }
            .serialize(serializer)
    }
}

/// Every (account, sub-account, API) row of a run, in (sub-account, API) order, kept as the recorder's
/// cells and turned into metrics as each row is read or written: a million callers' rows made into
/// summary entries up front would take 300 MB beside the cells they come from.
#[derive(Debug, Default)]
pub struct SubAccountRows {
    /// (sub-account, API, cell), the cell [`NO_CELL`] for a pair no request reached.
    rows: Vec<(u32, u32, u32)>,
    cells: Vec<Cell>,
    sub_accounts: Vec<crate::scenario::SubAccount>,
    accounts: Vec<String>,
    apis: Vec<String>,
    empty: Cell,
    duration: Nanos,
}

const NO_CELL: u32 = u32::MAX;

impl SubAccountRows {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, i: usize) -> SubAccountRow<'_> {
        let (sub, api, cell) = self.rows[i];
        let s = &self.sub_accounts[sub as usize];
        SubAccountRow {
            account: &self.accounts[s.account],
            sub_account: &s.name,
            api: &self.apis[api as usize],
            cell: if cell == NO_CELL { &self.empty } else { &self.cells[cell as usize] },
            duration: self.duration,
        }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = SubAccountRow<'_>> + '_ {
        (0..self.rows.len()).map(|i| self.get(i))
    }
}

/// The first `k` of `rows` in `order` (a total order), in that order: what sorting all of them and
/// keeping `k` gives, in linear time, for a million callers of whom a page shows a few.
pub fn first_k(mut rows: Vec<u32>, k: usize, order: impl Fn(&u32, &u32) -> std::cmp::Ordering) -> Vec<u32> {
    if k == 0 {
        return Vec::new();
    }
    if rows.len() > k {
        rows.select_nth_unstable_by(k - 1, &order);
        rows.truncate(k);
    }
    rows.sort_unstable_by(order);
    rows
}

/// The most rows summary.json lists in `by_sub_account`: past it (a replay of many callers), a person
/// could not open the file, and a program would rather read summary.csv's table.
pub const CALLERS_IN_JSON: usize = 1_000;
/// How many callers `top_callers` names in each order by default (`run --top N`).
pub const TOP_CALLERS: usize = 20;

/// In place of `by_sub_account` when there are more than [`CALLERS_IN_JSON`] rows: how many, the file
/// that holds them, and the first `n` by throttles and by requests.
#[derive(Debug, Serialize)]
pub struct TopCallers {
    pub rows: usize,
    pub file: &'static str,
    pub by_throttles: Vec<CallerEntry>,
    pub by_requests: Vec<CallerEntry>,
}

/// One (account, sub-account, API) row as summary.json writes it, in `by_sub_account` (names borrowed)
/// and in [`TopCallers`] (owned).
#[derive(Debug, Serialize)]
pub struct CallerEntry<S = String> {
    pub account: S,
    pub sub_account: S,
    pub api: S,
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl SubAccountRows {
    /// Whether summary.json leaves the rows to summary.csv (see [`CALLERS_IN_JSON`]).
    pub fn moved_out(&self) -> bool {
        self.rows.len() > CALLERS_IN_JSON
    }

    /// The first `n` rows by `key` (largest first, ties in row order).
    fn top(&self, n: usize, key: impl Fn(&Cell) -> u64) -> Vec<CallerEntry> {
        let order: Vec<u32> = (0..self.rows.len() as u32).collect();
        let key_of = |i: u32| key(self.get(i as usize).cell);
        first_k(order, n, |a, b| key_of(*b).cmp(&key_of(*a)).then(a.cmp(b)))
            .into_iter()
            .map(|i| {
                let row = self.get(i as usize);
                CallerEntry {
                    account: row.account.to_string(),
                    sub_account: row.sub_account.to_string(),
                    api: row.api.to_string(),
                    metrics: row.metrics(),
                }
            })
            .collect()
    }
}

impl Report {
    /// Names the top `n` callers in summary.json when its rows go to summary.csv instead.
    pub fn digest_callers(&mut self, n: usize) {
        let rows = &self.summary.by_sub_account;
        self.summary.top_callers = rows.moved_out().then(|| TopCallers {
            rows: rows.len(),
            file: "summary.csv",
            by_throttles: rows.top(n, |c| c.throttled),
            by_requests: rows.top(n, |c| c.requests),
        });
    }
}

impl Serialize for SubAccountRows {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A batch client's backlog: how long it took against the floor its limits allow.
#[derive(Debug, Serialize)]
pub struct BatchEntry {
    pub client: String,
    pub account: String,
    pub requests: u64,
    pub threads: u32,
    /// When the last request finished (admitted or given up), in seconds since the start; null if the run
    /// ended first.
    pub makespan_s: Option<f64>,
    /// No schedule can finish sooner (see [`batch_floor`]). `limit_qps` is the sum, over the APIs the
    /// client calls, of the highest limit each had while the batch ran (until it finished, or the run ended).
    pub floor_s: f64,
    /// When the clairvoyant schedule finishes this batch (see [`crate::bound`]), when it was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound_s: Option<Option<f64>>,
    pub limit_qps: u32,
    /// The APIs it calls (for the chart, which marks the batch on their panels only).
    #[serde(skip)]
    pub apis: Vec<String>,
}

/// What a trace client read: rows, malformed rows skipped, rows before the start (not replayed).
#[derive(Debug, Serialize)]
pub struct TraceEntry {
    pub client: String,
    pub rows: u64,
    pub skipped_rows: u64,
    pub rows_before_start: u64,
    /// When the client's work was done (every row read and every request ended), in seconds since the
    /// start; null when the run ended first.
    pub completion_s: Option<f64>,
    /// When the clairvoyant schedule finishes it (see [`crate::bound`]), when it was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound_s: Option<Option<f64>>,
}

/// `summary.json`, field for field.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    /// The quotasim that ran it and the SHA-256 of the scenario file's bytes, so a result can be traced to
    /// its inputs (set by `run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotasim_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_sha256: Option<String>,
    pub duration_s: f64,
    pub start: String,
    /// Width of the time-series bins, in seconds.
    pub bin_s: f64,
    pub totals: Metrics,
    pub by_api: Vec<ApiEntry>,
    /// Every (account, sub-account, API) row, up to [`CALLERS_IN_JSON`] of them; past that summary.json
    /// gives `top_callers` instead and summary.csv holds every row.
    #[serde(skip_serializing_if = "SubAccountRows::moved_out")]
    pub by_sub_account: SubAccountRows,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_callers: Option<TopCallers>,
    pub phases: Vec<PhaseEntry>,
    pub billing: Vec<AccountBill>,
    pub batches: Vec<BatchEntry>,
    pub traces: Vec<TraceEntry>,
    /// What the run means for its callers (see [`super::verdict`]); made by the commands that show it, not
    /// by the replications of sweeps and advice, which read numbers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<super::verdict::data::Verdict>,
}

/// How many sub-accounts a quota's timeline names; the others are drawn together.
pub const TOP_SUB_ACCOUNTS: usize = 5;

/// The time series of one (account, API).
#[derive(Debug)]
pub struct Series {
    pub account: String,
    pub api: String,
    pub bins: Vec<Bin>,
    /// Units admitted and throttled, and attempts the unit limit refused, per bin, when the quota has a
    /// unit limit.
    pub units: Option<Vec<[u64; 3]>>,
    /// When several sub-accounts call this quota (and it is among the first the timeline draws): the
    /// busiest [`TOP_SUB_ACCOUNTS`] by name and the rest together, each with its attempts per chart bin
    /// (of `sub_bin`).
    pub sub_accounts: Vec<(String, Vec<u32>)>,
    pub sub_bin: Nanos,
    /// How many sub-accounts called this quota.
    pub callers: usize,
    /// Every limit in force during the run, in time order.
    pub limits: Vec<LimitChange>,
    /// The API's limiter: its windows and unit limit, for drawing each limit at its own scale.
    pub limiter: crate::quota::LimiterSpec,
}

/// Everything the writers need.
#[derive(Debug)]
pub struct Report {
    pub summary: Summary,
    pub series: Vec<Series>,
    pub bin: u64,
    /// The start on the scenario's wall clock and its offset (`+08:00`), for clock-time axes.
    pub clock_origin: Option<(jiff::civil::DateTime, String)>,
}

impl Report {
    /// The report of `out`, which it takes: the per-sub-account rows keep the recorder's cells.
    pub fn new(sc: &Scenario, mut out: RunOutput) -> Report {
        let rec = &out.recorder;
        let per_quota = rec.quota_cells(out.quota_pairs.len());
        let mut totals = Cell::default();
        let mut by_api = Vec::with_capacity(out.quota_pairs.len());
        let mut phases = Vec::new();
        let mut series = Vec::with_capacity(out.quota_pairs.len());
        let callers_of = rec.callers();
        for (q, &(account, api)) in out.quota_pairs.iter().enumerate() {
            let (acc, a) = (&sc.accounts[account], &sc.apis[api]);
            let cell = &per_quota[q];
            totals.add(cell);
            let history = out.quotas[q].history();
            for (i, change) in history.iter().enumerate() {
                let until = history.get(i + 1).map_or(sc.duration, |next| next.at);
                phases.push(PhaseEntry {
                    account: acc.name.clone(),
                    api: a.name.clone(),
                    plan: change.plan.kind().name(),
                    plan_name: plan_name(sc, change.plan).to_string(),
                    from: sc.instant_text(change.at),
                    until: sc.instant_text(until),
                    limit_qps: change.limit_qps,
                    // No phase cells: one plan all along, whose counts are the quota's.
                    metrics: rec.phases[q].get(i).unwrap_or(cell).metrics(until - change.at),
                });
            }
            by_api.push(ApiEntry {
                account: acc.name.clone(),
                api: a.name.clone(),
                category: a.category.name(),
                metrics: cell.metrics(sc.duration),
                bound: None,
                last_end: out.quota_last[q].filter(|_| cell.requests == cell.admitted + cell.gave_up),
                response_mean_s: match out.quota_response[q] {
                    (0, _) => 0.0,
                    (n, sum) => sum as f64 / n as f64 / crate::time::NANOS_PER_SEC as f64,
                },
            });
            let bins = match rec.series(q) {
                [] => vec![Bin::default(); rec.bins_per_quota],
                bins => bins.to_vec(),
            };
            let units = out.quotas[q].has_units().then(|| match rec.unit_series(q) {
                [] => vec![[0; 3]; rec.bins_per_quota],
                units => units.to_vec(),
            });
            // Who sent the attempts, when several sub-accounts share the quota: the busiest few by name, the
            // rest together.
            let callers = rec.top_callers(q, TOP_SUB_ACCOUNTS + 1);
            let sub_accounts = if callers.len() > 1 {
                let k = (rec.sub_bin / rec.bin).max(1) as usize;
                let mut rest: Vec<u32> =
                    bins.chunks(k).map(|c| c.iter().map(|b| (b.admitted + b.throttled) as u32).sum()).collect();
                rest.resize(rec.chart_bins(), 0);
                let shown = callers.len().min(TOP_SUB_ACCOUNTS);
                let mut named: Vec<(String, Vec<u32>)> = callers
                    .into_iter()
                    .take(shown)
                    .map(|(c, counts)| (out.sub_accounts[rec.cell_keys[c].sub_account as usize].name.clone(), counts))
                    .collect();
                for (_, counts) in &named {
                    for (r, n) in rest.iter_mut().zip(counts) {
                        *r = r.saturating_sub(*n);
                    }
                }
                if rest.iter().any(|&n| n > 0) {
                    named.push(("other sub-accounts".into(), rest));
                }
                named
            } else {
                Vec::new()
            };
            series.push(Series {
                account: acc.name.clone(),
                api: a.name.clone(),
                bins,
                units,
                sub_accounts,
                sub_bin: rec.sub_bin,
                callers: callers_of[q],
                limits: history.to_vec(),
                limiter: a.limiter.clone(),
            });
        }

        // Every cell that saw a request, and every (sub-account, API) a client calls from its own
        // sub-account, in (sub-account, API) order.
        let mut rows: Vec<(usize, usize)> = (rec.cells.iter().zip(&rec.cell_keys))
            .filter(|(c, _)| c.requests > 0)
            .map(|(_, k)| (k.sub_account as usize, k.api as usize))
            .chain(
                sc.clients
                    .iter()
                    .filter(|c| c.uses_own_sub_account())
                    .flat_map(|c| c.apis.apis().iter().map(move |&api| (c.sub_account, api))),
            )
            .collect();
        rows.sort_unstable();
        rows.dedup();
        let rows = rows.into_iter().map(|(sub, api)| {
            let cell = rec.find_cell(sub, api).map_or(NO_CELL, |c| c as u32);
            (sub as u32, api as u32, cell)
        });
        let rows = rows.collect();
        let billing = bills(sc, &out);
        let batches = batches(sc, &out);
        let bin = rec.bin;
        let by_sub_account = SubAccountRows {
            rows,
            cells: std::mem::take(&mut out.recorder.cells),
            sub_accounts: std::mem::take(&mut out.sub_accounts),
            accounts: sc.accounts.iter().map(|a| a.name.clone()).collect(),
            apis: sc.apis.iter().map(|a| a.name.clone()).collect(),
            empty: Cell::default(),
            duration: sc.duration,
        };

        let summary = Summary {
            scenario: sc.name.clone(),
            seed: sc.seed,
            quotasim_version: None,
            scenario_sha256: None,
            duration_s: secs_f64(sc.duration),
            start: sc.instant_text(0),
            bin_s: secs_f64(bin),
            totals: totals.metrics(sc.duration),
            by_api,
            by_sub_account,
            top_callers: None,
            phases,
            billing,
            batches,
            traces: out
                .traces
                .iter()
                .map(|t| TraceEntry {
                    client: sc.clients[t.client].name.clone(),
                    rows: t.rows,
                    skipped_rows: t.skipped_rows,
                    rows_before_start: t.rows_before_start,
                    completion_s: out.client_done[t.client].map(secs_f64),
                    bound_s: None,
                })
                .collect(),
            verdict: None,
        };
        let clock_origin = Some((sc.offset.to_datetime(sc.start), sc.offset.to_string()));
        Report { summary, series, bin, clock_origin }
    }
}

impl Report {
    /// Puts the clairvoyant bound beside each pair, batch and trace client that has one.
    pub fn attach_bound(&mut self, sc: &Scenario, bound: &crate::bound::Bound) {
        for (entry, pair) in self.summary.by_api.iter_mut().zip(&bound.pairs) {
            entry.bound = pair.map(|b| {
                let run_last_s = entry.last_end.map(secs_f64);
                let ratio = |run: f64, best: f64| (best > 0.0).then(|| run / best);
                // The run compares only when it completed the same requests: every one, as the bound does
                // (a run that gave some up ends sooner by leaving them out).
                let m = &entry.metrics;
                let same = m.admitted == m.requests && b.completed == m.requests;
                BoundEntry {
                    bound: b,
                    run_last_s,
                    run_mean_s: entry.response_mean_s,
                    last_ratio: run_last_s.zip(b.last_s).filter(|_| same).and_then(|(r, b)| ratio(r, b)),
                    mean_ratio: if same { ratio(entry.response_mean_s, b.mean_s) } else { None },
                }
            });
        }
        let name_of = |c: usize| sc.clients[c].name.as_str();
        for entry in &mut self.summary.batches {
            let c = (0..sc.clients.len()).find(|&c| name_of(c) == entry.client);
            entry.bound_s = c.map(|c| bound.clients[c].map(secs_f64));
        }
        for entry in &mut self.summary.traces {
            let c = (0..sc.clients.len()).find(|&c| name_of(c) == entry.client);
            entry.bound_s = c.map(|c| bound.clients[c].map(secs_f64));
        }
    }
}

fn batches(sc: &Scenario, out: &RunOutput) -> Vec<BatchEntry> {
    let entries = sc.clients.iter().zip(&out.batch_done).filter_map(|(c, done)| {
        let ClientModel::Batch { threads, requests, .. } = c.model else { return None };
        // The batch ran until it finished (or the run ended): the limits it met are those in force then.
        let ran_until = done.unwrap_or(sc.duration);
        let quotas: Vec<FloorQuota<'_>> = c
            .apis
            .apis()
            .iter()
            .filter_map(|&api| out.quota_of(c.account, api).map(|q| (api, q)))
            .map(|(api, q)| FloorQuota {
                spec: &sc.apis[api].limiter,
                limits: out.quotas[q].history(),
                shortest: sc.apis[api].latency.min(),
            })
            .collect();
        let limit_qps = quotas
            .iter()
            .map(|q| q.limits.iter().filter(|l| l.at <= ran_until).map(|l| l.limit_qps).max().unwrap_or(0))
            .sum();
        Some(BatchEntry {
            client: c.name.clone(),
            account: sc.accounts[c.account].name.clone(),
            requests,
            threads,
            makespan_s: done.map(secs_f64),
            floor_s: batch_floor(&quotas, requests, sc.start.as_nanosecond()),
            bound_s: None,
            limit_qps,
            apis: c.apis.apis().iter().map(|&a| sc.apis[a].name.clone()).collect(),
        })
    });
    entries.collect()
}

/// One quota a batch calls, as its floor sees it: the limiter, every limit in force during the run (time
/// ordered, the first at 0) and the API's shortest response.
pub struct FloorQuota<'a> {
    pub spec: &'a crate::quota::LimiterSpec,
    pub limits: &'a [crate::quota::LimitChange],
    pub shortest: Nanos,
}

impl FloorQuota<'_> {
    /// At most how many attempts the quota can admit in [0, t]: an upper bound whatever the timing of the
    /// calls. A windowed limiter admits at most its capacity per window opening, and a window opens at the
    /// start, at every boundary of its grid (the clock's for clock-aligned windows, else from the start:
    /// windows that open at a first call open no more often) and afresh at every limit change; a bucket
    /// admits its burst at the start and at every change, then its rate.
    fn admitted_by(&self, t: Nanos, start_ns: i128) -> f64 {
        let rule = &self.spec.rule;
        let mut total = 0.0;
        for (i, change) in self.limits.iter().enumerate() {
            if change.at > t {
                break;
            }
            let next = self.limits.get(i + 1).filter(|n| n.at <= t);
            let until = next.map_or(t, |n| n.at);
            let capacity = self.spec.limit.unwrap_or_else(|| rule.capacity(change.limit_qps));
            // A boundary falling on the next change is that change's own opening.
            total += rule.most_admitted(capacity, change.limit_qps, (change.at, until), start_ns, next.is_none());
        }
        total
    }
}

/// A lower bound on a batch's makespan: the last of `requests` cannot be admitted before the limiters, with
/// the limits in force when, allow that many (the earliest instant [`FloorQuota::admitted_by`] reaches
/// it), and then takes at least the shortest response. With one windowed limiter of capacity C per window
/// W and one limit, that is (ceil(N / C) − 1) windows, or, for a clock window that the start falls inside,
/// (ceil(N / C) − 2) W after the first window's end. Infinite when the limits never allow that many.
pub fn batch_floor(quotas: &[FloorQuota<'_>], requests: u64, start_ns: i128) -> f64 {
    let shortest = quotas.iter().map(|q| q.shortest).min().unwrap_or(0);
    let need = requests as f64;
    let admitted = |t: Nanos| quotas.iter().map(|q| q.admitted_by(t, start_ns)).sum::<f64>();
    if need <= 0.0 || admitted(0) >= need {
        return secs_f64(shortest);
    }
    // Doubling then bisection over whole nanoseconds: the least t at which enough can be admitted.
    let mut high: Nanos = crate::time::NANOS_PER_SEC;
    while admitted(high) < need {
        if high > Nanos::MAX / 4 {
            return f64::INFINITY;
        }
        high *= 2;
    }
    let mut low: Nanos = 0;
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if admitted(mid) >= need { high = mid } else { low = mid }
    }
    secs_f64(high) + secs_f64(shortest)
}

#[cfg(test)]
mod tests {
    use super::first_k;
    use proptest::prelude::*;

    proptest! {
        /// The first k by a key with ties broken by position are a stable sort's first k; the test fails
        /// if the selection keeps the wrong side or the wrong count.
        #[test]
        fn first_k_is_a_sorts_first_k(keys in prop::collection::vec(0u8..4, 0..60), k in 0usize..70) {
            let rows: Vec<u32> = (0..keys.len() as u32).collect();
            let order = |a: &u32, b: &u32| keys[*b as usize].cmp(&keys[*a as usize]).then(a.cmp(b));
            let mut sorted = rows.clone();
            sorted.sort_by_key(|&i| std::cmp::Reverse(keys[i as usize]));
            sorted.truncate(k);
            prop_assert_eq!(first_k(rows, k, order), sorted);
        }
    }
}
