//! The seccomp sandbox: the system calls an SGX enclave could effectively
//! make, and nothing else.
//!
//! Allowed: memory management (the allocator), futex (channels, locks),
//! clock reads and getrandom (hardware gives an enclave RDTSC and RDRAND),
//! sched_yield and sched_getaffinity (the allocator sizes its arenas by the
//! CPU count), getppid (to notice the host is gone), the calls `abort()` makes to signal its own process, signal
//! return, and exit. Everything else traps to the SIGSYS handler, which
//! reports the call to the host and ends the enclave.

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

/// Installs the filter on every thread of the process (TSYNC): the TCS
/// workers were started before it. Also makes the process non-dumpable.
pub(crate) fn install() -> Result<(), String> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(|e| format!("PR_SET_DUMPABLE: {e}"))?;
    let program = filter()?;
    // seccompiler sets no-new-privileges before loading the filter.
    seccompiler::apply_filter_all_threads(&program)
        .map_err(|e| format!("loading the seccomp filter: {e}"))
}

fn filter() -> Result<BpfProgram, String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        ALLOWED.iter().map(|&nr| (nr, Vec::new())).collect();
    // abort() signals its own process only.
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
    #[test]
    fn the_filter_compiles() {
        assert!(!super::filter().unwrap().is_empty());
    }
}
