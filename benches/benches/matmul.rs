//! `matmul/{abt,atb}/{diag,colmajor|rowmajor,jin}/{a}x{b}x{c}/{t}t`: encrypted
//! matrix products on the `N16` preset (2^15 slots) with inputs at the top
//! level, unit shape `a x (2^15 / a)` as in the paper's benchmark, one and two
//! threads. `diag` is DiagABT (tiled output) / DiagATB (`ShiftLhs`, the
//! variant for operands at equal levels) and `diag_folded` our DiagATB with
//! fused column sums; `colmajor` / `rowmajor` are Crockett's;
//! `jin` is Jin et al.'s (`A B^T` only: its `A^T B` needs `b·c·log2(2^15)`
//! rotations, hours at these shapes, so it is timed per product by the
//! one-shot mode below).
//!
//! Environment:
//! - `HETAL_MATMUL_SHAPES=128x128x4,256x256x8` (default: all five shapes),
//! - `HETAL_MATMUL_THREADS=1,2` (default `1,2`),
//! - `HETAL_MATMUL_METHODS=diag,colmajor,jin` (default all),
//! - `HETAL_MATMUL_ONESHOT=1`: no criterion; time each product once and print a
//!   markdown table (used for the large shapes, where 10 criterion samples of
//!   the baselines take hours). Jin et al. is then timed on a reduced
//!   instance and scaled by its exact operation count (see `jin_*_oneshot`).
//!
//! Memory: the largest shape holds ~5 GB of inputs plus the keys of one
//! method; run under `flock /work/n16.lock`.
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use hetal::exec::RayonExecutor;
use hetal_core::ckks::{Ciphertext, CkksContext, EvaluationKeys, Params};
use hetal_core::linalg::{
    AbtOutput, AtbVariant, BlockLayout, EncMatrix, MatrixOps, RotationPlan, UnitShape, baseline,
    encrypt_matrix,
};
use hetal_core::rlwe::SecretKey;
use hetal_core::slots::{CkksEngine, SlotCrypt, SlotOps};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const ALL_SHAPES: [(usize, usize, usize); 5] = [
    (128, 128, 4),
    (256, 256, 8),
    (512, 769, 4),
    (1024, 769, 8),
    (2048, 769, 16),
];

fn env_list(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn shapes() -> Vec<(usize, usize, usize)> {
    let want = env_list("HETAL_MATMUL_SHAPES");
    ALL_SHAPES
        .into_iter()
        .filter(|(a, b, c)| want.is_empty() || want.contains(&format!("{a}x{b}x{c}")))
        .collect()
}

fn threads() -> Vec<usize> {
    let t: Vec<usize> = env_list("HETAL_MATMUL_THREADS")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    if t.is_empty() { vec![1, 2] } else { t }
}

fn method_on(m: &str) -> bool {
    let want = env_list("HETAL_MATMUL_METHODS");
    want.is_empty()
        || want
            .iter()
            .any(|w| w == m || w.starts_with(&format!("{m}_")))
}

/// One part of a method (`diag_abt`, `diag_atb`, `diag_folded`): selected by
/// its own name or by the method's.
fn part_on(method: &str, part: &str) -> bool {
    let want = env_list("HETAL_MATMUL_METHODS");
    want.is_empty() || want.iter().any(|w| w == method || w == part)
}

/// Real values in [-1, 1].
fn matrix(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..rows * cols)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// Context (with `threads` threads), secret key, and keys for `plan`.
struct Keys {
    ctx: CkksContext,
    sk: SecretKey,
    keys: EvaluationKeys,
}

fn keys(threads: usize, plan: &RotationPlan) -> Keys {
    let mut ctx = CkksContext::new(Params::n16()).expect("context");
    if threads > 1 {
        ctx = ctx.with_executor(Arc::new(
            RayonExecutor::with_threads(threads).expect("thread pool"),
        ));
    }
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let keys = ctx
        .gen_evaluation_keys(&sk, &plan.steps(), plan.conjugation(), &mut rng)
        .expect("keys");
    Keys { ctx, sk, keys }
}

fn colmajor_plan(unit: UnitShape, c: usize) -> RotationPlan {
    // Row replication (s1·2^t), row sums (2^t), shifts into columns (-k), and
    // for RowMajor column shifts (k), row replication (-2^t), column sums.
    let mut steps = Vec::new();
    let mut t = 1;
    while t < unit.s0 {
        steps.push((t * unit.s1) as isize);
        t <<= 1;
    }
    let mut t = 1;
    while t < unit.s1 {
        steps.push(t as isize);
        steps.push(-(t as isize));
        t <<= 1;
    }
    for k in 1..c as isize {
        steps.push(k);
        steps.push(-k);
    }
    RotationPlan::from_steps(&steps, unit.slots(), false)
}

type Enc = EncMatrix<Ciphertext>;

/// Encrypted operands of both products at the top level.
struct Operands {
    a: Enc,
    w: Enc,
    y: Enc,
}

fn operands(
    ev: &CkksEngine<'_>,
    unit: UnitShape,
    (a, b, c): (usize, usize, usize),
    tiled: bool,
) -> Operands {
    let (top, scale) = (ev.max_level(), ev.default_scale());
    let lay_w = if tiled {
        BlockLayout::vertical(c, b, unit)
    } else {
        BlockLayout::plain(c, b, unit)
    }
    .expect("layout");
    let lay_y = if tiled {
        BlockLayout::horizontal(a, c, unit)
    } else {
        BlockLayout::plain(a, c, unit)
    }
    .expect("layout");
    Operands {
        a: encrypt_matrix(
            ev,
            &matrix(a, b, 1),
            BlockLayout::plain(a, b, unit).expect("layout"),
            top,
            scale,
        )
        .expect("encrypt"),
        w: encrypt_matrix(ev, &matrix(c, b, 2), lay_w, top, scale).expect("encrypt"),
        y: encrypt_matrix(ev, &matrix(a, c, 3), lay_y, top, scale).expect("encrypt"),
    }
}

/// CPU time of this process so far (user + system, from `/proc/self/stat`).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesized command name, from field 3 (state);
    // utime and stime are fields 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        f.get(i - 3)
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(14) + field(15);
    Duration::from_millis(ticks * 10) // USER_HZ = 100 on Linux
}

/// One timed run of `f`: (CPU time, wall time, result). On a shared machine
/// the CPU time is the meaningful figure for one thread; with two threads it
/// sums both, so the table shows the wall time then.
fn once<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let (c, t) = (cpu_time(), Instant::now());
    let out = f();
    let (cpu, wall) = (cpu_time() - c, t.elapsed());
    eprintln!(
        "  (cpu {:.2} s, wall {:.2} s)",
        cpu.as_secs_f64(),
        wall.as_secs_f64()
    );
    let threads = THREADS.with(|t| t.get());
    (if threads > 1 { wall } else { cpu }, out)
}

std::thread_local! {
    /// Threads of the product being timed (for [`once`]).
    static THREADS: std::cell::Cell<usize> = const { std::cell::Cell::new(1) };
}

/// Jin et al. `A B^T`: `c` sums of `b` products (one relinearization per sum).
/// The operands are a pool of two ciphertexts reused for every column and
/// scalar: CKKS timings do not depend on the values, and `b + b·c`
/// distinct top-level ciphertexts would need tens of GB.
fn jin_abt_run(ev: &CkksEngine<'_>, b: usize, c: usize, pool: &[Ciphertext; 2]) -> Vec<Ciphertext> {
    baseline::jin_abt(ev, b, c, |_| &pool[0], |_, _| &pool[1]).expect("jin abt")
}

fn jin_pool(ev: &CkksEngine<'_>) -> [Ciphertext; 2] {
    let (top, scale) = (ev.max_level(), ev.default_scale());
    let n = ev.slot_count();
    [
        ev.encrypt_real(&matrix(1, n, 4), top, scale).expect("enc"),
        ev.encrypt_real(&baseline::jin_replicated(0.5, n), top, scale)
            .expect("enc"),
    ]
}

fn bench_shape(cr: &mut Criterion, shape: (usize, usize, usize), threads: usize) {
    let (a, b, c) = shape;
    let unit = UnitShape::new(a, (1 << 15) / a).expect("unit");
    let id = |op: &str, m: &str| format!("matmul/{op}/{m}/{a}x{b}x{c}/{threads}t");
    if method_on("diag") {
        let mut plan = RotationPlan::abt(unit, c, AbtOutput::Tiled);
        plan.extend(&RotationPlan::atb(unit, c, AtbVariant::ShiftLhs));
        plan.extend(&RotationPlan::atb_folded(unit, c, AtbVariant::ShiftLhs));
        let k = keys(threads, &plan);
        let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
        let ops = MatrixOps::new(&ev, unit).expect("ops");
        let x = operands(&ev, unit, shape, true);
        let mut g = cr.benchmark_group("matmul");
        g.sample_size(10).warm_up_time(Duration::from_millis(1));
        g.bench_function(id("abt", "diag"), |bch| {
            bch.iter(|| ops.diag_abt(&x.a, &x.w, AbtOutput::Tiled).expect("abt"))
        });
        g.bench_function(id("atb", "diag"), |bch| {
            bch.iter(|| ops.diag_atb(&x.y, &x.a, AtbVariant::ShiftLhs).expect("atb"))
        });
        g.bench_function(id("atb", "diag_folded"), |bch| {
            bch.iter(|| {
                ops.diag_atb_folded(&x.y, &x.a, AtbVariant::ShiftLhs)
                    .expect("atb")
            })
        });
        g.finish();
    }
    if method_on("colmajor") {
        let k = keys(threads, &colmajor_plan(unit, c));
        let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
        let ops = MatrixOps::new(&ev, unit).expect("ops");
        let x = operands(&ev, unit, shape, false);
        let mut g = cr.benchmark_group("matmul");
        g.sample_size(10).warm_up_time(Duration::from_millis(1));
        g.bench_function(id("abt", "colmajor"), |bch| {
            bch.iter(|| ops.colmajor_abt(&x.a, &x.w).expect("colmajor"))
        });
        g.bench_function(id("atb", "rowmajor"), |bch| {
            bch.iter(|| ops.rowmajor_atb(&x.y, &x.a).expect("rowmajor"))
        });
        g.finish();
    }
    if method_on("jin") {
        let k = keys(threads, &RotationPlan::new());
        let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
        let pool = jin_pool(&ev);
        let mut g = cr.benchmark_group("matmul");
        g.sample_size(10).warm_up_time(Duration::from_millis(1));
        g.bench_function(id("abt", "jin"), |bch| {
            bch.iter(|| jin_abt_run(&ev, b, c, &pool))
        });
        g.finish();
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

/// One timed run of every selected method, printed as markdown rows.
fn oneshot() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    println!(
        "CPU: {cpu}; N16 preset, inputs at level {}",
        Params::n16().max_compute_level()
    );
    println!(
        "| shape | threads | abt diag | abt colmajor | abt jin | atb diag | atb rowmajor | atb jin (extrapolated) | atb diag_folded |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!("(seconds per product: CPU time of the process at one thread, wall time at more)");
    for shape in shapes() {
        let (a, b, c) = shape;
        let unit = UnitShape::new(a, (1 << 15) / a).expect("unit");
        for t in threads() {
            THREADS.with(|c| c.set(t));
            let mut cells = vec![String::from("-"); 7];
            if method_on("diag") {
                let mut plan = RotationPlan::abt(unit, c, AbtOutput::Tiled);
                plan.extend(&RotationPlan::atb(unit, c, AtbVariant::ShiftLhs));
                plan.extend(&RotationPlan::atb_folded(unit, c, AtbVariant::ShiftLhs));
                let k = keys(t, &plan);
                let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
                let ops = MatrixOps::new(&ev, unit).expect("ops");
                let x = operands(&ev, unit, shape, true);
                if part_on("diag", "diag_abt") {
                    ev.reset_counts();
                    let (d, _) = once(|| ops.diag_abt(&x.a, &x.w, AbtOutput::Tiled).expect("abt"));
                    eprintln!("{a}x{b}x{c} {t}t abt diag {d:?}: {}", ev.counts());
                    cells[0] = secs(d);
                }
                if part_on("diag", "diag_atb") {
                    ev.reset_counts();
                    let (d, _) =
                        once(|| ops.diag_atb(&x.y, &x.a, AtbVariant::ShiftLhs).expect("atb"));
                    eprintln!("{a}x{b}x{c} {t}t atb diag {d:?}: {}", ev.counts());
                    cells[3] = secs(d);
                }
                if part_on("diag", "diag_folded") {
                    ev.reset_counts();
                    let (d, _) = once(|| {
                        ops.diag_atb_folded(&x.y, &x.a, AtbVariant::ShiftLhs)
                            .expect("atb")
                    });
                    eprintln!("{a}x{b}x{c} {t}t atb diag_folded {d:?}: {}", ev.counts());
                    cells[6] = secs(d);
                }
            }
            if method_on("colmajor") {
                let k = keys(t, &colmajor_plan(unit, c));
                let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
                let ops = MatrixOps::new(&ev, unit).expect("ops");
                let x = operands(&ev, unit, shape, false);
                ev.reset_counts();
                let (d, _) = once(|| ops.colmajor_abt(&x.a, &x.w).expect("colmajor"));
                eprintln!("{a}x{b}x{c} {t}t abt colmajor {d:?}: {}", ev.counts());
                cells[1] = secs(d);
                ev.reset_counts();
                let (d, _) = once(|| ops.rowmajor_atb(&x.y, &x.a).expect("rowmajor"));
                eprintln!("{a}x{b}x{c} {t}t atb rowmajor {d:?}: {}", ev.counts());
                cells[4] = secs(d);
            }
            if method_on("jin") {
                let steps: Vec<isize> = (0..15).map(|t| 1 << t).collect();
                let plan = RotationPlan::from_steps(&steps, 1 << 15, false);
                let k = keys(t, &plan);
                let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
                let pool = jin_pool(&ev);
                let (d, _) = once(|| jin_abt_run(&ev, b, c, &pool));
                cells[2] = secs(d);
                // A^T B: b·c identical units (product, relinearization, rescale,
                // 15 rotate-and-adds); time one unit and scale by b·c.
                let (d, _) = once(|| {
                    baseline::jin_atb(&ev, 1, 1, |_| &pool[0], |_| &pool[1]).expect("jin atb")
                });
                cells[5] = format!("{:.0}", d.as_secs_f64() * (b * c) as f64);
            }
            println!("| {a}x{b}x{c} | {t} | {} |", cells.join(" | "));
        }
    }
}

fn matmul(c: &mut Criterion) {
    for shape in shapes() {
        for t in threads() {
            bench_shape(c, shape, t);
        }
    }
}

criterion_group!(benches, matmul);

fn main() {
    if std::env::var("HETAL_MATMUL_ONESHOT").is_ok_and(|v| v == "1") {
        oneshot();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
