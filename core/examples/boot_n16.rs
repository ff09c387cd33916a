//! Bootstrapping at N = 2^16 (the `boot_N16` preset, 128-bit secure): levels left, scale,
//! precision over 2^15 random complex slots in the unit disk, ModRaise failure probability,
//! time, key sizes.
//!
//! Run by hand (needs several GB; one N = 2^16 job at a time on a shared machine):
//!
//! ```text
//! flock /work/n16.lock /usr/bin/time -v cargo run --release -p hetal-core --example boot_n16
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use hetal_core::boot::dft::bit_reverse;
use hetal_core::boot::{BootParams, Bootstrapper, Stage};
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Evaluator, Params};
use hetal_core::exec::Executor;
use hetal_core::slots::CiphertextBootstrapper;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// CPU time of this process so far (user + system, from `/proc/self/stat`): on a shared
/// machine the one-thread figure that load does not inflate.
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

/// Runs each batch of jobs on `self.0` scoped threads pulling job indices from a shared
/// counter (the example has no thread-pool dependency; `hetal` installs rayon's).
struct ScopedThreads(usize);

impl Executor for ScopedThreads {
    fn parallelism(&self) -> usize {
        self.0
    }

    fn run(&self, jobs: usize, f: &(dyn Fn(usize) + Sync)) {
        if jobs <= 1 {
            (0..jobs).for_each(f);
            return;
        }
        let next = AtomicUsize::new(0);
        let work = || {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs {
                    break;
                }
                f(i);
            }
        };
        std::thread::scope(|s| {
            for _ in 1..self.0.min(jobs) {
                s.spawn(work);
            }
            work();
        });
    }
}

/// The environment variable `name` parsed as a `T` (unset or unparsable: `None`).
fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Parses `BOOT_CHAIN` (see `main`) into parameters of `like`'s degree and scale.
fn chain_from_spec(like: &Params, spec: &str) -> Result<Params, Box<dyn std::error::Error>> {
    let pair = |g: &str| -> Result<(u32, usize), Box<dyn std::error::Error>> {
        let (b, c) = g.split_once('x').ok_or("a group is BITSxCOUNT")?;
        Ok((b.trim().parse()?, c.trim().parse()?))
    };
    let mut parts = spec.split('/');
    let groups = parts
        .next()
        .unwrap_or("")
        .split(',')
        .map(pair)
        .collect::<Result<Vec<_>, _>>()?;
    let (p_bits, p_count) = pair(parts.next().ok_or("BOOT_CHAIN needs Q/P/dnum")?)?;
    let dnum: usize = parts.next().ok_or("BOOT_CHAIN needs Q/P/dnum")?.parse()?;
    let log_scale = like.default_scale().log2().round() as u32;
    let build = if like.is_secure() {
        Params::from_groups
    } else {
        Params::insecure_from_groups
    };
    build(like.log_n(), &groups, p_bits, p_count, dnum, log_scale)
        .map_err(|e| format!("{e:?}").into())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // BOOT_PRESET=insecure_N13 runs the same chain shape at N = 2^13 (quick check).
    let params = match std::env::var("BOOT_PRESET").as_deref() {
        Ok("insecure_N13") => Params::insecure_boot_n13(),
        _ => Params::boot_n16(),
    };
    // BOOT_CHAIN="49x1,42x12,61x14/62x5/6": another chain of the same ring degree (Q groups
    // bits x count from the bottom, P bits x count, dnum; see `Params::from_groups`),
    // checked for 128-bit security at N = 2^16.
    let params = match std::env::var("BOOT_CHAIN") {
        Ok(spec) => chain_from_spec(&params, &spec)?,
        Err(_) => params,
    };
    let log2 = |q: &u64| (*q as f64).log2();
    println!(
        "params {}: N = 2^{}, log Q = {:.1}, log P = {:.1}, log QP = {:.1} (bound {:?}), dnum {}",
        params.name(),
        params.log_n(),
        params.log_q(),
        params.log_p(),
        params.log_qp(),
        params.security_bound(),
        params.dnum()
    );
    println!(
        "Q bits: {:?}",
        params
            .q()
            .iter()
            .map(|q| log2(q).round() as u32)
            .collect::<Vec<_>>()
    );
    println!(
        "P bits: {:?}",
        params
            .p()
            .iter()
            .map(|q| log2(q).round() as u32)
            .collect::<Vec<_>>()
    );
    // BOOT_THREADS=t runs the bootstrap on t threads (per-limb jobs; default 1).
    let threads: usize = env_parse("BOOT_THREADS").unwrap_or(1);
    let mut ctx = CkksContext::new(params.clone())?;
    if threads > 1 {
        ctx = ctx.with_executor(std::sync::Arc::new(ScopedThreads(threads)));
    }
    println!("threads: {threads}");
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let sk = ctx.gen_secret_key(&mut rng)?;
    let mut bp = BootParams::full(&params);
    // Both transforms' diagonals are encoded once (the library default); BOOT_STC_ONFLY
    // encodes SlotToCoeff's at each use, BOOT_LOWMEM both.
    bp.precompute = std::env::var("BOOT_LOWMEM").is_err();
    bp.precompute_stc = bp.precompute && std::env::var("BOOT_STC_ONFLY").is_err();
    // BOOT_DFT_LEVELS=4 trades two levels for fewer diagonals per DFT level.
    if let Some(l) = env_parse("BOOT_DFT_LEVELS") {
        bp.cts_levels = l;
        bp.stc_levels = l;
    }
    // BOOT_CHEB_DEGREE / BOOT_DOUBLE_ANGLE: another EvalMod polynomial (same depth needed).
    if let Some(d) = env_parse("BOOT_CHEB_DEGREE") {
        bp.cheb_degree = d;
    }
    if let Some(r) = env_parse("BOOT_DOUBLE_ANGLE") {
        bp.double_angle = r;
    }
    if let Some(d) = env_parse("BOOT_ARCSINE") {
        bp.arcsine_degree = d;
    }
    if let Some(b) = env_parse("BOOT_BABY_LOG2") {
        bp.baby_log2 = b;
    }
    if let Some(b) = env_parse("BOOT_RAISE_BITS") {
        bp.raise_bits = b;
    }
    let t = Instant::now();
    let boot = Bootstrapper::new(&ctx, bp.clone(), &sk, &mut rng)?;
    let t_setup = t.elapsed();
    // BOOT_KEYS=expanded keeps every key's `a` parts in memory (default: the
    // bootstrapper's policy, DFT rotation keys seeded).
    let mut spec = boot.key_spec(&ctx, &[], boot.output_level());
    if std::env::var("BOOT_KEYS").as_deref() == Ok("expanded") {
        spec.policy = hetal_core::ckks::StoragePolicy::AllExpanded;
    }
    let t = Instant::now();
    let c = cpu_time();
    let keys = ctx.gen_keys(&sk, &spec, &mut rng)?;
    let t_keys = t.elapsed();
    let c_keys = cpu_time() - c;
    let key_bytes = keys.byte_size() + boot.encapsulation_keys().byte_size();
    // What the codec sends: the b parts and a seed per key (not encoded here, which
    // would hold a second copy and inflate the peak memory this example reports).
    let wire_bytes: usize = keys
        .galois
        .values()
        .chain(keys.relin.iter())
        .map(|k| k.b().iter().map(|p| p.data().len() * 8).sum::<usize>() + 36)
        .sum();
    let mut by_level = std::collections::BTreeMap::<usize, usize>::new();
    for k in keys.galois.values().chain(keys.relin.iter()) {
        *by_level.entry(k.level()).or_default() += 1;
    }
    println!("key levels (level: count): {by_level:?}");
    println!(
        "levels: CtS {} + EvalMod {} + StC {} = {}; K = {:.2} (h = {}), failure <= 2^{:.1}",
        bp.cts_levels,
        boot.evalmod().depth(),
        bp.stc_levels,
        bp.depth(params.n()),
        boot.k(),
        bp.h,
        boot.failure_log2(params.n())
    );
    println!(
        "keys: {} rotations + conjugation + relin + 2 encapsulation, {:.2} GiB in memory ({} seeded; {:.2} GiB encoded without the encapsulation keys), generated in {:.1} s ({:.1} s CPU); setup {:.1} s, DFT diagonals {:.0} MiB",
        boot.rotations().len(),
        key_bytes as f64 / (1u64 << 30) as f64,
        keys.galois
            .values()
            .chain(keys.relin.iter())
            .filter(|k| k.storage() == hetal_core::rlwe::KeyStorage::Seeded)
            .count(),
        wire_bytes as f64 / (1u64 << 30) as f64,
        t_keys.as_secs_f64(),
        c_keys,
        t_setup.as_secs_f64(),
        boot.plaintext_bytes() as f64 / (1u64 << 20) as f64
    );
    let ev = Evaluator::new(&ctx, &keys);
    let slots = params.max_slots();
    // BOOT_INPUT=const:<v>: every slot v (real), the structured input whose energy sits
    // in one coefficient (the constant), where EvalMod's range matters most.
    let constant = std::env::var("BOOT_INPUT")
        .ok()
        .and_then(|v| v.strip_prefix("const:").and_then(|x| x.parse::<f64>().ok()));
    let vals: Vec<Complex> = (0..slots)
        .map(|_| {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let v = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            match constant {
                Some(c) => Complex::from_real(c),
                None => Complex::cis(2.0 * std::f64::consts::PI * v).scale(u.sqrt()),
            }
        })
        .collect();
    let pt = ctx.encode(&vals, slots, 0, params.default_scale())?;
    let ct = ctx.encrypt_sk(&sk, &pt, &mut rng)?;
    // BOOT_TRACE_ERR: the error after EvalMod (the slots then hold the message
    // coefficients, in bit-reversed order) against the encoded input, in bits.
    let trace_err = std::env::var("BOOT_TRACE_ERR").is_ok();
    let coeffs = ctx
        .encoder()
        .encode_coeffs(&vals, slots, params.default_scale())?;
    let mut errs = Vec::new();
    let q0 = params.q()[0] as f64;
    // BOOT_PERF_CTL=<fifo>: `perf record -D -1 --control fifo:<fifo>` profiles the
    // bootstrap alone (not key generation or setup).
    let perf_ctl = |cmd: &str| {
        if let Ok(path) = std::env::var("BOOT_PERF_CTL") {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(path) {
                let _ = f.write_all(cmd.as_bytes());
            }
        }
    };
    // BOOT_PERF_STAGE=EvalMod (or CoeffToSlot, SlotToCoeff): profile that stage only.
    let perf_stage = std::env::var("BOOT_PERF_STAGE").ok();
    let profiled = |stage: Stage| {
        perf_stage
            .as_deref()
            .is_none_or(|s| s == format!("{stage:?}"))
    };
    // Which stage runs after the hook of `stage` returns.
    let next = |stage: Stage| match stage {
        Stage::CoeffToSlot => Some(Stage::EvalMod),
        Stage::EvalMod => Some(Stage::SlotToCoeff),
        Stage::SlotToCoeff => None,
    };
    if profiled(Stage::CoeffToSlot) {
        perf_ctl("enable\n");
    }
    let (t, c) = (Instant::now(), cpu_time());
    let mut last = (0.0, 0.0);
    let mut stages = Vec::new();
    // Time spent measuring errors in the hook (wall, CPU): excluded from the figures.
    let mut traced = (0.0, 0.0);
    let out = boot.bootstrap_traced(&ev, &ct, &mut |stage, cts| {
        let now = (
            t.elapsed().as_secs_f64() - traced.0,
            cpu_time() - c - traced.1,
        );
        stages.push(format!(
            "{stage:?} {:.2} s ({:.2} s CPU)",
            now.0 - last.0,
            now.1 - last.1
        ));
        last = now;
        let (t_trace, c_trace) = (Instant::now(), cpu_time());
        let trace_now = trace_err && stage != Stage::SlotToCoeff;
        perf_ctl("disable\n");
        if trace_now {
            // After CoeffToSlot the slots hold y = (D m + q0 I) / (q0 K) for an integer I
            // recovered by rounding; after EvalMod, m. Errors in message units.
            let (d, q0k) = (params.default_scale(), q0 * boot.k());
            let (mut worst, mut worst_im) = (0.0f64, 0.0f64);
            for (h, part) in cts.iter().enumerate() {
                let got = ctx.decrypt_decode(&sk, part).expect("decrypt");
                let mut want: Vec<Complex> = (0..slots)
                    .map(|k| Complex::from_real(coeffs[h * slots + k] / d))
                    .collect();
                bit_reverse(&mut want);
                for (a, b) in got.iter().zip(&want) {
                    let e = if stage == Stage::EvalMod {
                        a.re - b.re
                    } else {
                        let i = ((a.re * q0k - d * b.re) / q0).round();
                        (a.re - (d * b.re + q0 * i) / q0k) * q0k / d
                    };
                    worst = worst.max(e.abs());
                    // Imaginary noise, in the same units.
                    let f = if stage == Stage::EvalMod {
                        1.0
                    } else {
                        q0k / d
                    };
                    worst_im = worst_im.max((a.im * f).abs());
                }
            }
            errs.push(format!(
                "{stage:?} {:.2} (imaginary part {:.2})",
                -worst.log2(),
                -worst_im.log2()
            ));
        }
        if next(stage).is_some_and(profiled) {
            perf_ctl("enable\n");
        }
        traced.0 += t_trace.elapsed().as_secs_f64();
        traced.1 += cpu_time() - c_trace;
    })?;
    let (t_boot, c_boot) = (
        t.elapsed().as_secs_f64() - traced.0,
        cpu_time() - c - traced.1,
    );
    perf_ctl("disable\n");
    let dec = ctx.decrypt_decode(&sk, &out)?;
    let err = dec
        .iter()
        .zip(&vals)
        .map(|(a, b)| (*a - *b).abs())
        .fold(0.0, f64::max);
    println!(
        "bootstrap {} slots: {:.2} s wall ({:.2} s CPU), levels left {}, scale 2^{:.2}, precision {:.2} bits (max error), failure prob <= 2^{:.1}",
        slots,
        t_boot,
        c_boot,
        out.level(),
        out.scale.log2(),
        -err.log2(),
        boot.failure_log2(params.n())
    );
    println!("stages: {}", stages.join(", "));
    if trace_err {
        println!(
            "precision (bits, message coefficients) after: {}",
            errs.join(", ")
        );
    }
    println!("op counts: {:?}", ev.counts());
    assert_eq!(out.level(), boot.output_level());
    // The cost of a seeded key: one CoeffToSlot rotation at the top level with the key
    // as held, then with its `a` parts expanded (CPU time, best of 3).
    let r = boot.rotations()[0];
    let g = ctx.rotation_element(r);
    let top = ctx.encrypt_sk(
        &sk,
        &ctx.encode(&vals, slots, params.max_level(), params.default_scale())?,
        &mut rng,
    )?;
    let time_rotate = |ev: &Evaluator<'_>| -> Result<f64, Box<dyn std::error::Error>> {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let c = cpu_time();
            ev.rotate(&top, r)?;
            best = best.min(cpu_time() - c);
        }
        Ok(best)
    };
    let held = time_rotate(&ev)?;
    let mut one = hetal_core::ckks::EvaluationKeys::default();
    let mut key = keys.galois[&g].clone();
    key.set_storage(ctx.ring(), hetal_core::rlwe::KeyStorage::Expanded)
        .map_err(hetal_core::ckks::CkksError::from)?;
    one.galois.insert(g, key);
    let expanded = time_rotate(&Evaluator::new(&ctx, &one))?;
    println!(
        "rotate by {r} at level {}: {:.1} ms CPU with the key {:?}, {:.1} ms expanded",
        params.max_level(),
        held * 1e3,
        keys.galois[&g].storage(),
        expanded * 1e3
    );
    Ok(())
}
