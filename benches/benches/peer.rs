//! Like-for-like benches against the peers of `shared/bench/peers.md`, one thread:
//!
//! * `peer/poulpy-like/{rotate,mul_relin_rescale,encrypt_sk,decrypt,keygen_relin,keygen_rot}`
//!   on [`Params::bench_poulpy_like`] (poulpy-ckks's `n16_d35_k636_p20_c2s` leveled
//!   setting: N = 2^16, ~636-bit Q in 13 primes below 2^50, key width ~737 bits);
//! * `peer/openfhe-like/{keygen_relin,keygen_rot,encrypt_pk,decrypt,mul_relin_rescale,rotate,hoisted_rotate_16,rescale}`
//!   on [`Params::bench_openfhe_like`] (OpenFHE's row: 60-bit q0 + 30 x 40-bit, dnum 3).
//!
//! Each op times what the peer's script times: poulpy's `encrypt_sk` excludes encoding,
//! OpenFHE's `encrypt_pk` includes it; both peers' `decrypt` include decoding.
//! `benches/peer_compare.sh` runs these and the peers back to back and prints ratios.
//! `HETAL_PEER_SETS=poulpy-like` (or `openfhe-like`) limits the sets.
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Evaluator, Params};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn wanted(set: &str) -> bool {
    let want = std::env::var("HETAL_PEER_SETS").unwrap_or_default();
    want.is_empty() || want.split(',').any(|w| w == set)
}

fn inputs(slots: usize, seed: f64) -> Vec<Complex> {
    // Slots in the unit square, like the peers' uniform [-1, 1] inputs.
    (0..slots)
        .map(|i| Complex::new((i as f64 * seed).sin(), (i as f64 * seed + 1.0).cos()))
        .collect()
}

fn poulpy_like(c: &mut Criterion) {
    if !wanted("poulpy-like") {
        return;
    }
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let ctx = CkksContext::new(Params::bench_poulpy_like()).expect("context");
    let (slots, top) = (ctx.params().max_slots(), ctx.params().max_level());
    let scale = ctx.params().default_scale();
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let keys = ctx
        .gen_evaluation_keys(&sk, &[1], false, &mut rng)
        .expect("keys");
    let ev = Evaluator::new(&ctx, &keys);
    let pa = ctx
        .encode(&inputs(slots, 0.37), slots, top, scale)
        .expect("encode");
    let pb = ctx
        .encode(&inputs(slots, 0.91), slots, top, scale)
        .expect("encode");
    let ca = ctx.encrypt_sk(&sk, &pa, &mut rng).expect("encrypt");
    let cb = ctx.encrypt_sk(&sk, &pb, &mut rng).expect("encrypt");

    let mut g = c.benchmark_group("peer/poulpy-like");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("rotate", |b| b.iter(|| ev.rotate(&ca, 1).expect("rotate")));
    g.bench_function("mul_relin_rescale", |b| {
        b.iter(|| ev.mul_relin_rescale(&ca, &cb).expect("mul"))
    });
    g.bench_function("encrypt_sk", |b| {
        b.iter(|| ctx.encrypt_sk(&sk, &pa, &mut rng).expect("encrypt"))
    });
    g.bench_function("decrypt", |b| {
        b.iter(|| ctx.decrypt_decode(&sk, &ca).expect("decrypt"))
    });
    g.bench_function("keygen_relin", |b| {
        b.iter(|| ctx.gen_relin_key(&sk, &mut rng).expect("relin key"))
    });
    g.bench_function("keygen_rot", |b| {
        b.iter(|| {
            ctx.gen_galois_key(&sk, ctx.rotation_element(1), &mut rng)
                .expect("rotation key")
        })
    });
    g.finish();
}

fn openfhe_like(c: &mut Criterion) {
    if !wanted("openfhe-like") {
        return;
    }
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let ctx = CkksContext::new(Params::bench_openfhe_like()).expect("context");
    let (slots, top) = (ctx.params().max_slots(), ctx.params().max_level());
    let scale = ctx.params().default_scale();
    let steps: Vec<isize> = (1..=16).collect();
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let pk = ctx.gen_public_key(&sk, &mut rng).expect("pk");
    let keys = ctx
        .gen_evaluation_keys(&sk, &steps, false, &mut rng)
        .expect("keys");
    let ev = Evaluator::new(&ctx, &keys);
    let (x, y) = (inputs(slots, 0.37), inputs(slots, 0.91));
    let cx = ctx
        .encrypt_pk(
            &pk,
            &ctx.encode(&x, slots, top, scale).expect("encode"),
            &mut rng,
        )
        .expect("encrypt");
    let cy = ctx
        .encrypt_pk(
            &pk,
            &ctx.encode(&y, slots, top, scale).expect("encode"),
            &mut rng,
        )
        .expect("encrypt");
    let prod = ev.mul_relin(&cx, &cy).expect("mul");

    let mut g = c.benchmark_group("peer/openfhe-like");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("keygen_relin", |b| {
        b.iter(|| ctx.gen_relin_key(&sk, &mut rng).expect("relin key"))
    });
    g.bench_function("keygen_rot", |b| {
        b.iter(|| {
            ctx.gen_galois_key(&sk, ctx.rotation_element(1), &mut rng)
                .expect("rotation key")
        })
    });
    g.bench_function("encrypt_pk", |b| {
        b.iter(|| {
            let pt = ctx.encode(&x, slots, top, scale).expect("encode");
            ctx.encrypt_pk(&pk, &pt, &mut rng).expect("encrypt")
        })
    });
    g.bench_function("decrypt", |b| {
        b.iter(|| ctx.decrypt_decode(&sk, &cx).expect("decrypt"))
    });
    g.bench_function("mul_relin_rescale", |b| {
        b.iter(|| ev.mul_relin_rescale(&cx, &cy).expect("mul"))
    });
    g.bench_function("rotate", |b| b.iter(|| ev.rotate(&cx, 1).expect("rotate")));
    g.bench_function("hoisted_rotate_16", |b| {
        b.iter(|| ev.rotate_hoisted(&cx, &steps).expect("hoisted"))
    });
    g.bench_function("rescale", |b| {
        b.iter(|| ev.rescale(&prod).expect("rescale"))
    });
    g.finish();
}

criterion_group!(benches, poulpy_like, openfhe_like);
criterion_main!(benches);
