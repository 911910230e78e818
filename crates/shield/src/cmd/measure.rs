//! `shield measure FILE`: MRENCLAVE of an enclave in any format we know.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use shield_sgx::config::EnclaveConfig;
use shield_sgx::hex;
use shield_sgx::measure::Measurement;
use shield_sgx::{sdk, sgxs, shield_layout};

/// Largest enclave file measured (a debug build of `shield`, which embeds
/// an enclave and is used as a stand-in one by the tests, is about 200 MiB).
const MAX_ENCLAVE_FILE: u64 = 1 << 30;
/// Largest enclave config read.
const MAX_CONFIG: u64 = 1 << 20;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// An SGXS stream (.sgxs), an Intel SDK signed enclave (.so) or a Shield enclave binary.
    file: PathBuf,
    /// The enclave config (TOML) of a Shield enclave; defaults apply without it.
    #[arg(long)]
    config: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let measured = measure_file(&args.file, args.config.as_deref())?;
    println!("MRENCLAVE {}", hex(&measured.mrenclave));
    for line in &measured.details {
        println!("{line}");
    }
    // An embedded SIGSTRUCT that does not sign this enclave: the answer is "no".
    Ok(if measured.matches == Some(false) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// An enclave's measurement and what was learnt on the way.
pub(crate) struct Measured {
    pub(crate) mrenclave: Measurement,
    pub(crate) details: Vec<String>,
    /// For formats that embed a SIGSTRUCT: whether its ENCLAVEHASH matches.
    pub(crate) matches: Option<bool>,
}

/// Measures `path` by its format: SGXS by its first record, an SDK signed
/// enclave by its metadata note, otherwise a Shield enclave binary laid out
/// under `config`. Input that is no enclave is an error (exit 2).
pub(crate) fn measure_file(path: &Path, config: Option<&Path>) -> Result<Measured> {
    let bytes = super::read_bounded(path, MAX_ENCLAVE_FILE)?;
    if bytes.starts_with(b"ECREATE\0") || bytes.starts_with(b"UNSIZED\0") {
        let summary = sgxs::measure_sgxs(&bytes[..])
            .with_context(|| format!("measuring {}", path.display()))?;
        // Well-formed, but nothing anyone could run or sign.
        if summary.pages == 0 {
            bail!(
                "measuring {}: the SGXS stream adds no page: not an enclave",
                path.display()
            );
        }
        return Ok(Measured {
            mrenclave: summary.mrenclave,
            details: vec![
                "format: sgxs".into(),
                format!("size: {:#x}", summary.size),
                format!("ssa frame size: {}", summary.ssa_frame_size),
                format!("pages: {}", summary.pages),
                format!("measured chunks: {}", summary.measured_chunks),
            ],
            matches: None,
        });
    }
    if sdk::is_sdk_enclave(&bytes) {
        let measured = sdk::measure_sdk_enclave(&bytes)
            .with_context(|| format!("measuring {}", path.display()))?;
        let mut details = vec!["format: intel sdk signed enclave".to_owned()];
        // `describe` opens with the MRENCLAVE line, which `run` prints itself.
        details.extend(measured.describe().lines().skip(1).map(str::to_owned));
        return Ok(Measured {
            mrenclave: measured.mrenclave,
            details,
            matches: Some(measured.matches_sigstruct),
        });
    }
    let config = load_config(config)?;
    let layout = shield_layout::layout(&bytes, &config)
        .with_context(|| format!("laying out {}", path.display()))?;
    Ok(Measured {
        mrenclave: layout.measure()?,
        details: vec![
            "format: shield enclave".into(),
            format!("size: {:#x}", layout.size),
            format!("heap max: {:#x}", config.heap_max),
            format!("stack size: {:#x}", config.stack_size),
            format!("tcs count: {}", config.tcs_count),
        ],
        matches: None,
    })
}

/// The config at `path`, or the defaults.
pub(crate) fn load_config(path: Option<&Path>) -> Result<EnclaveConfig> {
    let Some(path) = path else {
        return Ok(EnclaveConfig::default());
    };
    let text = super::read_text(path, MAX_CONFIG)?;
    EnclaveConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))
}
