//! A conservative bound on how deeply a source nests, checked before
//! RustPython parses it: its parser and compiler recurse on the native
//! stack once per nesting level (brackets, operator chains, blocks) and
//! have no depth limit of their own, so 100,000 nested parentheses would
//! overflow the stack. CPython refuses more than 200 nested brackets; this
//! refuses an estimated depth over [`MAX_DEPTH`].

/// The deepest estimated nesting accepted.
pub(crate) const MAX_DEPTH: usize = 200;

/// The 1-based line where `source`'s estimated nesting first passes
/// [`MAX_DEPTH`], or `None` when it never does.
///
/// The estimate per position: for each open bracket, one plus the operators
/// (and operator keywords, `.`) seen since the last `,`, `:`, `;`, `=` or
/// opening at that level, plus the block indentation. Left-associative
/// chains (`1 + 1 + ...`, `a.b.c...`) build trees as deep as they are long,
/// so counting their operators bounds the depth of the tree.
pub(crate) fn too_deep(source: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut line = 1;
    // Operators since the last separator, per open bracket (index 0: none).
    let mut levels: Vec<usize> = vec![0];
    let mut indents: Vec<usize> = vec![0];
    let mut at_line_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if at_line_start && levels.len() == 1 {
            let start = i;
            while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
                i += 1;
            }
            if i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r' | b'#') {
                let width = i - start;
                while indents.last().is_some_and(|&w| w > width) {
                    indents.pop();
                }
                if indents.last().is_some_and(|&w| w < width) {
                    indents.push(width);
                }
            }
            at_line_start = false;
            continue;
        }
        match c {
            b'\n' => {
                line += 1;
                if levels.len() == 1 {
                    levels[0] = 0;
                    at_line_start = true;
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\'' | b'"' => {
                let (end, lines, depth) = skip_string(bytes, i, false);
                line += lines;
                if depth + levels.len() + indents.len() > MAX_DEPTH {
                    return Some(line);
                }
                i = end;
                continue;
            }
            b'(' | b'[' | b'{' => levels.push(0),
            b')' | b']' | b'}' if levels.len() > 1 => {
                levels.pop();
            }
            b',' | b':' | b';' | b'=' => {
                if let Some(last) = levels.last_mut() {
                    *last = 0;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'@' | b'&' | b'|' | b'^' | b'~' | b'<' | b'>'
            | b'.' => {
                if let Some(last) = levels.last_mut() {
                    *last += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &source[start..i];
                if matches!(
                    word,
                    "not" | "and" | "or" | "if" | "else" | "lambda" | "await" | "in" | "is"
                ) && let Some(last) = levels.last_mut()
                {
                    *last += 1;
                }
                // A string prefix (r, b, f, rb...) is followed by its quote.
                if i < bytes.len() && matches!(bytes[i], b'\'' | b'"') && word.len() <= 2 {
                    let fstring = word.contains(['f', 'F', 't', 'T']);
                    let (end, lines, depth) = skip_string(bytes, i, fstring);
                    line += lines;
                    if depth + levels.len() + indents.len() > MAX_DEPTH {
                        return Some(line);
                    }
                    i = end;
                }
                continue;
            }
            _ => {}
        }
        let depth = levels.iter().sum::<usize>() + levels.len() + indents.len();
        if depth > MAX_DEPTH {
            return Some(line);
        }
        i += 1;
    }
    None
}

/// Skips the string literal opening at `start`: its end, the newlines in
/// it, and (for an f-string, whose fields are code) the deepest bracket
/// nesting inside it.
fn skip_string(bytes: &[u8], start: usize, fstring: bool) -> (usize, usize, usize) {
    let quote = bytes[start];
    let triple = bytes.len() >= start + 3 && bytes[start + 1] == quote && bytes[start + 2] == quote;
    let mut i = start + if triple { 3 } else { 1 };
    let (mut lines, mut depth, mut deepest) = (0, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'\n' => {
                lines += 1;
                if !triple {
                    return (i, lines - 1, deepest);
                }
            }
            b'{' | b'(' | b'[' if fstring => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b')' | b']' if fstring => depth = depth.saturating_sub(1),
            c if c == quote => {
                if !triple {
                    return (i + 1, lines, deepest);
                }
                if bytes.len() >= i + 3 && bytes[i + 1] == quote && bytes[i + 2] == quote {
                    return (i + 3, lines, deepest);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (i, lines, deepest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_code_passes() {
        let source = "def f(a, b=-1):\n    return [x * 2 + 1 for x in range(a) if not x % 2]\nd = {-1: -2, -3: -4}\ns = 'a-b-c' + f\"{a!r}\"\n";
        assert_eq!(too_deep(source), None);
        let long_literal = format!("x = [{}]\n", "-1, ".repeat(100_000));
        assert_eq!(too_deep(&long_literal), None);
        assert_eq!(too_deep(&format!("s = '{}'\n", "(".repeat(1000))), None);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let parens = format!("x = 1\ny = {}1{}\n", "(".repeat(1000), ")".repeat(1000));
        assert_eq!(too_deep(&parens), Some(2));
        assert!(too_deep(&format!("x = 1{}\n", " + 1".repeat(1000))).is_some());
        assert!(too_deep(&format!("x = {}1\n", "-".repeat(1000))).is_some());
        assert!(too_deep(&format!("x = {}1\n", "not ".repeat(1000))).is_some());
        assert!(too_deep(&format!("x = f'{}'\n", "{(".repeat(1000))).is_some());
        assert_eq!(
            too_deep(&format!("x = {}1{}\n", "(".repeat(150), ")".repeat(150))),
            None
        );
    }
}
