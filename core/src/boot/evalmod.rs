//! EvalMod: `x -> (1 / 2 pi) sin(2 pi x)`, which removes the `q0 I` of ModRaise.
//!
//! With `x = y K` for `y in [-1, 1]` (the factor `1/K` is folded into CoeffToSlot), the
//! evaluator computes `c_0 = cos(2 pi (K y - 1/4) / 2^r)` as a Chebyshev interpolant of
//! degree `d` on `[-1, 1]`, then `r` double-angle steps `c_{i+1} = 2 c_i^2 - 1`, ending at
//! `cos(2 pi (x - 1/4)) = sin(2 pi x)`. Near an integer `I`, `sin(2 pi (I + e)) / 2 pi`
//! is `e` up to `(2 pi)^2 e^3 / 6`, which is why the message is kept small relative to
//! `q0` (the ratio `q0 / scale` of the ciphertext entering bootstrapping).
//!
//! The Chebyshev polynomial is evaluated by baby-step giant-step in the Chebyshev basis
//! with exact scale targeting: every linear combination multiplies its terms by integers
//! chosen so that they all land on one requested scale, so sums never mix scales and no
//! level is spent on scale repair.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;
use core::f64::consts::PI;

use crate::ckks::complex::Complex;
use crate::ckks::evaluator::Tensor;
use crate::ckks::{Ciphertext, CkksError, Evaluator};

/// Chebyshev coefficients `c_0..c_deg` of the interpolant of `f` on `[-1, 1]` at the
/// `deg + 1` Chebyshev nodes: `f(y) ~ sum_k c_k T_k(y)`.
pub fn chebyshev_interpolate(f: impl Fn(f64) -> f64, deg: usize) -> Vec<f64> {
    let m = deg + 1;
    let fx: Vec<f64> = (0..m)
        .map(|j| f(libm::cos(PI * (j as f64 + 0.5) / m as f64)))
        .collect();
    (0..m)
        .map(|k| {
            let s: f64 = (0..m)
                .map(|j| fx[j] * libm::cos(PI * k as f64 * (j as f64 + 0.5) / m as f64))
                .sum();
            let c = 2.0 * s / m as f64;
            if k == 0 { 0.5 * c } else { c }
        })
        .collect()
}

/// `sum_k c_k T_k(y)` (Clenshaw).
pub fn chebyshev_eval(c: &[f64], y: f64) -> f64 {
    let (mut b1, mut b2) = (0.0, 0.0);
    for &ck in c.iter().skip(1).rev() {
        let b0 = 2.0 * y * b1 - b2 + ck;
        b2 = b1;
        b1 = b0;
    }
    y * b1 - b2 + c.first().copied().unwrap_or(0.0)
}

/// The default bound on the baby-step width, `2^3` (see [`EvalModPoly::baby_log2`]).
pub const DEFAULT_BABY_LOG2: u32 = 3;

/// The EvalMod function: interval `[-k, k]`, Chebyshev degree, double-angle steps.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalModPoly {
    /// Half-width `K` of the input interval (in units of `q0`).
    pub k: f64,
    /// Double-angle steps `r`.
    pub double_angle: usize,
    /// Chebyshev coefficients of `cos(2 pi (K y - 1/4) / 2^r)` on `y in [-1, 1]` (for
    /// `r = 0`, of `sin(2 pi K y)` computed as such, so that the series is odd).
    pub coeffs: Vec<f64>,
    /// Degree of the odd Taylor polynomial of `arcsin` the output goes through (0: none):
    /// 3 (`t + t^3 / 6`, two more levels) cancels the `-(2 pi e)^3 / 6` term of
    /// `sin(2 pi e)` and leaves `~0.075 (2 pi e)^5`; 5 (`+ 3 t^5 / 40`, three levels)
    /// leaves `~0.045 (2 pi e)^7`, which lets the message come closer to `q0`.
    pub arcsine_degree: usize,
    /// The Chebyshev basis is built up to `T_g` with `g <= 2^baby_log2` (baby steps),
    /// then `T_{2g}, T_{4g}, ..` (giant steps); the depth is the same for every `g`. A
    /// small `g` spends fewer key switches (the products of the giant-step tree share
    /// one relinearization per level), a large one fewer tensor products.
    pub baby_log2: u32,
}

impl EvalModPoly {
    /// Interpolates the scaled cosine.
    pub fn new(k: f64, degree: usize, double_angle: usize) -> Self {
        let r = libm::exp2(double_angle as f64);
        // Without double angles the function is `sin(2 pi K y)`, evaluated as such: odd to
        // the last bit, so its even coefficients vanish (the cosine of the shifted
        // argument leaves ~1e-15 in them) and the evaluation skips the even powers.
        let coeffs = if double_angle == 0 {
            chebyshev_interpolate(|y| libm::sin(2.0 * PI * k * y), degree)
        } else {
            chebyshev_interpolate(|y| libm::cos(2.0 * PI * (k * y - 0.25) / r), degree)
        };
        Self {
            k,
            double_angle,
            coeffs,
            arcsine_degree: 0,
            baby_log2: DEFAULT_BABY_LOG2,
        }
    }

    /// The same with the arcsine correction of `degree` 0, 3 or 5 (other degrees are
    /// rounded down to one of these).
    pub fn with_arcsine(mut self, degree: usize) -> Self {
        self.arcsine_degree = match degree {
            0..=2 => 0,
            3 | 4 => 3,
            _ => 5,
        };
        self
    }

    /// Levels of the arcsine step.
    fn arcsine_depth(&self) -> usize {
        match self.arcsine_degree {
            0 => 0,
            3 => 2,
            _ => 3,
        }
    }

    /// The f64 model: `sin(2 pi x)` approximated at `x` (`|x| <= K`).
    pub fn eval_f64(&self, x: f64) -> f64 {
        let mut c = chebyshev_eval(&self.coeffs, x / self.k);
        for _ in 0..self.double_angle {
            c = 2.0 * c * c - 1.0;
        }
        let u = c * c;
        match self.arcsine_degree {
            0 => c,
            3 => c * (1.0 + u / 6.0),
            _ => c * (1.0 + u / 6.0 + 3.0 * u * u / 40.0),
        }
    }

    /// Max of `|eval_f64(x) / 2 pi - (x - round(x))|` over `x = I + e`, `|I| <= K`
    /// integer, `|e| <= eps` (sampled): the model error of EvalMod in units of `q0`.
    pub fn model_error(&self, eps: f64) -> f64 {
        let kk = libm::floor(self.k) as i64;
        let mut worst = 0.0f64;
        for i in -kk..=kk {
            for j in -8..=8 {
                let e = eps * j as f64 / 8.0;
                let x = i as f64 + e;
                if x.abs() > self.k {
                    continue;
                }
                let err = (self.eval_f64(x) / (2.0 * PI) - e).abs();
                worst = worst.max(err);
            }
        }
        worst
    }

    /// Levels consumed by [`Self::evaluate`].
    pub fn depth(&self) -> usize {
        let (g, m) = split_degree(self.coeffs.len() - 1, self.baby_log2);
        g.trailing_zeros() as usize + m + 1 + self.double_angle + self.arcsine_depth()
    }

    /// Evaluates on `y` (values in `[-1, 1]`); returns `sin(2 pi K y)` at exactly
    /// `out_scale`, [`Self::depth`] levels below `y`.
    pub fn evaluate(
        &self,
        ev: &Evaluator<'_>,
        y: &Ciphertext,
        out_scale: f64,
    ) -> Result<Ciphertext, CkksError> {
        let q = ev.context().params().q();
        let l_out = y
            .level()
            .checked_sub(self.depth())
            .ok_or(CkksError::LevelExhausted)?;
        let l_poly = l_out + self.arcsine_depth() + self.double_angle;
        let qf = |l: usize| q[l] as f64;
        // With the cubic arcsine step, t (at level l_out + 2) becomes t (1 + t^2 / 6) at
        // l_out: scale s_t^3 * 6 / (q_{l_out+2} q_{l_out+1}) (the 1/6 is a scale relabel).
        // With the quintic one (see `arcsine5`), s_t^5 * 40 / (3 q_{l+3}^2 q_{l+2} q_{l+1}).
        let s_t = match self.arcsine_degree {
            0 => out_scale,
            3 => libm::cbrt(out_scale * qf(l_out + 2) * qf(l_out + 1) / 6.0),
            _ => libm::pow(
                out_scale * qf(l_out + 3) * qf(l_out + 3) * qf(l_out + 2) * qf(l_out + 1) * 3.0
                    / 40.0,
                0.2,
            ),
        };
        // Scale before each squaring so that the last lands on s_t exactly:
        // s_{i+1} = s_i^2 / q_{l_poly - i}.
        let mut s = s_t;
        for i in (0..self.double_angle).rev() {
            s = libm::sqrt(s * q[l_poly - i] as f64);
        }
        let coeffs = odd_cleaned(&self.coeffs);
        let basis = ChebBasis::new(ev, y, &coeffs, self.baby_log2)?;
        let mut c = basis.eval(ev, &coeffs, l_poly, s)?;
        for i in 0..self.double_angle {
            let l = l_poly - i;
            let target = c.scale * c.scale / q[l] as f64;
            let mut two = ev.mul_relin(&c, &c)?;
            mul_int_assign(ev, &mut two, 2.0)?;
            ev.add_const_assign(&mut two, Complex::from_real(-1.0))?;
            c = ev.rescale_owned(two)?;
            c.scale = target;
        }
        c.scale = s_t;
        match self.arcsine_degree {
            0 => {}
            3 => {
                let mut u = ev.rescale_owned(ev.mul_relin(&c, &c)?)?;
                u.scale *= 6.0;
                ev.add_const_assign(&mut u, Complex::ONE)?;
                c = ev.rescale_owned(ev.mul_relin(&c, &u)?)?;
            }
            _ => c = arcsine5(ev, &c)?,
        }
        c.scale = out_scale;
        Ok(c)
    }
}

/// `t (1 + u / 6 + 3 u^2 / 40)` with `u = t^2`, three levels: `u`, then
/// `w = u^2 + (20/9) u + 40/3` before one rescale (the `u` term as an integer multiple at
/// the product scale, so no level or rounding is spent on it), relabelled by `40 / 3`;
/// then `t w`. The output scale is `s_t^5 40 / (3 q_l^2 q_{l-1} q_{l-2})` for `t` at
/// level `l` with scale `s_t`.
fn arcsine5(ev: &Evaluator<'_>, t: &Ciphertext) -> Result<Ciphertext, CkksError> {
    let u = ev.rescale_owned(ev.mul_relin(t, t)?)?;
    let mut w = ev.mul_relin(&u, &u)?;
    add_mul_int(ev, &mut w, &u, libm::round(20.0 / 9.0 * u.scale))?;
    ev.add_const_assign(&mut w, Complex::from_real(40.0 / 3.0))?;
    let mut w = ev.rescale_owned(w)?;
    w.scale *= 40.0 / 3.0;
    ev.rescale_owned(ev.mul_relin(t, &w)?)
}

/// `(g, m)`: baby width `g` (a power of two, at most `2^max_baby_log2`) and `m` giant
/// doublings with `deg < g 2^m`.
fn split_degree(deg: usize, max_baby_log2: u32) -> (usize, usize) {
    let total = (deg + 1).next_power_of_two().trailing_zeros() as usize;
    let b = total.div_ceil(2).min(max_baby_log2 as usize).max(1);
    (1 << b, total.saturating_sub(b))
}

/// The residues of the integer `k` (an f64 holding an integer of any size) modulo the
/// first `limbs` primes.
fn int_residues(ev: &Evaluator<'_>, limbs: usize, k: f64) -> Vec<u64> {
    let ring = ev.context().ring();
    let neg = k < 0.0;
    let a = k.abs();
    // a = mant * 2^exp exactly.
    let (mant, exp) = if a < 4611686018427387904.0 {
        (a as u64, 0i32)
    } else {
        let e = libm::ilogb(a) - 52;
        ((libm::ldexp(a, -e)) as u64, e)
    };
    ring.q_moduli()[..limbs]
        .iter()
        .map(|m| {
            let mut r = m.reduce(mant);
            if exp > 0 {
                r = m.mul(r, m.pow(m.reduce(2), exp as u64));
            }
            if neg { m.sub(0, r) } else { r }
        })
        .collect()
}

/// Multiplies both parts by the integer `k` (an f64 holding an integer of any size) in
/// place, keeping the scale label.
fn mul_int_assign(ev: &Evaluator<'_>, ct: &mut Ciphertext, k: f64) -> Result<(), CkksError> {
    let ring = ev.context().ring();
    let residues = int_residues(ev, ct.level() + 1, k);
    ct.c0.mul_rns_scalar_assign(ring, &residues)?;
    ct.c1.mul_rns_scalar_assign(ring, &residues)?;
    Ok(())
}

/// `acc += k b` in place for an integer `k`, at `acc`'s level (`b` at that level or
/// above: only its first limbs are read), keeping `acc`'s scale label. One pass over the
/// limbs, no copy of `b` (EvalMod's linear combinations are sums of many such terms).
fn add_mul_int(
    ev: &Evaluator<'_>,
    acc: &mut Ciphertext,
    b: &Ciphertext,
    k: f64,
) -> Result<(), CkksError> {
    let ring = ev.context().ring();
    let limbs = acc.level() + 1;
    if b.level() < acc.level() || acc.slots != b.slots {
        return Err(CkksError::BadLevel {
            current: b.level(),
            requested: acc.level(),
        });
    }
    let residues = int_residues(ev, limbs, k);
    let (kern, n) = (ring.kernels(), ring.n());
    for (out, inp) in [(&mut acc.c0, &b.c0), (&mut acc.c1, &b.c1)] {
        let data = &mut out.data_mut()[..limbs * n];
        ring.executor().for_each_chunk_mut(data, n, &|i, limb| {
            let q = ring.moduli()[i];
            kern.mul_scalar_add_assign(limb, inp.limb(i), &q.shoup(residues[i]), q.value());
        });
    }
    Ok(())
}

/// `sum_j k_j b_j` at `level` (every `b_j` at that level or above) with the scale label
/// `scale`, for integers `k_j`: one pass per output limb (the kernels' lazy
/// `dot_scalar`), instead of one multiply-add pass over an accumulator per term.
fn int_combination_at(
    ev: &Evaluator<'_>,
    terms: &[(&Ciphertext, f64)],
    level: usize,
    scale: f64,
    slots: usize,
) -> Result<Ciphertext, CkksError> {
    let ring = ev.context().ring();
    let limbs = level + 1;
    if let Some((b, _)) = terms
        .iter()
        .find(|(b, _)| b.level() < level || b.slots != slots)
    {
        return Err(CkksError::BadLevel {
            current: b.level(),
            requested: level,
        });
    }
    let form = terms
        .first()
        .map_or(crate::ring::Form::Ntt, |(b, _)| b.c0.form());
    let mut out = Ciphertext {
        c0: crate::ring::RnsPoly::zero(ring, limbs, 0, form)?,
        c1: crate::ring::RnsPoly::zero(ring, limbs, 0, form)?,
        scale,
        slots,
    };
    if terms.is_empty() {
        return Ok(out);
    }
    // Per limb, every term's integer modulo that limb's prime (Shoup form).
    let residues: Vec<Vec<u64>> = terms
        .iter()
        .map(|&(_, k)| int_residues(ev, limbs, k))
        .collect();
    let consts: Vec<Vec<hetal_simd::ShoupConst>> = (0..limbs)
        .map(|i| {
            residues
                .iter()
                .map(|r| ring.moduli()[i].shoup(r[i]))
                .collect()
        })
        .collect();
    let (kern, n) = (ring.kernels(), ring.n());
    for (second, poly) in [(false, &mut out.c0), (true, &mut out.c1)] {
        ring.executor()
            .for_each_chunk_mut(poly.data_mut(), n, &|i, limb| {
                let inputs: Vec<&[u64]> = terms
                    .iter()
                    .map(|(b, _)| if second { b.c1.limb(i) } else { b.c0.limb(i) })
                    .collect();
                kern.dot_scalar(limb, &inputs, &consts[i], ring.moduli()[i].value());
            });
    }
    Ok(out)
}

/// `a + c * b` where `a` is at a large (product) scale: `b` is multiplied by the integer
/// `round(c * a.scale / b.scale)` and added at `a`'s level, in place.
fn add_scaled(
    ev: &Evaluator<'_>,
    mut a: Ciphertext,
    b: &Ciphertext,
    c: f64,
) -> Result<Ciphertext, CkksError> {
    let k = libm::round(c * a.scale / b.scale);
    add_mul_int(ev, &mut a, b, k)?;
    Ok(a)
}

/// Whether the even coefficients of a Chebyshev series vanish (up to the rounding of its
/// interpolation): the series is an odd function.
fn is_odd(c: &[f64]) -> bool {
    let max = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    c.iter().step_by(2).all(|v| v.abs() <= 1e-12 * max)
}

/// `c` with its even coefficients set to exactly zero when it is odd up to rounding (the
/// interpolant of an odd function), unchanged otherwise: the evaluation then never reads
/// an even power below the baby width.
fn odd_cleaned(c: &[f64]) -> Vec<f64> {
    let mut c = c.to_vec();
    if is_odd(&c) {
        c.iter_mut().step_by(2).for_each(|v| *v = 0.0);
    }
    c
}

/// `T_0..` of one input in the Chebyshev basis: `T_i` for `i <= g` and `T_{g 2^j}`.
struct ChebBasis {
    t: BTreeMap<usize, Ciphertext>,
    g: usize,
}

impl ChebBasis {
    /// The powers the evaluation of `coeffs` reads: the giants `T_{g 2^j}`, the leaves'
    /// `T_k` (`k < g`; only the odd ones for an odd polynomial, see [`odd_cleaned`]) and
    /// what [`Self::product`] builds them from. An odd interpolant (EvalMod without double
    /// angles) so skips `T_6`: one product and one key switch fewer.
    fn new(
        ev: &Evaluator<'_>,
        y: &Ciphertext,
        coeffs: &[f64],
        baby_log2: u32,
    ) -> Result<Self, CkksError> {
        let (g, m) = split_degree(coeffs.len() - 1, baby_log2);
        let odd = is_odd(coeffs);
        let mut need: BTreeSet<usize> = (1..g).filter(|k| !odd || k % 2 == 1).collect();
        need.extend((0..m).map(|j| g << j));
        // Close under T_i <- (T_ceil(i/2), T_floor(i/2), T_{ceil - floor}), largest first.
        let mut stack: Vec<usize> = need.iter().copied().collect();
        while let Some(i) = stack.pop() {
            let (a, b) = (i.div_ceil(2), i / 2);
            for d in [a, b, a - b] {
                if d >= 1 && need.insert(d) {
                    stack.push(d);
                }
            }
        }
        let mut t = BTreeMap::new();
        t.insert(1usize, y.clone());
        for i in need.into_iter().filter(|&i| i >= 2) {
            let v = Self::product(ev, &t, i)?;
            t.insert(i, v);
        }
        Ok(Self { t, g })
    }

    /// `T_i = 2 T_a T_b - T_{a-b}` with `a = ceil(i/2)`, `b = floor(i/2)`.
    fn product(
        ev: &Evaluator<'_>,
        t: &BTreeMap<usize, Ciphertext>,
        i: usize,
    ) -> Result<Ciphertext, CkksError> {
        let (a, b) = (i.div_ceil(2), i / 2);
        let (ta, tb) = (&t[&a], &t[&b]);
        let mut two = ev.mul_relin(ta, tb)?;
        mul_int_assign(ev, &mut two, 2.0)?;
        let sum = if a == b {
            ev.add_const_assign(&mut two, Complex::from_real(-1.0))?;
            two
        } else {
            add_scaled(ev, two, &t[&(a - b)], -1.0)?
        };
        ev.rescale_owned(sum)
    }

    /// `sum c_k T_k` at level `l + 1` and scale `s * q_{l+1}` (before the final rescale).
    fn eval_pre(
        &self,
        ev: &Evaluator<'_>,
        c: &[f64],
        l: usize,
        s: f64,
    ) -> Result<Ciphertext, CkksError> {
        let (prods, lin) = self.eval_split(ev, c, l, s)?;
        match prods {
            None => Ok(lin),
            Some(t) => {
                let mut r = ev.relinearize(t)?;
                r.scale = lin.scale;
                ev.add(&r, &lin)
            }
        }
    }

    /// [`Self::eval_pre`] as (sum of the unrelinearized products, the linear rest).
    fn eval_split(
        &self,
        ev: &Evaluator<'_>,
        c: &[f64],
        l: usize,
        s: f64,
    ) -> Result<(Option<Tensor>, Ciphertext), CkksError> {
        let q = ev.context().params().q();
        let target = s * q[l + 1] as f64;
        let deg = c.len() - 1;
        if deg < self.g {
            return Ok((None, self.leaf(ev, c, l + 1, target)?));
        }
        // Largest giant power <= deg.
        let mut big = self.g;
        while big * 2 <= deg {
            big *= 2;
        }
        // p = qp * T_big + r.
        let mut qp = vec![0.0; deg - big + 1];
        qp[0] = c[big];
        for i in 1..qp.len() {
            qp[i] = 2.0 * c[big + i];
        }
        let mut r: Vec<f64> = c[..big].to_vec();
        for (i, &qi) in qp.iter().enumerate().skip(1) {
            r[big - i] -= 0.5 * qi;
        }
        // The product reads only the limbs of T_big it needs (no level-dropped copy).
        let tg = &self.t[&big];
        let qs = target / tg.scale;
        let qc = self.eval(ev, &qp, l + 1, qs)?;
        let mut prod = ev.mul_tensor(&qc, tg)?;
        prod.scale = target;
        // The remainder's own products are at this level and scale too: all of them are
        // summed unrelinearized and share one key switch.
        let (more, lin) = self.eval_split(ev, &r, l, s)?;
        let prods = match more {
            None => prod,
            Some(mut t) => {
                ev.add_tensor_assign(&mut t, &prod)?;
                t
            }
        };
        Ok((Some(prods), lin))
    }

    /// `sum c_k T_k` at level `l` and exactly scale `s`.
    fn eval(
        &self,
        ev: &Evaluator<'_>,
        c: &[f64],
        l: usize,
        s: f64,
    ) -> Result<Ciphertext, CkksError> {
        let mut out = ev.rescale_owned(self.eval_pre(ev, c, l, s)?)?;
        out.scale = s;
        Ok(out)
    }

    /// `sum_{k < g} c_k T_k` (no rescale) at `level`, scale exactly `target`.
    fn leaf(
        &self,
        ev: &Evaluator<'_>,
        c: &[f64],
        level: usize,
        target: f64,
    ) -> Result<Ciphertext, CkksError> {
        // Terms that round to zero (the even ones of an odd function) cost nothing; the
        // others are summed in one pass per limb.
        let mut terms = Vec::with_capacity(c.len());
        for (k, &ck) in c.iter().enumerate().skip(1) {
            if ck == 0.0 {
                continue;
            }
            // `new` built every power whose coefficient can be non-zero.
            let tk = &self.t[&k];
            let m = libm::round(ck * target / tk.scale);
            if m != 0.0 {
                terms.push((tk, m));
            }
        }
        let mut acc = int_combination_at(ev, &terms, level, target, self.t[&1].slots)?;
        acc.scale = target;
        if c[0] != 0.0 {
            ev.add_const_assign(&mut acc, Complex::from_real(c[0]))?;
        }
        Ok(acc)
    }
}

impl EvalModPoly {
    /// Evaluates the bare Chebyshev interpolant (no double angle) at level `l`, scale `s`.
    pub fn evaluate_chebyshev(
        ev: &Evaluator<'_>,
        y: &Ciphertext,
        coeffs: &[f64],
        l: usize,
        s: f64,
    ) -> Result<Ciphertext, CkksError> {
        let coeffs = odd_cleaned(coeffs);
        let basis = ChebBasis::new(ev, y, &coeffs, DEFAULT_BABY_LOG2)?;
        basis.eval(ev, &coeffs, l, s)
    }
}
