//! The AVX-512 and AVX-512 IFMA backends against the scalar reference on edge inputs:
//! every NTT size 2^1..2^17 for primes of ~30, ~40, ~50 (IFMA) and ~62 bits, and the
//! pointwise kernels on lengths 0..40 (plus longer ones) with all-zero, all-(q-1),
//! alternating and random inputs. A backend this CPU lacks is reported as skipped.

/// Reports a skipped backend on stderr directly: libtest captures `println!` and
/// `eprintln!` of passing tests, and a skip must never pass silently.
macro_rules! skip_note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use hetal_simd::{
    Backend, Kernels, ModulusConsts, NttTable, automorphism_ntt_perm, fill_table, table_len,
};

/// The AVX-512 backends this CPU runs; prints why any other one is skipped.
fn backends() -> Vec<Kernels> {
    let mut ks = Vec::new();
    for b in [Backend::Avx512, Backend::Avx512Ifma] {
        match b.unsupported_reason() {
            Some(reason) => skip_note!("skipped {}: {reason}", b.name()),
            None => ks.push(Kernels::new(b).expect("supported backend")),
        }
    }
    ks
}

fn mul_mod(a: u64, b: u64, q: u64) -> u64 {
    (a as u128 * b as u128 % q as u128) as u64
}

fn pow_mod(mut b: u64, mut e: u64, q: u64) -> u64 {
    let mut r = 1u64;
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, b, q);
        }
        b = mul_mod(b, b, q);
        e >>= 1;
    }
    r
}

fn is_prime(n: u64) -> bool {
    if n < 2 || n.is_multiple_of(2) {
        return n == 2;
    }
    let (mut d, mut s) = (n - 1, 0);
    while d % 2 == 0 {
        d /= 2;
        s += 1;
    }
    [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
        .iter()
        .all(|&a| {
            let mut x = pow_mod(a % n, d, n);
            if x == 0 || x == 1 || x == n - 1 {
                return true;
            }
            (1..s).any(|_| {
                x = mul_mod(x, x, n);
                x == n - 1
            })
        })
}

const MAX_N: u64 = 1 << 17;

/// The largest prime below `2^bits` that is 1 mod `2 * MAX_N`.
fn ntt_prime(bits: u32) -> u64 {
    let step = 2 * MAX_N;
    let mut p = ((1u64 << bits) - 1) / step * step + 1;
    while !is_prime(p) {
        p -= step;
    }
    p
}

/// A primitive `2 * MAX_N`-th root of unity modulo `q`.
fn max_root(q: u64) -> u64 {
    (2..q)
        .map(|g| pow_mod(g, (q - 1) / (2 * MAX_N), q))
        .find(|&r| pow_mod(r, MAX_N, q) == q - 1)
        .unwrap()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = self.0;
        (x ^ (x >> 29)).wrapping_mul(0xbf58476d1ce4e5b9) ^ (x >> 32)
    }
    fn below(&mut self, q: u64) -> u64 {
        ((self.next() as u128 * q as u128) >> 64) as u64
    }
}

/// Edge and random inputs below `bound`, length `n`.
fn inputs(n: usize, bound: u64, rng: &mut Rng) -> Vec<Vec<u64>> {
    vec![
        vec![0; n],
        vec![bound - 1; n],
        (0..n)
            .map(|i| if i % 2 == 0 { 0 } else { bound - 1 })
            .collect(),
        (0..n).map(|_| rng.below(bound)).collect(),
    ]
}

#[test]
fn ntt_matches_scalar_for_every_size() {
    let ks = backends();
    if ks.is_empty() {
        skip_note!("skipped: no AVX-512 backend on this CPU");
        return;
    }
    let scalar = Kernels::scalar();
    let mut rng = Rng(7);
    let primes = [30, 40, 50, 62].map(ntt_prime);
    assert!(primes[2] < 1 << 50 && primes[3] >= 1 << 50);
    for q in primes {
        let psi_max = max_root(q);
        for log_n in 1..=17u32 {
            let n = 1usize << log_n;
            let psi = pow_mod(psi_max, MAX_N / n as u64, q);
            let mut buf = vec![0; table_len(n)];
            fill_table(q, psi, n, &mut buf).unwrap();
            let t = NttTable::new(q, n, &buf).unwrap();
            for x in inputs(n, q, &mut rng) {
                let (mut want_f, mut want_i) = (x.clone(), x.clone());
                scalar.ntt_forward(&t, &mut want_f);
                scalar.ntt_inverse(&t, &mut want_i);
                for k in &ks {
                    let (mut f, mut i) = (x.clone(), x.clone());
                    k.ntt_forward(&t, &mut f);
                    k.ntt_inverse(&t, &mut i);
                    let name = k.backend().name();
                    assert!(f == want_f, "{name} forward q={q} n={n}");
                    assert!(i == want_i, "{name} inverse q={q} n={n}");
                }
            }
        }
    }
}

/// Odd moduli for the pointwise kernels: tiny, around the IFMA bound, and the largest.
fn pointwise_moduli() -> Vec<u64> {
    vec![
        3,
        12289,
        ntt_prime(30),
        ntt_prime(40),
        ntt_prime(50),
        (1 << 50) - 1,
        (1 << 50) + 1,
        (1 << 51) - 1,
        ntt_prime(62),
        (1 << 62) - 1,
    ]
}

fn lengths() -> impl Iterator<Item = usize> {
    (0..=40).chain([63, 64, 65, 1000, 4096])
}

/// Runs `f` on scalar and every backend and compares the mutated first argument.
fn check<F: Fn(&Kernels, &mut Vec<u64>)>(ks: &[Kernels], what: &str, start: &[u64], f: F) {
    let mut want = start.to_vec();
    f(&Kernels::scalar(), &mut want);
    for k in ks {
        let mut got = start.to_vec();
        f(k, &mut got);
        assert!(
            got == want,
            "{} {what} len={}: {got:?} != {want:?}",
            k.backend().name(),
            start.len()
        );
    }
}

#[test]
fn pointwise_kernels_match_scalar() {
    let ks = backends();
    if ks.is_empty() {
        skip_note!("skipped: no AVX-512 backend on this CPU");
        return;
    }
    let mut rng = Rng(11);
    for q in pointwise_moduli() {
        let m = ModulusConsts::new(q).unwrap();
        for len in lengths() {
            let reduced = inputs(len, q, &mut rng);
            let any = inputs(len, u64::MAX, &mut rng);
            let twice = inputs(len, 2 * q, &mut rng);
            let c = m.shoup(rng.below(q));
            let c_edge = m.shoup(q - 1);
            for a in &reduced {
                for b in &reduced {
                    check(&ks, "add", a, |k, x| k.add_assign(x, b, q));
                    check(&ks, "sub", a, |k, x| k.sub_assign(x, b, q));
                    check(&ks, "mul", a, |k, x| k.mul_assign(x, b, &m));
                    check(&ks, "mul_add", a, |k, x| k.mul_add_assign(x, b, a, &m));
                }
                check(&ks, "neg", a, |k, x| k.neg_assign(x, q));
                for y in &any {
                    check(&ks, "mul_scalar_add", a, |k, x| {
                        k.mul_scalar_add_assign(x, y, &c, q)
                    });
                    check(&ks, "mul_scalar_add edge", a, |k, x| {
                        k.mul_scalar_add_assign(x, y, &c_edge, q)
                    });
                }
            }
            for y in &any {
                check(&ks, "mul_scalar", y, |k, x| k.mul_scalar_assign(x, &c, q));
                check(&ks, "mul_scalar edge", y, |k, x| {
                    k.mul_scalar_assign(x, &c_edge, q)
                });
                check(&ks, "reduce", y, |k, x| k.reduce_assign(x, &m));
            }
            for y in &twice {
                check(&ks, "reduce_from_2q", y, |k, x| k.reduce_from_2q(x, q));
            }
        }
    }
}

#[test]
fn permutations_match_scalar() {
    let ks = backends();
    if ks.is_empty() {
        skip_note!("skipped: no AVX-512 backend on this CPU");
        return;
    }
    let scalar = Kernels::scalar();
    let mut rng = Rng(13);
    let q = ntt_prime(50);
    for len in lengths().filter(|&l| l > 0) {
        let a: Vec<u64> = (0..len).map(|_| rng.below(q)).collect();
        // Longer and shorter outputs than `a`, indices anywhere in `a`.
        for out_len in [len, len / 2, 2 * len + 3] {
            let perm: Vec<u32> = (0..out_len).map(|_| rng.below(len as u64) as u32).collect();
            let mut want = vec![0; out_len];
            scalar.permute(&a, &perm, &mut want);
            for k in &ks {
                let mut got = vec![0; out_len];
                k.permute(&a, &perm, &mut got);
                assert_eq!(got, want, "{} permute len={len}", k.backend().name());
            }
        }
    }
    for log_n in 1..=12u32 {
        let n = 1usize << log_n;
        let a: Vec<u64> = (0..n).map(|_| rng.below(q)).collect();
        let mut with_zeros = a.clone();
        with_zeros.iter_mut().step_by(3).for_each(|x| *x = 0);
        for g in [1, 3, 5, 2 * n - 1, 2 * n + 1, 5usize.pow(7), 25 * n + 3] {
            let g = g | 1;
            for src in [&a, &with_zeros] {
                let mut want = vec![0; n];
                scalar.automorphism_coeff(src, g, &mut want, q);
                let mut perm = vec![0u32; n];
                automorphism_ntt_perm(g, &mut perm);
                let mut want_p = vec![0; n];
                scalar.permute(src, &perm, &mut want_p);
                for k in &ks {
                    let mut got = vec![0; n];
                    k.automorphism_coeff(src, g, &mut got, q);
                    assert_eq!(got, want, "{} automorphism n={n} g={g}", k.backend().name());
                    k.permute(src, &perm, &mut got);
                    assert_eq!(got, want_p, "{} ntt perm n={n} g={g}", k.backend().name());
                }
            }
        }
    }
}

// The module `hetal_simd::avx512` only exists on x86_64 (aarch64 CI runs this file).
#[cfg(target_arch = "x86_64")]
#[test]
fn backend_permute_rejects_out_of_range_indices() {
    if let Some(reason) = Backend::Avx512.unsupported_reason() {
        skip_note!("skipped: {reason}");
        return;
    }
    let a = vec![1u64; 16];
    // The bad index sits in the vector part (first 8) and in the scalar tail.
    for bad_at in [3, 17] {
        let mut perm = vec![0u32; 20];
        perm[bad_at] = 16;
        let (a, mut out) = (a.clone(), vec![0u64; 20]);
        let r = std::panic::catch_unwind(move || {
            // SAFETY: the CPU has AVX-512 F/DQ/VL/BW (checked above).
            unsafe { hetal_simd::avx512::permute(&a, &perm, &mut out) }
        });
        assert!(r.is_err(), "index out of range at {bad_at} must panic");
    }
}
