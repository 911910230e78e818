//! `hello-host NAME`: launches the hello enclave and asks it for a greeting.
#![forbid(unsafe_code)]

mod bridge {
    #![allow(unreachable_pub, missing_docs, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/hello_u.rs"));
}

use std::process::ExitCode;

use shield_edl::wire::Limits;
use shield_host::EnclaveBuilder;

/// The host's side of the interface: what the enclave may ask of it.
struct Host;

impl bridge::Ocalls for Host {
    // From the imported shield_log.edl: the runtime's ready-made printer.
    fn shield_ocall_log(&self, level: i32, message: &str) {
        shield_host::system::log(level, message)
    }
}

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_else(|| "World".into());
    let enclave =
        match EnclaveBuilder::new(env!("HELLO_ENCLAVE")).launch(|index: u32, request: &[u8]| {
            bridge::dispatch_ocall(&Host, index, request, Limits::default())
        }) {
            Ok(enclave) => enclave,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
    let proxy = bridge::EcallProxy::new(&enclave, Limits::default());
    let mut greeting = [0u8; 256];
    match proxy.ecall_greet(&name, &mut greeting) {
        Ok(len) => {
            println!(
                "{}",
                String::from_utf8_lossy(&greeting[..len.min(greeting.len())])
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
