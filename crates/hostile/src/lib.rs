//! An adversarial host for Shield enclaves: point it at an EDL and an
//! honest host, and it answers the enclave's OCALLs with every lie a
//! hostile host can tell, one strategy per run, checking after each that
//! the enclave held.
//!
//! From the EDL's untrusted interface ([`Interface::load`]) it knows how
//! every OCALL's request and reply are laid out on the wire, so for each
//! OCALL the enclave makes it can tell, in place of the honest reply:
//! a failed call; a truncated, empty, one-byte-long or maximal
//! (channel-sized) reply; every `[out]` scalar, return value and errno at
//! 0, 1, all ones, the sign bit and the signed maximum; `[out]` lengths
//! claiming the whole buffer or one byte more; random or zeroed `[out]`
//! buffers; the previous answer again (stale); the answer another run got
//! (bytes from another run); and, for the protected-file node OCALLs named
//! in [`NodeCalls`], stale, reordered, replayed and missing nodes. Which
//! call is lied about, the random bytes, and which strategies are kept
//! under [`Config::max_strategies`] follow a seed ([`Config::seed`],
//! `SHIELD_HOSTILE_SEED`).
//!
//! For each strategy the suite asserts that the enclave held: the run ended
//! in a valid result or a clean refusal (never a panic, a lost enclave, or
//! a result that claims success with other contents), no plaintext marker
//! ([`Config::markers`]) appears in anything the host received, and, after
//! any run that did not end in a valid result (and after the last), the
//! same enclave serves an honest run correctly.
//!
//! # Pointing it at your enclave
//!
//! 1. Load your EDL and make an adversary (naming your node OCALLs, if
//!    you keep protected files in the host):
//!    `let adversary = Adversary::new(Interface::load("my.edl", &[])?, None)?;`
//! 2. Launch your enclave with its handler:
//!    `EnclaveBuilder::new(binary).launch(adversary.handler())?`.
//! 3. Write the job: for a [`Run`], make a fresh honest host for the
//!    inputs [`Run::input`] names (your `Ocalls` implementation, with
//!    [`Input::Other`] meaning other data), make the ECALLs inside
//!    [`Run::serve`] with that host's `dispatch_ocall` as the honest
//!    handler, and judge the result: [`Verdict::Valid`] only if it checks
//!    out (e.g. opens with the owner's key and matches an honest run, or
//!    reports a failure), [`Verdict::Refused`] for a clean refusal,
//!    [`Verdict::from_host_error`] for an ECALL error. Return everything
//!    else the host received (results, messages) in [`Outcome::host_saw`].
//! 4. `Suite::new(adversary, config)?.run(&mut job).assert_clean()`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use shield_hostile::{Adversary, Config, Interface, Outcome, Run, Suite, Verdict};
//! let adversary = Adversary::new(Interface::load("my.edl", &[])?, None)?;
//! // let enclave = EnclaveBuilder::new("enclave").launch(adversary.handler())?;
//! let mut job = |run: &Run<'_>| -> Outcome {
//!     let verdict = run.serve(
//!         |index, request| Ok(Vec::new()), // my_bridge::dispatch_ocall(&host, index, request, limits)
//!         || Verdict::Valid,                 // the ECALLs, and the check of their result
//!     );
//!     Outcome { verdict, host_saw: Vec::new() }
//! };
//! let config = Config { markers: vec![b"SECRET".to_vec()], ..Config::default() };
//! Suite::new(adversary, config)?.run(&mut job).assert_clean();
//! # Ok(()) }
//! ```
//!
//! Every OCALL attacked must be reached by the job's honest run (the suite
//! says which is not), and every lie must be told at least once: a suite
//! that exercises nothing fails.
#![forbid(unsafe_code)]

mod adversary;
mod layout;
mod lie;
mod nodes;
mod suite;

pub use adversary::{Adversary, Call, Honest, Transcript};
pub use layout::{Field, Interface, LayoutError, OcallLayout, ParamLayout, Request, Scalar, Shape};
pub use lie::{Lie, Strategy, When};
pub use nodes::{NodeCalls, NodeLie};
pub use suite::{Config, DEFAULT_SEED, Input, Outcome, Record, Report, Run, Suite, Verdict};

#[cfg(test)]
mod tests;
