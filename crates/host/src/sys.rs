//! The host runtime's only `unsafe` code: the child-side set-up between
//! fork and exec, which must be async-signal-safe.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use rustix::fs::{MemfdFlags, SealFlags};

/// Descriptors the enclave receives start here (0–2 are /dev/null).
pub(crate) const FIRST_FD: i32 = 3;
/// Sources are moved above every target first, so no `dup2` clobbers a
/// source that a later `dup2` still needs.
const STAGING_FD: i32 = 1024;

/// A sealed, close-on-exec memfd holding `binary`: the launcher executes
/// exactly the bytes that were measured, whatever happens to the file.
pub(crate) fn sealed_executable(binary: &[u8]) -> io::Result<OwnedFd> {
    let fd = rustix::fs::memfd_create(
        "shield-enclave",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut file = std::fs::File::from(fd);
    io::Write::write_all(&mut file, binary)?;
    let fd = OwnedFd::from(file);
    rustix::fs::fcntl_add_seals(
        &fd,
        SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
    )?;
    Ok(fd)
}

/// Starts `executable` with `passed[i]` as descriptor `FIRST_FD + i` and
/// nothing else open past stderr, an empty environment, /dev/null for the
/// standard streams, and a session of its own (no controlling terminal).
pub(crate) fn spawn(
    executable: BorrowedFd<'_>,
    passed: &[BorrowedFd<'_>],
    args: &[String],
) -> io::Result<Child> {
    let exe = rustix::io::fcntl_dupfd_cloexec(executable, STAGING_FD)?;
    let staged: Vec<OwnedFd> = passed
        .iter()
        .map(|fd| rustix::io::fcntl_dupfd_cloexec(fd.as_fd(), STAGING_FD).map_err(io::Error::from))
        .collect::<io::Result<_>>()?;
    let sources: Vec<i32> = staged.iter().map(|fd| fd.as_raw_fd()).collect();
    let first_unpassed = FIRST_FD as u32 + sources.len() as u32;

    let mut command = Command::new(format!("/proc/self/fd/{}", exe.as_raw_fd()));
    command
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: runs in the child between fork and exec: only async-signal-safe calls (dup2,
    // close_range, setsid) on integers captured by copy, no allocation; `sources` stay open
    // in the parent until `spawn` returns (owned by `staged`).
    unsafe {
        command.pre_exec(move || {
            for (i, &source) in sources.iter().enumerate() {
                if libc::dup2(source, FIRST_FD + i as i32) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // Everything else is closed at exec (close-on-exec rather than
            // closed now: the executable itself is one of them).
            if libc::syscall(
                libc::SYS_close_range,
                first_unpassed,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            ) < 0
            {
                return Err(io::Error::last_os_error());
            }
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn();
    drop(staged);
    drop(exe);
    child
}
