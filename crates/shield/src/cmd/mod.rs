//! One module per subcommand: a clap `Args` struct and `run(args) -> Result<ExitCode>`.

pub(crate) mod edl;
pub(crate) mod keygen;
pub(crate) mod measure;
pub(crate) mod sign;
pub(crate) mod sigstruct;
pub(crate) mod verify;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes a secret to a new file readable by its owner only (mode 0600).
/// Refuses to overwrite unless `force`: losing a key is worse than an error.
pub(crate) fn write_secret_file(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).with_context(|| {
        if path.exists() && !force {
            format!("{} exists; pass --force to replace it", path.display())
        } else {
            format!("creating {}", path.display())
        }
    })?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads a whole input file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}
