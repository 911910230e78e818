//! The trusted side every script enclave shares; the language comes in as a
//! [`shield_engine::Engine`].
//!
//! A script enclave (one binary per language, e.g. `enclaves/lua`) is this
//! runtime plus one engine:
//!
//! ```no_run
//! # struct MyEngine;
//! # impl shield_engine::Engine for MyEngine {
//! #     fn language(&self) -> &'static str { "lua" }
//! #     fn run(&self, _: shield_engine::Job<'_>) -> shield_engine::Outcome { shield_engine::Outcome::Exited(0) }
//! # }
//! fn main() {
//!     shield_script_enclave::serve(MyEngine);
//! }
//! ```
//!
//! It answers the three ECALLs of `enclaves/script.edl`:
//! * **new key** — makes the enclave's key pair ([`shield_bundle::EnclaveKeyPair`]),
//!   seals the private part to this enclave (MRENCLAVE policy) and returns
//!   the public part with a report for the quoting enclave whose REPORTDATA
//!   binds it ([`keys`]);
//! * **run bundle** — unseals the key, reads the bundle through OCALLs,
//!   checks the owner's signature, then the bundle's policy against this
//!   enclave's own report, and only then decrypts and runs the entry script.
//!   The files the script writes are protected files whose encrypted nodes
//!   the host stores; stdout, stderr, the exit status and those files leave
//!   as a result encrypted to the owner and signed by the enclave key
//!   ([`bundle_run`]);
//! * **exec** — development mode: a plaintext script from the host's
//!   directory, output passed through ([`exec`]).
//!
//! What the host sees of a bundle run: the bundle and result ciphertexts,
//! encrypted protected-file nodes with their sizes and access pattern, the
//! host-supplied arguments, clock requests, and timing.
#![forbid(unsafe_code)]

mod bridge {
    #![allow(unreachable_pub, missing_docs, dead_code, clippy::too_many_arguments)]
    include!(concat!(env!("OUT_DIR"), "/script_t.rs"));
}

pub mod bundle_run;
#[cfg(feature = "dev")]
mod dev_host;
#[cfg(feature = "dev")]
pub mod exec;
pub mod keys;
mod outside;
mod protected;

pub use shield_enclave::Sandbox;

use bridge::{Ecalls, OcallProxy};
use shield_enclave::wire::Limits;
use shield_engine::Engine;

/// The bundle was refused (bad signature, wrong enclave, policy): no script ran.
pub const REFUSED: i32 = -1;
/// Something failed around the script (the host's answers, sealing, memory).
pub const FAILED: i32 = -2;

/// Most memory a script may use here, whatever its limits ask. A script
/// that reaches it gets a clean limit error, not a lost enclave.
pub const MAX_SCRIPT_MEMORY: u64 = 128 << 20;
/// Most output (stdout, stderr, written files) a script may produce here:
/// all of it is read back into the result.
pub const MAX_SCRIPT_OUTPUT: u64 = 64 << 20;
/// The script enclaves' heap (`heap_max` in their enclave.toml).
pub const ENCLAVE_HEAP: u64 = 1 << 30;

// One run at a time (see `RUN`) must fit in the heap at its worst. While
// the script runs: the bundle and its decrypted contents, its output so
// far, and the script at five times its memory limit (the engine checks
// every few instructions, so a string doubled just after a check reaches
// twice the limit, plus the copy the VM builds it in, before the next).
// After it: the bundle, and its output held four times over (as written,
// read back, encoded and sealed).
const _: () = {
    let bundle = 2 * shield_bundle::MAX_BUNDLE;
    assert!(bundle + 5 * MAX_SCRIPT_MEMORY + MAX_SCRIPT_OUTPUT <= ENCLAVE_HEAP);
    assert!(bundle + 4 * MAX_SCRIPT_OUTPUT <= ENCLAVE_HEAP);
};

/// Runs take turns: the heap arithmetic above holds for one run.
static RUN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The allocator's backstop under the engine's own count, for one run: the
/// script's memory limit, and half again for what the engine does not count.
pub(crate) fn heap_budget(limits: shield_engine::Limits) -> shield_enclave::heap::RunBudget {
    let limit = limits.memory_bytes.unwrap_or(MAX_SCRIPT_MEMORY);
    shield_enclave::heap::RunBudget::start(
        usize::try_from(limit.saturating_add(limit / 2)).unwrap_or(usize::MAX),
    )
}

/// The allocator's backstop, for [`shield_engine::Job::heap_exceeded`].
pub(crate) fn heap_exceeded() -> bool {
    shield_enclave::heap::over_budget()
}

/// What the production enclave answers to `ecall_exec`.
#[cfg(not(feature = "dev"))]
pub const DEV_ONLY: &str = "development mode is not in this enclave: \
                            `shield exec` runs scripts in the development (debug) enclave";

/// `limits` lowered to what this enclave can hold.
pub fn capped(limits: shield_engine::Limits) -> shield_engine::Limits {
    let cap = |asked: Option<u64>, max: u64| Some(asked.map_or(max, |a| a.min(max)));
    shield_engine::Limits {
        instructions: limits.instructions,
        memory_bytes: cap(limits.memory_bytes, MAX_SCRIPT_MEMORY),
        output_bytes: cap(limits.output_bytes, MAX_SCRIPT_OUTPUT),
    }
}

/// Serves the script-enclave ECALLs with `engine` until the host ends the
/// enclave. Call it from `main`.
pub fn serve<E: Engine + 'static>(engine: E) -> ! {
    serve_with(Sandbox::strict(), engine)
}

/// [`serve`] under another sandbox than the strict one.
pub fn serve_with<E: Engine + 'static>(sandbox: Sandbox, engine: E) -> ! {
    let enclave = ScriptEnclave { engine };
    shield_enclave::run_with(
        sandbox,
        move |ocalls: &dyn shield_enclave::wire::OcallTransport, caller, index, request: &[u8]| {
            bridge::dispatch_ecall(&enclave, ocalls, caller, index, request, Limits::default())
        },
    )
}

struct ScriptEnclave<E> {
    engine: E,
}

/// Copies `text` into the host's message buffer, cut at a character boundary.
fn put_message(text: &str, buf: &mut [u8], len: &mut u64) {
    let mut n = text.len().min(buf.len());
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    buf[..n].copy_from_slice(&text.as_bytes()[..n]);
    *len = n as u64;
}

/// Development mode's environment as the host sends it: `NAME=VALUE`
/// strings, each followed by a NUL; a string without `=` is left out.
#[cfg(feature = "dev")]
fn split_env(bytes: &[u8]) -> Vec<(String, String)> {
    split_args(bytes)
        .into_iter()
        .filter_map(|v| {
            let (name, value) = v.split_once('=')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The arguments as the host sends them: each one followed by a NUL.
fn split_args(bytes: &[u8]) -> Vec<String> {
    let mut args: Vec<String> = bytes
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    // The terminator of the last argument leaves one empty piece.
    args.pop();
    args
}

impl<E: Engine> Ecalls for ScriptEnclave<E> {
    fn ecall_new_key(
        &self,
        _: &OcallProxy<'_>,
        qe_target_info: &[u8],
        public_key: &mut [u8],
        report: &mut [u8],
        sealed_key: &mut [u8],
        sealed_len: &mut u64,
        message: &mut [u8],
        message_len: &mut u64,
    ) -> i32 {
        match keys::new_key(qe_target_info) {
            Ok(made) if made.sealed.len() <= sealed_key.len() => {
                public_key[..32].copy_from_slice(&made.public.encryption);
                public_key[32..].copy_from_slice(&made.public.signing);
                report.copy_from_slice(made.report.as_ref());
                sealed_key[..made.sealed.len()].copy_from_slice(&made.sealed);
                *sealed_len = made.sealed.len() as u64;
                0
            }
            Ok(made) => {
                let text = format!(
                    "the sealed key needs {} bytes, the host gave {}",
                    made.sealed.len(),
                    sealed_key.len()
                );
                put_message(&text, message, message_len);
                FAILED
            }
            Err(e) => {
                put_message(&e, message, message_len);
                FAILED
            }
        }
    }

    fn ecall_run_bundle(
        &self,
        _: &OcallProxy<'_>,
        sealed_key: &[u8],
        bundle_len: u64,
        args: &[u8],
        message: &mut [u8],
        message_len: &mut u64,
    ) -> i32 {
        let _turn = RUN.lock().unwrap_or_else(|e| e.into_inner());
        match bundle_run::run(&self.engine, sealed_key, bundle_len, &split_args(args)) {
            Ok(()) => 0,
            Err(bundle_run::Stop::Refused(text)) => {
                put_message(&format!("bundle refused: {text}"), message, message_len);
                REFUSED
            }
            Err(bundle_run::Stop::Failed(text)) => {
                put_message(&text, message, message_len);
                FAILED
            }
        }
    }

    fn ecall_exec(
        &self,
        _: &OcallProxy<'_>,
        entry: &str,
        args: &[u8],
        env: &[u8],
        max_instructions: u64,
        max_memory: u64,
        max_output: u64,
        message: &mut [u8],
        message_len: &mut u64,
    ) -> i32 {
        #[cfg(feature = "dev")]
        {
            let limits = shield_engine::Limits {
                instructions: (max_instructions != 0).then_some(max_instructions),
                memory_bytes: (max_memory != 0).then_some(max_memory),
                output_bytes: (max_output != 0).then_some(max_output),
            };
            let _turn = RUN.lock().unwrap_or_else(|e| e.into_inner());
            let (args, env) = (split_args(args), split_env(env));
            match exec::run(&self.engine, entry, &args, &env, capped(limits)) {
                Ok(status) => status,
                Err(text) => {
                    put_message(&text, message, message_len);
                    FAILED
                }
            }
        }
        // The production enclave never runs plaintext from the host: that
        // would put host-chosen code beside the owners' secrets under the
        // same MRENCLAVE.
        #[cfg(not(feature = "dev"))]
        {
            let _ = (entry, args, env, max_instructions, max_memory, max_output);
            put_message(DEV_ONLY, message, message_len);
            FAILED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_nul_terminated() {
        assert!(split_args(b"").is_empty());
        assert_eq!(split_args(b"a\0"), ["a"]);
        assert_eq!(split_args(b"a\0\0b c\0"), ["a", "", "b c"]);
    }

    #[cfg(feature = "dev")]
    #[test]
    fn the_environment_is_name_equals_value() {
        let env = split_env(b"A=1\0B=x=y\0C=\0junk\0");
        let pairs: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(pairs, [("A", "1"), ("B", "x=y"), ("C", "")]);
    }

    #[test]
    fn limits_are_capped_to_the_enclave() {
        let none = shield_engine::Limits::default();
        assert_eq!(capped(none).memory_bytes, Some(MAX_SCRIPT_MEMORY));
        assert_eq!(capped(none).output_bytes, Some(MAX_SCRIPT_OUTPUT));
        assert_eq!(capped(none).instructions, None);
        let small = shield_engine::Limits {
            instructions: Some(5),
            memory_bytes: Some(1 << 20),
            output_bytes: Some(1 << 20),
        };
        assert_eq!(capped(small), small);
    }

    #[test]
    fn messages_are_cut_at_character_boundaries() {
        let mut buf = [0u8; 4];
        let mut len = 0;
        put_message("ab\u{e9}\u{e9}", &mut buf, &mut len);
        assert_eq!(&buf[..len as usize], "ab\u{e9}".as_bytes());
    }
}
