//! Synthetic workloads against their parameters: arrival processes' mean rate and variance, think time,
//! ramp-up and batch makespan. Tolerances are 4 standard errors of the statistic under the model.

mod common;

use common::*;
use quotasim::time::NANOS_PER_SEC;
use quotasim::workload::ClientModel;

/// One open client with the given shape keys, against a limit so high nothing is throttled: every arrival
/// is an attempt, and the per-second bins count arrivals.
fn arrivals(duration: &str, shape_keys: &str) -> (quotasim::scenario::Scenario, Vec<f64>) {
    let client = format!(
        "[[client]]\nname = \"c\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"open\"\n{shape_keys}\nretry = {NO_RETRY}\n"
    );
    let text = scenario_text(duration, 1_000_000, "{ dist = \"constant\", mean = \"10ms\" }", "10ms", &client);
    let (sc, report) = run_with_bin(&text, NANOS_PER_SEC);
    assert_eq!(report.summary.totals.throttled, 0);
    (sc, report.series[0].bins.iter().map(|b| b.admitted as f64).collect())
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (mean, xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0))
}

fn expected_total(sc: &quotasim::scenario::Scenario) -> f64 {
    let ClientModel::Open { shape, .. } = &sc.clients[0].model else { panic!("an open client") };
    shape.expected_arrivals(sc.duration)
}

/// Poisson(λ) counts per second: mean λ with standard error sqrt(λ/n); sample variance λ with standard
/// error sqrt(λ/n + 2λ²/(n−1)).
#[test]
fn poisson_arrivals_have_the_rates_mean_and_variance() {
    let lambda = 5.0;
    let (_, counts) = arrivals("10000s", "rate = 5.0");
    let n = counts.len() as f64;
    let (mean, var) = mean_var(&counts);
    assert!((mean - lambda).abs() < 4.0 * (lambda / n).sqrt(), "mean {mean}");
    let se_var = (lambda / n + 2.0 * lambda * lambda / (n - 1.0)).sqrt();
    assert!((var - lambda).abs() < 4.0 * se_var, "variance {var} (se {se_var})");
}

#[test]
fn constant_arrivals_have_no_variance() {
    let (_, counts) = arrivals("1000s", "rate = 4.0\narrivals = \"constant\"");
    assert!(counts.iter().all(|&c| c == 4.0));
}

/// A ramp: 0 → 20/s over 100 s, 20/s for 100 s, down to 5/s over 100 s, then 5/s. The total is Poisson
/// with mean Λ = ∫ rate = 1000 + 2000 + 1250 + 500 = 4750; the flat stage's seconds have mean 20.
#[test]
fn a_ramp_follows_its_stages() {
    let keys = "shape = \"ramp\"\nrate = 0\nstages = [{ duration = \"100s\", rate = 20 }, { duration = \"100s\", rate = 20 }, { duration = \"100s\", rate = 5 }]";
    let (sc, counts) = arrivals("400s", keys);
    let expected = expected_total(&sc);
    assert!((expected - 4_750.0).abs() < 1e-6);
    let total: f64 = counts.iter().sum();
    assert!((total - expected).abs() < 4.0 * expected.sqrt(), "{total} vs {expected}");
    let flat: f64 = counts[100..200].iter().sum();
    assert!((flat - 2_000.0).abs() < 4.0 * 2_000f64.sqrt(), "{flat}");
    assert!(counts[..10].iter().sum::<f64>() < counts[90..100].iter().sum::<f64>(), "the ramp rises");
}

/// A daily cycle with mean 2/s, amplitude 0.8, peak at 14:00 (the scenario starts at 09:00 +08:00): over a
/// day Λ = 2 · 86400; the hour around the peak expects ∫ 2(1 + 0.8 cos) ≈ 2 · 3600 · (1 + 0.8 · sinc) and
/// the hour around 02:00 the mirror image.
#[test]
fn a_daily_cycle_peaks_when_asked_and_averages_its_mean() {
    let (sc, counts) = arrivals("1d", "shape = \"daily\"\nrate = 2.0\namplitude = 0.8\npeak = \"14:00\"");
    let expected = expected_total(&sc);
    assert!((expected - 172_800.0).abs() < 1e-6);
    let total: f64 = counts.iter().sum();
    assert!((total - expected).abs() < 4.0 * expected.sqrt(), "{total}");
    // Seconds since the 09:00 start: the peak hour is 13:30–14:30 (16200 s on), the trough 01:30–02:30.
    let hour = |from: usize| counts[from..from + 3_600].iter().sum::<f64>();
    let sinc = (std::f64::consts::PI / 24.0).sin() / (std::f64::consts::PI / 24.0);
    let (peak, trough) = (2.0 * 3_600.0 * (1.0 + 0.8 * sinc), 2.0 * 3_600.0 * (1.0 - 0.8 * sinc));
    assert!((hour(16_200) - peak).abs() < 4.0 * peak.sqrt(), "{} vs {peak}", hour(16_200));
    assert!((hour(59_400) - trough).abs() < 4.0 * trough.sqrt(), "{} vs {trough}", hour(59_400));
}

/// Bursts of 30/s for 10 s every minute: nothing outside them, and Poisson counts inside.
#[test]
fn on_off_bursts_send_only_when_on() {
    let (sc, counts) = arrivals("3600s", "shape = \"on-off\"\nrate = 30.0\non = \"10s\"\noff = \"50s\"");
    let expected = expected_total(&sc);
    assert!((expected - 30.0 * 600.0).abs() < 1e-6);
    let total: f64 = counts.iter().sum();
    assert!((total - expected).abs() < 4.0 * expected.sqrt(), "{total}");
    assert!(counts.iter().enumerate().all(|(s, &c)| s % 60 < 10 || c == 0.0));
}

/// C threads, constant response R, exponential think time of mean Z: each thread is a renewal process
/// with cycle R + Exp(Z), so the rate is C/(R + Z) and the count over T has variance C·T·Z²/(R + Z)³.
#[test]
fn think_time_slows_a_closed_loop_as_littles_law_says() {
    let (threads, r, z, seconds): (f64, f64, f64, f64) = (4.0, 0.2, 0.8, 5_000.0);
    let client = "[[client]]\nname = \"c\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"closed\"\nthreads = 4\n\
                  think = { dist = \"exponential\", mean = \"800ms\" }\nretry = { policy = \"none\" }\n";
    let (_, report) =
        run_text(&scenario_text("5000s", 1_000, "{ dist = \"constant\", mean = \"200ms\" }", "10ms", client));
    let rate = report.summary.totals.admitted_qps;
    let expected = threads / (r + z);
    let se = (threads * seconds * z * z / (r + z).powi(3)).sqrt() / seconds;
    assert!((rate - expected).abs() < 4.0 * se, "{rate} vs {expected} (se {se})");
}

/// Four threads with a 4 s ramp-up start at 0, 1, 2 and 3 s; with 10 s responses each sends once in the
/// first ten seconds.
#[test]
fn ramp_up_spreads_the_threads_starts() {
    let client = "[[client]]\nname = \"c\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"closed\"\nthreads = 4\nramp_up = \"4s\"\n";
    let (_, report) = run_with_bin(
        &scenario_text("10s", 10, "{ dist = \"constant\", mean = \"10s\" }", "10ms", client),
        NANOS_PER_SEC,
    );
    let attempts: Vec<u64> = report.series[0].bins.iter().map(|b| b.admitted + b.throttled).collect();
    assert_eq!(attempts, [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
}

fn batch(requests: u64, threads: u32, limit: u32) -> quotasim::report::BatchEntry {
    let client = format!(
        "[[client]]\nname = \"images\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"batch\"\nrequests = {requests}\nthreads = {threads}\n\
         retry = {{ policy = \"fixed\", wait = \"10ms\", max_attempts = 100000 }}\n"
    );
    let (_, report) =
        run_text(&scenario_text("1h", limit, "{ dist = \"constant\", mean = \"500ms\" }", "10ms", &client));
    assert_eq!(report.summary.totals.admitted, requests);
    report.summary.batches.into_iter().next().unwrap()
}

/// C > L·R: windows fill, L admissions each; the N-th admission falls in window N/L − 1 and finishes R
/// later, so the makespan lies in [N/L − 1 + R, N/L + R). The floor is the earliest of these:
/// (ceil(N/L) − 1) windows + R = 249.5 s, and the makespan is never below it.
#[test]
fn a_batch_over_the_limit_takes_its_floor_to_within_a_window() {
    let b = batch(1_000, 8, 4);
    assert_eq!((b.floor_s, b.limit_qps), (249.5, 4));
    let m = b.makespan_s.unwrap();
    assert!((249.5..250.5).contains(&m), "makespan {m}");
    assert!(m >= b.floor_s);
}

/// C < L·R: one thread works the backlog alone, one request every R: the makespan is N·R, above the floor.
#[test]
fn a_batch_under_the_limit_is_bound_by_its_threads() {
    let b = batch(100, 1, 4);
    assert_eq!(b.makespan_s, Some(50.0));
    assert_eq!(b.floor_s, 24.5);
}

/// A batch against the limits it met: `start` and a resource package bought the day before `package_day`
/// (in force from 08:00 UTC+8 that day); 8 threads at 500 ms, 1 s clock windows starting on a second.
fn batch_beside_a_package(start: &str, package_day: &str, requests: u64) -> quotasim::report::BatchEntry {
    let client = format!(
        "[[client]]\nname = \"images\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"batch\"\nrequests = {requests}\nthreads = 8\n\
         retry = {{ policy = \"fixed\", wait = \"10ms\", max_attempts = 100000 }}\n\
         [[account.plan]]\ntype = \"resource-package\"\napi = \"Api\"\ncalls = 1000000\nbought = \"{package_day}T12:00:00+08:00\"\n"
    );
    let text = scenario_text("1h", 2, "{ dist = \"constant\", mean = \"500ms\" }", "10ms", &client)
        .replace("2026-11-26T09:00:00+08:00", start);
    let (_, report) = run_text(&text);
    report.summary.batches.into_iter().next().unwrap()
}

/// The package begins long after the batch is done: the batch met 2 QPS only, and its floor is the one at
/// 2 QPS, (ceil(1000 / 2) − 1) windows + 0.5 s, not the 5 QPS one (199.5 s).
#[test]
fn a_batch_done_before_a_package_begins_is_floored_at_the_limit_it_met() {
    let b = batch_beside_a_package("2026-11-26T09:00:00+08:00", "2026-11-26", 1_000);
    assert_eq!((b.limit_qps, b.floor_s), (2, 499.5));
    let m = b.makespan_s.unwrap();
    assert!((499.5..500.5).contains(&m), "makespan {m}");
}

/// The package begins 600 s into the batch: by then at most 2 × 600 = 1,200 are admitted; the other 1,800
/// need 360 openings at 5 a window, from the change at 600 s, the last at 959 s; + 0.5 s.
#[test]
fn a_batch_across_a_plan_change_is_floored_by_each_limit_in_its_time() {
    let b = batch_beside_a_package("2026-11-27T07:50:00+08:00", "2026-11-26", 3_000);
    assert_eq!((b.limit_qps, b.floor_s), (5, 959.5));
    let m = b.makespan_s.unwrap();
    assert!(m >= b.floor_s && m < b.floor_s + 2.0, "makespan {m}");
}
