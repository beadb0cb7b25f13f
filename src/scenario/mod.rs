//! Scenario: reads a TOML scenario file and validates it into the domain types the engine runs.
//!
//! Two stages, in one place: [`raw`] mirrors the file (serde, unknown keys rejected), then [`Scenario::parse`]
//! checks every value and resolves every name (accounts, APIs, sub-accounts) to an index. Anything wrong is a
//! [`ScenarioError`] naming the file, the line, the key and what would be valid; nothing past this module
//! needs to check its input again.

mod clients;
mod dists;
mod error;
mod limits;
mod locate;
mod offers;
mod plans;
pub mod raw;
mod strategies;
mod trace;

pub use error::ScenarioError;
use error::plain_types;

use crate::quota::plans::{Plans, Tiers};
use crate::quota::{Category, LimiterSpec, OnPlanChange, UnitLimit, WindowLimit};
use crate::time::{NANOS_PER_SEC, Nanos, parse_duration, parse_instant};
use crate::workload::trace::MAX_UNITS;
use crate::workload::{
    Adaptive, ApiChoice, Arrivals, Budget, BudgetScope, Client, ClientModel, Cost, Dist, Jitter, Pace, RateShape,
    RetryPolicy,
};
use jiff::Timestamp;
use jiff::tz::Offset;
use jiff::tz::TimeZone;
use locate::Locator;
pub use offers::{MAX_CHOICES, Offer, OfferKind, PrepaidPrice};
use raw::{RawDist, RawRetry, RawScenario};
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone, Debug)]
pub struct Api {
    pub name: String,
    pub category: Category,
    pub latency: Dist,
    /// The pay-as-you-go limit: the category's default unless the scenario overrides it.
    pub payg_qps: u32,
    /// Pay-as-you-go prices, if the scenario gives them.
    pub prices: Option<Tiers>,
    /// How the platform admits calls to this API: `[server]`'s rule unless the API sets its own.
    pub limiter: LimiterSpec,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct SubAccount {
    pub account: usize,
    pub name: String,
}

/// A validated scenario: every name resolved, every value in range.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub seed: u64,
    pub start: Timestamp,
    /// The offset `start` was written with; outputs show instants in it.
    pub offset: Offset,
    pub duration: Nanos,
    /// `[server]`'s admission rule; each API's own is in [`Api::limiter`].
    pub limiter: LimiterSpec,
    /// How long a throttled attempt takes to come back to its caller.
    pub throttle_latency: Nanos,
    pub on_plan_change: OnPlanChange,
    pub apis: Vec<Api>,
    pub accounts: Vec<Account>,
    /// Every (account, sub-account) pair some client calls from, in order of first mention.
    pub sub_accounts: Vec<SubAccount>,
    pub clients: Vec<Client>,
    pub plans: Plans,
    /// Pay-as-you-go QPS set by an account's `pay-as-you-go` plan, per (account, API); every other pair has
    /// its API's. Sparse, so a scenario declaring many accounts and APIs costs nothing for the pairs.
    pub payg_overrides: HashMap<(usize, usize), u32>,
}

/// The study around a scenario, written in the same file but not part of the model a run plays: what
/// `advise` may buy (`[[offer]]`) and the defaults of `sweep` (`[sweep]`).
#[derive(Clone, Debug, Default)]
pub struct Study {
    pub offers: Vec<Offer>,
    pub sweep: SweepDefaults,
}

/// The `[sweep]` table: parameters as `KEY=VALUES` text (checked by the sweep), replications, zip.
#[derive(Clone, Debug, Default)]
pub struct SweepDefaults {
    pub params: Vec<String>,
    pub reps: Option<u32>,
    pub zip: bool,
}

/// The largest scenario file read: a bigger one is refused before it is read whole.
pub const MAX_SCENARIO_BYTES: u64 = 64 << 20;
/// How deep keys and values may nest (the deepest real scenario key is five levels).
const MAX_NESTING: usize = 32;

/// Reads a scenario file of at most [`MAX_SCENARIO_BYTES`] as UTF-8 text; bytes that are not UTF-8 are an
/// error naming their line.
pub fn read_text(path: &Path) -> Result<String, crate::Error> {
    use std::io::Read;
    let name = path.display().to_string();
    let read = |source| crate::Error::Read { path: name.clone(), source };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(MAX_SCENARIO_BYTES + 1).read_to_end(&mut bytes).map_err(read)?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(crate::Error::BadInput(format!(
            "{name}: larger than {} MiB, the most a scenario file may be (is it a scenario?)",
            MAX_SCENARIO_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        crate::Error::Scenario(ScenarioError {
            file: name.clone(),
            line,
            key: "(file)".into(),
            message: format!("byte {} is not UTF-8 text; a scenario is UTF-8 TOML", at + 1),
        })
    })
}

/// The buckets of an SRE throttle's sliding history.
pub const SRE_BUCKETS: usize = 120;

/// The variant that changes nothing: the scenario as written.
pub const BASELINE: &str = "baseline";

/// The sub-account a client calls from when it names none: the main account itself.
pub const MAIN_SUB_ACCOUNT: &str = "main";
const MAX_THREADS: i64 = 1_000_000;

impl Scenario {
    /// Reads and validates a scenario file; errors name `path` as given.
    pub fn load(path: &Path) -> Result<Scenario, crate::Error> {
        let text = read_text(path)?;
        Ok(Scenario::parse(&text, &path.display().to_string())?)
    }

    /// Validates scenario text; `file` is the name used in error messages.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse_study(text, file).map(|(scenario, _)| scenario)
    }

    /// Validates scenario text, and the study around it (offers, sweep defaults).
    pub fn parse_study(text: &str, file: &str) -> Result<(Scenario, Study), ScenarioError> {
        if let Some((line, depth)) = locate::deepest_nesting(text).filter(|(_, d)| *d > MAX_NESTING) {
            return Err(ScenarioError {
                file: file.to_string(),
                line,
                key: "(file)".into(),
                message: format!("keys and values nest {depth} deep here; a scenario nests at most {MAX_NESTING} deep"),
            });
        }
        let ctx = Ctx { file, loc: Locator::new(text) };
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            // A missing field's span is the table that lacks it: a `[header]` or `{ inline }` table, else
            // the top level.
            let nested = text.get(at..).is_some_and(|t| t.starts_with(['[', '{']));
            let missing = e.message().starts_with("missing field");
            let table = if missing && !nested { String::new() } else { ctx.loc.key_at(at) };
            let key = match e.message().strip_prefix("missing field `").and_then(|m| m.split_once('`')) {
                Some((field, _)) if table.is_empty() => field.to_string(),
                Some((field, _)) => format!("{table}.{field}"),
                None => table,
            };
            let mut message = plain_types(e.message().trim(), &key);
            // A top-level key that is missing belongs to the file's top level, before its first table: point
            // at the first key there, not at line 1 (often a comment), and show the key written out.
            let mut line = ctx.loc.line_of_offset(at);
            if missing && !nested {
                let first_key = text.lines().position(|l| {
                    let l = l.trim_start();
                    !l.is_empty() && !l.starts_with('#')
                });
                line = first_key.map_or(line, |i| i + 1);
                let example = match key.as_str() {
                    "start" => Some("start = \"2026-11-26T09:00:00+08:00\""),
                    "duration" => Some("duration = \"10m\""),
                    "name" => Some("name = \"my-scenario\""),
                    _ => None,
                };
                if let Some(example) = example {
                    message.push_str(&format!(" at the top level, before the first [table]; e.g. `{example}`"));
                }
            }
            ScenarioError {
                file: file.to_string(),
                line,
                key: if key.is_empty() { "(file)".into() } else { key },
                message,
            }
        })?;
        ctx.validate(raw)
    }

    /// Things a user likely did not mean but that are valid: a resource package that takes effect only
    /// after the run has ended (bought the same morning: its 5 QPS start at 08:00 UTC+8 the next day).
    pub fn warnings(&self) -> Vec<String> {
        let end = self.start.checked_add(jiff::SignedDuration::from_nanos(self.duration as i64)).unwrap_or(self.start);
        self.plans
            .packages
            .iter()
            .filter(|p| p.active_from >= end)
            .map(|p| {
                format!(
                    "warning: resource package `{}` takes effect at {}, after the run ends ({}): bought {}, a \
                        package's 5 QPS start at 08:00 UTC+8 the next day; move `bought` earlier or give `from`",
                    p.name,
                    p.active_from.display_with_offset(self.offset),
                    end.display_with_offset(self.offset),
                    p.bought.display_with_offset(self.offset)
                )
            })
            .collect()
    }

    /// The longest window any API's limiter counts over.
    pub fn longest_window(&self) -> Nanos {
        self.apis.iter().map(|a| a.limiter.longest_window()).max().unwrap_or(NANOS_PER_SEC)
    }

    /// Every (account, API) pair some client can call, sorted: the quotas a run keeps.
    pub fn quota_pairs(&self) -> Vec<(usize, usize)> {
        let mut pairs: Vec<(usize, usize)> =
            self.clients.iter().flat_map(|c| c.apis.apis().iter().map(move |&api| (c.account, api))).collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    /// The pay-as-you-go QPS of `account` for `api`.
    pub fn payg_qps(&self, account: usize, api: usize) -> u32 {
        self.payg_overrides.get(&(account, api)).copied().unwrap_or(self.apis[api].payg_qps)
    }

    /// `t` after the start, as RFC 3339 in the scenario's offset.
    /// `t` after the start on the scenario's clock, to the second: `2026-11-26 13:33:19`.
    pub fn clock_text(&self, t: Nanos) -> String {
        let at = self.start.checked_add(jiff::SignedDuration::from_nanos(t as i64)).unwrap_or(self.start);
        self.offset.to_datetime(at).strftime("%Y-%m-%d %H:%M:%S").to_string()
    }

    pub fn instant_text(&self, t: Nanos) -> String {
        let at = self.start.checked_add(jiff::SignedDuration::from_nanos(t as i64)).unwrap_or(self.start);
        at.display_with_offset(self.offset).to_string()
    }
}

struct Ctx<'a> {
    file: &'a str,
    loc: Locator<'a>,
}

type Result<T, E = ScenarioError> = std::result::Result<T, E>;

impl Ctx<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            line: self.loc.line(key),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn duration(&self, key: &str, text: &str) -> Result<Nanos> {
        parse_duration(text).map_err(|m| self.err(key, m))
    }

    fn positive_duration(&self, key: &str, text: &str) -> Result<Nanos> {
        match self.duration(key, text)? {
            0 => Err(self.err(key, format!("`{text}` must be longer than zero"))),
            d => Ok(d),
        }
    }

    fn one_of<T: Copy>(&self, key: &str, text: &str, options: &[(&str, T)]) -> Result<T> {
        options.iter().find(|(name, _)| *name == text).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<String> = options.iter().map(|(n, _)| format!("`{n}`")).collect();
            let message = format!("`{text}` is not valid; expected one of {}", names.join(", "));
            self.err(key, crate::text::with_hint(message, text, options.iter().map(|(n, _)| *n)))
        })
    }

    fn unique<'n>(&self, section: &str, names: impl Iterator<Item = &'n str>) -> Result<HashMap<&'n str, usize>> {
        let mut seen = HashMap::new();
        for (i, name) in names.enumerate() {
            if name.trim().is_empty() {
                return Err(self.err(&format!("{section}[{i}].name"), "must not be empty"));
            }
            if seen.insert(name, i).is_some() {
                return Err(self
                    .err(&format!("{section}[{i}].name"), format!("`{name}` is defined twice; names must be unique")));
            }
        }
        Ok(seen)
    }

    /// Refuses the first key of `present` (written or not) that `what` (e.g. "policy `fixed`") does not
    /// take, naming it under `key` and listing what it takes.
    fn takes_only(&self, key: &str, what: &str, present: &[(&str, bool)], takes: &[&str]) -> Result<()> {
        match present.iter().find(|(f, on)| *on && !takes.contains(f)) {
            None => Ok(()),
            Some((f, _)) => {
                let list = if takes.is_empty() { "nothing else".to_string() } else { takes.join(", ") };
                Err(self.err(&format!("{key}.{f}"), format!("{what} takes no `{f}`; it takes {list}")))
            }
        }
    }

    /// `[[variant]]`s: each named once, not `baseline`, setting something, with paths of fields.
    fn variants(&self, variants: &[raw::RawVariant]) -> Result<()> {
        self.unique("variant", variants.iter().map(|v| v.name.as_str()))?;
        for (i, v) in variants.iter().enumerate() {
            if v.name == BASELINE {
                return Err(self.err(
                    &format!("variant[{i}].name"),
                    "`baseline` names the scenario as written; give the variant another name",
                ));
            }
            if v.set.is_empty() {
                return Err(self.err(&format!("variant[{i}].set"), "sets nothing; give it at least one key"));
            }
            if let Some(empty) = v.set.keys().find(|k| k.split('.').any(|part| part.trim().is_empty())) {
                return Err(self.err(
                    &format!("variant[{i}].set"),
                    format!(
                        "`{}` has an empty field name; give a path of fields such as `client.workers.threads`",
                        empty.escape_debug()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `[[api]]`s: each named once, with its category, pay-as-you-go QPS, response time, prices and
    /// limiter (its own, or `[server]`'s), and its unit limit.
    fn apis<'r>(
        &self,
        raw_apis: &'r [raw::RawApi],
        server_limiter: &LimiterSpec,
    ) -> Result<(Vec<Api>, HashMap<&'r str, usize>)> {
        let api_index = self.unique("api", raw_apis.iter().map(|a| a.name.as_str()))?;
        if raw_apis.is_empty() {
            return Err(self.err("api", "at least one [[api]] is needed"));
        }
        let mut apis = Vec::with_capacity(raw_apis.len());
        for (i, a) in raw_apis.iter().enumerate() {
            let key = format!("api[{i}]");
            let category = match a.category.as_deref() {
                None => Category::Other,
                Some(c) => Category::parse(c).ok_or_else(|| {
                    let names: Vec<String> = Category::ALL.iter().map(|c| format!("`{}`", c.name())).collect();
                    self.err(
                        &format!("{key}.category"),
                        format!("`{c}` is not valid; expected one of {} (or `background-removal`)", names.join(", ")),
                    )
                })?,
            };
            let payg_qps = match a.qps {
                None => category.default_qps(),
                Some(q) if (1..=i64::from(u32::MAX)).contains(&q) => q as u32,
                Some(q) => {
                    return Err(self
                        .err(&format!("{key}.qps"), format!("{q} is not valid; expected a whole number of QPS >= 1")));
                }
            };
            let latency = self.dist(&format!("{key}.latency"), &a.latency)?;
            let prices = a.prices.as_deref().map(|t| self.tiers(&format!("{key}.prices"), t)).transpose()?;
            let keys = a.limiter_keys();
            let mut limiter = match (keys.limiter, keys.present().iter().find(|(_, on)| *on)) {
                (Some(_), _) => self.limiter_spec(&key, keys)?,
                (None, Some((f, _))) => {
                    return Err(self.err(
                        &format!("{key}.{f}"),
                        "belongs to a limiter: set this API's `limiter` too (an API without one uses [server]'s)",
                    ));
                }
                (None, None) => server_limiter.clone(),
            };
            limiter.units = a.units.as_ref().map(|u| self.units(&format!("{key}.units"), u)).transpose()?;
            apis.push(Api { name: a.name.clone(), category, latency, payg_qps, prices, limiter });
        }
        Ok((apis, api_index))
    }

    /// An API with a unit limit needs its callers to say what a call costs, and no call may cost more than
    /// a window allows.
    fn costs_meet_units(&self, apis: &[Api], clients: &[Client]) -> Result<()> {
        for (i, api) in apis.iter().enumerate() {
            let Some(units) = api.limiter.units else { continue };
            let callers = || clients.iter().filter(|c| c.apis.apis().contains(&i));
            if callers().all(|c| c.cost.is_none()) {
                return Err(self.err(
                    &format!("api[{i}].units"),
                    "this API has a unit limit but no client calling it gives `cost`; set `cost` on its clients (a \
                        number, a distribution, or trace columns)",
                ));
            }
            if let Some(c) = callers().find(|c| matches!(c.cost, Some(Cost::Units(u)) if u > units.limit)) {
                return Err(self.err(
                    &format!("api[{i}].units.limit"),
                    format!(
                        "client `{}` spends more units a call than the limit allows a window: no call would ever \
                        be admitted",
                        c.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate(&self, raw: RawScenario) -> Result<(Scenario, Study)> {
        let base = Path::new(self.file).parent().unwrap_or(Path::new(""));
        check_name(&raw.name).map_err(|m| self.err("name", m))?;
        let (start, offset) = parse_instant(&raw.start).map_err(|m| self.err("start", m))?;
        let duration = self.positive_duration("duration", &raw.duration)?;
        if i64::try_from(duration)
            .ok()
            .and_then(|d| start.checked_add(jiff::SignedDuration::from_nanos(d)).ok())
            .is_none()
        {
            let why = if i64::try_from(duration).is_err() {
                "is longer than a run can be: at most about 292 years (2^63 ns)"
            } else {
                "the run would end past the last instant the calendar holds (9999-12-31)"
            };
            return Err(self.err("duration", why));
        }

        let s = &raw.server;
        let server_limiter = self.limiter_spec("server", s.limiter_keys())?;
        // Zero would let a throttled caller try again at the same instant forever: time must move.
        let throttle_latency = s
            .throttle_latency
            .as_deref()
            .map_or(Ok(DEFAULT_THROTTLE_LATENCY), |t| self.positive_duration("server.throttle_latency", t))?;
        let on_plan_change = self.one_of(
            "server.plan_change",
            s.plan_change.as_deref().unwrap_or("carry-over"),
            &[("carry-over", OnPlanChange::CarryOver), ("reset", OnPlanChange::Reset)],
        )?;

        self.variants(&raw.variants)?;
        let (apis, api_index) = self.apis(&raw.apis, &server_limiter)?;

        let account_index = self.unique("account", raw.accounts.iter().map(|a| a.name.as_str()))?;
        if raw.accounts.is_empty() {
            return Err(self.err("account", "at least one [[account]] is needed"));
        }
        let accounts = raw.accounts.iter().map(|a| Account { name: a.name.clone() }).collect();
        let (plans, payg_overrides) = self.plans(&raw.accounts, &apis, &api_index)?;
        let offers = self.offers(&raw.offers, &apis, &api_index, &account_index)?;
        let sweep = match &raw.sweep {
            None => SweepDefaults::default(),
            Some(s) => SweepDefaults {
                params: s.param.clone(),
                reps: match s.reps {
                    None => None,
                    Some(n) if (1..=i64::from(u32::MAX)).contains(&n) => Some(n as u32),
                    Some(n) => {
                        return Err(
                            self.err("sweep.reps", format!("{n} is not valid; expected replications per point, >= 1"))
                        );
                    }
                },
                zip: s.zip.unwrap_or(false),
            },
        };
        let limits = apis
            .iter()
            .map(|a| &a.payg_qps)
            .chain(payg_overrides.values())
            .chain(plans.prepaid.iter().map(|p| &p.qps))
            .chain(plans.packages.iter().map(|p| &p.qps));
        if let Some((i, qps)) = limits
            .copied()
            .flat_map(|q| (0..apis.len()).map(move |i| (i, q)))
            .find(|&(i, q)| apis[i].limiter.least_capacity(q) == 0)
        {
            let field = if apis[i].limiter.more.is_empty() { "window" } else { "windows" };
            let key = match raw.apis[i].limiter {
                Some(_) => format!("api[{i}].{field}"),
                None => format!("server.{field}"),
            };
            return Err(self.err(
                &key,
                format!(
                    "a window this short admits no call at {qps} QPS; the window times every limit must reach 1 call"
                ),
            ));
        }

        self.unique("client", raw.clients.iter().map(|c| c.name.as_str()))?;
        if raw.clients.is_empty() {
            return Err(self.err("client", "at least one [[client]] is needed"));
        }
        let mut sub_accounts: Vec<SubAccount> = Vec::new();
        let mut sub_index: HashMap<(usize, &str), usize> = HashMap::new();
        let mut clients = Vec::with_capacity(raw.clients.len());
        for (i, c) in raw.clients.iter().enumerate() {
            let key = format!("client[{i}]");
            let account = *account_index.get(c.account.as_str()).ok_or_else(|| {
                self.err(
                    &format!("{key}.account"),
                    format!(
                        "no [[account]] is named `{}`; defined: {}",
                        c.account,
                        list(raw.accounts.iter().map(|a| &a.name))
                    ),
                )
            })?;
            let sub_name = c.sub_account.as_deref().unwrap_or(MAIN_SUB_ACCOUNT);
            let sub_account = *sub_index.entry((account, sub_name)).or_insert_with(|| {
                sub_accounts.push(SubAccount { account, name: sub_name.to_string() });
                sub_accounts.len() - 1
            });
            let find_api = |k: &str, name: &str| -> Result<usize> {
                api_index.get(name).copied().ok_or_else(|| {
                    self.err(
                        k,
                        format!("no [[api]] is named `{name}`; defined: {}", list(raw.apis.iter().map(|a| &a.name))),
                    )
                })
            };
            let model = self.client_model(&key, c, (start, offset), &api_index, base)?;
            let choice = match (&model, &c.api, &c.mix) {
                // A trace's rows name their APIs; the choice lists those the mapping can give.
                (ClientModel::Trace(spec), _, None) => {
                    let apis = spec.api.apis();
                    let cumulative = (1..=apis.len()).map(|w| w as f64).collect();
                    ApiChoice::Mix { apis, cumulative }
                }
                (_, Some(name), None) => ApiChoice::Single(find_api(&format!("{key}.api"), name)?),
                (_, None, Some(mix)) if !mix.is_empty() => {
                    let (mut ids, mut cumulative, mut total) = (Vec::new(), Vec::new(), 0.0);
                    for (j, m) in mix.iter().enumerate() {
                        if !(m.weight.is_finite() && m.weight > 0.0) {
                            return Err(self.err(
                                &format!("{key}.mix[{j}].weight"),
                                format!(
                                    "{} is not valid; \
                                expected a number > 0",
                                    m.weight
                                ),
                            ));
                        }
                        ids.push(find_api(&format!("{key}.mix[{j}].api"), &m.api)?);
                        total += m.weight;
                        if !total.is_finite() {
                            return Err(self.err(
                                &format!("{key}.mix[{j}].weight"),
                                "the weights add up to more than \
                                a number can hold; use smaller weights (only their ratios matter)",
                            ));
                        }
                        cumulative.push(total);
                    }
                    ApiChoice::Mix { apis: ids, cumulative }
                }
                _ => {
                    return Err(self.err(
                        &key,
                        "needs exactly one of `api = \"Name\"` or a non-empty `mix = [{ api = \
                    \"Name\", weight = 1 }, ...]`",
                    ));
                }
            };
            let retry = c
                .retry
                .as_ref()
                .map_or(Ok(RetryPolicy::PLATFORM_ADVICE), |r| self.retry(&format!("{key}.retry"), r))?;
            // A replayed log is the attempts by default: a throttled row is dropped, not retried.
            let retry = match (&model, c.trace.as_ref().and_then(|t| t.on_throttle.as_deref())) {
                (ClientModel::Trace(_), on_throttle) => {
                    match self.one_of(
                        &format!("{key}.trace.on_throttle"),
                        on_throttle.unwrap_or("drop"),
                        &[("drop", false), ("retry", true)],
                    )? {
                        true => retry,
                        false if c.retry.is_some() => {
                            return Err(self.err(
                                &format!("{key}.retry"),
                                "a trace with `on_throttle = \"drop\"` does not retry; set `on_throttle = \"retry\"`",
                            ));
                        }
                        false => RetryPolicy::None,
                    }
                }
                _ => retry,
            };
            let budget = c
                .retry
                .as_ref()
                .and_then(|r| r.budget.as_ref())
                .map(|b| self.budget(&format!("{key}.retry.budget"), b))
                .transpose()?;
            // Clients sharing a budget's scope share its tokens: they must agree on what it is.
            if let Some(other) =
                budget.and_then(|(b, scope)| scope.conflict(b, &clients, (sub_account, account), |o| o.budget))
            {
                return Err(self.err(
                    &format!("{key}.retry.budget"),
                    format!(
                        "client `{}` shares this budget's scope with another budget; clients sharing a scope \
                        must declare the same budget",
                        other.name
                    ),
                ));
            }
            let adaptive = c.adaptive.as_ref().map(|a| self.adaptive(&format!("{key}.adaptive"), a)).transpose()?;
            let pace = c.pace.as_ref().map(|p| self.pace(&format!("{key}.pace"), p)).transpose()?;
            if let (Some(Adaptive::Atb(_) | Adaptive::Aatb(_)), Some(_)) = (adaptive, pace) {
                return Err(self.err(
                    &format!("{key}.pace"),
                    "an `atb` or `aatb` client paces itself with its own token bucket; remove `pace` (or choose \
                        another `adaptive`)",
                ));
            }
            if let Some(other) =
                pace.and_then(|(p, scope)| scope.conflict(p, &clients, (sub_account, account), |o| o.pace))
            {
                return Err(self.err(
                    &format!("{key}.pace"),
                    format!(
                        "client `{}` shares this pacer's scope with another pace; clients sharing a scope must \
                        declare the same pace",
                        other.name
                    ),
                ));
            }
            let cost = c
                .cost
                .as_ref()
                .map(|v| self.cost(&format!("{key}.cost"), v, matches!(model, ClientModel::Trace(_))))
                .transpose()?;
            // A cost is spent only against a unit limit: without one it would be ignored.
            if cost.is_some() && choice.apis().iter().all(|&a| apis[a].limiter.units.is_none()) {
                return Err(self.err(
                    &format!("{key}.cost"),
                    "none of this client's APIs has a unit limit, so its cost would count against nothing; add \
                        `units = { limit = ..., window = ... }` to the [[api]] or remove `cost`",
                ));
            }
            clients.push(Client {
                name: c.name.clone(),
                account,
                sub_account,
                apis: choice,
                model,
                retry,
                budget,
                pace,
                adaptive,
                cost,
            });
        }

        self.costs_meet_units(&apis, &clients)?;

        let scenario = Scenario {
            name: raw.name,
            seed: raw.seed,
            start,
            offset,
            duration,
            limiter: server_limiter,
            throttle_latency,
            on_plan_change,
            apis,
            accounts,
            sub_accounts,
            clients,
            plans,
            payg_overrides,
        };
        Ok((scenario, Study { offers, sweep }))
    }
}

/// A scenario's name names its output folder: it must be a plain name, never a path.
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if name == "." || name == ".." || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(format!(
            "`{}` is not valid; the name names the output folder, so it may not be `.` or `..` or hold `/`, `\\` or \
                control characters",
            name.escape_debug()
        ));
    }
    if name.len() > 200 {
        return Err("is longer than 200 bytes".into());
    }
    Ok(())
}

/// An exponential backoff's cap when the scenario gives none (the AWS SDKs' default maximum backoff).
pub const DEFAULT_BACKOFF_CAP: Nanos = 20 * NANOS_PER_SEC;

/// A throttled call comes back quickly: the platform rejects at once rather than queueing.
pub const DEFAULT_THROTTLE_LATENCY: Nanos = 10_000_000;

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
