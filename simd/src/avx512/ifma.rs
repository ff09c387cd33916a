//! The AVX-512 kernels with IFMA (`vpmadd52luq` / `vpmadd52huq`) for primes below
//! `2^50`; bigger primes, and the kernels whose inputs may exceed 52 bits or that do
//! no multiplication, use the 64-bit AVX-512 code of the parent module.
//!
//! Each public function is a safe `#[target_feature]` function: calling it is only
//! sound on a CPU with AVX-512 F, DQ, VL, BW and IFMA.

use super::arith::{Mul52, Mul64};
use super::map_chunks;
use super::ntt;
use super::ops::*;
use crate::modulus::{ModulusConsts, ShoupConst};
use crate::scalar;
use crate::table::NttTable;

/// Barrett reduction of products of two values below `q < 2^50`, in 52-bit IFMA
/// arithmetic. With `x = a b < q^2 < 2^(2b)` (`b` the bit length of `q`):
/// `t = floor(x / 2^(b-1)) < 2^51`, `mu = floor(2^(b+51) / q) < 2^52`,
/// `qhat = floor(t mu / 2^52)` is at most 2 below `floor(x / q)`, so
/// `x - qhat q < 3q < 2^52` is exact modulo `2^52`.
#[derive(Clone, Copy)]
struct Barrett52 {
    q: V,
    neg_q: V,
    mask52: V,
    mu: V,
    shift_lo: V,
    shift_hi: V,
}

impl Barrett52 {
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    fn new(m: &ModulusConsts) -> Self {
        debug_assert!(m.is_ifma_friendly());
        let b = m.bits as u64;
        let mu = ((1u128 << (b + 51)) / m.q as u128) as u64;
        Self {
            q: splat(m.q),
            neg_q: splat((1 << 52) - m.q),
            mask52: splat((1 << 52) - 1),
            mu: splat(mu),
            shift_lo: splat(b - 1),
            shift_hi: splat(53 - b),
        }
    }

    /// `a b mod q` for `a, b < q`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    fn mul(self, a: V, b: V) -> V {
        let lo = madd52lo(zero(), a, b);
        let hi = madd52hi(zero(), a, b);
        // hi 2^(53-b) and lo / 2^(b-1) occupy disjoint bits.
        let t = or(shl(hi, self.shift_hi), shr(lo, self.shift_lo));
        let qhat = madd52hi(zero(), t, self.mu);
        let r = and(madd52lo(lo, qhat, self.neg_q), self.mask52);
        reduce_once(reduce_once(r, self.q), self.q)
    }
}

/// Forward negacyclic NTT (see [`scalar::ntt_forward`]).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn ntt_forward(t: &NttTable, a: &mut [u64]) {
    if t.has_shoup52() {
        ntt::m52::forward(Mul52::new(t.q()), t, a)
    } else {
        ntt::m64::forward(Mul64::new(t.q()), t, a)
    }
}

/// Inverse negacyclic NTT (see [`scalar::ntt_inverse`]).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn ntt_inverse(t: &NttTable, a: &mut [u64]) {
    if t.has_shoup52() {
        ntt::m52::inverse(Mul52::new(t.q()), t, a)
    } else {
        ntt::m64::inverse(Mul64::new(t.q()), t, a)
    }
}

/// `a[i] = (a[i] + b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn add_assign(a: &mut [u64], b: &[u64], q: u64) {
    super::add_assign(a, b, q)
}

/// `a[i] = (a[i] - b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn sub_assign(a: &mut [u64], b: &[u64], q: u64) {
    super::sub_assign(a, b, q)
}

/// `a[i] = -a[i] mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn neg_assign(a: &mut [u64], q: u64) {
    super::neg_assign(a, q)
}

/// `a[i] = a[i] * b[i] mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn mul_assign(a: &mut [u64], b: &[u64], m: &ModulusConsts) {
    if !m.is_ifma_friendly() {
        return super::mul_assign(a, b, m);
    }
    let br = Barrett52::new(m);
    let done = map_chunks!(a => x, b => y; br.mul(x, y));
    scalar::mul_assign(&mut a[done..], &b[done..], m);
}

/// `acc[i] = (acc[i] + a[i] * b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn mul_add_assign(acc: &mut [u64], a: &[u64], b: &[u64], m: &ModulusConsts) {
    if !m.is_ifma_friendly() {
        return super::mul_add_assign(acc, a, b, m);
    }
    let br = Barrett52::new(m);
    let done = map_chunks!(acc => s, a => x, b => y; reduce_once(add(s, br.mul(x, y)), br.q));
    scalar::mul_add_assign(&mut acc[done..], &a[done..], &b[done..], m);
}

/// `a[i] = a[i] * c.w mod q` (any `a[i]`, so the 64-bit path).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn mul_scalar_assign(a: &mut [u64], c: &ShoupConst, q: u64) {
    super::mul_scalar_assign(a, c, q)
}

/// `acc[i] = (acc[i] + a[i] * c.w) mod q` (any `a[i]`, so the 64-bit path).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn mul_scalar_add_assign(acc: &mut [u64], a: &[u64], c: &ShoupConst, q: u64) {
    super::mul_scalar_add_assign(acc, a, c, q)
}

/// `a[i] = a[i] mod q` (any `a[i]`, so the 64-bit path).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn reduce_assign(a: &mut [u64], m: &ModulusConsts) {
    super::reduce_assign(a, m)
}

/// `a[i] in [0, 2q)` to `a[i] mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn reduce_from_2q(a: &mut [u64], q: u64) {
    super::reduce_from_2q(a, q)
}

/// `out[i] = a[perm[i]]`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn permute(a: &[u64], perm: &[u32], out: &mut [u64]) {
    super::permute(a, perm, out)
}

/// `out(X) = a(X^g) mod (X^n + 1, q)` for odd `g`, coefficient form.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn automorphism_coeff(a: &[u64], g: usize, out: &mut [u64], q: u64) {
    super::automorphism_coeff(a, g, out, q)
}
