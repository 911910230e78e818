//! An initialized enclave's identity, as EINIT records it in the SECS.

use sgx_isa::{Attributes, AttributesFlags, Miscselect, Sigstruct};

use crate::measure::Measurement;
use crate::{Error, Result, hex, sigstruct};

/// What the CPU knows about a running enclave: the inputs of every key it
/// derives and every report it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnclaveIdentity {
    /// MRENCLAVE: the measured contents and layout.
    pub mrenclave: Measurement,
    /// MRSIGNER: hash of the signing key's modulus.
    pub mrsigner: Measurement,
    /// ISVPRODID from the SIGSTRUCT.
    pub isvprodid: u16,
    /// ISVSVN from the SIGSTRUCT.
    pub isvsvn: u16,
    /// SECS.ATTRIBUTES (INIT set).
    pub attributes: Attributes,
    /// SECS.MISCSELECT.
    pub miscselect: u32,
}

impl EnclaveIdentity {
    /// EINIT: checks `sigstruct` against the measured enclave and returns the
    /// identity. `attributes` and `miscselect` are what the loader asked for
    /// at ECREATE. Fails as EINIT does: a bad signature, ENCLAVEHASH ≠
    /// MRENCLAVE, or attributes/MISCSELECT outside the SIGSTRUCT's masks.
    pub fn einit(
        mrenclave: Measurement,
        attributes: Attributes,
        miscselect: u32,
        sigstruct: &Sigstruct,
    ) -> Result<Self> {
        sigstruct::verify(sigstruct)?;
        if sigstruct.enclavehash != mrenclave {
            return Err(Error::Sigstruct(format!(
                "ENCLAVEHASH {} does not match the measured MRENCLAVE {}",
                hex(&sigstruct.enclavehash),
                hex(&mrenclave)
            )));
        }
        let [flag_mask, xfrm_mask] = sigstruct.attributemask;
        let expected = sigstruct.attributes;
        if attributes.flags.bits() & flag_mask != expected.flags.bits() & flag_mask
            || attributes.xfrm & xfrm_mask != expected.xfrm & xfrm_mask
        {
            return Err(Error::Sigstruct(format!(
                "requested attributes (flags {:#x}, xfrm {:#x}) do not match the SIGSTRUCT's under its mask",
                attributes.flags.bits(),
                attributes.xfrm
            )));
        }
        if miscselect & sigstruct.miscmask != sigstruct.miscselect.bits() & sigstruct.miscmask {
            return Err(Error::Sigstruct(
                "MISCSELECT does not match the SIGSTRUCT's under its mask".into(),
            ));
        }
        Ok(Self {
            mrenclave,
            mrsigner: sigstruct::mrsigner(sigstruct),
            isvprodid: sigstruct.isvprodid,
            isvsvn: sigstruct.isvsvn,
            attributes: Attributes {
                flags: attributes.flags | AttributesFlags::INIT,
                xfrm: attributes.xfrm,
            },
            // Only architecturally defined MISCSELECT bits can be enabled.
            miscselect: miscselect & Miscselect::all().bits(),
        })
    }

    /// Whether this is a debug enclave (its memory is readable by a debugger).
    pub fn is_debug(&self) -> bool {
        self.attributes.flags.contains(AttributesFlags::DEBUG)
    }
}
