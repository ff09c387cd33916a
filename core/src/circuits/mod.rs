//! Circuits written once against [`crate::slots::SlotOps`], so they run on the
//! simulator and on CKKS alike: polynomial evaluation ([`poly`]) and
//! plaintext-diagonal linear transforms ([`lintrans`]).
//!
//! Layering (as Lattigo's `circuits` above `ckks`): `ckks` -> `slots` (the
//! trait, the simulator, the CKKS engine) -> `circuits` -> `boot` -> `linalg`
//! -> `hetal`.
//!
//! # Contracts at a glance
//!
//! | circuit | levels | output scale | non-scalar products | rotations |
//! |---|---|---|---|---|
//! | [`poly::evaluate`] | [`poly::Polynomial::depth`] = `ceil(log2(d+1))` (+1 for a non-integer Chebyshev slope) | caller's `out_scale`, exactly | [`poly::Polynomial::mul_count`], about `2 sqrt(d) + log2 d` | 0 |
//! | [`lintrans::LinearTransform::apply`] | 1 | the input's, exactly (or chosen via `encode_at_scale`) | 0 (`#diagonals` plaintext products) | [`lintrans::LinearTransform::rotation_counts`]: one hoisted batch + giant steps |
//!
//! Neither ever calls `set_scale` or meets a scale mismatch, and both count
//! the same operations on both engines, so costs measured on
//! [`crate::slots::SlotSim`] are what CKKS pays.

pub mod lintrans;
pub mod poly;
