//! Round trips: quotes, certificates, CRLs and collateral built with
//! `shield_attest::generate`, verified by our verifier.

mod common;

use common::{SIM_NOW, Sim, report};
use shield_attest::{Collateral, Error, Policy, TcbStatus, Verdict, Verifier};

fn verify(
    sim: &Sim,
    quote: &[u8],
    c: Option<&Collateral>,
) -> shield_attest::Result<shield_attest::VerifiedQuote> {
    Verifier::new(sim.anchors()).verify(quote, c, SIM_NOW)
}

#[test]
fn generated_quote_round_trips() {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(0xaa, false, 3));
    let v = verify(&sim, &q, Some(&sim.collateral(false))).expect("verifies");
    assert_eq!(v.tcb.status, TcbStatus::UpToDate);
    assert!(v.tcb.advisory_ids.is_empty());
    assert!(v.simulation);
    assert_eq!(v.pck, sim.pck);
    let shield_attest::Report::Sgx(r) = &v.quote.report else {
        panic!("SGX")
    };
    assert_eq!(r.mr_enclave, [0xaa; 32]);
    assert_eq!(r.isv_svn, 3);
    // Without collateral.
    let v = verify(&sim, &q, None).expect("verifies");
    assert_eq!(v.tcb.status, TcbStatus::TcbNotChecked);
}

#[test]
fn simulation_quotes_are_flagged_and_need_policy_consent() {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(0xaa, false, 3));
    let c = sim.collateral(false);
    let verifier = Verifier::new(sim.anchors());
    let v = Verdict::evaluate(&verifier, &q, Some(&c), &Policy::permissive(), SIM_NOW);
    assert!(!v.accepted, "simulation refused by default");
    let text = v.to_string();
    assert!(text.starts_with("!!! SIMULATION"), "{text}");
    assert!(text.contains("verdict: REFUSED (SIMULATION)"), "{text}");
    let p = Policy::from_toml("allow_simulation = true").unwrap();
    let v = Verdict::evaluate(&verifier, &q, Some(&c), &p, SIM_NOW);
    assert!(v.accepted, "{v}");
    assert!(v.to_string().contains("verdict: ACCEPTED (SIMULATION)"));
    assert_eq!(serde_json::to_value(&v).unwrap()["simulation"], true);
}

#[test]
fn simulated_quote_is_untrusted_under_intel_root() {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(0xaa, false, 3));
    let err = Verifier::intel().verify(&q, None, SIM_NOW).unwrap_err();
    assert!(matches!(err, Error::UntrustedChain(_)), "{err}");
    let v = Verdict::evaluate(&Verifier::intel(), &q, None, &Policy::permissive(), SIM_NOW);
    assert!(!v.accepted);
    assert!(!v.simulation);
}

#[test]
fn tcb_levels_map_to_statuses_and_advisories() {
    let cases: [(u8, u16, u16, TcbStatus, &[&str]); 7] = [
        (5, 10, 8, TcbStatus::UpToDate, &[]),
        (9, 12, 9, TcbStatus::UpToDate, &[]),
        (5, 9, 8, TcbStatus::ConfigurationNeeded, &["INTEL-SA-00010"]),
        (4, 10, 8, TcbStatus::SWHardeningNeeded, &["INTEL-SA-00001"]),
        (2, 8, 8, TcbStatus::Revoked, &["INTEL-SA-00666"]),
        (
            1,
            3,
            8,
            TcbStatus::OutOfDate,
            &["INTEL-SA-00002", "INTEL-SA-00003"],
        ),
        // QE out of date converges ConfigurationNeeded into OutOfDateConfigurationNeeded.
        (
            5,
            9,
            6,
            TcbStatus::OutOfDateConfigurationNeeded,
            &["INTEL-SA-00010", "INTEL-SA-00615"],
        ),
    ];
    for (comps, pce, qe_svn, status, adv) in cases {
        let sim = Sim::new(comps, pce, qe_svn);
        let q = sim.quote(&report(1, false, 0));
        let v = verify(&sim, &q, Some(&sim.collateral(false))).expect("verifies");
        assert_eq!(v.tcb.status, status, "comps {comps} pce {pce} qe {qe_svn}");
        assert_eq!(
            v.tcb.advisory_ids, adv,
            "comps {comps} pce {pce} qe {qe_svn}"
        );
    }
    // Below every level.
    let sim = Sim::new(0, 0, 8);
    let q = sim.quote(&report(1, false, 0));
    let err = verify(&sim, &q, Some(&sim.collateral(false))).unwrap_err();
    assert!(matches!(err, Error::NoTcbLevel(_)), "{err}");
    // QE below every QE identity level: Revoked, as in Intel's QVL.
    let sim = Sim::new(5, 10, 2);
    let q = sim.quote(&report(1, false, 0));
    let v = verify(&sim, &q, Some(&sim.collateral(false))).expect("verifies");
    assert_eq!(v.tcb.status, TcbStatus::Revoked);
}

#[test]
fn revoked_status_is_refused_without_policy() {
    let sim = Sim::new(2, 8, 8);
    let q = sim.quote(&report(1, false, 0));
    let c = sim.collateral(false);
    let p = Policy {
        allow_simulation: true,
        ..Policy::permissive()
    };
    let v = Verdict::evaluate(&Verifier::new(sim.anchors()), &q, Some(&c), &p, SIM_NOW);
    assert_eq!(v.status, Some(TcbStatus::Revoked));
    assert!(!v.accepted);
    assert!(v.to_string().lines().any(|l| l == "status: Revoked"));
}

#[test]
fn revoked_pck_certificate_is_refused() {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(1, false, 0));
    let err = verify(&sim, &q, Some(&sim.collateral(true))).unwrap_err();
    assert!(matches!(err, Error::CertificateRevoked(_)), "{err}");
}

#[test]
fn pcs_directory_form_loads_with_der_and_pem_crls() {
    let sim = Sim::new(4, 10, 8);
    let q = sim.quote(&report(1, false, 0));
    let [t, qe, chain, pck_crl, root_crl] = sim.pcs_parts(false);
    let dir = std::env::temp_dir().join(format!("shield-attest-pcs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tcb_info.json"), &t).unwrap();
    std::fs::write(dir.join("qe_identity.json"), &qe).unwrap();
    std::fs::write(dir.join("tcb_signing_chain.pem"), &chain).unwrap();
    std::fs::write(dir.join("pck_crl.der"), &pck_crl).unwrap();
    let pem = der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &root_crl).unwrap();
    std::fs::write(dir.join("root_crl.der"), pem).unwrap();
    let c = Collateral::load(&dir).expect("loads");
    std::fs::remove_dir_all(&dir).unwrap();
    let v = verify(&sim, &q, Some(&c)).expect("verifies");
    assert_eq!(v.tcb.status, TcbStatus::SWHardeningNeeded);
    assert_eq!(v.tcb.advisory_ids, ["INTEL-SA-00001"]);
}

#[test]
fn collateral_signed_by_the_wrong_key_is_refused() {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(1, false, 0));
    let mut c = sim.collateral(false);
    let body = c.tcb_info.body.clone();
    c.tcb_info.signature = shield_attest::generate::sign_json(&body, &sim.ca_key);
    let err = verify(&sim, &q, Some(&c)).unwrap_err();
    assert!(matches!(err, Error::BadSignature(_)), "{err}");
}

#[test]
fn missing_crl_for_a_chain_link_is_refused() {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(1, false, 0));
    let mut c = sim.collateral(false);
    c.pck_crl = c.root_crl.clone();
    let err = verify(&sim, &q, Some(&c)).unwrap_err();
    assert!(
        matches!(err, Error::MalformedCollateral(ref m) if m.contains("no CRL")),
        "{err}"
    );
}

fn appraise(policy: &str, r: &shield_attest::quote::EnclaveReport) -> Vec<String> {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(r);
    let v = verify(&sim, &q, Some(&sim.collateral(false))).unwrap();
    Policy::from_toml(&format!("allow_simulation = true\n{policy}"))
        .unwrap()
        .appraise(&v)
}

#[test]
fn policy_checks_identity_debug_and_report_data() {
    let good = report(0xaa, false, 3);
    let mrenclave = hex::encode([0xaa; 32]);
    let mrsigner = hex::encode([0x81; 32]);
    let ok = format!(
        "mrenclave = [\"{}\", \"{mrenclave}\"]\nmrsigner = \"{mrsigner}\"\nisvprodid = 7\nmin_isvsvn = 3\nallow_debug = false\ntcb_statuses = [\"UpToDate\"]\nreport_data = \"{}\"",
        hex::encode([1u8; 32]),
        hex::encode(b"nonce")
    );
    assert_eq!(appraise(&ok, &good), Vec::<String>::new());
    assert_eq!(appraise(&ok, &report(0xab, false, 3)).len(), 1);
    assert_eq!(appraise(&ok, &report(0xaa, false, 2)).len(), 1);
    assert_eq!(appraise(&ok, &report(0xaa, true, 3)).len(), 1);
    assert!(appraise("allow_debug = true", &report(0xaa, true, 3)).is_empty());
    let wrong_prodid = format!("mrsigner = \"{mrsigner}\"\nisvprodid = 8");
    assert_eq!(appraise(&wrong_prodid, &good).len(), 1);
    assert_eq!(appraise("report_data = \"6e6f6e6365ff\"", &good).len(), 1);
    assert_eq!(appraise("tcb_statuses = [\"OutOfDate\"]", &good).len(), 1);
    assert_eq!(
        appraise(&format!("mrtd = [\"{}\"]", hex::encode([0u8; 48])), &good).len(),
        1
    );
}

#[test]
fn a_quote_checked_without_collateral_is_accepted_only_if_listed_or_unconstrained() {
    let sim = Sim::new(5, 10, 8);
    let v = verify(&sim, &sim.quote(&report(0xaa, false, 3)), None).unwrap();
    assert_eq!(v.tcb.status, TcbStatus::TcbNotChecked);
    let refusals = |policy: &str| {
        Policy::from_toml(&format!("allow_simulation = true\n{policy}"))
            .unwrap()
            .appraise(&v)
            .len()
    };
    assert_eq!(refusals(""), 0);
    assert_eq!(refusals("tcb_statuses = [\"UpToDate\"]"), 1);
    assert_eq!(
        refusals("tcb_statuses = [\"UpToDate\", \"TcbNotChecked\"]"),
        0
    );
}

#[test]
fn invalid_policies_are_rejected() {
    for bad in [
        "mrenclave = [\"00\"]",
        "isvprodid = 1",
        "tcb_statuses = [\"Fine\"]",
        "allow_debugg = true",
        "report_data = \"zz\"",
        &format!("report_data = \"{}\"", "00".repeat(65)),
        "mrsigner = 5",
    ] {
        let err = Policy::from_toml(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidPolicy(_)), "{bad}: {err}");
    }
}

fn td_report(td15: bool) -> shield_attest::quote::TdReport {
    shield_attest::quote::TdReport {
        tee_tcb_svn: [3; 16],
        mr_seam: [1; 48],
        mr_signer_seam: [0; 48],
        seam_attributes: [0; 8],
        td_attributes: [0; 8],
        xfam: [0xe7; 8],
        mr_td: [0x7d; 48],
        mr_config_id: [0; 48],
        mr_owner: [0; 48],
        mr_owner_config: [0; 48],
        rtmr: [[1; 48], [2; 48], [3; 48], [4; 48]],
        report_data: [0x42; 64],
        td15: td15.then_some(([4; 16], [5; 48])),
    }
}

#[test]
fn v4_and_v5_quotes_round_trip() {
    use shield_attest::Report;
    let sim = Sim::new(5, 10, 8);
    // SGX body in a v5 quote, with collateral.
    let sgx = Report::Sgx(report(0x55, false, 1));
    let q = sim.quote_of(5, &sgx);
    let v = verify(&sim, &q, Some(&sim.collateral(false))).expect("v5 SGX verifies");
    assert_eq!(v.quote.header.version, 5);
    assert_eq!(v.quote.report, sgx);
    assert_eq!(v.tcb.status, TcbStatus::UpToDate);
    // TD 1.0 in v4 and v5, TD 1.5 in v5 (signatures and chain only).
    for (version, td15) in [(4u16, false), (5, false), (5, true)] {
        let td = Report::Td(Box::new(td_report(td15)));
        let q = sim.quote_of(version, &td);
        let v = verify(&sim, &q, None).expect("TD quote verifies");
        assert_eq!(v.quote.report, td, "v{version} td15={td15}");
        assert_eq!(v.quote.header.tee_type, shield_attest::TeeType::Tdx);
        let text = Verdict::evaluate(
            &Verifier::new(sim.anchors()),
            &q,
            None,
            &Policy::from_toml("allow_simulation = true").unwrap(),
            SIM_NOW,
        )
        .to_string();
        assert!(
            text.lines()
                .any(|l| l == format!("mrtd: {}", hex::encode([0x7d; 48]))),
            "{text}"
        );
        // SGX TCB info does not apply to a TDX quote.
        let err = verify(&sim, &q, Some(&sim.collateral(false))).unwrap_err();
        assert!(matches!(err, Error::CollateralMismatch(_)), "{err}");
    }
    // A v3 quote cannot carry a TD report.
    let td = Report::Td(Box::new(td_report(false)));
    assert!(
        shield_attest::generate::build_quote(&shield_attest::generate::QuoteInput {
            version: 3,
            report: &td,
            qe_report: &sim.qe,
            attestation_key: &sim.ak,
            pck_key: &sim.leaf_key,
            qe_auth_data: &[],
            pck_chain_pem: b"",
            qe_svn: 0,
            pce_svn: 0,
            user_data: [0; 20],
        })
        .is_err()
    );
}

#[test]
fn refused_verdicts_mark_the_identity_as_unverified() {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(0xaa, false, 3));
    let v = Verdict::evaluate(&Verifier::intel(), &q, None, &Policy::permissive(), SIM_NOW);
    let text = v.to_string();
    assert!(text.contains("NOT verified"), "{text}");
    assert!(text.lines().any(|l| l == "status: NotVerified"), "{text}");
}

#[test]
fn collateral_signed_by_a_ca_certificate_is_refused() {
    // The PCK CA chains to the root too, but is not a TCB signing certificate.
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(1, false, 0));
    let mut c = sim.collateral(false);
    let ca = shield_attest::pki::Cert::from_der(&sim.ca).unwrap();
    c.tcb_info_chain = vec![ca];
    c.tcb_info.signature = shield_attest::generate::sign_json(&c.tcb_info.body, &sim.ca_key);
    let err = verify(&sim, &q, Some(&c)).unwrap_err();
    assert!(matches!(err, Error::UntrustedChain(_)), "{err}");
}

#[test]
fn other_certification_data_types_are_reported_unsupported() {
    let sim = Sim::new(5, 10, 8);
    let mut q = sim.quote(&report(1, false, 0));
    // v3: header 48, body 384, sig len 4, sig 64, key 64, QE report 384, QE sig 64, auth len 2 + 32.
    let off = 48 + 384 + 4 + 64 + 64 + 384 + 64 + 2 + 32;
    assert_eq!(u16::from_le_bytes([q[off], q[off + 1]]), 5);
    q[off] = 3;
    let parsed = shield_attest::Quote::parse(&q).expect("type 3 parses");
    assert_eq!(parsed.signature.certification_data.kind(), 3);
    let err = verify(&sim, &q, None).unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedQuote(m) if m.contains("type 3")),
        "{err}"
    );
    q[off] = 42;
    assert!(matches!(
        shield_attest::Quote::parse(&q),
        Err(Error::MalformedQuote(_))
    ));
}
