//! Harness for the services tests: the generated untrusted bridge of
//! `services.edl`, a host that stores protected-file nodes in a directory
//! (one file per protected file, node `i` at offset `i * 4096`, so tests can
//! flip, truncate and replay the real bytes on disk between ECALLs), and
//! that can be told to lie in its answers.
#![forbid(unsafe_code)]

pub mod bridge {
    //! Generated from `tests/services/services.edl`, untrusted side.
    #![allow(unreachable_pub, missing_docs, dead_code, clippy::too_many_arguments)]
    include!(concat!(env!("OUT_DIR"), "/services_u.rs"));
}

use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use shield_edl::wire::Limits;
use shield_host::{Enclave, EnclaveBuilder};

/// Node size of protected files.
pub const NODE_SIZE: u64 = 4096;

/// The test enclave binary.
pub fn enclave_binary() -> PathBuf {
    PathBuf::from(env!("SERVICES_TEST_ENCLAVE"))
}

/// One lie the host tells in place of a true answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lie {
    /// Says the node does not exist.
    Missing,
    /// Returns only this many bytes of the node.
    ShortRead(u64),
    /// Claims this many bytes (more than the buffer).
    LongRead(u64),
    /// Fills the node with this byte.
    Garbage(u8),
    /// A status outside the protocol.
    BadStatus(i32),
    /// A wrong node count.
    Count(u64),
    /// Pretends to write but does not.
    DropWrite,
}

/// The host's OCALLs: node storage in `dir`, with scripted lies.
#[derive(Debug)]
pub struct TestHost {
    dir: PathBuf,
    lies: Mutex<VecDeque<Lie>>,
}

impl TestHost {
    /// Where the protected file `name` lives on disk.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pf"))
    }

    /// Queues lies, told one per OCALL in order (OCALLs a lie does not fit
    /// answer truthfully and consume it).
    pub fn lie(&self, lies: &[Lie]) {
        self.lies.lock().unwrap().extend(lies.iter().copied());
    }

    fn next_lie(&self) -> Option<Lie> {
        self.lies.lock().unwrap().pop_front()
    }

    fn read(&self, name: &str, index: u64, buf: &mut [u8]) -> std::io::Result<Option<u64>> {
        let Ok(mut file) = std::fs::File::open(self.path(name)) else {
            return Ok(None);
        };
        let len = file.metadata()?.len();
        let start = index.saturating_mul(NODE_SIZE);
        if start >= len {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(start))?;
        let n = (len - start).min(buf.len() as u64) as usize;
        file.read_exact(&mut buf[..n])?;
        Ok(Some(n as u64))
    }
}

impl bridge::Ocalls for TestHost {
    fn ocall_read_node(&self, name: &str, index: u64, buf: &mut [u8], len: &mut u64) -> i32 {
        let truth = match self.read(name, index, buf) {
            Ok(t) => t,
            Err(_) => return -1,
        };
        match (self.next_lie(), truth) {
            (Some(Lie::Missing), _) => 0,
            (Some(Lie::ShortRead(n)), Some(real)) => {
                *len = n.min(real);
                1
            }
            (Some(Lie::LongRead(n)), Some(_)) => {
                *len = n;
                1
            }
            (Some(Lie::Garbage(b)), _) => {
                buf.fill(b);
                *len = buf.len() as u64;
                1
            }
            (Some(Lie::BadStatus(s)), _) => s,
            (_, Some(real)) => {
                *len = real;
                1
            }
            (_, None) => 0,
        }
    }

    fn ocall_write_node(&self, name: &str, index: u64, node: &[u8]) -> i32 {
        match self.next_lie() {
            Some(Lie::DropWrite) => return 0,
            Some(Lie::BadStatus(s)) => return s,
            _ => {}
        }
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(self.path(name))?;
            file.seek(SeekFrom::Start(index.saturating_mul(NODE_SIZE)))?;
            file.write_all(node)
        };
        if write().is_ok() { 0 } else { -1 }
    }

    fn ocall_truncate_nodes(&self, name: &str, count: u64) -> i32 {
        if let Some(Lie::BadStatus(s)) = self.next_lie() {
            return s;
        }
        let truncate = || -> std::io::Result<()> {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(self.path(name))?;
            let len = file.metadata()?.len();
            file.set_len(len.min(count.saturating_mul(NODE_SIZE)))
        };
        if truncate().is_ok() { 0 } else { -1 }
    }

    fn ocall_node_count(&self, name: &str, count: &mut u64) -> i32 {
        let truth = std::fs::metadata(self.path(name))
            .map(|m| m.len().div_ceil(NODE_SIZE))
            .unwrap_or(0);
        match self.next_lie() {
            Some(Lie::Count(n)) => *count = n,
            Some(Lie::BadStatus(s)) => return s,
            _ => *count = truth,
        }
        0
    }
}

/// Launches the test enclave, its platform secret in `state` and its
/// protected files in `state/files`.
pub fn launch(state: &Path) -> shield_host::Result<(Arc<Enclave>, Arc<TestHost>)> {
    launch_as(state, enclave_binary())
}

/// [`launch`] for another enclave binary built from the same crate.
pub fn launch_as(
    state: &Path,
    binary: PathBuf,
) -> shield_host::Result<(Arc<Enclave>, Arc<TestHost>)> {
    let dir = state.join("files");
    std::fs::create_dir_all(&dir).map_err(|source| shield_host::Error::Io {
        path: dir.clone(),
        source,
    })?;
    let host = Arc::new(TestHost {
        dir,
        lies: Mutex::new(VecDeque::new()),
    });
    let ocalls = host.clone();
    let builder = EnclaveBuilder::new(binary).platform_secret(state.join("platform.secret"));
    let enclave = Arc::new(builder.launch(move |index: u32, request: &[u8]| {
        bridge::dispatch_ocall(&*ocalls, index, request, Limits::default())
    })?);
    Ok((enclave, host))
}
