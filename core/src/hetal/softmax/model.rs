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
    let e: Vec<f64> = u[..c]
        .iter()
        .map(|&uj| exp_of_shifted(sm, uj - m))
        .collect();
    let inv = inverse(sm, e.iter().sum());
    e.iter().map(|&ej| ej * inv).collect()
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
/// normalised entry.
pub fn exp_of_shifted(sm: &Softmax, y: f64) -> f64 {
    let y = sm.ext_polys().iter().fold(y, |y, p| p.eval_f64(y));
    let mut e = sm.exp_poly().eval_f64(y);
    for _ in 0..sm.spec().exp.squarings {
        e *= e;
    }
    e
}

/// The Goldschmidt inverse of the row sum `z`, in the circuit's form:
/// `t = 1 - z/R`, `P = (1 + t)/R`, then `t <- t^2`, `P <- P (1 + t)`.
pub fn inverse(sm: &Softmax, z: f64) -> f64 {
    let inv = sm.spec().inv;
    let mut t = 1.0 - z / inv.r;
    let mut p = 2.0 / inv.r - z / (inv.r * inv.r);
    for _ in 0..inv.iterations {
        t *= t;
        p *= 1.0 + t;
    }
    p
}
