//! Row-wise softmax on `[-128, 128]`: approximate max, domain extension, exp,
//! inverse (HETAL, section 4 of `shared/HETAL.md`).
//!
//! - [`spec`]: the one definition of every coefficient and step
//!   ([`SoftmaxSpec::paper`], HETAL's constants, and [`SoftmaxSpec::ours`]).
//! - [`Softmax`]: a spec resolved for `classes` classes padded to `padded`
//!   slots per row; its f64 model ([`Softmax::eval_f64_row`], in [`model`]) is
//!   the oracle of the encrypted circuit.
//! - [`baselines`]: prior approximations for the error table.
//!
//! # Algorithm (per row of `c` logits, padded to `c'` entries)
//!
//! 1. Padded entries take `-R` so they never win the max.
//! 2. Approximate max over the `c'` entries by a tree of `log2 c'` rounds of
//!    `max~(a, b)` (paper: `b + (a - b)(1 + sign~(a - b))/2` with
//!    `sign~ = f ∘ g ∘ g`; ours: `(a + b)/2 + |a - b|~/2`, one polynomial).
//! 3. `y = x - m` in `[-2R, 0]` (up to the max's error).
//! 4. Domain extension (paper: 5 cubic steps into `[-8, 8]`; ours: none).
//! 5. `e = p(y)^(2^k)` (paper: degree 8 on `[-8, 0]`, `k = 3`; ours:
//!    degree-15 Chebyshev fit of `exp(y / 16)` on the whole range, `k = 4`).
//! 6. `z = sum of e` over the `c` real classes.
//! 7. `1/z` by Goldschmidt (paper: `t0 = 1 - z/R`, `R = 100`, 16
//!    iterations; ours: a Chebyshev start of degree `2^k` for the proven
//!    range of `z`, [`InvSpec`], then the iterations its error needs).
//! 8. `p = e / z`, zero on padded classes.
//!
//! ```
//! use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
//!
//! let sm = Softmax::new(SoftmaxSpec::ours(3, 4), 3, 4).unwrap();
//! let p = sm.eval_f64_row(&[100.0, -20.0, 99.0]);
//! assert!((p[0] - 0.7311).abs() < 1e-3 && (p[2] - 0.2689).abs() < 1e-3);
//! assert!(sm.depth() < Softmax::new(SoftmaxSpec::paper(), 3, 4).unwrap().depth());
//! ```

pub mod baselines;
pub mod encrypted;
pub mod model;
pub mod spec;

use alloc::vec::Vec;

use crate::circuits::poly::Polynomial;

pub use spec::{DomainExt, ExpSpec, InvSpec, MaxSpec, PolySpec, SoftmaxSpec};

use spec::ceil_log2;

/// Why a softmax cannot be built.
#[derive(Clone, Debug, PartialEq)]
pub enum SoftmaxError {
    /// `classes` is 0, `padded` is not a power of two, or `padded < classes`.
    BadShape {
        /// Classes.
        classes: usize,
        /// Slots per row.
        padded: usize,
    },
    /// A non-finite or non-positive constant in the spec.
    BadSpec(&'static str),
    /// The logits arrive with fewer levels than the stages before the first
    /// point where a bootstrap may go (only values in `[-1, 1]` are
    /// bootstrapped, so never the raw logits).
    InputLevel {
        /// Level of the logits.
        have: usize,
        /// Levels needed.
        need: usize,
    },
    /// No bootstrap placement exists (a stage deeper than a bootstrap gives).
    NoPlan(crate::hetal::plan::PlanError),
}

impl core::fmt::Display for SoftmaxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadShape { classes, padded } => write!(
                f,
                "{classes} classes cannot be padded to {padded} slots (need a power of two >= classes)"
            ),
            Self::BadSpec(what) => write!(f, "bad softmax spec: {what}"),
            Self::InputLevel { have, need } => write!(
                f,
                "logits at level {have}: the softmax needs {need} before it may bootstrap"
            ),
            Self::NoPlan(e) => write!(f, "no bootstrap plan: {e}"),
        }
    }
}

impl core::error::Error for SoftmaxError {}

/// One max round on normalised values, exactly as the circuit evaluates it.
#[derive(Clone, Debug, PartialEq)]
pub enum MaxRound {
    /// `max~(a, b) = b + (a - b) h(a - b)`, `h` the composition of `stages`
    /// (the last returns `(1 + sign)/2`).
    Sign {
        /// Polynomials applied in order.
        stages: Vec<Polynomial>,
    },
    /// `max~(a, b) = (a + b)/2 + half_abs(a - b)`.
    Abs {
        /// About `|d|/2`, a Chebyshev polynomial on `[-1, 1]` (no level for the map).
        half_abs: Polynomial,
    },
}

impl MaxRound {
    /// `max~(a, b)`.
    pub fn eval(&self, a: f64, b: f64) -> f64 {
        match self {
            Self::Sign { stages } => {
                let h = stages.iter().fold(a - b, |x, p| p.eval_f64(x));
                b + (a - b) * h
            }
            Self::Abs { half_abs } => 0.5 * (a + b) + half_abs.eval_f64(a - b),
        }
    }

    /// Levels one round consumes.
    pub fn depth(&self) -> usize {
        match self {
            Self::Sign { stages } => stages.iter().map(Polynomial::depth).sum::<usize>() + 1,
            // (a + b) / 2 costs one level in parallel with the polynomial.
            Self::Abs { half_abs } => half_abs.depth().max(1),
        }
    }
}

/// Levels of each stage of the circuit, in order (see [`Softmax::stages`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageDepth {
    /// Stage name.
    pub name: &'static str,
    /// Levels it consumes.
    pub depth: usize,
}

/// A [`SoftmaxSpec`] resolved for `classes` classes in rows of `padded`
/// slots: every polynomial in the units the circuit feeds it. The circuit
/// first multiplies the logits by `norm` (`1/(2R)` for the paper's sign,
/// `1/W` for ours), so the max works on `[-1/2, 1/2]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Softmax {
    spec: SoftmaxSpec,
    classes: usize,
    padded: usize,
    rounds: usize,
    norm: f64,
    max_round: MaxRound,
    ext: Vec<Polynomial>,
    exp: Polynomial,
    shifts: Shifts,
    inv: InvStart,
    ranges: Ranges,
}

/// The inverse's start ([`InvSpec`]) as the constants the circuit uses:
/// the sum mask gives `S_0 = alpha z + beta`; then for `j < k` (`k =
/// start_log2`) `Q <- Q (S_j + g[j])` (`Q` starting at the constant `c`,
/// the first product a plaintext one) and `S_(j+1) = 2 S_j^2 - s2[j]`, where
/// `S_j = s_j T_(2^j)(l)` with `s_j = d^(2^(j - k))`, so every `|S_j| <= 1`
/// and `S_k = t0`; then `P = Q (1 + t0)` (`c (1 + t0)` when `k = 0`), held
/// divided by `2^shifts().p` like every later `P`.
#[derive(Clone, Debug, PartialEq)]
pub struct InvStart {
    /// Slope of `S_0` in the true row sum `z`.
    pub alpha: f64,
    /// Offset of `S_0`.
    pub beta: f64,
    /// `g[j] = s_j T_(2^j)(l(0))`.
    pub g: Vec<f64>,
    /// `s2[j] = s_j^2`.
    pub s2: Vec<f64>,
    /// `Q`'s constant: `-2^k d / (half_width prod_(j<k) s_j)`, held.
    pub c: f64,
}

impl InvStart {
    fn new(inv: &InvSpec, p_shift: u32) -> Result<Self, SoftmaxError> {
        let k = inv.start_log2;
        let d = inv.d();
        if k > 0 && !(d.is_finite() && d > 0.0 && d < 1.0) {
            return Err(SoftmaxError::BadSpec(
                "the inverse's Chebyshev start needs 0 < half_width < r",
            ));
        }
        let mut sj = alloc::vec![d; k + 1];
        for j in (0..k).rev() {
            sj[j] = libm::sqrt(sj[j + 1]);
        }
        let (h, r) = (inv.half_width, inv.r);
        let mut tl = inv.l0();
        let mut g = Vec::with_capacity(k);
        for &s in &sj[..k] {
            g.push(s * tl);
            tl = 2.0 * tl * tl - 1.0;
        }
        let prod: f64 = sj[..k].iter().product();
        let c = -libm::ldexp(d, k as i32) / (h * prod) * libm::ldexp(1.0, -(p_shift as i32));
        Ok(Self {
            alpha: sj[0] / h,
            beta: -sj[0] * r / h,
            g,
            s2: sj[..k].iter().map(|s| s * s).collect(),
            c,
        })
    }
}

/// Powers of two that keep every bootstrapped value in `[-1, 1]` (CKKS
/// bootstrapping is accurate there only). A value is *held* divided by
/// `2^shift`; the divisions are folded into coefficients and masks the
/// circuit multiplies by anyway, and the multiplications back are by integers
/// (free), so no shift costs a level. The f64 model holds the same values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shifts {
    /// `exp[j]`: the exponentials after `j` squarings are held divided by
    /// `2^exp[j]` (`exp[0]` is folded into the exp polynomial; after squaring
    /// `j` the circuit multiplies by the integer `2^(2 exp[j] - exp[j + 1])`).
    pub exp: Vec<u32>,
    /// Goldschmidt's `P` is held divided by `2^p` (folded into the start's
    /// constant, [`InvStart::c`]);
    /// the output is multiplied by the integer `2^(exp[last] + p)`.
    pub p: u32,
}

/// Proven ranges of the circuit's intermediate values (true, not held).
#[derive(Clone, Debug, PartialEq)]
struct Ranges {
    /// `max |u|` and `max |m|` (normalised logits and running max).
    u: f64,
    m: f64,
    /// `max |y|` entering each domain-extension cubic, then the exp polynomial.
    ext_in: Vec<f64>,
    exp_in: f64,
    /// `max e` after `j` squarings, `j = 0..=squarings`.
    e: Vec<f64>,
    /// Bounds of the row sum `z`.
    z_lo: f64,
    z_hi: f64,
    /// `max |t0|`.
    t0: f64,
}

/// `max(0, ceil(log2 v))`: the shift that brings `|x| <= v` into `[-1, 1]`.
fn shift_for(v: f64) -> u32 {
    if v <= 1.0 {
        0
    } else {
        libm::ceil(libm::log2(v)) as u32
    }
}

fn poly(p: &PolySpec) -> Result<Polynomial, SoftmaxError> {
    p.to_poly()
        .map_err(|_| SoftmaxError::BadSpec("polynomial with a non-finite coefficient"))
}

/// The ranges of the intermediate values for every input row in
/// `[-bound, bound]^c`, from the max's proven error interval and a fine grid
/// of the shifted logit's range through the exp chain.
fn ranges(
    spec: &SoftmaxSpec,
    norm: f64,
    rounds: usize,
    classes: usize,
    ext: &[Polynomial],
    exp: &Polynomial,
) -> Result<Ranges, SoftmaxError> {
    let bound = spec.bound;
    let (lo, hi) = spec::max_error_interval(&spec.max, bound);
    let rf = rounds as f64;
    let (y_bot, y_top) = ((-2.0 * bound - rf * hi) * norm, -rf * lo * norm);
    const GRID: usize = 1 << 14;
    let mut ext_in = alloc::vec![0.0f64; ext.len()];
    let mut exp_in = 0.0f64;
    let mut e0 = 0.0f64;
    // e at the true max's own shift, y in [-rounds hi, -rounds lo]: the row
    // sum is at least its minimum.
    let mut e_min_top = f64::INFINITY;
    let chain = |y: f64, ext_in: &mut [f64], exp_in: &mut f64| {
        let mut v = y;
        for (k, p) in ext.iter().enumerate() {
            ext_in[k] = ext_in[k].max(v.abs());
            v = p.eval_f64(v);
        }
        *exp_in = exp_in.max(v.abs());
        exp.eval_f64(v)
    };
    for i in 0..=GRID {
        let y = y_bot + (y_top - y_bot) * i as f64 / GRID as f64;
        e0 = e0.max(chain(y, &mut ext_in, &mut exp_in).abs());
        let yt = (-rf * hi + (hi - lo) * rf * i as f64 / GRID as f64) * norm;
        let mut scratch = alloc::vec![0.0; ext.len()];
        let mut s2 = 0.0;
        e_min_top = e_min_top.min(chain(yt, &mut scratch, &mut s2));
    }
    let k = spec.exp.squarings;
    let margin = 1.0 + 1e-6;
    let e: Vec<f64> = (0..=k)
        .map(|j| libm::pow(e0 * margin, libm::ldexp(1.0, j as i32)))
        .collect();
    let z_lo = libm::pow(e_min_top.max(0.0), libm::ldexp(1.0, k as i32)) / margin;
    if z_lo.is_nan() || z_lo <= 0.0 {
        return Err(SoftmaxError::BadSpec(
            "the row sum's lower bound is not positive",
        ));
    }
    let m = (bound + rf * lo.abs().max(hi.abs())) * norm;
    let z_hi = classes as f64 * e[k];
    let inv = &spec.inv;
    let t0 = (0..=GRID)
        .map(|i| inv.t0(z_lo + (z_hi - z_lo) * i as f64 / GRID as f64).abs())
        .fold(0.0, f64::max);
    Ok(Ranges {
        u: bound * norm,
        m,
        ext_in,
        exp_in,
        z_lo,
        z_hi,
        t0: t0 * margin,
        e,
    })
}

impl Softmax {
    /// Resolves `spec` for rows of `classes` logits padded to `padded`
    /// (a power of two, at least `classes`) slots.
    pub fn new(spec: SoftmaxSpec, classes: usize, padded: usize) -> Result<Self, SoftmaxError> {
        if classes == 0 || !padded.is_power_of_two() || padded < classes {
            return Err(SoftmaxError::BadShape { classes, padded });
        }
        let finite_pos = |x: f64| x.is_finite() && x > 0.0;
        if !finite_pos(spec.bound) {
            return Err(SoftmaxError::BadSpec("bound must be positive"));
        }
        let inv = &spec.inv;
        if !finite_pos(inv.r) || !finite_pos(inv.half_width) || inv.iterations == 0 {
            return Err(SoftmaxError::BadSpec(
                "inverse needs R > 0, a positive half-width and at least one iteration",
            ));
        }
        if inv.start_log2 > 16 {
            return Err(SoftmaxError::BadSpec("inverse start of degree above 2^16"));
        }
        if spec.ext.steps > 0 && !(finite_pos(spec.ext.r) && spec.ext.l > 1.0) {
            return Err(SoftmaxError::BadSpec("domain extension needs r > 0, L > 1"));
        }
        let bound = spec.bound;
        let (norm, max_round) = match &spec.max {
            MaxSpec::Sign { stages } => {
                if stages.is_empty() {
                    return Err(SoftmaxError::BadSpec("sign needs at least one stage"));
                }
                let last = stages.len() - 1;
                let st = stages
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        poly(&if i == last {
                            p.affine_output(0.5, 0.5)
                        } else {
                            p.clone()
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                (1.0 / (2.0 * bound), MaxRound::Sign { stages: st })
            }
            MaxSpec::Abs { abs } => (
                1.0 / MaxSpec::abs_width(bound),
                MaxRound::Abs {
                    half_abs: poly(&abs.affine_output(0.5, 0.0))?,
                },
            ),
        };
        // The first polynomial after the shift reads normalised units.
        let mut after_shift: Vec<PolySpec> = (0..spec.ext.steps)
            .rev()
            .map(|i| {
                let rho = spec.ext.r * libm::pow(spec.ext.l, i as f64);
                PolySpec::Monomial(alloc::vec![0.0, 1.0, 0.0, -4.0 / (27.0 * rho * rho)])
            })
            .collect();
        after_shift.push(spec.exp.poly.clone());
        after_shift[0] = after_shift[0].scale_input(1.0 / norm);
        let exp_spec = after_shift.pop().expect("exp");
        let ext = after_shift
            .iter()
            .map(poly)
            .collect::<Result<Vec<_>, _>>()?;
        let rounds = ceil_log2(padded);
        let ranges = ranges(&spec, norm, rounds, classes, &ext, &poly(&exp_spec)?)?;
        let exp_shifts: Vec<u32> = ranges.e.iter().map(|&e| shift_for(e)).collect();
        let shifts = Shifts {
            p: shift_for(1.0 / ranges.z_lo),
            exp: exp_shifts,
        };
        let inv = InvStart::new(&spec.inv, shifts.p)?;
        let exp = poly(&exp_spec.affine_output(libm::ldexp(1.0, -(shifts.exp[0] as i32)), 0.0))?;
        Ok(Self {
            rounds,
            spec,
            classes,
            padded,
            norm,
            max_round,
            ext,
            exp,
            shifts,
            inv,
            ranges,
        })
    }

    /// The spec.
    pub fn spec(&self) -> &SoftmaxSpec {
        &self.spec
    }
    /// Classes per row.
    pub fn classes(&self) -> usize {
        self.classes
    }
    /// Slots per row (`c'`).
    pub fn padded(&self) -> usize {
        self.padded
    }
    /// Max rounds (`log2 c'`).
    pub fn rounds(&self) -> usize {
        self.rounds
    }
    /// One max round as evaluated.
    pub fn max_round(&self) -> &MaxRound {
        &self.max_round
    }
    /// The normalisation factor applied to the logits first.
    pub fn norm(&self) -> f64 {
        self.norm
    }
    /// Domain-extension cubics, in order (the first reads normalised units).
    pub fn ext_polys(&self) -> &[Polynomial] {
        &self.ext
    }
    /// The exp polynomial before the squarings (reads normalised units
    /// when there is no domain extension), output divided by
    /// `2^shifts().exp[0]`.
    pub fn exp_poly(&self) -> &Polynomial {
        &self.exp
    }
    /// The power-of-two shifts that keep bootstrapped values in `[-1, 1]`.
    pub fn shifts(&self) -> &Shifts {
        &self.shifts
    }
    /// The inverse's start as the circuit's constants.
    pub fn inv_start(&self) -> &InvStart {
        &self.inv
    }

    /// For each stage of [`Self::stages`], the largest `|slot|` a bootstrap
    /// before it would receive, in held units (a real pair `(a, b)` counts as
    /// `|a + i b|`, what [`crate::slots::SlotOps::bootstrap_real_pair`]
    /// packs). [`Self::plan`] bootstraps only where this is at most 1: never
    /// the raw logits (normalising first costs the level the raw value would
    /// need to be scaled anyway) nor the paper's domain-extension
    /// intermediates.
    pub fn boot_bounds(&self) -> Vec<f64> {
        let r = &self.ranges;
        let sh = &self.shifts;
        let held_e = |j: usize| r.e[j] / libm::ldexp(1.0, sh.exp[j] as i32);
        let p_held_inv = r.z_lo * libm::ldexp(1.0, sh.p as i32);
        let t0 = r.t0;
        let mut out = Vec::new();
        let mut sq = 0;
        let mut it: i32 = 0;
        let mut ext = 0;
        for (i, s) in self.stages().iter().enumerate() {
            let b = match s.name {
                "normalise" => self.spec.bound,
                // Round 0 bootstraps u alone, later ones the pair (u, m).
                "max round" if i == 1 => r.u,
                "max round" | "max mask" => libm::hypot(r.u, r.m),
                "domain extension" => {
                    ext += 1;
                    r.ext_in[ext - 1]
                }
                "exp polynomial" => r.exp_in,
                "exp squaring" => {
                    sq += 1;
                    held_e(sq - 1)
                }
                "sum mask" => held_e(self.spec.exp.squarings),
                // S_0 is affine in z: largest at an end of its range.
                "inverse start" => {
                    let s0 = |z: f64| (self.inv.alpha * z + self.inv.beta).abs();
                    s0(r.z_lo).max(s0(r.z_hi))
                }
                "inverse iteration" | "inverse end" => {
                    // The pair (t, P) with t = t0^(2^k) in [0, T] and
                    // P = (1 - t) / z held: |t + i P| is largest at t = 0 or T.
                    it += 1;
                    let tt = libm::pow(t0, libm::ldexp(1.0, it));
                    libm::hypot(tt, (1.0 - tt) / p_held_inv).max(1.0 / p_held_inv)
                }
                // The masked exponentials and P, one bootstrap each.
                _ => held_e(self.spec.exp.squarings).max(1.0 / p_held_inv),
            };
            out.push(b);
        }
        out
    }
    /// Value given to padded entries before the max (normalised `-R`).
    pub fn pad_value(&self) -> f64 {
        -self.spec.bound * self.norm
    }

    /// Levels per stage, in circuit order. `mask` stages are the one
    /// plaintext product that keeps one slot per row before a replication.
    pub fn stages(&self) -> Vec<StageDepth> {
        let mut out = Vec::new();
        let mut push = |name, depth| out.push(StageDepth { name, depth });
        push("normalise", 1);
        for _ in 0..self.rounds {
            push("max round", self.max_round.depth());
        }
        if self.padded > 1 {
            push("max mask", 1);
        }
        for p in &self.ext {
            push("domain extension", p.depth());
        }
        push("exp polynomial", self.exp.depth());
        for _ in 0..self.spec.exp.squarings {
            push("exp squaring", 1);
        }
        push("sum mask", 1);
        push("inverse start", self.spec.inv.start_log2 + 1);
        for _ in 1..self.spec.inv.iterations {
            push("inverse iteration", 1);
        }
        push("inverse end", 1);
        push("product", 1);
        out
    }

    /// Total multiplicative depth (levels consumed by one softmax).
    pub fn depth(&self) -> usize {
        self.stages().iter().map(|s| s.depth).sum()
    }

    /// The f64 model on one row of `classes` logits: `classes` probabilities.
    /// Panics if `x.len() != classes`.
    pub fn eval_f64_row(&self, x: &[f64]) -> Vec<f64> {
        model::eval_row(self, x)
    }

    /// In-place adapter for the plaintext trainer's row-softmax plug-in
    /// ([`crate::hetal::plain::train`] takes `&mut dyn FnMut(&mut [f64])`):
    /// `train(.., &mut |z| sm.apply_f64_in_place(z))`.
    pub fn apply_f64_in_place(&self, z: &mut [f64]) {
        let p = self.eval_f64_row(z);
        z.copy_from_slice(&p);
    }
}
