//! RA-TLS certificates and verifiers, with quotes from the simulated
//! quoting enclave (no enclave process: the report is made with the
//! simulated CPU's pure functions).

use std::sync::Arc;

use shield_attest::{Policy, Verifier};
use shield_host::SimQuotingEnclave;
use shield_ratls::{Error, RaTlsCert, RaTlsVerifier};
use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Attributes, AttributesFlags};
use shield_sgx::keys::PlatformSecret;

const NOW: u64 = 1_800_000_000;

struct Platform {
    secret: PlatformSecret,
    qe: SimQuotingEnclave,
}

fn platform() -> Platform {
    let secret = PlatformSecret::generate([1; 16]);
    let qe = SimQuotingEnclave::from_seed(&[9; 32], secret.clone()).unwrap();
    Platform { secret, qe }
}

fn identity(mrenclave: u8) -> EnclaveIdentity {
    EnclaveIdentity {
        mrenclave: [mrenclave; 32],
        mrsigner: [0x22; 32],
        isvprodid: 1,
        isvsvn: 1,
        attributes: Attributes {
            flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
            xfrm: 3,
        },
        miscselect: 0,
    }
}

/// An RA-TLS certificate for a fresh key, quoted for `report_data`
/// (the key binding unless overridden).
fn cert(p: &Platform, mrenclave: u8, report_data: Option<[u8; 64]>) -> RaTlsCert {
    let key = shield_ratls::generate_key().unwrap();
    let spki = shield_ratls::spki_der(&key).unwrap();
    let data = report_data.unwrap_or_else(|| shield_ratls::report_data_for(&spki));
    let report =
        shield_sgx::report::ereport(&p.secret, &identity(mrenclave), &p.qe.target_info(), &data);
    let quote = p.qe.quote(&report).unwrap();
    RaTlsCert::new(key, &quote, "test", NOW - 10, NOW + 3600).unwrap()
}

fn policy(mrenclave: u8, allow_simulation: bool) -> Policy {
    Policy {
        mrenclave: vec![[mrenclave; 32]],
        allow_simulation,
        ..Policy::permissive()
    }
}

fn verifier(p: &Platform, policy: Policy) -> RaTlsVerifier {
    RaTlsVerifier::new(Verifier::new(p.qe.trust_anchors()), policy)
        .with_collateral(p.qe.collateral().unwrap())
}

#[test]
fn the_certificate_carries_the_quote_under_intels_ra_tls_oid() {
    let p = platform();
    let c = cert(&p, 0xaa, None);
    let (quote, spki) = shield_ratls::extract(c.cert_der()).unwrap();
    assert!(shield_attest::Quote::parse(&quote).is_ok());
    assert_eq!(spki.len(), 91, "P-256 SubjectPublicKeyInfo");
    // The OID's DER encoding appears in the certificate.
    let oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x8a, 0x39, 0x06,
    ];
    assert!(c.cert_der().windows(oid.len()).any(|w| w == oid));
}

#[test]
fn the_verifier_follows_the_policy_and_checks_the_key_binding() {
    let p = platform();
    let c = cert(&p, 0xaa, None);
    let v = verifier(&p, policy(0xaa, true))
        .check(c.cert_der(), NOW)
        .unwrap();
    assert!(v.accepted && v.simulation);

    let err = verifier(&p, policy(0xaa, false))
        .check(c.cert_der(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");
    let err = verifier(&p, policy(0xab, true))
        .check(c.cert_der(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");
    // Intel's root does not know the simulation root.
    let err = RaTlsVerifier::new(Verifier::intel(), policy(0xaa, true))
        .check(c.cert_der(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");

    // A quote binding some other key.
    let c = cert(&p, 0xaa, Some([7; 64]));
    let err = verifier(&p, policy(0xaa, true))
        .check(c.cert_der(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::KeyNotBound), "{err}");

    // Not an RA-TLS certificate at all.
    let root = p.qe.root_der().to_vec();
    let err = verifier(&p, policy(0xaa, true))
        .check(&root, NOW)
        .unwrap_err();
    assert!(matches!(err, Error::NotRaTls(_)), "{err}");
}

/// Runs a handshake in memory; returns the client's and server's errors.
fn handshake(client: rustls::ClientConfig, server: rustls::ServerConfig) -> Result<(), String> {
    let mut c = rustls::ClientConnection::new(Arc::new(client), "peer.invalid".try_into().unwrap())
        .unwrap();
    let mut s = rustls::ServerConnection::new(Arc::new(server)).unwrap();
    for _ in 0..10 {
        let mut buf = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() {
            let mut rest = buf.as_slice();
            while !rest.is_empty() {
                s.read_tls(&mut rest).unwrap();
                s.process_new_packets()
                    .map_err(|e| format!("server: {e}"))?;
            }
        }
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() {
            let mut rest = buf.as_slice();
            while !rest.is_empty() {
                c.read_tls(&mut rest).unwrap();
                c.process_new_packets()
                    .map_err(|e| format!("client: {e}"))?;
            }
        }
        if !c.is_handshaking() && !s.is_handshaking() {
            return Ok(());
        }
    }
    Err("handshake did not finish".into())
}

#[test]
fn mutual_ra_tls_in_memory() {
    let p = platform();
    let server = cert(&p, 0x51, None);
    let client = cert(&p, 0xc1, None);
    let good = |m| Arc::new(verifier(&p, policy(m, true)).at(NOW));
    handshake(
        client.client_config(good(0x51)).unwrap(),
        server.server_config(Some(good(0xc1))).unwrap(),
    )
    .unwrap();
    // The server refuses a client with the wrong MRENCLAVE.
    let err = handshake(
        client.client_config(good(0x51)).unwrap(),
        server.server_config(Some(good(0xc2))).unwrap(),
    )
    .unwrap_err();
    assert!(err.starts_with("server:"), "{err}");
    // A client without a certificate refuses the wrong server.
    let err = handshake(
        shield_ratls::client_config(good(0x52)).unwrap(),
        server.server_config(None).unwrap(),
    )
    .unwrap_err();
    assert!(
        err.starts_with("client:") && err.contains("invalid peer certificate"),
        "{err}"
    );
}
