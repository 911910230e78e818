//! Abstract syntax tree of one EDL file, as written, with spans. No
//! meaning is checked here; see [`crate::sema`].

use std::sync::Arc;

use crate::diagnostic::Span;

/// A name with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// One parsed EDL file: the items inside `enclave { ... };`.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// The file's name as opened.
    pub path: Arc<str>,
    /// Items in order.
    pub items: Vec<Item>,
}

/// A top-level item of the `enclave` block.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `include "x.h"`
    Include(Include),
    /// `from "x.edl" import a, b;` or `import *;`
    Import(Import),
    /// `struct` or `union` definition.
    Compound(CompoundDef),
    /// `enum` definition, possibly anonymous.
    Enum(EnumDef),
    /// A function declared in a `trusted { }` block.
    Trusted(Function),
    /// A function declared in an `untrusted { }` block.
    Untrusted(Function),
}

/// `include "x.h"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    /// The header named.
    pub header: String,
    /// Where.
    pub span: Span,
}

/// `from "file" import ...;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The EDL file named.
    pub file: String,
    /// Where the file name is.
    pub span: Span,
    /// The names imported; `None` for `*`.
    pub names: Option<Vec<Ident>>,
}

/// `struct` or `union`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompoundKind {
    /// `struct`
    Struct,
    /// `union`
    Union,
}

/// A `struct` or `union` definition.
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundDef {
    /// Which.
    pub kind: CompoundKind,
    /// Its name.
    pub name: Ident,
    /// Its members.
    pub members: Vec<Declarator>,
}

/// An `enum` definition.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    /// Its name; `None` for `enum { ... };`.
    pub name: Option<Ident>,
    /// Where `enum` is written.
    pub span: Span,
    /// Its enumerators.
    pub variants: Vec<Variant>,
}

/// One enumerator.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Its name.
    pub name: Ident,
    /// Its explicit value, if any.
    pub value: Option<EnumValue>,
}

/// An enumerator's explicit value.
#[derive(Debug, Clone, PartialEq)]
pub enum EnumValue {
    /// A (possibly negated) integer.
    Int(i128, Span),
    /// Another enumerator's name.
    Name(Ident),
}

/// A base type as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseType {
    /// `void`
    Void,
    /// A C scalar type.
    Prim(Prim),
    /// `struct X`
    Struct(Ident),
    /// `union X`
    Union(Ident),
    /// `enum X`
    Enum(Ident),
    /// A bare type name: an EDL-defined type or one from a C header.
    Named(Ident),
}

/// The C scalar types EDL knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Prim {
    Char,
    SChar,
    UChar,
    Short,
    UShort,
    Int,
    UInt,
    Long,
    ULong,
    LongLong,
    ULongLong,
    Float,
    Double,
    SizeT,
    WcharT,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

impl Prim {
    /// Whether this is an integer type.
    pub fn is_integral(self) -> bool {
        !matches!(self, Prim::Float | Prim::Double)
    }

    /// The C spelling.
    pub fn c_name(self) -> &'static str {
        match self {
            Prim::Char => "char",
            Prim::SChar => "signed char",
            Prim::UChar => "unsigned char",
            Prim::Short => "short",
            Prim::UShort => "unsigned short",
            Prim::Int => "int",
            Prim::UInt => "unsigned int",
            Prim::Long => "long",
            Prim::ULong => "unsigned long",
            Prim::LongLong => "long long",
            Prim::ULongLong => "unsigned long long",
            Prim::Float => "float",
            Prim::Double => "double",
            Prim::SizeT => "size_t",
            Prim::WcharT => "wchar_t",
            Prim::I8 => "int8_t",
            Prim::I16 => "int16_t",
            Prim::I32 => "int32_t",
            Prim::I64 => "int64_t",
            Prim::U8 => "uint8_t",
            Prim::U16 => "uint16_t",
            Prim::U32 => "uint32_t",
            Prim::U64 => "uint64_t",
        }
    }
}

/// A type as written: `const`, base type, pointer stars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    /// `const` applied to the base type.
    pub is_const: bool,
    /// The base type.
    pub base: BaseType,
    /// How many `*`.
    pub pointers: u32,
    /// Where the type starts.
    pub span: Span,
    /// The type as written, normalised.
    pub text: String,
}

/// An array dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// `[4]`
    Int(u64, Span),
    /// `[SIZE]`: a constant's name.
    Name(Ident),
}

/// An attribute value: `size=12` or `size=len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// An integer.
    Int(u64, Span),
    /// A name.
    Name(Ident),
}

/// One attribute in `[...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// Its name.
    pub name: Ident,
    /// Its value, for `name=value`.
    pub value: Option<AttrValue>,
}

/// A parameter or a struct member: attributes, type, name, dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Declarator {
    /// Attributes in `[...]` before the type.
    pub attrs: Vec<Attr>,
    /// The type.
    pub ty: TypeRef,
    /// The name.
    pub name: Ident,
    /// Array dimensions, outermost first.
    pub dims: Vec<Dim>,
}

/// A function declared in a `trusted` or `untrusted` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Its name.
    pub name: Ident,
    /// Where its declaration starts.
    pub span: Span,
    /// `public` was written.
    pub public: Option<Span>,
    /// Attributes in `[...]` before the return type (`cdecl`, ...).
    pub attrs: Vec<Attr>,
    /// The return type.
    pub ret: TypeRef,
    /// The parameters.
    pub params: Vec<Declarator>,
    /// `allow(...)` list, if written.
    pub allow: Option<(Span, Vec<Ident>)>,
    /// Other trailing attributes (`propagate_errno`, `transition_using_threads`).
    pub suffixes: Vec<Ident>,
}
