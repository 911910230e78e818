//! The virtual machine: one value stack, a frame stack, and a dispatch loop
//! that re-enters itself for script-to-script calls instead of recursing on
//! the host stack. Natives calling back into scripts (sort comparators,
//! metamethods) nest a bounded number of dispatch loops.

use crate::compiler::{Arith, Cmp, ConstValPub, Op};
use crate::heap::{
    Class, Closure, GenState, Generator, Heap, Instance, Native, NativeFn, Outer, Proto,
    ThreadState, Value, f32r,
};
use crate::table::Table;
use shield_engine::{Clock, LimitKind, Limits};
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

/// Why execution stopped abnormally.
#[derive(Debug)]
pub(crate) enum Error {
    /// A thrown value (runtime errors are strings).
    Throw(Value),
    /// A limit was reached; never caught by scripts.
    Limit(LimitKind),
    /// `suspend(v)` unwinding to the running thread's `call`/`wakeup`.
    Suspend(Value),
}

pub(crate) type R<T> = Result<T, Error>;

/// Most frames a script may stack before "stack overflow".
const MAX_FRAMES: usize = 10_000;
/// Largest single allocation a script may ask for (bytes).
const MAX_ALLOCATION: usize = 1 << 30;
/// Most nested native-to-script re-entries (each uses host stack).
const MAX_NEST: u32 = 40;

#[derive(Debug)]
pub(crate) struct Frame {
    pub closure: u32,
    pub proto: Rc<Proto>,
    pub pc: usize,
    pub base: usize,
    pub generator: Option<u32>,
    /// A constructor call: the frame returns its `this`.
    pub ret_this: bool,
}

#[derive(Debug, Clone, Copy)]
struct Trap {
    frame: usize,
    sp: usize,
    pc: usize,
}

/// The type-wide method tables (`[].len`, `"".slice`...).
#[derive(Debug, Default)]
pub(crate) struct Delegates {
    pub table: u32,
    pub array: u32,
    pub string: u32,
    pub number: u32,
    pub function: u32,
    pub class: u32,
    pub instance: u32,
    pub generator: u32,
    pub thread: u32,
    pub weakref: u32,
    pub blob: u32,
}

/// The world a script sees, borrowed from the job.
pub(crate) struct World<'j> {
    pub stdin: &'j mut dyn std::io::Read,
    pub stdout: &'j mut dyn Write,
    pub stderr: &'j mut dyn Write,
    pub vfs: &'j mut dyn shield_engine::vfs::Vfs,
    pub clock: &'j dyn Clock,
    pub env: &'j [(String, String)],
    pub heap_exceeded: fn() -> bool,
}

/// The VM.
pub(crate) struct Vm<'j> {
    pub heap: Heap,
    /// The value stack: a buffer that only grows; `sp` is its top.
    pub stack: Vec<Value>,
    pub sp: usize,
    pub frames: Vec<Frame>,
    traps: Vec<Trap>,
    /// Open outers by stack index, ascending.
    open: Vec<(usize, u32)>,
    pub root: Value,
    pub protos: Vec<Rc<Proto>>,
    pub consts: HashMap<String, ConstValPub>,
    pub delegates: Delegates,
    pub world: World<'j>,
    pub limits: Limits,
    pub steps: u64,
    pub output: u64,
    nest: u32,
    /// Values a native holds across a call back into scripts.
    pub roots: Vec<Value>,
    argbuf: Vec<Value>,
    scratch: Vec<u8>,
    /// The call stack at the first uncaught error, for the report.
    pub trace: Option<Vec<TraceFrame>>,
    polls: u32,
    /// `Limits::instructions`, or no cap.
    step_cap: u64,
    /// Cached interned names the VM itself looks up.
    pub names: Names,
    /// Open files, by blob-like handle index.
    pub files: Vec<Option<crate::stdlib::FileObj>>,
    /// Threads being run: (thread, frame depth of its run, nesting level).
    pub running_threads: Vec<(u32, usize, u32)>,
    /// Compiled `regexp` patterns, by index (held by their instances).
    pub regexes: Vec<Rc<crate::regex::Regex>>,
    /// The native `regexp` class.
    pub regexp_class: u32,
}

/// A frame as `getstackinfos` and the error report see it.
#[derive(Debug)]
pub(crate) struct FrameInfo {
    pub func: String,
    pub source: String,
    pub line: u32,
    pub values: Vec<(String, Value)>,
}

/// One frame of an error report.
#[derive(Debug)]
pub(crate) struct TraceFrame {
    pub func: String,
    pub source: String,
    pub line: u32,
    pub locals: Vec<(String, String)>,
}

/// Interned strings the VM uses itself.
#[derive(Debug)]
pub(crate) struct Names {
    pub constructor: Value,
    pub get: Value,
    pub set: Value,
    pub newslot: Value,
    pub delslot: Value,
    pub add: Value,
    pub sub: Value,
    pub mul: Value,
    pub div: Value,
    pub modulo: Value,
    pub unm: Value,
    pub cmp: Value,
    pub call: Value,
    pub typeof_: Value,
    pub tostring: Value,
    pub nexti: Value,
    pub cloned: Value,
    pub inherited: Value,
    pub newmember: Value,
}

impl<'j> Vm<'j> {
    pub(crate) fn new(world: World<'j>, limits: Limits) -> Self {
        let mut heap = Heap::new();
        let root = heap.new_table();
        let mut n = |s: &str| heap.intern(s.as_bytes());
        let names = Names {
            constructor: n("constructor"),
            get: n("_get"),
            set: n("_set"),
            newslot: n("_newslot"),
            delslot: n("_delslot"),
            add: n("_add"),
            sub: n("_sub"),
            mul: n("_mul"),
            div: n("_div"),
            modulo: n("_modulo"),
            unm: n("_unm"),
            cmp: n("_cmp"),
            call: n("_call"),
            typeof_: n("_typeof"),
            tostring: n("_tostring"),
            nexti: n("_nexti"),
            cloned: n("_cloned"),
            inherited: n("_inherited"),
            newmember: n("_newmember"),
        };
        let mut vm = Vm {
            heap,
            stack: vec![Value::Null; 1024],
            sp: 0,
            frames: Vec::new(),
            traps: Vec::new(),
            open: Vec::new(),
            root,
            protos: Vec::new(),
            consts: HashMap::new(),
            delegates: Delegates::default(),
            world,
            limits,
            steps: 0,
            output: 0,
            nest: 0,
            roots: Vec::new(),
            argbuf: Vec::new(),
            scratch: Vec::new(),
            trace: None,
            polls: 0,
            step_cap: limits.instructions.unwrap_or(u64::MAX),
            names,
            files: Vec::new(),
            running_threads: Vec::new(),
            regexes: Vec::new(),
            regexp_class: 0,
        };
        crate::stdlib::install(&mut vm);
        vm
    }

    // ── Helpers ─────────────────────────────────────────────────────────

    pub(crate) fn str(&mut self, s: &str) -> Value {
        self.heap.intern(s.as_bytes())
    }

    pub(crate) fn err<T>(&mut self, msg: impl AsRef<str>) -> R<T> {
        let v = self.heap.intern(msg.as_ref().as_bytes());
        Err(Error::Throw(v))
    }

    #[inline(always)]
    pub(crate) fn hash(&self, v: Value) -> u64 {
        let mix = |x: u64| self.heap.mix(x);
        match v {
            Value::Str(s) => self.heap.str_hash(s),
            Value::Int(i) => mix(i as u64),
            Value::Float(f) => mix(f.to_bits()),
            Value::Bool(b) => mix(u64::from(b) + 7),
            Value::Null => 0,
            Value::Table(i) => mix(u64::from(i) | 1 << 40),
            Value::Array(i) => mix(u64::from(i) | 2 << 40),
            Value::Closure(i) => mix(u64::from(i) | 3 << 40),
            Value::Native(i) => mix(u64::from(i) | 4 << 40),
            Value::Class(i) => mix(u64::from(i) | 5 << 40),
            Value::Instance(i) => mix(u64::from(i) | 6 << 40),
            Value::Generator(i) => mix(u64::from(i) | 7 << 40),
            Value::Thread(i) => mix(u64::from(i) | 10 << 40),
            Value::WeakRef(i) => mix(u64::from(i) | 8 << 40),
            Value::Blob(i) => mix(u64::from(i) | 9 << 40),
        }
    }

    pub(crate) fn type_name(&self, v: Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Table(_) => "table",
            Value::Array(_) => "array",
            Value::Closure(_) | Value::Native(_) => "function",
            Value::Class(_) => "class",
            Value::Instance(_) => "instance",
            Value::Generator(_) => "generator",
            Value::Thread(_) => "thread",
            Value::WeakRef(_) => "weakref",
            Value::Blob(_) => "instance",
        }
    }

    /// Counts bytes a native is about to allocate against the memory limit;
    /// a single allocation past `MAX_ALLOCATION` fails even without one.
    pub(crate) fn charge(&mut self, n: usize) -> R<()> {
        if let Some(m) = self.limits.memory_bytes
            && self.heap.bytes.saturating_add(n) as u64 > m
        {
            return Err(Error::Limit(LimitKind::Memory));
        }
        if n > MAX_ALLOCATION {
            return self.err("not enough memory");
        }
        Ok(())
    }

    /// Writes script output, counted against the output limit.
    pub(crate) fn write_out(&mut self, err: bool, data: &[u8]) -> R<()> {
        self.count_output(data.len())?;
        let w: &mut dyn Write = if err {
            &mut *self.world.stderr
        } else {
            &mut *self.world.stdout
        };
        let _ = w.write_all(data);
        Ok(())
    }

    pub(crate) fn count_output(&mut self, n: usize) -> R<()> {
        self.output += n as u64;
        if let Some(m) = self.limits.output_bytes
            && self.output > m
        {
            return Err(Error::Limit(LimitKind::Output));
        }
        Ok(())
    }

    /// The periodic check at backward jumps and calls: instruction budget,
    /// collection, memory limit, the host's heap backstop.
    #[inline]
    fn check(&mut self) -> R<()> {
        if let Some(max) = self.limits.instructions
            && self.steps > max
        {
            return Err(Error::Limit(LimitKind::Instructions));
        }
        if self.heap.bytes > self.heap.next_gc {
            self.gc();
            if let Some(m) = self.limits.memory_bytes
                && self.heap.bytes as u64 > m
            {
                return Err(Error::Limit(LimitKind::Memory));
            }
        }
        self.polls = self.polls.wrapping_add(1);
        if self.polls.is_multiple_of(1024) && (self.world.heap_exceeded)() {
            return Err(Error::Limit(LimitKind::Memory));
        }
        Ok(())
    }

    pub(crate) fn gc(&mut self) {
        let mut roots: Vec<Value> = Vec::with_capacity(self.sp + 64);
        roots.extend_from_slice(&self.stack[..self.sp]);
        roots.extend_from_slice(&self.roots);
        roots.push(self.root);
        roots.push(Value::Class(self.regexp_class));
        for f in &self.frames {
            roots.push(Value::Closure(f.closure));
            if let Some(g) = f.generator {
                roots.push(Value::Generator(g));
            }
        }
        let d = &self.delegates;
        for t in [
            d.table,
            d.array,
            d.string,
            d.number,
            d.function,
            d.class,
            d.instance,
            d.generator,
            d.thread,
            d.weakref,
            d.blob,
        ] {
            roots.push(Value::Table(t));
        }
        let n = &self.names;
        roots.extend_from_slice(&[
            n.constructor,
            n.get,
            n.set,
            n.newslot,
            n.delslot,
            n.add,
            n.sub,
            n.mul,
            n.div,
            n.modulo,
            n.unm,
            n.cmp,
            n.call,
            n.typeof_,
            n.tostring,
            n.nexti,
            n.cloned,
            n.inherited,
            n.newmember,
        ]);
        for c in self.consts.values() {
            c.mark_into(&mut roots);
        }
        let outers: Vec<u32> = self.open.iter().map(|o| o.1).collect();
        self.heap.collect(&roots, &outers, &self.protos);
    }

    // ── Running ────────────────────────────────────────────────────────

    /// Calls `f` with `this` and `args` from native code and runs it to
    /// completion.
    pub(crate) fn call(&mut self, f: Value, this: Value, args: &[Value]) -> R<Value> {
        if self.nest >= MAX_NEST {
            return self.err("stack overflow");
        }
        let sp = self.sp;
        self.push(f);
        self.push(this);
        self.extend(args);
        let depth = self.frames.len();
        self.nest += 1;
        let r = match self.call_setup(args.len() as u32 + 1) {
            Ok(true) => self.run(depth),
            Ok(false) => Ok(self.pop()),
            Err(e) => Err(e),
        };
        self.nest -= 1;
        self.sp = sp;
        r
    }

    /// Runs the main function of a compiled script.
    pub(crate) fn run_main(&mut self, proto: Rc<Proto>, args: &[Value]) -> R<Value> {
        self.protos.push(proto.clone());
        let c = self.heap.new_closure(Closure {
            proto,
            outers: Vec::new(),
            defaults: Vec::new(),
            env: None,
            base: None,
        });
        let root = self.root;
        self.call(c, root, args)
    }

    /// Sets up a call of the callee at `sp - nargs - 1` (nargs counts
    /// `this`). Pushes a frame and returns true for closures; for natives
    /// and instant results, leaves the result in the callee slot and
    /// returns false.
    fn call_setup(&mut self, nargs: u32) -> R<bool> {
        let nargs = nargs as usize;
        let fslot = self.sp - nargs - 1;
        let callee = self.stack[fslot];
        match callee {
            Value::Closure(ci) => {
                let c = self.heap.closures.get(ci);
                let proto = c.proto.clone();
                if let Some(env) = c.env {
                    self.stack[fslot + 1] = env;
                }
                let np = proto.nparams;
                if nargs != np {
                    if nargs < np {
                        let missing = np - nargs;
                        if missing > proto.ndefaults {
                            let req = np - proto.ndefaults;
                            return self.err(format!(
                                "wrong number of parameters ({} passed, {} required)",
                                nargs, req
                            ));
                        }
                        let c = self.heap.closures.get(ci);
                        let d0 = c.defaults.len() - missing;
                        for i in 0..missing {
                            let v = self.heap.closures.get(ci).defaults[d0 + i];
                            self.push(v);
                        }
                    } else if !proto.varargs {
                        return self.err(format!(
                            "wrong number of parameters ({} passed, {} required)",
                            nargs, np
                        ));
                    }
                }
                if proto.varargs {
                    let extra: Vec<Value> = if nargs > np {
                        self.take_from(fslot + 1 + np)
                    } else {
                        Vec::new()
                    };
                    let a = self.heap.new_array(extra);
                    self.push(a);
                }
                if proto.generator {
                    let seg: Vec<Value> = self.take_from(fslot);
                    let g = self.heap.new_generator(Generator {
                        state: GenState::Suspended,
                        closure: ci,
                        stack: seg,
                        pc: 0,
                    });
                    self.push(g);
                    return Ok(false);
                }
                if self.frames.len() >= MAX_FRAMES {
                    return self.err("stack overflow");
                }
                self.ensure(self.sp + proto.max_stack);
                self.frames.push(Frame {
                    closure: ci,
                    proto,
                    pc: 0,
                    base: fslot + 1,
                    generator: None,
                    ret_this: false,
                });
                Ok(true)
            }
            Value::Native(ni) => {
                let n = self.heap.natives.get(ni);
                let (f, np) = (n.f, n.nparams);
                if (np > 0 && nargs as i32 != np) || (np < 0 && (nargs as i32) < -np) {
                    let req = np.abs();
                    return self.err(format!(
                        "wrong number of parameters ({} passed, {} required)",
                        nargs, req
                    ));
                }
                let mut buf = std::mem::take(&mut self.argbuf);
                buf.clear();
                buf.extend_from_slice(&self.stack[fslot + 1..self.sp]);
                let r = f(self, &buf);
                self.argbuf = buf;
                let v = match r {
                    Ok(v) => v,
                    Err(Error::Suspend(v)) => {
                        // The suspended call's slots go; `wakeup` supplies its value.
                        self.sp = fslot;
                        return Err(Error::Suspend(v));
                    }
                    Err(e) => return Err(e),
                };
                self.sp = fslot;
                self.push(v);
                Ok(false)
            }
            Value::Class(ci) => {
                let inst = self.instantiate(ci)?;
                self.stack[fslot + 1] = inst;
                let ctor = self.class_get(ci, self.names.constructor);
                match ctor {
                    Some(Value::Closure(_)) | Some(Value::Native(_)) => {
                        self.stack[fslot] = ctor.unwrap_or(Value::Null);
                        let pushed = self.call_setup(nargs as u32)?;
                        if pushed {
                            if let Some(f) = self.frames.last_mut() {
                                f.ret_this = true;
                            }
                        } else {
                            self.pop();
                            self.push(inst);
                        }
                        Ok(pushed)
                    }
                    _ => {
                        if nargs > 1 {
                            return self.err(format!(
                                "wrong number of parameters ({} passed, 1 required)",
                                nargs
                            ));
                        }
                        self.sp = fslot;
                        self.push(inst);
                        Ok(false)
                    }
                }
            }
            Value::Instance(_) | Value::Table(_) => {
                let call = self.names.call;
                match self.metamethod(callee, call) {
                    Some(m) => {
                        // _call(this=obj, originalthis, args...)
                        self.insert_at(fslot, m);
                        self.call_setup(nargs as u32 + 1)
                    }
                    None => {
                        let t = self.type_name(callee);
                        self.err(format!("attempt to call '{t}'"))
                    }
                }
            }
            v => {
                let t = self.type_name(v);
                self.err(format!("attempt to call '{t}'"))
            }
        }
    }

    pub(crate) fn instantiate(&mut self, ci: u32) -> R<Value> {
        let c = self.heap.classes.get_mut(ci);
        c.locked = true;
        let values = c.defaults.clone();
        self.charge(values.len() * 16)?;
        Ok(self.heap.new_instance(Instance { class: ci, values }))
    }

    /// Looks up a member of a class: field default or method.
    pub(crate) fn class_get(&self, ci: u32, key: Value) -> Option<Value> {
        let h = self.hash(key);
        let c = self.heap.classes.get(ci);
        if let Some(v) = c.methods.get(h, key) {
            return Some(v);
        }
        if let Some(Value::Int(i)) = c.fields.get(h, key) {
            return c.defaults.get(i as usize).copied();
        }
        None
    }

    fn metamethod(&self, obj: Value, name: Value) -> Option<Value> {
        match obj {
            Value::Instance(i) => {
                let c = self.heap.instances.get(i).class;
                let h = self.hash(name);
                self.heap.classes.get(c).metas.get(h, name)
            }
            Value::Table(t) => {
                let d = self.heap.tables.get(t).delegate?;
                self.table_lookup(d, name)
            }
            _ => None,
        }
    }

    /// A table key through the delegate chain.
    #[inline]
    pub(crate) fn table_lookup(&self, mut t: u32, key: Value) -> Option<Value> {
        let h = self.hash(key);
        for _ in 0..64 {
            let tab = self.heap.tables.get(t);
            if let Some(v) = tab.t.get(h, key) {
                return Some(v);
            }
            t = tab.delegate?;
        }
        None
    }

    fn close_outers(&mut self, from: usize) {
        while let Some(&(idx, o)) = self.open.last() {
            if idx < from {
                break;
            }
            *self.heap.outers.get_mut(o) = Outer::Closed(self.stack[idx]);
            self.open.pop();
        }
    }

    fn find_outer(&mut self, idx: usize) -> u32 {
        match self.open.binary_search_by(|o| o.0.cmp(&idx)) {
            Ok(i) => self.open[i].1,
            Err(i) => {
                let o = self.heap.new_outer(Outer::Open(idx));
                self.open.insert(i, (idx, o));
                o
            }
        }
    }

    /// The frame `depth` levels below the top: its function name, source,
    /// current line and live named locals (innermost first).
    pub(crate) fn frame_info(&self, depth: usize) -> Option<FrameInfo> {
        let f = self
            .frames
            .len()
            .checked_sub(depth + 1)
            .and_then(|i| self.frames.get(i))?;
        let pc = (f.pc & !DISCARD).saturating_sub(1);
        let line = f.proto.lines.get(pc).copied().unwrap_or(0);
        let mut ls: Vec<&(Value, u32, u32, u32)> = f
            .proto
            .locals
            .iter()
            .filter(|l| (l.2 as usize) <= pc && pc < l.3 as usize)
            .collect();
        ls.sort_by_key(|l| std::cmp::Reverse(l.1));
        let mut values = Vec::new();
        for l in ls {
            let Value::Str(s) = l.0 else {
                continue;
            };
            let name = String::from_utf8_lossy(self.heap.str_bytes(s)).into_owned();
            if name.starts_with('@') && name != "@INDEX@" && name != "@ITERATOR@" {
                continue;
            }
            let v = self
                .stack
                .get(f.base + l.1 as usize)
                .copied()
                .unwrap_or(Value::Null);
            values.push((name, v));
        }
        let func = match f.proto.name {
            Value::Str(s) => String::from_utf8_lossy(self.heap.str_bytes(s)).into_owned(),
            _ => "unknown".to_owned(),
        };
        Some(FrameInfo {
            func,
            source: f.proto.source.to_string(),
            line,
            values,
        })
    }

    fn capture_trace(&mut self) {
        if self.trace.is_some() {
            return;
        }
        let out = (0..self.frames.len())
            .filter_map(|d| self.frame_info(d))
            .map(|i| TraceFrame {
                func: i.func,
                source: i.source,
                line: i.line,
                locals: i
                    .values
                    .into_iter()
                    .map(|(n, v)| (n, self.report_value(v)))
                    .collect(),
            })
            .collect();
        self.trace = Some(out);
    }

    fn report_value(&self, v: Value) -> String {
        match v {
            Value::Null => "NULL".to_owned(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => crate::stdlib::fmt_float(f),
            Value::Bool(b) => b.to_string(),
            Value::Str(s) => format!("\"{}\"", String::from_utf8_lossy(self.heap.str_bytes(s))),
            Value::Table(_) => "TABLE".to_owned(),
            Value::Array(_) => "ARRAY".to_owned(),
            Value::Closure(_) => "CLOSURE".to_owned(),
            Value::Native(_) => "NATIVECLOSURE".to_owned(),
            Value::Class(_) => "CLASS".to_owned(),
            Value::Instance(_) | Value::Blob(_) => "INSTANCE".to_owned(),
            Value::Generator(_) => "GENERATOR".to_owned(),
            Value::Thread(_) => "THREAD".to_owned(),
            Value::WeakRef(_) => "WEAKREF".to_owned(),
        }
    }

    /// The dispatch loop: runs until the frame stack is back to `depth`,
    /// returning the value the last frame returned.
    fn run(&mut self, depth: usize) -> R<Value> {
        loop {
            match self.run_inner(depth) {
                Ok(v) => return Ok(v),
                Err(Error::Suspend(v)) => {
                    if let Some(&(tid, tdepth, _)) = self.running_threads.last()
                        && tdepth == depth
                    {
                        self.save_thread(tid, depth);
                        return Ok(v);
                    }
                    self.unwind_to(depth);
                    return Err(Error::Suspend(v));
                }
                Err(Error::Throw(v)) => {
                    // The innermost trap belonging to this run catches it.
                    match self.traps.last().copied() {
                        Some(t) if t.frame >= depth && t.frame < self.frames.len() => {
                            self.traps.pop();
                            while self.frames.len() > t.frame + 1 {
                                if let Some(f) = self.frames.pop()
                                    && let Some(g) = f.generator
                                {
                                    self.heap.gens.get_mut(g).state = GenState::Dead;
                                }
                            }
                            self.close_outers(t.sp);
                            self.sp = t.sp;
                            self.push(v);
                            if let Some(f) = self.frames.last_mut() {
                                f.pc = t.pc;
                            }
                        }
                        _ => {
                            if !self.traps.iter().any(|t| t.frame < depth) && self.nest <= 1 {
                                self.capture_trace();
                            }
                            self.unwind_to(depth);
                            return Err(Error::Throw(v));
                        }
                    }
                }
                Err(e) => {
                    self.unwind_to(depth);
                    return Err(e);
                }
            }
        }
    }

    fn unwind_to(&mut self, depth: usize) {
        while self.frames.len() > depth {
            if let Some(f) = self.frames.pop() {
                if let Some(g) = f.generator {
                    self.heap.gens.get_mut(g).state = GenState::Dead;
                }
                self.close_outers(f.base - 1);
                self.sp = f.base - 1;
            }
        }
        while self.traps.last().is_some_and(|t| t.frame >= depth) {
            self.traps.pop();
        }
    }

    #[inline]
    fn pop(&mut self) -> Value {
        if self.sp > 0 {
            self.sp -= 1;
            self.stack[self.sp]
        } else {
            Value::Null
        }
    }

    #[inline]
    fn push(&mut self, v: Value) {
        if self.sp == self.stack.len() {
            self.grow_stack(self.sp + 1);
        }
        self.stack[self.sp] = v;
        self.sp += 1;
    }

    #[cold]
    fn grow_stack(&mut self, need: usize) {
        let n = need.max(self.stack.len() * 2).max(1024);
        self.stack.resize(n, Value::Null);
    }

    /// Makes room for `n` slots from the bottom.
    fn ensure(&mut self, n: usize) {
        if n > self.stack.len() {
            self.grow_stack(n);
        }
    }

    fn extend(&mut self, vals: &[Value]) {
        self.ensure(self.sp + vals.len());
        self.stack[self.sp..self.sp + vals.len()].copy_from_slice(vals);
        self.sp += vals.len();
    }

    /// Removes and returns the values from `from` to the top.
    fn take_from(&mut self, from: usize) -> Vec<Value> {
        let v = self.stack[from..self.sp].to_vec();
        self.sp = from;
        v
    }

    fn insert_at(&mut self, at: usize, v: Value) {
        self.ensure(self.sp + 1);
        self.stack.copy_within(at..self.sp, at + 1);
        self.stack[at] = v;
        self.sp += 1;
    }

    fn run_inner(&mut self, depth: usize) -> R<Value> {
        // Instructions since the last flush into `self.steps` (kept in a
        // register; flushed wherever the count can be read).
        let mut steps: u64 = 0;
        // One pass of this loop per frame switch (call, return, resume):
        // the frame's code and constants are plain slices inside it.
        'frame: loop {
            let Some(f) = self.frames.last() else {
                self.steps += steps;
                return Ok(Value::Null);
            };
            let proto = f.proto.clone();
            let code: &[Op] = &proto.code;
            let consts: &[Value] = &proto.consts;
            let mut pc = f.pc;
            let base = f.base;
            let ci = f.closure;
            // The stack top lives in a register here; `self.sp` is synced
            // around every call out of the loop (`save!`, `tryv!`, `reload!`).
            let mut sp = self.sp;
            macro_rules! save {
                () => {
                    self.sp = sp;
                    self.steps += std::mem::take(&mut steps);
                    if let Some(f) = self.frames.last_mut() {
                        f.pc = pc;
                    }
                };
            }
            macro_rules! reload {
                () => {{
                    self.sp = sp;
                    continue 'frame;
                }};
            }
            // A loop's back edge: the full check (and the flush it needs)
            // only when a limit, a collection or the heap poll is due.
            macro_rules! backedge {
                () => {
                    // `check` counts this poll itself, reaching the 1024th.
                    if self.steps + steps > self.step_cap
                        || self.heap.bytes > self.heap.next_gc
                        || self.polls & 1023 == 1023
                    {
                        save!();
                        tryv!(self.check());
                    } else {
                        self.polls = self.polls.wrapping_add(1);
                    }
                };
            }
            macro_rules! push {
                ($v:expr) => {{
                    let v = $v;
                    if sp == self.stack.len() {
                        self.grow_stack(sp + 1);
                    }
                    self.stack[sp] = v;
                    sp += 1;
                }};
            }
            macro_rules! pop {
                () => {{
                    sp -= 1;
                    self.stack[sp]
                }};
            }
            macro_rules! top {
                () => {
                    self.stack[sp - 1]
                };
            }
            macro_rules! tryv {
                ($e:expr) => {
                    match {
                        self.sp = sp;
                        let r = $e;
                        sp = self.sp;
                        r
                    } {
                        Ok(v) => v,
                        Err(e) => {
                            save!();
                            return Err(e);
                        }
                    }
                };
            }
            loop {
                let op = code[pc];
                pc += 1;
                steps += 1;
                match op {
                    Op::Const(k) => push!(consts[k as usize]),
                    Op::Int(i) => push!(Value::Int(i64::from(i))),
                    Op::Null => push!(Value::Null),
                    Op::True => push!(Value::Bool(true)),
                    Op::False => push!(Value::Bool(false)),
                    Op::GetLocal(s) => {
                        let v = self.stack[base + s as usize];
                        push!(v);
                    }
                    Op::SetLocal(s) => {
                        let v = top!();
                        self.stack[base + s as usize] = v;
                    }
                    Op::StoreLocal(s) => {
                        let v = pop!();
                        self.stack[base + s as usize] = v;
                    }
                    Op::GetOuter(i) => {
                        let o = self.heap.closures.get(ci).outers[i as usize];
                        let v = match *self.heap.outers.get(o) {
                            Outer::Open(idx) => self.stack[idx],
                            Outer::Closed(v) => v,
                        };
                        push!(v);
                    }
                    Op::SetOuter(i) => {
                        let v = top!();
                        self.set_outer(ci, i, v);
                    }
                    Op::Pop => {
                        pop!();
                    }
                    Op::Dup => {
                        let v = top!();
                        push!(v);
                    }
                    Op::Dup2 => {
                        let n = sp;
                        let (a, b) = (self.stack[n - 2], self.stack[n - 1]);
                        push!(a);
                        push!(b);
                    }
                    Op::This => {
                        let v = self.stack[base];
                        push!(v);
                    }
                    Op::Root => push!(self.root),
                    Op::Base => {
                        let this = self.stack[base];
                        let b = match self.heap.closures.get(ci).base {
                            Some(b) => b.map_or(Value::Null, Value::Class),
                            None => self.base_of(this, ci),
                        };
                        push!(b);
                    }
                    Op::GetEnv(k) => {
                        let key = consts[k as usize];
                        let this = self.stack[base];
                        let v = match self.fast_get(this, key) {
                            Some(v) => v,
                            None => tryv!(self.get_env(this, key)),
                        };
                        push!(v);
                    }
                    Op::SetEnvPop(k) => {
                        let key = consts[k as usize];
                        let v = pop!();
                        let this = self.stack[base];
                        if !self.fast_set(this, key, v) {
                            save!();
                            tryv!(self.set_env(this, key, v));
                        }
                    }
                    Op::SetEnv(k) => {
                        let key = consts[k as usize];
                        let v = top!();
                        let this = self.stack[base];
                        tryv!(self.set_env(this, key, v));
                    }
                    Op::Get => {
                        let key = pop!();
                        let obj = pop!();
                        let v = match self.fast_get(obj, key) {
                            Some(v) => v,
                            None => {
                                save!();
                                tryv!(self.get(obj, key))
                            }
                        };
                        push!(v);
                    }
                    Op::GetK(k) => {
                        let key = consts[k as usize];
                        let obj = pop!();
                        let v = match self.fast_get(obj, key) {
                            Some(v) => v,
                            None => {
                                save!();
                                tryv!(self.get(obj, key))
                            }
                        };
                        push!(v);
                    }
                    Op::GetLocalK(s, k) => {
                        let key = consts[k as usize];
                        let obj = self.stack[base + s as usize];
                        let v = match self.fast_get(obj, key) {
                            Some(v) => v,
                            None => {
                                save!();
                                tryv!(self.get(obj, key))
                            }
                        };
                        push!(v);
                    }
                    Op::Set => {
                        let v = pop!();
                        let key = pop!();
                        let obj = pop!();
                        if !self.fast_set(obj, key, v) {
                            save!();
                            tryv!(self.set(obj, key, v));
                        }
                        push!(v);
                    }
                    Op::SetPop => {
                        let v = pop!();
                        let key = pop!();
                        let obj = pop!();
                        if !self.fast_set(obj, key, v) {
                            save!();
                            tryv!(self.set(obj, key, v));
                        }
                    }
                    Op::SetKPop(k) => {
                        let key = consts[k as usize];
                        let v = pop!();
                        let obj = pop!();
                        if !self.fast_set(obj, key, v) {
                            save!();
                            tryv!(self.set(obj, key, v));
                        }
                    }
                    Op::GetLL(a, b) => {
                        let obj = self.stack[base + a as usize];
                        let key = self.stack[base + b as usize];
                        let v = match self.fast_get(obj, key) {
                            Some(v) => v,
                            None => {
                                save!();
                                tryv!(self.get(obj, key))
                            }
                        };
                        push!(v);
                    }
                    Op::SetK(k) => {
                        let key = consts[k as usize];
                        let v = pop!();
                        let obj = pop!();
                        if !self.fast_set(obj, key, v) {
                            save!();
                            tryv!(self.set(obj, key, v));
                        }
                        push!(v);
                    }
                    Op::NewSlot => {
                        let v = pop!();
                        let key = pop!();
                        let obj = pop!();
                        save!();
                        tryv!(self.newslot(obj, key, v, false));
                        push!(v);
                    }
                    Op::TableSlot => {
                        let v = pop!();
                        let key = pop!();
                        let obj = top!();
                        tryv!(self.newslot(obj, key, v, false));
                    }
                    Op::ClassSlot(is_static, has_attr) => {
                        let v = pop!();
                        let key = pop!();
                        let attr = if has_attr { pop!() } else { Value::Null };
                        let obj = top!();
                        tryv!(self.declare_member(obj, key, v, is_static, attr));
                    }
                    Op::Delete => {
                        let key = pop!();
                        let obj = pop!();
                        let v = tryv!(self.delete(obj, key));
                        push!(v);
                    }
                    Op::Arith(a) => {
                        let n = sp;
                        let (x, y) = (self.stack[n - 2], self.stack[n - 1]);
                        let r = match (x, y) {
                            (Value::Int(p), Value::Int(q)) => match int_arith(a, p, q) {
                                Some(v) => Value::Int(v),
                                None => {
                                    save!();
                                    tryv!(self.arith(a, x, y))
                                }
                            },
                            (Value::Float(p), Value::Float(q)) if a <= Arith::Div => {
                                Value::Float(f32r(match a {
                                    Arith::Add => p + q,
                                    Arith::Sub => p - q,
                                    Arith::Mul => p * q,
                                    _ => p / q,
                                }))
                            }
                            _ => {
                                save!();
                                tryv!(self.arith(a, x, y))
                            }
                        };
                        sp = n - 2;
                        push!(r);
                    }
                    Op::ArithLL(x, a, y) => {
                        let p = self.stack[base + x as usize];
                        let q = self.stack[base + y as usize];
                        let r = match (p, q) {
                            (Value::Int(i), Value::Int(j)) => match int_arith(a, i, j) {
                                Some(v) => Value::Int(v),
                                None => {
                                    save!();
                                    tryv!(self.arith(a, p, q))
                                }
                            },
                            _ => {
                                save!();
                                tryv!(self.arith(a, p, q))
                            }
                        };
                        push!(r);
                    }
                    Op::ArithLI(x, a, k) => {
                        let p = self.stack[base + x as usize];
                        let k = i64::from(k);
                        let r = match p {
                            Value::Int(i) => match int_arith(a, i, k) {
                                Some(v) => Value::Int(v),
                                None => {
                                    save!();
                                    tryv!(self.arith(a, p, Value::Int(k)))
                                }
                            },
                            _ => {
                                save!();
                                tryv!(self.arith(a, p, Value::Int(k)))
                            }
                        };
                        push!(r);
                    }
                    Op::AddI(d) => {
                        let n = sp - 1;
                        let x = self.stack[n];
                        self.stack[n] = match x {
                            Value::Int(p) => Value::Int(p.wrapping_add(i64::from(d))),
                            Value::Float(f) => Value::Float(f32r(f + f64::from(d))),
                            _ => {
                                save!();
                                // `x - k` was folded to AddI(-k): keep the operator.
                                if d < 0 {
                                    tryv!(self.arith(Arith::Sub, x, Value::Int(-i64::from(d))))
                                } else {
                                    tryv!(self.arith(Arith::Add, x, Value::Int(i64::from(d))))
                                }
                            }
                        };
                    }
                    Op::Eq | Op::Ne => {
                        let y = pop!();
                        let x = pop!();
                        let eq = x.raw_eq(y);
                        push!(Value::Bool(eq == matches!(op, Op::Eq)));
                    }
                    Op::Cmp(c) => {
                        let y = pop!();
                        let x = pop!();
                        let r = match (x, y) {
                            (Value::Int(p), Value::Int(q)) => int_cmp(c, p, q),
                            _ => {
                                save!();
                                tryv!(self.compare(c, x, y))
                            }
                        };
                        push!(r);
                    }
                    Op::CmpLLJmpF(a, b, c, t) => {
                        let x = self.stack[base + a as usize];
                        let y = self.stack[base + b as usize];
                        let ok = match (x, y) {
                            (Value::Int(p), Value::Int(q)) => int_test(c, p, q),
                            _ => {
                                save!();
                                tryv!(self.compare(c, x, y)).truthy()
                            }
                        };
                        if !ok {
                            pc = t as usize;
                        }
                    }
                    Op::CmpLLJmpT(a, b, c, t) => {
                        let x = self.stack[base + a as usize];
                        let y = self.stack[base + b as usize];
                        let ok = match (x, y) {
                            (Value::Int(p), Value::Int(q)) => int_test(c, p, q),
                            _ => tryv!(self.compare(c, x, y)).truthy(),
                        };
                        if ok {
                            backedge!();
                            pc = t as usize;
                        }
                    }
                    Op::CmpLIJmpT(a, k, c, t) => {
                        let x = self.stack[base + a as usize];
                        let ok = match x {
                            Value::Int(p) => int_test(c, p, i64::from(k)),
                            _ => tryv!(self.compare(c, x, Value::Int(i64::from(k)))).truthy(),
                        };
                        if ok {
                            backedge!();
                            pc = t as usize;
                        }
                    }
                    Op::CmpLIJmpF(a, k, c, t) => {
                        let x = self.stack[base + a as usize];
                        let ok = match x {
                            Value::Int(p) => int_test(c, p, i64::from(k)),
                            _ => {
                                save!();
                                tryv!(self.compare(c, x, Value::Int(i64::from(k)))).truthy()
                            }
                        };
                        if !ok {
                            pc = t as usize;
                        }
                    }
                    Op::ArithLocal(s, a, keep) => {
                        let y = pop!();
                        let i = base + s as usize;
                        let x = self.stack[i];
                        let r = match (x, y, a) {
                            (Value::Int(p), Value::Int(q), Arith::Add) => {
                                Value::Int(p.wrapping_add(q))
                            }
                            (Value::Int(p), Value::Int(q), Arith::Sub) => {
                                Value::Int(p.wrapping_sub(q))
                            }
                            (Value::Float(p), Value::Float(q), Arith::Add) => {
                                Value::Float(f32r(p + q))
                            }
                            _ => {
                                save!();
                                tryv!(self.arith(a, x, y))
                            }
                        };
                        self.stack[i] = r;
                        if keep {
                            push!(r);
                        }
                    }
                    Op::ArithLocalI(s, a, k, keep) => {
                        let i = base + s as usize;
                        let x = self.stack[i];
                        let k = i64::from(k);
                        let r = match x {
                            Value::Int(p) => match int_arith(a, p, k) {
                                Some(v) => Value::Int(v),
                                None => tryv!(self.arith(a, x, Value::Int(k))),
                            },
                            _ => tryv!(self.arith(a, x, Value::Int(k))),
                        };
                        self.stack[i] = r;
                        if keep {
                            push!(r);
                        }
                    }
                    Op::IncLocalStmt(s, d) => {
                        let i = base + s as usize;
                        let old = self.stack[i];
                        self.stack[i] = match old {
                            Value::Int(x) => Value::Int(x.wrapping_add(i64::from(d))),
                            _ => {
                                save!();
                                tryv!(self.arith(Arith::Add, old, Value::Int(i64::from(d))))
                            }
                        };
                    }
                    Op::Not => {
                        let v = pop!();
                        push!(Value::Bool(!v.truthy()));
                    }
                    Op::Neg => {
                        let v = pop!();
                        let r = match v {
                            Value::Int(i) => Value::Int(i.wrapping_neg()),
                            Value::Float(f) => Value::Float(-f),
                            _ => {
                                save!();
                                tryv!(self.unary_meta(v))
                            }
                        };
                        push!(r);
                    }
                    Op::BitNot => {
                        let v = pop!();
                        match v {
                            Value::Int(i) => push!(Value::Int(!i)),
                            _ => {
                                save!();
                                let t = self.type_name(v);
                                return tryv!(
                                    self.err(format!("attempt to perform a bitwise op on a {t}"))
                                );
                            }
                        }
                    }
                    Op::Typeof => {
                        let v = pop!();
                        save!();
                        let r = tryv!(self.type_of(v));
                        push!(r);
                    }
                    Op::Clone => {
                        let v = pop!();
                        save!();
                        let r = tryv!(self.clone_value(v));
                        push!(r);
                    }
                    Op::In => {
                        let obj = pop!();
                        let key = pop!();
                        save!();
                        let r = tryv!(self.contains(obj, key));
                        push!(Value::Bool(r));
                    }
                    Op::Instanceof => {
                        let c = pop!();
                        let v = pop!();
                        let r = match (v, c) {
                            (Value::Instance(i), Value::Class(c)) => {
                                let mut k = Some(self.heap.instances.get(i).class);
                                let mut found = false;
                                while let Some(x) = k {
                                    if x == c {
                                        found = true;
                                        break;
                                    }
                                    k = self.heap.classes.get(x).base;
                                }
                                found
                            }
                            (_, Value::Class(_)) => false,
                            _ => {
                                save!();
                                let (a, b) = (self.type_name(v), self.type_name(c));
                                return tryv!(self.err(format!(
                                    "cannot apply instanceof between a {a} and a {b}"
                                )));
                            }
                        };
                        push!(Value::Bool(r));
                    }
                    Op::Jmp(t) => {
                        if (t as usize) < pc {
                            backedge!();
                        }
                        pc = t as usize;
                    }
                    Op::JmpF(t) => {
                        if !pop!().truthy() {
                            pc = t as usize;
                        }
                    }
                    Op::JmpT(t) => {
                        if pop!().truthy() {
                            if (t as usize) < pc {
                                backedge!();
                            }
                            pc = t as usize;
                        }
                    }
                    Op::AndJ(t) => {
                        if !top!().truthy() {
                            pc = t as usize;
                        } else {
                            pop!();
                        }
                    }
                    Op::OrJ(t) => {
                        if top!().truthy() {
                            pc = t as usize;
                        } else {
                            pop!();
                        }
                    }
                    Op::Call(n) | Op::CallPop(n) => {
                        save!();
                        tryv!(self.check());
                        // The common call, inline: a plain closure given
                        // exactly its parameters.
                        let fslot = sp - n as usize - 1;
                        if let Value::Closure(c) = self.stack[fslot] {
                            let clo = self.heap.closures.get(c);
                            let p = &clo.proto;
                            if clo.env.is_none()
                                && p.nparams == n as usize
                                && !p.varargs
                                && !p.generator
                                && self.frames.len() < MAX_FRAMES
                            {
                                let proto = p.clone();
                                let need = sp + proto.max_stack;
                                if need > self.stack.len() {
                                    self.grow_stack(need);
                                }
                                if matches!(op, Op::CallPop(_))
                                    && let Some(f) = self.frames.last_mut()
                                {
                                    f.pc = pc | DISCARD;
                                }
                                self.frames.push(Frame {
                                    closure: c,
                                    proto,
                                    pc: 0,
                                    base: fslot + 1,
                                    generator: None,
                                    ret_this: false,
                                });
                                reload!();
                            }
                        }
                        let pushed = tryv!(self.call_setup(n));
                        if pushed {
                            if matches!(op, Op::CallPop(_)) {
                                // Mark: the callee's result is to be discarded.
                                if let Some(f) = self.frames.last_mut() {
                                    f.pc = 0;
                                }
                                let n = self.frames.len();
                                self.frames[n - 2].pc = pc | DISCARD;
                            }
                            reload!();
                        } else if matches!(op, Op::CallPop(_)) {
                            pop!();
                        }
                    }
                    Op::TailCall(n) => {
                        save!();
                        tryv!(self.check());
                        let fr = self.frames.len() - 1;
                        let callee = self.stack[sp - n as usize - 1];
                        let replace = self.frames[fr].generator.is_none()
                            && !self.frames[fr].ret_this
                            && matches!(callee, Value::Closure(c)
                            if !self.heap.closures.get(c).proto.generator);
                        if replace {
                            // Callee and arguments move over the current frame,
                            // which leaves the call stack.
                            let fbase = self.frames[fr].base;
                            self.close_outers(fbase - 1);
                            let from = sp - n as usize - 1;
                            self.frames.pop();
                            self.stack.copy_within(from..sp, fbase - 1);
                            sp -= from - (fbase - 1);
                            // No `save!`: the frame receiving the pc would be the caller's.
                            self.sp = sp;
                            self.call_setup(n)?;
                            sp = self.sp;
                            reload!();
                        }
                        if tryv!(self.call_setup(n)) {
                            reload!();
                        }
                    }
                    Op::PrepCallK(k) => {
                        let key = consts[k as usize];
                        let obj = pop!();
                        let f = match self.fast_get(obj, key) {
                            Some(f) => f,
                            None => tryv!(self.get(obj, key)),
                        };
                        push!(f);
                        push!(obj);
                    }
                    Op::PrepEnv(k) => {
                        let key = consts[k as usize];
                        let this = self.stack[base];
                        let f = match self.fast_get(this, key) {
                            Some(f) => f,
                            None => tryv!(self.get_env(this, key)),
                        };
                        push!(f);
                        push!(this);
                    }
                    Op::PrepCall => {
                        let key = pop!();
                        let obj = pop!();
                        let f = tryv!(self.get(obj, key));
                        push!(f);
                        push!(obj);
                    }
                    Op::Return | Op::ReturnNull => {
                        let mut v = if matches!(op, Op::Return) {
                            pop!()
                        } else {
                            Value::Null
                        };
                        let Some(f) = self.frames.pop() else {
                            {
                                self.sp = sp;
                                self.steps += steps;
                                return Ok(v);
                            }
                        };
                        if f.ret_this {
                            v = self.stack[f.base];
                        }
                        if let Some(g) = f.generator {
                            self.heap.gens.get_mut(g).state = GenState::Dead;
                        }
                        while self
                            .traps
                            .last()
                            .is_some_and(|t| t.frame >= self.frames.len())
                        {
                            self.traps.pop();
                        }
                        self.close_outers(f.base - 1);
                        sp = f.base - 1;
                        if self.frames.len() <= depth {
                            {
                                self.sp = sp;
                                self.steps += steps;
                                return Ok(v);
                            }
                        }
                        let n = self.frames.len();
                        let discard = self.frames[n - 1].pc & DISCARD != 0;
                        self.frames[n - 1].pc &= !DISCARD;
                        if !discard {
                            push!(v);
                        }
                        reload!();
                    }
                    Op::NewTable => {
                        let t = self.heap.new_table();
                        push!(t);
                    }
                    Op::NewArray(n) => {
                        let a = self.heap.new_array(Vec::with_capacity(n as usize));
                        push!(a);
                    }
                    Op::ArrayPush => {
                        let v = pop!();
                        if let Value::Array(a) = top!() {
                            self.heap.arrays.get_mut(a).push(v);
                        }
                    }
                    Op::Closure(i) => {
                        let p = proto.protos[i as usize].clone();
                        let nd = p.ndefaults;
                        let top_at = sp;
                        let defaults: Vec<Value> = self.stack[top_at - nd..top_at].to_vec();
                        sp -= nd;
                        let mut outers = Vec::with_capacity(p.captures.len());
                        for &(local, idx) in &p.captures {
                            if local {
                                outers.push(self.find_outer(base + idx as usize));
                            } else {
                                outers.push(self.heap.closures.get(ci).outers[idx as usize]);
                            }
                        }
                        let c = self.heap.new_closure(Closure {
                            proto: p,
                            outers,
                            defaults,
                            env: None,
                            base: None,
                        });
                        push!(c);
                    }
                    Op::NewClass(has_base, has_attr) => {
                        let attrs = if has_attr { pop!() } else { Value::Null };
                        let b = if has_base { Some(pop!()) } else { None };
                        save!();
                        let c = tryv!(self.new_class(b, attrs));
                        push!(c);
                    }
                    Op::Throw => {
                        let v = pop!();
                        save!();
                        return Err(Error::Throw(v));
                    }
                    Op::PushTrap(t) => {
                        self.traps.push(Trap {
                            frame: self.frames.len() - 1,
                            sp,
                            pc: t as usize,
                        });
                    }
                    Op::PopTrap => {
                        self.traps.pop();
                    }
                    Op::Foreach(slot, exit) => {
                        save!();
                        tryv!(self.check());
                        let b = base + slot as usize;
                        let more = tryv!(self.foreach_step(b));
                        if !more {
                            pc = exit as usize;
                        }
                    }
                    Op::Yield => {
                        let v = pop!();
                        let Some(f) = self.frames.last() else {
                            {
                                self.sp = sp;
                                self.steps += steps;
                                return Ok(v);
                            }
                        };
                        let Some(g) = f.generator else {
                            save!();
                            return tryv!(self.err("cannot yield outside a generator"));
                        };
                        let fbase = f.base;
                        // The reference drops a generator's `try` blocks at a
                        // `yield`.
                        let fi = self.frames.len() - 1;
                        while self.traps.last().is_some_and(|t| t.frame == fi) {
                            self.traps.pop();
                        }
                        self.close_outers(fbase - 1);
                        // The generator's own buffer keeps its capacity: no
                        // allocation per yield.
                        let gs = self.heap.gens.get_mut(g);
                        gs.stack.clear();
                        gs.stack.extend_from_slice(&self.stack[fbase - 1..sp]);
                        sp = fbase - 1;
                        gs.pc = pc;
                        gs.state = GenState::Suspended;
                        self.frames.pop();
                        if self.frames.len() <= depth {
                            {
                                self.sp = sp;
                                self.steps += steps;
                                return Ok(v);
                            }
                        }
                        let n = self.frames.len();
                        let discard = self.frames[n - 1].pc & DISCARD != 0;
                        self.frames[n - 1].pc &= !DISCARD;
                        if !discard {
                            push!(v);
                        }
                        reload!();
                    }
                    Op::Resume => {
                        let g = pop!();
                        save!();
                        let Value::Generator(gi) = g else {
                            let t = self.type_name(g);
                            return tryv!(self.err(format!(
                                "trying to resume a '{t}',only genenerator can be resumed"
                            )));
                        };
                        tryv!(self.resume_setup(gi));
                        reload!();
                    }
                    Op::IncLocal(s, d, post) => {
                        let i = base + s as usize;
                        let old = self.stack[i];
                        let new = match old {
                            Value::Int(x) => Value::Int(x.wrapping_add(i64::from(d))),
                            _ => {
                                save!();
                                tryv!(self.arith(Arith::Add, old, Value::Int(i64::from(d))))
                            }
                        };
                        self.stack[i] = new;
                        push!(if post { old } else { new });
                    }
                    Op::IncOuter(s, d, post) => {
                        push!(Value::Null);
                        let o = self.heap.closures.get(ci).outers[s as usize];
                        let old = match *self.heap.outers.get(o) {
                            Outer::Open(idx) => self.stack[idx],
                            Outer::Closed(v) => v,
                        };
                        save!();
                        let new = tryv!(self.arith(Arith::Add, old, Value::Int(i64::from(d))));
                        self.set_outer(ci, s, new);
                        pop!();
                        push!(if post { old } else { new });
                    }
                    Op::IncIndex(d, post) => {
                        let key = pop!();
                        let obj = pop!();
                        save!();
                        let old = tryv!(self.get(obj, key));
                        let new = tryv!(self.arith(Arith::Add, old, Value::Int(i64::from(d))));
                        tryv!(self.set(obj, key, new));
                        push!(if post { old } else { new });
                    }
                    Op::IncField(k, d, post) => {
                        let key = consts[k as usize];
                        let obj = pop!();
                        save!();
                        let old = tryv!(self.get(obj, key));
                        let new = tryv!(self.arith(Arith::Add, old, Value::Int(i64::from(d))));
                        tryv!(self.set(obj, key, new));
                        push!(if post { old } else { new });
                    }
                    Op::IncEnv(k, d, post) => {
                        let key = consts[k as usize];
                        let this = self.stack[base];
                        save!();
                        let old = tryv!(self.get_env(this, key));
                        let new = tryv!(self.arith(Arith::Add, old, Value::Int(i64::from(d))));
                        tryv!(self.set_env(this, key, new));
                        push!(if post { old } else { new });
                    }
                    Op::CloseOuters(n) => {
                        self.close_outers(base + n as usize);
                        sp = base + n as usize;
                    }
                }
            }
        }
    }

    /// A container slot holding a weak reference reads as its target.
    #[inline(always)]
    fn deref(&self, v: Value) -> Value {
        match v {
            Value::WeakRef(w) => *self.heap.weakrefs.get(w),
            v => v,
        }
    }

    /// The common cases of `obj[key]` with no metamethod involved.
    #[inline(always)]
    fn fast_get(&self, obj: Value, key: Value) -> Option<Value> {
        let v = match (obj, key) {
            (Value::Array(a), Value::Int(i)) => usize::try_from(i)
                .ok()
                .and_then(|i| self.heap.arrays.get(a).get(i).copied()),
            (Value::Table(t), _) => {
                let h = self.hash(key);
                self.heap.tables.get(t).t.get(h, key)
            }
            (Value::Instance(i), Value::Str(_)) => {
                let inst = self.heap.instances.get(i);
                let h = self.hash(key);
                let cl = self.heap.classes.get(inst.class);
                match cl.fields.get(h, key) {
                    Some(Value::Int(idx)) => inst.values.get(idx as usize).copied(),
                    _ => cl.methods.get(h, key),
                }
            }
            _ => None,
        };
        v.map(|v| self.deref(v))
    }

    /// The common cases of `obj[key] = v`; false to take the full path.
    #[inline]
    fn fast_set(&mut self, obj: Value, key: Value, v: Value) -> bool {
        match (obj, key) {
            (Value::Array(a), Value::Int(i)) => {
                match usize::try_from(i)
                    .ok()
                    .and_then(|i| self.heap.arrays.get_mut(a).get_mut(i))
                {
                    Some(slot) => {
                        *slot = v;
                        true
                    }
                    None => false,
                }
            }
            (Value::Table(t), _) => {
                let h = self.hash(key);
                self.heap.tables.get_mut(t).t.set_existing(h, key, v)
            }
            (Value::Instance(i), Value::Str(_)) => {
                let h = self.hash(key);
                let c = self.heap.instances.get(i).class;
                match self.heap.classes.get(c).fields.get(h, key) {
                    Some(Value::Int(idx)) => {
                        match self.heap.instances.get_mut(i).values.get_mut(idx as usize) {
                            Some(slot) => {
                                *slot = v;
                                true
                            }
                            None => false,
                        }
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }

    fn set_outer(&mut self, ci: u32, i: u32, v: Value) {
        let o = self.heap.closures.get(ci).outers[i as usize];
        match *self.heap.outers.get(o) {
            Outer::Open(idx) => self.stack[idx] = v,
            Outer::Closed(_) => *self.heap.outers.get_mut(o) = Outer::Closed(v),
        }
    }

    fn base_of(&self, this: Value, _ci: u32) -> Value {
        match this {
            Value::Instance(i) => {
                let c = self.heap.instances.get(i).class;
                match self.heap.classes.get(c).base {
                    Some(b) => Value::Class(b),
                    None => Value::Null,
                }
            }
            Value::Class(c) => match self.heap.classes.get(c).base {
                Some(b) => Value::Class(b),
                None => Value::Null,
            },
            _ => Value::Null,
        }
    }

    /// Moves the frames above `depth` and their stack into a suspended
    /// thread.
    fn save_thread(&mut self, tid: u32, depth: usize) {
        let Some(first) = self.frames.get(depth) else {
            return;
        };
        let seg = first.base - 1;
        let push_result = self.frames.last().is_some_and(|f| {
            let pc = f.pc & !DISCARD;
            pc > 0 && matches!(f.proto.code.get(pc - 1), Some(Op::Call(_)))
        });
        let mut traps = Vec::new();
        while self.traps.last().is_some_and(|t| t.frame >= depth) {
            if let Some(t) = self.traps.pop() {
                traps.push((t.frame - depth, t.sp - seg, t.pc));
            }
        }
        traps.reverse();
        self.close_outers(seg);
        let stack: Vec<Value> = self.take_from(seg);
        let mut frames: Vec<Frame> = self.frames.drain(depth..).collect();
        for f in &mut frames {
            f.base -= seg;
        }
        self.heap.grew(stack.len() * 16);
        let t = self.heap.threads.get_mut(tid);
        t.stack = stack;
        t.frames = frames;
        t.traps = traps;
        t.push_result = push_result;
        t.state = ThreadState::Suspended;
    }

    /// Starts a thread's function: `thread.call(args)`.
    pub(crate) fn thread_call(&mut self, tid: u32, args: &[Value]) -> R<Value> {
        let t = self.heap.threads.get_mut(tid);
        if t.state != ThreadState::Idle {
            return self.err("wrong thread state");
        }
        t.state = ThreadState::Running;
        let f = t.func;
        let depth = self.frames.len();
        self.running_threads.push((tid, depth, self.nest + 1));
        let root = self.root;
        let r = self.call(f, root, args);
        self.running_threads.pop();
        self.finish_thread_step(tid, r)
    }

    fn finish_thread_step(&mut self, tid: u32, r: R<Value>) -> R<Value> {
        let t = self.heap.threads.get_mut(tid);
        if t.state == ThreadState::Running || r.is_err() {
            t.state = ThreadState::Idle;
            t.stack.clear();
            t.frames.clear();
            t.traps.clear();
        }
        r
    }

    /// Continues a suspended thread: `thread.wakeup(v)`.
    pub(crate) fn thread_wakeup(&mut self, tid: u32, v: Value) -> R<Value> {
        if self.nest >= MAX_NEST || self.frames.len() >= MAX_FRAMES {
            return self.err("stack overflow");
        }
        let t = self.heap.threads.get_mut(tid);
        if t.state != ThreadState::Suspended {
            return self.err("wrong thread state");
        }
        t.state = ThreadState::Running;
        let stack = std::mem::take(&mut t.stack);
        let frames = std::mem::take(&mut t.frames);
        let traps = std::mem::take(&mut t.traps);
        let push = t.push_result;
        let depth = self.frames.len();
        let seg = self.sp;
        self.extend(&stack);
        for mut f in frames {
            f.base += seg;
            self.frames.push(f);
        }
        for (frame, sp, pc) in traps {
            self.traps.push(Trap {
                frame: depth + frame,
                sp: seg + sp,
                pc,
            });
        }
        if push {
            self.push(v);
        }
        self.running_threads.push((tid, depth, self.nest + 1));
        self.nest += 1;
        let r = self.run(depth);
        self.nest -= 1;
        self.running_threads.pop();
        self.sp = seg;
        self.finish_thread_step(tid, r)
    }

    /// `suspend(v)`: only directly inside the running thread's calls.
    pub(crate) fn thread_suspend(&mut self, v: Value) -> R<Value> {
        match self.running_threads.last() {
            Some(&(_, _, nest)) if nest == self.nest => Err(Error::Suspend(v)),
            Some(_) => self.err("cannot suspend through native calls"),
            None => self.err("cannot suspend the main thread"),
        }
    }

    /// Pushes a generator's frame to continue it.
    fn resume_setup(&mut self, gi: u32) -> R<()> {
        let g = self.heap.gens.get_mut(gi);
        match g.state {
            GenState::Dead => return self.err("resuming dead generator"),
            GenState::Running => return self.err("resuming active generator"),
            GenState::Suspended => {}
        }
        if self.frames.len() >= MAX_FRAMES {
            return self.err("stack overflow");
        }
        let g = self.heap.gens.get_mut(gi);
        g.state = GenState::Running;
        let pc = g.pc;
        let ci = g.closure;
        let fslot = self.sp;
        let mut seg = std::mem::take(&mut self.heap.gens.get_mut(gi).stack);
        self.extend(&seg);
        seg.clear();
        self.heap.gens.get_mut(gi).stack = seg;
        if pc > 0 {
            // The value of the `yield` expression being resumed.
            self.push(Value::Null);
        }
        let proto = self.heap.closures.get(ci).proto.clone();
        self.frames.push(Frame {
            closure: ci,
            proto,
            pc,
            base: fslot + 1,
            generator: Some(gi),
            ret_this: false,
        });
        Ok(())
    }

    /// Resumes a generator from native code; `None` when it finished.
    pub(crate) fn resume_nested(&mut self, gi: u32) -> R<Option<Value>> {
        if self.nest >= MAX_NEST {
            return self.err("stack overflow");
        }
        let depth = self.frames.len();
        let sp = self.sp;
        self.resume_setup(gi)?;
        self.nest += 1;
        let r = self.run(depth);
        self.nest -= 1;
        self.sp = sp;
        let v = r?;
        Ok(match self.heap.gens.get(gi).state {
            GenState::Dead => None,
            _ => Some(v),
        })
    }

    /// One step of `foreach`: container at `b`, key b+1, value b+2,
    /// iterator state b+3. False when done.
    fn foreach_step(&mut self, b: usize) -> R<bool> {
        let cont = self.stack[b];
        let it = self.stack[b + 3];
        let pos = match it {
            Value::Int(i) => i as usize,
            _ => 0,
        };
        match cont {
            Value::Array(a) => {
                let arr = self.heap.arrays.get(a);
                if pos >= arr.len() {
                    return Ok(false);
                }
                let v = arr[pos];
                self.stack[b + 1] = Value::Int(pos as i64);
                self.stack[b + 2] = v;
                self.stack[b + 3] = Value::Int(pos as i64 + 1);
                Ok(true)
            }
            Value::Table(t) => match self.heap.tables.get(t).t.next(pos) {
                Some((next, k, v)) => {
                    self.stack[b + 1] = k;
                    self.stack[b + 2] = v;
                    self.stack[b + 3] = Value::Int(next as i64);
                    Ok(true)
                }
                None => Ok(false),
            },
            Value::Str(s) => {
                let bytes = self.heap.str_bytes(s);
                if pos >= bytes.len() {
                    return Ok(false);
                }
                let c = bytes[pos];
                self.stack[b + 1] = Value::Int(pos as i64);
                self.stack[b + 2] = Value::Int(i64::from(c as i8));
                self.stack[b + 3] = Value::Int(pos as i64 + 1);
                Ok(true)
            }
            Value::Generator(g) => {
                if self.heap.gens.get(g).state == GenState::Dead {
                    return Ok(false);
                }
                match self.resume_nested(g)? {
                    Some(v) => {
                        self.stack[b + 1] = Value::Int(pos as i64);
                        self.stack[b + 2] = v;
                        self.stack[b + 3] = Value::Int(pos as i64 + 1);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            Value::Class(c) => {
                // Members of the class: methods then fields.
                let cl = self.heap.classes.get(c);
                let nm = cl.methods.capacity();
                if pos < nm
                    && let Some((next, k, v)) = cl.methods.next(pos)
                {
                    self.stack[b + 1] = k;
                    self.stack[b + 2] = v;
                    self.stack[b + 3] = Value::Int(next as i64);
                    return Ok(true);
                }
                let fpos = pos.saturating_sub(nm);
                match cl.fields.next(fpos) {
                    Some((next, k, idx)) => {
                        let v = match idx {
                            Value::Int(i) => {
                                cl.defaults.get(i as usize).copied().unwrap_or(Value::Null)
                            }
                            _ => Value::Null,
                        };
                        self.stack[b + 1] = k;
                        self.stack[b + 2] = v;
                        self.stack[b + 3] = Value::Int((nm + next) as i64);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            Value::Instance(i) => {
                let nexti = self.names.nexti;
                if let Some(m) = self.metamethod(cont, nexti) {
                    let prev = self.stack[b + 1];
                    let prev = if matches!(it, Value::Null) {
                        Value::Null
                    } else {
                        prev
                    };
                    let k = self.call(m, cont, &[prev])?;
                    if matches!(k, Value::Null) {
                        return Ok(false);
                    }
                    let v = self.get(cont, k)?;
                    self.stack[b + 1] = k;
                    self.stack[b + 2] = v;
                    self.stack[b + 3] = Value::Int(1);
                    return Ok(true);
                }
                let c = self.heap.instances.get(i).class;
                let cl = self.heap.classes.get(c);
                match cl.fields.next(pos) {
                    Some((next, k, idx)) => {
                        let v = match idx {
                            Value::Int(x) => self
                                .heap
                                .instances
                                .get(i)
                                .values
                                .get(x as usize)
                                .copied()
                                .unwrap_or(Value::Null),
                            _ => Value::Null,
                        };
                        self.stack[b + 1] = k;
                        self.stack[b + 2] = v;
                        self.stack[b + 3] = Value::Int(next as i64);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            // A blob iterates over its bytes (as `sq`'s blob class does
            // through `_nexti` and `_get`); a file, which is blob-like
            // here, has no bytes of its own to iterate.
            Value::Blob(bl)
                if self.heap.blobs.get(bl).file.is_none()
                    && self.heap.blobs.get(bl).stream.is_none() =>
            {
                let data = &self.heap.blobs.get(bl).data;
                let Some(&byte) = data.get(pos) else {
                    return Ok(false);
                };
                self.stack[b + 1] = Value::Int(pos as i64);
                self.stack[b + 2] = Value::Int(i64::from(byte));
                self.stack[b + 3] = Value::Int(pos as i64 + 1);
                Ok(true)
            }
            Value::Null => Ok(false),
            v => {
                let t = self.type_name(v);
                self.err(format!("cannot iterate {t}"))
            }
        }
    }

    // ── Object model ───────────────────────────────────────────────────

    #[inline]
    fn get_env(&mut self, this: Value, key: Value) -> R<Value> {
        if let Some(v) = self.fast_get(this, key) {
            return Ok(v);
        }
        // `fast_get` already looked at the object's own slots: go on with
        // what it skips (delegates, `_get`) before the root table.
        let found = match this {
            Value::Instance(i) => {
                let c = self.heap.instances.get(i).class;
                if self.heap.classes.get(c).has_get {
                    self.get_opt(this, key)?
                } else {
                    self.delegate_get(self.delegates.instance, key)
                }
            }
            Value::Table(t) if self.heap.tables.get(t).delegate.is_none() => {
                self.delegate_get(self.delegates.table, key)
            }
            _ => self.get_opt(this, key)?,
        };
        if let Some(v) = found {
            return Ok(v);
        }
        if let Value::Table(r) = self.root
            && let Some(v) = self.table_lookup(r, key)
        {
            return Ok(v);
        }
        self.missing(key)
    }

    fn set_env(&mut self, this: Value, key: Value, v: Value) -> R<()> {
        if let Value::Table(t) = this {
            let h = self.hash(key);
            if self.heap.tables.get_mut(t).t.set_existing(h, key, v) {
                return Ok(());
            }
        } else if self.set_opt(this, key, v)? {
            return Ok(());
        }
        if let Value::Table(r) = self.root {
            let h = self.hash(key);
            if self.heap.tables.get_mut(r).t.set_existing(h, key, v) {
                return Ok(());
            }
        }
        self.missing(key)
    }

    pub(crate) fn missing<T>(&mut self, key: Value) -> R<T> {
        let k = self.key_text(key);
        self.err(format!("the index '{k}' does not exist"))
    }

    fn key_text(&self, key: Value) -> String {
        match key {
            Value::Str(s) => String::from_utf8_lossy(self.heap.str_bytes(s)).into_owned(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => crate::stdlib::fmt_float(f),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".to_owned(),
            v => self.type_name(v).to_owned(),
        }
    }

    /// `obj[key]`.
    pub(crate) fn get(&mut self, obj: Value, key: Value) -> R<Value> {
        match self.get_opt(obj, key)? {
            Some(v) => Ok(v),
            None => self.missing(key),
        }
    }

    fn delegate_get(&self, table: u32, key: Value) -> Option<Value> {
        let h = self.hash(key);
        self.heap.tables.get(table).t.get(h, key)
    }

    /// `obj[key]`, or `None` when absent.
    pub(crate) fn get_opt(&mut self, obj: Value, key: Value) -> R<Option<Value>> {
        let v = self.get_opt_raw(obj, key)?;
        Ok(v.map(|v| self.deref(v)))
    }

    fn get_opt_raw(&mut self, obj: Value, key: Value) -> R<Option<Value>> {
        match obj {
            Value::Table(t) => {
                let h = self.hash(key);
                let tab = self.heap.tables.get(t);
                if let Some(v) = tab.t.get(h, key) {
                    return Ok(Some(v));
                }
                if let Some(d) = tab.delegate {
                    if let Some(v) = self.table_lookup(d, key) {
                        return Ok(Some(v));
                    }
                    let g = self.names.get;
                    if let Some(m) = self.table_lookup(d, g)
                        && let Some(v) = self.call_get_meta(m, obj, key)?
                    {
                        return Ok(Some(v));
                    }
                }
                Ok(self.delegate_get(self.delegates.table, key))
            }
            Value::Array(a) => match key {
                Value::Int(i) => {
                    let arr = self.heap.arrays.get(a);
                    Ok(usize::try_from(i).ok().and_then(|i| arr.get(i).copied()))
                }
                Value::Float(f) => {
                    let arr = self.heap.arrays.get(a);
                    Ok(usize::try_from(f as i64)
                        .ok()
                        .and_then(|i| arr.get(i).copied()))
                }
                _ => Ok(self.delegate_get(self.delegates.array, key)),
            },
            Value::Instance(i) => {
                let c = self.heap.instances.get(i).class;
                let h = self.hash(key);
                let cl = self.heap.classes.get(c);
                if let Some(Value::Int(idx)) = cl.fields.get(h, key) {
                    return Ok(self.heap.instances.get(i).values.get(idx as usize).copied());
                }
                if let Some(v) = cl.methods.get(h, key) {
                    return Ok(Some(v));
                }
                if cl.has_get {
                    let g = self.names.get;
                    let hg = self.hash(g);
                    if let Some(m) = cl.metas.get(hg, g) {
                        return self.call_get_meta(m, obj, key);
                    }
                }
                Ok(self.delegate_get(self.delegates.instance, key))
            }
            Value::Class(c) => {
                if let Some(v) = self.class_get(c, key) {
                    return Ok(Some(v));
                }
                Ok(self.delegate_get(self.delegates.class, key))
            }
            Value::Str(s) => match key {
                Value::Int(i) => {
                    let b = self.heap.str_bytes(s);
                    Ok(usize::try_from(i)
                        .ok()
                        .and_then(|i| b.get(i))
                        .map(|&c| Value::Int(i64::from(c as i8))))
                }
                _ => Ok(self.delegate_get(self.delegates.string, key)),
            },
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                Ok(self.delegate_get(self.delegates.number, key))
            }
            Value::Closure(_) | Value::Native(_) => {
                Ok(self.delegate_get(self.delegates.function, key))
            }
            Value::Generator(_) => Ok(self.delegate_get(self.delegates.generator, key)),
            Value::Thread(_) => Ok(self.delegate_get(self.delegates.thread, key)),
            Value::WeakRef(_) => Ok(self.delegate_get(self.delegates.weakref, key)),
            Value::Blob(b) => {
                if let Value::Int(i) = key {
                    let data = &self.heap.blobs.get(b).data;
                    return Ok(usize::try_from(i)
                        .ok()
                        .and_then(|i| data.get(i))
                        .map(|&c| Value::Int(i64::from(c))));
                }
                Ok(self.delegate_get(self.delegates.blob, key))
            }
            Value::Null => Ok(None),
        }
    }

    fn call_get_meta(&mut self, m: Value, obj: Value, key: Value) -> R<Option<Value>> {
        self.roots.push(obj);
        let r = self.call(m, obj, &[key]);
        self.roots.pop();
        match r {
            Ok(v) => Ok(Some(v)),
            // The metamethod signals "no such index" by throwing null.
            Err(Error::Throw(Value::Null)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `obj[key] = v`.
    pub(crate) fn set(&mut self, obj: Value, key: Value, v: Value) -> R<()> {
        if self.set_opt(obj, key, v)? {
            Ok(())
        } else {
            self.missing(key)
        }
    }

    fn set_opt(&mut self, obj: Value, key: Value, v: Value) -> R<bool> {
        match obj {
            Value::Table(t) => {
                let h = self.hash(key);
                let tab = self.heap.tables.get_mut(t);
                if tab.t.set_existing(h, key, v) {
                    return Ok(true);
                }
                if let Some(d) = tab.delegate {
                    let s = self.names.set;
                    if let Some(m) = self.table_lookup(d, s) {
                        self.call(m, obj, &[key, v])?;
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::Array(a) => {
                let idx = match key {
                    Value::Int(i) => i,
                    Value::Float(f) => f as i64,
                    _ => return self.err("indexing array with non-integer"),
                };
                let arr = self.heap.arrays.get_mut(a);
                match usize::try_from(idx).ok().and_then(|i| arr.get_mut(i)) {
                    Some(slot) => {
                        *slot = v;
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            Value::Instance(i) => {
                let c = self.heap.instances.get(i).class;
                let h = self.hash(key);
                let cl = self.heap.classes.get(c);
                if let Some(Value::Int(idx)) = cl.fields.get(h, key) {
                    if let Some(slot) = self.heap.instances.get_mut(i).values.get_mut(idx as usize)
                    {
                        *slot = v;
                    }
                    return Ok(true);
                }
                let s = self.names.set;
                let hs = self.hash(s);
                if let Some(m) = cl.metas.get(hs, s) {
                    self.call(m, obj, &[key, v])?;
                    return Ok(true);
                }
                Ok(false)
            }
            Value::Class(c) => {
                let h = self.hash(key);
                let cl = self.heap.classes.get_mut(c);
                if cl.methods.set_existing(h, key, v) {
                    return Ok(true);
                }
                if let Some(Value::Int(idx)) = cl.fields.get(h, key) {
                    if let Some(slot) = cl.defaults.get_mut(idx as usize) {
                        *slot = v;
                    }
                    return Ok(true);
                }
                Ok(false)
            }
            Value::Blob(b) => {
                if let (Value::Int(i), Value::Int(x)) = (key, v) {
                    let data = &mut self.heap.blobs.get_mut(b).data;
                    if let Some(slot) = usize::try_from(i).ok().and_then(|i| data.get_mut(i)) {
                        *slot = x as u8;
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// `obj[key] <- v`.
    pub(crate) fn newslot(&mut self, obj: Value, key: Value, v: Value, _static: bool) -> R<()> {
        match obj {
            Value::Table(t) => {
                if matches!(key, Value::Null) {
                    return self.err("null cannot be used as index");
                }
                if let Some(d) = self.heap.tables.get(t).delegate {
                    let ns = self.names.newslot;
                    if let Some(m) = self.table_lookup(d, ns) {
                        self.call(m, obj, &[key, v])?;
                        return Ok(());
                    }
                }
                let h = self.hash(key);
                let grew = self.heap.tables.get_mut(t).t.insert(h, key, v);
                if grew > 0 {
                    self.heap.grew(grew);
                    self.charge(0)?;
                }
                Ok(())
            }
            Value::Class(_) => self.class_newslot(obj, key, v, false, Value::Null),
            Value::Instance(_) => {
                if self.set_opt(obj, key, v)? {
                    Ok(())
                } else {
                    self.err("class instances do not support the new slot operator")
                }
            }
            v => {
                let t = self.type_name(v);
                self.err(format!("trying to set '{t}'"))
            }
        }
    }

    /// A member declared in a class body: handed to `_newmember` when the
    /// class has one (which then decides), else added.
    fn declare_member(
        &mut self,
        obj: Value,
        key: Value,
        v: Value,
        is_static: bool,
        attr: Value,
    ) -> R<()> {
        if let Value::Class(c) = obj
            && !self.is_metamethod_name(key)
        {
            let nm = self.names.newmember;
            let h = self.hash(nm);
            if let Some(m) = self.heap.classes.get(c).metas.get(h, nm) {
                self.roots.extend_from_slice(&[key, v, attr]);
                let r = self.call(m, obj, &[key, v, attr, Value::Bool(is_static)]);
                self.roots.truncate(self.roots.len() - 3);
                return r.map(|_| ());
            }
        }
        self.class_newslot(obj, key, v, is_static, attr)
    }

    fn class_newslot(
        &mut self,
        obj: Value,
        key: Value,
        v: Value,
        is_static: bool,
        attr: Value,
    ) -> R<()> {
        let Value::Class(c) = obj else {
            return self.newslot(obj, key, v, false);
        };
        if self.heap.classes.get(c).locked {
            return self.err("trying to modify a class that has already been instantiated");
        }
        let h = self.hash(key);
        if let Value::Closure(f) = v {
            // A method remembers the base of the class that received it first.
            let b = self.heap.classes.get(c).base;
            let clo = self.heap.closures.get_mut(f);
            if clo.base.is_none() {
                clo.base = Some(b);
            }
        }
        let is_method = matches!(v, Value::Closure(_) | Value::Native(_));
        let is_get = key.raw_eq(self.names.get);
        let is_meta = self.is_metamethod_name(key);
        let cl = self.heap.classes.get_mut(c);
        cl.has_get |= is_get;
        if is_meta {
            let grew = cl.metas.insert(h, key, v);
            self.heap.grew(grew);
            return Ok(());
        }
        if !matches!(attr, Value::Null) {
            cl.member_attrs.insert(h, key, attr);
        }
        if let Some(Value::Int(idx)) = cl.fields.get(h, key) {
            if let Some(slot) = cl.defaults.get_mut(idx as usize) {
                *slot = v;
            }
            return Ok(());
        }
        if is_method || is_static || cl.methods.get(h, key).is_some() {
            let grew = cl.methods.insert(h, key, v);
            self.heap.grew(grew);
        } else {
            let idx = cl.defaults.len() as i64;
            cl.defaults.push(v);
            let grew = cl.fields.insert(h, key, Value::Int(idx));
            self.heap.grew(grew + 16);
        }
        Ok(())
    }

    /// Whether `key` names a metamethod (kept apart from class members).
    fn is_metamethod_name(&self, key: Value) -> bool {
        let n = &self.names;
        [
            n.get,
            n.set,
            n.newslot,
            n.delslot,
            n.add,
            n.sub,
            n.mul,
            n.div,
            n.modulo,
            n.unm,
            n.cmp,
            n.call,
            n.typeof_,
            n.tostring,
            n.nexti,
            n.cloned,
            n.inherited,
            n.newmember,
        ]
        .iter()
        .any(|m| m.raw_eq(key))
    }

    fn new_class(&mut self, base: Option<Value>, attrs: Value) -> R<Value> {
        let base_id = match base {
            None => None,
            Some(Value::Class(b)) => Some(b),
            Some(_) => return self.err("trying to inherit from a non class"),
        };
        let mut c = Class {
            base: base_id,
            fields: Table::default(),
            defaults: Vec::new(),
            methods: Table::default(),
            attrs,
            member_attrs: Table::default(),
            locked: false,
            has_get: false,
            metas: Table::default(),
        };
        if let Some(b) = base_id {
            let bc = self.heap.classes.get(b);
            c.fields = bc.fields.clone();
            c.defaults = bc.defaults.clone();
            c.methods = bc.methods.clone();
            c.member_attrs = bc.member_attrs.clone();
            c.has_get = bc.has_get;
            c.metas = bc.metas.clone();
        }
        let cv = self.heap.new_class(c);
        if let Some(b) = base_id {
            let inh = self.names.inherited;
            let h = self.hash(inh);
            if let Some(m) = self.heap.classes.get(b).metas.get(h, inh) {
                self.roots.push(cv);
                let r = self.call(m, Value::Class(b), &[cv]);
                self.roots.pop();
                r?;
            }
        }
        Ok(cv)
    }

    fn delete(&mut self, obj: Value, key: Value) -> R<Value> {
        match obj {
            Value::Table(t) => {
                let h = self.hash(key);
                if let Some(d) = self.heap.tables.get(t).delegate {
                    let ds = self.names.delslot;
                    if let Some(m) = self.table_lookup(d, ds) {
                        return self.call(m, obj, &[key]);
                    }
                }
                match self.heap.tables.get_mut(t).t.remove(h, key) {
                    Some(v) => Ok(v),
                    None => self.missing(key),
                }
            }
            Value::Instance(_) => {
                let ds = self.names.delslot;
                match self.metamethod(obj, ds) {
                    Some(m) => self.call(m, obj, &[key]),
                    None => self.err("cannot delete a slot from an instance"),
                }
            }
            v => {
                let t = self.type_name(v);
                self.err(format!("trying to delete a slot from a {t}"))
            }
        }
    }

    fn contains(&mut self, obj: Value, key: Value) -> R<bool> {
        Ok(match obj {
            // `in` looks at the table's own slots only, as the reference.
            Value::Table(t) => {
                let h = self.hash(key);
                self.heap.tables.get(t).t.get(h, key).is_some()
            }
            Value::Array(a) => match key {
                Value::Int(i) => {
                    usize::try_from(i).is_ok_and(|i| i < self.heap.arrays.get(a).len())
                }
                _ => false,
            },
            Value::Instance(_) | Value::Class(_) | Value::Str(_) | Value::Blob(_) => {
                self.get_opt(obj, key)?.is_some()
            }
            _ => false,
        })
    }

    pub(crate) fn type_of(&mut self, v: Value) -> R<Value> {
        if let Value::Instance(_) | Value::Table(_) = v {
            let t = self.names.typeof_;
            if let Some(m) = self.metamethod(v, t) {
                return self.call(m, v, &[]);
            }
        }
        if let Value::Blob(b) = v {
            let blob = self.heap.blobs.get(b);
            let t = if blob.file.is_some() || blob.stream.is_some() {
                "file"
            } else {
                "blob"
            };
            return Ok(self.str(t));
        }
        let t = self.type_name(v);
        Ok(self.str(t))
    }

    pub(crate) fn clone_value(&mut self, v: Value) -> R<Value> {
        match v {
            Value::Table(t) => {
                let tab = self.heap.tables.get(t);
                let (copy, d) = (tab.t.clone(), tab.delegate);
                self.charge(copy.capacity() * 40)?;
                let nv = self.heap.new_table();
                if let Value::Table(n) = nv {
                    self.heap.grew(copy.capacity() * 40);
                    let nt = self.heap.tables.get_mut(n);
                    nt.t = copy;
                    nt.delegate = d;
                }
                if let Some(d) = d {
                    let cl = self.names.cloned;
                    if let Some(m) = self.table_lookup(d, cl) {
                        self.roots.push(nv);
                        let r = self.call(m, nv, &[v]);
                        self.roots.pop();
                        r?;
                    }
                }
                Ok(nv)
            }
            Value::Array(a) => {
                let copy = self.heap.arrays.get(a).clone();
                self.charge(copy.len() * 16)?;
                Ok(self.heap.new_array(copy))
            }
            Value::Instance(i) => {
                let inst = self.heap.instances.get(i);
                let copy = Instance {
                    class: inst.class,
                    values: inst.values.clone(),
                };
                let nv = self.heap.new_instance(copy);
                let cl = self.names.cloned;
                if let Some(m) = self.metamethod(nv, cl) {
                    self.roots.push(nv);
                    let r = self.call(m, nv, &[v]);
                    self.roots.pop();
                    r?;
                }
                Ok(nv)
            }
            Value::Blob(b) => {
                let copy = self.heap.blobs.get(b).clone();
                Ok(self.heap.new_blob(copy))
            }
            v => Ok(v),
        }
    }

    fn unary_meta(&mut self, v: Value) -> R<Value> {
        let u = self.names.unm;
        if let Some(m) = self.metamethod(v, u) {
            return self.call(m, v, &[]);
        }
        let t = self.type_name(v);
        self.err(format!("attempt to negate a {t}"))
    }

    pub(crate) fn arith(&mut self, a: Arith, x: Value, y: Value) -> R<Value> {
        use Value::{Float, Int};
        let fl = |v: Value| match v {
            Int(i) => Some(f32r(i as f64)),
            Float(f) => Some(f),
            _ => None,
        };
        match (x, y) {
            (Int(p), Int(q)) => {
                return Ok(Int(match a {
                    Arith::Add => p.wrapping_add(q),
                    Arith::Sub => p.wrapping_sub(q),
                    Arith::Mul => p.wrapping_mul(q),
                    Arith::Div => {
                        if q == 0 {
                            return self.err("division by zero");
                        }
                        p.wrapping_div(q)
                    }
                    Arith::Mod => {
                        // The reference leaves the dividend unchanged.
                        if q == 0 { p } else { p.wrapping_rem(q) }
                    }
                    Arith::BitAnd => p & q,
                    Arith::BitOr => p | q,
                    Arith::BitXor => p ^ q,
                    Arith::Shl => p.wrapping_shl((q & 63) as u32),
                    Arith::Shr => p.wrapping_shr((q & 63) as u32),
                    Arith::UShr => ((p as u64).wrapping_shr((q & 63) as u32)) as i64,
                }));
            }
            (Int(_) | Float(_), Int(_) | Float(_))
                if !matches!(
                    a,
                    Arith::BitAnd
                        | Arith::BitOr
                        | Arith::BitXor
                        | Arith::Shl
                        | Arith::Shr
                        | Arith::UShr
                ) =>
            {
                let (p, q) = (fl(x).unwrap_or(0.0), fl(y).unwrap_or(0.0));
                return Ok(Float(f32r(match a {
                    Arith::Add => p + q,
                    Arith::Sub => p - q,
                    Arith::Mul => p * q,
                    Arith::Div => p / q,
                    _ => p % q,
                })));
            }
            _ => {}
        }
        if a == Arith::Add && (matches!(x, Value::Str(_)) || matches!(y, Value::Str(_))) {
            return self.concat(x, y);
        }
        let name = match a {
            Arith::Add => Some(self.names.add),
            Arith::Sub => Some(self.names.sub),
            Arith::Mul => Some(self.names.mul),
            Arith::Div => Some(self.names.div),
            Arith::Mod => Some(self.names.modulo),
            _ => None,
        };
        if let Some(n) = name
            && let Some(m) = self.metamethod(x, n)
        {
            return self.call(m, x, &[y]);
        }
        let sym = match a {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
            Arith::Mod => "%",
            Arith::BitAnd => "&",
            Arith::BitOr => "|",
            Arith::BitXor => "^",
            Arith::Shl => "<<",
            Arith::Shr => ">>",
            Arith::UShr => ">>>",
        };
        if name.is_none() {
            return self.err(
                "bitwise op between '".to_owned()
                    + self.type_name(x)
                    + "' and '"
                    + self.type_name(y)
                    + "'",
            );
        }
        let (tx, ty) = (self.type_name(x), self.type_name(y));
        self.err(format!("arith op {sym} on between '{tx}' and '{ty}'"))
    }

    fn concat(&mut self, x: Value, y: Value) -> R<Value> {
        // One reused buffer: the result is interned (copied) anyway.
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let r = self
            .append_str(&mut buf, x)
            .and_then(|()| self.append_str(&mut buf, y))
            .and_then(|()| self.charge(buf.len()));
        let v = r.map(|()| self.heap.intern(&buf));
        self.scratch = buf;
        v
    }

    /// Appends `tostring(v)` to `buf` (calls `_tostring`).
    pub(crate) fn append_str(&mut self, buf: &mut Vec<u8>, v: Value) -> R<()> {
        match v {
            Value::Str(s) => buf.extend_from_slice(self.heap.str_bytes(s)),
            Value::Int(i) => push_int(buf, i),
            Value::Float(f) => buf.extend_from_slice(crate::stdlib::fmt_float(f).as_bytes()),
            Value::Bool(b) => buf.extend_from_slice(if b { b"true" } else { b"false" }),
            Value::Null => buf.extend_from_slice(b"null"),
            Value::Instance(_) | Value::Table(_) => {
                let t = self.names.tostring;
                if let Some(m) = self.metamethod(v, t) {
                    let r = self.call(m, v, &[])?;
                    if let Value::Str(s) = r {
                        buf.extend_from_slice(self.heap.str_bytes(s));
                        return Ok(());
                    }
                }
                self.append_addr(buf, v);
            }
            v => self.append_addr(buf, v),
        }
        Ok(())
    }

    fn append_addr(&self, buf: &mut Vec<u8>, v: Value) {
        let (t, id) = match v {
            Value::Table(i) => ("table", i),
            Value::Array(i) => ("array", i),
            Value::Closure(i) => ("function", i),
            Value::Native(i) => ("function", i),
            Value::Class(i) => ("class", i),
            Value::Instance(i) => ("instance", i),
            Value::Generator(i) => ("generator", i),
            Value::Thread(i) => ("thread", i),
            Value::WeakRef(i) => ("weakref", i),
            Value::Blob(i) => ("instance", i),
            _ => ("null", 0),
        };
        let _ = write!(buf, "({t} : 0x{:016x})", u64::from(id) * 64 + 0x1000);
    }

    pub(crate) fn compare(&mut self, c: Cmp, x: Value, y: Value) -> R<Value> {
        let ord = self.order(x, y)?;
        Ok(match c {
            Cmp::Three => Value::Int(ord as i64),
            Cmp::Lt => Value::Bool(ord < 0),
            Cmp::Le => Value::Bool(ord <= 0),
            Cmp::Gt => Value::Bool(ord > 0),
            Cmp::Ge => Value::Bool(ord >= 0),
        })
    }

    /// Three-way comparison (-1, 0, 1).
    pub(crate) fn order(&mut self, x: Value, y: Value) -> R<i32> {
        use Value::{Float, Int};
        let o = |b: std::cmp::Ordering| b as i32;
        match (x, y) {
            (Int(p), Int(q)) => Ok(o(p.cmp(&q))),
            (Int(_) | Float(_), Int(_) | Float(_)) => {
                let p = if let Int(i) = x {
                    i as f64
                } else if let Float(f) = x {
                    f
                } else {
                    0.0
                };
                let q = if let Int(i) = y {
                    i as f64
                } else if let Float(f) = y {
                    f
                } else {
                    0.0
                };
                Ok(if p < q {
                    -1
                } else if p > q {
                    1
                } else {
                    0
                })
            }
            (Value::Str(a), Value::Str(b)) => {
                Ok(o(self.heap.str_bytes(a).cmp(self.heap.str_bytes(b))))
            }
            (Value::Instance(_) | Value::Table(_), _) => {
                let cm = self.names.cmp;
                if let Some(m) = self.metamethod(x, cm) {
                    let r = self.call(m, x, &[y])?;
                    return match r {
                        Int(i) => Ok(i.signum() as i32),
                        Float(f) => Ok(if f < 0.0 {
                            -1
                        } else if f > 0.0 {
                            1
                        } else {
                            0
                        }),
                        _ => self.err("_cmp must return an integer"),
                    };
                }
                self.cmp_error(x, y)
            }
            (Value::Null, Value::Null) => Ok(0),
            _ => self.cmp_error(x, y),
        }
    }

    fn cmp_error<T>(&mut self, x: Value, y: Value) -> R<T> {
        let show = |vm: &Vm<'_>, v: Value| match v {
            Value::Int(_) | Value::Float(_) | Value::Str(_) | Value::Bool(_) | Value::Null => {
                vm.key_text(v)
            }
            v => vm.type_name(v).to_owned(),
        };
        let (a, b) = (show(self, x), show(self, y));
        self.err(format!("comparison between '{a}' and '{b}'"))
    }

    /// Compiles and runs a chunk of source (dofile), returning its value.
    pub(crate) fn load(&mut self, src: &[u8], name: &str) -> R<Value> {
        match crate::compiler::compile(src, name, &mut self.heap, &mut self.consts) {
            Ok(p) => {
                self.protos.push(p.clone());
                Ok(self.heap.new_closure(Closure {
                    proto: p,
                    outers: Vec::new(),
                    defaults: Vec::new(),
                    env: None,
                    base: None,
                }))
            }
            Err(e) => self.err(format!(
                "{name} line = ({}) column = ({}) : error {}",
                e.line,
                e.reported_col(),
                e.msg
            )),
        }
    }

    /// Registers a native function value.
    pub(crate) fn native(&mut self, name: &'static str, f: NativeFn, nparams: i32) -> Value {
        self.heap.new_native(Native {
            name,
            f,
            nparams,
            bound: Value::Null,
        })
    }
}

/// Bit set in a caller frame's saved pc when the callee's result is dropped.
const DISCARD: usize = 1 << 62;

/// Integer arithmetic inline in the loop; `None` for division or modulo
/// by zero (the slow path raises or answers as the reference does).
#[inline]
fn int_arith(a: Arith, p: i64, q: i64) -> Option<i64> {
    Some(match a {
        Arith::Add => p.wrapping_add(q),
        Arith::Sub => p.wrapping_sub(q),
        Arith::Mul => p.wrapping_mul(q),
        Arith::Div if q != 0 => p.wrapping_div(q),
        Arith::Mod if q != 0 => p.wrapping_rem(q),
        Arith::Div | Arith::Mod => return None,
        Arith::BitAnd => p & q,
        Arith::BitOr => p | q,
        Arith::BitXor => p ^ q,
        Arith::Shl => p.wrapping_shl((q & 63) as u32),
        Arith::Shr => p.wrapping_shr((q & 63) as u32),
        Arith::UShr => ((p as u64).wrapping_shr((q & 63) as u32)) as i64,
    })
}

/// Appends the decimal form of `i` without the formatting machinery.
fn push_int(buf: &mut Vec<u8>, i: i64) {
    let mut digits = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&digits[at..]);
}

#[inline]
fn int_test(c: Cmp, p: i64, q: i64) -> bool {
    match c {
        Cmp::Lt => p < q,
        Cmp::Le => p <= q,
        Cmp::Gt => p > q,
        Cmp::Ge => p >= q,
        Cmp::Three => p != q,
    }
}

#[inline]
fn int_cmp(c: Cmp, p: i64, q: i64) -> Value {
    match c {
        Cmp::Lt => Value::Bool(p < q),
        Cmp::Le => Value::Bool(p <= q),
        Cmp::Gt => Value::Bool(p > q),
        Cmp::Ge => Value::Bool(p >= q),
        Cmp::Three => Value::Int(p.cmp(&q) as i64),
    }
}

impl ConstValPub {
    /// Pushes the heap values this constant holds.
    pub(crate) fn mark_into(&self, out: &mut Vec<Value>) {
        self.values(out);
    }
}
