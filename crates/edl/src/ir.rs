//! The validated intermediate representation: what the semantic checker
//! ([`crate::sema::check`]) produces once every rule of Intel's edger8r holds.
//! Names are resolved, attributes are interpreted, functions carry their
//! stable index.

use std::path::PathBuf;

pub use crate::ast::Prim;
use crate::diagnostic::Span;

/// A whole enclave interface, imports merged.
#[derive(Debug, Clone)]
pub struct Enclave {
    /// The root EDL file.
    pub root: PathBuf,
    /// `include` lines (C headers), from all files.
    pub includes: Vec<String>,
    /// Types defined in EDL, in declaration order.
    pub types: Vec<TypeDef>,
    /// ECALLs; `ecalls[i].index == i`.
    pub ecalls: Vec<Function>,
    /// OCALLs; `ocalls[i].index == i`.
    pub ocalls: Vec<Function>,
    /// Every EDL file read.
    pub files_read: Vec<PathBuf>,
}

/// A type defined in EDL.
#[derive(Debug, Clone)]
pub enum TypeDef {
    /// `struct`
    Struct(Compound),
    /// `union`
    Union(Compound),
    /// `enum`
    Enum(EnumDef),
}

/// A `struct` or `union`.
#[derive(Debug, Clone)]
pub struct Compound {
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub span: Span,
    /// Its members.
    pub fields: Vec<Param>,
}

/// An `enum`.
#[derive(Debug, Clone)]
pub struct EnumDef {
    /// Its name, `None` when anonymous.
    pub name: Option<String>,
    /// Where it is defined.
    pub span: Span,
    /// Enumerators with their values.
    pub variants: Vec<(String, i64)>,
}

/// A resolved type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `void`
    Void,
    /// A C scalar.
    Prim(Prim),
    /// A struct defined in EDL.
    Struct(String),
    /// A union defined in EDL.
    Union(String),
    /// An enum defined in EDL.
    Enum(String),
    /// A type known only from a C header (its name as written).
    Foreign(String),
    /// A pointer.
    Pointer {
        /// The pointee.
        to: Box<Type>,
        /// Whether the pointee is `const`.
        is_const: bool,
    },
}

/// An array dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArrayLen {
    /// A number (literal or EDL enumerator).
    Const(u64),
    /// A constant defined only in a C header.
    Foreign(String),
}

/// The length named by `size=` or `count=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// A constant.
    Const(u64),
    /// Another parameter (or member), by position.
    Param(usize),
}

/// Data direction of a pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Not a copied pointer (a value, or `user_check`).
    None,
    /// `[in]`
    In,
    /// `[out]`
    Out,
    /// `[in, out]`
    InOut,
}

/// Interpreted pointer attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attrs {
    /// `in` / `out`.
    pub dir: Direction,
    /// `user_check`
    pub user_check: bool,
    /// `size=`
    pub size: Option<Len>,
    /// `count=`
    pub count: Option<Len>,
    /// `string`
    pub string: bool,
    /// `wstring`
    pub wstring: bool,
    /// `isptr`
    pub isptr: bool,
    /// `isary`
    pub isary: bool,
    /// `readonly`
    pub readonly: bool,
}

impl Default for Attrs {
    fn default() -> Self {
        Attrs {
            dir: Direction::None,
            user_check: false,
            size: None,
            count: None,
            string: false,
            wstring: false,
            isptr: false,
            isary: false,
            readonly: false,
        }
    }
}

/// A parameter (or a struct member).
#[derive(Debug, Clone)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Its type.
    pub ty: Type,
    /// Array dimensions, outermost first.
    pub dims: Vec<ArrayLen>,
    /// Its attributes.
    pub attrs: Attrs,
    /// The declaration as written (normalised), for messages.
    pub text: String,
}

/// An ECALL or OCALL.
#[derive(Debug, Clone)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// Its index among ECALLs (or OCALLs), in declaration order.
    pub index: u32,
    /// Where it is declared.
    pub span: Span,
    /// The declaration, normalised on one line.
    pub decl: String,
    /// `public` (ECALLs).
    pub public: bool,
    /// Return type.
    pub ret: Type,
    /// Parameters.
    pub params: Vec<Param>,
    /// ECALL indices named in `allow(...)` (OCALLs).
    pub allow: Vec<u32>,
    /// `propagate_errno` (OCALLs).
    pub propagate_errno: bool,
    /// `transition_using_threads` (switchless).
    pub switchless: bool,
}
