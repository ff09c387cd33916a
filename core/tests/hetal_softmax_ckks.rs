//! The encrypted softmax on CKKS: decrypted output close to the f64 model on random
//! logits in [-128, 128] (tolerances a few times the errors measured with these seeds:
//! 3.6e-7 and 4.2e-6 without bootstrapping, 8.4e-6 through 7 bootstraps at N = 2^12).
//!
//! - `insecure_N12_deep` (2048 slots, no bootstrapping: the preset has the levels);
//! - `insecure_train_N12` (2048 slots, `boot_N16`'s chain: 9 levels after a
//!   bootstrap), bootstrapping inside where [`Softmax::plan`] says, every
//!   bootstrapped value in [-1, 1];
//! - `boot_N16` (2^15 slots, the same plan at full size; ~8 GB and several
//!   minutes, so ignored in CI):
//!   `flock /work/n16.lock cargo test --release -p hetal-core --test hetal_softmax_ckks -- --ignored`.

use hetal_core::boot::{BootParams, Bootstrapper};
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
use hetal_core::slots::{CiphertextBootstrapper, CkksEngine, SlotCrypt, SlotOps};
use rand_chacha::{ChaCha8Rng, ChaCha20Rng};
use rand_core::{RngCore, SeedableRng};

#[test]
fn ckks_matches_the_model() {
    let ctx = CkksContext::new(Params::insecure_n12_deep()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([21; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    for (c, cp) in [(3usize, 4usize), (8, 8)] {
        let sm = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
        let keys = ctx
            .gen_evaluation_keys(&sk, &sm.rotations(), false, &mut rng)
            .unwrap();
        let ev = CkksEngine::new(&ctx, &keys).with_secret_key(&sk, [5; 32]);
        let n = ev.slot_count();
        assert!(ev.max_level() >= sm.depth());
        let mut g = ChaCha8Rng::seed_from_u64(c as u64);
        let x: Vec<f64> = (0..n)
            .map(|i| {
                let u = (g.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                if i % cp < c { 256.0 * u - 128.0 } else { 0.0 }
            })
            .collect();
        let v = ev.encrypt_real(&x, sm.depth(), ev.default_scale()).unwrap();
        let out = sm.apply(&ev, &v).unwrap();
        assert_eq!(out.level(), 0);
        let got = ev.decrypt_real(&out).unwrap();
        let mut worst = 0.0f64;
        for grp in 0..n / cp {
            let want = sm.eval_f64_row(&x[grp * cp..grp * cp + c]);
            for j in 0..cp {
                let w = if j < c { want[j] } else { 0.0 };
                worst = worst.max((got[grp * cp + j] - w).abs());
            }
        }
        eprintln!(
            "c = {c}: max |CKKS - model| = {worst:.3e} over {} rows",
            n / cp
        );
        assert!(worst < 3e-5, "c = {c}: {worst}");
    }
}

/// Random logits in [-128, 128] in the group layout (padded slots zero).
fn logits(n: usize, c: usize, cp: usize, seed: u64) -> Vec<f64> {
    let mut g = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let u = (g.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            if i % cp < c { 256.0 * u - 128.0 } else { 0.0 }
        })
        .collect()
}

/// The softmax with its bootstraps on `params` (a bootstrappable chain):
/// logits entering at the bootstrap's output level, bootstraps as planned,
/// output within `tol` of the model. Returns the worst error.
fn with_bootstraps(params: Params, c: usize, cp: usize, tol: f64) -> f64 {
    let ctx = CkksContext::new(params.clone()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([31; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let boot = Bootstrapper::new(&ctx, BootParams::full(&params), &sk, &mut rng).unwrap();
    let sm = Softmax::new(SoftmaxSpec::ours(c, cp), c, cp).unwrap();
    let keys = boot
        .gen_evaluation_keys(&ctx, &sk, &sm.rotations(), &mut rng)
        .unwrap();
    let ev = CkksEngine::new(&ctx, &keys)
        .with_secret_key(&sk, [32; 32])
        .with_bootstrapper(&boot);
    let level = boot.output_level();
    let plan = sm.plan(level, level).unwrap().plan;
    assert!(plan.cost >= 2, "{plan:?}");
    let n = ev.slot_count();
    let x = logits(n, c, cp, 7 + c as u64);
    let v = ev.encrypt_real(&x, level, ev.default_scale()).unwrap();
    let out = sm.apply(&ev, &v).unwrap();
    assert_eq!(ev.counts().bootstrap as usize, plan.cost);
    assert_eq!(out.level(), plan.final_level);
    let got = ev.decrypt_real(&out).unwrap();
    let mut worst = 0.0f64;
    for grp in 0..n / cp {
        let want = sm.eval_f64_row(&x[grp * cp..grp * cp + c]);
        for j in 0..cp {
            let w = if j < c { want[j] } else { 0.0 };
            worst = worst.max((got[grp * cp + j] - w).abs());
        }
    }
    eprintln!(
        "{}: c = {c} (c' = {cp}), {} bootstraps: max |CKKS - model| = {worst:.3e} over {} rows",
        params.name(),
        plan.cost,
        n / cp
    );
    assert!(worst < tol, "c = {c}: {worst}");
    worst
}

#[test]
fn ckks_with_bootstraps_matches_the_model() {
    with_bootstraps(Params::insecure_train_n12(), 10, 16, 3e-5);
}

/// The 2^15-slot run (see the module documentation for the command); its bootstraps keep
/// ~25 bits against ~28 at N = 2^12, so the tolerance stays at 1e-3 (not re-measured).
#[test]
#[ignore = "N = 2^16 bootstrapping: ~8 GB, minutes; run under flock /work/n16.lock"]
fn ckks_n16_with_bootstraps_matches_the_model() {
    with_bootstraps(Params::boot_n16(), 10, 16, 1e-3);
}
