//! L-BFGS-B on unbounded problems, following the path SciPy's `minimize(method="L-BFGS-B")`
//! takes when no bounds are given.
//!
//! MTEB's logistic regression is fitted by scikit-learn through SciPy's L-BFGS-B, so the
//! scores it reports depend on where that solver stops, not only on the optimum. To reproduce
//! them this module keeps the solver's structure rather than a textbook L-BFGS:
//!
//! * the search direction comes from the compact representation of the limited-memory matrix
//!   (Byrd, Nocedal & Schnabel 1994): a Cauchy step `-g` while the memory is empty, otherwise
//!   the subspace minimiser obtained from the factorised middle matrix `K`;
//! * the first line search starts at `1/‖d‖`, later ones at 1, and trial points at step 1 are the
//!   subspace minimiser itself rather than `x + d`;
//! * the line search is Moré–Thuente's `dcsrch` with `ftol=1e-3`, `gtol=0.9`, `xtol=0.1`,
//!   `stpmax=1e10`, at most `max_line_search` evaluations per iteration;
//! * an update is skipped when the curvature `sᵀy ≤ ε·(−gᵀs)`; a failed factorisation or line
//!   search empties the memory and restarts from the Cauchy step (a line-search failure with an
//!   empty memory ends the run);
//! * the stopping tests are checked after the iteration limit, in SciPy's order:
//!   `‖g‖∞ ≤ pgtol`, then `(f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol`.
//!
//! Results agree with SciPy to rounding: SciPy uses BLAS/LAPACK kernels whose summation order
//! is not reproducible here, so trajectories drift apart by a few ulps per iteration.

/// Machine epsilon of f64, as L-BFGS-B uses it in its curvature and reduction tests.
const EPS: f64 = f64::EPSILON;
/// Upper bound on the line-search step for unbounded problems.
const STEP_MAX: f64 = 1e10;
/// Sufficient-decrease, curvature and interval-width parameters of the line search.
const LS_FTOL: f64 = 1e-3;
const LS_GTOL: f64 = 0.9;
const LS_XTOL: f64 = 0.1;

/// Options, named after SciPy's `minimize(method="L-BFGS-B")` options.
#[derive(Debug, Clone, PartialEq)]
pub struct LbfgsOptions {
    /// Number of correction pairs kept (`maxcor`).
    pub memory: usize,
    /// Iteration limit (`maxiter`); checked after each completed iteration.
    pub max_iter: usize,
    /// Function evaluations allowed in one line search (`maxls`).
    pub max_line_search: usize,
    /// Stop when the largest gradient component is at most this (`gtol`).
    pub gtol: f64,
    /// Stop when the relative decrease of `f` is at most this (`ftol`).
    pub ftol: f64,
}

impl Default for LbfgsOptions {
    /// SciPy's defaults.
    fn default() -> Self {
        Self {
            memory: 10,
            max_iter: 15_000,
            max_line_search: 20,
            gtol: 1e-5,
            ftol: 2.220446049250313e-9,
        }
    }
}

/// Why the minimisation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// `‖g‖∞ ≤ gtol`.
    Gradient,
    /// The relative decrease of `f` fell below `ftol`.
    RelativeReduction,
    /// `max_iter` iterations were completed first.
    MaxIterations,
    /// The line search failed with an empty memory (SciPy's "ABNORMAL").
    LineSearchFailed,
}

/// Result of [`minimize`].
#[derive(Debug, Clone)]
pub struct LbfgsOutcome {
    pub x: Vec<f64>,
    pub f: f64,
    pub grad: Vec<f64>,
    /// Completed iterations (SciPy's `nit`).
    pub n_iter: usize,
    /// Objective evaluations (SciPy's `nfev`).
    pub n_eval: usize,
    pub termination: Termination,
}

impl LbfgsOutcome {
    /// True when a tolerance was met, i.e. SciPy would report `success=True`.
    pub fn converged(&self) -> bool {
        matches!(
            self.termination,
            Termination::Gradient | Termination::RelativeReduction
        )
    }
}

/// Minimises `objective` from `x0`. The closure writes the gradient into its second argument
/// and returns the function value.
pub fn minimize<F>(mut objective: F, x0: Vec<f64>, options: &LbfgsOptions) -> LbfgsOutcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut f = objective(&x, &mut g);
    let mut n_eval = 1;
    // SciPy passes factr = ftol/eps and the code tests against factr*eps; keep both roundings.
    let rel_tol = (options.ftol / EPS) * EPS;
    let finish = |x: Vec<f64>, f: f64, grad: Vec<f64>, n_iter, n_eval, termination| LbfgsOutcome {
        x,
        f,
        grad,
        n_iter,
        n_eval,
        termination,
    };

    if grad_inf_norm(&g) <= options.gtol {
        return finish(x, f, g, 0, n_eval, Termination::Gradient);
    }
    let mut memory = CompactMemory::new(n, options.memory.max(1));
    let mut n_iter = 0;
    loop {
        let z = match memory.trial_point(&x, &g) {
            Some(z) => z,
            None => {
                memory.reset();
                continue;
            }
        };
        // The direction is the difference of the trial point and x, as in L-BFGS-B, not the raw
        // subspace step: the rounding of z - x is part of the reference trajectory.
        let mut d: Vec<f64> = z.iter().zip(&x).map(|(zi, xi)| zi - xi).collect();
        let start = LineStart {
            f,
            g: g.clone(),
            x: x.clone(),
        };
        let (accepted, evals) = line_search(
            &mut objective,
            &start,
            &mut x,
            &mut f,
            &mut g,
            &d,
            &z,
            n_iter == 0,
            options.max_line_search,
        );
        n_eval += evals;
        let Some(Accepted { step, gd, gd0, dtd }) = accepted else {
            x = start.x;
            g = start.g;
            f = start.f;
            if memory.is_empty() {
                return finish(x, f, g, n_iter, n_eval, Termination::LineSearchFailed);
            }
            memory.reset();
            continue;
        };
        n_iter += 1;
        if n_iter >= options.max_iter {
            return finish(x, f, g, n_iter, n_eval, Termination::MaxIterations);
        }
        if grad_inf_norm(&g) <= options.gtol {
            return finish(x, f, g, n_iter, n_eval, Termination::Gradient);
        }
        let scale = start.f.abs().max(f.abs()).max(1.0);
        if start.f - f <= rel_tol * scale {
            return finish(x, f, g, n_iter, n_eval, Termination::RelativeReduction);
        }
        let y: Vec<f64> = g.iter().zip(&start.g).map(|(gi, g0)| gi - g0).collect();
        let yy = l2_norm(&y).powi(2);
        // sᵀy from the directional derivatives, s = step·d (d is rescaled only when step ≠ 1).
        let (sy, descent) = if step == 1.0 {
            (gd - gd0, -gd0)
        } else {
            d.iter_mut().for_each(|v| *v *= step);
            ((gd - gd0) * step, -gd0 * step)
        };
        if sy <= EPS * descent {
            // Too little curvature for a positive-definite update: keep the matrix as it is.
            continue;
        }
        let ss = if step == 1.0 { dtd } else { step * step * dtd };
        if memory.push(&d, &y, yy, sy, ss).is_none() {
            memory.reset();
        }
    }
}

/// Iterate, value and gradient at the start of a line search, restored if it fails.
struct LineStart {
    f: f64,
    g: Vec<f64>,
    x: Vec<f64>,
}

/// The step a line search accepted, with what the curvature update needs.
struct Accepted {
    step: f64,
    /// gᵀd at the accepted step and at step 0.
    gd: f64,
    gd0: f64,
    /// ‖d‖².
    dtd: f64,
}

/// L-BFGS-B's `lnsrlb` for unbounded variables: drives [`MoreThuente`] from `start` along `d`,
/// leaving `x`, `f` and `g` at the last point evaluated. Returns the accepted step, or `None`
/// when `d` is not a descent direction or `max_evals` evaluations did not suffice, together
/// with the number of evaluations made.
#[allow(clippy::too_many_arguments)]
fn line_search<F>(
    objective: &mut F,
    start: &LineStart,
    x: &mut [f64],
    f: &mut f64,
    g: &mut [f64],
    d: &[f64],
    z: &[f64],
    first_iteration: bool,
    max_evals: usize,
) -> (Option<Accepted>, usize)
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let dnorm = l2_norm(d);
    let dtd = dnorm * dnorm;
    // The first direction is the raw negative gradient: scale it to unit length.
    let mut step = if first_iteration {
        (1.0 / dnorm).min(STEP_MAX)
    } else {
        1.0
    };
    let gd0 = dot(&start.g, d);
    if gd0 >= 0.0 {
        return (None, 0);
    }
    let mut search = MoreThuente::new(start.f, gd0, step, 0.0, STEP_MAX);
    let mut gd = gd0;
    let mut n_eval = 0;
    loop {
        if n_eval > 0 && search.next(*f, gd, &mut step) != Search::Evaluate {
            return (Some(Accepted { step, gd, gd0, dtd }), n_eval);
        }
        if n_eval >= max_evals {
            return (None, n_eval);
        }
        // At step 1 the trial is the model minimiser itself, not x + d rounded again.
        if step == 1.0 {
            x.copy_from_slice(z);
        } else {
            for ((xi, di), x0i) in x.iter_mut().zip(d).zip(&start.x) {
                *xi = step * di + x0i;
            }
        }
        *f = objective(x, g);
        n_eval += 1;
        gd = dot(g, d);
    }
}

/// What the line search asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Search {
    /// Evaluate the objective at the updated step.
    Evaluate,
    /// The strong Wolfe conditions hold: accept the step.
    Converged,
    /// No further progress is possible (rounding, interval too small, or a step bound hit):
    /// L-BFGS-B accepts the step all the same.
    Warning,
}

/// Moré & Thuente's line search (MINPACK-2 `dcsrch`), as modified in L-BFGS-B 3.0: it keeps the
/// interval of uncertainty `[stx, sty]` and chooses trial steps with [`safeguarded_step`].
struct MoreThuente {
    bracketed: bool,
    stage_one: bool,
    f_init: f64,
    g_init: f64,
    g_test: f64,
    stx: f64,
    fx: f64,
    gx: f64,
    sty: f64,
    fy: f64,
    gy: f64,
    step_min: f64,
    step_max: f64,
    lo: f64,
    hi: f64,
    width: f64,
    width_prev: f64,
}

/// Extrapolation bounds for the trial step before the minimiser is bracketed.
const XTRAP_LOWER: f64 = 1.1;
const XTRAP_UPPER: f64 = 4.0;

impl MoreThuente {
    /// Starts a search at `step` from value `f` and (negative) slope `g`.
    fn new(f: f64, g: f64, step: f64, step_min: f64, step_max: f64) -> Self {
        let width = step_max - step_min;
        Self {
            bracketed: false,
            stage_one: true,
            f_init: f,
            g_init: g,
            g_test: LS_FTOL * g,
            stx: 0.0,
            fx: f,
            gx: g,
            sty: 0.0,
            fy: f,
            gy: g,
            step_min,
            step_max,
            lo: 0.0,
            hi: step + XTRAP_UPPER * step,
            width,
            width_prev: width / 0.5,
        }
    }

    /// Takes `f` and slope `g` at `step`, and either accepts it or moves `step` to a new trial.
    fn next(&mut self, f: f64, g: f64, step: &mut f64) -> Search {
        let stp = *step;
        let f_test = self.f_init + stp * self.g_test;
        if self.stage_one && f <= f_test && g >= 0.0 {
            self.stage_one = false;
        }
        let mut status = Search::Evaluate;
        if self.bracketed && (stp <= self.lo || stp >= self.hi) {
            status = Search::Warning;
        }
        if self.bracketed && self.hi - self.lo <= LS_XTOL * self.hi {
            status = Search::Warning;
        }
        if stp == self.step_max && f <= f_test && g <= self.g_test {
            status = Search::Warning;
        }
        if stp == self.step_min && (f > f_test || g >= self.g_test) {
            status = Search::Warning;
        }
        if f <= f_test && g.abs() <= LS_GTOL * (-self.g_init) {
            status = Search::Converged;
        }
        if status != Search::Evaluate {
            return status;
        }

        let mut trial = stp;
        if self.stage_one && f <= self.fx && f > f_test {
            // A lower value that still fails sufficient decrease: step on the modified function
            // ψ(α) = f(α) − f(0) − α·ftol·f'(0), which keeps the iterates in the Armijo region.
            let gt = self.g_test;
            let mut lower = Endpoint {
                step: self.stx,
                f: self.fx - self.stx * gt,
                g: self.gx - gt,
            };
            let mut upper = Endpoint {
                step: self.sty,
                f: self.fy - self.sty * gt,
                g: self.gy - gt,
            };
            let current = Endpoint {
                step: stp,
                f: f - stp * gt,
                g: g - gt,
            };
            safeguarded_step(
                &mut lower,
                &mut upper,
                &mut trial,
                current,
                &mut self.bracketed,
                self.lo,
                self.hi,
            );
            self.set_interval(
                lower.step,
                lower.f + lower.step * gt,
                lower.g + gt,
                upper,
                gt,
            );
        } else {
            let mut lower = Endpoint {
                step: self.stx,
                f: self.fx,
                g: self.gx,
            };
            let mut upper = Endpoint {
                step: self.sty,
                f: self.fy,
                g: self.gy,
            };
            let current = Endpoint { step: stp, f, g };
            safeguarded_step(
                &mut lower,
                &mut upper,
                &mut trial,
                current,
                &mut self.bracketed,
                self.lo,
                self.hi,
            );
            self.set_interval(lower.step, lower.f, lower.g, upper, 0.0);
        }

        if self.bracketed {
            // Force sufficient shrinkage of the interval: bisect if it did not halve twice.
            if (self.sty - self.stx).abs() >= 0.66 * self.width_prev {
                trial = self.stx + 0.5 * (self.sty - self.stx);
            }
            self.width_prev = self.width;
            self.width = (self.sty - self.stx).abs();
            self.lo = self.stx.min(self.sty);
            self.hi = self.stx.max(self.sty);
        } else {
            self.lo = trial + XTRAP_LOWER * (trial - self.stx);
            self.hi = trial + XTRAP_UPPER * (trial - self.stx);
        }
        trial = trial.max(self.step_min).min(self.step_max);
        // Out of the interval, or the interval is too small: fall back to the best step.
        if self.bracketed
            && (trial <= self.lo || trial >= self.hi || self.hi - self.lo <= LS_XTOL * self.hi)
        {
            trial = self.stx;
        }
        *step = trial;
        Search::Evaluate
    }

    /// Stores the updated interval; `shift` undoes the ψ transform on the upper end.
    fn set_interval(&mut self, stx: f64, fx: f64, gx: f64, upper: Endpoint, shift: f64) {
        self.stx = stx;
        self.fx = fx;
        self.gx = gx;
        self.sty = upper.step;
        self.fy = upper.f + upper.step * shift;
        self.gy = upper.g + shift;
    }
}

/// A step with its function value and slope.
#[derive(Debug, Clone, Copy)]
struct Endpoint {
    step: f64,
    f: f64,
    g: f64,
}

/// MINPACK-2 `dcstep`: the safeguarded cubic/quadratic step of Moré–Thuente. `best` is the
/// endpoint with the lowest value so far, `other` the opposite end of the interval, `current`
/// the point just evaluated at `*step`; on return `*step` is the next trial and the endpoints
/// are updated.
fn safeguarded_step(
    best: &mut Endpoint,
    other: &mut Endpoint,
    step: &mut f64,
    current: Endpoint,
    bracketed: &mut bool,
    step_min: f64,
    step_max: f64,
) {
    let (stx, fx, dx) = (best.step, best.f, best.g);
    let (sty, fy, dy) = (other.step, other.f, other.g);
    let (stp, fp, dp) = (*step, current.f, current.g);
    let sgnd = dp * (dx / dx.abs());

    let stpf = if fp > fx {
        // Higher value: the minimiser is bracketed. Take the cubic step if it is closer to stx,
        // else the average of the cubic and quadratic steps.
        let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        let s = theta.abs().max(dx.abs()).max(dp.abs());
        let mut gamma = s * ((theta / s).powi(2) - (dx / s) * (dp / s)).sqrt();
        if stp < stx {
            gamma = -gamma;
        }
        let p = (gamma - dx) + theta;
        let q = ((gamma - dx) + gamma) + dp;
        let stpc = stx + (p / q) * (stp - stx);
        let stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
        *bracketed = true;
        if (stpc - stx).abs() < (stpq - stx).abs() {
            stpc
        } else {
            stpc + (stpq - stpc) / 2.0
        }
    } else if sgnd < 0.0 {
        // Slopes of opposite sign: bracketed. Take the step farther from stp.
        let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        let s = theta.abs().max(dx.abs()).max(dp.abs());
        let mut gamma = s * ((theta / s).powi(2) - (dx / s) * (dp / s)).sqrt();
        if stp > stx {
            gamma = -gamma;
        }
        let p = (gamma - dp) + theta;
        let q = ((gamma - dp) + gamma) + dx;
        let stpc = stp + (p / q) * (stx - stp);
        let stpq = stp + (dp / (dp - dx)) * (stx - stp);
        *bracketed = true;
        if (stpc - stp).abs() > (stpq - stp).abs() {
            stpc
        } else {
            stpq
        }
    } else if dp.abs() < dx.abs() {
        // Same sign, decreasing magnitude: the cubic step is used only if it goes the right way.
        let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        let s = theta.abs().max(dx.abs()).max(dp.abs());
        let mut gamma = s * (0.0f64.max((theta / s).powi(2) - (dx / s) * (dp / s))).sqrt();
        if stp > stx {
            gamma = -gamma;
        }
        let p = (gamma - dp) + theta;
        let q = (gamma + (dx - dp)) + gamma;
        let r = p / q;
        let stpc = if r < 0.0 && gamma != 0.0 {
            stp + r * (stx - stp)
        } else if stp > stx {
            step_max
        } else {
            step_min
        };
        let stpq = stp + (dp / (dp - dx)) * (stx - stp);
        if *bracketed {
            let pick = if (stpc - stp).abs() < (stpq - stp).abs() {
                stpc
            } else {
                stpq
            };
            if stp > stx {
                (stp + 0.66 * (sty - stp)).min(pick)
            } else {
                (stp + 0.66 * (sty - stp)).max(pick)
            }
        } else {
            let pick = if (stpc - stp).abs() > (stpq - stp).abs() {
                stpc
            } else {
                stpq
            };
            pick.min(step_max).max(step_min)
        }
    } else if *bracketed {
        // Same sign, no decrease in magnitude: cubic step towards the other end of the bracket.
        let theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
        let s = theta.abs().max(dy.abs()).max(dp.abs());
        let mut gamma = s * ((theta / s).powi(2) - (dy / s) * (dp / s)).sqrt();
        if stp > sty {
            gamma = -gamma;
        }
        let p = (gamma - dp) + theta;
        let q = ((gamma - dp) + gamma) + dy;
        stp + (p / q) * (sty - stp)
    } else if stp > stx {
        step_max
    } else {
        step_min
    };

    if fp > fx {
        *other = current;
    } else {
        if sgnd < 0.0 {
            *other = *best;
        }
        *best = current;
    }
    *step = stpf;
}

/// The limited-memory BFGS matrix in compact form, `B = θI − W M Wᵀ` with `W = [Y θS]`,
/// restricted to the case where every variable is free (no bounds).
///
/// Matrices are indexed by correction number, oldest first; the vectors themselves live in a
/// ring buffer of `m` slots starting at `head`.
struct CompactMemory {
    n: usize,
    m: usize,
    s: Vec<f64>,
    y: Vec<f64>,
    head: usize,
    len: usize,
    theta: f64,
    /// `sy[i][j] = sᵢᵀyⱼ` for `j ≤ i` (the diagonal holds the curvatures from the line search).
    sy: Vec<f64>,
    /// `ss[i][j] = sᵢᵀsⱼ` for `i ≤ j`.
    ss: Vec<f64>,
    /// `yy[i][j] = yᵢᵀyⱼ` for `j ≤ i`.
    yy: Vec<f64>,
    /// `sy_upper[i][j] = sᵢᵀyⱼ` for `i ≤ j`, computed as inner products.
    sy_upper: Vec<f64>,
    /// Upper-triangular factor of the `2·len` middle matrix `K`, row-major with stride `2m`.
    k_factor: Vec<f64>,
}

impl CompactMemory {
    fn new(n: usize, m: usize) -> Self {
        Self {
            n,
            m,
            s: vec![0.0; m * n],
            y: vec![0.0; m * n],
            head: 0,
            len: 0,
            theta: 1.0,
            sy: vec![0.0; m * m],
            ss: vec![0.0; m * m],
            yy: vec![0.0; m * m],
            sy_upper: vec![0.0; m * m],
            k_factor: vec![0.0; 4 * m * m],
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets all corrections: the next direction is the steepest-descent (Cauchy) step.
    fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.theta = 1.0;
    }

    fn s_vec(&self, i: usize) -> &[f64] {
        let slot = (self.head + i) % self.m;
        &self.s[slot * self.n..(slot + 1) * self.n]
    }

    fn y_vec(&self, i: usize) -> &[f64] {
        let slot = (self.head + i) % self.m;
        &self.y[slot * self.n..(slot + 1) * self.n]
    }

    /// Adds the pair `(s, y)` with `yᵀy`, `sᵀy` and `sᵀs` as the line search measured them, then
    /// refactorises. `None` when a factorisation is not positive definite.
    fn push(&mut self, s: &[f64], y: &[f64], yy: f64, sy: f64, ss: f64) -> Option<()> {
        let (n, m) = (self.n, self.m);
        if self.len == m {
            self.head = (self.head + 1) % m;
            for mat in [&mut self.sy, &mut self.ss, &mut self.yy, &mut self.sy_upper] {
                drop_oldest(mat, m);
            }
        } else {
            self.len += 1;
        }
        let last = self.len - 1;
        let slot = (self.head + last) % m;
        self.s[slot * n..(slot + 1) * n].copy_from_slice(s);
        self.y[slot * n..(slot + 1) * n].copy_from_slice(y);
        self.theta = yy / sy;
        for j in 0..last {
            self.sy[last * m + j] = dot(s, self.y_vec(j));
            self.ss[j * m + last] = dot(self.s_vec(j), s);
        }
        self.ss[last * m + last] = ss;
        self.sy[last * m + last] = sy;
        for j in 0..=last {
            self.yy[last * m + j] = dot(y, self.y_vec(j));
            self.sy_upper[j * m + last] = dot(self.s_vec(j), y);
        }
        self.check_t_positive_definite()?;
        self.factor_k()
    }

    /// L-BFGS-B's `formt`: `T = θSᵀS + L D⁻¹ Lᵀ` must be positive definite. Only the verdict
    /// matters without bounds (T serves the Cauchy search, which an unbounded problem skips).
    fn check_t_positive_definite(&self) -> Option<()> {
        let (c, m) = (self.len, self.m);
        let mut t = vec![0.0; c * c];
        for (tj, ssj) in t[..c].iter_mut().zip(&self.ss) {
            *tj = self.theta * ssj;
        }
        for i in 1..c {
            for j in i..c {
                let mut acc = 0.0;
                for k in 0..i {
                    acc += (self.sy[i * m + k] * self.sy[j * m + k]) / self.sy[k * m + k];
                }
                t[i * c + j] = acc + self.theta * self.ss[i * m + j];
            }
        }
        cholesky_upper(&mut t, c, c, 0)
    }

    /// L-BFGS-B's `formk` with every variable free: factorises
    /// `K = [[−D − YᵀY/θ, −Rᵀ], [−R, 0]]` (R the upper triangle of SᵀY) as
    /// `[[U, Ũ], [0, V]]ᵀ E [[U, Ũ], [0, V]]`, E = diag(−I, I), with
    /// `UᵀU = D + YᵀY/θ`, `Ũ = U⁻ᵀ Rᵀ` and `VᵀV = ŨᵀŨ`.
    fn factor_k(&mut self) -> Option<()> {
        let (c, m) = (self.len, self.m);
        let stride = 2 * m;
        let k = &mut self.k_factor;
        k.iter_mut().for_each(|v| *v = 0.0);
        for iy in 0..c {
            for jy in 0..=iy {
                k[jy * stride + iy] = self.yy[iy * m + jy] / self.theta;
            }
            for jy in iy..c {
                k[jy * stride + c + iy] = self.sy_upper[iy * m + jy];
            }
            k[iy * stride + iy] += self.sy[iy * m + iy];
        }
        cholesky_upper(k, c, stride, 0)?;
        // Ũ = U⁻ᵀ Rᵀ, one column at a time by forward substitution.
        for col in c..2 * c {
            for row in 0..c {
                let mut v = k[row * stride + col];
                for i in 0..row {
                    v -= k[i * stride + row] * k[i * stride + col];
                }
                k[row * stride + col] = v / k[row * stride + row];
            }
        }
        for is in c..2 * c {
            for js in is..2 * c {
                let mut acc = 0.0;
                for r in 0..c {
                    acc += k[r * stride + is] * k[r * stride + js];
                }
                k[is * stride + js] += acc;
            }
        }
        cholesky_upper(k, c, stride, c)
    }

    /// The point the next line search aims at: the Cauchy point `x − g` while the memory is
    /// empty (θ = 1), otherwise the unconstrained minimiser of the quadratic model, `x − Hg`.
    fn trial_point(&self, x: &[f64], g: &[f64]) -> Option<Vec<f64>> {
        if self.len == 0 {
            return Some(cauchy_point(x, g, self.theta));
        }
        let (n, c) = (self.n, self.len);
        let stride = 2 * self.m;
        let mut d: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut w = vec![0.0; 2 * c];
        for i in 0..c {
            w[i] = dot(self.y_vec(i), &d);
            w[c + i] = self.theta * dot(self.s_vec(i), &d);
        }
        // Solve (Fᵀ E F) p = w with F the stored factor: Fᵀ u = w, flip the sign of the Y block,
        // then F p = u.
        let k = &self.k_factor;
        for j in 0..2 * c {
            let mut v = w[j];
            for i in 0..j {
                v -= k[i * stride + j] * w[i];
            }
            let pivot = k[j * stride + j];
            if pivot == 0.0 {
                return None;
            }
            w[j] = v / pivot;
        }
        w[..c].iter_mut().for_each(|v| *v = -*v);
        for j in (0..2 * c).rev() {
            let mut v = w[j];
            for i in j + 1..2 * c {
                v -= k[j * stride + i] * w[i];
            }
            w[j] = v / k[j * stride + j];
        }
        for jy in 0..c {
            let (yv, sv) = (self.y_vec(jy), self.s_vec(jy));
            let (wy, ws) = (w[jy], w[c + jy]);
            for i in 0..n {
                d[i] = d[i] + (yv[i] * wy / self.theta) + (sv[i] * ws);
            }
        }
        let inv_theta = 1.0 / self.theta;
        Some(
            x.iter()
                .zip(&d)
                .map(|(xi, di)| xi + di * inv_theta)
                .collect(),
        )
    }
}

/// The generalised Cauchy point without bounds and with `B = θI`: the minimiser of the
/// quadratic model along `−g`, which is `x − g/θ`.
fn cauchy_point(x: &[f64], g: &[f64], theta: f64) -> Vec<f64> {
    let f1 = -squared_norm(g);
    let f2 = -theta * f1;
    let step = (-f1 / f2).max(0.0);
    x.iter().zip(g).map(|(xi, gi)| xi + step * -gi).collect()
}

/// Removes correction 0 from an `m × m` matrix indexed by correction number.
fn drop_oldest(mat: &mut [f64], m: usize) {
    for i in 0..m - 1 {
        for j in 0..m - 1 {
            mat[i * m + j] = mat[(i + 1) * m + j + 1];
        }
    }
}

/// In-place upper Cholesky factor (`A = UᵀU`) of the `size × size` block starting at
/// `(offset, offset)` of a row-major matrix; `None` if a pivot is not positive.
fn cholesky_upper(a: &mut [f64], size: usize, stride: usize, offset: usize) -> Option<()> {
    let at = |i: usize, j: usize| (offset + i) * stride + offset + j;
    for j in 0..size {
        let mut pivot = a[at(j, j)];
        for k in 0..j {
            pivot -= a[at(k, j)] * a[at(k, j)];
        }
        // Also rejects NaN, as LAPACK's dpotrf does.
        if pivot.is_nan() || pivot <= 0.0 {
            return None;
        }
        let pivot = pivot.sqrt();
        a[at(j, j)] = pivot;
        for i in j + 1..size {
            let mut v = a[at(j, i)];
            for k in 0..j {
                v -= a[at(k, j)] * a[at(k, i)];
            }
            a[at(j, i)] = v / pivot;
        }
    }
    Some(())
}

/// Largest gradient component in magnitude; NaN if any component is NaN (so that the
/// gradient test fails instead of passing on garbage).
fn grad_inf_norm(g: &[f64]) -> f64 {
    let mut norm: f64 = 0.0;
    for &v in g {
        if v.is_nan() {
            return v;
        }
        norm = norm.max(v.abs());
    }
    norm
}

/// Inner product with four partial sums, so that long vectors do not serialise on one adder.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn squared_norm(a: &[f64]) -> f64 {
    dot(a, a)
}

/// Euclidean norm, scaled like BLAS `dnrm2` so that huge or tiny vectors do not over/underflow.
fn l2_norm(a: &[f64]) -> f64 {
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let sum: f64 = a.iter().map(|v| (v / scale) * (v / scale)).sum();
    scale * sum.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SciPy's `rosen` and `rosen_der`, term for term.
    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        let n = x.len();
        let terms: Vec<f64> = (0..n - 1)
            .map(|i| 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2))
            .collect();
        for i in 1..n - 1 {
            g[i] = 200.0 * (x[i] - x[i - 1] * x[i - 1])
                - 400.0 * (x[i + 1] - x[i] * x[i]) * x[i]
                - 2.0 * (1.0 - x[i]);
        }
        g[0] = -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]);
        g[n - 1] = 200.0 * (x[n - 1] - x[n - 2] * x[n - 2]);
        terms.iter().sum()
    }

    fn start(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect()
    }

    fn sklearn_like(max_iter: usize) -> LbfgsOptions {
        LbfgsOptions {
            max_iter,
            max_line_search: 50,
            gtol: 1e-4,
            ftol: 64.0 * EPS,
            ..Default::default()
        }
    }

    // Reference numbers: scipy 1.17.1 `minimize(..., method="L-BFGS-B", jac=True)` from the
    // classic start (-1.2, 1, -1.2, 1, ...).
    #[test]
    fn rosenbrock_2d_follows_scipy_iteration_for_iteration() {
        let out = minimize(rosenbrock, start(2), &LbfgsOptions::default());
        assert_eq!((out.n_iter, out.n_eval), (36, 44));
        assert_eq!(out.termination, Termination::RelativeReduction);
        assert!((out.x[0] - 0.9999989453492792).abs() < 1e-9, "{:?}", out.x);
        assert!((out.x[1] - 0.9999980209057279).abs() < 1e-9, "{:?}", out.x);

        let out = minimize(rosenbrock, start(2), &sklearn_like(100));
        assert_eq!(
            (out.n_iter, out.n_eval, out.termination),
            (36, 44, Termination::Gradient)
        );
    }

    #[test]
    fn rosenbrock_10d_follows_scipy_iteration_for_iteration() {
        let out = minimize(rosenbrock, start(10), &sklearn_like(100));
        assert_eq!(
            (out.n_iter, out.n_eval, out.termination),
            (71, 88, Termination::Gradient)
        );
        assert!((out.f - 1.044218542140075e-11).abs() < 1e-14, "{}", out.f);
        assert!((out.x[0] - 1.0000001188619347).abs() < 1e-9, "{:?}", out.x);
    }

    #[test]
    fn iteration_limit_is_checked_before_the_tolerances() {
        let out = minimize(
            rosenbrock,
            start(2),
            &LbfgsOptions {
                max_iter: 12,
                ..Default::default()
            },
        );
        assert_eq!(
            (out.n_iter, out.n_eval, out.termination),
            (12, 14, Termination::MaxIterations)
        );
        assert!(!out.converged());
        assert!((out.f - 1.9922722703038507).abs() < 1e-12, "{}", out.f);
        assert!((out.x[0] + 0.3926452248456034).abs() < 1e-12, "{:?}", out.x);

        let out = minimize(
            rosenbrock,
            start(10),
            &LbfgsOptions {
                max_iter: 12,
                ..Default::default()
            },
        );
        assert_eq!((out.n_iter, out.n_eval), (12, 13));
        assert!((out.f - 9.512932210000764).abs() < 1e-12, "{}", out.f);
    }

    #[test]
    fn quadratic_reaches_its_minimiser() {
        let a = [1.0, 10.0, 100.0];
        let b = [1.0, 2.0, 3.0];
        let quad = |x: &[f64], g: &mut [f64]| {
            let mut f = 0.0;
            for i in 0..3 {
                g[i] = a[i] * x[i] - b[i];
                f += 0.5 * a[i] * x[i] * x[i] - b[i] * x[i];
            }
            f
        };
        let out = minimize(quad, vec![0.0; 3], &LbfgsOptions::default());
        assert_eq!((out.n_iter, out.n_eval), (9, 11));
        for i in 0..3 {
            assert!((out.x[i] - b[i] / a[i]).abs() < 1e-6, "{:?}", out.x);
        }
    }

    #[test]
    fn stationary_start_stops_without_iterating() {
        let out = minimize(
            |x: &[f64], g: &mut [f64]| {
                g.iter_mut().zip(x).for_each(|(gi, xi)| *gi = 2.0 * xi);
                x.iter().map(|v| v * v).sum()
            },
            vec![0.0; 4],
            &LbfgsOptions::default(),
        );
        assert_eq!(
            (out.n_iter, out.n_eval, out.termination),
            (0, 1, Termination::Gradient)
        );
    }

    #[test]
    fn memory_wraps_around_like_scipy() {
        // Fewer corrections than iterations exercises the ring buffer and the matrix shifts;
        // scipy with maxcor=3 takes 92 iterations and 106 evaluations.
        let options = LbfgsOptions {
            memory: 3,
            ..sklearn_like(500)
        };
        let out = minimize(rosenbrock, start(10), &options);
        assert_eq!(
            (out.n_iter, out.n_eval, out.termination),
            (92, 106, Termination::Gradient)
        );
        assert!((out.x[0] - 1.0000001543312804).abs() < 1e-8, "{:?}", out.x);
    }

    #[test]
    fn nonconvex_start_follows_scipy() {
        // Negative curvature around the start (scipy: 11 iterations, 18 evaluations).
        let double_well = |x: &[f64], g: &mut [f64]| {
            let mut terms = Vec::new();
            for i in 0..3 {
                terms.push(x[i].powi(4) / 4.0 - x[i] * x[i]);
                g[i] = x[i].powi(3) - 2.0 * x[i];
            }
            g[0] += 0.1 * x[1];
            g[1] += 0.1 * x[0];
            terms.iter().sum::<f64>() + 0.1 * x[0] * x[1]
        };
        let out = minimize(double_well, vec![0.1, -0.2, 0.3], &sklearn_like(100));
        assert_eq!(
            (out.n_iter, out.n_eval, out.termination),
            (11, 18, Termination::Gradient)
        );
        let want = [1.449136371206359, -1.4491373799872218, 1.4142152097017806];
        for (a, b) in out.x.iter().zip(want) {
            assert!((a - b).abs() < 1e-9, "{:?}", out.x);
        }
    }

    #[test]
    fn dot_and_norm_handle_odd_lengths_and_scale() {
        let a: Vec<f64> = (1..=7).map(f64::from).collect();
        assert_eq!(dot(&a, &a), 140.0);
        assert!((l2_norm(&[3e200, 4e200]) - 5e200).abs() < 1e186);
        assert_eq!(l2_norm(&[0.0, 0.0]), 0.0);
    }
}
