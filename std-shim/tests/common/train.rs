//! A small encrypted-training fixture for the integration tests: the first 15 features
//! (PCA components) of the embedded demo set, 128 training rows in batches of 64 and
//! 64 validation rows, keys on the insecure N = 2^12 training preset (bootstraps with
//! `boot_N16`'s chain). One block per matrix, so a step costs seconds.
#![allow(dead_code)] // each test binary uses part of it
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use hetal::data::{Matrix, Split, npy_f32_bytes, npy_labels_bytes};
use hetal_core::hetal::plain::{self, Features, NagConfig};

pub const INSECURE: [&str; 2] = ["--insecure-test-preset", "insecure-train-n12"];
pub const FEATURES: usize = 15;
pub const BATCH: usize = 64;

pub fn hetal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hetal"))
        .args(args)
        .output()
        .expect("run hetal")
}

pub fn run_ok(args: &[&str]) -> Output {
    let o = hetal(args);
    assert!(
        o.status.success(),
        "hetal {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Kills `child` with SIGKILL as soon as `file` exists (a checkpoint): the child must
/// still be running then, and must have died unsuccessfully.
pub fn kill_when_exists(child: &mut Child, file: &Path) {
    let start = Instant::now();
    while !file.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before {} was written",
            file.display()
        );
        assert!(start.elapsed() < Duration::from_secs(600));
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
}

/// A fresh empty directory.
pub fn fresh(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hetal-train-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn take(s: &Split, rows: usize) -> (Matrix, Vec<usize>) {
    let rows = rows.min(s.x.rows);
    let data = (0..rows)
        .flat_map(|r| s.x.data[r * s.x.cols..r * s.x.cols + FEATURES].to_vec())
        .collect();
    (
        Matrix {
            rows,
            cols: FEATURES,
            data,
        },
        s.y[..rows].to_vec(),
    )
}

/// The data files, keys and encrypted data set in `dir`, and the prepared splits.
pub struct Setup {
    pub dir: PathBuf,
    pub keys: PathBuf,
    pub train: Features,
    pub val: Features,
    pub test: Features,
}

impl Setup {
    /// Writes train/val/test `.npy` files, runs `hetal keygen` and `hetal encrypt`.
    pub fn new(name: &str) -> Self {
        let dir = fresh(name);
        let [tr, va, te] = hetal::demo::embedded().unwrap();
        let splits = [take(&tr, 128), take(&va, 64), take(&te, 512)];
        for ((x, y), n) in splits.iter().zip(["train", "val", "test"]) {
            fs::write(dir.join(format!("{n}_x.npy")), npy_f32_bytes(x)).unwrap();
            fs::write(dir.join(format!("{n}_y.npy")), npy_labels_bytes(y)).unwrap();
        }
        let scale = Features::max_abs(&splits[0].0.data);
        let f = |(x, y): &(Matrix, Vec<usize>)| {
            Features::prepare(&x.data, x.cols, y, 10, scale).unwrap()
        };
        let keys = dir.join("keys");
        let batch = BATCH.to_string();
        run_ok(&[
            INSECURE[0],
            INSECURE[1],
            "keygen",
            "--out",
            p(&keys),
            "--classes",
            "10",
            "--batch",
            &batch,
        ]);
        run_ok(&[
            INSECURE[0],
            INSECURE[1],
            "encrypt",
            "--keys",
            p(&keys),
            "--x",
            p(&dir.join("train_x.npy")),
            "--y",
            p(&dir.join("train_y.npy")),
            "--val-x",
            p(&dir.join("val_x.npy")),
            "--val-y",
            p(&dir.join("val_y.npy")),
            "--batch",
            &batch,
            "--out",
            p(&dir),
        ]);
        Self {
            dir,
            keys,
            train: f(&splits[0]),
            val: f(&splits[1]),
            test: f(&splits[2]),
        }
    }

    /// The plaintext reference on the same batches: test accuracy after exactly
    /// `epochs` epochs (no early stopping).
    pub fn plain_accuracy(&self, lr: f64, epochs: usize) -> f64 {
        let cfg = NagConfig {
            lr,
            momentum: 0.9,
            batch: BATCH,
            max_epochs: epochs,
            patience: 0,
            seed: 0,
        };
        let run = plain::train(&self.train, &self.val, &cfg, &mut |z: &mut [f64]| {
            plain::softmax_exact(z)
        });
        assert_eq!(run.epochs, epochs);
        run.model.accuracy(&self.test)
    }

    /// Decrypts `model` and returns its test accuracy (through `hetal decrypt` and
    /// `hetal predict`).
    pub fn encrypted_accuracy(&self, model: &Path) -> f64 {
        let bin = model.with_extension("bin");
        run_ok(&[
            INSECURE[0],
            INSECURE[1],
            "decrypt",
            "--keys",
            p(&self.keys),
            "--state",
            p(&self.dir.join("client.state")),
            "--model",
            p(model),
            "--out",
            p(&bin),
        ]);
        let o = run_ok(&[
            "predict",
            "--model",
            p(&bin),
            "--x",
            p(&self.dir.join("test_x.npy")),
            "--y",
            p(&self.dir.join("test_y.npy")),
        ]);
        let s = String::from_utf8_lossy(&o.stdout);
        s.trim()
            .strip_prefix("accuracy: ")
            .unwrap_or_else(|| panic!("unexpected predict output {s:?}"))
            .parse()
            .unwrap()
    }
}
