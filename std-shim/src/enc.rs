//! The encrypted trainer behind `hetal train`, `hetal serve` and `hetal demo`, and the
//! key material it needs.
//!
//! The server builds its CKKS engine from public material only: the client's
//! evaluation keys (relinearization, conjugation and exactly the rotations of the
//! training circuit, the softmax and bootstrapping) and the bootstrapping
//! encapsulation keys ([`hetal_core::boot::EncapsulationKeys`]); it never sees the
//! secret key. Training is [`hetal_core::hetal::train::Trainer`] driven epoch by epoch
//! with the client's early stopping, and an encrypted [`Checkpoint`] after every epoch
//! (and every `checkpoint_steps` steps) so a crashed server resumes with `--resume`.

use std::path::PathBuf;
use std::time::Instant;

use hetal_core::boot::{BootParams, Bootstrapper, EncapsulationKeys};
use hetal_core::ckks::{CkksContext, EvaluationKeys, Params};
use hetal_core::codec;
use hetal_core::hetal::protocol::{Checkpoint, Decision, EncMatrix, Layout};
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
use hetal_core::hetal::train::{
    Clock, EncBatch, NagState, StepReport, TrainLayout, Trainer, UpdateConfig,
};
use hetal_core::hetal::tune;
use hetal_core::linalg::{UnitShape, padded_classes};
use hetal_core::rlwe::SecretKey;
use hetal_core::slots::{CkksEngine, SimParams, SlotSim};
use rand_core::CryptoRng;

use crate::files::{self, CliError};
use crate::session::{ServerEvent, TrainFn, TrainJob, TrainResult, Validate};

/// The bootstrapping parameters used with `params`, or `None` if its chain is too
/// short to bootstrap (then it cannot train). `server` precomputes the DFT plaintexts
/// (fast, memory-hungry); the client only needs the rotation list and the keys, so it
/// encodes neither CoeffToSlot's nor SlotToCoeff's diagonals.
pub fn boot_params(params: &Params, server: bool) -> Option<BootParams> {
    let mut bp = BootParams::full(params);
    bp.precompute = server;
    bp.precompute_stc = server;
    (bp.depth(params.n()) < params.max_level()).then_some(bp)
}

/// The level the client encrypts training data at: a bootstrap's output level (the
/// levels above it only serve bootstrapping), or the top for a preset that cannot
/// bootstrap.
pub fn data_level(params: &Params) -> usize {
    boot_params(params, false).map_or(params.max_level(), |bp| {
        params.max_level() - bp.depth(params.n())
    })
}

/// The row softmax for `classes` classes and logits in `[-bound, bound]` (HETAL's
/// wide-domain softmax with our polynomials, rows padded to `c'`):
/// `SoftmaxSpec::ours` at the full domain 128; on a narrower domain the same relative
/// accuracy of the max costs a lower `|t|` degree and the smaller range of the row sum
/// a shallower inverse, so the circuit is shallower. Training uses
/// [`training_softmax`], which picks the polynomials for its layout.
pub fn softmax(classes: usize, bound: f64) -> Result<Softmax, CliError> {
    let cp = padded_classes(classes);
    let spec = if bound >= 128.0 {
        SoftmaxSpec::ours(classes, cp)
    } else {
        SoftmaxSpec::ours_with(classes, cp, bound, 62, 3)
    };
    Softmax::new(spec, classes, cp)
        .map_err(|e| CliError::msg(format!("softmax for {classes} classes: {e}")))
}

/// Steps simulated per softmax candidate: the weights' refresh pattern repeats
/// every few steps (five at the paper's shapes).
const TUNE_STEPS: usize = 5;

/// The softmax training uses on `layout` with batches of `batch` rows: of
/// [`hetal_core::hetal::tune::softmax_candidates`] the one with the fewest bootstraps
/// per step, counted by running steps on the exact simulator with `params`' chain and
/// bootstrap level (seconds to a minute; logged with the counts).
pub fn training_softmax(
    params: &Params,
    layout: &TrainLayout,
    batch: usize,
    bound: f64,
    log: &mut dyn FnMut(&str),
) -> Result<Softmax, CliError> {
    let t = Instant::now();
    let sim = SlotSim::new(
        SimParams::new(params.max_slots(), params.q(), params.default_scale())
            .with_bootstrap(data_level(params), 1e6),
    )
    .map_err(|e| CliError::msg(format!("simulator: {e}")))?;
    let (sm, c) = tune::softmax_for_training(&sim, layout, batch, bound, TUNE_STEPS)
        .map_err(|e| CliError::msg(format!("softmax for {} classes: {e}", layout.classes)))?;
    let degree = sm.spec().max.abs_degree().unwrap_or(0);
    log(&format!(
        "softmax: |t| of degree {degree}, {} exp squarings, depth {}: {:.1} bootstraps per step ({:.1} in the softmax), chosen by simulated steps in {:.1} s",
        sm.spec().exp.squarings,
        sm.depth(),
        c.bootstraps,
        c.bootstraps - c.policy_bootstraps,
        t.elapsed().as_secs_f64()
    ));
    Ok(sm)
}

/// The rotations of the training circuit and the softmax for data in blocks of shape
/// `unit` with `classes` classes (bootstrapping's own come on top): sorted, distinct.
pub fn app_rotations(unit: UnitShape, classes: usize) -> Result<Vec<isize>, CliError> {
    // The rotation plans depend on the block shape and the classes, not the columns.
    let layout = TrainLayout {
        unit,
        cols: 1,
        classes,
    };
    let mut r = layout.rotations();
    // The softmax's rotations do not depend on its domain.
    r.extend(softmax(classes, 128.0)?.rotations());
    r.sort_unstable();
    r.dedup();
    Ok(r)
}

/// Everything the server needs besides the public key.
pub struct ServerKeys {
    /// Relinearization, conjugation and rotation keys.
    pub evk: EvaluationKeys,
    /// Bootstrapping encapsulation keys (`None` for presets that cannot bootstrap).
    pub boot: Option<EncapsulationKeys>,
    /// The rotations generated.
    pub rotations: usize,
}

/// Client side: evaluation keys with exactly the rotations training needs for
/// `classes` classes in mini-batches of `batch` rows (the trainer's, the softmax's and
/// bootstrapping's), and the encapsulation keys.
pub fn gen_server_keys<R: CryptoRng + ?Sized>(
    ctx: &CkksContext,
    sk: &SecretKey,
    batch: usize,
    classes: usize,
    rng: &mut R,
) -> Result<ServerKeys, CliError> {
    let slots = ctx.params().max_slots();
    let unit = UnitShape::hetal(batch, classes, slots).map_err(|e| {
        CliError::msg(format!(
            "{classes} classes do not fit the {} preset's {slots} slots: {e}",
            ctx.params().name()
        ))
    })?;
    let app = app_rotations(unit, classes)?;
    let err = |e: hetal_core::ckks::CkksError| CliError::msg(format!("key generation failed: {e}"));
    match boot_params(ctx.params(), false) {
        Some(bp) => {
            let boot = Bootstrapper::new(ctx, bp, sk, rng).map_err(err)?;
            let evk = boot.gen_evaluation_keys(ctx, sk, &app, rng).map_err(err)?;
            let rotations = evk.galois.len();
            Ok(ServerKeys {
                evk,
                boot: Some(boot.encapsulation_keys().clone()),
                rotations,
            })
        }
        None => {
            let evk = ctx.gen_evaluation_keys(sk, &app, true, rng).map_err(err)?;
            let rotations = evk.galois.len();
            Ok(ServerKeys {
                evk,
                boot: None,
                rotations,
            })
        }
    }
}

/// A wall clock for the trainer's instrumentation.
pub struct WallClock(Instant);

impl Default for WallClock {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl Clock for WallClock {
    fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// Where and how often the server writes checkpoints, and whether it starts from one.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// Checkpoint file (written after every epoch, through a temporary file and a
    /// rename); `None`: no checkpoints.
    pub checkpoint: Option<PathBuf>,
    /// Also write it every this many steps inside an epoch.
    pub checkpoint_steps: Option<usize>,
    /// Start from the checkpoint if it exists (it must belong to the same data, keys
    /// and hyper-parameters).
    pub resume: bool,
}

/// FNV-1a over 64-bit words.
fn fnv(h: &mut u64, words: impl IntoIterator<Item = u64>) {
    for w in words {
        for b in w.to_le_bytes() {
            *h ^= u64::from(b);
            *h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Identifies a run: the data set's shape, a sample of every uploaded ciphertext and
/// the public key (a checkpoint is only resumed on the run it came from).
fn run_id(job: &TrainJob<'_>) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let d = &job.data;
    fnv(
        &mut h,
        [
            u64::from(d.features),
            u64::from(d.classes),
            d.train_rows,
            d.val_rows,
        ],
    );
    let sample = |h: &mut u64, m: &EncMatrix| {
        fnv(h, [u64::from(m.rows), u64::from(m.cols)]);
        for ct in &m.cts {
            fnv(h, ct.c0.data().iter().take(64).copied());
            fnv(h, ct.c1.data().iter().take(64).copied());
        }
    };
    for b in &d.train {
        sample(&mut h, &b.x);
        sample(&mut h, &b.y);
    }
    d.val.iter().for_each(|m| sample(&mut h, m));
    fnv(&mut h, job.public_key.b.data().iter().take(256).copied());
    h
}

/// Checks that `keys` hold every Galois element training needs, naming the first
/// missing rotation.
fn check_keys(
    ctx: &CkksContext,
    keys: &EvaluationKeys,
    app: &[isize],
    boot: &Bootstrapper,
) -> Result<(), String> {
    if keys.relin.is_none() {
        return Err("the evaluation keys have no relinearization key".into());
    }
    for &r in app {
        if !keys.galois.contains_key(&ctx.rotation_element(r)) {
            return Err(format!(
                "the evaluation keys lack the rotation by {r} (needed by the training circuit or the softmax; regenerate them with `hetal keygen --classes C --batch B` for this data)"
            ));
        }
    }
    for &r in &boot.rotations() {
        if !keys.galois.contains_key(&ctx.rotation_element(r)) {
            return Err(format!(
                "the evaluation keys lack the rotation by {r} (needed by bootstrapping)"
            ));
        }
    }
    if let Some(g) = boot
        .galois_elements(ctx)
        .into_iter()
        .find(|g| !keys.galois.contains_key(g))
    {
        return Err(format!(
            "the evaluation keys lack the Galois element {g} (conjugation, needed by bootstrapping)"
        ));
    }
    Ok(())
}

fn block_matrix(
    m: EncMatrix,
    what: &str,
) -> Result<hetal_core::linalg::EncMatrix<hetal_core::ckks::Ciphertext>, String> {
    m.into_blocks()
        .map_err(|e| format!("{what} is not in the trainer's block layout: {e}"))
}

/// The server's encrypted [`TrainFn`]: HETAL training with bootstrapping on the
/// client's public material, early stopping by the client's decisions, checkpoints as
/// `opts` says.
pub fn encrypted_trainer(opts: ServerOptions) -> Box<TrainFn> {
    Box::new(
        move |job: TrainJob<'_>,
              validate: &mut Validate<'_>,
              events: &mut dyn FnMut(ServerEvent)| {
            train_encrypted(job, &opts, validate, events)
        },
    )
}

fn train_encrypted(
    job: TrainJob<'_>,
    opts: &ServerOptions,
    validate: &mut Validate<'_>,
    events: &mut dyn FnMut(ServerEvent),
) -> Result<TrainResult, String> {
    let ctx: &CkksContext = job.ctx;
    let id = run_id(&job);
    let cfg = job.config.clone();
    let Some(bp) = boot_params(ctx.params(), true) else {
        return Err(format!(
            "the parameter set {} cannot bootstrap, so it cannot train",
            ctx.params().name()
        ));
    };
    let Some(enc_keys) = job.boot else {
        return Err("the client sent no bootstrapping keys (regenerate the keys with this version of `hetal keygen`)".into());
    };
    let data = job.data;
    let classes = data.classes as usize;
    let unit = match data.train[0].x.layout {
        Layout::Block { unit, .. } => unit,
        Layout::RowMajor => {
            return Err("the data set is row-major; re-encrypt it with `hetal encrypt`".into());
        }
    };
    let layout = TrainLayout {
        unit,
        cols: data.features as usize,
        classes,
    };
    let batch_rows = data.train.first().map_or(0, |b| b.x.rows as usize);
    let softmax = training_softmax(
        ctx.params(),
        &layout,
        batch_rows,
        cfg.logit_bound,
        &mut |text| events(ServerEvent::Note(text.to_string())),
    )
    .map_err(|e| e.0)?;
    let boot = Bootstrapper::from_keys(ctx, bp, enc_keys)
        .map_err(|e| format!("cannot build the bootstrapper: {e}"))?;
    let app = app_rotations(unit, classes).map_err(|e| e.0)?;
    check_keys(ctx, &job.keys, &app, &boot)?;
    let ev = CkksEngine::new(ctx, &job.keys).with_bootstrapper(&boot);
    let clock = WallClock::default();
    let upd = UpdateConfig {
        lr: cfg.lr,
        momentum: cfg.momentum,
        weight_scale: cfg.weight_scale,
    };
    let trainer =
        Trainer::new(&ev, &softmax, layout, upd, &clock).map_err(|e| format!("trainer: {e}"))?;
    let batches: Vec<EncBatch<_>> = data
        .train
        .into_iter()
        .map(|b| {
            let rows = b.x.rows as usize;
            Ok(EncBatch {
                x: block_matrix(b.x, "a training batch")?,
                y: block_matrix(b.y, "a label batch")?,
                rows,
            })
        })
        .collect::<Result<_, String>>()?;
    let val = data
        .val
        .into_iter()
        .map(|m| block_matrix(m, "a validation matrix"))
        .collect::<Result<Vec<_>, _>>()?;
    let steps = batches.len();

    let fresh = || -> Result<_, String> {
        let st = trainer
            .init_state(&batches[0].x)
            .map_err(|e| format!("initial state: {e}"))?;
        Ok((0u32, 0usize, st, Vec::new(), None, Vec::new()))
    };
    let (done_epochs, done_steps, mut st, mut decisions, mut best, mut sent) = match (
        &opts.checkpoint,
        opts.resume,
    ) {
        (Some(path), true) if path.exists() => {
            let bytes = files::read(path).map_err(|e| e.0)?;
            let c = codec::decode_checkpoint(ctx, &bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if c.run_id != id || c.config != cfg {
                return Err(format!(
                    "{}: the checkpoint belongs to another run (other data, keys or hyper-parameters)",
                    path.display()
                ));
            }
            if c.step as usize >= steps.max(1) && c.step != 0 {
                return Err(format!("{}: checkpoint step out of range", path.display()));
            }
            let u = block_matrix(c.u, "the checkpoint's weights")?;
            let v = block_matrix(c.v, "the checkpoint's velocity")?;
            let best = match c.best {
                Some((e, w)) => Some((e, block_matrix(w, "the checkpoint's kept weights")?)),
                None => None,
            };
            events(ServerEvent::Resumed {
                epoch: c.epoch,
                step: c.step as usize,
            });
            (
                c.epoch,
                c.step as usize,
                NagState { u, v, fresh: false },
                c.decisions,
                best,
                c.logits,
            )
        }
        _ => fresh()?,
    };
    let save = |epoch: u32,
                step: usize,
                st: &NagState<hetal_core::ckks::Ciphertext>,
                decisions: &[Decision],
                best: &Option<(
        u32,
        hetal_core::linalg::EncMatrix<hetal_core::ckks::Ciphertext>,
    )>,
                sent: &[Vec<EncMatrix>]|
     -> Result<(), String> {
        let Some(path) = &opts.checkpoint else {
            return Ok(());
        };
        let c = Checkpoint {
            run_id: id,
            config: cfg.clone(),
            epoch,
            step: step as u32,
            u: EncMatrix::from_blocks(st.u.clone()),
            v: EncMatrix::from_blocks(st.v.clone()),
            decisions: decisions.to_vec(),
            best: best
                .as_ref()
                .map(|(e, w)| (*e, EncMatrix::from_blocks(w.clone()))),
            logits: sent.to_vec(),
        };
        files::write_atomic(path, &codec::encode_checkpoint(ctx, &c), false).map_err(|e| e.0)
    };
    let finish = |st: &NagState<hetal_core::ckks::Ciphertext>,
                  best: Option<(
        u32,
        hetal_core::linalg::EncMatrix<hetal_core::ckks::Ciphertext>,
    )>,
                  epochs: u32|
     -> Result<TrainResult, String> {
        let (best_epoch, weights) = match best {
            Some((e, w)) => (e, w),
            None => (
                0,
                trainer
                    .weights(st)
                    .map_err(|e| format!("final weights: {e}"))?,
            ),
        };
        Ok(TrainResult {
            weights: EncMatrix::from_blocks(weights),
            epochs,
            best_epoch,
        })
    };
    // A reconnecting client sees the validation logits of the finished epochs again
    // (the same ciphertexts), so its early stopping reaches the same state; its
    // decisions must be the ones recorded (the last one's stop flag aside: the server
    // forces it at the epoch cap).
    for (i, logits) in sent.iter().enumerate() {
        let epoch = i as u32 + 1;
        let d = validate(epoch, logits.clone())?;
        if d.improved != decisions[i].improved || (d.stop && !decisions[i].stop) {
            return Err(format!(
                "the client decided {d:?} after epoch {epoch}, {:?} before the restart: not the run of the checkpoint",
                decisions[i]
            ));
        }
    }
    if let Some(d) = decisions.last()
        && d.stop
    {
        // The run had finished: only the model remains to be sent.
        return finish(&st, best, done_epochs);
    }

    for epoch in done_epochs + 1..=cfg.epochs {
        let start = Instant::now();
        let first = if epoch == done_epochs + 1 {
            done_steps
        } else {
            0
        };
        for (i, batch) in batches.iter().enumerate().skip(first) {
            let rep: StepReport = trainer
                .step(&mut st, batch)
                .map_err(|e| format!("epoch {epoch}, step {}: {e}", i + 1))?;
            events(ServerEvent::Step {
                epoch,
                step: i + 1,
                steps,
            });
            events(ServerEvent::StepCost(rep));
            if let Some(k) = opts.checkpoint_steps
                && k > 0
                && (i + 1) % k == 0
                && i + 1 < steps
            {
                save(epoch - 1, i + 1, &st, &decisions, &best, &sent)?;
            }
        }
        let t = clock.seconds();
        let w = trainer
            .weights(&st)
            .map_err(|e| format!("epoch {epoch}: weights: {e}"))?;
        let logits = val
            .iter()
            .map(|x| trainer.logits(x, &w).map(EncMatrix::from_blocks))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("epoch {epoch}: validation logits: {e}"))?;
        events(ServerEvent::ValidationTime(clock.seconds() - t));
        events(ServerEvent::Epoch {
            epoch,
            time: start.elapsed(),
        });
        sent.push(logits.clone());
        let d = validate(epoch, logits)?;
        decisions.push(d);
        if d.improved {
            best = Some((epoch, w));
        }
        let stop = d.stop || epoch == cfg.epochs;
        if stop {
            decisions.last_mut().expect("pushed").stop = true;
        }
        save(epoch, 0, &st, &decisions, &best, &sent)?;
        if stop {
            return finish(&st, best, epoch);
        }
    }
    Err("no epoch to run".into())
}
