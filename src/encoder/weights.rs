//! Tensors from a `.safetensors` file, checked by name and shape so that a wrong or
//! damaged checkpoint fails at load time with the file and tensor named.

use std::path::{Path, PathBuf};

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Result};

pub struct Weights {
    path: PathBuf,
    tensors: MmapedSafetensors,
    device: Device,
}

impl Weights {
    pub fn open(path: &Path, device: &Device) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::MissingFile {
                path: path.to_path_buf(),
                what: "model weights (model.safetensors) not found".into(),
            });
        }
        // SAFETY: the file is only read; a concurrent writer would be a user error that
        // at worst yields wrong numbers, which the parity command exists to catch.
        let tensors = unsafe { MmapedSafetensors::new(path) }.map_err(|e| {
            Error::invalid(
                path,
                format!("not a readable safetensors file (truncated or corrupt?): {e}"),
            )
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            tensors,
            device: device.clone(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, name: &str) -> bool {
        self.tensors.get(name).is_ok()
    }

    /// The first of `prefixes` under which `probe` exists: checkpoints saved from a task
    /// head carry a `bert.` / `model.` prefix, bare backbones none.
    pub fn find_prefix(&self, prefixes: &[&str], probe: &str) -> Result<String> {
        prefixes
            .iter()
            .map(|p| p.to_string())
            .find(|p| self.contains(&format!("{p}{probe}")))
            .ok_or_else(|| self.missing(probe))
    }

    /// Loads `name` as F32 and checks it has exactly `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let view = self.tensors.get(name).map_err(|_| self.missing(name))?;
        if view.shape() != shape {
            return Err(Error::Tensor {
                path: self.path.clone(),
                name: name.into(),
                what: format!(
                    "expected shape {:?} (from the model's config), found {:?}",
                    shape,
                    view.shape()
                ),
            });
        }
        let t = self
            .tensors
            .load(name, &self.device)
            .map_err(|e| self.bad(name, e))?;
        t.to_dtype(DType::F32).map_err(|e| self.bad(name, e))
    }

    pub fn get_opt(&self, name: &str, shape: &[usize]) -> Result<Option<Tensor>> {
        if self.contains(name) {
            self.get(name, shape).map(Some)
        } else {
            Ok(None)
        }
    }

    fn missing(&self, name: &str) -> Error {
        Error::Tensor {
            path: self.path.clone(),
            name: name.into(),
            what: "missing from the checkpoint".into(),
        }
    }

    fn bad(&self, name: &str, e: candle_core::Error) -> Error {
        Error::Tensor {
            path: self.path.clone(),
            name: name.into(),
            what: format!("cannot be read: {e}"),
        }
    }
}
