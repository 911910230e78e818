//! Emitting items: EDL structs and enums with their `Wire` encodings, the
//! function tables and the index constants.

use super::*;

impl Gen<'_> {
    pub(super) fn types(&self, out: &mut String) {
        for t in &self.enclave.types {
            match t {
                TypeDef::Enum(e) => enum_def(out, e),
                TypeDef::Struct(c) => {
                    if matches!(self.mappable.get(&c.name), Some(Ok(()))) {
                        self.struct_def(out, c);
                    }
                }
                TypeDef::Union(_) => {}
            }
        }
    }

    fn struct_def(&self, out: &mut String, c: &ir::Compound) {
        doc(out, &format!("EDL `struct {}` ({}).", c.name, loc(&c.span)));
        let name = ident(&c.name);
        out.push_str("#[repr(C)]\n#[derive(Debug, Clone, Copy, PartialEq)]\n#[allow(non_camel_case_types, non_snake_case)]\n");
        let _ = writeln!(out, "pub struct {name} {{");
        let mut sizes = Vec::new();
        for f in &c.fields {
            let ty = self.field_type(&f.ty, &f.dims).unwrap_or_default();
            doc(out, &format!("`{}` ({}).", f.text, loc(&f.span)));
            let _ = writeln!(out, "pub {}: {ty},", ident(&f.name));
            sizes.push(format!("<{ty} as {W}::Wire>::WIRE_SIZE"));
        }
        out.push_str("}\n");
        if sizes.is_empty() {
            sizes.push("0".to_string());
        }
        let _ = writeln!(out, "impl {W}::Wire for {name} {{");
        let _ = writeln!(out, "const WIRE_SIZE: usize = {};", sizes.join(" + "));
        let _ = writeln!(out, "fn encode(&self, enc: &mut {W}::Encoder) {{");
        for f in &c.fields {
            let _ = writeln!(out, "enc.put(&self.{});", ident(&f.name));
        }
        out.push_str("}\n");
        let _ = writeln!(
            out,
            "fn decode(dec: &mut {W}::Decoder<'_>) -> ::core::result::Result<Self, {W}::WireError> {{"
        );
        let _ = writeln!(out, "Ok(Self {{");
        for f in &c.fields {
            let _ = writeln!(out, "{}: dec.get()?,", ident(&f.name));
        }
        out.push_str("})\n}\n");
        out.push_str("fn zeroed() -> Self {\nSelf {\n");
        for f in &c.fields {
            let _ = writeln!(out, "{}: {W}::Wire::zeroed(),", ident(&f.name));
        }
        out.push_str("}\n}\n}\n");
    }
}

fn enum_def(out: &mut String, e: &ir::EnumDef) {
    match &e.name {
        None => {
            for (n, v) in &e.variants {
                doc(
                    out,
                    &format!("Enumerator of an anonymous EDL `enum` ({}).", loc(&e.span)),
                );
                let _ = writeln!(
                    out,
                    "#[allow(non_upper_case_globals)]\npub const {}: i32 = {v};",
                    ident(n)
                );
            }
        }
        Some(name) => {
            let id = ident(name);
            doc(
                out,
                &format!(
                    "EDL `enum {name}` ({}): a C `int`; any value may arrive.",
                    loc(&e.span)
                ),
            );
            out.push_str("#[repr(transparent)]\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]\n#[allow(non_camel_case_types)]\n");
            let _ = writeln!(out, "pub struct {id}(pub i32);");
            let _ = writeln!(out, "#[allow(non_upper_case_globals)]\nimpl {id} {{");
            for (n, v) in &e.variants {
                doc(out, &format!("`{n} = {v}`."));
                let _ = writeln!(out, "pub const {}: {id} = {id}({v});", ident(n));
            }
            out.push_str("}\n");
            let _ = writeln!(out, "impl {W}::Wire for {id} {{");
            out.push_str("const WIRE_SIZE: usize = 4;\n");
            let _ = writeln!(
                out,
                "fn encode(&self, enc: &mut {W}::Encoder) {{ enc.put(&self.0); }}"
            );
            let _ = writeln!(
                out,
                "fn decode(dec: &mut {W}::Decoder<'_>) -> ::core::result::Result<Self, {W}::WireError> {{ Ok(Self(dec.get()?)) }}"
            );
            out.push_str("fn zeroed() -> Self { Self(0) }\n}\n");
        }
    }
}

pub(super) fn tables(out: &mut String, e: &Enclave) {
    doc(
        out,
        "ECALLs by index (declaration order, imports included).",
    );
    let _ = writeln!(out, "pub const ECALLS: &[{W}::EcallInfo] = &[");
    for f in &e.ecalls {
        let _ = writeln!(
            out,
            "{W}::EcallInfo {{ name: {}, public: {}, switchless: {} }},",
            lit(&f.name),
            f.public,
            f.switchless
        );
    }
    out.push_str("];\n");
    doc(
        out,
        "OCALLs by index (declaration order, imports included).",
    );
    let _ = writeln!(out, "pub const OCALLS: &[{W}::OcallInfo] = &[");
    for f in &e.ocalls {
        let allow: Vec<String> = f.allow.iter().map(u32::to_string).collect();
        let _ = writeln!(
            out,
            "{W}::OcallInfo {{ name: {}, allow: &[{}], propagate_errno: {}, switchless: {} }},",
            lit(&f.name),
            allow.join(", "),
            f.propagate_errno,
            f.switchless
        );
    }
    out.push_str("];\n");
    for (m, list, what) in [
        ("ecall_index", &e.ecalls, "ECALL"),
        ("ocall_index", &e.ocalls, "OCALL"),
    ] {
        doc(out, &format!("The stable index of each {what}."));
        let _ = writeln!(out, "pub mod {m} {{\n#![allow(non_upper_case_globals)]");
        for f in list {
            doc(out, &format!("`{}` ({}).", f.name, loc(&f.span)));
            let _ = writeln!(out, "pub const {}: u32 = {};", ident(&f.name), f.index);
        }
        out.push_str("}\n");
    }
}
