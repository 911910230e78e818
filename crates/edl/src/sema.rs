//! Semantic checks: the rules Intel's edger8r enforces, applied to the
//! merged declarations from [`crate::loader`], producing the validated
//! [`ir::Enclave`]. Every violation is one [`Diagnostic`].

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::ast::{self, AttrValue, BaseType, CompoundKind, Dim, EnumValue, Item};
use crate::diagnostic::{Diagnostic, Span};
use crate::ir::{self, ArrayLen, Attrs, Direction, Len, Type};
use crate::loader::Loaded;

/// Violations of EDL's semantic rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SemaError {
    /// A name declared twice (type, enumerator, member, parameter,
    /// function, attribute).
    Duplicate,
    /// A name that refers to nothing.
    UnknownName,
    /// A value out of range (enumerator, array dimension).
    BadValue,
    /// `sizefunc`, removed from the language.
    RemovedAttribute,
    /// An attribute EDL does not have.
    UnknownAttribute,
    /// An attribute used where it does not apply or with a conflicting one.
    AttributeMisuse,
    /// A pointer without `in`, `out` or `user_check`.
    MissingDirection,
    /// Misuse of `string`/`wstring`.
    StringMisuse,
    /// Misuse of `size=`/`count=`.
    LengthMisuse,
    /// A function attribute on the wrong side, unknown or repeated.
    FunctionAttribute,
    /// An `allow(...)` list naming no ECALL.
    AllowList,
    /// A type error (self-containing struct, wrong keyword, `void` value).
    TypeError,
    /// ECALLs exist but none is `public`.
    NoPublicEcall,
}

/// Deepest nesting of struct members by value.
pub const MAX_TYPE_DEPTH: usize = 32;

/// Checks the declarations and builds the IR, or reports every problem.
pub fn check(root: PathBuf, loaded: Loaded) -> Result<ir::Enclave, Vec<Diagnostic>> {
    let mut cx = Checker::default();
    let types = cx.types(&loaded.types);
    let ecalls = cx.functions(&loaded.ecalls, true);
    let ocalls = cx.functions(&loaded.ocalls, false);
    let mut ocalls = ocalls;
    cx.allow_lists(&loaded.ocalls, &ecalls, &mut ocalls);
    cx.unique_function_names(&loaded.ecalls, &loaded.ocalls);
    if !ecalls.is_empty() && !ecalls.iter().any(|f| f.public) {
        cx.err(
            Diagnostic::new(
                SemaError::NoPublicEcall,
                ecalls[0].span.clone(),
                "no ECALL is public: the host could never enter the enclave",
            )
            .found(ecalls[0].decl.clone())
            .expected("at least one `public` ECALL"),
        );
    }
    if !cx.errors.is_empty() {
        return Err(cx.errors);
    }
    let mut includes = Vec::new();
    for inc in loaded.includes {
        if !includes.contains(&inc.header) {
            includes.push(inc.header);
        }
    }
    Ok(ir::Enclave {
        root,
        includes,
        types,
        ecalls,
        ocalls,
        files_read: loaded.files_read,
    })
}

#[derive(Default)]
struct Checker {
    errors: Vec<Diagnostic>,
    structs: HashSet<String>,
    unions: HashSet<String>,
    enums: HashSet<String>,
    constants: HashMap<String, i64>,
}

const POINTER_ATTRS: &[&str] = &[
    "in",
    "out",
    "user_check",
    "size",
    "count",
    "string",
    "wstring",
    "isptr",
    "isary",
    "readonly",
];

fn decl_text(d: &ast::Declarator) -> String {
    let mut s = String::new();
    if !d.attrs.is_empty() {
        let attrs: Vec<String> = d
            .attrs
            .iter()
            .map(|a| match &a.value {
                None => a.name.name.clone(),
                Some(AttrValue::Int(v, _)) => format!("{}={v}", a.name.name),
                Some(AttrValue::Name(n)) => format!("{}={}", a.name.name, n.name),
            })
            .collect();
        s.push_str(&format!("[{}] ", attrs.join(", ")));
    }
    s.push_str(&d.ty.text);
    s.push(' ');
    s.push_str(&d.name.name);
    for dim in &d.dims {
        match dim {
            Dim::Int(v, _) => s.push_str(&format!("[{v}]")),
            Dim::Name(n) => s.push_str(&format!("[{}]", n.name)),
        }
    }
    s
}

fn function_text(f: &ast::Function) -> String {
    let mut s = String::new();
    if f.public.is_some() {
        s.push_str("public ");
    }
    s.push_str(&f.ret.text);
    s.push(' ');
    s.push_str(&f.name.name);
    s.push('(');
    let params: Vec<String> = f.params.iter().map(decl_text).collect();
    s.push_str(&params.join(", "));
    s.push(')');
    if let Some((_, names)) = &f.allow {
        let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
        s.push_str(&format!(" allow({})", names.join(", ")));
    }
    for suffix in &f.suffixes {
        s.push(' ');
        s.push_str(&suffix.name);
    }
    s
}

/// Whether `ty` can hold a length: an integer type, or a typedef from a C
/// header (such as `socklen_t`), which edger8r cannot see either.
fn is_integral(ty: &Type) -> bool {
    match ty {
        Type::Prim(p) => p.is_integral(),
        Type::Foreign(name) => !name.starts_with("struct ") && !name.starts_with("union "),
        _ => false,
    }
}

impl Checker {
    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn types(&mut self, items: &[Item]) -> Vec<ir::TypeDef> {
        // Names first, so that members may name any EDL type.
        let mut seen: HashMap<String, Span> = HashMap::new();
        for item in items {
            let name = match item {
                Item::Compound(c) => Some(&c.name),
                Item::Enum(e) => e.name.as_ref(),
                _ => None,
            };
            let Some(name) = name else { continue };
            if seen.contains_key(&name.name) {
                self.err(
                    Diagnostic::new(
                        SemaError::Duplicate,
                        name.span.clone(),
                        "duplicate type name",
                    )
                    .found(name.name.clone())
                    .expected("a name not already used by a struct, union or enum"),
                );
                continue;
            }
            seen.insert(name.name.clone(), name.span.clone());
            match item {
                Item::Compound(c) if c.kind == CompoundKind::Struct => {
                    self.structs.insert(name.name.clone());
                }
                Item::Compound(_) => {
                    self.unions.insert(name.name.clone());
                }
                _ => {
                    self.enums.insert(name.name.clone());
                }
            }
        }
        let mut out = Vec::new();
        for item in items {
            match item {
                Item::Enum(e) => out.push(ir::TypeDef::Enum(self.enum_def(e))),
                Item::Compound(c) => {
                    let fields = self.declarators(&c.members, false, &c.name.name);
                    let comp = ir::Compound {
                        name: c.name.name.clone(),
                        span: c.name.span.clone(),
                        fields,
                    };
                    out.push(match c.kind {
                        CompoundKind::Struct => ir::TypeDef::Struct(comp),
                        CompoundKind::Union => ir::TypeDef::Union(comp),
                    });
                }
                _ => {}
            }
        }
        self.containment(&out);
        out
    }

    fn enum_def(&mut self, e: &ast::EnumDef) -> ir::EnumDef {
        let mut next: i64 = 0;
        let mut variants = Vec::new();
        for v in &e.variants {
            let value = match &v.value {
                None => next,
                Some(EnumValue::Int(i, span)) => match i32::try_from(*i) {
                    Ok(x) => i64::from(x),
                    Err(_) => {
                        self.err(
                            Diagnostic::new(
                                SemaError::BadValue,
                                span.clone(),
                                "enumerator value out of range",
                            )
                            .found(i.to_string())
                            .expected("a value that fits a C `int`"),
                        );
                        0
                    }
                },
                Some(EnumValue::Name(n)) => match self.constants.get(&n.name) {
                    Some(x) => *x,
                    None => {
                        self.err(
                            Diagnostic::new(
                                SemaError::UnknownName,
                                n.span.clone(),
                                "unknown enumerator",
                            )
                            .found(n.name.clone())
                            .expected("an integer or an enumerator defined earlier"),
                        );
                        0
                    }
                },
            };
            if self.constants.contains_key(&v.name.name) {
                self.err(
                    Diagnostic::new(
                        SemaError::Duplicate,
                        v.name.span.clone(),
                        "duplicate enumerator",
                    )
                    .found(v.name.name.clone())
                    .expected("a name not already used by an enumerator"),
                );
            } else {
                self.constants.insert(v.name.name.clone(), value);
            }
            variants.push((v.name.name.clone(), value));
            next = value.saturating_add(1);
        }
        ir::EnumDef {
            name: e.name.as_ref().map(|n| n.name.clone()),
            span: e.span.clone(),
            variants,
        }
    }

    /// Struct members by value may not contain their own struct, and
    /// nesting is bounded.
    fn containment(&mut self, types: &[ir::TypeDef]) {
        let mut members: HashMap<&str, Vec<&str>> = HashMap::new();
        for t in types {
            if let ir::TypeDef::Struct(c) | ir::TypeDef::Union(c) = t {
                let inner = c
                    .fields
                    .iter()
                    .filter_map(|f| match &f.ty {
                        Type::Struct(n) | Type::Union(n) => Some(n.as_str()),
                        _ => None,
                    })
                    .collect();
                members.insert(c.name.as_str(), inner);
            }
        }
        /// Longest chain of by-value members below `name`, memoised (so a
        /// lattice of types costs linear time); `Err` names a cycle.
        fn depth<'a>(
            name: &'a str,
            members: &HashMap<&'a str, Vec<&'a str>>,
            path: &mut Vec<&'a str>,
            memo: &mut HashMap<&'a str, usize>,
        ) -> Result<usize, String> {
            if let Some(d) = memo.get(name) {
                return Ok(*d);
            }
            if path.contains(&name) {
                path.push(name);
                return Err(path.join(" -> "));
            }
            if path.len() > MAX_TYPE_DEPTH {
                return Ok(usize::MAX);
            }
            path.push(name);
            let mut d = 0;
            for inner in members.get(name).map(Vec::as_slice).unwrap_or(&[]) {
                d = d.max(depth(inner, members, path, memo)?.saturating_add(1));
            }
            path.pop();
            memo.insert(name, d);
            Ok(d)
        }
        let mut memo = HashMap::new();
        let mut reported_depth = false;
        let mut in_reported_cycle: HashSet<String> = HashSet::new();
        for t in types {
            if let ir::TypeDef::Struct(c) | ir::TypeDef::Union(c) = t {
                if in_reported_cycle.contains(&c.name) {
                    continue;
                }
                match depth(&c.name, &members, &mut Vec::new(), &mut memo) {
                    Err(cycle) if cycle.split(" -> ").any(|n| in_reported_cycle.contains(n)) => {}
                    Err(cycle) => {
                        in_reported_cycle.extend(cycle.split(" -> ").map(str::to_string));
                        self.err(
                            Diagnostic::new(
                                SemaError::TypeError,
                                c.span.clone(),
                                "type contains itself by value",
                            )
                            .found(cycle)
                            .expected("a type that does not contain itself (use a pointer)"),
                        );
                    }
                    Ok(d) if d > MAX_TYPE_DEPTH && !reported_depth => {
                        reported_depth = true;
                        self.err(
                            Diagnostic::new(
                                SemaError::TypeError,
                                c.span.clone(),
                                "types nested too deeply",
                            )
                            .found(c.name.clone())
                            .expected(format!("at most {MAX_TYPE_DEPTH} levels of nested members")),
                        );
                    }
                    Ok(_) => {}
                }
            }
        }
    }

    fn resolve(&mut self, t: &ast::TypeRef) -> Type {
        let base = match &t.base {
            BaseType::Void => Type::Void,
            BaseType::Prim(p) => Type::Prim(*p),
            BaseType::Struct(n) => {
                if self.structs.contains(&n.name) {
                    Type::Struct(n.name.clone())
                } else if self.unions.contains(&n.name) || self.enums.contains(&n.name) {
                    self.err(
                        Diagnostic::new(
                            SemaError::TypeError,
                            n.span.clone(),
                            "type named with the wrong keyword",
                        )
                        .found(format!("struct {}", n.name))
                        .expected("the keyword the type was defined with"),
                    );
                    Type::Foreign(n.name.clone())
                } else {
                    Type::Foreign(format!("struct {}", n.name))
                }
            }
            BaseType::Union(n) => {
                if self.unions.contains(&n.name) {
                    Type::Union(n.name.clone())
                } else if self.structs.contains(&n.name) || self.enums.contains(&n.name) {
                    self.err(
                        Diagnostic::new(
                            SemaError::TypeError,
                            n.span.clone(),
                            "type named with the wrong keyword",
                        )
                        .found(format!("union {}", n.name))
                        .expected("the keyword the type was defined with"),
                    );
                    Type::Foreign(n.name.clone())
                } else {
                    Type::Foreign(format!("union {}", n.name))
                }
            }
            BaseType::Enum(n) => {
                if self.enums.contains(&n.name) {
                    Type::Enum(n.name.clone())
                } else if self.structs.contains(&n.name) || self.unions.contains(&n.name) {
                    self.err(
                        Diagnostic::new(
                            SemaError::TypeError,
                            n.span.clone(),
                            "type named with the wrong keyword",
                        )
                        .found(format!("enum {}", n.name))
                        .expected("the keyword the type was defined with"),
                    );
                    Type::Foreign(n.name.clone())
                } else {
                    Type::Foreign(format!("enum {}", n.name))
                }
            }
            BaseType::Named(n) => {
                if self.structs.contains(&n.name) {
                    Type::Struct(n.name.clone())
                } else if self.unions.contains(&n.name) {
                    Type::Union(n.name.clone())
                } else if self.enums.contains(&n.name) {
                    Type::Enum(n.name.clone())
                } else {
                    Type::Foreign(n.name.clone())
                }
            }
        };
        let mut ty = base;
        for i in 0..t.pointers {
            ty = Type::Pointer {
                to: Box::new(ty),
                is_const: i == 0 && t.is_const,
            };
        }
        ty
    }

    fn dims(&mut self, dims: &[Dim]) -> Vec<ArrayLen> {
        dims.iter()
            .map(|d| match d {
                Dim::Int(0, span) => {
                    self.err(
                        Diagnostic::new(
                            SemaError::BadValue,
                            span.clone(),
                            "array dimension is zero",
                        )
                        .found("[0]")
                        .expected("a positive array size"),
                    );
                    ArrayLen::Const(1)
                }
                Dim::Int(v, _) => ArrayLen::Const(*v),
                Dim::Name(n) => match self.constants.get(&n.name) {
                    Some(v) if *v > 0 => ArrayLen::Const(*v as u64),
                    Some(v) => {
                        self.err(
                            Diagnostic::new(
                                SemaError::BadValue,
                                n.span.clone(),
                                "array dimension is not positive",
                            )
                            .found(format!("{} = {v}", n.name))
                            .expected("a positive array size"),
                        );
                        ArrayLen::Const(1)
                    }
                    None => ArrayLen::Foreign(n.name.clone()),
                },
            })
            .collect()
    }

    /// Parameters of one function, or members of one struct.
    fn declarators(
        &mut self,
        decls: &[ast::Declarator],
        is_param: bool,
        owner: &str,
    ) -> Vec<ir::Param> {
        let mut seen: HashSet<&str> = HashSet::new();
        for d in decls {
            if !seen.insert(d.name.name.as_str()) {
                self.err(
                    Diagnostic::new(
                        SemaError::Duplicate,
                        d.name.span.clone(),
                        format!(
                            "duplicate {} name in `{owner}`",
                            if is_param { "parameter" } else { "member" }
                        ),
                    )
                    .found(d.name.name.clone())
                    .expected("distinct names"),
                );
            }
        }
        let tys: Vec<(Type, Vec<ArrayLen>)> = decls
            .iter()
            .map(|d| (self.resolve(&d.ty), self.dims(&d.dims)))
            .collect();
        let mut out = Vec::new();
        for (i, d) in decls.iter().enumerate() {
            let (ty, dims) = tys[i].clone();
            let attrs = self.attrs(d, i, &ty, &dims, decls, &tys, is_param);
            if ty == Type::Void {
                self.err(
                    Diagnostic::new(
                        SemaError::TypeError,
                        d.ty.span.clone(),
                        format!("`{}` has type `void`", d.name.name),
                    )
                    .found(decl_text(d))
                    .expected("a value type or a pointer"),
                );
            }
            out.push(ir::Param {
                name: d.name.name.clone(),
                span: d.name.span.clone(),
                ty,
                dims,
                attrs,
                text: decl_text(d),
            });
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn attrs(
        &mut self,
        d: &ast::Declarator,
        me: usize,
        ty: &Type,
        dims: &[ArrayLen],
        decls: &[ast::Declarator],
        tys: &[(Type, Vec<ArrayLen>)],
        is_param: bool,
    ) -> Attrs {
        let mut a = Attrs::default();
        let (mut input, mut output) = (false, false);
        let mut seen: HashSet<&str> = HashSet::new();
        let mut sized = false;
        let text = decl_text(d);
        let what = if is_param { "parameter" } else { "member" };
        for attr in &d.attrs {
            let name = attr.name.name.as_str();
            let span = attr.name.span.clone();
            if name == "sizefunc" {
                self.err(
                    Diagnostic::new(
                        SemaError::RemovedAttribute,
                        span,
                        "the `sizefunc` attribute was removed from the EDL language",
                    )
                    .found("sizefunc")
                    .expected("`size=` or `count=` naming a parameter"),
                );
                continue;
            }
            if !POINTER_ATTRS.contains(&name) {
                self.err(
                    Diagnostic::new(SemaError::UnknownAttribute, span, format!("unknown attribute on {what} `{}`", d.name.name))
                        .found(name)
                        .expected("one of in, out, user_check, size=, count=, string, wstring, isptr, isary, readonly"),
                );
                continue;
            }
            if !seen.insert(name) {
                self.err(
                    Diagnostic::new(
                        SemaError::Duplicate,
                        span,
                        format!("duplicate attribute on `{}`", d.name.name),
                    )
                    .found(name)
                    .expected("each attribute at most once"),
                );
                continue;
            }
            let takes_value = matches!(name, "size" | "count");
            if takes_value {
                sized = true;
            }
            match (&attr.value, takes_value) {
                (None, true) => {
                    self.err(
                        Diagnostic::new(
                            SemaError::AttributeMisuse,
                            span,
                            format!("`{name}` needs a value"),
                        )
                        .found(name)
                        .expected(format!("`{name}=N` or `{name}=param`")),
                    );
                    continue;
                }
                (Some(_), false) => {
                    self.err(
                        Diagnostic::new(
                            SemaError::AttributeMisuse,
                            span,
                            format!("`{name}` takes no value"),
                        )
                        .found(format!("{name}=..."))
                        .expected(format!("`{name}` alone")),
                    );
                }
                _ => {}
            }
            match name {
                "in" => input = true,
                "out" => output = true,
                "user_check" => a.user_check = true,
                "string" => a.string = true,
                "wstring" => a.wstring = true,
                "isptr" => a.isptr = true,
                "isary" => a.isary = true,
                "readonly" => a.readonly = true,
                "size" | "count" => {
                    if let Some(v) = &attr.value {
                        let len = self.len(name, v, me, decls, tys, what);
                        if name == "size" {
                            a.size = len;
                        } else {
                            a.count = len;
                        }
                    }
                }
                _ => {}
            }
        }
        a.dir = match (input, output) {
            (true, true) => Direction::InOut,
            (true, false) => Direction::In,
            (false, true) => Direction::Out,
            (false, false) => Direction::None,
        };
        let is_ptr = matches!(ty, Type::Pointer { .. });
        let foreign_plain = matches!(ty, Type::Foreign(_));
        let at = d.name.span.clone();
        if a.isptr && !foreign_plain {
            self.err(
                Diagnostic::new(
                    SemaError::AttributeMisuse,
                    at.clone(),
                    "`isptr` is for a pointer type defined in a C header",
                )
                .found(text.clone())
                .expected("`isptr` on a typedef name (not on `T*` or an EDL type)"),
            );
        }
        if a.isary && !(foreign_plain && dims.is_empty()) {
            self.err(
                Diagnostic::new(
                    SemaError::AttributeMisuse,
                    at.clone(),
                    "`isary` is for an array type defined in a C header",
                )
                .found(text.clone())
                .expected("`isary` on a typedef name (not on `T x[N]` or an EDL type)"),
            );
        }
        if a.isptr && a.isary {
            self.err(
                Diagnostic::new(
                    SemaError::AttributeMisuse,
                    at.clone(),
                    "`isptr` and `isary` together",
                )
                .found(text.clone())
                .expected("one of `isptr`, `isary`"),
            );
        }
        let pointerish = is_ptr || !dims.is_empty() || a.isptr || a.isary;
        let any_ptr_attr = a.dir != Direction::None
            || a.user_check
            || a.size.is_some()
            || a.count.is_some()
            || a.string
            || a.wstring
            || a.readonly;
        if !pointerish {
            if any_ptr_attr {
                self.err(
                    Diagnostic::new(SemaError::AttributeMisuse, at, format!("pointer attribute on `{}`, which is not a pointer", d.name.name))
                        .found(text)
                        .expected("attributes only on pointers and arrays (use `isptr`/`isary` for typedef'd ones)"),
                );
            }
            return a;
        }
        if a.user_check && a.dir != Direction::None {
            self.err(
                Diagnostic::new(
                    SemaError::AttributeMisuse,
                    at.clone(),
                    "`user_check` together with `in`/`out`",
                )
                .found(text.clone())
                .expected("either `user_check` or a direction"),
            );
        }
        if is_param && a.dir == Direction::None && !a.user_check {
            self.err(
                Diagnostic::new(
                    SemaError::MissingDirection,
                    at.clone(),
                    format!("pointer parameter `{}` has no direction", d.name.name),
                )
                .found(text.clone())
                .expected("`in`, `out`, `in, out` or `user_check`"),
            );
        }
        if !is_param && a.dir != Direction::None && !is_ptr {
            self.err(
                Diagnostic::new(
                    SemaError::AttributeMisuse,
                    at.clone(),
                    "direction on a struct member that is not a pointer",
                )
                .found(text.clone())
                .expected("`in`/`out` only on pointer members"),
            );
        }
        if a.string && a.wstring {
            self.err(
                Diagnostic::new(
                    SemaError::StringMisuse,
                    at.clone(),
                    "`string` and `wstring` together",
                )
                .found(text.clone())
                .expected("one of `string`, `wstring`"),
            );
        }
        if a.string || a.wstring {
            let kw = if a.string { "string" } else { "wstring" };
            if a.dir == Direction::Out {
                self.err(
                    Diagnostic::new(
                        SemaError::StringMisuse,
                        at.clone(),
                        format!("`{kw}` with `out` alone: there is no string to measure yet"),
                    )
                    .found(text.clone())
                    .expected(format!(
                        "`[in, {kw}]` or `[in, out, {kw}]`, or `[out, size=n]` for an output buffer"
                    )),
                );
            } else if a.dir == Direction::None && !a.user_check {
                // Reported above as a missing direction.
            } else if a.user_check {
                self.err(
                    Diagnostic::new(
                        SemaError::StringMisuse,
                        at.clone(),
                        format!("`{kw}` with `user_check`"),
                    )
                    .found(text.clone())
                    .expected(format!("`[in, {kw}]`")),
                );
            }
            if a.size.is_some() || a.count.is_some() {
                self.err(
                    Diagnostic::new(
                        SemaError::StringMisuse,
                        at.clone(),
                        format!("`{kw}` with `size`/`count`: a string's length is its terminator"),
                    )
                    .found(text.clone())
                    .expected(format!("`{kw}` alone, or `size=`/`count=` without `{kw}`")),
                );
            }
            let elem_ok = match ty {
                Type::Pointer { to, .. } if dims.is_empty() => {
                    if a.string {
                        matches!(
                            **to,
                            Type::Prim(ir::Prim::Char)
                                | Type::Prim(ir::Prim::SChar)
                                | Type::Prim(ir::Prim::UChar)
                        )
                    } else {
                        matches!(**to, Type::Prim(ir::Prim::WcharT))
                    }
                }
                _ => false,
            };
            if !elem_ok {
                let want = if a.string { "`char*`" } else { "`wchar_t*`" };
                self.err(
                    Diagnostic::new(
                        SemaError::StringMisuse,
                        at.clone(),
                        format!("`{kw}` on a {what} that is not {want}"),
                    )
                    .found(text.clone())
                    .expected(format!("`{kw}` only on {want}")),
                );
            }
        }
        if a.readonly && output {
            self.err(
                Diagnostic::new(
                    SemaError::AttributeMisuse,
                    at.clone(),
                    "`readonly` with `out`",
                )
                .found(text.clone())
                .expected("`readonly` only with `in`"),
            );
        }
        if !dims.is_empty() && (a.size.is_some() || a.count.is_some()) {
            self.err(
                Diagnostic::new(
                    SemaError::LengthMisuse,
                    at.clone(),
                    "`size`/`count` on an array: its size is already declared",
                )
                .found(text.clone())
                .expected("an array without `size`/`count`, or a pointer with them"),
            );
        }
        if let Type::Pointer { to, is_const } = ty {
            if output && *is_const && dims.is_empty() {
                self.err(
                    Diagnostic::new(
                        SemaError::AttributeMisuse,
                        at.clone(),
                        "`out` on a pointer to const",
                    )
                    .found(text.clone())
                    .expected("`in` for a const pointer, or drop `const`"),
                );
            }
            let has_size = a.size.is_some() || (sized && a.count.is_none());
            if **to == Type::Void && a.dir != Direction::None && !has_size && dims.is_empty() {
                self.err(
                    Diagnostic::new(
                        SemaError::LengthMisuse,
                        at,
                        "`void*` with a direction needs `size=`: the element size is unknown",
                    )
                    .found(text)
                    .expected("`size=` naming the byte length"),
                );
            }
        }
        a
    }

    fn len(
        &mut self,
        attr: &str,
        v: &AttrValue,
        me: usize,
        decls: &[ast::Declarator],
        tys: &[(Type, Vec<ArrayLen>)],
        what: &str,
    ) -> Option<Len> {
        match v {
            AttrValue::Int(0, span) => {
                self.err(
                    Diagnostic::new(SemaError::LengthMisuse, span.clone(), format!("`{attr}=0`"))
                        .found(format!("{attr}=0"))
                        .expected("a positive size or count"),
                );
                None
            }
            AttrValue::Int(n, _) => Some(Len::Const(*n)),
            AttrValue::Name(n) => {
                if let Some(i) = decls.iter().position(|d| d.name.name == n.name) {
                    if i == me {
                        self.err(
                            Diagnostic::new(
                                SemaError::LengthMisuse,
                                n.span.clone(),
                                format!("`{attr}=` names the pointer itself"),
                            )
                            .found(format!("{attr}={}", n.name))
                            .expected(format!("an integral {what} or a constant")),
                        );
                        return None;
                    }
                    let (ty, dims) = &tys[i];
                    if !is_integral(ty) || !dims.is_empty() {
                        self.err(
                            Diagnostic::new(
                                SemaError::LengthMisuse,
                                n.span.clone(),
                                format!("`{attr}=` must name an integral {what} or a constant"),
                            )
                            .found(format!("{attr}={} ({})", n.name, decls[i].ty.text))
                            .expected(format!("an integer {what} such as `size_t {}`", n.name)),
                        );
                        return None;
                    }
                    return Some(Len::Param(i));
                }
                match self.constants.get(&n.name) {
                    Some(c) if *c > 0 => Some(Len::Const(*c as u64)),
                    Some(c) => {
                        self.err(
                            Diagnostic::new(
                                SemaError::LengthMisuse,
                                n.span.clone(),
                                format!("`{attr}=` constant is not positive"),
                            )
                            .found(format!("{} = {c}", n.name))
                            .expected("a positive size or count"),
                        );
                        None
                    }
                    None => {
                        self.err(
                            Diagnostic::new(
                                SemaError::LengthMisuse,
                                n.span.clone(),
                                format!("`{attr}=` names no {what} or constant"),
                            )
                            .found(format!("{attr}={}", n.name))
                            .expected(format!("an integral {what} or a constant")),
                        );
                        None
                    }
                }
            }
        }
    }

    fn functions(&mut self, fs: &[ast::Function], trusted: bool) -> Vec<ir::Function> {
        let mut out = Vec::new();
        for (i, f) in fs.iter().enumerate() {
            let decl = function_text(f);
            let kind = if trusted { "ECALL" } else { "OCALL" };
            if let (false, Some(span)) = (trusted, &f.public) {
                self.err(
                    Diagnostic::new(
                        SemaError::FunctionAttribute,
                        span.clone(),
                        "`public` on an OCALL",
                    )
                    .found("public")
                    .expected("`public` only in `trusted { }`"),
                );
            }
            for attr in &f.attrs {
                let n = attr.name.name.as_str();
                let known = matches!(n, "cdecl" | "stdcall" | "fastcall" | "dllimport");
                if trusted || !known || attr.value.is_some() {
                    self.err(
                        Diagnostic::new(
                            SemaError::FunctionAttribute,
                            attr.name.span.clone(),
                            format!("invalid function attribute on {kind} `{}`", f.name.name),
                        )
                        .found(n)
                        .expected(if trusted {
                            "no `[...]` attributes on ECALLs"
                        } else {
                            "one of `cdecl`, `stdcall`, `fastcall`, `dllimport`"
                        }),
                    );
                }
            }
            if let (true, Some((span, _))) = (trusted, &f.allow) {
                self.err(
                    Diagnostic::new(
                        SemaError::AllowList,
                        span.clone(),
                        "`allow(...)` on an ECALL",
                    )
                    .found("allow")
                    .expected("`allow(...)` only on OCALLs"),
                );
            }
            let mut propagate_errno = false;
            let mut switchless = false;
            for s in &f.suffixes {
                let dup = match s.name.as_str() {
                    "propagate_errno" if !trusted => std::mem::replace(&mut propagate_errno, true),
                    "transition_using_threads" => std::mem::replace(&mut switchless, true),
                    other => {
                        self.err(
                            Diagnostic::new(
                                SemaError::FunctionAttribute,
                                s.span.clone(),
                                format!("invalid attribute after {kind} `{}`", f.name.name),
                            )
                            .found(other)
                            .expected(if trusted {
                                "`transition_using_threads` or `;`"
                            } else {
                                "`allow(...)`, `propagate_errno`, `transition_using_threads` or `;`"
                            }),
                        );
                        false
                    }
                };
                if dup {
                    self.err(
                        Diagnostic::new(
                            SemaError::Duplicate,
                            s.span.clone(),
                            "duplicate function attribute",
                        )
                        .found(s.name.clone())
                        .expected("each attribute at most once"),
                    );
                }
            }
            let ret = self.resolve(&f.ret);
            let params = self.declarators(&f.params, true, &f.name.name);
            out.push(ir::Function {
                name: f.name.name.clone(),
                index: u32::try_from(i).unwrap_or(u32::MAX),
                span: f.name.span.clone(),
                decl,
                public: trusted && f.public.is_some(),
                ret,
                params,
                allow: Vec::new(),
                propagate_errno,
                switchless,
            });
        }
        out
    }

    fn allow_lists(
        &mut self,
        asts: &[ast::Function],
        ecalls: &[ir::Function],
        ocalls: &mut [ir::Function],
    ) {
        for (f, o) in asts.iter().zip(ocalls.iter_mut()) {
            let Some((_, names)) = &f.allow else { continue };
            for n in names {
                match ecalls.iter().find(|e| e.name == n.name) {
                    Some(e) if !o.allow.contains(&e.index) => o.allow.push(e.index),
                    Some(_) => self.errors.push(
                        Diagnostic::new(
                            SemaError::AllowList,
                            n.span.clone(),
                            "ECALL named twice in `allow(...)`",
                        )
                        .found(n.name.clone())
                        .expected("each ECALL once"),
                    ),
                    None => self.errors.push(
                        Diagnostic::new(
                            SemaError::AllowList,
                            n.span.clone(),
                            format!("`allow` names no ECALL in OCALL `{}`", f.name.name),
                        )
                        .found(n.name.clone())
                        .expected("the name of an ECALL declared in a `trusted { }` block"),
                    ),
                }
            }
        }
    }

    fn unique_function_names(&mut self, ecalls: &[ast::Function], ocalls: &[ast::Function]) {
        let mut seen: HashSet<&str> = HashSet::new();
        for f in ecalls.iter().chain(ocalls) {
            if !seen.insert(f.name.name.as_str()) {
                self.err(
                    Diagnostic::new(
                        SemaError::Duplicate,
                        f.name.span.clone(),
                        "duplicate function name",
                    )
                    .found(f.name.name.clone())
                    .expected("a name not already used by an ECALL or OCALL"),
                );
            }
        }
    }
}
