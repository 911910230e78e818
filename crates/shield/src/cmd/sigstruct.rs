//! `shield sigstruct FILE`: a SIGSTRUCT's fields, and whether its signature holds.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use shield_sgx::sigstruct;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A 1808-byte SIGSTRUCT file (as written by `shield sign`).
    file: PathBuf,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    // A SIGSTRUCT is 1808 bytes; the bound only stops endless inputs.
    let bytes = super::read_bounded(&args.file, 64 << 10)?;
    let parsed = sigstruct::parse(&bytes).with_context(|| format!("in {}", args.file.display()))?;
    println!("{}", sigstruct::describe(&parsed));
    match sigstruct::verify(&parsed) {
        Ok(()) => {
            println!("signature: valid");
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("signature: INVALID ({err})");
            Ok(ExitCode::FAILURE)
        }
    }
}
