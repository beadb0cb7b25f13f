//! Validation: the simulator against results known in closed form. Each case is a small scenario whose
//! answer follows from queueing theory; the analytic value is computed here, by code, and compared with
//! the simulated value over independent replications.
//!
//! A check passes when the analytic value lies within four standard errors of the simulated estimate (plus,
//! where a finite run cannot match a long-run law exactly, a bound on that edge effect, derived per case).
//! Four standard errors make a false FAIL about 1 in 16,000 per check.

use crate::Error;
use crate::engine::{self, RunOptions};
pub use crate::queueing::{expected_excess, fixed_window_share, poisson_pmf, poisson_terms};
use crate::replicate::seed_for;
use crate::report::{Report, Summary};
use crate::scenario::Scenario;
use serde::Serialize;

/// How many standard errors a check may be off before it fails.
pub const TOLERANCE_SE: f64 = 4.0;
const Z95: f64 = 1.959_963_984_540_054;

/// One compared quantity, ready to print.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub case: String,
    pub metric: &'static str,
    pub analytic: f64,
    pub simulated: f64,
    pub ci95: [f64; 2],
    pub std_error: f64,
    /// A bound on how far a finite run can sit from the long-run value for reasons other than chance.
    pub edge_bound: f64,
    pub reps: u32,
    pub duration_s: u64,
    pub pass: bool,
}

/// A ratio Σx / Σn measured per replication (counts over attempts, waits over requests, events over time,
/// a bill over runs) from the run's summary and its length in seconds.
type Measure = fn(&Summary, f64) -> (f64, f64);

struct CheckSpec {
    metric: &'static str,
    analytic: f64,
    measure: Measure,
    edge_bound: f64,
}

struct Case {
    name: String,
    /// The scenario, with `{seed}` standing for the replication's seed.
    text: String,
    duration_s: u64,
    checks: Vec<CheckSpec>,
    /// Whether its measures read the clairvoyant bound (computed only where asked for).
    bound: bool,
}

/// The clairvoyant bound's last completion of the first pair, in seconds.
fn bound_last(s: &Summary, _: f64) -> (f64, f64) {
    (s.by_api[0].bound.and_then(|b| b.bound.last_s).unwrap_or(f64::NAN), 1.0)
}

fn throttled_share(s: &Summary, _: f64) -> (f64, f64) {
    (s.totals.throttled as f64, s.totals.attempts as f64)
}

fn throttled_per_second(s: &Summary, seconds: f64) -> (f64, f64) {
    (s.totals.throttled as f64, seconds)
}

fn admitted_per_second(s: &Summary, seconds: f64) -> (f64, f64) {
    (s.totals.admitted as f64, seconds)
}

fn attempts_per_second(s: &Summary, seconds: f64) -> (f64, f64) {
    (s.totals.attempts as f64, seconds)
}

fn mean_queue_wait(s: &Summary, _: f64) -> (f64, f64) {
    (s.totals.queued_s.mean * s.totals.admitted as f64, s.totals.admitted as f64)
}

/// The mean wait at the server: end-to-end latency less the constant service time [`SHORT`].
fn mean_server_wait(s: &Summary, _: f64) -> (f64, f64) {
    let m = &s.totals;
    ((m.latency_s.mean - SHORT_S) * m.admitted as f64, m.admitted as f64)
}

/// The run's bill, over all accounts.
fn bill(s: &Summary, _: f64) -> (f64, f64) {
    (s.billing.iter().filter_map(|b| b.cost).sum(), 1.0)
}

fn scenario(duration_s: u64, server: &str, qps: u32, latency: &str, client: &str) -> String {
    format!(
        r#"name = "validate"
seed = {{seed}}
start = "2026-01-01T00:00:00Z"
duration = "{duration_s}s"

[server]
{server}

[[api]]
name = "Api"
qps = {qps}
latency = {latency}

[[account]]
name = "acme"

[[client]]
name = "c"
account = "acme"
api = "Api"
{client}
"#
    )
}

fn poisson_client(rate: f64, retry: &str) -> String {
    format!("model = \"open\"\narrivals = \"poisson\"\nrate = {rate}\nretry = {retry}\n")
}

const NO_RETRY: &str = "{ policy = \"none\" }";
const SHORT: &str = "{ dist = \"constant\", mean = \"100ms\" }";
const SHORT_S: f64 = 0.1;

/// A window opened by the first attempt after the last one closed: each cycle holds that attempt and
/// N ~ Poisson(m) more, so the share is E[(1 + N − c)+] / (1 + m).
pub fn first_call_window_share(m: f64, c: u64) -> f64 {
    expected_excess(m, 1, c) / (1.0 + m)
}

/// Erlang's loss formula B(c, a), by the stable recurrence B(k) = a B(k−1) / (k + a B(k−1)).
pub fn erlang_b(c: u64, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

/// The stationary distribution of a finite Markov chain with transition matrix `p` (rows sum to 1), by
/// Gaussian elimination on π (P − I) = 0 with one equation replaced by Σ π = 1.
pub fn stationary(p: &[Vec<f64>]) -> Vec<f64> {
    let n = p.len();
    // Row i of the system is column i of (P − I)ᵀ; the last row is the normalisation.
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut row: Vec<f64> = (0..n).map(|j| p[j][i] - if i == j { 1.0 } else { 0.0 }).collect();
            row.push(0.0);
            row
        })
        .collect();
    a[n - 1] = vec![1.0; n + 1];
    for col in 0..n {
        let pivot = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        let d = a[col][col];
        a[col][col..].iter_mut().for_each(|x| *x /= d);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            let f = row[col];
            if r != col && f != 0.0 {
                row[col..].iter_mut().zip(&pivot_row[col..]).for_each(|(x, p)| *x -= f * p);
            }
        }
    }
    a.iter().map(|row| row[n]).collect()
}

/// A token bucket of rate r and capacity b fed by Poisson arrivals at λ is an M/D/1/b queue (the bucket's
/// debt is the queue's work; an attempt is admitted iff fewer than b are in the system). From the chain
/// at departures, X' = min(b − 1, (X − 1)+ + A) with A ~ Poisson(ρ): P(block) = 1 − 1 / (π0 + ρ).
pub fn md1b_blocking(rho: f64, b: usize) -> f64 {
    let pmf = poisson_pmf(rho, poisson_terms(rho).max(b + 1));
    let p: Vec<Vec<f64>> = (0..b)
        .map(|i| {
            let base = i.saturating_sub(1);
            let mut row = vec![0.0; b];
            for (a, pa) in pmf.iter().enumerate() {
                row[(base + a).min(b - 1)] += pa;
            }
            row
        })
        .collect();
    let pi = stationary(&p);
    1.0 - 1.0 / (pi[0] + rho)
}

/// A fixed window of capacity c whose throttled attempts all retry in the next window, Poisson arrivals of
/// mean m < c per window: the attempts of a window follow Q' = (Q − c)+ + N, and since every request is
/// admitted once, the throttled share of attempts is (E[Q] − m) / E[Q]. The chain is truncated where its
/// tail is negligible (mass beyond the last state is kept in it).
pub fn retry_next_window_share(m: f64, c: u64) -> f64 {
    let terms = poisson_terms(m);
    let states = (c as usize) + 40 * terms;
    let pmf = poisson_pmf(m, terms);
    let p: Vec<Vec<f64>> = (0..states)
        .map(|q| {
            let carried = q.saturating_sub(c as usize);
            let mut row = vec![0.0; states];
            for (n, pn) in pmf.iter().enumerate() {
                row[(carried + n).min(states - 1)] += pn;
            }
            let total: f64 = row.iter().sum();
            row.iter_mut().for_each(|x| *x /= total);
            row
        })
        .collect();
    let pi = stationary(&p);
    let mean_q: f64 = pi.iter().enumerate().map(|(q, p)| q as f64 * p).sum();
    (mean_q - m) / mean_q
}

/// The mean wait in an M/D/1 queue with arrival rate λ and service time d: λ d² / (2 (1 − λ d)).
pub fn md1_wait(lambda: f64, d: f64) -> f64 {
    lambda * d * d / (2.0 * (1.0 - lambda * d))
}

/// The sum of the mean waits before retries 1..=`retries` of an exponential backoff with `base`,
/// `multiplier` and `cap` (seconds): d_k = min(cap, base · multiplier^(k−1)), and a wait is d_k (`none`),
/// U(0, d_k) (`full`: d_k / 2), d_k / 2 + U(0, d_k / 2) (`equal`: 3 d_k / 4), or, for `decorrelated` with
/// the cap at the base, min(cap, U(base, 3 × previous)) = base (every draw is at least the base).
pub fn backoff_mean_waits(base: f64, multiplier: f64, cap: f64, retries: u32, jitter: &str) -> f64 {
    (1..=retries)
        .map(|k| {
            let d = (base * multiplier.powi(k as i32 - 1)).min(cap);
            match jitter {
                "none" => d,
                "full" => d / 2.0,
                "equal" => 0.75 * d,
                "decorrelated" if cap == base => base,
                other => panic!("no closed form here for jitter `{other}` with cap {cap} and base {base}"),
            }
        })
        .sum()
}

/// A sliding log that counts rejected attempts too, under Poisson arrivals of mean m per window: the
/// window then holds every arrival, so (by PASTA) an attempt is throttled iff N ≥ L, N ~ Poisson(m).
pub fn sliding_log_counting_rejected_share(m: f64, l: u64) -> f64 {
    1.0 - poisson_pmf(m, l as usize).iter().take(l as usize).sum::<f64>()
}

/// The sliding counter counting every attempt, under Poisson arrivals of mean m per window: an attempt
/// a share x into its clock window sees prev ~ Poisson(m) and cur ~ Poisson(m x), independent, and is
/// admitted iff prev (1 − x) + cur < L. The throttled share is 1 − ∫₀¹ P(admit | x) dx (midpoint rule
/// on 4,000 steps; the integrand is a step function of x with at most a few hundred steps).
pub fn sliding_counter_counting_rejected_share(m: f64, l: u64) -> f64 {
    let terms = poisson_terms(m);
    let prev = poisson_pmf(m, terms);
    let steps = 4_000;
    let admitted: f64 = (0..steps)
        .map(|i| {
            let x = (i as f64 + 0.5) / steps as f64;
            let cur = poisson_pmf(m * x, terms);
            let mut cdf = Vec::with_capacity(cur.len());
            let mut acc = 0.0;
            for p in &cur {
                acc += p;
                cdf.push(acc);
            }
            prev.iter()
                .enumerate()
                .map(|(k, pk)| {
                    // cur < L − k (1 − x): cur ≤ ceil(L − k (1 − x)) − 1.
                    let bound = (l as f64 - k as f64 * (1.0 - x)).ceil() - 1.0;
                    if bound < 0.0 { 0.0 } else { pk * cdf[(bound as usize).min(terms)] }
                })
                .sum::<f64>()
        })
        .sum::<f64>()
        / steps as f64;
    1.0 - admitted
}

/// Clock windows of 1 s (limit l1) and 2 s (limit l2) at once, Poisson arrivals at λ, no retries: in each
/// 2 s window the first second admits a1 = min(N1, l1, l2) and the second a2 = min(N2, l1, l2 − a1), N1
/// and N2 ~ Poisson(λ) independent; the throttled share is E[N1 + N2 − a1 − a2] / 2λ.
pub fn two_window_share(lambda: f64, l1: u64, l2: u64) -> f64 {
    let pmf = poisson_pmf(lambda, poisson_terms(lambda));
    let mut throttled = 0.0;
    for (n1, p1) in pmf.iter().enumerate() {
        for (n2, p2) in pmf.iter().enumerate() {
            let a1 = (n1 as u64).min(l1).min(l2);
            let a2 = (n2 as u64).min(l1).min(l2 - a1);
            throttled += p1 * p2 * (n1 as u64 + n2 as u64 - a1 - a2) as f64;
        }
    }
    throttled / (2.0 * lambda)
}

/// The mean pay-as-you-go bill of N ~ Poisson(mean) calls in one month at two tiers: the first `up_to`
/// calls at `p1`, the rest at `p2`: p1 E[min(N, up_to)] + p2 E[(N − up_to)+].
pub fn tiered_bill_mean(mean: f64, up_to: u64, p1: f64, p2: f64) -> f64 {
    let pmf = poisson_pmf(mean, poisson_terms(mean));
    pmf.iter()
        .enumerate()
        .map(|(n, p)| p * (p1 * (n as u64).min(up_to) as f64 + p2 * (n as u64).saturating_sub(up_to) as f64))
        .sum()
}

/// A case whose one check is the throttled share of Poisson arrivals at λ against `server`'s limiter at
/// `limit` QPS: `run` is (limit, λ, the retry policy, seconds).
fn share_case(name: String, server: &str, run: (u32, f64, &str, u64), analytic: f64) -> Case {
    let (limit, lambda, retry, seconds) = run;
    Case {
        name,
        text: scenario(seconds, server, limit, SHORT, &poisson_client(lambda, retry)),
        duration_s: seconds,
        checks: vec![CheckSpec { metric: "throttled share", analytic, measure: throttled_share, edge_bound: 0.0 }],
        bound: false,
    }
}

fn cases(quick: bool) -> Vec<Case> {
    let long = |quick_s: u64, full_s: u64| if quick { quick_s } else { full_s };
    let mut cases = Vec::new();

    for (lambda, limit, window_s) in
        if quick { vec![(3.0, 2, 1)] } else { vec![(3.0, 2, 1), (8.0, 5, 1), (1.5, 2, 60)] }
    {
        let seconds = long(2_000, 10_000) * window_s;
        cases.push(share_case(
            format!("fixed window {window_s} s, Poisson λ={lambda}/s, L={limit}, no retry"),
            &format!("window = \"{window_s}s\""),
            (limit, lambda, NO_RETRY, seconds),
            fixed_window_share(lambda * window_s as f64, limit as u64 * window_s),
        ));
    }
    let (lambda, limit) = (3.0, 2);
    cases.push(share_case(
        format!("first-call window 1 s, Poisson λ={lambda}/s, L={limit}, no retry"),
        "align = \"first-call\"",
        (limit, lambda, NO_RETRY, long(2_000, 10_000)),
        first_call_window_share(lambda, limit as u64),
    ));
    for (lambda, limit) in if quick { vec![(3.0, 2)] } else { vec![(3.0, 2), (4.0, 5)] } {
        cases.push(share_case(
            format!("sliding log 1 s, Poisson λ={lambda}/s, L={limit}: Erlang B"),
            "limiter = \"sliding-log\"",
            (limit, lambda, NO_RETRY, long(2_000, 10_000)),
            erlang_b(limit as u64, lambda),
        ));
    }
    for (lambda, rate, burst) in if quick { vec![(2.5, 2, 3)] } else { vec![(2.5, 2, 3), (1.5, 2, 1), (9.0, 10, 5)] } {
        cases.push(share_case(
            format!("token bucket r={rate}/s b={burst}, Poisson λ={lambda}/s: M/D/1/b"),
            &format!("limiter = \"token-bucket\"\nburst = {burst}"),
            (rate, lambda, NO_RETRY, long(2_000, 10_000)),
            md1b_blocking(lambda / rate as f64, burst),
        ));
    }
    // The reply takes 1 ms and the caller waits 999 ms more: every retry lands exactly one window later.
    let (lambda, limit) = (1.6, 2);
    cases.push(share_case(
        format!("fixed window 1 s, Poisson λ={lambda}/s, L={limit}, retry in the next window"),
        "throttle_latency = \"1ms\"",
        (limit, lambda, "{ policy = \"fixed\", wait = \"999ms\", max_attempts = 1000000 }", long(20_000, 50_000)),
        retry_next_window_share(lambda, limit as u64),
    ));

    // C threads with exponential responses of mean R, throttle replies after t and a retry wait w, C > L R:
    // every window admits L, so the admitted rate is L; by Little's law over the threads, C = L R + θ (t + w).
    // A finite run leaves each thread at most one cycle short at the end: about C (1 + R / (t + w)) / T.
    let (threads, limit, r, t, w) = (6u32, 2u32, 0.5, 0.1, 0.2);
    let seconds = long(1_000, 5_000);
    let edge = threads as f64 * (1.0 + r / (t + w)) / seconds as f64;
    cases.push(Case {
        name: format!("closed loop C={threads}, L={limit}, R=exp({r} s), reply {t} s, retry wait {w} s"),
        text: scenario(
            seconds,
            &format!("throttle_latency = \"{}ms\"", (t * 1000.0) as u64),
            limit,
            &format!("{{ dist = \"exponential\", mean = \"{}ms\" }}", (r * 1000.0) as u64),
            &format!(
                "model = \"closed\"\nthreads = {threads}\nretry = {{ policy = \"fixed\", wait = \"{}ms\", \
                    max_attempts = 1000000 }}\n",
                (w * 1000.0) as u64
            ),
        ),
        duration_s: seconds,
        checks: vec![
            CheckSpec {
                metric: "admitted per second",
                analytic: limit as f64,
                measure: admitted_per_second,
                edge_bound: 0.0,
            },
            CheckSpec {
                metric: "throttled per second",
                analytic: (threads as f64 - limit as f64 * r) / (t + w),
                measure: throttled_per_second,
                edge_bound: edge,
            },
        ],
        bound: false,
    });

    // A pacer of rate r (burst 1) fed Poisson arrivals at λ: an M/D/1 queue with service 1 / r.
    for (lambda, rate) in if quick { vec![(1.5, 2)] } else { vec![(1.5, 2), (4.0, 5)] } {
        let seconds = long(36_000, 100_000);
        cases.push(Case {
            name: format!("pacer r={rate}/s, Poisson λ={lambda}/s: M/D/1 wait"),
            text: scenario(
                seconds,
                "",
                rate,
                SHORT,
                &format!("{}pace = {{ rate = {rate} }}\n", poisson_client(lambda, NO_RETRY)),
            ),
            duration_s: seconds,
            checks: vec![CheckSpec {
                metric: "mean pacer wait (s)",
                analytic: md1_wait(lambda, 1.0 / rate as f64),
                measure: mean_queue_wait,
                edge_bound: 0.0,
            }],
            bound: false,
        });
    }
    cases.extend(strategy_cases(quick));
    cases
}

/// The cases of the strategies and rules the queueing laws above do not reach: a backoff whose cap binds
/// (every jitter kind), rejected attempts that count, the sliding counter, the leaky bucket's delay,
/// several windows at once, a unit quota, and a bill of known mean.
fn strategy_cases(quick: bool) -> Vec<Case> {
    let long = |quick_s: u64, full_s: u64| if quick { quick_s } else { full_s };
    let mut cases = Vec::new();

    // One thread whose every attempt after the first request is throttled (a quota of one call in 30 days):
    // each request makes n attempts, one throttle reply t apart plus the waits, so attempts come at
    // n / (n t + Σ E[w_k]) a second. A finite run is off by at most the first request and one unfinished
    // cycle: 2 n attempts.
    let (base, multiplier, cap, n, t) = (0.1, 2.0, 0.4, 6u32, 0.01);
    for jitter in ["none", "full", "equal", "decorrelated"] {
        let cap = if jitter == "decorrelated" { base } else { cap };
        let seconds = long(2_000, 10_000);
        let waits = backoff_mean_waits(base, multiplier, cap, n - 1, jitter);
        cases.push(Case {
            name: format!(
                "backoff base {base} s ×{multiplier} cap {cap} s, jitter {jitter}, {n} attempts, always throttled"
            ),
            text: scenario(
                seconds,
                "throttle_latency = \"10ms\"\nwindows = [{ window = \"1s\" }, { window = \"30d\", limit = 1 }]",
                2,
                SHORT,
                &format!(
                    "model = \"closed\"\nthreads = 1\nretry = {{ policy = \"exponential\", base = \"{}ms\", \
                        multiplier = {multiplier}, cap = \"{}ms\", jitter = \"{jitter}\", max_attempts = {n} }}\n",
                    (base * 1000.0) as u64,
                    (cap * 1000.0) as u64
                ),
            ),
            duration_s: seconds,
            checks: vec![CheckSpec {
                metric: "attempts per second",
                analytic: n as f64 / (n as f64 * t + waits),
                measure: attempts_per_second,
                edge_bound: 2.0 * n as f64 / seconds as f64,
            }],
            bound: false,
        });
    }

    let (lambda, limit) = (3.0, 4);
    cases.push(share_case(
        format!("sliding log 1 s counting rejections, Poisson λ={lambda}/s, L={limit}: P(N ≥ L)"),
        "limiter = \"sliding-log\"\ncount_rejected = true",
        (limit, lambda, NO_RETRY, long(2_000, 10_000)),
        sliding_log_counting_rejected_share(lambda, limit as u64),
    ));
    cases.push(share_case(
        format!("sliding counter 1 s counting rejections, Poisson λ={lambda}/s, L={limit}"),
        "limiter = \"sliding-counter\"\ncount_rejected = true",
        (limit, lambda, NO_RETRY, long(10_000, 50_000)),
        sliding_counter_counting_rejected_share(lambda, limit as u64),
    ));
    let (l1, l2) = (2, 3);
    cases.push(share_case(
        format!("windows 1 s (L={l1}) and 2 s (L={l2}) at once, Poisson λ={lambda}/s"),
        &format!("windows = [{{ window = \"1s\", limit = {l1} }}, {{ window = \"2s\", limit = {l2} }}]"),
        (l1 as u32, lambda, NO_RETRY, long(2_000, 10_000)),
        two_window_share(lambda, l1, l2),
    ));

    // nginx's bucket without nodelay and a burst never reached: the wait at the server is the virtual
    // waiting time of an M/D/1 queue with service 1 / r.
    let (lambda, rate) = (1.5, 2);
    let seconds = long(50_000, 200_000);
    cases.push(Case {
        name: format!("leaky bucket r={rate}/s, no nodelay, Poisson λ={lambda}/s: M/D/1 wait"),
        text: scenario(
            seconds,
            "limiter = \"leaky-bucket\"\nburst = 100000",
            rate,
            SHORT,
            &poisson_client(lambda, NO_RETRY),
        ),
        duration_s: seconds,
        checks: vec![CheckSpec {
            metric: "mean server wait (s)",
            analytic: md1_wait(lambda, 1.0 / rate as f64),
            measure: mean_server_wait,
            edge_bound: 0.0,
        }],
        bound: false,
    });

    // A unit quota of U a minute, every call costing u, the request limit never reached: a clock window
    // of capacity floor(U / u).
    let (lambda, units, cost) = (1.0, 50u64, 1u64);
    let seconds = long(20_000, 100_000);
    cases.push(Case {
        name: format!("unit quota {units} a minute, cost {cost}, Poisson λ={lambda}/s"),
        text: scenario(
            seconds,
            "",
            1000,
            &format!("{SHORT}\nunits = {{ limit = {units}, window = \"1m\" }}"),
            &format!("{}cost = {cost}\n", poisson_client(lambda, NO_RETRY)),
        ),
        duration_s: seconds,
        checks: vec![CheckSpec {
            metric: "throttled share",
            analytic: fixed_window_share(lambda * 60.0, units / cost),
            measure: throttled_share,
            edge_bound: 0.0,
        }],
        bound: false,
    });

    // A priced plan stack whose bill is known: an hour of Poisson calls at λ, no throttling, a prepaid QPS
    // plan (price P) over its middle half hour, tiered pay-as-you-go outside it (the first 100 calls of the
    // month at 1.0, the rest at 0.5). Calls under the prepaid plan cost nothing more, so the mean bill is
    // P + E[tiers of N], N ~ Poisson(λ · 1800 s).
    let (lambda, price, up_to, p1, p2) = (0.1, 50.0, 100u64, 1.0, 0.5);
    cases.push(Case {
        name: format!(
            "bill: prepaid QPS {price} for half an hour, tiers {p1} then {p2} past {up_to} calls, Poisson \
            λ={lambda}/s"
        ),
        text: scenario(
            3_600,
            "",
            10,
            &format!("{SHORT}\nprices = [{{ up_to = {up_to}, price = {p1} }}, {{ price = {p2} }}]"),
            &poisson_client(lambda, NO_RETRY),
        )
        .replace(
            "[[account]]\nname = \"acme\"\n",
            &format!(
                "[[account]]\nname = \"acme\"\n[[account.plan]]\ntype = \"prepaid-qps\"\napi = \"Api\"\nqps = \
                10\nfrom = \"2026-01-01T00:15:00Z\"\nuntil = \"2026-01-01T00:45:00Z\"\nprice = {price}\n"
            ),
        ),
        duration_s: 3_600,
        checks: vec![CheckSpec {
            metric: "mean bill",
            analytic: price + tiered_bill_mean(lambda * 1_800.0, up_to, p1, p2),
            measure: bill,
            edge_bound: 0.0,
        }],
        bound: false,
    });
    cases
}

/// n requests at once against a token bucket of rate r and burst b: the clairvoyant bound's last
/// completes at (n − b) / r plus one reply. Every reply is constant, so the runs agree to the nanosecond
/// (the engine's grain, the check's only allowance).
fn bound_case() -> Case {
    let (n, rate, burst, reply) = (500u64, 4u32, 20u64, 100 * crate::time::NANOS_PER_SEC / 1000);
    Case {
        name: format!("bound: {n} at once, token bucket {rate}/s, burst {burst}, 100 ms replies"),
        text: scenario(
            600,
            &format!("limiter = \"token-bucket\"\nburst = {burst}"),
            rate,
            "{ dist = \"constant\", mean = \"100ms\" }",
            &format!(
                "model = \"batch\"\nthreads = {n}\nrequests = {n}\nretry = {{ policy = \"fixed\", wait = \"1s\", \
                    max_attempts = 1000000 }}"
            ),
        ),
        duration_s: 600,
        checks: vec![CheckSpec {
            metric: "bound's last completion s",
            analytic: crate::bound::token_bucket_last(n, rate as f64, burst, reply),
            measure: bound_last,
            edge_bound: 1e-9,
        }],
        bound: true,
    }
}

/// Runs every case (`quick`: the short set, a few seconds on two cores) on `jobs` threads (all cores if
/// None). Results do not depend on the thread count.
pub fn run(quick: bool, jobs: Option<usize>) -> Result<Vec<Check>, Error> {
    let reps: u32 = if quick { 8 } else { 20 };
    let mut cases = cases(quick);
    cases.push(bound_case());
    let measured: Vec<Vec<(f64, f64)>> = crate::replicate::pool(jobs)?.install(|| {
        crate::replicate::each(cases.len(), reps, |c, rep| {
            let case = &cases[c];
            let text = case.text.replace("{seed}", &seed_for(20_261_127, c, rep).to_string());
            let sc = Scenario::parse(&text, "validate")?;
            let out = engine::run(&sc, RunOptions::for_scenario(&sc))?;
            // The checks read the summary's fields (phases, sub-accounts), so the full report is made.
            let mut report = Report::new(&sc, out);
            if case.bound {
                let bound = crate::bound::run(&sc, RunOptions::for_scenario(&sc))?;
                report.attach_bound(&sc, &bound);
            }
            let summary = report.summary;
            Ok(case.checks.iter().map(|k| (k.measure)(&summary, case.duration_s as f64)).collect())
        })
    })?;

    let mut checks = Vec::new();
    for (c, case) in cases.iter().enumerate() {
        let runs = &measured[c * reps as usize..(c + 1) * reps as usize];
        for (k, spec) in case.checks.iter().enumerate() {
            let (simulated, se) = ratio_estimate(runs.iter().map(|r| r[k]));
            let pass = (simulated - spec.analytic).abs() <= TOLERANCE_SE * se + spec.edge_bound;
            checks.push(Check {
                case: case.name.clone(),
                metric: spec.metric,
                analytic: spec.analytic,
                simulated,
                ci95: [simulated - Z95 * se, simulated + Z95 * se],
                std_error: se,
                edge_bound: spec.edge_bound,
                reps,
                duration_s: case.duration_s,
                pass,
            });
        }
    }
    Ok(checks)
}

/// Σx / Σn over replications and its standard error by the ratio estimator's linearisation:
/// Var ≈ k / (k − 1) · Σ (x_i − R n_i)² / (Σ n_i)².
fn ratio_estimate(pairs: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let pairs: Vec<(f64, f64)> = pairs.collect();
    let k = pairs.len() as f64;
    let (sx, sn) = pairs.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let ratio = sx / sn;
    let residual: f64 = pairs.iter().map(|(x, n)| (x - ratio * n).powi(2)).sum();
    (ratio, (k / (k - 1.0) * residual).sqrt() / sn)
}

/// The checks as a terminal table.
pub fn render(checks: &[Check]) -> String {
    let mut s = String::new();
    for c in checks {
        s.push_str(&format!(
            "{}  {}\n    {:<22} analytic {:>10.6}   simulated {:>10.6}   95% [{:.6}, {:.6}]\n",
            if c.pass { "PASS" } else { "FAIL" },
            c.case,
            c.metric,
            c.analytic,
            c.simulated,
            c.ci95[0],
            c.ci95[1],
        ));
    }
    let failed = checks.iter().filter(|c| !c.pass).count();
    s.push_str(&format!(
        "{} of {} checks pass (a check passes within {TOLERANCE_SE} standard errors; {} replications each)\n",
        checks.len() - failed,
        checks.len(),
        checks.first().map_or(0, |c| c.reps),
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_b_by_hand() {
        // B(1, a) = a / (1 + a); B(2, 3) = (9/2) / (1 + 3 + 9/2) = 9/17.
        assert!((erlang_b(1, 2.0) - 2.0 / 3.0).abs() < 1e-12);
        assert!((erlang_b(2, 3.0) - 9.0 / 17.0).abs() < 1e-12);
    }

    #[test]
    fn md1b_with_one_place_is_erlang_loss_for_a_deterministic_server() {
        // b = 1: the chain has one state, π0 = 1, so P(block) = 1 − 1 / (1 + ρ) = ρ / (1 + ρ).
        assert!((md1b_blocking(0.75, 1) - 0.75 / 1.75).abs() < 1e-12);
        // A larger buffer blocks less.
        assert!(md1b_blocking(1.25, 3) < md1b_blocking(1.25, 2));
    }

    #[test]
    fn the_retry_chain_matches_the_no_retry_window_when_light_and_grows_with_load() {
        // Far below the capacity a retry almost never meets another throttle: the share is the no-retry
        // window's, E[(N − c)+] / m ≈ m² / 6 for c = 2.
        let (light, once) = (retry_next_window_share(0.01, 2), fixed_window_share(0.01, 2));
        assert!((light - once).abs() / once < 0.01, "{light} vs {once}");
        // E[Q] ≥ m always, and the share grows with the load.
        assert!(retry_next_window_share(1.6, 2) > retry_next_window_share(1.0, 2));
    }

    #[test]
    fn fixed_window_share_matches_a_hand_sum() {
        // m = 1, c = 1: E[(N − 1)+] = E[N] − 1 + P(N = 0) = e⁻¹.
        assert!((fixed_window_share(1.0, 1) - (-1.0f64).exp()).abs() < 1e-12);
        // First-call: E[(1 + N − 1)+] / (1 + m) = m / (1 + m).
        assert!((first_call_window_share(3.0, 1) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn strategy_closed_forms_by_hand() {
        // d = 0.1, 0.2, 0.4, then the cap 0.4, 0.4: 1.5 s of waits; full jitter halves them, equal takes 3/4.
        assert!((backoff_mean_waits(0.1, 2.0, 0.4, 5, "none") - 1.5).abs() < 1e-12);
        assert!((backoff_mean_waits(0.1, 2.0, 0.4, 5, "full") - 0.75).abs() < 1e-12);
        assert!((backoff_mean_waits(0.1, 2.0, 0.4, 5, "equal") - 1.125).abs() < 1e-12);
        assert!((backoff_mean_waits(0.1, 2.0, 0.1, 5, "decorrelated") - 0.5).abs() < 1e-12);
        // P(N ≥ 4) for N ~ Poisson(3) = 1 − e⁻³ (1 + 3 + 9/2 + 27/6) = 1 − 13 e⁻³.
        assert!((sliding_log_counting_rejected_share(3.0, 4) - (1.0 - 13.0 * (-3.0f64).exp())).abs() < 1e-12);
        // A 2 s window that can hold both seconds' fill changes nothing: the 1 s window's share.
        assert!((two_window_share(3.0, 2, 4) - fixed_window_share(3.0, 2)).abs() < 1e-12);
        // All calls in the second tier: p2 times the mean; all in the first: p1 times the mean, nearly.
        assert!((tiered_bill_mean(20.0, 0, 1.0, 0.5) - 10.0).abs() < 1e-9);
        assert!((tiered_bill_mean(20.0, 10_000, 1.0, 0.5) - 20.0).abs() < 1e-9);
    }

    /// The sliding counter's integral against a Monte Carlo of its own definition: 200,000 draws of
    /// (x, prev, cur), so the estimate's standard error is at most 0.5 / √200000 ≈ 0.0011; it must agree
    /// within four.
    #[test]
    fn the_sliding_counter_integral_agrees_with_sampling_its_definition() {
        use rand::{RngExt, SeedableRng};
        use rand_distr::{Distribution, Poisson};
        let (m, l) = (3.0, 4u64);
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(7);
        let n = 200_000;
        let prev = Poisson::new(m).unwrap();
        let throttled = (0..n)
            .filter(|_| {
                let x: f64 = rng.random();
                let p: f64 = prev.sample(&mut rng);
                let c: f64 = if x > 0.0 { Poisson::new(m * x).unwrap().sample(&mut rng) } else { 0.0 };
                p * (1.0 - x) + c >= l as f64
            })
            .count();
        let sampled = throttled as f64 / n as f64;
        let exact = sliding_counter_counting_rejected_share(m, l);
        assert!((sampled - exact).abs() < 4.0 * 0.5 / (n as f64).sqrt(), "{sampled} vs {exact}");
    }

    #[test]
    fn stationary_solves_a_two_state_chain() {
        let pi = stationary(&[vec![0.9, 0.1], vec![0.3, 0.7]]);
        assert!((pi[0] - 0.75).abs() < 1e-12 && (pi[1] - 0.25).abs() < 1e-12);
    }
}
