//! `shield verify QUOTE`: verify an SGX/TDX DCAP quote and appraise it.
//!
//! Exit 0: the quote is valid and the policy accepts it; 1: refused (the
//! verdict says why); 2: an input could not be read or parsed.
//!
//! Quotes are checked against Intel's production root. A quote from Shield's
//! *simulated* quoting enclave chains to the machine's "Shield Simulation
//! Root CA" instead: it is tried when `--sim-root FILE` names that root, or
//! when the policy says `allow_simulation = true` and the root exists at its
//! default place (`sim-root-ca.pem` beside the platform secret). Such a
//! verdict is always marked SIMULATION, and refused unless the policy
//! allows simulation.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use shield_attest::pki::Cert;
use shield_attest::{Collateral, Policy, TrustAnchors, Verdict, Verifier};

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
    /// Also trust this simulation root CA (PEM or DER), e.g.
    /// `~/.shield/sim-root-ca.pem`. Without it, the default one is used
    /// when the policy allows simulation.
    #[arg(long, value_name = "FILE")]
    sim_root: Option<PathBuf>,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let quote = super::read_bounded(&args.quote, MAX_INPUT)?;
    let collateral = match &args.collateral {
        Some(p) => Some(
            Collateral::load(p).with_context(|| format!("loading collateral {}", p.display()))?,
        ),
        None => None,
    };
    let policy = match &args.policy {
        Some(p) => Policy::from_toml(&super::read_text(p, MAX_INPUT)?)
            .with_context(|| format!("policy {}", p.display()))?,
        None => Policy::permissive(),
    };
    let now = match args.at {
        Some(t) => t,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("system clock before 1970")?
            .as_secs(),
    };
    let verdict = evaluate(
        &quote,
        collateral.as_ref(),
        &policy,
        args.sim_root.as_deref(),
        now,
    )?;
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

/// Verifies `quote` against Intel's root, then, if it chains elsewhere,
/// against the simulation root (`sim_root`, or the machine's default one
/// when the policy allows simulation), and appraises it with `policy`.
pub(crate) fn evaluate(
    quote: &[u8],
    collateral: Option<&Collateral>,
    policy: &Policy,
    sim_root: Option<&Path>,
    now: u64,
) -> Result<Verdict> {
    let verdict = Verdict::evaluate(&Verifier::intel(), quote, collateral, policy, now);
    let untrusted = matches!(verdict.error, Some(shield_attest::Error::UntrustedChain(_)));
    if untrusted && let Some(anchors) = simulation_anchors(sim_root, policy)? {
        return Ok(Verdict::evaluate(
            &Verifier::new(anchors),
            quote,
            collateral,
            policy,
            now,
        ));
    }
    Ok(verdict)
}

/// The simulation root to try: `--sim-root`, else the machine's default one
/// when the policy allows simulation and it exists.
fn simulation_anchors(explicit: Option<&Path>, policy: &Policy) -> Result<Option<TrustAnchors>> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => {
            let p = shield_host::quoting::default_sim_root_path();
            if !policy.allow_simulation || !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let bytes = super::read_bounded(&path, MAX_INPUT)?;
    let cert = if bytes.starts_with(b"-----BEGIN") {
        Cert::from_pem(&bytes)
    } else {
        Cert::from_der(&bytes)
    }
    .with_context(|| format!("simulation root {}", path.display()))?;
    Ok(Some(TrustAnchors::simulation(&[cert.der()])?))
}
