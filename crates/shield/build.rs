//! Builds the script enclaves the CLI embeds (one per language, each with
//! its development twin), and the untrusted side of their interface.
fn main() {
    shield_edl::Builder::new("../../enclaves/script.edl")
        .side(shield_edl::Side::Untrusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
    // (package, directory under enclaves/, environment variable naming the
    // built binary for image.rs). The `-dev` twins serve `shield exec` only:
    // development mode, DEBUG set (another MRENCLAVE).
    for (package, dir, variable) in [
        ("lua-enclave", "lua", "SHIELD_LUA_ENCLAVE"),
        ("lua-dev-enclave", "lua-dev", "SHIELD_LUA_DEV_ENCLAVE"),
        ("js-enclave", "js", "SHIELD_JS_ENCLAVE"),
        ("js-dev-enclave", "js-dev", "SHIELD_JS_DEV_ENCLAVE"),
        ("squirrel-enclave", "squirrel", "SHIELD_SQUIRREL_ENCLAVE"),
        (
            "squirrel-dev-enclave",
            "squirrel-dev",
            "SHIELD_SQUIRREL_DEV_ENCLAVE",
        ),
        ("python-enclave", "python", "SHIELD_PYTHON_ENCLAVE"),
        (
            "python-dev-enclave",
            "python-dev",
            "SHIELD_PYTHON_DEV_ENCLAVE",
        ),
    ] {
        shield_build::EnclaveBuild::new(package, variable)
            .signing_key("../../enclaves/signing-key.pem")
            .config(format!("../../enclaves/{dir}/enclave.toml"))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
