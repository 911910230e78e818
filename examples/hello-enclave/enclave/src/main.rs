//! The hello enclave: greets by name, from inside.
#![forbid(unsafe_code)]

mod bridge {
    #![allow(unreachable_pub, missing_docs, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/hello_t.rs"));
}

use bridge::{Ecalls, OcallProxy};
use shield_enclave::isa::Targetinfo;
use shield_enclave::system::Level;

struct Hello;

impl Ecalls for Hello {
    fn ecall_greet(&self, _: &OcallProxy<'_>, name: &str, greeting: &mut [u8]) -> usize {
        // A report for no particular target still names this enclave.
        let me = shield_enclave::ereport(&Targetinfo::default(), &[0; 64])
            .map(|report| {
                report.mrenclave[..4]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            })
            .unwrap_or_else(|e| format!("unknown ({e})"));
        // std's println! would end the enclave (no write(2) inside): this
        // one goes out through the shield_ocall_log system OCALL.
        shield_enclave::log!(Level::Info, "enclave {me}… is greeting {name}");
        let text = format!("Hello, {name}! (computed inside enclave {me}…)");
        let n = text.len().min(greeting.len());
        greeting[..n].copy_from_slice(&text.as_bytes()[..n]);
        n
    }
}

fn main() {
    // The system OCALLs (here shield_ocall_log) are found by name in this table.
    shield_enclave::system::register(bridge::OCALLS);
    shield_enclave::run(
        |ocalls: &dyn shield_enclave::wire::OcallTransport, caller, index, request: &[u8]| {
            bridge::dispatch_ecall(
                &Hello,
                ocalls,
                caller,
                index,
                request,
                shield_enclave::wire::Limits::default(),
            )
        },
    );
}
