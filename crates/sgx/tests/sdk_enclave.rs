//! The SDK signed-enclave front end against a synthetic enclave written here
//! byte by byte from the SDK's public formats (ELF64, `metadata_t`, layout and
//! patch tables), whose MRENCLAVE this file computes on its own: the ECREATE,
//! EADD and EEXTEND records of the SDM, hashed with `sha2`, page by page as
//! the SDK loader would add them. It reaches the versions and corners the
//! real signed enclave of `sdk_real.rs` does not.

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use shield_sgx::sdk::{
    SdkError, SdkLimits, is_sdk_enclave, measure_sdk_enclave, measure_sdk_enclave_with_limits,
};

const PAGE: usize = 4096;
const ENCLAVE_SIZE: u64 = 0x20000;
const SI_RX: u64 = 0x205;
const SI_RW: u64 = 0x203;
const SI_TCS: u64 = 0x100;
const EADD: u16 = 1;
const EEXTEND: u16 = 2;
const POST_ADD: u16 = 8;
const POST_REMOVE: u16 = 16;

// File map of the synthetic enclave.
const SEG0_FILESZ: usize = 0x1800;
const SEG1_FILE: usize = 0x2100;
const SEG1_VADDR: u64 = 0x3100;
const SEG1_FILESZ: usize = 0x300;
/// g_global_data: vaddr 0x3200, file 0x2200; patched from the metadata.
const GD_FILE: usize = 0x2200;
const GD_SIZE: usize = 32;
const NOTE_FILE: usize = 0x2400;
/// Address of the RELA table in the text-relocation variant.
const RELA_ADDR: u64 = 0x1e00;

// Offsets inside one metadata blob.
const HDR: usize = 1888;
/// The ELRANGE directory and entry (read only for ELRANGE metadata).
const ELRANGE_AT: usize = HDR;
const TCS_TMPL: usize = ELRANGE_AT + 32;
const GD_TMPL: usize = TCS_TMPL + 72;
const ZEROS: usize = GD_TMPL + GD_SIZE;
const TD_DATA: usize = ZEROS + 8;
const TD_SIZE: usize = 100;
const PATCHES: usize = TD_DATA + TD_SIZE;
const LAYOUT: usize = PATCHES + 4 * 32;
const LAYOUT_RECORDS: usize = 10;
const BLOB_SIZE: usize = LAYOUT + LAYOUT_RECORDS * 32;
/// Index of the thread group record in the layout table.
const GROUP_RECORD: usize = 6;

#[derive(Clone, Debug)]
struct Spec {
    /// One metadata blob per version, in this order.
    versions: Vec<u64>,
    /// File bytes of the data segment (at most SEG1_FILESZ).
    seg1_filesz: usize,
    seg1_memsz: u64,
    /// Add a PT_DYNAMIC with DT_TEXTREL and a relocation in the text segment.
    textrel: bool,
    /// ELRANGE (image address, range start, range size), for major
    /// versions above 10.
    elrange: Option<(u64, u64, u64)>,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            versions: vec![(2 << 32) | 3],
            seg1_filesz: SEG1_FILESZ,
            seg1_memsz: 0x2000,
            textrel: false,
            elrange: None,
        }
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn put16(buf: &mut [u8], at: usize, v: u16) {
    put(buf, at, &v.to_le_bytes());
}

fn put32(buf: &mut [u8], at: usize, v: u32) {
    put(buf, at, &v.to_le_bytes());
}

fn put64(buf: &mut [u8], at: usize, v: u64) {
    put(buf, at, &v.to_le_bytes());
}

/// Filler bytes that differ from page to page.
fn filler(i: usize) -> u8 {
    (i.wrapping_mul(7) % 251) as u8 + 1
}

fn tcs_template() -> [u8; 72] {
    let mut t = [0u8; 72];
    put64(&mut t, 16, 0x1000); // OSSA: the SSA follows the TCS
    put32(&mut t, 28, 2); // NSSA
    put64(&mut t, 32, 0x40); // OENTRY
    put64(&mut t, 48, 0x3000); // OFSBASE
    put64(&mut t, 56, 0x3000); // OGSBASE
    put32(&mut t, 64, 0xffff_ffff);
    put32(&mut t, 68, 0xffff_ffff);
    t
}

fn gd_template() -> [u8; GD_SIZE] {
    std::array::from_fn(|i| 0xa0 + i as u8)
}

fn td_data() -> Vec<u8> {
    (0..TD_SIZE).map(|i| 0x5a ^ i as u8).collect()
}

/// A 1808-byte SIGSTRUCT, laid out by SDM offsets.
fn sigstruct(enclavehash: [u8; 32]) -> Vec<u8> {
    let mut s = vec![0u8; 1808];
    put(
        &mut s,
        0,
        &[6, 0, 0, 0, 0xe1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
    );
    put32(&mut s, 20, 0x2026_1126);
    put(
        &mut s,
        24,
        &[1, 1, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 1, 0, 0, 0],
    );
    for (i, b) in s[128..512].iter_mut().enumerate() {
        *b = filler(i + 3);
    }
    put32(&mut s, 512, 3);
    put64(&mut s, 928, 0x4 | 0x2); // MODE64BIT | DEBUG
    put64(&mut s, 936, 0x3);
    put(&mut s, 960, &enclavehash);
    put16(&mut s, 1024, 7);
    put16(&mut s, 1026, 1);
    s
}

fn layout_entry(
    id: u16,
    attributes: u16,
    pages: u32,
    rva: u64,
    content: (u32, u32),
    si: u64,
) -> [u8; 32] {
    let mut e = [0u8; 32];
    put16(&mut e, 0, id);
    put16(&mut e, 2, attributes);
    put32(&mut e, 4, pages);
    put64(&mut e, 8, rva);
    put32(&mut e, 16, content.0);
    put32(&mut e, 20, content.1);
    put64(&mut e, 24, si);
    e
}

fn metadata_blob(version: u64, enclavehash: [u8; 32], elrange: Option<(u64, u64, u64)>) -> Vec<u8> {
    let mut m = vec![0u8; BLOB_SIZE];
    put64(&mut m, 0, 0x86A8_0294_635D_0E4C);
    put64(&mut m, 8, version);
    put32(&mut m, 16, BLOB_SIZE as u32);
    put32(&mut m, 20, 1); // tcs_policy
    put32(&mut m, 24, 1); // ssa_frame_size
    put32(&mut m, 28, 2632);
    put32(&mut m, 36, 1); // tcs_min_pool
    put64(&mut m, 40, ENCLAVE_SIZE);
    put64(&mut m, 48, 0x6);
    put64(&mut m, 56, 0x3);
    put(&mut m, 64, &sigstruct(enclavehash));
    put32(&mut m, 1872, PATCHES as u32);
    put32(&mut m, 1876, 4 * 32);
    put32(&mut m, 1880, LAYOUT as u32);
    put32(&mut m, 1884, (LAYOUT_RECORDS * 32) as u32);
    put(&mut m, TCS_TMPL, &tcs_template());
    put(&mut m, GD_TMPL, &gd_template());
    put(&mut m, TD_DATA, &td_data());
    if let Some((image, start, size)) = elrange {
        put32(&mut m, ELRANGE_AT, (ELRANGE_AT + 8) as u32);
        put32(&mut m, ELRANGE_AT + 4, 24);
        put64(&mut m, ELRANGE_AT + 8, image);
        put64(&mut m, ELRANGE_AT + 16, start);
        put64(&mut m, ELRANGE_AT + 24, size);
    }
    // Patches: the global data, then e_shoff, e_shnum, e_shstrndx zeroed.
    for (i, (dst, src, size)) in [
        (GD_FILE, GD_TMPL, GD_SIZE),
        (40, ZEROS, 8),
        (60, ZEROS, 2),
        (62, ZEROS, 2),
    ]
    .into_iter()
    .enumerate()
    {
        let at = PATCHES + i * 32;
        put64(&mut m, at, dst as u64);
        put32(&mut m, at + 8, src as u32);
        put32(&mut m, at + 12, size as u32);
    }
    let mut group = [0u8; 32];
    put16(&mut group, 0, 0x1000 | 9);
    put16(&mut group, 2, 4); // guard, stack, TCS, SSA
    put32(&mut group, 4, 2);
    put64(&mut group, 8, 0x5000);
    let records: [[u8; 32]; LAYOUT_RECORDS] = [
        layout_entry(1, EADD, 2, 0x6000, (0, 0), SI_RW), // heap min: added, not measured
        layout_entry(3, POST_ADD, 2, 0x8000, (0, 0), SI_RW), // heap max: EDMM only
        layout_entry(10, 0, 1, 0xa000, (0, 0), 0),       // guard
        layout_entry(8, EADD | EEXTEND, 1, 0xb000, (0xcccc_cccc, 0), SI_RW), // stack
        layout_entry(4, EADD | EEXTEND, 1, 0xc000, (72, TCS_TMPL as u32), SI_TCS),
        layout_entry(6, EADD | EEXTEND, 2, 0xd000, (0, 0), SI_RW), // SSA
        group,
        layout_entry(
            5,
            EADD | EEXTEND,
            1,
            0x19000,
            (TD_SIZE as u32, TD_DATA as u32),
            SI_RW,
        ),
        layout_entry(2, EADD | POST_ADD | POST_REMOVE, 1, 0x1a000, (0, 0), SI_RW),
        layout_entry(10, 0, 5, 0x1b000, (0, 0), 0),
    ];
    for (i, record) in records.iter().enumerate() {
        put(&mut m, LAYOUT + i * 32, record);
    }
    m
}

/// The enclave file, with `enclavehash` in every blob's SIGSTRUCT.
fn build(spec: &Spec, enclavehash: [u8; 32]) -> Vec<u8> {
    let mut f = vec![0u8; NOTE_FILE];
    for (i, b) in f.iter_mut().enumerate().take(SEG0_FILESZ).skip(0x100) {
        *b = filler(i);
    }
    for (i, b) in f
        .iter_mut()
        .enumerate()
        .take(SEG1_FILE + SEG1_FILESZ)
        .skip(SEG1_FILE)
    {
        *b = filler(i * 3);
    }
    for b in &mut f[GD_FILE..GD_FILE + GD_SIZE] {
        *b = 0xee; // overwritten by the patch
    }
    // The note: namesz, descsz, type, "sgx_metadata\0", then the blobs.
    let mut desc = Vec::new();
    for &version in &spec.versions {
        desc.extend(metadata_blob(version, enclavehash, spec.elrange));
    }
    let note_start = f.len();
    f.extend(13u32.to_le_bytes());
    f.extend((desc.len() as u32).to_le_bytes());
    f.extend(1u32.to_le_bytes());
    f.extend(b"sgx_metadata\0");
    f.extend(&desc);
    let note_len = f.len() - note_start;
    while !f.len().is_multiple_of(4) {
        f.push(0);
    }
    let shstrtab_start = f.len();
    let names = b"\0.note.sgxmeta\0.shstrtab\0.rela.dyn\0";
    f.extend(names);
    while !f.len().is_multiple_of(8) {
        f.push(0);
    }
    // Dynamic table and one RELA table (sh_addr RELA_ADDR): a relocation
    // straddling text pages 0 and 1, and an R_X86_64_NONE that is ignored.
    let dynamic_start = f.len();
    for (tag, value) in [(22u64, 0u64), (7, RELA_ADDR), (8, 48), (0, 0)] {
        f.extend(tag.to_le_bytes());
        f.extend(value.to_le_bytes());
    }
    let rela_start = f.len();
    for (target, info) in [(0x0ffcu64, 8u64), (0x3000, 0)] {
        f.extend(target.to_le_bytes());
        f.extend(info.to_le_bytes());
        f.extend(0u64.to_le_bytes());
    }
    let shoff = f.len();
    f.extend([0u8; 64]); // null section
    let mut note_sh = [0u8; 64];
    put32(&mut note_sh, 0, 1);
    put32(&mut note_sh, 4, 7); // SHT_NOTE, not allocated
    put64(&mut note_sh, 24, note_start as u64);
    put64(&mut note_sh, 32, note_len as u64);
    put64(&mut note_sh, 48, 4);
    f.extend(note_sh);
    let mut str_sh = [0u8; 64];
    put32(&mut str_sh, 0, 15);
    put32(&mut str_sh, 4, 3); // SHT_STRTAB
    put64(&mut str_sh, 24, shstrtab_start as u64);
    put64(&mut str_sh, 32, names.len() as u64);
    put64(&mut str_sh, 48, 1);
    f.extend(str_sh);
    let mut rela_sh = [0u8; 64];
    put32(&mut rela_sh, 0, 25);
    put32(&mut rela_sh, 4, 4); // SHT_RELA
    put64(&mut rela_sh, 16, RELA_ADDR);
    put64(&mut rela_sh, 24, rela_start as u64);
    put64(&mut rela_sh, 32, 48);
    put64(&mut rela_sh, 48, 8);
    f.extend(rela_sh);
    let sections: u16 = if spec.textrel { 4 } else { 3 };

    // ELF header.
    put(&mut f, 0, b"\x7fELF\x02\x01\x01");
    put16(&mut f, 16, 3); // ET_DYN
    put16(&mut f, 18, 62); // x86-64
    put32(&mut f, 20, 1);
    put64(&mut f, 24, 0x40); // e_entry
    put64(&mut f, 32, 64); // e_phoff
    put64(&mut f, 40, shoff as u64);
    put16(&mut f, 52, 64);
    put16(&mut f, 54, 56);
    put16(&mut f, 56, 3 + u16::from(spec.textrel));
    put16(&mut f, 58, 64);
    put16(&mut f, 60, sections);
    put16(&mut f, 62, 2);
    // Program headers: text (R X), data (R W, with .bss), and a note.
    let mut phdrs: Vec<(u32, u32, u64, u64, u64, u64, u64)> = vec![
        (
            1,
            4 | 1,
            0,
            0,
            SEG0_FILESZ as u64,
            SEG0_FILESZ as u64,
            0x1000,
        ),
        (
            1,
            4 | 2,
            SEG1_FILE as u64,
            SEG1_VADDR,
            spec.seg1_filesz as u64,
            spec.seg1_memsz,
            0x1000,
        ),
        (4, 4, note_start as u64, 0, note_len as u64, 0, 4),
    ];
    if spec.textrel {
        phdrs.push((2, 4 | 2, dynamic_start as u64, 0x5000, 64, 64, 8));
    }
    for (i, (kind, flags, offset, vaddr, filesz, memsz, align)) in phdrs.into_iter().enumerate() {
        let at = 64 + i * 56;
        put32(&mut f, at, kind);
        put32(&mut f, at + 4, flags);
        put64(&mut f, at + 8, offset);
        put64(&mut f, at + 16, vaddr);
        put64(&mut f, at + 24, vaddr);
        put64(&mut f, at + 32, filesz);
        put64(&mut f, at + 40, memsz);
        put64(&mut f, at + 48, align);
    }
    f
}

/// SHA-256 over the SDM's 64-byte measurement records.
/// The second field is added to every page offset (the ELRANGE shift).
struct Records(Sha256, u64);

impl Records {
    fn ecreate(ssa_frame_size: u32, size: u64) -> Self {
        let mut r = [0u8; 64];
        put(&mut r, 0, b"ECREATE\0");
        put32(&mut r, 8, ssa_frame_size);
        put64(&mut r, 12, size);
        let mut h = Sha256::new();
        h.update(r);
        Self(h, 0)
    }

    /// EADD, then EEXTEND of all 16 chunks when `contents` is given.
    fn page(&mut self, offset: u64, secinfo: u64, contents: Option<&[u8]>) {
        let mut r = [0u8; 64];
        put(&mut r, 0, b"EADD\0\0\0\0");
        let offset = offset + self.1;
        put64(&mut r, 8, offset);
        put64(&mut r, 16, secinfo);
        self.0.update(r);
        if let Some(contents) = contents {
            let mut page = [0u8; PAGE];
            page[..contents.len()].copy_from_slice(contents);
            for chunk in 0..16 {
                let mut r = [0u8; 64];
                put(&mut r, 0, b"EEXTEND\0");
                put64(&mut r, 8, offset + chunk as u64 * 256);
                self.0.update(r);
                self.0.update(&page[chunk * 256..(chunk + 1) * 256]);
            }
        }
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// MRENCLAVE of the synthetic enclave, by hand: the pages the SDK loader adds
/// for this particular file, in its order.
fn expected_mrenclave(spec: &Spec) -> [u8; 32] {
    let file = build(spec, [0; 32]);
    // The loader's patches, applied by hand.
    let mut image = file.clone();
    image[GD_FILE..GD_FILE + GD_SIZE].copy_from_slice(&gd_template());
    image[40..48].fill(0);
    image[60..64].fill(0);

    let mut m = match spec.elrange {
        Some((image, start, size)) => Records(Records::ecreate(1, size).0, image - start),
        None => Records::ecreate(1, ENCLAVE_SIZE),
    };
    // Text segment: one full page, one partial page.
    // Text relocations make both text pages writable.
    let text = if spec.textrel { SI_RX | 0x2 } else { SI_RX };
    m.page(0, text, Some(&image[..PAGE]));
    m.page(0x1000, text, Some(&image[PAGE..SEG0_FILESZ]));
    // Data segment starts 0x100 into page 0x3000; then its zero tail (from
    // page 0x3000 itself when the segment has no file bytes).
    let mut page = 0x3000;
    if spec.seg1_filesz > 0 {
        let mut first = vec![0u8; 0x100];
        first.extend(&image[SEG1_FILE..SEG1_FILE + spec.seg1_filesz]);
        m.page(0x3000, SI_RW, Some(&first));
        page = 0x4000;
    }
    let tail_end = (SEG1_VADDR + spec.seg1_memsz).next_multiple_of(0x1000);
    while page < tail_end {
        m.page(page, SI_RW, Some(&[]));
        page += 0x1000;
    }
    if spec.versions == [(1 << 32) | 3] && spec.seg1_memsz == 0x1f00 {
        // SDK 1.5's extra zero page after the highest segment.
        m.page(0x5000, SI_RW, Some(&[]));
    }
    // Heap: added, not measured.
    m.page(0x6000, SI_RW, None);
    m.page(0x7000, SI_RW, None);
    // Thread context, then the group's two replays 0x5000 apart.
    let stack = vec![0xccu8; PAGE];
    for shift in [0u64, 0x5000, 0xa000] {
        m.page(0xb000 + shift, SI_RW, Some(&stack));
        let tcs_at = 0xc000 + shift;
        let mut tcs = tcs_template();
        put64(&mut tcs, 16, 0x1000 + tcs_at);
        put64(&mut tcs, 48, 0x3000 + tcs_at);
        put64(&mut tcs, 56, 0x3000 + tcs_at);
        m.page(tcs_at, SI_TCS, Some(&tcs));
        m.page(0xd000 + shift, SI_RW, Some(&[]));
        m.page(0xe000 + shift, SI_RW, Some(&[]));
    }
    m.page(0x19000, SI_RW, Some(&td_data()));
    // Added at load, trimmed after EINIT: EADD only.
    m.page(0x1a000, SI_RW, None);
    m.finish()
}

/// A synthetic enclave whose SIGSTRUCT carries the right ENCLAVEHASH.
fn signed(spec: &Spec) -> (Vec<u8>, [u8; 32]) {
    let expected = expected_mrenclave(spec);
    (build(spec, expected), expected)
}

/// Byte offset of the first metadata blob in the file.
fn blob_offset() -> usize {
    NOTE_FILE + 12 + 13
}

#[test]
fn measures_the_synthetic_enclave() {
    let spec = Spec::default();
    let (file, expected) = signed(&spec);
    assert!(is_sdk_enclave(&file));
    let m = measure_sdk_enclave(&file).unwrap();
    assert_eq!(hex::encode(m.mrenclave), hex::encode(expected));
    assert!(m.matches_sigstruct);
    assert_eq!(m.sigstruct.enclavehash, expected);
    assert_eq!(m.sigstruct.isvprodid, 7);
    assert_eq!(
        (m.metadata.version_major(), m.metadata.version_minor()),
        (2, 3)
    );
    assert_eq!(m.metadata.enclave_size, ENCLAVE_SIZE);
    assert_eq!(m.metadata.ssa_frame_size, 1);
    assert_eq!(m.metadata.tcs_policy, 1);
    assert_eq!(m.metadata.file_offset, blob_offset() as u64);
    assert_eq!(m.metadata.layout_records, LAYOUT_RECORDS);
    assert_eq!(m.metadata.layout_ranges, LAYOUT_RECORDS - 1 + 8);
    assert_eq!(m.metadata.patches, 4);
    // 5 segment pages, 2 heap, 3 × (stack, TCS, 2 SSA), TD, trimmed page.
    assert_eq!(m.metadata.pages_added, 5 + 2 + 12 + 1 + 1);
    assert_eq!(m.metadata.bytes_measured, (5 + 12 + 1) * PAGE as u64);
    assert!(m.other_metadata.is_empty());
    let text = m.describe();
    assert!(
        text.contains(&format!("MRENCLAVE {}", hex::encode(expected))),
        "{text}"
    );
    assert!(
        text.contains("matches SIGSTRUCT ENCLAVEHASH: yes"),
        "{text}"
    );
}

#[test]
fn one_byte_in_a_segment_changes_mrenclave() {
    let (mut file, expected) = signed(&Spec::default());
    for at in [0x1400, SEG1_FILE + 0x10] {
        let original = file[at];
        file[at] ^= 0x01;
        let m = measure_sdk_enclave(&file).unwrap();
        assert_ne!(m.mrenclave, expected, "byte {at:#x}");
        assert!(!m.matches_sigstruct);
        file[at] = original;
    }
    assert!(measure_sdk_enclave(&file).unwrap().matches_sigstruct);
}

#[test]
fn patched_bytes_are_not_identity() {
    // The loader overwrites these bytes before measuring.
    let (mut file, expected) = signed(&Spec::default());
    file[GD_FILE + 5] = 0x11;
    let m = measure_sdk_enclave(&file).unwrap();
    assert_eq!(m.mrenclave, expected);
    assert!(m.matches_sigstruct);
}

#[test]
fn metadata_outside_segments_is_not_identity_but_layout_is() {
    let (mut file, expected) = signed(&Spec::default());
    // The stack fill pattern is part of the measured layout.
    let stack_fill = blob_offset() + LAYOUT + 3 * 32 + 16;
    file[stack_fill] = 0xcd;
    let m = measure_sdk_enclave(&file).unwrap();
    assert_ne!(m.mrenclave, expected);
    assert!(!m.matches_sigstruct);
    // A heap page above the initial size (POST_ADD only) is not measured:
    // shrinking it changes nothing.
    let (mut file, _) = signed(&Spec::default());
    put32(&mut file, blob_offset() + LAYOUT + 32 + 4, 1);
    assert!(measure_sdk_enclave(&file).unwrap().matches_sigstruct);
}

#[test]
fn picks_the_highest_metadata_version_and_measures_the_others() {
    let spec = Spec {
        versions: vec![(1 << 32) | 4, (2 << 32) | 3],
        ..Spec::default()
    };
    let (file, expected) = signed(&spec);
    let m = measure_sdk_enclave(&file).unwrap();
    assert_eq!(m.metadata.version, (2 << 32) | 3);
    assert_eq!(m.metadata.file_offset, (blob_offset() + BLOB_SIZE) as u64);
    assert_eq!(m.mrenclave, expected);
    assert_eq!(m.other_metadata.len(), 1);
    assert_eq!(m.other_metadata[0].metadata.version, (1 << 32) | 4);
    assert_eq!(m.other_metadata[0].mrenclave, expected);
    assert!(m.other_metadata[0].matches_sigstruct);
}

#[test]
fn sdk_1_5_metadata_adds_a_page_after_the_last_segment() {
    let spec = Spec {
        versions: vec![(1 << 32) | 3],
        seg1_memsz: 0x1f00,
        ..Spec::default()
    };
    let (file, expected) = signed(&spec);
    let m = measure_sdk_enclave(&file).unwrap();
    assert_eq!(m.mrenclave, expected);
    // The same file with newer metadata has no such page.
    let newer = Spec {
        versions: vec![(1 << 32) | 4],
        ..spec
    };
    let m = measure_sdk_enclave(&build(&newer, expected)).unwrap();
    assert_ne!(m.mrenclave, expected);
    assert_eq!(m.mrenclave, expected_mrenclave(&newer));
}

#[test]
fn a_segment_without_file_bytes_is_zero_pages_from_its_first_page() {
    let spec = Spec {
        seg1_filesz: 0,
        ..Spec::default()
    };
    let (file, expected) = signed(&spec);
    let m = measure_sdk_enclave(&file).unwrap();
    assert_eq!(m.mrenclave, expected);
    // Pages 0x3000, 0x4000 and 0x5000, all zero: still five segment pages.
    assert_eq!(m.metadata.pages_added, 5 + 2 + 12 + 1 + 1);
}

#[test]
fn elrange_metadata_moves_the_image_inside_the_range() {
    let spec = Spec {
        versions: vec![(12 << 32) | 3],
        elrange: Some((0x140000, 0x100000, 0x100000)),
        ..Spec::default()
    };
    let (file, expected) = signed(&spec);
    let m = measure_sdk_enclave(&file).unwrap();
    assert_eq!(m.mrenclave, expected);
    assert!(m.matches_sigstruct);
    let range = m.metadata.elrange.unwrap();
    assert_eq!(
        (range.image_address, range.start_address, range.size),
        (0x140000, 0x100000, 0x100000)
    );
    assert_ne!(expected, expected_mrenclave(&Spec::default()));
    // An image that does not fit in its range is refused.
    let bad = Spec {
        elrange: Some((0x1f0000, 0x100000, 0x100000)),
        ..spec
    };
    let err = measure_sdk_enclave(&build(&bad, expected)).unwrap_err();
    assert!(err.to_string().contains("ELRANGE"), "{err}");
}

#[test]
fn text_relocation_pages_are_added_writable() {
    let spec = Spec {
        textrel: true,
        ..Spec::default()
    };
    let (file, expected) = signed(&spec);
    let m = measure_sdk_enclave(&file).unwrap();
    assert_eq!(m.mrenclave, expected);
    assert_ne!(expected, expected_mrenclave(&Spec::default()));
}

fn limits() -> SdkLimits {
    SdkLimits {
        max_added_pages: 4096,
        max_measured_bytes: 16 << 20,
        max_layout_ranges: 4096,
        max_metadata_blobs: 4,
    }
}

/// An edit of the enclave file.
type Mutation = Box<dyn Fn(&mut Vec<u8>)>;

#[test]
fn refuses_what_the_sdk_loader_refuses() {
    let (file, _) = signed(&Spec::default());
    let group = blob_offset() + LAYOUT + GROUP_RECORD * 32;
    let cases: Vec<(Mutation, &str)> = vec![
        // A group step that makes the replays overlap.
        (Box::new(move |f| put64(f, group + 8, 0x1000)), "overlap"),
        // A group replaying more entries than precede it.
        (Box::new(move |f| put16(f, group + 2, 7)), "precede"),
        // Replays past the end of the enclave.
        (Box::new(move |f| put32(f, group + 4, 20)), "enclave"),
        // enclave_size not a power of two.
        (
            Box::new(|f| put64(f, blob_offset() + 40, 0x30000)),
            "power of two",
        ),
        // A patch reading outside the data area.
        (
            Box::new(|f| put32(f, blob_offset() + PATCHES + 8, 16)),
            "data area",
        ),
        // A layout entry not page-aligned.
        (
            Box::new(|f| put64(f, blob_offset() + LAYOUT + 8, 0x6010)),
            "page-aligned",
        ),
        // A segment with no permissions.
        (Box::new(|f| put32(f, 64 + 4, 0)), "permission"),
        // SECINFO with reserved bits.
        (
            Box::new(|f| put64(f, blob_offset() + LAYOUT + 24, 0x20b)),
            "reserved",
        ),
        // A broken SIGSTRUCT header.
        (Box::new(|f| f[blob_offset() + 64] = 7), "HEADER"),
    ];
    for (mutate, needle) in cases {
        let mut bad = file.clone();
        mutate(&mut bad);
        let err = measure_sdk_enclave_with_limits(&bad, &limits()).unwrap_err();
        assert!(err.to_string().contains(needle), "{needle}: {err}");
        // The crate-level error carries the same message.
        let err = measure_sdk_enclave(&bad).unwrap_err();
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
}

#[test]
fn huge_group_counts_are_refused_without_looping() {
    let (mut file, _) = signed(&Spec::default());
    let group = blob_offset() + LAYOUT + GROUP_RECORD * 32;
    put32(&mut file, group + 4, u32::MAX);
    put64(&mut file, group + 8, 0);
    // Refused from the group's own counts, before a single replay: a loop
    // would reach the expanded-entry limit instead and say so.
    let err = measure_sdk_enclave_with_limits(&file, &SdkLimits::default()).unwrap_err();
    assert!(
        matches!(&err, SdkError::Limit(m) if m.starts_with(&format!("layout group {GROUP_RECORD} expands to "))),
        "{err}"
    );
    // A group of no entries repeated 2^32 times is a no-op, done at once.
    put16(&mut file, group + 2, 0);
    let m = measure_sdk_enclave_with_limits(&file, &limits()).unwrap();
    assert_eq!(m.metadata.pages_added, 5 + 2 + 4 + 1 + 1);
}

#[test]
fn work_limits_are_enforced_before_hashing() {
    let (file, _) = signed(&Spec::default());
    let tight = SdkLimits {
        max_measured_bytes: 8 * PAGE as u64,
        ..limits()
    };
    let err = measure_sdk_enclave_with_limits(&file, &tight).unwrap_err();
    assert!(matches!(err, SdkError::Limit(_)), "{err}");
    // A .bss far larger than the enclave is refused, not zero-filled.
    let mut big = file.clone();
    put64(&mut big, 64 + 56 + 40, 1 << 40);
    assert!(measure_sdk_enclave(&big).is_err());
}

#[test]
fn non_sdk_inputs_are_not_detected() {
    let (file, _) = signed(&Spec::default());
    assert!(!is_sdk_enclave(b""));
    assert!(!is_sdk_enclave(b"\x7fELF"));
    assert!(!is_sdk_enclave(&file[..0x2000]));
    // Rename the section: no `.note.sgxmeta`.
    let mut renamed = file.clone();
    let names = renamed
        .windows(14)
        .position(|w| w == b".note.sgxmeta\0")
        .unwrap();
    renamed[names + 1] = b'N';
    assert!(!is_sdk_enclave(&renamed));
    assert!(matches!(
        measure_sdk_enclave_with_limits(&renamed, &limits()),
        Err(SdkError::NoMetadata(_))
    ));
    // Wrong metadata magic.
    let mut no_magic = file;
    no_magic[blob_offset()] ^= 0xff;
    assert!(!is_sdk_enclave(&no_magic));
    assert!(measure_sdk_enclave(&no_magic).is_err());
}

fn valid_file() -> &'static [u8] {
    static FILE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| signed(&Spec::default()).0)
}

/// Never panics; whatever it returns, a success is self-consistent.
fn check(bytes: &[u8]) {
    let _ = is_sdk_enclave(bytes);
    if let Ok(m) = measure_sdk_enclave_with_limits(bytes, &limits()) {
        assert_eq!(m.matches_sigstruct, m.mrenclave == m.sigstruct.enclavehash);
        assert!(m.metadata.bytes_measured <= limits().max_measured_bytes);
    }
}

proptest! {
    #[test]
    fn every_loaded_file_byte_is_identity_unless_patched(
        at in prop_oneof![0x100usize..SEG0_FILESZ, SEG1_FILE..SEG1_FILE + SEG1_FILESZ],
        bit in 0u8..8,
    ) {
        let mut file = valid_file().to_vec();
        file[at] ^= 1 << bit;
        let m = measure_sdk_enclave(&file).unwrap();
        let patched = (GD_FILE..GD_FILE + GD_SIZE).contains(&at);
        prop_assert_eq!(m.matches_sigstruct, patched);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_valid_elf_header_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..8192),
    ) {
        let mut bytes = valid_file()[..0x100].to_vec();
        bytes.extend(tail);
        check(&bytes);
    }

    #[test]
    fn truncations_never_panic(len in 0usize..20_000) {
        let file = valid_file();
        check(&file[..len.min(file.len())]);
    }

    #[test]
    fn bit_flips_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8)) {
        let mut file = valid_file().to_vec();
        for (index, bit) in flips {
            let at = index.index(file.len());
            file[at] ^= 1 << bit;
        }
        check(&file);
    }

    #[test]
    fn metadata_field_overwrites_never_panic(
        writes in proptest::collection::vec((0usize..BLOB_SIZE, any::<u64>(), 0usize..4), 1..6),
    ) {
        // Aimed at the metadata header and tables, where bit flips rarely land.
        let mut file = valid_file().to_vec();
        for (offset, value, width) in writes {
            let at = blob_offset() + offset;
            let bytes = value.to_le_bytes();
            let n = [1, 2, 4, 8][width].min(file.len() - at);
            file[at..at + n].copy_from_slice(&bytes[..n]);
        }
        check(&file);
    }
}
