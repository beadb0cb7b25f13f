//! Hostile input, end to end through the binary: each case exits as the contract says (2 with a message
//! that locates the fault, 1 for a full disk, 0 and quiet for a closed pipe), never panics, never hangs,
//! and leaves no output behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn quotasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quotasim")).args(args).output().expect("the binary runs")
}

fn scenario_path(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name).display().to_string()
}

const BASE: &str = r#"name = "hostile"
seed = 1
start = "2026-11-26T09:00:00+08:00"
duration = "1m"

[[api]]
name = "A"
latency = { dist = "exponential", mean = "500ms" }

[[account]]
name = "acme"

[[client]]
name = "workers"
account = "acme"
api = "A"
model = "closed"
threads = 2
"#;

/// Writes `text` as `name` in `dir` and runs it; asserts exit 2, no panic and no output folder, and that
/// stderr holds every one of `words`.
fn refused(dir: &Path, name: &str, text: &str, extra: &[&str], words: &[&str]) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out_dir = dir.join(format!("out-{name}"));
    let mut args = vec!["run", path.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let out = quotasim(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    for w in words {
        assert!(stderr.contains(w), "{name}: expected `{w}` in: {stderr}");
    }
    assert!(!out_dir.exists(), "{name}: nothing is written for bad input");
}

#[test]
fn a_huge_duration_with_a_nanosecond_bin_is_refused_not_wrapped() {
    let tmp = tempfile::tempdir().unwrap();
    let text = BASE.replace("duration = \"1m\"", "duration = \"4611686018427387904ns\"").replace(
        "api = \"A\"\nmodel",
        "mix = [{ api = \"A\", weight = 1 }, { api = \"B\", weight = 1 }, { api = \"C\", weight = 1 }, { api = \"D\", weight = 1 }]\nmodel",
    ) + "[[api]]\nname = \"B\"\nlatency = { dist = \"constant\", mean = \"1s\" }\n[[api]]\nname = \"C\"\nlatency = { dist = \"constant\", mean = \"1s\" }\n[[api]]\nname = \"D\"\nlatency = { dist = \"constant\", mean = \"1s\" }\n";
    refused(tmp.path(), "bin.toml", &text, &["--bin", "1ns"], &["--bin", "rows"]);
}

#[test]
fn numbers_that_would_wrap_are_input_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "duration",
            "duration = \"1m\"",
            "duration = \"99999999999999999999999999999d 2ns\"",
            &[":4: duration", "too long"],
        ),
        ("offset", "+08:00\"", "+25:00\"", &[":3: start", "offsets run"]),
        (
            "sigma",
            "{ dist = \"exponential\", mean = \"500ms\" }",
            "{ dist = \"lognormal\", mean = \"500ms\", sigma = 1e308 }",
            &[":8: api[0].latency.sigma", "from 0 to 4"],
        ),
        (
            "weights",
            "api = \"A\"\nmodel",
            "mix = [{ api = \"A\", weight = 1e308 }, { api = \"A\", weight = 1e308 }]\nmodel",
            &[":16: client[0].mix[1].weight", "smaller weights"],
        ),
        ("name-up", "name = \"hostile\"", "name = \"../../x\"", &[":1: name", "output folder"]),
        ("name-abs", "name = \"hostile\"", "name = \"/abs/dir\"", &[":1: name", "output folder"]),
    ];
    for (name, from, to, words) in cases {
        assert!(BASE.contains(from), "{name}");
        refused(d, &format!("{name}.toml"), &BASE.replacen(from, to, 1), &[], words);
    }
}

#[test]
fn unmeant_work_is_refused_with_the_estimate_and_the_flag_that_lifts_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let day = BASE.replace("duration = \"1m\"", "duration = \"1d\"");
    let flood = day.replace("model = \"closed\"\nthreads = 2", "model = \"open\"\nrate = 1e9");
    refused(d, "flood.toml", &flood, &[], &["attempts", "--allow-large", "client `workers`"]);
    refused(d, "million.toml", &day.replace("threads = 2", "threads = 1000000"), &[], &["--allow-large"]);
    // A nanosecond throttle reply and no wait: a throttled thread would retry a billion times a second.
    let spin = BASE.replace("[[api]]", "[server]\nthrottle_latency = \"1ns\"\n\n[[api]]").replace(
        "threads = 2",
        "threads = 2\nretry = { policy = \"fixed\", wait = \"0s\", max_attempts = 4294967295 }",
    );
    refused(d, "spin.toml", &spin.replace("duration = \"1m\"", "duration = \"1h\""), &[], &["--allow-large"]);
    // A zero response time and a huge limit: each thread would loop at one instant.
    let zero = BASE.replace(
        "{ dist = \"exponential\", mean = \"500ms\" }",
        "{ dist = \"constant\", mean = \"0s\" }\nqps = 4294967295",
    );
    refused(d, "zero.toml", &zero, &[], &["--allow-large"]);
    let out = quotasim(&[
        "sweep",
        &scenario_path("quickstart.toml"),
        "--param",
        "client.workers.threads=1,2",
        "--jobs",
        "1000000",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jobs"));
}

#[test]
fn a_scenario_that_is_not_text_is_refused_at_its_size_or_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Bigger than the cap: refused after reading only the cap, not the whole file.
    let big = d.join("big.toml");
    let mut f = std::fs::File::create(&big).unwrap();
    let chunk = vec![b'#'; 1 << 20];
    for _ in 0..65 {
        f.write_all(&chunk).unwrap();
    }
    drop(f);
    let out = quotasim(&["run", big.to_str().unwrap(), "--out", d.join("o").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 MiB"));
    let mut bytes = BASE.as_bytes().to_vec();
    let at = BASE.find("name = \"acme\"").unwrap() + 9;
    bytes.insert(at, 0xff);
    let path = d.join("latin1.toml");
    std::fs::write(&path, bytes).unwrap();
    let out = quotasim(&["run", path.to_str().unwrap(), "--out", d.join("o").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("latin1.toml:11: (file)") && stderr.contains("UTF-8"), "{stderr}");
    // A dotted key nested far deeper than any scenario key, on line 17.
    let mut lines: Vec<String> = BASE.lines().map(str::to_string).collect();
    lines.insert(16, format!("x{} = 1", ".a".repeat(500)));
    refused(d, "deep.toml", &lines.join("\n"), &[], &["deep.toml:17:", "nest"]);
}

fn trace_scenario(dir: &Path, file: &str, bytes: &[u8], extra: &str) -> PathBuf {
    std::fs::write(dir.join(file), bytes).unwrap();
    let text = BASE.replace(
        "model = \"closed\"\nthreads = 2",
        &format!("model = \"trace\"\ntrace = {{ path = \"{file}\", time = \"t\", time_format = \"unix-s\"{extra} }}"),
    );
    let path = dir.join(format!("{file}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn run_trace(path: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out_dir = path.with_extension("out");
    let mut args = vec!["run", path.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let out = quotasim(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code(), stderr)
}

#[test]
fn hostile_traces_are_errors_at_their_row() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cases: &[(&str, &[u8], &str, &str)] = &[
        ("zero.jsonl", &[0u8; 3 << 20], ":1:", "longer than 1 MiB"),
        ("quote.csv", b"t,who\n1,\"a\n2,b\n3,c\n", ":2:", "does not close"),
        ("neg.csv", b"t\n1\n-1e300\n", ":3:", "outside the calendar"),
        ("big.csv", b"t\n1\n99999999999999999\n", ":3:", "outside the calendar"),
        ("latin1.jsonl", b"{\"t\": 1}\n{\"t\": 2}\n{\"t\": \xff3}\n", ":3:", "UTF-8"),
    ];
    for (file, bytes, at, words) in cases {
        let path = trace_scenario(d, file, bytes, "");
        let (code, stderr) = run_trace(&path, &[]);
        assert_eq!(code, Some(2), "{file}: {stderr}");
        assert!(stderr.contains(&format!("{file}{at}")) && stderr.contains(words), "{file}: {stderr}");
    }
    // An endless line cannot be skipped; a bad row can.
    let (code, _) = run_trace(&d.join("zero.jsonl.toml"), &["--skip-bad-rows"]);
    assert_eq!(code, Some(2));
    let (code, stderr) = run_trace(&d.join("latin1.jsonl.toml"), &["--skip-bad-rows"]);
    assert_eq!(code, Some(0), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("latin1.jsonl.out/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["traces"][0]["skipped_rows"], 1);
    // A response time far past any real one is an error, not a marker that means "draw one".
    let path = trace_scenario(d, "lat.csv", b"t,ms\n1,1e30\n", ", latency_field = \"ms\"");
    let (code, stderr) = run_trace(&path, &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("lat.csv:2:") && stderr.contains("30 days"), "{stderr}");
    // Line numbers are right whatever the line endings.
    for (name, ending) in [("crlf.csv", "\r\n"), ("cr.csv", "\r")] {
        let text = ["t", "1", "2", "x", "4"].join(ending) + ending;
        let path = trace_scenario(d, name, text.as_bytes(), "");
        let (code, stderr) = run_trace(&path, &[]);
        assert_eq!(code, Some(2));
        assert!(stderr.contains(&format!("{name}:4:")), "{stderr}");
    }
}

#[test]
fn sweep_ranges_that_are_empty_infinite_or_too_long_are_refused() {
    let sc = scenario_path("quickstart.toml");
    for (param, words) in [
        ("client.workers.threads=1..=1e300:1", "more than"),
        ("client.workers.threads=1..=inf", "finite"),
        ("api.CompareFace.latency.mean=1ms..=1000000d:1ms", "`1000000d`"),
        ("client.workers.threads=5..=1", "empty"),
    ] {
        let out = quotasim(&["sweep", &sc, "--param", param, "--quiet"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{param}: {stderr}");
        assert!(stderr.contains(words), "{param}: {stderr}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["run", &scenario_path("quickstart.toml"), "--out", tmp.path().to_str().unwrap(), "--no-chart"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_quotasim"))
            .args(["run", &scenario_path("quickstart.toml"), "--out", tmp.path().to_str().unwrap(), "--no-chart"])
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("standard output") && !stderr.contains("panicked"), "{stderr}");
    }
}

fn shard_dir(dir: &Path) -> PathBuf {
    let shards = dir.join("shards");
    let out = quotasim(&[
        "sweep",
        &scenario_path("sweep-threads.toml"),
        "--param",
        "client.workers.threads=1..=4",
        "--reps",
        "2",
        "--shard",
        "1/2",
        "--out",
        shards.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    shards
}

#[test]
fn edited_shard_files_are_refused_naming_the_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let shards = shard_dir(tmp.path());
    let file = shards.join("sweep-shard-1-of-2.json");
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("shard", Box::new(|v| v["shard"] = serde_json::json!([5, 2]))),
        ("shard", Box::new(|v| v["shard"] = serde_json::json!([0, 1_000_000_000_000_000u64]))),
        ("points_total", Box::new(|v| v["points_total"] = serde_json::json!(1_000_000_000_000_000_000u64))),
        ("axis", Box::new(|v| v["points"][0]["axis"] = serde_json::json!([]))),
        ("values", Box::new(|v| v["points"][0]["values"] = serde_json::json!([]))),
        ("metrics", Box::new(|v| v["points"][0]["metrics"] = serde_json::json!([]))),
        ("reps", Box::new(|v| v["reps"] = serde_json::json!(0))),
    ];
    for (field, edit) in edits {
        let mut doc = good.clone();
        edit(&mut doc);
        std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
        let out = quotasim(&["merge", shards.to_str().unwrap(), "--out", tmp.path().join("m").to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{field}: {stderr}");
        assert!(stderr.contains("sweep-shard-1-of-2.json") && stderr.contains(field), "{field}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn merge_never_writes_where_a_shard_file_says() {
    let tmp = tempfile::tempdir().unwrap();
    let shards = shard_dir(tmp.path());
    let out = quotasim(&[
        "sweep",
        &scenario_path("sweep-threads.toml"),
        "--param",
        "client.workers.threads=1..=4",
        "--reps",
        "2",
        "--shard",
        "2/2",
        "--out",
        shards.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success());
    for k in 1..=2 {
        let file = shards.join(format!("sweep-shard-{k}-of-2.json"));
        let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        doc["scenario"] = serde_json::json!("../../escaped");
        std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["merge", "shards", "--no-chart"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(shards.join("sweep.json").exists(), "the merge lands beside the shards");
    assert!(!tmp.path().join("../../escaped").exists() && !tmp.path().join("output").exists());
}

#[test]
fn outputs_of_one_run_are_listed_in_a_manifest_and_stale_ones_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let sc = scenario_path("faq-two-threads.toml");
    assert!(quotasim(&["run", &sc, "--out", dir.to_str().unwrap(), "--quiet"]).status.success());
    assert!(dir.join("timeline.png").exists());
    // A temporary file an interrupted run of a process that no longer exists left behind.
    let leftover = dir.join(".quotasim-4000000000-0123456789abcdef.tmp");
    std::fs::write(&leftover, b"half").unwrap();
    let out = quotasim(&["run", &sc, "--out", dir.to_str().unwrap(), "--no-chart"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed temporary files"));
    assert!(!leftover.exists());
    assert!(!dir.join("timeline.png").exists(), "the previous run's chart is not left beside this run's files");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("run-manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["summary.json", "summary.csv", "timeseries.csv", "billing.csv", "report.html"]);
    for f in manifest["files"].as_array().unwrap() {
        let bytes = std::fs::read(dir.join(f["name"].as_str().unwrap())).unwrap();
        assert_eq!(f["bytes"].as_u64().unwrap(), bytes.len() as u64);
    }
    assert_eq!(manifest["run_id"].as_str().unwrap().len(), 16);
}

/// `BASE` with its client replaced by `client`, `[server]` keys added and the duration set.
fn guarded(dir: &Path, duration: &str, server: &str, client: &str) -> PathBuf {
    let text = BASE
        .replace("duration = \"1m\"", &format!("duration = \"{duration}\"\n[server]\n{server}"))
        .replace("model = \"closed\"\nthreads = 2\n", client);
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run_with_env(path: &Path, out: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_quotasim"));
    c.args(["run", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-chart", "--quiet"]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// The estimate up front counts only what is certain: a long run with a huge retry allowance that it
/// never uses is not refused (it makes about 2.5e6 attempts, not the 1.5e12 the allowance could).
#[test]
fn a_legitimate_long_run_is_not_refused_for_retries_it_never_makes() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = guarded(
        tmp.path(),
        "1000000s",
        "",
        "model = \"open\"\nrate = 1.5\nretry = { policy = \"fixed\", wait = \"1s\", max_attempts = 1000000 }\n",
    );
    let out = run_with_env(&sc, &tmp.path().join("out"), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Work no estimate foresees stops while the run goes, exit 2 with the advice, and no output is kept.
#[test]
fn runs_that_pass_their_budget_stop_with_advice_and_no_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        // A retry storm the estimate puts at about 120 attempts.
        (
            "1h",
            "throttle_latency = \"1ns\"",
            "model = \"closed\"\nthreads = 1\nretry = { policy = \"exponential\", base = \"1ns\", cap = \"1ns\", multiplier = 1, max_attempts = 4294967295 }\n",
            ("QUOTASIM_MAX_ATTEMPTS", "2e6"),
            "attempts",
        ),
        // A day-long sliding log that counts rejected attempts only grows.
        (
            "30m",
            "limiter = \"sliding-log\"\nwindow = \"1d\"\ncount_rejected = true",
            "model = \"open\"\nrate = 300000\n",
            ("QUOTASIM_MAX_MEMORY", "600000000"),
            "memory",
        ),
        // A pacer that lets one attempt go every ~30 years, with room for a billion waiting.
        (
            "30m",
            "",
            "model = \"open\"\nrate = 200000\npace = { rate = 1e-9, queue_limit = 1000000000 }\n",
            ("QUOTASIM_MAX_MEMORY", "1000000000"),
            "memory",
        ),
    ];
    for (duration, server, client, env, word) in cases {
        let sc = guarded(tmp.path(), duration, server, client);
        let out_dir = tmp.path().join("out");
        let start = std::time::Instant::now();
        let out = run_with_env(&sc, &out_dir, &[env]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{client}: {err}");
        assert!(err.contains("the run stopped") && err.contains(word) && err.contains("--allow-large"), "{err}");
        assert!(!out_dir.join("summary.json").exists(), "no partial outputs");
        // Stopped at the limit, not run to the end (each would take minutes or exhaust memory).
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "{client}");
    }
}

/// The issue's storm at the default limits: one thread whose throttled attempts come back after 1 ns and
/// retry after 1 ns, four billion times. Its pace, not its total, stops it: exit 2 within a minute (it
/// took minutes to reach 10^9 attempts), no output kept.
#[test]
fn a_nanosecond_retry_storm_stops_by_its_pace_within_a_minute() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = guarded(
        tmp.path(),
        "10m",
        "throttle_latency = \"1ns\"",
        "model = \"closed\"\nthreads = 1\nretry = { policy = \"exponential\", base = \"1ns\", cap = \"1ns\", multiplier = 1, max_attempts = 4294967295 }\n",
    );
    let out_dir = tmp.path().join("out");
    let start = std::time::Instant::now();
    let out = run_with_env(&sc, &out_dir, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the run stopped") && err.contains("at that pace") && err.contains("--allow-large"), "{err}");
    assert!(!out_dir.join("summary.json").exists(), "no partial outputs");
    assert!(start.elapsed() < std::time::Duration::from_secs(60), "{:?}", start.elapsed());
}

#[test]
fn a_limit_variable_that_is_not_a_number_is_refused_not_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = guarded(tmp.path(), "1m", "", "model = \"closed\"\nthreads = 2\n");
    for (var, value) in
        [("QUOTASIM_MAX_ATTEMPTS", "NaN"), ("QUOTASIM_MAX_ATTEMPTS", "-1"), ("QUOTASIM_MAX_MEMORY", "inf")]
    {
        let out = run_with_env(&sc, &tmp.path().join("out"), &[(var, value)]);
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(var));
    }
}

/// Input that was accepted and then ignored, or refused with a muddled message, is named at its key with
/// what would be valid.
#[test]
fn mistakes_are_named_at_their_key_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let offer = "[[offer]]\ntype = \"prepaid-qps\"\nname = \"o\"\naccount = \"acme\"\napi = \"A\"\nqps = [4]\nhours = [\"all\"]\nprice_per_qps_day = 1.7e308\n";
    refused(d, "price.toml", &format!("{BASE}{offer}"), &[], &["offer[0].price_per_qps_day", "from 0 to"]);
    refused(d, "long.toml", &BASE.replace("\"1m\"", "\"107000d\""), &[], &["duration", "292 years"]);
    let variant = "[[variant]]\nname = \"v\"\nset = { \"\" = 2 }\n";
    refused(d, "variant.toml", &format!("{BASE}{variant}"), &[], &["variant[0].set", "empty field name"]);
    let variant = "[[variant]]\nname = \"v\"\nset = { \"client.workers.model\" = \"trace\" }\n";
    refused(d, "to-trace.toml", &format!("{BASE}{variant}"), &["--variant", "v"], &["takes only a `trace` table"]);
    refused(
        d,
        "cost.toml",
        &BASE.replace("threads = 2\n", "threads = 2\ncost = 5\n"),
        &[],
        &["client[0].cost", "unit limit"],
    );
    // A `-` in a CSV cost column is not a number (only an access log writes `-` for nothing).
    std::fs::write(d.join("calls.csv"), "t,c\n0,5\n1,-\n").unwrap();
    let trace = BASE
        .replace("latency = {", "units = { limit = 100, window = \"1m\" }\nlatency = {")
        .replace(
            "model = \"closed\"\nthreads = 2\n",
            "model = \"trace\"\ncost = { fields = [\"c\"] }\ntrace = { path = \"calls.csv\", time = \"t\", time_format = \"unix-s\" }\n",
        );
    // Found as the rows are read, during the run: exit 2 and no output file.
    std::fs::write(d.join("dash.toml"), &trace).unwrap();
    let out_dir = d.join("out-dash");
    let out = quotasim(&["run", d.join("dash.toml").to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("calls.csv:3") && err.contains("`-`"), "{err}");
    assert!(!out_dir.join("summary.json").exists());
    // An access log's time is its [date] field: a `time` key would be ignored.
    std::fs::write(d.join("a.log"), "1.2.3.4 - - [26/Nov/2026:09:00:00 +0800] \"GET /x HTTP/1.1\" 200 5\n").unwrap();
    let clf = BASE.replace(
        "model = \"closed\"\nthreads = 2\n",
        "model = \"trace\"\ntrace = { path = \"a.log\", format = \"clf\", time = \"when\" }\n",
    );
    refused(d, "clf.toml", &clf, &[], &["client[0].trace.time", "[date]"]);
    // A sweep value given twice would run twice as two points of one name.
    let path = d.join("twice.toml");
    std::fs::write(&path, format!("{BASE}[[variant]]\nname = \"a\"\nset = {{ \"client.workers.threads\" = 4 }}\n"))
        .unwrap();
    let out =
        quotasim(&["sweep", path.to_str().unwrap(), "--param", "variant=a,a", "--out", d.join("o").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`a` is given twice"));
}
