//! `shield demo`: the whole ScriptShield round trip on a built-in example,
//! once per script language, in a temporary directory, one line per step
//! saying what happens and what an attacker on the host could see.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use shield_attest::Policy;
use shield_bundle::{Language, Limits, OwnerSecret, PackInput};

use crate::script::ops::{self, RunEnd};

/// The example's confidential data, the same for every language.
const DATA: (&str, &str) = (
    "data/readings.csv",
    include_str!("../../demo/data/readings.csv"),
);

/// The example program in `language`: an entry and a module of its own
/// (the same program in each language: it summarises the data, prints a
/// line and writes `report.txt`).
fn program(language: Language) -> [(&'static str, &'static str); 2] {
    match language {
        Language::Lua => [
            ("main.lua", include_str!("../../demo/lua/main.lua")),
            (
                "lib/stats.lua",
                include_str!("../../demo/lua/lib/stats.lua"),
            ),
        ],
        Language::Js => [
            ("main.js", include_str!("../../demo/js/main.js")),
            ("lib/stats.js", include_str!("../../demo/js/lib/stats.js")),
        ],
        Language::Squirrel => [
            ("main.nut", include_str!("../../demo/squirrel/main.nut")),
            (
                "lib/stats.nut",
                include_str!("../../demo/squirrel/lib/stats.nut"),
            ),
        ],
        Language::Python => [
            ("main.py", include_str!("../../demo/python/main.py")),
            (
                "lib/stats.py",
                include_str!("../../demo/python/lib/stats.py"),
            ),
        ],
    }
}

/// In the data and in the script's output; must never reach the host.
const MARKER: &[u8] = b"TOP-SECRET-SITE";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Work in DIR (kept afterwards) instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Show one language only (default: every language, in turn).
    #[arg(long)]
    lang: Option<Language>,
}

fn step(n: u32, who: &str, what: impl std::fmt::Display) {
    println!("[{n}/6] {who:<5} {what}");
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for item in std::fs::read_dir(&path)? {
                pending.push(item?.path());
            }
        } else if contains(&std::fs::read(&path)?, needle) {
            found.push(path);
        }
    }
    Ok(found)
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let temp;
    let dir = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temp = crate::interrupt::TempDir::new_in(&std::env::temp_dir(), ".tmp")?;
            temp.path().to_owned()
        }
    };
    println!("ScriptShield demo in {}", dir.display());
    println!("(simulation: no SGX hardware here, so nothing is secret from root on this machine)");

    // 1. The owner's keys.
    let owner_dir = dir.join("owner");
    let owner = OwnerSecret::generate();
    owner.save(&owner_dir)?;
    step(
        1,
        "owner",
        "made owner/owner.key (signing + decryption; never leaves the owner) and owner/owner.pub",
    );

    let languages = args.lang.map_or(Language::ALL.to_vec(), |l| vec![l]);
    for language in languages {
        println!("== {}", language.display_name());
        round(language, &dir.join(language.as_str()), &owner)?;
    }
    if let Some(dir) = &args.keep {
        println!("files kept in {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Steps 2 to 6 for `language` in `dir`, for `owner`.
fn round(language: Language, dir: &Path, owner: &OwnerSecret) -> Result<()> {
    let app = dir.join("app");
    let mut files = Vec::new();
    for (name, text) in program(language).into_iter().chain([DATA]) {
        let path = app.join(name);
        std::fs::create_dir_all(path.parent().expect("a file has a directory"))?;
        std::fs::write(&path, text)?;
        files.push((name.to_owned(), path));
    }

    // 2. The host's enclave makes its attested key.
    let host_state = dir.join("host-state");
    let made = ops::make_enclave_key(language, &host_state)?;
    let ak_path = dir.join("ak.json");
    std::fs::write(&ak_path, made.attested.to_json())?;
    step(
        2,
        "host",
        format_args!(
            "{} enclave {}… made a key pair; the host keeps only the sealed private half and \
             publishes ak.json (public key + quote binding it)",
            language.display_name(),
            &shield_sgx::hex(&made.mrenclave)[..16]
        ),
    );

    // 3. The owner checks the quote and packs.
    let policy_text = ops::simulation_policy_text(language, &made.mrenclave);
    std::fs::write(dir.join("policy.toml"), &policy_text)?;
    let policy = Policy::from_toml(&policy_text)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let verdict = ops::check_attested_key(&made.attested, &policy, None, now)?;
    if !verdict.accepted {
        bail!("the demo's own quote was refused:\n{verdict}");
    }
    let input = PackInput {
        language,
        policy: ops::enclave_policy(&policy),
        limits: Limits::default(),
        entry: program(language)[0].0.into(),
        files,
        stdin: None,
        args: None,
        env: Vec::new(),
    };
    let bundle = dir.join("app.shield");
    let size = ops::write_bundle(&input, &made.attested.key, owner, &bundle)?;
    step(
        3,
        "owner",
        format_args!(
            "checked the quote (simulation root, allowed by policy.toml) and packed 3 files into \
             app.shield ({size} bytes, encrypted to the enclave key, signed); the host sees \
             sizes and the policy"
        ),
    );

    // 4. The host runs it.
    let result = dir.join("app.result");
    let trace = dir.join("host-view.trace");
    let size = match ops::run_bundle(&bundle, &result, &[], &host_state, Some(&trace), None)? {
        RunEnd::Result(size) => size,
        RunEnd::Refused(reason) => bail!("the enclave refused the demo's bundle: {reason}"),
    };
    let trace_bytes = std::fs::read(&trace)?;
    let ocalls = trace_bytes
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"== OCALL"))
        .count();
    let leaks = files_containing(dir, MARKER)?
        .into_iter()
        .filter(|p| !p.starts_with(&app))
        .collect::<Vec<_>>();
    if !leaks.is_empty() {
        bail!("plaintext reached the host: {leaks:?}");
    }
    step(
        4,
        "host",
        format_args!(
            "ran app.shield in the enclave: app.result ({size} bytes); the host saw {ocalls} \
             OCALLs ({} bytes, in host-view.trace) and no plaintext: \"{}\" appears in none of \
             its files",
            trace_bytes.len(),
            String::from_utf8_lossy(MARKER)
        ),
    );

    // 5. The owner opens the result.
    let opened = match ops::open_result(&result, owner)? {
        ops::Opened::Valid(opened) => opened,
        ops::Opened::Refused(reason) => bail!("the demo's own result was refused: {reason}"),
    };
    if opened.result.exit_status != 0 {
        bail!(
            "the demo's {} script failed (exit status {}):\n{}",
            language.display_name(),
            opened.result.exit_status,
            String::from_utf8_lossy(&opened.result.stderr)
        );
    }
    let out = dir.join("out");
    crate::script::extract::write(&opened.result.files, &out, false)?;
    step(
        5,
        "owner",
        format_args!(
            "opened app.result (enclave signature checked, decrypted); exit status {}, \
             extracted {} to out/; the script printed:",
            opened.result.exit_status,
            opened
                .result
                .files
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    for line in String::from_utf8_lossy(&opened.result.stdout).lines() {
        println!("        | {line}");
    }

    // 6. A host that tampers is caught.
    let mut tampered = std::fs::read(&bundle)?;
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    let tampered_path = dir.join("tampered.shield");
    std::fs::write(&tampered_path, &tampered)?;
    match ops::run_bundle(
        &tampered_path,
        &dir.join("tampered.result"),
        &[],
        &host_state,
        None,
        None,
    )? {
        RunEnd::Refused(reason) => step(
            6,
            "host",
            format_args!(
                "flipped one bit of the bundle and ran it: refused, no script ran ({reason})"
            ),
        ),
        RunEnd::Result(_) => bail!("a tampered bundle ran"),
    }
    Ok(())
}
