//! The simulator against results worked out by hand or in closed form. Statistical tolerances are a
//! stated number of standard errors, each computed from the run's own data or from the model.

mod common;

use common::*;
use quotasim::time::NANOS_PER_SEC;

/// Two threads, 500 ms responses, throttles that take 500 ms to come back, no retry, limit 2, windows on
/// the clock second. By hand: at 0 both are admitted; at 0.5 the window already holds two, so both are
/// throttled and come back at 1.0; at 1.0 a new window admits both; and so on. Every second holds two
/// admitted and two throttled attempts: exactly half are throttled.
#[test]
fn two_threads_at_500ms_against_a_limit_of_two_lose_exactly_half() {
    let text = scenario_text(
        "10s",
        2,
        "{ dist = \"constant\", mean = \"500ms\" }",
        "500ms",
        &closed_client("pair", 2, NO_RETRY),
    );
    let (_, report) = run_text(&text);
    let t = report.summary.totals;
    assert_eq!(t.attempts, 40);
    assert_eq!(t.admitted, 20);
    assert_eq!(t.throttled, 20);
    // With no retry, every throttled request is given up when its attempt is rejected, even the two whose
    // replies would come back at 10 s, the end of the run: nothing is left unfinished.
    assert_eq!((t.gave_up, t.unfinished), (20, 0));
    assert_eq!(t.throttle_rate, 0.5);
    for bin in &report.series[0].bins {
        assert_eq!((bin.admitted, bin.throttled), (2, 2));
    }
}

/// Poisson arrivals at rate λ against a clock-aligned window admitting L: per window N ~ Poisson(λ) arrive
/// and (N − L)+ are throttled, so the throttled fraction is E[(N − L)+] / λ. The run's own per-second
/// counts give the standard error of its ratio estimate.
fn poisson_against_fixed_window(lambda: f64, limit: u32, seconds: u64) {
    let text = scenario_text(
        &format!("{seconds}s"),
        limit,
        "{ dist = \"constant\", mean = \"100ms\" }",
        "10ms",
        &open_client("poisson", "main", lambda, "poisson", NO_RETRY),
    );
    let (_, report) = run_with_bin(&text, NANOS_PER_SEC);
    let pmf = poisson_pmf(lambda, 200);
    let expected_excess: f64 = pmf.iter().enumerate().map(|(k, p)| p * (k as f64 - limit as f64).max(0.0)).sum();
    let expected = expected_excess / lambda;

    let bins = &report.series[0].bins;
    let (throttled, attempts): (f64, f64) = bins
        .iter()
        .map(|b| (b.throttled as f64, (b.admitted + b.throttled) as f64))
        .fold((0.0, 0.0), |acc, x| (acc.0 + x.0, acc.1 + x.1));
    let ratio = throttled / attempts;
    // Ratio estimator: Var(R) ≈ Σ (x_i − R n_i)² / (Σ n_i)².
    let residual: f64 =
        bins.iter().map(|b| (b.throttled as f64 - ratio * (b.admitted + b.throttled) as f64).powi(2)).sum();
    let se = residual.sqrt() / attempts;
    assert!(
        (ratio - expected).abs() < 4.0 * se,
        "λ={lambda} L={limit}: throttled fraction {ratio:.5}, closed form {expected:.5}, se {se:.5}"
    );
    // Every window admits min(N, L): the limiter never lets more through.
    assert!(bins.iter().all(|b| b.admitted <= limit as u64));
}

#[test]
fn poisson_throttling_matches_the_closed_form_near_the_limit() {
    poisson_against_fixed_window(2.0, 2, 20_000);
}

#[test]
fn poisson_throttling_matches_the_closed_form_above_the_limit() {
    poisson_against_fixed_window(8.0, 5, 10_000);
}

/// C threads with constant response R that divides the window, C/R ≤ L: nothing is ever throttled and
/// the admitted rate is exactly C/R.
#[test]
fn closed_loop_under_the_limit_is_never_throttled() {
    for (threads, latency_ms, limit) in [(2u32, 250u32, 8u32), (3, 500, 8), (1, 500, 2)] {
        let text = scenario_text(
            "100s",
            limit,
            &format!("{{ dist = \"constant\", mean = \"{latency_ms}ms\" }}"),
            "10ms",
            &closed_client("c", threads, NO_RETRY),
        );
        let (_, report) = run_text(&text);
        let t = report.summary.totals;
        assert_eq!(t.throttled, 0, "C={threads} R={latency_ms}ms L={limit}");
        assert_eq!(t.admitted_qps, threads as f64 * 1000.0 / latency_ms as f64);
    }
}

/// C threads with exponential responses of mean R, far under the limit: each thread is a Poisson process
/// of rate 1/R (exponential gaps, no throttles), so admitted calls over T are Poisson(C·T/R).
#[test]
fn closed_loop_throughput_follows_littles_law() {
    let (threads, mean_s, seconds): (f64, f64, f64) = (2.0, 0.5, 2_000.0);
    let text = scenario_text(
        "2000s",
        100,
        "{ dist = \"exponential\", mean = \"500ms\" }",
        "10ms",
        &closed_client("c", threads as u32, NO_RETRY),
    );
    let (_, report) = run_text(&text);
    let t = report.summary.totals;
    let expected = threads / mean_s;
    let se = (threads * seconds / mean_s).sqrt() / seconds;
    assert_eq!(t.throttled, 0);
    assert!((t.admitted_qps - expected).abs() < 4.0 * se, "admitted {} vs C/R {expected} (se {se})", t.admitted_qps);
}

/// Little's law as an identity: with no retry and no think time every thread always has exactly one
/// attempt outstanding, so concurrency C = (admitted·E[response] + throttled·throttle latency) / T, up to
/// the attempts cut off by the end of the run.
#[test]
fn closed_loop_concurrency_equals_throughput_times_time_in_system() {
    let (threads, seconds, throttle_s) = (4.0, 1_000.0, 0.010);
    let text = scenario_text(
        "1000s",
        2,
        "{ dist = \"exponential\", mean = \"500ms\" }",
        "10ms",
        &closed_client("c", threads as u32, NO_RETRY),
    );
    let (_, report) = run_text(&text);
    let t = report.summary.totals;
    let busy = t.admitted as f64 * t.latency_s.mean + t.throttled as f64 * throttle_s;
    let concurrency = busy / seconds;
    // The run's end cuts at most C responses short; their share of C·T is tiny but not zero.
    assert!((concurrency - threads).abs() / threads < 0.005, "λW = {concurrency}, C = {threads}");
}

/// C > L·R: the limit binds; throttled threads come back within 10 ms and retry at once, so every window
/// fills to L and the admitted rate is L.
#[test]
fn closed_loop_over_the_limit_is_held_to_the_limit() {
    let text = scenario_text(
        "1000s",
        2,
        "{ dist = \"exponential\", mean = \"500ms\" }",
        "10ms",
        &closed_client("c", 16, NO_RETRY),
    );
    let (_, report) = run_text(&text);
    let t = report.summary.totals;
    assert!(t.admitted_qps <= 2.0);
    assert!(t.admitted_qps >= 0.99 * 2.0, "admitted {}", t.admitted_qps);
    assert!(t.throttle_rate > 0.5);
}

/// The limit belongs to the main account: three sub-accounts at 1 call per second each (constant
/// arrivals, all at the top of each second) are each under a limit of 2, yet together one call in three
/// is throttled.
#[test]
fn sub_accounts_share_their_main_accounts_limit() {
    let latency = "{ dist = \"constant\", mean = \"100ms\" }";
    let subs = ["ram-a", "ram-b", "ram-c"];
    let clients: String = subs.iter().map(|s| open_client(s, s, 1.0, "constant", NO_RETRY)).collect();
    let (_, together) = run_text(&scenario_text("60s", 2, latency, "10ms", &clients));
    assert_eq!(together.summary.totals.attempts, 180);
    assert_eq!(together.summary.totals.throttled, 60);
    assert_eq!(together.summary.by_sub_account.len(), 3);
    for entry in together.summary.by_sub_account.iter() {
        assert_eq!(entry.metrics().offered_qps, 1.0, "{} offers 1/s, under the limit", entry.sub_account);
    }
    for s in subs {
        let (_, alone) =
            run_text(&scenario_text("60s", 2, latency, "10ms", &open_client(s, s, 1.0, "constant", NO_RETRY)));
        assert_eq!(alone.summary.totals.throttled, 0, "{s} alone is not throttled");
    }
}

/// Two APIs never share a limit: each gets its own 2 QPS.
#[test]
fn apis_have_independent_limits() {
    let text = r#"
name = "two-apis"
start = "2026-11-26T09:00:00+08:00"
duration = "100s"
[[api]]
name = "A"
latency = { dist = "constant", mean = "100ms" }
[[api]]
name = "B"
latency = { dist = "constant", mean = "100ms" }
[[account]]
name = "acme"
[[client]]
name = "both"
account = "acme"
mix = [{ api = "A", weight = 1 }, { api = "B", weight = 1 }]
model = "open"
rate = 4
arrivals = "constant"
retry = { policy = "none" }
"#;
    let (_, report) = run_text(text);
    assert_eq!(report.summary.by_api.len(), 2);
    let admitted: u64 = report.summary.by_api.iter().map(|e| e.metrics.admitted).sum();
    let attempts = report.summary.totals.attempts;
    assert_eq!(attempts, 400);
    // Each API's window admits at most 2 a second, so over 100 s at most 200 each; with 4 arrivals a
    // second split at random, an API is throttled only when it draws 3 or 4 of them.
    assert!(report.summary.by_api.iter().all(|e| e.metrics.admitted <= 200));
    assert!(admitted > 200, "a shared limit would admit at most 200, got {admitted}");
}

/// Retries: a fixed wait of 1 s and at most 3 attempts. One thread, a limit of 1, a second thread
/// competing: every request's attempts are bounded and gave_up counts requests whose last attempt failed.
#[test]
fn fixed_retries_are_bounded_and_counted() {
    let text = scenario_text(
        "300s",
        1,
        "{ dist = \"constant\", mean = \"100ms\" }",
        "10ms",
        &closed_client("c", 4, "{ policy = \"fixed\", wait = \"1s\", max_attempts = 3 }"),
    );
    let (_, report) = run_text(&text);
    let t = report.summary.totals;
    assert!(t.attempts_per_request <= 3.0);
    assert!(t.gave_up > 0);
    assert_eq!(t.requests, t.admitted + t.gave_up + t.unfinished);
    assert_eq!(t.attempts, t.admitted + t.throttled);
    // Every finished request waited 1 s per throttle: latencies are 0.1 s, 1.11 s or 2.12 s.
    let l = t.latency_s;
    assert!(l.max <= 2.12 + 1e-9 && l.p50 >= 0.1 * (1.0 - 1e-3), "{l:?}");
}

/// A 1 s run, 10 evenly spaced requests against a limit of 2, throttle replies taking 200 ms, no retry: the
/// first two are admitted and the other eight given up when rejected, including those whose replies would
/// come back after the end. Nothing is unfinished.
#[test]
fn a_give_up_is_counted_when_the_last_attempt_is_rejected() {
    let text = scenario_text(
        "1s",
        2,
        "{ dist = \"constant\", mean = \"100ms\" }",
        "200ms",
        &open_client("even", "main", 10.0, "constant", NO_RETRY),
    );
    let (_, report) = run_text(&text);
    let t = report.summary.totals;
    assert_eq!((t.requests, t.admitted, t.throttled), (10, 2, 8));
    assert_eq!((t.gave_up, t.unfinished), (8, 0));
    assert_eq!(t.requests, t.admitted + t.gave_up + t.unfinished);
}
