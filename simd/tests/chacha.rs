//! The ChaCha keystream kernel: the scalar block function against the published
//! all-zero ChaCha20 keystream and against `rand_chacha` (same block layout: 64-bit
//! counter, 64-bit nonce), and every backend against the scalar groups bit for bit,
//! including a low counter word that wraps inside a group.

use hetal_simd::chacha::{GROUP_WORDS, block, groups};
use hetal_simd::{Backend, Kernels};
use rand_chacha::{ChaCha8Rng, ChaCha12Rng, ChaCha20Rng};
use rand_core::{RngCore, SeedableRng};

#[test]
fn zero_key_chacha20_block() {
    // First 16 bytes of the ChaCha20 keystream for the all-zero key and nonce.
    let want = [0xade0b876u32, 0x903df1a0, 0xe56a5d40, 0x28bd8653];
    assert_eq!(&block(&[0; 8], 0, 0, 10)[..4], &want);
}

fn key_words(seed: &[u8; 32]) -> [u32; 8] {
    let mut k = [0u32; 8];
    for (w, c) in k.iter_mut().zip(seed.chunks_exact(4)) {
        *w = u32::from_le_bytes(c.try_into().unwrap());
    }
    k
}

#[test]
fn scalar_matches_rand_chacha() {
    let seed: [u8; 32] = core::array::from_fn(|i| (i * 37 + 5) as u8);
    let key = key_words(&seed);
    for (dr, stream) in [(4u32, 3u64), (6, 1 << 40), (10, u64::MAX)] {
        let mut want = [0u32; 16 * 20];
        match dr {
            4 => {
                let mut r = ChaCha8Rng::from_seed(seed);
                r.set_stream(stream);
                want.iter_mut().for_each(|w| *w = r.next_u32());
            }
            6 => {
                let mut r = ChaCha12Rng::from_seed(seed);
                r.set_stream(stream);
                want.iter_mut().for_each(|w| *w = r.next_u32());
            }
            _ => {
                let mut r = ChaCha20Rng::from_seed(seed);
                r.set_stream(stream);
                want.iter_mut().for_each(|w| *w = r.next_u32());
            }
        }
        for b in 0..20 {
            assert_eq!(
                block(&key, stream, b as u64, dr),
                want[16 * b..16 * b + 16],
                "{dr} double rounds, block {b}"
            );
        }
    }
}

#[test]
fn backends_match_scalar() {
    let key = [0x0123_4567, 0x89ab_cdef, 7, 8, 9, 10, 11, u32::MAX];
    for backend in Backend::ALL {
        let Some(k) = Kernels::new(backend) else {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "skipped {}", backend.name());
            continue;
        };
        for (nonce, counter, dr) in [
            (0u64, 0u64, 4u32),
            (5, 1000, 6),
            (u64::MAX, (1u64 << 32) - 7, 10),
            (1 << 33, u64::MAX - 20, 6),
        ] {
            let mut want = vec![0u32; 3 * GROUP_WORDS];
            let mut got = vec![1u32; 3 * GROUP_WORDS];
            groups(&key, nonce, counter, dr, &mut want);
            k.chacha_groups(&key, nonce, counter, dr, &mut got);
            assert_eq!(
                got,
                want,
                "{} nonce {nonce} counter {counter}",
                backend.name()
            );
        }
    }
}
