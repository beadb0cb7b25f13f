//! Means and 95 % confidence intervals over replications (Student's t).

use serde::{Deserialize, Serialize};

/// A metric over a point's replications: the mean and a 95 % interval for it (none from one replication:
/// one value says nothing of the spread).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub metric: String,
    pub mean: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Estimate {
    /// The interval's low end, or the mean when there is no interval.
    pub fn low(&self) -> f64 {
        self.lo.unwrap_or(self.mean)
    }

    /// The interval's high end, or the mean when there is no interval.
    pub fn high(&self) -> f64 {
        self.hi.unwrap_or(self.mean)
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom: exact to three decimals from a table up
/// to 30, then the Cornish-Fisher expansion around the normal quantile (error below 1e-4 there).
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    if (1..=30).contains(&df) {
        return TABLE[df - 1];
    }
    let (z, n): (f64, f64) = (1.959_963_985, df as f64);
    z + (z.powi(3) + z) / (4.0 * n) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
}

/// Mean and 95 % interval of `samples`; with one sample, no interval. Every metric is non-negative, so
/// the interval's low end is clipped at 0.
pub fn estimate(metric: &str, samples: &[f64]) -> Estimate {
    let n = samples.len();
    let mean = samples.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Estimate { metric: metric.to_string(), mean, lo: None, hi: None };
    }
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t975(n - 1) * (var / n as f64).sqrt();
    Estimate { metric: metric.to_string(), mean, lo: Some((mean - half).max(0.0)), hi: Some(mean + half) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_join_the_normal() {
        assert_eq!(t975(1), 12.706);
        assert_eq!(t975(19), 2.093);
        // Reference values: t(0.975, 40) = 2.0211, t(0.975, 120) = 1.9799.
        assert!((t975(40) - 2.0211).abs() < 2e-4);
        assert!((t975(120) - 1.9799).abs() < 1e-4);
    }

    #[test]
    fn an_interval_from_known_samples() {
        let e = estimate("x", &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        // sd = 1.291; se = 0.6455; t(3) = 3.182.
        assert!((e.high() - e.mean - 3.182 * 1.2909944 / 2.0).abs() < 1e-6);
        assert_eq!((estimate("x", &[7.0]).lo, estimate("x", &[7.0]).high()), (None, 7.0));
    }
}
