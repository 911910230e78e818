//! The seccomp sandbox: the system calls an SGX enclave could effectively
//! make, and nothing else.
//!
//! Allowed: memory management (the allocator), futex (channels, locks),
//! clock reads and getrandom (hardware gives an enclave RDTSC and RDRAND),
//! sched_yield and sched_getaffinity (the allocator sizes its arenas by the
//! CPU count), getppid (to notice the host is gone), the calls `abort()` makes to signal its own process, signal
//! return, and exit. Everything else traps to the SIGSYS handler, which
//! reports the call to the host and ends the enclave.
//!
//! One opt-in exception, [`Sandbox::file_system_unsupported`]: file-system
//! queries fail with `ENOSYS` instead, the way `std::fs` fails on an SGX
//! Rust target. For libraries that probe the file system while they start
//! and carry on when it is absent (RustPython looks for a standard library
//! folder and the local time zone). The filter decides from the call number
//! alone: the host's file system is never read, nothing from it reaches the
//! enclave.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

// The filter is compiled for x86-64 (`TargetArch::x86_64`, x86-64 system
// call numbers): on another architecture it would check the wrong calls.
#[cfg(not(target_arch = "x86_64"))]
compile_error!("the seccomp sandbox targets x86-64 only; add this architecture's TargetArch");

/// System calls allowed with any arguments.
const ALLOWED: &[i64] = &[
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_mprotect,
    libc::SYS_madvise,
    libc::SYS_brk,
    libc::SYS_futex,
    libc::SYS_sched_yield,
    libc::SYS_sched_getaffinity,
    libc::SYS_clock_gettime,
    libc::SYS_gettimeofday,
    libc::SYS_getrandom,
    libc::SYS_rt_sigreturn,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigaction,
    libc::SYS_getpid,
    libc::SYS_getppid,
    libc::SYS_gettid,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// File-system queries and opens, with their names: what
/// [`Sandbox::file_system_unsupported`] answers with `ENOSYS`.
const FILE_SYSTEM: &[(i64, &str)] = &[
    (libc::SYS_open, "open"),
    (libc::SYS_openat, "openat"),
    (libc::SYS_openat2, "openat2"),
    (libc::SYS_stat, "stat"),
    (libc::SYS_lstat, "lstat"),
    (libc::SYS_newfstatat, "newfstatat"),
    (libc::SYS_statx, "statx"),
    (libc::SYS_access, "access"),
    (libc::SYS_faccessat, "faccessat"),
    (libc::SYS_faccessat2, "faccessat2"),
    (libc::SYS_readlink, "readlink"),
    (libc::SYS_readlinkat, "readlinkat"),
    (libc::SYS_getcwd, "getcwd"),
];

/// How the sandbox treats system calls outside the allow-list. Compiled
/// into the enclave (so measured), never taken from the host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sandbox {
    file_system_unsupported: bool,
}

impl Sandbox {
    /// Every call outside the allow-list ends the enclave.
    pub const fn strict() -> Self {
        Sandbox {
            file_system_unsupported: false,
        }
    }

    /// File-system queries and opens (`open*`, `stat*`, `access`,
    /// `readlink*`, `getcwd`) fail with `ENOSYS` instead of ending the
    /// enclave; everything else stays as [`Sandbox::strict`]. Only for code
    /// that probes the file system and copes with its absence.
    pub const fn file_system_unsupported(self) -> Self {
        Sandbox {
            file_system_unsupported: true,
        }
    }

    /// The names of the calls this sandbox answers with `ENOSYS` (none
    /// when strict), as `strace` prints them.
    pub fn unsupported_call_names(self) -> Vec<&'static str> {
        if !self.file_system_unsupported {
            return Vec::new();
        }
        FILE_SYSTEM.iter().map(|&(_, name)| name).collect()
    }

    /// Loads this sandbox's filters on the calling thread only, for good:
    /// a calling thread outside the allow-list ends the process with
    /// SIGSYS, as it would end an enclave whose SIGSYS handler is not
    /// installed. For tests that run an engine under exactly the filters
    /// an enclave loads (an enclave itself loads them on every thread at
    /// start-up).
    pub fn apply_to_this_thread(self) -> Result<(), String> {
        for program in filters(self)? {
            seccompiler::apply_filter(&program)
                .map_err(|e| format!("loading the seccomp filter: {e}"))?;
        }
        Ok(())
    }
}

/// Installs the filters on every thread of the process (TSYNC): the TCS
/// workers were started before them. Also makes the process non-dumpable.
pub(crate) fn install(sandbox: Sandbox) -> Result<(), String> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(|e| format!("PR_SET_DUMPABLE: {e}"))?;
    // seccompiler sets no-new-privileges before loading a filter.
    for program in filters(sandbox)? {
        seccompiler::apply_filter_all_threads(&program)
            .map_err(|e| format!("loading the seccomp filter: {e}"))?;
    }
    Ok(())
}

/// The programs to load. The kernel runs every loaded filter and keeps the
/// strictest answer (TRAP over ERRNO over ALLOW), so the file-system calls
/// pass the allow-list and the other filter answers them with ENOSYS.
fn filters(sandbox: Sandbox) -> Result<Vec<BpfProgram>, String> {
    if !sandbox.file_system_unsupported {
        return Ok(vec![allow_list(ALLOWED)?]);
    }
    let allowed: Vec<i64> = ALLOWED
        .iter()
        .copied()
        .chain(FILE_SYSTEM.iter().map(|&(nr, _)| nr))
        .collect();
    let unsupported = SeccompFilter::new(
        FILE_SYSTEM
            .iter()
            .map(|&(nr, _)| (nr, Vec::new()))
            .collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        TargetArch::x86_64,
    )
    .map_err(|e| e.to_string())?;
    // The allow-list goes on last: once it is on, loading another filter
    // (prctl, seccomp) is refused.
    Ok(vec![
        BpfProgram::try_from(unsupported).map_err(|e| e.to_string())?,
        allow_list(&allowed)?,
    ])
}

/// `allowed` and `abort()`'s signal to this process pass; anything else
/// traps.
fn allow_list(allowed: &[i64]) -> Result<BpfProgram, String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        allowed.iter().map(|&nr| (nr, Vec::new())).collect();
    let own_pid = u64::from(std::process::id());
    let to_self = SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, own_pid)
        .and_then(|c| SeccompRule::new(vec![c]))
        .map_err(|e| e.to_string())?;
    rules.insert(libc::SYS_tgkill, vec![to_self]);
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Trap,
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| e.to_string())?;
    BpfProgram::try_from(filter).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::Sandbox;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;

    /// Set in the child process the tests below start: the sandbox to
    /// load before probing.
    const CHILD: &str = "SHIELD_SANDBOX_TEST_CHILD";

    #[test]
    fn the_filters_compile() {
        assert_eq!(super::filters(Sandbox::strict()).unwrap().len(), 1);
        let two = super::filters(Sandbox::strict().file_system_unsupported()).unwrap();
        assert_eq!(two.len(), 2);
        assert!(two.iter().all(|p| !p.is_empty()));
        assert!(Sandbox::strict().unsupported_call_names().is_empty());
        let names = Sandbox::strict()
            .file_system_unsupported()
            .unsupported_call_names();
        assert!(names.contains(&"openat") && names.contains(&"getcwd"));
    }

    /// Runs [`probe_in_a_sandbox`] in a child process with `mode`.
    fn child(mode: &str) -> std::process::ExitStatus {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sandbox::tests::probe_in_a_sandbox",
                "--nocapture",
            ])
            .args(["--test-threads", "1"])
            .env(CHILD, mode)
            .output()
            .unwrap()
            .status
    }

    /// In the child: loads the sandbox on this thread and probes it. It
    /// answers through how it ends: `abort()` (SIGABRT, whose calls the
    /// sandbox allows) when every probe behaved; write(2), and the thread
    /// teardown `exit()` runs, are refused.
    #[test]
    fn probe_in_a_sandbox() {
        let Ok(mode) = std::env::var(CHILD) else {
            return;
        };
        let sandbox = match mode.as_str() {
            "strict" => Sandbox::strict(),
            _ => Sandbox::strict().file_system_unsupported(),
        };
        sandbox.apply_to_this_thread().unwrap();
        let enosys = |e: std::io::Error| e.raw_os_error() == Some(libc::ENOSYS);
        let open = std::fs::File::open("/etc/hostname")
            .map(drop)
            .map_err(enosys);
        let cwd = std::env::current_dir().map(drop).map_err(enosys);
        let stat = std::fs::metadata("/").map(drop).map_err(enosys);
        if [open, cwd, stat].iter().all(|r| *r == Err(true)) {
            if mode == "unsupported-then-socket" {
                // Not a file-system call: still the end.
                let _ = std::net::UdpSocket::bind("127.0.0.1:0");
            }
            std::process::abort();
        }
        std::process::exit(1);
    }

    #[test]
    fn file_system_calls_fail_with_enosys_only_when_asked() {
        // Strict: the first probe traps (no handler in the child: SIGSYS).
        assert_eq!(child("strict").signal(), Some(libc::SIGSYS));
        assert_eq!(child("unsupported").signal(), Some(libc::SIGABRT));
        assert_eq!(
            child("unsupported-then-socket").signal(),
            Some(libc::SIGSYS)
        );
    }
}
