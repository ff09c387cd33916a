//! `boot/{preset}/full/{threads}t`, `boot/{preset}/sparse_{slots}/{threads}t` and
//! `boot/{preset}/keygen`: bootstrapping and its key generation, one and two threads.
//!
//! Presets: `insecure_N12` (default, seconds) and `N16` (the 128-bit bootstrappable `N16` preset,
//! several GB: run alone, e.g.
//! `HETAL_BENCH_PRESETS=N16 flock /work/n16.lock cargo bench -p hetal-benches --bench boot`).
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hetal::exec::RayonExecutor;
use hetal_core::boot::{BootParams, Bootstrapper};
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Evaluator, Params};
use hetal_core::slots::CiphertextBootstrapper;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

type Preset = (&'static str, fn() -> Params);

fn presets() -> Vec<Preset> {
    let all: [Preset; 2] = [
        ("insecure_N12", Params::insecure_boot_n12),
        ("N16", Params::boot_n16),
    ];
    let want = std::env::var("HETAL_BENCH_PRESETS").unwrap_or_else(|_| "insecure_N12".into());
    all.into_iter()
        .filter(|(n, _)| want.split(',').any(|w| w == *n))
        .collect()
}

fn bench_slots(c: &mut Criterion, name: &str, params: &Params, slots: usize, threads: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let mut ctx = CkksContext::new(params.clone()).expect("context");
    if threads > 1 {
        ctx = ctx.with_executor(Arc::new(
            RayonExecutor::with_threads(threads).expect("thread pool"),
        ));
    }
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let mut bp = BootParams::full(params);
    bp.slots = slots;
    // At N = 2^16 CoeffToSlot's diagonals are precomputed (2 GiB), SlotToCoeff's encoded
    // at each use, as in the boot_n16 example.
    bp.precompute_stc = params.n() < 1 << 16;
    let boot = Bootstrapper::new(&ctx, bp, &sk, &mut rng).expect("bootstrapper");
    let mut g = c.benchmark_group(format!("boot/{name}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));
    let label = if slots == params.max_slots() {
        "full".to_string()
    } else {
        format!("sparse_{slots}")
    };
    if threads == 1 && slots == params.max_slots() {
        g.bench_function("keygen", |b| {
            b.iter(|| {
                boot.gen_evaluation_keys(&ctx, &sk, &[], &mut rng)
                    .expect("keys")
            })
        });
    }
    let keys = boot
        .gen_evaluation_keys(&ctx, &sk, &[], &mut rng)
        .expect("keys");
    let ev = Evaluator::new(&ctx, &keys);
    let x: Vec<Complex> = (0..slots)
        .map(|i| Complex::new((i as f64).sin(), (i as f64).cos()).scale(0.7))
        .collect();
    let pt = ctx
        .encode(&x, slots, 0, params.default_scale())
        .expect("encode");
    let ct = ctx.encrypt_sk(&sk, &pt, &mut rng).expect("encrypt");
    g.bench_function(format!("{label}/{threads}t"), |b| {
        b.iter(|| boot.bootstrap(&ev, &ct).expect("bootstrap"))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    for (name, make) in presets() {
        let params = make();
        for threads in [1, 2] {
            bench_slots(c, name, &params, params.max_slots(), threads);
            bench_slots(c, name, &params, params.max_slots() / 16, threads);
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
