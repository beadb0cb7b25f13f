//! `timeline.png`: admitted and throttled attempts per second against the limit in force, one panel per
//! (account, API), with a labelled line at each plan change.

use super::{ADMITTED, Area, CHANGE, DrawResult, FONT, LIMIT, THROTTLED, WIDTH, legend, render, trim_number};
use crate::report::summary::{Report, Series};
use crate::time::secs_f64;
use plotters::prelude::*;
use plotters::style::FontStyle;

const PANEL_HEIGHT: u32 = 320;
const HEADER_HEIGHT: u32 = 50;
/// Panels beyond this many are left out of the chart (the CSV files hold every series).
pub const MAX_PANELS: usize = 8;

/// Seconds, minutes or hours, whichever keeps the x axis readable.
fn time_unit(duration_s: f64) -> (f64, &'static str) {
    if duration_s <= 900.0 {
        (1.0, "s")
    } else if duration_s <= 2.0 * 86_400.0 {
        (60.0, "min")
    } else {
        (3_600.0, "h")
    }
}

/// Draws the timeline chart as SVG.
pub fn timeline(report: &Report) -> super::Svg {
    let panels = report.series.len().clamp(1, MAX_PANELS);
    render(WIDTH, HEADER_HEIGHT + PANEL_HEIGHT * panels as u32, |root| draw(report, root))
}

fn draw(report: &Report, root: Area<'_>) -> DrawResult {
    let (header, body) = root.split_vertically(HEADER_HEIGHT);
    let s = &report.summary;
    let shown = report.series.len().min(MAX_PANELS);
    let more = if report.series.len() > shown {
        format!(" (first {shown} of {} shown)", report.series.len())
    } else {
        String::new()
    };
    header.titled(
        &format!("{} — admitted and throttled attempts per second{more}", s.scenario),
        (FONT, 24, FontStyle::Bold),
    )?;
    let areas = body.split_evenly((shown.max(1), 1));
    for (area, series) in areas.iter().zip(&report.series) {
        panel(area, series, report)?;
    }
    Ok(())
}

fn panel(area: &Area<'_>, series: &Series, report: &Report) -> DrawResult {
    let duration_s = report.summary.duration_s;
    let (unit, unit_name) = time_unit(duration_s);
    let bin_s = secs_f64(report.bin);
    let per_s = |n: u64| n as f64 / bin_s;
    // Steps: each bin is drawn flat from its start to its end.
    let step = |value: &dyn Fn(usize) -> f64| -> Vec<(f64, f64)> {
        let mut pts = Vec::with_capacity(series.bins.len() * 2);
        for i in 0..series.bins.len() {
            let (a, b) = (i as f64 * bin_s, ((i + 1) as f64 * bin_s).min(duration_s));
            pts.push((a / unit, value(i)));
            pts.push((b / unit, value(i)));
        }
        pts
    };
    let total = step(&|i| per_s(series.bins[i].admitted + series.bins[i].throttled));
    let admitted = step(&|i| per_s(series.bins[i].admitted));
    let mut limit = Vec::new();
    for (i, change) in series.limits.iter().enumerate() {
        let end = series.limits.get(i + 1).map_or(duration_s, |next| secs_f64(next.at));
        let from = secs_f64(change.at);
        limit.push((from / unit, change.limit_qps as f64));
        limit.push((end / unit, change.limit_qps as f64));
    }
    let peak = total.iter().chain(&limit).map(|p| p.1).fold(1.0, f64::max);

    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} / {}", series.account, series.api), (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..duration_s / unit, 0.0..peak * 1.25)?;
    chart
        .configure_mesh()
        .x_desc(format!("time since start ({unit_name}); bins of {}", crate::time::format_duration(report.bin.max(1))))
        .y_desc("attempts per second")
        .x_label_formatter(&|x| trim_number(*x))
        .y_label_formatter(&|y| trim_number(*y))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    chart
        .draw_series(AreaSeries::new(total, 0.0, THROTTLED.mix(0.55)))?
        .label("throttled")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], THROTTLED.mix(0.55).filled()));
    chart
        .draw_series(AreaSeries::new(admitted, 0.0, ADMITTED.mix(0.75)))?
        .label("admitted")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], ADMITTED.mix(0.75).filled()));
    chart
        .draw_series(LineSeries::new(limit, LIMIT.stroke_width(2)))?
        .label("limit (QPS)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], LIMIT.stroke_width(2)));
    // A labelled line at every plan change.
    let top = peak * 1.25;
    for change in series.limits.iter().skip(1) {
        let x = secs_f64(change.at) / unit;
        chart.draw_series(std::iter::once(PathElement::new([(x, 0.0), (x, top)], CHANGE.stroke_width(1))))?;
        let label = format!("{} {} QPS", change.plan.kind().name(), change.limit_qps);
        let nudge = duration_s / unit * 0.004;
        chart.draw_series(std::iter::once(Text::new(
            label,
            (x + nudge, top * 0.97),
            (FONT, 13).into_font().color(&CHANGE),
        )))?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}
