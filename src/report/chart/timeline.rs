//! `timeline.png`: admitted and throttled attempts against the limit in force, one panel per (account,
//! API), with a labelled line at each plan change and a batch's makespan against its floor. A limit counted
//! over a window longer than a second is drawn at its own scale (attempts per minute against the per-minute
//! limit); a quota several sub-accounts share gets a panel of who sent the attempts (the busiest five
//! stacked, then the others); a unit (token) limit gets a panel of units against it. Legends sit in a
//! strip above each panel, never over data.

use super::{
    ADMITTED, Area, CHANGE, DrawResult, FONT, LIMIT, Swatch, THROTTLED, WIDTH, legend_strip, render, short_number,
    trim_number,
};
use crate::report::summary::{Report, Series};
use crate::stats::CHART_BINS;
use crate::text::label;
use crate::time::{NANOS_PER_SEC, Nanos, secs_f64};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const PANEL_HEIGHT: u32 = 340;
const SUB_PANEL_HEIGHT: u32 = 230;
const UNITS_PANEL_HEIGHT: u32 = 250;
const HEADER_HEIGHT: u32 = 50;
/// Quotas beyond this many are left out of the chart (the CSV files hold every series).
pub const MAX_PANELS: usize = 8;

/// Seconds, minutes or hours, whichever keeps the x axis readable.
fn time_unit(duration_s: f64) -> (f64, &'static str) {
    if duration_s <= 900.0 {
        (1.0, "s")
    } else if duration_s <= 3.0 * 3_600.0 {
        (60.0, "min")
    } else {
        // Clock axes (past an hour) tick in hours, so the ticks fall on round times of day.
        (3_600.0, "h")
    }
}

/// The panels drawn for one quota.
fn panels_of(series: &Series) -> [bool; 3] {
    [true, !series.sub_accounts.is_empty(), series.units.is_some() && series.limiter.units.is_some()]
}

fn height_of(series: &Series) -> u32 {
    let [_, sub, units] = panels_of(series);
    PANEL_HEIGHT + if sub { SUB_PANEL_HEIGHT } else { 0 } + if units { UNITS_PANEL_HEIGHT } else { 0 }
}

/// Draws the timeline chart as SVG.
pub fn timeline(report: &Report) -> super::Svg {
    let shown = &report.series[..report.series.len().min(MAX_PANELS)];
    let height = HEADER_HEIGHT + shown.iter().map(height_of).sum::<u32>().max(PANEL_HEIGHT);
    render(WIDTH, height, |root| draw(report, root))
}

fn draw(report: &Report, root: Area<'_>) -> DrawResult {
    let (header, mut body) = root.split_vertically(HEADER_HEIGHT);
    let s = &report.summary;
    let shown = report.series.len().min(MAX_PANELS);
    let more = if report.series.len() > shown {
        format!(" (first {shown} of {} shown)", report.series.len())
    } else {
        String::new()
    };
    header.titled(&format!("{} — admitted and throttled attempts{more}", s.scenario), (FONT, 24, FontStyle::Bold))?;
    let frame = Frame::new(report);
    for series in &report.series[..shown] {
        let [_, sub, units] = panels_of(series);
        let (area, rest) = body.split_vertically(height_of(series));
        body = rest;
        let (main, area) = area.split_vertically(PANEL_HEIGHT);
        let scale = Scale::of(series, report.bin);
        requests_panel(&main, series, report, &frame, &scale)?;
        let (sub_area, units_area) = area.split_vertically(if sub { SUB_PANEL_HEIGHT } else { 0 });
        if sub {
            sub_account_panel(&sub_area, series, &frame, &scale)?;
        }
        if units {
            units_panel(&units_area, series, report, &frame)?;
        }
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

/// Colours of the sub-accounts' layers, busiest first; the others are grey.
const SUB_COLOURS: [RGBColor; 5] = [
    RGBColor(31, 90, 180),
    RGBColor(148, 103, 189),
    RGBColor(23, 160, 170),
    RGBColor(188, 120, 30),
    RGBColor(200, 70, 160),
];
const OTHERS: RGBColor = RGBColor(150, 150, 150);

/// A panel's plotting area with its time and value axes.
type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The time axis every panel shares: its unit, and the scenario's clock when the run is long.
struct Frame {
    duration_s: f64,
    unit: f64,
    unit_name: &'static str,
    clock: Option<(jiff::civil::DateTime, String)>,
}

impl Frame {
    fn new(report: &Report) -> Frame {
        let duration_s = report.summary.duration_s;
        let (unit, unit_name) = time_unit(duration_s);
        // Past an hour, the axis reads the scenario's own clock (the zone of its start).
        let clock = report.clock_origin.clone().filter(|_| duration_s > 3_600.0);
        Frame { duration_s, unit, unit_name, clock }
    }

    fn x_desc(&self, bin: Nanos) -> String {
        let bins = crate::time::format_duration(bin.max(1));
        match &self.clock {
            Some((_, zone)) => format!("time of day (UTC{zone}); bins of {bins}"),
            None => format!("time since start ({}); bins of {bins}", self.unit_name),
        }
    }

    fn x_label(&self, x: f64) -> String {
        match &self.clock {
            Some((origin, _)) => {
                let t = origin.checked_add(jiff::SignedDuration::from_secs_f64(x * self.unit)).unwrap_or(*origin);
                if self.duration_s > 2.0 * 86_400.0 {
                    t.strftime("%b %d %H:%M").to_string()
                } else {
                    t.strftime("%H:%M").to_string()
                }
            }
            None => trim_number(x),
        }
    }

    /// A plot of `area` below its strip, from 0 to `top`, with the shared time axis.
    fn chart<'a, 'b>(
        &self,
        plot: &'a Area<'b>,
        top: f64,
        bin: Nanos,
        y_desc: String,
    ) -> Result<Plot<'a, 'b>, Box<dyn std::error::Error>> {
        let mut chart = ChartBuilder::on(plot)
            .margin(12)
            .margin_top(4)
            // Room for the last time label, centred on the right edge.
            .margin_right(26)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..self.duration_s / self.unit, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc(self.x_desc(bin))
            .y_desc(y_desc)
            .x_label_formatter(&|x| self.x_label(*x))
            .y_label_formatter(&|y| short_number(*y))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        Ok(chart)
    }

    /// Step points of per-bin `values` (bins of `bin_s`): each bin drawn flat from its start to its end.
    fn steps(&self, bin_s: f64, values: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        for (i, v) in values.enumerate() {
            let (a, b) = bin_span(i, bin_s, self.duration_s);
            pts.push((a / self.unit, v));
            pts.push((b / self.unit, v));
        }
        pts
    }
}

/// How a quota's attempts are counted on its panels: per second, or, when its limit is counted over a
/// longer window, per that window (a per-minute limit against attempts per minute).
struct Scale {
    /// The window the counts are per (1 s for a rate), and its words (`per second`, `per minute`).
    per: Nanos,
    per_words: String,
    /// Recorder bins summed into one chart bin.
    k: usize,
}

fn per_words(window: Nanos) -> String {
    match window {
        NANOS_PER_SEC => "per second".into(),
        60_000_000_000 => "per minute".into(),
        3_600_000_000_000 => "per hour".into(),
        86_400_000_000_000 => "per day".into(),
        w => format!("per {}", crate::time::format_duration(w)),
    }
}

/// Recorder bins of `bin` summed per chart bin: at most [`CHART_BINS`] of them, and, for a count per
/// `window`, a whole number of windows each when the bins divide it.
fn bins_per_chart_bin(bins: usize, bin: Nanos, window: Nanos) -> usize {
    let k = bins.div_ceil(CHART_BINS).max(1);
    if window > bin && window.is_multiple_of(bin) {
        let m = (window / bin) as usize;
        k.div_ceil(m) * m
    } else {
        k
    }
}

impl Scale {
    fn of(series: &Series, bin: Nanos) -> Scale {
        let rule = &series.limiter.rule;
        let per = if rule.is_windowed() && rule.window() > NANOS_PER_SEC { rule.window() } else { NANOS_PER_SEC };
        Scale { per, per_words: per_words(per), k: bins_per_chart_bin(series.bins.len(), bin, per) }
    }

    /// `count` in chart bin `i` (of `bin_s`) as a count per window.
    fn value(&self, i: usize, count: f64, bin_s: f64, duration_s: f64) -> f64 {
        bin_rate(i, count, bin_s, duration_s) * secs_f64(self.per)
    }

    /// The y axis's words; `short` for the lower panels, whose axes are shorter.
    fn y_desc(&self, what: &str, chart_bin: Nanos, short: bool) -> String {
        let per = if short {
            match self.per {
                NANOS_PER_SEC => "/s".to_string(),
                60_000_000_000 => "/min".to_string(),
                _ => format!(" {}", self.per_words),
            }
        } else {
            format!(" {}", self.per_words)
        };
        if chart_bin > self.per {
            format!("{what}{per} (mean over {})", crate::time::format_duration(chart_bin))
        } else {
            format!("{what}{per}")
        }
    }
}

/// A limit of `limit_qps` as a count per `per`, for a limiter counting `limit` (or the QPS's share) per
/// `window`: its own window's count when that is `per`, else the same rate over `per`.
fn limit_per(window: Nanos, limit: Option<u64>, limit_qps: u32, rule: &crate::quota::LimiterConfig, per: Nanos) -> f64 {
    let capacity = match limit {
        Some(l) => l as f64,
        None if rule.is_windowed() => rule.with_window(window).capacity(limit_qps) as f64,
        None => limit_qps as f64 * secs_f64(window),
    };
    capacity * secs_f64(per) / secs_f64(window)
}

/// The limits in force as a step line, each drawn as `value(limit_qps)` from its change to the next.
fn limit_steps(series: &Series, frame: &Frame, value: impl Fn(u32) -> f64) -> Vec<(f64, f64)> {
    let mut pts = Vec::with_capacity(series.limits.len() * 2);
    for (i, change) in series.limits.iter().enumerate() {
        let end = series.limits.get(i + 1).map_or(frame.duration_s, |next| secs_f64(next.at));
        let y = value(change.limit_qps);
        pts.push((secs_f64(change.at) / frame.unit, y));
        pts.push((end / frame.unit, y));
    }
    pts
}

/// The title of a panel, and its legend beside or under it; returns the plotting area left.
fn strip<'b>(
    area: &Area<'b>,
    title: String,
    note: Option<String>,
    entries: &[(Swatch, String)],
) -> Result<Area<'b>, Box<dyn std::error::Error>> {
    let legend_h = super::legend_height(area, entries);
    // One legend row sits beside the title when it fits there; otherwise the legend goes under it.
    let title_font: TextStyle = (FONT, 16, FontStyle::Bold).into();
    let title_w = area.estimate_text_size(&title, &title_font).map_or(400, |(w, _)| w as i32);
    let beside = area.dim_in_pixel().0 as i32 - 16 - (70 + title_w + 24);
    let one_row = legend_h <= 30 && super::legend_width(area, entries) <= beside;
    let strip_h = if one_row { 30 } else { 24 + legend_h } + if note.is_some() { 14 } else { 0 };
    let (strip, plot) = area.split_vertically(strip_h);
    strip.draw(&Text::new(title, (70, 8), (FONT, 16, FontStyle::Bold).into_font()))?;
    if let Some(note) = note {
        // Said beside the title, not over the data.
        strip.draw(&Text::new(note, (70, 26), (FONT, 12).into_font().color(&THROTTLED)))?;
    }
    legend_strip(&strip, entries)?;
    Ok(plot)
}

/// The top of a panel's scale: past twenty times the highest limit, bursts would flatten the limit into
/// the axis, so the scale stops at ten times it and a note says where the peak went. The top fifth is kept
/// for the plan labels. Returns (top, note).
fn scale_top(peak: f64, most_limit: f64, unit: &str) -> (f64, Option<String>) {
    if peak > 20.0 * most_limit {
        let top = 10.0 * most_limit * 1.3;
        (top, Some(format!("scale cut at {} {unit} (peak {} {unit})", trim_number(top), trim_number(peak))))
    } else {
        (peak.max(most_limit) * 1.3, None)
    }
}

fn requests_panel(area: &Area<'_>, series: &Series, report: &Report, frame: &Frame, scale: &Scale) -> DrawResult {
    let duration_s = frame.duration_s;
    let unit = frame.unit;
    let chart_bin = report.bin.saturating_mul(scale.k as u64);
    let bin_s = secs_f64(chart_bin);
    let bins: Vec<crate::stats::Bin> = series
        .bins
        .chunks(scale.k)
        .map(|c| crate::stats::Bin {
            admitted: c.iter().map(|b| b.admitted).sum(),
            throttled: c.iter().map(|b| b.throttled).sum(),
        })
        .collect();
    let value = |i: usize, n: u64| scale.value(i, n as f64, bin_s, duration_s);
    let total = frame.steps(bin_s, bins.iter().enumerate().map(|(i, b)| value(i, b.admitted + b.throttled)));
    let admitted = frame.steps(bin_s, bins.iter().enumerate().map(|(i, b)| value(i, b.admitted)));
    let spec = &series.limiter;
    let own = |qps: u32| limit_per(spec.rule.window(), spec.limit, qps, &spec.rule, scale.per);
    let limit = limit_steps(series, frame, own);
    // Further windows (a per-hour limit beside a per-second one), as the same rate per `per`.
    let more: Vec<(String, Vec<(f64, f64)>)> = spec
        .more
        .iter()
        .map(|w| {
            let pts = limit_steps(series, frame, |qps| limit_per(w.window, w.limit, qps, &spec.rule, scale.per));
            let words = if w.window == scale.per {
                format!("limit {}", per_words(w.window))
            } else {
                format!("limit {} (as a mean {})", per_words(w.window), scale.per_words)
            };
            (words, pts)
        })
        .collect();
    let most_limit = limit.iter().chain(more.iter().flat_map(|m| m.1.iter())).map(|p| p.1).fold(1.0, f64::max);
    let peak = total.iter().map(|p| p.1).fold(0.0, f64::max);
    let (top, note) = scale_top(peak, most_limit, &scale.per_words);
    let clip = |pts: Vec<(f64, f64)>| -> Vec<(f64, f64)> { pts.into_iter().map(|(x, y)| (x, y.min(top))).collect() };

    let mut entries = vec![
        (Swatch::Fill(BITES_SHADE), "throttling bites (>1 %)".to_string()),
        (Swatch::Fill(THROTTLED.mix(0.55)), "throttled".to_string()),
        (Swatch::Fill(ADMITTED.mix(0.75)), "admitted".to_string()),
        (Swatch::Line(LIMIT.to_rgba(), 2), format!("limit {}", scale.per_words)),
    ];
    for (words, _) in &more {
        entries.push((Swatch::Dashed(LIMIT.to_rgba(), 2), words.clone()));
    }
    // A batch's markers on the panels of the APIs it calls, not on every panel of its account.
    let batches: Vec<_> =
        report.summary.batches.iter().filter(|b| b.account == series.account && b.apis.contains(&series.api)).collect();
    if !batches.is_empty() {
        entries.push((Swatch::Line(CHANGE.to_rgba(), 2), "batch makespan".to_string()));
        entries.push((Swatch::Line(CHANGE.mix(0.6), 1), "floor".to_string()));
    }
    let title = format!("{} / {}", label(&series.account), label(&series.api));
    let plot = strip(area, title, note, &entries)?;
    let mut chart = frame.chart(&plot, top, chart_bin, scale.y_desc("attempts", chart_bin, false))?;
    // The stretches when throttling bites (more than 1 % of a bin's attempts throttled, the verdict's rule),
    // shaded behind the data, adjacent bins merged.
    let mut bites: Vec<(f64, f64)> = Vec::new();
    for (i, b) in bins.iter().enumerate() {
        if !crate::report::verdict::bites(b) {
            continue;
        }
        let (a, z) = bin_span(i, bin_s, duration_s);
        match bites.last_mut() {
            Some(last) if (last.1 - a / unit).abs() < 1e-9 => last.1 = z / unit,
            _ => bites.push((a / unit, z / unit)),
        }
    }
    chart.draw_series(bites.iter().map(|&(a, z)| Rectangle::new([(a, 0.0), (z, top)], BITES_SHADE.filled())))?;
    chart.draw_series(AreaSeries::new(clip(total), 0.0, THROTTLED.mix(0.55)))?;
    chart.draw_series(AreaSeries::new(clip(admitted), 0.0, ADMITTED.mix(0.75)))?;
    for (_, pts) in more {
        chart.draw_series(DashedLineSeries::new(clip(pts), 6, 4, LIMIT.stroke_width(2)))?;
    }
    chart.draw_series(LineSeries::new(limit, LIMIT.stroke_width(2)))?;
    // More than two batches on a panel: a line for each, and words only for the latest floor and the
    // last to finish, which would otherwise print over each other.
    let many = batches.len() > 2;
    let latest_floor = batches.iter().map(|b| b.floor_s).filter(|f| f.is_finite()).fold(f64::NAN, f64::max);
    let last_done = batches.iter().filter_map(|b| b.makespan_s).fold(f64::NAN, f64::max);
    let floor_said = batches.iter().position(|b| b.floor_s == latest_floor);
    let done_said = batches.iter().position(|b| b.makespan_s == Some(last_done));
    for (i, b) in batches.iter().enumerate() {
        // The floor reads leftwards from its line and the makespan rightwards (leftwards, lower, near the
        // right edge), so the two never overprint even when they nearly meet.
        let mut mark = |x_s: f64, colour: RGBAColor, stroke: u32, words: String, leftwards: bool, y: f64| {
            let x = x_s.min(duration_s) / unit;
            chart.draw_series(std::iter::once(PathElement::new([(x, 0.0), (x, top)], colour.stroke_width(stroke))))?;
            if words.is_empty() {
                return DrawResult::Ok(());
            }
            // A label that would cross the left axis reads rightwards instead.
            let leftwards = leftwards && x > 0.2 * duration_s / unit;
            let pos = if leftwards { Pos::new(HPos::Right, VPos::Top) } else { Pos::new(HPos::Left, VPos::Top) };
            let nudge = duration_s / unit * if leftwards { -0.005 } else { 0.005 };
            chart.draw_series(std::iter::once(Text::new(
                words,
                (x + nudge, top * y),
                (FONT, 12).into_font().color(&colour).pos(pos),
            )))?;
            DrawResult::Ok(())
        };
        if b.floor_s.is_finite() {
            let words = match many {
                false => format!("{} floor {:.0} s", label(&b.client), b.floor_s),
                true if floor_said == Some(i) => format!("{} batches' floor {:.0} s", batches.len(), b.floor_s),
                true => String::new(),
            };
            mark(b.floor_s, CHANGE.mix(0.6), 1, words, true, 0.62)?;
        }
        if let Some(m) = b.makespan_s {
            let near_edge = m / unit > 0.8 * duration_s / unit;
            let y = if near_edge { 0.52 } else { 0.62 };
            let words = match many {
                false => format!("{} done {:.0} s", label(&b.client), m),
                true if done_said == Some(i) => format!("last of {} batches done {:.0} s", batches.len(), m),
                true => String::new(),
            };
            mark(m, CHANGE.to_rgba(), 2, words, near_edge, y)?;
        }
    }
    // A labelled line at every plan change, and the plan in force at the start; labels take turns on three
    // rows of the top band, and near the right edge they read leftwards, so none is cut off.
    for (i, change) in series.limits.iter().enumerate() {
        let x = secs_f64(change.at) / unit;
        if i > 0 {
            chart.draw_series(std::iter::once(PathElement::new([(x, 0.0), (x, top)], CHANGE.stroke_width(1))))?;
        }
        let words = if scale.per == NANOS_PER_SEC {
            format!("{} {} QPS", change.plan.kind().name(), change.limit_qps)
        } else {
            format!(
                "{} {} QPS: {} {}",
                change.plan.kind().name(),
                change.limit_qps,
                trim_number(own(change.limit_qps)),
                scale.per_words
            )
        };
        let right = x > 0.75 * duration_s / unit;
        let nudge = duration_s / unit * if right { -0.004 } else { 0.004 };
        let pos = if right { Pos::new(HPos::Right, VPos::Top) } else { Pos::new(HPos::Left, VPos::Top) };
        let row = (i % 3) as f64;
        chart.draw_series(std::iter::once(Text::new(
            words,
            (x + nudge, top * (0.99 - 0.07 * row)),
            (FONT, 13).into_font().color(&CHANGE).pos(pos),
        )))?;
    }
    Ok(())
}

/// Who sent the attempts: the busiest sub-accounts stacked (the busiest at the bottom), the others on
/// top, with the limit over them, so that the share each one takes of the limit reads off the panel.
fn sub_account_panel(area: &Area<'_>, series: &Series, frame: &Frame, scale: &Scale) -> DrawResult {
    let duration_s = frame.duration_s;
    let bin_s = secs_f64(series.sub_bin);
    let n = series.sub_accounts.first().map_or(0, |s| s.1.len());
    // Cumulative layers, bottom up.
    let mut layers: Vec<Vec<f64>> = Vec::new();
    let mut below = vec![0.0; n];
    for (_, counts) in &series.sub_accounts {
        for (i, c) in counts.iter().enumerate().take(n) {
            below[i] += scale.value(i, *c as f64, bin_s, duration_s);
        }
        layers.push(below.clone());
    }
    let spec = &series.limiter;
    let own = |qps: u32| limit_per(spec.rule.window(), spec.limit, qps, &spec.rule, scale.per);
    let limit = limit_steps(series, frame, own);
    let most_limit = limit.iter().map(|p| p.1).fold(1.0, f64::max);
    let peak = below.iter().copied().fold(0.0, f64::max);
    let (top, note) = scale_top(peak, most_limit, &scale.per_words);
    let colour = |i: usize, name: &str| {
        if name == "other sub-accounts" { OTHERS } else { SUB_COLOURS[i % SUB_COLOURS.len()] }
    };
    let mut entries: Vec<(Swatch, String)> = series
        .sub_accounts
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (Swatch::Fill(colour(i, name).mix(0.7)), label(name).to_string()))
        .collect();
    entries.push((Swatch::Line(LIMIT.to_rgba(), 2), format!("limit {}", scale.per_words)));
    let named = series.sub_accounts.iter().filter(|s| s.0 != "other sub-accounts");
    let named_attempts: u64 = named.clone().flat_map(|s| s.1.iter()).map(|&n| n as u64).sum();
    let all: u64 = series.bins.iter().map(|b| b.admitted + b.throttled).sum();
    let share = if series.callers > named.clone().count() && all > 0 {
        format!(
            " (the busiest {} of {} send {:.0} %)",
            named.count(),
            series.callers,
            100.0 * named_attempts as f64 / all as f64
        )
    } else {
        String::new()
    };
    let title = format!("{} / {}: attempts by sub-account{share}", label(&series.account), label(&series.api));
    let plot = strip(area, title, note, &entries)?;
    let mut chart = frame.chart(&plot, top, series.sub_bin, scale.y_desc("attempts", series.sub_bin, true))?;
    // Drawn top layer first, each lower one over it.
    for (i, layer) in layers.iter().enumerate().rev() {
        let pts = frame.steps(bin_s, layer.iter().map(|v| v.min(top)));
        let name = &series.sub_accounts[i].0;
        chart.draw_series(AreaSeries::new(pts, 0.0, colour(i, name).mix(0.7)))?;
    }
    chart.draw_series(LineSeries::new(limit, LIMIT.stroke_width(2)))?;
    Ok(())
}

/// Units (tokens) admitted and throttled per unit window, against the unit limit.
fn units_panel(area: &Area<'_>, series: &Series, report: &Report, frame: &Frame) -> DrawResult {
    let (Some(units), Some(unit_limit)) = (&series.units, series.limiter.units) else { return Ok(()) };
    let duration_s = frame.duration_s;
    let k = bins_per_chart_bin(units.len(), report.bin, unit_limit.window);
    let chart_bin = report.bin.saturating_mul(k as u64);
    let bin_s = secs_f64(chart_bin);
    let scale = Scale { per: unit_limit.window, per_words: per_words(unit_limit.window), k };
    let sums: Vec<[u64; 3]> =
        units.chunks(k).map(|c| c.iter().fold([0; 3], |a, u| [a[0] + u[0], a[1] + u[1], a[2] + u[2]])).collect();
    let value = |i: usize, n: u64| scale.value(i, n as f64, bin_s, duration_s);
    let total = frame.steps(bin_s, sums.iter().enumerate().map(|(i, u)| value(i, u[0] + u[1])));
    let admitted = frame.steps(bin_s, sums.iter().enumerate().map(|(i, u)| value(i, u[0])));
    let limit = unit_limit.limit as f64;
    let peak = total.iter().map(|p| p.1).fold(0.0, f64::max);
    let (top, note) = scale_top(peak, limit.max(1.0), &scale.per_words);
    let clip = |pts: Vec<(f64, f64)>| -> Vec<(f64, f64)> { pts.into_iter().map(|(x, y)| (x, y.min(top))).collect() };
    let entries = vec![
        (Swatch::Fill(THROTTLED.mix(0.55)), "units of throttled attempts".to_string()),
        (Swatch::Fill(ADMITTED.mix(0.75)), "units admitted".to_string()),
        (
            Swatch::Line(LIMIT.to_rgba(), 2),
            format!("unit limit {} {}", crate::text::thousands(limit as u64), scale.per_words),
        ),
    ];
    let title = format!("{} / {}: units (cost)", label(&series.account), label(&series.api));
    let plot = strip(area, title, note, &entries)?;
    let mut chart = frame.chart(&plot, top, chart_bin, scale.y_desc("units", chart_bin, true))?;
    chart.draw_series(AreaSeries::new(clip(total), 0.0, THROTTLED.mix(0.55)))?;
    chart.draw_series(AreaSeries::new(clip(admitted), 0.0, ADMITTED.mix(0.75)))?;
    chart.draw_series(LineSeries::new([(0.0, limit), (duration_s / frame.unit, limit)], LIMIT.stroke_width(2)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{bin_rate, bins_per_chart_bin};

    #[test]
    fn the_last_bin_is_a_rate_over_its_true_length() {
        // 600 s in 7 s bins: the last (595 to 600 s) holds 5 s; 10 calls there are 2 a second, not 1.43.
        assert_eq!(bin_rate(85, 10.0, 7.0, 600.0), 2.0);
        assert_eq!(bin_rate(84, 14.0, 7.0, 600.0), 2.0);
        // One 2 h bin over a 600 s run: 1,200 calls are 2 a second, not 0.17.
        assert_eq!(bin_rate(0, 1_200.0, 7_200.0, 600.0), 2.0);
    }

    #[test]
    fn chart_bins_hold_whole_windows_and_stay_few() {
        let s = crate::time::NANOS_PER_SEC;
        // An hour of 1 s bins: 24 s chart bins for a rate; whole minutes for a per-minute count.
        assert_eq!(bins_per_chart_bin(3_600, s, s), 24);
        assert_eq!(bins_per_chart_bin(3_600, s, 60 * s), 60);
        // A day of 1 s bins: 576 s, or 10 whole minutes.
        assert_eq!(bins_per_chart_bin(86_400, s, 60 * s), 600);
        // Bins coarser than the window: as for a rate.
        assert_eq!(bins_per_chart_bin(100, 120 * s, 60 * s), 1);
    }
}
