//! Polynomial evaluation on slot values: power and Chebyshev bases, baby-step
//! giant-step, exact in level and scale.
//!
//! # Level and scale contract
//!
//! [`evaluate`] takes a value `x` at level `L` and returns `p(x)` at level
//! `L - p.depth()` and at exactly the scale the caller asks for (up to f64
//! rounding, far inside [`crate::slots::SCALE_TOLERANCE`]), whatever the scale
//! of `x`. It never calls [`SlotOps::set_scale`] and never meets a scale
//! mismatch: every term is brought onto the scale it is added at by a constant
//! encoded at the right scale ([`SlotOps::mul_const_scaled`], no level), as
//! in Lattigo's evaluator (Bossuat et al., Eurocrypt 2021, Alg. 2).
//!
//! [`Polynomial::depth`] is `ceil(log2(deg + 1))`, plus one when the basis is
//! Chebyshev on an interval `[a, b]` whose affine map `y = (2x - a - b) / (b - a)`
//! has a slope `2 / (b - a)` that is not an integer (the map then needs a
//! rescale). A slope of 1 (`b - a = 2`, e.g. `[-1, 1]`) or any integer slope is
//! free; to save the level on `[-K, K]`, fold `1/K` into the step before (a
//! linear transform or a plaintext product) and evaluate on `[-1, 1]`.
//! Degree 0 costs no level, degree 1 one level whatever the interval.
//!
//! # Algorithm
//!
//! `p = q * T_P + r` with `P` the largest power of two `<= deg` (Chebyshev
//! division: `T_{P+j} = 2 T_P T_j - T_{P-j}`), recursively, down to leaves of
//! degree below `2^l` evaluated as `sum c_i T_i` with scalar products only. The
//! powers `T_i` (`i <= 2^l`) and `T_{2^k}` are computed once, `T_i` at level
//! `L - ceil(log2 i)`, by `T_{2^k+j} = 2 T_{2^k} T_j - T_{2^k-j}` (monomials:
//! `x^{2^k+j} = x^{2^k} x^j`). A node that must end at level `t` is built
//! *before* its rescale: at level `t` with scale `S ~ Δ q_t`; its quotient is
//! built at level `t + 1` with scale `S q_{t+1} / scale(T_P)`, rescaled and
//! multiplied by `T_P`, which lands exactly on `S`. Leaves that would be too
//! deep for their level (only on the leading path) are split further. `l` is
//! chosen to minimise the number of non-scalar products, about
//! `2 sqrt(deg) + log2(deg)`; [`Polynomial::mul_count`] gives the exact number.
//! Only powers with a nonzero coefficient somewhere (and what they are built
//! from) are computed, so odd or even polynomials (see [`Polynomial::chop`])
//! cost about half the baby steps.
//!
//! Relinearization is not deferred: deferring the baby steps' and giant
//! products' relinearizations to the next product would save at most the
//! number of top-half baby powers minus one (2 of 18 at degree 63), and the
//! CKKS engine has no degree-2 ciphertexts (its `mul_no_relin` relinearizes),
//! so it would save nothing there.
//!
//! # Example
//!
//! ```
//! use hetal_core::circuits::poly::{self, Polynomial};
//! use hetal_core::slots::{Leveled, SimParams, SlotCrypt, SlotError, SlotOps, SlotSim};
//!
//! // sin on [-1, 1], Chebyshev interpolant of degree 15: 4 levels.
//! let p = Polynomial::interpolate_chebyshev(libm::sin, 15, -1.0, 1.0)?.chop(1e-15);
//! assert!(p.is_odd());
//! assert_eq!(p.depth(), 4);
//!
//! let sim = SlotSim::new(SimParams::synthetic(8, 60, 40, 6)?)?;
//! let xs = [-1.0, -0.5, 0.0, 0.1, 0.3, 0.7, 0.9, 1.0];
//! let x = sim.encrypt_real(&xs, 6, sim.default_scale())?;
//! let y = poly::evaluate(&sim, &x, &p, sim.default_scale())?;
//! assert_eq!(y.level(), 6 - 4);
//! assert_eq!(y.scale(), sim.default_scale());
//! for (v, &x) in sim.decrypt_real(&y)?.iter().zip(&xs) {
//!     assert!((v - p.eval_f64(x)).abs() < 1e-12);
//!     assert!((v - libm::sin(x)).abs() < 1e-12);
//! }
//! assert_eq!(sim.counts().mul, p.mul_count() as u64);
//! # Ok::<(), SlotError>(())
//! ```

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

use crate::slots::{Complex, Leveled, SlotError, SlotOps, is_free_constant};

/// The basis a [`Polynomial`]'s coefficients refer to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Basis {
    /// `sum c_i x^i`.
    Monomial,
    /// `sum c_i T_i(y)` with `y = (2x - a - b) / (b - a)`, which maps `[a, b]` onto `[-1, 1]`.
    Chebyshev {
        /// Left end of the interval.
        a: f64,
        /// Right end of the interval (`> a`).
        b: f64,
    },
}

impl Basis {
    /// `(alpha, beta)` with `y = alpha x + beta` (`(1, 0)` for monomials).
    fn affine(self) -> (f64, f64) {
        match self {
            Basis::Monomial => (1.0, 0.0),
            Basis::Chebyshev { a, b } => (2.0 / (b - a), -(a + b) / (b - a)),
        }
    }

    /// Whether `y = alpha x + beta` costs a level (non-integer slope).
    fn map_costs_level(self) -> bool {
        let (alpha, _) = self.affine();
        !is_free_constant(Complex::from_real(alpha))
    }
}

/// A real polynomial in a [`Basis`], with its plain f64 model.
#[derive(Clone, Debug, PartialEq)]
pub struct Polynomial {
    basis: Basis,
    /// `c_0 ..= c_deg` (trailing zeros removed, at least one entry).
    coeffs: Vec<f64>,
}

fn trimmed(coeffs: &[f64]) -> Result<Vec<f64>, SlotError> {
    if coeffs.iter().any(|c| !c.is_finite()) {
        return Err(SlotError::NonFinite);
    }
    let deg = coeffs.iter().rposition(|&c| c != 0.0).unwrap_or(0);
    let mut v = coeffs.get(..=deg).unwrap_or(&[]).to_vec();
    if v.is_empty() {
        v.push(0.0);
    }
    Ok(v)
}

fn degree_of(coeffs: &[f64]) -> usize {
    coeffs.iter().rposition(|&c| c != 0.0).unwrap_or(0)
}

/// `ceil(log2 n)` for `n >= 1`.
fn ceil_log2(n: usize) -> usize {
    (usize::BITS - (n - 1).leading_zeros()) as usize
}

/// `floor(log2 n)` for `n >= 1`.
fn floor_log2(n: usize) -> usize {
    (usize::BITS - 1 - n.leading_zeros()) as usize
}

impl Polynomial {
    /// `sum c_i x^i`. [`SlotError::NonFinite`] on a NaN or infinite coefficient.
    pub fn monomial(coeffs: &[f64]) -> Result<Self, SlotError> {
        Ok(Self {
            basis: Basis::Monomial,
            coeffs: trimmed(coeffs)?,
        })
    }

    /// `sum c_i T_i(y)`, `y = (2x - a - b) / (b - a)`; needs finite `a < b`.
    pub fn chebyshev(coeffs: &[f64], a: f64, b: f64) -> Result<Self, SlotError> {
        if !a.is_finite() || !b.is_finite() {
            return Err(SlotError::NonFinite);
        }
        if a >= b {
            return Err(SlotError::InvalidParams("Chebyshev interval needs a < b"));
        }
        Ok(Self {
            basis: Basis::Chebyshev { a, b },
            coeffs: trimmed(coeffs)?,
        })
    }

    /// The Chebyshev interpolant of `f` of the given degree on `[a, b]`, through
    /// the `degree + 1` Chebyshev nodes (near-minimax for smooth `f`).
    pub fn interpolate_chebyshev(
        f: impl Fn(f64) -> f64,
        degree: usize,
        a: f64,
        b: f64,
    ) -> Result<Self, SlotError> {
        let n = degree + 1;
        let pi = core::f64::consts::PI;
        let (half, mid) = ((b - a) / 2.0, (a + b) / 2.0);
        let values: Vec<f64> = (0..n)
            .map(|k| f(half * libm::cos(pi * (k as f64 + 0.5) / n as f64) + mid))
            .collect();
        let coeffs: Vec<f64> = (0..n)
            .map(|j| {
                let s: f64 = values
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| v * libm::cos(pi * j as f64 * (k as f64 + 0.5) / n as f64))
                    .sum();
                let c = 2.0 * s / n as f64;
                if j == 0 { c / 2.0 } else { c }
            })
            .collect();
        Self::chebyshev(&coeffs, a, b)
    }

    /// The same polynomial with coefficients of magnitude `<= tol` set to zero
    /// (e.g. the rounding-level even coefficients of an odd function's
    /// interpolant, so that [`Self::is_odd`] holds and the evaluation skips them).
    pub fn chop(&self, tol: f64) -> Self {
        let coeffs: Vec<f64> = self
            .coeffs
            .iter()
            .map(|&c| if c.abs() <= tol { 0.0 } else { c })
            .collect();
        Self {
            basis: self.basis,
            coeffs: trimmed(&coeffs).unwrap_or_else(|_| vec![0.0]),
        }
    }

    /// The basis.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The coefficients `c_0 ..= c_deg`.
    pub fn coeffs(&self) -> &[f64] {
        &self.coeffs
    }

    /// The degree (of the last nonzero coefficient; 0 for constants).
    pub fn degree(&self) -> usize {
        degree_of(&self.coeffs)
    }

    /// Levels [`evaluate`] consumes: `ceil(log2(deg + 1))`, plus one for a
    /// Chebyshev interval with a non-integer slope (degree >= 2); 0 for a
    /// constant, 1 for degree 1.
    pub fn depth(&self) -> usize {
        match self.degree() {
            d @ (0 | 1) => d,
            d => ceil_log2(d + 1) + usize::from(self.basis.map_costs_level()),
        }
    }

    /// Whether only odd-index coefficients are nonzero (in the basis's own
    /// variable: `x` for monomials, `y` for Chebyshev).
    pub fn is_odd(&self) -> bool {
        self.coeffs.iter().step_by(2).all(|&c| c == 0.0)
    }

    /// Whether only even-index coefficients are nonzero.
    pub fn is_even(&self) -> bool {
        self.coeffs.iter().skip(1).step_by(2).all(|&c| c == 0.0)
    }

    /// The plain model: `p(x)` in f64 (Horner, or Clenshaw for Chebyshev).
    pub fn eval_f64(&self, x: f64) -> f64 {
        match self.basis {
            Basis::Monomial => self.coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c),
            Basis::Chebyshev { .. } => {
                let (alpha, beta) = self.basis.affine();
                let y = alpha * x + beta;
                let (mut b1, mut b2) = (0.0, 0.0);
                for &c in self.coeffs.iter().skip(1).rev() {
                    let b0 = 2.0 * y * b1 - b2 + c;
                    b2 = b1;
                    b1 = b0;
                }
                y * b1 - b2 + self.coeffs[0]
            }
        }
    }

    /// `p(z)` for a complex argument (what [`evaluate`] computes slot-wise on
    /// complex slots).
    pub fn eval_complex(&self, z: Complex) -> Complex {
        let (alpha, beta) = self.basis.affine();
        match self.basis {
            Basis::Monomial => self
                .coeffs
                .iter()
                .rev()
                .fold(Complex::ZERO, |acc, &c| acc * z + Complex::from_real(c)),
            Basis::Chebyshev { .. } => {
                let y = z.scale(alpha) + Complex::from_real(beta);
                let (mut b1, mut b2) = (Complex::ZERO, Complex::ZERO);
                for &c in self.coeffs.iter().skip(1).rev() {
                    let b0 = (y * b1).scale(2.0) - b2 + Complex::from_real(c);
                    b2 = b1;
                    b1 = b0;
                }
                y * b1 - b2 + Complex::from_real(self.coeffs[0])
            }
        }
    }

    /// Non-scalar (value x value) products [`evaluate`] performs: powers plus
    /// giant steps. Each costs one relinearization and one rescale.
    pub fn mul_count(&self) -> usize {
        Schedule::new(core::slice::from_ref(self)).map_or(0, |s| s.mul_count())
    }

    /// As a degree-1 monomial `c1' x + c0'` (Chebyshev on `[a, b]` folded in).
    fn as_linear_monomial(&self) -> Self {
        let (alpha, beta) = self.basis.affine();
        let c1 = self.coeffs.get(1).copied().unwrap_or(0.0);
        Self {
            basis: Basis::Monomial,
            coeffs: vec![self.coeffs[0] + c1 * beta, c1 * alpha],
        }
    }
}

// ---------------------------------------------------------------------------
// The evaluation plan.

/// A node of the split tree: evaluated *before* its final rescale.
#[derive(Debug)]
enum Node {
    Zero,
    Const(f64),
    /// `sum c_i X_i`, `c_0 ..= c_d` with `d >= 1`.
    Leaf(Vec<f64>),
    /// `q * X_power + r`.
    Split {
        power: usize,
        quotient: Quotient,
        rest: Box<Node>,
    },
}

#[derive(Debug)]
enum Quotient {
    Const(f64),
    Node(Box<Node>),
}

/// `p = q X_P + r` in the monomial or Chebyshev basis (`deg p < 2P`).
fn divide(c: &[f64], power: usize, chebyshev: bool) -> (Vec<f64>, Vec<f64>) {
    let mut q = vec![0.0; c.len() - power];
    let mut r = c[..power].to_vec();
    q[0] = c[power];
    for j in 1..q.len() {
        let v = c[power + j];
        if chebyshev {
            // T_{P+j} = 2 T_P T_j - T_{P-j}
            q[j] = 2.0 * v;
            r[power - j] -= v;
        } else {
            q[j] = v;
        }
    }
    (q, r)
}

/// The split tree of `c` for a node with `avail` levels (it must end, before
/// its rescale, `avail - 1` levels below the power basis' top) and leaves of
/// degree below `2^log_baby`.
fn plan(c: &[f64], avail: usize, log_baby: usize, chebyshev: bool) -> Node {
    let d = degree_of(c);
    if d == 0 {
        return if c[0] == 0.0 {
            Node::Zero
        } else {
            Node::Const(c[0])
        };
    }
    // X_i sits ceil(log2 i) levels below the top; the leaf may use it iff that
    // is at most `avail - 1`.
    if d < 1 << log_baby && ceil_log2(d) < avail {
        return Node::Leaf(c[..=d].to_vec());
    }
    let power = 1 << floor_log2(d);
    let (q, r) = divide(&c[..=d], power, chebyshev);
    let quotient = if degree_of(&q) == 0 {
        Quotient::Const(q[0])
    } else {
        Quotient::Node(Box::new(plan(&q, avail - 1, log_baby, chebyshev)))
    };
    Node::Split {
        power,
        quotient,
        rest: Box::new(plan(&r, avail, log_baby, chebyshev)),
    }
}

/// Powers used directly by the tree, and the number of giant-step products.
fn collect(node: &Node, used: &mut BTreeSet<usize>, products: &mut usize) {
    match node {
        Node::Zero | Node::Const(_) => {}
        Node::Leaf(c) => used.extend((1..c.len()).filter(|&i| c[i] != 0.0)),
        Node::Split {
            power,
            quotient,
            rest,
        } => {
            used.insert(*power);
            if let Quotient::Node(q) = quotient {
                *products += 1;
                collect(q, used, products);
            }
            collect(rest, used, products);
        }
    }
}

/// How `X_i` is built: `X_i = X_hi * X_lo` (Chebyshev: `2 T_hi T_lo - T_{hi-lo}`),
/// `hi` the largest power of two below `i` (or `i/2` for a power of two).
fn factors(i: usize) -> (usize, usize) {
    let hi = if i.is_power_of_two() {
        i / 2
    } else {
        1 << floor_log2(i)
    };
    (hi, i - hi)
}

/// `used` closed under [`factors`] (and `hi - lo` for Chebyshev).
fn closure(used: &BTreeSet<usize>, chebyshev: bool) -> BTreeSet<usize> {
    let mut all = BTreeSet::new();
    let mut todo: Vec<usize> = used.iter().copied().collect();
    while let Some(i) = todo.pop() {
        if i == 0 || !all.insert(i) || i == 1 {
            continue;
        }
        let (hi, lo) = factors(i);
        todo.push(hi);
        todo.push(lo);
        if chebyshev && hi > lo {
            todo.push(hi - lo);
        }
    }
    all.insert(1);
    all
}

/// The plan for a set of polynomials sharing one power basis.
struct Schedule {
    chebyshev: bool,
    /// Per polynomial: its tree and depth in the power basis (0 for constants).
    trees: Vec<(Node, usize)>,
    powers: BTreeSet<usize>,
    products: usize,
}

impl Schedule {
    /// The cheapest schedule over the baby-step sizes, or `None` if every
    /// polynomial has degree <= 1 (no power basis needed).
    fn new(polys: &[Polynomial]) -> Option<Self> {
        let chebyshev = matches!(polys.first()?.basis, Basis::Chebyshev { .. });
        let max_deg = polys.iter().map(Polynomial::degree).max()?;
        if max_deg <= 1 {
            return None;
        }
        let max_depth = ceil_log2(max_deg + 1);
        (1..=max_depth)
            .map(|log_baby| Self::with_baby(polys, chebyshev, log_baby))
            .min_by_key(|s| (s.mul_count(), s.powers.len()))
    }

    fn with_baby(polys: &[Polynomial], chebyshev: bool, log_baby: usize) -> Self {
        let mut used = BTreeSet::new();
        let mut products = 0;
        let trees = polys
            .iter()
            .map(|p| {
                let d = p.degree();
                let depth = if d <= 1 { 0 } else { ceil_log2(d + 1) };
                let tree = if d <= 1 {
                    Node::Zero
                } else {
                    plan(&p.coeffs, depth, log_baby, chebyshev)
                };
                collect(&tree, &mut used, &mut products);
                (tree, depth)
            })
            .collect();
        Self {
            chebyshev,
            trees,
            powers: closure(&used, chebyshev),
            products,
        }
    }

    fn mul_count(&self) -> usize {
        self.powers.len() - 1 + self.products
    }
}

// ---------------------------------------------------------------------------
// Execution.

/// A node's value before its rescale.
enum Out<V> {
    Zero,
    Const(f64),
    Value(V),
}

struct Runner<'e, E: SlotOps> {
    ev: &'e E,
    chebyshev: bool,
    powers: BTreeMap<usize, E::Value>,
}

impl<E: SlotOps> Runner<'_, E> {
    fn power(&self, i: usize) -> Result<&E::Value, SlotError> {
        self.powers
            .get(&i)
            .ok_or(SlotError::InvalidParams("poly: power basis incomplete"))
    }

    /// `X_i` dropped to `level` (a clone if already there).
    fn power_at(&self, i: usize, level: usize) -> Result<E::Value, SlotError> {
        let x = self.power(i)?;
        if x.level() > level {
            self.ev.drop_to_level(x, level)
        } else {
            Ok(x.clone())
        }
    }

    /// Computes every power in `wanted` (closed under `factors`), ascending.
    fn build(&mut self, wanted: &BTreeSet<usize>) -> Result<(), SlotError> {
        let ev = self.ev;
        for &i in wanted.iter().filter(|&&i| i > 1) {
            let (hi, lo) = factors(i);
            let prod = ev.mul(self.power(hi)?, self.power(lo)?)?;
            let unscaled = if !self.chebyshev {
                prod
            } else {
                let twice = ev.mul_const(&prod, Complex::from_real(2.0))?;
                if hi == lo {
                    ev.add_const(&twice, Complex::from_real(-1.0))?
                } else {
                    // T_{hi-lo} lifted onto the product's scale, exactly.
                    let t = self.power_at(hi - lo, prod.level())?;
                    let lifted = ev.mul_const_scaled(&t, Complex::ONE, prod.scale() / t.scale())?;
                    ev.sub(&twice, &lifted)?
                }
            };
            let value = ev.rescale_owned(unscaled)?;
            self.powers.insert(i, value);
        }
        Ok(())
    }

    /// Evaluates `node` at `level` with scale `scale`, before its rescale.
    fn run(&self, node: &Node, level: usize, scale: f64) -> Result<Out<E::Value>, SlotError> {
        let ev = self.ev;
        match node {
            Node::Zero => Ok(Out::Zero),
            Node::Const(c) => Ok(Out::Const(*c)),
            Node::Leaf(c) => {
                let mut acc: Option<E::Value> = None;
                for i in (1..c.len()).rev().filter(|&i| c[i] != 0.0) {
                    let x = self.power_at(i, level)?;
                    let term =
                        ev.mul_const_scaled(&x, Complex::from_real(c[i]), scale / x.scale())?;
                    acc = Some(match acc {
                        None => term,
                        Some(a) => ev.add(&a, &term)?,
                    });
                }
                let acc = acc.ok_or(SlotError::InvalidParams("poly: empty leaf"))?;
                Ok(Out::Value(self.plus_const(acc, c[0])?))
            }
            Node::Split {
                power,
                quotient,
                rest,
            } => {
                let term = match quotient {
                    Quotient::Const(c) => {
                        let x = self.power_at(*power, level)?;
                        ev.mul_const_scaled(&x, Complex::from_real(*c), scale / x.scale())?
                    }
                    Quotient::Node(q) => {
                        let x = self.power(*power)?;
                        let q_scale = scale * ev.modulus(level + 1) as f64 / x.scale();
                        let Out::Value(qv) = self.run(q, level + 1, q_scale)? else {
                            return Err(SlotError::InvalidParams("poly: constant quotient"));
                        };
                        ev.mul(&ev.rescale_owned(qv)?, x)?
                    }
                };
                match self.run(rest, level, scale)? {
                    Out::Zero => Ok(Out::Value(term)),
                    Out::Const(c) => Ok(Out::Value(self.plus_const(term, c)?)),
                    Out::Value(r) => Ok(Out::Value(ev.add(&term, &r)?)),
                }
            }
        }
    }

    fn plus_const(&self, v: E::Value, c: f64) -> Result<E::Value, SlotError> {
        if c == 0.0 {
            Ok(v)
        } else {
            self.ev.add_const(&v, Complex::from_real(c))
        }
    }
}

fn check_scale(out_scale: f64) -> Result<(), SlotError> {
    if !out_scale.is_finite() {
        return Err(SlotError::NonFinite);
    }
    if out_scale <= 0.0 {
        return Err(SlotError::InvalidParams("output scale must be positive"));
    }
    Ok(())
}

/// `c` at `x`'s level and scale `out_scale` (no level spent).
fn constant<E: SlotOps>(
    ev: &E,
    x: &E::Value,
    c: f64,
    out_scale: f64,
) -> Result<E::Value, SlotError> {
    let zero = ev.mul_const_scaled(x, Complex::ZERO, out_scale / x.scale())?;
    if c == 0.0 {
        Ok(zero)
    } else {
        ev.add_const(&zero, Complex::from_real(c))
    }
}

/// `c1 x + c0` at scale `out_scale`, one level.
fn linear<E: SlotOps>(
    ev: &E,
    x: &E::Value,
    p: &Polynomial,
    out_scale: f64,
) -> Result<E::Value, SlotError> {
    let level = x.level();
    if level == 0 {
        return Err(SlotError::LevelExhausted {
            op: "poly::evaluate",
        });
    }
    let m = p.as_linear_monomial();
    let s = out_scale * ev.modulus(level) as f64;
    let t = ev.mul_const_scaled(x, Complex::from_real(m.coeffs[1]), s / x.scale())?;
    let t = if m.coeffs[0] == 0.0 {
        t
    } else {
        ev.add_const(&t, Complex::from_real(m.coeffs[0]))?
    };
    ev.rescale_owned(t)
}

/// `y = alpha x + beta` onto Chebyshev's `[-1, 1]`: free for an integer slope,
/// otherwise one level (the slope encoded at `q_level`, then a rescale).
fn affine<E: SlotOps>(ev: &E, x: &E::Value, basis: Basis) -> Result<E::Value, SlotError> {
    let (alpha, beta) = basis.affine();
    let mut y = if alpha == 1.0 {
        x.clone()
    } else {
        ev.mul_const(x, Complex::from_real(alpha))?
    };
    if beta != 0.0 {
        y = ev.add_const(&y, Complex::from_real(beta))?;
    }
    if basis.map_costs_level() {
        y = ev.rescale_owned(y)?;
    }
    Ok(y)
}

/// `p(x)` slot-wise, at level `x.level() - p.depth()` and scale `out_scale`
/// (pass `ev.default_scale()` for the usual one).
///
/// [`SlotError::LevelExhausted`] if `x` has fewer than `p.depth()` levels;
/// errors of the engine otherwise (e.g. a missing relinearization key, or on
/// the simulator a modulus overflow when intermediate values are too large
/// for the chain: the values `sum c_i T_i` of partial sums must stay well
/// below `Q_level / (Δ q)`).
pub fn evaluate<E: SlotOps>(
    ev: &E,
    x: &E::Value,
    p: &Polynomial,
    out_scale: f64,
) -> Result<E::Value, SlotError> {
    let mut out = evaluate_many(ev, x, core::slice::from_ref(p), out_scale)?;
    out.pop().ok_or(SlotError::EmptyInput)
}

/// Several polynomials of `x` sharing one power basis (same basis and
/// interval required, [`SlotError::InvalidParams`] otherwise): output `i` at
/// level `x.level() - polys[i].depth()` and scale `out_scale`. Cheaper than
/// separate calls when the polynomials use the same powers.
pub fn evaluate_many<E: SlotOps>(
    ev: &E,
    x: &E::Value,
    polys: &[Polynomial],
    out_scale: f64,
) -> Result<Vec<E::Value>, SlotError> {
    check_scale(out_scale)?;
    let first = polys.first().ok_or(SlotError::EmptyInput)?;
    if polys.iter().any(|p| p.basis != first.basis) {
        return Err(SlotError::InvalidParams(
            "evaluate_many: polynomials must share one basis",
        ));
    }
    let needed = polys.iter().map(Polynomial::depth).max().unwrap_or(0);
    if x.level() < needed {
        return Err(SlotError::LevelExhausted {
            op: "poly::evaluate",
        });
    }
    let Some(schedule) = Schedule::new(polys) else {
        return polys
            .iter()
            .map(|p| match p.degree() {
                0 => constant(ev, x, p.coeffs[0], out_scale),
                _ => linear(ev, x, p, out_scale),
            })
            .collect();
    };
    let x1 = affine(ev, x, first.basis)?;
    let top = x1.level();
    let mut runner = Runner {
        ev,
        chebyshev: schedule.chebyshev,
        powers: BTreeMap::new(),
    };
    runner.powers.insert(1, x1);
    runner.build(&schedule.powers)?;
    polys
        .iter()
        .zip(&schedule.trees)
        .map(|(p, (tree, depth))| match p.degree() {
            0 => constant(ev, x, p.coeffs[0], out_scale),
            1 => linear(ev, x, p, out_scale),
            _ => {
                // The tree's root ends at `top - depth + 1` before its rescale.
                let level = top + 1 - depth;
                let scale = out_scale * ev.modulus(level) as f64;
                match runner.run(tree, level, scale)? {
                    Out::Value(v) => ev.rescale_owned(v),
                    _ => Err(SlotError::InvalidParams("poly: constant root")),
                }
            }
        })
        .collect()
}
