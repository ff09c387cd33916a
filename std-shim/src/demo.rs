//! `hetal demo`: the whole protocol in one process on the embedded demo set (see
//! `std-shim/data/demo/README.md`) or on a folder of `.npy` splits, next to the
//! plaintext reference trained on the same batches.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hetal_core::hetal::plain::{self, Features, NagConfig};

use crate::data::{Matrix, Split, check_labels, features_npy, labels_npy, load_split};
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

/// Where the demo's train, validation and test splits come from.
#[derive(Clone, Debug, Default)]
pub enum DataSource {
    /// The embedded 64-d demo set.
    #[default]
    Embedded,
    /// A folder holding `{train,val,test}_{x,y}.npy` (float features, integer labels)
    /// and optionally `classes.txt` (one class name per line), the layout of the
    /// feature sets in `shared/data`.
    Dir(PathBuf),
}

/// The loaded splits of a [`DataSource`].
#[derive(Clone, Debug)]
pub struct DataSet {
    /// What the report calls the set.
    pub name: String,
    /// Train, validation and test.
    pub splits: [Split; 3],
    /// Number of classes.
    pub classes: usize,
}

impl DataSource {
    /// Loads and checks the splits: same feature count everywhere, labels below the
    /// class count (from `classes.txt`, else the largest training label plus one).
    pub fn load(&self) -> Result<DataSet, CliError> {
        let dir = match self {
            DataSource::Embedded => {
                return Ok(DataSet {
                    name: "demo (Fashion-MNIST, EfficientNet-Lite0 + PCA 64)".into(),
                    splits: embedded()?,
                    classes: CLASSES.lines().filter(|l| !l.is_empty()).count(),
                });
            }
            DataSource::Dir(dir) => dir,
        };
        let file = |name: &str| dir.join(name);
        let load = |s: &str| load_split(&file(&format!("{s}_x.npy")), &file(&format!("{s}_y.npy")));
        let splits = [load("train")?, load("val")?, load("test")?];
        let classes_txt = file("classes.txt");
        let classes = if classes_txt.exists() {
            let text = std::fs::read_to_string(&classes_txt)
                .map_err(|e| CliError::at(&classes_txt, format!("cannot read: {e}")))?;
            text.lines().filter(|l| !l.trim().is_empty()).count()
        } else {
            splits[0].y.iter().max().map_or(0, |m| m + 1)
        };
        if classes < 2 {
            return Err(CliError::at(dir, "need at least 2 classes"));
        }
        for (s, name) in splits.iter().zip(["train", "val", "test"]) {
            if s.x.rows == 0 {
                return Err(CliError::at(&file(&format!("{name}_x.npy")), "no rows"));
            }
            if s.x.cols != splits[0].x.cols {
                return Err(CliError::at(
                    &file(&format!("{name}_x.npy")),
                    format!(
                        "{} features per row, the training split has {}",
                        s.x.cols, splits[0].x.cols
                    ),
                ));
            }
            check_labels(&file(&format!("{name}_y.npy")), &s.y, classes)?;
        }
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(DataSet {
            name,
            splits,
            classes,
        })
    }
}

/// Prepared (scaled, bias column) train, validation and test features, with the scale.
pub fn prepare(splits: &[Split; 3], classes: usize) -> Result<([Features; 3], f64), CliError> {
    let scale = Features::max_abs(&splits[0].x.data);
    let prep = |s: &Split| {
        Features::prepare(&s.x.data, s.x.cols, &s.y, classes, scale)
            .map_err(|e| CliError::msg(format!("demo data: {e}")))
    };
    Ok((
        [prep(&splits[0])?, prep(&splits[1])?, prep(&splits[2])?],
        scale,
    ))
}

/// Trains the plaintext reference on the embedded set and builds the report.
pub fn run_plain(
    cfg: &NagConfig,
    source: &DataSource,
    log: &mut dyn FnMut(&str),
) -> Result<Report, CliError> {
    let start = Instant::now();
    let set = source.load()?;
    let classes = set.classes;
    let ([train, val, test], _) = prepare(&set.splits, classes)?;
    log(&format!(
        "{}: {} train / {} val / {} test rows, {} features, {classes} classes",
        set.name,
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
    // What the encrypted run would send the server: the softmax domain bounds the
    // cost of a step (and a run whose logits leave [-128, 128] cannot be encrypted).
    let domain = hetal_core::hetal::train::logit_bound_for(run.max_abs_logit)
        .map_or("none: lower --lr".to_string(), |b| format!("[-{b}, {b}]"));
    log(&format!(
        "largest |logit| {:.1} (softmax domain {domain}), largest |weight| {:.2}",
        run.max_abs_logit, run.max_abs_weight
    ));
    Ok(Report {
        mode: "plaintext".into(),
        preset: "none".into(),
        dataset: set.name,
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
        timing: None,
        phases: Vec::new(),
    })
}

/// What the encrypted demo runs on.
#[derive(Clone, Debug)]
pub struct DemoArgs {
    /// Hyper-parameters (shared with the plaintext reference).
    pub cfg: NagConfig,
    /// The parameter set.
    pub params: hetal_core::ckks::Params,
    /// The data.
    pub source: DataSource,
    /// Use only the first rows of the training / validation splits (quick trials).
    pub train_rows: Option<usize>,
    /// See `train_rows`.
    pub val_rows: Option<usize>,
    /// Use only the first this many features (PCA components, most informative first).
    pub features: Option<usize>,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
}

fn truncate(s: &Split, rows: Option<usize>, features: Option<usize>) -> Split {
    let rows = rows.unwrap_or(s.x.rows).min(s.x.rows);
    let cols = features.unwrap_or(s.x.cols).min(s.x.cols);
    let data = (0..rows)
        .flat_map(|r| s.x.data[r * s.x.cols..r * s.x.cols + cols].iter().copied())
        .collect();
    Split {
        x: Matrix { rows, cols, data },
        y: s.y[..rows].to_vec(),
    }
}

/// The whole protocol in one process on the embedded set: keys, encryption, the
/// encrypted training server (public material only) and the client (early stopping on
/// decrypted validation logits) over an in-process transport; then the decrypted model's
/// test accuracy next to the plaintext reference trained on the same batches.
pub fn run_encrypted(a: &DemoArgs, log: &mut dyn FnMut(&str)) -> Result<Report, CliError> {
    use crate::commands::{encrypt_dataset, os_rng};
    use crate::session::{ServerEvent, run_client, serve_session};
    use crate::transport::MemTransport;
    use hetal_core::hetal::protocol::{ClientState, Hello, TrainConfig};
    use hetal_core::hetal::train::{logit_bound_for, weight_scale_for};
    use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

    let start = Instant::now();
    let cfg = &a.cfg;
    let set = a.source.load()?;
    let classes = set.classes;
    let splits = [
        truncate(&set.splits[0], a.train_rows, a.features),
        truncate(&set.splits[1], a.val_rows, a.features),
        truncate(&set.splits[2], None, a.features),
    ];
    let ([train, val, test], scale) = prepare(&splits, classes)?;
    log(&format!(
        "{}: {} train / {} val / {} test rows, {} features, {classes} classes",
        set.name,
        train.rows(),
        val.rows(),
        test.rows(),
        train.cols - 1
    ));
    let plain_run = plain::train(&train, &val, cfg, &mut |z: &mut [f64]| {
        plain::softmax_exact(z)
    });
    let test_acc_plain = plain_run.model.accuracy(&test);
    let weight_scale = weight_scale_for(plain_run.max_abs_weight);
    let logit_bound = logit_bound_for(plain_run.max_abs_logit).ok_or_else(|| {
        CliError::msg(format!(
            "the plaintext run's logits reach {:.1}, outside the softmax's [-128, 128]: lower --lr",
            plain_run.max_abs_logit
        ))
    })?;
    let mut phases = vec![(
        "data and plaintext reference".to_string(),
        start.elapsed().as_secs_f64(),
    )];
    log(&format!(
        "plaintext reference: {} epochs (kept {}), test accuracy {test_acc_plain:.4}; weight scale {weight_scale}, largest |logit| {:.1} (softmax domain [-{logit_bound}, {logit_bound}])",
        plain_run.epochs, plain_run.best_epoch, plain_run.max_abs_logit
    ));

    let ctx = crate::keys::context(a.params.clone())?;
    let mut rng = os_rng()?;
    let t = Instant::now();
    let err = |e: hetal_core::ckks::CkksError| CliError::msg(format!("key generation failed: {e}"));
    let sk = ctx.gen_secret_key(&mut rng).map_err(err)?;
    let pk = ctx.gen_public_key(&sk, &mut rng).map_err(err)?;
    let server_keys = crate::enc::gen_server_keys(&ctx, &sk, cfg.batch, classes, &mut rng)?;
    phases.push(("key generation".into(), t.elapsed().as_secs_f64()));
    log(&format!(
        "keys for {} ({} Galois keys) in {:.1} s",
        ctx.params().name(),
        server_keys.rotations,
        t.elapsed().as_secs_f64()
    ));
    let t = Instant::now();
    let ds = encrypt_dataset(&ctx, &pk, &train, &val, cfg.batch, cfg.seed, &mut rng)?;
    let steps = ds.train.len();
    phases.push(("encryption".into(), t.elapsed().as_secs_f64()));
    log(&format!(
        "encrypted {} batches and {} validation chunks in {:.1} s",
        steps,
        ds.val.len(),
        t.elapsed().as_secs_f64()
    ));
    let state = ClientState {
        scale,
        dim: train.cols as u32 - 1,
        classes: classes as u32,
        key_id: crate::keys::key_id(&ctx, &pk),
        val_labels: val.y.iter().map(|&l| l as u32).collect(),
    };
    let config = TrainConfig {
        lr: cfg.lr,
        momentum: cfg.momentum,
        epochs: cfg.max_epochs as u32,
        patience: cfg.patience as u32,
        batch: cfg.batch as u32,
        weight_scale,
        logit_bound,
    };
    let hello = Hello {
        public_key: pk,
        keys: server_keys.evk,
        boot: server_keys.boot,
    };

    let bars = MultiProgress::with_draw_target(if a.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = |t: &str| ProgressStyle::with_template(t).expect("valid template");
    let epoch_bar = bars.add(ProgressBar::new(cfg.max_epochs as u64));
    epoch_bar.set_style(style(
        "epochs {bar:30} {pos}/{len} (early stopping decides) {msg}",
    ));
    let step_bar = bars.add(ProgressBar::new(steps as u64));
    step_bar.set_style(style("steps  {bar:30} {pos}/{len} {elapsed} {msg}"));

    let (mut client_end, mut server_end) = MemTransport::pair(u64::MAX);
    let train_start = Instant::now();
    let (server, outcome) = std::thread::scope(|scope| {
        let ctx = &ctx;
        let step_bar = step_bar.clone();
        let server_bars = bars.clone();
        let server = scope.spawn(move || {
            let trainer = crate::enc::encrypted_trainer(crate::enc::ServerOptions::default());
            let mut timing = crate::report::Timing::default();
            let mut step_at = Instant::now();
            // Wall time before the first step: the keys and the data through the
            // transport, the server's checks and its bootstrapper.
            let mut setup = 0.0;
            let r = serve_session(&mut server_end, ctx, trainer.as_ref(), &mut |ev| match ev {
                ServerEvent::Step { step, .. } => {
                    if step == 1 {
                        step_bar.reset();
                    }
                    step_bar.set_position(step as u64);
                    step_bar.set_message(format!(
                        "last step {:.1} s",
                        step_at.elapsed().as_secs_f64()
                    ));
                    step_at = Instant::now();
                }
                ServerEvent::StepCost(rep) => {
                    if timing.steps == 0 {
                        setup = train_start.elapsed().as_secs_f64() - rep.times.total();
                    }
                    timing.add(&rep)
                }
                ServerEvent::ValidationTime(s) => timing.times.validation += s,
                ServerEvent::Epoch { .. } => step_at = Instant::now(),
                ServerEvent::Note(text) => server_bars.suspend(|| eprintln!("server: {text}")),
                _ => {}
            });
            r.map(|s| (s, timing, setup))
        });
        let outcome = run_client(
            &mut client_end,
            ctx,
            &sk,
            hello,
            ds,
            config,
            &state,
            &mut |e| {
                epoch_bar.set_position(u64::from(e.epoch));
                epoch_bar.set_message(format!(
                    "epoch {}: val loss {:.4}, acc {:.4}",
                    e.epoch, e.val_loss, e.val_acc
                ));
                bars.suspend(|| {
                    eprintln!(
                        "epoch {}: validation loss {:.4}, accuracy {:.4} ({:.1} s)",
                        e.epoch,
                        e.val_loss,
                        e.val_acc,
                        e.time.as_secs_f64()
                    )
                });
            },
        );
        drop(client_end);
        (server.join(), outcome)
    });
    step_bar.finish_and_clear();
    epoch_bar.finish_and_clear();
    let outcome = outcome?;
    let (_, timing, setup) = server.map_err(|_| CliError::msg("the server thread panicked"))??;
    let train_seconds = train_start.elapsed().as_secs_f64();
    let step_seconds = timing.per_step() * timing.steps as f64;
    phases.push((
        "server setup (keys and data received, bootstrapper)".into(),
        setup,
    ));
    phases.push(("training steps".into(), step_seconds));
    phases.push(("validation logits (server)".into(), timing.times.validation));
    phases.push((
        "rest of the protocol (client validation, model transfer)".into(),
        train_seconds - setup - step_seconds - timing.times.validation,
    ));
    let w = crate::keys::decrypt_matrix(&ctx, &sk, &outcome.weights)?;
    // The same epoch's plaintext weights: how far CKKS moved the model (the simulator
    // example `sim_train` shows the approximations alone leave it within ~1e-6).
    if outcome.best_epoch as usize == plain_run.best_epoch {
        log(&format!(
            "weights of epoch {}: max |w_encrypted - w_plaintext| {:.2e} (max |w| {:.3})",
            outcome.best_epoch,
            Features::max_abs_diff(&w, &plain_run.model.w),
            Features::max_abs(&plain_run.model.w)
        ));
    }
    let model = plain::Model {
        w,
        cols: train.cols,
        classes,
    };
    let test_acc_enc = model.accuracy(&test);
    log(&format!(
        "encrypted: {} epochs (kept {}), {} steps in {train_seconds:.1} s ({:.2} s per step), test accuracy {test_acc_enc:.4}",
        outcome.epochs,
        outcome.best_epoch,
        timing.steps,
        timing.per_step()
    ));
    Ok(Report {
        mode: "encrypted".into(),
        preset: ctx.params().name().into(),
        dataset: set.name,
        rows: [train.rows(), val.rows(), test.rows()],
        dim: train.cols - 1,
        classes,
        lr: cfg.lr,
        momentum: cfg.momentum,
        batch: cfg.batch,
        max_epochs: cfg.max_epochs,
        patience: cfg.patience,
        epochs: outcome
            .history
            .iter()
            .map(|e| EpochPoint {
                epoch: e.epoch as usize,
                val_loss: e.val_loss,
                val_acc: e.val_acc,
                seconds: e.time.as_secs_f64(),
            })
            .collect(),
        best_epoch: outcome.best_epoch as usize,
        test_acc_plain,
        test_acc_encrypted: Some(test_acc_enc),
        total_seconds: start.elapsed().as_secs_f64(),
        timing: Some(timing),
        phases,
    })
}
