//! Emitting calls: the callee trait, the typed proxies (caller side) and the
//! dispatcher (callee side) for ECALLs or OCALLs.

use super::*;

/// Rust parameter list (without `self`), lengths folded.
fn signature(fp: &FnPlan<'_>) -> String {
    let mut s = Vec::new();
    for p in &fp.params {
        let t = match &p.kind {
            Kind::Length(_) => continue,
            Kind::Value(t) => t.clone(),
            Kind::Ref(t, Direction::In) | Kind::Array(t, Direction::In) => format!("&{t}"),
            Kind::Ref(t, _) | Kind::Array(t, _) => format!("&mut {t}"),
            Kind::Slice {
                elem,
                dir: Direction::In,
                ..
            } => format!("&[{elem}]"),
            Kind::Slice { elem, .. } => format!("&mut [{elem}]"),
            Kind::Str(Direction::In) => "&str".to_string(),
            Kind::Str(_) => "&mut [u8]".to_string(),
        };
        s.push(format!("{}: {t}", p.name));
    }
    s.join(", ")
}

fn ret_type(fp: &FnPlan<'_>) -> String {
    let r = fp.ret.clone().unwrap_or_else(|| "()".to_string());
    if fp.f.propagate_errno {
        format!("{W}::WithErrno<{r}>")
    } else {
        r
    }
}

fn fn_doc(out: &mut String, fp: &FnPlan<'_>, kind: &str) {
    doc(
        out,
        &format!(
            "{kind} {} `{}` ({}).",
            fp.f.index,
            fp.f.decl,
            loc(&fp.f.span)
        ),
    );
}

pub(super) fn callee_trait(out: &mut String, name: &str, fns: &[FnPlan<'_>], trusted: bool) {
    if trusted {
        doc(
            out,
            "The enclave's ECALLs: implement this trait inside the enclave. Each method gets an `OcallProxy` to call out.",
        );
    } else {
        doc(out, "The host's OCALLs: implement this trait in the host.");
    }
    let _ = writeln!(out, "pub trait {name} {{");
    for fp in fns {
        fn_doc(out, fp, if trusted { "ECALL" } else { "OCALL" });
        let ctx = if !trusted {
            String::new()
        } else if fp.f.params.iter().any(|p| p.name == "ocalls") {
            "ocalls_proxy: &OcallProxy<'_>, ".to_string()
        } else {
            "ocalls: &OcallProxy<'_>, ".to_string()
        };
        let ret = ret_type(fp);
        let ret = if ret == "()" {
            String::new()
        } else {
            format!(" -> {ret}")
        };
        let _ = writeln!(
            out,
            "#[allow(clippy::too_many_arguments, non_snake_case)]\nfn {}(&self, {ctx}{}){ret};",
            ident(&fp.f.name),
            signature(fp)
        );
    }
    out.push_str("}\n");
}

fn elem_size(elem: &str) -> String {
    format!("::core::mem::size_of::<{elem}>()")
}

pub(super) fn proxy(
    out: &mut String,
    name: &str,
    transport: &str,
    method: &str,
    fns: &[FnPlan<'_>],
) {
    let what = if method == "ecall" { "ECALL" } else { "OCALL" };
    doc(out, &format!("Typed {what} proxies over a `{transport}`."));
    let _ = writeln!(
        out,
        "#[derive(Clone, Copy)]\npub struct {name}<'a> {{\ntransport: &'a dyn {W}::{transport},\nlimits: {W}::Limits,\n}}"
    );
    let _ = writeln!(
        out,
        "impl ::core::fmt::Debug for {name}<'_> {{\nfn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{ f.debug_struct({}).field(\"limits\", &self.limits).finish_non_exhaustive() }}\n}}",
        lit(name)
    );
    let _ = writeln!(out, "impl<'a> {name}<'a> {{");
    doc(
        out,
        "Proxies over `transport`; replies are decoded under `limits`.",
    );
    let _ = writeln!(
        out,
        "pub fn new(transport: &'a dyn {W}::{transport}, limits: {W}::Limits) -> Self {{ Self {{ transport, limits }} }}"
    );
    for fp in fns {
        proxy_method(out, fp, method, what);
    }
    out.push_str("}\n");
}

/// `&*` to reborrow a `&mut` argument as shared; nothing for a `&`.
fn reborrow(d: Direction) -> &'static str {
    if d == Direction::In { "" } else { "&*" }
}

fn proxy_method(out: &mut String, fp: &FnPlan<'_>, method: &str, what: &str) {
    let f = fp.f;
    fn_doc(out, fp, what);
    let sig = signature(fp);
    let _ = writeln!(
        out,
        "#[allow(clippy::too_many_arguments, non_snake_case, unused_mut)]\npub fn {}(&self, {sig}) -> ::core::result::Result<{}, {W}::BridgeError> {{",
        ident(&f.name),
        ret_type(fp)
    );
    // Lengths: derive each folded length parameter from the buffers naming it.
    for (i, p) in fp.params.iter().enumerate() {
        if let Kind::Length(lt) = &p.kind {
            let mut first = true;
            for q in &fp.params {
                if let Kind::Slice {
                    elem,
                    len: Len::Param(j),
                    is_size,
                    ..
                } = &q.kind
                {
                    if *j != i {
                        continue;
                    }
                    if first {
                        let _ = writeln!(
                            out,
                            "let {}: {lt} = {W}::length_value({}.len(), {}, {is_size})?;",
                            p.len_local,
                            q.name,
                            elem_size(elem)
                        );
                        first = false;
                    } else {
                        let _ = writeln!(
                            out,
                            "{W}::same_length({W}::element_count({}, {}, {is_size})?, {}.len())?;",
                            p.len_local,
                            elem_size(elem),
                            q.name
                        );
                    }
                }
            }
        }
    }
    for q in &fp.params {
        if let Kind::Slice {
            elem,
            len: Len::Const(c),
            is_size,
            ..
        } = &q.kind
        {
            let _ = writeln!(
                out,
                "{W}::same_length({W}::element_count({c}u64, {}, {is_size})?, {}.len())?;",
                elem_size(elem),
                q.name
            );
        }
    }
    let _ = writeln!(out, "let mut __shield_enc = {W}::Encoder::new();");
    for p in &fp.params {
        match &p.kind {
            Kind::Value(_) => {
                let _ = writeln!(out, "__shield_enc.put(&{});", p.name);
            }
            Kind::Length(_) => {
                let _ = writeln!(out, "__shield_enc.put(&{});", p.len_local);
            }
            _ => {}
        }
    }
    for p in &fp.params {
        match &p.kind {
            Kind::Ref(_, d) | Kind::Array(_, d) if *d != Direction::Out => {
                let _ = writeln!(out, "__shield_enc.put({}{});", reborrow(*d), p.name);
            }
            Kind::Slice { dir, .. } if *dir != Direction::Out => {
                let _ = writeln!(out, "__shield_enc.slice({}{});", reborrow(*dir), p.name);
            }
            Kind::Str(Direction::In) => {
                let _ = writeln!(out, "__shield_enc.str({})?;", p.name);
            }
            Kind::Str(_) => {
                let _ = writeln!(out, "__shield_enc.byte_string(&*{})?;", p.name);
            }
            _ => {}
        }
    }
    let _ = writeln!(
        out,
        "let __shield_reply = self.transport.{method}({}, &__shield_enc.finish())?;",
        f.index
    );
    let _ = writeln!(
        out,
        "let mut __shield_dec = {W}::Decoder::new(&__shield_reply, self.limits)?;"
    );
    if fp.ret.is_some() {
        let _ = writeln!(out, "let __shield_ret = __shield_dec.get()?;");
    }
    if f.propagate_errno {
        let _ = writeln!(out, "let __shield_errno: i32 = __shield_dec.get()?;");
    }
    for p in &fp.params {
        match &p.kind {
            Kind::Ref(_, d) | Kind::Array(_, d) if *d != Direction::In => {
                let _ = writeln!(out, "*{} = __shield_dec.get()?;", p.name);
            }
            Kind::Slice { dir, .. } if *dir != Direction::In => {
                let _ = writeln!(out, "__shield_dec.fill({})?;", p.name);
            }
            Kind::Str(Direction::InOut) => {
                let _ = writeln!(out, "__shield_dec.fill({})?;", p.name);
            }
            _ => {}
        }
    }
    out.push_str("__shield_dec.finish()?;\n");
    let value = if fp.ret.is_some() {
        "__shield_ret"
    } else {
        "()"
    };
    if f.propagate_errno {
        let _ = writeln!(
            out,
            "Ok({W}::WithErrno {{ value: {value}, errno: __shield_errno }})"
        );
    } else {
        let _ = writeln!(out, "Ok({value})");
    }
    out.push_str("}\n");
}

pub(super) fn dispatcher(
    out: &mut String,
    name: &str,
    trait_name: &str,
    fns: &[FnPlan<'_>],
    trusted: bool,
) {
    if trusted {
        doc(
            out,
            "Runs ECALL `index` on `imp`. `request` must be the enclave's own copy of the message (never a view of host-writable memory). `caller` says whether this is a top-level call or one made from inside an OCALL; private ECALLs and ECALLs missing from that OCALL's `allow` list are refused. OCALLs made by `imp` go through `ocall`. The reply is encoded as the module `shield_edl::wire` documents.",
        );
        let _ = writeln!(
            out,
            "#[allow(unused_mut, unused_variables, clippy::match_single_binding)]\npub fn {name}<I: {trait_name} + ?Sized>(imp: &I, ocall: &dyn {W}::OcallTransport, caller: {W}::Caller, index: u32, request: &[u8], limits: {W}::Limits) -> ::core::result::Result<::std::vec::Vec<u8>, {W}::BridgeError> {{"
        );
        let _ = writeln!(
            out,
            "{W}::check_ecall_allowed(ECALLS, OCALLS, caller, index)?;"
        );
        let _ = writeln!(out, "let ocalls = OcallProxy::new(ocall, limits);");
    } else {
        doc(
            out,
            "Runs OCALL `index` on `imp`. `request` must be the host's own copy of the message. The reply is encoded as the module `shield_edl::wire` documents.",
        );
        let _ = writeln!(
            out,
            "#[allow(unused_mut, unused_variables, clippy::match_single_binding)]\npub fn {name}<I: {trait_name} + ?Sized>(imp: &I, index: u32, request: &[u8], limits: {W}::Limits) -> ::core::result::Result<::std::vec::Vec<u8>, {W}::BridgeError> {{"
        );
    }
    let _ = writeln!(
        out,
        "let mut __shield_dec = {W}::Decoder::new(request, limits)?;"
    );
    out.push_str("match index {\n");
    for fp in fns {
        let _ = writeln!(out, "{} => {{", fp.f.index);
        dispatch_arm(out, fp, trusted);
        out.push_str("}\n");
    }
    let _ = writeln!(out, "_ => Err({W}::BridgeError::UnknownFunction(index)),");
    out.push_str("}\n}\n");
}

fn dispatch_arm(out: &mut String, fp: &FnPlan<'_>, trusted: bool) {
    for p in &fp.params {
        if let Kind::Value(t) | Kind::Length(t) = &p.kind {
            let _ = writeln!(out, "let {}: {t} = __shield_dec.get()?;", p.local);
        }
    }
    for p in &fp.params {
        let mutable = |d: &Direction| if *d == Direction::In { "" } else { "mut " };
        match &p.kind {
            Kind::Ref(t, d) | Kind::Array(t, d) => {
                if *d == Direction::Out {
                    let _ = writeln!(
                        out,
                        "let mut {}: {t} = <{t} as {W}::Wire>::zeroed();",
                        p.local
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "let {}{}: {t} = __shield_dec.get()?;",
                        mutable(d),
                        p.local
                    );
                }
            }
            Kind::Slice {
                elem,
                dir,
                len,
                is_size,
            } => {
                let len_expr = match len {
                    Len::Const(c) => format!("{c}u64"),
                    Len::Param(j) => fp
                        .params
                        .get(*j)
                        .map(|q| q.local.clone())
                        .unwrap_or_else(|| "0u64".to_string()),
                };
                let n = format!("__shield_n_{}", p.local);
                let _ = writeln!(
                    out,
                    "let {n} = {W}::element_count({len_expr}, {}, {is_size})?;",
                    elem_size(elem)
                );
                if *dir == Direction::Out {
                    let _ = writeln!(
                        out,
                        "let mut {}: ::std::vec::Vec<{elem}> = __shield_dec.zeroed_vec({n})?;",
                        p.local
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "let {}{}: ::std::vec::Vec<{elem}> = __shield_dec.vec({n})?;",
                        mutable(dir),
                        p.local
                    );
                }
            }
            Kind::Str(Direction::In) => {
                let _ = writeln!(
                    out,
                    "let {}: ::std::string::String = __shield_dec.string()?;",
                    p.local
                );
            }
            Kind::Str(_) => {
                let _ = writeln!(
                    out,
                    "let mut {}: ::std::vec::Vec<u8> = __shield_dec.byte_string()?;",
                    p.local
                );
            }
            Kind::Value(_) | Kind::Length(_) => {}
        }
    }
    out.push_str("__shield_dec.finish()?;\n");
    let mut args = Vec::new();
    if trusted {
        args.push("&ocalls".to_string());
    }
    for p in &fp.params {
        let a = match &p.kind {
            Kind::Length(_) => continue,
            Kind::Value(_) => p.local.clone(),
            Kind::Ref(_, Direction::In) | Kind::Array(_, Direction::In) => format!("&{}", p.local),
            Kind::Ref(..) | Kind::Array(..) => format!("&mut {}", p.local),
            Kind::Slice {
                dir: Direction::In, ..
            }
            | Kind::Str(Direction::In) => format!("&{}", p.local),
            Kind::Slice { .. } | Kind::Str(_) => format!("&mut {}", p.local),
        };
        args.push(a);
    }
    let bind = if fp.ret.is_some() || fp.f.propagate_errno {
        "let __shield_ret = "
    } else {
        ""
    };
    let _ = writeln!(out, "{bind}imp.{}({});", ident(&fp.f.name), args.join(", "));
    let _ = writeln!(out, "let mut __shield_enc = {W}::Encoder::new();");
    match (fp.ret.is_some(), fp.f.propagate_errno) {
        (true, true) => out.push_str(
            "__shield_enc.put(&__shield_ret.value);\n__shield_enc.put(&__shield_ret.errno);\n",
        ),
        (false, true) => out.push_str("__shield_enc.put(&__shield_ret.errno);\n"),
        (true, false) => out.push_str("__shield_enc.put(&__shield_ret);\n"),
        (false, false) => {}
    }
    for p in &fp.params {
        match &p.kind {
            Kind::Ref(_, d) | Kind::Array(_, d) if *d != Direction::In => {
                let _ = writeln!(out, "__shield_enc.put(&{});", p.local);
            }
            Kind::Slice { dir, .. } if *dir != Direction::In => {
                let _ = writeln!(out, "__shield_enc.slice(&{});", p.local);
            }
            Kind::Str(Direction::InOut) => {
                let _ = writeln!(out, "__shield_enc.slice(&{});", p.local);
            }
            _ => {}
        }
    }
    out.push_str("Ok(__shield_enc.finish())\n");
}
