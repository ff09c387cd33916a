//! The `hetal` command line.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hetal::commands::{self, EncryptArgs};
use hetal::enc::ServerOptions;
use hetal::files::{CliError, Outputs};
use hetal::keys::{Allowed, InsecurePreset, Preset};
use hetal_core::hetal::plain::NagConfig;

#[derive(Parser)]
#[command(
    name = "hetal",
    version,
    about = "Encrypted transfer learning (HETAL) on CKKS",
    long_about = "Encrypted transfer learning (HETAL) on CKKS.\n\n\
        The client keeps the secret key and its features; the server trains a softmax \
        classifier on the encrypted features with public keys only.\n\n\
        Typical client flow:\n  \
        hetal keygen --out keys\n  \
        hetal encrypt --keys keys --x train_x.npy --y train_y.npy --val-x val_x.npy --val-y val_y.npy --out .\n  \
        (server trains on data.enc -> model.enc)\n  \
        hetal decrypt --keys keys --state client.state --model model.enc --out model.bin\n  \
        hetal predict --model model.bin --x test_x.npy --y test_y.npy"
)]
struct Cli {
    /// TESTS ONLY: allow this insecure parameter preset (repeatable; keygen uses the last
    /// one instead of --preset; other commands accept files made with them). Never for
    /// real data.
    #[arg(long, global = true, hide = true, value_enum, action = clap::ArgAction::Append)]
    insecure_test_preset: Vec<InsecurePreset>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the CPU, the SIMD backend chosen at run time, and the parameter presets.
    ///
    /// Example: `hetal info`
    Info,

    /// Generate a key pair: secret.key (mode 0600, stays with the client), and for the
    /// server public.key, eval.keys (relinearization, conjugation and exactly the rotations
    /// training needs: the matrix products', the softmax's and bootstrapping's, for the
    /// given classes and batch size) and boot.keys (bootstrapping encapsulation keys).
    ///
    /// Example: `hetal keygen --out keys --classes 10 --batch 128` (N16, 128-bit secure;
    /// the evaluation keys take several GB)
    Keygen {
        /// Directory for the key files (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Classes of the data the keys will train on.
        #[arg(long, default_value_t = 10)]
        classes: usize,
        /// Rows per mini-batch of the data (as given to `hetal encrypt --batch`).
        #[arg(long, default_value_t = 128)]
        batch: usize,
        /// Parameter preset (all are 128-bit secure).
        #[arg(long, value_enum, default_value = "N16")]
        preset: Preset,
        /// Overwrite an existing secret.key.
        #[arg(long)]
        force: bool,
    },

    /// Encrypt training and validation features and labels (.npy or .csv) under the public
    /// key, with HETAL's scaling (divide by the largest |x| of the training set, clip to
    /// [-1, 1], append a bias column). Writes data.enc (for the server) and client.state
    /// (scale and validation labels; stays with the client).
    ///
    /// Features: 2-D float32/float64 .npy, or CSV rows (optional header). Labels: 1-D
    /// integer .npy, or one integer per CSV line.
    ///
    /// Example: `hetal encrypt --keys keys --x train_x.npy --y train_y.npy --val-x val_x.npy
    /// --val-y val_y.npy --out .`
    Encrypt {
        /// Key directory (reads public.key).
        #[arg(long)]
        keys: PathBuf,
        /// Training features.
        #[arg(long)]
        x: PathBuf,
        /// Training labels.
        #[arg(long)]
        y: PathBuf,
        /// Validation features.
        #[arg(long)]
        val_x: PathBuf,
        /// Validation labels.
        #[arg(long)]
        val_y: PathBuf,
        /// Number of classes (default: largest label + 1).
        #[arg(long)]
        classes: Option<usize>,
        /// Rows per mini-batch.
        #[arg(long, default_value_t = 128)]
        batch: usize,
        /// Seed of the one shuffle that fixes the batches.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output directory (must exist).
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },

    /// Decrypt an encrypted model (model.enc, from the server) into a plain model file for
    /// `hetal predict`. Checks that the secret key, the public key and the client state
    /// belong together.
    ///
    /// Example: `hetal decrypt --keys keys --state client.state --model model.enc --out model.bin`
    Decrypt {
        /// Key directory (reads secret.key and public.key).
        #[arg(long)]
        keys: PathBuf,
        /// The client.state written by `hetal encrypt`.
        #[arg(long)]
        state: PathBuf,
        /// The encrypted model.
        #[arg(long)]
        model: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },

    /// Classify features with a decrypted model (plaintext inference); prints the accuracy
    /// when labels are given, writes one predicted class per line with --out.
    ///
    /// Example: `hetal predict --model model.bin --x test_x.npy --y test_y.npy`
    Predict {
        /// The decrypted model (from `hetal decrypt`).
        #[arg(long)]
        model: PathBuf,
        /// Features (.npy or .csv, raw: the model's scale is applied).
        #[arg(long)]
        x: PathBuf,
        /// Labels, to report the accuracy.
        #[arg(long)]
        y: Option<PathBuf>,
        /// Write predictions (CSV) here.
        #[arg(long)]
        out: Option<PathBuf>,
    },

    /// Train on the encrypted data with a HETAL server over TCP: sends the public
    /// and evaluation keys and data.enc, decrypts each epoch's validation logits to decide
    /// early stopping, and writes the encrypted model of the best epoch (decrypt it with
    /// `hetal decrypt`). The secret key never leaves this process.
    ///
    /// Example: `hetal client --connect 127.0.0.1:7878 --keys keys --data data.enc --state
    /// client.state --out model.enc --report .`
    Client {
        /// Server address.
        #[arg(long, default_value = "127.0.0.1:7878")]
        connect: String,
        /// Key directory (secret.key, public.key, eval.keys).
        #[arg(long)]
        keys: PathBuf,
        /// The encrypted data set from `hetal encrypt`.
        #[arg(long)]
        data: PathBuf,
        /// The client.state from `hetal encrypt`.
        #[arg(long)]
        state: PathBuf,
        /// Output: the encrypted model.
        #[arg(long)]
        out: PathBuf,
        /// Also write report.json and curve.svg into this directory.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Learning rate.
        #[arg(long, default_value_t = 3.0)]
        lr: f64,
        /// Nesterov momentum.
        #[arg(long, default_value_t = 0.9)]
        momentum: f64,
        /// Epoch cap.
        #[arg(long, default_value_t = 100)]
        epochs: u32,
        /// Stop after this many epochs without a better validation loss (0 = never).
        #[arg(long, default_value_t = 3)]
        patience: u32,
        /// Largest message accepted from the server, in MiB.
        #[arg(long, default_value_t = 1024)]
        max_frame_mib: u64,
        /// Power of two the server divides the weights by so what it bootstraps stays in
        /// [-1, 1]: at least 1.25 x the largest |weight| expected (the plaintext reference
        /// shows it).
        #[arg(long, default_value_t = 8.0)]
        weight_scale: f64,
        /// The softmax's input domain [-B, B], a power of two from 32 to 128: at least 1.5 x
        /// the largest |logit| expected (the plaintext reference shows it); a narrower
        /// domain takes fewer bootstraps per step.
        #[arg(long, default_value_t = 128.0)]
        logit_bound: f64,
    },

    /// Server side, from files: train on the encrypted data set with the public keys of a
    /// key directory (public.key, eval.keys, boot.keys; the secret key is never read) for
    /// a fixed number of epochs, and write the encrypted model. A checkpoint is written
    /// after every epoch; `--resume` continues from it after a crash and ends with the
    /// same model.
    ///
    /// Example: `hetal train --keys server-keys --data data.enc --epochs 5 --out model.enc`
    Train {
        /// Directory with public.key, eval.keys and boot.keys.
        #[arg(long)]
        keys: PathBuf,
        /// The encrypted data set from `hetal encrypt`.
        #[arg(long)]
        data: PathBuf,
        /// Output: the encrypted model.
        #[arg(long)]
        out: PathBuf,
        /// Learning rate.
        #[arg(long, default_value_t = 3.0)]
        lr: f64,
        /// Nesterov momentum.
        #[arg(long, default_value_t = 0.9)]
        momentum: f64,
        /// Epochs.
        #[arg(long, default_value_t = 10)]
        epochs: u32,
        /// Weight scale (see `hetal client --help`).
        #[arg(long, default_value_t = 8.0)]
        weight_scale: f64,
        /// Softmax input domain (see `hetal client --help`).
        #[arg(long, default_value_t = 128.0)]
        logit_bound: f64,
        /// Checkpoint file (default: the output path with `.ckpt` appended).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Also checkpoint every this many steps inside an epoch.
        #[arg(long)]
        checkpoint_steps: Option<usize>,
        /// Continue from the checkpoint if there is one.
        #[arg(long)]
        resume: bool,
    },

    /// Server side over TCP: wait for clients (`hetal client`) and train on what each one
    /// sends, with early stopping decided by the client each epoch. The server holds
    /// public material only. With `--checkpoint` it writes an encrypted checkpoint after
    /// every epoch; after a crash, `--resume` continues that run when the same client
    /// reconnects (run `hetal client` again): the epochs already done are replayed to it
    /// from the checkpoint and the run ends with the same model.
    ///
    /// Examples: `hetal serve --listen 127.0.0.1:7878`,
    /// `hetal serve --checkpoint run.ckpt --resume` (after a crash)
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: String,
        /// Parameter preset served.
        #[arg(long, value_enum, default_value = "N16")]
        preset: Preset,
        /// Exit after this many finished sessions (default: serve forever).
        #[arg(long)]
        sessions: Option<usize>,
        /// Largest message accepted from a client, in MiB.
        #[arg(long, default_value_t = 16384)]
        max_frame_mib: u64,
        /// Checkpoint file of the session in training (written after every epoch).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Also checkpoint every this many steps inside an epoch.
        #[arg(long)]
        checkpoint_steps: Option<usize>,
        /// Continue the run of the checkpoint (it must exist and belong to the client's
        /// data, keys and hyper-parameters).
        #[arg(long, requires = "checkpoint")]
        resume: bool,
    },

    /// Run the demo on the embedded data set (Fashion-MNIST features, 64-d, 10 classes)
    /// and write report.json and curve.svg.
    ///
    /// The whole encrypted protocol runs in one process on the N16 preset (128-bit
    /// secure): key generation, encryption, a server training on ciphertexts with public
    /// keys only (progress bars per epoch and step), the client deciding early stopping
    /// on decrypted validation logits; then the encrypted-trained model's test accuracy
    /// next to the plaintext reference's (same batches and hyper-parameters), the time
    /// per step and in total, and where the wall time went.
    ///
    /// The defaults fit the embedded set to the cost of a step: all 1024 training rows
    /// are one mini-batch (one 1024 x 32 block row of a 2^15-slot ciphertext, the
    /// softmax on one ciphertext), so an epoch is one step and a step costs the same as
    /// for a batch of 128; 5 full-batch epochs at lr 15 (the first step, from the zero
    /// state, needs no softmax). `--plain` trains the plaintext reference only
    /// (seconds).
    ///
    /// Examples: `hetal demo` (N16: about 14 CPU-minutes, 8-16 minutes wall on 2 cores
    /// depending on what else runs),
    /// `hetal demo --plain --out demo-out`,
    /// `hetal demo --epochs 2` (a shorter encrypted run),
    /// `hetal demo --data ../shared/data/fortunes_mpnet --lr 2 --epochs 10` (a feature
    /// set in the `shared/data` layout; choose its hyper-parameters with `--plain` first)
    Demo {
        /// Train the plaintext reference only.
        #[arg(long)]
        plain: bool,
        /// Parameter preset of the encrypted run.
        #[arg(long, value_enum, default_value = "N16")]
        preset: Preset,
        /// Train on this folder instead of the embedded set: `train_x.npy`,
        /// `train_y.npy`, `val_x.npy`, `val_y.npy`, `test_x.npy`, `test_y.npy` and
        /// optionally `classes.txt` (the layout of `shared/data`).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Use only the first this many training rows.
        #[arg(long)]
        train_rows: Option<usize>,
        /// Use only the first this many validation rows.
        #[arg(long)]
        val_rows: Option<usize>,
        /// Use only the first this many features (PCA components, most informative first).
        #[arg(long)]
        features: Option<usize>,
        /// Output directory for report.json and curve.svg (created if missing).
        #[arg(long, default_value = "hetal-demo")]
        out: PathBuf,
        /// Learning rate (15 suits full-batch steps on the demo's small PCA features).
        #[arg(long, default_value_t = 15.0)]
        lr: f64,
        /// Nesterov momentum.
        #[arg(long, default_value_t = 0.5)]
        momentum: f64,
        /// Epoch cap (each epoch is one step at the default batch).
        #[arg(long, default_value_t = 5)]
        epochs: usize,
        /// Stop after this many epochs without a better validation loss (0 = never).
        #[arg(long, default_value_t = 2)]
        patience: usize,
        /// Rows per mini-batch (1024: the whole training set, one step per epoch).
        #[arg(long, default_value_t = 1024)]
        batch: usize,
    },

    /// Time real encrypted training steps at one of the HETAL paper's shapes, on random
    /// features (one process plays client and server), split by component: matrix
    /// products, softmax, bootstrapping, update, validation. The decrypted weights are
    /// checked against the same steps in plaintext.
    ///
    /// Example: `hetal bench-train --shape mnist --steps 3 --threads 1` (N16; the keys
    /// take several GB and a step takes minutes on 2 cores)
    BenchTrain {
        /// The paper's shape: mnist, cifar10, facemask, derma or snips; or
        /// BATCH:CLASSES:COLS (bias column included, learning rate 1).
        #[arg(long)]
        shape: String,
        /// Training steps to time.
        #[arg(long, default_value_t = 3)]
        steps: usize,
        /// Worker threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Parameter preset (it must bootstrap).
        #[arg(long, value_enum, default_value = "N16")]
        preset: Preset,
        /// The softmax's domain `[-B, B]`: 128 is the paper's; a client whose
        /// plaintext logits stay small sends 32 or 64 (`hetal demo` does), a cheaper
        /// softmax.
        #[arg(long, default_value_t = 128, value_parser = parse_logit_bound)]
        logit_bound: u32,
    },
}

/// `--logit-bound`: the domains the softmax is built for.
fn parse_logit_bound(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(b @ (32 | 64 | 128)) => Ok(b),
        _ => Err(format!("{s:?}: the softmax domain is 32, 64 or 128")),
    }
}

/// The preset a command that creates a context uses: the last insecure test preset
/// if any was allowed (tests), else `preset`.
fn chosen_params(insecure: &[InsecurePreset], preset: Preset) -> hetal_core::ckks::Params {
    match insecure.last() {
        Some(p) => {
            log("WARNING: insecure test preset; NOT secure");
            p.params()
        }
        None => preset.params(),
    }
}

fn log(msg: &str) {
    eprintln!("{msg}");
}

fn run(cli: Cli) -> Result<(), CliError> {
    let allowed = Allowed {
        insecure: cli.insecure_test_preset.clone(),
    };
    match cli.command {
        Command::Info => print!("{}", hetal::info::report()),
        Command::Keygen {
            out,
            preset,
            force,
            classes,
            batch,
        } => {
            let params = chosen_params(&cli.insecure_test_preset, preset);
            commands::keygen(params, &out, force, batch, classes, &mut |m| log(m))?;
        }
        Command::Train {
            keys,
            data,
            out,
            lr,
            momentum,
            epochs,
            weight_scale,
            logit_bound,
            checkpoint,
            checkpoint_steps,
            resume,
        } => {
            let checkpoint = checkpoint.unwrap_or_else(|| {
                let mut p = out.clone().into_os_string();
                p.push(".ckpt");
                PathBuf::from(p)
            });
            commands::train(
                &commands::TrainArgs {
                    keys,
                    data,
                    out,
                    config: hetal_core::hetal::protocol::TrainConfig {
                        lr,
                        momentum,
                        epochs,
                        patience: 0,
                        batch: 1,
                        weight_scale,
                        logit_bound,
                    },
                    server: ServerOptions {
                        checkpoint: Some(checkpoint),
                        checkpoint_steps,
                        resume,
                    },
                },
                &allowed,
                &mut |m| log(m),
            )?;
        }
        Command::Serve {
            listen,
            preset,
            sessions,
            max_frame_mib,
            checkpoint,
            checkpoint_steps,
            resume,
        } => commands::serve(
            &commands::ServeArgs {
                listen,
                params: chosen_params(&cli.insecure_test_preset, preset),
                sessions,
                max_frame: max_frame_mib.saturating_mul(1 << 20),
                server: ServerOptions {
                    checkpoint,
                    checkpoint_steps,
                    resume,
                },
            },
            &mut |m| log(m),
        )?,
        Command::Encrypt {
            keys,
            x,
            y,
            val_x,
            val_y,
            classes,
            batch,
            seed,
            out,
        } => commands::encrypt(
            &EncryptArgs {
                keys,
                x,
                y,
                val_x,
                val_y,
                classes,
                batch,
                seed,
                out,
            },
            &allowed,
            &mut |m| log(m),
        )?,
        Command::Decrypt {
            keys,
            state,
            model,
            out,
        } => commands::decrypt(&allowed, &keys, &state, &model, &out, &mut |m| log(m))?,
        Command::Predict { model, x, y, out } => {
            if let Some(acc) =
                commands::predict(&model, &x, y.as_deref(), out.as_deref(), &mut |_| {})?
            {
                println!("accuracy: {acc:.4}");
            } else if out.is_none() {
                return Err(CliError::msg(
                    "nothing to do: give --y for the accuracy or --out for predictions",
                ));
            }
        }
        Command::Client {
            connect,
            keys,
            data,
            state,
            out,
            report,
            lr,
            momentum,
            epochs,
            patience,
            max_frame_mib,
            weight_scale,
            logit_bound,
        } => commands::client(
            &commands::ClientArgs {
                connect,
                keys,
                data,
                state,
                out,
                report,
                config: hetal_core::hetal::protocol::TrainConfig {
                    lr,
                    momentum,
                    epochs,
                    patience,
                    // Informative for the server: the batches were fixed by `encrypt`.
                    batch: 1,
                    weight_scale,
                    logit_bound,
                },
                max_frame: max_frame_mib.saturating_mul(1 << 20),
            },
            &allowed,
            &mut |m| log(m),
        )?,
        Command::BenchTrain {
            shape,
            steps,
            threads,
            preset,
            logit_bound,
        } => {
            let Some(shape) = hetal_core::hetal::shapes::parse_shape(&shape) else {
                return Err(CliError::msg(format!(
                    "unknown shape {shape:?}: use mnist, cifar10, facemask, derma, snips or BATCH:CLASSES:COLS"
                )));
            };
            let cfg = hetal::bench_train::BenchTrainConfig {
                shape,
                steps,
                threads,
                params: chosen_params(&cli.insecure_test_preset, preset),
                logit_bound: f64::from(logit_bound),
            };
            let report = hetal::bench_train::run(&cfg, &mut |m| log(m))?;
            print!("{}", hetal::bench_train::summary(&cfg, &report));
        }
        Command::Demo {
            plain,
            preset,
            data,
            train_rows,
            val_rows,
            features,
            out,
            lr,
            momentum,
            epochs,
            patience,
            batch,
        } => {
            let cfg = NagConfig {
                lr,
                momentum,
                batch,
                max_epochs: epochs,
                patience,
                seed: 0,
            };
            let valid = lr.is_finite()
                && lr > 0.0
                && (0.0..1.0).contains(&momentum)
                && batch > 0
                && epochs > 0;
            if !valid {
                return Err(CliError::msg(
                    "invalid training configuration: need lr > 0, 0 <= momentum < 1, batch >= 1, epochs >= 1",
                ));
            }
            if !out.exists() {
                std::fs::create_dir_all(&out)
                    .map_err(|e| CliError::at(&out, format!("cannot create directory: {e}")))?;
            }
            if features == Some(0) || train_rows == Some(0) || val_rows == Some(0) {
                return Err(CliError::msg(
                    "--features, --train-rows and --val-rows must be at least 1",
                ));
            }
            let source = data.map_or(hetal::demo::DataSource::Embedded, |d| {
                hetal::demo::DataSource::Dir(d)
            });
            let report = if plain {
                hetal::demo::run_plain(&cfg, &source, &mut |m| log(m))?
            } else {
                let args = hetal::demo::DemoArgs {
                    cfg: cfg.clone(),
                    params: chosen_params(&cli.insecure_test_preset, preset),
                    source,
                    train_rows,
                    val_rows,
                    features,
                    progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
                };
                hetal::demo::run_encrypted(&args, &mut |m| log(m))?
            };
            let json = serde_json::to_string_pretty(&report.to_json())
                .map_err(|e| CliError::msg(format!("report: {e}")))?;
            let svg = report
                .curve_svg()
                .map_err(|e| CliError::msg(format!("curve: {e}")))?;
            let mut files = Outputs::new();
            files.stage(&out.join("report.json"), json.as_bytes(), false)?;
            files.stage(&out.join("curve.svg"), svg.as_bytes(), false)?;
            files.commit()?;
            match (&report.test_acc_encrypted, &report.timing) {
                (Some(enc), Some(t)) => {
                    println!(
                        "encrypted test accuracy: {enc:.4} ({} epochs, kept epoch {}; {})",
                        report.epochs.len(),
                        report.best_epoch,
                        report.preset
                    );
                    println!("plaintext test accuracy: {:.4}", report.test_acc_plain);
                    println!(
                        "time: {:.2} s per step ({} steps: matrix products {:.2} s, softmax {:.2} s, bootstrapping {:.2} s, update {:.3} s), {:.1} s in total",
                        t.per_step(),
                        t.steps,
                        (t.times.abt + t.times.atb) / t.steps.max(1) as f64,
                        t.times.softmax / t.steps.max(1) as f64,
                        t.times.bootstrap / t.steps.max(1) as f64,
                        t.times.update / t.steps.max(1) as f64,
                        report.total_seconds
                    );
                    for (phase, secs) in &report.phases {
                        println!("  {phase}: {secs:.1} s");
                    }
                }
                _ => println!(
                    "plaintext test accuracy: {:.4} ({} epochs, kept epoch {}, {:.2} s)",
                    report.test_acc_plain,
                    report.epochs.len(),
                    report.best_epoch,
                    report.total_seconds
                ),
            }
            println!(
                "wrote {} and {}",
                out.join("report.json").display(),
                out.join("curve.svg").display()
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
