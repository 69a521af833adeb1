//! How a model compares two embeddings: the similarity function a sentence-transformers folder
//! names, which retrieval ranks by and the compressed views score with.

/// How a model compares embeddings (`similarity_fn_name` of sentence-transformers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Similarity {
    Cosine,
    Dot,
}

impl Similarity {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "cosine" => Some(Similarity::Cosine),
            "dot" => Some(Similarity::Dot),
            _ => None,
        }
    }
}
