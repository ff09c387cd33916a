//! **Comparison baselines only** (not used by training): our implementations
//! of the prior encrypted matrix products HETAL is measured against
//! (HETAL.md §3.6).
//!
//! - Jin et al. 2020: column packing of `A` (one value per column) and
//!   replicated packing of `B` (one value per scalar, broadcast to every
//!   slot). [`jin_abt`]: `b·c` products, no rotation. [`jin_atb`]: `b·c`
//!   products, each summed over all slots (`log2 slots` rotations).
//! - Crockett 2020: the block encoding of [`super::BlockLayout`] without
//!   complexification. [`MatrixOps::colmajor_abt`] (`A B^T`, per row `k` of
//!   `B`: mask, replicate down the rows, multiply, row sum, shift into column
//!   `k`) and [`MatrixOps::rowmajor_atb`] (`A^T B`, per column `k` of `A`:
//!   mask, move to column 0, replicate along the rows, multiply, column sum,
//!   mask row `k`).
//!
//! All of them sum products with [`SlotOps::sum_products`] (one
//! relinearization per sum), the same courtesy the Diag products get, so the
//! comparison measures the packing and not the relinearization strategy.

use alloc::vec;
use alloc::vec::Vec;

use super::ops::Mask;
use super::{BlockLayout, EncMatrix, LinalgError, MatrixOps, Tiling};
use crate::slots::SlotOps;

/// Jin et al.'s column packing of a row-major `rows x cols` matrix: one slot
/// vector per column (entries in slots `0..rows`).
pub fn jin_columns(data: &[f64], rows: usize, cols: usize) -> Vec<Vec<f64>> {
    (0..cols)
        .map(|t| (0..rows).map(|i| data[i * cols + t]).collect())
        .collect()
}

/// Jin et al.'s replicated packing: the scalar `x` in all `slots` slots.
pub fn jin_replicated(x: f64, slots: usize) -> Vec<f64> {
    vec![x; slots]
}

/// `A B^T` (Jin et al.): `col(t)` is column `t < b` of `A` (column packing),
/// `rep(j, t)` is `B[j, t]` replicated. Returns the `c` columns of the
/// `a x c` product (column packing, one level down).
pub fn jin_abt<'v, E: SlotOps>(
    ev: &E,
    b: usize,
    c: usize,
    col: impl Fn(usize) -> &'v E::Value,
    rep: impl Fn(usize, usize) -> &'v E::Value,
) -> Result<Vec<E::Value>, LinalgError>
where
    E::Value: 'v,
{
    (0..c)
        .map(|j| {
            let pairs: Vec<_> = (0..b).map(|t| (col(t), rep(j, t))).collect();
            Ok(ev.rescale_owned(ev.sum_products(&pairs)?)?)
        })
        .collect()
}

/// `A^T B` (Jin et al.): `a_col(m)` is column `m < c` of `A`, `b_col(j)` column
/// `j < b` of `B` (column packing). Returns `C[m, j]` replicated in every
/// slot, at index `m * b + j`.
pub fn jin_atb<'v, E: SlotOps>(
    ev: &E,
    b: usize,
    c: usize,
    a_col: impl Fn(usize) -> &'v E::Value,
    b_col: impl Fn(usize) -> &'v E::Value,
) -> Result<Vec<E::Value>, LinalgError>
where
    E::Value: 'v,
{
    let n = ev.slot_count();
    let mut out = Vec::with_capacity(b * c);
    for m in 0..c {
        for j in 0..b {
            let p = ev.rescale_owned(ev.mul(a_col(m), b_col(j))?)?;
            out.push(ev.rotate_and_sum(&p, n, 1)?);
        }
    }
    Ok(out)
}

impl<E: SlotOps> MatrixOps<'_, E> {
    /// `A B^T` by Crockett's ColMajor: `A` (`a x b`) and `B` (`c x b`, `c <= s0`)
    /// both in the plain layout; the `a x c` product in the plain layout.
    /// Depth 3; `c·nr·nb` products, `c·(nb + nr)` masks,
    /// `c·(nb·log s0 + nr·(log s1 + 1)) - nr` rotations.
    pub fn colmajor_abt(
        &self,
        a: &EncMatrix<E::Value>,
        b: &EncMatrix<E::Value>,
    ) -> Result<EncMatrix<E::Value>, LinalgError> {
        let unit = self.unit;
        let plain = |m: &EncMatrix<E::Value>| m.unit() == unit && m.layout().tiling == Tiling::None;
        if !plain(a)
            || !plain(b)
            || a.cols() != b.cols()
            || b.rows() > unit.s0
            || b.rows() > unit.s1
        {
            return Err(LinalgError::Shape(
                "colmajor_abt: plain layouts, equal column counts, c <= min(s0, s1)",
            ));
        }
        let ev = self.ev;
        let (nr, nb, c) = (a.layout().row_blocks(), a.layout().col_blocks(), b.rows());
        let s1 = unit.s1 as isize;
        let mut acc: Vec<Option<E::Value>> = (0..nr).map(|_| None).collect();
        for k in 0..c {
            // Row k of B replicated down all rows of each block.
            let rep: Vec<E::Value> = (0..nb)
                .map(|j| {
                    // A cyclic sum over all rows of a block holding only row k.
                    let row = self.masked(b.block(0, j), Mask::Row(k))?;
                    self.ev.rotate_and_sum(&row, unit.s0, s1)
                })
                .collect::<Result<_, _>>()?;
            for (r, slot) in acc.iter_mut().enumerate() {
                let pairs: Vec<_> = (0..nb).map(|j| (a.block(r, j), &rep[j])).collect();
                let prod = ev.rescale_owned(ev.sum_products(&pairs)?)?;
                let sums = self.row_sums(&prod, unit.s1)?;
                let first = self.masked(&sums, Mask::FirstColumn)?;
                let placed = ev.rotate(&first, -(k as isize))?;
                match slot {
                    None => *slot = Some(placed),
                    Some(s) => ev.add_assign(s, &placed)?,
                }
            }
        }
        let blocks = acc
            .into_iter()
            .map(|z| z.ok_or(LinalgError::Shape("no rows")))
            .collect::<Result<Vec<_>, _>>()?;
        EncMatrix::from_blocks(BlockLayout::plain(a.rows(), c, unit)?, blocks)
    }

    /// `A^T B` by Crockett's RowMajor: `A` (`a x c`, `c <= min(s0, s1)`) and `B`
    /// (`a x b`) in the plain layout; the `c x b` product in the plain layout.
    /// Depth 3; `c·nr·nb` products, `c·(nr + nb)` masks,
    /// `c·(nb·log s0 + nr·(log s1 + 1)) - nr` rotations.
    pub fn rowmajor_atb(
        &self,
        a: &EncMatrix<E::Value>,
        b: &EncMatrix<E::Value>,
    ) -> Result<EncMatrix<E::Value>, LinalgError> {
        let unit = self.unit;
        let plain = |m: &EncMatrix<E::Value>| m.unit() == unit && m.layout().tiling == Tiling::None;
        if !plain(a)
            || !plain(b)
            || a.rows() != b.rows()
            || a.cols() > unit.s0
            || a.cols() > unit.s1
        {
            return Err(LinalgError::Shape(
                "rowmajor_atb: plain layouts, equal row counts, c <= min(s0, s1)",
            ));
        }
        let ev = self.ev;
        let (nr, nb, c) = (b.layout().row_blocks(), b.layout().col_blocks(), a.cols());
        let mut out: Vec<Option<E::Value>> = (0..nb).map(|_| None).collect();
        for k in 0..c {
            // Column k of A moved to column 0 and replicated along each row.
            let rep: Vec<E::Value> = (0..nr)
                .map(|r| {
                    let col = self.masked(a.block(r, 0), Mask::Col(k))?;
                    let first = ev.rotate(&col, k as isize)?;
                    ev.rotate_and_sum(&first, unit.s1, -1)
                })
                .collect::<Result<_, _>>()?;
            for (j, slot) in out.iter_mut().enumerate() {
                let pairs: Vec<_> = (0..nr).map(|r| (&rep[r], b.block(r, j))).collect();
                let prod = ev.rescale_owned(ev.sum_products(&pairs)?)?;
                let sums = self.col_sums(&prod)?;
                let row = self.masked_raw(&sums, Mask::Row(k))?;
                match slot {
                    None => *slot = Some(row),
                    Some(s) => ev.add_assign(s, &row)?,
                }
            }
        }
        let blocks = out
            .into_iter()
            .map(|z| Ok(ev.rescale_owned(z.ok_or(LinalgError::Shape("no columns"))?)?))
            .collect::<Result<Vec<_>, LinalgError>>()?;
        EncMatrix::from_blocks(BlockLayout::plain(c, b.cols(), unit)?, blocks)
    }
}
