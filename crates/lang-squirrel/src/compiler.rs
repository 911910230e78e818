//! A single-pass compiler from Squirrel source to stack-machine bytecode.
//! Expressions are parsed into a small descriptor of where their value
//! lives (a local slot, an outer, a field of a pushed object...) and only
//! then turned into loads or stores, so assignments need no AST.

use crate::heap::{Heap, Proto, Value};
use crate::lexer::{CompileError, Kw, Lexer, Tok};
use std::collections::HashMap;
use std::rc::Rc;

/// Arithmetic and bitwise operators (the four float-capable ones first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    UShr,
}

/// Comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Three,
}

/// One instruction. Jumps are absolute code indices.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    Const(u32),
    Int(i32),
    Null,
    True,
    False,
    GetLocal(u32),
    SetLocal(u32),
    /// Store and pop.
    StoreLocal(u32),
    GetOuter(u32),
    SetOuter(u32),
    Pop,
    Dup,
    Dup2,
    This,
    Root,
    Base,
    /// Load a free name: `this[k]`, else the root table's.
    GetEnv(u32),
    SetEnv(u32),
    /// `SetEnv` as a statement.
    SetEnvPop(u32),
    Get,
    GetK(u32),
    /// `local[k]` without touching the stack for the object.
    GetLocalK(u32, u32),
    Set,
    SetK(u32),
    /// `Set` / `SetK` as statements: nothing pushed.
    SetPop,
    SetKPop(u32),
    /// `local[local]`.
    GetLL(u32, u32),
    NewSlot,
    /// Pops value, key; newslot into the class/table below (kept).
    ClassSlot(bool, bool),
    TableSlot,
    Delete,
    Arith(Arith),
    /// Add an integer constant.
    AddI(i32),
    /// `local op local`, pushed.
    ArithLL(u32, Arith, u32),
    /// `local op small-integer`, pushed.
    ArithLI(u32, Arith, i32),
    Eq,
    Ne,
    Cmp(Cmp),
    Not,
    Neg,
    BitNot,
    Typeof,
    Clone,
    In,
    Instanceof,
    Jmp(u32),
    JmpF(u32),
    JmpT(u32),
    /// Jump keeping the value when false/true, else pop it (`&&`, `||`).
    AndJ(u32),
    OrJ(u32),
    /// Compare two locals; jump when false.
    CmpLLJmpF(u32, u32, Cmp, u32),
    /// Compare a local with a small integer; jump when false.
    CmpLIJmpF(u32, i32, Cmp, u32),
    /// The same two, jumping when true (a loop's repeated condition).
    CmpLLJmpT(u32, u32, Cmp, u32),
    CmpLIJmpT(u32, i32, Cmp, u32),
    /// `local op= value`: pops the value; pushes the result when `true`.
    ArithLocal(u32, Arith, bool),
    /// `local op= small-integer`; pushes the result when `true`.
    ArithLocalI(u32, Arith, i32, bool),
    /// `local++` as a statement.
    IncLocalStmt(u32, i32),
    Call(u32),
    /// Call then discard the result.
    CallPop(u32),
    /// `return f(...)`: the callee replaces the current frame (always
    /// followed by `Return`, which runs when it cannot).
    TailCall(u32),
    /// Pops obj; pushes obj[k], obj.
    PrepCallK(u32),
    /// Pushes the free name k (looked up as `GetEnv`) and `this`.
    PrepEnv(u32),
    /// Pops key, obj; pushes obj[key], obj.
    PrepCall,
    Return,
    ReturnNull,
    NewTable,
    NewArray(u32),
    ArrayPush,
    Closure(u32),
    /// has base, has attributes.
    NewClass(bool, bool),
    Throw,
    PushTrap(u32),
    PopTrap,
    /// Slot of the hidden container local; jump target when done.
    Foreach(u32, u32),
    Yield,
    Resume,
    /// slot, delta, postfix
    IncLocal(u32, i32, bool),
    IncOuter(u32, i32, bool),
    IncIndex(i32, bool),
    IncField(u32, i32, bool),
    IncEnv(u32, i32, bool),
    CloseOuters(u32),
}

impl Op {
    /// Net stack effect, for the frame size computation.
    fn effect(self) -> i32 {
        use Op::*;
        match self {
            Const(_) | Int(_) | Null | True | False | GetLocal(_) | GetOuter(_) | Dup | This
            | Root | Base | GetEnv(_) | NewTable | NewArray(_) | Closure(_) | GetLocalK(..)
            | GetLL(..) | ArithLL(..) | ArithLI(..) => 1,
            Dup2 => 2,
            SetLocal(_) | SetOuter(_) | SetEnv(_) | GetK(_) | Not | Neg | BitNot | Typeof
            | Clone | Jmp(_) | PushTrap(_) | PopTrap | Foreach(..) | Yield | Resume
            | IncField(..) | CloseOuters(_) | Return | ReturnNull | AddI(_) | CmpLLJmpF(..)
            | CmpLLJmpT(..) | CmpLIJmpT(..) | CmpLIJmpF(..) | IncLocalStmt(..) => 0,
            StoreLocal(_) | SetEnvPop(_) | Pop | Get | SetK(_) | Arith(_) | Eq | Ne | Cmp(_)
            | In | Instanceof | JmpF(_) | JmpT(_) | AndJ(_) | OrJ(_) | ArrayPush | Throw
            | Delete => -1,
            IncLocal(..) | IncOuter(..) | IncEnv(..) => 1,
            IncIndex(..) => -1,
            ArithLocalI(_, _, _, keep) => i32::from(keep),
            ArithLocal(_, _, keep) => {
                if keep {
                    0
                } else {
                    -1
                }
            }
            Set => -2,
            SetPop => -3,
            SetKPop(_) => -2,
            NewSlot => -2,
            ClassSlot(_, a) => {
                if a {
                    -3
                } else {
                    -2
                }
            }
            TableSlot => -2,
            Call(n) | TailCall(n) => -(n as i32),
            CallPop(n) => -(n as i32) - 1,
            PrepCallK(_) => 1,
            PrepEnv(_) => 2,
            PrepCall => 0,
            NewClass(b, a) => 1 - i32::from(b) - i32::from(a),
        }
    }
}

/// Where an expression's value is.
#[derive(Debug, Clone, Copy)]
enum Exp {
    Pushed,
    Local(u32),
    Outer(u32),
    Env(u32),
    Index,
    Field(u32),
    /// `base.name`: the base class is pushed.
    BaseField(u32),
}

#[derive(Debug)]
struct LocalVar {
    name: String,
    slot: u32,
    start: u32,
}

#[derive(Debug, Default)]
struct Loop {
    breaks: Vec<usize>,
    continues: Vec<usize>,
    /// Locals active when the loop started (to close captures on exit).
    nactive: u32,
    is_switch: bool,
    /// Try blocks opened inside this loop (each break pops their traps).
    traps: u32,
}

struct FuncState {
    code: Vec<Op>,
    lines: Vec<u32>,
    consts: Vec<Value>,
    const_map: HashMap<ConstKey, u32>,
    protos: Vec<Rc<Proto>>,
    actives: Vec<LocalVar>,
    debug_locals: Vec<(Value, u32, u32, u32)>,
    captures: Vec<(bool, u32, String)>,
    depth: i32,
    max_depth: i32,
    loops: Vec<Loop>,
    nparams: usize,
    varargs: bool,
    generator: bool,
    name: Value,
    traps: u32,
    /// Highest instruction index handed out as a possible jump target.
    last_label: usize,
}

#[derive(Hash, PartialEq, Eq)]
enum ConstKey {
    Str(u32),
    Int(i64),
    Float(u64),
}

/// Compile-time constants (`const`, `enum`).
#[derive(Debug, Clone)]
enum ConstVal {
    Val(Value),
    Enum(HashMap<String, Value>),
}

/// The compiler.
pub(crate) struct Compiler<'a, 'h> {
    lx: Lexer<'a>,
    heap: &'h mut Heap,
    fs: Vec<FuncState>,
    source: Rc<str>,
    consts: &'h mut HashMap<String, ConstValPub>,
    line: u32,
    nesting: u32,
}

/// Deepest nesting of statements and expressions the recursive-descent
/// parser accepts (it recurses on the host stack).
const MAX_NESTING: u32 = 90;

/// A compile-time constant, kept across compilations of one VM (`const`
/// declared in one file is visible in files compiled after it).
#[derive(Debug, Clone)]
pub(crate) struct ConstValPub(ConstVal);

type R<T> = Result<T, CompileError>;

/// Compiles a whole script into its main function's prototype.
pub(crate) fn compile(
    src: &[u8],
    source: &str,
    heap: &mut Heap,
    consts: &mut HashMap<String, ConstValPub>,
) -> R<Rc<Proto>> {
    let mut c = Compiler {
        lx: Lexer::new(src),
        heap,
        fs: Vec::new(),
        source: Rc::from(source),
        consts,
        line: 1,
        nesting: 0,
    };
    let name = c.heap.intern(b"main");
    c.open_fn(name);
    c.add_local("this")?;
    c.add_local("vargv")?;
    c.cur().nparams = 1;
    c.cur().varargs = true;
    c.lx.next()?;
    while c.lx.tok != Tok::Eof {
        c.statement()?;
    }
    c.emit(Op::ReturnNull);
    Ok(c.close_fn())
}

impl<'a, 'h> Compiler<'a, 'h> {
    fn cur(&mut self) -> &mut FuncState {
        let n = self.fs.len() - 1;
        &mut self.fs[n]
    }

    fn open_fn(&mut self, name: Value) {
        self.fs.push(FuncState {
            code: Vec::new(),
            lines: Vec::new(),
            consts: Vec::new(),
            const_map: HashMap::new(),
            protos: Vec::new(),
            actives: Vec::new(),
            debug_locals: Vec::new(),
            captures: Vec::new(),
            depth: 0,
            max_depth: 0,
            loops: Vec::new(),
            nparams: 0,
            varargs: false,
            generator: false,
            name,
            traps: 0,
            last_label: 0,
        });
    }

    fn close_fn(&mut self) -> Rc<Proto> {
        let mut f = self
            .fs
            .pop()
            .unwrap_or_else(|| unreachable!("open function"));
        let end = f.code.len() as u32;
        for l in f.actives.drain(..) {
            let name = self.heap.intern(l.name.as_bytes());
            f.debug_locals.push((name, l.slot, l.start, end));
        }
        Rc::new(Proto {
            name: f.name,
            source: self.source.clone(),
            code: f.code,
            lines: f.lines,
            consts: f.consts,
            protos: f.protos,
            nparams: f.nparams,
            varargs: f.varargs,
            generator: f.generator,
            ndefaults: 0,
            captures: f.captures.iter().map(|c| (c.0, c.1)).collect(),
            max_stack: f.max_depth as usize + 4,
            locals: f.debug_locals,
        })
    }

    fn emit(&mut self, op: Op) -> usize {
        let line = self.line;
        let f = self.cur();
        f.code.push(op);
        f.lines.push(line);
        f.depth += op.effect();
        if f.depth > f.max_depth {
            f.max_depth = f.depth;
        }
        f.code.len() - 1
    }

    /// The next instruction's index. Every caller may use it as a jump
    /// target, so it also fences the peephole merges below.
    fn here(&mut self) -> u32 {
        let f = self.cur();
        f.last_label = f.code.len();
        f.code.len() as u32
    }

    /// Whether instructions from `p` on may be merged: no jump lands after
    /// `p`.
    fn can_merge(&mut self, p: usize) -> bool {
        self.cur().last_label <= p
    }

    fn patch(&mut self, at: usize, target: u32) {
        let f = self.cur();
        f.code[at] = match f.code[at] {
            Op::Jmp(_) => Op::Jmp(target),
            Op::JmpF(_) => Op::JmpF(target),
            Op::JmpT(_) => Op::JmpT(target),
            Op::AndJ(_) => Op::AndJ(target),
            Op::OrJ(_) => Op::OrJ(target),
            Op::PushTrap(_) => Op::PushTrap(target),
            Op::Foreach(s, _) => Op::Foreach(s, target),
            Op::CmpLLJmpF(a, b, c, _) => Op::CmpLLJmpF(a, b, c, target),
            Op::CmpLIJmpF(a, b, c, _) => Op::CmpLIJmpF(a, b, c, target),
            op => op,
        };
    }

    fn konst(&mut self, v: Value) -> u32 {
        let key = match v {
            Value::Str(s) => Some(ConstKey::Str(s)),
            Value::Int(i) => Some(ConstKey::Int(i)),
            Value::Float(f) => Some(ConstKey::Float(f.to_bits())),
            _ => None,
        };
        let f = self.cur();
        if let Some(k) = &key
            && let Some(&i) = f.const_map.get(k)
        {
            return i;
        }
        f.consts.push(v);
        let i = (f.consts.len() - 1) as u32;
        if let Some(k) = key {
            f.const_map.insert(k, i);
        }
        i
    }

    fn str_const(&mut self, s: &str) -> u32 {
        let v = self.heap.intern(s.as_bytes());
        self.konst(v)
    }

    fn err<T>(&self, msg: impl Into<String>) -> R<T> {
        // The reference reports the column where the current token ends.
        Err(CompileError {
            msg: msg.into(),
            line: self.lx.tline,
            col: self.lx.tend,
        })
    }

    fn next(&mut self) -> R<()> {
        self.lx.next()
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.lx.tok, Tok::Op(o) if o == op)
    }

    fn is_kw(&self, k: Kw) -> bool {
        self.lx.tok == Tok::Kw(k)
    }

    fn expect_op(&mut self, op: &str) -> R<()> {
        if self.is_op(op) {
            self.next()
        } else {
            self.err(format!("expected '{op}'"))
        }
    }

    fn ident(&mut self) -> R<String> {
        match &self.lx.tok {
            Tok::Ident(s) => {
                let s = s.clone();
                self.next()?;
                Ok(s)
            }
            Tok::Kw(Kw::Constructor) => {
                self.next()?;
                Ok("constructor".to_owned())
            }
            _ => self.err("expected 'IDENTIFIER'"),
        }
    }

    fn add_local(&mut self, name: &str) -> R<u32> {
        let pc = self.here();
        let f = self.cur();
        let slot = f.actives.len() as u32;
        if slot > 250_000 {
            return self.err("too many locals");
        }
        let f = self.cur();
        f.actives.push(LocalVar {
            name: name.to_owned(),
            slot,
            start: pc,
        });
        Ok(slot)
    }

    /// Ends locals above `n`: closes their captures and drops their slots.
    fn end_scope(&mut self, n: u32) {
        let pc = self.here();
        let mut removed = false;
        while self.cur().actives.len() as u32 > n {
            let Some(l) = self.cur().actives.pop() else {
                break;
            };
            removed = true;
            let name = self.heap.intern(l.name.as_bytes());
            self.cur().debug_locals.push((name, l.slot, l.start, pc));
        }
        if removed {
            self.emit(Op::CloseOuters(n));
        }
        // Locals occupied stack slots: drop them from the depth count.
        let f = self.cur();
        f.depth = f.actives.len() as i32;
    }

    fn nactive(&mut self) -> u32 {
        self.cur().actives.len() as u32
    }

    fn resolve_local(f: &FuncState, name: &str) -> Option<u32> {
        f.actives
            .iter()
            .rev()
            .find(|l| l.name == name)
            .map(|l| l.slot)
    }

    /// Finds `name` as an outer of function `level`, capturing through the
    /// enclosing functions as needed.
    fn resolve_outer(&mut self, level: usize, name: &str) -> Option<u32> {
        if level == 0 {
            return None;
        }
        if let Some(i) = self.fs[level].captures.iter().position(|c| c.2 == name) {
            return Some(i as u32);
        }
        let parent = level - 1;
        let cap = if let Some(slot) = Self::resolve_local(&self.fs[parent], name) {
            (true, slot)
        } else {
            (false, self.resolve_outer(parent, name)?)
        };
        self.fs[level]
            .captures
            .push((cap.0, cap.1, name.to_owned()));
        Some((self.fs[level].captures.len() - 1) as u32)
    }

    // ── Statements ─────────────────────────────────────────────────────

    fn optional_semi(&mut self) -> R<()> {
        if self.is_op(";") {
            return self.next();
        }
        if self.is_op("}") || self.lx.tok == Tok::Eof || self.lx.nl_before {
            return Ok(());
        }
        self.err("end of statement expected (; or lf)")
    }

    fn statement(&mut self) -> R<()> {
        self.nesting += 1;
        let r = if self.nesting > MAX_NESTING {
            self.err("nesting too deep")
        } else {
            self.statement_inner()
        };
        self.nesting -= 1;
        r
    }

    fn statement_inner(&mut self) -> R<()> {
        self.line = self.lx.tline;
        match self.lx.tok.clone() {
            Tok::Op(";") => self.next(),
            Tok::Op("{") => {
                self.next()?;
                let n = self.nactive();
                while !self.is_op("}") {
                    self.statement()?;
                }
                self.next()?;
                self.end_scope(n);
                Ok(())
            }
            Tok::Kw(Kw::Local) => {
                self.next()?;
                if self.is_kw(Kw::Function) {
                    return self.local_decl();
                }
                self.local_decl()?;
                self.optional_semi()
            }
            Tok::Kw(Kw::If) => self.if_stmt(),
            Tok::Kw(Kw::While) => self.while_stmt(),
            Tok::Kw(Kw::For) => self.for_stmt(),
            Tok::Kw(Kw::Foreach) => self.foreach_stmt(),
            Tok::Kw(Kw::Switch) => self.switch_stmt(),
            Tok::Ident(ref s) if s == "do" => self.do_stmt(),
            Tok::Kw(Kw::Break) => {
                if self.cur().loops.is_empty() {
                    return self.err("'break' has to be in a loop block");
                }
                self.next()?;
                let (n, traps) = {
                    let f = self.cur();
                    let l = f.loops.last().unwrap_or_else(|| unreachable!());
                    (l.nactive, f.traps - l.traps)
                };
                for _ in 0..traps {
                    self.emit(Op::PopTrap);
                }
                self.close_for_jump(n);
                let j = self.emit(Op::Jmp(0));
                if let Some(l) = self.cur().loops.last_mut() {
                    l.breaks.push(j);
                }
                self.optional_semi()
            }
            Tok::Kw(Kw::Continue) => {
                let Some(idx) = self.cur().loops.iter().rposition(|l| !l.is_switch) else {
                    return self.err("'continue' has to be in a loop block");
                };
                self.next()?;
                let (n, traps) = {
                    let f = self.cur();
                    (f.loops[idx].nactive, f.traps - f.loops[idx].traps)
                };
                for _ in 0..traps {
                    self.emit(Op::PopTrap);
                }
                self.close_for_jump(n);
                let j = self.emit(Op::Jmp(0));
                self.cur().loops[idx].continues.push(j);
                self.optional_semi()
            }
            Tok::Kw(Kw::Return) => {
                self.next()?;
                if self.is_op(";")
                    || self.is_op("}")
                    || self.lx.nl_before
                    || self.lx.tok == Tok::Eof
                {
                    for _ in 0..self.cur().traps {
                        self.emit(Op::PopTrap);
                    }
                    self.emit(Op::ReturnNull);
                } else {
                    self.expr()?;
                    let f = self.cur();
                    // `return f(...)` outside any `try` is a tail call, as in
                    // the reference (its frame leaves the call stack).
                    if let (0, false, Some(Op::Call(n))) =
                        (f.traps, f.generator, f.code.last().copied())
                    {
                        let at = f.code.len() - 1;
                        f.code[at] = Op::TailCall(n);
                    }
                    for _ in 0..self.cur().traps {
                        self.emit(Op::PopTrap);
                    }
                    self.emit(Op::Return);
                    self.cur().depth -= 1;
                }
                self.optional_semi()
            }
            Tok::Kw(Kw::Yield) => {
                self.next()?;
                self.cur().generator = true;
                if self.is_op(";") || self.is_op("}") || self.lx.nl_before {
                    self.emit(Op::Null);
                } else {
                    self.expr()?;
                }
                self.emit(Op::Yield);
                self.emit(Op::Pop);
                self.optional_semi()
            }
            Tok::Kw(Kw::Throw) => {
                self.next()?;
                self.expr()?;
                self.emit(Op::Throw);
                self.optional_semi()
            }
            Tok::Kw(Kw::Try) => self.try_stmt(),
            Tok::Kw(Kw::Function) => {
                self.next()?;
                self.function_decl()
            }
            Tok::Kw(Kw::Class) => {
                self.next()?;
                self.class_decl()
            }
            Tok::Kw(Kw::Enum) => self.enum_decl(),
            Tok::Kw(Kw::Const) => self.const_decl(),
            _ => {
                self.expr_stmt()?;
                self.optional_semi()
            }
        }
    }

    fn close_for_jump(&mut self, n: u32) {
        if self.cur().actives.len() as u32 > n {
            self.emit(Op::CloseOuters(n));
        }
    }

    fn expr_stmt(&mut self) -> R<()> {
        let e = self.expr_desc()?;
        let len = self.cur().code.len();
        if len == 0 || !self.can_merge(len - 1) {
            self.discharge(e);
            self.emit(Op::Pop);
            return Ok(());
        }
        // A call statement discards its result without a Pop.
        let f = self.cur();
        if let (Exp::Pushed, Some(Op::Call(n))) = (e, f.code.last().copied()) {
            let at = f.code.len() - 1;
            f.code[at] = Op::CallPop(n);
            f.depth -= 1;
            return Ok(());
        }
        if let (Exp::Pushed, Some(Op::IncLocal(s, d, _))) = (e, f.code.last().copied()) {
            let at = f.code.len() - 1;
            f.code[at] = Op::IncLocalStmt(s, d);
            f.depth -= 1;
            return Ok(());
        }
        if let (Exp::Pushed, Some(Op::ArithLocal(s, a, true))) = (e, f.code.last().copied()) {
            let at = f.code.len() - 1;
            f.code[at] = Op::ArithLocal(s, a, false);
            f.depth -= 1;
            return Ok(());
        }
        if let (Exp::Pushed, Some(Op::ArithLocalI(s, a, k, true))) = (e, f.code.last().copied()) {
            let at = f.code.len() - 1;
            f.code[at] = Op::ArithLocalI(s, a, k, false);
            f.depth -= 1;
            return Ok(());
        }
        if let (Exp::Pushed, Some(Op::SetLocal(s))) = (e, f.code.last().copied()) {
            let at = f.code.len() - 1;
            f.code[at] = Op::StoreLocal(s);
            f.depth -= 1;
            return Ok(());
        }
        if let (Exp::Pushed, Some(Op::SetEnv(k))) = (e, f.code.last().copied()) {
            let at = f.code.len() - 1;
            f.code[at] = Op::SetEnvPop(k);
            f.depth -= 1;
            return Ok(());
        }
        if let (Exp::Pushed, Some(Op::Set)) = (e, f.code.last().copied()) {
            let at = f.code.len() - 1;
            f.code[at] = Op::SetPop;
            f.depth -= 1;
            return Ok(());
        }
        if let (Exp::Pushed, Some(Op::SetK(k))) = (e, f.code.last().copied()) {
            let at = f.code.len() - 1;
            f.code[at] = Op::SetKPop(k);
            f.depth -= 1;
            return Ok(());
        }
        self.discharge(e);
        self.emit(Op::Pop);
        Ok(())
    }

    fn local_decl(&mut self) -> R<()> {
        if self.is_kw(Kw::Function) {
            self.next()?;
            let name = self.ident()?;
            let slot = self.add_local(&name)?;
            self.emit(Op::Null);
            self.function_body(&name, false)?;
            self.emit(Op::StoreLocal(slot));
            return Ok(());
        }
        loop {
            let name = self.ident()?;
            if self.is_op("=") {
                self.next()?;
                self.expr()?;
            } else {
                self.emit(Op::Null);
            }
            self.add_local(&name)?;
            if !self.is_op(",") {
                break;
            }
            self.next()?;
        }
        Ok(())
    }

    fn cond(&mut self) -> R<()> {
        self.expect_op("(")?;
        self.expr()?;
        self.expect_op(")")
    }

    fn if_stmt(&mut self) -> R<()> {
        self.next()?;
        let jf = self.paren_cond_jump()?;
        self.scoped_statement()?;
        if self.is_kw(Kw::Else) {
            let je = self.emit(Op::Jmp(0));
            let h = self.here();
            self.patch(jf, h);
            self.next()?;
            self.scoped_statement()?;
            let h = self.here();
            self.patch(je, h);
        } else {
            let h = self.here();
            self.patch(jf, h);
        }
        Ok(())
    }

    fn scoped_statement(&mut self) -> R<()> {
        let n = self.nactive();
        self.statement()?;
        self.end_scope(n);
        Ok(())
    }

    fn begin_loop(&mut self, is_switch: bool) {
        let n = self.nactive();
        let traps = self.cur().traps;
        self.cur().loops.push(Loop {
            nactive: n,
            is_switch,
            traps,
            ..Loop::default()
        });
    }

    fn end_loop(&mut self, cont: u32, brk: u32) {
        let l = self.cur().loops.pop().unwrap_or_default();
        for j in l.continues {
            self.patch(j, cont);
        }
        for j in l.breaks {
            self.patch(j, brk);
        }
    }

    fn while_stmt(&mut self) -> R<()> {
        self.next()?;
        let top = self.here();
        let jf = self.paren_cond_jump()?;
        self.begin_loop(false);
        self.scoped_statement()?;
        self.loop_back(top, Some(jf));
        let end = self.here();
        self.patch(jf, end);
        self.end_loop(top, end);
        Ok(())
    }

    /// The jump back to a loop's condition at `top`. A condition that is one
    /// fused compare is repeated here with the opposite sense, jumping
    /// straight to the body: one instruction per iteration instead of two.
    fn loop_back(&mut self, top: u32, cond: Option<usize>) {
        let f = self.cur();
        let again = match cond.map(|j| (j, f.code[j])) {
            Some((j, Op::CmpLLJmpF(a, b, c, _))) if j == top as usize => {
                Some(Op::CmpLLJmpT(a, b, c, top + 1))
            }
            Some((j, Op::CmpLIJmpF(a, k, c, _))) if j == top as usize => {
                Some(Op::CmpLIJmpT(a, k, c, top + 1))
            }
            _ => None,
        };
        self.emit(again.unwrap_or(Op::Jmp(top)));
    }

    fn do_stmt(&mut self) -> R<()> {
        self.next()?;
        let top = self.here();
        self.begin_loop(false);
        self.scoped_statement()?;
        if !self.is_kw(Kw::While) {
            return self.err("expected 'while'");
        }
        self.next()?;
        let cont = self.here();
        self.cond()?;
        self.emit(Op::JmpT(top));
        let end = self.here();
        self.end_loop(cont, end);
        Ok(())
    }

    fn for_stmt(&mut self) -> R<()> {
        self.next()?;
        self.expect_op("(")?;
        let n = self.nactive();
        if self.is_kw(Kw::Local) {
            self.next()?;
            self.local_decl()?;
        } else if !self.is_op(";") {
            self.expr_stmt()?;
        }
        self.expect_op(";")?;
        let top = self.here();
        let mut jf = None;
        if !self.is_op(";") {
            jf = Some(self.cond_jump()?);
        }
        self.expect_op(";")?;
        // The step is compiled after the body: parse it into a side buffer.
        let step_start = self.cur().code.len();
        if !self.is_op(")") {
            self.expr_stmt()?;
        }
        self.expect_op(")")?;
        let f = self.cur();
        let step: Vec<Op> = f.code.drain(step_start..).collect();
        let step_lines: Vec<u32> = f.lines.drain(step_start..).collect();
        self.begin_loop(false);
        self.scoped_statement()?;
        let cont = self.here();
        let base = self.cur().code.len() as u32;
        for (op, line) in step.into_iter().zip(step_lines) {
            // Jumps inside the step (e.g. `a && b`) move with it.
            let op = relocate(op, step_start as u32, base);
            let f = self.cur();
            f.code.push(op);
            f.lines.push(line);
        }
        self.loop_back(top, jf);
        let end = self.here();
        if let Some(j) = jf {
            self.patch(j, end);
        }
        self.end_loop(cont, end);
        self.end_scope(n);
        Ok(())
    }

    /// Compiles a condition to a jump-if-false; fuses a comparison of a
    /// local with a local or a small integer into one instruction.
    fn cond_jump(&mut self) -> R<usize> {
        let start = self.cur().code.len();
        self.expr()?;
        Ok(self.fused_jump(start))
    }

    /// Emits the jump-if-false for a condition compiled from `start`.
    fn fused_jump(&mut self, start: usize) -> usize {
        let ok = self.can_merge(start);
        let f = self.cur();
        if ok && f.code.len() == start + 3 {
            let fused = match (f.code[start], f.code[start + 1], f.code[start + 2]) {
                (Op::GetLocal(a), Op::GetLocal(b), Op::Cmp(c)) if c != Cmp::Three => {
                    Some(Op::CmpLLJmpF(a, b, c, 0))
                }
                (Op::GetLocal(a), Op::Int(i), Op::Cmp(c)) if c != Cmp::Three => {
                    Some(Op::CmpLIJmpF(a, i, c, 0))
                }
                _ => None,
            };
            if let Some(op) = fused {
                f.code.truncate(start);
                f.lines.truncate(start);
                f.depth -= 2;
                return self.emit(op);
            }
        }
        self.emit(Op::JmpF(0))
    }

    /// `( cond )` compiled to a jump-if-false.
    fn paren_cond_jump(&mut self) -> R<usize> {
        self.expect_op("(")?;
        let j = self.cond_jump()?;
        self.expect_op(")")?;
        Ok(j)
    }

    fn foreach_stmt(&mut self) -> R<()> {
        self.next()?;
        self.expect_op("(")?;
        let first = self.ident()?;
        let (kname, vname) = if self.is_op(",") {
            self.next()?;
            (Some(first), self.ident()?)
        } else {
            (None, first)
        };
        if !self.is_kw(Kw::In) {
            return self.err("expected 'in'");
        }
        self.next()?;
        let n = self.nactive();
        self.expr()?;
        self.expect_op(")")?;
        // Slots: container, key, value, iterator state (the reference's
        // error report lists them as `@INDEX@`, the value, `@ITERATOR@`).
        let base = self.add_local("@container")?;
        self.emit(Op::Null);
        self.add_local(kname.as_deref().unwrap_or("@INDEX@"))?;
        self.emit(Op::Null);
        self.add_local(&vname)?;
        self.emit(Op::Null);
        self.add_local("@ITERATOR@")?;
        let top = self.here();
        let fe = self.emit(Op::Foreach(base, 0));
        self.begin_loop(false);
        self.scoped_statement()?;
        self.emit(Op::Jmp(top));
        let end = self.here();
        self.patch(fe, end);
        self.end_loop(top, end);
        self.end_scope(n);
        Ok(())
    }

    fn switch_stmt(&mut self) -> R<()> {
        self.next()?;
        let n = self.nactive();
        self.cond()?;
        let tmp = self.add_local("@switch")?;
        self.expect_op("{")?;
        self.begin_loop(true);
        let mut pending_test: Option<usize> = None;
        let mut pending_body: Option<usize> = None;
        while self.is_kw(Kw::Case) {
            self.next()?;
            if let Some(j) = pending_test {
                let h = self.here();
                self.patch(j, h);
            }
            self.emit(Op::GetLocal(tmp));
            self.expr()?;
            self.expect_op(":")?;
            self.emit(Op::Eq);
            pending_test = Some(self.emit(Op::JmpF(0)));
            if let Some(j) = pending_body {
                let h = self.here();
                self.patch(j, h);
            }
            let m = self.nactive();
            while !self.is_kw(Kw::Case) && !self.is_kw(Kw::Default) && !self.is_op("}") {
                self.statement()?;
            }
            self.end_scope(m);
            pending_body = Some(self.emit(Op::Jmp(0)));
        }
        if let Some(j) = pending_test {
            let h = self.here();
            self.patch(j, h);
        }
        if self.is_kw(Kw::Default) {
            self.next()?;
            self.expect_op(":")?;
            if let Some(j) = pending_body.take() {
                let h = self.here();
                self.patch(j, h);
            }
            let m = self.nactive();
            while !self.is_op("}") {
                if self.lx.tok == Tok::Eof {
                    return self.err("expected '}'");
                }
                self.statement()?;
            }
            self.end_scope(m);
        }
        self.expect_op("}")?;
        let end = self.here();
        if let Some(j) = pending_body {
            self.patch(j, end);
        }
        self.end_loop(end, end);
        self.end_scope(n);
        Ok(())
    }

    fn try_stmt(&mut self) -> R<()> {
        self.next()?;
        let trap = self.emit(Op::PushTrap(0));
        self.cur().traps += 1;
        self.scoped_statement()?;
        self.cur().traps -= 1;
        self.emit(Op::PopTrap);
        let jend = self.emit(Op::Jmp(0));
        if !self.is_kw(Kw::Catch) {
            return self.err("expected 'catch'");
        }
        self.next()?;
        self.expect_op("(")?;
        let name = self.ident()?;
        self.expect_op(")")?;
        let h = self.here();
        self.patch(trap, h);
        let n = self.nactive();
        // The VM pushes the error value: it becomes the catch variable.
        self.cur().depth += 1;
        self.add_local(&name)?;
        self.scoped_statement()?;
        self.end_scope(n);
        let end = self.here();
        self.patch(jend, end);
        Ok(())
    }

    fn function_decl(&mut self) -> R<()> {
        // function a.b.c() / function A::b(): the last name is a new slot.
        let mut name = self.ident()?;
        let mut on_env = true;
        while self.is_op("::") || self.is_op(".") {
            self.next()?;
            if on_env {
                let k = self.str_const(&name);
                self.emit(Op::GetEnv(k));
                on_env = false;
            } else {
                let k = self.str_const(&name);
                self.emit(Op::GetK(k));
            }
            name = self.ident()?;
        }
        if on_env {
            self.emit(Op::This);
        }
        let k = self.str_const(&name);
        self.emit(Op::Const(k));
        self.function_body(&name, false)?;
        self.emit(Op::NewSlot);
        self.emit(Op::Pop);
        Ok(())
    }

    /// Parses `(params) body` and pushes the closure.
    fn function_body(&mut self, name: &str, lambda: bool) -> R<()> {
        self.expect_op("(")?;
        let fname = self.heap.intern(name.as_bytes());
        let mut params = vec!["this".to_owned()];
        let mut varargs = false;
        let mut ndefaults = 0usize;
        // Default values are evaluated here, in the enclosing function.
        while !self.is_op(")") {
            if self.is_op("...") {
                self.next()?;
                varargs = true;
                if !self.is_op(")") {
                    return self.err("expected ')'");
                }
                break;
            }
            let p = self.ident()?;
            params.push(p);
            if self.is_op("=") {
                self.next()?;
                self.expr()?;
                ndefaults += 1;
            } else if ndefaults > 0 {
                return self.err("expected '='");
            }
            if self.is_op(",") {
                self.next()?;
            } else if !self.is_op(")") {
                return self.err("expected ')'");
            }
        }
        self.next()?;
        self.open_fn(fname);
        for p in &params {
            self.add_local(p)?;
        }
        self.cur().nparams = params.len();
        self.cur().varargs = varargs;
        if varargs {
            self.add_local("vargv")?;
        }
        self.cur().depth = self.cur().actives.len() as i32;
        if lambda {
            self.line = self.lx.tline;
            self.expr()?;
            self.emit(Op::Return);
        } else {
            if !self.is_op("{") {
                return self.err("expected '{'");
            }
            self.statement()?;
            self.emit(Op::ReturnNull);
        }
        let mut proto = self.close_fn();
        if let Some(p) = Rc::get_mut(&mut proto) {
            p.ndefaults = ndefaults;
        }
        let f = self.cur();
        f.protos.push(proto);
        let idx = (f.protos.len() - 1) as u32;
        self.emit(Op::Closure(idx));
        self.cur().depth -= ndefaults as i32;
        Ok(())
    }

    fn class_decl(&mut self) -> R<()> {
        // class A.B / class A: a new slot in the environment.
        let mut name = self.ident()?;
        let mut on_env = true;
        while self.is_op(".") {
            self.next()?;
            let k = self.str_const(&name);
            if on_env {
                self.emit(Op::GetEnv(k));
                on_env = false;
            } else {
                self.emit(Op::GetK(k));
            }
            name = self.ident()?;
        }
        if on_env {
            self.emit(Op::This);
        }
        let k = self.str_const(&name);
        self.emit(Op::Const(k));
        self.class_body()?;
        self.emit(Op::NewSlot);
        self.emit(Op::Pop);
        Ok(())
    }

    /// Parses `[extends Base] [attrs] { members }` and pushes the class.
    fn class_body(&mut self) -> R<()> {
        let mut has_base = false;
        if self.is_kw(Kw::Extends) {
            self.next()?;
            let e = self.expr_desc_prefix()?;
            self.discharge(e);
            has_base = true;
        }
        let mut has_attrs = false;
        if self.is_op("</") {
            self.attributes()?;
            has_attrs = true;
        }
        self.emit(Op::NewClass(has_base, has_attrs));
        self.expect_op("{")?;
        while !self.is_op("}") {
            self.line = self.lx.tline;
            let mut attr = false;
            if self.is_op("</") {
                self.attributes()?;
                attr = true;
            }
            let mut is_static = false;
            if self.is_kw(Kw::Static) {
                is_static = true;
                self.next()?;
            }
            if self.is_kw(Kw::Function) {
                self.next()?;
                let name = self.ident()?;
                let k = self.str_const(&name);
                self.emit(Op::Const(k));
                self.function_body(&name, false)?;
            } else if self.is_kw(Kw::Constructor) {
                self.next()?;
                let k = self.str_const("constructor");
                self.emit(Op::Const(k));
                self.function_body("constructor", false)?;
            } else if self.is_op("[") {
                self.next()?;
                self.expr()?;
                self.expect_op("]")?;
                self.expect_op("=")?;
                self.expr()?;
            } else {
                let name = self.ident()?;
                let k = self.str_const(&name);
                self.emit(Op::Const(k));
                self.expect_op("=")?;
                self.expr()?;
            }
            self.emit(Op::ClassSlot(is_static, attr));
            if self.is_op(";") || self.is_op(",") {
                self.next()?;
            }
        }
        self.next()?;
        Ok(())
    }

    /// `</ k = v, ... />`: pushes a table.
    fn attributes(&mut self) -> R<()> {
        self.next()?;
        self.emit(Op::NewTable);
        while !self.is_op("/>") {
            let name = self.ident()?;
            let k = self.str_const(&name);
            self.emit(Op::Const(k));
            if self.is_op("=") {
                self.next()?;
                self.unary_no_gt()?;
            } else {
                self.emit(Op::Null);
            }
            self.emit(Op::TableSlot);
            if self.is_op(",") {
                self.next()?;
            }
            if self.lx.tok == Tok::Eof {
                return self.err("expected '/>'");
            }
        }
        self.next()
    }

    /// An attribute value: a primary expression (no `>` comparisons, which
    /// would swallow the closing `/>`).
    fn unary_no_gt(&mut self) -> R<()> {
        let e = self.unary()?;
        self.discharge(e);
        Ok(())
    }

    fn const_value(&mut self) -> R<Value> {
        let neg = if self.is_op("-") {
            self.next()?;
            true
        } else {
            false
        };
        let v = match self.lx.tok.clone() {
            Tok::Int(i) => Value::Int(if neg { i.wrapping_neg() } else { i }),
            Tok::Float(f) => Value::Float(if neg { -f } else { f }),
            Tok::Str(s) if !neg => self.heap.intern(&s),
            Tok::Kw(Kw::True) if !neg => Value::Bool(true),
            Tok::Kw(Kw::False) if !neg => Value::Bool(false),
            Tok::Kw(Kw::Null) if !neg => Value::Null,
            _ => return self.err("scalar expected : integer, float, or string"),
        };
        self.next()?;
        Ok(v)
    }

    fn enum_decl(&mut self) -> R<()> {
        self.next()?;
        let name = self.ident()?;
        self.expect_op("{")?;
        let mut map = HashMap::new();
        let mut next = 0i64;
        while !self.is_op("}") {
            let k = self.ident()?;
            // The counter advances only for members without a value.
            let v = if self.is_op("=") {
                self.next()?;
                self.const_value()?
            } else {
                next += 1;
                Value::Int(next - 1)
            };
            map.insert(k, v);
            if self.is_op(",") {
                self.next()?;
            }
            if self.lx.tok == Tok::Eof {
                return self.err("expected '}'");
            }
        }
        self.next()?;
        self.consts.insert(name, ConstValPub(ConstVal::Enum(map)));
        Ok(())
    }

    fn const_decl(&mut self) -> R<()> {
        self.next()?;
        let name = self.ident()?;
        self.expect_op("=")?;
        let v = self.const_value()?;
        self.consts.insert(name, ConstValPub(ConstVal::Val(v)));
        self.optional_semi()
    }

    // ── Expressions ────────────────────────────────────────────────────

    fn push_value(&mut self, v: Value) {
        match v {
            Value::Null => {
                self.emit(Op::Null);
            }
            Value::Bool(true) => {
                self.emit(Op::True);
            }
            Value::Bool(false) => {
                self.emit(Op::False);
            }
            Value::Int(i) if i32::try_from(i).is_ok() => {
                self.emit(Op::Int(i as i32));
            }
            v => {
                let k = self.konst(v);
                self.emit(Op::Const(k));
            }
        }
    }

    fn discharge(&mut self, e: Exp) {
        match e {
            Exp::Pushed => {}
            Exp::Local(s) => {
                self.emit(Op::GetLocal(s));
            }
            Exp::Outer(s) => {
                self.emit(Op::GetOuter(s));
            }
            Exp::Env(k) => {
                self.emit(Op::GetEnv(k));
            }
            Exp::Index => {
                // `local[local]` in one instruction.
                let len = self.cur().code.len();
                if len >= 2 && self.can_merge(len - 2) {
                    let f = self.cur();
                    if let (Op::GetLocal(a), Op::GetLocal(b)) = (f.code[len - 2], f.code[len - 1]) {
                        f.code.truncate(len - 1);
                        f.lines.truncate(len - 1);
                        f.code[len - 2] = Op::GetLL(a, b);
                        f.depth -= 1;
                        return;
                    }
                }
                self.emit(Op::Get);
            }
            Exp::Field(k) | Exp::BaseField(k) => {
                // `local.k` reads without pushing the local first.
                let len = self.cur().code.len();
                let ok = len > 0 && self.can_merge(len - 1);
                let f = self.cur();
                if let (true, Some(Op::GetLocal(s))) = (ok, f.code.last().copied()) {
                    let at = f.code.len() - 1;
                    f.code[at] = Op::GetLocalK(s, k);
                    return;
                }
                self.emit(Op::GetK(k));
            }
        }
    }

    /// A full expression, value pushed.
    fn expr(&mut self) -> R<()> {
        let e = self.expr_desc()?;
        self.discharge(e);
        Ok(())
    }

    /// Assignment level.
    fn expr_desc(&mut self) -> R<Exp> {
        let e = self.ternary()?;
        let op = match self.lx.tok {
            Tok::Op(o @ ("=" | "<-" | "+=" | "-=" | "*=" | "/=" | "%=")) => o,
            _ => return Ok(e),
        };
        self.next()?;
        if matches!(e, Exp::Pushed) {
            return self.err("can't assign expression");
        }
        if op == "<-" {
            match e {
                Exp::Index => {}
                Exp::Field(k) | Exp::BaseField(k) => {
                    self.emit(Op::Const(k));
                }
                Exp::Env(k) => {
                    // `x <- v` creates a slot in `this`.
                    self.emit(Op::This);
                    self.emit(Op::Const(k));
                }
                _ => return self.err("can't 'create' a local slot"),
            }
            self.expr()?;
            self.emit(Op::NewSlot);
            return Ok(Exp::Pushed);
        }
        let arith = match op {
            "+=" => Some(Arith::Add),
            "-=" => Some(Arith::Sub),
            "*=" => Some(Arith::Mul),
            "/=" => Some(Arith::Div),
            "%=" => Some(Arith::Mod),
            _ => None,
        };
        match e {
            Exp::Local(s) => {
                self.expr()?;
                let len = self.cur().code.len();
                let mergeable = len > 0 && self.can_merge(len - 1);
                let small = match self.cur().code.last() {
                    Some(Op::Int(k)) if mergeable => Some(*k),
                    _ => None,
                };
                match (arith, small) {
                    (Some(a), Some(k)) => {
                        let f = self.cur();
                        f.code[len - 1] = Op::ArithLocalI(s, a, k, true);
                    }
                    (Some(a), None) => {
                        self.emit(Op::ArithLocal(s, a, true));
                    }
                    (None, _) => {
                        self.emit(Op::SetLocal(s));
                    }
                }
            }
            Exp::Outer(s) => {
                if let Some(a) = arith {
                    self.emit(Op::GetOuter(s));
                    self.expr()?;
                    self.emit_arith(a);
                } else {
                    self.expr()?;
                }
                self.emit(Op::SetOuter(s));
            }
            Exp::Env(k) => {
                if let Some(a) = arith {
                    self.emit(Op::GetEnv(k));
                    self.expr()?;
                    self.emit_arith(a);
                } else {
                    self.expr()?;
                }
                self.emit(Op::SetEnv(k));
            }
            Exp::Index => {
                if let Some(a) = arith {
                    self.emit(Op::Dup2);
                    self.emit(Op::Get);
                    self.expr()?;
                    self.emit_arith(a);
                } else {
                    self.expr()?;
                }
                self.emit(Op::Set);
            }
            Exp::Field(k) | Exp::BaseField(k) => {
                if let Some(a) = arith {
                    self.emit(Op::Dup);
                    self.emit(Op::GetK(k));
                    self.expr()?;
                    self.emit_arith(a);
                } else {
                    self.expr()?;
                }
                self.emit(Op::SetK(k));
            }
            Exp::Pushed => unreachable!("checked above"),
        }
        Ok(Exp::Pushed)
    }

    fn emit_arith(&mut self, a: Arith) {
        let len = self.cur().code.len();
        // `local op local` and `local op small-integer`: one instruction.
        if len >= 2 && self.can_merge(len - 2) {
            let f = self.cur();
            let merged = match (f.code[len - 2], f.code[len - 1]) {
                (Op::GetLocal(x), Op::GetLocal(y)) => Some(Op::ArithLL(x, a, y)),
                (Op::GetLocal(x), Op::Int(k)) => Some(Op::ArithLI(x, a, k)),
                _ => None,
            };
            if let Some(op) = merged {
                f.code.truncate(len - 1);
                f.lines.truncate(len - 1);
                f.code[len - 2] = op;
                f.depth -= 1;
                return;
            }
        }
        // `x + k` with a small integer constant: one instruction.
        if (a == Arith::Add || a == Arith::Sub) && len > 0 && self.can_merge(len - 1) {
            let f = self.cur();
            if let Some(Op::Int(i)) = f.code.last().copied() {
                let d = if a == Arith::Add {
                    Some(i)
                } else {
                    i.checked_neg()
                };
                if let Some(d) = d {
                    let at = f.code.len() - 1;
                    f.code[at] = Op::AddI(d);
                    f.depth -= 1;
                    return;
                }
            }
        }
        self.emit(Op::Arith(a));
    }

    fn ternary(&mut self) -> R<Exp> {
        let start = self.cur().code.len();
        let e = self.or_expr()?;
        if !self.is_op("?") {
            return Ok(e);
        }
        self.discharge(e);
        self.next()?;
        let jf = self.fused_jump(start);
        self.expr()?;
        let je = self.emit(Op::Jmp(0));
        self.cur().depth -= 1;
        let h = self.here();
        self.patch(jf, h);
        self.expect_op(":")?;
        self.expr()?;
        let h = self.here();
        self.patch(je, h);
        Ok(Exp::Pushed)
    }

    fn or_expr(&mut self) -> R<Exp> {
        let e = self.and_expr()?;
        if !self.is_op("||") {
            return Ok(e);
        }
        self.discharge(e);
        let mut jumps = Vec::new();
        while self.is_op("||") {
            self.next()?;
            jumps.push(self.emit(Op::OrJ(0)));
            let e = self.and_expr()?;
            self.discharge(e);
        }
        let h = self.here();
        for j in jumps {
            self.patch(j, h);
        }
        Ok(Exp::Pushed)
    }

    fn and_expr(&mut self) -> R<Exp> {
        let e = self.bitor()?;
        if !self.is_op("&&") && !self.is_kw(Kw::In) {
            return Ok(e);
        }
        self.discharge(e);
        let mut jumps = Vec::new();
        loop {
            if self.is_op("&&") {
                self.next()?;
                jumps.push(self.emit(Op::AndJ(0)));
                let e = self.bitor()?;
                self.discharge(e);
            } else if self.is_kw(Kw::In) {
                self.next()?;
                let e = self.bitor()?;
                self.discharge(e);
                self.emit(Op::In);
            } else {
                break;
            }
        }
        let h = self.here();
        for j in jumps {
            self.patch(j, h);
        }
        Ok(Exp::Pushed)
    }

    fn binary_level(&mut self, ops: &[(&str, Op)], next: fn(&mut Self) -> R<Exp>) -> R<Exp> {
        let e = next(self)?;
        let find = |s: &Self| match s.lx.tok {
            Tok::Op(o) => ops.iter().find(|(n, _)| *n == o).map(|(_, op)| *op),
            Tok::Kw(Kw::Instanceof) => ops
                .iter()
                .find(|(n, _)| *n == "instanceof")
                .map(|(_, op)| *op),
            _ => None,
        };
        let Some(mut op) = find(self) else {
            return Ok(e);
        };
        self.discharge(e);
        loop {
            self.next()?;
            let r = next(self)?;
            self.discharge(r);
            match op {
                Op::Arith(a) => self.emit_arith(a),
                op => {
                    self.emit(op);
                }
            }
            match find(self) {
                Some(o) => op = o,
                None => break,
            }
        }
        Ok(Exp::Pushed)
    }

    fn bitor(&mut self) -> R<Exp> {
        self.binary_level(&[("|", Op::Arith(Arith::BitOr))], Self::bitxor)
    }

    fn bitxor(&mut self) -> R<Exp> {
        self.binary_level(&[("^", Op::Arith(Arith::BitXor))], Self::bitand)
    }

    fn bitand(&mut self) -> R<Exp> {
        self.binary_level(&[("&", Op::Arith(Arith::BitAnd))], Self::equality)
    }

    fn equality(&mut self) -> R<Exp> {
        self.binary_level(
            &[("==", Op::Eq), ("!=", Op::Ne), ("<=>", Op::Cmp(Cmp::Three))],
            Self::compare,
        )
    }

    fn compare(&mut self) -> R<Exp> {
        self.binary_level(
            &[
                ("<", Op::Cmp(Cmp::Lt)),
                ("<=", Op::Cmp(Cmp::Le)),
                (">", Op::Cmp(Cmp::Gt)),
                (">=", Op::Cmp(Cmp::Ge)),
                ("instanceof", Op::Instanceof),
            ],
            Self::shift,
        )
    }

    fn shift(&mut self) -> R<Exp> {
        self.binary_level(
            &[
                ("<<", Op::Arith(Arith::Shl)),
                (">>", Op::Arith(Arith::Shr)),
                (">>>", Op::Arith(Arith::UShr)),
            ],
            Self::additive,
        )
    }

    fn additive(&mut self) -> R<Exp> {
        self.binary_level(
            &[("+", Op::Arith(Arith::Add)), ("-", Op::Arith(Arith::Sub))],
            Self::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> R<Exp> {
        self.binary_level(
            &[
                ("*", Op::Arith(Arith::Mul)),
                ("/", Op::Arith(Arith::Div)),
                ("%", Op::Arith(Arith::Mod)),
            ],
            Self::unary,
        )
    }

    fn unary(&mut self) -> R<Exp> {
        self.nesting += 1;
        let r = if self.nesting > MAX_NESTING {
            self.err("nesting too deep")
        } else {
            self.unary_inner()
        };
        self.nesting -= 1;
        r
    }

    fn unary_inner(&mut self) -> R<Exp> {
        let op = match &self.lx.tok {
            Tok::Op("-") => Some(Op::Neg),
            Tok::Op("!") => Some(Op::Not),
            Tok::Op("~") => Some(Op::BitNot),
            Tok::Kw(Kw::Typeof) => Some(Op::Typeof),
            Tok::Kw(Kw::Clone) => Some(Op::Clone),
            Tok::Kw(Kw::Resume) => Some(Op::Resume),
            _ => None,
        };
        if let Some(op) = op {
            self.next()?;
            // Negative literals fold.
            if matches!(op, Op::Neg) {
                match self.lx.tok {
                    Tok::Int(i) => {
                        self.next()?;
                        self.push_value(Value::Int(i.wrapping_neg()));
                        return self.postfix(Exp::Pushed);
                    }
                    Tok::Float(f) => {
                        self.next()?;
                        self.push_value(Value::Float(-f));
                        return self.postfix(Exp::Pushed);
                    }
                    _ => {}
                }
            }
            let e = self.unary()?;
            self.discharge(e);
            self.emit(op);
            return Ok(Exp::Pushed);
        }
        if self.is_op("++") || self.is_op("--") {
            let d = if self.is_op("++") { 1 } else { -1 };
            self.next()?;
            let e = self.unary()?;
            self.incdec(e, d, false)?;
            return Ok(Exp::Pushed);
        }
        if self.is_kw(Kw::Delete) {
            self.next()?;
            let e = self.unary()?;
            match e {
                Exp::Index => {}
                Exp::Field(k) => {
                    self.emit(Op::Const(k));
                }
                Exp::Env(k) => {
                    self.emit(Op::This);
                    self.emit(Op::Const(k));
                }
                _ => return self.err("can't delete an expression"),
            }
            self.emit(Op::Delete);
            return Ok(Exp::Pushed);
        }
        self.expr_desc_prefix()
    }

    fn incdec(&mut self, e: Exp, d: i32, post: bool) -> R<()> {
        match e {
            Exp::Local(s) => self.emit(Op::IncLocal(s, d, post)),
            Exp::Outer(s) => self.emit(Op::IncOuter(s, d, post)),
            Exp::Env(k) => self.emit(Op::IncEnv(k, d, post)),
            Exp::Index => self.emit(Op::IncIndex(d, post)),
            Exp::Field(k) | Exp::BaseField(k) => self.emit(Op::IncField(k, d, post)),
            Exp::Pushed => return self.err("can't '++' or '--' an expression"),
        };
        Ok(())
    }

    /// Primary expression with its postfix chain.
    fn expr_desc_prefix(&mut self) -> R<Exp> {
        let e = self.primary()?;
        self.postfix(e)
    }

    fn postfix(&mut self, mut e: Exp) -> R<Exp> {
        loop {
            match self.lx.tok {
                Tok::Op(".") => {
                    self.next()?;
                    let name = self.ident()?;
                    let k = self.str_const(&name);
                    self.discharge(e);
                    e = Exp::Field(k);
                }
                Tok::Op("[") if !self.lx.nl_before => {
                    self.next()?;
                    self.discharge(e);
                    self.expr()?;
                    self.expect_op("]")?;
                    e = Exp::Index;
                }
                Tok::Op("(") if !self.lx.nl_before => {
                    self.next()?;
                    match e {
                        Exp::Field(k) => {
                            self.emit(Op::PrepCallK(k));
                        }
                        Exp::BaseField(k) => {
                            self.emit(Op::GetK(k));
                            self.emit(Op::This);
                        }
                        Exp::Index => {
                            self.emit(Op::PrepCall);
                        }
                        Exp::Env(k) => {
                            self.emit(Op::PrepEnv(k));
                        }
                        e => {
                            self.discharge(e);
                            self.emit(Op::This);
                        }
                    }
                    let mut n = 1u32;
                    while !self.is_op(")") {
                        self.expr()?;
                        n += 1;
                        if self.is_op(",") {
                            self.next()?;
                        } else if !self.is_op(")") {
                            return self.err("expected ')'");
                        }
                    }
                    self.next()?;
                    self.emit(Op::Call(n));
                    e = Exp::Pushed;
                }
                Tok::Op(o @ ("++" | "--")) if !self.lx.nl_before => {
                    if matches!(e, Exp::Pushed) {
                        return Ok(e);
                    }
                    self.next()?;
                    self.incdec(e, if o == "++" { 1 } else { -1 }, true)?;
                    e = Exp::Pushed;
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> R<Exp> {
        self.line = self.lx.tline;
        match self.lx.tok.clone() {
            Tok::Int(i) => {
                self.next()?;
                self.push_value(Value::Int(i));
            }
            Tok::Float(f) => {
                self.next()?;
                self.push_value(Value::Float(f));
            }
            Tok::Str(s) => {
                self.next()?;
                let v = self.heap.intern(&s);
                self.push_value(v);
            }
            Tok::Kw(Kw::Null) => {
                self.next()?;
                self.emit(Op::Null);
            }
            Tok::Kw(Kw::True) => {
                self.next()?;
                self.emit(Op::True);
            }
            Tok::Kw(Kw::False) => {
                self.next()?;
                self.emit(Op::False);
            }
            Tok::Kw(Kw::Line) => {
                let l = self.lx.tline;
                self.next()?;
                self.push_value(Value::Int(i64::from(l)));
            }
            Tok::Kw(Kw::File) => {
                self.next()?;
                let v = self.heap.intern(self.source.as_bytes());
                self.push_value(v);
            }
            Tok::Kw(Kw::This) => {
                self.next()?;
                self.emit(Op::This);
            }
            Tok::Kw(Kw::Base) => {
                self.next()?;
                self.emit(Op::Base);
                if self.is_op(".") {
                    self.next()?;
                    let name = self.ident()?;
                    let k = self.str_const(&name);
                    return Ok(Exp::BaseField(k));
                }
            }
            Tok::Op("::") => {
                self.next()?;
                self.emit(Op::Root);
                let name = self.ident()?;
                let k = self.str_const(&name);
                return Ok(Exp::Field(k));
            }
            Tok::Op("(") => {
                self.next()?;
                self.expr()?;
                self.expect_op(")")?;
            }
            Tok::Op("[") => {
                self.next()?;
                let at = self.emit(Op::NewArray(0));
                let mut n = 0;
                while !self.is_op("]") {
                    self.expr()?;
                    self.emit(Op::ArrayPush);
                    n += 1;
                    if self.is_op(",") {
                        self.next()?;
                    } else if !self.is_op("]") {
                        return self.err("expected ']'");
                    }
                }
                self.next()?;
                self.cur().code[at] = Op::NewArray(n);
            }
            Tok::Op("{") => {
                self.next()?;
                self.table_body()?;
            }
            Tok::Kw(Kw::Function) => {
                self.next()?;
                self.function_body("unknown", false)?;
            }
            Tok::Op("@") => {
                self.next()?;
                self.function_body("unknown", true)?;
            }
            Tok::Kw(Kw::Class) => {
                self.next()?;
                self.class_body()?;
            }
            Tok::Ident(name) => {
                self.next()?;
                let level = self.fs.len() - 1;
                if let Some(slot) = Self::resolve_local(&self.fs[level], &name) {
                    return Ok(Exp::Local(slot));
                }
                if let Some(i) = self.resolve_outer(level, &name) {
                    return Ok(Exp::Outer(i));
                }
                if let Some(c) = self.consts.get(&name).cloned() {
                    match c.0 {
                        ConstVal::Val(v) => self.push_value(v),
                        ConstVal::Enum(map) => {
                            self.expect_op(".")?;
                            let k = self.ident()?;
                            match map.get(&k) {
                                Some(v) => self.push_value(*v),
                                None => {
                                    return self
                                        .err(format!("invalid enum [no '{k}' field in '{name}']"));
                                }
                            }
                        }
                    }
                    return Ok(Exp::Pushed);
                }
                let k = self.str_const(&name);
                return Ok(Exp::Env(k));
            }
            _ => return self.err("expression expected"),
        }
        Ok(Exp::Pushed)
    }

    fn table_body(&mut self) -> R<()> {
        self.emit(Op::NewTable);
        while !self.is_op("}") {
            self.line = self.lx.tline;
            match self.lx.tok.clone() {
                Tok::Kw(Kw::Function) => {
                    self.next()?;
                    let name = self.ident()?;
                    let k = self.str_const(&name);
                    self.emit(Op::Const(k));
                    self.function_body(&name, false)?;
                }
                Tok::Op("[") => {
                    self.next()?;
                    self.expr()?;
                    self.expect_op("]")?;
                    self.expect_op("=")?;
                    self.expr()?;
                }
                Tok::Str(s) => {
                    // JSON style: "key" : value
                    self.next()?;
                    let v = self.heap.intern(&s);
                    self.push_value(v);
                    self.expect_op(":")?;
                    self.expr()?;
                }
                _ => {
                    let name = self.ident()?;
                    let k = self.str_const(&name);
                    self.emit(Op::Const(k));
                    self.expect_op("=")?;
                    self.expr()?;
                }
            }
            self.emit(Op::TableSlot);
            if self.is_op(",") {
                self.next()?;
            } else if !self.is_op("}") && !self.lx.nl_before {
                return self.err("expected '}'");
            }
            if self.lx.tok == Tok::Eof {
                return self.err("expected '}'");
            }
        }
        self.next()
    }
}

/// Moves a jump that targeted `[from..]` code to its new position.
fn relocate(op: Op, from: u32, to: u32) -> Op {
    let m = |t: u32| if t >= from { t - from + to } else { t };
    match op {
        Op::Jmp(t) => Op::Jmp(m(t)),
        Op::JmpF(t) => Op::JmpF(m(t)),
        Op::JmpT(t) => Op::JmpT(m(t)),
        Op::AndJ(t) => Op::AndJ(m(t)),
        Op::OrJ(t) => Op::OrJ(m(t)),
        op => op,
    }
}

impl ConstValPub {
    /// The heap values this constant holds (the collector keeps them).
    pub(crate) fn values(&self, out: &mut Vec<Value>) {
        match &self.0 {
            ConstVal::Val(v) => out.push(*v),
            ConstVal::Enum(m) => out.extend(m.values().copied()),
        }
    }
}
