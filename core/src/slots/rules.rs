//! The level, scale and rotation rules both engines share, as small functions,
//! so the simulator and the CKKS evaluator decide the same way.

use super::{Complex, SlotError};

/// Relative difference under which two scales count as equal.
///
/// Far below CKKS noise (about `2^-40` relative), far above the f64 rounding
/// differences between equivalent scale paths (e.g. `(s * s) / q` versus
/// `s * (s / q)`).
pub const SCALE_TOLERANCE: f64 = 1e-9;

/// Integer constants (each part) strictly below this magnitude are multiplied
/// as exact integers: no scale change, no level spent.
pub const MAX_FREE_CONSTANT: f64 = (1u64 << 40) as f64;

/// Whether two scales are equal for the purpose of adding values.
///
/// ```
/// use hetal_core::slots::scales_match;
/// assert!(scales_match(1e12, 1e12 * (1.0 + 1e-12)));
/// assert!(!scales_match(1e12, 1.001e12));
/// ```
pub fn scales_match(a: f64, b: f64) -> bool {
    ((a - b) / a).abs() < SCALE_TOLERANCE
}

/// Whether multiplying by `z` is free: both parts are integers below
/// [`MAX_FREE_CONSTANT`] in magnitude (this includes `0`, `±1` and `±i`).
///
/// A free constant keeps the scale and the level; any other constant is
/// encoded at the scale `q_level` and its product needs a rescale.
///
/// ```
/// use hetal_core::slots::{Complex, is_free_constant};
/// assert!(is_free_constant(Complex::new(-3.0, 0.0)));
/// assert!(is_free_constant(Complex::I));
/// assert!(!is_free_constant(Complex::new(0.5, 0.0)));
/// ```
pub fn is_free_constant(z: Complex) -> bool {
    let integral = |v: f64| v == libm::trunc(v) && v.abs() < MAX_FREE_CONSTANT;
    integral(z.re) && integral(z.im)
}

/// A signed rotation offset as an offset in `0..slots` (left rotation).
///
/// Rotation keys are identified by this normalized offset: rotating a vector
/// of `slots` values by `k` or by `k + slots` gives the same result, so an
/// engine with sparse slots must reduce the offset before choosing its key.
///
/// ```
/// use hetal_core::slots::normalize_offset;
/// assert_eq!(normalize_offset(-1, 8), 7);
/// assert_eq!(normalize_offset(9, 8), 1);
/// ```
pub fn normalize_offset(offset: isize, slots: usize) -> usize {
    offset.rem_euclid(slots as isize) as usize
}

/// The Gaussian integer `round(c * const_scale)` that
/// [`super::SlotOps::mul_const_scaled`] multiplies by, checked: `c` and
/// `const_scale` finite, `const_scale > 0`, each part below `2^62`.
pub(crate) fn scaled_constant(c: Complex, const_scale: f64) -> Result<(i64, i64), SlotError> {
    if !c.is_finite() || !const_scale.is_finite() {
        return Err(SlotError::NonFinite);
    }
    if const_scale <= 0.0 {
        return Err(SlotError::InvalidParams("constant scale must be positive"));
    }
    let limit = libm::ldexp(1.0, 62);
    let round = |v: f64| -> Result<i64, SlotError> {
        let k = libm::round(v * const_scale);
        if k.abs() >= limit {
            Err(SlotError::ConstantTooLarge { value: v })
        } else {
            Ok(k as i64)
        }
    };
    Ok((round(c.re)?, round(c.im)?))
}
