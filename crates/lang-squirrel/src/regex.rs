//! The `regexp` class's engine: the reference's pattern syntax compiled to
//! a small program run by a backtracking matcher with an explicit stack
//! (no host recursion) and a step budget charged to the instruction limit.

/// A set of bytes.
type ByteSet = [u64; 4];

fn set_has(s: &ByteSet, b: u8) -> bool {
    s[usize::from(b >> 6)] & (1 << (b & 63)) != 0
}

fn set_add(s: &mut ByteSet, b: u8) {
    s[usize::from(b >> 6)] |= 1 << (b & 63);
}

#[derive(Debug, Clone)]
enum Inst {
    Set(usize),
    Bol,
    Eol,
    Word(bool),
    /// Try the first target, backtrack to the second.
    Split(usize, usize),
    Jmp(usize),
    Save(usize),
    Match,
}

#[derive(Debug, Clone)]
enum Node {
    Set(ByteSet),
    Bol,
    Eol,
    Word(bool),
    Group(Option<usize>, Box<Node>),
    Cat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, usize, Option<usize>),
}

/// A compiled pattern.
#[derive(Debug)]
pub(crate) struct Regex {
    prog: Vec<Inst>,
    sets: Vec<ByteSet>,
    /// Capture groups, including the whole match.
    pub groups: usize,
}

/// Largest `{n,m}` count, and largest program, accepted.
const MAX_REPEAT: usize = 1000;
const MAX_PROG: usize = 100_000;

struct Parser<'a> {
    p: &'a [u8],
    i: usize,
    groups: usize,
}

fn class_of(c: u8) -> Option<ByteSet> {
    let mut s = [0u64; 4];
    let (pred, neg): (fn(u8) -> bool, bool) = match c {
        b'a' => (|b: u8| b.is_ascii_alphabetic(), false),
        b'A' => (|b: u8| b.is_ascii_alphabetic(), true),
        b'w' => (|b: u8| b.is_ascii_alphanumeric() || b == b'_', false),
        b'W' => (|b: u8| b.is_ascii_alphanumeric() || b == b'_', true),
        b's' => (
            |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 11 | 12),
            false,
        ),
        b'S' => (
            |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 11 | 12),
            true,
        ),
        b'd' => (|b: u8| b.is_ascii_digit(), false),
        b'D' => (|b: u8| b.is_ascii_digit(), true),
        b'x' => (|b: u8| b.is_ascii_hexdigit(), false),
        b'X' => (|b: u8| b.is_ascii_hexdigit(), true),
        b'c' => (|b: u8| b.is_ascii_control(), false),
        b'C' => (|b: u8| b.is_ascii_control(), true),
        b'p' => (|b: u8| b.is_ascii_punctuation(), false),
        b'P' => (|b: u8| b.is_ascii_punctuation(), true),
        b'l' => (|b: u8| b.is_ascii_lowercase(), false),
        b'u' => (|b: u8| b.is_ascii_uppercase(), false),
        _ => return None,
    };
    for b in 0..=255u8 {
        if pred(b) != neg {
            set_add(&mut s, b);
        }
    }
    Some(s)
}

fn escape_byte(c: u8) -> u8 {
    match c {
        b't' => b'\t',
        b'n' => b'\n',
        b'r' => b'\r',
        b'f' => 12,
        c => c,
    }
}

fn single(b: u8) -> ByteSet {
    let mut s = [0u64; 4];
    set_add(&mut s, b);
    s
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.p.get(self.i).copied()
    }

    fn alt(&mut self) -> Result<Node, String> {
        let mut alts = vec![self.seq()?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            alts.push(self.seq()?);
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Node::Cat(Vec::new()))
        } else {
            Node::Alt(alts)
        })
    }

    fn seq(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quant(atom)?);
        }
        Ok(Node::Cat(items))
    }

    fn number(&mut self) -> Option<usize> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.p[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn quant(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.peek() {
            Some(b'*') => (0, None),
            Some(b'+') => (1, None),
            Some(b'?') => (0, Some(1)),
            Some(b'{') => {
                self.i += 1;
                let n = self.number().ok_or("expected number")?;
                let m = if self.peek() == Some(b',') {
                    self.i += 1;
                    if self.peek() == Some(b'}') {
                        None
                    } else {
                        Some(self.number().ok_or("expected number")?)
                    }
                } else {
                    Some(n)
                };
                if self.peek() != Some(b'}') {
                    return Err("expected '}'".to_owned());
                }
                if n > MAX_REPEAT || m.is_some_and(|m| m > MAX_REPEAT || m < n) {
                    return Err("invalid repetition".to_owned());
                }
                (n, m)
            }
            _ => return Ok(atom),
        };
        self.i += 1;
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn atom(&mut self) -> Result<Node, String> {
        let c = self.peek().ok_or("unexpected end")?;
        self.i += 1;
        Ok(match c {
            b'(' => {
                let cap = if self.p[self.i..].starts_with(b"?:") {
                    self.i += 2;
                    None
                } else {
                    self.groups += 1;
                    Some(self.groups)
                };
                let inner = self.alt()?;
                if self.peek() != Some(b')') {
                    return Err("expected ')'".to_owned());
                }
                self.i += 1;
                Node::Group(cap, Box::new(inner))
            }
            b'[' => self.class()?,
            b'.' => Node::Set([u64::MAX; 4]),
            b'^' => Node::Bol,
            b'$' => Node::Eol,
            b'\\' => {
                let e = self.peek().ok_or("unexpected end")?;
                self.i += 1;
                match e {
                    b'b' => Node::Word(true),
                    b'B' => Node::Word(false),
                    e => match class_of(e) {
                        Some(s) => Node::Set(s),
                        None => Node::Set(single(escape_byte(e))),
                    },
                }
            }
            b'*' | b'+' | b'?' | b'{' => return Err("nothing to repeat".to_owned()),
            c => Node::Set(single(c)),
        })
    }

    fn class(&mut self) -> Result<Node, String> {
        let mut s = [0u64; 4];
        let neg = self.peek() == Some(b'^');
        if neg {
            self.i += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek().ok_or("unfinished class")?;
            if c == b']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            self.i += 1;
            let lo = if c == b'\\' {
                let e = self.peek().ok_or("unfinished class")?;
                self.i += 1;
                if let Some(cs) = class_of(e) {
                    for (d, x) in s.iter_mut().zip(cs) {
                        *d |= x;
                    }
                    continue;
                }
                escape_byte(e)
            } else {
                c
            };
            if self.peek() == Some(b'-') && self.p.get(self.i + 1).is_some_and(|&n| n != b']') {
                self.i += 1;
                let mut hi = self.peek().ok_or("unfinished class")?;
                self.i += 1;
                if hi == b'\\' {
                    hi = escape_byte(self.peek().ok_or("unfinished class")?);
                    self.i += 1;
                }
                if hi < lo {
                    return Err("invalid range".to_owned());
                }
                for b in lo..=hi {
                    set_add(&mut s, b);
                }
            } else {
                set_add(&mut s, lo);
            }
        }
        if neg {
            for x in &mut s {
                *x = !*x;
            }
        }
        Ok(Node::Set(s))
    }
}

struct Gen {
    prog: Vec<Inst>,
    sets: Vec<ByteSet>,
}

impl Gen {
    fn emit(&mut self, i: Inst) -> Result<usize, String> {
        if self.prog.len() >= MAX_PROG {
            return Err("expression too big".to_owned());
        }
        self.prog.push(i);
        Ok(self.prog.len() - 1)
    }

    fn node(&mut self, n: &Node) -> Result<(), String> {
        match n {
            Node::Set(s) => {
                self.sets.push(*s);
                self.emit(Inst::Set(self.sets.len() - 1))?;
            }
            Node::Bol => {
                self.emit(Inst::Bol)?;
            }
            Node::Eol => {
                self.emit(Inst::Eol)?;
            }
            Node::Word(b) => {
                self.emit(Inst::Word(*b))?;
            }
            Node::Group(cap, inner) => {
                if let Some(c) = cap {
                    self.emit(Inst::Save(c * 2))?;
                }
                self.node(inner)?;
                if let Some(c) = cap {
                    self.emit(Inst::Save(c * 2 + 1))?;
                }
            }
            Node::Cat(items) => {
                for i in items {
                    self.node(i)?;
                }
            }
            Node::Alt(alts) => {
                let mut ends = Vec::new();
                for (k, a) in alts.iter().enumerate() {
                    if k + 1 < alts.len() {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.node(a)?;
                        ends.push(self.emit(Inst::Jmp(0))?);
                        let next = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, next);
                    } else {
                        self.node(a)?;
                    }
                }
                let end = self.prog.len();
                for e in ends {
                    self.prog[e] = Inst::Jmp(end);
                }
            }
            Node::Repeat(inner, min, max) => {
                for _ in 0..*min {
                    self.node(inner)?;
                }
                match max {
                    None => {
                        let split = self.emit(Inst::Split(0, 0))?;
                        self.node(inner)?;
                        self.emit(Inst::Jmp(split))?;
                        let end = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, end);
                    }
                    Some(m) => {
                        let mut splits = Vec::new();
                        for _ in *min..*m {
                            splits.push(self.emit(Inst::Split(0, 0))?);
                            self.node(inner)?;
                        }
                        let end = self.prog.len();
                        for s in splits {
                            self.prog[s] = Inst::Split(s + 1, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Regex {
    /// Compiles a pattern.
    pub(crate) fn new(pattern: &[u8]) -> Result<Regex, String> {
        let mut p = Parser {
            p: pattern,
            i: 0,
            groups: 0,
        };
        let node = p.alt()?;
        if p.i < pattern.len() {
            return Err("unexpected character".to_owned());
        }
        let mut g = Gen {
            prog: Vec::new(),
            sets: Vec::new(),
        };
        g.emit(Inst::Save(0))?;
        g.node(&node)?;
        g.emit(Inst::Save(1))?;
        g.emit(Inst::Match)?;
        Ok(Regex {
            prog: g.prog,
            sets: g.sets,
            groups: p.groups + 1,
        })
    }

    /// Matches at exactly `start`; the capture slots on success. `budget`
    /// is decremented per step; `None` with budget 0 means it ran out.
    pub(crate) fn match_at(
        &self,
        s: &[u8],
        start: usize,
        budget: &mut u64,
    ) -> Option<Vec<Option<usize>>> {
        let mut caps: Vec<Option<usize>> = vec![None; self.groups * 2];
        // Backtrack entries: (pc, pos) or a capture restore (slot, old).
        enum Bt {
            At(usize, usize),
            Restore(usize, Option<usize>),
        }
        let mut stack = vec![Bt::At(0, start)];
        while let Some(top) = stack.pop() {
            let (mut pc, mut pos) = match top {
                Bt::At(pc, pos) => (pc, pos),
                Bt::Restore(slot, old) => {
                    caps[slot] = old;
                    continue;
                }
            };
            loop {
                if *budget == 0 {
                    return None;
                }
                *budget -= 1;
                match self.prog[pc] {
                    Inst::Set(i) => {
                        if pos < s.len() && set_has(&self.sets[i], s[pos]) {
                            pos += 1;
                            pc += 1;
                        } else {
                            break;
                        }
                    }
                    Inst::Bol => {
                        if pos == 0 {
                            pc += 1;
                        } else {
                            break;
                        }
                    }
                    Inst::Eol => {
                        if pos == s.len() {
                            pc += 1;
                        } else {
                            break;
                        }
                    }
                    Inst::Word(want) => {
                        let w = |i: usize| {
                            s.get(i)
                                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                        };
                        let at = (pos > 0 && w(pos - 1)) != w(pos);
                        if at == want {
                            pc += 1;
                        } else {
                            break;
                        }
                    }
                    Inst::Split(a, b) => {
                        stack.push(Bt::At(b, pos));
                        pc = a;
                    }
                    Inst::Jmp(t) => pc = t,
                    Inst::Save(slot) => {
                        stack.push(Bt::Restore(slot, caps[slot]));
                        caps[slot] = Some(pos);
                        pc += 1;
                    }
                    Inst::Match => return Some(caps),
                }
            }
        }
        None
    }
}
