//! The trusted services end to end, against a real (simulated) enclave whose
//! protected-file nodes the host keeps on disk: every rejection is provoked
//! by flipping, truncating or replaying the real bytes between ECALLs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use services_tests::bridge::EcallProxy;
use services_tests::{Lie, TestHost, enclave_binary, launch, launch_as};
use shield_edl::wire::Limits;
use shield_host::Enclave;
use shield_sgx::config::EnclaveConfig;
use shield_sgx::shield_layout::layout;
use shield_sgx::sigstruct::{SigningKey, SigstructFields};

const NODE: usize = 4096;
const ERR_MALFORMED: i32 = -2;
const ERR_AUTH: i32 = -3;
const ERR_KEY: i32 = -4;
const ERR_TRUNCATED: i32 = -5;
const ERR_STORE: i32 = -6;
/// A truthful answer to a node read (a full node is 4096 bytes).
const TRUTH: Lie = Lie::ShortRead(NODE as u64);

fn proxy(enclave: &Enclave) -> EcallProxy<'_> {
    EcallProxy::new(enclave, Limits::default())
}

fn seal(enclave: &Enclave, policy: i32, data: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut blob = vec![0u8; 560 + data.len() + aad.len()];
    let mut len = 0;
    let rc = proxy(enclave)
        .ecall_seal(policy, data, aad, &mut blob, &mut len)
        .unwrap();
    assert_eq!(rc, 0);
    assert_eq!(len as usize, blob.len());
    blob
}

fn unseal(enclave: &Enclave, blob: &[u8]) -> Result<Vec<u8>, i32> {
    let mut data = vec![0u8; blob.len()];
    let mut len = 0;
    match proxy(enclave)
        .ecall_unseal(blob, &mut data, &mut len)
        .unwrap()
    {
        0 => {
            data.truncate(len as usize);
            Ok(data)
        }
        rc => Err(rc),
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

struct Pf<'a> {
    enclave: &'a Enclave,
    name: &'a str,
    mode: i32,
}

impl Pf<'_> {
    fn create(&self) -> i32 {
        proxy(self.enclave)
            .ecall_pf_create(self.name, self.mode)
            .unwrap()
    }
    fn write(&self, offset: u64, data: &[u8]) -> i32 {
        proxy(self.enclave)
            .ecall_pf_write(self.name, self.mode, offset, data)
            .unwrap()
    }
    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, i32> {
        let mut data = vec![0u8; len];
        let mut got = 0;
        match proxy(self.enclave)
            .ecall_pf_read(self.name, self.mode, offset, &mut data, &mut got)
            .unwrap()
        {
            0 => {
                data.truncate(got as usize);
                Ok(data)
            }
            rc => Err(rc),
        }
    }
    fn set_len(&self, len: u64) -> i32 {
        proxy(self.enclave)
            .ecall_pf_set_len(self.name, self.mode, len)
            .unwrap()
    }
}

fn launched(state: &Path) -> (Arc<Enclave>, Arc<TestHost>) {
    launch(state).expect("launching the services test enclave")
}

/// A file of three data nodes (nodes 0 root, 1 L2, 2 L1, 3–5 data).
fn three_nodes<'a>(enclave: &'a Enclave, name: &'a str) -> (Pf<'a>, Vec<u8>) {
    let pf = Pf {
        enclave,
        name,
        mode: 1,
    };
    assert_eq!(pf.create(), 0);
    let data = pattern(3 * NODE, 1);
    assert_eq!(pf.write(0, &data), 0);
    (pf, data)
}

#[test]
fn sealing_in_the_enclave() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launched(state.path());
    for policy in [1, 2] {
        let blob = seal(&enclave, policy, b"enclave secret", b"label");
        assert_eq!(&blob[560 + 14..], b"label");
        assert_eq!(unseal(&enclave, &blob).unwrap(), b"enclave secret");
        for i in [0, 40, 512, 528, 544, 560, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert!(unseal(&enclave, &bad).is_err(), "byte {i}");
        }
        assert!(unseal(&enclave, &blob[..blob.len() - 1]).is_err());
    }
    // Another instance of the same enclave on the same machine can unseal;
    // the same enclave on another machine cannot.
    let blob = seal(&enclave, 1, b"here", b"");
    let (twin, _) = launched(state.path());
    assert_eq!(unseal(&twin, &blob).unwrap(), b"here");
    let elsewhere = tempfile::tempdir().unwrap();
    let (other_machine, _) = launched(elsewhere.path());
    assert_eq!(unseal(&other_machine, &blob), Err(ERR_AUTH));
    // And the enclave is still fine.
    assert_eq!(unseal(&enclave, &blob).unwrap(), b"here");
}

#[test]
fn protected_file_round_trip_across_ecalls() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launched(state.path());
    for mode in [0, 1, 2] {
        let name = format!("file{mode}");
        let pf = Pf {
            enclave: &enclave,
            name: &name,
            mode,
        };
        assert_eq!(pf.create(), 0);
        let data = pattern(200_000, mode as u8);
        assert_eq!(pf.write(0, &data), 0);
        assert_eq!(pf.write(150_000, b"patched"), 0);
        let mut expected = data.clone();
        expected[150_000..150_007].copy_from_slice(b"patched");
        assert_eq!(pf.read(0, 300_000).unwrap(), expected);
        assert_eq!(pf.set_len(5000), 0);
        assert_eq!(pf.read(0, 300_000).unwrap(), expected[..5000]);
        let on_disk = std::fs::read(host.path(&name)).unwrap();
        assert_eq!(on_disk.len(), 5 * NODE);
        assert!(
            !on_disk.windows(7).any(|w| w == b"patched"),
            "encrypted on disk"
        );
    }
}

#[test]
fn flipped_bytes_on_disk_are_detected() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launched(state.path());
    let (pf, data) = three_nodes(&enclave, "flip");
    let path = host.path("flip");
    let good = std::fs::read(&path).unwrap();
    assert_eq!(good.len(), 6 * NODE);
    for node in 0..6 {
        for offset in [0, 100, 1500, NODE - 1] {
            let mut bad = good.clone();
            bad[node * NODE + offset] ^= 0x40;
            std::fs::write(&path, &bad).unwrap();
            let rc = pf.read(0, data.len()).unwrap_err();
            assert!(
                rc == ERR_AUTH || rc == ERR_MALFORMED,
                "node {node} +{offset}: {rc}"
            );
        }
    }
    std::fs::write(&path, &good).unwrap();
    assert_eq!(pf.read(0, data.len()).unwrap(), data);
}

#[test]
fn truncation_on_disk_is_detected() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launched(state.path());
    let (pf, data) = three_nodes(&enclave, "trunc");
    let path = host.path("trunc");
    let good = std::fs::read(&path).unwrap();
    for len in [0, 100, NODE, 3 * NODE, 5 * NODE, 6 * NODE - 1] {
        std::fs::write(&path, &good[..len]).unwrap();
        assert!(pf.read(0, data.len()).is_err(), "truncated to {len}");
    }
    std::fs::write(&path, &good[..5 * NODE]).unwrap();
    assert_eq!(pf.read(0, data.len()), Err(ERR_TRUNCATED));
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; NODE]);
    std::fs::write(&path, &longer).unwrap();
    assert_eq!(pf.read(0, data.len()), Err(ERR_TRUNCATED));
    std::fs::write(&path, &good).unwrap();
    assert_eq!(pf.read(0, data.len()).unwrap(), data);
}

#[test]
fn swapped_and_replayed_nodes_are_detected() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launched(state.path());
    let (pf, data) = three_nodes(&enclave, "swap");
    let path = host.path("swap");
    let old = std::fs::read(&path).unwrap();
    // Swap two data nodes.
    let mut bad = old.clone();
    bad[3 * NODE..4 * NODE].copy_from_slice(&old[4 * NODE..5 * NODE]);
    bad[4 * NODE..5 * NODE].copy_from_slice(&old[3 * NODE..4 * NODE]);
    std::fs::write(&path, &bad).unwrap();
    assert_eq!(pf.read(0, data.len()), Err(ERR_AUTH));
    std::fs::write(&path, &old).unwrap();
    // A new version, then each changed node replayed from the old one.
    assert_eq!(pf.write(NODE as u64 + 10, b"version two"), 0);
    let new = std::fs::read(&path).unwrap();
    let mut replayed = 0;
    for node in 0..6 {
        let range = node * NODE..(node + 1) * NODE;
        if old[range.clone()] == new[range.clone()] {
            continue;
        }
        let mut bad = new.clone();
        bad[range.clone()].copy_from_slice(&old[range]);
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(
            pf.read(0, data.len()),
            Err(ERR_AUTH),
            "node {node} replayed"
        );
        replayed += 1;
    }
    assert_eq!(replayed, 4, "root, L2, L1 and the changed data node");
    std::fs::write(&path, &new).unwrap();
    assert_eq!(&pf.read(NODE as u64 + 10, 11).unwrap(), b"version two");
}

#[test]
fn a_corrupted_root_or_swapped_file_is_detected_and_whole_file_rollback_is_not() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launched(state.path());
    let (pf, data) = three_nodes(&enclave, "one");
    let (other, _) = three_nodes(&enclave, "two");
    let path = host.path("one");
    let good = std::fs::read(&path).unwrap();
    // Root corrupted in the clear header, the encrypted part and the tag.
    for offset in [0, 12, 20, 40, 1024, 1030, 3072 + 16, 3072 + 30] {
        let mut bad = good.clone();
        bad[offset] ^= 2;
        std::fs::write(&path, &bad).unwrap();
        assert!(pf.read(0, 10).is_err(), "root byte {offset}");
    }
    // Another file's bytes under this name (same key, same enclave).
    std::fs::copy(host.path("two"), &path).unwrap();
    assert_eq!(pf.read(0, 10), Err(ERR_AUTH));
    assert_eq!(other.read(0, 10).unwrap(), pattern(10, 1));
    // The documented limit: an older, consistent whole file is accepted
    // (the version-check hook exists for this; unit-tested in the crate).
    std::fs::write(&path, &good).unwrap();
    assert_eq!(pf.write(0, b"newer"), 0);
    std::fs::write(&path, &good).unwrap();
    assert_eq!(pf.read(0, data.len()).unwrap(), data);
}

#[test]
fn a_lying_host_gets_errors_and_the_enclave_stays_usable() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launched(state.path());
    let (pf, data) = three_nodes(&enclave, "liar");
    let cases = [
        (vec![Lie::Missing], ERR_TRUNCATED),
        (vec![Lie::ShortRead(100)], ERR_MALFORMED),
        (vec![Lie::ShortRead(0)], ERR_MALFORMED),
        (vec![Lie::LongRead(4097)], ERR_STORE),
        (vec![Lie::LongRead(u64::MAX)], ERR_STORE),
        (vec![Lie::Garbage(0xAA)], ERR_MALFORMED),
        (vec![Lie::BadStatus(7)], ERR_STORE),
        (vec![Lie::BadStatus(-1)], ERR_STORE),
        (vec![TRUTH, Lie::Count(u64::MAX)], ERR_TRUNCATED),
        (vec![TRUTH, Lie::Count(0)], ERR_TRUNCATED),
        (vec![TRUTH, Lie::BadStatus(1)], ERR_STORE),
    ];
    for (lies, expected) in cases {
        // Lies are told one per OCALL: the root read first, then the count.
        host.lie(&lies);
        assert_eq!(pf.read(0, data.len()), Err(expected), "{lies:?}");
        assert_eq!(
            pf.read(0, data.len()).unwrap(),
            data,
            "usable after {lies:?}"
        );
    }
    // Lies deeper in: after the root and the count, on the MHT and data nodes.
    for depth in 0..4 {
        for lie in [
            Lie::Missing,
            Lie::ShortRead(10),
            Lie::LongRead(1 << 40),
            Lie::Garbage(1),
        ] {
            let mut lies = vec![TRUTH, Lie::Count(6)];
            lies.extend(std::iter::repeat_n(TRUTH, depth));
            lies.push(lie);
            host.lie(&lies);
            assert!(pf.read(0, data.len()).is_err(), "{lie:?} at depth {depth}");
            assert_eq!(pf.read(0, data.len()).unwrap(), data);
        }
    }
    // A data-node write the host acknowledges but drops: the next read
    // finds the old node under the new tag.
    let (dropped, _) = three_nodes(&enclave, "dropped");
    // Root, count, L2, L1 and data node read truthfully; then the first write dropped.
    host.lie(&[TRUTH, Lie::Count(6), TRUTH, TRUTH, TRUTH, Lie::DropWrite]);
    assert_eq!(dropped.write(0, b"lost"), 0);
    assert_eq!(dropped.read(0, 4), Err(ERR_AUTH));
    assert_eq!(pf.read(0, data.len()).unwrap(), data);
    // Sealing still works too.
    let blob = seal(&enclave, 2, b"still fine", b"");
    assert_eq!(unseal(&enclave, &blob).unwrap(), b"still fine");
}

#[test]
fn local_attestation_between_two_enclaves() {
    let state = tempfile::tempdir().unwrap();
    let (a, _) = launched(state.path());
    let (b, _) = launched(state.path());
    let mut msg1 = [0u8; 577];
    assert_eq!(proxy(&b).ecall_la_start(&mut msg1).unwrap(), 0);
    let mut msg2 = [0u8; 1009];
    assert_eq!(proxy(&a).ecall_la_respond(&msg1, &mut msg2).unwrap(), 0);
    // A tampered msg2 (A's public key) is refused by B...
    let mut bad = msg2;
    bad[600] ^= 1;
    let (mut msg3, mut peer_a, mut peer_b) = ([0u8; 432], [0u8; 32], [0u8; 32]);
    assert!(
        proxy(&b)
            .ecall_la_finish_b(&bad, &mut msg3, &mut peer_a)
            .unwrap()
            < 0
    );
    // ...and the handshake must restart; then it succeeds.
    let mut msg1 = [0u8; 577];
    assert_eq!(proxy(&b).ecall_la_start(&mut msg1).unwrap(), 0);
    assert_eq!(proxy(&a).ecall_la_respond(&msg1, &mut msg2).unwrap(), 0);
    assert_eq!(
        proxy(&b)
            .ecall_la_finish_b(&msg2, &mut msg3, &mut peer_a)
            .unwrap(),
        0
    );
    assert_eq!(proxy(&a).ecall_la_finish_a(&msg3, &mut peer_b).unwrap(), 0);
    assert_eq!(
        peer_a, peer_b,
        "two instances of the same enclave: same MRENCLAVE"
    );
    let (mut mac_a, mut mac_b) = ([0u8; 32], [0u8; 32]);
    proxy(&a).ecall_la_mac(b"hello", &mut mac_a).unwrap();
    proxy(&b).ecall_la_mac(b"hello", &mut mac_b).unwrap();
    assert_eq!(mac_a, mac_b, "both sides hold the same session key");
    assert_ne!(mac_a, [0; 32]);
    // A report made on another machine is refused.
    let elsewhere = tempfile::tempdir().unwrap();
    let (c, _) = launched(elsewhere.path());
    assert_eq!(proxy(&b).ecall_la_start(&mut msg1).unwrap(), 0);
    assert_eq!(proxy(&c).ecall_la_respond(&msg1, &mut msg2).unwrap(), 0);
    assert_eq!(
        proxy(&b)
            .ecall_la_finish_b(&msg2, &mut msg3, &mut peer_a)
            .unwrap(),
        ERR_AUTH
    );
}

/// A copy of the test enclave in `dir`, signed by the development key for
/// the test config changed by `change` (heap size → another MRENCLAVE;
/// ISVSVN → same MRENCLAVE, another SVN).
fn signed_copy(dir: &Path, change: impl FnOnce(&mut EnclaveConfig)) -> PathBuf {
    let binary = std::fs::read(enclave_binary()).unwrap();
    let text = std::fs::read_to_string(format!("{}.toml", enclave_binary().display())).unwrap();
    let mut config = EnclaveConfig::from_toml(&text).unwrap();
    change(&mut config);
    let path = dir.join("enclave");
    std::fs::write(&path, &binary).unwrap();
    let mrenclave = layout(&binary, &config).unwrap().measure().unwrap();
    let mut sigstruct = SigstructFields::for_config(mrenclave, &config, 0x2026_0101).to_unsigned();
    let pem = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../examples/hello-enclave/dev-signing-key.pem"
    );
    let key = SigningKey::from_pem(&std::fs::read_to_string(pem).unwrap()).unwrap();
    key.sign(&mut sigstruct).unwrap();
    std::fs::write(dir.join("enclave.sig"), sigstruct.as_ref()).unwrap();
    let toml = format!(
        "heap_max = {}\nstack_size = {}\ntcs_count = {}\nisv_prod_id = {}\nisv_svn = {}\ndebug = {}\n",
        config.heap_max,
        config.stack_size,
        config.tcs_count,
        config.isv_prod_id,
        config.isv_svn,
        config.debug
    );
    std::fs::write(dir.join("enclave.toml"), toml).unwrap();
    path
}

#[test]
fn seal_policies_across_enclaves_and_svns() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launched(state.path()); // ISVSVN 1
    let other_dir = tempfile::tempdir().unwrap();
    let other_path = signed_copy(other_dir.path(), |c| c.heap_max = 32 << 20);
    let (other, _) = launch_as(state.path(), other_path).unwrap();
    assert_ne!(other.identity().mrenclave, enclave.identity().mrenclave);
    assert_eq!(other.identity().mrsigner, enclave.identity().mrsigner);

    // MRENCLAVE: another enclave (same signer, same machine) cannot unseal.
    let blob = seal(&enclave, 1, b"mrenclave", b"");
    assert_eq!(unseal(&other, &blob), Err(ERR_AUTH));
    // MRSIGNER: it can.
    let blob = seal(&enclave, 2, b"mrsigner", b"");
    assert_eq!(unseal(&other, &blob).unwrap(), b"mrsigner");

    // ISVSVN: sealed at 2, refused at 1, accepted at 2 and 3.
    let svn = |n: u16| {
        let dir = tempfile::tempdir().unwrap();
        let path = signed_copy(dir.path(), |c| c.isv_svn = n);
        let (enclave, _) = launch_as(state.path(), path).unwrap();
        assert_eq!(enclave.identity().isvsvn, n);
        (enclave, dir)
    };
    let (v2, _d2) = svn(2);
    let (v3, _d3) = svn(3);
    let blob = seal(&v2, 2, b"svn two", b"");
    assert_eq!(unseal(&enclave, &blob), Err(ERR_KEY), "lower ISVSVN");
    assert_eq!(unseal(&v2, &blob).unwrap(), b"svn two");
    assert_eq!(unseal(&v3, &blob).unwrap(), b"svn two", "higher ISVSVN");
    // And the refusal left the older enclave usable.
    let own = seal(&enclave, 2, b"own", b"");
    assert_eq!(unseal(&enclave, &own).unwrap(), b"own");
    assert_eq!(unseal(&v3, &own).unwrap(), b"own");
}

#[test]
fn local_attestation_between_different_enclaves() {
    let state = tempfile::tempdir().unwrap();
    let (a, _) = launched(state.path());
    let other_dir = tempfile::tempdir().unwrap();
    let (b, _) = launch_as(
        state.path(),
        signed_copy(other_dir.path(), |c| c.heap_max = 32 << 20),
    )
    .unwrap();
    let mut msg1 = [0u8; 577];
    let mut msg2 = [0u8; 1009];
    let (mut msg3, mut a_seen_by_b, mut b_seen_by_a) = ([0u8; 432], [0u8; 32], [0u8; 32]);
    assert_eq!(proxy(&b).ecall_la_start(&mut msg1).unwrap(), 0);
    assert_eq!(proxy(&a).ecall_la_respond(&msg1, &mut msg2).unwrap(), 0);
    assert_eq!(
        proxy(&b)
            .ecall_la_finish_b(&msg2, &mut msg3, &mut a_seen_by_b)
            .unwrap(),
        0
    );
    assert_eq!(
        proxy(&a)
            .ecall_la_finish_a(&msg3, &mut b_seen_by_a)
            .unwrap(),
        0
    );
    assert_eq!(a_seen_by_b, a.identity().mrenclave);
    assert_eq!(b_seen_by_a, b.identity().mrenclave);
    let (mut mac_a, mut mac_b) = ([0u8; 32], [0u8; 32]);
    proxy(&a).ecall_la_mac(b"x", &mut mac_a).unwrap();
    proxy(&b).ecall_la_mac(b"x", &mut mac_b).unwrap();
    assert_eq!(mac_a, mac_b);
}
