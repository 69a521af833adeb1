//! A matrix of embeddings (one row per text) and its file formats: NumPy `.npy` (float32,
//! C order) and JSON Lines (one array per line).

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    pub rows: usize,
    pub dim: usize,
    pub data: Vec<f32>,
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

impl Embeddings {
    pub fn zeros(rows: usize, dim: usize) -> Self {
        Self {
            rows,
            dim,
            data: vec![0.0; rows * dim],
        }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The first row holding NaN or infinity.
    pub fn first_non_finite_row(&self) -> Option<usize> {
        let at = self.data.iter().position(|v| !v.is_finite())?;
        Some(at / self.dim)
    }

    /// Fails on the first row of `texts`' embeddings that holds NaN or infinity, naming the
    /// model and the text: such a vector has no similarity, and every score built on it would
    /// be undefined.
    pub fn check_finite(&self, texts: &[String], model: &str) -> Result<()> {
        self.check_finite_as(texts, |row| row, model)
    }

    /// [`Self::check_finite`] for rows that embed `texts[text_of(row)]`.
    pub fn check_finite_as(
        &self,
        texts: &[String],
        text_of: impl Fn(usize) -> usize,
        model: &str,
    ) -> Result<()> {
        match self.first_non_finite_row().map(text_of) {
            None => Ok(()),
            Some(row) => Err(Error::NonFinite {
                model: model.to_string(),
                row,
                text: snippet(texts.get(row).map_or("", String::as_str)),
            }),
        }
    }

    /// One JSON array per row.
    pub fn write_jsonl(&self, w: &mut dyn Write) -> std::io::Result<()> {
        for i in 0..self.rows {
            serde_json::to_writer(&mut *w, self.row(i))?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn to_npy(&self) -> Vec<u8> {
        let mut out = npy_header(self.rows, self.dim);
        out.reserve(self.data.len() * 4);
        for v in &self.data {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// The rows as `.npy` data (float32, little endian), to follow [`npy_header`].
    pub fn write_npy_rows(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let bytes: Vec<u8> = self.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        w.write_all(&bytes)
    }

    /// Reads a 2-D little-endian float32 or float64 `.npy` in C order.
    pub fn load_npy(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        parse_npy(&bytes).map_err(|what| Error::invalid(path, what))
    }
}

/// The `.npy` header of a rows × dim float32 array in C order, padded with spaces and ended by
/// a newline so the data starts 64-byte aligned.
pub fn npy_header(rows: usize, dim: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    let unpadded = NPY_MAGIC.len() + 2 + 2 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(pad));
    let mut out = Vec::with_capacity(unpadded + pad);
    out.extend_from_slice(NPY_MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// A text short enough for an error message.
fn snippet(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn parse_npy(bytes: &[u8]) -> std::result::Result<Embeddings, String> {
    if bytes.len() < 10 || &bytes[..6] != NPY_MAGIC {
        return Err("not a .npy file (bad magic)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("truncated .npy header")?;
    if header.contains("'fortran_order': True") {
        return Err("Fortran-ordered arrays are not supported; save with C order".into());
    }
    let width = if header.contains("'<f4'") {
        4
    } else if header.contains("'<f8'") {
        8
    } else {
        return Err(format!(
            "expected a float32 or float64 array, header is {}",
            header.trim()
        ));
    };
    let (rows, dim) = parse_shape(header)?;
    let data = &bytes[start + header_len..];
    if data.len() != rows * dim * width {
        return Err(format!(
            "expected {} data bytes for shape ({rows}, {dim}), found {}",
            rows * dim * width,
            data.len()
        ));
    }
    let values = if width == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect()
    };
    Ok(Embeddings {
        rows,
        dim,
        data: values,
    })
}

fn parse_shape(header: &str) -> std::result::Result<(usize, usize), String> {
    let after = header
        .split("'shape':")
        .nth(1)
        .ok_or("no shape in .npy header")?;
    let inside = after
        .trim_start()
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("malformed shape")?;
    let dims: Vec<usize> = inside
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("malformed shape ({inside})"))
        })
        .collect::<std::result::Result<_, _>>()?;
    match dims.as_slice() {
        [r, d] => Ok((*r, *d)),
        _ => Err(format!("expected a 2-D array, found shape ({inside})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips_and_is_aligned() {
        let e = Embeddings {
            rows: 2,
            dim: 3,
            data: vec![1.0, -2.5, 3.0, 0.0, 1e-7, f32::MAX],
        };
        let bytes = e.to_npy();
        assert_eq!((bytes.len() - 24) % 64, 0);
        assert_eq!(parse_npy(&bytes).unwrap(), e);
    }

    #[test]
    fn npy_errors_say_what_is_wrong() {
        let e = Embeddings {
            rows: 2,
            dim: 2,
            data: vec![0.0; 4],
        };
        let bytes = e.to_npy();
        assert!(parse_npy(&bytes[..bytes.len() - 1])
            .unwrap_err()
            .contains("expected 16 data bytes"));
        assert!(parse_npy(b"hello world").unwrap_err().contains("magic"));
    }

    #[test]
    fn the_first_non_finite_row_is_named_with_its_text() {
        let mut e = Embeddings::zeros(3, 2);
        assert!(e.check_finite(&[], "m").is_ok());
        e.data[5] = f32::NEG_INFINITY;
        e.data[3] = f32::NAN;
        assert_eq!(e.first_non_finite_row(), Some(1));
        let texts: Vec<String> = ["a", "bb", "c"].map(String::from).to_vec();
        let err = e.check_finite(&texts, "org/m").unwrap_err().to_string();
        assert!(
            err.contains("org/m") && err.contains("text 2 (`bb`)"),
            "{err}"
        );
    }
}
