//! Quick timing of the AVX2 kernels against scalar on this CPU: minimum over many runs,
//! one thread. Not a benchmark suite (those are the criterion benches).
//!
//! `cargo run --release -p hetal-simd --example avx2_speed`
use hetal_simd::{
    Backend, Kernels, ModulusConsts, NttTable, automorphism_ntt_perm, fill_table, table_len,
};
use std::hint::black_box;
use std::time::Instant;

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
    let (mut d, mut s) = (n - 1, 0);
    while d.is_multiple_of(2) {
        d /= 2;
        s += 1;
    }
    [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
        .iter()
        .all(|&a| {
            let mut x = pow_mod(a, d, n);
            x == 1
                || x == n - 1
                || (1..s).any(|_| {
                    x = mul_mod(x, x, n);
                    x == n - 1
                })
        })
}

/// Largest prime below `2^bits` that is 1 mod `2n`.
fn ntt_prime(bits: u32, n: u64) -> u64 {
    let mut p = ((1u64 << bits) - 1) / (2 * n) * (2 * n) + 1;
    while !is_prime(p) {
        p -= 2 * n;
    }
    p
}

fn min_us(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_nanos()
        })
        .min()
        .unwrap() as f64
        / 1e3
}

fn main() {
    let Some(avx2) = Kernels::new(Backend::Avx2) else {
        eprintln!("skipped: {:?}", Backend::Avx2.unsupported_reason());
        return;
    };
    let ks = [Kernels::scalar(), avx2];
    for n in [4096usize, 16384, 65536] {
        for bits in [50u32, 62] {
            let q = ntt_prime(bits, n as u64);
            let psi = (2..q)
                .map(|g| pow_mod(g, (q - 1) / (2 * n as u64), q))
                .find(|&r| pow_mod(r, n as u64, q) == q - 1)
                .unwrap();
            let mut buf = vec![0; table_len(n)];
            fill_table(q, psi, n, &mut buf).unwrap();
            let t = NttTable::new(q, n, &buf).unwrap();
            let m = ModulusConsts::new(q).unwrap();
            let x: Vec<u64> = (0..n as u64).map(|i| i * 2654435761 % q).collect();
            let c = m.shoup(x[7]);
            let mut perm = vec![0u32; n];
            automorphism_ntt_perm(5, &mut perm);
            let reps = (1 << 23) / n;
            for k in ks {
                let mut y = x.clone();
                let mut out = vec![0; n];
                let f = min_us(reps, || k.ntt_forward(&t, &mut y));
                let i = min_us(reps, || k.ntt_inverse(&t, &mut y));
                let mul = min_us(reps, || k.mul_assign(&mut y, black_box(&x), &m));
                let ms = min_us(reps, || k.mul_scalar_assign(&mut y, &c, q));
                let add = min_us(reps, || k.add_assign(&mut y, black_box(&x), q));
                let perm_t = min_us(reps, || k.permute(&x, &perm, &mut out));
                let aut = min_us(reps, || k.automorphism_coeff(&x, 5, &mut out, q));
                println!(
                    "N={n:6} q<2^{bits} {:7} fwd {f:8.2} inv {i:8.2} mul {mul:7.2} \
                     mul_scalar {ms:7.2} add {add:6.2} permute {perm_t:6.2} aut {aut:6.2} (us)",
                    k.backend().name()
                );
            }
        }
    }
}
