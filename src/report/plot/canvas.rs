//! The bitmap backend for PNG output, with text drawn from the embedded font.

use ab_glyph::{Font, OutlinedGlyph, ScaleFont};
use plotters::prelude::{BitMapBackend, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;
// Only types: importing the backend style traits would make `color.stroke_width(…)` ambiguous.
use plotters_backend::{BackendColor, BackendCoord, DrawingErrorKind};

use super::font::{advance_width, em_scale, embedded_font};
use super::text::text_size;

/// Baseline position in a one-em text box, measured from its top. The SVG backend puts the
/// baseline of top-anchored text 0.76 em down, so the PNG does the same and both agree.
const BASELINE: f32 = 0.76;

/// The bitmap backend with its own text drawing. plotters' built-in text drawing places every
/// glyph without its left side bearing, which spaces digits unevenly ("102 4"); here glyphs are
/// placed at their exact (sub-pixel) pen positions. Everything else is the bitmap backend's.
pub(super) struct Canvas<'a> {
    inner: BitMapBackend<'a>,
}

type CanvasResult =
    Result<(), DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

impl<'a> Canvas<'a> {
    pub(super) fn new(rgb: &'a mut [u8], size: (u32, u32)) -> Canvas<'a> {
        Canvas {
            inner: BitMapBackend::with_buffer(rgb, size),
        }
    }

    /// Blends one glyph into the bitmap at `pos`, its coverage scaling the colour's alpha.
    fn draw_glyph(
        &mut self,
        outline: &OutlinedGlyph,
        transform: &FontTransform,
        pos: BackendCoord,
        color: BackendColor,
    ) -> CanvasResult {
        let bounds = outline.px_bounds();
        let mut coverage = Vec::new();
        outline.draw(|x, y, c| coverage.push((x, y, c)));
        for (x, y, c) in coverage {
            if c <= 0.0 {
                continue;
            }
            let (dx, dy) = transform.transform(
                bounds.min.x as i32 + x as i32,
                bounds.min.y as i32 + y as i32,
            );
            let ink = BackendColor {
                alpha: color.alpha * f64::from(c.min(1.0)),
                rgb: color.rgb,
            };
            self.inner.draw_pixel((pos.0 + dx, pos.1 + dy), ink)?;
        }
        Ok(())
    }
}

/// Offsets of the text box's top-left corner from the anchor, before rotation.
fn box_offset<F: Font, SF: ScaleFont<F>>(
    font: &SF,
    text: &str,
    anchor: Pos,
    em: f32,
) -> (f32, f32) {
    let left = match anchor.h_pos {
        HPos::Left => 0.0,
        HPos::Center => -advance_width(font, text) / 2.0,
        HPos::Right => -advance_width(font, text),
    };
    let top = match anchor.v_pos {
        VPos::Top => 0.0,
        VPos::Center => -em / 2.0,
        VPos::Bottom => -em,
    };
    (left, top)
}

impl DrawingBackend for Canvas<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> CanvasResult {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> CanvasResult {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> CanvasResult {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> CanvasResult {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> CanvasResult {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> CanvasResult {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> CanvasResult {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> CanvasResult {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> CanvasResult {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: plotters_backend::BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        Ok(text_size(text, style.size() / 1.24))
    }

    fn draw_text<TStyle: plotters_backend::BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> CanvasResult {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let css_px = style.size() / 1.24;
        let font = embedded_font().as_scaled(em_scale(css_px));
        let em = css_px as f32;
        let (left, top) = box_offset(&font, text, style.anchor(), em);
        let transform = style.transform();
        let mut pen = left;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                pen += font.kern(p, id);
            }
            previous = Some(id);
            let glyph =
                id.with_scale_and_position(font.scale(), ab_glyph::point(pen, top + BASELINE * em));
            pen += font.h_advance(id);
            if let Some(outline) = font.outline_glyph(glyph) {
                self.draw_glyph(&outline, &transform, pos, color)?;
            }
        }
        Ok(())
    }
}
