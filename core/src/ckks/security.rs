//! The 128-bit security bound on the modulus: the largest `log2(QP)` allowed
//! for a ring degree `N` and a secret distribution.
//!
//! Every parameter set a user runs is checked here (see `ckks::Params`);
//! test-only parameter sets (`insecure_*`) are not.
//!
//! # Sources
//!
//! * N = 2^10 .. 2^15: M. Albrecht et al., *Homomorphic Encryption Security
//!   Standard*, HomomorphicEncryption.org, Toronto, November 2018, Tables
//!   1-3, rows "128-bit classical" (error-distributed and ternary secrets).
//! * N = 2^16 and 2^17: the standard stops at 2^15. We use the extension in
//!   OpenFHE, `src/core/lib/lattice/stdlatticeparms.cpp`
//!   (`StdLatticeParm(HEStd_ternary, 65536, HEStd_128_classic, 1747)` etc.),
//!   added in openfhe-development PR #807, "added lattice parameters for
//!   N=64k and 128k" (commit f387eaf0, June 2024, release v1.2.0), which
//!   also lowered the earlier N = 2^16 entries (1772 / 1774) to the values
//!   below. The 2^10 .. 2^15 rows of that file equal the standard's.
//!
//! # Sparse ternary secrets
//!
//! The standard does not cover sparse secrets (fixed small Hamming weight
//! h), whose LWE instances are weaker than dense ternary ones at the same
//! modulus. In this library a sparse secret is used only ephemerally inside
//! bootstrapping (sparse-secret encapsulation): the ciphertext is switched
//! to the sparse key at a small modulus (the bottom prime(s) and P), the
//! modulus is raised, and it is switched back to the dense key. The check
//! below applies the *dense* uniform-ternary bound to whatever modulus the
//! sparse key is used with. That is a documented policy, not a security
//! proof: the bootstrapping parameters must keep that modulus far below the
//! dense bound, and their sparse-secret security has to be assessed with
//! the lattice estimator.

use core::fmt;

/// The security target. Only the one this library runs with is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecurityLevel {
    /// 128-bit security against classical attacks (HE standard).
    Classic128,
}

/// How the secret key's coefficients are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretDistribution {
    /// Uniform in {-1, 0, 1} (the standard's "ternary" table).
    UniformTernary,
    /// The error distribution (discrete Gaussian, the standard's "error"
    /// table).
    Gaussian,
    /// Ternary with exactly `h` nonzero coefficients. Not covered by the
    /// standard: checked against the dense ternary table (see the module
    /// documentation for why and when that is acceptable).
    SparseTernary {
        /// Hamming weight: the number of nonzero coefficients.
        h: usize,
    },
}

/// `(log2 N, max log2(QP) for uniform ternary, for Gaussian)`, 128-bit
/// classical security. Sources in the module documentation.
const CLASSIC_128: [(u32, u32, u32); 8] = [
    (10, 27, 29),
    (11, 54, 56),
    (12, 109, 111),
    (13, 218, 220),
    (14, 438, 440),
    (15, 881, 883),
    // Beyond the standard: OpenFHE stdlatticeparms.cpp (PR #807).
    (16, 1747, 1749),
    (17, 3523, 3525),
];

/// The smallest ring degree the table covers.
pub const MIN_SECURE_N: usize = 1 << 10;
/// The largest ring degree the table covers.
pub const MAX_SECURE_N: usize = 1 << 17;

/// The largest `log2(QP)` allowed for ring degree `n`, or `None` if `n` is
/// not a power of two in `2^10 ..= 2^17`.
///
/// ```
/// use hetal_core::ckks::security::{max_log_qp, SecretDistribution, SecurityLevel};
/// let dense = SecretDistribution::UniformTernary;
/// assert_eq!(max_log_qp(1 << 15, dense, SecurityLevel::Classic128), Some(881));
/// assert_eq!(max_log_qp(1 << 16, SecretDistribution::Gaussian, SecurityLevel::Classic128), Some(1749));
/// // Sparse secrets use the dense table.
/// let sparse = SecretDistribution::SparseTernary { h: 192 };
/// assert_eq!(max_log_qp(1 << 16, sparse, SecurityLevel::Classic128), Some(1747));
/// assert_eq!(max_log_qp(1 << 9, dense, SecurityLevel::Classic128), None);
/// ```
pub fn max_log_qp(n: usize, dist: SecretDistribution, level: SecurityLevel) -> Option<u32> {
    let SecurityLevel::Classic128 = level;
    if !n.is_power_of_two() {
        return None;
    }
    let log_n = n.trailing_zeros();
    let &(_, ternary, gaussian) = CLASSIC_128.iter().find(|row| row.0 == log_n)?;
    Some(match dist {
        SecretDistribution::UniformTernary | SecretDistribution::SparseTernary { .. } => ternary,
        SecretDistribution::Gaussian => gaussian,
    })
}

/// Why a parameter set fails the security check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SecurityError {
    /// The table has no entry for this ring degree.
    UnsupportedRingDegree {
        /// The ring degree asked about.
        n: usize,
    },
    /// `log2(QP)` exceeds the bound for this ring degree and secret.
    ModulusTooLarge {
        /// The ring degree.
        n: usize,
        /// `log2(QP)` of the parameter set.
        log_qp: f64,
        /// The largest allowed `log2(QP)`.
        max_log_qp: u32,
    },
}

impl fmt::Display for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SecurityError::UnsupportedRingDegree { n } => write!(
                f,
                "ring degree N = {n} is not covered by the 128-bit security table \
                 (powers of two {MIN_SECURE_N}..={MAX_SECURE_N})"
            ),
            SecurityError::ModulusTooLarge {
                n,
                log_qp,
                max_log_qp,
            } => write!(
                f,
                "log2(QP) = {log_qp:.2} exceeds the 128-bit bound {max_log_qp} for N = {n}"
            ),
        }
    }
}

impl core::error::Error for SecurityError {}

/// `log2` of the product of `moduli`, computed as a sum (no big integers).
///
/// ```
/// use hetal_core::ckks::security::log2_product;
/// assert_eq!(log2_product(&[1 << 40, 1 << 20]), 60.0);
/// ```
pub fn log2_product(moduli: &[u64]) -> f64 {
    moduli.iter().map(|&q| libm::log2(q as f64)).sum()
}

/// Checks that a modulus with `log2(QP) = log_qp` is within the bound for
/// ring degree `n` and secret `dist`.
///
/// ```
/// use hetal_core::ckks::security::{check, SecretDistribution, SecurityError, SecurityLevel};
/// let dense = SecretDistribution::UniformTernary;
/// assert!(check(1 << 16, dense, SecurityLevel::Classic128, 1747.0).is_ok());
/// assert_eq!(
///     check(1 << 16, dense, SecurityLevel::Classic128, 1747.5),
///     Err(SecurityError::ModulusTooLarge { n: 1 << 16, log_qp: 1747.5, max_log_qp: 1747 })
/// );
/// ```
pub fn check(
    n: usize,
    dist: SecretDistribution,
    level: SecurityLevel,
    log_qp: f64,
) -> Result<(), SecurityError> {
    let max_log_qp =
        max_log_qp(n, dist, level).ok_or(SecurityError::UnsupportedRingDegree { n })?;
    if log_qp.is_nan() || log_qp > f64::from(max_log_qp) {
        return Err(SecurityError::ModulusTooLarge {
            n,
            log_qp,
            max_log_qp,
        });
    }
    Ok(())
}
