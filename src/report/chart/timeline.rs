//! `timeline.png`: admitted and throttled attempts per second against the limit in force, one panel per
//! (account, API), with a labelled line at each plan change, the sub-accounts that share the quota, and a
//! batch's makespan against its floor. Legends sit in a strip above each panel, never over data.

use super::{
    ADMITTED, Area, CHANGE, DrawResult, FONT, LIMIT, Swatch, THROTTLED, WIDTH, legend_strip, render, trim_number,
};
use crate::report::summary::{Report, Series};
use crate::text::label;
use crate::time::secs_f64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const PANEL_HEIGHT: u32 = 340;
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

/// Bin `i`'s start and end in seconds: the last bin ends with the run, so it may be shorter.
fn bin_span(i: usize, bin_s: f64, duration_s: f64) -> (f64, f64) {
    (i as f64 * bin_s, ((i + 1) as f64 * bin_s).min(duration_s))
}

/// `count` events in bin `i` as a rate per second over the bin's true length.
pub fn bin_rate(i: usize, count: f64, bin_s: f64, duration_s: f64) -> f64 {
    let (a, b) = bin_span(i, bin_s, duration_s);
    if b > a { count / (b - a) } else { 0.0 }
}

/// The shade behind the stretches when throttling bites.
const BITES_SHADE: RGBAColor = RGBAColor(214, 39, 40, 0.08);

/// Colours of the sub-accounts' lines, in slot order.
const SUB_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 90, 180),
    RGBColor(148, 103, 189),
    RGBColor(23, 160, 170),
    RGBColor(188, 120, 30),
    RGBColor(120, 120, 120),
    RGBColor(200, 70, 160),
];

/// The most bins a panel draws: about one for every seven pixels of its width. Finer bins (a 1 s bin over 20
/// minutes) draw a comb where nothing can be seen; the chart sums them (the CSV keeps them all).
const CHART_BINS: usize = 150;

/// `series` with every `k` bins summed into one (limits kept as they are).
fn coarser(series: &Series, k: usize) -> Series {
    let sum = |chunk: &[crate::stats::Bin]| crate::stats::Bin {
        admitted: chunk.iter().map(|b| b.admitted).sum(),
        throttled: chunk.iter().map(|b| b.throttled).sum(),
    };
    Series {
        account: series.account.clone(),
        api: series.api.clone(),
        bins: series.bins.chunks(k).map(sum).collect(),
        units: None,
        sub_accounts: series
            .sub_accounts
            .iter()
            .map(|(name, counts)| (name.clone(), counts.chunks(k).map(|c| c.iter().sum()).collect()))
            .collect(),
        limits: series.limits.clone(),
    }
}

fn panel(area: &Area<'_>, series: &Series, report: &Report) -> DrawResult {
    let duration_s = report.summary.duration_s;
    // Clock axes (past an hour) tick in hours, so the ticks fall on round times of day.
    let (unit, unit_name) = if duration_s > 3.0 * 3_600.0 { (3_600.0, "h") } else { time_unit(duration_s) };
    let k = series.bins.len().div_ceil(CHART_BINS).max(1);
    let summed;
    let series = if k > 1 {
        summed = coarser(series, k);
        &summed
    } else {
        series
    };
    let chart_bin = report.bin.saturating_mul(k as u64);
    let bin_s = secs_f64(chart_bin);
    let span = |i: usize| bin_span(i, bin_s, duration_s);
    let per_s = |i: usize, n: f64| bin_rate(i, n, bin_s, duration_s);
    // Steps: each bin is drawn flat from its start to its end.
    let step = |value: &dyn Fn(usize) -> f64| -> Vec<(f64, f64)> {
        let mut pts = Vec::with_capacity(series.bins.len() * 2);
        for i in 0..series.bins.len() {
            let (a, b) = span(i);
            pts.push((a / unit, value(i)));
            pts.push((b / unit, value(i)));
        }
        pts
    };
    let total = step(&|i| per_s(i, (series.bins[i].admitted + series.bins[i].throttled) as f64));
    let admitted = step(&|i| per_s(i, series.bins[i].admitted as f64));
    let mut limit = Vec::new();
    for (i, change) in series.limits.iter().enumerate() {
        let end = series.limits.get(i + 1).map_or(duration_s, |next| secs_f64(next.at));
        let from = secs_f64(change.at);
        limit.push((from / unit, change.limit_qps as f64));
        limit.push((end / unit, change.limit_qps as f64));
    }
    let most_limit = series.limits.iter().map(|l| l.limit_qps as f64).fold(1.0, f64::max);
    let peak = total.iter().map(|p| p.1).fold(most_limit, f64::max);
    // Bursts far above the limit (past twenty times) would flatten the limit and the admitted area into
    // the axis: the scale then stops at ten times the highest limit and the panel says where the peak went.
    let clipped = peak > 20.0 * most_limit;
    let shown_peak = if clipped { 10.0 * most_limit } else { peak };
    // The top fifth is kept for the plan labels.
    let top = shown_peak * 1.3;
    let clip = |pts: Vec<(f64, f64)>| -> Vec<(f64, f64)> { pts.into_iter().map(|(x, y)| (x, y.min(top))).collect() };

    let mut entries = vec![
        (Swatch::Fill(BITES_SHADE), "throttling bites (>1 %)".to_string()),
        (Swatch::Fill(THROTTLED.mix(0.55)), "throttled".to_string()),
        (Swatch::Fill(ADMITTED.mix(0.75)), "admitted".to_string()),
        (Swatch::Line(LIMIT.to_rgba(), 2), "limit (QPS)".to_string()),
    ];
    for (i, (name, _)) in series.sub_accounts.iter().enumerate() {
        let colour = SUB_COLOURS[i % SUB_COLOURS.len()].to_rgba();
        entries.push((Swatch::Line(colour, 2), format!("{} attempts", label(name))));
    }
    // A batch's markers on the panels of the APIs it calls, not on every panel of its account.
    let batches: Vec<_> =
        report.summary.batches.iter().filter(|b| b.account == series.account && b.apis.contains(&series.api)).collect();
    if !batches.is_empty() {
        entries.push((Swatch::Line(CHANGE.to_rgba(), 2), "batch makespan".to_string()));
        entries.push((Swatch::Line(CHANGE.mix(0.6), 1), "floor".to_string()));
    }
    let legend_h = super::legend_height(area, &entries);
    // One legend row sits beside the title; more go under it.
    let strip_h = if legend_h > 30 { 24 + legend_h } else { 30 } + if clipped { 14 } else { 0 };
    let (strip, plot) = area.split_vertically(strip_h);
    strip.draw(&Text::new(
        format!("{} / {}", label(&series.account), label(&series.api)),
        (70, 8),
        (FONT, 16, FontStyle::Bold).into_font(),
    ))?;
    if clipped {
        // Said beside the title, not over the data.
        strip.draw(&Text::new(
            format!("scale cut at {} /s (peak {} /s)", trim_number(top), trim_number(peak)),
            (70, 26),
            (FONT, 12).into_font().color(&THROTTLED),
        ))?;
    }
    legend_strip(&strip, &entries)?;

    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .margin_top(4)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..duration_s / unit, 0.0..top)?;
    let bins_text = crate::time::format_duration(chart_bin.max(1));
    // Past an hour, the axis reads the scenario's own clock (the zone of its start), not minutes since it.
    let clock = report.clock_origin.as_ref().filter(|_| duration_s > 3_600.0);
    let x_desc = match clock {
        Some((_, zone)) => format!("time of day (UTC{zone}); bins of {bins_text}"),
        None => format!("time since start ({unit_name}); bins of {bins_text}"),
    };
    let clock_label = |x: &f64| match clock {
        Some((origin, _)) => {
            let origin = *origin;
            let t = origin.checked_add(jiff::SignedDuration::from_secs_f64(*x * unit)).unwrap_or(origin);
            if duration_s > 2.0 * 86_400.0 {
                t.strftime("%b %d %H:%M").to_string()
            } else {
                t.strftime("%H:%M").to_string()
            }
        }
        None => trim_number(*x),
    };
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(if chart_bin > crate::time::NANOS_PER_SEC {
            format!("attempts per second (mean over {bins_text})")
        } else {
            "attempts per second".to_string()
        })
        .x_label_formatter(&clock_label)
        .y_label_formatter(&|y| trim_number(*y))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    // The stretches when throttling bites (more than 1 % of a bin's attempts throttled, the verdict's rule),
    // shaded behind the data, adjacent bins merged.
    let mut bites: Vec<(f64, f64)> = Vec::new();
    for (i, b) in series.bins.iter().enumerate() {
        if !crate::report::verdict::bites(b) {
            continue;
        }
        let (a, z) = span(i);
        match bites.last_mut() {
            Some(last) if (last.1 - a / unit).abs() < 1e-9 => last.1 = z / unit,
            _ => bites.push((a / unit, z / unit)),
        }
    }
    chart.draw_series(bites.iter().map(|&(a, z)| Rectangle::new([(a, 0.0), (z, top)], BITES_SHADE.filled())))?;
    chart.draw_series(AreaSeries::new(clip(total), 0.0, THROTTLED.mix(0.55)))?;
    chart.draw_series(AreaSeries::new(clip(admitted), 0.0, ADMITTED.mix(0.75)))?;
    chart.draw_series(LineSeries::new(limit, LIMIT.stroke_width(2)))?;
    // Sub-accounts sharing the quota: each one's own attempts, a line apiece.
    for (i, (_, counts)) in series.sub_accounts.iter().enumerate() {
        let line = step(&|j| per_s(j, counts[j] as f64));
        chart.draw_series(LineSeries::new(clip(line), SUB_COLOURS[i % SUB_COLOURS.len()].stroke_width(1)))?;
    }
    for b in &batches {
        // The floor reads leftwards from its line and the makespan rightwards (leftwards, lower, near the
        // right edge), so the two never overprint even when they nearly meet.
        let mut mark = |x_s: f64, colour: RGBAColor, stroke: u32, words: String, leftwards: bool, y: f64| {
            let x = x_s.min(duration_s) / unit;
            chart.draw_series(std::iter::once(PathElement::new([(x, 0.0), (x, top)], colour.stroke_width(stroke))))?;
            let pos = if leftwards { Pos::new(HPos::Right, VPos::Top) } else { Pos::new(HPos::Left, VPos::Top) };
            let nudge = duration_s / unit * if leftwards { -0.005 } else { 0.005 };
            chart.draw_series(std::iter::once(Text::new(
                words,
                (x + nudge, top * y),
                (FONT, 12).into_font().color(&colour).pos(pos),
            )))?;
            DrawResult::Ok(())
        };
        mark(b.floor_s, CHANGE.mix(0.6), 1, format!("{} floor {:.0} s", b.client, b.floor_s), true, 0.62)?;
        if let Some(m) = b.makespan_s {
            let near_edge = m / unit > 0.8 * duration_s / unit;
            let y = if near_edge { 0.52 } else { 0.62 };
            mark(m, CHANGE.to_rgba(), 2, format!("{} done {:.0} s", b.client, m), near_edge, y)?;
        }
    }
    // A labelled line at every plan change, and the plan in force at the start; labels take turns on three
    // rows of the top band, and near the right edge they read leftwards, so none is cut off.
    for (i, change) in series.limits.iter().enumerate() {
        let x = secs_f64(change.at) / unit;
        if i > 0 {
            chart.draw_series(std::iter::once(PathElement::new([(x, 0.0), (x, top)], CHANGE.stroke_width(1))))?;
        }
        let label = format!("{} {} QPS", change.plan.kind().name(), change.limit_qps);
        let right = x > 0.75 * duration_s / unit;
        let nudge = duration_s / unit * if right { -0.004 } else { 0.004 };
        let pos = if right { Pos::new(HPos::Right, VPos::Top) } else { Pos::new(HPos::Left, VPos::Top) };
        let row = (i % 3) as f64;
        chart.draw_series(std::iter::once(Text::new(
            label,
            (x + nudge, top * (0.99 - 0.07 * row)),
            (FONT, 13).into_font().color(&CHANGE).pos(pos),
        )))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::bin_rate;

    #[test]
    fn the_last_bin_is_a_rate_over_its_true_length() {
        // 600 s in 7 s bins: the last (595 to 600 s) holds 5 s; 10 calls there are 2 a second, not 1.43.
        assert_eq!(bin_rate(85, 10.0, 7.0, 600.0), 2.0);
        assert_eq!(bin_rate(84, 14.0, 7.0, 600.0), 2.0);
        // One 2 h bin over a 600 s run: 1,200 calls are 2 a second, not 0.17.
        assert_eq!(bin_rate(0, 1_200.0, 7_200.0, 600.0), 2.0);
    }
}
