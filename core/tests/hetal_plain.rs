//! The plaintext trainer: data checks, early stopping, and learning a
//! linearly separable problem to full accuracy with the exact softmax.

use hetal_core::hetal::plain::{
    DataError, EarlyStopping, Features, NagConfig, batch_order, softmax_exact, train,
};

/// Three Gaussian-free blobs on a 4-feature grid: class = arg-max of the first three features.
fn blobs(rows: usize, seed: u64) -> (Vec<f64>, Vec<usize>) {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..rows {
        let row: Vec<f64> = (0..4).map(|_| next() * 10.0 - 5.0).collect();
        let label = (0..3)
            .max_by(|&a, &b| row[a].partial_cmp(&row[b]).unwrap())
            .unwrap();
        x.extend(&row);
        y.push(label);
    }
    (x, y)
}

#[test]
fn learns_a_separable_problem() {
    let (x, y) = blobs(600, 1);
    let (xv, yv) = blobs(200, 2);
    let scale = Features::max_abs(&x);
    let tr = Features::prepare(&x, 4, &y, 3, scale).unwrap();
    let va = Features::prepare(&xv, 4, &yv, 3, scale).unwrap();
    let cfg = NagConfig {
        lr: 1.0,
        batch: 64,
        max_epochs: 40,
        patience: 3,
        ..NagConfig::default()
    };
    let run = train(&tr, &va, &cfg, &mut softmax_exact);
    let acc = run.model.accuracy(&va);
    assert!(acc > 0.95, "validation accuracy {acc}");
    assert_eq!(run.val_loss.len(), run.epochs);
    let best = run.val_loss[run.best_epoch - 1];
    assert!(run.val_loss.iter().all(|&l| l >= best));
    assert!((run.model.loss_accuracy(&va).0 - best).abs() < 1e-12);
}

#[test]
fn prepare_scales_clips_and_rejects_bad_input() {
    let f = Features::prepare(&[2.0, -8.0, 4.0, 16.0], 2, &[0, 1], 2, 4.0).unwrap();
    assert_eq!(f.cols, 3);
    assert_eq!(f.x, vec![0.5, -1.0, 1.0, 1.0, 1.0, 1.0]);
    assert_eq!(
        Features::prepare(&[1.0, 2.0, 3.0], 2, &[0, 1], 2, 1.0),
        Err(DataError::Shape {
            values: 3,
            labels: 2,
            dim: 2
        })
    );
    assert_eq!(
        Features::prepare(&[1.0, f64::NAN], 1, &[0, 1], 2, 1.0),
        Err(DataError::NonFinite(1, 0))
    );
    assert_eq!(
        Features::prepare(&[1.0, 2.0], 1, &[0, 2], 2, 1.0),
        Err(DataError::LabelOutOfRange(1, 2))
    );
    assert_eq!(
        Features::prepare(&[1.0], 1, &[0], 2, 0.0),
        Err(DataError::BadScale)
    );
    assert_eq!(
        Features::prepare(&[], 1, &[], 2, 1.0),
        Err(DataError::Empty)
    );
}

#[test]
fn early_stopping_waits_for_patience() {
    let mut s = EarlyStopping::new(2);
    assert!(s.observe(1, 1.0));
    assert!(!s.observe(2, 1.5));
    assert!(!s.should_stop());
    assert!(!s.observe(3, 1.0));
    assert!(s.should_stop());
    assert_eq!(s.best_epoch(), 1);
    let mut never = EarlyStopping::new(0);
    (1..10).for_each(|e| {
        never.observe(e, 1.0);
    });
    assert!(!never.should_stop());
}

#[test]
fn batch_order_is_a_seeded_permutation() {
    let a = batch_order(1000, 7);
    let mut sorted = a.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    assert_eq!(a, batch_order(1000, 7));
    assert_ne!(a, batch_order(1000, 8));
}
