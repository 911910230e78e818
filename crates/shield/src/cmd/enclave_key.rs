//! `shield enclave-key --lang lua -o ak.json` (on the host): the script
//! enclave makes a key pair, seals the private part to itself (kept in the
//! state directory) and publishes the public part with a quote binding it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use shield_bundle::Language;

use crate::script::{ops, state};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The script language whose enclave makes the key.
    #[arg(long, default_value = "lua")]
    lang: Language,
    /// Where to write the attested key (JSON), for the owner's `shield pack --to`.
    #[arg(short, long)]
    output: PathBuf,
    /// State directory for the sealed key (default: $SHIELD_STATE_DIR or ~/.shield).
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let state = state::resolve(args.state_dir.as_deref());
    let made = ops::make_enclave_key(args.lang, &state)?;
    std::fs::write(&args.output, made.attested.to_json())
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", args.output.display()))?;
    println!("wrote {}", args.output.display());
    println!("enclave MRENCLAVE {}", shield_sgx::hex(&made.mrenclave));
    println!(
        "key fingerprint {}",
        shield_sgx::hex(&made.attested.key.fingerprint())
    );
    println!(
        "sealed private key: {} (opens only in this enclave on this machine)",
        made.sealed_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
