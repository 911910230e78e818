//! Shield's own enclave layout: deterministic, and sensitive to every byte
//! of the binary and every layout value of the config.

use shield_sgx::config::EnclaveConfig;
use shield_sgx::shield_layout::layout;

/// The smallest shape the layout accepts: an x86-64 PIE whose one
/// executable PT_LOAD segment maps the whole `len`-byte file, its entry
/// point just past the headers; the rest is a byte pattern.
fn fake_elf(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    for (i, b) in bytes.iter_mut().enumerate().skip(120) {
        *b = (i * 7) as u8;
    }
    bytes[..7].copy_from_slice(b"\x7fELF\x02\x01\x01"); // ELF64, little-endian, v1
    put(&mut bytes, 16, &3u16.to_le_bytes()); // ET_DYN
    put(&mut bytes, 18, &62u16.to_le_bytes()); // x86-64
    put(&mut bytes, 20, &1u32.to_le_bytes()); // e_version
    put(&mut bytes, 24, &120u64.to_le_bytes()); // e_entry
    put(&mut bytes, 32, &64u64.to_le_bytes()); // e_phoff
    put(&mut bytes, 54, &56u16.to_le_bytes()); // e_phentsize
    put(&mut bytes, 56, &1u16.to_le_bytes()); // e_phnum
    put(&mut bytes, 64, &1u32.to_le_bytes()); // PT_LOAD
    put(&mut bytes, 68, &5u32.to_le_bytes()); // R X
    put(&mut bytes, 64 + 32, &(len as u64).to_le_bytes()); // p_filesz
    put(&mut bytes, 64 + 40, &(len as u64).to_le_bytes()); // p_memsz
    bytes
}

fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
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

#[test]
fn malformed_elf_files_are_refused() {
    // What the layout once accepted: a 220-byte file that is an x86-64 ELF
    // header and garbage.
    let mut garbage = vec![0u8; 220];
    for (i, b) in garbage.iter_mut().enumerate() {
        *b = (i * 37 + 11) as u8;
    }
    garbage[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    put(&mut garbage, 16, &3u16.to_le_bytes());
    put(&mut garbage, 18, &62u16.to_le_bytes());
    put(&mut garbage, 20, &1u32.to_le_bytes());

    type Mutation = fn(&mut Vec<u8>);
    let cases: [(Mutation, &str); 9] = [
        (|f| *f = f[..63].to_vec(), "no ELF header"),
        (|f| f[6] = 0, "ELF file of version 1"),
        (
            |f| put(f, 16, &1u16.to_le_bytes()),
            "ELF type 1 is not an executable",
        ),
        (
            |f| put(f, 18, &40u16.to_le_bytes()),
            "ELF machine 40 is not x86-64",
        ),
        (
            |f| put(f, 32, &4090u64.to_le_bytes()),
            "program header 0 is past the end",
        ),
        (
            |f| put(f, 64 + 8, &1u64.to_le_bytes()),
            "segment 0's file bytes are past the end",
        ),
        (
            |f| put(f, 64 + 40, &1u64.to_le_bytes()),
            "smaller in memory than in the file",
        ),
        (|f| put(f, 64, &6u32.to_le_bytes()), "no loadable segment"),
        (
            |f| put(f, 68, &4u32.to_le_bytes()),
            "entry point 0x78 is not in an executable segment",
        ),
    ];
    let valid = fake_elf(4096);
    layout(&valid, &small()).unwrap();
    for (mutate, needle) in cases {
        let mut bad = valid.clone();
        mutate(&mut bad);
        let Err(err) = layout(&bad, &small()).map(|_| ()) else {
            panic!("accepted: {needle}");
        };
        let err = err.to_string();
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(err.contains("not a Shield enclave binary"), "{err}");
    }
    let Err(err) = layout(&garbage, &small()).map(|_| ()) else {
        panic!("the garbage ELF is accepted");
    };
    assert!(err.to_string().contains("program header size"), "{err}");
}
