//! Flipping any single byte of a real quote's signed parts, its signature
//! data or its certification data makes verification fail.
//!
//! Signatures and the PCK chain only (no collateral): every byte of the quote
//! up to the end of its signature data is covered by one of them. Trailing
//! bytes after the signature data (the TDX sample has 70 zero bytes) are
//! covered by nothing and are skipped.

mod common;

use common::{SGX_NOW, TDX_NOW, read, testdata};
use shield_attest::{Quote, Verifier};

fn sweep(quote: &[u8], now: u64) -> usize {
    let verifier = Verifier::intel();
    verifier
        .verify(quote, None, now)
        .expect("the untouched quote verifies");
    let end = quote.len() - Quote::parse(quote).unwrap().trailing_len();
    let mut tried = 0;
    let mut q = quote.to_vec();
    for i in 0..end {
        for mask in [0x01u8, 0x80] {
            q[i] ^= mask;
            assert!(
                verifier.verify(&q, None, now).is_err(),
                "flipping byte {i} with {mask:#04x} was not detected"
            );
            q[i] ^= mask;
            tried += 1;
        }
    }
    tried
}

#[test]
fn every_byte_of_the_sgx_quote_is_protected() {
    let Some(d) = testdata("every_byte_of_the_sgx_quote_is_protected") else {
        return;
    };
    let n = sweep(&read(&d, "quotes/dcap-qvl/sgx_quote"), SGX_NOW);
    assert_eq!(n, 2 * 4600);
}

#[test]
fn every_byte_of_the_tdx_quote_is_protected() {
    let Some(d) = testdata("every_byte_of_the_tdx_quote_is_protected") else {
        return;
    };
    let n = sweep(&read(&d, "quotes/dcap-qvl/tdx_quote"), TDX_NOW);
    assert_eq!(n, 2 * 4936);
}
