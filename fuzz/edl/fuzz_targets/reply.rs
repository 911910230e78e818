#![no_main]
use libfuzzer_sys::fuzz_target;
use shield_edl::wire::Limits;

mod common;
use common::{Canned, Host, u};

// Input: [selector][limit] then bytes used as an ECALL reply (for the
// untrusted proxies) or as an OCALL request (for the untrusted dispatcher).
fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let limits = if data[1] & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_alloc: usize::from(data[1]) * 4,
        }
    };
    let bytes = &data[2..];
    let sel = data[0];
    if sel >= 128 {
        let _ = u::dispatch_ocall(&Host, u32::from(sel % 8), bytes, limits);
        return;
    }
    let canned = Canned(bytes);
    let p = u::EcallProxy::new(&canned, limits);
    match sel % 12 {
        0 => drop(p.ecall_scalars(1, 2, 3, 4, 5, 6, 7, 8.0, 9.0, 10, 11, 12, 13)),
        1 => drop(p.ecall_in_bytes(&[1, 2, 3])),
        2 => drop(p.ecall_out_bytes(&mut [0u8; 7])),
        3 => drop(p.ecall_inout_count(&mut [1, 2, 3])),
        4 => drop(p.ecall_string("a", "b")),
        5 => drop(p.ecall_string_inout(&mut [b'a'; 3])),
        6 => drop(p.ecall_structs(&[], &mut u::point { x: 0, y: 0 }, u::point { x: 1, y: 2 })),
        7 => drop(p.ecall_enum(u::color::RED)),
        8 => drop(p.ecall_arrays(&[0; 4], &mut [[0; 3]; 2], &mut [0.0; 2])),
        9 => drop(p.ecall_shared_len(&[1, 2], &mut [0, 0])),
        10 => drop(p.ecall_const_len(&[0; 16], &mut [0; 4])),
        _ => drop(p.ecall_single(&u::point { x: 1, y: 2 }, &mut 0, &mut 0.0)),
    }
});
