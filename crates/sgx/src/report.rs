//! EREPORT and report verification, modelled (SDM vol. 3D, "EREPORT").
//!
//! A report is the enclave's identity plus 64 bytes of its own data, MACed
//! with AES-128-CMAC under the *target's* report key. Only the target (which
//! can get that key through EGETKEY) can check it, which is what local
//! attestation rests on.

use aes::Aes128;
use aes::cipher::KeyInit;
use cmac::{Cmac, Mac};
use sgx_isa::{Miscselect, Report, Targetinfo};
use subtle::ConstantTimeEq;

use crate::identity::EnclaveIdentity;
use crate::keys::{PlatformSecret, report_key};
use crate::{Error, Result};

/// EREPORT: a report about `identity`, for `target`, carrying `report_data`.
pub fn ereport(
    platform: &PlatformSecret,
    identity: &EnclaveIdentity,
    target: &Targetinfo,
    report_data: &[u8; 64],
) -> Report {
    let mut report = Report {
        cpusvn: platform.cpusvn(),
        miscselect: Miscselect::from_bits_truncate(identity.miscselect),
        attributes: identity.attributes,
        mrenclave: identity.mrenclave,
        mrsigner: identity.mrsigner,
        isvprodid: identity.isvprodid,
        isvsvn: identity.isvsvn,
        reportdata: *report_data,
        keyid: platform.report_keyid(),
        ..Report::default()
    };
    let key = report_key(
        platform,
        &target.measurement,
        target.attributes.flags.bits(),
        target.attributes.xfrm,
        target.miscselect.bits(),
        &report.keyid,
    );
    report.mac = mac(&key, report.mac_data());
    report
}

/// Checks, as the target enclave `own`, that `report` was made on this
/// platform for us: EGETKEY(REPORT, report.KEYID), then the CMAC, compared in
/// constant time.
pub fn verify_report(
    platform: &PlatformSecret,
    own: &EnclaveIdentity,
    report: &Report,
) -> Result<()> {
    let key = report_key(
        platform,
        &own.mrenclave,
        own.attributes.flags.bits(),
        own.attributes.xfrm,
        own.miscselect,
        &report.keyid,
    );
    let expected = mac(&key, report.mac_data());
    if bool::from(expected.ct_eq(&report.mac)) {
        Ok(())
    } else {
        Err(Error::ReportMac)
    }
}

/// The TARGETINFO that makes reports verifiable by `identity`.
pub fn target_info(identity: &EnclaveIdentity) -> Targetinfo {
    Targetinfo {
        measurement: identity.mrenclave,
        attributes: identity.attributes,
        miscselect: Miscselect::from_bits_truncate(identity.miscselect),
        ..Targetinfo::default()
    }
}

fn mac(key: &[u8; 16], data: &[u8]) -> [u8; 16] {
    let mut mac = <Cmac<Aes128> as KeyInit>::new(key.into());
    mac.update(data);
    mac.finalize().into_bytes().into()
}
