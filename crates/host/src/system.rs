//! The host's half of Shield's system OCALLs (`shield_log.edl`,
//! `shield_quote.edl`): ready-made bodies for the methods those imports add
//! to the generated `Ocalls` trait. Quoting needs to know which enclave
//! asks: the runtime records it on the thread while one of its OCALLs runs,
//! so these work from inside any OCALL handler, with no `Enclave` at hand.
//!
//! ```
//! # mod bridge {
//! #     pub trait Ocalls {
//! #         fn shield_ocall_log(&self, level: i32, message: &str);
//! #         fn shield_ocall_qe_target_info(&self, target_info: &mut [u8]);
//! #         fn shield_ocall_quote(&self, report: &[u8], quote: &mut [u8]) -> usize;
//! #     }
//! # }
//! struct Host;
//!
//! impl bridge::Ocalls for Host {
//!     fn shield_ocall_log(&self, level: i32, message: &str) {
//!         shield_host::system::log(level, message)
//!     }
//!     fn shield_ocall_qe_target_info(&self, target_info: &mut [u8]) {
//!         shield_host::system::qe_target_info(target_info)
//!     }
//!     fn shield_ocall_quote(&self, report: &[u8], quote: &mut [u8]) -> usize {
//!         shield_host::system::quote(report, quote)
//!     }
//! }
//! ```

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::Arc;

use shield_sgx::isa::Report;

use crate::quoting::PlatformQuoting;
use crate::{Error, Result};

thread_local! {
    /// The quoting state of the enclaves whose OCALLs this thread is
    /// running, innermost last.
    static SERVING: RefCell<Vec<Arc<PlatformQuoting>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` (an OCALL of the enclave that `quoting` belongs to) with that
/// enclave recorded as the one asking.
pub(crate) fn serving<R>(quoting: &Arc<PlatformQuoting>, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            SERVING.with(|s| s.borrow_mut().pop());
        }
    }
    SERVING.with(|s| s.borrow_mut().push(quoting.clone()));
    let _pop = Pop;
    f()
}

/// `shield_ocall_log`: prints an enclave's line. Level 0 goes to standard
/// output and 1 to standard error as they are; 2 to 5 (error, warn, info,
/// debug) to standard error after `[enclave LEVEL] `. Control characters
/// other than tab are escaped, so an enclave cannot drive the terminal.
pub fn log(level: i32, message: &str) {
    let (stdout, line) = render(level, message);
    if stdout {
        println!("{line}");
    } else {
        eprintln!("{line}");
    }
}

/// The line [`log`] prints and whether it goes to standard output.
fn render(level: i32, message: &str) -> (bool, String) {
    let mut line = match level {
        0 | 1 => String::new(),
        2 => "[enclave ERROR] ".to_owned(),
        3 => "[enclave WARN] ".to_owned(),
        4 => "[enclave INFO] ".to_owned(),
        5 => "[enclave DEBUG] ".to_owned(),
        other => format!("[enclave level {other}] "),
    };
    for c in message.chars() {
        if c.is_control() && c != '\t' {
            let _ = write!(line, "{}", c.escape_default());
        } else {
            line.push(c);
        }
    }
    (level == 0, line)
}

/// `shield_ocall_qe_target_info`: the simulated quoting enclave's
/// TARGETINFO (512 bytes; a shorter buffer gets its first bytes).
pub fn qe_target_info(target_info: &mut [u8]) {
    let ti = crate::quoting::sim_qe_target_info();
    let bytes: &[u8] = ti.as_ref();
    let n = bytes.len().min(target_info.len());
    target_info[..n].copy_from_slice(&bytes[..n]);
}

/// `shield_ocall_quote`: quotes `report` (see [`quote_report`]) into
/// `quote`; returns the quote's length, or 0 if it was refused or does not
/// fit.
pub fn quote(report: &[u8], quote: &mut [u8]) -> usize {
    match quote_report(report) {
        Ok(q) if q.len() <= quote.len() => {
            quote[..q.len()].copy_from_slice(&q);
            q.len()
        }
        _ => 0,
    }
}

/// A DCAP v3 quote of `report` (432 bytes, made for the simulated QE's
/// TARGETINFO) by the simulated quoting enclave of the platform of the
/// enclave whose OCALL is running on this thread; the same as
/// [`Enclave::quote`](crate::Enclave::quote). Refused outside an OCALL.
pub fn quote_report(report: &[u8]) -> Result<Vec<u8>> {
    let quoting = SERVING
        .with(|s| s.borrow().last().cloned())
        .ok_or_else(|| Error::Quoting("no enclave's OCALL is running on this thread".into()))?;
    let report = Report::try_copy_from(report)
        .ok_or_else(|| Error::Quoting(format!("a REPORT is 432 bytes, got {}", report.len())))?;
    quoting.get()?.quote(&report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_and_escapes() {
        assert_eq!(render(0, "hi\tthere"), (true, "hi\tthere".to_owned()));
        assert_eq!(render(1, "oops"), (false, "oops".to_owned()));
        assert_eq!(render(4, "x"), (false, "[enclave INFO] x".to_owned()));
        assert_eq!(render(9, "x"), (false, "[enclave level 9] x".to_owned()));
        let (_, line) = render(0, "a\u{1b}[2Jb\nc");
        assert_eq!(line, "a\\u{1b}[2Jb\\nc");
    }

    #[test]
    fn quoting_outside_an_ocall_is_refused() {
        let err = quote_report(&[0; 432]).unwrap_err();
        assert!(err.to_string().contains("no enclave's OCALL"), "{err}");
        assert_eq!(quote(&[0; 432], &mut [0; 16]), 0);
    }
}
