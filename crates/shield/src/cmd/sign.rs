//! `shield sign --key KEY.pem ENCLAVE [--config CFG] -o ENCLAVE.sig`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use shield_sgx::hex;
use shield_sgx::sigstruct::{SigningKey, SigstructFields, bcd_date};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The enclave-signing key (PEM, RSA-3072, e = 3; see `shield keygen --sgx-signing`).
    #[arg(long)]
    key: PathBuf,
    /// The enclave: an SGXS stream or a Shield enclave binary.
    enclave: PathBuf,
    /// The enclave config (TOML): layout, ISVPRODID, ISVSVN, debug.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where to write the 1808-byte SIGSTRUCT.
    #[arg(short, long)]
    output: PathBuf,
    /// Signing date, YYYY-MM-DD (default: today, UTC). Fix it for reproducible output.
    #[arg(long)]
    date: Option<String>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    // The private key's text is wiped once parsed.
    let pem = zeroize::Zeroizing::new(super::read_text(&args.key, 1 << 20)?);
    let key = SigningKey::from_pem(&pem).with_context(|| format!("in {}", args.key.display()))?;
    let measured = super::measure::measure_file(&args.enclave, args.config.as_deref())?;
    let config = super::measure::load_config(args.config.as_deref())?;
    let date = match &args.date {
        Some(text) => parse_date(text)?,
        None => today(),
    };
    let mut sigstruct =
        SigstructFields::for_config(measured.mrenclave, &config, date).to_unsigned();
    key.sign(&mut sigstruct)?;
    std::fs::write(&args.output, sigstruct.as_ref())
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!("wrote {}", args.output.display());
    println!("MRENCLAVE {}", hex(&measured.mrenclave));
    println!("MRSIGNER {}", hex(&key.mrsigner()));
    println!(
        "isvprodid: {}  isvsvn: {}  debug: {}",
        config.isv_prod_id, config.isv_svn, config.debug
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_date(text: &str) -> Result<u32> {
    let bad = || anyhow!("--date {text:?}: expected YYYY-MM-DD");
    let mut parts = text
        .splitn(3, '-')
        .map(|p| p.parse::<u32>().map_err(|_| bad()));
    let (year, month, day) = (
        parts.next().ok_or_else(bad)??,
        parts.next().ok_or_else(bad)??,
        parts.next().ok_or_else(bad)??,
    );
    bcd_date(year, month, day).ok_or_else(bad)
}

/// Today's date (UTC) as BCD, from the days since 1970 by the civil-calendar
/// algorithm (March-based years make leap days fall at the end).
fn today() -> u32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = (year_of_era + era * 400 + i64::from(month <= 2)) as u32;
    bcd_date(year, month, day).unwrap_or(0)
}
