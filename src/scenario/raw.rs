//! The scenario file as written: serde structs that mirror the TOML, unknown keys rejected. Numbers that
//! must be positive are read as signed so validation, not serde, can say what would be valid.

use serde::{Deserialize, Deserializer};

/// A name that is shown on terminals, in CSV cells and in charts: refused, at its key, when it holds a
/// control character (an escape sequence, a newline), which no name needs.
fn name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    match text.chars().find(|c| c.is_control()) {
        Some(c) => Err(serde::de::Error::custom(format!(
            "`{}` holds the control character U+{:04X}; a name may hold any printable text but no control characters",
            text.escape_debug(),
            c as u32
        ))),
        None => Ok(text),
    }
}

fn opt_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    name(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub seed: u64,
    pub start: String,
    pub duration: String,
    #[serde(default)]
    pub server: RawServer,
    #[serde(default, rename = "api")]
    pub apis: Vec<RawApi>,
    #[serde(default, rename = "account")]
    pub accounts: Vec<RawAccount>,
    #[serde(default, rename = "client")]
    pub clients: Vec<RawClient>,
    pub sweep: Option<RawSweep>,
    #[serde(default, rename = "variant")]
    pub variants: Vec<RawVariant>,
    #[serde(default, rename = "offer")]
    pub offers: Vec<RawOffer>,
}

/// Something `advise` may buy: `type = "prepaid-qps"` or `"resource-package"` with its choices and prices.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOffer {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "opt_name")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "opt_name")]
    pub account: Option<String>,
    #[serde(default, deserialize_with = "opt_name")]
    pub api: Option<String>,
    pub category: Option<String>,
    pub qps: Option<Vec<i64>>,
    pub hours: Option<Vec<String>>,
    pub price_per_qps_day: Option<f64>,
    pub price_per_qps_hour: Option<f64>,
    pub calls: Option<Vec<i64>>,
    pub prices: Option<Vec<f64>>,
    #[serde(default, deserialize_with = "opt_name")]
    pub currency: Option<String>,
}

/// A named set of overrides, keyed by sweep paths: `[[variant]] name = "..." set = { "client.w.retry" = ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    #[serde(deserialize_with = "name")]
    pub name: String,
    pub set: toml::Table,
}

/// `[sweep]`: what `quotasim sweep` does when its flags do not say.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    #[serde(default)]
    pub param: Vec<String>,
    pub reps: Option<i64>,
    pub zip: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub limiter: Option<String>,
    pub window: Option<String>,
    pub align: Option<String>,
    pub throttle_latency: Option<String>,
    pub plan_change: Option<String>,
    pub burst: Option<i64>,
    pub nodelay: Option<bool>,
    pub count_rejected: Option<bool>,
    pub windows: Option<Vec<RawWindow>>,
}

/// `limiter_keys()` for the tables that write a limiter's keys (serde's `flatten` cannot be used with
/// `deny_unknown_fields`, so the fields are repeated and gathered here).
macro_rules! limiter_keys {
    ($($table:ty),*) => {$(
        impl $table {
            pub fn limiter_keys(&self) -> LimiterKeys<'_> {
                LimiterKeys {
                    limiter: self.limiter.as_deref(),
                    window: self.window.as_deref(),
                    align: self.align.as_deref(),
                    burst: self.burst,
                    nodelay: self.nodelay,
                    count_rejected: self.count_rejected,
                    windows: self.windows.as_deref(),
                }
            }
        }
    )*};
}

limiter_keys!(RawServer, RawApi);

/// The keys that choose a limiter, as `[server]` and `[[api]]` both write them.
#[derive(Clone, Copy, Debug)]
pub struct LimiterKeys<'a> {
    pub limiter: Option<&'a str>,
    pub window: Option<&'a str>,
    pub align: Option<&'a str>,
    pub burst: Option<i64>,
    pub nodelay: Option<bool>,
    pub count_rejected: Option<bool>,
    pub windows: Option<&'a [RawWindow]>,
}

impl LimiterKeys<'_> {
    /// The keys given, by name (for "takes no `key`" errors).
    pub fn present(&self) -> [(&'static str, bool); 6] {
        [
            ("window", self.window.is_some()),
            ("align", self.align.is_some()),
            ("burst", self.burst.is_some()),
            ("nodelay", self.nodelay.is_some()),
            ("count_rejected", self.count_rejected.is_some()),
            ("windows", self.windows.is_some()),
        ]
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub window: String,
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnits {
    pub limit: i64,
    pub window: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    #[serde(deserialize_with = "name")]
    pub name: String,
    pub category: Option<String>,
    pub latency: RawDist,
    /// Overrides the category's pay-as-you-go QPS for this API.
    pub qps: Option<i64>,
    /// Tiered pay-as-you-go prices per call, by the month's call count.
    pub prices: Option<Vec<RawTier>>,
    /// This API's own limiter, with the keys `[server]` takes.
    pub limiter: Option<String>,
    pub window: Option<String>,
    pub align: Option<String>,
    pub burst: Option<i64>,
    pub nodelay: Option<bool>,
    pub count_rejected: Option<bool>,
    pub windows: Option<Vec<RawWindow>>,
    /// A unit (token) limit beside the request limit.
    pub units: Option<RawUnits>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    pub up_to: Option<i64>,
    pub price: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: String,
    pub mean: Option<String>,
    pub sigma: Option<f64>,
    pub min: Option<String>,
    pub max: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    #[serde(deserialize_with = "name")]
    pub name: String,
    #[serde(default, rename = "plan")]
    pub plans: Vec<RawPlan>,
}

/// One `[[account.plan]]`; which keys a plan takes depends on its `type`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "opt_name")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "opt_name")]
    pub api: Option<String>,
    pub category: Option<String>,
    pub qps: Option<i64>,
    pub calls: Option<i64>,
    pub bought: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub price: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClient {
    #[serde(deserialize_with = "name")]
    pub name: String,
    #[serde(deserialize_with = "name")]
    pub account: String,
    #[serde(default, deserialize_with = "opt_name")]
    pub sub_account: Option<String>,
    #[serde(default, deserialize_with = "opt_name")]
    pub api: Option<String>,
    pub mix: Option<Vec<RawMix>>,
    pub model: String,
    pub threads: Option<i64>,
    pub think: Option<RawDist>,
    pub rate: Option<f64>,
    pub arrivals: Option<String>,
    pub shape: Option<String>,
    pub stages: Option<Vec<RawStage>>,
    pub amplitude: Option<f64>,
    pub peak: Option<String>,
    pub on: Option<String>,
    pub off: Option<String>,
    pub ramp_up: Option<String>,
    pub requests: Option<i64>,
    pub trace: Option<RawTrace>,
    pub retry: Option<RawRetry>,
    pub pace: Option<RawPace>,
    pub adaptive: Option<RawAdaptive>,
    /// Units per request: a whole number, `{ dist = …, mean = … }` or `{ fields = ["Column", …] }`.
    pub cost: Option<toml::Value>,
}

/// Adaptive client throttling: `kind = "sre"` (k, window), `"aimd"` (increase, decrease, min_rate,
/// max_rate, rate), `"atb"` (rate, burst, tokens, congestion, step_below, step_above) or `"aatb"` (rate,
/// burst, tokens, step_light, step_heavy, period, window, delay, server_rate, scope).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdaptive {
    pub kind: String,
    pub k: Option<f64>,
    pub window: Option<String>,
    pub increase: Option<f64>,
    pub decrease: Option<f64>,
    pub min_rate: Option<f64>,
    pub max_rate: Option<f64>,
    pub rate: Option<f64>,
    pub burst: Option<f64>,
    pub tokens: Option<f64>,
    pub congestion: Option<f64>,
    pub step_below: Option<f64>,
    pub step_above: Option<f64>,
    pub step_light: Option<f64>,
    pub step_heavy: Option<f64>,
    pub period: Option<String>,
    pub delay: Option<String>,
    pub server_rate: Option<f64>,
    pub scope: Option<String>,
}

/// Client-side pacing: `rate` per second, `burst`, `scope`, `queue_limit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPace {
    pub rate: f64,
    pub burst: Option<i64>,
    pub scope: Option<String>,
    pub queue_limit: Option<i64>,
}

/// A trace client's `trace` table: the file and how to read it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    pub path: String,
    pub format: Option<String>,
    pub time: Option<String>,
    pub time_format: Option<String>,
    pub zone: Option<String>,
    pub caller: Option<String>,
    pub api_field: Option<String>,
    pub api_rules: Option<Vec<RawApiRule>>,
    pub api_default: Option<String>,
    pub latency_field: Option<String>,
    pub latency_unit: Option<String>,
    pub shift: Option<bool>,
    pub speed: Option<f64>,
    pub on_throttle: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiRule {
    pub prefix: String,
    pub api: String,
}

/// One stage of a ramp: over `duration`, move linearly to `rate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub duration: String,
    pub rate: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMix {
    #[serde(deserialize_with = "name")]
    pub api: String,
    pub weight: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub policy: String,
    pub wait: Option<String>,
    pub max_attempts: Option<i64>,
    pub base: Option<String>,
    pub multiplier: Option<f64>,
    pub cap: Option<String>,
    /// A jitter's name (`exponential`) or a duration (`retry-after`).
    pub jitter: Option<String>,
    pub budget: Option<RawBudget>,
    pub window: Option<String>,
    pub limit: Option<i64>,
}

/// A retry budget: `kind = "token-bucket"` (capacity, retry_cost, success_refund) or `"ratio"` (max_tokens,
/// token_ratio), and its `scope`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub kind: String,
    pub scope: Option<String>,
    pub capacity: Option<f64>,
    pub retry_cost: Option<f64>,
    pub success_refund: Option<f64>,
    pub max_tokens: Option<f64>,
    pub token_ratio: Option<f64>,
}
