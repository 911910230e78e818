use sgx_isa::{Attributes, AttributesFlags, Keypolicy, Keyrequest};

use super::*;

fn identity(mrenclave: u8, mrsigner: u8, isvsvn: u16) -> EnclaveIdentity {
    EnclaveIdentity {
        mrenclave: [mrenclave; 32],
        mrsigner: [mrsigner; 32],
        isvprodid: 7,
        isvsvn,
        attributes: Attributes {
            flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
            xfrm: 3,
        },
        miscselect: 0,
    }
}

fn seal_request(policy: u16, isvsvn: u16) -> Keyrequest {
    let mut request = Keyrequest {
        keyname: KeyName::Seal as u16,
        isvsvn,
        attributemask: [!0, 0],
        keyid: [9; 32],
        ..Keyrequest::default()
    };
    request.keypolicy = Keypolicy::from_bits_truncate(policy);
    request
}

fn platform() -> PlatformSecret {
    PlatformSecret::generate([1; 16])
}

#[test]
fn mrenclave_policy_separates_enclaves_of_one_signer() {
    let p = platform();
    let request = seal_request(policy::MRENCLAVE, 0);
    let a = egetkey(&p, &identity(1, 5, 0), &request).unwrap();
    let b = egetkey(&p, &identity(2, 5, 0), &request).unwrap();
    assert_ne!(*a, *b);
    assert_eq!(*a, *egetkey(&p, &identity(1, 5, 0), &request).unwrap());
}

#[test]
fn mrsigner_policy_shares_within_a_signer_only() {
    let p = platform();
    let request = seal_request(policy::MRSIGNER, 0);
    let a = egetkey(&p, &identity(1, 5, 0), &request).unwrap();
    let b = egetkey(&p, &identity(2, 5, 0), &request).unwrap();
    let other_signer = egetkey(&p, &identity(1, 6, 0), &request).unwrap();
    assert_eq!(*a, *b);
    assert_ne!(*a, *other_signer);
}

#[test]
fn svn_rules_match_hardware() {
    let p = platform();
    let newer = identity(1, 5, 3);
    // A newer enclave can derive its predecessor's key …
    let old_key = egetkey(&p, &identity(1, 5, 2), &seal_request(policy::MRSIGNER, 2)).unwrap();
    assert_eq!(
        *old_key,
        *egetkey(&p, &newer, &seal_request(policy::MRSIGNER, 2)).unwrap()
    );
    // … but nobody gets a key for an SVN above their own.
    assert_eq!(
        egetkey(&p, &identity(1, 5, 2), &seal_request(policy::MRSIGNER, 3)).unwrap_err(),
        EgetkeyError::InvalidIsvsvn {
            requested: 3,
            own: 2
        }
    );
    let mut request = seal_request(policy::MRSIGNER, 0);
    request.cpusvn = [2; 16];
    assert_eq!(
        egetkey(&p, &newer, &request).unwrap_err(),
        EgetkeyError::InvalidCpusvn
    );
}

#[test]
fn other_machines_and_debug_enclaves_get_other_keys() {
    let request = seal_request(policy::MRSIGNER, 0);
    let id = identity(1, 5, 0);
    assert_ne!(
        *egetkey(&platform(), &id, &request).unwrap(),
        *egetkey(&platform(), &id, &request).unwrap()
    );

    let p = platform();
    let mut debug = id;
    debug.attributes.flags |= AttributesFlags::DEBUG;
    let mut blind = request.clone();
    blind.attributemask = [0, 0]; // DEBUG is bound even when the mask leaves it out
    assert_ne!(
        *egetkey(&p, &id, &blind).unwrap(),
        *egetkey(&p, &debug, &blind).unwrap()
    );
}

#[test]
fn refused_requests() {
    let p = platform();
    let id = identity(1, 5, 0);
    let mut bad_name = seal_request(policy::MRSIGNER, 0);
    bad_name.keyname = 9;
    assert_eq!(
        egetkey(&p, &id, &bad_name).unwrap_err(),
        EgetkeyError::InvalidKeyname(9)
    );
    let mut provision = seal_request(policy::MRSIGNER, 0);
    provision.keyname = KeyName::Provision as u16;
    assert_eq!(
        egetkey(&p, &id, &provision).unwrap_err(),
        EgetkeyError::InvalidAttribute
    );
    let mut reserved = seal_request(policy::MRSIGNER, 0);
    reserved._reserved2[100] = 1;
    assert_eq!(
        egetkey(&p, &id, &reserved).unwrap_err(),
        EgetkeyError::ReservedBits
    );
}

#[test]
fn platform_secret_round_trips_and_rejects_wrong_lengths() {
    let p = platform();
    let back = PlatformSecret::from_bytes(&*p.to_bytes()).unwrap();
    let request = seal_request(policy::MRENCLAVE, 0);
    let id = identity(1, 5, 0);
    assert_eq!(
        *egetkey(&p, &id, &request).unwrap(),
        *egetkey(&back, &id, &request).unwrap()
    );
    assert!(PlatformSecret::from_bytes(&[0; 79]).is_none());
    assert!(!format!("{p:?}").contains(&format!("{:?}", &p.to_bytes()[..16])));
}

#[test]
fn key_request_keeps_policy_bits_that_sgx_isa_does_not_name() {
    let request = key_request(
        KeyName::Seal,
        policy::MRSIGNER | policy::NOISVPRODID,
        3,
        [1; 16],
        [7; 32],
    );
    assert_eq!(
        request.keypolicy.bits(),
        policy::MRSIGNER | policy::NOISVPRODID
    );
    assert_eq!(
        (
            request.keyname,
            request.isvsvn,
            request.cpusvn,
            request.keyid
        ),
        (4, 3, [1; 16], [7; 32])
    );
    assert_eq!(request.attributemask, [!0, 0]);
    assert_eq!(request.miscmask, !0);
    let p = platform();
    let a = identity(1, 5, 3);
    let mut b = identity(1, 5, 3);
    b.isvprodid += 1;
    // NOISVPRODID: two products of one signer share the key.
    assert_eq!(
        *egetkey(&p, &a, &request).unwrap(),
        *egetkey(&p, &b, &request).unwrap()
    );
}
