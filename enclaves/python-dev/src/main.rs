//! The Python development enclave: the Python enclave's runtime, engine and
//! sandbox with development mode (`shield exec`) on, signed with DEBUG set
//! (another MRENCLAVE, admitted by no policy that refuses debug enclaves).
#![forbid(unsafe_code)]

fn main() {
    shield_script_enclave::serve_with(
        shield_script_enclave::Sandbox::strict().file_system_unsupported(),
        shield_lang_python::PythonEngine::new(),
    );
}
