//! The hello example end to end: the greeting comes back, and the enclave's
//! log line reaches the host through the shield_log.edl system OCALL.

#[test]
fn greets_and_logs_from_inside() {
    let state = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hello-state");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hello-host"))
        .arg("Ada")
        .env("SHIELD_PLATFORM_SECRET", state.join("platform.secret"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("Hello, Ada! (computed inside enclave "),
        "{stdout}"
    );
    assert!(
        stderr.starts_with("[enclave INFO] enclave ") && stderr.contains("is greeting Ada"),
        "{stderr}"
    );
}
