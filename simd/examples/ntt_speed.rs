//! Quick NTT timing for every backend this CPU runs: minimum over many runs, one
//! thread, N in {4096, 16384, 65536}, the largest NTT-friendly primes below 2^50 and
//! 2^62 (the primes the tfhe-ntt peer binary uses). Not a benchmark suite (those are
//! the criterion benches); a tool for comparing variants back to back.
//!
//! `cargo run --release -p hetal-simd --example ntt_speed [-- --tsv]`
use hetal_simd::{Backend, Kernels, NttTable, fill_table, table_len};
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
    while d % 2 == 0 {
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

fn min_ns(reps: usize, mut f: impl FnMut()) -> u128 {
    (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_nanos()
        })
        .min()
        .unwrap()
}

fn main() {
    let tsv = std::env::args().any(|a| a == "--tsv");
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
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
            let x: Vec<u64> = (0..n as u64).map(|i| i * 2654435761 % q).collect();
            let reps = (1 << 24) / n;
            for b in Backend::ALL {
                let Some(k) = Kernels::new(b) else { continue };
                if only.as_deref().is_some_and(|o| o != b.name()) {
                    continue;
                }
                let mut y = x.clone();
                let r = if b == Backend::Scalar { reps / 8 } else { reps };
                for _ in 0..r / 10 {
                    k.ntt_forward(&t, &mut y);
                    k.ntt_inverse(&t, &mut y);
                }
                let f = min_ns(r, || k.ntt_forward(&t, &mut y));
                let i = min_ns(r, || k.ntt_inverse(&t, &mut y));
                if tsv {
                    println!("ntt/forward/{}-{bits}/{n}\t{f}", b.name());
                    println!("ntt/inverse/{}-{bits}/{n}\t{i}", b.name());
                } else {
                    println!(
                        "N={n:6} q<2^{bits} {:11} fwd {:9.2} us  inv {:9.2} us",
                        b.name(),
                        f as f64 / 1e3,
                        i as f64 / 1e3
                    );
                }
            }
        }
    }
}
