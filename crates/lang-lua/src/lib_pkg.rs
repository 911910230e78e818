//! `require` (with `package.path` search and the reference's not-found
//! message), `dofile` and `loadfile`, all reading through the host's VFS.

use std::io::Read;

use crate::api::arg;
use crate::table::Table;
use crate::value::Value;
use crate::vm::{LErr, LResult, NativeFn, Vm, rt};

/// Opens `package`, `require`, `dofile`, `loadfile`.
pub fn open(vm: &mut Vm) {
    let g = vm.globals;
    let funcs: &[(&'static str, NativeFn)] = &[("require", require), ("loadfile", loadfile)];
    let d = vm.native_with("dofile", dofile, vec![], crate::heap::Special::Dofile);
    vm.set_field(g, "dofile", d);
    for &(name, f) in funcs {
        let v = vm.native(name, f);
        vm.set_field(g, name, v);
    }
    let pkg = vm.new_lib("package", &[("searchpath", searchpath)]);
    let loaded = vm.heap.new_table(Table::default());
    let preload = vm.heap.new_table(Table::default());
    vm.set_field(pkg, "loaded", Value::Table(loaded));
    vm.set_field(pkg, "preload", Value::Table(preload));
    let path = vm.str(b"./?.lua;./?/init.lua");
    vm.set_field(pkg, "path", path);
    let cpath = vm.str(b"");
    vm.set_field(pkg, "cpath", cpath);
    let cfg = vm.str(b"/\n;\n?\n!\n-\n");
    vm.set_field(pkg, "config", cfg);
    for name in [
        "_G",
        "string",
        "table",
        "math",
        "io",
        "os",
        "coroutine",
        "utf8",
        "debug",
        "package",
    ] {
        let v = vm.get_field(g, name);
        vm.set_field(loaded, name, v);
    }
    vm.set_field(vm.registry, "_LOADED", Value::Table(loaded));
}

/// Reads a whole file through the host.
pub fn read_file(vm: &mut Vm, path: &str) -> std::io::Result<Vec<u8>> {
    let mut f = vm.host.open(path, "r")?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    Ok(buf)
}

fn load_file(vm: &mut Vm, path: &str, mode: &[u8], env: Option<Value>) -> Result<Value, String> {
    let src = read_file(vm, path).map_err(|_| format!("cannot open {path}"))?;
    // As C Lua: a UTF-8 byte-order mark, then a first line starting with
    // '#', are skipped; the line's end stays so line numbers hold, except
    // before a binary chunk.
    let mut src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&src);
    let mut comment = false;
    if src.first() == Some(&b'#') {
        let end = src.iter().position(|&c| c == b'\n').unwrap_or(src.len());
        src = &src[end..];
        comment = true;
    }
    let binary = src.get(usize::from(comment)) == Some(&0x1b);
    let src = if binary && comment { &src[1..] } else { src };
    if binary && !mode.contains(&b'b') {
        let m = String::from_utf8_lossy(mode);
        return Err(format!("attempt to load a binary chunk (mode is '{m}')"));
    }
    if !binary && !mode.contains(&b't') {
        let m = String::from_utf8_lossy(mode);
        return Err(format!("attempt to load a text chunk (mode is '{m}')"));
    }
    let src = src.to_vec();
    let mut name = b"@".to_vec();
    name.extend_from_slice(path.as_bytes());
    vm.load_chunk(&src, &name, env)
}

fn loadfile(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let path = vm.check_bytes(base, n, 0, "loadfile")?;
    let mode = match arg(vm, base, n, 1) {
        Value::Nil => b"bt".to_vec(),
        _ => vm.check_bytes(base, n, 1, "loadfile")?,
    };
    let env = if n >= 3 {
        Some(vm.stack[base + 2])
    } else {
        None
    };
    match load_file(vm, &String::from_utf8_lossy(&path), &mode, env) {
        Ok(f) => {
            vm.push(f);
            Ok(1)
        }
        Err(e) => {
            vm.push(Value::Nil);
            let m = vm.str(e.as_bytes());
            vm.push(m);
            Ok(2)
        }
    }
}

/// `dofile` called from Rust (the VM runs the chunk itself, see
/// [`dofile_load`]).
fn dofile(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let f = dofile_load(vm, base, n)?;
    vm.call_n(f, &[], -1)
}

/// The chunk `dofile` runs: the VM calls it in the caller's place, so it may
/// yield.
pub fn dofile_load(vm: &mut Vm, base: usize, n: usize) -> LResult<Value> {
    let path = vm.check_bytes(base, n, 0, "dofile")?;
    match load_file(vm, &String::from_utf8_lossy(&path), b"bt", None) {
        Ok(f) => Ok(f),
        Err(e) => {
            let m = vm.str(e.as_bytes());
            Err(LErr::Rt(m))
        }
    }
}

fn require(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let name = vm.check_bytes(base, n, 0, "require")?;
    let loaded = match vm.get_field(vm.registry, "_LOADED") {
        Value::Table(t) => t,
        _ => rt!(vm, "'package.loaded' must be a table"),
    };
    let key = vm.str(&name);
    let have = vm.heap.tables.get(loaded).get(key);
    if have.truthy() {
        vm.push(have);
        return Ok(1);
    }
    let pkg = match vm.get_field(vm.globals, "package") {
        Value::Table(t) => t,
        _ => rt!(vm, "'package' must be a table"),
    };
    let sname = String::from_utf8_lossy(&name).into_owned();
    let mut msg = format!("module '{sname}' not found:");
    if let Value::Table(pre) = vm.get_field(pkg, "preload") {
        let f = vm.heap.tables.get(pre).get(key);
        if !f.is_nil() {
            let tag = vm.str(b":preload:");
            let r = vm.call1(f, &[key, tag])?;
            return finish(vm, loaded, key, r, tag);
        }
    }
    msg.push_str(&format!("\n\tno field package.preload['{sname}']"));
    let path = match vm.get_field(pkg, "path") {
        Value::Str(p, _) => String::from_utf8_lossy(vm.heap.str(p)).into_owned(),
        _ => rt!(vm, "'package.path' must be a string"),
    };
    let fname = sname.replace('.', "/");
    for templ in path.split(';') {
        if templ.is_empty() {
            continue;
        }
        let file = templ.replace('?', &fname);
        if let Ok(src) = read_file(vm, &file) {
            let mut chunk = b"@".to_vec();
            chunk.extend_from_slice(file.as_bytes());
            let f = match vm.load_chunk(&src, &chunk, None) {
                Ok(f) => f,
                Err(e) => rt!(
                    vm,
                    "error loading module '{sname}' from file '{file}':\n\t{e}"
                ),
            };
            let fv = vm.str(file.as_bytes());
            let r = vm.call1(f, &[key, fv])?;
            return finish(vm, loaded, key, r, fv);
        }
        msg.push_str(&format!("\n\tno file '{file}'"));
    }
    if let Value::Str(cp, _) = vm.get_field(pkg, "cpath") {
        let cpath = String::from_utf8_lossy(vm.heap.str(cp)).into_owned();
        for templ in cpath.split(';').filter(|t| !t.is_empty()) {
            msg.push_str(&format!("\n\tno file '{}'", templ.replace('?', &fname)));
        }
    }
    rt!(vm, "{msg}")
}

fn searchpath(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let name = String::from_utf8_lossy(&vm.check_bytes(base, n, 0, "searchpath")?).into_owned();
    let path = String::from_utf8_lossy(&vm.check_bytes(base, n, 1, "searchpath")?).into_owned();
    let sep = if n > 2 && !vm.stack[base + 2].is_nil() {
        String::from_utf8_lossy(&vm.check_bytes(base, n, 2, "searchpath")?).into_owned()
    } else {
        ".".into()
    };
    let rep = if n > 3 && !vm.stack[base + 3].is_nil() {
        String::from_utf8_lossy(&vm.check_bytes(base, n, 3, "searchpath")?).into_owned()
    } else {
        "/".into()
    };
    let fname = if sep.is_empty() {
        name
    } else {
        name.replace(&sep, &rep)
    };
    let mut msg = String::new();
    for templ in path.split(';').filter(|t| !t.is_empty()) {
        let file = templ.replace('?', &fname);
        if vm.host.open(&file, "r").is_ok() {
            let v = vm.str(file.as_bytes());
            vm.push(v);
            return Ok(1);
        }
        msg.push_str(&format!("\n\tno file '{file}'"));
    }
    vm.push(Value::Nil);
    let m = vm.str(msg.as_bytes());
    vm.push(m);
    Ok(2)
}

fn finish(vm: &mut Vm, loaded: u32, key: Value, r: Value, extra: Value) -> LResult<usize> {
    if !r.is_nil() {
        vm.raw_set(loaded, key, r)?;
    }
    let cur = vm.heap.tables.get(loaded).get(key);
    if cur.is_nil() {
        vm.raw_set(loaded, key, Value::Bool(true))?;
    }
    let v = vm.heap.tables.get(loaded).get(key);
    vm.push(v);
    vm.push(extra);
    let _ = arg;
    Ok(2)
}
