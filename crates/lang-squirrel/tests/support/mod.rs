//! Builds the reference `sq` (64-bit integers) once, for the corpus test
//! and the benchmark: a copy of the shared source is built with
//! `make sq64` under the cargo target directory and the binary is reused.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The reference source: `$SHIELD_SQUIRREL_SRC`, else `shared/reference/squirrel`
/// beside the clone.
fn source_dir() -> PathBuf {
    match std::env::var_os("SHIELD_SQUIRREL_SRC") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/squirrel"),
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}

/// The path of a built `sq`, or `Err(why)` when it cannot be built.
pub(crate) fn reference_sq(cache: &Path) -> Result<PathBuf, String> {
    let dir = cache.join("squirrel-ref");
    let bin = dir.join("bin/sq");
    if bin.is_file() {
        return Ok(bin);
    }
    let src = source_dir();
    if !src.join("Makefile").is_file() {
        return Err(format!("reference source not found at {}", src.display()));
    }
    // Build in a private directory, then move it into place, so parallel
    // test binaries never see a half-built tree.
    let tmp = cache.join(format!("squirrel-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    copy_tree(&src, &tmp).map_err(|e| format!("copying the reference source: {e}"))?;
    let out = Command::new("make")
        .arg("sq64")
        .current_dir(&tmp)
        .output()
        .map_err(|e| format!("running make (is it installed?): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "make sq64 failed (is g++ installed?): {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err("make sq64 produced no bin/sq".to_owned())
    }
}
