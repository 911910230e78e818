//! An open-addressing hash table of values keyed by values, with the key's
//! hash stored beside it (strings carry theirs from interning, so a lookup
//! never rehashes bytes). Linear probing, backward-shift deletion: no
//! tombstones, and `next` walks slots in order for `foreach`.

use crate::heap::Value;

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    key: Value,
    val: Value,
}

const EMPTY: Entry = Entry {
    hash: 0,
    key: Value::Null,
    val: Value::Null,
};

/// The table.
#[derive(Debug, Default, Clone)]
pub(crate) struct Table {
    slots: Vec<Entry>,
    len: usize,
}

/// Key identity: same type and same value (1 and 1.0 are different keys).
#[inline(always)]
fn key_eq(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => false,
        _ => a.raw_eq(b),
    }
}

impl Table {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    #[inline(always)]
    fn find(&self, hash: u64, key: Value) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        loop {
            let e = &self.slots[i];
            if matches!(e.key, Value::Null) {
                return None;
            }
            if e.hash == hash && key_eq(e.key, key) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline(always)]
    pub(crate) fn get(&self, hash: u64, key: Value) -> Option<Value> {
        self.find(hash, key).map(|i| self.slots[i].val)
    }

    /// Replaces an existing key's value; false when the key is absent.
    #[inline]
    pub(crate) fn set_existing(&mut self, hash: u64, key: Value, val: Value) -> bool {
        match self.find(hash, key) {
            Some(i) => {
                self.slots[i].val = val;
                true
            }
            None => false,
        }
    }

    /// Inserts or replaces; returns the bytes the table grew by.
    pub(crate) fn insert(&mut self, hash: u64, key: Value, val: Value) -> usize {
        if let Some(i) = self.find(hash, key) {
            self.slots[i].val = val;
            return 0;
        }
        let mut grew = 0;
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let old = self.slots.len();
            let n = (old * 2).max(4);
            grew = (n - old) * size_of::<Entry>();
            let prev = std::mem::replace(&mut self.slots, vec![EMPTY; n]);
            self.len = 0;
            for e in prev {
                if !matches!(e.key, Value::Null) {
                    self.put_new(e);
                }
            }
        }
        self.put_new(Entry { hash, key, val });
        grew
    }

    fn put_new(&mut self, e: Entry) {
        let mask = self.slots.len() - 1;
        let mut i = (e.hash as usize) & mask;
        while !matches!(self.slots[i].key, Value::Null) {
            i = (i + 1) & mask;
        }
        self.slots[i] = e;
        self.len += 1;
    }

    /// Removes a key; returns its value.
    pub(crate) fn remove(&mut self, hash: u64, key: Value) -> Option<Value> {
        let mut i = self.find(hash, key)?;
        let val = self.slots[i].val;
        let mask = self.slots.len() - 1;
        // Backward-shift the following run so probes stay unbroken.
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let e = self.slots[j];
            if matches!(e.key, Value::Null) {
                break;
            }
            let home = (e.hash as usize) & mask;
            let dist_j = j.wrapping_sub(home) & mask;
            let dist_i = i.wrapping_sub(home) & mask;
            if dist_i <= dist_j {
                self.slots[i] = e;
                i = j;
            }
        }
        self.slots[i] = EMPTY;
        self.len -= 1;
        Some(val)
    }

    pub(crate) fn clear(&mut self) {
        for e in &mut self.slots {
            *e = EMPTY;
        }
        self.len = 0;
    }

    /// The first entry at or after slot `from`: (next position, key, value).
    pub(crate) fn next(&self, from: usize) -> Option<(usize, Value, Value)> {
        let mut i = from;
        while i < self.slots.len() {
            let e = &self.slots[i];
            if !matches!(e.key, Value::Null) {
                return Some((i + 1, e.key, e.val));
            }
            i += 1;
        }
        None
    }

    /// All (key, value) pairs in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Value, Value)> + '_ {
        self.slots
            .iter()
            .filter(|e| !matches!(e.key, Value::Null))
            .map(|e| (e.key, e.val))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::Heap;

    /// Total and longest distance of the keys from their home slots: the
    /// extra slot reads a lookup of each key makes.
    fn displacement(t: &Table) -> (usize, usize) {
        let mask = t.slots.len() - 1;
        let mut total = 0;
        let mut longest = 0;
        for (i, e) in t.slots.iter().enumerate() {
            if !matches!(e.key, Value::Null) {
                let d = i.wrapping_sub(e.hash as usize & mask) & mask;
                total += d;
                longest = longest.max(d);
            }
        }
        (total, longest)
    }

    #[test]
    fn integer_keys_colliding_under_the_old_hash_spread() {
        // `t[j << 40]`: the old public mix left the low 11 bits zero, so
        // every key had slot 0 in a table of up to 2048 slots.
        let old = |x: u64| {
            let h = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            h ^ (h >> 29)
        };
        let keys: Vec<i64> = (1..=1500).map(|j| j << 40).collect();
        let mut t = Table::default();
        for &k in &keys {
            t.insert(old(k as u64), Value::Int(k), Value::Bool(true));
        }
        let (old_total, old_longest) = displacement(&t);
        assert_eq!((old_total, old_longest), (1_124_250, 1499));
        let heap = Heap::new();
        let mut t = Table::default();
        for &k in &keys {
            t.insert(heap.mix(k as u64), Value::Int(k), Value::Bool(true));
        }
        let (total, longest) = displacement(&t);
        eprintln!(
            "displacement of 1500 keys: {total}, longest {longest} (old {old_total}, {old_longest})"
        );
        assert!(total < 4 * keys.len(), "total displacement {total}");
        assert!(longest < 64, "longest probe {longest}");
        for &k in &keys {
            let v = t.get(heap.mix(k as u64), Value::Int(k));
            assert!(matches!(v, Some(Value::Bool(true))));
        }
    }
}
