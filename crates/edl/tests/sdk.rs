//! Intel SGX SDK EDL files are within the grammar. The files are not in
//! the repository: put them under `$SHIELD_TESTDATA/edl-sdk/` or
//! `shared/testdata/edl-sdk/` beside the workspace (`../shared/...` from the
//! workspace root). Each `*.edl` found (recursively) must parse, and must
//! pass the semantic checks except for uses of `sizefunc`, which the
//! language no longer has (the SDK's `Pointers.edl` sample still shows it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

fn edl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
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
fn sdk_edl_files_are_within_the_grammar() {
    let Some(dir) = shield_testdata::file("edl-sdk") else {
        return;
    };
    let mut files = Vec::new();
    edl_files(&dir, &mut files);
    assert!(!files.is_empty(), "no .edl files under {}", dir.display());
    let mut search = vec![dir.clone()];
    for f in &files {
        if let Some(parent) = f.parent().filter(|p| !search.contains(&p.to_path_buf())) {
            search.push(parent.to_path_buf());
        }
    }
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let name: Arc<str> = Arc::from(f.display().to_string());
        if let Err(d) = shield_edl::parser::parse(&name, &text) {
            failures.extend(d.iter().map(|d| d.to_string()));
            continue;
        }
        match shield_edl::check(f, &search) {
            Ok(e) => println!(
                "ok: {} ({} ECALLs, {} OCALLs)",
                f.display(),
                e.ecalls.len(),
                e.ocalls.len()
            ),
            Err(e) => {
                for d in e.diagnostics() {
                    if d.message.contains("`sizefunc`") {
                        println!("expected: {d}");
                    } else {
                        failures.push(d.to_string());
                    }
                }
                if e.diagnostics().is_empty() {
                    failures.push(e.to_string());
                }
            }
        }
    }
    println!("{} SDK EDL files checked", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
