use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Attributes, AttributesFlags};
use shield_sgx::keys::PlatformSecret;

use super::*;
use crate::ModelCpu;

fn identity(mrenclave: u8, mrsigner: u8, isvsvn: u16) -> EnclaveIdentity {
    EnclaveIdentity {
        mrenclave: [mrenclave; 32],
        mrsigner: [mrsigner; 32],
        isvprodid: 7,
        isvsvn,
        attributes: Attributes {
            flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
            xfrm: 3,
        },
        miscselect: 0,
    }
}

fn cpu(platform: &PlatformSecret, identity: EnclaveIdentity) -> ModelCpu {
    ModelCpu {
        platform: platform.clone(),
        identity,
    }
}

#[test]
fn sizes_match_the_sdk() {
    assert_eq!(HEADER_SIZE, 560);
    assert_eq!(calc_sealed_data_size(0, 0), Some(560));
    assert_eq!(calc_sealed_data_size(10, 100), Some(670));
    assert_eq!(calc_sealed_data_size(u32::MAX as usize, 1), None);
    assert_eq!(calc_sealed_data_size(0, u32::MAX as usize - 560), None);
    let platform = PlatformSecret::generate([1; 16]);
    let a = cpu(&platform, identity(1, 1, 3));
    let blob = seal(&a, SealPolicy::MrSigner, b"secret", b"label").unwrap();
    assert_eq!(blob.len(), 560 + 6 + 5);
    assert_eq!(read_u32(&blob, 512), 6);
    assert_eq!(read_u32(&blob, 528), 11);
    assert_eq!(&blob[560 + 6..], b"label");
    assert_eq!(u16::from_le_bytes([blob[0], blob[1]]), 4, "KEYNAME = SEAL");
    assert_eq!(
        u16::from_le_bytes([blob[2], blob[3]]),
        2,
        "KEYPOLICY = MRSIGNER"
    );
    assert_eq!(u16::from_le_bytes([blob[4], blob[5]]), 3, "ISVSVN");
    assert_eq!(&blob[8..24], &[1; 16], "CPUSVN");
    assert_eq!(unauthenticated_aad(&blob).unwrap(), b"label");
}

#[test]
fn round_trip_both_policies_and_fresh_key_ids() {
    let platform = PlatformSecret::generate([1; 16]);
    let a = cpu(&platform, identity(1, 1, 3));
    for policy in [SealPolicy::MrEnclave, SealPolicy::MrSigner] {
        let one = seal(&a, policy, b"the secret", b"aad").unwrap();
        let two = seal(&a, policy, b"the secret", b"aad").unwrap();
        assert_ne!(one[40..72], two[40..72], "a fresh KEYID per blob");
        assert_ne!(
            one[560..570],
            two[560..570],
            "so a fresh key and ciphertext"
        );
        let out = unseal(&a, &one).unwrap();
        assert_eq!(&out.data[..], b"the secret");
        assert_eq!(out.aad, b"aad");
        assert_eq!(out.policy, policy);
        assert_eq!(out.isvsvn, 3);
    }
    let empty = seal(&a, SealPolicy::MrEnclave, b"", b"").unwrap();
    assert!(unseal(&a, &empty).unwrap().data.is_empty());
}

#[test]
fn every_flipped_byte_and_every_truncation_is_refused() {
    let platform = PlatformSecret::generate([1; 16]);
    let a = cpu(&platform, identity(1, 1, 3));
    let blob = seal(&a, SealPolicy::MrSigner, b"data to protect", b"header").unwrap();
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = blob.clone();
            bad[i] ^= bit;
            assert!(unseal(&a, &bad).is_err(), "byte {i} bit {bit:#x} flipped");
        }
    }
    for len in 0..blob.len() {
        assert!(unseal(&a, &blob[..len]).is_err(), "truncated to {len}");
    }
    let mut long = blob.clone();
    long.push(0);
    assert!(unseal(&a, &long).is_err(), "extended");
}

#[test]
fn mrenclave_policy_refuses_another_enclave() {
    let platform = PlatformSecret::generate([1; 16]);
    let a = cpu(&platform, identity(1, 9, 3));
    let b = cpu(&platform, identity(2, 9, 3));
    let blob = seal(&a, SealPolicy::MrEnclave, b"only for a", b"").unwrap();
    assert_eq!(
        unseal(&b, &blob).unwrap_err(),
        Error::Authentication("sealed data's tag does not verify")
    );
    // Under MRSIGNER the same two enclaves share the key.
    let shared = seal(&a, SealPolicy::MrSigner, b"for the signer", b"").unwrap();
    assert_eq!(&unseal(&b, &shared).unwrap().data[..], b"for the signer");
    // Another signer cannot.
    let c = cpu(&platform, identity(1, 8, 3));
    assert!(unseal(&c, &shared).is_err());
}

#[test]
fn mrsigner_policy_follows_isvsvn() {
    let platform = PlatformSecret::generate([1; 16]);
    let v3 = cpu(&platform, identity(1, 9, 3));
    let v2 = cpu(&platform, identity(2, 9, 2));
    let v4 = cpu(&platform, identity(3, 9, 4));
    let blob = seal(&v3, SealPolicy::MrSigner, b"svn 3", b"").unwrap();
    assert!(
        matches!(unseal(&v2, &blob), Err(Error::Key(_))),
        "lower ISVSVN"
    );
    assert_eq!(
        &unseal(&v4, &blob).unwrap().data[..],
        b"svn 3",
        "higher ISVSVN"
    );
    assert_eq!(&unseal(&v3, &blob).unwrap().data[..], b"svn 3");
}

#[test]
fn another_machine_cannot_unseal() {
    let here = PlatformSecret::generate([1; 16]);
    let there = PlatformSecret::generate([1; 16]);
    let a = cpu(&here, identity(1, 1, 3));
    let a_elsewhere = cpu(&there, identity(1, 1, 3));
    for policy in [SealPolicy::MrEnclave, SealPolicy::MrSigner] {
        let blob = seal(&a, policy, b"stays here", b"").unwrap();
        assert!(unseal(&a_elsewhere, &blob).is_err());
    }
}

#[test]
fn a_forged_shape_is_refused_before_key_derivation() {
    let platform = PlatformSecret::generate([1; 16]);
    let a = cpu(&platform, identity(1, 1, 3));
    let blob = seal(&a, SealPolicy::MrSigner, b"abc", b"de").unwrap();
    let mut bad = blob.clone();
    bad[512..516].copy_from_slice(&100u32.to_le_bytes());
    assert!(matches!(unseal(&a, &bad), Err(Error::Malformed(_))));
    let mut bad = blob.clone();
    bad[528..532].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(unseal(&a, &bad), Err(Error::Malformed(_))));
    let mut bad = blob.clone();
    bad[2] = 3; // MRENCLAVE | MRSIGNER
    assert!(matches!(unseal(&a, &bad), Err(Error::Malformed(_))));
}

proptest::proptest! {
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1200)) {
        let platform = PlatformSecret::generate([1; 16]);
        let a = cpu(&platform, identity(1, 1, 3));
        proptest::prop_assert!(unseal(&a, &bytes).is_err());
    }
}
