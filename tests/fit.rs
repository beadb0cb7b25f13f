//! `quotasim fit` against logs made by code of its own: each limiter written here again from its
//! published definition (not quotasim's), fed bursty traffic, its answers written as a log. The fit must
//! name the kind and its parameters exactly, with clean answers and with 1 % of them flipped, and under a
//! few ms of clock skew; and bad logs get statements or errors, never a guess.

use serde_json::Value;
use std::fmt::Write;

fn quotasim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_quotasim")).args(args).output().expect("the binary runs")
}

/// xorshift64*: the tests' own random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Attempt times in ms: stretches of a few seconds to a minute, each at its own rate (from a tenth of
/// `rate` to four times it), Poisson within, with quiet gaps between. Starts at 2026-12-01 00:00:07 UTC.
fn traffic(seed: u64, rate: f64, span_s: f64) -> Vec<u64> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let start_ms = 1_795_996_807_000u64; // 2026-12-01T00:00:07Z
    let mut t = 0.0f64;
    let mut out = Vec::new();
    while t < span_s * 1000.0 {
        let length = 2000.0 + rng.unit() * 40_000.0;
        let r = rate * (0.1 + rng.unit() * 3.9);
        let end = t + length;
        while t < end {
            t += -(1.0 - rng.unit()).ln() * 1000.0 / r;
            out.push(start_ms + t as u64);
        }
        t += rng.unit() * 8000.0;
    }
    out
}

/// Each generator decides attempts at ms times: true = admitted.
trait Limiter {
    fn admit(&mut self, t_ms: u64) -> bool;
}

/// Fixed windows of `w` ms on the Unix clock (shifted by `offset` ms), `c` each.
struct Clock {
    w: u64,
    c: u64,
    offset: u64,
    index: u64,
    count: u64,
}

impl Limiter for Clock {
    fn admit(&mut self, t: u64) -> bool {
        let k = (t + self.offset) / self.w;
        if k != self.index {
            self.index = k;
            self.count = 0;
        }
        self.count += 1;
        self.count <= self.c
    }
}

impl Clock {
    /// Whether the window has room at t, without counting.
    fn clone_state(&mut self, t: u64) -> bool {
        let k = (t + self.offset) / self.w;
        if k != self.index {
            self.index = k;
            self.count = 0;
        }
        self.count < self.c
    }
}

/// A window opens at the first attempt after the last one closed.
struct FirstCall {
    w: u64,
    c: u64,
    end: u64,
    count: u64,
}

impl Limiter for FirstCall {
    fn admit(&mut self, t: u64) -> bool {
        if t >= self.end {
            self.end = t + self.w;
            self.count = 0;
        }
        if self.count < self.c {
            self.count += 1;
            true
        } else {
            false
        }
    }
}

/// Admitted iff fewer than `c` admissions in (t − w, t].
struct Log {
    w: u64,
    c: usize,
    admitted: Vec<u64>,
}

impl Limiter for Log {
    fn admit(&mut self, t: u64) -> bool {
        let recent = self.admitted.iter().rev().take_while(|&&a| a + self.w > t).count();
        let ok = recent < self.c;
        if ok {
            self.admitted.push(t);
        }
        ok
    }
}

/// Tokens (in thousandths) refilled at `r` a second up to `b`, starting full; one per admission.
struct Bucket {
    r: u64,
    b: u64,
    milli_tokens: u64,
    last: Option<u64>,
}

impl Limiter for Bucket {
    fn admit(&mut self, t: u64) -> bool {
        let dt = self.last.map_or(0, |l| t - l);
        self.last = Some(t);
        self.milli_tokens = (self.milli_tokens + self.r * dt).min(self.b * 1000);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

/// nginx `limit_req` (ngx_http_limit_req_module): excess in thousandths, from the last accepted request.
struct Nginx {
    rate_milli: u64,
    burst: u64,
    excess: i64,
    last: Option<u64>,
}

impl Limiter for Nginx {
    fn admit(&mut self, t: u64) -> bool {
        let excess = match self.last {
            None => 0,
            Some(l) => (self.excess - (self.rate_milli * (t - l) / 1000) as i64 + 1000).max(0),
        };
        if excess as u64 > self.burst * 1000 {
            return false;
        }
        self.excess = excess;
        self.last = Some(t);
        true
    }
}

/// Writes the log as CSV (`time_ms,status`), `flip` of the answers flipped, `skew_ms` added to each time.
fn write_log(dir: &std::path::Path, limiter: &mut dyn Limiter, times: &[u64], flip: f64, skew_ms: i64) -> String {
    let mut rng = Rng(77);
    let mut text = String::from("time_ms,status\n");
    for &t in times {
        let mut ok = limiter.admit(t);
        if rng.unit() < flip {
            ok = !ok;
        }
        let _ = writeln!(text, "{},{}", t as i64 + skew_ms, if ok { 200 } else { 429 });
    }
    let path = dir.join("answers.csv");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn fit(path: &str, dir: &std::path::Path) -> Value {
    let out_dir = dir.join("out");
    let out = quotasim(&[
        "fit",
        path,
        "--time",
        "time_ms",
        "--time-format",
        "unix-ms",
        "--out",
        out_dir.to_str().unwrap(),
        "--no-chart",
        "-q",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(out_dir.join("fit.json")).unwrap()).unwrap()
}

/// Fits the log of `make()` clean, with 1 % flipped, and checks `expect` on the best each time.
fn recovers(name: &str, rate: f64, make: impl Fn() -> Box<dyn Limiter>, expect: &[(&str, Value)], skew_ms: i64) {
    let times = traffic(name.len() as u64, rate, 900.0);
    for (flip, least) in [(0.0, 0.99), (0.01, 0.97)] {
        let dir = tempfile::tempdir().unwrap();
        let path = write_log(dir.path(), make().as_mut(), &times, flip, skew_ms);
        let doc = fit(&path, dir.path());
        let best = &doc["best"];
        for (key, want) in expect {
            assert_eq!(&best[key], want, "{name}, {flip} flipped: {key} in {best:#}");
        }
        let agreement = best["agreement"].as_f64().unwrap();
        assert!(agreement >= least, "{name}, {flip} flipped: agreement {agreement}");
    }
}

#[test]
fn a_clock_aligned_fixed_window() {
    recovers(
        "clock",
        5.0,
        || Box::new(Clock { w: 1000, c: 5, offset: 0, index: u64::MAX, count: 0 }),
        &[("limiter", "fixed-window".into()), ("align", "clock".into()), ("window", "1s".into()), ("limit", 5.into())],
        0,
    );
}

#[test]
fn a_ten_second_fixed_window_under_clock_skew() {
    // The log's clock runs 4 ms behind the platform's.
    recovers(
        "clock-skew",
        3.0,
        || Box::new(Clock { w: 10_000, c: 30, offset: 0, index: u64::MAX, count: 0 }),
        &[
            ("limiter", "fixed-window".into()),
            ("align", "clock".into()),
            ("window", "10s".into()),
            ("limit", 30.into()),
        ],
        -4,
    );
}

#[test]
fn a_sliding_log() {
    recovers(
        "sliding-log",
        4.0,
        || Box::new(Log { w: 2000, c: 7, admitted: Vec::new() }),
        &[
            ("limiter", "sliding-log".into()),
            ("window", "2s".into()),
            ("limit", 7.into()),
            ("count_rejected", false.into()),
        ],
        0,
    );
}

#[test]
fn a_token_bucket_with_burst() {
    recovers(
        "token-bucket",
        6.0,
        || Box::new(Bucket { r: 6, b: 20, milli_tokens: 20_000, last: None }),
        &[("limiter", "token-bucket".into()), ("qps", 6.0.into()), ("burst", 20.into())],
        0,
    );
}

#[test]
fn a_first_call_window() {
    recovers(
        "first-call",
        4.0,
        || Box::new(FirstCall { w: 3000, c: 12, end: 0, count: 0 }),
        &[
            ("limiter", "fixed-window".into()),
            ("align", "first-call".into()),
            ("window", "3s".into()),
            ("limit", 12.into()),
        ],
        0,
    );
}

#[test]
fn an_nginx_leaky_bucket_is_its_equal_token_bucket() {
    // burst 4 with nodelay admits what a token bucket of capacity 5 admits: the fit names both.
    let expect = [("limiter", "token-bucket".into()), ("qps", 3.0.into()), ("burst", 5.into())];
    recovers("nginx", 3.0, || Box::new(Nginx { rate_milli: 3000, burst: 4, excess: 0, last: None }), &expect, 0);
    let times = traffic(9, 3.0, 300.0);
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), &mut Nginx { rate_milli: 3000, burst: 4, excess: 0, last: None }, &times, 0.0, 0);
    let doc = fit(&path, dir.path());
    let leaky = doc["candidates"].as_array().unwrap().iter().find(|c| c["limiter"] == "leaky-bucket").unwrap();
    assert_eq!((leaky["burst"].as_u64(), leaky["nodelay"].as_bool()), (Some(4), Some(true)));
    assert_eq!(leaky["agreement"], doc["best"]["agreement"]);
}

/// A generator's name, its traffic's rate, how to make it, and what the fit must say.
type Case = (&'static str, f64, Box<dyn Fn() -> Box<dyn Limiter>>, Vec<(&'static str, Value)>);

#[test]
fn other_windows_rates_and_bursts() {
    // Lengths off the usual list and limits of 1 and 2: found by zooming in, not by the list.
    let cases: Vec<Case> = vec![
        (
            "sliding-7s",
            2.0,
            Box::new(|| Box::new(Log { w: 7000, c: 9, admitted: Vec::new() })),
            vec![("limiter", "sliding-log".into()), ("window", "7s".into()), ("limit", 9.into())],
        ),
        (
            "clock-1m",
            3.0,
            Box::new(|| Box::new(Clock { w: 60_000, c: 100, offset: 0, index: u64::MAX, count: 0 })),
            vec![("limiter", "fixed-window".into()), ("window", "1m".into()), ("limit", 100.into())],
        ),
        (
            "first-call-2",
            2.0,
            Box::new(|| Box::new(FirstCall { w: 1000, c: 2, end: 0, count: 0 })),
            vec![("limiter", "fixed-window".into()), ("align", "first-call".into()), ("limit", 2.into())],
        ),
        (
            "bucket-2-1",
            2.0,
            Box::new(|| Box::new(Bucket { r: 2, b: 1, milli_tokens: 1000, last: None })),
            vec![("limiter", "token-bucket".into()), ("qps", 2.0.into()), ("burst", 1.into())],
        ),
    ];
    for (name, rate, make, expect) in cases {
        recovers(name, rate, make, &expect, 0);
    }
}

/// Writes `rows` (time_ms, status) as a CSV log in `dir`.
fn log_of(dir: &std::path::Path, rows: &[(u64, &str)]) -> String {
    let mut text = String::from("time_ms,status\n");
    for (t, s) in rows {
        let _ = writeln!(text, "{t},{s}");
    }
    let path = dir.join("log.csv");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_per_second_and_a_per_minute_limit_together() {
    // 5 a second and 120 a minute, clock-aligned: neither window alone explains the log.
    struct Both(Clock, Clock);
    impl Limiter for Both {
        fn admit(&mut self, t: u64) -> bool {
            // Both are asked; admitted only if both have room, and then counted in both.
            let (a, b) = (self.0.clone_state(t), self.1.clone_state(t));
            if a && b {
                self.0.admit(t);
                self.1.admit(t);
            }
            a && b
        }
    }
    let make = || {
        Box::new(Both(
            Clock { w: 1000, c: 5, offset: 0, index: u64::MAX, count: 0 },
            Clock { w: 60_000, c: 120, offset: 0, index: u64::MAX, count: 0 },
        )) as Box<dyn Limiter>
    };
    let times = traffic(21, 3.0, 1800.0);
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), make().as_mut(), &times, 0.0, 0);
    let doc = fit(&path, dir.path());
    let best = &doc["best"];
    assert_eq!(best["limiter"], "fixed-window", "{best:#}");
    let mut windows = vec![(best["window"].as_str().unwrap().to_string(), best["limit"].as_u64().unwrap())];
    for w in best["windows"].as_array().unwrap() {
        windows.push((w["window"].as_str().unwrap().to_string(), w["limit"].as_u64().unwrap()));
    }
    windows.sort();
    assert_eq!(windows, vec![("1m".to_string(), 120), ("1s".to_string(), 5)], "{best:#}");
    assert!(best["agreement"].as_f64().unwrap() >= 0.99, "{best:#}");
}

#[test]
fn equal_candidates_are_said_to_tie_with_what_would_separate_them() {
    // At most one call a second, attempts never closer than 1 s after an admission unless throttled in
    // a way every 1-per-second rule agrees on: a first-call window, a sliding log and a bucket of 1.
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let mut t = 1_795_996_807_000u64;
    for k in 0..200 {
        rows.push((t, "200"));
        rows.push((t + 300, "429"));
        t += 1500 + (k % 7) * 100;
    }
    let path = log_of(dir.path(), &rows);
    let doc = fit(&path, dir.path());
    let g = &doc["groups"][0];
    assert!(!g["ties"].as_array().unwrap().is_empty(), "{g:#}");
    assert!(!g["separate_by"].as_array().unwrap().is_empty(), "{g:#}");
    assert!(g["statement"].as_str().unwrap().contains("cannot tell them apart"), "{}", g["statement"]);
}

#[test]
fn no_throttles_give_a_lower_bound_not_a_fit() {
    let dir = tempfile::tempdir().unwrap();
    // Three calls in one second at most.
    let rows: Vec<(u64, &str)> = (0..30).map(|k| (1_795_996_807_000 + (k / 3) * 1000 + (k % 3) * 10, "200")).collect();
    let path = log_of(dir.path(), &rows);
    let doc = fit(&path, dir.path());
    assert!(doc["best"].is_null(), "{doc:#}");
    assert_eq!(doc["groups"][0]["at_least_qps"], 3);
    let statement = doc["groups"][0]["statement"].as_str().unwrap();
    assert!(statement.contains("never reached") && statement.contains("At least 3 QPS"), "{statement}");
}

#[test]
fn random_answers_are_explained_by_no_limiter() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(5);
    let times = traffic(3, 2.0, 600.0);
    let rows: Vec<(u64, &str)> = times.iter().map(|&t| (t, if rng.unit() < 0.5 { "200" } else { "429" })).collect();
    let path = log_of(dir.path(), &rows);
    let doc = fit(&path, dir.path());
    assert!(doc["best"].is_null(), "{:#}", doc["candidates"][0]);
    let statement = doc["groups"][0]["statement"].as_str().unwrap();
    assert!(statement.starts_with("no modelled limiter explains the log"), "{statement}");
}

#[test]
fn out_of_order_rows_and_other_statuses_are_stated() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        (1_000_000_000u64, "200"),
        (1_000_000_500, "200"),
        (1_000_000_100, "429"),
        (1_000_000_600, "503"),
        (1_000_001_200, "200"),
    ];
    let path = log_of(dir.path(), &rows);
    let out = quotasim(&[
        "fit",
        &path,
        "--time",
        "time_ms",
        "--time-format",
        "unix-ms",
        "--out",
        dir.path().join("o").to_str().unwrap(),
        "--no-chart",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 rows were earlier than a row above them (at most 400 ms)"), "{text}");
    assert!(text.contains("1 × 503"), "{text}");
}

#[test]
fn bad_logs_are_errors_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-status.csv");
    std::fs::write(&path, "time_ms,code\n1000,200\n").unwrap();
    let out = quotasim(&["fit", path.to_str().unwrap(), "--time", "time_ms", "--time-format", "unix-ms", "--no-chart"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-status.csv:1: --status: the header has no column `status`; its columns are `time_ms`, `code`"),
        "{err}"
    );

    let path = dir.path().join("bad-time.csv");
    std::fs::write(&path, "time_ms,status\n1000,200\nsoon,429\n").unwrap();
    let out = quotasim(&["fit", path.to_str().unwrap(), "--time", "time_ms", "--time-format", "unix-ms", "--no-chart"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad-time.csv:3: `soon` is not a Unix time"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let path = dir.path().join("only-500.csv");
    std::fs::write(&path, "time_ms,status\n1000,500\n").unwrap();
    let out = quotasim(&["fit", path.to_str().unwrap(), "--time", "time_ms", "--time-format", "unix-ms", "--no-chart"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no row is admitted or throttled"));
}

#[test]
fn the_bundled_log_is_what_its_generator_writes_and_its_fit_is_golden() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("answers.csv");
    let scenario = root.join("scenarios/gateway-answers.toml");
    let out = quotasim(&["trace", "gen", scenario.to_str().unwrap(), "--answers", "-o", log.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bundled = root.join("scenarios/traces/answers.csv");
    assert!(std::fs::read(&log).unwrap() == std::fs::read(&bundled).unwrap(), "scenarios/traces/answers.csv is stale");

    // The fit, from the bundled file's own path as README gives it.
    let out_dir = dir.path().join("fit");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .current_dir(root)
        .args([
            "fit",
            "scenarios/traces/answers.csv",
            "--time",
            "unix_ns",
            "--time-format",
            "unix-ns",
            "--api-field",
            "api",
        ])
        .args(["--out", out_dir.to_str().unwrap(), "--no-chart", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = std::fs::read(out_dir.join("fit.json")).unwrap();
    let golden = root.join("tests/golden/fit-answers/fit.json");
    if std::env::var_os("QUOTASIM_BLESS").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &got).unwrap();
    }
    assert!(got == std::fs::read(&golden).unwrap(), "fit.json differs from tests/golden/fit-answers/fit.json");
    let doc: Value = serde_json::from_slice(&got).unwrap();
    let best = &doc["best"];
    assert_eq!(
        (best["limiter"].as_str(), best["qps"].as_f64(), best["burst"].as_u64()),
        (Some("token-bucket"), Some(5.0), Some(10))
    );
}

#[test]
fn each_account_of_a_json_lines_log_is_fitted_on_its_own() {
    // Account a: 2 per clock second; account b: 4 per clock second; their rows interleaved.
    let dir = tempfile::tempdir().unwrap();
    let times = traffic(4, 3.0, 600.0);
    let mut limiters = [
        Clock { w: 1000, c: 2, offset: 0, index: u64::MAX, count: 0 },
        Clock { w: 1000, c: 4, offset: 0, index: u64::MAX, count: 0 },
    ];
    let mut text = String::new();
    for (k, &t) in times.iter().enumerate() {
        let who = k % 2;
        let status = if limiters[who].admit(t) { 200 } else { 429 };
        let _ = writeln!(text, r#"{{"ts": "{t}", "account": "{}", "code": {status}}}"#, ["a", "b"][who]);
    }
    let path = dir.path().join("calls.jsonl");
    std::fs::write(&path, text).unwrap();
    let out_dir = dir.path().join("out");
    let out = quotasim(&[
        "fit",
        path.to_str().unwrap(),
        "--time",
        "ts",
        "--time-format",
        "unix-ms",
        "--status",
        "code",
        "--account",
        "account",
        "--out",
        out_dir.to_str().unwrap(),
        "--no-chart",
        "-q",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("fit.json")).unwrap()).unwrap();
    let groups = doc["groups"].as_array().unwrap();
    let limits: Vec<(&str, u64)> =
        groups.iter().map(|g| (g["account"].as_str().unwrap(), g["best"]["limit"].as_u64().unwrap())).collect();
    assert_eq!(limits, vec![("a", 2), ("b", 4)], "{doc:#}");
}

#[test]
fn the_readme_example_is_what_fit_prints() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("CompareFace: 6,403 attempts").expect("the example is in README");
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .current_dir(root)
        .args([
            "fit",
            "scenarios/traces/answers.csv",
            "--time",
            "unix_ns",
            "--time-format",
            "unix-ns",
            "--api-field",
            "api",
        ])
        .args(["--out", dir.path().to_str().unwrap(), "--no-chart"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for line in block.lines().filter(|l| l.trim() != "...") {
        assert!(text.lines().any(|t| t == line), "README line not printed: {line:?}\n{text}");
    }
}

/// The limiter's answers with 1 % of rows logged twice and 1 % more rows a proxy's own 429s, in time order.
fn noisy_rows(limiter: &mut dyn Limiter, times: &[u64], seed: u64) -> Vec<(u64, &'static str)> {
    let mut rng = Rng(seed);
    let mut rows = Vec::new();
    for &t in times {
        let status = if limiter.admit(t) { "200" } else { "429" };
        rows.push((t, status));
        if rng.unit() < 0.01 {
            rows.push((t, status));
        }
        if rng.unit() < 0.01 {
            rows.push((t + (rng.unit() * 500.0) as u64, "429"));
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

#[test]
fn rows_logged_twice_and_a_proxys_own_429s_still_find_the_rule() {
    // A clock-aligned 4-per-second window; 1 % of rows logged twice, and 1 % more rows that are a proxy's
    // own 429s (the platform never saw them), at random instants.
    let times = traffic(31, 3.0, 900.0);
    let mut limiter = Clock { w: 1000, c: 4, offset: 0, index: u64::MAX, count: 0 };
    let rows = noisy_rows(&mut limiter, &times, 9);
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), &rows);
    let doc = fit(&path, dir.path());
    let best = &doc["best"];
    assert_eq!(
        (best["limiter"].as_str(), best["align"].as_str(), best["window"].as_str(), best["limit"].as_u64()),
        (Some("fixed-window"), Some("clock"), Some("1s"), Some(4)),
        "{best:#}"
    );
    assert!(best["agreement"].as_f64().unwrap() >= 0.97, "{best:#}");
}

#[test]
fn a_bucket_under_duplicates_and_proxy_429s() {
    let times = traffic(32, 5.0, 900.0);
    let mut limiter = Bucket { r: 5, b: 8, milli_tokens: 8000, last: None };
    let rows = noisy_rows(&mut limiter, &times, 10);
    let dir = tempfile::tempdir().unwrap();
    let path = log_of(dir.path(), &rows);
    let doc = fit(&path, dir.path());
    let best = &doc["best"];
    assert_eq!(
        (best["limiter"].as_str(), best["qps"].as_f64(), best["burst"].as_u64()),
        (Some("token-bucket"), Some(5.0), Some(8)),
        "{best:#}"
    );
    assert!(best["agreement"].as_f64().unwrap() >= 0.97, "{best:#}");
}
