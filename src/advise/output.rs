//! The advice as files and words: `advice.json` (everything), `advice.csv` (one row per evaluated point)
//! and the terminal summary.

use super::purchase::PlanAdvice;
use super::{Outcome, Point, QpsAdvice, Target, ThreadsAdvice};
use serde::Serialize;
use std::fmt::Write;

/// `advice.json`, field for field.
#[derive(Debug, Serialize)]
pub struct AdviceDoc {
    pub scenario: String,
    pub seed: u64,
    pub reps: u32,
    pub targets: Vec<Target>,
    /// How a target is judged: its whole 95 % interval over the replications must be within the bound.
    pub rule: &'static str,
    pub least_qps: Vec<QpsAdvice>,
    pub most_threads: Vec<ThreadsAdvice>,
    pub plans: Option<PlanAdvice>,
    pub simulations: u64,
}

pub const RULE: &str = "a target holds at a point when its whole 95 % interval over the replications is within the \
    bound (conservative); with one replication, its value";

pub fn json_bytes(doc: &AdviceDoc) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(doc).expect("the advice serialises");
    bytes.push(b'\n');
    bytes
}

/// One row per evaluated point: the search, its subject, the value tried, whether every target held, and
/// each target's mean and interval.
pub fn csv_bytes(doc: &AdviceDoc) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["search".to_string(), "subject".into(), "value".into(), "met".into()];
    for t in &doc.targets {
        header.extend([format!("{} mean", t.text), format!("{} lo", t.text), format!("{} hi", t.text)]);
    }
    header.extend(["cost".into(), "throttle_rate".into(), "latency_p99_s".into()]);
    w.write_record(&header).expect("writes to memory");
    let mut row =
        |search: &str, subject: &str, value: String, point_met: bool, p: &[super::Check], extra: [String; 3]| {
            let subject = crate::text::csv_cell(subject).into_owned();
            let mut r = vec![search.to_string(), subject, value, point_met.to_string()];
            for t in &doc.targets {
                match p.iter().find(|c| c.target == t.text) {
                    Some(c) => r.extend(
                        [Some(c.estimate.mean), c.estimate.lo, c.estimate.hi]
                            .map(|x| x.map_or(String::new(), |x| x.to_string())),
                    ),
                    None => r.extend([String::new(), String::new(), String::new()]),
                }
            }
            r.extend(extra);
            w.write_record(&r).expect("writes to memory");
        };
    let headline = |p: &Point| [String::new(), p.throttle_rate.to_string(), p.latency_p99_s.to_string()];
    for q in &doc.least_qps {
        for p in &q.points {
            row("least-qps", &format!("{}/{}", q.account, q.api), p.value.to_string(), p.met, &p.checks, headline(p));
        }
    }
    for t in &doc.most_threads {
        for p in &t.points {
            row("most-threads", &t.client, p.value.to_string(), p.met, &p.checks, headline(p));
        }
    }
    if let Some(plans) = &doc.plans {
        for c in &plans.candidates {
            let extra = [c.cost.mean.to_string(), c.throttle_rate.to_string(), c.latency_p99_s.to_string()];
            row("plan", &c.label(), format!("{}", c.purchase_price), c.met, &c.checks, extra);
        }
    }
    w.into_inner().expect("writes to memory")
}

fn targets_text(doc: &AdviceDoc) -> String {
    doc.targets.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" and ")
}

/// Each target's value and 95 % interval at the answer and at its neighbour that missed, so a reader sees
/// why this value and not the next.
fn evidence(s: &mut String, points: &[Point], answer: u64, neighbour: Option<u64>) {
    for (label, value) in [("at", Some(answer)), ("at", neighbour)] {
        let Some(p) = value.and_then(|v| points.iter().find(|p| p.value == v)) else { continue };
        let checks: Vec<String> = p
            .checks
            .iter()
            .map(|c| {
                let e = &c.estimate;
                let on =
                    if c.on.contains('/') && !c.target.contains(':') { format!(" on {}", c.on) } else { String::new() };
                let (lo, hi) = (e.lo.unwrap_or(e.mean), e.hi.unwrap_or(e.mean));
                let metric = c.target.split(['<', '>']).next().unwrap_or_default();
                let shown =
                    |x: f64| if metric.ends_with("_rate") { format!("{} %", number(100.0 * x)) } else { number(x) };
                format!(
                    "{}: {} [{}, {}]{on} {}",
                    c.target,
                    shown(e.mean),
                    shown(lo),
                    shown(hi),
                    if c.met { "✓" } else { "✗" }
                )
            })
            .collect();
        let _ = writeln!(s, "    {label} {}: {}", p.value, checks.join("; "));
    }
}

fn flipping(targets: &[String]) -> String {
    if targets.is_empty() { String::new() } else { format!(" (flipping: {})", targets.join(", ")) }
}

/// A value with the digits an interval needs: four significant ones.
fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    format!("{x:.digits$}")
}

/// The evaluated values in runs of one verdict, in ascending order, and how they were chosen:
/// `every value from 1 to 8: 1–6 ✗, 7–8 ✓`.
fn evaluated(what: &str, points: &[Point], e: &super::Evaluated) -> String {
    let mut sorted: Vec<(u64, bool)> = points.iter().map(|p| (p.value, p.met)).collect();
    sorted.sort_unstable();
    let mut runs: Vec<(u64, u64, bool)> = Vec::new();
    for (v, met) in sorted {
        match runs.last_mut() {
            Some(r) if r.2 == met => r.1 = v,
            _ => runs.push((v, v, met)),
        }
    }
    let runs: Vec<String> = runs
        .iter()
        .map(|&(a, b, met)| {
            let mark = if met { "✓" } else { "✗" };
            if a == b { format!("{a} {mark}") } else { format!("{a}–{b} {mark}") }
        })
        .collect();
    let how = if e.resolution == 1 {
        format!("every {what} from 1 to {}", e.up_to)
    } else {
        format!(
            "every {} {what} up to {}, then the step before the answer bisected",
            crate::text::ordinal(e.resolution),
            e.up_to
        )
    };
    let past = if e.too_large.is_empty() {
        String::new()
    } else {
        format!(
            "; not run, past the work limits: {}",
            e.too_large.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        )
    };
    let beyond = if points.iter().any(|p| p.value > e.up_to) { ", and the bracket's beyond" } else { "" };
    format!("evaluated {} values ({how}{beyond}): {}{past}", e.values, runs.join(", "))
}

/// The advice's answer in one line: the cheapest purchase that meets the targets and its cost, or else the
/// QPS each API needs, with today's numbers for comparison.
pub fn verdict(doc: &AdviceDoc) -> String {
    if let Some(plans) = &doc.plans {
        let base = &plans.candidates[plans.baseline];
        return match plans.chosen {
            Some(i) if i == plans.baseline => {
                format!(
                    "Verdict: today's plans already meet {} (cost {}).",
                    targets_text(doc),
                    money(plans, base.cost.mean)
                )
            }
            Some(i) => {
                let c = &plans.candidates[i];
                format!(
                    "Verdict: buy {} — {} in all, against {} today — to meet {} (throttling {:.2} % instead of {:.2} \
                        %).",
                    c.label(),
                    money(plans, c.cost.mean),
                    money(plans, base.cost.mean),
                    targets_text(doc),
                    100.0 * c.throttle_rate,
                    100.0 * base.throttle_rate
                )
            }
            None => format!(
                "Verdict: no combination of the offers meets {} ({} tried); see each API's QPS below.",
                targets_text(doc),
                plans.candidates.len()
            ),
        };
    }
    let needs: Vec<String> = doc
        .least_qps
        .iter()
        .map(|q| match q.least_qps {
            Some(l) if q.monotone => format!("{}/{} needs {l} QPS (has {})", q.account, q.api, q.current_qps),
            Some(l) => format!(
                "{}/{} needs {l} QPS (has {}; not monotone: {} miss, {})",
                q.account,
                q.api,
                q.current_qps,
                if q.failing.is_empty() { "values above".to_string() } else { crate::text::ranges(&q.failing) },
                q.all_meet_from_qps.map_or("the highest value evaluated misses".to_string(), |v| format!(
                    "every value from {v} meets"
                ))
            ),
            None => format!("{}/{}: no QPS tried meets it", q.account, q.api),
        })
        .collect();
    format!("Verdict: to meet {}, {}.", targets_text(doc), needs.join("; "))
}

pub fn render(doc: &AdviceDoc) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", verdict(doc));
    let _ = writeln!(
        s,
        "advice for {} (seed {}, {} replications a point; targets: {})",
        doc.scenario,
        doc.seed,
        doc.reps,
        targets_text(doc)
    );
    for q in &doc.least_qps {
        s.push_str(&qps_block(doc, q));
    }
    for t in &doc.most_threads {
        s.push_str(&threads_block(t));
    }
    if let Some(plans) = &doc.plans {
        s.push_str(&plans_block(doc, plans));
    }
    let _ = writeln!(s, "{} simulations", doc.simulations);
    s
}

/// What the search found for one (account, API): the answer's line, then indented lines of detail.
pub fn qps_block(doc: &AdviceDoc, q: &QpsAdvice) -> String {
    let mut s = String::new();
    let pair = format!("{}/{}", q.account, q.api);
    let tried_values = q.points.len();
    let _ = match (&q.outcome, q.least_qps) {
        (Outcome::NoTarget, _) => writeln!(s, "{pair}: no target applies (every target is scoped to another pair)"),
        (Outcome::NotUpTo(n), Some(m)) => writeln!(
            s,
            "{pair}: met at {m} QPS, but not at every value above it: of the {tried_values} values tried up to {n}, \
                the highest miss"
        ),
        (Outcome::NotUpTo(n), None) => writeln!(
            s,
            "{pair}: none of the {tried_values} values tried, from 1 up to {n} QPS, meets {}",
            targets_text(doc)
        ),
        (_, Some(l)) => writeln!(
            s,
            "{pair} needs {l} QPS for {} (now {}){}",
            targets_text(doc),
            q.current_qps,
            if q.beyond_purchasable {
                format!("; more than the {} QPS that can be bought without contacting sales", q.purchasable_max)
            } else {
                String::new()
            }
        ),
        (Outcome::TooLarge(n), None) => {
            writeln!(s, "{pair}: stopped at {n} QPS, whose runs pass the work limits (--allow-large lifts them)")
        }
        _ => writeln!(s, "{pair}: none of the {tried_values} values tried meets {}", targets_text(doc)),
    };
    if !q.monotone {
        let _ = writeln!(
            s,
            "    not monotone: {} QPS meets, but {} above it miss{}; {}",
            q.least_qps.map_or("none".into(), |v| v.to_string()),
            if q.failing.is_empty() { "values".to_string() } else { crate::text::ranges(&q.failing) },
            flipping(&q.non_monotone_targets),
            match q.all_meet_from_qps {
                Some(v) => format!("every value evaluated from {v} up to {} meets", q.evaluated.up_to),
                None => "the highest value evaluated misses".to_string(),
            }
        );
    }
    if let Some(note) = &q.note {
        let _ = writeln!(s, "    {note}");
    }
    if let Some(l) = q.least_qps {
        evidence(&mut s, &q.points, l as u64, l.checked_sub(1).map(u64::from));
    }
    let _ = writeln!(s, "    {}", evaluated("QPS", &q.points, &q.evaluated));

    s
}

/// What the search found for one closed or batch client: the answer's line, then indented lines of detail.
pub fn threads_block(t: &ThreadsAdvice) -> String {
    let mut s = String::new();
    let _ = match (&t.outcome, t.most_threads) {
        (Outcome::TooLarge(n), Some(m)) => writeln!(
            s,
            "client {}: at least {m} threads meet the targets at today's plans (now {}); the search stopped at {n}, \
                past the work limits",
            t.client, t.current_threads
        ),
        (_, Some(m)) if t.cap == Some(m) => writeln!(
            s,
            "client {}: every count tried up to {m} threads meets the targets at today's plans (now {}); past that, \
                more threads only wait longer behind the limits (not searched)",
            t.client, t.current_threads
        ),
        (_, Some(m)) => {
            writeln!(s, "client {}: at today's plans run at most {m} threads (now {})", t.client, t.current_threads)
        }
        (Outcome::NotEvenOne, None) => {
            writeln!(s, "client {}: even one thread misses the targets at today's plans", t.client)
        }
        (Outcome::NoTarget, _) => writeln!(s, "client {}: no target applies to the pairs it calls", t.client),
        _ => writeln!(s, "client {}: no thread count could be judged", t.client),
    };
    if !t.monotone {
        let _ = writeln!(
            s,
            "    not monotone: {} threads meet, but {} below miss{}; {}",
            t.most_threads.map_or("none".into(), |v| v.to_string()),
            if t.failing.is_empty() { "counts".to_string() } else { crate::text::ranges(&t.failing) },
            flipping(&t.non_monotone_targets),
            match t.all_meet_up_to_threads {
                Some(v) => format!("every count evaluated from 1 up to {v} meets"),
                None => "one thread misses".to_string(),
            }
        );
    }
    if let Some(m) = t.most_threads {
        evidence(&mut s, &t.points, m as u64, Some(m as u64 + 1));
    }
    let _ = writeln!(s, "    {}", evaluated("count", &t.points, &t.evaluated));

    s
}

/// What the purchase search found: today's plans, the answer, the trade-off, in lines.
pub fn plans_block(doc: &AdviceDoc, plans: &PlanAdvice) -> String {
    let mut s = String::new();
    let base = &plans.candidates[plans.baseline];
    let _ = writeln!(
        s,
        "today's plans cost {} and throttle {:.2} % (p99 {:.3} s): {}",
        money(plans, base.cost.mean),
        100.0 * base.throttle_rate,
        base.latency_p99_s,
        if base.met { "the targets hold" } else { "the targets are missed" }
    );
    match plans.chosen {
        Some(i) => {
            let c = &plans.candidates[i];
            let per_api: Vec<String> = c.by_pair.iter().map(|(p, r)| format!("{p} {:.2} %", 100.0 * r)).collect();
            let _ = writeln!(
                s,
                "cheapest meeting the targets: {} — costs {} in all (purchases {}), throttles {:.2} % ({}), p99 \
                    {:.3} s",
                c.label(),
                money(plans, c.cost.mean),
                money(plans, c.purchase_price),
                100.0 * c.throttle_rate,
                per_api.join(", "),
                c.latency_p99_s
            );
            // The trade-off: what the cheaper combinations give up, then the next ones that also meet.
            let cheaper = plans.candidates[..i].iter().rev().take(3);
            let dearer = plans.candidates.iter().skip(i + 1).filter(|c| c.met).take(1);
            for (what, c) in cheaper.map(|c| ("cheaper, misses", c)).chain(dearer.map(|c| ("runner-up", c))) {
                let _ = writeln!(
                    s,
                    "    {what}: {} — {}, throttles {:.2} %, p99 {:.3} s",
                    c.label(),
                    money(plans, c.cost.mean),
                    100.0 * c.throttle_rate,
                    c.latency_p99_s
                );
            }
        }
        None => {
            let _ = writeln!(s, "no combination of the offers meets the targets ({} tried)", plans.candidates.len());
            // Why: the pairs whose least QPS no offer reaches.
            for q in &doc.least_qps {
                let pair = format!("{}/{}", q.account, q.api);
                let most = plans.most_qps.iter().find(|(p, _)| *p == pair).map(|(_, m)| *m);
                if let (Some(need), Some(most)) = (q.least_qps, most)
                    && need > most
                {
                    let _ = writeln!(s, "    {pair} needs {need} QPS, and the most the offers give it is {most}");
                }
            }
        }
    }
    if plans.not_simulated > 0 {
        let _ = writeln!(
            s,
            "    ({} more combinations not simulated: their purchase price alone passes the runner-up's bill)",
            plans.not_simulated
        );
    }
    if !plans.pay_as_you_go_priced {
        let _ = writeln!(s, "    (no API has pay-as-you-go prices: costs count only what the offers charge)");
    }

    s
}

/// An amount with two decimals and the offers' currency when they name one: `235.00 CNY`.
fn money(plans: &PlanAdvice, x: f64) -> String {
    match &plans.currency {
        Some(c) => format!("{:.2} {}", x + 0.0, c),
        None => format!("{:.2}", x + 0.0),
    }
}

/// The most combinations of offers the page lists (advice.csv holds every one).
const PAGE_CANDIDATES: usize = 20;

/// `report.html` of the advice: the verdict, the charts, then a table per search, each answer's details
/// under its table.
pub fn page(doc: &AdviceDoc, targets: &str, charts: &[String], scenario_text: &str) -> String {
    use crate::report::grid::Grid;
    use crate::report::html::{Cell, Page};
    let mut page = Page::new(&format!("quotasim advice — {}", doc.scenario));
    page.paragraph(&format!("targets: {targets} ({RULE})"));
    page.verdict(std::slice::from_ref(&verdict(doc).trim_start_matches("Verdict: ").to_string()));
    page.charts(charts);
    // Each block's first line is the answer; the indented lines under it, its details.
    let details = |page: &mut Page, blocks: Vec<String>| {
        for block in blocks {
            let lines: Vec<&str> = block.lines().collect();
            if let Some((first, rest)) = lines.split_first() {
                // The values tried are in the table already.
                let rest: Vec<String> =
                    rest.iter().map(|l| l.trim().to_string()).filter(|l| !l.starts_with("evaluated ")).collect();
                page.details(first, &rest);
            }
        }
    };
    if !doc.least_qps.is_empty() {
        page.heading("Least QPS per (account, API)");
        let mut grid =
            Grid::new(&["account / API", "QPS now", "least QPS meeting", "most purchasable", "evaluated (✓ met)"]);
        for q in &doc.least_qps {
            grid.push(vec![
                Cell::Text(format!("{} / {}", q.account, q.api)),
                Cell::Num(q.current_qps.to_string()),
                match q.least_qps {
                    Some(l) if l > q.current_qps => Cell::Bad(l.to_string()),
                    Some(l) => Cell::Num(l.to_string()),
                    None => Cell::Bad("none".into()),
                },
                Cell::Num(q.purchasable_max.to_string()),
                Cell::Text(evaluated("QPS", &q.points, &q.evaluated)),
            ]);
        }
        page.grid(&grid);
        details(&mut page, doc.least_qps.iter().map(|q| qps_block(doc, q)).collect());
    }
    if !doc.most_threads.is_empty() {
        page.heading("Most threads per client, at today's plans");
        let mut grid = Grid::new(&["client", "threads now", "most meeting", "evaluated (✓ met)"]);
        for t in &doc.most_threads {
            grid.push(vec![
                Cell::Text(t.client.clone()),
                Cell::Num(t.current_threads.to_string()),
                match t.most_threads {
                    Some(m) if m < t.current_threads => Cell::Bad(m.to_string()),
                    Some(m) => Cell::Num(m.to_string()),
                    None => Cell::Bad("none".into()),
                },
                Cell::Text(evaluated("count", &t.points, &t.evaluated)),
            ]);
        }
        page.grid(&grid);
        details(&mut page, doc.most_threads.iter().map(threads_block).collect());
    }
    if let Some(plans) = &doc.plans {
        page.heading("Purchases, cheapest first");
        let money = plans.currency.as_deref().map_or(String::new(), |c| format!(" ({c})"));
        let (cost, bought) = (format!("cost over the run{money}"), format!("of which purchases{money}"));
        let mut grid = Grid::new(&["", "combination", &cost, &bought, "throttle rate", "p99 s", "targets"]);
        let shown = plans
            .candidates
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < PAGE_CANDIDATES || Some(*i) == plans.chosen || *i == plans.baseline);
        for (i, c) in shown {
            let mark = if Some(i) == plans.chosen {
                "→ cheapest meeting"
            } else if i == plans.baseline {
                "today"
            } else {
                ""
            };
            grid.push(vec![
                Cell::Text(mark.into()),
                Cell::Text(c.label()),
                Cell::Num(format!("{:.2}", c.cost.mean + 0.0)),
                Cell::Num(format!("{:.2}", c.purchase_price)),
                Cell::Num(format!("{:.2}%", 100.0 * c.throttle_rate)),
                Cell::Num(format!("{:.3}", c.latency_p99_s)),
                if c.met { Cell::Text("met".into()) } else { Cell::Bad("missed".into()) },
            ]);
        }
        page.grid(&grid);
        if plans.candidates.len() > PAGE_CANDIDATES {
            page.note(&format!(
                "The {PAGE_CANDIDATES} cheapest of {} combinations (and the answer and today's plans); advice.csv \
                    holds them all.",
                plans.candidates.len()
            ));
        }
        details(&mut page, vec![plans_block(doc, plans)]);
    }
    page.note(&format!("{} simulations", doc.simulations));
    page.scenario(scenario_text);
    page.finish()
}
