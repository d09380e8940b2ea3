//! Where policy files come from: the file system, or an in-memory set (the embedded
//! default policy and tests). The loader sees only this trait.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

pub trait Files {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    fn is_dir(&self, path: &Path) -> bool;
    fn exists(&self, path: &Path) -> bool;
    /// The `*.toml` files directly inside `dir`, sorted by name.
    fn toml_files(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// A stable identity for cycle detection.
    fn identity(&self, path: &Path) -> PathBuf;
}

/// Largest file a policy may name (policy text, a script, a plug-in module).
pub const MAX_FILE_BYTES: u64 = 8 << 20;

pub struct FsFiles;

impl Files for FsFiles {
    /// Regular files only, and at most [`MAX_FILE_BYTES`]: a FIFO would block the
    /// reader, a device such as `/dev/zero` would never end.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let meta = std::fs::metadata(path)?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        std::fs::File::open(path)?
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large());
        }
        Ok(bytes)
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn toml_files(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
        out.sort();
        Ok(out)
    }

    fn identity(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
    }
}

fn too_large() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("larger than {} MiB", MAX_FILE_BYTES >> 20),
    )
}

/// Files held in memory, keyed by normalized relative path.
#[derive(Default, Clone)]
pub struct MemFiles {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemFiles {
    pub fn insert(&mut self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) {
        self.files.insert(normalize(path.as_ref()), contents.into());
    }
}

impl Files for MemFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn is_dir(&self, path: &Path) -> bool {
        let dir = normalize(path);
        self.files.keys().any(|k| k.starts_with(&dir) && *k != dir)
    }

    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(&normalize(path)) || self.is_dir(path)
    }

    fn toml_files(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let dir = normalize(dir);
        Ok(self
            .files
            .keys()
            .filter(|k| k.parent() == Some(dir.as_path()))
            .filter(|k| k.extension().is_some_and(|e| e == "toml"))
            .cloned()
            .collect())
    }

    fn identity(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

/// Resolve `.` and `..` without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
