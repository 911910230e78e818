//! Tokens of Squirrel source, with the line and column each starts at.

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Eof,
    Ident(String),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    Kw(Kw),
    Op(&'static str),
}

/// Reserved words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    Base,
    Break,
    Case,
    Catch,
    Class,
    Clone,
    Continue,
    Const,
    Default,
    Delete,
    Else,
    Enum,
    Extends,
    For,
    Foreach,
    Function,
    If,
    In,
    Local,
    Null,
    Resume,
    Return,
    Switch,
    This,
    Throw,
    Try,
    Typeof,
    While,
    Yield,
    Constructor,
    Instanceof,
    True,
    False,
    Static,
    Line,
    File,
    Rawcall,
}

fn keyword(s: &str) -> Option<Kw> {
    Some(match s {
        "base" => Kw::Base,
        "break" => Kw::Break,
        "case" => Kw::Case,
        "catch" => Kw::Catch,
        "class" => Kw::Class,
        "clone" => Kw::Clone,
        "continue" => Kw::Continue,
        "const" => Kw::Const,
        "default" => Kw::Default,
        "delete" => Kw::Delete,
        "else" => Kw::Else,
        "enum" => Kw::Enum,
        "extends" => Kw::Extends,
        "for" => Kw::For,
        "foreach" => Kw::Foreach,
        "function" => Kw::Function,
        "if" => Kw::If,
        "in" => Kw::In,
        "local" => Kw::Local,
        "null" => Kw::Null,
        "resume" => Kw::Resume,
        "return" => Kw::Return,
        "switch" => Kw::Switch,
        "this" => Kw::This,
        "throw" => Kw::Throw,
        "try" => Kw::Try,
        "typeof" => Kw::Typeof,
        "while" => Kw::While,
        "yield" => Kw::Yield,
        "constructor" => Kw::Constructor,
        "instanceof" => Kw::Instanceof,
        "true" => Kw::True,
        "false" => Kw::False,
        "static" => Kw::Static,
        "__LINE__" => Kw::Line,
        "__FILE__" => Kw::File,
        "rawcall" => Kw::Rawcall,
        _ => return None,
    })
}

/// Operators, longest first so the scanner takes the longest match.
const OPS: &[&str] = &[
    ">>>", "<=>", "...", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "++", "--", "+=", "-=",
    "*=", "/=", "%=", "<-", "::", "</", "/>", "+", "-", "*", "/", "%", "<", ">", "=", "!", "~",
    "&", "|", "^", ".", ",", ";", ":", "?", "(", ")", "[", "]", "{", "}", "@",
];

/// A compile error: message, line, column.
#[derive(Debug, Clone)]
pub(crate) struct CompileError {
    pub msg: String,
    pub line: u32,
    pub col: u32,
}

impl CompileError {
    /// The column as the reference reports it: one more on every line
    /// after the first (its column count restarts at 1 on a newline and
    /// then counts the first character again).
    pub(crate) fn reported_col(&self) -> u32 {
        (self.col + u32::from(self.line > 1)).max(1)
    }
}

/// The scanner.
pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    /// The current token and where it started.
    pub tok: Tok,
    pub tline: u32,
    pub tcol: u32,
    /// Column of the current token's last character.
    pub tend: u32,
    /// Line of the previous token's end (for `return` / optional `;`).
    pub prev_line: u32,
    /// Whether a newline came between the previous token and this one.
    pub nl_before: bool,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a [u8]) -> Self {
        Lexer {
            src,
            pos: 0,
            line: 1,
            line_start: 0,
            tok: Tok::Eof,
            tline: 1,
            tcol: 1,
            tend: 1,
            prev_line: 1,
            nl_before: false,
        }
    }

    fn peekc(&self, k: usize) -> u8 {
        self.src.get(self.pos + k).copied().unwrap_or(0)
    }

    fn col(&self) -> u32 {
        (self.pos - self.line_start) as u32 + 1
    }

    pub(crate) fn err<T>(&self, msg: impl Into<String>) -> Result<T, CompileError> {
        Err(CompileError {
            msg: msg.into(),
            line: self.line,
            col: self.col(),
        })
    }

    fn newline(&mut self) {
        self.line += 1;
        self.line_start = self.pos;
    }

    /// Advances to the next token.
    pub(crate) fn next(&mut self) -> Result<(), CompileError> {
        let r = self.scan();
        self.tend = self.col().saturating_sub(1);
        r
    }

    fn scan(&mut self) -> Result<(), CompileError> {
        self.prev_line = self.line;
        self.nl_before = false;
        loop {
            let c = self.peekc(0);
            match c {
                b'\n' => {
                    self.pos += 1;
                    self.newline();
                    self.nl_before = true;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'#' => self.skip_line(),
                b'/' if self.peekc(1) == b'/' => self.skip_line(),
                b'/' if self.peekc(1) == b'*' => {
                    self.pos += 2;
                    loop {
                        if self.pos >= self.src.len() {
                            return self.err("missing \"*/\" in comment");
                        }
                        if self.peekc(0) == b'*' && self.peekc(1) == b'/' {
                            self.pos += 2;
                            break;
                        }
                        self.pos += 1;
                        if self.src[self.pos - 1] == b'\n' {
                            self.newline();
                            self.nl_before = true;
                        }
                    }
                }
                _ => break,
            }
        }
        self.tline = self.line;
        self.tcol = self.col();
        let c = self.peekc(0);
        if self.pos >= self.src.len() {
            self.tok = Tok::Eof;
            return Ok(());
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = self.pos;
            while self.peekc(0).is_ascii_alphanumeric() || self.peekc(0) == b'_' {
                self.pos += 1;
            }
            let s = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
            self.tok = match keyword(&s) {
                Some(k) => Tok::Kw(k),
                None => Tok::Ident(s),
            };
            return Ok(());
        }
        if c.is_ascii_digit() {
            return self.number();
        }
        if c == b'"' {
            self.pos += 1;
            return self.string(b'"', false);
        }
        if c == b'@' && self.peekc(1) == b'"' {
            self.pos += 2;
            return self.string(b'"', true);
        }
        if c == b'\'' {
            self.pos += 1;
            let Tok::Str(s) = ({
                self.string(b'\'', false)?;
                std::mem::replace(&mut self.tok, Tok::Eof)
            }) else {
                return self.err("invalid character");
            };
            if s.len() != 1 {
                return self.err("invalid character");
            }
            self.tok = Tok::Int(i64::from(s[0] as i8));
            return Ok(());
        }
        for op in OPS {
            if self.src[self.pos..].starts_with(op.as_bytes()) {
                self.pos += op.len();
                self.tok = Tok::Op(op);
                return Ok(());
            }
        }
        self.pos += 1;
        self.err("unexpected character")
    }

    fn skip_line(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    fn number(&mut self) -> Result<(), CompileError> {
        let start = self.pos;
        if self.peekc(0) == b'0' && matches!(self.peekc(1), b'x' | b'X') {
            self.pos += 2;
            let mut v: i64 = 0;
            let mut any = false;
            while self.peekc(0).is_ascii_hexdigit() {
                let d = (self.peekc(0) as char).to_digit(16).unwrap_or(0);
                v = v.wrapping_mul(16).wrapping_add(i64::from(d));
                self.pos += 1;
                any = true;
            }
            if !any {
                return self.err("expected hex number");
            }
            self.tok = Tok::Int(v);
            return Ok(());
        }
        let mut float = false;
        while self.peekc(0).is_ascii_digit() {
            self.pos += 1;
        }
        if self.peekc(0) == b'.' && self.peekc(1) != b'.' {
            float = true;
            self.pos += 1;
            while self.peekc(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        if matches!(self.peekc(0), b'e' | b'E') {
            float = true;
            self.pos += 1;
            if matches!(self.peekc(0), b'+' | b'-') {
                self.pos += 1;
            }
            if !self.peekc(0).is_ascii_digit() {
                return self.err("exponent expected");
            }
            while self.peekc(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        let text = std::str::from_utf8(&self.src[start..self.pos]).unwrap_or("0");
        if float {
            // Floats are 32-bit in the reference build (`sq64` widens only integers).
            self.tok = Tok::Float(f64::from(text.parse::<f32>().unwrap_or(0.0)));
        } else if text.len() > 1 && text.starts_with('0') {
            // Leading zero: octal, as the reference reads it.
            let mut v: i64 = 0;
            for d in text.bytes() {
                if d > b'7' {
                    return self.err("invalid octal number");
                }
                v = v.wrapping_mul(8).wrapping_add(i64::from(d - b'0'));
            }
            self.tok = Tok::Int(v);
        } else {
            let mut v: i64 = 0;
            for d in text.bytes() {
                v = v.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
            }
            self.tok = Tok::Int(v);
        }
        Ok(())
    }

    fn string(&mut self, quote: u8, verbatim: bool) -> Result<(), CompileError> {
        let mut out = Vec::new();
        loop {
            if self.pos >= self.src.len() {
                return self.err("unfinished string");
            }
            let c = self.src[self.pos];
            self.pos += 1;
            if c == quote {
                if verbatim && self.peekc(0) == quote {
                    self.pos += 1;
                    out.push(quote);
                    continue;
                }
                break;
            }
            if c == b'\n' {
                if !verbatim {
                    return self.err("newline in a constant");
                }
                self.newline();
                out.push(c);
                continue;
            }
            if c == b'\\' && !verbatim {
                let e = self.peekc(0);
                self.pos += 1;
                match e {
                    b't' => out.push(b'\t'),
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b'v' => out.push(11),
                    b'f' => out.push(12),
                    b'0' => out.push(0),
                    b'\\' => out.push(b'\\'),
                    b'"' => out.push(b'"'),
                    b'\'' => out.push(b'\''),
                    b'x' | b'u' | b'U' => {
                        let max = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let mut v: u32 = 0;
                        let mut n = 0;
                        while n < max && self.peekc(0).is_ascii_hexdigit() {
                            v = v * 16 + (self.peekc(0) as char).to_digit(16).unwrap_or(0);
                            self.pos += 1;
                            n += 1;
                        }
                        if n == 0 {
                            return self.err("hexadecimal number expected");
                        }
                        if e == b'x' {
                            out.push(v as u8);
                        } else {
                            let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                    _ => return self.err("unrecognised escaper char"),
                }
                continue;
            }
            out.push(c);
        }
        self.tok = Tok::Str(out);
        Ok(())
    }
}
