//! The host runtime's errors, grouped by who is at fault: the enclave's
//! files (refused before launch), the enclave process (lost), or the call.

use std::path::PathBuf;

use shield_edl::wire::BridgeError;
pub use shield_edl::wire::LostReason;

/// Errors of the host runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The enclave's binary, config or SIGSTRUCT is refused (as EINIT would).
    #[error("enclave refused before launch: {0}")]
    Refused(String),
    /// The SGX model refused something (bad signature, bad layout, EGETKEY).
    #[error(transparent)]
    Sgx(#[from] shield_sgx::Error),
    /// Creating the sandboxed process or its channels failed.
    #[error("launching the enclave: {0}")]
    Launch(String),
    /// The enclave process is gone; every later call fails the same way.
    #[error("enclave lost: {0}")]
    EnclaveLost(LostReason),
    /// Every TCS is busy (the SGX out-of-TCS error).
    #[error("out of TCS: all {0} TCSs are busy (raise tcs_count, or launch with wait_for_tcs)")]
    OutOfTcs(u32),
    /// The ECALL was refused by the enclave, or panicked inside it; the
    /// enclave is still usable.
    #[error("ECALL {index} failed inside the enclave: {reason}")]
    EcallFailed {
        /// The ECALL's index.
        index: u32,
        /// The enclave's explanation.
        reason: String,
    },
    /// A bug: an invariant of this crate did not hold.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// A message does not fit the channel, or the enclave broke protocol.
    #[error("channel: {0}")]
    Channel(String),
    /// The simulated quoting enclave refused a report, or its state is unusable.
    #[error("simulated quoting: {0}")]
    Quoting(String),
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What a generated proxy reports: a lost enclave and a failed ECALL keep
/// their variants (so a host can tell "relaunch" from "this call failed");
/// the rest becomes [`BridgeError::Transport`].
impl From<Error> for BridgeError {
    fn from(error: Error) -> Self {
        match error {
            Error::EnclaveLost(reason) => BridgeError::EnclaveLost(reason),
            Error::EcallFailed { index, reason } => BridgeError::EcallFailed { index, reason },
            other => BridgeError::Transport(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_and_failed_stay_typed_through_the_bridge() {
        let lost = BridgeError::from(Error::EnclaveLost(LostReason::Aborted));
        assert_eq!(lost, BridgeError::EnclaveLost(LostReason::Aborted));
        let failed = BridgeError::from(Error::EcallFailed {
            index: 3,
            reason: "enclave panicked: boom".into(),
        });
        assert!(matches!(failed, BridgeError::EcallFailed { index: 3, .. }));
        assert!(matches!(
            BridgeError::from(Error::OutOfTcs(2)),
            BridgeError::Transport(_)
        ));
    }

    #[test]
    fn signal_names_match_this_platform() {
        for (number, name) in [
            (libc::SIGILL, "SIGILL"),
            (libc::SIGABRT, "SIGABRT"),
            (libc::SIGBUS, "SIGBUS"),
            (libc::SIGFPE, "SIGFPE"),
            (libc::SIGKILL, "SIGKILL"),
            (libc::SIGSEGV, "SIGSEGV"),
            (libc::SIGTERM, "SIGTERM"),
            (libc::SIGSYS, "SIGSYS"),
        ] {
            let text = LostReason::Signal(number).to_string();
            assert!(text.contains(&format!("({name})")), "{text}");
        }
    }
}
