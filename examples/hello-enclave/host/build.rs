//! Generates the untrusted bridge, then builds, measures and signs the
//! enclave. Failures are printed as they are and end the build with an
//! error, not a panic: the enclave's compile errors stay readable.

use std::process::ExitCode;

fn main() -> ExitCode {
    let built = shield_edl::Builder::new("../hello.edl")
        .side(shield_edl::Side::Untrusted)
        .generate()
        .map_err(|e| e.to_string())
        .and_then(|_| {
            shield_build::EnclaveBuild::new("hello-enclave", "HELLO_ENCLAVE")
                .signing_key("../dev-signing-key.pem")
                .config("../enclave.toml")
                .build()
        });
    match built {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
