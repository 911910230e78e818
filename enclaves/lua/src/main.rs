//! The Lua script enclave: Shield's script-enclave runtime with the Lua
//! engine, and nothing else. Signed once; it runs any bundle whose policy
//! admits it.
#![forbid(unsafe_code)]

fn main() {
    shield_script_enclave::serve(shield_lang_lua::LuaVm::new());
}
