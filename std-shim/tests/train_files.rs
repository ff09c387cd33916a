//! Encrypted training through files with the `hetal` binary on the insecure N = 2^12
//! training preset: keygen -> encrypt -> train (server side, public keys only) ->
//! decrypt -> predict, against the plaintext reference; and a `hetal train` killed
//! with SIGKILL mid-epoch and restarted with `--resume` ending with a byte-identical
//! encrypted model (the server's computation is deterministic: no randomness after
//! encryption, and the thread pool splits work the same way on any thread count, so
//! resuming from the exact ciphertexts of the checkpoint replays the same operations).
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

mod common;
use common::train::*;

const LR: &str = "2";
const EPOCHS: &str = "2";

struct Run {
    setup: Setup,
    model: PathBuf,
}

/// Keys, data and one uninterrupted `hetal train` run (2 epochs of 2 steps) from a key
/// directory holding only the public files: the server side never needs the secret key.
fn uninterrupted() -> &'static Run {
    static R: OnceLock<Run> = OnceLock::new();
    R.get_or_init(|| {
        let setup = Setup::new("files");
        let public = setup.dir.join("public-only");
        fs::create_dir_all(&public).unwrap();
        for f in ["public.key", "eval.keys", "boot.keys"] {
            fs::copy(setup.keys.join(f), public.join(f)).unwrap();
        }
        let model = setup.dir.join("model.enc");
        let mut args = train_args(&setup, &model, &[]);
        let k = args.iter().position(|a| a == "--keys").unwrap();
        args[k + 1] = p(&public).to_string();
        let o = run_ok(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("epoch 2 step 2/2"), "{err}");
        Run { setup, model }
    })
}

fn train_args(s: &Setup, out: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        INSECURE[0],
        INSECURE[1],
        "train",
        "--keys",
        p(&s.keys),
        "--data",
        p(&s.dir.join("data.enc")),
        "--lr",
        LR,
        "--epochs",
        EPOCHS,
        "--weight-scale",
        "4",
        "--out",
        p(out),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn run_ok(args: &[String]) -> std::process::Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    common::train::run_ok(&a)
}

#[test]
fn role_commands_train_encrypted_through_files() {
    let r = uninterrupted();
    let enc = r.setup.encrypted_accuracy(&r.model);
    let plain = r.setup.plain_accuracy(2.0, 2);
    eprintln!("test accuracy: encrypted {enc:.4}, plaintext {plain:.4}");
    assert!(
        (enc - plain).abs() <= 0.01,
        "encrypted {enc} vs plaintext {plain}"
    );
    assert!(plain > 0.4, "{plain}");
    // A checkpoint was written after the last epoch.
    assert!(r.setup.dir.join("model.enc.ckpt").exists());
}

#[test]
fn killed_training_resumes_to_the_same_model() {
    let r = uninterrupted();
    let out = r.setup.dir.join("model-killed.enc");
    let ckpt = r.setup.dir.join("killed.ckpt");
    let extra = ["--checkpoint", p(&ckpt), "--checkpoint-steps", "1"];
    let args = train_args(&r.setup, &out, &extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hetal"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill (SIGKILL) as soon as the first checkpoint (after epoch 1, step 1) is there.
    kill_when_exists(&mut child, &ckpt);
    assert!(
        !out.exists(),
        "the killed run must not have written a model"
    );

    let o = run_ok(&train_args(
        &r.setup,
        &out,
        &[&extra[..], &["--resume"]].concat(),
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("resumed from the checkpoint after epoch"),
        "{err}"
    );
    assert!(!err.contains("epoch 1 step 1/2"), "step 1 ran again: {err}");
    assert_eq!(
        fs::read(&out).unwrap(),
        fs::read(&r.model).unwrap(),
        "resumed and uninterrupted runs end with different ciphertexts"
    );
}
