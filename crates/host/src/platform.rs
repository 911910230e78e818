//! The simulated CPU's root secret: one per machine, created on first use
//! with mode 0600, standing for the fused keys of a real CPU.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use shield_sgx::keys::PlatformSecret;

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
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    match OpenOptions::new().read(true).open(path) {
        Ok(mut file) => {
            let mode = file.metadata().map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(Error::Refused(format!(
                    "{} has mode {:o}: the platform secret must be readable by its owner only (chmod 600)",
                    path.display(),
                    mode & 0o777
                )));
            }
            let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(PlatformSecret::SIZE + 1));
            let read = Read::by_ref(&mut file)
                .take(PlatformSecret::SIZE as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            PlatformSecret::from_bytes(&bytes[..read]).ok_or_else(|| {
                Error::Refused(format!(
                    "{} is not a platform secret ({read} bytes)",
                    path.display()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(e) => Err(io(e)),
    }
}

fn create(path: &Path) -> Result<PlatformSecret> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    let secret = PlatformSecret::generate(SIMULATED_CPUSVN);
    // Write a private temporary file, then rename: a crash never leaves a
    // half-written secret, and two first uses racing agree on one secret.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    file.write_all(&*secret.to_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    std::fs::hard_link(&tmp, path).or_else(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Ok(()),
        _ => Err(io(e)),
    })?;
    let _ = std::fs::remove_file(&tmp);
    // Whoever linked first won; everyone uses that secret.
    load_or_create_platform(path)
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
