//! scikit-learn's `MiniBatchKMeans` (1.9.1) on float32 data, the clusterer of MTEB's clustering
//! tasks.
//!
//! MTEB v2 (`AbsTaskClustering`) fits `MiniBatchKMeans(n_clusters=k, batch_size=512, n_init=1,
//! init="k-means++", random_state=42)` once per bootstrap and scores `fit_predict`'s labels; the
//! legacy evaluator uses `batch_size=500, n_init="auto"` (one k-means++ init as well). Everything
//! else is left at sklearn's defaults: `max_iter=100`, `tol=0`, `max_no_improvement=10`,
//! `init_size=None`, `reassignment_ratio=0.01`. [`MiniBatchKMeans::mteb`] and
//! [`MiniBatchKMeans::mteb_legacy`] build those configurations.
//!
//! # What is reproduced
//!
//! The random stream is NumPy's legacy `RandomState(seed)` (sklearn's `check_random_state(42)`),
//! consumed in sklearn's order:
//!
//! 1. `randint(0, n, init_size)`: the validation subset used to rank inits (drawn even though
//!    with one init there is nothing to rank);
//! 2. when `init_size < n`, `randint(0, n, init_size)` again: the rows k-means++ runs on;
//! 3. k-means++ (`_kmeans_plusplus`): the first center by `choice(m, p=1/m)`, then for every
//!    further center `uniform(size=2 + ⌊ln k⌋)` candidate draws, scaled by the current potential
//!    and located in the cumulative sum of the squared distances; the candidate leaving the
//!    smallest potential wins;
//! 4. per mini-batch step: `choice(n, batch, p=1/n)` (with replacement, `batch` draws of
//!    `random_sample`), then, when sklearn decides to check for starved centers (every step for
//!    `10 k <= batch`), `choice(batch, n_reassign, replace=False)` (a full `permutation(batch)`)
//!    if any center's count is below `0.01 ×` the largest.
//!
//! The arithmetic follows sklearn's dtypes: data, centers, counts and the distances used for
//! assignment are float32 (`_k_means_minibatch.pyx`, `_k_means_lloyd.pyx`); k-means++ distances
//! are computed in float64 and stored as float32 (`_euclidean_distances_upcast`); the early-stop
//! bookkeeping (EWA of the batch inertia) is float64. Center updates
//! (`old × count + Σ x`, `× 1/count'`) and the reassignment rule are bit-exact replicas.
//!
//! # Where rounding can differ
//!
//! sklearn computes the assignment distances `‖c‖² − 2 x·c` with a BLAS `sgemm` and k-means++
//! potentials with `sdot`/`sgemv`; the order in which those kernels accumulate depends on the
//! BLAS build and CPU (OpenBLAS's x86 kernels split some dot products over two accumulators).
//! Here `x·c` is one fused multiply-add chain over the features, `‖c‖²` replicates
//! `np.einsum`'s SSE loop exactly, and potentials are summed in float64 and rounded once. A
//! last-bit difference only matters when a point is (almost exactly) equidistant from two centers
//! or a k-means++ draw lands on the edge of a cumulative-sum step, which is rare: on the fixtures
//! (16 fits of 40 to 2,000 rows, and two MTEB-sized fits of 16,384 real all-MiniLM-L6-v2 vectors)
//! labels, centers and inertia equal sklearn's bit for bit. Once such a tie breaks differently,
//! though, the trajectory diverges into a different, equally valid local optimum. sklearn's
//! OpenMP inertia sums add per-thread partial sums; here they add in row order (sklearn with
//! `OMP_NUM_THREADS=1`), which can move the early-stopping decision only through a last-bit
//! change of the smoothed inertia.
//!
//! Not supported (MTEB never uses them): sample weights, `tol > 0`, `n_init > 1`, sparse input,
//! `init="random"` or explicit initial centers.

use crate::rng::numpy_legacy::RandomState;

/// Configuration of a mini-batch k-means fit; the fields mirror sklearn's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct MiniBatchKMeans {
    /// `n_clusters`: the number of centers k.
    pub n_clusters: usize,
    /// `batch_size`: rows per mini-batch (capped at n).
    pub batch_size: usize,
    /// `max_iter`: passes over the data; the step budget is `max_iter * n / batch`.
    pub max_iter: usize,
    /// `max_no_improvement`: stop after this many steps without a new minimum of the smoothed
    /// batch inertia (`None`: never).
    pub max_no_improvement: Option<usize>,
    /// `init_size`: rows k-means++ runs on (`None`: `3 * batch`, at least `3 * k`; capped at n).
    pub init_size: Option<usize>,
    /// `reassignment_ratio`: centers whose count falls below this fraction of the largest count
    /// are moved onto random batch rows.
    pub reassignment_ratio: f64,
    /// `random_state`: the seed of NumPy's legacy `RandomState`.
    pub seed: u32,
}

/// The result of [`MiniBatchKMeans::fit`], named after sklearn's fitted attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansFit {
    /// `labels_`: the nearest final center of every row (what `fit_predict` returns).
    pub labels: Vec<usize>,
    /// `cluster_centers_`, row-major `k x dim`.
    pub centers: Vec<f32>,
    /// The k-means++ centers the mini-batch steps started from, row-major `k x dim`.
    pub init_centers: Vec<f32>,
    /// `inertia_`: the float32 sum of squared distances of the rows to their centers.
    pub inertia: f64,
    /// `n_steps_`: mini-batch steps taken.
    pub n_steps: usize,
    /// `n_iter_`: `ceil(n_steps * batch / n)`, the passes over the data started.
    pub n_iter: usize,
}

impl MiniBatchKMeans {
    /// sklearn's defaults for the given k, batch size and seed.
    pub fn new(n_clusters: usize, batch_size: usize, seed: u32) -> Self {
        Self {
            n_clusters,
            batch_size,
            max_iter: 100,
            max_no_improvement: Some(10),
            init_size: None,
            reassignment_ratio: 0.01,
            seed,
        }
    }

    /// MTEB v2's clusterer (`AbsTaskClustering`): batch 512, `random_state=42`.
    pub fn mteb(n_clusters: usize) -> Self {
        Self::new(n_clusters, 512, 42)
    }

    /// MTEB's legacy clustering evaluator: batch 500, `random_state=42`.
    pub fn mteb_legacy(n_clusters: usize) -> Self {
        Self::new(n_clusters, 500, 42)
    }

    /// `fit_predict(x)`: the label of every row of `x` (row-major `n x dim`).
    ///
    /// # Panics
    /// As [`fit`](Self::fit).
    pub fn fit_predict(&self, x: &[f32], n: usize, dim: usize) -> Vec<usize> {
        self.fit(x, n, dim).labels
    }

    /// Fits the centers on `x` (row-major `n x dim`) and labels every row.
    ///
    /// # Panics
    /// If `x.len() != n * dim`, `dim == 0`, `n_clusters == 0`, `n < n_clusters` (sklearn raises
    /// a `ValueError` there), `batch_size == 0` or `max_iter == 0`.
    pub fn fit(&self, x: &[f32], n: usize, dim: usize) -> KMeansFit {
        let k = self.n_clusters;
        assert_eq!(x.len(), n * dim, "x must hold n * dim values");
        assert!(dim > 0, "x must have at least one feature");
        assert!(k > 0, "n_clusters must be at least 1");
        assert!(n >= k, "n_samples={n} should be >= n_clusters={k}");
        assert!(
            self.batch_size > 0 && self.max_iter > 0,
            "batch_size and max_iter must be >= 1"
        );
        assert!(
            self.reassignment_ratio >= 0.0,
            "reassignment_ratio must be >= 0"
        );

        let data = Rows { x, dim };
        let batch = self.batch_size.min(n);
        let init_size = self.resolved_init_size(batch).min(n);
        let mut rs = RandomState::new(self.seed);

        // The validation rows that would rank several inits: drawn, then unused with n_init=1.
        for _ in 0..init_size {
            rs.randint(0, n as i64);
        }
        let init_rows: Vec<usize> = if init_size < n {
            (0..init_size)
                .map(|_| rs.randint(0, n as i64) as usize)
                .collect()
        } else {
            (0..n).collect()
        };
        let init_centers = kmeans_plusplus(&data, &init_rows, k, &mut rs);

        let mut state = Steps::new(self, n, batch, init_centers.clone());
        // `sample_weight / sum(sample_weight)` in float32, widened to double by `choice`.
        let p = vec![f64::from(1.0f32 / n as f32); n];
        let n_steps = (self.max_iter * n) / batch;
        let mut steps_taken = 0;
        let mut batch_rows = vec![0f32; batch * dim];
        for step in 0..n_steps {
            let picked = rs.choice_with_p(&p, batch);
            for (dst, &row) in batch_rows.chunks_exact_mut(dim).zip(&picked) {
                dst.copy_from_slice(data.row(row));
            }
            let reassign = state.reassign_due();
            let batch_inertia = state.step(&batch_rows, reassign, &mut rs);
            steps_taken = step + 1;
            if state.converged(step, batch_inertia) {
                break;
            }
        }

        let centers = state.centers;
        let (labels, inertia) = assign(x, dim, &centers);
        KMeansFit {
            labels,
            centers,
            init_centers,
            inertia: f64::from(inertia),
            n_steps: steps_taken,
            n_iter: ((steps_taken * batch) as f64 / n as f64).ceil() as usize,
        }
    }

    /// sklearn's `_init_size` before capping at n.
    fn resolved_init_size(&self, batch: usize) -> usize {
        let k = self.n_clusters;
        match self.init_size {
            None if 3 * batch < k => 3 * k,
            None => 3 * batch,
            Some(size) if size < k => 3 * k,
            Some(size) => size,
        }
    }
}

/// Row access into a row-major matrix.
struct Rows<'a> {
    x: &'a [f32],
    dim: usize,
}

impl Rows<'_> {
    fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }
}

/// The mini-batch phase: centers, per-center counts and the early-stopping state.
struct Steps {
    k: usize,
    dim: usize,
    n: usize,
    batch: usize,
    reassignment_ratio: f64,
    max_no_improvement: Option<usize>,
    centers: Vec<f32>,
    /// Scratch for the next centers (sklearn's `centers_new`); swapped with `centers` per step.
    next: Vec<f32>,
    /// `_counts`: float32 sums of the (unit) weights each center has absorbed.
    counts: Vec<f32>,
    ewa_inertia: Option<f64>,
    ewa_inertia_min: Option<f64>,
    no_improvement: usize,
    n_since_last_reassign: usize,
}

impl Steps {
    fn new(cfg: &MiniBatchKMeans, n: usize, batch: usize, centers: Vec<f32>) -> Self {
        let k = cfg.n_clusters;
        Self {
            k,
            dim: centers.len() / k,
            n,
            batch,
            reassignment_ratio: cfg.reassignment_ratio,
            max_no_improvement: cfg.max_no_improvement,
            next: vec![0.0; centers.len()],
            centers,
            counts: vec![0.0; k],
            ewa_inertia: None,
            ewa_inertia_min: None,
            no_improvement: 0,
            n_since_last_reassign: 0,
        }
    }

    /// `_random_reassign`: every `10 k` rows seen, or while some center has count 0.
    fn reassign_due(&mut self) -> bool {
        self.n_since_last_reassign += self.batch;
        if self.counts.contains(&0.0) || self.n_since_last_reassign >= 10 * self.k {
            self.n_since_last_reassign = 0;
            return true;
        }
        false
    }

    /// `_mini_batch_step` on one batch (unit weights): assign, move the centers, maybe reassign
    /// starved centers. Returns the batch inertia under the centers before the move.
    fn step(&mut self, xb: &[f32], reassign: bool, rs: &mut RandomState) -> f32 {
        let (k, dim) = (self.k, self.dim);
        let (labels, inertia) = assign(xb, dim, &self.centers);

        // `_minibatch_update_dense`, cluster by cluster.
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (i, &l) in labels.iter().enumerate() {
            members[l].push(i);
        }
        let clusters = self
            .centers
            .chunks_exact(dim)
            .zip(self.next.chunks_exact_mut(dim))
            .zip(&mut self.counts)
            .zip(&members);
        for (((old, new), count), members) in clusters {
            if members.is_empty() {
                new.copy_from_slice(old);
                continue;
            }
            // Undo the mean (`old * count`), add the members, then divide by the new count.
            for (nv, &ov) in new.iter_mut().zip(old) {
                *nv = ov * *count;
            }
            let mut wsum = 0.0f32;
            for &i in members {
                for (nv, &xv) in new.iter_mut().zip(&xb[i * dim..(i + 1) * dim]) {
                    *nv += xv;
                }
                wsum += 1.0;
            }
            *count += wsum;
            let alpha = 1.0 / *count;
            for nv in new.iter_mut() {
                *nv *= alpha;
            }
        }

        if reassign && self.reassignment_ratio > 0.0 {
            self.reassign_starved(xb, rs);
        }
        std::mem::swap(&mut self.centers, &mut self.next);
        inertia
    }

    /// The low-count reassignment of `_mini_batch_step`, applied to the new centers.
    fn reassign_starved(&mut self, xb: &[f32], rs: &mut RandomState) {
        let dim = self.dim;
        let max = self
            .counts
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        // `reassignment_ratio * counts.max()`: a Python float times a float32 scalar is float32.
        let threshold = self.reassignment_ratio as f32 * max;
        let mut starved: Vec<bool> = self.counts.iter().map(|&c| c < threshold).collect();
        let limit = self.batch / 2;
        if starved.iter().filter(|&&s| s).count() as f64 > 0.5 * self.batch as f64 {
            // Keep only the `limit` smallest counts marked (numpy's argsort is not stable; ties
            // here go by center index, which only matters with more than batch/2 starved centers).
            let mut order: Vec<usize> = (0..self.k).collect();
            order.sort_by(|&a, &b| self.counts[a].total_cmp(&self.counts[b]));
            for &c in &order[limit..] {
                starved[c] = false;
            }
        }
        let n_reassign = starved.iter().filter(|&&s| s).count();
        if n_reassign > 0 {
            let rows = rs.permutation(self.batch);
            let targets = (0..self.k).filter(|&c| starved[c]);
            for (c, &row) in targets.zip(&rows[..n_reassign]) {
                self.next[c * dim..(c + 1) * dim].copy_from_slice(&xb[row * dim..(row + 1) * dim]);
            }
            let floor = (0..self.k)
                .filter(|&c| !starved[c])
                .map(|c| self.counts[c])
                .fold(f32::INFINITY, f32::min);
            for (count, _) in self.counts.iter_mut().zip(&starved).filter(|(_, &s)| s) {
                *count = floor;
            }
        }
    }

    /// `_mini_batch_convergence` with `tol = 0`: early stopping on the exponentially weighted
    /// average of the per-row batch inertia.
    fn converged(&mut self, step: usize, batch_inertia: f32) -> bool {
        let batch_inertia = f64::from(batch_inertia) / self.batch as f64;
        // The first step's inertia reflects the initialisation only.
        if step == 0 {
            return false;
        }
        let ewa = match self.ewa_inertia {
            None => batch_inertia,
            Some(ewa) => {
                let alpha = (self.batch as f64 * 2.0 / (self.n + 1) as f64).min(1.0);
                ewa * (1.0 - alpha) + batch_inertia * alpha
            }
        };
        self.ewa_inertia = Some(ewa);
        match self.ewa_inertia_min {
            Some(min) if ewa >= min => self.no_improvement += 1,
            _ => {
                self.no_improvement = 0;
                self.ewa_inertia_min = Some(ewa);
            }
        }
        matches!(self.max_no_improvement, Some(m) if self.no_improvement >= m)
    }
}

/// sklearn's greedy k-means++ (`_kmeans_plusplus`) on the rows `rows` of `data`, unit weights.
/// Returns the k centers, row-major.
fn kmeans_plusplus(data: &Rows, rows: &[usize], k: usize, rs: &mut RandomState) -> Vec<f32> {
    let dim = data.dim;
    let m = rows.len();
    let n_local_trials = 2 + (k as f64).ln().floor() as usize;
    // Squared norms of the float64-upcast rows, as `row_norms` (einsum) computes them.
    let norms: Vec<f64> = rows
        .iter()
        .map(|&r| einsum_sq_norm_f64(data.row(r)))
        .collect();
    let tiles = Tiles::new(rows.iter().map(|&r| data.row(r)), dim);
    // Squared distances from each candidate (an index into `rows`) to every row.
    let distances = |cands: &[usize]| -> Vec<Vec<f32>> {
        let wide: Vec<Vec<f64>> = cands
            .iter()
            .map(|&c| data.row(rows[c]).iter().map(|&v| f64::from(v)).collect())
            .collect();
        let dots = tiles.dots_f64(&wide);
        cands
            .iter()
            .zip(dots)
            .map(|(&c, dot)| {
                (0..m)
                    .map(|i| upcast_sq_dist(dot[i], norms[c], norms[i]))
                    .collect()
            })
            .collect()
    };

    let mut centers = Vec::with_capacity(k * dim);
    // First center: `choice(m, p=w / w.sum())` with float32 unit weights.
    let p = vec![f64::from(1.0f32 / m as f32); m];
    let first = rs.choice_with_p(&p, 1)[0];
    centers.extend_from_slice(data.row(rows[first]));
    let mut closest = distances(&[first]).pop().expect("one candidate");
    let mut current_pot = potential(&closest);

    let mut cumulative = vec![0f32; m];
    for _ in 1..k {
        let mut running = 0f32;
        for (c, &d) in cumulative.iter_mut().zip(&closest) {
            running += d;
            *c = running;
        }
        let candidates: Vec<usize> = (0..n_local_trials)
            .map(|_| {
                let target = rs.uniform(0.0, 1.0) * f64::from(current_pot);
                // `np.searchsorted(cumsum, target)` (side="left", compared in float64), clipped.
                cumulative
                    .partition_point(|&c| f64::from(c) < target)
                    .min(m - 1)
            })
            .collect();
        let mut best: Option<(f32, Vec<f32>, usize)> = None;
        for (&cand, mut d) in candidates.iter().zip(distances(&candidates)) {
            for (di, &ci) in d.iter_mut().zip(&closest) {
                *di = di.min(ci);
            }
            let pot = potential(&d);
            // `np.argmin`: the first of equal minima.
            if best.as_ref().is_none_or(|(b, _, _)| pot < *b) {
                best = Some((pot, d, cand));
            }
        }
        let (pot, d, cand) = best.expect("at least two local trials");
        current_pot = pot;
        closest = d;
        centers.extend_from_slice(data.row(rows[cand]));
    }
    centers
}

/// A float32 potential (sum of float32 squared distances), summed in float64 and rounded once.
/// sklearn uses BLAS `sdot` / `sgemv`, whose float32 accumulation order depends on the build.
fn potential(d: &[f32]) -> f32 {
    d.iter().map(|&v| f64::from(v)).sum::<f64>() as f32
}

/// `_euclidean_distances_upcast` for one pair from its float64 dot product (summed over the
/// features in order): `(-2 a·b + ‖a‖²) + ‖b‖²`, stored as float32 and clipped at 0.
fn upcast_sq_dist(dot: f64, a_norm: f64, b_norm: f64) -> f32 {
    let d = (-2.0 * dot + a_norm) + b_norm;
    (d as f32).max(0.0)
}

/// Labels (nearest center, first on ties) and the float32 inertia of the rows of `x`, as
/// `_labels_inertia` computes them: distances `‖c‖² − 2 x·c` for the assignment, then
/// `_inertia_dense`'s own squared distances summed in row order.
fn assign(x: &[f32], dim: usize, centers: &[f32]) -> (Vec<usize>, f32) {
    let k = centers.len() / dim;
    let center_norms: Vec<f32> = centers.chunks_exact(dim).map(einsum_sq_norm_f32).collect();
    let tiles = Tiles::new(centers.chunks_exact(dim), dim);
    let padded = tiles.padded_len();
    let mut labels = Vec::with_capacity(x.len() / dim);
    let mut inertia = 0f32;
    let mut dots = vec![0f32; ROW_BLOCK * padded];
    let mut rows = x.chunks_exact(dim).peekable();
    while rows.peek().is_some() {
        let block: Vec<&[f32]> = rows.by_ref().take(ROW_BLOCK).collect();
        match <[&[f32]; ROW_BLOCK]>::try_from(block.as_slice()) {
            Ok(full) => tiles.dots_f32(full, &mut dots),
            Err(_) => {
                for (r, row) in block.iter().enumerate() {
                    tiles.dots_f32([*row], &mut dots[r * padded..(r + 1) * padded]);
                }
            }
        }
        for (r, row) in block.iter().enumerate() {
            let dots = &dots[r * padded..r * padded + k];
            let mut label = 0;
            let mut min = dist_from_dot(center_norms[0], dots[0]);
            for j in 1..k {
                let d = dist_from_dot(center_norms[j], dots[j]);
                if d < min {
                    min = d;
                    label = j;
                }
            }
            labels.push(label);
            inertia += sq_dist_unrolled(row, &centers[label * dim..(label + 1) * dim]);
        }
    }
    (labels, inertia)
}

/// `‖c‖² + (−2)·(x·c)`, a BLAS kernel's `C = alpha·AB + C` update with `alpha = −2`, `C = ‖c‖²`
/// (the product by −2 is exact, so fused or not, one rounding).
fn dist_from_dot(center_norm: f32, dot: f32) -> f32 {
    center_norm + -2.0 * dot
}

/// Rows whose dot products are computed together, sharing each load of the tiles.
const ROW_BLOCK: usize = 4;
/// Lanes per tile: dot products with 16 rows of a [`Tiles`] advance together.
const TILE: usize = 16;

/// Rows of a matrix transposed tile by tile (`[tile][feature][lane]`, zero-padded to whole
/// tiles), so that the dot products of a vector with `TILE` rows run as `TILE` independent
/// lanes, each still one chain over the features in order. Only the speed depends on the
/// layout, not the results.
struct Tiles {
    data: Vec<f32>,
    dim: usize,
}

impl Tiles {
    fn new<'a>(rows: impl ExactSizeIterator<Item = &'a [f32]>, dim: usize) -> Self {
        let tiles = rows.len().div_ceil(TILE);
        let mut data = vec![0f32; tiles * dim * TILE];
        for (j, row) in rows.enumerate() {
            let (tile, lane) = (j / TILE, j % TILE);
            for (f, &v) in row.iter().enumerate() {
                data[(tile * dim + f) * TILE + lane] = v;
            }
        }
        Self { data, dim }
    }

    /// The number of rows rounded up to whole tiles.
    fn padded_len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// `out[r * padded_len + j] = xs[r] · row_j` in float32, each a fused multiply-add chain over
    /// the features in order (the accumulation of a single-accumulator BLAS kernel).
    fn dots_f32<const R: usize>(&self, xs: [&[f32]; R], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                unsafe { self.dots_f32_avx2(xs, out) };
                return;
            }
        }
        self.dots_f32_generic(xs, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dots_f32_avx2<const R: usize>(&self, xs: [&[f32]; R], out: &mut [f32]) {
        self.dots_f32_generic(xs, out);
    }

    /// Without hardware FMA `mul_add` is the C library's exact `fmaf`: slower, same result.
    #[inline(always)]
    fn dots_f32_generic<const R: usize>(&self, xs: [&[f32]; R], out: &mut [f32]) {
        let padded = self.padded_len();
        for (t, tile) in self.data.chunks_exact(self.dim * TILE).enumerate() {
            let mut acc = [[0f32; TILE]; R];
            for (f, lanes) in tile.chunks_exact(TILE).enumerate() {
                for (a, x) in acc.iter_mut().zip(&xs) {
                    let xv = x[f];
                    for (a, &v) in a.iter_mut().zip(lanes) {
                        *a = xv.mul_add(v, *a);
                    }
                }
            }
            for (r, a) in acc.iter().enumerate() {
                out[r * padded + t * TILE..r * padded + (t + 1) * TILE].copy_from_slice(a);
            }
        }
    }

    /// `out[c][j] = xs[c] · row_j` in float64 (rows widened from float32), summed over the
    /// features in order. Every product of two float32 values is exact in float64, so only that
    /// order matters.
    fn dots_f64(&self, xs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { self.dots_f64_avx2(xs) };
            }
        }
        self.dots_f64_generic(xs)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn dots_f64_avx2(&self, xs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        self.dots_f64_generic(xs)
    }

    #[inline(always)]
    fn dots_f64_generic(&self, xs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut out = vec![Vec::with_capacity(self.padded_len()); xs.len()];
        let mut acc = vec![[0f64; TILE]; xs.len()];
        for tile in self.data.chunks_exact(self.dim * TILE) {
            acc.iter_mut().for_each(|a| *a = [0.0; TILE]);
            for (f, lanes) in tile.chunks_exact(TILE).enumerate() {
                let lanes: [f64; TILE] = std::array::from_fn(|l| f64::from(lanes[l]));
                for (a, x) in acc.iter_mut().zip(xs) {
                    let xv = x[f];
                    for (a, &v) in a.iter_mut().zip(&lanes) {
                        *a += xv * v;
                    }
                }
            }
            for (o, a) in out.iter_mut().zip(&acc) {
                o.extend_from_slice(a);
            }
        }
        out
    }
}

/// `_euclidean_dense_dense(a, b, squared=True)` in float32: groups of four squared
/// differences added left to right, each group added to the running sum, then the tail.
fn sq_dist_unrolled(a: &[f32], b: &[f32]) -> f32 {
    let sq = |i: usize| {
        let t = a[i] - b[i];
        t * t
    };
    let groups = a.len() / 4;
    let mut result = 0f32;
    for g in 0..groups {
        let i = 4 * g;
        result += ((sq(i) + sq(i + 1)) + sq(i + 2)) + sq(i + 3);
    }
    for i in 4 * groups..a.len() {
        result += sq(i);
    }
    result
}

/// `np.einsum("ij,ij->i", x, x)` for one float32 row (sklearn's `row_norms(squared=True)`):
/// numpy's baseline SIMD loop with four float32 lanes, unrolled four times (the four vectors of
/// a 16-element block are folded in from last to first), a zero-padded tail vector, then the
/// lanes added pairwise ((l0 + l1) + (l2 + l3)) onto the zero-initialised output.
fn einsum_sq_norm_f32(x: &[f32]) -> f32 {
    let mut acc = [0f32; 4];
    let mut rest = x;
    while rest.len() >= 16 {
        for block in (0..4).rev() {
            for (lane, a) in acc.iter_mut().enumerate() {
                let v = rest[4 * block + lane];
                *a += v * v;
            }
        }
        rest = &rest[16..];
    }
    for chunk in rest.chunks(4) {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v * v;
        }
    }
    0.0 + ((acc[0] + acc[1]) + (acc[2] + acc[3]))
}

/// The float64 flavour of [`einsum_sq_norm_f32`] (two lanes, blocks of eight) on a float32 row
/// widened to double, as `_euclidean_distances_upcast` computes `row_norms` of its chunks.
fn einsum_sq_norm_f64(x: &[f32]) -> f64 {
    let mut acc = [0f64; 2];
    let mut rest = x;
    while rest.len() >= 8 {
        for block in (0..4).rev() {
            for (lane, a) in acc.iter_mut().enumerate() {
                let v = f64::from(rest[2 * block + lane]);
                *a += v * v;
            }
        }
        rest = &rest[8..];
    }
    for chunk in rest.chunks(2) {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            let v = f64::from(v);
            *a += v * v;
        }
    }
    0.0 + (acc[0] + acc[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::v_measure::v_measure;
    use serde_json::Value;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/learn/kmeans.json"
    );

    fn fixture() -> &'static Value {
        static CACHE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
        CACHE.get_or_init(|| {
            let text =
                std::fs::read_to_string(FIXTURE).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"))
        })
    }

    fn f32s(v: &Value) -> Vec<f32> {
        v.as_array()
            .expect("list")
            .iter()
            .map(|s| {
                s.as_str()
                    .expect("float32 string")
                    .parse::<f32>()
                    .expect("float32")
            })
            .collect()
    }

    fn f64_of(v: &Value) -> f64 {
        v.as_str()
            .expect("float string")
            .parse::<f64>()
            .expect("float64")
    }

    fn usizes(v: &Value) -> Vec<usize> {
        v.as_array()
            .expect("list")
            .iter()
            .map(|x| x.as_u64().expect("integer") as usize)
            .collect()
    }

    fn case(name: &str) -> &'static Value {
        fixture()["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no k-means fixture {name}"))
    }

    /// How one of our fits compares with sklearn's.
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Agreement {
        init_centers_equal: bool,
        steps: (usize, usize),
        label_mismatches: usize,
        max_center_diff: f32,
        inertia: (f64, f64),
        v_measure_vs_sklearn: f64,
    }

    fn compare(name: &str, batch_size: u64) -> Agreement {
        let c = case(name);
        let (n, d, k) = (
            c["n"].as_u64().unwrap() as usize,
            c["d"].as_u64().unwrap() as usize,
            c["k"].as_u64().unwrap() as usize,
        );
        let x = f32s(&c["x"]);
        let run = c["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["batch_size"].as_u64() == Some(batch_size))
            .unwrap_or_else(|| panic!("{name}: no run with batch {batch_size}"));
        let fit = MiniBatchKMeans::new(k, batch_size as usize, 42).fit(&x, n, d);
        let want_labels = usizes(&run["labels"]);
        let want_centers = f32s(&run["centers"]);
        let agreement = Agreement {
            init_centers_equal: fit.init_centers == f32s(&run["init_centers"]),
            steps: (fit.n_steps, run["n_steps"].as_u64().unwrap() as usize),
            label_mismatches: fit
                .labels
                .iter()
                .zip(&want_labels)
                .filter(|(a, b)| a != b)
                .count(),
            max_center_diff: fit
                .centers
                .iter()
                .zip(&want_centers)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max),
            inertia: (fit.inertia, f64_of(&run["inertia"])),
            v_measure_vs_sklearn: v_measure(&want_labels, &fit.labels),
        };
        eprintln!("{name} batch={batch_size}: {agreement:?}");
        if agreement.label_mismatches == 0 {
            // Same labels: the whole trajectory matched, so everything else must too.
            assert_eq!(
                fit.n_iter,
                run["n_iter"].as_u64().unwrap() as usize,
                "{name}: n_iter"
            );
        }
        agreement
    }

    /// Exact agreement: same k-means++ centers, same number of steps, same labels, centers
    /// equal to the last bit and the same float32 inertia.
    fn assert_exact(name: &str, batch_size: u64) {
        let a = compare(name, batch_size);
        assert!(
            a.init_centers_equal,
            "{name} batch={batch_size}: k-means++ centers differ: {a:?}"
        );
        assert_eq!(
            a.steps.0, a.steps.1,
            "{name} batch={batch_size}: steps {a:?}"
        );
        assert_eq!(
            a.label_mismatches, 0,
            "{name} batch={batch_size}: labels {a:?}"
        );
        assert_eq!(
            a.max_center_diff, 0.0,
            "{name} batch={batch_size}: centers {a:?}"
        );
        assert_eq!(
            a.inertia.0.to_bits(),
            a.inertia.1.to_bits(),
            "{name} batch={batch_size}: {a:?}"
        );
    }

    macro_rules! exact_case {
        ($test:ident, $name:expr, $batch:expr) => {
            #[test]
            fn $test() {
                assert_exact($name, $batch);
            }
        };
    }

    exact_case!(n40_d4_k2_batch512, "n40_d4_k2", 512);
    exact_case!(n40_d4_k2_batch500, "n40_d4_k2", 500);
    exact_case!(n40_d8_k5_batch512, "n40_d8_k5", 512);
    exact_case!(n40_d8_k5_batch500, "n40_d8_k5", 500);
    exact_case!(n700_d16_k5_batch512, "n700_d16_k5", 512);
    exact_case!(n700_d16_k5_batch500, "n700_d16_k5", 500);
    exact_case!(n700_d8_k17_batch512, "n700_d8_k17", 512);
    exact_case!(n700_d8_k17_batch500, "n700_d8_k17", 500);
    exact_case!(n2000_d4_k2_batch512, "n2000_d4_k2", 512);
    exact_case!(n2000_d4_k2_batch500, "n2000_d4_k2", 500);
    exact_case!(n2000_d32_k17_batch512, "n2000_d32_k17", 512);
    exact_case!(n2000_d32_k17_batch500, "n2000_d32_k17", 500);
    exact_case!(n2000_d12_k5_overlap_batch512, "n2000_d12_k5_overlap", 512);
    exact_case!(n2000_d12_k5_overlap_batch500, "n2000_d12_k5_overlap", 500);
    exact_case!(
        n1200_unit_imbalanced_batch512,
        "n1200_d24_k17_unit_imbalanced",
        512
    );
    exact_case!(
        n1200_unit_imbalanced_batch500,
        "n1200_d24_k17_unit_imbalanced",
        500
    );

    /// A C-order little-endian float32 `.npy` file: (rows, cols, data).
    fn read_npy_f32(path: &str) -> (usize, usize, Vec<f32>) {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(&bytes[..6], b"\x93NUMPY", "{path}: not a .npy file");
        assert_eq!(bytes[6], 1, "{path}: expected .npy format version 1");
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(
            header.contains("'<f4'") && header.contains("'fortran_order': False"),
            "{header}"
        );
        let shape = header
            .split("'shape': (")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap();
        let dims: Vec<usize> = shape
            .split(',')
            .filter_map(|v| v.trim().parse().ok())
            .collect();
        let data: Vec<f32> = bytes[10 + header_len..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(data.len(), dims[0] * dims[1], "{path}: data length");
        (dims[0], dims[1], data)
    }

    /// MTEB-shaped fits: 16,384 rows drawn with replacement from real all-MiniLM-L6-v2 vectors
    /// (MTEB v2's bootstrap draw, Python's `random.Random(42).choices`), k = 10 and 30, against
    /// sklearn's labels, step count and inertia. Exact on the machine that wrote the fixture.
    #[test]
    fn mteb_bootstrap_on_minilm_embeddings_matches_sklearn() {
        use crate::rng::python_random::PyRandom;
        let fx = &fixture()["mteb_bootstrap"];
        let path = format!(
            "{}/{}",
            env!("CARGO_MANIFEST_DIR"),
            fx["embeddings"].as_str().unwrap()
        );
        let (rows, dim, emb) = read_npy_f32(&path);
        let mut draws = PyRandom::new(42);
        for run in fx["runs"].as_array().unwrap() {
            let k = run["k"].as_u64().unwrap() as usize;
            let idx = draws.choices(rows, 16_384);
            let x: Vec<f32> = idx
                .iter()
                .flat_map(|&i| emb[i * dim..(i + 1) * dim].to_vec())
                .collect();
            let fit = MiniBatchKMeans::mteb(k).fit(&x, idx.len(), dim);
            let want = usizes(&run["labels"]);
            let mismatches = fit.labels.iter().zip(&want).filter(|(a, b)| a != b).count();
            eprintln!(
                "minilm bootstrap k={k}: steps {} vs {}, {mismatches} label mismatches, v vs sklearn {}",
                fit.n_steps,
                run["n_steps"],
                v_measure(&want, &fit.labels)
            );
            assert_eq!(mismatches, 0, "k={k}: labels");
            assert_eq!(
                fit.n_steps,
                run["n_steps"].as_u64().unwrap() as usize,
                "k={k}: steps"
            );
            assert_eq!(
                fit.n_iter,
                run["n_iter"].as_u64().unwrap() as usize,
                "k={k}: n_iter"
            );
            assert_eq!(
                fit.inertia.to_bits(),
                f64_of(&run["inertia"]).to_bits(),
                "k={k}: inertia"
            );
        }
    }

    #[test]
    fn dot_kernels_agree_with_and_without_simd() {
        // The SIMD path must give the scalar path's bits (mul_add is exact either way).
        let dim = 37;
        let rows: Vec<f32> = (0..23 * dim)
            .map(|i| ((i * 7919) % 1013) as f32 / 97.0 - 5.0)
            .collect();
        let tiles = Tiles::new(rows.chunks_exact(dim), dim);
        let x: Vec<f32> = (0..4 * dim)
            .map(|i| ((i * 31) % 101) as f32 / 13.0 - 3.7)
            .collect();
        let xs: [&[f32]; 4] = std::array::from_fn(|r| &x[r * dim..(r + 1) * dim]);
        let padded = tiles.padded_len();
        let (mut fast, mut slow) = (vec![0f32; 4 * padded], vec![0f32; 4 * padded]);
        tiles.dots_f32(xs, &mut fast);
        tiles.dots_f32_generic(xs, &mut slow);
        assert_eq!(fast, slow);
        for (r, xr) in xs.iter().enumerate() {
            for j in 0..23 {
                let chain = xr
                    .iter()
                    .zip(&rows[j * dim..(j + 1) * dim])
                    .fold(0f32, |acc, (&a, &b)| a.mul_add(b, acc));
                assert_eq!(fast[r * padded + j].to_bits(), chain.to_bits());
            }
        }
        let wide: Vec<Vec<f64>> = xs
            .iter()
            .map(|r| r.iter().map(|&v| f64::from(v)).collect())
            .collect();
        assert_eq!(tiles.dots_f64(&wide), tiles.dots_f64_generic(&wide));
    }

    // --- RandomState methods, against draws from numpy ---------------------------------------

    fn rng_case(key: &str) -> &'static Value {
        &fixture()["rng"][key]
    }

    #[test]
    fn random_sample_matches_numpy() {
        let c = rng_case("random_sample");
        let mut rs = RandomState::new(42);
        for want in c["values"].as_array().unwrap() {
            assert_eq!(rs.random_sample().to_bits(), f64_of(want).to_bits());
        }
        assert_eq!(
            u64::from(rs.next_u32()),
            c["next_u32_after"].as_u64().unwrap()
        );
        let mut rs = RandomState::new(42);
        for want in rng_case("uniform")["values"].as_array().unwrap() {
            assert_eq!(rs.uniform(0.0, 1.0).to_bits(), f64_of(want).to_bits());
        }
    }

    #[test]
    fn randint_matches_numpy() {
        let c = rng_case("randint");
        let mut rs = RandomState::new(42);
        let got: Vec<usize> = (0..20).map(|_| rs.randint(0, 1536) as usize).collect();
        assert_eq!(got, usizes(&c["values"]));
        let got: Vec<usize> = (0..10).map(|_| rs.randint(3, 2000) as usize).collect();
        assert_eq!(got, usizes(&c["values_3_2000"]));
    }

    #[test]
    fn permutation_and_choice_match_numpy() {
        let c = rng_case("permutation");
        let mut rs = RandomState::new(42);
        let perm = rs.permutation(c["n"].as_u64().unwrap() as usize);
        let want = usizes(&c["prefix"]);
        assert_eq!(&perm[..want.len()], &want[..]);
        assert_eq!(
            rs.random_sample().to_bits(),
            f64_of(&c["random_sample_after"]).to_bits()
        );

        let mut rs = RandomState::new(42);
        let p = vec![f64::from(1.0f32 / 7.0); 7];
        assert_eq!(
            rs.choice_with_p(&p, 30),
            usizes(&rng_case("choice_p")["values"])
        );

        let mut rs = RandomState::new(42);
        assert_eq!(
            rs.permutation(512)[..6],
            usizes(&rng_case("choice_no_replace")["values"])[..]
        );
    }

    // --- invariants that need no fixture -----------------------------------------------------

    #[test]
    fn fit_is_deterministic_and_labels_are_nearest_centers() {
        let c = case("n700_d8_k17");
        let x = f32s(&c["x"]);
        let model = MiniBatchKMeans::mteb(17);
        let a = model.fit(&x, 700, 8);
        assert_eq!(a, model.fit(&x, 700, 8));
        assert_eq!(a.labels, model.fit_predict(&x, 700, 8));
        assert!(a.labels.iter().all(|&l| l < 17));
        // Every label is the nearest center in exact arithmetic too, up to float32 near-ties.
        for (row, &l) in x.chunks_exact(8).zip(&a.labels) {
            let d = |j: usize| -> f64 {
                row.iter()
                    .zip(&a.centers[j * 8..(j + 1) * 8])
                    .map(|(&u, &v)| (f64::from(u) - f64::from(v)).powi(2))
                    .sum()
            };
            let best = (0..17).map(d).fold(f64::INFINITY, f64::min);
            assert!(
                d(l) <= best + 1e-4 * (1.0 + best),
                "row not at its nearest center"
            );
        }
    }

    #[test]
    fn tiny_inputs_match_sklearn() {
        // Labels, steps and inertia from sklearn 1.9.1 (MiniBatchKMeans(n_clusters=k,
        // batch_size=512, n_init=1, random_state=42).fit(x), one thread) on these 7 points.
        // With k = n two k-means++ centers can share a point, so one cluster stays empty (label 3
        // here), in sklearn as here.
        let x = [0., 0., 1., 0., 0., 1., 5., 5., 5., 6., 6., 5., 0.5, 0.5];
        let expected: [(usize, [usize; 7], usize, f32); 3] = [
            (1, [0, 0, 0, 0, 0, 0, 0], 18, 87.875_22),
            (3, [0, 0, 2, 1, 1, 1, 0], 28, 2.001_18),
            (7, [2, 0, 6, 1, 4, 5, 0], 17, 0.272_096_43),
        ];
        for (k, labels, steps, inertia) in expected {
            let fit = MiniBatchKMeans::mteb(k).fit(&x, 7, 2);
            assert_eq!(fit.labels, labels, "k={k}");
            assert_eq!(fit.n_steps, steps, "k={k}");
            assert_eq!(fit.inertia as f32, inertia, "k={k}");
        }
    }

    #[test]
    #[should_panic(expected = "should be >= n_clusters")]
    fn fewer_rows_than_clusters_panics() {
        MiniBatchKMeans::mteb(5).fit(&[0.0; 8], 4, 2);
    }

    #[test]
    fn init_size_follows_sklearn() {
        let m = MiniBatchKMeans::mteb(17);
        assert_eq!(m.resolved_init_size(512), 1536);
        assert_eq!(MiniBatchKMeans::mteb(600).resolved_init_size(100), 1800);
        let mut m = MiniBatchKMeans::mteb(10);
        m.init_size = Some(5);
        assert_eq!(m.resolved_init_size(512), 30);
    }

    #[test]
    fn einsum_norm_orders() {
        // 16 + 3 values: one unrolled block, then a zero-padded tail vector.
        let x: Vec<f32> = (0..19).map(|i| 1.0 + i as f32 * 1e-3).collect();
        let mut acc = [0f32; 4];
        for block in (0..4).rev() {
            for l in 0..4 {
                acc[l] += x[4 * block + l] * x[4 * block + l];
            }
        }
        for l in 0..3 {
            acc[l] += x[16 + l] * x[16 + l];
        }
        assert_eq!(
            einsum_sq_norm_f32(&x),
            (acc[0] + acc[1]) + (acc[2] + acc[3])
        );
        assert_eq!(einsum_sq_norm_f32(&[3.0, 4.0]), 25.0);
        assert_eq!(einsum_sq_norm_f64(&[3.0, 4.0, 12.0]), 169.0);
    }
}
