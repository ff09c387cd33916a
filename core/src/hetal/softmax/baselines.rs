//! Prior softmax approximations, in f64, for the error table
//! (constants of `src/benchmark/softmax.py` in the HETAL repository).

use alloc::vec;
use alloc::vec::Vec;

use super::spec::{PolySpec, SoftmaxSpec};

fn goldschmidt(z: f64, r: f64, iterations: usize) -> f64 {
    let zr = z / r;
    let (mut t, mut v) = (1.0 - zr, 2.0 - zr);
    for _ in 0..iterations {
        t *= t;
        v *= 1.0 + t;
    }
    v / r
}

/// Exp and inverse without normalisation (no max shift, no domain
/// extension): the paper's degree-8 exp fit on `[-8, 0]` with 3 squarings
/// applied to the raw logits, Goldschmidt with `R = 100`, 16 iterations.
/// Valid only near 0; on wide inputs it overflows (non-finite outputs).
pub fn no_normalisation(x: &[f64]) -> Vec<f64> {
    let spec = SoftmaxSpec::paper();
    let e: Vec<f64> = x
        .iter()
        .map(|&xi| {
            let mut e = spec.exp.poly.eval(xi);
            for _ in 0..spec.exp.squarings {
                e *= e;
            }
            e
        })
        .collect();
    let inv = goldschmidt(e.iter().sum(), 100.0, 16);
    e.iter().map(|&v| v * inv).collect()
}

/// PrivGD (Jin et al. 2020): `softmax_i ≈ prod_{j != i} σ(x_i - x_j)` with
/// `σ(t) = 0.5 + 0.15012 t - 0.00156 t^3`.
pub fn privgd(x: &[f64]) -> Vec<f64> {
    let sigma = PolySpec::Monomial(vec![0.5, 0.15012, 0.0, -0.00156]);
    (0..x.len())
        .map(|i| {
            (0..x.len())
                .filter(|&j| j != i)
                .map(|j| sigma.eval(x[i] - x[j]))
                .product()
        })
        .collect()
}

/// Hong et al.: `exp(x) ≈ ((x + 16) / 32)^16`, inverse with `R = 80`, 30 iterations.
pub fn hong(x: &[f64]) -> Vec<f64> {
    let e: Vec<f64> = x
        .iter()
        .map(|&xi| libm::pow((xi + 16.0) / 32.0, 16.0))
        .collect();
    let inv = goldschmidt(e.iter().sum(), 80.0, 30);
    e.iter().map(|&v| v * inv).collect()
}
