//! Grouped bar charts: one group per category, one bar per series.

use plotters::coord::Shift;
use plotters::prelude::{Color, DrawingArea, DrawingBackend, Rectangle};

use super::frame::Frame;
use super::legend::{draw_legend, legend_width, split_legend, Swatch};
use super::palette::series_color;
use super::{draw_error, Chart};

impl Chart {
    /// (series index, category index, value) for every bar that exists.
    pub(super) fn bar_values(&self, categories: usize) -> Vec<(usize, usize, f64)> {
        let mut bars = Vec::new();
        for (s, series) in self.series.iter().enumerate() {
            for &(x, y) in &series.points {
                let c = x.round();
                if y.is_finite() && c >= 0.0 && (c as usize) < categories && x == c {
                    bars.push((s, c as usize, y));
                }
            }
        }
        bars
    }

    pub(super) fn render_bars<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        categories: &[String],
    ) -> Result<(), String> {
        let legend = self.series_legend(|_| Swatch::Block);
        let (plot_area, legend_area) = split_legend(body, legend_width(&legend, body));
        let bars = self.bar_values(categories.len());
        let mut frame = Frame::new(&plot_area, &self.x_label, &self.y_label);
        let y = frame.y_axis(bars.iter().map(|b| b.2), true);
        let x = frame.category_axis(categories);
        let mut chart = frame.build(&plot_area, &x, &y, false)?;

        let groups = self.series.len().max(1) as f64;
        let slot = 0.8 / groups;
        for &(s, c, value) in &bars {
            let left = c as f64 - 0.4 + slot * s as f64;
            // A small gap between neighbouring bars keeps same-coloured edges apart.
            let inset = slot * 0.06;
            let rect = Rectangle::new(
                [(left + inset, 0.0), (left + slot - inset, value)],
                series_color(s).filled(),
            );
            chart
                .draw_series(std::iter::once(rect))
                .map_err(draw_error)?;
        }
        frame.draw_category_labels(root, &chart, y.range.start)?;
        draw_legend(&legend_area, &legend)
    }
}

#[cfg(test)]
mod tests {
    use super::super::examples::{bars_chart, H, W};

    #[test]
    fn bars_svg_shows_categories() {
        let svg = bars_chart().to_svg(W, H).unwrap();
        for name in [
            "all-MiniLM-L6-v2",
            "bge-small-en-v1.5",
            "nomic-embed-text-v1.5",
        ] {
            assert!(svg.contains(&format!(">\n{name}\n<")), "no category {name}");
        }
        assert!(
            svg.contains("…"),
            "the overlong category should be shortened"
        );
    }
}
