//! Refuses, before RustPython allocates, the single operations that would
//! build one object bigger than the run's memory limit from small operands
//! (`'x' * 10**10`, `[0] * 10**10`, `b *= 10**9`, `2 ** 10**10`,
//! `1 << 10**10`). The limit hook only looks between bytecodes: one such
//! allocation would outgrow the enclave's heap before it could, and an
//! allocator that cannot serve a request aborts the process.
//!
//! The guards replace slots of the builtin types (sequence repeat and
//! in-place repeat of str, bytes, bytearray, list and tuple; int power and
//! left shift) with wrappers that check the result's size, then call the
//! original. RustPython's builtin types live once per thread (without its
//! `threading` feature), so the slots are replaced once per thread; their
//! subclasses copy the slots when created, after that.

use std::cell::{Cell, RefCell};

use rustpython_vm::builtins::{PyBytes, PyInt, PyStr, PyType};
use rustpython_vm::protocol::{PyNumberBinaryFunc, PyNumberTernaryFunc, PySequence};
use rustpython_vm::{Py, PyObject, PyResult, VirtualMachine};
use shield_engine::LimitKind;

type RepeatFn = fn(PySequence<'_>, isize, &VirtualMachine) -> PyResult;

/// The builtin sequence types guarded, by index in the wrappers.
const STR: usize = 0;
const BYTES: usize = 1;
const BYTEARRAY: usize = 2;
const LIST: usize = 3;
const TUPLE: usize = 4;
const SEQUENCES: usize = 5;

/// The slots the wrappers replaced, to call on.
#[derive(Default)]
struct Originals {
    repeat: [Option<RepeatFn>; SEQUENCES],
    inplace_repeat: [Option<RepeatFn>; SEQUENCES],
    power: Option<PyNumberTernaryFunc>,
    lshift: Option<PyNumberBinaryFunc>,
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
