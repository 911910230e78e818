//! Running a bundle: open it in the order that keeps secrets safe, run the
//! script, seal the result to the owner.
//!
//! 1. unseal the enclave key (only this enclave on this machine can);
//! 2. read the bundle and check the owner's signature over all of it —
//!    any flipped byte stops here, before anything is decrypted;
//! 3. check the bundle is for this language and that its policy admits
//!    this enclave's own identity (from its own report, not from the host);
//! 4. decrypt (the recipient key and every file's size and hash are checked);
//! 5. run the entry script under the bundle's limits, its written files in
//!    protected files;
//! 6. encrypt the result to the owner, sign it with the enclave key, and
//!    hand it to the host.

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

    let writes = ProtectedWrites::new().map_err(|e| Stop::Failed(e.to_string()))?;
    let mut vfs = Overlay::new(MemoryFiles::new(contents.files), writes);
    let mut stdin = Cursor::new(contents.stdin);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let outcome = engine.run(Job {
        entry: &contents.entry,
        args,
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
        vfs: &mut vfs,
        clock: &HostClock,
        limits: crate::capped(shield_engine::Limits {
            instructions: limits.instructions,
            memory_bytes: limits.memory_bytes,
            output_bytes: limits.output_bytes,
        }),
    });
    let (_, writes) = vfs.into_parts();
    let files = writes
        .contents()
        .map_err(|e| Stop::Failed(format!("reading back the script's files: {e}")))?;
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
    };
    let sealed = shield_bundle::seal_result(&bundle, &key, &result)
        .map_err(|e| Stop::Failed(format!("sealing the result: {e}")))?;
    outside::write_result(&sealed).map_err(Stop::Failed)
}
