//! CKKS: approximate arithmetic on encrypted complex vectors.
//!
//! So far: the 128-bit security table ([`security`]), the canonical
//! embedding encoder ([`encoder`]) and the small complex type it uses
//! ([`complex`]).

pub mod complex;
pub mod encoder;
pub mod evaluator;
pub mod params;
pub mod scheme;
pub mod security;

pub use evaluator::{Evaluator, OpCounts};
pub use params::{Params, ParamsError};
pub use scheme::{
    Ciphertext, CkksContext, CkksError, EvaluationKeys, KeyId, KeySpec, Plaintext, StoragePolicy,
};
