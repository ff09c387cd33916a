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
use core::arch::x86_64::*;

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
    if q >= 1 << 50 {
        return super::mul_scalar_assign(a, c, q);
    }
    // IFMA Shoup for 8-lane chunks whose inputs are below 2^52 (the usual case: residues
    // of other primes below 2^50), the 64-bit kernel for any other chunk.
    let (w, ws) = (splat(c.w), splat(c.w_shoup52));
    let (qv, neg_q, mask52, big) = (
        splat(q),
        splat((1 << 52) - q),
        splat((1 << 52) - 1),
        splat(1 << 52),
    );
    let done = a.len() / 8 * 8;
    let p = a.as_mut_ptr();
    for i in (0..done).step_by(8) {
        // SAFETY: `i + 8 <= done <= a.len()`.
        unsafe {
            let y = load(p.add(i));
            if _mm512_cmpge_epu64_mask(y, big) != 0 {
                super::mul_scalar_assign(&mut a[i..i + 8], c, q);
                continue;
            }
            let qhat = madd52hi(zero(), y, ws);
            let r = and(madd52lo(madd52lo(zero(), y, w), qhat, neg_q), mask52);
            store(p.add(i), reduce_once(r, qv));
        }
    }
    scalar::mul_scalar_assign(&mut a[done..], c, q);
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

/// [`super::sample_below`].
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn sample_below(words: &[u32], mask: u64, q: u64, out: &mut [u64]) -> usize {
    super::sample_below(words, mask, q, out)
}

/// `out(X) = a(X^g) mod (X^n + 1, q)` for odd `g`, coefficient form.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn automorphism_coeff(a: &[u64], g: usize, out: &mut [u64], q: u64) {
    super::automorphism_coeff(a, g, out, q)
}

/// Reduction of a lazily accumulated IFMA sum `x = hi 2^52 + lo` (two 64-bit lanes of
/// partial sums: `lo` of `madd52lo`, `hi` of `madd52hi`) to `x mod q`, `q < 2^50`.
///
/// Carry `lo`'s bits above 52 into `hi`, split `hi = hh 2^52 + hl`; then
/// `x = hh (2^104 mod q) + hl (2^52 mod q) + lo (mod q)`, each term a Shoup product of a
/// 52-bit value (in `[0, 2q)`), so the sum is below `6q` and three conditional
/// subtractions finish. `WIDE = false` skips the `hh` term when the caller knows
/// `hi < 2^52` after the carry.
#[derive(Clone, Copy)]
struct LazySum {
    q: V,
    two_q: V,
    four_q: V,
    neg_q: V,
    mask52: V,
    one_s: V,
    r1: V,
    r1_s: V,
    r2: V,
    r2_s: V,
}

impl LazySum {
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    fn new(q: u64) -> Self {
        debug_assert!(q < 1 << 50);
        let r1 = ((1u128 << 52) % q as u128) as u64;
        let r2 = ((1u128 << 104) % q as u128) as u64;
        let s = |w: u64| (((w as u128) << 52) / q as u128) as u64;
        Self {
            q: splat(q),
            two_q: splat(2 * q),
            four_q: splat(4 * q),
            neg_q: splat((1 << 52) - q),
            mask52: splat((1 << 52) - 1),
            one_s: splat(s(1)),
            r1: splat(r1),
            r1_s: splat(s(r1)),
            r2: splat(r2),
            r2_s: splat(s(r2)),
        }
    }

    /// `y w mod q` in `[0, 2q)` for `y < 2^52` (Shoup, `ws = floor(w 2^52 / q)`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    fn shoup(self, y: V, w: V, ws: V) -> V {
        let qhat = madd52hi(zero(), y, ws);
        and(
            madd52lo(madd52lo(zero(), y, w), qhat, self.neg_q),
            self.mask52,
        )
    }

    /// `y mod q` in `[0, 2q)` for `y < 2^52`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    fn fold(self, y: V) -> V {
        let qhat = madd52hi(zero(), y, self.one_s);
        and(madd52lo(y, qhat, self.neg_q), self.mask52)
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    fn finish<const WIDE: bool>(self, lo: V, hi: V) -> V {
        let hi = add(hi, _mm512_srli_epi64::<52>(lo));
        let lo = and(lo, self.mask52);
        let mut s = add(
            self.fold(lo),
            self.shoup(and(hi, self.mask52), self.r1, self.r1_s),
        );
        if WIDE {
            s = add(
                s,
                self.shoup(_mm512_srli_epi64::<52>(hi), self.r2, self.r2_s),
            );
            s = reduce_once(s, self.four_q);
        }
        reduce_once(reduce_once(s, self.two_q), self.q)
    }
}

/// Most terms a lazy sum takes before the 64-bit `lo` lanes could overflow (each adds
/// below `2^52`).
const MAX_LAZY_TERMS: usize = 1 << 11;

/// `out[c] = sum_j a[j][c] b[j][c] mod q` with every input below `q < 2^50`: IFMA
/// products accumulated unreduced, one reduction per output.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn dot_product(out: &mut [u64], a: &[&[u64]], b: &[&[u64]], m: &ModulusConsts) {
    let k = a.len().min(b.len());
    if !m.is_ifma_friendly() || k > MAX_LAZY_TERMS {
        return scalar_tail_dot(out, 0, a, b, m);
    }
    let n = out.len();
    assert!(
        a[..k].iter().chain(&b[..k]).all(|s| s.len() >= n),
        "dot_product: input shorter than output"
    );
    let red = LazySum::new(m.q);
    // hi parts are below 2^48 each (q < 2^50), so hi < 2^52 after the carry while
    // k < 15.
    let wide = k >= 15;
    let done = n / 8 * 8;
    let po = out.as_mut_ptr();
    for i in (0..done).step_by(8) {
        let (mut lo, mut hi) = (zero(), zero());
        for j in 0..k {
            // SAFETY: `i + 8 <= n <= a[j].len(), b[j].len()` (checked above).
            let (x, y) = unsafe { (load(a[j].as_ptr().add(i)), load(b[j].as_ptr().add(i))) };
            lo = madd52lo(lo, x, y);
            hi = madd52hi(hi, x, y);
        }
        let r = if wide {
            red.finish::<true>(lo, hi)
        } else {
            red.finish::<false>(lo, hi)
        };
        // SAFETY: `i + 8 <= done <= out.len()`.
        unsafe { store(po.add(i), r) };
    }
    scalar_tail_dot(out, done, a, b, m);
}

fn scalar_tail_dot(out: &mut [u64], from: usize, a: &[&[u64]], b: &[&[u64]], m: &ModulusConsts) {
    for c in from..out.len() {
        let mut acc = 0u64;
        for (x, y) in a.iter().zip(b) {
            let s = acc + m.mul(x[c], y[c]);
            acc = if s >= m.q { s - m.q } else { s };
        }
        out[c] = acc;
    }
}

/// `out0 = sum_j a[j] b0[j]`, `out1 = sum_j a[j] b1[j]` mod `q < 2^50` (all inputs below
/// `q`), reading each `a[j]` once: the key-switching inner product.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn dot_product2(
    out0: &mut [u64],
    out1: &mut [u64],
    a: &[&[u64]],
    b0: &[&[u64]],
    b1: &[&[u64]],
    m: &ModulusConsts,
) {
    let k = a.len().min(b0.len()).min(b1.len());
    if !m.is_ifma_friendly() || k > MAX_LAZY_TERMS {
        scalar_tail_dot(out0, 0, a, b0, m);
        return scalar_tail_dot(out1, 0, a, b1, m);
    }
    let n = out0.len().min(out1.len());
    assert!(
        a[..k]
            .iter()
            .chain(&b0[..k])
            .chain(&b1[..k])
            .all(|s| s.len() >= n),
        "dot_product2: input shorter than output"
    );
    let red = LazySum::new(m.q);
    let wide = k >= 15;
    let done = n / 8 * 8;
    let (p0, p1) = (out0.as_mut_ptr(), out1.as_mut_ptr());
    for i in (0..done).step_by(8) {
        let (mut lo0, mut hi0, mut lo1, mut hi1) = (zero(), zero(), zero(), zero());
        for j in 0..k {
            // SAFETY: `i + 8 <= n` and every input is at least `n` long (checked above).
            let (x, y0, y1) = unsafe {
                (
                    load(a[j].as_ptr().add(i)),
                    load(b0[j].as_ptr().add(i)),
                    load(b1[j].as_ptr().add(i)),
                )
            };
            lo0 = madd52lo(lo0, x, y0);
            hi0 = madd52hi(hi0, x, y0);
            lo1 = madd52lo(lo1, x, y1);
            hi1 = madd52hi(hi1, x, y1);
        }
        let (r0, r1) = if wide {
            (red.finish::<true>(lo0, hi0), red.finish::<true>(lo1, hi1))
        } else {
            (red.finish::<false>(lo0, hi0), red.finish::<false>(lo1, hi1))
        };
        // SAFETY: `i + 8 <= done <= out0.len(), out1.len()`.
        unsafe {
            store(p0.add(i), r0);
            store(p1.add(i), r1);
        }
    }
    scalar_tail_dot(&mut out0[..n], done, a, b0, m);
    scalar_tail_dot(&mut out1[..n], done, a, b1, m);
}

/// `out[c] = sum_j a[j][c] w[j].w mod q` (`w[j].w < q < 2^50`): the accumulation of a
/// fast base conversion. IFMA reads the low 52 bits of an input; a chunk with a larger
/// input (a residue of a prime above 2^52) adds `(a >> 52) (w 2^52 mod q)` in a second
/// IFMA pass, so any input is accepted at vector speed.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL, BW and IFMA (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
pub fn dot_scalar(out: &mut [u64], a: &[&[u64]], w: &[ShoupConst], q: u64) {
    let k = a.len().min(w.len());
    // Two terms per input in the split pass.
    if q >= 1 << 50 || 2 * k > MAX_LAZY_TERMS {
        return scalar::dot_scalar(out, a, w, q);
    }
    let n = out.len();
    assert!(
        a[..k].iter().all(|s| s.len() >= n),
        "dot_scalar: input shorter than output"
    );
    let red = LazySum::new(q);
    // Products of a 52-bit input and a 50-bit weight have hi parts below 2^50.
    let wide = k >= 4;
    let done = n / 8 * 8;
    let po = out.as_mut_ptr();
    let big = splat(1 << 52);
    // `w 2^52 mod q` for the high parts (kept for the first terms; computed on the fly
    // beyond, a digit never has that many primes).
    let shift = |c: &ShoupConst| (((c.w as u128) << 52) % q as u128) as u64;
    let mut shifted = [0u64; 64];
    for (s, c) in shifted.iter_mut().zip(w) {
        *s = shift(c);
    }
    for i in (0..done).step_by(8) {
        let (mut lo, mut hi) = (zero(), zero());
        let mut any_big = 0u8;
        for j in 0..k {
            // SAFETY: `i + 8 <= n <= a[j].len()` (checked above).
            let x = unsafe { load(a[j].as_ptr().add(i)) };
            any_big |= _mm512_cmpge_epu64_mask(x, big);
            let c = splat(w[j].w);
            lo = madd52lo(lo, x, c);
            hi = madd52hi(hi, x, c);
        }
        let r = if any_big != 0 {
            for j in 0..k {
                let c2 = splat(if j < shifted.len() {
                    shifted[j]
                } else {
                    shift(&w[j])
                });
                // SAFETY: as above.
                let x = unsafe { load(a[j].as_ptr().add(i)) };
                let xh = _mm512_srli_epi64::<52>(x);
                lo = madd52lo(lo, xh, c2);
                hi = madd52hi(hi, xh, c2);
            }
            red.finish::<true>(lo, hi)
        } else if wide {
            red.finish::<true>(lo, hi)
        } else {
            red.finish::<false>(lo, hi)
        };
        // SAFETY: `i + 8 <= done <= out.len()`.
        unsafe { store(po.add(i), r) };
    }
    for c in done..n {
        let mut acc = 0u64;
        for j in 0..k {
            let r = scalar::mul_shoup_lazy(a[j][c], w[j].w, w[j].w_shoup, q);
            let r = if r >= q { r - q } else { r };
            let s = acc + r;
            acc = if s >= q { s - q } else { s };
        }
        out[c] = acc;
    }
}
