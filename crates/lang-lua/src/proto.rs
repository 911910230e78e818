//! Compiled functions and the instruction set: 32-bit instructions with an
//! 8-bit opcode and 8-bit A, B, C fields (or a 16-bit Bx, or a signed 24-bit
//! jump), specialized for constants and small integers.

use crate::value::Value;

/// A compiled function.
#[derive(Debug, Default)]
pub struct Proto {
    /// Instructions.
    pub code: Vec<u32>,
    /// Source line of each instruction.
    pub lines: Vec<u32>,
    /// Constants.
    pub consts: Vec<Value>,
    /// Nested functions.
    pub protos: Vec<std::rc::Rc<Proto>>,
    /// Upvalue descriptors: (in the enclosing stack?, index, name).
    pub upvals: Vec<(bool, u8, Vec<u8>)>,
    /// Fixed parameters.
    pub nparams: u8,
    /// Whether it takes `...`.
    pub vararg: bool,
    /// Registers used.
    pub maxstack: u8,
    /// Chunk id for messages (`file.lua`, `[string "..."]`).
    pub source: std::rc::Rc<str>,
    /// The chunk name as given (`@file.lua`, `=stdin`, or the source text).
    pub chunkname: std::rc::Rc<[u8]>,
    /// Line where it starts (0 for a main chunk).
    pub line: u32,
    /// Line where it ends.
    pub end_line: u32,
    /// Local variables: name, register, first pc, pc after last.
    pub locals: Vec<(Vec<u8>, u8, u32, u32)>,
    /// The whole source text of its chunk, a heap string shared by every
    /// function of it (so it is counted in the memory budget, once, and
    /// marked through the prototype): `string.dump` writes it, and loading
    /// the dump compiles it again.
    pub text: u32,
    /// Where it sits in its chunk: child indices from the main function.
    pub path: Vec<u32>,
    /// Loaded from a dump made with `strip`: no lines, locals or names.
    pub stripped: bool,
    /// Per instruction, the hash-part slot where its constant string key
    /// was last found (GETFIELD, GETTABUP, SELF: see
    /// [`crate::table::Table::get_str_hint`]); a guess, checked by one key
    /// compare before the keyed hash is computed, never trusted.
    pub hints: Vec<std::cell::Cell<u32>>,
}

macro_rules! ops {
    ($($name:ident),* $(,)?) => {
        ops!(@ 0u8, $($name),*);
        /// Opcode names, for listings.
        pub const OP_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
    (@ $n:expr, $first:ident $(, $rest:ident)*) => {
        #[allow(missing_docs)]
        pub const $first: u8 = $n;
        ops!(@ $n + 1u8, $($rest),*);
    };
    (@ $n:expr,) => {};
}

ops!(
    MOVE, LOADK, LOADI, LOADF, LOADNIL, LOADBOOL, GETUPVAL, SETUPVAL, GETTABUP, SETTABUP, GETTABLE,
    GETI, GETFIELD, SETTABLE, SETI, SETFIELD, NEWTABLE, SELF, ADD, SUB, MUL, DIV, MOD, POW, IDIV,
    BAND, BOR, BXOR, SHL, SHR, ADDK, SUBK, MULK, DIVK, MODK, POWK, IDIVK, BANDK, BORK, BXORK, ADDI,
    UNM, NOT, LEN, BNOT, CONCAT, JMP, EQ, LT, LE, EQK, EQI, LTI, LEI, GTI, GEI, TEST, TESTSET,
    CALL, TAILCALL, RETURN, RETURN0, RETURN1, FORPREP, FORLOOP, TFORCALL, TFORLOOP, SETLIST,
    CLOSURE, VARARG, CLOSE, TBC, EXTRAARG, SETTABUPK
);

/// Builds an instruction from A, B, C.
#[inline]
pub fn abc(op: u8, a: u8, b: u8, c: u8) -> u32 {
    op as u32 | (a as u32) << 8 | (b as u32) << 16 | (c as u32) << 24
}

/// Builds an instruction from A and a 16-bit Bx.
#[inline]
pub fn abx(op: u8, a: u8, bx: u32) -> u32 {
    op as u32 | (a as u32) << 8 | bx << 16
}

/// Builds a jump with a signed 24-bit offset.
#[inline]
pub fn sj(op: u8, off: i32) -> u32 {
    op as u32 | (((off + (1 << 23)) as u32) << 8)
}

/// Field accessors.
#[inline]
pub fn op(i: u32) -> u8 {
    i as u8
}
/// A field.
#[inline]
pub fn ga(i: u32) -> usize {
    (i >> 8) as u8 as usize
}
/// B field.
#[inline]
pub fn gb(i: u32) -> usize {
    (i >> 16) as u8 as usize
}
/// C field.
#[inline]
pub fn gc(i: u32) -> usize {
    (i >> 24) as usize
}
/// Bx field.
#[inline]
pub fn gbx(i: u32) -> usize {
    (i >> 16) as usize
}
/// Signed jump offset.
#[inline]
pub fn gsj(i: u32) -> isize {
    (i >> 8) as isize - (1 << 23)
}
/// Signed 8-bit immediate stored in a B or C field.
#[inline]
pub fn simm(x: usize) -> i64 {
    x as i64 - 128
}
