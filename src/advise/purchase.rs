//! The cheapest purchase: every combination of the scenario's offers (each bought in one of its sizes, or
//! not at all) is added to the scenario as plans, simulated, and billed by the existing billing.

use super::{Advisor, Check, Focus};
use crate::Error;
use crate::replicate::estimate::{Estimate, estimate};
use crate::scenario::{Offer, OfferKind, PrepaidPrice, Scenario};
use jiff::tz::TimeZone;
use rayon::prelude::*;
use serde::Serialize;

/// The most combinations of offers simulated.
pub const MAX_CANDIDATES: usize = 512;

/// One offer bought in one of its sizes.
#[derive(Clone, Debug, Serialize)]
pub struct Purchase {
    pub offer: String,
    pub choice: String,
    pub price: f64,
    #[serde(skip)]
    account: usize,
    #[serde(skip)]
    plans: Vec<toml::Table>,
}

/// A combination of purchases (none: today's plans) and what it achieves.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    pub purchases: Vec<Purchase>,
    /// What the offers bought cost.
    pub purchase_price: f64,
    /// The whole bill over the run (purchases plus priced pay-as-you-go calls), over the replications.
    pub cost: Estimate,
    pub throttle_rate: f64,
    pub latency_p99_s: f64,
    pub met: bool,
    pub checks: Vec<Check>,
    /// Each (account, API)'s throttle rate (means over the replications).
    pub by_pair: Vec<(String, f64)>,
}

impl Candidate {
    pub fn label(&self) -> String {
        if self.purchases.is_empty() {
            return "today's plans".into();
        }
        self.purchases.iter().map(|p| format!("{}: {}", p.offer, p.choice)).collect::<Vec<_>>().join(" + ")
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanAdvice {
    /// Every combination, cheapest first (by mean cost).
    pub candidates: Vec<Candidate>,
    /// Index into `candidates` of the cheapest that meets the targets.
    pub chosen: Option<usize>,
    /// Index of today's plans (no purchase).
    pub baseline: usize,
    /// Whether any API has pay-as-you-go prices (if not, costs count only what the offers charge).
    pub pay_as_you_go_priced: bool,
    /// Per (account, API) in use: the most QPS any one purchase among the offers (or today's plans) gives it.
    pub most_qps: Vec<(String, u32)>,
    /// Combinations not simulated: their purchase price alone passes the bill of the answer's runner-up, so
    /// none could be cheaper than either.
    pub not_simulated: usize,
    /// What the prices are in, when the offers say (`[[offer]] currency`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// Every instant as RFC 3339 text in UTC.
fn text(t: jiff::Timestamp) -> String {
    t.to_string()
}

/// How many combinations of the offers' choices (today's plans included) `cheapest` would simulate.
pub fn combinations(sc: &Scenario, offers: &[Offer]) -> u64 {
    choices(sc, offers).map_or(0, |c| c.iter().map(|o| o.len() as u64).product())
}

/// The ways each offer can be bought (not at all included), in the offers' order.
fn choices(sc: &Scenario, offers: &[Offer]) -> Result<Vec<Vec<Option<Purchase>>>, Error> {
    let start = sc.start;
    let end = start
        .checked_add(jiff::SignedDuration::from_nanos(sc.duration as i64))
        .map_err(|e| Error::BadInput(format!("the run's end: {e}")))?;
    let tz = TimeZone::fixed(sc.offset);
    let first_day = tz.to_datetime(start).date();
    let last_day = tz
        .to_datetime(
            end.checked_sub(jiff::SignedDuration::from_nanos(1))
                .map_err(|e| Error::BadInput(format!("the run's end: {e}")))?,
        )
        .date();
    let midnight = |d: jiff::civil::Date| -> Result<jiff::Timestamp, Error> {
        tz.to_timestamp(d.at(0, 0, 0, 0)).map_err(|e| Error::BadInput(format!("{d}: {e}")))
    };
    let mut days = vec![first_day];
    while let Some(&d) = days.last().filter(|&&d| d < last_day) {
        days.push(d.tomorrow().map_err(|e| Error::BadInput(e.to_string()))?);
    }
    let mut all = Vec::with_capacity(offers.len());
    for offer in offers {
        let mut options: Vec<Option<Purchase>> = vec![None];
        match &offer.kind {
            OfferKind::PrepaidQps { api, qps, hours, price } => {
                for &q in qps {
                    for window in hours {
                        // The periods bought: the whole run, or the daily window on each day of it.
                        let mut periods = Vec::new();
                        match window {
                            None => periods.push((start, end)),
                            Some((a, b)) => {
                                for &d in &days {
                                    let m = midnight(d)?;
                                    let from = m + jiff::SignedDuration::from_mins(*a as i64);
                                    let until = m + jiff::SignedDuration::from_mins(*b as i64);
                                    let (from, until) = (from.max(start), until.min(end));
                                    if from < until {
                                        periods.push((from, until));
                                    }
                                }
                            }
                        }
                        let mut plans = Vec::new();
                        let mut total = 0.0;
                        for (i, &(from, until)) in periods.iter().enumerate() {
                            let hours = (until - from).as_secs_f64() / 3600.0;
                            let cost = match price {
                                // By the period bought (the platform publishes no calendar rule): a daily
                                // window is one day's purchase; the whole run, its length in days.
                                PrepaidPrice::PerQpsDay(p) => {
                                    let days = match window {
                                        Some(_) => 1.0,
                                        None => hours / 24.0,
                                    };
                                    p * q as f64 * days
                                }
                                PrepaidPrice::PerQpsHour(p) => p * q as f64 * hours,
                            };
                            total += cost;
                            let mut t = toml::Table::new();
                            t.insert("type".into(), "prepaid-qps".into());
                            t.insert("name".into(), format!("{}-{q}qps-{}", offer.name, i + 1).into());
                            t.insert("api".into(), sc.apis[*api].name.clone().into());
                            t.insert("qps".into(), (q as i64).into());
                            t.insert("from".into(), text(from).into());
                            t.insert("until".into(), text(until).into());
                            t.insert("price".into(), cost.into());
                            plans.push(t);
                        }
                        if plans.is_empty() {
                            continue;
                        }
                        let when = match window {
                            None => "the whole run".to_string(),
                            Some((a, b)) => format!("{:02}:{:02}-{:02}:{:02} daily", a / 60, a % 60, b / 60, b % 60),
                        };
                        options.push(Some(Purchase {
                            offer: offer.name.clone(),
                            choice: format!("{q} QPS, {when}"),
                            price: total,
                            account: offer.account,
                            plans,
                        }));
                    }
                }
            }
            OfferKind::Package { api, category, sizes } => {
                for (i, &(calls, price)) in sizes.iter().enumerate() {
                    let mut t = toml::Table::new();
                    t.insert("type".into(), "resource-package".into());
                    t.insert("name".into(), format!("{}-{}", offer.name, i + 1).into());
                    match (api, category) {
                        (Some(api), _) => t.insert("api".into(), sc.apis[*api].name.clone().into()),
                        (None, Some(c)) => t.insert("category".into(), c.name().into()),
                        (None, None) => None,
                    };
                    t.insert("calls".into(), (calls as i64).into());
                    // Bought before the run so that it is in force from the start.
                    let bought = start - jiff::SignedDuration::from_hours(48);
                    t.insert("bought".into(), text(bought).into());
                    t.insert("from".into(), text(start).into());
                    t.insert("price".into(), price.into());
                    options.push(Some(Purchase {
                        offer: offer.name.clone(),
                        choice: format!("{calls} calls"),
                        price,
                        account: offer.account,
                        plans: vec![t],
                    }));
                }
            }
        }
        all.push(options);
    }
    Ok(all)
}

/// The scenario text with `purchases` added as plans of their accounts.
fn with_plans(base: &toml::Table, sc: &Scenario, purchases: &[Purchase]) -> String {
    let mut table = base.clone();
    if let Some(toml::Value::Array(accounts)) = table.get_mut("account") {
        for p in purchases {
            let name = &sc.accounts[p.account].name;
            let account = accounts
                .iter_mut()
                .filter_map(toml::Value::as_table_mut)
                .find(|a| a.get("name").and_then(toml::Value::as_str) == Some(name.as_str()));
            if let Some(account) = account {
                let plans = account.entry("plan").or_insert_with(|| toml::Value::Array(Vec::new()));
                if let toml::Value::Array(list) = plans {
                    list.extend(p.plans.iter().cloned().map(toml::Value::Table));
                }
            }
        }
    }
    toml::to_string(&table).expect("a TOML table serialises")
}

impl Advisor<'_> {
    /// Simulates every combination of offers (`text` and `file`: the scenario as read, so that the plans
    /// are validated like written ones) and picks the cheapest that meets the targets.
    pub fn cheapest(&self, text: &str, file: &str) -> Result<Option<PlanAdvice>, Error> {
        let sc = self.sc;
        if self.offers.is_empty() {
            return Ok(None);
        }
        let options = choices(sc, self.offers)?;
        let count = options.iter().map(Vec::len).try_fold(1usize, |n, k| n.checked_mul(k));
        match count {
            Some(n) if n <= MAX_CANDIDATES => {}
            _ => {
                return Err(Error::BadInput(format!(
                    "[[offer]]: {} combinations of the offers' choices; at most {MAX_CANDIDATES} are simulated, so \
                        list fewer sizes, QPS or hours",
                    count.map_or("too many".to_string(), |n| n.to_string())
                )));
            }
        }
        let mut combos: Vec<Vec<Purchase>> = vec![Vec::new()];
        for opts in &options {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    opts.iter().map(move |o| {
                        let mut c = c.clone();
                        c.extend(o.clone());
                        c
                    })
                })
                .collect();
        }
        let pairs = sc.quota_pairs();
        let base: toml::Table =
            toml::from_str(text).map_err(|e| Error::BadInput(format!("{file}: {}", e.message())))?;
        let evaluate = |purchases: Vec<Purchase>| -> Result<Candidate, Error> {
            let scenario_text = with_plans(&base, sc, &purchases);
            let mut candidate_sc = Scenario::parse(&scenario_text, file).map_err(|e| {
                Error::BadInput(format!(
                    "[[offer]]: buying {} makes an invalid plan: {}: {}",
                    label(&purchases),
                    e.key,
                    e.message
                ))
            })?;
            candidate_sc.seed = sc.seed;
            let samples = self.samples(&candidate_sc, None)?;
            let focus = Focus { pairs: &pairs, totals: true, every_scope: true };
            let (met, checks) = self.check(&samples, focus);
            let by_pair = pairs
                .iter()
                .map(|&p| {
                    let rate = samples
                        .iter()
                        .map(|s| s.by_pair.iter().find(|(q, _)| *q == p).map_or(0.0, |(_, m)| m.throttle_rate))
                        .sum::<f64>()
                        / samples.len() as f64;
                    (format!("{}/{}", sc.accounts[p.0].name, sc.apis[p.1].name), rate)
                })
                .collect();
            let n = samples.len() as f64;
            let costs: Vec<f64> = samples.iter().map(|s| s.cost).collect();
            Ok(Candidate {
                purchase_price: purchases.iter().map(|p| p.price).sum(),
                purchases,
                cost: estimate("cost", &costs),
                throttle_rate: samples.iter().map(|s| s.totals.throttle_rate).sum::<f64>() / n,
                latency_p99_s: samples.iter().map(|s| s.totals.latency_s.p99).sum::<f64>() / n,
                met,
                checks,
                by_pair,
            })
        };
        // Cheapest purchase first. A combination's bill is at least its purchase price (pay-as-you-go calls
        // only add), so once the answer and its runner-up are known, a combination whose price alone passes
        // the runner-up's bill cannot change the advice, and is not simulated.
        combos.sort_by(|a, b| {
            let price = |c: &Vec<Purchase>| c.iter().map(|p| p.price).sum::<f64>();
            price(a).total_cmp(&price(b)).then(a.len().cmp(&b.len()))
        });
        let total_combinations = combos.len();
        let batch = 2 * rayon::current_num_threads().max(1);
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut pending = combos.into_iter().peekable();
        while pending.peek().is_some() {
            let mut met_costs: Vec<f64> = candidates.iter().filter(|c| c.met).map(|c| c.cost.mean).collect();
            met_costs.sort_by(f64::total_cmp);
            if let (Some(&bar), Some(next)) = (met_costs.get(1), pending.peek())
                && next.iter().map(|p| p.price).sum::<f64>() > bar
            {
                break;
            }
            let chunk: Vec<Vec<Purchase>> = pending.by_ref().take(batch).collect();
            let done: Vec<Candidate> = chunk.into_par_iter().map(evaluate).collect::<Result<_, Error>>()?;
            candidates.extend(done);
        }
        let not_simulated = total_combinations - candidates.len();
        // Cheapest first; among equal costs, the one buying less, then the first enumerated.
        candidates.sort_by(|a, b| a.cost.mean.total_cmp(&b.cost.mean).then(a.purchases.len().cmp(&b.purchases.len())));
        let chosen = candidates.iter().position(|c| c.met);
        let baseline = candidates.iter().position(|c| c.purchases.is_empty()).expect("no purchase is a candidate");
        let pay_as_you_go_priced = sc.apis.iter().any(|a| a.prices.is_some());
        // Today's limits, built once: what each pair has without buying anything.
        let today = crate::engine::limits_at_start(sc);
        let most_qps = pairs
            .iter()
            .map(|&(account, api)| {
                let offered = self.offers.iter().filter(|o| o.account == account).filter_map(|o| match &o.kind {
                    OfferKind::PrepaidQps { api: a, qps, .. } if *a == api => qps.iter().copied().max(),
                    OfferKind::Package { api: Some(a), .. } if *a == api => Some(crate::quota::plans::PACKAGE_QPS),
                    OfferKind::Package { api: None, category, .. }
                        if category.is_none_or(|c| c == sc.apis[api].category) =>
                    {
                        Some(crate::quota::plans::PACKAGE_QPS)
                    }
                    _ => None,
                });
                let today = today.iter().find(|(p, _)| *p == (account, api)).map_or(0, |(_, l)| *l);
                (format!("{}/{}", sc.accounts[account].name, sc.apis[api].name), offered.fold(today, u32::max))
            })
            .collect();
        let currency = self.offers.iter().find_map(|o| o.currency.clone());
        Ok(Some(PlanAdvice { candidates, chosen, baseline, pay_as_you_go_priced, most_qps, not_simulated, currency }))
    }
}

fn label(purchases: &[Purchase]) -> String {
    purchases.iter().map(|p| format!("{} ({})", p.offer, p.choice)).collect::<Vec<_>>().join(" and ")
}
