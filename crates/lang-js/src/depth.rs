//! A guard against source nested deeper than Boa's recursive-descent parser
//! (and its compiler, and the AST's drop) can take on an 8 MiB stack.
//!
//! Boa has no depth limit of its own, so 100,000 `(` overflow the native
//! stack. Before any source reaches the parser, [`nesting`] makes one
//! linear pass that over-approximates the parser's recursion: every open
//! bracket counts, and so does every operator or keyword token since the
//! last `,`, `;` or bracket at the same level (prefix operators, `=`
//! chains, `?:`, `=>`, `if` without braces and left-deep binary chains all
//! recurse somewhere in the parser, compiler or drop). A chain of comma
//! operators (`a, a, a`, not the commas of a literal, a call or a
//! declaration) is left-deep too, and counts one level per
//! [`COMMAS_PER_LEVEL`]. Sources scoring over [`MAX_NESTING`] are refused
//! with a `SyntaxError`.

/// The highest [`nesting`] score a source may have. Measured on an 8 MiB
/// stack: in a release build Boa's parser takes 200 nested parentheses and
/// overflows at 300 (25 to 40 KiB of stack per level); in a debug build
/// (the workspace's dev profile, Boa at opt-level 2 with debug assertions)
/// it overflows near 50, so debug builds of this crate guard at 40.
pub const MAX_NESTING: usize = if cfg!(debug_assertions) { 40 } else { 180 };

/// A comma operator costs the parser and compiler far less stack than a
/// bracket (a left-deep chain, measured to overflow a debug build's 8 MiB
/// near 3,500 commas), so this many of them count as one level.
const COMMAS_PER_LEVEL: usize = 16;

/// What the last token was, to tell what a bracket or comma that follows it
/// means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Nothing, `;`, a block's `}` or a statement header's `)`: a statement
    /// starts here.
    Statement,
    /// An identifier, literal or closing bracket: an operand ended.
    Operand,
    /// An operator or `(`, `[`, `,`: an operand is expected.
    Operator,
    /// A keyword.
    Keyword(&'static [u8]),
    /// A `:`, after a label (a block may follow) or in a literal or `?:`.
    Colon,
}

/// One open bracket.
struct Level {
    /// The enclosing level's operator count and comma count when it opened.
    saved_ops: usize,
    saved_commas: usize,
    saved_decl: bool,
    /// A template substitution (`${`).
    template: bool,
    /// The enclosing level's [`Scan::operator_commas`].
    saved_operator_commas: bool,
    /// A statement header's parentheses (`if (...)`) or a block: a
    /// statement follows it.
    before_statement: bool,
}

/// The scanner's state at the current level.
struct Scan {
    stack: Vec<Level>,
    /// The score saved on the stack.
    held: usize,
    /// Operators since the last separator at this level.
    ops: usize,
    /// Comma operators in the current chain.
    commas: usize,
    /// Whether commas here separate declarations (`var a, b`).
    decl: bool,
    /// Whether commas here are comma operators (a parenthesized expression,
    /// a block, a computed member) rather than separators (an array or
    /// object literal, arguments, parameters).
    operator_commas: bool,
    last: Last,
}

impl Scan {
    fn score(&self) -> usize {
        self.held + self.stack.len() + self.ops + self.commas / COMMAS_PER_LEVEL
    }

    /// Opens a level; `kind` is the bracket (`` ` `` for a substitution).
    fn open(&mut self, kind: u8) {
        let last = self.last;
        let header = kind == b'('
            && matches!(
                last,
                Last::Keyword(b"if" | b"while" | b"for" | b"with" | b"switch" | b"catch")
            );
        let inner_operator = match kind {
            b'`' => true,
            // A call's arguments or a function's parameters, or grouping.
            b'(' => !matches!(
                last,
                Last::Operand | Last::Keyword(b"function" | b"async" | b"super" | b"import")
            ),
            // A computed member, or an array literal.
            b'[' => matches!(last, Last::Operand | Last::Keyword(b"this" | b"super")),
            // An object literal where an operand is expected, a block (or
            // something ambiguous, counted as one) elsewhere.
            _ => !matches!(
                last,
                Last::Operator
                    | Last::Keyword(
                        b"return"
                            | b"var"
                            | b"let"
                            | b"const"
                            | b"import"
                            | b"export"
                            | b"typeof"
                            | b"void"
                            | b"await"
                            | b"yield"
                            | b"throw"
                            | b"in"
                            | b"of"
                            | b"case"
                    )
            ),
        };
        self.stack.push(Level {
            saved_ops: self.ops,
            saved_commas: self.commas,
            saved_decl: self.decl,
            template: kind == b'`',
            saved_operator_commas: self.operator_commas,
            before_statement: header || (kind == b'{' && inner_operator),
        });
        self.held += self.ops + self.commas / COMMAS_PER_LEVEL;
        self.ops = 0;
        self.commas = 0;
        self.decl = false;
        self.operator_commas = inner_operator;
        self.last = if kind == b'{' {
            Last::Statement
        } else {
            Last::Operator
        };
    }

    /// Closes a level; returns whether it was a template substitution.
    fn close(&mut self) -> bool {
        let Some(level) = self.stack.pop() else {
            self.last = Last::Operand;
            return false;
        };
        self.held -= level.saved_ops + level.saved_commas / COMMAS_PER_LEVEL;
        self.ops = level.saved_ops + 1;
        self.commas = level.saved_commas;
        self.decl = level.saved_decl;
        self.operator_commas = level.saved_operator_commas;
        self.last = if level.before_statement {
            Last::Statement
        } else {
            Last::Operand
        };
        level.template
    }
}

/// The nesting score of `source` (see the module documentation). Strings,
/// comments, template text and regular expression literals do not count.
pub fn nesting(source: &str) -> usize {
    let b = source.as_bytes();
    let mut i = 0;
    let mut s = Scan {
        stack: Vec::new(),
        held: 0,
        ops: 0,
        commas: 0,
        decl: false,
        operator_commas: true,
        last: Last::Statement,
    };
    let mut max = 0usize;
    // Whether a `/` here starts a regular expression (no operand before it).
    let mut regex_ok = true;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                // A declaration list goes on over a line break only after a
                // comma or an operator.
                if s.last == Last::Operand
                    && !matches!(next_significant(b, i + 1), Some(b',' | b'=' | b'.'))
                {
                    s.decl = false;
                }
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b'\'' | b'"' => {
                i = skip_string(b, i + 1, c);
                regex_ok = false;
                s.last = Last::Operand;
            }
            b'`' => {
                let (end, substitution) = skip_template(b, i + 1);
                if substitution {
                    s.open(b'`');
                    regex_ok = true;
                } else {
                    regex_ok = false;
                    s.last = Last::Operand;
                }
                i = end;
                s.ops += 1;
            }
            b'/' if regex_ok => {
                i = skip_regex(b, i + 1);
                regex_ok = false;
                s.last = Last::Operand;
            }
            b'(' | b'[' | b'{' => {
                s.open(c);
                regex_ok = true;
                i += 1;
            }
            b')' | b']' | b'}' => {
                let template = s.close();
                i += 1;
                regex_ok = c == b'}';
                if template && c == b'}' {
                    let (end, substitution) = skip_template(b, i);
                    if substitution {
                        s.last = Last::Operator;
                        s.open(b'`');
                        regex_ok = true;
                    } else {
                        regex_ok = false;
                    }
                    i = end;
                }
            }
            b',' => {
                if s.operator_commas && !s.decl {
                    s.commas += 1;
                }
                s.ops = 0;
                regex_ok = true;
                s.last = Last::Operator;
                i += 1;
            }
            b';' => {
                s.ops = 0;
                s.commas = 0;
                s.decl = false;
                regex_ok = true;
                s.last = Last::Statement;
                i += 1;
            }
            b'0'..=b'9' | b'.' if !is_punct_dot(b, i) => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_')
                {
                    i += 1;
                }
                regex_ok = false;
                s.last = Last::Operand;
            }
            _ if c == b'_' || c == b'$' || c == b'\\' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] == b'\\'
                        || b[i].is_ascii_alphanumeric()
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &b[start..i];
                let keyword = KEYWORDS.iter().find(|k| **k == word).copied();
                if keyword.is_some() {
                    s.ops += 1;
                }
                if matches!(word, b"var" | b"let" | b"const") {
                    s.decl = true;
                }
                let literal = matches!(word, b"this" | b"super" | b"true" | b"false" | b"null");
                // After a keyword like `return` or `typeof` an expression
                // (and so a regular expression) may follow.
                regex_ok = keyword.is_some() && !literal;
                s.last = match keyword {
                    Some(k) if !matches!(word, b"true" | b"false" | b"null") => Last::Keyword(k),
                    _ => Last::Operand,
                };
            }
            _ => {
                // Punctuators: every operator character counts (a run of
                // `!` nests as deeply as it is long).
                let start = i;
                while i < b.len() && b"+-*%=<>!~&|^?:.@#".contains(&b[i]) {
                    i += 1;
                }
                if i < b.len() && !b"+-*%=<>!~&|^?:.@#".contains(&c) {
                    i += 1;
                }
                s.ops += (i - start).max(1);
                regex_ok = true;
                // `a++` and `a--` leave an operand.
                let run = &b[start..i];
                if run == b":" {
                    s.last = Last::Colon;
                } else if run != b"++" && run != b"--" {
                    s.last = Last::Operator;
                }
            }
        }
        max = max.max(s.score());
    }
    max
}

/// The next byte after `i` that is not white space.
fn next_significant(b: &[u8], mut i: usize) -> Option<u8> {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    b.get(i).copied()
}

/// Whether the `.` at `i` is punctuation (member access or spread) rather
/// than the start of a number like `.5`.
fn is_punct_dot(b: &[u8], i: usize) -> bool {
    b[i] == b'.' && !b.get(i + 1).is_some_and(u8::is_ascii_digit)
}

/// Keywords that start a nested construct or an operand-taking operator.
const KEYWORDS: &[&[u8]] = &[
    b"if",
    b"else",
    b"for",
    b"while",
    b"do",
    b"with",
    b"return",
    b"throw",
    b"new",
    b"typeof",
    b"void",
    b"delete",
    b"await",
    b"yield",
    b"function",
    b"class",
    b"async",
    b"case",
    b"in",
    b"of",
    b"instanceof",
    b"try",
    b"catch",
    b"finally",
    b"switch",
    b"let",
    b"const",
    b"var",
    b"this",
    b"super",
    b"true",
    b"false",
    b"null",
    b"import",
    b"export",
    b"extends",
];

fn skip_string(b: &[u8], mut i: usize, quote: u8) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == quote || c == b'\n' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Skips template text from `i`; returns where scanning resumes and whether
/// it stopped at a `${` substitution (rather than the closing backtick).
fn skip_template(b: &[u8], mut i: usize) -> (usize, bool) {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'`' => return (i + 1, false),
            b'$' if b.get(i + 1) == Some(&b'{') => return (i + 2, true),
            _ => i += 1,
        }
    }
    (i, false)
}

fn skip_regex(b: &[u8], mut i: usize) -> usize {
    let mut class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'[' => {
                class = true;
                i += 1;
            }
            b']' => {
                class = false;
                i += 1;
            }
            b'/' if !class => {
                i += 1;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                return i;
            }
            b'\n' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_code_scores_low() {
        let src = "function f(a, b) { if (a > b) { return a + b * 2; } return [1, 2, 3].map((x) => x * 2); }\n\
                   const s = `a ${1 + 2} b`; const r = /[(]+/g; // ((((\n /* (((( */ '(((('";
        assert!(nesting(src) < 20, "{}", nesting(src));
    }

    #[test]
    fn nesting_counts_brackets_and_operator_chains() {
        assert!(nesting(&"(".repeat(5000)) >= 5000);
        assert!(nesting(&"!".repeat(5000)) >= 5000);
        assert!(nesting(&"a=".repeat(5000)) >= 5000);
        assert!(nesting(&"1+".repeat(5000)) >= 5000);
        assert!(nesting(&"`${".repeat(5000)) >= 5000);
        assert!(nesting(&"if(1)".repeat(5000)) >= 5000);
        // Commas and semicolons end a chain.
        assert!(nesting(&"1+1;".repeat(5000)) < 10);
        assert!(nesting(&format!("[{}]", "1,".repeat(5000))) < 10);
        // Comma operators chain; the commas of literals, calls and
        // declarations do not.
        let chain = "a,".repeat(5000);
        assert!(nesting(&chain) >= 5000 / COMMAS_PER_LEVEL);
        assert!(nesting(&format!("({chain}a)")) >= 5000 / COMMAS_PER_LEVEL);
        assert!(nesting(&format!("{{{chain}a}}")) >= 5000 / COMMAS_PER_LEVEL);
        assert!(nesting(&format!("if (1) ({chain}a)")) >= 5000 / COMMAS_PER_LEVEL);
        assert!(nesting(&format!("l: {{{chain}a}}")) >= 5000 / COMMAS_PER_LEVEL);
        assert!(nesting(&format!("x[{chain}a]")) >= 5000 / COMMAS_PER_LEVEL);
        assert!(nesting(&format!("var x = 1\n{chain}a")) >= 5000 / COMMAS_PER_LEVEL);
        for flat in [
            format!("f({chain}a)"),
            format!("x = {{{}}}", "a: 1,".repeat(5000)),
            format!("x = [{chain}a]"),
            format!("var {chain}a"),
            format!("let x = 1,\n{}", "y = 2,\n".repeat(5000)),
            format!("function f({chain}a) {{}}"),
            format!("const {{{chain}a}} = o"),
        ] {
            assert!(nesting(&flat) < 10, "{}: {}", &flat[..12], nesting(&flat));
        }
    }
}
