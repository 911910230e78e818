//! Shield's trusted runtime: what runs inside a simulated enclave.
//!
//! An enclave binary's `main` hands its ECALL dispatcher (generated from the
//! EDL) to [`run`]. The runtime then, in this order: takes the control block
//! and one channel per TCS from the descriptors the host passed, sets the
//! heap limit, installs a panic hook that reports instead of printing,
//! starts one worker thread per TCS, and installs the seccomp sandbox on
//! every thread. Only then are ECALLs served. From that point the enclave
//! can make no system call but those an SGX enclave could (memory,
//! futex, clock, randomness, exit); anything else ends it and the host
//! reports the call by name.
//!
//! Inside an ECALL, [`egetkey`] and [`ereport`] reach the simulated CPU,
//! and the generated OCALL proxies reach the host through the transport the
//! dispatcher is given, or through [`CurrentTcs`] from objects that live
//! longer than one ECALL's borrow.
//! The trusted services built on them (sealing, local attestation,
//! protected files) are in [`services`]; logging ([`println!`],
//! [`eprintln!`], [`log!`]) and quotes ([`system::quote`]) over Shield's
//! system EDL files are in [`system`].
//!
//! ```no_run
//! // In an enclave binary (the dispatcher comes from generated code):
//! # use shield_edl::wire::{BridgeError, Caller, OcallTransport};
//! fn dispatch(_: &dyn OcallTransport, _: Caller, _: u32, _: &[u8]) -> Result<Vec<u8>, BridgeError> {
//!     Ok(Vec::new())
//! }
//! fn main() {
//!     shield_enclave::run(dispatch);
//! }
//! ```
#![deny(unsafe_code)]

mod cpu;
pub mod heap;
mod runtime;
mod sandbox;
pub mod services;
mod sys;
pub mod system;

pub use cpu::{CpuError, egetkey, ereport, seal_key};
pub use runtime::{CurrentTcs, EcallHandler, run, run_with};
pub use sandbox::Sandbox;
pub use shield_edl::wire;
pub use shield_sgx::isa;
