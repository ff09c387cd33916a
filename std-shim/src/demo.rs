//! The embedded demo set (see `std-shim/data/demo/README.md`) and the plaintext demo.

use std::path::Path;
use std::time::Instant;

use hetal_core::hetal::plain::{self, Features, NagConfig};

use crate::data::{Matrix, Split, features_npy, labels_npy};
use crate::files::CliError;
use crate::report::{EpochPoint, Report};

const FILES: [(&str, &[u8], &[u8]); 3] = [
    (
        "train",
        include_bytes!("../data/demo/train_x.npy"),
        include_bytes!("../data/demo/train_y.npy"),
    ),
    (
        "val",
        include_bytes!("../data/demo/val_x.npy"),
        include_bytes!("../data/demo/val_y.npy"),
    ),
    (
        "test",
        include_bytes!("../data/demo/test_x.npy"),
        include_bytes!("../data/demo/test_y.npy"),
    ),
];

/// Class names of the demo set.
pub const CLASSES: &str = include_str!("../data/demo/classes.txt");

/// The embedded train, validation and test splits (64-d Fashion-MNIST features).
pub fn embedded() -> Result<[Split; 3], CliError> {
    let load = |i: usize| -> Result<Split, CliError> {
        let (name, x, y) = FILES[i];
        let px = format!("embedded:demo/{name}_x.npy");
        let py = format!("embedded:demo/{name}_y.npy");
        let x: Matrix = features_npy(Path::new(&px), x)?;
        let y: Vec<usize> = labels_npy(Path::new(&py), y)?
            .into_iter()
            .map(|v| v as usize)
            .collect();
        Ok(Split { x, y })
    };
    Ok([load(0)?, load(1)?, load(2)?])
}

/// Prepared (scaled, bias column) train, validation and test features, with the scale.
pub fn prepare(splits: &[Split; 3], classes: usize) -> Result<([Features; 3], f64), CliError> {
    let scale = Features::max_abs(&splits[0].x.data);
    let prep = |s: &Split| {
        Features::prepare(&s.x.data, s.x.cols, &s.y, classes, scale)
            .map_err(|e| CliError::msg(format!("embedded demo set: {e}")))
    };
    Ok((
        [prep(&splits[0])?, prep(&splits[1])?, prep(&splits[2])?],
        scale,
    ))
}

/// Trains the plaintext reference on the embedded set and builds the report.
pub fn run_plain(cfg: &NagConfig, log: &mut dyn FnMut(&str)) -> Result<Report, CliError> {
    let start = Instant::now();
    let splits = embedded()?;
    let classes = CLASSES.lines().filter(|l| !l.is_empty()).count();
    let ([train, val, test], _) = prepare(&splits, classes)?;
    log(&format!(
        "demo set: {} train / {} val / {} test rows, {} features, {classes} classes",
        train.rows(),
        val.rows(),
        test.rows(),
        train.cols - 1
    ));
    // Re-run epoch by epoch through the reference trainer's own loop: one call with the
    // full configuration, then per-epoch figures from its validation history.
    let run = plain::train(&train, &val, cfg, &mut |z: &mut [f64]| {
        plain::softmax_exact(z)
    });
    let per_epoch = start.elapsed().as_secs_f64() / run.epochs.max(1) as f64;
    let epochs: Vec<EpochPoint> = run
        .val_loss
        .iter()
        .enumerate()
        .map(|(i, &l)| EpochPoint {
            epoch: i + 1,
            val_loss: l,
            val_acc: f64::NAN,
            seconds: per_epoch,
        })
        .collect();
    let test_acc = run.model.accuracy(&test);
    log(&format!(
        "plaintext: {} epochs (kept epoch {}), validation accuracy {:.4}, test accuracy {:.4}",
        run.epochs,
        run.best_epoch,
        run.model.accuracy(&val),
        test_acc
    ));
    Ok(Report {
        mode: "plaintext".into(),
        preset: "none".into(),
        dataset: "demo (Fashion-MNIST, EfficientNet-Lite0 + PCA 64)".into(),
        rows: [train.rows(), val.rows(), test.rows()],
        dim: train.cols - 1,
        classes,
        lr: cfg.lr,
        momentum: cfg.momentum,
        batch: cfg.batch,
        max_epochs: cfg.max_epochs,
        patience: cfg.patience,
        epochs,
        best_epoch: run.best_epoch,
        test_acc_plain: test_acc,
        test_acc_encrypted: None,
        total_seconds: start.elapsed().as_secs_f64(),
    })
}
