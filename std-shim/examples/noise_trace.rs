//! Where CKKS noise enters encrypted training: the steps of `hetal demo --data DIR` on
//! `N16` and on the exact slot simulator side by side, from the same batches. After every
//! step it prints the largest difference of the decrypted state (`U`, `V`) from the
//! simulator's, the logits' difference before the step, and the softmax's own error: the
//! simulator's logits encrypted at the level the step's logits have and run through the
//! CKKS softmax, against the simulator's softmax of the same logits. Tens of minutes and
//! ~16 GB at N16 (run alone):
//!
//! ```text
//! cargo run --release -p hetal --example noise_trace -- DIR BATCH LR MOMENTUM STEPS [THREADS]
//! ```
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use hetal::demo::{DataSource, prepare};
use hetal::enc::{boot_params, gen_server_keys, softmax};
use hetal::exec::RayonExecutor;
use hetal_core::boot::Bootstrapper;
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::hetal::client;
use hetal_core::hetal::plain::{self, Features, NagConfig};
use hetal_core::hetal::train::{
    NoClock, TrainLayout, Trainer, UpdateConfig, logit_bound_for, weight_scale_for,
};
use hetal_core::linalg::{AbtOutput, EncMatrix, MatrixOps, UnitShape, decrypt_matrix};
use hetal_core::slots::{
    CiphertextBootstrapper, CkksEngine, Leveled, SimParams, SlotCrypt, SlotOps, SlotSim,
};

/// Largest difference of two engines' decrypted matrices.
fn diff<A: SlotCrypt, B: SlotCrypt>(
    a: &A,
    am: &EncMatrix<A::Value>,
    b: &B,
    bm: &EncMatrix<B::Value>,
) -> f64 {
    Features::max_abs_diff(
        &decrypt_matrix(a, am).expect("decrypt"),
        &decrypt_matrix(b, bm).expect("decrypt"),
    )
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    assert!(a.len() >= 5, "DIR BATCH LR MOMENTUM STEPS [THREADS]");
    let num = |i: usize| a[i].parse::<f64>().expect("a number");
    let steps = num(4) as usize;
    let threads = a.get(5).map_or(2, |t| t.parse().expect("threads"));
    let cfg = NagConfig {
        batch: num(1) as usize,
        lr: num(2),
        momentum: num(3),
        max_epochs: 30,
        patience: 3,
        seed: 0,
    };
    let set = DataSource::Dir(PathBuf::from(&a[0])).load().expect("data");
    let classes = set.classes;
    let ([tr, _va, _te], _) = prepare(&set.splits, classes).expect("features");
    let plain_run = plain::train(&tr, &tr, &cfg, &mut |z: &mut [f64]| plain::softmax_exact(z));
    let bound = logit_bound_for(plain_run.max_abs_logit).expect("logits within 128");
    let upd = UpdateConfig {
        lr: cfg.lr,
        momentum: cfg.momentum,
        weight_scale: weight_scale_for(plain_run.max_abs_weight),
    };
    println!(
        "softmax domain {bound}, weight scale {}, {threads} thread(s)",
        upd.weight_scale
    );

    // NOISE_PRESET=insecure_N13: the same chain at N = 2^13 (a quick look, not secure).
    let params = match std::env::var("NOISE_PRESET").as_deref() {
        Ok("insecure_N13") => Params::insecure_boot_n13(),
        _ => Params::boot_n16(),
    };
    let ctx = Arc::new(
        CkksContext::new(params.clone())
            .expect("context")
            .with_executor(Arc::new(
                RayonExecutor::with_threads(threads).expect("pool"),
            )),
    );
    let mut rng = hetal::commands::os_rng().expect("rng");
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let keys = gen_server_keys(&ctx, &sk, cfg.batch, classes, &mut rng).expect("keys");
    let bp = boot_params(ctx.params(), true).expect("bootstrappable");
    let boot = Bootstrapper::from_keys(&ctx, bp, keys.boot.expect("boot keys")).expect("boot");
    let ckks = CkksEngine::new(&ctx, &keys.evk)
        .with_secret_key(&sk, [7; 32])
        .with_bootstrapper(&boot);
    // Bootstrapping accepts |slot| <= 1 and returns at its output level, as on CKKS.
    let sim = SlotSim::new(
        SimParams::new(params.max_slots(), params.q(), params.default_scale())
            .with_bootstrap(boot.output_level(), 1.0),
    )
    .expect("simulator");

    let sm = softmax(classes, bound).expect("softmax");
    let unit = UnitShape::hetal(cfg.batch, classes, sim.slot_count()).expect("unit");
    let layout = TrainLayout {
        unit,
        cols: tr.cols,
        classes,
    };
    let sb = client::encrypt_batches(&sim, &layout, &tr, cfg.batch, cfg.seed).expect("sim");
    let cb = client::encrypt_batches(&ckks, &layout, &tr, cfg.batch, cfg.seed).expect("ckks");
    let st_ = Trainer::new(&sim, &sm, layout, upd, &NoClock).expect("trainer");
    let ct_ = Trainer::new(&ckks, &sm, layout, upd, &NoClock).expect("trainer");
    let (sops, cops) = (
        MatrixOps::new(&sim, unit).expect("ops"),
        MatrixOps::new(&ckks, unit).expect("ops"),
    );
    let mut ss = st_.init_state(&sb[0].x).expect("state");
    let mut cs = ct_.init_state(&cb[0].x).expect("state");
    for k in 0..steps {
        let i = k % sb.len();
        let t = Instant::now();
        if !cs.fresh {
            // Logits before the step (both engines' own states) and the softmax alone
            // on the simulator's logits.
            let zs = sops
                .diag_abt(&sb[i].x, &ss.u, AbtOutput::Tiled)
                .expect("abt");
            let zc = cops
                .diag_abt(&cb[i].x, &cs.u, AbtOutput::Tiled)
                .expect("abt");
            let r = upd.weight_scale;
            let dz = diff(&ckks, &zc, &sim, &zs) * r;
            let zmax = Features::max_abs(&decrypt_matrix(&sim, &zs).expect("decrypt")) * r;
            let mut dp = 0.0f64;
            for (zsb, zcb) in zs.blocks().iter().zip(zc.blocks()) {
                let zsb = sim.mul_const(zsb, r.into()).expect("unscale");
                let vals = sim.decrypt_real(&zsb).expect("dec");
                let enc = ckks
                    .encrypt_real(&vals, zcb.level(), zcb.scale())
                    .expect("enc");
                let ps = sm.apply(&sim, &zsb).expect("softmax sim");
                let pc = sm.apply(&ckks, &enc).expect("softmax ckks");
                dp = dp.max(Features::max_abs_diff(
                    &ckks.decrypt_real(&pc).expect("dec"),
                    &sim.decrypt_real(&ps).expect("dec"),
                ));
            }
            println!(
                "before step {}: logits max |z| {zmax:.2}, |z_ckks - z_sim| {dz:.2e}; softmax alone on the same logits |P_ckks - P_sim| {dp:.2e}",
                k + 1
            );
        }
        let rs = st_.step(&mut ss, &sb[i]).expect("sim step");
        let rc = ct_.step(&mut cs, &cb[i]).expect("ckks step");
        let du = diff(&ckks, &cs.u, &sim, &ss.u);
        let dv = diff(&ckks, &cs.v, &sim, &ss.v);
        let max = |m: &EncMatrix<_>| Features::max_abs(&decrypt_matrix(&sim, m).expect("decrypt"));
        println!(
            "step {} (batch {i}): |U_ckks - U_sim| {du:.2e} (max |U| {:.3}), |V_ckks - V_sim| {dv:.2e} (max |V| {:.3}); bootstraps {} / {}; {:.1} s",
            k + 1,
            max(&ss.u),
            max(&ss.v),
            rc.ops.bootstrap,
            rs.ops.bootstrap,
            t.elapsed().as_secs_f64()
        );
    }
    let (ws, wc) = (st_.weights(&ss).expect("w"), ct_.weights(&cs).expect("w"));
    println!(
        "weights: |W_ckks - W_sim| {:.2e}",
        diff(&ckks, &wc, &sim, &ws)
    );
}
