//! `shield keygen --sgx-signing -o KEY.pem`: an enclave-signing key.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use shield_sgx::hex;
use shield_sgx::sigstruct::SigningKey;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Make an RSA-3072 key with public exponent 3, as SGX requires for SIGSTRUCT.
    #[arg(long)]
    sgx_signing: bool,
    /// Where to write the key (PEM, created with mode 0600).
    #[arg(short, long)]
    output: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    if !args.sgx_signing {
        bail!(
            "say which key to make: --sgx-signing (an enclave-signing key) is the kind available"
        );
    }
    eprintln!("generating an RSA-3072 (e = 3) key; this takes a few seconds");
    let key = SigningKey::generate()?;
    super::write_secret_file(&args.output, key.to_pem()?.as_bytes(), args.force)?;
    println!("wrote {}", args.output.display());
    println!("MRSIGNER {}", hex(&key.mrsigner()));
    Ok(ExitCode::SUCCESS)
}
