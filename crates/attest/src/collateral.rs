//! Verification collateral: TCB info, QE identity, their signing chain, and
//! the CRLs, in the two forms we accept.
//!
//! * The combined JSON used by the dcap-qvl project (`pck_crl_issuer_chain`,
//!   `root_ca_crl`, `pck_crl`, `tcb_info_issuer_chain`, `tcb_info`,
//!   `tcb_info_signature`, `qe_identity_issuer_chain`, `qe_identity`,
//!   `qe_identity_signature`).
//! * A directory with the pieces as Intel's PCS serves them:
//!   `tcb_info.json`, `qe_identity.json`, `tcb_signing_chain.pem`,
//!   `pck_crl.der`, `root_crl.der` (each CRL in DER or PEM).

use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::pki::{Cert, Crl, parse_pem_chain};

/// Largest collateral file we read.
pub const MAX_FILE_LEN: u64 = 16 * 1024 * 1024;

/// A signed JSON document: the exact signed bytes and the raw `r || s` signature.
#[derive(Debug, Clone)]
pub struct SignedJson {
    /// The JSON text exactly as signed.
    pub body: String,
    /// ECDSA P-256 signature `r || s`.
    pub signature: [u8; 64],
}

/// Everything needed to check a quote's TCB beyond its own signatures.
#[derive(Debug, Clone)]
pub struct Collateral {
    /// The `tcbInfo` object and its signature.
    pub tcb_info: SignedJson,
    /// The `enclaveIdentity` (QE identity) object and its signature.
    pub qe_identity: SignedJson,
    /// Chain of the TCB info signer (signing certificate first; the root may follow).
    pub tcb_info_chain: Vec<Cert>,
    /// Chain of the QE identity signer (usually the same as `tcb_info_chain`).
    pub qe_identity_chain: Vec<Cert>,
    /// CRL issued by the PCK CA (platform or processor).
    pub pck_crl: Crl,
    /// CRL issued by the root CA.
    pub root_crl: Crl,
    /// Extra certificates offered for path building (e.g. the PCK CRL issuer chain).
    pub extra_certs: Vec<Cert>,
}

fn sig_from_hex(s: &str, what: &str) -> Result<[u8; 64]> {
    let mut out = [0u8; 64];
    hex::decode_to_slice(s.trim(), &mut out)
        .map_err(|_| Error::collateral(format!("{what}: signature is not 64 bytes of hex")))?;
    Ok(out)
}

fn crl_from_hex(s: &str, what: &str) -> Result<Crl> {
    let der = hex::decode(s.trim()).map_err(|_| Error::collateral(format!("{what}: not hex")))?;
    Crl::parse(&der)
}

fn pem_chain(s: &str, what: &str) -> Result<Vec<Cert>> {
    parse_pem_chain(s.as_bytes()).map_err(|e| Error::collateral(format!("{what}: {e}")))
}

/// Reads a regular file with a size limit. The open does not block (a FIFO
/// would wait for a writer) and anything but a regular file is refused (a
/// device can be endless).
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io(path, &e))?;
    if !f.metadata().map_err(|e| Error::io(path, &e))?.is_file() {
        return Err(Error::Io {
            path: path.display().to_string(),
            message: "not a regular file".into(),
        });
    }
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, &e))?;
    if buf.len() as u64 > limit {
        return Err(Error::Io {
            path: path.display().to_string(),
            message: format!("larger than {limit} bytes"),
        });
    }
    Ok(buf)
}

#[derive(Deserialize)]
struct Combined {
    pck_crl_issuer_chain: String,
    root_ca_crl: String,
    pck_crl: String,
    tcb_info_issuer_chain: String,
    tcb_info: String,
    tcb_info_signature: String,
    qe_identity_issuer_chain: String,
    qe_identity: String,
    qe_identity_signature: String,
}

#[derive(Deserialize)]
struct PcsTcbInfo<'a> {
    #[serde(rename = "tcbInfo", borrow)]
    tcb_info: &'a RawValue,
    signature: String,
}

#[derive(Deserialize)]
struct PcsQeIdentity<'a> {
    #[serde(rename = "enclaveIdentity", borrow)]
    identity: &'a RawValue,
    signature: String,
}

impl Collateral {
    /// Parses the combined JSON form.
    pub fn from_combined_json(json: &[u8]) -> Result<Self> {
        let c: Combined = serde_json::from_slice(json)
            .map_err(|e| Error::collateral(format!("combined collateral JSON: {e}")))?;
        Ok(Self {
            tcb_info: SignedJson {
                body: c.tcb_info,
                signature: sig_from_hex(&c.tcb_info_signature, "tcb_info_signature")?,
            },
            qe_identity: SignedJson {
                body: c.qe_identity,
                signature: sig_from_hex(&c.qe_identity_signature, "qe_identity_signature")?,
            },
            tcb_info_chain: pem_chain(&c.tcb_info_issuer_chain, "tcb_info_issuer_chain")?,
            qe_identity_chain: pem_chain(&c.qe_identity_issuer_chain, "qe_identity_issuer_chain")?,
            pck_crl: crl_from_hex(&c.pck_crl, "pck_crl")?,
            root_crl: crl_from_hex(&c.root_ca_crl, "root_ca_crl")?,
            extra_certs: pem_chain(&c.pck_crl_issuer_chain, "pck_crl_issuer_chain")?,
        })
    }

    /// Parses the PCS pieces given as bytes.
    pub fn from_pcs_parts(
        tcb_info_json: &[u8],
        qe_identity_json: &[u8],
        tcb_signing_chain_pem: &[u8],
        pck_crl: &[u8],
        root_crl: &[u8],
    ) -> Result<Self> {
        let t: PcsTcbInfo<'_> = serde_json::from_slice(tcb_info_json)
            .map_err(|e| Error::collateral(format!("tcb_info.json: {e}")))?;
        let q: PcsQeIdentity<'_> = serde_json::from_slice(qe_identity_json)
            .map_err(|e| Error::collateral(format!("qe_identity.json: {e}")))?;
        let chain = parse_pem_chain(tcb_signing_chain_pem)
            .map_err(|e| Error::collateral(format!("tcb_signing_chain.pem: {e}")))?;
        Ok(Self {
            tcb_info: SignedJson {
                body: t.tcb_info.get().to_owned(),
                signature: sig_from_hex(&t.signature, "tcb_info.json")?,
            },
            qe_identity: SignedJson {
                body: q.identity.get().to_owned(),
                signature: sig_from_hex(&q.signature, "qe_identity.json")?,
            },
            tcb_info_chain: chain.clone(),
            qe_identity_chain: chain,
            pck_crl: Crl::parse(pck_crl)?,
            root_crl: Crl::parse(root_crl)?,
            extra_certs: Vec::new(),
        })
    }

    /// Loads collateral from a combined JSON file or a PCS-style directory.
    pub fn load(path: &Path) -> Result<Self> {
        if path.is_dir() {
            let read = |name: &str| read_limited(&path.join(name), MAX_FILE_LEN);
            Self::from_pcs_parts(
                &read("tcb_info.json")?,
                &read("qe_identity.json")?,
                &read("tcb_signing_chain.pem")?,
                &read("pck_crl.der")?,
                &read("root_crl.der")?,
            )
        } else {
            Self::from_combined_json(&read_limited(path, MAX_FILE_LEN)?)
        }
    }
}
