//! EREPORT: a report verifies only for its intended target, and only on the
//! platform that made it.

use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Attributes, AttributesFlags};
use shield_sgx::keys::PlatformSecret;
use shield_sgx::report::{ereport, target_info, verify_report};

fn enclave(tag: u8) -> EnclaveIdentity {
    EnclaveIdentity {
        mrenclave: [tag; 32],
        mrsigner: [0x55; 32],
        isvprodid: 1,
        isvsvn: 2,
        attributes: Attributes {
            flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
            xfrm: 3,
        },
        miscselect: 0,
    }
}

#[test]
fn report_mac_verifies_only_for_its_target() {
    let platform = PlatformSecret::generate([0; 16]);
    let (a, b, c) = (enclave(1), enclave(2), enclave(3));
    let report = ereport(&platform, &a, &target_info(&b), &[7; 64]);
    assert_eq!(report.mrenclave, a.mrenclave);
    assert_eq!(report.reportdata, [7; 64]);
    verify_report(&platform, &b, &report).unwrap();
    assert!(
        verify_report(&platform, &c, &report).is_err(),
        "another enclave must not verify it"
    );
    assert!(
        verify_report(&PlatformSecret::generate([0; 16]), &b, &report).is_err(),
        "another machine"
    );

    let mut tampered = report.clone();
    tampered.reportdata[0] ^= 1;
    assert!(verify_report(&platform, &b, &tampered).is_err());
    let mut tampered = report.clone();
    tampered.isvsvn += 1;
    assert!(verify_report(&platform, &b, &tampered).is_err());
}
