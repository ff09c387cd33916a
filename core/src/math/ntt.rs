//! [`NttPlan`]: the negacyclic NTT of one prime, owning its kernel table.

use super::primes::primitive_root_2n;
use super::{MathError, Modulus};
use alloc::vec;
use alloc::vec::Vec;
use hetal_simd::{Kernels, NttTable, fill_table, table_len};

/// The NTT of size `n` modulo one prime `q = 1 (mod 2n)`: owns the table built by
/// [`hetal_simd::fill_table`] for the smallest primitive `2n`-th root
/// ([`primitive_root_2n`]) and the kernels it runs on.
///
/// Forward: natural-order coefficients to bit-reversed evaluations at `psi^(2 bitrev(j)+1)`;
/// inverse: back, including the `n^-1` factor. Inputs and outputs are in `[0, q)`.
///
/// ```
/// use hetal_core::math::{Modulus, NttPlan};
/// let plan = NttPlan::new(Modulus::new(12289).unwrap(), 1024).unwrap();
/// let x: Vec<u64> = (0..1024).collect();
/// let mut y = x.clone();
/// plan.forward(&mut y);
/// plan.inverse(&mut y);
/// assert_eq!(x, y);
/// ```
#[derive(Clone, Debug)]
pub struct NttPlan {
    modulus: Modulus,
    n: usize,
    psi: u64,
    table: Vec<u64>,
    kernels: Kernels,
}

impl NttPlan {
    /// The plan for `(n, q)` on the best kernels of this CPU.
    pub fn new(modulus: Modulus, n: usize) -> Result<Self, MathError> {
        Self::with_kernels(modulus, n, Kernels::best())
    }

    /// The plan for `(n, q)` on the given kernels.
    pub fn with_kernels(modulus: Modulus, n: usize, kernels: Kernels) -> Result<Self, MathError> {
        let psi = primitive_root_2n(&modulus, n)?;
        let mut table = vec![0u64; table_len(n)];
        // primitive_root_2n checked n and q = 1 mod 2n, so the table cannot be refused.
        fill_table(modulus.value(), psi, n, &mut table).map_err(|_| MathError::NoRoot)?;
        Ok(Self {
            modulus,
            n,
            psi,
            table,
            kernels,
        })
    }

    /// The kernels this plan runs on.
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The prime.
    pub fn modulus(&self) -> &Modulus {
        &self.modulus
    }

    /// Transform size.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The primitive `2n`-th root of unity the table was built from.
    pub fn psi(&self) -> u64 {
        self.psi
    }

    /// A view of the kernel table.
    pub fn table(&self) -> NttTable<'_> {
        NttTable::new(self.modulus.value(), self.n, &self.table)
            .expect("NttPlan: table was built for this (q, n)")
    }

    /// Forward NTT in place; panics if `a.len() != n`.
    pub fn forward(&self, a: &mut [u64]) {
        self.kernels.ntt_forward(&self.table(), a);
    }

    /// Inverse NTT in place; panics if `a.len() != n`.
    pub fn inverse(&self, a: &mut [u64]) {
        self.kernels.ntt_inverse(&self.table(), a);
    }
}
