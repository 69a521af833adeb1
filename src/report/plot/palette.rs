//! Every colour the charts use, fixed so that output does not depend on anything outside.

use plotters::prelude::WHITE;
use plotters::style::RGBColor;

pub(super) const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(super) const AXIS: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(super) const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
pub(super) const EMPTY_CELL_BORDER: RGBColor = RGBColor(0xCC, 0xCC, 0xCC);
pub(super) const FRONT: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// Tableau 10: distinguishable colours, also for the common forms of colour blindness.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// ColorBrewer "Blues": a sequential scale from light (low) to dark (high). Its first,
/// near-white stop is left out so the lowest value still stands apart from a blank cell.
const HEAT_STOPS: [RGBColor; 8] = [
    RGBColor(0xDE, 0xEB, 0xF7),
    RGBColor(0xC6, 0xDB, 0xEF),
    RGBColor(0x9E, 0xCA, 0xE1),
    RGBColor(0x6B, 0xAE, 0xD6),
    RGBColor(0x42, 0x92, 0xC6),
    RGBColor(0x21, 0x71, 0xB5),
    RGBColor(0x08, 0x51, 0x9C),
    RGBColor(0x08, 0x30, 0x6B),
];

pub(super) fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The colour for `value` on the lo..hi scale; a constant scale maps to its middle.
pub(super) fn heat_color(value: f64, (lo, hi): (f64, f64)) -> RGBColor {
    let t = if hi > lo {
        ((value - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    let scaled = t * (HEAT_STOPS.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(HEAT_STOPS.len() - 2);
    let f = scaled - i as f64;
    let (a, b) = (HEAT_STOPS[i], HEAT_STOPS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Dark text on light cells, white on dark ones (by perceived brightness).
pub(super) fn text_color_on(background: RGBColor) -> RGBColor {
    let luma =
        0.299 * background.0 as f64 + 0.587 * background.1 as f64 + 0.114 * background.2 as f64;
    if luma > 140.0 {
        TEXT
    } else {
        WHITE
    }
}
