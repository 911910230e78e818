//! The channel alone: round trips between two threads of one process, empty
//! and with 4 KiB each way, to split an ECALL's 4 KiB cost into the
//! channel's copies (plus moving the cache lines between cores) and the
//! rest (wire encoding, the runtimes). See BENCHMARKS.md.
//!
//! `cargo bench -p shield-channel --bench channel`

use criterion::{Criterion, criterion_group, criterion_main};
use shield_channel::shm::SharedRegion;
use shield_channel::{Channel, kind};

fn round_trips(c: &mut Criterion) {
    let host = Channel::create("bench", 8192).unwrap();
    let fd = host.region().fd().try_clone_to_owned().unwrap();
    let enclave = Channel::attach(SharedRegion::from_fd(fd).unwrap()).unwrap();
    // The echo side ends when it is sent an empty ECALL_RETURN.
    let echo = std::thread::spawn(move || {
        loop {
            let m = enclave.recv(|| Ok(())).unwrap();
            if m.kind == kind::ECALL_RETURN {
                break;
            }
            enclave
                .send(kind::ECALL_RETURN, m.index, &m.payload)
                .unwrap();
        }
    });
    let mut group = c.benchmark_group("channel round trip");
    for (name, len) in [("empty", 0), ("4 KiB each way", 4096)] {
        let payload = vec![0x5au8; len];
        group.bench_function(name, |b| {
            b.iter(|| {
                host.send(kind::ECALL, 0, &payload).unwrap();
                host.recv(|| Ok(())).unwrap()
            })
        });
    }
    group.finish();
    host.send(kind::ECALL_RETURN, 0, b"").unwrap();
    echo.join().unwrap();
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
