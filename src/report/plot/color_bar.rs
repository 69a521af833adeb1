//! The heatmap's colour bar: its scale from light (low) to dark (high), labelled at both ends.

use plotters::coord::Shift;
use plotters::prelude::{Color, DrawingArea, DrawingBackend, PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw_error;
use super::frame::MARGIN;
use super::palette::{heat_color, AXIS};
use super::text::{text_style, LEGEND_PX};

/// A vertical colour bar, dark (max) at the top, labelled with max and min.
pub(super) fn draw_color_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (lo, hi): (f64, f64),
    labels: &[String; 2],
) -> Result<(), String> {
    let (_, height) = area.dim_in_pixel();
    let top = MARGIN as i32 + 8;
    let bar_height = (height as i32 - 2 * top).clamp(40, 300);
    let (left, right) = (8, 30);
    // Two-pixel bands: smooth at 100% zoom, and few elements in the SVG.
    for y in (0..bar_height).step_by(2) {
        let t = 1.0 - y as f64 / (bar_height - 1).max(1) as f64;
        let color = heat_color(lo + (hi - lo) * t, (lo, hi));
        let band = Rectangle::new([(left, top + y), (right, top + y + 2)], color.filled());
        area.draw(&band).map_err(draw_error)?;
    }
    let frame = Rectangle::new(
        [(left, top), (right, top + bar_height)],
        AXIS.stroke_width(1),
    );
    area.draw(&frame).map_err(draw_error)?;
    let style = text_style(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
    for (label, y) in labels.iter().zip([top, top + bar_height]) {
        let tick = PathElement::new(vec![(right, y), (right + 4, y)], AXIS.stroke_width(1));
        area.draw(&tick).map_err(draw_error)?;
        area.draw_text(label, &style, (right + 8, y))
            .map_err(draw_error)?;
    }
    Ok(())
}
