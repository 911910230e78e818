use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Attributes, AttributesFlags};
use shield_sgx::keys::PlatformSecret;

use super::*;
use crate::ModelCpu;

fn enclave(platform: &PlatformSecret, mrenclave: u8) -> ModelCpu {
    ModelCpu {
        platform: platform.clone(),
        identity: EnclaveIdentity {
            mrenclave: [mrenclave; 32],
            mrsigner: [0x55; 32],
            isvprodid: 1,
            isvsvn: 2,
            attributes: Attributes {
                flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
                xfrm: 3,
            },
            miscselect: 0,
        },
    }
}

#[test]
fn a_and_b_agree_on_a_key_bound_to_both() {
    let platform = PlatformSecret::generate([1; 16]);
    let a = enclave(&platform, 0xA);
    let b = enclave(&platform, 0xB);
    let (responder, msg1) = Responder::start(&b).unwrap();
    let (initiator, msg2) = Initiator::respond(&a, &msg1).unwrap();
    let (b_session, msg3) = responder.finish(&b, &msg2).unwrap();
    let a_session = initiator.finish(&a, &msg3).unwrap();
    assert_eq!(a_session.key, b_session.key);
    assert_eq!(b_session.peer.mrenclave, [0xA; 32]);
    assert_eq!(a_session.peer.mrenclave, [0xB; 32]);
}

#[test]
fn report_verifies_only_at_its_target() {
    let platform = PlatformSecret::generate([1; 16]);
    let a = enclave(&platform, 0xA);
    let b = enclave(&platform, 0xB);
    let r = report(&a, &own_target_info(&b).unwrap(), &[7; 64]).unwrap();
    verify_report(&b, &r).unwrap();
    assert!(verify_report(&a, &r).is_err(), "not the target");
    let mut forged = r.clone();
    forged.mrenclave[0] ^= 1;
    assert!(verify_report(&b, &forged).is_err());
    let elsewhere = enclave(&PlatformSecret::generate([1; 16]), 0xB);
    assert!(verify_report(&elsewhere, &r).is_err(), "another machine");
}

#[test]
fn a_man_in_the_middle_or_a_replay_fails() {
    let platform = PlatformSecret::generate([1; 16]);
    let a = enclave(&platform, 0xA);
    let b = enclave(&platform, 0xB);
    // The host substitutes its own public key for A's.
    let (responder, msg1) = Responder::start(&b).unwrap();
    let (_, mut msg2) = Initiator::respond(&a, &msg1).unwrap();
    let (_, mallory) = ephemeral().unwrap();
    msg2.public_key = mallory;
    assert!(responder.finish(&b, &msg2).is_err());
    // A report from an old session replayed into a new one.
    let (_, old1) = Responder::start(&b).unwrap();
    let (_, old2) = Initiator::respond(&a, &old1).unwrap();
    let (responder, _) = Responder::start(&b).unwrap();
    assert!(responder.finish(&b, &old2).is_err());
    // Garbage public key.
    let (_, mut msg1) = Responder::start(&b).unwrap();
    msg1.public_key = [4; PUBLIC_KEY_LEN];
    assert!(Initiator::respond(&a, &msg1).is_err());
    // B's answer tampered with.
    let (responder, msg1) = Responder::start(&b).unwrap();
    let (initiator, msg2) = Initiator::respond(&a, &msg1).unwrap();
    let (_, mut msg3) = responder.finish(&b, &msg2).unwrap();
    msg3.report.isvsvn += 1;
    assert!(initiator.finish(&a, &msg3).is_err());
}
