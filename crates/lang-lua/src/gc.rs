//! Mark and sweep over the heap's arenas. Roots: the running thread's
//! stack, globals, registry, the string metatable and metamethod names.
//! Weak tables (`__mode`) are traversed without their weak parts and
//! cleared of dead entries after marking; weak-key tables are ephemerons
//! (a value is marked only once its key is). Objects marked for
//! finalization that are found dead are resurrected and queued, and their
//! `__gc` metamethods run afterwards (`Vm::run_finalizers`), as C Lua's
//! atomic phase orders it: weak values are cleared before resurrection,
//! weak keys after.

use std::collections::HashSet;

use crate::heap::{Func, UpVal, str_size};
use crate::proto::Proto;
use crate::value::Value;
use crate::vm::{Vm, tm};

struct Marker {
    gray: Vec<Value>,
    protos: HashSet<usize>,
    weak: Vec<(u32, bool, bool)>,
    /// Weak-key tables with strong values: values wait for their keys.
    ephemerons: Vec<u32>,
}

impl Vm<'_> {
    /// A full collection.
    #[inline(never)]
    pub fn collect(&mut self) {
        // Handles of freed functions may be reused: the loop's cached
        // prototype is keyed by this.
        self.heap.epoch += 1;
        let mut m = Marker {
            gray: Vec::with_capacity(256),
            protos: HashSet::new(),
            weak: Vec::new(),
            ephemerons: Vec::new(),
        };
        let live = self
            .gc_limit
            .take()
            .unwrap_or(self.stack.len())
            .min(self.stack.len());
        m.gray.extend(self.stack[..live].iter().copied());
        // Dead slots would hold handles of collected objects: clear them.
        for v in &mut self.stack[live..] {
            *v = Value::Nil;
        }
        m.gray.extend(self.roots.iter().copied());
        m.gray.push(Value::Table(self.globals));
        m.gray.push(Value::Table(self.registry));
        m.gray.push(Value::Thread(0));
        m.gray.push(Value::Thread(self.cur));
        if let Some(s) = self.string_meta {
            m.gray.push(Value::Table(s));
        }
        for &s in &self.tm_names {
            m.gray.push(Value::Str(s, s));
        }
        for &(_, h) in &self.open {
            self.heap.upvals.marks[h as usize] = true;
        }
        m.gray.extend(self.heap.tobefnz.iter().copied());
        self.mark_converge(&mut m);
        // Weak values die before finalized objects come back.
        self.clear_weak_tables(&m.weak, false);
        // Dead objects with finalizers: resurrected, queued in reverse order
        // of marking.
        let mut dead = Vec::new();
        let mut fin = std::mem::take(&mut self.heap.finobj);
        fin.retain(|&v| {
            if is_dead(&self.heap, v) {
                dead.push(v);
                false
            } else {
                true
            }
        });
        self.heap.finobj = fin;
        for &(t, wk, wv) in &m.weak {
            if wk && wv {
                let t = self.heap.tables.get(t);
                let mut k = Value::Nil;
                while let Some(Some((key, val))) = t.next_entry(k) {
                    for x in [key, val] {
                        if let Value::Str(_, _) = x {
                            m.gray.push(x);
                        }
                    }
                    k = key;
                }
            }
        }
        for &v in dead.iter().rev() {
            self.heap.set_fin(v, false);
            self.heap.tobefnz.push_back(v);
            m.gray.push(v);
        }
        self.mark_converge(&mut m);
        self.clear_weak_tables(&m.weak, true);
        let h = &mut self.heap;
        let mut freed = 0;
        freed += h.strings.sweep(|s| str_size(s.len()));
        freed += h.tables.sweep(|t| t.bytes());
        freed += h.funcs.sweep(|f| match f {
            Func::Lua { upvals, .. } => 48 + upvals.len() * 4,
            Func::Native { upvals, .. } => 64 + upvals.len() * 16,
        });
        freed += h.upvals.sweep(|_| 24);
        freed += h.threads.sweep(|t| t.stack.len() * 16 + 200);
        freed += h.udata.sweep(|_| 64);
        h.bytes = h.bytes.saturating_sub(freed);
        h.rebuild_intern(0);
        h.threshold = (h.bytes * 2).max(1 << 20);
    }

    /// Clears dead entries of weak tables: values only, or keys and values.
    fn clear_weak_tables(&mut self, weak: &[(u32, bool, bool)], keys: bool) {
        for &(t, wk, wv) in weak {
            let mut tab = std::mem::take(self.heap.tables.get_mut(t));
            let heap = &self.heap;
            tab.clear_weak(wk && keys, wv, |v| is_dead(heap, v));
            *self.heap.tables.get_mut(t) = tab;
        }
    }

    /// Marks everything reachable, then the values of ephemerons whose keys
    /// are marked, until nothing more is.
    fn mark_converge(&mut self, m: &mut Marker) {
        self.mark_all(m);
        loop {
            let mut changed = false;
            let mut i = 0;
            while i < m.ephemerons.len() {
                let t = self.heap.tables.get(m.ephemerons[i]);
                let mut k = Value::Nil;
                while let Some(Some((key, val))) = t.next_entry(k) {
                    if !is_dead(&self.heap, key) && is_dead(&self.heap, val) {
                        m.gray.push(val);
                        changed = true;
                    }
                    k = key;
                }
                i += 1;
            }
            if !changed {
                break;
            }
            self.mark_all(m);
        }
    }

    /// Marks `obj` for finalization when its new metatable `meta` has a
    /// `__gc` field (as C Lua, a field added later does not count).
    pub fn check_finalizer(&mut self, obj: Value, meta: Option<u32>) {
        let Some(meta) = meta else {
            return;
        };
        if self
            .heap
            .tables
            .get(meta)
            .get_str(self.tm_names[tm::GC])
            .is_nil()
            || self.heap.fin(obj)
        {
            return;
        }
        self.heap.set_fin(obj, true);
        self.heap.finobj.push(obj);
    }

    /// Runs the `__gc` metamethods of collected objects. An error in one is
    /// a warning; limits and `os.exit` still end the run. Not reentrant.
    pub fn run_finalizers(&mut self) -> crate::vm::LResult<()> {
        if self.in_finalizer {
            return Ok(());
        }
        self.in_finalizer = true;
        let r = self.run_finalizers_inner();
        self.in_finalizer = false;
        r
    }

    fn run_finalizers_inner(&mut self) -> crate::vm::LResult<()> {
        while let Some(o) = self.heap.tobefnz.pop_front() {
            let f = self.get_tm(o, tm::GC);
            if f.is_nil() {
                continue;
            }
            // `o` stays a root while its finalizer runs.
            self.roots.push(o);
            // `debug.getinfo` names it metamethod '__gc', as C Lua does.
            self.tm_calls.push((self.frames.len(), tm::GC));
            let r = self.call_n(f, &[o], 0);
            self.tm_calls.pop();
            self.roots.pop();
            match r {
                Ok(_) => {}
                Err(crate::vm::LErr::Rt(e)) => {
                    let msg = match e {
                        Value::Str(h, _) => String::from_utf8_lossy(self.heap.str(h)).into_owned(),
                        Value::Int(_) | Value::Num(_) => {
                            String::from_utf8_lossy(&self.tostr_basic(e)).into_owned()
                        }
                        _ => "error object is not a string".into(),
                    };
                    self.warning(&format!("error in __gc ({msg})"))?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// At the end of a run, as C Lua's `lua_close`: every object still
    /// marked for finalization is finalized, newest first.
    pub fn close_state(&mut self) -> crate::vm::LResult<()> {
        self.run_finalizers()?;
        let all = std::mem::take(&mut self.heap.finobj);
        for &v in all.iter().rev() {
            self.heap.set_fin(v, false);
            self.heap.tobefnz.push_back(v);
        }
        self.run_finalizers()
    }

    fn mark_all(&mut self, m: &mut Marker) {
        while let Some(v) = m.gray.pop() {
            match v {
                Value::Str(h, _) => self.heap.strings.marks[h as usize] = true,
                Value::Table(h) => {
                    if std::mem::replace(&mut self.heap.tables.marks[h as usize], true) {
                        continue;
                    }
                    let t = self.heap.tables.get(h);
                    let (mut wk, mut wv) = (false, false);
                    if let Some(meta) = t.meta {
                        m.gray.push(Value::Table(meta));
                        if let Value::Str(mode, _) =
                            self.heap.tables.get(meta).get_str(self.tm_names[tm::MODE])
                        {
                            let mode = self.heap.str(mode);
                            wk = mode.contains(&b'k');
                            wv = mode.contains(&b'v');
                        }
                    }
                    if wk || wv {
                        m.weak.push((h, wk, wv));
                        if wk && !wv {
                            m.ephemerons.push(h);
                        }
                        let t = self.heap.tables.get(h);
                        if !wv {
                            m.gray.extend(t.arr.iter().copied());
                        }
                        let mut pairs = Vec::new();
                        let mut k = Value::Nil;
                        while let Some(Some((key, val))) = t.next_entry(k) {
                            pairs.push((key, val));
                            k = key;
                        }
                        // Entries of an all-weak table are looked at after
                        // weak values are cleared (strings of the cleared
                        // ones may die, as in C Lua).
                        if wk && wv {
                            continue;
                        }
                        for (key, val) in pairs {
                            // Strings are values, never weak.
                            let key_strong = !wk || !is_collectable(key);
                            if key_strong {
                                m.gray.push(key);
                            }
                            // An ephemeron's value waits for its key.
                            if !wv && (key_strong || !is_dead(&self.heap, key))
                                || matches!(val, Value::Str(_, _))
                            {
                                m.gray.push(val);
                            }
                        }
                    } else {
                        let gray = &mut m.gray;
                        t.for_each(|v| {
                            if !matches!(
                                v,
                                Value::Nil | Value::Bool(_) | Value::Int(_) | Value::Num(_)
                            ) {
                                gray.push(v);
                            }
                        });
                    }
                }
                Value::Func(h) => {
                    if std::mem::replace(&mut self.heap.funcs.marks[h as usize], true) {
                        continue;
                    }
                    match self.heap.funcs.get(h) {
                        Func::Lua { proto, upvals } => {
                            mark_proto(proto, m);
                            for &u in upvals.iter() {
                                self.heap.upvals.marks[u as usize] = true;
                                match *self.heap.upvals.get(u) {
                                    UpVal::Closed(v) => m.gray.push(v),
                                    UpVal::Open(t, _) => m.gray.push(Value::Thread(t)),
                                }
                            }
                        }
                        Func::Native { upvals, .. } => m.gray.extend(upvals.iter().copied()),
                    }
                }
                Value::Thread(h) => {
                    if std::mem::replace(&mut self.heap.threads.marks[h as usize], true) {
                        continue;
                    }
                    let t = self.heap.threads.get(h);
                    m.gray.extend(t.stack.iter().copied());
                    if let Some(p) = t.pending {
                        m.gray.push(p);
                    }
                    if let Some(e) = t.error {
                        m.gray.push(e);
                    }
                    if let Some(r) = t.raiser {
                        m.gray.push(r);
                    }
                    if let Some(r) = t.resumer {
                        m.gray.push(Value::Thread(r));
                    }
                    for &(_, u) in &t.open {
                        self.heap.upvals.marks[u as usize] = true;
                    }
                }
                Value::UData(h) => {
                    if std::mem::replace(&mut self.heap.udata.marks[h as usize], true) {
                        continue;
                    }
                    if let Some(meta) = self.heap.udata.get(h).meta {
                        m.gray.push(Value::Table(meta));
                    }
                }
                _ => {}
            }
        }
    }
}

fn mark_proto(p: &std::rc::Rc<Proto>, m: &mut Marker) {
    if !m.protos.insert(std::rc::Rc::as_ptr(p) as usize) {
        return;
    }
    m.gray.extend(p.consts.iter().copied());
    m.gray.push(Value::Str(p.text, p.text));
    for c in &p.protos {
        mark_proto(c, m);
    }
}

/// Whether `v` is an object a weak reference does not keep (strings are
/// values here, as in C Lua).
fn is_collectable(v: Value) -> bool {
    matches!(
        v,
        Value::Table(_) | Value::Func(_) | Value::Thread(_) | Value::UData(_)
    )
}

fn is_dead(heap: &crate::heap::Heap, v: Value) -> bool {
    match v {
        Value::Table(h) => !heap.tables.marks[h as usize],
        Value::Func(h) => !heap.funcs.marks[h as usize],
        Value::Thread(h) => !heap.threads.marks[h as usize],
        Value::UData(h) => !heap.udata.marks[h as usize],
        _ => false,
    }
}
