//! Trusted services for Shield enclaves, as SGX developers know them, in safe
//! Rust and hardened against a host that lies:
//!
//! - [`mod@seal`]: [`seal()`]/[`unseal()`] producing Intel's `sgx_sealed_data_t` layout
//!   (key request, AES-128-GCM with the SDK's zero IV and a fresh key id per
//!   blob, additional MAC text), with the caller choosing MRENCLAVE or
//!   MRSIGNER.
//! - [`pfs`]: protected files, an API shaped like `std::fs::File` whose
//!   bytes the host stores as encrypted, authenticated 4 KiB nodes of a
//!   Merkle tree.
//! - [`la`]: local attestation: two enclaves on one platform prove their
//!   identities to each other and agree on a session key (ECDH P-256 with the
//!   public keys bound in the reports' data).
//!
//! Everything here is pure logic over two traits, so it runs (and is tested)
//! without an enclave: [`KeySource`] (EGETKEY/EREPORT; the enclave implements
//! it with the simulated CPU, tests with `shield_sgx::keys::egetkey` on a
//! platform secret, which is exactly what the host computes in simulation)
//! and [`pfs::NodeStore`] (where the host keeps a protected file's nodes; the
//! enclave implements it with OCALLs, tests in memory). Every answer from a
//! `NodeStore` is untrusted: lengths are checked, nothing is allocated at a
//! size the host chose, and a lie is an error, never a panic.
//!
//! Sealing, with [`ModelCpu`] standing in for the enclave's CPU (inside an
//! enclave, `shield_enclave::services::{seal, unseal}` use the real one):
//!
//! ```
//! use shield_services::{ModelCpu, SealPolicy, seal, unseal};
//! use shield_sgx::identity::EnclaveIdentity;
//! use shield_sgx::isa::{Attributes, AttributesFlags};
//! use shield_sgx::keys::PlatformSecret;
//!
//! let cpu = ModelCpu {
//!     platform: PlatformSecret::generate([1; 16]),
//!     identity: EnclaveIdentity {
//!         mrenclave: [1; 32],
//!         mrsigner: [2; 32],
//!         isvprodid: 1,
//!         isvsvn: 1,
//!         attributes: Attributes {
//!             flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
//!             xfrm: 3,
//!         },
//!         miscselect: 0,
//!     },
//! };
//! let blob = seal(&cpu, SealPolicy::MrEnclave, b"secret", b"label")?;
//! let opened = unseal(&cpu, &blob)?;
//! assert_eq!(&opened.data[..], b"secret");
//! assert_eq!(opened.aad, b"label");
//! # Ok::<(), shield_services::Error>(())
//! ```
//!
//! A protected file, its nodes kept by a [`pfs::MemoryStore`] (an enclave's
//! store makes OCALLs instead):
//!
//! ```
//! use std::io::{Read, Seek, SeekFrom, Write};
//! use shield_services::pfs::{FileKey, MemoryStore, ProtectedFile};
//! use zeroize::Zeroizing;
//!
//! let key = || FileKey::Supplied(Zeroizing::new([7; 16]));
//! let mut file = ProtectedFile::create(MemoryStore::default(), "notes.txt", key())?;
//! file.write_all(b"kept by the host, readable only here")?;
//! let store = file.close()?;
//!
//! let mut file = ProtectedFile::open(store, "notes.txt", key())?;
//! let mut text = String::new();
//! file.seek(SeekFrom::Start(0))?;
//! file.read_to_string(&mut text)?;
//! assert_eq!(text, "kept by the host, readable only here");
//! // Under another name the same nodes do not open.
//! assert!(ProtectedFile::open(file.close()?, "other.txt", key()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod la;
pub mod pfs;
pub mod seal;

use shield_sgx::isa::{Keyrequest, Report, Targetinfo};
use shield_sgx::keys::Key128;

pub use seal::{SealPolicy, Unsealed, seal, unseal};

/// What the services ask of the CPU. Inside an enclave this is EGETKEY and
/// EREPORT; in tests, the `shield_sgx` model on a platform secret.
pub trait KeySource {
    /// EGETKEY.
    fn egetkey(&self, request: &Keyrequest) -> Result<Key128, Error>;
    /// EREPORT for `target` carrying `report_data`.
    fn ereport(&self, target: &Targetinfo, report_data: &[u8; 64]) -> Result<Report, Error>;

    /// This enclave's ISVSVN and the platform's CPUSVN, as the SDK learns
    /// them: from a report targeted at nobody.
    fn own_svns(&self) -> Result<(u16, [u8; 16]), Error> {
        let report = self.ereport(&Targetinfo::default(), &[0; 64])?;
        Ok((report.isvsvn, report.cpusvn))
    }
}

/// Why a service failed. None of these leaves the enclave unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A sealed blob, report or node has the wrong shape (size, reserved
    /// bytes, offsets).
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// A MAC or GCM tag did not verify: tampered, swapped, replayed, or for
    /// another enclave or machine.
    #[error("authentication failed: {0}")]
    Authentication(&'static str),
    /// The CPU refused to derive the key (for example a sealer's ISVSVN above
    /// ours), or could not be reached.
    #[error("key derivation refused: {0}")]
    Key(String),
    /// A protected file's node is missing or the file has the wrong number of
    /// nodes: truncated or extended by the host.
    #[error("protected file truncated or extended: {0}")]
    Truncated(String),
    /// The host store reported an error, or answered nonsense.
    #[error("host store: {0}")]
    Store(String),
    /// The version-check hook refused the file's root version.
    #[error("rollback: {0}")]
    Rollback(String),
    /// The caller's arguments are out of range.
    #[error("invalid argument: {0}")]
    InvalidInput(&'static str),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for std::io::Error {
    fn from(error: Error) -> Self {
        let kind = match error {
            Error::InvalidInput(_) => std::io::ErrorKind::InvalidInput,
            Error::Truncated(_) => std::io::ErrorKind::UnexpectedEof,
            _ => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, error)
    }
}

/// Fills `buf` with fresh randomness from the OS (getrandom, which the
/// enclave sandbox allows).
pub(crate) fn random(buf: &mut [u8]) {
    use rand_core::{OsRng, RngCore};
    OsRng.fill_bytes(buf);
}

/// A [`KeySource`] that is the `shield_sgx` model itself: what the host
/// answers in simulation, usable directly in tests and benchmarks.
#[derive(Debug, Clone)]
pub struct ModelCpu {
    /// The machine.
    pub platform: shield_sgx::keys::PlatformSecret,
    /// The enclave asking.
    pub identity: shield_sgx::identity::EnclaveIdentity,
}

impl KeySource for ModelCpu {
    fn egetkey(&self, request: &Keyrequest) -> Result<Key128, Error> {
        shield_sgx::keys::egetkey(&self.platform, &self.identity, request)
            .map_err(|e| Error::Key(e.to_string()))
    }

    fn ereport(&self, target: &Targetinfo, report_data: &[u8; 64]) -> Result<Report, Error> {
        Ok(shield_sgx::report::ereport(
            &self.platform,
            &self.identity,
            target,
            report_data,
        ))
    }
}
