//! The suite against toy enclaves written in plain Rust: one that checks
//! every answer holds; ones that trust a length, skip an integrity check
//! or leak a secret are caught.

use shield_edl::wire::{BridgeError, Decoder, Encoder, Limits};

use crate::{Adversary, Config, Interface, Outcome, Run, Suite, Verdict};

const EDL: &str = r#"
    enclave {
        trusted { public void ecall_run(void); };
        untrusted {
            int32_t ocall_read(uint64_t offset, [out, size=cap] uint8_t* buf, size_t cap,
                               [out] uint64_t* got);
            int32_t ocall_write([in, size=len] const uint8_t* data, size_t len);
        };
    };
"#;

const DATA: &[u8] = b"0123456789abcdef";
const SECRET: &[u8] = b"TOY-SECRET";

/// What the toy enclave gets wrong.
#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    TrustsLength,
    NoIntegrity,
    Leaks,
    RetriesEmptyReads,
}

/// The honest host: serves `DATA`, accepts writes.
fn honest(index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError> {
    let mut d = Decoder::new(request, Limits::default())?;
    let mut e = Encoder::new();
    if index == 0 {
        let offset = d.get::<u64>()? as usize;
        let cap: usize = d.get()?;
        let mut buf = vec![0u8; cap];
        let n = DATA.len().saturating_sub(offset).min(cap);
        buf[..n].copy_from_slice(&DATA[offset..offset + n]);
        e.put(&0i32);
        e.slice(&buf);
        e.put(&(n as u64));
    } else {
        e.put(&0i32);
    }
    Ok(e.finish())
}

/// One run of the toy enclave: reads `DATA`, checks it, writes it back
/// (encrypted, say: reversed) and reports.
fn toy(ocall: &crate::Honest, flaw: Flaw) -> Verdict {
    let (status, buf, got) = loop {
        let mut e = Encoder::new();
        e.put(&0u64);
        e.put(&DATA.len());
        let reply = match ocall(0, &e.finish()) {
            Ok(r) => r,
            Err(e) => return Verdict::Refused(e.to_string()),
        };
        let decoded = (|| {
            let mut d = Decoder::new(&reply, Limits::default())?;
            let status: i32 = d.get()?;
            let buf: [u8; 16] = d.get()?;
            let got: u64 = d.get()?;
            d.finish()?;
            Ok::<_, BridgeError>((status, buf, got))
        })();
        match decoded {
            Ok((_, _, 0)) if flaw == Flaw::RetriesEmptyReads => continue,
            Ok(answer) => break answer,
            Err(_) => return Verdict::Refused("malformed reply".into()),
        }
    };
    if status != 0 || (flaw != Flaw::TrustsLength && got > buf.len() as u64) {
        return Verdict::Refused("bad answer".into());
    }
    // A real enclave would panic here; the toy says so.
    let Some(data) = buf.get(..got as usize) else {
        return Verdict::Panicked("range end index out of range".into());
    };
    if flaw != Flaw::NoIntegrity && data != DATA {
        return Verdict::Refused("integrity".into());
    }
    let mut out: Vec<u8> = data.iter().rev().copied().collect();
    if flaw == Flaw::Leaks {
        out.extend_from_slice(SECRET);
    }
    let mut e = Encoder::new();
    e.put(&out.len());
    e.slice(&out);
    match ocall(1, &e.finish()).map(|r| r == 0i32.to_le_bytes()) {
        Ok(true) if data == DATA => Verdict::Valid,
        Ok(true) => Verdict::Fooled("wrong data accepted".into()),
        _ => Verdict::Refused("write failed".into()),
    }
}

fn suite_against(flaw: Flaw, max_strategies: usize) -> crate::Report {
    let interface = Interface::from_ir(&shield_edl::check_str("toy.edl", EDL).unwrap()).unwrap();
    let adversary = Adversary::new(interface, None).unwrap();
    let handler = adversary.handler();
    let config = Config {
        markers: vec![SECRET.to_vec()],
        max_strategies,
        oversize: 4096,
        ..Config::default()
    };
    let mut job = |run: &Run<'_>| Outcome {
        verdict: run.serve(honest, || toy(&handler, flaw)),
        host_saw: Vec::new(),
    };
    Suite::new(adversary.clone(), config).unwrap().run(&mut job)
}

#[test]
fn an_enclave_that_checks_every_answer_holds() {
    let report = suite_against(Flaw::None, 400);
    report.assert_clean();
    let ocalls: std::collections::BTreeSet<_> = report
        .records
        .iter()
        .map(|r| r.strategy.ocall.as_str())
        .collect();
    assert_eq!(ocalls.len(), 2);
    assert!(report.records.iter().all(|r| r.lies_told > 0));
    assert!(report.records.iter().any(|r| r.verdict == Verdict::Valid));
}

#[test]
fn a_trusted_length_is_caught() {
    let report = suite_against(Flaw::TrustsLength, 400);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.contains("ocall_read") && f.contains("got") && f.contains("PANICKED")),
        "{}",
        report.summary()
    );
}

#[test]
fn a_missing_integrity_check_is_caught() {
    let report = suite_against(Flaw::NoIntegrity, 400);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.contains("random bytes") && f.contains("FOOLED")),
        "{}",
        report.summary()
    );
}

#[test]
fn plaintext_reaching_the_host_is_caught() {
    let report = suite_against(Flaw::Leaks, 400);
    assert!(
        report.findings.iter().any(|f| f.contains("TOY-SECRET")),
        "{}",
        report.summary()
    );
}

#[test]
fn strategies_are_bounded_and_shared_across_ocalls() {
    let report = suite_against(Flaw::None, 6);
    assert_eq!(report.records.len(), 6);
    let reads = report
        .records
        .iter()
        .filter(|r| r.strategy.ocall == "ocall_read")
        .count();
    assert_eq!(reads, 3, "{}", report.summary());
    // The same seed gives the same strategies.
    let again = suite_against(Flaw::None, 6);
    let names = |r: &crate::Report| -> Vec<String> {
        r.records.iter().map(|r| r.strategy.to_string()).collect()
    };
    assert_eq!(names(&report), names(&again));
}

#[test]
fn endless_retries_are_cut_short_and_caught() {
    let report = suite_against(Flaw::RetriesEmptyReads, 400);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.contains("every call: the host sets got to 0x0") && f.contains("endless")),
        "{}",
        report.summary()
    );
}

#[test]
fn host_runtime_errors_become_verdicts() {
    use shield_host::{Error, LostReason};
    let lost = Error::EnclaveLost(LostReason::Aborted);
    assert!(matches!(Verdict::from_host_error(&lost), Verdict::Lost(_)));
    let panicked = Error::EcallFailed {
        index: 1,
        reason: "enclave panicked: index out of bounds".into(),
    };
    assert!(matches!(
        Verdict::from_host_error(&panicked),
        Verdict::Panicked(_)
    ));
    let refused = Error::EcallFailed {
        index: 1,
        reason: "bad message: message truncated".into(),
    };
    assert!(Verdict::from_host_error(&refused).held());
}
