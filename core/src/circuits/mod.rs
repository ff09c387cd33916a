//! Circuits written once against [`crate::slots::SlotOps`], so they run on the
//! simulator and on CKKS alike: polynomial evaluation ([`poly`]) and
//! plaintext-diagonal linear transforms ([`lintrans`]).
//!
//! Layering (as Lattigo's `circuits` above `ckks`): `ckks` -> `slots` (the
//! trait, the simulator, the CKKS engine) -> `circuits` -> `boot` -> `linalg`
//! -> `hetal`.

pub mod lintrans;
pub mod poly;
