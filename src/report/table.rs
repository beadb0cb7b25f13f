//! The terminal summary: one line per (account, API) (with its sub-accounts beneath when several share
//! it), then the totals, units, costs and batches. Past a screenful of rows, the ones with the most
//! throttled attempts, and how many more there are.

use super::summary::{Report, Series};
use crate::stats::Metrics;
use crate::text::{terminal, thousands};
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
        let bound = match b.bound_s {
            Some(Some(best)) => {
                format!("; the clairvoyant bound finishes it at {best:.1} s{}", times(b.makespan_s, best))
            }
            Some(None) => "; even the clairvoyant bound does not finish it within the run".to_string(),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "batch {}: {} requests on {} threads {took}; the floor at {} QPS is {:.1} s{bound}",
            terminal(&b.client),
            b.requests,
            b.threads,
            b.limit_qps,
            b.floor_s
        );
    }
    for &i in &shown {
        let e = &s.by_api[i];
        if let Some(line) = bound_line(e) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// ` (1.02x)`: the run's time over the bound's, when both are known.
fn times(run: Option<f64>, best: f64) -> String {
    match run {
        Some(r) if best > 0.0 => format!(" ({:.2}x)", r / best),
        _ => String::new(),
    }
}

/// The run beside the clairvoyant bound of one pair: "the bound's last request completes at 12.0 s (this
/// run 14.2 s, 1.18x) and waits 0.8 s on average (this run 2.1 s, 2.63x); here 72.0 % of attempts were
/// throttled, the bound never is".
pub fn bound_line(e: &super::summary::ApiEntry) -> Option<String> {
    let b = e.bound?;
    let last = match (b.bound.last_s, b.run_last_s) {
        (Some(best), Some(run)) => format!(
            "completes at {best:.1} s (this run {run:.1} s{})",
            b.last_ratio.map_or(", not every request completed".to_string(), |r| format!(", {r:.2}x"))
        ),
        (Some(best), None) => format!("completes at {best:.1} s (this run did not finish)"),
        (None, _) => "does not complete within the run".to_string(),
    };
    let m = &e.metrics;
    let mean = match b.mean_ratio {
        Some(r) => format!(
            "its requests take {:.2} s from arrival to reply on average (this run {:.2} s, {r:.2}x)",
            b.bound.mean_s, b.run_mean_s
        ),
        None => format!(
            "its requests take {:.2} s from arrival to reply on average over the {} it completes (this run \
                completed {} of {} requests, so its mean is not comparable)",
            b.bound.mean_s,
            thousands(b.bound.completed),
            thousands(m.admitted),
            thousands(m.requests)
        ),
    };
    Some(format!(
        "bound {} / {}: the clairvoyant schedule's last request {last} and {mean}; this run throttled {:.1} % of \
            attempts, the bound none",
        terminal(&e.account),
        terminal(&e.api),
        e.metrics.throttle_rate * 100.0
    ))
}
