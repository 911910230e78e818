//! The RA-TLS test enclave: makes its TLS key inside, gets a quote binding
//! it with `shield_enclave::system::quote` (the system OCALLs of
//! `shield_quote.edl`, answered by the host's simulated quoting enclave), and serves TLS with a
//! rustls `ServerConnection` whose bytes the host ferries in and out
//! through `ecall_tls_feed` (no sockets inside an enclave).
#![forbid(unsafe_code)]

mod bridge {
    #![allow(unreachable_pub, missing_docs, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/ratls_t.rs"));
}

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bridge::{Ecalls, OcallProxy};
use shield_enclave::wire::Limits;
use shield_ratls::RaTlsCert;

/// The TLS session being served (one at a time; `ecall_tls_start` replaces it).
static SESSION: Mutex<Option<rustls::ServerConnection>> = Mutex::new(None);

struct RaTlsEnclave;

/// A quote of this enclave carrying `report_data`, through the system OCALLs.
fn quote(report_data: &[u8; 64]) -> Result<Vec<u8>, String> {
    shield_enclave::system::quote(report_data).map_err(|e| e.to_string())
}

fn start() -> Result<u64, String> {
    let key = shield_ratls::generate_key().map_err(|e| e.to_string())?;
    let spki = shield_ratls::spki_der(&key).map_err(|e| e.to_string())?;
    let quote = quote(&shield_ratls::report_data_for(&spki))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let cert = RaTlsCert::new(key, &quote, "ratls-test-enclave", now - 3600, now + 86_400)
        .map_err(|e| e.to_string())?;
    let config = cert.server_config(None).map_err(|e| e.to_string())?;
    let session = rustls::ServerConnection::new(Arc::new(config)).map_err(|e| e.to_string())?;
    *SESSION.lock().unwrap_or_else(|e| e.into_inner()) = Some(session);
    Ok(cert.cert_der().len() as u64)
}

fn feed(input: &[u8], output: &mut [u8]) -> Result<u64, String> {
    let mut guard = SESSION.lock().unwrap_or_else(|e| e.into_inner());
    let tls = guard
        .as_mut()
        .ok_or("no TLS session: call ecall_tls_start")?;
    let mut input = input;
    while !input.is_empty() {
        tls.read_tls(&mut input).map_err(|e| e.to_string())?;
        tls.process_new_packets().map_err(|e| format!("TLS: {e}"))?;
    }
    let mut request = Vec::new();
    match tls.reader().read_to_end(&mut request) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e.to_string()),
    }
    if !request.is_empty() {
        let mut reply = b"pong: ".to_vec();
        reply.extend_from_slice(&request);
        tls.writer().write_all(&reply).map_err(|e| e.to_string())?;
    }
    let mut out = Vec::new();
    while tls.wants_write() {
        tls.write_tls(&mut out).map_err(|e| e.to_string())?;
    }
    if out.len() > output.len() {
        return Err(format!(
            "{} bytes of TLS output do not fit {}",
            out.len(),
            output.len()
        ));
    }
    output[..out.len()].copy_from_slice(&out);
    Ok(out.len() as u64)
}

impl Ecalls for RaTlsEnclave {
    fn ecall_tls_start(&self, _: &OcallProxy<'_>) -> u64 {
        start().unwrap_or_else(|e| panic!("ecall_tls_start: {e}"))
    }

    fn ecall_tls_feed(&self, _: &OcallProxy<'_>, input: &[u8], output: &mut [u8]) -> u64 {
        feed(input, output).unwrap_or_else(|e| panic!("ecall_tls_feed: {e}"))
    }

    fn ecall_quote(&self, _: &OcallProxy<'_>, report_data: &[u8], out: &mut [u8]) -> u64 {
        let data: [u8; 64] = report_data.try_into().expect("64 bytes of report data");
        let q = quote(&data).unwrap_or_else(|e| panic!("ecall_quote: {e}"));
        assert!(q.len() <= out.len(), "quote larger than the buffer");
        out[..q.len()].copy_from_slice(&q);
        q.len() as u64
    }
}

fn main() {
    shield_enclave::system::register(bridge::OCALLS);
    shield_enclave::run(
        |ocalls: &dyn shield_enclave::wire::OcallTransport, caller, index, request: &[u8]| {
            bridge::dispatch_ecall(
                &RaTlsEnclave,
                ocalls,
                caller,
                index,
                request,
                Limits::default(),
            )
        },
    );
}
