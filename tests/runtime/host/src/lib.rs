//! Harness for the runtime tests and benchmarks: the generated untrusted
//! bridge of `runtime.edl`, a host OCALL implementation with hooks the
//! tests steer, and a launcher for the test enclave built by `build.rs`.
#![forbid(unsafe_code)]

pub mod bridge {
    //! Generated from `tests/runtime/runtime.edl`, untrusted side.
    #![allow(unreachable_pub, missing_docs, dead_code, clippy::too_many_arguments)]
    include!(concat!(env!("OUT_DIR"), "/runtime_u.rs"));
}

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};

use shield_edl::wire::Limits;
use shield_host::{Enclave, EnclaveBuilder};

/// The test enclave binary (its `.sig` and `.toml` sit beside it).
pub fn enclave_binary() -> PathBuf {
    PathBuf::from(env!("RUNTIME_TEST_ENCLAVE"))
}

/// A gate that `ocall_block` waits at until the test opens it.
#[derive(Debug, Default)]
pub struct Gate {
    /// (OCALLs that reached the gate, whether it is open)
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Gate {
    /// Blocks until opened; marks itself entered first.
    fn pass(&self) {
        let mut state = self.state.lock().unwrap();
        state.0 += 1;
        self.changed.notify_all();
        while !state.1 {
            state = self.changed.wait(state).unwrap();
        }
    }

    /// Waits until `count` OCALLs have reached the gate.
    pub fn wait_entered(&self, count: usize) {
        let mut state = self.state.lock().unwrap();
        while state.0 < count {
            state = self.changed.wait(state).unwrap();
        }
    }

    /// Lets blocked OCALLs continue.
    pub fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

/// The host's OCALLs.
#[derive(Debug, Default)]
pub struct TestHost {
    /// The enclave, for nested ECALLs (weak: the enclave owns this host).
    pub enclave: OnceLock<Weak<Enclave>>,
    /// Where `ocall_block` waits.
    pub gate: Gate,
}

impl bridge::Ocalls for TestHost {
    fn ocall_add_one(&self, x: i32) -> i32 {
        x + 1
    }

    fn ocall_call_back(&self, x: i32) -> i32 {
        self.nested_private(x).unwrap_or(-2)
    }

    fn ocall_try_private(&self, x: i32) -> i32 {
        self.nested_private(x).unwrap_or(-2)
    }

    fn ocall_block(&self) {
        self.gate.pass();
    }
}

impl TestHost {
    fn nested_private(&self, x: i32) -> Option<i32> {
        let enclave = self.enclave.get()?.upgrade()?;
        // `ecall_private` is not public, so the generated proxy does not
        // offer it: call it by index, as a host trying its luck would.
        let request = x.to_le_bytes();
        let reply = enclave
            .ecall(bridge::ecall_index::ecall_private, &request)
            .ok()?;
        Some(i32::from_le_bytes(reply.get(..4)?.try_into().ok()?))
    }
}

/// Launches the test enclave with `builder`'s options and a fresh [`TestHost`].
pub fn launch_with(builder: EnclaveBuilder) -> shield_host::Result<(Arc<Enclave>, Arc<TestHost>)> {
    let host = Arc::new(TestHost::default());
    let ocalls = host.clone();
    let enclave = Arc::new(builder.launch(move |index: u32, request: &[u8]| {
        bridge::dispatch_ocall(&*ocalls, index, request, Limits::default())
    })?);
    let _ = host.enclave.set(Arc::downgrade(&enclave));
    Ok((enclave, host))
}

/// A builder for the test enclave with its platform secret under `state`.
pub fn builder(state: &Path) -> EnclaveBuilder {
    EnclaveBuilder::new(enclave_binary()).platform_secret(state.join("platform.secret"))
}
