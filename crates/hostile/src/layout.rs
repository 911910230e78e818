//! The untrusted half of an EDL as the wire carries it: for each OCALL,
//! which parameters its request holds and which fields its reply holds,
//! with their sizes. Derived from the checked EDL (`shield_edl::check`)
//! by the rules of `shield_edl::wire`, so the adversary can decode any
//! request and rewrite any reply field without generated code.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use shield_edl::ir::{self, ArrayLen, Direction, Len, Prim, Type, TypeDef};
use shield_edl::wire::{Decoder, Limits};

/// Deepest nesting of EDL structs followed (the EDL checker allows 32).
const MAX_DEPTH: usize = 40;

/// A scalar's encoding: its width in bytes, and whether it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scalar {
    /// 1, 2, 4 or 8.
    pub bytes: usize,
    /// A signed integer (floats count as unsigned bit patterns).
    pub signed: bool,
}

impl Scalar {
    /// Decodes a little-endian value of this width, sign-extended if signed.
    pub fn read(self, bytes: &[u8]) -> i128 {
        let mut word = [0u8; 8];
        word[..self.bytes].copy_from_slice(&bytes[..self.bytes]);
        let raw = u64::from_le_bytes(word);
        let shift = 64 - 8 * self.bytes as u32;
        if self.signed {
            i128::from(((raw << shift) as i64) >> shift)
        } else {
            i128::from(raw)
        }
    }

    /// Writes the low bytes of `value` (two's complement), little-endian.
    pub fn write(self, value: i128, out: &mut [u8]) {
        out[..self.bytes].copy_from_slice(&value.to_le_bytes()[..self.bytes]);
    }

    /// The bit patterns a lying host tries: 0, 1, all ones (-1 or the
    /// unsigned maximum), the sign bit alone (the signed minimum) and the
    /// signed maximum.
    pub fn extremes(self) -> [i128; 5] {
        let bits = 8 * self.bytes as u32;
        let all = (1i128 << bits) - 1;
        [0, 1, all, 1i128 << (bits - 1), all >> 1]
    }
}

/// How one parameter (or the return value) is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// One scalar (or an EDL enum, a 4-byte int).
    Scalar(Scalar),
    /// A fixed number of bytes: an EDL struct or a fixed array.
    Fixed(usize),
    /// Elements counted by a length: `size=` (bytes, divided by the
    /// element's C size) or `count=`.
    Slice {
        /// Bytes per element on the wire.
        elem_wire: usize,
        /// Bytes per element in C (`size=` counts these).
        elem_c: usize,
        /// Where the length comes from.
        len: Len,
        /// `size=` rather than `count=`.
        is_size: bool,
    },
    /// `[string]`/`[wstring]`: 4-byte length then the bytes in requests;
    /// an `[in, out]` one comes back as bare bytes of that length.
    Str,
}

/// One parameter.
#[derive(Debug, Clone)]
pub struct ParamLayout {
    /// Its EDL name.
    pub name: String,
    /// `Direction::None` for a by-value parameter.
    pub dir: Direction,
    /// Its encoding.
    pub shape: Shape,
}

/// One OCALL's request and reply.
#[derive(Debug, Clone)]
pub struct OcallLayout {
    /// Its EDL name.
    pub name: String,
    /// Its index among the OCALLs.
    pub index: u32,
    /// The return value, unless `void`.
    pub ret: Option<Shape>,
    /// `propagate_errno`: a 4-byte errno follows the return value.
    pub errno: bool,
    /// Its parameters, in declaration order.
    pub params: Vec<ParamLayout>,
}

/// A decoded request: the value of every scalar by-value parameter and the
/// contents of every `[in]` buffer, by parameter position.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Scalar by-value parameters (sign-extended when signed).
    pub values: Vec<Option<i128>>,
    /// `[in]` and `[in, out]` contents (strings without their length).
    pub inputs: Vec<Option<Vec<u8>>>,
}

/// One field of a reply, located in its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// `return`, `errno`, or the parameter's name.
    pub name: String,
    /// A scalar field's encoding; `None` for bytes.
    pub scalar: Option<Scalar>,
    /// Where it is in the reply.
    pub range: Range<usize>,
}

/// Why an EDL cannot be attacked, or a message does not fit its layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError(pub String);

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LayoutError {}

fn err(text: impl Into<String>) -> LayoutError {
    LayoutError(text.into())
}

/// The untrusted interface of one EDL.
#[derive(Debug, Clone)]
pub struct Interface {
    ocalls: Vec<OcallLayout>,
}

impl Interface {
    /// Reads and checks `edl` (imports searched in `search_paths`).
    pub fn load(edl: impl AsRef<Path>, search_paths: &[PathBuf]) -> Result<Self, LayoutError> {
        let enclave = shield_edl::check(edl.as_ref(), search_paths)
            .map_err(|e| err(format!("{}: {e}", edl.as_ref().display())))?;
        Self::from_ir(&enclave)
    }

    /// From an already checked EDL.
    pub fn from_ir(enclave: &ir::Enclave) -> Result<Self, LayoutError> {
        let types = Types::new(enclave);
        let ocalls = enclave
            .ocalls
            .iter()
            .map(|f| types.ocall(f))
            .collect::<Result<_, _>>()?;
        Ok(Self { ocalls })
    }

    /// Every OCALL, by index.
    pub fn ocalls(&self) -> &[OcallLayout] {
        &self.ocalls
    }

    /// The OCALL with this index.
    pub fn ocall(&self, index: u32) -> Option<&OcallLayout> {
        self.ocalls.get(index as usize)
    }

    /// The OCALL with this name.
    pub fn by_name(&self, name: &str) -> Option<&OcallLayout> {
        self.ocalls.iter().find(|o| o.name == name)
    }
}

/// Sizes of the EDL's own types.
struct Types<'a> {
    defs: HashMap<&'a str, &'a TypeDef>,
}

fn prim_scalar(p: Prim) -> Scalar {
    let (bytes, signed) = match p {
        Prim::Char | Prim::SChar | Prim::I8 => (1, true),
        Prim::UChar | Prim::U8 => (1, false),
        Prim::Short | Prim::I16 => (2, true),
        Prim::UShort | Prim::U16 => (2, false),
        Prim::Int | Prim::I32 | Prim::WcharT => (4, true),
        Prim::UInt | Prim::U32 | Prim::Float => (4, false),
        Prim::Long | Prim::LongLong | Prim::I64 => (8, true),
        Prim::ULong | Prim::ULongLong | Prim::U64 | Prim::Double | Prim::SizeT => (8, false),
    };
    Scalar { bytes, signed }
}

impl<'a> Types<'a> {
    fn new(enclave: &'a ir::Enclave) -> Self {
        let mut defs = HashMap::new();
        for t in &enclave.types {
            match t {
                TypeDef::Struct(c) | TypeDef::Union(c) => {
                    defs.insert(c.name.as_str(), t);
                }
                TypeDef::Enum(e) => {
                    if let Some(n) = &e.name {
                        defs.insert(n.as_str(), t);
                    }
                }
            }
        }
        Self { defs }
    }

    /// (wire bytes, C size, C alignment) of one value of `ty`.
    fn sizes(&self, ty: &Type, depth: usize) -> Result<(usize, usize, usize), LayoutError> {
        if depth > MAX_DEPTH {
            return Err(err("types nested too deeply"));
        }
        match ty {
            Type::Prim(p) => {
                let b = prim_scalar(*p).bytes;
                Ok((b, b, b))
            }
            Type::Enum(_) => Ok((4, 4, 4)),
            Type::Struct(name) => {
                let Some(TypeDef::Struct(c)) = self.defs.get(name.as_str()) else {
                    return Err(err(format!("struct `{name}` is not defined in the EDL")));
                };
                let (mut wire, mut size, mut align) = (0usize, 0usize, 1usize);
                for f in &c.fields {
                    let (w, s, a) = self.sizes(&f.ty, depth + 1)?;
                    let n = array_len(&f.dims)?;
                    wire = wire.saturating_add(w.saturating_mul(n));
                    size = size.next_multiple_of(a).saturating_add(s.saturating_mul(n));
                    align = align.max(a);
                }
                Ok((wire, size.next_multiple_of(align), align))
            }
            other => Err(err(format!("type {other:?} cannot cross the boundary"))),
        }
    }

    fn value_shape(&self, ty: &Type) -> Result<Shape, LayoutError> {
        Ok(match ty {
            Type::Prim(p) => Shape::Scalar(prim_scalar(*p)),
            Type::Enum(_) => Shape::Scalar(Scalar {
                bytes: 4,
                signed: true,
            }),
            other => Shape::Fixed(self.sizes(other, 0)?.0),
        })
    }

    fn param(&self, p: &ir::Param) -> Result<ParamLayout, LayoutError> {
        let a = &p.attrs;
        let shape = if a.dir == Direction::None {
            self.value_shape(&p.ty)?
        } else if !p.dims.is_empty() {
            let (wire, _, _) = self.sizes(&p.ty, 0)?;
            Shape::Fixed(wire.saturating_mul(array_len(&p.dims)?))
        } else {
            let Type::Pointer { to, .. } = &p.ty else {
                return Err(err(format!("`{}`: a direction on a value", p.name)));
            };
            if a.string || a.wstring {
                Shape::Str
            } else {
                let (elem_wire, elem_c, _) = if **to == Type::Void {
                    (1, 1, 1)
                } else {
                    self.sizes(to, 0)?
                };
                match (a.size, a.count) {
                    (None, None) => match self.value_shape(to)? {
                        Shape::Scalar(s) if **to != Type::Void => Shape::Scalar(s),
                        _ => Shape::Fixed(elem_wire),
                    },
                    (Some(len), None) => Shape::Slice {
                        elem_wire,
                        elem_c,
                        len,
                        is_size: true,
                    },
                    (None, Some(len)) => Shape::Slice {
                        elem_wire,
                        elem_c,
                        len,
                        is_size: false,
                    },
                    (Some(_), Some(_)) => {
                        return Err(err(format!("`{}`: both size= and count=", p.name)));
                    }
                }
            }
        };
        Ok(ParamLayout {
            name: p.name.clone(),
            dir: a.dir,
            shape,
        })
    }

    fn ocall(&self, f: &ir::Function) -> Result<OcallLayout, LayoutError> {
        let ret = match &f.ret {
            Type::Void => None,
            t => Some(self.value_shape(t)?),
        };
        let params = f
            .params
            .iter()
            .map(|p| self.param(p))
            .collect::<Result<_, _>>()
            .map_err(|e| err(format!("{}: {e}", f.name)))?;
        Ok(OcallLayout {
            name: f.name.clone(),
            index: f.index,
            ret,
            errno: f.propagate_errno,
            params,
        })
    }
}

fn array_len(dims: &[ArrayLen]) -> Result<usize, LayoutError> {
    dims.iter().try_fold(1usize, |n, d| match d {
        ArrayLen::Const(c) => Ok(n.saturating_mul(usize::try_from(*c).unwrap_or(usize::MAX))),
        ArrayLen::Foreign(name) => Err(err(format!("array size `{name}` from a C header"))),
    })
}

fn fixed_bytes(shape: &Shape) -> Option<usize> {
    match shape {
        Shape::Scalar(s) => Some(s.bytes),
        Shape::Fixed(n) => Some(*n),
        _ => None,
    }
}

impl OcallLayout {
    /// Elements of a slice parameter, from the request's values.
    fn count(&self, shape: &Shape, request: &Request) -> Result<usize, LayoutError> {
        let Shape::Slice {
            elem_c,
            len,
            is_size,
            ..
        } = shape
        else {
            return Ok(1);
        };
        let value =
            match len {
                Len::Const(c) => i128::from(*c),
                Len::Param(i) => request.values.get(*i).copied().flatten().ok_or_else(|| {
                    err(format!("{}: length parameter {i} has no value", self.name))
                })?,
            };
        let value = usize::try_from(value).map_err(|_| err("negative length"))?;
        Ok(if *is_size {
            value / (*elem_c).max(1)
        } else {
            value
        })
    }

    /// Decodes a request the enclave sent (it is well-formed: the
    /// enclave's generated proxy encoded it).
    pub fn decode_request(&self, bytes: &[u8]) -> Result<Request, LayoutError> {
        let wire = |e: shield_edl::wire::WireError| err(format!("{}: request: {e}", self.name));
        let mut dec = Decoder::new(bytes, Limits::default()).map_err(wire)?;
        let mut request = Request {
            values: vec![None; self.params.len()],
            inputs: vec![None; self.params.len()],
        };
        for (i, p) in self.params.iter().enumerate() {
            if p.dir != Direction::None {
                continue;
            }
            let n = fixed_bytes(&p.shape).ok_or_else(|| err("a by-value buffer"))?;
            let b = dec.take(n).map_err(wire)?;
            if let Shape::Scalar(s) = p.shape {
                request.values[i] = Some(s.read(b));
            }
        }
        for (i, p) in self.params.iter().enumerate() {
            if !matches!(p.dir, Direction::In | Direction::InOut) {
                continue;
            }
            let data = match &p.shape {
                Shape::Str => dec.byte_string().map_err(wire)?,
                shape => {
                    let n = match shape {
                        Shape::Slice { elem_wire, .. } => self
                            .count(shape, &request)?
                            .checked_mul(*elem_wire)
                            .ok_or_else(|| err("length overflow"))?,
                        other => fixed_bytes(other).unwrap_or(0),
                    };
                    dec.take(n).map_err(wire)?.to_vec()
                }
            };
            request.inputs[i] = Some(data);
        }
        dec.finish().map_err(wire)?;
        Ok(request)
    }

    /// Where each field of the reply to `request` lies.
    pub fn reply_fields(&self, request: &Request) -> Result<Vec<Field>, LayoutError> {
        let mut fields = Vec::new();
        let mut at = 0usize;
        let mut push = |name: &str, scalar: Option<Scalar>, len: usize| {
            fields.push(Field {
                name: name.to_owned(),
                scalar,
                range: at..at + len,
            });
            at += len;
        };
        if let Some(ret) = &self.ret {
            let scalar = match ret {
                Shape::Scalar(s) => Some(*s),
                _ => None,
            };
            push("return", scalar, fixed_bytes(ret).unwrap_or(0));
        }
        if self.errno {
            let int = Scalar {
                bytes: 4,
                signed: true,
            };
            push("errno", Some(int), 4);
        }
        for (i, p) in self.params.iter().enumerate() {
            if !matches!(p.dir, Direction::Out | Direction::InOut) {
                continue;
            }
            match &p.shape {
                Shape::Scalar(s) => push(&p.name, Some(*s), s.bytes),
                Shape::Fixed(n) => push(&p.name, None, *n),
                Shape::Str => {
                    let n = request.inputs[i].as_ref().map_or(0, Vec::len);
                    push(&p.name, None, n);
                }
                shape @ Shape::Slice { elem_wire, .. } => {
                    let n = self
                        .count(shape, request)?
                        .checked_mul(*elem_wire)
                        .ok_or_else(|| err("length overflow"))?;
                    push(&p.name, None, n);
                }
            }
        }
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shield_edl::wire::Encoder;

    const EDL: &str = r#"
        enclave {
            struct pair { uint16_t a; uint64_t b; };
            trusted { public void ecall_x(void); };
            untrusted {
                int32_t ocall_read(uint64_t offset, [out, size=cap] uint8_t* buf, size_t cap,
                                   [out] uint64_t* got);
                int64_t ocall_time(void);
                void ocall_put([in, string] const char* name, [in, count=n] const struct pair* p,
                               size_t n, [out] struct pair* back) propagate_errno;
            };
        };
    "#;

    fn interface() -> Interface {
        Interface::from_ir(&shield_edl::check_str("t.edl", EDL).unwrap()).unwrap()
    }

    #[test]
    fn requests_decode_and_replies_are_located() {
        let i = interface();
        let read = i.by_name("ocall_read").unwrap();
        let mut e = Encoder::new();
        e.put(&7u64);
        e.put(&100usize);
        let request = read.decode_request(&e.finish()).unwrap();
        assert_eq!(request.values[0], Some(7));
        assert_eq!(request.values[2], Some(100));
        let fields = read.reply_fields(&request).unwrap();
        let spans: Vec<_> = fields
            .iter()
            .map(|f| (f.name.as_str(), f.range.clone()))
            .collect();
        assert_eq!(
            spans,
            [("return", 0..4), ("buf", 4..104), ("got", 104..112)]
        );
        assert!(fields[0].scalar.unwrap().signed);
        assert!(fields[1].scalar.is_none());
    }

    #[test]
    fn structs_strings_and_errno() {
        let i = interface();
        let put = i.by_name("ocall_put").unwrap();
        let mut e = Encoder::new();
        e.put(&2usize);
        e.str("name").unwrap();
        e.bytes(&[9; 20]);
        let request = put.decode_request(&e.finish()).unwrap();
        assert_eq!(request.inputs[0].as_deref(), Some(&b"name"[..]));
        assert_eq!(request.inputs[1].as_ref().map(Vec::len), Some(20));
        let fields = put.reply_fields(&request).unwrap();
        let spans: Vec<_> = fields
            .iter()
            .map(|f| (f.name.as_str(), f.range.clone()))
            .collect();
        assert_eq!(spans, [("errno", 0..4), ("back", 4..14)]);
        // A request that does not match the layout is an error, not a panic.
        assert!(put.decode_request(&[1, 2, 3]).is_err());
    }

    #[test]
    fn extremes_are_the_edges_of_each_width() {
        let s = Scalar {
            bytes: 4,
            signed: true,
        };
        assert_eq!(s.extremes(), [0, 1, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff]);
        let mut out = [0u8; 4];
        s.write(0x8000_0000, &mut out);
        assert_eq!(s.read(&out), i128::from(i32::MIN));
        let u = Scalar {
            bytes: 8,
            signed: false,
        };
        u.write(-1, &mut [0u8; 8]);
        assert_eq!(u.read(&[0xff; 8]), i128::from(u64::MAX));
    }
}
