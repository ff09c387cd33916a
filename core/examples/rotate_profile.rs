//! Times rotations and multiplications at N = 2^16 (for profiling with `perf record` or
//! `valgrind --tool=callgrind`):
//!
//!     cargo run --release -p hetal-core --example rotate_profile -- [n16|poulpy|openfhe] [reps]
//!
//! Prints the minimum and median over `reps` (default 10) of one rotation and of one
//! mul + relinearize + rescale at the top level, one thread.
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Evaluator, Params};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn stats(mut t: Vec<f64>) -> (f64, f64) {
    t.sort_by(f64::total_cmp);
    (t[0], t[t.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let params = match args.get(1).map(String::as_str) {
        Some("poulpy") => Params::bench_poulpy_like(),
        Some("openfhe") => Params::bench_openfhe_like(),
        _ => Params::n16(),
    };
    let reps: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(10);
    let mut r = ChaCha20Rng::seed_from_u64(3);
    let ctx = CkksContext::new(params).unwrap();
    let sk = ctx.gen_secret_key(&mut r).unwrap();
    let keys = ctx.gen_evaluation_keys(&sk, &[1], false, &mut r).unwrap();
    let ev = Evaluator::new(&ctx, &keys);
    let top = ctx.params().max_level();
    let x = vec![Complex::new(0.5, 0.0); 8];
    let pt = ctx
        .encode(
            &x,
            ctx.params().max_slots(),
            top,
            ctx.params().default_scale(),
        )
        .unwrap();
    let ct = ctx.encrypt_sk(&sk, &pt, &mut r).unwrap();
    let time = |f: &dyn Fn()| {
        let v: Vec<f64> = (0..reps)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        stats(v)
    };
    let (rmin, rmed) = time(&|| {
        std::hint::black_box(ev.rotate(&ct, 1).unwrap());
    });
    println!(
        "{}: rotate min {rmin:.1} ms, median {rmed:.1} ms",
        ctx.params().name()
    );
    let (mmin, mmed) = time(&|| {
        std::hint::black_box(ev.mul_relin_rescale(&ct, &ct).unwrap());
    });
    println!(
        "{}: mul_relin_rescale min {mmin:.1} ms, median {mmed:.1} ms",
        ctx.params().name()
    );
}
