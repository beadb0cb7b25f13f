//! Helpers shared by the integration tests: scenario text builders and a library-level run.
#![allow(dead_code)]

use quotasim::engine::{self, RunOptions};
use quotasim::report::Report;
use quotasim::scenario::Scenario;
use std::path::{Path, PathBuf};

/// A scenario with one account `acme`, one API `Api` (limit `qps`, response time `latency` as a TOML
/// inline table) and the given `[[client]]` tables.
pub fn scenario_text(duration: &str, qps: u32, latency: &str, throttle_latency: &str, clients: &str) -> String {
    format!(
        r#"
name = "test"
seed = 11
start = "2026-11-26T09:00:00+08:00"
duration = "{duration}"

[server]
throttle_latency = "{throttle_latency}"

[[api]]
name = "Api"
qps = {qps}
latency = {latency}

[[account]]
name = "acme"

{clients}
"#
    )
}

pub fn closed_client(name: &str, threads: u32, retry: &str) -> String {
    format!(
        "[[client]]\nname = \"{name}\"\naccount = \"acme\"\napi = \"Api\"\nmodel = \"closed\"\nthreads = {threads}\nretry = {retry}\n"
    )
}

pub fn open_client(name: &str, sub_account: &str, rate: f64, arrivals: &str, retry: &str) -> String {
    format!(
        "[[client]]\nname = \"{name}\"\naccount = \"acme\"\nsub_account = \"{sub_account}\"\napi = \"Api\"\nmodel = \"open\"\nrate = {rate}\narrivals = \"{arrivals}\"\nretry = {retry}\n"
    )
}

pub const NO_RETRY: &str = "{ policy = \"none\" }";

pub fn run_text(text: &str) -> (Scenario, Report) {
    let sc = Scenario::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let out = engine::run(&sc, RunOptions::for_scenario(&sc)).unwrap_or_else(|e| panic!("{e}"));
    let report = Report::new(&sc, out);
    (sc, report)
}

pub fn run_with_bin(text: &str, bin: u64) -> (Scenario, Report) {
    let sc = Scenario::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let out = engine::run(
        &sc,
        RunOptions { bin, skip_bad_rows: false, budget: Default::default(), held: None, clairvoyant: false },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let report = Report::new(&sc, out);
    (sc, report)
}

/// P(N = k) for N ~ Poisson(lambda), k = 0..=max.
pub fn poisson_pmf(lambda: f64, max: usize) -> Vec<f64> {
    let mut p = vec![(-lambda).exp()];
    for k in 1..=max {
        let prev = p[k - 1];
        p.push(prev * lambda / k as f64);
    }
    p
}

/// Every bundled scenario file, sorted.
pub fn bundled_scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}
