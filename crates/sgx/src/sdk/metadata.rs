//! The SDK's `metadata_t` (`common/inc/internal/metadata.h`): the header,
//! the embedded SIGSTRUCT, and the layout and patch tables in its data area,
//! checked the way the SDK loader checks them before it builds anything.
//!
//! Byte map of one metadata blob (all little-endian, packed):
//!
//! ```text
//!    0 magic u64          8 version u64 (major << 32 | minor)
//!   16 size u32          20 tcs_policy u32     24 ssa_frame_size u32
//!   28 max_save_buffer_size u32                32 desired_misc_select u32
//!   36 tcs_min_pool u32  40 enclave_size u64   48 attributes (flags u64, xfrm u64)
//!   64 enclave_css: the 1808-byte SIGSTRUCT
//! 1872 dirs[2]: (offset u32, size u32) for the patch table, then the layout table
//! 1888 data: tables and contents, addressed by offsets from the blob's start
//! ```

use super::elf::{slice, u16_at, u32_at, u64_at};
use super::{SdkError, SdkLimits};

/// `METADATA_MAGIC`.
pub(super) const MAGIC: u64 = 0x86A8_0294_635D_0E4C;
/// `offsetof(metadata_t, data)`: where offsets into the data area may start.
pub(super) const HEADER_SIZE: u32 = 1888;
const CSS_OFFSET: u64 = 64;
pub(super) const CSS_SIZE: u64 = 1808;
const DIRS_OFFSET: u64 = 1872;
/// Both layout_t (entry or group) and patch_entry_t are 32 bytes.
const RECORD_SIZE: u32 = 32;
/// `GROUP_FLAG`: the id bit that makes a layout record a group.
pub(super) const GROUP_FLAG: u16 = 1 << 12;
/// The SDK loader's limit for 64-bit enclaves (`ENCLAVE_MAX_SIZE_64`).
const ENCLAVE_MAX_SIZE: u64 = 0x1f_ffff_ffff;
/// Metadata major versions above this one carry an ELRANGE configuration
/// (`SGX_MAJOR_VERSION_GAP`): the major version proper is the remainder.
pub(super) const ELRANGE_MAJOR_BASE: u64 = 10;
/// Metadata version of SDK 1.5, whose loader adds a page after the last
/// segment's partial tail.
pub(super) const VERSION_1_5: u64 = (1 << 32) | 3;
const PAGE: u64 = 4096;

/// One layout_entry_t.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LayoutEntry {
    pub(super) id: u16,
    pub(super) attributes: u16,
    pub(super) page_count: u32,
    pub(super) rva: u64,
    pub(super) content_size: u32,
    pub(super) content_offset: u32,
    pub(super) si_flags: u64,
}

/// One layout_group_t: replay the `entry_count` entries before it
/// `load_times` times, shifted by `load_step` more each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LayoutGroup {
    pub(super) id: u16,
    pub(super) entry_count: u16,
    pub(super) load_times: u32,
    pub(super) load_step: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LayoutRecord {
    Entry(LayoutEntry),
    Group(LayoutGroup),
}

/// One patch_entry_t: copy `size` bytes from the metadata (at `src`) over
/// the file image (at file offset `dst`) before loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Patch {
    pub(super) dst: u64,
    pub(super) src: u32,
    pub(super) size: u32,
}

/// One parsed and validated metadata blob.
#[derive(Debug)]
pub(super) struct Metadata<'a> {
    /// File offset of the blob.
    pub(super) file_offset: u64,
    /// The blob's `size` bytes.
    pub(super) blob: &'a [u8],
    pub(super) version: u64,
    pub(super) size: u32,
    pub(super) tcs_policy: u32,
    pub(super) ssa_frame_size: u32,
    pub(super) max_save_buffer_size: u32,
    pub(super) desired_misc_select: u32,
    pub(super) tcs_min_pool: u32,
    pub(super) enclave_size: u64,
    pub(super) attributes_flags: u64,
    pub(super) attributes_xfrm: u64,
    pub(super) layout: Vec<LayoutRecord>,
    pub(super) patches: Vec<Patch>,
    /// Layout ranges after expanding groups (count, for the summary).
    pub(super) expanded_ranges: usize,
    /// ELRANGE metadata (major version above 10): where the image sits in
    /// the enclave's address range.
    pub(super) elrange: Option<super::Elrange>,
}

impl Metadata<'_> {
    /// The embedded SIGSTRUCT's bytes.
    pub(super) fn css(&self) -> &[u8] {
        // Checked at parse time: the blob is at least HEADER_SIZE bytes.
        slice(self.blob, CSS_OFFSET, CSS_SIZE).unwrap_or_default()
    }

    /// `size` bytes at metadata offset `offset`, already checked to lie in the
    /// data area by validation.
    pub(super) fn data(&self, offset: u32, size: u32) -> Result<&[u8], SdkError> {
        if !in_data_area(self.size, offset, size) {
            return Err(self.err(
                u64::from(offset),
                format!("{size} bytes at {offset:#x} are outside the data area"),
            ));
        }
        slice(self.blob, u64::from(offset), u64::from(size))
            .ok_or_else(|| self.err(u64::from(offset), "data area past the end of the blob"))
    }

    fn err(&self, at: u64, reason: impl Into<String>) -> SdkError {
        SdkError::Metadata {
            offset: self.file_offset.saturating_add(at),
            reason: reason.into(),
        }
    }
}

/// The SDK's `is_metadata_buffer`: inside the data area and the blob's size.
fn in_data_area(blob_size: u32, offset: u32, size: u32) -> bool {
    offset >= HEADER_SIZE
        && offset < blob_size
        && offset.checked_add(size).is_some_and(|end| end <= blob_size)
}

/// The SDK's `is_enclave_buffer`.
fn in_enclave(enclave_size: u64, offset: u64, size: u64) -> bool {
    offset < enclave_size
        && offset
            .checked_add(size)
            .is_some_and(|end| end <= enclave_size)
}

/// Splits the metadata area (the note descriptor at file offset `start`)
/// into blobs: the SDK signer may write several, one per metadata version,
/// back to back; a blob that does not start with the magic ends the list.
pub(super) fn scan<'a>(
    file: &'a [u8],
    start: u64,
    len: u64,
    limits: &SdkLimits,
) -> Result<Vec<Metadata<'a>>, SdkError> {
    let area = slice(file, start, len).ok_or_else(|| SdkError::Metadata {
        offset: start,
        reason: "metadata area is past the end of the file".into(),
    })?;
    let mut blobs = Vec::new();
    let mut pos: u64 = 0;
    while u64_at(area, pos) == Some(MAGIC) {
        let at = start + pos;
        if blobs.len() >= limits.max_metadata_blobs {
            return Err(SdkError::Limit(format!(
                "more than {} metadata blobs",
                limits.max_metadata_blobs
            )));
        }
        let size = u32_at(area, pos + 16).ok_or_else(|| SdkError::Metadata {
            offset: at,
            reason: "truncated metadata header".into(),
        })?;
        if size < HEADER_SIZE {
            return Err(SdkError::Metadata {
                offset: at,
                reason: format!(
                    "metadata size {size} is smaller than its {HEADER_SIZE}-byte header"
                ),
            });
        }
        let blob = slice(area, pos, u64::from(size)).ok_or_else(|| SdkError::Metadata {
            offset: at,
            reason: format!("metadata size {size} runs past the end of the `sgx_metadata` note"),
        })?;
        blobs.push(parse_blob(blob, at, limits)?);
        pos += u64::from(size);
    }
    if blobs.is_empty() {
        return Err(SdkError::NoMetadata(
            "the `sgx_metadata` note does not start with the metadata magic".into(),
        ));
    }
    Ok(blobs)
}

/// Parses one blob and validates it as the SDK loader's `validate_metadata`
/// does, plus the checks that keep the later walk bounded.
fn parse_blob<'a>(
    blob: &'a [u8],
    file_offset: u64,
    limits: &SdkLimits,
) -> Result<Metadata<'a>, SdkError> {
    let err = |at: u64, reason: String| SdkError::Metadata {
        offset: file_offset.saturating_add(at),
        reason,
    };
    // The blob is at least HEADER_SIZE bytes, so these fixed reads succeed.
    let r32 = |at| u32_at(blob, at).unwrap_or_default();
    let r64 = |at| u64_at(blob, at).unwrap_or_default();
    let mut meta = Metadata {
        file_offset,
        blob,
        version: r64(8),
        size: r32(16),
        tcs_policy: r32(20),
        ssa_frame_size: r32(24),
        max_save_buffer_size: r32(28),
        desired_misc_select: r32(32),
        tcs_min_pool: r32(36),
        enclave_size: r64(40),
        attributes_flags: r64(48),
        attributes_xfrm: r64(56),
        layout: Vec::new(),
        patches: Vec::new(),
        expanded_ranges: 0,
        elrange: None,
    };
    if meta.tcs_policy > 1 {
        return Err(err(
            20,
            format!(
                "tcs_policy {} is neither BIND (0) nor UNBIND (1)",
                meta.tcs_policy
            ),
        ));
    }
    if meta.ssa_frame_size == 0 {
        return Err(err(24, "ssa_frame_size is zero".into()));
    }
    let size = meta.enclave_size;
    if !size.is_power_of_two() || !(2 * PAGE..=ENCLAVE_MAX_SIZE).contains(&size) {
        return Err(err(
            40,
            format!(
                "enclave_size {size:#x} is not a power of two between 8 KiB and {ENCLAVE_MAX_SIZE:#x}"
            ),
        ));
    }

    let dir = |index: u64| {
        (
            r32(DIRS_OFFSET + index * 8),
            r32(DIRS_OFFSET + index * 8 + 4),
        )
    };
    let (patch_offset, patch_size) = dir(0);
    let (layout_offset, layout_size) = dir(1);
    for (name, offset, dir_size, at) in [
        ("patch", patch_offset, patch_size, DIRS_OFFSET),
        ("layout", layout_offset, layout_size, DIRS_OFFSET + 8),
    ] {
        if !in_data_area(meta.size, offset, dir_size) {
            return Err(err(
                at,
                format!(
                    "the {name} table ({dir_size} bytes at {offset:#x}) is outside the data area"
                ),
            ));
        }
        if !dir_size.is_multiple_of(RECORD_SIZE) {
            return Err(err(
                at,
                format!("the {name} table size {dir_size} is not a multiple of {RECORD_SIZE}"),
            ));
        }
    }

    for index in 0..patch_size / RECORD_SIZE {
        let at = u64::from(patch_offset) + u64::from(index * RECORD_SIZE);
        let patch = Patch {
            dst: r64(at),
            src: r32(at + 8),
            size: r32(at + 12),
        };
        if !in_data_area(meta.size, patch.src, patch.size) {
            return Err(err(
                at,
                format!(
                    "patch {index}: source {:#x}+{} is outside the data area",
                    patch.src, patch.size
                ),
            ));
        }
        if !in_enclave(size, patch.dst, u64::from(patch.size)) {
            return Err(err(
                at,
                format!(
                    "patch {index}: destination {:#x}+{} is outside the enclave",
                    patch.dst, patch.size
                ),
            ));
        }
        meta.patches.push(patch);
    }

    for index in 0..layout_size / RECORD_SIZE {
        let at = u64::from(layout_offset) + u64::from(index * RECORD_SIZE);
        let id = u16_at(blob, at).unwrap_or_default();
        let record = if id & GROUP_FLAG != 0 {
            LayoutRecord::Group(LayoutGroup {
                id,
                entry_count: u16_at(blob, at + 2).unwrap_or_default(),
                load_times: r32(at + 4),
                load_step: r64(at + 8),
            })
        } else {
            LayoutRecord::Entry(LayoutEntry {
                id,
                attributes: u16_at(blob, at + 2).unwrap_or_default(),
                page_count: r32(at + 4),
                rva: r64(at + 8),
                content_size: r32(at + 16),
                content_offset: r32(at + 20),
                si_flags: r64(at + 24),
            })
        };
        meta.layout.push(record);
    }
    meta.expanded_ranges = validate_layout(&meta, u64::from(layout_offset), limits)?;
    if meta.version >> 32 > ELRANGE_MAJOR_BASE {
        meta.elrange = Some(parse_elrange(&meta)?);
    }
    Ok(meta)
}

/// The SDK's `validate_layout_table`: every entry (groups expanded) is
/// page-aligned, inside the enclave, and overlaps no other; contents lie in
/// the data area; groups replay only plain entries before them. Returns the
/// number of expanded ranges.
fn validate_layout(
    meta: &Metadata<'_>,
    table_offset: u64,
    limits: &SdkLimits,
) -> Result<usize, SdkError> {
    let at = |index: usize| table_offset + index as u64 * u64::from(RECORD_SIZE);
    let mut ranges: Vec<(u64, u64, usize)> = Vec::new();
    let mut push = |rva: u64, entry: &LayoutEntry, index: usize| -> Result<(), SdkError> {
        if ranges.len() >= limits.max_layout_ranges {
            return Err(SdkError::Limit(format!(
                "the layout table expands to more than {} entries",
                limits.max_layout_ranges
            )));
        }
        ranges.push((rva, u64::from(entry.page_count) * PAGE, index));
        Ok(())
    };
    for (index, record) in meta.layout.iter().enumerate() {
        match record {
            LayoutRecord::Entry(entry) => {
                check_content(meta, entry, at(index))?;
                push(entry.rva, entry, index)?;
            }
            LayoutRecord::Group(group) => {
                let count = usize::from(group.entry_count);
                if count > index {
                    return Err(meta.err(
                        at(index),
                        format!("layout group {index} replays {count} entries but only {index} precede it"),
                    ));
                }
                // The last replay's shift must stay inside the enclave.
                let total_step = u64::from(group.load_times).checked_mul(group.load_step);
                if total_step.is_none_or(|step| step > meta.enclave_size) {
                    return Err(meta.err(
                        at(index),
                        format!("layout group {index} steps past the enclave"),
                    ));
                }
                if count == 0 || group.load_times == 0 {
                    continue;
                }
                let replays = (count as u64).saturating_mul(u64::from(group.load_times));
                if replays > limits.max_layout_ranges as u64 {
                    return Err(SdkError::Limit(format!(
                        "layout group {index} expands to {replays} entries (limit {})",
                        limits.max_layout_ranges
                    )));
                }
                let members = &meta.layout[index - count..index];
                let mut step = 0u64;
                for _ in 0..group.load_times {
                    step += group.load_step;
                    for (offset, member) in members.iter().enumerate() {
                        let LayoutRecord::Entry(entry) = member else {
                            return Err(meta.err(
                                at(index),
                                format!("layout group {index} contains another group"),
                            ));
                        };
                        // rva and step are below enclave_size once checked; the
                        // sum is checked below like every range.
                        let rva = entry.rva.checked_add(step).ok_or_else(|| {
                            meta.err(at(index - count + offset), "layout entry address overflows")
                        })?;
                        push(rva, entry, index - count + offset)?;
                    }
                }
            }
        }
    }
    ranges.sort_unstable();
    for (i, &(rva, len, index)) in ranges.iter().enumerate() {
        if !rva.is_multiple_of(PAGE) {
            return Err(meta.err(
                at(index),
                format!("layout entry {index} at {rva:#x} is not page-aligned"),
            ));
        }
        if !in_enclave(meta.enclave_size, rva, len) {
            return Err(meta.err(
                at(index),
                format!("layout entry {index} ({len:#x} bytes at {rva:#x}) is outside the enclave"),
            ));
        }
        if let Some(&(next, _, other)) = ranges.get(i + 1)
            && rva + len > next
        {
            return Err(meta.err(
                at(index),
                format!("layout entries {index} and {other} overlap at {next:#x}"),
            ));
        }
    }
    Ok(ranges.len())
}

/// An entry's initial contents must be in the data area; and (beyond the
/// SDK's own checks, for inputs its signer never writes) a TCS template fits
/// in a page and other contents fit in the entry's pages.
fn check_content(meta: &Metadata<'_>, entry: &LayoutEntry, at: u64) -> Result<(), SdkError> {
    if entry.content_offset == 0 {
        return Ok(());
    }
    if !in_data_area(meta.size, entry.content_offset, entry.content_size) {
        return Err(meta.err(
            at,
            format!(
                "layout content ({} bytes at {:#x}) is outside the data area",
                entry.content_size, entry.content_offset
            ),
        ));
    }
    let room = if entry.si_flags == super::load::SI_FLAGS_TCS {
        PAGE
    } else {
        u64::from(entry.page_count) * PAGE
    };
    if u64::from(entry.content_size) > room {
        return Err(meta.err(
            at,
            format!(
                "layout content of {} bytes does not fit in {room:#x} bytes of pages",
                entry.content_size
            ),
        ));
    }
    Ok(())
}

/// The ELRANGE configuration of ELRANGE metadata: a data directory at the
/// start of the data area points at (image address, range start, range
/// size), checked as the SDK loader checks it. The image then sits
/// `image - start` bytes into an enclave of `size` bytes.
fn parse_elrange(meta: &Metadata<'_>) -> Result<super::Elrange, SdkError> {
    let at = u64::from(HEADER_SIZE);
    if !in_data_area(meta.size, HEADER_SIZE, 8) {
        return Err(meta.err(at, "ELRANGE metadata has no room for its ELRANGE directory"));
    }
    let offset = u32_at(meta.blob, at).unwrap_or_default();
    if !in_data_area(meta.size, offset, 24) {
        return Err(meta.err(
            at,
            format!("the ELRANGE entry at {offset:#x} is outside the data area"),
        ));
    }
    let field = |index: u64| u64_at(meta.blob, u64::from(offset) + index * 8).unwrap_or_default();
    let elrange = super::Elrange {
        image_address: field(0),
        start_address: field(1),
        size: field(2),
    };
    let super::Elrange {
        image_address: image,
        start_address: start,
        size,
    } = elrange;
    let end = start.checked_add(size);
    let image_end = image.checked_add(meta.enclave_size);
    let valid = size.is_power_of_two()
        && start <= image
        && [start, image].iter().all(|a| a.is_multiple_of(PAGE))
        && size >= PAGE
        && start.is_multiple_of(size)
        && end
            .is_some_and(|end| image_end.is_some_and(|image_end| image < end && image_end <= end));
    if !valid {
        return Err(meta.err(
            u64::from(offset),
            format!(
                "ELRANGE (image {image:#x}, range {start:#x} + {size:#x}) does not hold the {:#x}-byte image",
                meta.enclave_size
            ),
        ));
    }
    Ok(elrange)
}
