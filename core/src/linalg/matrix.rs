//! [`EncMatrix`]: a block-encoded matrix of engine values, and the client-side
//! conversions from and to row-major `f64`.

use alloc::vec::Vec;

use super::{BlockLayout, LinalgError, UnitShape};
use crate::slots::{Leveled, SlotCrypt, SlotOps};

/// A `rows x cols` matrix packed into blocks (one engine value per block).
///
/// `V` is an engine's value (ciphertext) or plaintext type. Blocks are stored
/// row-major over the block grid of [`BlockLayout`].
#[derive(Clone, Debug, PartialEq)]
pub struct EncMatrix<V> {
    layout: BlockLayout,
    blocks: Vec<V>,
}

impl<V> EncMatrix<V> {
    /// A matrix from its layout and blocks (`layout.block_count()` of them).
    pub fn from_blocks(layout: BlockLayout, blocks: Vec<V>) -> Result<Self, LinalgError> {
        if blocks.len() != layout.block_count() {
            return Err(LinalgError::Shape("wrong number of blocks for the layout"));
        }
        Ok(Self { layout, blocks })
    }

    /// The layout.
    pub fn layout(&self) -> &BlockLayout {
        &self.layout
    }
    /// Logical rows.
    pub fn rows(&self) -> usize {
        self.layout.rows
    }
    /// Logical columns.
    pub fn cols(&self) -> usize {
        self.layout.cols
    }
    /// The unit shape.
    pub fn unit(&self) -> UnitShape {
        self.layout.unit
    }
    /// All blocks, row-major over the block grid.
    pub fn blocks(&self) -> &[V] {
        &self.blocks
    }
    /// Consumes the matrix, returning its blocks.
    pub fn into_blocks(self) -> Vec<V> {
        self.blocks
    }
    /// Block `(rb, cb)`.
    pub fn block(&self, rb: usize, cb: usize) -> &V {
        &self.blocks[rb * self.layout.col_blocks() + cb]
    }
}

impl<V: Leveled> EncMatrix<V> {
    /// The lowest level of any block.
    pub fn level(&self) -> usize {
        self.blocks.iter().map(|b| b.level()).min().unwrap_or(0)
    }
}

/// Encodes a row-major `f64` matrix into plaintext blocks at `level` and `scale`.
pub fn encode_matrix<E: SlotOps>(
    ev: &E,
    data: &[f64],
    layout: BlockLayout,
    level: usize,
    scale: f64,
) -> Result<EncMatrix<E::Plain>, LinalgError> {
    check_unit(ev, layout.unit)?;
    let blocks = layout
        .pack(data)?
        .iter()
        .map(|v| ev.encode_real(v, level, scale))
        .collect::<Result<Vec<_>, _>>()?;
    EncMatrix::from_blocks(layout, blocks)
}

/// Encodes and encrypts a row-major `f64` matrix at `level` and `scale`.
///
/// ```
/// use hetal_core::linalg::{BlockLayout, UnitShape, decrypt_matrix, encrypt_matrix};
/// use hetal_core::slots::{SimParams, SlotOps, SlotSim};
/// let sim = SlotSim::new(SimParams::synthetic(32, 60, 40, 4)?)?;
/// let unit = UnitShape::new(4, 8)?;
/// // A 3 x 2 matrix tiled vertically: rows repeat with period 4 (row 3 is zero).
/// let layout = BlockLayout::vertical(3, 2, unit)?;
/// let m = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let enc = encrypt_matrix(&sim, &m, layout, sim.max_level(), sim.default_scale())?;
/// assert_eq!(enc.blocks().len(), 1);
/// assert_eq!(decrypt_matrix(&sim, &enc)?, m);
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub fn encrypt_matrix<E: SlotCrypt>(
    ev: &E,
    data: &[f64],
    layout: BlockLayout,
    level: usize,
    scale: f64,
) -> Result<EncMatrix<E::Value>, LinalgError> {
    check_unit(ev, layout.unit)?;
    let blocks = layout
        .pack(data)?
        .iter()
        .map(|v| ev.encrypt_real(v, level, scale))
        .collect::<Result<Vec<_>, _>>()?;
    EncMatrix::from_blocks(layout, blocks)
}

/// Decrypts a matrix to row-major `f64` (real parts, first copy of each entry).
pub fn decrypt_matrix<E: SlotCrypt>(
    ev: &E,
    m: &EncMatrix<E::Value>,
) -> Result<Vec<f64>, LinalgError> {
    let blocks = m
        .blocks()
        .iter()
        .map(|b| ev.decrypt_real(b))
        .collect::<Result<Vec<_>, _>>()?;
    m.layout().unpack(&blocks)
}

pub(super) fn check_unit<E: SlotOps>(ev: &E, unit: UnitShape) -> Result<(), LinalgError> {
    if unit.slots() != ev.slot_count() {
        return Err(LinalgError::BadUnitShape {
            s0: unit.s0,
            s1: unit.s1,
        });
    }
    Ok(())
}
