//! Workload: who calls, how often, with what response times, and what a caller does after a throttle.
//!
//! These are the validated domain types the scenario produces and the engine consumes: response-time and
//! think-time distributions ([`Dist`]), client models ([`ClientModel`]), API choice ([`ApiChoice`]) and retry
//! policies ([`RetryPolicy`]). Sampling is static dispatch over small enums, so the engine's loop neither
//! allocates nor calls through a vtable.

use crate::rng::StreamRng;
use crate::time::{Nanos, nanos_from_secs_f64};
use rand::RngExt;
use rand_distr::{Distribution, Exp1, LogNormal};

/// A distribution of spans (response time, think time), sampled in integer nanoseconds.
#[derive(Clone, Debug)]
pub enum Dist {
    Constant(Nanos),
    Exponential {
        mean: Nanos,
    },
    /// Log-normal with the given mean; `sigma` is the standard deviation of the underlying normal.
    LogNormal {
        mean: Nanos,
        sigma: f64,
        law: LogNormal<f64>,
    },
    Uniform {
        min: Nanos,
        max: Nanos,
    },
}

impl Dist {
    pub fn lognormal(mean: Nanos, sigma: f64) -> Result<Dist, String> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(format!("sigma must be a finite number >= 0, got {sigma}"));
        }
        if mean == 0 {
            return Err("mean must be greater than 0 for a lognormal".into());
        }
        // E[X] = exp(mu + sigma^2 / 2), so mu follows from the mean the user states.
        let mu = (mean as f64).ln() - sigma * sigma / 2.0;
        let law = LogNormal::new(mu, sigma).map_err(|e| e.to_string())?;
        Ok(Dist::LogNormal { mean, sigma, law })
    }

    #[inline]
    pub fn sample(&self, rng: &mut StreamRng) -> Nanos {
        match *self {
            Dist::Constant(v) => v,
            Dist::Exponential { mean } => {
                let x: f64 = Exp1.sample(rng);
                nanos_from_secs_f64(x * mean as f64 / 1e9)
            }
            Dist::LogNormal { ref law, .. } => nanos_from_secs_f64(law.sample(rng) / 1e9),
            Dist::Uniform { min, max } => rng.random_range(min..=max),
        }
    }

    pub fn mean(&self) -> Nanos {
        match *self {
            Dist::Constant(v) => v,
            Dist::Exponential { mean } | Dist::LogNormal { mean, .. } => mean,
            Dist::Uniform { min, max } => min + (max - min) / 2,
        }
    }

    pub fn is_zero(&self) -> bool {
        matches!(self, Dist::Constant(0))
    }
}

/// How an open client's requests arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrivals {
    /// Exponential gaps: a Poisson process.
    Poisson,
    /// Evenly spaced, the first at the start.
    Constant,
}

#[derive(Clone, Debug)]
pub enum ClientModel {
    /// `threads` callers, each sends, waits for the outcome (retries included), thinks, and sends again.
    Closed { threads: u32, think: Dist },
    /// Requests arrive at `rate` per second whatever happens to earlier ones.
    Open { rate: f64, arrivals: Arrivals },
}

/// Which API a request calls: always the same one, or one drawn per request by weight.
#[derive(Clone, Debug)]
pub enum ApiChoice {
    Single(usize),
    /// `cumulative[i]` is the total weight of `apis[..=i]`.
    Mix {
        apis: Vec<usize>,
        cumulative: Vec<f64>,
    },
}

impl ApiChoice {
    #[inline]
    pub fn pick(&self, rng: &mut StreamRng) -> usize {
        match self {
            ApiChoice::Single(api) => *api,
            ApiChoice::Mix { apis, cumulative } => {
                let total = cumulative[cumulative.len() - 1];
                let x = rng.random::<f64>() * total;
                let i = cumulative.partition_point(|&c| c <= x).min(apis.len() - 1);
                apis[i]
            }
        }
    }

    /// Every API this choice can produce.
    pub fn apis(&self) -> &[usize] {
        match self {
            ApiChoice::Single(api) => std::slice::from_ref(api),
            ApiChoice::Mix { apis, .. } => apis,
        }
    }
}

/// What a client does when an attempt is throttled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryPolicy {
    /// The request ends throttled (`gave_up`).
    None,
    /// Wait `wait`, then try again, up to `max_attempts` attempts in all (first one included).
    Fixed { wait: Nanos, max_attempts: u32 },
}

impl RetryPolicy {
    /// The platform's advice: wait one second and retry. The cap of ten attempts is ours (documented).
    pub const PLATFORM_ADVICE: RetryPolicy = RetryPolicy::Fixed { wait: crate::time::NANOS_PER_SEC, max_attempts: 10 };

    /// How long to wait before the next attempt after `attempts_made` attempts, or `None` to give up.
    #[inline]
    pub fn wait_after(&self, attempts_made: u32) -> Option<Nanos> {
        match *self {
            RetryPolicy::None => None,
            RetryPolicy::Fixed { wait, max_attempts } => (attempts_made < max_attempts).then_some(wait),
        }
    }
}

/// A source of calls inside one sub-account of one account.
#[derive(Clone, Debug)]
pub struct Client {
    pub name: String,
    pub account: usize,
    /// Index into the scenario's sub-account table (each sub-account belongs to one account).
    pub sub_account: usize,
    pub apis: ApiChoice,
    pub model: ClientModel,
    pub retry: RetryPolicy,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut rng = stream(1, 0, Purpose::Latency);
        (0..n).map(|_| d.sample(&mut rng) as f64).sum::<f64>() / n as f64
    }

    // Tolerances are 5 standard errors of the sample mean: sd / sqrt(n).
    #[test]
    fn exponential_mean_matches() {
        let n = 100_000;
        let m = sample_mean(&Dist::Exponential { mean: 500_000_000 }, n);
        let se = 500e6 / (n as f64).sqrt();
        assert!((m - 500e6).abs() < 5.0 * se, "mean {m}");
    }

    #[test]
    fn lognormal_mean_matches() {
        let n = 200_000;
        let sigma: f64 = 0.5;
        let m = sample_mean(&Dist::lognormal(400_000_000, sigma).unwrap(), n);
        let sd = 400e6 * ((sigma * sigma).exp() - 1.0).sqrt();
        assert!((m - 400e6).abs() < 5.0 * sd / (n as f64).sqrt(), "mean {m}");
    }

    #[test]
    fn uniform_stays_in_bounds() {
        let d = Dist::Uniform { min: 10, max: 20 };
        let mut rng = stream(1, 0, Purpose::Latency);
        assert!((0..1000).map(|_| d.sample(&mut rng)).all(|x| (10..=20).contains(&x)));
    }

    #[test]
    fn mix_draws_by_weight() {
        let choice = ApiChoice::Mix { apis: vec![7, 9], cumulative: vec![3.0, 4.0] };
        let mut rng = stream(2, 0, Purpose::ApiMix);
        let n = 40_000;
        let sevens = (0..n).filter(|_| choice.pick(&mut rng) == 7).count() as f64;
        let (p, se) = (0.75, (0.75f64 * 0.25 / n as f64).sqrt());
        assert!((sevens / n as f64 - p).abs() < 5.0 * se);
    }

    #[test]
    fn fixed_retry_counts_the_first_attempt() {
        let r = RetryPolicy::Fixed { wait: 5, max_attempts: 3 };
        assert_eq!(r.wait_after(1), Some(5));
        assert_eq!(r.wait_after(2), Some(5));
        assert_eq!(r.wait_after(3), None);
        assert_eq!(RetryPolicy::None.wait_after(1), None);
    }
}
