//! Turns full-size float32 embeddings into one grid cell's view: truncated to the cell's dims
//! (MRL: the first `dim` values, not renormalised, as sentence-transformers' `truncate_dim`),
//! then quantized with the configured semantics.

use super::quantize::{quantize, quantize_mteb, Calibration, Level, MtebLevel, Quantized};
use super::setting::{Semantics, Setting};
use super::view::View;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::similarity::Similarity;

pub struct Compressor {
    pub setting: Setting,
    pub semantics: Semantics,
    /// Full-size ranges (or a fixed range) for the scalar levels with sentence-transformers
    /// semantics; a cell uses the ranges of its first `dim` dimensions.
    pub calibration: Option<Calibration>,
    pub similarity: Similarity,
}

impl Compressor {
    /// The float32 full-size cell: embeddings as the model gives them.
    pub fn baseline(dim: usize, similarity: Similarity) -> Self {
        Self {
            setting: Setting::plain(dim),
            semantics: Semantics::SentenceTransformers,
            calibration: None,
            similarity,
        }
    }

    pub fn is_baseline(&self, native: usize) -> bool {
        self.setting == Setting::plain(native)
    }

    /// The first `dim` values of each row.
    pub fn truncate(&self, emb: &Embeddings) -> Embeddings {
        let dim = self.setting.dim.min(emb.dim);
        if dim == emb.dim {
            return emb.clone();
        }
        Embeddings {
            rows: emb.rows,
            dim,
            data: emb
                .data
                .chunks_exact(emb.dim.max(1))
                .flat_map(|r| &r[..dim])
                .copied()
                .collect(),
        }
    }

    /// The view similarity-based evaluators score.
    pub fn view(&self, emb: &Embeddings) -> Result<View> {
        let t = self.truncate(emb);
        match (self.semantics, self.setting.level) {
            (_, Level::Float32) => Ok(View::float(t, self.similarity)),
            (Semantics::SentenceTransformers, level) => {
                let codes = quantize(&t.data, t.rows, t.dim, level, &self.calibration(t.dim)?)
                    .map_err(|e| self.error(e))?;
                Ok(View::codes(codes, self.similarity))
            }
            (Semantics::Mteb, _) => Ok(View::float(self.mteb_values(&t)?, self.similarity)),
        }
    }

    /// The vectors feature-based evaluators (logistic regression, k-means) learn from: the
    /// dequantized codes (sentence-transformers), or MTEB's quantized values themselves.
    pub fn features(&self, emb: &Embeddings) -> Result<Embeddings> {
        let t = self.truncate(emb);
        match (self.semantics, self.setting.level) {
            (_, Level::Float32) => Ok(t),
            (Semantics::SentenceTransformers, level) => {
                let codes = quantize(&t.data, t.rows, t.dim, level, &self.calibration(t.dim)?)
                    .map_err(|e| self.error(e))?;
                Ok(Embeddings {
                    rows: t.rows,
                    dim: t.dim,
                    data: super::quantize::dequantize(&codes),
                })
            }
            (Semantics::Mteb, _) => self.mteb_values(&t),
        }
    }

    fn calibration(&self, dim: usize) -> Result<Calibration> {
        if !self.setting.level.is_scalar() {
            return Ok(Calibration::FromEmbeddings);
        }
        match &self.calibration {
            Some(Calibration::Ranges(r)) => Ok(Calibration::Ranges(r[..dim].to_vec())),
            Some(c) => Ok(c.clone()),
            None => Err(Error::Compression {
                setting: self.setting.name(),
                what: "no calibration ranges were computed for this level".into(),
            }),
        }
    }

    fn mteb_values(&self, t: &Embeddings) -> Result<Embeddings> {
        let level = match self.setting.level {
            Level::Float16 => MtebLevel::Float16,
            Level::BFloat16 => MtebLevel::BFloat16,
            Level::Int8 => MtebLevel::Int8,
            Level::UInt8 => MtebLevel::UInt8,
            Level::Int4 => MtebLevel::Int4,
            Level::Binary | Level::UBinary => MtebLevel::Binary,
            Level::Float32 => unreachable!("float32 is never quantized"),
        };
        let data =
            match quantize_mteb(&t.data, t.rows, t.dim, level, None).map_err(|e| self.error(e))? {
                Quantized::F32(v) => v,
                Quantized::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
                _ => unreachable!("MTEB's wrapper returns float values"),
            };
        Ok(Embeddings {
            rows: t.rows,
            dim: t.dim,
            data,
        })
    }

    fn error(&self, e: super::quantize::QuantizeError) -> Error {
        Error::Compression {
            setting: self.setting.name(),
            what: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::quantize::dequantize;

    fn emb() -> Embeddings {
        Embeddings {
            rows: 3,
            dim: 4,
            data: vec![
                0.5, -0.2, 0.1, 0.9, //
                -0.3, 0.6, -0.9, 0.2, //
                0.4, -0.1, 0.2, -0.8,
            ],
        }
    }

    fn cell(dim: usize, level: Level, semantics: Semantics) -> Compressor {
        Compressor {
            setting: Setting {
                dim,
                level,
                rescore: false,
                precision: crate::encoder::Precision::Float32,
            },
            semantics,
            calibration: Some(Calibration::Ranges(vec![
                (-1.0, 1.0),
                (-0.5, 0.5),
                (-1.0, 0.0),
                (0.0, 1.0),
            ])),
            similarity: Similarity::Cosine,
        }
    }

    #[test]
    fn cells_truncate_then_quantize_with_the_first_dims_ranges() {
        let c = cell(2, Level::Int8, Semantics::SentenceTransformers);
        let t = c.truncate(&emb());
        assert_eq!(t.data, vec![0.5, -0.2, -0.3, 0.6, 0.4, -0.1]);
        let expected = quantize(
            &t.data,
            3,
            2,
            Level::Int8,
            &Calibration::Ranges(vec![(-1.0, 1.0), (-0.5, 0.5)]),
        )
        .unwrap();
        assert_eq!(c.features(&emb()).unwrap().data, dequantize(&expected));
        let view = c.view(&emb()).unwrap();
        assert!(view.as_float().is_none(), "int8 is scored on codes");
        assert_eq!(view.values(1), vec![-39.0, 127.0]);
    }

    #[test]
    fn mteb_cells_hand_every_task_the_quantized_values() {
        let c = cell(4, Level::UInt8, Semantics::Mteb);
        let values = match quantize_mteb(&emb().data, 3, 4, MtebLevel::UInt8, None).unwrap() {
            Quantized::F32(v) => v,
            _ => unreachable!(),
        };
        assert_eq!(c.features(&emb()).unwrap().data, values);
        assert_eq!(c.view(&emb()).unwrap().as_float().unwrap().data, values);
    }

    #[test]
    fn the_baseline_is_the_embeddings_unchanged() {
        let c = Compressor::baseline(4, Similarity::Cosine);
        assert!(c.is_baseline(4));
        assert_eq!(c.features(&emb()).unwrap(), emb());
        assert_eq!(c.view(&emb()).unwrap().as_float().unwrap(), &emb());
    }

    #[test]
    fn scalar_levels_without_ranges_are_an_error_naming_the_cell() {
        let mut c = cell(4, Level::Int4, Semantics::SentenceTransformers);
        c.calibration = None;
        let err = c.view(&emb()).err().unwrap().to_string();
        assert!(err.starts_with("dim4-int4: "), "{err}");
    }
}
