//! DCAP quote formats: SGX v3, TDX v4 and v5 (SGX, TD 1.0 and TD 1.5 bodies).
//!
//! Layouts follow Intel's "SGX ECDSA Quote Library API" and "TDX DCAP Quoting
//! Library API" documents. All parsing is bounds-checked over the input slice
//! and allocates at most a copy of the input.

use crate::error::{Error, Result};

/// Length of the quote header.
pub const HEADER_LEN: usize = 48;
/// Length of an SGX enclave report body (also the QE report).
pub const ENCLAVE_REPORT_LEN: usize = 384;
/// Length of a TD 1.0 report body.
pub const TD10_REPORT_LEN: usize = 584;
/// Length of a TD 1.5 report body.
pub const TD15_REPORT_LEN: usize = 648;
/// Attestation key type: ECDSA-256 with the P-256 curve.
pub const ATTESTATION_KEY_TYPE_ECDSA_P256: u16 = 2;
/// Intel's QE vendor ID (939A7233-F79C-4CA9-940A-0DB3957F0607).
pub const INTEL_QE_VENDOR_ID: [u8; 16] = [
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
];
/// Certification data type 5: the PCK leaf certificate, intermediate and root, PEM.
pub const CERT_DATA_PCK_CHAIN: u16 = 5;
/// Certification data type 6: QE report certification data (v4/v5 quotes).
pub const CERT_DATA_QE_REPORT: u16 = 6;

/// The trusted execution environment a quote comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum TeeType {
    /// Intel SGX enclave (`tee_type` 0x00000000).
    #[serde(rename = "SGX")]
    Sgx,
    /// Intel TDX trust domain (`tee_type` 0x00000081).
    #[serde(rename = "TDX")]
    Tdx,
}

/// The quote header (48 bytes, covered by the quote signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Quote format version: 3, 4 or 5.
    pub version: u16,
    /// Attestation key type; only [`ATTESTATION_KEY_TYPE_ECDSA_P256`] is supported.
    pub attestation_key_type: u16,
    /// The TEE type.
    pub tee_type: TeeType,
    /// QE security version (reserved in v3).
    pub qe_svn: u16,
    /// PCE security version (reserved in v3).
    pub pce_svn: u16,
    /// QE vendor ID.
    pub qe_vendor_id: [u8; 16],
    /// Vendor-specific user data (the first 16 bytes are the platform's QE ID).
    pub user_data: [u8; 20],
}

/// An SGX report body: the attested enclave's identity (also used for the QE report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnclaveReport {
    /// CPU security version numbers.
    pub cpu_svn: [u8; 16],
    /// MISCSELECT.
    pub misc_select: u32,
    /// ATTRIBUTES (flags then XFRM).
    pub attributes: [u8; 16],
    /// MRENCLAVE.
    pub mr_enclave: [u8; 32],
    /// MRSIGNER.
    pub mr_signer: [u8; 32],
    /// ISVPRODID.
    pub isv_prod_id: u16,
    /// ISVSVN.
    pub isv_svn: u16,
    /// REPORTDATA.
    pub report_data: [u8; 64],
}

impl EnclaveReport {
    /// ATTRIBUTES.FLAGS bit 1: the enclave runs in debug mode.
    pub fn is_debug(&self) -> bool {
        self.attributes[0] & 0x02 != 0
    }

    /// Parses a 384-byte report body.
    pub fn parse(b: &[u8]) -> Result<Self> {
        if b.len() != ENCLAVE_REPORT_LEN {
            return Err(Error::quote(format!(
                "enclave report is {} bytes, expected {ENCLAVE_REPORT_LEN}",
                b.len()
            )));
        }
        let mut r = Reader::new(b);
        let cpu_svn = r.array()?;
        let misc_select = r.u32()?;
        r.skip(28)?;
        let attributes = r.array()?;
        let mr_enclave = r.array()?;
        r.skip(32)?;
        let mr_signer = r.array()?;
        r.skip(96)?;
        let isv_prod_id = r.u16()?;
        let isv_svn = r.u16()?;
        r.skip(60)?;
        let report_data = r.array()?;
        Ok(Self {
            cpu_svn,
            misc_select,
            attributes,
            mr_enclave,
            mr_signer,
            isv_prod_id,
            isv_svn,
            report_data,
        })
    }
}

/// A TDX TD report body (TD 1.0 fields, plus the TD 1.5 extension when present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdReport {
    /// TEE_TCB_SVN: the TDX module and related TCB component SVNs.
    pub tee_tcb_svn: [u8; 16],
    /// MRSEAM: measurement of the TDX module.
    pub mr_seam: [u8; 48],
    /// MRSIGNER_SEAM: signer of the TDX module.
    pub mr_signer_seam: [u8; 48],
    /// SEAMATTRIBUTES.
    pub seam_attributes: [u8; 8],
    /// TDATTRIBUTES.
    pub td_attributes: [u8; 8],
    /// XFAM.
    pub xfam: [u8; 8],
    /// MRTD: the initial TD measurement.
    pub mr_td: [u8; 48],
    /// MRCONFIGID.
    pub mr_config_id: [u8; 48],
    /// MROWNER.
    pub mr_owner: [u8; 48],
    /// MROWNERCONFIG.
    pub mr_owner_config: [u8; 48],
    /// RTMR0..RTMR3.
    pub rtmr: [[u8; 48]; 4],
    /// REPORTDATA.
    pub report_data: [u8; 64],
    /// TD 1.5 only: TEE_TCB_SVN2 and MRSERVICETD.
    pub td15: Option<([u8; 16], [u8; 48])>,
}

impl TdReport {
    /// TDATTRIBUTES bit 0 (TUD.DEBUG): the TD is debuggable.
    pub fn is_debug(&self) -> bool {
        self.td_attributes[0] & 0x01 != 0
    }

    fn parse(b: &[u8]) -> Result<Self> {
        if b.len() != TD10_REPORT_LEN && b.len() != TD15_REPORT_LEN {
            return Err(Error::quote(format!("TD report is {} bytes", b.len())));
        }
        let mut r = Reader::new(b);
        let tee_tcb_svn = r.array()?;
        let mr_seam = r.array()?;
        let mr_signer_seam = r.array()?;
        let seam_attributes = r.array()?;
        let td_attributes = r.array()?;
        let xfam = r.array()?;
        let mr_td = r.array()?;
        let mr_config_id = r.array()?;
        let mr_owner = r.array()?;
        let mr_owner_config = r.array()?;
        let rtmr = [r.array()?, r.array()?, r.array()?, r.array()?];
        let report_data = r.array()?;
        let td15 = if r.remaining() > 0 {
            Some((r.array()?, r.array()?))
        } else {
            None
        };
        Ok(Self {
            tee_tcb_svn,
            mr_seam,
            mr_signer_seam,
            seam_attributes,
            td_attributes,
            xfam,
            mr_td,
            mr_config_id,
            mr_owner,
            mr_owner_config,
            rtmr,
            report_data,
            td15,
        })
    }
}

/// The attested report carried by a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Report {
    /// An SGX enclave report (v3, or v5 body type 1).
    Sgx(EnclaveReport),
    /// A TDX TD report (v4, or v5 body type 2 or 3).
    Td(Box<TdReport>),
}

impl Report {
    /// The 64 bytes of REPORTDATA.
    pub fn report_data(&self) -> &[u8; 64] {
        match self {
            Report::Sgx(r) => &r.report_data,
            Report::Td(r) => &r.report_data,
        }
    }

    /// Whether the enclave or TD runs in debug mode.
    pub fn is_debug(&self) -> bool {
        match self {
            Report::Sgx(r) => r.is_debug(),
            Report::Td(r) => r.is_debug(),
        }
    }
}

/// Certification data: how the verifier finds the PCK certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificationData {
    /// Type 5: the PCK certificate chain (leaf, intermediate, root) in PEM.
    PckCertChain(Vec<u8>),
    /// Any other type (1-4: PPID forms, 7: platform manifest...): recognised, not verifiable here.
    Other {
        /// The certification data type.
        kind: u16,
        /// Its raw bytes.
        data: Vec<u8>,
    },
}

impl CertificationData {
    /// The numeric type of this certification data.
    pub fn kind(&self) -> u16 {
        match self {
            CertificationData::PckCertChain(_) => CERT_DATA_PCK_CHAIN,
            CertificationData::Other { kind, .. } => *kind,
        }
    }
}

/// The ECDSA quote signature data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureData {
    /// ECDSA P-256 signature (r || s, big endian) over header and body by the attestation key.
    pub signature: [u8; 64],
    /// The attestation public key (x || y, big endian).
    pub attestation_key: [u8; 64],
    /// The raw QE report (signed by the PCK key).
    pub qe_report_raw: [u8; ENCLAVE_REPORT_LEN],
    /// The parsed QE report.
    pub qe_report: EnclaveReport,
    /// ECDSA P-256 signature (r || s) over the QE report by the PCK key.
    pub qe_report_signature: [u8; 64],
    /// QE authentication data (hashed with the attestation key into the QE report data).
    pub qe_auth_data: Vec<u8>,
    /// The certification data.
    pub certification_data: CertificationData,
}

/// A parsed DCAP quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The header.
    pub header: Header,
    /// The attested report.
    pub report: Report,
    /// The signature data.
    pub signature: SignatureData,
    signed: Vec<u8>,
    trailing: usize,
}

impl Quote {
    /// Parses a quote. Trailing bytes after the signature data are tolerated
    /// (some quoting stacks pad quotes) and reported by [`Quote::trailing_len`].
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let header = parse_header(r.take(HEADER_LEN)?)?;
        let report = match header.version {
            3 => {
                if header.tee_type != TeeType::Sgx {
                    return Err(Error::UnsupportedQuote(
                        "v3 quote with a TDX TEE type".into(),
                    ));
                }
                Report::Sgx(EnclaveReport::parse(r.take(ENCLAVE_REPORT_LEN)?)?)
            }
            4 => {
                if header.tee_type != TeeType::Tdx {
                    return Err(Error::UnsupportedQuote(
                        "v4 quote with an SGX TEE type".into(),
                    ));
                }
                Report::Td(Box::new(TdReport::parse(r.take(TD10_REPORT_LEN)?)?))
            }
            5 => {
                let body_type = r.u16()?;
                let body_len = r.u32()? as usize;
                let (expected, tee) = match body_type {
                    1 => (ENCLAVE_REPORT_LEN, TeeType::Sgx),
                    2 => (TD10_REPORT_LEN, TeeType::Tdx),
                    3 => (TD15_REPORT_LEN, TeeType::Tdx),
                    t => {
                        return Err(Error::UnsupportedQuote(format!("v5 quote body type {t}")));
                    }
                };
                if body_len != expected || tee != header.tee_type {
                    return Err(Error::quote(format!(
                        "v5 body type {body_type} with size {body_len} and TEE type {:?}",
                        header.tee_type
                    )));
                }
                let body = r.take(body_len)?;
                match tee {
                    TeeType::Sgx => Report::Sgx(EnclaveReport::parse(body)?),
                    TeeType::Tdx => Report::Td(Box::new(TdReport::parse(body)?)),
                }
            }
            v => return Err(Error::UnsupportedQuote(format!("quote version {v}"))),
        };
        let signed_len = r.pos;
        let sig_len = r.u32()? as usize;
        let sig = r.take(sig_len)?;
        let signature = parse_signature_data(sig, header.version)?;
        Ok(Self {
            header,
            report,
            signature,
            signed: bytes[..signed_len].to_vec(),
            trailing: r.remaining(),
        })
    }

    /// The bytes covered by the quote signature (header and body).
    pub fn signed_bytes(&self) -> &[u8] {
        &self.signed
    }

    /// Number of unparsed bytes after the signature data (not covered by any signature).
    pub fn trailing_len(&self) -> usize {
        self.trailing
    }

    /// The PEM PCK chain, or an error naming the unsupported certification data type.
    pub fn pck_chain_pem(&self) -> Result<&[u8]> {
        match &self.signature.certification_data {
            CertificationData::PckCertChain(pem) => Ok(pem),
            other => Err(Error::UnsupportedQuote(format!(
                "certification data type {} (only type 5, the PEM PCK chain, is supported)",
                other.kind()
            ))),
        }
    }
}

fn parse_header(b: &[u8]) -> Result<Header> {
    let mut r = Reader::new(b);
    let version = r.u16()?;
    let attestation_key_type = r.u16()?;
    let tee_raw = r.u32()?;
    let qe_svn = r.u16()?;
    let pce_svn = r.u16()?;
    let qe_vendor_id = r.array()?;
    let user_data = r.array()?;
    if !(3..=5).contains(&version) {
        return Err(Error::UnsupportedQuote(format!("quote version {version}")));
    }
    let tee_type = match tee_raw {
        0 => TeeType::Sgx,
        0x81 => TeeType::Tdx,
        t => return Err(Error::UnsupportedQuote(format!("TEE type {t:#x}"))),
    };
    if attestation_key_type != ATTESTATION_KEY_TYPE_ECDSA_P256 {
        return Err(Error::UnsupportedQuote(format!(
            "attestation key type {attestation_key_type} (only 2, ECDSA P-256, is supported)"
        )));
    }
    Ok(Header {
        version,
        attestation_key_type,
        tee_type,
        qe_svn,
        pce_svn,
        qe_vendor_id,
        user_data,
    })
}

fn parse_signature_data(b: &[u8], version: u16) -> Result<SignatureData> {
    let mut r = Reader::new(b);
    let signature = r.array()?;
    let attestation_key = r.array()?;
    let qe_part: &[u8] = if version == 3 {
        r.take(r.remaining())?
    } else {
        let kind = r.u16()?;
        let len = r.u32()? as usize;
        let data = r.take(len)?;
        if kind != CERT_DATA_QE_REPORT {
            return Err(Error::UnsupportedQuote(format!(
                "v{version} quote with outer certification data type {kind} (expected 6)"
            )));
        }
        data
    };
    if r.remaining() != 0 {
        return Err(Error::quote(format!(
            "{} unexpected bytes after the certification data",
            r.remaining()
        )));
    }
    let mut q = Reader::new(qe_part);
    let qe_report_raw: [u8; ENCLAVE_REPORT_LEN] = q.array()?;
    let qe_report = EnclaveReport::parse(&qe_report_raw)?;
    let qe_report_signature = q.array()?;
    let auth_len = q.u16()? as usize;
    let qe_auth_data = q.take(auth_len)?.to_vec();
    let kind = q.u16()?;
    let len = q.u32()? as usize;
    let data = q.take(len)?.to_vec();
    if q.remaining() != 0 {
        return Err(Error::quote(format!(
            "{} unexpected bytes after the PCK certification data",
            q.remaining()
        )));
    }
    let certification_data = match kind {
        CERT_DATA_PCK_CHAIN => CertificationData::PckCertChain(data),
        1..=7 => CertificationData::Other { kind, data },
        k => {
            return Err(Error::quote(format!("unknown certification data type {k}")));
        }
    };
    Ok(SignatureData {
        signature,
        attestation_key,
        qe_report_raw,
        qe_report,
        qe_report_signature,
        qe_auth_data,
        certification_data,
    })
}

/// A bounds-checked little-endian reader.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::quote(format!(
                "truncated: need {n} bytes at offset {}, only {} left",
                self.pos,
                self.remaining()
            )));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }
    fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
}
