//! `hetal serve` and `hetal client` as separate processes over loopback TCP, on the
//! insecure N = 2^12 training preset: a whole encrypted training run with early
//! stopping decided by the client (patience 1), the kept epoch's model decrypted and
//! compared with the plaintext reference trained for that many epochs; then the same
//! run with the server killed (SIGKILL) after its first epoch's checkpoint, restarted
//! with `--resume` and the client run again: the finished epochs are replayed from the
//! checkpoint and the client ends with a byte-identical encrypted model.
use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};

use hetal_core::hetal::plain::{self, EarlyStopping, NagConfig};
use hetal_core::hetal::train::weight_scale_for;

mod common;
use common::train::*;

const CAP: usize = 4;

/// Starts `hetal serve` on a free loopback port; returns it, its address and its log.
fn serve(ckpt: &Path, extra: &[&str]) -> (Child, String, Lines<BufReader<ChildStderr>>) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_hetal"))
        .args([
            INSECURE[0],
            INSECURE[1],
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sessions",
            "1",
            "--checkpoint",
            p(ckpt),
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let l = lines.next().expect("server exited early").unwrap();
        if let Some(rest) = l.split(" on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    (server, addr, lines)
}

#[test]
fn client_and_server_processes_train_with_early_stopping() {
    let s = Setup::new("tcp");
    // The learning rate: the smallest of a few whose plaintext run stops early (the
    // validation loss turns up within the cap), so the encrypted run exercises a stop.
    let run_for = |lr: f64| {
        let cfg = NagConfig {
            lr,
            momentum: 0.9,
            batch: BATCH,
            max_epochs: CAP,
            patience: 1,
            seed: 0,
        };
        plain::train(&s.train, &s.val, &cfg, &mut |z: &mut [f64]| {
            plain::softmax_exact(z)
        })
    };
    let lr = [4.0, 8.0, 16.0]
        .into_iter()
        .find(|&lr| run_for(lr).epochs < CAP)
        .unwrap_or(4.0);
    let reference = run_for(lr);
    let r = weight_scale_for(reference.max_abs_weight * 2.0);
    eprintln!(
        "lr {lr}: plaintext stops after {} epochs (kept {}), weight scale {r}",
        reference.epochs, reference.best_epoch
    );

    let ckpt = s.dir.join("serve.ckpt");
    let (mut server, addr, lines) = serve(&ckpt, &[]);
    let model = s.dir.join("model.enc");
    let (lr_s, r_s, cap_s) = (lr.to_string(), r.to_string(), CAP.to_string());
    let client_args = |addr: &str, out: &Path| -> Vec<String> {
        [
            INSECURE[0],
            INSECURE[1],
            "client",
            "--connect",
            addr,
            "--keys",
            p(&s.keys),
            "--data",
            p(&s.dir.join("data.enc")),
            "--state",
            p(&s.dir.join("client.state")),
            "--out",
            p(out),
            "--report",
            p(&s.dir),
            "--lr",
            &lr_s,
            "--weight-scale",
            &r_s,
            "--epochs",
            &cap_s,
            "--patience",
            "1",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let args = client_args(&addr, &model);
    let o = run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let log: Vec<String> = lines.map(Result::unwrap).collect();
    let status = server.wait().unwrap();
    assert!(status.success(), "{log:?}");
    assert!(
        log.iter().any(|l| l.contains("session finished")),
        "{log:?}"
    );
    eprintln!("{}", String::from_utf8_lossy(&o.stderr));

    // The client's decisions follow its validation losses: stop at the first epoch
    // that does not improve (patience 1) or the cap, keep the best.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.dir.join("report.json")).unwrap()).unwrap();
    let losses: Vec<f64> = report["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["val_loss"].as_f64().unwrap())
        .collect();
    let mut stop = EarlyStopping::new(1);
    let mut expect_run = CAP;
    for (i, &l) in losses.iter().enumerate() {
        stop.observe(i + 1, l);
        if stop.should_stop() {
            expect_run = i + 1;
            break;
        }
    }
    let run = report["epochs_run"].as_u64().unwrap() as usize;
    let best = report["best_epoch"].as_u64().unwrap() as usize;
    assert_eq!(run, expect_run, "losses {losses:?}");
    assert_eq!(best, stop.best_epoch(), "losses {losses:?}");
    assert_eq!(losses.len(), run);
    if reference.epochs < CAP {
        assert!(
            run < CAP,
            "the plaintext run stopped early, the encrypted one did not: {losses:?}"
        );
    }
    // The kept model is the plaintext reference's of the same epoch, to CKKS noise.
    let enc = s.encrypted_accuracy(&model);
    let plain = s.plain_accuracy(lr, best);
    eprintln!("kept epoch {best} of {run}: test accuracy encrypted {enc:.4}, plaintext {plain:.4}");
    assert!(
        (enc - plain).abs() <= 0.01,
        "encrypted {enc} vs plaintext {plain}"
    );
    assert!(ckpt.exists(), "the server wrote no checkpoint");

    let first_report = std::fs::read(s.dir.join("report.json")).unwrap();

    // The same run, the server killed after its first epoch's checkpoint.
    let ckpt2 = s.dir.join("killed.ckpt");
    let model2 = s.dir.join("model-resumed.enc");
    let (mut server, addr, _lines) = serve(&ckpt2, &[]);
    let args = client_args(&addr, &model2);
    let mut client = Command::new(env!("CARGO_BIN_EXE_hetal"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    kill_when_exists(&mut server, &ckpt2);
    assert!(
        !client.wait().unwrap().success(),
        "the client must fail with its server"
    );
    assert!(!model2.exists());
    let (mut server, addr, lines) = serve(&ckpt2, &["--resume"]);
    let args = client_args(&addr, &model2);
    run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let log: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(server.wait().unwrap().success(), "{log:?}");
    assert_eq!(
        std::fs::read(&model2).unwrap(),
        std::fs::read(&model).unwrap(),
        "resumed and uninterrupted sessions end with different ciphertexts"
    );
    // The client saw the same losses (the replayed epochs' logits are the checkpoint's).
    let losses = |b: &[u8]| -> Vec<f64> {
        let r: serde_json::Value = serde_json::from_slice(b).unwrap();
        r["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["val_loss"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(
        losses(&std::fs::read(s.dir.join("report.json")).unwrap()),
        losses(&first_report)
    );
}
