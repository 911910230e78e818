//! RA-TLS for Shield: TLS whose certificate *is* the attestation.
//!
//! An enclave makes a fresh P-256 key pair, asks for a quote whose report
//! data binds the key (SHA-256 of the certificate's SubjectPublicKeyInfo
//! DER, zero-padded to 64 bytes: [`report_data_for`]), and presents a
//! self-signed X.509 certificate ([`RaTlsCert::new`]) carrying the raw DCAP
//! quote in an extension with OID [`QUOTE_OID`]. A peer checks it with
//! [`RaTlsVerifier`], which is both a rustls `ServerCertVerifier` (for
//! clients) and a `ClientCertVerifier` (for servers): it finds the quote,
//! verifies it with `shield_attest` (signatures, PCK chain to the chosen
//! trust anchors, collateral, TCB), appraises it against a [`Policy`], and
//! checks that the report data binds the certificate's key. The TLS
//! handshake then proves the peer holds that key. Certificate names, CAs
//! and validity periods play no part.
//!
//! Simulation quotes (from `shield_host`'s simulated quoting enclave) only
//! pass when the verifier's anchors are the simulation root *and* the
//! policy says `allow_simulation = true`; see `shield_attest::TrustAnchors`.
//!
//! The crypto provider is rustls' `ring` provider, so the same code builds
//! into enclaves (ring needs only `getrandom` and the clock, which the
//! enclave sandbox allows).
#![forbid(unsafe_code)]

use std::sync::Arc;

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use sha2::{Digest, Sha256};
use shield_attest::{Collateral, Policy, Verdict, Verifier};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::Validity;
use x509_cert::{Certificate, TbsCertificate};

/// The X.509 extension carrying the raw SGX quote: `1.2.840.113741.1337.6`.
///
/// This is the quote OID of Intel's RA-TLS — Intel Labs' `sgx-ra-tls`
/// (Knauth et al., "Integrating Remote Attestation with Transport Layer
/// Security", 2018), kept by Gramine's RA-TLS library, where `ra_tls.h`
/// spells it `NON_STANDARD_INTEL_SGX_QUOTE_OID` (bytes `2A 86 48 86 F8 4D
/// 8A 39 06` under the Intel arc 1.2.840.113741). Using it keeps our
/// certificates readable by those verifiers' quote extraction.
pub const QUOTE_OID: &str = "1.2.840.113741.1337.6";

/// Why an RA-TLS certificate was not made or not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Making a key or certificate failed.
    #[error("RA-TLS certificate generation: {0}")]
    Generate(String),
    /// The certificate is not an RA-TLS certificate (unparsable, no quote).
    #[error("not an RA-TLS certificate: {0}")]
    NotRaTls(String),
    /// The quote did not verify, or the policy refused it.
    #[error("RA-TLS quote refused: {0}")]
    Refused(String),
    /// The quote is valid but does not bind this certificate's key.
    #[error("RA-TLS quote does not bind the certificate's public key (report data mismatch)")]
    KeyNotBound,
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

fn gen_err(e: impl std::fmt::Display) -> Error {
    Error::Generate(e.to_string())
}

/// A fresh P-256 key from the OS's randomness (`getrandom`).
pub fn generate_key() -> Result<SigningKey> {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(gen_err)?;
        if let Ok(key) = SigningKey::from_slice(&bytes) {
            return Ok(key);
        }
    }
}

/// The DER SubjectPublicKeyInfo of `key`'s public key.
pub fn spki_der(key: &SigningKey) -> Result<Vec<u8>> {
    Ok(key
        .verifying_key()
        .to_public_key_der()
        .map_err(gen_err)?
        .as_bytes()
        .to_vec())
}

/// The report data binding a public key: SHA-256 of its SubjectPublicKeyInfo
/// DER, then 32 zero bytes.
pub fn report_data_for(spki_der: &[u8]) -> [u8; 64] {
    let mut data = [0u8; 64];
    data[..32].copy_from_slice(&Sha256::digest(spki_der));
    data
}

struct SelfSigned {
    name: Name,
    quote_ext: Extension,
}

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.name.clone()
    }
    fn get_subject(&self) -> Name {
        self.name.clone()
    }
    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(vec![self.quote_ext.clone()])
    }
}

/// An RA-TLS identity: the key and the self-signed certificate carrying its quote.
pub struct RaTlsCert {
    key: SigningKey,
    cert: Vec<u8>,
}

impl std::fmt::Debug for RaTlsCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaTlsCert")
            .field("cert_len", &self.cert.len())
            .finish_non_exhaustive()
    }
}

impl RaTlsCert {
    /// A self-signed certificate for `key` (subject `CN=<common_name>`)
    /// carrying `quote`, valid from `not_before` to `not_after` (unix
    /// seconds). The quote's report data should be
    /// `report_data_for(&spki_der(&key)?)`.
    pub fn new(
        key: SigningKey,
        quote: &[u8],
        common_name: &str,
        not_before: u64,
        not_after: u64,
    ) -> Result<Self> {
        let name: Name = format!("CN={common_name},O=Shield RA-TLS")
            .parse()
            .map_err(gen_err)?;
        let quote_ext = Extension {
            extn_id: ObjectIdentifier::new(QUOTE_OID).map_err(gen_err)?,
            critical: false,
            extn_value: OctetString::new(quote).map_err(gen_err)?,
        };
        let spki = SubjectPublicKeyInfoOwned::from_key(key.verifying_key()).map_err(gen_err)?;
        let validity = Validity::new(
            shield_attest::generate::x509_time(not_before).map_err(gen_err)?,
            shield_attest::generate::x509_time(not_after).map_err(gen_err)?,
        );
        let mut serial = [0u8; 16];
        getrandom::getrandom(&mut serial).map_err(gen_err)?;
        serial[0] &= 0x7f;
        serial[0] |= 0x01;
        let serial = SerialNumber::new(&serial).map_err(gen_err)?;
        let builder =
            CertificateBuilder::new(SelfSigned { name, quote_ext }, serial, validity, spki)
                .map_err(gen_err)?;
        let cert = builder.build::<_, DerSignature>(&key).map_err(gen_err)?;
        Ok(Self {
            cert: cert.to_der().map_err(gen_err)?,
            key,
        })
    }

    /// The certificate (DER).
    pub fn cert_der(&self) -> &[u8] {
        &self.cert
    }

    /// The private key as PKCS#8 DER (for rustls).
    pub fn key_pkcs8_der(&self) -> Result<Vec<u8>> {
        Ok(self
            .key
            .to_pkcs8_der()
            .map_err(gen_err)?
            .as_bytes()
            .to_vec())
    }

    /// A rustls server config presenting this certificate, without client
    /// authentication (or with RA-TLS client authentication, if given).
    pub fn server_config(
        &self,
        client_verifier: Option<Arc<RaTlsVerifier>>,
    ) -> Result<rustls::ServerConfig> {
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(gen_err)?;
        let builder = match client_verifier {
            Some(v) => builder.with_client_cert_verifier(v),
            None => builder.with_no_client_auth(),
        };
        builder
            .with_single_cert(vec![self.cert_chain()], self.private_key()?)
            .map_err(gen_err)
    }

    /// A rustls client config that checks the server with `verifier` and,
    /// for mutual RA-TLS, presents this certificate.
    pub fn client_config(&self, verifier: Arc<RaTlsVerifier>) -> Result<rustls::ClientConfig> {
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(gen_err)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(vec![self.cert_chain()], self.private_key()?)
            .map_err(gen_err)
    }

    fn cert_chain(&self) -> CertificateDer<'static> {
        CertificateDer::from(self.cert.clone())
    }

    fn private_key(&self) -> Result<PrivateKeyDer<'static>> {
        Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            self.key_pkcs8_der()?,
        )))
    }
}

/// The crypto provider RA-TLS uses (rustls' `ring` provider).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client config (no client certificate) that checks the server with `verifier`.
pub fn client_config(verifier: Arc<RaTlsVerifier>) -> Result<rustls::ClientConfig> {
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(gen_err)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The raw quote and the SubjectPublicKeyInfo DER of an RA-TLS certificate.
pub fn extract(cert_der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let cert =
        Certificate::from_der(cert_der).map_err(|e| Error::NotRaTls(format!("X.509: {e}")))?;
    let tbs = cert.tbs_certificate();
    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| Error::NotRaTls(e.to_string()))?;
    let oid = ObjectIdentifier::new_unwrap(QUOTE_OID);
    let mut quotes = tbs
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == oid);
    let quote = quotes
        .next()
        .ok_or_else(|| Error::NotRaTls(format!("no quote extension ({QUOTE_OID})")))?;
    if quotes.next().is_some() {
        return Err(Error::NotRaTls("two quote extensions".into()));
    }
    Ok((quote.extn_value.as_bytes().to_vec(), spki))
}

/// Checks RA-TLS certificates: the quote against anchors, collateral and a
/// policy, and its binding of the certificate's key. Use it as a rustls
/// server-certificate verifier (clients) or client-certificate verifier
/// (servers).
#[derive(Debug)]
pub struct RaTlsVerifier {
    verifier: Verifier,
    collateral: Option<Collateral>,
    policy: Policy,
    at: Option<u64>,
    algorithms: WebPkiSupportedAlgorithms,
    hints: Vec<DistinguishedName>,
}

impl RaTlsVerifier {
    /// Verifies quotes with `verifier` (its trust anchors: Intel's root, or
    /// a simulation root) and appraises them with `policy`. Without
    /// collateral only signatures and the PCK chain are checked
    /// (`TcbNotChecked`), which a policy may refuse.
    pub fn new(verifier: Verifier, policy: Policy) -> Self {
        Self {
            verifier,
            collateral: None,
            policy,
            at: None,
            algorithms: provider().signature_verification_algorithms,
            hints: Vec::new(),
        }
    }

    /// Checks TCB status and revocation with `collateral`.
    pub fn with_collateral(mut self, collateral: Collateral) -> Self {
        self.collateral = Some(collateral);
        self
    }

    /// Verifies at a fixed time (unix seconds) instead of the handshake's.
    pub fn at(mut self, unix_seconds: u64) -> Self {
        self.at = Some(unix_seconds);
        self
    }

    /// Checks one RA-TLS certificate at `now`; the verdict on success.
    pub fn check(&self, cert_der: &[u8], now: u64) -> Result<Verdict> {
        let (quote, spki) = extract(cert_der)?;
        let now = self.at.unwrap_or(now);
        let verdict = Verdict::evaluate(
            &self.verifier,
            &quote,
            self.collateral.as_ref(),
            &self.policy,
            now,
        );
        if !verdict.accepted {
            let mut why: Vec<String> = verdict.error.iter().map(ToString::to_string).collect();
            why.extend(verdict.policy_refusals.iter().cloned());
            if why.is_empty() {
                why.push(verdict.to_string());
            }
            return Err(Error::Refused(why.join("; ")));
        }
        let bound = verdict
            .identity
            .as_ref()
            .is_some_and(|id| id.report_data == hex_lower(&report_data_for(&spki)));
        if !bound {
            return Err(Error::KeyNotBound);
        }
        Ok(verdict)
    }

    fn check_rustls(
        &self,
        cert: &CertificateDer<'_>,
        now: UnixTime,
    ) -> std::result::Result<(), rustls::Error> {
        self.check(cert.as_ref(), now.as_secs())
            .map(|_| ())
            .map_err(|e| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::Other(
                    rustls::OtherError(Arc::new(e)),
                ))
            })
    }
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl ServerCertVerifier for RaTlsVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.check_rustls(end_entity, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for RaTlsVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        self.check_rustls(end_entity, now)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
