//! The loop runner: the number, move, comparison, jump and table-access
//! instructions of a loop body, run by a small function that holds the
//! frame's register window, the table arena and the budget in its own
//! locals. In the dispatch loop those live behind `self`, and every
//! instruction reloaded the stack's pointer and length and the frame's
//! base from spill slots (perf on mandelbrot and fannkuch); here they stay
//! in registers, and an 8-bit operand indexes the 260-slot window with no
//! check at all.
//!
//! The dispatch loop enters it where loops turn (a backward jump, a numeric
//! `for`), so straight-line code and calls never pay for the entry. It
//! returns the pc of the first instruction it does not finish: one that
//! may call, allocate, raise an error or collect, or whose operands are not
//! the plain case (a metatable, a mixed int/float operation, a backward
//! jump that would overdraw the budget or reach a due collection). It has
//! changed nothing for that instruction, and the dispatch loop runs it in
//! full. Nothing here allocates, errors or calls out, so no frame state
//! needs saving on the way.

use crate::heap::Arena;
use crate::number::{fmod, idiv, imod, shl};
use crate::proto::*;
use crate::table::Table;
use crate::value::Value;
use crate::vm::WINDOW;

/// Number cases of a binary operator: integers with integers, and floats
/// with floats or integers (converted, as Lua's arithmetic does).
#[inline(always)]
pub(crate) fn arith(op: u8, x: &Value, y: &Value) -> Option<Value> {
    if let (&Value::Int(p), &Value::Int(q)) = (x, y) {
        return Some(Value::Int(match op {
            ADD => p.wrapping_add(q),
            SUB => p.wrapping_sub(q),
            MUL => p.wrapping_mul(q),
            MOD => imod(p, q)?,
            IDIV => idiv(p, q)?,
            BAND => p & q,
            BOR => p | q,
            BXOR => p ^ q,
            SHL => shl(p, q),
            SHR => shl(p, q.wrapping_neg()),
            DIV => return Some(Value::Num(p as f64 / q as f64)),
            POW => return Some(Value::Num(pow(p as f64, q as f64))),
            _ => return None,
        }));
    }
    let num = |v: &Value| match *v {
        Value::Num(f) => Some(f),
        Value::Int(i) => Some(i as f64),
        _ => None,
    };
    let (p, q) = (num(x)?, num(y)?);
    Some(Value::Num(match op {
        ADD => p + q,
        SUB => p - q,
        MUL => p * q,
        DIV => p / q,
        MOD => fmod(p, q),
        IDIV => (p / q).floor(),
        POW => pow(p, q),
        _ => return None,
    }))
}

/// `p ^ q`, squaring without `powf` (as the dispatch loop's `fast_arith`).
#[inline(always)]
fn pow(p: f64, q: f64) -> f64 {
    if q == 2.0 { p * p } else { p.powf(q) }
}

/// Runs from `pc` until an instruction this runner leaves to the dispatch
/// loop; returns that instruction's pc. `gc_due`: the heap is over its
/// collection threshold (a backward jump stops here then, so the dispatch
/// loop collects). `budget` is charged as the dispatch loop charges it.
/// `hints`: the prototype's slot hints, for GETFIELD.
// Each argument is a local the loop keeps in a register or at hand; a
// struct of them would be read through memory.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(crate) fn run(
    w: &mut [Value; WINDOW],
    tables: &mut Arena<Table>,
    budget: &mut i64,
    gc_due: bool,
    code: &[u32],
    k: &[Value],
    hints: &[std::cell::Cell<u32>],
    mut pc: usize,
) -> usize {
    loop {
        let i = code[pc];
        pc += 1;
        let a = ga(i);
        // Leaves the instruction at `pc - 1`, untouched, to the dispatch loop.
        macro_rules! bail {
            () => {
                return pc - 1
            };
        }
        // As the dispatch loop's `cond_jump`: a test that holds takes the
        // forward jump after it without a second dispatch.
        macro_rules! cond_jump {
            ($res:expr) => {
                if $res != (gc(i) & 1 != 0) {
                    pc += 1;
                } else {
                    let j = code[pc];
                    let off = gsj(j);
                    if op(j) == JMP && off >= 0 {
                        pc += 1 + off as usize;
                    }
                }
            };
        }
        macro_rules! binop {
            ($op:expr, $y:expr) => {
                match arith($op, &w[gb(i)], $y) {
                    Some(v) => w[a] = v,
                    None => bail!(),
                }
            };
        }
        // One arm a comparison, so each folds to its one operator.
        macro_rules! cmp {
            ($o:tt) => {{
                let res = match (&w[a], &w[gb(i)]) {
                    (Value::Int(p), Value::Int(q)) => p $o q,
                    (Value::Num(p), Value::Num(q)) => p $o q,
                    _ => bail!(),
                };
                cond_jump!(res);
            }};
        }
        macro_rules! cmp_imm {
            ($o:tt) => {{
                let imm = simm(gb(i));
                let res = match w[a] {
                    Value::Int(p) => p $o imm,
                    Value::Num(p) => p $o imm as f64,
                    _ => bail!(),
                };
                cond_jump!(res);
            }};
        }
        match op(i) {
            MOVE => w[a] = w[gb(i)].split_copy(),
            LOADK => {
                let bx = gbx(i);
                if bx == 0xFFFF {
                    bail!();
                }
                w[a] = k[bx];
            }
            LOADI => w[a] = Value::Int(gbx(i) as i64 - 32768),
            LOADF => w[a] = Value::Num((gbx(i) as i64 - 32768) as f64),
            LOADBOOL => {
                w[a] = Value::Bool(gb(i) != 0);
                if gc(i) != 0 {
                    pc += 1;
                }
            }
            GETTABLE => {
                let Value::Table(th) = w[gb(i)] else { bail!() };
                let tb = tables.get(th);
                let v = match w[gc(i)] {
                    Value::Int(ik) => {
                        // Copied whole when present (see the dispatch loop).
                        if tb.meta.is_none()
                            && let Some(v) = tb.arr.get((ik as u64).wrapping_sub(1) as usize)
                        {
                            w[a] = *v;
                            continue;
                        }
                        tb.get_int(ik)
                    }
                    Value::Str(s, _) => tb.get_str(s),
                    _ => bail!(),
                };
                if v.is_nil() && tb.meta.is_some() {
                    bail!();
                }
                w[a] = v;
            }
            GETI => {
                let Value::Table(th) = w[gb(i)] else { bail!() };
                let tb = tables.get(th);
                let v = tb.get_int(gc(i) as i64);
                if v.is_nil() && tb.meta.is_some() {
                    bail!();
                }
                w[a] = v;
            }
            GETFIELD => {
                let (Value::Table(th), Value::Str(s, _), Some(hint)) =
                    (w[gb(i)], k[gc(i)], hints.get(pc - 1))
                else {
                    bail!()
                };
                let tb = tables.get(th);
                let v = tb.get_str_hint(s, hint);
                if v.is_nil() && tb.meta.is_some() {
                    bail!();
                }
                w[a] = v;
            }
            SETTABLE => {
                // Only overwrites of present keys in tables without a
                // metatable: nothing grows, nothing is called.
                let Value::Table(th) = w[a] else { bail!() };
                if w[gc(i)].is_nil() {
                    bail!();
                }
                let tb = tables.get_mut(th);
                if tb.meta.is_some() {
                    bail!();
                }
                match w[gb(i)] {
                    Value::Int(ik) => {
                        let u = (ik as u64).wrapping_sub(1);
                        if u < tb.arr.len() as u64 {
                            tb.arr[u as usize] = w[gc(i)];
                        } else if !tb.replace_int(ik, w[gc(i)]) {
                            bail!();
                        }
                    }
                    Value::Str(s, _) => {
                        if !tb.replace_str(s, w[gc(i)]) {
                            bail!();
                        }
                    }
                    _ => bail!(),
                }
            }
            SETI => {
                let Value::Table(th) = w[a] else { bail!() };
                if w[gc(i)].is_nil() {
                    bail!();
                }
                let tb = tables.get_mut(th);
                let u = (gb(i) as u64).wrapping_sub(1);
                if tb.meta.is_some() || u >= tb.arr.len() as u64 {
                    bail!();
                }
                tb.arr[u as usize] = w[gc(i)];
            }
            SETFIELD => {
                let (Value::Table(th), Value::Str(s, _)) = (w[a], k[gb(i)]) else {
                    bail!()
                };
                if w[gc(i)].is_nil() {
                    bail!();
                }
                let tb = tables.get_mut(th);
                if tb.meta.is_some() || !tb.replace_str(s, w[gc(i)]) {
                    bail!();
                }
            }
            ADD => binop!(ADD, &w[gc(i)]),
            SUB => binop!(SUB, &w[gc(i)]),
            MUL => binop!(MUL, &w[gc(i)]),
            DIV => binop!(DIV, &w[gc(i)]),
            MOD => binop!(MOD, &w[gc(i)]),
            IDIV => binop!(IDIV, &w[gc(i)]),
            BAND => binop!(BAND, &w[gc(i)]),
            BOR => binop!(BOR, &w[gc(i)]),
            BXOR => binop!(BXOR, &w[gc(i)]),
            SHL => binop!(SHL, &w[gc(i)]),
            SHR => binop!(SHR, &w[gc(i)]),
            POW => binop!(POW, &w[gc(i)]),
            POWK => binop!(POW, &k[gc(i)]),
            // C's bit 7 (the constant was the left operand) matters only
            // to metamethods, which are never called here; ADD and MUL
            // commute on numbers.
            ADDK => binop!(ADD, &k[gc(i) & 0x7f]),
            MULK => binop!(MUL, &k[gc(i) & 0x7f]),
            SUBK => binop!(SUB, &k[gc(i)]),
            DIVK => binop!(DIV, &k[gc(i)]),
            MODK => binop!(MOD, &k[gc(i)]),
            IDIVK => binop!(IDIV, &k[gc(i)]),
            BANDK => binop!(BAND, &k[gc(i)]),
            BORK => binop!(BOR, &k[gc(i)]),
            BXORK => binop!(BXOR, &k[gc(i)]),
            ADDI => match w[gb(i)] {
                Value::Int(p) => w[a] = Value::Int(p.wrapping_add(simm(gc(i)))),
                Value::Num(p) => w[a] = Value::Num(p + simm(gc(i)) as f64),
                _ => bail!(),
            },
            UNM => match w[gb(i)] {
                Value::Int(p) => w[a] = Value::Int(p.wrapping_neg()),
                Value::Num(p) => w[a] = Value::Num(-p),
                _ => bail!(),
            },
            NOT => w[a] = Value::Bool(!w[gb(i)].truthy()),
            LEN => {
                let Value::Table(th) = w[gb(i)] else { bail!() };
                let tb = tables.get(th);
                if tb.meta.is_some() {
                    bail!();
                }
                w[a] = Value::Int(tb.len());
            }
            JMP => {
                let off = gsj(i);
                if off < 0 {
                    // The dispatch loop charges the budget and collects.
                    if gc_due || *budget < -off as i64 {
                        bail!();
                    }
                    *budget += off as i64;
                }
                pc = (pc as isize + off) as usize;
            }
            EQ => {
                let (x, y) = (&w[a], &w[gb(i)]);
                let eq = if x.raw_eq(*y) {
                    true
                } else if matches!(
                    (x, y),
                    (Value::Table(_), Value::Table(_)) | (Value::UData(_), Value::UData(_))
                ) {
                    bail!()
                } else {
                    false
                };
                cond_jump!(eq);
            }
            LT => cmp!(<),
            LE => cmp!(<=),
            EQK => cond_jump!(w[a].raw_eq(k[gb(i)])),
            EQI => {
                let imm = simm(gb(i));
                let eq = match w[a] {
                    Value::Int(p) => p == imm,
                    Value::Num(p) => p == imm as f64,
                    _ => false,
                };
                cond_jump!(eq);
            }
            LTI => cmp_imm!(<),
            LEI => cmp_imm!(<=),
            GTI => cmp_imm!(>),
            GEI => cmp_imm!(>=),
            TEST => cond_jump!(w[a].truthy()),
            TESTSET => {
                let v = w[gb(i)];
                if v.truthy() == (gc(i) != 0) {
                    w[a] = v;
                } else {
                    pc += 1;
                }
            }
            FORLOOP => {
                let (Value::Int(step), Value::Int(count), Value::Int(idx)) =
                    (w[a + 2], w[a + 1], w[a])
                else {
                    bail!()
                };
                if count > 0 {
                    let back = gbx(i) as i64;
                    if gc_due || *budget < back {
                        bail!();
                    }
                    *budget -= back;
                    let idx = idx.wrapping_add(step);
                    w[a + 1] = Value::Int(count - 1);
                    w[a] = Value::Int(idx);
                    w[a + 3] = Value::Int(idx);
                    pc -= gbx(i);
                }
            }
            _ => bail!(),
        }
    }
}
