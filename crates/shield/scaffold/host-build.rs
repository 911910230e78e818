//! Generates the host's (untrusted) side of the interface, then builds the
//! enclave, measures it and signs it; `env!("ENCLAVE")` is its path.
fn main() {
    shield_edl::Builder::new("../{{name}}.edl")
        .side(shield_edl::Side::Untrusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
    shield_build::EnclaveBuild::new("{{name}}-enclave", "ENCLAVE")
        .manifest_path("../enclave/Cargo.toml")
        .signing_key("../dev-signing-key.pem")
        .config("../enclave.toml")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
}
