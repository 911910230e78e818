//! The enclave runtime's only `unsafe` code: adopting inherited descriptors,
//! the heap-limited global allocator, the SIGSYS handler and the immediate
//! exit used when the enclave must end.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use shield_channel::{ControlBlock, EndReason};

/// Where the enclave reports how it ends; set once at start-up.
pub(crate) static CONTROL: OnceLock<ControlBlock> = OnceLock::new();

/// Exit status used after reporting through the control block.
pub(crate) const EXIT_REPORTED: i32 = 70;

/// Takes ownership of descriptor `fd` if it is open.
pub(crate) fn adopt_fd(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: F_GETFD only reads descriptor flags; any integer is a valid argument.
    let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1;
    // SAFETY: the descriptor is open (checked just above), and the host's
    // launcher passes descriptors 3.. to the enclave for the runtime alone:
    // nothing else in this process owns them.
    open.then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Ends the process at once, without unwinding or running destructors:
/// the enclave is in a state where nothing more may run.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Reports `reason` through the control block, then exits.
pub(crate) fn end(reason: EndReason, detail: u64, message: &[u8]) -> ! {
    if let Some(control) = CONTROL.get() {
        control.report_end(reason, detail, message);
    }
    exit_now(EXIT_REPORTED)
}

/// The system allocator with a ceiling: the enclave's HeapMaxSize. As with
/// the SGX SDK, running out ends the enclave (the host sees out-of-memory).
pub(crate) struct LimitedAllocator;

static HEAP_USED: AtomicUsize = AtomicUsize::new(0);
static HEAP_LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// The soft budget of [`crate::heap::RunBudget`]: crossing it only raises
/// [`OVER_BUDGET`], for the running job to notice and stop.
static HEAP_BUDGET: AtomicUsize = AtomicUsize::new(usize::MAX);
static OVER_BUDGET: AtomicBool = AtomicBool::new(false);

/// Bytes counted as in use now (to within the threads' credit).
pub(crate) fn heap_used() -> usize {
    HEAP_USED.load(Ordering::Relaxed)
}

/// Sets the soft budget (`usize::MAX`: none) and clears the flag.
pub(crate) fn set_heap_budget(bytes: usize) {
    HEAP_BUDGET.store(bytes, Ordering::SeqCst);
    OVER_BUDGET.store(false, Ordering::SeqCst);
}

/// Whether the soft budget was crossed since it was set.
pub(crate) fn over_heap_budget() -> bool {
    OVER_BUDGET.load(Ordering::Relaxed)
}

/// Sets the heap ceiling in bytes.
pub(crate) fn set_heap_limit(bytes: usize) {
    HEAP_LIMIT.store(bytes, Ordering::SeqCst);
}

/// Bytes a thread takes from, or gives back to, the shared count at a
/// time. Allocations served from a thread's credit cost no atomic
/// operation (two per allocation made an allocation-heavy script ~10%
/// slower than outside); the price is that the limit can be reached up to
/// two batches per thread early.
const BATCH: usize = 1 << 20;

thread_local! {
    /// Bytes this thread has counted in `HEAP_USED` but not handed out.
    static CREDIT: Cell<usize> = const { Cell::new(0) };
}

/// Counts `bytes` more in the shared total; past the limit, the enclave ends.
fn reserve(bytes: usize) {
    let before = HEAP_USED.fetch_add(bytes, Ordering::Relaxed);
    let after = before.saturating_add(bytes);
    if after > HEAP_LIMIT.load(Ordering::Relaxed) {
        end(EndReason::OutOfMemory, bytes as u64, b"");
    }
    if after > HEAP_BUDGET.load(Ordering::Relaxed) {
        OVER_BUDGET.store(true, Ordering::Relaxed);
    }
}

fn charge(bytes: usize) {
    CREDIT.with(|credit| match credit.get().checked_sub(bytes) {
        Some(left) => credit.set(left),
        None => {
            // What is missing, plus a batch for the allocations to come.
            reserve(bytes - credit.get() + BATCH);
            credit.set(BATCH);
        }
    });
}

fn release(bytes: usize) {
    CREDIT.with(|credit| {
        let held = credit.get().saturating_add(bytes);
        if held > 2 * BATCH {
            HEAP_USED.fetch_sub(held - BATCH, Ordering::Relaxed);
            credit.set(BATCH);
        } else {
            credit.set(held);
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the only addition is bookkeeping (a thread-local credit and
// an atomic total, neither of which allocates), and ending the
// process (never returning a bad pointer) when the limit is crossed.
unsafe impl GlobalAlloc for LimitedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        charge(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        release(layout.size());
        // SAFETY: forwarded unchanged; `ptr` came from this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            charge(new_size - layout.size());
        } else {
            release(layout.size() - new_size);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Routes SIGSYS (a system call the sandbox refused) to a handler that
/// reports the call's number and ends the enclave.
pub(crate) fn install_sigsys_handler() -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_sigsys as *const () as usize;
    action.sa_flags = libc::SA_SIGINFO;
    // SAFETY: installs a handler that only does async-signal-safe work
    // (atomics, a bounded copy into shared memory, _exit).
    let rc = unsafe { libc::sigaction(libc::SIGSYS, &action, std::ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

// The offset below is x86-64's siginfo_t layout: another architecture needs
// its own (and its own seccomp target in `sandbox`).
#[cfg(not(target_arch = "x86_64"))]
compile_error!("shield-enclave reads siginfo_t at x86-64 offsets; port SI_SYSCALL_OFFSET first");

/// Offset of `si_syscall` in x86-64's `siginfo_t` (after signo, errno,
/// code, padding and the faulting address).
const SI_SYSCALL_OFFSET: usize = 24;

extern "C" fn on_sigsys(
    _signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t for an SA_SIGINFO
    // handler; for SIGSYS its `si_syscall` int sits at this offset.
    let number = unsafe {
        info.cast::<u8>()
            .add(SI_SYSCALL_OFFSET)
            .cast::<libc::c_int>()
            .read()
    };
    end(EndReason::ForbiddenSyscall, number as u64, b"");
}

#[global_allocator]
static ALLOCATOR: LimitedAllocator = LimitedAllocator;

#[cfg(test)]
mod tests {
    #[test]
    fn adopting_a_closed_descriptor_gives_none() {
        assert!(super::adopt_fd(1_000_000).is_none());
    }
}
