//! The base library: print, type, pairs, pcall, load, error, metatables...

use crate::api::arg;
use crate::heap::{Func, Special, UpVal};
use crate::number::str_to_number;
use crate::table::Table;
use crate::value::Value;
use crate::vm::{LErr, LResult, Vm, rt, tm};

/// The chunk id C Lua shows for a source name.
pub fn chunk_id(name: &[u8]) -> String {
    if let Some(rest) = name.strip_prefix(b"=") {
        return String::from_utf8_lossy(&rest[..rest.len().min(59)]).into_owned();
    }
    if let Some(rest) = name.strip_prefix(b"@") {
        if rest.len() <= 59 {
            return String::from_utf8_lossy(rest).into_owned();
        }
        return format!("...{}", String::from_utf8_lossy(&rest[rest.len() - 56..]));
    }
    let nl = name.iter().position(|&c| c == b'\n');
    let avail = 45;
    if nl.is_none() && name.len() < avail {
        return format!("[string \"{}\"]", String::from_utf8_lossy(name));
    }
    let mut len = nl.unwrap_or(name.len());
    if len > avail {
        len = avail;
    }
    format!("[string \"{}...\"]", String::from_utf8_lossy(&name[..len]))
}

impl Vm<'_> {
    /// Compiles `src` into a closure whose `_ENV` is `env` (globals by default).
    pub fn load_chunk(
        &mut self,
        src: &[u8],
        chunkname: &[u8],
        env: Option<Value>,
    ) -> Result<Value, String> {
        let envv = env.unwrap_or(Value::Table(self.globals));
        if src.first() == Some(&0x1b) {
            let proto = crate::dump::undump(self, src, chunkname)?;
            // As C Lua's load: the first upvalue is the environment, the
            // others start out nil.
            let mut ups = Vec::with_capacity(proto.upvals.len());
            for i in 0..proto.upvals.len() {
                let v = if i == 0 { envv } else { Value::Nil };
                ups.push(self.heap.new_upval(UpVal::Closed(v)));
            }
            let h = self.heap.new_func(Func::Lua {
                proto,
                upvals: ups.into_boxed_slice(),
            });
            return Ok(Value::Func(h));
        }
        let id = chunk_id(chunkname);
        let body = crate::parser::parse(src, &id)?;
        let proto = crate::compiler::compile(&body, &mut self.heap, &id, chunkname, src)?;
        let up = self.heap.new_upval(UpVal::Closed(envv));
        let h = self.heap.new_func(Func::Lua {
            proto,
            upvals: Box::new([up]),
        });
        Ok(Value::Func(h))
    }
}

/// Opens the base library.
pub fn open(vm: &mut Vm) {
    let g = vm.globals;
    let funcs: &[(&'static str, crate::vm::NativeFn)] = &[
        ("print", print),
        ("type", type_),
        ("tostring", tostring),
        ("tonumber", tonumber),
        ("rawget", rawget),
        ("rawset", rawset),
        ("rawequal", rawequal),
        ("rawlen", rawlen),
        ("setmetatable", setmetatable),
        ("getmetatable", getmetatable),
        ("assert", assert),
        ("error", error),
        ("next", next),
        ("ipairs", ipairs),
        ("select", select),
        ("load", load),
        ("collectgarbage", collectgarbage),
        ("warn", warn),
    ];
    for &(name, f) in funcs {
        let v = vm.native(name, f);
        vm.set_field(g, name, v);
    }
    let pr = vm.native_with("pairs", pairs, vec![], Special::Pairs);
    vm.set_field(g, "pairs", pr);
    let p = vm.native_with("pcall", noop, vec![], Special::Pcall);
    vm.set_field(g, "pcall", p);
    let x = vm.native_with("xpcall", noop, vec![], Special::Xpcall);
    vm.set_field(g, "xpcall", x);
    vm.set_field(g, "_G", Value::Table(g));
    let ver = vm.str(b"Lua 5.4");
    vm.set_field(g, "_VERSION", ver);
    let inext = vm.native("ipairs_iter", ipairs_iter);
    vm.set_field(vm.registry, "ipairs_iter", inext);
    let nx = vm.get_field(g, "next");
    vm.set_field(vm.registry, "next", nx);
}

fn noop(_: &mut Vm, _: usize, _: usize) -> LResult<usize> {
    Ok(0)
}

fn print(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_heap()?;
    let mut out = Vec::new();
    for i in 0..n {
        if i > 0 {
            out.push(b'\t');
        }
        let v = vm.stack[base + i];
        let s = match v {
            Value::Str(h, _) => h,
            Value::Int(_) | Value::Num(_) | Value::Nil | Value::Bool(_) if true => {
                if !vm.append_str(v, &mut out) {
                    out.extend_from_slice(&vm.tostr_basic(v));
                }
                continue;
            }
            _ => match vm.tostring(v)? {
                Value::Str(h, _) => h,
                _ => continue,
            },
        };
        out.extend_from_slice(vm.heap.str(s));
    }
    out.push(b'\n');
    vm.host.write(1, &out)?;
    Ok(0)
}

fn type_(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "type")?;
    let t = vm.stack[base].type_name();
    let s = vm.str(t.as_bytes());
    vm.push(s);
    Ok(1)
}

fn tostring(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "tostring")?;
    let s = vm.tostring(vm.stack[base])?;
    vm.push(s);
    Ok(1)
}

fn tonumber(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = arg(vm, base, n, 0);
    if n >= 2 && !arg(vm, base, n, 1).is_nil() {
        let b = vm.check_int(base, n, 1, "tonumber")?;
        let h = match v {
            Value::Str(h, _) => h,
            _ => return Err(vm.type_arg_error(0, "tonumber", "string", v, n > 0)),
        };
        if !(2..=36).contains(&b) {
            return Err(vm.arg_error(1, "tonumber", "base out of range"));
        }
        let s = vm.heap.str(h);
        let t = {
            let ws = |c: &u8| c.is_ascii_whitespace();
            let st = s.iter().position(|c| !ws(c)).unwrap_or(s.len());
            let en = s.iter().rposition(|c| !ws(c)).map_or(st, |e| e + 1);
            &s[st..en.max(st)]
        };
        let (neg, digits) = match t.first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let mut acc: i64 = 0;
        let mut ok = !digits.is_empty();
        for &c in digits {
            match (c as char).to_digit(36) {
                Some(d) if (d as i64) < b => acc = acc.wrapping_mul(b).wrapping_add(d as i64),
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        vm.push(if ok {
            Value::Int(if neg { acc.wrapping_neg() } else { acc })
        } else {
            Value::Nil
        });
        return Ok(1);
    }
    vm.check_any(n, 0, "tonumber")?;
    let r = match v {
        Value::Int(_) | Value::Num(_) => v,
        Value::Str(h, _) => str_to_number(vm.heap.str(h)).unwrap_or(Value::Nil),
        _ => Value::Nil,
    };
    vm.push(r);
    Ok(1)
}

fn rawget(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = vm.check_table(base, n, 0, "rawget")?;
    let v = vm.heap.tables.get(t).get(arg(vm, base, n, 1));
    vm.push(v);
    Ok(1)
}

fn rawset(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = vm.check_table(base, n, 0, "rawset")?;
    vm.check_any(n, 1, "rawset")?;
    vm.check_any(n, 2, "rawset")?;
    vm.raw_set(t, vm.stack[base + 1], vm.stack[base + 2])?;
    vm.push(Value::Table(t));
    Ok(1)
}

fn rawequal(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "rawequal")?;
    vm.check_any(n, 1, "rawequal")?;
    let r = vm.stack[base].raw_eq(vm.stack[base + 1]);
    vm.push(Value::Bool(r));
    Ok(1)
}

fn rawlen(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let r = match arg(vm, base, n, 0) {
        Value::Table(t) => vm.heap.tables.get(t).len(),
        Value::Str(s, _) => vm.heap.str(s).len() as i64,
        _ => return Err(vm.arg_error(0, "rawlen", "table or string expected")),
    };
    vm.push(Value::Int(r));
    Ok(1)
}

fn setmetatable(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = vm.check_table(base, n, 0, "setmetatable")?;
    let m = arg(vm, base, n, 1);
    let meta = match m {
        Value::Nil => None,
        Value::Table(h) => Some(h),
        _ => return Err(vm.type_arg_error(1, "setmetatable", "nil or table", m, n > 1)),
    };
    if let Some(old) = vm.heap.tables.get(t).meta
        && !vm.tm_of(old, tm::METATABLE).is_nil()
    {
        rt!(vm, "cannot change a protected metatable");
    }
    vm.heap.tables.get_mut(t).meta = meta;
    vm.check_finalizer(Value::Table(t), meta);
    vm.push(Value::Table(t));
    Ok(1)
}

fn getmetatable(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "getmetatable")?;
    match vm.metatable(vm.stack[base]) {
        None => vm.push(Value::Nil),
        Some(m) => {
            let p = vm.tm_of(m, tm::METATABLE);
            vm.push(if p.is_nil() { Value::Table(m) } else { p });
        }
    }
    Ok(1)
}

fn assert(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "assert")?;
    if vm.stack[base].truthy() {
        // Return all arguments.
        for i in 0..n {
            vm.push(vm.stack[base + i]);
        }
        return Ok(n);
    }
    if n >= 2 {
        return Err(LErr::Rt(vm.stack[base + 1]));
    }
    rt!(vm, "assertion failed!")
}

fn error(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = arg(vm, base, n, 0);
    let level = vm.opt_int(base, n, 1, "error", 1)?;
    if let Value::Str(h, _) = v
        && level > 0
        && !(level == 1 && vm.native_parent)
    {
        let level = if vm.native_parent { level - 1 } else { level };
        let pos = vm.where_(level as usize);
        if !pos.is_empty() {
            let mut s = pos.into_bytes();
            s.extend_from_slice(vm.heap.str(h));
            return Err(LErr::Rt(vm.str(&s)));
        }
    }
    Err(LErr::Rt(v))
}

fn next(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = vm.check_table(base, n, 0, "next")?;
    let k = arg(vm, base, n, 1);
    match vm.heap.tables.get(t).next_entry(k) {
        Some(Some((k, v))) => {
            vm.push(k);
            vm.push(v);
            Ok(2)
        }
        Some(None) => {
            vm.push(Value::Nil);
            Ok(1)
        }
        None => rt!(vm, "invalid key to 'next'"),
    }
}

fn pairs(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "pairs")?;
    let v = vm.stack[base];
    let mm = vm.get_tm(v, tm::PAIRS);
    if !mm.is_nil() {
        vm.call_n(mm, &[v], 3)?;
        return Ok(3);
    }
    if !matches!(v, Value::Table(_)) {
        return Err(vm.type_arg_error(0, "pairs", "table", v, true));
    }
    let nx = vm.get_field(vm.registry, "next");
    vm.push(nx);
    vm.push(v);
    vm.push(Value::Nil);
    Ok(3)
}

fn ipairs_iter(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let i = match arg(vm, base, n, 1) {
        Value::Int(i) => i.wrapping_add(1),
        _ => 1,
    };
    let t = arg(vm, base, n, 0);
    let v = match t {
        Value::Table(h) if vm.heap.tables.get(h).meta.is_none() => vm.heap.tables.get(h).get_int(i),
        _ => vm.index(t, Value::Int(i))?,
    };
    if v.is_nil() {
        vm.push(Value::Nil);
        return Ok(1);
    }
    vm.push(Value::Int(i));
    vm.push(v);
    Ok(2)
}

fn ipairs(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "ipairs")?;
    let it = vm.get_field(vm.registry, "ipairs_iter");
    vm.push(it);
    vm.push(vm.stack[base]);
    vm.push(Value::Int(0));
    Ok(3)
}

fn select(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    if let Value::Str(h, _) = arg(vm, base, n, 0)
        && vm.heap.str(h) == b"#"
    {
        vm.push(Value::Int(n as i64 - 1));
        return Ok(1);
    }
    let i = vm.check_int(base, n, 0, "select")?;
    let count = n as i64 - 1;
    let start = if i < 0 {
        if -i > count {
            return Err(vm.arg_error(0, "select", "index out of range"));
        }
        count + i
    } else if i == 0 {
        return Err(vm.arg_error(0, "select", "index out of range"));
    } else {
        (i - 1).min(count)
    };
    let k = (count - start) as usize;
    for j in 0..k {
        vm.push(vm.stack[base + 1 + start as usize + j]);
    }
    Ok(k)
}

fn load(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let chunk = arg(vm, base, n, 0);
    let src: Vec<u8> = match chunk {
        Value::Str(h, _) => vm.heap.str(h).to_vec(),
        Value::Func(_) => {
            let mut buf = Vec::new();
            loop {
                // As C Lua: a reader's error is load's failure message.
                let piece = match vm.call1(chunk, &[]) {
                    Ok(v) => v,
                    Err(LErr::Rt(e)) => {
                        vm.push(Value::Nil);
                        vm.push(e);
                        return Ok(2);
                    }
                    Err(e) => return Err(e),
                };
                match piece {
                    Value::Nil => break,
                    Value::Str(h, _) => {
                        let len = vm.heap.str(h).len();
                        if len == 0 {
                            break;
                        }
                        // The text gathered so far is the script's memory.
                        vm.check_mem(buf.len().saturating_add(len))?;
                        buf.extend_from_slice(vm.heap.str(h));
                    }
                    _ => {
                        vm.push(Value::Nil);
                        let m = vm.str(b"reader function must return a string");
                        vm.push(m);
                        return Ok(2);
                    }
                }
            }
            buf
        }
        _ => return Err(vm.type_arg_error(0, "load", "string", chunk, n > 0)),
    };
    let name = match arg(vm, base, n, 1) {
        Value::Str(h, _) => vm.heap.str(h).to_vec(),
        _ => match chunk {
            Value::Str(_, _) => src.clone(),
            _ => b"=(load)".to_vec(),
        },
    };
    let mode = match arg(vm, base, n, 2) {
        Value::Str(h, _) => vm.heap.str(h).to_vec(),
        _ => b"bt".to_vec(),
    };
    let env = if n >= 4 {
        Some(vm.stack[base + 3])
    } else {
        None
    };
    if src.first() == Some(&0x1b) && !mode.contains(&b'b')
        || src.first() != Some(&0x1b) && !mode.contains(&b't')
    {
        let what = if src.first() == Some(&0x1b) {
            "binary"
        } else {
            "text"
        };
        let m = format!(
            "attempt to load a {} chunk (mode is '{}')",
            what,
            String::from_utf8_lossy(&mode)
        );
        vm.push(Value::Nil);
        let m = vm.str(m.as_bytes());
        vm.push(m);
        return Ok(2);
    }
    match vm.load_chunk(&src, &name, env) {
        Ok(f) => {
            vm.push(f);
            Ok(1)
        }
        Err(msg) => {
            vm.push(Value::Nil);
            let m = vm.str(msg.as_bytes());
            vm.push(m);
            Ok(2)
        }
    }
}

/// `warn`: pieces concatenated; a single piece starting with '@' is a
/// control message ("@on", "@off").
fn warn(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_str(base, n, 0, "warn")?;
    for i in 1..n {
        vm.check_str(base, n, i, "warn")?;
    }
    let first = match vm.stack[base] {
        Value::Str(h, _) => vm.heap.str(h).to_vec(),
        _ => Vec::new(),
    };
    if n == 1 && first.first() == Some(&b'@') {
        match &first[..] {
            b"@on" => vm.warn_on = true,
            b"@off" => vm.warn_on = false,
            _ => {}
        }
        return Ok(0);
    }
    let mut msg = Vec::new();
    for i in 0..n {
        if let Value::Str(h, _) = vm.stack[base + i] {
            msg.extend_from_slice(vm.heap.str(h));
        }
    }
    vm.warning(&String::from_utf8_lossy(&msg))?;
    Ok(0)
}

fn collectgarbage(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let opt = match arg(vm, base, n, 0) {
        Value::Str(h, _) => String::from_utf8_lossy(vm.heap.str(h)).into_owned(),
        Value::Nil => "collect".into(),
        v => return Err(vm.type_arg_error(0, "collectgarbage", "string", v, true)),
    };
    let known = matches!(
        opt.as_str(),
        "collect"
            | "step"
            | "count"
            | "isrunning"
            | "stop"
            | "restart"
            | "incremental"
            | "generational"
            | "setpause"
            | "setstepmul"
    );
    if known && vm.in_finalizer {
        // As C Lua: the collector is not reentrant; every option fails.
        vm.push(Value::Nil);
        return Ok(1);
    }
    match opt.as_str() {
        "collect" | "step" => {
            // Collection runs only where every live value is reachable from
            // roots; natives' callers keep their values on the stack, below
            // this call's arguments (registers above them are dead).
            vm.gc_limit = Some(vm.top);
            vm.collect();
            if vm.gc_stopped {
                vm.heap.threshold = vm.mem_limit;
            }
            vm.run_finalizers()?;
            vm.push(if opt == "step" {
                Value::Bool(true)
            } else {
                Value::Int(0)
            });
        }
        "count" => {
            let b = vm.heap.bytes as f64;
            vm.push(Value::Num(b / 1024.0));
        }
        "isrunning" => vm.push(Value::Bool(!vm.gc_stopped)),
        "stop" => {
            vm.gc_stopped = true;
            vm.heap.threshold = vm.mem_limit;
            vm.push(Value::Int(0));
        }
        "restart" => {
            vm.gc_stopped = false;
            vm.heap.threshold = vm.heap.bytes;
            vm.push(Value::Int(0));
        }
        "incremental" | "generational" => {
            let old = vm.get_field(vm.registry, "gcmode");
            let old = if old.is_nil() {
                vm.str(b"incremental")
            } else {
                old
            };
            let new = vm.str(opt.as_bytes());
            vm.set_field(vm.registry, "gcmode", new);
            vm.push(old);
        }
        "setpause" | "setstepmul" => vm.push(Value::Int(0)),
        _ => {
            let msg = format!("invalid option '{opt}'");
            return Err(vm.arg_error(0, "collectgarbage", &msg));
        }
    }
    Ok(1)
}

/// A new empty table value.
pub fn new_table(vm: &mut Vm) -> Value {
    Value::Table(vm.heap.new_table(Table::default()))
}
