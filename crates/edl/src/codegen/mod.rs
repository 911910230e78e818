//! Back end: the validated IR to Rust source for one side.
//!
//! * [`Side::Trusted`]: the enclave implements trait `Ecalls` (one method per
//!   ECALL, safe Rust types), calls out through `OcallProxy` (one method per
//!   OCALL returning `Result`), and its runtime feeds requests to
//!   `dispatch_ecall`.
//! * [`Side::Untrusted`]: the host calls in through `EcallProxy`, implements
//!   trait `Ocalls`, and its runtime feeds requests to `dispatch_ocall`.
//!
//! Both sides also get the EDL types (`#[repr(C)]` structs of plain fields,
//! enums as `#[repr(transparent)]` newtypes over `i32`), the function tables
//! `ECALLS`/`OCALLS`, and index constants in `ecall_index`/`ocall_index`.
//! The text is built here and formatted with `prettyplease`; the output is
//! deterministic. Declarations that cannot cross the boundary without a raw
//! pointer (`user_check`, C-header types, unions, pointer members, ...) are
//! refused with a diagnostic that says what to declare instead.

mod calls;
mod items;
mod map;

use calls::{callee_trait, dispatcher, proxy};
use items::tables;

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::diagnostic::Diagnostic;
use crate::ir::{self, ArrayLen, Direction, Enclave, Len, Prim, Type, TypeDef};

/// Which half of the bridge to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Code compiled into the enclave.
    Trusted,
    /// Code compiled into the host.
    Untrusted,
}

impl std::str::FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "trusted" => Ok(Side::Trusted),
            "untrusted" => Ok(Side::Untrusted),
            other => Err(format!(
                "unknown side `{other}`: expected `trusted` or `untrusted`"
            )),
        }
    }
}

/// Kinds of code generation diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapError {
    /// A declaration with no safe Rust mapping.
    Unmappable,
    /// An EDL name that clashes with the generated code.
    ReservedName,
}

/// Why code generation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CodegenError {
    /// Declarations that have no safe Rust mapping.
    Unmappable(Vec<Diagnostic>),
    /// The generator produced text that does not parse as Rust (a bug).
    Internal(String),
}

impl std::fmt::Display for CodegenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodegenError::Unmappable(d) => {
                for (i, d) in d.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{d}")?;
                }
                Ok(())
            }
            CodegenError::Internal(s) => write!(f, "internal code generator error: {s}"),
        }
    }
}

impl std::error::Error for CodegenError {}

const W: &str = "__shield_wire";

/// Largest value (fixed array or struct, in bytes) passed by value: such
/// values are built on the stack, and enclave stacks are small.
pub const MAX_VALUE_BYTES: u64 = 64 << 10;

const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A Rust identifier for an EDL name.
fn ident(name: &str) -> String {
    match name {
        "self" | "Self" | "super" | "crate" | "_" => format!("{name}_"),
        n if RUST_KEYWORDS.contains(&n) => format!("r#{n}"),
        n => n.to_string(),
    }
}

/// A name usable inside another identifier (no `r#`).
fn bare(name: &str) -> String {
    name.to_string()
}

fn prim(p: Prim) -> &'static str {
    match p {
        Prim::Char | Prim::SChar | Prim::I8 => "i8",
        Prim::UChar | Prim::U8 => "u8",
        Prim::Short | Prim::I16 => "i16",
        Prim::UShort | Prim::U16 => "u16",
        Prim::Int | Prim::I32 | Prim::WcharT => "i32",
        Prim::UInt | Prim::U32 => "u32",
        Prim::Long | Prim::LongLong | Prim::I64 => "i64",
        Prim::ULong | Prim::ULongLong | Prim::U64 => "u64",
        Prim::Float => "f32",
        Prim::Double => "f64",
        Prim::SizeT => "usize",
    }
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// How a parameter crosses.
#[derive(Debug, Clone)]
enum Kind {
    /// By value.
    Value(String),
    /// A length folded into the slices that name it.
    Length(String),
    /// `&T` / `&mut T`: a pointer to one element.
    Ref(String, Direction),
    /// `&[T]` / `&mut [T]`.
    Slice {
        elem: String,
        dir: Direction,
        len: Len,
        is_size: bool,
    },
    /// `&[T; N]` / `&mut [T; N]`.
    Array(String, Direction),
    /// `[in, string]` → `&str`; `[in, out, string]` → `&mut [u8]`.
    Str(Direction),
}

struct Plan {
    /// Rust name in signatures.
    name: String,
    /// Local name in dispatchers.
    local: String,
    /// Local name of a folded length in proxies.
    len_local: String,
    kind: Kind,
}

struct FnPlan<'a> {
    f: &'a ir::Function,
    params: Vec<Plan>,
    ret: Option<String>,
}

struct Gen<'a> {
    enclave: &'a Enclave,
    errors: Vec<Diagnostic>,
    /// Plain structs and enums by name; `Err(reason)` for those that cannot
    /// be mapped.
    mappable: HashMap<String, Result<(), String>>,
    /// Approximate byte sizes of EDL structs.
    sizes: HashMap<String, u64>,
}

/// Generates one side.
pub fn generate(enclave: &Enclave, side: Side) -> Result<String, CodegenError> {
    let mut g = Gen {
        enclave,
        errors: Vec::new(),
        mappable: HashMap::new(),
        sizes: HashMap::new(),
    };
    g.reserved_names();
    g.classify_types();
    let ecalls: Vec<FnPlan<'_>> = enclave.ecalls.iter().map(|f| g.plan(f)).collect();
    let ocalls: Vec<FnPlan<'_>> = enclave.ocalls.iter().map(|f| g.plan(f)).collect();
    if !g.errors.is_empty() {
        return Err(CodegenError::Unmappable(g.errors));
    }
    let mut out = String::new();
    let _ = writeln!(out, "use ::shield_edl::wire as {W};");
    g.types(&mut out);
    tables(&mut out, enclave);
    match side {
        Side::Trusted => {
            callee_trait(&mut out, "Ecalls", &ecalls, true);
            proxy(&mut out, "OcallProxy", "OcallTransport", "ocall", &ocalls);
            dispatcher(&mut out, "dispatch_ecall", "Ecalls", &ecalls, true);
        }
        Side::Untrusted => {
            proxy(&mut out, "EcallProxy", "EcallTransport", "ecall", &ecalls);
            callee_trait(&mut out, "Ocalls", &ocalls, false);
            dispatcher(&mut out, "dispatch_ocall", "Ocalls", &ocalls, false);
        }
    }
    let file = syn::parse_file(&out).map_err(|e| CodegenError::Internal(e.to_string()))?;
    let body = prettyplease::unparse(&file);
    let root = enclave.root.display();
    let side_name = match side {
        Side::Trusted => "trusted",
        Side::Untrusted => "untrusted",
    };
    Ok(format!(
        "// generated by shield-edl from {root} ({side_name} side), do not edit.\n\
         // Include it in a module of its own: `mod edl {{ include!(...); }}`.\n\n{body}"
    ))
}

fn doc(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "#[doc = {}]", lit(&format!(" {line}")));
    }
}

fn loc(span: &crate::diagnostic::Span) -> String {
    format!("{}:{}", span.file, span.line)
}
