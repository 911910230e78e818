//! Mark and sweep over the heap's arenas. Roots: the running thread's
//! stack, globals, registry, the string metatable and metamethod names.
//! Weak tables (`__mode`) are traversed without their weak parts and
//! cleared of dead entries after marking.

use std::collections::HashSet;

use crate::heap::{Func, UpVal, str_size};
use crate::proto::Proto;
use crate::value::Value;
use crate::vm::{Vm, tm};

struct Marker {
    gray: Vec<Value>,
    protos: HashSet<usize>,
    weak: Vec<(u32, bool, bool)>,
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
        self.mark_all(&mut m);
        // Clear weak entries.
        for &(t, wk, wv) in &m.weak {
            let mut tab = std::mem::take(self.heap.tables.get_mut(t));
            let heap = &self.heap;
            tab.clear_weak(wk, wv, |v| is_dead(heap, v));
            *self.heap.tables.get_mut(t) = tab;
        }
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
                        for (key, val) in pairs {
                            // Strings are values, never weak.
                            if !wk || matches!(key, Value::Str(_, _)) {
                                m.gray.push(key);
                            }
                            if !wv || matches!(val, Value::Str(_, _)) {
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

fn is_dead(heap: &crate::heap::Heap, v: Value) -> bool {
    match v {
        Value::Table(h) => !heap.tables.marks[h as usize],
        Value::Func(h) => !heap.funcs.marks[h as usize],
        Value::Thread(h) => !heap.threads.marks[h as usize],
        Value::UData(h) => !heap.udata.marks[h as usize],
        _ => false,
    }
}
