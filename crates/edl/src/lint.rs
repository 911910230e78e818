//! Warnings: declarations that are valid and have a Rust mapping, but
//! probably do not mean what their author meant.

use crate::diagnostic::Span;
use crate::ir::{Direction, Enclave, Function, Len, Prim, Type};

/// A likely mistake in a valid EDL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where: the parameter concerned.
    pub span: Span,
    /// What is suspicious, and what was probably meant.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: warning: {}", self.span, self.message)
    }
}

/// The warnings for a checked enclave, in declaration order.
pub fn warnings(enclave: &Enclave) -> Vec<Warning> {
    enclave
        .ecalls
        .iter()
        .chain(&enclave.ocalls)
        .flat_map(sizeless_buffer_beside_a_length)
        .collect()
}

/// A pointer with a direction but no `size=`/`count=` carries exactly one
/// element (Rust `&T`/`&mut T`). Beside a `size_t` that no buffer uses as
/// its length, it was most likely meant as a buffer of that length when its
/// elements are bytes (`uint8_t`, `char`, `void`) or the `size_t` comes
/// right after it (C's `buf, len`).
fn sizeless_buffer_beside_a_length(f: &Function) -> Vec<Warning> {
    let is_free_length = |i: usize| {
        f.params
            .get(i)
            .is_some_and(|p| p.ty == Type::Prim(Prim::SizeT))
            && !f.params.iter().any(|p| {
                p.attrs.size == Some(Len::Param(i)) || p.attrs.count == Some(Len::Param(i))
            })
    };
    let Some(first_free) = (0..f.params.len()).find(|&i| is_free_length(i)) else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for (i, p) in f.params.iter().enumerate() {
        let Type::Pointer { to, .. } = &p.ty else {
            continue;
        };
        let a = &p.attrs;
        if a.dir == Direction::None
            || a.size.is_some()
            || a.count.is_some()
            || a.string
            || a.wstring
            || !p.dims.is_empty()
        {
            continue;
        }
        let bytes = matches!(
            **to,
            Type::Void | Type::Prim(Prim::U8 | Prim::I8 | Prim::Char | Prim::SChar | Prim::UChar)
        );
        let length = if is_free_length(i + 1) {
            i + 1
        } else if bytes {
            first_free
        } else {
            continue;
        };
        let length = &f.params[length].name;
        let dir = match a.dir {
            Direction::Out => "out",
            Direction::InOut => "in, out",
            _ => "in",
        };
        warnings.push(Warning {
            span: p.span.clone(),
            message: format!(
                "in {}: `{}` has no size= or count=, so it is one element (a Rust \
                 reference, not a slice) although `{length}` (size_t) is beside it; \
                 for a buffer write [{dir}, size={length}] (bytes) or [{dir}, count={length}]",
                f.name, p.name
            ),
        });
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warned(edl: &str) -> Vec<String> {
        let enclave = crate::check_str("t.edl", edl).unwrap_or_else(|e| panic!("{e}"));
        warnings(&enclave).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_sizeless_in_pointer_beside_a_size_t_is_flagged() {
        let w = warned(
            "enclave { trusted { public void f([in] const uint8_t* data, size_t len); }; };",
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("t.edl:1:"), "{w:?}");
        assert!(w[0].contains("[in, size=len]"), "{w:?}");
        let w =
            warned("enclave { trusted { public void f([out] int32_t* v, size_t n, int x); }; };");
        assert!(w.len() == 1 && w[0].contains("[out, size=n]"), "{w:?}");
    }

    #[test]
    fn sized_strings_and_lone_pointers_are_fine() {
        assert!(
            warned(
                "enclave { struct s { int a; }; trusted { public void f([in, size=len] const uint8_t* d, size_t len, \
                 [in, string] const char* s, size_t other_len); \
                 public void g([in] const uint64_t* one); \
                 public void h(size_t z, [in] const int32_t* x, [out] struct s* one); }; };"
            )
            .is_empty()
        );
    }
}
