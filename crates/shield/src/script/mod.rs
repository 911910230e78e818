//! ScriptShield, host and owner side: the embedded script enclave, the
//! host's answers to its OCALLs, and the operations behind `shield
//! enclave-key`, `pack`, `run`, `open`, `exec` and `demo`.

pub(crate) mod bridge {
    //! Generated from `enclaves/script.edl`, untrusted side.
    #![allow(unreachable_pub, missing_docs, dead_code, clippy::too_many_arguments)]
    include!(concat!(env!("OUT_DIR"), "/script_u.rs"));
}

#[cfg(test)]
mod enclave_tests;
pub(crate) mod extract;
pub(crate) mod host;
#[cfg(test)]
mod hostile_tests;
pub(crate) mod image;
pub(crate) mod ops;
pub(crate) mod state;
#[cfg(test)]
mod test262_tests;
#[cfg(test)]
mod test_support;

/// `ecall_run_bundle`'s status for a refused bundle (no script ran).
pub(crate) const REFUSED: i32 = -1;
