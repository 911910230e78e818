//! X.509 handling for the Intel SGX PKI: PEM chains, ECDSA P-256 signature
//! checks, path building to a trust anchor, validity periods, CRLs and the
//! SGX extensions of PCK certificates.
//!
//! The Intel SGX PKI is small and fixed (root → PCK Platform/Processor CA →
//! PCK leaf; root → TCB signing certificate), all ECDSA P-256 with SHA-256,
//! so path validation here is deliberately narrow: signature, validity,
//! `basicConstraints cA` on issuers, name chaining, depth limit and CRLs.
//! Anything else (other algorithms) is refused.

use base64ct::Encoding;
use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode, Reader, SliceReader};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::name::Name;

use crate::error::{Error, Result};

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SGX_EXTENSIONS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1");
const SGX_TCB: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2");
const SGX_PCESVN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.17");
const SGX_CPUSVN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.18");
const SGX_PCEID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.3");
const SGX_FMSPC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.4");

/// Longest chain accepted (leaf, intermediates, root).
const MAX_DEPTH: usize = 4;
/// Most certificates accepted in one PEM chain.
const MAX_CERTS: usize = 8;

/// A parsed certificate with its DER encoding.
#[derive(Debug, Clone)]
pub struct Cert {
    der: Vec<u8>,
    cert: Certificate,
}

impl PartialEq for Cert {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Cert {
    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let cert =
            Certificate::from_der(der).map_err(|e| Error::cert(format!("certificate: {e}")))?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    /// Parses one PEM certificate (`-----BEGIN CERTIFICATE-----` block).
    ///
    /// Base64 lines of any length are accepted (Intel and others wrap at 64
    /// or 76 columns); the Base64 itself is decoded strictly.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        Self::from_der(&pem_block(pem, "CERTIFICATE").map_err(Error::cert)?)
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate.
    pub fn x509(&self) -> &Certificate {
        &self.cert
    }

    /// The subject's distinguished name as text.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    fn subject_name(&self) -> &Name {
        self.cert.tbs_certificate().subject()
    }

    fn issuer_name(&self) -> &Name {
        self.cert.tbs_certificate().issuer()
    }

    /// The certificate's P-256 public key.
    pub fn public_key(&self) -> Result<VerifyingKey> {
        let spki = self.cert.tbs_certificate().subject_public_key_info();
        if spki.algorithm.oid != EC_PUBLIC_KEY {
            return Err(Error::cert(format!(
                "{}: public key algorithm {} is not EC",
                self.subject(),
                spki.algorithm.oid
            )));
        }
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        if curve != Some(PRIME256V1) {
            return Err(Error::cert(format!(
                "{}: key is not on P-256",
                self.subject()
            )));
        }
        let bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::cert("public key bit string is not byte aligned"))?;
        VerifyingKey::from_sec1_bytes(bytes)
            .map_err(|_| Error::cert(format!("{}: invalid P-256 public key", self.subject())))
    }

    /// Whether `basicConstraints` marks this certificate as a CA.
    pub fn is_ca(&self) -> bool {
        matches!(
            self.cert
                .tbs_certificate()
                .get_extension::<BasicConstraints>(),
            Ok(Some((_, BasicConstraints { ca: true, .. })))
        )
    }

    /// Checks `now` (unix seconds) is within the validity period.
    pub fn check_validity(&self, now: u64) -> Result<()> {
        let v = self.cert.tbs_certificate().validity();
        let nb = v.not_before.to_unix_duration().as_secs();
        let na = v.not_after.to_unix_duration().as_secs();
        if now < nb || now > na {
            return Err(Error::Expired(format!(
                "certificate {} is valid from {} to {}, verification time is {}",
                self.subject(),
                crate::time_fmt(nb),
                crate::time_fmt(na),
                crate::time_fmt(now)
            )));
        }
        Ok(())
    }

    /// Checks that `issuer`'s key signed this certificate.
    fn verify_issued_by(&self, issuer: &Cert) -> Result<()> {
        if self.cert.signature_algorithm().oid != ECDSA_WITH_SHA256 {
            return Err(Error::cert(format!(
                "{}: signature algorithm {} (only ecdsa-with-SHA256 is supported)",
                self.subject(),
                self.cert.signature_algorithm().oid
            )));
        }
        let tbs = first_element_der(&self.der)?;
        let sig = self
            .cert
            .signature()
            .as_bytes()
            .ok_or_else(|| Error::cert("signature bit string is not byte aligned"))?;
        verify_der_sig(&issuer.public_key()?, tbs, sig).map_err(|_| {
            Error::BadSignature(format!(
                "certificate {} is not signed by {}",
                self.subject(),
                issuer.subject()
            ))
        })
    }
}

/// Whether `cert` is another issue of an anchor: same subject and key as one
/// of `anchors`, and signed by that key (e.g. the 2033 and 2049 issues of
/// the Intel SGX Root CA share one key).
pub(crate) fn is_anchor_reissue(cert: &Cert, anchors: &[Cert]) -> bool {
    anchors.iter().any(|a| {
        a.subject_name() == cert.subject_name()
            && a.cert.tbs_certificate().subject_public_key_info()
                == cert.cert.tbs_certificate().subject_public_key_info()
            && cert.verify_issued_by(a).is_ok()
    })
}

/// Verifies an ECDSA P-256/SHA-256 signature in DER form.
fn verify_der_sig(key: &VerifyingKey, msg: &[u8], der_sig: &[u8]) -> Result<()> {
    let sig = Signature::from_der(der_sig).map_err(|_| Error::BadSignature("malformed".into()))?;
    key.verify(msg, &sig)
        .map_err(|_| Error::BadSignature("does not verify".into()))
}

/// Verifies an ECDSA P-256/SHA-256 signature given as raw `r || s`.
pub(crate) fn verify_raw_sig(key: &VerifyingKey, msg: &[u8], raw: &[u8; 64]) -> bool {
    match Signature::from_slice(raw) {
        Ok(sig) => key.verify(msg, &sig).is_ok(),
        Err(_) => false,
    }
}

/// The DER of the first element inside an outer SEQUENCE (the TBS part of a
/// certificate or CRL), exactly as encoded.
fn first_element_der(der: &[u8]) -> Result<&[u8]> {
    let outer = AnyRef::from_der(der).map_err(|e| Error::cert(format!("outer sequence: {e}")))?;
    let value = outer.value();
    let mut r = SliceReader::new(value).map_err(|e| Error::cert(e.to_string()))?;
    let first: AnyRef<'_> = r
        .decode()
        .map_err(|e: der::Error| Error::cert(e.to_string()))?;
    let len = first
        .encoded_len()
        .map_err(|e| Error::cert(e.to_string()))?;
    let len = usize::try_from(u32::from(len)).map_err(|e| Error::cert(e.to_string()))?;
    value
        .get(..len)
        .ok_or_else(|| Error::cert("TBS length out of bounds"))
}

/// Splits a PEM certificate chain (as embedded in certification data type 5).
///
/// Strict: only `CERTIFICATE` blocks, separated by line breaks, with at most
/// trailing NUL bytes; anything else is an error.
pub fn parse_pem_chain(pem: &[u8]) -> Result<Vec<Cert>> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = pem;
    loop {
        // Separators: line breaks between blocks; NULs only at the very end.
        let skip = rest
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        rest = &rest[skip..];
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        if !rest.starts_with(BEGIN) {
            return Err(Error::cert(
                "PEM chain: unexpected data outside certificate blocks",
            ));
        }
        let end = find(rest, END).ok_or_else(|| Error::cert("PEM chain: unterminated block"))?;
        let block_end = end + END.len();
        certs.push(Cert::from_pem(&rest[..block_end])?);
        if certs.len() > MAX_CERTS {
            return Err(Error::cert("PEM chain: too many certificates"));
        }
        rest = &rest[block_end..];
    }
    if certs.is_empty() {
        return Err(Error::cert("PEM chain: no certificate"));
    }
    Ok(certs)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Builds and verifies the path from `leaf` through `pool` to one of `anchors`
/// at time `now`. Returns the path, leaf first, ending with the anchor.
///
/// The order of `pool` does not matter. A certificate in `pool` that claims an
/// anchor's name but is not byte-identical to it is never trusted: the path
/// must end at a certificate whose signature verifies under an anchor's key.
pub(crate) fn build_path(
    leaf: &Cert,
    pool: &[Cert],
    anchors: &[Cert],
    now: u64,
) -> Result<Vec<Cert>> {
    let mut path = vec![leaf.clone()];
    leaf.check_validity(now)?;
    let mut last_err = None;
    for _ in 0..MAX_DEPTH {
        let current = path.last().cloned().expect("path is never empty");
        // Is the current certificate itself an anchor (self-signed root in the chain)?
        if anchors.contains(&current) {
            return Ok(path);
        }
        // Issued directly by an anchor?
        for anchor in anchors {
            if anchor.subject_name() == current.issuer_name() {
                match current.verify_issued_by(anchor) {
                    Ok(()) => {
                        anchor.check_validity(now)?;
                        path.push(anchor.clone());
                        return Ok(path);
                    }
                    Err(e) => last_err = Some(e),
                }
            }
        }
        // Otherwise an intermediate from the pool.
        let mut next = None;
        for cand in pool {
            if *cand == current || path.contains(cand) {
                continue;
            }
            if cand.subject_name() != current.issuer_name() || !cand.is_ca() {
                continue;
            }
            match current.verify_issued_by(cand) {
                Ok(()) => {
                    next = Some(cand.clone());
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        match next {
            Some(n) => {
                n.check_validity(now)?;
                path.push(n);
            }
            None => break,
        }
    }
    Err(Error::UntrustedChain(match last_err {
        Some(e) => format!("no path from {} to a trusted root ({e})", leaf.subject()),
        None => format!("no path from {} to a trusted root", leaf.subject()),
    }))
}

/// A parsed certificate revocation list.
#[derive(Debug, Clone)]
pub struct Crl {
    der: Vec<u8>,
    crl: CertificateList,
}

impl Crl {
    /// Parses a CRL in DER or PEM (`X509 CRL`) form.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let trimmed = trim_ascii(bytes);
        let der = if trimmed.starts_with(b"-----BEGIN") {
            pem_block(trimmed, "X509 CRL").map_err(Error::collateral)?
        } else {
            bytes.to_vec()
        };
        let crl =
            CertificateList::from_der(&der).map_err(|e| Error::collateral(format!("CRL: {e}")))?;
        Ok(Self { der, crl })
    }

    /// The issuer's name as text.
    pub fn issuer(&self) -> String {
        self.crl.tbs_cert_list.issuer.to_string()
    }

    /// Verifies the CRL's signature by `issuer` and its validity at `now`.
    fn check(&self, issuer: &Cert, now: u64) -> Result<()> {
        if self.crl.signature_algorithm.oid != ECDSA_WITH_SHA256 {
            return Err(Error::collateral(format!(
                "CRL of {}: unsupported signature algorithm",
                self.issuer()
            )));
        }
        let tbs = first_element_der(&self.der)?;
        let sig = self
            .crl
            .signature
            .as_bytes()
            .ok_or_else(|| Error::collateral("CRL signature is not byte aligned"))?;
        verify_der_sig(&issuer.public_key()?, tbs, sig).map_err(|_| {
            Error::BadSignature(format!(
                "CRL of {} is not signed by its issuer",
                self.issuer()
            ))
        })?;
        let tbs = &self.crl.tbs_cert_list;
        let this = tbs.this_update.to_unix_duration().as_secs();
        let next = tbs
            .next_update
            .map(|t| t.to_unix_duration().as_secs())
            .unwrap_or(u64::MAX);
        if now < this || now > next {
            return Err(Error::Expired(format!(
                "CRL of {} is valid from {} to {}, verification time is {}",
                self.issuer(),
                crate::time_fmt(this),
                crate::time_fmt(next),
                crate::time_fmt(now)
            )));
        }
        Ok(())
    }

    fn revokes(&self, cert: &Cert) -> bool {
        let serial = cert.cert.tbs_certificate().serial_number();
        self.crl
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .any(|r| r.serial_number == *serial)
    }
}

/// Decodes a single PEM block with the given label; surrounding line breaks
/// and NULs are allowed, nothing else.
fn pem_block(pem: &[u8], label: &str) -> std::result::Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let text = std::str::from_utf8(pem).map_err(|_| "PEM is not UTF-8".to_string())?;
    let text = text.trim_matches(|c: char| c == '\n' || c == '\r' || c == '\0');
    let body = text
        .strip_prefix(begin.as_str())
        .and_then(|t| t.strip_suffix(end.as_str()))
        .ok_or_else(|| format!("not a single PEM {label} block"))?;
    let b64: String = body.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    base64ct::Base64::decode_vec(&b64).map_err(|e| format!("PEM {label}: Base64: {e}"))
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

/// Checks every non-anchor certificate of `path` (leaf first, anchor last)
/// against a CRL issued by its issuer: the CRL must be present, signed by the
/// issuer and current, and must not list the certificate.
pub(crate) fn check_revocation(path: &[Cert], crls: &[Crl], now: u64) -> Result<()> {
    for pair in path.windows(2) {
        let (cert, issuer) = (&pair[0], &pair[1]);
        let mut covered = false;
        for crl in crls {
            if crl.crl.tbs_cert_list.issuer != *issuer.subject_name() {
                continue;
            }
            crl.check(issuer, now)?;
            covered = true;
            if crl.revokes(cert) {
                return Err(Error::CertificateRevoked(format!(
                    "{} is listed in the CRL of {}",
                    cert.subject(),
                    issuer.subject()
                )));
            }
        }
        if !covered {
            return Err(Error::collateral(format!(
                "no CRL from {} to check {}",
                issuer.subject(),
                cert.subject()
            )));
        }
    }
    Ok(())
}

/// The SGX-specific fields of a PCK certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PckExtensions {
    /// The 16 SGX TCB component SVNs.
    pub tcb_components: [u8; 16],
    /// The PCE SVN.
    pub pce_svn: u16,
    /// The raw CPU SVN.
    pub cpu_svn: [u8; 16],
    /// The PCE ID.
    pub pce_id: [u8; 2],
    /// The FMSPC (family-model-stepping-platform-custom SKU).
    pub fmspc: [u8; 6],
}

fn seq_items(value: &[u8]) -> Result<Vec<AnyRef<'_>>> {
    let mut r = SliceReader::new(value).map_err(|e| Error::cert(e.to_string()))?;
    let mut out = Vec::new();
    while !r.is_finished() {
        out.push(
            r.decode()
                .map_err(|e: der::Error| Error::cert(e.to_string()))?,
        );
    }
    Ok(out)
}

fn oid_value<'a>(item: &AnyRef<'a>) -> Result<(ObjectIdentifier, AnyRef<'a>)> {
    let parts = seq_items(item.value())?;
    match parts.as_slice() {
        [oid, value] => Ok((
            oid.decode_as()
                .map_err(|e| Error::cert(format!("SGX extension OID: {e}")))?,
            *value,
        )),
        _ => Err(Error::cert("SGX extension entry is not (OID, value)")),
    }
}

fn octets<const N: usize>(v: &AnyRef<'_>, what: &str) -> Result<[u8; N]> {
    let os: &der::asn1::OctetStringRef = v
        .decode_as()
        .map_err(|e| Error::cert(format!("{what}: {e}")))?;
    os.as_bytes()
        .try_into()
        .map_err(|_| Error::cert(format!("{what}: expected {N} bytes")))
}

/// Extracts the SGX extensions (TCB, PCE ID, FMSPC) from a PCK certificate.
pub fn pck_extensions(cert: &Cert) -> Result<PckExtensions> {
    let exts = cert
        .cert
        .tbs_certificate()
        .extensions()
        .ok_or_else(|| Error::cert("PCK certificate has no extensions"))?;
    let ext = exts
        .iter()
        .find(|e| e.extn_id == SGX_EXTENSIONS)
        .ok_or_else(|| Error::cert("PCK certificate has no SGX extensions"))?;
    let outer = AnyRef::from_der(ext.extn_value.as_bytes())
        .map_err(|e| Error::cert(format!("SGX extensions: {e}")))?;
    let mut tcb = None;
    let mut pce_id = None;
    let mut fmspc = None;
    for item in seq_items(outer.value())? {
        let (oid, value) = oid_value(&item)?;
        if oid == SGX_TCB {
            let mut comps = [0u8; 16];
            let mut pce_svn = None;
            let mut cpu_svn = None;
            for entry in seq_items(value.value())? {
                let (oid, v) = oid_value(&entry)?;
                if oid == SGX_PCESVN {
                    pce_svn = Some(
                        v.decode_as::<u16>()
                            .map_err(|e| Error::cert(format!("PCESVN: {e}")))?,
                    );
                } else if oid == SGX_CPUSVN {
                    cpu_svn = Some(octets::<16>(&v, "CPUSVN")?);
                } else {
                    let arcs: Vec<u32> = oid.arcs().collect();
                    if arcs.len() == 9 && oid.parent() == Some(SGX_TCB) {
                        let i = arcs[8] as usize;
                        if (1..=16).contains(&i) {
                            comps[i - 1] = v
                                .decode_as::<u8>()
                                .map_err(|e| Error::cert(format!("TCB component {i}: {e}")))?;
                        }
                    }
                }
            }
            tcb = Some((
                comps,
                pce_svn.ok_or_else(|| Error::cert("PCK certificate lacks PCESVN"))?,
                cpu_svn.ok_or_else(|| Error::cert("PCK certificate lacks CPUSVN"))?,
            ));
        } else if oid == SGX_PCEID {
            pce_id = Some(octets::<2>(&value, "PCEID")?);
        } else if oid == SGX_FMSPC {
            fmspc = Some(octets::<6>(&value, "FMSPC")?);
        }
    }
    let (tcb_components, pce_svn, cpu_svn) =
        tcb.ok_or_else(|| Error::cert("PCK certificate lacks the SGX TCB extension"))?;
    Ok(PckExtensions {
        tcb_components,
        pce_svn,
        cpu_svn,
        pce_id: pce_id.ok_or_else(|| Error::cert("PCK certificate lacks PCEID"))?,
        fmspc: fmspc.ok_or_else(|| Error::cert("PCK certificate lacks FMSPC"))?,
    })
}

/// Verifies a raw `r || s` ECDSA signature over `msg` by a certificate's key.
pub(crate) fn cert_verifies(cert: &Cert, msg: &[u8], raw: &[u8; 64]) -> Result<bool> {
    Ok(verify_raw_sig(&cert.public_key()?, msg, raw))
}
