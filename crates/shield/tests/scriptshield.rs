//! ScriptShield end to end through the real `shield` binary: owner keys,
//! the enclave's attested key, pack, run, open, exec — tampering,
//! identities, hostile Lua, and conformance with `lua5.4`. What every
//! language shares (the host never sees plaintext, limits) is in
//! contract.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod common;
use common::{contains, line_value, ok, script_status, stderr, stdout};

/// Keys and policy shared by the tests (making an enclave key launches an
/// enclave; once is enough).
struct Fixture {
    root: PathBuf,
    state: PathBuf,
    owner: PathBuf,
    other_owner: PathBuf,
    ak: PathBuf,
    policy: PathBuf,
    mrenclave: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scriptshield");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let f = Fixture {
            state: root.join("host-state"),
            owner: root.join("owner"),
            other_owner: root.join("other-owner"),
            ak: root.join("ak.json"),
            policy: root.join("policy.toml"),
            mrenclave: String::new(),
            root,
        };
        let mut f = f;
        for owner in [&f.owner, &f.other_owner] {
            ok(&run(
                &f.root,
                &["keygen", "-o", owner.to_str().unwrap()],
                None,
            ));
        }
        let made = run(
            &f.root,
            &["enclave-key", "--lang", "lua", "-o", "ak.json"],
            None,
        );
        ok(&made);
        f.mrenclave = line_value(&stdout(&made), "enclave MRENCLAVE ").to_owned();
        std::fs::write(
            &f.policy,
            format!(
                "mrenclave = [\"{}\"]\nallow_simulation = true\n",
                f.mrenclave
            ),
        )
        .unwrap();
        f
    })
}

/// Runs `shield args` in `dir` with the fixture's state directory.
fn run(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let state = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scriptshield/host-state");
    let mut child = Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(args)
        .current_dir(dir)
        .env("SHIELD_STATE_DIR", state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running shield");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.unwrap_or_default().to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// A directory holding `files`, under the fixture's root.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = fixture().root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// `shield pack` in `dir` with the fixture's key, owner and policy.
fn pack(dir: &Path, inputs: &[&str], extra: &[&str]) -> Output {
    pack_as(dir, &fixture().owner, inputs, extra)
}

/// `shield pack` in `dir` with the fixture's key and policy, as `owner`.
fn pack_as(dir: &Path, owner: &Path, inputs: &[&str], extra: &[&str]) -> Output {
    let f = fixture();
    let mut args = vec!["pack"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(&[
        "--to",
        f.ak.to_str().unwrap(),
        "--policy",
        f.policy.to_str().unwrap(),
        "--owner",
        owner.to_str().unwrap(),
        "-o",
        "app.shield",
    ]);
    args.extend_from_slice(extra);
    run(dir, &args, None)
}

/// `shield open` of dir/app.result as the fixture's owner.
fn open(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "open",
        "app.result",
        "--owner",
        fixture().owner.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(dir, &args, None)
}

/// `shield run app.shield -o app.result` in `dir`, then `extra`.
fn run_bundle(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", "app.shield", "-o", "app.result"];
    args.extend_from_slice(extra);
    run(dir, &args, None)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

fn inventory_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/inventory")
}

fn inventory_stdin() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/inventory.stdin"))
        .unwrap()
}

#[test]
fn a_multi_file_program_matches_lua54_in_the_enclave() {
    let Ok(reference) = Command::new("lua5.4").arg("-v").output() else {
        shield_testdata::skip("lua5.4 is not installed (.ci/run installs it with apt)");
        return;
    };
    assert!(reference.status.success());
    let stdin = inventory_stdin();
    let args = ["4", "x", "y"];

    // The reference: C Lua in a copy of the program's directory.
    let native = fixture().root.join("inventory-lua54");
    let _ = std::fs::remove_dir_all(&native);
    copy_dir(&inventory_dir(), &native);
    let mut lua = Command::new("lua5.4");
    lua.arg("main.lua").args(args).current_dir(&native);
    let expected = {
        let mut child = lua
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&stdin).unwrap();
        child.wait_with_output().unwrap()
    };
    assert_eq!(expected.status.code(), Some(3), "{}", stderr(&expected));

    // Shielded: pack from the program's directory, run, open.
    let dir = fixture().root.join("inventory-shielded");
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&inventory_dir(), &dir);
    std::fs::write(dir.join("orders.txt"), &stdin).unwrap();
    ok(&pack(
        &dir,
        &["main.lua", "inventory.lua", "lib", "data"],
        &["--stdin", "orders.txt"],
    ));
    let mut run_args = vec!["--"];
    run_args.extend_from_slice(&args);
    ok(&run_bundle(&dir, &run_args));
    let opened = open(&dir, &["--extract", "out"]);
    // A valid result of a script that exited non-zero: 4, and the status.
    assert_eq!(opened.status.code(), Some(4), "{}", stderr(&opened));
    assert_eq!(
        script_status(&opened),
        expected.status.code().unwrap(),
        "{}",
        stderr(&opened)
    );
    assert_eq!(stdout(&opened), stdout(&expected));
    assert!(
        stderr(&opened).contains("missing: kiwi"),
        "{}",
        stderr(&opened)
    );
    for written in ["restock.txt", "log.txt"] {
        assert_eq!(
            std::fs::read(dir.join("out").join(written)).unwrap(),
            std::fs::read(native.join(written)).unwrap(),
            "{written}"
        );
    }

    // Development mode, in the enclave and natively: the same output.
    for native_flag in [&[][..], &["--native"][..]] {
        let mut exec_args = vec!["exec"];
        exec_args.extend_from_slice(native_flag);
        exec_args.extend_from_slice(&["main.lua", "--", "4", "x", "y"]);
        let exec = run(&inventory_dir(), &exec_args, Some(&stdin));
        assert_eq!(
            exec.status.code(),
            Some(3),
            "{native_flag:?}: {}",
            stderr(&exec)
        );
        assert_eq!(stdout(&exec), stdout(&expected), "{native_flag:?}");
    }
}

#[test]
fn any_flipped_byte_is_refused_before_the_script_runs() {
    let dir = project(
        "tamper",
        &[(
            "main.lua",
            "print('ran') io.open('ran.txt','w'):write('x')\n",
        )],
    );
    ok(&pack(&dir, &["main.lua"], &[]));
    let bundle = std::fs::read(dir.join("app.shield")).unwrap();
    // Every region: magic, header, payload, signature (the bundle crate's
    // own tests flip every byte; here each flip goes through a real run).
    let n = bundle.len();
    let mut positions: Vec<usize> = (0..n).step_by(n / 40).collect();
    positions.extend([0, 8, 12, n / 2, n - 65, n - 64, n - 1]);
    for at in positions {
        let mut bad = bundle.clone();
        bad[at] ^= 0x20;
        std::fs::write(dir.join("bad.shield"), &bad).unwrap();
        let out = run(&dir, &["run", "bad.shield", "-o", "bad.result"], None);
        assert_eq!(out.status.code(), Some(1), "byte {at}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("refused"),
            "byte {at}: {}",
            stderr(&out)
        );
        assert!(!dir.join("bad.result").exists(), "byte {at}");
    }
    // Truncated.
    std::fs::write(dir.join("bad.shield"), &bundle[..n - 1]).unwrap();
    let out = run(&dir, &["run", "bad.shield", "-o", "bad.result"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn bundles_for_other_identities_or_owners_are_refused() {
    let f = fixture();
    let dir = project("identities", &[("main.lua", "print('ran')\n")]);
    let mrenclave = std::fs::read_to_string(&f.policy).unwrap();
    let cases = [
        // Another enclave: the quote does not satisfy the policy.
        (
            "other-mrenclave.toml",
            format!(
                "mrenclave = [\"{}\"]\nallow_simulation = true\n",
                "ab".repeat(32)
            ),
        ),
        // The script enclave is ISVSVN 1.
        (
            "min-svn.toml",
            format!(
                "mrsigner = \"{}\"\nisvprodid = 1\nmin_isvsvn = 2\nallow_simulation = true\n",
                mrsigner()
            ),
        ),
        // Simulation not allowed.
        (
            "no-sim.toml",
            mrenclave.replace("allow_simulation = true", ""),
        ),
    ];
    for (name, text) in cases {
        std::fs::write(dir.join(name), text).unwrap();
        let out = run(
            &dir,
            &[
                "pack",
                "main.lua",
                "--to",
                f.ak.to_str().unwrap(),
                "--policy",
                name,
                "--owner",
                f.owner.to_str().unwrap(),
                "-o",
                "refused.shield",
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
        assert!(stderr(&out).contains("refused"), "{name}: {}", stderr(&out));
        assert!(!dir.join("refused.shield").exists());
    }

    // The right policy packs; another owner's signature on it does not run.
    ok(&pack(&dir, &["main.lua"], &[]));
    let mine = std::fs::read(dir.join("app.shield")).unwrap();
    let theirs_dir = project("identities-theirs", &[("main.lua", "print('ran')\n")]);
    ok(&pack_as(&theirs_dir, &f.other_owner, &["main.lua"], &[]));
    let theirs = std::fs::read(theirs_dir.join("app.shield")).unwrap();
    let mut hybrid = mine.clone();
    let n = hybrid.len();
    hybrid[n - 64..].copy_from_slice(&theirs[theirs.len() - 64..]);
    std::fs::write(dir.join("hybrid.shield"), &hybrid).unwrap();
    let out = run(&dir, &["run", "hybrid.shield", "-o", "hybrid.result"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // A result opens for its owner only.
    ok(&run_bundle(&dir, &[]));
    let out = run(
        &dir,
        &[
            "open",
            "app.result",
            "--owner",
            f.other_owner.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("ran"));
    let out = open(&dir, &[]);
    ok(&out);
    assert_eq!(stdout(&out), "ran\n");
}

#[test]
fn the_enclave_checks_the_bundle_policy_itself() {
    use shield_bundle::{AttestedKey, EnclavePolicy, Language, Limits, OwnerSecret, PackInput};
    // Bundles made without `shield pack`'s quote check: only the enclave's
    // own check stands between them and a run.
    let f = fixture();
    let dir = project("enclave-policy", &[("main.lua", "print('ran')\n")]);
    let ak = AttestedKey::from_json(&std::fs::read_to_string(&f.ak).unwrap()).unwrap();
    let owner = OwnerSecret::load(&f.owner).unwrap();
    let mut mrenclave = [0u8; 32];
    hex::decode_to_slice(&f.mrenclave, &mut mrenclave).unwrap();
    let cases = [
        (
            EnclavePolicy {
                mrenclave: vec![[0xab; 32]],
                ..EnclavePolicy::default()
            },
            "MRENCLAVE",
        ),
        (
            EnclavePolicy {
                mrenclave: vec![mrenclave],
                min_isvsvn: Some(2),
                ..EnclavePolicy::default()
            },
            "ISVSVN",
        ),
        (
            EnclavePolicy {
                mrenclave: vec![mrenclave],
                isvprodid: Some(2),
                ..EnclavePolicy::default()
            },
            "ISVPRODID",
        ),
    ];
    for (policy, reason) in cases {
        let input = PackInput {
            language: Language::Lua,
            policy,
            limits: Limits::default(),
            entry: "main.lua".into(),
            files: vec![("main.lua".into(), dir.join("main.lua"))],
            stdin: None,
            args: None,
            env: Vec::new(),
        };
        let mut bundle = Vec::new();
        shield_bundle::pack(&input, &ak.key, &owner, &mut bundle, &mut |_, _| {}).unwrap();
        std::fs::write(dir.join("app.shield"), &bundle).unwrap();
        let out = run_bundle(&dir, &[]);
        assert_eq!(out.status.code(), Some(1), "{reason}: {}", stderr(&out));
        assert!(stderr(&out).contains(reason), "{reason}: {}", stderr(&out));
        assert!(!dir.join("app.result").exists());
    }
}

/// MRSIGNER of the repository's enclave-signing key.
fn mrsigner() -> String {
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../enclaves/signing-key.pem");
    let out = run(
        &fixture().root,
        &[
            "sign",
            "--key",
            key.to_str().unwrap(),
            env!("CARGO_BIN_EXE_shield"),
            "-o",
            "x.sig",
        ],
        None,
    );
    ok(&out);
    line_value(&stdout(&out), "MRSIGNER ").to_owned()
}

#[test]
fn owner_keys_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let mode = std::fs::metadata(f.owner.join("owner.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Never replaced.
    let again = run(&f.root, &["keygen", "-o", f.owner.to_str().unwrap()], None);
    assert!(!again.status.success());
}

#[test]
fn exec_confines_the_script_to_its_directory() {
    let outside = project("exec-outside", &[("secret.txt", "OUTSIDE-MARKER\n")]);
    let dir = project(
        "exec-confined",
        &[(
            "main.lua",
            "for _, path in ipairs({ '../exec-outside/secret.txt', 'link/secret.txt', \
             '/etc/hostname' }) do\n\
               local f, err = io.open(path)\n\
               print(path, f and f:read('a') or 'refused')\n\
             end\n\
             io.open('scratch.txt', 'w'):write('kept in memory')\n\
             print(io.open('scratch.txt'):read('a'))\n",
        )],
    );
    std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
    for flags in [&[][..], &["--native"][..]] {
        let mut args = vec!["exec"];
        args.extend_from_slice(flags);
        args.push("main.lua");
        let out = run(&dir, &args, None);
        ok(&out);
        let text = stdout(&out);
        assert!(!text.contains("OUTSIDE-MARKER"), "{flags:?}: {text}");
        assert_eq!(text.matches("refused").count(), 3, "{flags:?}: {text}");
        assert!(text.contains("kept in memory"), "{flags:?}: {text}");
        // Writes stay in the scratch area, not in the script's directory.
        assert!(!dir.join("scratch.txt").exists(), "{flags:?}");
    }
}

#[test]
fn open_keeps_its_exit_code_when_its_reader_goes_away() {
    // More output than a pipe holds: open writes into a closed pipe.
    let dir = project(
        "reader-gone",
        &[(
            "main.lua",
            "io.write(string.rep('x', 1 << 20)) os.exit(5)\n",
        )],
    );
    ok(&pack(&dir, &["main.lua"], &[]));
    ok(&run_bundle(&dir, &[]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(["open", "app.result", "--owner"])
        .arg(&fixture().owner)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(script_status(&out), 5);
}

#[test]
fn inputs_must_be_regular_files() {
    let f = fixture();
    let dir = project("not-regular", &[("main.lua", "print('ran')\n")]);
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let owner = f.owner.to_str().unwrap();
    let ak = f.ak.to_str().unwrap();
    for input in ["/dev/zero", fifo.to_str().unwrap()] {
        let commands: [&[&str]; 7] = [
            &["open", input, "--owner", owner],
            &["run", input, "-o", "app.result"],
            &["verify", input],
            &["sigstruct", input],
            &["measure", input],
            &[
                "pack", "main.lua", "--to", input, "--owner", owner, "-o", "x",
            ],
            &[
                "pack", "main.lua", "--to", ak, "--policy", input, "--owner", owner, "-o", "x",
            ],
        ];
        for args in commands {
            let out = run(&dir, args, None);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("is not a regular file"),
                "{args:?}: {}",
                stderr(&out)
            );
        }
    }
    // A regular file is read up to its bound, whatever its size says.
    let big = std::fs::File::create(dir.join("big")).unwrap();
    big.set_len(1 << 30).unwrap();
    let out = run(&dir, &["sigstruct", "big"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bytes accepted"), "{}", stderr(&out));
}

/// Waits for `done` (a guard against hanging, not a timing check).
#[track_caller]
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let parent = format!("PPid:\t{pid}\n");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/status")).is_ok_and(|s| s.contains(&parent))
        })
        .collect()
}

/// A running script enclave's pid (gone or a zombie: not running).
fn enclave_running(pid: u32) -> bool {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    let state = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    exe.to_string_lossy().contains("shield-enclave") && !state.contains("State:\tZ")
}

/// Kills, when dropped, an enclave a failed test left spinning.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if enclave_running(self.0) {
            let pid = rustix::process::Pid::from_raw(self.0 as i32).unwrap();
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

/// What a run left in its project `dir` (results and their temporaries)
/// and in the scratch directory of `state`.
fn leftovers(dir: &Path, state: &Path) -> Vec<String> {
    let listed = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .map(|items| {
                items
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut found: Vec<String> = listed(dir)
        .into_iter()
        .filter(|n| n.contains("partial") || n.contains("result"))
        .collect();
    found.extend(listed(&state.join("scratch")));
    found
}

/// `shield run app.shield -o app.result EXTRA` in `dir` with `state`,
/// started (its output piped).
fn spawn_run(dir: &Path, state: &Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(["run", "app.shield", "-o", "app.result"])
        .args(extra)
        .arg("--state-dir")
        .arg(state)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The enclave `child` launched, once it runs and `ready` holds.
fn enclave_of(child: &std::process::Child, ready: impl Fn() -> bool) -> KillOnDrop {
    let mut enclave = None;
    eventually("the run started", || {
        enclave = children(child.id())
            .into_iter()
            .find(|&p| enclave_running(p));
        enclave.is_some() && ready()
    });
    KillOnDrop(enclave.unwrap())
}

/// A state directory of its own under `dir` (other tests' scratch files
/// do not count), holding the fixture's enclave keys.
fn own_state(dir: &Path) -> PathBuf {
    let state = dir.join("state");
    copy_dir(
        &fixture().state.join("enclave-keys"),
        &state.join("enclave-keys"),
    );
    state
}

#[test]
fn a_timeout_ends_a_spinning_run_with_status_3_and_keeps_nothing() {
    // One library call can take long for one instruction; the host's
    // clock bounds the whole run.
    let dir = project("timeout", &[("main.lua", "while true do end\n")]);
    ok(&pack(&dir, &["main.lua"], &["--max-instructions", "0"]));
    let state = own_state(&dir);
    let child = spawn_run(&dir, &state, &["--timeout", "3s"]);
    let enclave = enclave_of(&child, || true);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("time limit of 3s reached"), "{err}");
    assert_eq!(leftovers(&dir, &state), Vec::<String>::new());
    eventually("the enclave stopped", || !enclave_running(enclave.0));
    // exec, in the development enclave and in process; a run that ends in
    // time is not disturbed.
    for native in [false, true] {
        let mode: &[&str] = if native { &["--native"] } else { &[] };
        let spin = run(
            &dir,
            &[&["exec", "--timeout", "1"], mode, &["main.lua"]].concat(),
            None,
        );
        assert_eq!(spin.status.code(), Some(3), "{spin:?}");
        assert!(String::from_utf8_lossy(&spin.stderr).contains("time limit of 1s reached"));
        std::fs::write(dir.join("quick.lua"), "print('done')\n").unwrap();
        let quick = run(
            &dir,
            &[&["exec", "--timeout", "1h"], mode, &["quick.lua"]].concat(),
            None,
        );
        assert_eq!(
            (quick.status.code(), quick.stdout.as_slice()),
            (Some(0), &b"done\n"[..])
        );
    }
    let bad = run(&dir, &["exec", "--timeout", "soon", "quick.lua"], None);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("is not a duration"),
        "{bad:?}"
    );
}

#[test]
fn an_interrupted_run_leaves_nothing_behind() {
    use rustix::process::{Pid, Signal};
    let dir = project("interrupted", &[("main.lua", "while true do end\n")]);
    ok(&pack(&dir, &["main.lua"], &["--max-instructions", "0"]));
    let state = own_state(&dir);
    let leftovers = || leftovers(&dir, &state);
    for signal in [Signal::INT, Signal::TERM] {
        let mut child = spawn_run(&dir, &state, &[]);
        // The script spins in its enclave; the result's temporary and the
        // scratch directory exist.
        let enclave = enclave_of(&child, || leftovers().len() == 2);
        rustix::process::kill_process(Pid::from_child(&child), signal).unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{signal:?}: {status:?}");
        assert_eq!(leftovers(), Vec::<String>::new(), "{signal:?}");
        eventually("the enclave stopped", || !enclave_running(enclave.0));
    }
}

#[test]
fn a_trace_never_replaces_the_bundle_or_the_result() {
    let dir = project("trace-target", &[("main.lua", "print('ran')\n")]);
    ok(&pack(&dir, &["main.lua"], &[]));
    let bundle = std::fs::read(dir.join("app.shield")).unwrap();
    let refused = |args: &[&str], what: &str| {
        let out = run(&dir, args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(what), "{args:?}: {}", stderr(&out));
    };
    for trace in ["app.shield", "./app.shield"] {
        refused(
            &["run", "app.shield", "-o", "app.result", "--trace", trace],
            "is the bundle",
        );
    }
    refused(
        &["run", "app.shield", "-o", "./app.shield"],
        "would replace the bundle",
    );
    assert_eq!(std::fs::read(dir.join("app.shield")).unwrap(), bundle);
    assert!(!dir.join("app.result").exists());

    // The result: one that exists (also by another name), or not yet.
    ok(&run_bundle(&dir, &[]));
    let result = std::fs::read(dir.join("app.result")).unwrap();
    std::fs::hard_link(dir.join("app.result"), dir.join("alias.result")).unwrap();
    for trace in ["app.result", "alias.result"] {
        refused(
            &["run", "app.shield", "-o", "app.result", "--trace", trace],
            "is the result",
        );
    }
    assert_eq!(std::fs::read(dir.join("app.result")).unwrap(), result);
    refused(
        &[
            "run",
            "app.shield",
            "-o",
            "new.result",
            "--trace",
            "new.result",
        ],
        "is the result",
    );
    assert!(!dir.join("new.result").exists());

    // A trace file is replaced, as the help says.
    std::fs::write(dir.join("host.trace"), "OLD TRACE\n").unwrap();
    ok(&run_bundle(&dir, &["--trace", "host.trace"]));
    let trace = std::fs::read(dir.join("host.trace")).unwrap();
    assert!(trace.starts_with(b"== OCALL"), "{:?}", &trace[..20]);
}

#[test]
fn open_keeps_its_own_answer_apart_from_the_scripts_status() {
    // (project, script, open's exit code, the script's status it prints)
    let cases = [
        ("status-0", "print('ok')", 0, 0),
        ("status-1", "os.exit(1)", 4, 1),
        ("status-2", "os.exit(2)", 4, 2),
        ("status-error", "error('boom')", 4, 1),
    ];
    for (name, script, code, status) in cases {
        let dir = project(name, &[("main.lua", script)]);
        ok(&pack(&dir, &["main.lua"], &[]));
        ok(&run_bundle(&dir, &[]));
        let out = open(&dir, &[]);
        assert_eq!(out.status.code(), Some(code), "{name}: {}", stderr(&out));
        assert_eq!(script_status(&out), status, "{name}");
    }
    // A tampered result is refused (1), whatever its script's status.
    let dir = fixture().root.join("status-2");
    let mut bytes = std::fs::read(dir.join("app.result")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(dir.join("app.result"), &bytes).unwrap();
    let out = open(&dir, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("result refused"), "{}", stderr(&out));
    // No result to read: 2.
    std::fs::remove_file(dir.join("app.result")).unwrap();
    let out = open(&dir, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn extract_writes_all_or_nothing_and_follows_no_link() {
    let dir = project(
        "extract",
        &[(
            "main.lua",
            "for _, name in ipairs({ 'a.txt', 'lib/b.txt', 'z.txt' }) do\n\
               local f = assert(io.open(name, 'w')) f:write(name) f:close()\n\
             end\n",
        )],
    );
    ok(&pack(&dir, &["main.lua"], &[]));
    ok(&run_bundle(&dir, &[]));
    let out = dir.join("out");

    // A link below DIR is not followed, and nothing is written at all.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink("../elsewhere", out.join("lib")).unwrap();
    let opened = open(&dir, &["--extract", "out"]);
    assert_eq!(opened.status.code(), Some(2), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("is a link"), "{}", stderr(&opened));
    assert!(!elsewhere.join("b.txt").exists());
    assert!(!out.join("a.txt").exists());
    std::fs::remove_file(out.join("lib")).unwrap();

    // A file that exists stops the extraction before anything is written.
    std::fs::write(out.join("z.txt"), "mine").unwrap();
    let opened = open(&dir, &["--extract", "out"]);
    assert_eq!(opened.status.code(), Some(2), "{}", stderr(&opened));
    assert!(stderr(&opened).contains("--force"), "{}", stderr(&opened));
    assert!(!out.join("a.txt").exists() && !out.join("lib").exists());
    // --force replaces it.
    ok(&open(&dir, &["--extract", "out", "--force"]));
    for name in ["a.txt", "lib/b.txt", "z.txt"] {
        assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), name);
    }

    // A link planted where a predictable temporary would go is left alone.
    // (`exec` keeps the shell's pid: `$$` is shield's.)
    let fresh = dir.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let planted = Command::new("sh")
        .arg("-c")
        .arg("ln -s ../victim.txt \"fresh/a.txt.partial$$\" && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_shield"))
        .args(["open", "app.result", "--owner"])
        .arg(&fixture().owner)
        .args(["--extract", "fresh"])
        .current_dir(&dir)
        .output()
        .unwrap();
    ok(&planted);
    assert!(!dir.join("victim.txt").exists());
    let a = std::fs::symlink_metadata(fresh.join("a.txt")).unwrap();
    assert!(a.is_file());
    assert_eq!(
        std::fs::read_to_string(fresh.join("a.txt")).unwrap(),
        "a.txt"
    );
}

#[test]
fn names_from_a_result_are_printed_escaped() {
    let dir = project(
        "forged-names",
        &[(
            "main.lua",
            "local f = assert(io.open('x\\nshield: extracted forged', 'w'))\n\
             f:write('1') f:close()\n",
        )],
    );
    ok(&pack(&dir, &["main.lua"], &[]));
    ok(&run_bundle(&dir, &[]));
    for extra in [&[][..], &["--extract", "out"][..]] {
        let out = open(&dir, extra);
        ok(&out);
        let text = stderr(&out);
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("shield: extracted forged")),
            "{extra:?}: {text}"
        );
        assert!(
            text.contains("x\\nshield: extracted forged"),
            "{extra:?}: {text}"
        );
    }
    assert!(dir.join("out/x\nshield: extracted forged").is_file());
}

#[test]
fn pack_refuses_links_out_of_the_tree_and_skips_dangling_ones() {
    let outside = project("pack-links-outside", &[("secret.txt", "OUTSIDE\n")]);
    let dir = project(
        "pack-links",
        &[
            ("main.lua", "print((require('lib.inside')))\n"),
            ("util.lua", "return 'util'\n"),
        ],
    );
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::os::unix::fs::symlink("../util.lua", dir.join("lib/inside.lua")).unwrap();
    std::os::unix::fs::symlink("gone.lua", dir.join("lib/dangling.lua")).unwrap();

    // A link inside the tree is packed; a dangling one is skipped, saying so.
    let out = pack(&dir, &["main.lua", "lib"], &[]);
    ok(&out);
    assert!(
        stderr(&out)
            .contains("skipping lib/dangling.lua: a link to gone.lua, which does not exist"),
        "{}",
        stderr(&out)
    );
    ok(&run_bundle(&dir, &[]));
    let opened = open(&dir, &[]);
    ok(&opened);
    assert_eq!(stdout(&opened), "util\n");

    // Named, a dangling link is an error.
    let out = pack(&dir, &["main.lua", "lib/dangling.lua"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));

    // A link out of the tree: refused, nothing written.
    std::fs::remove_file(dir.join("app.shield")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), dir.join("lib/secret.txt")).unwrap();
    let out = pack(&dir, &["main.lua", "lib"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("outside the directory the script runs in"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("app.shield").exists());
}

#[test]
fn pack_refuses_an_unchecked_tcb_unless_the_policy_lists_it() {
    let f = fixture();
    let dir = project("tcb", &[("main.lua", "print('ran')\n")]);
    let out = pack(&dir, &["main.lua"], &[]);
    ok(&out);
    assert!(stdout(&out).contains(", TCB status "), "{}", stdout(&out));

    // The host strips the collateral: the platform's TCB level is unknown.
    let mut ak: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&f.ak).unwrap()).unwrap();
    ak.as_object_mut().unwrap().remove("collateral");
    std::fs::write(dir.join("stripped.json"), ak.to_string()).unwrap();
    let policy = std::fs::read_to_string(&f.policy).unwrap();
    std::fs::write(
        dir.join("unchecked-ok.toml"),
        format!(
            "{policy}tcb_statuses = [\"UpToDate\", \"SWHardeningNeeded\", \"TcbNotChecked\"]\n"
        ),
    )
    .unwrap();
    let pack_stripped = |policy: &str| {
        run(
            &dir,
            &[
                "pack",
                "main.lua",
                "--to",
                "stripped.json",
                "--policy",
                policy,
                "--owner",
                f.owner.to_str().unwrap(),
                "-o",
                "stripped.shield",
            ],
            None,
        )
    };
    let out = pack_stripped(f.policy.to_str().unwrap());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("status: TcbNotChecked"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("stripped.shield").exists());

    let out = pack_stripped("unchecked-ok.toml");
    ok(&out);
    assert!(
        stdout(&out).contains(", TCB status TcbNotChecked"),
        "{}",
        stdout(&out)
    );
}

/// One hostile script, packed with `flags`, run and opened: what must come out.
struct Hostile {
    name: &'static str,
    script: &'static str,
    flags: &'static [&'static str],
    status: i32,
    /// Text the opened result's stdout or stderr must contain.
    says: &'static str,
}

#[test]
fn hostile_scripts_end_in_a_result_with_a_defined_status() {
    let endless_gc = "setmetatable({}, {__gc = function() while true do end end})";
    let cases = [
        Hostile {
            name: "gc-loop",
            script: "setmetatable({}, {__gc = function() while true do end end}) collectgarbage()",
            flags: &["--max-instructions", "1000000"],
            status: 3,
            says: "instruction limit",
        },
        Hostile {
            name: "gc-loop-at-close",
            script: endless_gc,
            flags: &["--max-instructions", "1000000"],
            status: 3,
            says: "instruction limit",
        },
        Hostile {
            name: "gc-loop-in-coroutine",
            script: "coroutine.wrap(function() \
                     setmetatable({}, {__gc = function() while true do end end}) \
                     collectgarbage() end)()",
            flags: &["--max-instructions", "1000000"],
            status: 3,
            says: "instruction limit",
        },
        Hostile {
            name: "gc-memory",
            script: "setmetatable({}, {__gc = function() local t = {} \
                     for i = 1, 1e9 do t[i] = ('x'):rep(1 << 20) .. i end end}) \
                     collectgarbage() print('after')",
            flags: &[],
            status: 3,
            says: "memory limit",
        },
        Hostile {
            name: "doubling",
            script: "local s = 'x' while true do s = s .. s end",
            flags: &[],
            status: 3,
            says: "memory limit",
        },
        Hostile {
            name: "gsub",
            script: "string.rep('a', 1 << 20):gsub('a', string.rep('b', 4096))",
            flags: &[],
            status: 3,
            says: "memory limit",
        },
        Hostile {
            // omnilua counted a suspended coroutine at a tenth of its cost
            // and the enclave allocator's backstop stopped this one; the VM
            // counts it and stops it itself.
            name: "coroutines",
            script: "local t = {} for i = 1, 800000 do \
                     local co = coroutine.create(function() coroutine.yield() end) \
                     coroutine.resume(co) t[i] = co end",
            flags: &[],
            status: 3,
            says: "memory limit",
        },
        Hostile {
            name: "table",
            script: "local t = {} for i = 1, 1e9 do t[i] = i end",
            flags: &[],
            status: 3,
            says: "memory limit",
        },
        Hostile {
            name: "seek-far",
            script: "local f = io.open('o', 'w') f:seek('set', 1 << 40) print(f:write('x'))",
            flags: &[],
            status: 0,
            says: "nil\tFile too large\t27",
        },
        Hostile {
            name: "seek-gap",
            script: "local f = io.open('o', 'w') f:seek('set', 2 << 20) f:write('x')",
            flags: &["--max-output", "1M"],
            status: 3,
            says: "output limit",
        },
        Hostile {
            name: "warn",
            script: "warn('@on') warn('x', 'y')",
            flags: &[],
            status: 0,
            says: "Lua warning: xy",
        },
        // omnilua refused binary chunks; the VM loads its own through a
        // validating loader, and a corrupt one is a Lua error, as in lua5.4.
        Hostile {
            name: "binary-chunk",
            script: "print(load(string.dump(function() return 7 end), nil, 'b')()) \
                     print(load('\\27Lua\\84\\0garbage'))",
            flags: &[],
            status: 0,
            says: "7\nnil\tbinary string: bad binary format (corrupted chunk)",
        },
        Hostile {
            name: "exit-negative",
            script: "os.exit(-1)",
            flags: &[],
            status: 255,
            says: "",
        },
        Hostile {
            name: "exit-huge",
            script: "os.exit(2^31)",
            flags: &[],
            status: 255,
            says: "",
        },
    ];
    for case in cases {
        let name = case.name;
        let dir = project(name, &[("main.lua", case.script)]);
        ok(&pack(&dir, &["main.lua"], case.flags));
        ok(&run_bundle(&dir, &[]));
        let opened = open(&dir, &[]);
        let expected_code = if case.status == 0 { 0 } else { 4 };
        let text = format!("{}{}", stdout(&opened), stderr(&opened));
        assert_eq!(opened.status.code(), Some(expected_code), "{name}: {text}");
        assert_eq!(script_status(&opened), case.status, "{name}: {text}");
        assert!(text.contains(case.says), "{name}: {text}");
    }
}

#[test]
fn written_names_the_result_cannot_carry_fail_in_the_script_and_stay_private() {
    let script = "print(io.open('reports\\\\x.csv', 'w')) \
                  print(io.open(('n'):rep(1100), 'w')) \
                  local f = assert(io.open('dir', 'w')) f:write('1') f:close() \
                  print(io.open('dir/f', 'w')) \
                  local g = assert(io.open('ok.txt', 'w')) g:write('fine') g:close() \
                  assert(io.open('sub/x', 'w')):close() print(io.open('sub', 'w'))";
    let dir = project("names", &[("main.lua", script)]);
    ok(&pack(&dir, &["main.lua"], &[]));
    let ran = run_bundle(&dir, &["--trace", "host.trace"]);
    ok(&ran);
    let trace = std::fs::read(dir.join("host.trace")).unwrap();
    for name in [&b"reports"[..], b"nnnnnnnnnn", b"ok.txt"] {
        assert!(!contains(&trace, name), "the host saw a file name");
        assert!(!contains(&ran.stderr, name) && !contains(&ran.stdout, name));
    }
    let opened = open(&dir, &["--extract", "out"]);
    ok(&opened);
    let out = stdout(&opened);
    assert_eq!(out.matches("nil\t").count(), 4, "{out}");
    assert_eq!(std::fs::read(dir.join("out/ok.txt")).unwrap(), b"fine");
    assert_eq!(std::fs::read(dir.join("out/dir")).unwrap(), b"1");
}

#[test]
fn exec_maps_exit_statuses_and_runs_in_the_development_enclave() {
    let dir = project(
        "exec-status",
        &[("main.lua", "warn('@on') warn('w') os.exit(-1)")],
    );
    let exec = run(&dir, &["exec", "main.lua"], None);
    assert_eq!(exec.status.code(), Some(255), "{}", stderr(&exec));
    assert_eq!(stderr(&exec), "Lua warning: w\n");
    // The development enclave is another MRENCLAVE than the one a bundle is
    // pinned to: exec's enclave is not the one that holds owners' keys.
    let f = fixture();
    let state = std::fs::read_dir(f.state.join("enclaves")).unwrap();
    let names: Vec<String> = state
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let production = names
        .iter()
        .find(|n| n.starts_with("lua-") && !n.starts_with("lua-dev-"));
    let development = names.iter().find(|n| n.starts_with("lua-dev-"));
    let (Some(production), Some(development)) = (production, development) else {
        panic!("both enclaves are unpacked: {names:?}");
    };
    assert!(
        f.mrenclave
            .starts_with(production.trim_start_matches("lua-"))
    );
    assert!(
        !f.mrenclave
            .starts_with(development.trim_start_matches("lua-dev-"))
    );
}

#[test]
fn owners_can_fix_the_arguments_and_results_say_what_they_were() {
    let script = "print(select('#', ...), ...)";
    let dir = project("args-fixed", &[("main.lua", script)]);
    ok(&pack(&dir, &["main.lua"], &["--args", "--", "a", "b c"]));
    for host_args in [&[][..], &["--", "a", "b c"]] {
        ok(&run_bundle(&dir, host_args));
        let opened = open(&dir, &[]);
        ok(&opened);
        assert_eq!(stdout(&opened), "2\ta\tb c\n");
        assert!(
            stderr(&opened).contains(r#"arguments ["a", "b c"]"#),
            "{}",
            stderr(&opened)
        );
        std::fs::remove_file(dir.join("app.result")).unwrap();
    }
    for other in [
        &["--", "a"][..],
        &["--", "x", "y"],
        &["--", "a", "b c", "d"],
    ] {
        let refused = run_bundle(&dir, other);
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{other:?}: {}",
            stderr(&refused)
        );
        assert!(stderr(&refused).contains("fixed"), "{}", stderr(&refused));
        assert!(!dir.join("app.result").exists());
    }

    // Without --args the host chooses, and the owner sees its choice.
    let dir = project("args-host", &[("main.lua", script)]);
    ok(&pack(&dir, &["main.lua"], &[]));
    ok(&run_bundle(&dir, &["--", "x\ny"]));
    let opened = open(&dir, &[]);
    ok(&opened);
    assert!(
        stderr(&opened).contains(r#"arguments ["x\ny"]"#),
        "{}",
        stderr(&opened)
    );
    // Arguments after -- without --args are a mistake, not silently dropped.
    let wrong = pack(&dir, &["main.lua"], &["--", "a"]);
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
}

#[test]
fn pack_never_writes_the_bundle_over_one_of_its_inputs() {
    let dir = project(
        "pack-over-input",
        &[("main.lua", "print(1)"), ("data.txt", "precious")],
    );
    std::fs::write(dir.join("in.txt"), "stdin").unwrap();
    for output in ["main.lua", "data.txt", "./in.txt"] {
        let f = fixture();
        let out = run(
            &dir,
            &[
                "pack",
                "main.lua",
                "data.txt",
                "--stdin",
                "in.txt",
                "--to",
                f.ak.to_str().unwrap(),
                "--policy",
                f.policy.to_str().unwrap(),
                "--owner",
                f.owner.to_str().unwrap(),
                "-o",
                output,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{output}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is an input of the bundle"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("main.lua")).unwrap(),
        "print(1)"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("data.txt")).unwrap(),
        "precious"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("in.txt")).unwrap(),
        "stdin"
    );
}
