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
//! # Key limbs
//!
//! The `a` parts of switching keys use [`expand_key_limb`] instead, so that any one limb
//! of any one digit can be expanded on its own, during the key switch that needs it
//! (keys are then held as `b` and the seed only). Also part of the wire format, never
//! to change:
//!
//! 1. the keystream is ChaCha12 (6 double rounds; Bernstein's layout with a 64-bit
//!    block counter from 0 and a 64-bit nonce) keyed by the seed (eight little-endian
//!    32-bit words) with nonce [`key_limb_stream`]`(digit, limb)`, `limb` the index of
//!    the prime in the context (Q primes, then P primes);
//! 2. its blocks are taken in groups of 16 (counters `16 g .. 16 g + 16`), each group
//!    read word-major (word `i` of each of the 16 blocks, then word `i + 1`; see
//!    `hetal_simd::chacha`), and consecutive pairs of words form `v = lo | hi << 32`;
//! 3. `v & (2^bits(q) - 1)` is kept when below `q`, otherwise dropped; the kept values
//!    are the limb's coefficients in order.
//!
//! ChaCha12 keeps a wide margin over the best known attacks (7 rounds) and costs about
//! 0.2 ms per 2^16-coefficient limb with AVX-512, below the inner product it feeds.
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
use hetal_simd::Kernels;
use hetal_simd::chacha::GROUP_WORDS;
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

/// Double rounds of the key-limb keystream (ChaCha12).
pub const KEY_DOUBLE_ROUNDS: u32 = 6;

/// The nonce of limb `limb` (index in the context: Q primes then P primes) of digit
/// `digit` of a switching key's `a` part.
pub fn key_limb_stream(digit: usize, limb: usize) -> u64 {
    ((digit as u64) << 32) | limb as u64
}

/// The 256-bit ChaCha key of a seed.
fn key_words(seed: &Seed) -> [u32; 8] {
    let mut k = [0u32; 8];
    for (w, c) in k.iter_mut().zip(seed.chunks_exact(4)) {
        *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    k
}

/// Expands one key limb uniform modulo `q` from `(seed, stream)` as the module docs
/// specify (the values denote NTT-form residues).
///
/// ```
/// use hetal_core::math::{Modulus, seed::{expand_key_limb, key_limb_stream}};
/// let k = hetal_simd::Kernels::best();
/// let q = Modulus::new(12289).unwrap();
/// let (mut a, mut b) = (vec![0u64; 64], vec![0u64; 64]);
/// expand_key_limb(&k, &[3; 32], key_limb_stream(1, 2), &q, &mut a);
/// expand_key_limb(&k, &[3; 32], key_limb_stream(1, 2), &q, &mut b);
/// assert_eq!(a, b);
/// assert!(a.iter().all(|&x| x < 12289));
/// expand_key_limb(&k, &[3; 32], key_limb_stream(2, 1), &q, &mut b);
/// assert_ne!(a, b);
/// ```
pub fn expand_key_limb(k: &Kernels, seed: &Seed, stream: u64, q: &Modulus, out: &mut [u64]) {
    let key = key_words(seed);
    let qv = q.value();
    let mask = u64::MAX >> (qv - 1).leading_zeros().min(63);
    // Four groups (4 KB) per kernel call: long enough for the SIMD code, small enough
    // to stay in L1 next to the limb being written.
    let mut buf = [0u32; 4 * GROUP_WORDS];
    let (len, mut filled, mut counter) = (out.len(), 0usize, 0u64);
    while filled < len {
        k.chacha_groups(&key, stream, counter, KEY_DOUBLE_ROUNDS, &mut buf);
        counter += 4 * 16;
        filled += k.sample_below(&buf, mask, qv, &mut out[filled..]);
    }
}
