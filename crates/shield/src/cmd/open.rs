//! `shield open app.result --owner DIR [--extract DIR]` (the owner): checks
//! the enclave's signature and that the result answers the owner's own
//! bundle, decrypts, prints the script's stdout and stderr, extracts its
//! files. Its exit code keeps shield's answer apart from the script's.

use std::io::{ErrorKind, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use shield_bundle::{OpenedResult, OwnerSecret};

use crate::script::extract::{self, shown};
use crate::script::ops::{self, Opened};

/// The result is valid and the script exited with a non-zero status.
const SCRIPT_FAILED: u8 = 4;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 the result is valid and the script exited 0; \
    1 the result is refused (bad signature, another owner's, tampered with, not an answer \
    to a bundle of this owner); 2 bad usage or unreadable input (a refused extraction \
    writes nothing); 4 the result is valid and the script exited with another status. \
    For a valid result, the last line on stderr is `script exit status: N`, N from 0 to \
    255 (3: the script hit a limit; 255 also for any status a script asked for outside 0-255)."
)]
pub(crate) struct Args {
    /// The result (from `shield run`).
    result: PathBuf,
    /// The owner directory (from `shield keygen -o`).
    #[arg(long)]
    owner: PathBuf,
    /// Write the files the script wrote under DIR (all or none: every
    /// target is checked first; links under DIR are not followed).
    #[arg(long, value_name = "DIR")]
    extract: Option<PathBuf>,
    /// Replace existing files when extracting.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let owner = OwnerSecret::load(&args.owner)?;
    let opened = match ops::open_result(&args.result, &owner)? {
        Opened::Valid(opened) => opened,
        Opened::Refused(reason) => {
            eprintln!("error: result refused: {reason}");
            return Ok(ExitCode::from(1));
        }
    };
    let extracted = match &args.extract {
        Some(dir) => Some(extract::write(&opened.result.files, dir, args.force)?),
        None => None,
    };
    let status = shell_status(opened.result.exit_status);
    // A reader gone early (`shield open ... | head`) must not turn the exit
    // code into success: the output is best effort, the answer is not.
    match show(&opened, extracted.as_deref(), status) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(ExitCode::from(if status == 0 { 0 } else { SCRIPT_FAILED }))
}

/// Prints the script's output, what happened to its files, and its status.
fn show(opened: &OpenedResult, extracted: Option<&[PathBuf]>, status: u8) -> std::io::Result<()> {
    let result = &opened.result;
    let mut out = std::io::stdout().lock();
    match out.write_all(&result.stdout).and_then(|()| out.flush()) {
        // Its reader stopped early (`| head`): the rest is still said.
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {}
        written => written?,
    }
    let mut err = std::io::stderr().lock();
    err.write_all(&result.stderr)?;
    if let Some(error) = &result.error {
        writeln!(err, "shield: the script ended with an error: {error}")?;
    }
    writeln!(
        err,
        "shield: result of bundle {} signed by enclave key {}",
        &shield_sgx::hex(&opened.bundle_digest)[..16],
        &shield_sgx::hex(&opened.enclave.fingerprint())[..16],
    )?;
    // Chosen by the host unless the owner fixed them at pack time.
    writeln!(
        err,
        "shield: the script ran with arguments {:?}",
        result.args
    )?;
    match extracted {
        Some(paths) => {
            for path in paths {
                writeln!(err, "shield: extracted {}", shown(path))?;
            }
        }
        None if !result.files.is_empty() => writeln!(
            err,
            "shield: the script wrote {} file(s): {} (use --extract DIR)",
            result.files.len(),
            result
                .files
                .keys()
                .map(|name| name.escape_debug().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?,
        None => {}
    }
    writeln!(err, "script exit status: {status}")
}

/// The script's exit status. Script enclaves map every status into 0..=255
/// (anything a script asks for outside it is 255); a status outside that
/// range reads as 255 here too, never as success.
fn shell_status(status: i32) -> u8 {
    u8::try_from(status).unwrap_or(u8::MAX)
}
