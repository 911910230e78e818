//! The host runtime's errors, grouped by who is at fault: the enclave's
//! files (refused before launch), the enclave process (lost), or the call.

use std::path::PathBuf;

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

/// How an enclave process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LostReason {
    /// It made a system call that an enclave cannot make.
    ForbiddenSyscall {
        /// The system call number (x86-64).
        number: u64,
        /// Its name.
        name: String,
    },
    /// Its heap reached HeapMaxSize.
    OutOfMemory {
        /// The allocation that did not fit, in bytes.
        requested: u64,
    },
    /// It called `abort()`.
    Aborted,
    /// The runtime inside it failed (the message is the enclave's).
    RuntimeFailure(String),
    /// It was ended by a signal (a crash, or a kill from outside).
    Signal(i32),
    /// It exited by itself.
    Exited(i32),
    /// The handle was dropped, which ends the enclave.
    Dropped,
}

impl std::fmt::Display for LostReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LostReason::ForbiddenSyscall { number, name } => write!(
                f,
                "enclave made system call {number} ({name}): not available inside an enclave; declare an OCALL"
            ),
            LostReason::OutOfMemory { requested } => {
                write!(
                    f,
                    "out of memory: an allocation of {requested} bytes exceeds the enclave's heap_max"
                )
            }
            LostReason::Aborted => write!(f, "the enclave called abort()"),
            LostReason::RuntimeFailure(message) => write!(f, "enclave runtime failure: {message}"),
            LostReason::Signal(signal) => write!(
                f,
                "the enclave process was ended by signal {signal} ({})",
                signal_name(*signal)
            ),
            LostReason::Exited(code) => write!(f, "the enclave process exited with status {code}"),
            LostReason::Dropped => write!(f, "the enclave handle was dropped"),
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSYS => "SIGSYS",
        libc::SIGFPE => "SIGFPE",
        _ => "signal",
    }
}
