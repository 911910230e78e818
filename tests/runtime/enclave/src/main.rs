//! The runtime test enclave: each ECALL exercises one promise of the
//! trusted and untrusted runtimes (see tests/runtime/host/tests).
#![forbid(unsafe_code)]

mod bridge {
    #![allow(unreachable_pub, missing_docs, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/runtime_t.rs"));
}

use bridge::{Ecalls, OcallProxy, pair};
use shield_enclave::wire::Limits;
use shield_sgx::isa::Targetinfo;
use shield_sgx::keys::policy;

struct Tests;

impl Ecalls for Tests {
    #[allow(clippy::too_many_arguments)]
    fn ecall_args(
        &self,
        _: &OcallProxy<'_>,
        c: i8,
        s: i16,
        i: i32,
        l: i64,
        u: u32,
        ul: u64,
        f: f32,
        d: f64,
        z: usize,
        input: &[u8],
        output: &mut [u8],
        inout: &mut [i32],
        text: &str,
        pairs: &[pair],
        fixed: &[u16; 4],
        single: &mut pair,
    ) -> i64 {
        for (o, byte) in output
            .iter_mut()
            .zip(input.iter().rev().chain(std::iter::repeat(&0xee)))
        {
            *o = *byte;
        }
        for v in inout.iter_mut() {
            *v = v.wrapping_mul(2);
        }
        *single = pair {
            a: pairs.len() as i32,
            b: pairs.iter().map(|p| p.b).sum(),
        };
        let scalars = i64::from(c) + i64::from(s) + i64::from(i) + l + i64::from(u) + ul as i64;
        let floats = (f64::from(f) + d) as i64 + z as i64;
        let buffers = input.iter().map(|&b| i64::from(b)).sum::<i64>() + text.len() as i64;
        let pairs_sum = pairs.iter().map(|p| i64::from(p.a)).sum::<i64>();
        scalars + floats + buffers + pairs_sum + fixed.iter().map(|&x| i64::from(x)).sum::<i64>()
    }

    fn ecall_empty(&self, _: &OcallProxy<'_>) {}

    fn ecall_bytes(&self, _: &OcallProxy<'_>, input: &[u8], output: &mut [u8]) {
        output.copy_from_slice(input);
    }

    fn ecall_with_ocall(&self, ocalls: &OcallProxy<'_>, x: i32) -> i32 {
        ocalls.ocall_add_one(x).unwrap_or(-1)
    }

    fn ecall_ocall_current_tcs(&self, _: &OcallProxy<'_>, x: i32) -> i32 {
        OcallProxy::new(&shield_enclave::CurrentTcs, Limits::default())
            .ocall_add_one(x)
            .unwrap_or(-1)
    }

    fn ecall_nested(&self, ocalls: &OcallProxy<'_>, x: i32) -> i32 {
        ocalls.ocall_call_back(x).unwrap_or(-1)
    }

    fn ecall_private(&self, _: &OcallProxy<'_>, x: i32) -> i32 {
        x * 10
    }

    fn ecall_refused_nested(&self, ocalls: &OcallProxy<'_>, x: i32) -> i32 {
        ocalls.ocall_try_private(x).unwrap_or(-1)
    }

    fn ecall_block(&self, ocalls: &OcallProxy<'_>) {
        let _ = ocalls.ocall_block();
    }

    fn ecall_open_file(&self, _: &OcallProxy<'_>) {
        // Forbidden inside an enclave: this ends the enclave.
        let _ = std::fs::File::open("/etc/hostname");
    }

    fn ecall_panic(&self, _: &OcallProxy<'_>) {
        panic!("deliberate panic inside an ECALL");
    }

    fn ecall_abort(&self, _: &OcallProxy<'_>) {
        std::process::abort();
    }

    fn ecall_oom(&self, _: &OcallProxy<'_>) {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
        }
    }

    fn ecall_seal_key(&self, _: &OcallProxy<'_>, key: &mut [u8]) {
        // Our own ISVSVN comes from a self-report.
        let me = shield_enclave::ereport(&Targetinfo::default(), &[0; 64]).expect("EREPORT");
        let derived = shield_enclave::seal_key(policy::MRENCLAVE, me.isvsvn, me.cpusvn, [7; 32])
            .expect("EGETKEY");
        key.copy_from_slice(&derived[..]);
    }
}

fn main() {
    shield_enclave::run(
        |ocalls: &dyn shield_enclave::wire::OcallTransport, caller, index, request: &[u8]| {
            bridge::dispatch_ecall(&Tests, ocalls, caller, index, request, Limits::default())
        },
    );
}
