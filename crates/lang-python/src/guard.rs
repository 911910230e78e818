//! Refuses, before RustPython allocates, the single operations that would
//! build one object bigger than the run's memory limit from small operands
//! (`'x' * 10**10`, `[0] * 10**10`, `b *= 10**9`, `2 ** 10**10`,
//! `1 << 10**10`). The limit hook only looks between bytecodes: one such
//! allocation would outgrow the enclave's heap before it could, and an
//! allocator that cannot serve a request aborts the process.
//!
//! The guards replace slots of the builtin types (sequence repeat and
//! in-place repeat of str, bytes, bytearray, list and tuple; int power and
//! left shift; `%` formatting of str, bytes and bytearray; the constructors of bytes,
//! bytearray, list and tuple given a size or a sized operand) and methods
//! with wrappers that compute or bound the result's size, then call the
//! original. The methods: the dunders that reach the same natives by name
//! (`'x'.__mul__(n)`, `__rmul__`, `__imul__`, `int.__pow__`/`__rpow__`,
//! `__lshift__`/`__rlshift__`, `__mod__`); padding (`ljust`, `rjust`, `center`, `zfill`);
//! `__format__` of int, float and str (whose spec may ask for any width or
//! precision); and those whose result can be many times their operands:
//! `expandtabs` and `replace` of str, bytes and bytearray (tabs times the
//! tab size, occurrences times the growth), `join` of the three (the
//! items' lengths: `''.join([s] * 1000)` is a small list and a huge
//! result; other iterables are read into a list first, as CPython does,
//! and the reading stops at the limit), `str.translate` (code points times
//! the longest value of a dict, list or tuple table), and `split`,
//! `rsplit` and `splitlines` of the three (a list of many new objects,
//! each far bigger than its piece: `(',' * 10**7).split(',')`). A cheap
//! bound comes first; the exact measure (tabs, occurrences, lookups per
//! code point, pieces) only when that bound passes the limit, so ordinary
//! calls pay some arithmetic, not a second pass. `int.to_bytes` is
//! checked for its length (and `os.urandom`, in `host`). Native code that drains an iterator in one call
//! (`sorted(range(10**10))`, `dict.fromkeys(...)`, `list.extend(...)`,
//! `list(itertools.repeat(0, n))`, `list('中' * n)`) meets the heap poll
//! at every item of the builtin iterators of range, str, bytes and
//! bytearray and of itertools' `repeat`, `count` and `cycle`. Checked and bounded
//! without a guard: `bytes.translate` (byte to byte), case mappings (at
//! most 3 code points per code point), `encode`/`decode`, `hex`, `repr`
//! (a small constant factor), slicing, `partition`, `strip`.
//!
//! The originals stay out of the script's reach (here, not in Python).
//! RustPython's builtin types live once per thread (without its
//! `threading` feature), so the slots are replaced once per thread; their
//! subclasses copy the slots when created, after that.

use std::cell::{Cell, RefCell};

use rustpython_vm::builtins::{
    PyByteArray, PyBytes, PyDict, PyInt, PyList, PyStr, PyTuple, PyType, PyTypeRef,
};
use rustpython_vm::convert::TryFromBorrowedObject;
use rustpython_vm::function::{FuncArgs, PyMethodFlags};
use rustpython_vm::protocol::{
    PyBuffer, PyIterReturn, PyNumberBinaryFunc, PyNumberTernaryFunc, PySequence,
};
use rustpython_vm::{AsObject, Py, PyObject, PyObjectRef, PyResult, VirtualMachine};
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

/// What a guarded method's result size depends on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    /// A width argument (`ljust`, `rjust`, `center`, `zfill`).
    Width,
    /// A format spec's width or precision (`__format__`).
    Spec,
    /// The tab size times the tabs (`expandtabs`).
    Tabs,
    /// The occurrences of `old` times the growth to `new` (`replace`).
    Replace,
    /// The items' lengths (`join`).
    Join,
    /// The table's values per code point (`str.translate`).
    Translate,
    /// One new object per piece (`split`, `rsplit`).
    Split,
    /// One new object per line (`splitlines`).
    Lines,
    /// A length argument (`int.to_bytes`).
    Length,
    /// Repetition called by name (`'x'.__mul__(n)`, `__rmul__`,
    /// `__imul__`): the slots' check.
    Repeat,
    /// `int.__pow__(a, b, mod)` / `__rpow__` (operands swapped).
    Pow,
    /// `int.__rpow__`.
    RPow,
    /// `int.__lshift__`.
    Shift,
    /// `int.__rlshift__`.
    RShift,
    /// `%` formatting called by name (`__mod__`).
    Percent,
}

/// Methods guarded: (type index in [`SEQUENCES`] order or [`INT`],
/// [`FLOAT`], name, what to check).
const METHODS: &[(usize, &str, Check)] = &[
    (STR, "ljust", Check::Width),
    (STR, "rjust", Check::Width),
    (STR, "center", Check::Width),
    (STR, "zfill", Check::Width),
    (BYTES, "ljust", Check::Width),
    (BYTES, "rjust", Check::Width),
    (BYTES, "center", Check::Width),
    (BYTES, "zfill", Check::Width),
    (BYTEARRAY, "ljust", Check::Width),
    (BYTEARRAY, "rjust", Check::Width),
    (BYTEARRAY, "center", Check::Width),
    (BYTEARRAY, "zfill", Check::Width),
    (STR, "__format__", Check::Spec),
    (INT, "__format__", Check::Spec),
    (FLOAT, "__format__", Check::Spec),
    (STR, "expandtabs", Check::Tabs),
    (BYTES, "expandtabs", Check::Tabs),
    (BYTEARRAY, "expandtabs", Check::Tabs),
    (STR, "replace", Check::Replace),
    (BYTES, "replace", Check::Replace),
    (BYTEARRAY, "replace", Check::Replace),
    (STR, "join", Check::Join),
    (BYTES, "join", Check::Join),
    (BYTEARRAY, "join", Check::Join),
    (STR, "translate", Check::Translate),
    (STR, "split", Check::Split),
    (STR, "rsplit", Check::Split),
    (STR, "splitlines", Check::Lines),
    (BYTES, "split", Check::Split),
    (BYTES, "rsplit", Check::Split),
    (BYTES, "splitlines", Check::Lines),
    (BYTEARRAY, "split", Check::Split),
    (BYTEARRAY, "rsplit", Check::Split),
    (BYTEARRAY, "splitlines", Check::Lines),
    (INT, "to_bytes", Check::Length),
    // The dunder methods reach the same natives as the slots, by name.
    (STR, "__mul__", Check::Repeat),
    (STR, "__rmul__", Check::Repeat),
    (BYTES, "__mul__", Check::Repeat),
    (BYTES, "__rmul__", Check::Repeat),
    (BYTEARRAY, "__mul__", Check::Repeat),
    (BYTEARRAY, "__rmul__", Check::Repeat),
    (BYTEARRAY, "__imul__", Check::Repeat),
    (LIST, "__mul__", Check::Repeat),
    (LIST, "__rmul__", Check::Repeat),
    (LIST, "__imul__", Check::Repeat),
    (TUPLE, "__mul__", Check::Repeat),
    (TUPLE, "__rmul__", Check::Repeat),
    (INT, "__pow__", Check::Pow),
    (INT, "__rpow__", Check::RPow),
    (INT, "__lshift__", Check::Shift),
    (INT, "__rlshift__", Check::RShift),
    (STR, "__mod__", Check::Percent),
    (BYTES, "__mod__", Check::Percent),
    (BYTEARRAY, "__mod__", Check::Percent),
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
    bytearray_mod: Option<PyNumberBinaryFunc>,
    bytes_new: Option<NewFn>,
    tuple_new: Option<NewFn>,
    bytearray_init: Option<InitFn>,
    list_init: Option<InitFn>,
    methods: Vec<Option<PyObjectRef>>,
    iternext: [Option<IterNextFn>; ITERATORS],
}

type IterNextFn = fn(&PyObject, &VirtualMachine) -> PyResult<PyIterReturn>;

/// Iterators polled (see [`polled_next`]): the builtin ones of range, str,
/// bytes and bytearray, and itertools' `repeat`, `count` and `cycle`.
const ITERATORS: usize = 8;
const ITERTOOLS: [&str; 3] = ["repeat", "count", "cycle"];

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
    // `%` of str, bytes and bytearray: each type's own slot.
    let wrap_mod = |ty: &Py<PyType>, wrapper: PyNumberBinaryFunc| {
        let slot = &ty.slots.as_number.remainder;
        let original = slot.load();
        if original.is_some() {
            slot.store(Some(wrapper));
        }
        original
    };
    originals.str_mod = wrap_mod(types.str_type, str_mod);
    originals.bytes_mod = wrap_mod(types.bytes_type, bytes_mod);
    originals.bytearray_mod = wrap_mod(types.bytearray_type, bytearray_mod);
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
    for (k, &(ty, name, _)) in METHODS.iter().enumerate() {
        let class = builtin_type(ty, vm);
        let interned = vm.ctx.intern_str(name);
        let original = class.get_direct_attr(interned);
        if original.is_some() {
            let def = vm.ctx.new_method_def(
                name,
                move |args: FuncArgs, vm: &VirtualMachine| method(k, args, vm),
                PyMethodFlags::METHOD,
                None,
            );
            class.set_attr(interned, def.build_method(class, vm).into());
        }
        originals.methods.push(original);
    }
    let mut iterators: Vec<PyTypeRef> = [
        types.range_iterator_type,
        types.long_range_iterator_type,
        types.str_iterator_type,
        types.bytes_iterator_type,
        types.bytearray_iterator_type,
    ]
    .iter()
    .map(|t| (*t).to_owned())
    .collect();
    if let Ok(itertools) = vm.import("itertools", 0) {
        for name in ITERTOOLS {
            if let Ok(class) = itertools.get_attr(name, vm)
                && let Ok(class) = class.downcast::<PyType>()
            {
                iterators.push(class);
            }
        }
    }
    let polled: [IterNextFn; ITERATORS] = [
        polled_next::<0>,
        polled_next::<1>,
        polled_next::<2>,
        polled_next::<3>,
        polled_next::<4>,
        polled_next::<5>,
        polled_next::<6>,
        polled_next::<7>,
    ];
    for ((class, wrapper), slot) in iterators
        .iter()
        .zip(polled)
        .zip(originals.iternext.iter_mut())
    {
        *slot = class.slots.iternext.load();
        if slot.is_some() {
            class.slots.iternext.store(Some(wrapper));
        }
    }
    ORIGINALS.set(Some(originals));
}

/// Fails (with the memory limit) when `bytes` exceed the run's limit, or
/// when the heap is already past its budget.
pub(crate) fn check(bytes: u128, vm: &VirtualMachine) -> PyResult<()> {
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

/// The next item of a builtin iterator that native code (`sorted`,
/// `list.extend`, `dict.fromkeys`, `list(itertools.repeat(0, n))`...) may
/// drain in one call, making one object per item or growing one
/// container: the heap is polled at every item, as the limit hook polls it
/// between bytecodes, so such a call ends at the memory limit.
fn polled_next<const I: usize>(zelf: &PyObject, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
    if LIMIT.get().is_some() && crate::HEAP_EXCEEDED.get()() {
        crate::trip(LimitKind::Memory);
        return Err(crate::limit_error(vm));
    }
    match original(|o| o.iternext[I]) {
        Some(f) => f(zelf, vm),
        None => Err(vm.new_system_error("shield: iterator slot missing")),
    }
}

/// A repetition method's size: the receiver's bytes times the count.
fn repeat_size(kind: usize, args: &FuncArgs, vm: &VirtualMachine) -> PyResult<u128> {
    let (Some(zelf), Some(n)) = (args.args.first(), args.args.get(1)) else {
        return Ok(0);
    };
    // Called unbound on another type, the original raises.
    if !zelf.fast_isinstance(builtin_type(kind, vm)) {
        return Ok(0);
    }
    let Some(n) = n.downcast_ref::<PyInt>() else {
        return Ok(0);
    };
    if n.as_bigint().bits() > 64 {
        return Ok(u128::MAX);
    }
    let n = n.try_to_primitive::<i64>(vm).unwrap_or(0);
    if n <= 1 {
        return Ok(0);
    }
    Ok(unit_bytes(kind, zelf, vm)?.saturating_mul(n as u128))
}

/// The widest field of `format % values` for a str, bytes or bytearray
/// format.
fn percent_of(format: &PyObject, values: &PyObject, vm: &VirtualMachine) -> u128 {
    if let Some(f) = format.downcast_ref::<PyStr>() {
        percent_size(f.as_bytes(), values, vm)
    } else if let Some(f) = format.downcast_ref::<PyBytes>() {
        percent_size(f.as_bytes(), values, vm)
    } else if let Some(f) = format.downcast_ref::<PyByteArray>() {
        percent_size(&f.borrow_buf(), values, vm)
    } else {
        0
    }
}

/// Bits of `obj` if it is an int.
fn int_bits(obj: &PyObject) -> Option<u64> {
    obj.downcast_ref::<PyInt>().map(|i| i.as_bigint().bits())
}

/// Bytes of an int result from int `a` (more than `min_bits` bits) and an
/// int count `b` (an exponent, a shift): `size(bits of a, b)`; past 64
/// bits of `b`, everything. 0 when either is not an int.
fn int_result_size(
    a: &PyObject,
    b: &PyObject,
    min_bits: u64,
    vm: &VirtualMachine,
    size: fn(u128, u128) -> u128,
) -> u128 {
    match (int_bits(a), b.downcast_ref::<PyInt>()) {
        (Some(bits), Some(n)) if bits > min_bits => {
            if n.as_bigint().bits() > 64 {
                u128::MAX
            } else {
                n.try_to_primitive::<u64>(vm)
                    .map_or(0, |n| size(u128::from(bits), u128::from(n)))
            }
        }
        _ => 0,
    }
}

/// Bytes of `a ** b` without a modulus: about bits(a) * b bits.
fn power_size(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> u128 {
    int_result_size(a, b, 1, vm, |bits, e| bits * e / 8)
}

/// Bytes of `a << b`.
fn lshift_size(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> u128 {
    int_result_size(a, b, 0, vm, |bits, s| (bits + s) / 8)
}

fn power(a: &PyObject, b: &PyObject, c: &PyObject, vm: &VirtualMachine) -> PyResult {
    // A modulus keeps the result small.
    if vm.is_none(c) {
        check(power_size(a, b, vm), vm)?;
    }
    match original(|o| o.power) {
        Some(f) => f(a, b, c, vm),
        None => Err(vm.new_system_error("shield: int power slot missing")),
    }
}

fn lshift(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> PyResult {
    check(lshift_size(a, b, vm), vm)?;
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

/// A guarded method ([`METHODS`]`[k]`): checks the size of its result,
/// then calls the original with the same arguments (a `join` of an
/// iterable other than a list or tuple gets the list of its items).
fn method(k: usize, mut args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    let (kind, _, what) = METHODS[k];
    if what == Check::Tabs
        && kind == STR
        && let Some(removed) = tabs_removed(&args, vm)
    {
        return Ok(removed);
    }
    if LIMIT.get().is_some() {
        let size = match what {
            Check::Width => count_arg(&args, 1, "width", vm),
            Check::Length => count_arg(&args, 1, "length", vm),
            Check::Repeat => repeat_size(kind, &args, vm)?,
            Check::Pow | Check::RPow => match (args.args.first(), args.args.get(1)) {
                (Some(zelf), Some(other)) if args.args.get(2).is_none_or(|m| vm.is_none(m)) => {
                    if what == Check::Pow {
                        power_size(zelf, other, vm)
                    } else {
                        power_size(other, zelf, vm)
                    }
                }
                _ => 0,
            },
            Check::Shift | Check::RShift => match (args.args.first(), args.args.get(1)) {
                (Some(zelf), Some(other)) if what == Check::Shift => lshift_size(zelf, other, vm),
                (Some(zelf), Some(other)) => lshift_size(other, zelf, vm),
                _ => 0,
            },
            Check::Percent => match (args.args.first(), args.args.get(1)) {
                (Some(format), Some(values)) => percent_of(format, values, vm),
                _ => 0,
            },
            Check::Spec => arg(&args, 1, "format_spec").map_or(0, |spec| {
                spec.downcast_ref::<PyStr>()
                    .map_or(0, |s| spec_size(&s.to_string_lossy()))
            }),
            Check::Tabs => tabs_size(&args, vm),
            Check::Replace => replace_size(kind, &args, vm)?,
            Check::Join => join_size(kind, &mut args, vm)?,
            Check::Translate => translate_size(&args, vm)?,
            Check::Split | Check::Lines => split_size(kind, what == Check::Lines, &args, vm)?,
        };
        check(size, vm)?;
    }
    match original(|o| o.methods.get(k).cloned().flatten()) {
        Some(f) => f.call(args, vm),
        None => Err(vm.new_system_error("shield: guarded method missing")),
    }
}

/// The argument at `pos` (the receiver is 0), or the keyword `name`.
fn arg<'a>(args: &'a FuncArgs, pos: usize, name: &str) -> Option<&'a PyObjectRef> {
    args.args.get(pos).or_else(|| args.kwargs.get(name))
}

/// An int argument as a count of bytes (0 when absent, negative or not
/// an int: the original decides).
fn count_arg(args: &FuncArgs, pos: usize, name: &str, vm: &VirtualMachine) -> u128 {
    arg(args, pos, name)
        .and_then(|n| n.downcast_ref::<PyInt>())
        .map_or(0, |n| n.try_to_primitive::<u64>(vm).map_or(0, u128::from))
}

/// Whether `bytes` fit the run's limit.
fn within(bytes: u128) -> bool {
    LIMIT.get().is_none_or(|limit| bytes <= u128::from(limit))
}

/// Bytes of an operand of a method of guarded type `kind`: a str's UTF-8
/// for str, any bytes-like object's buffer for bytes and bytearray;
/// `None` for what the original refuses anyway.
fn operand_len(kind: usize, obj: &PyObject, vm: &VirtualMachine) -> Option<u128> {
    if kind == STR {
        return obj.downcast_ref::<PyStr>().map(|s| s.byte_len() as u128);
    }
    if let Some(b) = obj.downcast_ref::<PyBytes>() {
        return Some(b.len() as u128);
    }
    // Native only: the buffer slot is never Python code.
    PyBuffer::try_from_borrowed_object(vm, obj)
        .ok()
        .map(|b| b.desc.len as u128)
}

/// `str.expandtabs` with a tab size of 0 or less: the string without its
/// tabs, as in CPython. RustPython 0.5's own subtracts the column from a
/// zero tab stop there (a panic, or in release a wrapped, huge repeat).
fn tabs_removed(args: &FuncArgs, vm: &VirtualMachine) -> Option<PyObjectRef> {
    let tabsize = arg(args, 1, "tabsize")?
        .downcast_ref::<PyInt>()?
        .try_to_primitive::<i64>(vm)
        .ok()?;
    let text = args.args.first()?.downcast_ref::<PyStr>()?.to_str()?;
    (tabsize <= 0).then(|| vm.ctx.new_str(text.replace('\t', "")).into())
}

/// `expandtabs`: each tab becomes at most `tabsize` spaces.
fn tabs_size(args: &FuncArgs, vm: &VirtualMachine) -> u128 {
    let tabsize = arg(args, 1, "tabsize").map_or(8, |n| {
        n.downcast_ref::<PyInt>()
            .and_then(|n| n.try_to_primitive::<i64>(vm).ok())
            .map_or(0, |n| n.max(0) as u128)
    });
    let Some(zelf) = args.args.first() else {
        return 0;
    };
    let size = |data: &[u8]| {
        let len = data.len() as u128;
        let bound = len * tabsize.max(1);
        if within(bound) {
            bound
        } else {
            len + data.iter().filter(|&&b| b == b'\t').count() as u128 * tabsize
        }
    };
    if let Some(s) = zelf.downcast_ref::<PyStr>() {
        size(s.as_bytes())
    } else if let Some(b) = zelf.downcast_ref::<PyBytes>() {
        size(b.as_bytes())
    } else if let Some(b) = zelf.downcast_ref::<PyByteArray>() {
        size(&b.borrow_buf())
    } else {
        0
    }
}

/// `replace`: every occurrence of `old` (up to `count`) grows by the
/// difference; occurrences are counted (by the type's own native `count`)
/// only when their most possible number could pass the limit.
fn replace_size(kind: usize, args: &FuncArgs, vm: &VirtualMachine) -> PyResult<u128> {
    let (Some(zelf), Some(old), Some(new)) =
        (args.args.first(), args.args.get(1), args.args.get(2))
    else {
        return Ok(0);
    };
    let (Some(len), Some(old_len), Some(new_len)) = (
        operand_len(kind, zelf, vm),
        operand_len(kind, old, vm),
        operand_len(kind, new, vm),
    ) else {
        return Ok(0);
    };
    let count = arg(args, 3, "count")
        .and_then(|n| n.downcast_ref::<PyInt>())
        .and_then(|n| n.try_to_primitive::<i64>(vm).ok())
        .map_or(u128::MAX, |n| u128::try_from(n).unwrap_or(u128::MAX));
    if new_len <= old_len || count == 0 {
        return Ok(len);
    }
    let growth = new_len - old_len;
    // An empty `old` matches between characters and at both ends.
    let most = len.checked_div(old_len).unwrap_or(len + 1);
    let bound = len + most.min(count) * growth;
    if within(bound) {
        return Ok(bound);
    }
    let class = builtin_type(kind, vm);
    let Some(count_fn) = class.get_direct_attr(vm.ctx.intern_str("count")) else {
        return Ok(bound);
    };
    let found = count_fn.call((zelf.clone(), old.clone()), vm)?;
    let found = found
        .downcast_ref::<PyInt>()
        .and_then(|n| n.try_to_primitive::<u64>(vm).ok())
        .map_or(most, u128::from);
    Ok(len + found.min(count) * growth)
}

/// `join`: the items' lengths and a separator between each two. As in
/// CPython, an iterable other than a list or tuple is read into a list
/// first (the original is then given that list); the reading itself stops
/// at the limit.
fn join_size(kind: usize, args: &mut FuncArgs, vm: &VirtualMachine) -> PyResult<u128> {
    let (Some(sep), Some(iterable)) = (args.args.first(), args.args.get(1).cloned()) else {
        return Ok(0);
    };
    let sep = operand_len(kind, sep, vm).unwrap_or(0);
    let types = &vm.ctx.types;
    let sum = |items: &[PyObjectRef]| {
        items
            .iter()
            .map(|item| operand_len(kind, item, vm).unwrap_or(0))
            .sum::<u128>()
    };
    let (count, total) = if iterable.class().is(types.list_type)
        && let Some(list) = iterable.downcast_ref::<PyList>()
    {
        let items = list.borrow_vec();
        (items.len() as u128, sum(&items))
    } else if iterable.class().is(types.tuple_type)
        && let Some(tuple) = iterable.downcast_ref::<PyTuple>()
    {
        (tuple.len() as u128, sum(tuple.as_slice()))
    } else {
        // A non-iterable: the original raises its own error.
        let Ok(iter) = iterable.get_iter(vm) else {
            return Ok(0);
        };
        let mut items = Vec::new();
        let mut total = 0;
        while let PyIterReturn::Return(item) = iter.next(vm)? {
            total += operand_len(kind, &item, vm).unwrap_or(0) + sep;
            items.push(item);
            check(total + (items.len() * size_of::<usize>()) as u128, vm)?;
        }
        let count = items.len() as u128;
        args.args[1] = vm.ctx.new_list(items).into();
        (count, total - sep * count)
    };
    Ok(total + sep * count.saturating_sub(1))
}

/// `str.translate`: each code point becomes its value in the table (at
/// most 4 bytes unless a str). Bounded by the longest value stored in a
/// dict, list or tuple table; when that bound passes the limit (or the
/// table is longer than the string), an exact dict, list or tuple is
/// looked up per code point (native lookups, no script code). Other
/// tables are not measured: a Python `__getitem__` runs the limit hook.
fn translate_size(args: &FuncArgs, vm: &VirtualMachine) -> PyResult<u128> {
    let (Some(zelf), Some(table)) = (args.args.first(), args.args.get(1)) else {
        return Ok(0);
    };
    let Some(s) = zelf.downcast_ref::<PyStr>() else {
        return Ok(0);
    };
    let value_len = |v: &PyObject| {
        v.downcast_ref::<PyStr>()
            .map_or(4, |s| s.byte_len() as u128)
    };
    let types = &vm.ctx.types;
    let class = table.class();
    let exact =
        class.is(types.dict_type) || class.is(types.list_type) || class.is(types.tuple_type);
    let dict = table.downcast_ref::<PyDict>();
    let list = table.downcast_ref::<PyList>();
    let tuple = table.downcast_ref::<PyTuple>();
    let entries = match (dict, list, tuple) {
        (Some(d), _, _) => d.__len__(),
        (_, Some(l), _) => l.borrow_vec().len(),
        (_, _, Some(t)) => t.len(),
        _ => return Ok(0),
    };
    let chars = s.char_len() as u128;
    if !exact || entries as u128 <= chars {
        let widest = match (dict, list, tuple) {
            (Some(d), _, _) => d.into_iter().map(|(_, v)| value_len(&v)).max(),
            (_, Some(l), _) => l.borrow_vec().iter().map(|v| value_len(v)).max(),
            (_, _, Some(t)) => t.as_slice().iter().map(|v| value_len(v)).max(),
            _ => None,
        };
        let bound = chars * widest.unwrap_or(0).max(4);
        if within(bound) || !exact {
            return Ok(bound);
        }
    }
    let mut total = 0;
    for cp in s.as_wtf8().code_points() {
        let code = cp.to_u32();
        let value = if let Some(d) = dict {
            d.get_item_opt(vm.ctx.new_int(code).as_object(), vm)?
        } else if let Some(l) = list {
            l.borrow_vec().get(code as usize).cloned()
        } else {
            tuple.and_then(|t| t.as_slice().get(code as usize).cloned())
        };
        total += match value {
            Some(v) if vm.is_none(&v) => 0,
            Some(v) => value_len(&v),
            None => char::from_u32(code).map_or(3, char::len_utf8) as u128,
        };
        if !within(total) {
            break;
        }
    }
    Ok(total)
}

/// Bytes RustPython spends on a new str or bytes object besides its
/// contents (header, payload, the contents' own allocation): an estimate
/// on the high side.
const OBJECT_BYTES: u128 = 128;

/// Python's whitespace for `str.split()` (a superset is a safe bound:
/// more separators, more pieces).
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's line boundaries for `str.splitlines` (`\r\n` counted as two:
/// one piece more, a safe bound).
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\x0b' | '\x0c' | '\x1c'..='\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// What a list of `pieces` costs: a slot each, and a new object for each
/// but the one-character Latin-1 ones (RustPython shares those).
fn pieces_size<'a>(pieces: impl Iterator<Item = &'a str>) -> u128 {
    pieces
        .map(|p| {
            let slot = size_of::<usize>() as u128;
            let mut chars = p.chars();
            let shared = chars.next().is_some_and(|c| u32::from(c) < 256);
            if shared && chars.next().is_none() {
                slot
            } else {
                slot + OBJECT_BYTES + p.len() as u128
            }
        })
        .sum()
}

/// `split`, `rsplit`, `splitlines`: a small string of many short pieces
/// makes a list of many objects, dozens of times its size. Bounded by the
/// most pieces there can be; past the limit, the pieces are measured (str)
/// or counted (bytes, with the type's own native `count`).
fn split_size(kind: usize, lines: bool, args: &FuncArgs, vm: &VirtualMachine) -> PyResult<u128> {
    let Some(zelf) = args.args.first() else {
        return Ok(0);
    };
    let Some(len) = operand_len(kind, zelf, vm) else {
        return Ok(0);
    };
    let per_piece = size_of::<usize>() as u128 + OBJECT_BYTES;
    let sep = if lines {
        None
    } else {
        arg(args, 1, "sep").filter(|sep| !vm.is_none(sep))
    };
    let sep_len = match sep.map(|sep| operand_len(kind, sep, vm)) {
        // An empty or wrong separator: the original raises.
        Some(Some(0) | None) => return Ok(0),
        Some(Some(n)) => Some(n),
        None => None,
    };
    let most_splits = if lines {
        u128::MAX
    } else {
        arg(args, 2, "maxsplit")
            .and_then(|n| n.downcast_ref::<PyInt>())
            .and_then(|n| n.try_to_primitive::<i64>(vm).ok())
            .map_or(u128::MAX, |n| u128::try_from(n).unwrap_or(u128::MAX))
    };
    let most = match sep_len {
        Some(n) => len / n + 1,
        None if lines => len + 1,
        None => len / 2 + 1,
    };
    let bound = most.min(most_splits.saturating_add(1)) * per_piece + len;
    if within(bound) {
        return Ok(bound);
    }
    // Splitting at every separator (`maxsplit` only merges pieces; one
    // more object for the merged rest).
    let slack = per_piece + len;
    if let Some(text) = zelf.downcast_ref::<PyStr>().and_then(|s| s.to_str()) {
        let size = match sep.and_then(|sep| sep.downcast_ref::<PyStr>()?.to_str()) {
            Some(sep) => pieces_size(text.split(sep)),
            None if lines => pieces_size(text.split(is_line_break)),
            None => pieces_size(text.split(is_space).filter(|p| !p.is_empty())),
        };
        return Ok(size.min(bound) + slack);
    }
    if kind == STR {
        return Ok(bound);
    }
    let pieces = if let Some(sep) = sep {
        let class = builtin_type(kind, vm);
        let Some(count_fn) = class.get_direct_attr(vm.ctx.intern_str("count")) else {
            return Ok(bound);
        };
        let found = count_fn.call((zelf.clone(), sep.clone()), vm)?;
        found
            .downcast_ref::<PyInt>()
            .and_then(|n| n.try_to_primitive::<u64>(vm).ok())
            .map_or(most, |n| u128::from(n) + 1)
    } else {
        let count = |data: &[u8]| {
            if lines {
                data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1
            } else {
                data.split(|b| b" \t\n\r\x0b\x0c".contains(b))
                    .filter(|p| !p.is_empty())
                    .count()
            }
        };
        if let Some(b) = zelf.downcast_ref::<PyBytes>() {
            count(b.as_bytes()) as u128
        } else if let Some(b) = zelf.downcast_ref::<PyByteArray>() {
            count(&b.borrow_buf()) as u128
        } else {
            return Ok(bound);
        }
    };
    Ok(pieces.min(most) * per_piece + slack)
}

/// The builtin type of guarded kind `kind`.
fn builtin_type(kind: usize, vm: &VirtualMachine) -> &'static Py<PyType> {
    let types = &vm.ctx.types;
    match kind {
        STR => types.str_type,
        BYTES => types.bytes_type,
        BYTEARRAY => types.bytearray_type,
        LIST => types.list_type,
        TUPLE => types.tuple_type,
        INT => types.int_type,
        _ => types.float_type,
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
        let items: Vec<PyObjectRef> = match values.downcast_ref::<PyTuple>() {
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

/// `%` of a str, bytes or bytearray format: the widest field checked,
/// then the type's original (`slot` picks it).
fn percent(
    a: &PyObject,
    b: &PyObject,
    vm: &VirtualMachine,
    slot: fn(&Originals) -> Option<PyNumberBinaryFunc>,
) -> PyResult {
    check(percent_of(a, b, vm), vm)?;
    match original(slot) {
        Some(f) => f(a, b, vm),
        None => Err(vm.new_system_error("shield: % slot missing")),
    }
}

fn str_mod(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> PyResult {
    percent(a, b, vm, |o| o.str_mod)
}

fn bytes_mod(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> PyResult {
    percent(a, b, vm, |o| o.bytes_mod)
}

fn bytearray_mod(a: &PyObject, b: &PyObject, vm: &VirtualMachine) -> PyResult {
    percent(a, b, vm, |o| o.bytearray_mod)
}
