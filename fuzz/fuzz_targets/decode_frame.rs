//! Bytes as a stream of length-prefixed frames (`codec::decode_frame`, limit 1 MiB), each
//! payload through both message decoders and the server's order check: errors only,
//! never a panic, and a decoded message re-encodes to its payload. Input starting with
//! 0 is used raw; otherwise it edits a valid stream (data set, config, decision, ack,
//! error) so the deep paths are reached.
#![no_main]
use std::sync::OnceLock;

use hetal_core::codec;
use hetal_core::hetal::protocol::*;
use libfuzzer_sys::fuzz_target;

mod common;

fn valid_stream() -> &'static [u8] {
    static S: OnceLock<Vec<u8>> = OnceLock::new();
    S.get_or_init(|| {
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        let c = common::ctx();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let sk = c.gen_secret_key(&mut rng).expect("sk");
        let mut m = |rows: u32, cols: u32| {
            let v = vec![0.25; (rows * cols) as usize];
            let cts = pack_row_major(&v, rows as usize, cols as usize, 8)
                .expect("pack")
                .iter()
                .map(|s| {
                    let pt = c.encode_real(s, 8, 0, 2f64.powi(40)).expect("pt");
                    c.encrypt_sk(&sk, &pt, &mut rng).expect("ct")
                })
                .collect();
            EncMatrix {
                rows,
                cols,
                layout: Layout::RowMajor,
                cts,
            }
        };
        let d = EncryptedDataset {
            features: 3,
            classes: 2,
            train_rows: 2,
            val_rows: 1,
            train: vec![TrainBatch {
                x: m(2, 3),
                y: m(2, 2),
            }],
            val: vec![m(1, 3)],
        };
        let cfg = TrainConfig {
            lr: 1.0,
            momentum: 0.9,
            epochs: 3,
            patience: 1,
            batch: 2,
            weight_scale: 1.0,
            logit_bound: 128.0,
        };
        let mut out = Vec::new();
        for msg in [
            ClientMsg::Dataset(d),
            ClientMsg::Config(cfg),
            ClientMsg::Decision(Decision {
                improved: true,
                stop: false,
            }),
        ] {
            out.extend(codec::encode_frame(&codec::encode_client_message(c, &msg)));
        }
        for msg in [ServerMsg::Ack, ServerMsg::Error("bad".into())] {
            out.extend(codec::encode_frame(&codec::encode_server_message(c, &msg)));
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let bytes = common::input(data, valid_stream());
    let ctx = common::ctx();
    let mut session = ServerSession::new();
    let mut rest = &bytes[..];
    while let Ok((payload, next)) = codec::decode_frame(rest, 1 << 20) {
        if let Ok(m) = codec::decode_client_message(ctx, payload) {
            assert_eq!(codec::encode_client_message(ctx, &m), payload);
            let _ = session.accept(&m);
        }
        if let Ok(m) = codec::decode_server_message(ctx, payload) {
            // An error message is accepted under any fingerprint, so compare the tail.
            let again = codec::encode_server_message(ctx, &m);
            assert_eq!(again[15..], payload[15..]);
        }
        rest = next;
    }
});
