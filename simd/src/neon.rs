//! NEON backend (aarch64): two 64-bit lanes per vector.
//!
//! Every kernel has the signature and the exact results of its [`crate::scalar`]
//! namesake; odd lengths finish with the scalar code, and NTTs below 4 points use it
//! entirely. NEON has no 64x64-bit multiply, so products are built from `umull`
//! (`vmull_u32`, 32x32 -> 64-bit) partial products; it does have unsigned 64-bit
//! compares, so conditional subtractions are a compare and a select.
//!
//! `permute` and `automorphism_coeff` are the scalar loops: NEON has no gather, and
//! those kernels are loads and stores only.
//!
//! Each public function is a `#[target_feature(enable = "neon")]` function: calling it
//! is only sound on a CPU with NEON, which every aarch64 CPU has.

use crate::modulus::{ModulusConsts, ShoupConst};
use crate::scalar;
use crate::table::NttTable;
use core::arch::aarch64::*;

type V = uint64x2_t;

// ---------------------------------------------------------------------------------
// Lane arithmetic
// ---------------------------------------------------------------------------------

#[inline]
#[target_feature(enable = "neon")]
fn splat(x: u64) -> V {
    vdupq_n_u64(x)
}

#[inline]
#[target_feature(enable = "neon")]
fn load(p: &[u64; 2]) -> V {
    // SAFETY: `p` is 16 readable bytes; `ld1` needs only element alignment.
    unsafe { vld1q_u64(p.as_ptr()) }
}

#[inline]
#[target_feature(enable = "neon")]
fn store(p: &mut [u64; 2], v: V) {
    // SAFETY: `p` is 16 writable bytes; `st1` needs only element alignment.
    unsafe { vst1q_u64(p.as_mut_ptr(), v) }
}

#[inline]
#[target_feature(enable = "neon")]
fn add(a: V, b: V) -> V {
    vaddq_u64(a, b)
}

#[inline]
#[target_feature(enable = "neon")]
fn sub(a: V, b: V) -> V {
    vsubq_u64(a, b)
}

/// `x >= c ? x - c : x`.
#[inline]
#[target_feature(enable = "neon")]
fn csub(x: V, c: V) -> V {
    vbslq_u64(vcgeq_u64(x, c), sub(x, c), x)
}

/// A vector split into the low and high 32-bit halves of its lanes (`umull` operands).
#[derive(Clone, Copy)]
struct Split {
    lo: uint32x2_t,
    hi: uint32x2_t,
}

#[inline]
#[target_feature(enable = "neon")]
fn split(a: V) -> Split {
    Split {
        lo: vmovn_u64(a),
        hi: vshrn_n_u64::<32>(a),
    }
}

/// `(hi, lo)` of the 128-bit lane products `a b`.
#[inline]
#[target_feature(enable = "neon")]
fn mul_wide(a: Split, b: Split) -> (V, V) {
    let ll = vmull_u32(a.lo, b.lo);
    // No lane overflows: (2^32-1)^2 + 2 (2^32-1) < 2^64.
    let t = vsraq_n_u64::<32>(vmull_u32(a.lo, b.hi), ll);
    let mid = vmlal_u32(vandq_u64(t, splat(0xffff_ffff)), a.hi, b.lo);
    let hi = vsraq_n_u64::<32>(vmlal_u32(vshrq_n_u64::<32>(t), a.hi, b.hi), mid);
    let lo = vsliq_n_u64::<32>(ll, mid);
    (hi, lo)
}

/// High 64 bits of the lane products `a b`.
#[inline]
#[target_feature(enable = "neon")]
fn mul_hi(a: Split, b: Split) -> V {
    mul_wide(a, b).0
}

/// Low 64 bits of the lane products `a b`.
#[inline]
#[target_feature(enable = "neon")]
fn mul_lo(a: Split, b: Split) -> V {
    // The cross terms only matter mod 2^32.
    let cross = vmla_u32(vmul_u32(a.lo, b.hi), a.hi, b.lo);
    vmlal_u32(vshll_n_u32::<32>(cross), a.lo, b.lo)
}

/// A fixed multiplier `w < q` in both lanes (or one per lane) with its Shoup constant.
#[derive(Clone, Copy)]
struct ShoupV {
    w: Split,
    ws: Split,
}

impl ShoupV {
    #[inline]
    #[target_feature(enable = "neon")]
    fn new(w: V, ws: V) -> Self {
        Self {
            w: split(w),
            ws: split(ws),
        }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    fn splat(w: u64, ws: u64) -> Self {
        Self::new(splat(w), splat(ws))
    }
}

/// The modulus in both lanes, split, and doubled.
#[derive(Clone, Copy)]
struct Q {
    q: V,
    qs: Split,
    two_q: V,
}

impl Q {
    #[inline]
    #[target_feature(enable = "neon")]
    fn new(q: u64) -> Self {
        Self {
            q: splat(q),
            qs: split(splat(q)),
            two_q: splat(2 * q),
        }
    }

    /// `y w mod q` in `[0, 2q)` for any `y` (Shoup): `qhat = floor(y ws / 2^64)` is at
    /// most one below `floor(y w / q)`.
    #[inline]
    #[target_feature(enable = "neon")]
    fn mul_shoup_lazy(self, y: V, c: ShoupV) -> V {
        let ys = split(y);
        let qhat = mul_hi(ys, c.ws);
        sub(mul_lo(ys, c.w), mul_lo(split(qhat), self.qs))
    }
}

/// Barrett reduction of 128-bit products below `q^2` (`q < 2^62` of bit length `k`):
/// `x1 = floor(x / 2^(k-1)) < 2^(k+1)`, `mu = floor(2^(2k) / q) < 2^(k+1)`, and
/// `qhat = floor(x1 mu / 2^(k+1))` is at most 2 below `floor(x / q)`, so
/// `x - qhat q < 3q < 2^64` and two conditional subtractions finish.
#[derive(Clone, Copy)]
struct Barrett {
    q: Q,
    mu: Split,
    // Shift counts; `ushl` shifts right for negative counts.
    right_k_minus_1: int64x2_t,
    left_65_minus_k: int64x2_t,
    right_k_plus_1: int64x2_t,
    left_63_minus_k: int64x2_t,
}

impl Barrett {
    #[inline]
    #[target_feature(enable = "neon")]
    fn new(m: &ModulusConsts) -> Self {
        let k = m.bits as i64;
        // floor(2^(2k) / q) = floor(floor(2^128 / q) / 2^(128 - 2k)); 2k <= 124.
        let r = ((m.barrett_hi as u128) << 64) | m.barrett_lo as u128;
        let mu = (r >> (128 - 2 * k)) as u64;
        Self {
            q: Q::new(m.q),
            mu: split(splat(mu)),
            right_k_minus_1: vdupq_n_s64(1 - k),
            left_65_minus_k: vdupq_n_s64(65 - k),
            right_k_plus_1: vdupq_n_s64(-1 - k),
            left_63_minus_k: vdupq_n_s64(63 - k),
        }
    }

    /// `a b mod q` for `a, b < q`.
    #[inline]
    #[target_feature(enable = "neon")]
    fn mul(self, a: V, b: V) -> V {
        let (hi, lo) = mul_wide(split(a), split(b));
        let x1 = vorrq_u64(
            vshlq_u64(lo, self.right_k_minus_1),
            vshlq_u64(hi, self.left_65_minus_k),
        );
        let (ph, pl) = mul_wide(split(x1), self.mu);
        let qhat = vorrq_u64(
            vshlq_u64(pl, self.right_k_plus_1),
            vshlq_u64(ph, self.left_63_minus_k),
        );
        let r = sub(lo, mul_lo(split(qhat), self.q.qs));
        csub(csub(r, self.q.q), self.q.q)
    }
}

// ---------------------------------------------------------------------------------
// Element-wise kernels
// ---------------------------------------------------------------------------------

/// `a[i] = (a[i] + b[i]) mod q`.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn add_assign(a: &mut [u64], b: &[u64], q: u64) {
    let qv = splat(q);
    let (av, a_rest) = a.as_chunks_mut::<2>();
    let (bv, b_rest) = b.as_chunks::<2>();
    for (x, y) in av.iter_mut().zip(bv) {
        store(x, csub(add(load(x), load(y)), qv));
    }
    scalar::add_assign(a_rest, b_rest, q);
}

/// `a[i] = (a[i] - b[i]) mod q`.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn sub_assign(a: &mut [u64], b: &[u64], q: u64) {
    let qv = splat(q);
    let (av, a_rest) = a.as_chunks_mut::<2>();
    let (bv, b_rest) = b.as_chunks::<2>();
    for (x, y) in av.iter_mut().zip(bv) {
        let (u, v) = (load(x), load(y));
        // Add q back where a < b.
        let borrow = vcgtq_u64(v, u);
        store(x, add(sub(u, v), vandq_u64(borrow, qv)));
    }
    scalar::sub_assign(a_rest, b_rest, q);
}

/// `a[i] = -a[i] mod q`.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn neg_assign(a: &mut [u64], q: u64) {
    let qv = splat(q);
    let (av, rest) = a.as_chunks_mut::<2>();
    for x in av.iter_mut() {
        let v = load(x);
        // vtstq: all-ones where v != 0.
        store(x, vandq_u64(vtstq_u64(v, v), sub(qv, v)));
    }
    scalar::neg_assign(rest, q);
}

/// `a[i] = a[i] * b[i] mod q`.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn mul_assign(a: &mut [u64], b: &[u64], m: &ModulusConsts) {
    let br = Barrett::new(m);
    let (av, a_rest) = a.as_chunks_mut::<2>();
    let (bv, b_rest) = b.as_chunks::<2>();
    for (x, y) in av.iter_mut().zip(bv) {
        store(x, br.mul(load(x), load(y)));
    }
    scalar::mul_assign(a_rest, b_rest, m);
}

/// `acc[i] = (acc[i] + a[i] * b[i]) mod q`.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn mul_add_assign(acc: &mut [u64], a: &[u64], b: &[u64], m: &ModulusConsts) {
    let br = Barrett::new(m);
    let (cv, c_rest) = acc.as_chunks_mut::<2>();
    let (av, a_rest) = a.as_chunks::<2>();
    let (bv, b_rest) = b.as_chunks::<2>();
    for ((s, x), y) in cv.iter_mut().zip(av).zip(bv) {
        store(s, csub(add(load(s), br.mul(load(x), load(y))), br.q.q));
    }
    scalar::mul_add_assign(c_rest, a_rest, b_rest, m);
}

/// `a[i] = a[i] * c.w mod q` (inputs any `u64`).
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn mul_scalar_assign(a: &mut [u64], c: &ShoupConst, q: u64) {
    let (qs, cv) = (Q::new(q), ShoupV::splat(c.w, c.w_shoup));
    let (av, rest) = a.as_chunks_mut::<2>();
    for x in av.iter_mut() {
        store(x, csub(qs.mul_shoup_lazy(load(x), cv), qs.q));
    }
    scalar::mul_scalar_assign(rest, c, q);
}

/// `acc[i] = (acc[i] + a[i] * c.w) mod q` (`a[i]` any `u64`, `acc[i] < q`).
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn mul_scalar_add_assign(acc: &mut [u64], a: &[u64], c: &ShoupConst, q: u64) {
    let (qs, cv) = (Q::new(q), ShoupV::splat(c.w, c.w_shoup));
    let (sv, s_rest) = acc.as_chunks_mut::<2>();
    let (av, a_rest) = a.as_chunks::<2>();
    for (s, x) in sv.iter_mut().zip(av) {
        let p = csub(qs.mul_shoup_lazy(load(x), cv), qs.q);
        store(s, csub(add(load(s), p), qs.q));
    }
    scalar::mul_scalar_add_assign(s_rest, a_rest, c, q);
}

/// `a[i] = a[i] mod q` for any `a[i]`.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn reduce_assign(a: &mut [u64], m: &ModulusConsts) {
    // qhat = floor(x floor(2^64 / q) / 2^64) is at most one below floor(x / q), so
    // x - qhat q < 2q.
    let qs = Q::new(m.q);
    let r = split(splat(m.barrett_hi));
    let (av, rest) = a.as_chunks_mut::<2>();
    for x in av.iter_mut() {
        let v = load(x);
        let qhat = mul_hi(split(v), r);
        store(x, csub(sub(v, mul_lo(split(qhat), qs.qs)), qs.q));
    }
    scalar::reduce_assign(rest, m);
}

/// `a[i] in [0, 2q)` becomes `a[i] mod q`.
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn reduce_from_2q(a: &mut [u64], q: u64) {
    let qv = splat(q);
    let (av, rest) = a.as_chunks_mut::<2>();
    for x in av.iter_mut() {
        store(x, csub(load(x), qv));
    }
    scalar::reduce_from_2q(rest, q);
}

/// `out[i] = a[perm[i]]` (the scalar loop: NEON has no gather).
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn permute(a: &[u64], perm: &[u32], out: &mut [u64]) {
    scalar::permute(a, perm, out)
}

/// [`scalar::sample_below`].
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn sample_below(words: &[u32], mask: u64, q: u64, out: &mut [u64]) -> usize {
    scalar::sample_below(words, mask, q, out)
}

/// `out(X) = a(X^g) mod (X^n + 1, q)` (the scalar loop: NEON has no scatter or gather).
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn automorphism_coeff(a: &[u64], g: usize, out: &mut [u64], q: u64) {
    scalar::automorphism_coeff(a, g, out, q)
}

// ---------------------------------------------------------------------------------
// NTTs
// ---------------------------------------------------------------------------------

/// Forward (Cooley-Tukey) butterfly on `x, y < 4q`: `(x + w y, x - w y)` in `[0, 4q)`.
#[inline]
#[target_feature(enable = "neon")]
fn fwd_bfly(q: Q, x: V, y: V, w: ShoupV) -> (V, V) {
    let u = csub(x, q.two_q);
    let v = q.mul_shoup_lazy(y, w);
    (add(u, v), sub(add(u, q.two_q), v))
}

/// Inverse (Gentleman-Sande) butterfly on `x, y < 2q`: `(x + y, w (x - y))` in `[0, 2q)`.
#[inline]
#[target_feature(enable = "neon")]
fn inv_bfly(q: Q, x: V, y: V, w: ShoupV) -> (V, V) {
    let s = csub(add(x, y), q.two_q);
    let d = q.mul_shoup_lazy(sub(add(x, q.two_q), y), w);
    (s, d)
}

/// One NTT stage with butterfly distance `half >= 2` and one twiddle per block.
#[inline]
#[target_feature(enable = "neon")]
fn stage(a: &mut [u64], half: usize, w: &[u64], ws: &[u64], bfly: impl Fn(V, V, ShoupV) -> (V, V)) {
    let blocks = a.chunks_exact_mut(2 * half).zip(w.iter().zip(ws));
    for (blk, (&wi, &wsi)) in blocks {
        let c = ShoupV::splat(wi, wsi);
        let (lo, hi) = blk.split_at_mut(half);
        let (lo, hi) = (lo.as_chunks_mut::<2>().0, hi.as_chunks_mut::<2>().0);
        for (x, y) in lo.iter_mut().zip(hi) {
            let (u, v) = bfly(load(x), load(y), c);
            store(x, u);
            store(y, v);
        }
    }
}

/// The distance-1 stage: pairs `(a[2i], a[2i+1])` with twiddle `w[i]`; two pairs per
/// step, transposed into `[a0 a2]`, `[a1 a3]`. `finish` maps each result vector.
#[inline]
#[target_feature(enable = "neon")]
fn stage_pairs(
    a: &mut [u64],
    w: &[u64],
    ws: &[u64],
    bfly: impl Fn(V, V, ShoupV) -> (V, V),
    finish: impl Fn(V) -> V,
) {
    let tw = w.as_chunks::<2>().0.iter().zip(ws.as_chunks::<2>().0);
    for (quad, (wi, wsi)) in a.as_chunks_mut::<4>().0.iter_mut().zip(tw) {
        let (p, r) = quad.split_at_mut(2);
        let (p, r): (&mut [u64; 2], &mut [u64; 2]) = (p.try_into().unwrap(), r.try_into().unwrap());
        let (va, vb) = (load(p), load(r));
        let x = vtrn1q_u64(va, vb);
        let y = vtrn2q_u64(va, vb);
        let (x, y) = bfly(x, y, ShoupV::new(load(wi), load(wsi)));
        let (x, y) = (finish(x), finish(y));
        store(p, vtrn1q_u64(x, y));
        store(r, vtrn2q_u64(x, y));
    }
}

/// Forward negacyclic NTT (see [`scalar::ntt_forward`]).
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn ntt_forward(t: &NttTable, a: &mut [u64]) {
    let n = t.n();
    assert_eq!(a.len(), n, "ntt_forward: length must equal the table size");
    if n < 4 {
        return scalar::ntt_forward(t, a);
    }
    let q = Q::new(t.q());
    let (w, ws) = (t.fwd(), t.fwd_shoup());
    let mut m = 1;
    while m < n / 2 {
        let bfly = |x, y, c| fwd_bfly(q, x, y, c);
        stage(a, n / (2 * m), &w[m..2 * m], &ws[m..2 * m], bfly);
        m *= 2;
    }
    stage_pairs(
        a,
        &w[n / 2..],
        &ws[n / 2..],
        |x, y, c| fwd_bfly(q, x, y, c),
        |x| csub(csub(x, q.two_q), q.q),
    );
}

/// Inverse negacyclic NTT including `n^-1` (see [`scalar::ntt_inverse`]).
///
/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub fn ntt_inverse(t: &NttTable, a: &mut [u64]) {
    let n = t.n();
    assert_eq!(a.len(), n, "ntt_inverse: length must equal the table size");
    if n < 4 {
        return scalar::ntt_inverse(t, a);
    }
    let q = Q::new(t.q());
    let (w, ws) = (t.inv(), t.inv_shoup());
    stage_pairs(
        a,
        &w[n / 2..],
        &ws[n / 2..],
        |x, y, c| inv_bfly(q, x, y, c),
        |x| x,
    );
    let mut h = n / 4;
    while h >= 1 {
        let bfly = |x, y, c| inv_bfly(q, x, y, c);
        stage(a, n / (2 * h), &w[h..2 * h], &ws[h..2 * h], bfly);
        h /= 2;
    }
    let (ni, nis, _) = t.n_inv();
    let c = ShoupV::splat(ni, nis);
    for x in a.as_chunks_mut::<2>().0.iter_mut() {
        store(x, csub(q.mul_shoup_lazy(load(x), c), q.q));
    }
}
