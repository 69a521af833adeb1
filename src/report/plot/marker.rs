//! Point markers, shaped by series.

use plotters::coord::CoordTranslate;
use plotters::prelude::{
    Circle, DrawingArea, DrawingBackend, EmptyElement, Polygon, Rectangle, ShapeStyle,
};

use super::draw_error;

/// A marker whose shape cycles with the series index, so series stay apart even where colours
/// repeat or cannot be told apart.
pub(super) fn draw_marker<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    series: usize,
    at: CT::From,
    style: ShapeStyle,
) -> Result<(), String> {
    let r = 5;
    let anchor = EmptyElement::at(at);
    let drawn = match series % 4 {
        0 => area.draw(&(anchor + Circle::new((0, 0), r, style))),
        1 => area.draw(&(anchor + Rectangle::new([(-r + 1, -r + 1), (r - 1, r - 1)], style))),
        2 => area.draw(&(anchor + Polygon::new(vec![(0, -r - 1), (r + 1, r), (-r - 1, r)], style))),
        _ => area.draw(
            &(anchor
                + Polygon::new(
                    vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
                    style,
                )),
        ),
    };
    drawn.map_err(draw_error)
}
