//! RLWE keys and hybrid key switching (dnum digits, special primes `P`).
//!
//! Key switching of a polynomial `c` (level `l`) from a secret `s'` to `s`:
//! 1. **ModUp**: split the `l` ciphertext limbs into digits of `alpha` consecutive primes;
//!    extend each digit `[c]_{Q_j}` to all of `Q_l * P` by fast base conversion;
//! 2. **inner product** with the key digits `(b_j, a_j)`, where
//!    `b_j = -a_j s + e_j + P * g_j * s'` and `g_j = 1 mod q_i` for `q_i` in digit `j`,
//!    `0` for the other primes (so the base-conversion overflow `u * Q_j` vanishes);
//! 3. **ModDown**: divide by `P` and round, back to `Q_l`.
//!
//! [`KeySwitcher::decompose`] exposes step 1 on its own so that many rotations of one
//! ciphertext share it (hoisting): an automorphism commutes with ModUp, so it is applied
//! to the extended digits as an NTT-slot permutation.

mod keys;
mod keyswitch;

pub use keys::{KeyStorage, PublicKey, SecretKey, SwitchingKey};
pub(crate) use keys::{error_poly as error_poly_full, minus_a_s_plus_e as minus_a_s_plus_e_pub};

/// Gaussian error over `q_limbs` Q limbs, NTT form.
pub(crate) fn error_poly_pub<R: rand_core::CryptoRng + ?Sized>(
    ctx: &crate::ring::RingContext,
    rng: &mut R,
    q_limbs: usize,
) -> Result<crate::ring::RnsPoly, RlweError> {
    error_poly_full(ctx, rng, q_limbs, 0)
}
pub use keyswitch::{Decomposed, KeySwitcher};

use crate::math::MathError;
use crate::ring::RingError;
use core::fmt;

/// Errors of the RLWE layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RlweError {
    /// A ring-layer error.
    Ring(RingError),
    /// A math-layer error.
    Math(MathError),
    /// The key was made for another number of digits or another context.
    KeyShapeMismatch,
    /// `dnum` is zero or above the number of ciphertext primes.
    BadDnum(usize),
    /// The secret key's coefficients are not ternary or have the wrong length.
    BadSecret,
    /// A switching key made for levels up to `key_level` used at `level` (or asked
    /// for above the top level).
    KeyLevel {
        /// The key's highest level.
        key_level: usize,
        /// The level it was needed at.
        level: usize,
    },
}

impl From<RingError> for RlweError {
    fn from(e: RingError) -> Self {
        Self::Ring(e)
    }
}

impl From<MathError> for RlweError {
    fn from(e: MathError) -> Self {
        Self::Math(e)
    }
}

impl fmt::Display for RlweError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ring(e) => write!(f, "ring: {e:?}"),
            Self::Math(e) => write!(f, "math: {e:?}"),
            Self::KeyShapeMismatch => write!(f, "switching key does not match the context"),
            Self::BadDnum(d) => write!(f, "dnum {d} is zero or above the number of Q primes"),
            Self::KeyLevel { key_level, level } => write!(
                f,
                "switching key made for levels up to {key_level} used at level {level}"
            ),
            Self::BadSecret => write!(
                f,
                "secret key coefficients must be N values in {{-1, 0, 1}}"
            ),
        }
    }
}
