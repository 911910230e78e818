fn main() {
    shield_edl::Builder::new("../ratls.edl")
        .side(shield_edl::Side::Untrusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
    shield_build::EnclaveBuild::new("ratls-test-enclave", "RATLS_TEST_ENCLAVE")
        .signing_key("../../../examples/hello-enclave/dev-signing-key.pem")
        .config("../enclave.toml")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
}
