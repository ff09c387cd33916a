//! Fast base conversion (the core of ModUp / ModDown): 24 primes of 50 bits to 5 primes
//! of 60 bits at N = 2^16, best backend of this CPU, one thread (`Sequential`).
//!
//! `cargo bench -p hetal-benches --bench baseconv`
use criterion::{Criterion, criterion_group, criterion_main};
use hetal_core::exec::Sequential;
use hetal_core::math::primes::ntt_primes;
use hetal_core::math::{BaseConverter, Modulus};
use hetal_simd::Kernels;
use std::hint::black_box;

fn baseconv(c: &mut Criterion) {
    let n = 1usize << 16;
    let q = ntt_primes(50, n, 24, &[]).unwrap();
    let p = ntt_primes(60, n, 5, &q).unwrap();
    let moduli = |v: &[u64]| {
        v.iter()
            .map(|&x| Modulus::new(x).unwrap())
            .collect::<Vec<_>>()
    };
    let (from, to) = (moduli(&q), moduli(&p));
    let conv = BaseConverter::new(&from, &to).unwrap();
    let kernels = Kernels::best();
    // Deterministic residues below each prime.
    let mut s = 0x9e3779b97f4a7c15u64;
    let input: Vec<u64> = from
        .iter()
        .flat_map(|m| std::iter::repeat_n(m.value(), n))
        .map(|q| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % q
        })
        .collect();
    let mut output = vec![0u64; to.len() * n];
    eprintln!("baseconv: backend {}", kernels.backend().name());
    let mut g = c.benchmark_group("baseconv");
    g.bench_function(format!("{n}/24to5"), |b| {
        b.iter(|| {
            conv.convert(&kernels, &Sequential, black_box(&input), &mut output)
                .unwrap();
            black_box(&output);
        })
    });
    g.finish();
}

criterion_group!(benches, baseconv);
criterion_main!(benches);
