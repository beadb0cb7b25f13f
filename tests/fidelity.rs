//! The semantic edges an independent model found, each on a schedule worked out by hand, and tests that
//! fail when a strategy's parameter is ignored (a backoff's cap, `count_rejected`, what prepaid calls cost).

mod common;

use common::*;
use std::path::Path;

/// A scenario replaying `rows` (Unix seconds, one per line) from a CSV written into `dir`, with `server`
/// keys, `api` keys and the client's extra keys added.
fn replay(dir: &Path, start: &str, duration: &str, rows: &[f64], server: &str, api: &str, client: &str) -> String {
    let path = dir.join("rows.csv");
    let body: String = rows.iter().map(|t| format!("{t}\n")).collect();
    std::fs::write(&path, format!("t\n{body}")).unwrap();
    format!(
        "name = \"t\"\nstart = \"{start}\"\nduration = \"{duration}\"\n[server]\nthrottle_latency = \"10ms\"\n{server}\n\
         [[api]]\nname = \"Api\"\nqps = 1\nlatency = {{ dist = \"constant\", mean = \"10ms\" }}\n{api}\n\
         [[account]]\nname = \"acme\"\n\
         [[client]]\nname = \"log\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"trace\"\n{client}\n\
         trace = {{ path = \"{}\", time = \"t\", time_format = \"unix-s\", shift = false }}\n",
        path.display()
    )
}

/// Rows at 0, 9.5, 10.2, 10.6, 20.3, 21.5 and 23 s; windows of 1 s (1 call) and 10 s (2 calls), each opened
/// by the first attempt after the last one closed. 0 and 9.5 fill the first 10 s window. 10.2 finds the
/// 1 s window (opened at 9.5) full, but opens the next 10 s window, [10.2, 20.2). 10.6: admitted. 20.3
/// opens [20.3, 30.3): admitted, and so is 21.5; 23 finds it full. Five, whichever window is listed first.
#[test]
fn first_call_windows_open_whatever_order_they_are_listed_in() {
    let tmp = tempfile::tempdir().unwrap();
    // 2026-11-26T09:00:00+08:00 is Unix 1795654800.
    let rows: Vec<f64> = [0.0, 9.5, 10.2, 10.6, 20.3, 21.5, 23.0].iter().map(|t| 1_795_654_800.0 + t).collect();
    for windows in [
        "windows = [{ window = \"1s\" }, { window = \"10s\", limit = 2 }]",
        "windows = [{ window = \"10s\", limit = 2 }, { window = \"1s\" }]",
    ] {
        let text = replay(
            tmp.path(),
            "2026-11-26T09:00:00+08:00",
            "30s",
            &rows,
            &format!("align = \"first-call\"\n{windows}"),
            "",
            "",
        );
        let t = run_text(&text).1.summary.totals;
        assert_eq!((t.admitted, t.throttled), (5, 2), "{windows}");
    }
}

/// A day window of one call in a UTC+8 scenario turns over at local midnight: calls at local 07:59, 08:01
/// and 23:00 of one day share it, so one is admitted (aligned to UTC, the window would turn at 08:00 local
/// and admit two).
#[test]
fn clock_windows_turn_over_at_local_midnight() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [1_795_651_140.0, 1_795_651_260.0, 1_795_705_200.0];
    let text = replay(
        tmp.path(),
        "2026-11-26T00:00:00+08:00",
        "1d",
        &rows,
        "windows = [{ window = \"1d\", limit = 1 }]",
        "",
        "",
    );
    let t = run_text(&text).1.summary.totals;
    assert_eq!((t.admitted, t.throttled), (1, 2));
    // The next local day opens a new window: a fourth call at local 00:30 of the 27th is admitted.
    let rows = [1_795_651_140.0, 1_795_651_260.0, 1_795_705_200.0, 1_795_710_600.0];
    let text = replay(
        tmp.path(),
        "2026-11-26T00:00:00+08:00",
        "2d",
        &rows,
        "windows = [{ window = \"1d\", limit = 1 }]",
        "",
        "",
    );
    let t = run_text(&text).1.summary.totals;
    assert_eq!((t.admitted, t.throttled), (2, 2));
}

/// 1 call a second and 10 units a minute, 6 units a call, rows at 0, 0.5 and 1.0 s. 0: admitted (6 units).
/// 0.5: the second's window is full and 6 more units would pass 10: throttled, but not for want of units
/// alone. 1.0: the new second has room, the units do not: throttled for want of units. 2 throttled, 1 by
/// units.
#[test]
fn a_throttle_is_for_want_of_units_only_when_the_request_limit_had_room() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [1_795_654_800.0, 1_795_654_800.5, 1_795_654_801.0];
    let text = replay(
        tmp.path(),
        "2026-11-26T09:00:00+08:00",
        "10s",
        &rows,
        "",
        "units = { limit = 10, window = \"1m\" }",
        "cost = 6",
    );
    let t = run_text(&text).1.summary.totals;
    assert_eq!((t.admitted, t.throttled, t.throttled_by_units), (1, 2, Some(1)));
}

/// `run --requests` lists every attempt: recounted per (sub-account, API), it gives summary.csv's
/// requests, attempts, admitted and throttled, for a replayed log (each request its own row of the file)
/// and for retrying closed-loop threads.
#[test]
fn the_per_attempt_listing_recounts_the_summary() {
    use std::collections::BTreeMap;
    for (scenario, trace) in [("replay-access-log.toml", true), ("quickstart.toml", false)] {
        let tmp = tempfile::tempdir().unwrap();
        let listing = tmp.path().join("requests.csv");
        let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(scenario);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
            .args(["run", sc.to_str().unwrap(), "--out", tmp.path().join("out").to_str().unwrap(), "--no-chart"])
            .args(["--quiet", "--requests", listing.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // (sub-account, API) -> (requests, attempts, admitted, throttled); and every request's trace rows.
        let mut counted: BTreeMap<(String, String), (u64, u64, u64, u64)> = BTreeMap::new();
        let mut rows: BTreeMap<u64, String> = BTreeMap::new();
        let mut last_time = 0.0;
        for r in csv::Reader::from_path(&listing).unwrap().records() {
            let r = r.unwrap();
            let time: f64 = r[0].parse().unwrap();
            assert!(time >= last_time, "rows are in time order");
            last_time = time;
            let e = counted.entry((r[3].to_string(), r[4].to_string())).or_default();
            let attempt: u32 = r[5].parse().unwrap();
            if attempt == 1 {
                e.0 += 1;
            }
            match &r[6] {
                "admitted" => (e.1, e.2) = (e.1 + 1, e.2 + 1),
                "throttled" => (e.1, e.3) = (e.1 + 1, e.3 + 1),
                other => panic!("{other}: no pacer or adaptive client in {scenario}"),
            }
            let request: u64 = r[1].parse().unwrap();
            if trace {
                let previous = rows.insert(request, r[7].to_string());
                assert!(previous.is_none_or(|p| p == r[7]), "one request, one row");
            } else {
                assert!(r[7].is_empty());
            }
        }
        let mut summary = csv::Reader::from_path(tmp.path().join("out/summary.csv")).unwrap();
        let header = summary.headers().unwrap().clone();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let mut expected = BTreeMap::new();
        for r in summary.records() {
            let r = r.unwrap();
            let n = |name: &str| r[col(name)].parse::<u64>().unwrap();
            expected.insert(
                (r[col("sub_account")].to_string(), r[col("api")].to_string()),
                (n("requests"), n("attempts"), n("admitted"), n("throttled")),
            );
        }
        expected.retain(|_, v| v.0 > 0);
        assert_eq!(counted, expected, "{scenario}");
        if trace {
            // Every row of the log is one request: as many distinct line numbers as requests.
            let distinct: std::collections::BTreeSet<&String> = rows.values().collect();
            assert_eq!(distinct.len(), rows.len());
        }
    }
}

/// Every attempt's time, per request, from a run of `text`.
fn attempt_times(text: &str) -> Vec<Vec<f64>> {
    use quotasim::engine::{self, AttemptSeen, Observer, RunOptions};
    struct Times(Vec<Vec<f64>>);
    impl Observer for Times {
        const ACTIVE: bool = false;
        const ATTEMPTS: bool = true;
        fn request_started(&mut self, _: u64, _: &str, _: &str, _: &str) {}
        fn attempt(&mut self, a: &AttemptSeen<'_>) {
            let r = a.request as usize - 1;
            if self.0.len() <= r {
                self.0.resize(r + 1, Vec::new());
            }
            self.0[r].push(a.at as f64 / 1e9);
        }
    }
    let sc = quotasim::scenario::Scenario::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut times = Times(Vec::new());
    engine::run_observed(&sc, RunOptions::for_scenario(&sc), &mut times).unwrap();
    times.0
}

/// One thread, 100 ms responses, 10 ms throttle replies, and a quota of one call a day: the first request
/// is admitted and every later attempt throttled, so the retry schedule shows bare.
fn always_throttled(duration: &str, retry: &str) -> String {
    scenario_text(duration, 2, "{ dist = \"constant\", mean = \"100ms\" }", "10ms", &closed_client("w", 1, retry))
        .replace("[server]\n", "[server]\nwindows = [{ window = \"1s\" }, { window = \"1d\", limit = 1 }]\n")
}

/// Exponential backoff, base 1 s, doubling, capped at 3 s, 6 attempts: request 2 starts at 0.1 s; each
/// reply comes 10 ms after its attempt and the waits are 1, 2, 3 (not 4: the cap), 3 and 3 s, so its
/// attempts fall at 0.1, 1.11, 3.12, 6.13, 9.14 and 12.15 s.
#[test]
fn exponential_backoff_stops_growing_at_its_cap() {
    let text = always_throttled(
        "20s",
        "{ policy = \"exponential\", base = \"1s\", multiplier = 2, cap = \"3s\", max_attempts = 6 }",
    );
    let times = attempt_times(&text);
    assert_eq!(times[0], [0.0]);
    let want = [0.1, 1.11, 3.12, 6.13, 9.14, 12.15];
    assert_eq!(times[1].len(), want.len());
    for (got, want) in times[1].iter().zip(want) {
        assert!((got - want).abs() < 1e-9, "{:?}", times[1]);
    }
}

/// Decorrelated jitter, base 1 s, cap 2 s: every wait is min(2, U(1, 3 × previous)), so it lies in
/// [1, 2] s; half the draws from U(1, 3) pass 2 and are cut to exactly 2 s.
#[test]
fn decorrelated_jitter_never_waits_past_its_cap() {
    let text = always_throttled(
        "300s",
        "{ policy = \"exponential\", base = \"1s\", cap = \"2s\", jitter = \"decorrelated\", max_attempts = 6 }",
    );
    let waits: Vec<f64> =
        attempt_times(&text)[1..].iter().flat_map(|a| a.windows(2).map(|w| w[1] - w[0] - 0.01)).collect();
    assert!(waits.len() > 100, "{}", waits.len());
    assert!(waits.iter().all(|&w| (1.0 - 1e-9..=2.0 + 1e-9).contains(&w)), "{waits:?}");
    let at_cap = waits.iter().filter(|&&w| (w - 2.0).abs() < 1e-9).count();
    // Each wait is cut with probability 1/2 at least (the first draw is from U(1, 3)): well over a quarter.
    assert!(at_cap * 4 > waits.len(), "{at_cap} of {}", waits.len());
}

/// Ten calls 0.2 s apart against 2 QPS with `count_rejected`: a sliding log counts the rejected calls
/// too, so after 0 and 0.2 its window never empties (4 calls in every (t − 1, t]): 2 admitted (4 without).
/// The sliding counter: the first second counts 5 (2 admitted, 3 rejected), so in the next every estimate
/// is 5 × (1 − e) + the calls since, which stays 5: 2 admitted (4 without).
#[test]
fn counting_rejected_attempts_locks_a_persistent_caller_out() {
    for (limiter, without, with) in [("sliding-log", 4, 2), ("sliding-counter", 4, 2)] {
        let admitted = |count_rejected: bool| {
            let text = scenario_text(
                "2s",
                2,
                "{ dist = \"constant\", mean = \"10ms\" }",
                "10ms",
                &open_client("even", "main", 5.0, "constant", NO_RETRY),
            )
            .replace("[server]\n", &format!("[server]\nlimiter = \"{limiter}\"\ncount_rejected = {count_rejected}\n"));
            run_text(&text).1.summary.totals.admitted
        };
        assert_eq!((admitted(false), admitted(true)), (without, with), "{limiter}");
    }
}

/// When a retry budget moves: a retry's cost is taken at the instant the platform rejects the attempt
/// (when the retry is decided, as the give-up is), a refund when an admitted attempt's reply reaches the
/// caller. Rows at 0, 0, 0 and 0.095 s against 2 QPS, 100 ms responses, 10 ms throttle replies, a budget of
/// 5 tokens, 5 a retry, 5 back a success: the third row is rejected at 0 and its retry takes the 5 tokens;
/// the fourth is rejected at 0.095, before the first replies return the tokens at 0.1, so its retry is
/// refused. (Were the cost taken when the reply reached the caller, at 0.105, the retry would be allowed.)
#[test]
fn a_retry_budget_is_debited_at_the_rejection_and_refunded_at_the_reply() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [1_795_654_800.0, 1_795_654_800.0, 1_795_654_800.0, 1_795_654_800.095];
    let text = replay(
        tmp.path(),
        "2026-11-26T09:00:00+08:00",
        "10s",
        &rows,
        "",
        "",
        "retry = { policy = \"fixed\", wait = \"1s\", max_attempts = 3, budget = { kind = \"token-bucket\", capacity = 5, retry_cost = 5, success_refund = 5 } }",
    )
    .replace("qps = 1\n", "qps = 2\n")
    .replace("mean = \"10ms\"", "mean = \"100ms\"")
    .replace("shift = false }", "shift = false, on_throttle = \"retry\" }");
    let t = run_text(&text).1.summary.totals;
    assert_eq!((t.requests, t.admitted, t.gave_up, t.budget_refused), (4, 3, 1, 1));
}
