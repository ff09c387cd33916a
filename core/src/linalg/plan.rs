//! [`RotationPlan`]: exactly the rotation keys a product needs, so the client
//! generates those and no others (evaluation keys at N = 2^16 are about
//! 100 MB each).

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use super::{AbtOutput, AtbVariant, UnitShape, padded_classes};

/// Rotation offsets (normalized to `1..slots`, left rotations) and whether a
/// conjugation key is needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RotationPlan {
    offsets: BTreeSet<usize>,
    conjugation: bool,
}

impl RotationPlan {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, offset: isize, slots: usize) {
        let k = offset.rem_euclid(slots as isize) as usize;
        if k != 0 {
            self.offsets.insert(k);
        }
    }

    /// The keys [`super::MatrixOps::diag_abt`] needs for `B` with `c` rows
    /// (independent of `a` and `b`): row shifts `k·s1` for `1 <= k <= c'/2`,
    /// left `2^t < s1` (row sums), right `2^t < w` (broadcast), conjugation.
    ///
    /// ```
    /// use hetal_core::linalg::{AbtOutput, RotationPlan, UnitShape};
    /// let plan = RotationPlan::abt(UnitShape::new(2048, 16)?, 16, AbtOutput::Tiled);
    /// assert_eq!(plan.offsets().len(), 8 + 4 + 4);
    /// # Ok::<(), hetal_core::linalg::LinalgError>(())
    /// ```
    pub fn abt(unit: UnitShape, c: usize, out: AbtOutput) -> Self {
        let (n, s1) = (unit.slots(), unit.s1 as isize);
        let h = padded_classes(c) / 2;
        let width = match out {
            AbtOutput::Tiled => unit.s1,
            AbtOutput::Compact => padded_classes(c),
        };
        let mut p = Self::new();
        for k in 1..=h as isize {
            p.add(k * s1, n);
        }
        let mut t = 1;
        while t < unit.s1 {
            p.add(t as isize, n);
            t <<= 1;
        }
        let mut t = 1;
        while t < width {
            p.add(-(t as isize), n);
            t <<= 1;
        }
        p.conjugation = true;
        p
    }

    /// The keys [`super::MatrixOps::diag_atb`] needs for `A` with `c` columns;
    /// `Auto` plans for both variants (it chooses by level at run time).
    pub fn atb(unit: UnitShape, c: usize, variant: AtbVariant) -> Self {
        if variant == AtbVariant::Auto {
            let mut p = Self::atb(unit, c, AtbVariant::ShiftLhs);
            p.extend(&Self::atb(unit, c, AtbVariant::ShiftRhs));
            return p;
        }
        let (n, s1) = (unit.slots(), unit.s1 as isize);
        let h = (padded_classes(c) / 2) as isize;
        let mut p = Self::new();
        p.add(h, n);
        p.add(h - s1, n);
        for k in 1..h {
            p.add(k, n);
            if variant == AtbVariant::ShiftLhs {
                p.add(k - s1, n);
            }
        }
        if variant == AtbVariant::ShiftRhs && h > 1 {
            p.add(s1, n);
        }
        let mut t = 1;
        while t < unit.s0 {
            p.add(t as isize * s1, n);
            t <<= 1;
        }
        p.conjugation = true;
        p
    }

    /// A plan from explicit steps (taken modulo `slots`; 0 dropped), e.g. for
    /// the comparison baselines.
    pub fn from_steps(steps: &[isize], slots: usize, conjugation: bool) -> Self {
        let mut p = Self::new();
        for &s in steps {
            p.add(s, slots);
        }
        p.conjugation = conjugation;
        p
    }

    /// The keys [`super::MatrixOps::diag_atb_folded`] needs: as [`Self::atb`]
    /// but the column sums use row shifts `u·s1` (`u < c'`) and `2^t·c'·s1`.
    pub fn atb_folded(unit: UnitShape, c: usize, variant: AtbVariant) -> Self {
        let (n, s1) = (unit.slots(), unit.s1 as isize);
        let p = padded_classes(c);
        let mut plan = Self::atb(unit, c, variant);
        let mut t = 1;
        while t < unit.s0 {
            plan.offsets.remove(&(t * unit.s1 % n));
            t <<= 1;
        }
        if variant != AtbVariant::ShiftLhs && p > 2 {
            plan.add(s1, n); // PRotUp's row shift
        }
        for u in 1..p as isize {
            plan.add(u * s1, n);
        }
        let mut t = p;
        while t < unit.s0 {
            plan.add(t as isize * s1, n);
            t <<= 1;
        }
        plan
    }

    /// The keys [`super::MatrixOps::diag_atb_factored`] needs: the in-row shifts `t` and
    /// `t - s1` for `t < c'`, the row shifts `u·s1` (`u < c'`), the fold's `2^t·c'·s1`
    /// and the conjugation.
    pub fn atb_factored(unit: UnitShape, c: usize) -> Self {
        let (n, s1) = (unit.slots(), unit.s1 as isize);
        let p = padded_classes(c) as isize;
        let mut plan = Self::new();
        for t in 1..p {
            plan.add(t, n);
            plan.add(t - s1, n);
            plan.add(t * s1, n);
        }
        let mut t = p;
        while t < unit.s0 as isize {
            plan.add(t * s1, n);
            t <<= 1;
        }
        plan.conjugation = true;
        plan
    }

    /// Adds another plan's keys.
    pub fn extend(&mut self, other: &Self) {
        self.offsets.extend(other.offsets.iter().copied());
        self.conjugation |= other.conjugation;
    }

    /// The offsets, sorted, in `1..slots`.
    pub fn offsets(&self) -> Vec<usize> {
        self.offsets.iter().copied().collect()
    }

    /// The offsets as signed steps (for key generation APIs taking `isize`).
    pub fn steps(&self) -> Vec<isize> {
        self.offsets.iter().map(|&k| k as isize).collect()
    }

    /// Whether a conjugation key is needed.
    pub fn conjugation(&self) -> bool {
        self.conjugation
    }
}
