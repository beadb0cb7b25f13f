//! Validation of `[[account.plan]]` tables and of `[[api]] prices`.

use super::raw::{RawPlan, RawTier};
use super::{Api, Ctx, Result};
use crate::quota::Category;
use crate::quota::plans::{PACKAGE_QPS, Plans, PrepaidQps, ResourcePackage, Scope, Tiers, package_activation};
use crate::time::parse_instant;
use jiff::Timestamp;
use std::collections::HashMap;

/// Pay-as-you-go QPS set per (account, API) by `pay-as-you-go` plans.
pub(super) type PaygOverrides = HashMap<(usize, usize), u32>;

/// Which keys each plan type takes.
const PREPAID_KEYS: [&str; 6] = ["name", "api", "qps", "from", "until", "price"];
const PACKAGE_KEYS: [&str; 9] = ["name", "api", "category", "calls", "bought", "from", "until", "qps", "price"];
const PAYG_KEYS: [&str; 2] = ["api", "qps"];

fn present(p: &RawPlan) -> Vec<&'static str> {
    let keys = [
        ("name", p.name.is_some()),
        ("api", p.api.is_some()),
        ("category", p.category.is_some()),
        ("qps", p.qps.is_some()),
        ("calls", p.calls.is_some()),
        ("bought", p.bought.is_some()),
        ("from", p.from.is_some()),
        ("until", p.until.is_some()),
        ("price", p.price.is_some()),
    ];
    keys.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect()
}

impl Ctx<'_> {
    fn instant(&self, key: &str, text: &str) -> Result<Timestamp> {
        parse_instant(text).map(|(t, _)| t).map_err(|m| self.err(key, m))
    }

    fn required<'v, T>(&self, key: &str, kind: &str, field: &str, value: &'v Option<T>) -> Result<&'v T> {
        value.as_ref().ok_or_else(|| self.err(key, format!("a `{kind}` plan needs `{field}`")))
    }

    fn price(&self, key: &str, price: Option<f64>) -> Result<Option<f64>> {
        match price {
            Some(p) if !(p.is_finite() && p >= 0.0) => {
                Err(self.err(key, format!("{p} is not valid; expected a price >= 0")))
            }
            _ => Ok(price),
        }
    }

    pub(super) fn tiers(&self, key: &str, raw: &[RawTier]) -> Result<Tiers> {
        let mut tiers = Vec::with_capacity(raw.len());
        let mut below = 0i64;
        for (i, t) in raw.iter().enumerate() {
            let k = format!("{key}[{i}]");
            self.price(&format!("{k}.price"), Some(t.price))?;
            let last = i + 1 == raw.len();
            match (t.up_to, last) {
                (None, true) => tiers.push((None, t.price)),
                (None, false) => {
                    return Err(self.err(&format!("{k}.up_to"), "only the last tier may leave out `up_to`"));
                }
                (Some(_), true) => {
                    return Err(self.err(
                        &format!("{k}.up_to"),
                        "the last tier must leave out `up_to`: it prices every call beyond",
                    ));
                }
                (Some(n), false) if n > below => {
                    tiers.push((Some(n as u64), t.price));
                    below = n;
                }
                (Some(n), false) => {
                    return Err(self.err(
                        &format!("{k}.up_to"),
                        format!("{n} is not valid; tiers need increasing `up_to` above {below}"),
                    ));
                }
            }
        }
        if tiers.is_empty() {
            return Err(self.err(key, "needs at least one tier, e.g. [{ price = 0.02 }]"));
        }
        Ok(Tiers(tiers))
    }

    /// Validates every account's plans. Returns the plans and the pay-as-you-go limits they set per
    /// (account, API).
    pub(super) fn plans(
        &self,
        accounts: &[super::raw::RawAccount],
        apis: &[Api],
        api_index: &HashMap<&str, usize>,
    ) -> Result<(Plans, PaygOverrides)> {
        let mut plans = Plans::default();
        let mut payg = HashMap::new();
        for (a, account) in accounts.iter().enumerate() {
            for (i, p) in account.plans.iter().enumerate() {
                let key = format!("account[{a}].plan[{i}]");
                use crate::quota::plans::PlanKind;
                let kinds =
                    [PlanKind::PrepaidQps, PlanKind::ResourcePackage, PlanKind::PayAsYouGo].map(|k| (k.name(), k));
                let kind = self.one_of(&format!("{key}.type"), &p.kind, &kinds)?;
                let allowed: &[&str] = match kind {
                    PlanKind::PrepaidQps => &PREPAID_KEYS,
                    PlanKind::ResourcePackage => &PACKAGE_KEYS,
                    PlanKind::PayAsYouGo => &PAYG_KEYS,
                };
                if let Some(extra) = present(p).into_iter().find(|k| !allowed.contains(k)) {
                    return Err(self.err(
                        &format!("{key}.{extra}"),
                        format!("a `{}` plan takes no `{extra}`; it takes {}", p.kind, allowed.join(", ")),
                    ));
                }
                let api = |field: &str, name: &str| -> Result<usize> {
                    api_index
                        .get(name)
                        .copied()
                        .ok_or_else(|| self.err(&format!("{key}.{field}"), format!("no [[api]] is named `{name}`")))
                };
                let qps = |default: Option<u32>| -> Result<u32> {
                    match (p.qps, default) {
                        (None, Some(d)) => Ok(d),
                        (None, None) => Err(self.err(&key, format!("a `{}` plan needs `qps`", p.kind))),
                        (Some(q), _) if (1..=i64::from(u32::MAX)).contains(&q) => Ok(q as u32),
                        (Some(q), _) => Err(self.err(
                            &format!("{key}.qps"),
                            format!("{q} is not valid; expected a whole number of QPS >= 1"),
                        )),
                    }
                };
                let name = |prefix: &str| p.name.clone().unwrap_or_else(|| format!("{prefix}-{}", i + 1));
                match kind {
                    PlanKind::PrepaidQps => {
                        let api = api("api", self.required(&key, &p.kind, "api", &p.api)?)?;
                        let qps = qps(None)?;
                        let category = apis[api].category;
                        if qps > category.prepaid_max_qps() {
                            return Err(self.err(
                                &format!("{key}.qps"),
                                format!(
                                    "{qps} QPS is more than the {} QPS that can be bought for `{category}` APIs; \
                                        beyond that the platform requires contacting sales",
                                    category.prepaid_max_qps()
                                ),
                            ));
                        }
                        let from =
                            self.instant(&format!("{key}.from"), self.required(&key, &p.kind, "from", &p.from)?)?;
                        let until =
                            self.instant(&format!("{key}.until"), self.required(&key, &p.kind, "until", &p.until)?)?;
                        if until <= from {
                            return Err(self.err(&format!("{key}.until"), "must be after `from`"));
                        }
                        let price = self.price(&format!("{key}.price"), p.price)?;
                        plans.prepaid.push(PrepaidQps {
                            name: name("prepaid-qps"),
                            account: a,
                            api,
                            qps,
                            from,
                            until,
                            price,
                        });
                    }
                    PlanKind::ResourcePackage => {
                        let scope = match (&p.api, &p.category) {
                            (Some(_), Some(_)) => {
                                return Err(self.err(
                                    &key,
                                    "a package covers one `api` or one `category`, not both (neither: every API)",
                                ));
                            }
                            (Some(n), None) => Scope::Api(api("api", n)?),
                            (None, Some(c)) => Scope::Category(Category::parse(c).ok_or_else(|| {
                                self.err(
                                    &format!("{key}.category"),
                                    format!("`{c}` is not valid; expected one of {}", category_names()),
                                )
                            })?),
                            (None, None) => Scope::All,
                        };
                        let calls = *self.required(&key, &p.kind, "calls", &p.calls)?;
                        if calls < 1 {
                            return Err(self.err(
                                &format!("{key}.calls"),
                                format!("{calls} is not valid; expected the package's calls, >= 1"),
                            ));
                        }
                        let bought =
                            self.instant(&format!("{key}.bought"), self.required(&key, &p.kind, "bought", &p.bought)?)?;
                        let active_from = match &p.from {
                            Some(f) => self.instant(&format!("{key}.from"), f)?,
                            None => package_activation(bought).ok_or_else(|| {
                                self.err(
                                    &format!("{key}.bought"),
                                    "the day after it is past the last date the calendar holds (9999-12-31)",
                                )
                            })?,
                        };
                        let until = p.until.as_deref().map(|u| self.instant(&format!("{key}.until"), u)).transpose()?;
                        if until.is_some_and(|u| u <= active_from) {
                            return Err(self.err(
                                &format!("{key}.until"),
                                format!("must be after the package takes effect ({active_from})"),
                            ));
                        }
                        let price = self.price(&format!("{key}.price"), p.price)?;
                        let qps = qps(Some(PACKAGE_QPS))?;
                        plans.packages.push(ResourcePackage {
                            name: name("package"),
                            account: a,
                            scope,
                            qps,
                            calls: calls as u64,
                            bought,
                            active_from,
                            until,
                            price,
                        });
                    }
                    PlanKind::PayAsYouGo => {
                        let api = api("api", self.required(&key, &p.kind, "api", &p.api)?)?;
                        payg.insert((a, api), qps(None)?);
                    }
                }
            }
        }
        Ok((plans, payg))
    }
}

pub(super) fn category_names() -> String {
    let names: Vec<String> = Category::ALL.iter().map(|c| format!("`{}`", c.name())).collect();
    format!("{} (or `background-removal`)", names.join(", "))
}
