//! Trust anchors: the compiled-in Intel SGX Root CA, and caller-supplied
//! sets (including simulation roots).

use crate::error::Result;
use crate::pki::Cert;

/// DER of the production Intel SGX Root CA (CN=Intel SGX Root CA, valid
/// 2018-05-21 to 2049-12-31, SHA-256 fingerprint
/// `44A0196B2B99F889B8E149E95B807A350E7424964399E885A7CBB8CCFAB674D3`).
/// It is a public certificate; the crate's tests compare it to Intel's copy.
pub const INTEL_SGX_ROOT_CA_DER: &[u8] = include_bytes!("roots/intel_sgx_root_ca.der");

/// The set of root certificates a verifier trusts.
///
/// A set marked as *simulation* contains roots of a simulated quoting stack:
/// quotes chaining to it are only accepted when the policy allows simulation,
/// and every verdict for them says SIMULATION.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    certs: Vec<Cert>,
    simulation: bool,
}

impl TrustAnchors {
    /// The production Intel SGX Root CA only (the default).
    pub fn intel_production() -> Self {
        Self {
            certs: vec![Cert::from_der(INTEL_SGX_ROOT_CA_DER).expect("embedded root CA parses")],
            simulation: false,
        }
    }

    /// Production-grade anchors from DER certificates (e.g. a pinned copy of Intel's root).
    pub fn from_der(roots: &[&[u8]]) -> Result<Self> {
        Ok(Self {
            certs: roots
                .iter()
                .map(|d| Cert::from_der(d))
                .collect::<Result<_>>()?,
            simulation: false,
        })
    }

    /// Anchors of a *simulated* quoting stack. Quotes verified against them
    /// are flagged as simulation and refused unless the policy allows it.
    pub fn simulation(roots: &[&[u8]]) -> Result<Self> {
        Ok(Self {
            simulation: true,
            ..Self::from_der(roots)?
        })
    }

    /// Whether these anchors belong to a simulated quoting stack.
    pub fn is_simulation(&self) -> bool {
        self.simulation
    }

    /// The anchor certificates.
    pub fn certs(&self) -> &[Cert] {
        &self.certs
    }
}

impl Default for TrustAnchors {
    fn default() -> Self {
        Self::intel_production()
    }
}
