//! Lexer: EDL text to tokens. Handles `//` and `/* */` comments, string
//! literals, decimal/hex/octal integers, identifiers and punctuation, and
//! refuses C preprocessor lines (Intel's EDL dialect has none).

use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Span};

/// Lexical errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LexError {
    /// A character that starts no token.
    UnexpectedChar,
    /// `/*` without `*/`.
    UnterminatedComment,
    /// `"` without a closing `"` on the same line.
    UnterminatedString,
    /// A malformed or too large integer.
    InvalidInteger,
    /// A C preprocessor line (`#include`, `#define`, ...).
    Preprocessor,
}

/// The kinds of token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// An identifier or keyword.
    Ident(String),
    /// An unsigned integer literal.
    Int(u64),
    /// A string literal (no escapes are interpreted beyond `\"` and `\\`).
    Str(String),
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `;`
    Semi,
    /// `,`
    Comma,
    /// `*`
    Star,
    /// `=`
    Eq,
    /// `-`
    Minus,
    /// End of input.
    Eof,
}

/// A token with its position and source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it starts.
    pub span: Span,
    /// Its text as written.
    pub text: String,
}

/// Splits `src` into tokens. Lexical errors are collected; the returned
/// tokens always end with [`TokenKind::Eof`].
pub fn lex(file: &Arc<str>, src: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lx = Lexer {
        file: file.clone(),
        chars: src.chars().collect(),
        pos: 0,
        line: 1,
        col: 1,
        at_line_start: true,
        tokens: Vec::new(),
        errors: Vec::new(),
    };
    lx.run();
    (lx.tokens, lx.errors)
}

struct Lexer {
    file: Arc<str>,
    chars: Vec<char>,
    pos: usize,
    line: u32,
    col: u32,
    at_line_start: bool,
    tokens: Vec<Token>,
    errors: Vec<Diagnostic>,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.col = 1;
            self.at_line_start = true;
        } else {
            self.col = self.col.saturating_add(1);
        }
        Some(c)
    }

    fn span(&self) -> Span {
        Span::new(self.file.clone(), self.line, self.col)
    }

    fn push(&mut self, kind: TokenKind, span: Span, text: String) {
        self.tokens.push(Token { kind, span, text });
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            let span = self.span();
            if c == '\n' {
                self.bump();
                continue;
            }
            if c.is_whitespace() {
                self.bump();
                continue;
            }
            if c == '/' && self.peek(1) == Some('/') {
                while let Some(c) = self.peek(0) {
                    if c == '\n' {
                        break;
                    }
                    self.bump();
                }
                continue;
            }
            if c == '/' && self.peek(1) == Some('*') {
                self.block_comment(span);
                continue;
            }
            let line_start = self.at_line_start;
            self.at_line_start = false;
            if c == '#' {
                self.preprocessor(span, line_start);
                continue;
            }
            if c == '"' {
                self.string(span);
                continue;
            }
            if c.is_ascii_digit() {
                self.number(span);
                continue;
            }
            if c.is_ascii_alphabetic() || c == '_' {
                let mut text = String::new();
                while let Some(c) = self.peek(0) {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        text.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
                self.push(TokenKind::Ident(text.clone()), span, text);
                continue;
            }
            let kind = match c {
                '{' => Some(TokenKind::LBrace),
                '}' => Some(TokenKind::RBrace),
                '(' => Some(TokenKind::LParen),
                ')' => Some(TokenKind::RParen),
                '[' => Some(TokenKind::LBracket),
                ']' => Some(TokenKind::RBracket),
                ';' => Some(TokenKind::Semi),
                ',' => Some(TokenKind::Comma),
                '*' => Some(TokenKind::Star),
                '=' => Some(TokenKind::Eq),
                '-' => Some(TokenKind::Minus),
                _ => None,
            };
            self.bump();
            match kind {
                Some(kind) => self.push(kind, span, c.to_string()),
                None => self.errors.push(
                    Diagnostic::new(LexError::UnexpectedChar, span, "unexpected character")
                        .found(c.to_string())
                        .expected(
                            "an identifier, a number, a string or one of `{ } ( ) [ ] ; , * = -`",
                        ),
                ),
            }
        }
        let span = self.span();
        self.push(TokenKind::Eof, span, String::new());
    }

    fn block_comment(&mut self, span: Span) {
        self.bump();
        self.bump();
        loop {
            match self.peek(0) {
                None => {
                    self.errors.push(
                        Diagnostic::new(
                            LexError::UnterminatedComment,
                            span,
                            "unterminated comment",
                        )
                        .found("/*")
                        .expected("`*/` before the end of the file"),
                    );
                    return;
                }
                Some('*') if self.peek(1) == Some('/') => {
                    self.bump();
                    self.bump();
                    return;
                }
                Some(_) => {
                    self.bump();
                }
            }
        }
    }

    fn preprocessor(&mut self, span: Span, line_start: bool) {
        let mut text = String::new();
        while let Some(c) = self.peek(0) {
            if c == '\n' {
                break;
            }
            text.push(c);
            self.bump();
        }
        let text = text.trim_end().to_string();
        let message = if line_start {
            "C preprocessor lines are not part of EDL (Intel's EDL dialect has no preprocessor)"
        } else {
            "unexpected `#`: EDL has no preprocessor"
        };
        self.errors.push(
            Diagnostic::new(LexError::Preprocessor, span, message).found(text).expected(
                "EDL syntax: `include \"file.h\"` for a C header, `from \"file.edl\" import ...;` for another EDL file",
            ),
        );
    }

    fn string(&mut self, span: Span) {
        self.bump();
        let mut value = String::new();
        loop {
            match self.peek(0) {
                None | Some('\n') => {
                    self.errors.push(
                        Diagnostic::new(
                            LexError::UnterminatedString,
                            span.clone(),
                            "unterminated string literal",
                        )
                        .found(format!("\"{value}"))
                        .expected("a closing `\"` on the same line"),
                    );
                    // Keep a token so that the parser does not cascade.
                    let text = format!("\"{value}");
                    self.push(TokenKind::Str(value), span, text);
                    return;
                }
                Some('"') => {
                    self.bump();
                    break;
                }
                Some('\\') => {
                    self.bump();
                    if let Some(c) = self.bump() {
                        value.push(c);
                    }
                }
                Some(c) => {
                    value.push(c);
                    self.bump();
                }
            }
        }
        let text = format!("\"{value}\"");
        self.push(TokenKind::Str(value), span, text);
    }

    fn number(&mut self, span: Span) {
        let mut text = String::new();
        while let Some(c) = self.peek(0) {
            if c.is_ascii_alphanumeric() || c == '_' {
                text.push(c);
                self.bump();
            } else {
                break;
            }
        }
        let digits = text.trim_end_matches(['u', 'U', 'l', 'L']);
        let parsed = if let Some(hex) = digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            u64::from_str_radix(hex, 16)
        } else if digits.len() > 1 && digits.starts_with('0') {
            u64::from_str_radix(&digits[1..], 8)
        } else {
            digits.parse::<u64>()
        };
        match parsed {
            Ok(v) => self.push(TokenKind::Int(v), span, text),
            Err(_) => {
                self.errors.push(
                    Diagnostic::new(LexError::InvalidInteger, span.clone(), "invalid integer literal")
                        .found(text.clone())
                        .expected("a decimal, hexadecimal (0x...) or octal (0...) integer that fits in 64 bits"),
                );
                // Keep a token so that the parser does not cascade.
                self.push(TokenKind::Int(1), span, text);
            }
        }
    }
}
