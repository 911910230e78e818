//! The simulated CPU's root secret: one per machine, created on first use
//! with mode 0600, standing for the fused keys of a real CPU.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use shield_sgx::keys::PlatformSecret;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The simulated CPUSVN of every Shield platform.
const SIMULATED_CPUSVN: [u8; 16] = [1; 16];

/// `$SHIELD_PLATFORM_SECRET`, else `$HOME/.shield/platform.secret`.
pub fn default_platform_path() -> PathBuf {
    if let Some(path) = std::env::var_os("SHIELD_PLATFORM_SECRET") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".shield").join("platform.secret")
}

/// Reads the platform secret at `path`, creating it (and its directory,
/// mode 0700) if absent. A secret file readable by others is refused.
pub fn load_or_create_platform(path: &Path) -> Result<PlatformSecret> {
    let bytes =
        load_or_create_private_file(path, PlatformSecret::SIZE, "a platform secret", || {
            PlatformSecret::generate(SIMULATED_CPUSVN)
                .to_bytes()
                .to_vec()
        })?;
    PlatformSecret::from_bytes(&bytes).ok_or(Error::Internal("platform secret size"))
}

/// Reads the `size`-byte secret file at `path`, or creates it from
/// `generate()` (file mode 0600, directory 0700). A file readable by others
/// or of the wrong size is refused, naming `what` it should hold.
pub(crate) fn load_or_create_private_file(
    path: &Path,
    size: usize,
    what: &str,
    generate: impl FnOnce() -> Vec<u8>,
) -> Result<Zeroizing<Vec<u8>>> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    match OpenOptions::new().read(true).open(path) {
        Ok(mut file) => {
            let mode = file.metadata().map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(Error::Refused(format!(
                    "{} has mode {:o}: {what} must be readable by its owner only (chmod 600)",
                    path.display(),
                    mode & 0o777
                )));
            }
            let mut bytes = Zeroizing::new(Vec::with_capacity(size + 1));
            Read::by_ref(&mut file)
                .take(size as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            if bytes.len() != size {
                return Err(Error::Refused(format!(
                    "{} is not {what} ({} bytes, expected {size})",
                    path.display(),
                    bytes.len()
                )));
            }
            Ok(bytes)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(io)?;
            }
            let secret = Zeroizing::new(generate());
            // Write a private temporary file, then link it into place: a
            // crash never leaves a half-written secret, and racing first
            // uses (other processes, or threads of this one) agree on the
            // one that linked first.
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let unique = NEXT.fetch_add(1, Ordering::Relaxed);
            let tmp = path.with_extension(format!("tmp{}-{unique}", std::process::id()));
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io)?;
            let written = file.write_all(&secret).and_then(|()| file.sync_all());
            let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                other => other,
            });
            let _ = std::fs::remove_file(&tmp);
            linked.map_err(io)?;
            load_or_create_private_file(path, size, what, Vec::new)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("platform.secret");
        let first = load_or_create_platform(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_create_platform(&path).unwrap();
        assert_eq!(*first.to_bytes(), *again.to_bytes());
    }

    #[test]
    fn a_world_readable_or_malformed_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("platform.secret");
        load_or_create_platform(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            load_or_create_platform(&path)
                .unwrap_err()
                .to_string()
                .contains("chmod 600")
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, b"short").unwrap();
        assert!(
            load_or_create_platform(&path)
                .unwrap_err()
                .to_string()
                .contains("not a platform secret")
        );
    }
}
