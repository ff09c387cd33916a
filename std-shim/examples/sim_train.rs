//! The encrypted training algorithm of `hetal demo --data DIR` on the exact slot
//! simulator (`SlotSim` with `N16`'s slots and levels): the same layouts, softmax
//! approximation, bootstrapping plan, update and early stopping, without CKKS noise.
//! Its test accuracy next to the plaintext trainer's (exact softmax) and the N16 run's
//! separates the approximation's share of a gap from the noise's. Seconds to minutes.
//!
//! ```text
//! cargo run --release -p hetal --example sim_train -- DIR BATCH LR MOMENTUM EPOCHS PATIENCE
//! ```
use std::path::PathBuf;

use hetal::demo::{DataSource, prepare};
use hetal_core::ckks::Params;
use hetal_core::hetal::client::{self, Validator};
use hetal_core::hetal::plain::{self, Features, NagConfig};
use hetal_core::hetal::train::{
    NoClock, TrainLayout, Trainer, UpdateConfig, logit_bound_for, train, weight_scale_for,
};
use hetal_core::linalg::{UnitShape, decrypt_matrix, encrypt_matrix};
use hetal_core::slots::{SimParams, SlotOps, SlotSim};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    assert_eq!(a.len(), 6, "DIR BATCH LR MOMENTUM EPOCHS PATIENCE");
    let num = |i: usize| a[i].parse::<f64>().expect("a number");
    let cfg = NagConfig {
        batch: num(1) as usize,
        lr: num(2),
        momentum: num(3),
        max_epochs: num(4) as usize,
        patience: num(5) as usize,
        seed: 0,
    };
    let set = DataSource::Dir(PathBuf::from(&a[0])).load().expect("data");
    let classes = set.classes;
    let ([tr, va, te], _) = prepare(&set.splits, classes).expect("features");
    let plain_run = plain::train(&tr, &va, &cfg, &mut |z: &mut [f64]| plain::softmax_exact(z));
    let bound = logit_bound_for(plain_run.max_abs_logit).expect("logits within 128");
    println!(
        "plaintext: {} epochs (kept {}), val losses {:?}, test accuracy {:.4}; softmax domain {bound}",
        plain_run.epochs,
        plain_run.best_epoch,
        plain_run
            .val_loss
            .iter()
            .map(|l| (l * 1e4).round() / 1e4)
            .collect::<Vec<_>>(),
        plain_run.model.accuracy(&te)
    );

    let params = Params::boot_n16();
    // Bootstrapping accepts |slot| <= 1, as the CKKS bootstrapper's EvalMod does.
    let sim = SlotSim::new(
        SimParams::new(params.max_slots(), params.q(), params.default_scale())
            .with_bootstrap(9, 1.0),
    )
    .expect("simulator");
    let softmax = hetal::enc::softmax(classes, bound).expect("softmax");
    let unit = UnitShape::hetal(cfg.batch, classes, sim.slot_count()).expect("unit");
    let layout = TrainLayout {
        unit,
        cols: tr.cols,
        classes,
    };
    let batches =
        client::encrypt_batches(&sim, &layout, &tr, cfg.batch, cfg.seed).expect("batches");
    let val: Vec<_> =
        va.x.chunks(cfg.batch * tr.cols)
            .map(|chunk| {
                let rows = chunk.len() / tr.cols;
                encrypt_matrix(
                    &sim,
                    chunk,
                    layout.features(rows).expect("layout"),
                    client::data_level(&sim),
                    sim.default_scale(),
                )
                .expect("val")
            })
            .collect();
    let upd = UpdateConfig {
        lr: cfg.lr,
        momentum: cfg.momentum,
        weight_scale: weight_scale_for(plain_run.max_abs_weight),
    };
    let trainer = Trainer::new(&sim, &softmax, layout, upd, &NoClock).expect("trainer");
    // A validation pass the simulator refuses (a value too large for its level's
    // modulus, where CKKS could wrap) ends the run with that error.
    let mut validator = Validator::new(va.y.clone(), classes, cfg.patience, cfg.max_epochs);
    let out = train(&trainer, &batches, &val, cfg.max_epochs, |epoch, logits| {
        let z: Vec<f64> = logits
            .iter()
            .flat_map(|m| decrypt_matrix(&sim, m).expect("decrypt"))
            .collect();
        validator.decide(epoch, &z)
    })
    .expect("training");
    let w = decrypt_matrix(&sim, &out.weights).expect("weights");
    let model = plain::Model {
        w,
        cols: tr.cols,
        classes,
    };
    println!(
        "simulated: {} epochs (kept {}), val losses {:?}, test accuracy {:.4}; max |w - w_plain| {:.2e}",
        out.epochs,
        out.best_epoch,
        validator
            .losses
            .iter()
            .map(|l| (l * 1e4).round() / 1e4)
            .collect::<Vec<_>>(),
        model.accuracy(&te),
        Features::max_abs_diff(&model.w, &plain_run.model.w)
    );
}
