//! Samplers for keys, noise and masks, driven by a caller's cryptographic RNG.
//!
//! Every sampler is exact or has a documented, negligible deviation; none has modulo
//! bias. Small samplers return signed coefficients (`i64`); [`signed_to_rns`] maps them
//! to residues modulo each prime of a basis.
//!
//! ```
//! use hetal_core::math::sampler::{DiscreteGaussian, ternary_hamming};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! let s = ternary_hamming(&mut rng, 1024, 64).unwrap();
//! assert_eq!(s.iter().filter(|&&c| c != 0).count(), 64);
//! let e = DiscreteGaussian::standard().sample_vec(&mut rng, 1024);
//! assert!(e.iter().all(|&c| c.abs() <= 19));
//! ```

use super::{MathError, Modulus};
use alloc::vec;
use alloc::vec::Vec;
use rand_core::{CryptoRng, RngCore};

/// Uniform in `[0, bound)` by rejection of masked 64-bit draws (no modulo bias).
/// Panics if `bound == 0`.
pub fn uniform_below<R: RngCore + ?Sized>(rng: &mut R, bound: u64) -> u64 {
    assert!(bound > 0, "uniform_below: empty range");
    // The mask keeps at least half of the draws, so the expected number is below 2.
    let mask = u64::MAX >> (bound - 1).leading_zeros().min(63);
    let mask = if bound == 1 { 0 } else { mask };
    loop {
        let v = rng.next_u64() & mask;
        if v < bound {
            return v;
        }
    }
}

/// Fills `out` with independent uniform residues modulo `q`.
///
/// Each value is `next_u64() & (2^bits(q) - 1)`, redrawn until it is below `q`; this exact
/// order is what [`super::seed`] relies on.
pub fn fill_uniform<R: CryptoRng + ?Sized>(rng: &mut R, q: &Modulus, out: &mut [u64]) {
    for o in out.iter_mut() {
        *o = uniform_below(rng, q.value());
    }
}

/// Fills a limb-major polynomial (`out.len() = moduli.len() * n`) with uniform residues:
/// limb 0 first (all `n` coefficients in order), then limb 1, and so on.
pub fn fill_uniform_rns<R: CryptoRng + ?Sized>(
    rng: &mut R,
    moduli: &[Modulus],
    out: &mut [u64],
) -> Result<(), MathError> {
    if moduli.is_empty() || !out.len().is_multiple_of(moduli.len()) {
        return Err(MathError::LengthMismatch);
    }
    let n = out.len() / moduli.len();
    for (limb, m) in out.chunks_exact_mut(n.max(1)).zip(moduli) {
        fill_uniform(rng, m, limb);
    }
    Ok(())
}

/// A uniformly random vector in `{-1, 0, 1}^n` with exactly `h` non-zero entries.
///
/// The support is a uniform `h`-subset (partial Fisher-Yates shuffle with unbiased
/// indices), each sign an independent fair bit, so every such vector is equally likely.
pub fn ternary_hamming<R: CryptoRng + ?Sized>(
    rng: &mut R,
    n: usize,
    h: usize,
) -> Result<Vec<i64>, MathError> {
    if h > n {
        return Err(MathError::BadHammingWeight);
    }
    let mut idx: Vec<usize> = (0..n).collect();
    let mut out = vec![0i64; n];
    for i in 0..h {
        let j = i + uniform_below(rng, (n - i) as u64) as usize;
        idx.swap(i, j);
        out[idx[i]] = if rng.next_u32() & 1 == 1 { 1 } else { -1 };
    }
    Ok(out)
}

/// A vector with independent coefficients uniform in `{-1, 0, 1}`.
pub fn ternary_uniform<R: CryptoRng + ?Sized>(rng: &mut R, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    let (mut bits, mut left) = (0u64, 0u32);
    while out.len() < n {
        if left == 0 {
            bits = rng.next_u64();
            left = 32;
        }
        // Two bits uniform in {0, 1, 2, 3}; rejecting 3 leaves {0, 1, 2} uniform.
        let v = bits & 3;
        bits >>= 2;
        left -= 1;
        if v < 3 {
            out.push(v as i64 - 1);
        }
    }
    out
}

/// The discrete Gaussian over the integers, `P(x) ~ exp(-x^2 / (2 sigma^2))`, tail-cut to
/// `|x| <= bound = floor(tail * sigma)` and renormalized, sampled by inversion of a
/// cumulative table (CDT) with 64-bit precision, in time independent of the output.
///
/// Precision: each table entry is `2^64` times a cumulative probability computed in `f64`
/// from `libm::exp` (error below 1 ulp) and rounded; the upper half is computed from the
/// upper tail, so every point probability is within a relative `2^-50` (plus `2^-64`
/// absolute) of the ideal one. The statistical distance to the ideal tail-cut
/// distribution is below `2^-44`; the tail cut itself removes mass
/// `~ 2 exp(-tail^2/2) / (tail sqrt(2 pi))` (`~2e-9` at 6 sigma).
#[derive(Clone, Debug)]
pub struct DiscreteGaussian {
    sigma: f64,
    bound: i64,
    /// `cdt[t] = round(2^64 P(X <= -bound + t))` for `t < 2 bound`.
    cdt: Vec<u64>,
}

impl DiscreteGaussian {
    /// Standard deviation of the RLWE error of the HE standard.
    pub const SIGMA: f64 = 3.2;
    /// Tail cut of [`Self::standard`], in standard deviations.
    pub const TAIL: f64 = 6.0;

    /// `sigma = 3.2` cut at `6 sigma` (`|x| <= 19`).
    pub fn standard() -> Self {
        Self::new(Self::SIGMA, Self::TAIL).expect("standard parameters are valid")
    }

    /// `sigma` in `(0, 1024]`, `tail > 0` with `tail * sigma >= 1`.
    pub fn new(sigma: f64, tail: f64) -> Result<Self, MathError> {
        let ok = sigma > 0.0 && sigma <= 1024.0 && tail > 0.0 && tail * sigma >= 1.0;
        if !ok {
            return Err(MathError::BadGaussian);
        }
        let bound = libm::floor(tail * sigma) as i64;
        let weight = |x: i64| libm::exp(-((x * x) as f64) / (2.0 * sigma * sigma));
        // upper[x] = sum of weight(y) for x < y <= bound, summed smallest first (accurate).
        let mut upper = vec![0.0f64; bound as usize + 1];
        for x in (0..bound).rev() {
            upper[x as usize] = upper[x as usize + 1] + weight(x + 1);
        }
        let total = 2.0 * upper[0] + 1.0;
        let two64 = 18446744073709551616.0f64;
        let mut cdt = Vec::with_capacity(2 * bound as usize);
        for x in -bound..0 {
            // P(X <= x) = P(X >= -x) = upper[-x - 1] / total by symmetry.
            cdt.push((upper[(-x - 1) as usize] / total * two64) as u64);
        }
        for x in 0..bound {
            // P(X <= x) = 1 - P(X > x): rounding the small tail keeps its precision.
            // (u64::MAX rather than 2^64 - t: off by 2^-64, and never wraps when t = 0.)
            cdt.push(u64::MAX - (upper[x as usize] / total * two64) as u64);
        }
        Ok(Self { sigma, bound, cdt })
    }

    /// The standard deviation parameter.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// The tail cut: every sample has `|x| <= bound`.
    pub fn bound(&self) -> i64 {
        self.bound
    }

    /// One sample.
    pub fn sample<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> i64 {
        let r = rng.next_u64();
        // Count the entries at or below r without branching on r.
        let above: i64 = self.cdt.iter().map(|&c| (r >= c) as i64).sum();
        above - self.bound
    }

    /// `n` independent samples.
    pub fn sample_vec<R: CryptoRng + ?Sized>(&self, rng: &mut R, n: usize) -> Vec<i64> {
        (0..n).map(|_| self.sample(rng)).collect()
    }
}

/// Writes the residues of signed coefficients modulo each prime, limb-major:
/// `out[i * n + j] = coeffs[j] mod moduli[i]` with `n = coeffs.len()`.
pub fn signed_to_rns(coeffs: &[i64], moduli: &[Modulus], out: &mut [u64]) -> Result<(), MathError> {
    let n = coeffs.len();
    if out.len() != n * moduli.len() {
        return Err(MathError::LengthMismatch);
    }
    if n == 0 {
        return Ok(());
    }
    for (limb, m) in out.chunks_exact_mut(n).zip(moduli) {
        for (o, &c) in limb.iter_mut().zip(coeffs) {
            *o = m.reduce_i64(c);
        }
    }
    Ok(())
}
