//! The two lane-wise Shoup multipliers the NTT is generic over: 64-bit arithmetic
//! (any `q < 2^62`) and IFMA 52-bit arithmetic (`q < 2^50`).
//!
//! Both have the same methods (`new`, `tw`, `tw_splat`, `mul_lazy`, `fwd_shoup`,
//! `inv_shoup`, `shoup_of`) so that the NTT skeleton (a macro in `ntt`) can be
//! instantiated with either: a `trait` could not carry the target features that let
//! these small functions inline into the NTT passes.

use super::ops::*;
use crate::modulus::{shoup52, shoup64};
use crate::table::NttTable;

/// 64-bit Shoup: `qhat ~ floor(y * ws / 2^64)`, `r = y * w - qhat * q (mod 2^64)`.
///
/// `qhat` comes from [`mul_hi_approx`] (three 32-bit products instead of four), so it
/// may be up to 2 short: `r < 2q + 2q = 4q < 2^64`, and one conditional subtraction
/// of `2q` restores `[0, 2q)`.
#[derive(Clone, Copy)]
pub(crate) struct Mul64 {
    q: V,
    two_q: V,
}

/// Twiddle of [`Mul64`]: `w`, `ws = floor(w 2^64 / q)` and `hi32(ws)`.
#[derive(Clone, Copy)]
pub(crate) struct Tw64 {
    w: V,
    ws: V,
    ws_hi: V,
}

impl Mul64 {
    /// Multiplier modulo `q < 2^62`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    pub(crate) fn new(q: u64) -> Self {
        Self {
            q: splat(q),
            two_q: splat(2 * q),
        }
    }

    /// Builds the twiddle from lanes of `w` and of its Shoup constant.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    pub(crate) fn tw(self, w: V, ws: V) -> Tw64 {
        Tw64 {
            w,
            ws,
            ws_hi: hi32(ws),
        }
    }

    /// Builds a twiddle with the same `w` in every lane.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    pub(crate) fn tw_splat(self, w: u64, ws: u64) -> Tw64 {
        Tw64 {
            w: splat(w),
            ws: splat(ws),
            ws_hi: splat(ws >> 32),
        }
    }

    /// `y * w mod q` in `[0, 2q)` for `y < 4q`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    pub(crate) fn mul_lazy(self, y: V, t: Tw64) -> V {
        let qhat = mul_hi_approx(y, t.ws, t.ws_hi);
        reduce_once(sub(mul_lo(y, t.w), mul_lo(qhat, self.q)), self.two_q)
    }

    /// The Shoup constants of the forward twiddles in this multiplier's format.
    pub(crate) fn fwd_shoup<'a>(t: &NttTable<'a>) -> &'a [u64] {
        t.fwd_shoup()
    }

    /// The Shoup constants of the inverse twiddles in this multiplier's format.
    pub(crate) fn inv_shoup<'a>(t: &NttTable<'a>) -> &'a [u64] {
        t.inv_shoup()
    }

    /// The Shoup constant of a scalar `w < q` in this multiplier's format.
    pub(crate) fn shoup_of(w: u64, q: u64) -> u64 {
        shoup64(w, q)
    }
}

/// IFMA Shoup for `q < 2^50` (so `y < 4q < 2^52` fits an IFMA operand):
/// `qhat = floor(y * ws / 2^52)` with `ws = floor(w 2^52 / q)`, then
/// `r = (y * w - qhat * q) mod 2^52`, which is exact because `r < 2q < 2^52`.
#[derive(Clone, Copy)]
pub(crate) struct Mul52 {
    /// `2^52 - q`: adding `qhat * (2^52 - q)` subtracts `qhat * q` modulo `2^52`.
    neg_q: V,
    mask52: V,
}

/// Twiddle of [`Mul52`]: `w` and `floor(w 2^52 / q)`.
#[derive(Clone, Copy)]
pub(crate) struct Tw52 {
    w: V,
    ws: V,
}

impl Mul52 {
    /// Multiplier modulo `q < 2^50`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    pub(crate) fn new(q: u64) -> Self {
        debug_assert!(q < 1 << 50);
        Self {
            neg_q: splat((1 << 52) - q),
            mask52: splat((1 << 52) - 1),
        }
    }

    /// Builds the twiddle from lanes of `w` and of its Shoup constant.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    pub(crate) fn tw(self, w: V, ws: V) -> Tw52 {
        Tw52 { w, ws }
    }

    /// Builds a twiddle with the same `w` in every lane.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    pub(crate) fn tw_splat(self, w: u64, ws: u64) -> Tw52 {
        Tw52 {
            w: splat(w),
            ws: splat(ws),
        }
    }

    /// `y * w mod q` in `[0, 2q)` for `y < 4q`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx512ifma")]
    pub(crate) fn mul_lazy(self, y: V, t: Tw52) -> V {
        let qhat = madd52hi(zero(), y, t.ws);
        let prod = madd52lo(zero(), y, t.w);
        and(madd52lo(prod, qhat, self.neg_q), self.mask52)
    }

    /// The Shoup constants of the forward twiddles in this multiplier's format.
    pub(crate) fn fwd_shoup<'a>(t: &NttTable<'a>) -> &'a [u64] {
        t.fwd_shoup52()
    }

    /// The Shoup constants of the inverse twiddles in this multiplier's format.
    pub(crate) fn inv_shoup<'a>(t: &NttTable<'a>) -> &'a [u64] {
        t.inv_shoup52()
    }

    /// The Shoup constant of a scalar `w < q` in this multiplier's format.
    pub(crate) fn shoup_of(w: u64, q: u64) -> u64 {
        shoup52(w, q)
    }
}
