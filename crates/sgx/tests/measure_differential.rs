//! MRENCLAVE against Fortanix's `sgxs` crate, an independent implementation
//! of the measurement stream: for generated layouts, `sgxs` writes the
//! stream and computes the hash of its measured records; we compute
//! MRENCLAVE from the layout directly and from parsing that stream.

use proptest::prelude::*;
use sgxs::sgxs::{CanonicalSgxsWriter, MeasECreate, PageChunk, SecinfoTruncated, copy_measured};
use sha2::{Digest, Sha256};
use shield_sgx::isa::{PageType, SecinfoFlags};
use shield_sgx::measure::{ChunkMask, Layout, Page};
use shield_sgx::sgxs::measure_sgxs;

/// `sgxs`'s writer needs an `io::Write`; this one hashes what it is given.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn to_sgxs_stream(layout: &Layout) -> Vec<u8> {
    let mut out = Vec::new();
    let ecreate = MeasECreate {
        ssaframesize: layout.ssa_frame_size,
        size: layout.size,
    };
    let mut writer = CanonicalSgxsWriter::new(&mut out, ecreate, true).unwrap();
    for page in &layout.pages {
        let secinfo = SecinfoTruncated { flags: page.flags };
        let chunks: [PageChunk; 16] = std::array::from_fn(|i| {
            if page.measured.contains(i) {
                PageChunk::IncludedMeasured
            } else {
                PageChunk::Included
            }
        });
        match &page.data {
            Some(data) => {
                let mut reader = &data[..];
                writer
                    .write_page((&mut reader, chunks), Some(page.offset), secinfo)
                    .unwrap();
            }
            None if page.measured == ChunkMask::ALL => {
                let mut zeros = std::io::Read::take(std::io::repeat(0), 4096);
                writer
                    .write_page((&mut zeros, chunks), Some(page.offset), secinfo)
                    .unwrap();
            }
            None => writer
                .write_page(None::<&mut &[u8]>, Some(page.offset), secinfo)
                .unwrap(),
        }
    }
    out
}

fn sgxs_hash(stream: &[u8]) -> [u8; 32] {
    let mut hasher = HashWriter(Sha256::new());
    copy_measured(&mut &stream[..], &mut hasher).unwrap();
    hasher.0.finalize().into()
}

fn page_strategy() -> impl Strategy<Value = (u8, u8, u16, Option<u8>)> {
    // (page type: REG or TCS, permissions, chunk mask, fill byte or none)
    (
        0u8..2,
        0u8..8,
        any::<u16>(),
        proptest::option::of(any::<u8>()),
    )
}

fn layout_strategy() -> impl Strategy<Value = Layout> {
    (
        1u32..4,
        proptest::collection::vec((page_strategy(), 1u64..3), 0..24),
    )
        .prop_map(|(ssa, pages)| {
            let mut offset = 0;
            let mut out = Vec::new();
            for ((kind, perms, mask, fill), gap) in pages {
                let flags = if kind == 1 {
                    SecinfoFlags::from(PageType::Tcs)
                } else {
                    SecinfoFlags::from(PageType::Reg)
                        | SecinfoFlags::from_bits_truncate(u64::from(perms))
                };
                let data = fill.map(|byte| {
                    let mut page = Box::new([0u8; 4096]);
                    for (i, b) in page.iter_mut().enumerate() {
                        *b = byte.wrapping_add(i as u8);
                    }
                    page
                });
                let measured = if data.is_none() && mask != 0xffff {
                    ChunkMask::NONE
                } else {
                    ChunkMask(mask)
                };
                out.push(Page {
                    offset,
                    flags,
                    data,
                    measured,
                });
                offset += gap * 4096;
            }
            let size = offset.max(0x2000).next_power_of_two();
            Layout {
                ssa_frame_size: ssa,
                size,
                pages: out,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn three_ways_to_measure_agree(layout in layout_strategy()) {
        let stream = to_sgxs_stream(&layout);
        let ours = layout.measure().unwrap();
        prop_assert_eq!(ours, sgxs_hash(&stream));
        prop_assert_eq!(ours, measure_sgxs(&stream[..]).unwrap().mrenclave);
    }
}

#[test]
fn fixed_shapes_agree() {
    let shapes = [
        // Empty enclave: ECREATE only.
        Layout {
            ssa_frame_size: 1,
            size: 0x2000,
            pages: vec![],
        },
        // Code page, a heap page added without measurement, a TCS.
        Layout {
            ssa_frame_size: 2,
            size: 0x10000,
            pages: vec![
                Page::regular(
                    0,
                    SecinfoFlags::R | SecinfoFlags::X,
                    Some(Box::new([0x90; 4096])),
                ),
                Page {
                    measured: ChunkMask::NONE,
                    ..Page::regular(0x1000, SecinfoFlags::R | SecinfoFlags::W, None)
                },
                Page {
                    offset: 0x3000,
                    flags: SecinfoFlags::from(PageType::Tcs),
                    data: None,
                    measured: ChunkMask::ALL,
                },
            ],
        },
    ];
    for layout in shapes {
        let stream = to_sgxs_stream(&layout);
        assert_eq!(layout.measure().unwrap(), sgxs_hash(&stream));
        let summary = measure_sgxs(&stream[..]).unwrap();
        assert_eq!(summary.mrenclave, layout.measure().unwrap());
        assert_eq!(summary.pages, layout.pages.len() as u64);
    }
}
