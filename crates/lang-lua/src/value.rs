//! The tagged value: 16 bytes, copied, numbers never boxed; collectable
//! objects are 32-bit handles into the heap's typed arenas.

/// A Lua value.
///
/// `repr(u64)`: an 8-byte tag puts every payload at offset 8, so a copy is
/// two aligned words. With a 1-byte tag the payloads start at offsets 1, 4
/// or 8, and the compiler copied bytes 1..16 as two overlapping words
/// through the stack, a store-forwarding stall on every table read (perf:
/// an eighth of fannkuch's time).
#[derive(Clone, Copy, Debug, Default)]
#[repr(u64)]
pub enum Value {
    /// `nil`.
    #[default]
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A float.
    Num(f64),
    /// A string: the interned handle of its bytes (equality, hashing and
    /// contents go by it) and an identity that `%p` shows. Short strings
    /// and constants have their handle as identity; a long string (over 40
    /// bytes) built at run time gets a fresh one, as C Lua does not intern
    /// long strings and scripts can tell them apart only through `%p`.
    Str(u32, u32),
    /// A table.
    Table(u32),
    /// A Lua or native closure.
    Func(u32),
    /// A coroutine.
    Thread(u32),
    /// A full userdata (files).
    UData(u32),
    /// A light userdata (an opaque number).
    Light(u64),
}

impl Value {
    /// A copy made as two 8-byte loads (tag, payload) rather than one
    /// 16-byte load: values are usually written as two 8-byte stores, and a
    /// 16-byte load spanning both cannot take them from the store buffer
    /// (a stall on every register move right after an arithmetic result).
    #[inline(always)]
    pub fn split_copy(&self) -> Value {
        match *self {
            Value::Nil => Value::Nil,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Num(f) => Value::Num(f),
            Value::Str(h, id) => Value::Str(h, id),
            Value::Table(h) => Value::Table(h),
            Value::Func(h) => Value::Func(h),
            Value::Thread(h) => Value::Thread(h),
            Value::UData(h) => Value::UData(h),
            Value::Light(p) => Value::Light(p),
        }
    }

    /// Lua truthiness: everything but `nil` and `false`.
    #[inline]
    pub fn truthy(self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// Whether this is `nil`.
    #[inline]
    pub fn is_nil(self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Primitive equality (no metamethods): integers and floats compare by
    /// mathematical value, objects by identity (strings are interned).
    #[inline]
    pub fn raw_eq(self, other: Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Num(a), Value::Num(b)) => a == b,
            (Value::Int(a), Value::Num(b)) | (Value::Num(b), Value::Int(a)) => int_eq_float(a, b),
            (Value::Str(a, _), Value::Str(b, _)) => a == b,
            (Value::Table(a), Value::Table(b)) => a == b,
            (Value::Func(a), Value::Func(b)) => a == b,
            (Value::Thread(a), Value::Thread(b)) => a == b,
            (Value::UData(a), Value::UData(b)) => a == b,
            (Value::Light(a), Value::Light(b)) => a == b,
            _ => false,
        }
    }

    /// The type name `type()` answers.
    pub fn type_name(self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Num(_) => "number",
            Value::Str(_, _) => "string",
            Value::Table(_) => "table",
            Value::Func(_) => "function",
            Value::Thread(_) => "thread",
            Value::UData(_) | Value::Light(_) => "userdata",
        }
    }
}

/// Exact comparison of an integer with a float.
#[inline]
pub fn int_eq_float(i: i64, f: f64) -> bool {
    float_to_int(f) == Some(i)
}

/// The integer a float represents exactly, if any.
#[inline]
pub fn float_to_int(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; every float in [-2^63, 2^63) with no
    // fractional part converts exactly.
    if f.floor() == f && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}
