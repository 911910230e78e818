//! The math library, with 5.4's xoshiro256** `random`.

use crate::api::arg;
use crate::number::fmod;
use crate::value::{Value, float_to_int};
use crate::vm::{LResult, NativeFn, Vm, rt};

/// Opens `math`.
pub fn open(vm: &mut Vm) {
    let funcs: &[(&'static str, NativeFn)] = &[
        ("abs", abs),
        ("ceil", ceil),
        ("floor", floor),
        ("sqrt", |vm, b, n| f1(vm, b, n, "sqrt", f64::sqrt)),
        ("sin", |vm, b, n| f1(vm, b, n, "sin", f64::sin)),
        ("cos", |vm, b, n| f1(vm, b, n, "cos", f64::cos)),
        ("tan", |vm, b, n| f1(vm, b, n, "tan", f64::tan)),
        ("asin", |vm, b, n| f1(vm, b, n, "asin", f64::asin)),
        ("acos", |vm, b, n| f1(vm, b, n, "acos", f64::acos)),
        ("exp", |vm, b, n| f1(vm, b, n, "exp", f64::exp)),
        ("deg", |vm, b, n| f1(vm, b, n, "deg", f64::to_degrees)),
        ("rad", |vm, b, n| f1(vm, b, n, "rad", f64::to_radians)),
        ("atan", atan),
        ("log", log),
        ("fmod", fmod_),
        ("modf", modf),
        ("tointeger", tointeger),
        ("type", type_),
        ("max", max),
        ("min", min),
        ("ult", ult),
        ("random", random),
        ("randomseed", randomseed),
    ];
    let t = vm.new_lib("math", funcs);
    vm.set_field(t, "pi", Value::Num(std::f64::consts::PI));
    vm.set_field(t, "huge", Value::Num(f64::INFINITY));
    vm.set_field(t, "maxinteger", Value::Int(i64::MAX));
    vm.set_field(t, "mininteger", Value::Int(i64::MIN));
    seed(vm, 0x2545_F491_4F6C_DD1D, 0);
}

fn f1(vm: &mut Vm, base: usize, n: usize, name: &str, f: fn(f64) -> f64) -> LResult<usize> {
    let x = vm.check_f64(base, n, 0, name)?;
    vm.push(Value::Num(f(x)));
    Ok(1)
}

fn abs(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = match vm.check_num(base, n, 0, "abs")? {
        Value::Int(i) => Value::Int(i.wrapping_abs()),
        Value::Num(f) => Value::Num(f.abs()),
        v => v,
    };
    vm.push(v);
    Ok(1)
}

fn float_to_intval(f: f64) -> Value {
    match float_to_int(f) {
        Some(i) => Value::Int(i),
        None => Value::Num(f),
    }
}

fn ceil(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = match vm.check_num(base, n, 0, "ceil")? {
        Value::Num(f) => float_to_intval(f.ceil()),
        v => v,
    };
    vm.push(v);
    Ok(1)
}

fn floor(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = match vm.check_num(base, n, 0, "floor")? {
        Value::Num(f) => float_to_intval(f.floor()),
        v => v,
    };
    vm.push(v);
    Ok(1)
}

fn atan(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let y = vm.check_f64(base, n, 0, "atan")?;
    let x = if arg(vm, base, n, 1).is_nil() {
        1.0
    } else {
        vm.check_f64(base, n, 1, "atan")?
    };
    vm.push(Value::Num(y.atan2(x)));
    Ok(1)
}

fn log(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let x = vm.check_f64(base, n, 0, "log")?;
    let r = if arg(vm, base, n, 1).is_nil() {
        x.ln()
    } else {
        let b = vm.check_f64(base, n, 1, "log")?;
        if b == 2.0 {
            x.log2()
        } else if b == 10.0 {
            x.log10()
        } else {
            x.ln() / b.ln()
        }
    };
    vm.push(Value::Num(r));
    Ok(1)
}

fn fmod_(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let a = vm.check_num(base, n, 0, "fmod")?;
    let b = vm.check_num(base, n, 1, "fmod")?;
    let r = match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            if y == 0 {
                return Err(vm.arg_error(1, "fmod", "zero"));
            }
            if y == -1 {
                Value::Int(0)
            } else {
                Value::Int(x % y)
            }
        }
        _ => {
            let f = |v: Value| match v {
                Value::Int(i) => i as f64,
                Value::Num(f) => f,
                _ => 0.0,
            };
            let _ = fmod;
            Value::Num(f(a) % f(b))
        }
    };
    vm.push(r);
    Ok(1)
}

fn modf(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    if let Value::Int(i) = arg(vm, base, n, 0) {
        vm.push(Value::Int(i));
        vm.push(Value::Num(0.0));
        return Ok(2);
    }
    let x = vm.check_f64(base, n, 0, "modf")?;
    let ip = if x.is_infinite() { x } else { x.trunc() };
    let frac = if x.is_infinite() { 0.0 } else { x - ip };
    vm.push(float_to_intval_f(ip));
    vm.push(Value::Num(frac));
    Ok(2)
}

fn float_to_intval_f(f: f64) -> Value {
    // modf returns a float unless it fits an integer ("3.0" prints as 3.0).
    Value::Num(f)
}

fn tointeger(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let v = arg(vm, base, n, 0);
    let r = match v {
        Value::Int(_) => v,
        Value::Num(f) => float_to_int(f).map_or(Value::Nil, Value::Int),
        Value::Str(h, _) => match crate::number::str_to_number(vm.heap.str(h)) {
            Some(Value::Int(i)) => Value::Int(i),
            Some(Value::Num(f)) => float_to_int(f).map_or(Value::Nil, Value::Int),
            _ => Value::Nil,
        },
        _ => {
            vm.check_any(n, 0, "tointeger")?;
            Value::Nil
        }
    };
    vm.push(r);
    Ok(1)
}

fn type_(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    vm.check_any(n, 0, "type")?;
    let r = match vm.stack[base] {
        Value::Int(_) => vm.str(b"integer"),
        Value::Num(_) => vm.str(b"float"),
        _ => Value::Nil,
    };
    vm.push(r);
    Ok(1)
}

fn minmax(vm: &mut Vm, base: usize, n: usize, name: &str, want_max: bool) -> LResult<usize> {
    if n == 0 {
        return Err(vm.arg_error(0, name, "value expected"));
    }
    let mut best = vm.check_num(base, n, 0, name)?;
    for i in 1..n {
        let v = vm.check_num(base, n, i, name)?;
        let better = if want_max {
            vm.less(best, v, false)?
        } else {
            vm.less(v, best, false)?
        };
        if better {
            best = v;
        }
    }
    vm.push(best);
    Ok(1)
}

fn max(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    minmax(vm, base, n, "max", true)
}

fn min(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    minmax(vm, base, n, "min", false)
}

fn ult(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let a = vm.check_int(base, n, 0, "ult")?;
    let b = vm.check_int(base, n, 1, "ult")?;
    vm.push(Value::Bool((a as u64) < (b as u64)));
    Ok(1)
}

fn next_rand(s: &mut [u64; 4]) -> u64 {
    let r = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    r
}

fn seed(vm: &mut Vm, a: u64, b: u64) {
    vm.rng = [a, 0xff, b, 0];
    for _ in 0..16 {
        next_rand(&mut vm.rng);
    }
}

fn random(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    let r = next_rand(&mut vm.rng);
    let (lo, hi) = match n {
        0 => {
            vm.push(Value::Num((r >> 11) as f64 * (0.5 / (1u64 << 52) as f64)));
            return Ok(1);
        }
        1 => {
            let m = vm.check_int(base, n, 0, "random")?;
            if m == 0 {
                vm.push(Value::Int(r as i64));
                return Ok(1);
            }
            (1, m)
        }
        2 => (
            vm.check_int(base, n, 0, "random")?,
            vm.check_int(base, n, 1, "random")?,
        ),
        _ => rt!(vm, "wrong number of arguments"),
    };
    if lo > hi {
        return Err(vm.arg_error(n - 1, "random", "interval is empty"));
    }
    let range = (hi as u64).wrapping_sub(lo as u64);
    // Project into [0, range] as 5.4 does: smallest 2^b-1 >= range, retry.
    let v = if range & range.wrapping_add(1) == 0 {
        r & range
    } else {
        let mut lim = range;
        lim |= lim >> 1;
        lim |= lim >> 2;
        lim |= lim >> 4;
        lim |= lim >> 8;
        lim |= lim >> 16;
        lim |= lim >> 32;
        let mut x = r & lim;
        while x > range {
            x = next_rand(&mut vm.rng) & lim;
        }
        x
    };
    vm.push(Value::Int(v.wrapping_add(lo as u64) as i64));
    Ok(1)
}

fn randomseed(vm: &mut Vm, base: usize, n: usize) -> LResult<usize> {
    if n == 0 {
        let t = vm.host.time() as u64;
        let c = (vm.host.clock() * 1e6) as u64;
        seed(vm, t, c);
        vm.push(Value::Int(t as i64));
        vm.push(Value::Int(c as i64));
        return Ok(2);
    }
    let a = match vm.check_num(base, n, 0, "randomseed")? {
        Value::Int(i) => i as u64,
        Value::Num(f) => f.to_bits(),
        _ => 0,
    };
    let b = vm.opt_int(base, n, 1, "randomseed", 0)? as u64;
    seed(vm, a, b);
    vm.push(Value::Int(a as i64));
    vm.push(Value::Int(b as i64));
    Ok(2)
}
