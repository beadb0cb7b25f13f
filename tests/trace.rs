//! Trace replay against counts made here, independently of the simulator's trace reader: the shared real
//! logs (NASA-HTTP 1995, Azure LLM 2023) and small files written by the tests.

mod common;

use common::*;
use quotasim::time::NANOS_PER_SEC;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces").join(rel)
}

/// A scenario with APIs `A` (limit `qps`) and `B`, one account, and the given client tables.
fn replay_text(start: &str, duration: &str, qps: u32, clients: &str) -> String {
    format!(
        r#"
name = "replay"
seed = 3
start = "{start}"
duration = "{duration}"
[[api]]
name = "A"
qps = {qps}
latency = {{ dist = "constant", mean = "100ms" }}
[[api]]
name = "B"
latency = {{ dist = "constant", mean = "100ms" }}
[[account]]
name = "acme"
{clients}
"#
    )
}

/// Rows per window, counted here: a row in second s of the windows; no retry; each window admits L, so
/// the throttled rows are Σ max(0, n_s − L).
fn throttled_by_hand(seconds: &[i128], limit: u64) -> (u64, u64) {
    let mut per: BTreeMap<i128, u64> = BTreeMap::new();
    for s in seconds {
        *per.entry(*s).or_default() += 1;
    }
    let throttled = per.values().map(|n| n.saturating_sub(limit)).sum();
    (seconds.len() as u64, throttled)
}

/// NASA-HTTP: integer Unix seconds. Shifted, the first row (a whole second) falls at the start, so the
/// log's own seconds are the windows.
#[test]
fn replaying_the_nasa_log_throttles_exactly_the_rows_beyond_the_limit() {
    let path = shared("nasa_http_19950801/nasa_19950801.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    let seconds: Vec<i128> = text.lines().skip(1).map(|l| l.split('\t').nth(2).unwrap().parse().unwrap()).collect();
    for limit in [1u64, 2, 4] {
        let client = format!(
            "[[client]]\nname = \"nasa\"\naccount = \"acme\"\nmodel = \"trace\"\napi = \"A\"\n\
             trace = {{ path = \"{}\", time = \"time\", time_format = \"unix-s\", caller = \"host\" }}\n",
            path.display()
        );
        let (_, report) = run_text(&replay_text("2026-11-26T00:00:00Z", "13h", limit as u32, &client));
        let t = report.summary.totals;
        let (rows, throttled) = throttled_by_hand(&seconds, limit);
        assert_eq!((t.requests, t.attempts, t.throttled), (rows, rows, throttled), "L = {limit}");
        assert_eq!(report.summary.by_sub_account.len(), 2_365, "one sub-account per host");
        assert_eq!(report.summary.traces[0].rows, rows);
    }
}

/// Azure LLM (conv): `YYYY-MM-DD HH:MM:SS.fffffff` in UTC, replayed at its own instants (no shift): the
/// windows are the clock seconds of the log.
#[test]
fn replaying_the_azure_log_at_its_own_instants_throttles_by_clock_second() {
    let path = shared("azure_llm_2023/AzureLLMInferenceTrace_conv.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let seconds: Vec<i128> = text
        .lines()
        .skip(1)
        .map(|l| {
            let stamp = l.split(',').next().unwrap();
            let dt: jiff::civil::DateTime = stamp.parse().unwrap();
            jiff::tz::Offset::UTC.to_timestamp(dt).unwrap().as_second() as i128
        })
        .collect();
    let client = format!(
        "[[client]]\nname = \"llm\"\naccount = \"acme\"\nmodel = \"trace\"\napi = \"A\"\n\
         trace = {{ path = \"{}\", time = \"TIMESTAMP\", time_format = \"datetime\", zone = \"UTC\", shift = false }}\n",
        path.display()
    );
    let (_, report) = run_text(&replay_text("2023-11-16T18:15:00Z", "1h", 5, &client));
    let (rows, throttled) = throttled_by_hand(&seconds, 5);
    let t = report.summary.totals;
    assert_eq!((t.attempts, t.throttled), (rows, throttled));
}

/// Replayed twice as fast, the NASA log's 46,321 s span takes 23,160.5 s.
#[test]
fn speed_scales_the_span() {
    let path = shared("nasa_http_19950801/nasa_19950801.tsv");
    let client = format!(
        "[[client]]\nname = \"nasa\"\naccount = \"acme\"\nmodel = \"trace\"\napi = \"A\"\n\
         trace = {{ path = \"{}\", time = \"time\", time_format = \"unix-s\", speed = 2.0 }}\n",
        path.display()
    );
    let (_, report) = run_with_bin(&replay_text("2026-11-26T00:00:00Z", "7h", 1_000, &client), NANOS_PER_SEC);
    let bins = &report.series[0].bins;
    let last = bins.iter().rposition(|b| b.admitted > 0).unwrap();
    assert_eq!(last, 23_160);
    assert_eq!(report.summary.totals.attempts, 30_969);
}

fn quotasim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quotasim")).args(args).output().unwrap()
}

/// A synthetic run's requests written as a trace and replayed with retries off give the same counts, in
/// every second, sub-account and API: admission depends only on when attempts arrive.
#[test]
fn a_generated_trace_replays_to_the_same_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let synthetic = replay_text(
        "2026-11-26T09:00:00.5+08:00",
        "10m",
        3,
        "[[client]]\nname = \"web\"\naccount = \"acme\"\nsub_account = \"ram-web\"\nmix = [{ api = \"A\", weight = 2 }, { api = \"B\", weight = 1 }]\n\
         model = \"open\"\nrate = 4.0\nretry = { policy = \"none\" }\n\
         [[client]]\nname = \"jobs\"\naccount = \"acme\"\nsub_account = \"ram-jobs\"\napi = \"A\"\nmodel = \"closed\"\nthreads = 3\n\
         think = { dist = \"exponential\", mean = \"300ms\" }\nretry = { policy = \"none\" }\n",
    );
    let sc_path = tmp.path().join("synthetic.toml");
    std::fs::write(&sc_path, &synthetic).unwrap();
    let trace = tmp.path().join("requests.csv");
    let o = quotasim(&["trace", "gen", sc_path.to_str().unwrap(), "-o", trace.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let replay = replay_text(
        "2026-11-26T09:00:00.5+08:00",
        "10m",
        3,
        &format!(
            "[[client]]\nname = \"replay\"\naccount = \"acme\"\nmodel = \"trace\"\n\
             trace = {{ path = \"{}\", time = \"unix_ns\", time_format = \"unix-ns\", caller = \"sub_account\", api_field = \"api\", shift = false }}\n",
            trace.display()
        ),
    );
    let (_, original) = run_text(&synthetic);
    let (_, replayed) = run_text(&replay);
    assert!(original.summary.totals.throttled > 0, "the test needs throttling to mean something");
    let counts = |r: &quotasim::report::Report| -> BTreeMap<(String, String), (u64, u64, u64)> {
        r.summary
            .by_sub_account
            .iter()
            .map(|e| {
                ((e.sub_account.to_string(), e.api.to_string()), (e.cell.requests, e.cell.admitted, e.cell.throttled))
            })
            .collect()
    };
    assert_eq!(counts(&original), counts(&replayed));
    for (a, b) in original.series.iter().zip(&replayed.series) {
        assert_eq!((&a.api, &a.bins), (&b.api, &b.bins));
    }
}

/// A malformed row stops the run with its file and line; `--skip-bad-rows` counts and passes over it.
#[test]
fn a_bad_row_is_named_by_line_or_skipped_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("calls.csv");
    std::fs::write(&csv, "when,who\n1000.0,a\n1000.5,b\nnoon,c\n1001.2,a\n").unwrap();
    let sc = tmp.path().join("replay.toml");
    let client = "[[client]]\nname = \"log\"\naccount = \"acme\"\nmodel = \"trace\"\napi = \"B\"\n\
                  trace = { path = \"calls.csv\", time = \"when\", time_format = \"unix-s\", caller = \"who\" }\n";
    std::fs::write(&sc, replay_text("2026-11-26T09:00:00Z", "1m", 2, client)).unwrap();
    let out = tmp.path().join("out");
    let o = quotasim(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:4:", csv.display())) && stderr.contains("`noon` is not a Unix time"),
        "{stderr}"
    );
    assert!(!out.join("summary.json").exists());

    let o = quotasim(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--skip-bad-rows"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["traces"][0]["skipped_rows"], 1);
    assert_eq!(summary["traces"][0]["rows"], 3);
    assert_eq!(summary["totals"]["requests"], 3);
}

/// Access logs and JSON Lines, with APIs picked by path prefix and by name, and response times from a field.
#[test]
fn access_logs_and_json_lines_map_callers_and_apis() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("access.log");
    std::fs::write(
        &log,
        "h1 - - [26/Nov/2026:09:00:00 +0800] \"GET /a/1 HTTP/1.0\" 200 10\n\
         h2 - - [26/Nov/2026:09:00:00 +0800] \"GET /b/2 HTTP/1.0\" 200 10 \"-\" \"agent\"\n\
         h1 - - [26/Nov/2026:09:00:01 +0800] \"GET /a/3 HTTP/1.0\" 200 10\n",
    )
    .unwrap();
    let client = format!(
        "[[client]]\nname = \"log\"\naccount = \"acme\"\nmodel = \"trace\"\n\
         trace = {{ path = \"{}\", caller = \"host\", api_field = \"path\", api_rules = [{{ prefix = \"/a/\", api = \"A\" }}], api_default = \"B\" }}\n",
        log.display()
    );
    let (_, report) = run_text(&replay_text("2026-11-26T09:00:00+08:00", "10s", 5, &client));
    let by: BTreeMap<(String, String), u64> = report
        .summary
        .by_sub_account
        .iter()
        .map(|e| ((e.sub_account.to_string(), e.api.to_string()), e.cell.requests))
        .collect();
    assert_eq!(by, BTreeMap::from([(("h1".into(), "A".into()), 2), (("h2".into(), "B".into()), 1)]));

    let jsonl = tmp.path().join("calls.jsonl");
    std::fs::write(&jsonl, "{\"t\": \"2026-11-26T01:00:00Z\", \"api\": \"B\", \"ms\": 250}\n\n{\"t\": \"2026-11-26T01:00:02Z\", \"api\": \"A\", \"ms\": 750}\n").unwrap();
    let client = format!(
        "[[client]]\nname = \"j\"\naccount = \"acme\"\nmodel = \"trace\"\n\
         trace = {{ path = \"{}\", time = \"t\", time_format = \"rfc3339\", api_field = \"api\", latency_field = \"ms\" }}\n",
        jsonl.display()
    );
    let (_, report) = run_text(&replay_text("2026-11-26T09:00:00+08:00", "10s", 5, &client));
    let lat: BTreeMap<String, f64> =
        report.summary.by_api.iter().map(|e| (e.api.clone(), e.metrics.latency_s.max)).collect();
    assert_eq!(lat, BTreeMap::from([("A".into(), 0.75), ("B".into(), 0.25)]));
}

/// trace stats on the NASA log: the figures its README gives, and the no-throttle QPS equals the busiest
/// second counted here.
#[test]
fn trace_stats_match_the_logs_own_figures() {
    let path = shared("nasa_http_19950801/nasa_19950801.tsv");
    let o =
        quotasim(&["trace", "stats", path.to_str().unwrap(), "--time-format", "unix-s", "--caller", "host", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["requests"], 30_969);
    assert_eq!(s["distinct_callers"], 2_365);
    assert_eq!(s["span_s"], 46_321.0);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut per: BTreeMap<i64, u64> = BTreeMap::new();
    for l in text.lines().skip(1) {
        *per.entry(l.split('\t').nth(2).unwrap().parse().unwrap()).or_default() += 1;
    }
    assert_eq!(s["qps_throttling_none"], *per.values().max().unwrap());
    assert_eq!(s["per_second_peak"], *per.values().max().unwrap());
}

#[test]
fn a_trace_column_that_is_not_in_the_header_is_named_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("calls.csv"), "when,who\n1,a\n").unwrap();
    let text = replay_text(
        "2026-11-26T09:00:00Z",
        "1m",
        2,
        "[[client]]\nname = \"log\"\naccount = \"acme\"\nmodel = \"trace\"\napi = \"A\"\n[client.trace]\npath = \"calls.csv\"\ntime = \"time\"\ntime_format = \"unix-s\"\n",
    );
    let sc = tmp.path().join("replay.toml");
    std::fs::write(&sc, &text).unwrap();
    let o = quotasim(&["run", sc.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    // The message on the first line, what would be valid as the help under the offending line.
    assert!(stderr.contains("replay.toml:22: client[0].trace.time: no column `time`\n"), "{stderr}");
    assert!(stderr.contains("22 | time = \"time\"") && stderr.contains("= help: the header has when, who"), "{stderr}");
}
