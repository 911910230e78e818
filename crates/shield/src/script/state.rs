//! The host's state directory: sealed enclave keys, the unpacked enclave
//! binaries, scratch space for protected-file nodes.
//!
//! `--state-dir`, else `$SHIELD_STATE_DIR`, else `~/.shield`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The state directory to use.
pub(crate) fn resolve(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_owned();
    }
    if let Some(dir) = std::env::var_os("SHIELD_STATE_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".shield")
}

/// Creates `dir` (and parents) readable by the owner only.
pub(crate) fn private_dir(dir: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir.to_owned())
}

/// Where the sealed private key with this fingerprint is kept.
pub(crate) fn sealed_key_path(state: &Path, fingerprint: &[u8; 32]) -> PathBuf {
    state
        .join("enclave-keys")
        .join(format!("{}.sealed", shield_sgx::hex(fingerprint)))
}
