//! The JavaScript development enclave: the JavaScript enclave's runtime and
//! engine with development mode (`shield exec`) on, signed with DEBUG set
//! (another MRENCLAVE, admitted by no policy that refuses debug enclaves).
#![forbid(unsafe_code)]

fn main() {
    shield_script_enclave::serve(shield_lang_js::JsEngine::new());
}
