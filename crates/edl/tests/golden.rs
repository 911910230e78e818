//! The committed generated code (tests/generated/) is what the generator
//! produces now, and generating twice gives the same bytes.
//! `SHIELD_EDL_BLESS=1 cargo test -p shield-edl --test golden` rewrites it.

use std::path::PathBuf;

use shield_edl::{Side, generate};

fn check_golden(edl: &str, side: Side, golden: &str) {
    let code = generate(edl, &[], side).unwrap_or_else(|e| panic!("{e}"));
    let again = generate(edl, &[], side).unwrap();
    assert_eq!(code, again, "generation is not deterministic");
    let path = PathBuf::from(golden);
    if std::env::var_os("SHIELD_EDL_BLESS").is_some() {
        std::fs::write(&path, &code).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == code,
        "{golden} is stale: rerun with SHIELD_EDL_BLESS=1"
    );
}

#[test]
fn roundtrip_trusted() {
    check_golden(
        "tests/corpus/pos/roundtrip.edl",
        Side::Trusted,
        "tests/generated/roundtrip_t.rs",
    );
}

#[test]
fn roundtrip_untrusted() {
    check_golden(
        "tests/corpus/pos/roundtrip.edl",
        Side::Untrusted,
        "tests/generated/roundtrip_u.rs",
    );
}
