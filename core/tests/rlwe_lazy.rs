//! Lazy key switching (double hoisting): an inner product kept over `Q * P` and divided by
//! `P` afterwards is bit-identical to the fused key switch, hoisted or not, at every level;
//! lifting by `P` and dividing by `P` is the identity; `switch_add` is the switch added
//! into existing parts.

use hetal_core::ckks::complex::Complex;
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::ring::{Form, RnsPoly};
use hetal_core::rlwe::KeyStorage;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[test]
fn lazy_switch_then_mod_down_is_the_fused_switch() {
    let ctx = CkksContext::new(Params::insecure_n12()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let (ring, sw) = (ctx.ring(), ctx.switcher());
    let top = ctx.params().max_level();
    let slots = ctx.params().max_slots();
    let vals: Vec<Complex> = (0..slots)
        .map(|i| Complex::new((i % 13) as f64 / 13.0, -((i % 7) as f64) / 7.0))
        .collect();
    let g = ctx.rotation_element(5);
    for storage in [KeyStorage::Expanded, KeyStorage::Seeded] {
        let key = ctx
            .gen_galois_key_at(&sk, g, top, storage, &mut rng)
            .unwrap();
        for level in [0, 1, top / 2, top] {
            let pt = ctx
                .encode(&vals, slots, level, ctx.params().default_scale())
                .unwrap();
            let ct = ctx.encrypt_sk(&sk, &pt, &mut rng).unwrap();
            let c1 = &ct.c1;
            assert_eq!(c1.form(), Form::Ntt);

            let (f0, f1) = sw.switch(ring, c1, &key).unwrap();
            let (l0, l1) = sw.switch_lazy(ring, c1, &key).unwrap();
            assert_eq!(l0.p_limbs(), ring.p_count());
            assert_eq!(sw.mod_down(ring, l0).unwrap(), f0);
            assert_eq!(sw.mod_down(ring, l1).unwrap(), f1);

            let dec = sw.decompose(ring, c1).unwrap();
            let perm = ring.ntt_permutation(g).unwrap();
            let (h0, h1) = sw.apply(ring, &dec, &key, Some(&perm)).unwrap();
            let (m0, m1) = sw.apply_lazy(ring, &dec, &key, Some(&perm)).unwrap();
            assert_eq!(sw.mod_down(ring, m0).unwrap(), h0);
            assert_eq!(sw.mod_down(ring, m1).unwrap(), h1);

            // switch_add adds the switch into existing parts, bit for bit.
            let (mut a0, mut a1) = (ct.c0.clone(), ct.c1.clone());
            sw.switch_add(ring, c1, &key, &mut a0, &mut a1).unwrap();
            let (mut e0, mut e1) = (ct.c0.clone(), ct.c1.clone());
            e0.add_assign(ring, &f0).unwrap();
            e1.add_assign(ring, &f1).unwrap();
            assert_eq!((a0, a1), (e0, e1));
            let mut short = ct.c0.clone();
            if level > 0 {
                short.drop_q_limbs(1).unwrap();
                assert!(
                    sw.switch_add(ring, c1, &key, &mut short, &mut ct.c1.clone())
                        .is_err()
                );
            }

            // P * x / P = x, and add_lifted adds P * x.
            let lifted = sw.lift_by_p(ring, &ct.c0).unwrap();
            assert_eq!(sw.mod_down(ring, lifted.clone()).unwrap(), ct.c0);
            let mut acc = RnsPoly::zero(ring, level + 1, ring.p_count(), Form::Ntt).unwrap();
            sw.add_lifted(ring, &mut acc, &ct.c0).unwrap();
            assert_eq!(acc, lifted);
        }
    }
}
