//! Axes as plotters coordinates: value ranges, tick positions and labels, and the exact log2
//! that places values on a log axis.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::Ranged;

use super::text::{text_width, TICK_PX};

/// One axis: its value range and the ticks (position, label) to draw. It is its own plotters
/// coordinate so that the grid and tick marks sit exactly at these ticks.
#[derive(Clone)]
pub(super) struct Axis {
    pub(super) range: Range<f64>,
    pub(super) ticks: Vec<(f64, String)>,
}

impl Axis {
    pub(super) fn label_at(&self, value: f64) -> String {
        let tolerance = (self.range.end - self.range.start).abs() * 1e-9;
        self.ticks
            .iter()
            .find(|t| (t.0 - value).abs() <= tolerance)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.range.clone()).map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.iter().map(|t| t.0).collect()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

pub(super) enum TickPlacement {
    /// A tick at every distinct data x (as many as fit).
    AtData,
    /// Ticks at powers of two, falling back to the data values when the range holds fewer than two.
    PowersOfTwo,
}

/// A linear axis over `values` with a 5% margin; with `from_zero` it includes zero and, when
/// all values are on one side, ends at zero so bars grow from the axis.
pub(super) fn linear_axis(
    values: impl Iterator<Item = f64>,
    from_zero: bool,
    max_ticks: usize,
) -> Axis {
    let (mut lo, mut hi) = min_max(values).unwrap_or((0.0, 1.0));
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= pad;
        hi += pad;
    }
    let margin = (hi - lo) * 0.05;
    let lo = if from_zero && lo == 0.0 {
        0.0
    } else {
        lo - margin
    };
    let hi = if from_zero && hi == 0.0 {
        0.0
    } else {
        hi + margin
    };
    Axis {
        range: lo..hi,
        ticks: nice_ticks(lo, hi, max_ticks),
    }
}

/// A log2 axis over positive `values`, labelled with the values themselves, with ticks thinned
/// to fit a plot `plot_width` pixels wide.
pub(super) fn log2_axis(values: &[f64], placement: TickPlacement, plot_width: u32) -> Axis {
    let positions: Vec<f64> = values.iter().map(|&v| log2(v)).collect();
    let (lo, hi) = min_max(positions.iter().copied()).unwrap_or((0.0, 1.0));
    let pad = if hi > lo { (hi - lo) * 0.06 } else { 0.5 };
    let range = (lo - pad)..(hi + pad);
    let mut candidates = match placement {
        TickPlacement::PowersOfTwo => powers_of_two_in(&range),
        TickPlacement::AtData => Vec::new(),
    };
    if candidates.len() < 2 {
        candidates = distinct_sorted(values)
            .into_iter()
            .map(|v| (log2(v), fmt_number(v)))
            .collect();
    }
    let ticks = thin_ticks(candidates, &range, plot_width);
    Axis { range, ticks }
}

/// "Nice" ticks (1, 2 or 5 × 10^k apart) inside lo..hi, at most about `max_ticks` of them.
fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<(f64, String)> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![(lo, fmt_number(lo))];
    }
    let (step, decimals) = nice_step(span / max_ticks as f64);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| {
            // k * step rather than repeated addition, so errors do not accumulate.
            let v = k as f64 * step;
            (v, fmt_fixed(v, decimals))
        })
        .collect()
}

/// The smallest 1, 2 or 5 × 10^k that is ≥ `raw`, and the decimals needed to print its multiples.
fn nice_step(raw: f64) -> (f64, usize) {
    let mut magnitude = 1.0;
    let mut decimals: i32 = 0;
    while magnitude > raw && decimals < 300 {
        magnitude /= 10.0;
        decimals += 1;
    }
    while magnitude * 10.0 <= raw && decimals > -300 {
        magnitude *= 10.0;
        decimals -= 1;
    }
    for factor in [1.0, 2.0, 5.0] {
        if factor * magnitude >= raw {
            return (factor * magnitude, decimals.max(0) as usize);
        }
    }
    (magnitude * 10.0, (decimals - 1).max(0) as usize)
}

/// Integer log2 positions 2^k inside `range`, labelled with 2^k.
fn powers_of_two_in(range: &Range<f64>) -> Vec<(f64, String)> {
    let first = range.start.ceil() as i32;
    let last = range.end.floor() as i32;
    (first..=last)
        .map(|k| (k as f64, fmt_number(2f64.powi(k))))
        .collect()
}

/// Drops ticks (keeping the first) until neighbouring labels no longer overlap on a plot
/// `plot_width` pixels wide.
pub(super) fn thin_ticks(
    ticks: Vec<(f64, String)>,
    range: &Range<f64>,
    plot_width: u32,
) -> Vec<(f64, String)> {
    let scale = plot_width as f64 / (range.end - range.start);
    let mut kept: Vec<(f64, String)> = Vec::new();
    let mut last_right = f64::NEG_INFINITY;
    for (pos, label) in ticks {
        let centre = (pos - range.start) * scale;
        let half = text_width(&label, TICK_PX) as f64 / 2.0;
        if centre - half >= last_right + 12.0 {
            last_right = centre + half;
            kept.push((pos, label));
        }
    }
    kept
}

fn distinct_sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    sorted
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// log2 from the float's exponent plus a series for the mantissa, using only IEEE-exact
/// operations so that every machine gets the same bits; powers of two come out exact.
pub(super) fn log2(x: f64) -> f64 {
    let (mut bits, mut offset) = (x.to_bits(), 0i64);
    if (bits >> 52) & 0x7ff == 0 {
        // Subnormal: scale into the normal range first.
        bits = (x * 2f64.powi(54)).to_bits();
        offset = -54;
    }
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023 + offset;
    let mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
    // ln(m) = 2·atanh(z) with z = (m-1)/(m+1) ≤ 1/3, so the series converges quickly.
    let z = (mantissa - 1.0) / (mantissa + 1.0);
    let z2 = z * z;
    let (mut term, mut sum) = (z, 0.0);
    for k in 0..40 {
        sum += term / (2 * k + 1) as f64;
        term *= z2;
    }
    exponent as f64 + 2.0 * sum / std::f64::consts::LN_2
}

/// Integers without decimals, other values with three significant digits.
fn fmt_number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let mut decimals = 2usize;
    let mut magnitude = v.abs();
    while magnitude < 1.0 && magnitude > 0.0 && decimals < 12 {
        magnitude *= 10.0;
        decimals += 1;
    }
    let text = fmt_fixed(v, decimals);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

pub(super) fn fmt_fixed(v: f64, decimals: usize) -> String {
    // Avoids printing "-0.00".
    let v = if v == 0.0 { 0.0 } else { v };
    let text = format!("{v:.decimals$}");
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
        text[1..].to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_is_exact_on_powers_of_two_and_close_elsewhere() {
        for k in -1074i64..=1023 {
            let bits = if k >= -1022 {
                ((k + 1023) as u64) << 52
            } else {
                1u64 << (k + 1074)
            };
            assert_eq!(log2(f64::from_bits(bits)), k as f64);
        }
        for x in [3.0, 0.1, 1e-300, 768.0, 1.999999, 12345.678] {
            assert!((log2(x) - x.log2()).abs() < 1e-12, "{x}");
        }
    }

    #[test]
    fn ticks_are_nice() {
        let labels: Vec<String> = nice_ticks(0.27, 0.93, 8).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]);
        let labels: Vec<String> = nice_ticks(-0.2, 2.2, 5).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0.0", "0.5", "1.0", "1.5", "2.0"]);
        assert_eq!(fmt_number(1024.0), "1024");
        assert_eq!(fmt_number(0.5), "0.5");
        assert_eq!(fmt_number(0.0123456), "0.0123");
    }
}
