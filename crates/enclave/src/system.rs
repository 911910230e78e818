//! The system OCALLs: logging and quoting over Shield's system EDL files
//! (`shield_log.edl`, `shield_quote.edl`, compiled into `shield_edl`),
//! which an enclave imports in its own EDL as it would Intel's
//! `sgx_tstdc.edl`. An enclave has no `write(2)`: [`println!`](crate::println)
//! and friends send their text to the host through `shield_ocall_log`.
//!
//! The imported OCALLs take their place among the enclave's own, so their
//! indices are the enclave's: hand its generated `OCALLS` table to
//! [`register`] once, before [`run`](crate::run). The calls then go out
//! through [`CurrentTcs`], so they work anywhere on the
//! thread of a running ECALL.
//!
//! ```no_run
//! # mod bridge { pub const OCALLS: &[shield_enclave::wire::OcallInfo] = &[]; }
//! # fn dispatch(
//! #     _: &dyn shield_enclave::wire::OcallTransport,
//! #     _: shield_enclave::wire::Caller,
//! #     _: u32,
//! #     _: &[u8],
//! # ) -> Result<Vec<u8>, shield_enclave::wire::BridgeError> {
//! #     shield_enclave::println!("inside an ECALL");
//! #     let quote = shield_enclave::system::quote(&[0; 64]);
//! #     Ok(Vec::new())
//! # }
//! // The enclave's EDL has `from "shield_log.edl" import *;` (and
//! // `from "shield_quote.edl" import *;` for quotes).
//! fn main() {
//!     shield_enclave::system::register(bridge::OCALLS);
//!     shield_enclave::run(dispatch);
//! }
//! ```

use std::sync::OnceLock;

use shield_edl::wire::{BridgeError, Limits, OcallInfo, OcallTransport};
use shield_sgx::isa::Targetinfo;

use crate::{CpuError, CurrentTcs};

mod generated {
    #![allow(
        unreachable_pub,
        missing_docs,
        dead_code,
        missing_debug_implementations
    )]
    include!(concat!(env!("OUT_DIR"), "/system_t.rs"));
}

/// Largest quote accepted from the host (a simulated DCAP quote with its
/// certificate chain is about 5 KiB).
pub const MAX_QUOTE: usize = 64 * 1024;

/// The enclave's own OCALL table, set by [`register`].
static OCALLS: OnceLock<&'static [OcallInfo]> = OnceLock::new();

/// Tells the runtime the enclave's OCALL table (the generated `OCALLS`), in
/// which it finds the system OCALLs the enclave's EDL imported. Later calls
/// change nothing.
pub fn register(ocalls: &'static [OcallInfo]) {
    let _ = OCALLS.set(ocalls);
}

/// Where a log line goes on the host (the `level` of `shield_ocall_log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    /// Standard output, as is ([`println!`](crate::println)).
    Stdout = 0,
    /// Standard error, as is ([`eprintln!`](crate::eprintln)).
    Stderr = 1,
    /// A log record of level error (standard error, with a prefix).
    Error = 2,
    /// Warn.
    Warn = 3,
    /// Info.
    Info = 4,
    /// Debug.
    Debug = 5,
}

/// Sends `message` to the host through `shield_ocall_log`. Fails if the
/// enclave's EDL does not import `shield_log.edl`, [`register`] was not
/// called, or no ECALL runs on this thread.
pub fn log(level: Level, message: &str) -> Result<(), BridgeError> {
    proxy_call(|proxy| proxy.shield_ocall_log(level as i32, message))
}

/// Why [`quote`] gave no quote.
#[derive(Debug)]
#[non_exhaustive]
pub enum QuoteError {
    /// An OCALL failed, or the system OCALLs are not imported or registered.
    Bridge(BridgeError),
    /// The host's TARGETINFO is malformed.
    BadTargetInfo,
    /// The CPU made no report.
    Cpu(CpuError),
    /// The host refused to quote, or the quote did not fit [`MAX_QUOTE`].
    Refused,
}

impl std::fmt::Display for QuoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuoteError::Bridge(e) => write!(f, "quoting OCALL: {e}"),
            QuoteError::BadTargetInfo => write!(f, "the host's TARGETINFO is malformed"),
            QuoteError::Cpu(e) => write!(f, "EREPORT: {e}"),
            QuoteError::Refused => write!(
                f,
                "the host returned no quote (refused, or larger than {MAX_QUOTE} bytes)"
            ),
        }
    }
}

impl std::error::Error for QuoteError {}

/// A quote of this enclave carrying `report_data`: gets the quoting
/// enclave's TARGETINFO from the host, makes an EREPORT for it, and has the
/// host turn that into a quote (`shield_quote.edl`). The quote is not
/// checked here: whoever relies on it verifies it.
pub fn quote(report_data: &[u8; 64]) -> Result<Vec<u8>, QuoteError> {
    let mut target = [0u8; 512];
    proxy_call(|proxy| proxy.shield_ocall_qe_target_info(&mut target))
        .map_err(QuoteError::Bridge)?;
    let target = Targetinfo::try_copy_from(&target).ok_or(QuoteError::BadTargetInfo)?;
    let report = crate::ereport(&target, report_data).map_err(QuoteError::Cpu)?;
    let mut quote = vec![0u8; MAX_QUOTE];
    let len = proxy_call(|proxy| proxy.shield_ocall_quote(report.as_ref(), &mut quote))
        .map_err(QuoteError::Bridge)?;
    if len == 0 || len > quote.len() {
        return Err(QuoteError::Refused);
    }
    quote.truncate(len);
    Ok(quote)
}

/// Runs `call` on a system-OCALL proxy whose indices are the enclave's.
fn proxy_call<T>(
    call: impl FnOnce(&generated::OcallProxy<'_>) -> Result<T, BridgeError>,
) -> Result<T, BridgeError> {
    let remap = Remap {
        ocalls: OCALLS.get().copied(),
    };
    call(&generated::OcallProxy::new(&remap, Limits::default()))
}

/// Renumbers a system OCALL (an index in the system table) to the index the
/// same name has in the enclave's table.
struct Remap {
    ocalls: Option<&'static [OcallInfo]>,
}

impl OcallTransport for Remap {
    fn ocall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError> {
        let name = generated::OCALLS
            .get(index as usize)
            .ok_or(BridgeError::UnknownFunction(index))?
            .name;
        let ocalls = self.ocalls.ok_or_else(|| {
            BridgeError::Transport(format!(
                "{name}: call shield_enclave::system::register(OCALLS) before run"
            ))
        })?;
        let own = enclave_index(ocalls, name).ok_or_else(|| {
            BridgeError::Transport(format!(
                "{name} is not declared: import its system EDL file (from \"shield_log.edl\" \
                 import *; or from \"shield_quote.edl\" import *;) in the enclave's EDL"
            ))
        })?;
        CurrentTcs.ocall(own, request)
    }
}

fn enclave_index(ocalls: &[OcallInfo], name: &str) -> Option<u32> {
    ocalls
        .iter()
        .position(|o| o.name == name)
        .and_then(|i| u32::try_from(i).ok())
}

/// Like `std::println!`, to the host's standard output through the
/// `shield_ocall_log` system OCALL (`shield_log.edl`); a line that cannot be
/// sent is dropped (call [`system::log`](crate::system::log) to see why).
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        let _ = $crate::system::log($crate::system::Level::Stdout, &::std::format!($($arg)*));
    }};
}

/// Like `std::eprintln!`, to the host's standard error (see
/// [`println!`](crate::println)).
#[macro_export]
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let _ = $crate::system::log($crate::system::Level::Stderr, &::std::format!($($arg)*));
    }};
}

/// A log record at a [`Level`](crate::system::Level), e.g.
/// `shield_enclave::log!(Level::Info, "sealed {} bytes", n)`, shown on the
/// host's standard error with the level (see [`println!`](crate::println)).
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)*) => {{
        let _ = $crate::system::log($level, &::std::format!($($arg)*));
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &[OcallInfo] = &[
        OcallInfo {
            name: "ocall_mine",
            allow: &[],
            propagate_errno: false,
            switchless: false,
        },
        OcallInfo {
            name: "shield_ocall_log",
            allow: &[],
            propagate_errno: false,
            switchless: false,
        },
    ];

    #[test]
    fn system_ocalls_take_the_enclaves_indices() {
        assert_eq!(enclave_index(APP, "shield_ocall_log"), Some(1));
        assert_eq!(enclave_index(APP, "shield_ocall_quote"), None);
    }

    #[test]
    fn an_unimported_or_unregistered_system_ocall_says_what_to_do() {
        let index = generated::ocall_index::shield_ocall_quote;
        let err = Remap { ocalls: Some(APP) }.ocall(index, &[]).unwrap_err();
        assert!(err.to_string().contains("shield_quote.edl"), "{err}");
        let err = Remap { ocalls: None }.ocall(index, &[]).unwrap_err();
        assert!(err.to_string().contains("register"), "{err}");
    }
}
