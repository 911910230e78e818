//! Shield's own enclave layout: deterministic, and sensitive to every byte
//! of the binary and every layout value of the config.

use shield_sgx::config::EnclaveConfig;
use shield_sgx::shield_layout::layout;

fn fake_elf(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    bytes[..4].copy_from_slice(b"\x7fELF");
    bytes[4] = 2; // 64-bit
    bytes[5] = 1; // little-endian
    bytes[18] = 62; // x86-64
    for (i, b) in bytes.iter_mut().enumerate().skip(64) {
        *b = (i * 7) as u8;
    }
    bytes
}

fn small() -> EnclaveConfig {
    EnclaveConfig {
        heap_max: 0x10000,
        stack_size: 0x4000,
        tcs_count: 2,
        ..EnclaveConfig::default()
    }
}

#[test]
fn same_inputs_same_mrenclave() {
    let binary = fake_elf(10_000);
    let a = layout(&binary, &small()).unwrap().measure().unwrap();
    let b = layout(&binary.clone(), &small())
        .unwrap()
        .measure()
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn every_input_changes_mrenclave() {
    let binary = fake_elf(10_000);
    let base = layout(&binary, &small()).unwrap().measure().unwrap();
    let mut flipped = binary.clone();
    flipped[9_999] ^= 1;
    let mut longer = binary.clone();
    longer.push(0);
    let variants = [
        layout(&flipped, &small()),
        layout(&longer, &small()),
        layout(
            &binary,
            &EnclaveConfig {
                heap_max: 0x20000,
                ..small()
            },
        ),
        layout(
            &binary,
            &EnclaveConfig {
                stack_size: 0x8000,
                ..small()
            },
        ),
        layout(
            &binary,
            &EnclaveConfig {
                tcs_count: 3,
                ..small()
            },
        ),
    ];
    for variant in variants {
        assert_ne!(variant.unwrap().measure().unwrap(), base);
    }
    // Identity fields live in the SIGSTRUCT, not in MRENCLAVE.
    let signed_differently = layout(
        &binary,
        &EnclaveConfig {
            isv_svn: 9,
            debug: true,
            ..small()
        },
    );
    assert_eq!(signed_differently.unwrap().measure().unwrap(), base);
}

#[test]
fn config_sizes_parse() {
    let config = EnclaveConfig::from_toml(
        "heap_max = \"2M\"\nstack_size = 0x10000\ntcs_count = 4\nisv_svn = 3",
    )
    .unwrap();
    assert_eq!(config.heap_max, 2 << 20);
    assert_eq!(config.stack_size, 0x10000);
    assert_eq!(
        (config.tcs_count, config.isv_svn, config.debug),
        (4, 3, false)
    );
}
