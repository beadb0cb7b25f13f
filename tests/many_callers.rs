//! A replay of many callers: summary.json names the top callers and leaves every row to summary.csv.

use std::io::Write;
use std::process::Command;

/// 1,500 callers, caller k making k mod 7 + 1 requests a few milliseconds apart against 5 QPS, none
/// retried: the busiest are throttled most.
fn write_case(dir: &std::path::Path, callers: u64) -> std::path::PathBuf {
    let trace = dir.join("calls.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&trace).unwrap());
    writeln!(w, "unix_ms,caller,api").unwrap();
    let mut t = 1_795_000_000_000u64;
    for k in 0..callers {
        for _ in 0..(k % 7 + 1) {
            t += 3;
            writeln!(w, "{t},caller-{k},A").unwrap();
        }
    }
    w.flush().unwrap();
    let scenario = dir.join("many.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"many\"\nstart = \"2026-11-18T00:00:00Z\"\nduration = \"1h\"\n[[api]]\nname = \"A\"\nqps = 5\n\
             latency = {{ dist = \"constant\", mean = \"10ms\" }}\n[[account]]\nname = \"acme\"\n[[client]]\n\
             name = \"log\"\naccount = \"acme\"\nmodel = \"trace\"\n[client.trace]\npath = \"{}\"\ntime = \"unix_ms\"\n\
             time_format = \"unix-ms\"\ncaller = \"caller\"\napi_field = \"api\"\nshift = true\n",
            trace.display().to_string().replace('\\', "/")
        ),
    )
    .unwrap();
    scenario
}

fn run(scenario: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let status = Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--no-confirm"])
        .args(extra)
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn past_a_thousand_rows_summary_json_names_the_top_callers() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_case(dir.path(), 1_500);
    let summary = run(&scenario, &dir.path().join("out"), &["--top", "5"]);
    assert!(summary.get("by_sub_account").is_none(), "the rows moved to summary.csv");
    let top = &summary["top_callers"];
    assert_eq!(top["rows"], 1_500);
    assert_eq!(top["file"], "summary.csv");
    let csv = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 1_500);
    // The top five by requests each made 7 (callers 6, 13, 20, …: the first in row order on ties), and
    // by throttles are in falling order and no fewer than any row of summary.csv past them.
    let by_requests = top["by_requests"].as_array().unwrap();
    assert_eq!(by_requests.len(), 5);
    assert!(by_requests.iter().all(|r| r["requests"] == 7));
    let throttled: Vec<u64> =
        top["by_throttles"].as_array().unwrap().iter().map(|r| r["throttled"].as_u64().unwrap()).collect();
    assert!(throttled.windows(2).all(|w| w[0] >= w[1]), "{throttled:?}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let column = reader.headers().unwrap().iter().position(|h| h == "throttled").unwrap();
    let mut all: Vec<u64> = reader.records().map(|r| r.unwrap()[column].parse::<f64>().unwrap() as u64).collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(throttled, all[..5].to_vec());
}

#[test]
fn up_to_a_thousand_rows_summary_json_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_case(dir.path(), 1_000);
    let summary = run(&scenario, &dir.path().join("out"), &[]);
    assert_eq!(summary["by_sub_account"].as_array().unwrap().len(), 1_000);
    assert!(summary.get("top_callers").is_none());
}
