//! Validation of `[[offer]]` tables: what `quotasim advise` may buy (prepaid QPS in steps, resource
//! packages in sizes), each with its price.

use super::raw::RawOffer;
use super::{Api, Ctx, Result};
use crate::quota::Category;
use std::collections::HashMap;

/// Something that can be bought, and the choices it offers.
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    pub name: String,
    pub account: usize,
    pub kind: OfferKind,
    /// What its prices are in (`CNY`), when it says; every offer that says names the same.
    pub currency: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OfferKind {
    /// Prepaid QPS for one API: one of `qps`, over one of `hours` (None: the whole run; else a daily
    /// window, minutes from midnight in the scenario's offset, start inclusive, end exclusive).
    PrepaidQps { api: usize, qps: Vec<u32>, hours: Vec<Option<(u32, u32)>>, price: PrepaidPrice },
    /// A resource package for an API or a category: one of `sizes` (calls, price), active from the start.
    Package { api: Option<usize>, category: Option<Category>, sizes: Vec<(u64, f64)> },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PrepaidPrice {
    /// Per QPS and per day the purchase covers any part of.
    PerQpsDay(f64),
    /// Per QPS and per hour covered.
    PerQpsHour(f64),
}

/// The most choices one offer may list.
pub const MAX_CHOICES: usize = 64;

/// The largest price an offer may name: far past any budget, and small enough that a bill of any
/// combination stays finite.
const MAX_PRICE: f64 = 1e15;

const PREPAID_KEYS: [&str; 7] = ["type", "name", "account", "api", "qps", "hours", "price_per_qps_day"];
const PACKAGE_KEYS: [&str; 7] = ["type", "name", "account", "api", "category", "calls", "prices"];

/// `"09:00-18:00"` as minutes from midnight.
fn daily_window(text: &str) -> Option<(u32, u32)> {
    let minute = |hm: &str| -> Option<u32> {
        let (h, m) = hm.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
    };
    let (a, b) = text.split_once('-')?;
    let (a, b) = (minute(a)?, minute(b)?);
    (a < b).then_some((a, b))
}

impl Ctx<'_> {
    pub(super) fn offers(
        &self,
        raw: &[RawOffer],
        apis: &[Api],
        api_index: &HashMap<&str, usize>,
        account_index: &HashMap<&str, usize>,
    ) -> Result<Vec<Offer>> {
        let mut offers = Vec::with_capacity(raw.len());
        for (i, o) in raw.iter().enumerate() {
            let key = format!("offer[{i}]");
            let k = |f: &str| format!("{key}.{f}");
            let prepaid = self.one_of(&k("type"), &o.kind, &[("prepaid-qps", true), ("resource-package", false)])?;
            let present = [
                ("type", true),
                ("name", o.name.is_some()),
                ("account", o.account.is_some()),
                ("api", o.api.is_some()),
                ("category", o.category.is_some()),
                ("qps", o.qps.is_some()),
                ("hours", o.hours.is_some()),
                ("price_per_qps_day", o.price_per_qps_day.is_some()),
                ("price_per_qps_hour", o.price_per_qps_hour.is_some()),
                ("calls", o.calls.is_some()),
                ("prices", o.prices.is_some()),
                ("currency", o.currency.is_some()),
            ];
            let mut takes: Vec<&str> = if prepaid { PREPAID_KEYS.to_vec() } else { PACKAGE_KEYS.to_vec() };
            if prepaid {
                takes.push("price_per_qps_hour");
            }
            takes.push("currency");
            self.takes_only(&key, &format!("a `{}` offer", o.kind), &present, &takes)?;
            let account = match &o.account {
                None if account_index.len() == 1 => 0,
                None => return Err(self.err(&k("account"), "name the [[account]] that would buy it")),
                Some(name) => *account_index
                    .get(name.as_str())
                    .ok_or_else(|| self.err(&k("account"), format!("no [[account]] is named `{name}`")))?,
            };
            let api = o
                .api
                .as_deref()
                .map(|name| {
                    api_index
                        .get(name)
                        .copied()
                        .ok_or_else(|| self.err(&k("api"), format!("no [[api]] is named `{name}`")))
                })
                .transpose()?;
            let choices = |field: &str, n: usize| -> Result<()> {
                match n {
                    0 => Err(self.err(&k(field), "is empty; list at least one choice")),
                    n if n > MAX_CHOICES => {
                        Err(self.err(&k(field), format!("lists {n} choices; at most {MAX_CHOICES}")))
                    }
                    _ => Ok(()),
                }
            };
            // Bounded so that every bill the search makes of it (price × QPS × days) stays a finite number.
            let price_ok = |field: &str, p: f64| -> Result<f64> {
                if p.is_finite() && (0.0..=MAX_PRICE).contains(&p) {
                    Ok(p)
                } else {
                    Err(self.err(&k(field), format!("{p} is not valid; expected a price from 0 to {MAX_PRICE:e}")))
                }
            };
            let kind = if prepaid {
                let api = api.ok_or_else(|| self.err(&key, "a `prepaid-qps` offer needs `api`"))?;
                let qps_list = o.qps.as_deref().ok_or_else(|| {
                    self.err(&key, "a `prepaid-qps` offer needs `qps`, the amounts to consider, e.g. [5, 10, 20]")
                })?;
                choices("qps", qps_list.len())?;
                let most = apis[api].category.prepaid_max_qps();
                let mut qps = Vec::with_capacity(qps_list.len());
                for (j, &q) in qps_list.iter().enumerate() {
                    if !(1..=i64::from(most)).contains(&q) {
                        return Err(self.err(
                            &k(&format!("qps[{j}]")),
                            format!(
                                "{q} is not valid; expected 1 to {most}, the most prepaid QPS `{}` can have \
                                without contacting sales",
                                apis[api].name
                            ),
                        ));
                    }
                    qps.push(q as u32);
                }
                let hours = match &o.hours {
                    None => vec![None],
                    Some(list) => {
                        choices("hours", list.len())?;
                        let mut out = Vec::with_capacity(list.len());
                        for (j, h) in list.iter().enumerate() {
                            out.push(match h.as_str() {
                                "all" => None,
                                text => Some(daily_window(text).ok_or_else(|| {
                                    self.err(
                                        &k(&format!("hours[{j}]")),
                                        format!(
                                            "`{text}` is not valid; expected `all` or a daily window such as \
                                            `09:00-18:00`"
                                        ),
                                    )
                                })?),
                            });
                        }
                        out
                    }
                };
                let price = match (o.price_per_qps_day, o.price_per_qps_hour) {
                    (Some(p), None) => PrepaidPrice::PerQpsDay(price_ok("price_per_qps_day", p)?),
                    (None, Some(p)) => PrepaidPrice::PerQpsHour(price_ok("price_per_qps_hour", p)?),
                    (Some(_), Some(_)) => {
                        return Err(self.err(
                            &k("price_per_qps_hour"),
                            "give `price_per_qps_day` or `price_per_qps_hour`, not both",
                        ));
                    }
                    (None, None) => {
                        return Err(self.err(
                            &key,
                            "a `prepaid-qps` offer needs a price: `price_per_qps_day` or `price_per_qps_hour`",
                        ));
                    }
                };
                OfferKind::PrepaidQps { api, qps, hours, price }
            } else {
                let category = o
                    .category
                    .as_deref()
                    .map(|c| {
                        Category::parse(c).ok_or_else(|| {
                            self.err(
                                &k("category"),
                                format!("`{c}` is not valid; expected one of {}", super::plans::category_names()),
                            )
                        })
                    })
                    .transpose()?;
                if api.is_some() == category.is_some() {
                    return Err(self.err(&key, "a `resource-package` offer needs exactly one of `api` or `category`"));
                }
                let calls = o.calls.as_deref().ok_or_else(|| {
                    self.err(
                        &key,
                        "a `resource-package` offer needs `calls`, the sizes to consider, e.g. [10000, 50000]",
                    )
                })?;
                let prices = o.prices.as_deref().ok_or_else(|| {
                    self.err(&key, "a `resource-package` offer needs `prices`, one per size in `calls`")
                })?;
                choices("calls", calls.len())?;
                if prices.len() != calls.len() {
                    return Err(self.err(
                        &k("prices"),
                        format!(
                            "lists {} prices for {} sizes; give one price per size in `calls`",
                            prices.len(),
                            calls.len()
                        ),
                    ));
                }
                let mut sizes = Vec::with_capacity(calls.len());
                for (j, (&c, &p)) in calls.iter().zip(prices).enumerate() {
                    if !(1..=1_000_000_000_000).contains(&c) {
                        return Err(
                            self.err(&k(&format!("calls[{j}]")), format!("{c} is not valid; expected calls >= 1"))
                        );
                    }
                    sizes.push((c as u64, price_ok(&format!("prices[{j}]"), p)?));
                }
                OfferKind::Package { api, category, sizes }
            };
            if let Some(c) = &o.currency {
                if c.is_empty() || c.chars().count() > 8 || c.chars().any(char::is_whitespace) {
                    return Err(
                        self.err(&k("currency"), format!("`{c}` is not valid; expected a short code such as `CNY`"))
                    );
                }
                if let Some(first) = offers.iter().find_map(|f: &Offer| f.currency.as_ref()).filter(|f| *f != c) {
                    return Err(self.err(
                        &k("currency"),
                        format!(
                            "`{c}` differs from `{first}` named by an earlier offer; the offers' prices add up, \
                            so they take one currency"
                        ),
                    ));
                }
            }
            offers.push(Offer {
                name: o.name.clone().unwrap_or_else(|| format!("offer-{}", i + 1)),
                account,
                kind,
                currency: o.currency.clone(),
            });
        }
        self.unique("offer", offers.iter().map(|o| o.name.as_str()))?;
        Ok(offers)
    }
}

#[cfg(test)]
mod tests {
    use super::daily_window;

    #[test]
    fn daily_windows_read_as_minutes() {
        assert_eq!(daily_window("09:00-18:00"), Some((540, 1080)));
        assert_eq!(daily_window("00:00-24:00"), Some((0, 1440)));
        assert_eq!(daily_window("18:00-09:00"), None);
        assert_eq!(daily_window("9-5"), None);
        assert_eq!(daily_window("25:00-26:00"), None);
    }
}
