//! Workload: who calls, how often, with what response times, and what a caller does after a throttle.
//!
//! These are the validated domain types the scenario produces and the engine consumes: response-time and
//! think-time distributions ([`Dist`]), client models ([`ClientModel`]), API choice ([`ApiChoice`]) and retry
//! policies ([`RetryPolicy`]), and recorded logs to replay ([`trace`]). Sampling is static dispatch over small enums, so the engine's loop neither
//! allocates nor calls through a vtable.

pub mod adaptive;
mod callers;
pub mod lines;
mod strategy;
pub mod trace;
pub mod trace_stats;

pub use adaptive::{Aatb, Adaptive, Atb};
pub use strategy::*;

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
    /// The largest `sigma` a log-normal may have: beyond it almost every draw rounds to zero and the mean
    /// rests on a few huge draws (at 4 the median is 0.03 % of the mean).
    pub const MAX_SIGMA: f64 = 4.0;

    pub fn lognormal(mean: Nanos, sigma: f64) -> Result<Dist, String> {
        if !(sigma.is_finite() && (0.0..=Self::MAX_SIGMA).contains(&sigma)) {
            return Err(format!("{sigma} is not valid; expected a number from 0 to {}", Self::MAX_SIGMA));
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

    /// The least value a draw can take.
    pub fn min(&self) -> Nanos {
        match *self {
            Dist::Constant(v) => v,
            Dist::Uniform { min, .. } => min,
            Dist::Exponential { .. } | Dist::LogNormal { .. } => 0,
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

    /// The `q`-quantile (0 < q < 1), in seconds: what an unthrottled call takes at that percentile.
    pub fn quantile_s(&self, q: f64) -> f64 {
        let s = |n: Nanos| n as f64 / 1e9;
        match *self {
            Dist::Constant(v) => s(v),
            Dist::Exponential { mean } => -s(mean) * (1.0 - q).ln(),
            Dist::LogNormal { mean, sigma, .. } => {
                let mu = s(mean).ln() - sigma * sigma / 2.0;
                (mu + sigma * normal_quantile(q)).exp()
            }
            Dist::Uniform { min, max } => s(min) + q * (s(max) - s(min)),
        }
    }
}

/// The standard normal's quantile, by Acklam's rational approximation (relative error below 1.2e−9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let tail = |q: f64| {
        let r = (-2.0 * q.ln()).sqrt();
        (((((C[0] * r + C[1]) * r + C[2]) * r + C[3]) * r + C[4]) * r + C[5])
            / ((((D[0] * r + D[1]) * r + D[2]) * r + D[3]) * r + 1.0)
    };
    if p < 0.02425 {
        tail(p)
    } else if p > 1.0 - 0.02425 {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
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

/// An open client's arrival rate over time (requests per second).
#[derive(Clone, Debug, PartialEq)]
pub enum RateShape {
    Flat(f64),
    /// Piecewise linear, as load testers write stages: from `start`, each stage moves linearly to its rate
    /// by its end (`stages` holds (end, rate), ends increasing); after the last, its rate holds.
    Ramp {
        start: f64,
        stages: Vec<(Nanos, f64)>,
    },
    /// A daily cycle: `mean · (1 + amplitude · cos(2π (time of day − peak) / 1 day))`. `day_start` is the
    /// scenario start's time of day and `peak` the time of day of the maximum, both in the scenario's offset.
    Daily {
        mean: f64,
        amplitude: f64,
        peak: Nanos,
        day_start: Nanos,
    },
    /// Bursts: `rate` for `on`, nothing for `off`, repeating from the start.
    OnOff {
        rate: f64,
        on: Nanos,
        off: Nanos,
    },
}

const DAY: Nanos = 86_400 * crate::time::NANOS_PER_SEC;

/// The time of day at simulated time `t`, the run having started at time of day `day_start`.
#[inline]
fn time_of_day(day_start: Nanos, t: Nanos) -> Nanos {
    (day_start + t % DAY) % DAY
}

/// The daily cycle's phase at time of day `tod` (0 at the peak): `rate_at` and the rate's bounds compute
/// it alike, so that the bounds decide as the rate would.
#[inline]
fn daily_phase(tod: Nanos, peak: Nanos) -> f64 {
    (tod as f64 - peak as f64) / DAY as f64 * std::f64::consts::TAU
}

impl RateShape {
    pub fn rate_at(&self, t: Nanos) -> f64 {
        match self {
            RateShape::Flat(r) => *r,
            RateShape::Ramp { start, stages } => {
                let mut from = (0, *start);
                for &(end, rate) in stages {
                    if t < end {
                        let f = (t - from.0) as f64 / (end - from.0) as f64;
                        return from.1 + f * (rate - from.1);
                    }
                    from = (end, rate);
                }
                from.1
            }
            RateShape::Daily { mean, amplitude, peak, day_start } => {
                mean * (1.0 + amplitude * daily_phase(time_of_day(*day_start, t), *peak).cos())
            }
            RateShape::OnOff { rate, on, off } => {
                if t % (on + off) < *on {
                    *rate
                } else {
                    0.0
                }
            }
        }
    }

    /// A lower bound of the rate at any time, computed as `rate_at` computes its least value, so that a
    /// thinning draw under it is kept exactly when `rate_at` would keep it.
    pub fn min_rate(&self) -> f64 {
        match self {
            RateShape::Daily { mean, amplitude, .. } => mean * (1.0 + amplitude * -1.0),
            // The other shapes take their rate straight from the stages, or reach zero.
            RateShape::Flat(r) => *r,
            RateShape::Ramp { .. } | RateShape::OnOff { .. } => 0.0,
        }
    }

    /// An upper bound of the rate at any time: the envelope for thinning.
    pub fn max_rate(&self) -> f64 {
        match self {
            RateShape::Flat(r) | RateShape::OnOff { rate: r, .. } => *r,
            RateShape::Ramp { start, stages } => stages.iter().map(|s| s.1).fold(*start, f64::max),
            RateShape::Daily { mean, amplitude, .. } => mean * (1.0 + amplitude),
        }
    }

    /// Bounds of the rate over short pieces of time, for a shape whose rate costs a cosine to compute
    /// (the daily cycle); `None` for the others, whose rate is a load and a comparison.
    pub fn bounds(&self) -> Option<RateBounds> {
        let RateShape::Daily { mean, amplitude, peak, day_start } = *self else { return None };
        let phase = |tod: Nanos| daily_phase(tod, peak);
        // Far above the rounding of `rate_at` (a few ulps), far below the rate's change over a piece.
        let margin = 1e-9 * self.max_rate();
        let pieces = (0..RateBounds::PIECES)
            .map(|k| {
                let (a, b) = (phase(k * RateBounds::PIECE), phase((k + 1) * RateBounds::PIECE));
                let (ca, cb) = (a.cos(), b.cos());
                let (mut lo, mut hi) = (ca.min(cb), ca.max(cb));
                // An extreme of the cosine inside the piece: a multiple of π between its ends.
                for m in -2i32..=2 {
                    let at = f64::from(m) * std::f64::consts::PI;
                    if a < at && at < b {
                        if m % 2 == 0 { hi = 1.0 } else { lo = -1.0 }
                    }
                }
                (mean * (1.0 + amplitude * lo) - margin, mean * (1.0 + amplitude * hi) + margin)
            })
            .collect();
        Some(RateBounds { day_start, pieces })
    }

    /// The expected number of arrivals in [0, t): the integral of the rate, by exact pieces where the
    /// shape is piecewise and by the closed form of the cosine otherwise.
    pub fn expected_arrivals(&self, t: Nanos) -> f64 {
        let secs = |n: Nanos| n as f64 / 1e9;
        match self {
            RateShape::Flat(r) => r * secs(t),
            RateShape::Ramp { start, stages } => {
                let (mut total, mut from) = (0.0, (0, *start));
                for &(end, rate) in stages {
                    // The trapezoid under the stage's line from its start to min(end, t).
                    let stop = end.min(t);
                    let at_stop = from.1 + (stop - from.0) as f64 / (end - from.0) as f64 * (rate - from.1);
                    total += secs(stop - from.0) * (from.1 + at_stop) / 2.0;
                    if t <= end {
                        return total;
                    }
                    from = (end, rate);
                }
                total + from.1 * secs(t - from.0)
            }
            RateShape::Daily { mean, amplitude, peak, day_start } => {
                let w = std::f64::consts::TAU / secs(DAY);
                let phase0 = (*day_start as f64 - *peak as f64) / 1e9;
                mean * (secs(t) + amplitude / w * ((w * (phase0 + secs(t))).sin() - (w * phase0).sin()))
            }
            RateShape::OnOff { rate, on, off } => {
                let period = on + off;
                let on_time = t / period * on + (t % period).min(*on);
                rate * secs(on_time)
            }
        }
    }
}

/// A daily shape's least and greatest rate over each of [`RateBounds::PIECES`] equal pieces of the day
/// (widened by a margin beyond rounding): thinning keeps a draw under a piece's least rate and drops one
/// over its greatest without computing the rate, the decision `rate_at` would make.
#[derive(Clone, Debug)]
pub struct RateBounds {
    day_start: Nanos,
    pieces: Box<[(f64, f64)]>,
}

impl RateBounds {
    const PIECES: Nanos = 1024;
    /// 84.375 s: a day is a whole number of them.
    const PIECE: Nanos = DAY / Self::PIECES;

    /// Whether a thinning draw `u` (at most the envelope) is kept at `t`, if the bounds tell; `None` when
    /// `u` falls between them and the rate must be computed.
    #[inline]
    pub fn decide(&self, t: Nanos, u: f64) -> Option<bool> {
        let (lo, hi) = self.pieces[(time_of_day(self.day_start, t) / Self::PIECE) as usize];
        if u < lo {
            Some(true)
        } else if u >= hi {
            Some(false)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
pub enum ClientModel {
    /// `threads` callers, each sends, waits for the outcome (retries included), thinks, and sends again.
    /// Thread i starts at i · ramp_up / threads.
    Closed { threads: u32, think: Dist, ramp_up: Nanos },
    /// Requests arrive at the shape's rate whatever happens to earlier ones.
    Open { shape: RateShape, arrivals: Arrivals },
    /// A backlog of `requests` worked off by `threads` callers (each as a closed-loop thread) until done.
    Batch { threads: u32, requests: u64, think: Dist, ramp_up: Nanos },
    /// A recorded log replayed row by row: each row is a request at its (shifted, scaled) time.
    Trace(Box<trace::TraceSpec>),
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
    /// The mean of `value(api)` over the APIs this choice draws, weighted as it draws them.
    pub fn weighted_mean(&self, value: impl Fn(usize) -> f64) -> f64 {
        match self {
            ApiChoice::Single(api) => value(*api),
            ApiChoice::Mix { apis, cumulative } => {
                let total = cumulative[cumulative.len() - 1];
                let mut prev = 0.0;
                apis.iter()
                    .zip(cumulative)
                    .map(|(a, c)| {
                        let w = (c - prev) / total;
                        prev = *c;
                        w * value(*a)
                    })
                    .sum()
            }
        }
    }

    /// The position in [`ApiChoice::apis`] of the API drawn for a request.
    #[inline]
    pub fn pick_position(&self, rng: &mut StreamRng) -> usize {
        match self {
            ApiChoice::Single(_) => 0,
            ApiChoice::Mix { apis, cumulative } => {
                let total = cumulative[cumulative.len() - 1];
                let x = rng.random::<f64>() * total;
                cumulative.partition_point(|&c| c <= x).min(apis.len() - 1)
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
    /// A retry budget and whom it is shared with.
    pub budget: Option<(Budget, BudgetScope)>,
    /// Client-side pacing and whom the pacer is shared with.
    pub pace: Option<(Pace, BudgetScope)>,
    /// Adaptive throttling, per client.
    pub adaptive: Option<Adaptive>,
    /// What each request costs in units, where an API has a unit limit (None: 1).
    pub cost: Option<Cost>,
}

/// The units a request spends against a unit (token) limit.
#[derive(Clone, Debug)]
pub enum Cost {
    Units(u64),
    /// Drawn per request; the distribution's values are units, not nanoseconds.
    Drawn(Dist),
    /// The sum of these trace columns (or keys), read per row.
    Columns(Vec<String>),
}

impl Client {
    /// Whether requests come from the client's own sub-account: not for a trace whose rows name callers.
    pub fn uses_own_sub_account(&self) -> bool {
        !matches!(&self.model, ClientModel::Trace(spec) if spec.caller.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_each_distribution() {
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.99) - 2.326_347_874).abs() < 1e-7);
        assert!((normal_quantile(0.001) + 3.090_232_306).abs() < 1e-7);
        let exp = Dist::Exponential { mean: 2_000_000_000 };
        assert!((exp.quantile_s(0.5) - 2.0 * std::f64::consts::LN_2).abs() < 1e-12);
        // A log-normal's median is e^mu = mean · e^(−σ²/2).
        let ln = Dist::lognormal(1_000_000_000, 0.5).unwrap();
        assert!((ln.quantile_s(0.5) - (-0.125f64).exp()).abs() < 1e-9);
        assert_eq!(Dist::Uniform { min: 0, max: 1_000_000_000 }.quantile_s(0.99), 0.99);
    }
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
        let sevens = (0..n).filter(|_| choice.apis()[choice.pick_position(&mut rng)] == 7).count() as f64;
        let (p, se) = (0.75, (0.75f64 * 0.25 / n as f64).sqrt());
        assert!((sevens / n as f64 - p).abs() < 5.0 * se);
    }

    #[test]
    fn rate_shapes_and_their_integrals() {
        const S: Nanos = 1_000_000_000;
        let ramp = RateShape::Ramp { start: 0.0, stages: vec![(10 * S, 10.0), (20 * S, 10.0), (30 * S, 0.0)] };
        assert_eq!(ramp.rate_at(5 * S), 5.0);
        assert_eq!(ramp.rate_at(15 * S), 10.0);
        assert_eq!(ramp.rate_at(40 * S), 0.0);
        assert_eq!(ramp.max_rate(), 10.0);
        assert!((ramp.expected_arrivals(30 * S) - 200.0).abs() < 1e-9);
        assert!((ramp.expected_arrivals(5 * S) - 12.5).abs() < 1e-9);
        let bursts = RateShape::OnOff { rate: 50.0, on: 10 * S, off: 50 * S };
        assert_eq!((bursts.rate_at(9 * S), bursts.rate_at(10 * S)), (50.0, 0.0));
        assert!((bursts.expected_arrivals(125 * S) - 50.0 * 25.0).abs() < 1e-9);
        // Over whole days the cosine integrates to zero: the mean rate is the mean.
        let daily = RateShape::Daily { mean: 4.0, amplitude: 0.5, peak: 14 * 3_600 * S, day_start: 9 * 3_600 * S };
        assert!((daily.expected_arrivals(2 * DAY) - 4.0 * 2.0 * 86_400.0).abs() < 1e-6);
        assert!((daily.rate_at(5 * 3_600 * S) - 6.0).abs() < 1e-9, "the peak at 14:00");
    }

    /// The bounds decide a draw only as the rate would: over a day and a half of instants (every 7.3 s,
    /// and the pieces' edges) and draws across the envelope, a decided draw agrees with `u < rate_at(t)`,
    /// and all but a small share are decided.
    #[test]
    fn daily_bounds_decide_as_the_rate_does() {
        const S: Nanos = 1_000_000_000;
        let daily = RateShape::Daily { mean: 1.5, amplitude: 0.8, peak: 15 * 3_600 * S, day_start: 5 * 3_600 * S };
        let bounds = daily.bounds().unwrap();
        let envelope = daily.max_rate();
        let (mut decided, mut total) = (0, 0);
        let edges = (0..1_600).map(|k| k * RateBounds::PIECE - 5 * 3_600 * S % RateBounds::PIECE);
        for t in (0..(36 * 3_600 * S)).step_by(7_300_000_000).chain(edges) {
            for i in 0..200 {
                let u = envelope * f64::from(i) / 200.0;
                total += 1;
                if let Some(keep) = bounds.decide(t, u) {
                    decided += 1;
                    assert_eq!(keep, u < daily.rate_at(t), "t = {t}, u = {u}");
                }
            }
        }
        assert!(decided as f64 > 0.99 * total as f64, "{decided} of {total}");
        assert!(RateShape::Flat(2.0).bounds().is_none());
    }

    #[test]
    fn exponential_waits_double_up_to_the_cap() {
        const S: Nanos = 1_000_000_000;
        let policy =
            RetryPolicy::Exponential { base: S, multiplier: 2.0, cap: 5 * S, max_attempts: 10, jitter: Jitter::None };
        let mut rng = stream(3, 0, Purpose::Retry);
        let waits: Vec<Nanos> =
            (1..=5).map(|attempts| policy.wait(RetryContext { attempts, ..Default::default() }, &mut rng)).collect();
        assert_eq!(waits, [S, 2 * S, 4 * S, 5 * S, 5 * S]);
    }

    /// Each jitter's mean wait against its formula (full d/2, equal 3d/4, decorrelated from its first draw
    /// U(base, 3 base): 2 base), within 5 standard errors of the uniform's spread.
    #[test]
    fn jitter_means_match_their_formulas() {
        const D: Nanos = 800_000_000;
        let n = 100_000;
        let mut rng = stream(4, 0, Purpose::Retry);
        let mean = |jitter: Jitter, rng: &mut StreamRng| {
            let policy = RetryPolicy::Exponential { base: D, multiplier: 2.0, cap: 100 * D, max_attempts: 9, jitter };
            let ctx = RetryContext { attempts: 1, ..Default::default() };
            (0..n).map(|_| policy.wait(ctx, rng) as f64).sum::<f64>() / n as f64
        };
        let d = D as f64;
        // A uniform on a width w has sd w / sqrt(12).
        for (jitter, want, width) in
            [(Jitter::Full, d / 2.0, d), (Jitter::Equal, 0.75 * d, d / 2.0), (Jitter::Decorrelated, 2.0 * d, 2.0 * d)]
        {
            let se = width / 12f64.sqrt() / (n as f64).sqrt();
            let got = mean(jitter, &mut rng);
            assert!((got - want).abs() < 5.0 * se, "{jitter:?}: mean {got}, formula {want}");
        }
    }

    #[test]
    fn fixed_retry_counts_the_first_attempt() {
        let r = RetryPolicy::Fixed { wait: 5, max_attempts: 3 };
        assert!(r.retries_after(1) && r.retries_after(2) && !r.retries_after(3));
        assert!(!RetryPolicy::None.retries_after(1));
    }
}
