//! Polynomials in `Z_Q[X]/(X^n + 1)` in RNS form: [`RingContext`] (the primes, their NTT
//! plans, the kernels and the executor) and [`RnsPoly`] (flat limb-major residues).
//!
//! A context holds a chain of primes `Q = q_0 ... q_{L-1}` and special primes
//! `P = p_0 ... p_{K-1}`. A polynomial lives over a prefix `q_0 .. q_{l-1}` of the Q chain
//! (its level) and optionally a prefix of the P primes (during key switching); its limbs
//! are stored in that order, Q limbs first.
//!
//! ```
//! use hetal_core::ring::{Form, RingContext, RnsPoly};
//! use hetal_core::math::primes::ntt_primes;
//! let n = 1024;
//! let q = ntt_primes(50, n, 3, &[]).unwrap();
//! let p = ntt_primes(55, n, 1, &q).unwrap();
//! let ctx = RingContext::new(n, &q, &p).unwrap();
//! let mut a = RnsPoly::from_signed(&ctx, &vec![1i64; n], 3, 0).unwrap();
//! let b = a.clone();
//! a.to_ntt(&ctx).unwrap();
//! a.to_coeff(&ctx).unwrap();
//! assert_eq!(a, b);
//! let r = a.automorphism(&ctx, 5).unwrap();
//! assert_eq!(r.automorphism(&ctx, ctx.galois_inverse(5)).unwrap(), a);
//! ```

mod context;
mod poly;

pub use context::{RingContext, galois_element};
pub use poly::RnsPoly;

use crate::math::MathError;

/// The representation of a polynomial's limbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// Coefficients, natural order.
    Coeff,
    /// Evaluations (the forward NTT of each limb, bit-reversed order).
    Ntt,
}

/// Errors of the `ring` layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// An error from the `math` layer (context construction).
    Math(MathError),
    /// Two operands have different forms.
    FormMismatch,
    /// The operation needs the other form (e.g. pointwise product in coefficient form).
    WrongForm {
        /// The form the operation needs.
        expected: Form,
    },
    /// Two operands have different limb sets.
    LimbMismatch,
    /// The degree does not match the context.
    DegreeMismatch,
    /// The limb counts are outside the context (no Q limb, or more limbs than primes).
    BadLimbCount,
    /// A data slice has the wrong length, or a residue is not below its prime.
    BadData,
    /// The Galois element is even.
    EvenGaloisElement,
}

impl From<MathError> for RingError {
    fn from(e: MathError) -> Self {
        RingError::Math(e)
    }
}

impl core::fmt::Display for RingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RingError::Math(e) => write!(f, "{e}"),
            RingError::FormMismatch => f.write_str("operands have different forms"),
            RingError::WrongForm { expected } => write!(f, "operation needs {expected:?} form"),
            RingError::LimbMismatch => f.write_str("operands have different limbs"),
            RingError::DegreeMismatch => f.write_str("degree does not match the context"),
            RingError::BadLimbCount => f.write_str("limb counts outside the context"),
            RingError::BadData => f.write_str("bad polynomial data"),
            RingError::EvenGaloisElement => f.write_str("Galois element must be odd"),
        }
    }
}
