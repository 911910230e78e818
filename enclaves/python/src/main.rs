//! The Python script enclave: Shield's script-enclave runtime with the
//! Python engine, and nothing else. Signed once; it runs any bundle whose
//! policy admits it.
//!
//! Its sandbox answers file-system queries with ENOSYS instead of ending
//! the enclave: RustPython probes for a standard library folder and the
//! local time zone whenever it creates an interpreter, and carries on
//! without them (see ARCHITECTURE.md). Every other system call outside the
//! allow-list still ends the enclave.
#![forbid(unsafe_code)]

fn main() {
    shield_script_enclave::serve_with(
        shield_script_enclave::Sandbox::strict().file_system_unsupported(),
        shield_lang_python::PythonEngine::new(),
    );
}
