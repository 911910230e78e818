//! Where a script's written files live while it runs: protected files whose
//! encrypted, authenticated nodes the host stores (so output larger than
//! the enclave's memory is possible and the host sees only ciphertext).
//! The key is random per run and never leaves the enclave.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use shield_enclave::services::pfs::{FileKey, ProtectedFile};
use shield_engine::vfs::{DirEntry, VfsFile, WriteLayer};
use zeroize::Zeroizing;

use crate::outside::HostNodes;

type Shared = Arc<Mutex<ProtectedFile<HostNodes>>>;

/// The write layer of a bundle run.
#[derive(Debug)]
pub(crate) struct ProtectedWrites {
    key: Zeroizing<[u8; 16]>,
    files: BTreeMap<String, Shared>,
}

impl ProtectedWrites {
    pub(crate) fn new() -> io::Result<Self> {
        let mut key = Zeroizing::new([0u8; 16]);
        getrandom::getrandom(key.as_mut()).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self {
            key,
            files: BTreeMap::new(),
        })
    }

    /// Every written file's contents, read back through its protected file.
    pub(crate) fn contents(&self) -> io::Result<BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        for (path, file) in &self.files {
            let mut file = lock(file);
            file.seek(SeekFrom::Start(0))?;
            let mut data = Vec::new();
            file.read_to_end(&mut data)?;
            out.insert(path.clone(), data);
        }
        Ok(out)
    }
}

fn lock(file: &Shared) -> MutexGuard<'_, ProtectedFile<HostNodes>> {
    file.lock().unwrap_or_else(|e| e.into_inner())
}

impl ProtectedWrites {
    /// Refuses, when the script creates it, a name the result could not
    /// carry: the script gets the error, and the run's other files are safe.
    fn check_new_name(&self, path: &str) -> io::Result<()> {
        let refuse = |why: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, why.to_owned()));
        if shield_bundle::validate_path(path).is_err() {
            return refuse("a written file's name must be at most 1024 bytes, without backslashes");
        }
        // Lookups in the ordered map, not a scan: a script may write many files.
        let as_dir = format!("{path}/");
        let is_a_directory = self
            .files
            .range(as_dir.clone()..)
            .next()
            .is_some_and(|(name, _)| name.starts_with(&as_dir));
        let has_a_file_as_directory = path
            .match_indices('/')
            .any(|(i, _)| self.files.contains_key(&path[..i]));
        if is_a_directory || has_a_file_as_directory {
            return refuse("a written file cannot also be a directory of written files");
        }
        Ok(())
    }
}

impl WriteLayer for ProtectedWrites {
    fn create(&mut self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        if let Some(file) = self.files.get(path) {
            lock(file).set_len(0)?;
            return Ok(Box::new(Handle::new(file.clone())));
        }
        self.check_new_name(path)?;
        // The host sees a number, not the script's name for the file.
        let number = self.files.len() as u64;
        let store = HostNodes { file: number };
        let key = FileKey::Supplied(Zeroizing::new(*self.key));
        let file = ProtectedFile::create(store, &format!("output-{number}"), key)?;
        let shared = Arc::new(Mutex::new(file));
        self.files.insert(path.to_owned(), shared.clone());
        Ok(Box::new(Handle::new(shared)))
    }

    fn open(&mut self, path: &str) -> io::Result<Option<Box<dyn VfsFile>>> {
        Ok(self
            .files
            .get(path)
            .map(|file| Box::new(Handle::new(file.clone())) as Box<dyn VfsFile>))
    }

    fn list(&mut self, dir: &str) -> io::Result<Option<Vec<DirEntry>>> {
        Ok(shield_engine::vfs::list_keys(&self.files, dir))
    }
}

/// One open handle: its own position in a shared protected file.
struct Handle {
    file: Shared,
    position: u64,
}

impl Handle {
    fn new(file: Shared) -> Self {
        Self { file, position: 0 }
    }

    fn at_position<T>(
        &mut self,
        op: impl FnOnce(&mut ProtectedFile<HostNodes>) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut file = lock(&self.file);
        file.seek(SeekFrom::Start(self.position))?;
        let result = op(&mut file);
        self.position = file.stream_position()?;
        result
    }
}

impl Read for Handle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.at_position(|f| f.read(buf))
    }
}

impl Write for Handle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.at_position(|f| f.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(lock(&self.file).flush()?)
    }
}

impl Seek for Handle {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.at_position(|f| f.seek(pos))
    }
}
