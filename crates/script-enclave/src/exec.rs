//! Development mode: a plaintext script from the host's directory, run by
//! the same engine in the same enclave, stdin and output passed through.
//! Nothing here is secret; it exists to debug scripts and to measure what
//! the enclave costs against `shield exec --native`.

use shield_engine::vfs::{MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits};

use crate::dev_host::{HostDirectory, HostOutput, HostStdin};
use crate::outside::HostClock;

/// Runs `entry` with `args`; returns the script's exit status.
pub fn run(
    engine: &dyn Engine,
    entry: &str,
    args: &[String],
    limits: Limits,
) -> Result<i32, String> {
    let entry = shield_engine::vfs::normalize(entry).map_err(|e| format!("{entry}: {e}"))?;
    let max_file = limits.memory_bytes.unwrap_or(crate::MAX_SCRIPT_MEMORY);
    // Writes go to a scratch area in enclave memory, dropped at the end.
    let mut vfs = Overlay::new(HostDirectory { max_file }, MemoryWrites::new());
    let (mut stdout, mut stderr) = (HostOutput::new(1), HostOutput::new(2));
    let _budget = crate::heap_budget(limits);
    let outcome = engine.run(Job {
        entry: &entry,
        args,
        env: &[],
        stdin: &mut HostStdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
        vfs: &mut vfs,
        clock: &HostClock,
        limits,
        heap_exceeded: crate::heap_exceeded,
    });
    use std::io::Write;
    stdout
        .flush()
        .and_then(|()| stderr.flush())
        .map_err(|e| format!("passing output to the host: {e}"))?;
    Ok(outcome.exit_status())
}
