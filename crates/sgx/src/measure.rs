//! MRENCLAVE by the SDM's algorithm (vol. 3D, "ECREATE", "EADD", "EEXTEND").
//!
//! The measurement is SHA-256 over a stream of 64-byte records: one ECREATE
//! record, then per added page an EADD record (offset and the first 48 bytes of
//! its SECINFO), and per measured 256-byte chunk an EEXTEND record followed by
//! the chunk itself. [`Measurer`] is that hash; [`Layout`] is an enclave's page
//! list, measured in order.

use sgx_isa::{PageType, SecinfoFlags};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Bytes in an enclave page.
pub const PAGE_SIZE: u64 = 4096;
/// Bytes measured by one EEXTEND.
pub const CHUNK_SIZE: usize = 256;
/// EEXTEND chunks in a page.
pub const CHUNKS_PER_PAGE: usize = PAGE_SIZE as usize / CHUNK_SIZE;

/// Record tags as the SDM hashes them: the ASCII name, NUL-padded to 8 bytes.
pub(crate) const TAG_ECREATE: [u8; 8] = *b"ECREATE\0";
pub(crate) const TAG_EADD: [u8; 8] = *b"EADD\0\0\0\0";
pub(crate) const TAG_EEXTEND: [u8; 8] = *b"EEXTEND\0";

/// A 32-byte enclave measurement (MRENCLAVE, MRSIGNER, ENCLAVEHASH).
pub type Measurement = [u8; 32];

/// The running MRENCLAVE hash of an enclave under construction.
#[derive(Debug, Clone)]
pub struct Measurer {
    hash: Sha256,
}

impl Measurer {
    /// ECREATE: starts a measurement for an enclave of `size` bytes whose
    /// state save areas are `ssa_frame_size` pages each.
    pub fn ecreate(ssa_frame_size: u32, size: u64) -> Self {
        let mut record = [0u8; 64];
        record[..8].copy_from_slice(&TAG_ECREATE);
        record[8..12].copy_from_slice(&ssa_frame_size.to_le_bytes());
        record[12..20].copy_from_slice(&size.to_le_bytes());
        let mut hash = Sha256::new();
        hash.update(record);
        Self { hash }
    }

    /// EADD of the page at `offset` (relative to the enclave base) with SECINFO
    /// `flags`. Only the first 48 bytes of SECINFO are measured; all but the
    /// flags are reserved and zero.
    pub fn eadd(&mut self, offset: u64, flags: SecinfoFlags) {
        let mut record = [0u8; 64];
        record[..8].copy_from_slice(&TAG_EADD);
        record[8..16].copy_from_slice(&offset.to_le_bytes());
        record[16..24].copy_from_slice(&flags.bits().to_le_bytes());
        self.hash.update(record);
    }

    /// EEXTEND of the 256-byte chunk at `offset`.
    pub fn eextend(&mut self, offset: u64, chunk: &[u8; CHUNK_SIZE]) {
        let mut record = [0u8; 64];
        record[..8].copy_from_slice(&TAG_EEXTEND);
        record[8..16].copy_from_slice(&offset.to_le_bytes());
        self.hash.update(record);
        self.hash.update(chunk);
    }

    /// Feeds raw, already-formatted measurement records (used by stream
    /// formats that carry the records themselves).
    pub(crate) fn update_raw(&mut self, bytes: &[u8]) {
        self.hash.update(bytes);
    }

    /// EINIT: the final MRENCLAVE.
    pub fn finish(self) -> Measurement {
        self.hash.finalize().into()
    }
}

/// Which 256-byte chunks of a page are EEXTENDed: bit `i` is chunk `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMask(pub u16);

impl ChunkMask {
    /// Every chunk measured.
    pub const ALL: Self = Self(0xffff);
    /// Added but not measured (heap, stack: contents are not part of the identity).
    pub const NONE: Self = Self(0);

    /// Whether chunk `index` (0..16) is measured.
    pub fn contains(self, index: usize) -> bool {
        index < CHUNKS_PER_PAGE && self.0 & (1 << index) != 0
    }
}

/// One page of an enclave layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Offset from the enclave base; a multiple of [`PAGE_SIZE`].
    pub offset: u64,
    /// SECINFO flags: permissions and page type.
    pub flags: SecinfoFlags,
    /// The page's contents; `None` is a page of zeros.
    pub data: Option<Box<[u8; PAGE_SIZE as usize]>>,
    /// Which chunks are EEXTENDed.
    pub measured: ChunkMask,
}

impl Page {
    /// A regular page with the given permissions (`R`, `W`, `X` bits).
    pub fn regular(offset: u64, perms: SecinfoFlags, data: Option<Box<[u8; 4096]>>) -> Self {
        Self {
            offset,
            flags: perms | SecinfoFlags::from(PageType::Reg),
            data,
            measured: ChunkMask::ALL,
        }
    }
}

/// An enclave's pages in the order they are added, with its ECREATE parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// SECS.SSAFRAMESIZE, in pages.
    pub ssa_frame_size: u32,
    /// SECS.SIZE: a power of two, at least the span of the pages.
    pub size: u64,
    /// Pages in EADD order.
    pub pages: Vec<Page>,
}

impl Layout {
    /// Checks the layout the way ECREATE and EADD would refuse it.
    pub fn validate(&self) -> Result<()> {
        if !self.size.is_power_of_two() || self.size < 2 * PAGE_SIZE {
            return Err(Error::Layout(format!(
                "enclave size {:#x} is not a power of two of at least 8 KiB",
                self.size
            )));
        }
        if self.ssa_frame_size == 0 {
            return Err(Error::Layout("SSA frame size is zero".into()));
        }
        for page in &self.pages {
            if !page.offset.is_multiple_of(PAGE_SIZE) || page.offset >= self.size {
                return Err(Error::Layout(format!(
                    "page offset {:#x} is not page-aligned inside the {:#x}-byte enclave",
                    page.offset, self.size
                )));
            }
        }
        // Layouts list their pages in address order (a 1 GiB heap is 262,144
        // of them): then "no page twice" is one pass. Otherwise sort a copy.
        let ascending = self.pages.windows(2).all(|w| w[0].offset < w[1].offset);
        if !ascending {
            let mut offsets: Vec<u64> = self.pages.iter().map(|p| p.offset).collect();
            offsets.sort_unstable();
            if let Some(w) = offsets.windows(2).find(|w| w[0] == w[1]) {
                return Err(Error::Layout(format!("page {:#x} added twice", w[0])));
            }
        }
        Ok(())
    }

    /// MRENCLAVE of this layout.
    pub fn measure(&self) -> Result<Measurement> {
        self.validate()?;
        let mut measurer = Measurer::ecreate(self.ssa_frame_size, self.size);
        let zero = [0u8; PAGE_SIZE as usize];
        for page in &self.pages {
            measurer.eadd(page.offset, page.flags);
            let data = page.data.as_deref().unwrap_or(&zero);
            let (chunks, _) = data.as_chunks::<CHUNK_SIZE>();
            for (index, chunk) in chunks.iter().enumerate() {
                if page.measured.contains(index) {
                    measurer.eextend(page.offset + (index * CHUNK_SIZE) as u64, chunk);
                }
            }
        }
        Ok(measurer.finish())
    }
}

#[cfg(test)]
mod tests;
