//! The scanner: bytes to tokens, with Lua 5.4's escapes, long brackets and
//! numerals, and its error wording (`chunk:line: message near 'token'`).

use crate::number::str_to_number;
use crate::value::Value;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name.
    Name(Vec<u8>),
    /// A string literal (its bytes).
    Str(Vec<u8>),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Num(f64),
    /// A keyword or symbol.
    Sym(&'static str),
    /// The end of the source.
    Eof,
}

const KEYWORDS: &[&str] = &[
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
];

const SYMBOLS: &[&str] = &[
    "...", "..", "==", "~=", "<=", ">=", "<<", ">>", "//", "::", "+", "-", "*", "/", "%", "^", "#",
    "&", "~", "|", "<", ">", "=", "(", ")", "{", "}", "[", "]", ";", ":", ",", ".",
];

/// The scanner state.
#[derive(Debug)]
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    /// Current line.
    pub line: u32,
    /// Chunk name as shown in messages.
    pub chunk: String,
    /// Raw text of the last token, for `near` in messages.
    pub last_raw: Vec<u8>,
}

/// A syntax error message, already formatted.
pub type SynErr = String;

impl<'a> Lexer<'a> {
    /// A scanner over `src`.
    pub fn new(src: &'a [u8], chunk: &str) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            line: 1,
            chunk: chunk.to_owned(),
            last_raw: Vec::new(),
        }
    }

    fn peek(&self) -> u8 {
        self.src.get(self.pos).copied().unwrap_or(0)
    }

    fn peek_at(&self, n: usize) -> u8 {
        self.src.get(self.pos + n).copied().unwrap_or(0)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// Formats an error at the current line.
    pub fn error(&self, msg: &str, near: Option<&[u8]>) -> SynErr {
        match near {
            Some(b"<eof>") => format!("{}:{}: {} near <eof>", self.chunk, self.line, msg),
            Some(n) => format!(
                "{}:{}: {} near '{}'",
                self.chunk,
                self.line,
                msg,
                String::from_utf8_lossy(n)
            ),
            None => format!("{}:{}: {}", self.chunk, self.line, msg),
        }
    }

    fn newline(&mut self) {
        let c = self.peek();
        self.pos += 1;
        let d = self.peek();
        if (d == b'\n' || d == b'\r') && d != c {
            self.pos += 1;
        }
        self.line += 1;
    }

    /// The next token.
    pub fn next_token(&mut self) -> Result<Tok, SynErr> {
        loop {
            if self.at_end() {
                self.last_raw = b"<eof>".to_vec();
                return Ok(Tok::Eof);
            }
            let c = self.peek();
            match c {
                b'\n' | b'\r' => self.newline(),
                b' ' | b'\t' | 0x0b | 0x0c => self.pos += 1,
                b'-' if self.peek_at(1) == b'-' => {
                    self.pos += 2;
                    if self.peek() == b'['
                        && let Some(level) = self.long_level()
                    {
                        self.long_string(level, true)?;
                        continue;
                    }
                    while !self.at_end() && self.peek() != b'\n' && self.peek() != b'\r' {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let start = self.pos;
        let c = self.peek();
        let tok = if c.is_ascii_alphabetic() || c == b'_' {
            while self.peek().is_ascii_alphanumeric() || self.peek() == b'_' {
                self.pos += 1;
            }
            let w = &self.src[start..self.pos];
            match KEYWORDS.iter().find(|k| k.as_bytes() == w) {
                Some(k) => Tok::Sym(k),
                None => Tok::Name(w.to_vec()),
            }
        } else if c.is_ascii_digit() || (c == b'.' && self.peek_at(1).is_ascii_digit()) {
            self.number()?
        } else if c == b'"' || c == b'\'' {
            self.string(c)?
        } else if c == b'[' && self.long_level().is_some() {
            let level = self.long_level().unwrap_or(0);
            Tok::Str(self.long_string(level, false)?)
        } else if c == b'[' && self.peek_at(1) == b'=' {
            self.pos += 1;
            while self.peek() == b'=' {
                self.pos += 1;
            }
            self.last_raw = self.src[start..self.pos].to_vec();
            return Err(self.error("invalid long string delimiter", Some(&self.last_raw)));
        } else {
            let rest = &self.src[self.pos..];
            match SYMBOLS.iter().find(|s| rest.starts_with(s.as_bytes())) {
                Some(s) => {
                    self.pos += s.len();
                    Tok::Sym(s)
                }
                None => {
                    self.pos += 1;
                    let near = if c.is_ascii_graphic() {
                        vec![c]
                    } else {
                        format!("<\\{c}>").into_bytes()
                    };
                    self.last_raw = near.clone();
                    return Err(self.error("unexpected symbol", Some(&near)));
                }
            }
        };
        self.last_raw = self.src[start..self.pos].to_vec();
        Ok(tok)
    }

    /// At `[`: the level of a long bracket `[==[`, if one opens here.
    fn long_level(&self) -> Option<usize> {
        let mut n = 1;
        while self.peek_at(n) == b'=' {
            n += 1;
        }
        (self.peek_at(n) == b'[').then_some(n - 1)
    }

    fn long_string(&mut self, level: usize, comment: bool) -> Result<Vec<u8>, SynErr> {
        self.pos += level + 2;
        if matches!(self.peek(), b'\n' | b'\r') {
            self.newline();
        }
        let mut out = Vec::new();
        loop {
            if self.at_end() {
                let what = if comment {
                    "unfinished long comment"
                } else {
                    "unfinished long string"
                };
                return Err(self.error(what, Some(b"<eof>")));
            }
            let c = self.peek();
            if c == b']' {
                let mut n = 1;
                while self.peek_at(n) == b'=' {
                    n += 1;
                }
                if n - 1 == level && self.peek_at(n) == b']' {
                    self.pos += n + 1;
                    return Ok(out);
                }
                out.push(c);
                self.pos += 1;
            } else if c == b'\n' || c == b'\r' {
                self.newline();
                out.push(b'\n');
            } else {
                if !comment {
                    out.push(c);
                }
                self.pos += 1;
            }
        }
    }

    fn number(&mut self) -> Result<Tok, SynErr> {
        let start = self.pos;
        let hex = self.peek() == b'0' && matches!(self.peek_at(1), b'x' | b'X');
        if hex {
            self.pos += 2;
        }
        loop {
            let c = self.peek();
            let exp = if hex {
                matches!(c, b'p' | b'P')
            } else {
                matches!(c, b'e' | b'E')
            };
            if exp {
                self.pos += 1;
                if matches!(self.peek(), b'+' | b'-') {
                    self.pos += 1;
                }
            } else if c.is_ascii_hexdigit() || c == b'.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        while self.peek().is_ascii_alphanumeric() || self.peek() == b'_' {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        match str_to_number(text) {
            Some(Value::Int(i)) => Ok(Tok::Int(i)),
            Some(Value::Num(f)) => Ok(Tok::Num(f)),
            _ => {
                self.last_raw = text.to_vec();
                Err(self.error("malformed number", Some(text)))
            }
        }
    }

    fn string(&mut self, q: u8) -> Result<Tok, SynErr> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            if self.at_end() {
                return Err(self.error("unfinished string", Some(b"<eof>")));
            }
            let c = self.peek();
            if c == q {
                self.pos += 1;
                return Ok(Tok::Str(out));
            }
            match c {
                b'\n' | b'\r' => {
                    let raw = self.src[start..self.pos].to_vec();
                    return Err(self.error("unfinished string", Some(&raw)));
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek();
                    let simple = match e {
                        b'a' => Some(7),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'v' => Some(11),
                        b'\\' => Some(b'\\'),
                        b'"' => Some(b'"'),
                        b'\'' => Some(b'\''),
                        _ => None,
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        self.pos += 1;
                        continue;
                    }
                    match e {
                        b'\n' | b'\r' => {
                            self.newline();
                            out.push(b'\n');
                        }
                        b'x' => {
                            self.pos += 1;
                            let mut v = 0u8;
                            for _ in 0..2 {
                                let d = self.peek();
                                if !d.is_ascii_hexdigit() {
                                    return Err(
                                        self.escape_err(start, "hexadecimal digit expected")
                                    );
                                }
                                v = v * 16 + (d as char).to_digit(16).unwrap_or(0) as u8;
                                self.pos += 1;
                            }
                            out.push(v);
                        }
                        b'z' => {
                            self.pos += 1;
                            while !self.at_end()
                                && matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
                            {
                                if matches!(self.peek(), b'\n' | b'\r') {
                                    self.newline();
                                } else {
                                    self.pos += 1;
                                }
                            }
                        }
                        b'u' => {
                            self.pos += 1;
                            if self.peek() != b'{' {
                                return Err(self.escape_err(start, "missing '{' in \\u{xxxx}"));
                            }
                            self.pos += 1;
                            let mut v: u64 = 0;
                            let mut any = false;
                            while self.peek().is_ascii_hexdigit() {
                                v = v * 16 + (self.peek() as char).to_digit(16).unwrap_or(0) as u64;
                                if v > 0x7FFF_FFFF {
                                    return Err(self.escape_err(start, "UTF-8 value too large"));
                                }
                                any = true;
                                self.pos += 1;
                            }
                            if !any {
                                return Err(self.escape_err(start, "hexadecimal digit expected"));
                            }
                            if self.peek() != b'}' {
                                return Err(self.escape_err(start, "missing '}' in \\u{xxxx}"));
                            }
                            self.pos += 1;
                            crate::lib_string::utf8_encode(v as u32, &mut out);
                        }
                        d if d.is_ascii_digit() => {
                            let mut v: u32 = 0;
                            let mut n = 0;
                            while n < 3 && self.peek().is_ascii_digit() {
                                v = v * 10 + (self.peek() - b'0') as u32;
                                self.pos += 1;
                                n += 1;
                            }
                            if v > 255 {
                                return Err(self.escape_err(start, "decimal escape too large"));
                            }
                            out.push(v as u8);
                        }
                        _ => {
                            return Err(self.escape_err(start, "invalid escape sequence"));
                        }
                    }
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn escape_err(&self, start: usize, msg: &str) -> SynErr {
        let end = (self.pos + 1).min(self.src.len());
        self.error(msg, Some(&self.src[start..end]))
    }
}
