//! [`Modulus`]: one RNS prime with its Barrett constants, scalar modular arithmetic and
//! Shoup helpers.

use super::MathError;
use super::primes::is_prime;
use hetal_simd::{ModulusConsts, ShoupConst};

/// A prime `q` with `3 <= q < 2^62`, with the constants the kernels need.
///
/// ```
/// use hetal_core::math::Modulus;
/// let q = Modulus::new(65537).unwrap();
/// assert_eq!(q.mul(q.inv(3).unwrap(), 3), 1);
/// assert_eq!(q.sub(1, 2), 65536);
/// let c = q.shoup(12345);
/// assert_eq!(q.mul_shoup(777, &c), q.mul(777, 12345));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modulus {
    consts: ModulusConsts,
}

impl Modulus {
    /// Checks that `q` is a prime in `[3, 2^62)` (deterministic Miller-Rabin).
    pub fn new(q: u64) -> Result<Self, MathError> {
        let consts = ModulusConsts::new(q).ok_or(MathError::BadModulus)?;
        if !is_prime(q) {
            return Err(MathError::BadModulus);
        }
        Ok(Self { consts })
    }

    /// The prime `q`.
    #[inline]
    pub const fn value(&self) -> u64 {
        self.consts.q
    }

    /// Bit length of `q`.
    #[inline]
    pub const fn bits(&self) -> u32 {
        self.consts.bits
    }

    /// The kernel constants (Barrett) of `q`.
    #[inline]
    pub const fn consts(&self) -> &ModulusConsts {
        &self.consts
    }

    /// `x mod q` for any `x`.
    #[inline]
    pub const fn reduce(&self, x: u64) -> u64 {
        x % self.consts.q
    }

    /// `x mod q` for any 128-bit `x` (Barrett).
    #[inline]
    pub const fn reduce_u128(&self, x: u128) -> u64 {
        self.consts.reduce_u128(x)
    }

    /// The residue of a signed integer: `x mod q` in `[0, q)`.
    #[inline]
    pub const fn reduce_i64(&self, x: i64) -> u64 {
        let r = self.reduce(x.unsigned_abs());
        if x < 0 { self.neg(r) } else { r }
    }

    /// The centred representative of `x < q`, in `(-q/2, q/2]`.
    #[inline]
    pub const fn center(&self, x: u64) -> i64 {
        if x > self.consts.q / 2 {
            -((self.consts.q - x) as i64)
        } else {
            x as i64
        }
    }

    /// `(a + b) mod q` for `a, b < q`.
    #[inline]
    pub const fn add(&self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.consts.q {
            s - self.consts.q
        } else {
            s
        }
    }

    /// `(a - b) mod q` for `a, b < q`.
    #[inline]
    pub const fn sub(&self, a: u64, b: u64) -> u64 {
        if a >= b { a - b } else { a + self.consts.q - b }
    }

    /// `-a mod q` for `a < q`.
    #[inline]
    pub const fn neg(&self, a: u64) -> u64 {
        if a == 0 { 0 } else { self.consts.q - a }
    }

    /// `a * b mod q` for `a, b < q`.
    #[inline]
    pub const fn mul(&self, a: u64, b: u64) -> u64 {
        self.consts.mul(a, b)
    }

    /// `b^e mod q` (any `b`).
    pub const fn pow(&self, b: u64, mut e: u64) -> u64 {
        let mut base = self.reduce(b);
        let mut r = 1;
        while e > 0 {
            if e & 1 == 1 {
                r = self.mul(r, base);
            }
            base = self.mul(base, base);
            e >>= 1;
        }
        r
    }

    /// `a^-1 mod q`, or [`MathError::NotInvertible`] when `a = 0 mod q`.
    pub fn inv(&self, a: u64) -> Result<u64, MathError> {
        let a = self.reduce(a);
        if a == 0 {
            return Err(MathError::NotInvertible);
        }
        // q is prime: Fermat.
        Ok(self.pow(a, self.consts.q - 2))
    }

    /// The Shoup constant bundle for multiplying by a fixed `w` (reduced mod `q` first).
    #[inline]
    pub const fn shoup(&self, w: u64) -> ShoupConst {
        self.consts.shoup(self.reduce(w))
    }

    /// `x * c.w mod q` for any `x`, with `c` from [`Self::shoup`].
    #[inline]
    pub const fn mul_shoup(&self, x: u64, c: &ShoupConst) -> u64 {
        let q = self.consts.q;
        let qhat = ((x as u128 * c.w_shoup as u128) >> 64) as u64;
        let r = x.wrapping_mul(c.w).wrapping_sub(qhat.wrapping_mul(q));
        if r >= q { r - q } else { r }
    }
}
