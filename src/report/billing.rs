//! The bill per account: which plan paid for each admitted call, what is left of each package, and, where
//! the scenario gives prices, what it all costs. Throttled attempts are never billed.

use crate::engine::RunOutput;
use crate::quota::plans::{PlanRef, Scope};
use crate::scenario::Scenario;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct PaygLine {
    pub api: String,
    /// Calendar month in UTC+8, e.g. `2026-11`.
    pub month: String,
    pub calls: u64,
    pub cost: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct PackageLine {
    pub name: String,
    /// `api:Name`, `category:face-body` or `all` (general-purpose).
    pub covers: String,
    pub qps: u32,
    pub calls: u64,
    pub used: u64,
    pub left: u64,
    pub bought: String,
    pub active_from: String,
    pub until: Option<String>,
    /// When its last call went, if it ran out during the run.
    pub ran_out: Option<String>,
    pub price: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct PrepaidLine {
    pub name: String,
    pub api: String,
    pub qps: u32,
    pub from: String,
    pub until: String,
    /// Calls admitted under it (free of charge).
    pub calls: u64,
    pub price: Option<f64>,
}

/// One account's bill. `admitted` is the engine's count of admitted attempts; every one of them is paid
/// for by exactly one plan, so `admitted = under_prepaid_qps + from_packages + pay_as_you_go`.
#[derive(Debug, Serialize)]
pub struct AccountBill {
    pub account: String,
    pub admitted: u64,
    pub under_prepaid_qps: u64,
    pub from_packages: u64,
    pub pay_as_you_go: u64,
    pub pay_as_you_go_by_month: Vec<PaygLine>,
    pub packages: Vec<PackageLine>,
    pub prepaid_qps: Vec<PrepaidLine>,
    /// The sum of every priced line; null when the scenario gives no price for this account.
    pub cost: Option<f64>,
}

pub fn plan_name(sc: &Scenario, plan: PlanRef) -> &str {
    match plan {
        PlanRef::PayAsYouGo => "pay-as-you-go",
        PlanRef::Prepaid(i) => &sc.plans.prepaid[i].name,
        PlanRef::Package(i) => &sc.plans.packages[i].name,
    }
}

fn covers(sc: &Scenario, scope: &Scope) -> String {
    match scope {
        Scope::Api(a) => format!("api:{}", sc.apis[*a].name),
        Scope::Category(c) => format!("category:{c}"),
        Scope::All => "all".into(),
    }
}

pub fn bills(sc: &Scenario, out: &RunOutput) -> Vec<AccountBill> {
    let usage = &out.plans;
    let text = |t: jiff::Timestamp| t.display_with_offset(sc.offset).to_string();
    let rec = &out.recorder;
    let mut admitted_by_account = vec![0u64; sc.accounts.len()];
    for (c, k) in rec.cells.iter().zip(&rec.cell_keys) {
        admitted_by_account[out.quota_pairs[k.quota as usize].0] += c.admitted;
    }
    sc.accounts
        .iter()
        .enumerate()
        .map(|(a, account)| {
            let mut payg_lines = Vec::new();
            let mut priced = false;
            let mut cost = 0.0;
            // Quota pairs are sorted by account: this account's are one run of them.
            let first = out.quota_pairs.partition_point(|&(account, _)| account < a);
            let last = out.quota_pairs.partition_point(|&(account, _)| account <= a);
            for (q, &(_, api)) in out.quota_pairs.iter().enumerate().take(last).skip(first) {
                let spec = &sc.apis[api];
                let months = &usage.payg_calls[q];
                for (m, &calls) in months.iter().enumerate().filter(|(_, c)| **c > 0) {
                    let line_cost = spec.prices.as_ref().map(|t| t.cost(calls));
                    priced |= line_cost.is_some();
                    cost += line_cost.unwrap_or(0.0);
                    payg_lines.push(PaygLine {
                        api: spec.name.clone(),
                        month: usage.month_names[m].clone(),
                        calls,
                        cost: line_cost,
                    });
                }
            }
            let packages: Vec<PackageLine> = (sc.plans.packages.iter().enumerate())
                .filter(|(_, p)| p.account == a)
                .map(|(i, p)| PackageLine {
                    name: p.name.clone(),
                    covers: covers(sc, &p.scope),
                    qps: p.qps,
                    calls: p.calls,
                    used: usage.package_used[i],
                    left: p.calls - usage.package_used[i],
                    bought: text(p.bought),
                    active_from: text(p.active_from),
                    until: p.until.map(text),
                    ran_out: usage.package_ran_out[i].map(|t| sc.instant_text(t)),
                    price: p.price,
                })
                .collect();
            let prepaid: Vec<PrepaidLine> = (sc.plans.prepaid.iter().enumerate())
                .filter(|(_, p)| p.account == a)
                .map(|(i, p)| PrepaidLine {
                    name: p.name.clone(),
                    api: sc.apis[p.api].name.clone(),
                    qps: p.qps,
                    from: text(p.from),
                    until: text(p.until),
                    calls: usage.prepaid_calls[i],
                    price: p.price,
                })
                .collect();
            for price in packages.iter().map(|p| p.price).chain(prepaid.iter().map(|p| p.price)).flatten() {
                priced = true;
                cost += price;
            }
            let under_prepaid_qps = prepaid.iter().map(|p| p.calls).sum();
            let from_packages = packages.iter().map(|p| p.used).sum();
            let pay_as_you_go = payg_lines.iter().map(|l| l.calls).sum();
            let admitted = admitted_by_account[a];
            AccountBill {
                account: account.name.clone(),
                admitted,
                under_prepaid_qps,
                from_packages,
                pay_as_you_go,
                pay_as_you_go_by_month: payg_lines,
                packages,
                prepaid_qps: prepaid,
                cost: priced.then_some(cost),
            }
        })
        .collect()
}
