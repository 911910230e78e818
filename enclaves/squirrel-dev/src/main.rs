//! The Squirrel development enclave: the Squirrel enclave's runtime and
//! engine with development mode (`shield exec`) on, signed with DEBUG set
//! (another MRENCLAVE, admitted by no policy that refuses debug enclaves).
#![forbid(unsafe_code)]

fn main() {
    shield_script_enclave::serve(shield_lang_squirrel::SquirrelEngine::new());
}
