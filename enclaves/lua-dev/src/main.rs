//! The Lua development enclave: the Lua enclave's runtime and engine with
//! development mode (`shield exec`) on. It is signed with DEBUG set, so its
//! MRENCLAVE and attributes differ from the production enclave's and no
//! policy admits it unless it allows debug enclaves.
#![forbid(unsafe_code)]

fn main() {
    shield_script_enclave::serve(shield_lang_lua::LuaVm::new());
}
