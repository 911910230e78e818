use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Attributes, AttributesFlags};
use shield_sgx::keys::PlatformSecret;

use super::*;
use crate::ModelCpu;

fn key() -> FileKey<'static> {
    FileKey::Supplied(Zeroizing::new([0x42; 16]))
}

fn cpu(platform: &PlatformSecret, mrenclave: u8) -> ModelCpu {
    ModelCpu {
        platform: platform.clone(),
        identity: EnclaveIdentity {
            mrenclave: [mrenclave; 32],
            mrsigner: [9; 32],
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

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A file of `len` bytes, closed: the store as the host holds it.
fn stored(len: usize) -> MemoryStore {
    let mut file = ProtectedFile::create(MemoryStore::default(), "f", key()).unwrap();
    file.write_all(&pattern(len, 1)).unwrap();
    file.close().unwrap()
}

fn read_all(store: MemoryStore, name: &str) -> Result<Vec<u8>> {
    let mut file = ProtectedFile::open(store, name, key())?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).map_err(inner)?;
    Ok(out)
}

/// The service error inside an `io::Error`.
fn inner(error: io::Error) -> Error {
    match error.into_inner().map(|e| e.downcast::<Error>()) {
        Some(Ok(e)) => *e,
        _ => Error::Store("not a service error".into()),
    }
}

#[test]
fn index_layout() {
    assert_eq!(l2_index(0), 1);
    assert_eq!(l1_index(0), 2);
    assert_eq!(data_index(0), 3);
    assert_eq!(data_index(127), 130);
    assert_eq!(l1_index(1), 131);
    assert_eq!(data_index(128), 132);
    assert_eq!(l1_index(128), l2_index(1) + 1);
    assert_eq!(node_count(0), 1);
    assert_eq!(node_count(1), 4);
    assert_eq!(MAX_FILE_SIZE, 4 << 30);
    const { assert!(HEADER_LEN + SECRET_LEN + 16 <= NODE_SIZE) };
}

#[test]
fn round_trip_small_and_multi_level() {
    for len in [0, 1, 4095, 4096, 4097, 128 * 4096 + 10, 600_000] {
        let store = stored(len);
        for node in &store.nodes {
            assert!(node.is_empty() || node.len() == NODE_SIZE);
        }
        assert_eq!(read_all(store, "f").unwrap(), pattern(len, 1), "len {len}");
    }
}

#[test]
fn sealed_key_round_trip_and_other_enclave() {
    let platform = PlatformSecret::generate([1; 16]);
    let a = cpu(&platform, 1);
    let b = cpu(&platform, 2);
    let mut file = ProtectedFile::create(
        MemoryStore::default(),
        "sealed",
        FileKey::Sealed(&a, SealPolicy::MrEnclave),
    )
    .unwrap();
    file.write_all(b"hello").unwrap();
    let store = file.close().unwrap();
    let mut file = ProtectedFile::open(
        store.clone(),
        "sealed",
        FileKey::Sealed(&a, SealPolicy::MrEnclave),
    )
    .unwrap();
    let mut out = String::new();
    file.read_to_string(&mut out).unwrap();
    assert_eq!(out, "hello");
    assert!(
        ProtectedFile::open(
            store.clone(),
            "sealed",
            FileKey::Sealed(&b, SealPolicy::MrEnclave)
        )
        .is_err()
    );
    assert!(
        ProtectedFile::open(store, "sealed", key()).is_err(),
        "wrong key mode"
    );
}

#[test]
fn wrong_key_or_name_is_refused() {
    let store = stored(100);
    assert!(matches!(
        read_all(store.clone(), "g"),
        Err(Error::Authentication(_))
    ));
    let other = FileKey::Supplied(Zeroizing::new([0x43; 16]));
    assert!(ProtectedFile::open(store, "f", other).is_err());
}

#[test]
fn every_flipped_byte_is_detected() {
    let store = stored(5000); // root, L2, L1, two data nodes
    assert_eq!(store.nodes.len(), 5);
    for index in 0..store.nodes.len() {
        for offset in (0..NODE_SIZE).step_by(97).chain([NODE_SIZE - 1]) {
            let mut bad = store.clone();
            bad.nodes[index][offset] ^= 0x10;
            assert!(read_all(bad, "f").is_err(), "node {index} byte {offset}");
        }
    }
}

#[test]
fn truncation_and_extension_are_detected() {
    let store = stored(3 * NODE_SIZE);
    for count in 0..store.nodes.len() {
        let mut bad = store.clone();
        bad.nodes.truncate(count);
        assert!(read_all(bad, "f").is_err(), "truncated to {count} nodes");
    }
    let mut bad = store.clone();
    bad.nodes[4] = Vec::new(); // a hole in the middle
    assert!(matches!(read_all(bad, "f"), Err(Error::Truncated(_))));
    let mut bad = store.clone();
    bad.nodes.push(vec![0; NODE_SIZE]);
    assert!(matches!(read_all(bad, "f"), Err(Error::Truncated(_))));
    let mut bad = store;
    bad.nodes[3].truncate(100);
    assert!(matches!(read_all(bad, "f"), Err(Error::Malformed(_))));
}

#[test]
fn swapped_nodes_are_detected() {
    let store = stored(3 * NODE_SIZE);
    let mut bad = store.clone();
    bad.nodes.swap(3, 4);
    assert!(matches!(read_all(bad, "f"), Err(Error::Authentication(_))));
    let mut bad = store;
    bad.nodes.swap(1, 2); // L2 and L1
    assert!(read_all(bad, "f").is_err());
}

#[test]
fn replayed_nodes_are_detected() {
    let old = stored(3 * NODE_SIZE);
    let mut file = ProtectedFile::open(old.clone(), "f", key()).unwrap();
    file.seek(SeekFrom::Start(NODE_SIZE as u64)).unwrap();
    file.write_all(b"new data").unwrap();
    let new = file.close().unwrap();
    for index in 0..new.nodes.len() {
        if old.nodes[index] == new.nodes[index] {
            continue;
        }
        let mut bad = new.clone();
        bad.nodes[index] = old.nodes[index].clone();
        assert!(read_all(bad, "f").is_err(), "node {index} replayed");
    }
    // The untouched data nodes are the same bytes; the changed ones differ.
    assert_eq!(old.nodes[3], new.nodes[3]);
    assert_ne!(old.nodes[4], new.nodes[4]);
    // Whole-file rollback is NOT detected without the hook...
    assert_eq!(
        read_all(old.clone(), "f").unwrap(),
        pattern(3 * NODE_SIZE, 1)
    );
}

#[test]
fn the_version_hook_detects_whole_file_rollback() {
    let latest = Arc::new(AtomicU64::new(0));
    let hook = |latest: &Arc<AtomicU64>| -> Option<Box<dyn VersionHook>> {
        struct Counter(Arc<AtomicU64>);
        impl VersionHook for Counter {
            fn check(&self, v: u64) -> Result<()> {
                let latest = self.0.load(Ordering::SeqCst);
                if v < latest {
                    return Err(Error::Rollback(format!("version {v} < {latest}")));
                }
                Ok(())
            }
            fn committed(&self, v: u64) {
                self.0.store(v, Ordering::SeqCst);
            }
        }
        Some(Box::new(Counter(latest.clone())))
    };
    let old = stored(10);
    let mut file = ProtectedFile::open_with_hook(old.clone(), "f", key(), hook(&latest)).unwrap();
    file.write_all(b"x").unwrap();
    let new = file.close().unwrap();
    assert!(latest.load(Ordering::SeqCst) > 0);
    assert!(matches!(
        ProtectedFile::open_with_hook(old, "f", key(), hook(&latest)),
        Err(Error::Rollback(_))
    ));
    ProtectedFile::open_with_hook(new, "f", key(), hook(&latest)).unwrap();
    // A closure works too.
    let refuse: Box<dyn VersionHook> = Box::new(|_| Err(Error::Rollback("no".into())));
    assert!(ProtectedFile::open_with_hook(stored(1), "f", key(), Some(refuse)).is_err());
}

#[test]
fn set_len_shrinks_and_grows_with_zeros() {
    let mut file = ProtectedFile::create(MemoryStore::default(), "f", key()).unwrap();
    file.write_all(&pattern(200 * NODE_SIZE, 3)).unwrap();
    file.set_len(100).unwrap();
    file.set_len(300 * NODE_SIZE as u64).unwrap();
    let store = file.close().unwrap();
    let mut expected = pattern(100, 3);
    expected.resize(300 * NODE_SIZE, 0);
    assert_eq!(read_all(store, "f").unwrap(), expected);
}

/// A store that lies: every answer can be replaced by garbage.
#[derive(Debug)]
struct LyingStore {
    inner: MemoryStore,
    lies: Vec<Lie>,
    next: usize,
}

#[derive(Debug, Clone)]
enum Lie {
    Truth,
    Missing,
    Short(usize),
    Long(usize),
    Garbage(u8),
    Count(u64),
    Fail,
}

impl LyingStore {
    fn lie(&mut self) -> Lie {
        let lie = self.lies.get(self.next).cloned().unwrap_or(Lie::Truth);
        self.next += 1;
        lie
    }
}

impl NodeStore for LyingStore {
    fn read_node(&mut self, index: u64) -> Result<Option<Vec<u8>>> {
        let truth = self.inner.read_node(index)?;
        Ok(match self.lie() {
            Lie::Truth | Lie::Count(_) => truth,
            Lie::Missing => None,
            Lie::Short(n) => truth.map(|mut t| {
                t.truncate(n % NODE_SIZE);
                t
            }),
            Lie::Long(n) => truth.map(|mut t| {
                t.resize(NODE_SIZE + 1 + n % 10_000, 7);
                t
            }),
            Lie::Garbage(b) => Some(vec![b; NODE_SIZE]),
            Lie::Fail => return Err(Error::Store("EIO".into())),
        })
    }
    fn write_node(&mut self, index: u64, node: &[u8]) -> Result<()> {
        match self.lie() {
            Lie::Fail => Err(Error::Store("ENOSPC".into())),
            _ => self.inner.write_node(index, node),
        }
    }
    fn truncate(&mut self, count: u64) -> Result<()> {
        self.inner.truncate(count)
    }
    fn node_count(&mut self) -> Result<u64> {
        let truth = self.inner.node_count()?;
        Ok(match self.lie() {
            Lie::Count(n) => n,
            Lie::Fail => return Err(Error::Store("EIO".into())),
            _ => truth,
        })
    }
}

fn lie() -> impl Strategy<Value = Lie> {
    prop_oneof![
        4 => Just(Lie::Truth),
        1 => Just(Lie::Missing),
        1 => any::<usize>().prop_map(Lie::Short),
        1 => any::<usize>().prop_map(Lie::Long),
        1 => any::<u8>().prop_map(Lie::Garbage),
        1 => any::<u64>().prop_map(Lie::Count),
        1 => Just(Lie::Fail),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<u8>),
    Seek(u64),
    SetLen(u64),
    Read(usize),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    const SPAN: u64 = 140 * NODE_SIZE as u64; // crosses an L1 boundary
    prop_oneof![
        3 => (proptest::collection::vec(any::<u8>(), 0..9000)).prop_map(Op::Write),
        2 => (0..SPAN).prop_map(Op::Seek),
        1 => (0..SPAN).prop_map(Op::SetLen),
        2 => (0..20_000usize).prop_map(Op::Read),
        1 => Just(Op::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random write/seek/set_len/read sequences behave exactly as on a
    /// `Vec<u8>`, across close and reopen.
    #[test]
    fn behaves_like_a_vec(ops in proptest::collection::vec(op(), 1..40)) {
        let mut model: Vec<u8> = Vec::new();
        let mut pos = 0usize;
        let mut file = ProtectedFile::create(MemoryStore::default(), "model", key()).unwrap();
        for op in ops {
            match op {
                Op::Write(data) => {
                    let end = pos + data.len();
                    if !data.is_empty() && model.len() < end {
                        model.resize(end, 0);
                    }
                    model[pos..pos + data.len()].copy_from_slice(&data);
                    file.write_all(&data).unwrap();
                    pos = end;
                }
                Op::Seek(to) => {
                    pos = to as usize;
                    prop_assert_eq!(file.seek(SeekFrom::Start(to)).unwrap(), to);
                }
                Op::SetLen(len) => {
                    model.resize(len as usize, 0);
                    file.set_len(len).unwrap();
                }
                Op::Read(n) => {
                    let mut buf = vec![0u8; n];
                    let mut got = 0;
                    loop {
                        let k = file.read(&mut buf[got..]).unwrap();
                        if k == 0 { break; }
                        got += k;
                    }
                    let avail = model.len().saturating_sub(pos).min(n);
                    prop_assert_eq!(got, avail);
                    if got > 0 {
                        prop_assert_eq!(&buf[..got], &model[pos..pos + got]);
                    }
                    pos += got;
                }
                Op::Reopen => {
                    let store = file.close().unwrap();
                    file = ProtectedFile::open(store, "model", key()).unwrap();
                    file.seek(SeekFrom::Start(pos as u64)).unwrap();
                }
            }
            prop_assert_eq!(file.len(), model.len() as u64);
        }
        let store = file.close().unwrap();
        prop_assert_eq!(read_all(store, "model").unwrap(), model);
    }

    /// A lying store gives errors, never a panic, and the data it did not
    /// lie about still reads back correctly afterwards.
    #[test]
    fn a_lying_store_gives_errors_not_panics(lies in proptest::collection::vec(lie(), 0..30)) {
        let truth = stored(131 * NODE_SIZE + 5);
        let mut store = LyingStore { inner: truth.clone(), lies, next: 0 };
        let result = (|| -> Result<Vec<u8>> {
            let mut file = ProtectedFile::open(&mut store, "f", key())?;
            let mut out = Vec::new();
            file.read_to_end(&mut out).map_err(|e| Error::Store(e.to_string()))?;
            file.seek(SeekFrom::Start(3)).map_err(|e| Error::Store(e.to_string()))?;
            file.write_all(b"abc").map_err(|e| Error::Store(e.to_string()))?;
            file.flush()?;
            Ok(out)
        })();
        if let Ok(out) = result {
            prop_assert_eq!(out, pattern(131 * NODE_SIZE + 5, 1));
        }
        // The enclave-side code is still usable: the truthful copy opens.
        prop_assert_eq!(read_all(truth, "f").unwrap(), pattern(131 * NODE_SIZE + 5, 1));
    }
}
