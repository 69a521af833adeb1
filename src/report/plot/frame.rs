//! The frame around a plot: room for tick labels and axis titles, the axes sized to the plot
//! that remains, the mesh, and category labels under the x axis.

use plotters::coord::Shift;
use plotters::prelude::{
    Cartesian2d, ChartBuilder, ChartContext, DrawingArea, DrawingBackend, TRANSPARENT,
};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::axis::{linear_axis, log2_axis, thin_ticks, Axis, TickPlacement};
use super::draw_error;
use super::palette::{AXIS, GRID};
use super::text::{fit_text, text_height, text_style, widest, AXIS_TITLE_PX, TICK_PX};

pub(super) const MARGIN: u32 = 12;
const TICK_SIZE: u32 = 5;

pub(super) type Plane = Cartesian2d<Axis, Axis>;

/// Sizes the area around the plot from the text that will go there, and the axes to fit the
/// plot that remains.
pub(super) struct Frame {
    x_title: String,
    y_title: String,
    width: u32,
    height: u32,
    /// Width of the y tick labels, or of the row labels of a heatmap.
    y_ticks_width: u32,
    /// Height of the x tick labels; for vertical category labels their length.
    x_ticks_height: u32,
    categories: Vec<String>,
    vertical_categories: bool,
}

impl Frame {
    pub(super) fn new<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        x_title: &str,
        y_title: &str,
    ) -> Frame {
        let (width, height) = area.dim_in_pixel();
        Frame {
            x_title: x_title.to_string(),
            y_title: y_title.to_string(),
            width,
            height,
            y_ticks_width: 0,
            x_ticks_height: text_height(TICK_PX),
            categories: Vec::new(),
            vertical_categories: false,
        }
    }

    fn x_area_height(&self) -> u32 {
        let title = if self.x_title.is_empty() {
            0
        } else {
            text_height(AXIS_TITLE_PX) + 8
        };
        TICK_SIZE * 2 + self.x_ticks_height + title + 6
    }

    fn y_area_width(&self) -> u32 {
        let title = if self.y_title.is_empty() {
            0
        } else {
            text_height(AXIS_TITLE_PX) + 10
        };
        TICK_SIZE * 2 + self.y_ticks_width + title + 4
    }

    /// Estimates, used to choose ticks before the chart exists.
    fn plot_width(&self) -> u32 {
        self.width
            .saturating_sub(self.y_area_width() + 2 * MARGIN)
            .max(50)
    }

    fn plot_height(&self) -> u32 {
        let x_area = TICK_SIZE * 2 + 3 * text_height(TICK_PX) + 20;
        self.height.saturating_sub(x_area + 2 * MARGIN).max(50)
    }

    /// The y axis: linear over `values` with a small margin (or from zero, for bars).
    pub(super) fn y_axis(&mut self, values: impl Iterator<Item = f64>, from_zero: bool) -> Axis {
        let max_ticks = (self.plot_height() / 45).clamp(3, 10) as usize;
        let axis = linear_axis(values, from_zero, max_ticks);
        self.y_ticks_width = widest(axis.ticks.iter().map(|t| t.1.as_str()), TICK_PX);
        axis
    }

    /// A linear x axis; call after the y axis, whose labels take width from the plot.
    pub(super) fn x_axis(&mut self, values: impl Iterator<Item = f64>) -> Axis {
        let max_ticks = (self.plot_width() / 80).clamp(3, 10) as usize;
        let mut axis = linear_axis(values, false, max_ticks);
        axis.ticks = thin_ticks(axis.ticks, &axis.range, self.plot_width());
        axis
    }

    /// A log2 axis over positive `values`, labelled with the values themselves.
    pub(super) fn log2_axis(&self, values: &[f64], placement: TickPlacement) -> Axis {
        log2_axis(values, placement, self.plot_width())
    }

    /// Categories at 0, 1, …; their labels are drawn by `draw_category_labels`, which can turn
    /// them vertical, so the axis itself carries empty labels.
    pub(super) fn category_axis(&mut self, names: &[String]) -> Axis {
        let slot = self.plot_width() / names.len().max(1) as u32;
        let room = slot.saturating_sub(10);
        let horizontal: Vec<String> = names.iter().map(|n| fit_text(n, TICK_PX, room)).collect();
        // Horizontal labels are easier to read; they are kept as long as shortening leaves enough
        // of every name to recognise it.
        let recognisable = names
            .iter()
            .zip(&horizontal)
            .all(|(full, short)| short == full || short.chars().count() > 12);
        self.vertical_categories = !recognisable;
        self.categories = if recognisable {
            horizontal
        } else {
            let longest = (self.height as f64 * 0.3).min(220.0) as u32;
            names
                .iter()
                .map(|n| fit_text(n, TICK_PX, longest))
                .collect()
        };
        if self.vertical_categories {
            self.x_ticks_height = widest(self.categories.iter().map(String::as_str), TICK_PX);
        }
        Axis {
            range: -0.5..(names.len() as f64 - 0.5),
            ticks: (0..names.len())
                .map(|i| (i as f64, String::new()))
                .collect(),
        }
    }

    /// Heatmap rows, first row at the top.
    pub(super) fn row_axis(&mut self, names: &[String]) -> Axis {
        let longest = (self.width as f64 * 0.3) as u32;
        let n = names.len();
        let ticks: Vec<(f64, String)> = names
            .iter()
            .enumerate()
            .map(|(r, name)| ((n - r) as f64 - 1.0, fit_text(name, TICK_PX, longest)))
            .collect();
        self.y_ticks_width = widest(ticks.iter().map(|t| t.1.as_str()), TICK_PX);
        Axis {
            range: -0.5..(n as f64 - 0.5),
            ticks,
        }
    }

    pub(super) fn build<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        x: &Axis,
        y: &Axis,
        grid: bool,
    ) -> Result<ChartContext<'a, DB, Plane>, String> {
        let mut chart = ChartBuilder::on(area)
            .margin(MARGIN)
            .x_label_area_size(self.x_area_height())
            .y_label_area_size(self.y_area_width())
            .build_cartesian_2d(x.clone(), y.clone())
            .map_err(draw_error)?;
        let x_format = |v: &f64| x.label_at(*v);
        let y_format = |v: &f64| y.label_at(*v);
        let mut mesh = chart.configure_mesh();
        mesh.x_label_formatter(&x_format)
            .y_label_formatter(&y_format)
            .label_style(text_style(TICK_PX))
            .axis_desc_style(text_style(AXIS_TITLE_PX))
            .axis_style(AXIS)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .set_all_tick_mark_size(TICK_SIZE);
        if !self.x_title.is_empty() {
            mesh.x_desc(fit_text(&self.x_title, AXIS_TITLE_PX, self.plot_width()));
        }
        if !self.y_title.is_empty() {
            mesh.y_desc(fit_text(&self.y_title, AXIS_TITLE_PX, self.plot_height()));
        }
        if grid {
            // Vertical lines at uneven log ticks add clutter without helping to read values.
            mesh.disable_x_mesh();
        } else {
            mesh.disable_mesh();
        }
        mesh.draw().map_err(draw_error)?;
        Ok(chart)
    }

    /// Category names under the x axis: centred when they fit their slot, otherwise vertical
    /// (reading upwards), truncated with "…", and only every k-th one if even that is too tight.
    pub(super) fn draw_category_labels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &ChartContext<DB, Plane>,
        y_bottom: f64,
    ) -> Result<(), String> {
        let base = text_style(TICK_PX);
        let style = if self.vertical_categories {
            base.pos(Pos::new(HPos::Right, VPos::Center))
                .transform(FontTransform::Rotate270)
        } else {
            base.pos(Pos::new(HPos::Center, VPos::Top))
        };
        let stride = self.category_stride(chart);
        for (i, name) in self.categories.iter().enumerate().step_by(stride) {
            let (px, py) = chart.backend_coord(&(i as f64, y_bottom));
            let at = (px, py + 2 * TICK_SIZE as i32);
            root.draw_text(name, &style, at).map_err(draw_error)?;
        }
        Ok(())
    }

    fn category_stride<DB: DrawingBackend>(&self, chart: &ChartContext<DB, Plane>) -> usize {
        if !self.vertical_categories || self.categories.len() < 2 {
            return 1;
        }
        let slot = (chart.backend_coord(&(1.0, 0.0)).0 - chart.backend_coord(&(0.0, 0.0)).0).max(1);
        let needed = text_height(TICK_PX) as i32 + 4;
        ((needed + slot - 1) / slot).max(1) as usize
    }
}
