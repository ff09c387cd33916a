//! `boot/{preset}/full/{threads}t`, `boot/{preset}/sparse_{slots}/{threads}t` and
//! `boot/{preset}/keygen`: bootstrapping and its key generation, one and two threads.
//!
//! Presets: `insecure_N12` (default, seconds) and `N16` (the 128-bit bootstrappable `N16` preset,
//! several GB: run alone, e.g.
//! `HETAL_BENCH_PRESETS=N16 flock /work/n16.lock cargo bench -p hetal-benches --bench boot`).
//!
//! At N = 2^16 a bootstrap takes tens of seconds and criterion's ten samples per case
//! would take most of an hour on a shared machine: each case is timed once instead,
//! printing CPU time (user + system: at one thread the figure other jobs' load does not
//! inflate), wall time and the precision. Each slot count's keys are generated once and
//! serve both thread counts.
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use hetal::exec::RayonExecutor;
use hetal_core::boot::{BootParams, Bootstrapper};
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Evaluator, Params};
use hetal_core::slots::CiphertextBootstrapper;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

type Preset = (&'static str, fn() -> Params);

fn presets() -> Vec<Preset> {
    let all: [Preset; 2] = [
        ("insecure_N12", Params::insecure_boot_n12),
        ("N16", Params::boot_n16),
    ];
    let want = std::env::var("HETAL_BENCH_PRESETS").unwrap_or_else(|_| "insecure_N12".into());
    all.into_iter()
        .filter(|(n, _)| want.split(',').any(|w| w == *n))
        .collect()
}

/// CPU time of this process so far (user + system, from `/proc/self/stat`, all threads).
fn cpu_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesized command name start at field 3; utime and stime are
    // fields 14 and 15, in ticks of 1/100 s.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        f.get(i - 3)
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field(14) + field(15)) as f64 / 100.0
}

/// `f` timed once: (CPU seconds, wall seconds, result).
fn once<T>(f: impl FnOnce() -> T) -> (f64, f64, T) {
    let (c, t) = (cpu_time(), Instant::now());
    let out = f();
    (cpu_time() - c, t.elapsed().as_secs_f64(), out)
}

/// N = 2^16: each case timed once (see the module documentation).
fn oneshot(name: &str, params: &Params, slots: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let ctx = CkksContext::new(params.clone()).expect("context");
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    // Both transforms' diagonals precomputed (the library default, as in the boot_n16
    // example).
    let mut bp = BootParams::full(params);
    bp.slots = slots;
    let boot = Bootstrapper::new(&ctx, bp, &sk, &mut rng).expect("bootstrapper");
    let label = if slots == params.max_slots() {
        "full".to_string()
    } else {
        format!("sparse_{slots}")
    };
    let (cpu, wall, keys) = once(|| {
        boot.gen_evaluation_keys(&ctx, &sk, &[], &mut rng)
            .expect("keys")
    });
    // In memory: level-truncated keys, the DFT ones holding only their seed for `a`.
    let key_bytes = keys.byte_size();
    println!(
        "boot/{name}/{label}/keygen: one run {cpu:.2} s CPU, {wall:.2} s wall, {:.2} GiB",
        key_bytes as f64 / (1u64 << 30) as f64
    );
    let x: Vec<Complex> = (0..slots)
        .map(|i| Complex::new((i as f64).sin(), (i as f64).cos()).scale(0.7))
        .collect();
    let pt = ctx
        .encode(&x, slots, 0, params.default_scale())
        .expect("encode");
    let ct = ctx.encrypt_sk(&sk, &pt, &mut rng).expect("encrypt");
    for threads in [1, 2] {
        let ctx_t = CkksContext::new(params.clone())
            .expect("context")
            .with_executor(Arc::new(
                RayonExecutor::with_threads(threads).expect("thread pool"),
            ));
        let ev = Evaluator::new(&ctx_t, &keys);
        let (cpu, wall, out) = once(|| boot.bootstrap(&ev, &ct).expect("bootstrap"));
        let dec = ctx.decrypt_decode(&sk, &out).expect("decrypt");
        let err = dec
            .iter()
            .zip(&x)
            .map(|(a, b)| (*a - *b).abs())
            .fold(0.0, f64::max);
        println!(
            "boot/{name}/{label}/{threads}t: one run {cpu:.2} s CPU, {wall:.2} s wall; {:.2} bits, {} levels left at scale 2^{:.1}",
            -err.log2(),
            out.level(),
            out.scale.log2()
        );
    }
}

fn bench_slots(c: &mut Criterion, name: &str, params: &Params, slots: usize, threads: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let mut ctx = CkksContext::new(params.clone()).expect("context");
    if threads > 1 {
        ctx = ctx.with_executor(Arc::new(
            RayonExecutor::with_threads(threads).expect("thread pool"),
        ));
    }
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let mut bp = BootParams::full(params);
    bp.slots = slots;
    let boot = Bootstrapper::new(&ctx, bp, &sk, &mut rng).expect("bootstrapper");
    let mut g = c.benchmark_group(format!("boot/{name}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(5));
    let label = if slots == params.max_slots() {
        "full".to_string()
    } else {
        format!("sparse_{slots}")
    };
    if threads == 1 && slots == params.max_slots() {
        g.bench_function("keygen", |b| {
            b.iter(|| {
                boot.gen_evaluation_keys(&ctx, &sk, &[], &mut rng)
                    .expect("keys")
            })
        });
    }
    let keys = boot
        .gen_evaluation_keys(&ctx, &sk, &[], &mut rng)
        .expect("keys");
    let ev = Evaluator::new(&ctx, &keys);
    let x: Vec<Complex> = (0..slots)
        .map(|i| Complex::new((i as f64).sin(), (i as f64).cos()).scale(0.7))
        .collect();
    let pt = ctx
        .encode(&x, slots, 0, params.default_scale())
        .expect("encode");
    let ct = ctx.encrypt_sk(&sk, &pt, &mut rng).expect("encrypt");
    g.bench_function(format!("{label}/{threads}t"), |b| {
        b.iter(|| boot.bootstrap(&ev, &ct).expect("bootstrap"))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    for (name, make) in presets() {
        let params = make();
        if params.n() >= 1 << 16 {
            oneshot(name, &params, params.max_slots());
            oneshot(name, &params, params.max_slots() / 16);
            continue;
        }
        for threads in [1, 2] {
            bench_slots(c, name, &params, params.max_slots(), threads);
            bench_slots(c, name, &params, params.max_slots() / 16, threads);
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
