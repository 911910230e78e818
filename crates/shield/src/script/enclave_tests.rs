//! The script enclaves as a host program other than `shield` drives them:
//! several runs on one enclave, and the ECALLs each build answers.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use shield_bundle::Language;
use shield_edl::wire::Limits;
use shield_host::{Enclave, LaunchMode};

use super::bridge::EcallProxy;
use super::host::ScriptHost;
use super::image;
use super::test_support::{HOST, Keys, bundle_host, bundle_len, launch};

/// Runs `bundle` on `enclave` from this thread, the result in `work`;
/// returns the ECALL's status and the result's bytes.
fn run_on(enclave: &Enclave, keys: &Keys, bundle: &Path, work: &Path) -> (i32, Vec<u8>) {
    let (host, result) = bundle_host(bundle, work);
    HOST.with(|h| *h.borrow_mut() = Some(Arc::new(host)));
    let (mut msg, mut msg_len) = ([0u8; 1024], 0u64);
    let status = EcallProxy::new(enclave, Limits::default())
        .ecall_run_bundle(
            &keys.sealed,
            bundle_len(bundle),
            b"",
            &mut msg,
            &mut msg_len,
        )
        .unwrap();
    (status, std::fs::read(&result).unwrap())
}

/// Opens `result` as `keys`' owner: its exit status, error and stdout.
fn opened(keys: &Keys, result: &[u8]) -> (i32, String, Vec<u8>) {
    let opened = shield_bundle::open_result(result, &keys.owner, 1 << 30).unwrap();
    let r = opened.result;
    (r.exit_status, r.error.unwrap_or_default(), r.stdout)
}

#[test]
fn runs_made_at_once_take_turns_each_under_its_own_budget() {
    let keys = Keys::new();
    // Coroutines, which omnilua (the Lua engine before the VM) undercounted
    // tenfold, so that only the allocator's budget for this run stopped
    // them before the heap ran out. A run that ended beside it must not
    // take that budget away.
    let coroutines = keys.bundle(
        "coroutines",
        &[(
            "main.lua",
            "local t = {} for i = 1, 800000 do \
             local co = coroutine.create(function() coroutine.yield() end) \
             coroutine.resume(co) t[i] = co end",
        )],
    );
    // Most of the memory limit held, then a string doubled: several times
    // the limit at the peak, between two limit checks.
    let doubling = keys.bundle(
        "doubling",
        &[(
            "main.lua",
            "local t = {} for i = 1, 100 do t[i] = ('x'):rep(1 << 20) .. i end \
             local s = 'x' while true do s = s .. s end",
        )],
    );
    let honest = keys.bundle("honest", &[("main.lua", "print('still here')")]);
    let enclave = launch(&keys.binary, LaunchMode::Production).unwrap();
    std::thread::scope(|scope| {
        let bombs = scope.spawn(|| {
            [&coroutines, &doubling, &coroutines].map(|bundle| {
                let (status, result) = run_on(&enclave, &keys, bundle, &keys.workdir("bomb"));
                assert_eq!(status, 0, "a limited run wrote no result");
                opened(&keys, &result)
            })
        });
        for i in 0..6 {
            let (status, result) =
                run_on(&enclave, &keys, &honest, &keys.workdir(&format!("h{i}")));
            assert_eq!(status, 0, "an honest run wrote no result");
            assert_eq!(opened(&keys, &result).2, b"still here\n");
        }
        for (status, error, _) in bombs.join().unwrap() {
            assert_eq!(status, 3);
            assert!(error.contains("memory limit"), "{error}");
        }
    });
    assert!(enclave.lost().is_none(), "{:?}", enclave.lost());
}

/// Calls `ecall_exec` on `enclave` for `dir/main.lua`; its status and message.
fn exec_on(enclave: &Enclave, dir: &Path) -> (i32, String) {
    let host = ScriptHost {
        dev_root: Some(dir.to_owned()),
        started: Some(Instant::now()),
        ..ScriptHost::default()
    };
    HOST.with(|h| *h.borrow_mut() = Some(Arc::new(host)));
    let (mut msg, mut msg_len) = ([0u8; 1024], 0u64);
    let status = EcallProxy::new(enclave, Limits::default())
        .ecall_exec("main.lua", b"", b"", 0, 0, 0, &mut msg, &mut msg_len)
        .unwrap();
    let len = usize::try_from(msg_len).unwrap().min(msg.len());
    (status, String::from_utf8_lossy(&msg[..len]).into_owned())
}

#[test]
fn only_the_development_enclave_runs_plaintext_from_the_host() {
    let keys = Keys::new();
    let dir = keys.workdir("plain");
    std::fs::write(dir.join("main.lua"), "os.exit(7)").unwrap();

    let production = launch(&keys.binary, LaunchMode::Production).unwrap();
    let (status, message) = exec_on(&production, &dir);
    assert!(
        status < 0,
        "the production enclave ran plaintext (status {status})"
    );
    assert!(
        message.contains("development mode is not in this enclave"),
        "{message}"
    );

    let state = keys.dir.path().join("state");
    let dev_binary = image::development(Language::Lua).unpack(&state).unwrap();
    let development = launch(&dev_binary, LaunchMode::Debug).unwrap();
    assert_eq!(exec_on(&development, &dir).0, 7);
    // Another identity: debug, and another MRENCLAVE.
    assert_ne!(
        image::development(Language::Lua).mrenclave().unwrap(),
        image::for_language(Language::Lua).mrenclave().unwrap()
    );
    assert!(
        launch(&dev_binary, LaunchMode::Production).is_err(),
        "a DEBUG-signed enclave launched as a production one"
    );
}

#[test]
fn a_development_session_runs_many_scripts_on_one_enclave() {
    use super::test_support::DevSession;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("echo.lua"), "io.write(io.read('a'), ...)").unwrap();
    std::fs::write(dir.path().join("spin.lua"), "while true do end").unwrap();
    let session = DevSession::launch(Language::Lua);
    let limits = shield_engine::Limits {
        instructions: Some(100_000),
        ..shield_engine::Limits::default()
    };
    for i in 0..3 {
        let arg = format!("run {i}");
        let echo = session.run(
            dir.path(),
            "echo.lua",
            std::slice::from_ref(&arg),
            b"in:",
            limits,
        );
        assert_eq!(echo.status, 0, "{}", echo.message);
        assert_eq!(echo.stdout, format!("in:{arg}").as_bytes());
        let spin = session.run(dir.path(), "spin.lua", &[], b"", limits);
        assert_eq!(spin.status, 3);
        assert!(
            String::from_utf8_lossy(&spin.stderr).contains("instruction limit"),
            "{spin:?}"
        );
    }
    assert!(session.alive());
}
