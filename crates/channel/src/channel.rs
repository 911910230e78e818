//! One TCS's channel: a turn word, a message header and a payload area.
//!
//! ```text
//! 0    turn           u32  which side owns the region (Side as u32)
//! 4    host_waiting   u32  1 while the host sleeps on `turn`
//! 8    encl_waiting   u32  1 while the enclave sleeps on `turn`
//! 64   kind           u32  message kind (see [`kind`])
//! 68   index          u32  function index, or a kind-specific code
//! 72   len            u64  payload length
//! 128  payload        capacity bytes
//! ```

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::shm::{SharedRegion, futex_wait, futex_wake};
use crate::{Error, Result};

const TURN: usize = 0;
const WAITING: [usize; 2] = [4, 8];
const KIND: usize = 64;
const INDEX: usize = 68;
const LEN: usize = 72;
const PAYLOAD: usize = 128;

/// Waiting for the turn has three phases. Spinning catches the reply of a
/// peer running on another core within microseconds, without a system
/// call. Yielding follows: on a loaded machine the peer may be queued on
/// this very core, and `sched_yield` hands the core to it at once (alone
/// on its core, a yield returns immediately and acts as a spin). Only then
/// the futex: a sleeper frees its core, but waking an idle (virtual) CPU
/// costs tens of microseconds. The spin budget adapts (see [`Pacing`]);
/// it starts here.
const SPIN_START: Duration = Duration::from_micros(20);
/// Ceiling of the spin budget.
const SPIN_MAX: Duration = Duration::from_micros(100);
/// The clock is read once per this many spins.
const SPINS_PER_CHECK: u32 = 16;
/// How long the yield phase lasts before the waiter sleeps.
const YIELD_FOR: Duration = Duration::from_micros(500);
/// A yield that took longer than this ran another task meanwhile.
const YIELD_SWITCHED: Duration = Duration::from_micros(2);
/// Sleeps are bounded so a waiter re-checks whether its peer is alive even
/// if a wake-up was lost with a dying process.
const SLEEP_SLICE: Duration = Duration::from_millis(50);

/// Message kinds. Host → enclave and enclave → host kinds are disjoint, so a
/// message arriving in the wrong direction is recognisable.
pub mod kind {
    /// Host → enclave: run ECALL `index`.
    pub const ECALL: u32 = 1;
    /// Host → enclave: the reply to the enclave's pending OCALL.
    pub const OCALL_RETURN: u32 = 2;
    /// Host → enclave: the host could not run the OCALL (payload: reason).
    pub const OCALL_FAILED: u32 = 3;
    /// Host → enclave: the simulated CPU's answer to a `CPU_*` request.
    pub const CPU_RETURN: u32 = 4;
    /// Host → enclave: the simulated CPU refused (index: error code).
    pub const CPU_FAILED: u32 = 5;

    /// Enclave → host: the ECALL finished; payload is its reply.
    pub const ECALL_RETURN: u32 = 101;
    /// Enclave → host: the ECALL was refused or panicked (payload: reason).
    pub const ECALL_FAILED: u32 = 102;
    /// Enclave → host: run OCALL `index`.
    pub const OCALL: u32 = 103;
    /// Enclave → host: EGETKEY (payload: a 512-byte KEYREQUEST).
    pub const CPU_EGETKEY: u32 = 104;
    /// Enclave → host: EREPORT (payload: 512-byte TARGETINFO, 64-byte REPORTDATA).
    pub const CPU_EREPORT: u32 = 105;
}

/// Which end of a channel this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Side {
    /// The untrusted host.
    Host = 0,
    /// The enclave.
    Enclave = 1,
}

impl Side {
    fn other(self) -> Self {
        match self {
            Side::Host => Side::Enclave,
            Side::Enclave => Side::Host,
        }
    }
}

/// A message copied out of the channel into private memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// See [`kind`].
    pub kind: u32,
    /// Function index or code.
    pub index: u32,
    /// The payload, private to the receiver.
    pub payload: Vec<u8>,
}

/// One end of a TCS channel.
#[derive(Debug)]
pub struct Channel {
    region: SharedRegion,
    side: Side,
    pacing: Pacing,
}

impl Channel {
    /// Bytes of a region besides the payload.
    pub const OVERHEAD: usize = PAYLOAD;

    /// The host end of a new channel whose payload area holds `capacity` bytes.
    pub fn create(name: &str, capacity: usize) -> Result<Self> {
        let region = SharedRegion::create(name, PAYLOAD + capacity)?;
        region
            .atomic_u32(TURN)
            .store(Side::Host as u32, Ordering::SeqCst);
        Ok(Self {
            region,
            side: Side::Host,
            pacing: Pacing::new(),
        })
    }

    /// The enclave end, over an inherited region.
    pub fn attach(region: SharedRegion) -> Result<Self> {
        if region.len() <= PAYLOAD {
            return Err(Error::RegionTooSmall(region.len()));
        }
        Ok(Self {
            region,
            side: Side::Enclave,
            pacing: Pacing::new(),
        })
    }

    /// The shared region (the host passes its fd to the enclave).
    pub fn region(&self) -> &SharedRegion {
        &self.region
    }

    /// Largest payload a message may carry.
    pub fn capacity(&self) -> usize {
        self.region.len() - PAYLOAD
    }

    /// Writes a message and hands the turn to the other side. The caller
    /// must own the turn (it does between a `recv` and the next `send`).
    pub fn send(&self, kind: u32, index: u32, payload: &[u8]) -> Result<()> {
        if payload.len() > self.capacity() {
            return Err(Error::TooLarge {
                len: payload.len() as u64,
                capacity: self.capacity(),
            });
        }
        self.region.write(PAYLOAD, payload)?;
        self.region.write(KIND, &kind.to_le_bytes())?;
        self.region.write(INDEX, &index.to_le_bytes())?;
        self.region
            .atomic_u64(LEN)
            .store(payload.len() as u64, Ordering::Relaxed);
        let other = self.side.other();
        let turn = self.region.atomic_u32(TURN);
        turn.store(other as u32, Ordering::SeqCst);
        if self
            .region
            .atomic_u32(WAITING[other as usize])
            .load(Ordering::SeqCst)
            != 0
        {
            futex_wake(turn);
        }
        Ok(())
    }

    /// Waits for the turn, then copies the message out. `alive` is asked
    /// between sleeps; an error from it ends the wait.
    pub fn recv(&self, alive: impl Fn() -> Result<()>) -> Result<Message> {
        self.wait_turn(alive)?;
        let mut word = [0u8; 4];
        self.region.read(KIND, &mut word)?;
        let kind = u32::from_le_bytes(word);
        self.region.read(INDEX, &mut word)?;
        let index = u32::from_le_bytes(word);
        // Read the length once, check it, then size the copy by it.
        let len = self.region.atomic_u64(LEN).load(Ordering::Relaxed);
        let capacity = self.capacity();
        let len = usize::try_from(len)
            .ok()
            .filter(|&n| n <= capacity)
            .ok_or(Error::TooLarge { len, capacity })?;
        let mut payload = vec![0u8; len];
        self.region.read(PAYLOAD, &mut payload)?;
        Ok(Message {
            kind,
            index,
            payload,
        })
    }

    /// Wakes a waiter on this channel without passing the turn: used by the
    /// host when the enclave has died, so its waiting threads notice.
    pub fn interrupt(&self) {
        futex_wake(self.region.atomic_u32(TURN));
    }

    fn wait_turn(&self, alive: impl Fn() -> Result<()>) -> Result<()> {
        let me = self.side as u32;
        let turn = self.region.atomic_u32(TURN);
        let start = Instant::now();
        let budget = self.pacing.budget();
        loop {
            for _ in 0..SPINS_PER_CHECK {
                if turn.load(Ordering::Acquire) == me {
                    return Ok(());
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= budget {
                break;
            }
        }
        let mut handed_over = false;
        loop {
            let before = Instant::now();
            std::thread::yield_now();
            let now = Instant::now();
            handed_over |= now - before > YIELD_SWITCHED;
            if turn.load(Ordering::Acquire) == me {
                self.pacing.missed(now - start, handed_over);
                return Ok(());
            }
            if now - start > budget + YIELD_FOR {
                break;
            }
        }
        self.sleep_until_turn(alive)?;
        self.pacing.missed(start.elapsed(), false);
        Ok(())
    }

    fn sleep_until_turn(&self, alive: impl Fn() -> Result<()>) -> Result<()> {
        let me = self.side as u32;
        let turn = self.region.atomic_u32(TURN);
        let waiting = self.region.atomic_u32(WAITING[self.side as usize]);
        loop {
            alive()?;
            waiting.store(1, Ordering::SeqCst);
            let seen = turn.load(Ordering::SeqCst);
            if seen == me {
                waiting.store(0, Ordering::SeqCst);
                return Ok(());
            }
            futex_wait(turn, seen, SLEEP_SLICE);
            waiting.store(0, Ordering::SeqCst);
            if turn.load(Ordering::Acquire) == me {
                return Ok(());
            }
        }
    }
}

/// This end's spin budget, in private memory: the peer can only slow its
/// replies, never write it (at worst this side spins `SPIN_MAX` in vain).
#[derive(Debug)]
struct Pacing {
    budget_ns: AtomicU32,
}

impl Pacing {
    fn new() -> Self {
        Self {
            budget_ns: AtomicU32::new(nanos(SPIN_START)),
        }
    }

    fn budget(&self) -> Duration {
        Duration::from_nanos(self.budget_ns.load(Ordering::Relaxed).into())
    }

    /// A reply came only after the spin budget ran out, `waited` after the
    /// wait began. If this side handed its core over meanwhile, the peer
    /// shares the core and every spin is in its way: go straight to the
    /// yields next time. If the peer answered while this side kept its
    /// core, a little more spinning would have caught it: spin that long
    /// next time. A reply far off (a long ECALL) halves the budget.
    fn missed(&self, waited: Duration, handed_over: bool) {
        let next = if handed_over {
            Duration::ZERO
        } else if waited * 2 <= SPIN_MAX {
            waited * 2
        } else {
            self.budget() / 2
        };
        self.budget_ns
            .store(nanos(next.min(SPIN_MAX)), Ordering::Relaxed);
    }
}

fn nanos(d: Duration) -> u32 {
    u32::try_from(d.as_nanos()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(capacity: usize) -> (Channel, Channel) {
        let host = Channel::create("test", capacity).unwrap();
        let fd = host.region().fd().try_clone_to_owned().unwrap();
        let enclave = Channel::attach(SharedRegion::from_fd(fd).unwrap()).unwrap();
        (host, enclave)
    }

    #[test]
    fn messages_alternate_between_threads() {
        let (host, enclave) = pair(4096);
        let echo = std::thread::spawn(move || {
            for _ in 0..1000 {
                let m = enclave.recv(|| Ok(())).unwrap();
                assert_eq!(m.kind, kind::ECALL);
                enclave
                    .send(kind::ECALL_RETURN, m.index, &m.payload)
                    .unwrap();
            }
        });
        for i in 0..1000u32 {
            host.send(kind::ECALL, i, &i.to_le_bytes()).unwrap();
            let reply = host.recv(|| Ok(())).unwrap();
            assert_eq!(
                (reply.kind, reply.index, reply.payload),
                (kind::ECALL_RETURN, i, i.to_le_bytes().to_vec())
            );
        }
        echo.join().unwrap();
    }

    #[test]
    fn oversized_messages_are_refused_both_ways() {
        let (host, enclave) = pair(4096);
        assert!(matches!(
            host.send(kind::ECALL, 0, &[0; 5000]),
            Err(Error::TooLarge { .. })
        ));
        // A lying length field in the header is refused before allocation.
        host.send(kind::ECALL, 0, b"x").unwrap();
        enclave
            .region()
            .atomic_u64(LEN)
            .store(u64::MAX, Ordering::SeqCst);
        assert!(matches!(
            enclave.recv(|| Ok(())),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn the_spin_budget_follows_the_replies() {
        let pacing = Pacing::new();
        assert_eq!(pacing.budget(), SPIN_START);
        // Caught by yields that returned at once: the peer had a core of
        // its own, so spinning twice as long would have caught it.
        pacing.missed(Duration::from_micros(30), false);
        assert_eq!(pacing.budget(), Duration::from_micros(60));
        // A long ECALL: no spin would have caught it.
        pacing.missed(Duration::from_secs(1), false);
        assert_eq!(pacing.budget(), Duration::from_micros(30));
        pacing.missed(Duration::from_micros(90), false);
        assert_eq!(
            pacing.budget(),
            Duration::from_micros(15),
            "past the ceiling: halved"
        );
        // The core went to another task: spinning was in its way.
        pacing.missed(Duration::from_micros(3), true);
        assert_eq!(pacing.budget(), Duration::ZERO);
        pacing.missed(Duration::from_micros(1), false);
        assert_eq!(pacing.budget(), Duration::from_micros(2));
    }

    #[test]
    fn a_dead_peer_ends_the_wait() {
        let (host, _enclave) = pair(4096);
        host.send(kind::ECALL, 0, b"").unwrap();
        // The peer never answers; the liveness check fails on its third call.
        let checks = std::cell::Cell::new(0);
        let result = host.recv(|| {
            checks.set(checks.get() + 1);
            if checks.get() == 3 {
                Err(Error::PeerGone)
            } else {
                Ok(())
            }
        });
        assert!(matches!(result, Err(Error::PeerGone)));
        assert_eq!(
            checks.get(),
            3,
            "the wait keeps checking until told to stop"
        );
    }
}
