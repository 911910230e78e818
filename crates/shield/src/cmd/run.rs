//! `shield run app.shield -o app.result [-- ARGS...]` (on the host): runs
//! a bundle in the script enclave and writes its result, encrypted to the
//! owner and signed by the enclave. The host learns neither the script nor
//! its output; ARGS are the host's, so neither secret nor trusted.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::script::ops::{self, RunEnd};
use crate::script::state;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The bundle (from `shield pack`).
    bundle: PathBuf,
    /// Where to write the result.
    #[arg(short, long)]
    output: PathBuf,
    /// State directory holding the enclave's sealed key (default: $SHIELD_STATE_DIR or ~/.shield).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Write every OCALL request the enclave makes to FILE, replacing it:
    /// everything the host learns during the run, for audit. FILE may be
    /// neither the bundle nor the result.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    #[command(flatten)]
    timeout: super::TimeoutFlag,
    /// Arguments for the script (arg[1], ...).
    #[arg(last = true)]
    args: Vec<String>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let state = state::resolve(args.state_dir.as_deref());
    match ops::run_bundle(
        &args.bundle,
        &args.output,
        &args.args,
        &state,
        args.trace.as_deref(),
        args.timeout.limit(),
    )? {
        RunEnd::Result(size) => {
            println!(
                "wrote {} ({size} bytes, encrypted to the bundle's owner; `shield open` shows it)",
                args.output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        RunEnd::Refused(reason) => {
            eprintln!("error: {reason}");
            eprintln!("no script ran and no result was written");
            Ok(ExitCode::from(1))
        }
    }
}
