//! Text styles, sizes and measuring, and shortening text to fit.

use ab_glyph::Font;
use plotters::prelude::{IntoFont, TextStyle};

use super::font::{advance_width, em_scale, embedded_font, FONT_FAMILY};
use super::palette::TEXT;

// Text sizes in CSS pixels (the SVG `font-size`); see `text_style`.
pub(super) const TITLE_PX: f64 = 22.0;
pub(super) const AXIS_TITLE_PX: f64 = 16.0;
pub(super) const TICK_PX: f64 = 14.0;
pub(super) const LEGEND_PX: f64 = 14.0;
pub(super) const CELL_PX: f64 = 14.0;
/// Heatmap cell labels shrink down to this size before being left out, so dense grids stay
/// readable instead of overprinting.
pub(super) const CELL_MIN_PX: f64 = 10.0;
pub(super) const POINT_LABEL_PX: f64 = 14.0;

/// plotters sizes fonts at 1.24 × the CSS pixel size (it writes size / 1.24 into the SVG), so
/// sizes here are CSS pixels and get scaled. Only the normal face is embedded, so no bold.
pub(super) fn text_style(css_px: f64) -> TextStyle<'static> {
    TextStyle::from((FONT_FAMILY, css_px * 1.24).into_font()).color(&TEXT)
}

/// The layout box of `text`: its advance width and one em of height, as the PNG draws it (and
/// close to what an SVG viewer does with the same font).
pub(super) fn text_size(text: &str, css_px: f64) -> (u32, u32) {
    let width = advance_width(&embedded_font().as_scaled(em_scale(css_px)), text);
    (width.ceil() as u32, css_px.round() as u32)
}

pub(super) fn text_width(text: &str, css_px: f64) -> u32 {
    text_size(text, css_px).0
}

pub(super) fn text_height(css_px: f64) -> u32 {
    text_size("Hg", css_px).1
}

pub(super) fn widest<'a>(texts: impl Iterator<Item = &'a str>, css_px: f64) -> u32 {
    texts.map(|t| text_width(t, css_px)).max().unwrap_or(0)
}

/// `text`, or as much of it as fits in `max_width` pixels followed by "…".
pub(super) fn fit_text(text: &str, css_px: f64, max_width: u32) -> String {
    if text_width(text, css_px) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    for keep in (1..chars.len()).rev() {
        let head: String = chars[..keep].iter().collect();
        let candidate = format!("{}…", head.trim_end());
        if text_width(&candidate, css_px) <= max_width {
            return candidate;
        }
    }
    "…".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_shortened_with_ellipsis() {
        let short = fit_text("a rather long label indeed", LEGEND_PX, 80);
        assert!(
            short.ends_with('…') && text_width(&short, LEGEND_PX) <= 80,
            "{short}"
        );
        assert_eq!(fit_text("ok", LEGEND_PX, 80), "ok");
    }
}
