//! The page layout of a Shield enclave: a deterministic function of the
//! enclave binary's bytes and its [`EnclaveConfig`], so the same binary and
//! config give the same MRENCLAVE on every machine.
//!
//! ```text
//! 0                 image: every byte of the ELF file, R X, measured
//! image end         layout page: the config values below, R, measured
//! + guard page      (not added)
//! heap              heap_max bytes, R W, added but not measured
//! per TCS:
//!   + guard page    (not added)
//!   stack           stack_size bytes, R W, added but not measured
//!   TCS             PT_TCS, measured (OSSA, NSSA = 1, limits)
//!   SSA             one frame, R W, added but not measured
//! ```
//!
//! The whole file is measured, not only its loadable segments: in
//! simulation the kernel maps the file, so every byte of it is identity.

use sgx_isa::{PageType, SecinfoFlags, Tcs};

use crate::config::EnclaveConfig;
use crate::measure::{ChunkMask, Layout, PAGE_SIZE, Page};
use crate::{Error, Result};

/// SSA frame size in pages.
pub const SSA_FRAME_PAGES: u32 = 1;
/// Tag at the start of the measured layout page.
const LAYOUT_MAGIC: &[u8; 16] = b"SHIELD-LAYOUT-v1";
/// ELF header size and the values of its fields that `check_elf` needs.
const EHDR_SIZE: usize = 64;
const ET_EXEC: u64 = 2;
const ET_DYN: u64 = 3;
const EM_X86_64: u64 = 62;
const PHDR_SIZE: u64 = 56;
const PT_LOAD: u64 = 1;
const PF_X: u64 = 1;

/// The layout of the enclave `binary` (an x86-64 ELF file) under `config`.
pub fn layout(binary: &[u8], config: &EnclaveConfig) -> Result<Layout> {
    config.validate()?;
    check_elf(binary)?;
    let mut pages = Vec::new();
    let mut offset = 0u64;
    let rx = SecinfoFlags::R | SecinfoFlags::X;
    for chunk in binary.chunks(PAGE_SIZE as usize) {
        let mut data = Box::new([0u8; PAGE_SIZE as usize]);
        data[..chunk.len()].copy_from_slice(chunk);
        pages.push(Page::regular(offset, rx, Some(data)));
        offset += PAGE_SIZE;
    }
    pages.push(Page::regular(
        offset,
        SecinfoFlags::R,
        Some(layout_page(binary.len() as u64, config)),
    ));
    offset += 2 * PAGE_SIZE; // the layout page, then a guard page

    let rw = SecinfoFlags::R | SecinfoFlags::W;
    offset = add_unmeasured(&mut pages, offset, config.heap_max, rw);
    for _ in 0..config.tcs_count {
        offset += PAGE_SIZE; // guard page below each stack
        offset = add_unmeasured(&mut pages, offset, config.stack_size, rw);
        let tcs_offset = offset;
        let ssa_offset = tcs_offset + PAGE_SIZE;
        pages.push(Page {
            offset: tcs_offset,
            flags: SecinfoFlags::from(PageType::Tcs),
            data: Some(tcs_page(ssa_offset)),
            measured: ChunkMask::ALL,
        });
        offset = add_unmeasured(
            &mut pages,
            ssa_offset,
            u64::from(SSA_FRAME_PAGES) * PAGE_SIZE,
            rw,
        );
    }
    let size = offset
        .max(2 * PAGE_SIZE)
        .checked_next_power_of_two()
        .ok_or_else(|| {
            Error::Layout(format!(
                "an enclave spanning {offset:#x} bytes is too large"
            ))
        })?;
    Ok(Layout {
        ssa_frame_size: SSA_FRAME_PAGES,
        size,
        pages,
    })
}

fn add_unmeasured(pages: &mut Vec<Page>, start: u64, bytes: u64, flags: SecinfoFlags) -> u64 {
    let mut offset = start;
    while offset < start + bytes {
        pages.push(Page {
            measured: ChunkMask::NONE,
            ..Page::regular(offset, flags, None)
        });
        offset += PAGE_SIZE;
    }
    offset
}

/// The measured page that records the config's layout values, so two
/// configs never measure alike by coincidence of page counts.
fn layout_page(image_len: u64, config: &EnclaveConfig) -> Box<[u8; 4096]> {
    let mut page = Box::new([0u8; 4096]);
    page[..16].copy_from_slice(LAYOUT_MAGIC);
    let fields = [
        image_len,
        config.heap_max,
        config.stack_size,
        u64::from(config.tcs_count),
    ];
    for (i, value) in fields.iter().enumerate() {
        page[16 + 8 * i..24 + 8 * i].copy_from_slice(&value.to_le_bytes());
    }
    page
}

fn tcs_page(ssa_offset: u64) -> Box<[u8; 4096]> {
    let tcs = Tcs {
        ossa: ssa_offset,
        nssa: SSA_FRAME_PAGES,
        fslimit: 0xfff,
        gslimit: 0xfff,
        ..Tcs::default()
    };
    let mut page = Box::new([0u8; 4096]);
    let bytes = tcs.as_ref();
    page[..bytes.len()].copy_from_slice(bytes);
    page
}

/// Accepts what the kernel would load as an x86-64 program: a 64-bit
/// little-endian ELF executable or PIE whose program headers and loadable
/// segments lie inside the file, with its entry point in an executable
/// segment. The rest of the file is the binary's own business: it is
/// measured, not interpreted.
fn check_elf(binary: &[u8]) -> Result<()> {
    let not = |why: String| Error::Layout(format!("not a Shield enclave binary: {why}"));
    if binary.len() < EHDR_SIZE || binary[..4] != *b"\x7fELF" {
        return Err(not("no ELF header".into()));
    }
    if binary[4] != 2 || binary[5] != 1 || binary[6] != 1 || field(binary, 20, 4) != Some(1) {
        return Err(not(
            "not a 64-bit little-endian ELF file of version 1".into()
        ));
    }
    // The header is 64 bytes long, so its fields are all present.
    let header = |at, len| field(binary, at, len).unwrap_or_default();
    let kind = header(16, 2);
    if kind != ET_EXEC && kind != ET_DYN {
        return Err(not(format!("ELF type {kind} is not an executable")));
    }
    let machine = header(18, 2);
    if machine != EM_X86_64 {
        return Err(not(format!("ELF machine {machine} is not x86-64")));
    }
    let (entry, phoff) = (header(24, 8), header(32, 8));
    let (phentsize, phnum) = (header(54, 2), header(56, 2));
    if phentsize != PHDR_SIZE {
        return Err(not(format!(
            "program header size {phentsize} is not {PHDR_SIZE}"
        )));
    }
    let mut loads = 0;
    let mut entry_is_code = false;
    for index in 0..phnum {
        let at = phoff.checked_add(index * PHDR_SIZE);
        let ph = |offset, len| at.and_then(|at| field(binary, at.checked_add(offset)?, len));
        let (Some(kind), Some(flags), Some(offset), Some(vaddr), Some(filesz), Some(memsz)) = (
            ph(0, 4),
            ph(4, 4),
            ph(8, 8),
            ph(16, 8),
            ph(32, 8),
            ph(40, 8),
        ) else {
            return Err(not(format!(
                "program header {index} is past the end of the file"
            )));
        };
        if kind != PT_LOAD {
            continue;
        }
        if offset
            .checked_add(filesz)
            .is_none_or(|end| end > binary.len() as u64)
        {
            return Err(not(format!(
                "segment {index}'s file bytes are past the end of the file"
            )));
        }
        if memsz < filesz {
            return Err(not(format!(
                "segment {index} is smaller in memory than in the file"
            )));
        }
        loads += 1;
        entry_is_code |= flags & PF_X != 0
            && vaddr
                .checked_add(memsz)
                .is_some_and(|end| (vaddr..end).contains(&entry));
    }
    if loads == 0 {
        return Err(not("no loadable segment".into()));
    }
    if !entry_is_code {
        return Err(not(format!(
            "entry point {entry:#x} is not in an executable segment"
        )));
    }
    Ok(())
}

/// The `len`-byte little-endian field at `at`, if it is inside `bytes`.
fn field(bytes: &[u8], at: u64, len: usize) -> Option<u64> {
    let start = usize::try_from(at).ok()?;
    let raw = bytes.get(start..start.checked_add(len)?)?;
    let mut value = [0u8; 8];
    value.get_mut(..len)?.copy_from_slice(raw);
    Some(u64::from_le_bytes(value))
}
