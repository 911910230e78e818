//! Values and the heap: typed arenas addressed by `u32` handles, interned
//! strings with cached hashes, and a mark-and-sweep collector. Nothing here
//! is Squirrel-specific except the object kinds; see DESIGN.md.

use crate::table::Table;
use shield_engine::keyed::{Key, hash_bytes, mix, secret_key};
use std::rc::Rc;

/// A Squirrel value: 16 bytes, copied freely; objects are handles. The
/// tag is a whole word: a value is then two plain words with no padding
/// bytes between tag and payload, so moves are not split into byte-sized
/// stores that stall the following 16-byte loads.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(u32),
    Table(u32),
    Array(u32),
    Closure(u32),
    Native(u32),
    Class(u32),
    Instance(u32),
    Generator(u32),
    Thread(u32),
    WeakRef(u32),
    Blob(u32),
}

impl Value {
    /// Identity / primitive equality (the `==` of two non-numbers).
    #[inline]
    pub(crate) fn raw_eq(self, o: Value) -> bool {
        use Value::*;
        match (self, o) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b,
            (Int(a), Float(b)) | (Float(b), Int(a)) => (a as f64) == b,
            (Str(a), Str(b))
            | (Table(a), Table(b))
            | (Array(a), Array(b))
            | (Closure(a), Closure(b))
            | (Native(a), Native(b))
            | (Class(a), Class(b))
            | (Instance(a), Instance(b))
            | (Generator(a), Generator(b))
            | (Thread(a), Thread(b))
            | (WeakRef(a), WeakRef(b))
            | (Blob(a), Blob(b)) => a == b,
            _ => false,
        }
    }

    pub(crate) fn truthy(self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => b,
            Value::Int(i) => i != 0,
            Value::Float(f) => f != 0.0,
            _ => true,
        }
    }
}

/// Rounds to the reference's float width: `sq64` keeps 32-bit floats, so
/// every float result is rounded to `f32` (exact for + - * / and sqrt).
#[inline]
pub(crate) fn f32r(x: f64) -> f64 {
    f64::from(x as f32)
}

/// An interned string with its hash computed once.
#[derive(Debug)]
pub(crate) struct StrObj {
    pub bytes: Box<[u8]>,
    pub hash: u64,
    /// Next string in the same intern bucket (`u32::MAX` ends the chain).
    next: u32,
}

/// A compiled function; immutable and shared by its closures.
#[derive(Debug)]
pub(crate) struct Proto {
    pub name: Value,
    pub source: Rc<str>,
    pub code: Vec<crate::compiler::Op>,
    pub lines: Vec<u32>,
    pub consts: Vec<Value>,
    pub protos: Vec<Rc<Proto>>,
    /// Parameters including `this`.
    pub nparams: usize,
    pub varargs: bool,
    pub generator: bool,
    /// Default values are evaluated at closure creation, for the last
    /// `ndefaults` parameters.
    pub ndefaults: usize,
    /// Captures: from the enclosing frame's local slot (true) or its
    /// closure's outer (false), by index.
    pub captures: Vec<(bool, u32)>,
    /// Slots needed beyond the parameters (locals and temporaries).
    pub max_stack: usize,
    /// Debug info: local name, slot, live pc range.
    pub locals: Vec<(Value, u32, u32, u32)>,
}

/// A captured variable: open while its frame lives, closed after.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outer {
    Open(usize),
    Closed(Value),
}

/// A closure: a prototype, its outers, default parameter values, bound env.
#[derive(Debug)]
pub(crate) struct Closure {
    pub proto: Rc<Proto>,
    pub outers: Vec<u32>,
    pub defaults: Vec<Value>,
    pub env: Option<Value>,
    /// For a method: the base of the class that first received it (`base`).
    pub base: Option<Option<u32>>,
}

/// A function written in Rust.
pub(crate) type NativeFn = fn(&mut crate::vm::Vm, &[Value]) -> Result<Value, crate::vm::Error>;

/// A native function object.
#[derive(Debug)]
pub(crate) struct Native {
    pub name: &'static str,
    pub f: NativeFn,
    /// Parameter count check like the reference's `typemask` count: 0 = any;
    /// n > 0 = exactly n (with `this`); n < 0 = at least -n.
    pub nparams: i32,
    /// A bound value (e.g. a closure captured by a native), marked by the GC.
    pub bound: Value,
}

/// A class.
#[derive(Debug)]
pub(crate) struct Class {
    pub base: Option<u32>,
    /// Field name -> index into instance values.
    pub fields: Table,
    /// Field default values, by index.
    pub defaults: Vec<Value>,
    /// Methods and static members.
    pub methods: Table,
    /// Metamethods (`_add`, `_get`...): not visible as members, as in the
    /// reference.
    pub metas: Table,
    pub attrs: Value,
    /// Per-member attributes (name -> attribute table).
    pub member_attrs: Table,
    pub locked: bool,
    /// Whether `_get` is a member (saves a lookup on every missing index).
    pub has_get: bool,
}

/// An instance of a class.
#[derive(Debug)]
pub(crate) struct Instance {
    pub class: u32,
    pub values: Vec<Value>,
}

/// A suspended or running generator: its own frames' stack slice.
#[derive(Debug)]
pub(crate) struct Generator {
    pub state: GenState,
    pub closure: u32,
    /// The saved stack segment (from the frame base minus the callee slot).
    pub stack: Vec<Value>,
    pub pc: usize,
}

/// A thread (coroutine): its function and, while suspended, its frames and
/// stack segment, saved with bases relative to the segment.
#[derive(Debug)]
pub(crate) struct Thread {
    pub func: Value,
    pub state: ThreadState,
    pub stack: Vec<Value>,
    /// (closure, proto, pc, base relative to the segment, generator, ret_this)
    pub frames: Vec<crate::vm::Frame>,
    /// Traps as (frame index relative, sp relative, pc).
    pub traps: Vec<(usize, usize, usize)>,
    /// Whether `wakeup`'s value is pushed as the result of `suspend`.
    pub push_result: bool,
}

/// Thread states, as `getstatus` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThreadState {
    Idle,
    Running,
    Suspended,
}

/// Generator states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GenState {
    Suspended,
    Running,
    Dead,
}

/// Heap objects of one kind, in slots reused through a free list.
#[derive(Debug)]
pub(crate) struct Arena<T> {
    pub slots: Vec<Option<T>>,
    marks: Vec<bool>,
    free: Vec<u32>,
}

impl<T> Arena<T> {
    fn new() -> Self {
        Arena {
            slots: Vec::new(),
            marks: Vec::new(),
            free: Vec::new(),
        }
    }

    fn alloc(&mut self, v: T) -> u32 {
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = Some(v);
            i
        } else {
            self.slots.push(Some(v));
            self.marks.push(false);
            (self.slots.len() - 1) as u32
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: u32) -> &T {
        match &self.slots[i as usize] {
            Some(v) => v,
            None => unreachable_slot(),
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, i: u32) -> &mut T {
        match &mut self.slots[i as usize] {
            Some(v) => v,
            None => unreachable_slot(),
        }
    }

    /// Marks slot `i`; true when it was not marked yet.
    fn mark(&mut self, i: u32) -> bool {
        let m = &mut self.marks[i as usize];
        !std::mem::replace(m, true)
    }

    fn is_marked(&self, i: u32) -> bool {
        self.marks[i as usize]
    }

    /// Frees every unmarked object, clears the marks; returns the freed.
    fn sweep(&mut self, mut on_free: impl FnMut(u32, T)) {
        for i in 0..self.slots.len() {
            if self.marks[i] {
                self.marks[i] = false;
            } else if let Some(v) = self.slots[i].take() {
                self.free.push(i as u32);
                on_free(i as u32, v);
            }
        }
    }
}

#[cold]
fn unreachable_slot() -> ! {
    // A freed handle is never reachable from a root; reaching here is a
    // collector bug, reported as an internal error by the engine boundary.
    panic!("squirrel heap: dangling handle")
}

/// Approximate byte cost of one object of each kind, plus its contents.
pub(crate) const OBJ_COST: usize = 48;

/// The heap.
#[derive(Debug)]
pub(crate) struct Heap {
    pub strs: Arena<StrObj>,
    buckets: Vec<u32>,
    nstrs: usize,
    pub tables: Arena<TableObj>,
    pub arrays: Arena<Vec<Value>>,
    pub closures: Arena<Closure>,
    pub natives: Arena<Native>,
    pub classes: Arena<Class>,
    pub instances: Arena<Instance>,
    pub gens: Arena<Generator>,
    pub threads: Arena<Thread>,
    pub weakrefs: Arena<Value>,
    pub blobs: Arena<crate::stdlib::Blob>,
    pub outers: Arena<Outer>,
    /// Bytes held by live objects, as this heap counts them.
    pub bytes: usize,
    /// Collect when `bytes` passes this.
    pub next_gc: usize,
    /// This heap's secret hash key ([`secret_key`]), for strings and the
    /// table keys of the VM that owns it.
    pub key: Key,
}

/// A table with an optional delegate.
#[derive(Debug, Default)]
pub(crate) struct TableObj {
    pub t: Table,
    pub delegate: Option<u32>,
}

/// The intern bucket of `hash` among `n` (a power of two): its low bits.
/// Tables place keys by the top bits, which `foreach` order lets a script
/// observe; the interner uses bits no table order reveals.
#[inline]
fn bucket(hash: u64, n: usize) -> usize {
    (hash as usize) & (n - 1)
}

impl Heap {
    pub(crate) fn new() -> Self {
        Heap {
            strs: Arena::new(),
            buckets: vec![u32::MAX; 256],
            nstrs: 0,
            tables: Arena::new(),
            arrays: Arena::new(),
            closures: Arena::new(),
            natives: Arena::new(),
            classes: Arena::new(),
            instances: Arena::new(),
            gens: Arena::new(),
            threads: Arena::new(),
            weakrefs: Arena::new(),
            blobs: Arena::new(),
            outers: Arena::new(),
            bytes: 0,
            next_gc: 1 << 20,
            key: secret_key(),
        }
    }

    /// The keyed hash of a non-string table key's bits (tables take the top
    /// bits; see [`shield_engine::keyed::mix`]). A public multiply and the
    /// low bits before let `t[j << 40]` put every key in one slot of any
    /// table up to 2048 slots.
    #[inline(always)]
    pub(crate) fn mix(&self, x: u64) -> u64 {
        mix(&self.key, x)
    }

    /// Interns `b`: equal strings share one handle.
    pub(crate) fn intern(&mut self, b: &[u8]) -> Value {
        let hash = hash_bytes(&self.key, b);
        let mut i = self.buckets[bucket(hash, self.buckets.len())];
        while i != u32::MAX {
            let s = self.strs.get(i);
            if s.hash == hash && &*s.bytes == b {
                return Value::Str(i);
            }
            i = s.next;
        }
        if self.nstrs >= self.buckets.len() {
            self.grow_buckets();
        }
        let slot = bucket(hash, self.buckets.len());
        self.bytes += b.len() + OBJ_COST;
        let id = self.strs.alloc(StrObj {
            bytes: b.into(),
            hash,
            next: self.buckets[slot],
        });
        self.buckets[slot] = id;
        self.nstrs += 1;
        Value::Str(id)
    }

    fn grow_buckets(&mut self) {
        let n = self.buckets.len() * 2;
        self.bytes += n * 2;
        let mut b = vec![u32::MAX; n];
        for i in 0..self.strs.slots.len() {
            if let Some(s) = &mut self.strs.slots[i] {
                let slot = bucket(s.hash, n);
                s.next = b[slot];
                b[slot] = i as u32;
            }
        }
        self.buckets = b;
    }

    pub(crate) fn str_bytes(&self, id: u32) -> &[u8] {
        &self.strs.get(id).bytes
    }

    #[inline]
    pub(crate) fn str_hash(&self, id: u32) -> u64 {
        self.strs.get(id).hash
    }

    pub(crate) fn new_table(&mut self) -> Value {
        self.bytes += OBJ_COST * 2;
        Value::Table(self.tables.alloc(TableObj::default()))
    }

    pub(crate) fn new_array(&mut self, v: Vec<Value>) -> Value {
        self.bytes += OBJ_COST + v.capacity() * 16;
        Value::Array(self.arrays.alloc(v))
    }

    pub(crate) fn new_closure(&mut self, c: Closure) -> Value {
        self.bytes += OBJ_COST + (c.outers.len() + c.defaults.len()) * 16;
        Value::Closure(self.closures.alloc(c))
    }

    pub(crate) fn new_native(&mut self, n: Native) -> Value {
        self.bytes += OBJ_COST;
        Value::Native(self.natives.alloc(n))
    }

    pub(crate) fn new_class(&mut self, c: Class) -> Value {
        self.bytes += OBJ_COST * 4;
        Value::Class(self.classes.alloc(c))
    }

    pub(crate) fn new_instance(&mut self, i: Instance) -> Value {
        self.bytes += OBJ_COST + i.values.len() * 16;
        Value::Instance(self.instances.alloc(i))
    }

    pub(crate) fn new_generator(&mut self, g: Generator) -> Value {
        self.bytes += OBJ_COST * 2 + g.stack.len() * 16;
        Value::Generator(self.gens.alloc(g))
    }

    pub(crate) fn new_thread(&mut self, t: Thread) -> Value {
        self.bytes += OBJ_COST * 2;
        Value::Thread(self.threads.alloc(t))
    }

    pub(crate) fn new_weakref(&mut self, v: Value) -> Value {
        self.bytes += OBJ_COST;
        Value::WeakRef(self.weakrefs.alloc(v))
    }

    pub(crate) fn new_blob(&mut self, b: crate::stdlib::Blob) -> Value {
        self.bytes += OBJ_COST + b.data.capacity();
        Value::Blob(self.blobs.alloc(b))
    }

    pub(crate) fn new_outer(&mut self, o: Outer) -> u32 {
        self.bytes += OBJ_COST;
        self.outers.alloc(o)
    }

    /// Counts `n` more bytes held by an object that grew.
    #[inline]
    pub(crate) fn grew(&mut self, n: usize) {
        self.bytes += n;
    }

    /// Marks everything reachable from `roots`, then frees the rest and
    /// clears weak references to freed objects.
    pub(crate) fn collect(&mut self, roots: &[Value], outer_roots: &[u32], protos: &[Rc<Proto>]) {
        let mut gray: Vec<Value> = roots.to_vec();
        for p in protos {
            push_proto(&mut gray, p);
        }
        for &o in outer_roots {
            self.mark_outer(o, &mut gray);
        }
        while let Some(v) = gray.pop() {
            self.mark_value(v, &mut gray);
        }
        // Weak references whose target died become null.
        for i in 0..self.weakrefs.slots.len() {
            if !self.weakrefs.marks[i] {
                continue;
            }
            if let Some(v) = self.weakrefs.slots[i]
                && !self.is_live(v)
            {
                self.weakrefs.slots[i] = Some(Value::Null);
            }
        }
        let mut freed = 0usize;
        // Unlink dead strings from their intern chains before freeing them.
        let mut links: Vec<u32> = Vec::new();
        for b in 0..self.buckets.len() {
            links.clear();
            let mut cur = self.buckets[b];
            while cur != u32::MAX {
                if self.strs.is_marked(cur) {
                    links.push(cur);
                } else {
                    self.nstrs -= 1;
                }
                cur = self.strs.get(cur).next;
            }
            self.buckets[b] = links.first().copied().unwrap_or(u32::MAX);
            for w in links.windows(2) {
                self.strs.get_mut(w[0]).next = w[1];
            }
            if let Some(&last) = links.last() {
                self.strs.get_mut(last).next = u32::MAX;
            }
        }
        self.strs.sweep(|_, s| freed += s.bytes.len() + OBJ_COST);
        self.tables
            .sweep(|_, t| freed += OBJ_COST * 2 + t.t.capacity() * 40);
        self.arrays
            .sweep(|_, a| freed += OBJ_COST + a.capacity() * 16);
        self.closures
            .sweep(|_, c| freed += OBJ_COST + (c.outers.len() + c.defaults.len()) * 16);
        self.natives.sweep(|_, _| freed += OBJ_COST);
        self.classes.sweep(|_, _| freed += OBJ_COST * 4);
        self.instances
            .sweep(|_, i| freed += OBJ_COST + i.values.len() * 16);
        self.threads
            .sweep(|_, t| freed += OBJ_COST * 2 + t.stack.len() * 16);
        self.gens
            .sweep(|_, g| freed += OBJ_COST * 2 + g.stack.len() * 16);
        self.weakrefs.sweep(|_, _| freed += OBJ_COST);
        self.blobs
            .sweep(|_, b| freed += OBJ_COST + b.data.capacity());
        self.outers.sweep(|_, _| freed += OBJ_COST);
        self.bytes = self.bytes.saturating_sub(freed);
        self.next_gc = (self.bytes * 2).max(1 << 20);
    }

    fn is_live(&self, v: Value) -> bool {
        match v {
            Value::Str(i) => self.strs.is_marked(i),
            Value::Table(i) => self.tables.is_marked(i),
            Value::Array(i) => self.arrays.is_marked(i),
            Value::Closure(i) => self.closures.is_marked(i),
            Value::Native(i) => self.natives.is_marked(i),
            Value::Class(i) => self.classes.is_marked(i),
            Value::Instance(i) => self.instances.is_marked(i),
            Value::Generator(i) => self.gens.is_marked(i),
            Value::Thread(i) => self.threads.is_marked(i),
            Value::WeakRef(i) => self.weakrefs.is_marked(i),
            Value::Blob(i) => self.blobs.is_marked(i),
            _ => true,
        }
    }

    fn mark_outer(&mut self, o: u32, gray: &mut Vec<Value>) {
        if self.outers.mark(o)
            && let Outer::Closed(v) = self.outers.get(o)
        {
            gray.push(*v);
        }
    }

    fn mark_value(&mut self, v: Value, gray: &mut Vec<Value>) {
        match v {
            Value::Str(i) => {
                self.strs.mark(i);
            }
            Value::Table(i) => {
                if self.tables.mark(i) {
                    let t = self.tables.get(i);
                    for (k, v) in t.t.iter() {
                        gray.push(k);
                        gray.push(v);
                    }
                    if let Some(d) = t.delegate {
                        gray.push(Value::Table(d));
                    }
                }
            }
            Value::Array(i) => {
                if self.arrays.mark(i) {
                    gray.extend_from_slice(self.arrays.get(i));
                }
            }
            Value::Closure(i) => {
                if self.closures.mark(i) {
                    let c = self.closures.get(i);
                    push_proto(gray, &c.proto);
                    gray.extend_from_slice(&c.defaults);
                    if let Some(e) = c.env {
                        gray.push(e);
                    }
                    let outers = c.outers.clone();
                    for o in outers {
                        self.mark_outer(o, gray);
                    }
                }
            }
            Value::Native(i) => {
                if self.natives.mark(i) {
                    gray.push(self.natives.get(i).bound);
                }
            }
            Value::Class(i) => {
                if self.classes.mark(i) {
                    let c = self.classes.get(i);
                    if let Some(b) = c.base {
                        gray.push(Value::Class(b));
                    }
                    for t in [&c.fields, &c.methods, &c.metas, &c.member_attrs] {
                        for (k, v) in t.iter() {
                            gray.push(k);
                            gray.push(v);
                        }
                    }
                    gray.extend_from_slice(&c.defaults);
                    gray.push(c.attrs);
                }
            }
            Value::Instance(i) => {
                if self.instances.mark(i) {
                    let inst = self.instances.get(i);
                    gray.push(Value::Class(inst.class));
                    gray.extend_from_slice(&inst.values);
                }
            }
            Value::Generator(i) => {
                if self.gens.mark(i) {
                    let g = self.gens.get(i);
                    gray.push(Value::Closure(g.closure));
                    gray.extend_from_slice(&g.stack);
                }
            }
            Value::Thread(i) => {
                if self.threads.mark(i) {
                    let t = self.threads.get(i);
                    gray.push(t.func);
                    gray.extend_from_slice(&t.stack);
                    for f in &t.frames {
                        gray.push(Value::Closure(f.closure));
                        if let Some(g) = f.generator {
                            gray.push(Value::Generator(g));
                        }
                    }
                }
            }
            Value::WeakRef(i) => {
                self.weakrefs.mark(i);
            }
            Value::Blob(i) => {
                self.blobs.mark(i);
            }
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
        }
    }
}

fn push_proto(gray: &mut Vec<Value>, p: &Proto) {
    gray.push(p.name);
    gray.extend_from_slice(&p.consts);
    for (n, ..) in &p.locals {
        gray.push(*n);
    }
    for c in &p.protos {
        push_proto(gray, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash before the fix: public FNV-1a, and for a string over 128
    /// bytes only its ends and every (len / 64)th byte.
    fn old_hash(b: &[u8]) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ b.len() as u64;
        let mut eat = |c: u8| {
            h ^= u64::from(c);
            h = h.wrapping_mul(0x0100_0000_01b3);
        };
        if b.len() <= 128 {
            b.iter().for_each(|&c| eat(c));
        } else {
            b[..32].iter().for_each(|&c| eat(c));
            b[b.len() - 32..].iter().for_each(|&c| eat(c));
            b.iter().step_by(b.len() / 64).for_each(|&c| eat(c));
        }
        h ^ (h >> 31)
    }

    /// Chain entries read to find `b` in the interner.
    fn chain_reads(h: &Heap, b: &[u8]) -> usize {
        let mut i = h.buckets[bucket(hash_bytes(&h.key, b), h.buckets.len())];
        let mut n = 0;
        while i != u32::MAX {
            n += 1;
            let s = h.strs.get(i);
            if &*s.bytes == b {
                return n;
            }
            i = s.next;
        }
        panic!("not interned");
    }

    #[test]
    fn strings_colliding_under_the_old_hash_spread() {
        // 4096-byte strings differing only in bytes 33 and 34, which the
        // old sampled hash never read: one hash for all, so the old
        // interner walked a chain of every earlier one for each.
        let n = 2000;
        let strs: Vec<Vec<u8>> = (0..n)
            .map(|j: usize| {
                let mut s = vec![b'a'; 4096];
                s[33] = (j % 256) as u8;
                s[34] = (j / 256) as u8;
                s
            })
            .collect();
        let h0 = old_hash(&strs[0]);
        assert!(strs.iter().all(|s| old_hash(s) == h0));
        let old_reads = n * (n + 1) / 2;
        assert_eq!(old_reads, 2_001_000);
        let mut h = Heap::new();
        for s in &strs {
            h.intern(s);
        }
        let reads: usize = strs.iter().map(|s| chain_reads(&h, s)).sum();
        let longest = strs.iter().map(|s| chain_reads(&h, s)).max().unwrap_or(0);
        eprintln!("chain reads for {n} strings: {reads} (old hash {old_reads}), longest {longest}");
        assert!(reads < 2 * n, "chain reads {reads}");
        assert!(longest < 16, "longest chain {longest}");
    }

    #[test]
    fn two_heaps_draw_different_keys() {
        let (a, b) = (Heap::new(), Heap::new());
        assert_ne!(a.key, b.key);
        let s = b"the same bytes";
        assert_ne!(hash_bytes(&a.key, s), hash_bytes(&b.key, s));
        assert_ne!(a.mix(1 << 40), b.mix(1 << 40));
    }
}
