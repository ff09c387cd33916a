//! Packing vertically tiled blocks for bootstrapping.
//!
//! A block with [`Tiling::Vertical`](super::Tiling) rows of period `p` repeats
//! its first `p` rows `s0 / p` times, so it is periodic in the slot index with
//! period `C = p * s1`: only its first chunk of `C` slots is distinct. The
//! weights, their momentum and the gradient of a training step are such blocks
//! (one per `s1` feature columns), and bootstrapping each of them costs a full
//! bootstrap for `C` useful slots. [`MatrixOps::pack_rows`] moves the distinct
//! chunks of up to `s0 / p` blocks into one value (one mask, one level, and
//! `n - 1` rotations), so one bootstrap refreshes them all;
//! [`MatrixOps::unpack_rows`] brings each back to chunk 0, masks it (one level)
//! and replicates it (`log2(s0 / p)` rotations). Every rotation is to the right
//! by `2^t C`: [`pack_rotations`] lists them for key generation.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::ops::Mask;
use super::{LinalgError, MatrixOps, UnitShape};
use crate::slots::{SlotError, SlotOps};

/// Blocks of row period `period` one packed value holds (`s0 / period`).
pub fn pack_capacity(unit: UnitShape, period: usize) -> usize {
    if period == 0 || period > unit.s0 {
        return 0;
    }
    unit.s0 / period
}

/// The rotation offsets packing and unpacking use: `-2^t * period * s1` for
/// `2^t < s0 / period` (right rotations; none when a value holds one block).
///
/// ```
/// use hetal_core::linalg::{UnitShape, pack_rotations};
/// let unit = UnitShape::new(1024, 32)?;
/// assert_eq!(pack_rotations(unit, 16), vec![-512, -1024, -2048, -4096, -8192, -16384]);
/// # Ok::<(), hetal_core::linalg::LinalgError>(())
/// ```
pub fn pack_rotations(unit: UnitShape, period: usize) -> Vec<isize> {
    let chunk = period * unit.s1;
    let cap = pack_capacity(unit, period);
    let mut out = Vec::new();
    let mut k = 1;
    while k < cap {
        out.push(-((k * chunk) as isize));
        k <<= 1;
    }
    out
}

impl<E: SlotOps> MatrixOps<'_, E> {
    fn check_period(&self, period: usize) -> Result<usize, LinalgError> {
        let cap = pack_capacity(self.unit, period);
        if !period.is_power_of_two() || cap == 0 {
            return Err(LinalgError::Shape(
                "pack period must be a power of two at most s0",
            ));
        }
        Ok(cap)
    }

    /// Packs the first `period` rows of each block into `ceil(n / cap)` values
    /// (`cap = s0 / period`): block `j` lands in chunk `j mod cap` of value
    /// `j / cap`. Costs one level (the mask); blocks must share a level >= 1.
    pub fn pack_rows(
        &self,
        blocks: &[E::Value],
        period: usize,
    ) -> Result<Vec<E::Value>, LinalgError> {
        let cap = self.check_period(period)?;
        let chunk = (period * self.unit.s1) as isize;
        blocks
            .chunks(cap)
            .map(|group| {
                let mut level: Vec<E::Value> = group
                    .iter()
                    .map(|b| self.masked_raw(b, Mask::RowsBelow(period)))
                    .collect::<Result<_, _>>()?;
                // Pairwise: the right member of each pair moves `width` chunks right.
                let mut width = 1isize;
                while level.len() > 1 {
                    let mut next = Vec::with_capacity(level.len().div_ceil(2));
                    let mut it = level.into_iter();
                    while let Some(a) = it.next() {
                        match it.next() {
                            Some(b) => {
                                let r = self.ev.rotate(&b, -width * chunk)?;
                                next.push(self.ev.add(&a, &r)?);
                            }
                            None => next.push(a),
                        }
                    }
                    level = next;
                    width *= 2;
                }
                let packed = level.pop().ok_or(LinalgError::Shape("nothing to pack"))?;
                Ok(self.ev.rescale_owned(packed)?)
            })
            .collect()
    }

    /// The inverse of [`Self::pack_rows`]: `count` blocks, each its chunk
    /// moved to chunk 0, masked (one level) and replicated over all rows.
    pub fn unpack_rows(
        &self,
        packed: &[E::Value],
        period: usize,
        count: usize,
    ) -> Result<Vec<E::Value>, LinalgError> {
        let cap = self.check_period(period)?;
        if count > packed.len() * cap || count <= (packed.len().max(1) - 1) * cap {
            return Err(LinalgError::Shape(
                "unpack count does not match the packed values",
            ));
        }
        let chunk = (period * self.unit.s1) as isize;
        let mut out = Vec::with_capacity(count);
        for (v, x) in packed.iter().enumerate() {
            let here = (count - v * cap).min(cap);
            // Shifted copies `x` rotated right by `k` chunks (chunk `cap - k`
            // lands on chunk 0), each from a smaller one by its top power of two.
            let mut shifted: BTreeMap<usize, E::Value> = BTreeMap::new();
            for j in 0..here {
                let k = (cap - j) % cap;
                self.ensure_shifted(x, &mut shifted, k, chunk)?;
                let y = if k == 0 { x } else { &shifted[&k] };
                let m = self.masked(y, Mask::RowsBelow(period))?;
                out.push(self.ev.rotate_and_sum(&m, cap, -chunk)?);
            }
        }
        Ok(out)
    }

    /// Puts `x` rotated right by `k` chunks into `memo` (`k` = 0 is `x` itself,
    /// not stored), each from a smaller one by its top power of two.
    fn ensure_shifted(
        &self,
        x: &E::Value,
        memo: &mut BTreeMap<usize, E::Value>,
        k: usize,
        chunk: isize,
    ) -> Result<(), SlotError> {
        if k == 0 || memo.contains_key(&k) {
            return Ok(());
        }
        let top = 1usize << (usize::BITS - 1 - k.leading_zeros());
        let rest = k - top;
        self.ensure_shifted(x, memo, rest, chunk)?;
        let base = if rest == 0 { x } else { &memo[&rest] };
        let v = self.ev.rotate(base, -(top as isize) * chunk)?;
        memo.insert(k, v);
        Ok(())
    }
}
