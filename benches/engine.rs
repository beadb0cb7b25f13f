//! The closed-loop model of the foundation issue: 4 threads, limit 2, exponential responses with mean
//! 500 ms, throttle latency 10 ms, fixed 1 s retry wait, over 6 simulated hours.
//!
//! `full` is the simulator with statistics on; `bare` is the floor: a std `BinaryHeap` of (time, seq) with
//! the same model and no statistics. Both report attempts per second of wall time.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quotasim::engine::{self, RunOptions};
use quotasim::rng::{Purpose, stream};
use quotasim::scenario::Scenario;
use rand_distr::{Distribution, Exp1};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

const HOURS: u64 = 6;
const SECOND: u64 = 1_000_000_000;

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

/// The same model with nothing but a heap, a window counter and the random draws. Returns attempts.
fn bare_loop(end: u64) -> u64 {
    const THREADS: u32 = 4;
    let (limit, mean, throttle, wait, max_attempts) = (2u32, 500_000_000f64, 10_000_000u64, SECOND, 10u32);
    let mut rng = stream(1, 0, Purpose::Latency);
    // (time, seq, thread, kind): kind 0 = send, 1 = admitted response back, 2 = throttled response back.
    let mut heap = BinaryHeap::new();
    let mut attempts_of = [0u32; THREADS as usize];
    let (mut seq, mut window, mut count, mut attempts) = (0u64, u64::MAX, 0u32, 0u64);
    for t in 0..THREADS {
        heap.push(Reverse((0u64, seq, t, 0u8)));
        seq += 1;
    }
    while let Some(Reverse((now, _, t, kind))) = heap.pop() {
        let next = match kind {
            0 => {
                attempts += 1;
                attempts_of[t as usize] += 1;
                if now / SECOND != window {
                    window = now / SECOND;
                    count = 0;
                }
                if count < limit {
                    count += 1;
                    let x: f64 = Exp1.sample(&mut rng);
                    Some((now + (x * mean) as u64, 1))
                } else {
                    Some((now + throttle, 2))
                }
            }
            1 => {
                attempts_of[t as usize] = 0;
                Some((now, 0))
            }
            _ if attempts_of[t as usize] < max_attempts => Some((now + wait, 0)),
            _ => {
                attempts_of[t as usize] = 0;
                Some((now, 0))
            }
        };
        if let Some((time, kind)) = next.filter(|(time, _)| *time < end) {
            heap.push(Reverse((time, seq, t, kind)));
            seq += 1;
        }
    }
    attempts
}

fn closed_loop(c: &mut Criterion) {
    let sc = scenario();
    let options = RunOptions::for_scenario(&sc);
    let out = engine::run(&sc, options).expect("the bench scenario runs");
    let attempts = out.recorder.cells.iter().map(|c| c.admitted + c.throttled).sum::<u64>();
    let bare_attempts = bare_loop(sc.duration);

    let mut group = c.benchmark_group("closed_loop_4_threads_limit_2");
    group.throughput(Throughput::Elements(attempts));
    group.bench_function(BenchmarkId::new("full", format!("{HOURS}h")), |b| {
        b.iter(|| engine::run(black_box(&sc), options).expect("runs"))
    });
    group.throughput(Throughput::Elements(bare_attempts));
    group.bench_function(BenchmarkId::new("bare", format!("{HOURS}h")), |b| {
        b.iter(|| bare_loop(black_box(sc.duration)))
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
