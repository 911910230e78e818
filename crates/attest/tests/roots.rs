//! The compiled-in Intel SGX Root CA.

mod common;

use sha2::{Digest, Sha256};
use shield_attest::INTEL_SGX_ROOT_CA_DER;

const FINGERPRINT: &str = "44:A0:19:6B:2B:99:F8:89:B8:E1:49:E9:5B:80:7A:35:0E:74:24:96:43:99:E8:85:A7:CB:B8:CC:FA:B6:74:D3";

#[test]
fn embedded_root_has_the_published_fingerprint() {
    let want = FINGERPRINT.replace(':', "").to_lowercase();
    assert_eq!(hex::encode(Sha256::digest(INTEL_SGX_ROOT_CA_DER)), want);
    let cert = shield_attest::pki::Cert::from_der(INTEL_SGX_ROOT_CA_DER).unwrap();
    assert!(
        cert.subject().ends_with("CN=Intel SGX Root CA"),
        "{}",
        cert.subject()
    );
    // Valid 2018-05-21 .. 2049-12-31.
    cert.check_validity(1_527_000_000).unwrap();
    cert.check_validity(2_524_000_000).unwrap();
    assert!(cert.check_validity(2_524_608_000).is_err());
}

#[test]
fn embedded_root_equals_the_testdata_copy() {
    let Some(d) = common::testdata("embedded_root_equals_the_testdata_copy") else {
        return;
    };
    assert_eq!(
        common::read(&d, "quotes/intel-root/Intel_SGX_Root_CA.der"),
        INTEL_SGX_ROOT_CA_DER
    );
    let pem = common::read(&d, "quotes/intel-root/Intel_SGX_Root_CA.pem");
    let cert = shield_attest::pki::Cert::from_pem(&pem).unwrap();
    assert_eq!(cert.der(), INTEL_SGX_ROOT_CA_DER);
}
