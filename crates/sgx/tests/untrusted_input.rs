//! Every parser of this crate on garbage, truncated and bit-flipped input:
//! a clear error, never a panic.

use proptest::prelude::*;
use shield_sgx::config::EnclaveConfig;
use shield_sgx::config::EnclaveConfig as Config;
use shield_sgx::sgxs::measure_sgxs;
use shield_sgx::shield_layout::layout;
use shield_sgx::sigstruct::{self, SigningKey};

fn valid_stream() -> Vec<u8> {
    let mut out = vec![0u8; 64];
    out[..8].copy_from_slice(b"ECREATE\0");
    out[8] = 1;
    out[13] = 0x20; // size 0x2000
    let mut eadd = [0u8; 64];
    eadd[..8].copy_from_slice(b"EADD\0\0\0\0");
    eadd[16] = 1;
    eadd[17] = 2;
    out.extend_from_slice(&eadd);
    let mut eextend = [0u8; 64];
    eextend[..8].copy_from_slice(b"EEXTEND\0");
    out.extend_from_slice(&eextend);
    out.extend_from_slice(&[0xab; 256]);
    out
}

proptest! {
    #[test]
    fn sgxs_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = measure_sgxs(&bytes[..]);
    }

    #[test]
    fn sgxs_truncated_or_flipped(cut in 0usize..448, flip in 0usize..448, bit in 0u8..8) {
        let mut stream = valid_stream();
        stream[flip] ^= 1 << bit;
        let _ = measure_sgxs(&stream[..]);
        let stream = valid_stream();
        let result = measure_sgxs(&stream[..cut]);
        // Cuts at a record boundary after ECREATE are shorter valid streams.
        let boundary = cut == 64 || cut == 128;
        prop_assert!(boundary || result.is_err(), "a stream cut at {} must not measure", cut);
    }

    #[test]
    fn sigstruct_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(parsed) = sigstruct::parse(&bytes) {
            prop_assert!(sigstruct::verify(&parsed).is_err());
        }
    }

    #[test]
    fn pem_and_config_garbage(text in "\\PC{0,300}") {
        let _ = SigningKey::from_pem(&text);
        let _ = EnclaveConfig::from_toml(&text);
        let _ = layout(text.as_bytes(), &Config::default());
    }
}

#[test]
fn clear_errors_for_common_mistakes() {
    let cut = valid_stream();
    let err = measure_sgxs(&cut[..100]).unwrap_err().to_string();
    assert!(err.contains("ends inside"), "{err}");
    let err = measure_sgxs(&b"UNSIZED\0"[..]).unwrap_err().to_string();
    assert!(err.contains("ends inside"), "{err}");
    // ECREATE records that ECREATE would refuse.
    let mut ecreate = valid_stream();
    ecreate[13] = 0x30; // size 0x3000
    let err = measure_sgxs(&ecreate[..]).unwrap_err().to_string();
    assert!(err.contains("not a power of two"), "{err}");
    let mut ecreate = valid_stream();
    ecreate[8] = 0; // SSA frame size
    let err = measure_sgxs(&ecreate[..]).unwrap_err().to_string();
    assert!(err.contains("SSA frame size is zero"), "{err}");
    let err = measure_sgxs(&[b"ECREATE\0".as_slice(), &[0; 56]].concat()[..])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a power of two"), "{err}");
    let err = sigstruct::parse(&[0; 100]).unwrap_err().to_string();
    assert!(err.contains("1808 bytes"), "{err}");
    let err = EnclaveConfig::from_toml("heap_max = \"12Q\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a size"), "{err}");
    let err = EnclaveConfig::from_toml("tcs_count = 0")
        .unwrap_err()
        .to_string();
    assert!(err.contains("tcs_count"), "{err}");
    let err = EnclaveConfig::from_toml("heap = 1")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field"), "{err}");
    let err = layout(b"#!/bin/sh\n", &Config::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("ELF"), "{err}");
}
