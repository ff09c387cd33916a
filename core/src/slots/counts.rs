//! [`OpCounts`]: how many of each slot operation an engine has run.

use core::fmt;

/// Operation counters of a [`super::SlotOps`] engine, per trait call.
///
/// Read with [`super::SlotOps::counts`], cleared with
/// [`super::SlotOps::reset_counts`]. Both engines count the same way, so a
/// cost measured on the simulator is the cost CKKS will pay:
///
/// - only calls that succeed are counted;
/// - a provided method counts the calls it makes (e.g. `rotate_and_sum` over a
///   span of 8 counts 3 rotations and 3 additions);
/// - a bootstrap counts once in `bootstrap`, never in the other fields (its
///   inner rotations and products are part of its fixed cost);
/// - rotations by 0 (modulo the slot count) are free and not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// Ciphertext-ciphertext products (tensoring), with or without relinearization.
    pub mul: u64,
    /// Relinearizations (inside `mul` or by `relinearize`).
    pub relin: u64,
    /// Plaintext multiplications.
    pub mul_plain: u64,
    /// Constant multiplications (integer constants, which are free in levels, included).
    pub mul_const: u64,
    /// Additions, subtractions and negations, with values, plaintexts or constants.
    pub add: u64,
    /// Rescales.
    pub rescale: u64,
    /// Single rotations.
    pub rotate: u64,
    /// Rotations produced by hoisted calls (one per nonzero offset).
    pub rotate_hoisted: u64,
    /// Hoisted calls with at least one nonzero offset (one decomposition each).
    pub hoisted_batches: u64,
    /// Conjugations.
    pub conjugate: u64,
    /// Bootstraps (a packed pair of real values counts once).
    pub bootstrap: u64,
    /// Values dropped to a lower level, explicitly or by automatic alignment.
    pub level_drop: u64,
    /// Lowest level of any value produced since the last reset.
    pub min_level: Option<usize>,
}

impl OpCounts {
    /// Key switches: relinearizations, rotations (single and hoisted) and
    /// conjugations (bootstraps excluded).
    pub fn key_switches(&self) -> u64 {
        self.relin + self.rotate + self.rotate_hoisted + self.conjugate
    }

    /// All rotations, single and hoisted.
    pub fn rotations(&self) -> u64 {
        self.rotate + self.rotate_hoisted
    }

    /// The operations run between `earlier` (a reading of the same counter)
    /// and `self`; `min_level` is `self`'s.
    pub fn since(&self, earlier: &OpCounts) -> OpCounts {
        OpCounts {
            mul: self.mul - earlier.mul,
            relin: self.relin - earlier.relin,
            mul_plain: self.mul_plain - earlier.mul_plain,
            mul_const: self.mul_const - earlier.mul_const,
            add: self.add - earlier.add,
            rescale: self.rescale - earlier.rescale,
            rotate: self.rotate - earlier.rotate,
            rotate_hoisted: self.rotate_hoisted - earlier.rotate_hoisted,
            hoisted_batches: self.hoisted_batches - earlier.hoisted_batches,
            conjugate: self.conjugate - earlier.conjugate,
            bootstrap: self.bootstrap - earlier.bootstrap,
            level_drop: self.level_drop - earlier.level_drop,
            min_level: self.min_level,
        }
    }

    /// Notes that a value at `level` was produced (keeps the minimum).
    pub fn record_level(&mut self, level: usize) {
        self.min_level = Some(self.min_level.map_or(level, |m| m.min(level)));
    }
}

impl fmt::Display for OpCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mul {} relin {} mul_plain {} mul_const {} add {} rescale {} rot {} (+{} hoisted in {} \
             batches) conj {} boot {} drops {} min_level ",
            self.mul,
            self.relin,
            self.mul_plain,
            self.mul_const,
            self.add,
            self.rescale,
            self.rotate,
            self.rotate_hoisted,
            self.hoisted_batches,
            self.conjugate,
            self.bootstrap,
            self.level_drop,
        )?;
        match self.min_level {
            Some(l) => write!(f, "{l}"),
            None => write!(f, "-"),
        }
    }
}
