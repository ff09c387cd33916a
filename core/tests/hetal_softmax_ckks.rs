//! The encrypted softmax on CKKS (`insecure_N12_deep`, 2048 slots, no
//! bootstrapping: the preset has the levels): decrypted output within 1e-3
//! of the f64 model on random logits in [-128, 128].

use hetal_core::ckks::{CkksContext, Params};
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
use hetal_core::slots::{CkksEngine, SlotCrypt, SlotOps};
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
        assert!(worst < 1e-3, "c = {c}: {worst}");
    }
}
