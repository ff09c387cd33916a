//! AVX-512 backend (F/DQ/VL/BW, 64-bit lane arithmetic, any `q < 2^62`), and in
//! [`ifma`] the same kernels using 52-bit IFMA multiplies for `q < 2^50`.
//!
//! Every kernel has the signature and the exact results of its [`crate::scalar`]
//! namesake; lengths that are not a multiple of 8 finish with the scalar code, and
//! NTTs below 16 points use it entirely.
//!
//! Each public function is a safe `#[target_feature]` function: calling it is only
//! sound on a CPU with AVX-512 F, DQ, VL and BW (which is why callers outside a
//! `#[target_feature]` context need `unsafe`; [`crate::Kernels`] checks the CPU).
//!
//! Modular products without IFMA use 32x32-bit partial products (`vpmuludq`) for the
//! high half and `vpmullq` for the low half; see `ops::mul_hi`.

mod arith;
pub mod ifma;
mod ntt;
mod ops;

use self::arith::Mul64;
use self::ops::*;
use crate::modulus::{ModulusConsts, ShoupConst};
use crate::scalar;
use crate::table::NttTable;
use core::arch::x86_64::*;

/// Runs `$body` on the 8-word chunks of `$out` (loaded as `$x`, and overwritten with
/// the result) and of the inputs `$inp` (loaded as `$y`); evaluates to the number of
/// words covered, which the caller finishes with scalar code. A macro rather than a
/// function taking a closure so that the loop is compiled with the caller's target
/// features.
macro_rules! map_chunks {
    ($out:ident => $x:ident $(, $inp:ident => $y:ident)* ; $body:expr) => {{
        let done = $out.len() $(.min($inp.len()))* / 8 * 8;
        let po = $out.as_mut_ptr();
        for i in (0..done).step_by(8) {
            // SAFETY: `i + 8 <= done`, which is at most the length of every slice.
            unsafe {
                let $x = load(po.add(i));
                $(let $y = load($inp.as_ptr().add(i));)*
                store(po.add(i), $body);
            }
        }
        done
    }};
}
pub(crate) use map_chunks;

/// Barrett reduction of products modulo `q < 2^62` with 64-bit lanes.
///
/// For `x < 2^128` with `x < max(q^2, 2^64)` and `b` the bit length of `q`:
/// `t = floor(x / 2^(b-1)) < 2^64`, `mu = floor(2^(b+63) / q) < 2^64` (as `q > 2^(b-1)`),
/// `qhat = floor(t mu / 2^64)` is at most 2 below `floor(x / q)`, so
/// `x - qhat q < 3q < 2^64` and two conditional subtractions finish.
#[derive(Clone, Copy)]
struct Barrett64 {
    q: V,
    mu: V,
    mu_hi: V,
    shift_lo: V,
    shift_hi: V,
}

impl Barrett64 {
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn new(m: &ModulusConsts) -> Self {
        let b = m.bits as u64;
        let mu = ((1u128 << (b + 63)) / m.q as u128) as u64;
        Self {
            q: splat(m.q),
            mu: splat(mu),
            mu_hi: splat(mu >> 32),
            shift_lo: splat(b - 1),
            shift_hi: splat(65 - b),
        }
    }

    /// `(hi, lo)` with `x = hi 2^64 + lo` to `x mod q`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn reduce(self, hi: V, lo: V) -> V {
        reduce_once(self.reduce_lazy(hi, lo), self.q)
    }

    /// [`Self::reduce`] without its last conditional subtraction: in `[0, 2q)`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn reduce_lazy(self, hi: V, lo: V) -> V {
        let t = or(shl(hi, self.shift_hi), shr(lo, self.shift_lo));
        let qhat = mul_hi(t, self.mu, self.mu_hi);
        reduce_once(sub(lo, mul_lo(qhat, self.q)), self.q)
    }

    /// `a b mod q` for `a, b < q`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn mul(self, a: V, b: V) -> V {
        self.reduce(mul_hi(a, b, hi32(b)), mul_lo(a, b))
    }

    /// `a b mod q` in `[0, 2q)` for `a, b < q` ([`Self::reduce`] without its last
    /// conditional subtraction): for sums that reduce once per term modulo `2q`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn mul_lazy(self, a: V, b: V) -> V {
        self.reduce_lazy(mul_hi(a, b, hi32(b)), mul_lo(a, b))
    }
}

/// `y w mod q` in `[0, q)` for any `y`, by 64-bit Shoup (`ws = floor(w 2^64 / q)`).
#[derive(Clone, Copy)]
struct Shoup64 {
    q: V,
    w: V,
    ws: V,
    ws_hi: V,
}

impl Shoup64 {
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn new(c: &ShoupConst, q: u64) -> Self {
        Self {
            q: splat(q),
            w: splat(c.w),
            ws: splat(c.w_shoup),
            ws_hi: splat(c.w_shoup >> 32),
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn mul(self, y: V) -> V {
        reduce_once(self.mul_lazy(y), self.q)
    }

    /// `y w mod q` in `[0, 2q)` (the exact Shoup quotient is at most one short).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn mul_lazy(self, y: V) -> V {
        let qhat = mul_hi(y, self.ws, self.ws_hi);
        sub(mul_lo(y, self.w), mul_lo(qhat, self.q))
    }
}

/// Forward negacyclic NTT (see [`scalar::ntt_forward`]).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn ntt_forward(t: &NttTable, a: &mut [u64]) {
    ntt::m64::forward(Mul64::new(t.q()), t, a)
}

/// Inverse negacyclic NTT (see [`scalar::ntt_inverse`]).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn ntt_inverse(t: &NttTable, a: &mut [u64]) {
    ntt::m64::inverse(Mul64::new(t.q()), t, a)
}

/// `a[i] = (a[i] + b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn add_assign(a: &mut [u64], b: &[u64], q: u64) {
    let qv = splat(q);
    let done = map_chunks!(a => x, b => y; reduce_once(add(x, y), qv));
    scalar::add_assign(&mut a[done..], &b[done..], q);
}

/// `a[i] = (a[i] - b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn sub_assign(a: &mut [u64], b: &[u64], q: u64) {
    let qv = splat(q);
    // `x - y` wraps above `x - y + q` exactly when `x < y`.
    let done = map_chunks!(a => x, b => y; min(sub(x, y), add(sub(x, y), qv)));
    scalar::sub_assign(&mut a[done..], &b[done..], q);
}

/// `a[i] = -a[i] mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn neg_assign(a: &mut [u64], q: u64) {
    let qv = splat(q);
    // `0 - x` is 0 for `x = 0` and above `q - x` otherwise.
    let done = map_chunks!(a => x; min(sub(qv, x), sub(zero(), x)));
    scalar::neg_assign(&mut a[done..], q);
}

/// `a[i] = a[i] * b[i] mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn mul_assign(a: &mut [u64], b: &[u64], m: &ModulusConsts) {
    let br = Barrett64::new(m);
    let done = map_chunks!(a => x, b => y; br.mul(x, y));
    scalar::mul_assign(&mut a[done..], &b[done..], m);
}

/// `acc[i] = (acc[i] + a[i] * b[i]) mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn mul_add_assign(acc: &mut [u64], a: &[u64], b: &[u64], m: &ModulusConsts) {
    let br = Barrett64::new(m);
    let done = map_chunks!(acc => s, a => x, b => y; reduce_once(add(s, br.mul(x, y)), br.q));
    scalar::mul_add_assign(&mut acc[done..], &a[done..], &b[done..], m);
}

/// `a[i] = a[i] * c.w mod q` (any `a[i]`).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn mul_scalar_assign(a: &mut [u64], c: &ShoupConst, q: u64) {
    let s = Shoup64::new(c, q);
    let done = map_chunks!(a => x; s.mul(x));
    scalar::mul_scalar_assign(&mut a[done..], c, q);
}

/// `acc[i] = (acc[i] + a[i] * c.w) mod q` (any `a[i]`, `acc[i] < q`).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn mul_scalar_add_assign(acc: &mut [u64], a: &[u64], c: &ShoupConst, q: u64) {
    let s = Shoup64::new(c, q);
    let done = map_chunks!(acc => x, a => y; reduce_once(add(x, s.mul(y)), s.q));
    scalar::mul_scalar_add_assign(&mut acc[done..], &a[done..], c, q);
}

/// `a[i] = a[i] mod q` (any `a[i]`).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn reduce_assign(a: &mut [u64], m: &ModulusConsts) {
    let br = Barrett64::new(m);
    let done = map_chunks!(a => x; br.reduce(zero(), x));
    scalar::reduce_assign(&mut a[done..], m);
}

/// `out[c] = sum_j a[j][c] b[j][c] mod q` (inputs below `q < 2^62`): each product
/// Barrett-reduced, the sum kept in a register (one conditional subtraction per term)
/// and stored once, where per-term [`mul_add_assign`] passes re-read and re-write `out`
/// for every term. Same results as the scalar reference.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn dot_product(out: &mut [u64], a: &[&[u64]], b: &[&[u64]], m: &ModulusConsts) {
    let k = a.len().min(b.len());
    let n = out.len();
    assert!(
        a[..k].iter().chain(&b[..k]).all(|s| s.len() >= n),
        "dot_product: input shorter than output"
    );
    let br = Barrett64::new(m);
    // Terms in [0, 2q), the sum kept in [0, 2q) (4q < 2^64 as q < 2^62).
    let two_q = splat(2 * m.q);
    let done = n / 8 * 8;
    let po = out.as_mut_ptr();
    for i in (0..done).step_by(8) {
        let mut acc = zero();
        for j in 0..k {
            // SAFETY: `i + 8 <= n <= a[j].len(), b[j].len()` (checked above).
            let (x, y) = unsafe { (load(a[j].as_ptr().add(i)), load(b[j].as_ptr().add(i))) };
            acc = reduce_once(add(acc, br.mul_lazy(x, y)), two_q);
        }
        // SAFETY: `i + 8 <= done <= out.len()`.
        unsafe { store(po.add(i), reduce_once(acc, br.q)) };
    }
    out[done..].fill(0);
    for (x, y) in a[..k].iter().zip(&b[..k]) {
        scalar::mul_add_assign(&mut out[done..], &x[done..n], &y[done..n], m);
    }
}

/// Two dot products sharing `a` (the key-switching inner product), as [`dot_product`]:
/// `out0 = sum_j a[j] b0[j]`, `out1 = sum_j a[j] b1[j]` mod `q < 2^62`, each `a[j]`
/// read once.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn dot_product2(
    out0: &mut [u64],
    out1: &mut [u64],
    a: &[&[u64]],
    b0: &[&[u64]],
    b1: &[&[u64]],
    m: &ModulusConsts,
) {
    let k = a.len().min(b0.len()).min(b1.len());
    let n = out0.len().min(out1.len());
    assert!(
        a[..k]
            .iter()
            .chain(&b0[..k])
            .chain(&b1[..k])
            .all(|s| s.len() >= n),
        "dot_product2: input shorter than output"
    );
    let br = Barrett64::new(m);
    // Terms in [0, 2q), the sums kept in [0, 2q) (4q < 2^64 as q < 2^62).
    let two_q = splat(2 * m.q);
    let done = n / 8 * 8;
    let (p0, p1) = (out0.as_mut_ptr(), out1.as_mut_ptr());
    for i in (0..done).step_by(8) {
        let (mut acc0, mut acc1) = (zero(), zero());
        for j in 0..k {
            // SAFETY: `i + 8 <= n` and every input is at least `n` long (checked above).
            let (x, y0, y1) = unsafe {
                (
                    load(a[j].as_ptr().add(i)),
                    load(b0[j].as_ptr().add(i)),
                    load(b1[j].as_ptr().add(i)),
                )
            };
            acc0 = reduce_once(add(acc0, br.mul_lazy(x, y0)), two_q);
            acc1 = reduce_once(add(acc1, br.mul_lazy(x, y1)), two_q);
        }
        // SAFETY: `i + 8 <= done <= out0.len(), out1.len()`.
        unsafe {
            store(p0.add(i), reduce_once(acc0, br.q));
            store(p1.add(i), reduce_once(acc1, br.q));
        }
    }
    for (out, b) in [(&mut *out0, b0), (&mut *out1, b1)] {
        out[done..n].fill(0);
        for (x, y) in a[..k].iter().zip(&b[..k]) {
            scalar::mul_add_assign(&mut out[done..n], &x[done..n], &y[done..n], m);
        }
    }
}

/// `out[c] = sum_j a[j][c] w[j].w mod q` (any `a[j][c]`, `w[j].w < q < 2^62`): the
/// accumulation of a fast base conversion, each term a Shoup product, the sum kept in a
/// register and stored once. Same results as the scalar reference.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn dot_scalar(out: &mut [u64], a: &[&[u64]], w: &[ShoupConst], q: u64) {
    let k = a.len().min(w.len());
    let n = out.len();
    assert!(
        a[..k].iter().all(|s| s.len() >= n),
        "dot_scalar: input shorter than output"
    );
    // Terms in [0, 2q), the sum kept in [0, 2q) (4q < 2^64 as q < 2^62).
    let (qv, two_q) = (splat(q), splat(2 * q));
    let done = n / 8 * 8;
    let po = out.as_mut_ptr();
    for i in (0..done).step_by(8) {
        let mut acc = zero();
        for j in 0..k {
            // SAFETY: `i + 8 <= n <= a[j].len()` (checked above).
            let x = unsafe { load(a[j].as_ptr().add(i)) };
            acc = reduce_once(add(acc, Shoup64::new(&w[j], q).mul_lazy(x)), two_q);
        }
        // SAFETY: `i + 8 <= done <= out.len()`.
        unsafe { store(po.add(i), reduce_once(acc, qv)) };
    }
    out[done..].fill(0);
    for (x, c) in a[..k].iter().zip(&w[..k]) {
        scalar::mul_scalar_add_assign(&mut out[done..], &x[done..n], c, q);
    }
}

/// `a[i] in [0, 2q)` to `a[i] mod q`.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn reduce_from_2q(a: &mut [u64], q: u64) {
    let qv = splat(q);
    let done = map_chunks!(a => x; reduce_once(x, qv));
    scalar::reduce_from_2q(&mut a[done..], q);
}

/// `out[i] = a[perm[i]]` by 8-lane gathers. Panics if an index is out of range
/// (checked before each gather).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn permute(a: &[u64], perm: &[u32], out: &mut [u64]) {
    let done = perm.len().min(out.len()) / 8 * 8;
    // Indices are u32, so any index is in range when `a` is longer than u32::MAX.
    let bound = _mm256_set1_epi32(a.len().min(u32::MAX as usize) as u32 as i32);
    let all_fit = a.len() > u32::MAX as usize;
    for i in (0..done).step_by(8) {
        // SAFETY: `i + 8 <= done <= perm.len()`, so 8 indices are readable.
        let idx = unsafe { _mm256_loadu_si256(perm.as_ptr().add(i).cast()) };
        assert!(
            all_fit || _mm256_cmpge_epu32_mask(idx, bound) == 0,
            "permute: index out of range"
        );
        // SAFETY: every index was just checked to be `< a.len()`; `i + 8 <= out.len()`.
        unsafe {
            let v = _mm512_i32gather_epi64::<8>(idx, a.as_ptr().cast());
            store(out.as_mut_ptr().add(i), v);
        }
    }
    scalar::permute(a, &perm[done..], &mut out[done..]);
}

/// [`scalar::sample_below`] with 8 candidates per step: mask, compare, compress the
/// accepted lanes in a register and store them (same values in the same order).
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn sample_below(words: &[u32], mask: u64, q: u64, out: &mut [u64]) -> usize {
    let pairs = words.len() / 2;
    let (mv, qv) = (splat(mask), splat(q));
    let (mut filled, mut i) = (0usize, 0usize);
    while i + 8 <= pairs && filled + 8 <= out.len() {
        // SAFETY: `2 (i + 8) <= words.len()`: 16 words (8 little-endian u64) readable.
        let v = and(unsafe { load(words.as_ptr().add(2 * i).cast()) }, mv);
        let m = _mm512_cmplt_epu64_mask(v, qv);
        // Compress in a register, then a plain 8-word store (lanes past the kept ones
        // are overwritten by the next store or left unused): the memory form of
        // VPCOMPRESSQ is microcoded on AMD Zen 4, where it made this loop the largest
        // item of a training step's profile (seeded keys are expanded on every use).
        let kept = _mm512_maskz_compress_epi64(m, v);
        // SAFETY: `filled + 8 <= out.len()`: 8 words writable.
        unsafe { store(out.as_mut_ptr().add(filled).cast(), kept) };
        filled += m.count_ones() as usize;
        i += 8;
    }
    filled + scalar::sample_below(&words[2 * i..], mask, q, &mut out[filled..])
}

/// `out(X) = a(X^g) mod (X^n + 1, q)` for odd `g`, coefficient form.
///
/// Written as a gather: `out[j]` comes from `k = j g^-1 mod 2n`, that is from
/// `a[k]` if `k < n` and from `-a[k - n]` otherwise.
///
/// # Safety
/// The CPU must support AVX-512 F, DQ, VL and BW (see [`crate::Kernels`]).
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
pub fn automorphism_coeff(a: &[u64], g: usize, out: &mut [u64], q: u64) {
    let n = a.len();
    if n < 8 || !n.is_power_of_two() || out.len() != n || g.is_multiple_of(2) {
        return scalar::automorphism_coeff(a, g, out, q);
    }
    let mask = (2 * n - 1) as u64;
    let g_inv = inverse_mod_pow2(g as u64) & mask;
    // SAFETY: every gathered index is masked below `n` and every store is inside `out`
    // (`j + 8 <= n`).
    unsafe {
        let (mask_v, low_v, n_v, qv) =
            (splat(mask), splat(n as u64 - 1), splat(n as u64), splat(q));
        let step = splat(8 * g_inv);
        let mut k = and(
            mul_lo(lanes([0, 1, 2, 3, 4, 5, 6, 7]), splat(g_inv)),
            mask_v,
        );
        for j in (0..n).step_by(8) {
            let v = _mm512_i64gather_epi64::<8>(and(k, low_v), a.as_ptr().cast());
            let negated = min(sub(qv, v), sub(zero(), v));
            let is_neg = _mm512_test_epi64_mask(k, n_v);
            store(
                out.as_mut_ptr().add(j),
                _mm512_mask_blend_epi64(is_neg, v, negated),
            );
            k = and(add(k, step), mask_v);
        }
    }
}

/// The inverse of odd `g` modulo `2^64` (Newton's iteration doubles the correct bits).
fn inverse_mod_pow2(g: u64) -> u64 {
    let mut x = g; // correct to 3 bits: g * g = 1 (mod 8) for odd g
    for _ in 0..5 {
        x = x.wrapping_mul(2u64.wrapping_sub(g.wrapping_mul(x)));
    }
    x
}
