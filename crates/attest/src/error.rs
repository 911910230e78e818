//! The crate's single error type.

use std::fmt;

/// Everything that can go wrong while parsing or verifying attestation evidence.
///
/// Every variant is a refusal: the quote, certificate or collateral must not be
/// trusted. Parsing never panics; malformed input always ends up here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The quote bytes are truncated, inconsistent or otherwise malformed.
    #[error("malformed quote: {0}")]
    MalformedQuote(String),
    /// The quote is well formed but uses a version, TEE type, key type or
    /// certification data type that this crate does not verify.
    #[error("unsupported quote: {0}")]
    UnsupportedQuote(String),
    /// A certificate or CRL could not be parsed, or uses an unsupported algorithm.
    #[error("malformed certificate or CRL: {0}")]
    MalformedCertificate(String),
    /// A certificate chain does not lead to a trusted root.
    #[error("untrusted certificate chain: {0}")]
    UntrustedChain(String),
    /// A certificate or CRL is outside its validity period at the verification time.
    #[error("expired or not yet valid: {0}")]
    Expired(String),
    /// A certificate in a chain is listed in a CRL.
    #[error("certificate revoked: {0}")]
    CertificateRevoked(String),
    /// A signature (quote, QE report, certificate, CRL or collateral) does not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The QE report data does not bind the attestation key and authentication data.
    #[error("QE report data does not bind the attestation key: {0}")]
    QeBinding(String),
    /// The collateral (TCB info, QE identity, CRLs) is malformed.
    #[error("malformed collateral: {0}")]
    MalformedCollateral(String),
    /// The collateral is well formed but does not apply to this quote or platform.
    #[error("collateral mismatch: {0}")]
    CollateralMismatch(String),
    /// The quoting enclave does not match the QE identity collateral.
    #[error("QE identity mismatch: {0}")]
    QeIdentityMismatch(String),
    /// No TCB level in the TCB info matches the platform.
    #[error("no matching TCB level: {0}")]
    NoTcbLevel(String),
    /// A policy file could not be parsed or is inconsistent.
    #[error("invalid policy: {0}")]
    InvalidPolicy(String),
    /// Reading an input file failed.
    #[error("I/O error on {path}: {message}")]
    Io {
        /// The file or directory involved.
        path: String,
        /// The operating system's message.
        message: String,
    },
}

impl Error {
    pub(crate) fn quote(msg: impl fmt::Display) -> Self {
        Self::MalformedQuote(msg.to_string())
    }
    pub(crate) fn cert(msg: impl fmt::Display) -> Self {
        Self::MalformedCertificate(msg.to_string())
    }
    pub(crate) fn collateral(msg: impl fmt::Display) -> Self {
        Self::MalformedCollateral(msg.to_string())
    }
    pub(crate) fn io(path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            message: err.to_string(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
