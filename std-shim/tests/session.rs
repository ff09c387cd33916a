//! The protocol roles end to end, in process and over loopback TCP, with a scripted
//! stand-in for the encrypted trainer (its weights follow a known schedule, so the
//! client's early stopping and the server's kept model can be checked exactly); and a
//! TCP server that survives oversized, malformed, truncated and out-of-order frames.
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use hetal::keys::{decrypt_matrix, encrypt_matrix};
use hetal::session::{TrainFn, run_client, serve_session, serve_tcp};
use hetal::transport::{MemTransport, TcpTransport, Transport, read_frame};
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::codec;
use hetal_core::hetal::plain::{self, EarlyStopping, Features, NagConfig};
use hetal_core::hetal::protocol::*;
use hetal_core::rlwe::{PublicKey, SecretKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod common;
use common::SCHEDULE;

struct Setup {
    ctx: Arc<CkksContext>,
    sk: SecretKey,
    pk: PublicKey,
    train: Features,
    val: Features,
    /// Reference weights (plaintext trained).
    w: Vec<f64>,
}

fn setup() -> Setup {
    let ctx = Arc::new(CkksContext::new(Params::insecure_n11()).unwrap());
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let pk = ctx.gen_public_key(&sk, &mut rng).unwrap();
    let [tr, va, _] = hetal::demo::embedded().unwrap();
    let cut = |s: &hetal::data::Split, rows: usize, scale: f64| {
        let c = s.x.cols;
        Features::prepare(&s.x.data[..rows * c], c, &s.y[..rows], 10, scale).unwrap()
    };
    let scale = Features::max_abs(&tr.x.data[..96 * 64]);
    let train = cut(&tr, 96, scale);
    let val = cut(&va, 40, scale);
    let cfg = NagConfig {
        lr: 3.0,
        batch: 32,
        max_epochs: 15,
        ..NagConfig::default()
    };
    let run = plain::train(&train, &val, &cfg, &mut |z: &mut [f64]| {
        plain::softmax_exact(z)
    });
    Setup {
        ctx,
        sk,
        pk,
        train,
        val,
        w: run.model.w,
    }
}

fn factory(s: &Setup) -> Box<TrainFn> {
    common::scripted(s.w.clone(), s.val.clone())
}

/// Keys, encrypted data and state as `hetal encrypt` would make them.
fn client_inputs(s: &Setup) -> (Hello, EncryptedDataset, ClientState) {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let keys = s
        .ctx
        .gen_evaluation_keys(&s.sk, &[1], false, &mut rng)
        .unwrap();
    let m = |f: &Features, rows: std::ops::Range<usize>, rng: &mut ChaCha20Rng| {
        let x: Vec<f64> = rows.clone().flat_map(|r| f.row(r).to_vec()).collect();
        encrypt_matrix(&s.ctx, &s.pk, &x, rows.len(), f.cols, rng).unwrap()
    };
    let y = |rows: std::ops::Range<usize>, rng: &mut ChaCha20Rng| {
        let mut v = vec![0.0; rows.len() * 10];
        for (i, r) in rows.clone().enumerate() {
            v[i * 10 + s.train.y[r]] = 1.0;
        }
        encrypt_matrix(&s.ctx, &s.pk, &v, rows.len(), 10, rng).unwrap()
    };
    let train = (0..3)
        .map(|b| TrainBatch {
            x: m(&s.train, b * 32..b * 32 + 32, &mut rng),
            y: y(b * 32..b * 32 + 32, &mut rng),
        })
        .collect();
    let ds = EncryptedDataset {
        features: 65,
        classes: 10,
        train_rows: 96,
        val_rows: 40,
        train,
        val: vec![m(&s.val, 0..32, &mut rng), m(&s.val, 32..40, &mut rng)],
    };
    let state = ClientState {
        scale: 1.0,
        dim: 64,
        classes: 10,
        key_id: 0,
        val_labels: s.val.y.iter().map(|&l| l as u32).collect(),
    };
    (
        Hello {
            public_key: s.pk.clone(),
            keys,
            boot: None,
        },
        ds,
        state,
    )
}

fn config(patience: u32, epochs: u32) -> TrainConfig {
    TrainConfig {
        lr: 1.0,
        momentum: 0.9,
        epochs,
        patience,
        batch: 32,
        weight_scale: 1.0,
        logit_bound: 128.0,
    }
}

/// The epochs the client must run and keep, from the schedule's exact losses.
fn expected(s: &Setup, patience: usize, cap: usize) -> (usize, usize) {
    let mut stop = EarlyStopping::new(patience);
    for (e, k) in SCHEDULE.iter().enumerate().take(cap) {
        let model = plain::Model {
            w: s.w.iter().map(|v| v * k).collect(),
            cols: 65,
            classes: 10,
        };
        stop.observe(e + 1, model.loss_accuracy(&s.val).0);
        if stop.should_stop() {
            return (e + 1, stop.best_epoch());
        }
    }
    (cap, stop.best_epoch())
}

fn check_outcome(s: &Setup, out: &hetal::session::ClientOutcome, patience: usize, cap: usize) {
    let (epochs, best) = expected(s, patience, cap);
    assert_eq!(
        (out.epochs as usize, out.best_epoch as usize),
        (epochs, best)
    );
    assert_eq!(out.history.len(), epochs);
    let w = decrypt_matrix(&s.ctx, &s.sk, &out.weights).unwrap();
    for (a, b) in w.iter().zip(&s.w) {
        assert!((a - b * SCHEDULE[best - 1]).abs() < 1e-6, "{a} vs {b}");
    }
    // The client's validation loss is the plaintext one (CKKS noise only).
    let model = plain::Model {
        w: s.w.iter().map(|v| v * SCHEDULE[0]).collect(),
        cols: 65,
        classes: 10,
    };
    assert!((out.history[0].val_loss - model.loss_accuracy(&s.val).0).abs() < 1e-6);
}

#[test]
fn in_process_session_stops_early_and_returns_the_best_epoch() {
    let s = setup();
    let (hello, ds, state) = client_inputs(&s);
    let (mut a, mut b) = MemTransport::pair(1 << 30);
    let f = factory(&s);
    let ctx = s.ctx.clone();
    let server = thread::spawn(move || {
        let mut steps = 0;
        let r = serve_session(&mut b, &ctx, f.as_ref(), &mut |ev| {
            if let hetal::session::ServerEvent::Step { .. } = ev {
                steps += 1;
            }
        });
        (r.map(|s| (s.epochs, s.best_epoch)), steps)
    });
    let out = run_client(
        &mut a,
        &s.ctx,
        &s.sk,
        hello,
        ds,
        config(2, 10),
        &state,
        &mut |_| {},
    )
    .unwrap();
    check_outcome(&s, &out, 2, 10);
    let (summary, steps) = server.join().unwrap();
    assert_eq!(summary.unwrap(), (out.epochs, out.best_epoch));
    assert_eq!(steps, 3 * out.epochs as usize, "3 batches per epoch");
    assert_eq!(expected(&s, 2, 10), (6, 4), "the schedule peaks at epoch 4");
}

#[test]
fn epoch_cap_ends_the_session() {
    let s = setup();
    let (hello, ds, state) = client_inputs(&s);
    let (mut a, mut b) = MemTransport::pair(1 << 30);
    let f = factory(&s);
    let ctx = s.ctx.clone();
    let server =
        thread::spawn(move || serve_session(&mut b, &ctx, f.as_ref(), &mut |_| {}).is_ok());
    let out = run_client(
        &mut a,
        &s.ctx,
        &s.sk,
        hello,
        ds,
        config(0, 3),
        &state,
        &mut |_| {},
    )
    .unwrap();
    check_outcome(&s, &out, 0, 3);
    assert_eq!((out.epochs, out.best_epoch), (3, 3));
    assert!(server.join().unwrap());
}

/// Sends raw bytes on a fresh connection and returns the server's error text.
fn bad_connection(addr: std::net::SocketAddr, bytes: &[u8], ctx: &CkksContext) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(bytes).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let reply = read_frame(&mut c, 1 << 20).expect("an error frame");
    // The server then closes the connection.
    let mut rest = Vec::new();
    assert_eq!(c.read_to_end(&mut rest).unwrap(), 0);
    match codec::decode_server_message(ctx, &reply).unwrap() {
        ServerMsg::Error(text) => text,
        m => panic!("got a {}", m.name()),
    }
}

#[test]
fn tcp_server_survives_bad_frames_then_trains() {
    let s = setup();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let f = factory(&s);
    let ctx = s.ctx.clone();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let server_log = log.clone();
    let server = thread::spawn(move || {
        serve_tcp(&listener, &ctx, f.as_ref(), 64 << 20, Some(1), &mut |m| {
            server_log.lock().unwrap().push(m.to_string())
        })
    });

    // Oversized: the 8-byte prefix alone is refused (nothing allocated for it).
    let text = bad_connection(addr, &(1u64 << 40).to_le_bytes(), &s.ctx);
    assert_eq!(
        text,
        format!(
            "frame of {} bytes is over the limit of {} bytes",
            1u64 << 40,
            64u64 << 20
        )
    );
    // Malformed payload.
    let text = bad_connection(addr, &codec::encode_frame(b"garbage!"), &s.ctx);
    assert_eq!(text, "malformed message: not a hetal object (bad magic)");
    // Out of order: a config before the hello.
    let cfg = codec::encode_client_message(&s.ctx, &ClientMsg::Config(config(1, 2)));
    let text = bad_connection(addr, &codec::encode_frame(&cfg), &s.ctx);
    assert_eq!(text, "protocol error: expected hello, got config");
    // Another parameter set.
    let n12 = CkksContext::new(Params::insecure_n12()).unwrap();
    let cfg12 = codec::encode_client_message(&n12, &ClientMsg::Config(config(1, 2)));
    let text = bad_connection(addr, &codec::encode_frame(&cfg12), &s.ctx);
    assert!(text.starts_with("message is for parameter set"), "{text}");
    assert!(text.contains("this server runs insecure_N11"), "{text}");
    // Truncated inside a frame.
    let mut cut = codec::encode_frame(&cfg);
    cut.truncate(20);
    let text = bad_connection(addr, &cut, &s.ctx);
    assert!(
        text.starts_with("connection ended inside a frame"),
        "{text}"
    );

    // The server is still there: a full session over TCP.
    let (hello, ds, state) = client_inputs(&s);
    let stream = TcpStream::connect(addr).unwrap();
    let mut t = TcpTransport::new(stream, 1 << 30, Some(Duration::from_secs(120))).unwrap();
    let out = run_client(
        &mut t,
        &s.ctx,
        &s.sk,
        hello,
        ds,
        config(2, 10),
        &state,
        &mut |_| {},
    )
    .unwrap();
    check_outcome(&s, &out, 2, 10);
    server.join().unwrap().unwrap();
    let log = log.lock().unwrap();
    assert_eq!(
        log.iter().filter(|l| l.contains("session ended")).count(),
        5,
        "{log:?}"
    );
    assert!(
        log.last()
            .unwrap()
            .contains("session finished (6 epochs, model of epoch 4)")
    );
    // The transport trait object is usable for both ends.
    let _: &dyn Transport = &t;
}

#[test]
fn client_refuses_a_server_out_of_order() {
    let s = setup();
    let (hello, ds, state) = client_inputs(&s);
    let (mut a, mut b) = MemTransport::pair(1 << 30);
    let ctx = s.ctx.clone();
    let pk = s.pk.clone();
    let server = thread::spawn(move || {
        // Acknowledge hello and data, then answer the config with epoch 2's logits.
        for _ in 0..2 {
            b.recv().unwrap();
            b.send(&codec::encode_server_message(&ctx, &ServerMsg::Ack))
                .unwrap();
        }
        b.recv().unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let z = encrypt_matrix(&ctx, &pk, &[0.0; 400], 40, 10, &mut rng).unwrap();
        let _ = b.send(&codec::encode_server_message(
            &ctx,
            &ServerMsg::ValidationLogits {
                epoch: 2,
                logits: vec![z],
            },
        ));
    });
    let e = run_client(
        &mut a,
        &s.ctx,
        &s.sk,
        hello,
        ds,
        config(1, 5),
        &state,
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(
        e.0,
        "server: protocol error: expected validation logits of the next epoch, got validation logits"
    );
    server.join().unwrap();
}
