//! Deterministic expansion of a 32-byte seed into uniform polynomials.
//!
//! Keys are stored and sent as seeds for their uniform parts, so the expansion is part
//! of the wire format. The exact stream, which must never change:
//!
//! 1. `rng = rand_chacha::ChaCha20Rng::from_seed(seed)`, then `rng.set_stream(stream)`
//!    (ChaCha20 with a 64-bit block counter starting at 0 and the 64-bit stream id as
//!    nonce, as implemented by rand_chacha 0.9);
//! 2. for each limb `i` in basis order, for each coefficient `j = 0..n` in order:
//!    draw `v = rng.next_u64() & (2^bits(q_i) - 1)` (two consecutive little-endian 32-bit
//!    keystream words, low word first) until `v < q_i`; that `v` is coefficient `j` of
//!    limb `i`, stored at `out[i * n + j]`.
//!
//! The values are uniform modulo each prime; callers decide which form they denote
//! (usually the NTT form directly, saving a transform). A prefix of the basis expands to
//! the same limbs as the full basis.
//!
//! ```
//! use hetal_core::math::{Modulus, seed::expand_uniform};
//! let moduli = [Modulus::new(12289).unwrap(), Modulus::new(65537).unwrap()];
//! let mut a = vec![0u64; 2 * 16];
//! let mut b = vec![0u64; 2 * 16];
//! expand_uniform(&[1; 32], 0, &moduli, &mut a).unwrap();
//! expand_uniform(&[1; 32], 0, &moduli, &mut b).unwrap();
//! assert_eq!(a, b);
//! expand_uniform(&[1; 32], 1, &moduli, &mut b).unwrap();
//! assert_ne!(a, b);
//! ```

use super::sampler::fill_uniform_rns;
use super::{MathError, Modulus};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Length of a seed in bytes.
pub const SEED_LEN: usize = 32;

/// A seed for [`expand_uniform`].
pub type Seed = [u8; SEED_LEN];

/// Expands `(seed, stream)` into a limb-major polynomial uniform modulo each prime of
/// `moduli` (`out.len() = moduli.len() * n`), in the stream order of the module docs.
/// Different `stream` ids give independent polynomials from one seed.
pub fn expand_uniform(
    seed: &Seed,
    stream: u64,
    moduli: &[Modulus],
    out: &mut [u64],
) -> Result<(), MathError> {
    let mut rng = ChaCha20Rng::from_seed(*seed);
    rng.set_stream(stream);
    fill_uniform_rns(&mut rng, moduli, out)
}
