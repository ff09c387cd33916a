//! The negacyclic NTT over eight lanes, generic over the Shoup multiplier (64-bit or
//! IFMA). Same butterflies and table as `scalar`; only the order of work differs:
//!
//! * two radix-2 stages are fused per pass over memory (radix-4 passes);
//! * stages whose butterflies stay inside a [`BLOCK`]-word chunk run chunk by chunk,
//!   so that each chunk is loaded from L2 once and then stays in L1;
//! * the three stages with half-sizes 4, 2, 1 run inside registers on 16 coefficients
//!   at a time, with lane shuffles instead of memory passes.
//!
//! Forward (Cooley-Tukey, Harvey's lazy butterflies) keeps values in `[0, 4q)` and
//! reduces to `[0, q)` in its last stage; inverse (Gentleman-Sande) keeps `[0, 2q)`
//! and folds the `n^-1` factor into its last stage.
//!
//! The passes are written once, in the macro `ntt_passes!`, and instantiated for each
//! multiplier (`arith::Mul64`, `arith::Mul52`) with its target features, so that the
//! butterflies inline into the passes.

/// Words per cache block: 32 KiB of data, which fits L1 with the twiddles it needs.
const BLOCK: usize = 4096;

/// Below this size the scalar code is used (the in-register stages need 16 words).
const MIN_N: usize = 16;

use super::ops::*;
use crate::scalar;
use crate::table::NttTable;

/// Twiddles of the stage with half-size `h` (it has `n / 2h` blocks), from its block
/// number `first` on.
#[inline(always)]
fn stage(tw: &[u64], n: usize, h: usize, first: usize) -> &[u64] {
    &tw[n / (2 * h) + first..]
}

/// Lane shuffles of the in-register stages. Two vectors `A` (words 0..8) and `B`
/// (words 8..16) are rearranged into `lo` / `hi` so that lane `i` of `lo` and of `hi`
/// form one butterfly pair; indices 8..16 pick from the second operand.
mod shuf {
    /// `lo = [A0..A4, B0..B4]`, pairs at distance 4.
    pub(super) const HALVES_LO: [u64; 8] = [0, 1, 2, 3, 8, 9, 10, 11];
    /// `hi = [A4..A8, B4..B8]`.
    pub(super) const HALVES_HI: [u64; 8] = [4, 5, 6, 7, 12, 13, 14, 15];
    /// From the distance-4 layout to pairs at distance 2 (and back for the inverse).
    pub(super) const QUARTERS_LO: [u64; 8] = [0, 1, 8, 9, 4, 5, 12, 13];
    /// Companion of [`QUARTERS_LO`].
    pub(super) const QUARTERS_HI: [u64; 8] = [2, 3, 10, 11, 6, 7, 14, 15];
    /// From the distance-2 layout to pairs at distance 1 (and back for the inverse).
    pub(super) const PAIRS_LO: [u64; 8] = [0, 8, 2, 10, 4, 12, 6, 14];
    /// Companion of [`PAIRS_LO`].
    pub(super) const PAIRS_HI: [u64; 8] = [1, 9, 3, 11, 5, 13, 7, 15];
    /// Even words of `A, B` (distance-1 layout straight from memory).
    pub(super) const EVENS: [u64; 8] = [0, 2, 4, 6, 8, 10, 12, 14];
    /// Odd words of `A, B`.
    pub(super) const ODDS: [u64; 8] = [1, 3, 5, 7, 9, 11, 13, 15];
    /// From the distance-1 layout back to natural order, first 8 words.
    pub(super) const ZIP_LO: [u64; 8] = [0, 8, 1, 9, 2, 10, 3, 11];
    /// Second 8 words.
    pub(super) const ZIP_HI: [u64; 8] = [4, 12, 5, 13, 6, 14, 7, 15];
    /// Spreads 2 twiddles over the distance-4 layout.
    pub(super) const SPREAD2: [u64; 8] = [0, 0, 0, 0, 1, 1, 1, 1];
    /// Spreads 4 twiddles over the distance-2 layout.
    pub(super) const SPREAD4: [u64; 8] = [0, 0, 1, 1, 2, 2, 3, 3];
}

/// Twiddles for one 16-word group of the in-register stages.
struct GroupTw<'a> {
    w: &'a [u64],
    ws: &'a [u64],
}

/// The twiddles of the three in-register stages for chunk `ci` of length `len`.
fn group_tws<'a>(w: &'a [u64], ws: &'a [u64], n: usize, ci: usize, len: usize) -> [GroupTw<'a>; 3] {
    let groups = len / 16;
    let at = |h: usize, per: usize| {
        let w = &stage(w, n, h, ci * len / (2 * h))[..groups * per];
        let ws = &stage(ws, n, h, ci * len / (2 * h))[..groups * per];
        GroupTw { w, ws }
    };
    [at(4, 2), at(2, 4), at(1, 8)]
}

/// The NTT passes for one multiplier type `M` (twiddle type `Tw`), every function
/// compiled with the target features `$feat`.
macro_rules! ntt_passes {
    ($feat:literal) => {
        /// Per-transform constants.
        struct Ctx {
            m: M,
            q: V,
            two_q: V,
        }

        /// Cooley-Tukey butterfly: `(x, y)` in `[0, 4q)` to `(x + wy, x - wy)` in `[0, 4q)`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn fwd_bfly(c: &Ctx, x: V, y: V, t: Tw) -> (V, V) {
            let u = reduce_once(x, c.two_q);
            let v = c.m.mul_lazy(y, t);
            (add(u, v), sub(add(u, c.two_q), v))
        }

        /// Gentleman-Sande butterfly: `(x, y)` in `[0, 2q)` to `(x + y, w (x - y))` in `[0, 2q)`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn inv_bfly(c: &Ctx, x: V, y: V, t: Tw) -> (V, V) {
            let s = reduce_once(add(x, y), c.two_q);
            let d = c.m.mul_lazy(sub(add(x, c.two_q), y), t);
            (s, d)
        }

        /// Twiddle of group `k` for the distance-4 stage: 2 per group, spread over the layout.
        #[inline]
        #[target_feature(enable = $feat)]
        fn tw_d4(m: M, g: &GroupTw, k: usize) -> Tw {
            let (w, ws) = (&g.w[2 * k..2 * k + 2], &g.ws[2 * k..2 * k + 2]);
            let s = lanes(shuf::SPREAD2);
            // SAFETY: both slices have the 2 words `load2` reads.
            unsafe {
                m.tw(
                    permute(load2(w.as_ptr()), s),
                    permute(load2(ws.as_ptr()), s),
                )
            }
        }

        /// Twiddle of group `k` for the distance-2 stage: 4 per group.
        #[inline]
        #[target_feature(enable = $feat)]
        fn tw_d2(m: M, g: &GroupTw, k: usize) -> Tw {
            let (w, ws) = (&g.w[4 * k..4 * k + 4], &g.ws[4 * k..4 * k + 4]);
            let s = lanes(shuf::SPREAD4);
            // SAFETY: both slices have the 4 words `load4` reads.
            unsafe {
                m.tw(
                    permute(load4(w.as_ptr()), s),
                    permute(load4(ws.as_ptr()), s),
                )
            }
        }

        /// Twiddle of group `k` for the distance-1 stage: 8 per group, in lane order.
        #[inline]
        #[target_feature(enable = $feat)]
        fn tw_d1(m: M, g: &GroupTw, k: usize) -> Tw {
            let (w, ws) = (&g.w[8 * k..8 * k + 8], &g.ws[8 * k..8 * k + 8]);
            // SAFETY: both slices have the 8 words `load` reads.
            unsafe { m.tw(load(w.as_ptr()), load(ws.as_ptr())) }
        }

        /// Forward NTT of `a` (`a.len() == t.n()`), natural order in `[0, q)` to bit-reversed
        /// in `[0, q)`.
        #[target_feature(enable = $feat)]
        pub(crate) fn forward(m: M, t: &NttTable, a: &mut [u64]) {
            let n = t.n();
            assert_eq!(a.len(), n, "ntt_forward: length must equal the table size");
            if n < MIN_N {
                return scalar::ntt_forward(t, a);
            }
            let c = Ctx {
                m,
                q: splat(t.q()),
                two_q: splat(2 * t.q()),
            };
            let (w, ws) = (t.fwd(), M::fwd_shoup(t));
            let block = n.min(BLOCK);
            // Stages with butterflies wider than a block, over the whole array.
            fwd_stages(&c, a, n, 0, w, ws, n / 2, block / 2);
            // The rest, block by block.
            for (ci, chunk) in a.chunks_exact_mut(block).enumerate() {
                fwd_stages(&c, chunk, n, ci, w, ws, block / 2, 4);
                fwd_last3(&c, chunk, n, ci, w, ws);
            }
        }

        /// Forward stages with half-sizes `h_hi, h_hi / 2, ..` down to (excluding) `h_lo` on
        /// chunk `ci` of `a`: one radix-2 pass if the count is odd, then radix-4 passes.
        #[inline]
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)]
        fn fwd_stages(
            c: &Ctx,
            a: &mut [u64],
            n: usize,
            ci: usize,
            w: &[u64],
            ws: &[u64],
            h_hi: usize,
            h_lo: usize,
        ) {
            if h_hi <= h_lo {
                return;
            }
            let len = a.len();
            let tw = |h: usize| {
                let first = ci * len / (2 * h);
                (stage(w, n, h, first), stage(ws, n, h, first))
            };
            let mut h = h_hi;
            if (h_hi / h_lo).trailing_zeros() % 2 == 1 {
                let (w1, ws1) = tw(h);
                fwd_radix2(c, a, h, w1, ws1);
                h /= 2;
            }
            while h > h_lo {
                // Stages h (outer) and h / 2 (inner).
                let (w1, ws1) = tw(h);
                let (w2, ws2) = tw(h / 2);
                fwd_radix4(c, a, h / 2, [w1, ws1, w2, ws2]);
                h /= 4;
            }
        }

        /// One forward stage with half-size `h` (a multiple of 8) on blocks of `2h` words;
        /// block `k` uses twiddle `w[k]`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn fwd_radix2(c: &Ctx, a: &mut [u64], h: usize, w: &[u64], ws: &[u64]) {
            let blocks = a.len() / (2 * h);
            assert!(a.len() == blocks * 2 * h && h.is_multiple_of(8));
            let (w, ws) = (&w[..blocks], &ws[..blocks]);
            for (k, blk) in a.chunks_exact_mut(2 * h).enumerate() {
                let p = blk.as_mut_ptr();
                // SAFETY: `j + 8 <= h`, so both `p + j` and `p + h + j` have 8 words inside
                // `blk` (length `2h`).
                unsafe {
                    let t = c.m.tw_splat(w[k], ws[k]);
                    for j in (0..h).step_by(8) {
                        let (x, y) = fwd_bfly(c, load(p.add(j)), load(p.add(h + j)), t);
                        store(p.add(j), x);
                        store(p.add(h + j), y);
                    }
                }
            }
        }

        /// Two forward stages with half-sizes `2h` then `h` (a multiple of 8) on blocks of
        /// `4h` words. `tw = [w_outer, ws_outer, w_inner, ws_inner]`: block `k` uses outer
        /// twiddle `k` and inner twiddles `2k`, `2k + 1`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn fwd_radix4(c: &Ctx, a: &mut [u64], h: usize, tw: [&[u64]; 4]) {
            let blocks = a.len() / (4 * h);
            assert!(a.len() == blocks * 4 * h && h.is_multiple_of(8));
            let [w1, ws1, w2, ws2] = tw;
            let (w1, ws1, w2, ws2) = (
                &w1[..blocks],
                &ws1[..blocks],
                &w2[..2 * blocks],
                &ws2[..2 * blocks],
            );
            for (k, blk) in a.chunks_exact_mut(4 * h).enumerate() {
                let p = blk.as_mut_ptr();
                // SAFETY: `j + 8 <= h`, so `p + r h + j` (r < 4) has 8 words inside `blk`
                // (length `4h`).
                unsafe {
                    let t1 = c.m.tw_splat(w1[k], ws1[k]);
                    let t2a = c.m.tw_splat(w2[2 * k], ws2[2 * k]);
                    let t2b = c.m.tw_splat(w2[2 * k + 1], ws2[2 * k + 1]);
                    for j in (0..h).step_by(8) {
                        let ptr = [p.add(j), p.add(h + j), p.add(2 * h + j), p.add(3 * h + j)];
                        let (x0, x2) = fwd_bfly(c, load(ptr[0]), load(ptr[2]), t1);
                        let (x1, x3) = fwd_bfly(c, load(ptr[1]), load(ptr[3]), t1);
                        let (x0, x1) = fwd_bfly(c, x0, x1, t2a);
                        let (x2, x3) = fwd_bfly(c, x2, x3, t2b);
                        store(ptr[0], x0);
                        store(ptr[1], x1);
                        store(ptr[2], x2);
                        store(ptr[3], x3);
                    }
                }
            }
        }

        /// The last three forward stages (half-sizes 4, 2, 1) in registers, 16 words at a
        /// time, ending with the reduction to `[0, q)`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn fwd_last3(c: &Ctx, a: &mut [u64], n: usize, ci: usize, w: &[u64], ws: &[u64]) {
            let [t4, t2, t1] = group_tws(w, ws, n, ci, a.len());
            for (g, grp) in a.chunks_exact_mut(16).enumerate() {
                let p = grp.as_mut_ptr();
                // SAFETY: `grp` has 16 words; `group_tws` sliced the twiddles to exactly the
                // groups of this chunk.
                unsafe {
                    let (va, vb) = (load(p), load(p.add(8)));
                    let lo = shuffle2(va, lanes(shuf::HALVES_LO), vb);
                    let hi = shuffle2(va, lanes(shuf::HALVES_HI), vb);
                    let (lo, hi) = fwd_bfly(c, lo, hi, tw_d4(c.m, &t4, g));
                    let (lo, hi) = (
                        shuffle2(lo, lanes(shuf::QUARTERS_LO), hi),
                        shuffle2(lo, lanes(shuf::QUARTERS_HI), hi),
                    );
                    let (lo, hi) = fwd_bfly(c, lo, hi, tw_d2(c.m, &t2, g));
                    let (lo, hi) = (
                        shuffle2(lo, lanes(shuf::PAIRS_LO), hi),
                        shuffle2(lo, lanes(shuf::PAIRS_HI), hi),
                    );
                    let (lo, hi) = fwd_bfly(c, lo, hi, tw_d1(c.m, &t1, g));
                    let lo = reduce_once(reduce_once(lo, c.two_q), c.q);
                    let hi = reduce_once(reduce_once(hi, c.two_q), c.q);
                    store(p, shuffle2(lo, lanes(shuf::ZIP_LO), hi));
                    store(p.add(8), shuffle2(lo, lanes(shuf::ZIP_HI), hi));
                }
            }
        }

        /// Inverse NTT of `a` (`a.len() == t.n()`), bit-reversed order in `[0, q)` to natural
        /// order in `[0, q)`, times `n^-1`.
        #[target_feature(enable = $feat)]
        pub(crate) fn inverse(m: M, t: &NttTable, a: &mut [u64]) {
            let n = t.n();
            assert_eq!(a.len(), n, "ntt_inverse: length must equal the table size");
            if n < MIN_N {
                return scalar::ntt_inverse(t, a);
            }
            let c = Ctx {
                m,
                q: splat(t.q()),
                two_q: splat(2 * t.q()),
            };
            let (w, ws) = (t.inv(), M::inv_shoup(t));
            let block = n.min(BLOCK);
            // The last stage (half-size n / 2) is kept for `inv_last`.
            let top = n / 4;
            for (ci, chunk) in a.chunks_exact_mut(block).enumerate() {
                inv_first3(&c, chunk, n, ci, w, ws);
                inv_stages(&c, chunk, n, ci, w, ws, 8, top.min(block / 2));
            }
            inv_stages(&c, a, n, 0, w, ws, block, top);
            inv_last(&c, a, t, w);
        }

        /// Inverse stages with half-sizes `h_lo, 2 h_lo, ..` up to (including) `h_hi` on
        /// chunk `ci` of `a`: radix-4 passes, then one radix-2 pass if the count is odd.
        #[inline]
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)]
        fn inv_stages(
            c: &Ctx,
            a: &mut [u64],
            n: usize,
            ci: usize,
            w: &[u64],
            ws: &[u64],
            h_lo: usize,
            h_hi: usize,
        ) {
            if h_hi < h_lo {
                return;
            }
            let len = a.len();
            let tw = |h: usize| {
                let first = ci * len / (2 * h);
                (stage(w, n, h, first), stage(ws, n, h, first))
            };
            let mut h = h_lo;
            while 2 * h <= h_hi {
                let (w1, ws1) = tw(h);
                let (w2, ws2) = tw(2 * h);
                inv_radix4(c, a, h, [w1, ws1, w2, ws2]);
                h *= 4;
            }
            if h == h_hi {
                let (w1, ws1) = tw(h);
                inv_radix2(c, a, h, w1, ws1);
            }
        }

        /// One inverse stage with half-size `h` (a multiple of 8); block `k` uses `w[k]`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn inv_radix2(c: &Ctx, a: &mut [u64], h: usize, w: &[u64], ws: &[u64]) {
            let blocks = a.len() / (2 * h);
            assert!(a.len() == blocks * 2 * h && h.is_multiple_of(8));
            let (w, ws) = (&w[..blocks], &ws[..blocks]);
            for (k, blk) in a.chunks_exact_mut(2 * h).enumerate() {
                let p = blk.as_mut_ptr();
                // SAFETY: as in `fwd_radix2`.
                unsafe {
                    let t = c.m.tw_splat(w[k], ws[k]);
                    for j in (0..h).step_by(8) {
                        let (x, y) = inv_bfly(c, load(p.add(j)), load(p.add(h + j)), t);
                        store(p.add(j), x);
                        store(p.add(h + j), y);
                    }
                }
            }
        }

        /// Two inverse stages with half-sizes `h` (a multiple of 8) then `2h` on blocks of
        /// `4h` words. `tw = [w_inner, ws_inner, w_outer, ws_outer]`: block `k` uses inner
        /// twiddles `2k`, `2k + 1` and outer twiddle `k`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn inv_radix4(c: &Ctx, a: &mut [u64], h: usize, tw: [&[u64]; 4]) {
            let blocks = a.len() / (4 * h);
            assert!(a.len() == blocks * 4 * h && h.is_multiple_of(8));
            let [w1, ws1, w2, ws2] = tw;
            let (w1, ws1, w2, ws2) = (
                &w1[..2 * blocks],
                &ws1[..2 * blocks],
                &w2[..blocks],
                &ws2[..blocks],
            );
            for (k, blk) in a.chunks_exact_mut(4 * h).enumerate() {
                let p = blk.as_mut_ptr();
                // SAFETY: as in `fwd_radix4`.
                unsafe {
                    let t1a = c.m.tw_splat(w1[2 * k], ws1[2 * k]);
                    let t1b = c.m.tw_splat(w1[2 * k + 1], ws1[2 * k + 1]);
                    let t2 = c.m.tw_splat(w2[k], ws2[k]);
                    for j in (0..h).step_by(8) {
                        let ptr = [p.add(j), p.add(h + j), p.add(2 * h + j), p.add(3 * h + j)];
                        let (x0, x1) = inv_bfly(c, load(ptr[0]), load(ptr[1]), t1a);
                        let (x2, x3) = inv_bfly(c, load(ptr[2]), load(ptr[3]), t1b);
                        let (x0, x2) = inv_bfly(c, x0, x2, t2);
                        let (x1, x3) = inv_bfly(c, x1, x3, t2);
                        store(ptr[0], x0);
                        store(ptr[1], x1);
                        store(ptr[2], x2);
                        store(ptr[3], x3);
                    }
                }
            }
        }

        /// The first three inverse stages (half-sizes 1, 2, 4) in registers, 16 words at a time.
        #[inline]
        #[target_feature(enable = $feat)]
        fn inv_first3(c: &Ctx, a: &mut [u64], n: usize, ci: usize, w: &[u64], ws: &[u64]) {
            let [t4, t2, t1] = group_tws(w, ws, n, ci, a.len());
            for (g, grp) in a.chunks_exact_mut(16).enumerate() {
                let p = grp.as_mut_ptr();
                // SAFETY: as in `fwd_last3`.
                unsafe {
                    let (va, vb) = (load(p), load(p.add(8)));
                    let lo = shuffle2(va, lanes(shuf::EVENS), vb);
                    let hi = shuffle2(va, lanes(shuf::ODDS), vb);
                    let (lo, hi) = inv_bfly(c, lo, hi, tw_d1(c.m, &t1, g));
                    let (lo, hi) = (
                        shuffle2(lo, lanes(shuf::PAIRS_LO), hi),
                        shuffle2(lo, lanes(shuf::PAIRS_HI), hi),
                    );
                    let (lo, hi) = inv_bfly(c, lo, hi, tw_d2(c.m, &t2, g));
                    let (lo, hi) = (
                        shuffle2(lo, lanes(shuf::QUARTERS_LO), hi),
                        shuffle2(lo, lanes(shuf::QUARTERS_HI), hi),
                    );
                    let (lo, hi) = inv_bfly(c, lo, hi, tw_d4(c.m, &t4, g));
                    store(p, shuffle2(lo, lanes(shuf::HALVES_LO), hi));
                    store(p.add(8), shuffle2(lo, lanes(shuf::HALVES_HI), hi));
                }
            }
        }

        /// The last inverse stage (half-size `n / 2`, twiddle `w[1]`) with the `n^-1` factor
        /// folded in: `x' = n^-1 (x + y)`, `y' = n^-1 w (x - y)`, both reduced to `[0, q)`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn inv_last(c: &Ctx, a: &mut [u64], t: &NttTable, w: &[u64]) {
            let q = t.q();
            let n_inv = t.n_inv().0;
            let w_n_inv = ((w[1] as u128 * n_inv as u128) % q as u128) as u64;
            let h = a.len() / 2;
            let p = a.as_mut_ptr();
            // SAFETY: `j + 8 <= h` and `a.len() == 2h`.
            unsafe {
                let ts = c.m.tw_splat(n_inv, M::shoup_of(n_inv, q));
                let td = c.m.tw_splat(w_n_inv, M::shoup_of(w_n_inv, q));
                for j in (0..h).step_by(8) {
                    let (x, y) = (load(p.add(j)), load(p.add(h + j)));
                    let s = c.m.mul_lazy(add(x, y), ts);
                    let d = c.m.mul_lazy(sub(add(x, c.two_q), y), td);
                    store(p.add(j), reduce_once(s, c.q));
                    store(p.add(h + j), reduce_once(d, c.q));
                }
            }
        }
    };
}

/// The passes with 64-bit arithmetic (AVX-512 F/DQ/VL/BW).
pub(crate) mod m64 {
    use super::*;
    use crate::avx512::arith::{Mul64 as M, Tw64 as Tw};
    ntt_passes!("avx512f,avx512dq,avx512vl,avx512bw");
}

/// The passes with IFMA arithmetic (AVX-512 F/DQ/VL/BW and IFMA), for `q < 2^50`.
pub(crate) mod m52 {
    use super::*;
    use crate::avx512::arith::{Mul52 as M, Tw52 as Tw};
    ntt_passes!("avx512f,avx512dq,avx512vl,avx512bw,avx512ifma");
}
