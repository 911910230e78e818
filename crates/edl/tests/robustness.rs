//! No input makes the compiler panic, and its bounds hold: file size,
//! import depth, type nesting. Also the `Builder` API.

use std::path::PathBuf;

use proptest::prelude::*;
use shield_edl::{Builder, Error, Side, check, check_str};

const WORDS: &[&str] = &[
    "enclave",
    "trusted",
    "untrusted",
    "public",
    "struct",
    "union",
    "enum",
    "include",
    "from",
    "import",
    "allow",
    "propagate_errno",
    "transition_using_threads",
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
    "sizefunc",
    "const",
    "void",
    "char",
    "int",
    "long",
    "unsigned",
    "size_t",
    "uint8_t",
    "wchar_t",
    "float",
    "x",
    "n",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    "*",
    "=",
    "-",
    "0",
    "4",
    "0x10",
    "\"a.h\"",
    "//c\n",
    "/*c*/",
    "#",
    "\n",
];

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shield-edl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(words in proptest::collection::vec(0..WORDS.len(), 0..80)) {
        let text: Vec<&str> = words.iter().map(|i| WORDS[*i]).collect();
        let text = text.join(" ");
        if let Ok(e) = check_str("soup.edl", &text) {
            for side in [Side::Trusted, Side::Untrusted] {
                let r = shield_edl::codegen::generate(&e, side);
                prop_assert!(!matches!(r, Err(shield_edl::codegen::CodegenError::Internal(_))), "{:?}", r.err());
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = check_str("any.edl", &text);
    }

    #[test]
    fn functions_with_random_params_generate_valid_rust(
        params in proptest::collection::vec((0..6usize, 0..8usize), 0..6)
    ) {
        // Build `public void f(...)` from a menu of mappable parameters.
        let types = ["int8_t", "uint16_t", "int", "size_t", "double", "struct p"];
        let mut decl = Vec::new();
        for (i, (t, shape)) in params.iter().enumerate() {
            let ty = types[*t];
            decl.push(match shape {
                0 => format!("{ty} v{i}"),
                1 => format!("[in] const {ty}* v{i}"),
                2 => format!("[out] {ty}* v{i}"),
                3 => format!("[in, out, count=n{i}] {ty}* v{i}, size_t n{i}"),
                4 => format!("[in] {ty} v{i}[3][2]"),
                5 => format!("[out, count=n{i}] {ty}* v{i}, uint32_t n{i}"),
                6 => format!("[in, string] const char* v{i}"),
                _ => format!("[in, size=n{i}] const void* v{i}, int n{i}"),
            });
        }
        let edl = format!(
            "enclave {{ struct p {{ int a; double b[2]; }}; trusted {{ public {} f({}); }}; untrusted {{ int o({}) propagate_errno; }}; }};",
            "int", decl.join(", "), decl.join(", ")
        );
        let e = check_str("gen.edl", &edl).map_err(|e| TestCaseError::fail(format!("{e}\n{edl}")))?;
        for side in [Side::Trusted, Side::Untrusted] {
            let code = shield_edl::codegen::generate(&e, side)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{edl}")))?;
            prop_assert!(code.contains("pub fn"));
        }
    }
}

#[test]
fn oversized_files_are_refused() {
    let d = temp_dir("big");
    let f = d.join("big.edl");
    let mut text = String::from("enclave { trusted { public void f(void); }; };\n");
    text.push_str(&"//".repeat(600_000));
    std::fs::write(&f, text).unwrap();
    let e = check(&f, &[]).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
}

#[test]
fn import_depth_is_bounded() {
    let d = temp_dir("deep");
    for i in 0..40 {
        let body = if i < 39 {
            format!(
                "enclave {{ from \"f{}.edl\" import *; trusted {{ public void e{i}(void); }}; }};",
                i + 1
            )
        } else {
            "enclave { trusted { public void last(void); }; };".to_string()
        };
        std::fs::write(d.join(format!("f{i}.edl")), body).unwrap();
    }
    let e = check(d.join("f0.edl"), &[]).unwrap_err();
    assert!(e.to_string().contains("imports nested too deeply"), "{e}");
    // A chain within the bound works, and imported ECALLs get indices.
    let ok = check(d.join("f30.edl"), &[]).unwrap();
    assert_eq!(ok.ecalls.len(), 10);
    assert_eq!(ok.ecalls[0].name, "last");
}

#[test]
fn deeply_nested_types_are_bounded() {
    let mut text = String::from("enclave { struct s0 { int x; };\n");
    for i in 1..60 {
        text.push_str(&format!("struct s{i} {{ struct s{} inner; }};\n", i - 1));
    }
    text.push_str("trusted { public void f(struct s59 v); }; };");
    let e = check_str("nest.edl", &text).unwrap_err();
    assert!(e.to_string().contains("nested too deeply"), "{e}");
}

#[test]
fn missing_root_file_is_an_io_error() {
    let e = check("/nonexistent/shield.edl", &[]).unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
}

#[test]
fn builder_writes_the_file() {
    let d = temp_dir("builder");
    let out = d.join("hello_u.rs");
    let path = Builder::new("tests/corpus/pos/imports.edl")
        .search_path("tests/corpus/include")
        .side(Side::Untrusted)
        .out_file(&out)
        .emit_rerun_if_changed(false)
        .generate()
        .unwrap();
    assert_eq!(path, out);
    let code = std::fs::read_to_string(&out).unwrap();
    assert!(code.starts_with("// generated by shield-edl from tests/corpus/pos/imports.edl"));
    // Imported functions are part of the interface, in declaration order.
    assert!(code.contains("pub fn ecall_dot"));
    assert!(code.contains("pub fn ecall_main"));
    assert!(code.contains("fn ocall_common"));
    let err = Builder::new("tests/corpus/pos/imports.edl")
        .out_file(d.join("x.rs"))
        .emit_rerun_if_changed(false)
        .generate()
        .unwrap_err();
    assert!(
        err.to_string().contains("imported EDL file not found"),
        "{err}"
    );
}

#[test]
fn type_lattices_are_checked_in_linear_time() {
    // Each level holds two members of each type of the level below: a naive
    // walk would take 2^33 steps (33 levels: the deepest nesting allowed).
    let mut text = String::from("enclave { struct a0 { int x; }; struct b0 { int y; };\n");
    for i in 1..33 {
        let p = i - 1;
        text.push_str(&format!(
            "struct a{i} {{ struct a{p} l; struct b{p} r; }}; struct b{i} {{ struct a{p} l; struct b{p} r; }};\n"
        ));
    }
    text.push_str("trusted { public void f(struct a10 v); }; };");
    let e = check_str("lattice.edl", &text).unwrap();
    assert_eq!(e.types.len(), 66);
    // The big ones are too large to pass by value.
    let code = shield_edl::codegen::generate(&e, Side::Trusted).unwrap();
    assert!(code.contains("pub struct a10"));
    assert!(!code.contains("pub struct a29"));
}

#[test]
fn diagnostics_carry_their_layer_and_kind() {
    use shield_edl::diagnostic::ErrorKind;
    use shield_edl::lexer::LexError;
    use shield_edl::loader::ImportError;
    use shield_edl::parser::ParseError;
    use shield_edl::sema::SemaError;
    let kind = |text: &str| check_str("k.edl", text).unwrap_err().diagnostics()[0].kind;
    assert_eq!(
        kind("#define X\nenclave {};"),
        ErrorKind::Lex(LexError::Preprocessor)
    );
    assert_eq!(
        kind("enclave { trusted };"),
        ErrorKind::Parse(ParseError::Syntax)
    );
    assert_eq!(
        kind("enclave { from \"x.edl\" import *; };"),
        ErrorKind::Import(ImportError::NotAvailable)
    );
    assert_eq!(
        kind("enclave { trusted { public void f([sizefunc=g, in] char* p); }; };"),
        ErrorKind::Semantic(SemaError::RemovedAttribute)
    );
    assert_eq!(
        kind("enclave { trusted { public void f(int* p); }; };"),
        ErrorKind::Semantic(SemaError::MissingDirection)
    );
}
