//! `shield pack main.lua [FILES_OR_DIRS...] --to ak.json [--policy P] --owner DIR -o app.shield`:
//! checks the enclave's attested key against the policy, then writes the
//! bundle: encrypted to that key (HPKE), signed by the owner.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use shield_attest::{Policy, TcbStatus};
use shield_bundle::{AttestedKey, Language, Limits, OwnerSecret, PackInput};

use crate::script::ops;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Limits default to 20 billion instructions, 128M of memory and 64M of \
    output; the script enclave lowers memory to at most 128M and output to 64M, and opens \
    bundles of up to 128M. A script that hits a limit ends with exit status 3, the enclave \
    still up."
)]
pub(crate) struct Args {
    /// The entry script, relative to the directory it will run in (packing
    /// from that directory keeps `require` and `io.open` paths as they are).
    entry: PathBuf,
    /// More files, or directories (packed recursively), relative likewise.
    files: Vec<PathBuf>,
    /// The entry's language, when its extension does not say it; it must
    /// be the language of the enclave whose key --to names.
    #[arg(long)]
    lang: Option<Language>,
    /// The enclave's attested key (from `shield enclave-key`).
    #[arg(long, value_name = "AK_JSON")]
    to: PathBuf,
    /// Which enclaves may open the bundle (TOML; see `shield verify`). The
    /// quote must satisfy it; its identity part goes into the bundle and the
    /// enclave checks it again. Without an identity in it, the bundle is
    /// pinned to the MRENCLAVE of the enclave this `shield` carries.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The owner directory (from `shield keygen -o`).
    #[arg(long)]
    owner: PathBuf,
    /// The bundle to write.
    #[arg(short, long)]
    output: PathBuf,
    /// A file the script reads as its standard input.
    #[arg(long)]
    stdin: Option<PathBuf>,
    #[command(flatten)]
    limits: super::LimitFlags,
    /// Also trust this simulation root CA for the quote (see `shield verify`).
    #[arg(long, value_name = "FILE")]
    sim_root: Option<PathBuf>,
    /// Fix the script's arguments to those after `--` (none if there are
    /// none): `shield run` then refuses a run with any others. Without it the
    /// host chooses them (and `shield open` shows what they were).
    #[arg(long = "args")]
    fix_args: bool,
    /// The arguments `--args` fixes.
    #[arg(last = true, value_name = "ARGS")]
    fixed_args: Vec<String>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let owner = OwnerSecret::load(&args.owner)?;
    let attested = AttestedKey::from_json(&super::read_text(&args.to, ops::MAX_DOCUMENT)?)
        .with_context(|| format!("reading the attested key {}", args.to.display()))?;
    let policy = match &args.policy {
        Some(path) => Some(
            Policy::from_toml(&super::read_text(path, 1 << 20)?)
                .with_context(|| format!("policy {}", path.display()))?,
        ),
        None => None,
    };
    let language = args.lang.or_else(|| Language::of_entry(&args.entry));
    if let Some(language) = language.filter(|&l| l != attested.language) {
        anyhow::bail!(
            "{} is {} and {} is the {} enclave's key: pack for that enclave with a key from              `shield enclave-key --lang {}`",
            args.entry.display(),
            language.display_name(),
            args.to.display(),
            attested.language.display_name(),
            language.as_str()
        );
    }
    let policy = ops::complete_policy(policy, attested.language)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("system clock before 1970")?
        .as_secs();
    let verdict = ops::check_attested_key(&attested, &policy, args.sim_root.as_deref(), now)?;
    if !verdict.accepted {
        eprintln!("{verdict}");
        if verdict.simulation || !policy.allow_simulation {
            eprintln!(
                "(a quote from Shield's simulated quoting enclave is accepted only by a policy \
                 with allow_simulation = true)"
            );
        }
        if verdict.status == Some(TcbStatus::TcbNotChecked) {
            eprintln!(
                "(the attested key carries no collateral, so the platform's TCB level was not \
                 checked; a policy accepts that only by listing \"TcbNotChecked\" in \
                 tcb_statuses)"
            );
        }
        eprintln!(
            "error: the attested key {} is refused: not packing",
            args.to.display()
        );
        return Ok(ExitCode::from(1));
    }
    let d = Limits::default();
    let [instructions, memory_bytes, output_bytes] =
        args.limits
            .over(d.instructions, d.memory_bytes, d.output_bytes);
    let limits = Limits {
        instructions,
        memory_bytes,
        output_bytes,
    };
    if !args.fixed_args.is_empty() && !args.fix_args {
        anyhow::bail!(
            "arguments after `--` are fixed in the bundle only with --args \
             (without it, the host passes them to `shield run`)"
        );
    }
    let files = ops::collect_files(&args.entry, &args.files)?;
    let input = PackInput {
        language: attested.language,
        policy: ops::enclave_policy(&policy),
        limits,
        entry: ops::bundle_path(&args.entry)?,
        files,
        stdin: args.stdin.clone(),
        args: args.fix_args.then(|| args.fixed_args.clone()),
    };
    let size = ops::write_bundle(&input, &attested.key, &owner, &args.output)?;
    println!(
        "quote accepted{}: enclave {}, TCB status {}",
        if verdict.simulation {
            " (SIMULATION root)"
        } else {
            ""
        },
        verdict
            .identity
            .as_ref()
            .and_then(|i| i.mrenclave.clone())
            .unwrap_or_default(),
        verdict
            .status
            .map_or_else(|| "unknown".to_owned(), |s| s.to_string())
    );
    println!(
        "wrote {} ({size} bytes: {} files encrypted to key {}, signed by the owner)",
        args.output.display(),
        input.files.len(),
        &shield_sgx::hex(&attested.key.fingerprint())[..16]
    );
    Ok(ExitCode::SUCCESS)
}
