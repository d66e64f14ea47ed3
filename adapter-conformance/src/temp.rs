//! Temporary files for adapters on a file (an embedded database): one fresh
//! file per case, removed when the case passes.
//!
//! [`conformance_tests!`](crate::conformance_tests) with `temp_file = ...`
//! does it for you: it makes a [`TempFile`] per case, hands its path to your
//! factory, and removes the file (with its `-wal`, `-shm` and `-journal`
//! companions) after the case passed; a failing case keeps its file and
//! names it in the failure message. Use [`TempFile`] directly in tests of
//! your own.

use std::io;
use std::path::{Path, PathBuf};

/// A fresh path for a temporary database file, removed (with the companion
/// files SQLite-like stores write beside it) when the `TempFile` is
/// dropped, unless [`keep`](TempFile::keep) was called.
///
/// The file itself is not created: the adapter under test creates it.
///
/// ```
/// use adapter_conformance::temp::TempFile;
///
/// let file = TempFile::new("mydb");
/// std::fs::write(file.path(), b"data").unwrap();
/// let path = file.path().to_owned();
/// drop(file);
/// assert!(!path.exists());
/// ```
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    keep: bool,
}

/// The suffixes of the files an embedded database may write beside its
/// main file (SQLite's write-ahead log, shared memory and rollback journal).
pub const COMPANION_SUFFIXES: &[&str] = &["-wal", "-shm", "-journal"];

impl TempFile {
    /// A fresh path `<prefix>_<16 hex digits>.db` in the directory
    /// `adapter-conformance` under the system's temporary directory (created
    /// if missing).
    pub fn new(prefix: &str) -> Self {
        Self::new_in(std::env::temp_dir().join("adapter-conformance"), prefix)
    }

    /// A fresh path `<prefix>_<16 hex digits>.db` in `dir` (created if
    /// missing), e.g. `env!("CARGO_TARGET_TMPDIR")` in an integration test.
    ///
    /// # Panics
    /// If `dir` cannot be created.
    pub fn new_in(dir: impl AsRef<Path>, prefix: &str) -> Self {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).unwrap_or_else(|e| {
            panic!(
                "cannot create the temporary directory {}: {e}",
                dir.display()
            )
        });
        let name = format!("{}.db", crate::servers::unique_namespace(prefix));
        Self {
            path: dir.join(name),
            keep: false,
        }
    }

    /// The path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file (for inspection) and returns its path.
    pub fn keep(mut self) -> PathBuf {
        self.keep = true;
        self.path.clone()
    }

    /// Removes the file and its companions now; missing files are fine.
    pub fn remove(&self) -> io::Result<()> {
        remove_with_companions(&self.path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = self.remove();
        }
    }
}

/// Removes `path` and its [companions](COMPANION_SUFFIXES); files that do
/// not exist are not an error.
pub fn remove_with_companions(path: &Path) -> io::Result<()> {
    let mut paths = vec![path.to_path_buf()];
    for suffix in COMPANION_SUFFIXES {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        paths.push(PathBuf::from(name));
    }
    for path in paths {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_companions_go_on_drop_unless_kept() {
        let file = TempFile::new("temp_test");
        let path = file.path().to_owned();
        assert!(path.starts_with(std::env::temp_dir()));
        assert_eq!(path.extension().and_then(|e| e.to_str()), Some("db"));
        std::fs::write(&path, b"main").unwrap();
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        std::fs::write(&wal, b"wal").unwrap();
        drop(file);
        assert!(!path.exists() && !wal.exists());

        let file = TempFile::new("temp_test");
        std::fs::write(file.path(), b"main").unwrap();
        let kept = file.keep();
        assert!(kept.exists());
        remove_with_companions(&kept).unwrap();
        assert!(!kept.exists());
        assert_ne!(TempFile::new("a").path(), TempFile::new("a").path());
    }
}
