//! Advice charts: `advice-qps.png`, the first target's metric against the QPS tried for each (account,
//! API), with the target's bound and the answer marked; `advice-plans.png`, each combination of offers
//! as its cost against its throttle rate, the cheapest that meets the targets marked.

use super::output::AdviceDoc;
use crate::report::chart::{
    ADMITTED, Area, CHANGE, DrawResult, FONT, LIMIT, THROTTLED, WIDTH, legend, render, trim_number,
};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::report::chart::Svg;

const PALETTE: [RGBColor; 6] = [CHANGE, ADMITTED, THROTTLED, RGBColor(148, 103, 189), RGBColor(230, 140, 20), LIMIT];

/// The charts the advice has data for, by file name.
pub fn charts(doc: &AdviceDoc) -> Vec<(&'static str, Svg)> {
    let mut out = Vec::new();
    let first = doc.targets.first();
    if first.is_some() && doc.least_qps.iter().any(|q| q.points.iter().any(|p| !p.checks.is_empty())) {
        out.push(("advice-qps", render(WIDTH, 620, |root| qps_chart(doc, root))));
    }
    if doc.plans.as_ref().is_some_and(|p| !p.candidates.is_empty()) {
        out.push(("advice-plans", render(WIDTH, 620, |root| plans_chart(doc, root))));
    }
    out
}

/// One pair's search: its name, its points as (QPS, mean, lo, hi), and its answer.
type Line = (String, Vec<(f64, f64, f64, f64)>, Option<u32>);

/// A log scale's bottom for values that may be zero: a tenth of the smallest positive value or bound, so
/// that a value at the bound and one a little past it sit apart; zeros are drawn on the bottom edge.
fn log_floor(values: impl Iterator<Item = f64>, bound: f64) -> f64 {
    let least = values.filter(|v| *v > 0.0).fold(if bound > 0.0 { bound } else { f64::INFINITY }, f64::min);
    if least.is_finite() { least / 10.0 } else { 1e-3 }
}

/// Log-axis labels: 0.1, 1, 10, 100 (and 2 and 5 between) without trailing zeros.
fn log_label(y: f64) -> String {
    if y >= 1.0 { crate::report::chart::short_number(y) } else { format!("{}", (y * 1e6).round() / 1e6) }
}

fn qps_chart(doc: &AdviceDoc, root: Area<'_>) -> DrawResult {
    let target = &doc.targets[0];
    // Rates read in percent, as everywhere else in the charts.
    let (scale, y_words) = if target.metric == "throttle_rate" {
        (100.0, "throttle rate (%)".to_string())
    } else {
        (1.0, target.metric.clone())
    };
    let bound = target.bound * scale;
    // Each pair's points in QPS order: (qps, mean, lo, hi) of the first target's check.
    let lines: Vec<Line> = doc
        .least_qps
        .iter()
        .map(|q| {
            let mut pts: Vec<(f64, f64, f64, f64)> = q
                .points
                .iter()
                .filter_map(|p| p.checks.iter().find(|c| c.target == target.text).map(|c| (p.value as f64, c)))
                .map(|(x, c)| (x, c.estimate.mean * scale, c.estimate.low() * scale, c.estimate.high() * scale))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (format!("{}/{}", crate::text::label(&q.account), crate::text::label(&q.api)), pts, q.least_qps)
        })
        .collect();
    let all = || lines.iter().flat_map(|l| l.1.iter());
    let xmax = all().fold(1.0f64, |x, p| x.max(p.0));
    let ymax = all().fold(bound.abs(), |y, p| y.max(p.3));
    // A log scale: the bound and the values just past it (1 % against 1.3 %) sit apart even when the
    // search began at 90 %; zeros lie on the bottom edge. The top decade is left free for the legend.
    let floor = log_floor(all().flat_map(|p| [p.1, p.2]), bound);
    let at = |y: f64| y.max(floor);
    let top = ymax.max(floor * 10.0) * 8.0;
    let x_end = xmax * 1.08 + 1.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{} — least QPS for {} ({} replications, 95% intervals)", doc.scenario, target.text, doc.reps),
            (FONT, 20, FontStyle::Bold),
        )
        .margin(16)
        .margin_right(28)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..x_end, (floor..top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("QPS held for the whole run")
        .y_desc(format!("{y_words}, log scale (0 on the bottom edge)"))
        .x_label_formatter(&|x| trim_number(*x))
        .y_label_formatter(&|y| log_label(*y))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    chart
        .draw_series(LineSeries::new([(0.0, at(bound)), (x_end, at(bound))], LIMIT.stroke_width(2)))?
        .label(format!("target {}", target.text))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LIMIT.stroke_width(2)));
    for (i, (name, pts, answer)) in lines.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        for p in pts {
            chart.draw_series(std::iter::once(PathElement::new(
                [(p.0, at(p.2)), (p.0, at(p.3))],
                colour.stroke_width(1),
            )))?;
        }
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, at(p.1))), colour.stroke_width(2)).point_size(3))?
            .label(match answer {
                Some(a) => format!("{name}: {a} QPS"),
                None => format!("{name}: not met"),
            })
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
        if let Some(p) = answer.and_then(|a| pts.iter().find(|p| p.0 == a as f64)) {
            chart.draw_series(std::iter::once(Circle::new((p.0, at(p.1)), 9, colour.stroke_width(3))))?;
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

fn plans_chart(doc: &AdviceDoc, root: Area<'_>) -> DrawResult {
    let plans = doc.plans.as_ref().expect("drawn only with plans");
    // The throttle-rate target, when there is one, drawn where the combinations must fall left of.
    let bound = doc.targets.iter().find(|t| t.metric == "throttle_rate" && t.scope.is_none()).map(|t| t.bound * 100.0);
    let rate = |c: &super::purchase::Candidate| c.throttle_rate * 100.0;
    // Log axes both ways: the combinations that matter crowd near no throttling and the least cost.
    let x_floor = log_floor(plans.candidates.iter().map(rate), bound.unwrap_or(0.0));
    let x_top = plans.candidates.iter().map(rate).fold(x_floor * 10.0, f64::max) * 1.5;
    let y_floor = log_floor(plans.candidates.iter().map(|c| c.cost.mean), 0.0);
    // The top two decades are left free for the legend, so that it never covers a point.
    let y_top = plans.candidates.iter().map(|c| c.cost.mean).fold(y_floor * 10.0, f64::max) * 60.0;
    let money = match &plans.currency {
        Some(c) => format!("cost over the run ({}), log scale", crate::text::label(c)),
        None => "cost over the run, log scale".to_string(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{} — cost against throttling, {} combinations of the offers",
                doc.scenario,
                plans.candidates.len()
            ),
            (FONT, 20, FontStyle::Bold),
        )
        .margin(16)
        .margin_right(28)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((x_floor..x_top).log_scale(), (y_floor..y_top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("throttle rate (%), log scale (0 on the left edge)")
        .y_desc(money)
        .x_label_formatter(&|x| log_label(*x))
        .y_label_formatter(&|y| log_label(*y))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    let point = |c: &super::purchase::Candidate| (rate(c).max(x_floor), c.cost.mean.max(y_floor));
    if let Some(b) = bound {
        let b = b.max(x_floor);
        chart
            .draw_series(DashedLineSeries::new([(b, y_floor), (b, y_top)], 8, 5, LIMIT.stroke_width(2)))?
            .label(format!("target: throttle rate at most {}%", trim_number(b)))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LIMIT.stroke_width(2)));
    }
    chart
        .draw_series(plans.candidates.iter().filter(|c| c.met).map(|c| Circle::new(point(c), 5, ADMITTED.filled())))?
        .label("meets the targets")
        .legend(|(x, y)| Circle::new((x + 9, y), 5, ADMITTED.filled()));
    chart
        .draw_series(plans.candidates.iter().filter(|c| !c.met).map(|c| Circle::new(point(c), 5, THROTTLED.filled())))?
        .label("misses them")
        .legend(|(x, y)| Circle::new((x + 9, y), 5, THROTTLED.filled()));
    let base = &plans.candidates[plans.baseline];
    chart
        .draw_series(std::iter::once(Circle::new(point(base), 10, LIMIT.stroke_width(2))))?
        .label("today's plans")
        .legend(|(x, y)| Circle::new((x + 9, y), 6, LIMIT.stroke_width(2)));
    if let Some(i) = plans.chosen {
        let c = &plans.candidates[i];
        chart
            .draw_series(std::iter::once(Circle::new(point(c), 12, CHANGE.stroke_width(3))))?
            .label(format!("cheapest meeting them: {}", crate::text::label(&c.label())))
            .legend(|(x, y)| Circle::new((x + 9, y), 6, CHANGE.stroke_width(3)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}
