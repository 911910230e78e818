//! Builds the script enclaves the CLI embeds (one per language), and the
//! untrusted side of their interface.
fn main() {
    shield_edl::Builder::new("../../enclaves/script.edl")
        .side(shield_edl::Side::Untrusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
    shield_build::EnclaveBuild::new("lua-enclave", "SHIELD_LUA_ENCLAVE")
        .signing_key("../../enclaves/signing-key.pem")
        .config("../../enclaves/lua/enclave.toml")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    // `shield exec` only: development mode, DEBUG set (another MRENCLAVE).
    shield_build::EnclaveBuild::new("lua-dev-enclave", "SHIELD_LUA_DEV_ENCLAVE")
        .signing_key("../../enclaves/signing-key.pem")
        .config("../../enclaves/lua-dev/enclave.toml")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
}
