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
