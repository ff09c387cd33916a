//! hetal-core: CKKS and HETAL encrypted transfer learning, `no_std` + `alloc`.
#![no_std]
extern crate alloc;

pub use hetal_simd as simd;

pub mod boot;
pub mod circuits;
pub mod ckks;
pub mod codec;
pub mod exec;
pub mod hetal;
pub mod linalg;
pub mod math;
pub mod ring;
pub mod rlwe;
pub mod slots;
