//! Classifiers trained on embeddings, reproducing the scikit-learn models MTEB evaluates with.
//!
//! * [`logistic_regression`]: sklearn's `LogisticRegression` (L2, lbfgs), the classifier of
//!   MTEB's classification tasks.
//! * [`lbfgs`]: the unbounded path of SciPy's L-BFGS-B, which that fit runs on.

pub mod kmeans;
pub mod lbfgs;
pub mod logistic_regression;
