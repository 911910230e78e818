//! The heap: typed arenas addressed by 32-bit handles, a string interner, and
//! exact byte accounting. Collection (mark and sweep) lives in `gc.rs`; the
//! VM runs it only at instruction boundaries where every live value is in a
//! register, a global, a thread or an upvalue.

use shield_engine::keyed::{Key, hash_bytes, secret_key};
use std::cell::Cell;
use std::rc::Rc;

use crate::proto::Proto;
use crate::table::Table;
use crate::value::Value;
use crate::vm::NativeFn;

/// One typed arena: slots, a free list and mark bits.
#[derive(Debug)]
pub struct Arena<T> {
    /// The objects; `None` is a free slot.
    pub slots: Vec<Option<T>>,
    free: Vec<u32>,
    /// Mark bits of the current collection.
    pub marks: Vec<bool>,
    /// Objects marked for finalization (a metatable with `__gc` was set).
    pub fin: Vec<bool>,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena {
            slots: Vec::new(),
            free: Vec::new(),
            marks: Vec::new(),
            fin: Vec::new(),
        }
    }
}

impl<T> Arena<T> {
    /// Stores `v`, reusing a free slot.
    pub fn alloc(&mut self, v: T) -> u32 {
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = Some(v);
            self.fin[i as usize] = false;
            i
        } else {
            self.slots.push(Some(v));
            self.marks.push(false);
            self.fin.push(false);
            (self.slots.len() - 1) as u32
        }
    }

    /// The object at `h`. Handles come only from this arena and stay valid
    /// while reachable; a dangling one is a collector bug, reported by panic.
    #[inline]
    pub fn get(&self, h: u32) -> &T {
        match &self.slots[h as usize] {
            Some(v) => v,
            None => panic!("dangling handle"),
        }
    }

    /// Mutable access to the object at `h`.
    #[inline]
    pub fn get_mut(&mut self, h: u32) -> &mut T {
        match &mut self.slots[h as usize] {
            Some(v) => v,
            None => panic!("dangling handle"),
        }
    }

    /// Frees every unmarked object, calling `size` on each for accounting,
    /// and clears the marks. Returns the bytes freed.
    pub fn sweep(&mut self, size: impl Fn(&T) -> usize) -> usize {
        let mut freed = 0;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if self.marks[i] {
                self.marks[i] = false;
            } else if let Some(v) = slot.take() {
                freed += size(&v);
                self.free.push(i as u32);
            }
        }
        freed
    }
}

/// An upvalue: open while its variable lives in a thread's stack.
#[derive(Debug, Clone, Copy)]
pub enum UpVal {
    /// In `thread`'s stack at `idx`.
    Open(u32, u32),
    /// Closed over: holds the value itself.
    Closed(Value),
}

/// What the VM does specially when a native function is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// An ordinary native.
    None,
    /// `pcall`: a protected call inside the dispatch loop.
    Pcall,
    /// `xpcall`.
    Xpcall,
    /// `coroutine.resume`.
    Resume,
    /// A function of `coroutine.wrap` (upvalue 0 is the thread).
    Wrap,
    /// `coroutine.yield`.
    Yield,
    /// `pairs`: a `__pairs` metamethod runs as a Lua call (it may yield).
    Pairs,
    /// `dofile`: the loaded chunk runs as a Lua call (it may yield).
    Dofile,
}

/// A function.
#[derive(Debug)]
pub enum Func {
    /// A Lua closure.
    Lua {
        /// The compiled function.
        proto: Rc<Proto>,
        /// Upvalue handles.
        upvals: Box<[u32]>,
    },
    /// A native (Rust) function with its own values.
    Native {
        /// The code.
        f: NativeFn,
        /// Its name for error messages.
        name: &'static str,
        /// Bound values.
        upvals: Box<[Value]>,
        /// Handling by the dispatch loop.
        special: Special,
    },
}

/// Where a coroutine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoStatus {
    /// Created or yielded.
    Suspended,
    /// Running now.
    Running,
    /// Resumed another coroutine.
    Normal,
    /// Finished or failed.
    Dead,
}

/// A call frame of a thread.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// Stack index of the called function; registers start right after.
    pub func: usize,
    /// First register.
    pub base: usize,
    /// Next instruction.
    pub pc: usize,
    /// Results the caller wants (-1: all).
    pub nresults: i32,
    /// Where the results go.
    pub ret: usize,
    /// Extra arguments of a vararg function, stored below `func`.
    pub nvarargs: usize,
    /// A protected call boundary (pcall/xpcall): errors stop here.
    pub protect: Protect,
    /// Frame was entered from the host (nested run): returning ends the run.
    pub host_entry: bool,
    /// A `__close` metamethod run by the loop (for names in tracebacks).
    pub tm_close: bool,
    /// Resume by running the last instruction again (a block exit or return
    /// that was closing a to-be-closed variable).
    pub redo: bool,
    /// Entered by a tail call (`debug.getinfo`'s `istailcall`).
    pub tail: bool,
}

/// What a frame does with an error or a normal return, for pcall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protect {
    /// Nothing.
    #[default]
    None,
    /// pcall: results get `true` prepended; errors become `false, msg`.
    Pcall,
    /// xpcall with the handler in the stack slot `func - 1`.
    Xpcall,
    /// Not a call: a `pcall` (false) or `xpcall` (true) that caught an error
    /// and runs the `__close` metamethods of the variables it unwound, one
    /// call at a time in the loop (they may yield). The frame's `pc` is the
    /// lowest stack slot to close, `base` holds the error, `ret` and
    /// `nresults` are the protected call's.
    Closing(bool),
}

/// Where a resume's results go in the resumer.
#[derive(Debug, Clone, Copy)]
pub struct ResumeAt {
    /// Result slot.
    pub ret: usize,
    /// Results wanted.
    pub nresults: i32,
    /// Under pcall.
    pub protect: Protect,
    /// Through `coroutine.wrap` (errors propagate, no status value).
    pub wrap: bool,
    /// Resumed from a host call: the loop run ends on delivery.
    pub host_entry: bool,
}

/// A coroutine (or the main thread): its own value stack and frames.
#[derive(Debug, Default)]
pub struct Thread {
    /// Values.
    pub stack: Vec<Value>,
    /// Calls.
    pub frames: Vec<Frame>,
    /// Open upvalues, sorted by stack index: (index, handle).
    pub open: Vec<(u32, u32)>,
    /// To-be-closed variables.
    pub tbc: Vec<usize>,
    /// First free slot.
    pub top: usize,
    /// Where it is.
    pub status: Option<CoStatus>,
    /// The thread that resumed it.
    pub resumer: Option<u32>,
    /// Nested host runs started while this thread ran (cannot yield across).
    pub nny: u32,
    /// The function to run on first resume.
    pub pending: Option<Value>,
    /// Where a yield's values go on the next resume.
    pub yield_at: Option<(usize, i32, Protect)>,
    /// Where this thread's resume of another delivers.
    pub resume_at: Option<ResumeAt>,
    /// The error that killed it, until `coroutine.close` reports it.
    pub error: Option<Value>,
    /// The native that raised that error, if one did (for tracebacks).
    pub raiser: Option<Value>,
    /// Its hook's events, count and traced pcs while another thread runs
    /// (`Vm::hook_mask`, `hook_count`, `hook_pcs`): hooks are per thread.
    pub hook: (u8, (u32, u32), Vec<usize>),
}

/// A full userdata.
#[derive(Debug)]
pub struct UData {
    /// Its metatable.
    pub meta: Option<u32>,
    /// Its contents.
    pub file: Option<crate::lib_io::LFile>,
}

/// Every object of one VM.
#[derive(Debug, Default)]
pub struct Heap {
    /// String bytes.
    pub strings: Arena<Box<[u8]>>,
    /// Hash of each string slot's bytes, computed once.
    hashes: Vec<u64>,
    intern: Vec<(u32, u32)>,
    interned: usize,
    /// This VM's secret key of the string hash.
    key: Key,
    /// Strings whose probe window in `intern` was full (see [`MAX_PROBE`]).
    overflow: std::collections::BTreeMap<Box<[u8]>, u32>,
    /// Intern-set slots read so far (see [`Heap::probes`]).
    probes: Cell<u64>,
    /// Tables.
    pub tables: Arena<Table>,
    /// Functions.
    pub funcs: Arena<Func>,
    /// Upvalues.
    pub upvals: Arena<UpVal>,
    /// Coroutines (0 is the main thread).
    pub threads: Arena<Thread>,
    /// Userdata.
    pub udata: Arena<UData>,
    /// Bytes accounted now.
    pub bytes: usize,
    /// Collect when `bytes` passes this.
    pub threshold: usize,
    /// The last identity given to a long string.
    next_id: u32,
    /// Collections so far.
    pub epoch: u64,
    /// Objects marked for finalization, in the order they were marked
    /// (not roots: the collector moves the dead ones to `tobefnz`).
    pub finobj: Vec<Value>,
    /// Dead objects whose `__gc` has yet to run, in calling order (roots).
    pub tobefnz: std::collections::VecDeque<Value>,
}

const EMPTY: u32 = u32::MAX;

impl Heap {
    /// Whether `v` is marked for finalization.
    pub fn fin(&self, v: Value) -> bool {
        match v {
            Value::Table(h) => self.tables.fin[h as usize],
            Value::UData(h) => self.udata.fin[h as usize],
            _ => false,
        }
    }

    /// Sets or clears `v`'s finalization mark (tables and userdata only).
    pub fn set_fin(&mut self, v: Value, on: bool) {
        match v {
            Value::Table(h) => self.tables.fin[h as usize] = on,
            Value::UData(h) => self.udata.fin[h as usize] = on,
            _ => {}
        }
    }
}

/// The longest probe of the intern set: a string whose window of this many
/// slots is full goes to the overflow map instead, so no interning ever
/// costs more than this many slot reads (plus a logarithmic map search)
/// whatever the hash does. Under a keyed hash at load 1/2 a run this long
/// does not happen in practice; the bound is the guarantee, not the plan.
pub const MAX_PROBE: usize = 32;

/// Bytes accounted for a string of `n` bytes.
pub fn str_size(n: usize) -> usize {
    n + 24
}

impl Heap {
    /// An empty heap.
    pub fn new() -> Heap {
        Heap::with_key(secret_key())
    }

    /// An empty heap whose string hash uses `key` (tests choose it).
    pub fn with_key(key: Key) -> Heap {
        // Before this heap holds any table.
        crate::table::init_key();
        Heap {
            threshold: 1 << 20,
            key,
            ..Heap::default()
        }
    }

    /// The secret key of this heap's string hash.
    pub fn hash_key(&self) -> Key {
        self.key
    }

    /// Intern-set slots read so far: the work of interning, which the
    /// probe bound keeps linear in the strings made.
    pub fn probes(&self) -> u64 {
        self.probes.get()
    }

    /// How many strings live in the overflow map.
    pub fn overflowed(&self) -> usize {
        self.overflow.len()
    }

    /// Interns `b`: the same bytes always give the same handle.
    pub fn intern(&mut self, b: &[u8]) -> u32 {
        self.intern_ready();
        let hash = hash_bytes(&self.key, b);
        match self.find_interned(b, hash) {
            Ok(h) => h,
            Err(i) => self.add_interned(i, b.into(), hash),
        }
    }

    /// Interns bytes `a..b` of string `h` (a capture, a match): the bytes
    /// are copied only when they are new.
    pub fn intern_sub(&mut self, h: u32, a: usize, b: usize) -> u32 {
        self.intern_ready();
        let found = {
            let piece = &self.strings.get(h)[a..b];
            let hash = hash_bytes(&self.key, piece);
            (hash, self.find_interned(piece, hash))
        };
        match found {
            (_, Ok(x)) => x,
            (hash, Err(i)) => {
                let piece: Box<[u8]> = self.strings.get(h)[a..b].into();
                self.add_interned(i, piece, hash)
            }
        }
    }

    fn intern_ready(&mut self) {
        if self.intern.is_empty() {
            self.intern = vec![(EMPTY, 0); 1024];
        }
    }

    /// The handle of bytes `b` (with hash `hash`) if interned, or the free
    /// slot of the set where they go (`None`: the overflow map). Reads at
    /// most [`MAX_PROBE`] slots.
    fn find_interned(&self, b: &[u8], hash: u64) -> Result<u32, Option<usize>> {
        let mask = self.intern.len() - 1;
        let tag = (hash >> 32) as u32;
        let mut i = hash as usize & mask;
        for n in 1..=MAX_PROBE {
            let (h, t) = self.intern[i];
            if h == EMPTY {
                self.probes.set(self.probes.get() + n as u64);
                return Err(Some(i));
            }
            // The stored hash tag spares a byte compare on most collisions.
            if t == tag && &**self.strings.get(h) == b {
                self.probes.set(self.probes.get() + n as u64);
                return Ok(h);
            }
            i = (i + 1) & mask;
        }
        self.find_overflow(b)
    }

    /// The end of a lookup whose window was full: slots are only filled
    /// between rebuilds, which redo the overflow, so a string not in its
    /// full window was put in the map, if anywhere.
    #[cold]
    #[inline(never)]
    fn find_overflow(&self, b: &[u8]) -> Result<u32, Option<usize>> {
        self.probes.set(self.probes.get() + MAX_PROBE as u64);
        match self.overflow.get(b) {
            Some(&h) => Ok(h),
            None => Err(None),
        }
    }

    /// Stores new string `b` in the overflow map.
    #[cold]
    #[inline(never)]
    fn add_overflow(&mut self, b: Box<[u8]>) -> u32 {
        // The map keeps its own copy of the bytes: accounted too.
        self.bytes += str_size(b.len());
        let h = self.strings.alloc(b.clone());
        self.overflow.insert(b, h);
        h
    }

    /// Stores new string `b` at free slot `i` of the set (`None`: in the
    /// overflow map).
    fn add_interned(&mut self, i: Option<usize>, b: Box<[u8]>, hash: u64) -> u32 {
        let len = b.len();
        let h = match i {
            Some(i) => {
                let h = self.strings.alloc(b);
                self.intern[i] = (h, (hash >> 32) as u32);
                h
            }
            None => self.add_overflow(b),
        };
        if self.hashes.len() <= h as usize {
            self.hashes.resize(h as usize + 1, 0);
        }
        self.hashes[h as usize] = hash;
        self.bytes += str_size(len);
        self.interned += 1;
        if self.interned * 2 > self.intern.len() {
            self.rebuild_intern(self.intern.len() * 2);
        }
        h
    }

    /// `str_value` of bytes `a..b` of string `h`.
    pub fn str_value_sub(&mut self, h: u32, a: usize, b: usize) -> Value {
        let s = self.intern_sub(h, a, b);
        self.value_of(s, b - a)
    }

    /// A string value of `b`: interned; over 40 bytes it gets an identity of
    /// its own, as a long string of C Lua is a distinct object.
    pub fn str_value(&mut self, b: &[u8]) -> Value {
        let h = self.intern(b);
        self.value_of(h, b.len())
    }

    /// The value of interned string `h` of `len` bytes, just made.
    fn value_of(&mut self, h: u32, len: usize) -> Value {
        if len <= 40 {
            return Value::Str(h, h);
        }
        // Identities of long strings live above every handle.
        self.next_id = self.next_id.wrapping_add(1) | 0x8000_0000;
        Value::Str(h, self.next_id)
    }

    /// Rebuilds the intern set from the live strings (after a sweep).
    pub fn rebuild_intern(&mut self, cap: usize) {
        let live = self.strings.slots.iter().filter(|s| s.is_some()).count();
        let cap = cap.max((live * 2 + 2).next_power_of_two()).max(1024);
        let old_len = self.intern.len();
        // Every collection rebuilds the set: at the same size it reuses the
        // allocation, whose pages are mapped (a fresh one of megabytes came
        // from mmap and page-faulted back in at each collection; perf on
        // string building).
        let mut set = std::mem::take(&mut self.intern);
        if set.len() == cap {
            set.fill((EMPTY, 0));
        } else {
            set = vec![(EMPTY, 0u32); cap];
        }
        let mask = cap - 1;
        let old_over: usize = self.overflow.keys().map(|b| str_size(b.len())).sum();
        self.overflow.clear();
        let mut over = 0;
        for (h, s) in self.strings.slots.iter().enumerate() {
            if let Some(s) = s {
                let hash = self.hashes[h];
                let mut i = hash as usize & mask;
                let mut n = 1;
                while set[i].0 != EMPTY && n < MAX_PROBE {
                    i = (i + 1) & mask;
                    n += 1;
                }
                self.probes.set(self.probes.get() + n as u64);
                if set[i].0 == EMPTY {
                    set[i] = (h as u32, (hash >> 32) as u32);
                } else {
                    self.overflow.insert(s.clone(), h as u32);
                    over += str_size(s.len());
                }
            }
        }
        self.bytes = (self.bytes + over).saturating_sub(old_over);
        self.bytes = (self.bytes + cap * 8).saturating_sub(old_len * 8);
        self.intern = set;
        self.interned = live;
    }

    /// The bytes of string `h`.
    #[inline]
    pub fn str(&self, h: u32) -> &[u8] {
        self.strings.get(h)
    }

    /// A new table.
    pub fn new_table(&mut self, t: Table) -> u32 {
        self.bytes += t.bytes();
        self.tables.alloc(t)
    }

    /// Stores `v` under string key `key` in table `th` (SETFIELD's fast
    /// path): without a metatable, through one probe (growth counted); with
    /// one, only over a present field, through the instruction's slot
    /// `hint` ([`Table::replace_str_hint`]). False when neither applies.
    /// Out of line: inlined, the probe and the insertion cost the dispatch
    /// loop registers (fib 4% slower).
    #[inline(never)]
    pub fn set_field(&mut self, th: u32, key: Value, v: Value, hint: &Cell<u32>) -> bool {
        let tb = self.tables.get_mut(th);
        if tb.meta.is_some() {
            return match key {
                Value::Str(s, _) => tb.replace_str_hint(s, v, hint),
                _ => false,
            };
        }
        self.bytes += tb.set_str(key, v);
        true
    }

    /// A new function.
    pub fn new_func(&mut self, f: Func) -> u32 {
        self.bytes += match &f {
            Func::Lua { upvals, .. } => 48 + upvals.len() * 4,
            Func::Native { upvals, .. } => 64 + upvals.len() * 16,
        };
        self.funcs.alloc(f)
    }

    /// A new upvalue.
    pub fn new_upval(&mut self, u: UpVal) -> u32 {
        self.bytes += 24;
        self.upvals.alloc(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interner's hash before the key (fixed and public), for short
    /// strings: the function an attacker could build collisions against.
    fn old_hash(b: &[u8]) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ b.len() as u64;
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap());
            h = (h ^ w).wrapping_mul(0x100_0000_01b3).rotate_left(29);
        }
        for &c in chunks.remainder() {
            h = (h ^ c as u64).wrapping_mul(0x100_0000_01b3);
        }
        h ^ (h >> 31)
    }

    /// `n` distinct 56-byte strings that all land in one slot of any intern
    /// set of up to 2^16 slots under the old hash: bases found by search on
    /// the low 16 bits, each spread into 64 strings of the same full hash
    /// (flipping the top bit of a word and bit 28 of the next cancels out).
    fn old_collisions(n: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut base = [b'a'; 56];
        let mut ctr = 0u64;
        let target = old_hash(&base) & 0xffff;
        while out.len() < n {
            base[..8].copy_from_slice(&ctr.to_le_bytes());
            ctr += 1;
            if old_hash(&base) & 0xffff != target {
                continue;
            }
            for flips in 0u32..64 {
                let mut s = base;
                // Word w carries the difference out if bit w is set; each
                // word takes the incoming difference (bit 28) and the
                // outgoing one (bit 63) so that none is left at the end.
                let mut carry = false;
                for w in 0..7 {
                    let out_bit = w < 6 && flips >> w & 1 == 1;
                    let mut x = u64::from_le_bytes(s[8 * w..8 * w + 8].try_into().unwrap());
                    if carry {
                        x ^= 1 << 28;
                    }
                    if out_bit {
                        x ^= 1 << 63;
                    }
                    s[8 * w..8 * w + 8].copy_from_slice(&x.to_le_bytes());
                    carry = out_bit;
                }
                out.push(s.to_vec());
            }
        }
        out.truncate(n);
        out
    }

    /// Slot reads of a linear-probing set at load 1/2 under `hash`.
    fn probes_under(hash: impl Fn(&[u8]) -> u64, strings: &[Vec<u8>]) -> u64 {
        let mut set = vec![false; (strings.len() * 2).next_power_of_two()];
        let mask = set.len() - 1;
        let mut probes = 0;
        for s in strings {
            let mut i = hash(s) as usize & mask;
            probes += 1;
            while set[i] {
                i = (i + 1) & mask;
                probes += 1;
            }
            set[i] = true;
        }
        probes
    }

    #[test]
    fn collisions_against_the_old_hash_no_longer_degrade() {
        let n = 4000;
        let attack = old_collisions(n);
        let mut distinct = attack.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), n);
        // Under the old hash these strings made interning quadratic.
        let old = probes_under(old_hash, &attack);
        assert!(old > (n * n / 4) as u64, "old hash: {old} probes");
        let mut heap = Heap::new();
        let before = heap.probes();
        let handles: Vec<u32> = attack.iter().map(|s| heap.intern(s)).collect();
        let work = heap.probes() - before;
        eprintln!("{n} strings colliding under the old hash: {old} probes then, {work} now");
        // Every string probed a few slots, rebuilds included.
        assert!(
            work < 8 * n as u64,
            "keyed hash: {work} probes for {n} strings"
        );
        for (s, &h) in attack.iter().zip(&handles) {
            assert_eq!(heap.intern(s), h);
        }
    }

    #[test]
    fn the_probe_bound_holds_when_every_string_collides() {
        // A zero key makes every multiply zero: all strings of one length
        // share one hash, the worst any hash can do.
        let mut heap = Heap::with_key([0; 4]);
        let n = 3000;
        let strings: Vec<Vec<u8>> = (0..n as u64)
            .map(|i| (i * 0x9e37_79b9).to_le_bytes().repeat(2))
            .collect();
        let before = heap.probes();
        let handles: Vec<u32> = strings.iter().map(|s| heap.intern(s)).collect();
        let work = heap.probes() - before;
        assert!(
            heap.overflowed() > n - 2 * MAX_PROBE,
            "{}",
            heap.overflowed()
        );
        // MAX_PROBE per intern and per string of each rebuild (4 doublings
        // at most here, over at most 2n strings).
        let bound = (MAX_PROBE * (n + 8 * n)) as u64;
        assert!(work <= bound, "{work} > {bound}");
        let mut distinct = handles.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), n);
        heap.rebuild_intern(0);
        for (s, &h) in strings.iter().zip(&handles) {
            assert_eq!(heap.intern(s), h);
        }
    }

    #[test]
    fn each_heap_draws_its_own_key() {
        let a = Heap::new().hash_key();
        let b = Heap::new().hash_key();
        assert_ne!(a, b);
        assert_ne!(a, [0; 4]);
        assert_ne!(hash_bytes(&a, b"same"), hash_bytes(&b, b"same"));
    }
}
