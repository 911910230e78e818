//! Lua tables: an array part for keys `1..=n` and an open-addressed hash part
//! (linear probing on a keyed hash). Interned strings make
//! the handle itself the key, so string lookups never touch string bytes.
//! Removing a key leaves it in place with a `nil` value, so `next` keeps
//! working during a traversal that clears fields; dead keys go at rehash.

use crate::value::{Value, float_to_int};
use shield_engine::keyed::{mix, secret_key};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Copy, Debug, Default)]
struct Node {
    key: Value,
    val: Value,
}

/// A Lua table.
#[derive(Debug, Default)]
pub struct Table {
    /// Values of keys `1..=arr.len()`.
    pub arr: Vec<Value>,
    nodes: Vec<Node>,
    /// Slots of `nodes` holding a key (live or dead).
    used: usize,
    /// The metatable, if any.
    pub meta: Option<u32>,
    /// Cached absence of metamethods when this table is a metatable: bit `i`
    /// set means event `i` is known absent. Cleared on every raw store.
    pub absent: u32,
}

/// The key hash's secret key words, drawn once per process by the first
/// heap ([`init_key`], before it holds any table) and never changed after,
/// as every table's layout depends on them. Keys a script chooses
/// (integers, and strings whose handles it can learn from `%p`) must not
/// collide on purpose: with a public multiplier, `t[j << 50]` for
/// j = 1..20000 put every key in one slot (0.4 s of probes for 20,000
/// instructions: quadratic); with one secret multiply, keys in a
/// progression (string handles are one) still clustered for about one key
/// in twenty. [`shield_engine::keyed::mix`] says why two multiplies do not.
/// Plain atomics read relaxed (a `OnceLock` here cost closures/OOP about
/// 10%): [`init_key`]'s `Once` orders the stores before any heap exists.
static KEY: [AtomicU64; 3] = [
    AtomicU64::new(0x9E37_79B9_7F4A_7C15),
    AtomicU64::new(0xBF58_476D_1CE4_E5B9),
    AtomicU64::new(0x94D0_49BB_1331_11EB),
];

/// Draws the key hash's secret key, if no heap of this process did.
pub fn init_key() {
    static DRAWN: Once = Once::new();
    DRAWN.call_once(|| {
        for (k, v) in KEY.iter().zip(secret_key()) {
            k.store(v, Ordering::Relaxed);
        }
    });
}

/// The home slot of hash `h` in a hash part of `len` (a power of two)
/// slots: the top bits of the product.
#[inline]
fn home(h: u64, len: usize) -> usize {
    ((h >> (63 - len.trailing_zeros())) >> 1) as usize
}

#[inline]
fn hash(k: Value) -> u64 {
    let bits = match k {
        Value::Int(i) => i as u64,
        Value::Num(f) => f.to_bits() ^ 0x5555,
        Value::Bool(b) => b as u64 + 0x9e37,
        Value::Str(h, _) => (h as u64) << 1 | 1,
        Value::Table(h) => (h as u64) ^ 0x1_0000_0000,
        Value::Func(h) => (h as u64) ^ 0x2_0000_0000,
        Value::Thread(h) => (h as u64) ^ 0x3_0000_0000,
        Value::UData(h) => (h as u64) ^ 0x4_0000_0000,
        Value::Light(p) => p ^ 0x5_0000_0000,
        Value::Nil => 0,
    };
    let k = |i: usize| KEY[i].load(Ordering::Relaxed);
    mix(&[k(0), k(1), k(2), 0], bits)
}

/// Normalizes a float key with an integral value to an integer key.
#[inline]
pub fn norm_key(k: Value) -> Value {
    if let Value::Num(f) = k
        && let Some(i) = float_to_int(f)
    {
        return Value::Int(i);
    }
    k
}

impl Table {
    /// A table with room for `narr` array and `nhash` hash entries.
    pub fn with_capacity(narr: usize, nhash: usize) -> Table {
        let mut t = Table {
            arr: Vec::with_capacity(narr),
            ..Table::default()
        };
        if nhash > 0 {
            t.nodes = vec![Node::default(); (nhash * 4 / 3 + 1).next_power_of_two()];
        }
        t
    }

    /// Approximate bytes held, for memory accounting.
    pub fn bytes(&self) -> usize {
        64 + self.arr.capacity() * 16 + self.nodes.len() * 32
    }

    #[inline]
    fn slot(&self, k: Value) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mask = self.nodes.len() - 1;
        let mut i = home(hash(k), mask + 1);
        loop {
            let n = &self.nodes[i];
            if n.key.is_nil() {
                return None;
            }
            if n.key.raw_eq(k) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// `slot` for an interned string key: the probe compares handles only
    /// (field access, globals and method lookup all come here).
    #[inline]
    fn slot_str(&self, s: u32) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mask = self.nodes.len() - 1;
        let mut i = home(hash(Value::Str(s, s)), mask + 1);
        loop {
            match self.nodes[i].key {
                Value::Str(h, _) if h == s => return Some(i),
                Value::Nil => return None,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Raw get with an integer key.
    #[inline]
    pub fn get_int(&self, i: i64) -> Value {
        let u = (i as u64).wrapping_sub(1);
        if u < self.arr.len() as u64 {
            return self.arr[u as usize];
        }
        match self.slot_int(i) {
            Some(s) => self.nodes[s].val,
            None => Value::Nil,
        }
    }

    /// `slot` for an integer key: the probe compares integers only (keys
    /// outside the array part, such as the 0 of 0-based arrays).
    #[inline]
    fn slot_int(&self, k: i64) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let mask = self.nodes.len() - 1;
        let mut i = home(hash(Value::Int(k)), mask + 1);
        loop {
            match self.nodes[i].key {
                Value::Int(h) if h == k => return Some(i),
                Value::Nil => return None,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Stores non-nil `v` under integer key `k` if the key is in the hash
    /// part with a non-nil value (no growth, no new key); false otherwise.
    /// An integer key is never an event name: the absent bits stay.
    #[inline]
    pub fn replace_int(&mut self, k: i64, v: Value) -> bool {
        match self.slot_int(k) {
            Some(i) if !self.nodes[i].val.is_nil() => {
                self.nodes[i].val = v;
                true
            }
            _ => false,
        }
    }

    /// Raw get with a string key handle.
    #[inline]
    pub fn get_str(&self, s: u32) -> Value {
        match self.slot_str(s) {
            Some(i) => self.nodes[i].val,
            None => Value::Nil,
        }
    }

    /// `get_str` trying slot `hint` first: an instruction that reads the
    /// same field of tables of one shape (`self.x`, a class's methods,
    /// globals) finds its key there with one compare, without the keyed
    /// hash. A wrong or stale hint only costs that compare; a found key's
    /// slot is remembered for the next time.
    #[inline]
    pub fn get_str_hint(&self, s: u32, hint: &std::cell::Cell<u32>) -> Value {
        if let Some(n) = self.nodes.get(hint.get() as usize)
            && let Value::Str(h, _) = n.key
            && h == s
        {
            return n.val;
        }
        match self.slot_str(s) {
            Some(i) => {
                hint.set(i as u32);
                self.nodes[i].val
            }
            None => Value::Nil,
        }
    }

    /// Stores non-nil `v` under string key `s` if the key is present with a
    /// non-nil value (no growth, no new key); false otherwise.
    #[inline]
    pub fn replace_str(&mut self, s: u32, v: Value) -> bool {
        match self.slot_str(s) {
            Some(i) if !self.nodes[i].val.is_nil() => {
                self.nodes[i].val = v;
                self.absent = 0;
                true
            }
            _ => false,
        }
    }

    /// `replace_str` trying slot `hint` first (see
    /// [`Table::get_str_hint`]), remembering the slot a probe finds: a
    /// store to a present field (`self.x = v`) whatever the metatable, as
    /// `__newindex` is not consulted for a present key.
    #[inline]
    pub fn replace_str_hint(&mut self, s: u32, v: Value, hint: &std::cell::Cell<u32>) -> bool {
        let i = match self.nodes.get(hint.get() as usize) {
            Some(n) if matches!(n.key, Value::Str(h, _) if h == s) => hint.get() as usize,
            _ => match self.slot_str(s) {
                Some(i) => {
                    hint.set(i as u32);
                    i
                }
                None => return false,
            },
        };
        if v.is_nil() || self.nodes[i].val.is_nil() {
            return false;
        }
        self.nodes[i].val = v;
        self.absent = 0;
        true
    }

    /// Raw set with an interned string key `k` (a `Value::Str`): one probe
    /// finds the key or the free slot a new key takes. Returns the growth
    /// in bytes, as `set`.
    #[inline]
    pub fn set_str(&mut self, k: Value, v: Value) -> usize {
        let Value::Str(s, _) = k else {
            return self.set(k, v);
        };
        self.absent = 0;
        if self.nodes.is_empty() {
            return if v.is_nil() { 0 } else { self.set_hashed(k, v) };
        }
        let mask = self.nodes.len() - 1;
        let mut i = home(hash(Value::Str(s, s)), mask + 1);
        loop {
            match self.nodes[i].key {
                Value::Str(h, _) if h == s => {
                    self.nodes[i].val = v;
                    return 0;
                }
                Value::Nil => break,
                _ => i = (i + 1) & mask,
            }
        }
        if v.is_nil() {
            return 0;
        }
        if (self.used + 1) * 4 > self.nodes.len() * 3 {
            let grown = self.rehash();
            self.insert_new(k, v);
            return grown;
        }
        self.nodes[i] = Node { key: k, val: v };
        self.used += 1;
        0
    }

    /// Raw get.
    #[inline]
    pub fn get(&self, k: Value) -> Value {
        match k {
            Value::Int(i) => self.get_int(i),
            Value::Str(s, _) => self.get_str(s),
            Value::Nil => Value::Nil,
            Value::Num(f) => match float_to_int(f) {
                Some(i) => self.get_int(i),
                None => self.slot(k).map_or(Value::Nil, |s| self.nodes[s].val),
            },
            _ => self.slot(k).map_or(Value::Nil, |s| self.nodes[s].val),
        }
    }

    /// Appends non-nil `v` at key `arr.len() + 1` when the table has no
    /// hash part (so no following key waits there to be pulled in);
    /// returns the growth in bytes, `None` when it does not apply.
    #[inline]
    pub fn push_plain(&mut self, v: Value) -> Option<usize> {
        if !self.nodes.is_empty() {
            return None;
        }
        self.absent = 0;
        let before = self.arr.capacity();
        self.arr.push(v);
        Some((self.arr.capacity() - before) * 16)
    }

    /// Raw set; the key must not be nil or NaN (checked by the caller).
    /// Returns the growth in bytes.
    pub fn set(&mut self, k: Value, v: Value) -> usize {
        self.absent = 0;
        let k = norm_key(k);
        if let Value::Int(i) = k {
            return self.set_int(i, v);
        }
        self.set_hashed(k, v)
    }

    /// Raw set with an integer key.
    pub fn set_int(&mut self, i: i64, v: Value) -> usize {
        self.absent = 0;
        let len = self.arr.len();
        let u = (i as u64).wrapping_sub(1);
        if u < len as u64 {
            self.arr[u as usize] = v;
            if v.is_nil() && u as usize == len - 1 {
                // Keep the array part ending in a non-nil value.
                while let Some(Value::Nil) = self.arr.last() {
                    self.arr.pop();
                }
            }
            return 0;
        }
        if u == len as u64 && !v.is_nil() {
            let before = self.arr.capacity();
            self.arr.push(v);
            // Pull following keys out of the hash part.
            if self.used > 0 {
                if let Some(s) = self.slot(Value::Int(i)) {
                    self.nodes[s].val = Value::Nil;
                }
                loop {
                    let next = self.arr.len() as i64 + 1;
                    match self.slot(Value::Int(next)) {
                        Some(s) if !self.nodes[s].val.is_nil() => {
                            let val = self.nodes[s].val;
                            self.nodes[s].val = Value::Nil;
                            self.arr.push(val);
                        }
                        _ => break,
                    }
                }
            }
            return (self.arr.capacity() - before) * 16;
        }
        self.set_hashed(Value::Int(i), v)
    }

    fn set_hashed(&mut self, k: Value, v: Value) -> usize {
        if let Some(s) = self.slot(k) {
            self.nodes[s].val = v;
            return 0;
        }
        if v.is_nil() {
            return 0;
        }
        let mut grown = 0;
        if (self.used + 1) * 4 > self.nodes.len() * 3 {
            grown = self.rehash();
        }
        self.insert_new(k, v);
        grown
    }

    fn insert_new(&mut self, k: Value, v: Value) {
        let mask = self.nodes.len() - 1;
        let mut i = home(hash(k), mask + 1);
        while !self.nodes[i].key.is_nil() {
            i = (i + 1) & mask;
        }
        self.nodes[i] = Node { key: k, val: v };
        self.used += 1;
    }

    fn rehash(&mut self) -> usize {
        let before = self.nodes.len();
        let live = self.nodes.iter().filter(|n| !n.val.is_nil()).count();
        let cap = ((live + 1) * 2).max(4).next_power_of_two();
        let old = std::mem::replace(&mut self.nodes, vec![Node::default(); cap]);
        self.used = 0;
        for n in old {
            if !n.val.is_nil() {
                self.insert_new(n.key, n.val);
            }
        }
        cap.saturating_sub(before) * 32
    }

    /// A border (`#t` without `__len`).
    pub fn len(&self) -> i64 {
        let n = self.arr.len();
        if n > 0 && self.arr[n - 1].is_nil() {
            // Binary search for a border inside the array part.
            let (mut lo, mut hi) = (0usize, n);
            while hi - lo > 1 {
                let m = (lo + hi) / 2;
                if self.arr[m - 1].is_nil() {
                    hi = m;
                } else {
                    lo = m;
                }
            }
            return lo as i64;
        }
        if self.used == 0 {
            return n as i64;
        }
        let mut j = n as i64;
        while !self.get_int(j + 1).is_nil() {
            j += 1;
        }
        j
    }

    /// Whether the table is empty of live entries (for `next` checks).
    pub fn is_empty(&self) -> bool {
        self.arr.is_empty() && self.nodes.iter().all(|n| n.val.is_nil())
    }

    /// Traversal: the entry after `k` (`nil` starts); `None` for a key not
    /// in the table, `Some(None)` at the end.
    pub fn next_entry(&self, k: Value) -> Option<Option<(Value, Value)>> {
        let k = norm_key(k);
        let mut pos = match k {
            Value::Nil => 0,
            Value::Int(i) if i >= 1 && (i as u64) <= self.arr.len() as u64 => i as usize,
            _ => match self.slot(k) {
                Some(s) => self.arr.len() + s + 1,
                None => return None,
            },
        };
        while pos < self.arr.len() {
            if !self.arr[pos].is_nil() {
                return Some(Some((Value::Int(pos as i64 + 1), self.arr[pos])));
            }
            pos += 1;
        }
        let mut s = pos - self.arr.len();
        while s < self.nodes.len() {
            let n = self.nodes[s];
            if !n.val.is_nil() {
                return Some(Some((n.key, n.val)));
            }
            s += 1;
        }
        Some(None)
    }

    /// Every live key and value, for the collector.
    pub fn for_each(&self, mut f: impl FnMut(Value)) {
        for v in &self.arr {
            f(*v);
        }
        for n in &self.nodes {
            if !n.val.is_nil() {
                f(n.key);
                f(n.val);
            }
        }
        if let Some(m) = self.meta {
            f(Value::Table(m));
        }
    }

    /// Drops entries whose key or value `dead` says is collected (weak tables).
    pub fn clear_weak(&mut self, weak_k: bool, weak_v: bool, dead: impl Fn(Value) -> bool) {
        if weak_v {
            for v in self.arr.iter_mut() {
                if dead(*v) {
                    *v = Value::Nil;
                }
            }
        }
        for n in self.nodes.iter_mut() {
            if !n.val.is_nil() && ((weak_k && dead(n.key)) || (weak_v && dead(n.val))) {
                n.val = Value::Nil;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_colliding_under_the_old_hash_spread() {
        // `j << 50`: every one landed in slot 0 of the hash part under the
        // old public multiply (its bits 32.. were 0 mod any size up to 2^18).
        let keys: Vec<i64> = (1..=5000).map(|j| j << 50).collect();
        let old = |k: i64| ((k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) & 0x3_ffff;
        assert!(keys.iter().all(|&k| old(k) == 0));
        init_key();
        let mut t = Table::default();
        for &k in &keys {
            t.set_int(k, Value::Bool(true));
        }
        // Probe lengths now: every key's distance from its home slot.
        let mask = t.nodes.len() - 1;
        let mut total = 0;
        let mut longest = 0;
        for (i, n) in t.nodes.iter().enumerate() {
            if !n.key.is_nil() {
                let home = home(hash(n.key), mask + 1);
                let d = i.wrapping_sub(home) & mask;
                total += d;
                longest = longest.max(d);
            }
        }
        // Under the old hash the total was 0 + 1 + ... + 4999 (12.5M);
        // random keys give about 0.8 per key at this load (the hash's own
        // test in `shield_engine::keyed` checks the spread on many keys).
        assert!(total < 4 * keys.len(), "total displacement {total}");
        assert!(longest < 64, "longest probe {longest}");
        for &k in &keys {
            assert!(matches!(t.get_int(k), Value::Bool(true)));
        }
    }
}
