//! Shield's untrusted runtime: the host side of the simulation.
//!
//! [`EnclaveBuilder`] loads an enclave the way the SGX loader and EINIT
//! would: it reads the binary and its config, computes MRENCLAVE, checks
//! the SIGSTRUCT (signature, ENCLAVEHASH, attributes against their mask,
//! debug versus production) and records the identity. Only then does it
//! launch the enclave as a separate process that inherits nothing but its
//! control block and one channel per TCS, and that sandboxes itself before
//! serving. The resulting [`Enclave`] runs ECALLs (through the generated
//! proxies, which take it as their transport), dispatches the enclave's
//! OCALLs to the host's implementation, and answers the enclave's EGETKEY
//! and EREPORT as the simulated CPU, from the recorded identity and the
//! machine's [`PlatformSecret`](shield_sgx::keys::PlatformSecret).
//!
//! Whatever happens to the enclave process (a crash, an abort, running out
//! of memory, a forbidden system call, a kill) becomes
//! [`Error::EnclaveLost`] for every pending and later call; the host
//! process carries on. Dropping the [`Enclave`] kills and reaps the process.
//!
//! ```no_run
//! use shield_host::EnclaveBuilder;
//!
//! let enclave = EnclaveBuilder::new("target/release/hello-enclave")
//!     .launch(|_index: u32, _request: &[u8]| Ok(Vec::new()))?;
//! println!("MRENCLAVE {}", shield_sgx::hex(&enclave.identity().mrenclave));
//! # Ok::<(), shield_host::Error>(())
//! ```
#![deny(unsafe_code)]

mod enclave;
mod error;
mod image;
mod intel_config;
mod platform;
pub mod quoting;
mod sys;
pub mod system;

pub use enclave::{Enclave, EnclaveBuilder, OcallHandler};
pub use error::{Error, LostReason, Result};
pub use image::{EnclaveImage, LaunchMode};
pub use intel_config::config_from_intel_xml;
pub use platform::{default_platform_path, load_or_create_platform};
pub use quoting::SimQuotingEnclave;
