//! Charts: one file per chart, the style (font, colours, sizes) and the PNG encoding here.
//!
//! Text is drawn with DejaVu Sans compiled into the binary (from the `dejavu` crate, under the Bitstream
//! Vera / Arev licence), so charts render on a machine with no fonts or system libraries.

mod glyphs;
pub mod timeline;

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
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;
/// A chart as SVG text, or why it could not be drawn.
pub type Svg = Result<String, String>;

fn register_fonts() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .and_then(|()| plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()))
            .map_err(|_| "the bundled DejaVu Sans font did not load".to_string())
    })
    .clone()
}

/// Draws on a white `width` × `height` canvas and returns it as SVG. plotters lays the chart out (with
/// the bundled font's metrics); the text itself is left to whoever renders the SVG (a browser, or
/// `rasterize`), which spaces it properly (plotters' own rasterizer places glyphs without kerning).
pub fn render(width: u32, height: u32, draw: impl FnOnce(Area<'_>) -> DrawResult) -> Svg {
    register_fonts()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(root.clone()).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    // Labels are escaped where they are made; this keeps the SVG well-formed whatever slipped through
    // (XML 1.0 allows no control characters but tab and newline).
    if svg.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        svg = svg
            .chars()
            .map(|c| if c.is_control() && c != '\n' && c != '\t' && c != '\r' { '\u{fffd}' } else { c })
            .collect();
    }
    Ok(svg)
}

/// Rasterizes an SVG to PNG bytes, its text drawn as the bundled font's glyph outlines (no system fonts).
pub fn rasterize(svg: &str) -> Result<Vec<u8>, String> {
    let tree = resvg::usvg::Tree::from_str(&glyphs::outline(svg), &resvg::usvg::Options::default())
        .map_err(|e| e.to_string())?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| format!("cannot make a {}x{} picture", size.width(), size.height()))?;
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

/// Which files each chart is written as (`--format png,svg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Formats {
    pub png: bool,
    pub svg: bool,
}

impl Default for Formats {
    fn default() -> Formats {
        Formats { png: true, svg: false }
    }
}

impl Formats {
    /// `png`, `svg` or both, comma-separated.
    pub fn parse(text: &str) -> Result<Formats, String> {
        let mut f = Formats { png: false, svg: false };
        for part in text.split(',').map(str::trim) {
            match part {
                "png" => f.png = true,
                "svg" => f.svg = true,
                other => return Err(format!("--format: `{other}` is not valid; expected `png`, `svg` or `png,svg`")),
            }
        }
        Ok(f)
    }

    /// The files of chart `name` (without extension) in these formats, as (file name, bytes).
    pub fn files(&self, name: &str, svg: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut out = Vec::new();
        if self.png {
            out.push((format!("{name}.png"), rasterize(svg)?));
        }
        if self.svg {
            out.push((format!("{name}.svg"), svg.as_bytes().to_vec()));
        }
        Ok(out)
    }
}

/// Adds chart `name` to an output set in every format asked for, and returns its SVG (for the HTML
/// report); a chart that cannot be drawn fails with its path.
pub fn add_chart(
    set: &mut crate::report::OutputSet,
    dir: &std::path::Path,
    name: &str,
    svg: Svg,
    formats: Formats,
) -> Result<String, crate::Error> {
    let fail = |message| crate::Error::Chart { path: dir.join(format!("{name}.png")).display().to_string(), message };
    let svg = svg.map_err(fail)?;
    for (file, bytes) in formats.files(name, &svg).map_err(fail)? {
        set.add_bytes(&file, &bytes)?;
    }
    Ok(svg)
}

/// A legend entry: a swatch and its words.
pub enum Swatch {
    Fill(RGBAColor),
    Line(RGBAColor, u32),
    Dashed(RGBAColor, u32),
}

const LEGEND_ROW: i32 = 20;

fn legend_widths(area: &Area<'_>, entries: &[(Swatch, String)]) -> Vec<i32> {
    let style: TextStyle = (FONT, 13).into();
    entries.iter().map(|(_, t)| area.estimate_text_size(t, &style).map(|(w, _)| w as i32 + 34).unwrap_or(120)).collect()
}

/// Entries per row when laid out right-aligned in `width` pixels.
fn legend_layout(widths: &[i32], width: i32) -> Vec<std::ops::Range<usize>> {
    let mut rows = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, w) in widths.iter().enumerate() {
        if used + w > width - 32 && i > start {
            rows.push(start..i);
            (start, used) = (i, 0);
        }
        used += w;
    }
    rows.push(start..widths.len());
    rows
}

/// The width the entries take laid out in one row.
pub fn legend_width(area: &Area<'_>, entries: &[(Swatch, String)]) -> i32 {
    legend_widths(area, entries).iter().sum()
}

/// The height a legend strip needs in `area` for these entries (one row, or more when they do not fit).
pub fn legend_height(area: &Area<'_>, entries: &[(Swatch, String)]) -> u32 {
    let rows = legend_layout(&legend_widths(area, entries), area.dim_in_pixel().0 as i32).len();
    (rows as i32 * LEGEND_ROW + 10) as u32
}

/// Draws the entries in `strip`, right-aligned, in as many rows as they need: a legend kept out of the
/// plotting area, so it never covers data.
pub fn legend_strip(strip: &Area<'_>, entries: &[(Swatch, String)]) -> DrawResult {
    let style: TextStyle = (FONT, 13).into();
    let widths = legend_widths(strip, entries);
    let (w, h) = strip.dim_in_pixel();
    let rows = legend_layout(&widths, w as i32);
    let first_y = h as i32 - rows.len() as i32 * LEGEND_ROW + LEGEND_ROW / 2 - 4;
    for (r, range) in rows.into_iter().enumerate() {
        let mut x = w as i32 - 16 - widths[range.clone()].iter().sum::<i32>();
        let y = first_y + r as i32 * LEGEND_ROW;
        for i in range {
            let (swatch, text) = &entries[i];
            match swatch {
                Swatch::Fill(c) => strip.draw(&Rectangle::new([(x, y - 6), (x + 16, y + 6)], c.filled()))?,
                Swatch::Line(c, stroke) => {
                    strip.draw(&PathElement::new([(x, y), (x + 16, y)], c.stroke_width(*stroke)))?
                }
                Swatch::Dashed(c, stroke) => {
                    for k in 0..3 {
                        let a = x + k * 6;
                        strip.draw(&PathElement::new([(a, y), (a + 3, y)], c.stroke_width(*stroke)))?;
                    }
                }
            }
            strip.draw(&Text::new(text.clone(), (x + 22, y - 7), style.clone()))?;
            x += widths[i];
        }
    }
    Ok(())
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

/// Large axis labels in thousands or millions (`600k`, `1.2M`), smaller ones as [`trim_number`].
pub fn short_number(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("{}M", trim_number(x / 1e6))
    } else if x.abs() >= 1e4 {
        format!("{}k", trim_number(x / 1e3))
    } else {
        trim_number(x)
    }
}

/// Axis labels without trailing zeros: `100`, `2.5`.
pub fn trim_number(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A piece of text as a renderer lays it out: its words and its box in canvas pixels.
#[derive(Clone, Debug)]
pub struct TextBox {
    pub text: String,
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl TextBox {
    /// Whether two boxes share more than `slack` pixels each way.
    pub fn overlaps(&self, other: &TextBox, slack: f32) -> bool {
        self.left + slack < other.right
            && other.left + slack < self.right
            && self.top + slack < other.bottom
            && other.top + slack < self.bottom
    }
}

/// Every text of an SVG chart with the box of its glyphs' outlines, laid out as the PNG is drawn, and the
/// canvas size: what the layout checks (no label over another, none outside the canvas) read.
pub fn text_boxes(svg: &str) -> Result<(Vec<TextBox>, (f32, f32)), String> {
    let open = svg.find("<svg").and_then(|at| svg[at..].find('>').map(|end| &svg[at..at + end]));
    let size = |name: &str| {
        open.and_then(|tag| tag.split(&format!(" {name}=\"")).nth(1))
            .and_then(|rest| rest.split('"').next())
            .and_then(|v| v.parse::<f32>().ok())
            .ok_or_else(|| format!("the chart's <svg> has no {name}"))
    };
    let canvas = (size("width")?, size("height")?);
    let boxes = glyphs::ink_boxes(svg)
        .into_iter()
        .map(|(text, [left, top, right, bottom])| TextBox { text, left, top, right, bottom })
        .collect();
    Ok((boxes, canvas))
}
