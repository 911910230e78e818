//! `shield edl`: check EDL files and print the Rust generated from them.
//!
//! * `shield edl check FILE... [-I DIR]... [--grammar-only]`: exit 0 only
//!   if every file (with its imports) parses, passes the semantic checks and
//!   maps to safe Rust on both sides; one diagnostic per problem on stderr
//!   otherwise (exit 1). Likely mistakes are warnings on stderr (exit 0).
//!   `--grammar-only` stops after the semantic checks (Intel's rules: e.g.
//!   `[user_check]` passes it, though it has no Rust mapping).
//! * `shield edl gen FILE --side trusted|untrusted [-I DIR]...`: print the
//!   generated Rust on stdout (exit 1 with diagnostics if it cannot be
//!   generated).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use shield_edl::{Error, Side};

/// Check EDL files, or generate Rust from one.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: EdlCommand,
}

#[derive(Debug, clap::Subcommand)]
enum EdlCommand {
    /// Parse and check EDL files (with their imports).
    Check {
        /// EDL files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// A directory to search for imported EDL files (repeatable).
        #[arg(short = 'I', long = "search-path", value_name = "DIR")]
        search_paths: Vec<PathBuf>,
        /// Only Intel's EDL rules: skip the check that both sides map to
        /// safe Rust (which refuses e.g. `[user_check]`).
        #[arg(long)]
        grammar_only: bool,
    },
    /// Print the Rust code generated for one side of an EDL file.
    Gen {
        /// The EDL file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Which side to generate.
        #[arg(long, value_enum)]
        side: SideArg,
        /// A directory to search for imported EDL files (repeatable).
        #[arg(short = 'I', long = "search-path", value_name = "DIR")]
        search_paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SideArg {
    /// Code for the enclave.
    Trusted,
    /// Code for the host.
    Untrusted,
}

impl From<SideArg> for Side {
    fn from(s: SideArg) -> Side {
        match s {
            SideArg::Trusted => Side::Trusted,
            SideArg::Untrusted => Side::Untrusted,
        }
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        EdlCommand::Check {
            files,
            search_paths,
            grammar_only,
        } => check(&files, &search_paths, !grammar_only),
        EdlCommand::Gen {
            file,
            side,
            search_paths,
        } => match shield_edl::generate(&file, &search_paths, side.into()) {
            Ok(code) => {
                let mut out = std::io::stdout().lock();
                out.write_all(code.as_bytes())
                    .and_then(|()| out.flush())
                    .context("writing the generated code")?;
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => report(e),
        },
    }
}

fn check(files: &[PathBuf], search_paths: &[PathBuf], rust: bool) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for file in files {
        let result = shield_edl::check(file, search_paths).and_then(|enclave| {
            if rust {
                for side in [Side::Trusted, Side::Untrusted] {
                    shield_edl::generate(file, search_paths, side)?;
                }
            }
            Ok(enclave)
        });
        match result {
            Ok(enclave) => {
                let mut err = std::io::stderr().lock();
                for warning in shield_edl::lint::warnings(&enclave) {
                    let _ = writeln!(err, "{warning}");
                }
                drop(err);
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "{}: ok ({} ECALLs, {} OCALLs)",
                    file.display(),
                    enclave.ecalls.len(),
                    enclave.ocalls.len()
                )?;
            }
            Err(e) => {
                if report(e)? != ExitCode::SUCCESS {
                    failed = true;
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints diagnostics (exit 1); other errors become exit 2 through anyhow.
fn report(e: Error) -> anyhow::Result<ExitCode> {
    if e.diagnostics().is_empty() {
        return Err(anyhow::Error::new(e));
    }
    // The verdict stands even if whoever reads stderr has gone away.
    let mut err = std::io::stderr().lock();
    for d in e.diagnostics() {
        let _ = writeln!(err, "{d}");
    }
    Ok(ExitCode::from(1))
}
