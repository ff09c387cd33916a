//! Files: one-line errors that name the file, reads that refuse directories and empty
//! files, and writes that never leave a half-written output.
//!
//! Every output is first written in full to a hidden temporary file in the same
//! directory (same file system, so the final `rename` is atomic) and synced; a command
//! stages all its outputs with [`Outputs`] and renames them only once every one is
//! written, so a failure leaves no output at all. Secret-key files are created with
//! mode 0600 from the start (never widened later).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use zeroize::Zeroizing;

/// A user-facing error: one line, naming the file when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl CliError {
    /// `"{path}: {what}"`.
    pub fn at(path: &Path, what: impl fmt::Display) -> Self {
        Self(format!("{}: {what}", path.display()))
    }

    /// A message without a file.
    pub fn msg(what: impl fmt::Display) -> Self {
        Self(what.to_string())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep it on one line whatever the source error printed.
        f.write_str(&self.0.replace('\n', " "))
    }
}

impl std::error::Error for CliError {}

/// Reads a whole file, refusing a directory or an empty file.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    check_readable(path)?;
    let bytes = fs::read(path).map_err(|e| CliError::at(path, format!("cannot read: {e}")))?;
    if bytes.is_empty() {
        return Err(CliError::at(path, "file is empty"));
    }
    Ok(bytes)
}

/// Like [`read`], for secret material: the buffer is zeroized on drop.
pub fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>, CliError> {
    read(path).map(Zeroizing::new)
}

/// Fails unless `path` is an existing regular file.
pub fn check_readable(path: &Path) -> Result<(), CliError> {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(CliError::at(path, "is a directory, expected a file")),
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::at(path, format!("cannot read: {e}"))),
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_path(path: &Path) -> Result<PathBuf, CliError> {
    let name = path
        .file_name()
        .ok_or_else(|| CliError::at(path, "not a file path"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!(
        ".{}.tmp-{}-{n}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Outputs staged as temporary files, renamed into place together by
/// [`Outputs::commit`]; dropped without a commit, they are removed.
#[derive(Default)]
pub struct Outputs {
    staged: Vec<(PathBuf, PathBuf)>,
}

impl Outputs {
    /// No outputs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `bytes` to a temporary file beside `path` (mode 0600 if `secret`).
    pub fn stage(&mut self, path: &Path, bytes: &[u8], secret: bool) -> Result<(), CliError> {
        if path.is_dir() {
            return Err(CliError::at(path, "is a directory, expected a file path"));
        }
        let tmp = temp_path(path)?;
        let result = (|| {
            let mut opts = OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(if secret { 0o600 } else { 0o644 });
            }
            let mut f: File = opts.open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(CliError::at(path, format!("cannot write: {e}")));
        }
        self.staged.push((tmp, path.to_path_buf()));
        Ok(())
    }

    /// Renames every staged file into place.
    pub fn commit(mut self) -> Result<(), CliError> {
        let staged = std::mem::take(&mut self.staged);
        for (i, (tmp, path)) in staged.iter().enumerate() {
            if let Err(e) = fs::rename(tmp, path) {
                // Remove what is not yet in place; earlier renames cannot be undone
                // atomically, but rename within one directory does not fail in practice.
                staged[i..].iter().for_each(|(t, _)| {
                    let _ = fs::remove_file(t);
                });
                return Err(CliError::at(path, format!("cannot write: {e}")));
            }
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for (tmp, _) in &self.staged {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Writes one file atomically (temporary file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> Result<(), CliError> {
    let mut out = Outputs::new();
    out.stage(path, bytes, secret)?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hetal-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn secret_files_are_0600_and_nothing_is_left_on_failure() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("modes");
        write_atomic(&d.join("s.key"), b"abc", true).unwrap();
        let mode = fs::metadata(d.join("s.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read(&d.join("s.key")).unwrap(), b"abc");

        // The second output fails: the first is not written either.
        let mut out = Outputs::new();
        out.stage(&d.join("a"), b"1", false).unwrap();
        let e = out
            .stage(&d.join("missing/b"), b"2", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing/b: cannot write"), "{e}");
        drop(out);
        let left: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("s.key")]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reads_refuse_directories_and_empty_files() {
        let d = dir("reads");
        assert!(
            read(&d)
                .unwrap_err()
                .0
                .ends_with("is a directory, expected a file")
        );
        fs::write(d.join("e"), b"").unwrap();
        assert!(read(&d.join("e")).unwrap_err().0.ends_with("file is empty"));
        assert!(read(&d.join("nope")).unwrap_err().0.contains("cannot read"));
        fs::remove_dir_all(&d).unwrap();
    }
}
