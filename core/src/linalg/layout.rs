//! Block encoding of matrices into slot vectors (HETAL.md §3.1).
//!
//! A unit shape `s0 x s1` (`s0 * s1` = slot count, both powers of two) cuts a
//! matrix into blocks of `s0` rows and `s1` columns; one block is one value,
//! stored row-major (entry `(r, col)` of a block in slot `r * s1 + col`),
//! zero-padded at the right and bottom edges. So a left rotation by `k` moves
//! entries `k` columns left (spilling into the previous row), and a rotation
//! by `k * s1` moves whole rows up by `k`, cyclically inside the block.

use alloc::vec;
use alloc::vec::Vec;

use super::LinalgError;

/// The block shape `s0 x s1`; `s0 * s1` is the engine's slot count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitShape {
    /// Rows per block (a power of two).
    pub s0: usize,
    /// Columns per block (a power of two).
    pub s1: usize,
}

impl UnitShape {
    /// `s0 x s1`, both powers of two.
    pub fn new(s0: usize, s1: usize) -> Result<Self, LinalgError> {
        if !s0.is_power_of_two() || !s1.is_power_of_two() {
            return Err(LinalgError::BadUnitShape { s0, s1 });
        }
        Ok(Self { s0, s1 })
    }

    /// HETAL's training shape (run.py): `c' = 2^ceil(log2 classes)`,
    /// `s0 = min(max(batch', c'), slots / c')` with `batch'` the batch rounded up
    /// to a power of two, `s1 = slots / s0`. Both are then `>= c'`.
    ///
    /// ```
    /// use hetal_core::linalg::UnitShape;
    /// assert_eq!(UnitShape::hetal(1024, 10, 1 << 15)?, UnitShape::new(1024, 32)?);
    /// assert_eq!(UnitShape::hetal(2048, 10, 1 << 15)?, UnitShape::new(2048, 16)?);
    /// assert_eq!(UnitShape::hetal(512, 3, 1 << 15)?, UnitShape::new(512, 64)?);
    /// # Ok::<(), hetal_core::linalg::LinalgError>(())
    /// ```
    pub fn hetal(batch: usize, classes: usize, slots: usize) -> Result<Self, LinalgError> {
        let cp = padded_classes(classes);
        if !slots.is_power_of_two() || cp * cp > slots {
            return Err(LinalgError::BadUnitShape { s0: 0, s1: slots });
        }
        let s0 = batch.max(1).next_power_of_two().max(cp).min(slots / cp);
        Self::new(s0, slots / s0)
    }

    /// Slots per block, `s0 * s1`.
    pub fn slots(&self) -> usize {
        self.s0 * self.s1
    }

    /// `log2 s0`.
    pub fn log_s0(&self) -> u32 {
        self.s0.trailing_zeros()
    }

    /// `log2 s1`.
    pub fn log_s1(&self) -> u32 {
        self.s1.trailing_zeros()
    }
}

/// `c'`: the class count rounded up to a power of two, at least 2 (the
/// complexification pairs classes `k` and `k + c'/2`).
pub fn padded_classes(classes: usize) -> usize {
    classes.max(2).next_power_of_two()
}

/// How a small matrix is replicated inside its blocks (HETAL.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tiling {
    /// No replication: `ceil(rows/s0) x ceil(cols/s1)` blocks.
    None,
    /// Rows repeated with this period (a power of two dividing `s0`, at least
    /// `rows`): one row of blocks, block row `r` holds matrix row `r mod period`
    /// (zero when that is `>= rows`). `B` in `A B^T`; the weights `W`.
    Vertical {
        /// The period in rows.
        period: usize,
    },
    /// Columns repeated with this period (a power of two dividing `s1`, at
    /// least `cols`): one column of blocks. `A` in `A^T B`; `A B^T`'s output.
    Horizontal {
        /// The period in columns.
        period: usize,
    },
}

/// Where the entries of a `rows x cols` matrix sit in its blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLayout {
    /// Logical rows.
    pub rows: usize,
    /// Logical columns.
    pub cols: usize,
    /// The block shape.
    pub unit: UnitShape,
    /// Replication.
    pub tiling: Tiling,
}

impl BlockLayout {
    /// A layout, checked: tiling periods are powers of two dividing the block
    /// side and at least the tiled dimension.
    pub fn new(
        rows: usize,
        cols: usize,
        unit: UnitShape,
        tiling: Tiling,
    ) -> Result<Self, LinalgError> {
        if rows == 0 || cols == 0 {
            return Err(LinalgError::Shape("empty matrix"));
        }
        let ok = match tiling {
            Tiling::None => true,
            Tiling::Vertical { period } => {
                period.is_power_of_two() && period >= rows && period <= unit.s0
            }
            Tiling::Horizontal { period } => {
                period.is_power_of_two() && period >= cols && period <= unit.s1
            }
        };
        if !ok {
            return Err(LinalgError::Shape(
                "tiling period must be a power of two between the tiled dimension and the block side",
            ));
        }
        Ok(Self {
            rows,
            cols,
            unit,
            tiling,
        })
    }

    /// Plain blocks, no replication.
    pub fn plain(rows: usize, cols: usize, unit: UnitShape) -> Result<Self, LinalgError> {
        Self::new(rows, cols, unit, Tiling::None)
    }

    /// Rows tiled with period `c' = padded_classes(rows)` (for `B` in `A B^T`).
    pub fn vertical(rows: usize, cols: usize, unit: UnitShape) -> Result<Self, LinalgError> {
        let period = padded_classes(rows);
        Self::new(rows, cols, unit, Tiling::Vertical { period })
    }

    /// Columns tiled with period `c' = padded_classes(cols)` (for `A` in `A^T B`).
    pub fn horizontal(rows: usize, cols: usize, unit: UnitShape) -> Result<Self, LinalgError> {
        let period = padded_classes(cols);
        Self::new(rows, cols, unit, Tiling::Horizontal { period })
    }

    /// Number of block rows.
    pub fn row_blocks(&self) -> usize {
        match self.tiling {
            Tiling::Vertical { .. } => 1,
            _ => self.rows.div_ceil(self.unit.s0),
        }
    }

    /// Number of block columns.
    pub fn col_blocks(&self) -> usize {
        match self.tiling {
            Tiling::Horizontal { .. } => 1,
            _ => self.cols.div_ceil(self.unit.s1),
        }
    }

    /// Number of blocks (values).
    pub fn block_count(&self) -> usize {
        self.row_blocks() * self.col_blocks()
    }

    /// The matrix entry `(i, j)` shown in slot `slot` of block `(rb, cb)`, if any.
    pub fn entry_at(&self, rb: usize, cb: usize, slot: usize) -> Option<(usize, usize)> {
        let (r, col) = (slot / self.unit.s1, slot % self.unit.s1);
        let (i, j) = match self.tiling {
            Tiling::None => (rb * self.unit.s0 + r, cb * self.unit.s1 + col),
            Tiling::Vertical { period } => (r % period, cb * self.unit.s1 + col),
            Tiling::Horizontal { period } => (rb * self.unit.s0 + r, col % period),
        };
        (i < self.rows && j < self.cols).then_some((i, j))
    }

    /// Block `(rb, cb)` and slot of the first copy of entry `(i, j)`.
    pub fn position(&self, i: usize, j: usize) -> (usize, usize, usize) {
        let (s0, s1) = (self.unit.s0, self.unit.s1);
        match self.tiling {
            Tiling::None => (i / s0, j / s1, (i % s0) * s1 + j % s1),
            Tiling::Vertical { .. } => (0, j / s1, i * s1 + j % s1),
            Tiling::Horizontal { .. } => (i / s0, 0, (i % s0) * s1 + j),
        }
    }

    /// The slot vectors of every block (row-major over blocks) for a row-major
    /// `rows x cols` matrix.
    pub fn pack(&self, data: &[f64]) -> Result<Vec<Vec<f64>>, LinalgError> {
        if data.len() != self.rows * self.cols {
            return Err(LinalgError::Shape("data length is not rows * cols"));
        }
        let n = self.unit.slots();
        let mut out = Vec::with_capacity(self.block_count());
        for rb in 0..self.row_blocks() {
            for cb in 0..self.col_blocks() {
                let mut v = vec![0.0; n];
                for (slot, x) in v.iter_mut().enumerate() {
                    if let Some((i, j)) = self.entry_at(rb, cb, slot) {
                        *x = data[i * self.cols + j];
                    }
                }
                out.push(v);
            }
        }
        Ok(out)
    }

    /// The row-major matrix from block slot vectors (first copy of each entry).
    pub fn unpack(&self, blocks: &[Vec<f64>]) -> Result<Vec<f64>, LinalgError> {
        if blocks.len() != self.block_count() {
            return Err(LinalgError::Shape("wrong number of blocks"));
        }
        let mut out = vec![0.0; self.rows * self.cols];
        for i in 0..self.rows {
            for j in 0..self.cols {
                let (rb, cb, slot) = self.position(i, j);
                out[i * self.cols + j] = blocks[rb * self.col_blocks() + cb][slot];
            }
        }
        Ok(out)
    }
}
