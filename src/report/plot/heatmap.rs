//! Heatmaps: a grid of coloured, labelled cells with a colour bar beside it.

use plotters::coord::Shift;
use plotters::prelude::{ChartContext, Color, DrawingArea, DrawingBackend, Rectangle, Text, WHITE};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::fmt_fixed;
use super::color_bar::draw_color_bar;
use super::draw_error;
use super::frame::{Frame, Plane};
use super::legend::split_legend;
use super::palette::{heat_color, text_color_on, EMPTY_CELL_BORDER};
use super::text::{text_size, text_style, text_width, CELL_MIN_PX, CELL_PX, LEGEND_PX};
use super::Chart;

/// Opposite corners of a heatmap cell in plot coordinates.
type CellCorners = [(f64, f64); 2];

#[derive(Debug, Clone)]
pub(super) struct HeatmapData {
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<String>,
    pub(super) values: Vec<Vec<Option<f64>>>,
    pub(super) decimals: usize,
}

impl Chart {
    pub(super) fn render_heatmap<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        data: &HeatmapData,
    ) -> Result<(), String> {
        let (lo, hi) = data.range().ok_or("heatmap has no values")?;
        let bar_labels = [fmt_fixed(hi, data.decimals), fmt_fixed(lo, data.decimals)];
        let widest = bar_labels
            .iter()
            .map(|l| text_width(l, LEGEND_PX))
            .max()
            .unwrap_or(0);
        let (plot_area, legend_area) = split_legend(body, widest + 60);
        let mut frame = Frame::new(&plot_area, &self.x_label, &self.y_label);
        let x = frame.category_axis(&data.columns);
        let y = frame.row_axis(&data.rows);
        let mut chart = frame.build(&plot_area, &x, &y, false)?;

        let cells = data.cells();
        for &(cell, value) in &cells {
            if let Some(v) = value {
                draw_cell(&mut chart, cell, v, (lo, hi), data.decimals)?;
            }
        }
        // Blank cells get a faint outline so they read as "no value" rather than as a gap; drawn
        // last so that the white borders of neighbouring cells do not cover it.
        let blanks = cells.iter().filter(|c| c.1.is_none());
        let outlines = blanks.map(|c| Rectangle::new(c.0, EMPTY_CELL_BORDER.stroke_width(1)));
        chart.draw_series(outlines).map_err(draw_error)?;
        frame.draw_category_labels(root, &chart, y.range.start)?;
        draw_color_bar(&legend_area, (lo, hi), &bar_labels)
    }
}

impl HeatmapData {
    pub(super) fn check_shape(&self) -> Result<(), String> {
        if self.values.len() != self.rows.len() {
            return Err(format!(
                "heatmap has {} row labels but {} rows of values",
                self.rows.len(),
                self.values.len()
            ));
        }
        match self.values.iter().find(|r| r.len() != self.columns.len()) {
            Some(row) => Err(format!(
                "heatmap has {} column labels but a row with {} values",
                self.columns.len(),
                row.len()
            )),
            None => Ok(()),
        }
    }

    /// Every cell as its corners in plot coordinates and its value, if finite. Row 0 is at the
    /// top, as in a table.
    fn cells(&self) -> Vec<(CellCorners, Option<f64>)> {
        let rows = self.values.len();
        let mut cells = Vec::new();
        for (r, row) in self.values.iter().enumerate() {
            let top = (rows - r) as f64 - 0.5;
            for (c, value) in row.iter().enumerate() {
                let corners = [(c as f64 - 0.5, top), (c as f64 + 0.5, top - 1.0)];
                cells.push((corners, value.filter(|v| v.is_finite())));
            }
        }
        cells
    }

    /// (min, max) of the finite values, None if there are none.
    pub(super) fn range(&self) -> Option<(f64, f64)> {
        let finite = self.values.iter().flatten().flatten().copied();
        finite
            .filter(|v| v.is_finite())
            .fold(None, |acc, v| match acc {
                None => Some((v, v)),
                Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            })
    }
}

fn draw_cell<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Plane>,
    cell: CellCorners,
    v: f64,
    scale: (f64, f64),
    decimals: usize,
) -> Result<(), String> {
    let fill = heat_color(v, scale);
    let rect = Rectangle::new(cell, fill.filled());
    let border = Rectangle::new(cell, WHITE.stroke_width(1));
    chart.draw_series([rect, border]).map_err(draw_error)?;

    let text = fmt_fixed(v, decimals);
    let (left, top) = chart.backend_coord(&cell[0]);
    let (right, bottom) = chart.backend_coord(&cell[1]);
    let Some(px) = cell_font_size(&text, (right - left - 6, bottom - top - 2)) else {
        return Ok(());
    };
    let centre = ((cell[0].0 + cell[1].0) / 2.0, (cell[0].1 + cell[1].1) / 2.0);
    let ink = text_color_on(fill);
    let style = text_style(px)
        .color(&ink)
        .pos(Pos::new(HPos::Center, VPos::Center));
    chart
        .draw_series(std::iter::once(Text::new(text, centre, style)))
        .map_err(draw_error)?;
    Ok(())
}

/// The largest size from CELL_PX down to CELL_MIN_PX at which `text` fits in `room` pixels.
fn cell_font_size(text: &str, (w, h): (i32, i32)) -> Option<f64> {
    let mut px = CELL_PX;
    while px >= CELL_MIN_PX {
        let (tw, th) = text_size(text, px);
        if tw as i32 <= w && th as i32 <= h {
            return Some(px);
        }
        px -= 1.0;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::examples::{strings, H, PNG_SIGNATURE, W};
    use super::*;

    #[test]
    fn heatmap_with_blank_cell_renders() {
        let chart = Chart::heatmap(
            "h",
            "cols",
            "rows",
            strings(&["a", "b"]),
            strings(&["r1", "r2"]),
            vec![vec![Some(1.0), None], vec![None, Some(2.5)]],
            1,
        );
        assert_eq!(chart.to_png(W, H).unwrap()[..8], PNG_SIGNATURE);
        assert!(chart.to_svg(W, H).unwrap().contains(">\n2.5\n<"));
    }

    #[test]
    fn heatmap_shape_mismatch_is_an_error() {
        let chart = Chart::heatmap(
            "h",
            "x",
            "y",
            strings(&["a"]),
            strings(&["r"]),
            vec![vec![Some(1.0), None]],
            1,
        );
        assert!(chart.to_png(W, H).unwrap_err().contains("column labels"));
    }
}
