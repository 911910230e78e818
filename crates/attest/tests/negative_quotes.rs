//! The negative quotes from the shared test data (Fortanix rust-sgx).

mod common;

use common::{read, testdata};
use shield_attest::{Error, TrustAnchors, Verifier};

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
    assert_eq!(v.pck_path[2].der(), shield_attest::INTEL_SGX_ROOT_CA_DER);
}

/// The README calls this quote's root "pre-production, not the production
/// key". Inspection shows otherwise: its embedded root is the 2018-2033 issue
/// of the Intel SGX Root CA with the *production* key (same SPKI as our
/// anchor, self-signature verifying under it), and the intermediate verifies
/// under the production key. So against the production anchor it verifies
/// (as it would in Intel's QVL, which compares root public keys). What we do
/// assert: against any other anchor with that subject name it is refused as
/// untrusted, which is the property the README is after.
#[test]
fn preproduction_root_quote_needs_the_anchor_key() {
    let Some(d) = testdata("preproduction_root_quote_needs_the_anchor_key") else {
        return;
    };
    let q = read(&d, "quotes/negative/preproduction-root-quote.bin");
    let v = Verifier::intel()
        .verify(&q, None, NOW)
        .expect("chains to the production key");
    assert_eq!(
        v.pck_path.last().unwrap().der(),
        shield_attest::INTEL_SGX_ROOT_CA_DER
    );

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
