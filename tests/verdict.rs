//! The verdict every run opens with: its numbers checked against the model (demand = threads / response
//! time), against the run's own files recounted (episodes, who, the least limit for a log), and the
//! `--fail-if` thresholds through the binary.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn scenario_path(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name).display().to_string()
}

fn run(scenario: &str, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["run", scenario, "--out", out.to_str().unwrap(), "--no-chart"])
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Runs a bundled scenario; returns its stdout and summary.json's verdict.
fn verdict(name: &str) -> (String, Value, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&scenario_path(name), tmp.path(), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).unwrap()).unwrap();
    (String::from_utf8(out.stdout).unwrap(), summary["verdict"].clone(), tmp)
}

/// Closed threads want C / (R + Z): the quickstart's 8 threads at 500 ms want 16 QPS against 2 (8x), and
/// faq-two-threads' 2 threads at 500 ms want 4 against 2 (2x). The terminal opens with it, before the table.
#[test]
fn closed_threads_want_threads_over_response_time() {
    for (name, threads, response, limit) in [("quickstart.toml", 8.0, 0.5, 2), ("faq-two-threads.toml", 2.0, 0.5, 2)] {
        let (stdout, v, _tmp) = verdict(name);
        let p = &v["pairs"][0];
        let demand = threads / response;
        assert!((p["demand"]["mean_qps"].as_f64().unwrap() - demand).abs() < 1e-9, "{name}: {p}");
        assert_eq!(p["limit_qps"].as_u64().unwrap(), limit);
        assert!((p["gap"].as_f64().unwrap() - demand / limit as f64).abs() < 1e-9);
        let first = stdout.lines().next().unwrap();
        assert!(
            first.contains(&format!("want {demand} QPS")) && first.contains(&format!("{limit} allowed")),
            "{first}"
        );
        assert!(stdout.find("want").unwrap() < stdout.find("account ").unwrap(), "the verdict comes before the table");
        // One closed client on one API: the threads that fit are the most that throttle under 1 % at
        // today's limit, by brute force over every count (floor(L R) = 1 is the closed form's guess: right
        // for the constant replies of faq-two-threads, not for the quickstart's exponential ones, where even
        // one thread sometimes gets three replies within a second).
        let text = std::fs::read_to_string(scenario_path(name)).unwrap();
        let fits = (1..=threads as u32).rev().find(|&t| {
            let (_, report) =
                common::run_text(&text.replace(&format!("threads = {threads}"), &format!("threads = {t}")));
            let m = &report.summary.by_api[0].metrics;
            m.throttled * 100 < m.attempts
        });
        assert_eq!(p["remedy"]["threads_that_fit"].as_u64(), fits.map(u64::from), "{name}");
        assert_eq!(fits.is_some(), name == "faq-two-threads.toml", "{name}: {fits:?}");
    }
}

/// Episodes: recounted from timeseries.csv (bins whose throttled share passes 1 %, adjacent ones merged),
/// the verdict's are the largest five, in time order, at their clock times; the hourly burst of the
/// on-off client starts one of them at the top of an hour (09:00:00).
#[test]
fn traffic_shapes_episodes_are_the_runs_own_stretches_at_clock_times() {
    let (_, v, tmp) = verdict("traffic-shapes.toml");
    let mut rows = csv::Reader::from_path(tmp.path().join("timeseries.csv")).unwrap();
    let mut runs: Vec<(f64, f64, u64)> = Vec::new();
    let bin = 30.0;
    for r in rows.records() {
        let r = r.unwrap();
        let (second, attempts, throttled): (f64, u64, u64) =
            (r[0].parse().unwrap(), r[3].parse().unwrap(), r[5].parse().unwrap());
        if attempts == 0 || throttled as f64 <= 0.01 * attempts as f64 {
            continue;
        }
        match runs.last_mut() {
            Some(last) if (last.1 - second).abs() < 1e-9 => {
                last.1 = second + bin;
                last.2 += throttled;
            }
            _ => runs.push((second, second + bin, throttled)),
        }
    }
    let p = &v["pairs"][0];
    assert_eq!(p["episodes_total"].as_u64().unwrap() as usize, runs.len());
    let mut largest = runs.clone();
    largest.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.total_cmp(&b.0)));
    largest.truncate(5);
    largest.sort_by(|a, b| a.0.total_cmp(&b.0));
    let episodes = p["episodes"].as_array().unwrap();
    let got: Vec<(f64, f64, u64)> = episodes
        .iter()
        .map(|e| (e["from_s"].as_f64().unwrap(), e["until_s"].as_f64().unwrap(), e["throttled"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, largest);
    // 2026-11-26T00:00:00+08:00 plus 9 hours: the burst at the top of the hour, in the scenario's clock.
    assert!(episodes.iter().any(|e| e["from"] == "2026-11-26 09:00:00"), "{episodes:?}");
}

/// A replayed log: no host stands out (each has under a tenth of the throttles, recounted from
/// summary.csv), and the least limit that throttles under 1 % is found over the log's own 1 s windows
/// (recounted from timeseries.csv).
#[test]
fn a_replayed_log_blames_no_host_and_finds_the_limit_its_windows_need() {
    let (stdout, v, tmp) = verdict("replay-access-log.toml");
    let mut per_host: Vec<(String, String, u64)> = Vec::new();
    for r in csv::Reader::from_path(tmp.path().join("summary.csv")).unwrap().records() {
        let r = r.unwrap();
        per_host.push((r[1].to_string(), r[2].to_string(), r[6].parse().unwrap()));
    }
    for p in v["pairs"].as_array().unwrap() {
        let api = p["api"].as_str().unwrap();
        let worst = per_host.iter().filter(|h| h.1 == api).max_by(|a, b| a.2.cmp(&b.2).then(b.0.cmp(&a.0))).unwrap();
        let throttled: u64 = per_host.iter().filter(|h| h.1 == api).map(|h| h.2).sum();
        let largest = worst.2 as f64 / throttled as f64;
        assert!((p["largest_share"].as_f64().unwrap() - largest).abs() < 1e-12, "{api}");
        // 24 hosts of about 4 % of the demand each: none has a tenth of the throttles, so none is named.
        assert!(largest < 0.10, "the log changed: {api}'s busiest host has {largest} of its throttles");
        assert_eq!(p["who"].as_array().unwrap().len(), 0, "{api}");
        assert!(stdout.contains("no caller stands out: 24 callers share the throttles"), "{stdout}");
        assert!(!stdout.contains(&format!("{}: ", worst.0)), "the terminal does not blame {}", worst.0);
        let counts: Vec<u64> = csv::Reader::from_path(tmp.path().join("timeseries.csv"))
            .unwrap()
            .records()
            .map(|r| r.unwrap())
            .filter(|r| &r[2] == api)
            .map(|r| r[3].parse().unwrap())
            .collect();
        let total: u64 = counts.iter().sum();
        let least = (1..).find(|&l| counts.iter().map(|&n| n.saturating_sub(l)).sum::<u64>() * 100 < total).unwrap();
        assert_eq!(p["remedy"]["qps"].as_u64(), Some(least), "{api}");
    }
}

/// Sub-accounts are named only with at least a tenth of the throttles: in faq-sub-accounts the mobile and
/// web clients (about 45 % each) are, the batch (under 8 %, for a third of the demand) is not.
#[test]
fn who_names_only_the_callers_that_stand_out() {
    let (stdout, v, tmp) = verdict("faq-sub-accounts.toml");
    let mut shares: Vec<(String, u64)> = Vec::new();
    for r in csv::Reader::from_path(tmp.path().join("summary.csv")).unwrap().records() {
        let r = r.unwrap();
        shares.push((r[1].to_string(), r[6].parse().unwrap()));
    }
    let total: u64 = shares.iter().map(|s| s.1).sum();
    let who: Vec<&str> = v["pairs"][0]["who"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    for (name, throttled) in &shares {
        let material = *throttled as f64 >= 0.10 * total as f64;
        assert_eq!(who.contains(&name.as_str()), material, "{name}: {throttled} of {total}");
        assert_eq!(stdout.contains(&format!("{name}: ")), material, "{name}");
    }
    assert!(who.len() >= 2 && who.len() < shares.len(), "{who:?}");
}

/// A run that never throttles says so in one line, with its headroom: 1 thread at 1 s against 2 QPS peaks
/// at 1 admitted a second.
#[test]
fn a_run_that_never_throttles_says_so_with_its_headroom() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenario_path("quickstart.toml"))
        .unwrap()
        .replace("threads = 8", "threads = 1")
        .replace("dist = \"exponential\", mean = \"500ms\"", "dist = \"constant\", mean = \"1s\"");
    assert!(text.contains("threads = 1") && text.contains("mean = \"1s\""), "the quickstart changed: adjust this test");
    let sc = tmp.path().join("calm.toml");
    std::fs::write(&sc, text).unwrap();
    let out = run(sc.to_str().unwrap(), &tmp.path().join("out"), &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().next().unwrap(),
        "No throttling: the busiest, acme / CompareFace, peaked at 1 of 2 QPS (50.0 % of its limit)."
    );
}

#[test]
fn fail_if_passes_fails_and_refuses_a_bad_expression() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario_path("quickstart.toml");
    let out_dir = tmp.path().join("out");
    let pass = run(
        &sc,
        &out_dir,
        &["--quiet", "--fail-if", "throttle_rate>90%", "--fail-if", "acme/CompareFace:admitted<100"],
    );
    assert_eq!(pass.status.code(), Some(0), "{}", String::from_utf8_lossy(&pass.stderr));
    let fail = run(&sc, &out_dir, &["--quiet", "--fail-if", "throttle_rate>1%"]);
    assert_eq!(fail.status.code(), Some(1));
    let err = String::from_utf8_lossy(&fail.stderr);
    assert!(err.contains("throttle_rate>1%") && err.contains("want 16 QPS"), "the verdict comes with it: {err}");
    assert!(out_dir.join("summary.json").exists(), "the outputs are written all the same");
    for bad in ["throtle_rate>1%", "throttle_rate=1%", "acme/Nope:throttle_rate>1%"] {
        let out = run(&sc, &tmp.path().join("bad"), &["--quiet", "--fail-if", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

/// report.html opens with the verdict, before its first table.
#[test]
fn the_page_opens_with_the_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&scenario_path("quickstart.toml"), tmp.path(), &["--quiet"]);
    assert!(out.status.success());
    let page = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    let verdict = page.find("class=\"verdict\"").expect("a verdict section");
    assert!(verdict < page.find("<table").unwrap());
    assert!(page.contains("want 16 QPS"));
}

/// Every bundled scenario opens with its verdict, on the terminal and on its page.
#[test]
fn every_bundled_scenario_opens_with_a_verdict() {
    for path in common::bundled_scenarios() {
        let tmp = tempfile::tempdir().unwrap();
        let out = run(path.to_str().unwrap(), tmp.path(), &[]);
        assert!(out.status.success(), "{}", path.display());
        let stdout = String::from_utf8(out.stdout).unwrap();
        let first = stdout.lines().next().unwrap_or_default();
        assert!(first.contains(" want ") || first.starts_with("No throttling"), "{}: {first}", path.display());
        let page = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
        assert!(page.find("class=\"verdict\"").unwrap() < page.find("<table").unwrap(), "{}", path.display());
    }
}

/// A sweep opens with where throttling starts against the knee; a comparison with its best and by how
/// much; advice with its answer.
#[test]
fn sweeps_and_advice_open_with_their_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = |name: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_quotasim"))
            .args(["sweep", &scenario_path(name), "--out", tmp.path().join(name).to_str().unwrap(), "--no-chart"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    // sweep-threads: 8 QPS at 500 ms: demand 2 C meets the limit at C = 4 (C = L · R).
    let text = sweep("sweep-threads.toml");
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("Verdict: throttling passes 1 % at threads = ") && first.contains("limit at threads = 4 "),
        "{first}"
    );
    let text = sweep("retry-strategies.toml");
    assert!(text.lines().next().unwrap().starts_with("Verdict: best paced"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["advise", &scenario_path("quickstart.toml"), "--target", "throttle_rate<=1%"])
        .args(["--out", tmp.path().join("advice").to_str().unwrap(), "--no-chart"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Verdict: to meet throttle_rate<=1%, acme/CompareFace needs "), "{text}");
}
