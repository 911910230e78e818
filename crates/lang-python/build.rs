//! Freezes the pure-Python standard library modules a script may import
//! (the list below, taken from `rustpython-pylib`'s `Lib`) and this crate's
//! own Python modules (`python/`) into one bytecode blob, so the interpreter
//! never reads a module from disk and start-up only decodes what is imported.

use std::path::{Path, PathBuf};

use rustpython_compiler::{CompileOpts, Mode, compile};
use rustpython_compiler_core::frozen::{FrozenCodeObject, FrozenLib, FrozenModule};

/// Standard library modules (files) and packages (folders, whole) frozen
/// into the binary. Left out: everything needing a host (sockets,
/// subprocess, threads, signals, the file system beyond the VFS).
const STDLIB: &[&str] = &[
    "__future__",
    "_collections_abc",
    "_colorize",
    "_compat_pickle",
    "_markupbase",
    "_py_abc",
    "_py_warnings",
    "_pydatetime",
    "_pycodecs",
    "_pydecimal",
    "_pyio",
    "_pylong",
    "_strptime",
    "_threading_local",
    "_weakrefset",
    "abc",
    "annotationlib",
    "argparse",
    "ast",
    "base64",
    "bisect",
    "calendar",
    "codecs",
    "codeop",
    "collections",
    "colorsys",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "dis",
    "encodings",
    "enum",
    "fnmatch",
    "fractions",
    "functools",
    "genericpath",
    "gettext",
    "graphlib",
    "hashlib",
    "heapq",
    "hmac",
    "importlib",
    "inspect",
    "io",
    "json",
    "keyword",
    "linecache",
    "locale",
    "numbers",
    "opcode",
    "_opcode_metadata",
    "operator",
    "pickle",
    "posixpath",
    "pprint",
    "random",
    "re",
    "reprlib",
    "secrets",
    "shlex",
    "sre_compile",
    "sre_constants",
    "sre_parse",
    "stat",
    "statistics",
    "string",
    "stringprep",
    "struct",
    "textwrap",
    "token",
    "tokenize",
    "traceback",
    "types",
    "typing",
    "warnings",
    "weakref",
];

fn main() {
    let lib = Path::new(rustpython_pylib::LIB_PATH);
    // Read when the script runs, not baked in when it compiles: a reused
    // build script must not look where the sources used to be.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let own = Path::new(&manifest_dir).join("python");
    let mut modules: Vec<(String, PathBuf, bool)> = Vec::new();
    for name in STDLIB {
        let file = lib.join(format!("{name}.py"));
        let dir = lib.join(name);
        if file.is_file() {
            modules.push((name.to_string(), file, false));
        } else if dir.join("__init__.py").is_file() {
            collect_package(name, &dir, &mut modules);
        } else {
            panic!(
                "standard library module {name} not found under {}",
                lib.display()
            );
        }
    }
    println!("cargo::rerun-if-changed={}", own.display());
    for entry in std::fs::read_dir(&own).expect("python/ folder") {
        let path = entry.expect("python/ entry").path();
        if path.extension().is_some_and(|e| e == "py") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            println!("cargo::rerun-if-changed={}", path.display());
            modules.push((name, path, false));
        }
    }
    modules.sort();
    let compiled: Vec<(String, FrozenModule<Vec<u8>>)> = modules
        .iter()
        .map(|(name, path, package)| {
            let source = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let shown = if path.starts_with(&own) {
                format!("<shield>/{}", path.file_name().unwrap().to_string_lossy())
            } else {
                format!("<frozen {name}>")
            };
            let code = compile(&source, Mode::Exec, &shown, CompileOpts::default())
                .unwrap_or_else(|e| panic!("compiling {}: {e}", path.display()));
            let module = FrozenModule {
                code: FrozenCodeObject::encode(&code),
                package: *package,
            };
            (name.clone(), module)
        })
        .collect();
    let blob = FrozenLib::encode(compiled.iter().map(|(name, module)| {
        let borrowed = FrozenModule {
            code: FrozenCodeObject {
                bytes: module.code.bytes.as_slice(),
            },
            package: module.package,
        };
        (name.as_str(), borrowed)
    }));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("frozen.bin");
    std::fs::write(&out, &blob.bytes).expect("writing frozen.bin");
}

/// Adds every `.py` file under package `dir` as `name` and its submodules.
fn collect_package(name: &str, dir: &Path, modules: &mut Vec<(String, PathBuf, bool)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if path.join("__init__.py").is_file() {
                collect_package(&format!("{name}.{stem}"), &path, modules);
            }
        } else if path.extension().is_some_and(|e| e == "py") {
            if stem == "__init__" {
                modules.push((name.to_owned(), path, true));
            } else {
                modules.push((format!("{name}.{stem}"), path, false));
            }
        }
    }
}
