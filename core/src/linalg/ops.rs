//! [`MatrixOps`]: the matrix evaluator (an engine, a unit shape and a mask cache).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::matrix::check_unit;
use super::{EncMatrix, LinalgError, UnitShape};
use crate::slots::{Complex, Leveled, SlotError, SlotOps};

/// The plaintext masks the products use; with the level they are encoded at,
/// the key of [`MatrixOps`]'s cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Mask {
    /// 1 in column 0 of every row: isolates a left row sum.
    FirstColumn,
    /// `A B^T` output selection for the pair `(k, k + period/2)`, on the first
    /// `width` columns: column `col ≡ r + k` gets `1/2`, `col ≡ r + k + period/2`
    /// gets `-i/2` (mod `period`), so `z + conj(z)` of the sum is the product.
    AbtSelect {
        k: usize,
        period: usize,
        width: usize,
    },
    /// 1 in row `r` (baselines).
    Row(usize),
    /// 1 in column `col` (baselines).
    Col(usize),
    /// 1 in the columns `col < limit`.
    ColsBelow(usize),
    /// 1 in the columns `col >= limit`.
    ColsFrom(usize),
    /// 1 in the rows `r < limit` (one chunk of a vertically tiled block).
    RowsBelow(usize),
    /// `A^T B` output selection for the pair `(k, k + period/2)`: row `r ≡ col + k`
    /// gets `1/2`, `r ≡ col + k + period/2` gets `-i/2` (mod `period`).
    AtbSelect { k: usize, period: usize },
}

/// Encoded masks by (mask, level).
type MaskCache<P> = spin::Mutex<BTreeMap<(Mask, usize), Arc<P>>>;

/// Matrix operations over one engine and one unit shape.
///
/// Holds the plaintext masks, encoded once per (mask, level) at the scale
/// `q_level` (so a masked value keeps its scale after the rescale) and shared
/// by every later call.
pub struct MatrixOps<'e, E: SlotOps> {
    pub(crate) ev: &'e E,
    pub(crate) unit: UnitShape,
    masks: MaskCache<E::Plain>,
}

impl<'e, E: SlotOps> MatrixOps<'e, E> {
    /// Operations for blocks of `unit` (whose slot count must be the engine's).
    pub fn new(ev: &'e E, unit: UnitShape) -> Result<Self, LinalgError> {
        check_unit(ev, unit)?;
        Ok(Self {
            ev,
            unit,
            masks: spin::Mutex::new(BTreeMap::new()),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &'e E {
        self.ev
    }

    /// The unit shape.
    pub fn unit(&self) -> UnitShape {
        self.unit
    }

    /// Number of masks cached so far.
    pub fn cached_masks(&self) -> usize {
        self.masks.lock().len()
    }

    /// Sum of each row's first `width` entries into its column 0 (other
    /// columns hold partial sums spilling into the next row): `log2 width`
    /// rotations to the left.
    pub fn row_sums(&self, v: &E::Value, width: usize) -> Result<E::Value, LinalgError> {
        Ok(self.ev.rotate_and_sum(v, width, 1)?)
    }

    /// Copies column 0 of each row into its first `width` columns, assuming
    /// the others are zero: `log2 width` rotations to the right.
    pub fn row_broadcast(&self, v: &E::Value, width: usize) -> Result<E::Value, LinalgError> {
        Ok(self.ev.rotate_and_sum(v, width, -1)?)
    }

    /// Sum over all `s0` rows of a block, replicated into every row:
    /// `log2 s0` rotations by multiples of `s1` (cyclic in rows, no spill).
    pub fn col_sums(&self, v: &E::Value) -> Result<E::Value, LinalgError> {
        Ok(self
            .ev
            .rotate_and_sum(v, self.unit.s0, self.unit.s1 as isize)?)
    }

    /// Sum of the blocks of each block row: a matrix with one block column.
    pub fn sum_block_cols(&self, m: &EncMatrix<E::Value>) -> Result<Vec<E::Value>, LinalgError> {
        let cb = m.layout().col_blocks();
        m.blocks()
            .chunks(cb)
            .map(|row| Ok(self.ev.sum(row)?))
            .collect()
    }

    /// The mask `m` encoded at `level` (cached).
    pub(crate) fn mask(&self, m: Mask, level: usize) -> Result<Arc<E::Plain>, SlotError> {
        if let Some(p) = self.masks.lock().get(&(m, level)) {
            return Ok(p.clone());
        }
        let values = self.mask_values(m);
        let p = Arc::new(
            self.ev
                .encode(&values, level, self.ev.modulus(level) as f64)?,
        );
        self.masks.lock().insert((m, level), p.clone());
        Ok(p)
    }

    fn mask_values(&self, m: Mask) -> Vec<Complex> {
        let (s0, s1) = (self.unit.s0, self.unit.s1);
        let half = Complex::new(0.5, 0.0);
        let minus_i_half = Complex::new(0.0, -0.5);
        let mut v = alloc::vec![Complex::ZERO; s0 * s1];
        for r in 0..s0 {
            for col in 0..s1 {
                let z = match m {
                    Mask::FirstColumn => (col == 0).then_some(Complex::ONE),
                    Mask::AbtSelect { k, period, width } => {
                        let d = (col + period - (r + k) % period) % period;
                        if col >= width {
                            None
                        } else if d == 0 {
                            Some(half)
                        } else if d == period / 2 {
                            Some(minus_i_half)
                        } else {
                            None
                        }
                    }
                    Mask::Row(k) => (r == k).then_some(Complex::ONE),
                    Mask::Col(k) => (col == k).then_some(Complex::ONE),
                    Mask::ColsBelow(limit) => (col < limit).then_some(Complex::ONE),
                    Mask::ColsFrom(limit) => (col >= limit).then_some(Complex::ONE),
                    Mask::RowsBelow(limit) => (r < limit).then_some(Complex::ONE),
                    Mask::AtbSelect { k, period } => {
                        let d = (r + period - (col + k) % period) % period;
                        match d {
                            0 => Some(half),
                            d if d == period / 2 => Some(minus_i_half),
                            _ => None,
                        }
                    }
                };
                if let Some(z) = z {
                    v[r * s1 + col] = z;
                }
            }
        }
        v
    }

    /// `v * mask` without the rescale (for sums of masked values).
    pub(crate) fn masked_raw(&self, v: &E::Value, m: Mask) -> Result<E::Value, SlotError> {
        let p = self.mask(m, v.level())?;
        self.ev.mul_plain(v, &p)
    }

    /// `acc += v * mask` without the rescale (in place where the engine can).
    pub(crate) fn masked_add_raw(
        &self,
        acc: &mut E::Value,
        v: &E::Value,
        m: Mask,
    ) -> Result<(), SlotError> {
        let p = self.mask(m, v.level())?;
        self.ev.mul_plain_add_assign(acc, v, &p)
    }

    /// `v * mask`, rescaled (one level, scale kept).
    pub(crate) fn masked(&self, v: &E::Value, m: Mask) -> Result<E::Value, SlotError> {
        self.ev.rescale_owned(self.masked_raw(v, m)?)
    }

    /// `z + conj(z)`: twice the real part (the masks carry the 1/2).
    pub(crate) fn real_part_x2(&self, z: &E::Value) -> Result<E::Value, SlotError> {
        let c = self.ev.conjugate(z)?;
        self.ev.add(z, &c)
    }
}
