//! The summary of a run: the totals, one entry per (account, API) and per (account, sub-account, API), and
//! the time series per (account, API). Built once from the engine's output; every writer reads this.

use super::billing::{AccountBill, bills, plan_name};
use crate::engine::{RunOutput, cell_index, quota_index};
use crate::quota::LimitChange;
use crate::scenario::Scenario;
use crate::stats::{Bin, Cell, Metrics};
use crate::time::secs_f64;
use crate::workload::ClientModel;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ApiEntry {
    pub account: String,
    pub api: String,
    pub category: &'static str,
    #[serde(flatten)]
    pub metrics: Metrics,
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

#[derive(Debug, Serialize)]
pub struct SubAccountEntry {
    pub account: String,
    pub sub_account: String,
    pub api: String,
    #[serde(flatten)]
    pub metrics: Metrics,
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
    /// `requests / limit`: no schedule can be faster. `limit_qps` is the sum of the limits in force at the
    /// start for the APIs the client calls.
    pub floor_s: f64,
    pub limit_qps: u32,
}

/// What a trace client read: rows, malformed rows skipped, rows before the start (not replayed).
#[derive(Debug, Serialize)]
pub struct TraceEntry {
    pub client: String,
    pub rows: u64,
    pub skipped_rows: u64,
    pub rows_before_start: u64,
}

/// `summary.json`, field for field.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub duration_s: f64,
    pub start: String,
    /// Width of the time-series bins, in seconds.
    pub bin_s: f64,
    pub totals: Metrics,
    pub by_api: Vec<ApiEntry>,
    pub by_sub_account: Vec<SubAccountEntry>,
    pub phases: Vec<PhaseEntry>,
    pub billing: Vec<AccountBill>,
    pub batches: Vec<BatchEntry>,
    pub traces: Vec<TraceEntry>,
}

/// The time series of one (account, API).
#[derive(Debug)]
pub struct Series {
    pub account: String,
    pub api: String,
    pub bins: Vec<Bin>,
    /// Every limit in force during the run, in time order.
    pub limits: Vec<LimitChange>,
}

/// Everything the writers need.
#[derive(Debug)]
pub struct Report {
    pub summary: Summary,
    pub series: Vec<Series>,
    pub bin: u64,
}

impl Report {
    pub fn new(sc: &Scenario, out: &RunOutput) -> Report {
        let cells = &out.recorder.cells;
        // Only (account, API) pairs some client calls, or that saw a request: the rest would be rows of
        // zeros.
        let mut used: Vec<bool> = out.recorder.phases.iter().map(|p| p.iter().any(|c| c.requests > 0)).collect();
        let mut used_cells: Vec<bool> = cells.iter().map(|c| c.requests > 0).collect();
        for client in &sc.clients {
            for &api in client.apis.apis() {
                used[quota_index(sc, client.account, api)] = true;
                if client.uses_own_sub_account() {
                    used_cells[cell_index(sc, client.sub_account, api)] = true;
                }
            }
        }

        let mut totals = Cell::default();
        let mut by_api = Vec::new();
        let mut phases = Vec::new();
        let mut series = Vec::new();
        for (account, acc) in sc.accounts.iter().enumerate() {
            for (api, a) in sc.apis.iter().enumerate() {
                let q = quota_index(sc, account, api);
                if !used[q] {
                    continue;
                }
                let mut cell = Cell::default();
                for (sub, s) in out.sub_accounts.iter().enumerate() {
                    if s.account == account {
                        cell.add(&cells[cell_index(sc, sub, api)]);
                    }
                }
                totals.add(&cell);
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
                        metrics: out.recorder.phases[q].get(i).unwrap_or(&cell).metrics(until - change.at),
                    });
                }
                by_api.push(ApiEntry {
                    account: acc.name.clone(),
                    api: a.name.clone(),
                    category: a.category.name(),
                    metrics: cell.metrics(sc.duration),
                });
                series.push(Series {
                    account: acc.name.clone(),
                    api: a.name.clone(),
                    bins: out.recorder.series(q).to_vec(),
                    limits: out.quotas[q].history().to_vec(),
                });
            }
        }

        let mut by_sub_account = Vec::new();
        for (sub, s) in out.sub_accounts.iter().enumerate() {
            for (api, a) in sc.apis.iter().enumerate() {
                let c = cell_index(sc, sub, api);
                if used_cells[c] {
                    by_sub_account.push(SubAccountEntry {
                        account: sc.accounts[s.account].name.clone(),
                        sub_account: s.name.clone(),
                        api: a.name.clone(),
                        metrics: cells[c].metrics(sc.duration),
                    });
                }
            }
        }

        let summary = Summary {
            scenario: sc.name.clone(),
            seed: sc.seed,
            duration_s: secs_f64(sc.duration),
            start: sc.instant_text(0),
            bin_s: secs_f64(out.recorder.bin),
            totals: totals.metrics(sc.duration),
            by_api,
            by_sub_account,
            phases,
            billing: bills(sc, out),
            batches: batches(sc, out),
            traces: out
                .traces
                .iter()
                .map(|t| TraceEntry {
                    client: sc.clients[t.client].name.clone(),
                    rows: t.rows,
                    skipped_rows: t.skipped_rows,
                    rows_before_start: t.rows_before_start,
                })
                .collect(),
        };
        Report { summary, series, bin: out.recorder.bin }
    }
}

fn batches(sc: &Scenario, out: &RunOutput) -> Vec<BatchEntry> {
    let entries = sc.clients.iter().zip(&out.batch_done).filter_map(|(c, done)| {
        let ClientModel::Batch { threads, requests, .. } = c.model else { return None };
        let limit_qps: u32 =
            c.apis.apis().iter().map(|&api| out.quotas[quota_index(sc, c.account, api)].history()[0].limit_qps).sum();
        Some(BatchEntry {
            client: c.name.clone(),
            account: sc.accounts[c.account].name.clone(),
            requests,
            threads,
            makespan_s: done.map(secs_f64),
            floor_s: requests as f64 / limit_qps as f64,
            limit_qps,
        })
    });
    entries.collect()
}
