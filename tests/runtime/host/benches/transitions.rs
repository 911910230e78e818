//! Transition costs of the simulation: an empty ECALL, an ECALL carrying
//! 4 KiB in and out, and an ECALL that makes one OCALL, each measured twice
//! in one run: on an otherwise idle machine, then while CPU burners started
//! here (other processes) keep all cores but one busy. SGX hardware pays about 8,000 cycles
//! (~2.7 µs) per transition; see BENCHMARKS.md.
//!
//! `cargo bench -p runtime-tests --bench transitions`

use std::process::{Child, Command, Stdio};

use criterion::{BenchmarkId, Criterion, criterion_group};
use runtime_tests::bridge::EcallProxy;
use runtime_tests::{builder, launch_with};
use shield_edl::wire::Limits;

/// Set in the environment of a copy of this program that only burns CPU.
const BURNER: &str = "SHIELD_BENCH_BURNER";

/// CPU-bound processes competing with the benchmark until dropped: one per
/// core but one, so host and enclave share a single core's worth of time
/// with a busy neighbour (on a 2-core machine, one burner). Each is a copy
/// of this program in a session of its own, like a job started elsewhere.
struct Burners(Vec<Child>);

impl Burners {
    fn start() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let exe = std::env::current_exe().unwrap();
        let children = (0..cores.saturating_sub(1).max(1))
            .map(|_| {
                Command::new(&exe)
                    .env(BURNER, "1")
                    .stdin(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        Self(children)
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The burner's whole life: its own session, then a busy loop that ends
/// when the benchmark does (killed, or orphaned if the benchmark was).
fn burn() -> ! {
    let parent = rustix::process::getppid();
    let _ = rustix::process::setsid();
    let mut x = 1u64;
    loop {
        for _ in 0..1 << 20 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        if rustix::process::getppid() != parent {
            std::process::exit(0);
        }
    }
}

fn transitions(c: &mut Criterion) {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _host) = launch_with(builder(state.path())).unwrap();
    let proxy = EcallProxy::new(&*enclave, Limits::default());
    let input = vec![0x5au8; 4096];
    let mut output = vec![0u8; 4096];

    let mut group = c.benchmark_group("transition");
    for load in ["idle", "loaded"] {
        let _burners = (load == "loaded").then(Burners::start);
        group.bench_function(BenchmarkId::new("empty ECALL", load), |b| {
            b.iter(|| proxy.ecall_empty().unwrap())
        });
        group.bench_function(BenchmarkId::new("ECALL 4 KiB in + 4 KiB out", load), |b| {
            b.iter(|| proxy.ecall_bytes(&input, &mut output).unwrap())
        });
        group.bench_function(BenchmarkId::new("ECALL with one OCALL", load), |b| {
            b.iter(|| proxy.ecall_with_ocall(1).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, transitions);
fn main() {
    if std::env::var_os(BURNER).is_some() {
        burn();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
