//! The `Engine` implementation: a fresh VM per run, wired to the Job's
//! streams, VFS and clock, with the Job's limits.

use shield_engine::vfs::{OpenMode, VfsFile};
use shield_engine::{Clock, Engine, Job, LimitKind, Limits, Outcome};

use crate::value::Value;
use crate::vm::{Host, LErr, LResult, Vm};

/// Lua 5.4 on this crate's VM.
#[derive(Debug, Default, Clone, Copy)]
pub struct LuaVm;

impl LuaVm {
    /// The engine.
    pub fn new() -> LuaVm {
        LuaVm
    }
}

struct JobHost<'a> {
    stdin: &'a mut dyn std::io::Read,
    stdout: &'a mut dyn std::io::Write,
    stderr: &'a mut dyn std::io::Write,
    vfs: &'a mut dyn shield_engine::vfs::Vfs,
    clock: &'a dyn Clock,
    env: &'a [(String, String)],
    output_left: Option<u64>,
}

impl Host for JobHost<'_> {
    fn write(&mut self, fd: u8, data: &[u8]) -> LResult<()> {
        // The standard streams get output up to the byte the budget ends at.
        let fits = self
            .output_left
            .map_or(data.len(), |left| data.len().min(left as usize));
        let w: &mut dyn std::io::Write = if fd == 2 { self.stderr } else { self.stdout };
        let _ = w.write_all(&data[..fits]);
        self.charge_output(data.len())
    }

    fn read_stdin(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.stdin.read(buf)
    }

    fn open(&mut self, path: &str, mode: &str) -> std::io::Result<Box<dyn VfsFile>> {
        let mode = OpenMode::parse(mode).ok_or_else(|| std::io::Error::other("invalid mode"))?;
        let path = shield_engine::vfs::normalize(path)?;
        self.vfs.open(&path, mode)
    }

    fn time(&self) -> i64 {
        self.clock.unix_time()
    }

    fn clock(&self) -> f64 {
        self.clock.cpu_seconds()
    }

    fn remove(&mut self, path: &str) -> std::io::Result<()> {
        let path = shield_engine::vfs::normalize(path)?;
        self.vfs.remove(&path)
    }

    fn rename(&mut self, from: &str, to: &str) -> std::io::Result<()> {
        let from = shield_engine::vfs::normalize(from)?;
        let to = shield_engine::vfs::normalize(to)?;
        self.vfs.rename(&from, &to)
    }

    fn getenv(&self, name: &[u8]) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k.as_bytes() == name)
            .map(|(_, v)| v.as_str())
    }

    fn report(&mut self, text: &[u8]) {
        let _ = self.stderr.write_all(text);
    }

    fn charge_output(&mut self, n: usize) -> LResult<()> {
        if let Some(left) = self.output_left.as_mut() {
            if (n as u64) > *left {
                *left = 0;
                return Err(LErr::Limit(LimitKind::Output));
            }
            *left -= n as u64;
        }
        Ok(())
    }
}

/// The outcome of a limit, and its report on stderr, worded as the other
/// engines word it.
fn limit(vm: &mut Vm, kind: LimitKind, limits: &Limits) -> Outcome {
    let fmt = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
    let message = match kind {
        LimitKind::Instructions => {
            format!("instruction limit of {} reached", fmt(limits.instructions))
        }
        LimitKind::Memory => format!("memory limit of {} bytes reached", fmt(limits.memory_bytes)),
        LimitKind::Output => format!("output limit of {} bytes reached", fmt(limits.output_bytes)),
    };
    vm.host
        .report(format!("shield: script stopped: {message}\n").as_bytes());
    Outcome::Limit { kind, message }
}

impl Engine for LuaVm {
    fn language(&self) -> &'static str {
        "lua"
    }

    fn run(&self, job: Job<'_>) -> Outcome {
        let limits = job.limits;
        let host = JobHost {
            stdin: job.stdin,
            stdout: job.stdout,
            stderr: job.stderr,
            vfs: job.vfs,
            clock: job.clock,
            env: job.env,
            output_left: limits.output_bytes,
        };
        let mut vm = Vm::new(Box::new(host));
        vm.budget = limits
            .instructions
            .map_or(i64::MAX, |n| n.min(i64::MAX as u64) as i64);
        vm.mem_limit = limits
            .memory_bytes
            .map_or(usize::MAX, |n| n.min(usize::MAX as u64) as usize);
        vm.heap_exceeded = job.heap_exceeded;
        crate::open_libs(&mut vm);
        let r = run_main(&mut vm, job.entry, job.args);
        let closes = matches!(r, Ok(None) | Ok(Some(_)) | Err(LErr::Rt(_)));
        let outcome = report(&mut vm, r, &limits);
        // As `lua5.4` closing its state after the script, even a failed one
        // (after its report): pending finalizers run. A limit or `os.exit`
        // there ends the run.
        let outcome = match closes.then(|| vm.close_state()) {
            Some(Err(LErr::Limit(k))) => limit(&mut vm, k, &limits),
            Some(Err(LErr::Exit(c))) => Outcome::Exited(c),
            _ => outcome,
        };
        crate::lib_io::flush_all(&mut vm);
        outcome
    }
}

/// The outcome of the main chunk's end, reported on stderr as `lua5.4`
/// does: `Ok(Some(report))` is an entry that did not load (no traceback,
/// as lua.c), an `LErr::Rt` an uncaught runtime error (with one).
fn report(vm: &mut Vm, r: LResult<Option<String>>, limits: &Limits) -> Outcome {
    match r {
        Ok(None) => Outcome::Exited(0),
        Ok(Some(report)) => script_error(vm, report),
        Err(LErr::Exit(c)) => Outcome::Exited(c),
        Err(LErr::Limit(k)) => limit(vm, k, limits),
        // The error object's `__tostring` is script code: a limit or an
        // exit it reaches ends the run as that.
        Err(LErr::Rt(v)) => match uncaught(vm, v) {
            Ok(report) => script_error(vm, report),
            Err(LErr::Limit(k)) => limit(vm, k, limits),
            Err(LErr::Exit(c)) => Outcome::Exited(c),
            Err(LErr::Rt(_)) => script_error(vm, "error in error handling".to_owned()),
        },
    }
}

/// Reports an uncaught error as lua.c does (`lua5.4: ` and the message);
/// the outcome keeps the message without the closing `[C]: in ?` of the
/// runner below the main chunk.
fn script_error(vm: &mut Vm, report: String) -> Outcome {
    vm.host.report(format!("lua5.4: {report}\n").as_bytes());
    let message = report
        .strip_suffix("\n\t[C]: in ?")
        .unwrap_or(&report)
        .to_owned();
    Outcome::Error(message)
}

/// The report of an error that ended the main chunk, as lua.c's message
/// handler makes it: a string or number, or "(error object is a T value)",
/// with the traceback taken where it was raised; the `__tostring` text of
/// another value alone.
fn uncaught(vm: &mut Vm, v: Value) -> LResult<String> {
    let text = match v {
        Value::Str(_, _) | Value::Int(_) | Value::Num(_) => {
            String::from_utf8_lossy(&vm.tostr_basic(v)).into_owned()
        }
        _ => {
            let tostring = vm.get_tm(v, crate::vm::tm::TOSTRING);
            let named = if tostring.is_nil() {
                Value::Nil
            } else {
                vm.call1(tostring, &[v])?
            };
            match named {
                Value::Str(h, _) => {
                    return Ok(String::from_utf8_lossy(vm.heap.str(h)).into_owned());
                }
                _ => format!("(error object is a {} value)", v.type_name()),
            }
        }
    };
    let traceback = match vm.escaping.take() {
        Some((e, tb)) if e.raw_eq(v) => String::from_utf8_lossy(&tb).into_owned(),
        _ => "stack traceback:\n\t[C]: in ?".to_owned(),
    };
    Ok(format!("{text}\n{traceback}"))
}

/// Loads and runs the entry script: `Ok(Some(report))` for a script that
/// does not load, `Err` for a runtime error, an exit or a limit.
fn run_main(vm: &mut Vm, entry: &str, args: &[String]) -> LResult<Option<String>> {
    let argt = vm.heap.new_table(crate::table::Table::default());
    let e = vm.str(entry.as_bytes());
    vm.raw_set(argt, Value::Int(0), e)?;
    let mut argv = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let s = vm.str(a.as_bytes());
        vm.raw_set(argt, Value::Int(i as i64 + 1), s)?;
        argv.push(s);
    }
    vm.set_field(vm.globals, "arg", Value::Table(argt));
    let src = match crate::lib_pkg::read_file(vm, entry) {
        Ok(s) => s,
        Err(_) => return Ok(Some(format!("cannot open {entry}"))),
    };
    let src = if src.first() == Some(&b'#') {
        let end = src.iter().position(|&c| c == b'\n').unwrap_or(src.len());
        let mut s = b"--".to_vec();
        s.extend_from_slice(&src[end..]);
        s
    } else {
        src
    };
    let mut name = b"@".to_vec();
    name.extend_from_slice(entry.as_bytes());
    let f = match vm.load_chunk(&src, &name, None) {
        Ok(f) => f,
        // As lua.c: a chunk that does not load is reported without a traceback.
        Err(msg) => return Ok(Some(msg)),
    };
    vm.call_n(f, &argv, 0)?;
    Ok(None)
}
