//! The library entry points: [`check`], [`generate`] and the `build.rs`
//! [`Builder`], and the top-level [`Error`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::codegen::{self, CodegenError, Side};
use crate::diagnostic::Diagnostic;
use crate::ir::Enclave;
use crate::{loader, sema};

/// Why checking or generating failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Lexical or syntax errors, missing or cyclic imports: one diagnostic
    /// per problem.
    Parse(Vec<Diagnostic>),
    /// Violations of EDL's semantic rules.
    Semantic(Vec<Diagnostic>),
    /// Declarations valid in EDL that have no safe Rust mapping.
    Codegen(Vec<Diagnostic>),
    /// The generator failed (a bug in shield-edl).
    Internal(String),
    /// Writing the output failed, or `OUT_DIR` is unset.
    Io {
        /// The file or variable concerned.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
}

impl Error {
    /// The diagnostics, for the error kinds that have them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Parse(d) | Error::Semantic(d) | Error::Codegen(d) => d,
            _ => &[],
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(d) | Error::Semantic(d) | Error::Codegen(d) => {
                for (i, d) in d.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{d}")?;
                }
                Ok(())
            }
            Error::Internal(s) => write!(f, "internal error: {s}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {}

/// Shield's system EDL files (`shield_log.edl`, `shield_quote.edl`) as
/// `(name, text)`: compiled into this crate and found by [`check`],
/// [`generate`] and the [`Builder`] after the caller's search paths, so
/// that an EDL file can `from "shield_log.edl" import *;` with no `-I`.
pub fn system_edl_files() -> &'static [(&'static str, &'static str)] {
    loader::SYSTEM_FILES
}

/// Parses `path` and its imports and makes the semantic checks. Imports are
/// looked for next to the importing file, then in `search_paths`, then
/// among the [`system_edl_files`].
pub fn check(path: impl AsRef<Path>, search_paths: &[PathBuf]) -> Result<Enclave, Error> {
    let path = path.as_ref();
    // A root file that is not there is an I/O error, not a diagnostic (not
    // opened here: a FIFO would block; the loader refuses what is not a
    // regular file).
    std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let loaded = loader::load(path, search_paths).map_err(Error::Parse)?;
    sema::check(path.to_path_buf(), loaded).map_err(Error::Semantic)
}

/// Like [`check`], for EDL text that imports nothing (`name` is used in
/// diagnostics).
pub fn check_str(name: &str, text: &str) -> Result<Enclave, Error> {
    let loaded = loader::load_str(name, text).map_err(Error::Parse)?;
    sema::check(PathBuf::from(name), loaded).map_err(Error::Semantic)
}

/// Checks `path` and generates the Rust code of `side`.
pub fn generate(
    path: impl AsRef<Path>,
    search_paths: &[PathBuf],
    side: Side,
) -> Result<String, Error> {
    let enclave = check(path, search_paths)?;
    generate_ir(&enclave, side)
}

pub(crate) fn generate_ir(enclave: &Enclave, side: Side) -> Result<String, Error> {
    let code = codegen::generate(enclave, side).map_err(|e| match e {
        CodegenError::Unmappable(d) => Error::Codegen(d),
        CodegenError::Internal(s) => Error::Internal(s),
    })?;
    Ok(rustfmt(&code).unwrap_or(code))
}

/// Runs the code through `rustfmt` (`$RUSTFMT`, or `rustfmt` on the path),
/// with default settings (it runs in the temporary directory, so no
/// project `rustfmt.toml` applies). Without a working `rustfmt` the
/// `prettyplease` layout is kept.
fn rustfmt(code: &str) -> Option<String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let exe = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut child = Command::new(exe)
        .args(["--edition", "2024"])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = code.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok().filter(|s| !s.is_empty())
}

/// Generates code from a `build.rs`, the way `prost-build` does.
#[derive(Debug, Clone)]
pub struct Builder {
    edl: PathBuf,
    search_paths: Vec<PathBuf>,
    side: Side,
    out_file: Option<PathBuf>,
    rerun_if_changed: bool,
}

impl Builder {
    /// A builder for `edl`, generating the trusted side by default.
    pub fn new(edl: impl Into<PathBuf>) -> Self {
        Builder {
            edl: edl.into(),
            search_paths: Vec::new(),
            side: Side::Trusted,
            out_file: None,
            rerun_if_changed: true,
        }
    }

    /// Adds a directory to search for imported EDL files (like `-I`);
    /// the [`system_edl_files`] are always searched last.
    #[must_use]
    pub fn search_path(mut self, dir: impl Into<PathBuf>) -> Self {
        self.search_paths.push(dir.into());
        self
    }

    /// Chooses the side to generate.
    #[must_use]
    pub fn side(mut self, side: Side) -> Self {
        self.side = side;
        self
    }

    /// Where to write; default `$OUT_DIR/<stem>_t.rs` or `<stem>_u.rs`.
    #[must_use]
    pub fn out_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.out_file = Some(path.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed=` for each EDL file read
    /// (default: yes).
    #[must_use]
    pub fn emit_rerun_if_changed(mut self, yes: bool) -> Self {
        self.rerun_if_changed = yes;
        self
    }

    /// Checks, generates and writes the file (only if its content changed);
    /// returns its path. Likely mistakes ([`crate::lint`]) become Cargo
    /// warnings.
    pub fn generate(&self) -> Result<PathBuf, Error> {
        let checked = check(&self.edl, &self.search_paths);
        if self.rerun_if_changed {
            // Print even on failure, so that fixing the file reruns the build.
            println!("cargo:rerun-if-changed={}", self.edl.display());
            if let Ok(e) = &checked {
                for f in &e.files_read {
                    println!("cargo:rerun-if-changed={}", f.display());
                }
            }
        }
        let enclave = checked?;
        for warning in crate::lint::warnings(&enclave) {
            println!("cargo:warning={warning}");
        }
        let code = generate_ir(&enclave, self.side)?;
        let out = match &self.out_file {
            Some(p) => p.clone(),
            None => {
                let dir = std::env::var_os("OUT_DIR").ok_or_else(|| Error::Io {
                    path: PathBuf::from("OUT_DIR"),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "OUT_DIR is not set (not in a build script?); use out_file()",
                    ),
                })?;
                let stem = self
                    .edl
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "edl".to_string());
                let suffix = match self.side {
                    Side::Trusted => "t",
                    Side::Untrusted => "u",
                };
                PathBuf::from(dir).join(format!("{stem}_{suffix}.rs"))
            }
        };
        if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
            std::fs::write(&out, code).map_err(|source| Error::Io {
                path: out.clone(),
                source,
            })?;
        }
        Ok(out)
    }
}
