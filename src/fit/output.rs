//! What `fit` shows and writes: the terminal's table, `fit.json`, the scenario lines to paste, the chart
//! of logged against fitted admissions, and `report.html`.

use super::{FitDoc, GroupFit, Limiter};
use crate::report::chart::{ADMITTED, Area, DrawResult, FONT, LIMIT, OFFERED, Svg, WIDTH, legend, render, trim_number};
use crate::report::html::{Cell, Page};
use crate::text::label;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// How many candidates the terminal lists per group.
const SHOWN: usize = 8;

fn percent(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

fn group_name(g: &GroupFit) -> String {
    match (g.account.is_empty(), g.api.is_empty()) {
        (true, true) => "the log".to_string(),
        (false, true) => g.account.clone(),
        (true, false) => g.api.clone(),
        (false, false) => format!("{}/{}", g.account, g.api),
    }
}

/// Lines about the log as read: rows left out, sorted, skipped.
fn log_notes(doc: &FitDoc) -> Vec<String> {
    let mut notes = Vec::new();
    if !doc.other_statuses.is_empty() {
        let listed: Vec<String> = doc
            .other_statuses
            .iter()
            .take(5)
            .map(|(s, n)| format!("{} × {}", crate::text::thousands(*n), label(s)))
            .collect();
        let total: u64 = doc.other_statuses.iter().map(|o| o.1).sum();
        notes.push(format!(
            "{} rows of other statuses left out (neither admitted nor throttled): {}",
            crate::text::thousands(total),
            listed.join(", ")
        ));
    }
    if doc.out_of_order_rows > 0 {
        notes.push(format!(
            "{} rows were earlier than a row above them (at most {} ms); the rows were sorted by time",
            crate::text::thousands(doc.out_of_order_rows),
            trim_number(doc.out_of_order_worst_ms)
        ));
    }
    if doc.skipped_rows > 0 {
        notes.push(format!("{} malformed rows skipped", crate::text::thousands(doc.skipped_rows)));
    }
    notes
}

/// The terminal's account of the fit.
pub fn render_text(doc: &FitDoc) -> String {
    // Every line goes out through `out`, which escapes what came from input.
    let mut out = format!("{}: {} answered attempts\n", doc.log, crate::text::thousands(doc.rows));
    for n in log_notes(doc) {
        out += &format!("  {n}\n");
    }
    for g in &doc.groups {
        out += &format!(
            "\n{}: {} attempts, {} throttled ({})\n",
            group_name(g),
            crate::text::thousands(g.attempts),
            crate::text::thousands(g.throttled),
            percent(g.throttled as f64 / g.attempts.max(1) as f64)
        );
        out += &format!("  {}\n", g.statement);
        if !g.candidates.is_empty() {
            out += &format!("  {:<10} {:<16} {:>10}  {}\n", "agreement", "limiter", "qps", "parameters");
            for c in g.candidates.iter().take(SHOWN) {
                out += &format!(
                    "  {:<10} {:<16} {:>10}  {}\n",
                    percent(c.agreement),
                    c.limiter,
                    trim_number((c.qps * 1000.0).round() / 1000.0),
                    c.describe()
                );
            }
        }
        if g.best.is_some() && (g.fit_admits_logged_throttles + g.fit_throttles_logged_admits) > 0 {
            out += &format!(
                "  Where it disagrees: {} attempts it admits were throttled, {} it throttles were admitted; first at {}\n",
                crate::text::thousands(g.fit_admits_logged_throttles),
                crate::text::thousands(g.fit_throttles_logged_admits),
                g.disagreements
                    .iter()
                    .take(3)
                    .map(|d| format!("line {} ({})", d.line, d.time))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if let Some(lines) = scenario_lines(doc) {
        out += "\nFor a scenario (the [[api]] tables; a trace client replays the log against them):\n";
        out += &lines;
    }
    out
}

/// A TOML string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The `[[api]]` lines of each group's fit.
pub fn scenario_lines(doc: &FitDoc) -> Option<String> {
    let mut out = String::new();
    for g in doc.groups.iter().filter(|g| g.best.is_some()) {
        let best = g.best.as_ref().expect("filtered");
        out += &format!("[[api]]\nname = {}\n", toml_string(if g.api.is_empty() { "API" } else { &g.api }));
        out += &limiter_lines(best);
        out += "\n";
    }
    (!out.is_empty()).then_some(out)
}

/// The limiter keys of an `[[api]]` for a fitted limiter.
pub fn limiter_lines(best: &Limiter) -> String {
    let mut out = format!("limiter = \"{}\"\n", best.limiter);
    match (best.window.as_ref(), best.window_ns, best.limit) {
        (Some(window), Some(ns), Some(limit)) => {
            let per_second = limit as u128 * crate::time::NANOS_PER_SEC as u128;
            let whole_qps = per_second.is_multiple_of(ns as u128) && best.windows.is_empty();
            if whole_qps {
                out += &format!("window = \"{window}\"\nqps = {}\n", per_second / ns as u128);
            } else {
                let mut windows = vec![format!("{{ window = \"{window}\", limit = {limit} }}")];
                windows.extend(
                    best.windows.iter().map(|w| format!("{{ window = \"{}\", limit = {} }}", w.window, w.limit)),
                );
                out += &format!("windows = [{}]\n", windows.join(", "));
            }
        }
        _ => {
            out += &format!("qps = {}\n", best.qps);
            if let Some(b) = best.burst {
                out += &format!("burst = {b}\n");
            }
            if best.nodelay == Some(true) {
                out += "nodelay = true\n";
            }
        }
    }
    if let Some(a) = best.align {
        out += &format!("align = \"{a}\"\n");
    }
    if best.count_rejected == Some(true) {
        out += "count_rejected = true\n";
    }
    out
}

pub fn json_bytes(doc: &FitDoc) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(doc).expect("plain data serialises");
    bytes.push(b'\n');
    bytes
}

/// The chart of one group: attempts, logged and fitted admissions per second.
pub fn chart(g: &GroupFit) -> Option<Svg> {
    let bins = g.bins.as_ref()?;
    Some(render(WIDTH, 560, |root| draw(g, bins, root)))
}

fn draw(g: &GroupFit, bins: &super::Bins, root: Area<'_>) -> DrawResult {
    let per_s = |n: u64| n as f64 / bins.bin_s;
    let x = |k: usize| k as f64 * bins.bin_s;
    let n = bins.attempts.len();
    let ymax = bins.attempts.iter().chain(&bins.observed).copied().map(per_s).fold(1.0, f64::max) * 1.3;
    let what = match &g.best {
        Some(b) => format!("fitted: {}", b.describe()),
        None => "no fit".to_string(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{} — logged and fitted admissions", label(&group_name(g))), (FONT, 20, FontStyle::Bold))
        .margin(16)
        .margin_right(28)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x(n).max(1.0), 0.0..ymax)?;
    chart
        .configure_mesh()
        .x_desc(format!("seconds from the first bin ({} s bins)", trim_number(bins.bin_s)))
        .y_desc("calls per second")
        .x_label_formatter(&|v| trim_number(*v))
        .y_label_formatter(&|v| trim_number((*v * 100.0).round() / 100.0))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    let steps = |values: &[u64]| -> Vec<(f64, f64)> {
        values.iter().enumerate().flat_map(|(k, &v)| [(x(k), per_s(v)), (x(k + 1), per_s(v))]).collect()
    };
    chart
        .draw_series(LineSeries::new(steps(&bins.attempts), OFFERED.stroke_width(1)))?
        .label("attempts")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], OFFERED.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(steps(&bins.observed), ADMITTED.stroke_width(3)))?
        .label("admitted, as logged")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], ADMITTED.stroke_width(3)));
    if g.best.is_some() {
        chart
            .draw_series(DashedLineSeries::new(steps(&bins.fitted), 6, 4, LIMIT.stroke_width(2)))?
            .label(label(&what).into_owned())
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LIMIT.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

/// `report.html`: the statements, each group's candidates, chart and disagreements, the lines to paste.
pub fn page(doc: &FitDoc, charts: &[String]) -> String {
    let mut page = Page::new(&format!("quotasim fit — {}", doc.log));
    let mut lines: Vec<String> = doc.groups.iter().map(|g| format!("{}: {}", group_name(g), g.statement)).collect();
    lines.extend(log_notes(doc));
    page.verdict(&lines);
    for (i, g) in doc.groups.iter().enumerate() {
        page.heading(&group_name(g));
        page.paragraph(&format!(
            "{} attempts, {} throttled ({}).",
            crate::text::thousands(g.attempts),
            crate::text::thousands(g.throttled),
            percent(g.throttled as f64 / g.attempts.max(1) as f64)
        ));
        if let Some(svg) = charts.get(i) {
            page.figure(svg);
        }
        if !g.candidates.is_empty() {
            let rows: Vec<Vec<Cell>> = g
                .candidates
                .iter()
                .map(|c| {
                    vec![
                        Cell::Num(percent(c.agreement)),
                        Cell::Text(c.limiter.to_string()),
                        Cell::Num(trim_number((c.qps * 1000.0).round() / 1000.0)),
                        Cell::Text(c.describe()),
                    ]
                })
                .collect();
            page.table(&["agreement", "limiter", "qps", "parameters"], &rows);
        }
        if !g.disagreements.is_empty() {
            page.note(&format!(
                "Where the fit disagrees: {} attempts it admits were throttled in the log, {} it throttles were admitted. The first:",
                crate::text::thousands(g.fit_admits_logged_throttles),
                crate::text::thousands(g.fit_throttles_logged_admits)
            ));
            let rows: Vec<Vec<Cell>> = g
                .disagreements
                .iter()
                .map(|d| {
                    vec![Cell::Num(d.line.to_string()), Cell::Text(d.time.clone()), Cell::Text(d.logged.to_string())]
                })
                .collect();
            page.table(&["line", "time", "logged"], &rows);
        }
    }
    if let Some(lines) = scenario_lines(doc) {
        page.heading("For a scenario");
        page.preformatted(&lines);
    }
    page.finish()
}

/// Writes `fit.json`, the charts and `report.html` into `dir` as one set.
pub fn write(
    doc: &FitDoc,
    dir: &std::path::Path,
    formats: Option<crate::report::chart::Formats>,
) -> Result<(Vec<std::path::PathBuf>, Vec<std::path::PathBuf>), crate::Error> {
    let mut set = crate::report::OutputSet::new(dir, "fit")?;
    set.add_bytes("fit.json", &json_bytes(doc))?;
    let mut svgs = Vec::new();
    if let Some(formats) = formats {
        for (i, g) in doc.groups.iter().enumerate() {
            if let Some(svg) = chart(g) {
                let name = if i == 0 { "fit".to_string() } else { format!("fit-{}", i + 1) };
                svgs.push(crate::report::chart::add_chart(&mut set, dir, &name, svg, formats)?);
            }
        }
    }
    set.add_bytes("report.html", page(doc, &svgs).as_bytes())?;
    let removed = std::mem::take(&mut set.removed_leftovers);
    Ok((set.commit()?, removed))
}
