//! DiagABT: `C = A B^T` (HETAL.md §3.3, with the complexification of §3.5).

use alloc::vec::Vec;

use super::ops::Mask;
use super::{BlockLayout, EncMatrix, LinalgError, MatrixOps, Tiling};
use crate::slots::{Complex, Leveled, SlotOps};

/// Shifts of `B` rotated together in [`MatrixOps::diag_abt`]: one decomposition of each
/// block serves this many rotations, and this many shifted copies of `B` are alive at
/// once (at `c' = 16`, 8 shifts: two groups).
const ABT_SHIFT_GROUP: usize = 4;

/// The layout of [`MatrixOps::diag_abt`]'s `a x c` output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbtOutput {
    /// Columns tiled horizontally with period `c'` across all `s1` columns:
    /// the layout [`MatrixOps::diag_atb`] takes as its left operand.
    Tiled,
    /// Only the first `c'` columns filled (plain layout, zeros elsewhere):
    /// `log2(s1 / c')` fewer rotations per pair and row block.
    Compact,
}

impl<E: SlotOps> MatrixOps<'_, E> {
    /// `A B^T` for `A` (`a x b`, plain layout) and `B` (`c x b`, tiled
    /// vertically with period `c' = 2^ceil(log2 c) <= min(s0, s1)`), giving the
    /// `a x c` product in `out`'s layout, with `A`'s row blocks.
    ///
    /// For each pair `(k, k + c'/2)`, `k < c'/2`: `U_k` = the complexified `B`
    /// (`B + i·(B rows shifted up by c'/2)`) shifted up by `k` rows (hoisted: each
    /// block's shifts of a group of pairs share one decomposition); per row
    /// block `sum_j A_j ⊙ U_k,j` (one relinearization for the sum), a left row
    /// sum into column 0, a mask keeping column 0, a broadcast back along the
    /// row, and the complex selection mask of the pair; the masked terms of
    /// all pairs are summed and `z + conj z` extracts the real product (one
    /// conjugation per output block).
    ///
    /// Depth 3 (product, column-0 mask, selection mask). Operations with
    /// `nr = ceil(a/s0)`, `nb = ceil(b/s1)`, `h = c'/2` (see [`super::cost`]):
    /// `h·nr·nb` products, `h·nr` relinearizations, `2·h·nr` plaintext
    /// multiplications, `h·(nb + nr·(log s1 + log w))` rotations with `w = s1`
    /// (`Tiled`) or `c'` (`Compact`), `nr` conjugations.
    pub fn diag_abt(
        &self,
        a: &EncMatrix<E::Value>,
        b: &EncMatrix<E::Value>,
        out: AbtOutput,
    ) -> Result<EncMatrix<E::Value>, LinalgError> {
        let unit = self.unit;
        if a.unit() != unit || b.unit() != unit {
            return Err(LinalgError::Shape(
                "operand unit shape differs from the evaluator's",
            ));
        }
        if a.layout().tiling != Tiling::None {
            return Err(LinalgError::Shape(
                "diag_abt: A must be in the plain layout",
            ));
        }
        let Tiling::Vertical { period } = b.layout().tiling else {
            return Err(LinalgError::Shape("diag_abt: B must be tiled vertically"));
        };
        if a.cols() != b.cols() {
            return Err(LinalgError::Shape(
                "diag_abt: A and B need the same column count",
            ));
        }
        if period < 2 || period > unit.s1 {
            return Err(LinalgError::Shape(
                "diag_abt: B's period must be between 2 and s1",
            ));
        }
        let ev = self.ev;
        let (nr, nb) = (a.layout().row_blocks(), a.layout().col_blocks());
        let h = period / 2;
        let s1 = unit.s1 as isize;
        let width = match out {
            AbtOutput::Tiled => unit.s1,
            AbtOutput::Compact => period,
        };

        // Both operands go down to the lower level once, not once per pair
        // (cheaper copies, and B's rotations run at the lower level).
        let level = a.level().min(b.level());
        let lowered = |m: &EncMatrix<E::Value>| -> Result<Vec<E::Value>, LinalgError> {
            if m.level() == level && m.blocks().iter().all(|v| v.level() == level) {
                return Ok(Vec::new());
            }
            Ok(m.blocks()
                .iter()
                .map(|v| ev.drop_to_level(v, level))
                .collect::<Result<_, _>>()?)
        };
        let (a_low, b_low) = (lowered(a)?, lowered(b)?);
        let a_block = |r: usize, j: usize| {
            if a_low.is_empty() {
                a.block(r, j)
            } else {
                &a_low[r * nb + j]
            }
        };
        let b_blocks = if b_low.is_empty() { b.blocks() } else { &b_low };

        // Complexified B: row i holds B[i] + i·B[i + c'/2] (one rotation per block).
        let bt: Vec<E::Value> = ev.run_jobs(b_blocks.len(), &|j| {
            let bj = &b_blocks[j];
            let up = ev.rotate(bj, h as isize * s1)?;
            ev.add(bj, &ev.mul_const(&up, Complex::I)?)
        })?;
        drop(b_low);

        // U_k (B shifted up by k rows) for a group of k at a time: each block's shifts
        // share one decomposition (hoisted rotations), and only one group's copies of
        // B are alive at once. The k of a group are then independent jobs.
        let mut acc: Vec<Option<E::Value>> = (0..nr).map(|_| None).collect();
        for k0 in (0..h).step_by(ABT_SHIFT_GROUP) {
            let ks: Vec<usize> = (k0..h.min(k0 + ABT_SHIFT_GROUP)).collect();
            let offsets: Vec<isize> = ks.iter().map(|&k| k as isize * s1).collect();
            let u: Vec<Vec<E::Value>> =
                ev.run_jobs(nb, &|j| ev.rotate_hoisted(&bt[j], &offsets))?;
            let term = |i: usize| -> Result<Vec<E::Value>, LinalgError> {
                let k = ks[i];
                (0..nr)
                    .map(|r| {
                        let pairs: Vec<(&E::Value, &E::Value)> =
                            (0..nb).map(|j| (a_block(r, j), &u[j][i])).collect();
                        let prod = ev.rescale_owned(ev.sum_products(&pairs)?)?;
                        let sums = self.row_sums(&prod, unit.s1)?;
                        let first = self.masked(&sums, Mask::FirstColumn)?;
                        let spread = self.row_broadcast(&first, width)?;
                        Ok(self.masked_raw(&spread, Mask::AbtSelect { k, period, width })?)
                    })
                    .collect()
            };
            for terms in ev.run_jobs(ks.len(), &term)? {
                for (slot, t) in acc.iter_mut().zip(terms) {
                    match slot {
                        None => *slot = Some(t),
                        Some(s) => ev.add_assign(s, &t)?,
                    }
                }
            }
        }
        let blocks = acc
            .into_iter()
            .map(|z| {
                let z = ev.rescale_owned(z.ok_or(LinalgError::Shape("no pairs"))?)?;
                Ok(self.real_part_x2(&z)?)
            })
            .collect::<Result<Vec<_>, LinalgError>>()?;
        let layout = match out {
            AbtOutput::Tiled => {
                BlockLayout::new(a.rows(), b.rows(), unit, Tiling::Horizontal { period })?
            }
            AbtOutput::Compact => BlockLayout::plain(a.rows(), b.rows(), unit)?,
        };
        EncMatrix::from_blocks(layout, blocks)
    }
}
