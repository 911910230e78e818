//! The small part of ELF64 that the SDK loader reads: the file header, the
//! program headers (PT_LOAD segments, PT_DYNAMIC), the section headers (to
//! find `.note.sgxmeta` and the relocation tables by address).
//!
//! Parsed by hand: only a dozen fixed-size little-endian fields are needed,
//! each read goes through [`read`] with an explicit bounds check, and the
//! loader's patches work on raw file offsets anyway, which a general ELF
//! library would hide.

use std::collections::BTreeSet;

use super::SdkError;

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: u64 = 56;
const SHDR_SIZE: u64 = 64;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
pub(super) const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
pub(super) const PF_X: u32 = 1;
pub(super) const PF_W: u32 = 2;
pub(super) const PF_R: u32 = 4;
/// Dynamic tags the relocation bitmap needs.
const DT_NULL: u64 = 0;
const DT_PLTRELSZ: u64 = 2;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_TEXTREL: u64 = 22;
const DT_JMPREL: u64 = 23;
const RELA_SIZE: u64 = 24;
const R_X86_64_NONE: u64 = 0;
/// The note the SDK keeps its metadata in, by section name and note name.
pub(super) const META_SECTION: &[u8] = b".note.sgxmeta";
const META_NOTE_NAME: &[u8] = b"sgx_metadata\0";

/// `N` little-endian bytes at `at`, or `None` past the end of `bytes`.
pub(super) fn read<const N: usize>(bytes: &[u8], at: u64) -> Option<[u8; N]> {
    let start = usize::try_from(at).ok()?;
    let end = start.checked_add(N)?;
    bytes.get(start..end)?.try_into().ok()
}

pub(super) fn u16_at(bytes: &[u8], at: u64) -> Option<u16> {
    read(bytes, at).map(u16::from_le_bytes)
}

pub(super) fn u32_at(bytes: &[u8], at: u64) -> Option<u32> {
    read(bytes, at).map(u32::from_le_bytes)
}

pub(super) fn u64_at(bytes: &[u8], at: u64) -> Option<u64> {
    read(bytes, at).map(u64::from_le_bytes)
}

/// `bytes[start..start + len]`, checked.
pub(super) fn slice(bytes: &[u8], start: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(start).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

fn elf_err(offset: u64, reason: impl Into<String>) -> SdkError {
    SdkError::Elf {
        offset,
        reason: reason.into(),
    }
}

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segment {
    pub(super) kind: u32,
    pub(super) flags: u32,
    pub(super) offset: u64,
    pub(super) vaddr: u64,
    pub(super) filesz: u64,
    pub(super) memsz: u64,
    pub(super) align: u64,
}

/// One section header (the fields used here).
#[derive(Debug, Clone, Copy)]
struct Section {
    name: u32,
    addr: u64,
    offset: u64,
    size: u64,
}

/// A parsed ELF64 x86-64 shared object.
#[derive(Debug)]
pub(super) struct Elf<'a> {
    bytes: &'a [u8],
    pub(super) segments: Vec<Segment>,
    sections: Vec<Section>,
    /// File range of the section-name string table.
    shstrtab: Option<(u64, u64)>,
}

impl<'a> Elf<'a> {
    /// Checks the header the way the SDK's parser does (ELF64, little-endian,
    /// version 1, ET_DYN, x86-64) and reads the header tables.
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, SdkError> {
        let ident: [u8; 16] =
            read(bytes, 0).ok_or_else(|| elf_err(0, "shorter than an ELF header"))?;
        if ident[..4] != *b"\x7fELF" {
            return Err(elf_err(0, "no ELF magic"));
        }
        if ident[4] != 2 || ident[5] != 1 || ident[6] != 1 {
            return Err(elf_err(4, "not a little-endian ELF64 file of version 1"));
        }
        if bytes.len() < EHDR_SIZE {
            return Err(elf_err(0, "shorter than an ELF64 header"));
        }
        let field16 = |at| u16_at(bytes, at).ok_or_else(|| elf_err(at, "truncated header"));
        let field64 = |at| u64_at(bytes, at).ok_or_else(|| elf_err(at, "truncated header"));
        if field16(16)? != ET_DYN {
            return Err(elf_err(16, "not a shared object (e_type is not ET_DYN)"));
        }
        if field16(18)? != EM_X86_64 {
            return Err(elf_err(
                18,
                "not an x86-64 object (only 64-bit SDK enclaves are supported)",
            ));
        }
        let phoff = field64(32)?;
        let shoff = field64(40)?;
        let phentsize = field16(54)?;
        let phnum = field16(56)?;
        let shentsize = field16(58)?;
        let shnum = field16(60)?;
        let shstrndx = field16(62)?;
        if u64::from(phentsize) != PHDR_SIZE {
            return Err(elf_err(
                54,
                format!("e_phentsize is {phentsize}, not {PHDR_SIZE}"),
            ));
        }

        let mut segments = Vec::with_capacity(usize::from(phnum));
        for index in 0..u64::from(phnum) {
            let at = index
                .checked_mul(PHDR_SIZE)
                .and_then(|o| o.checked_add(phoff))
                .ok_or_else(|| elf_err(phoff, "program header table offset overflows"))?;
            let raw = slice(bytes, at, PHDR_SIZE).ok_or_else(|| {
                elf_err(
                    at,
                    format!("program header {index} is past the end of the file"),
                )
            })?;
            let segment = Segment {
                kind: u32_at(raw, 0).unwrap_or_default(),
                flags: u32_at(raw, 4).unwrap_or_default(),
                offset: u64_at(raw, 8).unwrap_or_default(),
                vaddr: u64_at(raw, 16).unwrap_or_default(),
                filesz: u64_at(raw, 32).unwrap_or_default(),
                memsz: u64_at(raw, 40).unwrap_or_default(),
                align: u64_at(raw, 48).unwrap_or_default(),
            };
            // Every segment's file bytes must be in the file, as the SDK checks.
            let end = segment.offset.checked_add(segment.filesz);
            if end.is_none_or(|end| end > bytes.len() as u64) {
                return Err(elf_err(
                    at,
                    format!("segment {index}'s file bytes are past the end of the file"),
                ));
            }
            segments.push(segment);
        }

        let mut sections = Vec::new();
        if shnum != 0 {
            if u64::from(shentsize) != SHDR_SIZE {
                return Err(elf_err(
                    58,
                    format!("e_shentsize is {shentsize}, not {SHDR_SIZE}"),
                ));
            }
            let table_len = u64::from(shnum) * SHDR_SIZE;
            let table = slice(bytes, shoff, table_len)
                .ok_or_else(|| elf_err(40, "section header table is past the end of the file"))?;
            sections.reserve(usize::from(shnum));
            for raw in table.chunks_exact(SHDR_SIZE as usize) {
                sections.push(Section {
                    name: u32_at(raw, 0).unwrap_or_default(),
                    addr: u64_at(raw, 16).unwrap_or_default(),
                    offset: u64_at(raw, 24).unwrap_or_default(),
                    size: u64_at(raw, 32).unwrap_or_default(),
                });
            }
        }
        let shstrtab = sections
            .get(usize::from(shstrndx))
            .map(|s| (s.offset, s.size));
        Ok(Self {
            bytes,
            segments,
            sections,
            shstrtab,
        })
    }

    /// The file bytes.
    pub(super) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether section `section` is named `name` (a NUL-terminated string in
    /// the section-name table, read with bounds).
    fn section_named(&self, section: &Section, name: &[u8]) -> bool {
        let Some((table, table_len)) = self.shstrtab else {
            return false;
        };
        let Some(table) = slice(self.bytes, table, table_len) else {
            return false;
        };
        let Ok(start) = usize::try_from(section.name) else {
            return false;
        };
        let Some(rest) = table.get(start..) else {
            return false;
        };
        rest.len() > name.len() && rest[..name.len()] == *name && rest[name.len()] == 0
    }

    /// The file range of the metadata area: the descriptor of the
    /// `sgx_metadata` note in section `.note.sgxmeta`. As in the SDK's
    /// parser, the descriptor starts right after the 13-byte name (no
    /// padding).
    pub(super) fn metadata_area(&self) -> Result<(u64, u64), SdkError> {
        let section = self
            .sections
            .iter()
            .find(|s| self.section_named(s, META_SECTION))
            .ok_or_else(|| SdkError::NoMetadata("no `.note.sgxmeta` section".into()))?;
        let note = slice(self.bytes, section.offset, section.size).ok_or_else(|| {
            elf_err(
                section.offset,
                "the `.note.sgxmeta` section is past the end of the file",
            )
        })?;
        let namesz = u32_at(note, 0)
            .ok_or_else(|| SdkError::NoMetadata("`.note.sgxmeta` is empty".into()))?;
        let descsz = u32_at(note, 4)
            .ok_or_else(|| SdkError::NoMetadata("`.note.sgxmeta` is truncated".into()))?;
        if u64::from(namesz) != META_NOTE_NAME.len() as u64
            || note.get(12..12 + META_NOTE_NAME.len()) != Some(META_NOTE_NAME)
        {
            return Err(SdkError::NoMetadata(
                "the note in `.note.sgxmeta` is not named `sgx_metadata`".into(),
            ));
        }
        let desc_start = 12 + META_NOTE_NAME.len() as u64;
        let desc_end = desc_start + u64::from(descsz);
        if desc_end > section.size {
            return Err(elf_err(
                section.offset,
                format!(
                    "the `sgx_metadata` note claims {descsz} bytes; its section holds {}",
                    section.size.saturating_sub(desc_start)
                ),
            ));
        }
        Ok((section.offset + desc_start, u64::from(descsz)))
    }

    /// Pages holding text relocations, which the SDK loader adds writable
    /// even in read-only segments. Empty unless the object has DT_TEXTREL.
    pub(super) fn text_relocation_pages(&self) -> Result<BTreeSet<u64>, SdkError> {
        let mut pages = BTreeSet::new();
        let Some(dynamic) = self.segments.iter().find(|s| s.kind == PT_DYNAMIC) else {
            return Ok(pages);
        };
        // The last occurrence of a tag wins, as in the SDK's table of tags.
        let (mut textrel, mut rela, mut relasz, mut jmprel, mut pltrelsz) =
            (false, None, 0, None, 0);
        let table = slice(self.bytes, dynamic.offset, dynamic.filesz)
            .ok_or_else(|| elf_err(dynamic.offset, "PT_DYNAMIC is past the end of the file"))?;
        for entry in table.chunks_exact(16) {
            let tag = u64_at(entry, 0).unwrap_or_default();
            let value = u64_at(entry, 8).unwrap_or_default();
            match tag {
                DT_NULL => break,
                DT_TEXTREL => textrel = true,
                DT_RELA => rela = Some(value),
                DT_RELASZ => relasz = value,
                DT_JMPREL => jmprel = Some(value),
                DT_PLTRELSZ => pltrelsz = value,
                _ => {}
            }
        }
        if !textrel {
            return Ok(pages);
        }
        // The loader's bitmap covers the image up to the end of the PT_LOAD
        // segment with the highest address, in whole bytes of 8 pages; pages
        // past it are never looked up as relocation pages.
        let mut highest: Option<&Segment> = None;
        for segment in self.segments.iter().filter(|s| s.kind == PT_LOAD) {
            if highest.is_none_or(|h| segment.vaddr > h.vaddr) {
                highest = Some(segment);
            }
        }
        let image_pages = highest
            .map(|s| s.vaddr.saturating_add(s.memsz).div_ceil(0x1000))
            .unwrap_or(0);
        let bitmap_pages = image_pages.div_ceil(8).saturating_mul(8);
        for (addr, size) in [(rela, relasz), (jmprel, pltrelsz)] {
            let Some(addr) = addr else { continue };
            // The loader finds a table through the section at its address.
            let section = self
                .sections
                .iter()
                .find(|s| s.addr == addr)
                .ok_or_else(|| {
                    elf_err(
                        dynamic.offset,
                        format!("no section at relocation table address {addr:#x}"),
                    )
                })?;
            let table = slice(self.bytes, section.offset, size).ok_or_else(|| {
                elf_err(
                    section.offset,
                    "relocation table is past the end of the file",
                )
            })?;
            for entry in table.chunks_exact(RELA_SIZE as usize) {
                let target = u64_at(entry, 0).unwrap_or_default();
                let info = u64_at(entry, 8).unwrap_or_default();
                if info & 0xffff_ffff == R_X86_64_NONE {
                    continue;
                }
                // An 8-byte target that straddles a page boundary touches two pages.
                let page = target >> 12;
                let straddles = target & 0xfff > 0x1000 - 8;
                for touched in [Some(page), straddles.then_some(page + 1)]
                    .into_iter()
                    .flatten()
                {
                    if touched < bitmap_pages {
                        pages.insert(touched);
                    }
                }
            }
        }
        Ok(pages)
    }
}

/// Cheap detection: an ELF file with a `.note.sgxmeta` section holding an
/// `sgx_metadata` note that starts with the metadata magic.
pub(super) fn has_sgx_metadata(bytes: &[u8]) -> bool {
    let Ok(elf) = Elf::parse(bytes) else {
        return false;
    };
    let Ok((start, len)) = elf.metadata_area() else {
        return false;
    };
    len >= 8 && u64_at(bytes, start) == Some(super::metadata::MAGIC)
}
