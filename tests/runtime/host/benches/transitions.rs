//! Transition costs of the simulation: an empty ECALL, an ECALL carrying
//! 4 KiB in and out, and an ECALL that makes one OCALL. SGX hardware pays
//! about 8,000 cycles (~2.7 µs) per transition; see BENCHMARKS.md.
//!
//! `cargo bench -p runtime-tests --bench transitions`

use criterion::{Criterion, criterion_group, criterion_main};
use runtime_tests::bridge::EcallProxy;
use runtime_tests::{builder, launch_with};
use shield_edl::wire::Limits;

fn transitions(c: &mut Criterion) {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _host) = launch_with(builder(state.path())).unwrap();
    let proxy = EcallProxy::new(&*enclave, Limits::default());
    let input = vec![0x5au8; 4096];
    let mut output = vec![0u8; 4096];

    let mut group = c.benchmark_group("transition");
    group.bench_function("empty ECALL", |b| b.iter(|| proxy.ecall_empty().unwrap()));
    group.bench_function("ECALL 4 KiB in + 4 KiB out", |b| {
        b.iter(|| proxy.ecall_bytes(&input, &mut output).unwrap())
    });
    group.bench_function("ECALL with one OCALL", |b| {
        b.iter(|| proxy.ecall_with_ocall(1).unwrap())
    });
    group.finish();
}

criterion_group!(benches, transitions);
criterion_main!(benches);
