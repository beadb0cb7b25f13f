//! Retry strategies against results worked out by hand.

mod common;

use common::*;

fn batch(retry: &str) -> String {
    scenario_text(
        "10s",
        2,
        "{ dist = \"constant\", mean = \"100ms\" }",
        "10ms",
        &format!(
            "[[client]]\nname = \"b\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"batch\"\nthreads = 6\nrequests = 6\nretry = {retry}\n"
        ),
    )
}

/// Six requests on six threads at t = 0 against 2 a second, 100 ms responses, 10 ms throttle replies. At 0:
/// two admitted, four throttled (replies at 0.01). Exponential from 1 s without jitter: the four retry at
/// 1.01, two admitted, two throttled (replies at 1.02) and wait 2 s: admitted at 3.02, done at 3.12, in 12
/// attempts. A fixed 1 s wait retries those two at 2.02 instead: done at 2.12.
#[test]
fn exponential_backoff_without_jitter_by_hand() {
    let (_, report) = run_text(&batch("{ policy = \"exponential\", base = \"1s\", multiplier = 2, cap = \"10s\" }"));
    let b = &report.summary.batches[0];
    assert!((b.makespan_s.unwrap() - 3.12).abs() < 1e-9, "{:?}", b.makespan_s);
    assert_eq!(report.summary.totals.attempts, 12);
    let (_, fixed) = run_text(&batch("{ policy = \"fixed\", wait = \"1s\" }"));
    assert!((fixed.summary.batches[0].makespan_s.unwrap() - 2.12).abs() < 1e-9);
    assert_eq!(fixed.summary.totals.attempts, 12);
}

/// Retry-after: the reply says the next window opens in 1 s (at 1.0); the caller, told at 0.01, waits that
/// long, so the four retry at 1.01 like a 1 s fixed wait; the two throttled there are told 0.99 s (the window
/// at 2.0) and retry at 1.02 + 0.99 = 2.01, done at 2.11.
#[test]
fn retry_after_waits_for_the_next_window() {
    let (_, report) = run_text(&batch("{ policy = \"retry-after\" }"));
    let b = &report.summary.batches[0];
    assert!((b.makespan_s.unwrap() - 2.11).abs() < 1e-9, "{:?}", b.makespan_s);
    assert_eq!(report.summary.totals.attempts, 12);
}

/// Every policy and client-side strategy is reproducible from the seed: the same totals twice, other
/// totals from another seed.
#[test]
fn every_strategy_is_reproducible() {
    let strategies = [
        ("{ policy = \"none\" }", ""),
        ("{ policy = \"fixed\", wait = \"1s\" }", ""),
        ("{ policy = \"exponential\", base = \"100ms\", cap = \"5s\" }", ""),
        ("{ policy = \"exponential\", base = \"100ms\", cap = \"5s\", jitter = \"full\" }", ""),
        ("{ policy = \"exponential\", base = \"100ms\", cap = \"5s\", jitter = \"equal\" }", ""),
        ("{ policy = \"exponential\", base = \"100ms\", cap = \"5s\", jitter = \"decorrelated\" }", ""),
        ("{ policy = \"retry-after\", jitter = \"50ms\" }", ""),
        (
            "{ policy = \"fixed\", wait = \"1s\", budget = { kind = \"ratio\", max_tokens = 10, token_ratio = 0.1 } }",
            "",
        ),
        ("{ policy = \"fixed\", wait = \"1s\" }", "pace = { rate = 2, queue_limit = 3 }\n"),
        ("{ policy = \"fixed\", wait = \"1s\" }", "adaptive = { kind = \"sre\" }\n"),
        (
            "{ policy = \"fixed\", wait = \"1s\" }",
            "adaptive = { kind = \"aimd\", increase = 1, decrease = 0.5, min_rate = 1, max_rate = 8 }\n",
        ),
    ];
    for (retry, extra) in strategies {
        let text = scenario_text(
            "2m",
            2,
            "{ dist = \"exponential\", mean = \"500ms\" }",
            "10ms",
            &format!("{}{extra}", closed_client("w", 8, retry)),
        );
        let (_, a) = run_text(&text);
        let (_, b) = run_text(&text);
        assert_eq!(format!("{:?}", a.summary.totals), format!("{:?}", b.summary.totals), "{retry} {extra}");
        let (_, c) = run_text(&text.replace("seed = 11", "seed = 12"));
        assert_ne!(format!("{:?}", a.summary.totals), format!("{:?}", c.summary.totals), "{retry} {extra}");
    }
}

/// A token-bucket retry budget never allows more retries than its capacity over the cost of a retry, plus
/// what successes refund; the refusals are given up and counted apart.
#[test]
fn a_token_bucket_budget_bounds_the_retries() {
    for (capacity, cost, refund) in [(50.0, 5.0, 1.0), (500.0, 5.0, 1.0), (20.0, 2.0, 0.0)] {
        let retry = format!(
            "{{ policy = \"fixed\", wait = \"1s\", max_attempts = 10, budget = {{ kind = \"token-bucket\", capacity = {capacity}, retry_cost = {cost}, success_refund = {refund} }} }}"
        );
        let text = scenario_text(
            "5m",
            2,
            "{ dist = \"exponential\", mean = \"500ms\" }",
            "10ms",
            &closed_client("w", 16, &retry),
        );
        let (_, report) = run_text(&text);
        let t = report.summary.totals;
        let retries = (t.attempts - t.requests) as f64;
        let bound = (capacity + refund * t.admitted as f64) / cost;
        assert!(retries <= bound, "capacity {capacity}: {retries} retries > {bound}");
        assert!(t.budget_refused > 0 && t.budget_refused <= t.gave_up, "{t:?}");
        assert_eq!(t.requests, t.admitted + t.gave_up + t.unfinished);
    }
}

/// gRPC's ratio budget under sustained overload: tokens fall to half, after which a retry needs a success
/// (worth `token_ratio`) for every throttled attempt it follows; most retries are refused.
#[test]
fn a_ratio_budget_refuses_retries_under_overload() {
    let retry = "{ policy = \"fixed\", wait = \"1s\", max_attempts = 10, budget = { kind = \"ratio\", max_tokens = 10, token_ratio = 0.1 } }";
    let text =
        scenario_text("5m", 2, "{ dist = \"exponential\", mean = \"500ms\" }", "10ms", &closed_client("w", 16, retry));
    let (_, report) = run_text(&text);
    let t = report.summary.totals;
    assert!(t.budget_refused > t.gave_up / 2, "{t:?}");
    // Each retry allowed past the first few needs a success's 0.1 token for each throttled attempt.
    let retries = (t.attempts - t.requests) as f64;
    assert!(retries <= 5.0 + 0.1 * t.admitted as f64 + 1.0, "{retries} retries, {} admitted", t.admitted);
}

fn quotasim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_quotasim")).args(args).output().expect("the binary runs")
}

fn bundled(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name).display().to_string()
}

/// Variants and whole policies as sweep values: every variant is a point (the baseline first), a run can
/// take one variant, and an unknown name is an input error.
#[test]
fn strategies_compare_as_variants_and_as_whole_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = bundled("retry-strategies.toml");
    let out = quotasim(&["sweep", &sc, "--reps", "2", "--out", tmp.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ranked") && text.contains("decorrelated"), "{text}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("sweep.json")).unwrap()).unwrap();
    let names: Vec<&str> = doc["points"].as_array().unwrap().iter().map(|p| p["values"][0].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["baseline", "exponential", "full-jitter", "decorrelated", "retry-after", "paced", "sre", "aimd", "budget"]
    );
    // Whole retry tables as values, split at top-level commas.
    let tables = "client.workers.retry={ policy = \"none\" },{ policy = \"fixed\", wait = \"2s\", max_attempts = 3 }";
    let out =
        quotasim(&["sweep", &sc, "--param", tables, "--reps", "2", "--out", tmp.path().join("t").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("t/sweep.json")).unwrap()).unwrap();
    let attempts_per_request = |i: usize| {
        doc["points"][i]["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "attempts_per_request").unwrap()
            ["mean"]
            .as_f64()
            .unwrap()
    };
    // With no retry a request makes exactly one attempt.
    assert_eq!(attempts_per_request(0), 1.0);
    assert!(attempts_per_request(1) > 1.0 && attempts_per_request(1) <= 3.0);
    let out =
        quotasim(&["run", &sc, "--variant", "full-jitter", "--out", tmp.path().join("r").to_str().unwrap(), "--quiet"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = quotasim(&["run", &sc, "--variant", "nope", "--out", tmp.path().join("n").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no [[variant]] is named `nope`"));
}

fn paced_open(rate: f64, pace: &str, seconds: u64, limit: u32, seed: u64) -> String {
    scenario_text(
        &format!("{seconds}s"),
        limit,
        "{ dist = \"constant\", mean = \"100ms\" }",
        "10ms",
        &format!("{}pace = {pace}\n", open_client("p", "main", rate, "poisson", NO_RETRY)),
    )
    .replace("seed = 11", &format!("seed = {seed}"))
}

/// Poisson arrivals at λ into a pacer of rate r and burst 1 make an M/D/1 queue (the pacer's spacing is the
/// service time D = 1/r): the mean wait is λ D² / (2 (1 − ρ)). Twenty independent runs give the mean and
/// its standard error; the pacer at the limit is never throttled by the clock window.
#[test]
fn a_pacer_is_an_md1_queue_and_never_throttled_at_its_rate() {
    let (lambda, r) = (1.5, 2.0);
    let (d, rho) = (1.0 / r, lambda / r);
    let expected = lambda * d * d / (2.0 * (1.0 - rho));
    let means: Vec<f64> = (0..20)
        .map(|seed| {
            let (_, report) = run_text(&paced_open(lambda, "{ rate = 2 }", 7_200, 2, seed));
            let t = report.summary.totals;
            assert_eq!(t.throttled, 0, "a pacer at the limit is never throttled");
            t.queued_s.mean
        })
        .collect();
    let n = means.len() as f64;
    let mean = means.iter().sum::<f64>() / n;
    let se = (means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / n.sqrt();
    assert!((mean - expected).abs() < 4.0 * se, "mean wait {mean:.4} s, M/D/1 {expected:.4} s, se {se:.4}");
}

/// At a rate whose interval is not a whole number of nanoseconds (3 a second), a pacer fed far more than it
/// lets through still never meets a throttle from a clock window of 3; with a queue limit it drops instead.
#[test]
fn a_pacer_at_three_a_second_is_never_throttled_and_drops_past_its_queue() {
    let (_, report) = run_text(&paced_open(10.0, "{ rate = 3 }", 60, 3, 1));
    let t = report.summary.totals;
    assert_eq!(t.throttled, 0);
    assert!(t.admitted >= 178 && t.admitted <= 180, "{t:?}");
    let (_, report) = run_text(&paced_open(10.0, "{ rate = 2, queue_limit = 5 }", 60, 2, 1));
    let t = report.summary.totals;
    assert_eq!(t.throttled, 0);
    assert!(t.dropped > 400, "{t:?}");
    assert_eq!(t.requests, t.admitted + t.gave_up + t.dropped + t.unfinished);
    assert!(t.queued_s.max <= 3.0 + 1e-9, "five waiting at 2 a second wait at most 3 s: {t:?}");
}

/// Google SRE client-side throttling under sustained overload (demand five times the limit): the client
/// sends about K × accepts, so the platform throttles (K − 1) / K of what it is sent. The finite history
/// (two minutes, about 240 accepts) biases the share up by about 1 / (K² · accepts) < 0.005, and the
/// hour's binomial spread is below 0.005 too: 0.02 is a wide but honest bound. Every local rejection is
/// counted, and the identity of the request counts holds.
#[test]
fn sre_throttling_tends_to_k_minus_one_over_k() {
    for k in [2.0, 1.5, 4.0] {
        let text = scenario_text(
            "1h",
            2,
            "{ dist = \"constant\", mean = \"100ms\" }",
            "10ms",
            &format!(
                "{}adaptive = {{ kind = \"sre\", k = {k} }}\n",
                open_client("o", "main", 10.0, "poisson", NO_RETRY)
            ),
        );
        let (_, report) = run_text(&text);
        let t = report.summary.totals;
        let expected = (k - 1.0) / k;
        assert!(
            (t.throttle_rate - expected).abs() < 0.02,
            "k = {k}: throttle share {}, expected {expected}",
            t.throttle_rate
        );
        assert!(t.rejected_locally > 0);
        assert_eq!(t.requests, t.admitted + t.gave_up + t.dropped + t.rejected_locally + t.unfinished);
    }
}

/// AIMD pacing on the quickstart's 8 threads (16 QPS of demand against 2): the rate climbs by `increase`
/// a second and halves at each throttle reply, a sawtooth whose peaks just pass the limit. So throttles are
/// rare (only at the peaks: well under the 79 % of the unpaced threads), no request is given up, the
/// attempts sent stay within `max_rate`, and the limit is mostly used (the sawtooth spends its time between
/// L/2 and L: 0.6 L is a safe floor for the admitted rate).
#[test]
fn aimd_pacing_keeps_throttles_rare_and_the_limit_mostly_used() {
    let text = scenario_text(
        "10m",
        2,
        "{ dist = \"exponential\", mean = \"500ms\" }",
        "10ms",
        &format!(
            "{}adaptive = {{ kind = \"aimd\", increase = 0.5, decrease = 0.5, min_rate = 0.5, max_rate = 16 }}\n",
            closed_client("w", 8, "{ policy = \"fixed\", wait = \"1s\", max_attempts = 10 }")
        ),
    );
    let (_, report) = run_text(&text);
    let t = report.summary.totals;
    assert!(t.throttle_rate < 0.25, "{t:?}");
    assert_eq!(t.gave_up, 0);
    assert!(t.offered_qps <= 16.0 && t.admitted_qps >= 1.2, "{t:?}");
    assert!(t.queued_s.mean > 0.0);
}

/// Clients that share a budget's or a pacer's scope must declare the same one.
#[test]
fn clients_sharing_a_scope_must_agree() {
    for (a, b, key) in [
        (
            "retry = { policy = \"fixed\", budget = { kind = \"ratio\", max_tokens = 10, token_ratio = 0.1, scope = \"account\" } }",
            "retry = { policy = \"fixed\", budget = { kind = \"ratio\", max_tokens = 20, token_ratio = 0.1, scope = \"account\" } }",
            "client[1].retry.budget",
        ),
        ("pace = { rate = 2, scope = \"account\" }", "pace = { rate = 3, scope = \"account\" }", "client[1].pace"),
    ] {
        let clients = format!(
            "{}{a}\n{}{b}\n",
            open_client("x", "s1", 1.0, "poisson", "{ policy = \"none\" }")
                .replace("retry = { policy = \"none\" }\n", ""),
            open_client("y", "s2", 1.0, "poisson", "{ policy = \"none\" }")
                .replace("retry = { policy = \"none\" }\n", ""),
        );
        let text = scenario_text("1m", 2, "{ dist = \"constant\", mean = \"100ms\" }", "10ms", &clients);
        let e = quotasim::scenario::Scenario::parse(&text, "t.toml").unwrap_err();
        assert_eq!(e.key, key, "{e}");
        assert!(e.message.contains("client `x`"), "{e}");
        // The same declaration in both is fine: they share it.
        let same = text.replace(b, a);
        assert!(quotasim::scenario::Scenario::parse(&same, "t.toml").is_ok());
    }
}
