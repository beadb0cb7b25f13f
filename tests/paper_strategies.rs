//! The client strategies of Farkiani, Liu and Crowley (ATB, AATB, window-based backoff) against schedules
//! worked out by hand, and ATB against unlimited backoff and the clairvoyant bound.

mod common;

use common::*;
use quotasim::rng::{Purpose, stream};
use rand::RngExt;

/// One batch client `b` of `requests` on one thread against a token bucket of 1 a second and burst 1,
/// 100 ms replies, 10 ms throttle replies.
fn one_thread(requests: u64, extra: &str) -> String {
    scenario_text(
        "60s",
        1,
        "{ dist = \"constant\", mean = \"100ms\" }",
        "10ms",
        &format!(
            "[[client]]\nname = \"b\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"batch\"\nthreads = 1\nrequests = {requests}\n{extra}\n"
        ),
    )
    .replace("[server]\n", "[server]\nlimiter = \"token-bucket\"\nburst = 1\n")
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// ATB at rate 1, one token, steps 2 below the last throttle's rate (5 at first) and 1.5 above; retries at
/// once. The server admits at 0, then from 1 s on once a second (its next token at 1, 2.5, 4).
/// - 0: token taken, admitted, back at 0.1: rate 1 → 2. Request 2 waits for a token at 0.5.
/// - 0.5: throttled (server's token at 1), back at 0.51: throttle rate 2, rate 1, bucket empty; the retry
///   waits for a token at 0.5 + 1 = 1.5, admitted (server's next at 2.5), back at 1.6: rate 1 → 2.
/// - Request 3 at 2.0 (1.5 + 1/2): throttled, rate 1, retry at 3.0 admitted (next at 4), back at 3.1.
/// - Request 4 at 3.5: throttled, retry at 4.5 admitted, back at 4.6. Seven attempts, three throttled.
#[test]
fn atb_by_hand() {
    let atb = "retry = { policy = \"fixed\", wait = \"0s\", max_attempts = 100 }\nadaptive = { kind = \"atb\", rate = 1, burst = 1, tokens = 1, congestion = 5, step_below = 2, step_above = 1.5 }";
    let (_, report) = run_text(&one_thread(4, atb));
    let b = &report.summary.batches[0];
    assert!(close(b.makespan_s.unwrap(), 4.6, 1e-9), "{:?}", b.makespan_s);
    assert_eq!((report.summary.totals.attempts, report.summary.totals.throttled), (7, 3));
}

/// Window-based backoff allowing 2 successes a second against a server that admits all: requests 1 and 2
/// succeed at 0.1 and 0.2; request 3 waits for the success of 0.1 to leave the window (1.1), succeeds at
/// 1.2; request 4 goes at once (the success of 0.2 has left), succeeds at 1.3; request 5 waits for 2.2,
/// done at 2.3. Never throttled.
#[test]
fn window_based_backoff_by_hand() {
    let text = scenario_text(
        "60s",
        100,
        "{ dist = \"constant\", mean = \"100ms\" }",
        "10ms",
        "[[client]]\nname = \"b\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"batch\"\nthreads = 1\nrequests = 5\nretry = { policy = \"window\", window = \"1s\", limit = 2 }\n",
    );
    let (_, report) = run_text(&text);
    let b = &report.summary.batches[0];
    assert!(close(b.makespan_s.unwrap(), 2.3, 1e-9), "{:?}", b.makespan_s);
    assert_eq!((report.summary.totals.attempts, report.summary.totals.throttled), (5, 0));
}

/// Unlimited backoff's waits: uniform on [0.1 s, min(2^n − 1 s, cap)] after the n-th attempt. Three
/// requests at once against 1 a second (burst 1): the first admitted, two throttled at 0 whose retries
/// wait within [0.1, 1] s; whatever the draws, every wait is in range, so the run ends between the bounds.
#[test]
fn unlimited_backoff_waits_within_its_range() {
    let text = scenario_text(
        "600s",
        1,
        "{ dist = \"constant\", mean = \"100ms\" }",
        "10ms",
        "[[client]]\nname = \"b\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"batch\"\nthreads = 3\nrequests = 3\nretry = { policy = \"window\", cap = \"4s\" }\n",
    )
    .replace("[server]\n", "[server]\nlimiter = \"token-bucket\"\nburst = 1\n");
    for seed in 1..20 {
        let (_, report) = run_text(&text.replace("seed = 11", &format!("seed = {seed}")));
        let b = &report.summary.batches[0];
        // The second admission is no sooner than 1 s (the server) and the third than 2 s; each retry waits
        // at least 0.1 s after a 10 ms reply.
        let m = b.makespan_s.unwrap();
        assert!(m >= 2.1, "seed {seed}: {m}");
        assert_eq!(report.summary.totals.admitted, 3);
        assert_eq!(report.summary.totals.gave_up, 0);
    }
}

/// AATB alone in its account, rate 2, one token, period 10 s, telemetry delay 50 ms, server rate taken
/// from the limit (1 a second), retries at once:
/// - 0: admitted, back at 0.1. Request 2 waits for a token at 0.5: throttled, back at 0.51, reported.
/// - 0.56: the answer (nothing reported before: 0 throttles, mean 0): wait (0 + 1) / 1 + u s with u the
///   client's first draw, rate 2 / 3 (it did not send under half the mean), 1 token. The retry (due at
///   0.56, after the answer) waits for the hold: admitted at 1.56 + u, back 0.1 later.
/// - Request 3 waits 1 / (2/3) = 1.5 s for its token: admitted (the server's next at 2.56 + u), done at
///   1.56 + u + 1.6 = 3.16 + u. Four attempts, one throttled.
#[test]
fn aatb_after_a_throttle_by_hand() {
    let aatb = "retry = { policy = \"fixed\", wait = \"0s\", max_attempts = 100 }\nadaptive = { kind = \"aatb\", rate = 2, burst = 1, tokens = 1, period = \"10s\", window = \"10s\", delay = \"50ms\" }";
    let text = one_thread(3, aatb);
    let (sc, report) = run_text(&text);
    let u: f64 = stream(sc.seed, 0, Purpose::Adaptive).random::<f64>();
    let b = &report.summary.batches[0];
    // The hold is rounded to the nanosecond and 1 / (2/3) up to it: a microsecond covers both.
    assert!(close(b.makespan_s.unwrap(), 3.16 + u, 1e-6), "{:?} vs {}", b.makespan_s, 3.16 + u);
    assert_eq!((report.summary.totals.attempts, report.summary.totals.throttled), (4, 1));
}

/// Ten batch clients of one thread sharing one token bucket (the paper's setting, time in seconds): the
/// bound is its closed form; AATB throttles at most a tenth of what unlimited backoff throttles and
/// finishes within 1.2x of the bound. ATB, with the paper's evaluated steps (1.2 below and above), does
/// not reach a tenth here (about an eighth, at 1.21x): the test holds it to a fifth and 1.3x, what it
/// does with margin, so that a change that makes it worse is seen.
#[test]
fn adaptive_buckets_throttle_far_less_than_unlimited_backoff_near_the_bound() {
    let clients = |retry: &str, adaptive: &str| -> String {
        (0..10)
            .map(|i| {
                format!(
                    "[[client]]\nname = \"c{i}\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"batch\"\nthreads = 1\nrequests = 60\nretry = {retry}\n{adaptive}\n"
                )
            })
            .collect()
    };
    let text = |retry: &str, adaptive: &str| {
        scenario_text("3600s", 1, "{ dist = \"constant\", mean = \"50ms\" }", "10ms", &clients(retry, adaptive))
            .replace("[server]\n", "[server]\nlimiter = \"token-bucket\"\nburst = 50\n")
    };
    let run = |t: &str| {
        let sc = quotasim::scenario::Scenario::parse(t, "test.toml").unwrap();
        let options = quotasim::engine::RunOptions::for_scenario(&sc);
        let out = quotasim::engine::run(&sc, options).unwrap();
        let bound = quotasim::bound::run(&sc, options).unwrap();
        let mut report = quotasim::report::Report::new(&sc, out);
        report.attach_bound(&sc, &bound);
        report
    };
    let at_once = "{ policy = \"fixed\", wait = \"0s\", max_attempts = 1000000 }";
    let ub = run(&text("{ policy = \"window\" }", ""));
    let atb = run(&text(at_once, "adaptive = { kind = \"atb\" }"));
    let aatb = run(&text(at_once, "adaptive = { kind = \"aatb\" }"));
    let best = ub.summary.by_api[0].bound.unwrap().bound.last_s.unwrap();
    // 600 requests, 50 at once, then one a second: the last admitted at 550 s, back 50 ms later.
    assert!(close(best, 550.05, 1e-9), "{best}");
    let t_ub = ub.summary.totals.throttled;
    let outcome = |r: &quotasim::report::Report| {
        let pair = r.summary.by_api[0].bound.unwrap();
        assert_eq!(pair.bound.last_s, Some(best), "the bound is the same for every strategy");
        assert_eq!(r.summary.totals.admitted, 600);
        (r.summary.totals.throttled, pair.run_last_s.unwrap() / best)
    };
    let (t_atb, x_atb) = outcome(&atb);
    let (t_aatb, x_aatb) = outcome(&aatb);
    assert!(t_aatb * 10 <= t_ub && x_aatb <= 1.2, "AATB {t_aatb} throttles at {x_aatb:.3}x, UB {t_ub}");
    assert!(t_atb * 5 <= t_ub && x_atb <= 1.3, "ATB {t_atb} throttles at {x_atb:.3}x, UB {t_ub}");
}

/// Bad strategy keys are refused at their key, saying what would be valid.
#[test]
fn bad_strategy_keys_name_their_key_and_what_is_valid() {
    let cases = [
        ("adaptive = { kind = \"atb\", step_below = 0.5 }", "adaptive.step_below", "factor from 1 to 1000"),
        ("adaptive = { kind = \"atb\", burst = 0 }", "adaptive.burst", "1 to 10^9 tokens"),
        ("adaptive = { kind = \"atb\", burst = 2, tokens = 3 }", "adaptive.tokens", "0 to `burst`"),
        ("adaptive = { kind = \"aatb\", period = \"0s\" }", "adaptive.period", "longer than zero"),
        ("adaptive = { kind = \"atb\", k = 2 }", "adaptive.k", "takes no `k`"),
        ("adaptive = { kind = \"aatb\", scope = \"planet\" }", "adaptive.scope", "planet"),
        ("adaptive = { kind = \"atb\" }\npace = { rate = 2 }", "pace", "own token bucket"),
    ];
    for (extra, key, says) in cases {
        let text = one_thread(3, extra);
        let e = quotasim::scenario::Scenario::parse(&text, "bad.toml").expect_err(extra);
        assert!(e.key.ends_with(key), "{extra}: key {}", e.key);
        assert!(e.message.contains(says), "{extra}: {}", e.message);
    }
    for (retry, key, says) in [
        ("{ policy = \"window\", limit = 0 }", "retry.limit", "1 to 10^12"),
        ("{ policy = \"window\", cap = \"0s\" }", "retry.cap", "longer than zero"),
        ("{ policy = \"window\", base = \"1s\" }", "retry.base", "base"),
    ] {
        let text = one_thread(3, &format!("retry = {retry}"));
        let e = quotasim::scenario::Scenario::parse(&text, "bad.toml").expect_err(retry);
        assert!(e.key.ends_with(key), "{retry}: key {}", e.key);
        assert!(e.message.contains(says), "{retry}: {}", e.message);
    }
}
