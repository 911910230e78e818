//! Scripts written to break a run: each must end with a defined outcome (a
//! limit, an error the script sees, a mapped exit status), never a hang, a
//! panic, an abort of this process or output that escapes the job's streams.

mod common;

use std::collections::BTreeMap;

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay, Vfs};
use shield_engine::{Engine, Job, LimitKind, Limits, Outcome, SystemClock};
use shield_lang_lua::LuaVm;

struct Run {
    outcome: Outcome,
    stdout: String,
    stderr: String,
}

/// Runs `main.lua` among `files` on a thread with the enclave's stack.
fn run_files(files: &[(&str, &[u8])], limits: Limits, heap_exceeded: fn() -> bool) -> Run {
    let base: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
        .collect();
    std::thread::Builder::new()
        .stack_size(common::ENCLAVE_STACK)
        .spawn(move || {
            let mut vfs = Overlay::new(MemoryFiles::new(base), MemoryWrites::new());
            run_on_this_thread(&mut vfs, limits, heap_exceeded)
        })
        .expect("spawn")
        .join()
        .expect("the VM does not panic")
}

fn run_on_this_thread(vfs: &mut dyn Vfs, limits: Limits, heap_exceeded: fn() -> bool) -> Run {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let outcome = LuaVm::new().run(Job {
        entry: "main.lua",
        args: &[],
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut stdout,
        stderr: &mut stderr,
        vfs,
        clock: &SystemClock,
        limits,
        heap_exceeded,
    });
    Run {
        outcome,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The limits of a typical bundle, scaled down.
const LIMITS: Limits = Limits {
    instructions: Some(5_000_000),
    memory_bytes: Some(64 << 20),
    output_bytes: Some(1 << 20),
};

fn run(script: &str) -> Run {
    run_files(
        &[("main.lua", script.as_bytes())],
        LIMITS,
        shield_engine::no_heap_budget,
    )
}

#[track_caller]
fn assert_limit(r: &Run, kind: LimitKind) {
    match &r.outcome {
        Outcome::Limit { kind: got, .. } => assert_eq!(*got, kind, "stderr: {}", r.stderr),
        other => panic!(
            "expected the {kind:?} limit, got {other:?}; stderr: {}",
            r.stderr
        ),
    }
    assert_eq!(r.outcome.exit_status(), 3);
}

// ── 1. Finalizers ──────────────────────────────────────────────────────────

#[test]
fn endless_finalizers_meet_the_instruction_limit() {
    for script in [
        "setmetatable({}, {__gc = function() while true do end end}) collectgarbage()",
        // Without an explicit collection: the state's close runs it.
        "setmetatable({}, {__gc = function() while true do end end})",
        "coroutine.wrap(function() setmetatable({}, {__gc = function() while true do end end}) \
         collectgarbage() end)()",
        // A metatable whose __gc is replaced after setmetatable.
        "local mt = {__gc = true} setmetatable({}, mt) mt.__gc = function() while true do end end \
         collectgarbage()",
    ] {
        assert_limit(&run(script), LimitKind::Instructions);
    }
}

#[test]
fn the_report_of_an_uncaught_error_object_runs_under_the_limits() {
    let r = run("error(setmetatable({}, {__tostring = function() while true do end end}))");
    assert_limit(&r, LimitKind::Instructions);
    let r = run("error(setmetatable({}, {__tostring = function() os.exit(5) end}))");
    assert_eq!(r.outcome, Outcome::Exited(5));
}

#[test]
fn a_memory_limit_inside_a_finalizer_ends_the_run() {
    let r = run("setmetatable({}, {__gc = function() local t = {} \
                 for i = 1, 1e9 do t[i] = ('x'):rep(1 << 20) .. i end end}) collectgarbage() \
                 print('after')");
    assert_limit(&r, LimitKind::Memory);
}

#[test]
fn finalizers_still_run_with_their_object() {
    let r = run("local mt = {__gc = function(o) print('gc', o.name) end} \
                 setmetatable({name = 'a'}, mt) collectgarbage() \
                 local keep = setmetatable({name = 'b'}, mt) print(getmetatable(keep) == mt, mt.__gc ~= nil) \
                 setmetatable({}, {__gc = function() error('boom') end}) warn('@on') collectgarbage()");
    assert_eq!(r.outcome, Outcome::Exited(0), "{}", r.stderr);
    assert_eq!(r.stdout, "gc\ta\ntrue\ttrue\ngc\tb\n");
    assert!(
        r.stderr.starts_with("Lua warning: error in __gc ("),
        "{}",
        r.stderr
    );
}

/// omnilua's prelude wrapped library functions in closures whose upvalues
/// held the originals; here they are natives with nothing to reach, and
/// `debug.getupvalue` returns no value for them, as in lua5.4 (so the last
/// call adds none).
#[test]
fn library_functions_hold_nothing_a_script_can_reach() {
    let r = run(
        "print(debug.getupvalue(setmetatable, 1), debug.getupvalue(load, 1), \
                 debug.getupvalue(string.gsub, 1), debug.getupvalue(warn, 1))",
    );
    assert_eq!(r.stdout, "nil\tnil\tnil\n");
}

// ── 2. Memory ──────────────────────────────────────────────────────────────

/// (Doubling a string and filling a table forever: `limits.rs`.)
#[test]
fn allocation_bombs_end_with_the_memory_limit() {
    for script in [
        "local s = string.rep('a', 1 << 20):gsub('a', string.rep('b', 4096))",
        "local big = ('b'):rep(1 << 20); ('a'):rep(1 << 16):gsub('a', function() return big end)",
        "local big = ('b'):rep(1 << 20); ('a'):rep(1 << 16):gsub('a', {a = big})",
        "local t, big = {}, ('b'):rep(1 << 20) for i = 1, 1 << 12 do t[i] = big end table.concat(t)",
        "local big = ('b'):rep(1 << 20) string.format(('%s'):rep(200), table.unpack(setmetatable({}, \
         {__index = function() return big end}), 1, 200))",
        "local piece = ('x=1 '):rep(1 << 18) load(function() return piece end)",
        // (A format with no values to pack is an argument error in lua5.4
        // and here, before any packing; omnilua ran out of memory first.)
        "local t = {} for i = 1, 100 do t[i] = '' end string.pack(('c1048576'):rep(100), table.unpack(t))",
    ] {
        assert_limit(&run(script), LimitKind::Memory);
    }
}

#[test]
fn the_heap_backstop_stops_a_script_the_vm_undercounts() {
    fn over() -> bool {
        true
    }
    for script in [
        "coroutine.create(function() end)",
        "coroutine.wrap(function() end)",
        "print('x')",
        "io.write('x')",
    ] {
        let r = run_files(&[("main.lua", script.as_bytes())], LIMITS, over);
        assert_limit(&r, LimitKind::Memory);
        assert_eq!(r.stdout, "");
    }
}

#[test]
fn wrapped_library_errors_read_as_c_luas() {
    // (Called as statements: in a tail call the script's frame is gone
    // before the wrapper sees the error, so there is no line to name.)
    let r = run("print(pcall(function() local s = ('x'):rep(1e10) end)) \
                 print(pcall(function() local s = string.format('%d', 'x') end)) \
                 print(pcall(string.gsub, 'x', 'x', function() error('mine', 0) end)) \
                 print(pcall(string.gsub, 'x', 'x', function() error('mine') end))");
    assert_eq!(
        r.stdout,
        "false\tmain.lua:1: resulting string too large\n\
         false\tmain.lua:1: bad argument #2 to 'format' (number expected, got string)\n\
         false\tmine\n\
         false\tmain.lua:1: mine\n",
        "{}",
        r.stderr
    );
}

/// The traceback names the library function as lua5.4's does (omnilua's
/// wrappers hid it).
#[test]
fn library_errors_still_name_the_script_line() {
    let r = run("\n\nstring.rep()");
    assert_eq!(
        r.outcome,
        Outcome::Error(
            "main.lua:3: bad argument #1 to 'rep' (string expected, got no value)\n\
             stack traceback:\n\t[C]: in function 'string.rep'\n\tmain.lua:3: in main chunk"
                .into()
        ),
    );
}

// ── 3. Seeking past the end ────────────────────────────────────────────────

#[test]
fn a_gap_left_by_seeking_is_output() {
    let r = run("local f = io.open('out', 'w') f:seek('set', 1 << 40) print(f:write('x'))");
    assert_eq!(r.stdout, "nil\tFile too large\t27\n", "{}", r.stderr);
    let r = run("local f = io.open('out', 'w') f:seek('set', 2 << 20) f:write('x')");
    assert_limit(&r, LimitKind::Output);
    // "w+": a "w" file is write-only in lua5.4 (omnilua let it be read).
    let r = run(
        "local f = io.open('out', 'w+') f:write('ab') f:seek('set', 1000) f:write('x') \
                 f:seek('set', 0) print(#f:read('a'))",
    );
    assert_eq!(r.stdout, "1001\n", "{}", r.stderr);
}

// ── 5. Warnings ────────────────────────────────────────────────────────────

#[test]
fn warnings_go_to_the_jobs_stderr_within_the_output_limit() {
    let r = run("warn('not shown') warn('@on') warn('x', 'y') warn('@off') warn('z')");
    assert_eq!(r.outcome, Outcome::Exited(0));
    assert_eq!(r.stderr, "Lua warning: xy\n");
    let r = run("warn('@on') while true do warn(('w'):rep(1000)) end");
    assert_limit(&r, LimitKind::Output);
}

// ── 6. Binary chunks ───────────────────────────────────────────────────────

/// omnilua refused binary chunks everywhere; this VM loads its own
/// `string.dump` format through a validating loader, as lua5.4 loads its
/// own, and a corrupt chunk is an error with lua5.4's words (the output
/// below is lua5.4's, byte for byte).
#[test]
fn binary_chunks_load_as_in_lua54_and_corrupt_ones_are_errors() {
    let chunk = b"\x1bLua\x54\x00garbage";
    let r = run_files(
        &[
            (
                "main.lua",
                b"print(load(string.dump(function() end), nil, 't')) \
                  print(type(load(string.dump(function() return 1 end), nil, 'b'))) \
                  print(load(string.dump(function() return 1 end))()) \
                  print(pcall(require, 'm')) print(loadfile('m.lua'))",
            ),
            ("m.lua", chunk),
        ],
        LIMITS,
        shield_engine::no_heap_budget,
    );
    assert_eq!(
        r.stdout,
        "nil\tattempt to load a binary chunk (mode is 't')\nfunction\n1\n\
         false\terror loading module 'm' from file './m.lua':\n\
         \t./m.lua: bad binary format (corrupted chunk)\n\
         nil\tm.lua: bad binary format (corrupted chunk)\n",
        "{}",
        r.stderr
    );
    let r = run_files(
        &[("main.lua", chunk)],
        LIMITS,
        shield_engine::no_heap_budget,
    );
    assert_eq!(r.outcome.exit_status(), 1);
    assert_eq!(
        r.stderr,
        "lua5.4: main.lua: bad binary format (corrupted chunk)\n"
    );
}

// ── 8. Exit statuses ───────────────────────────────────────────────────────

#[test]
fn exit_statuses_are_mapped_into_0_to_255() {
    for (script, status) in [
        ("os.exit(-1)", 255),
        ("os.exit(2^31)", 255),
        ("os.exit(256)", 255),
        ("os.exit(255)", 255),
        ("os.exit(7)", 7),
        ("os.exit(false)", 1),
    ] {
        assert_eq!(run(script).outcome.exit_status(), status, "{script}");
    }
}

// ── 9. Files whose storage fails ───────────────────────────────────────────

/// A file system whose `main.lua` is the script and whose every other file
/// reads ten 7s and then fails, and fails to flush: what a protected file
/// gives when the host corrupts or withholds its nodes.
struct Failing(Vec<u8>);

struct FailingFile {
    served: usize,
}

impl std::io::Read for FailingFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.served >= 10 {
            return Err(std::io::Error::from_raw_os_error(5));
        }
        let n = buf.len().min(10 - self.served);
        buf[..n].fill(b'7');
        self.served += n;
        Ok(n)
    }
}

impl std::io::Write for FailingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::from_raw_os_error(5))
    }
}

impl std::io::Seek for FailingFile {
    fn seek(&mut self, _: std::io::SeekFrom) -> std::io::Result<u64> {
        Ok(self.served as u64)
    }
}

impl Vfs for Failing {
    fn open(
        &mut self,
        path: &str,
        _: shield_engine::vfs::OpenMode,
    ) -> std::io::Result<Box<dyn shield_engine::vfs::VfsFile>> {
        if path == "main.lua" {
            return Ok(Box::new(std::io::Cursor::new(self.0.clone())));
        }
        Ok(Box::new(FailingFile { served: 0 }))
    }
    fn metadata(&mut self, _: &str) -> std::io::Result<shield_engine::vfs::Metadata> {
        Err(std::io::ErrorKind::NotFound.into())
    }
    fn list(&mut self, _: &str) -> std::io::Result<Vec<shield_engine::vfs::DirEntry>> {
        Err(std::io::ErrorKind::NotFound.into())
    }
}

#[test]
fn a_failing_file_is_an_error_the_script_sees_never_a_short_read() {
    let script = "print(io.open('f'):read('a')) print(io.open('f'):read('n')) \
                  print(io.open('f'):read(5, 'a')) \
                  print(pcall(function() for l in io.open('f'):lines() do end end)) \
                  print(io.open('g', 'w'):close()) \
                  local f = io.open('g', 'w') print(f:write('x') == f, f:flush())";
    let run = run_on_this_thread(
        &mut Failing(script.as_bytes().to_vec()),
        LIMITS,
        shield_engine::no_heap_budget,
    );
    assert_eq!(run.outcome, Outcome::Exited(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "nil\tInput/output error\t5\n\
         nil\tInput/output error\t5\n\
         nil\tInput/output error\t5\n\
         false\tmain.lua:1: Input/output error\n\
         nil\tInput/output error\t5\n\
         true\tnil\tInput/output error\t5\n"
    );
}
