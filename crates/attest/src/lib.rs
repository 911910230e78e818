//! Remote attestation for Shield: Intel DCAP quote parsing, verification
//! and appraisal policy.
//!
//! * [`quote`]: SGX v3, TDX v4 and v5 quote formats ([`Quote::parse`]).
//! * [`verify`]: signature, QE binding, PCK chain, CRL and TCB checks as
//!   Intel's quote verification library does them ([`Verifier`]).
//! * [`collateral`]: TCB info, QE identity, signing chain and CRLs
//!   ([`Collateral::load`]).
//! * [`tcb`]: TCB level matching to a [`TcbStatus`] with advisory IDs.
//! * [`policy`]: the TOML appraisal [`Policy`].
//! * [`verdict`]: the printable / serialisable [`Verdict`].
//! * [`roots`]: the compiled-in Intel SGX Root CA and [`TrustAnchors`]
//!   (including *simulation* anchors, flagged loudly in every verdict).
//!
//! ```no_run
//! use shield_attest::{Collateral, Policy, Verdict, Verifier};
//! # fn main() -> Result<(), shield_attest::Error> {
//! let quote = std::fs::read("quote.bin").unwrap();
//! let collateral = Collateral::load("collateral.json".as_ref())?;
//! let verdict = Verdict::evaluate(&Verifier::intel(), &quote, Some(&collateral),
//!                                 &Policy::permissive(), 1_752_919_277);
//! println!("{verdict}");
//! # Ok(()) }
//! ```
//!
//! # Why not `dcap-qvl`
//!
//! We evaluated the pure-Rust `dcap-qvl` crate (0.7.1) first. It builds on
//! stable and implements Intel's checks well, and its code served as a
//! reference for the TCB convergence rules. We do not depend on it because:
//! * it only verifies *with* collateral: there is no signatures-and-chain-only
//!   mode, which `shield verify` without `--collateral` (`TcbNotChecked`) and
//!   our per-byte tamper sweep need;
//! * its default build pulls `ring`, a forked `webpki` pinned to an exact
//!   version, SCALE codec, `chrono`, `asn1_der`, `derive_more` and optional
//!   pyo3/wasm/reqwest layers: a large trusted base for an SDK whose point is a
//!   small, memory-safe TCB;
//! * its trust anchor is a single DER root, with no notion of a simulation
//!   root; and quote *generation* for simulated quoting needs our own
//!   encoder anyway.
//!
//! So this crate builds on RustCrypto (`p256`, `sha2`) and `x509-cert`/`der`.
//! No cryptography is implemented here; path validation is deliberately
//! narrow (the Intel SGX PKI is ECDSA P-256 only, depth ≤ 4, see [`pki`]).
//!
//! # Robustness
//!
//! All untrusted input (quote bytes, JSON collateral, certificates, CRLs,
//! policy) is parsed with explicit bounds and returns an [`Error`]; nothing
//! panics, allocates more than a copy of its input, or loops unboundedly.
#![forbid(unsafe_code)]

pub mod collateral;
pub mod error;
pub mod generate;
pub mod pki;
pub mod policy;
pub mod quote;
pub mod roots;
pub mod tcb;
pub mod verdict;
pub mod verify;

pub use collateral::Collateral;
pub use error::{Error, Result};
pub use policy::Policy;
pub use quote::{Quote, Report, TeeType};
pub use roots::{INTEL_SGX_ROOT_CA_DER, TrustAnchors};
pub use tcb::{TcbOutcome, TcbStatus};
pub use verdict::{Identity, Verdict};
pub use verify::{VerifiedQuote, Verifier};

/// Formats unix seconds as an RFC 3339 UTC date (falls back to the number).
pub(crate) fn time_fmt(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs} (unix)"))
}
