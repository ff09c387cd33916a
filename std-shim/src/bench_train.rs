//! `hetal bench-train`: real encrypted HETAL training steps at one of the paper's
//! shapes (`hetal_core::hetal::shapes`), on random features, timed per component.
//!
//! One process plays both roles: the client makes the keys (exactly the rotations
//! the trainer, the softmax and bootstrapping need) and encrypts one mini-batch of
//! random features in `[-1, 1]` with random labels; the server runs `steps` training
//! steps on it with bootstrapping, then one validation pass (the weights and the
//! logits of a batch). The same steps run in plaintext first: the client's weight
//! scale comes from that run, as in `hetal demo`, and the decrypted encrypted
//! weights are compared with it at the end, so a broken step cannot pass for a
//! fast one.

use std::sync::Arc;
use std::time::Instant;

use hetal_core::boot::Bootstrapper;
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::hetal::client;
use hetal_core::hetal::plain::{self, Features, NagConfig};
use hetal_core::hetal::shapes::PaperShape;
use hetal_core::hetal::train::{
    StepReport, Times, TrainLayout, Trainer, UpdateConfig, logit_bound_for, weight_scale_for,
};
use hetal_core::linalg::{UnitShape, decrypt_matrix};
use hetal_core::slots::{CkksEngine, OpCounts};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::enc::{WallClock, boot_params, gen_server_keys, training_softmax};
use crate::exec::RayonExecutor;
use crate::files::CliError;

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchTrainConfig {
    /// The paper's shape (batch, classes, columns, learning rate).
    pub shape: PaperShape,
    /// Training steps timed (after the state is initialised).
    pub steps: usize,
    /// Worker threads.
    pub threads: usize,
    /// Parameter set; it must bootstrap.
    pub params: Params,
    /// The softmax's domain `[-B, B]` (32, 64 or 128).
    pub logit_bound: f64,
}

/// What it measured.
#[derive(Clone, Debug)]
pub struct BenchTrainReport {
    /// Key generation (client), seconds.
    pub keygen: f64,
    /// Encrypting the batch (client), seconds.
    pub encrypt: f64,
    /// Every step's report, in order.
    pub steps: Vec<StepReport>,
    /// One validation pass (forming the weights and the logits of one batch), seconds.
    pub validation: f64,
    /// Largest `|w_encrypted - w_plain|` after the steps (`None` if the plaintext
    /// run's best epoch was not its last, so there is no model of exactly `steps`
    /// steps to compare with).
    pub weight_error: Option<f64>,
    /// Largest `|w_plain|`.
    pub weight_max: f64,
}

impl BenchTrainReport {
    /// Mean wall time per step, per component.
    pub fn mean_times(&self) -> Times {
        Times::mean(self.steps.iter().map(|s| &s.times))
    }

    /// The mean per step of one operation count.
    pub fn mean_ops(&self, count: impl Fn(&OpCounts) -> u64) -> f64 {
        let sum: u64 = self.steps.iter().map(|s| count(&s.ops)).sum();
        sum as f64 / self.steps.len().max(1) as f64
    }
}

/// Random features in `[-1, 1]` (`rows x dim`) and labels, from a fixed seed.
fn random_batch(rows: usize, dim: usize, classes: usize) -> (Vec<f64>, Vec<usize>) {
    let mut rng = ChaCha20Rng::seed_from_u64(0x4845_5441);
    let unit = |r: &mut ChaCha20Rng| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let x = (0..rows * dim)
        .map(|_| 2.0 * unit(&mut rng) - 1.0)
        .collect();
    let y = (0..rows)
        .map(|_| (rng.next_u64() % classes as u64) as usize)
        .collect();
    (x, y)
}

/// Runs the benchmark; `log` gets one line per phase and per step.
pub fn run(
    cfg: &BenchTrainConfig,
    log: &mut dyn FnMut(&str),
) -> Result<BenchTrainReport, CliError> {
    let s = cfg.shape;
    if cfg.steps == 0 {
        return Err(CliError::msg("--steps must be at least 1"));
    }
    let exec = RayonExecutor::with_threads(cfg.threads)
        .map_err(|e| CliError::msg(format!("cannot start {} threads: {e}", cfg.threads)))?;
    let ctx = Arc::new(
        CkksContext::new(cfg.params.clone())
            .map_err(|e| CliError::msg(format!("parameter set: {e}")))?
            .with_executor(Arc::new(exec)),
    );
    let Some(bp) = boot_params(ctx.params(), true) else {
        return Err(CliError::msg(format!(
            "the parameter set {} cannot bootstrap, so it cannot train",
            ctx.params().name()
        )));
    };
    let dim = s.cols - 1;
    let (x, y) = random_batch(s.batch, dim, s.classes);
    let data = Features::prepare(&x, dim, &y, s.classes, 1.0)
        .map_err(|e| CliError::msg(format!("random features: {e}")))?;

    // The plaintext run of the same steps: the weight scale and the reference.
    let nag = NagConfig {
        lr: s.lr,
        momentum: 0.9,
        batch: s.batch,
        max_epochs: cfg.steps,
        patience: 0,
        seed: 0,
    };
    let plain_run = plain::train(&data, &data, &nag, &mut plain::softmax_exact);
    // The margin a client keeps when it picks the domain (`logit_bound_for`).
    if logit_bound_for(plain_run.max_abs_logit).is_none_or(|b| b > cfg.logit_bound) {
        return Err(CliError::msg(format!(
            "the plaintext run's logits reach {:.1}, too close to or outside the softmax's [-{b}, {b}]: use fewer steps or a wider --logit-bound",
            plain_run.max_abs_logit,
            b = cfg.logit_bound
        )));
    }

    // Client: keys and the encrypted batch.
    let mut rng = crate::commands::os_rng()?;
    let t = Instant::now();
    let sk = ctx
        .gen_secret_key(&mut rng)
        .map_err(|e| CliError::msg(format!("key generation failed: {e}")))?;
    let keys = gen_server_keys(&ctx, &sk, s.batch, s.classes, &mut rng)?;
    let keygen = t.elapsed().as_secs_f64();
    log(&format!(
        "keys: {} rotations + bootstrapping, {keygen:.1} s",
        keys.rotations
    ));
    let enc_keys = keys
        .boot
        .ok_or_else(|| CliError::msg("no bootstrapping keys"))?;
    let boot = Bootstrapper::from_keys(&ctx, bp, enc_keys)
        .map_err(|e| CliError::msg(format!("bootstrapper: {e}")))?;
    let unit = UnitShape::hetal(s.batch, s.classes, ctx.params().max_slots())
        .map_err(|e| CliError::msg(format!("unit shape: {e}")))?;
    let layout = TrainLayout {
        unit,
        cols: s.cols,
        classes: s.classes,
    };
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    let ev = CkksEngine::new(&ctx, &keys.evk)
        .with_secret_key(&sk, seed)
        .with_bootstrapper(&boot);
    let t = Instant::now();
    let batches = client::encrypt_batches(&ev, &layout, &data, s.batch, 0)
        .map_err(|e| CliError::msg(format!("encryption: {e}")))?;
    let encrypt = t.elapsed().as_secs_f64();
    log(&format!(
        "batch: {}x{} in {} blocks of {}x{}, encrypted in {encrypt:.1} s",
        s.batch,
        s.cols,
        batches[0].x.blocks().len(),
        unit.s0,
        unit.s1
    ));

    // Server: the steps.
    let sm = training_softmax(ctx.params(), &layout, s.batch, cfg.logit_bound, &mut |t| {
        log(t)
    })?;
    let clock = WallClock::default();
    let upd = UpdateConfig {
        lr: s.lr,
        momentum: 0.9,
        weight_scale: weight_scale_for(plain_run.max_abs_weight),
    };
    let trainer = Trainer::new(&ev, &sm, layout, upd, &clock)
        .map_err(|e| CliError::msg(format!("trainer: {e}")))?;
    let mut st = trainer
        .init_state(&batches[0].x)
        .map_err(|e| CliError::msg(format!("initial state: {e}")))?;
    // Time full steps: from the zero state the first step would skip the
    // logits and the softmax (their output is known), which is not what a
    // step costs.
    st.fresh = false;
    let mut steps = Vec::with_capacity(cfg.steps);
    for k in 1..=cfg.steps {
        let rep = trainer
            .step(&mut st, &batches[0])
            .map_err(|e| CliError::msg(format!("step {k}: {e}")))?;
        log(&format!(
            "step {k}/{}: {:.2} s ({} bootstraps)",
            cfg.steps,
            rep.times.total(),
            rep.ops.bootstrap
        ));
        steps.push(rep);
    }
    let t = Instant::now();
    let w = trainer
        .weights(&st)
        .map_err(|e| CliError::msg(format!("weights: {e}")))?;
    trainer
        .logits(&batches[0].x, &w)
        .map_err(|e| CliError::msg(format!("validation logits: {e}")))?;
    let validation = t.elapsed().as_secs_f64();

    // The client's check: the decrypted weights against the plaintext steps (the
    // plaintext run keeps its best epoch, one step per epoch here).
    let w_enc = decrypt_matrix(&ev, &w).map_err(|e| CliError::msg(format!("decrypt: {e}")))?;
    let weight_max = Features::max_abs(&plain_run.model.w);
    let weight_error = (plain_run.best_epoch == cfg.steps)
        .then(|| Features::max_abs_diff(&w_enc, &plain_run.model.w));
    Ok(BenchTrainReport {
        keygen,
        encrypt,
        steps,
        validation,
        weight_error,
        weight_max,
    })
}

/// The report as text: the configuration, the CPU, the mean time per step by
/// component, operation counts and the weight check.
pub fn summary(cfg: &BenchTrainConfig, r: &BenchTrainReport) -> String {
    use std::fmt::Write;
    let t = r.mean_times();
    let mut out = String::new();
    let s = cfg.shape;
    let _ = writeln!(
        out,
        "bench-train {}: batch {} x {} columns, {} classes, lr {}, softmax on [-{b}, {b}]; preset {}, {} thread(s)",
        s.name,
        s.batch,
        s.cols,
        s.classes,
        s.lr,
        cfg.params.name(),
        cfg.threads,
        b = cfg.logit_bound
    );
    let _ = writeln!(
        out,
        "CPU: {}; SIMD backend: {}",
        crate::info::cpu_model(),
        hetal_simd::Kernels::best().backend().name()
    );
    let _ = writeln!(
        out,
        "keygen {:.1} s, encrypt {:.1} s; {} steps timed",
        r.keygen,
        r.encrypt,
        r.steps.len()
    );
    let _ = writeln!(
        out,
        "time per step (mean): {:.2} s = diag_abt {:.2} + softmax {:.2} + P-Y and diag_atb {:.2} + bootstrapping {:.2} + update {:.2}",
        t.total(),
        t.abt,
        t.softmax,
        t.atb,
        t.bootstrap,
        t.update
    );
    let _ = writeln!(
        out,
        "validation (weights + logits of one batch): {:.2} s",
        r.validation
    );
    let _ = writeln!(
        out,
        "per step: {:.1} bootstraps, {:.0} key switches, {:.0} ciphertext products",
        r.mean_ops(|o| o.bootstrap),
        r.mean_ops(|o| o.key_switches()),
        r.mean_ops(|o| o.mul)
    );
    match r.weight_error {
        Some(e) => {
            let _ = writeln!(
                out,
                "weights vs the plaintext steps: max |diff| {e:.2e} (max |w| {:.3})",
                r.weight_max
            );
        }
        None => {
            let _ = writeln!(
                out,
                "weights vs the plaintext steps: not compared (the plaintext loss rose at the last step)"
            );
        }
    }
    out
}
