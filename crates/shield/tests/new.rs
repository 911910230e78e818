//! `shield new`, the outside developer's path: a project scaffolded into a
//! temporary directory, built and run with `cargo run` as its README says.
//!
//! Its builds use this workspace's target directory: the project's
//! Cargo.lock is seeded from ours, so its dependencies are the very versions
//! already compiled for these tests, and only what differs (Shield's crates,
//! optimized there as dependencies, and a few feature sets) is compiled
//! again. They run `--offline`: every package the project uses was fetched
//! to build this workspace. Each build's time is printed (`scaffold: ...`).
//! Cargo names a project's artifacts by package, not by path, so each run
//! replaces the last one's rather than adding to them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// One cargo build at a time: they share a target directory.
static BUILDS: Mutex<()> = Mutex::new(());

fn shield(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(args)
        .output()
        .expect("running shield")
}

/// A line in the test log even when the test passes (the harness captures
/// `eprintln!`).
fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Whether cargo can run here; says so loudly when it cannot.
fn have_cargo() -> bool {
    match cargo().arg("--version").output() {
        Ok(out) if out.status.success() => true,
        other => {
            shield_testdata::skip(&format!(
                "shield new: cargo does not run ({other:?}); the scaffolded project was not built"
            ));
            false
        }
    }
}

/// Scaffolds project `name` into `dir` and returns its path.
fn scaffold(dir: &Path, name: &str) -> PathBuf {
    let made = shield(&["new", name, "--path", dir.to_str().unwrap()]);
    assert!(made.status.success(), "{made:?}");
    dir.join(name)
}

/// `cargo run --offline -- Alice` in `project`: the host's output.
fn cargo_run(project: &Path, what: &str) -> String {
    let _one_at_a_time = BUILDS.lock().unwrap_or_else(PoisonError::into_inner);
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let start = Instant::now();
    let out = cargo()
        .args(["run", "--offline", "--", "Alice"])
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("running cargo");
    note(&format!(
        "scaffold: {what}: cargo run took {:.1} s",
        start.elapsed().as_secs_f64()
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what}: {stderr}");
    // The project must compile without a warning (its own crate's summary
    // line; cargo's notes about this machine's configuration do not count).
    let name = project.file_name().unwrap().to_str().unwrap();
    assert!(
        !stderr.contains(&format!("warning: `{name}-host`")),
        "{what}: {stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The enclave's greeting and the MRENCLAVE prefix it reports.
fn greeting(stdout: &str) -> (String, String) {
    let line = stdout
        .lines()
        .find(|line| line.contains("Alice!"))
        .unwrap_or_else(|| panic!("no greeting in:\n{stdout}"));
    let (text, rest) = line.split_once(" (from enclave ").unwrap();
    let id = rest.strip_suffix(')').unwrap();
    assert!(
        stdout.contains(&format!("[enclave] enclave {id} is greeting Alice")),
        "{stdout}"
    );
    (text.to_owned(), id.to_owned())
}

#[test]
fn a_new_project_runs_its_enclave_and_rebuilds_it_after_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let made = shield(&["new", "scaffold-test", "--path", path]);
    assert!(made.status.success(), "{made:?}");
    let project = dir.path().join("scaffold-test");
    let told = String::from_utf8(made.stdout).unwrap();
    assert!(
        told.contains(&format!("cd {}", project.display())),
        "{told}"
    );
    assert!(told.contains("cargo run"), "{told}");
    if !have_cargo() {
        return;
    }

    let (text, before) = greeting(&cargo_run(&project, "new project"));
    assert_eq!(text, "Hello, Alice!");

    let main = project.join("enclave/src/main.rs");
    let source = std::fs::read_to_string(&main).unwrap();
    let edited = source.replace("\"Hello, {name}!", "\"Bonjour, {name}!");
    assert_ne!(edited, source, "the template's greeting moved");
    std::fs::write(&main, edited).unwrap();

    let (text, after) = greeting(&cargo_run(&project, "after the enclave's edit"));
    assert_eq!(text, "Bonjour, Alice!");
    assert_ne!(after, before, "the edited enclave has another MRENCLAVE");
}

#[test]
fn an_enclave_in_a_workspace_of_its_own_builds_through_its_manifest_path() {
    let dir = tempfile::tempdir().unwrap();
    let project = scaffold(dir.path(), "scaffold-split");
    if !have_cargo() {
        return;
    }
    // The layout the project's README describes: the enclave leaves the
    // host's workspace and becomes one of its own, with its own lock file.
    let root = project.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&root).unwrap();
    let host_only = manifest.replace(r#"members = ["host", "enclave"]"#, r#"members = ["host"]"#);
    assert_ne!(host_only, manifest, "the template's members moved");
    std::fs::write(&root, host_only).unwrap();
    let shield = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shield = shield.canonicalize().unwrap();
    let shield = shield.to_str().unwrap();
    std::fs::write(
        project.join("enclave/Cargo.toml"),
        format!(
            r#"[package]
name = "scaffold-split-enclave"
version = "0.1.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
shield-edl = {{ path = "{shield}/crates/edl", default-features = false }}
shield-enclave = {{ path = "{shield}/crates/enclave" }}

[build-dependencies]
shield-edl = {{ path = "{shield}/crates/edl" }}

[profile.dev.package."*"]
opt-level = 2
"#
        ),
    )
    .unwrap();
    std::fs::copy(
        project.join("Cargo.lock"),
        project.join("enclave/Cargo.lock"),
    )
    .unwrap();

    let stdout = cargo_run(&project, "enclave in its own workspace");
    assert_eq!(greeting(&stdout).0, "Hello, Alice!");
    // Resolved as a workspace of its own: its lock file now lists it.
    let lock = std::fs::read_to_string(project.join("enclave/Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"scaffold-split-enclave\""));
}

#[test]
fn new_refuses_an_existing_directory_and_a_bad_name() {
    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("mine.txt"), "keep me").unwrap();
    let path = dir.path().to_str().unwrap();

    let refused = shield(&["new", "taken", "--path", path]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("exists"));
    let refused = shield(&["new", "bad/name", "--path", path]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let refused = shield(&["new", "fine", "--path", path, "--shield-path", path]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no Shield checkout"));

    // Nothing was added, not even a half-made project.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["taken"]);
    assert_eq!(
        std::fs::read_to_string(taken.join("mine.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn a_new_project_keeps_its_key_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let project = scaffold(dir.path(), "keyed");
    let key = project.join("dev-signing-key.pem");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("-----BEGIN"), "{text}");
    // Generated for this project: not one of the repository's public keys.
    for committed in [
        "examples/hello-enclave/dev-signing-key.pem",
        "enclaves/signing-key.pem",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(committed);
        assert_ne!(std::fs::read_to_string(path).unwrap(), text);
    }
    let ignored = std::fs::read_to_string(project.join(".gitignore")).unwrap();
    assert!(ignored.lines().any(|line| line == "/dev-signing-key.pem"));
}
