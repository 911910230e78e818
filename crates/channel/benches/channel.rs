//! The channel alone: round trips between two threads of one process, empty
//! and with 4 KiB each way, to split an ECALL's 4 KiB cost into the
//! channel's copies (plus moving the cache lines between cores) and the
//! rest (wire encoding, the runtimes). Also the floor of a round trip
//! when both sides share one core, as on a loaded machine: two threads
//! pinned to one CPU handing it back and forth with `sched_yield`, no
//! channel at all. See BENCHMARKS.md.
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

/// Two threads pinned to the same CPU pass a token back and forth, each
/// yielding the core while it waits: two context switches per round trip,
/// the least a transition costs when host and enclave share one core.
fn one_core_floor(c: &mut Criterion) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    const STOP: u32 = 2;
    let pin = || {
        let mut set = rustix::thread::CpuSet::new();
        set.set(0);
        rustix::thread::sched_setaffinity(None, &set).unwrap();
    };
    // 0: the peer's turn is over; 1: the peer must answer; STOP: end.
    let token = Arc::new(AtomicU32::new(0));
    let peer_token = Arc::clone(&token);
    let peer = std::thread::spawn(move || {
        pin();
        loop {
            match peer_token.load(Ordering::Acquire) {
                1 => peer_token.store(0, Ordering::Release),
                STOP => break,
                _ => rustix::thread::sched_yield(),
            }
        }
    });
    pin();
    c.bench_function("one core: two threads, round trip by sched_yield", |b| {
        b.iter(|| {
            token.store(1, Ordering::Release);
            while token.load(Ordering::Acquire) != 0 {
                rustix::thread::sched_yield();
            }
        })
    });
    token.store(STOP, Ordering::Release);
    peer.join().unwrap();
}

criterion_group!(benches, round_trips, one_core_floor);
criterion_main!(benches);
