//! `shield exec [--native] FILE [-- ARGS...]`: development mode. Runs a
//! plaintext script in the script enclave (or, with --native, the same
//! engine in this process), stdin and output passed through. The script
//! sees its own directory read-only and a scratch area (in memory) for
//! writes. Exits with the script's exit status.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use shield_bundle::Language;

use crate::script::{ops, state};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Runs in the development enclave (signed with DEBUG set; the production \
    enclave refuses development mode). Limits: none by default but 128M of memory (the \
    script enclave's maximum). The script's exit status (0-255) is shield's; 3 means it hit \
    a limit (or --timeout); shield's own failures exit 2."
)]
pub(crate) struct Args {
    /// Run the engine in this process instead of the enclave.
    #[arg(long)]
    native: bool,
    /// The script.
    file: PathBuf,
    /// Its language; by default the one its extension names.
    #[arg(long)]
    lang: Option<Language>,
    #[command(flatten)]
    limits: super::LimitFlags,
    #[command(flatten)]
    timeout: super::TimeoutFlag,
    /// State directory (the unpacked enclave; default: $SHIELD_STATE_DIR or ~/.shield).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Arguments for the script (arg[1], ...).
    #[arg(last = true)]
    args: Vec<String>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let language = super::entry_language(&args.file, args.lang)?;
    let limits = ops::exec_limits(&args.limits);
    let status = if args.native {
        ops::exec_native(
            language,
            &args.file,
            &args.args,
            limits,
            args.timeout.limit(),
        )?
    } else {
        let state = state::resolve(args.state_dir.as_deref());
        let timeout = args.timeout.limit();
        ops::exec_enclave(language, &args.file, &args.args, limits, timeout, &state)?
    };
    Ok(ExitCode::from(
        u8::try_from(status.clamp(0, 255)).unwrap_or(1),
    ))
}
