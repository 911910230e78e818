//! A Lua 5.4 virtual machine in safe Rust, built for speed and for running
//! untrusted scripts under exact limits: 16-byte tagged values, a heap of
//! typed arenas addressed by 32-bit handles with a tracing collector,
//! interned strings, tables with array and hash parts, and a register VM
//! whose Lua-to-Lua calls never recurse on the host stack. See DESIGN.md.
//!
//! ```
//! use shield_lang_lua::run_source;
//! let (out, status) = run_source(b"print(1 + 2, ('x'):rep(3))", &[]);
//! assert_eq!(out, b"3\txxx\n");
//! assert_eq!(status, 0);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod compiler;
pub mod debuginfo;
pub mod dump;
pub mod engine;
mod fast;
pub mod gc;
pub mod heap;
pub mod lexer;
pub mod lib_base;
pub mod lib_co;
pub mod lib_debug;
pub mod lib_io;
pub mod lib_math;
pub mod lib_pack;
pub mod lib_pkg;
pub mod lib_string;
pub mod lib_table;
pub mod lpattern;
pub mod number;
pub mod parser;
pub mod proto;
pub mod table;
pub mod value;
pub mod vm;

pub use engine::LuaVm;

/// Opens every standard library into `vm`'s globals.
pub fn open_libs(vm: &mut vm::Vm) {
    lib_base::open(vm);
    lib_string::open(vm);
    lib_table::open(vm);
    lib_math::open(vm);
    lib_co::open(vm);
    lib_io::open(vm);
    lib_debug::open(vm);
    lib_pkg::open(vm);
}

/// Runs `src` as `main.lua` with no files and no limits; returns stdout and
/// stderr together, and the exit status (for examples and tests).
pub fn run_source(src: &[u8], args: &[String]) -> (Vec<u8>, i32) {
    use shield_engine::Engine;
    let mut files = std::collections::BTreeMap::new();
    files.insert("main.lua".to_owned(), src.to_vec());
    let mut vfs = shield_engine::vfs::Overlay::new(
        shield_engine::vfs::MemoryFiles::new(files),
        shield_engine::vfs::MemoryWrites::new(),
    );
    let mut out = Vec::new();
    let mut err = Vec::new();
    let outcome = LuaVm::new().run(shield_engine::Job {
        entry: "main.lua",
        args,
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut out,
        stderr: &mut err,
        vfs: &mut vfs,
        clock: &shield_engine::SystemClock,
        limits: shield_engine::Limits::default(),
        heap_exceeded: shield_engine::no_heap_budget,
    });
    out.extend_from_slice(&err);
    (out, outcome.exit_status())
}
