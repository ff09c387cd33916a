//! Shared by the linalg test files: shapes, seeded integer matrices, plain
//! products and the exact-slot check on the simulator.

use hetal_core::linalg::{EncMatrix, decrypt_matrix};
use hetal_core::slots::{SimParams, SimValue, SlotCrypt, SlotSim};

pub const SHAPES: [(usize, usize, usize); 5] = [
    (128, 128, 4),
    (256, 256, 8),
    (512, 769, 4),
    (1024, 769, 8),
    (2048, 769, 16),
];

pub fn sim(slots: usize) -> SlotSim {
    SlotSim::new(SimParams::synthetic(slots, 60, 40, 9).unwrap()).unwrap()
}

/// Integers in [-4, 4] from a seeded LCG.
pub fn int_matrix(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..rows * cols)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % 9) as f64 - 4.0
        })
        .collect()
}

/// `A B^T` for row-major `A: a x b`, `B: c x b`.
pub fn abt_plain(am: &[f64], bm: &[f64], a: usize, b: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; a * c];
    for i in 0..a {
        for j in 0..c {
            out[i * c + j] = (0..b).map(|t| am[i * b + t] * bm[j * b + t]).sum();
        }
    }
    out
}

/// `A^T B` for row-major `A: a x c`, `B: a x b`.
pub fn atb_plain(am: &[f64], bm: &[f64], a: usize, b: usize, c: usize) -> Vec<f64> {
    let mut out = vec![0.0; c * b];
    for m in 0..c {
        for j in 0..b {
            out[m * b + j] = (0..a).map(|i| am[i * c + m] * bm[i * b + j]).sum();
        }
    }
    out
}

/// Every slot of every block equals the packed expectation (copies and zero padding included).
pub fn assert_slots_exact(sim: &SlotSim, m: &EncMatrix<SimValue>, want: &[f64], what: &str) {
    let packed = m.layout().pack(want).unwrap();
    for (blk, (got, exp)) in m.blocks().iter().zip(&packed).enumerate() {
        let got = sim.decrypt(got).unwrap();
        for (s, (g, e)) in got.iter().zip(exp).enumerate() {
            assert!(
                g.re == *e && g.im == 0.0,
                "{what}: block {blk} slot {s}: got {g:?}, want {e}"
            );
        }
    }
    assert_eq!(decrypt_matrix(sim, m).unwrap(), want, "{what}");
}
