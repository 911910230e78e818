//! Diagnostics: a position (`file:line:column`), what is wrong, the
//! offending text and what was expected there.
//!
//! Every layer of the compiler (lexer, parser, import resolution, semantic
//! checks, code generation) reports problems as [`Diagnostic`]s, one per
//! problem, each rendered on one line:
//!
//! ```text
//! hello.edl:7:21: error: pointer parameter `buf` has no direction; found `void* buf`; expected `in`, `out`, `in, out` or `user_check`
//! ```

use std::fmt;
use std::sync::Arc;

/// A position in an EDL file. Lines and columns count from 1; columns count
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file as it was named when opened.
    pub file: Arc<str>,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub col: u32,
}

impl Span {
    /// A span in `file` at `line:col`.
    pub fn new(file: Arc<str>, line: u32, col: u32) -> Self {
        Span { file, line, col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// Which layer found a problem, and what kind of problem it is. Each layer
/// has its own `#[non_exhaustive]` enum of error kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// From the lexer.
    Lex(LexError),
    /// From the parser.
    Parse(ParseError),
    /// From import resolution.
    Import(ImportError),
    /// From the semantic checks.
    Semantic(SemaError),
    /// From code generation (valid EDL without a safe Rust mapping).
    Codegen(MapError),
}

macro_rules! kind_from {
    ($($layer:ident => $variant:ident),*) => {$(
        impl From<$layer> for ErrorKind {
            fn from(e: $layer) -> Self {
                ErrorKind::$variant(e)
            }
        }
    )*};
}

use crate::codegen::MapError;
use crate::lexer::LexError;
use crate::loader::ImportError;
use crate::parser::ParseError;
use crate::sema::SemaError;

kind_from!(LexError => Lex, ParseError => Parse, ImportError => Import, SemaError => Semantic, MapError => Codegen);

/// One problem found in an EDL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of problem, by layer.
    pub kind: ErrorKind,
    /// Where the problem is.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// The offending text, when there is one.
    pub found: Option<String>,
    /// What was expected instead, when that can be said.
    pub expected: Option<String>,
}

impl Diagnostic {
    /// A diagnostic of `kind` with a message only.
    pub fn new(kind: impl Into<ErrorKind>, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            kind: kind.into(),
            span,
            message: one_line(message.into(), usize::MAX),
            found: None,
            expected: None,
        }
    }

    /// Adds the offending text.
    #[must_use]
    pub fn found(mut self, found: impl Into<String>) -> Self {
        self.found = Some(one_line(found.into(), 200));
        self
    }

    /// Adds what was expected.
    #[must_use]
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(one_line(expected.into(), usize::MAX));
        self
    }
}

/// Diagnostics are one line each: newlines and tabs in quoted text are shown
/// as spaces, and very long offending text is cut to `max` characters.
fn one_line(s: String, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(3)).collect::<String>() + "...";
    }
    out
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.span, self.message)?;
        if let Some(found) = &self.found {
            write!(f, "; found `{found}`")?;
        }
        if let Some(expected) = &self.expected {
            write!(f, "; expected {expected}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}
