//! Features and labels from NumPy `.npy` (what Python feature extractors write) and CSV.
//!
//! Features: a 2-D array of `float32` / `float64` (`.npy`), or rows of comma-separated
//! numbers (`.csv`, an optional header line). Labels: a 1-D integer array (`.npy`; a
//! float array holding whole numbers is accepted too), or one number per line (`.csv`).
//! Every problem is reported as one line naming the file: wrong dimensions, NaN or
//! infinite values, non-integer or negative labels, truncated or corrupted files.

use std::io::Cursor;
use std::path::Path;

use npyz::{NpyFile, NpyHeader, Order, TypeChar, WriterBuilder};

use crate::files::{self, CliError};

/// A dense row-major matrix of raw features.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// `rows * cols` values, row-major.
    pub data: Vec<f64>,
}

fn ext(path: &Path) -> Result<&'static str, CliError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
    {
        Some(e) if e == "npy" => Ok("npy"),
        Some(e) if e == "csv" => Ok("csv"),
        _ => Err(CliError::at(
            path,
            "unknown file type (expected .npy or .csv)",
        )),
    }
}

/// A parsed `.npy` header and the data bytes after it, with the data length checked
/// against the header *before* anything is allocated for the values.
struct Npy<'a> {
    header: NpyHeader,
    data: &'a [u8],
}

fn parse_npy<'a>(path: &Path, bytes: &'a [u8]) -> Result<Npy<'a>, CliError> {
    let mut cur = Cursor::new(bytes);
    let header = NpyHeader::from_reader(&mut cur)
        .map_err(|e| CliError::at(path, format!("not a valid .npy file ({e})")))?;
    let data = &bytes[cur.position() as usize..];
    let npyz::DType::Plain(ts) = header.dtype() else {
        return Err(CliError::at(
            path,
            "structured .npy arrays are not supported",
        ));
    };
    let need = header
        .len()
        .checked_mul(ts.size_field())
        .ok_or_else(|| CliError::at(path, "corrupted .npy header (size overflows)"))?;
    let have = data.len() as u64;
    if have < need {
        return Err(CliError::at(
            path,
            format!("truncated: the header announces {need} bytes of data, the file has {have}"),
        ));
    }
    if have > need {
        return Err(CliError::at(
            path,
            format!(
                "corrupted: {} bytes after the data the header announces",
                have - need
            ),
        ));
    }
    Ok(Npy { header, data })
}

fn read_values<T: npyz::Deserialize>(path: &Path, npy: Npy<'_>) -> Result<Vec<T>, CliError> {
    NpyFile::with_header(npy.header, npy.data)
        .into_vec::<T>()
        .map_err(|e| CliError::at(path, format!("corrupted .npy data ({e})")))
}

fn check_finite(path: &Path, m: &Matrix) -> Result<(), CliError> {
    if let Some(i) = m.data.iter().position(|v| !v.is_finite()) {
        return Err(CliError::at(
            path,
            format!(
                "value at row {}, column {} is {} (features must be finite)",
                i / m.cols,
                i % m.cols,
                m.data[i]
            ),
        ));
    }
    Ok(())
}

/// Loads a feature matrix from `.npy` or `.csv` (at least one row and one column, all
/// values finite).
pub fn load_features(path: &Path) -> Result<Matrix, CliError> {
    files::check_readable(path)?;
    let kind = ext(path)?;
    let bytes = files::read(path)?;
    let m = match kind {
        "npy" => features_npy(path, &bytes)?,
        _ => features_csv(path, &bytes)?,
    };
    if m.rows == 0 || m.cols == 0 {
        return Err(CliError::at(
            path,
            format!("no data (shape {} x {})", m.rows, m.cols),
        ));
    }
    check_finite(path, &m)?;
    Ok(m)
}

pub(crate) fn features_npy(path: &Path, bytes: &[u8]) -> Result<Matrix, CliError> {
    let npy = parse_npy(path, bytes)?;
    let shape = npy.header.shape().to_vec();
    let [rows, cols] = shape[..] else {
        return Err(CliError::at(
            path,
            format!("features must be a 2-D array (rows x dim), found shape {shape:?}"),
        ));
    };
    let (rows, cols) = (rows as usize, cols as usize);
    let order = npy.header.order();
    let npyz::DType::Plain(ts) = npy.header.dtype() else {
        unreachable!("checked in parse_npy")
    };
    let data: Vec<f64> = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => read_values::<f32>(path, npy)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Float, 8) => read_values::<f64>(path, npy)?,
        _ => {
            return Err(CliError::at(
                path,
                format!("features must be float32 or float64, found dtype {ts}"),
            ));
        }
    };
    let data = match order {
        Order::C => data,
        // Column-major on disk: transpose into rows.
        Order::Fortran => (0..rows * cols)
            .map(|i| data[(i % cols) * rows + i / cols])
            .collect(),
    };
    Ok(Matrix { rows, cols, data })
}

fn csv_lines(path: &Path, bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, CliError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| CliError::at(path, "not a text file (invalid UTF-8)"))?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.split(',').map(|c| c.trim().to_string()).collect()))
        .collect())
}

fn parse_num(path: &Path, line: usize, col: usize, cell: &str) -> Result<f64, CliError> {
    cell.parse::<f64>().map_err(|_| {
        CliError::at(
            path,
            format!("line {line}, column {}: {cell:?} is not a number", col + 1),
        )
    })
}

/// True when no cell of the first line parses as a number: a header line.
fn is_header(cells: &[String]) -> bool {
    cells.iter().all(|c| c.parse::<f64>().is_err())
}

fn features_csv(path: &Path, bytes: &[u8]) -> Result<Matrix, CliError> {
    let mut lines = csv_lines(path, bytes)?;
    if lines.first().is_some_and(|(_, c)| is_header(c)) {
        lines.remove(0);
    }
    let cols = lines.first().map_or(0, |(_, c)| c.len());
    let mut data = Vec::with_capacity(lines.len() * cols);
    for (line, cells) in &lines {
        if cells.len() != cols {
            return Err(CliError::at(
                path,
                format!("line {line} has {} columns, expected {cols}", cells.len()),
            ));
        }
        for (c, cell) in cells.iter().enumerate() {
            data.push(parse_num(path, *line, c, cell)?);
        }
    }
    Ok(Matrix {
        rows: lines.len(),
        cols,
        data,
    })
}

fn label_of(path: &Path, row: usize, v: f64) -> Result<usize, CliError> {
    if !v.is_finite() || v.fract() != 0.0 {
        return Err(CliError::at(
            path,
            format!("label {v} at row {row} is not an integer"),
        ));
    }
    if v < 0.0 {
        return Err(CliError::at(
            path,
            format!("label {v} at row {row} is negative"),
        ));
    }
    if v > u32::MAX as f64 {
        return Err(CliError::at(
            path,
            format!("label {v} at row {row} is too large"),
        ));
    }
    Ok(v as usize)
}

/// Loads labels from `.npy` (1-D; integer, or float holding whole numbers) or `.csv`
/// (one per line, optional header): non-negative integers, at least one.
pub fn load_labels(path: &Path) -> Result<Vec<usize>, CliError> {
    files::check_readable(path)?;
    let kind = ext(path)?;
    let bytes = files::read(path)?;
    let values: Vec<f64> = match kind {
        "npy" => labels_npy(path, &bytes)?,
        _ => {
            let mut lines = csv_lines(path, &bytes)?;
            if lines.first().is_some_and(|(_, c)| is_header(c)) {
                lines.remove(0);
            }
            let mut out = Vec::with_capacity(lines.len());
            for (line, cells) in &lines {
                if cells.len() != 1 {
                    return Err(CliError::at(
                        path,
                        format!("line {line} has {} columns, expected 1 label", cells.len()),
                    ));
                }
                out.push(parse_num(path, *line, 0, &cells[0])?);
            }
            out
        }
    };
    if values.is_empty() {
        return Err(CliError::at(path, "no labels"));
    }
    values
        .iter()
        .enumerate()
        .map(|(r, &v)| label_of(path, r, v))
        .collect()
}

pub(crate) fn labels_npy(path: &Path, bytes: &[u8]) -> Result<Vec<f64>, CliError> {
    let npy = parse_npy(path, bytes)?;
    let shape = npy.header.shape().to_vec();
    if shape.len() != 1 {
        return Err(CliError::at(
            path,
            format!("labels must be a 1-D array, found shape {shape:?}"),
        ));
    }
    let npyz::DType::Plain(ts) = npy.header.dtype() else {
        unreachable!("checked in parse_npy")
    };
    // Integers are checked exactly (as i128) before the f64 view, so a huge label is
    // reported as too large rather than rounded.
    let ints = |v: Vec<i128>| -> Result<Vec<f64>, CliError> {
        if let Some((r, x)) = v
            .iter()
            .enumerate()
            .find(|(_, x)| **x < 0 || **x > u32::MAX as i128)
        {
            let why = if *x < 0 {
                "is negative"
            } else {
                "is too large"
            };
            return Err(CliError::at(path, format!("label {x} at row {r} {why}")));
        }
        Ok(v.into_iter().map(|x| x as f64).collect())
    };
    Ok(match (ts.type_char(), ts.size_field()) {
        (TypeChar::Int, 1) => ints(
            read_values::<i8>(path, npy)?
                .into_iter()
                .map(i128::from)
                .collect(),
        )?,
        (TypeChar::Int, 2) => ints(
            read_values::<i16>(path, npy)?
                .into_iter()
                .map(i128::from)
                .collect(),
        )?,
        (TypeChar::Int, 4) => ints(
            read_values::<i32>(path, npy)?
                .into_iter()
                .map(i128::from)
                .collect(),
        )?,
        (TypeChar::Int, 8) => ints(
            read_values::<i64>(path, npy)?
                .into_iter()
                .map(i128::from)
                .collect(),
        )?,
        (TypeChar::Uint, 1) => ints(
            read_values::<u8>(path, npy)?
                .into_iter()
                .map(i128::from)
                .collect(),
        )?,
        (TypeChar::Uint, 2) => ints(
            read_values::<u16>(path, npy)?
                .into_iter()
                .map(i128::from)
                .collect(),
        )?,
        (TypeChar::Uint, 4) => ints(
            read_values::<u32>(path, npy)?
                .into_iter()
                .map(i128::from)
                .collect(),
        )?,
        (TypeChar::Uint, 8) => ints(
            read_values::<u64>(path, npy)?
                .into_iter()
                .map(i128::from)
                .collect(),
        )?,
        (TypeChar::Float, 4) => read_values::<f32>(path, npy)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Float, 8) => read_values::<f64>(path, npy)?,
        _ => {
            return Err(CliError::at(
                path,
                format!("labels must be integers, found dtype {ts}"),
            ));
        }
    })
}

/// Writes a 2-D `float32` `.npy` file's bytes (used by tests and `hetal demo` exports).
pub fn npy_f32_bytes(m: &Matrix) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(&[m.rows as u64, m.cols as u64])
        .writer(&mut out)
        .begin_nd()
        .expect("in-memory npy header");
    w.extend(m.data.iter().map(|&v| v as f32))
        .expect("in-memory npy data");
    w.finish().expect("in-memory npy");
    out
}

/// Writes a 1-D `int64` `.npy` file's bytes.
pub fn npy_labels_bytes(y: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = npyz::WriteOptions::<i64>::new()
        .default_dtype()
        .shape(&[y.len() as u64])
        .writer(&mut out)
        .begin_nd()
        .expect("in-memory npy header");
    w.extend(y.iter().map(|&v| v as i64))
        .expect("in-memory npy data");
    w.finish().expect("in-memory npy");
    out
}

/// A labelled split: raw features and labels of the same row count.
#[derive(Clone, Debug)]
pub struct Split {
    /// Raw features.
    pub x: Matrix,
    /// Labels.
    pub y: Vec<usize>,
}

/// Loads features and labels and checks that their row counts agree.
pub fn load_split(x_path: &Path, y_path: &Path) -> Result<Split, CliError> {
    let x = load_features(x_path)?;
    let y = load_labels(y_path)?;
    if x.rows != y.len() {
        return Err(CliError::at(
            y_path,
            format!(
                "{} labels for {} feature rows in {}",
                y.len(),
                x.rows,
                x_path.display()
            ),
        ));
    }
    Ok(Split { x, y })
}

/// Checks labels against a class count, naming the file.
pub fn check_labels(path: &Path, y: &[usize], classes: usize) -> Result<(), CliError> {
    if let Some((r, l)) = y.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(CliError::at(
            path,
            format!(
                "label {l} at row {r} is out of range (classes 0..{})",
                classes - 1
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_and_truncation() {
        let d = std::env::temp_dir().join(format!("hetal-data-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let m = Matrix {
            rows: 2,
            cols: 3,
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5],
        };
        let p = d.join("x.npy");
        std::fs::write(&p, npy_f32_bytes(&m)).unwrap();
        assert_eq!(load_features(&p).unwrap(), m);
        let y = d.join("y.npy");
        std::fs::write(&y, npy_labels_bytes(&[0, 2])).unwrap();
        assert_eq!(load_labels(&y).unwrap(), vec![0, 2]);
        let bytes = npy_f32_bytes(&m);
        std::fs::write(&p, &bytes[..bytes.len() - 2]).unwrap();
        let e = load_features(&p).unwrap_err().0;
        assert!(e.contains("truncated"), "{e}");
        // Labels in a features slot: wrong dimensions.
        let e = load_features(&y).unwrap_err().0;
        assert!(e.contains("2-D"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn csv_with_header_and_errors() {
        let d = std::env::temp_dir().join(format!("hetal-csv-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("x.csv");
        std::fs::write(&p, "a,b\n1,2\n3, 4.5\n").unwrap();
        assert_eq!(load_features(&p).unwrap().data, vec![1.0, 2.0, 3.0, 4.5]);
        std::fs::write(&p, "1,2\n3\n").unwrap();
        assert!(
            load_features(&p)
                .unwrap_err()
                .0
                .ends_with("line 2 has 1 columns, expected 2")
        );
        std::fs::write(&p, "1,nan\n").unwrap();
        assert!(load_features(&p).unwrap_err().0.contains("is NaN"));
        let y = d.join("y.csv");
        std::fs::write(&y, "label\n1\n2.5\n").unwrap();
        assert!(
            load_labels(&y)
                .unwrap_err()
                .0
                .ends_with("label 2.5 at row 1 is not an integer")
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
