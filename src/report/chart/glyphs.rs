//! Chart text as glyph outlines: the `<text>` elements plotters writes become `<path>`s drawn from the
//! bundled DejaVu Sans (advances and the font's kerning pairs), so the rasterizer needs no text stack of
//! its own (a shaper and a font database were half the build). The SVG files keep their `<text>`; only
//! the PNG and the layout checks go through here.

use std::sync::OnceLock;
use ttf_parser::{Face, GlyphId, OutlineBuilder};

/// The regular and the bold face, parsed once.
fn faces() -> &'static Option<(Face<'static>, Face<'static>)> {
    static FACES: OnceLock<Option<(Face<'static>, Face<'static>)>> = OnceLock::new();
    FACES.get_or_init(|| {
        let regular = Face::parse(dejavu::sans::regular(), 0).ok()?;
        let bold = Face::parse(dejavu::sans::bold(), 0).ok()?;
        Some((regular, bold))
    })
}

/// One `<text>` element as plotters writes it.
#[derive(Debug, PartialEq)]
struct Text<'a> {
    x: f32,
    y: f32,
    /// Baseline shift from `y`, in pixels (plotters' `dy` in `em` or `ex`).
    dy: f32,
    anchor: &'a str,
    size: f32,
    bold: bool,
    fill: &'a str,
    opacity: &'a str,
    /// `rotate(a, cx, cy)` as written, if any.
    transform: Option<&'a str>,
    /// The text as a renderer shows it: entities decoded, whitespace collapsed and trimmed.
    content: String,
}

/// The value of attribute `name` in a start tag's attribute text.
fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + name.len()..];
        if before.is_none_or(char::is_whitespace)
            && let Some(value) = after.strip_prefix("=\"")
        {
            return value.find('"').map(|end| &value[..end]);
        }
        rest = after;
    }
    None
}

/// XML's five named entities and numeric references decoded; whitespace runs collapsed to one space and
/// the ends trimmed (SVG's default `xml:space`).
fn decode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';') else {
            out.push_str(tail);
            rest = "";
            break;
        };
        let name = &tail[1..semi];
        let decoded = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_text<'a>(attrs: &'a str, body: &str) -> Option<Text<'a>> {
    let num = |name| attr(attrs, name).and_then(|v| v.trim().parse::<f32>().ok());
    let size = num("font-size")?;
    let dy = match attr(attrs, "dy") {
        None => 0.0,
        Some(v) => {
            let v = v.trim();
            if let Some(n) = v.strip_suffix("em") {
                n.parse::<f32>().ok()? * size
            } else if let Some(n) = v.strip_suffix("ex") {
                // An ex is half an em for a renderer without the font's x-height (usvg's choice too).
                n.parse::<f32>().ok()? * size / 2.0
            } else {
                v.trim_end_matches("px").parse().ok()?
            }
        }
    };
    Some(Text {
        x: num("x").unwrap_or(0.0),
        y: num("y").unwrap_or(0.0),
        dy,
        anchor: attr(attrs, "text-anchor").unwrap_or("start"),
        size,
        bold: attr(attrs, "font-weight") == Some("bold"),
        fill: attr(attrs, "fill").unwrap_or("#000000"),
        opacity: attr(attrs, "opacity").unwrap_or("1"),
        transform: attr(attrs, "transform"),
        content: decode(body),
    })
}

/// Each `<text …>…</text>` of an SVG as (start, end) byte offsets of the whole element, with the element.
fn texts(svg: &str) -> Vec<(usize, usize, Option<Text<'_>>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = svg[from..].find("<text") {
        let start = from + at;
        let Some(open_end) = svg[start..].find('>').map(|e| start + e) else { break };
        let Some(close) = svg[open_end..].find("</text>").map(|e| open_end + e) else { break };
        let attrs = &svg[start + "<text".len()..open_end];
        let end = close + "</text>".len();
        out.push((start, end, parse_text(attrs, &svg[open_end + 1..close])));
        from = end;
    }
    out
}

/// Path data in pixels: font units scaled by `scale`, y flipped, offset to (`x`, `y`).
struct PathData<'a> {
    d: &'a mut String,
    x: f32,
    y: f32,
    scale: f32,
}

impl PathData<'_> {
    fn point(&mut self, px: f32, py: f32) {
        use std::fmt::Write;
        let _ = write!(self.d, "{:.2} {:.2} ", self.x + px * self.scale, self.y - py * self.scale);
    }
}

impl OutlineBuilder for PathData<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        self.d.push('M');
        self.point(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.d.push('L');
        self.point(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.d.push('Q');
        self.point(x1, y1);
        self.point(x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.d.push('C');
        self.point(x1, y1);
        self.point(x2, y2);
        self.point(x, y);
    }
    fn close(&mut self) {
        self.d.push('Z');
    }
}

/// Kerning between two glyphs from the font's `kern` table, in font units.
fn kerning(face: &Face<'_>, left: GlyphId, right: GlyphId) -> f32 {
    face.tables()
        .kern
        .and_then(|kern| {
            kern.subtables
                .into_iter()
                .filter(|s| s.horizontal && !s.variable && !s.has_cross_stream)
                .find_map(|s| s.glyphs_kerning(left, right))
        })
        .map_or(0.0, f32::from)
}

/// A text laid out: its face, each glyph with its pen position in font units, the scale to pixels, and
/// where the pen starts on the baseline (pixels).
struct Layout {
    face: &'static Face<'static>,
    glyphs: Vec<(GlyphId, f32)>,
    scale: f32,
    x: f32,
    y: f32,
}

/// Lays out a parsed text in its face; `None` for an element that is not plotters' shape or when the
/// bundled font did not load.
fn lay_out<'a>(text: Option<Text<'a>>) -> Option<(Text<'a>, Layout)> {
    let text = text?;
    let face = text.face()?;
    let laid = layout(face, &text);
    Some((text, laid))
}

fn layout(face: &'static Face<'static>, text: &Text<'_>) -> Layout {
    let scale = text.size / f32::from(face.units_per_em());
    let mut glyphs = Vec::with_capacity(text.content.len());
    let mut pen = 0.0;
    let mut previous: Option<GlyphId> = None;
    for c in text.content.chars() {
        // A character the font lacks shows as its missing-glyph box, as a renderer with no fallback would.
        let id = face.glyph_index(c).unwrap_or(GlyphId(0));
        if let Some(p) = previous {
            pen += kerning(face, p, id);
        }
        glyphs.push((id, pen));
        pen += f32::from(face.glyph_hor_advance(id).unwrap_or(0));
        previous = Some(id);
    }
    let (x, y) = text.origin(pen * scale);
    Layout { face, glyphs, scale, x, y }
}

impl Text<'_> {
    fn face(&self) -> Option<&'static Face<'static>> {
        faces().as_ref().map(|(regular, bold)| if self.bold { bold } else { regular })
    }

    /// The pixel position of the pen's start on the baseline.
    fn origin(&self, width: f32) -> (f32, f32) {
        let x = match self.anchor {
            "middle" => self.x - width / 2.0,
            "end" => self.x - width,
            _ => self.x,
        };
        (x, self.y + self.dy)
    }

    /// The rotation written in `transform`, as (degrees, cx, cy).
    fn rotation(&self) -> Option<(f32, f32, f32)> {
        let inner = self.transform?.trim().strip_prefix("rotate(")?.strip_suffix(')')?;
        let mut parts = inner.split([',', ' ']).filter(|p| !p.is_empty()).map(|p| p.parse::<f32>().ok());
        let a = parts.next()??;
        let cx = parts.next().flatten().unwrap_or(0.0);
        let cy = parts.next().flatten().unwrap_or(0.0);
        Some((a, cx, cy))
    }
}

/// The SVG with every `<text>` replaced by a `<path>` of its glyphs (same fill, opacity and rotation).
/// Text that is not plotters' shape is left as it was (a renderer without text ignores it).
pub fn outline(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len() * 2);
    let mut copied = 0;
    for (start, end, text) in texts(svg) {
        out.push_str(&svg[copied..start]);
        copied = end;
        let Some((text, Layout { face, glyphs, scale, x, y })) = lay_out(text) else {
            out.push_str(&svg[start..end]);
            continue;
        };
        let mut d = String::new();
        for &(id, pen) in &glyphs {
            let mut path = PathData { d: &mut d, x: x + pen * scale, y, scale };
            face.outline_glyph(id, &mut path);
        }
        if d.is_empty() {
            continue;
        }
        out.push_str("<path d=\"");
        out.push_str(d.trim_end());
        out.push_str("\" fill=\"");
        out.push_str(text.fill);
        out.push_str("\" opacity=\"");
        out.push_str(text.opacity);
        out.push('"');
        if let Some(t) = text.transform {
            out.push_str(" transform=\"");
            out.push_str(t);
            out.push('"');
        }
        out.push_str("/>");
    }
    out.push_str(&svg[copied..]);
    out
}

/// Every text of an SVG with the box of its glyphs' outlines (tighter than the line box, so rows of a
/// legend set close together do not count as touching), rotated as drawn: (text, left, top, right,
/// bottom) in pixels.
pub fn ink_boxes(svg: &str) -> Vec<(String, [f32; 4])> {
    let mut out = Vec::new();
    for (_, _, text) in texts(svg) {
        let Some((text, Layout { face, glyphs, scale, x, y })) = lay_out(text) else { continue };
        let mut ink: Option<[f32; 4]> = None;
        for &(id, pen) in &glyphs {
            let Some(r) = face.glyph_bounding_box(id) else { continue };
            let (l, t) = (x + (pen + f32::from(r.x_min)) * scale, y - f32::from(r.y_max) * scale);
            let (rr, b) = (x + (pen + f32::from(r.x_max)) * scale, y - f32::from(r.y_min) * scale);
            ink = Some(match ink {
                None => [l, t, rr, b],
                Some([l0, t0, r0, b0]) => [l0.min(l), t0.min(t), r0.max(rr), b0.max(b)],
            });
        }
        let Some([l, t, r, b]) = ink else { continue };
        let corners = match text.rotation() {
            None => [l, t, r, b],
            Some((degrees, cx, cy)) => {
                let (sin, cos) = degrees.to_radians().sin_cos();
                let turn = |px: f32, py: f32| {
                    let (dx, dy) = (px - cx, py - cy);
                    (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos)
                };
                let pts = [turn(l, t), turn(r, t), turn(l, b), turn(r, b)];
                let xs = pts.map(|p| p.0);
                let ys = pts.map(|p| p.1);
                [
                    xs.iter().copied().fold(f32::INFINITY, f32::min),
                    ys.iter().copied().fold(f32::INFINITY, f32::min),
                    xs.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                    ys.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                ]
            }
        };
        out.push((text.content, corners));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = r##"<svg width="200" height="100" viewBox="0 0 200 100" xmlns="http://www.w3.org/2000/svg">
<text x="100" y="5" dy="0.76em" text-anchor="middle" font-family="sans-serif" font-size="20" opacity="1" fill="#000000" font-weight="bold">
AV &amp; x
</text>
<text x="12" y="50" dy="0.76em" text-anchor="middle" font-family="sans-serif" font-size="10" opacity="0.5" fill="#1F5AB4" transform="rotate(270, 12, 50)">
up
</text>
</svg>"##;

    #[test]
    fn reads_plotters_text_elements() {
        let all = texts(SVG);
        assert_eq!(all.len(), 2);
        let first = all[0].2.as_ref().unwrap();
        assert_eq!(first.content, "AV & x");
        assert_eq!((first.x, first.y, first.size, first.bold, first.anchor), (100.0, 5.0, 20.0, true, "middle"));
        assert!((first.dy - 15.2).abs() < 1e-4);
        let second = all[1].2.as_ref().unwrap();
        assert_eq!(second.rotation(), Some((270.0, 12.0, 50.0)));
        assert_eq!(second.fill, "#1F5AB4");
        assert_eq!(parse_text(r#" font-size="10" dy="-0.5ex""#, "a").unwrap().dy, -2.5);
    }

    #[test]
    fn replaces_text_with_paths_and_keeps_the_rest() {
        let out = outline(SVG);
        assert!(!out.contains("<text"), "{out}");
        assert_eq!(out.matches("<path").count(), 2);
        assert!(out.contains(r##"fill="#1F5AB4" opacity="0.5" transform="rotate(270, 12, 50)""##));
        assert!(out.starts_with("<svg width=\"200\"") && out.ends_with("</svg>"));
    }

    #[test]
    fn kerning_pulls_a_and_v_together() {
        let (regular, _) = faces().as_ref().unwrap();
        let a = regular.glyph_index('A').unwrap();
        let v = regular.glyph_index('V').unwrap();
        assert!(kerning(regular, a, v) < 0.0, "DejaVu Sans kerns AV");
    }

    #[test]
    fn boxes_follow_anchor_baseline_and_rotation() {
        let boxes = ink_boxes(SVG);
        let [l, t, r, b] = boxes[0].1;
        // Centred on x = 100; capitals of a 20 px bold face stand about 14.6 px above the baseline at 20.2.
        assert!(((l + r) / 2.0 - 100.0).abs() < 2.0, "{l} {r}");
        assert!((t - (20.2 - 0.729 * 20.0)).abs() < 0.5 && b > 20.0 && b < 21.0, "{t} {b}");
        // Turned a quarter: taller than wide, centred on y = 50 around the turning point.
        let [l, t, r, b] = boxes[1].1;
        assert!(b - t > r - l, "{:?}", boxes[1]);
        assert!(((t + b) / 2.0 - 50.0).abs() < 2.0);
    }
}
