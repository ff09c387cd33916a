//! Per-prime constants the kernels need (Barrett and Shoup), computed without allocation.

/// `floor(w * 2^64 / q)` for `w < q`: the 64-bit Shoup constant of `w`.
#[inline]
pub const fn shoup64(w: u64, q: u64) -> u64 {
    (((w as u128) << 64) / q as u128) as u64
}

/// `floor(w * 2^52 / q)` for `w < q < 2^50`: the 52-bit Shoup constant used by IFMA kernels.
#[inline]
pub const fn shoup52(w: u64, q: u64) -> u64 {
    (((w as u128) << 52) / q as u128) as u64
}

/// Constants for reducing modulo one prime `q < 2^62` in the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModulusConsts {
    /// The modulus.
    pub q: u64,
    /// `floor(2^128 / q)`, low 64 bits (Barrett reduction of 128-bit products).
    pub barrett_lo: u64,
    /// `floor(2^128 / q)`, high 64 bits.
    pub barrett_hi: u64,
    /// `floor(2^104 / q)` when `q < 2^50` (Barrett for 52-bit IFMA products), else 0.
    pub barrett52: u64,
    /// Bit length of `q`.
    pub bits: u32,
}

impl ModulusConsts {
    /// Computes the constants; `None` unless `q` is odd and `3 <= q < 2^62`.
    pub const fn new(q: u64) -> Option<Self> {
        if q < 3 || q.is_multiple_of(2) || q >= 1 << 62 {
            return None;
        }
        // floor(2^128 / q) = floor((2^128 - 1) / q) since q does not divide 2^128.
        let r = u128::MAX / q as u128;
        let barrett52 = if q < 1 << 50 {
            ((1u128 << 104) / q as u128) as u64
        } else {
            0
        };
        Some(Self {
            q,
            barrett_lo: r as u64,
            barrett_hi: (r >> 64) as u64,
            barrett52,
            bits: 64 - q.leading_zeros(),
        })
    }

    /// Whether the IFMA (52-bit) paths apply to this prime.
    #[inline]
    pub const fn is_ifma_friendly(&self) -> bool {
        self.q < 1 << 50
    }

    /// The Shoup constant bundle for multiplying by a fixed `w < q`.
    #[inline]
    pub const fn shoup(&self, w: u64) -> ShoupConst {
        ShoupConst {
            w,
            w_shoup: shoup64(w, self.q),
            w_shoup52: if self.q < 1 << 50 {
                shoup52(w, self.q)
            } else {
                0
            },
        }
    }

    /// `x mod q` for any `x < 2^128`, by Barrett reduction (scalar reference).
    #[inline]
    pub const fn reduce_u128(&self, x: u128) -> u64 {
        // quotient estimate: floor(x * floor(2^128/q) / 2^128), at most 2 below the truth.
        let (xl, xh) = (x as u64 as u128, (x >> 64) as u64 as u128);
        let (rl, rh) = (self.barrett_lo as u128, self.barrett_hi as u128);
        let mid = (xl * rl) >> 64;
        let t1 = xl * rh + mid;
        let t2 = xh * rl + (t1 as u64 as u128);
        let qhat = xh * rh + (t1 >> 64) + (t2 >> 64);
        let mut r = x.wrapping_sub(qhat.wrapping_mul(self.q as u128)) as u64;
        // r < 3q < 2^64 (q < 2^62).
        if r >= self.q {
            r -= self.q;
        }
        if r >= self.q {
            r -= self.q;
        }
        r
    }

    /// `a * b mod q` for `a, b < q` (scalar reference).
    #[inline]
    pub const fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128(a as u128 * b as u128)
    }
}

/// A fixed multiplier `w < q` with its Shoup constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShoupConst {
    /// The multiplier.
    pub w: u64,
    /// `floor(w * 2^64 / q)`.
    pub w_shoup: u64,
    /// `floor(w * 2^52 / q)` when `q < 2^50`, else 0.
    pub w_shoup52: u64,
}
