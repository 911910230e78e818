//! `shield`: the command-line front end. Flag parsing and output only; the
//! logic lives in the library crates under `crates/`.
//!
//! Exit codes: 0 success; 1 the command ran and its answer is "no" (a check
//! failed, a quote, bundle or result was refused); 2 usage or input error.
//! `open` exits 4 for a valid result whose script exited non-zero; `exec`
//! exits with the script's own exit status.
#![forbid(unsafe_code)]

mod cmd;
mod interrupt;
mod script;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Memory-safe enclaves and shielded scripts.
#[derive(Debug, Parser)]
#[command(name = "shield", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute an enclave's MRENCLAVE (.sgxs stream, Intel SDK signed .so, or Shield enclave).
    Measure(cmd::measure::Args),
    /// Sign an enclave: write its SIGSTRUCT.
    Sign(cmd::sign::Args),
    /// Print the fields of a SIGSTRUCT and check its signature.
    Sigstruct(cmd::sigstruct::Args),
    /// Run the whole ScriptShield round trip on a built-in example.
    Demo(cmd::demo::Args),
    /// Create keys: a script owner's keys, or an SGX enclave-signing key (--sgx-signing).
    Keygen(cmd::keygen::Args),
    /// (Host) Have the script enclave make its attested key (ak.json).
    EnclaveKey(cmd::enclave_key::Args),
    /// (Owner) Pack a script and its files into a bundle for an attested enclave key.
    Pack(cmd::pack::Args),
    /// (Host) Run a bundle in the script enclave; write its encrypted result.
    Run(cmd::run::Args),
    /// (Owner) Check and decrypt a result; print its output, extract its files.
    Open(cmd::open::Args),
    /// Development: run a plaintext script in the script enclave (or --native).
    Exec(cmd::exec::Args),
    /// Verify an SGX/TDX DCAP quote and appraise it against a policy.
    Verify(cmd::verify::Args),
    /// Check EDL files, or generate Rust from them.
    Edl(cmd::edl::Args),
    /// Create a project of one's own: a host, an enclave and their EDL.
    New(cmd::new::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = interrupt::install() {
        eprintln!("error: {err:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Measure(args) => cmd::measure::run(args),
        Command::Sign(args) => cmd::sign::run(args),
        Command::Sigstruct(args) => cmd::sigstruct::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Keygen(args) => cmd::keygen::run(args),
        Command::EnclaveKey(args) => cmd::enclave_key::run(args),
        Command::Pack(args) => cmd::pack::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Open(args) => cmd::open::run(args),
        Command::Exec(args) => cmd::exec::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Edl(args) => cmd::edl::run(args),
        Command::New(args) => cmd::new::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// A reader that closed our stdout early (`shield ... | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
