//! The closed-loop model of the foundation issue: 4 threads, limit 2, exponential responses with mean
//! 500 ms, throttle latency 10 ms, fixed 1 s retry wait, over 6 simulated hours.
//!
//! `full` is the simulator with statistics on; `bare` is the floor: a std `BinaryHeap` of (time, seq) with
//! the same model and no statistics. Both report attempts per second of wall time.

#[path = "common/closed_loop.rs"]
mod closed_loop;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quotasim::engine::{self, RunOptions};
use quotasim::scenario::Scenario;
use std::hint::black_box;

const HOURS: u64 = 6;

fn scenario() -> Scenario {
    scenario_with("retry = { policy = \"fixed\", wait = \"1s\", max_attempts = 10 }")
}

/// The same model with the client's `retry` (and any other keys) given as TOML lines.
fn scenario_with(client_extra: &str) -> Scenario {
    scenario_server(DEFAULT_SERVER, client_extra)
}

const DEFAULT_SERVER: &str = "";

/// The same model with `[server]` keys (a limiter) and client keys given as TOML lines.
fn scenario_server(server_extra: &str, client_extra: &str) -> Scenario {
    let text = format!(
        r#"
name = "bench"
seed = 1
start = "2026-11-26T09:00:00+08:00"
duration = "{HOURS}h"
[server]
throttle_latency = "10ms"
{server_extra}
[[api]]
name = "Api"
latency = {{ dist = "exponential", mean = "500ms" }}
[[account]]
name = "acme"
[[client]]
name = "workers"
account = "acme"
api = "Api"
model = "closed"
threads = 4
{client_extra}
"#
    );
    Scenario::parse(&text, "bench").expect("the bench scenario is valid")
}

fn closed_loop(c: &mut Criterion) {
    let sc = scenario();
    let options = RunOptions::for_scenario(&sc);
    let out = engine::run(&sc, options).expect("the bench scenario runs");
    let attempts = out.recorder.cells.iter().map(|c| c.admitted + c.throttled).sum::<u64>();
    let bare_attempts = closed_loop::bare_loop_limited(4, 2, sc.duration);

    let mut group = c.benchmark_group("closed_loop_4_threads_limit_2");
    group.throughput(Throughput::Elements(attempts));
    group.bench_function(BenchmarkId::new("full", format!("{HOURS}h")), |b| {
        b.iter(|| engine::run(black_box(&sc), options).expect("runs"))
    });
    group.throughput(Throughput::Elements(bare_attempts));
    group.bench_function(BenchmarkId::new("bare", format!("{HOURS}h")), |b| {
        b.iter(|| closed_loop::bare_loop_limited(4, 2, black_box(sc.duration)))
    });
    group.finish();

    // The strategies of the same clients: a pacer at the limit in front of exponential backoff with full
    // jitter, against the fixed 1 s retry above.
    let paced = scenario_with(
        "retry = { policy = \"exponential\", base = \"1s\", cap = \"30s\", jitter = \"full\" }\npace = { rate = 2 }",
    );
    let mut group = c.benchmark_group("strategies_4_threads_limit_2");
    group.bench_function(BenchmarkId::new("fixed", format!("{HOURS}h")), |b| {
        b.iter(|| engine::run(black_box(&sc), options).expect("runs"))
    });
    group.bench_function(BenchmarkId::new("paced-jitter", format!("{HOURS}h")), |b| {
        b.iter(|| engine::run(black_box(&paced), options).expect("runs"))
    });
    group.finish();

    // Each limiter on the same clients: the admission decision's cost in the whole loop. Limiters admit
    // different attempts, so compare attempts per second (the throughput), not times.
    let retry = "retry = { policy = \"fixed\", wait = \"1s\", max_attempts = 10 }";
    let limiters = [
        ("fixed-window", ""),
        ("sliding-log", "limiter = \"sliding-log\""),
        ("sliding-counter", "limiter = \"sliding-counter\""),
        ("token-bucket", "limiter = \"token-bucket\""),
        ("leaky-bucket", "limiter = \"leaky-bucket\"\nburst = 1\nnodelay = true"),
        ("two-windows", "windows = [{ window = \"1s\" }, { window = \"1m\", limit = 100 }]"),
    ];
    let mut group = c.benchmark_group("limiters_4_threads_limit_2");
    for (name, server) in limiters {
        let sc = scenario_server(server, retry);
        let out = engine::run(&sc, options).expect("the bench scenario runs");
        group.throughput(Throughput::Elements(out.recorder.cells.iter().map(|c| c.admitted + c.throttled).sum()));
        group.bench_function(BenchmarkId::new(name, format!("{HOURS}h")), |b| {
            b.iter(|| engine::run(black_box(&sc), options).expect("runs"))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = closed_loop
}
criterion_main!(benches);
