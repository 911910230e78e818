//! The simulated CPU as the enclave sees it: EGETKEY and EREPORT. On
//! hardware these are instructions; in simulation the host runtime answers
//! them from the identity it recorded at EINIT and the machine's root
//! secret (which is why the simulation keeps no secret from root).

use shield_channel::kind;
use shield_sgx::isa::{Keyrequest, Report, Targetinfo};
use shield_sgx::keys::{Key128, KeyName, key_request};

use crate::runtime::cpu_call;

/// Why the simulated CPU gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CpuError {
    /// Called outside an ECALL (no TCS to ask on).
    NotInEcall,
    /// The CPU refused, as EGETKEY refuses (code and explanation).
    Refused {
        /// The refusal's code (see `shield_sgx::keys::EgetkeyError`).
        code: u32,
        /// What was wrong.
        message: String,
    },
    /// The channel failed, or the answer had the wrong shape.
    Transport(String),
}

impl std::fmt::Display for CpuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CpuError::NotInEcall => write!(f, "the CPU can only be asked from inside an ECALL"),
            CpuError::Refused { message, .. } => write!(f, "refused: {message}"),
            CpuError::Transport(reason) => write!(f, "simulated CPU: {reason}"),
        }
    }
}

impl std::error::Error for CpuError {}

/// EGETKEY: derives the key `request` asks for.
pub fn egetkey(request: &Keyrequest) -> Result<Key128, CpuError> {
    let answer = cpu_call(kind::CPU_EGETKEY, request.as_ref())?;
    let key: [u8; 16] = answer
        .as_slice()
        .try_into()
        .map_err(|_| CpuError::Transport(format!("a key is 16 bytes, got {}", answer.len())))?;
    Ok(Key128::new(key))
}

/// EREPORT: a report about this enclave for `target`, carrying `report_data`.
pub fn ereport(target: &Targetinfo, report_data: &[u8; 64]) -> Result<Report, CpuError> {
    let mut request = Vec::with_capacity(Targetinfo::UNPADDED_SIZE + 64);
    request.extend_from_slice(target.as_ref());
    request.extend_from_slice(report_data);
    let answer = cpu_call(kind::CPU_EREPORT, &request)?;
    Report::try_copy_from(&answer)
        .ok_or_else(|| CpuError::Transport(format!("a report is 432 bytes, got {}", answer.len())))
}

/// The seal key under `policy` (`shield_sgx::keys::policy` bits) for this
/// enclave's own ISVSVN and the platform's CPUSVN, with `key_id` as the
/// per-blob diversifier.
pub fn seal_key(
    policy: u16,
    isvsvn: u16,
    cpusvn: [u8; 16],
    key_id: [u8; 32],
) -> Result<Key128, CpuError> {
    egetkey(&key_request(KeyName::Seal, policy, isvsvn, cpusvn, key_id))
}
