//! A minimal `.npy` reader for the shared feature sets in tests (float32 2-D
//! features, int64 1-D labels, little-endian, C order).

use std::path::Path;

fn header(bytes: &[u8]) -> (String, usize) {
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not an npy file");
    let (len, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )
    };
    let h = String::from_utf8_lossy(&bytes[start..start + len]).to_string();
    (h, start + len)
}

fn shape(h: &str) -> Vec<usize> {
    let s = &h[h.find("'shape'").unwrap()..];
    let s = &s[s.find('(').unwrap() + 1..s.find(')').unwrap()];
    s.split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().parse().unwrap())
        .collect()
}

/// Features as f64, row-major, and the column count.
pub fn features(path: &Path) -> (Vec<f64>, usize) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (h, off) = header(&bytes);
    assert!(h.contains("'<f4'") && h.contains("False"), "{h}");
    let sh = shape(&h);
    let x = bytes[off..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
        .collect::<Vec<_>>();
    assert_eq!(x.len(), sh[0] * sh[1]);
    (x, sh[1])
}

/// Labels.
pub fn labels(path: &Path) -> Vec<usize> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (h, off) = header(&bytes);
    assert!(h.contains("'<i8'"), "{h}");
    bytes[off..]
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as usize)
        .collect()
}

/// The folder of a feature set: the copy shipped in the repository
/// (`std-shim/data/<set>`) or the shared data folder beside the checkout.
pub fn set_dir(set: &str) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = [
        root.join("std-shim/data").join(set),
        root.join("../shared/data").join(set),
        Path::new("/work/shared/data").join(set),
    ];
    candidates
        .iter()
        .find(|d| d.join("train_x.npy").is_file())
        .unwrap_or_else(|| panic!("feature set {set} not found in {candidates:?}"))
        .clone()
}

/// `train`, `val`, `test` of a feature set as (features, dim, labels).
pub fn split(set: &str, part: &str) -> (Vec<f64>, usize, Vec<usize>) {
    let dir = set_dir(set);
    let (x, dim) = features(&dir.join(format!("{part}_x.npy")));
    let y = labels(&dir.join(format!("{part}_y.npy")));
    (x, dim, y)
}

/// The demo set (10 classes) prepared the HETAL way: the first `rows`
/// training rows, all validation and test rows, scaled by the training set's
/// largest `|x|`.
pub struct Demo {
    /// Training rows.
    pub train: hetal_core::hetal::plain::Features,
    /// Validation rows.
    pub val: hetal_core::hetal::plain::Features,
    /// Test rows.
    pub test: hetal_core::hetal::plain::Features,
}

/// See [`Demo`].
pub fn demo(rows: usize) -> Demo {
    use hetal_core::hetal::plain::Features;
    let (x, dim, y) = split("demo", "train");
    let scale = Features::max_abs(&x);
    let prep = |x: &[f64], y: &[usize], n: usize| {
        let n = n.min(y.len());
        Features::prepare(&x[..n * dim], dim, &y[..n], 10, scale).unwrap()
    };
    let (vx, _, vy) = split("demo", "val");
    let (tx, _, ty) = split("demo", "test");
    Demo {
        train: prep(&x, &y, rows),
        val: prep(&vx, &vy, usize::MAX),
        test: prep(&tx, &ty, usize::MAX),
    }
}
