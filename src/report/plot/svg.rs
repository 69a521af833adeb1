//! The SVG's embedded font: an `@font-face` carrying the font as base64.

use std::sync::OnceLock;

use super::font::{FONT_BYTES, FONT_FAMILY};

/// Puts an `@font-face` with the embedded font right after the opening `<svg>` tag, so every
/// viewer draws the text with the same font as the PNG.
pub(super) fn embed_font(svg: &str) -> Result<String, String> {
    let start = svg.find("<svg").ok_or("SVG output has no <svg> tag")?;
    let end = start
        + svg[start..]
            .find('>')
            .ok_or("SVG output has an unterminated <svg> tag")?
        + 1;
    let font = font_base64();
    let mut out = String::with_capacity(svg.len() + font.len() + 200);
    out.push_str(&svg[..end]);
    out.push_str("\n<defs><style>@font-face{font-family:\"");
    out.push_str(FONT_FAMILY);
    out.push_str("\";src:url(data:font/ttf;base64,");
    out.push_str(font);
    out.push_str(") format(\"truetype\");}</style></defs>");
    out.push_str(&svg[end..]);
    Ok(out)
}

fn font_base64() -> &'static str {
    static ENCODED: OnceLock<String> = OnceLock::new();
    ENCODED.get_or_init(|| base64(FONT_BYTES))
}

/// Standard base64 (RFC 4648) with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
