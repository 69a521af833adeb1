//! The legend beside the plot: one row per series, each with a swatch of how it is drawn.

use plotters::coord::Shift;
use plotters::prelude::{Color, DrawingArea, DrawingBackend, PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::RGBColor;

use super::draw_error;
use super::frame::MARGIN;
use super::marker::draw_marker;
use super::palette::series_color;
use super::text::{fit_text, text_style, widest, LEGEND_PX};
use super::Chart;

pub(super) struct LegendEntry {
    pub(super) label: String,
    pub(super) color: RGBColor,
    pub(super) swatch: Swatch,
}

/// What stands for a series in the legend; markers carry the series index for their shape.
pub(super) enum Swatch {
    Line,
    Marker(usize),
    LineAndMarker(usize),
    Block,
}

const LEGEND_ROW: i32 = 26;
const LEGEND_SWATCH: i32 = 34;

impl Chart {
    pub(super) fn series_legend(&self, swatch: impl Fn(usize) -> Swatch) -> Vec<LegendEntry> {
        self.series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry {
                label: s.label.clone(),
                color: series_color(i),
                swatch: swatch(i),
            })
            .collect()
    }
}

pub(super) fn legend_width<DB: DrawingBackend>(
    entries: &[LegendEntry],
    body: &DrawingArea<DB, Shift>,
) -> u32 {
    let widest = widest(entries.iter().map(|e| e.label.as_str()), LEGEND_PX);
    let max = body.dim_in_pixel().0 * 3 / 10;
    (widest + LEGEND_SWATCH as u32 + 30).clamp(100, max.max(100))
}

/// The legend sits beside the plot, never on top of the data.
pub(super) fn split_legend<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    legend_width: u32,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let width = body.dim_in_pixel().0;
    body.split_horizontally(width.saturating_sub(legend_width))
}

pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<(), String> {
    let (width, height) = area.dim_in_pixel();
    let rows = ((height as i32 - 2 * MARGIN as i32) / LEGEND_ROW).max(1) as usize;
    let (shown, hidden) = if entries.len() > rows {
        (rows - 1, entries.len() - (rows - 1))
    } else {
        (entries.len(), 0)
    };
    let text_room = (width as i32 - LEGEND_SWATCH - 16).max(10) as u32;
    let label_style = text_style(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
    for (row, entry) in entries.iter().take(shown).enumerate() {
        let y = MARGIN as i32 + LEGEND_ROW * row as i32 + LEGEND_ROW / 2;
        draw_swatch(area, entry, (4, y))?;
        let text = fit_text(&entry.label, LEGEND_PX, text_room);
        area.draw_text(&text, &label_style, (4 + LEGEND_SWATCH + 6, y))
            .map_err(draw_error)?;
    }
    if hidden > 0 {
        let y = MARGIN as i32 + LEGEND_ROW * shown as i32 + LEGEND_ROW / 2;
        area.draw_text(&format!("+{hidden} more"), &label_style, (4, y))
            .map_err(draw_error)?;
    }
    Ok(())
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entry: &LegendEntry,
    (x, y): (i32, i32),
) -> Result<(), String> {
    let centre = (x + LEGEND_SWATCH / 2, y);
    let line = PathElement::new(
        vec![(x, y), (x + LEGEND_SWATCH, y)],
        entry.color.stroke_width(2),
    );
    match entry.swatch {
        Swatch::Line => area.draw(&line).map_err(draw_error),
        Swatch::Marker(series) => draw_marker(area, series, centre, entry.color.filled()),
        Swatch::LineAndMarker(series) => {
            area.draw(&line).map_err(draw_error)?;
            draw_marker(area, series, centre, entry.color.filled())
        }
        Swatch::Block => {
            let block = Rectangle::new(
                [(x + 8, y - 7), (x + LEGEND_SWATCH - 8, y + 7)],
                entry.color.filled(),
            );
            area.draw(&block).map_err(draw_error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::examples::{heatmap_chart, pareto_chart, H, W};

    #[test]
    fn svg_legends_show_front_and_scale() {
        let svg = pareto_chart().to_svg(W, H).unwrap();
        assert!(svg.contains(">\nPareto front\n<"));
        let svg = heatmap_chart().to_svg(W, H).unwrap();
        assert!(svg.contains(">\n0.731\n<") && svg.contains(">\n0.412\n<"));
    }
}
