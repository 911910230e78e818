//! Verification of the real quotes in the shared test data.

mod common;

use common::{SGX_NOW, TDX_NOW, read, testdata};
use shield_attest::{Collateral, Error, Policy, TcbStatus, Verdict, Verifier};

const YEAR: u64 = 365 * 24 * 3600;

fn collateral(dir: &std::path::Path, name: &str) -> Collateral {
    Collateral::from_combined_json(&read(dir, name)).expect("collateral parses")
}

#[test]
fn sgx_quote_verifies_to_stated_status() {
    let Some(d) = testdata("sgx_quote_verifies_to_stated_status") else {
        return;
    };
    let q = read(&d, "quotes/dcap-qvl/sgx_quote");
    let c = collateral(&d, "quotes/dcap-qvl/sgx_quote_collateral.json");
    let v = Verifier::intel()
        .verify(&q, Some(&c), SGX_NOW)
        .expect("verifies");
    assert_eq!(v.tcb.status, TcbStatus::ConfigurationAndSWHardeningNeeded);
    assert_eq!(v.tcb.advisory_ids, ["INTEL-SA-00289", "INTEL-SA-00615"]);
    assert_eq!(hex::encode(v.pck.fmspc), "00a067110000");
    assert!(!v.simulation);
}

#[test]
fn tdx_quote_verifies_to_stated_status() {
    let Some(d) = testdata("tdx_quote_verifies_to_stated_status") else {
        return;
    };
    let q = read(&d, "quotes/dcap-qvl/tdx_quote");
    let c = collateral(&d, "quotes/dcap-qvl/tdx_quote_collateral.json");
    let v = Verifier::intel()
        .verify(&q, Some(&c), TDX_NOW)
        .expect("verifies");
    assert_eq!(v.tcb.status, TcbStatus::UpToDate);
    assert!(v.tcb.advisory_ids.is_empty());
    assert_eq!(hex::encode(v.pck.fmspc), "b0c06f000000");
}

#[test]
fn collateral_expires() {
    let Some(d) = testdata("collateral_expires") else {
        return;
    };
    for (q, c, now) in [
        ("sgx_quote", "sgx_quote_collateral.json", SGX_NOW),
        ("tdx_quote", "tdx_quote_collateral.json", TDX_NOW),
    ] {
        let quote = read(&d, &format!("quotes/dcap-qvl/{q}"));
        let c = collateral(&d, &format!("quotes/dcap-qvl/{c}"));
        for when in [now + YEAR, now + 40 * 24 * 3600] {
            let err = Verifier::intel()
                .verify(&quote, Some(&c), when)
                .unwrap_err();
            assert!(matches!(err, Error::Expired(_)), "{q} at {when}: {err}");
        }
        // Before the collateral was issued.
        let err = Verifier::intel()
            .verify(&quote, Some(&c), now - YEAR)
            .unwrap_err();
        assert!(matches!(err, Error::Expired(_)), "{q} a year early: {err}");
    }
}

#[test]
fn without_collateral_status_is_tcb_not_checked() {
    let Some(d) = testdata("without_collateral_status_is_tcb_not_checked") else {
        return;
    };
    let q = read(&d, "quotes/dcap-qvl/sgx_quote");
    let v = Verifier::intel()
        .verify(&q, None, SGX_NOW)
        .expect("verifies");
    assert_eq!(v.tcb.status, TcbStatus::TcbNotChecked);
    let verdict = Verdict::evaluate(&Verifier::intel(), &q, None, &Policy::permissive(), SGX_NOW);
    assert!(verdict.accepted);
    let text = verdict.to_string();
    assert!(text.contains("\nstatus: TcbNotChecked\n"), "{text}");
    assert!(text.contains("\nadvisories: none\n"), "{text}");
    // A policy listing acceptable statuses refuses it.
    let p =
        Policy::from_toml("tcb_statuses = [\"UpToDate\", \"ConfigurationAndSWHardeningNeeded\"]")
            .unwrap();
    let verdict = Verdict::evaluate(&Verifier::intel(), &q, None, &p, SGX_NOW);
    assert!(!verdict.accepted);
    // ...which accepts it once the collateral is checked.
    let c = collateral(&d, "quotes/dcap-qvl/sgx_quote_collateral.json");
    let verdict = Verdict::evaluate(&Verifier::intel(), &q, Some(&c), &p, SGX_NOW);
    assert!(verdict.accepted, "{verdict}");
}

#[test]
fn verdict_text_and_json_for_sgx() {
    let Some(d) = testdata("verdict_text_and_json_for_sgx") else {
        return;
    };
    let q = read(&d, "quotes/dcap-qvl/sgx_quote");
    let c = collateral(&d, "quotes/dcap-qvl/sgx_quote_collateral.json");
    let v = Verdict::evaluate(
        &Verifier::intel(),
        &q,
        Some(&c),
        &Policy::permissive(),
        SGX_NOW,
    );
    assert!(v.accepted);
    let text = v.to_string();
    for line in [
        "verdict: ACCEPTED",
        "status: ConfigurationAndSWHardeningNeeded",
        "advisories: INTEL-SA-00289,INTEL-SA-00615",
        "mrenclave: 33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
        "mrsigner: 815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6",
        "isvprodid: 0",
        "isvsvn: 0",
        "debug: false",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let mut rd = hex::encode(b"Hello, world!");
    rd.push_str(&"0".repeat(128 - rd.len()));
    assert!(
        text.lines().any(|l| l == format!("report_data: {rd}")),
        "{text}"
    );
    assert!(!text.contains("SIMULATION"));
    let json: serde_json::Value = serde_json::to_value(&v).unwrap();
    assert_eq!(json["accepted"], true);
    assert_eq!(json["status"], "ConfigurationAndSWHardeningNeeded");
    assert_eq!(json["advisory_ids"][1], "INTEL-SA-00615");
    assert_eq!(
        json["identity"]["mrenclave"],
        "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"
    );
    assert_eq!(json["identity"]["report_data"], rd);
}

#[test]
fn verdict_for_tdx_shows_mrtd() {
    let Some(d) = testdata("verdict_for_tdx_shows_mrtd") else {
        return;
    };
    let q = read(&d, "quotes/dcap-qvl/tdx_quote");
    let c = collateral(&d, "quotes/dcap-qvl/tdx_quote_collateral.json");
    let v = Verdict::evaluate(
        &Verifier::intel(),
        &q,
        Some(&c),
        &Policy::permissive(),
        TDX_NOW,
    );
    let text = v.to_string();
    assert!(v.accepted, "{text}");
    assert!(text.lines().any(|l| l == "status: UpToDate"));
    assert!(text.lines().any(|l| l == "advisories: none"));
    assert!(text.lines().any(|l| l == "mrtd: 91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"), "{text}");
    assert!(text.lines().any(|l| l == "report_data: 9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20"), "{text}");
}

#[test]
fn collateral_for_the_wrong_quote_is_refused() {
    let Some(d) = testdata("collateral_for_the_wrong_quote_is_refused") else {
        return;
    };
    let q = read(&d, "quotes/dcap-qvl/sgx_quote");
    let tdx = collateral(&d, "quotes/dcap-qvl/tdx_quote_collateral.json");
    // Wholly wrong collateral: refused (its PCK CRL is from another CA).
    assert!(Verifier::intel().verify(&q, Some(&tdx), SGX_NOW).is_err());
    // Validly signed TDX TCB info (same TCB signing key) for an SGX quote.
    let mut c = collateral(&d, "quotes/dcap-qvl/sgx_quote_collateral.json");
    c.tcb_info = tdx.tcb_info.clone();
    let err = Verifier::intel().verify(&q, Some(&c), SGX_NOW).unwrap_err();
    assert!(matches!(err, Error::CollateralMismatch(_)), "{err}");
    // Validly signed TD_QE identity for an SGX quote.
    let mut c = collateral(&d, "quotes/dcap-qvl/sgx_quote_collateral.json");
    c.qe_identity = tdx.qe_identity.clone();
    let err = Verifier::intel().verify(&q, Some(&c), SGX_NOW).unwrap_err();
    assert!(matches!(err, Error::CollateralMismatch(_)), "{err}");
}

#[test]
fn tampered_collateral_signature_is_refused() {
    let Some(d) = testdata("tampered_collateral_signature_is_refused") else {
        return;
    };
    let q = read(&d, "quotes/dcap-qvl/sgx_quote");
    let mut c = collateral(&d, "quotes/dcap-qvl/sgx_quote_collateral.json");
    c.tcb_info.body = c
        .tcb_info
        .body
        .replacen("\"pcesvn\":13", "\"pcesvn\":12", 1);
    let err = Verifier::intel().verify(&q, Some(&c), SGX_NOW).unwrap_err();
    assert!(matches!(err, Error::BadSignature(_)), "{err}");
    let mut c = collateral(&d, "quotes/dcap-qvl/sgx_quote_collateral.json");
    c.qe_identity.signature[5] ^= 1;
    let err = Verifier::intel().verify(&q, Some(&c), SGX_NOW).unwrap_err();
    assert!(matches!(err, Error::BadSignature(_)), "{err}");
}
