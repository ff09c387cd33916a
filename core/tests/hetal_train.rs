//! Encrypted HETAL training on the simulator against the plaintext trainer.
//!
//! The simulator's slots are exact, so encrypted training with a given row
//! function must reproduce `hetal::plain::train` with the same function to
//! rounding: this checks the layouts, the gradient, the Nesterov update in
//! look-ahead form, the bootstrap policy and early stopping, independently of
//! the softmax approximation and of CKKS noise.

mod common;

use common::npy;
use hetal_core::hetal::client::{self, Validator};
use hetal_core::hetal::plain::{self, NagConfig};
use hetal_core::hetal::train::{
    NoClock, RowSoftmax, TrainLayout, Trainer, UpdateConfig, train, weight_scale_for,
};
use hetal_core::linalg::{EncMatrix, UnitShape, decrypt_matrix};
use hetal_core::slots::{Complex, SimParams, SlotError, SlotOps, SlotSim};

/// A stand-in row function with one level of depth, `p_j = (1 + z_j) / c` on
/// the real classes and 0 on the padded ones (the first-order expansion of
/// the softmax at 0, without the mean): what matters here is that the
/// encrypted and plain paths apply the same function.
struct LinearRow {
    classes: usize,
    period: usize,
    /// Declare the output on zero logits (`1/c`, exact for this function), so
    /// the first step skips the logits and the row function.
    known_zero: bool,
}

impl LinearRow {
    fn plain(&self, z: &mut [f64]) {
        for v in z.iter_mut() {
            *v = (1.0 + *v) / self.classes as f64;
        }
    }
}

impl<E: SlotOps> RowSoftmax<E> for LinearRow {
    fn depth(&self) -> usize {
        1
    }

    fn at_zero(&self) -> Option<f64> {
        self.known_zero.then(|| 1.0 / self.classes as f64)
    }

    fn apply(&self, ev: &E, z: &E::Value) -> Result<E::Value, SlotError> {
        use hetal_core::slots::Leveled;
        let c = self.classes as f64;
        let mask: Vec<Complex> = (0..ev.slot_count())
            .map(|i| {
                Complex::from_real(if i % self.period < self.classes {
                    1.0 / c
                } else {
                    0.0
                })
            })
            .collect();
        let q = ev.modulus(z.level()) as f64;
        let m = ev.encode(&mask, z.level(), q)?;
        let zc = ev.add_const(z, Complex::ONE)?;
        ev.rescale(&ev.mul_plain(&zc, &m)?)
    }
}

#[test]
fn simulated_training_matches_the_plain_trainer() {
    let data = npy::demo(384);
    let classes = 10;
    let period = 16;
    let batch = 128;
    let cfg = NagConfig {
        lr: 0.5,
        momentum: 0.9,
        batch,
        max_epochs: 4,
        patience: 2,
        seed: 7,
    };
    let row = LinearRow {
        classes,
        period,
        known_zero: false,
    };
    let reference = plain::train(&data.train, &data.val, &cfg, &mut |z: &mut [f64]| {
        row.plain(z)
    });

    // 2^11 slots, blocks 128 x 16; 12 levels, bootstrap back to level 9, inputs
    // in [-1, 1] only (what CKKS bootstrapping is accurate on).
    assert!(
        reference.max_abs_weight > 1.0,
        "the weight scale is not exercised"
    );
    let sim = SlotSim::new(
        SimParams::synthetic(2048, 60, 40, 12)
            .unwrap()
            .with_bootstrap(9, 1.0),
    )
    .unwrap();
    let layout = TrainLayout {
        unit: UnitShape::new(128, 16).unwrap(),
        cols: data.train.cols,
        classes,
    };
    let batches = client::encrypt_batches(&sim, &layout, &data.train, batch, cfg.seed).unwrap();
    let val_x = client::encrypt_features(&sim, &layout, &data.val).unwrap();
    let upd = UpdateConfig {
        lr: cfg.lr,
        momentum: cfg.momentum,
        weight_scale: weight_scale_for(reference.max_abs_weight),
    };
    let trainer = Trainer::new(&sim, &row, layout, upd, &NoClock).unwrap();

    let mut validator = Validator::new(data.val.y.clone(), classes, cfg.patience, cfg.max_epochs);
    let client = |epoch: usize, logits: &[EncMatrix<_>]| {
        validator.decide(epoch, &decrypt_matrix(&sim, &logits[0]).unwrap())
    };
    let out = train(
        &trainer,
        &batches,
        std::slice::from_ref(&val_x),
        cfg.max_epochs,
        client,
    )
    .unwrap();

    assert_eq!(out.epochs, reference.epochs);
    assert_eq!(out.best_epoch, reference.best_epoch);
    let w = decrypt_matrix(&sim, &out.weights).unwrap();
    let err = w
        .iter()
        .zip(&reference.model.w)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    let top_w = reference.model.w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        err <= 1e-9 * top_w.max(1.0),
        "weights differ by {err} (max |w| {top_w})"
    );
    assert_eq!(out.steps, reference.epochs * 3);
    assert!(
        out.steps_report.iter().any(|r| r.policy_bootstraps > 0),
        "policy never bootstrapped"
    );

    // The same run with the row function's value at zero declared: the first
    // step skips the logits and the row function (fewer key switches and
    // plaintext products) and the run ends with the same weights.
    let known = LinearRow {
        classes,
        period,
        known_zero: true,
    };
    let trainer = Trainer::new(&sim, &known, layout, upd, &NoClock).unwrap();
    let mut validator = Validator::new(data.val.y.clone(), classes, cfg.patience, cfg.max_epochs);
    let client = |epoch: usize, logits: &[EncMatrix<_>]| {
        validator.decide(epoch, &decrypt_matrix(&sim, &logits[0]).unwrap())
    };
    let fast = train(
        &trainer,
        &batches,
        std::slice::from_ref(&val_x),
        cfg.max_epochs,
        client,
    )
    .unwrap();
    assert_eq!((fast.epochs, fast.best_epoch), (out.epochs, out.best_epoch));
    let w_fast = decrypt_matrix(&sim, &fast.weights).unwrap();
    let diff = w_fast
        .iter()
        .zip(&w)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(diff <= 1e-9 * top_w.max(1.0), "weights differ by {diff}");
    let (a, b) = (&fast.steps_report[0].ops, &out.steps_report[0].ops);
    assert!(
        a.key_switches() < b.key_switches() && a.mul_plain < b.mul_plain,
        "first step not cheaper: {a:?} vs {b:?}"
    );

    // The model is a real classifier on the held-out test rows.
    let model = plain::Model {
        w,
        cols: data.train.cols,
        classes,
    };
    let acc = model.accuracy(&data.test);
    assert_eq!(acc, reference.model.accuracy(&data.test));
    assert!(acc > 0.5, "test accuracy {acc}");
}
