//! A real enclave built and signed by the Intel SGX SDK (`sgx_sign`), whose
//! MRENCLAVE SGX hardware attested: the `iot-gateway` example of the
//! shared test data (see its README). Recomputing that value from the `.so`
//! checks the SDK front end against hardware, not against our own reading of
//! the formats.

use base64ct::{Base64, Encoding};
use shield_sgx::sdk::measure_sdk_enclave;
use shield_sgx::sigstruct;

const DIR: &str = "sgx/sdk-signed/iot-gateway";
/// MRENCLAVE of the IAS-verified quote, as the test data README gives it.
const ATTESTED: &str = "72cfdb1e92ca2354857bc3ddd5133888fc122bc0eb467e42b80c61bdf027f43f";

/// MRENCLAVE (bytes 112..144) of the quote in the IAS report.
fn quoted_mrenclave(report: &[u8]) -> [u8; 32] {
    let report: serde_json::Value = serde_json::from_slice(report).unwrap();
    let body = report["body"]["isvEnclaveQuoteBody"]
        .as_str()
        .expect("the report has a quote body");
    let quote = Base64::decode_vec(body).unwrap();
    quote[112..144].try_into().unwrap()
}

#[test]
fn the_attested_mrenclave_is_recomputed_from_the_signed_so() {
    let (Some(so), Some(report)) = (
        shield_testdata::read(&format!("{DIR}/enclave.signed.so")),
        shield_testdata::read(&format!("{DIR}/ias_report.json")),
    ) else {
        return;
    };
    let quoted = quoted_mrenclave(&report);
    assert_eq!(hex::encode(quoted), ATTESTED);
    let measured = measure_sdk_enclave(&so).unwrap();
    assert_eq!(
        hex::encode(measured.mrenclave),
        ATTESTED,
        "{}",
        measured.describe()
    );
    assert_eq!(measured.sigstruct.enclavehash, quoted);
    assert!(measured.matches_sigstruct);
    // The signer kept the older metadata versions (2.1, 1.4) for older
    // loaders; each builds the same enclave.
    assert_eq!(measured.other_metadata.len(), 2);
    for other in &measured.other_metadata {
        assert_eq!(hex::encode(other.mrenclave), ATTESTED, "{other:?}");
        assert!(other.matches_sigstruct);
    }
    // The embedded signature holds. (Its key is not the quote's MRSIGNER:
    // the copy that ran on hardware was signed by another key, which does
    // not change MRENCLAVE.)
    sigstruct::verify(&measured.sigstruct).unwrap();
}

#[test]
fn one_flipped_code_byte_no_longer_matches_the_sigstruct() {
    let Some(mut so) = shield_testdata::read(&format!("{DIR}/enclave.signed.so")) else {
        return;
    };
    // 0x2000 is inside the first (text) PT_LOAD segment of this file.
    so[0x2000] ^= 1;
    let measured = measure_sdk_enclave(&so).unwrap();
    assert_ne!(hex::encode(measured.mrenclave), ATTESTED);
    assert!(!measured.matches_sigstruct);
}
