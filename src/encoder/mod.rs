//! Text → embeddings with a sentence-transformers model folder, computed with candle.
//!
//! The folder is read generically (`st_folder`), inputs get the prompt and route of their
//! role (`prompts`, `router`), are tokenized and grouped into length-sorted batches
//! (`batching`), run through the backbone (`bert`, `modernbert`) and the folder's
//! Pooling / Dense / Normalize modules, and come back in input order.

pub mod activation;
pub mod attention;
pub mod batching;
pub mod bert;
pub mod dense;
pub mod epilogue;
pub mod gemm_bf16;
pub mod gemm_int8;
pub mod kernels;
pub mod lane_layer_norm;
pub mod layers;
pub mod modernbert;
pub mod packed_linear;
pub mod panels;
pub mod pooling;
pub mod precision;
pub mod prompts;
pub mod router;
pub mod st_folder;
pub mod transformer;
pub mod weights;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use pooling::TokenStates;
pub use precision::Precision;
use prompts::Prompts;
use st_folder::Module;

/// Which side of an asymmetric task a text is on; picks prompt and Router route exactly as
/// sentence-transformers' `encode_query`, `encode_document` and `encode` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Query,
    Document,
    Plain,
}

/// A call's texts tokenized and grouped into batches ([`Encoder::batched`]).
pub struct Batched {
    pub role: Role,
    /// Token ids of each text, in input order.
    pub ids: Vec<Vec<u32>>,
    /// Indices into `ids`, one list per forward pass.
    pub batches: Vec<Vec<usize>>,
    prompt_length: usize,
    dim: usize,
}

impl Batched {
    /// `n` texts in input order, `batch_size` to a batch, not tokenized: how a served model's
    /// texts are sent (with no token counts, chunks are cut by texts alone).
    pub fn in_order(role: Role, n: usize, batch_size: usize) -> Self {
        let all: Vec<usize> = (0..n).collect();
        Self {
            role,
            ids: vec![Vec::new(); n],
            batches: all
                .chunks(batch_size.max(1))
                .map(<[usize]>::to_vec)
                .collect(),
            prompt_length: 0,
            dim: 0,
        }
    }

    /// Padded tokens of batch `b`: what its forward pass computes.
    /// Tokens of batch `b`, padding aside (0 for texts that were not tokenized).
    pub fn tokens(&self, b: usize) -> usize {
        self.batches[b].iter().map(|&i| self.ids[i].len()).sum()
    }

    pub fn padded_tokens(&self, b: usize) -> usize {
        let batch = &self.batches[b];
        batch.len() * batch.iter().map(|&i| self.ids[i].len()).max().unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub struct EncodeOptions {
    /// Most sequences in one forward pass.
    pub batch_size: usize,
    /// Most padded tokens in one forward pass (bounds memory on long inputs).
    pub max_batch_tokens: usize,
    pub progress: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            batch_size: 64,
            // Two batches run at once; at 4,096 padded tokens each, a run over 256-token
            // passages stays well under 1 GB with no loss of throughput.
            max_batch_tokens: 4_096,
            progress: true,
        }
    }
}

pub struct Encoder {
    dir: PathBuf,
    modules: Vec<Arc<Module>>,
    prompts: Prompts,
    device: Device,
    precision: Precision,
}

/// One role's path through the model: a Transformer, then sentence-level modules.
struct Stack {
    modules: Vec<Arc<Module>>,
}

impl Stack {
    fn transformer(&self) -> &transformer::Transformer {
        match self.modules[0].as_ref() {
            Module::Transformer(t) => t,
            _ => unreachable!("validated at load"),
        }
    }

    fn needs_prompt_length(&self) -> bool {
        self.modules
            .iter()
            .any(|m| matches!(m.as_ref(), Module::Pooling(p) if !p.include_prompt))
    }
}

impl Encoder {
    /// Loads a sentence-transformers folder on the CPU, computing in float32.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_at(dir, Precision::Float32)
    }

    /// Loads a sentence-transformers folder on the CPU, its Transformer's linear layers
    /// computing at `precision` (pooling, Dense and normalisation stay float32).
    pub fn load_at(dir: &Path, precision: Precision) -> Result<Self> {
        let device = Device::Cpu;
        let modules = st_folder::load_modules(dir, &device, precision)?;
        let prompts = Prompts::load(dir)?;
        let encoder = Self {
            dir: dir.to_path_buf(),
            modules,
            prompts,
            device,
            precision,
        };
        for role in st_folder::all_roles() {
            // A role without a route fails when it is used, as in sentence-transformers;
            // a route that resolves must be a well-formed stack.
            if let Ok(modules) = st_folder::flatten(&encoder.modules, role) {
                encoder.check_stack(&modules)?;
            }
        }
        Ok(encoder)
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn prompts(&self) -> &Prompts {
        &self.prompts
    }

    /// The similarity the model was trained for (`cosine` unless the folder says otherwise).
    pub fn similarity_fn_name(&self) -> &str {
        self.prompts
            .similarity_fn_name
            .as_deref()
            .unwrap_or("cosine")
    }

    /// The most tokens a text of `role` is cut to.
    pub fn max_seq_length(&self, role: Role) -> Result<usize> {
        Ok(self.stack(role)?.transformer().max_seq_length())
    }

    /// The embedding size for `role` (routes may differ in principle).
    pub fn dim(&self, role: Role) -> Result<usize> {
        let stack = self.stack(role)?;
        self.check_stack(&stack.modules)
    }

    fn stack(&self, role: Role) -> Result<Stack> {
        Ok(Stack {
            modules: st_folder::flatten(&self.modules, role)?,
        })
    }

    /// The part of `text` (its prompt already added) that the model reads for `role`: a
    /// text longer than its `max_seq_length` is cut after the last token it keeps.
    pub fn kept_text<'t>(&self, text: &'t str, role: Role) -> Result<&'t str> {
        self.stack(role)?.transformer().kept_text(text)
    }

    /// Checks the module order and that each module's input size is the previous one's
    /// output size; returns the final embedding size.
    fn check_stack(&self, modules: &[Arc<Module>]) -> Result<usize> {
        let listed = self.dir.join("modules.json");
        let Some(Module::Transformer(t)) = modules.first().map(|m| m.as_ref()) else {
            return Err(Error::invalid(
                &listed,
                "the first module must be a Transformer",
            ));
        };
        let mut dim = t.hidden_size();
        let mut pooled = false;
        for m in &modules[1..] {
            match m.as_ref() {
                Module::Transformer(_) | Module::Router(_) => {
                    return Err(Error::invalid(
                        &listed,
                        "only one Transformer per route is supported",
                    ))
                }
                Module::Pooling(p) => {
                    if p.dim != dim {
                        return Err(Error::invalid(
                            &listed,
                            format!(
                                "Pooling expects {}-dim tokens, the Transformer gives {dim}",
                                p.dim
                            ),
                        ));
                    }
                    dim = p.out_dim();
                    pooled = true;
                }
                Module::Dense(d) => {
                    if !pooled || d.in_dim() != dim {
                        return Err(Error::invalid(
                            &listed,
                            format!(
                                "Dense expects {} inputs, the module before gives {dim}",
                                d.in_dim()
                            ),
                        ));
                    }
                    dim = d.out_dim();
                }
                Module::Normalize => {}
            }
        }
        if !pooled {
            return Err(Error::invalid(
                &listed,
                "no Pooling module after the Transformer",
            ));
        }
        Ok(dim)
    }

    /// The texts as the model reads them: the role's prompt, then the text.
    fn prompted(&self, texts: &[String], role: Role) -> Vec<String> {
        let prompt = self.prompts.for_role(role);
        texts.iter().map(|t| format!("{prompt}{t}")).collect()
    }

    /// Tokens each text occupies after its prompt is added and it is truncated.
    pub fn token_lengths(&self, texts: &[String], role: Role) -> Result<Vec<usize>> {
        let stack = self.stack(role)?;
        let prompt = self.prompts.for_role(role);
        let inputs: Vec<String> = texts.iter().map(|t| format!("{prompt}{t}")).collect();
        Ok(stack
            .transformer()
            .tokenize(&inputs)?
            .iter()
            .map(Vec::len)
            .collect())
    }

    /// Embeds `texts` for `role`; row i of the result is text i.
    pub fn encode(&self, texts: &[String], role: Role, opts: &EncodeOptions) -> Result<Embeddings> {
        let batched = self.batched(texts, role, opts)?;
        let progress = progress_bar(texts.len(), opts.progress);
        let all: Vec<usize> = (0..batched.batches.len()).collect();
        let in_batch_order = self.encode_batches(&batched, &all, &progress)?;
        progress.finish_and_clear();
        let mut out = Embeddings::zeros(texts.len(), batched.dim);
        for (k, &i) in batched.batches.iter().flatten().enumerate() {
            out.row_mut(i).copy_from_slice(in_batch_order.row(k));
        }
        Ok(out)
    }

    /// `texts` tokenized for `role` and grouped into the batches they are computed in. Which
    /// texts share a batch decides their padding, and so the last bits of their vectors.
    pub fn batched(&self, texts: &[String], role: Role, opts: &EncodeOptions) -> Result<Batched> {
        let stack = self.stack(role)?;
        let dim = self.check_stack(&stack.modules)?;
        let transformer = stack.transformer();
        let prompt = self.prompts.for_role(role);
        let ids = transformer.tokenize(&self.prompted(texts, role))?;
        let prompt_length = if !prompt.is_empty() && stack.needs_prompt_length() {
            transformer.prompt_length(prompt)?
        } else {
            0
        };
        let lengths: Vec<usize> = ids.iter().map(Vec::len).collect();
        let batches = batching::plan(&lengths, opts.batch_size, opts.max_batch_tokens);
        Ok(Batched {
            role,
            ids,
            batches,
            prompt_length,
            dim,
        })
    }

    /// The embeddings of the texts of the batches `which` (indices into `batched.batches`),
    /// rows in the order those batches list them.
    pub fn encode_batches(
        &self,
        batched: &Batched,
        which: &[usize],
        progress: &indicatif::ProgressBar,
    ) -> Result<Embeddings> {
        let stack = self.stack(batched.role)?;
        // Batches run concurrently, one per worker thread: small matrices parallelise poorly
        // inside one product, so whole batches are the better unit of work. Each batch's
        // result does not depend on which thread computes it.
        let results: Vec<Result<Vec<f32>>> = which
            .par_iter()
            .map(|&b| {
                let batch = &batched.batches[b];
                let seqs: Vec<&[u32]> = batch.iter().map(|&i| batched.ids[i].as_slice()).collect();
                let rows = self.run_batch(&stack, &seqs, batched.prompt_length);
                progress.inc(batch.len() as u64);
                rows
            })
            .collect();
        let mut data = Vec::new();
        for rows in results {
            data.extend(rows?);
        }
        Ok(Embeddings {
            rows: data.len() / batched.dim,
            dim: batched.dim,
            data,
        })
    }

    /// One forward pass and the sentence-level modules; returns [B·dim] row-major.
    fn run_batch(&self, stack: &Stack, seqs: &[&[u32]], prompt_length: usize) -> Result<Vec<f32>> {
        let hidden = stack.transformer().forward(seqs, &self.device)?;
        let (b, l, h) = hidden.dims3()?;
        let states = hidden.flatten_all()?.to_vec1::<f32>()?;
        let mut x: Option<Tensor> = None;
        for m in &stack.modules[1..] {
            x = Some(match m.as_ref() {
                Module::Pooling(p) => {
                    let pooled: Vec<f32> = (0..b)
                        .flat_map(|i| {
                            let seq = TokenStates {
                                tokens: &states[i * l * h..(i + 1) * l * h],
                                len: seqs[i].len(),
                                hidden: h,
                            };
                            p.pool(&seq, prompt_length)
                        })
                        .collect();
                    Tensor::from_vec(pooled, (b, p.out_dim()), &self.device)?
                }
                Module::Dense(d) => d.forward(x.as_ref().expect("pooled before Dense"))?,
                Module::Normalize => normalize(x.as_ref().expect("pooled before Normalize"))?,
                Module::Transformer(_) | Module::Router(_) => unreachable!("validated at load"),
            });
        }
        Ok(x.expect("a Pooling module")
            .flatten_all()?
            .to_vec1::<f32>()?)
    }
}

/// L2 normalisation with the norm clamped at 1e-12, as torch's `F.normalize`.
fn normalize(x: &Tensor) -> Result<Tensor> {
    let norm = x.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
    Ok(x.broadcast_div(&norm)?)
}

/// The bar shown while texts are encoded (hidden when `enabled` is false).
pub fn progress_bar(len: usize, enabled: bool) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "encoding {bar:30} {pos}/{len} texts  {per_sec}  eta {eta}",
        )
        .expect("static template"),
    );
    bar
}
