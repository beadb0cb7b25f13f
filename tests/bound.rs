//! The clairvoyant bound: equal to its closed form where it has one, and never beaten by any strategy.

mod common;

use common::*;
use proptest::prelude::*;
use quotasim::bound;
use quotasim::engine::{self, RunOptions};
use quotasim::report::Report;
use quotasim::scenario::Scenario;

/// A scenario on one API with the given limiter keys and `[[client]]` tables, constant replies.
fn text(limiter: &str, qps: u32, reply_ms: u64, clients: &str) -> String {
    scenario_text("600s", qps, &format!("{{ dist = \"constant\", mean = \"{reply_ms}ms\" }}"), "10ms", clients)
        .replace("[server]\n", &format!("[server]\n{limiter}\n"))
}

fn batch(name: &str, requests: u64, threads: u32, retry: &str) -> String {
    format!(
        "[[client]]\nname = \"{name}\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"batch\"\nrequests = {requests}\nthreads = {threads}\nretry = {retry}\n"
    )
}

/// The run and its bound, as `quotasim run` attaches it.
fn run_with_bound(text: &str) -> Report {
    let sc = Scenario::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let options = RunOptions::for_scenario(&sc);
    let out = engine::run(&sc, options).unwrap_or_else(|e| panic!("{e}"));
    let b = bound::run(&sc, options).unwrap_or_else(|e| panic!("{e}"));
    let mut report = Report::new(&sc, out);
    report.attach_bound(&sc, &b);
    report
}

/// n requests at once (n threads) against a token bucket of rate r and burst b: the first b at 0, then one
/// every 1/r, the last admitted at (n − b)/r and done one reply later.
#[test]
fn n_at_once_against_a_token_bucket_is_the_closed_form() {
    for (n, qps, burst, reply_ms) in [(50u64, 2u32, 10u64, 100u64), (200, 5, 1, 250), (7, 3, 7, 40), (1000, 40, 50, 5)]
    {
        let t = text(
            &format!("limiter = \"token-bucket\"\nburst = {burst}"),
            qps,
            reply_ms,
            &batch("all", n, n as u32, "{ policy = \"fixed\", wait = \"1s\", max_attempts = 1000000 }"),
        );
        let report = run_with_bound(&t);
        let expected = bound::token_bucket_last(n, qps as f64, burst, reply_ms * 1_000_000);
        let pair = report.summary.by_api[0].bound.expect("a batch has a bound");
        let last = pair.bound.last_s.expect("the bound finishes");
        assert!((last - expected).abs() < 1e-9, "n {n} qps {qps} burst {burst}: {last} vs {expected}");
        assert_eq!(pair.bound.completed, n);
        assert_eq!(report.summary.batches[0].bound_s, Some(Some(last)));
        // The run itself, retrying on a fixed wait, is no faster.
        assert!(pair.run_last_s.unwrap() >= last - 1e-9);
    }
}

/// n requests at once against a clock-aligned fixed window of q a second: the k-th second admits q, so the
/// last is admitted at floor((n − 1)/q) s (the run starts on a whole second).
#[test]
fn n_at_once_against_a_fixed_window_is_whole_windows() {
    for (n, qps) in [(10u64, 2u32), (9, 3), (1, 1), (101, 10)] {
        let t =
            text("limiter = \"fixed-window\"", qps, 100, &batch("all", n, n as u32, "{ policy = \"retry-after\" }"));
        let report = run_with_bound(&t);
        let last = report.summary.by_api[0].bound.unwrap().bound.last_s.unwrap();
        let expected = ((n - 1) / qps as u64) as f64 + 0.1;
        assert!((last - expected).abs() < 1e-9, "n {n} qps {qps}: {last} vs {expected}");
    }
}

/// A closed loop's requests are made by its replies: no bound.
#[test]
fn a_closed_loop_has_no_bound() {
    let t = text("", 2, 100, &closed_client("c", 3, NO_RETRY));
    let report = run_with_bound(&t);
    assert!(report.summary.by_api[0].bound.is_none());
}

/// A client's strategy: a retry policy, and for some an adaptive one (ATB, AATB) or window-based backoff.
fn retry_of(i: u8) -> &'static str {
    [
        "{ policy = \"fixed\", wait = \"1s\", max_attempts = 1000000 }",
        "{ policy = \"fixed\", wait = \"0s\", max_attempts = 1000000 }",
        "{ policy = \"exponential\", base = \"100ms\", cap = \"4s\", jitter = \"full\", max_attempts = 1000000 }",
        "{ policy = \"retry-after\", max_attempts = 1000000 }",
        "{ policy = \"window\", cap = \"4s\" }",
        "{ policy = \"window\", window = \"2s\", limit = 3, cap = \"4s\" }",
        "{ policy = \"fixed\", wait = \"0s\", max_attempts = 1000000 }\nadaptive = { kind = \"atb\", rate = 2, burst = 3 }",
        "{ policy = \"fixed\", wait = \"0s\", max_attempts = 1000000 }\nadaptive = { kind = \"aatb\", rate = 2, period = \"5s\", window = \"5s\" }",
    ][i as usize % 8]
}

fn limiter_of(i: u8, burst: u64) -> String {
    match i % 4 {
        0 => "limiter = \"fixed-window\"".into(),
        1 => format!("limiter = \"token-bucket\"\nburst = {burst}"),
        2 => "limiter = \"sliding-log\"".into(),
        _ => "limiter = \"sliding-counter\"".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the limiter, the clients and their strategies (retry policies, window-based backoff, ATB,
    /// AATB), no run finishes its requests before the bound.
    #[test]
    fn no_strategy_beats_the_bound(
        limiter in 0u8..4,
        burst in 1u64..8,
        qps in 1u32..6,
        reply_ms in 1u64..400,
        clients in proptest::collection::vec((1u64..40, 1u32..6, 0u8..8), 1..4),
    ) {
        let tables: String = clients
            .iter()
            .enumerate()
            .map(|(i, &(n, threads, retry))| batch(&format!("b{i}"), n, threads, retry_of(retry)))
            .collect();
        let report = run_with_bound(&text(&limiter_of(limiter, burst), qps, reply_ms, &tables));
        let pair = report.summary.by_api[0].bound.unwrap();
        let best = pair.bound.last_s.unwrap();
        let run = pair.run_last_s.unwrap();
        prop_assert!(run >= best - 1e-9, "run {run} < bound {best}");
        // Every request completed in both: the mean response time is bounded too.
        prop_assert!(pair.run_mean_s >= pair.bound.mean_s - 1e-9, "mean {} < bound {}", pair.run_mean_s, pair.bound.mean_s);
        prop_assert_eq!(pair.bound.completed, clients.iter().map(|c| c.0).sum::<u64>());
    }
}
