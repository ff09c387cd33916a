//! Protocol messages: every message round-trips through the codec; truncated,
//! oversized (forged counts and lengths) and malformed input is an error, never a panic
//! or a large allocation; messages out of order are refused by the session machines.
use hetal_core::ckks::{Ciphertext, CkksContext, Params};
use hetal_core::codec::{self, CodecError, Kind};
use hetal_core::hetal::plain::Model;
use hetal_core::hetal::protocol::*;
use hetal_core::rlwe::SecretKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Fx {
    ctx: CkksContext,
    sk: SecretKey,
    hello: ClientMsg,
    rng: ChaCha20Rng,
}

fn fx() -> Fx {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let ctx = CkksContext::new(Params::insecure_n11()).unwrap();
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let public_key = ctx.gen_public_key(&sk, &mut rng).unwrap();
    let keys = ctx.gen_evaluation_keys(&sk, &[1], false, &mut rng).unwrap();
    Fx {
        hello: ClientMsg::Hello(Box::new(Hello {
            public_key,
            keys,
            boot: None,
        })),
        ctx,
        sk,
        rng,
    }
}

/// Encrypts a `rows x cols` matrix at level 0 in 8-slot ciphertexts (small messages).
fn matrix(f: &mut Fx, values: &[f64], rows: u32, cols: u32) -> EncMatrix {
    let slots = 8;
    let packed = pack_row_major(values, rows as usize, cols as usize, slots).unwrap();
    let scale = f.ctx.params().default_scale();
    let cts = packed
        .iter()
        .map(|v| {
            let pt = f.ctx.encode_real(v, slots, 0, scale).unwrap();
            f.ctx.encrypt_sk(&f.sk, &pt, &mut f.rng).unwrap()
        })
        .collect();
    EncMatrix {
        rows,
        cols,
        layout: Layout::RowMajor,
        cts,
    }
}

fn dataset(f: &mut Fx) -> EncryptedDataset {
    let x = matrix(f, &[0.1, 0.2, 1.0, -0.3, 0.4, 1.0, 0.5, 0.6, 1.0], 3, 3);
    let y = matrix(f, &[1.0, 0.0, 0.0, 1.0, 1.0, 0.0], 3, 2);
    let v = matrix(f, &[0.7, -0.8, 1.0], 1, 3);
    EncryptedDataset {
        features: 3,
        classes: 2,
        train_rows: 3,
        val_rows: 1,
        train: vec![TrainBatch { x, y }],
        val: vec![v],
    }
}

fn config() -> TrainConfig {
    TrainConfig {
        lr: 0.5,
        momentum: 0.9,
        epochs: 20,
        patience: 3,
        batch: 128,
        weight_scale: 4.0,
        logit_bound: 128.0,
    }
}

fn client_round_trip(ctx: &CkksContext, m: &ClientMsg) -> Vec<u8> {
    let bytes = codec::encode_client_message(ctx, m);
    let back = codec::decode_client_message(ctx, &bytes).unwrap();
    assert_eq!(back.name(), m.name());
    assert_eq!(codec::encode_client_message(ctx, &back), bytes);
    bytes
}

#[test]
fn client_messages_round_trip() {
    let mut f = fx();
    let d = dataset(&mut f);
    let b = client_round_trip(&f.ctx, &f.hello.clone());
    assert_eq!(codec::peek_header(&b).unwrap().kind, Kind::ClientMessage);
    let b = client_round_trip(&f.ctx, &ClientMsg::Dataset(d.clone()));
    match codec::decode_client_message(&f.ctx, &b).unwrap() {
        ClientMsg::Dataset(back) => assert_eq!(back, d),
        m => panic!("decoded a {}", m.name()),
    }
    client_round_trip(&f.ctx, &ClientMsg::Config(config()));
    for (improved, stop) in [(false, false), (true, false), (false, true), (true, true)] {
        let m = ClientMsg::Decision(Decision { improved, stop });
        let b = client_round_trip(&f.ctx, &m);
        match codec::decode_client_message(&f.ctx, &b).unwrap() {
            ClientMsg::Decision(d) => assert_eq!((d.improved, d.stop), (improved, stop)),
            m => panic!("decoded a {}", m.name()),
        }
    }
}

#[test]
fn server_messages_round_trip_and_decrypt() {
    let mut f = fx();
    let logits = matrix(&mut f, &[2.0, -1.0, 0.5, 0.25], 2, 2);
    let w = matrix(&mut f, &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 2, 3);
    let msgs = [
        ServerMsg::Ack,
        ServerMsg::ValidationLogits {
            epoch: 4,
            logits: vec![logits.clone(), logits],
        },
        ServerMsg::FinalModel {
            epochs: 7,
            best_epoch: 4,
            weights: w.clone(),
        },
        ServerMsg::Error("no such preset: ünïcode".into()),
    ];
    for m in &msgs {
        let b = codec::encode_server_message(&f.ctx, m);
        assert_eq!(&codec::decode_server_message(&f.ctx, &b).unwrap(), m);
    }
    // The weights decrypt back to the matrix (CKKS noise only).
    let slots: Vec<Vec<f64>> = w
        .cts
        .iter()
        .map(|c| {
            let v = f.ctx.decrypt_decode(&f.sk, c).unwrap();
            v.iter().map(|z| z.re).collect()
        })
        .collect();
    let back = unpack_row_major(&slots, 2, 3).unwrap();
    for (a, b) in back.iter().zip([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn every_truncation_is_an_error() {
    let mut f = fx();
    let d = dataset(&mut f);
    let msgs = [
        codec::encode_client_message(&f.ctx, &ClientMsg::Dataset(d)),
        codec::encode_client_message(&f.ctx, &ClientMsg::Config(config())),
        codec::encode_client_message(&f.ctx, &f.hello),
    ];
    for bytes in &msgs {
        // Every cut in the header and fields, and a spread of cuts inside the polynomials.
        let step = (bytes.len() / 500).max(1);
        for cut in (0..bytes.len()).filter(|c| *c < 64 || c % step == 0) {
            assert!(
                codec::decode_client_message(&f.ctx, &bytes[..cut]).is_err(),
                "cut at {cut} of {}",
                bytes.len()
            );
        }
        let mut long = bytes.clone();
        long.extend_from_slice(&[0; 3]);
        assert_eq!(
            codec::decode_client_message(&f.ctx, &long).unwrap_err(),
            CodecError::TrailingBytes(3)
        );
    }
    let ack = codec::encode_server_message(&f.ctx, &ServerMsg::Ack);
    for cut in 0..ack.len() {
        assert!(codec::decode_server_message(&f.ctx, &ack[..cut]).is_err());
    }
}

/// Offset of the first field after the header and the tag.
const BODY: usize = 4 + 2 + 1 + 8 + 1;

#[test]
fn forged_counts_and_lengths_are_refused_before_allocating() {
    let mut f = fx();
    let d = dataset(&mut f);
    let bytes = codec::encode_client_message(&f.ctx, &ClientMsg::Dataset(d));
    // Train batch count (after features, classes, train_rows, val_rows) set to u32::MAX:
    // that many matrices cannot fit in the input, so the decoder stops before reserving.
    let at = BODY + 4 + 4 + 8 + 8;
    let mut bad = bytes.clone();
    bad[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        codec::decode_client_message(&f.ctx, &bad).unwrap_err(),
        CodecError::Truncated
    );
    // The first matrix's ciphertext count forged.
    let at = BODY + 4 + 4 + 8 + 8 + 4 + 4 + 4 + 1;
    let mut bad = bytes.clone();
    bad[at..at + 4].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    assert_eq!(
        codec::decode_client_message(&f.ctx, &bad).unwrap_err(),
        CodecError::Truncated
    );
    // A declared row count that the matrices do not add up to.
    let at = BODY + 4 + 4;
    let mut bad = bytes.clone();
    bad[at..at + 8].copy_from_slice(&4u64.to_le_bytes());
    assert_eq!(
        codec::decode_client_message(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("row count")
    );
    // A matrix claiming more rows than its ciphertexts hold.
    let at = BODY + 4 + 4 + 8 + 8 + 4;
    let mut bad = bytes;
    bad[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(
        codec::decode_client_message(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("ciphertext count of a matrix")
    );
    // Error text longer than allowed.
    let mut bad = codec::encode_server_message(&f.ctx, &ServerMsg::Error("x".into()));
    bad[BODY..BODY + 2].copy_from_slice(&u16::MAX.to_le_bytes());
    assert_eq!(
        codec::decode_server_message(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("error text length")
    );
    // Invalid UTF-8 in the error text.
    let mut bad = codec::encode_server_message(&f.ctx, &ServerMsg::Error("ab".into()));
    bad[BODY + 2] = 0xff;
    assert_eq!(
        codec::decode_server_message(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("error text")
    );
}

#[test]
fn malformed_fields_are_refused() {
    let f = fx();
    let enc = |m: &ClientMsg| codec::encode_client_message(&f.ctx, m);
    for bad in [
        TrainConfig {
            lr: f64::NAN,
            ..config()
        },
        TrainConfig {
            lr: -1.0,
            ..config()
        },
        TrainConfig {
            momentum: 1.0,
            ..config()
        },
        TrainConfig {
            epochs: 0,
            ..config()
        },
        TrainConfig {
            epochs: MAX_EPOCHS + 1,
            ..config()
        },
        TrainConfig {
            batch: 0,
            ..config()
        },
        TrainConfig {
            logit_bound: 48.0,
            ..config()
        },
        TrainConfig {
            logit_bound: 256.0,
            ..config()
        },
        TrainConfig {
            logit_bound: 16.0,
            ..config()
        },
    ] {
        assert_eq!(
            codec::decode_client_message(&f.ctx, &enc(&ClientMsg::Config(bad.clone())))
                .unwrap_err(),
            CodecError::InvalidValue("training configuration"),
            "{bad:?}"
        );
    }
    let mut d = enc(&ClientMsg::Decision(Decision {
        improved: true,
        stop: true,
    }));
    d[BODY] = 4;
    assert_eq!(
        codec::decode_client_message(&f.ctx, &d).unwrap_err(),
        CodecError::InvalidValue("decision flags")
    );
    d[BODY - 1] = 9;
    assert_eq!(
        codec::decode_client_message(&f.ctx, &d).unwrap_err(),
        CodecError::InvalidValue("message tag")
    );
    // A server message handed to the client-message decoder.
    let ack = codec::encode_server_message(&f.ctx, &ServerMsg::Ack);
    assert!(matches!(
        codec::decode_client_message(&f.ctx, &ack),
        Err(CodecError::WrongKind { .. })
    ));
}

#[test]
fn fingerprints_are_checked_except_for_errors() {
    let f = fx();
    let other = CkksContext::new(Params::insecure_n12()).unwrap();
    let cfg = codec::encode_client_message(&other, &ClientMsg::Config(config()));
    assert!(matches!(
        codec::decode_client_message(&f.ctx, &cfg),
        Err(CodecError::FingerprintMismatch { .. })
    ));
    let ack = codec::encode_server_message(&other, &ServerMsg::Ack);
    assert!(matches!(
        codec::decode_server_message(&f.ctx, &ack),
        Err(CodecError::FingerprintMismatch { .. })
    ));
    let err = codec::encode_server_message(&other, &ServerMsg::Error("wrong preset".into()));
    assert_eq!(
        codec::decode_server_message(&f.ctx, &err).unwrap(),
        ServerMsg::Error("wrong preset".into())
    );
}

#[test]
fn server_session_refuses_out_of_order() {
    let mut f = fx();
    let d = ClientMsg::Dataset(dataset(&mut f));
    let c = ClientMsg::Config(config());
    let dec = ClientMsg::Decision(Decision {
        improved: false,
        stop: false,
    });
    for (first, expected) in [(&d, "hello"), (&c, "hello"), (&dec, "hello")] {
        let e = ServerSession::new().accept(first).unwrap_err();
        assert_eq!((e.expected, e.found), (expected, first.name()));
    }
    let mut s = ServerSession::new();
    s.accept(&f.hello).unwrap();
    assert_eq!(s.accept(&f.hello).unwrap_err().expected, "dataset");
    assert_eq!(s.accept(&c).unwrap_err().expected, "dataset");
    s.accept(&d).unwrap();
    assert_eq!(s.accept(&dec).unwrap_err().expected, "config");
    s.accept(&c).unwrap();
    s.accept(&dec).unwrap();
    s.accept(&dec).unwrap();
    assert_eq!(s.accept(&d).unwrap_err().expected, "decision");
    s.finish();
    assert_eq!(
        s.accept(&dec).unwrap_err().to_string(),
        "protocol error: expected nothing (session finished), got decision"
    );
}

#[test]
fn client_session_refuses_out_of_order() {
    let mut f = fx();
    let w = matrix(&mut f, &[0.0; 6], 2, 3);
    let logits = |epoch| ServerMsg::ValidationLogits {
        epoch,
        logits: vec![],
    };
    let model = ServerMsg::FinalModel {
        epochs: 2,
        best_epoch: 1,
        weights: w,
    };
    let go = ClientMsg::Decision(Decision {
        improved: true,
        stop: false,
    });
    let stop = ClientMsg::Decision(Decision {
        improved: false,
        stop: true,
    });
    let mut c = ClientSession::new();
    c.sent(&f.hello);
    assert_eq!(c.accept(&logits(1)).unwrap_err().expected, "ack");
    c.accept(&ServerMsg::Ack).unwrap();
    c.sent(&ClientMsg::Config(config()));
    assert!(c.accept(&model).is_err(), "a model before any epoch");
    assert!(c.accept(&logits(2)).is_err(), "epoch 2 before epoch 1");
    c.accept(&logits(1)).unwrap();
    c.sent(&go);
    assert!(c.accept(&logits(1)).is_err(), "epoch 1 twice");
    assert!(c.accept(&ServerMsg::Ack).is_err());
    c.accept(&logits(2)).unwrap();
    c.sent(&stop);
    assert_eq!(c.accept(&logits(3)).unwrap_err().expected, "final model");
    c.accept(&model).unwrap();
    assert_eq!(c.epoch(), 2);
    assert!(c.accept(&ServerMsg::Ack).is_err(), "after the model");
    // An error ends the session at any point.
    let mut c = ClientSession::new();
    c.sent(&f.hello);
    c.accept(&ServerMsg::Error("bye".into())).unwrap();
}

#[test]
fn secret_key_round_trips_and_rejects_bad_coefficients() {
    let mut f = fx();
    let bytes = codec::encode_secret_key(&f.ctx, &f.sk);
    assert_eq!(codec::peek_header(&bytes).unwrap().kind, Kind::SecretKey);
    let sk = codec::decode_secret_key(&f.ctx, &bytes).unwrap();
    assert_eq!(sk.coeffs(), f.sk.coeffs());
    // The decoded key decrypts what the original encrypted.
    let pt = f.ctx.encode_real(&[0.375], 8, 1, 2f64.powi(40)).unwrap();
    let ct: Ciphertext = f.ctx.encrypt_sk(&f.sk, &pt, &mut f.rng).unwrap();
    let v = f.ctx.decrypt_decode(&sk, &ct).unwrap();
    assert!((v[0].re - 0.375).abs() < 1e-8);

    let mut bad = bytes.to_vec();
    bad[20] = 2;
    assert_eq!(
        codec::decode_secret_key(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("secret coefficient")
    );
    assert_eq!(
        codec::decode_secret_key(&f.ctx, &bytes[..bytes.len() - 1]).unwrap_err(),
        CodecError::Truncated
    );
    let other = CkksContext::new(Params::insecure_n12()).unwrap();
    assert!(matches!(
        codec::decode_secret_key(&other, &bytes),
        Err(CodecError::FingerprintMismatch { .. })
    ));
}

#[test]
fn client_state_and_plain_model_round_trip() {
    let f = fx();
    let s = ClientState {
        scale: 9.36,
        dim: 64,
        classes: 10,
        key_id: 0x1234_5678_9abc_def0,
        val_labels: vec![0, 9, 3],
    };
    let b = codec::encode_client_state(&f.ctx, &s);
    assert_eq!(codec::decode_client_state(&f.ctx, &b).unwrap(), s);
    let mut bad = b.clone();
    bad.truncate(b.len() - 4);
    assert_eq!(
        codec::decode_client_state(&f.ctx, &bad).unwrap_err(),
        CodecError::Truncated
    );
    let bad_label = ClientState {
        val_labels: vec![10],
        ..s.clone()
    };
    assert_eq!(
        codec::decode_client_state(&f.ctx, &codec::encode_client_state(&f.ctx, &bad_label))
            .unwrap_err(),
        CodecError::InvalidValue("label")
    );

    let m = PlainModel {
        scale: 2.5,
        model: Model {
            w: vec![0.5, -1.0, 2.0, 0.25, 0.0, -0.125],
            cols: 3,
            classes: 2,
        },
    };
    let b = codec::encode_plain_model(&m);
    assert_eq!(codec::peek_header(&b).unwrap().fingerprint, None);
    assert_eq!(codec::decode_plain_model(&b).unwrap(), m);
    let mut nan = m.clone();
    nan.model.w[3] = f64::NAN;
    assert_eq!(
        codec::decode_plain_model(&codec::encode_plain_model(&nan)).unwrap_err(),
        CodecError::InvalidValue("weight")
    );
    let mut forged = b;
    forged[4 + 2 + 1 + 8..4 + 2 + 1 + 8 + 4].copy_from_slice(&60000u32.to_le_bytes());
    assert_eq!(
        codec::decode_plain_model(&forged).unwrap_err(),
        CodecError::Truncated
    );
}

#[test]
fn row_major_packing_splits_across_ciphertexts() {
    // 5 rows of 3 (padded to 4) in 8-slot vectors: 3 vectors, 2 rows each.
    let m: Vec<f64> = (0..15).map(f64::from).collect();
    let v = pack_row_major(&m, 5, 3, 8).unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(v[1], vec![6.0, 7.0, 8.0, 0.0, 9.0, 10.0, 11.0, 0.0]);
    assert_eq!(unpack_row_major(&v, 5, 3).unwrap(), m);
    assert!(
        pack_row_major(&m, 5, 3, 2).is_none(),
        "a row wider than a ciphertext"
    );
    assert!(unpack_row_major(&v[..2], 5, 3).is_none(), "too few vectors");
    assert_eq!(Layout::RowMajor.ciphertexts(5, 3, 8), Some(3));
    assert_eq!(Layout::RowMajor.ciphertexts(usize::MAX, 3, 8), None);
}

#[test]
fn validation_loss_matches_plain_model() {
    let logits = [2.0, 0.0, 0.0, 1.0, -1.0, 3.0];
    let (loss, acc) = validation_loss(&logits, 2, &[0, 1, 0]).unwrap();
    assert!((acc - 2.0 / 3.0).abs() < 1e-12);
    let ce = |a: f64, b: f64| -(a.exp() / (a.exp() + b.exp())).ln();
    let want = (ce(2.0, 0.0) + ce(1.0, 0.0) + ce(-1.0, 3.0)) / 3.0;
    assert!((loss - want).abs() < 1e-9, "{loss} vs {want}");
    assert!(validation_loss(&logits, 2, &[0, 2, 0]).is_none());
    assert!(validation_loss(&logits, 2, &[0, 1]).is_none());
}

#[test]
fn block_layout_matrices_travel_and_convert() {
    use hetal_core::linalg::{Tiling, UnitShape};
    let mut f = fx();
    // A 3 x 5 matrix in 2 x 4 blocks (8 slots): 2 x 2 blocks, one ciphertext each.
    let unit = UnitShape::new(2, 4).unwrap();
    let layout = Layout::Block {
        unit,
        tiling: Tiling::None,
    };
    let bl = layout.block_layout(3, 5).unwrap();
    let values: Vec<f64> = (0..15).map(|v| f64::from(v) / 16.0).collect();
    let scale = f.ctx.params().default_scale();
    let cts: Vec<Ciphertext> = bl
        .pack(&values)
        .unwrap()
        .iter()
        .map(|v| {
            let pt = f.ctx.encode_real(v, 8, 0, scale).unwrap();
            f.ctx.encrypt_sk(&f.sk, &pt, &mut f.rng).unwrap()
        })
        .collect();
    assert_eq!(cts.len(), 4);
    let m = EncMatrix {
        rows: 3,
        cols: 5,
        layout,
        cts,
    };
    m.check().unwrap();
    let msg = ServerMsg::FinalModel {
        epochs: 1,
        best_epoch: 1,
        weights: m.clone(),
    };
    let bytes = codec::encode_server_message(&f.ctx, &msg);
    assert_eq!(codec::decode_server_message(&f.ctx, &bytes).unwrap(), msg);
    // To the trainer's type and back.
    let lin = m.clone().into_blocks().unwrap();
    assert_eq!(*lin.layout(), bl);
    let back = EncMatrix::from_blocks(lin);
    assert_eq!(back, m);
    // Decrypts to the values through the block layout.
    let slots: Vec<Vec<f64>> = back
        .cts
        .iter()
        .map(|c| {
            f.ctx
                .decrypt_decode(&f.sk, c)
                .unwrap()
                .iter()
                .map(|z| z.re)
                .collect()
        })
        .collect();
    for (a, b) in bl.unpack(&slots).unwrap().iter().zip(&values) {
        assert!((a - b).abs() < 1e-6);
    }

    // Forged block fields: the offsets of the layout fields in a final-model message.
    let at = BODY + 4 + 4 + 4 + 4 + 1;
    let mut bad = bytes.clone();
    bad[at..at + 4].copy_from_slice(&3u32.to_le_bytes());
    assert_eq!(
        codec::decode_server_message(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("block shape")
    );
    let mut bad = bytes.clone();
    bad[at + 8] = 7;
    assert_eq!(
        codec::decode_server_message(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("tiling")
    );
    // A vertical tiling whose period is below the rows is not a valid layout.
    let mut bad = bytes.clone();
    bad[at + 8] = 1;
    bad[at + 9..at + 13].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(
        codec::decode_server_message(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("ciphertext count of a matrix")
    );
    // Blocks that are not one ciphertext each (4 x 4 blocks of 8-slot ciphertexts).
    let mut bad = bytes;
    bad[at + 4..at + 8].copy_from_slice(&4u32.to_le_bytes());
    bad[at..at + 4].copy_from_slice(&4u32.to_le_bytes());
    assert_eq!(
        codec::decode_server_message(&f.ctx, &bad).unwrap_err(),
        CodecError::InvalidValue("ciphertext count of a matrix")
    );
}

#[test]
fn checkpoint_round_trips_and_rejects_inconsistent_epochs() {
    let mut f = fx();
    let u = matrix(&mut f, &[0.1, 0.2, 0.3, 0.4], 2, 2);
    let v = matrix(&mut f, &[-0.1, 0.0, 0.5, 0.25], 2, 2);
    let logits = matrix(&mut f, &[1.0, -1.0], 1, 2);
    let keep = Decision {
        improved: true,
        stop: false,
    };
    let c = Checkpoint {
        run_id: 0x1234_5678_9abc_def0,
        config: config(),
        epoch: 2,
        step: 1,
        u: u.clone(),
        v,
        decisions: vec![
            keep,
            Decision {
                improved: false,
                stop: false,
            },
        ],
        best: Some((1, u)),
        logits: vec![vec![logits.clone()], vec![logits]],
    };
    let bytes = codec::encode_checkpoint(&f.ctx, &c);
    assert_eq!(codec::peek_header(&bytes).unwrap().kind, Kind::Checkpoint);
    assert_eq!(codec::decode_checkpoint(&f.ctx, &bytes).unwrap(), c);
    for cut in [0, 7, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(codec::decode_checkpoint(&f.ctx, &bytes[..cut]).is_err());
    }
    // Decisions, logits and the kept epoch must agree with the epoch count.
    let bad = [
        Checkpoint {
            decisions: vec![keep],
            ..c.clone()
        },
        Checkpoint {
            logits: vec![],
            ..c.clone()
        },
        Checkpoint {
            best: Some((3, c.u.clone())),
            ..c.clone()
        },
    ];
    for b in &bad {
        assert!(matches!(
            codec::decode_checkpoint(&f.ctx, &codec::encode_checkpoint(&f.ctx, b)),
            Err(CodecError::InvalidValue(_))
        ));
    }
}
