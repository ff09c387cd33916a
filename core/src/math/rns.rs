//! [`RnsBasis`]: a list of distinct primes with the CRT constants for exact
//! reconstruction and centred lifting.

use super::{BigUint, MathError, Modulus};
use alloc::vec::Vec;
use hetal_simd::ShoupConst;

/// Distinct primes `q_0, ..., q_{k-1}` with `Q = prod q_i` and the CRT constants
/// `Q/q_i` and `(Q/q_i)^-1 mod q_i`.
///
/// ```
/// use hetal_core::math::{BigUint, Modulus, RnsBasis};
/// let basis = RnsBasis::from_primes(&[12289, 65537, 786433]).unwrap();
/// let x = BigUint::from_u64(123_456_789_012);
/// let r = basis.residues(&x);
/// assert_eq!(basis.reconstruct(&r), x);
/// // -5 mod Q lifts to -5.0
/// let minus5: Vec<u64> = basis.moduli().iter().map(|m| m.value() - 5).collect();
/// assert_eq!(basis.centered_f64(&minus5), -5.0);
/// ```
#[derive(Clone, Debug)]
pub struct RnsBasis {
    moduli: Vec<Modulus>,
    product: BigUint,
    half_product: BigUint,
    q_hat: Vec<BigUint>,
    q_hat_inv: Vec<ShoupConst>,
}

impl RnsBasis {
    /// A basis of distinct primes.
    pub fn new(moduli: Vec<Modulus>) -> Result<Self, MathError> {
        if moduli.is_empty() {
            return Err(MathError::EmptyBasis);
        }
        for (i, m) in moduli.iter().enumerate() {
            if moduli[..i].contains(m) {
                return Err(MathError::DuplicateModulus);
            }
        }
        let mut product = BigUint::from_u64(1);
        for m in &moduli {
            product.mul_u64(m.value());
        }
        let half_product = product.divrem_u64(2).0;
        let q_hat: Vec<BigUint> = moduli
            .iter()
            .map(|m| product.divrem_u64(m.value()).0)
            .collect();
        let q_hat_inv = moduli
            .iter()
            .zip(&q_hat)
            .map(|(m, h)| {
                let inv = m.inv(h.rem_u64(m.value()))?;
                Ok(m.shoup(inv))
            })
            .collect::<Result<Vec<_>, MathError>>()?;
        Ok(Self {
            moduli,
            product,
            half_product,
            q_hat,
            q_hat_inv,
        })
    }

    /// A basis from raw primes (each checked by [`Modulus::new`]).
    pub fn from_primes(primes: &[u64]) -> Result<Self, MathError> {
        Self::new(
            primes
                .iter()
                .map(|&q| Modulus::new(q))
                .collect::<Result<_, _>>()?,
        )
    }

    /// Number of primes.
    pub fn len(&self) -> usize {
        self.moduli.len()
    }

    /// Always false (a basis has at least one prime); for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        self.moduli.is_empty()
    }

    /// The primes.
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// `Q = prod q_i`.
    pub fn product(&self) -> &BigUint {
        &self.product
    }

    /// `Q / q_i`.
    pub fn q_hat(&self, i: usize) -> &BigUint {
        &self.q_hat[i]
    }

    /// `(Q / q_i)^-1 mod q_i` with its Shoup constants.
    pub fn q_hat_inv(&self, i: usize) -> &ShoupConst {
        &self.q_hat_inv[i]
    }

    /// The basis of the first `k` primes (`1 <= k <= len`), e.g. a lower CKKS level.
    pub fn prefix(&self, k: usize) -> Result<Self, MathError> {
        if k == 0 || k > self.len() {
            return Err(MathError::LengthMismatch);
        }
        Self::new(self.moduli[..k].to_vec())
    }

    /// The residues `x mod q_i`.
    pub fn residues(&self, x: &BigUint) -> Vec<u64> {
        self.moduli.iter().map(|m| x.rem_u64(m.value())).collect()
    }

    /// The unique `x in [0, Q)` with `x = residues[i] mod q_i` (residues must be `< q_i`).
    ///
    /// Panics if `residues.len() != len()`.
    pub fn reconstruct(&self, residues: &[u64]) -> BigUint {
        assert_eq!(
            residues.len(),
            self.len(),
            "reconstruct: one residue per prime"
        );
        // x + u Q = sum_i y_i Q/q_i with y_i = r_i (Q/q_i)^-1 mod q_i and
        // u = floor(sum_i y_i / q_i) < k.
        let mut sum = BigUint::zero();
        let mut frac = 0.0f64;
        for (i, (m, &r)) in self.moduli.iter().zip(residues).enumerate() {
            let y = m.mul_shoup(r, &self.q_hat_inv[i]);
            let mut term = self.q_hat[i].clone();
            term.mul_u64(y);
            sum.add_assign(&term);
            frac += y as f64 / m.value() as f64;
        }
        // The f64 estimate of u can be off by one near an integer: correct both ways.
        let mut u_q = self.product.clone();
        u_q.mul_u64(frac as u64);
        if sum < u_q {
            u_q.checked_sub_assign(&self.product)
                .expect("u >= 1 when sum < u Q");
        }
        sum.checked_sub_assign(&u_q)
            .expect("sum >= u Q after correction");
        while sum >= self.product {
            sum.checked_sub_assign(&self.product).expect("sum >= Q");
        }
        sum
    }

    /// The centred lift of the residues to `(-Q/2, Q/2]`, rounded to the nearest `f64`
    /// (exact rounding whatever the size of `Q`; `+-inf` if the magnitude reaches 2^1024).
    /// This is what decoding a CKKS coefficient needs.
    pub fn centered_f64(&self, residues: &[u64]) -> f64 {
        let x = self.reconstruct(residues);
        if x > self.half_product {
            let mut neg = self.product.clone();
            neg.checked_sub_assign(&x).expect("x < Q");
            -neg.to_f64()
        } else {
            x.to_f64()
        }
    }

    /// [`Self::centered_f64`] of every coefficient of a limb-major polynomial
    /// (`limbs[i * n + j]` is coefficient `j` modulo `q_i`, `n = out.len()`).
    pub fn centered_f64_poly(&self, limbs: &[u64], out: &mut [f64]) -> Result<(), MathError> {
        let n = out.len();
        if limbs.len() != n * self.len() {
            return Err(MathError::LengthMismatch);
        }
        let mut residues = alloc::vec![0u64; self.len()];
        for (j, o) in out.iter_mut().enumerate() {
            for (i, r) in residues.iter_mut().enumerate() {
                *r = limbs[i * n + j];
            }
            *o = self.centered_f64(&residues);
        }
        Ok(())
    }
}
