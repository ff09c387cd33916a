//! DiagATB: `C = A^T B` (HETAL.md §3.4, with the complexification of §3.5).

use alloc::vec::Vec;

use super::ops::Mask;
use super::{BlockLayout, EncMatrix, LinalgError, MatrixOps, Tiling};
use crate::slots::{Complex, Leveled, SlotError, SlotOps};

/// Which operand of [`MatrixOps::diag_atb`] absorbs the column shifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtbVariant {
    /// The variant with the higher output level; on a tie `ShiftLhs` (fewer
    /// operations). That is `ShiftRhs` exactly when `level(A) <= level(B)`.
    Auto,
    /// Shift `A`'s columns inside each row (masked rotations of `A`): `A`
    /// spends 4 levels (complexification, shift mask, product, output mask),
    /// `B` 2. The paper's `lvl A >= lvl B` column.
    ShiftLhs,
    /// Rotate `A` without masks and repair the rows that spill over by
    /// moving the matching columns of `B` up one row (a masked partial
    /// rotation of `B`, the paper's PRotUp): `A` spends 3 levels, `B` 3.
    /// The paper's `lvl A < lvl B` column.
    ShiftRhs,
}

impl AtbVariant {
    /// The concrete variant `Auto` picks for operands at these levels.
    pub fn resolve(self, level_a: usize, level_b: usize) -> Self {
        match self {
            Self::Auto => {
                let (la, lb) = (level_a as isize, level_b as isize);
                let lhs = (la - 2).min(lb) - 2;
                let rhs = (la - 1).min(lb - 1) - 2;
                if rhs > lhs {
                    Self::ShiftRhs
                } else {
                    Self::ShiftLhs
                }
            }
            v => v,
        }
    }
}

impl<E: SlotOps> MatrixOps<'_, E> {
    /// `A^T B` for `A` (`a x c`, tiled horizontally with period
    /// `c' = 2^ceil(log2 c) <= s1`, e.g. [`super::AbtOutput::Tiled`] output) and
    /// `B` (`a x b`, plain layout), giving the `c x b` product tiled vertically
    /// with period `c'` (the layout of the weights, `B` in `diag_abt`).
    ///
    /// `Z = A + i·(A's columns shifted left by c'/2)` is formed once per row
    /// block. For each pair `(k, k + c'/2)`: `Z` shifted left by `k` columns
    /// inside each row (see [`AtbVariant`] for where the row spill is
    /// repaired), `sum_r Z_k,r ⊙ B_r,j` per column block `j` (one
    /// relinearization per sum), a column sum by `log2 s0` rotations (every
    /// row then holds `C[(j+k) mod c', j] + i·C[(j+k+c'/2) mod c', j]`), and the
    /// complex selection mask that keeps row `≡ j + k` (real) and
    /// `≡ j + k + c'/2` (imaginary); `z + conj z` of the sum over pairs is the
    /// tiled product (one conjugation per output block).
    ///
    /// Operation counts per variant: see [`super::cost`].
    pub fn diag_atb(
        &self,
        a: &EncMatrix<E::Value>,
        b: &EncMatrix<E::Value>,
        variant: AtbVariant,
    ) -> Result<EncMatrix<E::Value>, LinalgError> {
        self.atb(a, b, variant, false)
    }

    /// [`Self::diag_atb`] with the column sums and the selection masks of all
    /// pairs fused: about 4x fewer rotations at the large shapes, for `c'` times
    /// more plaintext multiplications (cheap next to a rotation), same depth,
    /// same result and layout.
    ///
    /// The paper sums each pair's product `T_k` over all `s0` rows
    /// (`log2 s0` rotations per pair and column block) before masking. But
    /// the selection masks repeat every `c'` rows, so with the sum split as
    /// `colsum = sum_{u < c'} rot(F(·), u·s1)`, `F` the fold over rows `c'`
    /// apart (`log2(s0/c')` rotations), `sum_k M_k ⊙ colsum(T_k)` equals
    /// `F(sum_{u < c'} rot(sum_k M_{k+u} ⊙ T_k, u·s1))`: per column block
    /// `c' - 1 + log2(s0/c')` rotations instead of `(c'/2)·log2 s0`
    /// (22 instead of 88 at `s0 = 2048`, `c' = 16`) and `(c'/2)·c'` masks
    /// instead of `c'/2`. Counts in [`super::cost::atb_folded`]; keys in
    /// [`super::RotationPlan::atb_folded`].
    pub fn diag_atb_folded(
        &self,
        a: &EncMatrix<E::Value>,
        b: &EncMatrix<E::Value>,
        variant: AtbVariant,
    ) -> Result<EncMatrix<E::Value>, LinalgError> {
        self.atb(a, b, variant, true)
    }

    /// [`Self::diag_atb_folded`] (`ShiftLhs`) with the selection masks moved onto `A`'s
    /// side, where they do not depend on `B`'s column block: with `Z_k` the shifts of
    /// the complexified `A` and `M_k` the pair masks,
    /// `sum_k M_{k+u} ⊙ (Z_k ⊙ B_j) = Y_u ⊙ B_j` with `Y_u = sum_k M_{k+u} ⊙ Z_k`, and
    /// `rot(Y_u ⊙ B_j, u·s1) = rot(Y_u, u·s1) ⊙ rot(B_j, u·s1)`. So the `c'` values
    /// `rot(Y_u, u·s1)` are formed once, and each column block costs `c' - 1` hoisted
    /// rotations of its `B_j`, `c'` products summed under **one** relinearization
    /// (instead of `c'/2`), the fold `F` and a conjugation; no masks per block.
    ///
    /// `Z_k` is formed from shifts of `A` itself (`RotLeft(A, k) + i·RotLeft(A, k + c'/2)`,
    /// all `2 (c' - 1)` rotations hoisted from one decomposition, one level). Levels: `A`
    /// spends 3, `B` 1; the output is at `min(level(A) - 2, level(B)) - 1`, never below
    /// the folded product's. Same result and layout as
    /// [`Self::diag_atb`]; counts in [`super::cost::atb_factored`], keys in
    /// [`super::RotationPlan::atb_factored`].
    pub fn diag_atb_factored(
        &self,
        a: &EncMatrix<E::Value>,
        b: &EncMatrix<E::Value>,
    ) -> Result<EncMatrix<E::Value>, LinalgError> {
        let period = self.atb_check(a, b)?;
        let (unit, ev) = (self.unit, self.ev);
        let (nr, nb) = (b.layout().row_blocks(), b.layout().col_blocks());
        let s1 = unit.s1 as isize;
        let h = period / 2;
        // Z_k = A shifted left by k inside rows + i·(shifted by k + c'/2): every shift of A
        // from one decomposition, one level (the paper's order, complexify then shift,
        // spends two).
        let y: Vec<Vec<E::Value>> = a
            .blocks()
            .iter()
            .map(|ar| {
                let shifts = self.rows_shifted(ar, period)?;
                let z: Vec<E::Value> = (0..h)
                    .map(|k| ev.add(&shifts[k], &ev.mul_const(&shifts[k + h], Complex::I)?))
                    .collect::<Result<_, _>>()?;
                // rot(Y_u, u·s1), Y_u = sum_k M_{k+u} ⊙ Z_k.
                (0..period)
                    .map(|u| {
                        let yu = ev.rescale_owned(self.select_sum(&z, u, period)?)?;
                        ev.rotate(&yu, u as isize * s1)
                    })
                    .collect::<Result<Vec<_>, SlotError>>()
            })
            .collect::<Result<_, _>>()?;
        let y_level = y.iter().flatten().map(|v| v.level()).min().unwrap_or(0);
        let offsets: Vec<isize> = (0..period).map(|u| u as isize * s1).collect();
        let column = |j: usize| -> Result<E::Value, LinalgError> {
            let mut moved: Vec<Vec<E::Value>> = Vec::with_capacity(nr);
            for r in 0..nr {
                let br = b.block(r, j);
                let br = if br.level() > y_level {
                    ev.drop_to_level(br, y_level)?
                } else {
                    br.clone()
                };
                moved.push(ev.rotate_hoisted(&br, &offsets)?);
            }
            let pairs: Vec<(&E::Value, &E::Value)> = (0..nr)
                .flat_map(|r| (0..period).map(move |u| (r, u)))
                .map(|(r, u)| (&y[r][u], &moved[r][u]))
                .collect();
            let total = ev.rescale_owned(ev.sum_products(&pairs)?)?;
            // F: fold rows c' apart over the whole block.
            let folded = ev.rotate_and_sum(&total, unit.s0 / period, period as isize * s1)?;
            Ok(self.real_part_x2(&folded)?)
        };
        let out = ev.run_jobs(nb, &column)?;
        let layout = BlockLayout::new(a.cols(), b.cols(), unit, Tiling::Vertical { period })?;
        EncMatrix::from_blocks(layout, out)
    }

    fn atb(
        &self,
        a: &EncMatrix<E::Value>,
        b: &EncMatrix<E::Value>,
        variant: AtbVariant,
        folded: bool,
    ) -> Result<EncMatrix<E::Value>, LinalgError> {
        let period = self.atb_check(a, b)?;
        let unit = self.unit;
        let ev = self.ev;
        let (nr, nb) = (b.layout().row_blocks(), b.layout().col_blocks());
        let h = period / 2;
        let s1 = unit.s1 as isize;
        let variant = variant.resolve(a.level(), b.level());

        let shifted = self.atb_shifts(a, period, variant)?;

        // B's blocks go down once per block to the level the products (or,
        // for ShiftRhs, the repairs) need, not once per pair: cheaper copies,
        // rotations and masks.
        let shift_level = shifted
            .iter()
            .flatten()
            .map(|v| v.level())
            .min()
            .unwrap_or(0);
        let b_target = match variant {
            AtbVariant::ShiftRhs => shift_level + 1,
            _ => shift_level,
        };
        // The column blocks are independent: one job each (a block's key switches at
        // the low levels the gradient runs at have too few limbs to keep every thread
        // busy on their own).
        let column = |j: usize| -> Result<E::Value, LinalgError> {
            let bj: Vec<E::Value> = (0..nr)
                .map(|r| {
                    let br = b.block(r, j);
                    if br.level() > b_target {
                        ev.drop_to_level(br, b_target)
                    } else {
                        Ok(br.clone())
                    }
                })
                .collect::<Result<_, _>>()?;
            // ShiftRhs: the columns col >= s1 - k of Z_k hold the next row's
            // entries, so B's matching columns move up one row (cyclically in
            // the block, as the rotation of Z wraps).
            let up: Vec<E::Value> = if variant == AtbVariant::ShiftRhs && h > 1 {
                (0..nr)
                    .map(|r| ev.rotate(&bj[r], s1))
                    .collect::<Result<_, _>>()?
            } else {
                Vec::new()
            };
            let mut acc: Option<E::Value> = None;
            let mut products = Vec::with_capacity(if folded { h } else { 0 });
            for (k, zk) in shifted.iter().enumerate() {
                let rhs: Vec<E::Value> = match variant {
                    AtbVariant::ShiftRhs => (0..nr)
                        .map(|r| {
                            let br = &bj[r];
                            if k == 0 {
                                return ev.drop_to_level(br, br.level().saturating_sub(1));
                            }
                            let delta = ev.sub(&up[r], br)?;
                            let fix = self.masked(&delta, Mask::ColsFrom(unit.s1 - k))?;
                            ev.add(br, &fix)
                        })
                        .collect::<Result<_, _>>()?,
                    _ => Vec::new(),
                };
                let pairs: Vec<(&E::Value, &E::Value)> = (0..nr)
                    .map(|r| {
                        let br = if rhs.is_empty() { &bj[r] } else { &rhs[r] };
                        (&zk[r], br)
                    })
                    .collect();
                let prod = ev.rescale_owned(ev.sum_products(&pairs)?)?;
                if folded {
                    products.push(prod);
                    continue;
                }
                let sums = self.col_sums(&prod)?;
                let term = self.masked_raw(&sums, Mask::AtbSelect { k, period })?;
                match &mut acc {
                    None => acc = Some(term),
                    Some(s) => ev.add_assign(s, &term)?,
                }
            }
            if folded {
                acc = Some(self.fold_select(&products, period)?);
            }
            let zsum = ev.rescale_owned(acc.ok_or(LinalgError::Shape("no pairs"))?)?;
            Ok(self.real_part_x2(&zsum)?)
        };
        let out = ev.run_jobs(nb, &column)?;
        let layout = BlockLayout::new(a.cols(), b.cols(), unit, Tiling::Vertical { period })?;
        EncMatrix::from_blocks(layout, out)
    }

    /// The operand checks of `A^T B`; returns `A`'s period `c'`.
    fn atb_check(
        &self,
        a: &EncMatrix<E::Value>,
        b: &EncMatrix<E::Value>,
    ) -> Result<usize, LinalgError> {
        let unit = self.unit;
        if a.unit() != unit || b.unit() != unit {
            return Err(LinalgError::Shape(
                "operand unit shape differs from the evaluator's",
            ));
        }
        let Tiling::Horizontal { period } = a.layout().tiling else {
            return Err(LinalgError::Shape("diag_atb: A must be tiled horizontally"));
        };
        if b.layout().tiling != Tiling::None {
            return Err(LinalgError::Shape(
                "diag_atb: B must be in the plain layout",
            ));
        }
        if a.rows() != b.rows() {
            return Err(LinalgError::Shape(
                "diag_atb: A and B need the same row count",
            ));
        }
        if period < 2 || period > unit.s0 {
            return Err(LinalgError::Shape(
                "diag_atb: A's period must be between 2 and s0",
            ));
        }
        Ok(period)
    }

    /// `Z_k` for `k < c'/2`: `Z = A + i·(A's columns shifted left by c'/2)` shifted left by
    /// `k` inside rows (`ShiftLhs`) or plainly rotated by `k` (`ShiftRhs`), per row block.
    fn atb_shifts(
        &self,
        a: &EncMatrix<E::Value>,
        period: usize,
        variant: AtbVariant,
    ) -> Result<Vec<Vec<E::Value>>, LinalgError> {
        let ev = self.ev;
        let h = period / 2;
        // Z_r = A_r + i·RotLeft(A_r, c'/2), one level below A.
        let z: Vec<E::Value> = a
            .blocks()
            .iter()
            .map(|ar| {
                let shifted = self.rot_left_in_rows(ar, h)?;
                ev.add(ar, &ev.mul_const(&shifted, Complex::I)?)
            })
            .collect::<Result<_, _>>()?;

        // Z shifted left by k inside rows (ShiftLhs) or plainly rotated by k (ShiftRhs).
        let mut shifted: Vec<Vec<E::Value>> = Vec::with_capacity(h);
        for k in 0..h {
            let row: Vec<E::Value> = z
                .iter()
                .map(|zr| match (variant, k) {
                    // All shifts must leave at one level (and so one scale after the product).
                    (AtbVariant::ShiftLhs, 0) => ev.drop_to_level(zr, zr.level().saturating_sub(1)),
                    (AtbVariant::ShiftLhs, _) => self.rot_left_in_rows(zr, k),
                    _ => ev.rotate(zr, k as isize),
                })
                .collect::<Result<_, _>>()?;
            shifted.push(row);
        }

        Ok(shifted)
    }

    /// `F(sum_{u < c'} rot(sum_k M_{k+u} ⊙ T_k, u·s1))` for the pair products
    /// `T_k` (see [`Self::diag_atb_folded`]), before the final rescale.
    fn fold_select(&self, products: &[E::Value], period: usize) -> Result<E::Value, SlotError> {
        let ev = self.ev;
        let s1 = self.unit.s1 as isize;
        let groups: Vec<E::Value> = (0..period)
            .map(|u| self.select_sum(products, u, period))
            .collect::<Result<_, _>>()?;
        let terms: Vec<(&E::Value, isize)> = groups
            .iter()
            .enumerate()
            .map(|(u, g)| (g, u as isize * s1))
            .collect();
        let total = ev.sum_rotations(&terms)?;
        // F: fold rows c' apart over the whole block.
        ev.rotate_and_sum(&total, self.unit.s0 / period, period as isize * s1)
    }

    /// `sum_k M_{(k+u) mod c'} ⊙ v_k` with the pair selection masks, before the rescale.
    fn select_sum(&self, v: &[E::Value], u: usize, period: usize) -> Result<E::Value, SlotError> {
        let mut acc: Option<E::Value> = None;
        for (k, vk) in v.iter().enumerate() {
            let m = Mask::AtbSelect {
                k: (k + u) % period,
                period,
            };
            match &mut acc {
                None => acc = Some(self.masked_raw(vk, m)?),
                Some(s) => self.masked_add_raw(s, vk, m)?,
            }
        }
        acc.ok_or(SlotError::EmptyInput)
    }

    /// [`Self::rot_left_in_rows`] of `x` for every `t < count`, one level down: all
    /// `2 (count - 1)` rotations from one decomposition of `x`.
    fn rows_shifted(&self, x: &E::Value, count: usize) -> Result<Vec<E::Value>, SlotError> {
        let s1 = self.unit.s1 as isize;
        let offsets: Vec<isize> = (1..count as isize).flat_map(|t| [t, t - s1]).collect();
        let r = self.ev.rotate_hoisted(x, &offsets)?;
        let mut out = Vec::with_capacity(count);
        out.push(self.ev.drop_to_level(x, x.level().saturating_sub(1))?);
        for (t, pair) in (1..count).zip(r.chunks_exact(2)) {
            out.push(self.join_row_shift(&pair[0], &pair[1], t)?);
        }
        Ok(out)
    }

    /// `wrapped + [col < s1 - t]·(plain - wrapped)` for `plain = rot(x, t)` and
    /// `wrapped = rot(x, t - s1)`: `x`'s columns shifted left by `t` inside rows.
    fn join_row_shift(
        &self,
        plain: &E::Value,
        wrapped: &E::Value,
        t: usize,
    ) -> Result<E::Value, SlotError> {
        let delta = self.ev.sub(plain, wrapped)?;
        let fix = self.masked(&delta, Mask::ColsBelow(self.unit.s1 - t))?;
        self.ev.add(wrapped, &fix)
    }

    /// Columns shifted left by `t` inside each row, for a value whose rows are
    /// periodic with a period dividing `s1` (a horizontally tiled block):
    /// `rot(x, t - s1) + [col < s1 - t]·(rot(x, t) - rot(x, t - s1))`. Two
    /// hoisted rotations and one mask (one level).
    pub(crate) fn rot_left_in_rows(&self, x: &E::Value, t: usize) -> Result<E::Value, SlotError> {
        let s1 = self.unit.s1;
        let r = self
            .ev
            .rotate_hoisted(x, &[t as isize, t as isize - s1 as isize])?;
        self.join_row_shift(&r[0], &r[1], t)
    }
}
