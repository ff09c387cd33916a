//! Times 20 rotations at N16 (for profiling with `perf record`).
use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Evaluator, Params};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn main() {
    let mut r = ChaCha20Rng::seed_from_u64(3);
    let ctx = CkksContext::new(Params::n16()).unwrap();
    let sk = ctx.gen_secret_key(&mut r).unwrap();
    let keys = ctx.gen_evaluation_keys(&sk, &[1], false, &mut r).unwrap();
    let ev = Evaluator::new(&ctx, &keys);
    let x = vec![Complex::new(0.5, 0.0); 8];
    let ct = ctx
        .encrypt_sk(
            &sk,
            &ctx.encode(
                &x,
                ctx.params().max_slots(),
                29,
                ctx.params().default_scale(),
            )
            .unwrap(),
            &mut r,
        )
        .unwrap();
    let t = std::time::Instant::now();
    for _ in 0..20 {
        std::hint::black_box(ev.rotate(&ct, 1).unwrap());
    }
    println!("rotate: {:.1} ms", t.elapsed().as_secs_f64() * 50.0);
}
