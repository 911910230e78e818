//! `shield-edl`: the EDL compiler of Shield.
//!
//! An enclave's interface is one EDL file in Intel's syntax. This crate
//! parses it (with its imports), makes the semantic checks of Intel's
//! edger8r, and generates safe Rust for either side of the enclave boundary.
//! Generated code depends only on the small [`wire`] module of this crate.
//!
//! Pipeline: [`lexer`] → [`parser`] ([`ast`]) → [`loader`] (imports) →
//! [`sema`] ([`ir`]) → [`codegen`]. Every problem is a
//! [`diagnostic::Diagnostic`] (`file:line:col`, the offending text, what was
//! expected) whose [`diagnostic::ErrorKind`] names the layer and its error
//! enum ([`lexer::LexError`], [`parser::ParseError`], [`loader::ImportError`],
//! [`sema::SemaError`], [`codegen::MapError`]). Bounded: files of at most
//! 1 MiB, 16 levels of imports, 32 levels of nested types; no input panics.
//!
//! From a `build.rs`:
//!
//! ```no_run
//! # fn main() -> Result<(), shield_edl::Error> {
//! shield_edl::Builder::new("hello.edl")
//!     .search_path("edl")
//!     .side(shield_edl::Side::Trusted)
//!     .generate()?; // writes $OUT_DIR/hello_t.rs
//! # Ok(()) }
//! ```
//!
//! and in the crate: `mod edl { include!(concat!(env!("OUT_DIR"), "/hello_t.rs")); }`.
//!
//! Shield's system EDL files (`shield_log.edl`, `shield_quote.edl`) are
//! compiled in ([`system_edl_files`]) and found after the search paths, so an EDL file can
//! `from "shield_log.edl" import *;` as it would Intel's `sgx_tstdc.edl`.
//! [`lint::warnings`] lists valid declarations that are likely mistakes
//! (the [`Builder`] prints them as Cargo warnings).
#![forbid(unsafe_code)]

pub mod wire;

#[cfg(feature = "codegen")]
pub mod ast;
#[cfg(feature = "codegen")]
pub mod codegen;
#[cfg(feature = "codegen")]
pub mod diagnostic;
#[cfg(feature = "codegen")]
pub mod ir;
#[cfg(feature = "codegen")]
pub mod lexer;
#[cfg(feature = "codegen")]
pub mod lint;
#[cfg(feature = "codegen")]
pub mod loader;
#[cfg(feature = "codegen")]
pub mod parser;
#[cfg(feature = "codegen")]
pub mod sema;

#[cfg(feature = "codegen")]
mod api;

#[cfg(feature = "codegen")]
pub use api::{Builder, Error, check, check_str, generate, system_edl_files};
#[cfg(feature = "codegen")]
pub use codegen::Side;
#[cfg(feature = "codegen")]
pub use diagnostic::Diagnostic;
