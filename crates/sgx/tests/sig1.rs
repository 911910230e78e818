//! SIGSTRUCT against Fortanix's deterministic signing vector
//! (shared/testdata/sgx/sig1; see its README for the parameters).

use shield_sgx::isa::{Attributes, AttributesFlags, Sigstruct};
use shield_sgx::sigstruct::{self, SigningKey, SigstructFields};

const ENCLAVEHASH: &str = "c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d";
const MRSIGNER: &str = "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e";

fn fields() -> SigstructFields {
    SigstructFields {
        vendor: 0,
        date: 0x2016_0109,
        miscselect: 0,
        miscmask: 0xffff_ffff,
        attributes: Attributes {
            flags: AttributesFlags::MODE64BIT,
            xfrm: 3,
        },
        attributemask: [!0x2, !0xe4],
        enclavehash: hex::decode(ENCLAVEHASH).unwrap().try_into().unwrap(),
        isvprodid: 0,
        isvsvn: 0,
    }
}

fn key() -> Option<SigningKey> {
    let pem = shield_testdata::read("sgx/sig1/sig1.key.pem")?;
    Some(SigningKey::from_pem(std::str::from_utf8(&pem).unwrap()).unwrap())
}

#[test]
fn signing_reproduces_the_vector_byte_for_byte() {
    let (Some(key), Some(expected)) = (key(), shield_testdata::read("sgx/sig1/sig1.sigstruct.bin"))
    else {
        return;
    };
    let mut sigstruct = fields().to_unsigned();
    key.sign(&mut sigstruct).unwrap();
    assert_eq!(sigstruct.as_ref(), &expected[..]);
    assert_eq!(hex::encode(key.mrsigner()), MRSIGNER);
    assert_eq!(hex::encode(sigstruct::mrsigner(&sigstruct)), MRSIGNER);
}

#[test]
fn raw_rsa_vectors_match() {
    let Some(key) = key() else { return };
    let (Some(digest), Some(n), Some(sig), Some(q1), Some(q2)) = (
        shield_testdata::read("sgx/sig1/sig1.data.bin"),
        shield_testdata::read("sgx/sig1/sig1.key_n.bin"),
        shield_testdata::read("sgx/sig1/sig1.sig.bin"),
        shield_testdata::read("sgx/sig1/sig1.q1.bin"),
        shield_testdata::read("sgx/sig1/sig1.q2.bin"),
    ) else {
        return;
    };
    let raw = key.sign_digest(&digest.try_into().unwrap()).unwrap();
    assert_eq!(&key.modulus_le()[..], &n[..]);
    assert_eq!(&raw.signature[..], &sig[..]);
    assert_eq!(&raw.q1[..], &q1[..]);
    assert_eq!(&raw.q2[..], &q2[..]);
}

#[test]
fn the_vector_verifies_and_any_flipped_signed_bit_is_rejected() {
    let Some(bytes) = shield_testdata::read("sgx/sig1/sig1.sigstruct.bin") else {
        return;
    };
    let parsed = sigstruct::parse(&bytes).unwrap();
    sigstruct::verify(&parsed).unwrap();
    assert!(sigstruct::describe(&parsed).contains(&format!("ENCLAVEHASH {ENCLAVEHASH}")));

    // Every bit of both signed regions, and of the signature, Q1 and Q2.
    let ranges = [0..128, 900..1028, 516..900, 1040..1808];
    let mut flips = 0;
    for range in ranges {
        for byte in range {
            for bit in 0..8 {
                let mut tampered = bytes.clone();
                tampered[byte] ^= 1 << bit;
                // A flip in the fixed headers or exponent is refused by the
                // parser; anywhere else, by the signature check.
                let refused = match sigstruct::parse(&tampered) {
                    Err(_) => true,
                    Ok(s) => sigstruct::verify(&s).is_err(),
                };
                assert!(
                    refused,
                    "flipping bit {bit} of byte {byte} was not detected"
                );
                flips += 1;
            }
        }
    }
    assert_eq!(flips, (128 + 128 + 384 + 768) * 8);

    // The SDK's release-type bit in HEADER is accepted by the parser, and
    // (being in the signed region) still breaks this signature.
    let mut release = bytes.clone();
    release[15] |= 0x80;
    let parsed = sigstruct::parse(&release).unwrap();
    assert!(sigstruct::verify(&parsed).is_err());
}

#[test]
fn a_fresh_key_signs_what_it_verifies() {
    let key = SigningKey::generate().unwrap();
    let reread = SigningKey::from_pem(&key.to_pem().unwrap()).unwrap();
    assert_eq!(key.mrsigner(), reread.mrsigner());
    let mut sigstruct = fields().to_unsigned();
    reread.sign(&mut sigstruct).unwrap();
    let parsed = sigstruct::parse(sigstruct.as_ref()).unwrap();
    sigstruct::verify(&parsed).unwrap();
}

#[test]
fn unsuitable_keys_are_refused_with_reasons() {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let mut rng = rand_core::OsRng;
    let e65537 = rsa::RsaPrivateKey::new(&mut rng, 3072).unwrap();
    let pem = e65537.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    assert!(
        SigningKey::from_pem(&pem)
            .unwrap_err()
            .to_string()
            .contains("exponent 3")
    );
    let small = rsa::RsaPrivateKey::new_with_exp(&mut rng, 2048, &3u32.into()).unwrap();
    let pem = small.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    assert!(
        SigningKey::from_pem(&pem)
            .unwrap_err()
            .to_string()
            .contains("3072-bit")
    );
    assert!(SigningKey::from_pem("-----BEGIN NOTHING-----").is_err());
    let _ = Sigstruct::default();
}
