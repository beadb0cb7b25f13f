//! The binary end to end: bundled scenarios, exit codes and messages for bad input, reproducibility.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn quotasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quotasim")).args(args).output().expect("the binary runs")
}

fn scenario_path(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name).display().to_string()
}

fn run_into(scenario: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", scenario, "--out", out.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    quotasim(&args)
}

fn read_json(path: PathBuf) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

const OUTPUTS: [&str; 6] =
    ["summary.json", "summary.csv", "timeseries.csv", "billing.csv", "timeline.png", "report.html"];

#[test]
fn every_bundled_scenario_runs_and_writes_every_output() {
    let names = common::bundled_scenarios();
    assert!(names.len() >= 5);
    for path in names {
        let tmp = tempfile::tempdir().unwrap();
        let out = run_into(path.to_str().unwrap(), tmp.path(), &[]);
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        for file in OUTPUTS {
            let written = tmp.path().join(file);
            assert!(
                std::fs::metadata(&written).map(|m| m.len() > 0).unwrap_or(false),
                "{} wrote no {file}",
                path.display()
            );
        }
        let png = std::fs::read(tmp.path().join("timeline.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Nothing but the outputs and their manifest is left behind (no temporary files, no lock file).
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), OUTPUTS.len() + 1);
        assert!(tmp.path().join("run-manifest.json").exists());
    }
}

#[test]
fn the_terminal_summary_names_the_api_and_its_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let out =
        quotasim(&["run", &scenario_path("quickstart.toml"), "--out", tmp.path().to_str().unwrap(), "--no-chart"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("CompareFace"), "{text}");
    assert!(text.contains("throttled"), "{text}");
    assert!(!tmp.path().join("timeline.png").exists());
}

#[test]
fn same_seed_gives_byte_identical_outputs_and_another_seed_differs() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sc = scenario_path("faq-sub-accounts.toml");
    assert!(run_into(&sc, a.path(), &[]).status.success());
    assert!(run_into(&sc, b.path(), &[]).status.success());
    assert!(run_into(&sc, c.path(), &["--seed", "99"]).status.success());
    for file in OUTPUTS {
        assert_eq!(std::fs::read(a.path().join(file)).unwrap(), std::fs::read(b.path().join(file)).unwrap(), "{file}");
    }
    assert_ne!(
        std::fs::read(a.path().join("summary.json")).unwrap(),
        std::fs::read(c.path().join("summary.json")).unwrap()
    );
}

/// FAQ (a): 4 threads at 500 ms need 8 QPS; face comparison has 2. Admitted stays at the limit.
#[test]
fn faq_four_threads_are_held_to_two_qps() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(run_into(&scenario_path("faq-four-threads.toml"), tmp.path(), &["--no-chart"]).status.success());
    let s = read_json(tmp.path().join("summary.json"));
    let admitted = s["totals"]["admitted_qps"].as_f64().unwrap();
    assert!(admitted <= 2.0 && admitted > 1.95, "admitted {admitted}/s");
    assert!(s["totals"]["throttle_rate"].as_f64().unwrap() > 0.3);
}

/// FAQ (b): two threads at 500 ms make four calls in the first second; with a limit of 2 the last two
/// are throttled.
#[test]
fn faq_two_threads_lose_the_last_two_calls_of_the_first_second() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(run_into(&scenario_path("faq-two-threads.toml"), tmp.path(), &["--no-chart"]).status.success());
    let series = std::fs::read_to_string(tmp.path().join("timeseries.csv")).unwrap();
    let first = series.lines().nth(1).unwrap();
    assert_eq!(first, "0,acme,CompareFace,4,2,2,2,pay-as-you-go");
}

/// FAQ (c): text recognition defaults to 1 QPS: no second ever admits more than one call. (A second can
/// admit none: both threads may be sitting out their 1 s retry wait.)
#[test]
fn faq_text_recognition_gets_one_qps() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(run_into(&scenario_path("faq-text-recognition.toml"), tmp.path(), &["--no-chart"]).status.success());
    let series = std::fs::read_to_string(tmp.path().join("timeseries.csv")).unwrap();
    for line in series.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert!(f[4] == "0" || f[4] == "1", "admitted in {line}");
        assert_eq!(f[6], "1", "limit in {line}");
    }
}

/// FAQ (d): each sub-account offers about 1 request a second, under the limit alone; together they are
/// throttled, and the account's admitted rate never exceeds 2 a second.
#[test]
fn faq_sub_accounts_are_throttled_together() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(run_into(&scenario_path("faq-sub-accounts.toml"), tmp.path(), &["--no-chart"]).status.success());
    let s = read_json(tmp.path().join("summary.json"));
    let subs = s["by_sub_account"].as_array().unwrap();
    assert_eq!(subs.len(), 3);
    let duration = s["duration_s"].as_f64().unwrap();
    for sub in subs {
        let request_rate = sub["requests"].as_f64().unwrap() / duration;
        // Poisson(1/s) over 1800 s: the request rate is within 4 se (sqrt(1/1800) ≈ 0.024) of 1.
        assert!((request_rate - 1.0).abs() < 4.0 * (1.0f64 / duration).sqrt(), "{request_rate}");
        assert!(sub["throttled"].as_u64().unwrap() > 0);
    }
    assert!(s["by_api"][0]["admitted_qps"].as_f64().unwrap() <= 2.0);
    let series = std::fs::read_to_string(tmp.path().join("timeseries.csv")).unwrap();
    assert!(series.lines().skip(1).all(|l| l.split(',').nth(4).unwrap().parse::<u32>().unwrap() <= 2));
}

const GOOD: &str = r#"name = "bad-input"
seed = 1
start = "2026-11-26T09:00:00+08:00"
duration = "1m"

[[api]]
name = "CompareFace"
category = "face-body"
latency = { dist = "exponential", mean = "500ms" }

[[account]]
name = "acme"

[[client]]
name = "workers"
account = "acme"
api = "CompareFace"
model = "closed"
threads = 2
retry = { policy = "fixed", wait = "1s", max_attempts = 10 }
"#;

/// Each malformed scenario exits 2 and says `file:line: key: …` with what would be valid; no output
/// folder is left half-written.
#[test]
fn malformed_scenarios_exit_2_naming_file_line_and_key() {
    let cases: &[(&str, &str, &str, usize, &str, &str)] = &[
        // (what, replace, with, line, key, words the message must hold)
        ("bad TOML", "name = \"bad-input\"", "name = \"bad-input", 1, "", "string"),
        ("unknown key", "threads = 2", "threads = 2\nthraeds = 3", 20, "client[0].thraeds", "unknown field"),
        ("zero threads", "threads = 2", "threads = 0", 19, "client[0].threads", "from 1 to"),
        ("wrong type", "threads = 2", "threads = \"two\"", 19, "client[0].threads", "expected a whole number"),
        (
            "negative rate",
            "model = \"closed\"\nthreads = 2",
            "model = \"open\"\nrate = -5.0",
            19,
            "client[0].rate",
            "requests per second, from 0",
        ),
        ("unknown API", "api = \"CompareFace\"", "api = \"CompareFaces\"", 17, "client[0].api", "`CompareFace`"),
        ("unknown account", "account = \"acme\"", "account = \"acne\"", 16, "client[0].account", "`acme`"),
        ("missing account", "[[account]]\nname = \"acme\"\n", "", 1, "account", "at least one"),
        ("missing start", "start = \"2026-11-26T09:00:00+08:00\"\n", "", 1, "start", "missing field `start`"),
        ("missing client name", "name = \"workers\"\n", "", 14, "client[0].name", "missing field `name`"),
        ("bad duration", "duration = \"1m\"", "duration = \"1 minute\"", 4, "duration", "units"),
        ("start without offset", "T09:00:00+08:00", "T09:00:00", 3, "start", "offset"),
        ("bad distribution", "dist = \"exponential\"", "dist = \"gaussian\"", 9, "api[0].latency.dist", "`lognormal`"),
        ("bad category", "category = \"face-body\"", "category = \"faces\"", 8, "api[0].category", "`face-body`"),
        ("zero max attempts", "max_attempts = 10", "max_attempts = 0", 20, "client[0].retry.max_attempts", ">= 1"),
        ("zero window", "[[api]]", "[server]\nwindow = \"0s\"\n\n[[api]]", 7, "server.window", "longer than zero"),
        (
            "zero throttle latency",
            "[[api]]",
            "[server]\nthrottle_latency = \"0s\"\n\n[[api]]",
            7,
            "server.throttle_latency",
            "longer than zero",
        ),
        (
            "unknown limiter",
            "[[api]]",
            "[server]\nlimiter = \"gcra\"\n\n[[api]]",
            7,
            "server.limiter",
            "`token-bucket`",
        ),
        (
            "burst below 1",
            "[[api]]",
            "[server]\nlimiter = \"token-bucket\"\nburst = 0\n\n[[api]]",
            8,
            "server.burst",
            ">= 1",
        ),
        (
            "key of another limiter",
            "[[api]]",
            "[server]\nlimiter = \"token-bucket\"\nwindow = \"1s\"\n\n[[api]]",
            8,
            "server.window",
            "takes no `window`",
        ),
        (
            "zero window in a list",
            "[[api]]",
            "[server]\nwindows = [{ window = \"1s\" }, { window = \"0s\" }]\n\n[[api]]",
            7,
            "server.windows[1].window",
            "longer than zero",
        ),
        (
            "window and windows",
            "[[api]]",
            "[server]\nwindow = \"1s\"\nwindows = [{ window = \"1m\" }]\n\n[[api]]",
            8,
            "server.windows",
            "not both",
        ),
        (
            "API limiter key without a limiter",
            "category = \"face-body\"",
            "category = \"face-body\"\nburst = 3",
            9,
            "api[0].burst",
            "set this API's `limiter`",
        ),
        (
            "unknown API limiter",
            "category = \"face-body\"",
            "category = \"face-body\"\nlimiter = \"bucket\"",
            9,
            "api[0].limiter",
            "`sliding-log`",
        ),
        (
            "unit limit of zero",
            "category = \"face-body\"",
            "category = \"face-body\"\nunits = { limit = 0 }",
            9,
            "api[0].units.limit",
            "1 to 10^15",
        ),
        ("bad retry policy", "policy = \"fixed\"", "policy = \"forever\"", 20, "client[0].retry.policy", "`none`"),
        (
            "unknown jitter",
            "policy = \"fixed\", wait = \"1s\"",
            "policy = \"exponential\", base = \"1s\", jitter = \"wild\"",
            20,
            "client[0].retry.jitter",
            "`decorrelated`",
        ),
        (
            "cap below base",
            "policy = \"fixed\", wait = \"1s\"",
            "policy = \"exponential\", base = \"2s\", cap = \"1s\"",
            20,
            "client[0].retry.cap",
            "below `base`",
        ),
        (
            "multiplier below 1",
            "policy = \"fixed\", wait = \"1s\"",
            "policy = \"exponential\", base = \"1s\", multiplier = 0.5",
            20,
            "client[0].retry.multiplier",
            "from 1",
        ),
        (
            "zero pacing rate",
            "max_attempts = 10 }",
            "max_attempts = 10 }\npace = { rate = 0 }",
            21,
            "client[0].pace.rate",
            "above 0",
        ),
        (
            "budget of zero capacity",
            "max_attempts = 10 }",
            "max_attempts = 10, budget = { kind = \"token-bucket\", capacity = 0 } }",
            20,
            "client[0].retry.budget.capacity",
            "> 0",
        ),
        (
            "unknown adaptive kind",
            "max_attempts = 10 }",
            "max_attempts = 10 }\nadaptive = { kind = \"cubic\" }",
            21,
            "client[0].adaptive.kind",
            "`aimd`",
        ),
        (
            "aimd that never decreases",
            "max_attempts = 10 }",
            "max_attempts = 10 }\nadaptive = { kind = \"aimd\", increase = 1, decrease = 1, min_rate = 1, max_rate = 4 }",
            21,
            "client[0].adaptive.decrease",
            "below 1",
        ),
        (
            "key of another policy",
            "policy = \"fixed\", wait = \"1s\"",
            "policy = \"retry-after\", wait = \"1s\"",
            20,
            "client[0].retry.wait",
            "takes no `wait`",
        ),
        (
            "bad plan type",
            "max_attempts = 10 }\n",
            "max_attempts = 10 }\n[[account.plan]]\ntype = \"prepaid\"\n",
            22,
            "account[0].plan[0].type",
            "`prepaid-qps`",
        ),
        (
            "plan key of another type",
            "max_attempts = 10 }\n",
            "max_attempts = 10 }\n[[account.plan]]\ntype = \"pay-as-you-go\"\napi = \"CompareFace\"\nqps = 3\ncalls = 5\n",
            25,
            "account[0].plan[0].calls",
            "takes no `calls`",
        ),
        (
            "prepaid QPS above the maximum",
            "max_attempts = 10 }\n",
            "max_attempts = 10 }\n[[account.plan]]\ntype = \"prepaid-qps\"\napi = \"CompareFace\"\nqps = 51\nfrom = \"2026-11-26T09:00:00+08:00\"\nuntil = \"2026-11-26T10:00:00+08:00\"\n",
            24,
            "account[0].plan[0].qps",
            "contacting sales",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (what, from, to, line, key, words) in cases {
        assert!(GOOD.contains(from), "{what}: the case must change the scenario");
        let path = tmp.path().join("bad.toml");
        std::fs::write(&path, GOOD.replacen(from, to, 1)).unwrap();
        let out_dir = tmp.path().join("out");
        let out = run_into(path.to_str().unwrap(), &out_dir, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        let expected = format!("{}:{line}: {key}", path.display());
        assert!(stderr.contains(&expected), "{what}: expected `{expected}` in: {stderr}");
        assert!(stderr.contains(words), "{what}: expected `{words}` in: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert!(!out_dir.exists(), "{what}: no output for bad input");
    }
}

#[test]
fn a_missing_file_and_a_bad_flag_exit_2() {
    let out = quotasim(&["run", "no-such-scenario.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no-such-scenario.toml"));
    let tmp = tempfile::tempdir().unwrap();
    let out = run_into(&scenario_path("quickstart.toml"), tmp.path(), &["--bin", "1ns"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bin"));
    let out = quotasim(&["run", &scenario_path("quickstart.toml"), "--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unwritable_output_folder_fails_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"").unwrap();
    let out = run_into(&scenario_path("quickstart.toml"), &blocker.join("out"), &[]);
    assert_eq!(out.status.code(), Some(2), "a folder that cannot be made is a bad flag");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out: cannot write"));
    let out = run_into(&scenario_path("quickstart.toml"), &blocker, &[]);
    assert_eq!(out.status.code(), Some(2), "a file given as the folder is a bad flag");
}

/// A month of simulated time: the time series is binned to 15 minutes (2,880 rows), not 2.6 million seconds.
#[test]
fn a_month_long_run_writes_a_small_time_series() {
    let tmp = tempfile::tempdir().unwrap();
    let text = GOOD
        .replace("duration = \"1m\"", "duration = \"30d\"")
        .replace("model = \"closed\"\nthreads = 2", "model = \"open\"\nrate = 0.05");
    let path = tmp.path().join("month.toml");
    std::fs::write(&path, text).unwrap();
    let out = run_into(path.to_str().unwrap(), &tmp.path().join("out"), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let series = std::fs::read_to_string(tmp.path().join("out/timeseries.csv")).unwrap();
    assert_eq!(series.lines().count(), 1 + 30 * 96);
    assert_eq!(series.lines().nth(2).unwrap().split(',').next(), Some("900"));
    let summary = read_json(tmp.path().join("out/summary.json"));
    assert_eq!(summary["bin_s"], 900.0);
}

/// Completions for every shell clap knows, examples at the end of each command's help, `--open` that
/// prints the path when no viewer exists (and never fails the run), and no colour codes when piped.
#[test]
fn completions_help_examples_open_and_colour() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = quotasim(&["completions", shell]);
        assert!(out.status.success() && out.stdout.len() > 500, "{shell}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("advise"), "{shell} completes the commands");
    }
    for command in ["run", "sweep", "merge", "advise", "validate"] {
        let out = quotasim(&[command, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Examples:\n  quotasim "), "{command} --help: {text}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["run", &scenario_path("faq-sub-accounts.toml"), "--out", tmp.path().to_str().unwrap(), "--open"])
        .env("PATH", tmp.path().join("no-viewer-here"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(&format!("it is at {}", tmp.path().join("report.html").display())), "{said}");
    let text = String::from_utf8_lossy(&out.stdout);
    // Piped: no escape codes, even where the throttle rate is above 1 %; the sub-accounts sharing the
    // quota are listed beneath it.
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("└ ram-web") && text.contains("└ ram-mobile"), "{text}");
    let out = quotasim(&["run", &scenario_path("quickstart.toml"), "--open", "nothing"]);
    assert_eq!(out.status.code(), Some(2), "only `report` or `chart` can be opened");
    let out = quotasim(&["run", &scenario_path("quickstart.toml"), "--format", "gif"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`png`, `svg` or `png,svg`"));
}

/// `--format png,svg` writes each chart twice, the SVG holding the same text the PNG was drawn from.
#[test]
fn charts_come_as_png_and_svg() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_into(&scenario_path("plan-stacking.toml"), tmp.path(), &["--format", "png,svg"]);
    assert!(out.status.success());
    let svg = std::fs::read_to_string(tmp.path().join("timeline.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("resource-package 5 QPS") && svg.contains("prepaid-qps 10 QPS"));
    let png = std::fs::read(tmp.path().join("timeline.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let out = run_into(&scenario_path("plan-stacking.toml"), tmp.path(), &["--format", "svg"]);
    assert!(out.status.success());
    assert!(!tmp.path().join("timeline.png").exists(), "a PNG from the previous run is not left behind");
}

/// `quotasim check` says what a scenario holds without running it, or what is wrong at its key (exit 2).
#[test]
fn check_validates_without_running() {
    let out = quotasim(&["check", &scenario_path("replay-access-log.toml")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ok") && text.contains("replaying a log, headers checked"), "{text}");
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(scenario_path("quickstart.toml")).unwrap().replace("threads = 8", "threads = -1"),
    )
    .unwrap();
    let out = quotasim(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("threads"));
    assert!(!tmp.path().join("output").exists(), "check writes nothing");
}

/// Each command, and each variant, writes its own folder by default, so none replaces another's report.
#[test]
fn commands_and_variants_have_their_own_default_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
            .args(args)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let sc = scenario_path("retry-strategies.toml");
    run(&["run", &sc, "--no-chart", "--quiet"]);
    run(&["run", &sc, "--variant", "full-jitter", "--no-chart", "--quiet"]);
    run(&["sweep", &sc, "--reps", "2", "--no-chart", "--quiet"]);
    let base = tmp.path().join("output/retry-strategies");
    for dir in [base.clone(), base.join("variant-full-jitter"), base.join("sweep")] {
        assert!(dir.join("report.html").exists(), "{}", dir.display());
    }
}

/// A quota shared by more sub-accounts than the table shows says how many more, and where they are.
#[test]
fn the_table_says_how_many_sub_accounts_it_leaves_out() {
    let tmp = tempfile::tempdir().unwrap();
    let out = quotasim(&[
        "run",
        &scenario_path("replay-access-log.toml"),
        "--out",
        tmp.path().to_str().unwrap(),
        "--no-chart",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("more sub-accounts of acme / CompareFace (summary.csv)"), "{text}");
    assert!(text.contains("more sub-accounts of acme / RecognizeCharacter (summary.csv)"), "{text}");
}

/// `--open` with a launcher that fails (xdg-open exits 3 on a machine without a desktop) prints the path,
/// as the help promises, instead of saying nothing.
#[test]
fn open_prints_the_path_when_the_launcher_fails() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for name in ["xdg-open", "gio", "sensible-browser"] {
        let path = bin.join(name);
        std::fs::write(&path, "#!/bin/sh\nexit 3\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // Said on standard error, with or without --quiet: a request not met is not chatter.
    for quiet in [false, true] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
            .args([
                "run",
                &scenario_path("quickstart.toml"),
                "--out",
                tmp.path().join("o").to_str().unwrap(),
                "--no-chart",
                "--open",
            ])
            .args(quiet.then_some("--quiet"))
            .env("PATH", &bin)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stderr).unwrap();
        assert!(text.contains("no viewer to open it with; it is at") && text.contains("report.html"), "{text}");
        assert_eq!(out.stdout.is_empty(), quiet);
    }
}

/// Errors speak the scenario's language: a misspelt key gets "did you mean", a value of the wrong form an
/// example, never a Rust type name.
#[test]
fn errors_suggest_and_show_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(scenario_path("quickstart.toml")).unwrap();
    for (from, to, words) in [
        ("threads = 8", "theads = 8", &["client[0].theads", "did you mean `threads`?"][..]),
        (
            "latency = { dist = \"exponential\", mean = \"500ms\" }",
            "latency = \"500ms\"",
            &["api[0].latency", "latency = { dist ="][..],
        ),
        ("duration = \"10m\"", "duration = 600", &["duration", "durations are text with a unit"][..]),
        ("model = \"closed\"", "model = \"closd\"", &["client[0].model", "did you mean `closed`?"][..]),
    ] {
        assert!(base.contains(from), "{from}");
        let path = tmp.path().join("s.toml");
        std::fs::write(&path, base.replacen(from, to, 1)).unwrap();
        let out = quotasim(&["check", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        for w in words {
            assert!(err.contains(w), "{to}: expected `{w}` in {err}");
        }
        assert!(!err.contains("struct Raw") && !err.contains("i64"), "{err}");
    }
    let out = quotasim(&["advise", &scenario_path("quickstart.toml"), "--target", "throtle_rate<=1%"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `throttle_rate`?"));
    // A missing `start` points at the top level's first key (not line 1, a comment) and shows one.
    let text: String = base.lines().filter(|l| !l.starts_with("start = ")).map(|l| format!("{l}\n")).collect();
    let first_key = text.lines().position(|l| !l.trim().is_empty() && !l.starts_with('#')).unwrap() + 1;
    let path = tmp.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    let err = String::from_utf8_lossy(&quotasim(&["check", path.to_str().unwrap()]).stderr).into_owned();
    assert!(
        err.contains(&format!("s.toml:{first_key}: start: missing field `start`")) && err.contains("e.g. `start = "),
        "{err}"
    );
}

/// `quotasim init` writes a scenario that runs as it is, never over an existing file; a package that takes
/// effect only after the run is warned about.
#[test]
fn init_writes_a_runnable_scenario_and_late_packages_are_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("mine.toml");
    let out =
        quotasim(&["init", file.to_str().unwrap(), "--threads", "4", "--response", "250ms", "--plan", "prepaid:10"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("threads = 4") && text.contains("want about 16 QPS"), "{text}");
    let out = quotasim(&["run", file.to_str().unwrap(), "--out", tmp.path().join("o").to_str().unwrap(), "--no-chart"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("want 16 QPS; 10 allowed (prepaid-qps)"));
    let again = quotasim(&["init", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "left as it was");
    assert_eq!(
        quotasim(&["init", tmp.path().join("x.toml").to_str().unwrap(), "--plan", "lots"]).status.code(),
        Some(2)
    );
    // package-next-day's second package is bought at 07:59 and takes effect the next day, after the run.
    let out = quotasim(&["check", &scenario_path("package-next-day.toml")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning: resource package `late-pack` takes effect at"));
}

/// A scenario error reads as cargo writes one: the message with `file:line: key`, then the offending line
/// with a caret under the key and the hint as `help:`.
#[test]
fn a_scenario_error_shows_its_line_with_a_caret_and_a_help() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let base = "name = \"x\"\nstart = \"2026-11-26T09:00:00+08:00\"\nduration = \"10m\"\n[[api]]\nname = \"A\"\n\
                latency = { dist = \"constant\", mean = \"500ms\" }\n[[account]]\nname = \"acme\"\n[[client]]\n\
                name = \"w\"\naccount = \"acme\"\napi = \"A\"\nmodel = \"closed\"\n";
    let cases = [
        ("theads = 4\n", "14 | theads = 4\n   | ^^^^^^\n   = help: did you mean `threads`?"),
        (
            "threads = 4\nretry = { policy = \"fulljitter\" }\n",
            "15 | retry = { policy = \"fulljitter\" }\n   |           ^^^^^^\n   = help: did you mean `policy = \"exponential\", jitter = \"full\"`",
        ),
    ];
    for (tail, expected) in cases {
        std::fs::write(&path, format!("{base}{tail}")).unwrap();
        let o = quotasim(&["check", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.starts_with("error: ") && stderr.contains("bad.toml:1"), "{stderr}");
        assert!(stderr.contains(&format!("  --> {}:", path.display())), "{stderr}");
        assert!(stderr.contains(expected), "expected\n{expected}\nin\n{stderr}");
    }
}
