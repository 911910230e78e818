#![no_main]
use libfuzzer_sys::fuzz_target;
use shield_edl::wire::{Caller, Limits};

mod common;
use common::{Canned, Enclave, t};

// Input: [index][caller][limit][split] then request bytes and OCALL reply bytes.
fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let index = u32::from(data[0] % 16);
    let caller = if data[1] & 0x80 == 0 {
        Caller::Host
    } else {
        Caller::Ocall(u32::from(data[1] % 5))
    };
    let limits = if data[2] & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_alloc: usize::from(data[2]) * 4,
        }
    };
    let rest = &data[4..];
    let split = usize::from(data[3]).min(rest.len());
    let (reply, request) = rest.split_at(split);
    let ocall = Canned(reply);
    let _ = t::dispatch_ecall(&Enclave, &ocall, caller, index, request, limits);
});
