//! The control block: where the enclave writes why it is about to end, and
//! where the host passes start-up parameters.
//!
//! ```text
//! 0    reason   u32   EndReason as u32, 0 while running
//! 8    detail   u64   the system call number, or the allocation size
//! 16   heap_max u64   set by the host before launch
//! 24   stack    u64   set by the host before launch
//! 32   msg_len  u32   length of the message below
//! 40   ready    u32   1 once the enclave is sandboxed and serving
//! 64   message  up to 4032 bytes of UTF-8 (a panic message)
//! ```

use std::sync::atomic::Ordering;

use crate::Result;
use crate::shm::SharedRegion;

const REASON: usize = 0;
const DETAIL: usize = 8;
const HEAP_MAX: usize = 16;
const STACK_SIZE: usize = 24;
const MSG_LEN: usize = 32;
const READY: usize = 40;
const MESSAGE: usize = 64;
const MESSAGE_MAX: usize = 4096 - MESSAGE;

/// Why an enclave ended, as it reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum EndReason {
    /// Still running, or ended without saying (killed from outside).
    Unreported = 0,
    /// A system call the sandbox forbids; detail is its number.
    ForbiddenSyscall = 1,
    /// The heap limit was reached; detail is the failed allocation's size.
    OutOfMemory = 2,
    /// A panic outside any ECALL, or a failure of the runtime itself.
    Panicked = 3,
    /// `abort()` was called.
    Aborted = 4,
}

/// The shared control block.
#[derive(Debug)]
pub struct ControlBlock {
    region: SharedRegion,
}

impl ControlBlock {
    /// Size of the region.
    pub const SIZE: usize = 4096;

    /// A new block (host side), carrying the enclave's heap and stack sizes.
    pub fn create(heap_max: u64, stack_size: u64) -> Result<Self> {
        let region = SharedRegion::create("shield-control", Self::SIZE)?;
        region
            .atomic_u64(HEAP_MAX)
            .store(heap_max, Ordering::SeqCst);
        region
            .atomic_u64(STACK_SIZE)
            .store(stack_size, Ordering::SeqCst);
        Ok(Self { region })
    }

    /// The enclave's view of an inherited block.
    pub fn attach(region: SharedRegion) -> Self {
        Self { region }
    }

    /// The shared region.
    pub fn region(&self) -> &SharedRegion {
        &self.region
    }

    /// Heap limit in bytes, as the host passed it.
    pub fn heap_max(&self) -> u64 {
        self.region.atomic_u64(HEAP_MAX).load(Ordering::SeqCst)
    }

    /// Stack bytes per TCS thread, as the host passed it.
    pub fn stack_size(&self) -> u64 {
        self.region.atomic_u64(STACK_SIZE).load(Ordering::SeqCst)
    }

    /// Marks the enclave ready (enclave side): sandboxed, serving ECALLs.
    pub fn set_ready(&self) {
        self.region.atomic_u32(READY).store(1, Ordering::SeqCst);
    }

    /// Whether the enclave has said it is ready (host side).
    pub fn is_ready(&self) -> bool {
        self.region.atomic_u32(READY).load(Ordering::SeqCst) == 1
    }

    /// Records why the enclave is ending. Async-signal-safe: atomics and a
    /// bounded copy, no allocation; callable from a signal handler.
    pub fn report_end(&self, reason: EndReason, detail: u64, message: &[u8]) {
        let len = message.len().min(MESSAGE_MAX);
        let _ = self.region.write(MESSAGE, &message[..len]);
        self.region
            .atomic_u32(MSG_LEN)
            .store(len as u32, Ordering::SeqCst);
        self.region
            .atomic_u64(DETAIL)
            .store(detail, Ordering::SeqCst);
        self.region
            .atomic_u32(REASON)
            .store(reason as u32, Ordering::SeqCst);
    }

    /// What the enclave reported (host side, after it ended). The bytes are
    /// the enclave's: lengths are clamped, unknown reasons are `Unreported`.
    pub fn end(&self) -> (EndReason, u64, String) {
        let reason = match self.region.atomic_u32(REASON).load(Ordering::SeqCst) {
            1 => EndReason::ForbiddenSyscall,
            2 => EndReason::OutOfMemory,
            3 => EndReason::Panicked,
            4 => EndReason::Aborted,
            _ => EndReason::Unreported,
        };
        let detail = self.region.atomic_u64(DETAIL).load(Ordering::SeqCst);
        let len =
            (self.region.atomic_u32(MSG_LEN).load(Ordering::SeqCst) as usize).min(MESSAGE_MAX);
        let mut message = vec![0u8; len];
        let _ = self.region.read(MESSAGE, &mut message);
        (
            reason,
            detail,
            String::from_utf8_lossy(&message).into_owned(),
        )
    }
}
