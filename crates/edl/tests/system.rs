//! Shield's system EDL files: importable with no search path, and both
//! sides generate.

use shield_edl::{Side, check, generate, system_edl_files};

fn user_edl(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("app.edl");
    std::fs::write(
        &path,
        "enclave {\n\
         from \"shield_log.edl\" import *;\n\
         from \"shield_quote.edl\" import *;\n\
         trusted { public void ecall_go(void); };\n\
         untrusted { void ocall_mine(void); };\n\
         };\n",
    )
    .unwrap();
    path
}

#[test]
fn system_files_are_found_without_a_search_path() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("system-edl");
    std::fs::create_dir_all(&dir).unwrap();
    let enclave = check(user_edl(&dir), &[]).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = enclave.ocalls.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "shield_ocall_log",
            "shield_ocall_qe_target_info",
            "shield_ocall_quote",
            "ocall_mine"
        ]
    );
    for side in [Side::Trusted, Side::Untrusted] {
        generate(user_edl(&dir), &[], side).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn every_system_file_checks_and_generates() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("system-edl-each");
    std::fs::create_dir_all(&dir).unwrap();
    let names: Vec<&str> = system_edl_files().iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["shield_log.edl", "shield_quote.edl"]);
    for (name, text) in system_edl_files() {
        // The compiled-in text is the file in this crate's sources.
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("system")
            .join(name);
        assert_eq!(std::fs::read_to_string(&source).unwrap(), *text);
        for side in [Side::Trusted, Side::Untrusted] {
            generate(&source, &[], side).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    // Importing one tracks no file of Shield's: nothing for Cargo to
    // watch that is not part of this crate.
    let enclave = check(user_edl(&dir), &[]).unwrap();
    assert_eq!(enclave.files_read, [dir.join("app.edl")]);
}
