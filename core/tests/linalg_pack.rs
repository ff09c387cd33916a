//! Packing vertically tiled blocks for bootstrapping (`MatrixOps::pack_rows` /
//! `unpack_rows`): the round trip restores every slot of every block (exact on
//! the simulator, within CKKS noise on an insecure preset), through a real
//! bootstrap too, with the levels and rotations the docs state.

use hetal_core::boot::{BootParams, Bootstrapper};
use hetal_core::ckks::{CkksContext, Params};
use hetal_core::linalg::{
    BlockLayout, MatrixOps, UnitShape, encrypt_matrix, pack_capacity, pack_rotations,
};
use hetal_core::slots::{CkksEngine, Leveled, SimParams, SlotCrypt, SlotOps, SlotSim};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod common;

use common::linalg::int_matrix;

/// Blocks of a `rows x cols` vertically tiled matrix at `level`, and each
/// block's decrypted slots.
fn blocks<E: SlotCrypt>(
    ev: &E,
    unit: UnitShape,
    rows: usize,
    cols: usize,
    level: usize,
    unit_values: bool,
) -> (Vec<E::Value>, Vec<Vec<f64>>) {
    let mut m = int_matrix(rows, cols, 7 + cols as u64);
    if unit_values {
        m.iter_mut().for_each(|v| *v /= 16.0);
    }
    let layout = BlockLayout::vertical(rows, cols, unit).unwrap();
    let enc = encrypt_matrix(ev, &m, layout, level, ev.default_scale()).unwrap();
    let slots = enc
        .blocks()
        .iter()
        .map(|b| ev.decrypt(b).unwrap().iter().map(|z| z.re).collect())
        .collect();
    (enc.blocks().to_vec(), slots)
}

fn max_diff<E: SlotCrypt>(ev: &E, got: &[E::Value], want: &[Vec<f64>]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            ev.decrypt(g)
                .unwrap()
                .iter()
                .zip(w)
                .map(|(a, b)| (a.re - b).abs())
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max)
}

#[test]
fn round_trip_is_exact_on_the_simulator() {
    let sim = SlotSim::new(SimParams::synthetic(1 << 10, 60, 40, 6).unwrap()).unwrap();
    let unit = UnitShape::new(64, 16).unwrap();
    // (rows, cols): periods 4 (16 blocks per value) and 8 (8 per value, 3 values).
    for (rows, cols) in [(3usize, 11 * 16 - 5), (7, 20 * 16)] {
        let period = rows.next_power_of_two();
        let (b, want) = blocks(&sim, unit, rows, cols, 5, false);
        let ops = MatrixOps::new(&sim, unit).unwrap();
        sim.reset_counts();
        let packed = ops.pack_rows(&b, period).unwrap();
        let cap = pack_capacity(unit, period);
        assert_eq!(packed.len(), b.len().div_ceil(cap));
        assert!(packed.iter().all(|p| p.level() == 4));
        let pack_counts = sim.counts();
        assert_eq!(pack_counts.rotate as usize, b.len() - packed.len());
        let back = ops.unpack_rows(&packed, period, b.len()).unwrap();
        assert!(back.iter().all(|v| v.level() == 3));
        assert_eq!(max_diff(&sim, &back, &want), 0.0, "rows {rows}");
        // Every rotation is one of the listed offsets.
        let listed = pack_rotations(unit, period);
        assert_eq!(listed.len(), cap.trailing_zeros() as usize);
        assert!(listed.iter().all(|&r| sim.has_rotation_key(r)));
    }
}

#[test]
fn bad_periods_and_counts_are_errors() {
    let sim = SlotSim::new(SimParams::synthetic(1 << 10, 60, 40, 6).unwrap()).unwrap();
    let unit = UnitShape::new(64, 16).unwrap();
    let (b, _) = blocks(&sim, unit, 3, 40, 5, false);
    let ops = MatrixOps::new(&sim, unit).unwrap();
    assert!(ops.pack_rows(&b, 3).is_err());
    assert!(ops.pack_rows(&b, 128).is_err());
    let packed = ops.pack_rows(&b, 4).unwrap();
    assert!(ops.unpack_rows(&packed, 4, 17).is_err());
    assert!(ops.unpack_rows(&packed, 4, 0).is_err());
}

/// CKKS with bootstrapping (insecure N = 2^12 preset): pack, bootstrap the
/// packed value, unpack; every slot of every block within 2^-16.
#[test]
fn round_trip_through_a_ckks_bootstrap() {
    let params = Params::insecure_train_n12();
    let ctx = CkksContext::new(params.clone()).unwrap();
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let sk = ctx.gen_secret_key(&mut rng).unwrap();
    let boot = Bootstrapper::new(&ctx, BootParams::full(&params), &sk, &mut rng).unwrap();
    let unit = UnitShape::new(128, 16).unwrap();
    let period = 16;
    let keys = boot
        .gen_evaluation_keys(&ctx, &sk, &pack_rotations(unit, period), &mut rng)
        .unwrap();
    let ev = CkksEngine::new(&ctx, &keys)
        .with_secret_key(&sk, [6; 32])
        .with_bootstrapper(&boot);
    let (b, want) = blocks(&ev, unit, 10, 5 * 16, 3, true);
    let ops = MatrixOps::new(&ev, unit).unwrap();
    let packed = ops.pack_rows(&b, period).unwrap();
    assert_eq!(packed.len(), 1);
    let refreshed = vec![ev.bootstrap(&packed[0]).unwrap()];
    let back = ops.unpack_rows(&refreshed, period, b.len()).unwrap();
    let top = ev.bootstrap_level().unwrap();
    assert!(back.iter().all(|v| v.level() == top - 1));
    let err = max_diff(&ev, &back, &want);
    eprintln!(
        "pack -> bootstrap -> unpack: max error {err:.2e} ({:.1} bits)",
        -err.log2()
    );
    assert!(err < 1.0 / 65536.0, "{err}");
}
