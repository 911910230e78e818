//! The hello enclave: greets by name, from inside.
#![forbid(unsafe_code)]

mod bridge {
    #![allow(unreachable_pub, missing_docs, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/hello_t.rs"));
}

use bridge::{Ecalls, OcallProxy};
use shield_enclave::isa::Targetinfo;

struct Hello;

impl Ecalls for Hello {
    fn ecall_greet(&self, ocalls: &OcallProxy<'_>, name: &str, greeting: &mut [u8]) -> usize {
        // A report for no particular target still names this enclave.
        let me = shield_enclave::ereport(&Targetinfo::default(), &[0; 64])
            .map(|report| {
                report.mrenclave[..4]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            })
            .unwrap_or_else(|e| format!("unknown ({e})"));
        let _ = ocalls.ocall_print(&format!("enclave {me}… is greeting {name}"));
        let text = format!("Hello, {name}! (computed inside enclave {me}…)");
        let n = text.len().min(greeting.len());
        greeting[..n].copy_from_slice(&text.as_bytes()[..n]);
        n
    }
}

fn main() {
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
