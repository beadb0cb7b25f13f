//! Plans over time and the bill: the FAQ's stacking example worked out by hand, package activation, shared
//! packages, the window at a change, tiered prices.

mod common;

use common::*;
use quotasim::report::Report;
use quotasim::scenario::Scenario;
use quotasim::time::NANOS_PER_SEC;
use std::path::Path;

fn load(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)).unwrap()
}

fn admitted_per_second(report: &Report, series: usize) -> Vec<u64> {
    assert_eq!(report.bin, NANOS_PER_SEC);
    report.series[series].bins.iter().map(|b| b.admitted).collect()
}

/// plan-stacking.toml: 12 calls a second, evenly spaced, no retries. 10 prepaid QPS until 1800 s; then the
/// package's 5 QPS, whose 9,000 calls last 1,800 s, so its last call falls in second 1800 + 1800 − 1 = 3599
/// (the 5th arrival of that second, 4/12 s in); then 2 QPS pay-as-you-go. The window's count carries
/// over, so second 3599 admits exactly the package's last 5.
#[test]
fn the_faq_stacking_example_steps_from_ten_to_five_to_two() {
    let (_, report) = run_with_bin(&load("plan-stacking.toml"), NANOS_PER_SEC);
    let admitted = admitted_per_second(&report, 0);
    assert_eq!(admitted.len(), 5_400);
    assert!(admitted[..1_800].iter().all(|&n| n == 10));
    assert!(admitted[1_800..3_600].iter().all(|&n| n == 5));
    assert!(admitted[3_600..].iter().all(|&n| n == 2));

    let phases = &report.summary.phases;
    let plans: Vec<(&str, u32)> = phases.iter().map(|p| (p.plan, p.limit_qps)).collect();
    assert_eq!(plans, [("prepaid-qps", 10), ("resource-package", 5), ("pay-as-you-go", 2)]);
    assert_eq!(phases[1].from, "2026-11-26T09:30:00+08:00");
    assert_eq!(phases[1].until, "2026-11-26T09:59:59.333333333+08:00");
    assert_eq!(phases[1].metrics.admitted, 9_000);
    assert_eq!(phases[2].until, "2026-11-26T10:30:00+08:00");

    // The bill: prepaid calls are free and draw on no package; the rest is pay-as-you-go.
    let bill = &report.summary.billing[0];
    assert_eq!((bill.under_prepaid_qps, bill.from_packages, bill.pay_as_you_go), (18_000, 9_000, 3_600));
    assert_eq!(bill.admitted, bill.under_prepaid_qps + bill.from_packages + bill.pay_as_you_go);
    assert_eq!(bill.packages[0].left, 0);
    assert_eq!(bill.packages[0].ran_out.as_deref(), Some("2026-11-26T09:59:59.333333333+08:00"));
    // 3,600 calls in the first tier at 0.15, the package's price 540 and the prepaid QPS's 300.
    let cost = bill.cost.unwrap();
    assert!((cost - (3_600.0 * 0.15 + 540.0 + 300.0)).abs() < 1e-9, "{cost}");
}

/// The same with `plan_change = "reset"`: at the package's last call the window's count restarts, so
/// second 3599 admits the package's 5 and then 2 more of its remaining 7 arrivals under pay-as-you-go.
#[test]
fn a_reset_at_the_change_admits_the_new_limit_again_in_that_window() {
    let text = load("plan-stacking.toml").replace("plan_change = \"carry-over\"", "plan_change = \"reset\"");
    let (_, report) = run_with_bin(&text, NANOS_PER_SEC);
    let admitted = admitted_per_second(&report, 0);
    assert_eq!(admitted[3_599], 7);
    assert_eq!(admitted[3_598], 5);
    assert_eq!(admitted[3_600], 2);
}

/// package-next-day.toml: the package bought the evening before takes effect at 08:00 UTC+8, one hour into
/// the run; the one bought at 07:59 UTC+8 (written in UTC) only the next day, after the run.
#[test]
fn a_package_takes_effect_at_eight_the_next_day() {
    let (sc, report) = run_with_bin(&load("package-next-day.toml"), NANOS_PER_SEC);
    let late = &sc.plans.packages[1];
    assert_eq!(late.active_from.to_string(), "2026-11-27T00:00:00Z");
    for (i, series) in report.series.iter().enumerate() {
        let limits: Vec<u32> = series.limits.iter().map(|l| l.limit_qps).collect();
        assert_eq!(limits, [2, 5], "{}", series.api);
        assert_eq!(series.limits[1].at, 3_600 * NANOS_PER_SEC);
        let admitted = admitted_per_second(&report, i);
        assert!(admitted[..3_600].iter().all(|&n| n <= 2) && admitted[3_600..].iter().all(|&n| n <= 5));
        assert!(admitted[3_600..].iter().any(|&n| n > 2), "{}: the raised limit is used", series.api);
    }
    let starts: Vec<&str> = report.summary.phases.iter().map(|p| p.from.as_str()).collect();
    assert_eq!(starts, ["2026-11-26T07:00:00+08:00", "2026-11-26T08:00:00+08:00"].repeat(2));
    let bill = &report.summary.billing[0];
    assert_eq!(bill.packages[1].used, 0, "the late package is not yet in force");
    assert_eq!(bill.admitted, bill.from_packages + bill.pay_as_you_go);
}

fn two_api_text(package: &str, extra_clients: &str) -> String {
    format!(
        r#"
name = "shared-package"
start = "2026-11-26T09:00:00+08:00"
duration = "10m"
[[api]]
name = "A"
category = "face-body"
latency = {{ dist = "constant", mean = "100ms" }}
[[api]]
name = "B"
category = "segmentation"
latency = {{ dist = "constant", mean = "100ms" }}
[[account]]
name = "acme"
{package}
[[client]]
name = "a"
account = "acme"
api = "A"
model = "open"
rate = 10
arrivals = "constant"
retry = {{ policy = "none" }}
[[client]]
name = "b"
account = "acme"
api = "B"
model = "open"
rate = 10
arrivals = "constant"
retry = {{ policy = "none" }}
{extra_clients}
"#
    )
}

/// A general-purpose package drawn by two APIs at 5 admitted calls a second each runs out when their
/// combined calls reach its size: 1,000 calls at 10 a second last 100 s, and both APIs fall back to
/// 2 QPS at the same instant.
#[test]
fn a_general_package_drawn_by_two_apis_runs_out_on_their_combined_calls() {
    let package =
        "[[account.plan]]\ntype = \"resource-package\"\ncalls = 1_000\nbought = \"2026-11-25T09:00:00+08:00\"";
    let (_, report) = run_with_bin(&two_api_text(package, ""), NANOS_PER_SEC);
    let bill = &report.summary.billing[0];
    assert_eq!(bill.packages[0].used, 1_000);
    assert_eq!(bill.packages[0].covers, "all");
    let mut ends = Vec::new();
    for (i, s) in report.series.iter().enumerate() {
        let admitted = admitted_per_second(&report, i);
        assert!(admitted[..100].iter().all(|&n| n == 5), "{}", s.api);
        assert!(admitted[100..].iter().all(|&n| n == 2), "{}", s.api);
        ends.push(s.limits[1].at);
    }
    assert_eq!(ends[0], ends[1], "both APIs change at the package's last call");
    let drawn: u64 =
        report.summary.phases.iter().filter(|p| p.plan == "resource-package").map(|p| p.metrics.admitted).sum();
    assert_eq!(drawn, 1_000);
    assert_eq!(bill.admitted, bill.from_packages + bill.pay_as_you_go);
}

/// A single-category package is drawn before a general-purpose one, so the general one lasts longer.
#[test]
fn category_packages_are_drawn_before_general_ones() {
    let packages = "[[account.plan]]\ntype = \"resource-package\"\nname = \"general\"\ncalls = 10_000\nbought = \"2026-11-25T09:00:00+08:00\"\n\
        [[account.plan]]\ntype = \"resource-package\"\nname = \"faces\"\ncategory = \"face-body\"\ncalls = 100\nbought = \"2026-11-25T09:00:00+08:00\"";
    let (_, report) = run_with_bin(&two_api_text(packages, ""), NANOS_PER_SEC);
    let bill = &report.summary.billing[0];
    let (general, faces) = (&bill.packages[0], &bill.packages[1]);
    // A draws on `faces` for its first 100 calls (20 s at 5/s), then on `general`; B only on `general`.
    assert_eq!(faces.used, 100);
    assert_eq!(faces.ran_out.as_deref(), Some("2026-11-26T09:00:19.4+08:00"));
    assert_eq!(general.used, 600 * 10 - 100);
}

/// Prepaid QPS covers every call in its period: none is billed or drawn from a package.
#[test]
fn calls_under_prepaid_qps_draw_on_nothing() {
    let plans = "[[account.plan]]\ntype = \"prepaid-qps\"\napi = \"A\"\nqps = 8\nfrom = \"2026-11-26T09:00:00+08:00\"\nuntil = \"2026-11-26T09:05:00+08:00\"\n\
        [[account.plan]]\ntype = \"resource-package\"\napi = \"A\"\ncalls = 100_000\nbought = \"2026-11-25T09:00:00+08:00\"";
    let (_, report) = run_with_bin(&two_api_text(plans, ""), NANOS_PER_SEC);
    let bill = &report.summary.billing[0];
    assert_eq!(bill.prepaid_qps[0].calls, 300 * 8);
    assert_eq!(bill.packages[0].used, 300 * 5);
    let a = admitted_per_second(&report, 0);
    assert!(a[..300].iter().all(|&n| n == 8) && a[300..].iter().all(|&n| n == 5));
}

/// 15,000 pay-as-you-go calls in one month at the platform's example tiers cost 10,000 × 0.15 +
/// 5,000 × 0.10 = 2,000. Months turn at midnight UTC+8 and each starts from the first tier.
#[test]
fn tiered_pay_as_you_go_prices_by_calendar_month() {
    let text = |start: &str| {
        format!(
            r#"
name = "tiers"
start = "{start}"
duration = "7500s"
[[api]]
name = "A"
latency = {{ dist = "constant", mean = "100ms" }}
prices = [{{ up_to = 10_000, price = 0.15 }}, {{ up_to = 100_000, price = 0.10 }}, {{ up_to = 1_000_000, price = 0.06 }}, {{ price = 0.02 }}]
[[account]]
name = "acme"
[[client]]
name = "c"
account = "acme"
api = "A"
model = "open"
rate = 2
arrivals = "constant"
retry = {{ policy = "none" }}
"#
        )
    };
    let (_, report) = run_text(&text("2026-11-26T09:00:00+08:00"));
    let bill = &report.summary.billing[0];
    assert_eq!(bill.pay_as_you_go, 15_000);
    assert!((bill.cost.unwrap() - 2_000.0).abs() < 1e-9);

    // Starting 3,750 s before midnight UTC+8 (16:00 UTC is midnight in UTC+8): 7,500 calls in each month,
    // all in the first tier.
    let (_, report) = run_text(&text("2026-11-30T14:57:30Z"));
    let bill = &report.summary.billing[0];
    let months: Vec<(&str, u64)> = bill.pay_as_you_go_by_month.iter().map(|l| (l.month.as_str(), l.calls)).collect();
    assert_eq!(months, [("2026-11", 7_500), ("2026-12", 7_500)]);
    assert!((bill.cost.unwrap() - 15_000.0 * 0.15).abs() < 1e-9);
}

#[test]
fn prepaid_qps_above_the_categorys_maximum_is_refused() {
    for (category, max) in [("face-body", 50), ("segmentation", 30), ("other", 100)] {
        let text = format!(
            "name = \"x\"\nstart = \"2026-11-26T09:00:00+08:00\"\nduration = \"1m\"\n[[api]]\nname = \"A\"\ncategory = \"{category}\"\n\
             latency = {{ dist = \"constant\", mean = \"1s\" }}\n[[account]]\nname = \"acme\"\n[[account.plan]]\ntype = \"prepaid-qps\"\n\
             api = \"A\"\nqps = {}\nfrom = \"2026-11-26T09:00:00+08:00\"\nuntil = \"2026-11-26T10:00:00+08:00\"\n\
             [[client]]\nname = \"c\"\naccount = \"acme\"\napi = \"A\"\nmodel = \"closed\"\nthreads = 1\n",
            max + 1
        );
        let e = Scenario::parse(&text, "p.toml").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (13, "account[0].plan[0].qps"));
        assert!(
            e.message.contains(&format!("more than the {max} QPS")) && e.message.contains("contacting sales"),
            "{e}"
        );
        // At the maximum it is accepted.
        assert!(
            Scenario::parse(&text.replace(&format!("qps = {}", max + 1), &format!("qps = {max}")), "p.toml").is_ok()
        );
    }
}
