//! The two protocol roles over any [`Transport`]: the server (public keys only; it
//! cannot load a secret key) drives an [`EpochTrainer`]; the client decrypts the
//! validation logits, decides early stopping, and decrypts nothing else.
//!
//! Any error on the server side (an undecodable, out-of-order or oversized frame, a
//! trainer failure) is answered with [`ServerMsg::Error`] when the connection still
//! works, and ends that session only: [`serve_tcp`] goes on accepting connections.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hetal_core::boot::EncapsulationKeys;
use hetal_core::ckks::{CkksContext, EvaluationKeys};
use hetal_core::codec::{self, CodecError};
use hetal_core::hetal::plain::EarlyStopping;
use hetal_core::hetal::protocol::{
    ClientMsg, ClientSession, ClientState, Decision, EncMatrix, EncryptedDataset, Hello, ServerMsg,
    ServerSession, TrainConfig, validation_loss,
};
use hetal_core::hetal::train::StepReport;
use hetal_core::rlwe::{PublicKey, SecretKey};

use crate::files::CliError;
use crate::keys::decrypt_matrix;
use crate::transport::{TcpTransport, Transport, TransportError};

/// Everything the client sent, handed to the encrypted training.
pub struct TrainJob<'a> {
    /// The parameter set's context (rayon executor installed).
    pub ctx: &'a Arc<CkksContext>,
    /// The client's public key.
    pub public_key: PublicKey,
    /// The client's evaluation keys.
    pub keys: EvaluationKeys,
    /// The client's bootstrapping encapsulation keys.
    pub boot: Option<EncapsulationKeys>,
    /// The encrypted data set (batches in the order to use them every epoch).
    pub data: EncryptedDataset,
    /// Hyper-parameters.
    pub config: TrainConfig,
}

/// What the encrypted training returns.
pub struct TrainResult {
    /// The weights of the best epoch (`classes x features`), or the last epoch's if
    /// none improved.
    pub weights: EncMatrix,
    /// Epochs run.
    pub epochs: u32,
    /// The epoch of `weights` (0 if none improved).
    pub best_epoch: u32,
}

/// The client, as the trainer sees it: after epoch `e`, the validation logits (one
/// `rows x classes` matrix per validation matrix of the data set, in order) go in and
/// the client's decision comes out. An `Err` means the session is over (the client
/// left or misbehaved): the trainer should return at once.
pub type Validate<'a> = dyn FnMut(u32, Vec<EncMatrix>) -> Result<Decision, String> + 'a;

/// The encrypted training as the server runs it: trains on `job` for at most
/// `job.config.epochs` epochs, calls `validate` after each epoch, keeps the weights
/// of every epoch the client says improved, stops when it says stop, and reports
/// progress through `events`. This is the one function the training layer provides
/// (see [`epoch_trainer`] for an adapter from a per-epoch trainer).
pub type TrainFn = dyn Fn(TrainJob<'_>, &mut Validate<'_>, &mut dyn FnMut(ServerEvent)) -> Result<TrainResult, String>
    + Send
    + Sync;

/// A trainer driven one epoch at a time (see [`epoch_trainer`]).
pub trait EpochTrainer {
    /// Runs one epoch over every training batch (in the uploaded order) and returns
    /// the validation logits: one `rows x classes` matrix per validation matrix of the
    /// data set, in order. `progress(step, steps)` is called after each batch.
    fn epoch(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<EncMatrix>, String>;
    /// The current weights, `classes x features` (features include the bias column).
    fn weights(&self) -> Result<EncMatrix, String>;
}

/// Builds a per-epoch trainer for one session from what the client sent.
pub type TrainerFactory = dyn Fn(
        &Arc<CkksContext>,
        &PublicKey,
        EvaluationKeys,
        EncryptedDataset,
        &TrainConfig,
    ) -> Result<Box<dyn EpochTrainer>, String>
    + Send
    + Sync;

/// A [`TrainFn`] from a per-epoch trainer: epochs until the client stops or the cap,
/// keeping the weights of improved epochs.
pub fn epoch_trainer(factory: Box<TrainerFactory>) -> Box<TrainFn> {
    Box::new(
        move |job: TrainJob<'_>,
              validate: &mut Validate<'_>,
              events: &mut dyn FnMut(ServerEvent)| {
            let cap = job.config.epochs;
            let mut tr = factory(job.ctx, &job.public_key, job.keys, job.data, &job.config)?;
            let (mut best, mut best_epoch) = (None, 0);
            for epoch in 1..=cap {
                let start = Instant::now();
                let logits =
                    tr.epoch(&mut |step, steps| events(ServerEvent::Step { epoch, step, steps }))?;
                events(ServerEvent::Epoch {
                    epoch,
                    time: start.elapsed(),
                });
                let d = validate(epoch, logits)?;
                if d.improved {
                    best = Some(tr.weights()?);
                    best_epoch = epoch;
                }
                if d.stop || epoch == cap {
                    let weights = match best {
                        Some(w) => w,
                        None => tr.weights()?,
                    };
                    return Ok(TrainResult {
                        weights,
                        epochs: epoch,
                        best_epoch,
                    });
                }
            }
            Err("no epoch to run".into())
        },
    )
}

/// Progress events of a server session (for progress bars and logs).
#[derive(Clone, Debug)]
pub enum ServerEvent {
    /// A message arrived.
    Received(&'static str),
    /// A batch of an epoch finished.
    Step {
        /// Epoch (1-based).
        epoch: u32,
        /// Batch (1-based).
        step: usize,
        /// Batches per epoch.
        steps: usize,
    },
    /// What the step just reported cost (time per component, operations).
    StepCost(StepReport),
    /// Seconds spent on an epoch's validation logits (forming `W` included).
    ValidationTime(f64),
    /// A line for the server's log (e.g. the softmax it chose for the layout).
    Note(String),
    /// Training resumed from a checkpoint after `epoch` epochs and `step` steps.
    Resumed {
        /// Epochs finished.
        epoch: u32,
        /// Steps finished in the next epoch.
        step: usize,
    },
    /// An epoch finished.
    Epoch {
        /// Epoch (1-based).
        epoch: u32,
        /// Its wall time.
        time: Duration,
    },
}

/// What a finished server session did.
#[derive(Clone, Debug)]
pub struct ServerSummary {
    /// Epochs run.
    pub epochs: u32,
    /// Epoch of the returned weights.
    pub best_epoch: u32,
}

fn server_error(t: &mut dyn Transport, ctx: &CkksContext, text: String) -> CliError {
    let _ = t.send(&codec::encode_server_message(
        ctx,
        &ServerMsg::Error(text.clone()),
    ));
    CliError::msg(text)
}

fn describe_codec(e: &CodecError, ctx: &CkksContext) -> String {
    match e {
        CodecError::FingerprintMismatch { found, .. } => format!(
            "message is for parameter set {found:016x}, this server runs {} ({:016x})",
            ctx.params().name(),
            codec::fingerprint(ctx.params())
        ),
        e => format!("malformed message: {e}"),
    }
}

/// Serves one client on `t` until it has its model, or an error (sent to the client
/// when possible, then returned).
pub fn serve_session(
    t: &mut dyn Transport,
    ctx: &Arc<CkksContext>,
    train: &TrainFn,
    events: &mut dyn FnMut(ServerEvent),
) -> Result<ServerSummary, CliError> {
    let mut order = ServerSession::new();
    let mut hello: Option<Hello> = None;
    let mut data: Option<EncryptedDataset> = None;
    loop {
        let msg = recv_client(t, ctx, &mut order)?;
        events(ServerEvent::Received(msg.name()));
        match msg {
            ClientMsg::Hello(h) => hello = Some(*h),
            ClientMsg::Dataset(d) => data = Some(d),
            ClientMsg::Config(config) => {
                let (Some(h), Some(data)) = (hello.take(), data.take()) else {
                    return Err(server_error(
                        t,
                        ctx,
                        "internal: keys or data missing".into(),
                    ));
                };
                let cap = config.epochs;
                let job = TrainJob {
                    ctx,
                    public_key: h.public_key,
                    keys: h.keys,
                    boot: h.boot,
                    data,
                    config,
                };
                // The session's own failure (client gone, bad frame) is kept apart from
                // the trainer's, which is reported to the client.
                let mut failed: Option<CliError> = None;
                let mut last = 0u32;
                let result = train(
                    job,
                    &mut |epoch, logits| {
                        let r = exchange_logits(t, ctx, &mut order, epoch, last, logits);
                        last = epoch;
                        r.map_err(|e| {
                            let text = e.0.clone();
                            failed = Some(e);
                            text
                        })
                    },
                    events,
                );
                if let Some(e) = failed {
                    return Err(e);
                }
                let r =
                    result.map_err(|e| server_error(t, ctx, format!("training failed: {e}")))?;
                if r.epochs == 0 || r.epochs > cap || r.best_epoch > r.epochs {
                    return Err(server_error(
                        t,
                        ctx,
                        "internal: trainer returned an impossible epoch count".into(),
                    ));
                }
                let msg = ServerMsg::FinalModel {
                    epochs: r.epochs,
                    best_epoch: r.best_epoch,
                    weights: r.weights,
                };
                t.send(&codec::encode_server_message(ctx, &msg))
                    .map_err(|e| CliError::msg(e.to_string()))?;
                order.finish();
                return Ok(ServerSummary {
                    epochs: r.epochs,
                    best_epoch: r.best_epoch,
                });
            }
            ClientMsg::Decision(_) => {
                return Err(server_error(
                    t,
                    ctx,
                    "protocol error: decision outside training".into(),
                ));
            }
        }
        t.send(&codec::encode_server_message(ctx, &ServerMsg::Ack))
            .map_err(|e| CliError::msg(e.to_string()))?;
    }
}

/// Receives, decodes and order-checks one client message; errors are sent back.
fn recv_client(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    order: &mut ServerSession,
) -> Result<ClientMsg, CliError> {
    let bytes = match t.recv() {
        Ok(b) => b,
        Err(TransportError::Closed) => {
            return Err(CliError::msg("client closed the connection mid-session"));
        }
        Err(e) => return Err(server_error(t, ctx, e.to_string())),
    };
    let msg = codec::decode_client_message(ctx, &bytes)
        .map_err(|e| server_error(t, ctx, describe_codec(&e, ctx)))?;
    order
        .accept(&msg)
        .map_err(|e| server_error(t, ctx, e.to_string()))?;
    Ok(msg)
}

/// Sends one epoch's validation logits and waits for the client's decision.
fn exchange_logits(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    order: &mut ServerSession,
    epoch: u32,
    last: u32,
    logits: Vec<EncMatrix>,
) -> Result<Decision, CliError> {
    if epoch != last + 1 {
        return Err(server_error(
            t,
            ctx,
            format!("internal: trainer skipped from epoch {last} to {epoch}"),
        ));
    }
    let msg = ServerMsg::ValidationLogits { epoch, logits };
    t.send(&codec::encode_server_message(ctx, &msg))
        .map_err(|e| CliError::msg(e.to_string()))?;
    match recv_client(t, ctx, order)? {
        ClientMsg::Decision(d) => Ok(d),
        m => Err(server_error(
            t,
            ctx,
            format!("protocol error: expected decision, got {}", m.name()),
        )),
    }
}

/// How long the server waits for the next bytes from a client.
pub const SERVER_IDLE: Duration = Duration::from_secs(600);

/// Accepts connections one after another and serves each; a failed session is
/// reported through `log` and the server goes on. Stops after `sessions` successful
/// sessions if given.
pub fn serve_tcp(
    listener: &TcpListener,
    ctx: &Arc<CkksContext>,
    train: &TrainFn,
    max_frame: u64,
    sessions: Option<usize>,
    log: &mut dyn FnMut(&str),
) -> Result<(), CliError> {
    let mut done = 0;
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                log(&format!("accept failed: {e}"));
                continue;
            }
        };
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".into(), |a| a.to_string());
        // A client that goes quiet (between frames or inside one) is dropped after
        // SERVER_IDLE so it cannot hold the server; an epoch's wait is on the client side.
        let mut t = match TcpTransport::new(stream, max_frame, Some(SERVER_IDLE)) {
            Ok(t) => t,
            Err(e) => {
                log(&format!("{peer}: {e}"));
                continue;
            }
        };
        log(&format!("{peer}: connected"));
        match serve_session(&mut t, ctx, train, &mut |ev| {
            if let ServerEvent::Epoch { epoch, time } = ev {
                log(&format!(
                    "{peer}: epoch {epoch} done in {:.1} s",
                    time.as_secs_f64()
                ));
            }
        }) {
            Ok(s) => {
                log(&format!(
                    "{peer}: session finished ({} epochs, model of epoch {})",
                    s.epochs, s.best_epoch
                ));
                done += 1;
                if sessions.is_some_and(|n| done >= n) {
                    return Ok(());
                }
            }
            Err(e) => log(&format!("{peer}: session ended: {e}")),
        }
    }
    Ok(())
}

/// One epoch as the client saw it.
#[derive(Clone, Debug)]
pub struct EpochReport {
    /// Epoch (1-based).
    pub epoch: u32,
    /// Validation loss (exact softmax on the decrypted logits).
    pub val_loss: f64,
    /// Validation accuracy.
    pub val_acc: f64,
    /// Wall time from sending the previous message to receiving these logits.
    pub time: Duration,
}

/// What the client ends with.
#[derive(Clone, Debug)]
pub struct ClientOutcome {
    /// The encrypted weights of the best epoch.
    pub weights: EncMatrix,
    /// Epochs run.
    pub epochs: u32,
    /// Epoch of the weights.
    pub best_epoch: u32,
    /// Per-epoch validation figures.
    pub history: Vec<EpochReport>,
}

fn client_recv(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    order: &mut ClientSession,
) -> Result<ServerMsg, CliError> {
    let bytes = t
        .recv()
        .map_err(|e| CliError::msg(format!("server: {e}")))?;
    let msg = codec::decode_server_message(ctx, &bytes)
        .map_err(|e| CliError::msg(format!("server sent a malformed message: {e}")))?;
    order
        .accept(&msg)
        .map_err(|e| CliError::msg(format!("server: {e}")))?;
    if let ServerMsg::Error(text) = &msg {
        return Err(CliError::msg(format!("server refused: {text}")));
    }
    Ok(msg)
}

/// Sends `msg`, dropping it once encoded: the hello's keys (GBs at N16) are not held
/// next to their encoding while it travels.
fn client_send(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    order: &mut ClientSession,
    msg: ClientMsg,
) -> Result<(), CliError> {
    order.sent(&msg);
    let bytes = codec::encode_client_message(ctx, &msg);
    drop(msg);
    t.send_vec(bytes)
        .map_err(|e| CliError::msg(format!("server: {e}")))
}

/// Runs the client side of a session: sends keys, data and configuration, then after
/// each epoch decrypts the validation logits and decides (early stopping with the
/// configuration's patience).
#[allow(clippy::too_many_arguments)]
pub fn run_client(
    t: &mut dyn Transport,
    ctx: &CkksContext,
    sk: &SecretKey,
    hello: Hello,
    data: EncryptedDataset,
    cfg: TrainConfig,
    state: &ClientState,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<ClientOutcome, CliError> {
    let mut order = ClientSession::new();
    let classes = state.classes as usize;
    client_send(t, ctx, &mut order, ClientMsg::Hello(Box::new(hello)))?;
    client_recv(t, ctx, &mut order)?;
    client_send(t, ctx, &mut order, ClientMsg::Dataset(data))?;
    client_recv(t, ctx, &mut order)?;
    let mut stop = EarlyStopping::new(cfg.patience as usize);
    let epochs_cap = cfg.epochs;
    client_send(t, ctx, &mut order, ClientMsg::Config(cfg))?;
    let mut history = Vec::new();
    let mut sent_at = Instant::now();
    loop {
        match client_recv(t, ctx, &mut order)? {
            ServerMsg::ValidationLogits { epoch, logits } => {
                let time = sent_at.elapsed();
                let mut z = Vec::with_capacity(state.val_labels.len() * classes);
                for m in &logits {
                    if m.cols as usize != classes {
                        return Err(CliError::msg(format!(
                            "server sent logits with {} columns for {classes} classes",
                            m.cols
                        )));
                    }
                    z.extend(decrypt_matrix(ctx, sk, m)?);
                }
                let (val_loss, val_acc) = validation_loss(&z, classes, &state.val_labels)
                    .ok_or_else(|| {
                        CliError::msg("server sent validation logits of the wrong shape")
                    })?;
                let report = EpochReport {
                    epoch,
                    val_loss,
                    val_acc,
                    time,
                };
                on_epoch(&report);
                history.push(report);
                let improved = stop.observe(epoch as usize, val_loss);
                let d = Decision {
                    improved,
                    stop: stop.should_stop() || epoch >= epochs_cap,
                };
                sent_at = Instant::now();
                client_send(t, ctx, &mut order, ClientMsg::Decision(d))?;
            }
            ServerMsg::FinalModel {
                epochs,
                best_epoch,
                weights,
            } => {
                return Ok(ClientOutcome {
                    weights,
                    epochs,
                    best_epoch,
                    history,
                });
            }
            m => {
                return Err(CliError::msg(format!(
                    "server sent an unexpected {}",
                    m.name()
                )));
            }
        }
    }
}
