//! The client-side strategies of a `[[client]]` (or `[server]` default): its retry policy, retry budget,
//! pacer and adaptive throttle, each checked at its key.

use super::*;
use crate::workload::{Aatb, Atb};

/// The paper's ATB and AATB defaults, per second: a starting rate of 40 a minute, a bucket of 40 tokens,
/// and 300 a minute taken as the rate that drew the last throttle before any did.
const PAPER_RATE: f64 = 40.0 / 60.0;
const PAPER_BURST: f64 = 40.0;
const PAPER_CONGESTION: f64 = 300.0 / 60.0;

impl Ctx<'_> {
    pub(super) fn retry(&self, key: &str, raw: &RawRetry) -> Result<RetryPolicy> {
        #[derive(Clone, Copy)]
        enum Policy {
            None,
            Fixed,
            Exponential,
            RetryAfter,
            Window,
        }
        let policies = [
            ("none", Policy::None),
            ("fixed", Policy::Fixed),
            ("exponential", Policy::Exponential),
            ("retry-after", Policy::RetryAfter),
            ("window", Policy::Window),
        ];
        // A jittered backoff is written as the exponential policy with a jitter, not as a policy of its own.
        let jitters = Jitter::NAMES.iter().map(|(n, _)| *n).filter(|n| *n != "none");
        let compact = raw.policy.to_ascii_lowercase().replace(['-', '_', ' '], "");
        if let Some(j) = jitters.clone().find(|j| compact == format!("{j}jitter") || compact == *j) {
            return Err(self.err(
                &format!("{key}.policy"),
                format!(
                    "`{}` is not a policy; did you mean `policy = \"exponential\", jitter = \"{j}\"` (jittered \
                        backoff)?",
                    raw.policy
                ),
            ));
        }
        let kind = self.one_of(&format!("{key}.policy"), &raw.policy, &policies)?;
        let takes: &[&str] = match kind {
            Policy::None => &[],
            Policy::Fixed => &["wait", "max_attempts", "budget"],
            Policy::Exponential => &["base", "multiplier", "cap", "jitter", "max_attempts", "budget"],
            Policy::RetryAfter => &["jitter", "max_attempts", "budget"],
            Policy::Window => &["window", "limit", "cap", "max_attempts", "budget"],
        };
        let present = [
            ("wait", raw.wait.is_some()),
            ("max_attempts", raw.max_attempts.is_some()),
            ("base", raw.base.is_some()),
            ("multiplier", raw.multiplier.is_some()),
            ("cap", raw.cap.is_some()),
            ("jitter", raw.jitter.is_some()),
            ("budget", raw.budget.is_some()),
            ("window", raw.window.is_some()),
            ("limit", raw.limit.is_some()),
        ];
        self.takes_only(key, &format!("policy `{}`", raw.policy), &present, takes)?;
        let max_attempts = match raw.max_attempts {
            // The paper's clients never give up.
            None if matches!(kind, Policy::Window) => u32::MAX,
            None => RetryPolicy::PLATFORM_ADVICE.max_attempts(),
            Some(n) if (1..=i64::from(u32::MAX)).contains(&n) => n as u32,
            Some(n) => {
                return Err(self.err(
                    &format!("{key}.max_attempts"),
                    format!("{n} is not valid; expected a whole number >= 1 (attempts in all, the first included)"),
                ));
            }
        };
        let duration = |field: &str, v: &Option<String>| -> Result<Option<Nanos>> {
            v.as_deref().map(|t| self.duration(&format!("{key}.{field}"), t)).transpose()
        };
        match kind {
            Policy::None => Ok(RetryPolicy::None),
            Policy::Fixed => {
                let RetryPolicy::Fixed { wait: default_wait, .. } = RetryPolicy::PLATFORM_ADVICE else {
                    unreachable!("the platform's advice is a fixed wait")
                };
                Ok(RetryPolicy::Fixed { wait: duration("wait", &raw.wait)?.unwrap_or(default_wait), max_attempts })
            }
            Policy::Exponential => {
                let base = duration("base", &raw.base)?.ok_or_else(|| {
                    self.err(key, "policy `exponential` needs `base` (the first wait, e.g. \"100ms\")")
                })?;
                if base == 0 {
                    return Err(self.err(&format!("{key}.base"), "must be longer than zero"));
                }
                let multiplier = raw.multiplier.unwrap_or(2.0);
                if !(multiplier.is_finite() && (1.0..=1_000.0).contains(&multiplier)) {
                    return Err(self.err(
                        &format!("{key}.multiplier"),
                        format!("{multiplier} is not valid; expected a number from 1 to 1000"),
                    ));
                }
                let cap = duration("cap", &raw.cap)?.unwrap_or(DEFAULT_BACKOFF_CAP.max(base));
                if cap < base {
                    return Err(self.err(&format!("{key}.cap"), "must not be below `base`"));
                }
                let names: Vec<(&str, Jitter)> = Jitter::NAMES.to_vec();
                let jitter = self.one_of(&format!("{key}.jitter"), raw.jitter.as_deref().unwrap_or("none"), &names)?;
                Ok(RetryPolicy::Exponential { base, multiplier, cap, max_attempts, jitter })
            }
            Policy::RetryAfter => {
                Ok(RetryPolicy::RetryAfter { jitter: duration("jitter", &raw.jitter)?.unwrap_or(0), max_attempts })
            }
            Policy::Window => {
                let window = match &raw.window {
                    None => 60 * NANOS_PER_SEC,
                    Some(w) => self.positive_duration(&format!("{key}.window"), w)?,
                };
                let limit = match raw.limit {
                    None => None,
                    Some(n) if (1..=1_000_000_000_000).contains(&n) => Some(n as u64),
                    Some(n) => {
                        return Err(self.err(
                            &format!("{key}.limit"),
                            format!(
                                "{n} is not valid; expected the successes a window allows, 1 to 10^12 (or leave it \
                                    out: unlimited backoff)"
                            ),
                        ));
                    }
                };
                let cap = duration("cap", &raw.cap)?.unwrap_or(32 * NANOS_PER_SEC);
                if cap == 0 {
                    return Err(self.err(&format!("{key}.cap"), "must be longer than zero"));
                }
                Ok(RetryPolicy::Window { window, limit, cap, max_attempts })
            }
        }
    }

    pub(super) fn scope(&self, key: &str, text: Option<&str>) -> Result<BudgetScope> {
        let scopes = [
            ("client", BudgetScope::Client),
            ("sub-account", BudgetScope::SubAccount),
            ("account", BudgetScope::Account),
        ];
        self.one_of(key, text.unwrap_or("client"), &scopes)
    }

    pub(super) fn pace(&self, key: &str, raw: &raw::RawPace) -> Result<(Pace, BudgetScope)> {
        let k = |f: &str| format!("{key}.{f}");
        if !(raw.rate.is_finite() && raw.rate > 0.0 && raw.rate <= 1e9) {
            return Err(self.err(
                &k("rate"),
                format!("{} is not valid; expected attempts per second, above 0 and at most 1e9", raw.rate),
            ));
        }
        let burst = match raw.burst {
            None => 1,
            Some(b) if (1..=1_000_000_000).contains(&b) => b as u64,
            Some(b) => return Err(self.err(&k("burst"), format!("{b} is not valid; expected a whole number >= 1"))),
        };
        let queue_limit = match raw.queue_limit {
            None => None,
            Some(n) if (0..=1_000_000_000).contains(&n) => Some(n as usize),
            Some(n) => {
                return Err(self.err(&k("queue_limit"), format!("{n} is not valid; expected how many may wait, >= 0")));
            }
        };
        Ok((Pace::new(raw.rate, burst, queue_limit), self.scope(&k("scope"), raw.scope.as_deref())?))
    }

    pub(super) fn adaptive(&self, key: &str, raw: &raw::RawAdaptive) -> Result<Adaptive> {
        #[derive(Clone, Copy, PartialEq)]
        enum Kind {
            Sre,
            Aimd,
            Atb,
            Aatb,
        }
        let k = |f: &str| format!("{key}.{f}");
        let kinds = [("sre", Kind::Sre), ("aimd", Kind::Aimd), ("atb", Kind::Atb), ("aatb", Kind::Aatb)];
        let kind = self.one_of(&k("kind"), &raw.kind, &kinds)?;
        let present = [
            ("k", raw.k.is_some()),
            ("window", raw.window.is_some()),
            ("increase", raw.increase.is_some()),
            ("decrease", raw.decrease.is_some()),
            ("min_rate", raw.min_rate.is_some()),
            ("max_rate", raw.max_rate.is_some()),
            ("rate", raw.rate.is_some()),
            ("burst", raw.burst.is_some()),
            ("tokens", raw.tokens.is_some()),
            ("congestion", raw.congestion.is_some()),
            ("step_below", raw.step_below.is_some()),
            ("step_above", raw.step_above.is_some()),
            ("step_light", raw.step_light.is_some()),
            ("step_heavy", raw.step_heavy.is_some()),
            ("period", raw.period.is_some()),
            ("delay", raw.delay.is_some()),
            ("server_rate", raw.server_rate.is_some()),
            ("scope", raw.scope.is_some()),
        ];
        let takes: &[&str] = match kind {
            Kind::Sre => &["k", "window"],
            Kind::Aimd => &["increase", "decrease", "min_rate", "max_rate", "rate"],
            Kind::Atb => &["rate", "burst", "tokens", "congestion", "step_below", "step_above"],
            Kind::Aatb => &[
                "rate",
                "burst",
                "tokens",
                "step_light",
                "step_heavy",
                "period",
                "window",
                "delay",
                "server_rate",
                "scope",
            ],
        };
        self.takes_only(key, &format!("`{}`", raw.kind), &present, takes)?;
        let number = |f: &str, v: Option<f64>, range: std::ops::RangeInclusive<f64>| -> Result<f64> {
            let x = v.ok_or_else(|| self.err(key, format!("`{}` needs `{f}`", raw.kind)))?;
            if !(x.is_finite() && range.contains(&x) && x > 0.0) {
                return Err(
                    self.err(&k(f), format!("{x} is not valid; expected a number above 0 and at most {}", range.end()))
                );
            }
            Ok(x)
        };
        // A default from the paper, or the value written, checked against its range.
        let or = |f: &str, v: Option<f64>, default: f64, range: std::ops::RangeInclusive<f64>| {
            number(f, Some(v.unwrap_or(default)), range)
        };
        let step = |f: &str, v: Option<f64>, default: f64| -> Result<f64> {
            let x = v.unwrap_or(default);
            if !(x.is_finite() && (1.0..=1_000.0).contains(&x)) {
                return Err(self.err(&k(f), format!("{x} is not valid; expected a factor from 1 to 1000")));
            }
            Ok(x)
        };
        let bucket = || -> Result<(f64, f64, f64)> {
            let rate = or("rate", raw.rate, PAPER_RATE, 0.0..=1e9)?;
            let burst = raw.burst.unwrap_or(PAPER_BURST);
            if !(burst.is_finite() && (1.0..=1e9).contains(&burst)) {
                return Err(self.err(&k("burst"), format!("{burst} is not valid; expected 1 to 10^9 tokens")));
            }
            let tokens = match raw.tokens {
                None => 1.0_f64.min(burst),
                Some(t) if t.is_finite() && (0.0..=burst).contains(&t) => t,
                Some(t) => {
                    return Err(self.err(&k("tokens"), format!("{t} is not valid; expected 0 to `burst` ({burst})")));
                }
            };
            Ok((rate, burst, tokens))
        };
        match kind {
            Kind::Atb => {
                let (rate, burst, tokens) = bucket()?;
                return Ok(Adaptive::Atb(Atb {
                    rate,
                    burst,
                    tokens,
                    congestion: or("congestion", raw.congestion, PAPER_CONGESTION, 0.0..=1e9)?,
                    step_below: step("step_below", raw.step_below, 1.2)?,
                    step_above: step("step_above", raw.step_above, 1.2)?,
                }));
            }
            Kind::Aatb => {
                let (rate, burst, tokens) = bucket()?;
                let span = |f: &str, v: &Option<String>, default: Nanos| -> Result<Nanos> {
                    v.as_deref().map_or(Ok(default), |t| self.positive_duration(&k(f), t))
                };
                let server_rate = raw.server_rate.map(|r| number("server_rate", Some(r), 0.0..=1e9)).transpose()?;
                let delay = match &raw.delay {
                    None => NANOS_PER_SEC / 1000,
                    Some(t) => self.duration(&k("delay"), t)?,
                };
                return Ok(Adaptive::Aatb(Aatb {
                    rate,
                    burst,
                    tokens,
                    step_light: step("step_light", raw.step_light, 1.4)?,
                    step_heavy: step("step_heavy", raw.step_heavy, 1.2)?,
                    period: span("period", &raw.period, 30 * NANOS_PER_SEC)?,
                    window: span("window", &raw.window, 30 * NANOS_PER_SEC)?,
                    delay,
                    server_rate,
                    scope: match raw.scope {
                        None => BudgetScope::Account,
                        Some(_) => self.scope(&k("scope"), raw.scope.as_deref())?,
                    },
                }));
            }
            Kind::Aimd => {
                let increase = number("increase", raw.increase, 0.0..=1e9)?;
                let decrease = number("decrease", raw.decrease, 0.0..=1.0)?;
                if decrease >= 1.0 {
                    return Err(
                        self.err(&k("decrease"), "must be below 1: it is the factor a throttle multiplies the rate by")
                    );
                }
                let min_rate = number("min_rate", raw.min_rate, 0.0..=1e9)?;
                let max_rate = number("max_rate", raw.max_rate, 0.0..=1e9)?;
                if max_rate < min_rate {
                    return Err(self.err(&k("max_rate"), "must not be below `min_rate`"));
                }
                let start =
                    raw.rate.map_or(Ok(max_rate), |r| number("rate", Some(r), 0.0..=1e9))?.clamp(min_rate, max_rate);
                return Ok(Adaptive::Aimd { increase, decrease, min_rate, max_rate, start });
            }
            Kind::Sre => {}
        }
        let factor = raw.k.unwrap_or(2.0);
        if !(factor.is_finite() && (1.0..=1_000.0).contains(&factor)) {
            return Err(self.err(&k("k"), format!("{factor} is not valid; expected a number from 1 to 1000")));
        }
        let window = match &raw.window {
            None => 120 * NANOS_PER_SEC,
            Some(w) => self.positive_duration(&k("window"), w)?,
        };
        if window < SRE_BUCKETS as Nanos {
            return Err(self.err(&k("window"), format!("must be at least {SRE_BUCKETS} ns")));
        }
        Ok(Adaptive::Sre { k: factor, window })
    }

    pub(super) fn budget(&self, key: &str, raw: &raw::RawBudget) -> Result<(Budget, BudgetScope)> {
        let k = |f: &str| format!("{key}.{f}");
        let bucket = self.one_of(&k("kind"), &raw.kind, &[("token-bucket", true), ("ratio", false)])?;
        let scope = self.scope(&k("scope"), raw.scope.as_deref())?;
        let present = [
            ("capacity", raw.capacity.is_some()),
            ("retry_cost", raw.retry_cost.is_some()),
            ("success_refund", raw.success_refund.is_some()),
            ("max_tokens", raw.max_tokens.is_some()),
            ("token_ratio", raw.token_ratio.is_some()),
        ];
        let takes: &[&str] = if bucket {
            &["capacity", "retry_cost", "success_refund", "scope"]
        } else {
            &["max_tokens", "token_ratio", "scope"]
        };
        self.takes_only(key, &format!("a `{}` budget", raw.kind), &present, takes)?;
        let number = |f: &str, v: Option<f64>, default: Option<f64>, positive: bool| -> Result<f64> {
            let x = v.or(default).ok_or_else(|| self.err(key, format!("a `{}` budget needs `{f}`", raw.kind)))?;
            let ok = x.is_finite() && if positive { x > 0.0 } else { x >= 0.0 } && x <= 1e12;
            if !ok {
                let what = if positive { "a number > 0" } else { "a number >= 0" };
                return Err(self.err(&k(f), format!("{x} is not valid; expected {what}")));
            }
            Ok(x)
        };
        let budget = if bucket {
            Budget::TokenBucket {
                capacity: number("capacity", raw.capacity, None, true)?,
                retry_cost: number("retry_cost", raw.retry_cost, Some(5.0), true)?,
                success_refund: number("success_refund", raw.success_refund, Some(1.0), false)?,
            }
        } else {
            Budget::Ratio {
                max_tokens: number("max_tokens", raw.max_tokens, None, true)?,
                token_ratio: number("token_ratio", raw.token_ratio, None, false)?,
            }
        };
        Ok((budget, scope))
    }
}
