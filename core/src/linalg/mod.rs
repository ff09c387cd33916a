//! Encrypted matrices: block encoding, `diag_abt` (A B^T), `diag_atb` (A^T B),
//! masks, rotation plans (HETAL.md §3).
//!
//! Everything is generic over [`SlotOps`](crate::slots::SlotOps): the same
//! code runs on [`SlotSim`](crate::slots::SlotSim) (exact, counting every
//! operation) and on CKKS ([`CkksEngine`](crate::slots::CkksEngine)).
//!
//! - [`layout`]: [`UnitShape`], [`Tiling`], [`BlockLayout`] (how a matrix sits in slots).
//! - [`EncMatrix`] with [`encrypt_matrix`] / [`decrypt_matrix`] / [`encode_matrix`].
//! - [`MatrixOps`]: the products [`MatrixOps::diag_abt`] and [`MatrixOps::diag_atb`],
//!   row and column sums, with plaintext masks cached per (unit shape, level).
//! - [`cost`]: closed-form operation counts (ours, and the paper's in [`cost::paper`]).
//! - [`plan`]: the exact rotation offsets a product needs ([`RotationPlan`]).
//! - [`MatrixOps::pack_rows`] / [`MatrixOps::unpack_rows`]: many vertically tiled
//!   blocks in one value, so one bootstrap refreshes them all ([`pack_rotations`]).
//! - [`baseline`]: the prior methods (Jin et al., Crockett), for comparison only.
//!
//! # Example: `A B^T` on the simulator
//!
//! ```
//! use hetal_core::linalg::{AbtOutput, BlockLayout, MatrixOps, UnitShape, decrypt_matrix, encrypt_matrix};
//! use hetal_core::slots::{SimParams, SlotOps, SlotSim};
//! let sim = SlotSim::new(SimParams::synthetic(64, 60, 40, 6)?)?;
//! let unit = UnitShape::new(8, 8)?;
//! let (a, b, c) = (5, 11, 3);
//! let am: Vec<f64> = (0..a * b).map(|x| (x % 7) as f64 - 3.0).collect();
//! let bm: Vec<f64> = (0..c * b).map(|x| (x % 5) as f64 - 2.0).collect();
//! let (top, scale) = (sim.max_level(), sim.default_scale());
//! let ea = encrypt_matrix(&sim, &am, BlockLayout::plain(a, b, unit)?, top, scale)?;
//! let eb = encrypt_matrix(&sim, &bm, BlockLayout::vertical(c, b, unit)?, top, scale)?;
//! let ops = MatrixOps::new(&sim, unit)?;
//! let out = decrypt_matrix(&sim, &ops.diag_abt(&ea, &eb, AbtOutput::Tiled)?)?;
//! for i in 0..a {
//!     for j in 0..c {
//!         let want: f64 = (0..b).map(|t| am[i * b + t] * bm[j * b + t]).sum();
//!         assert!((out[i * c + j] - want).abs() < 1e-9);
//!     }
//! }
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod abt;
mod atb;
pub mod baseline;
pub mod cost;
pub mod layout;
mod matrix;
mod ops;
mod pack;
pub mod plan;

use core::fmt;

pub use abt::AbtOutput;
pub use atb::AtbVariant;
pub use layout::{BlockLayout, Tiling, UnitShape, padded_classes};
pub use matrix::{EncMatrix, decrypt_matrix, encode_matrix, encrypt_matrix};
pub use ops::MatrixOps;
pub use pack::{pack_capacity, pack_rotations};
pub use plan::RotationPlan;

use crate::slots::SlotError;

/// Why a matrix operation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum LinalgError {
    /// The engine refused an operation.
    Slot(SlotError),
    /// Not powers of two, or `s0 * s1` is not the engine's slot count.
    BadUnitShape {
        /// Rows per block.
        s0: usize,
        /// Columns per block.
        s1: usize,
    },
    /// Operand shapes or layouts do not fit the operation.
    Shape(&'static str),
}

impl From<SlotError> for LinalgError {
    fn from(e: SlotError) -> Self {
        Self::Slot(e)
    }
}

impl fmt::Display for LinalgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Slot(e) => write!(f, "{e}"),
            Self::BadUnitShape { s0, s1 } => write!(
                f,
                "unit shape {s0} x {s1}: sides must be powers of two with s0 * s1 = slot count"
            ),
            Self::Shape(why) => write!(f, "shape: {why}"),
        }
    }
}

impl core::error::Error for LinalgError {}
