//! Charts for reports, written as PNG and SVG.
//!
//! Output is byte-identical on every run and machine: text is drawn with an embedded copy of
//! DejaVu Sans (no system font lookup), every colour comes from a fixed palette, tick positions
//! are computed here with plain IEEE arithmetic (no platform `log`/`pow`, whose last bits may
//! differ between C libraries), and the SVG carries the font as a data URL so that viewers use
//! the same glyphs as the PNG.

mod axis;
mod bars;
mod canvas;
mod color_bar;
#[cfg(test)]
mod examples;
mod font;
mod frame;
mod heatmap;
mod legend;
mod lines;
mod marker;
mod palette;
mod pareto;
mod png;
mod svg;
mod text;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend, WHITE};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use self::canvas::Canvas;
use self::font::ensure_font;
use self::frame::MARGIN;
use self::heatmap::HeatmapData;
use self::pareto::pareto_front_of;
use self::png::encode_png;
use self::svg::embed_font;
use self::text::{fit_text, text_height, text_style, TITLE_PX};

const MIN_WIDTH: u32 = 300;
const MIN_HEIGHT: u32 = 200;

/// One line / bar group / point set, with its legend label.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A finished chart that can be written as PNG or SVG.
#[derive(Debug, Clone)]
pub struct Chart {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Lines {
        x_log2: bool,
    },
    Heatmap(HeatmapData),
    Pareto {
        point_labels: bool,
        /// Larger x is better (a speed), rather than smaller (a cost).
        larger_x_better: bool,
    },
    Bars {
        categories: Vec<String>,
    },
}

impl Chart {
    /// Lines with markers, one per series (e.g. score vs dimension, one line per quantization level).
    /// x_log2: plot x on a log2 axis (dims 64..1024) with tick labels at the data x values.
    pub fn lines(
        title: &str,
        x_label: &str,
        y_label: &str,
        series: Vec<Series>,
        x_log2: bool,
    ) -> Chart {
        Chart::new(title, x_label, y_label, series, Kind::Lines { x_log2 })
    }

    /// A heatmap: rows × columns of optional values (None = blank cell), each cell labelled with
    /// its value formatted with `value_format` decimals, a colour scale from low (light) to high (dark),
    /// row and column labels, and a colour bar showing the scale's min and max.
    pub fn heatmap(
        title: &str,
        x_label: &str,
        y_label: &str,
        columns: Vec<String>,
        rows: Vec<String>,
        values: Vec<Vec<Option<f64>>>,
        value_format: usize,
    ) -> Chart {
        let data = HeatmapData {
            columns,
            rows,
            values,
            decimals: value_format,
        };
        Chart::new(title, x_label, y_label, Vec::new(), Kind::Heatmap(data))
    }

    /// Points labelled by name (e.g. score vs bytes per vector per setting), x on a log2 axis,
    /// with the Pareto front (max y for ≤ x: points not dominated by any point with smaller-or-equal x
    /// and larger-or-equal y) drawn as a line through its points and marked in the legend as "Pareto front".
    /// Each point carries a group (series) so colours/legend go by group; with `point_labels`
    /// every point is annotated with its series label. Points with x ≤ 0 cannot sit on a log
    /// axis and are ignored, also by `pareto_front`.
    pub fn pareto(
        title: &str,
        x_label: &str,
        y_label: &str,
        series: Vec<Series>,
        point_labels: bool,
    ) -> Chart {
        let kind = Kind::Pareto {
            point_labels,
            larger_x_better: false,
        };
        Chart::new(title, x_label, y_label, series, kind)
    }

    /// [`Chart::pareto`] for an x where larger is better (e.g. tokens per second): the front
    /// holds the points not dominated by one with larger-or-equal x and larger-or-equal y.
    pub fn pareto_larger_x(
        title: &str,
        x_label: &str,
        y_label: &str,
        series: Vec<Series>,
    ) -> Chart {
        let kind = Kind::Pareto {
            point_labels: false,
            larger_x_better: true,
        };
        Chart::new(title, x_label, y_label, series, kind)
    }

    /// Grouped vertical bars: one group per category (x), one bar per series within each group;
    /// series.points[i] = (i as f64, value) for category i; a missing value = no bar.
    pub fn bars(
        title: &str,
        x_label: &str,
        y_label: &str,
        categories: Vec<String>,
        series: Vec<Series>,
    ) -> Chart {
        Chart::new(title, x_label, y_label, series, Kind::Bars { categories })
    }

    fn new(title: &str, x_label: &str, y_label: &str, series: Vec<Series>, kind: Kind) -> Chart {
        Chart {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            series,
            kind,
        }
    }

    pub fn to_png(&self, width: u32, height: u32) -> Result<Vec<u8>, String> {
        self.check(width, height)?;
        let mut rgb = vec![0u8; width as usize * height as usize * 3];
        {
            let root = Canvas::new(&mut rgb, (width, height)).into_drawing_area();
            self.render(&root)?;
            root.present().map_err(draw_error)?;
        }
        encode_png(&rgb, width, height)
    }

    pub fn to_svg(&self, width: u32, height: u32) -> Result<String, String> {
        self.check(width, height)?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
            self.render(&root)?;
            root.present().map_err(draw_error)?;
        }
        embed_font(&svg)
    }

    /// Writes <stem>.png and <stem>.svg into `dir` (creating it), each written to a temporary file
    /// then renamed, so no half-written file is left on error.
    pub fn save(&self, dir: &Path, stem: &str, width: u32, height: u32) -> Result<(), String> {
        // Render both first so that a rendering error writes nothing at all.
        let png = self.to_png(width, height)?;
        let svg = self.to_svg(width, height)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let write = |name: String, bytes: &[u8]| {
            crate::output::write_atomically(&dir.join(name), |w| w.write_all(bytes))
                .map_err(|e| e.to_string())
        };
        write(format!("{stem}.png"), &png)?;
        write(format!("{stem}.svg"), svg.as_bytes())
    }

    /// The pareto front of this chart's points in x order, for tests (empty for other kinds).
    pub fn pareto_front(&self) -> Vec<(f64, f64)> {
        match self.kind {
            Kind::Pareto {
                larger_x_better, ..
            } => pareto_front_of(&self.plottable_points(), larger_x_better),
            _ => Vec::new(),
        }
    }

    /// Rejects what cannot be drawn before any backend is set up.
    fn check(&self, width: u32, height: u32) -> Result<(), String> {
        if width < MIN_WIDTH || height < MIN_HEIGHT {
            return Err(format!(
                "chart \"{}\": {width}×{height} px is too small, need at least {MIN_WIDTH}×{MIN_HEIGHT}",
                self.title
            ));
        }
        let has_data = match &self.kind {
            Kind::Heatmap(data) => {
                data.check_shape()?;
                data.range().is_some()
            }
            Kind::Bars { categories } => {
                !categories.is_empty() && !self.bar_values(categories.len()).is_empty()
            }
            _ => !self.plottable_points().is_empty(),
        };
        if has_data {
            Ok(())
        } else {
            Err(format!("chart \"{}\" has no data to plot", self.title))
        }
    }

    fn x_is_log2(&self) -> bool {
        matches!(
            self.kind,
            Kind::Pareto { .. } | Kind::Lines { x_log2: true }
        )
    }

    /// Points that can be placed on this chart's axes: finite, and x > 0 on a log axis.
    fn plottable_points(&self) -> Vec<(f64, f64)> {
        let log = self.x_is_log2();
        self.series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|&p| plottable(p, log))
            .collect()
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        ensure_font()?;
        root.fill(&WHITE).map_err(draw_error)?;
        let body = draw_title(root, &self.title)?;
        match &self.kind {
            Kind::Lines { x_log2 } => self.render_lines(&body, *x_log2),
            Kind::Pareto {
                point_labels,
                larger_x_better,
            } => self.render_pareto(root, &body, *point_labels, *larger_x_better),
            Kind::Bars { categories } => self.render_bars(root, &body, categories),
            Kind::Heatmap(data) => self.render_heatmap(root, &body, data),
        }
    }
}

fn plottable((x, y): (f64, f64), log_x: bool) -> bool {
    x.is_finite() && y.is_finite() && (!log_x || x > 0.0)
}

fn xs(points: &[(f64, f64)]) -> Vec<f64> {
    points.iter().map(|p| p.0).collect()
}

/// Draws the centred title and returns the area below it.
fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (width, _) = root.dim_in_pixel();
    let text = fit_text(title, TITLE_PX, width.saturating_sub(2 * MARGIN));
    let style = text_style(TITLE_PX).pos(Pos::new(HPos::Center, VPos::Top));
    root.draw_text(&text, &style, (width as i32 / 2, MARGIN as i32))
        .map_err(draw_error)?;
    let below = MARGIN + text_height(TITLE_PX) + 6;
    Ok(root.margin(below, 0, 0, 0))
}

fn draw_error<E: std::fmt::Display>(e: E) -> String {
    format!("drawing the chart failed: {e}")
}

#[cfg(test)]
mod tests {
    use super::examples::{
        all_charts, bars_chart, lines_chart, series, strings, H, PNG_SIGNATURE, W,
    };
    use super::*;

    #[test]
    fn every_kind_renders_identically_twice() {
        for (name, chart) in all_charts() {
            let png = chart.to_png(W, H).unwrap();
            assert_eq!(png[..8], PNG_SIGNATURE, "{name}");
            assert_eq!(
                png,
                chart.to_png(W, H).unwrap(),
                "{name} PNG differs between runs"
            );
            let svg = chart.to_svg(W, H).unwrap();
            assert_eq!(
                svg,
                chart.to_svg(W, H).unwrap(),
                "{name} SVG differs between runs"
            );
        }
    }

    #[test]
    fn svg_holds_texts_and_font() {
        for (name, chart) in all_charts() {
            let svg = chart.to_svg(W, H).unwrap();
            let mut expected = vec![chart.title.clone(), chart.y_label.clone()];
            if !chart.x_label.is_empty() {
                expected.push(chart.x_label.clone());
            }
            expected.extend(chart.series.iter().map(|s| s.label.clone()));
            for text in expected {
                assert!(
                    svg.contains(&format!(">\n{text}\n<")),
                    "{name}: no text {text:?}"
                );
            }
            assert!(
                svg.contains("@font-face{font-family:\"DejaVu Sans\""),
                "{name}"
            );
            assert!(
                svg.contains("src:url(data:font/ttf;base64,AAEAAA"),
                "{name}"
            );
            // Every text element must name the embedded family, nothing else.
            let families: Vec<&str> = svg.split("font-family=\"").skip(1).collect();
            assert!(!families.is_empty(), "{name}");
            assert!(
                families.iter().all(|f| f.starts_with("DejaVu Sans\"")),
                "{name}"
            );
            let defs = svg.find("<defs>").unwrap();
            assert!(
                defs < svg.find("<text").unwrap(),
                "{name}: font must precede the text"
            );
        }
    }

    #[test]
    fn no_data_is_an_error() {
        let empty = [
            Chart::lines("empty", "x", "y", vec![], false),
            Chart::lines("empty", "x", "y", vec![series("s", &[])], true),
            Chart::pareto("empty", "x", "y", vec![series("s", &[(0.0, 1.0)])], true),
            Chart::bars(
                "empty",
                "x",
                "y",
                strings(&["a"]),
                vec![series("s", &[(5.0, 1.0)])],
            ),
            Chart::bars("empty", "x", "y", vec![], vec![series("s", &[(0.0, 1.0)])]),
            Chart::heatmap(
                "empty",
                "x",
                "y",
                strings(&["a"]),
                strings(&["r"]),
                vec![vec![None]],
                1,
            ),
        ];
        for chart in empty {
            let err = chart.to_png(W, H).unwrap_err();
            assert!(err.contains("no data"), "{err}");
            assert!(chart.to_svg(W, H).is_err());
        }
    }

    #[test]
    fn single_points_and_empty_series_render() {
        let one = vec![series("one", &[(100.0, 0.5)]), series("none", &[])];
        let charts = [
            Chart::lines("one", "x", "y", one.clone(), true),
            Chart::lines("one", "x", "y", one.clone(), false),
            Chart::pareto("one", "x", "y", one.clone(), true),
            Chart::bars(
                "one",
                "x",
                "y",
                strings(&["a"]),
                vec![series("s", &[(0.0, 0.0)])],
            ),
            Chart::heatmap(
                "one",
                "x",
                "y",
                strings(&["a"]),
                strings(&["r"]),
                vec![vec![Some(3.0)]],
                0,
            ),
        ];
        for chart in charts {
            chart.to_png(W, H).unwrap();
            let svg = chart.to_svg(W, H).unwrap();
            assert!(svg.contains(">\none\n<"));
        }
    }

    #[test]
    fn too_small_is_an_error() {
        assert!(lines_chart()
            .to_png(10, 10)
            .unwrap_err()
            .contains("too small"));
    }

    #[test]
    fn save_writes_both_files_and_no_temporaries() {
        let dir = std::env::temp_dir().join(format!("plot-save-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        bars_chart()
            .save(&dir.join("nested"), "bars", W, H)
            .unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["bars.png", "bars.svg"]);
        let failing = Chart::lines("empty", "x", "y", vec![], false);
        assert!(failing.save(&dir.join("never"), "x", W, H).is_err());
        assert!(!dir.join("never").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
