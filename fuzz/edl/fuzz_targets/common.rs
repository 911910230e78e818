// Shared by the decoder fuzz targets: the generated code for roundtrip.edl
// and do-nothing implementations of both traits.
#[allow(dead_code, unreachable_pub, clippy::all)]
pub mod t {
    include!("../../../crates/edl/tests/generated/roundtrip_t.rs");
}
#[allow(dead_code, unreachable_pub, clippy::all)]
pub mod u {
    include!("../../../crates/edl/tests/generated/roundtrip_u.rs");
}

use shield_edl::wire::{BridgeError, EcallTransport, OcallTransport, Wire, WithErrno};

pub struct Enclave;

impl t::Ecalls for Enclave {
    fn ecall_scalars(
        &self,
        _: &t::OcallProxy<'_>,
        _: i8,
        _: i16,
        i: i32,
        _: i64,
        _: i64,
        _: u32,
        _: u64,
        _: f32,
        _: f64,
        _: usize,
        _: i32,
        _: u8,
        _: i64,
    ) -> i32 {
        i
    }
    fn ecall_in_bytes(&self, _: &t::OcallProxy<'_>, buf: &[u8]) -> u64 {
        buf.len() as u64
    }
    fn ecall_out_bytes(&self, _: &t::OcallProxy<'_>, buf: &mut [u8]) {
        buf.fill(1)
    }
    fn ecall_inout_count(&self, _: &t::OcallProxy<'_>, vals: &mut [i32]) {
        vals.reverse()
    }
    fn ecall_string(&self, _: &t::OcallProxy<'_>, s: &str, ws: &str) -> usize {
        s.len() + ws.len()
    }
    fn ecall_string_inout(&self, _: &t::OcallProxy<'_>, s: &mut [u8]) {
        s.reverse()
    }
    fn ecall_structs(
        &self,
        _: &t::OcallProxy<'_>,
        recs: &[t::record],
        out: &mut t::point,
        v: t::point,
    ) -> t::record {
        *out = v;
        recs.first().copied().unwrap_or_else(t::record::zeroed)
    }
    fn ecall_enum(&self, _: &t::OcallProxy<'_>, c: t::color) -> t::color {
        c
    }
    fn ecall_arrays(
        &self,
        _: &t::OcallProxy<'_>,
        _: &[i32; 4],
        _: &mut [[u16; 3]; 2],
        _: &mut [f64; 2],
    ) {
    }
    fn ecall_shared_len(&self, _: &t::OcallProxy<'_>, a: &[u32], b: &mut [u32]) {
        b.copy_from_slice(a)
    }
    fn ecall_const_len(&self, _: &t::OcallProxy<'_>, _: &[u8], _: &mut [u32]) {}
    fn ecall_single(&self, _: &t::OcallProxy<'_>, _: &t::point, _: &mut i64, _: &mut f64) {}
    fn ecall_private(&self, _: &t::OcallProxy<'_>, x: i32) -> i32 {
        x
    }
    fn ecall_calls_out(&self, o: &t::OcallProxy<'_>, x: i32) -> i32 {
        let _ = o.ocall_log("x");
        let _ = o.ocall_errno(x);
        let _ = o.ocall_void_errno();
        let mut buf = vec![0u8; (x as u32 % 64) as usize];
        let _ = o.ocall_fill(
            &mut buf,
            &[t::point { x: 1, y: 2 }, t::point { x: 3, y: 4 }],
        );
        x
    }
}

pub struct Host;

impl u::Ocalls for Host {
    fn ocall_log(&self, _: &str) {}
    fn ocall_errno(&self, x: i32) -> WithErrno<i32> {
        WithErrno { value: x, errno: 1 }
    }
    fn ocall_void_errno(&self) -> WithErrno<()> {
        WithErrno {
            value: (),
            errno: 2,
        }
    }
    fn ocall_fill(&self, buf: &mut [u8], pts: &[u::point]) -> u32 {
        buf.fill(3);
        pts.len() as u32
    }
}

/// A transport that answers every call with the same (fuzzed) bytes.
pub struct Canned<'a>(pub &'a [u8]);

impl EcallTransport for Canned<'_> {
    fn ecall(&self, _: u32, _: &[u8]) -> Result<Vec<u8>, BridgeError> {
        Ok(self.0.to_vec())
    }
}

impl OcallTransport for Canned<'_> {
    fn ocall(&self, _: u32, _: &[u8]) -> Result<Vec<u8>, BridgeError> {
        Ok(self.0.to_vec())
    }
}
