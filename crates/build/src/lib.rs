//! Builds an enclave from a host crate's `build.rs`, the way `prost-build`
//! generates code: one call, and the host's code finds the signed enclave
//! through environment variables set at compile time.
//!
//! ```no_run
//! // In the `main` of a host crate's build.rs:
//! shield_build::EnclaveBuild::new("hello-enclave", "HELLO_ENCLAVE")
//!     .signing_key("../dev-signing-key.pem")
//!     .config("../enclave.toml")
//!     .build()
//!     .unwrap();
//! // main.rs then uses env!("HELLO_ENCLAVE") (the binary; its SIGSTRUCT is
//! // the same path with ".sig", its config with ".toml").
//! ```
//!
//! The enclave crate is built by a nested `cargo build`, in the host's
//! profile, with a target directory of its own: `shield-enclaves/` inside
//! the host's target directory (the host's directory itself would deadlock
//! on Cargo's build lock). Every enclave of the workspace shares it, so
//! their common dependencies compile once, and `cargo clippy` followed by
//! `cargo test` builds them once. The binary is then measured and signed
//! with `shield-sgx`, exactly as `shield sign` does.
//!
//! By default the enclave package is looked up in the host's workspace.
//! [`EnclaveBuild::manifest_path`] names its `Cargo.toml` instead, so the
//! enclave may also be a workspace of its own (with its own `Cargo.lock`
//! and profiles).
#![forbid(unsafe_code)]

use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use shield_sgx::config::EnclaveConfig;
use shield_sgx::shield_layout;
use shield_sgx::sigstruct::{SigningKey, SigstructFields, bcd_date};

/// Where nested enclave builds go: `shield-enclaves/` beside the profile
/// directory that holds `out_dir` (`<target>/<profile>/build/<pkg>/out`;
/// the profile directory is the one holding Cargo's `.cargo-lock`), or
/// under `out_dir` when there is none. (Cargo's `CACHEDIR.TAG` is no guide:
/// it is not written into a target directory that existed before the
/// first build, and then every build script run built its enclaves anew.)
fn nested_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join(".cargo-lock").is_file())
        .and_then(Path::parent)
        .map_or_else(
            || out_dir.join("enclave-target"),
            |target| target.join("shield-enclaves"),
        )
}

/// A built, signed enclave.
#[derive(Debug, Clone)]
pub struct BuiltEnclave {
    /// The enclave binary.
    pub binary: PathBuf,
    /// Its SIGSTRUCT (`binary` + `.sig`).
    pub sigstruct: PathBuf,
    /// Its config (`binary` + `.toml`).
    pub config: PathBuf,
}

/// One enclave to build from a `build.rs`.
#[derive(Debug, Clone)]
pub struct EnclaveBuild {
    package: String,
    env_var: String,
    key: Option<PathBuf>,
    config: Option<PathBuf>,
    manifest: Option<PathBuf>,
}

impl EnclaveBuild {
    /// Builds cargo package `package`; its path is exported to the host's
    /// code as `env!(env_var)`.
    pub fn new(package: &str, env_var: &str) -> Self {
        Self {
            package: package.into(),
            env_var: env_var.into(),
            key: None,
            config: None,
            manifest: None,
        }
    }

    /// The enclave package's `Cargo.toml`, relative to the host crate's
    /// directory. Without it the package must be a member of the host's
    /// workspace.
    pub fn manifest_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest = Some(path.into());
        self
    }

    /// The RSA-3072 (e = 3) PEM key to sign with, relative to the host
    /// crate's directory.
    pub fn signing_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.key = Some(path.into());
        self
    }

    /// The enclave config (TOML), relative to the host crate's directory.
    pub fn config(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = Some(path.into());
        self
    }

    /// Builds, signs and exports. Errors are messages for a build log.
    pub fn build(&self) -> Result<BuiltEnclave, String> {
        let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
        let out_dir = PathBuf::from(env("OUT_DIR")?);
        let profile = if env("PROFILE")? == "release" {
            "release"
        } else {
            "debug"
        };
        let target_dir = nested_target_dir(&out_dir);

        let host_workspace = workspace_of(&manifest_dir.join("Cargo.toml"))?;
        let manifest = self.manifest.as_ref().map(|path| manifest_dir.join(path));
        let workspace = match &manifest {
            Some(path) => workspace_of(path)?,
            None => host_workspace.clone(),
        };

        let mut command = cargo();
        command
            .args(["build", "-p", &self.package, "--target-dir"])
            .arg(&target_dir);
        if let Some(path) = &manifest {
            command.arg("--manifest-path").arg(path);
        }
        // The outer cargo resolved the host's workspace before running this
        // script: the inner build must not change its lock file. An enclave
        // workspace of its own keeps its lock file as `cargo build` there
        // would.
        if workspace == host_workspace {
            command.arg("--locked");
        }
        if profile == "release" {
            command.arg("--release");
        }
        // Debug information is of no use inside an enclave (it cannot write
        // a backtrace anywhere) and every byte of the binary is measured at
        // each launch: an enclave is built without it, in either profile (a
        // debug JavaScript or Python enclave carried 200-340 MB of it, and
        // a host embedding them all passed a gigabyte).
        // It is not generated either: for optimized interpreters it was the
        // larger part of a clean build's time.
        command.env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo");
        command.env("CARGO_PROFILE_DEV_STRIP", "debuginfo");
        for profile in ["dev", "release"] {
            for table in ["", ".package.\"*\""] {
                command
                    .arg("--config")
                    .arg(format!("profile.{profile}{table}.debug=false"));
            }
        }
        let status = command
            .current_dir(&manifest_dir)
            .status()
            .map_err(|e| format!("running cargo: {e}"))?;
        if !status.success() {
            let hint = if manifest.is_none() {
                "; if cargo found no such package: an enclave outside the \
                 host's workspace is named by EnclaveBuild::manifest_path"
            } else {
                ""
            };
            return Err(format!(
                "building enclave package {} failed ({status}){hint}",
                self.package
            ));
        }
        let binary = target_dir.join(profile).join(&self.package);

        let config_text = match &self.config {
            Some(path) => read_text(&manifest_dir.join(path))?,
            None => String::new(),
        };
        let config = EnclaveConfig::from_toml(&config_text).map_err(|e| e.to_string())?;
        let key_path = manifest_dir.join(self.key.as_deref().ok_or("no signing key given")?);
        // The private key's text is wiped once parsed.
        let pem = zeroize::Zeroizing::new(read_text(&key_path)?);
        let key = SigningKey::from_pem(&pem).map_err(|e| format!("{}: {e}", key_path.display()))?;

        let bytes = std::fs::read(&binary).map_err(|e| format!("{}: {e}", binary.display()))?;
        let mrenclave = shield_layout::layout(&bytes, &config)
            .and_then(|l| l.measure())
            .map_err(|e| e.to_string())?;
        // A fixed date keeps the SIGSTRUCT reproducible build to build.
        let date = bcd_date(2026, 1, 1).ok_or("date")?;
        let mut sigstruct = SigstructFields::for_config(mrenclave, &config, date).to_unsigned();
        key.sign(&mut sigstruct).map_err(|e| e.to_string())?;

        let built = BuiltEnclave {
            sigstruct: suffixed(&binary, ".sig"),
            config: suffixed(&binary, ".toml"),
            binary,
        };
        std::fs::write(&built.sigstruct, sigstruct.as_ref()).map_err(|e| e.to_string())?;
        std::fs::write(&built.config, config_text).map_err(|e| e.to_string())?;

        println!(
            "cargo:rustc-env={}={}",
            self.env_var,
            built.binary.display()
        );
        println!("cargo:rerun-if-changed={}", key_path.display());
        if let Some(config) = &self.config {
            println!(
                "cargo:rerun-if-changed={}",
                manifest_dir.join(config).display()
            );
        }
        // Rebuild when anything the inner build read changes: its dep-info
        // lists every source file (ours, the user's, path dependencies'),
        // and each of their packages' manifests and the lock file steer it.
        let dep_info = target_dir.join(profile).join(format!("{}.d", self.package));
        let text = read_text(&dep_info)?;
        for path in tracked_inputs(&text, &workspace) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        Ok(built)
    }
}

/// The files a nested build depends on, from its dep-info (`target: a b\ c`,
/// spaces in paths escaped): the sources, the `Cargo.toml` of each package
/// they belong to, and the workspace's `Cargo.toml` and `Cargo.lock`.
fn tracked_inputs(dep_info: &str, workspace: &Path) -> Vec<PathBuf> {
    let mut paths = std::collections::BTreeSet::new();
    for line in dep_info.lines() {
        let Some((_, deps)) = line.split_once(": ") else {
            continue;
        };
        let mut current = String::new();
        let mut chars = deps.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => current.extend(chars.next()),
                ' ' => {
                    if !current.is_empty() {
                        paths.insert(PathBuf::from(std::mem::take(&mut current)));
                    }
                }
                _ => current.push(c),
            }
        }
        if !current.is_empty() {
            paths.insert(PathBuf::from(current));
        }
    }
    // A file a build script generated (e.g. into OUT_DIR, then included)
    // stands for what that script read: the absolute paths it named with
    // `rerun-if-changed`, in the `output` file beside its `out/` folder.
    let generated_from: Vec<PathBuf> = paths
        .iter()
        .filter_map(|source| build_script_dir(source))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .flat_map(|dir| build_script_inputs(&dir))
        .collect();
    paths.extend(generated_from);
    let manifests: Vec<PathBuf> = paths
        .iter()
        .filter_map(|source| {
            source
                .ancestors()
                .skip(1)
                .map(|dir| dir.join("Cargo.toml"))
                .find(|manifest| manifest.is_file())
        })
        .collect();
    paths.extend(manifests);
    paths.insert(workspace.join("Cargo.toml"));
    paths.insert(workspace.join("Cargo.lock"));
    paths.into_iter().collect()
}

/// The `target/<profile>/build/<package>-<hash>` folder `path` was
/// generated in, if it lies in one's `out/`.
fn build_script_dir(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|dir| {
            dir.file_name().is_some_and(|n| n == "out")
                && dir
                    .parent()
                    .and_then(Path::parent)
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == "build")
        })
        .and_then(Path::parent)
        .map(Path::to_path_buf)
}

/// The absolute paths a build script named with `rerun-if-changed` (both
/// spellings, `cargo:` and `cargo::`), from its recorded `output`. Relative
/// ones are relative to a package folder this file does not name: left out.
fn build_script_inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(dir.join("output")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            line.strip_prefix("cargo::rerun-if-changed=")
                .or_else(|| line.strip_prefix("cargo:rerun-if-changed="))
        })
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .collect()
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set: call EnclaveBuild from a build script"))
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A `cargo` command free of the variables the outer cargo (or clippy) set
/// for this build script: they must not steer a nested command. The user's
/// own `CARGO_HOME` and `CARGO_INCREMENTAL` pass through.
fn cargo() -> Command {
    const OUTER: [&str; 4] = [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CLIPPY_ARGS",
        "CLIPPY_CONF_DIR",
    ];
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let users_choice = ["CARGO_HOME", "CARGO_INCREMENTAL"].contains(&name.as_ref());
        if name.starts_with("CARGO_") && !users_choice || OUTER.contains(&name.as_ref()) {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// The root directory of the workspace `manifest` belongs to, as Cargo
/// decides it.
fn workspace_of(manifest: &Path) -> Result<PathBuf, String> {
    let output = cargo()
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "finding the workspace of {}: {}",
            manifest.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let mut text = output.stdout;
    while text.last().is_some_and(u8::is_ascii_whitespace) {
        text.pop();
    }
    let root = PathBuf::from(std::ffi::OsString::from_vec(text));
    root.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("cargo named no workspace for {}", manifest.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_builds_share_one_directory_beside_the_profile() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("target");
        // Two runs of a build script (clippy's, then the test build's) and
        // another host's: all in one nested target directory, whether or
        // not Cargo wrote CACHEDIR.TAG.
        let outs = [
            target.join("debug/build/shield-0c84/out"),
            target.join("debug/build/shield-519c/out"),
            target.join("debug/build/ratls-tests-cefc/out"),
        ];
        for out in &outs {
            std::fs::create_dir_all(out).unwrap();
        }
        std::fs::write(target.join("debug/.cargo-lock"), "").unwrap();
        for out in &outs {
            assert_eq!(nested_target_dir(out), target.join("shield-enclaves"));
        }
        let lone = root.path().join("elsewhere/out");
        assert_eq!(nested_target_dir(&lone), lone.join("enclave-target"));
    }

    #[test]
    fn dep_info_gives_sources_their_manifests_and_the_lock_file() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        std::fs::create_dir_all(dir.join("my enclave/src")).unwrap();
        std::fs::write(dir.join("my enclave/Cargo.toml"), "").unwrap();
        let main = dir.join("my enclave/src/main.rs");
        let escaped = main.display().to_string().replace(' ', "\\ ");
        let text = format!("/t/enclave: {escaped} /elsewhere/lib.rs\n\n{escaped}:\n");
        let got = tracked_inputs(&text, dir);
        let want: Vec<PathBuf> = [
            dir.join("Cargo.lock"),
            dir.join("Cargo.toml"),
            dir.join("my enclave/Cargo.toml"),
            main.clone(),
            PathBuf::from("/elsewhere/lib.rs"),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_generated_file_stands_for_what_its_build_script_read() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        let build = dir.join("target/release/build/frozen-0123abcd");
        std::fs::create_dir_all(build.join("out")).unwrap();
        let generated = build.join("out/blob.bin");
        std::fs::write(&generated, "").unwrap();
        let python = dir.join("crate/python");
        std::fs::write(
            build.join("output"),
            format!(
                "cargo::rerun-if-changed={}\ncargo:rerun-if-changed={}\n\
                 cargo:rerun-if-changed=build.rs\ncargo:rustc-env=X=1\n",
                python.display(),
                python.join("boot.py").display()
            ),
        )
        .unwrap();
        let text = format!("/t/enclave: {}\n", generated.display());
        let got = tracked_inputs(&text, dir);
        assert!(got.contains(&generated), "{got:?}");
        assert!(got.contains(&python), "{got:?}");
        assert!(got.contains(&python.join("boot.py")), "{got:?}");
        assert!(!got.iter().any(|p| p.ends_with("build.rs")), "{got:?}");
    }

    #[test]
    fn cargo_names_a_members_workspace_and_a_workspace_of_its_own() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        let package = |path: &str, extra: &str| {
            std::fs::create_dir_all(dir.join(path).join("src")).unwrap();
            std::fs::write(dir.join(path).join("src/lib.rs"), "").unwrap();
            std::fs::write(
                dir.join(path).join("Cargo.toml"),
                format!("[package]\nname = \"p\"\nedition = \"2024\"\n{extra}"),
            )
            .unwrap();
        };
        std::fs::write(
            dir.join("Cargo.toml"),
            "[workspace]\nmembers = [\"member\"]\n",
        )
        .unwrap();
        package("member", "");
        package("alone", "[workspace]\n");

        let found = |manifest: &str| {
            let root = workspace_of(&dir.join(manifest)).unwrap();
            root.canonicalize().unwrap()
        };
        let dir = dir.canonicalize().unwrap();
        assert_eq!(found("member/Cargo.toml"), dir);
        assert_eq!(found("member/../alone/Cargo.toml"), dir.join("alone"));
        let missing = workspace_of(&dir.join("nowhere/Cargo.toml")).unwrap_err();
        assert!(missing.contains("nowhere/Cargo.toml"), "{missing}");
    }
}
