//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while making, reading or opening keys,
/// bundles and results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input does not follow the format (bad magic, lengths, JSON,
    /// encodings...).
    #[error("malformed input: {0}")]
    Malformed(String),
    /// A signature did not verify; the text names which one.
    #[error("bad signature: {0} does not verify")]
    BadSignature(&'static str),
    /// The bundle is addressed to a different enclave key.
    #[error("wrong recipient: the bundle is addressed to a different enclave key")]
    WrongRecipient,
    /// The result was made for a bundle of a different owner.
    #[error("wrong owner: this result answers a bundle made by a different owner key")]
    WrongOwner,
    /// The result was signed by an enclave key the bundle was not addressed to.
    #[error(
        "unexpected signer: the result is signed by an enclave key that is not the bundle's recipient"
    )]
    UnexpectedSigner,
    /// Decryption failed: wrong key, altered ciphertext, or ciphertext moved
    /// to a different header, position or length.
    #[error(
        "decryption failed: the payload was altered, truncated, reordered or bound to another header"
    )]
    Decrypt,
    /// Decrypted content does not match its manifest (sizes or hashes).
    #[error("integrity check failed: {0}")]
    Integrity(String),
    /// A size is over a limit.
    #[error("{what} too large: limit is {limit} bytes, got {got}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
        /// The size found.
        got: u64,
    },
    /// A bundle path is not acceptable.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The offending path.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The pack input is inconsistent (entry missing, file changed while packing...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A language name that this crate does not know.
    #[error("unknown language {0:?} (supported: {names})", names = crate::language::supported_names())]
    UnknownLanguage(String),
    /// A key file is refused (exists already, permissions too open, bad content).
    #[error("key file {path}: {reason}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// The operating system's randomness or an encryption primitive failed.
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (usually names the file).
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        Error::Malformed(msg.into())
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
