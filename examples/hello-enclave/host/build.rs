fn main() {
    shield_edl::Builder::new("../hello.edl")
        .side(shield_edl::Side::Untrusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
    shield_build::EnclaveBuild::new("hello-enclave", "HELLO_ENCLAVE")
        .signing_key("../dev-signing-key.pem")
        .config("../enclave.toml")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
}
