//! One run: the Boa context and its hooks (jobs, modules, clock), the event
//! loop, and how the run's end becomes an [`Outcome`].

use std::any::Any;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::rc::Rc;
use std::task::{Poll, Waker};

use boa_engine::builtins::promise::{OperationType, PromiseState};
use boa_engine::context::time::JsInstant;
use boa_engine::context::{Clock as BoaClock, ContextBuilder, HostHooks};
use boa_engine::error::{EngineError, RuntimeLimitError};
use boa_engine::job::{GenericJob, Job as BoaJob, JobExecutor, NativeAsyncJob, PromiseJob};
use boa_engine::module::{ModuleLoader, ModuleRequest, Referrer, SyntheticModuleInitializer};
use boa_engine::object::builtins::JsPromise;
use boa_engine::realm::Realm;
use boa_engine::{
    Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, Module, Script, Source,
    js_string,
};
use shield_engine::{Job, LimitKind, Limits, Outcome};

use crate::depth::{MAX_NESTING, nesting};
use crate::host::{
    self, ARGV, CLOCK_START, ENV, HEAP_EXCEEDED, IO, Io, MEMORY_LIMIT, OUTPUT_LEFT, STACK_BASE,
    STATE, STOP, State, Stop, check_heap, check_stack, with_io,
};

const PRELUDE: &str = include_str!("prelude.js");

/// JavaScript frames (plus native re-entries) before a `RangeError`. Node
/// allows about 11,000 simple frames; script-to-script calls do not recurse
/// on the native stack in Boa, and native re-entries (getters, callbacks of
/// built-ins) were measured to fit an 8 MiB stack at this depth.
const RECURSION_LIMIT: usize = 3_000;

/// Values on Boa's VM stack before a `RangeError`.
const VALUE_STACK_LIMIT: usize = 1 << 20;

/// Boa's cost units between two polls of the heap backstop while script
/// code runs under [`call_polled`]: an opcode costs 1 to 8, and a loop
/// whose turn doubles a string (`s = s + s`) costs about 4, so a poll comes
/// at most two doublings after the budget is crossed. Measured with a 64 MiB
/// limit and a resident-memory backstop (release `jsrun`): at 32 units that
/// loop peaked at 1.5 GiB resident (past the enclave's 1 GiB heap), at 8 at
/// 210 MiB; richards ran 4.5 s unpolled, 4.7 to 4.9 s at 8 and 5.0 s at 32
/// (one machine shared with other work: within its noise).
const POLL_EVERY: u32 = 8;

/// The global through which [`call_polled`] hands its call to the
/// trampoline script (the script can see it, and only hurt its own run).
const PENDING: &str = "__shieldPendingCall";

/// Calls `f` from script code evaluated under Boa's budgeted evaluation,
/// which hands control back every [`POLL_EVERY`] units: the heap backstop
/// is polled there, so a loop that allocates without ever calling into the
/// script's world still meets the memory limit. The call is made from
/// bytecode (a spread call in the trampoline), so the function and what it
/// calls run in that evaluation. What built-ins call back synchronously
/// (`forEach` callbacks, getters, promise reactions) and ES module bodies
/// run outside it: there the backstop is polled only at the next call into
/// the script's world. Promise reactions are called through here too (see
/// `Hooks::call_job_callback`).
fn call_polled(f: &JsObject, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let pending = JsObject::with_null_proto();
    pending.set(js_string!("f"), f.clone(), false, context)?;
    let args = boa_engine::object::builtins::JsArray::from_iter(args.iter().cloned(), context);
    pending.set(js_string!("args"), args, false, context)?;
    context
        .global_object()
        .set(JsString::from(PENDING), pending, false, context)?;
    let cached = STATE.with_borrow(|s| s.trampoline.clone());
    let trampoline = match cached {
        Some(script) => script,
        None => {
            // A plain call (`this` undefined), parsed once per run.
            let script = Script::parse(
                Source::from_bytes(format!("(0, {PENDING}.f)(...{PENDING}.args)").as_bytes())
                    .with_path(Path::new("shield:call")),
                None,
                context,
            )?;
            STATE.with_borrow_mut(|s| s.trampoline = Some(script.clone()));
            script
        }
    };
    let mut future = std::pin::pin!(trampoline.evaluate_async_with_budget(context, POLL_EVERY));
    let mut task = std::task::Context::from_waker(Waker::noop());
    loop {
        match future.as_mut().poll(&mut task) {
            Poll::Ready(result) => return result,
            // Dropping the evaluation here abandons it: the run ends.
            Poll::Pending => check_heap()?,
        }
    }
}

/// ES modules one run may load. Boa links and evaluates a module graph
/// recursively on the native stack: a chain of 20,000 imports overflowed
/// 8 MiB, 6,000 did not (debug and release builds).
const MAX_MODULES: usize = 4_000;

/// How long the engine polls a module-loading job that does not finish
/// (the loader is synchronous, so one poll is the norm).
const MAX_POLLS: usize = 64;

pub(crate) fn run(job: Job<'_>) -> Outcome {
    let Job {
        entry,
        args,
        env,
        stdin,
        stdout,
        stderr,
        vfs,
        clock,
        limits,
        heap_exceeded,
    } = job;
    let io = Io {
        stdin,
        stdout,
        stderr,
        vfs,
        clock,
    };
    let _guard = RunGuard::enter(entry, args, env, limits, heap_exceeded);
    IO.set(io, || {
        CLOCK_START.set(
            with_io(|io| Ok((io.clock.unix_time(), io.clock.cpu_seconds()))).unwrap_or((0, 0.0)),
        );
        // Last resort: Boa is not known to panic on any input, but a panic
        // inside it must still end the run as an outcome, not lose the host.
        let result = panic::catch_unwind(AssertUnwindSafe(|| execute(entry, limits)));
        let (outcome, report) = match result {
            Ok(done) => done,
            Err(payload) => internal(&panic_text(&payload)),
        };
        let _ = with_io(|io| {
            let _ = io.stdout.flush();
            if let Some(report) = report {
                io.stderr.write_all(report.as_bytes())?;
            }
            io.stderr.flush()
        });
        outcome
    })
}

/// Per-thread run state, reset when the run ends, even by unwinding.
struct RunGuard;

impl RunGuard {
    fn enter(
        entry: &str,
        args: &[String],
        env: &[(String, String)],
        limits: Limits,
        heap_exceeded: fn() -> bool,
    ) -> Self {
        OUTPUT_LEFT.set(limits.output_bytes);
        MEMORY_LIMIT.set(limits.memory_bytes);
        HEAP_EXCEEDED.set(heap_exceeded);
        STOP.set(None);
        ARGV.set(
            std::iter::once(entry.to_owned())
                .chain(args.iter().cloned())
                .collect(),
        );
        ENV.set(env.to_vec());
        STATE.set(State::default());
        STACK_BASE.set(host::stack_position());
        host::seed_random();
        RunGuard
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        OUTPUT_LEFT.set(None);
        MEMORY_LIMIT.set(None);
        HEAP_EXCEEDED.set(shield_engine::no_heap_budget);
        STOP.set(None);
        ARGV.set(Vec::new());
        ENV.set(Vec::new());
        STACK_BASE.set(0);
        // Drop the run's objects before the next run's collector sees them.
        let _ = STATE.try_with(|s| s.replace(State::default()));
    }
}

/// An outcome and the text to write to stderr for it.
type Done = (Outcome, Option<String>);

fn internal(what: &str) -> Done {
    let message = format!("internal engine error: {what}");
    let report = format!("shield: {message}\n");
    (Outcome::Error(message), Some(report))
}

fn panic_text(payload: &Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic in the JavaScript engine".to_owned())
}

fn limit(kind: LimitKind, limits: Limits) -> Done {
    let fmt = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
    let message = match kind {
        LimitKind::Instructions => {
            format!("instruction limit of {} reached", fmt(limits.instructions))
        }
        LimitKind::Memory => format!("memory limit of {} bytes reached", fmt(limits.memory_bytes)),
        LimitKind::Output => format!("output limit of {} bytes reached", fmt(limits.output_bytes)),
    };
    let report = format!("shield: script stopped: {message}\n");
    (Outcome::Limit { kind, message }, Some(report))
}

fn uncaught(text: String) -> Done {
    let report = format!("{text}\n");
    (Outcome::Error(text), Some(report))
}

/// Refuses source nested beyond what the parser can take (see `depth`).
pub(crate) fn guard_depth(source: &str, path: &str) -> JsResult<()> {
    if nesting(source) > MAX_NESTING {
        return Err(JsNativeError::syntax()
            .with_message(format!(
                "{path}: source nested too deeply (more than {MAX_NESTING} levels)"
            ))
            .into());
    }
    Ok(())
}

/// Rewrites a parser error's "at line L, col C" as `path:L:C`, taking off
/// `col_shift` columns on the first line (a wrapper's prefix).
pub(crate) fn locate_syntax_error(e: JsError, path: &str, col_shift: usize) -> JsError {
    let Some(native) = e.as_native() else {
        return e;
    };
    let message = native.message().to_owned();
    let Some(at) = message.rfind(" at line ") else {
        return e;
    };
    let place = &message[at + " at line ".len()..];
    let mut parts = place.split(", col ");
    let line: usize = parts
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let mut col: usize = parts
        .next()
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    if line == 1 {
        col = col.saturating_sub(col_shift);
    }
    JsNativeError::syntax()
        .with_message(format!("{} ({path}:{line}:{col})", &message[..at]))
        .into()
}

/// Length of the CommonJS wrapper's prefix on the first line.
pub(crate) const WRAPPER_PREFIX: usize =
    "(function (exports, require, module, __filename, __dirname) {".len();

fn execute(entry: &str, limits: Limits) -> Done {
    let executor = Rc::new(Executor::default());
    let loader = Rc::new(Loader::default());
    let hooks = Rc::new(Hooks {
        max_buffer: limits.memory_bytes.unwrap_or(u64::MAX).min(1_610_612_736),
    });
    let budget = limits
        .instructions
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let context = ContextBuilder::new()
        .job_executor(executor.clone())
        .module_loader(loader.clone())
        .host_hooks(hooks)
        .clock(Rc::new(JobClock))
        .instructions_remaining(budget)
        .build();
    let mut context = match context {
        Ok(context) => context,
        Err(e) => return internal(&e.to_string()),
    };
    context
        .runtime_limits_mut()
        .set_recursion_limit(RECURSION_LIMIT);
    context
        .runtime_limits_mut()
        .set_stack_size_limit(VALUE_STACK_LIMIT);
    let result =
        start(entry, &loader, &mut context).and_then(|main| event_loop(main, &mut context));
    let done = match result {
        Ok(()) => {
            let code = exit_code(&mut context);
            (Outcome::Exited(code), None)
        }
        Err(e) => finish_error(e, limits, &mut context),
    };
    // Release the run's objects while the context still exists.
    STATE.set(State::default());
    loader.modules.borrow_mut().clear();
    executor.clear();
    done
}

/// `process.exitCode`, or 0.
fn exit_code(context: &mut Context) -> i32 {
    let Some(f) = STATE.with_borrow(|s| s.exit_code.clone()) else {
        return 0;
    };
    match f.call(&JsValue::undefined(), &[], context) {
        Ok(v) if !v.is_undefined() => v.to_i32(context).unwrap_or(1),
        _ => 0,
    }
}

fn finish_error(e: JsError, limits: Limits, context: &mut Context) -> Done {
    match STOP.get() {
        Some(Stop::Exit(code)) => return (Outcome::Exited(code), None),
        Some(Stop::Limit(kind)) => return limit(kind, limits),
        None => {}
    }
    if let Some(engine) = e.as_engine() {
        return match engine {
            EngineError::NoInstructionsRemain => limit(LimitKind::Instructions, limits),
            EngineError::RuntimeLimit(RuntimeLimitError::LoopIteration) => {
                limit(LimitKind::Instructions, limits)
            }
            EngineError::RuntimeLimit(_) => {
                uncaught("Uncaught RangeError: Maximum call stack size exceeded".to_owned())
            }
            EngineError::Panic(p) => internal(&p.to_string()),
        };
    }
    let value = match e.into_opaque(context) {
        Ok(value) => value,
        Err(e) => return uncaught(format!("Uncaught {e}")),
    };
    uncaught(describe(&value, context))
}

/// `Uncaught <Name>: <message>` and the stack, as Node reports an error.
fn describe(value: &JsValue, context: &mut Context) -> String {
    if let Some(obj) = value.as_object()
        && let Ok(stack) = obj.get(js_string!("stack"), context)
        && let Some(stack) = stack.as_string()
    {
        let stack = stack.to_std_string_lossy();
        let head = obj
            .get(js_string!("name"), context)
            .ok()
            .and_then(|n| n.as_string().map(|s| s.to_std_string_lossy()))
            .unwrap_or_default();
        if !head.is_empty() && stack.starts_with(&head) {
            return format!("Uncaught {stack}");
        }
        let text = value
            .to_string(context)
            .map(|s| s.to_std_string_lossy())
            .unwrap_or_default();
        return format!("Uncaught {text}\n{stack}");
    }
    let inspector = STATE.with_borrow(|s| s.inspector.clone());
    let text = inspector
        .and_then(|f| {
            f.call(&JsValue::undefined(), std::slice::from_ref(value), context)
                .ok()
        })
        .and_then(|v| v.as_string().map(|s| s.to_std_string_lossy()))
        .unwrap_or_else(|| value.display().to_string());
    format!("Uncaught {text}")
}

/// Installs the prelude and starts the entry: a CommonJS script runs to
/// its end, an ES module is loaded and its evaluation promise returned.
fn start(entry: &str, loader: &Loader, context: &mut Context) -> JsResult<Option<JsPromise>> {
    host::guard_builtins(context)?;
    let natives = host::natives(context)?;
    let prelude = Script::parse(
        Source::from_bytes(PRELUDE).with_path(Path::new("shield:prelude")),
        None,
        context,
    )?;
    let init = prelude.evaluate(context)?;
    let init = init
        .as_callable()
        .ok_or_else(|| JsNativeError::typ().with_message("prelude"))?
        .clone();
    init.call(&JsValue::undefined(), &[natives.into()], context)?;

    let bytes = host::read_vfs(entry).map_err(|e| {
        JsError::from(
            JsNativeError::error().with_message(format!("Cannot find module '{entry}': {e}")),
        )
    })?;
    let source = String::from_utf8_lossy(&bytes).into_owned();
    let source = host::blank_hashbang(&source).into_owned();
    guard_depth(&source, entry)?;
    let module = if entry.ends_with(".mjs") {
        Some(parse_module(&source, entry, context)?)
    } else if entry.ends_with(".cjs") {
        None
    } else {
        match host::compile_commonjs(entry, context) {
            Ok(main) => return run_commonjs(entry, main, context).map(|()| None),
            Err(e) => match parse_module(&source, entry, context) {
                // Node's syntax detection: a `.js` file that only parses as
                // an ES module is one.
                Ok(module) => Some(module),
                Err(_) => return Err(e),
            },
        }
    };
    match module {
        Some(module) => {
            loader
                .modules
                .borrow_mut()
                .insert(entry.to_owned(), module.clone());
            Ok(Some(module.load_link_evaluate(context)))
        }
        None => {
            let main = host::compile_commonjs(entry, context)?;
            run_commonjs(entry, main, context).map(|()| None)
        }
    }
}

fn run_commonjs(entry: &str, main: JsValue, context: &mut Context) -> JsResult<()> {
    let runner = STATE
        .with_borrow(|s| s.cjs_runner.clone())
        .ok_or_else(|| JsNativeError::typ().with_message("no CommonJS runner"))?;
    call_polled(&runner, &[JsString::from(entry).into(), main], context)?;
    Ok(())
}

fn parse_module(source: &str, path: &str, context: &mut Context) -> JsResult<Module> {
    guard_depth(source, path)?;
    Module::parse(
        Source::from_bytes(source.as_bytes()).with_path(Path::new(path)),
        None,
        context,
    )
    .map_err(|e| locate_syntax_error(e, path, 0))
}

/// Runs jobs and timers until nothing is left, as Node's event loop does:
/// after the main script and after each timer, all microtasks run, and an
/// unhandled rejection ends the run.
fn event_loop(main: Option<JsPromise>, context: &mut Context) -> JsResult<()> {
    drain(context)?;
    if let Some(main) = &main
        && let PromiseState::Rejected(reason) = main.state()
    {
        return Err(JsError::from_opaque(reason));
    }
    loop {
        check_heap()?;
        let next = STATE.with_borrow_mut(|s| s.timers.pop_first());
        let Some(((deadline, _), timer)) = next else {
            return Ok(());
        };
        STATE.with_borrow_mut(|s| s.timer_now = s.timer_now.max(deadline));
        if let Some(period) = timer.repeat {
            STATE.with_borrow_mut(|s| {
                s.timer_seq += 1;
                let key = (s.timer_now + period, s.timer_seq);
                s.timers.insert(
                    key,
                    host::Timer {
                        id: timer.id,
                        callback: timer.callback.clone(),
                        args: timer.args.clone(),
                        repeat: timer.repeat,
                    },
                );
            });
        }
        call_polled(&timer.callback, &timer.args, context)?;
        drain(context)?;
    }
}

/// Runs every pending job, then fails on a rejection nobody handled.
fn drain(context: &mut Context) -> JsResult<()> {
    context.run_jobs()?;
    let rejected = STATE.with_borrow_mut(|s| std::mem::take(&mut s.rejected));
    for promise in rejected {
        if let Ok(promise) = JsPromise::from_object(promise)
            && let PromiseState::Rejected(reason) = promise.state()
        {
            return Err(JsError::from_opaque(reason));
        }
    }
    Ok(())
}

// ── Jobs ───────────────────────────────────────────────────────────────────

/// Promise jobs in FIFO order; module-loading jobs polled to completion.
#[derive(Default)]
struct Executor {
    promise_jobs: RefCell<VecDeque<PromiseJob>>,
    async_jobs: RefCell<VecDeque<NativeAsyncJob>>,
    generic_jobs: RefCell<VecDeque<GenericJob>>,
}

impl Executor {
    fn clear(&self) {
        self.promise_jobs.borrow_mut().clear();
        self.async_jobs.borrow_mut().clear();
        self.generic_jobs.borrow_mut().clear();
    }
}

impl JobExecutor for Executor {
    fn enqueue_job(self: Rc<Self>, job: BoaJob, _context: &mut Context) {
        match job {
            BoaJob::PromiseJob(job) => self.promise_jobs.borrow_mut().push_back(job),
            BoaJob::AsyncJob(job) => self.async_jobs.borrow_mut().push_back(job),
            BoaJob::GenericJob(job) => self.generic_jobs.borrow_mut().push_back(job),
            // Host timers are the prelude's, and finalization callbacks are
            // not run (as Node may never run them).
            _ => {}
        }
    }

    fn run_jobs(self: Rc<Self>, context: &mut Context) -> JsResult<()> {
        loop {
            check_heap()?;
            let job = self.promise_jobs.borrow_mut().pop_front();
            if let Some(job) = job {
                job.call(context)?;
                continue;
            }
            let job = self.generic_jobs.borrow_mut().pop_front();
            if let Some(job) = job {
                job.call(context)?;
                continue;
            }
            let job = self.async_jobs.borrow_mut().pop_front();
            if let Some(job) = job {
                let cell = RefCell::new(&mut *context);
                let future = job.call(&cell);
                let mut future = std::pin::pin!(future);
                let mut task = std::task::Context::from_waker(Waker::noop());
                let mut polls = 0;
                loop {
                    if let Poll::Ready(result) = future.as_mut().poll(&mut task) {
                        result?;
                        break;
                    }
                    polls += 1;
                    if polls > MAX_POLLS {
                        return Err(JsNativeError::error()
                            .with_message("a module load did not complete")
                            .into());
                    }
                }
                continue;
            }
            return Ok(());
        }
    }
}

// ── Host hooks and the clock ───────────────────────────────────────────────

struct Hooks {
    max_buffer: u64,
}

impl HostHooks for Hooks {
    // A promise reaction (a `.then` handler) runs under the budgeted
    // evaluation, where the heap backstop is polled.
    fn call_job_callback(
        &self,
        job: &boa_engine::job::JobCallback,
        this: &JsValue,
        args: &[JsValue],
        context: &mut Context,
    ) -> JsResult<JsValue> {
        check_heap()?;
        check_stack()?;
        let callback = job.callback();
        if this.is_undefined() {
            return call_polled(callback, args, context);
        }
        callback.call(this, args, context)
    }

    fn promise_rejection_tracker(
        &self,
        promise: &JsObject<boa_engine::builtins::promise::Promise>,
        operation: OperationType,
        _context: &mut Context,
    ) {
        let promise = promise.clone().upcast();
        STATE.with_borrow_mut(|s| match operation {
            OperationType::Reject => s.rejected.push(promise),
            OperationType::Handle => s.rejected.retain(|p| !JsObject::equals(p, &promise)),
        });
    }

    fn ensure_can_compile_strings(
        &self,
        _realm: Realm,
        parameters: &[JsString],
        body: &JsString,
        _direct: bool,
        _context: &mut Context,
    ) -> JsResult<()> {
        check_heap()?;
        for text in parameters.iter().chain(std::iter::once(body)) {
            guard_depth(&text.to_std_string_lossy(), "eval")?;
        }
        Ok(())
    }

    // Local time is UTC: the time zone would come from the host (a file
    // read the enclave refuses), and scripts must not see it anyway.
    fn local_timezone_offset_seconds(&self, _unix_time_seconds: i64) -> i32 {
        0
    }

    fn max_buffer_size(&self, _context: &mut Context) -> u64 {
        if HEAP_EXCEEDED.get()() {
            STOP.set(STOP.get().or(Some(Stop::Limit(LimitKind::Memory))));
            return 0;
        }
        self.max_buffer
    }
}

/// Boa's clock over the job's: wall time for `Date`, the run's elapsed
/// time for anything monotonic.
struct JobClock;

impl BoaClock for JobClock {
    fn now(&self) -> JsInstant {
        let ms = host::perf_now();
        let nanos = (ms * 1_000_000.0) as u128;
        JsInstant::new(
            u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX),
            (nanos % 1_000_000_000) as u32,
        )
    }

    fn system_time_millis(&self) -> i64 {
        // The job's clock has whole seconds of wall time; the run's
        // elapsed time gives Date.now() its milliseconds.
        let (secs, _) = CLOCK_START.get();
        secs.saturating_mul(1000)
            .saturating_add(host::perf_now() as i64)
    }
}

// ── Modules ────────────────────────────────────────────────────────────────

/// ES modules from the VFS, keyed by normalized path; `fs`, `path` and
/// `util` as synthetic modules; CommonJS files and JSON as default exports.
#[derive(Default)]
struct Loader {
    modules: RefCell<HashMap<String, Module>>,
}

impl ModuleLoader for Loader {
    async fn load_imported_module(
        self: Rc<Self>,
        referrer: Referrer,
        request: ModuleRequest,
        context: &RefCell<&mut Context>,
    ) -> JsResult<Module> {
        let spec = request.specifier().to_std_string_lossy();
        let from = referrer
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.load(&from, &spec, &mut context.borrow_mut())
    }
}

impl Loader {
    fn load(&self, from: &str, spec: &str, context: &mut Context) -> JsResult<Module> {
        check_heap()?;
        let bare = spec.strip_prefix("node:").unwrap_or(spec);
        if matches!(bare, "fs" | "path" | "util" | "vm") {
            let key = format!("node:{bare}");
            if let Some(m) = self.modules.borrow().get(&key) {
                return Ok(m.clone());
            }
            let module = builtin_module(bare, context)?;
            self.modules.borrow_mut().insert(key, module.clone());
            return Ok(module);
        }
        let dir = Path::new(from)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(path) = host::resolve(&dir, spec) else {
            return Err(JsNativeError::error()
                .with_message(format!(
                    "Cannot find module '{spec}' imported from {}",
                    if from.is_empty() { "the script" } else { from }
                ))
                .into());
        };
        if let Some(m) = self.modules.borrow().get(&path) {
            return Ok(m.clone());
        }
        if self.modules.borrow().len() >= MAX_MODULES {
            return Err(JsNativeError::range()
                .with_message(format!(
                    "Cannot load module '{spec}': more than {MAX_MODULES} modules"
                ))
                .into());
        }
        let module = if path.ends_with(".json") {
            let bytes = host::read_vfs(&path).map_err(|e| {
                JsError::from(JsNativeError::error().with_message(format!("{path}: {e}")))
            })?;
            Module::parse_json(
                JsString::from(String::from_utf8_lossy(&bytes).as_ref()),
                context,
            )?
        } else {
            let bytes = host::read_vfs(&path).map_err(|e| {
                JsError::from(JsNativeError::error().with_message(format!("{path}: {e}")))
            })?;
            let source = String::from_utf8_lossy(&bytes).into_owned();
            let source = host::blank_hashbang(&source).into_owned();
            if path.ends_with(".mjs") {
                parse_module(&source, &path, context)?
            } else if path.ends_with(".cjs") {
                commonjs_module(&path, context)?
            } else {
                match parse_module(&source, &path, context) {
                    Ok(module) if !looks_commonjs(&source) => module,
                    _ => commonjs_module(&path, context)?,
                }
            }
        };
        self.modules.borrow_mut().insert(path, module.clone());
        Ok(module)
    }
}

/// Whether a `.js` file that also parses as a module is CommonJS (Node
/// treats a file without `import`/`export` as CommonJS).
fn looks_commonjs(source: &str) -> bool {
    !(source.contains("import ")
        || source.contains("import{")
        || source.contains("export ")
        || source.contains("export{"))
}

/// A CommonJS file for `import`: `require`d now, its `module.exports` the
/// default export.
fn commonjs_module(path: &str, context: &mut Context) -> JsResult<Module> {
    let factory = STATE
        .with_borrow(|s| s.require_factory.clone())
        .ok_or_else(|| JsNativeError::typ().with_message("no require"))?;
    let require = factory.call(&JsValue::undefined(), &[js_string!("").into()], context)?;
    let require = require
        .as_callable()
        .ok_or_else(|| JsNativeError::typ().with_message("no require"))?
        .clone();
    let exports = require.call(
        &JsValue::undefined(),
        &[JsString::from(format!("/{path}")).into()],
        context,
    )?;
    Ok(Module::from_value_as_default(exports, context))
}

/// `fs`, `path`, `util` or `vm` as a module: the prelude's object as the default
/// export and its properties as named exports.
fn builtin_module(name: &str, context: &mut Context) -> JsResult<Module> {
    let builtins = STATE
        .with_borrow(|s| s.builtins.clone())
        .ok_or_else(|| JsNativeError::typ().with_message("no builtins"))?;
    let object = builtins
        .get(JsString::from(name), context)?
        .as_object()
        .ok_or_else(|| JsNativeError::typ().with_message("no such builtin"))?;
    let mut names = vec![js_string!("default")];
    for key in object.own_property_keys(context)? {
        if let boa_engine::property::PropertyKey::String(s) = key {
            names.push(s);
        }
    }
    Ok(Module::synthetic(
        &names,
        SyntheticModuleInitializer::from_copy_closure_with_captures(
            |module, object: &JsObject, context| {
                module.set_export(&js_string!("default"), object.clone().into())?;
                for key in object.own_property_keys(context)? {
                    if let boa_engine::property::PropertyKey::String(s) = key {
                        let value = object.get(s.clone(), context)?;
                        module.set_export(&s, value)?;
                    }
                }
                Ok(())
            },
            object,
        ),
        None,
        None,
        context,
    ))
}
