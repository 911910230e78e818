//! Everything that reaches the host, through the OCALLs of `script.edl`
//! made on the current TCS. Every answer is checked: the host may lie.

use shield_enclave::CurrentTcs;
use shield_enclave::services::pfs::{NODE_SIZE, NodeStore};
use shield_enclave::services::{self, Error};
use shield_enclave::wire::Limits;

use crate::bridge::OcallProxy;

/// Bytes moved per OCALL when reading or writing large data.
pub(crate) const CHUNK: usize = 1 << 20;

pub(crate) fn host() -> OcallProxy<'static> {
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
