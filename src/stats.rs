//! Statistics: what the engine records while it runs, and the metrics computed from it afterwards.
//!
//! Recording is counters and latency sketches in flat arrays indexed by cell (sub-account × API) and by
//! time bin per quota (account × API), so the engine's loop does not allocate in steady state. Latencies go
//! into a [`Sketch`] (HDR buckets of 1 µs to 30 days at two significant digits, stored sparsely) beside an
//! exact sum and maximum, so the mean and max are exact and the percentiles within 1 %. A cell's sketch
//! costs nothing until it records and a few bytes per distinct bucket after, so a replayed log with a
//! hundred thousand callers costs memory in proportion to what they did, not to how many they are.

use crate::sketch::Sketch;
use crate::time::{NANOS_PER_SEC, Nanos, secs_f64};
use serde::Serialize;

/// Latencies of finished requests, end to end (retries included). The exact figures come first, so that
/// in a [`Cell`] they share a cache line with the counters (the sketch is visited far less often).
#[derive(Clone, Debug, Default)]
#[repr(C)]
pub struct Latency {
    count: u64,
    max_ns: u64,
    sum_ns: u128,
    sketch: Sketch,
}

impl Latency {
    #[inline]
    pub fn record(&mut self, ns: Nanos) {
        self.sketch.record(ns / 1_000);
        self.count += 1;
        self.sum_ns += ns as u128;
        self.max_ns = self.max_ns.max(ns);
    }

    /// Counts `ns` in the exact figures (count, sum, maximum) now, and returns the sketch slot to add later
    /// with [`Latency::add_slots`].
    #[inline]
    fn note(&mut self, ns: Nanos) -> u16 {
        self.count += 1;
        self.sum_ns += ns as u128;
        self.max_ns = self.max_ns.max(ns);
        Sketch::slot_of(ns / 1_000)
    }

    pub fn add(&mut self, other: &Latency) {
        self.sketch.merge(&other.sketch);
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.sketch.heap_bytes()
    }

    /// The summary over `total` values, of which those not recorded were zero (requests that got through
    /// without waiting in a pacer). Zeros are counted exactly, not as the sketch's smallest bucket.
    pub fn summary_with_zeros(&self, total: u64) -> LatencySummary {
        let zeros = total.saturating_sub(self.count);
        let all = self.count + zeros;
        if all == 0 || self.count == 0 {
            return LatencySummary::default();
        }
        let max_us = self.max_ns as f64 / 1e3;
        let q = |p: f64| {
            let rank = ((p * all as f64).ceil() as u64).max(1);
            if rank <= zeros {
                return 0.0;
            }
            let within = (rank - zeros) as f64 / self.count as f64;
            (self.sketch.value_at_quantile(within) as f64).min(max_us) / 1e6
        };
        LatencySummary {
            mean: self.sum_ns as f64 / all as f64 / 1e9,
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            max: secs_f64(self.max_ns),
        }
    }

    pub fn summary(&self) -> LatencySummary {
        if self.count == 0 {
            return LatencySummary::default();
        }
        // A bucket's top can lie above every value recorded: no percentile exceeds the maximum.
        let max_us = self.max_ns as f64 / 1e3;
        let q = |p: f64| (self.sketch.value_at_quantile(p) as f64).min(max_us) / 1e6;
        LatencySummary {
            mean: self.sum_ns as f64 / self.count as f64 / 1e9,
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            max: secs_f64(self.max_ns),
        }
    }
}

/// Counts for one (sub-account, API). Laid out so that everything a request touches while it runs (the
/// counters and the latency's exact figures) is one cache line: with many cells, one miss a request.
#[derive(Clone, Debug, Default)]
#[repr(C, align(64))]
pub struct Cell {
    pub requests: u64,
    pub admitted: u64,
    pub throttled: u64,
    pub gave_up: u64,
    pub latency: Latency,
    /// Given up because the retry budget refused a retry (also counted in `gave_up`). Rare: after the
    /// latency, off the hot cache line.
    pub budget_refused: u64,
    /// Dropped by a full client-side pacing queue before reaching the platform.
    pub dropped: u64,
    /// Rejected by the client's adaptive throttle before reaching the platform.
    pub rejected_locally: u64,
    /// Time requests that got through spent queued in a pacer; made at the first paced request.
    pub queued: Option<Box<Latency>>,
    /// Units of admitted and of throttled attempts, and the throttled attempts the unit limit refused,
    /// when the quota has a unit limit.
    pub units: Option<[u64; 3]>,
}

impl Cell {
    pub fn add(&mut self, other: &Cell) {
        self.requests += other.requests;
        self.admitted += other.admitted;
        self.throttled += other.throttled;
        self.gave_up += other.gave_up;
        self.budget_refused += other.budget_refused;
        self.dropped += other.dropped;
        self.rejected_locally += other.rejected_locally;
        if let Some(theirs) = &other.queued {
            self.queued.get_or_insert_with(Default::default).add(theirs);
        }
        if let Some(theirs) = other.units {
            let mine = self.units.get_or_insert([0; 3]);
            mine.iter_mut().zip(theirs).for_each(|(m, t)| *m += t);
        }
        self.latency.add(&other.latency);
    }

    /// The metrics of product.md over a run of `duration`.
    pub fn metrics(&self, duration: Nanos) -> Metrics {
        let attempts = self.admitted + self.throttled;
        let secs = secs_f64(duration);
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        // A plan phase can last no time at all (two changes at one instant): it then has no rate.
        let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        Metrics {
            requests: self.requests,
            attempts,
            admitted: self.admitted,
            throttled: self.throttled,
            gave_up: self.gave_up,
            budget_refused: self.budget_refused,
            dropped: self.dropped,
            rejected_locally: self.rejected_locally,
            // A phase can see a request admitted or given up that started in an earlier phase.
            unfinished: self
                .requests
                .saturating_sub(self.admitted + self.gave_up + self.dropped + self.rejected_locally),
            throttle_rate: ratio(self.throttled, attempts),
            offered_qps: per_s(attempts),
            admitted_qps: per_s(self.admitted),
            attempts_per_request: ratio(attempts, self.requests),
            latency_s: self.latency.summary(),
            queued_s: self
                .queued
                .as_ref()
                .map_or_else(LatencySummary::default, |q| q.summary_with_zeros(self.latency.count)),
            units_admitted: self.units.map(|u| u[0]),
            units_throttled: self.units.map(|u| u[1]),
            throttled_by_units: self.units.map(|u| u[2]),
        }
    }
}

/// Admitted and throttled attempts in one time bin of one quota.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bin {
    pub admitted: u64,
    pub throttled: u64,
}

/// Latencies held back before they are added to their cells' sketches in one batch.
const PENDING_BATCH: usize = 1 << 20;
/// Cells from which on latencies are batched: below, every sketch stays in cache and recording at once is
/// faster.
const DEFER_FROM: usize = 4_096;

/// Which (sub-account, API) a cell counts, and the quota (account, API) its calls go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellKey {
    pub sub_account: u32,
    pub api: u32,
    pub quota: u32,
}

/// Everything the engine counts during a run: per cell (sub-account × API), per plan phase of each quota
/// (account × API), and per time bin of each quota. Each event is counted where and when it happens: a
/// request in the phase it started in, an attempt in the phase it was decided in (and a give-up with it, as
/// it is decided when its last attempt is rejected), a finish in the phase it came back in.
///
/// Nothing is kept for what sees no traffic: a cell is made at its first request, a quota's bins at its
/// first attempt. Phases cost nothing until a quota's plan first changes: while `phases[q]` is empty, quota
/// q's only phase is the sum of its cells. At the first change that sum becomes the first phase, and later
/// phases are counted as they happen.
#[derive(Clone, Debug)]
pub struct Recorder {
    pub cells: Vec<Cell>,
    pub cell_keys: Vec<CellKey>,
    cell_index: foldhash::HashMap<(u32, u32), u32>,
    /// `phases[q]` is empty while quota q has had one plan; after that, one cell per entry of its limit
    /// history, the last the current one.
    pub phases: Vec<Vec<Cell>>,
    /// Per quota, its bins in time order; empty until its first attempt.
    bins: Vec<Vec<Bin>>,
    /// For cells of the first [`SUB_BIN_QUOTAS`] quotas (those the timeline draws): the chart bin (of
    /// `sub_bin` nanoseconds) the cell last called in and its attempts there so far; (`u32::MAX`, 0) for
    /// the others.
    sub_now: Vec<(u32, u32)>,
    /// Closed (cell, chart bin, attempts) entries: a cell's attempts per chart bin it called in, kept
    /// sparse so that 10^5 callers cost what they send, not callers × bins.
    sub_log: Vec<SubEntry>,
    /// Width of the chart bins the sub-accounts are counted in: the timeline's (at most [`CHART_BINS`]).
    pub sub_bin: Nanos,
    /// Set when `sub_log` reached [`SUB_LOG_MAX`]: so many callers, each active in so many bins, that no
    /// five of them say who sent the load; the log is freed and the timeline draws no callers' panel.
    sub_dropped: bool,
    /// Per quota with a unit limit, units admitted and throttled and attempts the units refused, per bin;
    /// empty for the others.
    unit_bins: Vec<Vec<[u64; 3]>>,
    /// With many cells, latencies of finished requests not yet in their cell's sketch, as
    /// `cell << 16 | slot`: added in batches grouped by cell, so that each sketch is visited once a batch
    /// rather than at random once a request (a cache miss each).
    pending: Vec<u64>,
    /// Scratch space for grouping a batch.
    grouped: Vec<u64>,
    starts: Vec<u32>,
    pub bin: Nanos,
    pub bins_per_quota: usize,
}

impl Recorder {
    pub fn new(quotas: usize, duration: Nanos, bin: Nanos) -> Recorder {
        Recorder {
            cells: Vec::new(),
            cell_keys: Vec::new(),
            cell_index: Default::default(),
            phases: vec![Vec::new(); quotas],
            bins: vec![Vec::new(); quotas],
            unit_bins: vec![Vec::new(); quotas],
            sub_now: Vec::new(),
            sub_log: Vec::new(),
            sub_dropped: false,
            sub_bin: bin.saturating_mul(duration.div_ceil(bin).div_ceil(CHART_BINS as u64).max(1)),
            pending: Vec::new(),
            grouped: Vec::new(),
            starts: Vec::new(),
            bin,
            bins_per_quota: duration.div_ceil(bin) as usize,
        }
    }

    /// The cell of (sub-account, API), whose calls go to `quota`; made at the first call.
    pub fn cell(&mut self, sub_account: usize, api: usize, quota: usize) -> usize {
        let key = (sub_account as u32, api as u32);
        if let Some(&c) = self.cell_index.get(&key) {
            return c as usize;
        }
        let c = self.cells.len();
        self.cells.push(Cell::default());
        if !self.sub_dropped {
            self.sub_now.push((u32::MAX, 0));
        }
        self.cell_keys.push(CellKey { sub_account: key.0, api: key.1, quota: quota as u32 });
        self.cell_index.insert(key, c as u32);
        c
    }

    /// The cell of (sub-account, API), if it has seen a call.
    pub fn find_cell(&self, sub_account: usize, api: usize) -> Option<usize> {
        self.cell_index.get(&(sub_account as u32, api as u32)).map(|&c| c as usize)
    }

    /// Puts every pending latency into its cell's sketch. Done before anything reads the cells' sketches.
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        // A counting sort by cell: linear in the batch and the cells.
        self.starts.clear();
        self.starts.resize(self.cells.len() + 1, 0);
        for &e in &self.pending {
            self.starts[(e >> 16) as usize + 1] += 1;
        }
        for i in 1..self.starts.len() {
            self.starts[i] += self.starts[i - 1];
        }
        self.grouped.resize(self.pending.len(), 0);
        let mut next = self.starts.clone();
        for &e in &self.pending {
            let c = (e >> 16) as usize;
            self.grouped[next[c] as usize] = e;
            next[c] += 1;
        }
        for c in 0..self.cells.len() {
            let run = &mut self.grouped[self.starts[c] as usize..self.starts[c + 1] as usize];
            if !run.is_empty() {
                run.sort_unstable();
                self.cells[c].latency.sketch.add_sorted(run.iter().map(|&e| e as u16));
            }
        }
        self.pending.clear();
    }

    /// Quota `quota` entered a new plan phase.
    pub fn new_phase(&mut self, quota: usize) {
        if self.phases[quota].is_empty() {
            self.flush();
            let mut first = Cell::default();
            for (cell, key) in self.cells.iter().zip(&self.cell_keys) {
                if key.quota as usize == quota {
                    first.add(cell);
                }
            }
            self.phases[quota].push(first);
        }
        self.phases[quota].push(Cell::default());
    }

    #[inline]
    pub fn request(&mut self, cell: usize, quota: usize) {
        self.cells[cell].requests += 1;
        if let Some(p) = self.phases[quota].last_mut() {
            p.requests += 1;
        }
    }

    /// Cell `cell` calls in a new chart bin `b`: its count in the last one goes to the callers' log. Once
    /// per cell and chart bin, so kept out of [`Recorder::attempt`]'s path.
    #[cold]
    #[inline(never)]
    fn next_sub_bin(&mut self, cell: usize, b: u32) {
        let (closed_bin, mut attempts) = self.sub_now[cell];
        self.sub_now[cell] = (b, 1);
        while attempts > 0 {
            let part = attempts.min(SubEntry::MAX_ATTEMPTS);
            self.sub_log.push(SubEntry::new(cell as u32, closed_bin, part));
            attempts -= part;
        }
        if self.sub_log.len() >= SUB_LOG_MAX {
            // Freed at once: so many callers that no five of them say who sent the load.
            self.sub_dropped = true;
            self.sub_log = Vec::new();
            self.sub_now = Vec::new();
        }
    }

    #[inline]
    pub fn attempt(&mut self, cell: usize, quota: usize, now: Nanos, admitted: bool) {
        if quota < SUB_BIN_QUOTAS && !self.sub_dropped {
            let b = (now / self.sub_bin) as u32;
            let now_in = &mut self.sub_now[cell];
            if now_in.0 == b {
                now_in.1 += 1;
            } else {
                self.next_sub_bin(cell, b);
            }
        }
        let bins = &mut self.bins[quota];
        if bins.is_empty() {
            bins.resize(self.bins_per_quota, Bin::default());
        }
        let i = (now / self.bin) as usize;
        let bin = &mut bins[i];
        let cell = &mut self.cells[cell];
        if admitted {
            bin.admitted += 1;
            cell.admitted += 1;
        } else {
            bin.throttled += 1;
            cell.throttled += 1;
        }
        if let Some(p) = self.phases[quota].last_mut() {
            if admitted {
                p.admitted += 1;
            } else {
                p.throttled += 1;
            }
        }
    }

    #[inline]
    pub fn finished(&mut self, cell: usize, quota: usize, latency: Nanos) {
        if self.cells.len() < DEFER_FROM {
            self.cells[cell].latency.record(latency);
        } else {
            let slot = self.cells[cell].latency.note(latency);
            self.pending.push((cell as u64) << 16 | slot as u64);
            if self.pending.len() >= PENDING_BATCH {
                self.flush();
            }
        }
        if let Some(p) = self.phases[quota].last_mut() {
            p.latency.record(latency);
        }
    }

    #[inline]
    pub fn gave_up(&mut self, cell: usize, quota: usize) {
        self.cells[cell].gave_up += 1;
        if let Some(p) = self.phases[quota].last_mut() {
            p.gave_up += 1;
        }
    }

    /// A request dropped by a full pacing queue.
    pub fn dropped(&mut self, cell: usize, quota: usize) {
        self.cells[cell].dropped += 1;
        if let Some(p) = self.phases[quota].last_mut() {
            p.dropped += 1;
        }
    }

    /// A request rejected locally by its client's adaptive throttle.
    pub fn rejected_locally(&mut self, cell: usize, quota: usize) {
        self.cells[cell].rejected_locally += 1;
        if let Some(p) = self.phases[quota].last_mut() {
            p.rejected_locally += 1;
        }
    }

    /// A request that got through waited `ns` (more than zero) in a pacer.
    pub fn queued(&mut self, cell: usize, quota: usize, ns: Nanos) {
        self.cells[cell].queued.get_or_insert_with(Default::default).record(ns);
        if let Some(p) = self.phases[quota].last_mut() {
            p.queued.get_or_insert_with(Default::default).record(ns);
        }
    }

    /// A give-up because the retry budget refused the retry.
    pub fn budget_refused(&mut self, cell: usize, quota: usize) {
        self.gave_up(cell, quota);
        self.cells[cell].budget_refused += 1;
        if let Some(p) = self.phases[quota].last_mut() {
            p.budget_refused += 1;
        }
    }

    /// Units of an attempt to a quota with a unit limit (called beside [`Recorder::attempt`]).
    pub fn units(&mut self, cell: usize, quota: usize, now: Nanos, cost: u64, admitted: bool, by_units: bool) {
        let i = admitted as usize ^ 1;
        let bins = &mut self.unit_bins[quota];
        if bins.is_empty() {
            bins.resize(self.bins_per_quota, [0; 3]);
        }
        let add = |u: &mut [u64; 3]| {
            u[i] += cost;
            u[2] += by_units as u64;
        };
        add(&mut bins[(now / self.bin) as usize]);
        add(self.cells[cell].units.get_or_insert([0; 3]));
        if let Some(p) = self.phases[quota].last_mut() {
            add(p.units.get_or_insert([0; 3]));
        }
    }

    /// The cells of quota `quota` that called it, most attempts first (ties by cell order), each with its
    /// attempts per chart bin (of [`Recorder::sub_bin`]); at most `top` of them. Empty for quotas past the
    /// first [`SUB_BIN_QUOTAS`].
    pub fn top_callers(&self, quota: usize, top: usize) -> Vec<(usize, Vec<u32>)> {
        if quota >= SUB_BIN_QUOTAS || self.sub_dropped {
            return Vec::new();
        }
        let mut cells: Vec<usize> = (0..self.cells.len())
            .filter(|&c| self.cell_keys[c].quota as usize == quota)
            .filter(|&c| self.cells[c].admitted + self.cells[c].throttled > 0)
            .collect();
        cells.sort_by_key(|&c| std::cmp::Reverse(self.cells[c].admitted + self.cells[c].throttled));
        cells.truncate(top);
        let chart_bins = self.chart_bins();
        let mut out: Vec<(usize, Vec<u32>)> = cells.iter().map(|&c| (c, vec![0; chart_bins])).collect();
        let open = self.sub_now.iter().enumerate().map(|(c, &(b, n))| (c as u32, b, n));
        for (c, b, n) in self.sub_log.iter().map(|e| e.unpack()).chain(open) {
            if let Some(row) = out.iter_mut().find(|r| r.0 == c as usize)
                && let Some(slot) = row.1.get_mut(b as usize)
            {
                *slot += n;
            }
        }
        out
    }

    /// Per quota, how many cells (sub-accounts) made attempts on it.
    pub fn callers(&self) -> Vec<usize> {
        let mut out = vec![0; self.bins.len()];
        for (cell, key) in self.cells.iter().zip(&self.cell_keys) {
            if cell.admitted + cell.throttled > 0 {
                out[key.quota as usize] += 1;
            }
        }
        out
    }

    /// Per quota (of `quotas`), the sum of its cells: what the report and the replications read a quota's
    /// metrics from.
    pub fn quota_cells(&self, quotas: usize) -> Vec<Cell> {
        let mut per_quota = vec![Cell::default(); quotas];
        for (cell, key) in self.cells.iter().zip(&self.cell_keys) {
            per_quota[key.quota as usize].add(cell);
        }
        per_quota
    }

    /// How many chart bins of [`Recorder::sub_bin`] the run spans.
    pub fn chart_bins(&self) -> usize {
        (self.bins_per_quota as u64 * self.bin).div_ceil(self.sub_bin) as usize
    }

    /// Units admitted and throttled per bin of quota `quota`; empty if it has no unit limit or no attempt.
    pub fn unit_series(&self, quota: usize) -> &[[u64; 3]] {
        &self.unit_bins[quota]
    }

    /// The bins of quota `quota`, in time order; empty if it never saw an attempt (every bin zero).
    pub fn series(&self, quota: usize) -> &[Bin] {
        &self.bins[quota]
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The per-entry metrics of `summary.json` and `summary.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub requests: u64,
    pub attempts: u64,
    pub admitted: u64,
    pub throttled: u64,
    pub gave_up: u64,
    /// Requests neither admitted nor given up when the run ended (waiting to retry).
    pub unfinished: u64,
    /// Of `gave_up`, those whose retry the budget refused.
    pub budget_refused: u64,
    /// Requests dropped by a full pacing queue (never sent).
    pub dropped: u64,
    /// Requests an adaptive throttle rejected before they reached the platform.
    pub rejected_locally: u64,
    pub throttle_rate: f64,
    pub offered_qps: f64,
    pub admitted_qps: f64,
    pub attempts_per_request: f64,
    pub latency_s: LatencySummary,
    /// Time spent waiting in a client-side pacer, over the requests that got through (zero without one).
    pub queued_s: LatencySummary,
    /// Units spent by admitted attempts, and asked for by throttled ones (only where a unit limit is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units_admitted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units_throttled: Option<u64>,
    /// Throttled attempts for which the unit limit had too few units left (the request limit may also
    /// have been full).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttled_by_units: Option<u64>,
}

/// The most (caller, chart bin) entries the timeline's callers' panel keeps (16 MiB): enough for 10^4
/// callers each active in every bin; past it, the panel is not drawn (see `Recorder::sub_dropped`).
pub const SUB_LOG_MAX: usize = 1 << 21;

/// A closed (cell, chart bin, attempts) entry of the callers' log in 8 bytes: the chart bin (below 256:
/// there are at most [`CHART_BINS`]) in the top byte of the second word, the attempts in the 24 bits
/// below; more attempts in one bin take several entries (the reader sums them).
#[derive(Clone, Copy, Debug)]
struct SubEntry(u32, u32);

const _: () = assert!(CHART_BINS < 255, "a chart bin fits a byte");

impl SubEntry {
    const MAX_ATTEMPTS: u32 = (1 << 24) - 1;

    fn new(cell: u32, chart_bin: u32, attempts: u32) -> SubEntry {
        // A bin past the byte is past every chart bin too: the reader skips it either way.
        SubEntry(cell, chart_bin.min(255) << 24 | attempts)
    }

    fn unpack(self) -> (u32, u32, u32) {
        (self.0, self.1 >> 24, self.1 & Self::MAX_ATTEMPTS)
    }
}

/// How many quotas keep attempts per sub-account per bin (the timeline draws that many panels).
pub const SUB_BIN_QUOTAS: usize = 8;
/// The most bins a timeline panel draws: about one for every seven pixels of its width. Finer bins (1 s
/// over 20 minutes) draw a comb where nothing can be seen; the chart sums them (the CSV keeps them all).
pub const CHART_BINS: usize = 150;

/// The largest number of bins the automatic choice allows per quota.
pub const MAX_AUTO_BINS: u64 = 3_600;
/// The most rows a time series may have in all: the automatic bin widens to stay under it, and a finer
/// `--bin` is refused.
pub const MAX_SERIES_ROWS: u64 = 1_000_000;
const BIN_LADDER_S: [u64; 17] =
    [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 21_600, 43_200, 86_400];

/// One second, unless that gives more than [`MAX_AUTO_BINS`] bins per series or more than
/// [`MAX_SERIES_ROWS`] rows over `series` series: then the smallest round width that does not (a month of
/// simulated time gets 15-minute bins). With more series than rows allowed, one bin covers the run.
pub fn auto_bin(duration: Nanos, series: usize) -> Nanos {
    let secs = duration.div_ceil(NANOS_PER_SEC).max(1);
    let per_series = (MAX_SERIES_ROWS / series.max(1) as u64).clamp(1, MAX_AUTO_BINS);
    let width = BIN_LADDER_S.iter().copied().find(|w| secs.div_ceil(*w) <= per_series).unwrap_or_else(|| {
        let days = secs.div_ceil(per_series).div_ceil(86_400);
        days * 86_400
    });
    width * NANOS_PER_SEC
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The busiest callers' series are exact (every attempt in its chart bin), and a run whose callers
    /// would fill more than SUB_LOG_MAX (caller, bin) entries frees them and reports none.
    #[test]
    fn busiest_callers_are_counted_per_chart_bin_within_a_bounded_log() {
        let s = crate::time::NANOS_PER_SEC;
        // 150 s in 1 s bins: chart bins of 1 s.
        let mut rec = Recorder::new(1, 150 * s, s);
        let (a, b) = (rec.cell(0, 0, 0), rec.cell(1, 0, 0));
        for t in 0..150 {
            rec.attempt(a, 0, t * s, true);
            rec.attempt(a, 0, t * s + 1, false);
            if t % 3 == 0 {
                rec.attempt(b, 0, t * s, true);
            }
        }
        let top = rec.top_callers(0, 5);
        assert_eq!(top.len(), 2);
        assert_eq!((top[0].0, top[1].0), (a, b));
        assert!(top[0].1.iter().all(|&n| n == 2));
        assert_eq!(top[1].1.iter().sum::<u32>(), 50);
        // 15,000 callers in each of 150 bins: 2.25 M entries, past the bound.
        let mut big = Recorder::new(1, 150 * s, s);
        let cells: Vec<usize> = (0..15_000).map(|i| big.cell(i, 0, 0)).collect();
        for t in 0..150 {
            for &c in &cells {
                big.attempt(c, 0, t * s, true);
            }
        }
        assert!(big.top_callers(0, 5).is_empty());
        assert_eq!(big.series(0).iter().map(|b| b.admitted).sum::<u64>(), 150 * 15_000);
        // More attempts in one chart bin than an entry holds (2^24 - 1) take two entries, summed back.
        let mut busy = Recorder::new(1, 150 * s, s);
        let c = busy.cell(0, 0, 0);
        let many = (1u32 << 24) + 5;
        for _ in 0..many {
            busy.attempt(c, 0, 7 * s, true);
        }
        busy.attempt(c, 0, 9 * s, true);
        busy.attempt(c, 0, 10 * s, true);
        let series = &busy.top_callers(0, 1)[0].1;
        assert_eq!((series[7], series[9], series[10]), (many, 1, 1));
        assert_eq!(busy.sub_log.len(), 3);
    }

    #[test]
    fn bins_grow_for_long_runs() {
        assert_eq!(auto_bin(10 * 60 * NANOS_PER_SEC, 1), NANOS_PER_SEC);
        assert_eq!(auto_bin(3_600 * NANOS_PER_SEC, 1), NANOS_PER_SEC);
        assert_eq!(auto_bin(3_601 * NANOS_PER_SEC, 1), 2 * NANOS_PER_SEC);
        assert_eq!(auto_bin(30 * 86_400 * NANOS_PER_SEC, 1), 900 * NANOS_PER_SEC);
        let ten_years = 3_650 * 86_400 * NANOS_PER_SEC;
        assert!(ten_years / auto_bin(ten_years, 1) <= MAX_AUTO_BINS);
        // 100,000 series for a minute: 10 bins each, a million rows, not six million.
        assert_eq!(auto_bin(60 * NANOS_PER_SEC, 100_000), 10 * NANOS_PER_SEC);
        for (duration_s, series) in [(60u64, 100_000usize), (86_400, 5_000), (3_600, 2_000_000), (1, 1)] {
            let bin = auto_bin(duration_s * NANOS_PER_SEC, series);
            let rows = (duration_s * NANOS_PER_SEC).div_ceil(bin) * series as u64;
            assert!(rows <= MAX_SERIES_ROWS.max(series as u64), "{duration_s} s x {series}: {rows} rows");
        }
    }

    #[test]
    fn a_cells_hot_fields_share_one_cache_line() {
        let cell = Cell::default();
        let base = &cell as *const Cell as usize;
        assert_eq!(base % 64, 0);
        let sketch = &cell.latency.sketch as *const Sketch as usize;
        assert_eq!(sketch - base, 64, "the counters and exact latency figures fill the first 64 bytes");
    }

    #[test]
    fn latency_mean_and_max_are_exact_and_percentiles_within_one_percent() {
        let mut l = Latency::default();
        for ms in 1..=1000u64 {
            l.record(ms * 1_000_000);
        }
        let s = l.summary();
        assert!((s.mean - 0.5005).abs() < 1e-12);
        assert_eq!(s.max, 1.0);
        // Two significant digits: a value is reported within 1 % of itself.
        assert!((s.p50 - 0.5).abs() / 0.5 < 1e-2, "{}", s.p50);
        assert!((s.p99 - 0.99).abs() / 0.99 < 1e-2, "{}", s.p99);
    }
}
