//! `shield open --extract DIR`: the files a result carries, written under
//! DIR. Their names are authenticated but chosen by the script, which may
//! be hostile: every target is checked before any file is written, no link
//! below DIR is followed, nothing is replaced without `force`, and each
//! file goes through a temporary made exclusively in its own directory.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// A path for messages, escaped: names come from the script, and one with
/// a newline or a terminal escape would forge or hide output lines.
pub(crate) fn shown(path: &Path) -> String {
    path.display().to_string().escape_debug().to_string()
}

/// Checks that every file can be written under `dir`; writes nothing.
fn check(files: &BTreeMap<String, Vec<u8>>, dir: &Path, force: bool) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => bail!("{} is not a directory", dir.display()),
        Err(e) if e.kind() != ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("reading {}", dir.display()));
        }
        _ => {}
    }
    for name in files.keys() {
        target(dir, name, force, false)?;
    }
    Ok(())
}

/// Writes every file under `dir` once all are checked; the paths written.
pub(crate) fn write(
    files: &BTreeMap<String, Vec<u8>>,
    dir: &Path,
    force: bool,
) -> Result<Vec<PathBuf>> {
    check(files, dir, force)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, data) in files {
        let path = target(dir, name, force, true)?;
        super::ops::write_whole(&path, data, force)
            .with_context(|| format!("extracting {}", shown(&path)))?;
        written.push(path);
    }
    Ok(written)
}

/// Where `name` goes under `dir`, checking what is already there: each
/// directory on the way a real one (not a link), the file itself absent or
/// (with `force`) a file or link, which is replaced, never followed. With
/// `create`, missing directories are made, one at a time.
fn target(dir: &Path, name: &str, force: bool, create: bool) -> Result<PathBuf> {
    // Checked by the bundle format already; again here, where it matters.
    let name = shield_engine::vfs::normalize(name)
        .with_context(|| format!("the result names a file {name:?}"))?;
    let mut parts: Vec<&str> = name.split('/').collect();
    let file = parts.pop().context("the result names an empty path")?;
    let mut path = dir.to_owned();
    for part in parts {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                bail!("{} is a link: extracting follows no links", shown(&path))
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => bail!("{} exists and is not a directory", shown(&path)),
            Err(e) if e.kind() == ErrorKind::NotFound && create => {
                std::fs::create_dir(&path).with_context(|| format!("creating {}", shown(&path)))?;
            }
            // Nothing below a missing directory exists yet.
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(dir.join(&name)),
            Err(e) => return Err(e).with_context(|| format!("reading {}", shown(&path))),
        }
    }
    path.push(file);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_dir() => bail!("{} is a directory", shown(&path)),
        Ok(_) if !force => bail!("{} exists; pass --force to replace it", shown(&path)),
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(e).with_context(|| format!("reading {}", shown(&path)))
        }
        _ => Ok(path),
    }
}
