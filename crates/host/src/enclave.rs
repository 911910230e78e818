//! A launched enclave: the TCS pool, the ECALL/OCALL loop on each channel,
//! the simulated CPU, and the monitor that notices the process ending.

use std::cell::RefCell;
use std::os::fd::AsFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};
use shield_channel::{Channel, ControlBlock, EndReason, Message, kind};
use shield_edl::wire::{BridgeError, EcallTransport};
use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Keyrequest, Report, Targetinfo};
use shield_sgx::keys::{EgetkeyError, PlatformSecret, egetkey};
use shield_sgx::report::ereport;

use crate::image::{EnclaveImage, LaunchMode};
use crate::quoting::{PlatformQuoting, SimQuotingEnclave};
use crate::{Error, LostReason, Result, platform, sys, system};

/// Payload bytes per channel unless configured: enough for a protected-file
/// node batch or a script bundle; the memfd is sparse, so unused capacity
/// costs no memory.
const DEFAULT_CHANNEL_CAPACITY: usize = 16 << 20;
/// How long an enclave may take to sandbox itself and say it is ready.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The host's OCALL implementation: the generated `dispatch_ocall` bound to
/// the host's `Ocalls` implementation, or any closure of this shape.
pub trait OcallHandler: Send + Sync + 'static {
    /// Runs OCALL `index` with `request`; returns the encoded reply.
    fn handle(&self, index: u32, request: &[u8]) -> std::result::Result<Vec<u8>, BridgeError>;
}

impl<F> OcallHandler for F
where
    F: Fn(u32, &[u8]) -> std::result::Result<Vec<u8>, BridgeError> + Send + Sync + 'static,
{
    fn handle(&self, index: u32, request: &[u8]) -> std::result::Result<Vec<u8>, BridgeError> {
        self(index, request)
    }
}

/// Options for loading and launching an enclave.
#[derive(Debug, Clone)]
pub struct EnclaveBuilder {
    binary: PathBuf,
    config: Option<PathBuf>,
    sigstruct: Option<PathBuf>,
    mode: LaunchMode,
    wait_for_tcs: bool,
    platform: Option<PathBuf>,
    channel_capacity: usize,
}

impl EnclaveBuilder {
    /// An enclave binary; its SIGSTRUCT defaults to `BINARY.sig` and its
    /// config to `BINARY.toml` when that file exists.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            config: None,
            sigstruct: None,
            mode: LaunchMode::Production,
            wait_for_tcs: false,
            platform: None,
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
        }
    }

    /// The enclave config: TOML, or Intel's `Enclave.config.xml`.
    pub fn config(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = Some(path.into());
        self
    }

    /// The SIGSTRUCT file.
    pub fn sigstruct(mut self, path: impl Into<PathBuf>) -> Self {
        self.sigstruct = Some(path.into());
        self
    }

    /// Launch as a debug (`Debug`) or production enclave (the default).
    pub fn mode(mut self, mode: LaunchMode) -> Self {
        self.mode = mode;
        self
    }

    /// When every TCS is busy, wait for one instead of failing with
    /// [`Error::OutOfTcs`] (the SGX default is to fail).
    pub fn wait_for_tcs(mut self, wait: bool) -> Self {
        self.wait_for_tcs = wait;
        self
    }

    /// Where the simulated CPU's root secret lives (default:
    /// [`default_platform_path`](crate::default_platform_path)).
    pub fn platform_secret(mut self, path: impl Into<PathBuf>) -> Self {
        self.platform = Some(path.into());
        self
    }

    /// Largest message, in bytes, one ECALL or OCALL may carry.
    pub fn channel_capacity(mut self, bytes: usize) -> Self {
        self.channel_capacity = bytes;
        self
    }

    /// Loads, checks and launches the enclave, serving its OCALLs with `ocalls`
    /// (normally the generated `dispatch_ocall` bound to the host's
    /// implementation of the generated `Ocalls` trait).
    ///
    /// ```no_run
    /// # mod bridge {
    /// #     pub trait Ocalls { fn shield_ocall_log(&self, level: i32, message: &str); }
    /// #     pub fn dispatch_ocall<I: Ocalls + ?Sized>(_: &I, _: u32, _: &[u8], _: shield_edl::wire::Limits)
    /// #         -> Result<Vec<u8>, shield_edl::wire::BridgeError> { Ok(Vec::new()) }
    /// # }
    /// use shield_edl::wire::Limits;
    /// use shield_host::{EnclaveBuilder, LaunchMode};
    ///
    /// struct Host;
    /// impl bridge::Ocalls for Host {
    ///     fn shield_ocall_log(&self, level: i32, message: &str) {
    ///         shield_host::system::log(level, message)
    ///     }
    /// }
    ///
    /// // my-enclave.sig and my-enclave.toml sit beside the binary.
    /// let enclave = EnclaveBuilder::new("target/release/my-enclave")
    ///     .mode(LaunchMode::Debug)
    ///     .launch(|index: u32, request: &[u8]| {
    ///         bridge::dispatch_ocall(&Host, index, request, Limits::default())
    ///     })?;
    /// # let _ = enclave;
    /// # Ok::<(), shield_host::Error>(())
    /// ```
    pub fn launch(self, ocalls: impl OcallHandler) -> Result<Enclave> {
        let sigstruct = self
            .sigstruct
            .clone()
            .unwrap_or_else(|| with_suffix(&self.binary, ".sig"));
        let config = self
            .config
            .clone()
            .or_else(|| Some(with_suffix(&self.binary, ".toml")).filter(|p| p.exists()));
        let image = EnclaveImage::load(&self.binary, config.as_deref(), &sigstruct, self.mode)?;
        let platform_path = self
            .platform
            .clone()
            .unwrap_or_else(crate::default_platform_path);
        let platform = platform::load_or_create_platform(&platform_path)?;
        Enclave::start(image, platform, &platform_path, Box::new(ocalls), &self)
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// What the serving threads and the monitor share.
struct Shared {
    id: usize,
    identity: EnclaveIdentity,
    platform: PlatformSecret,
    /// The simulated quoting enclave of this platform (state in the
    /// platform secret's directory), shared with the system OCALLs.
    quoting: Arc<PlatformQuoting>,
    ocalls: Box<dyn OcallHandler>,
    channels: Vec<Channel>,
    control: ControlBlock,
    free_tcs: Mutex<Vec<usize>>,
    tcs_freed: Condvar,
    wait_for_tcs: bool,
    dead: AtomicBool,
    lost: Mutex<Option<LostReason>>,
}

/// A running enclave. Dropping it kills and reaps the enclave process.
///
/// It is the transport of the proxies generated from the enclave's EDL
/// (`bridge::EcallProxy::new(&enclave, Limits::default())`), whose errors
/// keep a lost enclave apart from a failed call:
///
/// ```no_run
/// # mod bridge {
/// #     // What `shield_edl::Builder` generates for
/// #     // `public size_t ecall_count([in, size=len] const uint8_t* data, size_t len);`
/// #     pub struct EcallProxy<'a>(&'a dyn shield_edl::wire::EcallTransport);
/// #     impl<'a> EcallProxy<'a> {
/// #         pub fn new(t: &'a dyn shield_edl::wire::EcallTransport, _: shield_edl::wire::Limits) -> Self { Self(t) }
/// #         pub fn ecall_count(&self, _: &[u8]) -> Result<usize, shield_edl::wire::BridgeError> { Ok(0) }
/// #     }
/// # }
/// use shield_edl::wire::{BridgeError, Limits};
/// use shield_host::EnclaveBuilder;
///
/// let launch = || EnclaveBuilder::new("target/release/my-enclave").launch(|_: u32, _: &[u8]| Ok(Vec::new()));
/// let mut enclave = launch()?;
/// loop {
///     match bridge::EcallProxy::new(&enclave, Limits::default()).ecall_count(b"data") {
///         Ok(n) => break println!("{n}"),
///         Err(BridgeError::EnclaveLost(reason)) => {
///             eprintln!("enclave lost ({reason}): relaunching");
///             enclave = launch()?;
///         }
///         Err(e) => break eprintln!("this call failed: {e}"),
///     }
/// }
/// # Ok::<(), shield_host::Error>(())
/// ```
pub struct Enclave {
    shared: Arc<Shared>,
    pid: Pid,
    child: Mutex<Option<Child>>,
    monitor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Enclave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enclave")
            .field(
                "mrenclave",
                &shield_sgx::hex(&self.shared.identity.mrenclave),
            )
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// (enclave id, TCS) of the ECALLs this thread is serving, innermost
    /// last: an ECALL made from inside an OCALL handler runs nested on the
    /// same TCS, as on hardware.
    static ACTIVE: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

impl Enclave {
    fn start(
        image: EnclaveImage,
        platform: PlatformSecret,
        platform_path: &Path,
        ocalls: Box<dyn OcallHandler>,
        options: &EnclaveBuilder,
    ) -> Result<Self> {
        let launch = |e: shield_channel::Error| Error::Launch(e.to_string());
        let config = &image.config;
        let control = ControlBlock::create(config.heap_max, config.stack_size).map_err(launch)?;
        let channels = (0..config.tcs_count)
            .map(|i| Channel::create(&format!("shield-tcs{i}"), options.channel_capacity))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(launch)?;
        let executable =
            sys::sealed_executable(&image.binary).map_err(|e| Error::Launch(e.to_string()))?;
        let mut passed = vec![control.region().fd()];
        passed.extend(channels.iter().map(|c| c.region().fd()));
        let child = sys::spawn(executable.as_fd(), &passed, &[config.tcs_count.to_string()])
            .map_err(|e| Error::Launch(format!("starting {}: {e}", image.path.display())))?;
        let pid = Pid::from_child(&child);

        let shared = Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            identity: image.identity,
            quoting: Arc::new(PlatformQuoting::new(
                platform.clone(),
                platform_path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_owned),
            )),
            platform,
            ocalls,
            free_tcs: Mutex::new((0..channels.len()).rev().collect()),
            channels,
            control,
            tcs_freed: Condvar::new(),
            wait_for_tcs: options.wait_for_tcs,
            dead: AtomicBool::new(false),
            lost: Mutex::new(None),
        });
        let monitor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("shield-enclave-monitor".into())
                .spawn(move || shared.watch(pid))
                .map_err(|e| Error::Launch(format!("starting the monitor thread: {e}")))?
        };
        let enclave = Self {
            shared,
            pid,
            child: Mutex::new(Some(child)),
            monitor: Some(monitor),
        };
        enclave.wait_ready()?;
        Ok(enclave)
    }

    fn wait_ready(&self) -> Result<()> {
        let start = Instant::now();
        while !self.shared.control.is_ready() {
            if let Some(reason) = self.lost() {
                return Err(Error::Launch(format!(
                    "the enclave ended during start-up: {reason}"
                )));
            }
            if start.elapsed() > START_TIMEOUT {
                return Err(Error::Launch(format!(
                    "the enclave did not start within {START_TIMEOUT:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    /// The identity recorded at EINIT.
    pub fn identity(&self) -> &EnclaveIdentity {
        &self.shared.identity
    }

    /// The enclave process's id (for operators and tests: the simulation
    /// has a process where hardware has an enclave).
    pub fn process_id(&self) -> u32 {
        self.pid.as_raw_nonzero().get() as u32
    }

    /// Why the enclave is gone, if it is.
    pub fn lost(&self) -> Option<LostReason> {
        self.shared
            .dead
            .load(Ordering::SeqCst)
            .then(|| self.shared.lost_reason())
    }

    /// The TARGETINFO of the simulated quoting enclave: an enclave that
    /// wants a quote makes its EREPORT for this target, then hands the
    /// report to [`Enclave::quote`] (normally through the system OCALLs of
    /// `shield_quote.edl`, served by [`crate::system`]).
    pub fn qe_target_info(&self) -> Targetinfo {
        crate::quoting::sim_qe_target_info()
    }

    /// The simulated quoting enclave of this enclave's platform (state next
    /// to its platform secret, created on first use).
    pub fn quoting_enclave(&self) -> Result<&SimQuotingEnclave> {
        self.shared.quoting.get()
    }

    /// Turns `report` (432 bytes, made for [`Enclave::qe_target_info`]) into
    /// a DCAP v3 quote signed by the machine's *simulated* quoting stack.
    /// Refused unless the report's MAC shows it was made on this platform
    /// for the simulated QE.
    pub fn quote(&self, report: &[u8]) -> Result<Vec<u8>> {
        let report = Report::try_copy_from(report).ok_or_else(|| {
            Error::Quoting(format!("a REPORT is 432 bytes, got {}", report.len()))
        })?;
        self.quoting_enclave()?.quote(&report)
    }

    /// Runs ECALL `index` with an encoded `request`; returns the encoded
    /// reply. Called from inside an OCALL handler of this enclave, the ECALL
    /// is nested on that OCALL's TCS.
    pub fn ecall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>> {
        if let Some(reason) = self.lost() {
            return Err(Error::EnclaveLost(reason));
        }
        let id = self.shared.id;
        let nested = ACTIVE.with(|a| {
            a.borrow()
                .iter()
                .rev()
                .find(|(e, _)| *e == id)
                .map(|(_, tcs)| *tcs)
        });
        if let Some(tcs) = nested {
            return self.shared.call_on(tcs, index, request);
        }
        let tcs = self.shared.acquire_tcs()?;
        let result = self.shared.call_on(tcs, index, request);
        self.shared.release_tcs(tcs);
        result
    }
}

impl EcallTransport for Enclave {
    fn ecall(&self, index: u32, request: &[u8]) -> std::result::Result<Vec<u8>, BridgeError> {
        Enclave::ecall(self, index, request).map_err(BridgeError::from)
    }
}

impl Drop for Enclave {
    fn drop(&mut self) {
        self.shared.record_loss(LostReason::Dropped);
        // The monitor has not reaped the child (it waits with WNOWAIT), so
        // the pid cannot have been reused: the kill reaches our enclave.
        let _ = rustix::process::kill_process(self.pid, Signal::KILL);
        if let Some(monitor) = self.monitor.take() {
            let _ = monitor.join();
        }
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = child.wait();
        }
    }
}

impl Shared {
    fn acquire_tcs(&self) -> Result<usize> {
        let mut free = self.free_tcs.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(tcs) = free.pop() {
                return Ok(tcs);
            }
            if self.dead.load(Ordering::SeqCst) {
                return Err(Error::EnclaveLost(self.lost_reason()));
            }
            if !self.wait_for_tcs {
                return Err(Error::OutOfTcs(self.channels.len() as u32));
            }
            free = self.tcs_freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn release_tcs(&self, tcs: usize) {
        self.free_tcs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tcs);
        self.tcs_freed.notify_one();
    }

    /// One ECALL on `tcs`, serving every OCALL and CPU request it makes
    /// until it returns.
    fn call_on(&self, tcs: usize, index: u32, request: &[u8]) -> Result<Vec<u8>> {
        let channel = &self.channels[tcs];
        channel
            .send(kind::ECALL, index, request)
            .map_err(|e| Error::Channel(e.to_string()))?;
        loop {
            let message = channel
                .recv(|| self.alive())
                .map_err(|e| self.channel_error(e))?;
            let (reply_kind, code, reply) = match message.kind {
                kind::ECALL_RETURN => return Ok(message.payload),
                kind::ECALL_FAILED => {
                    let reason = String::from_utf8_lossy(&message.payload).into_owned();
                    return Err(Error::EcallFailed { index, reason });
                }
                kind::OCALL => self.run_ocall(tcs, &message),
                kind::CPU_EGETKEY => self.egetkey(&message.payload),
                kind::CPU_EREPORT => self.ereport(&message.payload),
                other => {
                    return Err(
                        self.broken(format!("unexpected message kind {other} during an ECALL"))
                    );
                }
            };
            if let Err(e) = channel.send(reply_kind, code, &reply) {
                // Too large for the channel: tell the enclave, which still waits.
                let text = format!("OCALL reply: {e}");
                channel
                    .send(kind::OCALL_FAILED, 0, text.as_bytes())
                    .map_err(|e| Error::Channel(e.to_string()))?;
            }
        }
    }

    fn run_ocall(&self, tcs: usize, message: &Message) -> (u32, u32, Vec<u8>) {
        ACTIVE.with(|a| a.borrow_mut().push((self.id, tcs)));
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            system::serving(&self.quoting, || {
                self.ocalls.handle(message.index, &message.payload)
            })
        }));
        ACTIVE.with(|a| a.borrow_mut().pop());
        match outcome {
            Ok(Ok(reply)) => (kind::OCALL_RETURN, 0, reply),
            Ok(Err(error)) => (kind::OCALL_FAILED, 0, error.to_string().into_bytes()),
            Err(_) => (
                kind::OCALL_FAILED,
                0,
                format!("the host's OCALL {} panicked", message.index).into_bytes(),
            ),
        }
    }

    /// EGETKEY for the enclave, from its recorded identity.
    fn egetkey(&self, payload: &[u8]) -> (u32, u32, Vec<u8>) {
        let Some(request) = Keyrequest::try_copy_from(payload) else {
            return (kind::CPU_FAILED, 0, b"a KEYREQUEST is 512 bytes".to_vec());
        };
        match egetkey(&self.platform, &self.identity, &request) {
            Ok(key) => (kind::CPU_RETURN, 0, key.to_vec()),
            Err(error) => (
                kind::CPU_FAILED,
                egetkey_code(error),
                error.to_string().into_bytes(),
            ),
        }
    }

    /// EREPORT for the enclave: TARGETINFO (512 bytes) then REPORTDATA (64).
    fn ereport(&self, payload: &[u8]) -> (u32, u32, Vec<u8>) {
        let (target, data) = payload.split_at(payload.len().min(Targetinfo::UNPADDED_SIZE));
        match (
            Targetinfo::try_copy_from(target),
            <[u8; 64]>::try_from(data),
        ) {
            (Some(target), Ok(data)) => (
                kind::CPU_RETURN,
                0,
                ereport(&self.platform, &self.identity, &target, &data)
                    .as_ref()
                    .to_vec(),
            ),
            _ => (
                kind::CPU_FAILED,
                0,
                b"EREPORT takes a 512-byte TARGETINFO and 64 bytes of REPORTDATA".to_vec(),
            ),
        }
    }

    fn alive(&self) -> shield_channel::Result<()> {
        if self.dead.load(Ordering::SeqCst) {
            Err(shield_channel::Error::PeerGone)
        } else {
            Ok(())
        }
    }

    fn channel_error(&self, error: shield_channel::Error) -> Error {
        match error {
            shield_channel::Error::PeerGone => Error::EnclaveLost(self.lost_reason()),
            other => self.broken(other.to_string()),
        }
    }

    /// The enclave broke the channel protocol: it is in an unknown state.
    fn broken(&self, what: String) -> Error {
        Error::Channel(format!("enclave broke the channel protocol: {what}"))
    }

    fn lost_reason(&self) -> LostReason {
        self.lost
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or(LostReason::Dropped)
    }

    fn record_loss(&self, reason: LostReason) {
        self.lost
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(reason);
    }

    /// The monitor thread: waits (without reaping) for the process to end,
    /// records why, then wakes everything that waits on the enclave.
    fn watch(&self, pid: Pid) {
        let status = loop {
            match rustix::process::waitid(
                WaitId::Pid(pid),
                WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
            ) {
                Ok(Some(status)) => break Some(status),
                Ok(None) => continue,
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => break None,
            }
        };
        let (reported, detail, message) = self.control.end();
        let reason = match reported {
            EndReason::ForbiddenSyscall => LostReason::ForbiddenSyscall {
                number: detail,
                name: syscall_name(detail),
            },
            EndReason::OutOfMemory => LostReason::OutOfMemory { requested: detail },
            EndReason::Panicked => LostReason::RuntimeFailure(message),
            EndReason::Aborted => LostReason::Aborted,
            EndReason::Unreported => match status {
                Some(s) if s.terminating_signal() == Some(libc::SIGABRT) => LostReason::Aborted,
                Some(s) if s.terminating_signal().is_some() => {
                    LostReason::Signal(s.terminating_signal().unwrap_or(0))
                }
                Some(s) => LostReason::Exited(s.exit_status().unwrap_or(-1)),
                None => LostReason::Exited(-1),
            },
        };
        self.record_loss(reason);
        self.dead.store(true, Ordering::SeqCst);
        for channel in &self.channels {
            channel.interrupt();
        }
        self.tcs_freed.notify_all();
    }
}

fn egetkey_code(error: EgetkeyError) -> u32 {
    match error {
        EgetkeyError::InvalidKeyname(_) => 1,
        EgetkeyError::InvalidIsvsvn { .. } => 2,
        EgetkeyError::InvalidCpusvn => 3,
        EgetkeyError::InvalidAttribute => 4,
        _ => 5,
    }
}

fn syscall_name(number: u64) -> String {
    usize::try_from(number)
        .ok()
        .and_then(syscalls::Sysno::new)
        .map_or_else(|| "unknown".to_owned(), |s| s.name().to_owned())
}
