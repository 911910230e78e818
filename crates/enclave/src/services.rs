//! The trusted services of `shield-services` (sealing, local attestation,
//! protected files) wired to this enclave's CPU: [`Cpu`] is the
//! [`KeySource`] that answers with EGETKEY and EREPORT. A protected file's
//! [`pfs::NodeStore`] is the application's: it implements it with OCALLs
//! from its own EDL (see `tests/services` for one that checks every answer).
//!
//! Inside an ECALL:
//!
//! ```no_run
//! use shield_enclave::isa::Targetinfo;
//! use shield_enclave::services::{SealPolicy, report, seal, unseal};
//!
//! # fn ecall() -> shield_enclave::services::Result<()> {
//! // Only this enclave (this MRENCLAVE, on this machine) can open the blob;
//! // the host keeps it.
//! let blob = seal(SealPolicy::MrEnclave, b"api token", b"v1")?;
//! assert_eq!(&unseal(&blob)?.data[..], b"api token");
//!
//! // A report for another enclave on this machine (its TARGETINFO came
//! // from it), carrying 64 bytes of our choosing.
//! let peer = Targetinfo::default();
//! let report = report(&peer, &[0; 64])?;
//! # let _ = report;
//! # Ok(()) }
//! ```

pub use shield_services::{Error, KeySource, Result, SealPolicy, Unsealed, la, pfs};
use shield_sgx::isa::{Keyrequest, Report, Targetinfo};
use shield_sgx::keys::Key128;

/// This enclave's simulated CPU as a [`KeySource`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu;

impl KeySource for Cpu {
    fn egetkey(&self, request: &Keyrequest) -> Result<Key128> {
        crate::egetkey(request).map_err(|e| Error::Key(e.to_string()))
    }

    fn ereport(&self, target: &Targetinfo, report_data: &[u8; 64]) -> Result<Report> {
        crate::ereport(target, report_data).map_err(|e| Error::Key(e.to_string()))
    }
}

/// Seals `data` (encrypted) and `aad` (authenticated) for this enclave under
/// `policy`, in Intel's `sgx_sealed_data_t` layout.
pub fn seal(policy: SealPolicy, data: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    shield_services::seal(&Cpu, policy, data, aad)
}

/// Unseals a blob made by [`seal`] (here or in an enclave the policy allows).
pub fn unseal(blob: &[u8]) -> Result<Unsealed> {
    shield_services::unseal(&Cpu, blob)
}

/// EREPORT for `target` carrying `report_data`.
pub fn report(target: &Targetinfo, report_data: &[u8; 64]) -> Result<Report> {
    la::report(&Cpu, target, report_data)
}

/// Checks a report targeted at this enclave.
pub fn verify_report(report: &Report) -> Result<()> {
    la::verify_report(&Cpu, report)
}
