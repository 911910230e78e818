//! The host and enclave runtimes against a real (simulated) enclave: each
//! test is one promise of the runtime issue.

use std::path::Path;
use std::sync::Arc;

use runtime_tests::bridge::{EcallProxy, pair};
use runtime_tests::{builder, enclave_binary, launch_with};
use shield_edl::wire::{BridgeError, Limits};
use shield_host::{Enclave, Error, LaunchMode, LostReason};
use shield_sgx::config::EnclaveConfig;
use shield_sgx::shield_layout::layout;
use shield_sgx::sigstruct::{SigningKey, SigstructFields};

fn launch(state: &Path) -> (Arc<Enclave>, Arc<runtime_tests::TestHost>) {
    launch_with(builder(state)).expect("launching the test enclave")
}

fn proxy(enclave: &Enclave) -> EcallProxy<'_> {
    EcallProxy::new(enclave, Limits::default())
}

#[test]
fn an_ecall_with_every_argument_kind() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launch(state.path());
    let input = [1u8, 2, 3, 4, 5];
    let mut output = [0u8; 8];
    let mut inout = [10, -20, 30];
    let pairs = [pair { a: 7, b: 100 }, pair { a: -3, b: 11 }];
    let mut single = pair { a: 0, b: 0 };
    let sum = proxy(&enclave)
        .ecall_args(
            -1,
            -2,
            3,
            4,
            5,
            6,
            1.5,
            2.5,
            7,
            &input,
            &mut output,
            &mut inout,
            "héllo",
            &pairs,
            &[1, 2, 3, 4],
            &mut single,
        )
        .unwrap();
    let scalars: i64 = [-1, -2, 3, 4, 5, 6].iter().sum();
    let floats_and_size = (1.5 + 2.5) as i64 + 7;
    let buffers = input.iter().map(|&b| i64::from(b)).sum::<i64>() + "héllo".len() as i64;
    let pair_fields = 7 - 3;
    let fixed = 1 + 2 + 3 + 4;
    let expected = scalars + floats_and_size + buffers + pair_fields + fixed;
    assert_eq!(sum, expected);
    assert_eq!(output, [5, 4, 3, 2, 1, 0xee, 0xee, 0xee]);
    assert_eq!(inout, [20, -40, 60]);
    assert_eq!((single.a, single.b), (2, 111));
}

#[test]
fn an_ocall_and_a_large_round_trip() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launch(state.path());
    assert_eq!(proxy(&enclave).ecall_with_ocall(41).unwrap(), 42);
    assert_eq!(proxy(&enclave).ecall_ocall_current_tcs(41).unwrap(), 42);
    let input: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let mut output = vec![0u8; input.len()];
    proxy(&enclave).ecall_bytes(&input, &mut output).unwrap();
    assert_eq!(input, output);
}

#[test]
fn nested_ecalls_follow_the_allow_list() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launch(state.path());
    // ocall_call_back has allow(ecall_private): the nested call runs.
    assert_eq!(proxy(&enclave).ecall_nested(4).unwrap(), 40);
    // ocall_try_private has no allow list: the enclave refuses it, the
    // host's OCALL sees the error (and returns -2), the enclave carries on.
    assert_eq!(proxy(&enclave).ecall_refused_nested(4).unwrap(), -2);
    // A private ECALL called from the top level is refused too.
    let err = enclave
        .ecall(
            runtime_tests::bridge::ecall_index::ecall_private,
            &4i32.to_le_bytes(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::EcallFailed { .. }), "{err}");
    assert!(err.to_string().contains("not allowed"), "{err}");
    assert_eq!(proxy(&enclave).ecall_with_ocall(1).unwrap(), 2);
}

#[test]
fn more_concurrent_ecalls_than_tcs_is_out_of_tcs() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launch(state.path()); // tcs_count = 2
    let blockers: Vec<_> = (0..2)
        .map(|_| {
            let enclave = enclave.clone();
            std::thread::spawn(move || proxy(&enclave).ecall_block().unwrap())
        })
        .collect();
    // Both TCSs are taken once both ECALLs wait inside their OCALL.
    host.gate.wait_entered(2);
    let refused = proxy(&enclave).ecall_empty().unwrap_err();
    host.gate.open();
    for blocker in blockers {
        blocker.join().unwrap();
    }
    assert!(
        refused.to_string().contains("all 2 TCSs are busy"),
        "{refused}"
    );
    proxy(&enclave).ecall_empty().unwrap();
}

#[test]
fn waiting_for_a_tcs_instead_of_failing() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launch_with(builder(state.path()).wait_for_tcs(true)).unwrap();
    let blockers: Vec<_> = (0..2)
        .map(|_| {
            let enclave = enclave.clone();
            std::thread::spawn(move || proxy(&enclave).ecall_block().unwrap())
        })
        .collect();
    host.gate.wait_entered(2);
    let opener = {
        let host = host.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            host.gate.open();
        })
    };
    proxy(&enclave).ecall_empty().unwrap();
    opener.join().unwrap();
    for blocker in blockers {
        blocker.join().unwrap();
    }
}

fn assert_lost(enclave: &Enclave, result: Result<(), BridgeError>, expected: &str) {
    // The proxy keeps the loss typed: the host can match it and relaunch.
    let err = result.unwrap_err();
    assert!(matches!(err, BridgeError::EnclaveLost(_)), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains(expected),
        "{err:?} should contain {expected:?}"
    );
    // Every later call fails the same way; the host is fine.
    let later = enclave
        .ecall(runtime_tests::bridge::ecall_index::ecall_empty, &[])
        .unwrap_err();
    assert!(matches!(later, Error::EnclaveLost(_)), "{later}");
    assert!(later.to_string().contains(expected), "{later}");
}

#[test]
fn opening_a_file_inside_is_a_named_forbidden_syscall() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launch(state.path());
    assert_lost(
        &enclave,
        proxy(&enclave).ecall_open_file(),
        "enclave made system call 257 (openat): not available inside an enclave; declare an OCALL",
    );
    assert!(matches!(
        enclave.lost(),
        Some(LostReason::ForbiddenSyscall { number: 257, .. })
    ));
}

#[test]
fn a_panic_is_an_error_and_the_enclave_stays_usable() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launch(state.path());
    let err = proxy(&enclave).ecall_panic().unwrap_err();
    // Typed: "this call failed", not "the enclave is lost".
    let BridgeError::EcallFailed { index, reason } = &err else {
        panic!("expected EcallFailed, got {err:?}");
    };
    assert_eq!(*index, runtime_tests::bridge::ecall_index::ecall_panic);
    assert!(
        reason.contains("deliberate panic inside an ECALL"),
        "{reason}"
    );
    assert_eq!(proxy(&enclave).ecall_with_ocall(1).unwrap(), 2);
    assert!(enclave.lost().is_none());
}

#[test]
fn abort_and_out_of_memory_lose_the_enclave_not_the_host() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launch(state.path());
    assert_lost(&enclave, proxy(&enclave).ecall_abort(), "abort()");

    let (enclave, _) = launch(state.path());
    assert_lost(&enclave, proxy(&enclave).ecall_oom(), "out of memory");
    assert!(matches!(
        enclave.lost(),
        Some(LostReason::OutOfMemory { .. })
    ));
}

#[test]
fn a_killed_enclave_is_lost_for_pending_and_later_calls() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, host) = launch(state.path());
    let pending = {
        let enclave = enclave.clone();
        std::thread::spawn(move || {
            enclave.ecall(runtime_tests::bridge::ecall_index::ecall_block, &[])
        })
    };
    host.gate.wait_entered(1);
    let pid = enclave.process_id().to_string();
    std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap();
    host.gate.open();
    let err = pending.join().unwrap().unwrap_err();
    assert!(
        matches!(err, Error::EnclaveLost(LostReason::Signal(9))),
        "{err}"
    );
    // Through a generated proxy the reason is the same value.
    assert_eq!(
        proxy(&enclave).ecall_empty(),
        Err(BridgeError::EnclaveLost(LostReason::Signal(9)))
    );
    assert!(matches!(
        enclave.ecall(runtime_tests::bridge::ecall_index::ecall_empty, &[]),
        Err(Error::EnclaveLost(LostReason::Signal(9)))
    ));
}

/// A copy of the test enclave in `dir`, signed for `config` by `key`.
fn signed_copy(
    dir: &Path,
    config: &EnclaveConfig,
    key: &SigningKey,
    binary: &[u8],
) -> std::path::PathBuf {
    let path = dir.join("enclave");
    std::fs::write(&path, binary).unwrap();
    let mrenclave = layout(binary, config).unwrap().measure().unwrap();
    let mut sigstruct = SigstructFields::for_config(mrenclave, config, 0x2026_0101).to_unsigned();
    key.sign(&mut sigstruct).unwrap();
    std::fs::write(dir.join("enclave.sig"), sigstruct.as_ref()).unwrap();
    let toml = format!(
        "heap_max = {}\nstack_size = {}\ntcs_count = {}\nisv_prod_id = {}\nisv_svn = {}\ndebug = {}\n",
        config.heap_max,
        config.stack_size,
        config.tcs_count,
        config.isv_prod_id,
        config.isv_svn,
        config.debug
    );
    std::fs::write(dir.join("enclave.toml"), toml).unwrap();
    path
}

/// The examples' development key (committed, public: for tests only).
fn dev_key() -> SigningKey {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../examples/hello-enclave/dev-signing-key.pem"
    );
    SigningKey::from_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn test_config() -> EnclaveConfig {
    let text = std::fs::read_to_string(format!("{}.toml", enclave_binary().display())).unwrap();
    EnclaveConfig::from_toml(&text).unwrap()
}

#[test]
fn tampering_and_wrong_modes_are_refused_before_launch() {
    let dir = tempfile::tempdir().unwrap();
    let binary = std::fs::read(enclave_binary()).unwrap();
    let key = dev_key();
    let launch_refused = |path: &Path, mode: LaunchMode| {
        let builder = shield_host::EnclaveBuilder::new(path)
            .mode(mode)
            .platform_secret(dir.path().join("p.secret"));
        match launch_with(builder) {
            Err(Error::Refused(reason)) => reason,
            Err(Error::Sgx(e)) => e.to_string(),
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
    };

    // A tampered binary: one byte changed after signing.
    let path = signed_copy(dir.path(), &test_config(), &key, &binary);
    let mut tampered = binary.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    std::fs::write(&path, &tampered).unwrap();
    assert!(
        launch_refused(&path, LaunchMode::Production)
            .contains("does not match the measured MRENCLAVE")
    );

    // A wrong signature: one byte of the SIGSTRUCT's signed region changed.
    let path = signed_copy(dir.path(), &test_config(), &key, &binary);
    let mut sig = std::fs::read(dir.path().join("enclave.sig")).unwrap();
    sig[1000] ^= 1;
    std::fs::write(dir.path().join("enclave.sig"), sig).unwrap();
    assert!(launch_refused(&path, LaunchMode::Production).contains("signature is invalid"));

    // A debug enclave in production mode, and a production one as debug.
    let debug = EnclaveConfig {
        debug: true,
        ..test_config()
    };
    let path = signed_copy(dir.path(), &debug, &key, &binary);
    assert!(
        launch_refused(&path, LaunchMode::Production)
            .contains("debug enclave cannot be launched in production")
    );
    let path = signed_copy(dir.path(), &test_config(), &key, &binary);
    assert!(launch_refused(&path, LaunchMode::Debug).contains("attributes"));
    // The untampered copy launches.
    launch_with(
        shield_host::EnclaveBuilder::new(&path).platform_secret(dir.path().join("p.secret")),
    )
    .unwrap();
}

#[test]
fn seal_keys_of_two_enclaves_differ_and_are_stable() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, _) = launch(dir.path());
    let mut first = [0u8; 16];
    proxy(&enclave).ecall_seal_key(&mut first).unwrap();
    let mut again = [0u8; 16];
    proxy(&enclave).ecall_seal_key(&mut again).unwrap();
    assert_eq!(first, again);
    assert_ne!(first, [0; 16]);

    // Same binary, another layout: another MRENCLAVE, another seal key.
    let other_dir = tempfile::tempdir().unwrap();
    let other = EnclaveConfig {
        heap_max: 8 << 20,
        ..test_config()
    };
    let binary = std::fs::read(enclave_binary()).unwrap();
    let path = signed_copy(other_dir.path(), &other, &dev_key(), &binary);
    let (other_enclave, _) = launch_with(
        shield_host::EnclaveBuilder::new(path).platform_secret(dir.path().join("platform.secret")),
    )
    .unwrap();
    assert_ne!(
        other_enclave.identity().mrenclave,
        enclave.identity().mrenclave
    );
    let mut second = [0u8; 16];
    proxy(&other_enclave).ecall_seal_key(&mut second).unwrap();
    assert_ne!(first, second);
}

#[test]
fn the_enclave_process_inherits_nothing() {
    let state = tempfile::tempdir().unwrap();
    let (enclave, _) = launch(state.path());
    let pid = enclave.process_id().to_string();
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut fds: Vec<u32> = fds.iter().map(|f| f.parse().unwrap()).collect();
    fds.sort();
    // stdin/out/err (/dev/null), the control block, two TCS channels.
    assert_eq!(fds, [0, 1, 2, 3, 4, 5]);
    for fd in 0..3 {
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap(),
            Path::new("/dev/null")
        );
    }
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(environ.is_empty(), "environment was not cleared");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Seccomp:") && l.ends_with('2')),
        "no seccomp filter"
    );
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("NoNewPrivs:") && l.ends_with('1'))
    );
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(fields[3], pid, "the enclave leads its own session");
    assert_eq!(fields[4], "0", "no controlling terminal");
}
