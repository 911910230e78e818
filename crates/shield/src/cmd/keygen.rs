//! `shield keygen -o OWNER_DIR`: a script owner's keys.
//! `shield keygen --sgx-signing -o KEY.pem`: an enclave-signing key.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use shield_bundle::OwnerSecret;
use shield_sgx::hex;
use shield_sgx::sigstruct::SigningKey;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Make an RSA-3072 key with public exponent 3, as SGX requires for
    /// SIGSTRUCT, written to the file OUTPUT. Without it: an owner's keys.
    #[arg(long)]
    sgx_signing: bool,
    /// The owner directory to create (owner.key, mode 0600, and owner.pub),
    /// or with --sgx-signing the key file.
    #[arg(short, long)]
    output: PathBuf,
    /// Replace an existing enclave-signing key file (owner keys are never replaced).
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    if args.sgx_signing {
        eprintln!("generating an RSA-3072 (e = 3) key; this takes a few seconds");
        let key = SigningKey::generate()?;
        super::write_secret_file(&args.output, key.to_pem()?.as_bytes(), args.force)?;
        println!("wrote {}", args.output.display());
        println!("MRSIGNER {}", hex(&key.mrsigner()));
        return Ok(ExitCode::SUCCESS);
    }
    let secret = OwnerSecret::generate();
    secret.save(&args.output)?;
    let dir = args.output.display();
    println!("wrote {dir}/owner.key (secret: signing and decryption keys, mode 0600)");
    println!("wrote {dir}/owner.pub (public; shown below)");
    println!("{}", secret.public().to_json());
    Ok(ExitCode::SUCCESS)
}
