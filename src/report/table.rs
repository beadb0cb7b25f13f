//! The terminal summary: one line per (account, API), then the totals.

use super::summary::Report;
use crate::stats::Metrics;
use std::fmt::Write;

fn limits_text(report: &Report, account: &str, api: &str) -> String {
    let Some(s) = report.series.iter().find(|s| s.account == account && s.api == api) else { return String::new() };
    let mut seen: Vec<u32> = s.limits.iter().map(|l| l.limit_qps).collect();
    seen.dedup();
    seen.iter().map(u32::to_string).collect::<Vec<_>>().join("→")
}

fn row(out: &mut String, account: &str, api: &str, limit: &str, m: &Metrics) {
    let _ = writeln!(
        out,
        "{account:<12} {api:<20} {limit:>6} {:>9} {:>9} {:>9} {:>9} {:>7.1}% {:>8} {:>9.2} {:>9.2} {:>8.3} {:>8.3}",
        m.requests,
        m.attempts,
        m.admitted,
        m.throttled,
        100.0 * m.throttle_rate,
        m.gave_up,
        m.offered_qps,
        m.admitted_qps,
        m.latency_s.p50,
        m.latency_s.p99,
    );
}

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(out, "{} — seed {}, {} s from {}", s.scenario, s.seed, s.duration_s, s.start);
    let _ = writeln!(
        out,
        "{:<12} {:<20} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8}",
        "account",
        "api",
        "limit",
        "requests",
        "attempts",
        "admitted",
        "throttled",
        "thr.rate",
        "gave_up",
        "offered/s",
        "admitted/s",
        "p50 s",
        "p99 s"
    );
    for e in &s.by_api {
        row(&mut out, &e.account, &e.api, &limits_text(report, &e.account, &e.api), &e.metrics);
    }
    if s.by_api.len() > 1 {
        row(&mut out, "total", "", "", &s.totals);
    }
    for b in &s.batches {
        let took = b.makespan_s.map_or("did not finish within the run".to_string(), |m| format!("took {m:.1} s"));
        let _ = writeln!(
            out,
            "batch {}: {} requests on {} threads {took}; the floor at {} QPS is {:.1} s",
            b.client, b.requests, b.threads, b.limit_qps, b.floor_s
        );
    }
    out
}
