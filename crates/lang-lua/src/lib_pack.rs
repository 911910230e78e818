//! `string.pack`, `string.unpack` and `string.packsize`.

use crate::value::Value;
use crate::vm::{LResult, Vm, rt};

#[derive(Debug, Clone, Copy)]
enum Item {
    Int { size: usize, signed: bool },
    Float,
    Double,
    Fixed(usize),
    Len(usize),
    Zstr,
    Pad,
    Align(usize),
    None,
}

struct Fmt<'a> {
    f: &'a [u8],
    i: usize,
    little: bool,
    maxalign: usize,
}

fn read_num(f: &Fmt, i: &mut usize) -> Option<usize> {
    let start = *i;
    let mut v: usize = 0;
    while *i < f.f.len() && f.f[*i].is_ascii_digit() && *i - start < 10 {
        v = v * 10 + (f.f[*i] - b'0') as usize;
        *i += 1;
    }
    (*i > start).then_some(v)
}

fn next_item(vm: &mut Vm, f: &mut Fmt) -> LResult<Option<(Item, usize)>> {
    loop {
        let Some(&c) = f.f.get(f.i) else {
            return Ok(None);
        };
        f.i += 1;
        let mut size_of = |def: usize, vm: &mut Vm| -> LResult<usize> {
            let mut j = f.i;
            match read_num(f, &mut j) {
                Some(n) => {
                    f.i = j;
                    if !(1..=16).contains(&n) {
                        rt!(vm, "integral size ({n}) out of limits [1,16]");
                    }
                    Ok(n)
                }
                None => Ok(def),
            }
        };
        let it = match c {
            b'b' => Item::Int {
                size: 1,
                signed: true,
            },
            b'B' => Item::Int {
                size: 1,
                signed: false,
            },
            b'h' => Item::Int {
                size: 2,
                signed: true,
            },
            b'H' => Item::Int {
                size: 2,
                signed: false,
            },
            b'i' => Item::Int {
                size: size_of(4, vm)?,
                signed: true,
            },
            b'I' => Item::Int {
                size: size_of(4, vm)?,
                signed: false,
            },
            b'l' | b'j' => Item::Int {
                size: 8,
                signed: true,
            },
            b'L' | b'J' | b'T' => Item::Int {
                size: 8,
                signed: false,
            },
            b'f' => Item::Float,
            b'd' | b'n' => Item::Double,
            b's' => Item::Len(size_of(8, vm)?),
            b'z' => Item::Zstr,
            b'x' => Item::Pad,
            b'c' => {
                let mut j = f.i;
                match read_num(f, &mut j) {
                    Some(n) => {
                        f.i = j;
                        Item::Fixed(n)
                    }
                    None => rt!(vm, "missing size for format option 'c'"),
                }
            }
            b'X' => {
                let save = f.i;
                if matches!(f.f.get(f.i), None | Some(b' ' | b'<' | b'>' | b'=' | b'!')) {
                    rt!(vm, "invalid next option for option 'X'");
                }
                match next_item(vm, f)? {
                    Some((Item::Int { size, .. }, _)) => Item::Align(size),
                    Some((Item::Float, _)) => Item::Align(4),
                    Some((Item::Double, _)) => Item::Align(8),
                    Some((Item::Pad, _)) => Item::Align(1),
                    _ => {
                        f.i = save;
                        rt!(vm, "invalid next option for option 'X'");
                    }
                }
            }
            b' ' => continue,
            b'<' | b'=' => {
                f.little = true;
                continue;
            }
            b'>' => {
                f.little = false;
                continue;
            }
            b'!' => {
                f.maxalign = size_of(8, vm)?;
                continue;
            }
            _ => rt!(vm, "invalid format option '{}'", c as char),
        };
        let size = match it {
            Item::Int { size, .. } => size,
            Item::Float => 4,
            Item::Double => 8,
            Item::Fixed(n) => n,
            Item::Pad => 1,
            _ => 0,
        };
        let _ = Item::None;
        return Ok(Some((it, size)));
    }
}

fn align_pad(vm: &mut Vm, it: Item, size: usize, pos: usize, maxalign: usize) -> LResult<usize> {
    let align = match it {
        Item::Int { .. } | Item::Float | Item::Double => size,
        Item::Align(a) => a,
        _ => return Ok(0),
    };
    let align = align.min(maxalign);
    if align <= 1 {
        return Ok(0);
    }
    if align & (align - 1) != 0 {
        rt!(vm, "format asks for alignment not power of 2");
    }
    Ok((align - (pos & (align - 1))) & (align - 1))
}

/// `string.pack`.
pub fn pack(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let fs = vm.check_bytes(base, n, 0, "pack")?;
    let mut f = Fmt {
        f: &fs,
        i: 0,
        little: true,
        maxalign: 1,
    };
    let mut out: Vec<u8> = Vec::new();
    let mut ai = 1;
    while let Some((it, size)) = next_item(vm, &mut f)? {
        let padn = align_pad(vm, it, size, out.len(), f.maxalign)?;
        // Check the budget before growing: a format can ask for gigabytes.
        vm.check_mem(out.len() + padn + size)?;
        if out.len() + padn + size > i32::MAX as usize {
            rt!(vm, "resulting string too large");
        }
        out.extend(std::iter::repeat_n(0u8, padn));
        match it {
            Item::Int { size, signed } => {
                let v = vm.check_int(base, n, ai, "pack")?;
                if size < 8 {
                    let lim = 1i64 << (size * 8 - 1);
                    let ok = if signed {
                        -lim <= v && v < lim
                    } else {
                        (v as u64) < (1u64 << (size * 8))
                    };
                    if !ok {
                        return Err(vm.arg_error(
                            ai,
                            "pack",
                            if signed {
                                "integer overflow"
                            } else {
                                "unsigned overflow"
                            },
                        ));
                    }
                }
                let mut bytes = v.to_le_bytes().to_vec();
                let ext = if v < 0 { 0xff } else { 0 };
                bytes.resize(size, ext);
                if !f.little {
                    bytes.reverse();
                }
                out.extend_from_slice(&bytes);
                ai += 1;
            }
            Item::Float | Item::Double => {
                let v = vm.check_f64(base, n, ai, "pack")?;
                let mut b = if let Item::Float = it {
                    (v as f32).to_le_bytes().to_vec()
                } else {
                    v.to_le_bytes().to_vec()
                };
                if !f.little {
                    b.reverse();
                }
                out.extend_from_slice(&b);
                ai += 1;
            }
            Item::Fixed(len) => {
                let s = vm.check_bytes(base, n, ai, "pack")?;
                if s.len() > len {
                    return Err(vm.arg_error(ai, "pack", "string longer than given size"));
                }
                out.extend_from_slice(&s);
                out.extend(std::iter::repeat_n(0u8, len - s.len()));
                ai += 1;
            }
            Item::Len(size) => {
                let s = vm.check_bytes(base, n, ai, "pack")?;
                if size < 8 && s.len() as u64 >= 1u64 << (size * 8) {
                    return Err(vm.arg_error(
                        ai,
                        "pack",
                        "string length does not fit in given size",
                    ));
                }
                let mut b = (s.len() as u64).to_le_bytes().to_vec();
                b.resize(size, 0);
                if !f.little {
                    b.reverse();
                }
                out.extend_from_slice(&b);
                out.extend_from_slice(&s);
                ai += 1;
            }
            Item::Zstr => {
                let s = vm.check_bytes(base, n, ai, "pack")?;
                if s.contains(&0) {
                    return Err(vm.arg_error(ai, "pack", "string contains zeros"));
                }
                out.extend_from_slice(&s);
                out.push(0);
                ai += 1;
            }
            Item::Pad => out.push(0),
            Item::Align(_) | Item::None => {}
        }
        vm.check_mem(out.len())?;
    }
    let v = vm.str(&out);
    vm.push(v);
    Ok(1)
}

/// `string.packsize`.
pub fn packsize(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let fs = vm.check_bytes(base, n, 0, "packsize")?;
    let mut f = Fmt {
        f: &fs,
        i: 0,
        little: true,
        maxalign: 1,
    };
    let mut total: usize = 0;
    while let Some((it, size)) = next_item(vm, &mut f)? {
        total += align_pad(vm, it, size, total, f.maxalign)?;
        match it {
            Item::Len(_) | Item::Zstr => {
                return Err(vm.arg_error(0, "packsize", "variable-length format"));
            }
            _ => total += size,
        }
        if total > i32::MAX as usize {
            return Err(vm.arg_error(0, "packsize", "format result too large"));
        }
    }
    vm.push(Value::Int(total as i64));
    Ok(1)
}

/// `string.unpack`.
pub fn unpack(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let fs = vm.check_bytes(base, n, 0, "unpack")?;
    let data = vm.check_bytes(base, n, 1, "unpack")?;
    let init = vm.opt_int(base, n, 2, "unpack", 1)?;
    let mut pos = if init < 0 {
        (data.len() as i64 + init).max(0) as usize
    } else {
        (init - 1).max(0) as usize
    };
    if pos > data.len() {
        return Err(vm.arg_error(2, "unpack", "initial position out of string"));
    }
    let mut f = Fmt {
        f: &fs,
        i: 0,
        little: true,
        maxalign: 1,
    };
    let mut cnt = 0;
    while let Some((it, size)) = next_item(vm, &mut f)? {
        let padn = align_pad(vm, it, size, pos, f.maxalign)?;
        if pos + padn + size > data.len()
            && !matches!(it, Item::Zstr | Item::Len(_) | Item::Align(_))
        {
            return Err(vm.arg_error(1, "unpack", "data string too short"));
        }
        pos += padn;
        match it {
            Item::Int { size, signed } => {
                let mut b = data[pos..pos + size].to_vec();
                if !f.little {
                    b.reverse();
                }
                let mut v: u64 = 0;
                for (k, &byte) in b.iter().enumerate().take(8) {
                    v |= (byte as u64) << (8 * k);
                }
                if size > 8 {
                    let ext = if signed && (v as i64) < 0 { 0xff } else { 0 };
                    if b[8..].iter().any(|&x| x != ext) {
                        rt!(vm, "{}-byte integer does not fit into Lua Integer", size);
                    }
                } else if signed && size < 8 {
                    let shift = 64 - size * 8;
                    v = (((v << shift) as i64) >> shift) as u64;
                }
                vm.push(Value::Int(v as i64));
                pos += size;
            }
            Item::Float => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                if !f.little {
                    b.reverse();
                }
                vm.push(Value::Num(f32::from_le_bytes(b) as f64));
                pos += 4;
            }
            Item::Double => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                if !f.little {
                    b.reverse();
                }
                vm.push(Value::Num(f64::from_le_bytes(b)));
                pos += 8;
            }
            Item::Fixed(len) => {
                let s = vm.str(&data[pos..pos + len]);
                vm.push(s);
                pos += len;
            }
            Item::Len(size) => {
                if pos + size > data.len() {
                    return Err(vm.arg_error(1, "unpack", "data string too short"));
                }
                let mut b = data[pos..pos + size].to_vec();
                if !f.little {
                    b.reverse();
                }
                let mut len: u64 = 0;
                for (k, &byte) in b.iter().enumerate().take(8) {
                    len |= (byte as u64) << (8 * k);
                }
                pos += size;
                if len > (data.len() - pos) as u64 {
                    return Err(vm.arg_error(1, "unpack", "data string too short"));
                }
                let s = vm.str(&data[pos..pos + len as usize]);
                vm.push(s);
                pos += len as usize;
            }
            Item::Zstr => {
                let Some(end) = data[pos..].iter().position(|&c| c == 0) else {
                    return Err(vm.arg_error(1, "unpack", "unfinished string for format 'z'"));
                };
                let s = vm.str(&data[pos..pos + end]);
                vm.push(s);
                pos += end + 1;
            }
            Item::Pad => pos += 1,
            Item::Align(_) | Item::None => {}
        }
        cnt += 1;
        if matches!(it, Item::Pad | Item::Align(_)) {
            cnt -= 1;
        }
    }
    vm.push(Value::Int(pos as i64 + 1));
    Ok(cnt + 1)
}
