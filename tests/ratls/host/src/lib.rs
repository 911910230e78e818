//! Harness for the RA-TLS tests: the generated untrusted bridge of
//! `ratls.edl`, the host's OCALLs (the simulated quoting enclave), a
//! launcher for the test enclave built by `build.rs`, and a loopback TCP
//! front end that ferries TLS bytes between a socket and the enclave.
#![forbid(unsafe_code)]

pub mod bridge {
    //! Generated from `tests/ratls/ratls.edl`, untrusted side.
    #![allow(unreachable_pub, missing_docs, dead_code, clippy::too_many_arguments)]
    include!(concat!(env!("OUT_DIR"), "/ratls_u.rs"));
}

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shield_edl::wire::Limits;
use shield_host::{Enclave, EnclaveBuilder};

/// Bytes of TLS output one `ecall_tls_feed` may return.
pub const FEED_CAPACITY: usize = 256 * 1024;

/// The test enclave binary (its `.sig` and `.toml` sit beside it).
pub fn enclave_binary() -> PathBuf {
    PathBuf::from(env!("RATLS_TEST_ENCLAVE"))
}

/// The host's OCALLs: only the system ones, served by `shield_host::system`
/// (no `Enclave` needed: the runtime knows whose OCALL runs).
#[derive(Debug, Default)]
pub struct QuotingHost;

impl bridge::Ocalls for QuotingHost {
    fn shield_ocall_qe_target_info(&self, target_info: &mut [u8]) {
        shield_host::system::qe_target_info(target_info)
    }

    fn shield_ocall_quote(&self, report: &[u8], quote: &mut [u8]) -> usize {
        shield_host::system::quote(report, quote)
    }
}

/// Launches the test enclave with its platform secret (and so its
/// simulated quoting state) under `state`.
pub fn launch(state: &Path) -> shield_host::Result<Arc<Enclave>> {
    let enclave = EnclaveBuilder::new(enclave_binary())
        .platform_secret(state.join("platform.secret"))
        .launch(|index: u32, request: &[u8]| {
            bridge::dispatch_ocall(&QuotingHost, index, request, Limits::default())
        })?;
    Ok(Arc::new(enclave))
}

/// The ECALL proxy for `enclave`.
pub fn proxy(enclave: &Enclave) -> bridge::EcallProxy<'_> {
    bridge::EcallProxy::new(enclave, Limits::default())
}

/// Serves one TLS connection accepted on `listener` with the enclave's
/// session: socket bytes in through `ecall_tls_feed`, its output back out,
/// until either side stops. Returns why it stopped.
pub fn serve_one(enclave: &Enclave, listener: &TcpListener) -> String {
    let (mut socket, _) = match listener.accept() {
        Ok(s) => s,
        Err(e) => return format!("accept: {e}"),
    };
    pump(enclave, &mut socket)
}

fn pump(enclave: &Enclave, socket: &mut TcpStream) -> String {
    let mut input = vec![0u8; 64 * 1024];
    let mut output = vec![0u8; FEED_CAPACITY];
    loop {
        let n = match socket.read(&mut input) {
            Ok(0) => return "client closed".into(),
            Ok(n) => n,
            Err(e) => return format!("read: {e}"),
        };
        let len = match proxy(enclave).ecall_tls_feed(&input[..n], &mut output) {
            Ok(len) => len as usize,
            Err(e) => return format!("enclave: {e}"),
        };
        if let Err(e) = socket.write_all(&output[..len]) {
            return format!("write: {e}");
        }
    }
}
