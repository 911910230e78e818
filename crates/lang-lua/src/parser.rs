//! The parser: tokens to a syntax tree (`Expr`, `Stat`), with Lua's
//! operator priorities and its syntax error wording.

use crate::lexer::{Lexer, SynErr, Tok};

/// Binary operators (arithmetic, bitwise, comparison, concatenation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    IDiv,
    BAnd,
    BOr,
    BXor,
    Shl,
    Shr,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum UnOp {
    Neg,
    Not,
    Len,
    BNot,
}

/// An expression with the line it starts on.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it is.
    pub k: E,
    /// Source line.
    pub line: u32,
}

/// Expression kinds.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum E {
    Nil,
    True,
    False,
    Int(i64),
    Num(f64),
    Str(Vec<u8>),
    Vararg,
    Func(Box<FuncBody>),
    Name(Vec<u8>),
    Index(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    Method(Box<Expr>, Vec<u8>, Vec<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Un(UnOp, Box<Expr>),
    Table(Vec<Field>),
    Paren(Box<Expr>),
}

/// A table constructor field.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum Field {
    Pos(Expr),
    Named(Expr, Expr),
}

/// A function's parameters and body.
#[derive(Debug, Clone)]
pub struct FuncBody {
    /// Parameter names.
    pub params: Vec<Vec<u8>>,
    /// Whether it ends in `...`.
    pub vararg: bool,
    /// The statements.
    pub body: Block,
    /// Line of `function`.
    pub line: u32,
    /// Line of `end`.
    pub end_line: u32,
    /// Whether `self` is an implicit first parameter.
    pub method: bool,
    /// A name for messages.
    pub name: String,
}

/// Local variable attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Attrib {
    None,
    Const,
    Close,
}

/// A statement with its line.
#[derive(Debug, Clone)]
pub struct Stat {
    /// What it is.
    pub k: S,
    /// Source line.
    pub line: u32,
    /// Line of its last token (where C Lua charges its stores).
    pub last: u32,
}

/// Statement kinds.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum S {
    Expr(Expr),
    Local(Vec<(Vec<u8>, Attrib)>, Vec<Expr>),
    Assign(Vec<Expr>, Vec<Expr>),
    Do(Block),
    While(Expr, Block),
    Repeat(Block, Expr),
    If(Vec<(Expr, Block)>, Option<Block>),
    NumFor(Vec<u8>, Expr, Expr, Option<Expr>, Block),
    GenFor(Vec<Vec<u8>>, Vec<Expr>, Block),
    LocalFunc(Vec<u8>, Box<FuncBody>),
    Return(Vec<Expr>),
    Break,
    Goto(Vec<u8>),
    Label(Vec<u8>),
}

/// A block of statements; `end_line` is where it closes.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// The statements.
    pub stats: Vec<Stat>,
    /// Line of the closing keyword.
    pub end_line: u32,
    /// Line of the token before its first statement (`then`, `do`).
    pub first_line: u32,
    /// Line of its last token.
    pub last_line: u32,
}

/// The parser state.
#[derive(Debug)]
pub struct Parser<'a> {
    lex: Lexer<'a>,
    tok: Tok,
    ahead: Option<(Tok, Vec<u8>, u32)>,
    /// Line of the current token.
    line: u32,
    /// Line of the last token consumed: C Lua charges an instruction to it.
    last: u32,
    depth: u32,
    /// Lines where the enclosing functions start (empty: the main one).
    funcs: Vec<u32>,
}

/// Most local variables of one function, as C Lua's.
const MAX_LOCALS: usize = 200;

const MAX_DEPTH: u32 = 190;
/// Most nesting of a left-leaning chain of operators or suffixes.
const MAX_CHAIN: u32 = 1000;

/// Parses a chunk into its main function body.
pub fn parse(src: &[u8], chunk: &str) -> Result<FuncBody, SynErr> {
    let mut lex = Lexer::new(src, chunk);
    let tok = lex.next_token()?;
    let line = lex.line;
    let mut p = Parser {
        lex,
        tok,
        ahead: None,
        line,
        last: line,
        depth: 0,
        funcs: Vec::new(),
    };
    let body = p.block()?;
    if p.tok != Tok::Eof {
        return Err(p.err_near("'<eof>' expected"));
    }
    Ok(FuncBody {
        params: Vec::new(),
        vararg: true,
        body,
        line: 0,
        end_line: p.line,
        method: false,
        name: "main chunk".into(),
    })
}

fn tok_text(t: &Tok, raw: &[u8]) -> Vec<u8> {
    match t {
        Tok::Eof => b"<eof>".to_vec(),
        _ => raw.to_vec(),
    }
}

impl Parser<'_> {
    fn advance(&mut self) -> Result<(), SynErr> {
        self.last = self.line;
        if let Some((t, raw, line)) = self.ahead.take() {
            self.tok = t;
            self.lex.last_raw = raw;
            self.line = line;
            return Ok(());
        }
        self.tok = self.lex.next_token()?;
        self.line = self.lex.line;
        Ok(())
    }

    fn peek_ahead(&mut self) -> Result<&Tok, SynErr> {
        if self.ahead.is_none() {
            let raw = self.lex.last_raw.clone();
            let t = self.lex.next_token()?;
            let araw = std::mem::replace(&mut self.lex.last_raw, raw);
            self.ahead = Some((t, araw, self.lex.line));
        }
        Ok(self.ahead.as_ref().map(|a| &a.0).unwrap_or(&Tok::Eof))
    }

    fn err_near(&self, msg: &str) -> SynErr {
        if self.tok == Tok::Eof {
            return format!("{}:{}: {} near <eof>", self.lex.chunk, self.line, msg);
        }
        let near = tok_text(&self.tok, &self.lex.last_raw);
        format!(
            "{}:{}: {} near '{}'",
            self.lex.chunk,
            self.line,
            msg,
            String::from_utf8_lossy(&near)
        )
    }

    fn is(&self, s: &str) -> bool {
        matches!(&self.tok, Tok::Sym(t) if *t == s)
    }

    fn accept(&mut self, s: &str) -> Result<bool, SynErr> {
        if self.is(s) {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect(&mut self, s: &str) -> Result<(), SynErr> {
        if self.accept(s)? {
            Ok(())
        } else {
            Err(self.err_near(&format!("'{s}' expected")))
        }
    }

    fn expect_match(&mut self, what: &str, who: &str, line: u32) -> Result<(), SynErr> {
        if self.accept(what)? {
            return Ok(());
        }
        if line == self.line {
            Err(self.err_near(&format!("'{what}' expected")))
        } else {
            Err(self.err_near(&format!(
                "'{what}' expected (to close '{who}' at line {line})"
            )))
        }
    }

    fn name(&mut self) -> Result<Vec<u8>, SynErr> {
        if let Tok::Name(n) = &self.tok {
            let n = n.clone();
            self.advance()?;
            Ok(n)
        } else {
            Err(self.err_near("<name> expected"))
        }
    }

    fn block_end(&self) -> bool {
        matches!(self.tok, Tok::Eof)
            || self.is("end")
            || self.is("else")
            || self.is("elseif")
            || self.is("until")
    }

    fn too_complex(&self) -> SynErr {
        format!("{}:{}: expression too complex", self.lex.chunk, self.line)
    }

    fn enter(&mut self) -> Result<(), SynErr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "{}:{}: chunk has too many syntax levels",
                self.lex.chunk, self.line
            ));
        }
        Ok(())
    }

    fn block(&mut self) -> Result<Block, SynErr> {
        self.enter()?;
        let first_line = self.last;
        let mut stats = Vec::new();
        while !self.block_end() {
            if self.is("return") {
                let line = self.line;
                self.advance()?;
                let exprs = if self.block_end() || self.is(";") {
                    Vec::new()
                } else {
                    self.exprlist()?
                };
                self.accept(";")?;
                stats.push(Stat {
                    k: S::Return(exprs),
                    line,
                    last: self.last,
                });
                if !self.block_end() {
                    return Err(self.err_near("'<eof>' expected"));
                }
                break;
            }
            if let Some(s) = self.statement()? {
                stats.push(s);
            }
        }
        self.depth -= 1;
        Ok(Block {
            stats,
            end_line: self.line,
            first_line,
            last_line: self.last,
        })
    }

    fn statement(&mut self) -> Result<Option<Stat>, SynErr> {
        let line = self.line;
        let k = match &self.tok {
            Tok::Sym(";") => {
                self.advance()?;
                return Ok(None);
            }
            Tok::Sym("if") => {
                self.advance()?;
                let mut arms = Vec::new();
                let cond = self.expr()?;
                self.expect("then")?;
                let b = self.block()?;
                arms.push((cond, b));
                let mut els = None;
                loop {
                    if self.accept("elseif")? {
                        let c = self.expr()?;
                        self.expect("then")?;
                        let b = self.block()?;
                        arms.push((c, b));
                    } else if self.accept("else")? {
                        els = Some(self.block()?);
                        self.expect_match("end", "if", line)?;
                        break;
                    } else {
                        self.expect_match("end", "if", line)?;
                        break;
                    }
                }
                S::If(arms, els)
            }
            Tok::Sym("while") => {
                self.advance()?;
                let c = self.expr()?;
                self.expect("do")?;
                let b = self.block()?;
                self.expect_match("end", "while", line)?;
                S::While(c, b)
            }
            Tok::Sym("do") => {
                self.advance()?;
                let b = self.block()?;
                self.expect_match("end", "do", line)?;
                S::Do(b)
            }
            Tok::Sym("for") => {
                self.advance()?;
                let n1 = self.name()?;
                if self.accept("=")? {
                    let a = self.expr()?;
                    self.expect(",")?;
                    let b = self.expr()?;
                    let c = if self.accept(",")? {
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    self.expect("do")?;
                    let body = self.block()?;
                    self.expect_match("end", "for", line)?;
                    S::NumFor(n1, a, b, c, body)
                } else if self.is(",") || self.is("in") {
                    let mut names = vec![n1];
                    while self.accept(",")? {
                        names.push(self.name()?);
                    }
                    self.expect("in")?;
                    let exprs = self.exprlist()?;
                    self.expect("do")?;
                    let body = self.block()?;
                    self.expect_match("end", "for", line)?;
                    S::GenFor(names, exprs, body)
                } else {
                    return Err(self.err_near("'=' or 'in' expected"));
                }
            }
            Tok::Sym("repeat") => {
                self.advance()?;
                let b = self.block()?;
                self.expect_match("until", "repeat", line)?;
                let c = self.expr()?;
                S::Repeat(b, c)
            }
            Tok::Sym("function") => {
                self.advance()?;
                let n = self.name()?;
                let mut full = String::from_utf8_lossy(&n).into_owned();
                let mut target = Expr {
                    k: E::Name(n),
                    line,
                };
                let mut method = false;
                loop {
                    let l = self.line;
                    if self.accept(".")? {
                        let k = self.name()?;
                        full.push('.');
                        full.push_str(&String::from_utf8_lossy(&k));
                        target = Expr {
                            k: E::Index(
                                Box::new(target),
                                Box::new(Expr {
                                    k: E::Str(k),
                                    line: l,
                                }),
                            ),
                            line: l,
                        };
                    } else if self.accept(":")? {
                        let k = self.name()?;
                        full.push(':');
                        full.push_str(&String::from_utf8_lossy(&k));
                        target = Expr {
                            k: E::Index(
                                Box::new(target),
                                Box::new(Expr {
                                    k: E::Str(k),
                                    line: l,
                                }),
                            ),
                            line: l,
                        };
                        method = true;
                        break;
                    } else {
                        break;
                    }
                }
                let body = self.funcbody(method, line, full)?;
                // The definition is charged to the line of `function`.
                return Ok(Some(Stat {
                    k: S::Assign(
                        vec![target],
                        vec![Expr {
                            k: E::Func(body),
                            line,
                        }],
                    ),
                    line,
                    last: line,
                }));
            }
            Tok::Sym("local") => {
                self.advance()?;
                if self.accept("function")? {
                    let n = self.name()?;
                    let name = String::from_utf8_lossy(&n).into_owned();
                    let body = self.funcbody(false, line, name)?;
                    S::LocalFunc(n, body)
                } else {
                    let mut names = Vec::new();
                    loop {
                        let n = self.name()?;
                        let mut attr = Attrib::None;
                        if self.accept("<")? {
                            let a = self.name()?;
                            attr = match &a[..] {
                                b"const" => Attrib::Const,
                                b"close" => Attrib::Close,
                                _ => {
                                    return Err(format!(
                                        "{}:{}: unknown attribute '{}'",
                                        self.lex.chunk,
                                        self.line,
                                        String::from_utf8_lossy(&a)
                                    ));
                                }
                            };
                            self.expect(">")?;
                        }
                        names.push((n, attr));
                        if names.len() > MAX_LOCALS {
                            let what = match self.funcs.last() {
                                Some(l) => format!("function at line {l}"),
                                None => "main function".into(),
                            };
                            return Err(self.err_near(&format!(
                                "too many local variables (limit is {MAX_LOCALS}) in {what}"
                            )));
                        }
                        if !self.accept(",")? {
                            break;
                        }
                    }
                    if names.iter().filter(|n| n.1 == Attrib::Close).count() > 1 {
                        return Err(self.err_near("multiple to-be-closed variables in local list"));
                    }
                    let exprs = if self.accept("=")? {
                        self.exprlist()?
                    } else {
                        Vec::new()
                    };
                    S::Local(names, exprs)
                }
            }
            Tok::Sym("::") => {
                self.advance()?;
                let n = self.name()?;
                self.expect("::")?;
                S::Label(n)
            }
            Tok::Sym("break") => {
                self.advance()?;
                S::Break
            }
            Tok::Sym("goto") => {
                self.advance()?;
                S::Goto(self.name()?)
            }
            _ => {
                let e = self.suffixed()?;
                if self.is("=") || self.is(",") {
                    let mut targets = vec![e];
                    while self.accept(",")? {
                        targets.push(self.suffixed()?);
                        // C Lua parses each target one C level deeper.
                        if self.depth as usize + targets.len() > MAX_DEPTH as usize + 10 {
                            return Err("C stack overflow".into());
                        }
                    }
                    self.expect("=")?;
                    for t in &targets {
                        if !matches!(t.k, E::Name(_) | E::Index(..)) {
                            return Err(self.err_near("syntax error"));
                        }
                    }
                    let exprs = self.exprlist()?;
                    S::Assign(targets, exprs)
                } else {
                    if !matches!(e.k, E::Call(..) | E::Method(..)) {
                        return Err(self.err_near("syntax error"));
                    }
                    S::Expr(e)
                }
            }
        };
        Ok(Some(Stat {
            k,
            line,
            last: self.last,
        }))
    }

    fn funcbody(&mut self, method: bool, line: u32, name: String) -> Result<Box<FuncBody>, SynErr> {
        // No syntax level of its own (its block has one), as C Lua counts.
        self.funcs.push(line);
        self.expect("(")?;
        let mut params = Vec::new();
        if method {
            params.push(b"self".to_vec());
        }
        let mut vararg = false;
        if !self.is(")") {
            loop {
                if self.accept("...")? {
                    vararg = true;
                    break;
                }
                match &self.tok {
                    Tok::Name(_) => params.push(self.name()?),
                    _ => return Err(self.err_near("<name> expected")),
                }
                if !self.accept(",")? {
                    break;
                }
            }
        }
        self.expect(")")?;
        let body = self.block()?;
        let end_line = self.line;
        self.expect_match("end", "function", line)?;
        self.funcs.pop();
        Ok(Box::new(FuncBody {
            params,
            vararg,
            body,
            line,
            end_line,
            method,
            name,
        }))
    }

    fn exprlist(&mut self) -> Result<Vec<Expr>, SynErr> {
        let mut v = vec![self.expr()?];
        while self.accept(",")? {
            v.push(self.expr()?);
        }
        Ok(v)
    }

    fn primary(&mut self) -> Result<Expr, SynErr> {
        let line = self.line;
        match &self.tok {
            Tok::Name(_) => Ok(Expr {
                k: E::Name(self.name()?),
                line,
            }),
            Tok::Sym("(") => {
                self.advance()?;
                let e = self.expr()?;
                self.expect_match(")", "(", line)?;
                Ok(Expr {
                    k: E::Paren(Box::new(e)),
                    line,
                })
            }
            _ => Err(self.err_near("unexpected symbol")),
        }
    }

    fn suffixed(&mut self) -> Result<Expr, SynErr> {
        // A call's line is where its expression starts, as in C Lua.
        let start = self.line;
        let mut e = self.primary()?;
        let mut chain = 0;
        loop {
            let line = self.line;
            // Each suffix nests the tree one level deeper; the compiler and
            // the tree's drop recurse over it, so its depth is bounded.
            chain += 1;
            if self.depth + chain > MAX_CHAIN {
                return Err(self.too_complex());
            }
            match &self.tok {
                Tok::Sym(".") => {
                    self.advance()?;
                    let n = self.name()?;
                    e = Expr {
                        k: E::Index(Box::new(e), Box::new(Expr { k: E::Str(n), line })),
                        line,
                    };
                }
                Tok::Sym("[") => {
                    self.advance()?;
                    let k = self.expr()?;
                    self.expect("]")?;
                    e = Expr {
                        k: E::Index(Box::new(e), Box::new(k)),
                        line,
                    };
                }
                Tok::Sym(":") => {
                    self.advance()?;
                    let n = self.name()?;
                    let args = self.args()?;
                    e = Expr {
                        k: E::Method(Box::new(e), n, args),
                        line: start,
                    };
                }
                Tok::Sym("(") | Tok::Sym("{") | Tok::Str(_) => {
                    let args = self.args()?;
                    e = Expr {
                        k: E::Call(Box::new(e), args),
                        line: start,
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, SynErr> {
        let line = self.line;
        match &self.tok {
            Tok::Str(s) => {
                let s = s.clone();
                self.advance()?;
                Ok(vec![Expr { k: E::Str(s), line }])
            }
            Tok::Sym("{") => Ok(vec![self.table()?]),
            Tok::Sym("(") => {
                self.advance()?;
                if self.accept(")")? {
                    return Ok(Vec::new());
                }
                let v = self.exprlist()?;
                self.expect_match(")", "(", line)?;
                Ok(v)
            }
            _ => Err(self.err_near("function arguments expected")),
        }
    }

    fn table(&mut self) -> Result<Expr, SynErr> {
        let line = self.line;
        self.expect("{")?;
        let mut fields = Vec::new();
        while !self.is("}") {
            if self.is("[") {
                self.advance()?;
                let k = self.expr()?;
                self.expect("]")?;
                self.expect("=")?;
                let v = self.expr()?;
                fields.push(Field::Named(k, v));
            } else if matches!(self.tok, Tok::Name(_))
                && matches!(self.peek_ahead()?, Tok::Sym("="))
            {
                let l = self.line;
                let n = self.name()?;
                self.expect("=")?;
                let v = self.expr()?;
                fields.push(Field::Named(
                    Expr {
                        k: E::Str(n),
                        line: l,
                    },
                    v,
                ));
            } else {
                fields.push(Field::Pos(self.expr()?));
            }
            if !self.accept(",")? && !self.accept(";")? {
                break;
            }
        }
        self.expect_match("}", "{", line)?;
        Ok(Expr {
            k: E::Table(fields),
            line,
        })
    }

    fn simple(&mut self) -> Result<Expr, SynErr> {
        let line = self.line;
        let k = match &self.tok {
            Tok::Int(i) => E::Int(*i),
            Tok::Num(f) => E::Num(*f),
            Tok::Str(s) => E::Str(s.clone()),
            Tok::Sym("nil") => E::Nil,
            Tok::Sym("true") => E::True,
            Tok::Sym("false") => E::False,
            Tok::Sym("...") => E::Vararg,
            Tok::Sym("{") => return self.table(),
            Tok::Sym("function") => {
                self.advance()?;
                return Ok(Expr {
                    k: E::Func(self.funcbody(false, line, "anonymous".into())?),
                    line,
                });
            }
            _ => return self.suffixed(),
        };
        self.advance()?;
        Ok(Expr { k, line })
    }

    fn binop(&self) -> Option<(BinOp, u8, u8)> {
        let Tok::Sym(s) = &self.tok else { return None };
        Some(match *s {
            "or" => (BinOp::Or, 1, 1),
            "and" => (BinOp::And, 2, 2),
            "<" => (BinOp::Lt, 3, 3),
            ">" => (BinOp::Gt, 3, 3),
            "<=" => (BinOp::Le, 3, 3),
            ">=" => (BinOp::Ge, 3, 3),
            "~=" => (BinOp::Ne, 3, 3),
            "==" => (BinOp::Eq, 3, 3),
            "|" => (BinOp::BOr, 4, 4),
            "~" => (BinOp::BXor, 5, 5),
            "&" => (BinOp::BAnd, 6, 6),
            "<<" => (BinOp::Shl, 7, 7),
            ">>" => (BinOp::Shr, 7, 7),
            ".." => (BinOp::Concat, 9, 8),
            "+" => (BinOp::Add, 10, 10),
            "-" => (BinOp::Sub, 10, 10),
            "*" => (BinOp::Mul, 11, 11),
            "/" => (BinOp::Div, 11, 11),
            "//" => (BinOp::IDiv, 11, 11),
            "%" => (BinOp::Mod, 11, 11),
            "^" => (BinOp::Pow, 14, 13),
            _ => return None,
        })
    }

    /// An expression.
    fn expr(&mut self) -> Result<Expr, SynErr> {
        self.subexpr(0)
    }

    fn subexpr(&mut self, limit: u8) -> Result<Expr, SynErr> {
        self.enter()?;
        let line = self.line;
        let un = match &self.tok {
            Tok::Sym("not") => Some(UnOp::Not),
            Tok::Sym("-") => Some(UnOp::Neg),
            Tok::Sym("#") => Some(UnOp::Len),
            Tok::Sym("~") => Some(UnOp::BNot),
            _ => None,
        };
        let mut e = if let Some(op) = un {
            self.advance()?;
            let operand = self.subexpr(12)?;
            fold_unary(op, operand, line)
        } else {
            self.simple()?
        };
        let mut chain = 0;
        while let Some((op, left, right)) = self.binop() {
            if left <= limit {
                break;
            }
            chain += 1;
            if self.depth + chain > MAX_CHAIN {
                return Err(self.too_complex());
            }
            let line = self.line;
            self.advance()?;
            let rhs = self.subexpr(right)?;
            e = Expr {
                k: E::Bin(op, Box::new(e), Box::new(rhs)),
                line,
            };
        }
        self.depth -= 1;
        Ok(e)
    }
}

fn fold_unary(op: UnOp, e: Expr, line: u32) -> Expr {
    match (op, &e.k) {
        (UnOp::Neg, E::Int(i)) => Expr {
            k: E::Int(i.wrapping_neg()),
            line,
        },
        (UnOp::Neg, E::Num(f)) => Expr {
            k: E::Num(-f),
            line,
        },
        _ => Expr {
            k: E::Un(op, Box::new(e)),
            line,
        },
    }
}
