//! Names of values for error messages ("global 'x'", "local 'y'",
//! "field 'z'", "upvalue 'w'", "method 'm'"), found from the bytecode.

use crate::heap::Heap;
use crate::proto::*;
use crate::value::Value;

fn kname(heap: &Heap, p: &Proto, k: usize) -> Option<String> {
    match p.consts.get(k) {
        Some(Value::Str(h, _)) => Some(String::from_utf8_lossy(heap.str(*h)).into_owned()),
        _ => None,
    }
}

/// The name of the local variable in `reg` at `pc`, if any.
pub fn local_name(p: &Proto, pc: usize, reg: usize) -> Option<String> {
    p.locals
        .iter()
        .rev()
        .find(|l| l.1 as usize == reg && (l.2 as usize) <= pc && pc < l.3 as usize)
        .map(|l| String::from_utf8_lossy(&l.0).into_owned())
}

/// Describes register `reg` as used by the instruction at `pc`.
pub fn describe(heap: &Heap, p: &Proto, pc: usize, reg: usize) -> Option<String> {
    if let Some(n) = local_name(p, pc, reg) {
        if n.starts_with('(') {
            return None;
        }
        return Some(format!("local '{n}'"));
    }
    let j = find_setter(p, pc, reg)?;
    let i = p.code[j];
    match op(i) {
        GETTABUP => {
            let up = p.upvals.get(gb(i)).map(|u| u.2.as_slice());
            let k = kname(heap, p, gc(i))?;
            if up == Some(b"_ENV") {
                Some(format!("global '{k}'"))
            } else {
                Some(format!("field '{k}'"))
            }
        }
        GETFIELD => {
            let k = kname(heap, p, gc(i))?;
            let env = local_name(p, j, gb(i)).is_some_and(|n| n == "_ENV");
            Some(if env {
                format!("global '{k}'")
            } else {
                format!("field '{k}'")
            })
        }
        SELF => kname(heap, p, gc(i)).map(|k| format!("method '{k}'")),
        // A key past the 255 constants of GETFIELD/GETTABUP/SELF is loaded
        // into a register first.
        GETTABLE => {
            let (b, c) = (gb(i), gc(i));
            let kj = find_setter(p, j, c)?;
            let k = match op(p.code[kj]) {
                LOADK
                    if gbx(p.code[kj]) == 0xFFFF
                        && p.code.get(kj + 1).is_some_and(|&x| op(x) == EXTRAARG) =>
                {
                    kname(heap, p, (p.code[kj + 1] >> 8) as usize)?
                }
                LOADK => kname(heap, p, gbx(p.code[kj]))?,
                _ => return None,
            };
            let tj = find_setter(p, j, b);
            let tset = tj.map(|t| p.code[t]);
            let env = match tset {
                Some(t) if op(t) == GETUPVAL => p.upvals.get(gb(t)).is_some_and(|u| u.2 == b"_ENV"),
                _ => local_name(p, j, b).is_some_and(|n| n == "_ENV"),
            };
            let method = b == ga(i) + 1 && c == ga(i) + 2 && tset.is_some_and(|t| op(t) == MOVE);
            Some(if env {
                format!("global '{k}'")
            } else if method {
                format!("method '{k}'")
            } else {
                format!("field '{k}'")
            })
        }
        GETUPVAL => p
            .upvals
            .get(gb(i))
            .map(|u| format!("upvalue '{}'", String::from_utf8_lossy(&u.2))),
        MOVE if gb(i) < reg => describe(heap, p, j, gb(i)),
        LOADK => match p.consts.get(gbx(i)) {
            Some(Value::Str(h, _)) => Some(format!(
                "constant '{}'",
                String::from_utf8_lossy(heap.str(*h))
            )),
            _ => None,
        },
        _ => None,
    }
}

/// The instruction that last set `reg` before `lastpc`, if it is certain
/// (not inside a conditional stretch reached by a forward jump).
fn find_setter(p: &Proto, lastpc: usize, reg: usize) -> Option<usize> {
    let mut setreg = None;
    let mut jmptarget = 0;
    for pc in 0..lastpc.min(p.code.len()) {
        let i = p.code[pc];
        let o = op(i);
        let a = ga(i);
        let change = match o {
            LOADNIL => a <= reg && reg <= a + gb(i),
            TFORCALL => reg >= a + 4,
            CALL | TAILCALL => reg >= a,
            JMP => {
                let dest = (pc as isize + 1 + gsj(i)) as usize;
                if pc < dest && dest <= lastpc && dest > jmptarget {
                    jmptarget = dest;
                }
                false
            }
            SETTABUP | SETTABLE | SETI | SETFIELD | SETUPVAL | EQ | LT | LE | EQK | EQI | LTI
            | LEI | GTI | GEI | TEST | SETLIST | CLOSE | TBC | EXTRAARG | RETURN | RETURN0
            | RETURN1 | FORLOOP | TFORLOOP | SETTABUPK => false,
            _ => a == reg,
        };
        if change {
            setreg = if pc < jmptarget { None } else { Some(pc) };
        }
    }
    setreg
}
