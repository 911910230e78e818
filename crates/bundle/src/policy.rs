//! The enclave policy and resource limits a bundle carries.

use serde::{Deserialize, Serialize};

use crate::serde_util::{hex32_opt, hex32_vec};

/// Which enclaves may open a bundle. Checked by the enclave against its own
/// identity before it decrypts anything.
///
/// A policy must name at least one MRENCLAVE or an MRSIGNER: the default
/// (empty) policy refuses every enclave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnclavePolicy {
    /// Acceptable MRENCLAVE values (any of them; empty: not checked).
    #[serde(with = "hex32_vec", default)]
    pub mrenclave: Vec<[u8; 32]>,
    /// Required MRSIGNER.
    #[serde(with = "hex32_opt", default)]
    pub mrsigner: Option<[u8; 32]>,
    /// Required ISVPRODID.
    #[serde(default)]
    pub isvprodid: Option<u16>,
    /// Minimum ISVSVN.
    #[serde(default)]
    pub min_isvsvn: Option<u16>,
    /// Whether a debug enclave (whose memory the host can read) is acceptable.
    #[serde(default)]
    pub allow_debug: bool,
}

/// What an enclave knows about itself (from its own report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnclaveFacts {
    /// The enclave's MRENCLAVE.
    pub mrenclave: [u8; 32],
    /// The enclave's MRSIGNER.
    pub mrsigner: [u8; 32],
    /// The enclave's ISVPRODID.
    pub isvprodid: u16,
    /// The enclave's ISVSVN.
    pub isvsvn: u16,
    /// Whether the enclave runs in debug mode.
    pub debug: bool,
}

impl EnclavePolicy {
    /// Checks `me` against the policy; on refusal, returns every reason as a
    /// readable sentence.
    pub fn check(&self, me: &EnclaveFacts) -> Result<(), Vec<String>> {
        let mut reasons = Vec::new();
        if self.mrenclave.is_empty() && self.mrsigner.is_none() {
            reasons.push(
                "the policy names neither an MRENCLAVE nor an MRSIGNER, so no enclave is trusted"
                    .to_owned(),
            );
        }
        if !self.mrenclave.is_empty() && !self.mrenclave.contains(&me.mrenclave) {
            reasons.push(format!(
                "MRENCLAVE {} is not in the policy's list",
                hex::encode(me.mrenclave)
            ));
        }
        if let Some(signer) = self.mrsigner
            && signer != me.mrsigner
        {
            reasons.push(format!(
                "MRSIGNER {} is not the policy's {}",
                hex::encode(me.mrsigner),
                hex::encode(signer)
            ));
        }
        if let Some(prod) = self.isvprodid
            && prod != me.isvprodid
        {
            reasons.push(format!(
                "ISVPRODID {} is not the policy's {prod}",
                me.isvprodid
            ));
        }
        if let Some(min) = self.min_isvsvn
            && me.isvsvn < min
        {
            reasons.push(format!(
                "ISVSVN {} is below the policy's minimum {min}",
                me.isvsvn
            ));
        }
        if me.debug && !self.allow_debug {
            reasons.push("debug enclave refused (the policy does not allow debug)".to_owned());
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
}

/// Resource limits for the script run (`None`: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Interpreter instructions.
    pub instructions: Option<u64>,
    /// Interpreter memory in bytes.
    pub memory_bytes: Option<u64>,
    /// Total output (stdout, stderr and files) in bytes.
    pub output_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            instructions: Some(20_000_000_000),
            memory_bytes: Some(128 << 20),
            output_bytes: Some(64 << 20),
        }
    }
}
