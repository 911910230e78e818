//! Everything that reaches the host, through the OCALLs of `script.edl`
//! made on the current TCS. Every answer is checked: the host may lie.

use std::io;

use shield_enclave::CurrentTcs;
use shield_enclave::services::pfs::{NODE_SIZE, NodeStore};
use shield_enclave::services::{self, Error};
use shield_enclave::wire::Limits;

use crate::bridge::OcallProxy;

/// Bytes moved per OCALL when reading or writing large data.
pub(crate) const CHUNK: usize = 1 << 20;

fn host() -> OcallProxy<'static> {
    OcallProxy::new(&CurrentTcs, Limits::default())
}

/// Reads `len` bytes of the bundle, the host serving them `CHUNK` at a time.
pub(crate) fn read_bundle(len: usize) -> Result<Vec<u8>, String> {
    let mut bundle = Vec::new();
    bundle
        .try_reserve_exact(len)
        .map_err(|_| format!("no memory for a {len}-byte bundle"))?;
    let mut buf = vec![0u8; CHUNK.min(len)];
    while bundle.len() < len {
        let want = (len - bundle.len()).min(CHUNK);
        let mut got = 0u64;
        let status = host()
            .ocall_read_bundle(bundle.len() as u64, &mut buf[..want], &mut got)
            .map_err(|e| format!("reading the bundle: {e}"))?;
        let got = usize::try_from(got).unwrap_or(usize::MAX);
        if status != 0 || got == 0 || got > want {
            return Err(format!(
                "the host's bundle ended at byte {} of {len}",
                bundle.len()
            ));
        }
        bundle.extend_from_slice(&buf[..got]);
    }
    Ok(bundle)
}

/// Sends the (encrypted, signed) result to the host.
pub(crate) fn write_result(result: &[u8]) -> Result<(), String> {
    for piece in result.chunks(CHUNK) {
        match host().ocall_write_result(piece) {
            Ok(0) => {}
            Ok(status) => return Err(format!("the host could not store the result ({status})")),
            Err(e) => return Err(format!("writing the result: {e}")),
        }
    }
    Ok(())
}

/// The host's clock: untrusted, and documented so to script authors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostClock;

impl shield_engine::Clock for HostClock {
    fn unix_time(&self) -> i64 {
        host().ocall_unix_time().unwrap_or(0)
    }

    fn cpu_seconds(&self) -> f64 {
        host().ocall_cpu_nanos().unwrap_or(0) as f64 / 1e9
    }
}

/// The encrypted nodes of protected file number `file`, kept by the host.
#[derive(Debug)]
pub(crate) struct HostNodes {
    pub(crate) file: u64,
}

fn store_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Store(format!("{what}: {e}"))
}

impl NodeStore for HostNodes {
    fn read_node(&mut self, index: u64) -> services::Result<Option<Vec<u8>>> {
        let mut buf = vec![0u8; NODE_SIZE];
        let mut len = 0u64;
        match host().ocall_read_node(self.file, index, &mut buf, &mut len) {
            Ok(0) => Ok(None),
            Ok(1) if len <= NODE_SIZE as u64 => {
                buf.truncate(len as usize);
                Ok(Some(buf))
            }
            Ok(1) => Err(store_error("read_node", format!("host claims {len} bytes"))),
            Ok(status) => Err(store_error("read_node", format!("status {status}"))),
            Err(e) => Err(store_error("read_node", e)),
        }
    }

    fn write_node(&mut self, index: u64, node: &[u8]) -> services::Result<()> {
        match host().ocall_write_node(self.file, index, node) {
            Ok(0) => Ok(()),
            Ok(status) => Err(store_error("write_node", format!("status {status}"))),
            Err(e) => Err(store_error("write_node", e)),
        }
    }

    fn truncate(&mut self, count: u64) -> services::Result<()> {
        match host().ocall_truncate_nodes(self.file, count) {
            Ok(0) => Ok(()),
            Ok(status) => Err(store_error("truncate", format!("status {status}"))),
            Err(e) => Err(store_error("truncate", e)),
        }
    }

    fn node_count(&mut self) -> services::Result<u64> {
        let mut count = 0;
        match host().ocall_node_count(self.file, &mut count) {
            Ok(0) => Ok(count),
            Ok(status) => Err(store_error("node_count", format!("status {status}"))),
            Err(e) => Err(store_error("node_count", e)),
        }
    }
}

/// Development mode: the files of the host's script directory, plaintext.
#[derive(Debug)]
pub(crate) struct HostDirectory {
    /// Largest file read.
    pub(crate) max_file: u64,
}

impl shield_engine::vfs::ReadLayer for HostDirectory {
    fn read(&mut self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let mut data = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let mut got = 0u64;
            let status = host()
                .ocall_dev_read_file(path, data.len() as u64, &mut buf, &mut got)
                .map_err(io::Error::other)?;
            match status {
                0 if data.is_empty() => return Ok(None),
                0 | 1 => {}
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("{path}: the host refused to read it"),
                    ));
                }
            }
            let got = usize::try_from(got)
                .ok()
                .filter(|&g| g <= buf.len())
                .ok_or_else(|| io::Error::other("the host returned more than asked"))?;
            if data.len() as u64 + got as u64 > self.max_file {
                return Err(io::Error::other(format!(
                    "{path} is larger than {} bytes",
                    self.max_file
                )));
            }
            data.extend_from_slice(&buf[..got]);
            if got < buf.len() {
                return Ok(Some(data));
            }
        }
    }
}

/// Development mode: the host's stdin.
#[derive(Debug)]
pub(crate) struct HostStdin;

impl io::Read for HostStdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(64 * 1024);
        let mut got = 0u64;
        let status = host()
            .ocall_dev_stdin(&mut buf[..want], &mut got)
            .map_err(io::Error::other)?;
        match usize::try_from(got) {
            Ok(got) if status == 0 && got <= want => Ok(got),
            _ => Err(io::Error::other("the host's stdin answer is invalid")),
        }
    }
}

/// Development mode: the host's stdout (fd 1) or stderr (fd 2), buffered so
/// that a chatty script does not make one OCALL per `print`.
#[derive(Debug)]
pub(crate) struct HostOutput {
    fd: i32,
    buffer: Vec<u8>,
    limit: usize,
}

impl HostOutput {
    /// Stdout is block-buffered (as C Lua's is into a pipe), stderr not.
    pub(crate) fn new(fd: i32) -> Self {
        let limit = if fd == 1 { 64 * 1024 } else { 0 };
        Self {
            fd,
            buffer: Vec::new(),
            limit,
        }
    }
}

impl io::Write for HostOutput {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() > self.limit {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        for piece in self.buffer.chunks(CHUNK) {
            match host().ocall_dev_output(self.fd, piece) {
                Ok(0) => {}
                Ok(status) => return Err(io::Error::other(format!("host output status {status}"))),
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        self.buffer.clear();
        Ok(())
    }
}
