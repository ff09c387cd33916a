//! `softmax/{preset}/c{c}`: one encrypted softmax (`SoftmaxSpec::ours` with
//! `c' = c`) on one block of logits, single thread, bootstraps included.
//!
//! - `softmax/N12deep/c{4,8}`: `insecure_N12_deep` (N = 2^12, 45 levels), deep
//!   enough for the whole circuit without bootstrapping (depth 34 and 43).
//! - `softmax/N16/c{4,8,16}`: `boot_N16` (N = 2^16, 2^15 slots), logits entering
//!   at the bootstrap's output level (9), bootstrapping inside where
//!   `Softmax::plan` says (4, 5 and 7 bootstraps). One N16 bootstrap takes about a
//!   minute and ~8 GB, so 10 criterion samples take close to an hour per class
//!   count: `HETAL_SOFTMAX_ONESHOT=1` times one softmax instead (CPU and wall
//!   seconds, bootstraps and levels, printed as a markdown row).
//!
//! Environment: `HETAL_SOFTMAX_PRESETS=N12deep,N16` (default `N12deep`: the N16
//! group must be asked for), `HETAL_SOFTMAX_CLASSES=4,8,16` (default: all of
//! the preset's), `HETAL_SOFTMAX_ONESHOT=1`.
//!
//! ```text
//! cargo bench -p hetal-benches --bench softmax
//! HETAL_SOFTMAX_PRESETS=N16 HETAL_SOFTMAX_ONESHOT=1 HETAL_SOFTMAX_CLASSES=4 \
//!   flock /work/n16.lock cargo bench -p hetal-benches --bench softmax
//! ```
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use hetal_core::boot::{BootParams, Bootstrapper};
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::hetal::softmax::{Softmax, SoftmaxSpec};
use hetal_core::slots::{CiphertextBootstrapper, CkksEngine, SlotCrypt, SlotOps};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn env_list(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn preset_on(name: &str) -> bool {
    let want = env_list("HETAL_SOFTMAX_PRESETS");
    if want.is_empty() {
        name == "N12deep"
    } else {
        want.iter().any(|w| w == name)
    }
}

fn classes(all: &[usize]) -> Vec<usize> {
    let want: Vec<usize> = env_list("HETAL_SOFTMAX_CLASSES")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    all.iter()
        .copied()
        .filter(|c| want.is_empty() || want.contains(c))
        .collect()
}

/// Logits in [-128, 128] in every slot.
fn logits(n: usize) -> Vec<f64> {
    (0..n).map(|i| 128.0 * ((i as f64) * 0.77).sin()).collect()
}

/// CPU time of this process so far (user + system, `/proc/self/stat`).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        f.get(i - 3)
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((field(14) + field(15)) * 10)
}

fn n12deep(c: &mut Criterion) {
    if !preset_on("N12deep") {
        return;
    }
    let ctx = CkksContext::new(Params::insecure_n12_deep()).expect("context");
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let mut g = c.benchmark_group("softmax/N12deep");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(20));
    for classes in classes(&[4, 8]) {
        let sm =
            Softmax::new(SoftmaxSpec::ours(classes, classes), classes, classes).expect("softmax");
        let keys = ctx
            .gen_evaluation_keys(&sk, &sm.rotations(), false, &mut rng)
            .expect("keys");
        let ev = CkksEngine::new(&ctx, &keys).with_secret_key(&sk, [9; 32]);
        let v = ev
            .encrypt_real(&logits(ev.slot_count()), sm.depth(), ev.default_scale())
            .expect("encrypt");
        g.bench_function(format!("c{classes}"), |b| {
            b.iter(|| sm.apply(&ev, &v).expect("softmax"))
        });
    }
    g.finish();
}

fn n16(c: &mut Criterion) {
    if !preset_on("N16") {
        return;
    }
    let oneshot = std::env::var("HETAL_SOFTMAX_ONESHOT").is_ok_and(|v| v == "1");
    let params = Params::boot_n16();
    let ctx = CkksContext::new(params.clone()).expect("context");
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let cs = classes(&[4, 8, 16]);
    let sms: Vec<Softmax> = cs
        .iter()
        .map(|&k| Softmax::new(SoftmaxSpec::ours(k, k), k, k).expect("softmax"))
        .collect();
    let mut rots: Vec<isize> = sms.iter().flat_map(|s| s.rotations()).collect();
    rots.sort_unstable();
    rots.dedup();
    let t = Instant::now();
    let boot = Bootstrapper::new(&ctx, BootParams::full(&params), &sk, &mut rng).expect("boot");
    let keys = boot
        .gen_evaluation_keys(&ctx, &sk, &rots, &mut rng)
        .expect("keys");
    eprintln!("N16 bootstrapping keys: {:.1} s", t.elapsed().as_secs_f64());
    let ev = CkksEngine::new(&ctx, &keys)
        .with_secret_key(&sk, [9; 32])
        .with_bootstrapper(&boot);
    let level = boot.output_level();
    let v = ev
        .encrypt_real(&logits(ev.slot_count()), level, ev.default_scale())
        .expect("encrypt");
    if oneshot {
        println!("| bench | levels (depth) | bootstraps | output level | CPU s | wall s |");
        println!("|---|---|---|---|---|---|");
    }
    let mut g = c.benchmark_group("softmax/N16");
    g.sample_size(10).warm_up_time(Duration::from_millis(1));
    for (k, sm) in cs.iter().zip(&sms) {
        let plan = sm.plan(level, level).expect("plan").plan;
        if oneshot {
            ev.reset_counts();
            let (c0, t0) = (cpu_time(), Instant::now());
            let out = sm.apply(&ev, &v).expect("softmax");
            let (cpu, wall) = (cpu_time() - c0, t0.elapsed());
            assert_eq!(ev.counts().bootstrap as usize, plan.cost);
            println!(
                "| softmax/N16/c{k} | {} | {} | {} | {:.1} | {:.1} |",
                sm.depth(),
                plan.cost,
                out.level(),
                cpu.as_secs_f64(),
                wall.as_secs_f64()
            );
        } else {
            g.bench_function(format!("c{k}"), |b| {
                b.iter(|| sm.apply(&ev, &v).expect("softmax"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, n12deep, n16);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
