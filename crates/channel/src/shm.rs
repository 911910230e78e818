//! Shared memory: a `memfd` mapped `MAP_SHARED`, accessed only through
//! atomics at fixed offsets and bounds-checked byte copies. This is the
//! crate's only `unsafe` code.
//!
//! The other process can change any byte of the region at any time. So no
//! Rust reference to the region's bytes is ever created (only to the atomic
//! words, which are made for concurrent access), copies go through raw
//! pointers into private buffers, and every value read is treated as
//! untrusted by the callers.
#![allow(unsafe_code)]

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

use rustix::fs::{MemfdFlags, fstat, ftruncate, memfd_create};
use rustix::mm::{MapFlags, ProtFlags, mmap, munmap};
use rustix::thread::futex;

use crate::{Error, Result};

/// A shared, mapped memory region.
#[derive(Debug)]
pub struct SharedRegion {
    base: NonNull<u8>,
    len: usize,
    fd: OwnedFd,
}

// SAFETY: the region is plain memory; all access goes through atomics or
// raw copies that tolerate concurrent modification, so sharing the mapping
// between threads is as safe as sharing it between processes.
unsafe impl Send for SharedRegion {}
// SAFETY: as above; no method hands out a non-atomic reference into it.
unsafe impl Sync for SharedRegion {}

impl SharedRegion {
    /// Creates a zeroed region of `len` bytes backed by a new memfd
    /// (close-on-exec; the launcher decides what the child inherits).
    pub fn create(name: &str, len: usize) -> Result<Self> {
        let fd = memfd_create(name, MemfdFlags::CLOEXEC)?;
        ftruncate(&fd, len as u64)?;
        Self::map(fd, len)
    }

    /// Maps an inherited memfd, whole.
    pub fn from_fd(fd: OwnedFd) -> Result<Self> {
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

    /// Copies `data` into the region at `offset`.
    pub(crate) fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        self.check(offset, data.len())?;
        // SAFETY: `check` proved offset..offset+len lies inside the mapping;
        // `data` is private memory, so the ranges cannot overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.base.as_ptr().add(offset), data.len())
        };
        Ok(())
    }

    /// Copies region bytes at `offset` into the private buffer `out`.
    pub(crate) fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check(offset, out.len())?;
        // SAFETY: in bounds by `check`; `out` is private memory. Bytes the
        // other process changes during the copy can only make `out` hold
        // arbitrary values, which callers treat as untrusted anyway.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.base.as_ptr().add(offset),
                out.as_mut_ptr(),
                out.len(),
            )
        };
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
    fn two_mappings_of_one_memfd_share_bytes_and_atomics() {
        let a = SharedRegion::create("test", 4096).unwrap();
        let b = SharedRegion::from_fd(a.fd().try_clone_to_owned().unwrap()).unwrap();
        a.write(100, b"hello").unwrap();
        let mut out = [0u8; 5];
        b.read(100, &mut out).unwrap();
        assert_eq!(&out, b"hello");
        a.atomic_u32(0)
            .store(7, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(b.atomic_u32(0).load(std::sync::atomic::Ordering::SeqCst), 7);
        a.atomic_u64(8)
            .store(u64::MAX, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            b.atomic_u64(8).load(std::sync::atomic::Ordering::SeqCst),
            u64::MAX
        );
    }

    /// How many threads sleep on `word`, asked of the kernel without waking
    /// them: FUTEX_CMP_REQUEUE of every waiter onto the word itself.
    fn sleepers(word: &AtomicU32) -> usize {
        let value = word.load(std::sync::atomic::Ordering::SeqCst);
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
