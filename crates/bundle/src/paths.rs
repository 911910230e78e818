//! Validation of the paths files have inside a bundle or result.

use std::collections::BTreeSet;

use crate::{Error, Result};

/// Longest accepted path, in bytes.
pub const MAX_PATH_LEN: usize = 1024;

/// Checks one path: non-empty UTF-8 of at most [`MAX_PATH_LEN`] bytes,
/// relative, components separated by single `/`, no `.` or `..`
/// components, no NUL, no backslash, no trailing `/`.
pub fn validate_path(path: &str) -> Result<()> {
    let bad = |reason| {
        Err(Error::InvalidPath {
            path: path.chars().take(200).collect(),
            reason,
        })
    };
    if path.is_empty() {
        return bad("empty path");
    }
    if path.len() > MAX_PATH_LEN {
        return bad("longer than 1024 bytes");
    }
    if path.starts_with('/') {
        return bad("absolute paths are not allowed");
    }
    if path.contains('\0') {
        return bad("contains a NUL byte");
    }
    if path.contains('\\') {
        return bad("contains a backslash");
    }
    for component in path.split('/') {
        match component {
            "" => return bad("empty component (`//` or trailing `/`)"),
            "." => return bad("`.` components are not allowed"),
            ".." => return bad("`..` components are not allowed"),
            _ => {}
        }
    }
    Ok(())
}

/// Checks every path, and that no path repeats or is both a file and a
/// directory of another path.
pub(crate) fn validate_set<'a>(paths: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let mut seen = BTreeSet::new();
    for path in paths {
        validate_path(path)?;
        if !seen.insert(path) {
            return Err(Error::InvalidPath {
                path: path.to_owned(),
                reason: "duplicate path",
            });
        }
    }
    for path in &seen {
        // Any ancestor that is also a file?
        for (i, _) in path.match_indices('/') {
            if seen.contains(&path[..i]) {
                return Err(Error::InvalidPath {
                    path: (*path).to_owned(),
                    reason: "a parent directory of this path is also a file",
                });
            }
        }
    }
    Ok(())
}
