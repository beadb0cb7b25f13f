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
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
    // (metric, title, scale, whether more is better)
    const PANELS: [(&str, &str, f64, bool); 6] = [
        ("throttle_rate", "throttle rate (%)", 100.0, false),
        ("attempts_per_request", "attempts per request", 1.0, false),
        ("admitted_qps", "admitted per second", 1.0, true),
        ("latency_p50_s", "latency p50 (s)", 1.0, false),
        ("latency_p99_s", "latency p99 (s)", 1.0, false),
        ("", "requests not served (%)", 100.0, false),
    ];
    let (header, body) = root.split_vertically(44);
    header.titled(
        &format!(
            "{} — {} compared, best first ({} replications, 95% intervals)",
            doc.scenario,
            human_key(&doc.params[0]),
            doc.reps
        ),
        (FONT, 20, FontStyle::Bold),
    )?;
    let n = doc.points.len();
    for (area, (metric, title, scale, more_is_better)) in body.split_evenly((2, 3)).iter().zip(PANELS) {
        let mut bars: Vec<(f64, f64, f64, &str)> = doc
            .points
            .iter()
            .map(|p| match p.metrics.iter().find(|m| m.metric == metric) {
                Some(m) => (m.mean * scale, m.low() * scale, m.high() * scale, p.values[0].as_str()),
                None => {
                    let v = not_served(p) * scale;
                    (v, v, v, p.values[0].as_str())
                }
            })
            .collect();
        // Ranked, the best at the top; ties keep the scenario's order.
        bars.sort_by(|a, b| if more_is_better { b.0.total_cmp(&a.0) } else { a.0.total_cmp(&b.0) });
        let top = bars.iter().map(|b| b.2.max(b.0)).fold(f64::MIN_POSITIVE, f64::max) * 1.15;
        // Horizontal bars: the names read along the left axis, the first at the top.
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..top, -0.5..n as f64 - 0.5)?;
        let labels: Vec<String> = bars.iter().map(|b| crate::text::label(b.3).chars().take(16).collect()).collect();
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
        for (i, (mean, lo, hi, _)) in bars.iter().enumerate() {
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

fn distinct(doc: &SweepDoc, axis: usize) -> Vec<f64> {
    let mut v: Vec<f64> = doc.points.iter().map(|p| p.axis[axis]).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// Where the colour scale puts a throttle rate, from 0 to 1: piecewise linear between these stops, so
/// that the band that matters (0 to 5 %) takes half the scale and 20 to 100 % a quarter.
const HEAT_STOPS: [(f64, f64); 5] = [(0.0, 0.0), (0.01, 0.25), (0.05, 0.5), (0.2, 0.75), (1.0, 1.0)];
/// The colours at those stops: pale green (no throttling), yellow, orange, red, dark red.
const HEAT_COLOURS: [(u8, u8, u8); 5] = [(237, 248, 233), (255, 237, 140), (250, 160, 60), (215, 48, 39), (120, 0, 20)];

fn heat_position(rate: f64) -> f64 {
    let r = rate.clamp(0.0, 1.0);
    HEAT_STOPS
        .windows(2)
        .find(|w| r <= w[1].0)
        .map_or(1.0, |w| w[0].1 + (w[1].1 - w[0].1) * (r - w[0].0) / (w[1].0 - w[0].0))
}

fn heat_colour(rate: f64) -> RGBColor {
    let t = heat_position(rate) * (HEAT_COLOURS.len() - 1) as f64;
    let i = (t.floor() as usize).min(HEAT_COLOURS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (HEAT_COLOURS[i], HEAT_COLOURS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The throttle rate at which the heatmap draws its contour unless told otherwise.
pub const CONTOUR: f64 = 0.01;

/// A vertical colour bar on the heatmap's scale, labelled at its stops.
fn colour_bar(area: &Area<'_>) -> DrawResult {
    let mut bar = ChartBuilder::on(area)
        .margin(16)
        .margin_top(20)
        .margin_bottom(66)
        .y_label_area_size(50)
        .caption("throttled", (FONT, 14))
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    bar.configure_mesh().disable_mesh().disable_x_axis().disable_y_axis().draw()?;
    bar.draw_series((0..200).map(|k| {
        let (a, b) = (k as f64 / 200.0, (k + 1) as f64 / 200.0);
        // The rate at this height: the stops' mapping inverted.
        let rate = HEAT_STOPS
            .windows(2)
            .find(|w| a <= w[1].1)
            .map_or(1.0, |w| w[0].0 + (w[1].0 - w[0].0) * (a - w[0].1) / (w[1].1 - w[0].1));
        Rectangle::new([(0.0, a), (1.0, b)], heat_colour(rate).filled())
    }))?;
    let style = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center));
    for (rate, at) in HEAT_STOPS {
        bar.draw_series(std::iter::once(PathElement::new([(-0.15, at), (0.0, at)], BLACK.stroke_width(1))))?;
        bar.draw_series(std::iter::once(Text::new(
            format!("{}%", trim_number(rate * 100.0)),
            (-0.25, at),
            style.clone(),
        )))?;
    }
    Ok(())
}

/// Where along a column of (index, value) the value crosses `level`, interpolated between neighbouring
/// cells (in index units), if it does.
fn crossing(column: &[(f64, f64)], level: f64) -> Option<f64> {
    column.windows(2).find(|w| (w[0].1 - level) * (w[1].1 - level) <= 0.0 && w[0].1 != w[1].1).map(|w| {
        let f = (level - w[0].1) / (w[1].1 - w[0].1);
        w[0].0 + f * (w[1].0 - w[0].0)
    })
}

fn heatmap(doc: &SweepDoc, root: Area<'_>, contour_at: f64) -> DrawResult {
    // Each distinct value gets an equal cell, whatever the spacing of the values (1, 2, 4, 8).
    let (xs, ys) = (distinct(doc, 0), distinct(doc, 1));
    let index = |values: &[f64], v: f64| values.iter().position(|x| *x == v).unwrap_or(0) as f64;
    let metric =
        |p: &super::PointResult, name: &str| p.metrics.iter().find(|m| m.metric == name).map_or(0.0, |m| m.mean);
    // Where demand meets the limit, and where the throttle rate crosses the contour: along each column, the
    // interpolated row at which demand / limit crosses 1, and the rate its level.
    let mut boundary = Vec::new();
    let mut contour = Vec::new();
    for &x in &xs {
        let column = |value: &dyn Fn(&super::PointResult) -> Option<f64>| {
            let mut c: Vec<(f64, f64)> = doc
                .points
                .iter()
                .filter(|p| p.axis[0] == x)
                .filter_map(|p| value(p).map(|v| (index(&ys, p.axis[1]), v)))
                .collect();
            c.sort_by(|a, b| a.0.total_cmp(&b.0));
            c
        };
        let demand = column(&|p| p.demand_qps.map(|d| d / metric(p, "limit_qps").max(f64::MIN_POSITIVE)));
        if let Some(y) = crossing(&demand, 1.0) {
            boundary.push((index(&xs, x), y));
        }
        if let Some(y) = crossing(&column(&|p| Some(metric(p, "throttle_rate"))), contour_at) {
            contour.push((index(&xs, x), y));
        }
    }
    let (header, root) = root.split_vertically(64);
    let key = header.titled(&format!("{} — throttle rate over the grid", doc.scenario), (FONT, 22, FontStyle::Bold))?;
    // Only the lines drawn have a legend entry.
    let mut entries = Vec::new();
    if boundary.len() >= 2 {
        entries.push((Swatch::Line(LIMIT.to_rgba(), 3), "demand = limit (C = L·R)".to_string()));
    }
    if contour.len() >= 2 {
        entries.push((Swatch::Dashed(CHANGE.to_rgba(), 3), format!("{}% throttled", trim_number(contour_at * 100.0))));
    }
    legend_strip(&key, &entries)?;
    let (root, bar_area) = root.split_horizontally(WIDTH - 120);
    colour_bar(&bar_area)?;
    let (nx, ny) = (xs.len(), ys.len());
    let mut chart = ChartBuilder::on(&root)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)?;
    // Ticks at whole indices only, each reading its value.
    let tick = |values: &[f64], v: f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 {
            values.get(i as usize).map(|x| trim_number(*x)).unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(nx + 1)
        .y_labels(ny + 1)
        .x_desc(axis_label(doc, 0))
        .y_desc(axis_label(doc, 1))
        .x_label_formatter(&|x| tick(&xs, *x))
        .y_label_formatter(&|y| tick(&ys, *y))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    for p in &doc.points {
        let (i, j) = (index(&xs, p.axis[0]), index(&ys, p.axis[1]));
        let rate = metric(p, "throttle_rate");
        chart.draw_series(std::iter::once(Rectangle::new(
            [(i - 0.5, j - 0.5), (i + 0.5, j + 0.5)],
            heat_colour(rate).filled(),
        )))?;
    }
    if boundary.len() >= 2 {
        chart.draw_series(LineSeries::new(boundary, LIMIT.stroke_width(3)))?;
    }
    if contour.len() >= 2 {
        chart.draw_series(DashedLineSeries::new(contour, 10, 6, CHANGE.stroke_width(3)))?;
    }
    // Cell labels last, each on a pale pad, so that a line through the cell never runs through its words.
    if nx * ny <= 144 {
        let style = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
        for p in &doc.points {
            let (i, j) = (index(&xs, p.axis[0]), index(&ys, p.axis[1]));
            let words = percent_label(metric(p, "throttle_rate"));
            let half_w = (words.len() as f64 * 4.2 + 5.0) / (root.dim_in_pixel().0 as f64 - 112.0) * nx as f64;
            let half_h = 10.0 / (root.dim_in_pixel().1 as f64 - 82.0) * ny as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(i - half_w, j - half_h), (i + half_w, j + half_h)],
                WHITE.mix(0.8).filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(words, (i, j), style.clone())))?;
        }
    }
    Ok(())
}

/// A throttle rate for a cell: to a tenth below 10 %, where the contour lives, whole above.
fn percent_label(rate: f64) -> String {
    let pct = rate * 100.0;
    if pct > 0.0 && pct < 10.0 { format!("{pct:.1}%") } else { format!("{pct:.0}%") }
}
