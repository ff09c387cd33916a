//! `ckks/{preset}/{op}/{threads}t`: CKKS operations at the top level, one and two threads.
//! Presets: `N16`, `N14` and `openfhe_like` (N = 2^16, 60-bit q0 + 30 x 40-bit, 8 special
//! primes of 60 bits, dnum 3: the parameters of OpenFHE's row in shared/bench/peers.md).
//! `HETAL_BENCH_PRESETS=N16,N14` limits the presets.
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hetal::exec::RayonExecutor;
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Evaluator, Params};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// A named parameter preset constructor.
type Preset = (&'static str, fn() -> Params);

fn presets() -> Vec<Preset> {
    let all: [Preset; 3] = [
        ("N16", Params::n16),
        ("N14", Params::n14),
        ("openfhe_like", Params::bench_openfhe_like),
    ];
    let want = std::env::var("HETAL_BENCH_PRESETS").unwrap_or_default();
    all.into_iter()
        .filter(|(n, _)| want.is_empty() || want.split(',').any(|w| w == *n))
        .collect()
}

fn bench_preset(c: &mut Criterion, name: &str, params: Params, threads: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut ctx = CkksContext::new(params).expect("context");
    if threads > 1 {
        ctx = ctx.with_executor(Arc::new(
            RayonExecutor::with_threads(threads).expect("thread pool"),
        ));
    }
    let slots = ctx.params().max_slots();
    let top = ctx.params().max_level();
    let steps: Vec<isize> = (1..=16).collect();
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let pk = ctx.gen_public_key(&sk, &mut rng).expect("pk");
    let keys = ctx
        .gen_evaluation_keys(&sk, &steps, false, &mut rng)
        .expect("keys");
    let ev = Evaluator::new(&ctx, &keys);
    let x: Vec<Complex> = (0..slots)
        .map(|i| Complex::new((i as f64).sin(), 0.5))
        .collect();
    let pt = ctx
        .encode(&x, slots, top, ctx.params().default_scale())
        .expect("encode");
    let ct = ctx.encrypt_pk(&pk, &pt, &mut rng).expect("encrypt");
    let prod = ev.mul_relin(&ct, &ct).expect("mul");

    let mut g = c.benchmark_group(format!("ckks/{name}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3));
    let id = |op: &str| format!("{op}/{threads}t");
    g.bench_function(id("keygen_relin"), |b| {
        b.iter(|| ctx.gen_relin_key(&sk, &mut rng).expect("relin"))
    });
    g.bench_function(id("keygen_rot"), |b| {
        b.iter(|| {
            ctx.gen_galois_key(&sk, ctx.rotation_element(1), &mut rng)
                .expect("rot")
        })
    });
    g.bench_function(id("encrypt_pk"), |b| {
        b.iter(|| ctx.encrypt_pk(&pk, &pt, &mut rng).expect("enc"))
    });
    g.bench_function(id("decrypt"), |b| {
        b.iter(|| ctx.decrypt_decode(&sk, &ct).expect("dec"))
    });
    g.bench_function(id("mul_relin_rescale"), |b| {
        b.iter(|| ev.mul_relin_rescale(&ct, &ct).expect("mul"))
    });
    g.bench_function(id("rotate"), |b| b.iter(|| ev.rotate(&ct, 1).expect("rot")));
    g.bench_function(id("hoisted_rotate_16"), |b| {
        b.iter(|| ev.rotate_hoisted(&ct, &steps).expect("hoisted"))
    });
    g.bench_function(id("rescale"), |b| {
        b.iter(|| ev.rescale(&prod).expect("rescale"))
    });
    g.finish();
}

fn ckks(c: &mut Criterion) {
    for (name, make) in presets() {
        for threads in [1, 2] {
            bench_preset(c, name, make(), threads);
        }
    }
}

criterion_group!(benches, ckks);
criterion_main!(benches);
