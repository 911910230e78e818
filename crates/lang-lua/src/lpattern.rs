//! Lua patterns: a backtracking matcher over bytes with captures, character
//! classes, sets, `%b`, `%f`, anchors and position captures. Recursion is
//! bounded; a too complex pattern is an error, never a host stack overflow.
//! Every step is charged to the run's instruction budget: a pattern like
//! `.-.-.-b` takes time polynomial in the subject (C Lua spends minutes on
//! 3,000 bytes), and one native call must not buy unbounded time for one
//! instruction.

/// A capture: a byte range, or a position capture.
#[derive(Debug, Clone, Copy)]
pub enum Cap {
    /// Bytes `start..end`.
    Range(usize, usize),
    /// `()` capture: a 1-based position.
    Pos(usize),
}

const MAX_CAPS: usize = 32;
const MAX_DEPTH: usize = 200;

/// Matcher state for one attempt.
#[derive(Debug)]
pub struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    /// Captures: (start, length or CAP_UNF / CAP_POS).
    caps: Vec<(usize, isize)>,
    depth: usize,
    /// Steps left of the instruction budget while a [`Matcher::try_at`] runs.
    left: i64,
}

const CAP_UNF: isize = -1;
const CAP_POS: isize = -2;

/// Why a match failed to complete.
#[derive(Debug)]
pub enum PErr {
    /// A malformed or too deeply nested pattern: a Lua error.
    Msg(String),
    /// The instruction budget ran out.
    Budget,
}

impl From<&str> for PErr {
    fn from(m: &str) -> PErr {
        PErr::Msg(m.to_owned())
    }
}

impl<'a> Matcher<'a> {
    /// A matcher of `pat` over `src`.
    pub fn new(src: &'a [u8], pat: &'a [u8]) -> Matcher<'a> {
        Matcher {
            src,
            pat,
            caps: Vec::new(),
            depth: 0,
            left: 0,
        }
    }

    /// Tries a match at `s` with the pattern from `p`; the end on success.
    /// Each step takes one unit off `budget` (the VM's instructions left).
    pub fn try_at(&mut self, s: usize, p: usize, budget: &mut i64) -> Result<Option<usize>, PErr> {
        self.caps.clear();
        self.depth = 0;
        self.left = *budget;
        let r = self.do_match(s, p);
        *budget = self.left;
        r
    }

    /// The captures of the last match (the whole match when there are none).
    pub fn captures(&self, s: usize, e: usize, whole_if_none: bool) -> Result<Vec<Cap>, PErr> {
        if self.caps.is_empty() && whole_if_none {
            return Ok(vec![Cap::Range(s, e)]);
        }
        self.caps
            .iter()
            .map(|&(st, l)| match l {
                CAP_POS => Ok(Cap::Pos(st + 1)),
                CAP_UNF => Err("unfinished capture".into()),
                l => Ok(Cap::Range(st, st + l as usize)),
            })
            .collect()
    }

    fn class_end(&self, mut p: usize) -> Result<usize, PErr> {
        let c = self.pat[p];
        p += 1;
        if c == b'%' {
            if p >= self.pat.len() {
                return Err("malformed pattern (ends with '%')".into());
            }
            return Ok(p + 1);
        }
        if c == b'[' {
            if self.pat.get(p) == Some(&b'^') {
                p += 1;
            }
            loop {
                if p >= self.pat.len() {
                    return Err("malformed pattern (missing ']')".into());
                }
                let cc = self.pat[p];
                p += 1;
                if cc == b'%' {
                    p += 1;
                }
                match self.pat.get(p) {
                    Some(b']') => return Ok(p + 1),
                    None => return Err("malformed pattern (missing ']')".into()),
                    _ => {}
                }
            }
        }
        Ok(p)
    }

    fn single(&self, s: usize, p: usize, ep: usize) -> bool {
        if s >= self.src.len() {
            return false;
        }
        let c = self.src[s];
        match self.pat[p] {
            b'.' => true,
            b'%' => class_match(c, self.pat[p + 1]),
            b'[' => self.set_match(c, p, ep - 1),
            pc => pc == c,
        }
    }

    fn set_match(&self, c: u8, p: usize, ec: usize) -> bool {
        let mut p = p + 1;
        let mut neg = false;
        if self.pat[p] == b'^' {
            neg = true;
            p += 1;
        }
        while p < ec {
            if self.pat[p] == b'%' && p + 1 < ec {
                p += 1;
                if class_match(c, self.pat[p]) {
                    return !neg;
                }
                p += 1;
            } else if p + 2 < ec && self.pat[p + 1] == b'-' {
                if self.pat[p] <= c && c <= self.pat[p + 2] {
                    return !neg;
                }
                p += 3;
            } else {
                if self.pat[p] == c {
                    return !neg;
                }
                p += 1;
            }
        }
        neg
    }

    fn do_match(&mut self, mut s: usize, mut p: usize) -> Result<Option<usize>, PErr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("pattern too complex".into());
        }
        self.left -= 1;
        if self.left < 0 {
            return Err(PErr::Budget);
        }
        let r = loop {
            if p >= self.pat.len() {
                break Some(s);
            }
            match self.pat[p] {
                b'(' => {
                    let r = if self.pat.get(p + 1) == Some(&b')') {
                        self.start_cap(s, p + 2, CAP_POS)?
                    } else {
                        self.start_cap(s, p + 1, CAP_UNF)?
                    };
                    break r;
                }
                b')' => {
                    let l = self
                        .caps
                        .iter()
                        .rposition(|c| c.1 == CAP_UNF)
                        .ok_or("invalid pattern capture")?;
                    self.caps[l].1 = (s - self.caps[l].0) as isize;
                    let r = self.do_match(s, p + 1)?;
                    if r.is_none() {
                        self.caps[l].1 = CAP_UNF;
                    }
                    break r;
                }
                b'$' if p + 1 == self.pat.len() => {
                    break if s == self.src.len() { Some(s) } else { None };
                }
                b'%' if self.pat.get(p + 1) == Some(&b'b') => {
                    if p + 3 >= self.pat.len() {
                        return Err("malformed pattern (missing arguments to '%b')".into());
                    }
                    let (open, close) = (self.pat[p + 2], self.pat[p + 3]);
                    if s >= self.src.len() || self.src[s] != open {
                        break None;
                    }
                    let mut depth = 1;
                    let mut i = s + 1;
                    let mut found = None;
                    while i < self.src.len() {
                        let c = self.src[i];
                        if c == close {
                            depth -= 1;
                            if depth == 0 {
                                found = Some(i + 1);
                                break;
                            }
                        } else if c == open {
                            depth += 1;
                        }
                        i += 1;
                    }
                    match found {
                        Some(e) => {
                            s = e;
                            p += 4;
                            continue;
                        }
                        None => break None,
                    }
                }
                b'%' if self.pat.get(p + 1) == Some(&b'f') => {
                    p += 2;
                    if self.pat.get(p) != Some(&b'[') {
                        return Err("missing '[' after '%f' in pattern".into());
                    }
                    let ep = self.class_end(p)?;
                    let prev = if s == 0 { 0 } else { self.src[s - 1] };
                    let cur = self.src.get(s).copied().unwrap_or(0);
                    if !self.set_match(prev, p, ep - 1) && self.set_match(cur, p, ep - 1) {
                        p = ep;
                        continue;
                    }
                    break None;
                }
                b'%' if self.pat.get(p + 1).is_some_and(u8::is_ascii_digit) => {
                    let l = (self.pat[p + 1] as usize).wrapping_sub(b'1' as usize);
                    let Some(&(st, len)) = self.caps.get(l) else {
                        if l == usize::MAX {
                            return Err("invalid capture index %0".into());
                        }
                        return Err(PErr::Msg(format!("invalid capture index %{}", l + 1)));
                    };
                    if len < 0 {
                        return Err(PErr::Msg(format!("invalid capture index %{}", l + 1)));
                    }
                    let len = len as usize;
                    if self.src.len() - s >= len && self.src[st..st + len] == self.src[s..s + len] {
                        s += len;
                        p += 2;
                        continue;
                    }
                    break None;
                }
                _ => {
                    let ep = self.class_end(p)?;
                    let m = self.single(s, p, ep);
                    match self.pat.get(ep) {
                        Some(b'?') => {
                            if m && let Some(r) = self.do_match(s + 1, ep + 1)? {
                                break Some(r);
                            }
                            p = ep + 1;
                            continue;
                        }
                        Some(b'+') => {
                            break if m {
                                self.max_expand(s + 1, p, ep)?
                            } else {
                                None
                            };
                        }
                        Some(b'*') => break self.max_expand(s, p, ep)?,
                        Some(b'-') => break self.min_expand(s, p, ep)?,
                        _ => {
                            if !m {
                                break None;
                            }
                            s += 1;
                            p = ep;
                        }
                    }
                }
            }
        };
        self.depth -= 1;
        Ok(r)
    }

    fn start_cap(&mut self, s: usize, p: usize, what: isize) -> Result<Option<usize>, PErr> {
        if self.caps.len() >= MAX_CAPS {
            return Err("too many captures".into());
        }
        self.caps.push((s, what));
        let r = self.do_match(s, p)?;
        if r.is_none() {
            self.caps.pop();
        }
        Ok(r)
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Result<Option<usize>, PErr> {
        let mut i = 0;
        while self.single(s + i, p, ep) {
            i += 1;
        }
        loop {
            if let Some(r) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(r));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> Result<Option<usize>, PErr> {
        loop {
            if let Some(r) = self.do_match(s, ep + 1)? {
                return Ok(Some(r));
            }
            if self.single(s, p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }
}

fn class_match(c: u8, cl: u8) -> bool {
    let r = match cl.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        b'z' => c == 0,
        _ => return cl == c,
    };
    if cl.is_ascii_uppercase() { !r } else { r }
}
