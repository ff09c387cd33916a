//! `softmax/{preset}/c{c}`: one encrypted softmax (`SoftmaxSpec::ours`) on one
//! block of logits, single thread.
//!
//! Until bootstrapping lands the circuit must fit the chain without it, so the
//! preset is `insecure_N12_deep` (N = 2^12, 45 levels): `c4` (depth 34) and
//! `c8` (depth 44). The N16 benches (`softmax/N16/c{4,8,16}`, with the
//! bootstraps of `Softmax::plan`) need the bootstrapping engine.
//!
//! `cargo bench -p hetal-benches --bench softmax`
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
use hetal_core::slots::{CkksEngine, SlotCrypt, SlotOps};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn bench(c: &mut Criterion) {
    let ctx = CkksContext::new(Params::insecure_n12_deep()).expect("context");
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let mut g = c.benchmark_group("softmax/N12deep");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(20));
    for classes in [4usize, 8] {
        let sm =
            Softmax::new(SoftmaxSpec::ours(classes, classes), classes, classes).expect("softmax");
        let keys = ctx
            .gen_evaluation_keys(&sk, &sm.rotations(), false, &mut rng)
            .expect("keys");
        let ev = CkksEngine::new(&ctx, &keys).with_secret_key(&sk, [9; 32]);
        let x: Vec<f64> = (0..ev.slot_count())
            .map(|i| 128.0 * ((i as f64) * 0.77).sin())
            .collect();
        let v = ev
            .encrypt_real(&x, sm.depth(), ev.default_scale())
            .expect("encrypt");
        g.bench_function(format!("c{classes}"), |b| {
            b.iter(|| sm.apply(&ev, &v).expect("softmax"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
