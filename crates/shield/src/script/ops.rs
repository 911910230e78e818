//! The operations behind the ScriptShield commands, shared by the commands
//! themselves and by `shield demo`. They return what happened; printing is
//! the caller's business.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::json;
use shield_attest::{Collateral, Policy, TcbStatus, Verdict};
use shield_bundle::{AttestedKey, EnclaveKeyPublic, EnclavePolicy, Language, OwnerSecret};
use shield_edl::wire::Limits;

use super::bridge::EcallProxy;
use super::host::ScriptHost;
use super::{image, state};

/// Largest ak.json, bundle or result read by the host-side commands.
pub(crate) const MAX_DOCUMENT: u64 = 16 << 20;
/// Largest result read (a script's output is capped at 128 MiB inside).
const MAX_RESULT: u64 = 256 << 20;
/// Room for the enclave's messages.
const MESSAGE_CAP: usize = 1024;

fn message(buf: &[u8], len: u64) -> String {
    let len = usize::try_from(len).unwrap_or(buf.len()).min(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// Writes `bytes` to `path` through a temporary file, so that a failure
/// or a signal never leaves half a file under the final name. Replaces a
/// file at `path` only if `replace`.
pub(crate) fn write_whole(path: &Path, bytes: &[u8], replace: bool) -> Result<()> {
    let temp = crate::interrupt::TempFile::beside(path)?;
    temp.as_file()
        .write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    temp.persist(path, replace)
}

/// Script arguments as the enclave takes them: each followed by a NUL.
pub(crate) fn encode_args(args: &[String]) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for arg in args {
        if arg.contains('\0') {
            bail!("an argument contains a NUL byte");
        }
        bytes.extend_from_slice(arg.as_bytes());
        bytes.push(0);
    }
    Ok(bytes)
}

// ---------------------------------------------------------------- enclave key

/// A key made by `shield enclave-key`.
#[derive(Debug)]
pub(crate) struct MadeKey {
    pub(crate) attested: AttestedKey,
    pub(crate) sealed_path: PathBuf,
    pub(crate) mrenclave: [u8; 32],
}

/// Launches the script enclave for `language`, has it make its key pair,
/// stores the sealed private key under `state` and returns the attested
/// public key (with a quote, and the collateral that checks it).
pub(crate) fn make_enclave_key(language: Language, state: &Path) -> Result<MadeKey> {
    let embedded = image::for_language(language);
    let binary = embedded.unpack(state)?;
    let launched = ScriptHost::default().launch(&binary)?;
    let enclave = &launched.enclave;
    let proxy = EcallProxy::new(enclave, Limits::default());
    let target = enclave.qe_target_info();
    let (mut public, mut report) = ([0u8; 64], [0u8; 432]);
    let mut sealed = vec![0u8; 4096];
    let mut sealed_len = 0u64;
    let (mut msg, mut msg_len) = ([0u8; MESSAGE_CAP], 0u64);
    let status = proxy.ecall_new_key(
        target.as_ref(),
        &mut public,
        &mut report,
        &mut sealed,
        &mut sealed_len,
        &mut msg,
        &mut msg_len,
    )?;
    if status != 0 {
        bail!(
            "the enclave could not make a key: {}",
            message(&msg, msg_len)
        );
    }
    let sealed_len = usize::try_from(sealed_len)
        .ok()
        .filter(|&l| l <= sealed.len())
        .context("the enclave reported an impossible sealed-key length")?;
    let quote = enclave
        .quote(&report)
        .context("quoting the enclave's report")?;
    let qe = enclave.quoting_enclave()?;
    let mut collateral = serde_json::Map::new();
    for (name, bytes) in qe.collateral_parts()? {
        let value = if name.ends_with(".der") {
            shield_sgx::hex(&bytes)
        } else {
            String::from_utf8(bytes).context("collateral text is not UTF-8")?
        };
        collateral.insert(name.to_owned(), value.into());
    }
    let key = EnclaveKeyPublic {
        encryption: public[..32].try_into().expect("32 bytes"),
        signing: public[32..].try_into().expect("32 bytes"),
    };
    let sealed_path = state::sealed_key_path(state, &key.fingerprint());
    state::private_dir(sealed_path.parent().expect("a key file has a directory"))?;
    crate::cmd::write_secret_file(&sealed_path, &sealed[..sealed_len], true)?;
    Ok(MadeKey {
        attested: AttestedKey::new(language, key, quote, Some(collateral.into())),
        sealed_path,
        mrenclave: enclave.identity().mrenclave,
    })
}

// ----------------------------------------------------------------------- pack

/// What the owner's policy file says, made complete: without an enclave
/// identity in it, the policy pins the MRENCLAVE of the enclave this
/// `shield` carries (a quote from any other enclave is then refused).
pub(crate) fn complete_policy(policy: Option<Policy>, language: Language) -> Result<Policy> {
    let mut policy = policy.unwrap_or_default();
    if policy.mrenclave.is_empty() && policy.mrsigner.is_none() {
        policy.mrenclave = vec![image::for_language(language).mrenclave()?];
    }
    Ok(policy)
}

/// The identity part of `policy`, which the bundle carries and the enclave
/// checks against its own report.
pub(crate) fn enclave_policy(policy: &Policy) -> EnclavePolicy {
    EnclavePolicy {
        mrenclave: policy.mrenclave.clone(),
        mrsigner: policy.mrsigner,
        isvprodid: policy.isvprodid,
        min_isvsvn: policy.min_isvsvn,
        allow_debug: policy.allow_debug,
    }
}

fn collateral_of(attested: &AttestedKey) -> Result<Option<Collateral>> {
    let Some(value) = &attested.collateral else {
        return Ok(None);
    };
    let text = |name: &str| -> Result<Vec<u8>> {
        let s = value
            .get(name)
            .and_then(|v| v.as_str())
            .with_context(|| format!("the key's collateral has no {name}"))?;
        if name.ends_with(".der") {
            Ok(hex::decode(s).with_context(|| format!("collateral {name} is not hex"))?)
        } else {
            Ok(s.as_bytes().to_vec())
        }
    };
    Ok(Some(Collateral::from_pcs_parts(
        &text("tcb_info.json")?,
        &text("qe_identity.json")?,
        &text("tcb_signing_chain.pem")?,
        &text("pck_crl.der")?,
        &text("root_crl.der")?,
    )?))
}

/// Checks the attested key's quote: valid, acceptable to `policy`, and
/// binding exactly this key. The verdict says why when it is refused.
///
/// A policy without `tcb_statuses` accepts any status but Revoked and
/// TcbNotChecked: the owner is about to trust the platform with secrets,
/// so a quote whose collateral was stripped (its TCB level unknown) is
/// accepted only by a policy that lists TcbNotChecked.
pub(crate) fn check_attested_key(
    attested: &AttestedKey,
    policy: &Policy,
    sim_root: Option<&Path>,
    now: u64,
) -> Result<Verdict> {
    let mut policy = policy.clone();
    policy.report_data = Some(attested.key.report_data());
    policy.tcb_statuses.get_or_insert_with(|| {
        TcbStatus::ALL
            .into_iter()
            .filter(|s| !matches!(s, TcbStatus::Revoked | TcbStatus::TcbNotChecked))
            .collect()
    });
    let collateral = collateral_of(attested)?;
    crate::cmd::verify::evaluate(&attested.quote, collateral.as_ref(), &policy, sim_root, now)
}

/// The files to pack: `entry` and every file under `inputs`, by the path
/// the script will use (relative to the directory it runs in), each with
/// the real path it is read from.
///
/// Everything packed must really be in the directory the script runs in:
/// a link that leads out of it is refused (the owner would ship a file
/// they never meant to). Links to directories met while walking are not
/// followed (one pointing upwards would make the walk endless), and links
/// leading nowhere are skipped; both with a warning.
pub(crate) fn collect_files(entry: &Path, inputs: &[PathBuf]) -> Result<Vec<(String, PathBuf)>> {
    let root = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .context("finding the current directory")?;
    let mut files = BTreeMap::new();
    // (path, named on the command line)
    let mut pending: Vec<(PathBuf, bool)> = std::iter::once(entry)
        .chain(inputs.iter().map(PathBuf::as_path))
        .map(|p| (p.to_owned(), true))
        .collect();
    while let Some((path, named)) = pending.pop() {
        if path.is_absolute() {
            bail!(
                "{}: give paths relative to the directory the script runs in",
                path.display()
            );
        }
        let real = match std::fs::canonicalize(&path) {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && path.is_symlink() => {
                let dangling = format!(
                    "{}: a link to {}, which does not exist",
                    path.display(),
                    link_target(&path)
                );
                if named {
                    bail!("{dangling}");
                }
                eprintln!("warning: skipping {dangling}");
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        if !real.starts_with(&root) {
            bail!(
                "{} leads to {}, outside the directory the script runs in ({}): copy it in \
                 rather than linking to it",
                path.display(),
                real.display(),
                root.display()
            );
        }
        let meta =
            std::fs::metadata(&real).with_context(|| format!("reading {}", path.display()))?;
        if meta.is_dir() {
            for item in
                std::fs::read_dir(&path).with_context(|| format!("listing {}", path.display()))?
            {
                let item = item?;
                if item.file_type()?.is_symlink() && item.path().is_dir() {
                    eprintln!(
                        "warning: skipping {} (a link to a directory; name it to pack it)",
                        item.path().display()
                    );
                    continue;
                }
                pending.push((item.path(), false));
            }
        } else if meta.is_file() {
            files.insert(bundle_path(&path)?, real);
        } else {
            eprintln!("warning: skipping {} (not a regular file)", path.display());
        }
    }
    Ok(files.into_iter().collect())
}

/// Where the link at `path` points, for messages.
fn link_target(path: &Path) -> String {
    std::fs::read_link(path).map_or_else(|_| "?".to_owned(), |t| t.display().to_string())
}

/// The path a script uses for `path`.
pub(crate) fn bundle_path(path: &Path) -> Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    shield_engine::vfs::normalize(text).with_context(|| format!("{}", path.display()))
}

/// Writes the bundle to `out` (through a temporary file), showing progress
/// on large inputs.
/// Fails if `out` is one of `input`'s files or its stdin: writing the
/// bundle would replace an input.
fn refuse_overwriting_inputs(input: &shield_bundle::PackInput, out: &Path) -> Result<()> {
    let Ok(out_real) = out.canonicalize() else {
        return Ok(()); // not there yet: no input can be it
    };
    let inputs = input
        .files
        .iter()
        .map(|(_, path)| path)
        .chain(input.stdin.as_ref());
    for path in inputs {
        if path.canonicalize().is_ok_and(|p| p == out_real) {
            bail!(
                "{} is an input of the bundle: writing the bundle there would replace it",
                out.display()
            );
        }
    }
    Ok(())
}

pub(crate) fn write_bundle(
    input: &shield_bundle::PackInput,
    to: &EnclaveKeyPublic,
    owner: &OwnerSecret,
    out: &Path,
) -> Result<u64> {
    refuse_overwriting_inputs(input, out)?;
    let total = shield_bundle::bundle_total_bytes(input)?;
    if total > shield_bundle::MAX_BUNDLE {
        bail!(
            "the bundle would be {total} bytes; script enclaves open bundles of up to {} bytes",
            shield_bundle::MAX_BUNDLE
        );
    }
    let bar = if total >= 16 << 20 {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_message("packing");
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let written = (|| -> Result<u64> {
        let temp = crate::interrupt::TempFile::beside(out)?;
        let mut writer = std::io::BufWriter::new(temp.as_file());
        shield_bundle::pack(input, to, owner, &mut writer, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })?;
        writer.flush()?;
        drop(writer);
        temp.as_file().sync_all()?;
        temp.persist(out, true)?;
        Ok(std::fs::metadata(out)?.len())
    })();
    bar.finish_and_clear();
    written
}

// ------------------------------------------------------------------------ run

/// How a `run` ended.
#[derive(Debug)]
pub(crate) enum RunEnd {
    /// A result was written (this many bytes).
    Result(u64),
    /// The enclave refused the bundle; no script ran.
    Refused(String),
}

/// Runs `bundle` in the script enclave, writing the result to `out` and,
/// with `trace`, every OCALL request to that file (replacing it).
pub(crate) fn run_bundle(
    bundle: &Path,
    out: &Path,
    args: &[String],
    state: &Path,
    trace: Option<&Path>,
    timeout: Option<std::time::Duration>,
) -> Result<RunEnd> {
    if same_file(out, bundle) {
        bail!("-o {} would replace the bundle", out.display());
    }
    if let Some(trace) = trace {
        for (other, what) in [(bundle, "the bundle"), (out, "the result")] {
            if same_file(trace, other) {
                bail!("--trace {} is {what}: name another file", trace.display());
            }
        }
    }
    let bytes = crate::cmd::read_bounded(bundle, shield_bundle::MAX_BUNDLE)?;
    let header = match shield_bundle::peek_header(&bytes) {
        Ok(header) => header,
        Err(e) => return Ok(RunEnd::Refused(format!("bundle refused: {e}"))),
    };
    let sealed_path = state::sealed_key_path(state, &header.recipient);
    let sealed = crate::cmd::read_bounded(&sealed_path, 1 << 20).with_context(|| {
        format!(
            "no sealed key for this bundle's enclave key {} in {} (was its ak.json made by \
             `shield enclave-key` on this machine, with this state directory?)",
            shield_sgx::hex(&header.recipient),
            sealed_path.parent().unwrap_or(state).display()
        )
    })?;
    let binary = image::for_language(header.language).unpack(state)?;
    let scratch =
        crate::interrupt::TempDir::new_in(&state::private_dir(&state.join("scratch"))?, "run-")?;
    let result = crate::interrupt::TempFile::beside(out)?;
    let trace = match trace {
        Some(path) => Some(std::sync::Mutex::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    let bundle_len = bytes.len() as u64;
    let host = ScriptHost {
        bundle: Some(bytes),
        result: Some(std::sync::Mutex::new(result.as_file().try_clone()?)),
        nodes: Some(scratch.path().to_owned()),
        trace,
        ..ScriptHost::default()
    };
    let deadline = crate::interrupt::Deadline::arm(timeout)?;
    let launched = host.launch(&binary)?;
    let proxy = EcallProxy::new(&launched.enclave, Limits::default());
    let arg_bytes = encode_args(args)?;
    let (mut msg, mut msg_len) = ([0u8; MESSAGE_CAP], 0u64);
    let status = proxy.ecall_run_bundle(&sealed, bundle_len, &arg_bytes, &mut msg, &mut msg_len)?;
    // The result is whole: no time limit may remove it now.
    drop(deadline);
    match status {
        0 => {
            result.persist(out, true)?;
            Ok(RunEnd::Result(std::fs::metadata(out)?.len()))
        }
        crate::script::REFUSED => Ok(RunEnd::Refused(message(&msg, msg_len))),
        _ => bail!("the enclave failed: {}", message(&msg, msg_len)),
    }
}

/// Whether `a` and `b` name the same file: the same inode if both exist,
/// else the same place once their directories are resolved.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        return (a.dev(), a.ino()) == (b.dev(), b.ino());
    }
    let place = |p: &Path| {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
    };
    place(a).is_some_and(|a| Some(a) == place(b))
}

// ----------------------------------------------------------------------- open

/// How opening a result went.
#[derive(Debug)]
pub(crate) enum Opened {
    /// The result checks out.
    Valid(Box<shield_bundle::OpenedResult>),
    /// It does not: not signed by the enclave its bundle was for, not an
    /// answer to this owner's bundle, tampered with, or not a result.
    Refused(shield_bundle::Error),
}

/// Opens a result as its owner. Errors are the inputs' (unreadable).
pub(crate) fn open_result(path: &Path, owner: &OwnerSecret) -> Result<Opened> {
    let bytes = crate::cmd::read_bounded(path, MAX_RESULT)?;
    Ok(
        match shield_bundle::open_result(&bytes, owner, MAX_RESULT) {
            Ok(opened) => Opened::Valid(Box::new(opened)),
            Err(e) => Opened::Refused(e),
        },
    )
}

// ----------------------------------------------------------------------- exec

/// The limits of `shield exec` (both modes): none, but memory (the most
/// the script enclave gives a script); flags change them, 0 meaning "no
/// limit" (in the enclave: its maximum).
pub(crate) fn exec_limits(flags: &crate::cmd::LimitFlags) -> shield_engine::Limits {
    // The most the script enclave gives a script (its MAX_SCRIPT_MEMORY).
    let memory = 128 << 20;
    let [instructions, memory_bytes, output_bytes] = flags.over(None, Some(memory), None);
    shield_engine::Limits {
        instructions,
        memory_bytes,
        output_bytes,
    }
}

/// Splits a script path into its directory (the script's root) and name.
fn script_root(file: &Path) -> Result<(PathBuf, String)> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} is not a UTF-8 file name", file.display()))?
        .to_owned();
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    Ok((dir, name))
}

/// The engine of `language`, as its enclave runs it.
pub(crate) fn engine(language: Language) -> Box<dyn shield_engine::Engine> {
    match language {
        Language::Lua => Box::new(shield_lang_lua::LuaVm::new()),
        Language::Js => Box::new(shield_lang_js::JsEngine::new()),
        Language::Squirrel => Box::new(shield_lang_squirrel::SquirrelEngine::new()),
        Language::Python => Box::new(shield_lang_python::PythonEngine::new()),
    }
}

/// Development mode's environment: the host's variables whose name and
/// value are UTF-8 (others are left out, as a script could not name them).
pub(crate) fn host_environment() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(n, v)| Some((n.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// `shield exec --native`: the engine in this process.
pub(crate) fn exec_native(
    language: Language,
    file: &Path,
    args: &[String],
    limits: shield_engine::Limits,
    timeout: Option<std::time::Duration>,
) -> Result<i32> {
    use shield_engine::vfs::{DirReader, MemoryWrites, Overlay};
    let (root, entry) = script_root(file)?;
    let mut vfs = Overlay::new(DirReader::new(root), MemoryWrites::new());
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let env = host_environment();
    let deadline = crate::interrupt::Deadline::arm(timeout)?;
    let outcome = engine(language).run(shield_engine::Job {
        entry: &entry,
        args,
        env: &env,
        stdin: &mut std::io::stdin().lock(),
        stdout: &mut stdout,
        stderr: &mut std::io::stderr(),
        vfs: &mut vfs,
        clock: &shield_engine::SystemClock,
        limits,
        heap_exceeded: shield_engine::no_heap_budget,
    });
    drop(deadline);
    stdout.flush()?;
    Ok(outcome.exit_status())
}

/// `shield exec`: the script enclave runs the plaintext script.
pub(crate) fn exec_enclave(
    language: Language,
    file: &Path,
    args: &[String],
    limits: shield_engine::Limits,
    timeout: Option<std::time::Duration>,
    state: &Path,
) -> Result<i32> {
    let (root, entry) = script_root(file)?;
    let binary = image::development(language).unpack(state)?;
    let deadline = crate::interrupt::Deadline::arm(timeout)?;
    let launched = ScriptHost {
        dev_root: Some(root),
        ..ScriptHost::default()
    }
    .launch_debug(&binary)?;
    let proxy = EcallProxy::new(&launched.enclave, Limits::default());
    let arg_bytes = encode_args(args)?;
    let env: Vec<String> = host_environment()
        .into_iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let env_bytes = encode_args(&env)?;
    let (mut msg, mut msg_len) = ([0u8; MESSAGE_CAP], 0u64);
    let status = proxy.ecall_exec(
        &entry,
        &arg_bytes,
        &env_bytes,
        limits.instructions.unwrap_or(0),
        limits.memory_bytes.unwrap_or(0),
        limits.output_bytes.unwrap_or(0),
        &mut msg,
        &mut msg_len,
    )?;
    drop(deadline);
    if status < 0 {
        bail!("the enclave failed: {}", message(&msg, msg_len));
    }
    Ok(status)
}

/// A policy file's text that allows this machine's simulated enclave: used
/// by the demo, written out so the owner sees what they accept.
pub(crate) fn simulation_policy_text(language: Language, mrenclave: &[u8; 32]) -> String {
    let value = json!(shield_sgx::hex(mrenclave));
    let name = language.display_name();
    format!(
        "# Accept only the {name} enclave this shield carries, and accept quotes from\n\
         # this machine's *simulated* quoting enclave (no real SGX here).\n\
         mrenclave = [{value}]\n\
         allow_debug = false\n\
         allow_simulation = true\n"
    )
}
