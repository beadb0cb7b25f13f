//! `timeline.png`: admitted and throttled attempts per second against the limit in force, one panel per
//! (account, API). Text is drawn with DejaVu Sans compiled into the binary (from the `dejavu` crate, under
//! the Bitstream Vera / Arev licence), so charts render on a machine with no fonts or system libraries.

use super::summary::{Report, Series};
use crate::time::secs_f64;
use image::ImageEncoder;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::OnceLock;

const WIDTH: u32 = 1200;
const PANEL_HEIGHT: u32 = 320;
const HEADER_HEIGHT: u32 = 50;
/// Panels beyond this many are left out of the chart (the CSV files hold every series).
pub const MAX_PANELS: usize = 8;
const FONT: &str = "sans-serif";
const ADMITTED: RGBColor = RGBColor(46, 139, 87);
const THROTTLED: RGBColor = RGBColor(214, 39, 40);
const LIMIT: RGBColor = RGBColor(20, 20, 20);
const CHANGE: RGBColor = RGBColor(31, 90, 180);

fn register_fonts() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .and_then(|()| plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()))
            .map_err(|_| "the bundled DejaVu Sans font did not load".to_string())
    })
    .clone()
}

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

/// Axis labels without trailing zeros: `100`, `2.5`.
fn trim_number(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Renders the timeline chart as PNG bytes.
pub fn timeline_png(report: &Report) -> Result<Vec<u8>, String> {
    register_fonts()?;
    let panels = report.series.len().clamp(1, MAX_PANELS);
    let height = HEADER_HEIGHT + PANEL_HEIGHT * panels as u32;
    let mut rgb = vec![0u8; (WIDTH * height * 3) as usize];
    draw(report, &mut rgb, height).map_err(|e| e.to_string())?;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&rgb, WIDTH, height, image::ColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(png)
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(report: &Report, rgb: &mut [u8], height: u32) -> DrawResult {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
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
    root.present()?;
    Ok(())
}

fn panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    series: &Series,
    report: &Report,
) -> DrawResult {
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
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}
