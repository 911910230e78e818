//! Why an enclave is gone. It lives beside [`BridgeError`](super::BridgeError)
//! so that a generated proxy can say "the enclave is lost" with the reason
//! as a value, which the host then matches to decide on a relaunch.

use std::fmt;

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

impl fmt::Display for LostReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// Linux's numbers (this module has no `libc`: enclaves build it too).
fn signal_name(signal: i32) -> &'static str {
    match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named() {
        assert!(LostReason::Signal(9).to_string().contains("(SIGKILL)"));
        assert!(LostReason::Signal(64).to_string().contains("(signal)"));
    }
}
