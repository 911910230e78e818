//! Shared memory: a sealed `memfd` mapped `MAP_SHARED`, accessed only
//! through atomics. This is the crate's only `unsafe` code.
//!
//! The other process can change any byte of the region at any time. So no
//! non-atomic Rust reference to the region's bytes is ever created: words
//! at fixed offsets are atomics, and byte copies in and out go element by
//! element through atomic bytes and words (as rust-vmm's `vm-memory` does
//! for guest memory), so a concurrent write is never a data race in this
//! process, only an arbitrary value that callers treat as untrusted.
//!
//! Its size cannot change either: the region's memfd is sealed against
//! shrinking and growing before it is handed over, and a region adopted
//! from another process is refused unless those seals are on (an
//! `ftruncate` after the hand-over would otherwise turn every access past
//! the new end into SIGBUS).
#![allow(unsafe_code)]

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use rustix::fs::{
    MemfdFlags, SealFlags, fcntl_add_seals, fcntl_get_seals, fstat, ftruncate, memfd_create,
};
use rustix::mm::{MapFlags, ProtFlags, mmap, munmap};
use rustix::thread::futex;

use crate::{Error, Result};

/// Seals an adopted region must carry: its size is fixed.
const REQUIRED_SEALS: SealFlags = SealFlags::SHRINK.union(SealFlags::GROW);

/// A shared, mapped memory region.
#[derive(Debug)]
pub struct SharedRegion {
    base: NonNull<u8>,
    len: usize,
    fd: OwnedFd,
}

// SAFETY: the region is plain memory and all access goes through atomics,
// so sharing the mapping between threads is as safe as sharing it between
// processes.
unsafe impl Send for SharedRegion {}
// SAFETY: as above; no method hands out a non-atomic reference into it.
unsafe impl Sync for SharedRegion {}

impl SharedRegion {
    /// Creates a zeroed region of `len` bytes backed by a new memfd
    /// (close-on-exec; the launcher decides what the child inherits), its
    /// size sealed.
    pub fn create(name: &str, len: usize) -> Result<Self> {
        let fd = memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
        ftruncate(&fd, len as u64)?;
        fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)?;
        Self::map(fd, len)
    }

    /// Maps an inherited memfd, whole. Refused unless its size is sealed:
    /// the seals are checked first, so the size read after them is final.
    pub fn from_fd(fd: OwnedFd) -> Result<Self> {
        let seals = fcntl_get_seals(&fd)?;
        if !seals.contains(REQUIRED_SEALS) {
            return Err(Error::Unsealed);
        }
        let len = usize::try_from(fstat(&fd)?.st_size).map_err(|_| Error::RegionTooSmall(0))?;
        Self::map(fd, len)
    }

    fn map(fd: OwnedFd, len: usize) -> Result<Self> {
        if len < 4096 {
            return Err(Error::RegionTooSmall(len));
        }
        // SAFETY: a fresh mapping chosen by the kernel (null hint) cannot
        // overlap any Rust object; `fd` is a memfd at least `len` bytes long
        // (created or fstat'ed above), so every mapped page is backed.
        let ptr = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                &fd,
                0,
            )?
        };
        let base = NonNull::new(ptr.cast::<u8>()).ok_or(Error::RegionTooSmall(len))?;
        Ok(Self { base, len, fd })
    }

    /// The memfd, to hand to the other process.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the region is empty (never: regions are at least a page).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The atomic 32-bit word at `offset`. Offsets are constants of this
    /// crate's layouts; a bad one is a bug, and panics.
    pub(crate) fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        assert!(
            offset.is_multiple_of(4) && offset + 4 <= self.len,
            "atomic_u32 offset {offset}"
        );
        // SAFETY: in bounds and 4-aligned (the mapping is page-aligned), alive as long as
        // `self`; AtomicU32 has u32's layout, any bit pattern is valid, and both processes
        // only ever access this word atomically.
        unsafe { &*self.base.as_ptr().add(offset).cast::<AtomicU32>() }
    }

    /// The atomic 64-bit word at `offset` (8-aligned).
    pub(crate) fn atomic_u64(&self, offset: usize) -> &AtomicU64 {
        assert!(
            offset.is_multiple_of(8) && offset + 8 <= self.len,
            "atomic_u64 offset {offset}"
        );
        // SAFETY: as for `atomic_u32`, with 8-byte alignment checked.
        unsafe { &*self.base.as_ptr().add(offset).cast::<AtomicU64>() }
    }

    /// The bytes `offset..offset + len` as atomics.
    fn atomic_bytes(&self, offset: usize, len: usize) -> Result<&[AtomicU8]> {
        self.check(offset, len)?;
        // SAFETY: `check` proved the range lies inside the mapping, which
        // lives as long as `self`; AtomicU8 has u8's size and alignment and
        // any bit pattern is valid. Inside this process the region is only
        // ever accessed atomically (no plain reference to it exists); the
        // other process's writes are outside Rust's memory model and can
        // only make the loads return arbitrary values.
        Ok(unsafe {
            std::slice::from_raw_parts(self.base.as_ptr().add(offset).cast::<AtomicU8>(), len)
        })
    }

    /// `count` 8-byte words from `offset`, which must be 8-aligned unless
    /// `count` is 0.
    fn atomic_words(&self, offset: usize, count: usize) -> Result<&[AtomicU64]> {
        if count == 0 {
            return Ok(&[]);
        }
        let len = count.checked_mul(8).ok_or(Error::TooLarge {
            len: u64::MAX,
            capacity: self.len,
        })?;
        self.check(offset, len)?;
        assert!(offset.is_multiple_of(8), "atomic_words offset {offset}");
        // SAFETY: in bounds by `check`, 8-aligned (the mapping is
        // page-aligned, `offset` a multiple of 8); otherwise as for
        // `atomic_bytes`. The same bytes may be accessed as words here and
        // as single bytes elsewhere, but never at the same time by this
        // process: each copy runs while its side owns the channel's turn.
        Ok(unsafe {
            std::slice::from_raw_parts(self.base.as_ptr().add(offset).cast::<AtomicU64>(), count)
        })
    }

    /// Splits `offset..offset + len` into a byte-wise head up to 8-byte
    /// alignment, whole words, and a byte-wise tail: `(head, words)`.
    fn split(offset: usize, len: usize) -> (usize, usize) {
        let head = (offset.next_multiple_of(8) - offset).min(len);
        (head, (len - head) / 8)
    }

    /// Copies `data` into the region at `offset`.
    pub(crate) fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        let bytes = self.atomic_bytes(offset, data.len())?;
        let (head, words) = Self::split(offset, data.len());
        let body = head + words * 8;
        for (cell, &b) in bytes[..head].iter().zip(&data[..head]) {
            cell.store(b, Ordering::Relaxed);
        }
        let chunks = data[head..body].chunks_exact(8);
        for (cell, chunk) in self.atomic_words(offset + head, words)?.iter().zip(chunks) {
            let word: [u8; 8] = chunk.try_into().expect("chunks of 8");
            cell.store(u64::from_ne_bytes(word), Ordering::Relaxed);
        }
        for (cell, &b) in bytes[body..].iter().zip(&data[body..]) {
            cell.store(b, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Copies region bytes at `offset` into the private buffer `out`.
    pub(crate) fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        let bytes = self.atomic_bytes(offset, out.len())?;
        let (head, words) = Self::split(offset, out.len());
        let body = head + words * 8;
        for (b, cell) in out[..head].iter_mut().zip(&bytes[..head]) {
            *b = cell.load(Ordering::Relaxed);
        }
        let chunks = out[head..body].chunks_exact_mut(8);
        for (chunk, cell) in chunks.zip(self.atomic_words(offset + head, words)?) {
            chunk.copy_from_slice(&cell.load(Ordering::Relaxed).to_ne_bytes());
        }
        for (b, cell) in out[body..].iter_mut().zip(&bytes[body..]) {
            *b = cell.load(Ordering::Relaxed);
        }
        Ok(())
    }

    fn check(&self, offset: usize, len: usize) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Error::TooLarge {
                len: len as u64,
                capacity: self.len.saturating_sub(offset),
            }),
        }
    }
}

impl Drop for SharedRegion {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly the mapping made in `map`, and no
        // reference into it outlives `self` (they all borrow `self`).
        let _ = unsafe { munmap(self.base.as_ptr().cast(), self.len) };
    }
}

/// Sleeps while `word` still holds `expected`, at most `timeout`. Uses the
/// shared (not process-private) futex, since the word is in a memfd mapping.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let timeout = rustix::time::Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    // Spurious wake-ups, EAGAIN (the value changed) and EINTR are all fine:
    // callers re-check the word.
    let _ = futex::wait(word, futex::Flags::empty(), expected, Some(&timeout));
}

/// Wakes every waiter on `word`.
pub(crate) fn futex_wake(word: &AtomicU32) {
    let _ = futex::wake(word, futex::Flags::empty(), i32::MAX as u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_bounds_checked() {
        let region = SharedRegion::create("test", 8192).unwrap();
        region.write(8190, &[1, 2]).unwrap();
        let mut out = [0u8; 2];
        region.read(8190, &mut out).unwrap();
        assert_eq!(out, [1, 2]);
        assert!(region.write(8191, &[1, 2]).is_err());
        assert!(region.read(usize::MAX, &mut out).is_err());
        assert!(SharedRegion::create("small", 100).is_err());
    }

    #[test]
    fn copies_are_exact_at_every_alignment() {
        let region = SharedRegion::create("test", 4096).unwrap();
        let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        for offset in 0..16 {
            for len in 0..data.len() {
                region.write(0, &[0xee; 96]).unwrap();
                region.write(offset, &data[..len]).unwrap();
                let mut out = vec![0u8; 96];
                region.read(0, &mut out).unwrap();
                let mut expected = vec![0xee; 96];
                expected[offset..offset + len].copy_from_slice(&data[..len]);
                assert_eq!(out, expected, "offset {offset}, len {len}");
                let mut back = vec![0u8; len];
                region.read(offset, &mut back).unwrap();
                assert_eq!(back, &data[..len], "offset {offset}, len {len}");
            }
        }
    }

    #[test]
    fn a_created_region_cannot_be_resized() {
        let region = SharedRegion::create("test", 8192).unwrap();
        // The peer holds the fd too: shrinking it under a mapping would make
        // the other side's accesses fault (SIGBUS).
        assert!(ftruncate(region.fd(), 0).is_err());
        assert!(ftruncate(region.fd(), 1 << 20).is_err());
        let adopted = SharedRegion::from_fd(region.fd().try_clone_to_owned().unwrap()).unwrap();
        assert_eq!(adopted.len(), 8192);
    }

    #[test]
    fn an_unsealed_memfd_is_refused() {
        for flags in [
            MemfdFlags::CLOEXEC,
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        ] {
            let fd = memfd_create("unsealed", flags).unwrap();
            ftruncate(&fd, 8192).unwrap();
            assert!(matches!(SharedRegion::from_fd(fd), Err(Error::Unsealed)));
        }
        // Sealed against shrinking only: it could still grow.
        let fd = memfd_create("half", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING).unwrap();
        ftruncate(&fd, 8192).unwrap();
        fcntl_add_seals(&fd, SealFlags::SHRINK).unwrap();
        assert!(matches!(SharedRegion::from_fd(fd), Err(Error::Unsealed)));
    }

    #[test]
    fn two_mappings_of_one_memfd_share_bytes_and_atomics() {
        let a = SharedRegion::create("test", 4096).unwrap();
        let b = SharedRegion::from_fd(a.fd().try_clone_to_owned().unwrap()).unwrap();
        a.write(100, b"hello").unwrap();
        let mut out = [0u8; 5];
        b.read(100, &mut out).unwrap();
        assert_eq!(&out, b"hello");
        a.atomic_u32(0).store(7, Ordering::SeqCst);
        assert_eq!(b.atomic_u32(0).load(Ordering::SeqCst), 7);
        a.atomic_u64(8).store(u64::MAX, Ordering::SeqCst);
        assert_eq!(b.atomic_u64(8).load(Ordering::SeqCst), u64::MAX);
    }

    /// How many threads sleep on `word`, asked of the kernel without waking
    /// them: FUTEX_CMP_REQUEUE of every waiter onto the word itself.
    fn sleepers(word: &AtomicU32) -> usize {
        let value = word.load(Ordering::SeqCst);
        futex::cmp_requeue(word, futex::Flags::empty(), 0, i32::MAX as u32, word, value).unwrap()
    }

    #[test]
    fn futex_wait_sleeps_until_futex_wake_from_another_mapping() {
        let a = std::sync::Arc::new(SharedRegion::create("test", 4096).unwrap());
        // The other process's view: a second mapping of the same memfd.
        let b = SharedRegion::from_fd(a.fd().try_clone_to_owned().unwrap()).unwrap();
        let mapped = a.clone();
        // Only a wake-up ends this wait (a failed test leaves it detached).
        let waiter = std::thread::spawn(move || {
            futex_wait(mapped.atomic_u32(0), 0, Duration::from_secs(3600));
        });
        while sleepers(b.atomic_u32(0)) == 0 {
            assert!(
                !waiter.is_finished(),
                "futex_wait returned though the word held the expected value and nobody woke it"
            );
            std::thread::yield_now();
        }
        futex_wake(b.atomic_u32(0));
        assert_eq!(
            sleepers(b.atomic_u32(0)),
            0,
            "futex_wake left the waiter asleep"
        );
        waiter.join().unwrap();
    }

    #[test]
    fn futex_wait_gives_up_after_its_timeout() {
        let region = SharedRegion::create("test", 4096).unwrap();
        // Nobody wakes it and the word never changes: it returns on its own.
        futex_wait(region.atomic_u32(0), 0, Duration::from_millis(1));
    }
}
