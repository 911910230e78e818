//! Shield's system EDL files: importable with no search path, and both
//! sides generate.

use shield_edl::{Side, check, generate, system_edl_dir};

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
    let mut seen = 0;
    for entry in std::fs::read_dir(system_edl_dir()).unwrap() {
        let path = entry.unwrap().path();
        for side in [Side::Trusted, Side::Untrusted] {
            generate(&path, &[], side).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        seen += 1;
    }
    assert_eq!(seen, 2);
}
