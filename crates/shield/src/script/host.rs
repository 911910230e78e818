//! The host's side of `script.edl`: it serves the bundle, stores the
//! result and the encrypted nodes of the files the script writes, tells the
//! time, and in development mode passes files and output through.
//!
//! With a trace file, every OCALL request the enclave sends (its encoded
//! arguments, byte for byte) is appended to it: that is all the host gets
//! from a run besides the result and its timing.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use shield_edl::wire::Limits;
use shield_host::{Enclave, EnclaveBuilder, LaunchMode};

use super::bridge;

/// Node size of the script's protected files.
const NODE: u64 = 4096;

/// What one launch of a script enclave is given.
#[derive(Debug, Default)]
pub(crate) struct ScriptHost {
    /// The bundle being run: the bytes read and checked, not the file
    /// again (which may have changed since, or be a FIFO now).
    pub(crate) bundle: Option<Vec<u8>>,
    /// Where the result goes.
    pub(crate) result: Option<Mutex<File>>,
    /// Where protected-file nodes go (one file per protected file).
    pub(crate) nodes: Option<PathBuf>,
    /// Development mode: the script's directory.
    pub(crate) dev_root: Option<PathBuf>,
    /// Every OCALL request, appended.
    pub(crate) trace: Option<Mutex<File>>,
    pub(crate) started: Option<Instant>,
    /// Development mode in tests: stdin from, and output into, memory
    /// instead of this process's own streams.
    #[cfg(test)]
    pub(crate) captured: Option<Mutex<Captured>>,
}

/// A development-mode run's streams, in memory (tests).
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Captured {
    /// What the script reads; consumed from the front.
    pub(crate) stdin: std::collections::VecDeque<u8>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A launched script enclave, stopped if a signal ends this process.
#[derive(Debug)]
pub(crate) struct Launched {
    // First: unregistered before the enclave's drop reaps its process.
    _stop: crate::interrupt::EnclaveGuard,
    pub(crate) enclave: Enclave,
}

impl ScriptHost {
    /// Launches the enclave binary at `binary` with this host.
    pub(crate) fn launch(self, binary: &Path) -> Result<Launched> {
        self.launch_in(binary, LaunchMode::Production)
    }

    /// Launches a development enclave (signed with DEBUG set) as such.
    pub(crate) fn launch_debug(self, binary: &Path) -> Result<Launched> {
        self.launch_in(binary, LaunchMode::Debug)
    }

    fn launch_in(self, binary: &Path, mode: LaunchMode) -> Result<Launched> {
        let host = Arc::new(ScriptHost {
            started: Some(Instant::now()),
            ..self
        });
        EnclaveBuilder::new(binary)
            .mode(mode)
            .launch(move |index: u32, request: &[u8]| {
                if let Some(trace) = &host.trace {
                    let mut trace = lock(trace);
                    // A trace is evidence, not the job: a failed write must
                    // not stop the run, and is visible as a short trace.
                    let _ = writeln!(trace, "== OCALL {index}, {} bytes", request.len())
                        .and_then(|()| trace.write_all(request))
                        .and_then(|()| trace.write_all(b"\n"));
                }
                bridge::dispatch_ocall(&*host, index, request, Limits::default())
            })
            .with_context(|| format!("launching the script enclave {}", binary.display()))
            .map(|enclave| Launched {
                _stop: crate::interrupt::EnclaveGuard::new(enclave.process_id()),
                enclave,
            })
    }

    fn node_file(&self, file: u64, create: bool) -> Option<File> {
        let dir = self.nodes.as_ref()?;
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(dir.join(format!("{file}.nodes")))
            .ok()
    }

    /// Development mode: `path` under the script's directory, or `None` if
    /// it would leave it.
    fn dev_path(&self, path: &str) -> Option<PathBuf> {
        let root = self.dev_root.as_ref()?.canonicalize().ok()?;
        let normalized = shield_engine::vfs::normalize(path).ok()?;
        let full = root.join(normalized);
        match full.canonicalize() {
            Ok(real) if real.starts_with(&root) => Some(real),
            Ok(_) => None,
            // Not there: say so (status 0), inside the root by construction.
            Err(_) => Some(full),
        }
    }
}

/// Reads up to `buf.len()` bytes at `offset`; the count read.
fn read_at(file: &mut File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    file.seek(SeekFrom::Start(offset))?;
    let mut done = 0;
    while done < buf.len() {
        match file.read(&mut buf[done..])? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

impl bridge::Ocalls for ScriptHost {
    fn ocall_read_bundle(&self, offset: u64, buf: &mut [u8], got: &mut u64) -> i32 {
        let Some(bundle) = &self.bundle else {
            return -1;
        };
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|start| bundle.get(start..))
            .unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        *got = n as u64;
        0
    }

    fn ocall_write_result(&self, data: &[u8]) -> i32 {
        match &self.result {
            Some(result) if lock(result).write_all(data).is_ok() => 0,
            _ => -1,
        }
    }

    fn ocall_read_node(&self, file: u64, index: u64, buf: &mut [u8], len: &mut u64) -> i32 {
        let Some(mut f) = self.node_file(file, false) else {
            return 0;
        };
        let Some(offset) = index.checked_mul(NODE) else {
            return -1;
        };
        match read_at(&mut f, offset, buf) {
            Ok(0) => 0,
            Ok(n) => {
                *len = n as u64;
                1
            }
            Err(_) => -1,
        }
    }

    fn ocall_write_node(&self, file: u64, index: u64, node: &[u8]) -> i32 {
        let (Some(mut f), Some(offset)) = (self.node_file(file, true), index.checked_mul(NODE))
        else {
            return -1;
        };
        match f
            .seek(SeekFrom::Start(offset))
            .and_then(|_| f.write_all(node))
        {
            Ok(()) => 0,
            Err(_) => -1,
        }
    }

    fn ocall_truncate_nodes(&self, file: u64, count: u64) -> i32 {
        let (Some(f), Some(len)) = (self.node_file(file, true), count.checked_mul(NODE)) else {
            return -1;
        };
        let current = f.metadata().map(|m| m.len()).unwrap_or(0);
        match f.set_len(current.min(len)) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    }

    fn ocall_node_count(&self, file: u64, count: &mut u64) -> i32 {
        *count = self
            .node_file(file, false)
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len().div_ceil(NODE));
        0
    }

    fn ocall_unix_time(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }

    fn ocall_cpu_nanos(&self) -> u64 {
        // The enclave's run time by the host's clock (os.clock).
        self.started.map_or(0, |t| {
            u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
        })
    }

    fn ocall_dev_read_file(&self, path: &str, offset: u64, buf: &mut [u8], got: &mut u64) -> i32 {
        let Some(full) = self.dev_path(path) else {
            return -13;
        };
        let mut file = match File::open(&full) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return 0,
            Err(_) => return -13,
        };
        // A directory is no file: "nothing there", so the enclave's VFS
        // goes on to list it.
        match file.metadata() {
            Ok(meta) if meta.is_dir() => return 0,
            Ok(_) => {}
            Err(_) => return -13,
        }
        match read_at(&mut file, offset, buf) {
            Ok(n) => {
                *got = n as u64;
                1
            }
            Err(_) => -13,
        }
    }

    fn ocall_dev_list_dir(&self, path: &str, offset: u64, buf: &mut [u8], got: &mut u64) -> i32 {
        use shield_engine::vfs::{EntryKind, ReadLayer};
        let Some(root) = &self.dev_root else {
            return -13;
        };
        let Ok(dir) = shield_engine::vfs::normalize_dir(path) else {
            return -13;
        };
        let entries = match shield_engine::vfs::DirReader::new(root).list(&dir) {
            Ok(Some(entries)) => entries,
            Ok(None) => return 0,
            Err(_) => return -13,
        };
        let mut listing = Vec::new();
        for entry in entries {
            listing.push(match entry.kind {
                EntryKind::File => b'f',
                EntryKind::Directory => b'd',
            });
            listing.extend_from_slice(entry.name.as_bytes());
            listing.push(0);
        }
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|start| listing.get(start..))
            .unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        *got = n as u64;
        1
    }

    fn ocall_dev_stdin(&self, buf: &mut [u8], got: &mut u64) -> i32 {
        if self.dev_root.is_none() {
            return -1;
        }
        #[cfg(test)]
        if let Some(captured) = &self.captured {
            let n = lock(captured).stdin.read(buf).unwrap_or(0);
            *got = n as u64;
            return 0;
        }
        match std::io::stdin().lock().read(buf) {
            Ok(n) => {
                *got = n as u64;
                0
            }
            Err(_) => -1,
        }
    }

    fn ocall_dev_output(&self, fd: i32, data: &[u8]) -> i32 {
        if self.dev_root.is_none() {
            return -1;
        }
        #[cfg(test)]
        if let Some(captured) = &self.captured {
            let mut captured = lock(captured);
            match fd {
                1 => captured.stdout.extend_from_slice(data),
                2 => captured.stderr.extend_from_slice(data),
                _ => return -1,
            }
            return 0;
        }
        let written = match fd {
            1 => {
                let mut out = std::io::stdout().lock();
                out.write_all(data).and_then(|()| out.flush())
            }
            2 => std::io::stderr().lock().write_all(data),
            _ => return -1,
        };
        if written.is_ok() { 0 } else { -1 }
    }
}
