//! An interrupted command leaves nothing behind. Temporary files and
//! directories, and the enclaves this process launches, are registered
//! here while they exist. On SIGINT, SIGTERM or SIGHUP a watcher thread
//! stops those enclaves, removes those files, then lets the signal end the
//! process as it would have without us.
//!
//! The registry's lock is held while a temporary is created, persisted or
//! removed, and by the watcher until the process ends: a temporary is
//! either registered when the watcher cleans up, or never created.
//!
//! A [`Deadline`] (`--timeout`) ends a run the same way when it takes too
//! long, with exit status 3.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::{Context, Result, bail};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// What must not outlive an interrupted command.
struct Pending {
    paths: Vec<PathBuf>,
    enclaves: Vec<u32>,
    /// Set when the run a [`Deadline`] watches has ended in time.
    run_over: bool,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    paths: Vec::new(),
    enclaves: Vec::new(),
    run_over: false,
});

fn pending() -> MutexGuard<'static, Pending> {
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pending {
    fn forget_path(&mut self, path: &Path) {
        self.paths.retain(|p| p != path);
    }

    /// Stops the enclaves (a script may be spinning in one: it would not
    /// notice we are gone), then removes the temporaries.
    fn clean(&mut self) {
        for pid in self.enclaves.drain(..) {
            // The pid is a child not yet reaped (reaping unregisters it
            // first), so it cannot have been reused.
            if let Some(pid) = i32::try_from(pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        for path in self.paths.drain(..) {
            let _ = match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path),
                _ => std::fs::remove_file(&path),
            };
        }
    }
}

/// Starts the watcher thread. Call once, first thing.
pub(crate) fn install() -> Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("installing the signal handlers")?;
    std::thread::Builder::new()
        .name("interrupt".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held until the process ends: nothing new gets created.
                let mut pending = pending();
                pending.clean();
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        })
        .context("starting the signal watcher")?;
    Ok(())
}

/// A wall-clock limit on one run, kept by the host. The engines' limits
/// count instructions, memory and output, not time, and one library call
/// can take long for one instruction (a regular expression that backtracks
/// exponentially, a comparison of two huge strings in a loop): past the
/// limit the host stops the enclave (or, in process, the engine), removes
/// what the command made, says so on stderr and exits with status 3. The
/// run leaves no result. Dropping the deadline, as soon as the run is over,
/// disarms it; the clock is the host's, which could stop a run anyway.
#[derive(Debug)]
pub(crate) struct Deadline(Option<std::sync::mpsc::Sender<()>>);

impl Deadline {
    /// Starts the clock; `None` is no limit.
    pub(crate) fn arm(limit: Option<std::time::Duration>) -> Result<Self> {
        use std::sync::mpsc::{RecvTimeoutError, channel};
        let Some(limit) = limit else {
            return Ok(Self(None));
        };
        let (armed, wait) = channel::<()>();
        pending().run_over = false;
        std::thread::Builder::new()
            .name("deadline".into())
            .spawn(move || {
                if wait.recv_timeout(limit) != Err(RecvTimeoutError::Timeout) {
                    return;
                }
                // Held until the process ends, as on a signal.
                let mut pending = pending();
                if pending.run_over {
                    return;
                }
                eprintln!(
                    "shield: time limit of {limit:?} reached: the host stopped the run; \
                     nothing of it was kept"
                );
                pending.clean();
                std::process::exit(3);
            })
            .context("starting the deadline's watcher")?;
        Ok(Self(Some(armed)))
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if self.0.take().is_some() {
            pending().run_over = true;
        }
    }
}

/// Keeps an enclave process registered (by its pid) while it lives; drop
/// it before the enclave, whose drop reaps the process.
#[derive(Debug)]
pub(crate) struct EnclaveGuard(u32);

impl EnclaveGuard {
    pub(crate) fn new(pid: u32) -> Self {
        pending().enclaves.push(pid);
        Self(pid)
    }
}

impl Drop for EnclaveGuard {
    fn drop(&mut self) {
        pending().enclaves.retain(|&p| p != self.0);
    }
}

/// Where a temporary that becomes `dest` (a `what`) is made, and its name's
/// prefix: `.NAME.`, recognisable, and short enough that the temporary's
/// name is valid.
fn staging<'a>(dest: &'a Path, what: &str) -> Result<(&'a Path, String)> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(name) = dest.file_name() else {
        bail!("{} does not name a {what}", dest.display());
    };
    let stem: String = name.to_string_lossy().chars().take(64).collect();
    Ok((dir, format!(".{stem}.")))
}

/// A new file beside `dest`, made exclusively under a random name
/// (`.NAME.XXXXXX.partial`), removed unless persisted, also on a signal.
#[derive(Debug)]
pub(crate) struct TempFile(Option<tempfile::NamedTempFile>);

impl TempFile {
    pub(crate) fn beside(dest: &Path) -> Result<Self> {
        let (dir, prefix) = staging(dest, "file")?;
        let mut pending = pending();
        let file = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".partial")
            .tempfile_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        pending.paths.push(file.path().to_owned());
        Ok(Self(Some(file)))
    }

    pub(crate) fn as_file(&self) -> &File {
        self.0.as_ref().expect("present until persisted").as_file()
    }

    /// Moves the file to `dest`, replacing a file there only if `replace`
    /// (without it, the move fails if anything is there).
    pub(crate) fn persist(mut self, dest: &Path, replace: bool) -> Result<()> {
        let file = self.0.take().expect("present until persisted");
        let mut pending = pending();
        pending.forget_path(file.path());
        let moved = if replace {
            file.persist(dest)
        } else {
            file.persist_noclobber(dest)
        };
        // On failure the temporary is removed as `moved` drops.
        moved
            .map(|_file| ())
            .map_err(|e| e.error)
            .with_context(|| format!("writing {}", dest.display()))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(file) = self.0.take() {
            let mut pending = pending();
            pending.forget_path(file.path());
            drop(file);
        }
    }
}

/// A new directory in `dir` with a random name, removed with its contents
/// when dropped, also on a signal.
#[derive(Debug)]
pub(crate) struct TempDir(Option<tempfile::TempDir>);

impl TempDir {
    pub(crate) fn new_in(dir: &Path, prefix: &str) -> Result<Self> {
        let mut pending = pending();
        let made = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(dir)
            .with_context(|| format!("creating a temporary directory in {}", dir.display()))?;
        pending.paths.push(made.path().to_owned());
        Ok(Self(Some(made)))
    }

    /// A new directory beside `dest`, to be filled and then moved there
    /// whole: nobody sees a half-made `dest`. Its mode is a new directory's
    /// (umask applies), not a temporary's 0700.
    pub(crate) fn beside(dest: &Path) -> Result<Self> {
        let (dir, prefix) = staging(dest, "directory")?;
        let mut pending = pending();
        let made = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".partial")
            .permissions(std::fs::Permissions::from_mode(0o777))
            .tempdir_in(dir)
            .with_context(|| format!("creating a temporary directory in {}", dir.display()))?;
        pending.paths.push(made.path().to_owned());
        Ok(Self(Some(made)))
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.as_ref().expect("present until dropped").path()
    }

    /// Moves the directory to `dest`, which must not exist (checked by the
    /// rename itself, so no race can replace a directory made meanwhile).
    pub(crate) fn persist(mut self, dest: &Path) -> Result<()> {
        let dir = self.0.take().expect("present until dropped");
        // Held until the end: the watcher cleans up before or after, never
        // in between.
        let mut pending = pending();
        pending.forget_path(dir.path());
        let moved = rustix::fs::renameat_with(
            rustix::fs::CWD,
            dir.path(),
            rustix::fs::CWD,
            dest,
            rustix::fs::RenameFlags::NOREPLACE,
        );
        match moved {
            Ok(()) => {
                // Gone from its temporary name: nothing is left to remove.
                let _ = dir.keep();
                Ok(())
            }
            Err(e) => {
                drop(dir);
                Err(std::io::Error::from(e)).with_context(|| format!("creating {}", dest.display()))
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let mut pending = pending();
            pending.forget_path(dir.path());
            drop(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_staged_directory_never_replaces_one_made_meanwhile() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("project");
        let staged = TempDir::beside(&dest).unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        // Someone makes `dest` (empty: rename(2) alone would replace it).
        std::fs::create_dir(&dest).unwrap();
        let err = staged.persist(&dest).unwrap_err();
        assert!(format!("{err:#}").contains("File exists"), "{err:#}");
        assert_eq!(names(root.path()), ["project"]);
        assert!(names(&dest).is_empty());
        assert!(!pending().paths.iter().any(|p| p.starts_with(root.path())));
    }

    #[test]
    fn a_staged_directory_moves_whole_with_a_new_directorys_mode() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("project");
        let staged = TempDir::beside(&dest).unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        staged.persist(&dest).unwrap();
        assert_eq!(names(root.path()), ["project"]);
        assert_eq!(names(&dest), ["new.txt"]);
        let plain = root.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&dest), mode(&plain));
    }
}
