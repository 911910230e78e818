//! Start-up and the TCS workers: ECALLs in, OCALLs out, all on one channel
//! per TCS.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::{Arc, Barrier};

use shield_channel::shm::SharedRegion;
use shield_channel::{Channel, ControlBlock, EndReason, Message, kind};
use shield_edl::wire::{BridgeError, Caller, OcallTransport};

use crate::sandbox::Sandbox;
use crate::sys;

/// First inherited descriptor: the control block; TCS channels follow.
const FIRST_FD: i32 = 3;

/// What an enclave provides: its generated ECALL dispatcher, bound to its
/// implementation. Closures with the same signature are handlers.
pub trait EcallHandler: Send + Sync + 'static {
    /// Runs ECALL `index` for `caller` with `request`, OCALLs going out
    /// through `ocalls`; returns the encoded reply.
    fn handle(
        &self,
        ocalls: &dyn OcallTransport,
        caller: Caller,
        index: u32,
        request: &[u8],
    ) -> Result<Vec<u8>, BridgeError>;
}

impl<F> EcallHandler for F
where
    F: Fn(&dyn OcallTransport, Caller, u32, &[u8]) -> Result<Vec<u8>, BridgeError>
        + Send
        + Sync
        + 'static,
{
    fn handle(
        &self,
        ocalls: &dyn OcallTransport,
        caller: Caller,
        index: u32,
        request: &[u8],
    ) -> Result<Vec<u8>, BridgeError> {
        self(ocalls, caller, index, request)
    }
}

thread_local! {
    /// This TCS worker's channel, for OCALLs and the simulated CPU.
    static CHANNEL: RefCell<Option<Arc<Channel>>> = const { RefCell::new(None) };
    /// This TCS worker's transport, for [`CurrentTcs`].
    static TRANSPORT: RefCell<Option<Rc<TcsTransport>>> = const { RefCell::new(None) };
    /// The message of the panic being unwound on this thread, if any.
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs the enclave: sets up, sandboxes, then serves ECALLs until the host
/// ends the process. Call it from `main`; it never returns. Launched by
/// anything but Shield's host runtime, it says so and exits.
pub fn run(handler: impl EcallHandler) -> ! {
    run_with(Sandbox::strict(), handler)
}

/// [`run`] under another [`Sandbox`] than the strict one.
pub fn run_with(sandbox: Sandbox, handler: impl EcallHandler) -> ! {
    match start(sandbox, Arc::new(handler)) {
        Ok(never) => match never {},
        Err(reason) => {
            if sys::CONTROL.get().is_none() {
                // Not launched by the host runtime: stderr is still ours.
                eprintln!("shield enclave: {reason}");
                sys::exit_now(2);
            }
            sys::end(EndReason::Panicked, 0, reason.as_bytes())
        }
    }
}

enum Never {}

fn start(sandbox: Sandbox, handler: Arc<dyn EcallHandler>) -> Result<Never, String> {
    let tcs_count: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .filter(|&n| (1..=256).contains(&n))
        .ok_or("this is an enclave binary: start it through Shield's host runtime")?;
    let control = sys::adopt_fd(FIRST_FD).ok_or("no control block descriptor")?;
    let control = ControlBlock::attach(SharedRegion::from_fd(control).map_err(|e| e.to_string())?);
    let heap_max = usize::try_from(control.heap_max()).unwrap_or(usize::MAX);
    let stack_size = usize::try_from(control.stack_size()).unwrap_or(1 << 20);
    let _ = sys::CONTROL.set(control);
    host_alive().map_err(|_| "the host is already gone")?;

    let mut channels = Vec::with_capacity(tcs_count);
    for i in 0..tcs_count {
        let fd = sys::adopt_fd(FIRST_FD + 1 + i as i32)
            .ok_or_else(|| format!("no channel descriptor for TCS {i}"))?;
        let region = SharedRegion::from_fd(fd).map_err(|e| e.to_string())?;
        channels.push(Arc::new(
            Channel::attach(region).map_err(|e| e.to_string())?,
        ));
    }

    std::panic::set_hook(Box::new(|info| {
        // Printing would be a write(2), which the sandbox forbids: keep the
        // message for the ECALL's error reply instead.
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_owned(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "panic".into()),
        };
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{message}{location}")));
    }));
    sys::install_sigsys_handler().map_err(|e| format!("installing the SIGSYS handler: {e}"))?;

    // Two gates: every worker finishes its own start-up (thread name,
    // signal stack, robust futex list, allocator arena: system calls the
    // sandbox forbids) before the sandbox goes on, and no worker serves an
    // ECALL before it is on.
    let started = Arc::new(Barrier::new(tcs_count + 1));
    let sandboxed = Arc::new(Barrier::new(tcs_count + 1));
    for (i, channel) in channels.into_iter().enumerate() {
        let handler = handler.clone();
        let (started, sandboxed) = (started.clone(), sandboxed.clone());
        std::thread::Builder::new()
            .name(format!("tcs{i}"))
            .stack_size(stack_size)
            .spawn(move || {
                drop(std::hint::black_box(vec![0u8; 64]));
                prime_heap_trim();
                started.wait();
                sandboxed.wait();
                serve(&handler, channel)
            })
            .map_err(|e| format!("starting TCS thread {i}: {e}"))?;
    }
    started.wait();
    crate::sandbox::install(sandbox)?;
    sys::set_heap_limit(heap_max);
    if let Some(control) = sys::CONTROL.get() {
        control.set_ready();
    }
    sandboxed.wait();
    loop {
        // The main thread has nothing more to do; the host ends the process.
        std::thread::park();
    }
}

/// Makes glibc trim this thread's malloc heap once, before the sandbox.
///
/// The first time glibc shrinks a non-main arena's heap it reads
/// `/proc/sys/vm/overcommit_memory` (`check_may_shrink_heap`) and caches
/// the answer; inside the sandbox that `openat` would end the enclave
/// (seen with rustls, whose handshakes free large buffers). Growing the
/// heap by chunks below the mmap threshold and freeing them makes the top
/// chunk exceed the trim threshold, so the file is read now.
fn prime_heap_trim() {
    let chunks: Vec<Vec<u8>> = (0..8)
        .map(|_| std::hint::black_box(vec![1u8; 100 * 1024]))
        .collect();
    drop(std::hint::black_box(chunks));
}

/// The host that launched us; when it is gone, so are we (checked between
/// sleeps on the channel).
static HOST: std::sync::OnceLock<Option<rustix::process::Pid>> = std::sync::OnceLock::new();

fn host_alive() -> shield_channel::Result<()> {
    let host = *HOST.get_or_init(rustix::process::getppid);
    if rustix::process::getppid() == host {
        Ok(())
    } else {
        Err(shield_channel::Error::PeerGone)
    }
}

fn serve(handler: &Arc<dyn EcallHandler>, channel: Arc<Channel>) -> ! {
    CHANNEL.with(|c| *c.borrow_mut() = Some(channel.clone()));
    let transport = Rc::new(TcsTransport {
        channel: channel.clone(),
        handler: handler.clone(),
    });
    TRANSPORT.with(|t| *t.borrow_mut() = Some(transport.clone()));
    loop {
        match channel.recv(host_alive) {
            Ok(message) if message.kind == kind::ECALL => {
                transport.run_ecall(Caller::Host, message)
            }
            Ok(message) => {
                let reason = format!("unexpected message kind {} while idle", message.kind);
                let _ = channel.send(kind::ECALL_FAILED, 0, reason.as_bytes());
            }
            Err(shield_channel::Error::PeerGone) => sys::exit_now(0),
            Err(e) => sys::end(EndReason::Panicked, 0, format!("channel: {e}").as_bytes()),
        }
    }
}

/// OCALLs through the TCS the calling thread serves. The generated
/// dispatcher lends each ECALL a transport for the length of the call; this
/// one is for objects that must outlive such a borrow but are only used
/// while some ECALL runs on the same thread (a protected file handed to a
/// script engine, say). Used on any other thread, every OCALL is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct CurrentTcs;

impl OcallTransport for CurrentTcs {
    fn ocall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError> {
        let transport = TRANSPORT.with(|t| t.borrow().clone()).ok_or_else(|| {
            BridgeError::Transport("OCALL from a thread that serves no TCS".into())
        })?;
        transport.ocall(index, request)
    }
}

/// OCALLs and nested ECALLs of one TCS.
struct TcsTransport {
    channel: Arc<Channel>,
    handler: Arc<dyn EcallHandler>,
}

impl TcsTransport {
    /// Runs one ECALL and sends its outcome; a panic becomes an error reply
    /// and the TCS stays usable.
    fn run_ecall(&self, caller: Caller, message: Message) {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.handler
                .handle(self, caller, message.index, &message.payload)
        }));
        let sent = match outcome {
            Ok(Ok(reply)) => self.channel.send(kind::ECALL_RETURN, message.index, &reply),
            Ok(Err(error)) => self.channel.send(
                kind::ECALL_FAILED,
                message.index,
                error.to_string().as_bytes(),
            ),
            Err(_) => {
                let text = PANIC_MESSAGE
                    .with(|m| m.borrow_mut().take())
                    .unwrap_or_else(|| "panic".into());
                self.channel.send(
                    kind::ECALL_FAILED,
                    message.index,
                    format!("enclave panicked: {text}").as_bytes(),
                )
            }
        };
        if let Err(e) = sent {
            // The reply does not fit the channel: say so in a reply that does.
            let _ = self
                .channel
                .send(kind::ECALL_FAILED, message.index, e.to_string().as_bytes());
        }
    }
}

impl OcallTransport for TcsTransport {
    fn ocall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError> {
        self.channel
            .send(kind::OCALL, index, request)
            .map_err(transport_error)?;
        loop {
            let message = self.channel.recv(host_alive).map_err(transport_error)?;
            match message.kind {
                kind::OCALL_RETURN => return Ok(message.payload),
                kind::OCALL_FAILED => {
                    return Err(BridgeError::Transport(
                        String::from_utf8_lossy(&message.payload).into_owned(),
                    ));
                }
                // A nested ECALL from inside this OCALL; the generated
                // dispatcher checks it against the OCALL's allow list.
                kind::ECALL => self.run_ecall(Caller::Ocall(index), message),
                other => {
                    return Err(BridgeError::Transport(format!(
                        "unexpected message kind {other} during OCALL"
                    )));
                }
            }
        }
    }
}

fn transport_error(e: shield_channel::Error) -> BridgeError {
    BridgeError::Transport(e.to_string())
}

/// Sends a request to the simulated CPU on this thread's channel and waits
/// for its answer. `Err(code)` is the CPU's refusal.
pub(crate) fn cpu_call(kind_: u32, request: &[u8]) -> Result<Vec<u8>, crate::CpuError> {
    let channel = CHANNEL
        .with(|c| c.borrow().clone())
        .ok_or(crate::CpuError::NotInEcall)?;
    channel
        .send(kind_, 0, request)
        .map_err(|e| crate::CpuError::Transport(e.to_string()))?;
    let message = channel
        .recv(host_alive)
        .map_err(|e| crate::CpuError::Transport(e.to_string()))?;
    match message.kind {
        kind::CPU_RETURN => Ok(message.payload),
        kind::CPU_FAILED => Err(crate::CpuError::Refused {
            code: message.index,
            message: String::from_utf8_lossy(&message.payload).into_owned(),
        }),
        other => Err(crate::CpuError::Transport(format!(
            "unexpected message kind {other} from the CPU"
        ))),
    }
}
