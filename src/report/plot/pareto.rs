//! Pareto charts: points by series on a log2 x axis, with the front of the best ones.

use plotters::coord::Shift;
use plotters::prelude::{ChartContext, Color, DrawingArea, DrawingBackend, LineSeries};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{log2, TickPlacement};
use super::frame::{Frame, Plane};
use super::legend::{draw_legend, legend_width, split_legend, LegendEntry, Swatch};
use super::marker::draw_marker;
use super::palette::{series_color, FRONT};
use super::text::{fit_text, text_style, text_width, POINT_LABEL_PX};
use super::{draw_error, plottable, xs, Chart};

impl Chart {
    pub(super) fn render_pareto<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        point_labels: bool,
        larger_x_better: bool,
    ) -> Result<(), String> {
        let mut legend = self.series_legend(Swatch::Marker);
        legend.push(LegendEntry {
            label: "Pareto front".to_string(),
            color: FRONT,
            swatch: Swatch::Line,
        });
        let (plot_area, legend_area) = split_legend(body, legend_width(&legend, body));
        let points = self.plottable_points();
        let mut frame = Frame::new(&plot_area, &self.x_label, &self.y_label);
        let y = frame.y_axis(points.iter().map(|p| p.1), false);
        let x = frame.log2_axis(&xs(&points), TickPlacement::PowersOfTwo);
        let mut chart = frame.build(&plot_area, &x, &y, true)?;

        let front: Vec<(f64, f64)> = pareto_front_of(&points, larger_x_better)
            .into_iter()
            .map(|(px, py)| (log2(px), py))
            .collect();
        // Drawn first so that the points stay visible on top of it.
        chart
            .draw_series(LineSeries::new(front, FRONT.stroke_width(2)))
            .map_err(draw_error)?;
        for (i, series) in self.series.iter().enumerate() {
            let pts: Vec<(f64, f64)> = series
                .points
                .iter()
                .copied()
                .filter(|&p| plottable(p, true))
                .map(|(px, py)| (log2(px), py))
                .collect();
            let color = series_color(i);
            for &p in &pts {
                draw_marker(chart.plotting_area(), i, p, color.filled())?;
            }
            if point_labels {
                draw_point_labels(root, &chart, &pts, &series.label)?;
            }
        }
        draw_legend(&legend_area, &legend)
    }
}

/// Points not dominated by another point with better-or-equal x (smaller, or larger with
/// `larger_x_better`) and larger-or-equal y, in x order.
pub(super) fn pareto_front_of(points: &[(f64, f64)], larger_x_better: bool) -> Vec<(f64, f64)> {
    if larger_x_better {
        // The front of the mirrored points, mirrored back.
        let mirrored: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (-x, y)).collect();
        let mut front: Vec<(f64, f64)> = pareto_front_of(&mirrored, false)
            .into_iter()
            .map(|(x, y)| (-x, y))
            .collect();
        front.reverse();
        return front;
    }
    let mut sorted = points.to_vec();
    // Within one x the best y comes first, so the others at that x are dominated by it.
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut front: Vec<(f64, f64)> = Vec::new();
    for p in sorted {
        if front.last().is_none_or(|best| p.1 > best.1) {
            front.push(p);
        }
    }
    front
}

fn draw_point_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<DB, Plane>,
    points: &[(f64, f64)],
    label: &str,
) -> Result<(), String> {
    let text = fit_text(label, POINT_LABEL_PX, 160);
    let width = text_width(&text, POINT_LABEL_PX) as i32;
    let plot_right = chart.plotting_area().get_pixel_range().0.end;
    for p in points {
        let (px, py) = chart.backend_coord(p);
        // The front rises to the right, so below-right of a point is clear of it; near the right
        // edge, where a label must go to the left to stay inside the plot, above-left is.
        let (at, anchor) = if px + 8 + width < plot_right {
            ((px + 7, py + 3), Pos::new(HPos::Left, VPos::Top))
        } else {
            ((px - 7, py - 3), Pos::new(HPos::Right, VPos::Bottom))
        };
        let style = text_style(POINT_LABEL_PX).pos(anchor);
        root.draw_text(&text, &style, at).map_err(draw_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::examples::{lines_chart, series};
    use super::*;

    #[test]
    fn pareto_front_of_hand_made_points() {
        let chart = Chart::pareto(
            "t",
            "x",
            "y",
            vec![
                series("a", &[(1.0, 0.5), (2.0, 0.4), (4.0, 0.8), (4.0, 0.6)]),
                series("b", &[(2.0, 0.7), (8.0, 0.8), (16.0, 0.9), (3.0, 0.7)]),
                // Not on a log axis, so not part of the chart at all.
                series("c", &[(0.0, 1.0), (f64::NAN, 2.0)]),
            ],
            false,
        );
        let expected = vec![(1.0, 0.5), (2.0, 0.7), (4.0, 0.8), (16.0, 0.9)];
        assert_eq!(chart.pareto_front(), expected);
        assert!(lines_chart().pareto_front().is_empty());
    }

    #[test]
    fn pareto_front_drops_duplicates_and_ties() {
        let front = pareto_front_of(&[(1.0, 1.0), (1.0, 1.0), (2.0, 1.0), (1.0, 0.5)], false);
        assert_eq!(front, vec![(1.0, 1.0)]);
        assert!(pareto_front_of(&[], false).is_empty());
        // Where larger x is better, the point at x 2 dominates the one at x 1 with equal y.
        let faster = pareto_front_of(&[(1.0, 1.0), (2.0, 1.0), (4.0, 0.5), (0.5, 2.0)], true);
        assert_eq!(faster, [(0.5, 2.0), (2.0, 1.0), (4.0, 0.5)]);
    }
}
