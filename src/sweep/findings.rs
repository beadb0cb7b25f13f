//! What a sweep found, as the terminal and report.html both show it: a verdict line, a title, and a table
//! of the points (numeric sweeps, in grid order with 95 % intervals) or of the things compared, ranked
//! (a sweep of named values: variants, whole policies).

use super::PointResult;
use super::output::SweepDoc;
use crate::report::grid::Grid;
use crate::report::html::Cell;

pub struct Findings {
    pub verdict: String,
    pub title: String,
    pub notes: Vec<String>,
    pub grid: Grid,
}

impl Findings {
    pub fn terminal(&self) -> String {
        let mut out = format!("{}\n{}\n", self.verdict, self.title);
        for n in &self.notes {
            out.push_str(n);
            out.push('\n');
        }
        out.push_str(&self.grid.terminal());
        out
    }
}

fn mean(p: &PointResult, name: &str) -> Option<f64> {
    p.metrics.iter().find(|e| e.metric == name).map(|e| e.mean)
}

fn mean0(p: &PointResult, name: &str) -> f64 {
    mean(p, name).unwrap_or(0.0)
}

/// The share of a point's requests not served: given up, dropped or rejected locally.
fn not_served(p: &PointResult) -> f64 {
    let requests = mean0(p, "requests");
    let lost = mean0(p, "gave_up") + mean0(p, "dropped") + mean0(p, "rejected_locally");
    if requests > 0.0 { lost / requests } else { 0.0 }
}

/// Whether a one-parameter sweep compares named things (variants, whole policies) rather than numbers.
pub fn categorical(doc: &SweepDoc) -> bool {
    doc.params.len() == 1
        && doc
            .points
            .iter()
            .any(|p| p.values[0].parse::<f64>().is_err() && crate::time::parse_duration(&p.values[0]).is_err())
}

pub fn findings(doc: &SweepDoc) -> Findings {
    if categorical(doc) { ranked(doc) } else { points(doc) }
}

/// A categorical sweep's points ranked: most requests served first, then the lowest p99 latency.
fn ranked(doc: &SweepDoc) -> Findings {
    let mut order: Vec<&PointResult> = doc.points.iter().collect();
    order.sort_by(|a, b| {
        not_served(a).total_cmp(&not_served(b)).then(mean0(a, "latency_p99_s").total_cmp(&mean0(b, "latency_p99_s")))
    });
    // The comparison's verdict first: the best, by how much, and where the scenario as written stands.
    let said = |p: &PointResult| {
        let bound = p.x_bound.as_ref().map_or(String::new(), |x| format!(", {:.2}x the bound", x.mean));
        format!(
            "{} ({:.1} % not served, p99 {:.2} s, {:.1} % of attempts throttled{bound})",
            p.values[0],
            100.0 * not_served(p),
            mean0(p, "latency_p99_s"),
            100.0 * mean0(p, "throttle_rate")
        )
    };
    let mut verdict = String::new();
    if let (Some(best), Some(worst)) = (order.first(), order.last()) {
        verdict = format!("Verdict: best {}", said(best));
        if let Some(next) = order.get(1) {
            verdict.push_str(&format!("; next {}", said(next)));
        }
        if order.len() > 2 {
            verdict.push_str(&format!("; worst {}", said(worst)));
        }
        if let Some(base) = order.iter().find(|p| p.values[0] == crate::scenario::BASELINE) {
            verdict.push_str(&format!("; as written (baseline): {:.1} % not served", 100.0 * not_served(base)));
        }
        verdict.push('.');
    }
    let title = format!(
        "{} — {} compared, {} replications each; ranked by requests not served (given up, dropped or rejected \
            locally), then p99",
        doc.scenario,
        doc.points.len(),
        doc.reps
    );
    // Beside each, its last completion over the clairvoyant bound's, where every point has one.
    let bounded = order.iter().all(|p| p.x_bound.is_some());
    let key = super::chart::human_key(&doc.params[0]);
    let mut headers = vec![
        "rank",
        &key,
        "throttle rate",
        "attempts/request",
        "admitted/s",
        "budget refused",
        "p50 s",
        "p99 s",
        "not served",
    ];
    if bounded {
        headers.push("x bound");
    }
    let mut grid = Grid::new(&headers);
    for (i, p) in order.iter().enumerate() {
        let mut row = vec![
            Cell::Num((i + 1).to_string()),
            Cell::Text(p.values[0].chars().take(24).collect()),
            Cell::Num(format!("{:.1}%", 100.0 * mean0(p, "throttle_rate"))),
            Cell::Num(format!("{:.2}", mean0(p, "attempts_per_request"))),
            Cell::Num(format!("{:.2}", mean0(p, "admitted_qps"))),
            Cell::Num(format!("{:.1}", mean0(p, "budget_refused"))),
            Cell::Num(format!("{:.3}", mean0(p, "latency_p50_s"))),
            Cell::Num(format!("{:.3}", mean0(p, "latency_p99_s"))),
            Cell::Num(format!("{:.1}%", 100.0 * not_served(p))),
        ];
        if let Some(x) = p.x_bound.as_ref().filter(|_| bounded) {
            row.push(Cell::Num(format!("{:.2}x", x.mean)));
        }
        grid.push(row);
    }
    Findings { verdict, title, notes: Vec::new(), grid }
}

/// A numeric sweep's verdict: where demand meets the limit (the knee, C = L · R for threads against response
/// time) and the first point whose throttle rate passes 1 %; for several parameters, how many points do.
fn verdict(doc: &SweepDoc) -> String {
    let bites = |p: &PointResult| mean(p, "throttle_rate").is_some_and(|r| r > 0.01);
    let values = |p: &PointResult| p.values.join(", ");
    let throttling = doc.points.iter().filter(|p| bites(p)).count();
    if doc.params.len() != 1 {
        let least = doc.points.iter().min_by(|a, b| mean0(a, "throttle_rate").total_cmp(&mean0(b, "throttle_rate")));
        let least = least.map_or(String::new(), |p| {
            format!("; the least throttled: {} ({:.1} %)", values(p), 100.0 * mean0(p, "throttle_rate"))
        });
        return format!(
            "Verdict: {throttling} of {} points throttle more than 1 % of attempts{least}.",
            doc.points.len()
        );
    }
    let mut points: Vec<&PointResult> = doc.points.iter().collect();
    points.sort_by(|a, b| a.axis[0].total_cmp(&b.axis[0]));
    let name = doc.params[0].rsplit('.').next().unwrap_or(&doc.params[0]).to_string();
    let first = points.iter().find(|p| bites(p)).map_or_else(
        || "no point throttles more than 1 % of attempts".to_string(),
        |p| {
            format!(
                "throttling passes 1 % at {name} = {} ({:.1} % of attempts throttled)",
                values(p),
                100.0 * mean0(p, "throttle_rate")
            )
        },
    );
    let knee =
        points.iter().find(|p| matches!((p.demand_qps, mean(p, "limit_qps")), (Some(d), Some(l)) if d >= l && l > 0.0));
    let knee = knee.map_or(String::new(), |p| {
        format!(
            "; demand reaches the limit at {name} = {} ({:.1} QPS wanted, {:.0} allowed)",
            values(p),
            p.demand_qps.unwrap_or(0.0),
            mean0(p, "limit_qps")
        )
    });
    format!("Verdict: {first}{knee}.")
}

/// One row per point: the parameter values and the headline metrics with their intervals.
fn points(doc: &SweepDoc) -> Findings {
    let title = format!("{} — {} points × {} replications", doc.scenario, doc.points.len(), doc.reps);
    let mut notes = Vec::new();
    if doc.reps == 1 {
        notes.push("one replication per point: no intervals (give --reps 2 or more for them)".to_string());
    }
    let mut headers: Vec<String> = doc.params.iter().map(|p| p.rsplit('.').next().unwrap_or(p).to_string()).collect();
    headers.extend(["demand/s", "admitted/s", "[95%]", "throttle rate", "[95%]", "p99 s"].map(String::from));
    let mut grid = Grid { headers, rows: Vec::new() };
    // No interval from one replication: dashes, not a zero-width bracket.
    let interval = |e: Option<&super::estimate::Estimate>, scale: f64, digits: usize| match e.map(|e| (e.lo, e.hi)) {
        Some((Some(lo), Some(hi))) => format!("[{:.*}, {:.*}]", digits, lo * scale, digits, hi * scale),
        _ => "[-, -]".to_string(),
    };
    for p in &doc.points {
        let m = |name: &str| p.metrics.iter().find(|e| e.metric == name);
        let (adm, thr) = (m("admitted_qps"), m("throttle_rate"));
        let mut row: Vec<Cell> = p.values.iter().map(|v| Cell::Num(v.clone())).collect();
        let rate = 100.0 * thr.map_or(0.0, |e| e.mean);
        row.extend([
            Cell::Num(p.demand_qps.map_or("-".to_string(), |d| format!("{d:.2}"))),
            Cell::Num(format!("{:.2}", adm.map_or(0.0, |e| e.mean))),
            Cell::Num(interval(adm, 1.0, 2)),
            if rate > 1.0 { Cell::Bad(format!("{rate:.1}%")) } else { Cell::Num(format!("{rate:.1}%")) },
            Cell::Num(interval(thr, 100.0, 1)),
            Cell::Num(format!("{:.3}", mean0(p, "latency_p99_s"))),
        ]);
        grid.push(row);
    }
    Findings { verdict: verdict(doc), title, notes, grid }
}
