//! The example charts that the tests render, and an ignored test that writes them out to
//! look at.

use super::axis::log2;
use super::{Chart, Series};

pub(super) const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
pub(super) const W: u32 = 1000;
pub(super) const H: u32 = 650;

pub(super) fn series(label: &str, points: &[(f64, f64)]) -> Series {
    Series {
        label: label.to_string(),
        points: points.to_vec(),
    }
}

pub(super) fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

pub(super) fn lines_chart() -> Chart {
    let dims = [64.0, 128.0, 256.0, 512.0, 768.0, 1024.0];
    let levels = [("float32", 0.0), ("int8", 0.004), ("binary", 0.06)];
    let all = levels
        .iter()
        .map(|&(name, loss)| {
            let points: Vec<(f64, f64)> = dims
                .iter()
                .map(|&d| (d, 0.52 + 0.03 * log2(d) - loss * (11.0 - log2(d))))
                .collect();
            series(name, &points)
        })
        .collect();
    Chart::lines(
        "Retrieval quality by dimension",
        "dimension",
        "nDCG@10",
        all,
        true,
    )
}

pub(super) fn pareto_chart() -> Chart {
    let all = vec![
        series("float32", &[(256.0, 0.70), (1024.0, 0.74), (4096.0, 0.76)]),
        series("int8", &[(64.0, 0.69), (256.0, 0.735), (1024.0, 0.755)]),
        series("binary", &[(8.0, 0.58), (32.0, 0.66), (128.0, 0.70)]),
    ];
    Chart::pareto(
        "Quality vs storage",
        "bytes per vector",
        "nDCG@10",
        all,
        true,
    )
}

pub(super) fn bars_chart() -> Chart {
    let categories = strings(&[
        "all-MiniLM-L6-v2",
        "bge-small-en-v1.5",
        "nomic-embed-text-v1.5",
        "a very long model name that cannot possibly fit under its bar group",
    ]);
    let all = vec![
        series(
            "float32",
            &[(0.0, 0.61), (1.0, 0.66), (2.0, 0.70), (3.0, 0.64)],
        ),
        series("int8", &[(0.0, 0.60), (1.0, 0.655), (3.0, 0.63)]),
        series(
            "binary",
            &[(0.0, 0.52), (1.0, 0.58), (2.0, 0.63), (3.0, 0.55)],
        ),
    ];
    Chart::bars("Score by model", "task", "nDCG@10", categories, all)
}

pub(super) fn heatmap_chart() -> Chart {
    let columns = strings(&["64", "128", "256", "512", "1024"]);
    let rows = strings(&["float32", "float16", "int8", "binary"]);
    let values = vec![
        vec![
            Some(0.651),
            Some(0.688),
            Some(0.712),
            Some(0.725),
            Some(0.731),
        ],
        vec![
            Some(0.650),
            Some(0.688),
            Some(0.711),
            Some(0.725),
            Some(0.730),
        ],
        vec![Some(0.640), Some(0.680), None, Some(0.720), Some(0.727)],
        vec![
            Some(0.412),
            Some(0.530),
            Some(0.610),
            Some(0.662),
            Some(0.690),
        ],
    ];
    Chart::heatmap(
        "nDCG@10 by dimension and precision",
        "dimension",
        "precision",
        columns,
        rows,
        values,
        3,
    )
}

pub(super) fn all_charts() -> Vec<(&'static str, Chart)> {
    vec![
        ("lines", lines_chart()),
        ("pareto", pareto_chart()),
        ("bars", bars_chart()),
        ("heatmap", heatmap_chart()),
    ]
}

/// Crowded and degenerate inputs, to look at.
fn stress_charts() -> Vec<(&'static str, Chart)> {
    vec![
        (
            "stress-bars",
            Chart::bars(
                "Eighteen categories",
                "category",
                "score",
                many_categories(),
                many_bar_series(),
            ),
        ),
        (
            "stress-lines",
            Chart::lines(
                "Fourteen series, negative values",
                "offset (ms)",
                "delta",
                many_line_series(),
                false,
            ),
        ),
        ("stress-heatmap", dense_heatmap()),
        (
            "stress-wide-x",
            Chart::lines(
                "Large linear x values",
                "corpus size (documents)",
                "queries per second",
                vec![series(
                    "hnsw",
                    &[(1000.0, 12000.5), (250000.0, 8000.0), (1234567.0, 2500.0)],
                )],
                false,
            ),
        ),
        (
            "stress-single",
            Chart::pareto(
                "One point",
                "bytes per vector",
                "score",
                vec![series("only", &[(96.0, 0.5)])],
                true,
            ),
        ),
    ]
}

fn many_categories() -> Vec<String> {
    (0..18).map(|i| format!("model-number-{i}-large")).collect()
}

fn many_bar_series() -> Vec<Series> {
    (0..3)
        .map(|s| {
            let points: Vec<(f64, f64)> = (0..18)
                .map(|i| (i as f64, 0.3 + 0.02 * ((i * 7 + s * 3) % 11) as f64))
                .collect();
            series(&format!("setting {s}"), &points)
        })
        .collect()
}

fn many_line_series() -> Vec<Series> {
    (0..14)
        .map(|s| {
            let points: Vec<(f64, f64)> = (0..6)
                .map(|i| {
                    (
                        i as f64 * 10.0 - 20.0,
                        (s as f64 - 7.0) * 0.1 + i as f64 * 0.05,
                    )
                })
                .collect();
            series(&format!("a fairly long series label number {s}"), &points)
        })
        .collect()
}

/// 12 × 14 cells with a diagonal pattern of blanks.
fn dense_heatmap() -> Chart {
    Chart::heatmap(
        "Dense heatmap",
        "dimension",
        "row",
        (0..14).map(|i| format!("{}", 32 * (i + 1))).collect(),
        (0..12).map(|i| format!("row label {i}")).collect(),
        dense_heatmap_values(),
        2,
    )
}

fn dense_heatmap_values() -> Vec<Vec<Option<f64>>> {
    (0..12)
        .map(|r| {
            (0..14)
                .map(|c| {
                    if (r + c) % 9 == 0 {
                        None
                    } else {
                        Some((r * 14 + c) as f64 * 0.731)
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes one chart of each kind, and some crowded ones, to the temporary directory for
    /// looking at.
    #[test]
    #[ignore]
    fn save_examples() {
        let dir = std::env::temp_dir().join("leafbench-plot-examples");
        for (name, chart) in all_charts().into_iter().chain(stress_charts()) {
            chart.save(&dir, name, W, H).unwrap();
        }
    }
}
