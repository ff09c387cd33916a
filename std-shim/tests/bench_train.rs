//! `hetal bench-train` end to end on an insecure preset (the N = 2^16 figures in the
//! README come from the same command with the default preset): real encrypted steps,
//! the report's fields, and the weights checked against the plaintext steps.

use std::process::{Command, Output};

fn hetal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hetal"))
        .args(args)
        .output()
        .expect("run hetal")
}

#[test]
fn bench_train_runs_real_steps_and_checks_the_weights() {
    let out = hetal(&[
        "--insecure-test-preset",
        "insecure-train-n12",
        "bench-train",
        "--shape",
        "64:4:33",
        "--steps",
        "2",
        "--logit-bound",
        "32",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("step 2/2"), "{stderr}");
    for field in [
        "softmax on [-32, 32]; preset insecure_train_N12, 1 thread(s)",
        "SIMD backend:",
        "time per step (mean):",
        "softmax",
        "bootstrapping",
        "validation (weights + logits of one batch):",
        "bootstraps,",
    ] {
        assert!(stdout.contains(field), "missing {field:?} in\n{stdout}");
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with("weights vs the plaintext steps: max |diff|"))
        .unwrap_or_else(|| panic!("no weight check in\n{stdout}"));
    let diff: f64 = line
        .split_whitespace()
        .nth(7)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("cannot read {line:?}"));
    assert!(diff < 1e-3, "{line}");
}

#[test]
fn bench_train_rejects_unknown_shapes_and_zero_steps() {
    for (args, msg) in [
        (vec!["bench-train", "--shape", "imagenet"], "unknown shape"),
        (
            vec![
                "--insecure-test-preset",
                "insecure-train-n12",
                "bench-train",
                "--shape",
                "64:4:33",
                "--steps",
                "0",
            ],
            "--steps must be at least 1",
        ),
    ] {
        let out = hetal(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(msg), "{stderr}");
    }
}
