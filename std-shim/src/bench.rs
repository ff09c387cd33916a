//! `hetal bench-train`: real encrypted training steps on random features of the
//! paper's shapes, timed by component.

use std::sync::Arc;
use std::time::Instant;

use hetal_core::boot::Bootstrapper;
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::hetal::client;
use hetal_core::hetal::plain::Features;
use hetal_core::hetal::shapes::paper_shape;
use hetal_core::hetal::train::{StepReport, TrainLayout, Trainer, UpdateConfig};
use hetal_core::linalg::UnitShape;
use hetal_core::slots::CkksEngine;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::{Value, json};

use crate::enc::{WallClock, boot_params, gen_server_keys, softmax};
use crate::exec::RayonExecutor;
use crate::files::CliError;

/// A training shape: batch rows, classes, feature columns (bias included), learning rate.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchShape {
    /// Name (a paper data set, or `custom`).
    pub name: String,
    /// Rows per mini-batch.
    pub batch: usize,
    /// Classes.
    pub classes: usize,
    /// Columns, bias included.
    pub cols: usize,
    /// Learning rate.
    pub lr: f64,
}

impl BenchShape {
    /// A paper shape by name (`mnist`, `cifar10`, `facemask`, `derma`, `snips`) or
    /// `BATCH:CLASSES:COLS` (columns with the bias, learning rate 1).
    pub fn parse(s: &str) -> Result<Self, CliError> {
        if let Some(p) = paper_shape(s) {
            return Ok(Self {
                name: p.name.into(),
                batch: p.batch,
                classes: p.classes,
                cols: p.cols,
                lr: p.lr,
            });
        }
        let parts: Vec<usize> = s
            .split(':')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| CliError::msg(format!("unknown shape {s:?}: use mnist, cifar10, facemask, derma, snips or BATCH:CLASSES:COLS")))?;
        match parts[..] {
            [batch, classes, cols] if batch >= 1 && classes >= 2 && cols >= 2 => Ok(Self {
                name: "custom".into(),
                batch,
                classes,
                cols,
                lr: 1.0,
            }),
            _ => Err(CliError::msg(format!(
                "shape {s:?}: need BATCH >= 1, CLASSES >= 2, COLS >= 2"
            ))),
        }
    }
}

/// What `bench-train` measured.
#[derive(Clone, Debug)]
pub struct BenchResult {
    /// The shape.
    pub shape: BenchShape,
    /// Parameter set name.
    pub preset: String,
    /// Threads.
    pub threads: usize,
    /// One report per step.
    pub steps: Vec<StepReport>,
    /// Wall time of each whole step.
    pub step_seconds: Vec<f64>,
    /// Forming the weights and one batch's logits (what validation costs per chunk).
    pub validation_seconds: f64,
    /// Key generation and encryption (not part of a step).
    pub setup_seconds: f64,
}

impl BenchResult {
    /// The JSON report: per-step components and their means.
    pub fn to_json(&self) -> Value {
        let comp = |r: &StepReport| {
            let t = &r.times;
            json!({
                "matrix_products": t.abt + t.atb,
                "abt": t.abt,
                "atb": t.atb,
                "softmax": t.softmax,
                "bootstrapping": t.bootstrap,
                "update": t.update,
                "total": t.abt + t.atb + t.softmax + t.bootstrap + t.update,
                "bootstraps": r.ops.bootstrap,
                "policy_bootstraps": r.policy_bootstraps,
                "key_switches": r.ops.key_switches(),
            })
        };
        let n = self.steps.len().max(1) as f64;
        let mean = |f: &dyn Fn(&StepReport) -> f64| self.steps.iter().map(f).sum::<f64>() / n;
        json!({
            "shape": {
                "name": self.shape.name,
                "batch": self.shape.batch,
                "classes": self.shape.classes,
                "cols": self.shape.cols,
            },
            "preset": self.preset,
            "threads": self.threads,
            "cpu": crate::info::cpu_model(),
            "steps": self.steps.iter().map(comp).collect::<Vec<_>>(),
            "step_wall_seconds": self.step_seconds,
            "mean": {
                "matrix_products": mean(&|r| r.times.abt + r.times.atb),
                "softmax": mean(&|r| r.times.softmax),
                "bootstrapping": mean(&|r| r.times.bootstrap),
                "update": mean(&|r| r.times.update),
                "total": mean(&|r| r.times.total()),
            },
            "validation_seconds": self.validation_seconds,
            "setup_seconds": self.setup_seconds,
        })
    }
}

/// Runs `steps` encrypted training steps at `shape` on random features (`|x| <= 1`,
/// bias column 1, random labels) with `params`, on `threads` threads (rayon's global
/// pool if `None`).
pub fn bench_train(
    shape: &BenchShape,
    params: Params,
    steps: usize,
    threads: Option<usize>,
    log: &mut dyn FnMut(&str),
) -> Result<BenchResult, CliError> {
    if steps == 0 {
        return Err(CliError::msg("--steps must be at least 1"));
    }
    let exec = match threads {
        Some(t) => RayonExecutor::with_threads(t)
            .map_err(|e| CliError::msg(format!("cannot start {t} threads: {e}")))?,
        None => RayonExecutor::global(),
    };
    let nthreads = exec.threads();
    let ctx = CkksContext::new(params)
        .map_err(|e| CliError::msg(format!("cannot build the parameter set: {e}")))?
        .with_executor(Arc::new(exec));
    let bp = boot_params(ctx.params(), true).ok_or_else(|| {
        CliError::msg(format!(
            "{} cannot bootstrap, so it cannot train",
            ctx.params().name()
        ))
    })?;
    let setup = Instant::now();
    // A fixed seed: the features are random, the keys are throw-away.
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let err = |e: hetal_core::ckks::CkksError| CliError::msg(format!("key generation: {e}"));
    let sk = ctx.gen_secret_key(&mut rng).map_err(err)?;
    let keys = gen_server_keys(&ctx, &sk, shape.batch, shape.classes, &mut rng)?;
    let enc = keys
        .boot
        .ok_or_else(|| CliError::msg("no bootstrapping keys"))?;
    let boot = Bootstrapper::from_keys(&ctx, bp, enc).map_err(err)?;
    let ev = CkksEngine::new(&ctx, &keys.evk)
        .with_secret_key(&sk, [9; 32])
        .with_bootstrapper(&boot);
    log(&format!(
        "{}: {} Galois keys and the bootstrapper in {:.1} s",
        ctx.params().name(),
        keys.rotations,
        setup.elapsed().as_secs_f64()
    ));
    let unit = UnitShape::hetal(shape.batch, shape.classes, ctx.params().max_slots())
        .map_err(|e| CliError::msg(format!("shape: {e}")))?;
    let layout = TrainLayout {
        unit,
        cols: shape.cols,
        classes: shape.classes,
    };
    let rows = shape.batch * steps;
    let mut x = Vec::with_capacity(rows * shape.cols);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        for c in 0..shape.cols {
            x.push(if c + 1 == shape.cols {
                1.0
            } else {
                // Uniform in [-1, 1).
                (rng.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            });
        }
        y.push(rng.next_u64() as usize % shape.classes);
    }
    let f = Features {
        x,
        y,
        cols: shape.cols,
        classes: shape.classes,
    };
    let terr = |e: hetal_core::hetal::train::TrainError| CliError::msg(format!("training: {e}"));
    let batches = client::encrypt_batches(&ev, &layout, &f, shape.batch, 0).map_err(terr)?;
    let setup_seconds = setup.elapsed().as_secs_f64();
    let sm = softmax(shape.classes)?;
    let clock = WallClock::default();
    let upd = UpdateConfig {
        lr: shape.lr,
        momentum: 0.9,
        weight_scale: 4.0,
    };
    let trainer = Trainer::new(&ev, &sm, layout, upd, &clock).map_err(terr)?;
    let mut st = trainer.init_state(&batches[0].x).map_err(terr)?;
    let mut reports = Vec::new();
    let mut walls = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let t = Instant::now();
        let r = trainer.step(&mut st, b).map_err(terr)?;
        walls.push(t.elapsed().as_secs_f64());
        log(&format!(
            "step {}/{steps}: {:.2} s (matrix products {:.2}, softmax {:.2}, bootstrapping {:.2}, update {:.3}; {} bootstraps)",
            i + 1,
            r.times.total(),
            r.times.abt + r.times.atb,
            r.times.softmax,
            r.times.bootstrap,
            r.times.update,
            r.ops.bootstrap
        ));
        reports.push(r);
    }
    let t = Instant::now();
    let w = trainer.weights(&st).map_err(terr)?;
    trainer.logits(&batches[0].x, &w).map_err(terr)?;
    let validation_seconds = t.elapsed().as_secs_f64();
    Ok(BenchResult {
        shape: shape.clone(),
        preset: ctx.params().name().into(),
        threads: nthreads,
        steps: reports,
        step_seconds: walls,
        validation_seconds,
        setup_seconds,
    })
}
