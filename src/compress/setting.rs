//! The compression grid of a run: which truncation dims and storage levels are evaluated, how
//! the integer levels are calibrated, and which reference semantics the codes follow.

use std::path::PathBuf;

use serde::Deserialize;

use super::quantize::Level;
use crate::encoder::Precision;

/// One cell of the grid: encode at compute `precision`, keep the first `dim` dimensions, store
/// them at `level`. `rescore` marks the retrieval-only "binary + float32 rescore" cell.
/// Ordered by dim, then level, then precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Setting {
    pub dim: usize,
    pub level: Level,
    pub rescore: bool,
    pub precision: Precision,
}

impl Setting {
    pub fn plain(dim: usize) -> Self {
        Self {
            dim,
            level: Level::Float32,
            rescore: false,
            precision: Precision::Float32,
        }
    }

    /// The folder name of the cell's results, e.g. `dim256-int8`, `dim384-binary-rescore`;
    /// an encoding at a lower precision is prefixed, e.g. `int8-compute-dim256-binary`.
    pub fn name(&self) -> String {
        let rescore = if self.rescore { "-rescore" } else { "" };
        let compute = match self.precision {
            Precision::Float32 => String::new(),
            p => format!("{p}-compute-"),
        };
        format!("{compute}dim{}-{}{rescore}", self.dim, self.level.name())
    }

    /// Reads a cell name written by [`Setting::name`].
    pub fn parse(name: &str) -> Option<Setting> {
        let (precision, name) = match name.split_once("-compute-") {
            Some((p, rest)) => (
                Precision::parse(p).filter(|p| *p != Precision::Float32)?,
                rest,
            ),
            None => (Precision::Float32, name),
        };
        let rest = name.strip_prefix("dim")?;
        let (dim, rest) = rest.split_once('-')?;
        let (level, rescore) = match rest.strip_suffix("-rescore") {
            Some(l) => (l, true),
            None => (rest, false),
        };
        Some(Setting {
            dim: dim.parse().ok()?,
            level: Level::parse(level)?,
            rescore,
            precision,
        })
    }

    /// Bytes one stored vector takes (rescoring keeps the binary codes in the index; the float
    /// query is not stored).
    pub fn bytes_per_vector(&self) -> usize {
        self.level.bytes_per_vector(self.dim)
    }
}

/// Which library's quantization the codes reproduce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Semantics {
    /// sentence-transformers `quantize_embeddings`: calibrated per-dimension ranges, packed bits;
    /// similarity tasks score the codes, feature tasks use the dequantized vectors.
    #[default]
    SentenceTransformers,
    /// MTEB's `CompressionWrapper`: each encode call is bucketed by its own min / max and every
    /// task reads the quantized values as floats, as MTEB evaluates them.
    Mteb,
}

impl Semantics {
    pub fn name(&self) -> &'static str {
        match self {
            Semantics::SentenceTransformers => "sentence-transformers",
            Semantics::Mteb => "mteb",
        }
    }
}

/// Where the per-dimension ranges of int8 / uint8 / int4 come from (sentence-transformers
/// semantics only; MTEB's wrapper always uses the encoded batch itself).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum CalibrationPolicy {
    /// The task's train split (classification) or its documents (retrieval, reranking); tasks
    /// with neither use the embeddings they evaluate.
    #[default]
    Train,
    /// One `[min, max]` for every dimension (mdbr-leaf-mt's model card suggests `[-1, 1]`).
    Fixed([f32; 2]),
    /// A text file, one calibration text per line, encoded once per model.
    File(PathBuf),
}

impl CalibrationPolicy {
    pub fn describe(&self) -> String {
        match self {
            CalibrationPolicy::Train => "train".into(),
            CalibrationPolicy::Fixed([lo, hi]) => format!("fixed [{lo}, {hi}]"),
            CalibrationPolicy::File(p) => format!("file {}", p.display()),
        }
    }
}

/// The `compression:` section of a run configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// MRL truncation dims; none means the model's own size only.
    #[serde(default)]
    pub dims: Vec<usize>,
    /// Storage level names (`float32`, `float16`, `bfloat16`, `int8`, `uint8`, `int4`,
    /// `binary`, `ubinary`).
    #[serde(default = "default_levels")]
    pub quantization: Vec<String>,
    #[serde(default)]
    pub calibration: CalibrationPolicy,
    #[serde(default)]
    pub semantics: Semantics,
    /// Candidates per kept hit that binary retrieval rescoring fetches (sentence-transformers'
    /// `rescore_multiplier`); 0 turns the extra rescore cell off.
    #[serde(default = "default_rescore")]
    pub rescore_multiplier: usize,
    /// Compute precisions of the encoder: each other than float32 is a second encoding whose
    /// cells repeat the float32 ones. float32 is always run: it is the reference.
    #[serde(default = "default_precisions")]
    pub precision: Vec<Precision>,
}

fn default_precisions() -> Vec<Precision> {
    vec![Precision::Float32]
}

fn default_levels() -> Vec<String> {
    vec!["float32".into()]
}

fn default_rescore() -> usize {
    4
}

impl Grid {
    /// The parsed levels, or a message naming the first unknown one.
    pub fn levels(&self) -> Result<Vec<Level>, String> {
        self.quantization
            .iter()
            .map(|name| {
                Level::parse(name).ok_or_else(|| {
                    let known: Vec<&str> = Level::ALL.iter().map(Level::name).collect();
                    format!(
                        "unknown quantization level `{name}`; expected one of {}",
                        known.join(", ")
                    )
                })
            })
            .collect()
    }

    /// Checks what can be checked without the model: levels, dims, calibration.
    pub fn check(&self) -> Result<(), String> {
        if self.levels()?.is_empty() {
            return Err("`compression.quantization` lists no level".into());
        }
        if let Some(p) = self
            .precision
            .iter()
            .enumerate()
            .find_map(|(i, p)| self.precision[..i].contains(p).then_some(p))
        {
            return Err(format!("`compression.precision` lists {p} twice"));
        }
        if let Some(d) = self.dims.iter().find(|&&d| d == 0) {
            return Err(format!(
                "`compression.dims` holds {d}; dims must be positive"
            ));
        }
        if let CalibrationPolicy::Fixed([lo, hi]) = self.calibration {
            // NaN bounds fail too.
            if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
                return Err(format!(
                    "`compression.calibration.fixed` must be [min, max] with min < max, got [{lo}, {hi}]"
                ));
            }
        }
        if let CalibrationPolicy::File(p) = &self.calibration {
            if !p.is_file() {
                return Err(format!(
                    "calibration file {} does not exist; expected a text file with one text per line",
                    p.display()
                ));
            }
        }
        Ok(())
    }

    /// Every cell for a model of `native` dims, the float32 full-size cell first (it is the
    /// baseline of retention and the run's plain result). Errors name a dim larger than the
    /// model's.
    pub fn settings(&self, native: usize) -> Result<Vec<Setting>, String> {
        if let Some(d) = self.dims.iter().find(|&&d| d > native) {
            return Err(format!(
                "`compression.dims` asks for {d} dimensions, but the model's embeddings have {native}"
            ));
        }
        let dims: Vec<usize> = if self.dims.is_empty() {
            vec![native]
        } else {
            self.dims.clone()
        };
        let mut out = vec![Setting::plain(native)];
        for &dim in &dims {
            for level in self.levels()? {
                let s = Setting {
                    dim,
                    level,
                    rescore: false,
                    precision: Precision::Float32,
                };
                if !out.contains(&s) {
                    out.push(s);
                }
                let binary = matches!(level, Level::Binary | Level::UBinary);
                if binary && self.rescore_multiplier > 0 {
                    let r = Setting { rescore: true, ..s };
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
        }
        let float32 = out.clone();
        for &precision in self.lower_precisions() {
            out.extend(float32.iter().map(|s| Setting { precision, ..*s }));
        }
        Ok(out)
    }

    /// The precisions other than float32, in the order listed.
    pub fn lower_precisions(&self) -> impl Iterator<Item = &Precision> {
        self.precision.iter().filter(|p| **p != Precision::Float32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(yaml: &str) -> Grid {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn settings_put_the_baseline_first_and_add_rescore_cells_for_binary() {
        let g = grid("dims: [384, 128]\nquantization: [int8, binary]\n");
        let names: Vec<String> = g.settings(384).unwrap().iter().map(Setting::name).collect();
        assert_eq!(
            names,
            [
                "dim384-float32",
                "dim384-int8",
                "dim384-binary",
                "dim384-binary-rescore",
                "dim128-int8",
                "dim128-binary",
                "dim128-binary-rescore"
            ]
        );
        for s in g.settings(384).unwrap() {
            assert_eq!(Setting::parse(&s.name()), Some(s));
        }
        assert_eq!(Setting::parse("embed_dim_256"), None);
        let err = g.settings(100).unwrap_err();
        assert!(err.contains("384") && err.contains("100"), "{err}");
    }

    #[test]
    fn each_lower_precision_repeats_the_float32_cells_under_its_own_names() {
        let g = grid("dims: [128]\nquantization: [binary]\nprecision: [float32, int8]\n");
        let names: Vec<String> = g.settings(384).unwrap().iter().map(Setting::name).collect();
        assert_eq!(
            names,
            [
                "dim384-float32",
                "dim128-binary",
                "dim128-binary-rescore",
                "int8-compute-dim384-float32",
                "int8-compute-dim128-binary",
                "int8-compute-dim128-binary-rescore"
            ]
        );
        for s in g.settings(384).unwrap() {
            assert_eq!(Setting::parse(&s.name()), Some(s));
        }
        assert_eq!(Setting::parse("float32-compute-dim8-int8"), None);
        assert_eq!(Setting::parse("fp8-compute-dim8-int8"), None);
        let twice = grid("precision: [bfloat16, bfloat16]\n")
            .check()
            .unwrap_err();
        assert!(twice.contains("lists bfloat16 twice"), "{twice}");
        let unknown = serde_saphyr::from_str::<Grid>("precision: [fp8]\n").unwrap_err();
        assert!(unknown.to_string().contains("fp8"), "{unknown}");
    }

    #[test]
    fn bad_levels_and_calibrations_are_named() {
        let g = grid("quantization: [int8, int3]\n");
        let err = g.check().unwrap_err();
        assert!(err.contains("`int3`") && err.contains("ubinary"), "{err}");
        let g = grid("calibration: {fixed: [1, -1]}\n");
        assert!(g.check().unwrap_err().contains("min < max"));
        let g = grid("calibration: {file: /nonexistent/texts.txt}\n");
        assert!(g.check().unwrap_err().contains("/nonexistent/texts.txt"));
        assert_eq!(
            grid("calibration: train\n").calibration,
            CalibrationPolicy::Train
        );
        assert_eq!(
            grid("semantics: mteb\n").semantics,
            Semantics::Mteb,
            "kebab-case names"
        );
    }
}
