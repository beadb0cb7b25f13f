//! quotasim against SimPy on the same closed loop (see `common/closed_loop.rs` and
//! `simpy_closed_loop.py`): C = 4, 10 and 100 threads over the same simulated time, each side timing its
//! simulation alone (not start-up or parsing), best of three; the bare heap loop of the model as the floor.
//! Prints nanoseconds per attempt and the ratios. Needs `python3` with `simpy` (`pip install simpy`);
//! without them it says so and measures quotasim and the floor only.
//!
//! `cargo bench --bench simpy`

#[path = "common/closed_loop.rs"]
mod closed_loop;

use quotasim::engine::{self, RunOptions};
use std::process::Command;
use std::time::Instant;

const SECOND: u64 = 1_000_000_000;
const REPEAT: usize = 3;
/// Attempts each case aims at: enough for SimPy to run about a second.
const ATTEMPTS: f64 = 3e5;

fn best<T>(mut f: impl FnMut() -> (T, f64)) -> (T, f64) {
    let mut out = f();
    for _ in 1..REPEAT {
        let next = f();
        if next.1 < out.1 {
            out = next;
        }
    }
    out
}

fn simpy(threads: u64, seconds: u64) -> Option<(u64, f64)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/simpy_closed_loop.py");
    let out = Command::new("python3").args([script, &threads.to_string(), &seconds.to_string()]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text.split_whitespace();
    Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

fn main() {
    let have_simpy = simpy(1, 1).is_some();
    if !have_simpy {
        println!("python3 with simpy not found (pip install simpy): quotasim and the floor only");
    }
    println!(
        "{:>5} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "C", "attempts", "ns/att", "floor", "vs floor", "SimPy", "speed-up"
    );
    for threads in [4u64, 10, 100] {
        // About 1.5 C attempts a simulated second (C admitted, and throttled retries).
        let seconds = (ATTEMPTS / (1.5 * threads as f64)).ceil() as u64;
        let sc = closed_loop::scenario(threads, seconds);
        let (attempts, wall) = best(|| {
            let t = Instant::now();
            let out = engine::run(&sc, RunOptions::for_scenario(&sc)).expect("the bench scenario runs");
            let wall = t.elapsed().as_secs_f64();
            (out.recorder.cells.iter().map(|c| c.admitted + c.throttled).sum::<u64>(), wall)
        });
        let (floor_attempts, floor_wall) = best(|| {
            let t = Instant::now();
            let a = closed_loop::bare_loop(threads, seconds * SECOND);
            (a, t.elapsed().as_secs_f64())
        });
        let ns = wall * 1e9 / attempts as f64;
        let floor_ns = floor_wall * 1e9 / floor_attempts as f64;
        let reference = if have_simpy {
            let (a, w) = best(|| simpy(threads, seconds).map_or((0, f64::INFINITY), |(a, w)| (a, w)));
            let simpy_ns = w * 1e9 / a as f64;
            format!("{:>10.0} {:>9.1}x", simpy_ns, simpy_ns / ns)
        } else {
            String::new()
        };
        println!("{threads:>5} {attempts:>9} {ns:>10.1} {floor_ns:>10.1} {:>9.2}x {reference}", ns / floor_ns);
    }
}
