//! `shield open app.result --owner DIR [--extract DIR]` (the owner): checks
//! the enclave's signature and that the result answers the owner's own
//! bundle, decrypts, prints the script's stdout and stderr, extracts its
//! files, and exits with the script's exit status.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use shield_bundle::OwnerSecret;

use crate::script::ops;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The result (from `shield run`).
    result: PathBuf,
    /// The owner directory (from `shield keygen -o`).
    #[arg(long)]
    owner: PathBuf,
    /// Write the files the script wrote under DIR.
    #[arg(long, value_name = "DIR")]
    extract: Option<PathBuf>,
    /// Replace existing files when extracting.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let owner = OwnerSecret::load(&args.owner)?;
    let opened = ops::open_result(&args.result, &owner)?;
    let result = &opened.result;
    std::io::stdout().write_all(&result.stdout)?;
    std::io::stdout().flush()?;
    let mut err = std::io::stderr().lock();
    err.write_all(&result.stderr)?;
    if let Some(error) = &result.error {
        writeln!(err, "shield: the script ended with an error: {error}")?;
    }
    writeln!(
        err,
        "shield: result of bundle {} signed by enclave key {}; exit status {}",
        &shield_sgx::hex(&opened.bundle_digest)[..16],
        &shield_sgx::hex(&opened.enclave.fingerprint())[..16],
        result.exit_status
    )?;
    match &args.extract {
        Some(dir) => {
            ops::extract(&result.files, dir, args.force)?;
            for name in result.files.keys() {
                writeln!(err, "shield: extracted {}", dir.join(name).display())?;
            }
        }
        None if !result.files.is_empty() => writeln!(
            err,
            "shield: the script wrote {} file(s): {} (use --extract DIR)",
            result.files.len(),
            result.files.keys().cloned().collect::<Vec<_>>().join(", ")
        )?,
        None => {}
    }
    Ok(ExitCode::from(
        u8::try_from(result.exit_status.clamp(0, 255)).unwrap_or(1),
    ))
}
