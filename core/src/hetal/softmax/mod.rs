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
//! 7. `1/z` by Goldschmidt (paper: `R = 100`, 16 iterations; ours: `R` and
//!    the count from the proven range of `z`).
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
}

impl core::fmt::Display for SoftmaxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadShape { classes, padded } => write!(
                f,
                "{classes} classes cannot be padded to {padded} slots (need a power of two >= classes)"
            ),
            Self::BadSpec(what) => write!(f, "bad softmax spec: {what}"),
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
}

fn poly(p: &PolySpec) -> Result<Polynomial, SoftmaxError> {
    p.to_poly()
        .map_err(|_| SoftmaxError::BadSpec("polynomial with a non-finite coefficient"))
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
        if !finite_pos(spec.inv.r) || spec.inv.iterations == 0 {
            return Err(SoftmaxError::BadSpec(
                "inverse needs R > 0 and at least one iteration",
            ));
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
        let exp = poly(&after_shift.pop().expect("exp"))?;
        let ext = after_shift
            .iter()
            .map(poly)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            rounds: ceil_log2(padded),
            spec,
            classes,
            padded,
            norm,
            max_round,
            ext,
            exp,
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
    /// when there is no domain extension).
    pub fn exp_poly(&self) -> &Polynomial {
        &self.exp
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
        push("inverse start", 1);
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
