//! The debug library: introspection of functions, upvalues and metatables.
//! Hooks are accepted and recorded; the instruction budget never depends on
//! them.

use crate::api::arg;
use crate::heap::{Func, Protect, UpVal};
use crate::table::Table;
use crate::value::Value;
use crate::vm::{LResult, NativeFn, Vm, rt};

/// Opens `debug`.
pub fn open(vm: &mut Vm) {
    let funcs: &[(&'static str, NativeFn)] = &[
        ("traceback", traceback),
        ("getinfo", getinfo),
        ("sethook", sethook),
        ("gethook", gethook),
        ("getlocal", getlocal),
        ("setlocal", setlocal),
        ("getmetatable", getmetatable),
        ("setmetatable", setmetatable),
        ("getupvalue", getupvalue),
        ("setupvalue", setupvalue),
        ("upvalueid", upvalueid),
        ("setuservalue", setuservalue),
        ("upvaluejoin", upvaluejoin),
        ("getregistry", getregistry),
        ("getuservalue", getuservalue),
    ];
    vm.new_lib("debug", funcs);
}

fn traceback(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let (th, first) = match arg(vm, base, n, 0) {
        Value::Thread(t) => (Some(t).filter(|&t| t != vm.cur), 1),
        _ => (None, 0),
    };
    let msg = arg(vm, base, n, first);
    if !matches!(
        msg,
        Value::Str(_, _) | Value::Nil | Value::Int(_) | Value::Num(_)
    ) {
        vm.push(msg);
        return Ok(1);
    }
    let level = match arg(vm, base, n, first + 1) {
        Value::Nil => usize::from(th.is_none()),
        _ => usize::try_from(vm.check_int(base, n, first + 1, "traceback")?).unwrap_or(0),
    };
    let mut s = Vec::new();
    if !msg.is_nil() {
        vm.append_str(msg, &mut s);
        s.push(b'\n');
    }
    append_traceback(vm, th, level, &mut s);
    let v = vm.str(&s);
    vm.push(v);
    Ok(1)
}

/// Appends "stack traceback:" and the frames of the running thread (or of
/// `th`) from `level` on (0: `debug.traceback` itself, 1: the innermost
/// function), worded and abridged as C Lua's `luaL_traceback`.
pub fn append_traceback(vm: &mut Vm, th: Option<u32>, level: usize, s: &mut Vec<u8>) {
    s.extend_from_slice(b"stack traceback:");
    let lines = frame_lines(vm, th);
    // Level 0 is traceback itself, a native.
    let mut all: Vec<String> = Vec::new();
    // Level 0 is traceback itself (another thread's: its innermost).
    if th.is_some() {
        all.extend(lines.into_iter().skip(level));
    } else {
        if level == 0 {
            all.push("[C]: in function 'debug.traceback'".into());
        }
        all.extend(lines.into_iter().skip(level.saturating_sub(1)));
    }
    // The main chunk was called by the host (lua.c); a coroutine's first
    // function by nothing.
    if th.unwrap_or(vm.cur) == 0 {
        all.push("[C]: in ?".into());
    }
    let total = all.len();
    for (i, l) in all.iter().enumerate() {
        // As C Lua: the first 10 and the last 11 levels of a deep stack.
        if total > 22 && i == 10 {
            let skip = total - 21;
            s.extend_from_slice(format!("\n\t...\t(skipping {skip} levels)").as_bytes());
        }
        if total > 22 && (10..total - 11).contains(&i) {
            continue;
        }
        s.extend_from_slice(b"\n\t");
        s.extend_from_slice(l.as_bytes());
    }
}

/// One traceback line per frame of the running thread (or of `th`),
/// innermost first: position and what the function is, worded as C Lua's
/// `luaL_traceback`. Natives have no frames; the ones still running are
/// placed where they sit: under `pcall`, below a frame they called, at the
/// top of a suspended coroutine (its `yield`) or of one an error killed.
fn frame_lines(vm: &mut Vm, th: Option<u32>) -> Vec<String> {
    let frames = match th {
        Some(t) => vm.heap.threads.get(t).frames.clone(),
        None => vm.frames.clone(),
    };
    let tid = th.unwrap_or(vm.cur);
    let mut out = Vec::with_capacity(frames.len() + 1);
    // Under a message handler, the native that raised the error sits
    // between the handler's frames and the ones below, as in C Lua.
    let raiser = match vm.handling {
        Some((t, at, native)) if th.is_none() && t == vm.cur && !native.is_nil() => {
            let line = native_line(vm, native);
            Some((at.min(frames.len()), line))
        }
        _ => None,
    };
    // The natives pcall or xpcall runs (innermost last), by frame count.
    let protected: Vec<(usize, Value, bool)> = vm
        .protected_natives
        .iter()
        .filter(|e| e.0 == tid)
        .map(|e| (e.1, e.2, e.3))
        .collect();
    // A suspended coroutine waits in `coroutine.yield`; one an error
    // killed shows the native that raised it.
    if let Some(t) = th {
        let thr = vm.heap.threads.get(t);
        let top_native = match (thr.status, thr.error) {
            (Some(crate::heap::CoStatus::Suspended), _) if !frames.is_empty() => {
                Some("[C]: in function 'coroutine.yield'".to_owned())
            }
            (_, Some(_)) => thr.raiser.map(|f| native_line(vm, f)),
            _ => None,
        };
        out.extend(top_native);
    }
    for idx in (0..frames.len()).rev() {
        if let Some((at, line)) = &raiser
            && idx + 1 == *at
        {
            out.push(line.clone());
        }
        // Natives running above this frame: under pcall, or called by it.
        for &(_, _, xp) in protected.iter().rev().filter(|e| e.0 == idx + 1) {
            out.push(format!(
                "[C]: in function '{}'",
                if xp { "xpcall" } else { "pcall" }
            ));
        }
        let fr = frames[idx];
        let f = match th {
            Some(t) => vm.heap.threads.get(t).stack[fr.func],
            None => vm.stack[fr.func],
        };
        if let Protect::Closing(xp) = fr.protect {
            let name = if xp { "xpcall" } else { "pcall" };
            out.push(format!("[C]: in function '{name}'"));
            continue;
        }
        let Value::Func(h) = f else { continue };
        let Func::Lua { proto, .. } = vm.heap.funcs.get(h) else {
            continue;
        };
        let proto = proto.clone();
        let line = proto
            .lines
            .get(fr.pc.saturating_sub(1))
            .map_or(String::from("?"), |l| l.to_string());
        let what = if let Some(ev) = th.is_none().then(|| vm.tm_event(idx)).flatten() {
            format!("metamethod '{ev}'")
        } else if let Some(g) = vm.global_func_name(f) {
            format!("function '{g}'")
        } else if let Some((name, what)) = call_name_in(vm, th, idx) {
            format!("{what} '{name}'")
        } else if proto.line == 0 {
            "main chunk".into()
        } else {
            format!("function <{}:{}>", proto.source, proto.line)
        };
        out.push(format!("{}:{line}: in {what}", proto.source));
        if fr.tail {
            out.push("(...tail calls...)".into());
        }
        match fr.protect {
            Protect::Pcall => out.push("[C]: in function 'pcall'".into()),
            Protect::Xpcall => out.push("[C]: in function 'xpcall'".into()),
            _ => {}
        }
        if fr.host_entry && idx > 0 && th.is_none() {
            let protected_here = protected.iter().rev().find(|e| e.0 == idx);
            let native = match protected_here {
                Some(&(_, f, _)) => Some(f),
                None => calling_native(vm, &frames, idx),
            };
            if let Some(nf) = native {
                out.push(native_line(vm, nf));
            }
        }
    }
    if let Some((0, line)) = raiser {
        out.push(line);
    }
    out
}

/// A traceback line for native `f`: by its name in a loaded module, as C
/// Lua's `pushglobalfuncname`, or `?`.
fn native_line(vm: &mut Vm, f: Value) -> String {
    match vm.global_func_name(f) {
        Some(name) => format!("[C]: in function '{name}'"),
        None => "[C]: in ?".to_owned(),
    }
}

/// The native that frame `idx` (entered from the host) was called by: the
/// function of the call instruction its Lua caller is running, if that is
/// a native (not for metamethods or hooks, which the VM calls itself).
fn calling_native(vm: &Vm, frames: &[crate::heap::Frame], idx: usize) -> Option<Value> {
    if vm.tm_event(idx).is_some() || vm.hook_frame == Some((vm.cur, idx)) {
        return None;
    }
    let caller = frames.get(idx.checked_sub(1)?)?;
    let Value::Func(h) = vm.stack[caller.func] else {
        return None;
    };
    let Func::Lua { proto, .. } = vm.heap.funcs.get(h) else {
        return None;
    };
    let i = *proto.code.get(caller.pc.checked_sub(1)?)?;
    let o = crate::proto::op(i);
    if o != crate::proto::CALL && o != crate::proto::TAILCALL {
        return None;
    }
    let f = *vm.stack.get(caller.base + crate::proto::ga(i))?;
    match f {
        Value::Func(n) if matches!(vm.heap.funcs.get(n), Func::Native { .. }) => Some(f),
        _ => None,
    }
}

/// `debug.getinfo([thread,] f, [what])`: the fields the options ask for
/// ("flnSrtu" by default).
fn getinfo(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let first = usize::from(matches!(arg(vm, base, n, 0), Value::Thread(_)));
    let what = match arg(vm, base, n, first + 1) {
        Value::Nil => b"flnSrtu".to_vec(),
        _ => vm.check_bytes(base, n, first + 1, "getinfo")?,
    };
    if what.first() == Some(&b'>') || what.iter().any(|c| !b"SlnrutfL".contains(c)) {
        return Err(vm.arg_error(first + 1, "getinfo", "invalid option"));
    }
    let k = getinfo_all(vm, base, n)?;
    let Value::Table(t) = vm.stack[vm.top - 1] else {
        return Ok(k);
    };
    const FIELDS: &[(u8, &[&str])] = &[
        (
            b'S',
            &[
                "source",
                "short_src",
                "linedefined",
                "lastlinedefined",
                "what",
            ],
        ),
        (b'l', &["currentline"]),
        (b'u', &["nups", "nparams", "isvararg"]),
        (b'n', &["name", "namewhat"]),
        (b't', &["istailcall"]),
        (b'L', &["activelines"]),
        (b'f', &["func"]),
    ];
    for (opt, names) in FIELDS {
        if !what.contains(opt) {
            for name in names.iter() {
                vm.set_field(t, name, Value::Nil);
            }
        }
    }
    if what.contains(&b'r') {
        // Only the frame a call or return hook is about has transfers.
        let level = match arg(vm, base, n, first) {
            Value::Int(l) if first == 0 => usize::try_from(l).ok(),
            _ => None,
        };
        let (ft, nt) = match (level, vm.hook_frame) {
            (Some(l), Some((th, hf)))
                if th == vm.cur && l >= 1 && vm.frames.len() + 1 == hf + l =>
            {
                vm.hook_transfer
            }
            _ => (0, 0),
        };
        vm.set_field(t, "ftransfer", Value::Int(ft as i64));
        vm.set_field(t, "ntransfer", Value::Int(nt as i64));
    }
    Ok(k)
}

fn getinfo_all(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let (th, first) = thread_arg(vm, base, n);
    // The level's frame is copied out, never the whole list (a deep
    // recursion holds many thousand frames).
    let frame_at = |vm: &Vm, i: usize| match th {
        Some(h) => vm.heap.threads.get(h).frames[i],
        None => vm.frames[i],
    };
    let depth = match th {
        Some(h) => vm.heap.threads.get(h).frames.len(),
        None => vm.frames.len(),
    };
    let target = arg(vm, base, n, first);
    let t = vm.heap.new_table(Table::default());
    let (func, pc) = match target {
        Value::Func(_) => {
            let wv = vm.str(b"");
            vm.set_field(t, "namewhat", wv);
            vm.set_field(t, "istailcall", Value::Bool(false));
            (target, None)
        }
        Value::Int(_) | Value::Num(_) => {
            let lvl = vm.check_int(base, n, first, "getinfo")?;
            if lvl < 0 {
                vm.push(Value::Nil);
                return Ok(1);
            }
            if lvl == 0 {
                let w = vm.str(b"C");
                vm.set_field(t, "what", w);
                let s = vm.str(b"[C]");
                vm.set_field(t, "short_src", s);
                vm.set_field(t, "currentline", Value::Int(-1));
                vm.set_field(t, "istailcall", Value::Bool(false));
                vm.push(Value::Table(t));
                return Ok(1);
            }
            let lvl = lvl as usize;
            // A pcall/xpcall running `__close` metamethods after an error
            // is a native frame, as in C Lua.
            if lvl <= depth
                && let Protect::Closing(xp) = frame_at(vm, depth - lvl).protect
            {
                let name = if xp { "xpcall" } else { "pcall" };
                let pf = vm.get_field(vm.globals, name);
                let nv = vm.str(name.as_bytes());
                vm.set_field(t, "name", nv);
                let wv = vm.str(b"global");
                vm.set_field(t, "namewhat", wv);
                let w = vm.str(b"C");
                vm.set_field(t, "what", w);
                let s = vm.str(b"[C]");
                vm.set_field(t, "short_src", s);
                vm.set_field(t, "currentline", Value::Int(-1));
                if matches!(pf, Value::Func(_)) {
                    vm.set_field(t, "func", pf);
                }
                vm.set_field(t, "istailcall", Value::Bool(false));
                vm.push(Value::Table(t));
                return Ok(1);
            }
            if lvl > depth {
                vm.push(Value::Nil);
                return Ok(1);
            }
            let idx = depth - lvl;
            let fr = frame_at(vm, idx);
            let named = match th.is_none().then(|| vm.tm_event(idx)).flatten() {
                Some(ev) => Some((ev.to_string(), "metamethod".to_string())),
                None => call_name_in(vm, th, idx),
            };
            if let Some((name, what)) = named {
                let nv = vm.str(name.as_bytes());
                vm.set_field(t, "name", nv);
                let wv = vm.str(what.as_bytes());
                vm.set_field(t, "namewhat", wv);
            } else {
                let wv = vm.str(b"");
                vm.set_field(t, "namewhat", wv);
            }
            vm.set_field(t, "istailcall", Value::Bool(fr.tail));
            let f = match th {
                Some(h) => vm.heap.threads.get(h).stack[fr.func],
                None => vm.stack[fr.func],
            };
            (f, Some(fr.pc))
        }
        v => return Err(vm.type_arg_error(first, "getinfo", "function or level", v, true)),
    };
    vm.set_field(t, "func", func);
    if let Value::Func(h) = func {
        match vm.heap.funcs.get(h) {
            Func::Lua { proto, upvals } => {
                let proto = proto.clone();
                let nups = upvals.len();
                let src = proto.source.to_string();
                let s = vm.str(src.as_bytes());
                vm.set_field(t, "short_src", s);
                let s2 = vm.str(&proto.chunkname);
                vm.set_field(t, "source", s2);
                vm.set_field(t, "linedefined", Value::Int(proto.line as i64));
                vm.set_field(t, "lastlinedefined", Value::Int(proto.end_line as i64));
                let w = vm.str(if proto.line == 0 {
                    b"main" as &[u8]
                } else {
                    b"Lua"
                });
                vm.set_field(t, "what", w);
                vm.set_field(t, "nups", Value::Int(nups as i64));
                vm.set_field(t, "nparams", Value::Int(proto.nparams as i64));
                vm.set_field(t, "isvararg", Value::Bool(proto.vararg));
                let line = pc.map_or(-1, |pc| {
                    proto
                        .lines
                        .get(pc.saturating_sub(1))
                        .map_or(-1, |&l| i64::from(l))
                });
                vm.set_field(t, "currentline", Value::Int(line));
                let lines = vm.heap.new_table(Table::default());
                for &l in &proto.lines {
                    vm.heap
                        .tables
                        .get_mut(lines)
                        .set(Value::Int(l as i64), Value::Bool(true));
                }
                vm.set_field(t, "activelines", Value::Table(lines));
            }
            Func::Native { upvals, .. } => {
                let nups = upvals.len();
                let w = vm.str(b"C");
                vm.set_field(t, "what", w);
                let s = vm.str(b"[C]");
                vm.set_field(t, "short_src", s);
                let s = vm.str(b"=[C]");
                vm.set_field(t, "source", s);
                vm.set_field(t, "currentline", Value::Int(-1));
                vm.set_field(t, "linedefined", Value::Int(-1));
                vm.set_field(t, "lastlinedefined", Value::Int(-1));
                vm.set_field(t, "nups", Value::Int(nups as i64));
                vm.set_field(t, "isvararg", Value::Bool(true));
                vm.set_field(t, "nparams", Value::Int(0));
            }
        }
    }
    vm.push(Value::Table(t));
    Ok(1)
}

/// The name a Lua caller used for the function of frame `idx` of the
/// running thread or of thread `th`.
fn call_name_in(vm: &Vm, th: Option<u32>, idx: usize) -> Option<(String, String)> {
    let (frames, stack) = match th {
        Some(t) => {
            let t = vm.heap.threads.get(t);
            (&t.frames, &t.stack)
        }
        None => (&vm.frames, &vm.stack),
    };
    if vm.hook_frame == Some((th.unwrap_or(vm.cur), idx)) {
        return Some(("?".into(), "hook".into()));
    }
    let fr = frames[idx];
    // A tail call leaves no caller to name it by.
    if fr.host_entry || idx == 0 || fr.protect != Protect::None || fr.tail {
        return None;
    }
    let caller = frames[idx - 1];
    let Value::Func(h) = stack[caller.func] else {
        return None;
    };
    let Func::Lua { proto, .. } = vm.heap.funcs.get(h) else {
        return None;
    };
    let pc = caller.pc.checked_sub(1)?;
    let i = *proto.code.get(pc)?;
    let o = crate::proto::op(i);
    if o != crate::proto::CALL && o != crate::proto::TAILCALL && o != crate::proto::TFORCALL {
        return None;
    }
    if o == crate::proto::TFORCALL {
        return Some(("for iterator".into(), "for iterator".into()));
    }
    let desc = crate::debuginfo::describe(&vm.heap, proto, pc, crate::proto::ga(i))?;
    let (what, rest) = desc.split_once(' ')?;
    let name = rest.trim_matches('\'').to_string();
    let what = if what == "constant" { "global" } else { what };
    Some((name, what.to_string()))
}

/// `debug.sethook([thread,] f, mask)`: "c" and "r" events call `f`; the
/// hook is the script's and chains with the VM's own instruction budget,
/// which it can neither see nor replace. Each thread has its own hook,
/// kept in the registry's weak-keyed `_HOOKKEY` table as in C Lua.
fn sethook(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let (th, first) = match arg(vm, base, n, 0) {
        Value::Thread(t) => (t, 1),
        _ => (vm.cur, 0),
    };
    let h = arg(vm, base, n, first);
    let mask = match arg(vm, base, n, first + 1) {
        Value::Str(m, _) => vm.heap.str(m).to_vec(),
        _ => Vec::new(),
    };
    let mut bits = 0;
    if mask.contains(&b'c') {
        bits |= crate::vm::HOOK_CALL;
    }
    if mask.contains(&b'r') {
        bits |= crate::vm::HOOK_RET;
    }
    if mask.contains(&b'l') {
        bits |= crate::vm::HOOK_LINE;
    }
    let count = match arg(vm, base, n, first + 2) {
        Value::Nil => 0,
        _ => vm.check_int(base, n, first + 2, "sethook")?,
    };
    let count = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
    if count > 0 {
        bits |= crate::vm::HOOK_COUNT;
    }
    if !matches!(h, Value::Func(_)) {
        bits = 0;
    }
    let keys = match vm.get_field(vm.registry, "_HOOKKEY") {
        Value::Table(k) => k,
        _ => {
            let k = vm.heap.new_table(Table::default());
            let meta = vm.heap.new_table(Table::default());
            let mode = vm.str(b"k");
            vm.set_field(meta, "__mode", mode);
            vm.heap.tables.get_mut(k).meta = Some(meta);
            vm.set_field(vm.registry, "_HOOKKEY", Value::Table(k));
            k
        }
    };
    let stored = if bits == 0 { Value::Nil } else { h };
    vm.raw_set(keys, Value::Thread(th), stored)?;
    let count = if bits == 0 { (0, 0) } else { (count, count) };
    if th == vm.cur {
        vm.hook_count = count;
        // Running frames continue their current lines (as C Lua's 'oldpc').
        vm.hook_pcs = vm.frames.iter().map(|f| f.pc.saturating_sub(1)).collect();
        vm.hook_mask = bits;
    } else {
        let t = vm.heap.threads.get_mut(th);
        let pcs = t.frames.iter().map(|f| f.pc.saturating_sub(1)).collect();
        t.hook = (bits, count, pcs);
    }
    Ok(0)
}

/// `debug.gethook([thread])`: the hook function, its mask ("crl" order)
/// and count.
fn gethook(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let th = match arg(vm, base, n, 0) {
        Value::Thread(t) => t,
        _ => vm.cur,
    };
    let h = vm.hook_fn(Value::Thread(th));
    if h.is_nil() {
        vm.push(Value::Nil);
        return Ok(1);
    }
    let (bits, count) = if th == vm.cur {
        (vm.hook_mask, vm.hook_count.0)
    } else {
        let t = vm.heap.threads.get(th);
        (t.hook.0, t.hook.1.0)
    };
    let mut m = Vec::new();
    for (bit, c) in [
        (crate::vm::HOOK_CALL, b'c'),
        (crate::vm::HOOK_RET, b'r'),
        (crate::vm::HOOK_LINE, b'l'),
    ] {
        if bits & bit != 0 {
            m.push(c);
        }
    }
    let m = vm.str(&m);
    vm.push(h);
    vm.push(m);
    vm.push(Value::Int(i64::from(count)));
    Ok(3)
}

/// Where local `n` of the function `level` frames down lives: its name
/// and stack slot (in the running thread or in suspended thread `th`), as
/// C Lua numbers them: active named locals, then "(temporary)" slots up to
/// the frame's top; negative `n` are the extra arguments, "(vararg)".
fn find_local(
    vm: &mut Vm,
    th: Option<u32>,
    level: usize,
    n: i64,
    me: (usize, usize),
    f: &str,
) -> LResult<Option<(Vec<u8>, usize)>> {
    let frames = match th {
        Some(t) => &vm.heap.threads.get(t).frames,
        None => &vm.frames,
    };
    // Level 0 is the running native itself: its arguments.
    if level == 0 && th.is_none() {
        return Ok((n > 0 && n as usize <= me.1)
            .then(|| (b"(C temporary)".to_vec(), me.0 + n as usize - 1)));
    }
    if level == 0 || level > frames.len() {
        return Err(vm.arg_error(if th.is_some() { 1 } else { 0 }, f, "level out of range"));
    }
    let idx = frames.len() - level;
    let fr = frames[idx];
    let limit = match frames.get(idx + 1) {
        Some(next) => next.func,
        None if th.is_some() => vm.heap.threads.get(th.unwrap_or(0)).top,
        None => me.0 - 1,
    };
    let stack_fn = match th {
        Some(t) => vm.heap.threads.get(t).stack[fr.func],
        None => vm.stack[fr.func],
    };
    if n < 0 {
        let k = n.unsigned_abs() as usize;
        if k > fr.nvarargs {
            return Ok(None);
        }
        return Ok(Some((b"(vararg)".to_vec(), fr.func - fr.nvarargs + k - 1)));
    }
    let n = n as usize;
    if let Value::Func(h) = stack_fn
        && let Func::Lua { proto, .. } = vm.heap.funcs.get(h)
    {
        let pc = fr.pc.saturating_sub(1);
        let mut seen = 0;
        for l in proto.locals.iter() {
            if (l.2 as usize) <= pc && pc < l.3 as usize {
                seen += 1;
                if seen == n {
                    return Ok(Some((l.0.clone(), fr.base + l.1 as usize)));
                }
            }
        }
    }
    if n > 0 && limit >= fr.base && limit - fr.base >= n {
        let name: &[u8] = match stack_fn {
            Value::Func(h) if matches!(vm.heap.funcs.get(h), Func::Native { .. }) => {
                b"(C temporary)"
            }
            _ => b"(temporary)",
        };
        return Ok(Some((name.to_vec(), fr.base + n - 1)));
    }
    Ok(None)
}

/// The thread argument of a debug function, if any, and where the other
/// arguments start.
fn thread_arg(vm: &Vm, base: usize, n: usize) -> (Option<u32>, usize) {
    match arg(vm, base, n, 0) {
        Value::Thread(t) if t != vm.cur => (Some(t), 1),
        Value::Thread(_) => (None, 1),
        _ => (None, 0),
    }
}

fn getlocal(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let (th, first) = thread_arg(vm, base, n);
    let k = vm.check_int(base, n, first + 1, "getlocal")?;
    if let Value::Func(h) = arg(vm, base, n, first) {
        // Parameter names of a function that is not running.
        let name = match vm.heap.funcs.get(h) {
            Func::Lua { proto, .. } if k > 0 => proto
                .locals
                .iter()
                .filter(|l| l.2 == 0)
                .nth(k as usize - 1)
                .filter(|_| (k as usize) <= proto.nparams as usize)
                .map(|l| l.0.clone()),
            _ => None,
        };
        let v = match name {
            Some(nm) => vm.str(&nm),
            None => Value::Nil,
        };
        vm.push(v);
        return Ok(1);
    }
    let level = vm.check_int(base, n, first, "getlocal")?;
    let level = usize::try_from(level).unwrap_or(usize::MAX);
    match find_local(vm, th, level, k, (base, n), "getlocal")? {
        Some((name, slot)) => {
            let v = match th {
                Some(t) => vm.heap.threads.get(t).stack[slot],
                None => vm.stack[slot],
            };
            let nm = vm.str(&name);
            vm.push(nm);
            vm.push(v);
            Ok(2)
        }
        None => {
            vm.push(Value::Nil);
            Ok(1)
        }
    }
}

fn setlocal(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let (th, first) = thread_arg(vm, base, n);
    let level = vm.check_int(base, n, first, "setlocal")?;
    let level = usize::try_from(level).unwrap_or(usize::MAX);
    let k = vm.check_int(base, n, first + 1, "setlocal")?;
    let v = arg(vm, base, n, first + 2);
    match find_local(vm, th, level, k, (base, n), "setlocal")? {
        Some((name, slot)) => {
            match th {
                Some(t) => vm.heap.threads.get_mut(t).stack[slot] = v,
                None => vm.stack[slot] = v,
            }
            let nm = vm.str(&name);
            vm.push(nm);
        }
        None => vm.push(Value::Nil),
    }
    Ok(1)
}

fn getmetatable(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let m = vm.metatable(arg(vm, base, n, 0));
    vm.push(m.map_or(Value::Nil, Value::Table));
    Ok(1)
}

fn setmetatable(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = arg(vm, base, n, 0);
    let m = match arg(vm, base, n, 1) {
        Value::Table(t) => Some(t),
        Value::Nil => None,
        _ => return Err(vm.arg_error(1, "setmetatable", "nil or table expected")),
    };
    match v {
        Value::Table(t) => vm.heap.tables.get_mut(t).meta = m,
        Value::UData(u) => vm.heap.udata.get_mut(u).meta = m,
        Value::Str(_, _) => vm.string_meta = m,
        other => vm.basic_meta[crate::vm::basic_index(other)] = m,
    }
    vm.check_finalizer(v, m);
    vm.push(v);
    Ok(1)
}

fn upval_handle(
    vm: &mut Vm,
    base: usize,
    n: usize,
    f: &str,
) -> LResult<Option<(u32, usize, Option<u32>)>> {
    let func = arg(vm, base, n, 0);
    let i = vm.check_int(base, n, 1, f)?;
    let Value::Func(h) = func else {
        return Err(vm.type_arg_error(0, f, "function", func, n > 0));
    };
    Ok(match vm.heap.funcs.get(h) {
        Func::Lua { upvals, .. } if i >= 1 && (i as usize) <= upvals.len() => {
            Some((h, i as usize - 1, Some(upvals[i as usize - 1])))
        }
        Func::Native { upvals, .. } if i >= 1 && (i as usize) <= upvals.len() => {
            Some((h, i as usize - 1, None))
        }
        _ => None,
    })
}

fn getupvalue(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let Some((h, i, uh)) = upval_handle(vm, base, n, "getupvalue")? else {
        return Ok(0);
    };
    match uh {
        Some(u) => {
            let name = match vm.heap.funcs.get(h) {
                Func::Lua { proto, .. } => proto.upvals[i].2.clone(),
                _ => Vec::new(),
            };
            // A stripped function's upvalues have no names.
            let name = if name.is_empty() {
                b"(no name)".to_vec()
            } else {
                name
            };
            let nv = vm.str(&name);
            vm.push(nv);
            let v = vm.upval_get(u);
            vm.push(v);
        }
        None => {
            let nv = vm.str(b"");
            vm.push(nv);
            if let Func::Native { upvals, .. } = vm.heap.funcs.get(h) {
                let v = upvals[i];
                vm.push(v);
            }
        }
    }
    Ok(2)
}

fn setupvalue(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 2, "setupvalue")?;
    let v = vm.stack[base + 2];
    let Some((h, i, uh)) = upval_handle(vm, base, n, "setupvalue")? else {
        return Ok(0);
    };
    let name = match uh {
        Some(u) => {
            vm.upval_set(u, v);
            match vm.heap.funcs.get(h) {
                Func::Lua { proto, .. } if proto.upvals[i].2.is_empty() => b"(no name)".to_vec(),
                Func::Lua { proto, .. } => proto.upvals[i].2.clone(),
                _ => Vec::new(),
            }
        }
        None => {
            if let Func::Native { upvals, .. } = vm.heap.funcs.get_mut(h) {
                upvals[i] = v;
            }
            Vec::new()
        }
    };
    let nv = vm.str(&name);
    vm.push(nv);
    Ok(1)
}

/// Full userdata here (files) have no user values, as C Lua's files: setting
/// one fails with `nil`; a non-full userdata is an argument error.
fn setuservalue(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    match arg(vm, base, n, 0) {
        Value::UData(_) => {
            vm.push(Value::Nil);
            Ok(1)
        }
        v => {
            let got = match v {
                Value::Light(_) => "light userdata".to_string(),
                _ if n == 0 => "no value".to_string(),
                _ => vm.type_name_mt(v),
            };
            Err(vm.arg_error(0, "setuservalue", &format!("userdata expected, got {got}")))
        }
    }
}

fn upvalueid(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    match upval_handle(vm, base, n, "upvalueid")? {
        Some((_, _, Some(u))) => vm.push(Value::Light(u as u64 + 1)),
        Some((h, i, None)) => vm.push(Value::Light(((h as u64) << 8 | i as u64) + (1 << 40))),
        None => vm.push(Value::Nil),
    }
    Ok(1)
}

fn upvaluejoin(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let (f1, n1) = (
        arg(vm, base, n, 0),
        vm.check_int(base, n, 1, "upvaluejoin")?,
    );
    let (f2, n2) = (
        arg(vm, base, n, 2),
        vm.check_int(base, n, 3, "upvaluejoin")?,
    );
    let (Value::Func(h1), Value::Func(h2)) = (f1, f2) else {
        rt!(vm, "bad argument to 'upvaluejoin' (Lua function expected)")
    };
    let src = match vm.heap.funcs.get(h2) {
        Func::Lua { upvals, .. } if n2 >= 1 && (n2 as usize) <= upvals.len() => {
            upvals[n2 as usize - 1]
        }
        _ => return Err(vm.arg_error(3, "upvaluejoin", "invalid upvalue index")),
    };
    match vm.heap.funcs.get_mut(h1) {
        Func::Lua { upvals, .. } if n1 >= 1 && (n1 as usize) <= upvals.len() => {
            upvals[n1 as usize - 1] = src
        }
        _ => return Err(vm.arg_error(1, "upvaluejoin", "invalid upvalue index")),
    }
    // The dispatch loop keeps copies of a closure's upvalue handles keyed
    // by epoch; the closure may be running (even the caller of this).
    vm.heap.epoch += 1;
    let _ = UpVal::Closed(Value::Nil);
    Ok(0)
}

fn getregistry(vm: &mut Vm, _base: usize, _n: usize) -> LResult<usize> {
    vm.push(Value::Table(vm.registry));
    Ok(1)
}

fn getuservalue(vm: &mut Vm, _base: usize, _n: usize) -> LResult<usize> {
    vm.push(Value::Nil);
    vm.push(Value::Bool(false));
    Ok(2)
}
