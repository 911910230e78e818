//! The table library. `sort` works in place in the table (so values stay
//! reachable while the comparator runs Lua code).

use crate::api::arg;
use crate::heap::Func;
use crate::value::Value;
use crate::vm::{LResult, NativeFn, Vm, rt};

/// Opens `table`.
pub fn open(vm: &mut Vm) {
    let funcs: &[(&'static str, NativeFn)] = &[
        ("insert", insert),
        ("remove", remove),
        ("concat", concat),
        ("unpack", unpack),
        ("pack", pack),
        ("sort", sort),
        ("move", move_),
    ];
    let t = vm.new_lib("table", funcs);
    let u = vm.get_field(t, "unpack");
    let _ = u;
}

fn geti(vm: &mut Vm, t: Value, i: i64) -> LResult<Value> {
    if let Value::Table(h) = t {
        let tb = vm.heap.tables.get(h);
        if tb.meta.is_none() {
            return Ok(tb.get_int(i));
        }
    }
    vm.index(t, Value::Int(i))
}

fn seti(vm: &mut Vm, t: Value, i: i64, v: Value) -> LResult<()> {
    if let Value::Table(h) = t
        && vm.heap.tables.get(h).meta.is_none()
    {
        let g = vm.heap.tables.get_mut(h).set_int(i, v);
        vm.heap.bytes += g;
        return Ok(());
    }
    vm.set_index(t, Value::Int(i), v)
}

fn check_tab(vm: &mut Vm, base: usize, n: usize, i: usize, f: &str) -> LResult<Value> {
    let v = arg(vm, base, n, i);
    if let Value::Table(_) = v {
        return Ok(v);
    }
    if vm.metatable(v).is_some() {
        return Ok(v);
    }
    Err(vm.type_arg_error(i, f, "table", v, i < n))
}

fn len_of(vm: &mut Vm, t: Value) -> LResult<i64> {
    match vm.len(t)? {
        Value::Int(i) => Ok(i),
        Value::Num(f) => match crate::value::float_to_int(f) {
            Some(i) => Ok(i),
            None => rt!(vm, "object length is not an integer"),
        },
        _ => rt!(vm, "object length is not an integer"),
    }
}

fn insert(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = check_tab(vm, base, n, 0, "insert")?;
    let e = len_of(vm, t)?.wrapping_add(1);
    match n {
        2 => {
            let v = vm.stack[base + 1];
            seti(vm, t, e, v)?;
        }
        3 => {
            let pos = vm.check_int(base, n, 1, "insert")?;
            if (pos as u64).wrapping_sub(1) >= e as u64 {
                return Err(vm.arg_error(1, "insert", "position out of bounds"));
            }
            let mut i = e;
            while i > pos {
                let v = geti(vm, t, i - 1)?;
                seti(vm, t, i, v)?;
                i -= 1;
            }
            let v = vm.stack[base + 2];
            seti(vm, t, pos, v)?;
        }
        _ => rt!(vm, "wrong number of arguments to 'insert'"),
    }
    Ok(0)
}

fn remove(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = check_tab(vm, base, n, 0, "remove")?;
    let size = len_of(vm, t)?;
    let mut pos = size;
    if n > 1 {
        pos = vm.check_int(base, n, 1, "remove")?;
        if pos != size && (pos as u64).wrapping_sub(1) > size as u64 {
            return Err(vm.arg_error(1, "remove", "position out of bounds"));
        }
    }
    let v = geti(vm, t, pos)?;
    // On the stack at once: metamethods below may run the collector.
    vm.push(v);
    let mut p = pos;
    while p < size {
        let nv = geti(vm, t, p + 1)?;
        seti(vm, t, p, nv)?;
        p += 1;
    }
    if p <= size || n > 1 {
        seti(vm, t, p, Value::Nil)?;
    }
    Ok(1)
}

fn concat(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = check_tab(vm, base, n, 0, "concat")?;
    let sep = if n > 1 && !vm.stack[base + 1].is_nil() {
        vm.check_bytes(base, n, 1, "concat")?
    } else {
        Vec::new()
    };
    let i = vm.opt_int(base, n, 2, "concat", 1)?;
    let j = if n > 3 && !vm.stack[base + 3].is_nil() {
        vm.check_int(base, n, 3, "concat")?
    } else {
        len_of(vm, t)?
    };
    let mut out = Vec::new();
    let mut k = i;
    while k <= j {
        let v = geti(vm, t, k)?;
        if !vm.append_str(v, &mut out) {
            rt!(vm, "invalid value (at index {k}) in table for 'concat'");
        }
        if k < j {
            out.extend_from_slice(&sep);
        }
        vm.check_mem(out.len())?;
        if k == i64::MAX {
            break;
        }
        k += 1;
    }
    let s = vm.str(&out);
    vm.push(s);
    Ok(1)
}

fn unpack(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = arg(vm, base, n, 0);
    let i = vm.opt_int(base, n, 1, "unpack", 1)?;
    let j = if n > 2 && !vm.stack[base + 2].is_nil() {
        vm.check_int(base, n, 2, "unpack")?
    } else {
        len_of(vm, t)?
    };
    if i > j {
        return Ok(0);
    }
    let cnt = (j as i128 - i as i128 + 1) as u128;
    if cnt >= 1_000_000 {
        rt!(vm, "too many results to unpack");
    }
    for k in 0..cnt as i64 {
        let v = geti(vm, t, i + k)?;
        vm.push(v);
    }
    Ok(cnt as usize)
}

fn pack(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = vm.heap.new_table(crate::table::Table::with_capacity(n, 1));
    for i in 0..n {
        let v = vm.stack[base + i];
        let g = vm.heap.tables.get_mut(t).set_int(i as i64 + 1, v);
        vm.heap.bytes += g;
    }
    vm.set_field(t, "n", Value::Int(n as i64));
    vm.push(Value::Table(t));
    Ok(1)
}

fn move_(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let a1 = check_tab(vm, base, n, 0, "move")?;
    let f = vm.check_int(base, n, 1, "move")?;
    let e = vm.check_int(base, n, 2, "move")?;
    let t = vm.check_int(base, n, 3, "move")?;
    let a2 = if n > 4 && !vm.stack[base + 4].is_nil() {
        check_tab(vm, base, n, 4, "move")?
    } else {
        a1
    };
    if e >= f {
        if !(f > 0 || e < i64::MAX + f) {
            return Err(vm.arg_error(2, "move", "too many elements to move"));
        }
        if t > i64::MAX - (e - f) {
            return Err(vm.arg_error(3, "move", "destination wrap around"));
        }
        if t > e || t <= f || !a1.raw_eq(a2) {
            for i in 0..=(e - f) {
                let v = geti(vm, a1, f + i)?;
                seti(vm, a2, t + i, v)?;
            }
        } else {
            let mut i = e - f;
            loop {
                let v = geti(vm, a1, f + i)?;
                seti(vm, a2, t + i, v)?;
                if i == 0 {
                    break;
                }
                i -= 1;
            }
        }
    }
    vm.push(a2);
    Ok(1)
}

fn less(vm: &mut Vm, cmp: Value, a: Value, b: Value) -> LResult<bool> {
    if cmp.is_nil() {
        return vm.less(a, b, false);
    }
    Ok(vm.call1(cmp, &[a, b])?.truthy())
}

/// An operand of a comparison in the partition loops: an element of the
/// table, or the pivot.
#[derive(Clone, Copy)]
enum Elem {
    At(i64),
    Val(Value),
}

/// What one sort works with: the table, the comparator (nil for `<`), the
/// stack slot its calls use, and, for a fixed-arity Lua comparator, its
/// arity and frame size.
struct Sort {
    t: Value,
    cmp: Value,
    slot: usize,
    lua: Option<(usize, usize)>,
}

/// `less` of two operands, an element read straight into the comparator's
/// argument slot: an element returned as a `Value` through `LResult` was
/// stored in 8-byte halves and read back whole, a store-forwarding stall
/// on every comparison (perf on sort). `slot` is where the comparator and
/// its arguments go: the first free slot above the running frame, the same
/// for the whole sort (a comparator's calls leave the stack as they found
/// it). A fixed-arity Lua comparator runs in the sort's series of host
/// calls.
fn less_elems(vm: &mut Vm, s: &Sort, a: Elem, b: Elem) -> LResult<bool> {
    let &Sort { t, cmp, slot, lua } = s;
    let (Value::Func(_), Value::Table(h)) = (cmp, t) else {
        let (a, b) = (elem(vm, t, a)?, elem(vm, t, b)?);
        return less(vm, cmp, a, b);
    };
    if vm.heap.tables.get(h).meta.is_some() {
        let (a, b) = (elem(vm, t, a)?, elem(vm, t, b)?);
        return less(vm, cmp, a, b);
    }
    // The test inline: the same slot has room on every comparison.
    if slot + 3 > vm.stack.len() {
        vm.ensure_stack(slot + 3)?;
    }
    vm.stack[slot] = cmp;
    for (j, e) in [(1, a), (2, b)] {
        vm.stack[slot + j] = match e {
            Elem::Val(v) => v,
            Elem::At(i) => vm.heap.tables.get(h).get_int(i),
        };
    }
    let old_top = vm.top;
    vm.top = slot + 3;
    match lua {
        Some((np, ms)) => vm.call_in_series(slot, 2, np, ms)?,
        None => {
            vm.call_at(slot, 2, 1)?;
        }
    }
    let r = vm.stack[slot].truthy();
    vm.top = old_top;
    Ok(r)
}

fn elem(vm: &mut Vm, t: Value, e: Elem) -> LResult<Value> {
    match e {
        Elem::At(i) => geti(vm, t, i),
        Elem::Val(v) => Ok(v),
    }
}

fn sort(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let t = check_tab(vm, base, n, 0, "sort")?;
    let len = len_of(vm, t)?;
    if len > 1 {
        if len >= i32::MAX as i64 {
            return Err(vm.arg_error(0, "sort", "array too big"));
        }
        let cmp = arg(vm, base, n, 1);
        if !cmp.is_nil() && !matches!(cmp, Value::Func(_)) {
            return Err(vm.type_arg_error(1, "sort", "function", cmp, true));
        }
        let slot = vm.safe_top();
        let lua = match cmp {
            Value::Func(h) => match vm.heap.funcs.get(h) {
                Func::Lua { proto, .. } if !proto.vararg => {
                    Some((proto.nparams as usize, proto.maxstack as usize))
                }
                _ => None,
            },
            _ => None,
        };
        let s = Sort { t, cmp, slot, lua };
        if lua.is_some() {
            vm.host_series(|vm| quicksort(vm, &s, 1, len, 0))?;
        } else {
            quicksort(vm, &s, 1, len, 0)?;
        }
    }
    Ok(0)
}

/// In-place quicksort (median of three), recursing on the smaller half.
fn quicksort(vm: &mut Vm, s: &Sort, mut lo: i64, mut hi: i64, depth: u32) -> LResult<()> {
    let t = s.t;
    while lo < hi {
        if depth > 200 {
            rt!(vm, "invalid order function for sorting");
        }
        // Order lo, mid, hi.
        let mid = lo + (hi - lo) / 2;
        let (a, b) = (geti(vm, t, lo)?, geti(vm, t, hi)?);
        if less_elems(vm, s, Elem::Val(b), Elem::Val(a))? {
            seti(vm, t, lo, b)?;
            seti(vm, t, hi, a)?;
        }
        if hi - lo == 1 {
            return Ok(());
        }
        let (a, m) = (geti(vm, t, lo)?, geti(vm, t, mid)?);
        if less_elems(vm, s, Elem::Val(m), Elem::Val(a))? {
            seti(vm, t, lo, m)?;
            seti(vm, t, mid, a)?;
        } else {
            let b = geti(vm, t, hi)?;
            if less_elems(vm, s, Elem::Val(b), Elem::Val(m))? {
                seti(vm, t, mid, b)?;
                seti(vm, t, hi, m)?;
            }
        }
        if hi - lo == 2 {
            return Ok(());
        }
        let pivot = geti(vm, t, mid)?;
        let p2 = geti(vm, t, hi - 1)?;
        seti(vm, t, mid, p2)?;
        seti(vm, t, hi - 1, pivot)?;
        let (mut i, mut j) = (lo, hi - 1);
        loop {
            i += 1;
            loop {
                if !less_elems(vm, s, Elem::At(i), Elem::Val(pivot))? {
                    break;
                }
                if i >= hi {
                    rt!(vm, "invalid order function for sorting");
                }
                i += 1;
            }
            j -= 1;
            loop {
                if !less_elems(vm, s, Elem::Val(pivot), Elem::At(j))? {
                    break;
                }
                if j <= lo {
                    rt!(vm, "invalid order function for sorting");
                }
                j -= 1;
            }
            if j < i {
                break;
            }
            let (vi, vj) = (geti(vm, t, i)?, geti(vm, t, j)?);
            seti(vm, t, i, vj)?;
            seti(vm, t, j, vi)?;
        }
        let (vi, vh) = (geti(vm, t, i)?, geti(vm, t, hi - 1)?);
        seti(vm, t, hi - 1, vi)?;
        seti(vm, t, i, vh)?;
        if i - lo < hi - i {
            quicksort(vm, s, lo, i - 1, depth + 1)?;
            lo = i + 1;
        } else {
            quicksort(vm, s, i + 1, hi, depth + 1)?;
            hi = i - 1;
        }
    }
    Ok(())
}
