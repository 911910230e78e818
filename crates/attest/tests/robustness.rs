//! Untrusted input never panics: random, truncated and mutated quotes,
//! collateral, certificates, CRLs and policies all end in an `Err` (or a
//! verdict), never a panic, hang or huge allocation.

mod common;

use common::{SIM_NOW, Sim, report};
use proptest::prelude::*;
use shield_attest::collateral::Collateral;
use shield_attest::pki::{Crl, parse_pem_chain};
use shield_attest::tcb::{QeIdentity, TcbInfo};
use shield_attest::{Policy, Quote, Verdict, Verifier};

fn sim_quote() -> (Sim, Vec<u8>) {
    let sim = Sim::new(5, 10, 8);
    let q = sim.quote(&report(1, false, 0));
    (sim, q)
}

#[test]
fn every_truncation_is_an_error() {
    let (sim, q) = sim_quote();
    let verifier = Verifier::new(sim.anchors());
    for len in 0..q.len() {
        assert!(
            Quote::parse(&q[..len]).is_err(),
            "truncated to {len} parsed"
        );
        assert!(verifier.verify(&q[..len], None, SIM_NOW).is_err());
    }
    assert!(verifier.verify(&q, None, SIM_NOW).is_ok());
}

#[test]
fn huge_length_fields_are_errors() {
    let (_, q) = sim_quote();
    // Signature data length (offset 432) and auth data length.
    for (off, bytes) in [
        (432usize, vec![0xff; 4]),
        (432 + 4 + 128 + 384 + 64, vec![0xff; 2]),
    ] {
        let mut m = q.clone();
        m[off..off + bytes.len()].copy_from_slice(&bytes);
        assert!(Quote::parse(&m).is_err());
    }
}

#[test]
fn deeply_nested_json_is_an_error() {
    let deep = "[".repeat(100_000);
    assert!(TcbInfo::parse_json(&deep).is_err());
    assert!(Collateral::from_combined_json(deep.as_bytes()).is_err());
    let pcs = format!("{{\"tcbInfo\":{deep}");
    assert!(Collateral::from_pcs_parts(pcs.as_bytes(), b"{}", b"", b"", b"").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Quote::parse(&bytes);
        let _ = Verdict::evaluate(&Verifier::intel(), &bytes, None, &Policy::permissive(), SIM_NOW);
        let _ = parse_pem_chain(&bytes);
        let _ = Crl::parse(&bytes);
        let _ = shield_attest::pki::Cert::from_der(&bytes);
        let _ = Collateral::from_combined_json(&bytes);
    }

    #[test]
    fn random_header_with_valid_prefix_never_panics(
        version in 0u16..8, tee in prop_oneof![Just(0u32), Just(0x81u32), any::<u32>()],
        rest in proptest::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut q = Vec::new();
        q.extend_from_slice(&version.to_le_bytes());
        q.extend_from_slice(&2u16.to_le_bytes());
        q.extend_from_slice(&tee.to_le_bytes());
        q.extend_from_slice(&rest);
        let _ = Quote::parse(&q);
        let _ = Verifier::intel().verify(&q, None, SIM_NOW);
    }

    #[test]
    fn mutated_quotes_never_panic_and_never_verify(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let (sim, q) = sim_quote();
        let mut m = q.clone();
        for (i, v) in &edits {
            let i = i.index(m.len());
            m[i] = *v;
        }
        let r = Verifier::new(sim.anchors()).verify(&m, None, SIM_NOW);
        if m != q {
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn random_json_and_toml_never_panic(s in "\\PC{0,400}") {
        let _ = TcbInfo::parse_json(&s);
        let _ = QeIdentity::parse_json(&s);
        let _ = Policy::from_toml(&s);
        let _ = Collateral::from_pcs_parts(s.as_bytes(), s.as_bytes(), s.as_bytes(), s.as_bytes(), s.as_bytes());
    }

    #[test]
    fn mutated_collateral_json_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let sim = Sim::new(5, 10, 8);
        let [t, ..] = sim.pcs_parts(false);
        let mut m = t.clone();
        for (i, v) in &edits {
            let i = i.index(m.len());
            m[i] = *v;
        }
        if let Ok(s) = std::str::from_utf8(&m) {
            let _ = TcbInfo::parse_json(s);
        }
        let [_, q, c, p, r] = sim.pcs_parts(false);
        if let Ok(col) = Collateral::from_pcs_parts(&m, &q, &c, &p, &r) {
            let quote = sim.quote(&report(1, false, 0));
            let _ = Verifier::new(sim.anchors()).verify(&quote, Some(&col), SIM_NOW);
        }
    }
}
