//! EGETKEY, modelled: the SDM's key derivation (vol. 3D, "EGETKEY") as a pure
//! function of a platform secret, the enclave's identity and a key request.
//!
//! Hardware derives each key as AES-128-CMAC, under a fused key, of a
//! "key dependencies" block. The model does the same, with a per-machine
//! [`PlatformSecret`] in place of the fuses, and encodes the block itself
//! (hardware's exact block is not architectural; its *inputs* are, and they
//! are all here). The checks are the SDM's: a key name that does not exist,
//! an ISVSVN or CPUSVN above the enclave's own, a provisioning key for an
//! enclave without the PROVISIONKEY attribute, and reserved bits are refused.

use aes::Aes128;
use aes::cipher::KeyInit;
use cmac::{Cmac, Mac};
use rand_core::{OsRng, RngCore};
use sgx_isa::{AttributesFlags, Keyrequest};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::identity::EnclaveIdentity;
use crate::measure::Measurement;

/// A 128-bit key, zeroized when dropped.
pub type Key128 = Zeroizing<[u8; 16]>;

/// EGETKEY's KEYNAME values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum KeyName {
    /// Launch-enclave token key.
    EinitToken = 0,
    /// Provisioning key (PCK derivation).
    Provision = 1,
    /// Provisioning seal key.
    ProvisionSeal = 2,
    /// Report key: MACs reports targeted at this enclave.
    Report = 3,
    /// Seal key.
    Seal = 4,
}

impl KeyName {
    /// The key name for a raw KEYNAME, if defined.
    pub fn from_raw(raw: u16) -> Option<Self> {
        Some(match raw {
            0 => Self::EinitToken,
            1 => Self::Provision,
            2 => Self::ProvisionSeal,
            3 => Self::Report,
            4 => Self::Seal,
            _ => return None,
        })
    }
}

/// KEYPOLICY bits (SDM: KEYREQUEST.KEYPOLICY).
pub mod policy {
    /// Derive from MRENCLAVE.
    pub const MRENCLAVE: u16 = 1 << 0;
    /// Derive from MRSIGNER.
    pub const MRSIGNER: u16 = 1 << 1;
    /// Do not derive from ISVPRODID.
    pub const NOISVPRODID: u16 = 1 << 2;
    /// Derive from CONFIGID (KSS).
    pub const CONFIGID: u16 = 1 << 3;
    /// Derive from ISVFAMILYID (KSS).
    pub const ISVFAMILYID: u16 = 1 << 4;
    /// Derive from ISVEXTPRODID (KSS).
    pub const ISVEXTPRODID: u16 = 1 << 5;
    /// Every defined bit; the rest are reserved.
    pub const ALL: u16 = (1 << 6) - 1;
}

/// Why EGETKEY refused a request (the SDM's error codes, plus #GP for
/// reserved bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EgetkeyError {
    /// SGX_INVALID_KEYNAME.
    #[error("no such key name {0}")]
    InvalidKeyname(u16),
    /// SGX_INVALID_ISVSVN: the request asks for a newer ISVSVN than the enclave's.
    #[error("requested ISVSVN {requested} is above the enclave's ISVSVN {own}")]
    InvalidIsvsvn {
        /// KEYREQUEST.ISVSVN.
        requested: u16,
        /// The enclave's own ISVSVN.
        own: u16,
    },
    /// SGX_INVALID_CPUSVN: the request asks for a newer CPUSVN than the platform's.
    #[error("requested CPUSVN is above the platform's")]
    InvalidCpusvn,
    /// SGX_INVALID_ATTRIBUTE: provisioning keys need the PROVISIONKEY attribute.
    #[error("provisioning keys need the PROVISIONKEY attribute")]
    InvalidAttribute,
    /// #GP: reserved bits or fields are set.
    #[error("reserved bits are set in the key request")]
    ReservedBits,
}

/// What stands in for the CPU's fuses and registers: the root key, the owner
/// epoch, the current CPUSVN and the boot's report KEYID. One per machine;
/// it must be kept secret (the host runtime stores it with mode 0600).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PlatformSecret {
    root_key: [u8; 16],
    owner_epoch: [u8; 16],
    cpusvn: [u8; 16],
    report_keyid: [u8; 32],
}

impl std::fmt::Debug for PlatformSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformSecret")
            .field("cpusvn", &self.cpusvn)
            .finish_non_exhaustive()
    }
}

impl PlatformSecret {
    /// Serialized size.
    pub const SIZE: usize = 80;

    /// A fresh random platform with the given CPUSVN.
    pub fn generate(cpusvn: [u8; 16]) -> Self {
        let mut secret = Self {
            root_key: [0; 16],
            owner_epoch: [0; 16],
            cpusvn,
            report_keyid: [0; 32],
        };
        OsRng.fill_bytes(&mut secret.root_key);
        OsRng.fill_bytes(&mut secret.owner_epoch);
        OsRng.fill_bytes(&mut secret.report_keyid);
        secret
    }

    /// The serialized form (root key, owner epoch, CPUSVN, report KEYID).
    pub fn to_bytes(&self) -> Zeroizing<[u8; Self::SIZE]> {
        let mut out = Zeroizing::new([0u8; Self::SIZE]);
        out[..16].copy_from_slice(&self.root_key);
        out[16..32].copy_from_slice(&self.owner_epoch);
        out[32..48].copy_from_slice(&self.cpusvn);
        out[48..].copy_from_slice(&self.report_keyid);
        out
    }

    /// Reads the serialized form; `None` if the length is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::SIZE {
            return None;
        }
        let mut secret = Self {
            root_key: [0; 16],
            owner_epoch: [0; 16],
            cpusvn: [0; 16],
            report_keyid: [0; 32],
        };
        secret.root_key.copy_from_slice(&bytes[..16]);
        secret.owner_epoch.copy_from_slice(&bytes[16..32]);
        secret.cpusvn.copy_from_slice(&bytes[32..48]);
        secret.report_keyid.copy_from_slice(&bytes[48..]);
        Some(secret)
    }

    /// The platform's current CPUSVN (REPORT.CPUSVN).
    pub fn cpusvn(&self) -> [u8; 16] {
        self.cpusvn
    }

    /// The KEYID that EREPORT puts in every report this boot.
    pub fn report_keyid(&self) -> [u8; 32] {
        self.report_keyid
    }

    /// AES-128-CMAC under the root key: the derivation primitive.
    fn derive(&self, dependencies: &KeyDependencies) -> Key128 {
        let mut mac = <Cmac<Aes128> as KeyInit>::new(&self.root_key.into());
        mac.update(&dependencies.encode());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }
}

/// A KEYREQUEST for `name` under `policy` (any bits of [`policy`], kept
/// as given), binding every attribute flag, no XFRM bit and all of
/// MISCSELECT, for `isvsvn` and `cpusvn`, diversified by `key_id`.
pub fn key_request(
    name: KeyName,
    policy: u16,
    isvsvn: u16,
    cpusvn: [u8; 16],
    key_id: [u8; 32],
) -> Keyrequest {
    let mut bytes = [0u8; Keyrequest::UNPADDED_SIZE];
    bytes[0..2].copy_from_slice(&(name as u16).to_le_bytes());
    // Written as raw bytes: the `sgx-isa` flags type would drop policy bits
    // it does not name (NOISVPRODID and the KSS bits).
    bytes[2..4].copy_from_slice(&policy.to_le_bytes());
    bytes[4..6].copy_from_slice(&isvsvn.to_le_bytes());
    bytes[8..24].copy_from_slice(&cpusvn);
    bytes[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
    bytes[40..72].copy_from_slice(&key_id);
    bytes[72..76].copy_from_slice(&u32::MAX.to_le_bytes());
    Keyrequest::try_copy_from(&bytes).unwrap_or_default()
}

/// The inputs of one key derivation, in a fixed encoding.
#[derive(Default)]
struct KeyDependencies {
    keyname: u16,
    keypolicy: u16,
    isvprodid: u16,
    isvsvn: u16,
    owner_epoch: [u8; 16],
    attributes: [u64; 2],
    attribute_mask: [u64; 2],
    mrenclave: Measurement,
    mrsigner: Measurement,
    keyid: [u8; 32],
    cpusvn: [u8; 16],
    miscselect: u32,
    miscmask: u32,
}

impl KeyDependencies {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(224);
        out.extend_from_slice(b"SHIELD-EGETKEY-v1");
        for value in [self.keyname, self.keypolicy, self.isvprodid, self.isvsvn] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&self.owner_epoch);
        for value in self.attributes.iter().chain(&self.attribute_mask) {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&self.mrenclave);
        out.extend_from_slice(&self.mrsigner);
        out.extend_from_slice(&self.keyid);
        out.extend_from_slice(&self.cpusvn);
        out.extend_from_slice(&self.miscselect.to_le_bytes());
        out.extend_from_slice(&self.miscmask.to_le_bytes());
        out
    }
}

/// Attribute bits that the seal key always depends on (SDM: INIT and DEBUG),
/// so a debug enclave can never unseal a production enclave's data.
const SEAL_ATTRIBUTES_ALWAYS: u64 = AttributesFlags::INIT.bits() | AttributesFlags::DEBUG.bits();

/// EGETKEY for `identity` on `platform`.
pub fn egetkey(
    platform: &PlatformSecret,
    identity: &EnclaveIdentity,
    request: &Keyrequest,
) -> Result<Key128, EgetkeyError> {
    let keypolicy = request.keypolicy.bits();
    if keypolicy & !policy::ALL != 0
        || request._reserved1 != 0
        || request._reserved2.iter().any(|&b| b != 0)
    {
        return Err(EgetkeyError::ReservedBits);
    }
    let name =
        KeyName::from_raw(request.keyname).ok_or(EgetkeyError::InvalidKeyname(request.keyname))?;
    if name == KeyName::Report {
        return Ok(report_key(
            platform,
            &identity.mrenclave,
            identity.attributes.flags.bits(),
            identity.attributes.xfrm,
            identity.miscselect,
            &request.keyid,
        ));
    }
    if matches!(name, KeyName::Provision | KeyName::ProvisionSeal)
        && !identity
            .attributes
            .flags
            .contains(AttributesFlags::PROVISIONKEY)
    {
        return Err(EgetkeyError::InvalidAttribute);
    }
    if name == KeyName::EinitToken
        && !identity
            .attributes
            .flags
            .contains(AttributesFlags::EINITTOKENKEY)
    {
        return Err(EgetkeyError::InvalidAttribute);
    }
    if request.isvsvn > identity.isvsvn {
        return Err(EgetkeyError::InvalidIsvsvn {
            requested: request.isvsvn,
            own: identity.isvsvn,
        });
    }
    if !cpusvn_at_most(&request.cpusvn, &platform.cpusvn) {
        return Err(EgetkeyError::InvalidCpusvn);
    }

    let [flag_mask, xfrm_mask] = request.attributemask;
    let mut deps = KeyDependencies {
        keyname: name as u16,
        keypolicy,
        isvsvn: request.isvsvn,
        owner_epoch: platform.owner_epoch,
        attributes: [
            identity.attributes.flags.bits() & (flag_mask | SEAL_ATTRIBUTES_ALWAYS),
            identity.attributes.xfrm & xfrm_mask,
        ],
        attribute_mask: request.attributemask,
        keyid: request.keyid,
        cpusvn: request.cpusvn,
        miscselect: identity.miscselect & request.miscmask,
        miscmask: !request.miscmask,
        ..KeyDependencies::default()
    };
    match name {
        KeyName::Seal | KeyName::ProvisionSeal => {
            if keypolicy & policy::MRENCLAVE != 0 {
                deps.mrenclave = identity.mrenclave;
            }
            if keypolicy & policy::MRSIGNER != 0 {
                deps.mrsigner = identity.mrsigner;
            }
            if keypolicy & policy::NOISVPRODID == 0 {
                deps.isvprodid = identity.isvprodid;
            }
        }
        // Provisioning and launch keys always bind the signer and product.
        _ => {
            deps.mrsigner = identity.mrsigner;
            deps.isvprodid = identity.isvprodid;
        }
    }
    if name != KeyName::Seal {
        // Only seal keys depend on the owner epoch.
        deps.owner_epoch = [0; 16];
    }
    Ok(platform.derive(&deps))
}

/// The report key of the enclave described by (MRENCLAVE, attributes,
/// MISCSELECT) for `keyid`: what EREPORT uses for its target and what
/// EGETKEY(REPORT) gives the target itself.
pub(crate) fn report_key(
    platform: &PlatformSecret,
    mrenclave: &Measurement,
    attribute_flags: u64,
    xfrm: u64,
    miscselect: u32,
    keyid: &[u8; 32],
) -> Key128 {
    let deps = KeyDependencies {
        keyname: KeyName::Report as u16,
        owner_epoch: platform.owner_epoch,
        attributes: [attribute_flags, xfrm],
        mrenclave: *mrenclave,
        keyid: *keyid,
        cpusvn: platform.cpusvn,
        miscselect,
        ..KeyDependencies::default()
    };
    platform.derive(&deps)
}

/// CPUSVN is a vector of component SVNs; a request may not exceed the
/// platform in any component. The model treats each byte as a component.
fn cpusvn_at_most(requested: &[u8; 16], platform: &[u8; 16]) -> bool {
    requested.iter().zip(platform).all(|(r, p)| r <= p)
}

#[cfg(test)]
mod tests;
