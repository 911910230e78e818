//! `shield verify QUOTE`: verify an SGX/TDX DCAP quote and appraise it.
//!
//! Exit 0: the quote is valid and the policy accepts it; 1: refused (the
//! verdict says why); 2: an input could not be read or parsed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use shield_attest::{Collateral, Policy, Verdict, Verifier};

/// Largest quote or policy file read.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The quote file (raw binary SGX v3 / TDX v4 / v5 DCAP quote).
    quote: PathBuf,
    /// Collateral: the combined JSON file, or a directory with the PCS pieces
    /// (tcb_info.json, qe_identity.json, tcb_signing_chain.pem, pck_crl.der,
    /// root_crl.der). Without it only signatures and the PCK chain are checked.
    #[arg(long)]
    collateral: Option<PathBuf>,
    /// Appraisal policy (TOML). Without it any valid, non-revoked quote is accepted.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Verification time in unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    at: Option<u64>,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
}

fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len > MAX_INPUT {
        bail!("{} is larger than {MAX_INPUT} bytes", path.display());
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let quote = read_limited(&args.quote)?;
    let collateral = match &args.collateral {
        Some(p) => Some(
            Collateral::load(p).with_context(|| format!("loading collateral {}", p.display()))?,
        ),
        None => None,
    };
    let policy = match &args.policy {
        Some(p) => {
            let text = String::from_utf8(read_limited(p)?)
                .with_context(|| format!("{} is not UTF-8", p.display()))?;
            Policy::from_toml(&text).with_context(|| format!("policy {}", p.display()))?
        }
        None => Policy::permissive(),
    };
    let now = match args.at {
        Some(t) => t,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("system clock before 1970")?
            .as_secs(),
    };
    let verdict = Verdict::evaluate(
        &Verifier::intel(),
        &quote,
        collateral.as_ref(),
        &policy,
        now,
    );
    // writeln! rather than println!: a closed pipe is an error main() handles.
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", verdict.to_json())?;
    } else {
        writeln!(out, "{verdict}")?;
    }
    Ok(if verdict.accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
