//! The code generator: syntax tree to register bytecode. Locals live in
//! fixed registers; temporaries are allocated above them and freed after
//! each statement; conditions compile to test-and-jump pairs.

use std::rc::Rc;

use crate::heap::Heap;
use crate::parser::{Attrib, BinOp, Block, E, Expr, Field, FuncBody, S, Stat, UnOp};
use crate::proto::*;
use crate::value::Value;

type CResult<T> = Result<T, String>;

#[derive(Debug)]
struct Local {
    name: Vec<u8>,
    reg: u8,
    attrib: Attrib,
    captured: bool,
    info: usize,
}

#[derive(Debug)]
struct BlockScope {
    nactive: usize,
    is_loop: bool,
    breaks: Vec<usize>,
    labels: Vec<(Vec<u8>, usize, usize, u32)>,
    gotos: Vec<Goto>,
    has_close: bool,
}

#[derive(Debug, Clone)]
struct Goto {
    name: Vec<u8>,
    pc: usize,
    nactive: usize,
    line: u32,
}

#[derive(Debug)]
struct FuncState {
    p: Proto,
    actives: Vec<Local>,
    blocks: Vec<BlockScope>,
    freereg: usize,
    kcache: Vec<(Value, u32)>,
}

/// The compiler for one chunk.
#[derive(Debug)]
pub struct Compiler<'h> {
    heap: &'h mut Heap,
    fs: Vec<FuncState>,
    source: Rc<str>,
    chunkname: Rc<[u8]>,
    text: u32,
    line: u32,
    /// The line a global, upvalue or indexed left operand of a binary
    /// operator is read on: the operator's, as C Lua charges it.
    discharge: Option<u32>,
}

/// Compiles a parsed chunk into its main function.
pub fn compile(
    body: &FuncBody,
    heap: &mut Heap,
    source: &str,
    chunkname: &[u8],
    text: &[u8],
) -> CResult<Rc<Proto>> {
    let text = heap.intern(text);
    let mut c = Compiler {
        heap,
        fs: Vec::new(),
        source: source.into(),
        chunkname: chunkname.into(),
        text,
        line: 0,
        discharge: None,
    };
    // The main chunk's only upvalue is _ENV.
    let p = c.function(body, Some(vec![(true, 0, b"_ENV".to_vec())]))?;
    Ok(Rc::new(p))
}

enum Target {
    Local(u8),
    Upval(u8),
    Index(u8, u8),
    Field(u8, u32),
    Global(u8, u32),
}

fn is_multi(e: &Expr) -> bool {
    matches!(e.k, E::Call(..) | E::Method(..) | E::Vararg)
}

impl Compiler<'_> {
    fn f(&mut self) -> &mut FuncState {
        let n = self.fs.len() - 1;
        &mut self.fs[n]
    }

    fn err(&self, msg: &str) -> String {
        format!("{}:{}: {}", self.source, self.line, msg)
    }

    fn emit(&mut self, i: u32) -> usize {
        let line = self.line;
        let f = self.f();
        f.p.code.push(i);
        f.p.lines.push(line);
        f.p.code.len() - 1
    }

    fn pc(&mut self) -> usize {
        self.f().p.code.len()
    }

    fn reserve(&mut self, n: usize) -> CResult<u8> {
        let f = self.f();
        let r = f.freereg;
        f.freereg += n;
        if f.freereg > 250 {
            return Err(self.err("function or expression needs too many registers"));
        }
        let f = self.f();
        if f.freereg > f.p.maxstack as usize {
            f.p.maxstack = f.freereg as u8;
        }
        Ok(r as u8)
    }

    fn konst(&mut self, v: Value) -> CResult<u32> {
        let f = self.f();
        for &(k, i) in &f.kcache {
            let same = match (k, v) {
                (Value::Num(a), Value::Num(b)) => a.to_bits() == b.to_bits(),
                (Value::Int(a), Value::Int(b)) => a == b,
                (Value::Int(_), _) | (Value::Num(_), _) => false,
                _ => k.raw_eq(v),
            };
            if same {
                return Ok(i);
            }
        }
        let i = f.p.consts.len() as u32;
        if i >= 0xFF_FFFF {
            return Err(self.err("too many constants"));
        }
        let f = self.f();
        f.p.consts.push(v);
        f.kcache.push((v, i));
        Ok(i)
    }

    fn str_k(&mut self, s: &[u8]) -> CResult<u32> {
        let h = self.heap.intern(s);
        self.konst(Value::Str(h, h))
    }

    fn load_k(&mut self, r: u8, k: u32) {
        if k <= 0xFFFF {
            self.emit(abx(LOADK, r, k));
        } else {
            self.emit(abx(LOADK, r, 0xFFFF));
            self.emit(k << 8 | EXTRAARG as u32);
        }
    }

    fn jump(&mut self) -> usize {
        self.emit(sj(JMP, 0))
    }

    fn patch(&mut self, at: usize, to: usize) {
        let off = to as i32 - at as i32 - 1;
        let f = self.f();
        let op = f.p.code[at] as u8;
        f.p.code[at] = sj(op, off);
    }

    fn patch_here(&mut self, list: &[usize]) {
        let here = self.pc();
        for &j in list {
            self.patch(j, here);
        }
    }

    fn function(
        &mut self,
        body: &FuncBody,
        upvals: Option<Vec<(bool, u8, Vec<u8>)>>,
    ) -> CResult<Proto> {
        // Children are compiled in order, so this one's index in its
        // parent is the parent's count of children so far.
        let path = match self.fs.last() {
            Some(parent) => {
                let mut p = parent.p.path.clone();
                p.push(parent.p.protos.len() as u32);
                p
            }
            None => Vec::new(),
        };
        let p = Proto {
            source: self.source.clone(),
            chunkname: self.chunkname.clone(),
            text: self.text,
            path,
            line: body.line,
            end_line: body.end_line,
            nparams: body.params.len().min(255) as u8,
            vararg: body.vararg,
            maxstack: 2,
            upvals: upvals.unwrap_or_default(),
            ..Proto::default()
        };
        self.fs.push(FuncState {
            p,
            actives: Vec::new(),
            blocks: Vec::new(),
            freereg: 0,
            kcache: Vec::new(),
        });
        self.open_block(false);
        for name in &body.params {
            self.add_local(name.clone(), Attrib::None)?;
        }
        self.block_stats(&body.body)?;
        // A function's final return is on its `end`; a main chunk's on its
        // last token, as C Lua charges it.
        self.line = if body.line == 0 {
            body.body.last_line
        } else {
            body.end_line
        };
        self.close_block()?;
        self.emit(abc(RETURN0, 0, 0, 0));
        let mut f = self.fs.pop().ok_or_else(|| self.err("internal"))?;
        f.p.hints = vec![Default::default(); f.p.code.len()];
        Ok(f.p)
    }

    fn open_block(&mut self, is_loop: bool) {
        let nactive = self.f().actives.len();
        self.f().blocks.push(BlockScope {
            nactive,
            is_loop,
            breaks: Vec::new(),
            labels: Vec::new(),
            gotos: Vec::new(),
            has_close: false,
        });
    }

    fn close_block(&mut self) -> CResult<()> {
        let b = self.f().blocks.pop().ok_or_else(|| self.err("internal"))?;
        let needs_close = self.f().actives[b.nactive..]
            .iter()
            .any(|l| l.captured || l.attrib == Attrib::Close);
        if needs_close && !self.fs.last().is_some_and(|f| f.blocks.is_empty()) {
            self.emit(abc(CLOSE, b.nactive as u8, 0, 0));
        }
        let names: Vec<Vec<u8>> = self.f().actives[b.nactive..]
            .iter()
            .map(|l| l.name.clone())
            .collect();
        self.remove_locals(b.nactive);
        // Resolve gotos of this block against its labels; pass others out.
        for g in b.gotos {
            if let Some(&(_, pc, nact, _)) = b.labels.iter().find(|l| l.0 == g.name) {
                if nact > g.nactive {
                    let name = String::from_utf8_lossy(
                        g.nactive
                            .checked_sub(b.nactive)
                            .and_then(|x| names.get(x))
                            .map_or(&b"?"[..], |v| &v[..]),
                    )
                    .into_owned();
                    return Err(format!(
                        "{}:{}: <goto {}> at line {} jumps into the scope of local '{}'",
                        self.source,
                        g.line,
                        String::from_utf8_lossy(&g.name),
                        g.line,
                        name
                    ));
                }
                self.fix_goto(&g, pc, nact);
            } else {
                let nactive = b.nactive;
                match self.f().blocks.last_mut() {
                    Some(outer) => outer.gotos.push(Goto {
                        nactive: g.nactive.min(nactive),
                        ..g
                    }),
                    None => {
                        return Err(format!(
                            "{}:{}: no visible label '{}' for <goto> at line {}",
                            self.source,
                            g.line,
                            String::from_utf8_lossy(&g.name),
                            g.line
                        ));
                    }
                }
            }
        }
        if b.is_loop {
            let here = self.pc();
            for j in b.breaks {
                self.fix_close_jump(j, here, b.nactive);
            }
        }
        Ok(())
    }

    fn fix_goto(&mut self, g: &Goto, pc: usize, nact: usize) {
        self.fix_close_jump(g.pc, pc, nact);
    }

    /// A goto is `CLOSE level` + `JMP`; the close goes to a no-op when no
    /// variable of the jumped-out scopes is captured.
    fn fix_close_jump(&mut self, at: usize, to: usize, level: usize) {
        self.f().p.code[at] = abc(CLOSE, level as u8, 0, 0);
        self.patch(at + 1, to);
    }

    fn remove_locals(&mut self, to: usize) {
        let pc = self.pc() as u32;
        let f = self.f();
        while f.actives.len() > to {
            if let Some(l) = f.actives.pop() {
                f.p.locals[l.info].3 = pc;
            }
        }
        f.freereg = f.actives.len();
    }

    fn add_local(&mut self, name: Vec<u8>, attrib: Attrib) -> CResult<u8> {
        if self.f().actives.len() >= 200 {
            return Err(self.err("too many local variables"));
        }
        let reg = self.f().actives.len() as u8;
        let pc = self.pc() as u32;
        let f = self.f();
        f.p.locals.push((name.clone(), reg, pc, u32::MAX));
        let info = f.p.locals.len() - 1;
        f.actives.push(Local {
            name,
            reg,
            attrib,
            captured: false,
            info,
        });
        if f.freereg < f.actives.len() {
            f.freereg = f.actives.len();
        }
        if f.freereg > f.p.maxstack as usize {
            f.p.maxstack = f.freereg as u8;
        }
        Ok(reg)
    }

    fn block_stats(&mut self, b: &Block) -> CResult<()> {
        self.block_stats_in(b, false)
    }

    /// `in_repeat`: the block is a repeat body, whose locals stay in scope
    /// in the `until` condition, so no label is at the end of their scope.
    fn block_stats_in(&mut self, b: &Block, in_repeat: bool) -> CResult<()> {
        for (i, s) in b.stats.iter().enumerate() {
            // A label followed only by void statements is outside the scope
            // of the block's locals.
            let at_end = !in_repeat && b.stats[i + 1..].iter().all(|s| matches!(s.k, S::Label(_)));
            self.stat(s, at_end)?;
            let nact = self.f().actives.len();
            self.f().freereg = nact;
        }
        Ok(())
    }

    fn block(&mut self, b: &Block, is_loop: bool) -> CResult<()> {
        self.open_block(is_loop);
        self.block_stats(b)?;
        self.line = b.end_line;
        self.close_block()
    }

    fn resolve_local(&self, level: usize, name: &[u8]) -> Option<usize> {
        self.fs[level].actives.iter().rposition(|l| l.name == name)
    }

    /// Finds or creates an upvalue for `name` in function `level`.
    fn resolve_upval(&mut self, level: usize, name: &[u8]) -> CResult<Option<u8>> {
        if let Some(i) = self.fs[level].p.upvals.iter().position(|u| u.2 == name) {
            return Ok(Some(i as u8));
        }
        if level == 0 {
            return Ok(None);
        }
        let (instack, idx) = if let Some(li) = self.resolve_local(level - 1, name) {
            let l = &mut self.fs[level - 1].actives[li];
            l.captured = true;
            (true, l.reg)
        } else {
            match self.resolve_upval(level - 1, name)? {
                Some(u) => (false, u),
                None => return Ok(None),
            }
        };
        let ups = &mut self.fs[level].p.upvals;
        if ups.len() >= 255 {
            let what = match self.fs[level].p.line {
                0 => "main function".to_string(),
                l => format!("function at line {l}"),
            };
            return Err(self.err(&format!("too many upvalues (limit is 255) in {what}")));
        }
        ups.push((instack, idx, name.to_vec()));
        Ok(Some((ups.len() - 1) as u8))
    }

    fn resolve_name(&mut self, name: &[u8]) -> CResult<Target> {
        let level = self.fs.len() - 1;
        if let Some(li) = self.resolve_local(level, name) {
            return Ok(Target::Local(self.fs[level].actives[li].reg));
        }
        if let Some(u) = self.resolve_upval(level, name)? {
            return Ok(Target::Upval(u));
        }
        let env = match self.resolve_name_env()? {
            Target::Upval(u) => u,
            Target::Local(r) => {
                let k = self.str_k(name)?;
                return Ok(Target::Field(r, k));
            }
            _ => return Err(self.err("internal")),
        };
        let k = self.str_k(name)?;
        Ok(Target::Global(env, k))
    }

    fn resolve_name_env(&mut self) -> CResult<Target> {
        let level = self.fs.len() - 1;
        if let Some(li) = self.resolve_local(level, b"_ENV") {
            return Ok(Target::Local(self.fs[level].actives[li].reg));
        }
        match self.resolve_upval(level, b"_ENV")? {
            Some(u) => Ok(Target::Upval(u)),
            None => Err(self.err("internal: no _ENV")),
        }
    }

    fn check_const(&mut self, name: &[u8]) -> CResult<()> {
        // Look the name up through the enclosing functions.
        for level in (0..self.fs.len()).rev() {
            if let Some(li) = self.resolve_local(level, name) {
                if self.fs[level].actives[li].attrib != Attrib::None {
                    return Err(self.err(&format!(
                        "attempt to assign to const variable '{}'",
                        String::from_utf8_lossy(name)
                    )));
                }
                return Ok(());
            }
        }
        Ok(())
    }

    fn stat(&mut self, s: &Stat, at_end: bool) -> CResult<()> {
        self.line = s.line;
        match &s.k {
            S::Expr(e) => {
                let r = self.reserve(0)?;
                self.call(e, r, 0)?;
            }
            S::Local(names, exprs) => {
                let base = self.f().freereg as u8;
                self.explist_to(exprs, base, names.len())?;
                for (n, a) in names {
                    let reg = self.add_local(n.clone(), *a)?;
                    if *a == Attrib::Close {
                        if let Some(b) = self.f().blocks.last_mut() {
                            b.has_close = true;
                        }
                        self.emit(abc(TBC, reg, 0, 0));
                    }
                }
            }
            S::LocalFunc(name, body) => {
                let r = self.add_local(name.clone(), Attrib::None)?;
                self.closure(body, r)?;
            }
            S::Assign(targets, exprs) => self.assign(targets, exprs, s.last)?,
            S::Do(b) => self.block(b, false)?,
            S::While(cond, b) => {
                let start = self.pc();
                let exits = self.cond_jump(cond, false)?;
                self.open_block(true);
                self.block(b, false)?;
                // The jump back is charged to the body's last token.
                self.line = b.last_line;
                let j = self.jump();
                self.patch(j, start);
                self.patch_here(&exits);
                self.close_block()?;
            }
            S::Repeat(b, cond) => {
                let start = self.pc();
                self.open_block(true);
                self.open_block(false);
                self.block_stats_in(b, true)?;
                self.line = s.line;
                // The condition sees the body's locals.
                let captured = {
                    let nb = self.f().blocks.last().map_or(0, |b| b.nactive);
                    self.f().actives[nb..].iter().any(|l| l.captured)
                };
                let exits = self.cond_jump(cond, false)?;
                if captured {
                    let nb = self.f().blocks.last().map_or(0, |b| b.nactive);
                    // Leaving: close, then continue; looping: close and jump.
                    let skip = self.jump();
                    self.patch_here(&exits);
                    self.emit(abc(CLOSE, nb as u8, 0, 0));
                    let j = self.jump();
                    self.patch(j, start);
                    self.patch_here(&[skip]);
                    self.emit(abc(CLOSE, nb as u8, 0, 0));
                } else {
                    for j in exits {
                        self.patch(j, start);
                    }
                }
                self.close_block()?;
                self.close_block()?;
            }
            S::If(arms, els) => {
                let mut ends = Vec::new();
                for (i, (cond, b)) in arms.iter().enumerate() {
                    let last = i + 1 == arms.len() && els.is_none();
                    // A value's test is charged to `then`, as C Lua does.
                    let next = self.cond_jump_at(cond, false, Some(b.first_line))?;
                    self.block(b, false)?;
                    if !last {
                        self.line = b.last_line;
                        ends.push(self.jump());
                    }
                    self.patch_here(&next);
                }
                if let Some(b) = els {
                    self.block(b, false)?;
                }
                self.patch_here(&ends);
            }
            S::NumFor(name, a, b, c, body) => {
                self.open_block(true);
                let base = self.reserve(3)?;
                self.expr_to(a, base)?;
                self.expr_to(b, base + 1)?;
                match c {
                    Some(c) => self.expr_to(c, base + 2)?,
                    None => {
                        self.emit(abx(LOADI, base + 2, 1 + 32768));
                    }
                }
                for n in [
                    b"(for state)".to_vec(),
                    b"(for state)".to_vec(),
                    b"(for state)".to_vec(),
                ] {
                    self.add_local_at(n)?;
                }
                self.line = s.line;
                let prep = self.emit(abx(FORPREP, base, 0));
                self.open_block(false);
                self.add_local(name.clone(), Attrib::None)?;
                self.reserve(0)?;
                self.block_stats(&body.stats_block())?;
                self.line = body.end_line;
                self.close_block()?;
                self.line = s.line;
                let lp = self.emit(abx(FORLOOP, base, 0));
                let f = self.f();
                f.p.code[prep] = abx(FORPREP, base, (lp - prep - 1) as u32);
                f.p.code[lp] = abx(FORLOOP, base, (lp - prep) as u32);
                self.close_block()?;
            }
            S::GenFor(names, exprs, body) => {
                self.open_block(true);
                let base = self.f().freereg as u8;
                self.explist_to(exprs, base, 4)?;
                for k in 0..4 {
                    let attrib = if k == 3 { Attrib::Close } else { Attrib::None };
                    self.add_local(b"(for state)".to_vec(), attrib)?;
                }
                self.emit(abc(TBC, base + 3, 0, 0));
                self.line = s.line;
                let prep = self.emit(abx(JMP, 0, 0));
                self.open_block(false);
                for n in names {
                    self.add_local(n.clone(), Attrib::None)?;
                }
                self.reserve(0)?;
                if self.f().freereg + 3 > self.f().p.maxstack as usize {
                    self.f().p.maxstack = (self.f().freereg + 3) as u8;
                }
                let body_start = self.pc();
                self.block_stats(&body.stats_block())?;
                self.line = body.end_line;
                self.close_block()?;
                // As C Lua: the iterator call is on the line of the
                // expressions after 'in'.
                self.line = exprs.first().map_or(s.line, |e| e.line);
                let call = self.emit(abc(TFORCALL, base, 0, names.len() as u8));
                self.patch(prep, call);
                let lp = self.emit(abx(TFORLOOP, base, 0));
                self.f().p.code[lp] = abx(TFORLOOP, base, (lp + 1 - body_start) as u32);
                self.close_block()?;
            }
            S::Return(exprs) => self.ret(exprs)?,
            S::Break => {
                let level = self.f().blocks.iter().rposition(|b| b.is_loop);
                let Some(bi) = level else {
                    return Err(format!(
                        "{}:{}: break outside a loop at line {} near <eof>",
                        self.source, s.line, s.line
                    ));
                };
                let pc = self.emit(abc(CLOSE, 0, 0, 0));
                self.jump();
                self.f().blocks[bi].breaks.push(pc);
            }
            S::Goto(name) => {
                let pc = self.emit(abc(CLOSE, 0, 0, 0));
                self.jump();
                let nactive = self.f().actives.len();
                // Backward gotos resolve now.
                let labels = self
                    .f()
                    .blocks
                    .iter()
                    .rev()
                    .find_map(|b| b.labels.iter().find(|l| &l.0 == name).cloned());
                if let Some((_, lpc, nact, _)) = labels {
                    self.fix_close_jump(pc, lpc, nact);
                } else if let Some(b) = self.f().blocks.last_mut() {
                    b.gotos.push(Goto {
                        name: name.clone(),
                        pc,
                        nactive,
                        line: s.line,
                    });
                }
            }
            S::Label(name) => {
                let dup = self
                    .f()
                    .blocks
                    .iter()
                    .find_map(|b| b.labels.iter().find(|l| &l.0 == name).map(|l| l.3));
                if let Some(first) = dup {
                    return Err(format!(
                        "{}:{}: label '{}' already defined on line {}",
                        self.source,
                        s.line,
                        String::from_utf8_lossy(name),
                        first
                    ));
                }
                let nact = if at_end {
                    self.f().blocks.last().map_or(0, |b| b.nactive)
                } else {
                    self.f().actives.len()
                };
                let pc = self.pc();
                if let Some(b) = self.f().blocks.last_mut() {
                    b.labels.push((name.clone(), pc, nact, s.line));
                }
            }
        }
        Ok(())
    }

    fn add_local_at(&mut self, name: Vec<u8>) -> CResult<u8> {
        self.add_local(name, Attrib::None)
    }

    fn ret(&mut self, exprs: &[Expr]) -> CResult<()> {
        if exprs.len() == 1 {
            if let E::Call(..) | E::Method(..) = exprs[0].k {
                let has_tbc = self.f().actives.iter().any(|l| l.attrib == Attrib::Close);
                if !has_tbc {
                    let r = self.reserve(0)?;
                    self.call(&exprs[0], r, -2)?;
                    self.emit(abc(RETURN, r, 0, 0));
                    return Ok(());
                }
            }
            if !is_multi(&exprs[0]) {
                let r = self.expr_any(&exprs[0])?;
                self.emit(abc(RETURN1, r, 0, 0));
                return Ok(());
            }
        }
        if exprs.is_empty() {
            self.emit(abc(RETURN0, 0, 0, 0));
            return Ok(());
        }
        let base = self.f().freereg as u8;
        let multi = is_multi(&exprs[exprs.len() - 1]);
        self.explist_to(exprs, base, if multi { usize::MAX } else { exprs.len() })?;
        let b = if multi { 0 } else { exprs.len() as u8 + 1 };
        self.emit(abc(RETURN, base, b, 0));
        Ok(())
    }

    /// Evaluates `exprs` into `want` consecutive registers from `base`
    /// (`usize::MAX`: all values, the last expression open).
    fn explist_to(&mut self, exprs: &[Expr], base: u8, want: usize) -> CResult<()> {
        let n = exprs.len();
        for (i, e) in exprs.iter().enumerate() {
            let r = base as usize + i;
            if i + 1 == n && is_multi(e) {
                let nres = if want == usize::MAX {
                    -1
                } else {
                    want as i32 - i as i32
                };
                if nres == -1 || nres > 0 {
                    self.f().freereg = r;
                    self.reserve(0)?;
                    self.multi(e, r as u8, nres)?;
                    if nres > 0 {
                        self.f().freereg = r;
                        self.reserve(nres as usize)?;
                    }
                    return Ok(());
                }
                // Still evaluated, results dropped.
                self.f().freereg = r;
                let rr = self.reserve(0)?;
                self.multi(e, rr, 0)?;
                continue;
            }
            if i < want {
                self.f().freereg = r;
                let rr = self.reserve(1)?;
                self.expr_to(e, rr)?;
            } else {
                let save = self.f().freereg;
                self.expr_any(e)?;
                self.f().freereg = save;
            }
        }
        if want != usize::MAX && want > n {
            let first = base as usize + n;
            self.f().freereg = first;
            self.reserve(want - n)?;
            self.emit(abc(LOADNIL, first as u8, (want - n - 1) as u8, 0));
        }
        if want != usize::MAX {
            self.f().freereg = base as usize + want;
        }
        Ok(())
    }

    fn multi(&mut self, e: &Expr, r: u8, nres: i32) -> CResult<()> {
        match &e.k {
            E::Vararg => {
                if !self.f().p.vararg {
                    return Err(self.err("cannot use '...' outside a vararg function near '...'"));
                }
                self.emit(abc(VARARG, r, 0, (nres + 1) as u8));
                Ok(())
            }
            _ => self.call(e, r, nres),
        }
    }

    /// Compiles a call with its function in `r`; `nres` results (-1: open,
    /// -2: open for a tail call).
    fn call(&mut self, e: &Expr, r: u8, nres: i32) -> CResult<()> {
        self.f().freereg = r as usize;
        let line = e.line;
        let args = match &e.k {
            E::Call(fe, args) => {
                let fr = self.reserve(1)?;
                self.expr_to(fe, fr)?;
                args
            }
            E::Method(obj, name, args) => {
                let o = self.expr_any(obj)?;
                self.f().freereg = r as usize;
                self.reserve(2)?;
                let k = self.str_k(name)?;
                self.line = line;
                if k > 255 {
                    self.emit(abc(MOVE, r + 1, o, 0));
                    let tmp = self.reserve(1)?;
                    self.load_k(tmp, k);
                    self.emit(abc(GETTABLE, r, r + 1, tmp));
                    self.f().freereg = r as usize + 2;
                } else {
                    self.emit(abc(SELF, r, o, k as u8));
                }
                args
            }
            _ => {
                return Err(self.err("internal: not a call"));
            }
        };
        let nargs_base = self.f().freereg;
        self.explist_to(args, nargs_base as u8, usize::MAX)?;
        let open = args.last().is_some_and(is_multi);
        let nargs = self.f().freereg - r as usize - 1;
        let b = if open { 0 } else { nargs as u8 + 1 };
        self.line = line;
        if nres == -2 {
            self.emit(abc(TAILCALL, r, b, 0));
        } else {
            self.emit(abc(CALL, r, b, (nres + 1) as u8));
        }
        self.f().freereg = r as usize + nres.max(0) as usize;
        Ok(())
    }

    fn closure(&mut self, body: &FuncBody, r: u8) -> CResult<()> {
        let p = self.function(body, None)?;
        // Charged to `end`, as C Lua does (a line hook sees a local
        // function defined only after its last line).
        self.line = body.end_line;
        let f = self.f();
        f.p.protos.push(Rc::new(p));
        let idx = f.p.protos.len() - 1;
        self.emit(abx(CLOSURE, r, idx as u32));
        Ok(())
    }

    /// The register holding `e`: a local's own, or a new temporary.
    fn expr_any(&mut self, e: &Expr) -> CResult<u8> {
        if let E::Name(n) = &e.k {
            let level = self.fs.len() - 1;
            if let Some(li) = self.resolve_local(level, n) {
                return Ok(self.fs[level].actives[li].reg);
            }
        }
        let r = self.reserve(1)?;
        self.expr_to(e, r)?;
        Ok(r)
    }

    /// A constant value for `e`, if it is a literal.
    fn literal(&mut self, e: &Expr) -> CResult<Option<u32>> {
        Ok(match &e.k {
            E::Int(i) => Some(self.konst(Value::Int(*i))?),
            E::Num(f) => Some(self.konst(Value::Num(*f))?),
            E::Str(s) => Some(self.str_k(s)?),
            _ => None,
        })
    }

    /// Emits code leaving the value of `e` in register `r`.
    fn expr_to(&mut self, e: &Expr, r: u8) -> CResult<()> {
        let save = self.f().freereg.max(r as usize + 1);
        self.f().freereg = save;
        self.line = e.line;
        let disch = self.discharge.take();
        match &e.k {
            E::Bin(BinOp::And, ..) | E::Bin(BinOp::Or, ..) | E::Table(_)
                if (r as usize) < self.f().actives.len() =>
            {
                // Never write a local before the whole value is computed.
                let t = self.reserve(1)?;
                self.expr_to(e, t)?;
                self.emit(abc(MOVE, r, t, 0));
            }
            E::Nil => {
                self.emit(abc(LOADNIL, r, 0, 0));
            }
            E::True => {
                self.emit(abc(LOADBOOL, r, 1, 0));
            }
            E::False => {
                self.emit(abc(LOADBOOL, r, 0, 0));
            }
            E::Int(i) => {
                if (-32768..32767).contains(i) {
                    self.emit(abx(LOADI, r, (*i + 32768) as u32));
                } else {
                    let k = self.konst(Value::Int(*i))?;
                    self.load_k(r, k);
                }
            }
            E::Num(f) => {
                if f.fract() == 0.0
                    && (-32768.0..32767.0).contains(f)
                    && !(*f == 0.0 && f.is_sign_negative())
                {
                    self.emit(abx(LOADF, r, (*f as i64 + 32768) as u32));
                } else {
                    let k = self.konst(Value::Num(*f))?;
                    self.load_k(r, k);
                }
            }
            E::Str(s) => {
                let k = self.str_k(s)?;
                self.load_k(r, k);
            }
            // A target that is the newest register and no local's: the call
            // runs in it, as C Lua's does (no MOVE after every call that
            // is an operand: `fib(n - 1) + fib(n - 2)`).
            E::Vararg | E::Call(..) | E::Method(..)
                if r as usize + 1 == save && (r as usize) >= self.f().actives.len() =>
            {
                self.multi(e, r, 1)?;
            }
            E::Vararg | E::Call(..) | E::Method(..) => {
                let tmp = self.f().freereg as u8;
                self.multi(e, tmp, 1)?;
                if tmp != r {
                    self.emit(abc(MOVE, r, tmp, 0));
                }
            }
            E::Func(body) => self.closure(body, r)?,
            E::Paren(inner) => self.expr_to(inner, r)?,
            E::Name(n) => match self.resolve_name(n)? {
                Target::Local(l) => {
                    if l != r {
                        self.emit(abc(MOVE, r, l, 0));
                    }
                }
                Target::Upval(u) => {
                    self.line = disch.unwrap_or(e.line);
                    self.emit(abc(GETUPVAL, r, u, 0));
                }
                Target::Global(env, k) => {
                    self.line = disch.unwrap_or(e.line);
                    if k <= 255 {
                        self.emit(abc(GETTABUP, r, env, k as u8));
                    } else {
                        self.emit(abc(GETUPVAL, r, env, 0));
                        let t = self.reserve(1)?;
                        self.load_k(t, k);
                        self.emit(abc(GETTABLE, r, r, t));
                    }
                }
                Target::Field(tr, k) => self.get_field(r, tr, k)?,
                Target::Index(..) => return Err(self.err("internal")),
            },
            E::Index(obj, key) => {
                // As for operators: a non-local object goes into a temporary target.
                let obj_local = matches!(&obj.k, E::Name(n) if self.resolve_local(self.fs.len() - 1, n).is_some());
                let o = if !obj_local && (r as usize) >= self.f().actives.len() {
                    self.expr_to(obj, r)?;
                    r
                } else {
                    self.expr_any(obj)?
                };
                self.line = disch.unwrap_or(e.line);
                match &key.k {
                    E::Str(s) => {
                        let k = self.str_k(s)?;
                        self.get_field(r, o, k)?;
                    }
                    E::Int(i) if (0..=255).contains(i) => {
                        self.emit(abc(GETI, r, o, *i as u8));
                    }
                    _ => {
                        let kr = self.expr_any(key)?;
                        self.line = disch.unwrap_or(e.line);
                        self.emit(abc(GETTABLE, r, o, kr));
                    }
                }
            }
            E::Table(fields) => self.table(fields, r)?,
            E::Un(op, a) => {
                let ar = self.expr_any(a)?;
                self.line = e.line;
                let opc = match op {
                    UnOp::Neg => UNM,
                    UnOp::Not => NOT,
                    UnOp::Len => LEN,
                    UnOp::BNot => BNOT,
                };
                self.emit(abc(opc, r, ar, 0));
            }
            E::Bin(BinOp::And, a, b) | E::Bin(BinOp::Or, a, b) => {
                let is_and = matches!(e.k, E::Bin(BinOp::And, ..));
                self.expr_to(a, r)?;
                self.emit(abc(TEST, r, 0, (!is_and) as u8));
                let j = self.jump();
                self.f().freereg = save;
                self.expr_to(b, r)?;
                self.patch_here(&[j]);
            }
            E::Bin(op, a, b) => self.binop(*op, a, b, r, e.line)?,
        }
        self.f().freereg = save;
        Ok(())
    }

    fn get_field(&mut self, r: u8, o: u8, k: u32) -> CResult<()> {
        if k <= 255 {
            self.emit(abc(GETFIELD, r, o, k as u8));
        } else {
            let t = self.reserve(1)?;
            self.load_k(t, k);
            self.emit(abc(GETTABLE, r, o, t));
        }
        Ok(())
    }

    fn binop(&mut self, op: BinOp, a: &Expr, b: &Expr, r: u8, line: u32) -> CResult<()> {
        if let Some(v) = fold(op, a, b) {
            return self.expr_to(&Expr { k: v, line }, r);
        }
        match op {
            BinOp::Concat => {
                // Gather the whole right-leaning chain into consecutive registers.
                let mut parts = vec![a];
                let mut cur = b;
                while let E::Bin(BinOp::Concat, x, y) = &cur.k {
                    parts.push(x);
                    cur = y;
                }
                parts.push(cur);
                // When the target is the newest register (not a live local),
                // the operands start in it, as C Lua does: no move, and the
                // target's stale value is overwritten before any collection.
                if r as usize + 1 == self.f().freereg && (r as usize) >= self.f().actives.len() {
                    self.f().freereg = r as usize;
                }
                let base = self.reserve(parts.len())?;
                for (i, p) in parts.iter().enumerate() {
                    self.expr_to(p, base + i as u8)?;
                }
                self.line = line;
                self.emit(abc(CONCAT, base, parts.len() as u8, 0));
                if base != r {
                    self.emit(abc(MOVE, r, base, 0));
                }
                Ok(())
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let e = Expr {
                    k: E::Bin(op, Box::new(a.clone()), Box::new(b.clone())),
                    line,
                };
                let jf = self.cond_jump(&e, false)?;
                self.emit(abc(LOADBOOL, r, 1, 1));
                self.patch_here(&jf);
                self.emit(abc(LOADBOOL, r, 0, 0));
                Ok(())
            }
            _ => {
                // A number constant left of `+` or `*` goes right, as C Lua
                // does (`2.0 * x`: one MULK, not LOADF and MUL); bit 7 of C
                // marks the swap, so metamethods and messages see the
                // operands in source order.
                if matches!(op, BinOp::Add | BinOp::Mul)
                    && matches!(a.k, E::Int(_) | E::Num(_))
                    && !matches!(b.k, E::Int(_) | E::Num(_))
                    && let Some(k) = self.literal(a)?
                    && k < 128
                {
                    let is_local = matches!(&b.k, E::Name(n) if self.resolve_local(self.fs.len() - 1, n).is_some());
                    let br = if !is_local && (r as usize) >= self.f().actives.len() {
                        self.expr_to(b, r)?;
                        r
                    } else {
                        self.expr_any(b)?
                    };
                    self.line = line;
                    let kop = if op == BinOp::Add { ADDK } else { MULK };
                    self.emit(abc(kop, r, br, k as u8 | 0x80));
                    return Ok(());
                }
                // A left operand that is not a local is computed into the target when
                // the target is a temporary: left-leaning chains reuse one register.
                let is_local = matches!(&a.k, E::Name(n) if self.resolve_local(self.fs.len() - 1, n).is_some());
                self.discharge = Some(line);
                let ar = if !is_local && (r as usize) >= self.f().actives.len() {
                    self.expr_to(a, r)?;
                    r
                } else {
                    self.expr_any(a)?
                };
                self.discharge = None;
                if op == BinOp::Add
                    && let E::Int(i) = b.k
                    && (-128..128).contains(&i)
                {
                    self.line = line;
                    self.emit(abc(ADDI, r, ar, (i + 128) as u8));
                    return Ok(());
                }
                let (rop, kop) = match op {
                    BinOp::Add => (ADD, ADDK),
                    BinOp::Sub => (SUB, SUBK),
                    BinOp::Mul => (MUL, MULK),
                    BinOp::Div => (DIV, DIVK),
                    BinOp::Mod => (MOD, MODK),
                    BinOp::Pow => (POW, POWK),
                    BinOp::IDiv => (IDIV, IDIVK),
                    BinOp::BAnd => (BAND, BANDK),
                    BinOp::BOr => (BOR, BORK),
                    BinOp::BXor => (BXOR, BXORK),
                    BinOp::Shl => (SHL, 0),
                    BinOp::Shr => (SHR, 0),
                    _ => return Err(self.err("internal")),
                };
                if kop != 0
                    && matches!(b.k, E::Int(_) | E::Num(_))
                    && let Some(k) = self.literal(b)?
                    && k <= if matches!(kop, ADDK | MULK) { 127 } else { 255 }
                {
                    self.line = line;
                    self.emit(abc(kop, r, ar, k as u8));
                    return Ok(());
                }
                let br = self.expr_any(b)?;
                self.line = line;
                self.emit(abc(rop, r, ar, br));
                Ok(())
            }
        }
    }

    /// Compiles a condition; returns the jumps taken when its truth equals
    /// `when`; falls through otherwise.
    fn cond_jump(&mut self, e: &Expr, when: bool) -> CResult<Vec<usize>> {
        self.cond_jump_at(e, when, None)
    }

    /// `cond_jump` with the tests of values charged to line `test` (`then`;
    /// the left operand of `and`/`or`: the operator).
    fn cond_jump_at(&mut self, e: &Expr, when: bool, test: Option<u32>) -> CResult<Vec<usize>> {
        let save = self.f().freereg;
        self.line = e.line;
        let res = match &e.k {
            E::True | E::Int(_) | E::Num(_) | E::Str(_) => {
                if when {
                    vec![self.jump()]
                } else {
                    vec![]
                }
            }
            E::Nil | E::False => {
                if when {
                    vec![]
                } else {
                    vec![self.jump()]
                }
            }
            E::Un(UnOp::Not, a) => self.cond_jump_at(a, !when, test)?,
            E::Bin(BinOp::And, a, b) => {
                let ta = test.map(|_| e.line);
                if when {
                    // a and b is true: a true and b true.
                    let fa = self.cond_jump_at(a, false, ta)?;
                    let tb = self.cond_jump_at(b, true, test)?;
                    self.patch_here(&fa);
                    tb
                } else {
                    let mut fa = self.cond_jump_at(a, false, ta)?;
                    fa.extend(self.cond_jump_at(b, false, test)?);
                    fa
                }
            }
            E::Bin(BinOp::Or, a, b) => {
                let ta = test.map(|_| e.line);
                if when {
                    let mut t = self.cond_jump_at(a, true, ta)?;
                    t.extend(self.cond_jump_at(b, true, test)?);
                    t
                } else {
                    let t = self.cond_jump_at(a, true, ta)?;
                    let fb = self.cond_jump_at(b, false, test)?;
                    self.patch_here(&t);
                    fb
                }
            }
            E::Bin(
                op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
                a,
                b,
            ) => {
                let mut op = *op;
                let mut when = when;
                if op == BinOp::Ne {
                    op = BinOp::Eq;
                    when = !when;
                }
                self.discharge = Some(e.line);
                let ar = self.expr_any(a)?;
                self.discharge = None;
                // Immediate and constant forms.
                // An integral float compares as its integer (the flag keeps
                // its type for metamethods), except for `==`, which EQK does.
                let (imm, float) = match b.k {
                    E::Int(i) if (-128..128).contains(&i) => (Some((i + 128) as u8), 0),
                    E::Num(f)
                        if op != BinOp::Eq
                            && f.fract() == 0.0
                            && (-128.0..128.0).contains(&f)
                            && f.is_sign_positive() | (f != 0.0) =>
                    {
                        (Some((f as i64 + 128) as u8), 2)
                    }
                    _ => (None, 0),
                };
                self.line = e.line;
                if let Some(im) = imm {
                    let opc = match op {
                        BinOp::Eq => EQI,
                        BinOp::Lt => LTI,
                        BinOp::Le => LEI,
                        BinOp::Gt => GTI,
                        _ => GEI,
                    };
                    self.emit(abc(opc, ar, im, when as u8 | float));
                } else if op == BinOp::Eq
                    && matches!(b.k, E::Str(_) | E::Num(_) | E::Int(_))
                    && let Some(k) = self.literal(b)?
                    && k <= 255
                {
                    self.line = e.line;
                    self.emit(abc(EQK, ar, k as u8, when as u8));
                } else {
                    let br = self.expr_any(b)?;
                    self.line = e.line;
                    let (opc, x, y) = match op {
                        BinOp::Eq => (EQ, ar, br),
                        BinOp::Lt => (LT, ar, br),
                        BinOp::Le => (LE, ar, br),
                        BinOp::Gt => (LT, br, ar),
                        _ => (LE, br, ar),
                    };
                    self.emit(abc(opc, x, y, when as u8));
                }
                vec![self.jump()]
            }
            _ => {
                let r = self.expr_any(e)?;
                if let Some(l) = test {
                    self.line = l;
                }
                self.emit(abc(TEST, r, 0, when as u8));
                vec![self.jump()]
            }
        };
        self.f().freereg = save;
        Ok(res)
    }

    fn table(&mut self, fields: &[Field], r: u8) -> CResult<()> {
        let narr = fields.iter().filter(|f| matches!(f, Field::Pos(_))).count();
        let nhash = fields.len() - narr;
        let pc = self.emit(abc(NEWTABLE, r, narr.min(255) as u8, nhash.min(255) as u8));
        let _ = pc;
        let mut pending = 0usize;
        let mut stored = 0usize;
        let npos = narr;
        let mut seen_pos = 0;
        for f in fields {
            match f {
                Field::Pos(v) => {
                    seen_pos += 1;
                    let reg = r as usize + 1 + pending;
                    self.f().freereg = reg;
                    if seen_pos == npos && is_multi(v) {
                        self.reserve(0)?;
                        self.multi(v, reg as u8, -1)?;
                        self.emit(abc(SETLIST, r, 0, 0));
                        self.emit((stored as u32) << 8 | EXTRAARG as u32);
                        pending = 0;
                        continue;
                    }
                    let rr = self.reserve(1)?;
                    self.expr_to(v, rr)?;
                    pending += 1;
                    if pending == 50 {
                        self.emit(abc(SETLIST, r, pending as u8 + 1, 0));
                        self.emit((stored as u32) << 8 | EXTRAARG as u32);
                        stored += pending;
                        pending = 0;
                    }
                }
                Field::Named(k, v) => {
                    let save = r as usize + 1 + pending;
                    self.f().freereg = save;
                    if let E::Str(s) = &k.k {
                        let kk = self.str_k(s)?;
                        if kk <= 255 {
                            let vr = self.expr_any(v)?;
                            self.emit(abc(SETFIELD, r, kk as u8, vr));
                            self.f().freereg = save;
                            continue;
                        }
                    }
                    let kr = self.expr_any(k)?;
                    let vr = self.expr_any(v)?;
                    self.line = k.line;
                    self.emit(abc(SETTABLE, r, kr, vr));
                    self.f().freereg = save;
                }
            }
        }
        if pending > 0 {
            self.emit(abc(SETLIST, r, pending as u8 + 1, 0));
            self.emit((stored as u32) << 8 | EXTRAARG as u32);
        }
        self.f().freereg = r as usize + 1;
        Ok(())
    }

    fn target(&mut self, t: &Expr) -> CResult<Target> {
        match &t.k {
            E::Name(n) => {
                self.check_const(n)?;
                match self.resolve_name(n)? {
                    Target::Field(r, k) => Ok(Target::Field(r, k)),
                    other => Ok(other),
                }
            }
            E::Index(obj, key) => {
                let o = self.expr_any(obj)?;
                if let E::Str(s) = &key.k {
                    let k = self.str_k(s)?;
                    if k <= 255 {
                        return Ok(Target::Field(o, k));
                    }
                }
                let kr = self.expr_any(key)?;
                Ok(Target::Index(o, kr))
            }
            _ => Err(self.err("syntax error")),
        }
    }

    fn store(&mut self, t: &Target, v: u8) -> CResult<()> {
        match *t {
            Target::Local(r) => {
                if r != v {
                    self.emit(abc(MOVE, r, v, 0));
                }
            }
            Target::Upval(u) => {
                self.emit(abc(SETUPVAL, v, u, 0));
            }
            Target::Index(o, k) => {
                self.emit(abc(SETTABLE, o, k, v));
            }
            Target::Field(o, k) => {
                if k <= 255 {
                    self.emit(abc(SETFIELD, o, k as u8, v));
                } else {
                    let kr = self.reserve(1)?;
                    self.load_k(kr, k);
                    self.emit(abc(SETTABLE, o, kr, v));
                }
            }
            Target::Global(env, k) => {
                if k <= 255 {
                    self.emit(abc(SETTABUP, env, k as u8, v));
                } else {
                    let t = self.reserve(2)?;
                    self.emit(abc(GETUPVAL, t, env, 0));
                    self.load_k(t + 1, k);
                    self.emit(abc(SETTABLE, t, t + 1, v));
                }
            }
        }
        Ok(())
    }

    /// An assignment; its stores are charged to `last`, the line of its
    /// last token, as C Lua's.
    fn assign(&mut self, targets: &[Expr], exprs: &[Expr], last: u32) -> CResult<()> {
        if targets.len() == 1 && exprs.len() == 1 {
            let t = self.target(&targets[0])?;
            if let Target::Local(r) = t {
                return self.expr_to(&exprs[0], r);
            }
            let v = self.expr_any(&exprs[0])?;
            self.line = last;
            return self.store(&t, v);
        }
        // Evaluate every target's table and key first, copying locals that
        // this statement also assigns, then all values, then store from last.
        let assigned: Vec<u8> = targets
            .iter()
            .filter_map(|t| match &t.k {
                E::Name(n) => {
                    let level = self.fs.len() - 1;
                    self.resolve_local(level, n)
                        .map(|li| self.fs[level].actives[li].reg)
                }
                _ => None,
            })
            .collect();
        let mut ts = Vec::new();
        for t in targets {
            let mut tg = self.target(t)?;
            match &mut tg {
                Target::Index(o, k) => {
                    for x in [o, k] {
                        if assigned.contains(x) {
                            let n = self.reserve(1)?;
                            self.emit(abc(MOVE, n, *x, 0));
                            *x = n;
                        }
                    }
                }
                Target::Field(o, _) if assigned.contains(o) => {
                    let n = self.reserve(1)?;
                    self.emit(abc(MOVE, n, *o, 0));
                    *o = n;
                }
                _ => {}
            }
            ts.push(tg);
        }
        let base = self.f().freereg as u8;
        self.explist_to(exprs, base, targets.len())?;
        for (i, t) in ts.iter().enumerate().rev() {
            self.line = last;
            self.store(t, base + i as u8)?;
        }
        Ok(())
    }
}

impl Block {
    fn stats_block(&self) -> Block {
        self.clone()
    }
}

fn num_of(e: &E) -> Option<Value> {
    match e {
        E::Int(i) => Some(Value::Int(*i)),
        E::Num(f) => Some(Value::Num(*f)),
        _ => None,
    }
}

/// Constant folding of numeric operations that cannot fail.
fn fold(op: BinOp, a: &Expr, b: &Expr) -> Option<E> {
    let (x, y) = (num_of(&a.k)?, num_of(&b.k)?);
    let v = match (op, x, y) {
        (BinOp::Add, Value::Int(p), Value::Int(q)) => E::Int(p.wrapping_add(q)),
        (BinOp::Sub, Value::Int(p), Value::Int(q)) => E::Int(p.wrapping_sub(q)),
        (BinOp::Mul, Value::Int(p), Value::Int(q)) => E::Int(p.wrapping_mul(q)),
        (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Pow, _, _) => {
            let f = |v: Value| match v {
                Value::Int(i) => i as f64,
                Value::Num(f) => f,
                _ => 0.0,
            };
            let (p, q) = (f(x), f(y));
            let r = match op {
                BinOp::Add => p + q,
                BinOp::Sub => p - q,
                BinOp::Mul => p * q,
                BinOp::Div => p / q,
                _ => p.powf(q),
            };
            if r.is_nan() || r == 0.0 {
                return None;
            }
            E::Num(r)
        }
        _ => return None,
    };
    Some(v)
}
