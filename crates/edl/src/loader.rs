//! Import resolution: reads the root EDL file and every file it names in
//! `from "x.edl" import ...;`, looking first next to the importing file and
//! then in the search paths (`-I`), in order. Reports missing files, import
//! cycles, names that an imported file does not declare, oversized files and
//! too-deep import chains. The result is one flat list of types and functions
//! in declaration order, an imported file's contributions taking the place
//! of its `from` line (as Intel's edger8r merges them).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::ast::{self, Item};
use crate::diagnostic::{Diagnostic, Span};
use crate::parser::parse;

/// Import resolution errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImportError {
    /// No file of that name next to the importer or in the search paths.
    NotFound,
    /// A file imports itself, directly or not.
    Cycle,
    /// More than [`MAX_IMPORT_DEPTH`] nested imports.
    TooDeep,
    /// More than [`MAX_FILES`] files.
    TooManyFiles,
    /// A file could not be read, is too large or is not UTF-8.
    Unreadable,
    /// An imported name is not declared in the imported file.
    UnknownName,
    /// Imports in text parsed without a file system.
    NotAvailable,
}

/// Largest EDL file read, in bytes.
pub const MAX_FILE_SIZE: u64 = 1 << 20;
/// Longest chain of imports.
pub const MAX_IMPORT_DEPTH: usize = 16;
/// Most distinct files read for one enclave.
pub const MAX_FILES: usize = 256;

/// Where a type or function was declared, for de-duplication of files
/// imported along two paths.
type Key = (PathBuf, String);

/// An enclave's declarations after import resolution.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// `include` lines, from all files.
    pub includes: Vec<ast::Include>,
    /// `struct`, `union` and `enum` items, from all files.
    pub types: Vec<Item>,
    /// Trusted functions in declaration order.
    pub ecalls: Vec<ast::Function>,
    /// Untrusted functions in declaration order.
    pub ocalls: Vec<ast::Function>,
    /// Every file read, root first.
    pub files_read: Vec<PathBuf>,
}

#[derive(Default)]
struct Exports {
    includes: Vec<ast::Include>,
    types: Vec<(Key, Item)>,
    ecalls: Vec<(Key, ast::Function)>,
    ocalls: Vec<(Key, ast::Function)>,
}

struct Loader<'a> {
    search: &'a [PathBuf],
    memo: HashMap<PathBuf, Rc<Exports>>,
    stack: Vec<(PathBuf, Arc<str>)>,
    errors: Vec<Diagnostic>,
    files_read: Vec<PathBuf>,
}

/// Reads and parses `path` and everything it imports.
pub fn load(path: &Path, search: &[PathBuf]) -> Result<Loaded, Vec<Diagnostic>> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let mut loader = Loader {
        search,
        memo: HashMap::new(),
        stack: Vec::new(),
        errors: Vec::new(),
        files_read: Vec::new(),
    };
    let exports = loader.file(path, name.clone(), Span::new(name, 1, 1));
    if !loader.errors.is_empty() {
        return Err(loader.errors);
    }
    let Some(exports) = exports else {
        return Err(loader.errors);
    };
    let exports = Rc::try_unwrap(exports).unwrap_or_else(|rc| Exports {
        includes: rc.includes.clone(),
        types: rc.types.clone(),
        ecalls: rc.ecalls.clone(),
        ocalls: rc.ocalls.clone(),
    });
    Ok(Loaded {
        includes: exports.includes,
        types: exports.types.into_iter().map(|(_, t)| t).collect(),
        ecalls: exports.ecalls.into_iter().map(|(_, f)| f).collect(),
        ocalls: exports.ocalls.into_iter().map(|(_, f)| f).collect(),
        files_read: loader.files_read,
    })
}

/// Shield's system EDL files, compiled in: an enclave's EDL imports them
/// by name (`from "shield_log.edl" import *;`) after its own search paths,
/// wherever this crate's sources were when it was built.
pub const SYSTEM_FILES: &[(&str, &str)] = &[
    ("shield_log.edl", include_str!("../system/shield_log.edl")),
    (
        "shield_quote.edl",
        include_str!("../system/shield_quote.edl"),
    ),
];

/// The directory named in diagnostics for the system files (no such
/// directory exists).
pub const SYSTEM_PLACE: &str = "<shield system EDL>";

/// The text of `path` when it names a system file.
fn system_text(path: &Path) -> Option<&'static str> {
    let name = path.strip_prefix(SYSTEM_PLACE).ok()?.to_str()?;
    SYSTEM_FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
}

fn push_unique<T: Clone>(list: &mut Vec<(Key, T)>, key: &Key, item: &T) {
    if !list.iter().any(|(k, _)| k == key) {
        list.push((key.clone(), item.clone()));
    }
}

impl Loader<'_> {
    /// Loads one file; `at` is where it was named (for diagnostics).
    fn file(&mut self, path: &Path, name: Arc<str>, at: Span) -> Option<Rc<Exports>> {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(e) = self.memo.get(&canon) {
            return Some(e.clone());
        }
        if let Some(pos) = self.stack.iter().position(|(p, _)| *p == canon) {
            let mut chain: Vec<String> = self.stack[pos..]
                .iter()
                .map(|(_, n)| n.to_string())
                .collect();
            chain.push(name.to_string());
            self.errors.push(
                Diagnostic::new(ImportError::Cycle, at, "import cycle")
                    .found(chain.join(" -> "))
                    .expected("EDL files that do not import each other in a loop"),
            );
            return None;
        }
        if self.stack.len() >= MAX_IMPORT_DEPTH {
            self.errors.push(
                Diagnostic::new(ImportError::TooDeep, at, "imports nested too deeply")
                    .found(name.to_string())
                    .expected(format!(
                        "at most {MAX_IMPORT_DEPTH} levels of `from ... import`"
                    )),
            );
            return None;
        }
        if self.files_read.len() >= MAX_FILES {
            self.errors.push(
                Diagnostic::new(ImportError::TooManyFiles, at, "too many EDL files")
                    .found(name.to_string())
                    .expected(format!("at most {MAX_FILES} files in one enclave")),
            );
            return None;
        }
        let text = match system_text(path).map_or_else(|| read_bounded(path), |t| Ok(t.to_owned()))
        {
            Ok(text) => text,
            Err(why) => {
                self.errors.push(
                    Diagnostic::new(
                        ImportError::Unreadable,
                        at,
                        format!("cannot read EDL file: {why}"),
                    )
                    .found(name.to_string())
                    .expected("a readable UTF-8 EDL file"),
                );
                return None;
            }
        };
        // A system file is part of this crate, not an input to track.
        if system_text(path).is_none() {
            self.files_read.push(path.to_path_buf());
        }
        let file = match parse(&name, &text) {
            Ok(f) => f,
            Err(mut errs) => {
                self.errors.append(&mut errs);
                return None;
            }
        };
        self.stack.push((canon.clone(), name.clone()));
        let exports = self.exports(path, &canon, &file);
        self.stack.pop();
        let exports = Rc::new(exports);
        self.memo.insert(canon, exports.clone());
        Some(exports)
    }

    fn resolve(&self, importer: &Path, target: &str) -> Option<PathBuf> {
        let dir = importer.parent().unwrap_or(Path::new(""));
        std::iter::once(dir.join(target))
            .chain(self.search.iter().map(|s| s.join(target)))
            .find(|p| p.is_file())
            .or_else(|| {
                let system = Path::new(SYSTEM_PLACE).join(target);
                system_text(&system).map(|_| system)
            })
    }

    fn exports(&mut self, path: &Path, canon: &Path, file: &ast::File) -> Exports {
        let mut out = Exports::default();
        for item in &file.items {
            match item {
                Item::Include(inc) => out.includes.push(inc.clone()),
                Item::Import(imp) => self.import(path, imp, &mut out),
                Item::Compound(c) => {
                    let key = (canon.to_path_buf(), c.name.name.clone());
                    out.types.push((key, item.clone()));
                }
                Item::Enum(e) => {
                    let name = e.name.as_ref().map_or_else(
                        || format!("<anonymous {}:{}>", e.span.line, e.span.col),
                        |n| n.name.clone(),
                    );
                    out.types.push(((canon.to_path_buf(), name), item.clone()));
                }
                Item::Trusted(f) => {
                    let key = (canon.to_path_buf(), f.name.name.clone());
                    out.ecalls.push((key, f.clone()));
                }
                Item::Untrusted(f) => {
                    let key = (canon.to_path_buf(), f.name.name.clone());
                    out.ocalls.push((key, f.clone()));
                }
            }
        }
        out
    }

    fn import(&mut self, importer: &Path, imp: &ast::Import, out: &mut Exports) {
        let Some(target) = self.resolve(importer, &imp.file) else {
            let mut places = vec![
                importer
                    .parent()
                    .map(|p| p.display().to_string())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| ".".to_string()),
            ];
            places.extend(self.search.iter().map(|p| p.display().to_string()));
            places.push(SYSTEM_PLACE.to_owned());
            self.errors.push(
                Diagnostic::new(
                    ImportError::NotFound,
                    imp.span.clone(),
                    "imported EDL file not found",
                )
                .found(imp.file.clone())
                .expected(format!(
                    "a file in {} (add a search path with -I)",
                    places.join(", ")
                )),
            );
            return;
        };
        let name: Arc<str> = Arc::from(target.display().to_string());
        let Some(sub) = self.file(&target, name, imp.span.clone()) else {
            return;
        };
        for inc in &sub.includes {
            if !out.includes.iter().any(|i| i.header == inc.header) {
                out.includes.push(inc.clone());
            }
        }
        for (k, t) in &sub.types {
            push_unique(&mut out.types, k, t);
        }
        match &imp.names {
            None => {
                for (k, f) in &sub.ecalls {
                    push_unique(&mut out.ecalls, k, f);
                }
                for (k, f) in &sub.ocalls {
                    push_unique(&mut out.ocalls, k, f);
                }
            }
            Some(names) => {
                for n in names {
                    if let Some((k, f)) = sub.ecalls.iter().find(|(_, f)| f.name.name == n.name) {
                        push_unique(&mut out.ecalls, k, f);
                    } else if let Some((k, f)) =
                        sub.ocalls.iter().find(|(_, f)| f.name.name == n.name)
                    {
                        push_unique(&mut out.ocalls, k, f);
                    } else {
                        self.errors.push(
                            Diagnostic::new(
                                ImportError::UnknownName,
                                n.span.clone(),
                                "imported function not declared",
                            )
                            .found(n.name.clone())
                            .expected(format!("a function declared in `{}`", imp.file)),
                        );
                    }
                }
            }
        }
    }
}

/// Reads a regular file of at most [`MAX_FILE_SIZE`] bytes as UTF-8. The
/// open does not block (a FIFO would wait for a writer) and anything but a
/// regular file is refused (a device can be endless).
fn read_bounded(path: &Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| e.to_string())?;
    if !f.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a regular file".into());
    }
    let mut buf = Vec::new();
    f.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > MAX_FILE_SIZE {
        return Err(format!("larger than {MAX_FILE_SIZE} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "not UTF-8".to_string())
}

/// Parses EDL text that imports nothing (for fuzzing and tests).
pub fn load_str(name: &str, text: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let name: Arc<str> = Arc::from(name);
    let file = parse(&name, text)?;
    let mut out = Loaded::default();
    for item in file.items {
        match item {
            Item::Include(i) => out.includes.push(i),
            Item::Import(i) => {
                return Err(vec![
                    Diagnostic::new(
                        ImportError::NotAvailable,
                        i.span,
                        "imports need a file system",
                    )
                    .found(i.file)
                    .expected("EDL text without `from ... import`"),
                ]);
            }
            Item::Compound(_) | Item::Enum(_) => out.types.push(item),
            Item::Trusted(f) => out.ecalls.push(f),
            Item::Untrusted(f) => out.ocalls.push(f),
        }
    }
    Ok(out)
}
