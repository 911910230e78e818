//! Memory bombs under an allocator like the enclave's: this test binary's
//! global allocator counts every byte, raises the run's "over budget" flag
//! (what `Job::heap_exceeded` reads in the enclave) past the budget the
//! script enclave sets (the memory limit and half again), and returns null
//! past a hard ceiling (the enclave's heap), which aborts the process. Each
//! bomb runs in a child process (this binary, re-executed), so an abort is
//! seen as a failed child: every bomb must end with the memory limit (or a
//! RecursionError), the process alive.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_python::PythonEngine;

/// The bomb's source, in the child's environment.
const BOMB: &str = "SHIELD_PY_MEMORY_BOMB";

/// The script's memory limit in the child.
const LIMIT: usize = 32 << 20;

static USED: AtomicUsize = AtomicUsize::new(0);
static BUDGET: AtomicUsize = AtomicUsize::new(usize::MAX);
static CEILING: AtomicUsize = AtomicUsize::new(usize::MAX);

struct Counting;

impl Counting {
    /// Counts `bytes` more, unless that crosses the ceiling.
    fn take(bytes: usize) -> bool {
        let before = USED.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > CEILING.load(Ordering::Relaxed) {
            USED.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        true
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, or returns null (an allocation failure, which callers must
// handle) without calling it; the counting is atomic and allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        USED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged; `ptr` came from this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() && !Self::take(new_size - layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if new_size < layout.size() && !moved.is_null() {
            USED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        if moved.is_null() && new_size > layout.size() {
            USED.fetch_sub(new_size - layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn over_budget() -> bool {
    USED.load(Ordering::Relaxed) > BUDGET.load(Ordering::Relaxed)
}

/// The child's side: runs the bomb with the enclave's arithmetic (budget:
/// the limit and half again over what is in use; ceiling: five times the
/// limit over it) and prints the outcome.
#[test]
fn memory_bomb_child() {
    let Ok(source) = std::env::var(BOMB) else {
        return;
    };
    let outcome = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let mut files = BTreeMap::new();
            files.insert("main.py".to_owned(), source.into_bytes());
            let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            let used = USED.load(Ordering::Relaxed);
            BUDGET.store(used + LIMIT + LIMIT / 2, Ordering::Relaxed);
            CEILING.store(used + 5 * LIMIT, Ordering::Relaxed);
            let outcome = PythonEngine::new().run(Job {
                entry: "main.py",
                args: &[],
                env: &[],
                stdin: &mut std::io::empty(),
                stdout: &mut stdout,
                stderr: &mut stderr,
                vfs: &mut vfs,
                clock: &SystemClock,
                limits: Limits {
                    memory_bytes: Some(LIMIT as u64),
                    ..Limits::default()
                },
                heap_exceeded: over_budget,
            });
            format!("{outcome:?} {}", String::from_utf8_lossy(&stderr))
        })
        .expect("thread")
        .join()
        .expect("the run ends");
    println!("<<<OUTCOME {outcome}>>>");
}

/// Runs `source` in a child; its outcome line, or why there is none
/// (the child died).
fn bomb_outcome(source: &str) -> String {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "memory_bomb_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(BOMB, source)
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return format!(
            "the child died ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    stdout
        .split_once("<<<OUTCOME ")
        .and_then(|(_, rest)| rest.split_once(">>>"))
        .map_or_else(|| format!("no outcome in {stdout}"), |(o, _)| o.to_owned())
}

/// Runs `source` in a child; its outcome line (the child must survive).
fn bomb(source: &str) -> String {
    let outcome = bomb_outcome(source);
    assert!(
        !outcome.starts_with("the child died"),
        "{source:?}: {outcome}"
    );
    outcome
}

/// Runs every source in a child and asserts each ended at the memory
/// limit, listing all that did not.
fn assert_all_memory_limit(sources: &[&str]) {
    let failed: Vec<String> = sources
        .iter()
        .map(|source| (source, bomb_outcome(source)))
        .filter(|(_, outcome)| !outcome.starts_with("Limit { kind: Memory"))
        .map(|(source, outcome)| format!("{source:?}: {outcome}"))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

fn assert_memory_limit(source: &str) {
    let outcome = bomb(source);
    assert!(
        outcome.starts_with("Limit { kind: Memory"),
        "{source:?}: {outcome}"
    );
}

#[test]
fn growing_list_of_big_strings() {
    assert_memory_limit("x = []\nwhile True:\n    x.append('a' * 1_000_000)\n");
}

#[test]
fn one_huge_repetition() {
    for source in [
        "x = 'x' * 10**10\n",
        "x = 'é' * 10**9\n",
        "x = b'x' * 10**10\n",
        "x = [0] * 10**10\n",
        "x = (1, 2) * 10**9\n",
        "try:\n    x = 'x' * 10**10\nexcept BaseException:\n    pass\nwhile True:\n    pass\n",
    ] {
        assert_memory_limit(source);
    }
}

#[test]
fn huge_integers() {
    for source in [
        "x = 2 ** 10**10\n",
        "x = 1 << 10**10\n",
        "x = 3 ** (10**9)\n",
    ] {
        assert_memory_limit(source);
    }
}

#[test]
fn growing_bytearray() {
    for source in [
        "b = bytearray(b'x')\nwhile True:\n    b += bytes(b)\n",
        "b = bytearray(b'x')\nwhile True:\n    b.extend(b)\n",
        "b = bytearray(b'x' * 1000)\nwhile True:\n    b *= 2\n",
        "s = 'x'\nwhile True:\n    s = s + s\n",
    ] {
        assert_memory_limit(source);
    }
}

#[test]
fn growing_dict() {
    assert_memory_limit("d = {}\ni = 0\nwhile True:\n    d[i] = str(i)\n    i += 1\n");
}

#[test]
fn deep_recursion() {
    let outcome = bomb("def f(n):\n    return f(n + 1) + 1\nf(0)\n");
    assert!(outcome.contains("RecursionError"), "{outcome}");
}

#[test]
fn sized_constructors_and_padding() {
    assert_all_memory_limit(&[
        "x = bytes(10**10)\n",
        "x = bytearray(10**10)\n",
        "x = 'x'.ljust(10**10)\n",
        "x = 'x'.center(10**10)\n",
        "x = '1'.zfill(10**10)\n",
        "x = format(1, '10000000000')\n",
        "x = f'{1:>{10**10}}'\n",
        "x = f'{2.5:.{10**10}f}'\n",
        "x = '{:^10000000000}'.format('a')\n",
        "x = tuple(range(10**10))\n",
        "x = '%1000000000d' % 1\n",
        "x = '%-*s' % (10**9, 'a')\n",
        "x = b'%.1000000000d' % 1\n",
        "x = list(range(10**10))\n",
        "x = ','.join(['ab'] * 10**6) * 1000\n",
    ]);
}

/// Native calls whose result is many times their operands, in one step.
#[test]
fn multiplying_methods() {
    assert_all_memory_limit(&[
        "x = 'a\\tb'.expandtabs(10**10)\n",
        "x = ('\\t' * 1000).expandtabs(10**6)\n",
        "x = b'\\t'.expandtabs(10**10)\n",
        "x = bytearray(b'a\\t').expandtabs(tabsize=10**10)\n",
        "s = 'x' * 10**5\nx = s.replace('', s)\n",
        "s = 'a' * 10**5\nx = s.replace('a', 'b' * 10**4)\n",
        "s = 'a' * 10**5\nx = s.replace('a', 'b' * 10**4, count=50000)\n",
        "s = b'x' * 10**5\nx = s.replace(b'', s)\n",
        "s = bytearray(b'a' * 10**5)\nx = s.replace(b'a', memoryview(b'b' * 10**4))\n",
        "s = 'x' * 10**6\nx = ''.join([s] * 1000)\n",
        "s = 'x' * 10**6\nx = ','.join((s,) * 1000)\n",
        "s = 'x' * 10**6\nx = ''.join(s for _ in range(1000))\n",
        "import itertools\nx = ''.join(itertools.repeat('x' * 10**6, 1000))\n",
        "import itertools\nx = ''.join(itertools.repeat('', 10**10))\n",
        "x = ('x' * 10**6).join('a' * 1000)\n",
        "s = b'x' * 10**6\nx = b''.join([s] * 1000)\n",
        "s = bytearray(b'x' * 10**6)\nx = bytearray().join([s, memoryview(s)] * 500)\n",
        "x = ('a' * 10**5).translate({97: 'b' * 10**4})\n",
        "x = ('a' * 10**5).translate(['b' * 10**4] * 128)\n",
        "x = ('a' * 10**5).translate(('b' * 10**4,) * 128)\n",
        "class D(dict):\n    pass\nx = ('a' * 10**5).translate(D({97: 'b' * 10**4}))\n",
        "t = {i: 'y' for i in range(10**5)}\nt[97] = 'b' * 10**4\nx = ('a' * 10**4).translate(t)\n",
        "x = ('ab ' * 3 * 10**6).split()\n",
        "x = (',' * 10**7).split(',')\n",
        "x = ('ab,' * 3 * 10**6).rsplit(',', maxsplit=10**8)\n",
        "x = ('\\n' * 10**7).splitlines()\n",
        "x = (b'ab ' * 3 * 10**6).split()\n",
        "x = bytearray(b',' * 10**7).split(b',')\n",
        "x = (b'\\r\\n' * 5 * 10**6).splitlines(True)\n",
    ]);
}

/// Big but ordinary uses of the same methods still run under the limit,
/// also where the first bound passes it and the guard measures exactly.
#[test]
fn measured_methods_within_the_limit() {
    let outcome = bomb(concat!(
        "assert len(('a\\tbc\\t' * 10**5).expandtabs(4)) == 8 * 10**5\n",
        "assert len(('x' * 10**6 + '\\t').expandtabs(100)) == 10**6 + 100\n",
        "assert len(('x' * 10**6).replace('x', 'yy')) == 2 * 10**6\n",
        "assert len(('x' * 10**5).replace('', '-', 10)) == 10**5 + 10\n",
        "s = 'a' * 10 + 'b' * 10**6\n",
        "assert len(s.replace('a', 'c' * 1000)) == 10**6 + 10 * 1000\n",
        "assert len(s.encode().replace(b'a', b'c' * 1000)) == 10**6 + 10 * 1000\n",
        "assert len(s.translate({97: 'z' * 100, 98: None})) == 1000\n",
        "assert len(''.join(['x' * 1000] * 1000)) == 10**6\n",
        "assert len(b'-'.join(b'x' for _ in range(10**5))) == 2 * 10**5 - 1\n",
        "assert len(('a' * 10**6).translate({97: 'bc'})) == 2 * 10**6\n",
        "assert len(('a,' * 10**6).split(',')) == 10**6 + 1\n",
        "assert len(('ab ' * 10**6).split(maxsplit=3)) == 4\n",
        "assert len(('a\\n' * 10**6).splitlines()) == 10**6\n",
        "assert len((b'ab,' * 10**5).split(b',')) == 10**5 + 1\n",
    ));
    assert!(outcome.starts_with("Exited(0)"), "{outcome}");
}

/// Native calls that drain an iterator into one growing object, and
/// `int.to_bytes` and `os.urandom` of a huge length.
#[test]
fn draining_iterators() {
    assert_all_memory_limit(&[
        "x = sorted(range(10**10))\n",
        "x = [].extend(range(10**10))\n",
        "x = dict.fromkeys(range(10**9))\n",
        "import itertools\nx = list(itertools.repeat(0, 10**10))\n",
        "import itertools\nx = set(itertools.count())\n",
        "x = list('\u{4e2d}' * 10**7)\n",
        "x = (1).to_bytes(10**10, 'big')\n",
        "x = (1).to_bytes(length=10**10)\n",
        "import os\nx = os.urandom(10**10)\n",
    ]);
}

/// The slots' checks hold when the dunder methods are called by name.
#[test]
fn dunders_by_name() {
    assert_all_memory_limit(&[
        "x = 'x'.__mul__(10**10)\n",
        "x = str.__mul__('ab', 10**10)\n",
        "x = b'x'.__rmul__(10**10)\n",
        "x = bytearray(b'x').__imul__(10**10)\n",
        "x = [0].__rmul__(10**10)\n",
        "x = (1,).__mul__(10**10)\n",
        "x = (2).__pow__(10**10)\n",
        "x = (10**10).__rpow__(3)\n",
        "x = (1).__lshift__(10**10)\n",
        "x = (10**10).__rlshift__(1)\n",
        "x = 'a%1000000000d'.__mod__(1)\n",
        "x = bytearray(b'%1000000000d') % 1\n",
    ]);
}
