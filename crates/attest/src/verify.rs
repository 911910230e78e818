//! Quote verification, step by step as Intel's quote verification library
//! does it.
//!
//! Always checked:
//! 1. the quote parses, its QE vendor is Intel and its certification data is
//!    the PEM PCK chain (type 5);
//! 2. the PCK chain leads to a trust anchor at the verification time (path
//!    building: the order of the embedded chain does not matter);
//! 3. the QE report is signed by the PCK leaf key;
//! 4. the QE report data is `SHA-256(attestation key || QE auth data)`
//!    followed by 32 zero bytes;
//! 5. the quote (header and body) is signed by the attestation key.
//!
//! With collateral, also:
//! 6. the PCK chain against the root and PCK CA CRLs (signed and current);
//! 7. the TCB info and QE identity signatures by the TCB signing certificate,
//!    itself chained to the anchor and checked against the root CRL, and both
//!    documents current at the verification time;
//! 8. the QE report against the QE identity, and the QE's TCB level;
//! 9. the platform TCB (PCK certificate extensions; for TDX also the TD's
//!    TEE_TCB_SVN and TDX module) against the TCB info levels, converged with
//!    the QE's status.

use p256::ecdsa::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::collateral::{Collateral, SignedJson};
use crate::error::{Error, Result};
use crate::pki::{self, Cert, PckExtensions};
use crate::quote::{INTEL_QE_VENDOR_ID, Quote, Report, TeeType};
use crate::roots::TrustAnchors;
use crate::tcb::{self, QeIdentity, TcbInfo, TcbOutcome, TcbStatus};

/// A quote whose signatures and certificate chain verified.
#[derive(Debug, Clone)]
pub struct VerifiedQuote {
    /// The parsed quote.
    pub quote: Quote,
    /// The TCB status ([`TcbStatus::TcbNotChecked`] without collateral) and advisories.
    pub tcb: TcbOutcome,
    /// SGX extensions of the PCK certificate (FMSPC, TCB SVNs).
    pub pck: PckExtensions,
    /// The PCK chain as validated, leaf first, anchor last.
    pub pck_path: Vec<Cert>,
    /// Whether the chain ends at a simulation anchor.
    pub simulation: bool,
}

/// Verifies quotes against a set of trust anchors.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    anchors: TrustAnchors,
}

impl Verifier {
    /// A verifier trusting the given anchors.
    pub fn new(anchors: TrustAnchors) -> Self {
        Self { anchors }
    }

    /// A verifier trusting only the production Intel SGX Root CA.
    pub fn intel() -> Self {
        Self::default()
    }

    /// The anchors this verifier trusts.
    pub fn anchors(&self) -> &TrustAnchors {
        &self.anchors
    }

    /// Parses and verifies `quote` at `now` (unix seconds). Without
    /// collateral only the signatures and the PCK chain are checked and the
    /// status is [`TcbStatus::TcbNotChecked`].
    pub fn verify(
        &self,
        quote: &[u8],
        collateral: Option<&Collateral>,
        now: u64,
    ) -> Result<VerifiedQuote> {
        self.verify_parsed(Quote::parse(quote)?, collateral, now)
    }

    /// Verifies an already parsed quote.
    pub fn verify_parsed(
        &self,
        quote: Quote,
        collateral: Option<&Collateral>,
        now: u64,
    ) -> Result<VerifiedQuote> {
        if quote.header.qe_vendor_id != INTEL_QE_VENDOR_ID {
            return Err(Error::UnsupportedQuote(format!(
                "QE vendor ID {} is not Intel's",
                hex::encode(quote.header.qe_vendor_id)
            )));
        }
        let anchors = self.anchors.certs();

        // 2. PCK chain.
        let chain = pki::parse_pem_chain(quote.pck_chain_pem()?)?;
        let leaf = &chain[0];
        if leaf.is_ca() {
            return Err(Error::UntrustedChain(format!(
                "PCK certificate {} is a CA certificate",
                leaf.subject()
            )));
        }
        let mut pool: Vec<Cert> = chain[1..].to_vec();
        if let Some(c) = collateral {
            pool.extend(c.extra_certs.iter().cloned());
        }
        let pck_path = pki::build_path(leaf, &pool, anchors, now)?;
        // Every certificate the quote carries must be on the validated path
        // or be a (verified) issue of an anchor: nothing unverified rides along.
        if let Some(stray) = chain
            .iter()
            .find(|c| !pck_path.contains(c) && !pki::is_anchor_reissue(c, anchors))
        {
            return Err(Error::UntrustedChain(format!(
                "certificate {} in the quote is not on the path to a trusted root",
                stray.subject()
            )));
        }

        // 3. QE report signed by the PCK key.
        let sig = &quote.signature;
        if !pki::cert_verifies(leaf, &sig.qe_report_raw, &sig.qe_report_signature)? {
            return Err(Error::BadSignature(
                "QE report signature does not verify with the PCK certificate".into(),
            ));
        }

        // 4. QE report data binds the attestation key and auth data.
        let mut h = Sha256::new();
        h.update(sig.attestation_key);
        h.update(&sig.qe_auth_data);
        let digest = h.finalize();
        let rd = &sig.qe_report.report_data;
        if rd[..32] != digest[..] || rd[32..].iter().any(|&b| b != 0) {
            return Err(Error::QeBinding(
                "QE report data is not SHA-256(attestation key || QE auth data)".into(),
            ));
        }

        // 5. Quote signed by the attestation key.
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..].copy_from_slice(&sig.attestation_key);
        let ak = VerifyingKey::from_sec1_bytes(&sec1)
            .map_err(|_| Error::BadSignature("attestation key is not a P-256 point".into()))?;
        if !pki::verify_raw_sig(&ak, quote.signed_bytes(), &sig.signature) {
            return Err(Error::BadSignature(
                "quote signature does not verify with the attestation key".into(),
            ));
        }

        let pck = pki::pck_extensions(leaf)?;
        let tcb = match collateral {
            None => TcbOutcome {
                status: TcbStatus::TcbNotChecked,
                advisory_ids: Vec::new(),
            },
            Some(c) => self.check_tcb(&quote, &pck, &pck_path, c, now)?,
        };
        Ok(VerifiedQuote {
            quote,
            tcb,
            pck,
            pck_path,
            simulation: self.anchors.is_simulation(),
        })
    }

    fn check_tcb(
        &self,
        quote: &Quote,
        pck: &PckExtensions,
        pck_path: &[Cert],
        c: &Collateral,
        now: u64,
    ) -> Result<TcbOutcome> {
        let crls = [c.pck_crl.clone(), c.root_crl.clone()];
        // 6. Revocation of the PCK chain.
        pki::check_revocation(pck_path, &crls, now)?;

        // 7. Signed collateral documents.
        let tcb_body =
            self.check_signed_json(&c.tcb_info, &c.tcb_info_chain, &crls, now, "TCB info")?;
        let qe_body = self.check_signed_json(
            &c.qe_identity,
            &c.qe_identity_chain,
            &crls,
            now,
            "QE identity",
        )?;
        let tcb_info = TcbInfo::parse_json(tcb_body)?;
        let qe_identity = QeIdentity::parse_json(qe_body)?;
        check_window("TCB info", tcb_info.issue_date, tcb_info.next_update, now)?;
        check_window(
            "QE identity",
            qe_identity.issue_date,
            qe_identity.next_update,
            now,
        )?;

        // 8. Quoting enclave identity.
        let expected_qe = match quote.header.tee_type {
            TeeType::Sgx => "QE",
            TeeType::Tdx => "TD_QE",
        };
        if qe_identity.id != expected_qe {
            return Err(Error::CollateralMismatch(format!(
                "QE identity {:?} given for a quote that needs {expected_qe:?}",
                qe_identity.id
            )));
        }
        let qe = qe_identity.evaluate(&quote.signature.qe_report)?;

        // 9. Platform TCB.
        let td = match &quote.report {
            Report::Td(td) => Some(&**td),
            Report::Sgx(_) => None,
        };
        let platform = tcb_info.evaluate(pck, td)?;
        Ok(tcb::converge_qe(platform, &qe))
    }

    fn check_signed_json<'a>(
        &self,
        doc: &'a SignedJson,
        chain: &[Cert],
        crls: &[pki::Crl],
        now: u64,
        what: &str,
    ) -> Result<&'a str> {
        let signer = chain
            .first()
            .ok_or_else(|| Error::collateral(format!("{what}: empty signing chain")))?;
        if signer.is_ca() {
            return Err(Error::UntrustedChain(format!(
                "{what} signer {} is a CA certificate, not a signing certificate",
                signer.subject()
            )));
        }
        let path = pki::build_path(signer, &chain[1..], self.anchors.certs(), now)
            .map_err(|e| prefix(e, &format!("{what} signing chain")))?;
        pki::check_revocation(&path, crls, now)?;
        if !pki::cert_verifies(signer, doc.body.as_bytes(), &doc.signature)? {
            return Err(Error::BadSignature(format!(
                "{what} signature does not verify with {}",
                signer.subject()
            )));
        }
        Ok(&doc.body)
    }
}

fn check_window(what: &str, issue: u64, next: u64, now: u64) -> Result<()> {
    if now < issue || now > next {
        return Err(Error::Expired(format!(
            "{what} is valid from {} to {}, verification time is {}",
            crate::time_fmt(issue),
            crate::time_fmt(next),
            crate::time_fmt(now)
        )));
    }
    Ok(())
}

fn prefix(e: Error, p: &str) -> Error {
    match e {
        Error::UntrustedChain(m) => Error::UntrustedChain(format!("{p}: {m}")),
        Error::Expired(m) => Error::Expired(format!("{p}: {m}")),
        other => other,
    }
}
