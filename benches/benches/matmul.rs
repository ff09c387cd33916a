//! `matmul/{abt,atb}/{diag,colmajor|rowmajor,jin}/{a}x{b}x{c}/{t}t`: encrypted
//! matrix products on the `N16` preset (2^15 slots) with inputs at its top
//! compute level (`max_compute_level`, 12), unit shape `a x (2^15 / a)` as in
//! the paper's benchmark, one and two threads in the same run. `diag` is
//! DiagABT (tiled output) / DiagATB (`ShiftLhs`, the variant for operands at
//! equal levels) and `diag_folded` our DiagATB with fused column sums;
//! `colmajor` / `rowmajor` are Crockett's; `jin` is Jin et al.'s (`A B^T` in
//! full; its `A^T B` is `b·c` identical units, timed as `jin_unit`, one unit).
//!
//! Environment:
//! - `HETAL_MATMUL_SHAPES=128x128x4,256x256x8` (default: all five shapes),
//! - `HETAL_MATMUL_THREADS=1,2` (default `1,2`),
//! - `HETAL_MATMUL_METHODS=diag,colmajor,jin` (default all); one part of a
//!   method: `diag_abt`, `diag_atb`, `diag_folded`, `colmajor_abt`,
//!   `colmajor_atb` (RowMajor), `jin_abt`, `jin_atb`,
//! - `HETAL_MATMUL_ONESHOT=1`: no criterion; time each product once and print
//!   one markdown line per product (process CPU seconds, wall seconds, load
//!   average before -> after, operation counts) as soon as it is done, then a
//!   summary table (used above ~20 s per product, where 10 criterion samples
//!   take too long on the shared machine),
//! - `HETAL_MATMUL_BASELINE_CLASSES=n` (one-shot only): ColMajor / RowMajor
//!   run on `min(n, c)` classes and the time is multiplied by `c / n`. Their
//!   class loop is `c` iterations with identical operations (a mask, the
//!   replication of one row / column of the small matrix over every block,
//!   the products, a row / column sum, one placement); the only difference is
//!   iteration 0, which skips one rotation out of hundreds. Jin et al.'s
//!   `A B^T` likewise runs `n` of its `c` identical sums. Marked "scaled".
//! - `HETAL_MATMUL_ATB_BLOCKS=m` (one-shot only): DiagATB (`diag_atb`) on the
//!   first `m` column blocks of `B` only (each block: the same `c'/2` products,
//!   column sums and masks), scaled by the exact ratio of key switches
//!   (rotations + relinearizations + conjugations, [`cost::atb`]) of the full
//!   product to the timed one. Marked "scaled".
//!
//! Keys are generated for the inputs' level only (`KeySpec` at
//! `max_compute_level`): same key-switching work for these ciphertexts as
//! full-chain keys, a third of the memory (about 60 MB per key instead of
//! 170 MB), so the largest shape stays under ~6 GB resident.
//!
//! Memory: Jin et al. would need `b` column ciphertexts and `b·c` replicated
//! scalars (tens of GB at the large shapes); the timing of CKKS operations
//! does not depend on the values, so the same two ciphertexts serve every
//! operand (the operations are exactly Jin et al.'s).
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group};
use hetal::exec::RayonExecutor;
use hetal_core::ckks::encoder::galois_element_for_conjugation;
use hetal_core::ckks::{Ciphertext, CkksContext, EvaluationKeys, KeySpec, Params};
use hetal_core::linalg::{
    AbtOutput, AtbVariant, BlockLayout, EncMatrix, MatrixOps, RotationPlan, UnitShape, baseline,
    cost, encrypt_matrix,
};
use hetal_core::rlwe::SecretKey;
use hetal_core::slots::{CkksEngine, OpCounts, SlotCrypt, SlotOps};
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

/// One part of a method (`diag_abt`, `colmajor_atb`, ...): selected by its
/// own name or by the method's.
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

/// Keys for `plan` (and relinearization) restricted to the inputs' level.
fn keys(threads: usize, plan: &RotationPlan) -> Keys {
    let mut ctx = CkksContext::new(Params::n16()).expect("context");
    if threads > 1 {
        ctx = ctx.with_executor(Arc::new(
            RayonExecutor::with_threads(threads).expect("thread pool"),
        ));
    }
    let level = ctx.params().max_compute_level();
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let sk = ctx.gen_secret_key(&mut rng).expect("sk");
    let mut spec = KeySpec {
        relin: Some(level),
        ..KeySpec::default()
    };
    spec.add_rotations(&ctx, &plan.steps(), level);
    if plan.conjugation() {
        spec.add_galois(galois_element_for_conjugation(ctx.params().n()), level);
    }
    let keys = ctx.gen_keys(&sk, &spec, &mut rng).expect("keys");
    eprintln!(
        "  keys at level {level}: {} Galois + relin, {:.2} GB",
        keys.galois.len(),
        keys.byte_size() as f64 / 1e9
    );
    Keys { ctx, sk, keys }
}

fn diag_plan(unit: UnitShape, c: usize) -> RotationPlan {
    let mut plan = RotationPlan::abt(unit, c, AbtOutput::Tiled);
    plan.extend(&RotationPlan::atb(unit, c, AtbVariant::ShiftLhs));
    plan.extend(&RotationPlan::atb_folded(unit, c, AtbVariant::ShiftLhs));
    plan
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

fn jin_plan() -> RotationPlan {
    let steps: Vec<isize> = (0..15).map(|t| 1 << t).collect();
    RotationPlan::from_steps(&steps, 1 << 15, false)
}

type Enc = EncMatrix<Ciphertext>;

/// Encrypted operands of both products at the top compute level.
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

/// Jin et al. `A B^T`: `c` sums of `b` products (one relinearization per sum).
/// The operands are a pool of two ciphertexts reused for every column and
/// scalar: CKKS timings do not depend on the values, and `b + b·c`
/// distinct top-level ciphertexts would need tens of GB.
fn jin_abt_run(ev: &CkksEngine<'_>, b: usize, c: usize, pool: &[Ciphertext; 2]) -> Vec<Ciphertext> {
    baseline::jin_abt(ev, b, c, |_| &pool[0], |_, _| &pool[1]).expect("jin abt")
}

/// One of the `b·c` identical units of Jin et al.'s `A^T B` (one product, one
/// relinearization, one rescale, 15 rotate-and-adds).
fn jin_atb_unit(ev: &CkksEngine<'_>, pool: &[Ciphertext; 2]) -> Vec<Ciphertext> {
    baseline::jin_atb(ev, 1, 1, |_| &pool[0], |_| &pool[1]).expect("jin atb")
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

/// Seconds per product: one iteration per sample, 10 samples.
fn group(cr: &mut Criterion) -> BenchmarkGroup<'_, WallTime> {
    let mut g = cr.benchmark_group("matmul");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    g
}

fn bench_shape(cr: &mut Criterion, shape: (usize, usize, usize), threads: usize) {
    let (a, b, c) = shape;
    let unit = UnitShape::new(a, (1 << 15) / a).expect("unit");
    // The group adds the leading `matmul/`.
    let id = |op: &str, m: &str| format!("{op}/{m}/{a}x{b}x{c}/{threads}t");
    if method_on("diag") {
        let k = keys(threads, &diag_plan(unit, c));
        let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
        let ops = MatrixOps::new(&ev, unit).expect("ops");
        let x = operands(&ev, unit, shape, true);
        let mut g = group(cr);
        if part_on("diag", "diag_abt") {
            g.bench_function(id("abt", "diag"), |bch| {
                bch.iter(|| ops.diag_abt(&x.a, &x.w, AbtOutput::Tiled).expect("abt"))
            });
        }
        if part_on("diag", "diag_atb") {
            g.bench_function(id("atb", "diag"), |bch| {
                bch.iter(|| ops.diag_atb(&x.y, &x.a, AtbVariant::ShiftLhs).expect("atb"))
            });
        }
        if part_on("diag", "diag_folded") {
            g.bench_function(id("atb", "diag_folded"), |bch| {
                bch.iter(|| {
                    ops.diag_atb_folded(&x.y, &x.a, AtbVariant::ShiftLhs)
                        .expect("atb")
                })
            });
        }
        g.finish();
    }
    if method_on("colmajor") {
        let k = keys(threads, &colmajor_plan(unit, c));
        let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
        let ops = MatrixOps::new(&ev, unit).expect("ops");
        let x = operands(&ev, unit, shape, false);
        let mut g = group(cr);
        if part_on("colmajor", "colmajor_abt") {
            g.bench_function(id("abt", "colmajor"), |bch| {
                bch.iter(|| ops.colmajor_abt(&x.a, &x.w).expect("colmajor"))
            });
        }
        if part_on("colmajor", "colmajor_atb") {
            g.bench_function(id("atb", "rowmajor"), |bch| {
                bch.iter(|| ops.rowmajor_atb(&x.y, &x.a).expect("rowmajor"))
            });
        }
        g.finish();
    }
    if method_on("jin") {
        let k = keys(threads, &jin_plan());
        let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
        let pool = jin_pool(&ev);
        let mut g = group(cr);
        if part_on("jin", "jin_abt") {
            g.bench_function(id("abt", "jin"), |bch| {
                bch.iter(|| jin_abt_run(&ev, b, c, &pool))
            });
        }
        if part_on("jin", "jin_atb") {
            // One unit; the product is b·c of them.
            g.bench_function(id("atb", "jin_unit"), |bch| {
                bch.iter(|| jin_atb_unit(&ev, &pool))
            });
        }
        g.finish();
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

/// The 1-minute load average.
fn load() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Peak resident set of this process so far, GB (`VmHWM`).
fn peak_rss_gb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|x| x.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb * 1024.0 / 1e9)
}

/// One timed product.
struct Timed {
    cpu: f64,
    wall: f64,
    load: (f64, f64),
}

/// One run of `f`: process CPU time (all threads), wall time, load average
/// before and after. The result is dropped after the clocks stop.
fn timed<T>(f: impl FnOnce() -> T) -> Timed {
    let (l0, c, t) = (load(), cpu_time(), Instant::now());
    let out = f();
    let (cpu, wall) = ((cpu_time() - c).as_secs_f64(), t.elapsed().as_secs_f64());
    drop(out);
    Timed {
        cpu,
        wall,
        load: (l0, load()),
    }
}

/// Summary columns, in the README's order.
const COLUMNS: [&str; 7] = [
    "abt diag",
    "abt colmajor",
    "abt jin",
    "atb diag",
    "atb diag_folded",
    "atb rowmajor",
    "atb jin",
];

/// The per-product lines so far, for the summary: (shape, threads, column,
/// CPU, wall), times already multiplied by the scaling factor.
type Results = Vec<((usize, usize, usize), usize, &'static str, f64, f64)>;

/// Prints one product's line at once (so a killed run keeps what it did) and
/// records it. `factor` scales a timed part to the whole product.
#[allow(clippy::too_many_arguments)]
fn report(
    out: &mut Results,
    shape: (usize, usize, usize),
    threads: usize,
    column: &'static str,
    t: &Timed,
    factor: f64,
    note: &str,
    counts: &OpCounts,
) {
    let (a, b, c) = shape;
    let scaled = if factor == 1.0 {
        String::new()
    } else {
        format!(
            "scaled x{factor} ({note}; timed: CPU {:.2} s, wall {:.2} s)",
            t.cpu, t.wall
        )
    };
    println!(
        "| {a}x{b}x{c} | {threads} | {column} | {:.2} | {:.2} | {scaled} | {:.2} -> {:.2} | {:.2} | {counts} |",
        t.cpu * factor,
        t.wall * factor,
        t.load.0,
        t.load.1,
        peak_rss_gb(),
    );
    let _ = std::io::stdout().flush();
    out.push((shape, threads, column, t.cpu * factor, t.wall * factor));
}

/// One timed run of every selected method, printed as markdown lines.
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
        "CPU: {cpu}; backend {}; N16 preset, inputs at level {}",
        hetal_simd::Kernels::best().backend().name(),
        Params::n16().max_compute_level()
    );
    println!(
        "| shape | threads | product | CPU s | wall s | scaled | load before -> after | peak RSS GB | counts |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let env_num = |name: &str| -> Option<usize> { std::env::var(name).ok()?.parse().ok() };
    let classes = env_num("HETAL_MATMUL_BASELINE_CLASSES");
    let atb_blocks = env_num("HETAL_MATMUL_ATB_BLOCKS");
    let mut res = Results::new();
    for shape in shapes() {
        let (a, b, c) = shape;
        let unit = UnitShape::new(a, (1 << 15) / a).expect("unit");
        for t in threads() {
            eprintln!("{a}x{b}x{c}, {t} thread(s)");
            if method_on("diag") {
                let k = keys(t, &diag_plan(unit, c));
                let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
                let ops = MatrixOps::new(&ev, unit).expect("ops");
                let x = operands(&ev, unit, shape, true);
                if part_on("diag", "diag_abt") {
                    ev.reset_counts();
                    let tm = timed(|| ops.diag_abt(&x.a, &x.w, AbtOutput::Tiled).expect("abt"));
                    report(&mut res, shape, t, COLUMNS[0], &tm, 1.0, "", &ev.counts());
                }
                if part_on("diag", "diag_atb") {
                    // Optionally the first m column blocks of B only, scaled by
                    // the exact key-switch counts (identical blocks after a
                    // shared prefix of 2·c'/2 rotations of A).
                    let nb = b.div_ceil(unit.s1);
                    let m = atb_blocks.map_or(nb, |m| m.clamp(1, nb));
                    let bs = b.min(m * unit.s1);
                    let sub = (m < nb).then(|| {
                        let (top, scale) = (ev.max_level(), ev.default_scale());
                        let lay = BlockLayout::plain(a, bs, unit).expect("layout");
                        encrypt_matrix(&ev, &matrix(a, bs, 1), lay, top, scale).expect("encrypt")
                    });
                    let rhs = sub.as_ref().unwrap_or(&x.a);
                    ev.reset_counts();
                    let tm = timed(|| ops.diag_atb(&x.y, rhs, AtbVariant::ShiftLhs).expect("atb"));
                    let ks = |cols: usize| {
                        let k = cost::atb(a, cols, c, unit, AtbVariant::ShiftLhs);
                        (k.rot + k.relin + k.conj) as f64
                    };
                    let factor = ks(b) / ks(bs);
                    let note = format!(
                        "{m} of the {nb} column blocks of B, times the key-switch ratio {:.0}/{:.0}",
                        ks(b),
                        ks(bs)
                    );
                    report(
                        &mut res,
                        shape,
                        t,
                        COLUMNS[3],
                        &tm,
                        factor,
                        &note,
                        &ev.counts(),
                    );
                }
                if part_on("diag", "diag_folded") {
                    ev.reset_counts();
                    let tm = timed(|| {
                        ops.diag_atb_folded(&x.y, &x.a, AtbVariant::ShiftLhs)
                            .expect("atb")
                    });
                    report(&mut res, shape, t, COLUMNS[4], &tm, 1.0, "", &ev.counts());
                }
            }
            if method_on("colmajor") {
                // Optionally fewer classes (identical iterations), scaled by c / n.
                let n = classes.map_or(c, |n| n.clamp(1, c));
                let factor = c as f64 / n as f64;
                let note = format!("{n} of the {c} identical class iterations");
                let k = keys(t, &colmajor_plan(unit, n));
                let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
                let ops = MatrixOps::new(&ev, unit).expect("ops");
                let x = operands(&ev, unit, (a, b, n), false);
                if part_on("colmajor", "colmajor_abt") {
                    ev.reset_counts();
                    let tm = timed(|| ops.colmajor_abt(&x.a, &x.w).expect("colmajor"));
                    report(
                        &mut res,
                        shape,
                        t,
                        COLUMNS[1],
                        &tm,
                        factor,
                        &note,
                        &ev.counts(),
                    );
                }
                if part_on("colmajor", "colmajor_atb") {
                    ev.reset_counts();
                    let tm = timed(|| ops.rowmajor_atb(&x.y, &x.a).expect("rowmajor"));
                    report(
                        &mut res,
                        shape,
                        t,
                        COLUMNS[5],
                        &tm,
                        factor,
                        &note,
                        &ev.counts(),
                    );
                }
            }
            if method_on("jin") {
                let k = keys(t, &jin_plan());
                let ev = CkksEngine::new(&k.ctx, &k.keys).with_secret_key(&k.sk, [1; 32]);
                let pool = jin_pool(&ev);
                if part_on("jin", "jin_abt") {
                    // c identical sums of b products; optionally n of them.
                    let n = classes.map_or(c, |n| n.clamp(1, c));
                    let note = format!("{n} of the {c} identical sums of b products");
                    ev.reset_counts();
                    let tm = timed(|| jin_abt_run(&ev, b, n, &pool));
                    let factor = c as f64 / n as f64;
                    report(
                        &mut res,
                        shape,
                        t,
                        COLUMNS[2],
                        &tm,
                        factor,
                        &note,
                        &ev.counts(),
                    );
                }
                if part_on("jin", "jin_atb") {
                    ev.reset_counts();
                    let tm = timed(|| jin_atb_unit(&ev, &pool));
                    let note = format!("one of the b·c = {} identical units", b * c);
                    report(
                        &mut res,
                        shape,
                        t,
                        COLUMNS[6],
                        &tm,
                        (b * c) as f64,
                        &note,
                        &ev.counts(),
                    );
                }
            }
        }
    }
    summary(&res);
}

/// The summary table: `CPU / wall` seconds per product, and Diag's speed-ups
/// (from CPU time at one thread, wall time at more: CPU time sums threads).
fn summary(res: &Results) {
    println!();
    println!(
        "| shape | threads | {} | ABT diag vs colmajor / jin | ATB diag vs rowmajor / jin | ATB folded vs rowmajor / jin |",
        COLUMNS.join(" | ")
    );
    println!("|{}", "---|".repeat(COLUMNS.len() + 5));
    let mut keys: Vec<((usize, usize, usize), usize)> =
        res.iter().map(|&(s, t, ..)| (s, t)).collect();
    keys.dedup();
    for (shape, t) in keys {
        let get = |col: &str| {
            res.iter()
                .find(|r| r.0 == shape && r.1 == t && r.2 == col)
                .map(|r| (r.3, r.4))
        };
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|col| get(col).map_or("-".into(), |(c, w)| format!("{c:.2} / {w:.2}")))
            .collect();
        let time = |col: &str| get(col).map(|(c, w)| if t > 1 { w } else { c });
        let ratio = |num: &str, den: &str| match (time(num), time(den)) {
            (Some(n), Some(d)) => format!("{:.1}x", n / d),
            _ => "-".into(),
        };
        let (a, b, c) = shape;
        println!(
            "| {a}x{b}x{c} | {t} | {} | {} / {} | {} / {} | {} / {} |",
            cells.join(" | "),
            ratio(COLUMNS[1], COLUMNS[0]),
            ratio(COLUMNS[2], COLUMNS[0]),
            ratio(COLUMNS[5], COLUMNS[3]),
            ratio(COLUMNS[6], COLUMNS[3]),
            ratio(COLUMNS[5], COLUMNS[4]),
            ratio(COLUMNS[6], COLUMNS[4]),
        );
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
