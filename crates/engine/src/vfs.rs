//! The virtual file system scripts see.
//!
//! Scripts never touch the real file system: every `io.open`, `require`,
//! `dofile` and `loadfile` goes through a [`Vfs`]. Paths are relative to the
//! VFS root and [`normalize`]d first, so absolute paths and paths escaping the
//! root are refused before any layer sees them.
//!
//! The usual VFS is an [`Overlay`]: a read-only base layer ([`ReadLayer`]: the
//! script bundle) under a writable layer ([`WriteLayer`]: files the script
//! writes). In memory that is [`MemoryFiles`] + [`MemoryWrites`]; on a host
//! directory it is [`DirReader`] + [`DirWriter`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// An open file: readable, writable and seekable (each may refuse).
pub trait VfsFile: Read + Write + Seek + Send {}
impl<T: Read + Write + Seek + Send> VfsFile for T {}

/// How a file is opened, as decoded from a Lua/C `fopen` mode string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenMode {
    /// Reading is allowed.
    pub read: bool,
    /// Writing is allowed.
    pub write: bool,
    /// Every write goes to the end of the file.
    pub append: bool,
    /// The file is emptied when opened.
    pub truncate: bool,
    /// The file is created when missing.
    pub create: bool,
}

impl OpenMode {
    /// Decodes `"r"`, `"w"`, `"a"`, `"r+"`, `"w+"`, `"a+"`, each optionally
    /// followed by `"b"` (as Lua 5.4 accepts); `None` for anything else.
    pub fn parse(lua_mode: &str) -> Option<OpenMode> {
        let mut chars = lua_mode.chars();
        let first = chars.next()?;
        let rest = chars.as_str();
        let (plus, rest) = match rest.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if !rest.chars().all(|c| c == 'b') {
            return None;
        }
        let mode = match first {
            'r' => OpenMode {
                read: true,
                write: plus,
                append: false,
                truncate: false,
                create: false,
            },
            'w' => OpenMode {
                read: plus,
                write: true,
                append: false,
                truncate: true,
                create: true,
            },
            'a' => OpenMode {
                read: plus,
                write: true,
                append: true,
                truncate: false,
                create: true,
            },
            _ => return None,
        };
        Some(mode)
    }
}

/// A file system as a script sees it.
pub trait Vfs: Send {
    /// Opens `path`, which is already normalized (see [`normalize`]).
    /// Missing files give [`io::ErrorKind::NotFound`], refused ones
    /// [`io::ErrorKind::PermissionDenied`].
    fn open(&mut self, path: &str, mode: OpenMode) -> io::Result<Box<dyn VfsFile>>;

    /// What `path` names (normalized by [`normalize_dir`]; `""` is the
    /// root, a directory): [`io::ErrorKind::NotFound`] when nothing.
    fn metadata(&mut self, path: &str) -> io::Result<Metadata>;

    /// The entries directly inside directory `dir` (normalized by
    /// [`normalize_dir`]), sorted by name. A missing directory gives
    /// [`io::ErrorKind::NotFound`], a file [`io::ErrorKind::NotADirectory`].
    fn list(&mut self, dir: &str) -> io::Result<Vec<DirEntry>>;

    /// Removes file `path` (`os.remove`). The default refuses.
    fn remove(&mut self, path: &str) -> io::Result<()> {
        Err(refused_change(path))
    }

    /// Renames file `from` to `to`, replacing `to` (`os.rename`). The default
    /// refuses.
    fn rename(&mut self, from: &str, _to: &str) -> io::Result<()> {
        Err(refused_change(from))
    }
}

fn refused_change(path: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{path}: files cannot be removed or renamed here"),
    )
}

/// Whether a path names a file or a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    /// A file, readable (and in the write layer, writable).
    File,
    /// A directory: a path prefix of some file.
    Directory,
}

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// File or directory.
    pub kind: EntryKind,
    /// A file's size in bytes; 0 for a directory.
    pub size: u64,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DirEntry {
    /// The entry's name inside its directory (no `/`).
    pub name: String,
    /// File or directory.
    pub kind: EntryKind,
}

/// The entries directly inside `dir` of a layer whose files are the keys of
/// `files` (normalized paths), or `None` when no file lies under `dir`. The
/// root (`""`) always exists.
pub fn list_keys<V>(files: &BTreeMap<String, V>, dir: &str) -> Option<Vec<DirEntry>> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut entries: Vec<DirEntry> = Vec::new();
    for key in files.range(prefix.clone()..).map(|(k, _)| k) {
        let Some(rest) = key.strip_prefix(&prefix) else {
            break;
        };
        let entry = match rest.split_once('/') {
            Some((first, _)) => DirEntry {
                name: first.to_owned(),
                kind: EntryKind::Directory,
            },
            None => DirEntry {
                name: rest.to_owned(),
                kind: EntryKind::File,
            },
        };
        // Keys under one directory are contiguous in the ordered map.
        if entries.last() != Some(&entry) {
            entries.push(entry);
        }
    }
    (dir.is_empty() || !entries.is_empty()).then(|| {
        entries.sort();
        entries
    })
}

/// [`normalize`] for a directory: the root (`""`, `"."`, `"./"`) is `""`.
pub fn normalize_dir(path: &str) -> io::Result<String> {
    match normalize(path) {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == io::ErrorKind::InvalidInput && !path.contains('\0') => {
            // Empty, or naming the root (e.g. "a/.."): nothing else is
            // InvalidInput here.
            Ok(String::new())
        }
        Err(e) => Err(e),
    }
}

/// Normalizes a script-supplied path relative to the VFS root:
/// `"./a/../b.lua"` becomes `"b.lua"`, `"a//b"` becomes `"a/b"`.
///
/// Refuses absolute paths and paths escaping the root
/// ([`io::ErrorKind::PermissionDenied`]), and empty paths, paths naming the
/// root itself and paths containing NUL ([`io::ErrorKind::InvalidInput`]).
pub fn normalize(path: &str) -> io::Result<String> {
    if path.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty path"));
    }
    if path.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "path contains a NUL byte",
        ));
    }
    if path.starts_with('/') {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("absolute path not allowed: {path}"),
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("path escapes the root: {path}"),
                    ));
                }
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("path names the root directory: {path}"),
        ));
    }
    Ok(parts.join("/"))
}

/// The read-only base layer of an [`Overlay`].
pub trait ReadLayer: Send {
    /// The whole content of `path`, or `Ok(None)` when there is no such file.
    fn read(&mut self, path: &str) -> io::Result<Option<Vec<u8>>>;

    /// The size of file `path`, or `Ok(None)` when there is no such file.
    fn size(&mut self, path: &str) -> io::Result<Option<u64>> {
        Ok(self.read(path)?.map(|content| content.len() as u64))
    }

    /// The entries directly inside directory `dir` (`""` is the root), or
    /// `Ok(None)` when it is not a directory of this layer.
    fn list(&mut self, dir: &str) -> io::Result<Option<Vec<DirEntry>>>;
}

/// The writable layer of an [`Overlay`].
pub trait WriteLayer: Send {
    /// Creates `path`, or truncates it if it exists; the handle reads and writes.
    fn create(&mut self, path: &str) -> io::Result<Box<dyn VfsFile>>;
    /// Opens an existing written file for reading and writing at position 0,
    /// or `Ok(None)` when it was never written.
    fn open(&mut self, path: &str) -> io::Result<Option<Box<dyn VfsFile>>>;

    /// The entries directly inside directory `dir` (`""` is the root), or
    /// `Ok(None)` when no written file lies under it.
    fn list(&mut self, dir: &str) -> io::Result<Option<Vec<DirEntry>>>;

    /// Removes a written file: `Ok(false)` when it was never written. The
    /// default refuses, for layers whose files cannot be taken back.
    fn remove(&mut self, path: &str) -> io::Result<bool> {
        Err(refused_change(path))
    }
}

/// A read-only base layer under a writable layer; written files shadow base
/// files of the same path.
///
/// - `"r"`: the written file if present, else the base file (read-only),
///   else `NotFound`.
/// - `"w"`, `"w+"`: created (or truncated) in the write layer.
/// - `"a"`, `"a+"`: the written file, else a written copy of the base file,
///   else a new written file; positioned at the end, and every write appends.
/// - `"r+"`: like `"a"` but the file must exist, and the position starts at 0.
pub struct Overlay<R: ReadLayer, W: WriteLayer> {
    read: R,
    write: W,
}

impl<R: ReadLayer, W: WriteLayer> fmt::Debug for Overlay<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overlay").finish_non_exhaustive()
    }
}

impl<R: ReadLayer, W: WriteLayer> Overlay<R, W> {
    /// Stacks `write` over `read`.
    pub fn new(read: R, write: W) -> Self {
        Overlay { read, write }
    }

    /// Gives back the two layers.
    pub fn into_parts(self) -> (R, W) {
        (self.read, self.write)
    }

    /// The base layer.
    pub fn read_layer(&self) -> &R {
        &self.read
    }

    /// The write layer.
    pub fn write_layer(&self) -> &W {
        &self.write
    }

    /// Opens for writing without truncating: the written file, else a copy of
    /// the base file, else (when `create`) a new file.
    fn open_existing_writable(&mut self, path: &str, create: bool) -> io::Result<Box<dyn VfsFile>> {
        if let Some(f) = self.write.open(path)? {
            return Ok(f);
        }
        match self.read.read(path)? {
            Some(content) => {
                let mut f = self.write.create(path)?;
                f.write_all(&content)?;
                f.seek(SeekFrom::Start(0))?;
                Ok(f)
            }
            None if create => self.write.create(path),
            None => Err(not_found(path)),
        }
    }
}

fn not_found(path: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{path}: no such file"))
}

impl<R: ReadLayer, W: WriteLayer> Vfs for Overlay<R, W> {
    fn open(&mut self, path: &str, mode: OpenMode) -> io::Result<Box<dyn VfsFile>> {
        if !mode.write {
            if let Some(f) = self.write.open(path)? {
                return Ok(Box::new(ReadOnly(f)));
            }
            return match self.read.read(path)? {
                Some(content) => Ok(Box::new(ReadOnly(Cursor::new(content)))),
                None => Err(not_found(path)),
            };
        }
        if mode.truncate {
            return self.write.create(path);
        }
        let mut f = self.open_existing_writable(path, mode.create)?;
        if mode.append {
            f.seek(SeekFrom::End(0))?;
            Ok(Box::new(Append(f)))
        } else {
            Ok(f)
        }
    }

    fn metadata(&mut self, path: &str) -> io::Result<Metadata> {
        let file = |size| Metadata {
            kind: EntryKind::File,
            size,
        };
        if !path.is_empty() {
            if let Some(mut f) = self.write.open(path)? {
                return Ok(file(f.seek(SeekFrom::End(0))?));
            }
            if let Some(size) = self.read.size(path)? {
                return Ok(file(size));
            }
        }
        if path.is_empty() || self.write.list(path)?.is_some() || self.read.list(path)?.is_some() {
            return Ok(Metadata {
                kind: EntryKind::Directory,
                size: 0,
            });
        }
        Err(not_found(path))
    }

    /// Removes a written file; a base file is read-only.
    fn remove(&mut self, path: &str) -> io::Result<()> {
        if self.write.remove(path)? {
            return Ok(());
        }
        match self.read.size(path)? {
            Some(_) => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{path}: read-only file"),
            )),
            None => Err(not_found(path)),
        }
    }

    /// Copies a written file to `to` and removes it; a base file is
    /// read-only and is refused before anything is written.
    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        let Some(mut f) = self.write.open(from)? else {
            return self.remove(from);
        };
        if from == to {
            return Ok(());
        }
        let mut content = Vec::new();
        f.read_to_end(&mut content)?;
        drop(f);
        self.write.create(to)?.write_all(&content)?;
        self.write.remove(from)?;
        Ok(())
    }

    fn list(&mut self, dir: &str) -> io::Result<Vec<DirEntry>> {
        let base = self.read.list(dir)?;
        let written = self.write.list(dir)?;
        if base.is_none() && written.is_none() {
            return Err(match self.metadata(dir) {
                Ok(_) => io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{dir}: not a directory"),
                ),
                Err(e) => e,
            });
        }
        // A written file shadows a base file of the same name.
        let mut merged = BTreeMap::new();
        for entry in base
            .into_iter()
            .flatten()
            .chain(written.into_iter().flatten())
        {
            merged.insert(entry.name, entry.kind);
        }
        Ok(merged
            .into_iter()
            .map(|(name, kind)| DirEntry { name, kind })
            .collect())
    }
}

/// A handle that refuses writes.
struct ReadOnly<F>(F);

impl<F: Read> Read for ReadOnly<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<F> Write for ReadOnly<F> {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::Error::from_raw_os_error(9)) // EBADF, as C's fwrite on an "r" stream
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<F: Seek> Seek for ReadOnly<F> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

/// A handle whose every write goes to the end of the file.
struct Append<F>(F);

impl<F: Read> Read for Append<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<F: Write + Seek> Write for Append<F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.seek(SeekFrom::End(0))?;
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<F: Seek> Seek for Append<F> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

/// A [`ReadLayer`] of in-memory files keyed by normalized path.
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles(pub BTreeMap<String, Vec<u8>>);

impl MemoryFiles {
    /// Serves `files` (keys are normalized paths such as `"lib/util.lua"`).
    pub fn new(files: BTreeMap<String, Vec<u8>>) -> Self {
        MemoryFiles(files)
    }
}

impl ReadLayer for MemoryFiles {
    fn read(&mut self, path: &str) -> io::Result<Option<Vec<u8>>> {
        Ok(self.0.get(path).cloned())
    }

    fn size(&mut self, path: &str) -> io::Result<Option<u64>> {
        Ok(self.0.get(path).map(|content| content.len() as u64))
    }

    fn list(&mut self, dir: &str) -> io::Result<Option<Vec<DirEntry>>> {
        Ok(list_keys(&self.0, dir))
    }
}

type SharedBytes = Arc<Mutex<Vec<u8>>>;

fn lock(bytes: &Mutex<Vec<u8>>) -> MutexGuard<'_, Vec<u8>> {
    bytes.lock().unwrap_or_else(|e| e.into_inner())
}

/// A [`WriteLayer`] keeping written files in memory. Clones share the files.
#[derive(Debug, Clone, Default)]
pub struct MemoryWrites {
    files: Arc<Mutex<BTreeMap<String, SharedBytes>>>,
}

impl MemoryWrites {
    /// No files written yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The contents of every file written so far.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files
            .iter()
            .map(|(k, v)| (k.clone(), lock(v).clone()))
            .collect()
    }
}

impl WriteLayer for MemoryWrites {
    fn create(&mut self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let data = files.entry(path.to_owned()).or_default().clone();
        lock(&data).clear();
        Ok(Box::new(MemoryHandle { data, pos: 0 }))
    }

    fn open(&mut self, path: &str) -> io::Result<Option<Box<dyn VfsFile>>> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        Ok(files.get(path).map(|data| {
            Box::new(MemoryHandle {
                data: data.clone(),
                pos: 0,
            }) as Box<dyn VfsFile>
        }))
    }

    fn list(&mut self, dir: &str) -> io::Result<Option<Vec<DirEntry>>> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        Ok(list_keys(&files, dir))
    }

    fn remove(&mut self, path: &str) -> io::Result<bool> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        Ok(files.remove(path).is_some())
    }
}

/// A handle on a [`MemoryWrites`] file.
struct MemoryHandle {
    data: SharedBytes,
    pos: u64,
}

impl Read for MemoryHandle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let data = lock(&self.data);
        let start = usize::try_from(self.pos)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Write for MemoryHandle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut data = lock(&self.data);
        let start = usize::try_from(self.pos)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "position too large"))?;
        let end = start
            .checked_add(buf.len())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "position too large"))?;
        if data.len() < end {
            data.resize(end, 0);
        }
        data[start..end].copy_from_slice(buf);
        self.pos = end as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for MemoryHandle {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let len = lock(&self.data).len() as i128;
        let new = match pos {
            SeekFrom::Start(n) => i128::from(n),
            SeekFrom::End(d) => len + i128::from(d),
            SeekFrom::Current(d) => i128::from(self.pos) + i128::from(d),
        };
        if new < 0 {
            return Err(io::Error::from_raw_os_error(22)); // EINVAL
        }
        self.pos = u64::try_from(new).map_err(|_| io::Error::from_raw_os_error(22))?;
        Ok(self.pos)
    }
}

/// Joins a normalized VFS path to `root`, refusing anything that is not a
/// plain relative path.
fn join_checked(root: &Path, path: &str) -> io::Result<PathBuf> {
    let normalized = normalize(path)?;
    if normalized != path {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("path is not normalized: {path}"),
        ));
    }
    Ok(root.join(normalized))
}

/// Fails unless `real` (a canonical path) lies under the canonical `root`.
fn check_inside(root: &Path, real: &Path, path: &str) -> io::Result<()> {
    let root = root.canonicalize()?;
    if real.starts_with(&root) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("path resolves outside the root: {path}"),
        ))
    }
}

/// A [`ReadLayer`] over a host directory. Refuses anything resolving outside
/// the directory, symbolic links included.
#[derive(Debug, Clone)]
pub struct DirReader {
    root: PathBuf,
}

impl DirReader {
    /// Serves the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirReader { root: root.into() }
    }
}

impl ReadLayer for DirReader {
    fn read(&mut self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let full = join_checked(&self.root, path)?;
        let real = match full.canonicalize() {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        check_inside(&self.root, &real, path)?;
        if !real.is_file() {
            return Ok(None);
        }
        fs::read(&real).map(Some)
    }

    fn list(&mut self, dir: &str) -> io::Result<Option<Vec<DirEntry>>> {
        list_host_dir(&self.root, dir)
    }
}

/// The entries of `dir` under the host directory `root`, or `None` when it
/// is not a directory there. Symbolic links are listed as what they point
/// to, and left out when that lies outside `root`.
fn list_host_dir(root: &Path, dir: &str) -> io::Result<Option<Vec<DirEntry>>> {
    let full = if dir.is_empty() {
        root.to_path_buf()
    } else {
        join_checked(root, dir)?
    };
    let real = match full.canonicalize() {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    check_inside(root, &real, dir)?;
    if !real.is_dir() {
        return Ok(None);
    }
    let root = root.canonicalize()?;
    let mut entries = Vec::new();
    for entry in fs::read_dir(&real)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not a name a script can spell
        };
        let Ok(target) = entry.path().canonicalize() else {
            continue; // a dangling link
        };
        if !target.starts_with(&root) {
            continue;
        }
        let kind = if target.is_dir() {
            EntryKind::Directory
        } else {
            EntryKind::File
        };
        entries.push(DirEntry { name, kind });
    }
    entries.sort();
    Ok(Some(entries))
}

/// A [`WriteLayer`] over a host scratch directory; parent directories are
/// created as needed. Refuses anything resolving outside the directory.
#[derive(Debug, Clone)]
pub struct DirWriter {
    root: PathBuf,
}

impl DirWriter {
    /// Writes files under `root` (which must exist).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirWriter { root: root.into() }
    }

    /// Checks that the parent of `full` is inside the root and that `full`
    /// itself is not a symbolic link.
    fn check(&self, full: &Path, path: &str) -> io::Result<()> {
        let parent = full.parent().unwrap_or(&self.root).canonicalize()?;
        check_inside(&self.root, &parent, path)?;
        match fs::symlink_metadata(full) {
            Ok(meta) if meta.file_type().is_symlink() => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("refusing to write through a symbolic link: {path}"),
            )),
            _ => Ok(()),
        }
    }
}

impl WriteLayer for DirWriter {
    fn create(&mut self, path: &str) -> io::Result<Box<dyn VfsFile>> {
        let full = join_checked(&self.root, path)?;
        if let Some(parent) = full.parent() {
            // Refuse before creating anything if an existing ancestor escapes.
            let mut existing = parent;
            while !existing.exists() {
                match existing.parent() {
                    Some(up) if existing != self.root => existing = up,
                    _ => {
                        return Err(io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("write root {} does not exist", self.root.display()),
                        ));
                    }
                }
            }
            check_inside(&self.root, &existing.canonicalize()?, path)?;
            fs::create_dir_all(parent)?;
        }
        self.check(&full, path)?;
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&full)?;
        Ok(Box::new(f))
    }

    fn open(&mut self, path: &str) -> io::Result<Option<Box<dyn VfsFile>>> {
        let full = join_checked(&self.root, path)?;
        match fs::symlink_metadata(&full) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
            Ok(meta) if meta.is_dir() => return Ok(None),
            Ok(_) => {}
        }
        self.check(&full, path)?;
        let f = fs::OpenOptions::new().read(true).write(true).open(&full)?;
        Ok(Some(Box::new(f)))
    }

    fn list(&mut self, dir: &str) -> io::Result<Option<Vec<DirEntry>>> {
        list_host_dir(&self.root, dir)
    }

    fn remove(&mut self, path: &str) -> io::Result<bool> {
        let full = join_checked(&self.root, path)?;
        match fs::symlink_metadata(&full) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
            Ok(meta) if meta.is_dir() => return Ok(false),
            Ok(_) => {}
        }
        self.check(&full, path)?;
        fs::remove_file(&full)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_plain_paths() {
        assert_eq!(normalize("./a/../b.lua").unwrap(), "b.lua");
        assert_eq!(normalize("a//b").unwrap(), "a/b");
        assert_eq!(normalize("a/./b/").unwrap(), "a/b");
        assert_eq!(
            normalize("lib/x/../helpers.lua").unwrap(),
            "lib/helpers.lua"
        );
    }

    #[test]
    fn normalize_refuses_escapes() {
        for bad in ["../x", "/etc/passwd", "a/../../x", "./..", "a/b/../../../c"] {
            let err = normalize(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{bad}");
        }
        for bad in ["", ".", "a/..", "a\0b"] {
            let err = normalize(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn open_mode_parse() {
        let r = OpenMode::parse("r").unwrap();
        assert!(r.read && !r.write && !r.create);
        let w = OpenMode::parse("wb").unwrap();
        assert!(w.write && w.truncate && w.create && !w.read);
        let a = OpenMode::parse("a+").unwrap();
        assert!(a.read && a.write && a.append && a.create && !a.truncate);
        let rp = OpenMode::parse("r+b").unwrap();
        assert!(rp.read && rp.write && !rp.create && !rp.truncate);
        for bad in ["", "x", "rw", "r+x", "+r", "b"] {
            assert_eq!(OpenMode::parse(bad), None, "{bad}");
        }
    }

    fn overlay() -> Overlay<MemoryFiles, MemoryWrites> {
        let mut base = BTreeMap::new();
        base.insert("data.txt".to_owned(), b"base".to_vec());
        Overlay::new(MemoryFiles::new(base), MemoryWrites::new())
    }

    fn read_all(f: &mut dyn VfsFile) -> String {
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn overlay_semantics() {
        let mut vfs = overlay();
        let m = |s| OpenMode::parse(s).unwrap();
        // r: base, read-only
        let mut f = vfs.open("data.txt", m("r")).unwrap();
        assert_eq!(read_all(&mut *f), "base");
        assert!(f.write(b"x").is_err());
        assert_eq!(
            vfs.open("missing", m("r")).err().unwrap().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            vfs.open("missing", m("r+")).err().unwrap().kind(),
            io::ErrorKind::NotFound
        );
        // a: copies base, appends
        let mut f = vfs.open("data.txt", m("a")).unwrap();
        f.write_all(b"+more").unwrap();
        drop(f);
        let mut f = vfs.open("data.txt", m("r")).unwrap();
        assert_eq!(read_all(&mut *f), "base+more");
        // r+: position 0, overwrite in place
        let mut f = vfs.open("data.txt", m("r+")).unwrap();
        f.write_all(b"B").unwrap();
        drop(f);
        // w: truncates
        let mut f = vfs.open("new/out.txt", m("w")).unwrap();
        f.write_all(b"hello").unwrap();
        drop(f);
        let (_, writes) = vfs.into_parts();
        let files = writes.files();
        assert_eq!(files["data.txt"], b"Base+more");
        assert_eq!(files["new/out.txt"], b"hello");
    }

    #[test]
    fn remove_and_rename_written_files_only() {
        let mut vfs = overlay();
        let m = |s| OpenMode::parse(s).unwrap();
        vfs.open("t.txt", m("w"))
            .unwrap()
            .write_all(b"tmp")
            .unwrap();
        vfs.rename("t.txt", "u.txt").unwrap();
        assert_eq!(
            vfs.open("t.txt", m("r")).err().unwrap().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(read_all(&mut *vfs.open("u.txt", m("r")).unwrap()), "tmp");
        vfs.remove("u.txt").unwrap();
        assert_eq!(
            vfs.remove("u.txt").err().unwrap().kind(),
            io::ErrorKind::NotFound
        );
        // The bundle's files are read-only.
        for e in [vfs.remove("data.txt"), vfs.rename("data.txt", "x")] {
            assert_eq!(e.err().unwrap().kind(), io::ErrorKind::PermissionDenied);
        }
        assert_eq!(
            read_all(&mut *vfs.open("data.txt", m("r")).unwrap()),
            "base"
        );
        let (_, writes) = vfs.into_parts();
        assert!(writes.files().is_empty());
    }

    #[test]
    fn listing_and_metadata_merge_the_layers() {
        let mut base = BTreeMap::new();
        for (path, content) in [("a.txt", "12345"), ("lib/x.lua", ""), ("lib/sub/y", "")] {
            base.insert(path.to_owned(), content.as_bytes().to_vec());
        }
        let mut vfs = Overlay::new(MemoryFiles::new(base), MemoryWrites::new());
        let w = OpenMode::parse("w").unwrap();
        vfs.open("lib/new.txt", w)
            .unwrap()
            .write_all(b"abc")
            .unwrap();
        vfs.open("a.txt", w).unwrap().write_all(b"1").unwrap();
        vfs.open("out/r.csv", w).unwrap();
        let names = |entries: Vec<DirEntry>| {
            entries
                .into_iter()
                .map(|e| match e.kind {
                    EntryKind::File => e.name,
                    EntryKind::Directory => format!("{}/", e.name),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(names(vfs.list("").unwrap()), ["a.txt", "lib/", "out/"]);
        assert_eq!(
            names(vfs.list("lib").unwrap()),
            ["new.txt", "sub/", "x.lua"]
        );
        assert_eq!(names(vfs.list("out").unwrap()), ["r.csv"]);
        let kind = |r: io::Result<Vec<DirEntry>>| r.unwrap_err().kind();
        assert_eq!(kind(vfs.list("nope")), io::ErrorKind::NotFound);
        assert_eq!(kind(vfs.list("a.txt")), io::ErrorKind::NotADirectory);
        // The written a.txt shadows the base one.
        assert_eq!(vfs.metadata("a.txt").unwrap().size, 1);
        assert_eq!(vfs.metadata("lib/new.txt").unwrap().size, 3);
        assert_eq!(vfs.metadata("lib/sub").unwrap().kind, EntryKind::Directory);
        assert_eq!(vfs.metadata("").unwrap().kind, EntryKind::Directory);
        assert_eq!(
            vfs.metadata("lib/s").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        // A name sharing a prefix with a directory is not inside it.
        assert_eq!(
            list_keys(&BTreeMap::from([("ab/c".to_owned(), ())]), "a"),
            None
        );
    }

    #[test]
    fn normalize_dir_names_the_root() {
        for root in ["", ".", "./", "a/.."] {
            assert_eq!(normalize_dir(root).unwrap(), "", "{root:?}");
        }
        assert_eq!(normalize_dir("a/./b/").unwrap(), "a/b");
        assert!(normalize_dir("..").is_err());
        assert!(normalize_dir("a\0").is_err());
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("shield-engine-vfs-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn dir_layers_refuse_symlink_escapes() {
        let base = scratch("base");
        let out = scratch("out");
        let outside = scratch("outside");
        fs::write(outside.join("secret"), b"secret").unwrap();
        fs::write(base.join("ok.txt"), b"ok").unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), base.join("link")).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("dirlink")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), out.join("filelink")).unwrap();

        let mut reader = DirReader::new(&base);
        assert_eq!(reader.read("ok.txt").unwrap().unwrap(), b"ok");
        // The link to a file outside is not listed.
        let listed = reader.list("").unwrap().unwrap();
        assert_eq!(
            listed,
            [DirEntry {
                name: "ok.txt".into(),
                kind: EntryKind::File
            }]
        );
        assert_eq!(reader.list("ok.txt").unwrap(), None);
        assert_eq!(reader.read("nope").unwrap(), None);
        assert_eq!(
            reader.read("link").unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        assert!(reader.read("../outside/secret").is_err());

        let mut writer = DirWriter::new(&out);
        writer
            .create("sub/dir/f.txt")
            .unwrap()
            .write_all(b"x")
            .unwrap();
        assert_eq!(fs::read(out.join("sub/dir/f.txt")).unwrap(), b"x");
        assert!(writer.create("dirlink/evil").is_err());
        assert!(writer.create("filelink").is_err());
        assert!(writer.open("filelink").is_err());
        assert_eq!(fs::read(outside.join("secret")).unwrap(), b"secret");
        let mut missing = DirWriter::new(out.join("no-such-root"));
        assert!(missing.create("a/b.txt").is_err());
        assert!(!out.join("no-such-root").exists());
        assert!(!outside.join("evil").exists());
        for d in [base, out, outside] {
            let _ = fs::remove_dir_all(d);
        }
    }
}
