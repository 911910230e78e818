//! A guard against source nested deeper than Boa's recursive-descent parser
//! (and its compiler, and the AST's drop) can take on an 8 MiB stack.
//!
//! Boa has no depth limit of its own, so 100,000 `(` overflow the native
//! stack. Before any source reaches the parser, [`nesting`] makes one
//! linear pass that over-approximates the parser's recursion: every open
//! bracket counts, and so does every operator or keyword token since the
//! last `,`, `;` or bracket at the same level (prefix operators, `=`
//! chains, `?:`, `=>`, `if` without braces and left-deep binary chains all
//! recurse somewhere in the parser, compiler or drop). Sources scoring over
//! [`MAX_NESTING`] are refused with a `SyntaxError`.

/// The highest [`nesting`] score a source may have. Measured on an 8 MiB
/// stack: in a release build Boa's parser takes 200 nested parentheses and
/// overflows at 300 (25 to 40 KiB of stack per level); in a debug build
/// (the workspace's dev profile, Boa at opt-level 2 with debug assertions)
/// it overflows near 50, so debug builds of this crate guard at 40.
pub const MAX_NESTING: usize = if cfg!(debug_assertions) { 40 } else { 180 };

/// The nesting score of `source` (see the module documentation). Strings,
/// comments, template text and regular expression literals do not count.
pub fn nesting(source: &str) -> usize {
    let b = source.as_bytes();
    let mut i = 0;
    // Per open bracket: the operator count of its level when it opened, and
    // whether it is a template substitution (`${`).
    let mut stack: Vec<(usize, bool)> = Vec::new();
    let mut held = 0usize; // sum of the counts saved on the stack
    let mut ops = 0usize;
    let mut max = 0usize;
    // Whether a `/` here starts a regular expression (no operand before it).
    let mut regex_ok = true;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
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
            }
            b'`' => {
                match skip_template(b, i + 1) {
                    (end, true) => {
                        stack.push((ops, true));
                        held += ops;
                        ops = 0;
                        regex_ok = true;
                        i = end;
                    }
                    (end, false) => {
                        regex_ok = false;
                        i = end;
                    }
                }
                ops += 1;
            }
            b'/' if regex_ok => {
                i = skip_regex(b, i + 1);
                regex_ok = false;
            }
            b'(' | b'[' | b'{' => {
                stack.push((ops, false));
                held += ops;
                ops = 0;
                regex_ok = true;
                i += 1;
            }
            b')' | b']' | b'}' => {
                let template = match stack.pop() {
                    Some((saved, template)) => {
                        held -= saved;
                        ops = saved + 1;
                        template
                    }
                    None => false,
                };
                i += 1;
                if template && c == b'}' {
                    match skip_template(b, i) {
                        (end, true) => {
                            stack.push((ops, true));
                            held += ops;
                            ops = 0;
                            regex_ok = true;
                            i = end;
                            continue;
                        }
                        (end, false) => i = end,
                    }
                }
                regex_ok = c == b'}';
            }
            b',' | b';' => {
                ops = 0;
                regex_ok = true;
                i += 1;
            }
            b'0'..=b'9' | b'.' if !is_punct_dot(b, i) => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_')
                {
                    i += 1;
                }
                regex_ok = false;
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
                let keyword = KEYWORDS.contains(&word);
                if keyword {
                    ops += 1;
                }
                // After a keyword like `return` or `typeof` an expression
                // (and so a regular expression) may follow.
                regex_ok =
                    keyword && !matches!(word, b"this" | b"super" | b"true" | b"false" | b"null");
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
                ops += (i - start).max(1);
                regex_ok = true;
            }
        }
        max = max.max(held + stack.len() + ops);
    }
    max
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
    }
}
