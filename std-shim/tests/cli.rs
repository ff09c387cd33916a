//! The `hetal` binary end to end on the insecure N = 2^11 test preset: the role commands
//! chained through files, and bad input (each case: the one-line message naming the
//! file, exit code 1, and no output file left behind).
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use hetal::data::{Matrix, npy_f32_bytes, npy_labels_bytes};
use hetal_core::codec;
use hetal_core::hetal::plain::{self, Features, NagConfig};
use hetal_core::hetal::protocol::ServerMsg;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod common;

const INSECURE: [&str; 2] = ["--insecure-test-preset", "insecure-n11"];

fn hetal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hetal"))
        .args(args)
        .output()
        .expect("run hetal")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A fresh empty directory.
fn fresh(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hetal-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

struct Fixture {
    dir: PathBuf,
    keys: PathBuf,
    other_keys: PathBuf,
    /// Plaintext reference trained on the same rows, and its test accuracy.
    reference_acc: f64,
    /// Its weights.
    w: Vec<f64>,
    /// The validation rows as the client prepares them.
    val: Features,
}

/// A hand-made version-1 `.npy` file (header padded to 64 bytes).
fn raw_npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

fn write_split(dir: &Path, name: &str, x: &Matrix, y: &[usize]) {
    fs::write(dir.join(format!("{name}_x.npy")), npy_f32_bytes(x)).unwrap();
    fs::write(dir.join(format!("{name}_y.npy")), npy_labels_bytes(y)).unwrap();
}

fn take(s: &hetal::data::Split, rows: usize) -> (Matrix, Vec<usize>) {
    let cols = s.x.cols;
    (
        Matrix {
            rows,
            cols,
            data: s.x.data[..rows * cols].to_vec(),
        },
        s.y[..rows].to_vec(),
    )
}

/// Keys (twice: a second pair for mismatch cases) and a 160 / 40 / 100-row slice of the
/// demo set as .npy files.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = fresh("fixture");
        let keys = dir.join("keys");
        let other_keys = dir.join("keys2");
        for k in [&keys, &other_keys] {
            let o = hetal(&[INSECURE[0], INSECURE[1], "keygen", "--out", p(k)]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let [tr, va, te] = hetal::demo::embedded().unwrap();
        let (trx, try_) = take(&tr, 160);
        let (vax, vay) = take(&va, 40);
        let (tex, tey) = take(&te, 100);
        write_split(&dir, "train", &trx, &try_);
        write_split(&dir, "val", &vax, &vay);
        write_split(&dir, "test", &tex, &tey);
        let scale = Features::max_abs(&trx.data);
        let f = |m: &Matrix, y: &[usize]| Features::prepare(&m.data, m.cols, y, 10, scale).unwrap();
        let cfg = NagConfig {
            lr: 3.0,
            batch: 32,
            max_epochs: 20,
            ..NagConfig::default()
        };
        let run = plain::train(
            &f(&trx, &try_),
            &f(&vax, &vay),
            &cfg,
            &mut |z: &mut [f64]| plain::softmax_exact(z),
        );
        let reference_acc = run.model.accuracy(&f(&tex, &tey));
        // The server's part, played here until the encrypted trainer is wired in: the
        // reference weights, encrypted under the client's public key, as a final model.
        let (ctx, pk) = hetal::keys::load_public_key(
            &hetal::keys::Allowed {
                insecure: vec![hetal::keys::InsecurePreset::InsecureN11],
            },
            &keys.join("public.key"),
        )
        .unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let weights = hetal::keys::encrypt_matrix(
            &ctx,
            &pk,
            &run.model.w,
            run.model.classes,
            run.model.cols,
            &mut rng,
        )
        .unwrap();
        let msg = ServerMsg::FinalModel {
            epochs: run.epochs as u32,
            best_epoch: run.best_epoch as u32,
            weights,
        };
        fs::write(
            dir.join("model.enc"),
            codec::encode_server_message(&ctx, &msg),
        )
        .unwrap();
        Fixture {
            dir,
            keys,
            other_keys,
            reference_acc,
            w: run.model.w.clone(),
            val: f(&vax, &vay),
        }
    })
}

fn encrypt_args<'a>(f: &'a Fixture, out: &'a Path) -> Vec<String> {
    let d = &f.dir;
    [
        INSECURE[0],
        INSECURE[1],
        "encrypt",
        "--keys",
        p(&f.keys),
        "--x",
        p(&d.join("train_x.npy")),
        "--y",
        p(&d.join("train_y.npy")),
        "--val-x",
        p(&d.join("val_x.npy")),
        "--val-y",
        p(&d.join("val_y.npy")),
        "--batch",
        "32",
        "--out",
        p(out),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_ok(args: &[String]) -> String {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = hetal(&a);
    assert!(
        o.status.success(),
        "hetal {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn role_commands_chain_through_files() {
    let f = fixture();
    // keygen: the secret key is 0600, the public files are not.
    use std::os::unix::fs::PermissionsExt;
    let mode = |name: &str| {
        fs::metadata(f.keys.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("secret.key"), 0o600);
    assert_eq!(mode("public.key"), 0o644);

    let out = fresh("chain");
    run_ok(&encrypt_args(f, &out));
    // The data set is a decodable client message with 5 batches of 32 rows.
    let bytes = fs::read(out.join("data.enc")).unwrap();
    let allowed = hetal::keys::Allowed {
        insecure: vec![hetal::keys::InsecurePreset::InsecureN11],
    };
    let (_, ds) = hetal::commands::load_dataset(&allowed, &out.join("data.enc")).unwrap();
    assert_eq!((ds.train.len(), ds.train_rows, ds.val_rows), (5, 160, 40));
    assert_eq!((ds.features, ds.classes), (65, 10));
    assert!(bytes.len() > 1000);
    // In the trainer's block layouts, and holding the client's prepared rows in the
    // seeded batch order.
    let (ctx, _) = hetal::keys::load_public_key(&allowed, &f.keys.join("public.key")).unwrap();
    let sk = hetal::keys::load_secret_key(&ctx, &f.keys.join("secret.key")).unwrap();
    let b0 = &ds.train[0];
    assert!(matches!(
        b0.x.layout,
        hetal_core::hetal::protocol::Layout::Block { .. }
    ));
    let lin = b0.y.clone().into_blocks().unwrap();
    assert!(matches!(
        lin.layout().tiling,
        hetal_core::linalg::Tiling::Horizontal { .. }
    ));
    let x = hetal::keys::decrypt_matrix(&ctx, &sk, &b0.x).unwrap();
    let y = hetal::keys::decrypt_matrix(&ctx, &sk, &b0.y).unwrap();
    let [tr, _, _] = hetal::demo::embedded().unwrap();
    let (trx, try_) = take(&tr, 160);
    let prep = Features::prepare(&trx.data, 64, &try_, 10, Features::max_abs(&trx.data)).unwrap();
    let order = plain::batch_order(160, 0);
    for (i, &r) in order[..32].iter().enumerate() {
        for (a, b) in x[i * 65..(i + 1) * 65].iter().zip(prep.row(r)) {
            assert!((a - b).abs() < 1e-6, "row {r}: {a} vs {b}");
        }
        for k in 0..10 {
            let want = if prep.y[r] == k { 1.0 } else { 0.0 };
            assert!((y[i * 10 + k] - want).abs() < 1e-6);
        }
    }

    let model_bin = out.join("model.bin");
    let s = |x: &Path| x.to_str().unwrap().to_string();
    run_ok(&[
        INSECURE[0].into(),
        INSECURE[1].into(),
        "decrypt".into(),
        "--keys".into(),
        s(&f.keys),
        "--state".into(),
        s(&out.join("client.state")),
        "--model".into(),
        s(&f.dir.join("model.enc")),
        "--out".into(),
        s(&model_bin),
    ]);
    let preds = out.join("pred.csv");
    let stdout = run_ok(&[
        "predict".into(),
        "--model".into(),
        s(&model_bin),
        "--x".into(),
        s(&f.dir.join("test_x.npy")),
        "--y".into(),
        s(&f.dir.join("test_y.npy")),
        "--out".into(),
        s(&preds),
    ]);
    // Decryption noise (~1e-7) does not move any arg-max: the same accuracy as the
    // plaintext model the server encrypted.
    assert_eq!(stdout.trim(), format!("accuracy: {:.4}", f.reference_acc));
    assert!(f.reference_acc > 0.6, "{}", f.reference_acc);
    assert_eq!(fs::read_to_string(&preds).unwrap().lines().count(), 101);
    let mut entries: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        ["client.state", "data.enc", "model.bin", "pred.csv"]
    );
}

#[test]
fn demo_plain_writes_report_and_curve() {
    let out = fresh("demo");
    let o = hetal(&["demo", "--plain", "--out", p(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    let acc = report["test_acc_plaintext"].as_f64().unwrap();
    // The demo's defaults: 5 full-batch epochs (lr 15, momentum 0.5) reach 0.7902; the
    // shared reference (numpy, lr 0.3, 100 epochs of batches of 128) reaches 0.8275.
    assert!((0.78..0.80).contains(&acc), "{acc}");
    assert_eq!(report["rows"]["train"], 1024);
    assert_eq!(report["config"]["batch"], 1024);
    assert_eq!(report["epochs_run"], 5);
    let svg = fs::read_to_string(out.join("curve.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("validation loss"));
}

#[test]
fn demo_plain_on_a_data_folder() {
    // The fixture's folder (train / val / test `.npy`, no `classes.txt`) with the
    // fixture's hyper-parameters: the same accuracy as its reference run, and the
    // report names the folder.
    let f = fixture();
    let out = fresh("demo-data");
    let o = hetal(&[
        "demo",
        "--plain",
        "--data",
        p(&f.dir),
        "--out",
        p(&out),
        "--batch",
        "32",
        "--lr",
        "3",
        "--momentum",
        "0.9",
        "--epochs",
        "20",
        "--patience",
        "3",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    let acc = report["test_acc_plaintext"].as_f64().unwrap();
    assert_eq!(format!("{acc:.4}"), format!("{:.4}", f.reference_acc));
    assert_eq!(report["rows"]["train"], 160);
    assert_eq!(report["rows"]["test"], 100);
    assert_eq!(report["classes"], 10);
    assert!(report["dataset"].as_str().unwrap().ends_with("-fixture"));

    // A folder with a split missing, and one whose test features are one column short.
    let bad = fresh("demo-data-bad");
    let copy = |name: &str| fs::copy(f.dir.join(name), bad.join(name)).unwrap();
    for s in ["train", "val"] {
        copy(&format!("{s}_x.npy"));
        copy(&format!("{s}_y.npy"));
    }
    let o = hetal(&["demo", "--plain", "--data", p(&bad), "--out", p(&out)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("test_x.npy"), "{err}");
    let [_, _, te] = hetal::demo::embedded().unwrap();
    let (tex, tey) = take(&te, 20);
    let short = Matrix {
        rows: tex.rows,
        cols: tex.cols - 1,
        data: (0..tex.rows)
            .flat_map(|r| tex.data[r * tex.cols..(r + 1) * tex.cols - 1].to_vec())
            .collect(),
    };
    write_split(&bad, "test", &short, &tey);
    let o = hetal(&["demo", "--plain", "--data", p(&bad), "--out", p(&out)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("63 features per row, the training split has 64"),
        "{err}"
    );
}

/// One bad-input case: the arguments (with `{out}` for the output directory), the
/// text the one-line error must contain, and the output directory must stay empty.
struct Case {
    name: &'static str,
    args: Vec<String>,
    message: String,
}

fn check_case(c: &Case, out: &Path) {
    let a: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let o = hetal(&a);
    let err = String::from_utf8_lossy(&o.stderr);
    let last = err.lines().last().unwrap_or("");
    assert_eq!(o.status.code(), Some(1), "{}: {err}", c.name);
    assert!(
        last.starts_with("error: ") && last.contains(&c.message),
        "{}: expected {:?} in {last:?}",
        c.name,
        c.message
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{}",
        c.name
    );
    let left: Vec<_> = fs::read_dir(out).unwrap().collect();
    assert!(left.is_empty(), "{}: left {left:?}", c.name);
}

#[test]
fn bad_inputs_fail_cleanly() {
    let f = fixture();
    let bad = fresh("bad-inputs");
    let d = &f.dir;
    let s = |x: &Path| x.to_str().unwrap().to_string();
    let w = |name: &str, bytes: &[u8]| {
        let path = bad.join(name);
        fs::write(&path, bytes).unwrap();
        path
    };
    let m = |rows, cols, data: Vec<f64>| npy_f32_bytes(&Matrix { rows, cols, data });
    let good_x = fs::read(d.join("train_x.npy")).unwrap();
    let good_pk = fs::read(f.keys.join("public.key")).unwrap();

    // Inputs with one defect each.
    let nan_x = {
        let mut v = vec![0.5; 160 * 64];
        v[3 * 64 + 7] = f64::NAN;
        w("nan_x.npy", &m(160, 64, v))
    };
    let inf_csv = w("inf.csv", b"1,2\n3,inf\n");
    let one_d = w("oned_x.npy", &npy_labels_bytes(&[1, 2, 3]));
    let two_d_y = w("twod_y.npy", &m(160, 2, vec![0.0; 320]));
    let short_y = w("short_y.npy", &npy_labels_bytes(&[0; 150]));
    let frac_y = w("frac_y.csv", &{
        let mut t = String::from("label\n");
        (0..160).for_each(|i| t.push_str(if i == 9 { "1.5\n" } else { "1\n" }));
        t.into_bytes()
    });
    let neg_y = w("neg_y.csv", &{
        let mut t = String::new();
        (0..160).for_each(|i| t.push_str(if i == 4 { "-2\n" } else { "0\n" }));
        t.into_bytes()
    });
    let val_wrong_dim = w("val_dim_x.npy", &m(40, 63, vec![0.1; 40 * 63]));
    let txt = w("x.txt", b"1,2\n");
    let word_csv = w("word.csv", b"1,2\n3,abc\n");
    let ragged_csv = w("ragged.csv", b"1,2,3\n4,5\n");
    let empty = w("empty.npy", b"");
    let truncated = w("trunc_x.npy", &good_x[..good_x.len() - 100]);
    let garbage_npy = w("garbage.npy", b"this is not numpy at all, just some text\n");
    let int_x = w("int_x.npy", &raw_npy("<i8", "(2, 2)", &[0u8; 32]));
    // Key files with one defect each (in their own key directories).
    let key_dir = |name: &str, pk: &[u8]| {
        let k = bad.join(name);
        fs::create_dir_all(&k).unwrap();
        fs::write(k.join("public.key"), pk).unwrap();
        k
    };
    let mut magic = good_pk.clone();
    magic[0] = b'X';
    let mut version = good_pk.clone();
    version[4] = 9;
    let k_magic = key_dir("k_magic", &magic);
    let k_version = key_dir("k_version", &version);
    let k_trunc = key_dir("k_trunc", &good_pk[..good_pk.len() / 2]);
    let k_dirfile = bad.join("k_dirfile");
    fs::create_dir_all(k_dirfile.join("public.key")).unwrap();

    // A chain output for the decrypt / predict cases.
    let chain = fresh("bad-chain");
    run_ok(&encrypt_args(f, &chain));
    let state = chain.join("client.state");
    let other_chain = fresh("bad-chain-other");
    let mut other_args = encrypt_args(f, &other_chain);
    let k = other_args.iter().position(|a| a == "--keys").unwrap();
    other_args[k + 1] = s(&f.other_keys);
    run_ok(&other_args);
    let model_bin = chain.join("model.bin");
    run_ok(&[
        INSECURE[0].into(),
        INSECURE[1].into(),
        "decrypt".into(),
        "--keys".into(),
        s(&f.keys),
        "--state".into(),
        s(&state),
        "--model".into(),
        s(&d.join("model.enc")),
        "--out".into(),
        s(&model_bin),
    ]);
    // Keys whose secret.key belongs to the other pair.
    let mixed = bad.join("k_mixed");
    fs::create_dir_all(&mixed).unwrap();
    fs::copy(f.keys.join("public.key"), mixed.join("public.key")).unwrap();
    fs::copy(f.other_keys.join("secret.key"), mixed.join("secret.key")).unwrap();
    let model_bytes = fs::read(&model_bin).unwrap();
    let trunc_model = w("trunc_model.bin", &model_bytes[..model_bytes.len() - 8]);
    let n12_keys = bad.join("k_n12");
    let o = hetal(&[
        "--insecure-test-preset",
        "insecure-n12",
        "keygen",
        "--out",
        p(&n12_keys),
    ]);
    assert!(o.status.success());

    let out = fresh("bad-out");
    let o = s(&out);
    let enc = |replace: &[(&str, String)], keys: Option<&Path>| -> Vec<String> {
        let mut a = encrypt_args(f, &out);
        for (flag, v) in replace {
            let i = a.iter().position(|x| x == flag).unwrap();
            a[i + 1] = v.clone();
        }
        if let Some(k) = keys {
            let i = a.iter().position(|x| x == "--keys").unwrap();
            a[i + 1] = s(k);
        }
        a
    };
    let dec = |keys: &Path, state: &Path, model: &Path, out_file: String, insecure: &str| {
        vec![
            "--insecure-test-preset".into(),
            insecure.into(),
            "decrypt".into(),
            "--keys".into(),
            s(keys),
            "--state".into(),
            s(state),
            "--model".into(),
            s(model),
            "--out".into(),
            out_file,
        ]
    };
    let out_model = s(&out.join("model.bin"));
    let pred = |model: &Path, x: &Path| {
        vec![
            "predict".into(),
            "--model".into(),
            s(model),
            "--x".into(),
            s(x),
            "--y".into(),
            s(&d.join("test_y.npy")),
            "--out".into(),
            s(&out.join("pred.csv")),
        ]
    };
    let name = |p: &Path| s(p);
    let cases = vec![
        Case {
            name: "missing features file",
            args: enc(&[("--x", name(&bad.join("nope.npy")))], None),
            message: format!("{}: cannot read", name(&bad.join("nope.npy"))),
        },
        Case {
            name: "directory as features",
            args: enc(&[("--x", name(&bad))], None),
            message: format!("{}: is a directory, expected a file", name(&bad)),
        },
        Case {
            name: "empty file",
            args: enc(&[("--x", name(&empty))], None),
            message: format!("{}: file is empty", name(&empty)),
        },
        Case {
            name: "truncated npy",
            args: enc(&[("--x", name(&truncated))], None),
            message: format!("{}: truncated: the header announces", name(&truncated)),
        },
        Case {
            name: "corrupted npy",
            args: enc(&[("--x", name(&garbage_npy))], None),
            message: format!("{}: not a valid .npy file", name(&garbage_npy)),
        },
        Case {
            name: "NaN feature",
            args: enc(&[("--x", name(&nan_x))], None),
            message: format!("{}: value at row 3, column 7 is NaN", name(&nan_x)),
        },
        Case {
            name: "infinite feature (CSV)",
            args: enc(&[("--val-x", name(&inf_csv))], None),
            message: format!("{}: value at row 1, column 1 is inf", name(&inf_csv)),
        },
        Case {
            name: "1-D features",
            args: enc(&[("--x", name(&one_d))], None),
            message: format!("{}: features must be a 2-D array", name(&one_d)),
        },
        Case {
            name: "integer features",
            args: enc(&[("--x", name(&int_x))], None),
            message: format!("{}: features must be float32 or float64", name(&int_x)),
        },
        Case {
            name: "2-D labels",
            args: enc(&[("--y", name(&two_d_y))], None),
            message: format!("{}: labels must be a 1-D array", name(&two_d_y)),
        },
        Case {
            name: "label count differs from rows",
            args: enc(&[("--y", name(&short_y))], None),
            message: format!("{}: 150 labels for 160 feature rows", name(&short_y)),
        },
        Case {
            name: "non-integer label",
            args: enc(&[("--y", name(&frac_y))], None),
            message: format!("{}: label 1.5 at row 9 is not an integer", name(&frac_y)),
        },
        Case {
            name: "negative label",
            args: enc(&[("--y", name(&neg_y))], None),
            message: format!("{}: label -2 at row 4 is negative", name(&neg_y)),
        },
        Case {
            name: "label out of range",
            args: {
                let mut a = enc(&[], None);
                a.extend(["--classes".to_string(), "3".to_string()]);
                a
            },
            message: format!("{}: label ", name(&d.join("train_y.npy"))),
        },
        Case {
            name: "validation features of another width",
            args: enc(&[("--val-x", name(&val_wrong_dim))], None),
            message: format!(
                "{}: has 63 features per row, the training set 64",
                name(&val_wrong_dim)
            ),
        },
        Case {
            name: "unknown file type",
            args: enc(&[("--x", name(&txt))], None),
            message: format!("{}: unknown file type (expected .npy or .csv)", name(&txt)),
        },
        Case {
            name: "CSV cell not a number",
            args: enc(&[("--x", name(&word_csv))], None),
            message: format!(
                "{}: line 2, column 2: \"abc\" is not a number",
                name(&word_csv)
            ),
        },
        Case {
            name: "ragged CSV",
            args: enc(&[("--x", name(&ragged_csv))], None),
            message: format!("{}: line 2 has 2 columns, expected 3", name(&ragged_csv)),
        },
        Case {
            name: "public key with wrong magic",
            args: enc(&[], Some(&k_magic)),
            message: format!(
                "{}: not a hetal file (wrong magic)",
                name(&k_magic.join("public.key"))
            ),
        },
        Case {
            name: "public key of another format version",
            args: enc(&[], Some(&k_version)),
            message: format!(
                "{}: unsupported format version 9",
                name(&k_version.join("public.key"))
            ),
        },
        Case {
            name: "truncated public key",
            args: enc(&[], Some(&k_trunc)),
            message: format!(
                "{}: truncated or corrupted file",
                name(&k_trunc.join("public.key"))
            ),
        },
        Case {
            name: "directory where the public key should be",
            args: enc(&[], Some(&k_dirfile)),
            message: format!(
                "{}: is a directory, expected a file",
                name(&k_dirfile.join("public.key"))
            ),
        },
        Case {
            name: "insecure keys without the test flag",
            args: enc(&[], None)[2..].to_vec(),
            message: format!(
                "{}: made with the insecure test preset insecure_N11; refusing to use it",
                name(&f.keys.join("public.key"))
            ),
        },
        Case {
            name: "output directory missing",
            args: enc(&[("--out", name(&bad.join("no/such/dir")))], None),
            message: format!(
                "{}: cannot use as output directory",
                name(&bad.join("no/such/dir"))
            ),
        },
        Case {
            name: "decrypt: a public key given as the model",
            args: dec(
                &f.keys,
                &state,
                &f.keys.join("public.key"),
                out_model.clone(),
                "insecure-n11",
            ),
            message: format!(
                "{}: is a public key, expected a server message",
                name(&f.keys.join("public.key"))
            ),
        },
        Case {
            name: "decrypt: secret key of another pair",
            args: dec(
                &mixed,
                &state,
                &d.join("model.enc"),
                out_model.clone(),
                "insecure-n11",
            ),
            message: format!(
                "{}: is not the secret key of {}",
                name(&mixed.join("secret.key")),
                name(&mixed.join("public.key"))
            ),
        },
        Case {
            name: "decrypt: client state of another key pair",
            args: dec(
                &f.keys,
                &other_chain.join("client.state"),
                &d.join("model.enc"),
                out_model.clone(),
                "insecure-n11",
            ),
            message: format!(
                "{}: the data was encrypted under another key pair",
                name(&other_chain.join("client.state"))
            ),
        },
        Case {
            name: "decrypt: keys of another parameter set",
            args: {
                let mut a = dec(
                    &n12_keys,
                    &state,
                    &d.join("model.enc"),
                    out_model.clone(),
                    "insecure-n11",
                );
                a.splice(
                    0..0,
                    [
                        "--insecure-test-preset".to_string(),
                        "insecure-n12".to_string(),
                    ],
                );
                a
            },
            message: format!(
                "{}: made for parameter set insecure_N11, the keys in {} are for insecure_N12",
                name(&d.join("model.enc")),
                name(&n12_keys)
            ),
        },
        Case {
            name: "decrypt: insecure keys not allowed",
            args: dec(
                &n12_keys,
                &state,
                &d.join("model.enc"),
                out_model.clone(),
                "insecure-n11",
            ),
            message: format!(
                "{}: made with the insecure test preset insecure_N12; refusing to use it",
                name(&n12_keys.join("public.key"))
            ),
        },
        Case {
            name: "decrypt: output path is a directory",
            args: dec(
                &f.keys,
                &state,
                &d.join("model.enc"),
                o.clone(),
                "insecure-n11",
            ),
            message: format!("{o}: is a directory, expected a file path"),
        },
        Case {
            name: "decrypt: unwritable output",
            args: dec(
                &f.keys,
                &state,
                &d.join("model.enc"),
                name(&out.join("missing/model.bin")),
                "insecure-n11",
            ),
            message: format!("{}: cannot write", name(&out.join("missing/model.bin"))),
        },
        Case {
            name: "predict: truncated model",
            args: pred(&trunc_model, &d.join("test_x.npy")),
            message: format!("{}: truncated or corrupted file", name(&trunc_model)),
        },
        Case {
            name: "predict: features of another width",
            args: pred(&model_bin, &val_wrong_dim),
            message: format!(
                "{}: has 63 features per row, the model expects 64",
                name(&val_wrong_dim)
            ),
        },
        Case {
            name: "predict: a key given as the model",
            args: pred(&f.keys.join("public.key"), &d.join("test_x.npy")),
            message: "is a public key, expected a decrypted model".into(),
        },
        Case {
            name: "keygen: existing secret key",
            args: vec![
                INSECURE[0].into(),
                INSECURE[1].into(),
                "keygen".into(),
                "--out".into(),
                s(&f.keys),
            ],
            message: format!(
                "{}: already exists; refusing to overwrite a secret key",
                name(&f.keys.join("secret.key"))
            ),
        },
    ];
    assert!(cases.len() >= 20);
    for c in &cases {
        check_case(c, &out);
    }
    // keygen refused: the existing keys are untouched.
    assert_eq!(fs::read(f.keys.join("public.key")).unwrap(), good_pk);
}

#[test]
fn client_binary_trains_against_a_tcp_server() {
    let f = fixture();
    let out = fresh("client");
    run_ok(&encrypt_args(f, &out));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let train = common::scripted(f.w.clone(), f.val.clone());
    let ctx = hetal::keys::context(hetal_core::ckks::Params::insecure_n11()).unwrap();
    let server = std::thread::spawn(move || {
        let mut log = Vec::new();
        hetal::session::serve_tcp(
            &listener,
            &ctx,
            train.as_ref(),
            1 << 30,
            Some(1),
            &mut |m| log.push(m.to_string()),
        )
        .map(|_| log)
    });
    let s = |x: &Path| x.to_str().unwrap().to_string();
    let model = out.join("model.enc");
    let o = hetal(&[
        INSECURE[0],
        INSECURE[1],
        "client",
        "--connect",
        &addr,
        "--keys",
        p(&f.keys),
        "--data",
        p(&out.join("data.enc")),
        "--state",
        p(&out.join("client.state")),
        "--out",
        p(&model),
        "--report",
        p(&out),
        "--patience",
        "2",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("epoch 6: validation loss"), "{err}");
    assert!(err.contains("trained 6 epochs, kept epoch 4"), "{err}");
    let log = server.join().unwrap().unwrap();
    assert!(
        log.last()
            .unwrap()
            .contains("session finished (6 epochs, model of epoch 4)")
    );
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        (report["epochs_run"].as_u64(), report["best_epoch"].as_u64()),
        (Some(6), Some(4))
    );
    // Epoch 4's weights are the reference's (schedule 1.0): same test accuracy.
    run_ok(&[
        INSECURE[0].into(),
        INSECURE[1].into(),
        "decrypt".into(),
        "--keys".into(),
        s(&f.keys),
        "--state".into(),
        s(&out.join("client.state")),
        "--model".into(),
        s(&model),
        "--out".into(),
        s(&out.join("model.bin")),
    ]);
    let stdout = run_ok(&[
        "predict".into(),
        "--model".into(),
        s(&out.join("model.bin")),
        "--x".into(),
        s(&f.dir.join("test_x.npy")),
        "--y".into(),
        s(&f.dir.join("test_y.npy")),
    ]);
    assert_eq!(stdout.trim(), format!("accuracy: {:.4}", f.reference_acc));
}
