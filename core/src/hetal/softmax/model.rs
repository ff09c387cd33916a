//! The plain f64 model of exactly the encrypted circuit: the same
//! polynomials (from the resolved [`Softmax`]), the same max tree pairing,
//! the same Goldschmidt recurrence. The encrypted path on the exact
//! simulator agrees with it to rounding (`1e-9`).

use alloc::vec;
use alloc::vec::Vec;

use super::Softmax;

/// The model on one row (`x.len() == sm.classes()`).
pub(super) fn eval_row(sm: &Softmax, x: &[f64]) -> Vec<f64> {
    let (c, cp) = (sm.classes(), sm.padded());
    assert_eq!(x.len(), c, "row of {} logits for {c} classes", x.len());
    let mut u = vec![sm.pad_value(); cp];
    u[..c]
        .iter_mut()
        .zip(x)
        .for_each(|(u, &x)| *u = x * sm.norm());
    let m = row_max(sm, &u);
    let e: Vec<f64> = u[..c].iter().map(|&uj| exp_held(sm, uj - m)).collect();
    let sh = sm.shifts();
    let e_shift = *sh.exp.last().expect("exp shifts");
    let inv = inverse_held(sm, e.iter().sum::<f64>() * pow2(e_shift as i32));
    let back = pow2((e_shift + sh.p) as i32);
    e.iter().map(|&ej| ej * inv * back).collect()
}

fn pow2(k: i32) -> f64 {
    libm::ldexp(1.0, k)
}

/// The approximate max of a padded, normalised row, by the circuit's tree: in round `t`
/// entry `i` becomes `max~(u[i], u[i + 2^t])`; entry 0 is the result.
pub fn row_max(sm: &Softmax, padded_row: &[f64]) -> f64 {
    let mut u = padded_row.to_vec();
    let round = sm.max_round();
    for t in 0..sm.rounds() {
        let s = 1 << t;
        for i in (0..u.len()).step_by(2 * s) {
            u[i] = round.eval(u[i], u[i + s]);
        }
    }
    u[0]
}

/// Domain extension, exp polynomial and squarings of one shifted,
/// normalised entry, held as the circuit holds it: divided by
/// `2^shifts().exp[last]`.
pub fn exp_held(sm: &Softmax, y: f64) -> f64 {
    let y = sm.ext_polys().iter().fold(y, |y, p| p.eval_f64(y));
    let sh = &sm.shifts().exp;
    let mut e = sm.exp_poly().eval_f64(y);
    for j in 0..sm.spec().exp.squarings {
        e = e * e * pow2((2 * sh[j] - sh[j + 1]) as i32);
    }
    e
}

/// [`exp_held`] multiplied back: the approximation of `exp` itself.
pub fn exp_of_shifted(sm: &Softmax, y: f64) -> f64 {
    exp_held(sm, y) * pow2(*sm.shifts().exp.last().expect("exp shifts") as i32)
}

/// The inverse of the row sum `z` in the circuit's form ([`super::InvStart`]):
/// `S_0 = alpha z + beta`; `Q <- Q (S_j + g_j)`, `S <- 2 S^2 - s_j^2`; `t = S`,
/// `P = Q (1 + t)`, `t <- t^2`; then `P <- P (1 + t)`, `t <- t^2`.
pub fn inverse(sm: &Softmax, z: f64) -> f64 {
    inverse_held(sm, z) * pow2(sm.shifts().p as i32)
}

/// [`inverse`] as the circuit holds it: divided by `2^shifts().p`.
fn inverse_held(sm: &Softmax, z: f64) -> f64 {
    let st = sm.inv_start();
    let mut s = st.alpha * z + st.beta;
    let mut q = st.c;
    for (g, s2) in st.g.iter().zip(&st.s2) {
        q *= s + g;
        s = 2.0 * (s * s) - s2;
    }
    let iterations = sm.spec().inv.iterations;
    let mut p = q * (1.0 + s);
    let mut t = s * s;
    for i in 1..=iterations {
        p *= 1.0 + t;
        if i < iterations {
            t *= t;
        }
    }
    p
}
