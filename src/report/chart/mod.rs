//! Charts: one file per chart, the style (font, colours, sizes) and the PNG encoding here.
//!
//! Text is drawn with DejaVu Sans compiled into the binary (from the `dejavu` crate, under the Bitstream
//! Vera / Arev licence), so charts render on a machine with no fonts or system libraries.

pub mod timeline;

use image::ImageEncoder;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::OnceLock;

pub const WIDTH: u32 = 1200;
pub const FONT: &str = "sans-serif";
pub const ADMITTED: RGBColor = RGBColor(46, 139, 87);
pub const THROTTLED: RGBColor = RGBColor(214, 39, 40);
pub const OFFERED: RGBColor = RGBColor(230, 140, 20);
pub const LIMIT: RGBColor = RGBColor(20, 20, 20);
pub const CHANGE: RGBColor = RGBColor(31, 90, 180);

/// The whole picture a chart draws on.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn register_fonts() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .and_then(|()| plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()))
            .map_err(|_| "the bundled DejaVu Sans font did not load".to_string())
    })
    .clone()
}

/// Draws on a white `width` × `height` canvas and returns it as PNG bytes.
pub fn render_png(width: u32, height: u32, draw: impl FnOnce(Area<'_>) -> DrawResult) -> Result<Vec<u8>, String> {
    register_fonts()?;
    let mut rgb = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(root.clone()).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&rgb, width, height, image::ColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(png)
}

/// Draws the legend in the house style at `position`.
pub fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, position: SeriesLabelPosition) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// Axis labels without trailing zeros: `100`, `2.5`.
pub fn trim_number(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
