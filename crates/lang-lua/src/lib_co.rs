//! The coroutine library; resume, wrap and yield are run by the dispatch
//! loop itself (see `Special`), the rest are plain natives.

use crate::api::arg;
use crate::heap::{CoStatus, Special, Thread};
use crate::value::Value;
use crate::vm::{LResult, NativeFn, Vm, rt};

/// Opens `coroutine`.
pub fn open(vm: &mut Vm) {
    let funcs: &[(&'static str, NativeFn)] = &[
        ("create", create),
        ("status", status),
        ("running", running),
        ("isyieldable", isyieldable),
        ("wrap", wrap),
        ("close", close),
    ];
    let t = vm.new_lib("coroutine", funcs);
    let r = vm.native_with("resume", noop, vec![], Special::Resume);
    vm.set_field(t, "resume", r);
    let y = vm.native_with("yield", noop, vec![], Special::Yield);
    vm.set_field(t, "yield", y);
}

fn noop(_: &mut Vm, _: usize, _: usize) -> LResult<usize> {
    Ok(0)
}

fn new_thread(vm: &mut Vm, base: usize, n: usize, name: &str) -> LResult<u32> {
    let f = arg(vm, base, n, 0);
    if !matches!(f, Value::Func(_)) {
        return Err(vm.type_arg_error(0, name, "function", f, n > 0));
    }
    vm.check_heap()?;
    vm.check_mem(1024)?;
    vm.heap.bytes += 1024;
    // A new coroutine starts with its creator's hook, as in C Lua.
    let t = vm.heap.threads.alloc(Thread {
        status: Some(CoStatus::Suspended),
        pending: Some(f),
        hook: (vm.hook_mask, vm.hook_count, Vec::new()),
        ..Thread::default()
    });
    let h = vm.hook_fn(Value::Thread(vm.cur));
    if !h.is_nil()
        && let Value::Table(k) = vm.get_field(vm.registry, "_HOOKKEY")
    {
        vm.raw_set(k, Value::Thread(t), h)?;
    }
    Ok(t)
}

fn create(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = new_thread(vm, base, n, "create")?;
    vm.push(Value::Thread(t));
    Ok(1)
}

fn wrap(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = new_thread(vm, base, n, "wrap")?;
    let f = vm.native_with("wrap", noop, vec![Value::Thread(t)], Special::Wrap);
    vm.push(f);
    Ok(1)
}

fn check_co(vm: &mut Vm, base: usize, n: usize, f: &str) -> LResult<u32> {
    match arg(vm, base, n, 0) {
        Value::Thread(t) => Ok(t),
        v => Err(vm.type_arg_error(0, f, "coroutine", v, n > 0)),
    }
}

fn status_str(vm: &Vm, t: u32) -> &'static str {
    if t == vm.cur {
        return "running";
    }
    match vm.heap.threads.get(t).status {
        Some(CoStatus::Suspended) => "suspended",
        Some(CoStatus::Normal) => "normal",
        Some(CoStatus::Running) => "running",
        _ => "dead",
    }
}

fn status(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = check_co(vm, base, n, "status")?;
    let s = status_str(vm, t);
    let v = vm.str(s.as_bytes());
    vm.push(v);
    Ok(1)
}

fn running(vm: &mut Vm, _base: usize, _n: usize) -> LResult<usize> {
    vm.push(Value::Thread(vm.cur));
    vm.push(Value::Bool(vm.cur == 0));
    Ok(2)
}

fn isyieldable(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = match arg(vm, base, n, 0) {
        Value::Thread(t) => t,
        _ => vm.cur,
    };
    let th = vm.heap.threads.get(t);
    vm.push(Value::Bool(t != 0 && th.nny == 0));
    Ok(1)
}

fn close(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = check_co(vm, base, n, "close")?;
    match status_str(vm, t) {
        "suspended" | "dead" => {
            let th = vm.heap.threads.get_mut(t);
            if let Some(e) = th.error.take() {
                // The frames a failed coroutine kept for tracebacks go.
                th.frames.clear();
                th.raiser = None;
                vm.push(Value::Bool(false));
                vm.push(e);
                return Ok(2);
            }
            let th = vm.heap.threads.get_mut(t);
            // While its variables close, the coroutine counts as running.
            th.status = Some(CoStatus::Running);
            th.frames.clear();
            th.pending = None;
            let open = std::mem::take(&mut th.open);
            let pending_tbc = std::mem::take(&mut th.tbc);
            let stack = th.stack.clone();
            for (idx, h) in open {
                // Upvalues into its stack keep their last values.
                let v = stack.get(idx as usize).copied().unwrap_or(Value::Nil);
                *vm.heap.upvals.get_mut(h) = crate::heap::UpVal::Closed(v);
            }
            // Close pending to-be-closed variables of the suspended coroutine.
            let mut err: Option<Value> = None;
            for idx in pending_tbc.into_iter().rev() {
                let v = stack[idx];
                let mm = vm.get_tm(v, crate::vm::tm::CLOSE);
                if mm.is_nil() {
                    continue;
                }
                // Each closer gets the error of the previous one, if any; it
                // is rooted while the next closer runs.
                let root = vm.roots.len();
                vm.roots.push(err.unwrap_or(Value::Nil));
                let r = vm.call_n(mm, &[v, err.unwrap_or(Value::Nil)], 0);
                vm.roots.truncate(root);
                match r {
                    Ok(_) => {}
                    Err(crate::vm::LErr::Rt(e)) => err = Some(e),
                    Err(other) => return Err(other),
                }
            }
            vm.heap.threads.get_mut(t).status = Some(CoStatus::Dead);
            match err {
                Some(e) => {
                    vm.push(Value::Bool(false));
                    vm.push(e);
                    Ok(2)
                }
                None => {
                    vm.push(Value::Bool(true));
                    Ok(1)
                }
            }
        }
        s => rt!(vm, "cannot close a {s} coroutine"),
    }
}
