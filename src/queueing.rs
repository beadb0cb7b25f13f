//! Closed forms of Poisson arrivals against a window, shared by `validate` (which checks the simulator
//! against them) and the verdict (which estimates from them the limit a demand needs).

/// P(N = k), k = 0..=max, for N ~ Poisson(mean), by the recurrence (no factorials to overflow).
pub fn poisson_pmf(mean: f64, max: usize) -> Vec<f64> {
    let mut p = Vec::with_capacity(max + 1);
    p.push((-mean).exp());
    for k in 1..=max {
        p.push(p[k - 1] * mean / k as f64);
    }
    p
}

/// Enough terms of a Poisson(mean) pmf that the tail left out is negligible.
pub fn poisson_terms(mean: f64) -> usize {
    (mean + 12.0 * mean.sqrt() + 30.0).ceil() as usize
}

/// E[(shift + N − c)+] for N ~ Poisson(mean).
pub fn expected_excess(mean: f64, shift: u64, c: u64) -> f64 {
    let pmf = poisson_pmf(mean, poisson_terms(mean));
    pmf.iter().enumerate().map(|(k, p)| p * (shift as f64 + k as f64 - c as f64).max(0.0)).sum()
}

/// Clock-aligned fixed window of capacity c, Poisson arrivals of mean m per window, no retries: the share
/// throttled is E[(N − c)+] / m.
pub fn fixed_window_share(m: f64, c: u64) -> f64 {
    expected_excess(m, 0, c) / m
}

/// The throttled share of a window of capacity c under Poisson arrivals of mean m: exact up to a mean of
/// 400 (beyond, e^−m underflows the recurrence), by the normal approximation N(m, m) above it, where it is
/// within a fraction of a percent: E[(N − c)+] ≈ σ (φ(z) − z (1 − Φ(z))), z = (c − m) / σ.
pub fn window_share(m: f64, c: u64) -> f64 {
    if m <= 400.0 {
        return fixed_window_share(m, c);
    }
    let sigma = m.sqrt();
    let z = (c as f64 - m) / sigma;
    let pdf = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let tail = 0.5 * erfc(z / std::f64::consts::SQRT_2);
    (sigma * (pdf - z * tail)).max(0.0) / m
}

/// The complementary error function, to 1.2e−7 (Numerical Recipes' Chebyshev fit).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The least capacity per window that throttles at most `share` of Poisson arrivals of mean `m` per window
/// (no retries), by [`window_share`]; searched from the mean.
pub fn least_capacity_for_share(m: f64, share: f64) -> u64 {
    if m <= 0.0 {
        return 1;
    }
    let mut c = (m.floor() as u64).max(1);
    // Below the mean the share only grows, so starting there loses nothing; walk down while it holds.
    while c > 1 && window_share(m, c - 1) <= share {
        c -= 1;
    }
    while window_share(m, c) > share {
        c += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_approximation_meets_the_exact_form_where_both_hold() {
        // At a mean of 400 both are good: they agree to well under a percent of the share.
        for c in [380, 400, 420, 440] {
            let exact = fixed_window_share(400.0, c);
            let sigma = 20.0;
            let z = (c as f64 - 400.0) / sigma;
            let pdf = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let normal = sigma * (pdf - z * 0.5 * erfc(z / std::f64::consts::SQRT_2)) / 400.0;
            assert!((exact - normal).abs() < 0.05 * exact + 1e-4, "c = {c}: {exact} vs {normal}");
        }
        assert!((erfc(0.0) - 1.0).abs() < 1e-7 && (erfc(1.0) - 0.157_299_207).abs() < 1e-6);
    }

    #[test]
    fn the_least_capacity_is_the_first_that_meets_the_share() {
        for m in [0.5, 3.0, 16.0, 120.0, 5_000.0] {
            let c = least_capacity_for_share(m, 0.01);
            assert!(window_share(m, c) <= 0.01, "{m}");
            assert!(c == 1 || window_share(m, c - 1) > 0.01, "{m}");
        }
        // Poisson 16 a window: E[(N − 21)+] / 16 = 1.47 %, E[(N − 22)+] / 16 = 0.91 %: 22.
        assert_eq!(least_capacity_for_share(16.0, 0.01), 22);
    }
}
