//! ChaCha keystream in groups of 16 blocks, for expanding the uniform parts of keys
//! from a seed at the speed of the inner product that consumes them.
//!
//! The block function is Bernstein's original ChaCha (state words 12-13: 64-bit block
//! counter, 14-15: 64-bit nonce, as in `rand_chacha`) with a chosen number of double
//! rounds. The output order is what lets SIMD code skip the transpose: a group of 16
//! blocks with counters `c, c+1, .., c+15` is written word-major,
//! `out[16 i + b] = word i of block c + b`. Every backend gives exactly the scalar
//! result (tested in `tests/backends.rs`).

/// Words per group (16 blocks of 16 words).
pub const GROUP_WORDS: usize = 256;

const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

#[inline(always)]
fn quarter(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(16);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(12);
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(8);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(7);
}

fn initial_state(key: &[u32; 8], nonce: u64, counter: u64) -> [u32; 16] {
    let mut s = [0u32; 16];
    s[..4].copy_from_slice(&SIGMA);
    s[4..12].copy_from_slice(key);
    s[12] = counter as u32;
    s[13] = (counter >> 32) as u32;
    s[14] = nonce as u32;
    s[15] = (nonce >> 32) as u32;
    s
}

/// One ChaCha block (`double_rounds` double rounds) in natural word order.
pub fn block(key: &[u32; 8], nonce: u64, counter: u64, double_rounds: u32) -> [u32; 16] {
    let s = initial_state(key, nonce, counter);
    let mut x = s;
    for _ in 0..double_rounds {
        quarter(&mut x, 0, 4, 8, 12);
        quarter(&mut x, 1, 5, 9, 13);
        quarter(&mut x, 2, 6, 10, 14);
        quarter(&mut x, 3, 7, 11, 15);
        quarter(&mut x, 0, 5, 10, 15);
        quarter(&mut x, 1, 6, 11, 12);
        quarter(&mut x, 2, 7, 8, 13);
        quarter(&mut x, 3, 4, 9, 14);
    }
    for (o, v) in x.iter_mut().zip(s) {
        *o = o.wrapping_add(v);
    }
    x
}

/// Scalar reference: `out.len() / GROUP_WORDS` groups, the first with block counter
/// `counter`, in the word-major group order of the module docs.
pub fn groups(key: &[u32; 8], nonce: u64, counter: u64, double_rounds: u32, out: &mut [u32]) {
    for (g, chunk) in out.chunks_exact_mut(GROUP_WORDS).enumerate() {
        for b in 0..16 {
            let c = counter.wrapping_add((16 * g + b) as u64);
            let x = block(key, nonce, c, double_rounds);
            for (i, &w) in x.iter().enumerate() {
                chunk[16 * i + b] = w;
            }
        }
    }
}

/// AVX-512: one block per 32-bit lane, 16 blocks per group.
#[cfg(all(feature = "avx512", target_arch = "x86_64", target_feature = "sse2"))]
pub mod avx512 {
    use super::{GROUP_WORDS, initial_state};
    use core::arch::x86_64::*;

    /// [`super::groups`] with AVX-512F.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub fn groups(key: &[u32; 8], nonce: u64, counter: u64, double_rounds: u32, out: &mut [u32]) {
        let s = initial_state(key, nonce, counter);
        let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (g, chunk) in out.chunks_exact_mut(GROUP_WORDS).enumerate() {
            let c = counter.wrapping_add(16 * g as u64);
            let lo0 = _mm512_set1_epi32(c as u32 as i32);
            let lo = _mm512_add_epi32(lo0, lanes);
            // Carry into the high counter word where the low word wrapped.
            let carry = _mm512_cmplt_epu32_mask(lo, lo0);
            let hi0 = _mm512_set1_epi32((c >> 32) as u32 as i32);
            let hi = _mm512_mask_add_epi32(hi0, carry, hi0, _mm512_set1_epi32(1));
            let mut init = [_mm512_setzero_si512(); 16];
            for (i, v) in init.iter_mut().enumerate() {
                *v = _mm512_set1_epi32(s[i] as i32);
            }
            init[12] = lo;
            init[13] = hi;
            let mut x = init;
            macro_rules! qr {
                ($a:expr, $b:expr, $c:expr, $d:expr) => {
                    x[$a] = _mm512_add_epi32(x[$a], x[$b]);
                    x[$d] = _mm512_rol_epi32::<16>(_mm512_xor_si512(x[$d], x[$a]));
                    x[$c] = _mm512_add_epi32(x[$c], x[$d]);
                    x[$b] = _mm512_rol_epi32::<12>(_mm512_xor_si512(x[$b], x[$c]));
                    x[$a] = _mm512_add_epi32(x[$a], x[$b]);
                    x[$d] = _mm512_rol_epi32::<8>(_mm512_xor_si512(x[$d], x[$a]));
                    x[$c] = _mm512_add_epi32(x[$c], x[$d]);
                    x[$b] = _mm512_rol_epi32::<7>(_mm512_xor_si512(x[$b], x[$c]));
                };
            }
            for _ in 0..double_rounds {
                qr!(0, 4, 8, 12);
                qr!(1, 5, 9, 13);
                qr!(2, 6, 10, 14);
                qr!(3, 7, 11, 15);
                qr!(0, 5, 10, 15);
                qr!(1, 6, 11, 12);
                qr!(2, 7, 8, 13);
                qr!(3, 4, 9, 14);
            }
            for i in 0..16 {
                let v = _mm512_add_epi32(x[i], init[i]);
                // SAFETY: `chunk` has 256 words, so words 16 i .. 16 i + 16 are in bounds.
                unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().add(16 * i).cast(), v) };
            }
        }
    }
}

/// AVX2: one block per 32-bit lane, two halves of 8 blocks per group.
#[cfg(all(feature = "avx2", target_arch = "x86_64", target_feature = "sse2"))]
pub mod avx2 {
    use super::{GROUP_WORDS, initial_state};
    use core::arch::x86_64::*;

    #[inline]
    #[target_feature(enable = "avx2")]
    fn rol<const L: i32, const R: i32>(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi32::<L>(x), _mm256_srli_epi32::<R>(x))
    }

    /// [`super::groups`] with AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub fn groups(key: &[u32; 8], nonce: u64, counter: u64, double_rounds: u32, out: &mut [u32]) {
        let s = initial_state(key, nonce, counter);
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let bias = _mm256_set1_epi32(i32::MIN);
        for (g, chunk) in out.chunks_exact_mut(GROUP_WORDS).enumerate() {
            for half in 0..2 {
                let c = counter.wrapping_add((16 * g + 8 * half) as u64);
                let lo0 = _mm256_set1_epi32(c as u32 as i32);
                let lo = _mm256_add_epi32(lo0, lanes);
                // Unsigned lo < lo0 (a wrap) as a signed compare of biased values: -1 there.
                let wrapped =
                    _mm256_cmpgt_epi32(_mm256_xor_si256(lo0, bias), _mm256_xor_si256(lo, bias));
                let hi = _mm256_sub_epi32(_mm256_set1_epi32((c >> 32) as u32 as i32), wrapped);
                let mut init = [_mm256_setzero_si256(); 16];
                for (i, v) in init.iter_mut().enumerate() {
                    *v = _mm256_set1_epi32(s[i] as i32);
                }
                init[12] = lo;
                init[13] = hi;
                let mut x = init;
                macro_rules! qr {
                    ($a:expr, $b:expr, $c:expr, $d:expr) => {
                        x[$a] = _mm256_add_epi32(x[$a], x[$b]);
                        x[$d] = rol::<16, 16>(_mm256_xor_si256(x[$d], x[$a]));
                        x[$c] = _mm256_add_epi32(x[$c], x[$d]);
                        x[$b] = rol::<12, 20>(_mm256_xor_si256(x[$b], x[$c]));
                        x[$a] = _mm256_add_epi32(x[$a], x[$b]);
                        x[$d] = rol::<8, 24>(_mm256_xor_si256(x[$d], x[$a]));
                        x[$c] = _mm256_add_epi32(x[$c], x[$d]);
                        x[$b] = rol::<7, 25>(_mm256_xor_si256(x[$b], x[$c]));
                    };
                }
                for _ in 0..double_rounds {
                    qr!(0, 4, 8, 12);
                    qr!(1, 5, 9, 13);
                    qr!(2, 6, 10, 14);
                    qr!(3, 7, 11, 15);
                    qr!(0, 5, 10, 15);
                    qr!(1, 6, 11, 12);
                    qr!(2, 7, 8, 13);
                    qr!(3, 4, 9, 14);
                }
                for i in 0..16 {
                    let v = _mm256_add_epi32(x[i], init[i]);
                    // SAFETY: `chunk` has 256 words; 16 i + 8 half + 8 <= 256.
                    unsafe {
                        _mm256_storeu_si256(chunk.as_mut_ptr().add(16 * i + 8 * half).cast(), v)
                    };
                }
            }
        }
    }
}
