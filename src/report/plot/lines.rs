//! Line charts: one line with markers per series.

use plotters::coord::Shift;
use plotters::prelude::{Color, DrawingArea, DrawingBackend, LineSeries};

use super::axis::{log2, TickPlacement};
use super::frame::Frame;
use super::legend::{draw_legend, legend_width, split_legend, Swatch};
use super::marker::draw_marker;
use super::palette::series_color;
use super::{draw_error, plottable, xs, Chart};

impl Chart {
    pub(super) fn render_lines<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
        x_log2: bool,
    ) -> Result<(), String> {
        let legend = self.series_legend(Swatch::LineAndMarker);
        let (plot_area, legend_area) = split_legend(body, legend_width(&legend, body));
        let points = self.plottable_points();
        let mut frame = Frame::new(&plot_area, &self.x_label, &self.y_label);
        let y = frame.y_axis(points.iter().map(|p| p.1), false);
        let x = if x_log2 {
            frame.log2_axis(&xs(&points), TickPlacement::AtData)
        } else {
            frame.x_axis(points.iter().map(|p| p.0))
        };
        let mut chart = frame.build(&plot_area, &x, &y, true)?;
        for (i, series) in self.series.iter().enumerate() {
            let mut pts: Vec<(f64, f64)> = series
                .points
                .iter()
                .copied()
                .filter(|&p| plottable(p, x_log2))
                .map(|(px, py)| (if x_log2 { log2(px) } else { px }, py))
                .collect();
            // Joining points in x order keeps a line readable whatever order the caller used.
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let color = series_color(i);
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(draw_error)?;
            for p in pts {
                draw_marker(chart.plotting_area(), i, p, color.filled())?;
            }
        }
        draw_legend(&legend_area, &legend)
    }
}
