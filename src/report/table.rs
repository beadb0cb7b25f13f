//! The terminal summary: one line per (account, API) (with its sub-accounts beneath when several share
//! it), then the totals, units, costs and batches. Past a screenful of rows, the ones with the most
//! throttled attempts, and how many more there are.

use super::summary::{Report, Series};
use crate::stats::Metrics;
use crate::text::terminal;
use std::fmt::Write;

/// Rows shown before the rest are counted instead.
pub const MAX_ROWS: usize = 20;

fn limits_text(series: &Series) -> String {
    let mut seen: Vec<u32> = series.limits.iter().map(|l| l.limit_qps).collect();
    seen.dedup();
    seen.iter().map(u32::to_string).collect::<Vec<_>>().join("→")
}

/// ANSI red, for throttle rates above 1 % when colour is on.
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

fn row(out: &mut String, account: &str, api: &str, limit: &str, m: &Metrics, colour: bool) {
    // Names come from input (a trace's callers): escaped so that a terminal shows them, never obeys them.
    let (account, api) = (terminal(account), terminal(api));
    let rate = format!("{:>7.1}%", 100.0 * m.throttle_rate);
    let rate = if colour && m.throttle_rate > 0.01 { format!("{RED}{rate}{RESET}") } else { rate };
    let _ = writeln!(
        out,
        "{account:<12} {api:<20} {limit:>6} {:>9} {:>9} {:>9} {:>9} {rate} {:>8} {:>10} {:>9.2} {:>9.2} {:>8.3} \
            {:>8.3}",
        m.requests,
        m.attempts,
        m.admitted,
        m.throttled,
        m.gave_up,
        m.unfinished,
        m.offered_qps,
        m.admitted_qps,
        m.latency_s.p50,
        m.latency_s.p99,
    );
}

/// Whether standard output should be coloured: a terminal, and no `NO_COLOR` (see no-color.org).
pub fn colour_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The table; `colour` marks throttle rates above 1 % in red.
pub fn render(report: &Report, colour: bool) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(out, "{} — seed {}, {} s from {}", s.scenario, s.seed, s.duration_s, s.start);
    let _ = writeln!(
        out,
        "{:<12} {:<20} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>10} {:>9} {:>9} {:>8} {:>8}",
        "account",
        "api",
        "limit",
        "requests",
        "attempts",
        "admitted",
        "throttled",
        "thr.rate",
        "gave_up",
        "unfinished",
        "offered/s",
        "admitted/s",
        "p50 s",
        "p99 s"
    );
    // `series` is in the order of `by_api`: one entry per (account, API).
    let mut shown: Vec<usize> = (0..s.by_api.len()).collect();
    if shown.len() > MAX_ROWS {
        shown.sort_by_key(|&i| std::cmp::Reverse(s.by_api[i].metrics.throttled));
        shown.truncate(MAX_ROWS);
    }
    let mut sub_rows = 0;
    for &i in &shown {
        let e = &s.by_api[i];
        row(&mut out, &e.account, &e.api, &limits_text(&report.series[i]), &e.metrics, colour);
        // Several sub-accounts sharing this quota: each one's share, beneath it.
        let subs =
            || s.by_sub_account.iter().filter(|x| x.account == e.account && x.api == e.api && x.cell.requests > 0);
        let callers = subs().count();
        if callers > 1 {
            let room = MAX_ROWS.saturating_sub(sub_rows);
            for x in subs().take(room) {
                let name: String = format!("  └ {}", terminal(x.sub_account)).chars().take(20).collect();
                row(&mut out, "", &name, "", &x.metrics(), colour);
                sub_rows += 1;
            }
            if callers > room {
                let _ = writeln!(
                    out,
                    "{:12}   … and {} more sub-accounts of {} / {} (summary.csv)",
                    "",
                    callers - room,
                    terminal(&e.account),
                    terminal(&e.api)
                );
            }
        }
    }
    if s.by_api.len() > shown.len() {
        let _ = writeln!(
            out,
            "... {} more rows in summary.json (by_api); the {} above throttled most",
            s.by_api.len() - shown.len(),
            shown.len()
        );
    }
    if s.by_api.len() > 1 {
        row(&mut out, "total", "", "", &s.totals, colour);
    }
    for &i in &shown {
        let (e, m) = (&s.by_api[i], &s.by_api[i].metrics);
        if let (Some(admitted), Some(throttled), Some(by_units)) =
            (m.units_admitted, m.units_throttled, m.throttled_by_units)
        {
            let _ = writeln!(
                out,
                "units {} / {}: {admitted} admitted, {throttled} in throttled attempts; {by_units} of {} throttles \
                    were for want of units",
                terminal(&e.account),
                terminal(&e.api),
                m.throttled
            );
        }
    }
    for bill in s.billing.iter().filter(|b| b.cost.is_some()) {
        let _ = writeln!(
            out,
            "cost {}: {:.2} ({} calls admitted: {} under prepaid QPS, {} from packages, {} pay-as-you-go)",
            terminal(&bill.account),
            bill.cost.unwrap_or(0.0),
            bill.admitted,
            bill.under_prepaid_qps,
            bill.from_packages,
            bill.pay_as_you_go
        );
    }
    for b in &s.batches {
        let took = b.makespan_s.map_or("did not finish within the run".to_string(), |m| format!("took {m:.1} s"));
        let _ = writeln!(
            out,
            "batch {}: {} requests on {} threads {took}; the floor at {} QPS is {:.1} s",
            terminal(&b.client),
            b.requests,
            b.threads,
            b.limit_qps,
            b.floor_s
        );
    }
    out
}
