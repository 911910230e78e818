//! Parser: tokens to an [`crate::ast::File`]. Recursive descent over Intel's EDL
//! grammar; after a syntax error it skips to the next `;` so that one
//! diagnostic is reported per problem.

use std::sync::Arc;

use crate::ast::{
    Attr, AttrValue, BaseType, CompoundDef, CompoundKind, Declarator, Dim, EnumDef, EnumValue,
    File, Function, Ident, Import, Include, Item, Prim, TypeRef, Variant,
};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Token, TokenKind, lex};

/// Syntax errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseError {
    /// A token where another was expected.
    Syntax,
    /// C type words that do not combine (`short long`).
    InvalidTypeWords,
}

/// At most this many diagnostics are reported for one file.
const MAX_ERRORS: usize = 100;

/// Parses one EDL file's text. `file` is the name used in diagnostics.
pub fn parse(file: &Arc<str>, src: &str) -> Result<File, Vec<Diagnostic>> {
    let (tokens, mut errors) = lex(file, src);
    let mut p = Parser {
        tokens,
        pos: 0,
        errors: Vec::new(),
    };
    let items = p.file();
    errors.append(&mut p.errors);
    errors.truncate(MAX_ERRORS);
    if errors.is_empty() {
        Ok(File {
            path: file.clone(),
            items,
        })
    } else {
        Err(errors)
    }
}

/// A syntax error on its way up to the recovery point.
struct Bail;

type PResult<T> = Result<T, Bail>;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    errors: Vec<Diagnostic>,
}

fn describe(tok: &Token) -> String {
    match tok.kind {
        TokenKind::Eof => "end of file".to_string(),
        _ => tok.text.clone(),
    }
}

/// Words that can start or continue a C base type.
const TYPE_WORDS: &[&str] = &[
    "void", "char", "short", "int", "long", "signed", "unsigned", "float", "double", "size_t",
    "wchar_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t",
    "uint64_t", "struct", "union", "enum", "const",
];

impl Parser {
    fn peek(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.pos + ahead).min(last)]
    }

    fn next(&mut self) -> Token {
        let tok = self.peek().clone();
        if tok.kind != TokenKind::Eof {
            self.pos += 1;
        }
        tok
    }

    fn is(&self, kind: &TokenKind) -> bool {
        &self.peek().kind == kind
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Ident(w) if w == word)
    }

    fn error(&mut self, expected: &str) -> Bail {
        let tok = self.peek().clone();
        self.errors.push(
            Diagnostic::new(ParseError::Syntax, tok.span.clone(), "syntax error")
                .found(describe(&tok))
                .expected(expected),
        );
        Bail
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> PResult<Token> {
        if self.is(&kind) {
            Ok(self.next())
        } else {
            Err(self.error(expected))
        }
    }

    fn expect_word(&mut self, word: &str) -> PResult<Token> {
        if self.is_word(word) {
            Ok(self.next())
        } else {
            Err(self.error(&format!("`{word}`")))
        }
    }

    fn ident(&mut self, expected: &str) -> PResult<Ident> {
        match &self.peek().kind {
            TokenKind::Ident(name) => {
                let name = name.clone();
                let span = self.next().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.error(expected)),
        }
    }

    /// Skips to just after the next `;` at the current nesting level, or to
    /// just before a `}` closing the current level.
    fn recover(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek().kind {
                TokenKind::Eof => return,
                TokenKind::Semi if depth == 0 => {
                    self.next();
                    return;
                }
                TokenKind::LBrace | TokenKind::LParen | TokenKind::LBracket => depth += 1,
                TokenKind::RBrace if depth == 0 => return,
                TokenKind::RBrace | TokenKind::RParen | TokenKind::RBracket => {
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            self.next();
        }
    }

    fn file(&mut self) -> Vec<Item> {
        let mut items = Vec::new();
        if self.file_inner(&mut items).is_err() {
            // The error is recorded; the outer structure is beyond repair.
        }
        items
    }

    fn file_inner(&mut self, items: &mut Vec<Item>) -> PResult<()> {
        self.expect_word("enclave")?;
        self.expect(TokenKind::LBrace, "`{` after `enclave`")?;
        while !self.is(&TokenKind::RBrace) && !self.is(&TokenKind::Eof) {
            if self.errors.len() >= MAX_ERRORS {
                return Err(Bail);
            }
            if self.item(items).is_err() {
                self.recover();
            }
        }
        self.expect(TokenKind::RBrace, "`}` closing `enclave {`")?;
        if self.is(&TokenKind::Semi) {
            self.next();
        }
        if !self.is(&TokenKind::Eof) {
            return Err(self.error("end of file after `enclave { ... };`"));
        }
        Ok(())
    }

    fn item(&mut self, items: &mut Vec<Item>) -> PResult<()> {
        let tok = self.peek().clone();
        let word = match &tok.kind {
            TokenKind::Ident(w) => w.clone(),
            _ => {
                return Err(self.error(
                    "`trusted`, `untrusted`, `struct`, `union`, `enum`, `include` or `from`",
                ));
            }
        };
        match word.as_str() {
            "include" => {
                self.next();
                let t = self.peek().clone();
                match t.kind {
                    TokenKind::Str(header) => {
                        self.next();
                        items.push(Item::Include(Include {
                            header,
                            span: t.span,
                        }));
                        // Intel's grammar has no `;` here, but tolerate one.
                        if self.is(&TokenKind::Semi) {
                            self.next();
                        }
                        Ok(())
                    }
                    _ => Err(self.error("a header name in quotes after `include`")),
                }
            }
            "from" => {
                self.next();
                let t = self.peek().clone();
                let TokenKind::Str(file) = t.kind else {
                    return Err(self.error("an EDL file name in quotes after `from`"));
                };
                self.next();
                self.expect_word("import")?;
                let names = if self.is(&TokenKind::Star) {
                    self.next();
                    None
                } else {
                    let mut names = vec![self.ident("`*` or a function name after `import`")?];
                    while self.is(&TokenKind::Comma) {
                        self.next();
                        names.push(self.ident("a function name after `,`")?);
                    }
                    Some(names)
                };
                self.expect(TokenKind::Semi, "`;` after the import list")?;
                items.push(Item::Import(Import {
                    file,
                    span: t.span,
                    names,
                }));
                Ok(())
            }
            "struct" | "union" => {
                self.next();
                let kind = if word == "struct" {
                    CompoundKind::Struct
                } else {
                    CompoundKind::Union
                };
                let name = self.ident(&format!("a name after `{word}`"))?;
                self.expect(
                    TokenKind::LBrace,
                    &format!("`{{` after `{word} {}`", name.name),
                )?;
                let mut members = Vec::new();
                while !self.is(&TokenKind::RBrace) {
                    if self.is(&TokenKind::Eof) {
                        return Err(self.error(&format!("`}}` closing `{word} {}`", name.name)));
                    }
                    let m = self.declarator("a member type")?;
                    self.expect(TokenKind::Semi, "`;` after a member")?;
                    members.push(m);
                }
                self.next();
                self.expect(
                    TokenKind::Semi,
                    &format!("`;` after the `{word}` definition"),
                )?;
                items.push(Item::Compound(CompoundDef {
                    kind,
                    name,
                    members,
                }));
                Ok(())
            }
            "enum" => {
                let span = self.next().span;
                let name = if matches!(self.peek().kind, TokenKind::Ident(_)) {
                    Some(self.ident("a name")?)
                } else {
                    None
                };
                self.expect(TokenKind::LBrace, "`{` starting the enumerators")?;
                let mut variants = Vec::new();
                while !self.is(&TokenKind::RBrace) {
                    let vname = self.ident("an enumerator name or `}`")?;
                    let value = if self.is(&TokenKind::Eq) {
                        self.next();
                        Some(self.enum_value()?)
                    } else {
                        None
                    };
                    variants.push(Variant { name: vname, value });
                    if self.is(&TokenKind::Comma) {
                        self.next();
                    } else if !self.is(&TokenKind::RBrace) {
                        return Err(self.error("`,` or `}` after an enumerator"));
                    }
                }
                self.next();
                self.expect(TokenKind::Semi, "`;` after the `enum` definition")?;
                items.push(Item::Enum(EnumDef {
                    name,
                    span,
                    variants,
                }));
                Ok(())
            }
            "trusted" | "untrusted" => {
                self.next();
                let trusted = word == "trusted";
                self.expect(TokenKind::LBrace, &format!("`{{` after `{word}`"))?;
                while !self.is(&TokenKind::RBrace) {
                    if self.is(&TokenKind::Eof) {
                        return Err(self.error(&format!("`}}` closing `{word} {{`")));
                    }
                    if self.errors.len() >= MAX_ERRORS {
                        return Err(Bail);
                    }
                    match self.function() {
                        Ok(f) => items.push(if trusted {
                            Item::Trusted(f)
                        } else {
                            Item::Untrusted(f)
                        }),
                        Err(Bail) => self.recover(),
                    }
                }
                self.next();
                self.expect(TokenKind::Semi, &format!("`;` after the `{word}` block"))?;
                Ok(())
            }
            _ => Err(self
                .error("`trusted`, `untrusted`, `struct`, `union`, `enum`, `include` or `from`")),
        }
    }

    fn enum_value(&mut self) -> PResult<EnumValue> {
        let neg_span = if self.is(&TokenKind::Minus) {
            Some(self.next().span)
        } else {
            None
        };
        let t = self.peek().clone();
        match t.kind {
            TokenKind::Int(v) => {
                self.next();
                let v = i128::from(v);
                Ok(EnumValue::Int(
                    if neg_span.is_some() { -v } else { v },
                    neg_span.unwrap_or(t.span),
                ))
            }
            TokenKind::Ident(_) if neg_span.is_none() => {
                Ok(EnumValue::Name(self.ident("an enumerator value")?))
            }
            _ => Err(self.error("an integer or an enumerator name")),
        }
    }

    fn attrs(&mut self) -> PResult<Vec<Attr>> {
        let mut attrs = Vec::new();
        if !self.is(&TokenKind::LBracket) {
            return Ok(attrs);
        }
        self.next();
        if self.is(&TokenKind::RBracket) {
            self.next();
            return Ok(attrs);
        }
        loop {
            let name = self.ident("an attribute such as `in`, `out`, `size=...`")?;
            let value = if self.is(&TokenKind::Eq) {
                self.next();
                let t = self.peek().clone();
                match t.kind {
                    TokenKind::Int(v) => {
                        self.next();
                        Some(AttrValue::Int(v, t.span))
                    }
                    TokenKind::Ident(_) => Some(AttrValue::Name(self.ident("a value")?)),
                    _ => {
                        return Err(self.error(&format!(
                            "an integer or a parameter name after `{}=`",
                            name.name
                        )));
                    }
                }
            } else {
                None
            };
            attrs.push(Attr { name, value });
            if self.is(&TokenKind::Comma) {
                self.next();
                continue;
            }
            self.expect(TokenKind::RBracket, "`,` or `]` in the attribute list")?;
            return Ok(attrs);
        }
    }

    fn is_type_start(&self) -> bool {
        matches!(&self.peek().kind, TokenKind::Ident(_))
    }

    /// `const`? base `const`? `*`* (with `const` after a star ignored).
    fn type_ref(&mut self, expected: &str) -> PResult<TypeRef> {
        if !self.is_type_start() {
            return Err(self.error(expected));
        }
        let span = self.peek().span.clone();
        let mut is_const = false;
        while self.is_word("const") {
            self.next();
            is_const = true;
        }
        let base = self.base_type()?;
        while self.is_word("const") {
            self.next();
            is_const = true;
        }
        let mut pointers = 0u32;
        while self.is(&TokenKind::Star) {
            self.next();
            pointers = pointers.saturating_add(1);
            while self.is_word("const") {
                self.next();
            }
        }
        let mut text = String::new();
        if is_const {
            text.push_str("const ");
        }
        text.push_str(&match &base {
            BaseType::Void => "void".to_string(),
            BaseType::Prim(p) => p.c_name().to_string(),
            BaseType::Struct(i) => format!("struct {}", i.name),
            BaseType::Union(i) => format!("union {}", i.name),
            BaseType::Enum(i) => format!("enum {}", i.name),
            BaseType::Named(i) => i.name.clone(),
        });
        for _ in 0..pointers.min(8) {
            text.push('*');
        }
        Ok(TypeRef {
            is_const,
            base,
            pointers,
            span,
            text,
        })
    }

    fn base_type(&mut self) -> PResult<BaseType> {
        let t = self.peek().clone();
        let TokenKind::Ident(word) = &t.kind else {
            return Err(self.error("a type"));
        };
        let fixed = match word.as_str() {
            "void" => Some(BaseType::Void),
            "float" => Some(BaseType::Prim(Prim::Float)),
            "double" => Some(BaseType::Prim(Prim::Double)),
            "size_t" => Some(BaseType::Prim(Prim::SizeT)),
            "wchar_t" => Some(BaseType::Prim(Prim::WcharT)),
            "int8_t" => Some(BaseType::Prim(Prim::I8)),
            "int16_t" => Some(BaseType::Prim(Prim::I16)),
            "int32_t" => Some(BaseType::Prim(Prim::I32)),
            "int64_t" => Some(BaseType::Prim(Prim::I64)),
            "uint8_t" => Some(BaseType::Prim(Prim::U8)),
            "uint16_t" => Some(BaseType::Prim(Prim::U16)),
            "uint32_t" => Some(BaseType::Prim(Prim::U32)),
            "uint64_t" => Some(BaseType::Prim(Prim::U64)),
            _ => None,
        };
        if let Some(b) = fixed {
            self.next();
            return Ok(b);
        }
        match word.as_str() {
            "struct" | "union" | "enum" => {
                let kw = word.clone();
                self.next();
                let name = self.ident(&format!("a type name after `{kw}`"))?;
                return Ok(match kw.as_str() {
                    "struct" => BaseType::Struct(name),
                    "union" => BaseType::Union(name),
                    _ => BaseType::Enum(name),
                });
            }
            "signed" | "unsigned" | "short" | "long" | "int" | "char" => {
                return self.c_integer();
            }
            _ => {}
        }
        if TYPE_WORDS.contains(&word.as_str()) {
            return Err(self.error("a type"));
        }
        Ok(BaseType::Named(self.ident("a type")?))
    }

    /// Combinations of `signed`, `unsigned`, `short`, `long`, `int`, `char`.
    fn c_integer(&mut self) -> PResult<BaseType> {
        let start = self.peek().clone();
        let (mut signed, mut unsigned, mut short, mut long, mut int, mut char_) =
            (0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
        let mut words = Vec::new();
        while let TokenKind::Ident(w) = &self.peek().kind {
            let w = w.clone();
            match w.as_str() {
                "signed" => signed += 1,
                "unsigned" => unsigned += 1,
                "short" => short += 1,
                "long" => long += 1,
                "int" => int += 1,
                "char" => char_ += 1,
                _ => break,
            }
            words.push(w);
            self.next();
            if words.len() > 4 {
                break;
            }
        }
        let bad = signed + unsigned > 1
            || int > 1
            || char_ > 1
            || short > 1
            || long > 2
            || (short > 0 && long > 0)
            || (char_ > 0 && (short + long + int) > 0);
        if bad {
            self.errors.push(
                Diagnostic::new(
                    ParseError::InvalidTypeWords,
                    start.span,
                    "invalid combination of C type words",
                )
                .found(words.join(" "))
                .expected("a C integer type such as `unsigned long long` or `short int`"),
            );
            return Err(Bail);
        }
        let uns = unsigned > 0;
        let p = if char_ > 0 {
            if uns {
                Prim::UChar
            } else if signed > 0 {
                Prim::SChar
            } else {
                Prim::Char
            }
        } else if short > 0 {
            if uns { Prim::UShort } else { Prim::Short }
        } else if long == 2 {
            if uns { Prim::ULongLong } else { Prim::LongLong }
        } else if long == 1 {
            if uns { Prim::ULong } else { Prim::Long }
        } else if uns {
            Prim::UInt
        } else {
            Prim::Int
        };
        Ok(BaseType::Prim(p))
    }

    fn dims(&mut self) -> PResult<Vec<Dim>> {
        let mut dims = Vec::new();
        while self.is(&TokenKind::LBracket) {
            self.next();
            let t = self.peek().clone();
            let d = match t.kind {
                TokenKind::Int(v) => {
                    self.next();
                    Dim::Int(v, t.span)
                }
                TokenKind::Ident(_) => Dim::Name(self.ident("an array size")?),
                _ => return Err(self.error("an array size (an integer or a constant's name)")),
            };
            self.expect(TokenKind::RBracket, "`]` after the array size")?;
            dims.push(d);
            if dims.len() > 8 {
                return Err(self.error("at most 8 array dimensions"));
            }
        }
        Ok(dims)
    }

    /// `[attrs]? type name dims`.
    fn declarator(&mut self, expected: &str) -> PResult<Declarator> {
        let attrs = self.attrs()?;
        let ty = self.type_ref(expected)?;
        let name = self.ident(&format!("a name after the type `{}`", ty.text))?;
        let dims = self.dims()?;
        Ok(Declarator {
            attrs,
            ty,
            name,
            dims,
        })
    }

    fn function(&mut self) -> PResult<Function> {
        let span = self.peek().span.clone();
        let mut public = None;
        let mut attrs = Vec::new();
        // `public` and `[...]` may come in either order.
        for _ in 0..2 {
            if self.is_word("public") {
                public = Some(self.next().span);
            }
            if self.is(&TokenKind::LBracket) {
                attrs.extend(self.attrs()?);
            }
        }
        let ret = self.type_ref("a function declaration (return type first)")?;
        let name = self.ident(&format!("a function name after `{}`", ret.text))?;
        self.expect(TokenKind::LParen, "`(` after the function name")?;
        let mut params = Vec::new();
        let void_only = self.is_word("void") && matches!(self.peek_at(1).kind, TokenKind::RParen);
        if void_only {
            self.next();
        }
        if !self.is(&TokenKind::RParen) {
            loop {
                params.push(self.declarator("a parameter type or `)`")?);
                if params.len() > 256 {
                    return Err(self.error("at most 256 parameters"));
                }
                if self.is(&TokenKind::Comma) {
                    self.next();
                    continue;
                }
                break;
            }
        }
        self.expect(TokenKind::RParen, "`,` or `)` in the parameter list")?;
        let mut allow = None;
        let mut suffixes = Vec::new();
        while !self.is(&TokenKind::Semi) {
            if self.is_word("allow") {
                let s = self.next().span;
                self.expect(TokenKind::LParen, "`(` after `allow`")?;
                let mut names = Vec::new();
                while !self.is(&TokenKind::RParen) {
                    names.push(self.ident("an ECALL name in `allow(...)`")?);
                    if self.is(&TokenKind::Comma) {
                        self.next();
                    } else if !self.is(&TokenKind::RParen) {
                        return Err(self.error("`,` or `)` in `allow(...)`"));
                    }
                }
                self.next();
                allow = Some((s, names));
            } else if matches!(self.peek().kind, TokenKind::Ident(_)) {
                suffixes.push(self.ident("a function attribute")?);
                if suffixes.len() > 8 {
                    return Err(self.error("`;`"));
                }
            } else {
                return Err(self.error(
                    "`;`, `allow(...)`, `propagate_errno` or `transition_using_threads` after the parameter list",
                ));
            }
        }
        self.next();
        Ok(Function {
            name,
            span,
            public,
            attrs,
            ret,
            params,
            allow,
            suffixes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> File {
        let name: Arc<str> = Arc::from("t.edl");
        parse(&name, src).unwrap_or_else(|d| panic!("{d:?}"))
    }

    fn only_fn(file: &File) -> &Function {
        file.items
            .iter()
            .find_map(|i| match i {
                Item::Trusted(f) | Item::Untrusted(f) => Some(f),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn c_integer_words_combine() {
        let f = parse_ok(
            "enclave { trusted { public void f(unsigned a, long long b, unsigned long long c, short int d, signed char e, long int g); }; };",
        );
        let prims: Vec<BaseType> = only_fn(&f)
            .params
            .iter()
            .map(|p| p.ty.base.clone())
            .collect();
        assert_eq!(
            prims,
            [
                Prim::UInt,
                Prim::LongLong,
                Prim::ULongLong,
                Prim::Short,
                Prim::SChar,
                Prim::Long
            ]
            .map(BaseType::Prim)
        );
    }

    #[test]
    fn const_pointers_and_arrays() {
        let f = parse_ok(
            "enclave { untrusted { [cdecl] char const * const * o([in] const int a[2][3], void** p); }; };",
        );
        let f = only_fn(&f);
        assert!(f.ret.is_const);
        assert_eq!(f.ret.pointers, 2);
        assert_eq!(f.params[0].dims.len(), 2);
        assert_eq!(f.params[1].ty.pointers, 2);
        assert_eq!(f.attrs[0].name.name, "cdecl");
    }

    #[test]
    fn suffixes_in_any_order() {
        let f = parse_ok(
            "enclave { untrusted { void o(void) transition_using_threads allow(a, b) propagate_errno; }; };",
        );
        let f = only_fn(&f);
        assert!(f.params.is_empty());
        assert_eq!(f.allow.as_ref().unwrap().1.len(), 2);
        assert_eq!(f.suffixes.len(), 2);
    }

    #[test]
    fn positions_are_reported() {
        let name: Arc<str> = Arc::from("t.edl");
        let d = parse(
            &name,
            "enclave {\n  trusted {\n    public void f(int x\n  };\n};",
        )
        .unwrap_err();
        assert_eq!((d[0].span.line, d[0].span.col), (4, 3));
        assert_eq!(d[0].found.as_deref(), Some("}"));
    }
}
