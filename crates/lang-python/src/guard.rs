//! Refuses, before RustPython allocates, the single operations that would
//! build one object bigger than the run's memory limit from small operands
//! (`'x' * 10**10`, `[0] * 10**10`, `b *= 10**9`, `2 ** 10**10`,
//! `1 << 10**10`). The limit hook only looks between bytecodes: one such
//! allocation would outgrow the enclave's heap before it could, and an
//! allocator that cannot serve a request aborts the process.
//!
//! The guards replace slots of the builtin types (sequence repeat and
//! in-place repeat of str, bytes, bytearray, list and tuple; int power and
//! left shift; `%` formatting of str and bytes; the constructors of bytes, bytearray, list and tuple given
//! a size or a sized operand) and methods (padding: `ljust`, `rjust`,
//! `center`, `zfill`; `__format__` of int, float and str, whose spec may
//! ask for any width or precision) with wrappers that check the result's
//! size, then call the original. The originals stay out of the script's
//! reach (here, not in Python). RustPython's builtin types live once per thread (without its
//! `threading` feature), so the slots are replaced once per thread; their
//! subclasses copy the slots when created, after that.

use std::cell::{Cell, RefCell};

use rustpython_vm::builtins::{PyBytes, PyInt, PyStr, PyType, PyTypeRef};
use rustpython_vm::function::{FuncArgs, PyMethodFlags};
use rustpython_vm::protocol::{PyNumberBinaryFunc, PyNumberTernaryFunc, PySequence};
use rustpython_vm::{Py, PyObject, PyObjectRef, PyResult, VirtualMachine};
use shield_engine::LimitKind;

type RepeatFn = fn(PySequence<'_>, isize, &VirtualMachine) -> PyResult;

/// The builtin sequence types guarded, by index in the wrappers.
const STR: usize = 0;
const BYTES: usize = 1;
const BYTEARRAY: usize = 2;
const LIST: usize = 3;
const TUPLE: usize = 4;
const SEQUENCES: usize = 5;

type NewFn = fn(PyTypeRef, FuncArgs, &VirtualMachine) -> PyResult;
type InitFn = fn(PyObjectRef, FuncArgs, &VirtualMachine) -> PyResult<()>;

/// Methods guarded: (type index in [`SEQUENCES`] order or [`INT`],
/// [`FLOAT`], name). The first four take a width.
const METHODS: &[(usize, &str)] = &[
    (STR, "ljust"),
    (STR, "rjust"),
    (STR, "center"),
    (STR, "zfill"),
    (BYTES, "ljust"),
    (BYTES, "rjust"),
    (BYTES, "center"),
    (BYTES, "zfill"),
    (BYTEARRAY, "ljust"),
    (BYTEARRAY, "rjust"),
    (BYTEARRAY, "center"),
    (BYTEARRAY, "zfill"),
    (STR, "__format__"),
    (INT, "__format__"),
    (FLOAT, "__format__"),
];
const INT: usize = SEQUENCES;
const FLOAT: usize = SEQUENCES + 1;

/// The slots and methods the wrappers replaced, to call on.
#[derive(Default)]
struct Originals {
    repeat: [Option<RepeatFn>; SEQUENCES],
    inplace_repeat: [Option<RepeatFn>; SEQUENCES],
    power: Option<PyNumberTernaryFunc>,
    lshift: Option<PyNumberBinaryFunc>,
    str_mod: Option<PyNumberBinaryFunc>,
    bytes_mod: Option<PyNumberBinaryFunc>,
    bytes_new: Option<NewFn>,
    tuple_new: Option<NewFn>,
    bytearray_init: Option<InitFn>,
    list_init: Option<InitFn>,
    methods: Vec<Option<PyObjectRef>>,
}

thread_local! {
    static ORIGINALS: RefCell<Option<Originals>> = const { RefCell::new(None) };
    /// The run's memory limit in bytes; `None`: no guard.
    static LIMIT: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Sets the memory limit the guards hold runs on this thread to.
pub(crate) fn set_limit(bytes: Option<u64>) {
    LIMIT.set(bytes);
}

/// Replaces the slots on this thread's builtin types, once.
pub(crate) fn install(vm: &VirtualMachine) {
    if ORIGINALS.with_borrow(Option::is_some) {
        return;
    }
    let types = &vm.ctx.types;
    let sequences: [&Py<PyType>; SEQUENCES] = [
        types.str_type,
        types.bytes_type,
        types.bytearray_type,
        types.list_type,
        types.tuple_type,
    ];
    let wrappers: [RepeatFn; SEQUENCES] = [
        repeat::<STR>,
        repeat::<BYTES>,
        repeat::<BYTEARRAY>,
        repeat::<LIST>,
        repeat::<TUPLE>,
    ];
    let inplace_wrappers: [RepeatFn; SEQUENCES] = [
        inplace_repeat::<STR>,
        inplace_repeat::<BYTES>,
        inplace_repeat::<BYTEARRAY>,
        inplace_repeat::<LIST>,
        inplace_repeat::<TUPLE>,
    ];
    let mut originals = Originals::default();
    for (i, ty) in sequences.iter().enumerate() {
        let slots = &ty.slots.as_sequence;
        originals.repeat[i] = slots.repeat.load();
        if originals.repeat[i].is_some() {
            slots.repeat.store(Some(wrappers[i]));
        }
        originals.inplace_repeat[i] = slots.inplace_repeat.load();
        if originals.inplace_repeat[i].is_some() {
            slots.inplace_repeat.store(Some(inplace_wrappers[i]));
        }
    }
    let numbers = &types.int_type.slots.as_number;
    originals.power = numbers.power.load();
    if originals.power.is_some() {
        numbers.power.store(Some(power));
    }
    originals.lshift = numbers.lshift.load();
    if originals.lshift.is_some() {
        numbers.lshift.store(Some(lshift));
    }
    originals.str_mod = types.str_type.slots.as_number.remainder.load();
    if originals.str_mod.is_some() {
        types
            .str_type
            .slots
            .as_number
            .remainder
            .store(Some(str_mod));
    }
    originals.bytes_mod = types.bytes_type.slots.as_number.remainder.load();
    if originals.bytes_mod.is_some() {
        types
            .bytes_type
            .slots
            .as_number
            .remainder
            .store(Some(bytes_mod));
    }
    originals.bytes_new = types.bytes_type.slots.new.load();
    if originals.bytes_new.is_some() {
        types.bytes_type.slots.new.store(Some(bytes_new));
    }
    originals.tuple_new = types.tuple_type.slots.new.load();
    if originals.tuple_new.is_some() {
        types.tuple_type.slots.new.store(Some(tuple_new));
    }
    originals.bytearray_init = types.bytearray_type.slots.init.load();
    if originals.bytearray_init.is_some() {
        types.bytearray_type.slots.init.store(Some(bytearray_init));
    }
    originals.list_init = types.list_type.slots.init.load();
    if originals.list_init.is_some() {
        types.list_type.slots.init.store(Some(list_init));
    }
    let wrappers: [fn(FuncArgs, &VirtualMachine) -> PyResult; 15] = [
        method::<0>,
        method::<1>,
        method::<2>,
        method::<3>,
        method::<4>,
        method::<5>,
        method::<6>,
        method::<7>,
        method::<8>,
        method::<9>,
        method::<10>,
        method::<11>,
        method::<12>,
        method::<13>,
        method::<14>,
    ];
    for (&(ty, name), wrapper) in METHODS.iter().zip(wrappers) {
        let class = match ty {
            INT => types.int_type,
            FLOAT => types.float_type,
            i => sequences[i],
        };
        let interned = vm.ctx.intern_str(name);
        let original = class.get_direct_attr(interned);
        if original.is_some() {
            let def = vm
                .ctx
                .new_method_def(name, wrapper, PyMethodFlags::METHOD, None);
            class.set_attr(interned, def.build_method(class, vm).into());
        }
        originals.methods.push(original);
    }
    ORIGINALS.set(Some(originals));
}

/// Fails (with the memory limit) when `bytes` exceed the run's limit, or
/// when the heap is already past its budget.
fn check(bytes: u128, vm: &VirtualMachine) -> PyResult<()> {
    let Some(limit) = LIMIT.get() else {
        return Ok(());
    };
    if bytes > u128::from(limit) || crate::HEAP_EXCEEDED.get()() {
        crate::trip(LimitKind::Memory);
        return Err(crate::limit_error(vm));
    }
    Ok(())
}

/// Bytes of one repetition of sequence `obj` (of guarded type `kind`).
fn unit_bytes(kind: usize, obj: &PyObject, vm: &VirtualMachine) -> PyResult<u128> {
    Ok(match kind {
        STR => obj.downcast_ref::<PyStr>().map_or(0, |s| s.byte_len()) as u128,
        BYTES => obj.downcast_ref::<PyBytes>().map_or(0, |b| b.len()) as u128,
        _ => {
            let len = obj.sequence_unchecked().length(vm)? as u128;
            let item = if kind == BYTEARRAY {
                1
            } else {
                size_of::<usize>() as u128
            };
            len * item
        }
    })
}

fn check_repeat(kind: usize, seq: PySequence<'_>, n: isize, vm: &VirtualMachine) -> PyResult<()> {
    if n > 1 {
        check(unit_bytes(kind, seq.obj, vm)? * n as u128, vm)?;
    }
    Ok(())
}

fn original<R>(pick: impl FnOnce(&Originals) -> Option<R>) -> Option<R> {
    ORIGINALS.with_borrow(|o| o.as_ref().and_then(pick))
}

fn repeat<const KIND: usize>(seq: PySequence<'_>, n: isize, vm: &VirtualMachine) -> PyResult {
    check_repeat(KIND, seq, n, vm)?;
    match original(|o| o.repeat[KIND]) {
        Some(f) => f(seq, n, vm),
        None => Err(vm.new_system_error("shield: sequence repeat slot missing")),
    }
}

fn inplace_repeat<const KIND: usize>(
    seq: PySequence<'_>,
    n: isize,
    vm: &VirtualMachine,
) -> PyResult {
    check_repeat(KIND, seq, n, vm)?;
    match original(|o| o.inplace_repeat[KIND]) {
        Some(f) => f(seq, n, vm),
        None => Err(vm.new_system_error("shield: sequence repeat slot missing")),
    }
}

/// Bits of `obj` if it is an int.
fn int_bits(obj: &PyObject) -> Option<u64> {
    obj.downcast_ref::<PyInt>().map(|i| i.as_bigint().bits())
}

fn power(a: &PyObject, b: &PyObject, c: &PyObject, vm: &VirtualMachine) -> PyResult {
    // Without a modulus, base ** exponent has about bits(base) * exponent
    // bits; a modulus keeps it small.
    if vm.is_none(c)
        && let (Some(base_bits), Some(exp)) = (int_bits(a), b.downcast_ref::<PyInt>())
        && base_bits > 1
    {
        if exp.as_bigint().bits() > 64 {
            check(u128::MAX, vm)?;
        } else if let Ok(e) = exp.try_to_primitive::<u64>(vm) {
            check(u128::from(base_bits) * u128::from(e) / 8, vm)?;
        }
    }
    match original(|o| o.power) {
        Some(f) => f(a, b, c, vm),
        None => Err(vm.new_system_error("shield: int power slot missing")),
    }
}

fn lshift(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> PyResult {
    if let (Some(base_bits), Some(shift)) = (int_bits(a), b.downcast_ref::<PyInt>())
        && base_bits > 0
    {
        if shift.as_bigint().bits() > 64 {
            check(u128::MAX, vm)?;
        } else if let Ok(s) = shift.try_to_primitive::<u64>(vm) {
            check((u128::from(base_bits) + u128::from(s)) / 8, vm)?;
        }
    }
    match original(|o| o.lshift) {
        Some(f) => f(a, b, vm),
        None => Err(vm.new_system_error("shield: int shift slot missing")),
    }
}

/// Bytes a constructor argument asks for: an int size, or a sized
/// operand's length (times `item` bytes).
fn requested(args: &FuncArgs, item: u128, vm: &VirtualMachine) -> PyResult<u128> {
    let Some(first) = args.args.first() else {
        return Ok(0);
    };
    if let Some(n) = first.downcast_ref::<PyInt>() {
        return Ok(n.try_to_primitive::<u64>(vm).map_or(0, u128::from));
    }
    match first.length_opt(vm) {
        Some(len) => Ok(len? as u128 * item),
        None => Ok(0),
    }
}

fn bytes_new(cls: PyTypeRef, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    check(requested(&args, 1, vm)?, vm)?;
    match original(|o| o.bytes_new) {
        Some(f) => f(cls, args, vm),
        None => Err(vm.new_system_error("shield: bytes constructor missing")),
    }
}

fn tuple_new(cls: PyTypeRef, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    if args
        .args
        .first()
        .is_some_and(|a| a.downcast_ref::<PyInt>().is_none())
    {
        check(requested(&args, size_of::<usize>() as u128, vm)?, vm)?;
    }
    match original(|o| o.tuple_new) {
        Some(f) => f(cls, args, vm),
        None => Err(vm.new_system_error("shield: tuple constructor missing")),
    }
}

fn bytearray_init(zelf: PyObjectRef, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
    check(requested(&args, 1, vm)?, vm)?;
    match original(|o| o.bytearray_init) {
        Some(f) => f(zelf, args, vm),
        None => Err(vm.new_system_error("shield: bytearray constructor missing")),
    }
}

fn list_init(zelf: PyObjectRef, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
    if args
        .args
        .first()
        .is_some_and(|a| a.downcast_ref::<PyInt>().is_none())
    {
        check(requested(&args, size_of::<usize>() as u128, vm)?, vm)?;
    }
    match original(|o| o.list_init) {
        Some(f) => f(zelf, args, vm),
        None => Err(vm.new_system_error("shield: list constructor missing")),
    }
}

/// The largest number written in a format spec: its width or precision.
fn spec_size(spec: &str) -> u128 {
    spec.split(|c: char| !c.is_ascii_digit())
        .filter_map(|digits| digits.parse::<u128>().ok())
        .max()
        .unwrap_or(0)
}

/// A guarded method ([`METHODS`]`[K]`): checks the width or format spec
/// argument, then calls the original with the same arguments.
fn method<const K: usize>(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    let (_, name) = METHODS[K];
    let arg = args.args.get(1).or_else(|| {
        args.kwargs.get(if name == "__format__" {
            "format_spec"
        } else {
            "width"
        })
    });
    if let Some(arg) = arg {
        let size = if name == "__format__" {
            arg.downcast_ref::<PyStr>()
                .map_or(0, |s| spec_size(&s.to_string_lossy()))
        } else {
            arg.downcast_ref::<PyInt>()
                .map_or(0, |n| n.try_to_primitive::<u64>(vm).map_or(0, u128::from))
        };
        check(size, vm)?;
    }
    match original(|o| o.methods.get(K).cloned().flatten()) {
        Some(f) => f.call(args, vm),
        None => Err(vm.new_system_error("shield: guarded method missing")),
    }
}

/// The widest field a `%` format asks for: the numbers in its conversion
/// specifiers, and with a `*` width, any int among the values.
fn percent_size(format: &[u8], values: &PyObject, vm: &VirtualMachine) -> u128 {
    let mut size = 0;
    let mut star = false;
    let mut rest = format;
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        rest = &rest[at + 1..];
        let end = rest
            .iter()
            .position(|b| b"diouxXeEfFgGcrsab%".contains(b))
            .unwrap_or(rest.len());
        let spec = String::from_utf8_lossy(&rest[..end]);
        star |= spec.contains('*');
        size = size.max(spec_size(&spec));
        rest = &rest[(end + 1).min(rest.len())..];
    }
    if star {
        let items: Vec<PyObjectRef> =
            match values.downcast_ref::<rustpython_vm::builtins::PyTuple>() {
                Some(t) => t.as_slice().to_vec(),
                None => vec![values.to_owned()],
            };
        for item in items {
            if let Some(n) = item.downcast_ref::<PyInt>() {
                size = size.max(n.try_to_primitive::<u64>(vm).map_or(0, u128::from));
            }
        }
    }
    size
}

fn str_mod(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> PyResult {
    if let Some(format) = a.downcast_ref::<PyStr>() {
        check(percent_size(format.as_bytes(), b, vm), vm)?;
    }
    match original(|o| o.str_mod) {
        Some(f) => f(a, b, vm),
        None => Err(vm.new_system_error("shield: str % slot missing")),
    }
}

fn bytes_mod(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> PyResult {
    if let Some(format) = a.downcast_ref::<PyBytes>() {
        check(percent_size(format.as_bytes(), b, vm), vm)?;
    }
    match original(|o| o.bytes_mod) {
        Some(f) => f(a, b, vm),
        None => Err(vm.new_system_error("shield: bytes % slot missing")),
    }
}
