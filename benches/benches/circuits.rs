//! `circuits/poly/N16/deg{63,127}` and `circuits/lintrans/N16/{butterfly3,diag16}`: the
//! generic circuits on the CKKS engine at N = 2^16 (preset `N16`, 2^15 slots), one thread,
//! input at level 16 of 29 (the middle of the chain; the cost per operation grows with the
//! level).
//!
//! - `poly/deg63`: Chebyshev interpolant of sin(3x) on [-1, 1], depth 6, 18 products;
//!   `poly/deg127`: the same at degree 127, depth 7, 27 products.
//! - `lintrans/butterfly3`: diagonals {0, 1, -1} (one radix-2 FFT factor): 2 hoisted
//!   rotations, 3 plaintext products, one rescale; `lintrans/diag16`: 16 consecutive
//!   diagonals, baby step 4: 3 hoisted + 3 giant rotations, 16 plaintext products.
//!
//! `flock /work/n16.lock cargo bench -p hetal-benches --bench circuits`
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hetal_core::circuits::lintrans::LinearTransform;
use hetal_core::circuits::poly::{self, Polynomial};
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::slots::{CkksEngine, Complex, SlotCrypt, SlotOps};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn circuits(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let ctx = CkksContext::new(Params::n16()).expect("context");
    let n = ctx.params().max_slots();
    let level = 16;
    let diag = |k: usize| -> Vec<Complex> {
        (0..n)
            .map(|i| Complex::new(((i * 7 + k) % 13) as f64 / 13.0, 0.25))
            .collect()
    };
    let butterfly =
        LinearTransform::new(n, [(0, diag(0)), (1, diag(1)), (-1, diag(2))]).expect("butterfly");
    let diag16 = LinearTransform::new(n, (0..16).map(|k| (k as isize, diag(k)))).expect("diag16");
    let mut steps = butterfly.rotations();
    steps.extend(diag16.rotations());
    steps.sort_unstable();
    steps.dedup();
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let keys = ctx
        .gen_evaluation_keys(&sk, &steps, false, &mut rng)
        .expect("keys");
    let ev = CkksEngine::new(&ctx, &keys).with_secret_key(&sk, [3; 32]);
    let xs: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.001).sin()).collect();
    let x = ev
        .encrypt_real(&xs, level, ev.default_scale())
        .expect("encrypt");

    let mut g = c.benchmark_group("circuits");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(5));
    for degree in [63, 127] {
        let p = Polynomial::interpolate_chebyshev(|t| (3.0 * t).sin(), degree, -1.0, 1.0)
            .expect("poly");
        g.bench_function(format!("poly/N16/deg{degree}"), |b| {
            b.iter(|| poly::evaluate(&ev, &x, &p, ev.default_scale()).expect("eval"))
        });
    }
    for (name, lt) in [("butterfly3", &butterfly), ("diag16", &diag16)] {
        let enc = lt.encode(&ev, level).expect("encode");
        g.bench_function(format!("lintrans/N16/{name}"), |b| {
            b.iter(|| lt.apply(&ev, &enc, &x).expect("apply"))
        });
    }
    g.finish();
}

criterion_group!(benches, circuits);
criterion_main!(benches);
