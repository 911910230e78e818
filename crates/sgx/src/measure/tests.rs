use sgx_isa::SecinfoFlags;
use sha2::{Digest, Sha256};

use super::*;

/// The SDM's records for a two-page enclave, written out byte by byte, so the
/// measurer is checked against the manual rather than against itself.
#[test]
fn tiny_layout_matches_hand_written_records() {
    let mut data = Box::new([0u8; 4096]);
    for (i, byte) in data.iter_mut().enumerate() {
        *byte = (i % 251) as u8;
    }
    let layout = Layout {
        ssa_frame_size: 1,
        size: 0x4000,
        pages: vec![
            Page {
                measured: ChunkMask(0b101),
                ..Page::regular(0, SecinfoFlags::R | SecinfoFlags::X, Some(data.clone()))
            },
            Page {
                measured: ChunkMask::NONE,
                ..Page::regular(0x1000, SecinfoFlags::R | SecinfoFlags::W, None)
            },
        ],
    };

    let mut expected = Sha256::new();
    let mut ecreate = [0u8; 64];
    ecreate[..8].copy_from_slice(b"ECREATE\0");
    ecreate[8] = 1; // SSAFRAMESIZE = 1
    ecreate[13] = 0x40; // SIZE = 0x4000 (little-endian at byte 12)
    expected.update(ecreate);

    let mut eadd = [0u8; 64];
    eadd[..8].copy_from_slice(b"EADD\0\0\0\0");
    eadd[16] = 0x05; // R | X
    eadd[17] = 0x02; // PT_REG
    expected.update(eadd);
    for chunk in [0usize, 2] {
        let mut eextend = [0u8; 64];
        eextend[..8].copy_from_slice(b"EEXTEND\0");
        eextend[8..16].copy_from_slice(&((chunk * 256) as u64).to_le_bytes());
        expected.update(eextend);
        expected.update(&data[chunk * 256..(chunk + 1) * 256]);
    }
    let mut eadd2 = [0u8; 64];
    eadd2[..8].copy_from_slice(b"EADD\0\0\0\0");
    eadd2[9] = 0x10; // offset 0x1000
    eadd2[16] = 0x03; // R | W
    eadd2[17] = 0x02;
    expected.update(eadd2);

    let expected: [u8; 32] = expected.finalize().into();
    assert_eq!(layout.measure().unwrap(), expected);
}

#[test]
fn layouts_that_ecreate_or_eadd_would_refuse() {
    let page = |offset| Page::regular(offset, SecinfoFlags::R, None);
    let cases = [
        (
            Layout {
                ssa_frame_size: 1,
                size: 0x3000,
                pages: vec![],
            },
            "power of two",
        ),
        (
            Layout {
                ssa_frame_size: 0,
                size: 0x2000,
                pages: vec![],
            },
            "SSA frame size",
        ),
        (
            Layout {
                ssa_frame_size: 1,
                size: 0x2000,
                pages: vec![page(0x800)],
            },
            "page-aligned",
        ),
        (
            Layout {
                ssa_frame_size: 1,
                size: 0x2000,
                pages: vec![page(0x2000)],
            },
            "page-aligned",
        ),
        (
            Layout {
                ssa_frame_size: 1,
                size: 0x2000,
                pages: vec![page(0), page(0)],
            },
            "twice",
        ),
    ];
    for (layout, needle) in cases {
        let err = layout.measure().unwrap_err().to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    }
}
