//! End to end in simulation: an enclave's quote from the simulated quoting
//! enclave, and an RA-TLS handshake with a rustls server inside the enclave.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use ratls_tests::{launch, proxy, serve_one};
use shield_attest::{Policy, TcbStatus, Verdict, Verifier};
use shield_host::Enclave;
use shield_ratls::RaTlsVerifier;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn policy(mrenclave: &[u8; 32], allow_simulation: bool) -> Policy {
    Policy::from_toml(&format!(
        "mrenclave = [\"{}\"]\nallow_simulation = {allow_simulation}\ntcb_statuses = [\"UpToDate\"]",
        hex(mrenclave)
    ))
    .unwrap()
}

#[test]
fn an_enclave_quote_verifies_only_when_the_policy_allows_simulation() {
    let state = tempfile::tempdir().unwrap();
    let enclave = launch(state.path()).expect("launching the RA-TLS test enclave");
    let mut data = [0u8; 64];
    data[..6].copy_from_slice(b"nonce!");
    let mut buf = vec![0u8; 64 * 1024];
    let len = proxy(&enclave).ecall_quote(&data, &mut buf).unwrap() as usize;
    let quote = &buf[..len];

    let qe = enclave.quoting_enclave().unwrap();
    let collateral = qe.collateral().unwrap();
    let verifier = Verifier::new(qe.trust_anchors());
    let mrenclave = enclave.identity().mrenclave;

    let v = verifier.verify(quote, Some(&collateral), now()).unwrap();
    assert!(v.simulation);
    assert_eq!(v.tcb.status, TcbStatus::UpToDate);
    let shield_attest::Report::Sgx(r) = &v.quote.report else {
        panic!("an SGX quote");
    };
    assert_eq!(r.mr_enclave, mrenclave);
    assert_eq!(r.mr_signer, enclave.identity().mrsigner);
    assert_eq!(r.isv_prod_id, 11);
    assert_eq!(r.report_data, data);

    let accepted = Verdict::evaluate(
        &verifier,
        quote,
        Some(&collateral),
        &policy(&mrenclave, true),
        now(),
    );
    assert!(accepted.accepted, "{accepted}");
    assert!(
        accepted.to_string().contains("ACCEPTED (SIMULATION)"),
        "{accepted}"
    );

    let refused = Verdict::evaluate(
        &verifier,
        quote,
        Some(&collateral),
        &policy(&mrenclave, false),
        now(),
    );
    assert!(!refused.accepted, "{refused}");
    assert!(
        refused.to_string().contains("REFUSED (SIMULATION)"),
        "{refused}"
    );

    // Intel's production root does not know the simulation root.
    let intel = Verdict::evaluate(
        &Verifier::intel(),
        quote,
        None,
        &policy(&mrenclave, true),
        now(),
    );
    assert!(!intel.accepted, "{intel}");

    // The collateral was also written for `shield verify --collateral`.
    let dir = state.path().join("sim-collateral");
    shield_attest::Collateral::load(&dir).expect("collateral directory");
    assert!(state.path().join("sim-root-ca.pem").is_file());

    // A report not made for the QE is refused.
    let err = enclave.quote(&[0u8; 432]).unwrap_err();
    assert!(
        err.to_string().contains("simulated quoting enclave"),
        "{err}"
    );
}

/// Starts the enclave's TLS server on a loopback port and connects a rustls
/// client that checks it with `policy`; returns the client's outcome
/// (the reply to "ping") and the server side's reason for stopping.
fn handshake(enclave: &Arc<Enclave>, policy: Policy) -> (Result<Vec<u8>, String>, String) {
    let cert_len = proxy(enclave).ecall_tls_start().expect("ecall_tls_start");
    assert!(cert_len > 1000, "the certificate carries a quote");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = {
        let enclave = enclave.clone();
        std::thread::spawn(move || serve_one(&enclave, &listener))
    };
    let qe = enclave.quoting_enclave().unwrap();
    let verifier = RaTlsVerifier::new(Verifier::new(qe.trust_anchors()), policy)
        .with_collateral(qe.collateral().unwrap());
    let config = shield_ratls::client_config(Arc::new(verifier)).unwrap();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), "enclave.invalid".try_into().unwrap())
            .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(addr).unwrap());
    let outcome = (|| {
        tls.write_all(b"ping").map_err(|e| e.to_string())?;
        let mut reply = Vec::new();
        let mut buf = [0u8; 256];
        while reply.len() < b"pong: ping".len() {
            let n = tls.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buf[..n]);
        }
        Ok(reply)
    })();
    let _ = tls.sock.shutdown(std::net::Shutdown::Both);
    drop(tls);
    (outcome, server.join().unwrap())
}

#[test]
fn ra_tls_handshake_with_an_enclave_server_follows_the_policy() {
    let state = tempfile::tempdir().unwrap();
    let enclave = launch(state.path()).expect("launching the RA-TLS test enclave");
    let mrenclave = enclave.identity().mrenclave;

    // The right MRENCLAVE, simulation allowed: the handshake and one
    // request/response go through.
    let (outcome, server) = handshake(&enclave, policy(&mrenclave, true));
    assert_eq!(
        outcome.as_deref(),
        Ok(&b"pong: ping"[..]),
        "server: {server}"
    );

    // A wrong MRENCLAVE: the client refuses the certificate.
    let mut wrong = mrenclave;
    wrong[0] ^= 1;
    let (outcome, server) = handshake(&enclave, policy(&wrong, true));
    let err = outcome.unwrap_err();
    assert!(err.contains("invalid peer certificate"), "{err}");
    assert!(
        err.contains("MRENCLAVE") || err.contains("mrenclave"),
        "{err}"
    );
    assert!(!server.is_empty());

    // The right MRENCLAVE without allow_simulation: refused too.
    let (outcome, _) = handshake(&enclave, policy(&mrenclave, false));
    let err = outcome.unwrap_err();
    assert!(err.contains("invalid peer certificate"), "{err}");

    // The enclave is still serving after the refused handshakes.
    let (outcome, server) = handshake(&enclave, policy(&mrenclave, true));
    assert_eq!(
        outcome.as_deref(),
        Ok(&b"pong: ping"[..]),
        "server: {server}"
    );
}
