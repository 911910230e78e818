//! The runtime interface that generated code depends on: a bounded binary
//! encoding, the transport traits a runtime implements, and function
//! metadata. This module is all that a runtime (or an enclave) needs from
//! `shield-edl`; build with `default-features = false` to get only it.
//!
//! # Wire format
//!
//! Every value is encoded without padding or tags, little-endian:
//!
//! * integers and floats: their bytes, little-endian; `size_t` (`usize`) as
//!   8 bytes; an EDL `enum` as a 4-byte `int`;
//! * an EDL `struct`: its fields in declaration order; a fixed array
//!   `[T; N]`: its `N` elements;
//! * a string (`[in, string]`/`[in, wstring]`): a 4-byte length, then that
//!   many UTF-8 bytes (no terminator; interior NULs are refused).
//!
//! A **request** (ECALL or OCALL) is: every by-value parameter in
//! declaration order (including the length parameters that `size=`/`count=`
//! name), then the contents of every `[in]` and `[in, out]` buffer in
//! declaration order. A buffer's element count is not sent again: the
//! receiver derives it from the length parameter (or the constant) that the
//! declaration names, checks it, and only then allocates. `[out]` buffers
//! travel only in the reply; the receiver allocates them zeroed, after the
//! same checks.
//!
//! A **reply** is: the return value (if not `void`), then for OCALLs with
//! `propagate_errno` a 4-byte `errno`, then the contents of every `[out]`
//! and `[in, out]` buffer in declaration order, with the element counts of
//! the request (an `[in, out, string]` buffer comes back with its length).
//!
//! # Bounds
//!
//! A [`Decoder`] reads a message that the receiver has copied into its own
//! memory (a runtime must copy a request out of shared memory before
//! decoding: each byte is then read once, so the sender cannot change it
//! between check and use). Every allocation is checked first against the
//! bytes actually present and against an allocation budget
//! ([`Limits::max_alloc`], [`DEFAULT_MAX_ALLOC`] = 64 MiB by default) that is
//! shared by all buffers of one message. Trailing bytes are an error.
//!
//! # For runtime authors
//!
//! Functions have stable indices: ECALLs and OCALLs are numbered separately,
//! from 0, in declaration order (an imported file's functions take the place
//! of its `from ... import` line). Generated code exposes them as
//! `ecall_index::NAME`/`ocall_index::NAME` and describes them in the tables
//! `ECALLS` ([`EcallInfo`]) and `OCALLS` ([`OcallInfo`]).
//!
//! * Host side: implement [`EcallTransport`] (send `index` + request into the
//!   enclave, wait for the reply) and hand it to the generated
//!   `EcallProxy::new(&transport, limits)`. When the enclave makes an OCALL,
//!   copy its request out of shared memory and call the generated
//!   `dispatch_ocall(&host_impl, index, &copy, limits)`; send back the `Ok`
//!   bytes as the reply.
//! * Enclave side: for each incoming ECALL, copy the request into enclave
//!   memory and call the generated `dispatch_ecall(&enclave_impl, &ocall_transport,
//!   caller, index, &copy, limits)`, where `caller` is [`Caller::Host`] for a
//!   top-level call and [`Caller::Ocall`] for an ECALL that arrives while an
//!   OCALL is running (it enforces `public` and the `allow(...)` lists via
//!   [`check_ecall_allowed`]). `ocall_transport` implements
//!   [`OcallTransport`]; the ECALL's implementation reaches it through the
//!   generated `OcallProxy` it is given.
//! * An `Err` from a dispatcher means the message was refused before any
//!   user code ran (or, for OCALL proxies, that the reply was malformed);
//!   a runtime reports it to the caller: as [`BridgeError::EcallFailed`]
//!   when the enclave refused or panicked, [`BridgeError::EnclaveLost`]
//!   when the enclave is gone, [`BridgeError::Transport`] otherwise.
//! * `transition_using_threads` is advisory: [`EcallInfo::switchless`] and
//!   [`OcallInfo::switchless`] tell a runtime which calls want switchless
//!   transitions.
#![forbid(unsafe_code)]

use std::fmt;

mod lost;

pub use lost::LostReason;

/// Default per-message allocation budget and message size bound: 64 MiB.
pub const DEFAULT_MAX_ALLOC: usize = 64 << 20;

/// Bounds applied when decoding one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes one message may make the receiver allocate, all buffers
    /// together; also the largest message accepted.
    pub max_alloc: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_alloc: DEFAULT_MAX_ALLOC,
        }
    }
}

/// A malformed or over-limit message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The message ended early.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes left.
        remaining: usize,
    },
    /// Bytes were left after the last field.
    TrailingBytes(usize),
    /// An allocation or the message would exceed the budget.
    TooLarge {
        /// Bytes asked for.
        requested: usize,
        /// Bytes still allowed.
        allowed: usize,
    },
    /// A length did not match the declaration (or two buffers sharing a
    /// length parameter differ).
    LengthMismatch {
        /// What the declaration implies.
        expected: usize,
        /// What was found.
        found: usize,
    },
    /// A length is negative, not a multiple of the element size, or does not
    /// fit its C type.
    BadLength,
    /// A string was not UTF-8.
    InvalidUtf8,
    /// A string contained a NUL byte.
    InteriorNul,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { needed, remaining } => {
                write!(
                    f,
                    "message truncated: need {needed} bytes, {remaining} left"
                )
            }
            WireError::TrailingBytes(n) => write!(f, "{n} unexpected bytes after the message"),
            WireError::TooLarge { requested, allowed } => {
                write!(f, "{requested} bytes requested, {allowed} allowed")
            }
            WireError::LengthMismatch { expected, found } => {
                write!(f, "length {found} where the declaration implies {expected}")
            }
            WireError::BadLength => write!(f, "invalid length"),
            WireError::InvalidUtf8 => write!(f, "string is not UTF-8"),
            WireError::InteriorNul => write!(f, "string contains a NUL byte"),
        }
    }
}

impl std::error::Error for WireError {}

/// A failed call across the boundary.
///
/// What a host does with an error from a generated proxy:
///
/// ```
/// use shield_edl::wire::BridgeError;
///
/// fn next_step(result: Result<u64, BridgeError>) -> &'static str {
///     match result {
///         Ok(_) => "carry on",
///         // The enclave is gone (crash, abort, heap, forbidden system call,
///         // kill): every later call fails too.
///         Err(BridgeError::EnclaveLost(_)) => "launch the enclave again",
///         // This call panicked or was refused; the enclave is still usable.
///         Err(BridgeError::EcallFailed { .. }) => "report this call's failure",
///         Err(_) => "bad message or transport: report it",
///     }
/// }
/// # use shield_edl::wire::LostReason;
/// # assert_eq!(next_step(Err(BridgeError::EnclaveLost(LostReason::Aborted))), "launch the enclave again");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BridgeError {
    /// A message could not be encoded or decoded.
    Wire(WireError),
    /// No function has this index.
    UnknownFunction(u32),
    /// A private ECALL was called from the host, or an ECALL was called from
    /// an OCALL whose `allow(...)` list does not name it.
    NotAllowed {
        /// The ECALL's index.
        ecall: u32,
    },
    /// The enclave is gone (a crash, an abort, its heap exhausted, a
    /// forbidden system call, a kill): this call and every later one fail
    /// the same way. Launch it again to carry on.
    EnclaveLost(LostReason),
    /// The ECALL failed inside the enclave: it panicked, or the enclave
    /// refused the request. The enclave is still usable.
    EcallFailed {
        /// The ECALL's index.
        index: u32,
        /// The enclave's explanation (a panic's message and place).
        reason: String,
    },
    /// The transport failed (set by runtimes): e.g. every TCS busy, a
    /// message too large for the channel, or the host's OCALL failed.
    Transport(String),
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeError::Wire(e) => write!(f, "bad message: {e}"),
            BridgeError::UnknownFunction(i) => write!(f, "no function with index {i}"),
            BridgeError::NotAllowed { ecall } => write!(f, "ECALL {ecall} not allowed here"),
            BridgeError::EnclaveLost(reason) => write!(f, "enclave lost: {reason}"),
            BridgeError::EcallFailed { index, reason } => {
                write!(f, "ECALL {index} failed inside the enclave: {reason}")
            }
            BridgeError::Transport(s) => write!(f, "transport: {s}"),
        }
    }
}

impl std::error::Error for BridgeError {}

impl From<WireError> for BridgeError {
    fn from(e: WireError) -> Self {
        BridgeError::Wire(e)
    }
}

/// How the host enters the enclave: implemented by the untrusted runtime.
/// `request` and the returned reply are encoded as described in the module
/// documentation; the trusted side decodes with [`Decoder`].
pub trait EcallTransport {
    /// Runs ECALL `index` with `request`, returns its reply.
    fn ecall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError>;
}

/// How the enclave calls out: implemented by the trusted runtime.
pub trait OcallTransport {
    /// Runs OCALL `index` with `request`, returns its reply.
    fn ocall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError>;
}

/// Who is making an ECALL: the host at top level, or the host from inside
/// an OCALL (a nested ECALL, permitted only by that OCALL's `allow` list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A top-level call: only `public` ECALLs.
    Host,
    /// A call made while OCALL `index` runs.
    Ocall(u32),
}

/// Facts about one ECALL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcallInfo {
    /// Its EDL name.
    pub name: &'static str,
    /// `public`.
    pub public: bool,
    /// `transition_using_threads`.
    pub switchless: bool,
}

/// Facts about one OCALL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OcallInfo {
    /// Its EDL name.
    pub name: &'static str,
    /// ECALL indices in its `allow(...)` list.
    pub allow: &'static [u32],
    /// `propagate_errno`.
    pub propagate_errno: bool,
    /// `transition_using_threads`.
    pub switchless: bool,
}

/// Whether `caller` may make ECALL `index`.
pub fn check_ecall_allowed(
    ecalls: &[EcallInfo],
    ocalls: &[OcallInfo],
    caller: Caller,
    index: u32,
) -> Result<(), BridgeError> {
    let Some(info) = ecalls.get(index as usize) else {
        return Err(BridgeError::UnknownFunction(index));
    };
    let ok = match caller {
        Caller::Host => info.public,
        Caller::Ocall(o) => ocalls
            .get(o as usize)
            .is_some_and(|o| o.allow.contains(&index)),
    };
    if ok {
        Ok(())
    } else {
        Err(BridgeError::NotAllowed { ecall: index })
    }
}

/// An OCALL result with the `errno` it left (`propagate_errno`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WithErrno<T> {
    /// The return value.
    pub value: T,
    /// The host's `errno` after the call.
    pub errno: i32,
}

/// Builds a message.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty message.
    pub fn new() -> Self {
        Encoder::default()
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Appends one value.
    pub fn put<T: Wire>(&mut self, v: &T) {
        v.encode(self);
    }

    /// Appends the elements of a slice (no length).
    pub fn slice<T: Wire>(&mut self, v: &[T]) {
        T::encode_all(v, self);
    }

    /// Appends a length-prefixed string, refusing interior NULs.
    pub fn str(&mut self, s: &str) -> Result<(), WireError> {
        if s.as_bytes().contains(&0) {
            return Err(WireError::InteriorNul);
        }
        self.byte_string(s.as_bytes())
    }

    /// Appends a length-prefixed byte string.
    pub fn byte_string(&mut self, b: &[u8]) -> Result<(), WireError> {
        let len = u32::try_from(b.len()).map_err(|_| WireError::BadLength)?;
        self.bytes(&len.to_le_bytes());
        self.bytes(b);
        Ok(())
    }

    /// The message.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads a message, with bounds. See the module documentation.
#[derive(Debug)]
pub struct Decoder<'a> {
    input: &'a [u8],
    budget: usize,
}

impl<'a> Decoder<'a> {
    /// Starts decoding `input` (a private copy) under `limits`.
    pub fn new(input: &'a [u8], limits: Limits) -> Result<Self, WireError> {
        if input.len() > limits.max_alloc {
            return Err(WireError::TooLarge {
                requested: input.len(),
                allowed: limits.max_alloc,
            });
        }
        Ok(Decoder {
            input,
            budget: limits.max_alloc,
        })
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.input.len()
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.input.len() {
            return Err(WireError::Truncated {
                needed: n,
                remaining: self.input.len(),
            });
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }

    /// Takes `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let b = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads one value.
    pub fn get<T: Wire>(&mut self) -> Result<T, WireError> {
        T::decode(self)
    }

    /// Charges `bytes` against the allocation budget.
    pub fn charge(&mut self, bytes: usize) -> Result<(), WireError> {
        if bytes > self.budget {
            return Err(WireError::TooLarge {
                requested: bytes,
                allowed: self.budget,
            });
        }
        self.budget -= bytes;
        Ok(())
    }

    fn charge_elems<T: Wire>(&mut self, n: usize) -> Result<(), WireError> {
        let per = T::WIRE_SIZE.max(size_of::<T>()).max(1);
        let bytes = n.checked_mul(per).ok_or(WireError::TooLarge {
            requested: usize::MAX,
            allowed: self.budget,
        })?;
        self.charge(bytes)
    }

    /// Reads `n` elements into a new vector, after checking that they are
    /// present and within budget.
    pub fn vec<T: Wire>(&mut self, n: usize) -> Result<Vec<T>, WireError> {
        let wire = n.checked_mul(T::WIRE_SIZE).ok_or(WireError::BadLength)?;
        if wire > self.input.len() {
            return Err(WireError::Truncated {
                needed: wire,
                remaining: self.input.len(),
            });
        }
        self.charge_elems::<T>(n)?;
        let mut v = Vec::with_capacity(n);
        v.resize_with(n, T::zeroed);
        T::decode_all(&mut v, self)?;
        Ok(v)
    }

    /// A new vector of `n` zeroed elements (an `[out]` buffer), within budget.
    pub fn zeroed_vec<T: Wire>(&mut self, n: usize) -> Result<Vec<T>, WireError> {
        self.charge_elems::<T>(n)?;
        let mut v = Vec::with_capacity(n);
        v.resize_with(n, T::zeroed);
        Ok(v)
    }

    /// Reads `out.len()` elements into `out` (no allocation).
    pub fn fill<T: Wire>(&mut self, out: &mut [T]) -> Result<(), WireError> {
        let wire = out
            .len()
            .checked_mul(T::WIRE_SIZE)
            .ok_or(WireError::BadLength)?;
        if wire > self.input.len() {
            return Err(WireError::Truncated {
                needed: wire,
                remaining: self.input.len(),
            });
        }
        T::decode_all(out, self)
    }

    /// Reads a length-prefixed byte string, within budget.
    pub fn byte_string(&mut self) -> Result<Vec<u8>, WireError> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        let b = self.take(len)?;
        self.charge(len)?;
        Ok(b.to_vec())
    }

    /// Reads a length-prefixed UTF-8 string without NULs, within budget.
    pub fn string(&mut self) -> Result<String, WireError> {
        let b = self.byte_string()?;
        if b.contains(&0) {
            return Err(WireError::InteriorNul);
        }
        String::from_utf8(b).map_err(|_| WireError::InvalidUtf8)
    }

    /// Ends decoding: no bytes may be left.
    pub fn finish(self) -> Result<(), WireError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes(self.input.len()))
        }
    }
}

/// Converts a decoded length parameter to an element count: checks it is not
/// negative, and for `size=` (in bytes) that it is a multiple of the element
/// size `elem`.
pub fn element_count<L: TryInto<usize>>(
    len: L,
    elem: usize,
    is_size: bool,
) -> Result<usize, WireError> {
    let len: usize = len.try_into().map_err(|_| WireError::BadLength)?;
    if !is_size {
        return Ok(len);
    }
    let elem = elem.max(1);
    if !len.is_multiple_of(elem) {
        return Err(WireError::BadLength);
    }
    Ok(len / elem)
}

/// Converts a slice length (elements) to the value of a length parameter of
/// C type `L` (`size=` counts bytes, `count=` elements).
pub fn length_value<L: TryFrom<usize>>(
    elems: usize,
    elem: usize,
    is_size: bool,
) -> Result<L, WireError> {
    let v = if is_size {
        elems.checked_mul(elem).ok_or(WireError::BadLength)?
    } else {
        elems
    };
    L::try_from(v).map_err(|_| WireError::BadLength)
}

/// Checks that two lengths agree.
pub fn same_length(expected: usize, found: usize) -> Result<(), WireError> {
    if expected == found {
        Ok(())
    } else {
        Err(WireError::LengthMismatch { expected, found })
    }
}

/// A type with a fixed-size encoding.
pub trait Wire: Sized {
    /// Encoded size in bytes.
    const WIRE_SIZE: usize;
    /// Appends the encoding.
    fn encode(&self, enc: &mut Encoder);
    /// Reads one value.
    fn decode(dec: &mut Decoder<'_>) -> Result<Self, WireError>;
    /// The all-zero value (for `[out]` buffers).
    fn zeroed() -> Self;
    /// Appends every element of `items` (bulk types override this with a
    /// single copy).
    fn encode_all(items: &[Self], enc: &mut Encoder) {
        for item in items {
            item.encode(enc);
        }
    }
    /// Fills `out` from the input, whose length the caller has checked.
    fn decode_all(out: &mut [Self], dec: &mut Decoder<'_>) -> Result<(), WireError> {
        for item in out {
            *item = Self::decode(dec)?;
        }
        Ok(())
    }
}

macro_rules! wire_num {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const WIRE_SIZE: usize = size_of::<$t>();
            fn encode(&self, enc: &mut Encoder) {
                enc.bytes(&self.to_le_bytes());
            }
            fn decode(dec: &mut Decoder<'_>) -> Result<Self, WireError> {
                Ok(<$t>::from_le_bytes(dec.array()?))
            }
            fn zeroed() -> Self {
                0 as $t
            }
        }
    )*};
}

wire_num!(i8, u16, i16, u32, i32, u64, i64, f32, f64);

/// Bytes are the bulk of most messages: copied whole, not one by one.
impl Wire for u8 {
    const WIRE_SIZE: usize = 1;
    fn encode(&self, enc: &mut Encoder) {
        enc.bytes(&[*self]);
    }
    fn decode(dec: &mut Decoder<'_>) -> Result<Self, WireError> {
        Ok(dec.array::<1>()?[0])
    }
    fn zeroed() -> Self {
        0
    }
    fn encode_all(items: &[Self], enc: &mut Encoder) {
        enc.bytes(items);
    }
    fn decode_all(out: &mut [Self], dec: &mut Decoder<'_>) -> Result<(), WireError> {
        out.copy_from_slice(dec.take(out.len())?);
        Ok(())
    }
}

impl Wire for usize {
    const WIRE_SIZE: usize = 8;
    fn encode(&self, enc: &mut Encoder) {
        enc.bytes(&(*self as u64).to_le_bytes());
    }
    fn decode(dec: &mut Decoder<'_>) -> Result<Self, WireError> {
        usize::try_from(u64::from_le_bytes(dec.array()?)).map_err(|_| WireError::BadLength)
    }
    fn zeroed() -> Self {
        0
    }
}

impl<T: Wire, const N: usize> Wire for [T; N] {
    const WIRE_SIZE: usize = T::WIRE_SIZE * N;
    fn encode(&self, enc: &mut Encoder) {
        enc.slice(self);
    }
    fn decode(dec: &mut Decoder<'_>) -> Result<Self, WireError> {
        let mut out: [T; N] = std::array::from_fn(|_| T::zeroed());
        dec.fill(&mut out)?;
        Ok(out)
    }
    fn zeroed() -> Self {
        std::array::from_fn(|_| T::zeroed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_before_allocating() {
        let mut d = Decoder::new(&[], Limits { max_alloc: 16 }).unwrap();
        assert!(matches!(
            d.zeroed_vec::<u64>(3),
            Err(WireError::TooLarge { .. })
        ));
        assert!(d.zeroed_vec::<u64>(2).is_ok());
        assert!(d.zeroed_vec::<u8>(1).is_err());
    }

    #[test]
    fn vec_checks_presence_first() {
        let bytes = [0u8; 8];
        let mut d = Decoder::new(&bytes, Limits::default()).unwrap();
        assert!(matches!(
            d.vec::<u32>(usize::MAX / 2),
            Err(WireError::BadLength)
        ));
        assert!(matches!(d.vec::<u32>(3), Err(WireError::Truncated { .. })));
        assert_eq!(d.vec::<u32>(2).unwrap(), vec![0, 0]);
        d.finish().unwrap();
    }

    #[test]
    fn strings() {
        let mut e = Encoder::new();
        e.str("héllo").unwrap();
        assert_eq!(Encoder::new().str("a\0b"), Err(WireError::InteriorNul));
        let m = e.finish();
        let mut d = Decoder::new(&m, Limits::default()).unwrap();
        assert_eq!(d.string().unwrap(), "héllo");
        d.finish().unwrap();
    }

    #[test]
    fn lengths() {
        assert_eq!(element_count(12u32, 4, true), Ok(3));
        assert_eq!(element_count(13u32, 4, true), Err(WireError::BadLength));
        assert_eq!(element_count(-1i32, 4, false), Err(WireError::BadLength));
        assert_eq!(length_value::<u8>(300, 1, false), Err(WireError::BadLength));
        assert_eq!(length_value::<u32>(3, 4, true), Ok(12));
    }

    #[test]
    fn allow_lists() {
        const E: &[EcallInfo] = &[
            EcallInfo {
                name: "a",
                public: true,
                switchless: false,
            },
            EcallInfo {
                name: "b",
                public: false,
                switchless: false,
            },
        ];
        const O: &[OcallInfo] = &[OcallInfo {
            name: "o",
            allow: &[1],
            propagate_errno: false,
            switchless: false,
        }];
        assert!(check_ecall_allowed(E, O, Caller::Host, 0).is_ok());
        assert!(check_ecall_allowed(E, O, Caller::Host, 1).is_err());
        assert!(check_ecall_allowed(E, O, Caller::Ocall(0), 1).is_ok());
        assert!(check_ecall_allowed(E, O, Caller::Ocall(0), 0).is_err());
        assert!(check_ecall_allowed(E, O, Caller::Host, 2).is_err());
    }
}
