//! The RA-TLS test enclave: makes its TLS key inside, gets a quote binding
//! it through the host's simulated quoting enclave, and serves TLS with a
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
use shield_sgx::isa::Targetinfo;

/// Largest quote we accept from the host.
const MAX_QUOTE: usize = 64 * 1024;

/// The TLS session being served (one at a time; `ecall_tls_start` replaces it).
static SESSION: Mutex<Option<rustls::ServerConnection>> = Mutex::new(None);

struct RaTlsEnclave;

/// A quote of this enclave carrying `report_data`, through the host's QE.
fn quote(ocalls: &OcallProxy<'_>, report_data: &[u8; 64]) -> Result<Vec<u8>, String> {
    let mut ti = [0u8; 512];
    ocalls
        .ocall_qe_target_info(&mut ti)
        .map_err(|e| format!("ocall_qe_target_info: {e}"))?;
    let target = Targetinfo::try_copy_from(&ti).ok_or("bad TARGETINFO")?;
    let report = shield_enclave::ereport(&target, report_data).map_err(|e| e.to_string())?;
    let mut quote = vec![0u8; MAX_QUOTE];
    let len = ocalls
        .ocall_get_quote(report.as_ref(), &mut quote)
        .map_err(|e| format!("ocall_get_quote: {e}"))?;
    if len == 0 || len > quote.len() {
        return Err(format!("the host returned no quote (length {len})"));
    }
    quote.truncate(len);
    Ok(quote)
}

fn start(ocalls: &OcallProxy<'_>) -> Result<u64, String> {
    let key = shield_ratls::generate_key().map_err(|e| e.to_string())?;
    let spki = shield_ratls::spki_der(&key).map_err(|e| e.to_string())?;
    let quote = quote(ocalls, &shield_ratls::report_data_for(&spki))?;
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
    fn ecall_tls_start(&self, ocalls: &OcallProxy<'_>) -> u64 {
        start(ocalls).unwrap_or_else(|e| panic!("ecall_tls_start: {e}"))
    }

    fn ecall_tls_feed(&self, _: &OcallProxy<'_>, input: &[u8], output: &mut [u8]) -> u64 {
        feed(input, output).unwrap_or_else(|e| panic!("ecall_tls_feed: {e}"))
    }

    fn ecall_quote(&self, ocalls: &OcallProxy<'_>, report_data: &[u8], out: &mut [u8]) -> u64 {
        let data: [u8; 64] = report_data.try_into().expect("64 bytes of report data");
        let q = quote(ocalls, &data).unwrap_or_else(|e| panic!("ecall_quote: {e}"));
        assert!(q.len() <= out.len(), "quote larger than the buffer");
        out[..q.len()].copy_from_slice(&q);
        q.len() as u64
    }
}

fn main() {
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
