//! Sweep charts, drawn from a [`SweepDoc`] alone (so a merged sweep draws the same):
//! - one parameter: `sweep-qps.png`, offered and admitted attempts per second against the swept value, with
//!   the limit and the Little's-law demand C/R, and the throttle rate on a second axis: where concurrency
//!   outruns QPS; and `sweep-metrics.png`, each headline metric with its 95 % band;
//! - two parameters: `sweep-heatmap.png`, the throttle rate over the grid with the line where demand
//!   equals the limit (C = L·R for threads against response time).

use super::output::SweepDoc;
use crate::report::chart::{
    ADMITTED, Area, CHANGE, DrawResult, FONT, LIMIT, OFFERED, Swatch, THROTTLED, WIDTH, legend, legend_strip, render,
    trim_number,
};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::report::chart::Svg;

/// The charts that fit the sweep's shape, by file name.
/// `contour`: the throttle rate the heatmap draws its contour at (0.01 for 1 %).
pub fn charts(doc: &SweepDoc, contour: f64) -> Vec<(&'static str, Svg)> {
    // Nothing to draw, or an axis no chart can scale to.
    if doc.points.is_empty() || doc.points.iter().any(|p| p.axis.iter().any(|x| !x.is_finite())) {
        return Vec::new();
    }
    // Named values (variants, whole policies) have no order for a line to follow: bars, side by side.
    let named = |v: &String| v.parse::<f64>().is_err() && crate::time::parse_duration(v).is_err();
    if doc.points.iter().any(|p| p.values.iter().any(named)) {
        return match doc.params.len() {
            1 => vec![("sweep-compare", render(WIDTH, 760, |root| compare_chart(doc, root)))],
            _ => Vec::new(),
        };
    }
    match doc.params.len() {
        1 => vec![
            ("sweep-qps", render(WIDTH, 620, |root| qps_chart(doc, root))),
            ("sweep-metrics", render(WIDTH, 760, |root| metrics_chart(doc, root))),
        ],
        2 => vec![("sweep-heatmap", render(WIDTH, 760, |root| heatmap(doc, root, contour)))],
        _ => Vec::new(),
    }
}

/// (x, mean, lo, hi) of `metric` for each point, in x order.
fn series(doc: &SweepDoc, metric: &str) -> Vec<(f64, f64, f64, f64)> {
    let mut out: Vec<(f64, f64, f64, f64)> = doc
        .points
        .iter()
        .filter_map(|p| p.metrics.iter().find(|m| m.metric == metric).map(|m| (p.axis[0], m.mean, m.low(), m.high())))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

fn x_range(doc: &SweepDoc) -> std::ops::Range<f64> {
    let xs = doc.points.iter().map(|p| p.axis[0]);
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if hi > lo { lo..hi } else { lo - 0.5..hi + 0.5 }
}

/// What a swept key means, in words: `client.workers.threads` is "threads (client workers)".
pub fn human_key(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    match parts.as_slice() {
        ["client", name, "threads"] => format!("threads (client {name})"),
        ["client", name, "rate"] => format!("requests per second (client {name})"),
        ["client", name, "requests"] => format!("backlog (client {name})"),
        ["client", name, "retry", "wait"] => format!("retry wait (client {name})"),
        ["client", name, "retry", "max_attempts"] => format!("attempts at most (client {name})"),
        ["client", name, "retry", "base"] => format!("backoff base (client {name})"),
        ["client", name, "retry"] => format!("retry policy (client {name})"),
        ["client", name, "pace", "rate"] => format!("pacing rate (client {name})"),
        ["api", name, "latency", "mean"] => format!("mean response time ({name})"),
        ["api", name, "qps"] => format!("pay-as-you-go QPS ({name})"),
        ["server", "throttle_latency"] => "throttle reply time".into(),
        ["server", "window"] => "limiter window".into(),
        _ => key.to_string(),
    }
}

/// A parameter's axis title: what it means, with the unit when its values are durations (drawn in
/// seconds).
fn axis_label(doc: &SweepDoc, i: usize) -> String {
    let durations = doc.points.first().is_some_and(|p| {
        let v = &p.values[i];
        v.parse::<f64>().is_err() && crate::time::parse_duration(v).is_ok()
    });
    let words = human_key(&doc.params[i]);
    if durations { format!("{words} (s)") } else { words }
}

/// Whether the swept key moves demand against the limit (threads, arrival rate, response time), which is
/// what "where concurrency outruns QPS" is about.
fn sweeps_demand(key: &str) -> bool {
    key.ends_with(".threads") || key.ends_with(".rate") || key.ends_with(".latency.mean")
}

/// The part of a polyline below `top`, ending at the point where it first crosses it.
fn clip_below(line: &[(f64, f64)], top: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(line.len());
    for (i, &(x, y)) in line.iter().enumerate() {
        if y <= top {
            out.push((x, y));
            continue;
        }
        if let Some(&(px, py)) = i.checked_sub(1).map(|j| &line[j]) {
            out.push((px + (x - px) * (top - py) / (y - py), top));
        }
        break;
    }
    out
}

fn band(points: &[(f64, f64, f64, f64)]) -> Vec<(f64, f64)> {
    points.iter().map(|p| (p.0, p.3)).chain(points.iter().rev().map(|p| (p.0, p.2))).collect()
}

fn qps_chart(doc: &SweepDoc, root: Area<'_>) -> DrawResult {
    let (offered, admitted, limit, throttle) = (
        series(doc, "offered_qps"),
        series(doc, "admitted_qps"),
        series(doc, "limit_qps"),
        series(doc, "throttle_rate"),
    );
    let mut demand: Vec<(f64, f64)> = doc.points.iter().filter_map(|p| p.demand_qps.map(|d| (p.axis[0], d))).collect();
    demand.sort_by(|a, b| a.0.total_cmp(&b.0));
    let peak = offered
        .iter()
        .map(|p| p.3)
        .chain(limit.iter().map(|p| p.1))
        .chain(admitted.iter().map(|p| p.3))
        .fold(1.0, f64::max);
    // The demand line may soar far above the rest: it ends where it leaves the data's height. The band
    // above that is the legend's, so the legend never covers a line.
    let data_top = peak * 1.05;
    let top = peak * 1.45;
    let demand = clip_below(&demand, data_top);
    let xs = x_range(doc);

    let title = if sweeps_demand(&doc.params[0]) {
        format!("{} — where concurrency outruns QPS ({} replications per point)", doc.scenario, doc.reps)
    } else {
        format!(
            "{} — attempts against {} ({} replications per point)",
            doc.scenario,
            human_key(&doc.params[0]),
            doc.reps
        )
    };
    // The knee: where the demand line crosses the limit (C = L·R for threads against response time).
    let knee = demand.windows(2).find_map(|w| {
        let at = |x: f64| limit.iter().min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs())).map_or(0.0, |p| p.1);
        let (d0, d1) = (w[0].1 - at(w[0].0), w[1].1 - at(w[1].0));
        (d0 < 0.0 && d1 >= 0.0 || d0 > 0.0 && d1 <= 0.0).then(|| w[0].0 + (w[1].0 - w[0].0) * d0 / (d0 - d1))
    });
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22, FontStyle::Bold))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .right_y_label_area_size(70)
        .build_cartesian_2d(xs.clone(), 0.0..top)?
        .set_secondary_coord(xs, 0.0..1.45);
    chart
        .configure_mesh()
        .x_desc(axis_label(doc, 0))
        .y_desc("attempts per second")
        .x_label_formatter(&|x| trim_number(*x))
        .y_label_formatter(&|y| trim_number(*y))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("throttle rate")
        .y_label_formatter(&|y| if *y <= 1.0 + 1e-9 { format!("{:.0}%", y * 100.0) } else { String::new() })
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;

    chart.draw_series(std::iter::once(Polygon::new(band(&offered), OFFERED.mix(0.2))))?;
    chart.draw_series(std::iter::once(Polygon::new(band(&admitted), ADMITTED.mix(0.25))))?;
    chart
        .draw_series(LineSeries::new(offered.iter().map(|p| (p.0, p.1)), OFFERED.stroke_width(3)).point_size(3))?
        .label("offered attempts/s")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], OFFERED.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(admitted.iter().map(|p| (p.0, p.1)), ADMITTED.stroke_width(3)).point_size(3))?
        .label("admitted/s")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], ADMITTED.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(limit.iter().map(|p| (p.0, p.1)), LIMIT.stroke_width(2)))?
        .label("limit L (QPS)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LIMIT.stroke_width(2)));
    if let Some(x) = knee {
        chart
            .draw_series(DashedLineSeries::new([(x, 0.0), (x, data_top)], 4, 4, LIMIT.mix(0.6).stroke_width(1)))?
            .label(format!("knee: demand = limit at {}", trim_number(x)))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LIMIT.mix(0.6).stroke_width(1)));
    }
    if !demand.is_empty() {
        chart
            .draw_series(DashedLineSeries::new(demand, 8, 6, CHANGE.stroke_width(2)))?
            .label("demand C/R (Little's law)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], CHANGE.stroke_width(2)));
    }
    chart
        .draw_secondary_series(
            LineSeries::new(throttle.iter().map(|p| (p.0, p.1)), THROTTLED.stroke_width(2)).point_size(3),
        )?
        .label("throttle rate (right axis)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], THROTTLED.stroke_width(2)));
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}

/// The share of requests not served (given up, dropped, rejected locally) of a point, from the means.
fn not_served(p: &super::PointResult) -> f64 {
    let mean = |name: &str| p.metrics.iter().find(|m| m.metric == name).map_or(0.0, |m| m.mean);
    let requests = mean("requests");
    if requests > 0.0 { (mean("gave_up") + mean("dropped") + mean("rejected_locally")) / requests } else { 0.0 }
}

/// `sweep-compare.png`: for a sweep of named values, one bar per value and metric, with its 95 % interval.
fn compare_chart(doc: &SweepDoc, root: Area<'_>) -> DrawResult {
    const PANELS: [(&str, &str, f64); 6] = [
        ("throttle_rate", "throttle rate (%)", 100.0),
        ("attempts_per_request", "attempts per request", 1.0),
        ("admitted_qps", "admitted per second", 1.0),
        ("latency_p50_s", "latency p50 (s)", 1.0),
        ("latency_p99_s", "latency p99 (s)", 1.0),
        ("", "requests not served (%)", 100.0),
    ];
    let (header, body) = root.split_vertically(44);
    header.titled(
        &format!(
            "{} — {} compared ({} replications, 95% intervals)",
            doc.scenario,
            human_key(&doc.params[0]),
            doc.reps
        ),
        (FONT, 20, FontStyle::Bold),
    )?;
    let n = doc.points.len();
    for (area, (metric, title, scale)) in body.split_evenly((2, 3)).iter().zip(PANELS) {
        let bars: Vec<(f64, f64, f64)> = doc
            .points
            .iter()
            .map(|p| match p.metrics.iter().find(|m| m.metric == metric) {
                Some(m) => (m.mean * scale, m.low() * scale, m.high() * scale),
                None => {
                    let v = not_served(p) * scale;
                    (v, v, v)
                }
            })
            .collect();
        let top = bars.iter().map(|b| b.2.max(b.0)).fold(f64::MIN_POSITIVE, f64::max) * 1.15;
        // Horizontal bars: the names read along the left axis, the first at the top.
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..top, -0.5..n as f64 - 0.5)?;
        let labels: Vec<String> =
            doc.points.iter().map(|p| crate::text::label(&p.values[0]).chars().take(16).collect()).collect();
        let name_at = |y: &f64| {
            let y = *y;
            let i = y.round();
            let row = n as f64 - 1.0 - i;
            if (y - i).abs() < 1e-6 && row >= 0.0 {
                labels.get(row as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&name_at)
            .x_label_formatter(&|x| trim_number(*x))
            .label_style((FONT, 12))
            .draw()?;
        for (i, (mean, lo, hi)) in bars.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - 0.35), (*mean, y + 0.35)],
                CHANGE.mix(0.6).filled(),
            )))?;
            if hi > lo {
                chart.draw_series(std::iter::once(PathElement::new([(*lo, y), (*hi, y)], LIMIT.stroke_width(2))))?;
                for x in [*lo, *hi] {
                    chart.draw_series(std::iter::once(PathElement::new(
                        [(x, y - 0.15), (x, y + 0.15)],
                        LIMIT.stroke_width(2),
                    )))?;
                }
            }
        }
    }
    Ok(())
}

const HEADLINE: [(&str, &str); 6] = [
    ("throttle_rate", "throttle rate (%)"),
    ("admitted_qps", "admitted per second"),
    ("offered_qps", "offered attempts per second"),
    ("attempts_per_request", "attempts per request"),
    ("latency_p50_s", "latency p50 (s)"),
    ("latency_p99_s", "latency p99 (s)"),
];

fn metrics_chart(doc: &SweepDoc, root: Area<'_>) -> DrawResult {
    let (header, body) = root.split_vertically(44);
    header.titled(
        &format!("{} — metrics against {} (mean, 95% interval)", doc.scenario, human_key(&doc.params[0])),
        (FONT, 20, FontStyle::Bold),
    )?;
    for (area, (metric, title)) in body.split_evenly((2, 3)).iter().zip(HEADLINE) {
        let scale = if metric == "throttle_rate" { 100.0 } else { 1.0 };
        let points: Vec<(f64, f64, f64, f64)> =
            series(doc, metric).into_iter().map(|p| (p.0, p.1 * scale, p.2 * scale, p.3 * scale)).collect();
        let top = points.iter().map(|p| p.3).fold(f64::MIN_POSITIVE, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 15))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(x_range(doc), 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc(axis_label(doc, 0))
            .x_label_formatter(&|x| trim_number(*x))
            .y_label_formatter(&|y| trim_number(*y))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 12))
            .draw()?;
        chart.draw_series(std::iter::once(Polygon::new(band(&points), CHANGE.mix(0.2))))?;
        chart.draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), CHANGE.stroke_width(2)).point_size(2))?;
    }
    Ok(())
}

/// Cell edges around sorted distinct values: halfway between neighbours, mirrored at the ends.
fn edges(values: &[f64]) -> Vec<f64> {
    match values.len() {
        0 => Vec::new(),
        1 => vec![values[0] - 0.5, values[0] + 0.5],
        n => {
            let mut e = vec![values[0] - (values[1] - values[0]) / 2.0];
            e.extend(values.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            e.push(values[n - 1] + (values[n - 1] - values[n - 2]) / 2.0);
            e
        }
    }
}

fn distinct(doc: &SweepDoc, axis: usize) -> Vec<f64> {
    let mut v: Vec<f64> = doc.points.iter().map(|p| p.axis[axis]).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

fn heat_colour(rate: f64) -> RGBColor {
    let t = rate.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    RGBColor(mix(240, 160), mix(248, 20), mix(240, 30))
}

/// The throttle rate at which the heatmap draws its contour unless told otherwise.
pub const CONTOUR: f64 = 0.01;

/// A vertical colour bar from 0 % (bottom) to 100 % (top), with ticks.
fn colour_bar(area: &Area<'_>) -> DrawResult {
    let mut bar = ChartBuilder::on(area)
        .margin(16)
        .margin_top(20)
        .margin_bottom(66)
        .y_label_area_size(50)
        .caption("throttled", (FONT, 14))
        .build_cartesian_2d(0.0..1.0, 0.0..100.0)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.0}%"))
        .label_style((FONT, 13))
        .draw()?;
    bar.draw_series((0..100).map(|k| {
        let k = k as f64;
        Rectangle::new([(0.0, k), (1.0, k + 1.0)], heat_colour(k / 100.0).filled())
    }))?;
    Ok(())
}

fn heatmap(doc: &SweepDoc, root: Area<'_>, contour_at: f64) -> DrawResult {
    let (xs, ys) = (distinct(doc, 0), distinct(doc, 1));
    let (ex, ey) = (edges(&xs), edges(&ys));
    let metric =
        |p: &super::PointResult, name: &str| p.metrics.iter().find(|m| m.metric == name).map_or(0.0, |m| m.mean);
    let (header, root) = root.split_vertically(64);
    let key = header.titled(&format!("{} — throttle rate over the grid", doc.scenario), (FONT, 22, FontStyle::Bold))?;
    legend_strip(
        &key,
        &[
            (Swatch::Line(LIMIT.to_rgba(), 3), "demand = limit (C = L·R)".to_string()),
            (Swatch::Dashed(CHANGE.to_rgba(), 3), format!("{}% throttled", trim_number(contour_at * 100.0))),
        ],
    )?;
    let (root, bar_area) = root.split_horizontally(WIDTH - 120);
    colour_bar(&bar_area)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(ex[0]..ex[ex.len() - 1], ey[0]..ey[ey.len() - 1])?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(axis_label(doc, 0))
        .y_desc(axis_label(doc, 1))
        .x_label_formatter(&|x| trim_number(*x))
        .y_label_formatter(&|y| trim_number(*y))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    let label_cells = xs.len() * ys.len() <= 144;
    for p in &doc.points {
        let (i, j) = (
            xs.iter().position(|x| *x == p.axis[0]).unwrap_or(0),
            ys.iter().position(|y| *y == p.axis[1]).unwrap_or(0),
        );
        let rate = metric(p, "throttle_rate");
        chart.draw_series(std::iter::once(Rectangle::new(
            [(ex[i], ey[j]), (ex[i + 1], ey[j + 1])],
            heat_colour(rate).filled(),
        )))?;
        if label_cells {
            let colour = if rate > 0.5 { WHITE } else { BLACK };
            let style = (FONT, 13).into_font().color(&colour).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ));
            chart.draw_series(std::iter::once(Text::new(format!("{:.0}%", rate * 100.0), (xs[i], ys[j]), style)))?;
        }
    }
    // Where demand meets the limit: along each column, the interpolated y at which demand / limit crosses 1.
    let mut boundary = Vec::new();
    for &x in &xs {
        let mut column: Vec<(f64, f64)> = doc
            .points
            .iter()
            .filter(|p| p.axis[0] == x)
            .filter_map(|p| p.demand_qps.map(|d| (p.axis[1], d / metric(p, "limit_qps").max(f64::MIN_POSITIVE))))
            .collect();
        column.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = column.windows(2).find(|w| (w[0].1 - 1.0) * (w[1].1 - 1.0) <= 0.0 && w[0].1 != w[1].1) {
            let f = (1.0 - w[0].1) / (w[1].1 - w[0].1);
            boundary.push((x, w[0].0 + f * (w[1].0 - w[0].0)));
        }
    }
    // Where the throttle rate crosses the contour: along each column, interpolated between neighbouring
    // cells.
    let mut contour = Vec::new();
    for &x in &xs {
        let mut column: Vec<(f64, f64)> =
            doc.points.iter().filter(|p| p.axis[0] == x).map(|p| (p.axis[1], metric(p, "throttle_rate"))).collect();
        column.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) =
            column.windows(2).find(|w| (w[0].1 - contour_at) * (w[1].1 - contour_at) <= 0.0 && w[0].1 != w[1].1)
        {
            let f = (contour_at - w[0].1) / (w[1].1 - w[0].1);
            contour.push((x, w[0].0 + f * (w[1].0 - w[0].0)));
        }
    }
    if boundary.len() >= 2 {
        chart.draw_series(LineSeries::new(boundary, LIMIT.stroke_width(3)))?;
    }
    if contour.len() >= 2 {
        chart.draw_series(DashedLineSeries::new(contour, 10, 6, CHANGE.stroke_width(3)))?;
    }
    Ok(())
}
