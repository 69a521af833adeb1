//! A served model embedding one call's texts: each text gets its role's prompt, the texts go
//! out in requests of `batch_size`, `concurrency` of them in flight, and the vectors come back
//! in input order, all of the model's one dimension (optionally scaled to unit length).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::client::Client;
use super::endpoint::Endpoint;
use crate::embeddings::Embeddings;
use crate::encoder::{Encoder, Role};
use crate::error::{Error, Result};

pub struct ServedModel {
    endpoint: Endpoint,
    client: Client,
    /// The reference model whose input length texts are cut to (`truncate_like`).
    reader: Option<Encoder>,
    /// The vector length, learnt from the first answer.
    dim: OnceLock<usize>,
}

impl ServedModel {
    pub fn new(endpoint: &Endpoint) -> Result<Self> {
        if let Some(problem) = endpoint.problem() {
            return Err(Error::Served {
                url: endpoint.url.clone(),
                what: problem,
            });
        }
        let reader = match &endpoint.truncate_like {
            Some(dir) => Some(Encoder::load(dir)?),
            None => None,
        };
        Ok(Self {
            client: Client::new(endpoint)?,
            endpoint: endpoint.clone(),
            reader,
            dim: OnceLock::new(),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The prompt added to texts of `role` (documents' for symmetric texts, as a served
    /// model has one route).
    pub fn prompt(&self, role: Role) -> &str {
        match role {
            Role::Query => &self.endpoint.prompts.query,
            Role::Document | Role::Plain => &self.endpoint.prompts.document,
        }
    }

    /// The vector length: the first answer's, asked for with one short text if nothing was
    /// embedded yet.
    pub fn dim(&self) -> Result<usize> {
        if let Some(d) = self.dim.get() {
            return Ok(*d);
        }
        let probe = self.client.embed(&["dimension probe".to_string()])?;
        Ok(*self.dim.get_or_init(|| probe[0].len()))
    }

    /// The embeddings of `texts` for `role`, in order; `done` is told how many texts each
    /// answer covered.
    pub fn encode(
        &self,
        texts: &[String],
        role: Role,
        done: &(dyn Fn(usize) + Sync),
    ) -> Result<Embeddings> {
        let sent = self.inputs(texts, role)?;
        let batches: Vec<&[String]> = sent.chunks(self.endpoint.batch_size).collect();
        let answers: Vec<Mutex<Option<Vec<Vec<f32>>>>> =
            batches.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let workers = self.endpoint.concurrency.min(batches.len()).max(1);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let b = next.fetch_add(1, Ordering::SeqCst);
                    if b >= batches.len() || failed.load(Ordering::SeqCst) {
                        break;
                    }
                    match self.client.embed(batches[b]) {
                        Ok(v) => {
                            done(v.len());
                            *answers[b].lock().expect("no worker panics") = Some(v);
                        }
                        Err(e) => {
                            failed.store(true, Ordering::SeqCst);
                            first_error
                                .lock()
                                .expect("no worker panics")
                                .get_or_insert(e);
                        }
                    }
                });
            }
        });
        if let Some(e) = first_error.into_inner().expect("no worker panics") {
            return Err(e);
        }
        let rows: Vec<Vec<f32>> = answers
            .into_iter()
            .flat_map(|a| {
                a.into_inner()
                    .expect("no worker panics")
                    .expect("every batch answered")
            })
            .collect();
        self.assemble(rows)
    }

    /// What is sent for `texts`: each with its role's prompt, cut as `truncate_like` says.
    fn inputs(&self, texts: &[String], role: Role) -> Result<Vec<String>> {
        let prompt = self.prompt(role);
        texts
            .iter()
            .map(|t| {
                let text = format!("{prompt}{t}");
                match &self.reader {
                    Some(reader) => Ok(reader.kept_text(&text, role)?.to_string()),
                    None => Ok(text),
                }
            })
            .collect()
    }

    /// The rows as one matrix, checked against the model's dimension.
    fn assemble(&self, rows: Vec<Vec<f32>>) -> Result<Embeddings> {
        let dim = match rows.first() {
            Some(r) => *self.dim.get_or_init(|| r.len()),
            None => self.dim()?,
        };
        let mut data = Vec::with_capacity(rows.len() * dim);
        for (i, mut row) in rows.into_iter().enumerate() {
            if row.len() != dim {
                return Err(Error::Served {
                    url: self.client.url().to_string(),
                    what: format!(
                        "text {} came back with {} dimensions, earlier ones with {dim}",
                        i + 1,
                        row.len()
                    ),
                });
            }
            if self.endpoint.normalize {
                let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                row.iter_mut().for_each(|x| *x /= norm);
            }
            data.extend(row);
        }
        Ok(Embeddings {
            rows: data.len() / dim,
            dim,
            data,
        })
    }
}
