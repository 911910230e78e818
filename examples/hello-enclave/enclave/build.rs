//! Generates the trusted bridge; an EDL error is printed as it is (one
//! diagnostic per line) and fails the build, without a panic.

use std::process::ExitCode;

fn main() -> ExitCode {
    match shield_edl::Builder::new("../hello.edl")
        .side(shield_edl::Side::Trusted)
        .generate()
    {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
