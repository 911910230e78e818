//! `shield new NAME`: a project of one's own, outside this repository — an
//! EDL file, an enclave crate and a host crate in a workspace — that
//! `cargo run` builds, signs, launches and calls.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use shield_sgx::sigstruct::SigningKey;

/// The project's files (path in the project, template), `{{name}}` and
/// `{{shield}}` filled in by [`render`].
const TEMPLATES: [(&str, &str); 11] = [
    ("Cargo.toml", include_str!("../../scaffold/workspace.toml")),
    (".gitignore", include_str!("../../scaffold/gitignore")),
    ("README.md", include_str!("../../scaffold/readme.md")),
    ("{{name}}.edl", include_str!("../../scaffold/interface.edl")),
    ("enclave.toml", include_str!("../../scaffold/enclave.toml")),
    (
        "enclave/Cargo.toml",
        include_str!("../../scaffold/enclave-manifest.toml"),
    ),
    (
        "enclave/build.rs",
        include_str!("../../scaffold/enclave-build.rs"),
    ),
    (
        "enclave/src/main.rs",
        include_str!("../../scaffold/enclave-main.rs"),
    ),
    (
        "host/Cargo.toml",
        include_str!("../../scaffold/host-manifest.toml"),
    ),
    (
        "host/build.rs",
        include_str!("../../scaffold/host-build.rs"),
    ),
    (
        "host/src/main.rs",
        include_str!("../../scaffold/host-main.rs"),
    ),
];

/// The crates a project depends on, which a Shield checkout must hold.
const CRATES: [&str; 4] = ["build", "edl", "enclave", "host"];

/// The longest name: crates.io takes package names of up to 64 characters,
/// and the enclave's is NAME-enclave.
const MAX_NAME: usize = 64 - "-enclave".len();

/// The Shield checkout's lock file is read whole, so within a bound far
/// above its size (about 70 KiB).
const MAX_LOCK: u64 = 16 << 20;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The project's name, a Rust package name: ASCII letters, digits, `-`
    /// and `_`, starting with a letter. Its crates are NAME-host and
    /// NAME-enclave.
    name: String,
    /// The directory to create NAME/ in.
    #[arg(long, default_value = ".")]
    path: PathBuf,
    /// The Shield checkout whose crates the project depends on (by path).
    /// Default: the one this `shield` was built from.
    #[arg(long)]
    shield_path: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    check_name(&args.name)?;
    let project = if args.path == Path::new(".") {
        PathBuf::from(&args.name)
    } else {
        args.path.join(&args.name)
    };
    // Checked again, atomically, when the project is moved into place; this
    // spares the key generation when the answer is already known.
    if project.symlink_metadata().is_ok() {
        bail!(
            "{} exists; shield new makes a new directory",
            project.display()
        );
    }
    let shield = shield_checkout(args.shield_path)?;
    let mut files = render(&args.name, &shield)?;
    // The project starts from the versions Shield is built and tested with:
    // Cargo keeps locked versions, drops the packages the project does not
    // use, and needs no index to resolve it (offline builds work).
    let lock = shield.join("Cargo.lock");
    if lock.is_file() {
        files.push(("Cargo.lock".into(), super::read_text(&lock, MAX_LOCK)?));
    }

    eprintln!("generating the project's signing key (RSA-3072, e = 3); this takes a few seconds");
    let key = SigningKey::generate()?.to_pem()?;

    let staging = crate::interrupt::TempDir::beside(&project)?;
    for (path, text) in &files {
        let dest = staging.path().join(path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&dest, text).with_context(|| format!("writing {}", dest.display()))?;
    }
    super::write_secret_file(
        &staging.path().join("dev-signing-key.pem"),
        key.as_bytes(),
        false,
    )?;
    staging.persist(&project)?;

    let shown = shell_word(&project);
    println!("created {shown}: {}-host, {0}-enclave, {0}.edl", args.name);
    println!("signing key: {shown}/dev-signing-key.pem (private, kept out of git)");
    println!("next:");
    println!("  cd {shown}");
    println!("  cargo run -- World   # build, sign and launch the enclave, and call it");
    Ok(ExitCode::SUCCESS)
}

/// Accepts names that Cargo and crates.io both take as package names.
fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !well_formed || name.len() > MAX_NAME {
        bail!(
            "{name:?} cannot name a project: use at most {MAX_NAME} ASCII letters, digits, \
             `-` and `_`, starting with a letter"
        );
    }
    Ok(())
}

/// The Shield checkout to depend on, absolute, checked to hold the crates.
fn shield_checkout(given: Option<PathBuf>) -> Result<PathBuf> {
    let built_from = || Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (dir, hint) = match given {
        Some(dir) => (dir, ""),
        None => (
            built_from(),
            " (the checkout this shield was built from); pass --shield-path",
        ),
    };
    let dir = dir
        .canonicalize()
        .with_context(|| format!("no Shield checkout at {}{hint}", dir.display()))?;
    for name in CRATES {
        let manifest = dir.join("crates").join(name).join("Cargo.toml");
        if !manifest.is_file() {
            bail!(
                "no Shield checkout at {}: {} is missing{hint}",
                dir.display(),
                manifest.display()
            );
        }
    }
    Ok(dir)
}

/// Every file of the project, `{{name}}` and `{{shield}}` filled in.
fn render(name: &str, shield: &Path) -> Result<Vec<(String, String)>> {
    let shield = shield.to_str().with_context(|| {
        format!(
            "{} is not UTF-8: Cargo.toml cannot name it",
            shield.display()
        )
    })?;
    let shield = toml_escape(shield);
    Ok(TEMPLATES
        .iter()
        .map(|(path, text)| {
            let fill = |s: &str| s.replace("{{name}}", name).replace("{{shield}}", &shield);
            (fill(path), fill(text))
        })
        .collect())
}

/// `text` as the inside of a TOML basic string ("...").
fn toml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A path as the user can paste it into a POSIX shell.
fn shell_word(path: &Path) -> String {
    let text = path.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_package_names() {
        for good in ["a", "my-app", "app_2", "X"] {
            check_name(good).unwrap();
        }
        let longest = "a".repeat(MAX_NAME);
        check_name(&longest).unwrap();
        let too_long = format!("{longest}a");
        for bad in [
            "", "2app", "-app", "_app", "my app", "app/x", "..", "ä", &too_long,
        ] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(err.contains("cannot name a project"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn every_placeholder_is_filled_and_paths_are_toml_strings() {
        let files = render("demo", Path::new("/opt/a \"b\"\\c")).unwrap();
        for (path, text) in &files {
            assert!(!path.contains("{{") && !text.contains("{{"), "{path}");
        }
        let manifest = &files.iter().find(|(p, _)| p == "Cargo.toml").unwrap().1;
        assert!(
            manifest.contains(r#"path = "/opt/a \"b\"\\c/crates/host""#),
            "{manifest}"
        );
        assert!(files.iter().any(|(p, _)| p == "demo.edl"));
    }

    #[test]
    fn the_workspace_optimizes_dependencies_in_debug_builds() {
        // A debug enclave otherwise takes about a second to launch.
        let files = render("demo", Path::new("/shield")).unwrap();
        let manifest = &files.iter().find(|(p, _)| p == "Cargo.toml").unwrap().1;
        let value: toml::Table = manifest.parse().unwrap();
        assert_eq!(
            value["profile"]["dev"]["package"]["*"]["opt-level"].as_integer(),
            Some(2)
        );
        assert_eq!(
            value["workspace"]["default-members"].as_array().unwrap()[0].as_str(),
            Some("host")
        );
    }

    #[test]
    fn shell_words_survive_pasting() {
        assert_eq!(shell_word(Path::new("/tmp/my-app")), "/tmp/my-app");
        assert_eq!(shell_word(Path::new("it's here")), r"'it'\''s here'");
    }

    #[test]
    fn a_checkout_without_the_crates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = shield_checkout(Some(dir.path().into())).unwrap_err();
        assert!(format!("{err:#}").contains("crates/build/Cargo.toml is missing"));
        shield_checkout(None).unwrap();
    }
}
