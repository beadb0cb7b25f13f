//! Sweeps: the admitted rate against threads follows min(C/R, L); outputs do not depend on threads or
//! sharding; bad sweep input is an exit-2 error naming the parameter.

mod common;

use common::*;
use quotasim::sweep::{self, SweepSpec, params::parse_param};
use std::path::Path;
use std::process::{Command, Output};

fn quotasim(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quotasim"));
    cmd.args(args)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn scenario() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep-threads.toml").display().to_string()
}

/// C threads with exponential responses of mean R = 0.5 s against L = 16 (L·R = 8), no retry. Far below
/// the knee (C = 1, 2) each thread is a Poisson process of rate 1/R, so a replication's admitted count over
/// T is Poisson(C·T/R) and the mean of n replications has standard error sqrt(C/(R·T·n)). Far above it
/// (C = 32, 64), every window fills: the admitted rate is L, never more.
#[test]
fn admitted_rate_follows_min_of_demand_and_limit() {
    let (seconds, reps, limit, mean_s) = (1_000.0, 5u32, 16.0, 0.5);
    let text = scenario_text(
        "1000s",
        16,
        "{ dist = \"exponential\", mean = \"500ms\" }",
        "10ms",
        &closed_client("workers", 1, NO_RETRY),
    );
    let spec = SweepSpec { params: vec![parse_param("client.workers.threads=1,2,32,64").unwrap()], zip: false, reps };
    let points = sweep::points(&text, "test.toml", &spec).unwrap();
    let results = sweep::run(&spec, &points, Some(2), &|| ()).unwrap();
    for p in &results {
        let threads: f64 = p.values[0].parse().unwrap();
        let admitted = p.metrics.iter().find(|m| m.metric == "admitted_qps").unwrap();
        assert_eq!(p.demand_qps, Some(threads / mean_s));
        let expected = (threads / mean_s).min(limit);
        if threads / mean_s < limit / 2.0 {
            let se = (threads / (mean_s * seconds * reps as f64)).sqrt();
            assert!(
                (admitted.mean - expected).abs() < 4.0 * se,
                "C={threads}: {} vs {expected} (se {se})",
                admitted.mean
            );
        } else {
            assert!(admitted.mean <= limit && admitted.mean >= 0.99 * limit, "C={threads}: {}", admitted.mean);
        }
        let limit_qps = p.metrics.iter().find(|m| m.metric == "limit_qps").unwrap();
        assert_eq!((limit_qps.low(), limit_qps.mean, limit_qps.high()), (limit, limit, limit));
    }
}

const FILES: [&str; 4] = ["sweep.json", "sweep.csv", "sweep-qps.png", "sweep-metrics.png"];

fn assert_same_files(a: &Path, b: &Path) {
    for f in FILES {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{f} differs between {} and {}", a.display(), b.display());
    }
}

#[test]
fn outputs_do_not_depend_on_jobs_or_sharding() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| tmp.path().join(name);
    let sc = scenario();
    let sweep_into = |out: &Path, extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "sweep",
            sc.as_str(),
            "--param",
            "client.workers.threads=1..=9",
            "--reps",
            "3",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = quotasim(&args, env);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    sweep_into(&dir("one"), &["--jobs", "1"], &[]);
    sweep_into(&dir("two"), &["--jobs", "2"], &[]);
    assert_same_files(&dir("one"), &dir("two"));

    // Three shards, chosen three ways: the flag, a Kubernetes Indexed Job, a Slurm array.
    sweep_into(&dir("s1"), &["--shard", "1/3"], &[]);
    sweep_into(&dir("s2"), &["--shards", "3"], &[("JOB_COMPLETION_INDEX", "1")]);
    sweep_into(&dir("s3"), &[], &[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "3")]);
    assert!(dir("s2").join("sweep-shard-2-of-3.json").exists());
    let o = quotasim(
        &[
            "merge",
            dir("s1").to_str().unwrap(),
            dir("s2").to_str().unwrap(),
            dir("s3").to_str().unwrap(),
            "--out",
            dir("merged").to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_files(&dir("one"), &dir("merged"));

    // A missing shard is refused.
    let o = quotasim(
        &["merge", dir("s1").to_str().unwrap(), dir("s3").to_str().unwrap(), "--out", dir("bad").to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("shard 2 of 3 is missing"));
}

#[test]
fn the_scenarios_own_sweep_table_is_used_when_no_param_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let o = quotasim(&["sweep", &scenario(), "--reps", "2", "--no-chart", "--out", tmp.path().to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(tmp.path().join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 17, "16 points of [sweep] param and a header");
    assert!(String::from_utf8_lossy(&o.stdout).contains("16 points × 2 replications"));
}

#[test]
fn bad_sweep_input_exits_2_naming_the_parameter() {
    let cases = [
        ("client.nobody.threads=1,2", "client.nobody.threads", "named `nobody`"),
        ("client.workers.thraeds=1,2", "client.workers.thraeds", "unknown field"),
        ("client.workers.threads=5..=1", "client.workers.threads", "empty"),
        ("client.workers.threads=many,more", "client.workers.threads", "whole number"),
        ("client.workers.threads=0,1", "client.workers.threads", "from 1 to"),
        ("client.workers.threads", "client.workers.threads", "KEY=VALUES"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (param, key, words) in cases {
        let o =
            quotasim(&["sweep", &scenario(), "--param", param, "--out", tmp.path().join("x").to_str().unwrap()], &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{param}: {stderr}");
        assert!(stderr.contains(key) && stderr.contains(words), "{param}: expected `{key}` and `{words}` in {stderr}");
        assert!(!tmp.path().join("x").exists(), "{param}: nothing is written");
    }
    // A grid over the cap: 200 × 200 points.
    let o = quotasim(
        &[
            "sweep",
            &scenario(),
            "--param",
            "client.workers.threads=1..=200",
            "--param",
            "api.Classify.qps=1..=200",
            "--out",
            tmp.path().join("x").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("client.workers.threads × api.Classify.qps"));
    let o = quotasim(
        &["sweep", &scenario(), "--param", "client.workers.threads=1,2", "--param", "api.Classify.qps=1,2,3", "--zip"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--zip"));
}

#[test]
fn a_key_given_twice_is_refused_and_the_seed_can_be_replaced() {
    let sc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep-threads.toml");
    let sc = sc.to_str().unwrap();
    let run = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_quotasim")).args(args).output().unwrap();
    let out =
        run(&["sweep", sc, "--param", "client.workers.threads=1,2", "--param", "client.workers.threads=3", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("given twice"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let base = ["sweep", sc, "--param", "client.workers.threads=2,4", "--reps", "2", "--no-chart", "--quiet"];
    let with = |extra: &[&str], out: &str| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        let d = dir(out);
        args.extend(["--out", d.as_str()]);
        assert!(run(&args).status.success());
        std::fs::read(tmp.path().join(out).join("sweep.json")).unwrap()
    };
    let (a, b, c) = (with(&[], "a"), with(&["--seed", "99"], "b"), with(&["--seed", "99"], "c"));
    assert_ne!(a, b, "another seed, other replications");
    assert_eq!(b, c, "the same seed, the same bytes");
}

/// A sweep reports each (account, API) beside the totals, and the bill when anything is priced; with one
/// replication its intervals are null and the terminal says why.
#[test]
fn sweeps_report_pairs_and_cost_and_no_interval_from_one_replication() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/plan-stacking.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["sweep", scenario.to_str().unwrap(), "--param", "client.steady.rate=4,12", "--reps", "1"])
        .args(["--out", tmp.path().to_str().unwrap(), "--no-chart"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no intervals"));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("sweep.json")).unwrap()).unwrap();
    for p in doc["points"].as_array().unwrap() {
        assert!(p["metrics"][0]["lo"].is_null() && p["metrics"][0]["hi"].is_null());
        assert_eq!(p["by_pair"][0]["pair"], "acme/CompareFace");
        // One pair: its metrics are the totals.
        assert_eq!(p["by_pair"][0]["metrics"], p["metrics"]);
        assert!(p["cost"]["mean"].as_f64().unwrap() > 0.0);
    }
    let csv = std::fs::read_to_string(tmp.path().join("sweep.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.contains(",cost_mean,") && header.contains("acme/CompareFace:throttle_rate_mean"), "{header}");
}

/// The heatmap's contour follows `--contour`, and a contour that is not a rate is refused before any run.
#[test]
fn the_heatmap_contour_follows_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep-threads.toml");
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_quotasim"))
            .args(["sweep", scenario.to_str().unwrap(), "--param", "client.workers.threads=1..=8"])
            .args(["--param", "api.Classify.latency.mean=100ms..=1s:300ms", "--reps", "2", "--format", "svg"])
            .args(["--out", tmp.path().to_str().unwrap(), "--quiet"])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(run(&["--contour", "10%"]).status.success());
    let svg = std::fs::read_to_string(tmp.path().join("sweep-heatmap.svg")).unwrap();
    assert!(svg.contains("10% throttled") && svg.contains("throttled"), "the key names the contour");
    let bad = run(&["--contour", "150%"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--contour"));
}
