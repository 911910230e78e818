//! `os` and `io` over the host: the Job's streams, its VFS and its clock.

use std::io::{Read, Seek, SeekFrom, Write};

use shield_engine::vfs::VfsFile;

use crate::api::arg;
use crate::heap::UData;
use crate::table::Table;
use crate::value::Value;
use crate::vm::{LErr, LResult, NativeFn, Vm, rt};

/// What a file handle is connected to.
#[allow(missing_debug_implementations)]
pub enum Stream {
    /// The script's stdin.
    Stdin,
    /// The script's stdout.
    Stdout,
    /// The script's stderr.
    Stderr,
    /// A VFS file.
    File(Box<dyn VfsFile>),
}

/// A Lua file handle.
pub struct LFile {
    /// The stream; `None` when closed.
    pub stream: Option<Stream>,
    /// Read-ahead bytes not yet consumed.
    pub ahead: Vec<u8>,
    /// Opened for writing only ("w", "a"): reads fail as in C.
    pub write_only: bool,
    /// Written bytes held back by `setvbuf("full")` or `("line")`.
    pub wbuf: Vec<u8>,
    /// The buffering `setvbuf` chose: `None` writes through (the default
    /// here, so nothing waits on an exit), else the buffer size and whether
    /// a newline flushes.
    pub vbuf: Option<(usize, bool)>,
    /// How far the last seek went past the end of the file: the zeros the
    /// next write fills it with are output (and memory, for a file held in
    /// memory), so they are charged before it.
    pub gap: u64,
    /// Why the last read stopped early, if it failed (C's `ferror`): text
    /// and errno. Cleared as each read call starts, as C Lua's `clearerr`.
    pub error: Option<(String, i64)>,
}

impl LFile {
    /// Writes out the held-back bytes.
    pub fn flush_out(&mut self) -> std::io::Result<()> {
        if let Some(Stream::File(f)) = &mut self.stream
            && !self.wbuf.is_empty()
        {
            let r = f.write_all(&self.wbuf);
            self.wbuf.clear();
            r?;
        }
        Ok(())
    }
}

/// Writes out every file's held-back bytes (at the end of a run).
pub fn flush_all(vm: &mut Vm) {
    for u in vm.heap.udata.slots.iter_mut().flatten() {
        if let Some(f) = u.file.as_mut() {
            let _ = f.flush_out();
        }
    }
}

impl std::fmt::Debug for LFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LFile")
            .field("open", &self.stream.is_some())
            .finish()
    }
}

/// Opens `os` and `io`.
pub fn open(vm: &mut Vm) {
    let os: &[(&'static str, NativeFn)] = &[
        ("time", os_time),
        ("clock", os_clock),
        ("date", os_date),
        ("getenv", os_getenv),
        ("exit", os_exit),
        ("difftime", os_difftime),
        ("remove", os_remove),
        ("rename", os_rename),
        ("tmpname", os_tmpname),
        ("setlocale", os_setlocale),
    ];
    vm.new_lib("os", os);
    let io: &[(&'static str, NativeFn)] = &[
        ("write", io_write),
        ("read", io_read),
        ("lines", io_lines),
        ("open", io_open),
        ("close", io_close),
        ("flush", io_flush),
        ("tmpfile", io_tmpfile),
        ("type", io_type),
        ("output", io_output),
        ("input", io_input),
    ];
    let t = vm.new_lib("io", io);
    let meta = vm.heap.new_table(Table::default());
    let methods: &[(&'static str, NativeFn)] = &[
        ("write", f_write),
        ("read", f_read),
        ("lines", f_lines),
        ("close", f_close),
        ("seek", f_seek),
        ("flush", f_flush),
        ("setvbuf", f_setvbuf),
    ];
    let mt = vm.new_lib("", methods);
    vm.set_field(meta, "__index", Value::Table(mt));
    let name = vm.str(b"FILE*");
    vm.set_field(meta, "__name", name);
    let ts = vm.native("tostring", f_tostring);
    vm.set_field(meta, "__tostring", ts);
    let gc = vm.native("gc", f_gc);
    vm.set_field(meta, "__gc", gc);
    vm.set_field(meta, "__close", gc);
    vm.set_field(vm.registry, "FILE*", Value::Table(meta));
    for (n, s) in [
        ("stdin", Stream::Stdin),
        ("stdout", Stream::Stdout),
        ("stderr", Stream::Stderr),
    ] {
        let u = new_file(vm, s, false);
        vm.set_field(t, n, u);
    }
    let out = vm.get_field(t, "stdout");
    vm.set_field(vm.registry, "io.output", out);
    let inp = vm.get_field(t, "stdin");
    vm.set_field(vm.registry, "io.input", inp);
}

fn new_file(vm: &mut Vm, s: Stream, write_only: bool) -> Value {
    let meta = match vm.get_field(vm.registry, "FILE*") {
        Value::Table(m) => Some(m),
        _ => None,
    };
    vm.heap.bytes += 128;
    Value::UData(vm.heap.udata.alloc(UData {
        meta,
        file: Some(LFile {
            stream: Some(s),
            ahead: Vec::new(),
            write_only,
            wbuf: Vec::new(),
            vbuf: None,
            gap: 0,
            error: None,
        }),
    }))
}

fn os_time(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    if let Value::Table(t) = arg(vm, base, n, 0) {
        // As C Lua's: fields must fit a C int once `delta` is taken off.
        let get = |vm: &mut Vm, k: &str, def: Option<i64>, delta: i64| -> LResult<i64> {
            let v = match vm.get_field(t, k) {
                Value::Int(i) => i,
                Value::Num(f) => match crate::value::float_to_int(f) {
                    Some(i) => i,
                    None => rt!(vm, "field '{k}' is not an integer"),
                },
                Value::Str(h, _) => match crate::number::str_to_number(vm.heap.str(h)) {
                    Some(Value::Int(i)) => i,
                    _ => rt!(vm, "field '{k}' is not an integer"),
                },
                Value::Nil => match def {
                    Some(d) => return Ok(d),
                    None => rt!(vm, "field '{k}' missing in date table"),
                },
                _ => rt!(vm, "field '{k}' is not an integer"),
            };
            let fits = if v >= 0 {
                v - delta <= i64::from(i32::MAX)
            } else {
                i64::from(i32::MIN) + delta <= v
            };
            if !fits {
                rt!(vm, "field '{k}' is out-of-bound");
            }
            Ok(v)
        };
        let year = get(vm, "year", None, 1900)?;
        let month = get(vm, "month", None, 1)?;
        let day = get(vm, "day", None, 0)?;
        let hour = get(vm, "hour", Some(12), 0)?;
        let min = get(vm, "min", Some(0), 0)?;
        let sec = get(vm, "sec", Some(0), 0)?;
        let days = days_from_civil(
            year + (month - 1).div_euclid(12),
            (month - 1).rem_euclid(12) + 1,
            1,
        ) + day
            - 1;
        let time = days * 86400 + hour * 3600 + min * 60 + sec;
        // As C's mktime, the table's fields are normalized in place.
        for (k, v) in date_fields(time) {
            vm.set_field(t, k, Value::Int(v));
        }
        vm.set_field(t, "isdst", Value::Bool(false));
        vm.push(Value::Int(time));
        return Ok(1);
    }
    let t = vm.host.time();
    vm.push(Value::Int(t));
    Ok(1)
}

/// The fields of `os.date("*t", t)` but `isdst`.
fn date_fields(t: i64) -> [(&'static str, i64); 8] {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let wday = (days + 4).rem_euclid(7);
    let yday = days - days_from_civil(y, 1, 1) + 1;
    [
        ("year", y),
        ("month", m),
        ("day", d),
        ("hour", secs / 3600),
        ("min", secs % 3600 / 60),
        ("sec", secs % 60),
        ("wday", wday + 1),
        ("yday", yday),
    ]
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn os_clock(vm: &mut Vm, _: usize, _: usize) -> LResult<usize> {
    let c = vm.host.clock();
    vm.push(Value::Num(c));
    Ok(1)
}

fn os_date(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let fmt = if n > 0 && !vm.stack[base].is_nil() {
        vm.check_bytes(base, n, 0, "date")?
    } else {
        b"%c".to_vec()
    };
    let t = if n > 1 && !vm.stack[base + 1].is_nil() {
        vm.check_int(base, n, 1, "date")?
    } else {
        vm.host.time()
    };
    let fmt = fmt.strip_prefix(b"!").unwrap_or(&fmt).to_vec();
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let wday = (days + 4).rem_euclid(7);
    let yday = days - days_from_civil(y, 1, 1) + 1;
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if fmt.starts_with(b"*t") {
        let tb = vm.heap.new_table(Table::default());
        for (k, v) in date_fields(t) {
            vm.set_field(tb, k, Value::Int(v));
        }
        vm.set_field(tb, "isdst", Value::Bool(false));
        vm.push(Value::Table(tb));
        return Ok(1);
    }
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut out = String::new();
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            out.push(fmt[i] as char);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&c) = fmt.get(i) else {
            rt!(
                vm,
                "bad argument #1 to 'date' (invalid conversion specifier '%')"
            );
        };
        i += 1;
        let wd = DAYS[wday as usize];
        let mo = MONTHS[(m - 1) as usize];
        let s = match c {
            b'Y' => y.to_string(),
            b'y' => format!("{:02}", y % 100),
            b'm' => format!("{m:02}"),
            b'd' => format!("{d:02}"),
            b'H' => format!("{hh:02}"),
            b'M' => format!("{mm:02}"),
            b'S' => format!("{ss:02}"),
            b'p' => (if hh < 12 { "AM" } else { "PM" }).into(),
            b'A' => wd.into(),
            b'a' => wd[..3].into(),
            b'B' => mo.into(),
            b'b' | b'h' => mo[..3].into(),
            b'j' => format!("{yday:03}"),
            b'c' => format!(
                "{} {} {:2} {:02}:{:02}:{:02} {}",
                &wd[..3],
                &mo[..3],
                d,
                hh,
                mm,
                ss,
                y
            ),
            b'x' => format!("{:02}/{:02}/{:02}", m, d, y % 100),
            b'X' => format!("{hh:02}:{mm:02}:{ss:02}"),
            b'D' => format!("{:02}/{:02}/{:02}", m, d, y % 100),
            b'F' => format!("{y}-{m:02}-{d:02}"),
            b'T' => format!("{hh:02}:{mm:02}:{ss:02}"),
            b'w' => wday.to_string(),
            b'Z' => "UTC".into(),
            b'z' => "+0000".into(),
            b'%' => "%".into(),
            b'n' => "\n".into(),
            b't' => "\t".into(),
            _ => rt!(
                vm,
                "bad argument #1 to 'date' (invalid conversion specifier '%{}')",
                c as char
            ),
        };
        out.push_str(&s);
    }
    let v = vm.str(out.as_bytes());
    vm.push(v);
    Ok(1)
}

fn os_getenv(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let name = vm.check_str(base, n, 0, "getenv")?;
    let v = match vm.host.getenv(vm.heap.str(name)) {
        Some(v) => v.as_bytes().to_vec(),
        None => {
            vm.push(Value::Nil);
            return Ok(1);
        }
    };
    let v = vm.str(&v);
    vm.push(v);
    Ok(1)
}

fn os_exit(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let code = match arg(vm, base, n, 0) {
        Value::Nil | Value::Bool(true) => 0,
        Value::Bool(false) => 1,
        _ => vm.check_int(base, n, 0, "exit")? as i32,
    };
    Err(LErr::Exit(code))
}

fn os_difftime(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let a = vm.check_f64(base, n, 0, "difftime")?;
    let b = if n > 1 {
        vm.check_f64(base, n, 1, "difftime")?
    } else {
        0.0
    };
    vm.push(Value::Num(a - b));
    Ok(1)
}

/// The failure results of an io function: nil, the message, the errno.
fn fail(vm: &mut Vm, msg: &str, errno: i64) -> LResult<usize> {
    vm.push(Value::Nil);
    let m = vm.str(msg.as_bytes());
    vm.push(m);
    vm.push(Value::Int(errno));
    Ok(3)
}

/// [`fail`] for an I/O error, prefixed with the file's name where C Lua
/// names it.
fn fail_io(vm: &mut Vm, name: Option<&str>, e: &std::io::Error) -> LResult<usize> {
    let (text, errno) = errno_of(e);
    match name {
        Some(name) => fail(vm, &format!("{name}: {text}"), errno),
        None => fail(vm, &text, errno),
    }
}

fn os_remove(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let name = vm.check_bytes(base, n, 0, "remove")?;
    let name = String::from_utf8_lossy(&name).into_owned();
    match vm.host.remove(&name) {
        Ok(()) => {
            vm.push(Value::Bool(true));
            Ok(1)
        }
        Err(e) => fail_io(vm, Some(&name), &e),
    }
}

fn os_rename(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let from = vm.check_bytes(base, n, 0, "rename")?;
    let to = vm.check_bytes(base, n, 1, "rename")?;
    let from = String::from_utf8_lossy(&from).into_owned();
    let to = String::from_utf8_lossy(&to).into_owned();
    match vm.host.rename(&from, &to) {
        Ok(()) => {
            vm.push(Value::Bool(true));
            Ok(1)
        }
        Err(e) => fail_io(vm, Some(&from), &e),
    }
}

fn os_tmpname(vm: &mut Vm, _: usize, _: usize) -> LResult<usize> {
    let t = vm.host.clock();
    let s = format!("lua_tmp_{}", (t * 1e9) as u64);
    let v = vm.str(s.as_bytes());
    vm.push(v);
    Ok(1)
}

fn os_setlocale(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    // Only the C locale exists here; asking for another one fails.
    let ok = match arg(vm, base, n, 0) {
        Value::Nil => true,
        Value::Str(h, _) => matches!(vm.heap.str(h), b"C" | b"" | b"POSIX"),
        _ => false,
    };
    let v = if ok { vm.str(b"C") } else { Value::Nil };
    vm.push(v);
    Ok(1)
}

/// The file a method was called on: argument 1, "got no value" when absent.
fn file_arg(vm: &mut Vm, base: usize, n: usize, f: &str) -> LResult<u32> {
    if n == 0 {
        rt!(
            vm,
            "bad argument #1 to '{f}' (FILE* expected, got no value)"
        );
    }
    file_of(vm, vm.stack[base], f)
}

fn file_of(vm: &mut Vm, v: Value, f: &str) -> LResult<u32> {
    if let Value::UData(h) = v
        && vm.heap.udata.get(h).file.is_some()
    {
        if vm
            .heap
            .udata
            .get(h)
            .file
            .as_ref()
            .is_some_and(|f| f.stream.is_none())
        {
            rt!(vm, "attempt to use a closed file");
        }
        return Ok(h);
    }
    let tn = vm.type_name_mt(v);
    rt!(vm, "bad argument #1 to '{f}' (FILE* expected, got {tn})")
}

fn write_to(
    vm: &mut Vm,
    h: u32,
    base: usize,
    n: usize,
    first: usize,
    fname: &str,
) -> LResult<usize> {
    let mut buf = Vec::new();
    for i in first..n {
        let v = vm.stack[base + i];
        if let Value::Num(f) = v {
            // io.write formats floats with "%.14g", without a ".0".
            buf.extend_from_slice(crate::number::fmt_g(f, 14, false).as_bytes());
            continue;
        }
        if !vm.append_str(v, &mut buf) {
            return Err(vm.type_arg_error(i - first, fname, "string", v, true));
        }
    }
    vm.check_heap()?;
    let Some(lf) = vm.heap.udata.get_mut(h).file.as_mut() else {
        return fail(vm, "Bad file descriptor", EBADF);
    };
    let gap = std::mem::take(&mut lf.gap);
    if gap > 0 {
        // A gap the heap could not hold is refused as C refuses a file
        // past its size limit; a smaller one is output like any other.
        if gap > vm.mem_limit.saturating_sub(vm.heap.bytes) as u64 {
            return fail(vm, "File too large", EFBIG);
        }
        vm.host
            .charge_output(usize::try_from(gap).unwrap_or(usize::MAX))?;
    }
    let Some(lf) = vm.heap.udata.get_mut(h).file.as_mut() else {
        return fail(vm, "Bad file descriptor", EBADF);
    };
    match (&mut lf.stream, lf.vbuf) {
        (Some(Stream::Stdout), _) => vm.host.write(1, &buf)?,
        (Some(Stream::Stderr), _) => vm.host.write(2, &buf)?,
        // Charged before it is written: a write past the output budget
        // leaves the file as it was.
        (Some(Stream::File(f)), None) => {
            vm.host.charge_output(buf.len())?;
            let r = f.write_all(&buf);
            if let Err(e) = r {
                return fail_io(vm, None, &e);
            }
        }
        (Some(Stream::File(_)), Some((size, line))) => {
            vm.host.charge_output(buf.len())?;
            lf.wbuf.extend_from_slice(&buf);
            let r = if lf.wbuf.len() >= size || (line && buf.contains(&b'\n')) {
                lf.flush_out()
            } else {
                Ok(())
            };
            if let Err(e) = r {
                return fail_io(vm, None, &e);
            }
        }
        _ => return fail(vm, "Bad file descriptor", EBADF),
    }
    vm.push(Value::UData(h));
    Ok(1)
}

fn io_write(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = default_file(vm, "output")?;
    write_to(vm, h, base, n, 0, "write")
}

fn f_write(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = file_arg(vm, base, n, "write")?;
    write_to(vm, h, base, n, 1, "write")
}

/// Reads one more byte of a file into its read-ahead; false at the end.
fn fill(vm: &mut Vm, h: u32) -> bool {
    if let Some(f) = vm.heap.udata.get_mut(h).file.as_mut()
        && let Err(e) = f.flush_out()
    {
        f.error = Some(errno_of(&e));
    }
    let mut chunk = [0u8; 4096];
    let is_stdin = matches!(
        vm.heap
            .udata
            .get(h)
            .file
            .as_ref()
            .and_then(|f| f.stream.as_ref()),
        Some(Stream::Stdin)
    );
    let got = if is_stdin {
        vm.host.read_stdin(&mut chunk)
    } else {
        match vm
            .heap
            .udata
            .get_mut(h)
            .file
            .as_mut()
            .and_then(|f| f.stream.as_mut())
        {
            Some(Stream::File(f)) => f.read(&mut chunk),
            _ => Ok(0),
        }
    };
    // A failed read is not an end of file: the read call reports it (a
    // protected file whose node the host corrupted must not read short).
    let got = match got {
        Ok(n) => n,
        Err(e) => {
            if let Some(f) = vm.heap.udata.get_mut(h).file.as_mut() {
                f.error = Some(errno_of(&e));
            }
            0
        }
    };
    if got == 0 {
        return false;
    }
    if let Some(f) = vm.heap.udata.get_mut(h).file.as_mut() {
        f.ahead.extend_from_slice(&chunk[..got]);
    }
    vm.heap.bytes += got;
    true
}

fn ahead<'v>(vm: &'v mut Vm, h: u32) -> &'v mut Vec<u8> {
    let u = vm.heap.udata.get_mut(h);
    if u.file.is_none() {
        u.file = Some(LFile {
            stream: None,
            ahead: Vec::new(),
            write_only: false,
            wbuf: Vec::new(),
            vbuf: None,
            gap: 0,
            error: None,
        });
    }
    match u.file.as_mut() {
        Some(f) => &mut f.ahead,
        None => unreachable!("just set"),
    }
}

fn read_fmt(vm: &mut Vm, h: u32, fmt: Value, fi: usize) -> LResult<Value> {
    let f = match fmt {
        Value::Int(k) => {
            let k = k.max(0) as usize;
            while ahead(vm, h).len() < k && fill(vm, h) {}
            let a = ahead(vm, h);
            if a.is_empty() && k > 0 {
                return Ok(Value::Nil);
            }
            let take = k.min(a.len());
            let bytes: Vec<u8> = a.drain(..take).collect();
            if k == 0 && a.is_empty() && !fill(vm, h) {
                return Ok(Value::Nil);
            }
            return Ok(vm.str(&bytes));
        }
        Value::Str(s, _) => vm
            .heap
            .str(s)
            .strip_prefix(b"*")
            .unwrap_or(vm.heap.str(s))
            .first()
            .copied()
            .unwrap_or(b'l'),
        _ => return Err(vm.arg_error(fi, "read", "invalid format")),
    };
    match f {
        b'l' | b'L' => {
            loop {
                if let Some(p) = ahead(vm, h).iter().position(|&c| c == b'\n') {
                    let mut line: Vec<u8> = ahead(vm, h).drain(..=p).collect();
                    if f == b'l' {
                        line.pop();
                    }
                    return Ok(vm.str(&line));
                }
                if !fill(vm, h) {
                    break;
                }
            }
            let a = std::mem::take(ahead(vm, h));
            if a.is_empty() {
                return Ok(Value::Nil);
            }
            Ok(vm.str(&a))
        }
        b'a' => {
            while fill(vm, h) {}
            let a = std::mem::take(ahead(vm, h));
            Ok(vm.str(&a))
        }
        b'n' => Ok(read_number(vm, h)),
        _ => Err(vm.arg_error(fi, "read", "invalid format")),
    }
}

/// The next byte of a file's input without consuming it.
fn peek(vm: &mut Vm, h: u32) -> Option<u8> {
    if ahead(vm, h).is_empty() && !fill(vm, h) {
        return None;
    }
    ahead(vm, h).first().copied()
}

/// The numeral `read("n")` is scanning.
struct Numeral {
    h: u32,
    buf: Vec<u8>,
    overflow: bool,
}

impl Numeral {
    /// Most bytes of a numeral, as C Lua's `L_MAXLENNUM`.
    const MAX: usize = 200;

    /// Consumes the next byte if `set` accepts it.
    fn take(&mut self, vm: &mut Vm, set: impl Fn(u8) -> bool) -> bool {
        match peek(vm, self.h) {
            Some(c) if set(c) && !self.overflow => {
                if self.buf.len() >= Self::MAX {
                    self.overflow = true;
                    return false;
                }
                self.buf.push(c);
                ahead(vm, self.h).remove(0);
                true
            }
            _ => false,
        }
    }

    fn digits(&mut self, vm: &mut Vm, hex: bool) -> usize {
        let mut n = 0;
        while self.take(vm, |c| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        }) {
            n += 1;
        }
        n
    }
}

/// `read("n")` as C Lua's: the longest prefix that looks like a numeral (at
/// most 200 bytes), consumed even when it does not convert.
fn read_number(vm: &mut Vm, h: u32) -> Value {
    while peek(vm, h).is_some_and(|c| c.is_ascii_whitespace()) {
        ahead(vm, h).remove(0);
    }
    let mut n = Numeral {
        h,
        buf: Vec::new(),
        overflow: false,
    };
    n.take(vm, |c| c == b'-' || c == b'+');
    let mut count = 0;
    let mut hex = false;
    if n.take(vm, |c| c == b'0') {
        if n.take(vm, |c| c == b'x' || c == b'X') {
            hex = true;
        } else {
            count = 1;
        }
    }
    count += n.digits(vm, hex);
    if n.take(vm, |c| c == b'.') {
        count += n.digits(vm, hex);
    }
    let exp: &[u8] = if hex { b"pP" } else { b"eE" };
    if count > 0 && n.take(vm, |c| exp.contains(&c)) {
        n.take(vm, |c| c == b'-' || c == b'+');
        n.digits(vm, false);
    }
    if n.overflow {
        return Value::Nil;
    }
    crate::number::str_to_number(&n.buf).unwrap_or(Value::Nil)
}

fn read_from(vm: &mut Vm, h: u32, base: usize, n: usize, first: usize) -> LResult<usize> {
    for i in first..n {
        let v = read_fmt(vm, h, vm.stack[base + i], i)?;
        vm.push(v);
        if v.is_nil() {
            return Ok(i - first + 1);
        }
    }
    Ok(n - first)
}

fn io_read(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = default_file(vm, "input")?;
    read_default(vm, h, base, n, 0)
}

fn read_default(vm: &mut Vm, h: u32, base: usize, n: usize, first: usize) -> LResult<usize> {
    if vm
        .heap
        .udata
        .get(h)
        .file
        .as_ref()
        .is_some_and(|f| f.write_only)
    {
        vm.push(Value::Nil);
        let m = vm.str(b"Bad file descriptor");
        vm.push(m);
        vm.push(Value::Int(9));
        return Ok(3);
    }
    take_error(vm, h);
    let start = vm.top;
    let k = if n <= first {
        let l = vm.str(b"l");
        let v = read_fmt(vm, h, l, first)?;
        vm.push(v);
        1
    } else {
        read_from(vm, h, base, n, first)?
    };
    // As C Lua's `g_read`: a read error replaces whatever was read.
    match take_error(vm, h) {
        Some((msg, errno)) => {
            vm.top = start;
            fail(vm, &msg, errno)
        }
        None => Ok(k),
    }
}

/// Takes the failure the reads since the last call recorded.
fn take_error(vm: &mut Vm, h: u32) -> Option<(String, i64)> {
    vm.heap
        .udata
        .get_mut(h)
        .file
        .as_mut()
        .and_then(|f| f.error.take())
}

fn f_read(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = file_arg(vm, base, n, "read")?;
    read_default(vm, h, base, n, 1)
}

/// The iterator of `lines`: upvalues are the file, whether to close it at
/// the end, and the formats.
fn lines_iter(vm: &mut Vm, base: usize, _n: usize) -> LResult<usize> {
    let ups = vm.upvals_of(base);
    let Some(Value::UData(h)) = ups.first().copied() else {
        return Ok(0);
    };
    if vm
        .heap
        .udata
        .get(h)
        .file
        .as_ref()
        .is_some_and(|f| f.stream.is_none())
    {
        rt!(vm, "file is already closed");
    }
    if vm
        .heap
        .udata
        .get(h)
        .file
        .as_ref()
        .is_some_and(|f| f.write_only)
    {
        rt!(vm, "Bad file descriptor");
    }
    let close = ups.get(1).is_some_and(|v| v.truthy());
    let fmts: Vec<Value> = if ups.len() > 2 {
        ups[2..].to_vec()
    } else {
        vec![vm.str(b"l")]
    };
    let start = vm.top;
    take_error(vm, h);
    for (i, &fmt) in fmts.iter().enumerate() {
        let v = read_fmt(vm, h, fmt, i + 1)?;
        vm.push(v);
        if v.is_nil() {
            break;
        }
    }
    if let Some((msg, _)) = take_error(vm, h) {
        rt!(vm, "{msg}");
    }
    if vm.stack[start].is_nil() {
        vm.top = start;
        if close {
            close_file(vm, h)?;
            vm.top = start;
        }
        return Ok(0);
    }
    Ok(vm.top - start)
}

/// Most formats `lines` takes, as C Lua's.
const MAX_LINE_FORMATS: usize = 250;

fn make_lines(
    vm: &mut Vm,
    file: Value,
    close: bool,
    base: usize,
    n: usize,
    first: usize,
) -> LResult<Value> {
    if n > first + MAX_LINE_FORMATS {
        return Err(vm.arg_error(MAX_LINE_FORMATS + 1, "lines", "too many arguments"));
    }
    let mut ups = vec![file, Value::Bool(close)];
    ups.extend_from_slice(&vm.stack[base + first.min(n)..base + n]);
    Ok(vm.native_with("lines", lines_iter, ups, crate::heap::Special::None))
}

fn f_lines(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let f = arg(vm, base, n, 0);
    file_of(vm, f, "lines")?;
    let it = make_lines(vm, f, false, base, n, 1)?;
    vm.push(it);
    Ok(1)
}

fn open_file(vm: &mut Vm, name: &[u8], mode: &str) -> std::io::Result<Value> {
    let path = String::from_utf8_lossy(name).into_owned();
    match vm.host.open(&path, mode) {
        Ok(f) => {
            let write_only = !mode.starts_with('r') && !mode.contains('+');
            Ok(new_file(vm, Stream::File(f), write_only))
        }
        Err(e) => Err(e),
    }
}

/// `EBADF`: an operation on a closed file or a stream not open for it.
const EBADF: i64 = 9;
/// `EFBIG`: a write that would make a file too large.
const EFBIG: i64 = 27;

/// C's `strerror` text and errno for an I/O error: the VFS reports some by
/// kind, some by errno, and the text must not depend on the platform's
/// wording (inside an enclave there is none).
fn errno_of(e: &std::io::Error) -> (String, i64) {
    use std::io::ErrorKind as K;
    let errno = match e.raw_os_error() {
        Some(n) => i64::from(n),
        None => match e.kind() {
            K::NotFound => 2,
            K::PermissionDenied => 13,
            K::IsADirectory => 21,
            K::NotADirectory => 20,
            K::InvalidInput => 22,
            _ => return (e.to_string(), 5),
        },
    };
    let text = match errno {
        1 => "Operation not permitted",
        2 => "No such file or directory",
        5 => "Input/output error",
        9 => "Bad file descriptor",
        13 => "Permission denied",
        20 => "Not a directory",
        21 => "Is a directory",
        22 => "Invalid argument",
        27 => "File too large",
        28 => "No space left on device",
        _ => return (e.to_string(), errno),
    };
    (text.to_owned(), errno)
}

/// C Lua's error for a file `io.lines`, `io.input` or `io.output` cannot
/// open.
fn cannot_open(vm: &mut Vm, name: &[u8], e: &std::io::Error) -> LErr {
    let (text, _) = errno_of(e);
    let msg = format!(
        "cannot open file '{}' ({text})",
        String::from_utf8_lossy(name)
    );
    vm.rt_error(&msg)
}

fn io_lines(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    if arg(vm, base, n, 0).is_nil() {
        let inp = vm.get_field(vm.registry, "io.input");
        file_of(vm, inp, "lines")?;
        let it = make_lines(vm, inp, false, base, n, 1)?;
        vm.push(it);
        return Ok(1);
    }
    let name = vm.check_bytes(base, n, 0, "lines")?;
    match open_file(vm, &name, "r") {
        Ok(f) => {
            let it = make_lines(vm, f, true, base, n, 1)?;
            vm.push(it);
            vm.push(Value::Nil);
            vm.push(Value::Nil);
            vm.push(f);
            Ok(4)
        }
        Err(e) => Err(cannot_open(vm, &name, &e)),
    }
}

fn io_open(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let name = vm.check_bytes(base, n, 0, "open")?;
    let mode = if n > 1 {
        vm.check_bytes(base, n, 1, "open")?
    } else {
        b"r".to_vec()
    };
    let mode = String::from_utf8_lossy(&mode).into_owned();
    let ok = {
        let m = mode.trim_end_matches('b');
        matches!(m, "r" | "w" | "a" | "r+" | "w+" | "a+")
    };
    if !ok {
        return Err(vm.arg_error(1, "open", "invalid mode"));
    }
    match open_file(vm, &name, &mode) {
        Ok(f) => {
            vm.push(f);
            Ok(1)
        }
        Err(e) => fail_io(vm, Some(&String::from_utf8_lossy(&name)), &e),
    }
}

fn close_file(vm: &mut Vm, h: u32) -> LResult<usize> {
    let f = vm.heap.udata.get_mut(h).file.as_mut();
    if let Some(f) = f {
        match f.stream {
            Some(Stream::File(_)) => {
                // Closed either way; a failure to write out is the result,
                // as C's `fclose`.
                let flushed = f.flush_out();
                if let Some(Stream::File(mut file)) = f.stream.take() {
                    let r = flushed.and_then(|()| file.flush());
                    drop(file);
                    if let Err(e) = r {
                        return fail_io(vm, None, &e);
                    }
                }
            }
            _ => {
                vm.push(Value::Nil);
                let m = vm.str(b"cannot close standard file");
                vm.push(m);
                return Ok(2);
            }
        }
    }
    vm.push(Value::Bool(true));
    Ok(1)
}

/// `__gc` and `__close` of a file: closes it unless closed or standard.
fn f_gc(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = arg(vm, base, n, 0);
    if !matches!(v, Value::UData(h) if vm.heap.udata.get(h).file.is_some()) {
        return Err(vm.type_arg_error(0, "__gc", "FILE*", v, n > 0));
    }
    if let Value::UData(h) = v
        && let Some(f) = vm.heap.udata.get_mut(h).file.as_mut()
        && matches!(f.stream, Some(Stream::File(_)))
    {
        let _ = f.flush_out();
        if let Some(Stream::File(mut file)) = f.stream.take() {
            let _ = file.flush();
        }
    }
    Ok(0)
}

fn io_close(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let f = if n == 0 {
        vm.get_field(vm.registry, "io.output")
    } else {
        vm.stack[base]
    };
    let h = file_of(vm, f, "close")?;
    close_file(vm, h)
}

fn f_close(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = file_arg(vm, base, n, "close")?;
    close_file(vm, h)
}

fn f_seek(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = file_arg(vm, base, n, "seek")?;
    let whence = if n > 1 {
        vm.check_bytes(base, n, 1, "seek")?
    } else {
        b"cur".to_vec()
    };
    let off = vm.opt_int(base, n, 2, "seek", 0)?;
    if let Some(f) = vm.heap.udata.get_mut(h).file.as_mut()
        && let Err(e) = f.flush_out()
    {
        return fail_io(vm, None, &e);
    }
    let pending = ahead(vm, h).len() as i64;
    let pos = match &whence[..] {
        b"set" => SeekFrom::Start(off.max(0) as u64),
        b"cur" => SeekFrom::Current(off - pending),
        b"end" => SeekFrom::End(off),
        _ => return Err(vm.arg_error(1, "seek", "invalid option")),
    };
    ahead(vm, h).clear();
    let r = match vm
        .heap
        .udata
        .get_mut(h)
        .file
        .as_mut()
        .and_then(|f| f.stream.as_mut())
    {
        Some(Stream::File(f)) => f.seek(pos).and_then(|p| {
            let end = f.seek(SeekFrom::End(0))?;
            f.seek(SeekFrom::Start(p))?;
            Ok((p, p.saturating_sub(end)))
        }),
        _ => Err(std::io::Error::other("Illegal seek")),
    };
    match r {
        Ok((p, gap)) => {
            if let Some(lf) = vm.heap.udata.get_mut(h).file.as_mut() {
                lf.gap = gap;
            }
            vm.push(Value::Int(p as i64));
            Ok(1)
        }
        Err(e) => fail_io(vm, None, &e),
    }
}

fn f_flush(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = file_arg(vm, base, n, "flush")?;
    flush_file(vm, h)
}

/// `io.tmpfile`: an anonymous file in memory, gone when closed (its writes
/// count against the output budget as any file's).
fn io_tmpfile(vm: &mut Vm, _: usize, _: usize) -> LResult<usize> {
    let f = new_file(
        vm,
        Stream::File(Box::new(std::io::Cursor::new(Vec::new()))),
        false,
    );
    vm.push(f);
    Ok(1)
}

fn io_flush(vm: &mut Vm, _: usize, _: usize) -> LResult<usize> {
    let h = default_file(vm, "output")?;
    flush_file(vm, h)
}

fn flush_file(vm: &mut Vm, h: u32) -> LResult<usize> {
    if let Some(f) = vm.heap.udata.get_mut(h).file.as_mut()
        && let Err(e) = f.flush_out()
    {
        return fail_io(vm, None, &e);
    }
    if let Some(Stream::File(f)) = vm
        .heap
        .udata
        .get_mut(h)
        .file
        .as_mut()
        .and_then(|f| f.stream.as_mut())
        && let Err(e) = f.flush()
    {
        return fail_io(vm, None, &e);
    }
    vm.push(Value::UData(h));
    Ok(1)
}

/// The default input or output file, which must be open.
fn default_file(vm: &mut Vm, which: &str) -> LResult<u32> {
    let v = vm.get_field(vm.registry, &format!("io.{which}"));
    if let Value::UData(h) = v
        && vm
            .heap
            .udata
            .get(h)
            .file
            .as_ref()
            .is_some_and(|f| f.stream.is_none())
    {
        rt!(vm, "default {which} file is closed");
    }
    file_of(vm, v, which)
}

/// Largest write buffer `setvbuf` sets up (the size asked is clamped): it
/// lives outside the counted heap, so it stays at C's `BUFSIZ`.
const MAX_VBUF: usize = 8192;

fn f_setvbuf(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = file_arg(vm, base, n, "setvbuf")?;
    let mode = vm.check_bytes(base, n, 1, "setvbuf")?;
    let size = vm.opt_int(base, n, 2, "setvbuf", 8192)?;
    let size = usize::try_from(size).unwrap_or(0).clamp(1, MAX_VBUF);
    let vbuf = match &mode[..] {
        b"no" => None,
        b"full" => Some((size, false)),
        b"line" => Some((size, true)),
        _ => {
            let m = String::from_utf8_lossy(&mode).into_owned();
            return Err(vm.arg_error(1, "setvbuf", &format!("invalid option '{m}'")));
        }
    };
    if let Some(f) = vm.heap.udata.get_mut(h).file.as_mut() {
        let _ = f.flush_out();
        f.vbuf = vbuf;
    }
    vm.push(Value::Bool(true));
    Ok(1)
}

fn f_tostring(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = arg(vm, base, n, 0);
    let closed = matches!(v, Value::UData(h) if vm.heap.udata.get(h).file.as_ref().is_some_and(|f| f.stream.is_none()));
    let s = if closed {
        "file (closed)".to_string()
    } else {
        format!(
            "file (0x{:08x})",
            0x5000_0000u64
                + if let Value::UData(h) = v {
                    h as u64 * 64
                } else {
                    0
                }
        )
    };
    let r = vm.str(s.as_bytes());
    vm.push(r);
    Ok(1)
}

fn io_type(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "type")?;
    let r = match vm.stack[base] {
        Value::UData(h) => match &vm.heap.udata.get(h).file {
            Some(f) if f.stream.is_some() => vm.str(b"file"),
            Some(_) => vm.str(b"closed file"),
            None => Value::Nil,
        },
        _ => Value::Nil,
    };
    vm.push(r);
    Ok(1)
}

fn set_default(vm: &mut Vm, base: usize, n: usize, key: &str, mode: &str) -> LResult<usize> {
    match arg(vm, base, n, 0) {
        Value::Nil => {}
        Value::Str(s, _) => {
            let name = vm.heap.str(s).to_vec();
            match open_file(vm, &name, mode) {
                Ok(f) => vm.set_field(vm.registry, key, f),
                Err(e) => return Err(cannot_open(vm, &name, &e)),
            }
        }
        v => {
            file_of(vm, v, key)?;
            vm.set_field(vm.registry, key, v);
        }
    }
    let cur = vm.get_field(vm.registry, key);
    vm.push(cur);
    Ok(1)
}

fn io_output(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    set_default(vm, base, n, "io.output", "w")
}

fn io_input(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    set_default(vm, base, n, "io.input", "r")
}
