fn main() {
    shield_edl::Builder::new("../services.edl")
        .side(shield_edl::Side::Untrusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
    shield_build::EnclaveBuild::new("services-test-enclave", "SERVICES_TEST_ENCLAVE")
        .signing_key("../../../examples/hello-enclave/dev-signing-key.pem")
        .config("../enclave.toml")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
}
