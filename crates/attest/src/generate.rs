//! Building quotes, certificates, CRLs and signed collateral — the pieces a
//! *simulated* quoting stack needs, and what our tests use to exercise the
//! verifier end to end.
//!
//! Nothing here is trusted by default: artifacts built with these helpers
//! only verify against anchors the caller chooses (normally a
//! [`TrustAnchors::simulation`](crate::TrustAnchors::simulation) set).

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString, Uint, UtcTime};
use der::{Encode, Header, Tag};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use sha2::{Digest, Sha256};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use x509_cert::crl::RevokedCert;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

use crate::error::{Error, Result};
use crate::pki::PckExtensions;
use crate::quote::{
    ATTESTATION_KEY_TYPE_ECDSA_P256, CERT_DATA_PCK_CHAIN, CERT_DATA_QE_REPORT, ENCLAVE_REPORT_LEN,
    EnclaveReport, INTEL_QE_VENDOR_ID, Report, TD15_REPORT_LEN, TdReport,
};

fn gen_err(e: impl std::fmt::Display) -> Error {
    Error::MalformedCertificate(format!("generating: {e}"))
}

/// Encodes an SGX report body (384 bytes; reserved fields zero).
pub fn encode_enclave_report(r: &EnclaveReport) -> [u8; ENCLAVE_REPORT_LEN] {
    let mut b = [0u8; ENCLAVE_REPORT_LEN];
    b[0..16].copy_from_slice(&r.cpu_svn);
    b[16..20].copy_from_slice(&r.misc_select.to_le_bytes());
    b[48..64].copy_from_slice(&r.attributes);
    b[64..96].copy_from_slice(&r.mr_enclave);
    b[128..160].copy_from_slice(&r.mr_signer);
    b[256..258].copy_from_slice(&r.isv_prod_id.to_le_bytes());
    b[258..260].copy_from_slice(&r.isv_svn.to_le_bytes());
    b[320..384].copy_from_slice(&r.report_data);
    b
}

/// Encodes a TD report body (584 bytes for TD 1.0, 648 with the TD 1.5 fields).
pub fn encode_td_report(t: &TdReport) -> Vec<u8> {
    let mut b = Vec::with_capacity(TD15_REPORT_LEN);
    b.extend_from_slice(&t.tee_tcb_svn);
    b.extend_from_slice(&t.mr_seam);
    b.extend_from_slice(&t.mr_signer_seam);
    b.extend_from_slice(&t.seam_attributes);
    b.extend_from_slice(&t.td_attributes);
    b.extend_from_slice(&t.xfam);
    b.extend_from_slice(&t.mr_td);
    b.extend_from_slice(&t.mr_config_id);
    b.extend_from_slice(&t.mr_owner);
    b.extend_from_slice(&t.mr_owner_config);
    for r in &t.rtmr {
        b.extend_from_slice(r);
    }
    b.extend_from_slice(&t.report_data);
    if let Some((svn2, servtd)) = &t.td15 {
        b.extend_from_slice(svn2);
        b.extend_from_slice(servtd);
    }
    b
}

/// Inputs for a DCAP quote (ECDSA P-256, certification data type 5).
#[derive(Debug, Clone)]
pub struct QuoteInput<'a> {
    /// Quote version: 3 (SGX), 4 (TDX) or 5 (either).
    pub version: u16,
    /// The attested report: an SGX report body or a TD report.
    pub report: &'a Report,
    /// The QE's report body; its report data is overwritten with the binding
    /// of the attestation key and `qe_auth_data`.
    pub qe_report: &'a EnclaveReport,
    /// The attestation key (signs header and body).
    pub attestation_key: &'a SigningKey,
    /// The PCK private key (signs the QE report).
    pub pck_key: &'a SigningKey,
    /// QE authentication data.
    pub qe_auth_data: &'a [u8],
    /// The PEM PCK chain (leaf first) for certification data type 5.
    pub pck_chain_pem: &'a [u8],
    /// Header QE SVN (reserved in v3).
    pub qe_svn: u16,
    /// Header PCE SVN (reserved in v3).
    pub pce_svn: u16,
    /// Header user data (QE ID in the first 16 bytes).
    pub user_data: [u8; 20],
}

/// Builds a signed DCAP quote: SGX v3, TDX v4, or v5 with an SGX, TD 1.0 or
/// TD 1.5 body. The result parses with [`Quote::parse`](crate::Quote::parse).
pub fn build_quote(input: &QuoteInput<'_>) -> Result<Vec<u8>> {
    let (tee, body, v5_type): (u32, Vec<u8>, u16) = match input.report {
        Report::Sgx(r) => (0, encode_enclave_report(r).to_vec(), 1),
        Report::Td(t) => (
            0x81,
            encode_td_report(t),
            if t.td15.is_some() { 3 } else { 2 },
        ),
    };
    match (input.version, tee, v5_type) {
        (3, 0, _) | (4, 0x81, 2) | (5, _, _) => {}
        (v, _, _) => return Err(gen_err(format!("quote version {v} cannot carry this body"))),
    }
    let mut q = Vec::with_capacity(4096);
    q.extend_from_slice(&input.version.to_le_bytes());
    q.extend_from_slice(&ATTESTATION_KEY_TYPE_ECDSA_P256.to_le_bytes());
    q.extend_from_slice(&tee.to_le_bytes());
    q.extend_from_slice(&input.qe_svn.to_le_bytes());
    q.extend_from_slice(&input.pce_svn.to_le_bytes());
    q.extend_from_slice(&INTEL_QE_VENDOR_ID);
    q.extend_from_slice(&input.user_data);
    if input.version == 5 {
        q.extend_from_slice(&v5_type.to_le_bytes());
        let len = u32::try_from(body.len()).map_err(gen_err)?;
        q.extend_from_slice(&len.to_le_bytes());
    }
    q.extend_from_slice(&body);

    let quote_sig: Signature = input.attestation_key.sign(&q);
    let ak_point = input.attestation_key.verifying_key().to_sec1_point(false);
    let ak: [u8; 64] = ak_point.as_bytes()[1..]
        .try_into()
        .map_err(|_| gen_err("attestation key encoding"))?;

    let mut qe = input.qe_report.clone();
    let mut h = Sha256::new();
    h.update(ak);
    h.update(input.qe_auth_data);
    qe.report_data = [0u8; 64];
    qe.report_data[..32].copy_from_slice(&h.finalize());
    let qe_raw = encode_enclave_report(&qe);
    let qe_sig: Signature = input.pck_key.sign(&qe_raw);

    let auth_len =
        u16::try_from(input.qe_auth_data.len()).map_err(|_| gen_err("auth data too long"))?;
    let cert_len =
        u32::try_from(input.pck_chain_pem.len()).map_err(|_| gen_err("PCK chain too long"))?;
    let mut qe_part = Vec::new();
    qe_part.extend_from_slice(&qe_raw);
    qe_part.extend_from_slice(&qe_sig.to_bytes());
    qe_part.extend_from_slice(&auth_len.to_le_bytes());
    qe_part.extend_from_slice(input.qe_auth_data);
    qe_part.extend_from_slice(&CERT_DATA_PCK_CHAIN.to_le_bytes());
    qe_part.extend_from_slice(&cert_len.to_le_bytes());
    qe_part.extend_from_slice(input.pck_chain_pem);

    let mut sig = Vec::new();
    sig.extend_from_slice(&quote_sig.to_bytes());
    sig.extend_from_slice(&ak);
    if input.version == 3 {
        sig.extend_from_slice(&qe_part);
    } else {
        sig.extend_from_slice(&CERT_DATA_QE_REPORT.to_le_bytes());
        let len = u32::try_from(qe_part.len()).map_err(gen_err)?;
        sig.extend_from_slice(&len.to_le_bytes());
        sig.extend_from_slice(&qe_part);
    }

    let sig_len = u32::try_from(sig.len()).map_err(|_| gen_err("signature data too long"))?;
    q.extend_from_slice(&sig_len.to_le_bytes());
    q.extend_from_slice(&sig);
    Ok(q)
}

/// An X.509 time for unix seconds (UTCTime before 2050, else GeneralizedTime).
pub fn x509_time(secs: u64) -> Result<Time> {
    let d = Duration::from_secs(secs);
    if secs < 2_524_608_000 {
        Ok(Time::UtcTime(
            UtcTime::from_unix_duration(d).map_err(gen_err)?,
        ))
    } else {
        Ok(Time::GeneralTime(
            GeneralizedTime::from_unix_duration(d).map_err(gen_err)?,
        ))
    }
}

struct Profile {
    subject: Name,
    issuer: Name,
    ca: bool,
    extra: Vec<Extension>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let bc = BasicConstraints {
            ca: self.ca,
            path_len_constraint: None,
        };
        let mut v = vec![Extension {
            extn_id: ObjectIdentifier::new_unwrap("2.5.29.19"),
            critical: true,
            extn_value: OctetString::new(bc.to_der()?)?,
        }];
        v.extend(self.extra.iter().cloned());
        Ok(v)
    }
}

/// What a generated certificate should say.
#[derive(Debug, Clone)]
pub struct CertSpec<'a> {
    /// Subject DN in RFC 4514 form, e.g. `CN=Sim SGX Root CA,O=Shield`.
    pub subject: &'a str,
    /// Serial number (big-endian, positive).
    pub serial: &'a [u8],
    /// Validity start (unix seconds).
    pub not_before: u64,
    /// Validity end (unix seconds).
    pub not_after: u64,
    /// Whether it is a CA certificate.
    pub ca: bool,
    /// SGX PCK extensions to embed (for PCK leaf certificates).
    pub sgx: Option<&'a PckExtensions>,
}

/// Issues a certificate for `subject_key` signed by `issuer_key`; with
/// `issuer` `None` it is self-signed (a root).
pub fn issue_cert(
    spec: &CertSpec<'_>,
    subject_key: &p256::ecdsa::VerifyingKey,
    issuer: Option<&[u8]>,
    issuer_key: &SigningKey,
) -> Result<Vec<u8>> {
    let subject = Name::from_str(spec.subject).map_err(gen_err)?;
    let issuer_name = match issuer {
        Some(der) => {
            let c: Certificate = der::Decode::from_der(der).map_err(gen_err)?;
            c.tbs_certificate().subject().clone()
        }
        None => subject.clone(),
    };
    let extra = match spec.sgx {
        Some(p) => vec![sgx_extension(p)?],
        None => Vec::new(),
    };
    let profile = Profile {
        subject,
        issuer: issuer_name,
        ca: spec.ca,
        extra,
    };
    let spki = SubjectPublicKeyInfoOwned::from_key(subject_key).map_err(gen_err)?;
    let validity = Validity::new(x509_time(spec.not_before)?, x509_time(spec.not_after)?);
    let serial = SerialNumber::new(spec.serial).map_err(gen_err)?;
    let builder = CertificateBuilder::new(profile, serial, validity, spki).map_err(gen_err)?;
    let cert = builder
        .build::<_, DerSignature>(issuer_key)
        .map_err(gen_err)?;
    cert.to_der().map_err(gen_err)
}

fn tlv(tag: Tag, content: &[u8]) -> Result<Vec<u8>> {
    let len = der::Length::try_from(content.len()).map_err(gen_err)?;
    let mut out = Header::new(tag, len).to_der().map_err(gen_err)?;
    out.extend_from_slice(content);
    Ok(out)
}

fn entry(oid: &str, value: Vec<u8>) -> Result<Vec<u8>> {
    let mut c = ObjectIdentifier::new(oid)
        .map_err(gen_err)?
        .to_der()
        .map_err(gen_err)?;
    c.extend_from_slice(&value);
    tlv(Tag::Sequence, &c)
}

fn int(v: u64) -> Result<Vec<u8>> {
    let bytes = v.to_be_bytes();
    let uint = Uint::new(&bytes).map_err(gen_err)?;
    uint.to_der().map_err(gen_err)
}

fn octets(b: &[u8]) -> Result<Vec<u8>> {
    tlv(Tag::OctetString, b)
}

/// The SGX extension (OID 1.2.840.113741.1.13.1) of a PCK certificate.
pub fn sgx_extension(p: &PckExtensions) -> Result<Extension> {
    const BASE: &str = "1.2.840.113741.1.13.1";
    let mut tcb = Vec::new();
    for (i, svn) in p.tcb_components.iter().enumerate() {
        tcb.extend(entry(
            &format!("{BASE}.2.{}", i + 1),
            int(u64::from(*svn))?,
        )?);
    }
    tcb.extend(entry(&format!("{BASE}.2.17"), int(u64::from(p.pce_svn))?)?);
    tcb.extend(entry(&format!("{BASE}.2.18"), octets(&p.cpu_svn)?)?);
    let mut all = Vec::new();
    all.extend(entry(&format!("{BASE}.1"), octets(&[0u8; 16])?)?); // PPID
    all.extend(entry(&format!("{BASE}.2"), tlv(Tag::Sequence, &tcb)?)?);
    all.extend(entry(&format!("{BASE}.3"), octets(&p.pce_id)?)?);
    all.extend(entry(&format!("{BASE}.4"), octets(&p.fmspc)?)?);
    all.extend(entry(&format!("{BASE}.5"), tlv(Tag::Enumerated, &[0])?)?); // SGX type: Standard
    Ok(Extension {
        extn_id: ObjectIdentifier::new(BASE).map_err(gen_err)?,
        critical: false,
        extn_value: OctetString::new(tlv(Tag::Sequence, &all)?).map_err(gen_err)?,
    })
}

/// Issues a CRL from `issuer_der` (signed by `issuer_key`) listing `revoked` serials.
pub fn issue_crl(
    issuer_der: &[u8],
    issuer_key: &SigningKey,
    this_update: u64,
    next_update: u64,
    revoked: &[&[u8]],
) -> Result<Vec<u8>> {
    let issuer: Certificate = der::Decode::from_der(issuer_der).map_err(gen_err)?;
    let number = CrlNumber(Uint::new(&[1]).map_err(gen_err)?);
    let revoked = revoked
        .iter()
        .map(|s| {
            Ok(RevokedCert {
                serial_number: SerialNumber::<x509_cert::certificate::Rfc5280>::new(s)
                    .map_err(gen_err)?,
                revocation_date: x509_time(this_update)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut b = CrlBuilder::new_with_this_update(&issuer, number, x509_time(this_update)?)
        .map_err(gen_err)?
        .with_next_update(Some(x509_time(next_update)?));
    if !revoked.is_empty() {
        b = b.with_certificates(revoked.into_iter());
    }
    let crl = b.build::<_, DerSignature>(issuer_key).map_err(gen_err)?;
    crl.to_der().map_err(gen_err)
}

/// Signs a collateral JSON body (TCB info or QE identity): raw `r || s`.
pub fn sign_json(body: &str, key: &SigningKey) -> [u8; 64] {
    let sig: Signature = key.sign(body.as_bytes());
    let mut out = [0u8; 64];
    out.copy_from_slice(&sig.to_bytes());
    out
}

/// PEM-encodes a DER certificate.
pub fn cert_pem(der: &[u8]) -> Result<String> {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).map_err(gen_err)
}

/// A deterministic P-256 key from a seed (tests and simulation only).
pub fn key_from_seed(seed: &[u8]) -> SigningKey {
    let mut counter = 0u32;
    loop {
        let mut h = Sha256::new();
        h.update(seed);
        h.update(counter.to_le_bytes());
        if let Ok(k) = SigningKey::from_slice(&h.finalize()) {
            return k;
        }
        counter += 1;
    }
}

/// The public key of a signing key (for [`issue_cert`]).
pub fn public(key: &SigningKey) -> p256::ecdsa::VerifyingKey {
    *key.verifying_key()
}

#[allow(dead_code)]
fn _assert_encode_public_key(k: &p256::ecdsa::VerifyingKey) -> bool {
    k.to_public_key_der().is_ok()
}
