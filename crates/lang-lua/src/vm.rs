//! The interpreter: one dispatch loop over register bytecode. Lua-to-Lua
//! calls push a frame and stay in the loop (no host recursion); pcall,
//! xpcall, coroutine resume and yield are handled by the loop too, so a
//! coroutine can yield across pcall. Metamethods and natives that call back
//! (sort comparators, gsub functions) re-enter the loop with a depth limit.

use std::rc::Rc;

use shield_engine::LimitKind;

use crate::heap::{CoStatus, Frame, Func, Heap, Protect, Special, Thread, UpVal};
use crate::number::{fmod, fmt_float, idiv, imod, shl, str_to_number};
use crate::proto::*;
use crate::table::Table;
use crate::value::{Value, float_to_int};

/// A native function: arguments are `vm.stack[base..base + n]`; results are
/// pushed with [`Vm::push`] and their count returned.
pub type NativeFn = fn(&mut Vm, usize, usize) -> LResult<usize>;

/// Why execution stopped abnormally.
#[derive(Debug, Clone)]
pub enum LErr {
    /// A Lua error with its value.
    Rt(Value),
    /// A limit was reached (not catchable by pcall).
    Limit(LimitKind),
    /// `os.exit`.
    Exit(i32),
}

/// The largest transfer buffer kept for reuse (values).
const XFER_KEEP: usize = 64;

/// Result of VM operations.
pub type LResult<T> = Result<T, LErr>;

/// Metamethod events, in the order of `TM_NAMES`.
#[allow(missing_docs)]
pub mod tm {
    pub const INDEX: usize = 0;
    pub const NEWINDEX: usize = 1;
    pub const GC: usize = 2;
    pub const MODE: usize = 3;
    pub const LEN: usize = 4;
    pub const EQ: usize = 5;
    pub const ADD: usize = 6;
    pub const SUB: usize = 7;
    pub const MUL: usize = 8;
    pub const MOD: usize = 9;
    pub const POW: usize = 10;
    pub const DIV: usize = 11;
    pub const IDIV: usize = 12;
    pub const BAND: usize = 13;
    pub const BOR: usize = 14;
    pub const BXOR: usize = 15;
    pub const SHL: usize = 16;
    pub const SHR: usize = 17;
    pub const UNM: usize = 18;
    pub const BNOT: usize = 19;
    pub const LT: usize = 20;
    pub const LE: usize = 21;
    pub const CONCAT: usize = 22;
    pub const CALL: usize = 23;
    pub const CLOSE: usize = 24;
    pub const TOSTRING: usize = 25;
    pub const NAME: usize = 26;
    pub const METATABLE: usize = 27;
    pub const PAIRS: usize = 28;
}

const TM_NAMES: &[&str] = &[
    "__index",
    "__newindex",
    "__gc",
    "__mode",
    "__len",
    "__eq",
    "__add",
    "__sub",
    "__mul",
    "__mod",
    "__pow",
    "__div",
    "__idiv",
    "__band",
    "__bor",
    "__bxor",
    "__shl",
    "__shr",
    "__unm",
    "__bnot",
    "__lt",
    "__le",
    "__concat",
    "__call",
    "__close",
    "__tostring",
    "__name",
    "__metatable",
    "__pairs",
];

/// Most value slots a thread's stack may hold.
pub const MAX_STACK: usize = 1_000_000;
/// Most frames of Lua calls in one thread.
pub const MAX_FRAMES: usize = 195_000;
/// Registers of a frame's window (`Vm::frame_window`): every 8-bit operand,
/// and the three registers a numeric `for` keeps after its base.
pub(crate) const WINDOW: usize = 260;
/// Most nested host re-entries (metamethods, callbacks).
pub const MAX_HOST_DEPTH: u32 = 190;

/// Where a script's output goes, and where its input and files come from.
pub trait Host {
    /// Writes to stdout (1) or stderr (2).
    fn write(&mut self, fd: u8, data: &[u8]) -> LResult<()>;
    /// Reads stdin.
    fn read_stdin(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Opens a file.
    fn open(
        &mut self,
        path: &str,
        mode: &str,
    ) -> std::io::Result<Box<dyn shield_engine::vfs::VfsFile>>;
    /// Seconds since the epoch.
    fn time(&self) -> i64;
    /// CPU seconds.
    fn clock(&self) -> f64;
    /// Writes the run's closing report (an uncaught error, a limit) to
    /// stderr outside the output budget: it is the runner's word, not the
    /// script's, and a run stopped by that budget still says why.
    fn report(&mut self, text: &[u8]);
    /// Charges bytes written to files against the output budget.
    fn charge_output(&mut self, n: usize) -> LResult<()>;
    /// Removes a file (`os.remove`).
    fn remove(&mut self, path: &str) -> std::io::Result<()>;
    /// Renames a file (`os.rename`).
    fn rename(&mut self, from: &str, to: &str) -> std::io::Result<()>;
    /// The value of environment variable `name` (`os.getenv`).
    fn getenv(&self, name: &[u8]) -> Option<&str>;
}

/// A virtual machine: heap, the running thread's stack and frames, globals.
pub struct Vm<'h> {
    /// All objects.
    pub heap: Heap,
    /// The dispatch loop's prototype cache (closure, collection epoch,
    /// prototype) kept between runs of the loop, so a host call of the same
    /// function again (a sort comparator, a gsub callback, a metamethod)
    /// skips the lookup and the reference count.
    proto_cache: Option<(u32, u64, Rc<Proto>)>,
    /// The entry the loop's prototype cache held before its last change: a
    /// call and its return swap the two (no lookup, no reference count),
    /// so a caller and a callee that alternate both stay cached.
    proto_prev: Option<(u32, u64, Rc<Proto>)>,
    /// A spare buffer for the values a resume, yield or coroutine return
    /// hands over, so a transfer does not allocate (kept only while small,
    /// as it is outside the memory accounting).
    xfer: Vec<Value>,
    /// Running thread's values.
    pub stack: Vec<Value>,
    /// Running thread's frames.
    pub frames: Vec<Frame>,
    /// Running thread's open upvalues (stack index, handle), ascending.
    pub open: Vec<(u32, u32)>,
    /// Running thread's to-be-closed variables (stack indices).
    pub tbc: Vec<usize>,
    /// First free slot for native calls.
    pub top: usize,
    /// Running thread handle.
    pub cur: u32,
    /// The global table.
    pub globals: u32,
    /// The registry table (loaded modules and such).
    pub registry: u32,
    /// The metatable of strings.
    pub string_meta: Option<u32>,
    /// Metatables of nil, booleans, numbers, functions, threads and light
    /// userdata (set only through the debug library).
    pub basic_meta: [Option<u32>; 6],
    /// Interned metamethod names.
    pub tm_names: Vec<u32>,
    /// Instructions left (approximate counting at backward jumps and calls).
    pub budget: i64,
    /// Byte limit of the heap.
    pub mem_limit: usize,
    /// Host re-entry depth.
    pub depth: u32,
    /// Nested coroutine resumes (bounded like C Lua's C stack).
    pub co_depth: u32,
    /// For the next collection: the running thread's stack is live only
    /// below this slot.
    pub gc_limit: Option<usize>,
    /// Values held by Rust code across calls into Lua (a pending error while
    /// `__close` handlers run, results waiting for them): collection roots.
    pub roots: Vec<Value>,
    /// Scratch buffer for concatenation.
    pub buf: Vec<u8>,
    /// The outside world.
    pub host: Box<dyn Host + 'h>,
    /// Set when a coroutine switch completed a host call: the loop returns.
    pub exit_run: bool,
    /// The running native was called by a native (pcall, a host call), not
    /// by Lua code: `error` level 1 has no position then.
    pub native_parent: bool,
    /// Random state (xoshiro256**).
    pub rng: [u64; 4],
    /// Polled for the process-level memory backstop.
    pub heap_exceeded: fn() -> bool,
    /// `collectgarbage("stop")`: only the memory limit collects.
    pub gc_stopped: bool,
    /// Finalizers are running (the collector is not reentrant).
    pub in_finalizer: bool,
    /// `warn("@on")` was called: warnings go to stderr.
    pub warn_on: bool,
    /// A message handler is running: the stack limits have some slack.
    pub err_slack: bool,
    /// Stack slot of the running native function.
    pub native_func: usize,
    /// Metamethod calls in progress: the frame index the call starts at and
    /// the event, so tracebacks and `getinfo` can say "metamethod 'close'".
    pub tm_calls: Vec<(usize, usize)>,
    /// The `xpcall` frame whose handler already ran on the error being
    /// propagated.
    pub handled_at: Option<(usize, Value)>,
    /// The native function that raised the latest error, and that error:
    /// natives have no frame, so this is how a message handler's traceback
    /// names it (C Lua's stack still holds it there). Only compared, never
    /// dereferenced: it may be stale.
    pub raised_by: Option<(Value, Value)>,
    /// While a message handler runs: the thread and frame count where it
    /// was called and the native that raised the error it handles (nil for
    /// none), for tracebacks.
    pub handling: Option<(u32, usize, Value)>,
    /// Natives running under pcall or xpcall (which push no frame): the
    /// thread and its frame count when each started, innermost last, so an
    /// error inside one is known to be caught there, not by an outer xpcall.
    /// Also the native and whether `xpcall` (not `pcall`) protects it, for
    /// tracebacks.
    pub protected_natives: Vec<(u32, usize, Value, bool)>,
    /// An error leaving the main thread's frames with no protected call
    /// left below to catch it, and the traceback taken before they unwound:
    /// what lua.c's message handler prints if it ends the script.
    pub escaping: Option<(Value, Vec<u8>)>,
    /// Events of the script's `debug.sethook` (`HOOK_CALL`, `HOOK_RET`);
    /// the hook function is in the registry. Never the instruction budget.
    pub hook_mask: u8,
    /// A hook is running (hooks do not nest).
    pub in_hook: bool,
    /// The count of a count hook, and instructions left until it fires.
    pub hook_count: (u32, u32),
    /// For line hooks: the last traced instruction of each frame (by
    /// index), `usize::MAX` for a frame just entered.
    pub hook_pcs: Vec<usize>,
    /// The thread and frame index of the running hook function, which
    /// `debug.getinfo` names `hook '?'`.
    pub hook_frame: Option<(u32, usize)>,
    /// For call and return hooks: where the values passed start (as a
    /// local's index in the hooked frame) and how many (`getinfo`'s `r`).
    pub hook_transfer: (usize, usize),
    /// A tail call is entering its callee (its call hook says so).
    tail_call: bool,
}

/// `debug.sethook` mask bit: function calls.
pub const HOOK_CALL: u8 = 1;
/// `debug.sethook` mask bit: function returns.
pub const HOOK_RET: u8 = 2;
/// `debug.sethook` mask bit: new lines.
pub const HOOK_LINE: u8 = 4;
/// `debug.sethook` mask bit: every `hook_count` instructions.
pub const HOOK_COUNT: u8 = 8;

impl std::fmt::Debug for Vm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm")
            .field("frames", &self.frames.len())
            .finish_non_exhaustive()
    }
}

macro_rules! rt {
    ($vm:expr, $($arg:tt)*) => {
        return Err($vm.rt_error(&format!($($arg)*)))
    };
}
pub(crate) use rt;

impl<'h> Vm<'h> {
    /// A VM with an empty global table (libraries are opened by `lib::open`).
    pub fn new(host: Box<dyn Host + 'h>) -> Vm<'h> {
        let mut heap = Heap::new();
        let globals = heap.new_table(Table::default());
        let registry = heap.new_table(Table::default());
        let main = heap.threads.alloc(Thread {
            status: Some(CoStatus::Running),
            ..Thread::default()
        });
        let tm_names = TM_NAMES.iter().map(|n| heap.intern(n.as_bytes())).collect();
        Vm {
            heap,
            proto_cache: None,
            proto_prev: None,
            xfer: Vec::new(),
            stack: Vec::with_capacity(1024),
            frames: Vec::new(),
            open: Vec::new(),
            tbc: Vec::new(),
            top: 0,
            cur: main,
            globals,
            registry,
            string_meta: None,
            basic_meta: [None; 6],
            tm_names,
            budget: i64::MAX,
            mem_limit: usize::MAX,
            depth: 0,
            co_depth: 0,
            gc_limit: None,
            roots: Vec::new(),
            buf: Vec::new(),
            host,
            exit_run: false,
            native_parent: false,
            rng: [0; 4],
            heap_exceeded: shield_engine::no_heap_budget,
            gc_stopped: false,
            in_finalizer: false,
            warn_on: false,
            err_slack: false,
            native_func: 0,
            tm_calls: Vec::new(),
            handled_at: None,
            raised_by: None,
            handling: None,
            protected_natives: Vec::new(),
            escaping: None,
            hook_mask: 0,
            in_hook: false,
            hook_count: (0, 0),
            hook_pcs: Vec::new(),
            hook_frame: None,
            hook_transfer: (0, 0),
            tail_call: false,
        }
    }

    /// Emits a warning (to stderr as `lua5.4` does) when warnings are on.
    pub fn warning(&mut self, msg: &str) -> LResult<()> {
        if self.warn_on {
            let line = format!("Lua warning: {msg}\n");
            self.host.write(2, line.as_bytes())?;
        }
        Ok(())
    }

    /// Interns a string value.
    pub fn str(&mut self, s: &[u8]) -> Value {
        self.heap.str_value(s)
    }

    /// Pushes a result of a native function.
    #[inline]
    pub fn push(&mut self, v: Value) {
        if self.top >= self.stack.len() {
            self.stack.resize(self.top + 16, Value::Nil);
            self.heap.bytes += 16 * 16;
        }
        self.stack[self.top] = v;
        self.top += 1;
    }

    /// The position prefix (`chunk:line:`) of the Lua function `level`
    /// frames down (1 = the running one).
    pub fn where_(&self, level: usize) -> String {
        let mut left = level;
        let mut at = None;
        for f in self.frames.iter().rev() {
            left = left.saturating_sub(1);
            if left == 0 {
                at = Some(f);
                break;
            }
            // As C Lua counts levels, the pcall or xpcall that called a
            // frame is a level of its own: a C function, with no position.
            if matches!(f.protect, Protect::Pcall | Protect::Xpcall) {
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
        let Some(f) = at.filter(|_| level > 0) else {
            return String::new();
        };
        if let Value::Func(h) = self.stack[f.func]
            && let Func::Lua { proto, .. } = self.heap.funcs.get(h)
        {
            let pc = f.pc.saturating_sub(1);
            // A stripped function has no lines: C Lua shows -1.
            let line = proto.lines.get(pc).map_or(-1, |&l| i64::from(l));
            return format!("{}:{}: ", proto.source, line);
        }
        String::new()
    }

    /// A runtime error with the running function's position.
    pub fn rt_error(&mut self, msg: &str) -> LErr {
        let pos = if self.native_parent {
            String::new()
        } else {
            self.where_(1)
        };
        let s = format!("{pos}{msg}");
        LErr::Rt(self.str(s.as_bytes()))
    }

    /// Converts a value to a string for messages and `tostring` without
    /// metamethods.
    pub fn tostr_basic(&self, v: Value) -> Vec<u8> {
        match v {
            Value::Nil => b"nil".to_vec(),
            Value::Bool(b) => {
                if b {
                    b"true".to_vec()
                } else {
                    b"false".to_vec()
                }
            }
            Value::Int(i) => i.to_string().into_bytes(),
            Value::Num(f) => fmt_float(f).into_bytes(),
            Value::Str(h, _) => self.heap.str(h).to_vec(),
            Value::Table(h) => {
                format!("table: 0x{:08x}", 0x1000_0000u64 + h as u64 * 64).into_bytes()
            }
            Value::Func(h) => match self.heap.funcs.get(h) {
                Func::Native { .. } => {
                    format!("function: 0x{:08x}", 0x2000_0000u64 + h as u64 * 64).into_bytes()
                }
                Func::Lua { .. } => {
                    format!("function: 0x{:08x}", 0x2000_0000u64 + h as u64 * 64).into_bytes()
                }
            },
            Value::Thread(h) => {
                format!("thread: 0x{:08x}", 0x3000_0000u64 + h as u64 * 64).into_bytes()
            }
            Value::UData(h) => {
                format!("userdata: 0x{:08x}", 0x4000_0000u64 + h as u64 * 64).into_bytes()
            }
            Value::Light(p) => format!("userdata: 0x{p:08x}").into_bytes(),
        }
    }

    /// The metatable of any value.
    pub fn metatable(&self, v: Value) -> Option<u32> {
        match v {
            Value::Table(h) => self.heap.tables.get(h).meta,
            Value::Str(_, _) => self.string_meta,
            Value::UData(h) => self.heap.udata.get(h).meta,
            other => self.basic_meta[basic_index(other)],
        }
    }

    /// A metamethod of `v` for event `ev`, using the absence cache.
    #[inline]
    pub fn get_tm(&mut self, v: Value, ev: usize) -> Value {
        match self.metatable(v) {
            Some(m) => self.tm_of(m, ev),
            None => Value::Nil,
        }
    }

    /// Event `ev` in metatable `m`.
    #[inline]
    pub fn tm_of(&mut self, m: u32, ev: usize) -> Value {
        let t = self.heap.tables.get(m);
        if ev < 32 && t.absent & (1 << ev) != 0 {
            return Value::Nil;
        }
        let v = t.get_str(self.tm_names[ev]);
        if v.is_nil() && ev < 32 {
            self.heap.tables.get_mut(m).absent |= 1 << ev;
        }
        v
    }

    /// `obj[key]` with `__index`.
    #[inline(never)]
    pub fn index(&mut self, mut obj: Value, key: Value) -> LResult<Value> {
        if let Value::Str(..) = obj
            && let Some(w) = self.string_method(key)
        {
            return Ok(w);
        }
        for _ in 0..2000 {
            let tmv = if let Value::Table(h) = obj {
                let t = self.heap.tables.get(h);
                let v = t.get(key);
                if !v.is_nil() {
                    return Ok(v);
                }
                match t.meta {
                    None => return Ok(Value::Nil),
                    Some(m) => {
                        let tmv = self.tm_of(m, tm::INDEX);
                        if tmv.is_nil() {
                            return Ok(Value::Nil);
                        }
                        tmv
                    }
                }
            } else {
                let tmv = self.get_tm(obj, tm::INDEX);
                if tmv.is_nil() {
                    return Err(self.type_error(obj, "index", None));
                }
                tmv
            };
            if let Value::Func(_) = tmv {
                return self.call_tm(tmv, tm::INDEX, &[obj, key]);
            }
            obj = tmv;
        }
        rt!(self, "'__index' chain too long; possible loop")
    }

    /// `obj[key] = val` with `__newindex`.
    #[inline(never)]
    pub fn set_index(&mut self, mut obj: Value, key: Value, val: Value) -> LResult<()> {
        for _ in 0..2000 {
            let tmv = if let Value::Table(h) = obj {
                let t = self.heap.tables.get(h);
                let existing = t.get(key);
                let tmv = match (existing.is_nil(), t.meta) {
                    (true, Some(m)) => self.tm_of(m, tm::NEWINDEX),
                    _ => Value::Nil,
                };
                if tmv.is_nil() {
                    return self.raw_set(h, key, val);
                }
                tmv
            } else {
                let tmv = self.get_tm(obj, tm::NEWINDEX);
                if tmv.is_nil() {
                    return Err(self.type_error(obj, "index", None));
                }
                tmv
            };
            if let Value::Func(_) = tmv {
                self.tm_calls.push((self.frames.len(), tm::NEWINDEX));
                let r = self.call_n(tmv, &[obj, key, val], 0);
                self.tm_calls.pop();
                r?;
                return Ok(());
            }
            obj = tmv;
        }
        rt!(self, "'__newindex' chain too long; possible loop")
    }

    /// Raw store with key checks and memory accounting.
    pub fn raw_set(&mut self, h: u32, key: Value, val: Value) -> LResult<()> {
        match key {
            Value::Nil => rt!(self, "index is nil"),
            Value::Num(f) if f.is_nan() => rt!(self, "index is NaN"),
            _ => {}
        }
        let grown = self.heap.tables.get_mut(h).set(key, val);
        self.heap.bytes += grown;
        Ok(())
    }

    /// "attempt to X a T value (desc)".
    pub fn type_error(&mut self, v: Value, op: &str, desc: Option<String>) -> LErr {
        let tn = self.type_name_mt(v);
        match desc {
            Some(d) => self.rt_error(&format!("attempt to {op} a {tn} value ({d})")),
            None => self.rt_error(&format!("attempt to {op} a {tn} value")),
        }
    }

    /// The type name, or `__name` from the metatable.
    pub fn type_name_mt(&mut self, v: Value) -> String {
        if let Value::Light(_) = v {
            return "light userdata".into();
        }
        if let Some(m) = self.metatable(v) {
            let n = self.heap.tables.get(m).get_str(self.tm_names[tm::NAME]);
            if let Value::Str(s, _) = n {
                return String::from_utf8_lossy(self.heap.str(s)).into_owned();
            }
        }
        v.type_name().to_string()
    }

    /// Calls metamethod `h` of event `ev`; a value that cannot be called is
    /// reported as C Lua does ("attempt to call a number value (metamethod 'add')").
    pub fn call_tm(&mut self, h: Value, ev: usize, args: &[Value]) -> LResult<Value> {
        if !matches!(h, Value::Func(_)) && self.get_tm(h, tm::CALL).is_nil() {
            let tn = self.type_name_mt(h);
            rt!(
                self,
                "attempt to call a {tn} value (metamethod '{}')",
                &TM_NAMES[ev][2..]
            );
        }
        self.tm_calls.push((self.frames.len(), ev));
        let r = self.call1(h, args);
        self.tm_calls.pop();
        r
    }

    /// The metamethod event whose call started frame `idx`, if any.
    pub fn tm_event(&self, idx: usize) -> Option<&'static str> {
        if self.frames.get(idx).is_some_and(|f| f.tm_close) {
            return Some(&TM_NAMES[tm::CLOSE][2..]);
        }
        self.tm_calls
            .iter()
            .rev()
            .find(|c| c.0 == idx)
            // Finalizers keep the underscores (C Lua's CIST_FIN case).
            .map(|c| &TM_NAMES[c.1][if c.1 == tm::GC { 0 } else { 2 }..])
    }

    /// Calls `f` with `args` from the host and returns its first result.
    pub fn call1(&mut self, f: Value, args: &[Value]) -> LResult<Value> {
        let old_top = self.top;
        self.call_n(f, args, 1)?;
        // In halves: the callee's return just wrote it so (a whole-value
        // load of it stalls; perf on __index functions).
        let v = self.stack[self.top - 1].split_copy();
        self.top = old_top;
        Ok(v)
    }

    /// The first free slot above the running Lua frame's registers and any
    /// values a native pushed.
    pub(crate) fn safe_top(&self) -> usize {
        let mut t = self.top;
        if let Some(f) = self.frames.last()
            && let Value::Func(h) = self.stack[f.func]
            && let Func::Lua { proto, .. } = self.heap.funcs.get(h)
        {
            t = t.max(f.base + proto.maxstack as usize);
        }
        t
    }

    /// Calls `f` with `args` from the host; the results (`nres`, or all when
    /// negative) are left at the top of the stack; returns their count.
    pub fn call_n(&mut self, f: Value, args: &[Value], nres: i32) -> LResult<usize> {
        let old_top = self.top;
        self.top = self.safe_top();
        let func = self.top;
        if nres == 0 {
            self.push(f);
            for &a in args {
                self.push(a);
            }
            let r = self.call_at(func, args.len(), 0);
            self.top = old_top;
            return r;
        }
        self.push(f);
        for &a in args {
            self.push(a);
        }
        self.call_at(func, args.len(), nres)
    }

    /// Calls the function at `func` with the `nargs` values after it; results
    /// start at `func` and end at `self.top`.
    pub fn call_at(&mut self, func: usize, nargs: usize, nres: i32) -> LResult<usize> {
        self.host_series(|vm| {
            let np = std::mem::replace(&mut vm.native_parent, false);
            let r = vm.call_at_inner(func, nargs, nres);
            vm.native_parent = np;
            r
        })
    }

    fn call_at_inner(&mut self, func: usize, nargs: usize, nres: i32) -> LResult<usize> {
        // A fixed-arity Lua function without hooks (a sort comparator, a
        // callback, a metamethod) gets its frame here, without `precall`'s
        // general path.
        let lua = match self.stack[func] {
            Value::Func(h) => match self.heap.funcs.get(h) {
                Func::Lua { proto, .. } if !proto.vararg => {
                    Some((proto.nparams as usize, proto.maxstack as usize))
                }
                _ => None,
            },
            _ => None,
        };
        if let Some((np, ms)) = lua
            && self.hook_mask == 0
            && self.frames.len() < MAX_FRAMES
        {
            self.ensure_stack(func + 1 + ms + 1)?;
            self.enter_from_host(func, nargs, np, nres);
            self.run()?;
        } else if self.precall(func, nargs, nres, Protect::None, func, true)? {
            self.run()?;
        }
        let n = self.top - func;
        if nres >= 0 {
            let want = nres as usize;
            for i in n..want {
                self.stack[func + i] = Value::Nil;
            }
            self.top = func + want;
            return Ok(want);
        }
        Ok(n)
    }

    /// Runs `f`, a native's calls into Lua (one in `call_at`; a series
    /// through [`Vm::call_in_series`] in sort's comparisons) with the
    /// host-depth check, and the marks that the Lua code runs under a
    /// native (the depth, the thread's non-yieldable count), taken once for
    /// the whole series.
    #[inline]
    pub(crate) fn host_series<R>(
        &mut self,
        f: impl FnOnce(&mut Vm<'h>) -> LResult<R>,
    ) -> LResult<R> {
        if self.depth >= MAX_HOST_DEPTH {
            rt!(self, "stack overflow (C stack overflow)");
        }
        self.depth += 1;
        self.heap.threads.get_mut(self.cur).nny += 1;
        let cur = self.cur;
        let r = f(self);
        if let Some(t) = self
            .heap
            .threads
            .slots
            .get_mut(cur as usize)
            .and_then(|t| t.as_mut())
        {
            t.nny = t.nny.saturating_sub(1);
        }
        self.depth -= 1;
        r
    }

    /// One call of a series ([`Vm::host_series`]): the fixed-arity Lua
    /// function at `func` (`np` parameters, frame size `ms`, read once by
    /// the caller) with the `nargs` values after it, one result left at
    /// `func`. Hooks, a full frame list or a short stack take `call_at`.
    pub(crate) fn call_in_series(
        &mut self,
        func: usize,
        nargs: usize,
        np: usize,
        ms: usize,
    ) -> LResult<()> {
        let base = func + 1;
        if self.hook_mask != 0
            || self.frames.len() >= MAX_FRAMES
            || base + ms + 1 > self.stack.len()
        {
            self.call_at(func, nargs, 1)?;
            return Ok(());
        }
        let saved = std::mem::replace(&mut self.native_parent, false);
        self.enter_from_host(func, nargs, np, 1);
        let r = self.run();
        self.native_parent = saved;
        r?;
        if self.top == func {
            self.stack[func] = Value::Nil;
        }
        self.top = func + 1;
        Ok(())
    }

    /// Enters the fixed-arity Lua function at `func` (`np` parameters,
    /// `nargs` given, the stack already long enough) from the host: missing
    /// parameters nil, a frame returning `nresults` values to `func`.
    #[inline(always)]
    fn enter_from_host(&mut self, func: usize, nargs: usize, np: usize, nresults: i32) {
        let base = func + 1;
        for i in nargs.min(np)..np {
            self.stack[base + i] = Value::Nil;
        }
        self.frames.push(Frame {
            func,
            base,
            pc: 0,
            nresults,
            nvarargs: 0,
            protect: Protect::None,
            host_entry: true,
            tm_close: false,
            redo: false,
            tail: false,
            ret: func,
        });
    }

    pub(crate) fn ensure_stack(&mut self, n: usize) -> LResult<()> {
        if n > self.stack.len() {
            let max = MAX_STACK + if self.err_slack { 200 } else { 0 };
            if n > max {
                return Err(self.stack_overflow());
            }
            let old = self.stack.len();
            self.stack.resize(n.max(old * 2).min(max + 64), Value::Nil);
            self.heap.bytes += (self.stack.len() - old) * 16;
        }
        Ok(())
    }

    fn stack_overflow(&mut self) -> LErr {
        self.rt_error("stack overflow")
    }

    /// Starts a call of the value at `func` with `nargs` arguments. Returns
    /// `true` when a Lua frame was pushed (the loop must run it); for natives
    /// the results are already in place at `ret`, with `self.top` after them.
    pub fn precall(
        &mut self,
        func: usize,
        nargs: usize,
        nresults: i32,
        protect: Protect,
        ret: usize,
        host_entry: bool,
    ) -> LResult<bool> {
        match self.precall_inner(func, nargs, nresults, protect, ret, host_entry) {
            Err(LErr::Rt(e)) if protect != Protect::None => {
                let e = if protect == Protect::Xpcall {
                    let handler = self.stack[ret + 1];
                    self.call_handler(handler, e)
                } else {
                    e
                };
                self.ensure_stack(ret + 3)?;
                self.stack[ret] = Value::Bool(false);
                self.stack[ret + 1] = e;
                self.adjust(ret, 2, nresults);
                Ok(false)
            }
            r => r,
        }
    }

    #[inline(never)]
    fn precall_inner(
        &mut self,
        func: usize,
        nargs: usize,
        nresults: i32,
        protect: Protect,
        ret: usize,
        host_entry: bool,
    ) -> LResult<bool> {
        // Matched in place: a host call writes the function just before
        // (in halves), and a whole-value load of it would stall.
        let h = match self.stack[func] {
            Value::Func(h) => h,
            f => {
                let tmv = self.get_tm(f, tm::CALL);
                if tmv.is_nil() {
                    let desc = self.describe_call(func);
                    return Err(self.type_error(f, "call", desc));
                }
                self.ensure_stack(func + nargs + 2)?;
                self.stack.copy_within(func..func + nargs + 1, func + 1);
                self.stack[func] = tmv;
                return self.precall_inner(func, nargs + 1, nresults, protect, ret, host_entry);
            }
        };
        match self.heap.funcs.get(h) {
            Func::Lua { proto, .. } => {
                let (np, vararg, maxstack) = (
                    proto.nparams as usize,
                    proto.vararg,
                    proto.maxstack as usize,
                );
                if self.frames.len() >= MAX_FRAMES + if self.err_slack { 50 } else { 0 } {
                    return Err(self.stack_overflow());
                }
                let mut fslot = func;
                let mut nvar = 0;
                if vararg {
                    nvar = nargs.saturating_sub(np);
                    if nvar > 0 {
                        // Move the function and fixed parameters above the
                        // extra arguments, which stay where they are.
                        let newf = func + 1 + nargs;
                        self.ensure_stack(newf + 1 + maxstack + 1)?;
                        self.stack[newf] = self.stack[func];
                        for i in 0..np {
                            self.stack[newf + 1 + i] = self.stack[func + 1 + i];
                        }
                        fslot = newf;
                    }
                }
                let base = fslot + 1;
                self.ensure_stack(base + maxstack + 1)?;
                for i in nargs.min(np)..np {
                    self.stack[base + i] = Value::Nil;
                }
                self.frames.push(Frame {
                    func: fslot,
                    base,
                    pc: 0,
                    nresults,
                    nvarargs: nvar,
                    protect,
                    host_entry,
                    tm_close: false,
                    redo: false,
                    tail: false,
                    ret,
                });
                if self.hook_mask & HOOK_LINE != 0 {
                    let at = self.frames.len() - 1;
                    if self.hook_pcs.len() <= at {
                        self.hook_pcs.resize(at + 1, usize::MAX);
                    }
                    self.hook_pcs[at] = usize::MAX;
                }
                if self.hook_mask & HOOK_CALL != 0 {
                    let ev = if std::mem::take(&mut self.tail_call) {
                        let at = self.frames.len() - 1;
                        self.frames[at].tail = true;
                        "tail call"
                    } else {
                        "call"
                    };
                    self.call_hook(ev, (1, np))?;
                }
                Ok(true)
            }
            Func::Native { f: nf, special, .. } => {
                let (nf, special) = (*nf, *special);
                match special {
                    Special::None => {}
                    Special::Pcall => {
                        if nargs == 0 {
                            rt!(self, "bad argument #1 to 'pcall' (value expected)");
                        }
                        return self.precall(
                            func + 1,
                            nargs - 1,
                            nresults,
                            Protect::Pcall,
                            ret,
                            host_entry,
                        );
                    }
                    Special::Xpcall => {
                        if nargs < 2 {
                            rt!(self, "bad argument #2 to 'xpcall' (value expected)");
                        }
                        // Swap f and the handler: handler at func+1, f at func+2.
                        self.stack.swap(func + 1, func + 2);
                        return self.precall(
                            func + 2,
                            nargs - 2,
                            nresults,
                            Protect::Xpcall,
                            ret,
                            host_entry,
                        );
                    }
                    Special::Pairs => {
                        let t = if nargs > 0 {
                            self.stack[func + 1]
                        } else {
                            Value::Nil
                        };
                        let mm = self.get_tm(t, tm::PAIRS);
                        if !mm.is_nil() {
                            self.stack[func] = mm;
                            let want = if nresults < 0 { 3 } else { nresults };
                            return self.precall_inner(func, 1, want, protect, ret, host_entry);
                        }
                    }
                    Special::Dofile => {
                        self.top = func + 1 + nargs;
                        let chunk = crate::lib_pkg::dofile_load(self, func + 1, nargs)?;
                        self.stack[func] = chunk;
                        return self.precall_inner(func, 0, nresults, protect, ret, host_entry);
                    }
                    Special::Resume | Special::Wrap | Special::Yield => {
                        return self
                            .co_call(special, h, func, nargs, nresults, protect, ret, host_entry);
                    }
                }
                self.top = func + 1 + nargs;
                self.ensure_stack(self.top + 20)?;
                let saved = std::mem::replace(
                    &mut self.native_parent,
                    protect != Protect::None || host_entry,
                );
                let saved_fn = std::mem::replace(&mut self.native_func, func);
                if self.hook_mask & HOOK_CALL != 0 {
                    self.native_hook(func, "call", (1, nargs))?;
                }
                let guarded = protect != Protect::None;
                if guarded {
                    self.protected_natives.push((
                        self.cur,
                        self.frames.len(),
                        Value::Func(h),
                        protect == Protect::Xpcall,
                    ));
                }
                let res = nf(self, func + 1, nargs);
                if guarded {
                    self.protected_natives.pop();
                }
                self.native_func = saved_fn;
                self.native_parent = saved;
                let n = res.inspect_err(|e| self.note_raised(h, e))?;
                if self.hook_mask & HOOK_RET != 0 {
                    let top = self.top;
                    self.native_hook(func, "return", ((top - n).saturating_sub(func), n))?;
                    self.top = top;
                }
                let src = self.top - n;
                self.finish_results(src, n, ret, nresults, protect);
                Ok(false)
            }
        }
    }

    /// Method `key` of strings when the string metatable's `__index` is a
    /// table that answers it without metamethods (the string library): one
    /// probe, without `index`'s general walk.
    #[inline]
    fn string_method(&mut self, key: Value) -> Option<Value> {
        let (Value::Str(s, _), Some(m)) = (key, self.string_meta) else {
            return None;
        };
        let Value::Table(ih) = self.tm_of(m, tm::INDEX) else {
            return None;
        };
        let it = self.heap.tables.get(ih);
        let w = it.get_str(s);
        (!w.is_nil() || it.meta.is_none()).then_some(w)
    }

    /// Records native `h` as where error `e` was raised, unless the same
    /// error already passed out of an inner native (the innermost keeps it).
    #[cold]
    fn note_raised(&mut self, h: u32, e: &LErr) {
        if let LErr::Rt(v) = *e
            && !self.raised_by.is_some_and(|(_, r)| r.raw_eq(v))
        {
            self.raised_by = Some((Value::Func(h), v));
        }
    }

    /// A call from Lua of native `nf` (handle `h`, not special, no hooks
    /// set) at `func`: `precall_inner`'s native path without what applies
    /// only to protected calls, host entries and hooks.
    #[inline(never)]
    fn call_native(
        &mut self,
        func: usize,
        nargs: usize,
        nres: i32,
        h: u32,
        nf: NativeFn,
    ) -> LResult<()> {
        self.top = func + 1 + nargs;
        self.ensure_stack(self.top + 20)?;
        let saved = std::mem::replace(&mut self.native_parent, false);
        let saved_fn = std::mem::replace(&mut self.native_func, func);
        let res = nf(self, func + 1, nargs);
        self.native_func = saved_fn;
        self.native_parent = saved;
        let n = res.inspect_err(|e| self.note_raised(h, e))?;
        // The native may have set a hook (`debug.sethook`): its own return
        // is the first event.
        if self.hook_mask & HOOK_RET != 0 {
            let top = self.top;
            self.native_hook(func, "return", ((top - n).saturating_sub(func), n))?;
            self.top = top;
        }
        let src = self.top - n;
        self.finish_results(src, n, func, nres, Protect::None);
        Ok(())
    }

    fn call_handler(&mut self, handler: Value, e: Value) -> Value {
        // As C Lua, a message handler gets room past the stack limits (it
        // often runs because of a stack overflow).
        let saved = std::mem::replace(&mut self.err_slack, true);
        let native = self
            .raised_by
            .filter(|(_, r)| r.raw_eq(e))
            .map_or(Value::Nil, |(f, _)| f);
        let outer = self.handling.replace((self.cur, self.frames.len(), native));
        let r = self.call1(handler, &[e]);
        self.handling = outer;
        self.err_slack = saved;
        match r {
            Ok(v) => v,
            Err(_) => self.str(b"error in error handling"),
        }
    }

    /// Moves `n` results from `src` to `ret` (after `true` for protected
    /// calls) and pads to `nresults`.
    fn finish_results(
        &mut self,
        src: usize,
        n: usize,
        ret: usize,
        nresults: i32,
        protect: Protect,
    ) {
        let (dst, n) = if protect != Protect::None {
            self.stack[ret] = Value::Bool(true);
            (ret + 1, n + 1)
        } else {
            (ret, n)
        };
        // Moving results is work a script controls (a chain of `return
        // xpcall(...)` grows them by one a level): the budget pays for it,
        // and the next check point stops a run that overdrew it.
        self.budget -= n as i64;
        if dst != src {
            for i in 0..n - usize::from(protect != Protect::None) {
                self.stack[dst + i] = self.stack[src + i];
            }
        }
        self.adjust(ret, n, nresults);
    }

    /// Pads or cuts `n` results at `ret` to `nresults` and sets the top.
    fn adjust(&mut self, ret: usize, n: usize, nresults: i32) {
        if nresults < 0 {
            self.top = ret + n;
        } else {
            let want = nresults as usize;
            if ret + want > self.stack.len() {
                self.stack.resize(ret + want + 8, Value::Nil);
            }
            for i in n..want {
                self.stack[ret + i] = Value::Nil;
            }
            self.top = ret + want;
        }
    }

    fn describe_call(&self, func: usize) -> Option<String> {
        let f = self.frames.last()?;
        if f.base > func {
            return None;
        }
        let reg = func - f.base;
        self.describe_reg(self.frames.len() - 1, reg)
    }

    /// A description of register `reg` of frame `fi` at its current pc, as
    /// C Lua gives in messages ("global 'x'", "local 'y'", "field 'z'").
    pub fn describe_reg(&self, fi: usize, reg: usize) -> Option<String> {
        let f = self.frames.get(fi)?;
        let Value::Func(h) = self.stack[f.func] else {
            return None;
        };
        let Func::Lua { proto, .. } = self.heap.funcs.get(h) else {
            return None;
        };
        let pc = f.pc.saturating_sub(1);
        crate::debuginfo::describe(&self.heap, proto, pc, reg)
    }

    /// Closes upvalues at stack index `level` and above.
    pub fn close_upvals(&mut self, level: usize) {
        while let Some(&(idx, h)) = self.open.last() {
            if (idx as usize) < level {
                break;
            }
            self.open.pop();
            let v = self.stack[idx as usize];
            *self.heap.upvals.get_mut(h) = UpVal::Closed(v);
        }
    }

    /// On a normal block exit or return: starts the `__close` metamethod of
    /// the innermost pending to-be-closed variable as a call in the loop
    /// (so it may yield), placed at `slot` above every live register; the
    /// frame `fi` then runs its instruction again, which closes the next
    /// variable or completes.
    fn close_next(&mut self, fi: usize, slot: usize) -> LResult<()> {
        let Some(idx) = self.tbc.pop() else {
            return Ok(());
        };
        let v = self.stack[idx];
        if !v.truthy() {
            self.frames[fi].redo = true;
            return Ok(());
        }
        let tmv = self.get_tm(v, tm::CLOSE);
        if tmv.is_nil() {
            return Err(self.type_error(tmv, "call", Some("metamethod 'close'".into())));
        }
        self.frames[fi].redo = true;
        self.ensure_stack(slot + 4)?;
        self.stack[slot] = tmv;
        self.stack[slot + 1] = v;
        self.stack[slot + 2] = Value::Nil;
        self.top = slot + 3;
        if self.precall(slot, 2, 0, Protect::None, slot, false)?
            && let Some(f) = self.frames.last_mut()
        {
            f.tm_close = true;
        }
        Ok(())
    }

    /// Calls the script's hook for `event` unless a hook is running; the
    /// function the event is about is the top frame.
    /// `transfer`: the first value passed (as a local's index) and how many.
    pub fn call_hook(&mut self, event: &str, transfer: (usize, usize)) -> LResult<()> {
        self.call_hook_line(event, None, transfer)
    }

    fn call_hook_line(
        &mut self,
        event: &str,
        line: Option<i64>,
        transfer: (usize, usize),
    ) -> LResult<()> {
        if self.in_hook {
            return Ok(());
        }
        self.hook_transfer = transfer;
        let h = self.hook_fn(Value::Thread(self.cur));
        if h.is_nil() {
            return Ok(());
        }
        let ev = self.str(event.as_bytes());
        self.in_hook = true;
        self.hook_frame = Some((self.cur, self.frames.len()));
        let r = match line {
            Some(l) => self.call_n(h, &[ev, Value::Int(l)], 0),
            // As C Lua, the line argument is always there (nil if none).
            None => self.call_n(h, &[ev, Value::Nil], 0),
        };
        self.hook_frame = None;
        self.in_hook = false;
        r.map(|_| ())
    }

    /// The hook function of thread `th` (nil for none): the registry's
    /// `_HOOKKEY` table, weak-keyed by thread, holds them, as in C Lua.
    pub fn hook_fn(&mut self, th: Value) -> Value {
        match self.get_field(self.registry, "_HOOKKEY") {
            Value::Table(t) => self.heap.tables.get(t).get(th),
            _ => Value::Nil,
        }
    }

    /// Whether line or count hooks run in the loop.
    #[inline]
    fn line_hooks(&self) -> bool {
        self.hook_mask & (HOOK_LINE | HOOK_COUNT) != 0 && !self.in_hook
    }

    /// Count and line events before instruction `pc` of frame `fi`, as C
    /// Lua's: a line event when the function starts, when the line changes
    /// and on a jump back.
    #[inline(never)]
    fn trace_exec(&mut self, fi: usize, pc: usize, proto: &Proto) -> LResult<()> {
        if self.hook_mask & HOOK_COUNT != 0 {
            self.hook_count.1 = self.hook_count.1.saturating_sub(1);
            if self.hook_count.1 == 0 {
                self.hook_count.1 = self.hook_count.0;
                self.call_hook("count", (0, 0))?;
            }
        }
        if self.hook_mask & HOOK_LINE != 0 {
            if self.hook_pcs.len() <= fi {
                self.hook_pcs.resize(fi + 1, usize::MAX);
            }
            let old = self.hook_pcs[fi];
            self.hook_pcs[fi] = pc;
            // Stripped code (no lines): events on entry and jumps back
            // only, with a nil line, as C Lua.
            let line = proto.lines.get(pc).copied();
            let fire = old == usize::MAX
                || pc <= old
                || (line.is_some() && proto.lines.get(old).copied() != line);
            if fire {
                self.call_hook_line("line", line.map(i64::from), (0, 0))?;
            }
        }
        Ok(())
    }

    /// A hook event of the native at stack slot `func`: a frame stands for
    /// it while the hook runs, so `debug.getinfo(2)` describes it.
    fn native_hook(&mut self, func: usize, event: &str, transfer: (usize, usize)) -> LResult<()> {
        if self.in_hook {
            return Ok(());
        }
        let at = self.frames.len();
        self.frames.push(Frame {
            func,
            base: func + 1,
            pc: 0,
            nresults: 0,
            nvarargs: 0,
            protect: Protect::None,
            host_entry: false,
            ret: func,
            tm_close: false,
            redo: false,
            tail: false,
        });
        let r = self.call_hook(event, transfer);
        self.frames.truncate(at);
        r
    }

    /// One step of a `Protect::Closing` frame `fi`: starts the next
    /// `__close` metamethod with the error, or, when none is left, delivers
    /// `false, error` to the protected call's caller. `Ok(true)`: the run
    /// ends (the protected call came from the host).
    fn closing_step(&mut self, fi: usize) -> LResult<bool> {
        let f = self.frames[fi];
        let e = self.stack[f.base];
        if let Some(&idx) = self.tbc.last()
            && idx >= f.pc
        {
            self.tbc.pop();
            let v = self.stack[idx];
            if !v.truthy() {
                return Ok(false);
            }
            let tmv = self.get_tm(v, tm::CLOSE);
            if tmv.is_nil() {
                return Err(self.type_error(tmv, "call", Some("metamethod 'close'".into())));
            }
            let slot = f.base + 1;
            self.ensure_stack(slot + 4)?;
            self.stack[slot] = tmv;
            self.stack[slot + 1] = v;
            self.stack[slot + 2] = e;
            self.top = slot + 3;
            if self.precall(slot, 2, 0, Protect::None, slot, false)?
                && let Some(fr) = self.frames.last_mut()
            {
                fr.tm_close = true;
            }
            return Ok(false);
        }
        self.frames.truncate(fi);
        self.stack[f.ret] = Value::Bool(false);
        self.stack[f.ret + 1] = e;
        self.adjust(f.ret, 2, f.nresults);
        Ok(f.host_entry)
    }

    /// Closes the frame's upvalues and starts its next `__close` when a
    /// return finds pending to-be-closed variables (results at `src`, `n`).
    fn return_close(&mut self, fi: usize, src: usize, n: usize) -> LResult<()> {
        let f = self.frames[fi];
        if !self.open.is_empty() {
            self.close_upvals(f.func - f.nvarargs);
        }
        let above = self.tbc.last().map_or(0, |&t| t + 1);
        self.close_next(fi, (src + n).max(above))
    }

    /// Runs `__close` of to-be-closed variables at `level` and above.
    /// Runs `__close` of to-be-closed variables at `level` and above, last
    /// first. With an error, each handler gets the current error and an
    /// error raised by a handler replaces it; returns the final error. On a
    /// normal exit, a handler's error still closes the rest, then propagates.
    fn close_tbc(&mut self, level: usize, err: Option<Value>) -> LResult<Option<Value>> {
        let mut cur = err;
        let mut raised = false;
        // The current error lives only here between handlers: root it.
        let root = self.roots.len();
        self.roots.push(cur.unwrap_or(Value::Nil));
        while let Some(&idx) = self.tbc.last() {
            if idx < level {
                break;
            }
            self.tbc.pop();
            let v = self.stack[idx];
            if !v.truthy() {
                continue;
            }
            let tmv = self.get_tm(v, tm::CLOSE);
            let saved_top = self.top;
            self.top = self.top.max(idx + 1);
            let r = if tmv.is_nil() {
                // The metamethod went away after the variable was declared.
                Err(self.type_error(tmv, "call", Some("metamethod 'close'".into())))
            } else {
                self.tm_calls.push((self.frames.len(), tm::CLOSE));
                let r = self.call_n(tmv, &[v, cur.unwrap_or(Value::Nil)], 0);
                self.tm_calls.pop();
                r
            };
            match r {
                Ok(_) => {}
                Err(LErr::Rt(e)) => {
                    cur = Some(e);
                    self.roots[root] = e;
                    raised = true;
                }
                Err(other) => {
                    self.roots.truncate(root);
                    return Err(other);
                }
            }
            self.top = saved_top;
        }
        self.roots.truncate(root);
        if raised && err.is_none() {
            return Err(LErr::Rt(cur.unwrap_or(Value::Nil)));
        }
        Ok(cur)
    }

    fn find_upval(&mut self, idx: usize) -> u32 {
        // Open upvalues are kept sorted by index.
        let pos = self.open.partition_point(|&(i, _)| (i as usize) < idx);
        if let Some(&(i, h)) = self.open.get(pos)
            && i as usize == idx
        {
            return h;
        }
        let h = self.heap.new_upval(UpVal::Open(self.cur, idx as u32));
        self.open.insert(pos, (idx as u32, h));
        h
    }

    /// Reads an upvalue.
    #[inline(always)]
    pub fn upval_get(&self, h: u32) -> Value {
        match *self.heap.upvals.get(h) {
            UpVal::Closed(v) => v,
            UpVal::Open(t, i) => {
                if t == self.cur {
                    self.stack[i as usize]
                } else {
                    self.heap.threads.get(t).stack[i as usize]
                }
            }
        }
    }

    /// Writes an upvalue.
    #[inline]
    pub fn upval_set(&mut self, h: u32, v: Value) {
        match *self.heap.upvals.get(h) {
            UpVal::Closed(_) => *self.heap.upvals.get_mut(h) = UpVal::Closed(v),
            UpVal::Open(t, i) => {
                if t == self.cur {
                    self.stack[i as usize] = v;
                } else {
                    self.heap.threads.get_mut(t).stack[i as usize] = v;
                }
            }
        }
    }

    /// Runs frames until the frame entered from the host returns. Errors are
    /// caught by pcall frames above that frame, or returned.
    pub fn run(&mut self) -> LResult<()> {
        loop {
            match self.execute() {
                Ok(()) => return Ok(()),
                Err(LErr::Rt(v)) => {
                    if self.handle_error(v)? {
                        return Ok(());
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Unwinds to the nearest protected frame (continuing there) or to the
    /// host entry (returning the error); a coroutine with no handler dies
    /// and its resumer gets the error. `Ok(true)`: the run ends.
    fn handle_error(&mut self, e: Value) -> LResult<bool> {
        let mut e = e;
        // As C Lua, the message handler of the nearest `xpcall` runs where
        // the error is raised, before any frame is unwound (host
        // boundaries included), so a traceback sees them all.
        // A pcall'd native above that frame catches the error first.
        let native_catch = self
            .protected_natives
            .iter()
            .rev()
            .find(|e| e.0 == self.cur)
            .map(|e| e.1);
        if let Some(i) = self.frames.iter().rposition(|f| f.protect != Protect::None)
            && matches!(
                self.frames[i].protect,
                Protect::Xpcall | Protect::Closing(true)
            )
            && native_catch.is_none_or(|at| at <= i)
            && !self.handled_at.is_some_and(|(j, v)| j == i && v.raw_eq(e))
        {
            let handler = self.stack[self.frames[i].ret + 1];
            e = self.call_handler(handler, e);
            self.handled_at = Some((i, e));
        }
        loop {
            let mut i = self.frames.len();
            let mut found = None;
            while i > 0 {
                i -= 1;
                let f = self.frames[i];
                if f.protect != Protect::None {
                    found = Some(i);
                    break;
                }
                if f.host_entry {
                    break;
                }
            }
            if let Some(i) = found {
                let f = self.frames[i];
                let handled = self
                    .handled_at
                    .take()
                    .is_some_and(|(j, v)| j == i && v.raw_eq(e));
                if matches!(f.protect, Protect::Xpcall | Protect::Closing(true)) && !handled {
                    let handler = self.stack[f.ret + 1];
                    e = self.call_handler(handler, e);
                }
                if let Protect::Closing(_) = f.protect {
                    // An error in a `__close` metamethod run after an error:
                    // it replaces the error, and closing goes on.
                    self.close_upvals(f.base + 1);
                    self.frames.truncate(i + 1);
                    self.stack[f.base] = e;
                    return Ok(false);
                }
                let level = f.func - f.nvarargs;
                self.close_upvals(level);
                self.frames.truncate(i);
                if self.tbc.last().is_some_and(|&t| t >= level) {
                    let at = self.tbc.last().map_or(level, |&t| t + 1).max(level);
                    self.ensure_stack(at + 8)?;
                    self.stack[at] = Value::Nil;
                    self.stack[at + 1] = e;
                    self.frames.push(Frame {
                        func: at,
                        base: at + 1,
                        pc: level,
                        nresults: f.nresults,
                        ret: f.ret,
                        nvarargs: 0,
                        protect: Protect::Closing(f.protect == Protect::Xpcall),
                        host_entry: f.host_entry,
                        tm_close: false,
                        redo: false,
                        tail: false,
                    });
                    return Ok(false);
                }
                self.stack[f.ret] = Value::Bool(false);
                self.stack[f.ret + 1] = e;
                self.adjust(f.ret, 2, f.nresults);
                return Ok(f.host_entry);
            }
            if let Some(k) = self.frames.iter().rposition(|f| f.host_entry) {
                self.note_escape(e);
                let f = self.frames[k];
                self.close_upvals(f.func - f.nvarargs);
                self.frames.truncate(k);
                let e = self.close_tbc(f.func - f.nvarargs, Some(e))?.unwrap_or(e);
                return Err(LErr::Rt(e));
            }
            // Bottom of a coroutine: it dies and its resumer gets the error.
            if self.cur == 0 || self.heap.threads.get(self.cur).resumer.is_none() {
                return Err(LErr::Rt(e));
            }
            self.close_upvals(0);
            e = self.close_tbc(0, Some(e))?.unwrap_or(e);
            // The frames stay for `debug.traceback` of the dead coroutine.
            let raiser = self.raised_by.filter(|(_, r)| r.raw_eq(e)).map(|(f, _)| f);
            let th = self.heap.threads.get_mut(self.cur);
            th.status = Some(CoStatus::Dead);
            th.error = Some(e);
            th.raiser = raiser;
            match self.co_deliver(false, vec![e]) {
                Ok(()) => return Ok(false),
                // A wrap function a native called: the error is that
                // native's, not the frames below it.
                Err(LErr::Rt(err)) if std::mem::take(&mut self.exit_run) => {
                    return Err(LErr::Rt(err));
                }
                Err(LErr::Rt(err)) => e = err,
                Err(other) => return Err(other),
            }
        }
    }

    /// Takes the traceback of an error that may end the script (see
    /// [`Vm::escaping`]); the same error crossing further host boundaries
    /// keeps the first, fuller one.
    fn note_escape(&mut self, e: Value) {
        let caught_below = self.frames.iter().any(|f| f.protect != Protect::None)
            || self.protected_natives.iter().any(|e| e.0 == self.cur);
        if self.cur != 0 || caught_below || self.escaping.as_ref().is_some_and(|(v, _)| v.raw_eq(e))
        {
            return;
        }
        let native = self
            .raised_by
            .filter(|(_, r)| r.raw_eq(e))
            .map_or(Value::Nil, |(f, _)| f);
        let outer = self.handling.replace((self.cur, self.frames.len(), native));
        let mut text = Vec::new();
        crate::lib_debug::append_traceback(self, None, 1, &mut text);
        self.handling = outer;
        self.escaping = Some((e, text));
    }

    /// Makes thread `t` the running one, saving the current one's state.
    pub fn switch_to(&mut self, t: u32) {
        // Swapped, not taken and stored: the running thread's own vectors
        // are empty while it runs, so two swaps move everything and nothing
        // is dropped.
        let cur = self.cur;
        let th = self.heap.threads.get_mut(cur);
        std::mem::swap(&mut th.stack, &mut self.stack);
        std::mem::swap(&mut th.frames, &mut self.frames);
        std::mem::swap(&mut th.open, &mut self.open);
        std::mem::swap(&mut th.tbc, &mut self.tbc);
        th.top = self.top;
        // Hooks are per thread (a coroutine has its own).
        th.hook = (
            self.hook_mask,
            self.hook_count,
            std::mem::take(&mut self.hook_pcs),
        );
        let th = self.heap.threads.get_mut(t);
        std::mem::swap(&mut th.stack, &mut self.stack);
        std::mem::swap(&mut th.frames, &mut self.frames);
        std::mem::swap(&mut th.open, &mut self.open);
        std::mem::swap(&mut th.tbc, &mut self.tbc);
        (self.hook_mask, self.hook_count, self.hook_pcs) = std::mem::take(&mut th.hook);
        self.top = th.top;
        self.cur = t;
    }

    /// Places `vals` at `ret` (after `true` under pcall) as a call's results.
    fn place(
        &mut self,
        ret: usize,
        mut vals: Vec<Value>,
        nresults: i32,
        protect: Protect,
    ) -> LResult<()> {
        if protect != Protect::None {
            vals.insert(0, Value::Bool(true));
        }
        let n = vals.len();
        self.ensure_stack(ret + n.max(nresults.max(0) as usize) + 8)?;
        self.stack[ret..ret + n].copy_from_slice(&vals);
        self.adjust(ret, n, nresults);
        if vals.capacity() <= XFER_KEEP {
            self.xfer = vals;
        }
        Ok(())
    }

    /// The running coroutine stops (yield, return or error): its resumer
    /// runs again with the values. `Ok(true)` when the run loop must end.
    fn co_deliver(&mut self, ok: bool, vals: Vec<Value>) -> LResult<()> {
        let co = self.cur;
        let Some(r) = self.heap.threads.get_mut(co).resumer.take() else {
            return Err(LErr::Rt(vals.first().copied().unwrap_or(Value::Nil)));
        };
        self.switch_to(r);
        self.co_depth = self.co_depth.saturating_sub(1);
        self.heap.threads.get_mut(r).status = Some(CoStatus::Running);
        let Some(at) = self.heap.threads.get_mut(r).resume_at.take() else {
            rt!(self, "internal: resumer without a resume point");
        };
        if at.wrap {
            if !ok {
                let e = vals.first().copied().unwrap_or(Value::Nil);
                if at.protect != Protect::None {
                    self.place(
                        at.ret,
                        vec![Value::Bool(false), e],
                        at.nresults,
                        Protect::None,
                    )?;
                    self.exit_run = at.host_entry;
                    return Ok(());
                }
                if at.host_entry {
                    self.exit_run = true;
                    return Err(LErr::Rt(e));
                }
                // As C Lua's wrap, a string error gets the position of the
                // call.
                if let Value::Str(h, _) = e {
                    let mut s = self.where_(1).into_bytes();
                    if !s.is_empty() {
                        s.extend_from_slice(self.heap.str(h));
                        return Err(LErr::Rt(self.str(&s)));
                    }
                }
                return Err(LErr::Rt(e));
            }
            self.place(at.ret, vals, at.nresults, at.protect)?;
        } else {
            let mut all = vals;
            all.insert(0, Value::Bool(ok));
            self.place(at.ret, all, at.nresults, at.protect)?;
        }
        if at.host_entry {
            self.exit_run = true;
        }
        Ok(())
    }

    /// The `n` values at `src` in the spare transfer buffer.
    fn take_xfer(&mut self, src: usize, n: usize) -> Vec<Value> {
        let mut vals = std::mem::take(&mut self.xfer);
        vals.clear();
        vals.extend_from_slice(&self.stack[src..src + n]);
        vals
    }

    /// The coroutine's main function returned `n` values at `src`.
    fn co_return(&mut self, src: usize, n: usize) -> LResult<()> {
        let vals = self.take_xfer(src, n);
        self.heap.threads.get_mut(self.cur).status = Some(CoStatus::Dead);
        self.co_deliver(true, vals)
    }

    /// resume, wrap and yield, called by the loop. `Ok(true)`: reload frame.
    #[allow(clippy::too_many_arguments)]
    fn co_call(
        &mut self,
        special: Special,
        h: u32,
        func: usize,
        nargs: usize,
        nresults: i32,
        protect: Protect,
        ret: usize,
        host_entry: bool,
    ) -> LResult<bool> {
        if special == Special::Yield {
            let co = self.cur;
            if co == 0 || self.heap.threads.get(co).resumer.is_none() {
                rt!(self, "attempt to yield from outside a coroutine");
            }
            if self.heap.threads.get(co).nny > 0 {
                rt!(self, "attempt to yield across a C-call boundary");
            }
            let vals = self.take_xfer(func + 1, nargs);
            let th = self.heap.threads.get_mut(co);
            th.yield_at = Some((ret, nresults, protect));
            th.status = Some(CoStatus::Suspended);
            self.co_deliver(true, vals)?;
            return Ok(true);
        }
        let (co, args) = if special == Special::Wrap {
            let Func::Native { upvals, .. } = self.heap.funcs.get(h) else {
                return Ok(false);
            };
            let Value::Thread(t) = upvals[0] else {
                return Ok(false);
            };
            (t, func + 1)
        } else {
            match self.stack.get(func + 1).copied() {
                Some(Value::Thread(t)) if nargs >= 1 => (t, func + 2),
                _ => rt!(self, "bad argument #1 to 'resume' (coroutine expected)"),
            }
        };
        let vals = self.take_xfer(args, func + 1 + nargs - args);
        let status = self.heap.threads.get(co).status;
        if status != Some(CoStatus::Suspended) {
            let msg = if status == Some(CoStatus::Dead) {
                "cannot resume dead coroutine"
            } else {
                "cannot resume non-suspended coroutine"
            };
            if special == Special::Wrap {
                rt!(self, "{msg}");
            }
            let m = self.str(msg.as_bytes());
            self.place(ret, vec![Value::Bool(false), m], nresults, protect)?;
            return Ok(false);
        }
        if self.depth + self.co_depth >= MAX_HOST_DEPTH {
            rt!(self, "C stack overflow");
        }
        self.co_depth += 1;
        let me = self.cur;
        self.heap.threads.get_mut(me).resume_at = Some(crate::heap::ResumeAt {
            ret,
            nresults,
            protect,
            wrap: special == Special::Wrap,
            host_entry,
        });
        self.heap.threads.get_mut(me).status = Some(CoStatus::Normal);
        self.switch_to(co);
        let th = self.heap.threads.get_mut(co);
        th.status = Some(CoStatus::Running);
        th.resumer = Some(me);
        if let Some(f) = th.pending.take() {
            self.stack.clear();
            self.stack.push(f);
            self.stack.extend_from_slice(&vals);
            self.top = self.stack.len();
            let n = vals.len();
            if self.precall(0, n, -1, Protect::None, 0, false)? {
                return Ok(true);
            }
            // A native body finished at once.
            let n = self.top;
            self.co_return(0, n)?;
            return Ok(true);
        }
        let Some((yret, ynres, yprot)) = self.heap.threads.get_mut(co).yield_at.take() else {
            rt!(self, "internal: suspended coroutine without yield point");
        };
        self.place(yret, vals, ynres, yprot)?;
        Ok(true)
    }
}

impl Vm<'_> {
    /// Arithmetic with metamethods and string coercion (slow path).
    #[inline(never)]
    pub fn arith(&mut self, op: u8, a: Value, b: Value) -> LResult<Value> {
        // Numbers the dispatch loop's arms leave here: an integer with a
        // float, an integer division.
        if let Some(v) = fast_arith(op, &a, &b) {
            return Ok(v);
        }
        let na = self.tonumber_arith(a);
        let nb = self.tonumber_arith(b);
        if let (Some(x), Some(y)) = (na, nb)
            && let Some(r) = self.arith_num(op, x, y)?
        {
            return Ok(r);
        }
        let ev = match op {
            ADD => tm::ADD,
            SUB => tm::SUB,
            MUL => tm::MUL,
            DIV => tm::DIV,
            MOD => tm::MOD,
            POW => tm::POW,
            IDIV => tm::IDIV,
            BAND => tm::BAND,
            BOR => tm::BOR,
            BXOR => tm::BXOR,
            SHL => tm::SHL,
            SHR => tm::SHR,
            UNM => tm::UNM,
            _ => tm::BNOT,
        };
        let mut h = self.get_tm(a, ev);
        if h.is_nil() {
            h = self.get_tm(b, ev);
        }
        if !h.is_nil() {
            return self.call_tm(h, ev, &[a, b]);
        }
        if matches!(a, Value::Str(_, _)) || matches!(b, Value::Str(_, _)) {
            // The string library's arithmetic metamethods word this error.
            let name = &TM_NAMES[ev][2..];
            let (ta, tb) = (self.type_name_mt(a), self.type_name_mt(b));
            if (na.is_some() && nb.is_some())
                || matches!(op, BAND | BOR | BXOR | SHL | SHR | BNOT)
                    && na.is_some()
                    && nb.is_some()
            {
                rt!(self, "number has no integer representation");
            }
            rt!(self, "attempt to {name} a '{ta}' with a '{tb}'");
        }
        let bitwise = matches!(op, BAND | BOR | BXOR | SHL | SHR | BNOT);
        let culprit = if bitwise {
            if na.is_some() && nb.is_some() {
                let bad = if to_int(na.unwrap_or(Value::Nil)).is_none() {
                    a
                } else {
                    b
                };
                let desc = self
                    .describe_operand(bad, a, b)
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                rt!(self, "number{desc} has no integer representation");
            }
            if na.is_none() { a } else { b }
        } else if na.is_none() {
            a
        } else {
            b
        };
        let what = if bitwise {
            "perform bitwise operation on"
        } else {
            "perform arithmetic on"
        };
        Err(self.arith_error(culprit, a, b, what))
    }

    fn arith_error(&mut self, culprit: Value, a: Value, b: Value, what: &str) -> LErr {
        // Describe the culprit from the instruction's operands.
        let desc = self.describe_operand(culprit, a, b);
        self.type_error(culprit, what, desc)
    }

    fn describe_operand(&self, culprit: Value, a: Value, b: Value) -> Option<String> {
        let fi = self.frames.len().checked_sub(1)?;
        let f = self.frames[fi];
        let Value::Func(h) = self.stack[f.func] else {
            return None;
        };
        let Func::Lua { proto, .. } = self.heap.funcs.get(h) else {
            return None;
        };
        let i = *proto.code.get(f.pc.checked_sub(1)?)?;
        let (rb, rc) = (gb(i), gc(i));
        let is_k = matches!(
            op(i),
            ADDK | SUBK | MULK | DIVK | MODK | POWK | IDIVK | BANDK | BORK | BXORK | ADDI
        );
        // ADDK/MULK with bit 7 of C: the register was the right operand.
        let swapped = matches!(op(i), ADDK | MULK) && rc & 0x80 != 0;
        let reg = if swapped {
            if culprit.raw_eq(b) && std::mem::discriminant(&culprit) == std::mem::discriminant(&b) {
                rb
            } else {
                return None;
            }
        } else if culprit.raw_eq(a)
            && std::mem::discriminant(&culprit) == std::mem::discriminant(&a)
        {
            rb
        } else if !is_k && culprit.raw_eq(b) {
            rc
        } else {
            return None;
        };
        let _ = b;
        self.describe_reg(fi, reg)
    }

    /// A number for arithmetic: numbers, and strings that read as numbers.
    #[inline]
    pub fn tonumber_arith(&self, v: Value) -> Option<Value> {
        match v {
            Value::Int(_) | Value::Num(_) => Some(v),
            Value::Str(h, _) => str_to_number(self.heap.str(h)),
            _ => None,
        }
    }

    /// Arithmetic on two numbers; `None` when a bitwise operand is not an
    /// integer.
    pub fn arith_num(&mut self, op: u8, a: Value, b: Value) -> LResult<Option<Value>> {
        use Value::{Int, Num};
        let f = |v: Value| match v {
            Int(i) => i as f64,
            Num(f) => f,
            _ => 0.0,
        };
        Ok(Some(match op {
            ADD | SUB | MUL | MOD | IDIV | UNM => match (a, b) {
                (Int(x), Int(y)) => match op {
                    ADD => Int(x.wrapping_add(y)),
                    SUB => Int(x.wrapping_sub(y)),
                    MUL => Int(x.wrapping_mul(y)),
                    UNM => Int(x.wrapping_neg()),
                    MOD => match imod(x, y) {
                        Some(r) => Int(r),
                        None => rt!(self, "attempt to perform 'n%0'"),
                    },
                    _ => match idiv(x, y) {
                        Some(r) => Int(r),
                        None => rt!(self, "attempt to divide by zero"),
                    },
                },
                _ => {
                    let (x, y) = (f(a), f(b));
                    Num(match op {
                        ADD => x + y,
                        SUB => x - y,
                        MUL => x * y,
                        UNM => -x,
                        MOD => fmod(x, y),
                        _ => (x / y).floor(),
                    })
                }
            },
            DIV => Num(f(a) / f(b)),
            POW => Num(f(a).powf(f(b))),
            _ => {
                let (Some(x), Some(y)) = (to_int(a), to_int(b)) else {
                    return Ok(None);
                };
                Int(match op {
                    BAND => x & y,
                    BOR => x | y,
                    BXOR => x ^ y,
                    SHL => shl(x, y),
                    SHR => shl(x, y.wrapping_neg()),
                    _ => !x,
                })
            }
        }))
    }

    /// `a < b` (or `<=` when `le`) with metamethods.
    #[inline(never)]
    pub fn less(&mut self, a: Value, b: Value, le: bool) -> LResult<bool> {
        use Value::{Int, Num, Str};
        Ok(match (a, b) {
            (Int(x), Int(y)) => {
                if le {
                    x <= y
                } else {
                    x < y
                }
            }
            (Num(x), Num(y)) => {
                if le {
                    x <= y
                } else {
                    x < y
                }
            }
            (Int(x), Num(y)) => int_float_less(x, y, le),
            (Num(x), Int(y)) => {
                // x < y  <=>  not (y <= x)
                if x.is_nan() {
                    false
                } else {
                    !int_float_less(y, x, !le)
                }
            }
            (Str(x, _), Str(y, _)) => {
                let (p, q) = (self.heap.str(x), self.heap.str(y));
                if le { p <= q } else { p < q }
            }
            _ => {
                let ev = if le { tm::LE } else { tm::LT };
                let mut h = self.get_tm(a, ev);
                if h.is_nil() {
                    h = self.get_tm(b, ev);
                }
                if h.is_nil() {
                    let (ta, tb) = (self.type_name_mt(a), self.type_name_mt(b));
                    if ta == tb {
                        rt!(self, "attempt to compare two {ta} values");
                    }
                    rt!(self, "attempt to compare {ta} with {tb}");
                }
                self.call_tm(h, ev, &[a, b])?.truthy()
            }
        })
    }

    /// `a == b` with `__eq`.
    #[inline(never)]
    pub fn equals(&mut self, a: Value, b: Value) -> LResult<bool> {
        if a.raw_eq(b) {
            return Ok(true);
        }
        match (a, b) {
            (Value::Table(_), Value::Table(_)) | (Value::UData(_), Value::UData(_)) => {
                let mut h = self.get_tm(a, tm::EQ);
                if h.is_nil() {
                    h = self.get_tm(b, tm::EQ);
                }
                if h.is_nil() {
                    return Ok(false);
                }
                Ok(self.call_tm(h, tm::EQ, &[a, b])?.truthy())
            }
            _ => Ok(false),
        }
    }

    /// `#v` with `__len`.
    #[inline(never)]
    pub fn len(&mut self, v: Value) -> LResult<Value> {
        match v {
            Value::Str(h, _) => Ok(Value::Int(self.heap.str(h).len() as i64)),
            Value::Table(h) => {
                if let Some(m) = self.heap.tables.get(h).meta {
                    let f = self.tm_of(m, tm::LEN);
                    if !f.is_nil() {
                        return self.call_tm(f, tm::LEN, &[v, v]);
                    }
                }
                Ok(Value::Int(self.heap.tables.get(h).len()))
            }
            _ => {
                let f = self.get_tm(v, tm::LEN);
                if f.is_nil() {
                    let desc = self.describe_operand(v, v, Value::Nil);
                    return Err(self.type_error(v, "get length of", desc));
                }
                self.call_tm(f, tm::LEN, &[v, v])
            }
        }
    }

    /// Appends the string form of a number or string to `out`; `false` for
    /// other values.
    pub fn append_str(&self, v: Value, out: &mut Vec<u8>) -> bool {
        match v {
            Value::Str(h, _) => out.extend_from_slice(self.heap.str(h)),
            Value::Int(i) => {
                use std::io::Write;
                let _ = write!(out, "{i}");
            }
            Value::Num(f) => out.extend_from_slice(fmt_float(f).as_bytes()),
            _ => return false,
        }
        true
    }

    /// Concatenates `n` values at `first` into `first`.
    #[inline(never)]
    fn concat(&mut self, first: usize, n: usize) -> LResult<()> {
        let mut n = n;
        while n > 1 {
            let top = first + n;
            let (a, b) = (self.stack[top - 2], self.stack[top - 1]);
            let a_ok = matches!(a, Value::Str(_, _) | Value::Int(_) | Value::Num(_));
            let b_ok = matches!(b, Value::Str(_, _) | Value::Int(_) | Value::Num(_));
            if a_ok && b_ok {
                // Take as many string-like values as possible at once.
                let mut k = 2;
                while k < n
                    && matches!(
                        self.stack[top - k - 1],
                        Value::Str(_, _) | Value::Int(_) | Value::Num(_)
                    )
                {
                    k += 1;
                }
                let mut buf = std::mem::take(&mut self.buf);
                buf.clear();
                for i in top - k..top {
                    self.append_str(self.stack[i], &mut buf);
                }
                self.check_mem(buf.len())?;
                let s = self.heap.str_value(&buf);
                self.buf = buf;
                self.stack[top - k] = s;
                n -= k - 1;
            } else {
                let mut h = self.get_tm(a, tm::CONCAT);
                if h.is_nil() {
                    h = self.get_tm(b, tm::CONCAT);
                }
                if h.is_nil() {
                    let culprit = if a_ok { b } else { a };
                    let fi = self.frames.len() - 1;
                    let reg = if a_ok { top - 1 } else { top - 2 } - self.frames[fi].base;
                    let desc = self.describe_reg(fi, reg);
                    return Err(self.type_error(culprit, "concatenate", desc));
                }
                let saved = self.top;
                self.top = top;
                let r = self.call_tm(h, tm::CONCAT, &[a, b])?;
                self.top = saved;
                self.stack[top - 2] = r;
                n -= 1;
            }
        }
        Ok(())
    }

    /// Fails with the memory limit when the process's heap is past the
    /// run's budget ([`Vm::heap_exceeded`]): the backstop under this VM's
    /// own count, polled at collections and where a script can act on the
    /// world (output, new coroutines) besides.
    pub fn check_heap(&self) -> LResult<()> {
        if (self.heap_exceeded)() {
            return Err(LErr::Limit(LimitKind::Memory));
        }
        Ok(())
    }

    /// Fails with the memory limit when `extra` more bytes would pass it.
    pub fn check_mem(&mut self, extra: usize) -> LResult<()> {
        if self.heap.bytes.saturating_add(extra) > self.mem_limit {
            self.collect();
            if self.heap.bytes.saturating_add(extra) > self.mem_limit {
                return Err(LErr::Limit(LimitKind::Memory));
            }
        }
        Ok(())
    }

    /// A collection point: collects when allocation passed the threshold and
    /// enforces the memory limit.
    #[inline]
    pub fn gc_point(&mut self) -> LResult<()> {
        if self.heap.bytes > self.heap.threshold {
            self.gc_limit = Some(self.safe_top());
            return self.gc_step();
        }
        Ok(())
    }

    /// A collection point where live are the active local variables and
    /// the registers below `min_top` (absolute); temporaries above are dead
    /// (a stale call argument must not keep an object alive: C Lua collects
    /// below the instruction's own register at `NEWTABLE` and `CLOSURE`).
    #[inline]
    fn gc_point_locals(&mut self, min_top: usize) -> LResult<()> {
        if self.heap.bytes > self.heap.threshold {
            let mut top = min_top;
            if let Some(fr) = self.frames.last()
                && let Value::Func(h) = self.stack[fr.func]
                && let Func::Lua { proto, .. } = self.heap.funcs.get(h)
            {
                // Active at the instruction just run or the next one.
                let pc = fr.pc as u32;
                for l in &proto.locals {
                    if l.2 <= pc && pc < l.3 + 1 {
                        top = top.max(fr.base + l.1 as usize + 1);
                    }
                }
            }
            self.gc_limit = Some(top);
            return self.gc_step();
        }
        Ok(())
    }

    #[inline(never)]
    fn gc_step(&mut self) -> LResult<()> {
        if self.gc_stopped && self.heap.bytes <= self.mem_limit && !(self.heap_exceeded)() {
            // Stopped: only the limit collects.
            self.gc_limit = None;
            self.heap.threshold = self.mem_limit;
            return Ok(());
        }
        self.collect();
        if self.heap.bytes > self.mem_limit || (self.heap_exceeded)() {
            return Err(LErr::Limit(LimitKind::Memory));
        }
        if self.gc_stopped {
            self.heap.threshold = self.mem_limit;
        }
        if !self.heap.tobefnz.is_empty() {
            self.run_finalizers()?;
        }
        Ok(())
    }

    /// A collection point where the running frame's registers from `top`
    /// up are dead (the instruction is about to write them): they are not
    /// marked and are cleared, as C Lua collects only below the top.
    #[inline]
    fn gc_point_below(&mut self, top: usize) -> LResult<()> {
        if self.heap.bytes > self.heap.threshold {
            self.gc_limit = Some(top);
            return self.gc_step();
        }
        Ok(())
    }

    /// Charges the instruction budget.
    #[inline]
    fn charge(&mut self, n: usize) -> LResult<()> {
        self.budget -= n as i64;
        if self.budget < 0 {
            return Err(LErr::Limit(LimitKind::Instructions));
        }
        Ok(())
    }

    /// Returns from the running Lua frame with `n` values at `src`.
    /// `Ok(true)` when the host entry frame returned (leave the loop).
    #[inline(never)]
    fn do_return(&mut self, src: usize, n: usize) -> LResult<bool> {
        if self.hook_mask & HOOK_RET != 0 {
            let top = self.top;
            self.top = self.top.max(src + n);
            let f = self.frames.last().map_or(src, |f| f.func);
            self.call_hook("return", (src.saturating_sub(f), n))?;
            self.top = top;
        }
        // Fields are read in place: the frame was written field by field
        // moments ago, and a whole-frame copy reads it back in 16-byte
        // pieces that cannot be forwarded from those stores (a stall on
        // every return; perf on sort's comparator).
        let Some(fr) = self.frames.last() else {
            return Ok(true);
        };
        let (func, nvar, base, ret) = (fr.func, fr.nvarargs, fr.base, fr.ret);
        let (nresults, protect, host_entry) = (fr.nresults, fr.protect, fr.host_entry);
        let closing = self.tbc.last().is_some_and(|&i| i >= base);
        let saved = if closing { Some(*fr) } else { None };
        self.frames.pop();
        if !self.open.is_empty() {
            self.close_upvals(func - nvar);
        }
        if let Some(f) = saved {
            // Results are copied away first: __close may use the stack.
            let vals: Vec<Value> = self.stack[src..src + n].to_vec();
            let root = self.roots.len();
            self.roots.extend_from_slice(&vals);
            self.top = f.base + 256.max(n);
            self.ensure_stack(self.top + 1)?;
            self.frames.push(f);
            let closed = self.close_tbc(f.base, None);
            self.roots.truncate(root);
            closed?;
            self.frames.pop();
            self.stack[src..src + n].copy_from_slice(&vals);
        }
        self.finish_results(src, n, ret, nresults, protect);
        if host_entry {
            return Ok(true);
        }
        if self.frames.is_empty() && self.cur != 0 {
            // The coroutine's main function returned.
            let top = self.top;
            let nres = top - ret;
            self.co_return(ret, nres)?;
        }
        Ok(false)
    }

    /// The dispatch loop, with the prototype cache taken out of the VM
    /// while it runs (a nested run starts with none) and put back after.
    fn execute(&mut self) -> LResult<()> {
        let mut cache = self.proto_cache.take();
        let r = self.execute_with(&mut cache);
        self.proto_cache = cache;
        r
    }

    /// The dispatch loop proper.
    fn execute_with(&mut self, cache: &mut Option<(u32, u64, Rc<Proto>)>) -> LResult<()> {
        // The prototype of the last frame's closure: a call to the same
        // function (recursion) or a return to it skips the lookup and the
        // reference count. Keyed by collection epoch, as a freed closure's
        // handle can be reused.
        // The first two upvalue handles of a closure (keyed by closure and
        // epoch, as the prototype cache: `debug.upvaluejoin` moves the epoch
        // too), so GETUPVAL and globals skip the closure's lookup.
        let mut upc: (u32, u64, [u32; 2]) = (u32::MAX, u64::MAX, [0; 2]);
        'frames: loop {
            if self.exit_run {
                self.exit_run = false;
                return Ok(());
            }
            // The frame's fields are read in place, not copied whole (see
            // `do_return`).
            let Some(frame) = self.frames.last() else {
                return Ok(());
            };
            let mut fi = self.frames.len() - 1;
            if let Protect::Closing(_) = frame.protect {
                if self.closing_step(fi)? {
                    return Ok(());
                }
                continue 'frames;
            }
            let (mut ffunc, mut base, mut pc, redo) =
                (frame.func, frame.base, frame.pc, frame.redo);
            if base + WINDOW > self.stack.len() {
                self.frame_window(base);
            }
            let cl = match self.stack[ffunc] {
                Value::Func(h) => h,
                _ => rt!(self, "internal: frame without function"),
            };
            let epoch = self.heap.epoch;
            if !matches!(cache, Some((c, e, _)) if *c == cl && *e == epoch)
                && !self.proto_switch(cache, cl)
            {
                rt!(self, "internal: native frame");
            }
            let proto: &Rc<Proto> = match cache {
                Some((_, _, p)) => p,
                None => rt!(self, "internal: no prototype"),
            };
            let code = &proto.code[..];
            let k = &proto.consts[..];
            let hints = &proto.hints[..];
            if redo {
                pc -= 1;
                self.frames[fi].redo = false;
            }
            macro_rules! save {
                () => {
                    self.frames[fi].pc = pc
                };
            }
            macro_rules! r {
                ($x:expr) => {
                    self.stack[base + $x]
                };
            }
            // C's bit 0 is the outcome a test expects. A test skips the
            // next instruction when it fails; when it
            // holds, the next one is the jump, taken here without a second
            // dispatch (as C Lua does). Only forward jumps: a backward one
            // charges the budget in JMP.
            macro_rules! cond_jump {
                ($i:ident, $res:expr) => {
                    if $res != (gc($i) & 1 != 0) {
                        pc += 1;
                    } else {
                        let j = code[pc];
                        let off = gsj(j);
                        if op(j) == JMP && off >= 0 {
                            pc += 1 + off as usize;
                        }
                    }
                };
            }
            // A binary operator whose number cases `fast_arith` folds to
            // its one case; the right operand a register (`r`) or a
            // constant (`k`).
            macro_rules! arith_op {
                ($op:ident, $a:ident, $i:ident, r) => {
                    arith_op!(@ $op, $a, $i, self.stack[base + gc($i)])
                };
                ($op:ident, $a:ident, $i:ident, k) => {
                    arith_op!(@ $op, $a, $i, k[gc($i)])
                };
                (@ $op:ident, $a:ident, $i:ident, $y:expr) => {{
                    let v = match fast_arith($op, &self.stack[base + gb($i)], &$y) {
                        Some(v) => v,
                        None => {
                            let (x, y) = (r!(gb($i)), $y);
                            save!();
                            self.arith($op, x, y)?
                        }
                    };
                    r!($a) = v;
                }};
            }
            // Number fast paths through the frame's register window
            // (`frame_window`): one bounds check for the slice, none for
            // the 8-bit operands. Continue with the next instruction when
            // they apply; fall through to the general arm when not.
            macro_rules! win_arith {
                ($w:ident, $a:ident, $x:expr, $y:expr, |$p:ident, $q:ident| $int:expr, $num:expr) => {
                    if let Some($w) = self.stack.get_mut(base..base + WINDOW) {
                        match (&$w[$x], $y) {
                            (&Value::Int($p), &Value::Int($q)) => {
                                $w[$a] = Value::Int($int);
                                continue;
                            }
                            (&Value::Num($p), &Value::Num($q)) => {
                                $w[$a] = Value::Num($num);
                                continue;
                            }
                            _ => {}
                        }
                    }
                };
            }
            // Line and count hooks, seen at frame entry and after native
            // calls (where `debug.sethook` changes them).
            let hooked = self.line_hooks();
            // Where a loop turns: the loop runner takes the body from `pc`
            // while its instructions are plain (see `fast.rs`); it stops at
            // the first it leaves to this loop, untouched.
            macro_rules! up_handle {
                ($idx:expr) => {{
                    let idx = $idx;
                    if idx < 2 {
                        if upc.0 != cl || upc.1 != self.heap.epoch {
                            upc = (cl, self.heap.epoch, self.closure_ups2(cl));
                        }
                        upc.2[idx]
                    } else {
                        self.closure_upval(cl, idx)
                    }
                }};
            }
            macro_rules! run_fast {
                () => {
                    if !hooked
                        && let Some(w) = self.stack.get_mut(base..base + WINDOW)
                        && let Ok(w) = <&mut [Value; WINDOW]>::try_from(w)
                    {
                        let gc_due = self.heap.bytes > self.heap.threshold;
                        pc = crate::fast::run(
                            w,
                            &mut self.heap.tables,
                            &mut self.budget,
                            gc_due,
                            code,
                            k,
                            hints,
                            pc,
                        );
                    }
                };
            }
            loop {
                if hooked {
                    // The script's line or count hook, before the instruction.
                    self.frames[fi].pc = pc + 1;
                    self.trace_exec(fi, pc, proto)?;
                    if self.frames.len() != fi + 1 {
                        continue 'frames;
                    }
                }
                let i = code[pc];
                pc += 1;
                let a = ga(i);
                match op(i) {
                    MOVE => match self.stack.get_mut(base..base + WINDOW) {
                        Some(w) => w[a] = w[gb(i)].split_copy(),
                        None => r!(a) = self.stack[base + gb(i)].split_copy(),
                    },
                    LOADK => {
                        let bx = gbx(i);
                        if bx == 0xFFFF && op(code[pc]) == EXTRAARG {
                            r!(a) = k[(code[pc] >> 8) as usize];
                            pc += 1;
                        } else {
                            r!(a) = k[bx];
                        }
                    }
                    LOADI => r!(a) = Value::Int(gbx(i) as i64 - 32768),
                    LOADF => r!(a) = Value::Num((gbx(i) as i64 - 32768) as f64),
                    LOADNIL => {
                        for x in a..=a + gb(i) {
                            r!(x) = Value::Nil;
                        }
                    }
                    LOADBOOL => {
                        r!(a) = Value::Bool(gb(i) != 0);
                        if gc(i) != 0 {
                            pc += 1;
                        }
                    }
                    GETUPVAL => {
                        let h = up_handle!(gb(i));
                        r!(a) = self.upval_get(h);
                    }
                    SETUPVAL => {
                        let h = up_handle!(gb(i));
                        let v = r!(a);
                        self.upval_set(h, v);
                    }
                    GETTABUP => {
                        let h = up_handle!(gb(i));
                        let t = self.upval_get(h);
                        let key = k[gc(i)];
                        if let (Value::Table(th), Value::Str(s, _)) = (t, key)
                            && let Some(hint) = hints.get(pc - 1)
                        {
                            let tb = self.heap.tables.get(th);
                            let v = tb.get_str_hint(s, hint);
                            if !v.is_nil() || tb.meta.is_none() {
                                r!(a) = v;
                                continue;
                            }
                        }
                        save!();
                        let v = self.index(t, key)?;
                        r!(a) = v;
                    }
                    SETTABUP => {
                        let h = up_handle!(a);
                        let t = self.upval_get(h);
                        let key = k[gb(i)];
                        let v = r!(gc(i));
                        save!();
                        self.set_fast(t, key, v)?;
                    }
                    // The table arms match on the registers in place: a
                    // register copied whole to a local went through the
                    // frame as one 16-byte store read back as two 8-byte
                    // loads, a store-forwarding stall (perf on fannkuch).
                    GETTABLE => {
                        if let Some(w) = self.stack.get_mut(base..base + WINDOW)
                            && let Value::Table(th) = w[gb(i)]
                            && let Value::Int(ik) = w[gc(i)]
                        {
                            let tb = self.heap.tables.get(th);
                            // Without a metatable an array element, even nil,
                            // is the result: copied whole, memory to memory,
                            // never looked at. A value looked at is rebuilt in
                            // two registers and stored in halves, and the
                            // SETTABLE that often reads it next stalls (perf
                            // on fannkuch).
                            if tb.meta.is_none()
                                && let Some(v) = tb.arr.get((ik as u64).wrapping_sub(1) as usize)
                            {
                                w[a] = *v;
                                continue;
                            }
                            let v = tb.get_int(ik);
                            if !v.is_nil() || tb.meta.is_none() {
                                w[a] = v;
                                continue;
                            }
                        }
                        if let Value::Table(th) = self.stack[base + gb(i)] {
                            let tb = self.heap.tables.get(th);
                            let v = match &self.stack[base + gc(i)] {
                                &Value::Int(ik) => tb.get_int(ik),
                                key => tb.get(*key),
                            };
                            if !v.is_nil() || tb.meta.is_none() {
                                r!(a) = v;
                                continue;
                            }
                        }
                        let (t, key) = (r!(gb(i)), r!(gc(i)));
                        save!();
                        let v = self.index_described(t, key, fi, gb(i))?;
                        r!(a) = v;
                    }
                    GETI => {
                        let key = gc(i) as i64;
                        if let Value::Table(th) = self.stack[base + gb(i)] {
                            let tb = self.heap.tables.get(th);
                            let v = tb.get_int(key);
                            if !v.is_nil() || tb.meta.is_none() {
                                r!(a) = v;
                                continue;
                            }
                        }
                        let t = r!(gb(i));
                        save!();
                        let v = self.index_described(t, Value::Int(key), fi, gb(i))?;
                        r!(a) = v;
                    }
                    GETFIELD => {
                        if let Value::Table(th) = self.stack[base + gb(i)]
                            && let Value::Str(s, _) = k[gc(i)]
                            && let Some(hint) = hints.get(pc - 1)
                        {
                            let tb = self.heap.tables.get(th);
                            let v = tb.get_str_hint(s, hint);
                            if !v.is_nil() || tb.meta.is_none() {
                                r!(a) = v;
                                continue;
                            }
                        }
                        let (t, key) = (r!(gb(i)), k[gc(i)]);
                        save!();
                        let v = self.index_described(t, key, fi, gb(i))?;
                        r!(a) = v;
                    }
                    SETTABLE => {
                        // Fast path: a non-nil store into the array part of a
                        // table without metatable.
                        if let Some(w) = self.stack.get_mut(base..base + WINDOW)
                            && let Value::Table(th) = w[a]
                            && let Value::Int(ik) = w[gb(i)]
                            && !w[gc(i)].is_nil()
                        {
                            let tb = self.heap.tables.get_mut(th);
                            let u = (ik as u64).wrapping_sub(1);
                            if tb.meta.is_none() {
                                if u < tb.arr.len() as u64 {
                                    tb.arr[u as usize] = w[gc(i)];
                                    continue;
                                }
                                // `t[#t + 1] = v` on a list.
                                if u == tb.arr.len() as u64
                                    && let Some(grown) = tb.push_plain(w[gc(i)])
                                {
                                    self.heap.bytes += grown;
                                    continue;
                                }
                                if tb.replace_int(ik, w[gc(i)]) {
                                    continue;
                                }
                            }
                        }
                        if let Value::Table(th) = self.stack[base + a]
                            && let Value::Int(ik) = self.stack[base + gb(i)]
                            && !self.stack[base + gc(i)].is_nil()
                        {
                            let tb = self.heap.tables.get_mut(th);
                            let u = (ik as u64).wrapping_sub(1);
                            if tb.meta.is_none() && u < tb.arr.len() as u64 {
                                tb.arr[u as usize] = self.stack[base + gc(i)];
                                continue;
                            }
                        }
                        let (t, key, v) = (r!(a), r!(gb(i)), r!(gc(i)));
                        save!();
                        if let Err(e) = self.set_fast(t, key, v) {
                            return Err(self.describe_index_err(e, t, fi, a));
                        }
                    }
                    SETI => {
                        if let Value::Table(th) = self.stack[base + a]
                            && !self.stack[base + gc(i)].is_nil()
                        {
                            let tb = self.heap.tables.get_mut(th);
                            let u = (gb(i) as u64).wrapping_sub(1);
                            if tb.meta.is_none() && u < tb.arr.len() as u64 {
                                tb.arr[u as usize] = self.stack[base + gc(i)];
                                continue;
                            }
                        }
                        let (t, v) = (r!(a), r!(gc(i)));
                        save!();
                        if let Err(e) = self.set_fast(t, Value::Int(gb(i) as i64), v) {
                            return Err(self.describe_index_err(e, t, fi, a));
                        }
                    }
                    SETFIELD => {
                        // Fast path: a table without metatable, one probe
                        // for the key or the slot a new key takes (a
                        // constructor's `{x = x}` stores new keys); with
                        // one, a present field through the slot hint.
                        if let Value::Table(th) = self.stack[base + a]
                            && let key @ Value::Str(..) = k[gb(i)]
                        {
                            let v = self.stack[base + gc(i)];
                            if let Some(hint) = hints.get(pc - 1)
                                && self.heap.set_field(th, key, v, hint)
                            {
                                continue;
                            }
                        }
                        let (t, key, v) = (r!(a), k[gb(i)], r!(gc(i)));
                        save!();
                        if let Err(e) = self.set_fast(t, key, v) {
                            return Err(self.describe_index_err(e, t, fi, a));
                        }
                    }
                    NEWTABLE => {
                        save!();
                        self.gc_point_locals(base + a + 1)?;
                        let t = self.heap.new_table(Table::with_capacity(gb(i), gc(i)));
                        r!(a) = Value::Table(t);
                    }
                    SELF => {
                        let obj = r!(gb(i));
                        let key = k[gc(i)];
                        r!(a + 1) = obj;
                        // Fast path: the method in the table itself, or in
                        // a table its metatable's `__index` names (a class).
                        if let Value::Table(th) = obj
                            && let Value::Str(s, _) = key
                        {
                            let tb = self.heap.tables.get(th);
                            let v = tb.get_str(s);
                            let meta = tb.meta;
                            match meta {
                                None => {
                                    r!(a) = v;
                                    continue;
                                }
                                Some(_) if !v.is_nil() => {
                                    r!(a) = v;
                                    continue;
                                }
                                Some(m) => {
                                    if let Value::Table(ih) = self.tm_of(m, tm::INDEX)
                                        && let Some(hint) = hints.get(pc - 1)
                                    {
                                        let it = self.heap.tables.get(ih);
                                        let w = it.get_str_hint(s, hint);
                                        if !w.is_nil() || it.meta.is_none() {
                                            r!(a) = w;
                                            continue;
                                        }
                                    }
                                }
                            }
                        }
                        save!();
                        let v = self.index_described(obj, key, fi, gb(i))?;
                        r!(a) = v;
                    }
                    ADD => {
                        win_arith!(w, a, gb(i), &w[gc(i)], |p, q| p.wrapping_add(q), p + q);
                        // Match on references: tags are read in place, no
                        // 16-byte copies through the stack frame.
                        let v = match (&self.stack[base + gb(i)], &self.stack[base + gc(i)]) {
                            (Value::Int(p), Value::Int(q)) => Value::Int(p.wrapping_add(*q)),
                            (Value::Num(p), Value::Num(q)) => Value::Num(p + q),
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                self.arith(ADD, x, y)?
                            }
                        };
                        r!(a) = v;
                    }
                    SUB => {
                        win_arith!(w, a, gb(i), &w[gc(i)], |p, q| p.wrapping_sub(q), p - q);
                        // Match on references: tags are read in place, no
                        // 16-byte copies through the stack frame.
                        let v = match (&self.stack[base + gb(i)], &self.stack[base + gc(i)]) {
                            (Value::Int(p), Value::Int(q)) => Value::Int(p.wrapping_sub(*q)),
                            (Value::Num(p), Value::Num(q)) => Value::Num(p - q),
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                self.arith(SUB, x, y)?
                            }
                        };
                        r!(a) = v;
                    }
                    MUL => {
                        win_arith!(w, a, gb(i), &w[gc(i)], |p, q| p.wrapping_mul(q), p * q);
                        // Match on references: tags are read in place, no
                        // 16-byte copies through the stack frame.
                        let v = match (&self.stack[base + gb(i)], &self.stack[base + gc(i)]) {
                            (Value::Int(p), Value::Int(q)) => Value::Int(p.wrapping_mul(*q)),
                            (Value::Num(p), Value::Num(q)) => Value::Num(p * q),
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                self.arith(MUL, x, y)?
                            }
                        };
                        r!(a) = v;
                    }
                    DIV => {
                        if let Some(w) = self.stack.get_mut(base..base + WINDOW)
                            && let (&Value::Num(p), &Value::Num(q)) = (&w[gb(i)], &w[gc(i)])
                        {
                            w[a] = Value::Num(p / q);
                            continue;
                        }
                        let v = match (&self.stack[base + gb(i)], &self.stack[base + gc(i)]) {
                            (Value::Num(p), Value::Num(q)) => Value::Num(p / q),
                            (Value::Int(p), Value::Int(q)) => Value::Num(*p as f64 / *q as f64),
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                self.arith(DIV, x, y)?
                            }
                        };
                        r!(a) = v;
                    }
                    // One arm an operator, so that `fast_arith` folds to its
                    // one case (a shared arm re-dispatched on the opcode).
                    MOD => arith_op!(MOD, a, i, r),
                    POW => arith_op!(POW, a, i, r),
                    IDIV => arith_op!(IDIV, a, i, r),
                    BAND => arith_op!(BAND, a, i, r),
                    BOR => arith_op!(BOR, a, i, r),
                    BXOR => arith_op!(BXOR, a, i, r),
                    SHL => arith_op!(SHL, a, i, r),
                    SHR => arith_op!(SHR, a, i, r),
                    // The common constant operations inline their number cases,
                    // as ADD does (float math spends its time here).
                    ADDK => {
                        // C's bit 7: the constant was the left operand.
                        let kc = &k[gc(i) & 0x7f];
                        win_arith!(w, a, gb(i), kc, |p, q| p.wrapping_add(q), p + q);
                        let v = match (&self.stack[base + gb(i)], kc) {
                            (Value::Int(p), Value::Int(q)) => Value::Int(p.wrapping_add(*q)),
                            (Value::Num(p), Value::Num(q)) => Value::Num(p + q),
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                if gc(i) & 0x80 != 0 {
                                    self.arith(ADD, y, x)?
                                } else {
                                    self.arith(ADD, x, y)?
                                }
                            }
                        };
                        r!(a) = v;
                    }
                    SUBK => {
                        win_arith!(w, a, gb(i), &k[gc(i)], |p, q| p.wrapping_sub(q), p - q);
                        let v = match (&self.stack[base + gb(i)], &k[gc(i)]) {
                            (Value::Int(p), Value::Int(q)) => Value::Int(p.wrapping_sub(*q)),
                            (Value::Num(p), Value::Num(q)) => Value::Num(p - q),
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                self.arith(SUB, x, y)?
                            }
                        };
                        r!(a) = v;
                    }
                    MULK => {
                        // C's bit 7: the constant was the left operand.
                        let kc = &k[gc(i) & 0x7f];
                        win_arith!(w, a, gb(i), kc, |p, q| p.wrapping_mul(q), p * q);
                        let v = match (&self.stack[base + gb(i)], kc) {
                            (Value::Int(p), Value::Int(q)) => Value::Int(p.wrapping_mul(*q)),
                            (Value::Num(p), Value::Num(q)) => Value::Num(p * q),
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                if gc(i) & 0x80 != 0 {
                                    self.arith(MUL, y, x)?
                                } else {
                                    self.arith(MUL, x, y)?
                                }
                            }
                        };
                        r!(a) = v;
                    }
                    DIVK => {
                        if let Some(w) = self.stack.get_mut(base..base + WINDOW)
                            && let (&Value::Num(p), &Value::Num(q)) = (&w[gb(i)], &k[gc(i)])
                        {
                            w[a] = Value::Num(p / q);
                            continue;
                        }
                        let v = match (&self.stack[base + gb(i)], &k[gc(i)]) {
                            (Value::Num(p), Value::Num(q)) => Value::Num(p / q),
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                self.arith(DIV, x, y)?
                            }
                        };
                        r!(a) = v;
                    }
                    MODK => arith_op!(MOD, a, i, k),
                    POWK => arith_op!(POW, a, i, k),
                    IDIVK => arith_op!(IDIV, a, i, k),
                    BANDK => arith_op!(BAND, a, i, k),
                    BORK => arith_op!(BOR, a, i, k),
                    BXORK => arith_op!(BXOR, a, i, k),
                    ADDI => {
                        if let Some(w) = self.stack.get_mut(base..base + WINDOW)
                            && let &Value::Int(p) = &w[gb(i)]
                        {
                            w[a] = Value::Int(p.wrapping_add(simm(gc(i))));
                            continue;
                        }
                        let imm = simm(gc(i));
                        r!(a) = match self.stack[base + gb(i)] {
                            Value::Int(p) => Value::Int(p.wrapping_add(imm)),
                            Value::Num(p) => Value::Num(p + imm as f64),
                            x => {
                                save!();
                                self.arith(ADD, x, Value::Int(imm))?
                            }
                        };
                    }
                    UNM => {
                        let x = r!(gb(i));
                        r!(a) = match x {
                            Value::Int(p) => Value::Int(p.wrapping_neg()),
                            Value::Num(p) => Value::Num(-p),
                            _ => {
                                save!();
                                self.arith(UNM, x, x)?
                            }
                        };
                    }
                    BNOT => {
                        let x = r!(gb(i));
                        save!();
                        r!(a) = self.arith(BNOT, x, x)?;
                    }
                    NOT => r!(a) = Value::Bool(!r!(gb(i)).truthy()),
                    LEN => {
                        let x = r!(gb(i));
                        save!();
                        r!(a) = self.len(x)?;
                    }
                    CONCAT => {
                        save!();
                        let n = gb(i);
                        self.top = base + a + n;
                        self.concat(base + a, n)?;
                        self.gc_point_below(base + a + 1)?;
                    }
                    JMP => {
                        let off = gsj(i);
                        pc = (pc as isize + off) as usize;
                        if off < 0 {
                            save!();
                            self.charge((-off) as usize)?;
                            self.gc_point_locals(base)?;
                            run_fast!();
                        }
                    }
                    EQ => {
                        let (x, y) = (r!(a), r!(gb(i)));
                        let eq = if x.raw_eq(y) {
                            true
                        } else if matches!(
                            (x, y),
                            (Value::Table(_), Value::Table(_)) | (Value::UData(_), Value::UData(_))
                        ) {
                            save!();
                            self.equals(x, y)?
                        } else {
                            false
                        };
                        cond_jump!(i, eq);
                    }
                    LT | LE => {
                        let le = op(i) == LE;
                        let (x, y) = match self.stack.get(base..base + WINDOW) {
                            Some(w) => (&w[a], &w[gb(i)]),
                            None => (&self.stack[base + a], &self.stack[base + gb(i)]),
                        };
                        let res = match (x, y) {
                            (Value::Int(p), Value::Int(q)) => {
                                if le {
                                    p <= q
                                } else {
                                    p < q
                                }
                            }
                            (Value::Num(p), Value::Num(q)) => {
                                if le {
                                    p <= q
                                } else {
                                    p < q
                                }
                            }
                            (x, y) => {
                                let (x, y) = (*x, *y);
                                save!();
                                self.less(x, y, le)?
                            }
                        };
                        cond_jump!(i, res);
                    }
                    EQK => {
                        let eq = r!(a).raw_eq(k[gb(i)]);
                        cond_jump!(i, eq);
                    }
                    EQI => {
                        let imm = simm(gb(i));
                        let eq = match r!(a) {
                            Value::Int(p) => p == imm,
                            Value::Num(p) => p == imm as f64,
                            _ => false,
                        };
                        cond_jump!(i, eq);
                    }
                    LTI | LEI | GTI | GEI => {
                        let imm = simm(gb(i));
                        let o = op(i);
                        // Matched in place: the register was often just
                        // written in two 8-byte stores (an argument), which a
                        // 16-byte copy cannot forward from (perf on fib).
                        let res = match self.stack[base + a] {
                            Value::Int(p) => match o {
                                LTI => p < imm,
                                LEI => p <= imm,
                                GTI => p > imm,
                                _ => p >= imm,
                            },
                            Value::Num(p) => {
                                let q = imm as f64;
                                match o {
                                    LTI => p < q,
                                    LEI => p <= q,
                                    GTI => p > q,
                                    _ => p >= q,
                                }
                            }
                            x => {
                                save!();
                                // C's bit 1: the constant was a float.
                                let y = if gc(i) & 2 != 0 {
                                    Value::Num(imm as f64)
                                } else {
                                    Value::Int(imm)
                                };
                                match o {
                                    LTI => self.less(x, y, false)?,
                                    LEI => self.less(x, y, true)?,
                                    GTI => self.less(y, x, false)?,
                                    _ => self.less(y, x, true)?,
                                }
                            }
                        };
                        cond_jump!(i, res);
                    }
                    TEST => cond_jump!(i, r!(a).truthy()),
                    TESTSET => {
                        let v = r!(gb(i));
                        if v.truthy() == (gc(i) != 0) {
                            r!(a) = v;
                        } else {
                            pc += 1;
                        }
                    }
                    CALL => {
                        let b = gb(i);
                        let nargs = if b == 0 {
                            self.top - (base + a) - 1
                        } else {
                            b - 1
                        };
                        let nres = gc(i) as i32 - 1;
                        save!();
                        // One test for both the budget and the collector.
                        self.budget -= 1;
                        if self.budget < 0 || self.heap.bytes > self.heap.threshold {
                            self.charge(0)?;
                            self.gc_point_below(base + a + nargs + 1)?;
                        }
                        let func = base + a;
                        // Fast path: a fixed-arity Lua function with room on the
                        // stack. A recursive call reads the running prototype,
                        // not the heap (a chain of three dependent loads).
                        // A callee in the previous cache entry (the caller
                        // called it before) is swapped in with no lookup.
                        // Another callee is put in the cache here (its
                        // prototype is at hand), the caller's entry kept as
                        // the previous one for the return.
                        let callee = match self.stack[func] {
                            Value::Func(h) if h == cl => Some((h, &**proto, false)),
                            Value::Func(h) => match &self.proto_prev {
                                Some((c, e, p)) if *c == h && *e == self.heap.epoch => {
                                    Some((h, &**p, true))
                                }
                                _ => match self.heap.funcs.get(h) {
                                    Func::Lua { proto: p, .. } => Some((h, &**p, false)),
                                    Func::Native { .. } => None,
                                },
                            },
                            _ => None,
                        };
                        if let Some((h, callee, prev)) = callee
                            && !callee.vararg
                        {
                            let (np, ms) = (callee.nparams as usize, callee.maxstack as usize);
                            let nb = func + 1;
                            if nb + ms < self.stack.len()
                                && self.frames.len() < MAX_FRAMES
                                && self.hook_mask == 0
                            {
                                for j in nargs.min(np)..np {
                                    self.stack[nb + j] = Value::Nil;
                                }
                                self.frames.push(Frame {
                                    func,
                                    base: nb,
                                    pc: 0,
                                    nresults: nres,
                                    nvarargs: 0,
                                    protect: Protect::None,
                                    host_entry: false,
                                    tm_close: false,
                                    redo: false,
                                    tail: false,
                                    ret: func,
                                });
                                // A recursive call keeps this loop's prototype,
                                // code and constants: only the window moves.
                                if h == cl {
                                    (fi, ffunc, base, pc) = (fi + 1, func, nb, 0);
                                    if base + WINDOW > self.stack.len() {
                                        self.frame_window(base);
                                    }
                                    continue;
                                }
                                if prev {
                                    std::mem::swap(cache, &mut self.proto_prev);
                                } else {
                                    self.proto_switch(cache, h);
                                }
                                continue 'frames;
                            }
                        }
                        let plain_native = match self.stack[func] {
                            Value::Func(h) => match self.heap.funcs.get(h) {
                                Func::Native {
                                    f,
                                    special: Special::None,
                                    ..
                                } if self.hook_mask == 0 => Some((h, *f)),
                                _ => None,
                            },
                            _ => None,
                        };
                        if let Some((h, nf)) = plain_native {
                            self.call_native(func, nargs, nres, h, nf)?;
                        } else if self.precall_inner(
                            func,
                            nargs,
                            nres,
                            Protect::None,
                            func,
                            false,
                        )? {
                            continue 'frames;
                        }
                        // `debug.sethook` turned line or count hooks on or off.
                        if self.line_hooks() != hooked {
                            continue 'frames;
                        }
                    }
                    TAILCALL => {
                        let b = gb(i);
                        let nargs = if b == 0 {
                            self.top - (base + a) - 1
                        } else {
                            b - 1
                        };
                        save!();
                        self.charge(proto.code.len().min(pc))?;
                        let func = base + a;
                        let f = self.stack[func];
                        let is_lua = matches!(f, Value::Func(h) if matches!(self.heap.funcs.get(h), Func::Lua { .. }));
                        if is_lua
                            && self.tbc.last().is_none_or(|&t| t < base)
                            && self.frames[fi].protect == Protect::None
                        {
                            // Reuse the frame: move function and arguments down.
                            let dst = ffunc - self.frames[fi].nvarargs;
                            if !self.open.is_empty() {
                                self.close_upvals(dst);
                            }
                            for j in 0..=nargs {
                                self.stack[dst + j] = self.stack[func + j];
                            }
                            let old = self.frames[fi];
                            self.frames.pop();
                            self.tail_call = true;
                            let r = self.precall(
                                dst,
                                nargs,
                                old.nresults,
                                old.protect,
                                old.ret,
                                old.host_entry,
                            );
                            self.tail_call = false;
                            r?;
                            if let Some(f) = self.frames.get_mut(fi) {
                                f.tail = true;
                            }
                            continue 'frames;
                        }
                        // Otherwise an ordinary open call; the RETURN after it returns all.
                        if let Value::Func(h) = f
                            && let Func::Native {
                                f: nf,
                                special: Special::None,
                                ..
                            } = *self.heap.funcs.get(h)
                            && self.hook_mask == 0
                        {
                            self.call_native(func, nargs, -1, h, nf)?;
                        } else if self.precall(func, nargs, -1, Protect::None, func, false)? {
                            continue 'frames;
                        }
                    }
                    RETURN => {
                        let b = gb(i);
                        let n = if b == 0 { self.top - (base + a) } else { b - 1 };
                        save!();
                        if self.tbc.last().is_some_and(|&t| t >= base) {
                            self.return_close(fi, base + a, n)?;
                            continue 'frames;
                        }
                        self.charge(pc)?;
                        if self.do_return(base + a, n)? {
                            return Ok(());
                        }
                        continue 'frames;
                    }
                    RETURN0 => {
                        // As RETURN1's fast path, with no value: a procedure
                        // returning to a Lua caller or the host.
                        let f = &self.frames[fi];
                        if self
                            .open
                            .last()
                            .is_none_or(|&(o, _)| (o as usize) < f.func - f.nvarargs)
                            && f.protect == Protect::None
                            && self.hook_mask == 0
                            && (fi > 0 || self.cur == 0)
                            && self.tbc.last().is_none_or(|&t| t < f.base)
                            && f.nresults >= 0
                            && f.ret + (f.nresults as usize) < self.stack.len()
                        {
                            let (ret, nres) = (f.ret, f.nresults as usize);
                            let host_entry = f.host_entry;
                            for j in 0..nres {
                                self.stack[ret + j] = Value::Nil;
                            }
                            self.frames.pop();
                            self.budget -= pc as i64;
                            if self.budget < 0 {
                                return Err(LErr::Limit(LimitKind::Instructions));
                            }
                            self.top = ret + nres;
                            if host_entry {
                                return Ok(());
                            }
                            continue 'frames;
                        }
                        save!();
                        if self.tbc.last().is_some_and(|&t| t >= base) {
                            self.return_close(fi, base, 0)?;
                            continue 'frames;
                        }
                        self.charge(pc)?;
                        if self.do_return(base, 0)? {
                            return Ok(());
                        }
                        continue 'frames;
                    }
                    RETURN1 => {
                        let f = &self.frames[fi];
                        if self
                            .open
                            .last()
                            .is_none_or(|&(o, _)| (o as usize) < f.func - f.nvarargs)
                            && f.protect == Protect::None
                            && self.hook_mask == 0
                            && (fi > 0 || self.cur == 0)
                            && self.tbc.last().is_none_or(|&t| t < f.base)
                            && f.nresults >= 0
                            && f.ret + (f.nresults as usize) < self.stack.len()
                        {
                            // Common case: one value to a fixed-results call
                            // (from Lua, or from the host: a sort comparator,
                            // a callback, a metamethod).
                            let (ret, nres) = (f.ret, f.nresults as usize);
                            let host_entry = f.host_entry;
                            // Split: the result was often just written in
                            // halves (a comparison's boolean; perf on sort).
                            let v = self.stack[base + a].split_copy();
                            self.stack[ret] = v;
                            for j in 1..nres {
                                self.stack[ret + j] = Value::Nil;
                            }
                            self.frames.pop();
                            self.budget -= pc as i64;
                            if self.budget < 0 {
                                return Err(LErr::Limit(LimitKind::Instructions));
                            }
                            // As `adjust`: a return that a `__close` handler
                            // interrupted runs again and counts its values up
                            // to the top.
                            self.top = ret + nres;
                            if host_entry {
                                return Ok(());
                            }
                            // Back in a frame of the same closure (a recursive
                            // call returned): keep this loop's prototype.
                            if fi > 0 {
                                let f = &self.frames[fi - 1];
                                if !f.redo
                                    && !matches!(f.protect, Protect::Closing(_))
                                    && matches!(self.stack[f.func], Value::Func(c) if c == cl)
                                {
                                    (fi, ffunc, base, pc) = (fi - 1, f.func, f.base, f.pc);
                                    continue;
                                }
                            }
                            continue 'frames;
                        }
                        save!();
                        if self.tbc.last().is_some_and(|&t| t >= base) {
                            self.return_close(fi, base + a, 1)?;
                            continue 'frames;
                        }
                        self.charge(pc)?;
                        if self.do_return(base + a, 1)? {
                            return Ok(());
                        }
                        continue 'frames;
                    }
                    FORPREP => {
                        save!();
                        if !self.forprep(base + a)? {
                            pc += gbx(i) + 1;
                        }
                    }
                    FORLOOP => {
                        if let Some(w) = self.stack.get_mut(base..base + WINDOW)
                            && let Value::Int(step) = w[a + 2]
                            && let Value::Int(count) = w[a + 1]
                            && count > 0
                            && let Value::Int(idx) = w[a]
                        {
                            let idx = idx.wrapping_add(step);
                            w[a + 1] = Value::Int(count - 1);
                            w[a] = Value::Int(idx);
                            w[a + 3] = Value::Int(idx);
                            pc -= gbx(i);
                            self.budget -= gbx(i) as i64;
                            if self.budget < 0 || self.heap.bytes > self.heap.threshold {
                                save!();
                                self.charge(0)?;
                                self.gc_point_locals(base + a + 4)?;
                            }
                            run_fast!();
                            continue;
                        }
                        let ra = base + a;
                        if let Value::Int(step) = self.stack[ra + 2] {
                            if let Value::Int(count) = self.stack[ra + 1]
                                && count > 0
                                && let Value::Int(idx) = self.stack[ra]
                            {
                                let idx = idx.wrapping_add(step);
                                self.stack[ra + 1] = Value::Int(count - 1);
                                self.stack[ra] = Value::Int(idx);
                                self.stack[ra + 3] = Value::Int(idx);
                                pc -= gbx(i);
                                self.budget -= gbx(i) as i64;
                                if self.budget < 0 || self.heap.bytes > self.heap.threshold {
                                    save!();
                                    self.charge(0)?;
                                    self.gc_point_locals(ra + 4)?;
                                }
                            }
                        } else if let (Value::Num(idx), Value::Num(lim), Value::Num(step)) =
                            (self.stack[ra], self.stack[ra + 1], self.stack[ra + 2])
                        {
                            let idx = idx + step;
                            if if step > 0.0 { idx <= lim } else { lim <= idx } {
                                self.stack[ra] = Value::Num(idx);
                                self.stack[ra + 3] = Value::Num(idx);
                                pc -= gbx(i);
                                save!();
                                self.charge(gbx(i))?;
                                self.gc_point_locals(ra + 4)?;
                            }
                        }
                    }
                    TFORCALL => {
                        let ra = base + a;
                        self.stack[ra + 4] = self.stack[ra];
                        self.stack[ra + 5] = self.stack[ra + 1];
                        self.stack[ra + 6] = self.stack[ra + 2];
                        save!();
                        self.charge(1)?;
                        if self.precall(ra + 4, 2, gc(i) as i32, Protect::None, ra + 4, false)? {
                            continue 'frames;
                        }
                    }
                    TFORLOOP => {
                        let ra = base + a;
                        let v = self.stack[ra + 4];
                        if !v.is_nil() {
                            self.stack[ra + 2] = v;
                            pc -= gbx(i);
                            save!();
                            self.charge(gbx(i))?;
                            self.gc_point_locals(ra + 4)?;
                        }
                    }
                    SETLIST => {
                        let b = gb(i);
                        let n = if b == 0 {
                            self.top - (base + a) - 1
                        } else {
                            b - 1
                        };
                        let start = (code[pc] >> 8) as i64;
                        pc += 1;
                        if let Value::Table(th) = r!(a) {
                            let mut grown = 0;
                            let t = self.heap.tables.get_mut(th);
                            for j in 0..n {
                                grown +=
                                    t.set_int(start + 1 + j as i64, self.stack[base + a + 1 + j]);
                            }
                            self.heap.bytes += grown;
                        }
                    }
                    CLOSURE => {
                        save!();
                        self.gc_point_locals(base + a + 1)?;
                        let p = proto.protos[gbx(i)].clone();
                        let mut ups = Vec::with_capacity(p.upvals.len());
                        for &(instack, idx, _) in &p.upvals {
                            if instack {
                                ups.push(self.find_upval(base + idx as usize));
                            } else {
                                ups.push(self.closure_upval(cl, idx as usize));
                            }
                        }
                        let h = self.heap.new_func(Func::Lua {
                            proto: p,
                            upvals: ups.into_boxed_slice(),
                        });
                        r!(a) = Value::Func(h);
                    }
                    VARARG => {
                        let nvar = self.frames[fi].nvarargs;
                        let want = gc(i) as i32 - 1;
                        let n = if want < 0 { nvar } else { want as usize };
                        if want < 0 {
                            self.ensure_stack(base + a + n + 1)?;
                            self.top = base + a + n;
                        }
                        let src = ffunc - nvar;
                        for j in 0..n {
                            self.stack[base + a + j] = if j < nvar {
                                self.stack[src + j]
                            } else {
                                Value::Nil
                            };
                        }
                    }
                    CLOSE => {
                        save!();
                        self.close_upvals(base + a);
                        if self.tbc.last().is_some_and(|&t| t >= base + a) {
                            let slot = base + proto.maxstack as usize;
                            self.close_next(fi, slot)?;
                            continue 'frames;
                        }
                    }
                    TBC => {
                        let v = r!(a);
                        if v.truthy() {
                            if self.get_tm(v, tm::CLOSE).is_nil() {
                                save!();
                                let name = proto
                                    .locals
                                    .iter()
                                    .find(|l| {
                                        l.1 as usize == a
                                            && (l.2 as usize) <= pc
                                            && pc <= l.3 as usize
                                    })
                                    .map(|l| String::from_utf8_lossy(&l.0).into_owned())
                                    .unwrap_or_else(|| "?".into());
                                rt!(self, "variable '{name}' got a non-closable value");
                            }
                            self.tbc.push(base + a);
                        }
                    }
                    _ => {
                        save!();
                        rt!(self, "internal: bad opcode {}", op(i));
                    }
                }
            }
        }
    }

    /// The loop's prototype cache missed on closure `cl`: swaps in the
    /// previous entry when it is `cl`'s, or looks the prototype up (the
    /// entry it replaces becomes the previous one). False for a native.
    #[inline(never)]
    fn proto_switch(&mut self, cache: &mut Option<(u32, u64, Rc<Proto>)>, cl: u32) -> bool {
        let epoch = self.heap.epoch;
        if matches!(&self.proto_prev, Some((c, e, _)) if *c == cl && *e == epoch) {
            std::mem::swap(cache, &mut self.proto_prev);
            return true;
        }
        match self.heap.funcs.get(cl) {
            Func::Lua { proto, .. } => {
                let new = Some((cl, epoch, proto.clone()));
                self.proto_prev = std::mem::replace(cache, new);
                true
            }
            Func::Native { .. } => false,
        }
    }

    /// Grows the main thread's stack so that the frame at `base` has a
    /// whole register window, which the dispatch loop's fast paths
    /// slice once per instruction (8-bit operands then need no bounds
    /// check). Within the stack's usual cap; coroutines keep their small
    /// stacks, and their instructions take the general paths.
    #[cold]
    fn frame_window(&mut self, base: usize) {
        let cap = MAX_STACK + 64;
        if self.cur != 0 || base + WINDOW > cap {
            return;
        }
        let old = self.stack.len();
        let new = (base + WINDOW).max(old * 2).min(cap);
        self.stack.resize(new, Value::Nil);
        self.heap.bytes += (new - old) * 16;
    }

    /// The first two upvalue handles of Lua closure `cl` (0 where it has
    /// fewer: the compiler never names those).
    #[inline(never)]
    fn closure_ups2(&self, cl: u32) -> [u32; 2] {
        match self.heap.funcs.get(cl) {
            Func::Lua { upvals, .. } => [
                upvals.first().copied().unwrap_or(0),
                upvals.get(1).copied().unwrap_or(0),
            ],
            Func::Native { .. } => [0; 2],
        }
    }

    #[inline]
    fn closure_upval(&self, cl: u32, i: usize) -> u32 {
        match self.heap.funcs.get(cl) {
            Func::Lua { upvals, .. } => upvals[i],
            Func::Native { .. } => 0,
        }
    }

    #[inline]
    fn set_fast(&mut self, t: Value, key: Value, v: Value) -> LResult<()> {
        if let Value::Table(th) = t {
            let tb = self.heap.tables.get_mut(th);
            if tb.meta.is_none() {
                if let Value::Str(_, _) = key {
                    let grown = tb.set_str(key, v);
                    self.heap.bytes += grown;
                    return Ok(());
                }
                return self.raw_set(th, key, v);
            }
        }
        self.set_index(t, key, v)
    }

    #[inline(never)]
    fn index_described(&mut self, t: Value, key: Value, fi: usize, reg: usize) -> LResult<Value> {
        match self.index(t, key) {
            Ok(v) => Ok(v),
            Err(e) => Err(self.describe_index_err(e, t, fi, reg)),
        }
    }

    #[inline(never)]
    fn describe_index_err(&mut self, e: LErr, t: Value, fi: usize, reg: usize) -> LErr {
        // Only the first level of indexing failing on the operand itself
        // gets the variable description.
        let plain = matches!(t, Value::Table(_)) || !self.get_tm(t, tm::INDEX).is_nil();
        if plain || !matches!(e, LErr::Rt(_)) || fi + 1 != self.frames.len() {
            return e;
        }
        let desc = self.describe_reg(fi, reg);
        if desc.is_none() {
            return e;
        }
        self.type_error(t, "index", desc)
    }

    #[inline(never)]
    fn forprep(&mut self, ra: usize) -> LResult<bool> {
        for k in 0..3 {
            if let Value::Str(_, _) = self.stack[ra + k]
                && let Some(v) = self.tonumber_arith(self.stack[ra + k])
            {
                self.stack[ra + k] = v;
            }
        }
        let (init, limit, step) = (self.stack[ra], self.stack[ra + 1], self.stack[ra + 2]);
        if let (Value::Int(i0), Value::Int(st)) = (init, step) {
            if st == 0 {
                rt!(self, "'for' step is zero");
            }
            let lim = match limit {
                Value::Int(l) => l,
                Value::Num(f) => {
                    if f.is_nan() {
                        return Ok(false);
                    }
                    if st > 0 {
                        let fl = f.floor();
                        if fl >= 9.223_372_036_854_776e18 {
                            i64::MAX
                        } else if fl < -9.223_372_036_854_776e18 {
                            return Ok(false);
                        } else {
                            fl as i64
                        }
                    } else {
                        let c = f.ceil();
                        if c < -9.223_372_036_854_776e18 {
                            i64::MIN
                        } else if c >= 9.223_372_036_854_776e18 {
                            return Ok(false);
                        } else {
                            c as i64
                        }
                    }
                }
                _ => {
                    let tn = self.type_name_mt(limit);
                    rt!(self, "bad 'for' limit (number expected, got {tn})")
                }
            };
            if if st > 0 { i0 > lim } else { i0 < lim } {
                return Ok(false);
            }
            // The distance is exact in u64 (the bounds are ordered); a
            // 128-bit division here was a call to `__divti3` on every loop
            // entry (5% of fannkuch, which enters many short loops).
            let count = if st > 0 {
                let d = (lim as u64).wrapping_sub(i0 as u64);
                if st == 1 { d } else { d / st as u64 }
            } else {
                (i0 as u64).wrapping_sub(lim as u64) / st.unsigned_abs()
            };
            self.stack[ra + 1] = Value::Int(count.min(i64::MAX as u64) as i64);
            self.stack[ra + 3] = init;
            return Ok(true);
        }
        let tof = |v: Value| match self.tonumber_arith(v) {
            Some(Value::Int(i)) => Some(i as f64),
            Some(Value::Num(f)) => Some(f),
            _ => None,
        };
        let Some(l) = tof(limit) else {
            {
                let tn = self.type_name_mt(limit);
                rt!(self, "bad 'for' limit (number expected, got {tn})")
            }
        };
        let Some(s) = tof(step) else {
            {
                let tn = self.type_name_mt(step);
                rt!(self, "bad 'for' step (number expected, got {tn})")
            }
        };
        let Some(i0) = tof(init) else {
            {
                let tn = self.type_name_mt(init);
                rt!(self, "bad 'for' initial value (number expected, got {tn})")
            }
        };
        if s == 0.0 {
            rt!(self, "'for' step is zero");
        }
        if if s > 0.0 { i0 > l } else { i0 < l } {
            return Ok(false);
        }
        self.stack[ra] = Value::Num(i0);
        self.stack[ra + 1] = Value::Num(l);
        self.stack[ra + 2] = Value::Num(s);
        self.stack[ra + 3] = Value::Num(i0);
        Ok(true)
    }
}

/// The number cases of a binary operator; `None` for anything else (and
/// for integer division by zero). Operands by reference, so tags are read in
/// place rather than 16-byte values copied through the loop's stack frame.
#[inline(always)]
fn fast_arith(op: u8, x: &Value, y: &Value) -> Option<Value> {
    crate::fast::arith(op, x, y)
}

/// Slot of `basic_meta` for a value without its own metatable.
pub fn basic_index(v: Value) -> usize {
    match v {
        Value::Nil => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Num(_) => 2,
        Value::Func(_) => 3,
        Value::Thread(_) => 4,
        _ => 5,
    }
}

fn to_int(v: Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i),
        Value::Num(f) => float_to_int(f),
        _ => None,
    }
}

/// `i < f` (or `<=`) exactly.
fn int_float_less(i: i64, f: f64, le: bool) -> bool {
    if f.is_nan() {
        return false;
    }
    if f >= 9.223_372_036_854_776e18 {
        return true;
    }
    if f < -9.223_372_036_854_776e18 {
        return false;
    }
    if le {
        i <= f.floor() as i64
    } else {
        // i < f  <=>  i < ceil(f)
        i < f.ceil() as i64
    }
}
