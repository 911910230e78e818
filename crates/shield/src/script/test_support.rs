//! What the in-crate tests of script enclaves share: an attested enclave
//! key made by the real Lua enclave, an owner, and bundles packed for them;
//! enclaves whose OCALLs go to the calling thread's host; and development
//! sessions that run many plaintext scripts on one development enclave.

use std::cell::RefCell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use shield_bundle::{AttestedKey, Language, OwnerSecret, PackInput};
use shield_edl::wire::Limits;
use shield_host::{Enclave, EnclaveBuilder, LaunchMode};

use super::bridge::{self, EcallProxy};
use super::host::{Captured, ScriptHost};
use super::{image, ops};

thread_local! {
    /// The host of the run this thread is making: OCALLs are served on the
    /// thread whose ECALL made them, so each run gets its own files.
    pub(super) static HOST: RefCell<Option<Arc<ScriptHost>>> = const { RefCell::new(None) };
}

/// Launches `binary` with OCALLs going to the calling thread's [`HOST`].
pub(super) fn launch(binary: &Path, mode: LaunchMode) -> Result<Enclave, shield_host::Error> {
    EnclaveBuilder::new(binary)
        .mode(mode)
        .wait_for_tcs(true)
        .launch(|index: u32, request: &[u8]| {
            let host = HOST.with(|h| h.borrow().clone()).expect("a run's host");
            bridge::dispatch_ocall(&*host, index, request, Limits::default())
        })
}

/// One development enclave running many plaintext scripts, each with its
/// streams in memory: conformance suites run inside the enclave at the cost
/// of an ECALL per script, not a launch.
pub(crate) struct DevSession {
    _state: tempfile::TempDir,
    enclave: Enclave,
}

/// [`DevRun::status`] when the ECALL itself failed (the enclave was lost,
/// or the channel broke): the run has no outcome.
pub(crate) const ECALL_FAILED: i32 = i32::MIN;

/// How a development-mode run ended, and what it wrote.
#[derive(Debug)]
pub(crate) struct DevRun {
    /// The script's exit status, the ECALL's negative failure code, or
    /// [`ECALL_FAILED`].
    pub(crate) status: i32,
    /// The enclave's message when `status` is negative (the ECALL's error
    /// for [`ECALL_FAILED`]).
    pub(crate) message: String,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

impl DevSession {
    /// Launches `language`'s development enclave.
    pub(crate) fn launch(language: Language) -> DevSession {
        let state = tempfile::tempdir().unwrap();
        let binary = image::development(language).unpack(state.path()).unwrap();
        DevSession {
            enclave: launch(&binary, LaunchMode::Debug).unwrap(),
            _state: state,
        }
    }

    /// Runs `entry` (a path under `root`) with `args`, `stdin` and
    /// `limits` (`None`: the enclave's defaults).
    pub(crate) fn run(
        &self,
        root: &Path,
        entry: &str,
        args: &[String],
        stdin: &[u8],
        limits: shield_engine::Limits,
    ) -> DevRun {
        let host = Arc::new(ScriptHost {
            dev_root: Some(root.to_owned()),
            started: Some(Instant::now()),
            captured: Some(Mutex::new(Captured {
                stdin: stdin.iter().copied().collect(),
                ..Captured::default()
            })),
            ..ScriptHost::default()
        });
        HOST.with(|h| *h.borrow_mut() = Some(host.clone()));
        let (mut msg, mut msg_len) = ([0u8; 1024], 0u64);
        let status = EcallProxy::new(&self.enclave, Limits::default()).ecall_exec(
            entry,
            &ops::encode_args(args).unwrap(),
            b"",
            limits.instructions.unwrap_or(0),
            limits.memory_bytes.unwrap_or(0),
            limits.output_bytes.unwrap_or(0),
            &mut msg,
            &mut msg_len,
        );
        HOST.with(|h| *h.borrow_mut() = None);
        let len = usize::try_from(msg_len).unwrap().min(msg.len());
        let captured = std::mem::take(&mut *host.captured.as_ref().unwrap().lock().unwrap());
        let (status, message) = match status {
            Ok(status) => (status, String::from_utf8_lossy(&msg[..len]).into_owned()),
            Err(e) => (ECALL_FAILED, e.to_string()),
        };
        DevRun {
            status,
            message,
            stdout: captured.stdout,
            stderr: captured.stderr,
        }
    }

    /// Whether the enclave is still up.
    pub(crate) fn alive(&self) -> bool {
        self.enclave.lost().is_none()
    }
}

/// A state directory with the Lua enclave's key, and an owner.
pub(super) struct Keys {
    pub(super) dir: tempfile::TempDir,
    /// The production Lua enclave, unpacked.
    pub(super) binary: PathBuf,
    /// The enclave's sealed private key, as `shield run` passes it.
    pub(super) sealed: Vec<u8>,
    pub(super) owner: OwnerSecret,
    attested: AttestedKey,
}

impl Keys {
    pub(super) fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let made = ops::make_enclave_key(Language::Lua, &state).unwrap();
        Keys {
            binary: image::for_language(Language::Lua).unpack(&state).unwrap(),
            sealed: std::fs::read(&made.sealed_path).unwrap(),
            owner: OwnerSecret::generate(),
            attested: made.attested,
            dir,
        }
    }

    /// Packs `files` (name, text; the first is the entry) from a project
    /// directory `name` into `name/app.shield`, with the default policy and
    /// limits.
    pub(super) fn bundle(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let project = self.dir.path().join(name);
        std::fs::create_dir_all(&project).unwrap();
        for (file, text) in files {
            std::fs::write(project.join(file), text).unwrap();
        }
        let policy = ops::complete_policy(None, Language::Lua).unwrap();
        let input = PackInput {
            language: Language::Lua,
            policy: ops::enclave_policy(&policy),
            limits: shield_bundle::Limits::default(),
            entry: files[0].0.to_owned(),
            files: files
                .iter()
                .map(|(file, _)| ((*file).to_owned(), project.join(file)))
                .collect(),
            stdin: None,
            args: None,
            env: Vec::new(),
        };
        let out = project.join("app.shield");
        ops::write_bundle(&input, &self.attested.key, &self.owner, &out).unwrap();
        out
    }

    /// A fresh directory under the keys' own.
    pub(super) fn workdir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

/// The length of `path`'s bundle, as `ecall_run_bundle` takes it.
pub(super) fn bundle_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// An honest host for one run of `bundle`: nodes under `work`, the result
/// in `work/app.result` (its path is returned too).
pub(super) fn bundle_host(bundle: &Path, work: &Path) -> (ScriptHost, PathBuf) {
    let result = work.join("app.result");
    let host = ScriptHost {
        bundle: Some(std::fs::read(bundle).unwrap()),
        result: Some(Mutex::new(File::create(&result).unwrap())),
        nodes: Some(work.to_owned()),
        started: Some(Instant::now()),
        ..ScriptHost::default()
    };
    (host, result)
}
