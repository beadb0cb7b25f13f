//! Replaying a 10-million-row CSV trace: rows per second and peak memory, against the floor of the csv
//! crate reading the same file and doing nothing else. Run with `cargo bench --bench trace_replay`
//! (`-- ROWS` for another size). The file is written once under target/bench-data/.
//!
//! Peak memory is the process's high-water mark (VmHWM) after the replay: the replay streams, so it must
//! not grow with the file.

use quotasim::engine::{self, RunOptions};
use quotasim::scenario::Scenario;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

const RATE: f64 = 200.0;
const START_NS: i64 = 1_795_000_000_000_000_000;

fn write_trace(path: &Path, rows: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    let tmp = path.with_extension("tmp");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    writeln!(w, "unix_ns,caller,api")?;
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(1);
    let mut t = START_NS as f64;
    for i in 0..rows {
        let gap: f64 = Exp1.sample(&mut rng);
        t += gap / RATE * 1e9;
        writeln!(w, "{},caller-{},A", t as i64, i % 100)?;
    }
    w.flush()?;
    drop(w);
    std::fs::rename(tmp, path)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let rows: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let path = dir.join(format!("trace-{rows}.csv"));
    if !path.exists() {
        let t = Instant::now();
        write_trace(&path, rows).expect("the bench trace is written");
        println!("wrote {} ({rows} rows) in {:.1} s", path.display(), t.elapsed().as_secs_f64());
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let rss_before = peak_rss_kib().unwrap_or(0);

    let hours = (rows as f64 / RATE / 3_600.0).ceil() as u64 + 1;
    let text = format!(
        r#"
name = "trace-replay-bench"
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
trace = {{ path = "{}", time = "unix_ns", time_format = "unix-ns", caller = "caller", api_field = "api" }}
"#,
        path.display()
    );
    let sc = Scenario::parse(&text, "bench").expect("the bench scenario is valid");
    let t = Instant::now();
    let out = engine::run(&sc, RunOptions::for_scenario(&sc)).expect("the trace replays");
    let replay_s = t.elapsed().as_secs_f64();
    let rss_replay = peak_rss_kib().unwrap_or(0);
    let replayed = out.traces[0].rows;
    assert_eq!(replayed, rows);

    let t = Instant::now();
    let mut reader = csv::Reader::from_path(&path).expect("the trace opens");
    let mut record = csv::ByteRecord::new();
    let mut floor_rows = 0u64;
    while reader.read_byte_record(&mut record).expect("rows read") {
        floor_rows += 1;
    }
    let floor_s = t.elapsed().as_secs_f64();
    assert_eq!(floor_rows, rows);

    println!("trace: {rows} rows, {:.0} MB", bytes as f64 / 1e6);
    println!(
        "replay: {replay_s:.2} s, {:.2} M rows/s; peak RSS {:.1} MB (before the replay {:.1} MB)",
        rows as f64 / replay_s / 1e6,
        rss_replay as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    println!(
        "csv floor (read every record, nothing else): {floor_s:.2} s, {:.2} M rows/s",
        rows as f64 / floor_s / 1e6
    );
    println!("replay / floor time: {:.2}x", replay_s / floor_s);
}
