//! Built-in functions, the default delegates of every type, and the
//! standard libraries (math, string, blob, io over the VFS, system).

use crate::heap::{GenState, Value, f32r};
use crate::vm::{Error, R, Vm};
use shield_engine::vfs::{self, OpenMode, VfsFile};
use std::io::{Read, Seek, SeekFrom, Write};

/// A blob: a growable byte buffer with a cursor.
#[derive(Debug, Clone, Default)]
pub(crate) struct Blob {
    pub data: Vec<u8>,
    pub pos: usize,
    /// Index into `Vm::files` when this blob-like object is a file.
    pub file: Option<usize>,
    /// One of the job's standard streams (`stdin`, `stdout`, `stderr`).
    pub stream: Option<StdStream>,
}

/// The standard streams as `file` objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StdStream {
    In,
    Out,
    Err,
}

/// An open file of the VFS.
pub(crate) struct FileObj {
    pub f: Box<dyn VfsFile>,
    pub writable: bool,
}

impl std::fmt::Debug for FileObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileObj").finish_non_exhaustive()
    }
}

/// Formats a float as the reference prints it (C's `%g`).
pub(crate) fn fmt_float(x: f64) -> String {
    fmt_g(x, 6, false)
}

/// C `%g` with a precision; `alt` keeps trailing zeros (`%#g`).
pub(crate) fn fmt_g(x: f64, prec: usize, alt: bool) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    let p = prec.max(1);
    if x == 0.0 {
        let s = if x.is_sign_negative() { "-0" } else { "0" };
        return s.to_owned();
    }
    let e = format!("{:.*e}", p - 1, x);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mut m = mant.to_owned();
        if !alt && m.contains('.') {
            while m.ends_with('0') {
                m.pop();
            }
            if m.ends_with('.') {
                m.pop();
            }
        }
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let mut s = format!("{:.*}", decimals, x);
        if !alt && s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
        s
    }
}

type Nf = crate::heap::NativeFn;

fn set(vm: &mut Vm<'_>, table: Value, name: &'static str, f: Nf, nparams: i32) {
    let k = vm.str(name);
    let v = vm.native(name, f, nparams);
    if let Value::Table(t) = table {
        let h = vm.hash(k);
        let g = vm.heap.tables.get_mut(t).t.insert(h, k, v);
        vm.heap.grew(g);
    }
}

fn set_value(vm: &mut Vm<'_>, table: Value, name: &str, v: Value) {
    let k = vm.str(name);
    if let Value::Table(t) = table {
        let h = vm.hash(k);
        let g = vm.heap.tables.get_mut(t).t.insert(h, k, v);
        vm.heap.grew(g);
    }
}

fn new_delegate(vm: &mut Vm<'_>, fns: &[(&'static str, Nf, i32)]) -> u32 {
    let t = vm.heap.new_table();
    for &(n, f, p) in fns {
        set(vm, t, n, f, p);
    }
    match t {
        Value::Table(i) => i,
        _ => 0,
    }
}

/// Installs the globals and delegates.
pub(crate) fn install(vm: &mut Vm<'_>) {
    let root = vm.root;
    let globals: &[(&'static str, Nf, i32)] = &[
        ("print", g_print, -1),
        ("error", g_error, -1),
        ("array", g_array, -2),
        ("type", g_type, 2),
        ("assert", g_assert, -2),
        ("getroottable", g_getroottable, 1),
        ("compilestring", g_compilestring, -2),
        ("dofile", g_dofile, -2),
        ("loadfile", g_loadfile, -2),
        ("newthread", g_newthread, 2),
        ("suspend", g_suspend, -1),
        ("callee", g_callee, 1),
        ("collectgarbage", g_collectgarbage, 1),
        ("resurrectunreachable", g_null, 1),
        ("getstackinfos", g_getstackinfos, 2),
        ("setdebughook", g_null, 2),
        ("enabledebuginfo", g_null, 2),
        ("seterrorhandler", g_null, 2),
        ("getconsttable", g_getconsttable, 1),
        // math
        ("abs", m_abs, 2),
        ("fabs", m_fabs, 2),
        ("sqrt", m_sqrt, 2),
        ("sin", m_sin, 2),
        ("cos", m_cos, 2),
        ("tan", m_tan, 2),
        ("asin", m_asin, 2),
        ("acos", m_acos, 2),
        ("atan", m_atan, 2),
        ("atan2", m_atan2, 3),
        ("log", m_log, 2),
        ("log10", m_log10, 2),
        ("exp", m_exp, 2),
        ("pow", m_pow, 3),
        ("floor", m_floor, 2),
        ("ceil", m_ceil, 2),
        ("rand", m_rand, 1),
        ("srand", m_srand, 2),
        // string
        ("format", s_format, -2),
        ("strip", s_strip, 2),
        ("lstrip", s_lstrip, 2),
        ("rstrip", s_rstrip, 2),
        ("split", s_split, 3),
        ("escape", s_escape, 2),
        ("startswith", s_startswith, 3),
        ("endswith", s_endswith, 3),
        ("printf", s_printf, -2),
        ("regexp", re_new, 2),
        // system
        ("clock", sys_clock, 1),
        ("time", sys_time, 1),
        ("date", sys_date, -1),
        ("getenv", sys_getenv, 2),
        // io
        ("file", io_file, 3),
        ("blob", io_blob, -1),
    ];
    for &(n, f, p) in globals {
        set(vm, root, n, f, p);
    }
    set_value(vm, root, "PI", Value::Float(f32r(std::f64::consts::PI)));
    for (name, s) in [
        ("stdin", StdStream::In),
        ("stdout", StdStream::Out),
        ("stderr", StdStream::Err),
    ] {
        let f = vm.heap.new_blob(Blob {
            stream: Some(s),
            ..Blob::default()
        });
        set_value(vm, root, name, f);
    }
    set_value(vm, root, "RAND_MAX", Value::Int(2_147_483_647));
    set_value(vm, root, "_version_", Value::Null);
    let v = vm.str("Squirrel 3.2 stable");
    set_value(vm, root, "_version_", v);
    set_value(vm, root, "_versionnumber_", Value::Int(320));
    set_value(vm, root, "_charsize_", Value::Int(1));
    set_value(vm, root, "_intsize_", Value::Int(8));
    set_value(vm, root, "_floatsize_", Value::Int(4));

    install_regexp(vm);
    vm.delegates.table = new_delegate(
        vm,
        &[
            ("len", t_len, 1),
            ("rawget", t_rawget, 2),
            ("rawset", t_rawset, 3),
            ("rawdelete", t_rawdelete, 2),
            ("rawin", t_rawin, 2),
            ("clear", t_clear, 1),
            ("setdelegate", t_setdelegate, 2),
            ("getdelegate", t_getdelegate, 1),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
            ("keys", t_keys, 1),
            ("values", t_values, 1),
            ("filter", t_filter, 2),
            ("map", t_map, 2),
        ],
    );
    vm.delegates.array = new_delegate(
        vm,
        &[
            ("len", a_len, 1),
            ("append", a_append, 2),
            ("push", a_append, 2),
            ("extend", a_extend, 2),
            ("pop", a_pop, 1),
            ("top", a_top, 1),
            ("insert", a_insert, 3),
            ("remove", a_remove, 2),
            ("resize", a_resize, -2),
            ("sort", a_sort, -1),
            ("reverse", a_reverse, 1),
            ("slice", a_slice, -2),
            ("clear", a_clear, 1),
            ("map", a_map, 2),
            ("apply", a_apply, 2),
            ("reduce", a_reduce, -2),
            ("filter", a_filter, 2),
            ("find", a_find, 2),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.string = new_delegate(
        vm,
        &[
            ("len", str_len, 1),
            ("tointeger", n_tointeger, -1),
            ("tofloat", n_tofloat, 1),
            ("tostring", o_tostring, 1),
            ("slice", str_slice, -2),
            ("find", str_find, -2),
            ("tolower", str_tolower, 1),
            ("toupper", str_toupper, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.number = new_delegate(
        vm,
        &[
            ("tointeger", n_tointeger, 1),
            ("tofloat", n_tofloat, 1),
            ("tostring", o_tostring, 1),
            ("tochar", n_tochar, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.function = new_delegate(
        vm,
        &[
            ("call", f_call, -2),
            ("pcall", f_call, -2),
            ("acall", f_acall, 2),
            ("pacall", f_acall, 2),
            ("bindenv", f_bindenv, 2),
            ("getinfos", f_getinfos, 1),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.class = new_delegate(
        vm,
        &[
            ("instance", c_instance, 1),
            ("getattributes", c_getattributes, 2),
            ("setattributes", c_setattributes, 3),
            ("rawget", t_rawget, 2),
            ("rawset", t_rawset, 3),
            ("rawin", t_rawin, 2),
            ("newmember", c_newmember, -3),
            ("getbase", c_getbase, 1),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.instance = new_delegate(
        vm,
        &[
            ("getclass", i_getclass, 1),
            ("rawget", t_rawget, 2),
            ("rawset", t_rawset, 3),
            ("rawin", t_rawin, 2),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.generator = new_delegate(
        vm,
        &[
            ("getstatus", gen_status, 1),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.thread = new_delegate(
        vm,
        &[
            ("call", th_call, -1),
            ("wakeup", th_wakeup, -1),
            ("getstatus", th_status, 1),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.weakref = new_delegate(
        vm,
        &[
            ("ref", w_ref, 1),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
        ],
    );
    vm.delegates.blob = new_delegate(
        vm,
        &[
            ("len", b_len, 1),
            ("tell", b_tell, 1),
            ("seek", b_seek, -2),
            ("eos", b_eos, 1),
            ("readblob", b_readblob, 2),
            ("writeblob", b_writeblob, 2),
            ("readn", b_readn, 2),
            ("writen", b_writen, 3),
            ("resize", b_resize, 2),
            ("flush", b_flush, 1),
            ("close", b_close, 1),
            ("tostring", o_tostring, 1),
            ("weakref", o_weakref, 1),
        ],
    );
}

// ── helpers ──────────────────────────────────────────────────────────────

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).copied().unwrap_or(Value::Null)
}

fn bad_param<T>(vm: &mut Vm<'_>, i: usize, want: &str, got: Value) -> R<T> {
    let t = vm.type_name(got);
    vm.err(format!(
        "parameter {i} has an invalid type '{t}' ; expected: '{want}'"
    ))
}

fn int_arg(vm: &mut Vm<'_>, args: &[Value], i: usize) -> R<i64> {
    match arg(args, i) {
        Value::Int(n) => Ok(n),
        Value::Float(f) => Ok(f as i64),
        v => bad_param(vm, i, "integer|float", v),
    }
}

fn num_arg(vm: &mut Vm<'_>, args: &[Value], i: usize) -> R<f64> {
    match arg(args, i) {
        Value::Int(n) => Ok(n as f64),
        Value::Float(f) => Ok(f),
        v => bad_param(vm, i, "integer|float", v),
    }
}

fn str_arg(vm: &mut Vm<'_>, args: &[Value], i: usize) -> R<Vec<u8>> {
    match arg(args, i) {
        Value::Str(s) => Ok(vm.heap.str_bytes(s).to_vec()),
        v => bad_param(vm, i, "string", v),
    }
}

pub(crate) fn tostring(vm: &mut Vm<'_>, v: Value) -> R<Value> {
    if let Value::Str(_) = v {
        return Ok(v);
    }
    let mut buf = Vec::new();
    vm.append_str(&mut buf, v)?;
    Ok(vm.heap.intern(&buf))
}

fn array_of(vm: &mut Vm<'_>, v: Value) -> R<u32> {
    match v {
        Value::Array(a) => Ok(a),
        v => bad_param(vm, 0, "array", v),
    }
}

// ── globals ──────────────────────────────────────────────────────────────

fn g_print(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let mut buf = Vec::new();
    for &a in &args[1..] {
        vm.append_str(&mut buf, a)?;
    }
    vm.write_out(false, &buf)?;
    Ok(Value::Null)
}

fn g_error(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let mut buf = Vec::new();
    for &a in &args[1..] {
        vm.append_str(&mut buf, a)?;
    }
    vm.write_out(true, &buf)?;
    Ok(Value::Null)
}

fn g_null(_vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    Ok(Value::Null)
}

fn g_getstackinfos(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let level = int_arg(vm, args, 1)?;
    let Some(info) = usize::try_from(level)
        .ok()
        .filter(|&l| l >= 1)
        .and_then(|l| vm.frame_info(l - 1))
    else {
        return Ok(Value::Null);
    };
    let t = vm.heap.new_table();
    vm.roots.push(t);
    let func = vm.str(&info.func);
    set_value(vm, t, "func", func);
    let src = vm.str(&info.source);
    set_value(vm, t, "src", src);
    set_value(vm, t, "line", Value::Int(i64::from(info.line)));
    let locals = vm.heap.new_table();
    set_value(vm, t, "locals", locals);
    for (name, v) in info.values {
        set_value(vm, locals, &name, v);
    }
    vm.roots.pop();
    Ok(t)
}

fn g_callee(vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    // Natives run without a frame: the top frame is the calling closure.
    Ok(vm
        .frames
        .last()
        .map_or(Value::Null, |f| Value::Closure(f.closure)))
}

fn g_collectgarbage(vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    vm.gc();
    Ok(Value::Int(0))
}

fn g_array(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let n = int_arg(vm, args, 1)?;
    if n < 0 {
        return vm.err("negative size");
    }
    let n = n as usize;
    vm.charge(n.saturating_mul(16))?;
    let fill = arg(args, 2);
    Ok(vm.heap.new_array(vec![fill; n]))
}

fn g_type(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let t = vm.type_name(args[1]);
    Ok(vm.str(t))
}

fn g_assert(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    if !arg(args, 1).truthy() {
        if let Value::Str(_) = arg(args, 2) {
            return Err(Error::Throw(arg(args, 2)));
        }
        return vm.err("assertion failed");
    }
    Ok(Value::Null)
}

fn g_getroottable(vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    Ok(vm.root)
}

fn g_getconsttable(vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    Ok(vm.heap.new_table())
}

fn g_compilestring(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let src = str_arg(vm, args, 1)?;
    let name = match arg(args, 2) {
        Value::Str(s) => String::from_utf8_lossy(vm.heap.str_bytes(s)).into_owned(),
        _ => "unnamedbuffer".to_owned(),
    };
    vm.load(&src, &name)
}

fn read_vfs(vm: &mut Vm<'_>, path: &[u8]) -> R<Vec<u8>> {
    let p = String::from_utf8_lossy(path).into_owned();
    let r = (|| -> std::io::Result<Vec<u8>> {
        let n = vfs::normalize(&p)?;
        let mode = OpenMode::parse("r").unwrap_or(OpenMode {
            read: true,
            write: false,
            append: false,
            truncate: false,
            create: false,
        });
        let mut f = vm.world.vfs.open(&n, mode)?;
        let mut b = Vec::new();
        f.read_to_end(&mut b)?;
        Ok(b)
    })();
    match r {
        Ok(b) => Ok(b),
        Err(_) => vm.err("cannot open the file"),
    }
}

fn g_loadfile(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let path = str_arg(vm, args, 1)?;
    let src = read_vfs(vm, &path)?;
    vm.charge(src.len())?;
    vm.load(&src, &String::from_utf8_lossy(&path))
}

fn g_dofile(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let f = g_loadfile(vm, args)?;
    vm.roots.push(f);
    let this = args[0];
    let r = vm.call(f, this, &[]);
    vm.roots.pop();
    r
}

// ── math ─────────────────────────────────────────────────────────────────

fn m_abs(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    Ok(Value::Int(int_arg(vm, args, 1)?.wrapping_abs()))
}

macro_rules! mathf {
    ($name:ident, $f:expr) => {
        fn $name(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
            let x = num_arg(vm, args, 1)?;
            let f: fn(f64) -> f64 = $f;
            Ok(Value::Float(f32r(f(x))))
        }
    };
}
mathf!(m_fabs, f64::abs);
mathf!(m_sqrt, f64::sqrt);
mathf!(m_sin, f64::sin);
mathf!(m_cos, f64::cos);
mathf!(m_tan, f64::tan);
mathf!(m_asin, f64::asin);
mathf!(m_acos, f64::acos);
mathf!(m_atan, f64::atan);
mathf!(m_log, f64::ln);
mathf!(m_log10, f64::log10);
mathf!(m_exp, f64::exp);
mathf!(m_floor, f64::floor);
mathf!(m_ceil, f64::ceil);

fn m_atan2(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let y = num_arg(vm, args, 1)?;
    let x = num_arg(vm, args, 2)?;
    Ok(Value::Float(f32r(y.atan2(x))))
}

fn m_pow(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let x = num_arg(vm, args, 1)?;
    let y = num_arg(vm, args, 2)?;
    Ok(Value::Float(f32r(x.powf(y))))
}

thread_local! {
    static SEED: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

fn m_rand(_vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    // A deterministic LCG (the reference uses the C library's rand()).
    let v = SEED.with(|s| {
        let n = s
            .get()
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        s.set(n);
        (n >> 33) & 0x7fff_ffff
    });
    Ok(Value::Int(v as i64))
}

fn m_srand(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = int_arg(vm, args, 1)?;
    SEED.with(|c| c.set(s as u64));
    Ok(Value::Null)
}

// ── string library ───────────────────────────────────────────────────────

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 11 | 12)
}

fn s_strip(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 1)?;
    let a = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    let b = s.iter().rposition(|&c| !is_space(c)).map_or(a, |i| i + 1);
    Ok(vm.heap.intern(&s[a..b.max(a)]))
}

fn s_lstrip(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 1)?;
    let a = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    Ok(vm.heap.intern(&s[a..]))
}

fn s_rstrip(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 1)?;
    let b = s.iter().rposition(|&c| !is_space(c)).map_or(0, |i| i + 1);
    Ok(vm.heap.intern(&s[..b]))
}

fn s_split(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 1)?;
    let seps = str_arg(vm, args, 2)?;
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..=s.len() {
        if i == s.len() || seps.contains(&s[i]) {
            // As the reference: an empty last piece is dropped.
            if i < s.len() || i > start {
                let v = vm.heap.intern(&s[start..i]);
                out.push(v);
            }
            start = i + 1;
        }
    }
    vm.charge(out.len() * 16)?;
    Ok(vm.heap.new_array(out))
}

fn s_escape(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 1)?;
    let mut out = Vec::with_capacity(s.len());
    for &c in &s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\'' => out.extend_from_slice(b"\\'"),
            c if !(32..127).contains(&c) => {
                let _ = write!(out, "\\x{c:02x}");
            }
            c => out.push(c),
        }
    }
    Ok(vm.heap.intern(&out))
}

fn s_startswith(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 1)?;
    let p = str_arg(vm, args, 2)?;
    Ok(Value::Bool(s.starts_with(&p)))
}

fn s_endswith(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 1)?;
    let p = str_arg(vm, args, 2)?;
    Ok(Value::Bool(s.ends_with(&p)))
}

fn s_format(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let out = format(vm, args)?;
    vm.charge(out.len())?;
    Ok(vm.heap.intern(&out))
}

fn s_printf(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let out = format(vm, args)?;
    vm.write_out(false, &out)?;
    Ok(Value::Null)
}

/// `format(fmt, ...)`: C-style conversions d i x X o c s f e E g G %.
fn format(vm: &mut Vm<'_>, args: &[Value]) -> R<Vec<u8>> {
    let f = str_arg(vm, args, 1)?;
    let mut out = Vec::new();
    let mut ai = 2;
    let mut i = 0;
    while i < f.len() {
        let c = f[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        if f.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let mut flags = String::new();
        while let Some(&c) = f.get(i) {
            if b"-+ #0".contains(&c) {
                flags.push(c as char);
                i += 1;
            } else {
                break;
            }
        }
        let mut width = 0usize;
        while let Some(&c) = f.get(i).filter(|c| c.is_ascii_digit()) {
            width = (width * 10 + usize::from(c - b'0')).min(1000);
            i += 1;
        }
        let mut prec: Option<usize> = None;
        if f.get(i) == Some(&b'.') {
            i += 1;
            let mut p = 0usize;
            while let Some(&c) = f.get(i).filter(|c| c.is_ascii_digit()) {
                p = (p * 10 + usize::from(c - b'0')).min(1000);
                i += 1;
            }
            prec = Some(p);
        }
        let Some(&conv) = f.get(i) else {
            return vm.err("invalid format");
        };
        i += 1;
        if ai >= args.len() {
            return vm.err("not enough parameters for the given format string");
        }
        let a = args[ai];
        ai += 1;
        let left = flags.contains('-');
        let zero = flags.contains('0') && !left;
        let plus = flags.contains('+');
        let space = flags.contains(' ');
        let alt = flags.contains('#');
        let body: String = match conv {
            b'd' | b'i' => {
                let n = match a {
                    Value::Int(n) => n,
                    Value::Float(x) => x as i64,
                    v => return bad_param(vm, ai - 1, "integer", v),
                };
                let mut s = n.unsigned_abs().to_string();
                if let Some(p) = prec {
                    while s.len() < p {
                        s.insert(0, '0');
                    }
                }
                let sign = if n < 0 {
                    "-"
                } else if plus {
                    "+"
                } else if space {
                    " "
                } else {
                    ""
                };
                pad_num(sign, &s, width, zero && prec.is_none(), left)
            }
            b'x' | b'X' | b'o' => {
                let n = match a {
                    Value::Int(n) => n,
                    Value::Float(x) => x as i64,
                    v => return bad_param(vm, ai - 1, "integer", v),
                };
                let mut s = match conv {
                    b'x' => format!("{:x}", n),
                    b'X' => format!("{:X}", n),
                    _ => format!("{:o}", n),
                };
                if let Some(p) = prec {
                    while s.len() < p {
                        s.insert(0, '0');
                    }
                }
                let pre = if alt && n != 0 {
                    match conv {
                        b'x' => "0x",
                        b'X' => "0X",
                        _ => "0",
                    }
                } else {
                    ""
                };
                pad_num(pre, &s, width, zero && prec.is_none(), left)
            }
            b'c' => {
                let n = match a {
                    Value::Int(n) => n,
                    v => return bad_param(vm, ai - 1, "integer", v),
                };
                let s = String::from_utf8_lossy(&[n as u8]).into_owned();
                pad_str(&s, width, left)
            }
            b's' => {
                let mut buf = Vec::new();
                match a {
                    Value::Str(_) => vm.append_str(&mut buf, a)?,
                    v => return bad_param(vm, ai - 1, "string", v),
                }
                if let Some(p) = prec {
                    buf.truncate(p);
                }
                let pad = width.saturating_sub(buf.len());
                if !left {
                    out.extend(std::iter::repeat_n(b' ', pad));
                }
                out.extend_from_slice(&buf);
                if left {
                    out.extend(std::iter::repeat_n(b' ', pad));
                }
                continue;
            }
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' => {
                let x = match a {
                    Value::Int(n) => n as f64,
                    Value::Float(x) => x,
                    v => return bad_param(vm, ai - 1, "float", v),
                };
                let p = prec.unwrap_or(6);
                let mut s = if x.is_nan() {
                    "nan".to_owned()
                } else if x.is_infinite() {
                    "inf".to_owned()
                } else {
                    match conv {
                        b'f' | b'F' => format!("{:.*}", p, x.abs()),
                        b'e' | b'E' => c_exp(x.abs(), p),
                        _ => fmt_g(x.abs(), if p == 0 { 1 } else { p }, alt),
                    }
                };
                if conv.is_ascii_uppercase() {
                    s = s.to_uppercase();
                }
                let sign = if x.is_sign_negative() && !x.is_nan() {
                    "-"
                } else if plus {
                    "+"
                } else if space {
                    " "
                } else {
                    ""
                };
                pad_num(sign, &s, width, zero && x.is_finite(), left)
            }
            _ => return vm.err("invalid format"),
        };
        out.extend_from_slice(body.as_bytes());
    }
    Ok(out)
}

fn c_exp(x: f64, p: usize) -> String {
    let e = format!("{:.*e}", p, x);
    let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{m}e{sign}{:02}", exp.abs())
}

fn pad_num(sign: &str, digits: &str, width: usize, zero: bool, left: bool) -> String {
    let len = sign.len() + digits.len();
    let pad = width.saturating_sub(len);
    if left {
        format!("{sign}{digits}{}", " ".repeat(pad))
    } else if zero {
        format!("{sign}{}{digits}", "0".repeat(pad))
    } else {
        format!("{}{sign}{digits}", " ".repeat(pad))
    }
}

fn pad_str(s: &str, width: usize, left: bool) -> String {
    let pad = width.saturating_sub(s.len());
    if left {
        format!("{s}{}", " ".repeat(pad))
    } else {
        format!("{}{s}", " ".repeat(pad))
    }
}

// ── system ───────────────────────────────────────────────────────────────

fn sys_clock(vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    Ok(Value::Float(f32r(vm.world.clock.cpu_seconds())))
}

/// `getenv(name)`: the job's environment, `null` for an unset name.
fn sys_getenv(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let name = str_arg(vm, args, 1)?;
    let value = vm
        .world
        .env
        .iter()
        .find(|(n, _)| n.as_bytes() == name.as_slice())
        .map(|(_, v)| v.as_bytes());
    Ok(value.map_or(Value::Null, |v| vm.heap.intern(v)))
}

fn sys_time(vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    Ok(Value::Int(vm.world.clock.unix_time()))
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn sys_date(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let t = match arg(args, 1) {
        Value::Null => vm.world.clock.unix_time(),
        _ => int_arg(vm, args, 1)?,
    };
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    let wday = (days + 4).rem_euclid(7);
    let (_, _, _) = (y, m, d);
    let jan1 = {
        // Day of year: days since Jan 1 of year y.
        let mut dd = days;
        let mut probe = civil(dd);
        while probe.0 == y && !(probe.1 == 1 && probe.2 == 1) {
            dd -= 1;
            probe = civil(dd);
            if days - dd > 366 {
                break;
            }
        }
        days - dd
    };
    let t = vm.heap.new_table();
    for (k, v) in [
        ("sec", secs % 60),
        ("min", (secs / 60) % 60),
        ("hour", secs / 3600),
        ("day", d),
        ("month", m - 1),
        ("year", y),
        ("wday", wday),
        ("yday", jan1),
    ] {
        set_value(vm, t, k, Value::Int(v));
    }
    Ok(t)
}

// ── object delegates ─────────────────────────────────────────────────────

fn o_tostring(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    tostring(vm, args[0])
}

fn o_weakref(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        v @ (Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_)) => Ok(v),
        v => Ok(vm.heap.new_weakref(v)),
    }
}

fn w_ref(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::WeakRef(w) => Ok(*vm.heap.weakrefs.get(w)),
        v => Ok(v),
    }
}

fn t_len(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Table(t) => Ok(Value::Int(vm.heap.tables.get(t).t.len() as i64)),
        v => bad_param(vm, 0, "table", v),
    }
}

fn raw_key_get(vm: &mut Vm<'_>, obj: Value, key: Value) -> R<Option<Value>> {
    let h = vm.hash(key);
    Ok(match obj {
        Value::Table(t) => vm.heap.tables.get(t).t.get(h, key),
        Value::Class(c) => vm.class_get(c, key),
        Value::Instance(_) => vm.get_opt(obj, key)?,
        _ => None,
    })
}

fn t_rawget(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match raw_key_get(vm, args[0], args[1])? {
        Some(v) => Ok(v),
        None => vm.missing(args[1]),
    }
}

fn t_rawset(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Table(t) => {
            if matches!(args[1], Value::Null) {
                return vm.err("null key");
            }
            let h = vm.hash(args[1]);
            let g = vm.heap.tables.get_mut(t).t.insert(h, args[1], args[2]);
            vm.heap.grew(g);
        }
        v @ Value::Class(_) => vm.newslot(v, args[1], args[2], false)?,
        v => vm.set(v, args[1], args[2])?,
    }
    Ok(args[0])
}

fn t_rawdelete(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Table(t) => {
            let h = vm.hash(args[1]);
            Ok(vm
                .heap
                .tables
                .get_mut(t)
                .t
                .remove(h, args[1])
                .unwrap_or(Value::Null))
        }
        v => bad_param(vm, 0, "table", v),
    }
}

fn t_rawin(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    Ok(Value::Bool(raw_key_get(vm, args[0], args[1])?.is_some()))
}

fn t_clear(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    if let Value::Table(t) = args[0] {
        vm.heap.tables.get_mut(t).t.clear();
    }
    Ok(args[0])
}

fn t_setdelegate(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let Value::Table(t) = args[0] else {
        return bad_param(vm, 0, "table", args[0]);
    };
    match args[1] {
        Value::Table(d) => {
            if d == t {
                return vm.err("circular delegate");
            }
            vm.heap.tables.get_mut(t).delegate = Some(d);
        }
        Value::Null => vm.heap.tables.get_mut(t).delegate = None,
        v => return bad_param(vm, 1, "table|null", v),
    }
    Ok(args[0])
}

fn t_getdelegate(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Table(t) => Ok(vm
            .heap
            .tables
            .get(t)
            .delegate
            .map_or(Value::Null, Value::Table)),
        _ => Ok(Value::Null),
    }
}

fn t_keys(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let Value::Table(t) = args[0] else {
        return bad_param(vm, 0, "table", args[0]);
    };
    let v: Vec<Value> = vm.heap.tables.get(t).t.iter().map(|(k, _)| k).collect();
    vm.charge(v.len() * 16)?;
    Ok(vm.heap.new_array(v))
}

fn t_values(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let Value::Table(t) = args[0] else {
        return bad_param(vm, 0, "table", args[0]);
    };
    let v: Vec<Value> = vm.heap.tables.get(t).t.iter().map(|(_, v)| v).collect();
    vm.charge(v.len() * 16)?;
    Ok(vm.heap.new_array(v))
}

fn t_filter(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let Value::Table(t) = args[0] else {
        return bad_param(vm, 0, "table", args[0]);
    };
    let pairs: Vec<(Value, Value)> = vm.heap.tables.get(t).t.iter().collect();
    let out = vm.heap.new_table();
    vm.roots.push(out);
    for (k, v) in pairs {
        let keep = vm.call(args[1], args[0], &[k, v]);
        let keep = match keep {
            Ok(x) => x,
            Err(e) => {
                vm.roots.pop();
                return Err(e);
            }
        };
        if keep.truthy() {
            vm.newslot(out, k, v, false)?;
        }
    }
    vm.roots.pop();
    Ok(out)
}

fn t_map(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let Value::Table(t) = args[0] else {
        return bad_param(vm, 0, "table", args[0]);
    };
    let pairs: Vec<(Value, Value)> = vm.heap.tables.get(t).t.iter().collect();
    let out = vm.heap.new_table();
    vm.roots.push(out);
    for (k, v) in pairs {
        let r = vm.call(args[1], args[0], &[k, v]);
        match r {
            Ok(x) => vm.newslot(out, k, x, false)?,
            Err(e) => {
                vm.roots.pop();
                return Err(e);
            }
        }
    }
    vm.roots.pop();
    Ok(out)
}

// ── arrays ───────────────────────────────────────────────────────────────

fn a_len(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    Ok(Value::Int(vm.heap.arrays.get(a).len() as i64))
}

fn a_append(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let arr = vm.heap.arrays.get_mut(a);
    let cap = arr.capacity();
    arr.push(args[1]);
    let grew = (arr.capacity() - cap) * 16;
    if grew > 0 {
        vm.heap.grew(grew);
        vm.charge(0)?;
    }
    Ok(args[0])
}

fn a_extend(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let b = array_of(vm, args[1])?;
    let other = vm.heap.arrays.get(b).clone();
    vm.charge(other.len() * 16)?;
    vm.heap.grew(other.len() * 16);
    vm.heap.arrays.get_mut(a).extend(other);
    Ok(args[0])
}

fn a_pop(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    match vm.heap.arrays.get_mut(a).pop() {
        Some(v) => Ok(v),
        None => vm.err("empty array"),
    }
}

fn a_top(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    match vm.heap.arrays.get(a).last() {
        Some(&v) => Ok(v),
        None => vm.err("top() on a empty array"),
    }
}

fn a_insert(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let i = int_arg(vm, args, 1)?;
    let arr = vm.heap.arrays.get_mut(a);
    if i < 0 || i as usize > arr.len() {
        return vm.err("index out of range");
    }
    arr.insert(i as usize, args[2]);
    vm.heap.grew(16);
    Ok(args[0])
}

fn a_remove(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let i = int_arg(vm, args, 1)?;
    let arr = vm.heap.arrays.get_mut(a);
    if i < 0 || i as usize >= arr.len() {
        return vm.err("index out of range");
    }
    Ok(arr.remove(i as usize))
}

fn a_resize(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let n = int_arg(vm, args, 1)?;
    if n < 0 {
        return vm.err("negative size");
    }
    let n = n as usize;
    let old = vm.heap.arrays.get(a).len();
    if n > old {
        vm.charge((n - old).saturating_mul(16))?;
        vm.heap.grew((n - old) * 16);
    }
    let fill = arg(args, 2);
    vm.heap.arrays.get_mut(a).resize(n, fill);
    Ok(args[0])
}

fn a_reverse(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    vm.heap.arrays.get_mut(a).reverse();
    Ok(args[0])
}

fn a_clear(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    vm.heap.arrays.get_mut(a).clear();
    Ok(args[0])
}

fn slice_bounds(vm: &mut Vm<'_>, args: &[Value], len: usize) -> R<(usize, usize)> {
    let len = len as i64;
    let mut s = int_arg(vm, args, 1)?;
    let mut e = match arg(args, 2) {
        Value::Null => len,
        _ => int_arg(vm, args, 2)?,
    };
    if s < 0 {
        s += len;
    }
    if e < 0 {
        e += len;
    }
    if s < 0 || e < s || e > len {
        return vm.err("wrong indexes");
    }
    Ok((s as usize, e as usize))
}

fn a_slice(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let len = vm.heap.arrays.get(a).len();
    let (s, e) = slice_bounds(vm, args, len)?;
    let v = vm.heap.arrays.get(a)[s..e].to_vec();
    vm.charge(v.len() * 16)?;
    Ok(vm.heap.new_array(v))
}

fn a_map(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let n = vm.heap.arrays.get(a).len();
    let out = vm.heap.new_array(Vec::with_capacity(n));
    vm.roots.push(out);
    let r = (|| {
        for i in 0..n {
            let Some(&x) = vm.heap.arrays.get(a).get(i) else {
                break;
            };
            let y = vm.call(args[1], args[0], &[x])?;
            if let Value::Array(o) = out {
                vm.heap.arrays.get_mut(o).push(y);
            }
        }
        Ok(out)
    })();
    vm.roots.pop();
    r
}

fn a_apply(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let n = vm.heap.arrays.get(a).len();
    for i in 0..n {
        let Some(&x) = vm.heap.arrays.get(a).get(i) else {
            break;
        };
        let y = vm.call(args[1], args[0], &[x])?;
        if let Some(slot) = vm.heap.arrays.get_mut(a).get_mut(i) {
            *slot = y;
        }
    }
    Ok(args[0])
}

fn a_reduce(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let n = vm.heap.arrays.get(a).len();
    let (mut acc, start) = if args.len() > 2 {
        (args[2], 0)
    } else {
        if n == 0 {
            return Ok(Value::Null);
        }
        (vm.heap.arrays.get(a)[0], 1)
    };
    for i in start..n {
        let Some(&x) = vm.heap.arrays.get(a).get(i) else {
            break;
        };
        vm.roots.push(acc);
        let r = vm.call(args[1], args[0], &[acc, x]);
        vm.roots.pop();
        acc = r?;
    }
    Ok(acc)
}

fn a_filter(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let n = vm.heap.arrays.get(a).len();
    let out = vm.heap.new_array(Vec::new());
    vm.roots.push(out);
    let r = (|| {
        for i in 0..n {
            let Some(&x) = vm.heap.arrays.get(a).get(i) else {
                break;
            };
            if vm
                .call(args[1], args[0], &[Value::Int(i as i64), x])?
                .truthy()
                && let Value::Array(o) = out
            {
                vm.heap.arrays.get_mut(o).push(x);
                vm.heap.grew(16);
            }
        }
        Ok(out)
    })();
    vm.roots.pop();
    r
}

fn a_find(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let pos = vm.heap.arrays.get(a).iter().position(|v| v.raw_eq(args[1]));
    Ok(pos.map_or(Value::Null, |i| Value::Int(i as i64)))
}

fn a_sort(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[0])?;
    let mut v = vm.heap.arrays.get(a).clone();
    let cmp = arg(args, 1);
    // A merge sort that may call the script's comparator: errors stop it.
    let mut failure: Option<Error> = None;
    let mut tmp = v.clone();
    merge_sort(vm, &mut v, &mut tmp, cmp, &mut failure);
    if let Some(e) = failure {
        return Err(e);
    }
    *vm.heap.arrays.get_mut(a) = v;
    Ok(args[0])
}

fn sort_less(vm: &mut Vm<'_>, x: Value, y: Value, cmp: Value, failure: &mut Option<Error>) -> bool {
    if failure.is_some() {
        return false;
    }
    let r = if matches!(cmp, Value::Null) {
        vm.order(x, y).map(|o| o < 0)
    } else {
        match vm.call(cmp, vm.root, &[x, y]) {
            Ok(Value::Int(i)) => Ok(i < 0),
            Ok(Value::Float(f)) => Ok(f < 0.0),
            Ok(_) => vm.err("_cmp must return an integer"),
            Err(e) => Err(e),
        }
    };
    match r {
        Ok(b) => b,
        Err(e) => {
            *failure = Some(e);
            false
        }
    }
}

fn merge_sort(
    vm: &mut Vm<'_>,
    v: &mut [Value],
    tmp: &mut [Value],
    cmp: Value,
    failure: &mut Option<Error>,
) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    if n <= 12 {
        for i in 1..n {
            let mut j = i;
            while j > 0 && sort_less(vm, v[j], v[j - 1], cmp, failure) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = n / 2;
    {
        let (l, r) = v.split_at_mut(mid);
        let (tl, tr) = tmp.split_at_mut(mid);
        merge_sort(vm, l, tl, cmp, failure);
        merge_sort(vm, r, tr, cmp, failure);
    }
    tmp[..n].copy_from_slice(v);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if sort_less(vm, tmp[j], tmp[i], cmp, failure) {
            v[k] = tmp[j];
            j += 1;
        } else {
            v[k] = tmp[i];
            i += 1;
        }
        k += 1;
    }
    while i < mid {
        v[k] = tmp[i];
        i += 1;
        k += 1;
    }
    while j < n {
        v[k] = tmp[j];
        j += 1;
        k += 1;
    }
}

// ── strings ──────────────────────────────────────────────────────────────

fn str_len(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Str(s) => Ok(Value::Int(vm.heap.str_bytes(s).len() as i64)),
        v => bad_param(vm, 0, "string", v),
    }
}

fn str_slice(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 0)?;
    let (a, b) = slice_bounds(vm, args, s.len())?;
    Ok(vm.heap.intern(&s[a..b]))
}

fn str_find(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 0)?;
    let p = str_arg(vm, args, 1)?;
    let start = match arg(args, 2) {
        Value::Null => 0,
        _ => int_arg(vm, args, 2)?.max(0) as usize,
    };
    if start > s.len() {
        return Ok(Value::Null);
    }
    let pos = if p.is_empty() {
        Some(0)
    } else {
        s[start..].windows(p.len()).position(|w| w == p.as_slice())
    };
    Ok(pos.map_or(Value::Null, |i| Value::Int((i + start) as i64)))
}

fn str_tolower(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 0)?;
    Ok(vm.heap.intern(&s.to_ascii_lowercase()))
}

fn str_toupper(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let s = str_arg(vm, args, 0)?;
    Ok(vm.heap.intern(&s.to_ascii_uppercase()))
}

/// Parses the longest numeric prefix the way `strtol`/`strtod` would.
fn parse_num(s: &[u8], base: u32) -> Option<Value> {
    let t = String::from_utf8_lossy(s);
    let t = t.trim();
    if base == 10 {
        if let Ok(i) = t.parse::<i64>() {
            return Some(Value::Int(i));
        }
        if let Ok(f) = t.parse::<f64>()
            && t.bytes()
                .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
        {
            return Some(Value::Float(f));
        }
        None
    } else {
        i64::from_str_radix(t, base).ok().map(Value::Int)
    }
}

fn n_tointeger(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Float(f) => Ok(Value::Int(f as i64)),
        Value::Bool(b) => Ok(Value::Int(i64::from(b))),
        Value::Str(s) => {
            let base = match arg(args, 1) {
                Value::Int(b) if (2..=36).contains(&b) => b as u32,
                _ => 10,
            };
            let b = vm.heap.str_bytes(s).to_vec();
            match parse_num(&b, base) {
                Some(Value::Int(i)) => Ok(Value::Int(i)),
                Some(Value::Float(f)) => Ok(Value::Int(f as i64)),
                _ => vm.err("cannot convert the string"),
            }
        }
        v => bad_param(vm, 0, "number", v),
    }
}

fn n_tofloat(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Int(i) => Ok(Value::Float(f32r(i as f64))),
        Value::Float(f) => Ok(Value::Float(f)),
        Value::Bool(b) => Ok(Value::Float(if b { 1.0 } else { 0.0 })),
        Value::Str(s) => {
            let b = vm.heap.str_bytes(s).to_vec();
            match parse_num(&b, 10) {
                Some(Value::Int(i)) => Ok(Value::Float(f32r(i as f64))),
                Some(Value::Float(f)) => Ok(Value::Float(f32r(f))),
                _ => vm.err("cannot convert the string"),
            }
        }
        v => bad_param(vm, 0, "number", v),
    }
}

fn n_tochar(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let c = match args[0] {
        Value::Int(i) => i as u8,
        Value::Float(f) => f as i64 as u8,
        _ => 0,
    };
    Ok(vm.heap.intern(&[c]))
}

// ── functions, classes, instances, generators ────────────────────────────

fn f_call(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let this = arg(args, 1);
    let rest: Vec<Value> = args.get(2..).map(<[Value]>::to_vec).unwrap_or_default();
    vm.call(args[0], this, &rest)
}

fn f_acall(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let a = array_of(vm, args[1])?;
    let all = vm.heap.arrays.get(a).clone();
    if all.is_empty() {
        return vm.err("too few parameters");
    }
    vm.call(args[0], all[0], &all[1..])
}

fn f_bindenv(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Closure(c) => {
            let src = vm.heap.closures.get(c);
            let copy = crate::heap::Closure {
                proto: src.proto.clone(),
                outers: src.outers.clone(),
                defaults: src.defaults.clone(),
                env: Some(args[1]),
                base: src.base,
            };
            Ok(vm.heap.new_closure(copy))
        }
        v => Ok(v),
    }
}

fn f_getinfos(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let t = vm.heap.new_table();
    match args[0] {
        Value::Closure(c) => {
            let p = vm.heap.closures.get(c).proto.clone();
            set_value(vm, t, "native", Value::Bool(false));
            set_value(vm, t, "name", p.name);
            let src = vm.str(&p.source);
            set_value(vm, t, "src", src);
            let mut params = Vec::new();
            for l in p.locals.iter().filter(|l| (l.1 as usize) < p.nparams) {
                params.push((l.1, l.0));
            }
            params.sort_by_key(|p| p.0);
            let arr: Vec<Value> = params.into_iter().map(|p| p.1).collect();
            let arr = vm.heap.new_array(arr);
            set_value(vm, t, "parameters", arr);
            set_value(vm, t, "varargs", Value::Int(i64::from(p.varargs)));
        }
        Value::Native(n) => {
            let name = vm.heap.natives.get(n).name;
            set_value(vm, t, "native", Value::Bool(true));
            let nv = vm.str(name);
            set_value(vm, t, "name", nv);
        }
        _ => {}
    }
    Ok(t)
}

fn c_instance(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Class(c) => vm.instantiate(c),
        v => bad_param(vm, 0, "class", v),
    }
}

fn c_getattributes(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let Value::Class(c) = args[0] else {
        return bad_param(vm, 0, "class", args[0]);
    };
    if matches!(args[1], Value::Null) {
        return Ok(vm.heap.classes.get(c).attrs);
    }
    let h = vm.hash(args[1]);
    let cl = vm.heap.classes.get(c);
    if let Some(v) = cl.member_attrs.get(h, args[1]) {
        return Ok(v);
    }
    if vm.class_get(c, args[1]).is_some() {
        return Ok(Value::Null);
    }
    vm.err("invalid member")
}

fn c_setattributes(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let Value::Class(c) = args[0] else {
        return bad_param(vm, 0, "class", args[0]);
    };
    if matches!(args[1], Value::Null) {
        let old = vm.heap.classes.get(c).attrs;
        vm.heap.classes.get_mut(c).attrs = args[2];
        return Ok(old);
    }
    let h = vm.hash(args[1]);
    let old = vm
        .heap
        .classes
        .get(c)
        .member_attrs
        .get(h, args[1])
        .unwrap_or(Value::Null);
    vm.heap
        .classes
        .get_mut(c)
        .member_attrs
        .insert(h, args[1], args[2]);
    Ok(old)
}

fn c_newmember(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    vm.newslot(args[0], args[1], args[2], false)?;
    Ok(Value::Null)
}

fn c_getbase(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Class(c) => Ok(vm
            .heap
            .classes
            .get(c)
            .base
            .map_or(Value::Null, Value::Class)),
        _ => Ok(Value::Null),
    }
}

fn i_getclass(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[0] {
        Value::Instance(i) => Ok(Value::Class(vm.heap.instances.get(i).class)),
        v => bad_param(vm, 0, "instance", v),
    }
}

fn g_newthread(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    match args[1] {
        f @ (Value::Closure(_) | Value::Native(_)) => Ok(vm.heap.new_thread(crate::heap::Thread {
            func: f,
            state: crate::heap::ThreadState::Idle,
            stack: Vec::new(),
            frames: Vec::new(),
            traps: Vec::new(),
            push_result: false,
        })),
        v => bad_param(vm, 1, "closure|nativeclosure", v),
    }
}

fn g_suspend(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    vm.thread_suspend(arg(args, 1))
}

fn thread_of(vm: &mut Vm<'_>, v: Value) -> R<u32> {
    match v {
        Value::Thread(t) => Ok(t),
        v => bad_param(vm, 0, "thread", v),
    }
}

fn th_call(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let t = thread_of(vm, args[0])?;
    let rest = args[1..].to_vec();
    vm.thread_call(t, &rest)
}

fn th_wakeup(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let t = thread_of(vm, args[0])?;
    vm.thread_wakeup(t, arg(args, 1))
}

fn th_status(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let t = thread_of(vm, args[0])?;
    let s = match vm.heap.threads.get(t).state {
        crate::heap::ThreadState::Idle => "idle",
        crate::heap::ThreadState::Running => "running",
        crate::heap::ThreadState::Suspended => "suspended",
    };
    Ok(vm.str(s))
}

fn gen_status(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let Value::Generator(g) = args[0] else {
        return Ok(Value::Null);
    };
    let s = match vm.heap.gens.get(g).state {
        GenState::Suspended => "suspended",
        GenState::Running => "running",
        GenState::Dead => "dead",
    };
    Ok(vm.str(s))
}

// ── blob and file ────────────────────────────────────────────────────────

fn io_blob(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let n = match arg(args, 1) {
        Value::Null => 0,
        _ => int_arg(vm, args, 1)?,
    };
    if n < 0 {
        return vm.err("cannot create blob with negative size");
    }
    vm.charge(n as usize)?;
    Ok(vm.heap.new_blob(Blob {
        data: vec![0; n as usize],
        pos: 0,
        file: None,
        stream: None,
    }))
}

fn blob_of(vm: &mut Vm<'_>, v: Value) -> R<u32> {
    match v {
        Value::Blob(b) => Ok(b),
        v => bad_param(vm, 0, "blob", v),
    }
}

fn io_file(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let path = str_arg(vm, args, 1)?;
    let mode = str_arg(vm, args, 2)?;
    let mode_s = String::from_utf8_lossy(&mode).into_owned();
    let Some(m) = OpenMode::parse(&mode_s) else {
        return vm.err("invalid file mode");
    };
    let p = String::from_utf8_lossy(&path).into_owned();
    let opened = vfs::normalize(&p).and_then(|n| vm.world.vfs.open(&n, m));
    match opened {
        Ok(f) => {
            vm.files.push(Some(FileObj {
                f,
                writable: m.write,
            }));
            let idx = vm.files.len() - 1;
            Ok(vm.heap.new_blob(Blob {
                data: Vec::new(),
                pos: 0,
                file: Some(idx),
                stream: None,
            }))
        }
        Err(_) => vm.err("cannot open file"),
    }
}

fn file_mut<'v>(vm: &'v mut Vm<'_>, b: u32) -> Option<&'v mut FileObj> {
    let idx = vm.heap.blobs.get(b).file?;
    vm.files.get_mut(idx)?.as_mut()
}

fn b_len(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    if let Some(f) = file_mut(vm, b) {
        let cur = f.f.stream_position().unwrap_or(0);
        let end = f.f.seek(SeekFrom::End(0)).unwrap_or(0);
        let _ = f.f.seek(SeekFrom::Start(cur));
        return Ok(Value::Int(end as i64));
    }
    Ok(Value::Int(vm.heap.blobs.get(b).data.len() as i64))
}

fn b_tell(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    if let Some(f) = file_mut(vm, b) {
        return Ok(Value::Int(f.f.stream_position().unwrap_or(0) as i64));
    }
    Ok(Value::Int(vm.heap.blobs.get(b).pos as i64))
}

fn b_seek(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    let off = int_arg(vm, args, 1)?;
    let origin = match arg(args, 2) {
        Value::Int(o) => o,
        _ => 'b' as i64,
    };
    if let Some(f) = file_mut(vm, b) {
        let pos = match origin as u8 {
            b'c' => SeekFrom::Current(off),
            b'e' => SeekFrom::End(off),
            _ => SeekFrom::Start(off.max(0) as u64),
        };
        let _ = f.f.seek(pos);
        return Ok(Value::Int(0));
    }
    let blob = vm.heap.blobs.get_mut(b);
    let base = match origin as u8 {
        b'c' => blob.pos as i64,
        b'e' => blob.data.len() as i64,
        _ => 0,
    };
    let np = base.checked_add(off).unwrap_or(-1);
    if np < 0 || np as usize > blob.data.len() {
        return vm.err("seek failed");
    }
    blob.pos = np as usize;
    Ok(Value::Int(0))
}

fn b_eos(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    if vm.heap.blobs.get(b).stream.is_some() {
        let at_end = vm.heap.blobs.get(b).pos == 1;
        return Ok(if at_end { Value::Int(1) } else { Value::Null });
    }
    if let Some(f) = file_mut(vm, b) {
        let cur = f.f.stream_position().unwrap_or(0);
        let end = f.f.seek(SeekFrom::End(0)).unwrap_or(0);
        let _ = f.f.seek(SeekFrom::Start(cur));
        return Ok(if cur >= end {
            Value::Int(1)
        } else {
            Value::Null
        });
    }
    let blob = vm.heap.blobs.get(b);
    Ok(if blob.pos >= blob.data.len() {
        Value::Int(1)
    } else {
        Value::Null
    })
}

fn read_bytes(vm: &mut Vm<'_>, b: u32, n: usize) -> Vec<u8> {
    if vm.heap.blobs.get(b).stream == Some(StdStream::In) {
        let mut out = Vec::new();
        let _ = (&mut vm.world.stdin).take(n as u64).read_to_end(&mut out);
        if out.len() < n {
            // Remembered for `eos`.
            vm.heap.blobs.get_mut(b).pos = 1;
        }
        return out;
    }
    if let Some(f) = file_mut(vm, b) {
        let mut out = Vec::new();
        let _ = (&mut f.f).take(n as u64).read_to_end(&mut out);
        return out;
    }
    let blob = vm.heap.blobs.get_mut(b);
    let end = (blob.pos + n).min(blob.data.len());
    let out = blob.data[blob.pos..end].to_vec();
    blob.pos = end;
    out
}

fn write_bytes(vm: &mut Vm<'_>, b: u32, data: &[u8]) -> R<()> {
    match vm.heap.blobs.get(b).stream {
        Some(StdStream::Out) => return vm.write_out(false, data),
        Some(StdStream::Err) => return vm.write_out(true, data),
        Some(StdStream::In) => return vm.err("file not writable"),
        None => {}
    }
    if vm.heap.blobs.get(b).file.is_some() {
        // Writing past the end fills the gap: it counts as output too, and
        // a gap beyond any sane size is refused before it is allocated.
        let gap = match file_mut(vm, b) {
            Some(f) => {
                let pos = f.f.stream_position().unwrap_or(0);
                let end = f.f.seek(SeekFrom::End(0)).unwrap_or(0);
                let _ = f.f.seek(SeekFrom::Start(pos));
                pos.saturating_sub(end)
            }
            None => 0,
        };
        if gap > (1 << 30) {
            return vm.err("io error");
        }
        vm.count_output(gap as usize + data.len())?;
        if let Some(f) = file_mut(vm, b) {
            if !f.writable {
                return vm.err("file not writable");
            }
            let _ = f.f.write_all(data);
        }
        return Ok(());
    }
    vm.charge(data.len())?;
    let blob = vm.heap.blobs.get_mut(b);
    let end = blob.pos + data.len();
    if end > blob.data.len() {
        let grow = end - blob.data.len();
        blob.data.resize(end, 0);
        vm.heap.grew(grow);
    }
    let blob = vm.heap.blobs.get_mut(b);
    blob.data[blob.pos..end].copy_from_slice(data);
    blob.pos = end;
    Ok(())
}

fn b_readblob(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    let n = int_arg(vm, args, 1)?.max(0) as usize;
    vm.charge(n)?;
    let data = read_bytes(vm, b, n);
    Ok(vm.heap.new_blob(Blob {
        data,
        pos: 0,
        file: None,
        stream: None,
    }))
}

fn b_writeblob(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    let src = blob_of(vm, args[1])?;
    let data = vm.heap.blobs.get(src).data.clone();
    write_bytes(vm, b, &data)?;
    Ok(Value::Null)
}

fn b_readn(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    let t = int_arg(vm, args, 1)? as u8;
    let size = match t {
        b'c' | b'b' => 1,
        b's' | b'w' => 2,
        b'i' | b'f' => 4,
        b'l' | b'd' => 8,
        _ => return vm.err("invalid format"),
    };
    let d = read_bytes(vm, b, size);
    if d.len() < size {
        return vm.err("io error");
    }
    let mut buf = [0u8; 8];
    buf[..size].copy_from_slice(&d);
    Ok(match t {
        b'c' => Value::Int(i64::from(buf[0] as i8)),
        b'b' => Value::Int(i64::from(buf[0])),
        b's' => Value::Int(i64::from(i16::from_le_bytes([buf[0], buf[1]]))),
        b'w' => Value::Int(i64::from(u16::from_le_bytes([buf[0], buf[1]]))),
        b'i' => Value::Int(i64::from(i32::from_le_bytes([
            buf[0], buf[1], buf[2], buf[3],
        ]))),
        b'f' => Value::Float(f64::from(f32::from_le_bytes([
            buf[0], buf[1], buf[2], buf[3],
        ]))),
        b'l' => Value::Int(i64::from_le_bytes(buf)),
        _ => Value::Float(f32r(f64::from_le_bytes(buf))),
    })
}

fn b_writen(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    let t = int_arg(vm, args, 2)? as u8;
    let x = arg(args, 1);
    let (i, f) = match x {
        Value::Int(i) => (i, i as f64),
        Value::Float(f) => (f as i64, f),
        v => return bad_param(vm, 1, "number", v),
    };
    let bytes: Vec<u8> = match t {
        b'c' | b'b' => vec![i as u8],
        b's' | b'w' => (i as u16).to_le_bytes().to_vec(),
        b'i' => (i as i32).to_le_bytes().to_vec(),
        b'f' => (f as f32).to_le_bytes().to_vec(),
        b'l' => i.to_le_bytes().to_vec(),
        b'd' => f.to_le_bytes().to_vec(),
        _ => return vm.err("invalid format"),
    };
    write_bytes(vm, b, &bytes)?;
    Ok(Value::Null)
}

fn b_resize(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    let n = int_arg(vm, args, 1)?;
    if n < 0 {
        return vm.err("negative size");
    }
    vm.charge(n as usize)?;
    let blob = vm.heap.blobs.get_mut(b);
    blob.data.resize(n as usize, 0);
    blob.pos = blob.pos.min(n as usize);
    Ok(Value::Null)
}

fn b_flush(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    if let Some(f) = file_mut(vm, b) {
        let _ = f.f.flush();
    }
    Ok(Value::Null)
}

fn b_close(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let b = blob_of(vm, args[0])?;
    if let Some(idx) = vm.heap.blobs.get(b).file
        && let Some(Some(mut f)) = vm.files.get_mut(idx).map(Option::take)
    {
        let _ = f.f.flush();
    }
    Ok(Value::Null)
}

// ── regexp ───────────────────────────────────────────────────────────────

fn install_regexp(vm: &mut Vm<'_>) {
    let c = vm.heap.new_class(crate::heap::Class {
        base: None,
        fields: crate::table::Table::default(),
        defaults: Vec::new(),
        methods: crate::table::Table::default(),
        attrs: Value::Null,
        member_attrs: crate::table::Table::default(),
        locked: false,
        has_get: false,
        metas: crate::table::Table::default(),
    });
    let Value::Class(ci) = c else {
        return;
    };
    vm.regexp_class = ci;
    let k = vm.str("@re");
    let h = vm.hash(k);
    let cl = vm.heap.classes.get_mut(ci);
    cl.fields.insert(h, k, Value::Int(0));
    cl.defaults.push(Value::Int(-1));
    let fns: &[(&'static str, Nf, i32)] = &[
        ("match", re_match, 2),
        ("search", re_search, -2),
        ("capture", re_capture, -2),
        ("subexpcount", re_subexpcount, 1),
        ("_typeof", re_typeof, 1),
    ];
    for &(n, f, p) in fns {
        let key = vm.str(n);
        let v = vm.native(n, f, p);
        let h = vm.hash(key);
        let cl = vm.heap.classes.get_mut(ci);
        if n.starts_with('_') {
            cl.metas.insert(h, key, v);
        } else {
            cl.methods.insert(h, key, v);
        }
    }
}

fn re_new(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let p = str_arg(vm, args, 1)?;
    let re = match crate::regex::Regex::new(&p) {
        Ok(re) => re,
        Err(e) => return vm.err(e),
    };
    vm.charge(p.len() * 64)?;
    vm.heap.grew(p.len() * 64);
    vm.regexes.push(std::rc::Rc::new(re));
    let idx = (vm.regexes.len() - 1) as i64;
    let inst = vm.instantiate(vm.regexp_class)?;
    if let Value::Instance(i) = inst {
        vm.heap.instances.get_mut(i).values[0] = Value::Int(idx);
    }
    Ok(inst)
}

fn regex_of(vm: &mut Vm<'_>, v: Value) -> R<std::rc::Rc<crate::regex::Regex>> {
    if let Value::Instance(i) = v
        && let Some(Value::Int(idx)) = vm.heap.instances.get(i).values.first()
        && let Some(re) = usize::try_from(*idx).ok().and_then(|i| vm.regexes.get(i))
    {
        return Ok(re.clone());
    }
    bad_param(vm, 0, "regexp", v)
}

/// Finds the first match at or after `start`; `full` anchors both ends.
fn re_find(
    vm: &mut Vm<'_>,
    re: &crate::regex::Regex,
    s: &[u8],
    start: usize,
    full: bool,
) -> R<Option<Vec<Option<usize>>>> {
    let max = vm
        .limits
        .instructions
        .map_or(u64::MAX / 4, |m| m.saturating_sub(vm.steps) + 1);
    let mut budget = max;
    let mut found = None;
    let last = if full { start } else { s.len() };
    for at in start..=last {
        if let Some(caps) = re.match_at(s, at, &mut budget)
            && (!full || caps.get(1).copied().flatten() == Some(s.len()))
        {
            found = Some(caps);
            break;
        }
        if budget == 0 {
            break;
        }
    }
    vm.steps += max - budget;
    if budget == 0 {
        return Err(Error::Limit(shield_engine::LimitKind::Instructions));
    }
    Ok(found)
}

fn begin_end(vm: &mut Vm<'_>, b: usize, e: usize) -> Value {
    let t = vm.heap.new_table();
    set_value(vm, t, "begin", Value::Int(b as i64));
    set_value(vm, t, "end", Value::Int(e as i64));
    t
}

fn re_match(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let re = regex_of(vm, args[0])?;
    let s = str_arg(vm, args, 1)?;
    Ok(Value::Bool(re_find(vm, &re, &s, 0, true)?.is_some()))
}

fn start_arg(vm: &mut Vm<'_>, args: &[Value], len: usize) -> R<usize> {
    match arg(args, 2) {
        Value::Null => Ok(0),
        _ => {
            let st = int_arg(vm, args, 2)?;
            if st < 0 || st as usize > len {
                return vm.err("invalid start index");
            }
            Ok(st as usize)
        }
    }
}

fn re_search(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let re = regex_of(vm, args[0])?;
    let s = str_arg(vm, args, 1)?;
    let st = start_arg(vm, args, s.len())?;
    match re_find(vm, &re, &s, st, false)? {
        Some(c) => Ok(begin_end(vm, c[0].unwrap_or(0), c[1].unwrap_or(0))),
        None => Ok(Value::Null),
    }
}

fn re_capture(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let re = regex_of(vm, args[0])?;
    let s = str_arg(vm, args, 1)?;
    let st = start_arg(vm, args, s.len())?;
    let Some(c) = re_find(vm, &re, &s, st, false)? else {
        return Ok(Value::Null);
    };
    let out = vm.heap.new_array(Vec::new());
    vm.roots.push(out);
    for g in 0..re.groups {
        let (b, e) = (c[g * 2].unwrap_or(0), c[g * 2 + 1].unwrap_or(0));
        let t = begin_end(vm, b, e);
        if let Value::Array(a) = out {
            vm.heap.arrays.get_mut(a).push(t);
        }
    }
    vm.roots.pop();
    Ok(out)
}

fn re_typeof(vm: &mut Vm<'_>, _args: &[Value]) -> R<Value> {
    Ok(vm.str("regexp"))
}

fn re_subexpcount(vm: &mut Vm<'_>, args: &[Value]) -> R<Value> {
    let re = regex_of(vm, args[0])?;
    Ok(Value::Int(re.groups as i64))
}
