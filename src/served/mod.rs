//! Models served over HTTP: a port under test where it lives (an ONNX or GGUF export behind an
//! embedding server, a TEI deployment, an internal service), reached over the OpenAI
//! embeddings API or TEI's `/embed`. The run config names the endpoint ([`Endpoint`]); the
//! [`Client`] sends batches with retries and validates every answer; [`ServedModel`] embeds
//! a call's texts with its role's prompt, several requests in flight.

pub mod client;
pub mod endpoint;
pub mod served_model;
pub mod wire;

pub use client::Client;
pub use endpoint::{Api, Endpoint};
pub use served_model::ServedModel;
