//! The string library (with patterns and `format`) and the utf8 library.

use crate::api::arg;
use crate::heap::Special;
use crate::lpattern::{Cap, Matcher, PErr};
use crate::number::{fmt_float, fmt_g};
use crate::table::Table;
use crate::value::Value;
use crate::vm::{LErr, LResult, NativeFn, Vm, rt};

/// Appends the UTF-8 encoding (up to 6 bytes, as Lua allows) of `c`.
pub fn utf8_encode(c: u32, out: &mut Vec<u8>) {
    if c < 0x80 {
        out.push(c as u8);
        return;
    }
    let mut buf = [0u8; 8];
    let mut n = 0;
    let mut mfb: u32 = 0x3f;
    let mut x = c;
    loop {
        buf[7 - n] = (0x80 | (x & 0x3f)) as u8;
        n += 1;
        x >>= 6;
        mfb >>= 1;
        if x <= mfb {
            break;
        }
    }
    buf[7 - n] = ((!mfb << 1) | x) as u8;
    n += 1;
    out.extend_from_slice(&buf[8 - n..]);
}

/// Opens `string` and `utf8`, and the string metatable.
pub fn open(vm: &mut Vm) {
    let funcs: &[(&'static str, NativeFn)] = &[
        ("len", len),
        ("sub", sub),
        ("upper", upper),
        ("lower", lower),
        ("rep", rep),
        ("dump", dump),
        ("reverse", reverse),
        ("byte", byte),
        ("char", char_),
        ("format", format),
        ("find", find),
        ("match", match_),
        ("gmatch", gmatch),
        ("gsub", gsub),
        ("pack", crate::lib_pack::pack),
        ("unpack", crate::lib_pack::unpack),
        ("packsize", crate::lib_pack::packsize),
    ];
    let t = vm.new_lib("string", funcs);
    let meta = vm.heap.new_table(Table::default());
    vm.set_field(meta, "__index", Value::Table(t));
    vm.string_meta = Some(meta);
    let u: &[(&'static str, NativeFn)] = &[
        ("char", utf8_char),
        ("codepoint", utf8_codepoint),
        ("len", utf8_len),
        ("offset", utf8_offset),
        ("codes", utf8_codes),
    ];
    let ut = vm.new_lib("utf8", u);
    let cp = vm.str(b"[\x00-\x7F\xC2-\xFD][\x80-\xBF]*");
    vm.set_field(ut, "charpattern", cp);
}

fn push_str(vm: &mut Vm, s: &[u8]) -> LResult<usize> {
    vm.check_mem(s.len())?;
    let v = vm.str(s);
    vm.push(v);
    Ok(1)
}

fn dump(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let f = arg(vm, base, n, 0);
    let strip = n > 1 && vm.stack[base + 1].truthy();
    let Value::Func(h) = f else {
        return Err(vm.type_arg_error(0, "dump", "function", f, n > 0));
    };
    let crate::heap::Func::Lua { proto, .. } = vm.heap.funcs.get(h) else {
        rt!(vm, "unable to dump given function");
    };
    let bytes = crate::dump::dump(proto, vm.heap.str(proto.text), strip);
    push_str(vm, &bytes)
}

fn len(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = vm.check_str(base, n, 0, "len")?;
    let l = vm.heap.str(h).len();
    vm.push(Value::Int(l as i64));
    Ok(1)
}

/// Converts Lua's 1-based, negative-from-end positions to a 0-based start.
fn posrelat(pos: i64, len: usize) -> i64 {
    if pos >= 0 {
        pos
    } else if (pos.unsigned_abs() as usize) > len {
        0
    } else {
        len as i64 + pos + 1
    }
}

fn sub(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = vm.check_str(base, n, 0, "sub")?;
    let i = vm.opt_int(base, n, 1, "sub", 1)?;
    let j = vm.opt_int(base, n, 2, "sub", -1)?;
    let s = vm.heap.str(h);
    let l = s.len();
    let mut start = posrelat(i, l);
    let mut end = posrelat(j, l);
    if start < 1 {
        start = 1;
    }
    if end > l as i64 {
        end = l as i64;
    }
    if start > end {
        return push_str(vm, b"");
    }
    let r = s[start as usize - 1..end as usize].to_vec();
    push_str(vm, &r)
}

fn upper(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let s = vm.check_bytes(base, n, 0, "upper")?;
    push_str(vm, &s.to_ascii_uppercase())
}

fn lower(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let s = vm.check_bytes(base, n, 0, "lower")?;
    push_str(vm, &s.to_ascii_lowercase())
}

fn rep(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let s = vm.check_bytes(base, n, 0, "rep")?;
    let k = vm.check_int(base, n, 1, "rep")?;
    let sep = if n > 2 && !vm.stack[base + 2].is_nil() {
        vm.check_bytes(base, n, 2, "rep")?
    } else {
        Vec::new()
    };
    if k <= 0 {
        return push_str(vm, b"");
    }
    let total = (s.len() as u128 + sep.len() as u128) * k as u128;
    if total >= i32::MAX as u128 {
        rt!(vm, "resulting string too large");
    }
    vm.check_mem(total as usize)?;
    let mut out = Vec::with_capacity(total as usize);
    for i in 0..k {
        if i > 0 {
            out.extend_from_slice(&sep);
        }
        out.extend_from_slice(&s);
    }
    push_str(vm, &out)
}

fn reverse(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let mut s = vm.check_bytes(base, n, 0, "reverse")?;
    s.reverse();
    push_str(vm, &s)
}

fn byte(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = vm.check_str(base, n, 0, "byte")?;
    let i = vm.opt_int(base, n, 1, "byte", 1)?;
    let l = vm.heap.str(h).len();
    let pi = posrelat(i, l);
    let j = if n > 2 && !vm.stack[base + 2].is_nil() {
        vm.check_int(base, n, 2, "byte")?
    } else {
        pi
    };
    let start = pi.max(1);
    let end = posrelat(j, l).min(l as i64);
    if start > end {
        return Ok(0);
    }
    let bytes = vm.heap.str(h)[start as usize - 1..end as usize].to_vec();
    if bytes.len() > 1_000_000 {
        rt!(vm, "string slice too long");
    }
    for b in &bytes {
        vm.push(Value::Int(*b as i64));
    }
    Ok(bytes.len())
}

fn char_(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let c = vm.check_int(base, n, i, "char")?;
        if !(0..=255).contains(&c) {
            return Err(vm.arg_error(i, "char", "value out of range"));
        }
        out.push(c as u8);
    }
    push_str(vm, &out)
}

fn find_aux(vm: &mut Vm, base: usize, n: usize, find: bool) -> LResult<usize> {
    let fname = if find { "find" } else { "match" };
    let sh = vm.check_str(base, n, 0, fname)?;
    let ph = vm.check_str(base, n, 1, fname)?;
    let init = vm.opt_int(base, n, 2, fname, 1)?;
    let ls = vm.heap.str(sh).len();
    let init = posrelat(init, ls).max(1);
    if init > ls as i64 + 1 {
        vm.push(Value::Nil);
        return Ok(1);
    }
    let init = init as usize - 1;
    let plain = n > 3 && vm.stack[base + 3].truthy();
    // Matched on the interned bytes in place; captures are copied after.
    let s = vm.heap.str(sh);
    let p = vm.heap.str(ph);
    if find && (plain || !p.iter().any(|c| b"^$*+?.([%-".contains(c))) {
        let lp = p.len();
        match find_plain(&s[init..], p) {
            Some(x) => {
                vm.push(Value::Int((init + x) as i64 + 1));
                vm.push(Value::Int((init + x + lp) as i64));
                return Ok(2);
            }
            None => {
                vm.push(Value::Nil);
                return Ok(1);
            }
        }
    }
    let anchor = p.first() == Some(&b'^');
    let pstart = usize::from(anchor);
    let mut m = Matcher::new(s, p);
    let mut st = init;
    let found = loop {
        match m.try_at(st, pstart, &mut vm.budget) {
            Err(e) => break Err(e),
            Ok(Some(e)) => break m.captures(st, e, !find).map(|c| Some((st, e, c))),
            Ok(None) => {}
        }
        st += 1;
        if anchor || st > ls {
            break Ok(None);
        }
    };
    match found {
        Err(e) => Err(pattern_error(vm, e)),
        Ok(None) => {
            vm.push(Value::Nil);
            Ok(1)
        }
        Ok(Some((st, e, caps))) => {
            let mut cnt = 0;
            if find {
                vm.push(Value::Int(st as i64 + 1));
                vm.push(Value::Int(e as i64));
                cnt = 2;
            }
            for c in caps {
                push_cap_h(vm, sh, c);
                cnt += 1;
            }
            Ok(cnt)
        }
    }
}

/// The first position of `p` in `s`: candidates by their first byte, then
/// the rest compared.
fn find_plain(s: &[u8], p: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = p.split_first() else {
        return Some(0);
    };
    if p.len() > s.len() {
        return None;
    }
    let last = s.len() - p.len();
    let mut i = 0;
    while i <= last {
        let x = s[i..=last].iter().position(|&c| c == first)? + i;
        if &s[x + 1..x + p.len()] == rest {
            return Some(x);
        }
        i = x + 1;
    }
    None
}

fn find(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    find_aux(vm, base, n, true)
}

fn match_(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    find_aux(vm, base, n, false)
}

fn gmatch(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let s = vm.check_str(base, n, 0, "gmatch")?;
    let p = vm.check_str(base, n, 1, "gmatch")?;
    let init = vm.opt_int(base, n, 2, "gmatch", 1)?;
    let ls = vm.heap.str(s).len();
    let init = posrelat(init, ls).max(1) - 1;
    let init = if init as usize > ls {
        ls as i64 + 1
    } else {
        init
    };
    // State: source, pattern, position, end of the last match (-1 none).
    let f = vm.native_with(
        "gmatch_iter",
        gmatch_iter,
        vec![
            Value::Str(s, s),
            Value::Str(p, p),
            Value::Int(init),
            Value::Int(-1),
        ],
        Special::None,
    );
    vm.push(f);
    Ok(1)
}

fn gmatch_iter(vm: &mut Vm, base: usize, _n: usize) -> LResult<usize> {
    let Value::Func(fh) = vm.stack[base - 1] else {
        return Ok(0);
    };
    let (sh, ph, pos, last) = match vm.heap.funcs.get(fh) {
        crate::heap::Func::Native { upvals, .. } => {
            match (upvals[0], upvals[1], upvals[2], upvals[3]) {
                (Value::Str(a, _), Value::Str(b, _), Value::Int(c), Value::Int(d)) => (a, b, c, d),
                _ => return Ok(0),
            }
        }
        _ => return Ok(0),
    };
    // Match on the interned bytes in place; captures are copied after.
    let found = {
        let s = vm.heap.str(sh);
        let p = vm.heap.str(ph);
        let mut m = Matcher::new(s, p);
        let mut st = pos as usize;
        let mut found = None;
        while st <= s.len() {
            match m.try_at(st, 0, &mut vm.budget) {
                Err(e) => {
                    found = Some(Err(e));
                    break;
                }
                Ok(Some(e)) if e as i64 != last => {
                    found = Some(m.captures(st, e, true).map(|c| (c, e)));
                    break;
                }
                _ => st += 1,
            }
        }
        found
    };
    let slen = vm.heap.str(sh).len();
    let set = |vm: &mut Vm, p: i64, l: i64| {
        if let crate::heap::Func::Native { upvals, .. } = vm.heap.funcs.get_mut(fh) {
            upvals[2] = Value::Int(p);
            upvals[3] = Value::Int(l);
        }
    };
    match found {
        Some(Ok((caps, e))) => {
            set(vm, e as i64, e as i64);
            let k = caps.len();
            for c in caps {
                push_cap_h(vm, sh, c);
            }
            Ok(k)
        }
        Some(Err(e)) => Err(pattern_error(vm, e)),
        None => {
            set(vm, slen as i64 + 1, last);
            vm.push(Value::Nil);
            Ok(1)
        }
    }
}

/// A failed match as the VM raises it: the budget's end stops the run as
/// the dispatch loop's would, anything else is a Lua error.
fn pattern_error(vm: &mut Vm, e: PErr) -> LErr {
    match e {
        PErr::Budget => LErr::Limit(shield_engine::LimitKind::Instructions),
        PErr::Msg(m) => vm.rt_error(&m),
    }
}

/// Pushes a capture of string `sh` (copying only the captured bytes).
fn push_cap_h(vm: &mut Vm, sh: u32, c: Cap) {
    match c {
        Cap::Range(a, b) => {
            let v = vm.heap.str_value_sub(sh, a, b);
            vm.push(v);
        }
        Cap::Pos(p) => vm.push(Value::Int(p as i64)),
    }
}

fn gsub(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let sh = vm.check_str(base, n, 0, "gsub")?;
    let ph = vm.check_str(base, n, 1, "gsub")?;
    let repl = arg(vm, base, n, 2);
    match repl {
        Value::Str(_, _) | Value::Int(_) | Value::Num(_) | Value::Table(_) | Value::Func(_) => {}
        _ => return Err(vm.type_arg_error(2, "gsub", "string/function/table", repl, n > 2)),
    }
    let repl = if let Value::Int(_) | Value::Num(_) = repl {
        let h = vm.check_str(base, n, 2, "gsub")?;
        Value::Str(h, h)
    } else {
        repl
    };
    let max_n = if n > 3 && !vm.stack[base + 3].is_nil() {
        Some(vm.check_int(base, n, 3, "gsub")?)
    } else {
        None
    };
    let s = vm.heap.str(sh).to_vec();
    let p = vm.heap.str(ph).to_vec();
    let anchor = p.first() == Some(&b'^');
    let pstart = usize::from(anchor);
    let mut out = Vec::with_capacity(s.len());
    let mut st = 0;
    let mut count: i64 = 0;
    let mut m = Matcher::new(&s, &p);
    let mut lastmatch: Option<usize> = None;
    // As C Lua: without a substitution the subject itself is the result.
    let mut changed = false;
    while max_n.is_none_or(|mx| count < mx) {
        let r = m
            .try_at(st, pstart, &mut vm.budget)
            .map_err(|e| pattern_error(vm, e))?;
        match r {
            Some(e) if Some(e) != lastmatch => {
                count += 1;
                let caps = m.captures(st, e, true).map_err(|e| pattern_error(vm, e))?;
                let whole = &s[st..e];
                match repl {
                    Value::Str(rh, _) => {
                        changed = true;
                        let rs = vm.heap.str(rh).to_vec();
                        let mut i = 0;
                        while i < rs.len() {
                            let c = rs[i];
                            if c == b'%' {
                                i += 1;
                                match rs.get(i) {
                                    Some(b'0') => out.extend_from_slice(whole),
                                    Some(&d) if d.is_ascii_digit() => {
                                        let idx = (d - b'1') as usize;
                                        let cap = if idx == 0
                                            && caps.len() == 1
                                            && m.captures(st, e, false)
                                                .map(|c| c.is_empty())
                                                .unwrap_or(false)
                                        {
                                            Some(Cap::Range(st, e))
                                        } else {
                                            caps.get(idx).copied()
                                        };
                                        match cap {
                                            Some(Cap::Range(a, b)) => {
                                                out.extend_from_slice(&s[a..b])
                                            }
                                            Some(Cap::Pos(pp)) => {
                                                out.extend_from_slice(pp.to_string().as_bytes())
                                            }
                                            None => rt!(
                                                vm,
                                                "invalid capture index %{} in replacement string",
                                                idx + 1
                                            ),
                                        }
                                    }
                                    Some(b'%') => out.push(b'%'),
                                    _ => rt!(vm, "invalid use of '%' in replacement string"),
                                }
                            } else {
                                out.push(c);
                            }
                            i += 1;
                        }
                    }
                    Value::Table(_) | Value::Func(_) => {
                        let first = match caps[0] {
                            Cap::Range(a, b) => vm.str(&s[a..b]),
                            Cap::Pos(pp) => Value::Int(pp as i64),
                        };
                        let v = if let Value::Table(_) = repl {
                            vm.index(repl, first)?
                        } else {
                            let mut args = Vec::with_capacity(caps.len());
                            for c in &caps {
                                args.push(match *c {
                                    Cap::Range(a, b) => vm.str(&s[a..b]),
                                    Cap::Pos(pp) => Value::Int(pp as i64),
                                });
                            }
                            vm.call1(repl, &args)?
                        };
                        match v {
                            Value::Nil | Value::Bool(false) => out.extend_from_slice(whole),
                            Value::Str(_, _) | Value::Int(_) | Value::Num(_) => {
                                changed = true;
                                vm.append_str(v, &mut out);
                            }
                            _ => {
                                let tn = v.type_name();
                                rt!(vm, "invalid replacement value (a {tn})");
                            }
                        }
                    }
                    _ => {}
                }
                st = e;
                lastmatch = Some(e);
            }
            _ => {
                if st < s.len() {
                    out.push(s[st]);
                    st += 1;
                } else {
                    break;
                }
            }
        }
        if anchor {
            break;
        }
        vm.check_mem(out.len())?;
    }
    if st < s.len() {
        out.extend_from_slice(&s[st..]);
    }
    if changed {
        push_str(vm, &out)?;
    } else {
        vm.push(vm.stack[base]);
    }
    vm.push(Value::Int(count));
    Ok(2)
}

fn format(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let fmt = vm.check_bytes(base, n, 0, "format")?;
    let mut out = Vec::new();
    let mut argi = 1;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        if fmt.get(i) == Some(&b'%') {
            out.push(b'%');
            i += 1;
            continue;
        }
        let start = i;
        while i < fmt.len() && b"-+ #0".contains(&fmt[i]) {
            i += 1;
        }
        let flags = fmt[start..i].to_vec();
        let mut width = 0usize;
        let wstart = i;
        while i < fmt.len() && fmt[i].is_ascii_digit() {
            // Saturating: an absurd width is refused below, never overflows.
            width = width
                .saturating_mul(10)
                .saturating_add((fmt[i] - b'0') as usize);
            i += 1;
        }
        let wlen = i - wstart;
        if i - start > 30 {
            rt!(vm, "invalid format (too long)");
        }
        let mut prec: Option<usize> = None;
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            let pstart = i;
            let mut pv = 0;
            while i < fmt.len() && fmt[i].is_ascii_digit() {
                pv = usize::saturating_mul(pv, 10).saturating_add((fmt[i] - b'0') as usize);
                i += 1;
            }
            if i - start > 30 {
                rt!(vm, "invalid format (too long)");
            }
            if i - pstart > 2 {
                rt!(
                    vm,
                    "invalid conversion specification: '%{}'",
                    String::from_utf8_lossy(&fmt[start..i.min(fmt.len())])
                );
            }
            prec = Some(pv);
        }
        if wlen > 2 || flags.len() > 5 {
            rt!(
                vm,
                "invalid conversion specification: '%{}'",
                String::from_utf8_lossy(&fmt[start..(i + 1).min(fmt.len())])
            );
        }
        let Some(&conv) = fmt.get(i) else {
            rt!(
                vm,
                "invalid conversion specification: '%{}'",
                String::from_utf8_lossy(&fmt[start..])
            );
        };
        i += 1;
        // Flags and precision each conversion accepts (as C Lua checks).
        let (allowed, prec_ok): (&[u8], bool) = match conv {
            b'c' => (b"-", false),
            b'd' | b'i' => (b"-+0 ", true),
            b'u' => (b"-0", true),
            b'o' | b'x' | b'X' => (b"-#0", true),
            b'a' | b'A' | b'e' | b'E' | b'f' | b'g' | b'G' => (b"-+#0 ", true),
            b's' => (b"-", true),
            b'p' => (b"-", false),
            b'q' => (b"", false),
            _ => (b"", false),
        };
        if flags.iter().any(|f| !allowed.contains(f))
            || (prec.is_some() && !prec_ok)
            || conv == b'F'
        {
            rt!(
                vm,
                "invalid conversion specification: '%{}'",
                String::from_utf8_lossy(&fmt[start..i])
            );
        }
        let has = |f: u8| flags.contains(&f);
        let ai = argi;
        argi += 1;
        if ai >= n && conv != b'%' {
            return Err(vm.arg_error(ai, "format", "no value"));
        }
        let body: Vec<u8> = match conv {
            b'd' | b'i' => {
                let v = vm.check_int(base, n, ai, "format")?;
                let mut s = v.unsigned_abs().to_string();
                if let Some(p) = prec {
                    while s.len() < p {
                        s.insert(0, '0');
                    }
                    if p == 0 && v == 0 {
                        s.clear();
                    }
                }
                let sign = if v < 0 {
                    "-"
                } else if has(b'+') {
                    "+"
                } else if has(b' ') {
                    " "
                } else {
                    ""
                };
                pad_num(sign, &s, width, &flags, prec.is_none())
            }
            b'u' => {
                let v = vm.check_int(base, n, ai, "format")?;
                let mut s = (v as u64).to_string();
                if let Some(p) = prec {
                    while s.len() < p {
                        s.insert(0, '0');
                    }
                    if p == 0 && v == 0 {
                        s.clear();
                    }
                }
                pad_num("", &s, width, &flags, prec.is_none())
            }
            b'c' => {
                let v = vm.check_int(base, n, ai, "format")?;
                pad(&[v as u8], width, has(b'-'))
            }
            b'x' | b'X' | b'o' => {
                let v = vm.check_int(base, n, ai, "format")? as u64;
                let mut s = match conv {
                    b'x' => format!("{v:x}"),
                    b'X' => format!("{v:X}"),
                    _ => format!("{v:o}"),
                };
                if let Some(p) = prec {
                    while s.len() < p {
                        s.insert(0, '0');
                    }
                }
                let prefix = if has(b'#') && v != 0 {
                    match conv {
                        b'x' => "0x",
                        b'X' => "0X",
                        _ => "0",
                    }
                } else {
                    ""
                };
                pad_num(prefix, &s, width, &flags, prec.is_none())
            }
            b'a' | b'A' => {
                let f = vm.check_f64(base, n, ai, "format")?;
                let s = hex_float(f, prec, conv == b'A');
                let (sign, digits) = split_sign(&s, &flags);
                pad_num(sign, digits, width, &flags, true)
            }
            b'e' | b'E' | b'f' | b'F' | b'g' | b'G' => {
                let f = vm.check_f64(base, n, ai, "format")?;
                let p = prec.unwrap_or(6);
                let s = if !f.is_finite() {
                    let s = if f.is_nan() {
                        "nan".to_string()
                    } else if f > 0.0 {
                        "inf".into()
                    } else {
                        "-inf".into()
                    };
                    let s = if f.is_nan() && f.is_sign_negative() {
                        "-nan".to_string()
                    } else {
                        s
                    };
                    if conv.is_ascii_uppercase() {
                        s.to_uppercase()
                    } else {
                        s
                    }
                } else {
                    match conv {
                        b'f' | b'F' => {
                            let s = format!("{:.*}", p, f);
                            if has(b'#') && p == 0 { s + "." } else { s }
                        }
                        b'e' | b'E' => {
                            let s = fmt_e(f, p, has(b'#'));
                            if conv == b'E' { s.to_uppercase() } else { s }
                        }
                        _ => {
                            let s = fmt_g(f, if p == 0 { 1 } else { p }, has(b'#'));
                            if conv == b'G' { s.to_uppercase() } else { s }
                        }
                    }
                };
                let (sign, digits) = split_sign(&s, &flags);
                pad_num(sign, digits, width, &flags, f.is_finite())
            }
            b's' => {
                let v = vm.stack[base + ai];
                let sv = vm.tostring(v)?;
                let mut s = match sv {
                    Value::Str(h, _) => vm.heap.str(h).to_vec(),
                    _ => Vec::new(),
                };
                if (width > 0 || prec.is_some() || !flags.is_empty()) && s.contains(&0) {
                    return Err(vm.arg_error(ai, "format", "string contains zeros"));
                }
                if let Some(p) = prec {
                    s.truncate(p);
                }
                pad(&s, width, has(b'-'))
            }
            b'p' => {
                let v = vm.stack[base + ai];
                let s = match v {
                    Value::Table(_)
                    | Value::Func(_)
                    | Value::Thread(_)
                    | Value::UData(_)
                    | Value::Light(_) => {
                        let t = vm.tostr_basic(v);
                        let addr = t.rsplit(|&c| c == b' ').next().unwrap_or(b"").to_vec();
                        String::from_utf8_lossy(&addr).into_owned()
                    }
                    Value::Str(_, id) => format!("0x{:08x}", 0x6000_0000u64 + id as u64 * 32),
                    _ => "(null)".to_string(),
                };
                pad(s.as_bytes(), width, has(b'-'))
            }
            b'q' => {
                if !flags.is_empty() || width > 0 || prec.is_some() {
                    rt!(
                        vm,
                        "specifier '%q' cannot have modifiers (width, precision)"
                    );
                }
                quote(vm, vm.stack[base + ai])?
            }
            _ => {
                rt!(
                    vm,
                    "invalid conversion specification: '%{}'",
                    String::from_utf8_lossy(&fmt[start..i])
                );
            }
        };
        out.extend_from_slice(&body);
        vm.check_mem(out.len())?;
    }
    push_str(vm, &out)
}

fn split_sign<'a>(s: &'a str, flags: &[u8]) -> (&'static str, &'a str) {
    if let Some(rest) = s.strip_prefix('-') {
        ("-", rest)
    } else if flags.contains(&b'+') {
        ("+", s)
    } else if flags.contains(&b' ') {
        (" ", s)
    } else {
        ("", s)
    }
}

fn pad(s: &[u8], width: usize, left: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(width.max(s.len()));
    if left {
        out.extend_from_slice(s);
    }
    out.resize(out.len() + width.saturating_sub(s.len()), b' ');
    if !left {
        out.extend_from_slice(s);
    }
    out
}

fn pad_num(sign: &str, digits: &str, width: usize, flags: &[u8], zero_ok: bool) -> Vec<u8> {
    let len = sign.len() + digits.len();
    if flags.contains(&b'-') {
        let mut s = format!("{sign}{digits}").into_bytes();
        while s.len() < width {
            s.push(b' ');
        }
        return s;
    }
    if flags.contains(&b'0') && zero_ok && len < width {
        return format!("{sign}{}{digits}", "0".repeat(width - len)).into_bytes();
    }
    pad(format!("{sign}{digits}").as_bytes(), width, false)
}

fn fmt_e(f: f64, p: usize, alt: bool) -> String {
    let s = format!("{:.*e}", p, f);
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let m = if alt && p == 0 {
        format!("{m}.")
    } else {
        m.to_string()
    };
    format!("{}e{}{:02}", m, if e < 0 { '-' } else { '+' }, e.abs())
}

fn hex_float(f: f64, prec: Option<usize>, upper: bool) -> String {
    let s = if f.is_nan() {
        "nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        let sign = if f.is_sign_negative() { "-" } else { "" };
        let a = f.abs();
        if a == 0.0 {
            match prec {
                Some(p) if p > 0 => format!("{sign}0x0.{}p+0", "0".repeat(p)),
                _ => format!("{sign}0x0p+0"),
            }
        } else {
            let bits = a.to_bits();
            let mut exp = ((bits >> 52) & 0x7ff) as i64;
            let mut mant = bits & ((1u64 << 52) - 1);
            let lead = if exp == 0 {
                exp = -1022;
                0
            } else {
                exp -= 1023;
                1
            };
            let mut digits = format!("{mant:013x}");
            if let Some(p) = prec {
                if p < 13 {
                    let shift = (13 - p) * 4;
                    let full = (lead as u64) << 52 | mant;
                    let rounded = (full + (1u64 << (shift - 1))) >> shift;
                    let lead2 = rounded >> (p * 4);
                    mant = rounded & ((1u64 << (p * 4)) - 1);
                    digits = if p > 0 {
                        format!("{:0width$x}", mant, width = p)
                    } else {
                        String::new()
                    };
                    let lead_s = lead2.to_string();
                    let dot = if digits.is_empty() { "" } else { "." };
                    return finish_hex(format!("{sign}0x{lead_s}{dot}{digits}p{exp:+}"), upper);
                }
                while digits.len() < p {
                    digits.push('0');
                }
            } else {
                while digits.ends_with('0') {
                    digits.pop();
                }
            }
            let dot = if digits.is_empty() { "" } else { "." };
            format!("{sign}0x{lead}{dot}{digits}p{exp:+}")
        }
    };
    finish_hex(s, upper)
}

fn finish_hex(s: String, upper: bool) -> String {
    if upper { s.to_uppercase() } else { s }
}

fn quote(vm: &mut Vm, v: Value) -> LResult<Vec<u8>> {
    Ok(match v {
        Value::Str(h, _) => {
            let s = vm.heap.str(h);
            let mut out = vec![b'"'];
            for (i, &c) in s.iter().enumerate() {
                match c {
                    b'"' | b'\\' | b'\n' => {
                        out.push(b'\\');
                        out.push(c);
                    }
                    b'\r' => out.extend_from_slice(b"\\r"),
                    0 => {
                        if s.get(i + 1).is_some_and(u8::is_ascii_digit) {
                            out.extend_from_slice(b"\\000");
                        } else {
                            out.extend_from_slice(b"\\0");
                        }
                    }
                    c if c.is_ascii_control() => {
                        if s.get(i + 1).is_some_and(u8::is_ascii_digit) {
                            out.extend_from_slice(format!("\\{c:03}").as_bytes());
                        } else {
                            out.extend_from_slice(format!("\\{c}").as_bytes());
                        }
                    }
                    _ => out.push(c),
                }
            }
            out.push(b'"');
            out
        }
        Value::Int(i) => {
            if i == i64::MIN {
                b"0x8000000000000000".to_vec()
            } else {
                i.to_string().into_bytes()
            }
        }
        Value::Num(f) => {
            if f == f.floor() && f.is_finite() {
                if f == (f as i64) as f64 {
                    format!("{}e+00", f as i64).into_bytes()
                } else {
                    hex_float(f, None, false).into_bytes()
                }
            } else if f.is_nan() {
                b"(0/0)".to_vec()
            } else if f.is_infinite() {
                if f > 0.0 {
                    b"1e9999".to_vec()
                } else {
                    b"-1e9999".to_vec()
                }
            } else {
                hex_float(f, None, false).into_bytes()
            }
        }
        Value::Nil | Value::Bool(_) => vm.tostr_basic(v),
        _ => rt!(vm, "bad argument to 'format' (value has no literal form)"),
    })
}

/// Decodes one UTF-8 sequence at `i` (strict unless `lax`): (code, length).
pub fn utf8_decode(s: &[u8], i: usize, lax: bool) -> Option<(u32, usize)> {
    let c = *s.get(i)? as u32;
    if c < 0x80 {
        return Some((c, 1));
    }
    if c < 0xC0 {
        return None;
    }
    let n = if c < 0xE0 {
        2
    } else if c < 0xF0 {
        3
    } else if c < 0xF8 {
        4
    } else if c < 0xFC {
        5
    } else if c < 0xFE {
        6
    } else {
        return None;
    };
    let mut res = c & (0x7F >> n);
    for k in 1..n {
        let cc = *s.get(i + k)? as u32;
        if cc & 0xC0 != 0x80 {
            return None;
        }
        res = (res << 6) | (cc & 0x3F);
    }
    let limits = [0, 0, 0x80, 0x800, 0x10000, 0x20_0000, 0x400_0000];
    if res < limits[n] {
        return None;
    }
    if !lax && (res > 0x10FFFF || (0xD800..=0xDFFF).contains(&res)) {
        return None;
    }
    Some((res, n))
}

fn utf8_char(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let mut out = Vec::new();
    for i in 0..n {
        let c = vm.check_int(base, n, i, "char")?;
        if !(0..=0x7FFF_FFFF).contains(&c) {
            return Err(vm.arg_error(i, "char", "value out of range"));
        }
        utf8_encode(c as u32, &mut out);
    }
    push_str(vm, &out)
}

fn utf8_codepoint(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let s = vm.check_bytes(base, n, 0, "codepoint")?;
    let i = vm.opt_int(base, n, 1, "codepoint", 1)?;
    let pi = posrelat(i, s.len());
    let j = if n > 2 && !vm.stack[base + 2].is_nil() {
        vm.check_int(base, n, 2, "codepoint")?
    } else {
        pi
    };
    let pj = posrelat(j, s.len());
    let lax = n > 3 && vm.stack[base + 3].truthy();
    if pi < 1 {
        return Err(vm.arg_error(1, "codepoint", "out of bounds"));
    }
    if pj > s.len() as i64 {
        return Err(vm.arg_error(2, "codepoint", "out of bounds"));
    }
    let mut k = pi as usize - 1;
    let mut cnt = 0;
    while (k as i64) < pj {
        match utf8_decode(&s, k, lax) {
            Some((c, l)) => {
                vm.push(Value::Int(c as i64));
                cnt += 1;
                k += l;
            }
            None => rt!(vm, "invalid UTF-8 code"),
        }
    }
    Ok(cnt)
}

fn utf8_len(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let s = vm.check_bytes(base, n, 0, "len")?;
    let i = vm.opt_int(base, n, 1, "len", 1)?;
    let j = vm.opt_int(base, n, 2, "len", -1)?;
    let lax = n > 3 && vm.stack[base + 3].truthy();
    let mut pi = posrelat(i, s.len());
    let pj = posrelat(j, s.len());
    if pi < 1 || pi > s.len() as i64 + 1 {
        return Err(vm.arg_error(1, "len", "initial position out of bounds"));
    }
    if pj > s.len() as i64 {
        return Err(vm.arg_error(2, "len", "final position out of bounds"));
    }
    pi -= 1;
    let mut cnt = 0;
    while pi < pj {
        match utf8_decode(&s, pi as usize, lax) {
            Some((_, l)) => {
                pi += l as i64;
                cnt += 1;
            }
            None => {
                vm.push(Value::Nil);
                vm.push(Value::Int(pi + 1));
                return Ok(2);
            }
        }
    }
    vm.push(Value::Int(cnt));
    Ok(1)
}

fn utf8_offset(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let s = vm.check_bytes(base, n, 0, "offset")?;
    let nn = vm.check_int(base, n, 1, "offset")?;
    let def = if nn >= 0 { 1 } else { s.len() as i64 + 1 };
    let i = vm.opt_int(base, n, 2, "offset", def)?;
    let mut posi = posrelat(i, s.len()) - 1;
    if posi < 0 || posi > s.len() as i64 {
        return Err(vm.arg_error(2, "offset", "position out of bounds"));
    }
    let cont = |p: i64| p >= 0 && (p as usize) < s.len() && s[p as usize] & 0xC0 == 0x80;
    let mut nn = nn;
    if nn == 0 {
        while posi > 0 && cont(posi) {
            posi -= 1;
        }
        vm.push(Value::Int(posi + 1));
        return Ok(1);
    }
    if cont(posi) {
        rt!(vm, "initial position is a continuation byte");
    }
    if nn < 0 {
        while nn < 0 && posi > 0 {
            posi -= 1;
            while posi > 0 && cont(posi) {
                posi -= 1;
            }
            nn += 1;
        }
    } else {
        nn -= 1;
        while nn > 0 && posi < s.len() as i64 {
            posi += 1;
            while cont(posi) {
                posi += 1;
            }
            nn -= 1;
        }
    }
    if nn == 0 {
        vm.push(Value::Int(posi + 1));
    } else {
        vm.push(Value::Nil);
    }
    Ok(1)
}

fn utf8_codes(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let h = vm.check_str(base, n, 0, "codes")?;
    let lax = n > 1 && vm.stack[base + 1].truthy();
    let f = vm.native(
        if lax { "codes_lax" } else { "codes" },
        if lax { codes_iter_lax } else { codes_iter },
    );
    vm.push(f);
    vm.push(Value::Str(h, h));
    vm.push(Value::Int(0));
    Ok(3)
}

fn codes_iter(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    codes_step(vm, base, n, false)
}

fn codes_iter_lax(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    codes_step(vm, base, n, true)
}

fn codes_step(vm: &mut Vm, base: usize, n: usize, lax: bool) -> LResult<usize> {
    let s = vm.check_bytes(base, n, 0, "codes")?;
    let mut i = vm.check_int(base, n, 1, "codes")? as usize;
    if i > 0 {
        // Skip the current sequence.
        while i < s.len() && s[i] & 0xC0 == 0x80 {
            i += 1;
        }
    }
    if i >= s.len() {
        return Ok(0);
    }
    match utf8_decode(&s, i, lax) {
        Some((c, l)) => {
            if s.get(i + l).is_some_and(|&b| b & 0xC0 == 0x80) {
                rt!(vm, "invalid UTF-8 code");
            }
            vm.push(Value::Int(i as i64 + 1));
            vm.push(Value::Int(c as i64));
            Ok(2)
        }
        None => Err(LErr::Rt(
            vm.str(format!("{}invalid UTF-8 code", vm.where_(1)).as_bytes()),
        )),
    }
}

/// `%.14g` of a float, for `tostring`.
pub fn num_to_str(f: f64) -> String {
    fmt_float(f)
}
