//! `quotasim validate --quick`: every closed-form case passes, the analytic values are the ones the
//! formulas give, and the output does not depend on the thread count.

fn quotasim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_quotasim")).args(args).output().expect("the binary runs")
}

#[test]
fn the_quick_validation_passes_and_is_the_same_on_any_thread_count() {
    let one = quotasim(&["validate", "--quick", "--json", "--jobs", "1"]);
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    let two = quotasim(&["validate", "--quick", "--json", "--jobs", "2"]);
    assert_eq!(one.stdout, two.stdout, "results depend on the thread count");
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&one.stdout).unwrap();
    let metrics: Vec<&str> = checks.iter().map(|c| c["case"].as_str().unwrap()).collect();
    for family in ["fixed window", "first-call", "sliding log", "token bucket", "next window", "closed loop", "pacer"] {
        assert!(metrics.iter().any(|m| m.contains(family)), "no `{family}` case in {metrics:?}");
    }
    for c in &checks {
        assert_eq!(c["pass"], true, "{c}");
        let (lo, hi) = (c["ci95"][0].as_f64().unwrap(), c["ci95"][1].as_f64().unwrap());
        assert!(lo <= c["simulated"].as_f64().unwrap() && c["simulated"].as_f64().unwrap() <= hi);
    }
    // The analytic values, recomputed here from the formulas by other means.
    let analytic = |name: &str| {
        checks.iter().find(|c| c["case"].as_str().unwrap().contains(name)).unwrap()["analytic"].as_f64().unwrap()
    };
    // Erlang B(2, 3) = (9/2) / (1 + 3 + 9/2).
    assert!((analytic("sliding log") - 9.0 / 17.0).abs() < 1e-9);
    // E[(N − 2)+] / 3 for N ~ Poisson(3): (3 − 2 + 2 P(0) + P(1)) / 3.
    let e3 = (-3.0f64).exp();
    assert!((analytic("fixed window 1 s, Poisson λ=3/s") - (1.0 + 2.0 * e3 + 3.0 * e3) / 3.0).abs() < 1e-9);
    // Little: (6 − 2 × 0.5) / 0.3.
    assert!(checks.iter().any(|c| (c["analytic"].as_f64().unwrap() - 5.0 / 0.3).abs() < 1e-9));
    // M/D/1: λ d² / (2 (1 − ρ)) = 1.5 / 4 / 0.5.
    assert!((analytic("pacer") - 0.75).abs() < 1e-9);
}

#[test]
fn the_text_report_says_pass_for_each_check() {
    let out = quotasim(&["validate", "--quick"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().filter(|l| l.starts_with("PASS")).count() >= 8, "{text}");
    assert!(!text.contains("FAIL"));
}

#[test]
fn a_bad_jobs_count_is_an_input_error() {
    let out = quotasim(&["validate", "--quick", "--jobs", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jobs"));
}
