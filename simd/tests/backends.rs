//! Every backend in `Backend::ALL` against the scalar reference, kernel by kernel,
//! bit for bit, on random inputs mixed with the edge values `0` and `q - 1`:
//!
//! * element-wise kernels on random lengths (most not a multiple of any vector width);
//! * `permute` and `automorphism_coeff`;
//! * forward and inverse NTTs for N = 2^10 .. 2^17 with, for each N, the largest
//!   NTT-friendly prime below 2^20, 2^30, 2^40, 2^50, 2^52, 2^60, 2^61 (the AVX2 NTT
//!   switches lazy bounds at 2^61) and 2^62, and the round trip INTT(NTT(x)) = x.
//!
//! One `#[test]` per backend. A backend that is not compiled in or that this CPU lacks
//! prints `skipped <backend>: <reason>` and returns without checking anything.

/// Reports a skipped backend on stderr directly: libtest captures `println!` and
/// `eprintln!` of passing tests, and a skip must never pass silently.
macro_rules! skip_note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use hetal_simd::{Backend, Kernels, ModulusConsts, NttTable, ShoupConst, fill_table, table_len};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::LazyLock;

// ---------------------------------------------------------------------------------
// Primes and tables
// ---------------------------------------------------------------------------------

fn mul_mod(a: u64, b: u64, q: u64) -> u64 {
    (a as u128 * b as u128 % q as u128) as u64
}

fn pow_mod(mut b: u64, mut e: u64, q: u64) -> u64 {
    let mut r = 1u64;
    b %= q;
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, b, q);
        }
        b = mul_mod(b, b, q);
        e >>= 1;
    }
    r
}

/// Deterministic Miller-Rabin: these bases decide every `u64`.
fn is_prime(n: u64) -> bool {
    if n < 2 || n.is_multiple_of(2) {
        return n == 2;
    }
    let (mut d, mut s) = (n - 1, 0);
    while d.is_multiple_of(2) {
        d /= 2;
        s += 1;
    }
    [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
        .iter()
        .all(|&a| {
            if a % n == 0 {
                return true;
            }
            let mut x = pow_mod(a, d, n);
            if x == 1 || x == n - 1 {
                return true;
            }
            (1..s).any(|_| {
                x = mul_mod(x, x, n);
                x == n - 1
            })
        })
}

/// The largest prime below `2^bits` that is 1 mod `step` (`step` even).
fn prime_below(bits: u32, step: u64) -> u64 {
    let mut p = ((1u64 << bits) - 1) / step * step + 1;
    while !is_prime(p) {
        p -= step;
    }
    p
}

/// Bit sizes whose top NTT-friendly prime is tested for every N.
const PRIME_BITS: [u32; 8] = [20, 30, 40, 50, 52, 60, 61, 62];
const LOG_N: std::ops::RangeInclusive<u32> = 10..=17;

/// A primitive `2n`-th root of unity modulo the prime `q = 1 mod 2n`.
fn root(q: u64, n: usize) -> u64 {
    (2..q)
        .map(|g| pow_mod(g, (q - 1) / (2 * n as u64), q))
        .find(|&r| pow_mod(r, n as u64, q) == q - 1)
        .expect("q = 1 mod 2n has a primitive 2n-th root")
}

struct Table {
    q: u64,
    n: usize,
    buf: Vec<u64>,
}

impl Table {
    fn view(&self) -> NttTable<'_> {
        NttTable::new(self.q, self.n, &self.buf).unwrap()
    }
}

/// Every (N, prime) table the NTT checks use, built once and shared by the tests.
static TABLES: LazyLock<Vec<Table>> = LazyLock::new(|| {
    let mut tables = Vec::new();
    for log_n in LOG_N {
        let n = 1usize << log_n;
        for bits in PRIME_BITS {
            let q = prime_below(bits, 2 * n as u64);
            let mut buf = vec![0; table_len(n)];
            fill_table(q, root(q, n), n, &mut buf).unwrap();
            tables.push(Table { q, n, buf });
        }
    }
    tables
});

/// Moduli for the element-wise kernels: the top NTT primes for N = 2^10, the smallest
/// odd modulus, and non-NTT primes just below 2^32 and 2^62.
static MODULI: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut qs: Vec<u64> = PRIME_BITS.iter().map(|&b| prime_below(b, 2048)).collect();
    qs.extend([3, prime_below(32, 2), prime_below(62, 2)]);
    qs
});

// ---------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------

/// A value below `q` from a raw word and a selector: a quarter are `0`, a quarter
/// `q - 1`, the rest uniform-ish.
fn below_q(raw: u64, sel: u8, q: u64) -> u64 {
    match sel % 4 {
        0 => 0,
        1 => q - 1,
        _ => raw % q,
    }
}

/// Any `u64`, with the edges `0`, `q - 1`, `q`, `2q - 1` and `u64::MAX` over-represented.
fn any_word(raw: u64, sel: u8, q: u64) -> u64 {
    match sel % 8 {
        0 => 0,
        1 => q - 1,
        2 => q,
        3 => 2 * q - 1,
        4 => u64::MAX,
        _ => raw,
    }
}

/// SplitMix64, for the long NTT inputs (proptest draws the seed).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `n` values below `q`: uniform (mode 0), mixed with `0` and `q - 1` (mode 1), or all
/// `q - 1` (mode 2).
fn ntt_input(seed: u64, mode: u8, n: usize, q: u64) -> Vec<u64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            let r = splitmix(&mut s);
            match mode {
                0 => r % q,
                1 => below_q(r >> 8, r as u8, q),
                _ => q - 1,
            }
        })
        .collect()
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn fail(name: &str, r: Result<(), proptest::test_runner::TestError<impl std::fmt::Debug>>) {
    if let Err(e) = r {
        panic!("{name}: {e}");
    }
}

// ---------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------

/// Runs `f` with the scalar kernels and with `k` on copies of `init`; both must agree
/// word for word (a mismatch reports the first differing index, not whole NTTs).
fn same(
    what: &str,
    k: Kernels,
    q: u64,
    init: &[u64],
    f: impl Fn(Kernels, &mut Vec<u64>),
) -> Result<(), TestCaseError> {
    let (mut want, mut got) = (init.to_vec(), init.to_vec());
    f(Kernels::scalar(), &mut want);
    f(k, &mut got);
    if let Some(i) = (0..want.len()).find(|&i| got[i] != want[i]) {
        let len = want.len();
        let input = init[i];
        return Err(TestCaseError::fail(format!(
            "{what} ({}) q={q} len={len}: index {i}: got {} want {} (input there {input})",
            k.backend().name(),
            got[i],
            want[i],
        )));
    }
    prop_assert_eq!(got.len(), want.len());
    Ok(())
}

type Words = Vec<(u64, u64, u64, u8)>;

fn check_elementwise(k: Kernels) {
    let strategy = (
        0..MODULI.len(),
        prop::collection::vec(any::<(u64, u64, u64, u8)>(), 0..260),
        any::<(u64, u8)>(),
    );
    let r = runner(256).run(&strategy, |(qi, words, (cw, csel)): (usize, Words, _)| {
        let q = MODULI[qi];
        let m = ModulusConsts::new(q).unwrap();
        let c: ShoupConst = m.shoup(match csel % 4 {
            0 => 0,
            1 => 1,
            2 => q - 1,
            _ => cw % q,
        });
        let a: Vec<u64> = words.iter().map(|w| below_q(w.0, w.3, q)).collect();
        let b: Vec<u64> = words.iter().map(|w| below_q(w.1, w.3 >> 2, q)).collect();
        let acc: Vec<u64> = words.iter().map(|w| below_q(w.2, w.3 >> 4, q)).collect();
        let wide: Vec<u64> = words.iter().map(|w| any_word(w.1, w.3 >> 3, q)).collect();
        let lazy: Vec<u64> = words
            .iter()
            .map(|w| match w.3 % 5 {
                0 => 0,
                1 => q - 1,
                2 => q,
                3 => 2 * q - 1,
                _ => w.2 % (2 * q),
            })
            .collect();
        same("add_assign", k, q, &a, |k, x| k.add_assign(x, &b, q))?;
        same("sub_assign", k, q, &a, |k, x| k.sub_assign(x, &b, q))?;
        same("neg_assign", k, q, &a, |k, x| k.neg_assign(x, q))?;
        same("mul_assign", k, q, &a, |k, x| k.mul_assign(x, &b, &m))?;
        same("mul_add_assign", k, q, &acc, |k, x| {
            k.mul_add_assign(x, &a, &b, &m)
        })?;
        same("mul_scalar_assign", k, q, &wide, |k, x| {
            k.mul_scalar_assign(x, &c, q)
        })?;
        same("mul_scalar_add_assign", k, q, &acc, |k, x| {
            k.mul_scalar_add_assign(x, &wide, &c, q)
        })?;
        same("reduce_assign", k, q, &wide, |k, x| k.reduce_assign(x, &m))?;
        same("reduce_from_2q", k, q, &lazy, |k, x| k.reduce_from_2q(x, q))?;
        Ok(())
    });
    fail("element-wise kernels", r);
}

fn check_permute(k: Kernels) {
    let strategy = (
        prop::collection::vec(any::<u64>(), 1..300),
        prop::collection::vec(any::<u32>(), 0..300),
    );
    let r = runner(256).run(&strategy, |(a, raw_perm)| {
        let perm: Vec<u32> = raw_perm.iter().map(|&p| p % a.len() as u32).collect();
        same("permute", k, 0, &vec![0; perm.len()], |k, out| {
            k.permute(&a, &perm, out)
        })
    });
    fail("permute", r);
}

fn check_automorphism(k: Kernels) {
    let strategy = (0..MODULI.len(), 1u32..=12, any::<usize>(), any::<u64>());
    let r = runner(256).run(&strategy, |(qi, log_n, g, seed)| {
        let q = MODULI[qi];
        let n = 1usize << log_n;
        // Odd and sometimes beyond 2n (the kernel reduces it).
        let g = (g % (8 * n)) | 1;
        let a = ntt_input(seed, (seed % 3) as u8, n, q);
        same("automorphism_coeff", k, q, &vec![0u64; n], |k, out| {
            k.automorphism_coeff(&a, g, out, q)
        })
    });
    fail("automorphism_coeff", r);
}

/// Forward and inverse NTT against scalar, and the backend's own round trip, for
/// every tested (N, prime). Cases per pair shrink with N to keep the file fast.
fn check_ntt(k: Kernels) {
    for t in TABLES.iter() {
        let table = t.view();
        let (q, n) = (t.q, t.n);
        let cases = ((1u32 << 17) / n as u32).clamp(2, 32);
        let r = runner(cases).run(&(any::<u64>(), 0u8..3), |(seed, mode)| {
            let x = ntt_input(seed, mode, n, q);
            let y = ntt_input(seed ^ 0x5555, (mode + 1) % 3, n, q);
            let fwd = |k: Kernels, v: &mut Vec<u64>| k.ntt_forward(&table, v);
            let inv = |k: Kernels, v: &mut Vec<u64>| k.ntt_inverse(&table, v);
            same("ntt_forward", k, q, &x, fwd)?;
            same("ntt_inverse", k, q, &y, inv)?;
            let mut z = x.clone();
            k.ntt_forward(&table, &mut z);
            k.ntt_inverse(&table, &mut z);
            prop_assert!(z == x, "INTT(NTT(x)) != x, q={} n={}", q, n);
            Ok(())
        });
        fail(&format!("ntt n={n} q={q}"), r);
    }
}

fn refs(v: &[Vec<u64>]) -> Vec<&[u64]> {
    v.iter().map(|x| x.as_slice()).collect()
}

/// The lazy dot products (`dot_product`, `dot_product2`, `dot_scalar`) against the
/// scalar reference: 1 to 40 terms (both sides of every lazy-reduction threshold),
/// edge values `0` and `q - 1`, and for `dot_scalar` inputs of any size (some above
/// 2^52, which the IFMA kernel must route to its 64-bit fallback).
fn check_dot(k: Kernels) {
    let strategy = (0..MODULI.len(), 1usize..40, 0usize..70, any::<u64>());
    let r = runner(192).run(&strategy, |(qi, terms, len, seed)| {
        let q = MODULI[qi];
        let m = ModulusConsts::new(q).unwrap();
        let mut st = seed;
        let mut limbs = |wide: bool| -> Vec<Vec<u64>> {
            (0..terms)
                .map(|_| {
                    (0..len)
                        .map(|_| {
                            let r = splitmix(&mut st);
                            if wide {
                                any_word(r >> 8, r as u8, q)
                            } else {
                                below_q(r >> 8, r as u8, q)
                            }
                        })
                        .collect()
                })
                .collect()
        };
        let (a, b0, b1, w) = (limbs(false), limbs(false), limbs(false), limbs(true));
        let (ra, rb0, rb1, rw) = (refs(&a), refs(&b0), refs(&b1), refs(&w));
        let consts: Vec<ShoupConst> = (0..terms)
            .map(|j| m.shoup(below_q(splitmix(&mut st), j as u8, q)))
            .collect();
        let zeros = vec![0u64; len];
        same("dot_product", k, q, &zeros, |k, x| {
            k.dot_product(x, &ra, &rb0, &m)
        })?;
        same("dot_scalar", k, q, &zeros, |k, x| {
            k.dot_scalar(x, &rw, &consts, q)
        })?;
        same("dot_scalar (inputs < q)", k, q, &zeros, |k, x| {
            k.dot_scalar(x, &ra, &consts, q)
        })?;
        let (mut w0, mut w1) = (zeros.clone(), zeros.clone());
        Kernels::scalar().dot_product2(&mut w0, &mut w1, &ra, &rb0, &rb1, &m);
        let (mut g0, mut g1) = (zeros.clone(), zeros.clone());
        k.dot_product2(&mut g0, &mut g1, &ra, &rb0, &rb1, &m);
        prop_assert!(
            g0 == w0 && g1 == w1,
            "dot_product2 q={} terms={} len={}",
            q,
            terms,
            len
        );
        Ok(())
    });
    fail("dot products", r);
}

/// Rejection sampling (`sample_below`) against the scalar reference: random words,
/// masks and primes of every size tested, output lengths shorter and longer than the
/// accepted values, and the same count returned.
fn check_sample_below(k: Kernels) {
    let strategy = (0..MODULI.len(), 0usize..300, 0usize..200, any::<u64>());
    let r = runner(192).run(&strategy, |(qi, words, len, seed)| {
        let q = MODULI[qi];
        let mask = u64::MAX >> (q - 1).leading_zeros().min(63);
        let mut st = seed;
        let w: Vec<u32> = (0..words).map(|_| splitmix(&mut st) as u32).collect();
        let (mut want, mut got) = (vec![7u64; len], vec![7u64; len]);
        let nw = Kernels::scalar().sample_below(&w, mask, q, &mut want);
        let ng = k.sample_below(&w, mask, q, &mut got);
        prop_assert!(
            nw == ng && want[..nw] == got[..ng],
            "sample_below q={} words={} len={}",
            q,
            words,
            len
        );
        Ok(())
    });
    fail("sample_below", r);
}

/// All checks for one backend, or a visible skip.
fn check_backend(b: Backend) {
    if let Some(reason) = b.unsupported_reason() {
        skip_note!("skipped {}: {reason}", b.name());
        return;
    }
    let k = Kernels::new(b).expect("a supported backend has kernels");
    assert_eq!(k.backend(), b);
    check_elementwise(k);
    check_dot(k);
    check_sample_below(k);
    check_permute(k);
    check_automorphism(k);
    check_ntt(k);
}

// ---------------------------------------------------------------------------------
// One test per backend
// ---------------------------------------------------------------------------------

/// The backends with a test below; `tests_cover_every_backend` keeps it in sync.
const TESTED: [Backend; 5] = [
    Backend::Scalar,
    Backend::Neon,
    Backend::Avx2,
    Backend::Avx512,
    Backend::Avx512Ifma,
];

#[test]
fn tests_cover_every_backend() {
    for b in Backend::ALL {
        assert!(TESTED.contains(&b), "backend {} has no test", b.name());
    }
}

#[test]
fn table_primes_are_ntt_friendly_and_top_of_class() {
    for t in TABLES.iter() {
        let step = 2 * t.n as u64;
        assert!(is_prime(t.q) && t.q % step == 1);
        let bits = 64 - t.q.leading_zeros();
        assert!(PRIME_BITS.contains(&bits), "q={} has {bits} bits", t.q);
        // No NTT-friendly prime between q and 2^bits.
        let mut p = t.q + step;
        while p < 1u64 << bits {
            assert!(!is_prime(p), "{p} is a larger NTT prime than {}", t.q);
            p += step;
        }
    }
}

/// The scalar reference itself: its round trip (it is the reference for the rest).
#[test]
fn scalar() {
    let k = Kernels::scalar();
    for t in TABLES.iter() {
        let table = t.view();
        let x = ntt_input(t.q ^ t.n as u64, 1, t.n, t.q);
        let mut z = x.clone();
        k.ntt_forward(&table, &mut z);
        assert_ne!(z, x, "NTT of a non-constant input is not the identity");
        k.ntt_inverse(&table, &mut z);
        assert_eq!(z, x, "scalar INTT(NTT(x)) != x, q={} n={}", t.q, t.n);
    }
}

/// On aarch64 the NEON backend must really run (not be skipped) in CI under qemu.
#[cfg(target_arch = "aarch64")]
#[test]
fn neon_is_exercised_on_aarch64() {
    assert_eq!(Backend::Neon.unsupported_reason(), None);
}

#[test]
fn neon() {
    check_backend(Backend::Neon);
}

#[test]
fn avx2() {
    check_backend(Backend::Avx2);
}

#[test]
fn avx512() {
    check_backend(Backend::Avx512);
}

#[test]
fn avx512ifma() {
    check_backend(Backend::Avx512Ifma);
}
