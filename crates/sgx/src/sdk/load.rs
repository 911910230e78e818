//! The page walk of the SDK loader: which pages it adds, in which order,
//! with which SECINFO flags and contents, and which it measures. The walk
//! is generic over a [`Sink`] so it can run twice: once to count (and refuse
//! inputs over the limits before any hashing), once to hash.

use std::collections::BTreeSet;

use sgx_isa::SecinfoFlags;

use super::elf::{PF_R, PF_W, PF_X, PT_LOAD, Segment};
use super::metadata::{LayoutEntry, LayoutRecord, Metadata, VERSION_1_5};
use super::{SdkError, SdkLimits};
use crate::measure::{CHUNK_SIZE, Measurer};

const PAGE: u64 = 4096;
const PAGE_BYTES: usize = PAGE as usize;
/// SECINFO flag bits (`arch.h`).
const SI_FLAG_R: u64 = 0x1;
const SI_FLAG_W: u64 = 0x2;
const SI_FLAG_X: u64 = 0x4;
const SI_FLAG_REG: u64 = 0x200;
pub(super) const SI_FLAGS_TCS: u64 = 0x100;
/// The only SECINFO bits the signer accepts (permissions and page type).
const SI_FLAGS_EXTERNAL: u64 = 0xff07;
/// Layout attribute bits (`se_page_attr.h`).
pub(super) const PAGE_ATTR_EADD: u16 = 1 << 0;
pub(super) const PAGE_ATTR_EEXTEND: u16 = 1 << 1;
const ADD_EXTEND: u16 = PAGE_ATTR_EADD | PAGE_ATTR_EEXTEND;
/// TCS fields the loader relocates by the TCS page's own address.
const TCS_OSSA: usize = 16;
const TCS_OFSBASE: usize = 48;
const TCS_OGSBASE: usize = 56;

/// Where the walk's pages go.
pub(super) trait Sink {
    /// EADD of the page at `offset` with SECINFO `flags`, then (if
    /// `extend`) EEXTEND of all its chunks; `fill` writes its contents.
    fn page(
        &mut self,
        offset: u64,
        flags: u64,
        extend: bool,
        fill: impl FnOnce(&mut [u8; PAGE_BYTES]),
    ) -> Result<(), SdkError>;
}

/// Counts the walk and refuses it past the limits.
#[derive(Debug)]
pub(super) struct Budget<'l> {
    limits: &'l SdkLimits,
    pub(super) pages: u64,
    pub(super) measured_bytes: u64,
}

impl<'l> Budget<'l> {
    pub(super) fn new(limits: &'l SdkLimits) -> Self {
        Self {
            limits,
            pages: 0,
            measured_bytes: 0,
        }
    }
}

impl Sink for Budget<'_> {
    fn page(
        &mut self,
        _: u64,
        _: u64,
        extend: bool,
        _: impl FnOnce(&mut [u8; PAGE_BYTES]),
    ) -> Result<(), SdkError> {
        self.pages += 1;
        if self.pages > self.limits.max_added_pages {
            return Err(SdkError::Limit(format!(
                "more than {} pages added",
                self.limits.max_added_pages
            )));
        }
        if extend {
            self.measured_bytes += PAGE;
            if self.measured_bytes > self.limits.max_measured_bytes {
                return Err(SdkError::Limit(format!(
                    "more than {} bytes measured",
                    self.limits.max_measured_bytes
                )));
            }
        }
        Ok(())
    }
}

/// Hashes the walk into MRENCLAVE.
#[derive(Debug)]
pub(super) struct Hasher {
    pub(super) measurer: Measurer,
    /// Added to every page offset: where the image sits in the enclave
    /// (non-zero only with ELRANGE).
    shift: u64,
    page: Box<[u8; PAGE_BYTES]>,
}

impl Hasher {
    pub(super) fn new(measurer: Measurer, shift: u64) -> Self {
        Self {
            measurer,
            shift,
            page: Box::new([0; PAGE_BYTES]),
        }
    }
}

impl Sink for Hasher {
    fn page(
        &mut self,
        offset: u64,
        flags: u64,
        extend: bool,
        fill: impl FnOnce(&mut [u8; PAGE_BYTES]),
    ) -> Result<(), SdkError> {
        // The walk checked `offset` is inside the image, and validation that
        // the image plus `shift` is inside the ELRANGE.
        let offset = offset + self.shift;
        // `flags` is within SI_FLAGS_EXTERNAL, which SecinfoFlags holds whole.
        self.measurer
            .eadd(offset, SecinfoFlags::from_bits_truncate(flags));
        if extend {
            fill(&mut self.page);
            let (chunks, _) = self.page.as_chunks::<CHUNK_SIZE>();
            for (index, chunk) in chunks.iter().enumerate() {
                self.measurer
                    .eextend(offset + (index * CHUNK_SIZE) as u64, chunk);
            }
        }
        Ok(())
    }
}

/// The SECINFO flags of a segment's pages: a regular page with the
/// segment's permissions. A segment with none is refused, as the SDK does.
fn segment_flags(segment: &Segment, index: usize) -> Result<u64, SdkError> {
    let mut flags = SI_FLAG_REG;
    for (bit, si) in [(PF_R, SI_FLAG_R), (PF_W, SI_FLAG_W), (PF_X, SI_FLAG_X)] {
        if segment.flags & bit != 0 {
            flags |= si;
        }
    }
    if flags == SI_FLAG_REG {
        return Err(SdkError::Layout(format!(
            "PT_LOAD segment {index} has no R, W or X permission"
        )));
    }
    Ok(flags)
}

fn round_page(value: u64) -> Option<u64> {
    value.checked_add(PAGE - 1).map(|v| v & !(PAGE - 1))
}

/// The PT_LOAD segments, checked as the SDK parser checks them: alignment a
/// non-zero multiple of the page size, and no two overlapping once each is
/// rounded up to its alignment.
pub(super) fn load_segments(segments: &[Segment]) -> Result<Vec<(usize, Segment)>, SdkError> {
    let loads: Vec<(usize, Segment)> = segments
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, s)| s.kind == PT_LOAD)
        .collect();
    let mut spans = Vec::with_capacity(loads.len());
    for &(index, segment) in &loads {
        if segment.align == 0 || !segment.align.is_multiple_of(PAGE) {
            return Err(SdkError::Layout(format!(
                "PT_LOAD segment {index} has alignment {:#x}, not a multiple of the page size",
                segment.align
            )));
        }
        let end = segment
            .vaddr
            .checked_add(segment.memsz)
            .and_then(|end| end.checked_next_multiple_of(segment.align))
            .ok_or_else(|| {
                SdkError::Layout(format!("PT_LOAD segment {index}'s address range overflows"))
            })?;
        segment_flags(&segment, index)?;
        if end > segment.vaddr {
            spans.push((segment.vaddr, end, index));
        }
    }
    spans.sort_unstable();
    for pair in spans.windows(2) {
        if let [(_, end, first), (start, _, second)] = *pair
            && start < end
        {
            return Err(SdkError::Layout(format!(
                "PT_LOAD segments {first} and {second} overlap"
            )));
        }
    }
    Ok(loads)
}

/// One run of the loader over a patched image and one metadata blob.
#[derive(Debug)]
pub(super) struct Walk<'a> {
    /// The file after the metadata's patches.
    pub(super) image: &'a [u8],
    pub(super) meta: &'a Metadata<'a>,
    pub(super) loads: &'a [(usize, Segment)],
    /// Pages with text relocations (added writable).
    pub(super) relocation_pages: &'a BTreeSet<u64>,
}

impl Walk<'_> {
    /// The whole build: ELF segments, then the layout table.
    pub(super) fn run(&self, sink: &mut impl Sink) -> Result<(), SdkError> {
        self.segments(sink)?;
        self.contexts(sink)
    }

    fn add(
        &self,
        sink: &mut impl Sink,
        offset: u64,
        flags: u64,
        attributes: u16,
        fill: impl FnOnce(&mut [u8; PAGE_BYTES]),
    ) -> Result<(), SdkError> {
        if attributes & PAGE_ATTR_EADD == 0 {
            return Ok(());
        }
        if flags & !SI_FLAGS_EXTERNAL != 0 {
            return Err(SdkError::Layout(format!(
                "SECINFO flags {flags:#x} at {offset:#x} have reserved bits set"
            )));
        }
        if !offset.is_multiple_of(PAGE) || offset >= self.meta.enclave_size {
            return Err(SdkError::Layout(format!(
                "page {offset:#x} is not page-aligned inside the {:#x}-byte enclave",
                self.meta.enclave_size
            )));
        }
        sink.page(offset, flags, attributes & ADD_EXTEND == ADD_EXTEND, fill)
    }

    /// Adds `len` bytes of pages from `start` (page-aligned), all alike.
    fn add_pages(
        &self,
        sink: &mut impl Sink,
        start: u64,
        len: u64,
        flags: u64,
        attributes: u16,
        fill: impl Fn(&mut [u8; PAGE_BYTES]),
    ) -> Result<(), SdkError> {
        let mut done = 0;
        while done < len {
            let offset = start.checked_add(done).ok_or_else(|| {
                SdkError::Layout(format!("page address {start:#x}+{done:#x} overflows"))
            })?;
            self.add(sink, offset, flags, attributes, &fill)?;
            done += PAGE;
        }
        Ok(())
    }

    /// A region of `raw` bytes placed at `rva` (maybe mid-page), zero-filled
    /// to `virtual_size`: each page holding raw bytes is added on its own
    /// (it may be a relocation page), the zero tail in one run. Everything is
    /// measured.
    fn region(
        &self,
        sink: &mut impl Sink,
        raw: &[u8],
        rva: u64,
        virtual_size: u64,
        flags: u64,
        relocations: bool,
    ) -> Result<(), SdkError> {
        let overflow =
            || SdkError::Layout(format!("region at {rva:#x} overflows the address space"));
        let raw_len = raw.len() as u64;
        let mut offset = 0u64;
        while offset < raw_len {
            let here = rva.checked_add(offset).ok_or_else(overflow)?;
            let in_page = here % PAGE;
            let take = (PAGE - in_page).min(raw_len - offset);
            let mut page_flags = flags;
            if relocations && self.relocation_pages.contains(&(here / PAGE)) {
                page_flags |= SI_FLAG_W;
            }
            // Both fit: take <= raw_len - offset and in_page + take <= PAGE.
            let bytes = &raw[offset as usize..(offset + take) as usize];
            self.add(sink, here - in_page, page_flags, ADD_EXTEND, |page| {
                page.fill(0);
                page[in_page as usize..(in_page + take) as usize].copy_from_slice(bytes);
            })?;
            offset += PAGE - in_page;
        }
        if virtual_size > offset {
            // The zero tail; it starts mid-page only when there were no raw
            // bytes, and then (as the current SDK loader does) from the start
            // of that page.
            let here = rva.checked_add(offset).ok_or_else(overflow)?;
            let in_page = here % PAGE;
            let len = (virtual_size - offset)
                .checked_add(in_page)
                .and_then(round_page)
                .ok_or_else(overflow)?;
            self.add_pages(sink, here - in_page, len, flags, ADD_EXTEND, |page| {
                page.fill(0)
            })?;
        }
        Ok(())
    }

    /// The ELF segments in program-header order.
    fn segments(&self, sink: &mut impl Sink) -> Result<(), SdkError> {
        // SDK 1.5's loader also added one zero page after the partial last
        // page of the highest segment seen so far (the quirk is kept for
        // version 1.3 metadata only, as the SDK's loader does).
        let legacy = self.meta.version == VERSION_1_5;
        let mut highest: Option<(usize, Segment)> = None;
        let mut highest_rva = 0;
        for &(index, segment) in self.loads {
            if legacy
                && let Some((page, flags)) = self.legacy_tail_page(highest)?
                && page < segment.vaddr & !(PAGE - 1)
            {
                self.add(sink, page, flags, ADD_EXTEND, |p| p.fill(0))?;
            }
            if segment.vaddr > highest_rva {
                highest_rva = segment.vaddr;
                highest = Some((index, segment));
            }
            let flags = segment_flags(&segment, index)?;
            // Checked by the ELF parser: the file bytes are in the file.
            let raw =
                super::elf::slice(self.image, segment.offset, segment.filesz).ok_or_else(|| {
                    SdkError::Layout(format!("segment {index} is past the end of the file"))
                })?;
            self.region(sink, raw, segment.vaddr, segment.memsz, flags, true)?;
        }
        if legacy && let Some((page, flags)) = self.legacy_tail_page(highest)? {
            self.add(sink, page, flags, ADD_EXTEND, |p| p.fill(0))?;
        }
        Ok(())
    }

    /// For SDK 1.5 metadata: the extra page after `segment`, if its end is
    /// not page-aligned but its size is (so rounding the two ways differs).
    fn legacy_tail_page(
        &self,
        segment: Option<(usize, Segment)>,
    ) -> Result<Option<(u64, u64)>, SdkError> {
        let Some((index, segment)) = segment else {
            return Ok(None);
        };
        let overflow = || SdkError::Layout(format!("segment {index}'s address range overflows"));
        let end = round_page(
            segment
                .vaddr
                .checked_add(segment.memsz)
                .ok_or_else(overflow)?,
        )
        .ok_or_else(overflow)?;
        let other = round_page(segment.memsz)
            .and_then(|size| size.checked_add(segment.vaddr))
            .and_then(round_page)
            .ok_or_else(overflow)?;
        Ok((end < other).then_some((end, segment_flags(&segment, index)?)))
    }

    /// The layout table, groups replayed.
    fn contexts(&self, sink: &mut impl Sink) -> Result<(), SdkError> {
        let layout = &self.meta.layout;
        for (index, record) in layout.iter().enumerate() {
            match record {
                LayoutRecord::Entry(entry) => self.context(sink, 0, entry)?,
                LayoutRecord::Group(group) => {
                    let count = usize::from(group.entry_count);
                    if count == 0 {
                        continue;
                    }
                    // Validation bounded `load_times * count` and checked the
                    // members are entries.
                    let members = &layout[index - count..index];
                    let mut step = 0u64;
                    for _ in 0..group.load_times {
                        step = step.saturating_add(group.load_step);
                        for member in members {
                            if let LayoutRecord::Entry(entry) = member {
                                self.context(sink, step, entry)?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// One layout entry at `delta` past its own address.
    fn context(
        &self,
        sink: &mut impl Sink,
        delta: u64,
        entry: &LayoutEntry,
    ) -> Result<(), SdkError> {
        // Entries without EADD (POST_ADD-only heap and dynamic threads) are
        // added by EDMM after EINIT and are not part of MRENCLAVE.
        if entry.attributes & PAGE_ATTR_EADD == 0 {
            return Ok(());
        }
        let rva = entry.rva.checked_add(delta).ok_or_else(|| {
            SdkError::Layout(format!("layout entry {} address overflows", entry.id))
        })?;
        let len = u64::from(entry.page_count) * PAGE;
        if entry.content_offset != 0 {
            let content = self.meta.data(entry.content_offset, entry.content_size)?;
            if entry.si_flags == SI_FLAGS_TCS {
                // The TCS template's offsets are relative to the TCS page.
                let mut tcs = [0u8; PAGE_BYTES];
                tcs.get_mut(..content.len())
                    .ok_or_else(|| SdkError::Layout("TCS template is larger than a page".into()))?
                    .copy_from_slice(content);
                for field in [TCS_OSSA, TCS_OFSBASE, TCS_OGSBASE] {
                    let slot = &mut tcs[field..field + 8];
                    let value = u64::from_le_bytes(<[u8; 8]>::try_from(&*slot).unwrap_or_default());
                    slot.copy_from_slice(&value.wrapping_add(rva).to_le_bytes());
                }
                self.add_pages(sink, rva, len, entry.si_flags, entry.attributes, |page| {
                    *page = tcs
                })
            } else {
                // Contents from the metadata: loaded like a segment, all measured.
                self.region(sink, content, rva, len, entry.si_flags, false)
            }
        } else if entry.si_flags != 0 {
            // No contents: zeros, or the 32-bit `content_size` repeated
            // (the stack's 0xCCCCCCCC fill).
            let pattern = entry.content_size.to_le_bytes();
            self.add_pages(sink, rva, len, entry.si_flags, entry.attributes, |page| {
                for word in page.as_chunks_mut::<4>().0 {
                    *word = pattern;
                }
            })
        } else {
            // Guard pages: nothing is added.
            Ok(())
        }
    }
}
