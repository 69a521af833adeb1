//! Task data: one typed structure per task type ([`typed`]), built from the records of a
//! split, read from a local mirror ([`local`], the layout of MTEB's offline copies) or from
//! the task's Hugging Face dataset ([`hf`]); [`source`] picks between them. Each loaded split is
//! measured ([`figures`]) and checked against MTEB's statistics of it ([`check`]).

pub mod check;
pub mod data_files;
pub mod figures;
pub mod hf;
pub mod jsonl;
pub mod local;
pub mod parquet;
pub mod records;
pub mod retrieval;
pub mod source;
pub mod train_test_split;
pub mod tsv;
pub mod typed;
pub mod zip_archive;

pub use records::SplitRecords;
pub use source::{DataOrigin, DataSource};
pub use typed::{LabelledSplit, PairSplit, SummaryRow};
