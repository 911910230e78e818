#![no_main]
use libfuzzer_sys::fuzz_target;
use shield_edl::codegen::{CodegenError, generate};

// Arbitrary text through lexer, parser, checks and both generators.
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(enclave) = shield_edl::check_str("fuzz.edl", text) {
        for side in [shield_edl::Side::Trusted, shield_edl::Side::Untrusted] {
            if let Err(CodegenError::Internal(e)) = generate(&enclave, side) {
                panic!("generator produced invalid Rust: {e}");
            }
        }
    }
});
