//! Sealing and protected files beside a plain AES-128-GCM baseline, in the
//! same run. `cargo bench -p shield-services --bench services`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::Duration;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shield_services::pfs::{FileKey, MemoryStore, ProtectedFile};
use shield_services::{ModelCpu, SealPolicy, seal, unseal};
use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Attributes, AttributesFlags};
use shield_sgx::keys::PlatformSecret;
use zeroize::Zeroizing;

fn cpu() -> ModelCpu {
    ModelCpu {
        platform: PlatformSecret::generate([1; 16]),
        identity: EnclaveIdentity {
            mrenclave: [1; 32],
            mrsigner: [2; 32],
            isvprodid: 1,
            isvsvn: 1,
            attributes: Attributes {
                flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
                xfrm: 3,
            },
            miscselect: 0,
        },
    }
}

fn gcm(c: &mut Criterion, name: &str, len: usize) {
    let cipher = Aes128Gcm::new(&[7u8; 16].into());
    let mut buf = vec![0u8; len];
    c.bench_function(name, |b| {
        b.iter(|| {
            let tag = cipher
                .encrypt_in_place_detached(&Nonce::default(), b"", &mut buf)
                .unwrap();
            black_box(tag);
        })
    });
}

fn sealing(c: &mut Criterion) {
    let keys = cpu();
    for (label, len) in [("4KiB", 4096), ("1MiB", 1 << 20)] {
        let data = vec![5u8; len];
        gcm(c, &format!("baseline_aes128gcm_{label}"), len);
        c.bench_function(&format!("seal_{label}"), |b| {
            b.iter(|| black_box(seal(&keys, SealPolicy::MrSigner, &data, b"").unwrap()))
        });
        let blob = seal(&keys, SealPolicy::MrSigner, &data, b"").unwrap();
        c.bench_function(&format!("unseal_{label}"), |b| {
            b.iter(|| black_box(unseal(&keys, &blob).unwrap()))
        });
    }
}

fn protected_files(c: &mut Criterion) {
    const LEN: usize = 64 << 20;
    let key = || FileKey::Supplied(Zeroizing::new([3; 16]));
    let chunk = vec![9u8; 1 << 20];
    let mut group = c.benchmark_group("pfs_64MiB");
    group.throughput(Throughput::Bytes(LEN as u64));
    group.sample_size(10);
    group.bench_function("baseline_aes128gcm", |b| {
        let cipher = Aes128Gcm::new(&[7u8; 16].into());
        let mut buf = vec![0u8; LEN];
        b.iter(|| {
            for node in buf.chunks_mut(4096) {
                black_box(
                    cipher
                        .encrypt_in_place_detached(&Nonce::default(), b"", node)
                        .unwrap(),
                );
            }
        })
    });
    group.bench_function("sequential_write", |b| {
        b.iter(|| {
            let mut file = ProtectedFile::create(MemoryStore::default(), "bench", key()).unwrap();
            for _ in 0..LEN / chunk.len() {
                file.write_all(&chunk).unwrap();
            }
            black_box(file.close().unwrap());
        })
    });
    let mut file = ProtectedFile::create(MemoryStore::default(), "bench", key()).unwrap();
    for _ in 0..LEN / chunk.len() {
        file.write_all(&chunk).unwrap();
    }
    let mut store = file.close().unwrap();
    group.bench_function("sequential_read", |b| {
        let mut buf = vec![0u8; 1 << 20];
        b.iter(|| {
            let mut file = ProtectedFile::open(&mut store, "bench", key()).unwrap();
            while file.read(&mut buf).unwrap() > 0 {}
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = sealing, protected_files
}
criterion_main!(benches);
