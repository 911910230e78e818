//! Mapping EDL to Rust: which EDL types have a safe Rust form, and how
//! each parameter crosses (value, folded length, reference, slice, array or
//! string). Refusals become diagnostics.

use super::*;

impl Gen<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    /// EDL type and constant names must not clash with the generated items
    /// or with Rust names the generated code relies on.
    pub(super) fn reserved_names(&mut self) {
        const RESERVED: &[&str] = &[
            "ECALLS",
            "OCALLS",
            "Ecalls",
            "Ocalls",
            "EcallProxy",
            "OcallProxy",
            "dispatch_ecall",
            "dispatch_ocall",
            "ecall_index",
            "ocall_index",
            "__shield_wire",
            "i8",
            "u8",
            "i16",
            "u16",
            "i32",
            "u32",
            "i64",
            "u64",
            "i128",
            "u128",
            "isize",
            "usize",
            "f32",
            "f64",
            "bool",
            "char",
            "str",
            "Ok",
            "Err",
            "Some",
            "None",
            "Self",
        ];
        let mut names: Vec<(&str, &crate::diagnostic::Span)> = Vec::new();
        for t in &self.enclave.types {
            match t {
                TypeDef::Struct(c) | TypeDef::Union(c) => names.push((&c.name, &c.span)),
                TypeDef::Enum(e) => {
                    if let Some(n) = &e.name {
                        names.push((n, &e.span));
                    } else {
                        names.extend(e.variants.iter().map(|(v, _)| (v.as_str(), &e.span)));
                    }
                }
            }
        }
        for (name, span) in names {
            if RESERVED.contains(&name) {
                self.err(
                    Diagnostic::new(
                        MapError::ReservedName,
                        span.clone(),
                        format!("the name `{name}` is used by the generated Rust code"),
                    )
                    .found(name)
                    .expected("another name for this EDL type or constant"),
                );
            }
        }
    }

    pub(super) fn classify_types(&mut self) {
        // Iterate to a fixed point: a struct is plain when all its fields are.
        for t in &self.enclave.types {
            match t {
                TypeDef::Enum(e) => {
                    if let Some(n) = &e.name {
                        self.mappable.insert(n.clone(), Ok(()));
                    }
                }
                TypeDef::Union(c) => {
                    self.mappable.insert(
                        c.name.clone(),
                        Err(format!(
                            "union `{}` cannot be read safely (which member is live is not known); declare a struct, or a `uint8_t` array of its size",
                            c.name
                        )),
                    );
                }
                TypeDef::Struct(_) => {}
            }
        }
        for _ in 0..=crate::sema::MAX_TYPE_DEPTH + 1 {
            for t in &self.enclave.types {
                if let TypeDef::Struct(c) = t {
                    let mut verdict = Ok(());
                    let mut bytes: u64 = 0;
                    for f in &c.fields {
                        if let Err(why) = self.field_type(&f.ty, &f.dims) {
                            verdict =
                                Err(format!("struct `{}` member `{}`: {why}", c.name, f.name));
                            break;
                        }
                        let mut b = self.size_of(&f.ty);
                        for d in &f.dims {
                            if let ArrayLen::Const(n) = d {
                                b = b.saturating_mul(*n);
                            }
                        }
                        bytes = bytes.saturating_add(b);
                    }
                    if verdict.is_ok() && bytes > MAX_VALUE_BYTES {
                        verdict = Err(format!(
                            "struct `{}` is larger than {MAX_VALUE_BYTES} bytes and would be built on the stack; pass its parts separately or through pointers with `count=`",
                            c.name
                        ));
                    }
                    self.sizes.insert(c.name.clone(), bytes);
                    self.mappable.insert(c.name.clone(), verdict);
                }
            }
        }
    }

    /// Approximate size in bytes of one value of `ty` (no padding).
    fn size_of(&self, ty: &Type) -> u64 {
        match ty {
            Type::Prim(p) => match prim(*p) {
                "i8" | "u8" => 1,
                "i16" | "u16" => 2,
                "i32" | "u32" | "f32" => 4,
                _ => 8,
            },
            Type::Enum(_) => 4,
            Type::Struct(n) => self.sizes.get(n).copied().unwrap_or(u64::MAX),
            _ => 8,
        }
    }

    /// The Rust type of a value of EDL type `ty` with `dims`.
    pub(super) fn field_type(&self, ty: &Type, dims: &[ArrayLen]) -> Result<String, String> {
        let mut s = self.value_type(ty)?;
        let mut bytes = self.size_of(ty);
        for d in dims.iter().rev() {
            match d {
                ArrayLen::Const(n) => {
                    bytes = bytes.saturating_mul(*n);
                    if bytes > MAX_VALUE_BYTES {
                        return Err(format!(
                            "a fixed array of more than {MAX_VALUE_BYTES} bytes would be built on the stack; use a pointer with `count=`"
                        ));
                    }
                    s = format!("[{s}; {n}]");
                }
                ArrayLen::Foreign(n) => {
                    return Err(format!(
                        "array size `{n}` is known only from a C header; use a number or an EDL enumerator"
                    ));
                }
            }
        }
        Ok(s)
    }

    fn value_type(&self, ty: &Type) -> Result<String, String> {
        match ty {
            Type::Prim(p) => Ok(prim(*p).to_string()),
            Type::Enum(n) | Type::Struct(n) | Type::Union(n) => match self.mappable.get(n) {
                Some(Ok(())) => Ok(ident(n)),
                Some(Err(why)) => Err(why.clone()),
                None => Err(format!("type `{n}` is not mappable")),
            },
            Type::Foreign(n) => Err(format!(
                "type `{n}` is known only from a C header, so its layout is unknown to Shield; define it in the EDL (struct/enum) or use a fixed-width integer such as `uint32_t`"
            )),
            Type::Pointer { .. } => Err(
                "a raw pointer would cross the boundary; use an `[in]`/`[out]` parameter with `size=`/`count=` instead".to_string(),
            ),
            Type::Void => Err("`void` has no values".to_string()),
        }
    }

    fn refuse(&mut self, p: &ir::Param, why: &str, expected: &str) {
        self.err(
            Diagnostic::new(
                MapError::Unmappable,
                p.span.clone(),
                format!("cannot map `{}` to safe Rust: {why}", p.name),
            )
            .found(p.text.clone())
            .expected(expected),
        );
    }

    pub(super) fn plan<'f>(&mut self, f: &'f ir::Function) -> FnPlan<'f> {
        let mut len_params = vec![false; f.params.len()];
        for p in &f.params {
            if p.attrs.dir == Direction::None {
                continue;
            }
            for l in [p.attrs.size, p.attrs.count].into_iter().flatten() {
                if let Len::Param(i) = l {
                    len_params[i] = true;
                }
            }
        }
        let mut params = Vec::new();
        for (i, p) in f.params.iter().enumerate() {
            let a = &p.attrs;
            let name = ident(&p.name);
            let local = format!("a_{}", bare(&p.name));
            if a.user_check {
                self.refuse(
                    p,
                    "`[user_check]` passes a raw pointer, and no raw pointer crosses the Shield boundary",
                    "`[in]`, `[out]` or `[in, out]` with `size=`/`count=`, so the data is copied",
                );
                continue;
            }
            if a.isptr || a.isary {
                self.refuse(
                    p,
                    "`isptr`/`isary` name a pointer or array type from a C header, whose layout Shield cannot see",
                    "a pointer to an EDL type or fixed-width integer (`[in, count=n] const uint8_t* p`) or an array `T p[N]`",
                );
                continue;
            }
            let kind = if a.dir == Direction::None {
                if !p.dims.is_empty() {
                    self.refuse(
                        p,
                        "an array without a direction",
                        "`[in]`, `[out]` or `[in, out]`",
                    );
                    continue;
                }
                match self.value_type(&p.ty) {
                    Ok(t) if len_params[i] => Kind::Length(t),
                    Ok(t) => Kind::Value(t),
                    Err(why) => {
                        self.refuse(
                            p,
                            &why,
                            "a scalar, an EDL enum or an EDL struct of plain fields",
                        );
                        continue;
                    }
                }
            } else if !p.dims.is_empty() {
                match self.field_type(&p.ty, &p.dims) {
                    Ok(t) => Kind::Array(t, a.dir),
                    Err(why) => {
                        self.refuse(
                            p,
                            &why,
                            "an array of scalars or plain EDL types with a numeric size",
                        );
                        continue;
                    }
                }
            } else {
                let Type::Pointer { to, .. } = &p.ty else {
                    self.refuse(p, "a direction on a value", "a pointer");
                    continue;
                };
                if a.string || a.wstring {
                    if a.wstring && a.dir == Direction::InOut {
                        self.refuse(
                            p,
                            "`[in, out, wstring]` has no safe mapping",
                            "`[in, wstring]` (a `&str`) or `[in, out, count=n] wchar_t*`",
                        );
                        continue;
                    }
                    Kind::Str(a.dir)
                } else {
                    let elem = if **to == Type::Void {
                        Ok("u8".to_string())
                    } else {
                        self.value_type(to)
                    };
                    let elem = match elem {
                        Ok(e) => e,
                        Err(why) => {
                            self.refuse(
                                p,
                                &format!("its element type cannot cross: {why}"),
                                "a pointer to a scalar or to a plain EDL struct",
                            );
                            continue;
                        }
                    };
                    match (a.size, a.count) {
                        (None, None) => Kind::Ref(elem, a.dir),
                        (Some(len), None) => Kind::Slice {
                            elem,
                            dir: a.dir,
                            len,
                            is_size: true,
                        },
                        (None, Some(len)) => Kind::Slice {
                            elem,
                            dir: a.dir,
                            len,
                            is_size: false,
                        },
                        (Some(_), Some(_)) => {
                            self.refuse(
                                p,
                                "`size=` and `count=` together are not supported by the Rust mapping",
                                "`count=n` alone (elements) or `size=n` alone (bytes)",
                            );
                            continue;
                        }
                    }
                }
            };
            let len_local = format!("__shield_len_{}", bare(&p.name));
            params.push(Plan {
                name,
                local,
                len_local,
                kind,
            });
        }
        let ret = match &f.ret {
            Type::Void => None,
            t => match self.value_type(t) {
                Ok(r) => Some(r),
                Err(why) => {
                    self.err(
                        Diagnostic::new(MapError::Unmappable, f.span.clone(), format!("cannot map the return type of `{}` to safe Rust: {why}", f.name))
                            .found(f.decl.clone())
                            .expected("`void`, a scalar, an EDL enum or a plain EDL struct (return data through `[out]` parameters)"),
                    );
                    None
                }
            },
        };
        // Only folded (length) parameters are kept separate from the plan
        // index, so plans line up with params when no error occurred.
        FnPlan { f, params, ret }
    }
}
