//! Operation counts of the matrix products in closed form: ours (exactly what
//! [`super::MatrixOps`] runs, checked against the counters in the tests) and the
//! paper's ([`paper`], HETAL.md §3.6-3.7).
//!
//! `nr = ceil(a/s0)`, `nb = ceil(b/s1)`, `c' = padded_classes(c)`, `h = c'/2`.
//! "CMult" is a plaintext multiplication; the multiplications by `i` of the
//! complexification are exact Gaussian-integer constants (no level, no
//! encoding, like an addition) and are not counted as CMult, by us or by the
//! paper's formulas.

use super::{AbtOutput, AtbVariant, UnitShape, padded_classes};

/// Counts of one product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Ciphertext-ciphertext products (tensorings).
    pub mul: u64,
    /// Relinearizations.
    pub relin: u64,
    /// Plaintext multiplications (masks).
    pub mul_plain: u64,
    /// Rotations (single and hoisted).
    pub rot: u64,
    /// Conjugations.
    pub conj: u64,
    /// Levels consumed by the lhs operand (A) down to the output.
    pub depth_lhs: u64,
    /// Levels consumed by the rhs operand (B) down to the output.
    pub depth_rhs: u64,
}

fn dims(a: usize, b: usize, c: usize, unit: UnitShape) -> (u64, u64, u64) {
    (
        a.div_ceil(unit.s0) as u64,
        b.div_ceil(unit.s1) as u64,
        (padded_classes(c) / 2) as u64,
    )
}

/// Our `diag_abt` for `A: a x b`, `B: c x b`.
pub fn abt(a: usize, b: usize, c: usize, unit: UnitShape, out: AbtOutput) -> Cost {
    let (nr, nb, h) = dims(a, b, c, unit);
    let log_w = match out {
        AbtOutput::Tiled => unit.log_s1(),
        AbtOutput::Compact => padded_classes(c).trailing_zeros(),
    } as u64;
    Cost {
        mul: h * nr * nb,
        relin: h * nr,
        mul_plain: 2 * h * nr,
        rot: h * nb + h * nr * (unit.log_s1() as u64 + log_w),
        conj: nr,
        depth_lhs: 3,
        depth_rhs: 3,
    }
}

/// Our `diag_atb` for `A: a x c`, `B: a x b` (`variant` not `Auto`).
pub fn atb(a: usize, b: usize, c: usize, unit: UnitShape, variant: AtbVariant) -> Cost {
    let (nr, nb, h) = dims(a, b, c, unit);
    let colsum = h * nb * unit.log_s0() as u64;
    match variant {
        AtbVariant::ShiftRhs => Cost {
            mul: h * nr * nb,
            relin: h * nb,
            mul_plain: nr + (h - 1) * nr * nb + h * nb,
            rot: 2 * nr + (h - 1) * nr + if h > 1 { nr * nb } else { 0 } + colsum,
            conj: nb,
            depth_lhs: 3,
            depth_rhs: 3,
        },
        _ => Cost {
            mul: h * nr * nb,
            relin: h * nb,
            mul_plain: h * nr + h * nb,
            rot: 2 * h * nr + colsum,
            conj: nb,
            depth_lhs: 4,
            depth_rhs: 2,
        },
    }
}

/// Our `diag_atb_factored`: per row block the `c' - 1` in-row shifts of `A` (`2 (c' - 1)`
/// hoisted rotations, `c' - 1` masks), the `c'` masked sums `Y_u` (`c'/2` masks each) and
/// their `c' - 1` rotations; per column block `nr (c' - 1)` hoisted rotations of `B`,
/// `c' nr` products under one relinearization, the fold over `s0 / c'` rows and a
/// conjugation.
pub fn atb_factored(a: usize, b: usize, c: usize, unit: UnitShape) -> Cost {
    let (nr, nb, h) = dims(a, b, c, unit);
    let p = 2 * h;
    let fold = (unit.log_s0() - p.trailing_zeros()) as u64;
    Cost {
        mul: p * nr * nb,
        relin: nb,
        mul_plain: (p - 1) * nr + p * h * nr,
        rot: 3 * (p - 1) * nr + nb * ((p - 1) * nr + fold),
        conj: nb,
        depth_lhs: 3,
        depth_rhs: 1,
    }
}

/// Our `diag_atb_folded`: as [`atb`] but with the fused column sums.
pub fn atb_folded(a: usize, b: usize, c: usize, unit: UnitShape, variant: AtbVariant) -> Cost {
    let (_, nb, h) = dims(a, b, c, unit);
    let p = 2 * h;
    let mut cost = atb(a, b, c, unit, variant);
    let fold = nb * (p - 1 + (unit.log_s0() - p.trailing_zeros()) as u64);
    cost.rot = cost.rot - h * nb * unit.log_s0() as u64 + fold;
    cost.mul_plain = cost.mul_plain - h * nb + p * h * nb;
    cost
}

/// The paper's counts (HETAL.md §3.6 as corrected against the measured \[T7\]).
pub mod paper {
    use super::{UnitShape, dims};

    /// `CMult / Mult / Rot` as in the paper's tables.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PaperCost {
        /// Plaintext/constant multiplications.
        pub cmult: u64,
        /// Ciphertext multiplications.
        pub mult: u64,
        /// Rotations.
        pub rot: u64,
    }

    /// DiagABT: `c / (c/2)·nr·nb / (c/2)(nb + 2·nr·log s1)` (measured form).
    pub fn diag_abt(a: usize, b: usize, c: usize, unit: UnitShape) -> PaperCost {
        let (nr, nb, h) = dims(a, b, c, unit);
        PaperCost {
            cmult: 2 * h,
            mult: h * nr * nb,
            rot: h * (nb + 2 * nr * unit.log_s1() as u64),
        }
    }

    /// DiagATB, `level(A) >= level(B)` column.
    pub fn diag_atb_lhs(a: usize, b: usize, c: usize, unit: UnitShape) -> PaperCost {
        let (nr, nb, h) = dims(a, b, c, unit);
        let log_s0 = unit.log_s0() as u64;
        PaperCost {
            cmult: 1 + h * (nr + nb) - nr,
            mult: h * nr * nb,
            rot: 2 + h * (2 * nr + log_s0 * nb) - 2 * nr,
        }
    }

    /// DiagATB, `level(A) < level(B)` column (CMult in the measured form `1 + (c-1)·nb`).
    pub fn diag_atb_rhs(a: usize, b: usize, c: usize, unit: UnitShape) -> PaperCost {
        let (nr, nb, h) = dims(a, b, c, unit);
        let log_s0 = unit.log_s0() as u64;
        PaperCost {
            cmult: 1 + (2 * h - 1) * nb,
            mult: h * nr * nb,
            rot: 2 + h * (nr + nr * nb + log_s0 * nb) - nr - nr * nb,
        }
    }

    /// Crockett's ColMajor `A B^T` (comparison baseline).
    pub fn colmajor(a: usize, b: usize, c: usize, unit: UnitShape) -> PaperCost {
        let (nr, nb, _) = dims(a, b, c, unit);
        let c = c as u64;
        PaperCost {
            cmult: c * (nr * nb + nr),
            mult: c * nr * nb,
            rot: c * (nb * unit.log_s0() as u64 + nr * (unit.log_s1() as u64 + 1)) - nr,
        }
    }

    /// Jin et al.'s `A B^T` (comparison baseline): `b·c` products, nothing else.
    pub fn jin_abt(b: usize, c: usize) -> PaperCost {
        PaperCost {
            cmult: 0,
            mult: (b * c) as u64,
            rot: 0,
        }
    }

    /// Jin et al.'s `A^T B`: `b·c` products, each summed by `log2(slots)` rotations.
    pub fn jin_atb(b: usize, c: usize, unit: UnitShape) -> PaperCost {
        let bc = (b * c) as u64;
        PaperCost {
            cmult: 0,
            mult: bc,
            rot: bc * (unit.log_s0() + unit.log_s1()) as u64,
        }
    }
}
