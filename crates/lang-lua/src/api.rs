//! Helpers for native functions: argument access and checks worded as the
//! reference's `luaL_check*` ("bad argument #1 to 'f' (number expected, got
//! nil)"), and registration.

use crate::heap::{Func, Special};
use crate::number::str_to_number;
use crate::table::Table;
use crate::value::{Value, float_to_int};
use crate::vm::{LErr, LResult, NativeFn, Vm};

/// Argument `i` (0-based) of a native call, or nil.
#[inline]
pub fn arg(vm: &Vm, base: usize, n: usize, i: usize) -> Value {
    if i < n {
        vm.stack[base + i]
    } else {
        Value::Nil
    }
}

impl Vm<'_> {
    /// "bad argument #i to 'f' (msg)".
    /// As C Lua's `luaL_argerror`: a method call (`s:sub()`) counts its
    /// arguments from the receiver ("calling 'sub' on bad self" for it);
    /// a native called by a native is named by where `package.loaded` holds
    /// it ('table.sort').
    pub fn arg_error(&mut self, i: usize, f: &str, msg: &str) -> LErr {
        let mut i = i + 1;
        let mut name = f.to_string();
        if !self.native_parent {
            if self.called_as_method() {
                i -= 1;
                if i == 0 {
                    return self.rt_error(&format!("calling '{f}' on bad self ({msg})"));
                }
            }
        } else if let Some(g) = self.global_func_name(self.stack[self.native_func]) {
            name = g;
        }
        self.rt_error(&format!("bad argument #{i} to '{name}' ({msg})"))
    }

    /// Whether the running native was called by its Lua caller with `:`.
    fn called_as_method(&self) -> bool {
        let Some(fr) = self.frames.last() else {
            return false;
        };
        let Value::Func(h) = self.stack[fr.func] else {
            return false;
        };
        let Func::Lua { proto, .. } = self.heap.funcs.get(h) else {
            return false;
        };
        let Some(pc) = fr.pc.checked_sub(1) else {
            return false;
        };
        let Some(&i) = proto.code.get(pc) else {
            return false;
        };
        if crate::proto::op(i) != crate::proto::CALL
            || fr.base + crate::proto::ga(i) != self.native_func
        {
            return false;
        }
        let a = crate::proto::ga(i);
        (0..pc).rev().find_map(|j| {
            let x = proto.code[j];
            (crate::proto::ga(x) == a).then_some(crate::proto::op(x))
        }) == Some(crate::proto::SELF)
    }

    /// "module.name" of a function found in a table of `package.loaded`
    /// ("name" for `_G`).
    pub fn global_func_name(&mut self, f: Value) -> Option<String> {
        let Value::Table(loaded) = self.get_field(self.registry, "_LOADED") else {
            return None;
        };
        let mut k = Value::Nil;
        while let Some(Some((modname, m))) = self.heap.tables.get(loaded).next_entry(k) {
            k = modname;
            let (Value::Str(mh, _), Value::Table(mt)) = (modname, m) else {
                continue;
            };
            let mut k2 = Value::Nil;
            while let Some(Some((key, v))) = self.heap.tables.get(mt).next_entry(k2) {
                k2 = key;
                if v.raw_eq(f)
                    && let Value::Str(kh, _) = key
                {
                    let module = String::from_utf8_lossy(self.heap.str(mh)).into_owned();
                    let key = String::from_utf8_lossy(self.heap.str(kh)).into_owned();
                    return Some(if module == "_G" {
                        key
                    } else {
                        format!("{module}.{key}")
                    });
                }
            }
        }
        None
    }

    /// "bad argument ... (T expected, got U)".
    pub fn type_arg_error(
        &mut self,
        i: usize,
        f: &str,
        expected: &str,
        got: Value,
        present: bool,
    ) -> LErr {
        let got = if present {
            self.type_name_mt(got)
        } else {
            "no value".to_string()
        };
        self.arg_error(i, f, &format!("{expected} expected, got {got}"))
    }

    /// An integer argument (floats with exact values and numeric strings
    /// convert).
    pub fn check_int(&mut self, base: usize, n: usize, i: usize, f: &str) -> LResult<i64> {
        let v = arg(self, base, n, i);
        match v {
            Value::Int(x) => Ok(x),
            Value::Num(x) => match float_to_int(x) {
                Some(k) => Ok(k),
                None => Err(self.arg_error(i, f, "number has no integer representation")),
            },
            Value::Str(h, _) => match str_to_number(self.heap.str(h)) {
                Some(Value::Int(k)) => Ok(k),
                Some(Value::Num(x)) => match float_to_int(x) {
                    Some(k) => Ok(k),
                    None => Err(self.arg_error(i, f, "number has no integer representation")),
                },
                _ => Err(self.type_arg_error(i, f, "number", v, true)),
            },
            _ => Err(self.type_arg_error(i, f, "number", v, i < n)),
        }
    }

    /// An optional integer argument.
    pub fn opt_int(&mut self, base: usize, n: usize, i: usize, f: &str, def: i64) -> LResult<i64> {
        if arg(self, base, n, i).is_nil() {
            Ok(def)
        } else {
            self.check_int(base, n, i, f)
        }
    }

    /// A number argument.
    pub fn check_num(&mut self, base: usize, n: usize, i: usize, f: &str) -> LResult<Value> {
        let v = arg(self, base, n, i);
        match v {
            Value::Int(_) | Value::Num(_) => Ok(v),
            Value::Str(h, _) => match str_to_number(self.heap.str(h)) {
                Some(x) => Ok(x),
                None => Err(self.type_arg_error(i, f, "number", v, true)),
            },
            _ => Err(self.type_arg_error(i, f, "number", v, i < n)),
        }
    }

    /// A number argument as a float.
    pub fn check_f64(&mut self, base: usize, n: usize, i: usize, f: &str) -> LResult<f64> {
        Ok(match self.check_num(base, n, i, f)? {
            Value::Int(x) => x as f64,
            Value::Num(x) => x,
            _ => 0.0,
        })
    }

    /// A string argument (numbers convert) as a handle.
    pub fn check_str(&mut self, base: usize, n: usize, i: usize, f: &str) -> LResult<u32> {
        let v = arg(self, base, n, i);
        match v {
            Value::Str(h, _) => Ok(h),
            Value::Int(_) | Value::Num(_) => {
                let s = self.tostr_basic(v);
                let h = self.heap.intern(&s);
                if i < n {
                    self.stack[base + i] = Value::Str(h, h);
                }
                Ok(h)
            }
            _ => Err(self.type_arg_error(i, f, "string", v, i < n)),
        }
    }

    /// A string argument's bytes (copied).
    pub fn check_bytes(&mut self, base: usize, n: usize, i: usize, f: &str) -> LResult<Vec<u8>> {
        let h = self.check_str(base, n, i, f)?;
        Ok(self.heap.str(h).to_vec())
    }

    /// A table argument.
    pub fn check_table(&mut self, base: usize, n: usize, i: usize, f: &str) -> LResult<u32> {
        match arg(self, base, n, i) {
            Value::Table(h) => Ok(h),
            v => Err(self.type_arg_error(i, f, "table", v, i < n)),
        }
    }

    /// Fails unless argument `i` is present.
    pub fn check_any(&mut self, n: usize, i: usize, f: &str) -> LResult<()> {
        if i >= n {
            return Err(self.arg_error(i, f, "value expected"));
        }
        Ok(())
    }

    /// A new native function value.
    pub fn native(&mut self, name: &'static str, f: NativeFn) -> Value {
        Value::Func(self.heap.new_func(Func::Native {
            f,
            name,
            upvals: Box::new([]),
            special: Special::None,
        }))
    }

    /// A native function with bound values.
    pub fn native_with(
        &mut self,
        name: &'static str,
        f: NativeFn,
        upvals: Vec<Value>,
        special: Special,
    ) -> Value {
        Value::Func(self.heap.new_func(Func::Native {
            f,
            name,
            upvals: upvals.into_boxed_slice(),
            special,
        }))
    }

    /// Sets `t[name] = v` raw.
    pub fn set_field(&mut self, t: u32, name: &str, v: Value) {
        let k = self.heap.intern(name.as_bytes());
        let grown = self.heap.tables.get_mut(t).set(Value::Str(k, k), v);
        self.heap.bytes += grown;
    }

    /// Raw `t[name]`.
    pub fn get_field(&mut self, t: u32, name: &str) -> Value {
        let k = self.heap.intern(name.as_bytes());
        self.heap.tables.get(t).get_str(k)
    }

    /// Registers natives into a new table stored as global `lib`.
    pub fn new_lib(&mut self, lib: &str, funcs: &[(&'static str, NativeFn)]) -> u32 {
        let t = self.heap.new_table(Table::default());
        for &(name, f) in funcs {
            let v = self.native(name, f);
            self.set_field(t, name, v);
        }
        if !lib.is_empty() {
            self.set_field(self.globals, lib, Value::Table(t));
        }
        t
    }

    /// The bound values of the native being called (found by its stack slot).
    pub fn upvals_of(&self, base: usize) -> Vec<Value> {
        match self.stack.get(base.wrapping_sub(1)) {
            Some(Value::Func(h)) => match self.heap.funcs.get(*h) {
                Func::Native { upvals, .. } => upvals.to_vec(),
                Func::Lua { .. } => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// `tostring` with `__tostring` and `__name`.
    pub fn tostring(&mut self, v: Value) -> LResult<Value> {
        let mt = self.get_tm(v, crate::vm::tm::TOSTRING);
        if !mt.is_nil() {
            let r = self.call1(mt, &[v])?;
            if !matches!(r, Value::Str(_, _)) {
                crate::vm::rt!(self, "'__tostring' must return a string");
            }
            return Ok(r);
        }
        if let Value::Str(_, _) = v {
            return Ok(v);
        }
        if let Some(m) = self.metatable(v)
            && let Value::Str(name, _) = self
                .heap
                .tables
                .get(m)
                .get_str(self.tm_names[crate::vm::tm::NAME])
            && matches!(v, Value::Table(_) | Value::UData(_))
        {
            let addr = self.tostr_basic(v);
            let tail = addr.split(|&c| c == b' ').nth(1).unwrap_or(b"").to_vec();
            let mut s = self.heap.str(name).to_vec();
            s.extend_from_slice(b": ");
            s.extend_from_slice(&tail);
            return Ok(self.str(&s));
        }
        let s = self.tostr_basic(v);
        Ok(self.str(&s))
    }
}
