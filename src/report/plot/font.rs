//! The embedded DejaVu Sans: its bytes, its registration with plotters, and its metrics.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::style::{register_font, FontStyle};

pub(super) const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The name the font is registered under. plotters writes it verbatim into every SVG
/// `<text font-family=...>`, and the embedded `@font-face` declares the same name. It is the
/// font's real family name, so a viewer that ignores `@font-face` still picks an installed
/// DejaVu Sans if there is one.
pub(super) const FONT_FAMILY: &str = "DejaVu Sans";

pub(super) fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES)
                .map_err(|_| "the embedded DejaVu Sans font could not be parsed".to_string())
        })
        .clone()
}

pub(super) fn embedded_font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    // The bytes are compiled in and the unit tests parse them, so this cannot fail at run time.
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("embedded font parses"))
}

/// The ab_glyph scale for an em of `css_px` pixels (ab_glyph scales by ascent − descent).
pub(super) fn em_scale(css_px: f64) -> PxScale {
    let font = embedded_font();
    let units = font.units_per_em().unwrap_or(2048.0);
    PxScale::from(css_px as f32 * font.height_unscaled() / units)
}

pub(super) fn advance_width<F: Font, SF: ScaleFont<F>>(font: &SF, text: &str) -> f32 {
    let mut width = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            width += font.kern(p, id);
        }
        width += font.h_advance(id);
        previous = Some(id);
    }
    width
}
