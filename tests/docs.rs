//! The numbers the README and the bundled scenarios' comments quote are recomputed here, so that they stay
//! true when the engine or the data change: the retry-strategy rankings from the sweeps themselves, and
//! the llm-tokens comment from the Azure trace.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The ranking table a sweep prints: its `rank` header and one line per point.
fn ranking(scenario: &str) -> String {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["sweep", root().join("scenarios").join(scenario).to_str().unwrap()])
        .args(["--out", out_dir.path().to_str().unwrap(), "--no-chart"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("rank ") || l.split_whitespace().next().is_some_and(|w| w.parse::<u32>().is_ok()))
        .collect();
    assert!(rows.len() > 2, "{text}");
    rows.join("\n")
}

#[test]
fn the_readmes_strategy_rankings_are_what_the_sweeps_print() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for scenario in ["retry-strategies.toml", "retry-strategies-open.toml"] {
        let table = ranking(scenario);
        assert!(readme.contains(&table), "README's table for {scenario} differs from the sweep's:\n{table}");
    }
}

/// A number written with thousands separators in `text` right before `words`.
fn number_before(text: &str, words: &str) -> f64 {
    let at = text.find(words).unwrap_or_else(|| panic!("`{words}` is not in the text"));
    let head = text[..at].trim_end();
    let start = head.rfind(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.')).map_or(0, |i| i + 1);
    head[start..].replace(',', "").parse().unwrap_or_else(|_| panic!("no number before `{words}`"))
}

#[test]
fn the_llm_tokens_comment_matches_the_trace() {
    let shared = root().join("../shared/traces/azure_llm_2023");
    if !shared.exists() {
        eprintln!("skipped: ../shared/traces is not beside the checkout");
        return;
    }
    let comment: String = std::fs::read_to_string(root().join("scenarios/llm-tokens.toml"))
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ");
    // Per trace: calls, tokens, and per clock minute the busiest calls and tokens.
    let stats = |name: &str| {
        let mut reader = csv::Reader::from_path(shared.join(name)).unwrap();
        let (mut calls, mut tokens) = (0u64, 0u64);
        let mut minutes: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for row in reader.records() {
            let row = row.unwrap();
            let t: u64 = row[1].parse::<u64>().unwrap() + row[2].parse::<u64>().unwrap();
            calls += 1;
            tokens += t;
            let m = minutes.entry(row[0][..16].to_string()).or_default();
            m.0 += 1;
            m.1 += t;
        }
        let busiest_calls = minutes.values().map(|m| m.0).max().unwrap();
        let busiest_tokens = minutes.values().map(|m| m.1).max().unwrap();
        (tokens as f64 / calls as f64, busiest_calls, busiest_tokens)
    };
    let (code_mean, code_calls, code_tokens) = stats("AzureLLMInferenceTrace_code.csv");
    let (_, conv_calls, conv_tokens) = stats("AzureLLMInferenceTrace_conv.csv");
    assert_eq!(number_before(&comment, "tokens a call on average"), code_mean.round(), "{code_mean}");
    let said = number_before(&comment, "million tokens in its busiest minute") * 1e6;
    assert!((said - code_tokens as f64).abs() < 0.005e6, "{code_tokens}");
    assert!(code_calls < 600 && comment.contains("never 600 calls"), "{code_calls}");
    assert_eq!(number_before(&comment, "calls a minute") as u64, conv_calls);
    assert!(conv_tokens < 1_000_000 && comment.contains("never a million tokens"), "{conv_tokens}");
}

/// The README's quickstart shows what the quickstart prints, verdict first.
#[test]
fn the_readmes_quickstart_output_is_what_it_prints() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["run", root().join("scenarios/quickstart.toml").to_str().unwrap()])
        .args(["--out", out_dir.path().to_str().unwrap(), "--no-chart"])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for line in text.lines().filter(|l| !l.starts_with("wrote ") && !l.contains("quotasim advise ")) {
        assert!(readme.contains(line), "the README's quickstart lacks: {line}");
    }
}

/// The README's worked purchase is what `advise` prints for it.
#[test]
fn the_readmes_worked_purchase_is_what_advise_prints() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quotasim"))
        .args(["advise", root().join("scenarios/plan-shopping.toml").to_str().unwrap()])
        .args(["--target", "throttle_rate<=1%", "--out", out_dir.path().to_str().unwrap(), "--no-chart"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for line in text.lines().filter(|l| !l.starts_with("wrote ")) {
        assert!(readme.contains(line), "the README's worked purchase lacks: {line}");
    }
}
