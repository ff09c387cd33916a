//! The one definition of the softmax's coefficients and steps.
//!
//! A [`SoftmaxSpec`] names every polynomial and iteration count; the f64
//! model ([`super::model`]) and the encrypted circuit ([`super::encrypted`])
//! both read them from the resolved [`super::Softmax`], so the two cannot drift.

use alloc::vec;
use alloc::vec::Vec;
use core::f64::consts::PI;

use crate::circuits::poly::Polynomial;
use crate::slots::SlotError;

/// A real polynomial in the monomial basis or in the Chebyshev basis of an interval.
#[derive(Clone, Debug, PartialEq)]
pub enum PolySpec {
    /// `sum_k c[k] x^k`.
    Monomial(Vec<f64>),
    /// `sum_k c[k] T_k((2x - lo - hi) / (hi - lo))`, accurate on `[lo, hi]`.
    Chebyshev {
        /// Lower end of the interval.
        lo: f64,
        /// Upper end of the interval.
        hi: f64,
        /// Chebyshev coefficients.
        coeffs: Vec<f64>,
    },
}

impl PolySpec {
    /// The coefficients (in the polynomial's own basis).
    pub fn coeffs(&self) -> &[f64] {
        match self {
            Self::Monomial(c) => c,
            Self::Chebyshev { coeffs, .. } => coeffs,
        }
    }

    /// Degree (index of the last nonzero coefficient; 0 for the zero polynomial).
    pub fn degree(&self) -> usize {
        self.coeffs().iter().rposition(|&c| c != 0.0).unwrap_or(0)
    }

    /// Levels the circuit's evaluator spends on it ([`Polynomial::depth`]:
    /// `ceil(log2(deg + 1))`, plus one for a Chebyshev interval with a
    /// non-integer slope).
    pub fn depth(&self) -> usize {
        self.to_poly().map_or(0, |p| p.depth())
    }

    /// Evaluates at `x` (Horner, or Clenshaw in the Chebyshev basis).
    pub fn eval(&self, x: f64) -> f64 {
        match self {
            Self::Monomial(c) => c.iter().rev().fold(0.0, |acc, &ck| acc * x + ck),
            Self::Chebyshev { lo, hi, coeffs } => {
                let t = (2.0 * x - lo - hi) / (hi - lo);
                clenshaw(coeffs, t)
            }
        }
    }

    /// `x -> p(s x)`: the same function read in units `s` times larger.
    pub fn scale_input(&self, s: f64) -> Self {
        match self {
            Self::Monomial(c) => {
                let mut p = 1.0;
                Self::Monomial(
                    c.iter()
                        .map(|&ck| {
                            let v = ck * p;
                            p *= s;
                            v
                        })
                        .collect(),
                )
            }
            Self::Chebyshev { lo, hi, coeffs } => {
                let (a, b) = (lo / s, hi / s);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                let coeffs = if s < 0.0 {
                    // T_k(-t) = (-1)^k T_k(t).
                    coeffs
                        .iter()
                        .enumerate()
                        .map(|(k, &c)| if k % 2 == 1 { -c } else { c })
                        .collect()
                } else {
                    coeffs.clone()
                };
                Self::Chebyshev { lo, hi, coeffs }
            }
        }
    }

    /// `x -> a p(x) + b`.
    pub fn affine_output(&self, a: f64, b: f64) -> Self {
        let map = |c: &[f64]| -> Vec<f64> {
            let mut out: Vec<f64> = c.iter().map(|&ck| a * ck).collect();
            if out.is_empty() {
                out.push(0.0);
            }
            out[0] += b;
            out
        };
        match self {
            Self::Monomial(c) => Self::Monomial(map(c)),
            Self::Chebyshev { lo, hi, coeffs } => Self::Chebyshev {
                lo: *lo,
                hi: *hi,
                coeffs: map(coeffs),
            },
        }
    }

    /// The circuit's polynomial (what both the model and the encrypted path
    /// evaluate). A Chebyshev interval whose slope `2 / (hi - lo)` is within
    /// `1e-9` of an integer is snapped to it, so the map costs no level.
    pub fn to_poly(&self) -> Result<Polynomial, SlotError> {
        match self {
            Self::Monomial(c) => Polynomial::monomial(c),
            Self::Chebyshev { lo, hi, coeffs } => {
                let slope = 2.0 / (hi - lo);
                let k = libm::round(slope);
                let hi = if k >= 1.0 && (slope - k).abs() < 1e-9 * k {
                    lo + 2.0 / k
                } else {
                    *hi
                };
                Polynomial::chebyshev(coeffs, *lo, hi)
            }
        }
    }

    /// Chebyshev interpolation of `f` at the `degree + 1` Chebyshev nodes of `[lo, hi]`.
    pub fn interpolate_chebyshev(f: impl Fn(f64) -> f64, lo: f64, hi: f64, degree: usize) -> Self {
        let m = degree + 1;
        let mut coeffs = vec![0.0; m];
        for k in 0..m {
            let theta = PI * (k as f64 + 0.5) / m as f64;
            let t = libm::cos(theta);
            let fx = f(0.5 * (hi - lo) * t + 0.5 * (hi + lo));
            for (j, c) in coeffs.iter_mut().enumerate() {
                *c += fx * libm::cos(j as f64 * theta);
            }
        }
        for c in coeffs.iter_mut() {
            *c *= 2.0 / m as f64;
        }
        coeffs[0] *= 0.5;
        Self::Chebyshev { lo, hi, coeffs }
    }
}

fn clenshaw(c: &[f64], t: f64) -> f64 {
    match c.len() {
        0 => 0.0,
        1 => c[0],
        _ => {
            let (mut b1, mut b2) = (0.0, 0.0);
            for &ck in c[1..].iter().rev() {
                let b0 = 2.0 * t * b1 - b2 + ck;
                b2 = b1;
                b1 = b0;
            }
            t * b1 - b2 + c[0]
        }
    }
}

/// `ceil(log2(n))` for `n >= 1`.
pub(crate) fn ceil_log2(n: usize) -> usize {
    (usize::BITS - (n.max(1) - 1).leading_zeros()) as usize
}

/// How the approximate maximum of two entries is computed.
#[derive(Clone, Debug, PartialEq)]
pub enum MaxSpec {
    /// The paper's: `max~(a, b) = b + (a - b) (1 + s((a - b) / (2R))) / 2` with
    /// `s = stages[last] ∘ ... ∘ stages[0]` an approximate sign on `[-1, 1]`.
    Sign {
        /// Odd polynomials applied in order (the paper: `g, g, f`).
        stages: Vec<PolySpec>,
    },
    /// `max~(a, b) = (a + b) / 2 + q(a - b) / 2` with `q(d) = w a(d / w)`,
    /// `a` an even polynomial approximating `|t|` on `[-1, 1]`, `w` the width
    /// ([`Self::abs_width`]). One polynomial per round instead of three
    /// multiplicative stages: depth `ceil(log2(deg + 1))` instead of 10.
    Abs {
        /// Even polynomial approximating `|t|` on `[-1, 1]`.
        abs: PolySpec,
    },
}

impl MaxSpec {
    /// The degree of the `|t|` polynomial (`None` for the paper's sign form).
    pub fn abs_degree(&self) -> Option<usize> {
        match self {
            Self::Abs { abs } => Some(abs.degree()),
            Self::Sign { .. } => None,
        }
    }

    /// Normalisation width of the `Abs` form: `2R` plus room for the
    /// accumulated error of earlier rounds.
    pub fn abs_width(bound: f64) -> f64 {
        2.0 * bound * (1.0 + 1.0 / 16.0)
    }
}

/// Domain extension (Cheon et al. 2022): `steps` maps
/// `y -> y - 4 y^3 / (27 (r L^i)^2)` for `i = steps - 1, ..., 0`, taking
/// `[-r L^steps, r L^steps]` into `[-r, r]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DomainExt {
    /// Target radius `r`.
    pub r: f64,
    /// Extension ratio `L` (1 < L <= 3).
    pub l: f64,
    /// Number of steps `n` (0: none).
    pub steps: usize,
}

/// `exp(y) ≈ poly(y)^(2^squarings)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpSpec {
    /// Approximates `exp(y / 2^squarings)` on the range of `y` it receives.
    pub poly: PolySpec,
    /// Number of squarings.
    pub squarings: usize,
}

/// The inverse of the row sum `z`: a start `q(z) ~ 1/z` with `t0 = 1 - z q(z)`,
/// then Goldschmidt's `iterations` steps `P <- P (1 + t)`, `t <- t^2` from
/// `P = q (1 + t0)`, `t = t0^2`, so `P = (1 - t0^(2^(iterations + 1))) / z`.
///
/// The start is the best of its degree for `z` in `[r - half_width, r +
/// half_width]`: with `l(z) = (z - r) / half_width` and `n = 2^start_log2`,
/// `t0 = T_n(l(z)) / T_n(l(0))` (the polynomial with value 1 at `z = 0` least
/// in size on the interval), so `|t0| <= 1 / |T_n(l(0))|`. The circuit gets
/// `t0` by `start_log2` squarings (`T_2m = 2 T_m^2 - 1`) and `q` as the
/// product of the factors `T_2^j(l) + T_2^j(l(0))` it meets on the way
/// (`T_n(x) - T_n(y)` splits so), `start_log2` levels for both. With
/// `start_log2 = 0` this is the plain Goldschmidt start `t0 = 1 - z / r`,
/// `q = 1 / r` (`half_width` unused), which needs about one iteration per
/// doubling of the range's ratio `hi / lo`; the Chebyshev start needs about
/// one level per doubling of its square root.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InvSpec {
    /// Centre `r` of the interval (the plain start's `R`).
    pub r: f64,
    /// Half-width of the interval (unused when `start_log2 = 0`).
    pub half_width: f64,
    /// `log2` of the start's degree `n`.
    pub start_log2: usize,
    /// Goldschmidt iterations after the start.
    pub iterations: usize,
}

impl InvSpec {
    /// The plain Goldschmidt start: `t0 = 1 - z / r`.
    pub fn goldschmidt(r: f64, iterations: usize) -> Self {
        Self {
            r,
            half_width: r,
            start_log2: 0,
            iterations,
        }
    }

    /// `l(0) = -r / half_width` (below -1 when the interval is positive).
    pub fn l0(&self) -> f64 {
        -self.r / self.half_width
    }

    /// `1 / T_n(l(0))`: `t0 = d T_n(l(z))`.
    /// With `start_log2 = 0`, `d = 1 / l(0)` and `t0 = l / l(0) = 1 - z / r`
    /// whatever the half-width.
    pub fn d(&self) -> f64 {
        1.0 / cheb_pow2(self.l0(), self.start_log2)
    }

    /// Levels: the start (`start_log2 + 1`, the last for `P = q (1 + t0)`
    /// and `t0^2`) and the iterations.
    pub fn depth(&self) -> usize {
        self.start_log2 + 1 + self.iterations
    }

    /// `t0` at `z` (exact arithmetic).
    pub fn t0(&self, z: f64) -> f64 {
        self.d() * cheb_pow2((z - self.r) / self.half_width, self.start_log2)
    }
}

/// `T_(2^k)(x)` by `k` doublings `T_2m = 2 T_m^2 - 1`.
pub fn cheb_pow2(x: f64, k: usize) -> f64 {
    (0..k).fold(x, |t, _| 2.0 * t * t - 1.0)
}

/// Every constant of the wide-domain softmax.
#[derive(Clone, Debug, PartialEq)]
pub struct SoftmaxSpec {
    /// Name for tables.
    pub name: &'static str,
    /// Input domain `[-bound, bound]` (`R = 128`).
    pub bound: f64,
    /// Approximate max.
    pub max: MaxSpec,
    /// Domain extension after the shift by the max.
    pub ext: DomainExt,
    /// Exponential.
    pub exp: ExpSpec,
    /// Inverse of the row sum.
    pub inv: InvSpec,
}

/// Cheon–Kim–Kim `f_3` (degree 7).
fn ckk_f() -> PolySpec {
    PolySpec::Monomial(vec![
        0.0,
        35.0 / 16.0,
        0.0,
        -35.0 / 16.0,
        0.0,
        21.0 / 16.0,
        0.0,
        -5.0 / 16.0,
    ])
}

/// Cheon–Kim–Kim `g_3` (degree 7).
fn ckk_g() -> PolySpec {
    PolySpec::Monomial(vec![
        0.0,
        4589.0 / 1024.0,
        0.0,
        -16577.0 / 1024.0,
        0.0,
        25614.0 / 1024.0,
        0.0,
        -12860.0 / 1024.0,
    ])
}

/// The paper's degree-8 exp fit in `t = y / 8` on `[-1, 0]`.
const PAPER_EXP: [f64; 9] = [
    1.000000001945585,
    0.9999999388932228,
    0.499999859398392,
    0.16666798775227673,
    0.04166711228500117,
    0.008328336039797088,
    0.0013881473292497602,
    0.00020492629147503022,
    2.551385701569812e-05,
];

impl SoftmaxSpec {
    /// HETAL's algorithm with the constants of its error script: `R = 128`,
    /// sign `f ∘ g ∘ g`, domain extension `r = 8, L = 2, n = 5`, degree-8 exp
    /// on `[-8, 0]` and 3 squarings, Goldschmidt with `R_inv = 100` and 16
    /// iterations.
    pub fn paper() -> Self {
        Self {
            name: "HETAL (paper)",
            bound: 128.0,
            max: MaxSpec::Sign {
                stages: vec![ckk_g(), ckk_g(), ckk_f()],
            },
            ext: DomainExt {
                r: 8.0,
                l: 2.0,
                steps: 5,
            },
            exp: ExpSpec {
                poly: PolySpec::Monomial(PAPER_EXP.to_vec()).scale_input(1.0 / 8.0),
                squarings: 3,
            },
            inv: InvSpec::goldschmidt(100.0, 16),
        }
    }

    /// Ours for `classes` classes padded to `padded` slots per row, on
    /// `[-128, 128]`: see [`Self::ours_with`] with `|t|` of degree 62 (depth 6
    /// per max round) and 4 squarings.
    pub fn ours(classes: usize, padded: usize) -> Self {
        Self::ours_with(classes, padded, 128.0, 62, 4)
    }

    /// Ours: the max by one even polynomial of degree `abs_degree`
    /// approximating `|t|` per round (depth `ceil(log2(abs_degree + 1))`
    /// instead of 10); no domain extension: exp as a degree-15 Chebyshev fit
    /// of `exp(y / 2^squarings)` on the whole shifted range, then
    /// `squarings` squarings (depth 4 + squarings instead of 10 + 7); the
    /// inverse's start and iteration count chosen from the proven range of
    /// the row sum for this class count ([`inverse_for`]: relative error
    /// below `2^-20`, start degree at most `2^7`).
    pub fn ours_with(
        classes: usize,
        padded: usize,
        bound: f64,
        abs_degree: usize,
        squarings: usize,
    ) -> Self {
        let abs = even_abs_poly(abs_degree);
        let max = MaxSpec::Abs { abs };
        let rounds = ceil_log2(padded.max(classes).max(1));
        let (lo, hi) = max_error_interval(&max, bound);
        // m - max(x) in [rounds*lo, rounds*hi]; y = x - m.
        let y_top = -(rounds as f64) * lo;
        let y_bottom = -2.0 * bound - rounds as f64 * hi;
        let k = libm::ldexp(1.0, squarings as i32);
        // The circuit reads y in units of W = abs_width: an interval of width
        // exactly W has slope 2 there, so its affine map costs no level.
        let w = MaxSpec::abs_width(bound);
        let top = y_top + 1.0;
        assert!(
            top - w <= y_bottom - 1.0,
            "max error too large for the exp interval"
        );
        let poly = PolySpec::interpolate_chebyshev(|y| libm::exp(y / k), top - w, top, 15);
        // z in [exp(-y_top'), classes exp(y_top)] with y_top' the
        // overshoot of the max itself (rounds * hi).
        let z_lo = libm::exp(-(rounds as f64) * hi) * 0.99;
        let z_hi = classes as f64 * libm::exp(y_top) * 1.01;
        let inv = inverse_for(z_lo, z_hi, libm::ldexp(1.0, -20), 7);
        Self {
            name: "ours",
            bound,
            max,
            ext: DomainExt {
                r: 8.0,
                l: 2.0,
                steps: 0,
            },
            exp: ExpSpec { poly, squarings },
            inv,
        }
    }
}

/// The cheapest plain Goldschmidt set-up for `z` in `[z_lo, z_hi]` with
/// relative error at most `eps`: `R` in the middle of the range, so
/// `|t0| <= (z_hi - z_lo) / (z_hi + z_lo)`.
pub fn goldschmidt_for(z_lo: f64, z_hi: f64, eps: f64) -> InvSpec {
    let r = 0.5 * (z_lo + z_hi);
    let t0 = (z_hi - z_lo) / (z_hi + z_lo);
    InvSpec::goldschmidt(r, iterations_for(t0, eps))
}

/// Iterations after the start for `|t0| <= t0_max` and relative error
/// `t0^(2^(iterations + 1)) <= eps` (at least one).
fn iterations_for(t0_max: f64, eps: f64) -> usize {
    let mut iterations = 0;
    let mut err = t0_max * t0_max;
    while err > eps || iterations == 0 {
        err *= err;
        iterations += 1;
    }
    iterations
}

/// The shallowest inverse for `z` in `[z_lo, z_hi]` with relative error at
/// most `eps`, over Chebyshev starts of degree `2^k`, `k <= max_start_log2`
/// ([`InvSpec`]); among equal depths the lowest degree (its squarings
/// amplify the noise of the row sum least).
pub fn inverse_for(z_lo: f64, z_hi: f64, eps: f64, max_start_log2: usize) -> InvSpec {
    let mut best = goldschmidt_for(z_lo, z_hi, eps);
    for k in 1..=max_start_log2 {
        let mut inv = InvSpec {
            r: 0.5 * (z_lo + z_hi),
            half_width: 0.5 * (z_hi - z_lo),
            start_log2: k,
            iterations: 0,
        };
        inv.iterations = iterations_for(inv.d().abs(), eps);
        if inv.depth() < best.depth() {
            best = inv;
        }
    }
    best
}

/// An even polynomial of degree `degree` close to `|t|` on `[-1, 1]`:
/// Chebyshev interpolation, shifted so its error is centred (the error
/// interval is symmetric around 0).
pub fn even_abs_poly(degree: usize) -> PolySpec {
    let p = PolySpec::interpolate_chebyshev(libm::fabs, -1.0, 1.0, degree);
    // Drop the odd coefficients (zero up to rounding) so the polynomial is exactly even.
    let p = match p {
        PolySpec::Chebyshev { lo, hi, coeffs } => PolySpec::Chebyshev {
            lo,
            hi,
            coeffs: coeffs
                .iter()
                .enumerate()
                .map(|(k, &c)| if k % 2 == 1 { 0.0 } else { c })
                .collect(),
        },
        other => other,
    };
    let (lo, hi) = grid_error(|t| p.eval(t) - libm::fabs(t), 0.0, 1.0);
    p.affine_output(1.0, -0.5 * (lo + hi))
}

/// Min and max of `e` over a fine grid of `[a, b]`.
fn grid_error(e: impl Fn(f64) -> f64, a: f64, b: f64) -> (f64, f64) {
    const N: usize = 1 << 15;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for i in 0..=N {
        let v = e(a + (b - a) * i as f64 / N as f64);
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (lo, hi)
}

/// The interval of `max~(a, b) - max(a, b)` over `a, b` in `[-bound, bound]`,
/// in input units, from a fine grid over the difference (plus 1% margin).
pub fn max_error_interval(max: &MaxSpec, bound: f64) -> (f64, f64) {
    let w = 2.0 * bound;
    let (lo, hi) = match max {
        MaxSpec::Sign { stages } => grid_error(
            |d| {
                let s = stages.iter().fold(d, |x, p| p.eval(x));
                // max~ - max for a - b = w d >= 0 (the error is symmetric).
                w * d * (1.0 + s) / 2.0 - w * d
            },
            0.0,
            1.0,
        ),
        MaxSpec::Abs { abs } => {
            let ww = MaxSpec::abs_width(bound);
            grid_error(|d| 0.5 * ww * (abs.eval(d * w / ww) - d * w / ww), 0.0, 1.0)
        }
    };
    let pad = 0.01 * (hi - lo).abs() + 1e-9;
    (lo.min(0.0) - pad, hi.max(0.0) + pad)
}
