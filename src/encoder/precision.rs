//! Compute precision: how an encoder's linear layers multiply. float32 reproduces the
//! reference exactly; bfloat16 and int8 trade a little accuracy for arithmetic the CPU does
//! two to four times faster. Each precision is a different encoding of the same texts.

use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 weights and activations (the reference's arithmetic).
    #[default]
    Float32,
    /// Weights and activations rounded to bf16, products summed in f32 (in BERT, attention's
    /// two products too).
    Bfloat16,
    /// Weights quantized to int8 per output channel, activations to uint8 per row with a zero
    /// point (dynamic quantization), products summed in int32; in BERT, attention's two
    /// products (activations by activations) are bf16.
    Int8,
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::Float32, Precision::Bfloat16, Precision::Int8];

    pub fn name(&self) -> &'static str {
        match self {
            Precision::Float32 => "float32",
            Precision::Bfloat16 => "bfloat16",
            Precision::Int8 => "int8",
        }
    }

    pub fn parse(name: &str) -> Option<Precision> {
        Precision::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The names, for error messages.
    pub fn expected() -> String {
        Precision::ALL.map(|p| p.name()).join(", ")
    }

    /// What a lower precision adds to the model's fingerprint in store keys: its name and
    /// [`LOWER_NUMERICS_VERSION`]. float32 adds nothing (its arithmetic is versioned by the
    /// store's own numerics version).
    pub fn store_suffix(&self) -> Option<String> {
        match self {
            Precision::Float32 => None,
            p => Some(format!("@{p}.v{LOWER_NUMERICS_VERSION}")),
        }
    }
}

/// The version of the bfloat16 and int8 arithmetic. Raise it in the change that makes them
/// give other floats, so that their stored embeddings of an older version are never read.
/// 2: attention's products became bf16. 3: the packed layers' GELU became the tile GELU
/// (`kernels::tile_gelu_one`), and BERT's layer norm sums in lanes (`lane_layer_norm`).
pub const LOWER_NUMERICS_VERSION: u32 = 3;

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Precision::parse(s).ok_or_else(|| {
            format!(
                "unknown precision `{s}`; expected {}",
                Precision::expected()
            )
        })
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for p in Precision::ALL {
            assert_eq!(p.name().parse::<Precision>().unwrap(), p);
        }
        assert_eq!(Precision::Float32.store_suffix(), None);
        assert_eq!(Precision::Int8.store_suffix().unwrap(), "@int8.v3");
        let err = "fp16".parse::<Precision>().unwrap_err();
        assert!(err.contains("float32, bfloat16, int8"), "{err}");
    }
}
