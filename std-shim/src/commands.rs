//! The role commands behind the `hetal` binary. Each returns a one-line
//! [`CliError`] on bad input and writes its outputs only when all of them are ready.

use std::path::{Path, PathBuf};

use hetal_core::codec::{self, Kind};
use hetal_core::hetal::plain::{Features, Model, batch_order};
use hetal_core::hetal::protocol::{
    ClientMsg, ClientState, EncryptedDataset, PlainModel, ServerMsg, TrainBatch,
};
use hetal_core::hetal::train::TrainLayout;
use hetal_core::linalg::UnitShape;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::data::{self, Split};
use crate::files::{self, CliError, Outputs};
use crate::keys::{self, Allowed, KeyPaths, codec_error, kind_name};

/// A cryptographic RNG seeded from the OS.
pub fn os_rng() -> Result<ChaCha20Rng, CliError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| CliError::msg(format!("no OS randomness: {e}")))?;
    let rng = ChaCha20Rng::from_seed(seed);
    zeroize::Zeroize::zeroize(&mut seed);
    Ok(rng)
}

/// Fails if the output directory does not exist or is not a directory.
fn out_dir(dir: &Path) -> Result<(), CliError> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(CliError::at(dir, "is a file, expected a directory")),
        Err(e) => Err(CliError::at(
            dir,
            format!("cannot use as output directory: {e}"),
        )),
    }
}

/// `hetal keygen`: secret key (0600), public key, evaluation keys with exactly the
/// rotations training needs for `classes` classes in mini-batches of `batch` rows, and
/// (for presets that bootstrap) the bootstrapping keys, into `dir`.
pub fn keygen(
    params: hetal_core::ckks::Params,
    dir: &Path,
    force: bool,
    batch: usize,
    classes: usize,
    log: &mut dyn FnMut(&str),
) -> Result<(), CliError> {
    if batch == 0 || classes < 2 {
        return Err(CliError::msg(
            "need --batch >= 1 and --classes >= 2 (the training shape the keys are for)",
        ));
    }
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::at(dir, format!("cannot create directory: {e}")))?;
    }
    out_dir(dir)?;
    let paths = KeyPaths::in_dir(dir);
    if paths.secret.exists() && !force {
        return Err(CliError::at(
            &paths.secret,
            "already exists; refusing to overwrite a secret key (use --force)",
        ));
    }
    let ctx = keys::context(params)?;
    let mut rng = os_rng()?;
    log(&format!(
        "generating keys for {} (N = 2^{}) for {classes} classes in batches of {batch}",
        ctx.params().name(),
        ctx.params().log_n(),
    ));
    let err = |e: hetal_core::ckks::CkksError| CliError::msg(format!("key generation failed: {e}"));
    let sk = ctx.gen_secret_key(&mut rng).map_err(err)?;
    let pk = ctx.gen_public_key(&sk, &mut rng).map_err(err)?;
    let server = crate::enc::gen_server_keys(&ctx, &sk, batch, classes, &mut rng)?;
    let mut out = Outputs::new();
    out.stage(&paths.secret, &codec::encode_secret_key(&ctx, &sk), true)?;
    out.stage(&paths.public, &codec::encode_public_key(&ctx, &pk), false)?;
    out.stage(
        &paths.eval,
        &codec::encode_evaluation_keys(&ctx, &server.evk),
        false,
    )?;
    if let Some(b) = &server.boot {
        out.stage(&paths.boot, &codec::encode_boot_keys(&ctx, b), false)?;
    } else if paths.boot.exists() {
        // Stale keys of an earlier key pair must not be picked up with the new ones.
        std::fs::remove_file(&paths.boot)
            .map_err(|e| CliError::at(&paths.boot, format!("cannot remove: {e}")))?;
    }
    out.commit()?;
    log(&format!(
        "wrote {} (mode 0600), {}, {} ({} Galois keys){}",
        paths.secret.display(),
        paths.public.display(),
        paths.eval.display(),
        server.rotations,
        if server.boot.is_some() {
            format!(", {}", paths.boot.display())
        } else {
            String::from(" (this preset cannot bootstrap: no training)")
        }
    ));
    Ok(())
}

/// Inputs of `hetal encrypt`.
pub struct EncryptArgs {
    /// Key directory (only `public.key` is read).
    pub keys: PathBuf,
    /// Training features and labels.
    pub x: PathBuf,
    /// Training labels.
    pub y: PathBuf,
    /// Validation features.
    pub val_x: PathBuf,
    /// Validation labels.
    pub val_y: PathBuf,
    /// Class count (default: largest label + 1).
    pub classes: Option<usize>,
    /// Rows per mini-batch.
    pub batch: usize,
    /// Seed of the batch shuffle (the plaintext reference uses the same).
    pub seed: u64,
    /// Output directory.
    pub out: PathBuf,
}

/// `hetal encrypt`: `data.enc` (the encrypted data set message) and `client.state`.
pub fn encrypt(
    a: &EncryptArgs,
    allowed: &Allowed,
    log: &mut dyn FnMut(&str),
) -> Result<(), CliError> {
    out_dir(&a.out)?;
    if a.batch == 0 {
        return Err(CliError::msg("--batch must be at least 1"));
    }
    let kp = KeyPaths::in_dir(&a.keys);
    let (ctx, pk) = keys::load_public_key(allowed, &kp.public)?;
    let train = data::load_split(&a.x, &a.y)?;
    let val = data::load_split(&a.val_x, &a.val_y)?;
    if val.x.cols != train.x.cols {
        return Err(CliError::at(
            &a.val_x,
            format!(
                "has {} features per row, the training set {}",
                val.x.cols, train.x.cols
            ),
        ));
    }
    let max_label = train.y.iter().chain(&val.y).copied().max().unwrap_or(0);
    let classes = a.classes.unwrap_or(max_label + 1);
    if classes < 2 {
        return Err(CliError::at(&a.y, "needs at least 2 classes"));
    }
    data::check_labels(&a.y, &train.y, classes)?;
    data::check_labels(&a.val_y, &val.y, classes)?;
    let scale = Features::max_abs(&train.x.data);
    if scale == 0.0 {
        return Err(CliError::at(&a.x, "every feature is zero"));
    }
    let prep = |s: &Split, path: &Path| {
        Features::prepare(&s.x.data, s.x.cols, &s.y, classes, scale)
            .map_err(|e| CliError::at(path, e))
    };
    let tr = prep(&train, &a.x)?;
    let va = prep(&val, &a.val_x)?;
    let mut rng = os_rng()?;
    let ds = encrypt_dataset(&ctx, &pk, &tr, &va, a.batch, a.seed, &mut rng)?;
    let cols = tr.cols;
    let state = ClientState {
        scale,
        dim: train.x.cols as u32,
        classes: classes as u32,
        key_id: keys::key_id(&ctx, &pk),
        val_labels: va.y.iter().map(|&l| l as u32).collect(),
    };
    let data_path = a.out.join("data.enc");
    let state_path = a.out.join("client.state");
    let mut out = Outputs::new();
    out.stage(
        &data_path,
        &codec::encode_client_message(&ctx, &ClientMsg::Dataset(ds)),
        false,
    )?;
    out.stage(
        &state_path,
        &codec::encode_client_state(&ctx, &state),
        false,
    )?;
    out.commit()?;
    log(&format!(
        "encrypted {} training rows in {} batches and {} validation rows ({} features + bias, {classes} classes, scale 1/{scale:.4}) -> {}, {}",
        tr.rows(),
        tr.rows().div_ceil(a.batch),
        va.rows(),
        cols - 1,
        data_path.display(),
        state_path.display()
    ));
    Ok(())
}

/// Encrypts prepared training and validation rows under `pk` in the trainer's layouts
/// (HETAL's block shape for `batch` and the class count): training rows in mini-batches
/// of `batch` in the seeded order of the plaintext reference, features plain, one-hot
/// labels tiled horizontally like the logits; validation rows in chunks of `batch`.
pub fn encrypt_dataset<R: rand_core::CryptoRng + ?Sized>(
    ctx: &hetal_core::ckks::CkksContext,
    pk: &hetal_core::rlwe::PublicKey,
    tr: &Features,
    va: &Features,
    batch: usize,
    seed: u64,
    rng: &mut R,
) -> Result<EncryptedDataset, CliError> {
    let (cols, classes) = (tr.cols, tr.classes);
    let slots = ctx.params().max_slots();
    let unit = UnitShape::hetal(batch, classes, slots).map_err(|e| {
        CliError::msg(format!(
            "{classes} classes do not fit the {} preset's {slots} slots: {e}",
            ctx.params().name()
        ))
    })?;
    let layout = TrainLayout {
        unit,
        cols,
        classes,
    };
    let lerr = |e: hetal_core::hetal::train::TrainError| CliError::msg(format!("layout: {e}"));
    let order = batch_order(tr.rows(), seed);
    let mut batches = Vec::new();
    for rows in order.chunks(batch) {
        let x: Vec<f64> = rows.iter().flat_map(|&r| tr.row(r).to_vec()).collect();
        let y: Vec<usize> = rows.iter().map(|&r| tr.y[r]).collect();
        batches.push(TrainBatch {
            x: keys::encrypt_blocks(ctx, pk, &x, layout.features(rows.len()).map_err(lerr)?, rng)?,
            y: keys::encrypt_blocks(
                ctx,
                pk,
                &layout.one_hot(&y),
                layout.labels(rows.len()).map_err(lerr)?,
                rng,
            )?,
        });
    }
    let mut val_mats = Vec::new();
    for chunk in va.x.chunks(batch * cols) {
        let rows = chunk.len() / cols;
        val_mats.push(keys::encrypt_blocks(
            ctx,
            pk,
            chunk,
            layout.features(rows).map_err(lerr)?,
            rng,
        )?);
    }
    let ds = EncryptedDataset {
        features: cols as u32,
        classes: classes as u32,
        train_rows: tr.rows() as u64,
        val_rows: va.rows() as u64,
        train: batches,
        val: val_mats,
    };
    ds.check()
        .map_err(|e| CliError::msg(format!("internal: {e}")))?;
    Ok(ds)
}

/// Loads `data.enc` (an encrypted data set) with its context.
pub fn load_dataset(
    allowed: &Allowed,
    path: &Path,
) -> Result<
    (
        std::sync::Arc<hetal_core::ckks::CkksContext>,
        EncryptedDataset,
    ),
    CliError,
> {
    let bytes = files::read(path)?;
    let ctx = allowed.context_for(path, &bytes, Kind::ClientMessage)?;
    match codec::decode_client_message(&ctx, &bytes).map_err(|e| codec_error(path, e))? {
        ClientMsg::Dataset(d) => Ok((ctx, d)),
        m => Err(CliError::at(
            path,
            format!(
                "holds a {} message, expected an encrypted data set",
                m.name()
            ),
        )),
    }
}

/// Loads the client state of `ctx`'s parameter set.
pub fn load_state(
    ctx: &hetal_core::ckks::CkksContext,
    path: &Path,
) -> Result<ClientState, CliError> {
    let bytes = files::read(path)?;
    let h = codec::peek_header(&bytes).map_err(|e| codec_error(path, e))?;
    if h.kind != Kind::ClientState {
        return Err(CliError::at(
            path,
            format!("is a {}, expected a client state file", kind_name(h.kind)),
        ));
    }
    codec::decode_client_state(ctx, &bytes).map_err(|e| codec_error(path, e))
}

/// `hetal decrypt`: the encrypted model (`model.enc`) into a plain model file.
pub fn decrypt(
    allowed: &Allowed,
    keys_dir: &Path,
    state_path: &Path,
    model_path: &Path,
    out_path: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<(), CliError> {
    let bytes = files::read(model_path)?;
    let ctx = allowed.context_for(model_path, &bytes, Kind::ServerMessage)?;
    let msg = codec::decode_server_message(&ctx, &bytes).map_err(|e| codec_error(model_path, e))?;
    let ServerMsg::FinalModel {
        epochs,
        best_epoch,
        weights,
    } = msg
    else {
        return Err(CliError::at(
            model_path,
            format!(
                "holds a {} message, expected an encrypted model",
                msg.name()
            ),
        ));
    };
    let kp = KeyPaths::in_dir(keys_dir);
    let (pk_ctx, pk) = keys::load_public_key(allowed, &kp.public)?;
    if codec::fingerprint(pk_ctx.params()) != codec::fingerprint(ctx.params()) {
        return Err(CliError::at(
            model_path,
            format!(
                "made for parameter set {}, the keys in {} are for {}",
                ctx.params().name(),
                keys_dir.display(),
                pk_ctx.params().name()
            ),
        ));
    }
    let sk = keys::load_secret_key(&ctx, &kp.secret)?;
    let state = load_state(&ctx, state_path)?;
    if state.key_id != keys::key_id(&ctx, &pk) {
        return Err(CliError::at(
            state_path,
            format!(
                "the data was encrypted under another key pair than {}",
                kp.public.display()
            ),
        ));
    }
    let mut rng = os_rng()?;
    if !keys::check_pair(&ctx, &sk, &pk, &mut rng) {
        return Err(CliError::at(
            &kp.secret,
            format!("is not the secret key of {}", kp.public.display()),
        ));
    }
    let (classes, cols) = (state.classes as usize, state.dim as usize + 1);
    if weights.rows as usize != classes || weights.cols as usize != cols {
        return Err(CliError::at(
            model_path,
            format!(
                "weights are {} x {}, expected {classes} x {cols} (classes x features + bias)",
                weights.rows, weights.cols
            ),
        ));
    }
    let w = keys::decrypt_matrix(&ctx, &sk, &weights)?;
    let model = PlainModel {
        scale: state.scale,
        model: Model { w, cols, classes },
    };
    files::write_atomic(out_path, &codec::encode_plain_model(&model), false)?;
    log(&format!(
        "decrypted the model of epoch {best_epoch} (of {epochs}) -> {}",
        out_path.display()
    ));
    Ok(())
}

/// Loads a decrypted model file.
pub fn load_plain_model(path: &Path) -> Result<PlainModel, CliError> {
    let bytes = files::read(path)?;
    let h = codec::peek_header(&bytes).map_err(|e| codec_error(path, e))?;
    if h.kind != Kind::PlainModel {
        return Err(CliError::at(
            path,
            format!(
                "is a {}, expected a decrypted model (run hetal decrypt)",
                kind_name(h.kind)
            ),
        ));
    }
    codec::decode_plain_model(&bytes).map_err(|e| codec_error(path, e))
}

/// `hetal predict`: predicted classes of `x` (and accuracy if labels are given).
pub fn predict(
    model_path: &Path,
    x_path: &Path,
    y_path: Option<&Path>,
    out: Option<&Path>,
    log: &mut dyn FnMut(&str),
) -> Result<Option<f64>, CliError> {
    let m = load_plain_model(model_path)?;
    let x = data::load_features(x_path)?;
    if x.cols + 1 != m.model.cols {
        return Err(CliError::at(
            x_path,
            format!(
                "has {} features per row, the model expects {}",
                x.cols,
                m.model.cols - 1
            ),
        ));
    }
    let y = match y_path {
        Some(p) => {
            let y = data::load_labels(p)?;
            if y.len() != x.rows {
                return Err(CliError::at(
                    p,
                    format!(
                        "{} labels for {} feature rows in {}",
                        y.len(),
                        x.rows,
                        x_path.display()
                    ),
                ));
            }
            data::check_labels(p, &y, m.model.classes)?;
            Some(y)
        }
        None => None,
    };
    let dummy = vec![0; x.rows];
    let f = Features::prepare(
        &x.data,
        x.cols,
        y.as_deref().unwrap_or(&dummy),
        m.model.classes,
        m.scale,
    )
    .map_err(|e| CliError::at(x_path, e))?;
    let mut z = vec![0.0; m.model.classes];
    let pred: Vec<usize> = (0..f.rows())
        .map(|r| {
            m.model.logits(f.row(r), &mut z);
            hetal_core::hetal::plain::argmax(&z)
        })
        .collect();
    if let Some(out) = out {
        let mut csv = String::from("prediction\n");
        pred.iter().for_each(|p| csv.push_str(&format!("{p}\n")));
        files::write_atomic(out, csv.as_bytes(), false)?;
        log(&format!(
            "wrote {} predictions to {}",
            pred.len(),
            out.display()
        ));
    }
    Ok(y.map(|y| {
        let hits = pred.iter().zip(&y).filter(|(p, l)| p == l).count();
        let acc = hits as f64 / y.len() as f64;
        log(&format!("accuracy: {acc:.4} ({hits}/{})", y.len()));
        acc
    }))
}

/// Inputs of `hetal client`.
pub struct ClientArgs {
    /// Server address.
    pub connect: String,
    /// Key directory (secret, public and evaluation keys).
    pub keys: PathBuf,
    /// The encrypted data set from `hetal encrypt`.
    pub data: PathBuf,
    /// The client state from `hetal encrypt`.
    pub state: PathBuf,
    /// Where to write the encrypted model.
    pub out: PathBuf,
    /// Directory for report.json and curve.svg, if wanted.
    pub report: Option<PathBuf>,
    /// Hyper-parameters.
    pub config: hetal_core::hetal::protocol::TrainConfig,
    /// Frame limit for what the server sends.
    pub max_frame: u64,
}

/// `hetal client`: the client side of a training session over TCP. Sends the keys
/// (public and evaluation only) and the encrypted data, decides early stopping on the
/// decrypted validation logits, and writes the encrypted model of the best epoch.
pub fn client(
    a: &ClientArgs,
    allowed: &Allowed,
    log: &mut dyn FnMut(&str),
) -> Result<(), CliError> {
    use crate::session::run_client;
    use crate::transport::TcpTransport;
    use hetal_core::hetal::protocol::Hello;

    if a.out.is_dir() {
        return Err(CliError::at(&a.out, "is a directory, expected a file path"));
    }
    if !a.config.is_valid() {
        return Err(CliError::msg(
            "invalid training configuration: need lr > 0, 0 <= momentum < 1, 1 <= epochs <= 10000",
        ));
    }
    let (ctx, data) = load_dataset(allowed, &a.data)?;
    let kp = KeyPaths::in_dir(&a.keys);
    let (pk_ctx, pk) = keys::load_public_key(allowed, &kp.public)?;
    if codec::fingerprint(pk_ctx.params()) != codec::fingerprint(ctx.params()) {
        return Err(CliError::at(
            &a.data,
            format!(
                "made for parameter set {}, the keys in {} are for {}",
                ctx.params().name(),
                a.keys.display(),
                pk_ctx.params().name()
            ),
        ));
    }
    let state = load_state(&ctx, &a.state)?;
    if state.key_id != keys::key_id(&ctx, &pk) {
        return Err(CliError::at(
            &a.state,
            format!(
                "the data was encrypted under another key pair than {}",
                kp.public.display()
            ),
        ));
    }
    if state.val_labels.len() as u64 != data.val_rows || state.classes != data.classes {
        return Err(CliError::at(
            &a.state,
            format!(
                "does not belong to {} (other validation rows or classes)",
                a.data.display()
            ),
        ));
    }
    let sk = keys::load_secret_key(&ctx, &kp.secret)?;
    let mut rng = os_rng()?;
    if !keys::check_pair(&ctx, &sk, &pk, &mut rng) {
        return Err(CliError::at(
            &kp.secret,
            format!("is not the secret key of {}", kp.public.display()),
        ));
    }
    let evk = keys::load_eval_keys(&ctx, &kp.eval)?;
    let boot = keys::load_boot_keys(&ctx, &kp.boot)?;
    // Fail on an unwritable output before the (long) session, not after it.
    let mut probe = Outputs::new();
    probe.stage(&a.out, b"", false)?;
    drop(probe);

    let stream = std::net::TcpStream::connect(&a.connect)
        .map_err(|e| CliError::msg(format!("cannot connect to {}: {e}", a.connect)))?;
    let mut t = TcpTransport::new(stream, a.max_frame, None)
        .map_err(|e| CliError::msg(format!("{}: {e}", a.connect)))?;
    log(&format!(
        "connected to {}; sending keys and {} encrypted batches",
        a.connect,
        data.train.len()
    ));
    let (train_rows, val_rows) = (data.train_rows, data.val_rows);
    let mut config = a.config.clone();
    config.batch = data.train.first().map_or(1, |b| b.x.rows);
    let start = std::time::Instant::now();
    let outcome = run_client(
        &mut t,
        &ctx,
        &sk,
        Hello {
            public_key: pk,
            keys: evk,
            boot,
        },
        data,
        config,
        &state,
        &mut |e| {
            log(&format!(
                "epoch {}: validation loss {:.4}, accuracy {:.4} ({:.1} s)",
                e.epoch,
                e.val_loss,
                e.val_acc,
                e.time.as_secs_f64()
            ))
        },
    )?;
    let msg = ServerMsg::FinalModel {
        epochs: outcome.epochs,
        best_epoch: outcome.best_epoch,
        weights: outcome.weights,
    };
    let mut out = Outputs::new();
    out.stage(&a.out, &codec::encode_server_message(&ctx, &msg), false)?;
    if let Some(dir) = &a.report {
        let report = crate::report::Report {
            mode: "encrypted".into(),
            preset: ctx.params().name().into(),
            dataset: a.data.display().to_string(),
            rows: [train_rows as usize, val_rows as usize, 0],
            dim: state.dim as usize,
            classes: state.classes as usize,
            lr: a.config.lr,
            momentum: a.config.momentum,
            batch: a.config.batch as usize,
            max_epochs: a.config.epochs as usize,
            patience: a.config.patience as usize,
            epochs: outcome
                .history
                .iter()
                .map(|e| crate::report::EpochPoint {
                    epoch: e.epoch as usize,
                    val_loss: e.val_loss,
                    val_acc: e.val_acc,
                    seconds: e.time.as_secs_f64(),
                })
                .collect(),
            best_epoch: outcome.best_epoch as usize,
            test_acc_plain: f64::NAN,
            test_acc_encrypted: None,
            total_seconds: start.elapsed().as_secs_f64(),
            timing: None,
            phases: Vec::new(),
        };
        let json = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| CliError::msg(format!("report: {e}")))?;
        let svg = report
            .curve_svg()
            .map_err(|e| CliError::msg(format!("curve: {e}")))?;
        out.stage(&dir.join("report.json"), json.as_bytes(), false)?;
        out.stage(&dir.join("curve.svg"), svg.as_bytes(), false)?;
    }
    out.commit()?;
    log(&format!(
        "trained {} epochs, kept epoch {} -> {}",
        outcome.epochs,
        outcome.best_epoch,
        a.out.display()
    ));
    Ok(())
}

/// Inputs of `hetal train`.
pub struct TrainArgs {
    /// Key directory (public.key, eval.keys, boot.keys; the secret key is never read).
    pub keys: PathBuf,
    /// The encrypted data set from `hetal encrypt`.
    pub data: PathBuf,
    /// Where to write the encrypted model.
    pub out: PathBuf,
    /// Hyper-parameters (the epoch count is fixed: no client to stop early).
    pub config: hetal_core::hetal::protocol::TrainConfig,
    /// Checkpoints.
    pub server: crate::enc::ServerOptions,
}

/// Loads what the server may hold: the public key, evaluation keys and bootstrapping
/// keys of `dir` (never the secret key), checked against `ctx`'s parameter set.
pub fn load_server_keys(
    allowed: &Allowed,
    ctx: &hetal_core::ckks::CkksContext,
    dir: &Path,
) -> Result<hetal_core::hetal::protocol::Hello, CliError> {
    let kp = KeyPaths::in_dir(dir);
    let (pk_ctx, pk) = keys::load_public_key(allowed, &kp.public)?;
    if codec::fingerprint(pk_ctx.params()) != codec::fingerprint(ctx.params()) {
        return Err(CliError::at(
            &kp.public,
            format!(
                "is for parameter set {}, the data for {}",
                pk_ctx.params().name(),
                ctx.params().name()
            ),
        ));
    }
    let evk = keys::load_eval_keys(ctx, &kp.eval)?;
    let boot = keys::load_boot_keys(ctx, &kp.boot)?;
    Ok(hetal_core::hetal::protocol::Hello {
        public_key: pk,
        keys: evk,
        boot,
    })
}

/// `hetal train`: the server's side from files: encrypted training for a fixed number
/// of epochs on `data.enc` with the public material of a key directory, writing the
/// encrypted model (and a checkpoint after every epoch).
pub fn train(a: &TrainArgs, allowed: &Allowed, log: &mut dyn FnMut(&str)) -> Result<(), CliError> {
    use crate::session::{ServerEvent, TrainJob};
    use hetal_core::hetal::protocol::Decision;

    if a.out.is_dir() {
        return Err(CliError::at(&a.out, "is a directory, expected a file path"));
    }
    if !a.config.is_valid() {
        return Err(CliError::msg(
            "invalid training configuration: need lr > 0, 0 <= momentum < 1, 1 <= epochs <= 10000, weight scale a power of two",
        ));
    }
    let (ctx, data) = load_dataset(allowed, &a.data)?;
    let hello = load_server_keys(allowed, &ctx, &a.keys)?;
    let mut probe = Outputs::new();
    probe.stage(&a.out, b"", false)?;
    drop(probe);
    let mut config = a.config.clone();
    config.batch = data.train.first().map_or(1, |b| b.x.rows);
    let cap = config.epochs;
    log(&format!(
        "training on {} rows in {} batches for {cap} epochs ({})",
        data.train_rows,
        data.train.len(),
        ctx.params().name()
    ));
    let trainer = crate::enc::encrypted_trainer(a.server.clone());
    let job = TrainJob {
        ctx: &ctx,
        public_key: hello.public_key,
        keys: hello.keys,
        boot: hello.boot,
        data,
        config,
    };
    let start = std::time::Instant::now();
    let mut step_start = std::time::Instant::now();
    let r = trainer(
        job,
        &mut |epoch, _logits| {
            Ok(Decision {
                improved: epoch == cap,
                stop: epoch == cap,
            })
        },
        &mut |ev| match ev {
            ServerEvent::Step { epoch, step, steps } => {
                log(&format!(
                    "epoch {epoch} step {step}/{steps} ({:.1} s)",
                    step_start.elapsed().as_secs_f64()
                ));
                step_start = std::time::Instant::now();
            }
            ServerEvent::Resumed { epoch, step } => {
                log(&format!(
                    "resumed from the checkpoint after epoch {epoch}, step {step}"
                ));
                step_start = std::time::Instant::now();
            }
            ServerEvent::Epoch { epoch, time } => {
                log(&format!(
                    "epoch {epoch} done in {:.1} s",
                    time.as_secs_f64()
                ));
                step_start = std::time::Instant::now();
            }
            ServerEvent::Note(text) => log(&text),
            _ => {}
        },
    )
    .map_err(|e| CliError::msg(format!("training failed: {e}")))?;
    let msg = ServerMsg::FinalModel {
        epochs: r.epochs,
        best_epoch: r.best_epoch,
        weights: r.weights,
    };
    files::write_atomic(&a.out, &codec::encode_server_message(&ctx, &msg), false)?;
    log(&format!(
        "trained {} epochs in {:.1} s -> {}",
        r.epochs,
        start.elapsed().as_secs_f64(),
        a.out.display()
    ));
    Ok(())
}

/// Inputs of `hetal serve`.
pub struct ServeArgs {
    /// Address to listen on.
    pub listen: String,
    /// The parameter set served.
    pub params: hetal_core::ckks::Params,
    /// Stop after this many finished sessions.
    pub sessions: Option<usize>,
    /// Largest frame accepted.
    pub max_frame: u64,
    /// Checkpoints.
    pub server: crate::enc::ServerOptions,
}

/// `hetal serve`: the encrypted trainer over TCP, one client after another.
pub fn serve(a: &ServeArgs, log: &mut dyn FnMut(&str)) -> Result<(), CliError> {
    let ctx = keys::context(a.params.clone())?;
    let listener = std::net::TcpListener::bind(&a.listen)
        .map_err(|e| CliError::msg(format!("cannot listen on {}: {e}", a.listen)))?;
    let addr = listener
        .local_addr()
        .map_or_else(|_| a.listen.clone(), |x| x.to_string());
    log(&format!(
        "serving {} on {addr} (public keys only; waiting for a client)",
        ctx.params().name()
    ));
    let trainer = crate::enc::encrypted_trainer(a.server.clone());
    crate::session::serve_tcp(
        &listener,
        &ctx,
        trainer.as_ref(),
        a.max_frame,
        a.sessions,
        log,
    )
}
