//! Number theory below the ring layer: moduli, prime generation, NTT plans, RNS bases
//! and CRT, fast base conversion, samplers and seed expansion.
//!
//! Everything here works on plain `u64` residues and `&[u64]` limbs; polynomials with a
//! form and a basis live in [`crate::ring`].

pub mod baseconv;
pub mod bigint;
pub mod modulus;
pub mod ntt;
pub mod primes;
pub mod rns;
pub mod sampler;
pub mod seed;

pub use baseconv::BaseConverter;
pub use bigint::BigUint;
pub use modulus::Modulus;
pub use ntt::NttPlan;
pub use rns::RnsBasis;

/// Errors of the `math` layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathError {
    /// The modulus is not a prime `q` with `3 <= q < 2^62`.
    BadModulus,
    /// The value has no inverse modulo `q` (it is a multiple of `q`).
    NotInvertible,
    /// The ring degree is not a power of two in the supported range.
    BadRingDegree,
    /// `q` is not `1 mod 2n`, so it has no primitive `2n`-th root of unity.
    NoRoot,
    /// The requested bit size cannot hold NTT-friendly primes for this degree.
    BadBitSize,
    /// Fewer NTT-friendly primes of this bit size exist than were requested.
    NotEnoughPrimes,
    /// A basis lists the same prime twice.
    DuplicateModulus,
    /// A basis is empty.
    EmptyBasis,
    /// A slice length does not match the basis and degree.
    LengthMismatch,
    /// A Hamming weight larger than the dimension was requested.
    BadHammingWeight,
    /// Discrete Gaussian parameters out of range (`sigma` in `(0, 1024]`, tail cut positive).
    BadGaussian,
}

impl core::fmt::Display for MathError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            MathError::BadModulus => "modulus is not a prime in [3, 2^62)",
            MathError::NotInvertible => "value not invertible modulo q",
            MathError::BadRingDegree => "ring degree is not a supported power of two",
            MathError::NoRoot => "q is not 1 mod 2n",
            MathError::BadBitSize => "bit size cannot hold NTT-friendly primes",
            MathError::NotEnoughPrimes => "not enough NTT-friendly primes of this size",
            MathError::DuplicateModulus => "basis repeats a prime",
            MathError::EmptyBasis => "basis is empty",
            MathError::LengthMismatch => "slice length does not match basis and degree",
            MathError::BadHammingWeight => "Hamming weight exceeds dimension",
            MathError::BadGaussian => "bad discrete Gaussian parameters",
        };
        f.write_str(s)
    }
}
