//! Intel SGX SDK signed enclaves (`enclave.signed.so`): MRENCLAVE recomputed
//! from the file, checked against the SIGSTRUCT the signer embedded.
//!
//! An enclave signed by the Intel SDK's `sgx_sign` is an x86-64 ELF shared
//! object whose non-loaded section `.note.sgxmeta` holds a note named
//! `sgx_metadata`: one or more `metadata_t` blobs, each with the enclave's
//! size, SSA frame size, the SIGSTRUCT (`enclave_css`), a patch table and a
//! layout table (heap, stacks, TCS, SSA, thread data, guard pages, thread
//! groups). [`measure_sdk_enclave`] rebuilds the enclave the way the SDK's
//! untrusted loader and its signer do — ECREATE; patches applied to the file
//! image; every PT_LOAD segment page by page; then the layout table with its
//! groups replayed — and hashes the ECREATE/EADD/EEXTEND records with
//! [`Measurer`], streaming: memory is bounded by the
//! input size, never by `enclave_size`.
//!
//! What is implemented:
//! - ELF64 little-endian x86-64 `ET_DYN` objects; metadata major versions 1
//!   to 3, and 11 to 13 (ELRANGE: the image sits inside a larger enclave
//!   range, so ECREATE takes the range's size and every page offset moves by
//!   the image's place in it). The blob with the highest version is the
//!   primary one, as an EDMM-capable loader picks it; every other blob of a
//!   known version is measured too and reported in
//!   [`SdkMeasurement::other_metadata`].
//! - Segments: each page holding file bytes is added on its own (zero
//!   padded before and after), the zero-filled tail up to `p_memsz` after;
//!   SECINFO is a regular page with the segment's R/W/X; pages touched by
//!   text relocations (`DT_TEXTREL`, RELA tables) are added writable.
//! - Patches (`patch_entry_t`): copied over the file image before loading.
//! - Layout entries: only entries with `PAGE_ATTR_EADD` are added, and only
//!   those that also have `PAGE_ATTR_EEXTEND` are measured; TCS pages from
//!   the template in the metadata with OSSA/OFSBASE/OGSBASE relocated by the
//!   TCS's address; other contents from the metadata loaded like a segment;
//!   otherwise zero pages or the 32-bit `content_size` pattern; guard pages
//!   (`si_flags` 0) are not added; groups (`GROUP_FLAG`) replay the
//!   `entry_count` entries before them `load_times` times, `load_step`
//!   further each time.
//! - The SDK 1.5 loader's extra page after a segment's partial last page, for
//!   version 1.3 metadata.
//! - The loader's validation: tables and contents inside the metadata data
//!   area, layout ranges page-aligned, inside the enclave and disjoint, patch
//!   targets inside the enclave, `enclave_size` a power of two.
//!
//! Not implemented, or deliberately different:
//! - EDMM: pages added after EINIT (`PAGE_ATTR_POST_ADD` without EADD:
//!   heap above its initial size, dynamic threads) are not in MRENCLAVE, so
//!   they are skipped; `PAGE_ATTR_POST_REMOVE`/`PAGE_ATTR_EREMOVE` pages are
//!   removed after EINIT and *are* measured. Neither trimming nor EMODPR is
//!   modelled: they do not change MRENCLAVE.
//! - KSS: CONFIGID/CONFIGSVN and ISVFAMILYID/ISVEXTPRODID are not part of
//!   MRENCLAVE and are not reported (they are in [`SdkMeasurement::sigstruct`]).
//! - 32-bit (ELF32) enclaves and PE files are refused, and so are metadata
//!   major versions other than those above.
//! - The SIGSTRUCT's signature is not verified here
//!   ([`crate::sigstruct::verify`] does that); only its headers are checked.
//! - Inputs the SDK signer never writes are refused rather than modelled: a
//!   TCS template larger than a page, contents larger than their entry, table
//!   sizes that are not whole records, more work than [`SdkLimits`] allows.
//! - Patches read their source from the unpatched metadata (the SDK loader
//!   reads its own, possibly patched, mapping; the two differ only if a patch
//!   overwrites the metadata itself). A segment page that collides with a
//!   layout page is hashed twice, as the signer would, though EADD would
//!   refuse it.
//! - Checks of the SDK loader that do not affect the measurement are looser
//!   here: `ssa_frame_size` need only be non-zero (the loader also caps it),
//!   and the `.note.sgxmeta` section need only hold its note (the loader
//!   wants its size to be the note's, rounded to the section alignment).
//!
//! Checked against: a real enclave signed by the SDK's `sgx_sign`, whose
//! MRENCLAVE SGX hardware attested (`tests/sdk_real.rs`, on the shared test
//! data: metadata 2.4 with 2.1 and 1.4 beside it, groups and patches); and a
//! synthetic enclave built from these formats by the tests
//! (`tests/sdk_enclave.rs`) for the versions and corners that one file does
//! not exercise (ELRANGE, text relocations, SDK 1.5's extra page, every
//! refusal), whose MRENCLAVE they compute independently from the SDM's
//! records.

mod elf;
mod load;
mod metadata;

use sgx_isa::Sigstruct;

use crate::measure::{Measurement, Measurer};
use crate::{Error, Result, hex, sigstruct};

/// Why an SDK enclave could not be measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// The ELF structure is malformed or not an x86-64 shared object.
    #[error("ELF, byte {offset:#x}: {reason}")]
    Elf {
        /// File offset of the offending structure.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// No SDK metadata: not an SDK-signed enclave.
    #[error("no Intel SGX SDK metadata: {0}")]
    NoMetadata(String),
    /// A metadata blob is malformed or fails the SDK loader's checks.
    #[error("SDK metadata, byte {offset:#x}: {reason}")]
    Metadata {
        /// File offset of the offending field.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The pages the loader would add are refused (bad permissions, out of
    /// the enclave, overlapping segments).
    #[error("SDK enclave layout: {0}")]
    Layout(String),
    /// No metadata blob has a version this module understands.
    #[error("unsupported SDK metadata: {0}")]
    Unsupported(String),
    /// Building the enclave would take more work than [`SdkLimits`] allows.
    #[error("SDK enclave too large to measure: {0}")]
    Limit(String),
    /// The embedded SIGSTRUCT is malformed.
    #[error("embedded SIGSTRUCT: {0}")]
    Sigstruct(String),
}

impl From<SdkError> for Error {
    fn from(error: SdkError) -> Self {
        Error::Layout(format!("Intel SGX SDK enclave: {error}"))
    }
}

/// Bounds on the work of one measurement, so a small hostile file cannot
/// make it hash for hours. The defaults admit any enclave the SDK loader
/// accepts (64 GiB at most) except those measuring more than 8 GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkLimits {
    /// Pages added (EADD), per metadata blob.
    pub max_added_pages: u64,
    /// Bytes measured (EEXTEND), per metadata blob.
    pub max_measured_bytes: u64,
    /// Layout table entries after expanding groups, per blob.
    pub max_layout_ranges: usize,
    /// Metadata blobs in the note.
    pub max_metadata_blobs: usize,
}

impl Default for SdkLimits {
    fn default() -> Self {
        Self {
            max_added_pages: 1 << 24,
            max_measured_bytes: 8 << 30,
            max_layout_ranges: 1 << 20,
            max_metadata_blobs: 8,
        }
    }
}

/// The header fields of one metadata blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataSummary {
    /// File offset of the blob.
    pub file_offset: u64,
    /// `major << 32 | minor`.
    pub version: u64,
    /// Bytes used by the blob.
    pub size: u32,
    /// 0 = TCS bound to an application thread, 1 = unbound.
    pub tcs_policy: u32,
    /// SSA frame size in pages (SECS.SSAFRAMESIZE).
    pub ssa_frame_size: u32,
    /// The largest XSAVE area the enclave saves.
    pub max_save_buffer_size: u32,
    /// MISCSELECT the enclave asks for.
    pub desired_misc_select: u32,
    /// TCSs kept in the EDMM pool.
    pub tcs_min_pool: u32,
    /// SECS.SIZE.
    pub enclave_size: u64,
    /// ATTRIBUTES.FLAGS the loader requests.
    pub attributes_flags: u64,
    /// ATTRIBUTES.XFRM the loader may set (bits it does not check are set).
    pub attributes_xfrm: u64,
    /// Layout table records (entries and groups).
    pub layout_records: usize,
    /// Layout entries after expanding groups.
    pub layout_ranges: usize,
    /// Patch table entries.
    pub patches: usize,
    /// Pages added (EADD).
    pub pages_added: u64,
    /// Bytes measured (EEXTEND).
    pub bytes_measured: u64,
    /// The ELRANGE configuration, for ELRANGE metadata (major version 11 and
    /// up): SECS.SIZE is then the range's size, not `enclave_size`.
    pub elrange: Option<Elrange>,
}

/// Where an ELRANGE enclave's image sits in its enclave address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elrange {
    /// Address the image is loaded at.
    pub image_address: u64,
    /// SECS.BASEADDR.
    pub start_address: u64,
    /// SECS.SIZE.
    pub size: u64,
}

impl MetadataSummary {
    /// The major version.
    pub fn version_major(&self) -> u32 {
        (self.version >> 32) as u32
    }

    /// The minor version.
    pub fn version_minor(&self) -> u32 {
        self.version as u32
    }
}

/// One metadata blob's measurement.
#[derive(Clone)]
pub struct BlobMeasurement {
    /// The blob's header.
    pub metadata: MetadataSummary,
    /// MRENCLAVE as this blob's layout builds the enclave.
    pub mrenclave: Measurement,
    /// The blob's SIGSTRUCT.
    pub sigstruct: Sigstruct,
    /// Whether `mrenclave` equals the SIGSTRUCT's ENCLAVEHASH.
    pub matches_sigstruct: bool,
}

impl std::fmt::Debug for BlobMeasurement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobMeasurement")
            .field("metadata", &self.metadata)
            .field("mrenclave", &hex(&self.mrenclave))
            .field("enclavehash", &hex(&self.sigstruct.enclavehash))
            .field("matches_sigstruct", &self.matches_sigstruct)
            .finish()
    }
}

/// What an SDK-signed enclave measures to.
#[derive(Clone)]
pub struct SdkMeasurement {
    /// The recomputed MRENCLAVE (from the primary metadata blob).
    pub mrenclave: Measurement,
    /// The SIGSTRUCT embedded in the primary blob.
    pub sigstruct: Sigstruct,
    /// The primary blob's header: the highest metadata version.
    pub metadata: MetadataSummary,
    /// Whether `mrenclave` equals the SIGSTRUCT's ENCLAVEHASH.
    pub matches_sigstruct: bool,
    /// The other blobs (older metadata versions kept for older loaders).
    pub other_metadata: Vec<BlobMeasurement>,
}

impl std::fmt::Debug for SdkMeasurement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkMeasurement")
            .field("mrenclave", &hex(&self.mrenclave))
            .field("enclavehash", &hex(&self.sigstruct.enclavehash))
            .field("metadata", &self.metadata)
            .field("matches_sigstruct", &self.matches_sigstruct)
            .field("other_metadata", &self.other_metadata)
            .finish()
    }
}

impl SdkMeasurement {
    /// Human-readable lines: the measurement, the metadata, the SIGSTRUCT.
    pub fn describe(&self) -> String {
        let m = &self.metadata;
        let mut lines = vec![
            format!("MRENCLAVE {}", hex(&self.mrenclave)),
            format!(
                "matches SIGSTRUCT ENCLAVEHASH: {}",
                if self.matches_sigstruct { "yes" } else { "NO" }
            ),
            format!(
                "metadata version: {}.{}",
                m.version_major(),
                m.version_minor()
            ),
            format!("enclave size: {:#x}", m.enclave_size),
            format!("ssa frame size: {} page(s)", m.ssa_frame_size),
            format!(
                "tcs policy: {}",
                if m.tcs_policy == 0 { "bind" } else { "unbind" }
            ),
            format!("tcs min pool: {}", m.tcs_min_pool),
            format!(
                "attributes: flags {:#018x} xfrm {:#018x}",
                m.attributes_flags, m.attributes_xfrm
            ),
            format!(
                "layout: {} records ({} after groups), {} patches",
                m.layout_records, m.layout_ranges, m.patches
            ),
            format!(
                "pages added: {}, bytes measured: {}",
                m.pages_added, m.bytes_measured
            ),
        ];
        if let Some(range) = m.elrange {
            lines.push(format!(
                "ELRANGE: image at {:#x} in {:#x} + {:#x}",
                range.image_address, range.start_address, range.size
            ));
        }
        for other in &self.other_metadata {
            lines.push(format!(
                "other metadata {}.{}: MRENCLAVE {} ({})",
                other.metadata.version_major(),
                other.metadata.version_minor(),
                hex(&other.mrenclave),
                if other.matches_sigstruct {
                    "matches its SIGSTRUCT"
                } else {
                    "does NOT match its SIGSTRUCT"
                }
            ));
        }
        lines.push(sigstruct::describe(&self.sigstruct));
        lines.join("\n")
    }
}

/// Whether `bytes` look like an SDK-signed enclave: an ELF file with a
/// `.note.sgxmeta` section whose `sgx_metadata` note starts with the
/// metadata magic. Reads only the headers.
pub fn is_sdk_enclave(bytes: &[u8]) -> bool {
    elf::has_sgx_metadata(bytes)
}

/// Recomputes the MRENCLAVE of an SDK-signed enclave and compares it with
/// the ENCLAVEHASH of its embedded SIGSTRUCT, with the default [`SdkLimits`].
pub fn measure_sdk_enclave(bytes: &[u8]) -> Result<SdkMeasurement> {
    measure_sdk_enclave_with_limits(bytes, &SdkLimits::default()).map_err(Error::from)
}

/// [`measure_sdk_enclave`] with explicit work limits and this module's error.
pub fn measure_sdk_enclave_with_limits(
    bytes: &[u8],
    limits: &SdkLimits,
) -> std::result::Result<SdkMeasurement, SdkError> {
    let elf = elf::Elf::parse(bytes)?;
    let (area, area_len) = elf.metadata_area()?;
    let blobs = metadata::scan(elf.bytes(), area, area_len, limits)?;
    let loads = load::load_segments(&elf.segments)?;
    let relocation_pages = elf.text_relocation_pages()?;

    // The primary blob: the highest version whose major this module knows.
    let primary = blobs
        .iter()
        .enumerate()
        .filter(|(_, m)| known_version(m.version))
        .max_by_key(|(_, m)| m.version)
        .map(|(index, _)| index)
        .ok_or_else(|| {
            let versions: Vec<String> = blobs
                .iter()
                .map(|m| format!("{}.{}", m.version >> 32, m.version as u32))
                .collect();
            SdkError::Unsupported(format!(
                "metadata versions {} (known: majors 1 to 3 and, with ELRANGE, 11 to 13)",
                versions.join(", ")
            ))
        })?;

    let main = measure_blob(bytes, &blobs[primary], &loads, &relocation_pages, limits)?;
    let mut measured = Vec::new();
    for (index, meta) in blobs.iter().enumerate() {
        if index != primary && known_version(meta.version) {
            measured.push(measure_blob(
                bytes,
                meta,
                &loads,
                &relocation_pages,
                limits,
            )?);
        }
    }
    Ok(SdkMeasurement {
        mrenclave: main.mrenclave,
        sigstruct: main.sigstruct,
        metadata: main.metadata,
        matches_sigstruct: main.matches_sigstruct,
        other_metadata: measured,
    })
}

/// Metadata versions this module measures: majors 1 to 3, plain or with
/// ELRANGE (the same plus 10).
fn known_version(version: u64) -> bool {
    let major = version >> 32;
    (1..=3).contains(&major) || (11..=13).contains(&major)
}

/// Builds and measures the enclave one metadata blob describes.
fn measure_blob(
    bytes: &[u8],
    meta: &metadata::Metadata<'_>,
    loads: &[(usize, elf::Segment)],
    relocation_pages: &std::collections::BTreeSet<u64>,
    limits: &SdkLimits,
) -> std::result::Result<BlobMeasurement, SdkError> {
    let sigstruct = sigstruct::parse(meta.css()).map_err(|e| match e {
        Error::Sigstruct(reason) => SdkError::Sigstruct(reason),
        other => SdkError::Sigstruct(other.to_string()),
    })?;

    // The loader patches its private copy of the file before reading the
    // segments; one copy of the input is the only allocation of its size.
    let mut image = bytes.to_vec();
    for (index, patch) in meta.patches.iter().enumerate() {
        let source = meta.data(patch.src, patch.size)?;
        let target = usize::try_from(patch.dst)
            .ok()
            .and_then(|start| Some(start..start.checked_add(source.len())?))
            .and_then(|range| image.get_mut(range))
            .ok_or_else(|| {
                SdkError::Layout(format!(
                    "patch {index} writes {} bytes at file offset {:#x}, past the end of the file",
                    patch.size, patch.dst
                ))
            })?;
        target.copy_from_slice(source);
    }

    let walk = load::Walk {
        image: &image,
        meta,
        loads,
        relocation_pages,
    };
    // Count first, so an input over the limits is refused before hashing.
    let mut budget = load::Budget::new(limits);
    walk.run(&mut budget)?;
    // With ELRANGE, SECS.SIZE is the range's and the image sits inside it.
    let (secs_size, shift) = match meta.elrange {
        Some(range) => (range.size, range.image_address - range.start_address),
        None => (meta.enclave_size, 0),
    };
    let mut hasher = load::Hasher::new(Measurer::ecreate(meta.ssa_frame_size, secs_size), shift);
    walk.run(&mut hasher)?;
    let mrenclave = hasher.measurer.finish();

    Ok(BlobMeasurement {
        metadata: MetadataSummary {
            file_offset: meta.file_offset,
            version: meta.version,
            size: meta.size,
            tcs_policy: meta.tcs_policy,
            ssa_frame_size: meta.ssa_frame_size,
            max_save_buffer_size: meta.max_save_buffer_size,
            desired_misc_select: meta.desired_misc_select,
            tcs_min_pool: meta.tcs_min_pool,
            enclave_size: meta.enclave_size,
            attributes_flags: meta.attributes_flags,
            attributes_xfrm: meta.attributes_xfrm,
            layout_records: meta.layout.len(),
            layout_ranges: meta.expanded_ranges,
            patches: meta.patches.len(),
            pages_added: budget.pages,
            bytes_measured: budget.measured_bytes,
            elrange: meta.elrange,
        },
        matches_sigstruct: sigstruct.enclavehash == mrenclave,
        mrenclave,
        sigstruct,
    })
}
