//! `ntt/{forward,inverse}/{impl}/{N}`: one limb, one thread, every backend this CPU
//! supports (`{backend}-50`, `{backend}-62`) and our peer tfhe-ntt (`tfhe-ntt-50`,
//! `tfhe-ntt-62`) on the same primes: the largest NTT-friendly prime below 2^50 / 2^62.
//! `cargo run -p hetal-benches --bin ntt-table` prints the ratios from the same run.
//! Also `modmul/{backend}/65536` and `key_limb/{backend}/65536` (see each function).
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hetal_core::math::NttPlan;
use hetal_core::math::primes::ntt_primes;
use hetal_simd::{Backend, Kernels};

const SIZES: [usize; 3] = [4096, 16384, 65536];

fn input(n: usize, q: u64) -> Vec<u64> {
    (0..n as u64)
        .map(|i| i.wrapping_mul(2654435761) % q)
        .collect()
}

fn ntt(c: &mut Criterion) {
    for dir in ["forward", "inverse"] {
        let mut g = c.benchmark_group(format!("ntt/{dir}"));
        g.warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .sample_size(30);
        for n in SIZES {
            for bits in [50u32, 62] {
                let q = ntt_primes(bits, n, 1, &[]).expect("prime")[0];
                for b in Backend::ALL {
                    let Some(k) = Kernels::new(b) else {
                        eprintln!(
                            "skipped ntt/{dir}/{}-{bits}/{n}: {}",
                            b.name(),
                            b.unsupported_reason().unwrap_or("")
                        );
                        continue;
                    };
                    let plan = NttPlan::with_kernels(
                        hetal_core::math::Modulus::new(q).expect("prime"),
                        n,
                        k,
                    )
                    .expect("plan");
                    let mut a = input(n, q);
                    g.bench_function(BenchmarkId::new(format!("{}-{bits}", b.name()), n), |bch| {
                        if dir == "forward" {
                            bch.iter(|| plan.forward(&mut a))
                        } else {
                            bch.iter(|| plan.inverse(&mut a))
                        }
                    });
                }
                peer(&mut g, dir, n, bits, q);
            }
        }
        g.finish();
    }
}

#[cfg(target_arch = "x86_64")]
fn peer(
    g: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>,
    dir: &str,
    n: usize,
    bits: u32,
    q: u64,
) {
    let plan = tfhe_ntt::prime64::Plan::try_new(n, q).expect("tfhe-ntt plan");
    let mut a = input(n, q);
    g.bench_function(BenchmarkId::new(format!("tfhe-ntt-{bits}"), n), |bch| {
        if dir == "forward" {
            bch.iter(|| plan.fwd(&mut a))
        } else {
            bch.iter(|| plan.inv(&mut a))
        }
    });
}

#[cfg(not(target_arch = "x86_64"))]
fn peer(
    _: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>,
    _: &str,
    _: usize,
    _: u32,
    _: u64,
) {
}

/// `modmul/{backend}/65536`: pointwise `a *= b mod q`, q the largest NTT prime below 2^50.
fn modmul(c: &mut Criterion) {
    let n = 65536;
    let q = ntt_primes(50, n, 1, &[]).expect("prime")[0];
    let m = hetal_simd::ModulusConsts::new(q).expect("modulus");
    let mut g = c.benchmark_group("modmul");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for b in Backend::ALL {
        let Some(k) = Kernels::new(b) else {
            eprintln!(
                "skipped modmul/{}/{n}: {}",
                b.name(),
                b.unsupported_reason().unwrap_or("")
            );
            continue;
        };
        let mut a = input(n, q);
        let other: Vec<u64> = input(n, q).iter().map(|x| (x * 7 + 1) % q).collect();
        g.bench_function(BenchmarkId::new(b.name(), n), |bch| {
            bch.iter(|| k.mul_assign(&mut a, &other, &m))
        });
    }
    g.finish();
}

/// `key_limb/{backend}/65536`: one seeded switching-key limb expanded (ChaCha12 keystream
/// and rejection sampling below a 61-bit prime), the work a seeded key repeats at every
/// key switch.
fn key_limb(c: &mut Criterion) {
    use hetal_core::math::seed::{expand_key_limb, key_limb_stream};
    let n = 65536;
    let q = ntt_primes(61, n, 1, &[]).expect("prime")[0];
    let q = hetal_core::math::Modulus::new(q).expect("prime");
    let mut g = c.benchmark_group("key_limb");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for b in Backend::ALL {
        let Some(k) = Kernels::new(b) else {
            eprintln!(
                "skipped key_limb/{}/{n}: {}",
                b.name(),
                b.unsupported_reason().unwrap_or("")
            );
            continue;
        };
        let mut out = vec![0u64; n];
        g.bench_function(BenchmarkId::new(b.name(), n), |bch| {
            bch.iter(|| expand_key_limb(&k, &[7; 32], key_limb_stream(1, 2), &q, &mut out))
        });
    }
    g.finish();
}

criterion_group!(benches, ntt, modmul, key_limb);
criterion_main!(benches);
