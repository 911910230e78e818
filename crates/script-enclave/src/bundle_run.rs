//! Running a bundle: open it in the order that keeps secrets safe, run the
//! script, seal the result to the owner.
//!
//! 1. unseal the enclave key (only this enclave on this machine can);
//! 2. read the bundle and check the owner's signature over all of it —
//!    any flipped byte stops here, before anything is decrypted;
//! 3. check the bundle is for this language and that its policy admits
//!    this enclave's own identity (from its own report, not from the host);
//! 4. decrypt (the recipient key and every file's size and hash are checked),
//!    and refuse host arguments other than those the owner fixed, if any;
//! 5. run the entry script under the bundle's limits, its written files in
//!    protected files;
//! 6. encrypt the result (with the arguments the script ran with) to the
//!    owner, sign it with the enclave key, and hand it to the host.

use std::io::Cursor;

use shield_bundle::{EnclaveFacts, MAX_BUNDLE, RunResult};
use shield_engine::vfs::{MemoryFiles, Overlay};
use shield_engine::{Engine, Job, Outcome};
use shield_sgx::isa::{AttributesFlags, Targetinfo};

use crate::outside::{self, HostClock};
use crate::protected::ProtectedWrites;

/// Why a run stopped before writing a result.
#[derive(Debug)]
pub enum Stop {
    /// The bundle is not acceptable here; no script ran.
    Refused(String),
    /// Something around the script failed.
    Failed(String),
}

/// This enclave's identity, from its own report.
fn own_identity() -> Result<EnclaveFacts, Stop> {
    let report = shield_enclave::ereport(&Targetinfo::default(), &[0; 64])
        .map_err(|e| Stop::Failed(format!("EREPORT: {e}")))?;
    Ok(EnclaveFacts {
        mrenclave: report.mrenclave,
        mrsigner: report.mrsigner,
        isvprodid: report.isvprodid,
        isvsvn: report.isvsvn,
        debug: report.attributes.flags.contains(AttributesFlags::DEBUG),
    })
}

/// The arguments to run with: the host's, unless the owner fixed them, in
/// which case the host may pass those same arguments or none.
fn run_args(fixed: Option<&[String]>, from_host: &[String]) -> Result<Vec<String>, Stop> {
    match fixed {
        None => Ok(from_host.to_vec()),
        Some(fixed) if from_host.is_empty() || from_host == fixed => Ok(fixed.to_vec()),
        Some(_) => Err(Stop::Refused(
            "the owner fixed this bundle's arguments and the host passed others".into(),
        )),
    }
}

/// Runs the bundle the host serves (`bundle_len` bytes) with `args`.
pub fn run(
    engine: &dyn Engine,
    sealed_key: &[u8],
    bundle_len: u64,
    args: &[String],
) -> Result<(), Stop> {
    let key = crate::keys::unseal_key(sealed_key).map_err(Stop::Failed)?;
    if bundle_len > MAX_BUNDLE {
        return Err(Stop::Refused(format!(
            "{bundle_len} bytes is more than the {MAX_BUNDLE}-byte maximum"
        )));
    }
    let bytes = outside::read_bundle(bundle_len as usize).map_err(Stop::Failed)?;
    let bundle = shield_bundle::verify_bundle(&bytes).map_err(|e| Stop::Refused(e.to_string()))?;
    let header = &bundle.header;
    if header.language.as_str() != engine.language() {
        return Err(Stop::Refused(format!(
            "it is a {} bundle and this is the {} enclave",
            header.language.as_str(),
            engine.language()
        )));
    }
    header
        .policy
        .check(&own_identity()?)
        .map_err(|reasons| Stop::Refused(reasons.join("; ")))?;
    let limits = header.limits;
    let max_plaintext = MAX_BUNDLE;
    let contents = bundle
        .open(&key, max_plaintext)
        .map_err(|e| Stop::Refused(e.to_string()))?;
    let args = run_args(contents.args.as_deref(), args)?;

    let limits = crate::capped(shield_engine::Limits {
        instructions: limits.instructions,
        memory_bytes: limits.memory_bytes,
        output_bytes: limits.output_bytes,
    });
    let writes = ProtectedWrites::new().map_err(|e| Stop::Failed(e.to_string()))?;
    let mut vfs = Overlay::new(MemoryFiles::new(contents.files), writes);
    let mut stdin = Cursor::new(contents.stdin);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let _budget = crate::heap_budget(limits);
    let outcome = engine.run(Job {
        entry: &contents.entry,
        args: &args,
        env: &[],
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
        vfs: &mut vfs,
        clock: &HostClock,
        limits,
        heap_exceeded: crate::heap_exceeded,
    });
    let (_, writes) = vfs.into_parts();
    let files = writes
        .contents()
        // The error may name a file: script data, which the host must not see.
        .map_err(|_| Stop::Failed("reading back the script's files failed".into()))?;
    let error = match &outcome {
        Outcome::Exited(_) => None,
        Outcome::Error(message) => Some(message.clone()),
        Outcome::Limit { message, .. } => Some(message.clone()),
    };
    let result = RunResult {
        exit_status: outcome.exit_status(),
        error,
        stdout,
        stderr,
        files,
        args,
    };
    let sealed = shield_bundle::seal_result(&bundle, &key, &result)
        .map_err(|_| Stop::Failed("sealing the result failed".into()))?;
    outside::write_result(&sealed).map_err(Stop::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn fixed_arguments_admit_only_themselves_or_none() {
        let fixed = strings(&["a", "b"]);
        let run = |host: &[&str]| run_args(Some(&fixed), &strings(host));
        assert_eq!(run(&[]).unwrap(), fixed);
        assert_eq!(run(&["a", "b"]).unwrap(), fixed);
        for other in [&["a"][..], &["a", "b", "c"], &["b", "a"], &["x"]] {
            assert!(matches!(run(other), Err(Stop::Refused(_))), "{other:?}");
        }
        assert_eq!(run_args(None, &strings(&["x"])).unwrap(), ["x"]);
    }
}
