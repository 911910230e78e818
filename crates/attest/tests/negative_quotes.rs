//! The negative quotes from the shared test data (Fortanix rust-sgx).

mod common;

use common::{read, testdata};
use shield_attest::pki::{self, Cert};
use shield_attest::{Error, INTEL_SGX_ROOT_CA_DER, Quote, TcbStatus, TrustAnchors, Verifier};

/// Inside every certificate's validity period of these quotes (2020-2027).
const NOW: u64 = 1_700_000_000;

#[test]
fn corrupted_signature_is_refused_as_bad_signature() {
    let Some(d) = testdata("corrupted_signature_is_refused_as_bad_signature") else {
        return;
    };
    let q = read(&d, "quotes/negative/corrupted-signature-quote.bin");
    let err = Verifier::intel().verify(&q, None, NOW).unwrap_err();
    assert!(
        matches!(&err, Error::BadSignature(m) if m.contains("quote signature")),
        "{err}"
    );
}

#[test]
fn shuffled_chain_verifies_by_path_building() {
    let Some(d) = testdata("shuffled_chain_verifies_by_path_building") else {
        return;
    };
    let q = read(&d, "quotes/negative/shuffled-chain-quote.bin");
    let v = Verifier::intel()
        .verify(&q, None, NOW)
        .expect("path building handles order");
    let names: Vec<String> = v.pck_path.iter().map(|c| c.subject()).collect();
    assert!(
        names[0].ends_with("CN=Intel SGX PCK Certificate"),
        "{names:?}"
    );
    assert!(
        names[1].ends_with("CN=Intel SGX PCK Processor CA"),
        "{names:?}"
    );
    assert!(names[2].ends_with("CN=Intel SGX Root CA"), "{names:?}");
    // The path ends at the compiled-in anchor, not at the embedded copy.
    assert_eq!(v.pck_path[2].der(), INTEL_SGX_ROOT_CA_DER);
}

/// Despite its file name, this quote's chain ends at the 2018-2033 issue of
/// "Intel SGX Root CA": a second self-signed certificate of the production
/// root, with its key and serial (see the test data README). A verifier that
/// trusts the root's key accepts it, the path ending at our anchor
/// certificate; a root of the same name with another key does not.
#[test]
fn preproduction_root_quote_chains_to_the_production_root() {
    let Some(d) = testdata("preproduction_root_quote_chains_to_the_production_root") else {
        return;
    };
    let q = read(&d, "quotes/negative/preproduction-root-quote.bin");

    let quote = Quote::parse(&q).unwrap();
    let chain = pki::parse_pem_chain(quote.pck_chain_pem().unwrap()).unwrap();
    let embedded = chain
        .iter()
        .find(|c| c.subject().ends_with("CN=Intel SGX Root CA"))
        .expect("the chain carries its root");
    let anchor = Cert::from_der(INTEL_SGX_ROOT_CA_DER).unwrap();
    assert_ne!(embedded.der(), anchor.der(), "another issue of the root");
    assert_eq!(
        embedded.public_key().unwrap(),
        anchor.public_key().unwrap(),
        "with the production key"
    );
    assert_eq!(
        embedded.x509().tbs_certificate().serial_number(),
        anchor.x509().tbs_certificate().serial_number()
    );
    // The 2018-2033 issue: expired in 2034, when the anchor is still valid.
    let in_2034 = 2_020_000_000;
    assert!(embedded.check_validity(in_2034).is_err());
    anchor.check_validity(in_2034).unwrap();

    let v = Verifier::intel()
        .verify(&q, None, NOW)
        .expect("accepted against the production anchor");
    assert_eq!(v.tcb.status, TcbStatus::TcbNotChecked);
    assert!(!v.simulation);
    assert_eq!(v.pck_path.last().unwrap().der(), INTEL_SGX_ROOT_CA_DER);

    // An impostor anchor named "Intel SGX Root CA" with another key.
    let impostor = common::impostor_root();
    let verifier = Verifier::new(TrustAnchors::from_der(&[&impostor]).unwrap());
    let err = verifier.verify(&q, None, NOW).unwrap_err();
    assert!(matches!(err, Error::UntrustedChain(_)), "{err}");
}

#[test]
fn negative_quotes_before_validity_are_expired() {
    let Some(d) = testdata("negative_quotes_before_validity_are_expired") else {
        return;
    };
    let q = read(&d, "quotes/negative/shuffled-chain-quote.bin");
    // 2019: before the PCK leaf (2020-05-05) was issued.
    let err = Verifier::intel()
        .verify(&q, None, 1_560_000_000)
        .unwrap_err();
    assert!(matches!(err, Error::Expired(_)), "{err}");
}
