//! Golden outputs: every bundled scenario's `summary.json`, `summary.csv`, `timeseries.csv` and `billing.csv`
//! are byte-identical to the files under `tests/golden/<scenario>/`. A change that alters them on purpose
//! regenerates them in the same commit with `QUOTASIM_BLESS=1 cargo test --release --test golden` and says why.

mod common;

use std::path::Path;
use std::process::Command;

const FILES: [&str; 4] = ["summary.json", "summary.csv", "timeseries.csv", "billing.csv"];

#[test]
fn bundled_scenarios_match_their_golden_outputs() {
    let bless = std::env::var_os("QUOTASIM_BLESS").is_some();
    let golden_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut mismatches = Vec::new();
    for scenario in common::bundled_scenarios() {
        let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_quotasim"))
            .args(["run", scenario.to_str().unwrap(), "--out", tmp.path().to_str().unwrap(), "--quiet", "--no-chart"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let golden = golden_root.join(&name);
        for file in FILES {
            let got = std::fs::read(tmp.path().join(file)).unwrap();
            let path = golden.join(file);
            if bless {
                std::fs::create_dir_all(&golden).unwrap();
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if got != want {
                let line = got.split(|&b| b == b'\n').zip(want.split(|&b| b == b'\n')).position(|(a, b)| a != b);
                mismatches.push(format!("{name}/{file} differs (first at line {})", line.map_or(0, |l| l + 1)));
            }
        }
    }
    assert!(mismatches.is_empty(), "golden outputs changed:\n{}", mismatches.join("\n"));
}
