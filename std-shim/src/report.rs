//! The training report (`report.json`) and curve (`curve.svg`) that `hetal demo`
//! and `hetal client` write.

use plotters::prelude::*;
use serde_json::{Value, json};

/// One epoch of a run, as plotted and reported.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochPoint {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Validation loss.
    pub val_loss: f64,
    /// Validation accuracy (`0..=1`; NaN when not measured, then not plotted).
    pub val_acc: f64,
    /// Seconds the epoch took.
    pub seconds: f64,
}

/// Everything a report holds.
#[derive(Clone, Debug)]
pub struct Report {
    /// `"plaintext"` or `"encrypted"`.
    pub mode: String,
    /// Parameter preset name (or `"none"` for plaintext).
    pub preset: String,
    /// Data set name.
    pub dataset: String,
    /// Training, validation and test rows.
    pub rows: [usize; 3],
    /// Feature dimension (without the bias).
    pub dim: usize,
    /// Classes.
    pub classes: usize,
    /// Learning rate, momentum, batch size, epoch cap, patience.
    pub lr: f64,
    /// Momentum.
    pub momentum: f64,
    /// Batch size.
    pub batch: usize,
    /// Epoch cap.
    pub max_epochs: usize,
    /// Patience.
    pub patience: usize,
    /// Per-epoch figures.
    pub epochs: Vec<EpochPoint>,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Test accuracy of the plaintext reference model.
    pub test_acc_plain: f64,
    /// Test accuracy of the decrypted encrypted-trained model, if any.
    pub test_acc_encrypted: Option<f64>,
    /// Total wall time in seconds.
    pub total_seconds: f64,
    /// Server-side time per training step split by component (encrypted runs).
    pub timing: Option<Timing>,
    /// Wall seconds of the run's phases in order (key generation, encryption,
    /// training, ...; empty when not measured).
    pub phases: Vec<(String, f64)>,
}

/// Where the server's training time went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timing {
    /// Training steps run.
    pub steps: usize,
    /// Seconds summed over the steps, per component (validation is per epoch).
    pub times: hetal_core::hetal::train::Times,
    /// Bootstraps placed by the training policy (the softmax's own not included).
    pub policy_bootstraps: usize,
    /// Bootstraps in total (softmax and policy).
    pub bootstraps: usize,
}

impl Timing {
    /// Adds one step's report.
    pub fn add(&mut self, r: &hetal_core::hetal::train::StepReport) {
        self.steps += 1;
        let (t, s) = (&mut self.times, &r.times);
        t.abt += s.abt;
        t.softmax += s.softmax;
        t.atb += s.atb;
        t.bootstrap += s.bootstrap;
        t.update += s.update;
        self.policy_bootstraps += r.policy_bootstraps;
        self.bootstraps += r.ops.bootstrap as usize;
    }

    /// Seconds per step (validation excluded).
    pub fn per_step(&self) -> f64 {
        let t = &self.times;
        (t.abt + t.softmax + t.atb + t.bootstrap + t.update) / self.steps.max(1) as f64
    }

    /// The JSON object: per-step means of each component.
    pub fn to_json(&self) -> Value {
        let n = self.steps.max(1) as f64;
        let t = &self.times;
        json!({
            "steps": self.steps,
            "seconds_per_step": self.per_step(),
            "per_step": {
                "matrix_products": (t.abt + t.atb) / n,
                "abt": t.abt / n,
                "atb": t.atb / n,
                "softmax": t.softmax / n,
                "bootstrapping": t.bootstrap / n,
                "update": t.update / n,
            },
            "validation_seconds_total": t.validation,
            "bootstraps_per_step": self.bootstraps as f64 / n,
            "policy_bootstraps_per_step": self.policy_bootstraps as f64 / n,
        })
    }
}

impl Report {
    /// The JSON document.
    pub fn to_json(&self) -> Value {
        json!({
            "mode": self.mode,
            "preset": self.preset,
            "dataset": self.dataset,
            "rows": { "train": self.rows[0], "val": self.rows[1], "test": self.rows[2] },
            "dim": self.dim,
            "classes": self.classes,
            "config": {
                "lr": self.lr,
                "momentum": self.momentum,
                "batch": self.batch,
                "max_epochs": self.max_epochs,
                "patience": self.patience,
            },
            "epochs_run": self.epochs.len(),
            "best_epoch": self.best_epoch,
            "epochs": self.epochs.iter().map(|e| json!({
                "epoch": e.epoch,
                "val_loss": e.val_loss,
                "val_acc": e.val_acc,
                "seconds": e.seconds,
            })).collect::<Vec<_>>(),
            "test_acc_plaintext": self.test_acc_plain,
            "test_acc_encrypted": self.test_acc_encrypted,
            "total_seconds": self.total_seconds,
            "timing": self.timing.as_ref().map(Timing::to_json),
            "phases_seconds": self.phases.iter().map(|(k, v)| json!({ "phase": k, "seconds": v })).collect::<Vec<_>>(),
            "cpu": crate::info::cpu_model(),
            "threads": rayon::current_num_threads(),
        })
    }

    /// The training curve: validation loss (left axis) and accuracy (right axis) per
    /// epoch, best epoch marked.
    pub fn curve_svg(&self) -> Result<String, String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let n = self.epochs.len().max(2);
            let max_loss = self
                .epochs
                .iter()
                .map(|e| e.val_loss)
                .fold(0.0, f64::max)
                .max(1e-3)
                * 1.1;
            let mut chart = ChartBuilder::on(&root)
                .caption(
                    if self.preset == "none" {
                        format!("{} training on {}", self.mode, self.dataset)
                    } else {
                        format!(
                            "{} training ({}) on {}",
                            self.mode, self.preset, self.dataset
                        )
                    },
                    ("sans-serif", 16),
                )
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(52)
                .right_y_label_area_size(52)
                .build_cartesian_2d(1usize..n, 0.0..max_loss)
                .map_err(|e| e.to_string())?
                .set_secondary_coord(1usize..n, 0.0..1.0);
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc("validation loss")
                .draw()
                .map_err(|e| e.to_string())?;
            chart
                .configure_secondary_axes()
                .y_desc("validation accuracy")
                .draw()
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(LineSeries::new(
                    self.epochs.iter().map(|e| (e.epoch, e.val_loss)),
                    &BLUE,
                ))
                .map_err(|e| e.to_string())?
                .label("validation loss")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
            chart
                .draw_secondary_series(LineSeries::new(
                    self.epochs
                        .iter()
                        .filter(|e| e.val_acc.is_finite())
                        .map(|e| (e.epoch, e.val_acc)),
                    &RED,
                ))
                .map_err(|e| e.to_string())?
                .label("validation accuracy")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
            if let Some(b) = self.epochs.iter().find(|e| e.epoch == self.best_epoch) {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (b.epoch, b.val_loss),
                        5,
                        BLACK.filled(),
                    )))
                    .map_err(|e| e.to_string())?
                    .label(format!("kept: epoch {}", b.epoch))
                    .legend(|(x, y)| Circle::new((x + 8, y), 4, BLACK.filled()));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(svg)
    }
}
