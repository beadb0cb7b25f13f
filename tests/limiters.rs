//! The platform's limiters in whole scenarios, on schedules worked out by hand.

mod common;

use common::*;

/// Ten requests 0.2 s apart (0, 0.2, …, 1.8 s) against 2 QPS, no retries, under each limiter.
fn admitted(server: &str) -> (u64, f64) {
    let text = scenario_text(
        "2s",
        2,
        "{ dist = \"constant\", mean = \"10ms\" }",
        "10ms",
        &open_client("even", "main", 5.0, "constant", NO_RETRY),
    )
    .replace("[server]\n", &format!("[server]\n{server}\n"));
    let (_, report) = run_text(&text);
    (report.summary.totals.admitted, report.summary.totals.latency_s.max)
}

/// Fixed clock windows admit the first two of each second: 4. A sliding log of 1 s admits 0 and 0.2, then
/// 1.0 (the call at 0 has left (0, 1]) and 1.2: 4. A token bucket of 2 at 2 a second: 0, 0.2 (1.4 tokens),
/// 0.6 (1.2), 1.0 (1.0), 1.6 (1.2): 5; nginx with burst 1 and nodelay is the same bucket. Without nodelay
/// it admits the same five, each waiting its excess over 2 a second at the server: the excesses are 0,
/// 0.6, 0.8, 1.0 and 0.8, so the longest wait is 0.5 s (at 1.0 s), on top of the 10 ms response. The one
/// at 1.6 s waits 0.4 s, until 2.0 s, the run's end: it is still waiting then, so unfinished, not admitted.
#[test]
fn ten_calls_against_each_limiter_by_hand() {
    assert_eq!(admitted("limiter = \"fixed-window\"").0, 4);
    assert_eq!(admitted("limiter = \"sliding-log\"").0, 4);
    // The counter: 0 and 0.2 in the first second. In the next, the first second's two weigh 2 × (1 − e)
    // at e seconds in, plus this second's count: at 1.0, 2 (refused); at 1.2, 1.6 (admitted); at 1.4,
    // 1.2 + 1 = 2.2 (refused); at 1.6, 0.8 + 1 = 1.8 (admitted); at 1.8, 0.4 + 2 = 2.4 (refused): 4.
    assert_eq!(admitted("limiter = \"sliding-counter\"").0, 4);
    assert_eq!(admitted("limiter = \"token-bucket\"").0, 5);
    assert_eq!(admitted("limiter = \"leaky-bucket\"\nburst = 1\nnodelay = true").0, 5);
    let (n, max) = admitted("limiter = \"leaky-bucket\"\nburst = 1");
    assert_eq!(n, 4);
    assert!((max - 0.51).abs() < 1e-9, "{max}");
}

/// Waits at the server that outlast the run: nginx's bucket at 1 a second with burst 100, ten calls a
/// second (0, 0.1, …, 19.9 s) and a 10 ms response. Call k (while none is refused) finds an excess of
/// 0.9 k and waits that long, so it is served at 0.1 k + 0.9 k = k seconds: calls 0 to 19 are served within
/// the 20 s, and the last of them answers at 19 + 0.01 s after waiting 17.1 s. The excess stays at most
/// 100 for calls 0 to 111; after that, a call is admitted only once a second has drained (calls 120,
/// 130, …, 190: 8 more), and every other call is refused: 200 − 120 = 80 throttled. The 100 admitted
/// calls still waiting at the end are unfinished.
#[test]
fn server_waits_that_outlast_the_run_leave_requests_unfinished() {
    let text = scenario_text(
        "20s",
        1,
        "{ dist = \"constant\", mean = \"10ms\" }",
        "10ms",
        &open_client("even", "main", 10.0, "constant", NO_RETRY),
    )
    .replace("[server]\n", "[server]\nlimiter = \"leaky-bucket\"\nburst = 100\n");
    let t = run_text(&text).1.summary.totals;
    assert_eq!((t.requests, t.admitted, t.throttled, t.unfinished), (200, 20, 80, 100));
    assert!((t.latency_s.max - 17.11).abs() < 1e-9, "{}", t.latency_s.max);
}

/// Four calls a second (0, 0.25, …) for `seconds`, no retries, with `server` keys and `api` keys added.
fn four_a_second(seconds: u64, qps: u32, server: &str, api: &str) -> quotasim::report::Report {
    let text = scenario_text(
        &format!("{seconds}s"),
        qps,
        "{ dist = \"constant\", mean = \"10ms\" }",
        "10ms",
        &open_client("even", "main", 4.0, "constant", NO_RETRY),
    )
    .replace("[server]\n", &format!("[server]\n{server}\n"))
    .replace("name = \"Api\"\n", &format!("name = \"Api\"\n{api}\n"));
    run_text(&text).1
}

/// Two windows at once, 2 a second and 5 in 10 s, against four calls a second for 20 s: each 10 s window
/// admits 0 and 0.25 s, 1.0 and 1.25 s, then 2.0 s, and nothing more: 10 of 80.
#[test]
fn several_windows_admit_only_when_every_one_has_room() {
    let r = four_a_second(20, 2, "windows = [{ window = \"1s\", limit = 2 }, { window = \"10s\", limit = 5 }]", "");
    assert_eq!((r.summary.totals.admitted, r.summary.totals.throttled), (10, 70));
    let admitted_per_s: Vec<u64> = r.series[0].bins.iter().map(|b| b.admitted).collect();
    assert_eq!(&admitted_per_s[..3], &[2, 2, 1]);
    assert_eq!(&admitted_per_s[10..13], &[2, 2, 1]);
}

/// A window without `limit` takes the plan's QPS: at 5 QPS the second never binds four calls a second, and
/// the minute's 100 admits the first 100 calls (0 to 24.75 s), then nothing until the next minute.
#[test]
fn a_window_without_a_limit_follows_the_plan_and_a_fixed_one_does_not() {
    let r = four_a_second(60, 5, "windows = [{ window = \"1s\" }, { window = \"1m\", limit = 100 }]", "");
    assert_eq!((r.summary.totals.admitted, r.summary.totals.throttled), (100, 140));
    assert!(r.series[0].bins[..25].iter().all(|b| b.admitted == 4));
    assert!(r.series[0].bins[25..].iter().all(|b| b.admitted == 0));
}

/// A sliding log counting over two windows: 2 in any second and 3 in any 2 s, each over (t − W, t]. Four
/// calls a second for 4 s: 0 and 0.25 (then the second is full); 1.0 (0 has left the second; third of the
/// 2 s); nothing until 2.0 (0 has left the 2 s); 2.25 (0.25 has left); 3.0 (1.0 has left): 6.
#[test]
fn several_sliding_windows_by_hand() {
    let r = four_a_second(
        4,
        2,
        "limiter = \"sliding-log\"\nwindows = [{ window = \"1s\" }, { window = \"2s\", limit = 3 }]",
        "",
    );
    assert_eq!(r.summary.totals.admitted, 6);
}

/// An API with its own limiter: a token bucket of 4 at 2 a second against four calls a second for 10 s
/// admits 0 to 1.5 s (seven, the bucket draining at 2 a second net), then every 0.5 s from 2.0 to 9.5 s
/// (sixteen): 23, where [server]'s fixed window would admit 20.
#[test]
fn an_api_can_override_the_servers_limiter() {
    let own = four_a_second(10, 2, "", "limiter = \"token-bucket\"\nburst = 4");
    assert_eq!(own.summary.totals.admitted, 23);
    let server = four_a_second(10, 2, "limiter = \"token-bucket\"\nburst = 4", "");
    assert_eq!(server.summary.totals.admitted, 23);
    let default = four_a_second(10, 2, "limiter = \"sliding-log\"", "limiter = \"fixed-window\"");
    assert_eq!(default.summary.totals.admitted, 20);
}

/// A unit limit beside the request limit: 1,000 units a second, calls of 300 units four times a second
/// under 10 QPS. Each second admits three (900 units) and refuses the fourth for its units: over 10 s, 30
/// admitted (9,000 units) and 10 throttled (3,000 units), every one by the unit limit.
#[test]
fn a_unit_limit_admits_only_what_fits_its_window() {
    let text = scenario_text(
        "10s",
        10,
        "{ dist = \"constant\", mean = \"10ms\" }",
        "10ms",
        &format!("{}cost = 300\n", open_client("even", "main", 4.0, "constant", NO_RETRY)),
    )
    .replace("name = \"Api\"\n", "name = \"Api\"\nunits = { limit = 1000, window = \"1s\" }\n");
    let (_, r) = run_text(&text);
    let t = r.summary.totals;
    assert_eq!((t.admitted, t.throttled), (30, 10));
    assert_eq!((t.units_admitted, t.units_throttled, t.throttled_by_units), (Some(9_000), Some(3_000), Some(10)));
    let units = r.series[0].units.as_ref().unwrap();
    assert!(units.iter().all(|u| *u == [900, 300, 1]), "{units:?}");
    // Without a unit limit the same run reports no units at all, and admits all 40.
    let (_, plain) =
        run_text(&text.replace("units = { limit = 1000, window = \"1s\" }\n", "").replace("cost = 300\n", ""));
    assert_eq!((plain.summary.totals.admitted, plain.summary.totals.units_admitted), (40, None));
}

/// The request limit and the unit limit bite at different times: 2 QPS and 500 units a second, calls of
/// 100 units four a second for 5 s, then of 400 units (a trace's columns, summed). The cheap calls are
/// held by the request limit (2 a second, 200 units), the dear ones by the units (one of 400 a second,
/// the second is refused for its units).
#[test]
fn trace_columns_give_each_row_its_cost_and_show_which_limit_bites() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("time,prompt,completion\n");
    for k in 0..40u64 {
        let (p, c) = if k < 20 { (60, 40) } else { (300, 100) };
        rows.push_str(&format!("{},{p},{c}\n", k as f64 / 4.0));
    }
    std::fs::write(dir.path().join("calls.csv"), rows).unwrap();
    let client = "[[client]]\nname = \"log\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"trace\"\ncost = { fields = [\"prompt\", \"completion\"] }\ntrace = { path = \"calls.csv\", time_format = \"unix-s\" }\n";
    let text = scenario_text("10s", 2, "{ dist = \"constant\", mean = \"10ms\" }", "10ms", client)
        .replace("name = \"Api\"\n", "name = \"Api\"\nunits = { limit = 500, window = \"1s\" }\n");
    let path = dir.path().join("s.toml");
    std::fs::write(&path, &text).unwrap();
    let sc = quotasim::scenario::Scenario::load(&path).unwrap();
    let out = quotasim::engine::run(&sc, quotasim::engine::RunOptions::for_scenario(&sc)).unwrap();
    let r = quotasim::report::Report::new(&sc, out);
    let t = r.summary.totals;
    // First 5 s: 2 admitted a second (100 units each), 2 refused by the request limit. Last 5 s: 1
    // admitted a second (400), 3 refused, each by the units (400 + 400 > 500).
    assert_eq!((t.admitted, t.throttled), (15, 25));
    assert_eq!(t.units_admitted, Some(10 * 100 + 5 * 400));
    assert_eq!(t.units_throttled, Some(10 * 100 + 15 * 400));
    assert_eq!(t.throttled_by_units, Some(15));
}

/// Bad costs: a unit limit no caller pays into, a cost column the file lacks, a row whose cost is not a
/// number (named by file and line), a cost above the limit, a cost from columns on a client with no trace.
#[test]
fn bad_costs_are_named_with_what_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("calls.csv"), "time,prompt\n0,5\n1,many\n").unwrap();
    let units = |text: String| text.replace("name = \"Api\"\n", "name = \"Api\"\nunits = { limit = 500 }\n");
    let trace = |cost: &str| {
        format!(
            "[[client]]\nname = \"log\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"trace\"\ncost = {cost}\ntrace = {{ path = \"calls.csv\", time_format = \"unix-s\" }}\n"
        )
    };
    let scenario =
        |client: &str| units(scenario_text("10s", 2, "{ dist = \"constant\", mean = \"10ms\" }", "10ms", client));
    let load = |text: String| {
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        quotasim::scenario::Scenario::load(&path)
    };
    let e = load(scenario(&open_client("o", "main", 1.0, "poisson", NO_RETRY))).unwrap_err().to_string();
    assert!(e.contains("api[0].units") && e.contains("no client calling it gives `cost`"), "{e}");
    let e = load(scenario(&trace("{ fields = [\"tokens\"] }"))).unwrap_err().to_string();
    assert!(e.contains("client[0].cost.fields") && e.contains("no column `tokens`"), "{e}");
    let e = load(scenario(&format!("{}cost = 501\n", open_client("o", "main", 1.0, "poisson", NO_RETRY))))
        .unwrap_err()
        .to_string();
    assert!(e.contains("api[0].units.limit") && e.contains("would ever be admitted"), "{e}");
    let e = load(scenario(&format!(
        "{}cost = {{ fields = [\"x\"] }}\n",
        open_client("o", "main", 1.0, "poisson", NO_RETRY)
    )))
    .unwrap_err()
    .to_string();
    assert!(e.contains("client[0].cost.fields") && e.contains("only a `trace` client"), "{e}");
    let e = load(scenario(&format!(
        "{}cost = {{ dist = \"normal\", mean = 5 }}\n",
        open_client("o", "main", 1.0, "poisson", NO_RETRY)
    )))
    .unwrap_err()
    .to_string();
    assert!(e.contains("client[0].cost.dist") && e.contains("`lognormal`"), "{e}");
    let sc = load(scenario(&trace("{ fields = [\"prompt\"] }"))).unwrap();
    let e = quotasim::engine::run(&sc, quotasim::engine::RunOptions::for_scenario(&sc)).unwrap_err().to_string();
    assert!(e.contains("calls.csv:3:") && e.contains("cost field `prompt` is `many`"), "{e}");
}
