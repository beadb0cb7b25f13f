//! Scale, one axis at a time, each case in a fresh process so its peak memory (VmHWM) is its own:
//! - `threads`: a closed loop of C = 10 … 10^6 threads (exponential 500 ms responses, limit C QPS, so
//!   demand is twice the limit; 10 ms throttle replies, 1 s fixed retries), against the floor: a bare std
//!   `BinaryHeap` loop of the same model with no statistics;
//! - `callers`: replaying 10 M CSV rows from 10^2 … 10^6 distinct callers (each a sub-account);
//! - `pairs`: one client in a scenario that declares 10^2 … 10^5 (account, API) pairs;
//! - `subs`: the same open load from 1 client or from 10^4 open clients in 10^4 sub-accounts;
//! - `validate`: parsing and validating scenarios of 10^3 … 10^5 clients.
//!
//! `cargo bench --bench scale` runs every axis; `cargo bench --bench scale -- threads` one of them;
//! `-- quick` fewer and smaller cases. Times are wall seconds of the run alone (scenario parsing and file
//! writing excluded), the best of three fresh processes; RSS is the process's peak.

#[path = "common/closed_loop.rs"]
mod closed_loop;

use quotasim::engine::{self, RunOptions};
use quotasim::scenario::Scenario;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const SECOND: u64 = 1_000_000_000;
/// Attempts each threads case aims at, so every size runs long enough to time.
const THREAD_ATTEMPTS: f64 = 2e7;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn threads_duration_s(threads: u64) -> u64 {
    // About 2 C attempts a second (C admitted, C throttled retries).
    ((THREAD_ATTEMPTS / (2.0 * threads as f64)).ceil() as u64).max(10)
}

fn threads_scenario(threads: u64) -> Scenario {
    closed_loop::scenario(threads, threads_duration_s(threads))
}

fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data")
}

/// 10 M rows at 200 a second from `callers` callers, written once.
fn caller_trace(callers: u64, rows: u64) -> PathBuf {
    let path = bench_dir().join(format!("callers-{callers}-{rows}.csv"));
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(bench_dir()).unwrap();
    let tmp = path.with_extension("tmp");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
    writeln!(w, "unix_ns,caller,api").unwrap();
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
    let mut t = 1_795_000_000_000_000_000f64;
    for i in 0..rows {
        let gap: f64 = Exp1.sample(&mut rng);
        t += gap / 200.0 * 1e9;
        writeln!(w, "{},caller-{},A", t as i64, i % callers).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    std::fs::rename(tmp, &path).unwrap();
    path
}

fn callers_scenario(trace: &Path, rows: u64) -> Scenario {
    let hours = (rows as f64 / 200.0 / 3_600.0).ceil() as u64 + 1;
    let text = format!(
        r#"
name = "scale-callers"
start = "2026-11-18T00:00:00Z"
duration = "{hours}h"
[[api]]
name = "A"
qps = 200
latency = {{ dist = "exponential", mean = "100ms" }}
[[account]]
name = "acme"
[[client]]
name = "log"
account = "acme"
model = "trace"
[client.trace]
path = "{}"
time = "unix_ns"
time_format = "unix-ns"
caller = "caller"
api_field = "api"
shift = true
"#,
        trace.display()
    );
    Scenario::parse(&text, "scale").expect("the bench scenario is valid")
}

fn pairs_scenario(accounts: u64, apis: u64) -> Scenario {
    let mut text = String::from("name = \"scale-pairs\"\nstart = \"2026-11-26T09:00:00+08:00\"\nduration = \"10m\"\n");
    for a in 0..apis {
        text += &format!("[[api]]\nname = \"api-{a}\"\nlatency = {{ dist = \"exponential\", mean = \"100ms\" }}\n");
    }
    for a in 0..accounts {
        text += &format!("[[account]]\nname = \"acct-{a}\"\n");
    }
    text += "[[client]]\nname = \"c\"\naccount = \"acct-0\"\napi = \"api-0\"\nmodel = \"open\"\nrate = 1.5\n";
    Scenario::parse(&text, "scale").expect("the bench scenario is valid")
}

fn subs_scenario(clients: u64) -> Scenario {
    Scenario::parse(&subs_text(clients), "scale").expect("the bench scenario is valid")
}

fn subs_text(clients: u64) -> String {
    let mut text = String::from(
        "name = \"scale-subs\"\nstart = \"2026-11-26T09:00:00+08:00\"\nduration = \"1h\"\n\
         [[api]]\nname = \"A\"\nqps = 1000\nlatency = { dist = \"exponential\", mean = \"100ms\" }\n\
         [[account]]\nname = \"acme\"\n",
    );
    let rate = 1_000.0 / clients as f64;
    for c in 0..clients {
        text += &format!(
            "[[client]]\nname = \"c{c}\"\naccount = \"acme\"\nsub_account = \"s{c}\"\napi = \"A\"\nmodel = \"open\"\nrate = {rate}\n"
        );
    }
    text
}

/// Runs one case in this process and prints `attempts wall_s rss_mib`.
fn child(kind: &str, n: u64, rows: u64) {
    let (attempts, wall) = match kind {
        "floor" => {
            let t = Instant::now();
            let attempts = closed_loop::bare_loop(n, threads_duration_s(n) * SECOND);
            (attempts, t.elapsed().as_secs_f64())
        }
        _ => {
            let sc = match kind {
                "threads" => threads_scenario(n),
                "callers" => callers_scenario(&caller_trace(n, rows), rows),
                "pairs" => pairs_scenario(n / 100, 100),
                _ => subs_scenario(n),
            };
            let t = Instant::now();
            let out = engine::run(&sc, RunOptions::for_scenario(&sc)).expect("the bench scenario runs");
            let wall = t.elapsed().as_secs_f64();
            let attempts = out.recorder.cells.iter().map(|c| c.admitted + c.throttled).sum::<u64>();
            (attempts, wall)
        }
    };
    println!("{attempts} {wall} {}", peak_rss_mib());
}

/// Runs a case in fresh processes, best of `REPEAT` (wall time varies from run to run on a shared machine;
/// the fastest is the least disturbed). Returns attempts, wall seconds and peak RSS.
fn measure(kind: &str, n: u64, rows: u64) -> (u64, f64, f64) {
    const REPEAT: usize = 3;
    let mut best: (u64, f64, f64) = (0, f64::INFINITY, 0.0);
    for _ in 0..REPEAT {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--case", kind, &n.to_string(), &rows.to_string()])
            .output()
            .expect("the bench re-runs itself");
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.split_whitespace().collect();
        assert!(f.len() == 3, "{kind} {n}: {text} {}", String::from_utf8_lossy(&out.stderr));
        let (a, w, rss): (u64, f64, f64) = (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap());
        if w < best.1 {
            best = (a, w, best.2.max(rss));
        } else {
            best.2 = f64::max(best.2, rss);
        }
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        child(&args[i + 1], args[i + 2].parse().unwrap(), args[i + 3].parse().unwrap());
        return;
    }
    let quick = args.iter().any(|a| a == "quick");
    let wanted = |axis: &str| args.iter().all(|a| a.starts_with('-') || a == "quick") || args.iter().any(|a| a == axis);
    if wanted("threads") {
        println!("threads: closed loop, limit C, demand 2C/s");
        println!(
            "{:>9} {:>12} {:>9} {:>13} {:>9} {:>9} {:>10}",
            "C", "attempts", "wall s", "attempts/s", "RSS MiB", "floor s", "vs floor"
        );
        let sizes: &[u64] = if quick { &[10, 10_000] } else { &[10, 1_000, 10_000, 100_000, 1_000_000] };
        for &c in sizes {
            let (a, w, rss) = measure("threads", c, 0);
            let (_, fw, _) = measure("floor", c, 0);
            println!("{c:>9} {a:>12} {w:>9.3} {:>13.0} {rss:>9.1} {fw:>9.3} {:>9.2}x", a as f64 / w, w / fw);
        }
    }
    if wanted("callers") {
        let rows = if quick { 1_000_000 } else { 10_000_000 };
        println!("callers: {rows} CSV rows replayed, each caller a sub-account");
        println!("{:>9} {:>9} {:>13} {:>9}", "callers", "wall s", "rows/s", "RSS MiB");
        let sizes: &[u64] = if quick { &[100, 100_000] } else { &[100, 10_000, 100_000, 1_000_000] };
        for &n in sizes {
            let (_, w, rss) = measure("callers", n, rows);
            println!("{n:>9} {w:>9.3} {:>13.0} {rss:>9.1}", rows as f64 / w);
        }
    }
    if wanted("pairs") {
        println!("pairs: one open client (1.5/s, 10 min) in a scenario declaring accounts x 100 APIs");
        println!("{:>9} {:>9} {:>9}", "pairs", "wall s", "RSS MiB");
        let sizes: &[u64] = if quick { &[100, 100_000] } else { &[100, 1_000, 10_000, 100_000] };
        for &n in sizes {
            let (_, w, rss) = measure("pairs", n, 0);
            println!("{n:>9} {w:>9.3} {rss:>9.1}");
        }
    }
    if wanted("validate") {
        println!("validate: parsing and validating a scenario of N open clients in N sub-accounts");
        println!("{:>9} {:>9}", "clients", "wall s");
        for n in [1_000u64, 10_000, 100_000] {
            let text = subs_text(n);
            let t = Instant::now();
            let sc = Scenario::parse(&text, "scale").expect("valid");
            println!("{:>9} {:>9.3}", sc.clients.len(), t.elapsed().as_secs_f64());
        }
    }
    if wanted("subs") {
        println!("subs: 1,000 requests a second for an hour from N open clients in N sub-accounts");
        println!("{:>9} {:>12} {:>9} {:>9}", "clients", "attempts", "wall s", "RSS MiB");
        for n in [1u64, 10_000] {
            let (a, w, rss) = measure("subs", n, 0);
            println!("{n:>9} {a:>12} {w:>9.3} {rss:>9.1}");
        }
    }
}
