//! The enclave's key pair: made here, sealed to this enclave for the host
//! to keep, and published through a quote that binds its public part.

use shield_bundle::{EnclaveKeyPair, EnclaveKeyPublic};
use shield_enclave::services::{self, SealPolicy};
use shield_sgx::isa::{Report, Targetinfo};

/// Authenticated (not secret) text of every sealed key: says what it is.
const SEAL_LABEL: &[u8] = b"shield script-enclave key v1";

/// A new key, as the host receives it.
#[derive(Debug)]
pub struct NewKey {
    /// The public part.
    pub public: EnclaveKeyPublic,
    /// A report for the quoting enclave, REPORTDATA = the key's binding.
    pub report: Report,
    /// The private part, sealed to this enclave (MRENCLAVE).
    pub sealed: Vec<u8>,
}

/// Makes a key pair and its report for the quoting enclave `qe_target_info`.
pub fn new_key(qe_target_info: &[u8]) -> Result<NewKey, String> {
    let target = Targetinfo::try_copy_from(qe_target_info)
        .ok_or("the host's TARGETINFO is not 512 bytes")?;
    let pair = EnclaveKeyPair::generate();
    let public = pair.public();
    // MRENCLAVE, not MRSIGNER: another enclave of the same signer (say an
    // older, vulnerable build) must not be able to unseal this key.
    let sealed = services::seal(SealPolicy::MrEnclave, &pair.to_secret_bytes(), SEAL_LABEL)
        .map_err(|e| format!("sealing the key: {e}"))?;
    let report = shield_enclave::ereport(&target, &public.report_data())
        .map_err(|e| format!("EREPORT: {e}"))?;
    Ok(NewKey {
        public,
        report,
        sealed,
    })
}

/// Unseals a key made by [`new_key`] in this enclave on this machine.
pub fn unseal_key(sealed: &[u8]) -> Result<EnclaveKeyPair, String> {
    let unsealed = services::unseal(sealed).map_err(|e| {
        format!("the sealed key does not open in this enclave on this machine ({e})")
    })?;
    if unsealed.aad != SEAL_LABEL {
        return Err("the sealed blob is not a script-enclave key".into());
    }
    EnclaveKeyPair::from_secret_bytes(&unsealed.data).map_err(|e| format!("sealed key: {e}"))
}
