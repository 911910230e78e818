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

/// Runs `source` in a child; its outcome line.
fn bomb(source: &str) -> String {
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
    assert!(
        out.status.success(),
        "{source:?}: the child died ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .split_once("<<<OUTCOME ")
        .and_then(|(_, rest)| rest.split_once(">>>"))
        .map(|(o, _)| o.to_owned())
        .unwrap_or_else(|| panic!("{source:?}: no outcome in {stdout}"))
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
    let mut failed = Vec::new();
    for source in [
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
    ] {
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
        if !out.status.success() || !stdout.contains("<<<OUTCOME Limit { kind: Memory") {
            failed.push(format!(
                "{source:?}: {} {}",
                out.status,
                stdout.lines().find(|l| l.contains("OUTCOME")).unwrap_or("")
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
