//! The Intel SGX SDK's own EDL files (the shared test data's `edl-sdk/`:
//! `common/inc` and the SDK's samples, psw and sdk trees; see its README)
//! are within the grammar: every one of the 48 parses and passes the
//! semantic checks, its imports resolved next to it and in `common/inc`, as
//! the SDK's makefiles resolve them. Code generation then either emits Rust
//! that parses or names each declaration with no safe mapping (raw
//! `user_check` pointers, types known only from a C header).

use std::path::{Path, PathBuf};

use shield_edl::Side;
use shield_edl::codegen::{self, CodegenError};

/// The number of `.edl` files the test data README lists.
const SDK_EDL_FILES: usize = 48;

fn edl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            edl_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "edl") {
            out.push(p);
        }
    }
}

#[test]
fn every_sdk_edl_file_is_accepted() {
    let Some(dir) = shield_testdata::file("edl-sdk") else {
        return;
    };
    let mut files = Vec::new();
    edl_files(&dir, &mut files);
    assert_eq!(files.len(), SDK_EDL_FILES, "{files:#?}");
    let common = dir.join("common/inc");
    let mut failures = Vec::new();
    for f in &files {
        let folder = f.parent().expect("a file has a folder").to_path_buf();
        let enclave = match shield_edl::check(f, &[folder, common.clone()]) {
            Ok(enclave) => enclave,
            Err(e) => {
                failures.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        for side in [Side::Trusted, Side::Untrusted] {
            match codegen::generate(&enclave, side) {
                Ok(_) => {}
                Err(CodegenError::Unmappable(d)) if !d.is_empty() => {}
                Err(e) => failures.push(format!("{} ({side:?}): {e}", f.display())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files refused:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
