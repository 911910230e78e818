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
        self.charge_output(data.len())?;
        let w: &mut dyn std::io::Write = if fd == 2 { self.stderr } else { self.stdout };
        let _ = w.write_all(data);
        Ok(())
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

fn limit(kind: LimitKind, limits: &Limits) -> Outcome {
    let message = match kind {
        LimitKind::Instructions => format!(
            "instruction limit reached ({})",
            limits.instructions.unwrap_or(0)
        ),
        LimitKind::Memory => format!(
            "memory limit reached ({} bytes)",
            limits.memory_bytes.unwrap_or(0)
        ),
        LimitKind::Output => format!(
            "output limit reached ({} bytes)",
            limits.output_bytes.unwrap_or(0)
        ),
    };
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
        let closes = matches!(r, Ok(()) | Err(LErr::Rt(_)));
        let outcome = report(&mut vm, r, &limits);
        // As `lua5.4` closing its state after the script, even a failed one
        // (after its report): pending finalizers run. A limit or `os.exit`
        // there ends the run.
        let outcome = match closes.then(|| vm.close_state()) {
            Some(Err(LErr::Limit(k))) => {
                let o = limit(k, &limits);
                if let Outcome::Limit { message, .. } = &o {
                    let _ = vm.host.write(2, format!("lua: {message}\n").as_bytes());
                }
                o
            }
            Some(Err(LErr::Exit(c))) => Outcome::Exited(c),
            _ => outcome,
        };
        crate::lib_io::flush_all(&mut vm);
        outcome
    }
}

/// The outcome of the main chunk's end, reported on stderr as `lua5.4` does.
fn report(vm: &mut Vm, r: LResult<()>, limits: &Limits) -> Outcome {
    match r {
        Ok(()) => Outcome::Exited(0),
        Err(LErr::Exit(c)) => Outcome::Exited(c),
        Err(LErr::Limit(k)) => {
            let o = limit(k, limits);
            if let Outcome::Limit { message, .. } = &o {
                let _ = vm.host.write(2, format!("lua: {message}\n").as_bytes());
            }
            o
        }
        Err(LErr::Rt(v)) => {
            let msg = match v {
                Value::Str(_, _) | Value::Int(_) | Value::Num(_) => {
                    String::from_utf8_lossy(&vm.tostr_basic(v)).into_owned()
                }
                Value::Nil => "nil".into(),
                _ => {
                    let has_ts = !vm.get_tm(v, crate::vm::tm::TOSTRING).is_nil();
                    match has_ts.then(|| vm.tostring(v)) {
                        Some(Ok(Value::Str(h, _))) => {
                            String::from_utf8_lossy(vm.heap.str(h)).into_owned()
                        }
                        _ => format!("(error object is a {} value)", v.type_name()),
                    }
                }
            };
            let report = format!("lua: {msg}\nstack traceback:\n\t[C]: in ?\n");
            let _ = vm.host.write(2, report.as_bytes());
            Outcome::Error(msg)
        }
    }
}

fn run_main(vm: &mut Vm, entry: &str, args: &[String]) -> LResult<()> {
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
        Err(_) => {
            let m = vm.str(format!("cannot open {entry}").as_bytes());
            return Err(LErr::Rt(m));
        }
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
        Err(msg) => {
            let m = vm.str(msg.as_bytes());
            return Err(LErr::Rt(m));
        }
    };
    vm.call_n(f, &argv, 0)?;
    Ok(())
}
