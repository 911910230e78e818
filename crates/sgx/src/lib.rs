//! The SGX architecture model: what the CPU computes, as pure functions.
//!
//! Everything here is byte-exact with the Intel SDM, volume 3D (the SGX
//! chapters): MRENCLAVE by ECREATE/EADD/EEXTEND ([`measure`]), SIGSTRUCT and
//! MRSIGNER ([`sigstruct`]), EGETKEY's key derivation ([`keys`]) and
//! EREPORT's report MAC ([`report`]). The architectural structures are
//! Fortanix's `sgx-isa` types, re-exported as [`isa`]. This crate does no I/O
//! beyond reading from a caller's `Read`; the runtimes and the CLI bring the
//! files.
//!
//! ```
//! use shield_sgx::measure::{Layout, Page};
//! use shield_sgx::isa::SecinfoFlags;
//!
//! let layout = Layout {
//!     ssa_frame_size: 1,
//!     size: 0x2000,
//!     pages: vec![Page::regular(0, SecinfoFlags::R | SecinfoFlags::X, None)],
//! };
//! let mrenclave = layout.measure().unwrap();
//! assert_eq!(mrenclave.len(), 32);
//! ```
#![forbid(unsafe_code)]

pub mod config;
pub mod identity;
pub mod keys;
pub mod measure;
pub mod report;
pub mod sdk;
pub mod sgxs;
pub mod shield_layout;
pub mod sigstruct;

pub use sgx_isa as isa;

/// Errors of the SGX model. Grouped by cause: malformed input (a stream, a
/// structure, a key file), a refused operation (as the CPU would refuse it),
/// and I/O from the caller's reader.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the caller's input failed.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    /// An SGXS stream is malformed.
    #[error("SGXS stream, byte {offset}: {reason}")]
    Sgxs {
        /// Byte offset of the offending record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A page layout that ECREATE/EADD would refuse.
    #[error("enclave layout: {0}")]
    Layout(String),
    /// A SIGSTRUCT that is malformed (wrong size, bad header, bad exponent).
    #[error("SIGSTRUCT: {0}")]
    Sigstruct(String),
    /// A SIGSTRUCT whose signature does not verify.
    #[error("SIGSTRUCT signature is invalid: {0}")]
    BadSignature(String),
    /// A signing key that is not usable for SGX (not RSA-3072 with e = 3, bad PEM).
    #[error("signing key: {0}")]
    SigningKey(String),
    /// An enclave configuration that is malformed or out of range.
    #[error("enclave config: {0}")]
    Config(String),
    /// EGETKEY refused the request, as the CPU would.
    #[error("EGETKEY: {0}")]
    Egetkey(#[from] keys::EgetkeyError),
    /// A report whose MAC does not verify for this target.
    #[error("report MAC does not verify for this target")]
    ReportMac,
    /// A bug: an invariant of this crate did not hold.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Lower-case hex of `bytes`, the way measurements are printed everywhere.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}
