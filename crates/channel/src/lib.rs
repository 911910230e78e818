//! The boundary between a simulated enclave and its host: memory both
//! processes map, and nothing else.
//!
//! Each TCS gets one [`Channel`]: a shared region holding a *turn* word, a
//! message header and a payload area. Exactly one side owns the region at a
//! time; the owner writes a message and hands the turn over (release
//! ordering), the other side waits for the turn (a spin whose length
//! adapts to load, a few yields, then a futex wait) and copies the message out into private memory before it
//! looks at it. That copy is the SGX discipline for untrusted memory: the
//! other side may scribble on the region at any moment, so every byte is
//! read once and every length is checked against the region's capacity
//! before it sizes anything.
//!
//! An ECALL and everything nested inside it (OCALLs, ECALLs made from those
//! OCALLs, key requests) is a strict alternation on one channel, so a
//! single turn word is the whole protocol.
//!
//! The [`ControlBlock`] is a small region the enclave writes when it ends
//! abnormally (a forbidden system call, out of memory, a panic outside an
//! ECALL), so the host can say why.
//!
//! All `unsafe` code (mapping, raw copies, futex calls) is in [`shm`].
#![deny(unsafe_code)]

mod channel;
mod control;
pub mod shm;

pub use channel::{Channel, Message, Side, kind};
pub use control::{ControlBlock, EndReason};

/// Errors of the boundary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Creating or mapping shared memory failed.
    #[error("shared memory: {0}")]
    Os(#[from] rustix::io::Errno),
    /// A message larger than the channel's payload area.
    #[error("message of {len} bytes exceeds the channel capacity of {capacity} bytes")]
    TooLarge {
        /// The message's length.
        len: u64,
        /// The channel's payload capacity.
        capacity: usize,
    },
    /// The region is too small to be a channel or control block.
    #[error("shared region of {0} bytes is too small")]
    RegionTooSmall(usize),
    /// A region handed over without its size sealed: the other process
    /// could shrink it under the mapping.
    #[error("shared region is not sealed against shrinking and growing")]
    Unsealed,
    /// The other side is gone (reported by the caller's liveness check).
    #[error("peer is gone")]
    PeerGone,
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
