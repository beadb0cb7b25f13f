//! The closed loop the engine, scale and SimPy benches share: C threads, exponential 500 ms responses, a
//! limit of C QPS (so demand is twice the limit), 10 ms throttle replies and 1 s fixed retries (10
//! attempts at most); as a scenario, and as the floor: a bare std `BinaryHeap` loop of the same model with
//! no statistics (and any limit). Each bench uses part of it.
#![allow(dead_code)]

use quotasim::rng::{Purpose, stream};
use quotasim::scenario::Scenario;
use rand_distr::{Distribution, Exp1};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const SECOND: u64 = 1_000_000_000;

/// The closed loop of C threads against a limit of C QPS for `seconds` of simulated time.
pub fn scenario(threads: u64, seconds: u64) -> Scenario {
    let text = format!(
        r#"
name = "scale-threads"
seed = 1
start = "2026-11-26T09:00:00+08:00"
duration = "{seconds}s"
[server]
throttle_latency = "10ms"
[[api]]
name = "Api"
qps = {threads}
latency = {{ dist = "exponential", mean = "500ms" }}
[[account]]
name = "acme"
[[client]]
name = "workers"
account = "acme"
api = "Api"
model = "closed"
threads = {threads}
retry = {{ policy = "fixed", wait = "1s", max_attempts = 10 }}
"#
    );
    Scenario::parse(&text, "scale").expect("the bench scenario is valid")
}

/// The same model with nothing but a std heap, a window counter and the draws. Returns attempts.
pub fn bare_loop(threads: u64, end: u64) -> u64 {
    bare_loop_limited(threads, threads, end)
}

/// The bare loop of `threads` against `limit` a second.
pub fn bare_loop_limited(threads: u64, limit: u64, end: u64) -> u64 {
    let (mean, throttle, wait, max_attempts) = (500_000_000f64, 10_000_000u64, SECOND, 10u32);
    let mut rng = stream(1, 0, Purpose::Latency);
    let mut heap = BinaryHeap::new();
    let mut attempts_of = vec![0u32; threads as usize];
    let (mut seq, mut window, mut count, mut attempts) = (0u64, u64::MAX, 0u64, 0u64);
    for t in 0..threads as u32 {
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
                    (now + (x * mean) as u64, 1)
                } else {
                    (now + throttle, 2)
                }
            }
            1 => {
                attempts_of[t as usize] = 0;
                (now, 0)
            }
            _ if attempts_of[t as usize] < max_attempts => (now + wait, 0),
            _ => {
                attempts_of[t as usize] = 0;
                (now, 0)
            }
        };
        if next.0 < end {
            heap.push(Reverse((next.0, seq, t, next.1)));
            seq += 1;
        }
    }
    attempts
}
