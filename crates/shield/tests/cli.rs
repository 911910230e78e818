//! The `shield` binary, run for real in a temporary directory.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{line_value, stdout};

fn shield(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running shield")
}

/// Any x86-64 ELF binary works as a stand-in enclave image for measuring.
fn enclave_binary(dir: &Path) -> &'static str {
    std::fs::copy(env!("CARGO_BIN_EXE_shield"), dir.join("enclave.bin")).unwrap();
    "enclave.bin"
}

#[test]
fn measure_sign_and_inspect() {
    let Some(key) = shield_testdata::file("sgx/sig1/sig1.key.pem") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let enclave = enclave_binary(dir.path());
    std::fs::write(
        dir.path().join("enclave.toml"),
        "isv_prod_id = 4\nisv_svn = 2\nheap_max = \"1M\"\n",
    )
    .unwrap();

    let measured = shield(
        dir.path(),
        &["measure", enclave, "--config", "enclave.toml"],
    );
    assert!(measured.status.success(), "{measured:?}");
    let mrenclave = line_value(&stdout(&measured), "MRENCLAVE ").to_owned();
    assert_eq!(mrenclave.len(), 64);

    let key = key.to_str().unwrap();
    let signed = shield(
        dir.path(),
        &[
            "sign",
            "--key",
            key,
            enclave,
            "--config",
            "enclave.toml",
            "-o",
            "enclave.sig",
            "--date",
            "2026-11-26",
        ],
    );
    assert!(signed.status.success(), "{signed:?}");
    assert_eq!(
        std::fs::metadata(dir.path().join("enclave.sig"))
            .unwrap()
            .len(),
        1808
    );

    let shown = shield(dir.path(), &["sigstruct", "enclave.sig"]);
    let text = stdout(&shown);
    assert!(shown.status.success(), "{shown:?}");
    assert_eq!(line_value(&text, "ENCLAVEHASH "), mrenclave);
    assert_eq!(
        line_value(&text, "MRSIGNER "),
        "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e"
    );
    assert_eq!(line_value(&text, "isvprodid: "), "4");
    assert_eq!(line_value(&text, "isvsvn: "), "2");
    assert_eq!(line_value(&text, "date: "), "2026-11-26");
    assert_eq!(line_value(&text, "signature: "), "valid");

    // One flipped byte in the signed region: exit 1 and says so.
    let mut bytes = std::fs::read(dir.path().join("enclave.sig")).unwrap();
    bytes[960] ^= 0x40;
    std::fs::write(dir.path().join("bad.sig"), bytes).unwrap();
    let shown = shield(dir.path(), &["sigstruct", "bad.sig"]);
    assert_eq!(shown.status.code(), Some(1));
    assert!(stdout(&shown).contains("signature: INVALID"));
}

#[test]
fn keygen_writes_a_private_key_that_signs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let made = shield(dir.path(), &["keygen", "--sgx-signing", "-o", "key.pem"]);
    assert!(made.status.success(), "{made:?}");
    let mode = std::fs::metadata(dir.path().join("key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let mrsigner = line_value(&stdout(&made), "MRSIGNER ").to_owned();

    let again = shield(dir.path(), &["keygen", "--sgx-signing", "-o", "key.pem"]);
    assert_eq!(again.status.code(), Some(2), "must not overwrite a key");

    let enclave = enclave_binary(dir.path());
    let signed = shield(
        dir.path(),
        &["sign", "--key", "key.pem", enclave, "-o", "e.sig"],
    );
    assert!(signed.status.success(), "{signed:?}");
    assert_eq!(line_value(&stdout(&signed), "MRSIGNER "), mrsigner);
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk"), b"not an enclave").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["measure", "junk"], "no ELF header"),
        (&["measure", "missing"], "reading missing"),
        (&["sigstruct", "junk"], "1808 bytes"),
        (
            &["sign", "--key", "junk", "junk", "-o", "x"],
            "not a PEM RSA private key",
        ),
    ];
    for (args, needle) in cases {
        let output = shield(dir.path(), args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: {stderr:?} lacks {needle:?}"
        );
    }
}

#[test]
fn measure_refuses_what_is_no_enclave() {
    let dir = tempfile::tempdir().unwrap();
    // An x86-64 ELF header, then garbage: no program headers to load.
    let mut elf = vec![0x5a_u8; 220];
    elf[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\0");
    elf[16..24].copy_from_slice(&[3, 0, 62, 0, 1, 0, 0, 0]);
    std::fs::write(dir.path().join("garbage.so"), elf).unwrap();
    // A well-formed SGXS stream of an ECREATE (8 KiB, one SSA page) only.
    let mut sgxs = vec![0u8; 64];
    sgxs[..8].copy_from_slice(b"ECREATE\0");
    sgxs[8] = 1;
    sgxs[13] = 0x20;
    std::fs::write(dir.path().join("empty.sgxs"), sgxs).unwrap();
    for (file, needle) in [
        ("garbage.so", "not a Shield enclave binary"),
        ("empty.sgxs", "adds no page"),
    ] {
        let output = shield(dir.path(), &["measure", file]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(needle), "{file}: {stderr}");
        assert!(output.stdout.is_empty(), "{file}: {output:?}");
    }
}

#[test]
fn measure_recomputes_the_hardware_attested_mrenclave_of_an_sdk_enclave() {
    let Some(so) = shield_testdata::file("sgx/sdk-signed/iot-gateway/enclave.signed.so") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let measured = shield(dir.path(), &["measure", so.to_str().unwrap()]);
    assert!(measured.status.success(), "{measured:?}");
    let text = stdout(&measured);
    // The MRENCLAVE of the IAS-verified quote (see the test data README).
    assert_eq!(
        line_value(&text, "MRENCLAVE "),
        "72cfdb1e92ca2354857bc3ddd5133888fc122bc0eb467e42b80c61bdf027f43f"
    );
    assert_eq!(line_value(&text, "matches SIGSTRUCT ENCLAVEHASH: "), "yes");

    // One flipped code byte: the embedded SIGSTRUCT no longer signs it.
    let mut bytes = std::fs::read(&so).unwrap();
    bytes[0x2000] ^= 1;
    std::fs::write(dir.path().join("flipped.so"), bytes).unwrap();
    let flipped = shield(dir.path(), &["measure", "flipped.so"]);
    assert_eq!(flipped.status.code(), Some(1), "{flipped:?}");
    assert_eq!(
        line_value(&stdout(&flipped), "matches SIGSTRUCT ENCLAVEHASH: "),
        "NO"
    );
}

#[test]
fn verify_a_simulation_quote_with_the_machines_simulation_root() {
    use shield_sgx::identity::EnclaveIdentity;
    use shield_sgx::isa::{Attributes, AttributesFlags};

    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("platform.secret");
    let platform = shield_host::load_or_create_platform(&secret).unwrap();
    let qe = shield_host::SimQuotingEnclave::load_or_create(dir.path(), platform.clone()).unwrap();
    let enclave = EnclaveIdentity {
        mrenclave: [0x5e; 32],
        mrsigner: [0x51; 32],
        isvprodid: 1,
        isvsvn: 1,
        attributes: Attributes {
            flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
            xfrm: 3,
        },
        miscselect: 0,
    };
    let report = shield_sgx::report::ereport(&platform, &enclave, &qe.target_info(), &[0; 64]);
    std::fs::write(dir.path().join("quote.bin"), qe.quote(&report).unwrap()).unwrap();
    std::fs::write(dir.path().join("allow.toml"), "allow_simulation = true\n").unwrap();
    std::fs::write(dir.path().join("deny.toml"), "allow_simulation = false\n").unwrap();
    let verify = |args: &[&str]| {
        let mut all = vec!["verify", "quote.bin", "--collateral", "sim-collateral"];
        all.extend_from_slice(args);
        Command::new(env!("CARGO_BIN_EXE_shield"))
            .args(&all)
            .current_dir(dir.path())
            .env("SHIELD_PLATFORM_SECRET", &secret)
            .output()
            .expect("running shield")
    };

    // allow_simulation: the machine's simulation root (beside the platform secret) is tried.
    let out = verify(&["--policy", "allow.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("verdict: ACCEPTED (SIMULATION)"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("mrenclave: 5e5e5e"),
        "{}",
        stdout(&out)
    );

    // Named explicitly, the root is used, but the policy still refuses simulation.
    let out = verify(&["--policy", "deny.toml", "--sim-root", "sim-root-ca.pem"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("REFUSED (SIMULATION)"),
        "{}",
        stdout(&out)
    );

    // Without either, it is an untrusted chain under Intel's root.
    let out = verify(&["--policy", "deny.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("verdict: REFUSED\n"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("untrusted certificate chain"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn edl_check_maps_to_rust_by_default_and_warns_on_sizeless_buffers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("unchecked.edl"),
        "enclave { trusted { public void f([user_check] void* p); }; };",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sizeless.edl"),
        "enclave { trusted { public void f([in] const uint8_t* data, size_t len); }; };",
    )
    .unwrap();

    // [user_check] follows Intel's rules but has no safe Rust mapping.
    let refused = shield(dir.path(), &["edl", "check", "unchecked.edl"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("unchecked.edl:1:"),
        "{refused:?}"
    );
    let grammar = shield(
        dir.path(),
        &["edl", "check", "--grammar-only", "unchecked.edl"],
    );
    assert_eq!(grammar.status.code(), Some(0), "{grammar:?}");

    // A size-less [in] pointer beside a size_t is one byte: valid, but said.
    let warned = shield(dir.path(), &["edl", "check", "sizeless.edl"]);
    assert_eq!(warned.status.code(), Some(0), "{warned:?}");
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(
        stderr.contains("sizeless.edl:1:") && stderr.contains("[in, size=len]"),
        "{stderr}"
    );

    // The system EDL files are found without -I.
    std::fs::write(
        dir.path().join("logs.edl"),
        "enclave { from \"shield_log.edl\" import *; trusted { public void f(void); }; };",
    )
    .unwrap();
    let imported = shield(dir.path(), &["edl", "check", "logs.edl"]);
    assert_eq!(imported.status.code(), Some(0), "{imported:?}");
    assert!(
        stdout(&imported).contains("1 ECALLs, 1 OCALLs"),
        "{imported:?}"
    );
}

/// The README's main command, as a user runs it (here on the test build).
#[test]
fn the_demo_runs_every_step_and_refuses_the_tampered_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(["demo", "--keep", "kept"])
        .current_dir(dir.path())
        .env("SHIELD_STATE_DIR", dir.path().join("state"))
        .output()
        .expect("running shield demo");
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in 1..=6 {
        assert!(
            text.contains(&format!("[{step}/6]")),
            "step {step} missing:\n{text}"
        );
    }
    assert!(
        text.contains("TOP-SECRET-SITE\" appears in none of its files"),
        "{text}"
    );
    assert!(line_value(&text, "[6/6] host  ").contains("refused, no script ran"));
    // The same program in every language writes the same report.
    for language in shield_bundle::Language::ALL {
        let report = dir.path().join(format!("kept/{language}/out/report.txt"));
        assert_eq!(
            std::fs::read_to_string(report).unwrap(),
            "TOP-SECRET-SITE-east        40.75\n\
             TOP-SECRET-SITE-north       35.75\n\
             TOP-SECRET-SITE-south       25.50\n\
             TOP-SECRET-SITE-west        12.00\n",
            "{language}"
        );
    }
}

/// The demo's program of every language, run in place by `shield exec`
/// (development mode: modules in a subfolder, found through the host's
/// listing) and natively, prints the demo's summary.
#[test]
fn the_demo_programs_run_under_exec_in_every_language() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    for language in shield_bundle::Language::ALL {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&demo.join(language.as_str()), dir.path());
        copy_tree(&demo.join("data"), &dir.path().join("data"));
        let entry = format!("main.{}", language.extensions()[0]);
        for native in [false, true] {
            let mut args = vec!["exec"];
            if native {
                args.push("--native");
            }
            args.push(&entry);
            let out = Command::new(env!("CARGO_BIN_EXE_shield"))
                .args(&args)
                .current_dir(dir.path())
                .env("SHIELD_STATE_DIR", dir.path().join(".state"))
                .output()
                .unwrap();
            assert_eq!(
                stdout(&out),
                "6 readings from 4 sites; mean 19.00, highest 25.50 at TOP-SECRET-SITE-south\n\
                 wrote report.txt\n",
                "{language} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `shield args` in `dir`, killed if it runs past a minute (a guard
/// against hanging, not a timing check).
fn shield_or_hang(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running shield");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("shield {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn fifos_given_as_inputs_are_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let collateral = dir.path().join("collateral");
    std::fs::create_dir(&collateral).unwrap();
    for fifo in [
        dir.path().join("x.edl"),
        dir.path().join("quote.bin"),
        collateral.join("tcb_info.json"),
    ] {
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
    }
    std::fs::write(dir.path().join("real-quote.bin"), [0u8; 64]).unwrap();
    for args in [
        &["edl", "check", "x.edl"][..],
        &["verify", "quote.bin"],
        &["verify", "real-quote.bin", "--collateral", "collateral"],
    ] {
        let out = shield_or_hang(dir.path(), args);
        assert!(!out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("not a regular file"), "{args:?}: {text}");
    }
}
